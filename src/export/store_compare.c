/*
 * store_compare.c — two stores compared row by row, and a store dumped as
 * JSON lines: the checkers behind the crash tests ("the store after a kill -9
 * and restart equals the store of a run without one") and `tandemctl store`.
 *
 * Both walk the data tables in schema order and each table in primary-key
 * order, so the walk is deterministic and two equal stores dump to the same
 * bytes. exporter_position is left out: stores fed by different exporters
 * hold the same rows under different exporter ids.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "export/store_int.h"

/* Rows compared before the walk gives up on a table: a bound on the loop;
 * far above any store a test or a region builds (1 << 40). */
#define COMPARE_ROWS_MAX (UINT64_C(1) << 40)

/* The rows of a table in key order: column 0 is the key selected by name,
 * columns 1.. the table's own. A file at the current schema version whose
 * table lacks the key, or does not start with it, is damaged: an error that
 * names the table and column, never an abort. */
static int prepare_table(tandem_store *s, const tandem_store_table *t, sqlite3_stmt **out,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && t != NULL && out != NULL);
    char sql[256];
    int n = snprintf(sql, sizeof(sql), "SELECT %s, * FROM %s ORDER BY %s", t->key, t->name, t->key);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(sql));
    *out = NULL;
    sqlite3 *db = tandem_store_db(s);
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    if (rc == SQLITE_ERROR && strstr(sqlite3_errmsg(db), "no such column") != NULL) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "store %s: table %s has no key column %s: not the schema of "
                               "version %d",
                               s->path, t->name, t->key, TANDEM_STORE_SCHEMA_VERSION);
    }
    if (rc != SQLITE_OK) {
        return tandem_store_sql_error(s, rc, t->name, diag);
    }
    TANDEM_ASSERT(*out != NULL && sqlite3_column_count(*out) >= 2);
    const char *first = sqlite3_column_name(*out, 1);
    if (first == NULL || strcmp(first, t->key) != 0) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                             "store %s: table %s: the first column is %s, not the key %s: not the "
                             "schema of version %d",
                             s->path, t->name, first != NULL ? first : "?", t->key,
                             TANDEM_STORE_SCHEMA_VERSION);
        sqlite3_finalize(*out);
        *out = NULL;
    }
    return rc;
}

/* A column value as text for messages (truncated): 'text', 123, NULL. */
static void value_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    TANDEM_ASSERT(st != NULL && out != NULL && size > 8);
    TANDEM_ASSERT(col >= 0 && col < sqlite3_column_count(st));
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        snprintf(out, size, "NULL");
        break;
    case SQLITE_INTEGER:
        snprintf(out, size, "%lld", (long long)sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT:
        snprintf(out, size, "%.17g", sqlite3_column_double(st, col));
        break;
    default:
        snprintf(out, size, "'%.*s'",
                 sqlite3_column_bytes(st, col) > 100 ? 100 : sqlite3_column_bytes(st, col),
                 (const char *)sqlite3_column_text(st, col));
        break;
    }
}

static bool column_equal(sqlite3_stmt *a, sqlite3_stmt *b, int col)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    TANDEM_ASSERT(col > 0 && col < sqlite3_column_count(a) && col < sqlite3_column_count(b));
    int ta = sqlite3_column_type(a, col);
    if (ta != sqlite3_column_type(b, col)) {
        return false;
    }
    switch (ta) {
    case SQLITE_NULL:
        return true;
    case SQLITE_INTEGER:
        return sqlite3_column_int64(a, col) == sqlite3_column_int64(b, col);
    case SQLITE_FLOAT:
        return sqlite3_column_double(a, col) == sqlite3_column_double(b, col);
    default: {
        const void *pa = sqlite3_column_blob(a, col);
        int la = sqlite3_column_bytes(a, col);
        const void *pb = sqlite3_column_blob(b, col);
        int lb = sqlite3_column_bytes(b, col);
        return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
    }
    }
}

static int differ(FILE *report, tandem_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int differ(FILE *report, tandem_diag *diag, const char *fmt, ...)
{
    TANDEM_ASSERT(fmt != NULL);
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (report != NULL) {
        fprintf(report, "%s\n", text);
    }
    return tandem_diag_set(diag, TANDEM_EMISMATCH, "%s", text);
}

/* Compares one table of two stores; 0 when equal. */
static int compare_table(tandem_store *sa, tandem_store *sb, const tandem_store_table *t,
                         FILE *report, tandem_diag *diag)
{
    TANDEM_ASSERT(sa != NULL && sb != NULL && t != NULL);
    sqlite3_stmt *a = NULL, *b = NULL;
    int rc = prepare_table(sa, t, &a, diag);
    if (rc != 0) {
        goto done;
    }
    rc = prepare_table(sb, t, &b, diag);
    if (rc != 0) {
        goto done;
    }
    int cols = sqlite3_column_count(a);
    TANDEM_ASSERT(cols >= 2 && sqlite3_column_count(b) >= 2);
    if (cols != sqlite3_column_count(b)) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                             "table %s: %d columns in %s but %d in %s: the schemas differ", t->name,
                             cols - 1, sa->path, sqlite3_column_count(b) - 1, sb->path);
        goto done;
    }
    for (int c = 1; c < cols; c++) {
        const char *na = sqlite3_column_name(a, c), *nb = sqlite3_column_name(b, c);
        if (na == NULL || nb == NULL || strcmp(na, nb) != 0) {
            rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                                 "table %s: column %d is %s in %s but %s in %s: the schemas differ",
                                 t->name, c, na != NULL ? na : "?", sa->path, nb != NULL ? nb : "?",
                                 sb->path);
            goto done;
        }
    }
    for (uint64_t row = 0; row < COMPARE_ROWS_MAX; row++) {
        int ra = sqlite3_step(a), rb = sqlite3_step(b);
        if (ra != SQLITE_ROW && ra != SQLITE_DONE) {
            rc = tandem_store_sql_error(sa, ra, t->name, diag);
            goto done;
        }
        if (rb != SQLITE_ROW && rb != SQLITE_DONE) {
            rc = tandem_store_sql_error(sb, rb, t->name, diag);
            goto done;
        }
        if (ra == SQLITE_DONE && rb == SQLITE_DONE) {
            break;
        }
        if (ra != rb || sqlite3_column_int64(a, 0) != sqlite3_column_int64(b, 0)) {
            /* The smaller key is the row the other store lacks. */
            bool only_a = rb == SQLITE_DONE || (ra == SQLITE_ROW && sqlite3_column_int64(a, 0) <
                                                                        sqlite3_column_int64(b, 0));
            rc = differ(report, diag, "table %s: row %s %lld only in %s", t->name, t->key,
                        (long long)sqlite3_column_int64(only_a ? a : b, 0), only_a ? "A" : "B");
            goto done;
        }
        for (int c = 2; c < cols; c++) {
            if (!column_equal(a, b, c)) {
                char va[128], vb[128];
                value_text(a, c, va, sizeof(va));
                value_text(b, c, vb, sizeof(vb));
                rc = differ(report, diag, "table %s: row %s %lld: column %s: %s vs %s", t->name,
                            t->key, (long long)sqlite3_column_int64(a, 0),
                            sqlite3_column_name(a, c), va, vb);
                goto done;
            }
        }
    }
done:
    sqlite3_finalize(b);
    sqlite3_finalize(a);
    return rc;
}

int tandem_store_compare(const char *path_a, const char *path_b, FILE *report, tandem_diag *diag)
{
    TANDEM_ASSERT(path_a != NULL && path_b != NULL);
    tandem_store *sa = NULL, *sb = NULL;
    int rc = tandem_store_open(path_a, true, &sa, diag);
    if (rc != 0) {
        goto done;
    }
    rc = tandem_store_open(path_b, true, &sb, diag);
    if (rc != 0) {
        goto close_a;
    }
    for (unsigned i = 0; rc == 0 && i < tandem_store_table_count; i++) {
        rc = compare_table(sa, sb, &tandem_store_tables[i], report, diag);
    }
    tandem_store_close(sb);
close_a:
    tandem_store_close(sa);
done:
    TANDEM_ASSERT(rc == 0 || diag == NULL || diag->code == rc);
    return rc;
}

/* A column value as JSON; text that is not UTF-8 becomes {"hex": "..."}. */
static json_t *value_json(sqlite3_stmt *st, int col)
{
    TANDEM_ASSERT(st != NULL && col >= 0);
    TANDEM_ASSERT(col < sqlite3_column_count(st));
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));
    default: {
        const unsigned char *p = sqlite3_column_blob(st, col);
        size_t len = (size_t)sqlite3_column_bytes(st, col);
        json_t *s = json_stringn(len > 0 ? (const char *)p : "", len);
        if (s != NULL) {
            return s;
        }
        char *hex = malloc(len * 2 + 1);
        if (hex == NULL) {
            return NULL;
        }
        for (size_t i = 0; i < len; i++) {
            snprintf(hex + i * 2, 3, "%02x", p[i]);
        }
        hex[len * 2] = 0;
        json_t *o = json_pack("{s:s}", "hex", hex);
        free(hex);
        return o;
    }
    }
}

static int dump_table(tandem_store *s, const tandem_store_table *t, FILE *out, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && t != NULL && out != NULL);
    sqlite3_stmt *st = NULL;
    int rc = prepare_table(s, t, &st, diag);
    if (rc != 0) {
        return rc;
    }
    int cols = sqlite3_column_count(st);
    for (uint64_t row = 0; rc == 0 && row < COMPARE_ROWS_MAX; row++) {
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE) {
            break;
        }
        if (src != SQLITE_ROW) {
            rc = tandem_store_sql_error(s, src, t->name, diag);
            break;
        }
        json_t *o = json_object();
        int bad = o == NULL || json_object_set_new(o, "table", json_string(t->name)) != 0;
        for (int c = 1; !bad && c < cols; c++) {
            bad = json_object_set_new(o, sqlite3_column_name(st, c), value_json(st, c)) != 0;
        }
        char *line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (line == NULL) {
            rc = tandem_diag_set(diag, TANDEM_ENOMEM, "dump %s: out of memory", t->name);
            break;
        }
        if (fprintf(out, "%s\n", line) < 0) {
            rc = tandem_diag_set(diag, TANDEM_EIO, "dump %s: write failed", t->name);
        }
        free(line);
    }
    sqlite3_finalize(st);
    return rc;
}

int tandem_store_dump(const char *path, FILE *out, tandem_diag *diag)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    tandem_store *s = NULL;
    int rc = tandem_store_open(path, true, &s, diag);
    if (rc != 0) {
        return rc;
    }
    for (unsigned i = 0; rc == 0 && i < tandem_store_table_count; i++) {
        rc = dump_table(s, &tandem_store_tables[i], out, diag);
    }
    tandem_store_close(s);
    TANDEM_ASSERT(rc == 0 || diag == NULL || diag->code == rc);
    return rc;
}
