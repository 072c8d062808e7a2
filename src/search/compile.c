/*
 * The query compiler: a v2 search body {filter, sort, page} -> SQL text
 * over the store's tables plus the values to bind.
 *
 * Only three kinds of text reach the SQL: the fixed expressions of
 * entity.c, fixed operators and keywords, and `?` placeholders. Every value
 * from the request is bound, so a request cannot change the statement's
 * shape (the SQL-injection tests rely on this).
 *
 * Paging by cursor is keyset paging: the cursor holds the sort values and
 * the key of the row it points at, and the next page is the rows ordered
 * after that tuple. SQLite orders NULL before every value, so "after" is
 * spelled out per column with NULL handled explicitly. A `before` page is
 * run in the reversed order and reversed again by exec.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "search/search_int.h"

#define PATH_SIZE_MAX 160

typedef struct compiler {
    const search_entity *e;
    search_query *q;
    search_problem *problem;
} compiler;

static int bad(compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(compiler *c, const char *fmt, ...)
{
    TANDEM_ASSERT(c != NULL && fmt != NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problem->detail, sizeof(c->problem->detail), fmt, ap);
    va_end(ap);
    TANDEM_ASSERT(c->problem->detail[0] != '\0');
    return TANDEM_EINVAL;
}

static int put(tandem_buf *b, const char *s)
{
    TANDEM_ASSERT(b->data != NULL || b->len == 0);
    TANDEM_ASSERT(b != NULL && s != NULL);
    return tandem_buf_append(b, s, strlen(s)) == TANDEM_OK ? TANDEM_OK : TANDEM_ENOMEM;
}

/* ---- bound values ---- */

static int param_add(compiler *c, search_param p)
{
    TANDEM_ASSERT(p.kind != SEARCH_P_TEXT || p.text != NULL);
    search_query *q = c->q;
    TANDEM_ASSERT(q->param_count <= SEARCH_PARAMS_MAX);
    if (q->param_count == SEARCH_PARAMS_MAX) {
        free(p.text);
        return bad(c, "The query has more than %d values.", SEARCH_PARAMS_MAX);
    }
    if (q->params == NULL) {
        q->params = calloc(SEARCH_PARAMS_MAX, sizeof(*q->params));
        if (q->params == NULL) {
            free(p.text);
            return TANDEM_ENOMEM;
        }
    }
    q->params[q->param_count++] = p;
    return TANDEM_OK;
}

static int param_int(compiler *c, int64_t v)
{
    TANDEM_ASSERT(c != NULL && c->q != NULL);
    TANDEM_ASSERT(c->q->param_count <= SEARCH_PARAMS_MAX);
    return param_add(c, (search_param){.kind = SEARCH_P_INT, .i = v});
}

/* Takes ownership of text (malloc'd). */
static int param_owned(compiler *c, char *text)
{
    TANDEM_ASSERT(c->q != NULL);
    TANDEM_ASSERT(c != NULL);
    if (text == NULL) {
        return TANDEM_ENOMEM;
    }
    return param_add(c, (search_param){.kind = SEARCH_P_TEXT, .text = text});
}

static int param_text(compiler *c, const char *text)
{
    TANDEM_ASSERT(c != NULL && c->q != NULL);
    TANDEM_ASSERT(text != NULL);
    return param_owned(c, strdup(text));
}

/* $like pattern (`*`, `?`, backslash escape) -> GLOB pattern, which is
 * case-sensitive like Camunda's wildcard queries; GLOB's own special
 * characters in literal positions are bracketed. */
static char *like_to_glob(const char *like)
{
    TANDEM_ASSERT(like != NULL);
    size_t len = strlen(like);
    char *out = malloc(len * 3 + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = like[i];
        bool literal = false;
        if (ch == '\\' && i + 1 < len) {
            ch = like[++i];
            literal = true;
        }
        if (!literal && (ch == '*' || ch == '?')) {
            out[n++] = ch;
        } else if (ch == '*' || ch == '?' || ch == '[') {
            out[n++] = '[';
            out[n++] = ch;
            out[n++] = ']';
        } else {
            out[n++] = ch;
        }
    }
    TANDEM_ASSERT(n <= len * 3);
    out[n] = '\0';
    return out;
}

static bool enum_ok(const search_field *f, const char *v)
{
    TANDEM_ASSERT(f != NULL && v != NULL);
    TANDEM_ASSERT(f->type != SEARCH_ENUM || f->values != NULL);
    if (f->type != SEARCH_ENUM) {
        return true;
    }
    for (size_t i = 0; f->values[i] != NULL; i++) {
        if (strcmp(f->values[i], v) == 0) {
            return true;
        }
    }
    return false;
}

/* Short text of a JSON value for messages. */
static void value_text(const json_t *v, char *out, size_t size)
{
    TANDEM_ASSERT(v != NULL);
    TANDEM_ASSERT(out != NULL && size > 0);
    if (json_is_string(v)) {
        snprintf(out, size, "%.64s", json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, size, "%.64s", s != NULL ? s : "?");
    free(s);
}

/* Binds one value of field f (not of an operator like $like). */
static int bind_value(compiler *c, const search_field *f, const json_t *v, const char *path)
{
    TANDEM_ASSERT(c != NULL && f != NULL && path != NULL);
    char shown[80];
    value_text(v, shown, sizeof(shown));
    switch (f->type) {
    case SEARCH_KEY: {
        int64_t key = 0;
        if (json_is_integer(v)) {
            return param_int(c, json_integer_value(v));
        }
        if (!json_is_string(v) || search_key_parse(json_string_value(v), &key) != TANDEM_OK) {
            return bad(c, "The value for %s is '%s' but must be a key: a number as a string.", path,
                       shown);
        }
        return param_int(c, key);
    }
    case SEARCH_INT:
        if (!json_is_integer(v)) {
            return bad(c, "The value for %s is '%s' but must be an integer.", path, shown);
        }
        return param_int(c, json_integer_value(v));
    case SEARCH_DATE: {
        int64_t ms = 0;
        if (!json_is_string(v) || search_date_parse(json_string_value(v), &ms) != TANDEM_OK) {
            return bad(c,
                       "The value for %s is '%s' but must be an RFC 3339 date-time "
                       "(like 2025-01-31T12:00:00.000Z).",
                       path, shown);
        }
        return param_int(c, ms);
    }
    case SEARCH_ENUM:
        if (!json_is_string(v) || !enum_ok(f, json_string_value(v))) {
            return bad(c, "The value for %s is '%s' but must be one of the %s values.", path, shown,
                       f->name);
        }
        return param_text(c, json_string_value(v));
    case SEARCH_STRING:
    case SEARCH_VALUE:
        if (!json_is_string(v)) {
            return bad(c, "The value for %s is '%s' but must be a string.", path, shown);
        }
        return param_text(c, json_string_value(v));
    case SEARCH_BOOL:
    case SEARCH_OBJECT:
    case SEARCH_VARIABLES:
        break;
    }
    TANDEM_UNREACHABLE();
}

typedef enum op_kind {
    OP_EQ,
    OP_NEQ,
    OP_EXISTS,
    OP_IN,
    OP_NOT_IN,
    OP_LIKE,
    OP_GT,
    OP_GTE,
    OP_LT,
    OP_LTE,
} op_kind;

static const struct {
    const char *name;
    op_kind kind;
} ops[] = {{"$eq", OP_EQ},        {"$neq", OP_NEQ},   {"$exists", OP_EXISTS}, {"$in", OP_IN},
           {"$notIn", OP_NOT_IN}, {"$like", OP_LIKE}, {"$gt", OP_GT},         {"$gte", OP_GTE},
           {"$lt", OP_LT},        {"$lte", OP_LTE}};

static bool op_allowed(search_type t, op_kind k)
{
    TANDEM_ASSERT(t != SEARCH_BOOL && t != SEARCH_OBJECT && t != SEARCH_VARIABLES);
    switch (k) {
    case OP_EQ:
    case OP_NEQ:
    case OP_EXISTS:
    case OP_IN:
    case OP_NOT_IN:
        return true;
    case OP_LIKE:
        return t == SEARCH_STRING || t == SEARCH_ENUM || t == SEARCH_VALUE;
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        return t == SEARCH_INT || t == SEARCH_DATE;
    }
    TANDEM_UNREACHABLE();
}

static int list_cond(compiler *c, const search_field *f, const char *expr, const json_t *v,
                     bool negate, const char *path, tandem_buf *out)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    TANDEM_ASSERT(c != NULL && f != NULL && expr != NULL);
    if (!json_is_array(v)) {
        return bad(c, "The value for %s must be an array.", path);
    }
    size_t n = json_array_size(v);
    if (n > SEARCH_IN_MAX) {
        return bad(c, "The value for %s has %zu values; at most %d are allowed.", path, n,
                   SEARCH_IN_MAX);
    }
    if (n == 0) {
        return put(out, negate ? "1" : "0");
    }
    int rc = put(out, negate ? "(" : "");
    if (negate && rc == TANDEM_OK) {
        rc = put(out, expr);
        rc = rc == TANDEM_OK ? put(out, " IS NULL OR ") : rc;
    }
    rc = rc == TANDEM_OK ? put(out, expr) : rc;
    rc = rc == TANDEM_OK ? put(out, negate ? " NOT IN (" : " IN (") : rc;
    for (size_t i = 0; i < n && rc == TANDEM_OK; i++) {
        char item[PATH_SIZE_MAX + 16];
        snprintf(item, sizeof(item), "%.100s[%zu]", path, i);
        rc = bind_value(c, f, json_array_get(v, i), item);
        rc = rc == TANDEM_OK ? put(out, i == 0 ? "?" : ",?") : rc;
    }
    rc = rc == TANDEM_OK ? put(out, negate ? "))" : ")") : rc;
    return rc;
}

/* One operator on expr into out. */
static int op_cond(compiler *c, const search_field *f, const char *expr, op_kind k, const json_t *v,
                   const char *path, tandem_buf *out)
{
    TANDEM_ASSERT(c != NULL && f != NULL && expr != NULL && out != NULL);
    TANDEM_ASSERT(op_allowed(f->type, k));
    static const char *const cmp[] = {
        [OP_EQ] = " = ?",   [OP_NEQ] = " IS NOT ?", [OP_GT] = " > ?",
        [OP_GTE] = " >= ?", [OP_LT] = " < ?",       [OP_LTE] = " <= ?"};
    int rc = TANDEM_OK;
    switch (k) {
    case OP_EXISTS:
        if (!json_is_boolean(v)) {
            return bad(c, "The value for %s must be true or false.", path);
        }
        rc = put(out, "(");
        rc = rc == TANDEM_OK ? put(out, expr) : rc;
        return rc == TANDEM_OK ? put(out, json_is_true(v) ? " IS NOT NULL)" : " IS NULL)") : rc;
    case OP_IN:
    case OP_NOT_IN:
        return list_cond(c, f, expr, v, k == OP_NOT_IN, path, out);
    case OP_LIKE:
        if (!json_is_string(v)) {
            return bad(c, "The value for %s must be a string.", path);
        }
        rc = param_owned(c, like_to_glob(json_string_value(v)));
        rc = rc == TANDEM_OK ? put(out, expr) : rc;
        return rc == TANDEM_OK ? put(out, " GLOB ?") : rc;
    case OP_EQ:
    case OP_NEQ:
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        rc = bind_value(c, f, v, path);
        rc = rc == TANDEM_OK ? put(out, expr) : rc;
        return rc == TANDEM_OK ? put(out, cmp[k]) : rc;
    }
    TANDEM_UNREACHABLE();
}

/* A filter property on expr: a plain value ($eq) or an operator object. */
static int property_cond(compiler *c, const search_field *f, const char *expr, const json_t *v,
                         const char *path, tandem_buf *out)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    TANDEM_ASSERT(c != NULL && f != NULL && expr != NULL);
    if (!json_is_object(v)) {
        return op_cond(c, f, expr, OP_EQ, v, path, out);
    }
    if (json_object_size(v) == 0) {
        return put(out, "1");
    }
    const char *name;
    json_t *opv;
    size_t done = 0;
    int rc = put(out, "(");
    json_object_foreach((json_t *)v, name, opv)
    {
        size_t i = 0;
        while (i < sizeof(ops) / sizeof(ops[0]) && strcmp(ops[i].name, name) != 0) {
            i++;
        }
        char sub[PATH_SIZE_MAX + 16];
        snprintf(sub, sizeof(sub), "%.100s.%.40s", path, name);
        if (i == sizeof(ops) / sizeof(ops[0]) || !op_allowed(f->type, ops[i].kind)) {
            return bad(c, "The filter operator '%.32s' is not valid for %s.", name, path);
        }
        rc = rc == TANDEM_OK && done > 0 ? put(out, " AND ") : rc;
        rc = rc == TANDEM_OK ? op_cond(c, f, expr, ops[i].kind, opv, sub, out) : rc;
        if (rc != TANDEM_OK) {
            return rc;
        }
        done++;
    }
    return put(out, ")");
}

/* variables: [{name, value}] -> one EXISTS per entry over the variable table. */
static int variables_cond(compiler *c, const search_field *f, const json_t *v, const char *path,
                          tandem_buf *out)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    TANDEM_ASSERT(c != NULL && f != NULL && f->type == SEARCH_VARIABLES);
    static const search_field value_field = {"value",         "fv.value", SEARCH_VALUE,
                                             SEARCH_F_FILTER, NULL,       NULL};
    if (!json_is_array(v) || json_array_size(v) > SEARCH_OR_MAX) {
        return bad(c, "The value for %s must be an array of at most %d {name, value} objects.",
                   path, SEARCH_OR_MAX);
    }
    int rc = put(out, json_array_size(v) == 0 ? "1" : "(");
    for (size_t i = 0; i < json_array_size(v) && rc == TANDEM_OK; i++) {
        const json_t *item = json_array_get(v, i);
        const json_t *name = json_object_get(item, "name");
        const json_t *value = json_object_get(item, "value");
        char sub[PATH_SIZE_MAX + 16];
        snprintf(sub, sizeof(sub), "%.100s[%zu]", path, i);
        if (!json_is_object(item) || !json_is_string(name) || value == NULL ||
            json_object_size(item) != 2) {
            return bad(c, "The value for %s must be an object with a name and a value.", sub);
        }
        rc = put(out, i > 0 ? " AND " : "");
        rc = rc == TANDEM_OK ? put(out, "EXISTS (SELECT 1 FROM variable fv WHERE "
                                        "fv.process_instance_key = ")
                             : rc;
        rc = rc == TANDEM_OK ? put(out, f->expr) : rc;
        rc = rc == TANDEM_OK ? param_text(c, json_string_value(name)) : rc;
        rc = rc == TANDEM_OK ? put(out, " AND fv.name = ? AND ") : rc;
        char vpath[PATH_SIZE_MAX + 24];
        snprintf(vpath, sizeof(vpath), "%.100s.value", sub);
        rc = rc == TANDEM_OK ? property_cond(c, &value_field, value_field.expr, value, vpath, out)
                             : rc;
        rc = rc == TANDEM_OK ? put(out, ")") : rc;
    }
    return rc == TANDEM_OK && json_array_size(v) > 0 ? put(out, ")") : rc;
}

static int field_cond(compiler *c, const search_field *f, const json_t *v, const char *path,
                      tandem_buf *out)
{
    TANDEM_ASSERT(c != NULL && f != NULL && v != NULL);
    TANDEM_ASSERT(f->flags & SEARCH_F_FILTER);
    if (f->type == SEARCH_VARIABLES) {
        return variables_cond(c, f, v, path, out);
    }
    if (f->type == SEARCH_BOOL) {
        if (!json_is_boolean(v)) {
            return bad(c, "The value for %s must be true or false.", path);
        }
        int rc = put(out, "COALESCE(");
        rc = rc == TANDEM_OK ? put(out, f->expr) : rc;
        rc = rc == TANDEM_OK ? put(out, ", 0) = ?") : rc;
        return rc == TANDEM_OK ? param_int(c, json_is_true(v) ? 1 : 0) : rc;
    }
    return property_cond(c, f, f->expr, v, path, out);
}

/* The fields of `filter` in `group`: one EXISTS holding all of them. */
static int group_cond(compiler *c, const json_t *filter, const char *path, const char *group,
                      size_t *done, tandem_buf *out)
{
    TANDEM_ASSERT(c != NULL && group != NULL && done != NULL);
    TANDEM_ASSERT(json_is_object(filter));
    const char *name;
    json_t *v;
    size_t n = 0;
    int rc = TANDEM_OK;
    json_object_foreach((json_t *)filter, name, v)
    {
        const search_field *f = search_field_find(c->e, name);
        if (f == NULL || f->group != group || json_is_null(v)) {
            continue;
        }
        char sub[PATH_SIZE_MAX];
        snprintf(sub, sizeof(sub), "%.100s.%.40s", path, name);
        if (n++ == 0) {
            rc = put(out, *done > 0 ? " AND " : "");
            rc = rc == TANDEM_OK ? put(out, group) : rc;
        }
        rc = rc == TANDEM_OK ? put(out, " AND ") : rc;
        rc = rc == TANDEM_OK ? field_cond(c, f, v, sub, out) : rc;
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    if (n > 0) {
        (*done)++;
        rc = put(out, ")");
    }
    return rc;
}

static int or_cond(compiler *c, const json_t *v, const char *sub, tandem_buf *out);

static int filter_cond(compiler *c, const json_t *filter, const char *path, bool in_or,
                       tandem_buf *out)
{
    TANDEM_ASSERT(!in_or || c->e->has_or);
    TANDEM_ASSERT(c != NULL && path != NULL && out != NULL);
    if (!json_is_object(filter)) {
        return bad(c, "The value for %s must be an object.", path);
    }
    const char *name;
    json_t *v;
    size_t done = 0;
    int rc = put(out, "(");
    json_object_foreach((json_t *)filter, name, v)
    {
        char sub[PATH_SIZE_MAX];
        snprintf(sub, sizeof(sub), "%.100s.%.40s", path, name);
        if (json_is_null(v)) {
            continue; /* as absent, like the Java gateway */
        }
        bool is_or = strcmp(name, "$or") == 0 && c->e->has_or && !in_or;
        const search_field *f = is_or ? NULL : search_field_find(c->e, name);
        if (!is_or && (f == NULL || !(f->flags & SEARCH_F_FILTER))) {
            return bad(c, "Unknown filter field '%.64s' in %s: %s searches cannot filter by it.",
                       name, path, c->e->title);
        }
        if (f != NULL && f->group != NULL) {
            continue; /* below, with the other fields of its group */
        }
        rc = rc == TANDEM_OK && done > 0 ? put(out, " AND ") : rc;
        rc = rc == TANDEM_OK ? (is_or ? or_cond(c, v, sub, out) : field_cond(c, f, v, sub, out))
                             : rc;
        if (rc != TANDEM_OK) {
            return rc;
        }
        done++;
    }
    for (size_t g = 0; search_groups[g] != NULL && rc == TANDEM_OK; g++) {
        rc = group_cond(c, filter, path, search_groups[g], &done, out);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (done == 0) {
        tandem_buf_truncate(out, out->len - 1);
        return put(out, "1");
    }
    return put(out, ")");
}

/* $or: [filter, ...], one level deep. */
static int or_cond(compiler *c, const json_t *v, const char *sub, tandem_buf *out)
{
    TANDEM_ASSERT(c->e->has_or);
    TANDEM_ASSERT(c != NULL && v != NULL && sub != NULL);
    if (!json_is_array(v) || json_array_size(v) > SEARCH_OR_MAX) {
        return bad(c, "The value for %s must be an array of at most %d filters.", sub,
                   SEARCH_OR_MAX);
    }
    int rc = put(out, json_array_size(v) == 0 ? "1" : "(");
    for (size_t i = 0; i < json_array_size(v) && rc == TANDEM_OK; i++) {
        char branch[PATH_SIZE_MAX];
        snprintf(branch, sizeof(branch), "%.100s[%zu]", sub, i);
        rc = put(out, i > 0 ? " OR " : "");
        rc = rc == TANDEM_OK ? filter_cond(c, json_array_get(v, i), branch, true, out) : rc;
    }
    return rc == TANDEM_OK && json_array_size(v) > 0 ? put(out, ")") : rc;
}

/* ---- sort ---- */

static int compile_sort(compiler *c, const json_t *sort)
{
    TANDEM_ASSERT(c != NULL && c->q->sort_count == 0);
    if (sort == NULL || json_is_null(sort)) {
        return TANDEM_OK;
    }
    if (!json_is_array(sort) || json_array_size(sort) > SEARCH_SORT_MAX) {
        return bad(c, "The value for sort must be an array of at most %d {field, order} objects.",
                   SEARCH_SORT_MAX);
    }
    for (size_t i = 0; i < json_array_size(sort); i++) {
        const json_t *item = json_array_get(sort, i);
        const json_t *field = json_object_get(item, "field");
        const json_t *order = json_object_get(item, "order");
        size_t known = (size_t)(field != NULL) + (size_t)(order != NULL);
        if (!json_is_object(item) || json_object_size(item) != known) {
            return bad(c, "The value for sort[%zu] must be an object with field and order only.",
                       i);
        }
        if (!json_is_string(field)) {
            return bad(c, "Sort field must not be null: sort[%zu] has no field.", i);
        }
        const search_field *f = search_field_find(c->e, json_string_value(field));
        if (f == NULL || !(f->flags & SEARCH_F_SORT)) {
            return bad(c, "Unknown sortBy: '%.64s': %s searches cannot be sorted by it.",
                       json_string_value(field), c->e->title);
        }
        bool desc = false;
        if (order != NULL && !json_is_null(order)) {
            const char *o = json_is_string(order) ? json_string_value(order) : "";
            if (strcasecmp(o, "DESC") == 0) {
                desc = true;
            } else if (strcasecmp(o, "ASC") != 0) {
                return bad(c, "Unknown sortOrder: sort[%zu].order must be ASC or DESC.", i);
            }
        }
        c->q->sort[c->q->sort_count] = f;
        c->q->desc[c->q->sort_count] = desc;
        c->q->sort_count++;
    }
    TANDEM_ASSERT(c->q->sort_count <= SEARCH_SORT_MAX);
    return TANDEM_OK;
}

/* ---- page and cursors ---- */

/* The key breaks ties in the direction of the last sort field, so an index
 * on (filter columns, sort column) — which ends in the key, SQLite's rowid —
 * delivers the whole order without a sort step. */
static bool key_desc(const search_query *q)
{
    TANDEM_ASSERT(q != NULL);
    TANDEM_ASSERT(q->sort_count <= SEARCH_SORT_MAX);
    return q->sort_count > 0 && q->desc[q->sort_count - 1];
}

/* The cursor condition: rows strictly after (in the effective order) the
 * tuple in the cursor. */
static int cursor_cond(compiler *c, const json_t *vals)
{
    search_query *q = c->q;
    TANDEM_ASSERT(c != NULL && json_is_array(vals));
    TANDEM_ASSERT(json_array_size(vals) == q->sort_count + 1);
    bool reverse = q->style == SEARCH_PAGE_BEFORE;
    size_t n = q->sort_count + 1;
    tandem_buf *out = &q->cursor;
    int rc = put(out, "(");
    for (size_t i = 0; i < n && rc == TANDEM_OK; i++) {
        rc = put(out, i > 0 ? " OR (" : "(");
        for (size_t j = 0; j <= i && rc == TANDEM_OK; j++) {
            const char *expr = j < q->sort_count ? q->sort[j]->expr : q->entity->key_expr;
            bool desc = (j < q->sort_count ? q->desc[j] : key_desc(q)) != reverse;
            const json_t *v = json_array_get(vals, j);
            bool null = json_is_null(v);
            rc = put(out, j > 0 ? " AND " : "");
            if (j < i) {
                rc = rc == TANDEM_OK ? put(out, expr) : rc;
                rc = rc == TANDEM_OK ? put(out, null ? " IS NULL" : " = ?") : rc;
            } else if (null) {
                if (!desc) {
                    rc = rc == TANDEM_OK ? put(out, expr) : rc;
                }
                rc = rc == TANDEM_OK ? put(out, desc ? "0" : " IS NOT NULL") : rc;
            } else {
                rc = rc == TANDEM_OK ? put(out, desc ? "(" : "") : rc;
                rc = rc == TANDEM_OK ? put(out, expr) : rc;
                rc = rc == TANDEM_OK ? put(out, desc ? " < ? OR " : " > ?") : rc;
                if (desc && rc == TANDEM_OK) {
                    rc = put(out, expr);
                    rc = rc == TANDEM_OK ? put(out, " IS NULL)") : rc;
                }
            }
            if (!null && rc == TANDEM_OK) {
                rc = json_is_integer(v) ? param_int(c, json_integer_value(v))
                                        : param_text(c, json_string_value(v));
            }
        }
        rc = rc == TANDEM_OK ? put(out, ")") : rc;
    }
    return rc == TANDEM_OK ? put(out, ")") : rc;
}

static bool cursor_value_ok(const search_field *f, const json_t *v)
{
    TANDEM_ASSERT(v != NULL);
    TANDEM_ASSERT(f == NULL || (f->flags & SEARCH_F_SORT));
    if (json_is_null(v)) {
        return f != NULL; /* the key is never NULL */
    }
    search_type t = f != NULL ? f->type : SEARCH_KEY;
    bool text = t == SEARCH_STRING || t == SEARCH_ENUM || t == SEARCH_VALUE;
    return text ? json_is_string(v) : json_is_integer(v);
}

static int compile_cursor(compiler *c, const char *text, const char *which)
{
    TANDEM_ASSERT(c->q->style != SEARCH_PAGE_OFFSET);
    TANDEM_ASSERT(c != NULL && text != NULL && which != NULL);
    search_query *q = c->q;
    uint8_t raw[SEARCH_CURSOR_SIZE_MAX];
    size_t len = 0;
    if (strlen(text) > SEARCH_CURSOR_SIZE_MAX ||
        search_base64_decode(text, raw, sizeof(raw), &len) != TANDEM_OK) {
        return bad(c, "The value for page.%s is not a cursor returned by this search.", which);
    }
    json_t *vals = json_loadb((const char *)raw, len, JSON_DECODE_ANY, NULL);
    bool ok = json_is_array(vals) && json_array_size(vals) == q->sort_count + 1;
    for (size_t i = 0; ok && i < q->sort_count + 1; i++) {
        ok = cursor_value_ok(i < q->sort_count ? q->sort[i] : NULL, json_array_get(vals, i));
    }
    int rc = ok ? cursor_cond(c, vals)
                : bad(c,
                      "The value for page.%s is not a cursor of this search (cursors belong to "
                      "the sort they were returned with).",
                      which);
    json_decref(vals);
    return rc;
}

static int compile_page(compiler *c, const json_t *page)
{
    TANDEM_ASSERT(c->q->sort_count <= SEARCH_SORT_MAX); /* sort comes first */
    TANDEM_ASSERT(c != NULL);
    search_query *q = c->q;
    q->limit = TANDEM_SEARCH_LIMIT_DEFAULT;
    q->style = SEARCH_PAGE_OFFSET;
    if (page == NULL || json_is_null(page)) {
        return TANDEM_OK;
    }
    if (!json_is_object(page)) {
        return bad(c, "The value for page must be an object.");
    }
    const char *name;
    json_t *v;
    const json_t *after = NULL, *before = NULL, *from = NULL;
    json_object_foreach((json_t *)page, name, v)
    {
        if (json_is_null(v)) {
            continue;
        }
        if (strcmp(name, "limit") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > TANDEM_SEARCH_LIMIT_MAX) {
                return bad(c, "The value for page.limit must be an integer from 0 to %d.",
                           TANDEM_SEARCH_LIMIT_MAX);
            }
            q->limit = (uint32_t)json_integer_value(v);
        } else if (strcmp(name, "from") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > INT32_MAX) {
                return bad(c, "The value for page.from must be an integer from 0 to %d.",
                           INT32_MAX);
            }
            from = v;
        } else if (strcmp(name, "after") == 0 || strcmp(name, "before") == 0) {
            if (!json_is_string(v)) {
                return bad(c, "The value for page.%s must be a cursor string.", name);
            }
            *(name[0] == 'a' ? &after : &before) = v;
        } else {
            return bad(c,
                       "Unknown page field '%.64s': use from and limit, or after/before and "
                       "limit.",
                       name);
        }
    }
    if ((size_t)(after != NULL) + (size_t)(before != NULL) + (size_t)(from != NULL) > 1) {
        return bad(c, "Only one of page.from, page.after and page.before may be given.");
    }
    q->from = from != NULL ? json_integer_value(from) : 0;
    if (after == NULL && before == NULL) {
        return TANDEM_OK;
    }
    q->style = after != NULL ? SEARCH_PAGE_AFTER : SEARCH_PAGE_BEFORE;
    return compile_cursor(c, json_string_value(after != NULL ? after : before),
                          after != NULL ? "after" : "before");
}

/* ---- the body ---- */

static int compile_body(compiler *c, const json_t *root, bool has_scope, int64_t scope_key)
{
    TANDEM_ASSERT(c != NULL && root != NULL);
    search_query *q = c->q;
    if (!json_is_object(root)) {
        return bad(c, "The request body must be a JSON object with filter, sort and page.");
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)root, name, v)
    {
        if (strcmp(name, "filter") != 0 && strcmp(name, "sort") != 0 && strcmp(name, "page") != 0) {
            return bad(c, "Unknown request field '%.64s': a search takes filter, sort and page.",
                       name);
        }
    }
    int rc = put(&q->where, "(");
    if (rc == TANDEM_OK && has_scope) {
        TANDEM_ASSERT(c->e->scope_expr != NULL);
        rc = put(&q->where, c->e->scope_expr);
        rc = rc == TANDEM_OK ? put(&q->where, " = ? AND ") : rc;
        rc = rc == TANDEM_OK ? param_int(c, scope_key) : rc;
    }
    const json_t *filter = json_object_get(root, "filter");
    if (rc == TANDEM_OK) {
        rc = filter == NULL || json_is_null(filter)
                 ? put(&q->where, "1")
                 : filter_cond(c, filter, "filter", false, &q->where);
    }
    rc = rc == TANDEM_OK ? put(&q->where, ")") : rc;
    q->where_params = q->param_count;
    rc = rc == TANDEM_OK ? compile_sort(c, json_object_get(root, "sort")) : rc;
    rc = rc == TANDEM_OK ? compile_page(c, json_object_get(root, "page")) : rc;
    rc = rc == TANDEM_OK ? tandem_buf_append(&q->where, "", 1) : rc;
    rc = rc == TANDEM_OK ? tandem_buf_append(&q->cursor, "", 1) : rc;
    return rc;
}

int search_compile(const search_entity *e, const char *body, size_t len, bool has_scope,
                   int64_t scope_key, search_query *q, search_problem *problem)
{
    TANDEM_ASSERT(e != NULL && q != NULL && problem != NULL);
    TANDEM_ASSERT(!has_scope || e->scope_expr != NULL);
    memset(q, 0, sizeof(*q));
    tandem_buf_init(&q->where);
    tandem_buf_init(&q->cursor);
    q->entity = e;
    q->truncate_values = true;
    problem->detail[0] = '\0';
    compiler c = {e, q, problem};
    json_error_t err;
    json_t *root = NULL;
    if (body == NULL || len == 0) {
        root = json_object();
    } else {
        root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
        if (root == NULL) {
            bad(&c, "The request body is not valid JSON: %s (at character %d).", err.text,
                err.position);
            return TANDEM_EINVAL;
        }
    }
    int rc = root != NULL ? compile_body(&c, root, has_scope, scope_key) : TANDEM_ENOMEM;
    json_decref(root);
    if (rc != TANDEM_OK) {
        rc = rc == TANDEM_EINVAL ? TANDEM_EINVAL : TANDEM_ENOMEM;
        search_query_free(q);
    }
    TANDEM_ASSERT(rc != TANDEM_EINVAL || problem->detail[0] != '\0');
    return rc;
}

void search_query_free(search_query *q)
{
    TANDEM_ASSERT(q != NULL);
    TANDEM_ASSERT(q->param_count <= SEARCH_PARAMS_MAX);
    for (size_t i = 0; i < q->param_count; i++) {
        free(q->params[i].text);
    }
    free(q->params);
    q->params = NULL;
    q->param_count = 0;
    tandem_buf_free(&q->where);
    tandem_buf_free(&q->cursor);
}

/* ---- the statements ---- */

int search_sql_count(const search_query *q, tandem_buf *out)
{
    TANDEM_ASSERT(q != NULL && out != NULL);
    TANDEM_ASSERT(q->where.len > 0);
    int rc = put(out, "SELECT COUNT(*) FROM (SELECT 1 FROM ");
    rc = rc == TANDEM_OK ? put(out, q->entity->from) : rc;
    rc = rc == TANDEM_OK ? put(out, " WHERE ") : rc;
    rc = rc == TANDEM_OK ? put(out, (const char *)q->where.data) : rc;
    rc = rc == TANDEM_OK ? put(out, " LIMIT ?)") : rc;
    return rc == TANDEM_OK ? tandem_buf_append(out, "", 1) : rc;
}

int search_sql_page(const search_query *q, tandem_buf *out)
{
    TANDEM_ASSERT(q != NULL && out != NULL);
    TANDEM_ASSERT(q->where.len > 0 && q->cursor.len > 0);
    const search_entity *e = q->entity;
    int rc = put(out, "SELECT ");
    size_t cols = 0;
    for (size_t i = 0; i < e->field_count && rc == TANDEM_OK; i++) {
        if (e->fields[i].flags & SEARCH_F_OUT) {
            rc = put(out, cols++ > 0 ? ", " : "");
            rc = rc == TANDEM_OK ? put(out, e->fields[i].expr) : rc;
        }
    }
    for (size_t i = 0; i < q->sort_count && rc == TANDEM_OK; i++) {
        rc = put(out, ", ");
        rc = rc == TANDEM_OK ? put(out, q->sort[i]->expr) : rc;
    }
    rc = rc == TANDEM_OK ? put(out, ", ") : rc;
    rc = rc == TANDEM_OK ? put(out, e->key_expr) : rc;
    rc = rc == TANDEM_OK ? put(out, " FROM ") : rc;
    rc = rc == TANDEM_OK ? put(out, e->from) : rc;
    rc = rc == TANDEM_OK ? put(out, " WHERE ") : rc;
    rc = rc == TANDEM_OK ? put(out, (const char *)q->where.data) : rc;
    if (rc == TANDEM_OK && q->cursor.len > 1) {
        rc = put(out, " AND ");
        rc = rc == TANDEM_OK ? put(out, (const char *)q->cursor.data) : rc;
    }
    bool reverse = q->style == SEARCH_PAGE_BEFORE;
    rc = rc == TANDEM_OK ? put(out, " ORDER BY ") : rc;
    for (size_t i = 0; i < q->sort_count && rc == TANDEM_OK; i++) {
        rc = put(out, q->sort[i]->expr);
        rc = rc == TANDEM_OK ? put(out, q->desc[i] != reverse ? " DESC, " : " ASC, ") : rc;
    }
    rc = rc == TANDEM_OK ? put(out, e->key_expr) : rc;
    rc = rc == TANDEM_OK ? put(out, key_desc(q) != reverse ? " DESC" : " ASC") : rc;
    rc = rc == TANDEM_OK ? put(out, " LIMIT ? OFFSET ?") : rc;
    return rc == TANDEM_OK ? tandem_buf_append(out, "", 1) : rc;
}
