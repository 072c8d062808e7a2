/*
 * test_store.c — the SQLite secondary store: schema and migrations, refusal
 * of newer and damaged files, read-only handles, and (below) the mapping of a
 * real engine workload to rows with idempotent re-export.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "export/store.h"
#include "test.h"

static void store_path(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", test_tmpdir(), name);
    CHECK(n > 0 && (size_t)n < size);
}

static tandem_store *open_rw(const char *path)
{
    tandem_store *s = NULL;
    tandem_diag d = {0};
    int rc = tandem_store_open(path, false, &s, &d);
    CHECK_MSG(rc == 0, "open %s: %s", path, d.message);
    return s;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    CHECK_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_create_and_reopen(void)
{
    char path[512];
    store_path(path, sizeof(path), "a.db");
    tandem_store *s = open_rw(path);
    sqlite3 *db = tandem_store_db(s);
    CHECK_EQ_U64(TANDEM_STORE_SCHEMA_VERSION, query_int(db, "SELECT version FROM schema_version"));
    CHECK_EQ_U64(1, query_int(db, "SELECT count(*) FROM schema_version"));
    CHECK_EQ_U64(2, query_int(db, "PRAGMA synchronous")); /* FULL */
    CHECK_EQ_U64(0, query_int(db, "PRAGMA foreign_keys"));
    const char *tables[] = {"exporter_position", "process_definition", "process_instance",
                            "element_instance",  "variable",           "job",
                            "incident"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 tables[i]);
        CHECK_MSG(query_int(db, sql) == 1, "table %s missing", tables[i]);
    }
    uint64_t pos = 99;
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(0, pos);
    CHECK_OK(tandem_store_set_position(s, "sqlite", 1, 42, NULL));
    tandem_store_close(s);

    s = open_rw(path); /* reopening migrates nothing and keeps the data */
    db = tandem_store_db(s);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STREQ("wal", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(42, pos);
    CHECK_OK(tandem_store_position(s, "sqlite", 2, &pos, NULL));
    CHECK_EQ_U64(0, pos);
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EINVAL, tandem_store_position(s, "", 1, &pos, &d));
    CHECK_CONTAINS(d.message, "exporter id");
    tandem_store_close(s);
}

static void test_newer_version_refused(void)
{
    char path[512];
    store_path(path, sizeof(path), "newer.db");
    tandem_store *s = open_rw(path);
    CHECK(sqlite3_exec(tandem_store_db(s), "UPDATE schema_version SET version = 7", NULL, NULL,
                       NULL) == SQLITE_OK);
    tandem_store_close(s);
    for (int ro = 0; ro < 2; ro++) {
        tandem_diag d = {0};
        s = NULL;
        CHECK_RC(TANDEM_EFORMAT, tandem_store_open(path, ro != 0, &s, &d));
        CHECK(s == NULL);
        CHECK_CONTAINS(d.message, "schema version 7 is newer than this build's 1");
        CHECK_CONTAINS(d.message, path);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static void test_garbage_refused(void)
{
    char path[512];
    store_path(path, sizeof(path), "garbage.db");
    char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (char)(i * 7 + 3);
    }
    write_file(path, junk, sizeof(junk));
    for (int ro = 0; ro < 2; ro++) {
        tandem_store *s = NULL;
        tandem_diag d = {0};
        CHECK_RC(TANDEM_ECORRUPT, tandem_store_open(path, ro != 0, &s, &d));
        CHECK(s == NULL);
        CHECK_CONTAINS(d.message, "not a SQLite database");
    }

    /* A SQLite database of something else is not a store either. */
    store_path(path, sizeof(path), "other.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    tandem_store *s = NULL;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_open(path, false, &s, &d));
    CHECK_CONTAINS(d.message, "not a store");

    /* A SQLite header followed by damage. */
    store_path(path, sizeof(path), "torn.db");
    s = open_rw(path);
    tandem_store_close(s);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    CHECK(fseek(f, 100, SEEK_SET) == 0);
    CHECK(fwrite(junk, 1, 3000, f) == 3000);
    CHECK(fclose(f) == 0);
    d = (tandem_diag){0};
    int rc = tandem_store_open(path, false, &s, &d);
    CHECK_MSG(rc == TANDEM_ECORRUPT, "%s: %s", tandem_errname(rc), d.message);
}

static void test_read_only(void)
{
    char path[512];
    store_path(path, sizeof(path), "missing.db");
    tandem_store *s = NULL;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ENOENT, tandem_store_open(path, true, &s, &d));
    CHECK_CONTAINS(d.message, "missing.db");

    store_path(path, sizeof(path), "ro.db");
    s = open_rw(path);
    CHECK_OK(tandem_store_set_position(s, "x", 1, 5, NULL));
    tandem_store_close(s);
    CHECK_OK(tandem_store_open(path, true, &s, &d));
    CHECK_RC(TANDEM_EACCES, tandem_store_set_position(s, "x", 1, 6, &d));
    CHECK_CONTAINS(d.message, "read-only");
    CHECK_RC(TANDEM_EACCES, tandem_store_export(s, "x", 1, NULL, 0, &d));
    /* Not even raw SQL through the borrowed connection writes. */
    CHECK(sqlite3_exec(tandem_store_db(s), "DELETE FROM exporter_position", NULL, NULL, NULL) !=
          SQLITE_OK);
    uint64_t pos = 0;
    CHECK_OK(tandem_store_position(s, "x", 1, &pos, NULL));
    CHECK_EQ_U64(5, pos);
    tandem_store_close(s);
}

static const tandem_test cases[] = {
    {"create_and_reopen", test_create_and_reopen},
    {"newer_version_refused", test_newer_version_refused},
    {"garbage_refused", test_garbage_refused},
    {"read_only", test_read_only},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
