/*
 * Running a compiled search or a GET on a connection and writing the
 * answer in the 8.8 shapes: keys as strings, dates as ISO-8601 UTC with
 * milliseconds, optional fields left out when NULL.
 *
 * Each statement gets a time budget through SQLite's progress handler, so
 * a pathological filter ends as a 504 instead of holding a worker.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "search/search_int.h"

/* Progress-handler granularity: virtual machine steps between checks. */
#define PROGRESS_STEPS 10000

static const char content_json[] = "application/json";

typedef struct budget {
    struct timespec deadline;
} budget;

static int on_progress(void *data)
{
    TANDEM_ASSERT(data != NULL);
    const budget *b = data;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > b->deadline.tv_sec ||
           (now.tv_sec == b->deadline.tv_sec && now.tv_nsec >= b->deadline.tv_nsec);
}

static void budget_start(budget *b, uint32_t ms)
{
    TANDEM_ASSERT(b != NULL && ms > 0);
    clock_gettime(CLOCK_MONOTONIC, &b->deadline);
    b->deadline.tv_sec += ms / 1000;
    b->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (b->deadline.tv_nsec >= 1000000000L) {
        b->deadline.tv_sec++;
        b->deadline.tv_nsec -= 1000000000L;
    }
    TANDEM_ASSERT(b->deadline.tv_nsec >= 0 && b->deadline.tv_nsec < 1000000000L);
}

static void fail(tandem_search_response *out, unsigned status, const char *title, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void fail(tandem_search_response *out, unsigned status, const char *title, const char *fmt,
                 ...)
{
    TANDEM_ASSERT(out != NULL && title != NULL);
    TANDEM_ASSERT(status >= 400 && status <= 599);
    out->status = status;
    out->title = title;
    out->content_type = NULL;
    tandem_buf_reset(&out->body);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
    va_end(ap);
}

static int put(tandem_buf *b, const char *s)
{
    TANDEM_ASSERT(b->data != NULL || b->len == 0);
    TANDEM_ASSERT(b != NULL && s != NULL);
    return tandem_buf_append(b, s, strlen(s)) == TANDEM_OK ? TANDEM_OK : TANDEM_ENOMEM;
}

static int put_key(tandem_buf *b, int64_t key)
{
    TANDEM_ASSERT(b != NULL);
    char text[32];
    snprintf(text, sizeof(text), "\"%" PRId64 "\"", key);
    return put(b, text);
}

/* The sqlite failure of a statement as the answer. */
static void fail_sqlite(tandem_search_response *out, sqlite3 *db, int src, uint32_t time_ms)
{
    TANDEM_ASSERT(out != NULL && db != NULL);
    TANDEM_ASSERT(src != SQLITE_OK && src != SQLITE_ROW && src != SQLITE_DONE);
    if (src == SQLITE_INTERRUPT) {
        fail(out, 504, "DEADLINE_EXCEEDED", "The query ran longer than %u ms and was stopped.",
             time_ms);
    } else if (src == SQLITE_BUSY || src == SQLITE_LOCKED) {
        fail(out, 503, "UNAVAILABLE", "The store is busy: %s.", sqlite3_errmsg(db));
    } else {
        fail(out, 500, "INTERNAL", "The store could not be read: %s.", sqlite3_errmsg(db));
    }
}

static bool table_exists(sqlite3 *db, const char *table)
{
    TANDEM_ASSERT(table[0] != '\0');
    TANDEM_ASSERT(db != NULL && table != NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
                           &st, NULL) != SQLITE_OK) {
        return false; /* not a database (yet): read as empty */
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static void bind_params(sqlite3_stmt *st, const search_query *q, size_t count, int *idx)
{
    TANDEM_ASSERT(st != NULL && q != NULL && idx != NULL);
    TANDEM_ASSERT(count <= q->param_count);
    for (size_t i = 0; i < count; i++) {
        const search_param *p = &q->params[i];
        (*idx)++;
        if (p->kind == SEARCH_P_INT) {
            sqlite3_bind_int64(st, *idx, p->i);
        } else if (p->kind == SEARCH_P_TEXT) {
            sqlite3_bind_text(st, *idx, p->text, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, *idx);
        }
    }
}

/* The byte length of the first `chars` UTF-8 characters of s (all of s
 * when shorter); *cut tells whether anything was left over. */
static size_t utf8_prefix(const char *s, size_t len, size_t chars, bool *cut)
{
    TANDEM_ASSERT(s != NULL && cut != NULL);
    size_t n = 0, i = 0;
    for (; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == chars) {
                break;
            }
            n++;
        }
    }
    *cut = i < len;
    TANDEM_ASSERT(i <= len);
    return i;
}

static int put_value(tandem_buf *b, const char *text, size_t len, bool truncate)
{
    TANDEM_ASSERT(text[len] == '\0'); /* SQLite terminates its text */
    TANDEM_ASSERT(b != NULL && text != NULL);
    bool cut = false;
    size_t keep = truncate ? utf8_prefix(text, len, TANDEM_SEARCH_VALUE_CHARS_MAX, &cut) : len;
    char *copy = NULL;
    int rc = TANDEM_OK;
    if (cut) {
        copy = strndup(text, keep);
        if (copy == NULL) {
            return TANDEM_ENOMEM;
        }
    }
    rc = tandem_http_json_string(b, copy != NULL ? copy : text);
    free(copy);
    rc = rc == TANDEM_OK ? put(b, cut ? ",\"isTruncated\":true" : ",\"isTruncated\":false") : rc;
    return rc;
}

static int put_object(tandem_buf *b, const char *text)
{
    TANDEM_ASSERT(b != NULL && text != NULL);
    json_t *o = json_loads(text, 0, NULL);
    bool ok = json_is_object(o);
    json_decref(o);
    int rc = put(b, ok ? text : "{}"); /* never pass damaged text into an answer */
    TANDEM_ASSERT(rc != TANDEM_OK || b->len >= 2);
    return rc;
}

/* One item: the entity's output fields from columns 0.. of the row. */
static int put_item(tandem_buf *b, sqlite3_stmt *st, const search_entity *e, bool truncate)
{
    TANDEM_ASSERT(b != NULL && st != NULL && e != NULL);
    int rc = put(b, "{");
    int col = 0;
    bool first = true;
    for (size_t i = 0; i < e->field_count && rc == TANDEM_OK; i++) {
        const search_field *f = &e->fields[i];
        if (!(f->flags & SEARCH_F_OUT)) {
            continue;
        }
        int c = col++;
        bool null = sqlite3_column_type(st, c) == SQLITE_NULL;
        if (null && !(f->flags & SEARCH_F_DEFAULT)) {
            continue;
        }
        rc = put(b, first ? "" : ",");
        first = false;
        rc = rc == TANDEM_OK ? tandem_http_json_string(b, f->name) : rc;
        rc = rc == TANDEM_OK ? put(b, ":") : rc;
        if (rc != TANDEM_OK) {
            break;
        }
        const char *text = (const char *)sqlite3_column_text(st, c);
        int64_t i64 = sqlite3_column_int64(st, c);
        char num[SEARCH_DATE_SIZE + 2];
        switch (f->type) {
        case SEARCH_KEY:
            rc = put_key(b, i64);
            break;
        case SEARCH_INT:
            snprintf(num, sizeof(num), "%" PRId64, i64);
            rc = put(b, num);
            break;
        case SEARCH_DATE:
            num[0] = '"';
            search_date_format(i64, num + 1);
            rc = put(b, num);
            rc = rc == TANDEM_OK ? put(b, "\"") : rc;
            break;
        case SEARCH_BOOL:
            rc = put(b, i64 != 0 ? "true" : "false");
            break;
        case SEARCH_STRING:
        case SEARCH_ENUM:
            rc = tandem_http_json_string(b, text != NULL ? text : "");
            break;
        case SEARCH_OBJECT:
            rc = put_object(b, text != NULL ? text : "{}");
            break;
        case SEARCH_VALUE:
            rc = put_value(b, text != NULL ? text : "null",
                           text != NULL ? (size_t)sqlite3_column_bytes(st, c) : 4, truncate);
            break;
        case SEARCH_VARIABLES:
            TANDEM_UNREACHABLE();
        }
    }
    return rc == TANDEM_OK ? put(b, "}") : rc;
}

/* The cursor of the current row: base64 of [sort values..., key]. */
static int put_cursor(tandem_buf *b, sqlite3_stmt *st, const search_query *q, int first_col)
{
    TANDEM_ASSERT(b != NULL && st != NULL && q != NULL);
    TANDEM_ASSERT(first_col >= 0);
    json_t *vals = json_array();
    for (size_t i = 0; vals != NULL && i <= q->sort_count; i++) {
        int c = first_col + (int)i;
        json_t *v = NULL;
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_NULL:
            v = json_null();
            break;
        case SQLITE_INTEGER:
            v = json_integer(sqlite3_column_int64(st, c));
            break;
        default:
            v = json_stringn((const char *)sqlite3_column_text(st, c),
                             (size_t)sqlite3_column_bytes(st, c));
            break;
        }
        if (v == NULL || json_array_append_new(vals, v) != 0) {
            json_decref(vals);
            vals = NULL;
        }
    }
    char *text = vals != NULL ? json_dumps(vals, JSON_COMPACT) : NULL;
    json_decref(vals);
    if (text == NULL) {
        return TANDEM_ENOMEM;
    }
    int rc = put(b, "\"");
    rc = rc == TANDEM_OK ? search_base64_encode((const uint8_t *)text, strlen(text), b) : rc;
    free(text);
    if (rc == TANDEM_OK) {
        tandem_buf_truncate(b, b->len - 1); /* the encoder's NUL */
        rc = put(b, "\"");
    }
    return rc;
}

static int count_rows(sqlite3 *db, const search_query *q, int64_t *count,
                      tandem_search_response *out, uint32_t time_ms)
{
    TANDEM_ASSERT(db != NULL && q != NULL && count != NULL);
    tandem_buf sql = TANDEM_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = search_sql_count(q, &sql);
    if (rc != TANDEM_OK) {
        goto cleanup;
    }
    int src = sqlite3_prepare_v2(db, (const char *)sql.data, -1, &st, NULL);
    if (src == SQLITE_OK) {
        int idx = 0;
        bind_params(st, q, q->where_params, &idx);
        sqlite3_bind_int64(st, idx + 1, TANDEM_SEARCH_COUNT_MAX + 1);
        src = sqlite3_step(st);
    }
    if (src != SQLITE_ROW) {
        fail_sqlite(out, db, src, time_ms);
        rc = TANDEM_EIO;
        goto cleanup;
    }
    *count = sqlite3_column_int64(st, 0);
    TANDEM_ASSERT(*count >= 0 && *count <= TANDEM_SEARCH_COUNT_MAX + 1);
cleanup:
    sqlite3_finalize(st);
    tandem_buf_free(&sql);
    return rc;
}

typedef struct page_rows {
    tandem_buf items; /* the items, back to back */
    size_t *ends;     /* end offset of each item in items */
    size_t count;
    tandem_buf first_cursor, last_cursor; /* in the query's order */
} page_rows;

static int fetch_rows(sqlite3 *db, const search_query *q, page_rows *rows,
                      tandem_search_response *out, uint32_t time_ms)
{
    TANDEM_ASSERT(db != NULL && q != NULL && rows != NULL);
    tandem_buf sql = TANDEM_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = search_sql_page(q, &sql);
    if (rc != TANDEM_OK) {
        goto cleanup;
    }
    rows->ends = calloc((size_t)q->limit + 1, sizeof(*rows->ends));
    if (rows->ends == NULL) {
        rc = TANDEM_ENOMEM;
        goto cleanup;
    }
    int src = sqlite3_prepare_v2(db, (const char *)sql.data, -1, &st, NULL);
    if (src != SQLITE_OK) {
        fail_sqlite(out, db, src, time_ms);
        rc = TANDEM_EIO;
        goto cleanup;
    }
    int idx = 0;
    bind_params(st, q, q->param_count, &idx);
    sqlite3_bind_int64(st, idx + 1, q->limit);
    sqlite3_bind_int64(st, idx + 2, q->from);
    int out_cols = sqlite3_column_count(st) - (int)q->sort_count - 1;
    TANDEM_ASSERT(out_cols > 0);
    while ((src = sqlite3_step(st)) == SQLITE_ROW && rc == TANDEM_OK) {
        TANDEM_ASSERT(rows->count < q->limit);
        rc = put_item(&rows->items, st, q->entity, q->truncate_values);
        rows->ends[rows->count++] = rows->items.len;
        tandem_buf *cur = rows->count == 1 ? &rows->first_cursor : &rows->last_cursor;
        tandem_buf_reset(cur);
        rc = rc == TANDEM_OK ? put_cursor(cur, st, q, out_cols) : rc;
    }
    if (rc == TANDEM_OK && src != SQLITE_DONE) {
        fail_sqlite(out, db, src, time_ms);
        rc = TANDEM_EIO;
    }
cleanup:
    sqlite3_finalize(st);
    tandem_buf_free(&sql);
    return rc;
}

static int write_page(tandem_buf *b, const search_query *q, page_rows *rows, int64_t total)
{
    TANDEM_ASSERT(b != NULL && q != NULL && rows != NULL);
    TANDEM_ASSERT(rows->count <= q->limit);
    bool reverse = q->style == SEARCH_PAGE_BEFORE;
    int rc = put(b, "{\"items\":[");
    for (size_t k = 0; k < rows->count && rc == TANDEM_OK; k++) {
        size_t i = reverse ? rows->count - 1 - k : k;
        size_t start = i == 0 ? 0 : rows->ends[i - 1];
        rc = put(b, k > 0 ? "," : "");
        rc = rc == TANDEM_OK ? tandem_buf_append(b, rows->items.data + start, rows->ends[i] - start)
                             : rc;
    }
    bool more = total > TANDEM_SEARCH_COUNT_MAX;
    char head[96];
    snprintf(head, sizeof(head), "],\"page\":{\"totalItems\":%" PRId64 ",\"hasMoreTotalItems\":%s",
             more ? (int64_t)TANDEM_SEARCH_COUNT_MAX : total, more ? "true" : "false");
    rc = rc == TANDEM_OK ? put(b, head) : rc;
    tandem_buf *first = &rows->first_cursor;
    tandem_buf *last = rows->count > 1 ? &rows->last_cursor : &rows->first_cursor;
    if (reverse) {
        tandem_buf *t = first;
        first = last;
        last = t;
    }
    /* 8.8 leaves the cursors out of an empty page (8.9 writes null). */
    if (rows->count > 0) {
        rc = rc == TANDEM_OK ? put(b, ",\"startCursor\":") : rc;
        rc = rc == TANDEM_OK ? tandem_buf_append(b, first->data, first->len) : rc;
        rc = rc == TANDEM_OK ? put(b, ",\"endCursor\":") : rc;
        rc = rc == TANDEM_OK ? tandem_buf_append(b, last->data, last->len) : rc;
    }
    return rc == TANDEM_OK ? put(b, "}}") : rc;
}

static int run_query(sqlite3 *db, const tandem_search_request *req, tandem_search_response *out,
                     uint32_t time_ms)
{
    TANDEM_ASSERT(req->op == TANDEM_SEARCH_QUERY);
    TANDEM_ASSERT(req != NULL && out != NULL);
    const search_entity *e = search_entity_get(req->entity);
    search_query q;
    search_problem problem;
    int rc = search_compile(e, req->body, req->body != NULL ? req->body_len : 0,
                            req->has_process_scope, req->process_scope, &q, &problem);
    if (rc == TANDEM_EINVAL) {
        fail(out, 400, "INVALID_ARGUMENT", "%s", problem.detail);
        return TANDEM_OK;
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    q.truncate_values = req->truncate_values;
    page_rows rows;
    memset(&rows, 0, sizeof(rows));
    int64_t total = 0;
    if (db != NULL && table_exists(db, e->table)) {
        rc = count_rows(db, &q, &total, out, time_ms);
        rc = rc == TANDEM_OK ? fetch_rows(db, &q, &rows, out, time_ms) : rc;
    }
    if (rc == TANDEM_OK) {
        rc = write_page(&out->body, &q, &rows, total);
        out->content_type = content_json;
    }
    free(rows.ends);
    tandem_buf_free(&rows.items);
    tandem_buf_free(&rows.first_cursor);
    tandem_buf_free(&rows.last_cursor);
    search_query_free(&q);
    return rc == TANDEM_EIO ? TANDEM_OK : rc; /* EIO: the answer says what failed */
}

static int run_get(sqlite3 *db, const tandem_search_request *req, tandem_search_response *out,
                   uint32_t time_ms)
{
    TANDEM_ASSERT(req->op == TANDEM_SEARCH_GET || req->op == TANDEM_SEARCH_GET_XML);
    TANDEM_ASSERT(req != NULL && out != NULL);
    bool xml = req->op == TANDEM_SEARCH_GET_XML;
    const search_entity *e =
        search_entity_get(xml ? TANDEM_SEARCH_PROCESS_DEFINITION : req->entity);
    tandem_buf sql = TANDEM_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = TANDEM_OK;
    int src = SQLITE_DONE;
    if (db != NULL && table_exists(db, e->table)) {
        if (xml) {
            rc = put(&sql, "SELECT xml FROM process_definition WHERE process_definition_key = ?");
        } else {
            rc = put(&sql, "SELECT ");
            size_t cols = 0;
            for (size_t i = 0; i < e->field_count && rc == TANDEM_OK; i++) {
                if (e->fields[i].flags & SEARCH_F_OUT) {
                    rc = put(&sql, cols++ > 0 ? ", " : "");
                    rc = rc == TANDEM_OK ? put(&sql, e->fields[i].expr) : rc;
                }
            }
            rc = rc == TANDEM_OK ? put(&sql, " FROM ") : rc;
            rc = rc == TANDEM_OK ? put(&sql, e->from) : rc;
            rc = rc == TANDEM_OK ? put(&sql, " WHERE ") : rc;
            rc = rc == TANDEM_OK ? put(&sql, e->key_expr) : rc;
            rc = rc == TANDEM_OK ? put(&sql, " = ?") : rc;
        }
        rc = rc == TANDEM_OK ? tandem_buf_append(&sql, "", 1) : rc;
        if (rc != TANDEM_OK) {
            goto cleanup;
        }
        src = sqlite3_prepare_v2(db, (const char *)sql.data, -1, &st, NULL);
        if (src == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, req->key);
            src = sqlite3_step(st);
        }
        if (src != SQLITE_ROW && src != SQLITE_DONE) {
            fail_sqlite(out, db, src, time_ms);
            goto cleanup;
        }
    }
    if (src == SQLITE_DONE) {
        fail(out, 404, "NOT_FOUND", "%s with key '%" PRId64 "' not found.", e->title, req->key);
    } else if (xml && sqlite3_column_type(st, 0) == SQLITE_NULL) {
        out->status = 204;
    } else if (xml) {
        rc = tandem_buf_append(&out->body, sqlite3_column_text(st, 0),
                               (size_t)sqlite3_column_bytes(st, 0));
        out->content_type = "text/xml";
    } else {
        rc = put_item(&out->body, st, e, false);
        out->content_type = content_json;
    }
cleanup:
    sqlite3_finalize(st);
    tandem_buf_free(&sql);
    return rc;
}

int tandem_search_execute(sqlite3 *db, const tandem_search_request *req,
                          tandem_search_response *out)
{
    TANDEM_ASSERT(req != NULL && out != NULL);
    TANDEM_ASSERT(req->entity < TANDEM_SEARCH_ENTITY_COUNT);
    memset(out, 0, sizeof(*out));
    tandem_buf_init(&out->body);
    out->status = 200;
    uint32_t time_ms =
        req->query_time_ms != 0 ? req->query_time_ms : TANDEM_SEARCH_QUERY_TIME_MS_MAX;
    budget b;
    budget_start(&b, time_ms);
    if (db != NULL) {
        sqlite3_progress_handler(db, PROGRESS_STEPS, on_progress, &b);
    }
    int rc = req->op == TANDEM_SEARCH_QUERY ? run_query(db, req, out, time_ms)
                                            : run_get(db, req, out, time_ms);
    if (db != NULL) {
        sqlite3_progress_handler(db, 0, NULL, NULL);
    }
    if (rc != TANDEM_OK) {
        TANDEM_ASSERT(rc == TANDEM_ENOMEM);
        fail(out, 500, "INTERNAL", "Out of memory building the answer.");
    }
    return rc;
}

void tandem_search_response_free(tandem_search_response *r)
{
    TANDEM_ASSERT(r->status >= 200 && r->status <= 599);
    TANDEM_ASSERT(r != NULL);
    tandem_buf_free(&r->body);
    r->content_type = NULL;
}
