/*
 * value.c — FEEL values: constructors, equality and order, warnings, and the
 * conversions from and to JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

const feel_value feel_null = {.type = TANDEM_FEEL_NULL};
const feel_value feel_true = {.type = TANDEM_FEEL_BOOLEAN, .u.b = true};
const feel_value feel_false = {.type = TANDEM_FEEL_BOOLEAN, .u.b = false};

const char *feel_type_name(unsigned type)
{
    static const char *const names[] = {
        "null",
        "boolean",
        "number",
        "string",
        "list",
        "context",
        "range",
        "function",
        "date",
        "time",
        "date and time",
        "days and time duration",
        "years and months duration",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == TANDEM_FEEL_YEARS_MONTHS_DURATION + 1,
                   "one name per type");
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

const feel_value *feel_warn(feel_eval *e, const char *fmt, ...)
{
    TANDEM_ASSERT(e != NULL && fmt != NULL);
    tandem_feel_result *r = e->result;
    if (r != NULL && r->warning_count < TANDEM_FEEL_WARNINGS_MAX) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        TANDEM_ASSERT(len >= 0);
        size_t n = (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf) - 1;
        /* Warnings are few and small: they bypass the memory limit by using
         * the arena only when it has room; otherwise they are dropped. */
        const char *w = feel_arena_strndup(e->arena, buf, n);
        if (w != NULL) {
            r->warnings[r->warning_count++] = w;
        }
    }
    return &feel_null;
}

const feel_value *feel_fail(feel_eval *e, int code, const char *fmt, ...)
{
    TANDEM_ASSERT(e != NULL && code != 0);
    if (code == TANDEM_ENOMEM && e->arena != NULL && e->arena->over_limit && e->error == 0) {
        /* Out of memory because of the memory limit: a limit, not a fault. */
        e->error = TANDEM_ETOOBIG;
        tandem_diag_set(e->diag, TANDEM_ETOOBIG, "evaluation needs more than %zu bytes of memory",
                        e->arena->bytes_max);
        return NULL;
    }
    if (e->error == 0) {
        e->error = code;
        va_list ap;
        va_start(ap, fmt);
        tandem_diag_vset(e->diag, code, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static void *alloc(feel_eval *e, size_t size)
{
    TANDEM_ASSERT(e != NULL && e->arena != NULL);
    void *p = feel_arena_alloc(e->arena, size);
    if (p == NULL) {
        if (e->arena->bytes_max != 0 && e->arena->used_bytes + size > e->arena->bytes_max) {
            feel_fail(e, TANDEM_ETOOBIG, "evaluation needs more than %zu bytes of memory",
                      e->arena->bytes_max);
        } else {
            feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        }
    }
    return p;
}

const feel_value *feel_bool(bool b)
{
    return b ? &feel_true : &feel_false;
}

const feel_value *feel_number(feel_eval *e, feel_num n)
{
    TANDEM_ASSERT(e != NULL);
    feel_value *v = alloc(e, sizeof(*v));
    if (v != NULL) {
        v->type = TANDEM_FEEL_NUMBER;
        v->u.num = n;
    }
    return v;
}

const feel_value *feel_string(feel_eval *e, const char *s, size_t len)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    if (len > e->lim.string_bytes_max) {
        return feel_fail(e, TANDEM_ETOOBIG, "a string of %zu bytes exceeds the limit of %zu bytes",
                         len, e->lim.string_bytes_max);
    }
    feel_value *v = alloc(e, sizeof(*v));
    char *copy = v != NULL ? alloc(e, len + 1) : NULL;
    if (copy == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, s, len);
    }
    copy[len] = '\0';
    v->type = TANDEM_FEEL_STRING;
    v->u.str.s = copy;
    v->u.str.len = (uint32_t)len;
    return v;
}

uint16_t feel_depth_in(const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    TANDEM_ASSERT(v->depth <= FEEL_VALUE_DEPTH_MAX);
    return v->type == TANDEM_FEEL_LIST || v->type == TANDEM_FEEL_CONTEXT ? v->depth : 0;
}

bool feel_depth_ok(feel_eval *e, uint32_t depth)
{
    TANDEM_ASSERT(e != NULL);
    if (depth > FEEL_VALUE_DEPTH_MAX) {
        feel_fail(e, TANDEM_ETOOBIG, "lists and contexts nest deeper than %d levels",
                  FEEL_VALUE_DEPTH_MAX);
        return false;
    }
    return true;
}

const feel_value *feel_list(feel_eval *e, const feel_value *const *items, size_t n)
{
    TANDEM_ASSERT(items != NULL || n == 0);
    if (n > e->lim.list_items_max) {
        return feel_fail(e, TANDEM_ETOOBIG, "a list of %zu items exceeds the limit of %zu items", n,
                         e->lim.list_items_max);
    }
    feel_value *v = alloc(e, sizeof(*v));
    const feel_value **copy = v != NULL && n > 0 ? alloc(e, n * sizeof(*copy)) : NULL;
    if (v == NULL || (n > 0 && copy == NULL)) {
        return NULL;
    }
    uint32_t depth = 1;
    for (size_t i = 0; i < n; i++) {
        TANDEM_ASSERT(items[i] != NULL);
        copy[i] = items[i];
        depth = feel_depth_in(items[i]) + 1u > depth ? feel_depth_in(items[i]) + 1u : depth;
    }
    if (!feel_depth_ok(e, depth)) {
        return NULL;
    }
    v->depth = (uint16_t)depth;
    v->type = TANDEM_FEEL_LIST;
    v->u.list.items = copy;
    v->u.list.n = (uint32_t)n;
    return v;
}

const feel_value *feel_context(feel_eval *e, const feel_entry *entries, size_t n)
{
    TANDEM_ASSERT(entries != NULL || n == 0);
    if (n > e->lim.list_items_max) {
        return feel_fail(e, TANDEM_ETOOBIG,
                         "a context of %zu entries exceeds the limit of %zu entries", n,
                         e->lim.list_items_max);
    }
    feel_value *v = alloc(e, sizeof(*v));
    feel_entry *copy = v != NULL && n > 0 ? alloc(e, n * sizeof(*copy)) : NULL;
    if (v == NULL || (n > 0 && copy == NULL)) {
        return NULL;
    }
    uint32_t depth = 1;
    for (size_t i = 0; i < n; i++) {
        copy[i] = entries[i];
        uint32_t d = feel_depth_in(entries[i].value) + 1u;
        depth = d > depth ? d : depth;
    }
    if (!feel_depth_ok(e, depth)) {
        return NULL;
    }
    v->depth = (uint16_t)depth;
    v->type = TANDEM_FEEL_CONTEXT;
    v->u.ctx.entries = copy;
    v->u.ctx.n = (uint32_t)n;
    return v;
}

const feel_value *feel_ctx_get(const feel_value *ctx, const char *key, size_t key_len)
{
    TANDEM_ASSERT(ctx != NULL && ctx->type == TANDEM_FEEL_CONTEXT);
    TANDEM_ASSERT(key != NULL);
    for (uint32_t i = 0; i < ctx->u.ctx.n; i++) {
        const feel_entry *en = &ctx->u.ctx.entries[i];
        if (en->key_len == key_len && memcmp(en->key, key, key_len) == 0) {
            return en->value;
        }
    }
    return NULL;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    TANDEM_ASSERT((a != NULL || alen == 0) && (b != NULL || blen == 0));
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

bool feel_compare(const feel_value *a, const feel_value *b, int *out)
{
    TANDEM_ASSERT(a != NULL && b != NULL && out != NULL);
    if (a->type != b->type) {
        return false;
    }
    if (feel_is_temporal(a)) {
        return feel_temporal_compare(a, b, out);
    }
    switch (a->type) {
    case TANDEM_FEEL_NUMBER:
        *out = feel_num_cmp(a->u.num, b->u.num);
        return true;
    case TANDEM_FEEL_STRING:
        /* Code-point order: UTF-8 byte order is the same. */
        *out = cmp_bytes(a->u.str.s, a->u.str.len, b->u.str.s, b->u.str.len);
        return true;
    default:
        return false;
    }
}

static bool deep_equal(const feel_value *a, const feel_value *b, bool *out);

static bool list_equal(const feel_value *a, const feel_value *b, bool *out)
{
    TANDEM_ASSERT(a->type == TANDEM_FEEL_LIST && b->type == TANDEM_FEEL_LIST);
    if (a->u.list.n != b->u.list.n) {
        *out = false;
        return true;
    }
    *out = true;
    for (uint32_t i = 0; i < a->u.list.n && *out; i++) {
        if (!deep_equal(a->u.list.items[i], b->u.list.items[i], out)) {
            return false;
        }
    }
    return true;
}

static bool ctx_equal(const feel_value *a, const feel_value *b, bool *out)
{
    TANDEM_ASSERT(a->type == TANDEM_FEEL_CONTEXT && b->type == TANDEM_FEEL_CONTEXT);
    if (a->u.ctx.n != b->u.ctx.n) {
        *out = false;
        return true;
    }
    *out = true;
    for (uint32_t i = 0; i < a->u.ctx.n && *out; i++) {
        const feel_entry *en = &a->u.ctx.entries[i];
        const feel_value *other = feel_ctx_get(b, en->key, en->key_len);
        if (other == NULL) {
            *out = false;
        } else if (!deep_equal(en->value, other, out)) {
            return false;
        }
    }
    return true;
}

/* false when a and b are not comparable. */
static bool deep_equal(const feel_value *a, const feel_value *b, bool *out)
{
    TANDEM_ASSERT(a != NULL && b != NULL && out != NULL);
    if (a->type == TANDEM_FEEL_NULL || b->type == TANDEM_FEEL_NULL) {
        *out = a->type == b->type;
        return true;
    }
    if (a->type != b->type) {
        return false;
    }
    int c;
    if (feel_is_temporal(a)) {
        if (!feel_temporal_compare(a, b, &c)) {
            return false;
        }
        *out = c == 0;
        return true;
    }
    switch (a->type) {
    case TANDEM_FEEL_BOOLEAN:
        *out = a->u.b == b->u.b;
        return true;
    case TANDEM_FEEL_NUMBER:
    case TANDEM_FEEL_STRING:
        feel_compare(a, b, &c);
        *out = c == 0;
        return true;
    case TANDEM_FEEL_LIST:
        return list_equal(a, b, out);
    case TANDEM_FEEL_CONTEXT:
        return ctx_equal(a, b, out);
    case TANDEM_FEEL_RANGE: {
        bool s = true, en = true;
        if (a->u.range.flags != b->u.range.flags) {
            *out = false;
            return true;
        }
        if ((a->u.range.start == NULL) != (b->u.range.start == NULL) ||
            (a->u.range.end == NULL) != (b->u.range.end == NULL)) {
            *out = false;
            return true;
        }
        if (a->u.range.start != NULL && !deep_equal(a->u.range.start, b->u.range.start, &s)) {
            return false;
        }
        if (a->u.range.end != NULL && !deep_equal(a->u.range.end, b->u.range.end, &en)) {
            return false;
        }
        *out = s && en;
        return true;
    }
    default:
        *out = a == b;
        return true;
    }
}

const feel_value *feel_equals(const feel_value *a, const feel_value *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    bool eq = false;
    if (!deep_equal(a, b, &eq)) {
        return NULL;
    }
    return feel_bool(eq);
}

/* ---- JSON out ------------------------------------------------------------ */

static int put_json_string(tandem_buf *out, const char *s, size_t len)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(s != NULL || len == 0);
    int rc = tandem_buf_put_u8(out, '"');
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = tandem_buf_append(out, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            char esc[2] = {'\\', c == '\n' ? 'n' : c == '\t' ? 't' : 'r'};
            rc = tandem_buf_append(out, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            int n = snprintf(esc, sizeof(esc), "\\u%04x", c);
            rc = tandem_buf_append(out, esc, (size_t)n);
        } else {
            rc = tandem_buf_put_u8(out, c);
        }
    }
    return rc != 0 ? rc : tandem_buf_put_u8(out, '"');
}

int feel_value_json(const feel_value *v, tandem_buf *out)
{
    TANDEM_ASSERT(v != NULL && out != NULL);
    int rc = 0;
    switch (v->type) {
    case TANDEM_FEEL_BOOLEAN: {
        const char *s = v->u.b ? "true" : "false";
        return tandem_buf_append(out, s, strlen(s));
    }
    case TANDEM_FEEL_NUMBER: {
        char buf[FEEL_NUM_TEXT_MAX];
        size_t n = feel_num_format(v->u.num, buf, sizeof(buf));
        TANDEM_ASSERT(n < sizeof(buf));
        return tandem_buf_append(out, buf, n);
    }
    case TANDEM_FEEL_STRING:
        return put_json_string(out, v->u.str.s, v->u.str.len);
    case TANDEM_FEEL_LIST:
        rc = tandem_buf_put_u8(out, '[');
        for (uint32_t i = 0; i < v->u.list.n && rc == 0; i++) {
            if (i > 0) {
                rc = tandem_buf_put_u8(out, ',');
            }
            if (rc == 0) {
                rc = feel_value_json(v->u.list.items[i], out);
            }
        }
        return rc != 0 ? rc : tandem_buf_put_u8(out, ']');
    case TANDEM_FEEL_CONTEXT:
        rc = tandem_buf_put_u8(out, '{');
        for (uint32_t i = 0; i < v->u.ctx.n && rc == 0; i++) {
            const feel_entry *en = &v->u.ctx.entries[i];
            if (i > 0) {
                rc = tandem_buf_put_u8(out, ',');
            }
            if (rc == 0) {
                rc = put_json_string(out, en->key, en->key_len);
            }
            if (rc == 0) {
                rc = tandem_buf_put_u8(out, ':');
            }
            if (rc == 0) {
                rc = feel_value_json(en->value, out);
            }
        }
        return rc != 0 ? rc : tandem_buf_put_u8(out, '}');
    default:
        break;
    }
    if (feel_is_temporal(v)) {
        /* ISO text needs no escaping: quote it. */
        rc = tandem_buf_put_u8(out, '"');
        if (rc == 0) {
            rc = feel_temporal_format(v, out);
        }
        return rc != 0 ? rc : tandem_buf_put_u8(out, '"');
    }
    return tandem_buf_append(out, "null", 4);
}
