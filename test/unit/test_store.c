/*
 * test_store.c — the SQLite secondary store: schema and migrations, refusal
 * of newer and damaged files, read-only handles, and (below) the mapping of a
 * real engine workload to rows with idempotent re-export.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"
#include "export/store.h"
#include "test_engine_harness.h"

/* Out of memory in the store's model cache: strndup (used only there in the
 * store; libxml2, jansson and SQLite have their own) fails while set. */
static bool fail_strndup;

char *strndup(const char *src, size_t n)
{
    if (fail_strndup) {
        return NULL;
    }
    size_t len = strnlen(src, n);
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, src, len);
        copy[len] = 0;
    }
    return copy;
}

static void store_path(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", test_tmpdir(), name);
    CHECK(n > 0 && (size_t)n < size);
}

static void remove_store(const char *path)
{
    char side[600];
    CHECK(remove(path) == 0);
    snprintf(side, sizeof(side), "%s-wal", path);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    remove(side);
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

/* ---- A real engine workload ------------------------------------------------ */

#define ORDER_XML                                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">\n"                              \
    "<bpmn:process id=\"order\" name=\"Order process\" isExecutable=\"true\">\n"                   \
    "<bpmn:startEvent id=\"start\"/>\n"                                                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"charge\"/>\n"                    \
    "<bpmn:serviceTask id=\"charge\" name=\"Charge card\">\n"                                      \
    "<bpmn:extensionElements><zeebe:taskDefinition type=\"charge-card\" retries=\"2\"/>"           \
    "<zeebe:taskHeaders><zeebe:header key=\"currency\" value=\"EUR\"/></zeebe:taskHeaders>"        \
    "</bpmn:extensionElements>\n"                                                                  \
    "</bpmn:serviceTask>\n"                                                                        \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"charge\" targetRef=\"end\"/>\n"                      \
    "<bpmn:endEvent id=\"end\" name=\"Done\"/>\n"                                                  \
    "</bpmn:process>\n"                                                                            \
    "</bpmn:definitions>\n"

/* What the workload did, for the row checks. */
typedef struct workload {
    harness h;
    uint64_t def_key;
    /* completed, incident then cancelled, cancelled, open incident, timed out */
    uint64_t pi[5];
    uint64_t job[5]; /* the charge job of each (job[2] only created) */
    tandem_record *records;
    const tandem_record **ptrs;
    size_t count;
} workload;

static uint64_t first_key(const tandem_engine_output *out, uint8_t value_type, uint16_t intent)
{
    return out->records[find_rec(out, TANDEM_RECORD_EVENT, value_type, intent, 0)].key;
}

static void start_pi(workload *w, int i, const char *vars)
{
    w->h.now_ms += 1000;
    const tandem_engine_output *out =
        create_pi(&w->h, "order", -1, TANDEM_KEY_NONE, vars, false, NULL);
    w->pi[i] = first_key(out, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                         TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED);
    w->job[i] = first_key(out, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_CREATED);
}

static void activate_one(workload *w)
{
    w->h.now_ms += 1000;
    const tandem_engine_output *out = activate(&w->h, "charge-card", 1, 60000, NULL);
    uint64_t keys[4];
    tandem_job_value jobs[4];
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
}

/* Deploy; PI 0 completes; PI 1 fails twice into an incident, gets retries,
 * and is cancelled (the incident resolves); PI 2 is cancelled before its job
 * is activated; PI 3 stays with an open incident. */
static void workload_run(workload *w)
{
    memset(w, 0, sizeof(*w));
    harness_init(&w->h);
    const tandem_engine_output *out = deploy1(&w->h, "order.bpmn", ORDER_XML);
    w->def_key = first_key(out, TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED);

    start_pi(w, 0, "{\"amount\":10}");
    activate_one(w);
    w->h.now_ms += 1000;
    complete(&w->h, w->job[0], "{\"paid\":true}");

    start_pi(w, 1, "{\"amount\":20,\"note\":\"x\"}");
    activate_one(w);
    w->h.now_ms += 1000;
    fail(&w->h, w->job[1], 1, 0, "card declined");
    activate_one(w);
    w->h.now_ms += 1000;
    fail(&w->h, w->job[1], 0, 0, "card declined again");
    tandem_job_value upd;
    tandem_job_value_init(&upd);
    upd.retries = 3;
    w->h.now_ms += 1000;
    job_cmd(&w->h, TANDEM_INTENT_JOB_UPDATE_RETRIES, w->job[1], &upd);
    w->h.now_ms += 1000;
    cancel(&w->h, w->pi[1]);

    start_pi(w, 2, NULL);
    w->h.now_ms += 1000;
    cancel(&w->h, w->pi[2]);

    start_pi(w, 3, "{\"amount\":40}");
    activate_one(w);
    w->h.now_ms += 1000;
    fail(&w->h, w->job[3], 0, 0, "");

    /* PI 4: the job times out, then gets new retries. */
    start_pi(w, 4, NULL);
    activate_one(w);
    w->h.now_ms += 61000;
    tandem_record cmds[2];
    tandem_buf values[2] = {TANDEM_BUF_INIT, TANDEM_BUF_INIT};
    int64_t next = 0;
    CHECK_EQ_U64(1, due(&w->h, cmds, values, 2, &next));
    CHECK_EQ_U64(TANDEM_INTENT_JOB_TIME_OUT, cmds[0].intent);
    process(&w->h, &cmds[0]);
    CHECK_STREQ("E JOB TIMED_OUT\n", w->h.trace);
    tandem_buf_free(&values[0]);
    tandem_buf_free(&values[1]);
    w->h.now_ms += 1000;
    upd.retries = 5;
    job_cmd(&w->h, TANDEM_INTENT_JOB_UPDATE_RETRIES, w->job[4], &upd);

    /* The log as the exporter sees it: every record, commands included. */
    w->count = w->h.log_count;
    w->records = calloc(w->count, sizeof(*w->records));
    w->ptrs = calloc(w->count, sizeof(*w->ptrs));
    CHECK(w->records != NULL && w->ptrs != NULL);
    tandem_reader rd;
    tandem_reader_init(&rd, w->h.log.data, w->h.log.len);
    for (size_t i = 0; i < w->count; i++) {
        uint64_t pos = tandem_read_u64(&rd);
        uint32_t len = tandem_read_u32(&rd);
        const uint8_t *bytes = tandem_read_bytes(&rd, len);
        CHECK(!rd.failed);
        tandem_diag d = {0};
        CHECK_MSG(tandem_record_decode(bytes, len, &w->records[i], &d) == 0, "%s", d.message);
        w->records[i].position = pos;
        w->ptrs[i] = &w->records[i];
    }
    CHECK_EQ_U64(0, tandem_reader_left(&rd));
}

static void workload_free(workload *w)
{
    free(w->records);
    free(w->ptrs);
    harness_free(&w->h);
}

static void export_range(tandem_store *s, const char *id, const workload *w, size_t from, size_t to)
{
    CHECK(from <= to && to <= w->count);
    tandem_diag d = {0};
    int rc = tandem_store_export(s, id, 1, w->ptrs + from, to - from, &d);
    CHECK_MSG(rc == 0, "export [%zu, %zu): %s", from, to, d.message);
}

/* A store at path holding the whole workload, exported in one call. */
static void export_all(const char *path, const workload *w)
{
    tandem_store *s = open_rw(path);
    export_range(s, "sqlite", w, 0, w->count);
    tandem_store_close(s);
}

static void check_equal(const char *a, const char *b)
{
    tandem_diag d = {0};
    int rc = tandem_store_compare(a, b, NULL, &d);
    CHECK_MSG(rc == 0, "%s vs %s: %s", a, b, d.message);
}

/* Runs sql with ?1 = k1 and ?2 = k2 and returns its one row. */
static sqlite3_stmt *row(sqlite3 *db, const char *sql, uint64_t k1, uint64_t k2)
{
    sqlite3_stmt *st = NULL;
    CHECK_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)k1);
    }
    if (n >= 2) {
        sqlite3_bind_int64(st, 2, (sqlite3_int64)k2);
    }
    CHECK_MSG(sqlite3_step(st) == SQLITE_ROW, "no row: %s", sql);
    return st;
}

static int64_t row_int(sqlite3 *db, const char *sql, uint64_t key)
{
    sqlite3_stmt *st = row(db, sql, key, 0);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void row_text2(sqlite3 *db, const char *sql, uint64_t k1, uint64_t k2, char *out,
                      size_t size)
{
    sqlite3_stmt *st = row(db, sql, k1, k2);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t != NULL ? (const char *)t : "NULL");
    sqlite3_finalize(st);
}

#define CHECK_ROW_TEXT(db, expected, fmt, key)                                                     \
    do {                                                                                           \
        char text_[4096];                                                                          \
        row_text2((db), (fmt), (key), 0, text_, sizeof(text_));                                    \
        CHECK_STREQ((expected), text_);                                                            \
    } while (0)

static void check_definition_rows(sqlite3 *db, const workload *w)
{
    CHECK_EQ_U64(1, query_int(db, "SELECT count(*) FROM process_definition"));
#define PD(expr) "SELECT " expr " FROM process_definition WHERE process_definition_key = ?1"
    CHECK_ROW_TEXT(db, "Order process", PD("name"), w->def_key);
    CHECK_ROW_TEXT(db, "order 1 order.bpmn <default>",
                   PD("process_definition_id || ' ' || version || ' ' || resource_name || ' ' || "
                      "tenant_id"),
                   w->def_key);
    CHECK_ROW_TEXT(db, ORDER_XML, PD("xml"), w->def_key);
    CHECK_EQ_U64(1,
                 row_int(db, PD("version_tag IS NULL AND deployment_key IS NOT NULL"), w->def_key));
#undef PD
}

static void check_instance_rows(sqlite3 *db, const workload *w)
{
    const char *pi = "SELECT state || ' ' || has_incident || ' ' || (end_date IS NULL) || ' ' ||"
                     " process_definition_id || ' ' || process_definition_version || ' ' ||"
                     " partition_id FROM process_instance WHERE process_instance_key = ?1";
    CHECK_ROW_TEXT(db, "COMPLETED 0 0 order 1 1", pi, w->pi[0]);
    CHECK_ROW_TEXT(db, "TERMINATED 0 0 order 1 1", pi, w->pi[1]);
    CHECK_ROW_TEXT(db, "TERMINATED 0 0 order 1 1", pi, w->pi[2]);
    CHECK_ROW_TEXT(db, "ACTIVE 1 1 order 1 1", pi, w->pi[3]);
    CHECK_EQ_U64(T0_MS + 1000, row_int(db,
                                       "SELECT start_date FROM process_instance WHERE "
                                       "process_instance_key = ?1",
                                       w->pi[0]));
    CHECK_EQ_U64(T0_MS + 3000, row_int(db,
                                       "SELECT end_date FROM process_instance WHERE "
                                       "process_instance_key = ?1",
                                       w->pi[0]));
    /* Elements: the process itself, start, task, end; names from the BPMN,
     * the id for the start event, which has none. */
    const char *ei = "SELECT group_concat(type || ':' || element_id || ':' ||"
                     " coalesce(element_name, '-') || ':' || state || ':' || has_incident, ' ')"
                     " FROM (SELECT * FROM element_instance WHERE process_instance_key = ?1"
                     " ORDER BY element_instance_key)";
    CHECK_ROW_TEXT(db,
                   "PROCESS:order:Order process:COMPLETED:0 START_EVENT:start:start:COMPLETED:0 "
                   "SERVICE_TASK:charge:Charge card:COMPLETED:0 END_EVENT:end:Done:COMPLETED:0",
                   ei, w->pi[0]);
    CHECK_ROW_TEXT(db,
                   "PROCESS:order:Order process:TERMINATED:0 START_EVENT:start:start:COMPLETED:0 "
                   "SERVICE_TASK:charge:Charge card:TERMINATED:0",
                   ei, w->pi[1]);
    CHECK_ROW_TEXT(db,
                   "PROCESS:order:Order process:ACTIVE:0 START_EVENT:start:start:COMPLETED:0 "
                   "SERVICE_TASK:charge:Charge card:ACTIVE:1",
                   ei, w->pi[3]);
    /* The element with the incident names it; the process row does not. */
    CHECK_EQ_U64(1, row_int(db,
                            "SELECT count(*) FROM element_instance e JOIN incident i ON"
                            " e.incident_key = i.incident_key WHERE e.process_instance_key = ?1"
                            " AND e.element_id = 'charge' AND i.state = 'ACTIVE'",
                            w->pi[3]));
}

static void check_job_rows(sqlite3 *db, const workload *w)
{
    const char *job = "SELECT state || ' ' || retries || ' ' || coalesce(worker, '-') || ' ' ||"
                      " (end_time IS NOT NULL) || ' ' || coalesce(error_message, '-') || ' ' ||"
                      " has_failed_with_retries_left || ' ' || type || ' ' || custom_headers ||"
                      " ' ' || kind || ' ' || element_id FROM job WHERE job_key = ?1";
    CHECK_ROW_TEXT(
        db, "COMPLETED 2 worker-1 1 - 0 charge-card {\"currency\":\"EUR\"} BPMN_ELEMENT charge",
        job, w->job[0]);
    CHECK_ROW_TEXT(db,
                   "CANCELED 3 worker-1 1 card declined again 0 charge-card {\"currency\":\"EUR\"} "
                   "BPMN_ELEMENT charge",
                   job, w->job[1]);
    CHECK_ROW_TEXT(db, "CANCELED 2 - 1 - 0 charge-card {\"currency\":\"EUR\"} BPMN_ELEMENT charge",
                   job, w->job[2]);
    CHECK_ROW_TEXT(db,
                   "FAILED 0 worker-1 0 - 0 charge-card {\"currency\":\"EUR\"} "
                   "BPMN_ELEMENT charge",
                   job, w->job[3]);
    CHECK_ROW_TEXT(db,
                   "RETRIES_UPDATED 5 worker-1 0 - 0 charge-card {\"currency\":\"EUR\"} "
                   "BPMN_ELEMENT charge",
                   job, w->job[4]);
    CHECK_EQ_U64(5, query_int(db, "SELECT count(*) FROM job"));
    /* Activation set a deadline; the timeout cleared it. */
    CHECK_EQ_U64(1, row_int(db, "SELECT deadline IS NULL FROM job WHERE job_key = ?1", w->job[4]));
    CHECK_EQ_U64(1, row_int(db, "SELECT deadline IS NULL FROM job WHERE job_key = ?1", w->job[2]));
    CHECK_EQ_U64(T0_MS + 2000 + 60000,
                 row_int(db, "SELECT deadline FROM job WHERE job_key = ?1", w->job[0]));
}

static void check_incident_and_variable_rows(sqlite3 *db, const workload *w)
{
    const char *inc = "SELECT group_concat(state || ' ' || error_type || ' ' || error_message ||"
                      " ' ' || element_id || ' ' || (job_key = ?1), ';') FROM incident"
                      " WHERE process_instance_key = ?2";
    char text[512];
    row_text2(db, inc, w->job[1], w->pi[1], text, sizeof(text));
    CHECK_STREQ("RESOLVED JOB_NO_RETRIES card declined again charge 1", text);
    row_text2(db, inc, w->job[3], w->pi[3], text, sizeof(text));
    CHECK_STREQ("ACTIVE JOB_NO_RETRIES No more retries left. charge 1", text);
    CHECK_EQ_U64(2, query_int(db, "SELECT count(*) FROM incident"));

    const char *var = "SELECT group_concat(name || '=' || value, ' ') FROM (SELECT * FROM variable"
                      " WHERE process_instance_key = ?1 AND scope_key = process_instance_key"
                      " ORDER BY name)";
    CHECK_ROW_TEXT(db, "amount=10 paid=true", var, w->pi[0]);
    CHECK_ROW_TEXT(db, "amount=20 note=\"x\"", var, w->pi[1]);
    CHECK_EQ_U64(
        0, row_int(db, "SELECT count(*) FROM variable WHERE process_instance_key = ?1", w->pi[2]));
}

static void test_workload_rows(void)
{
    workload w;
    workload_run(&w);
    char path[512];
    store_path(path, sizeof(path), "rows.db");
    tandem_store *s = open_rw(path);
    export_range(s, "sqlite", &w, 0, w.count);
    tandem_store_stats st = tandem_store_get_stats(s);
    CHECK(st.records_applied > 0);
    CHECK(st.records_not_mapped > 0); /* the commands, DEPLOYMENT CREATED, ... */
    CHECK_EQ_U64(0, st.records_undecodable);
    CHECK_EQ_U64(1, st.transactions);
    uint64_t pos = 0;
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(w.records[w.count - 1].position, pos);
    sqlite3 *db = tandem_store_db(s);
    check_definition_rows(db, &w);
    check_instance_rows(db, &w);
    check_job_rows(db, &w);
    check_incident_and_variable_rows(db, &w);
    tandem_store_close(s);
    workload_free(&w);
}

static void dump_to(const char *path, char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    CHECK(f != NULL);
    tandem_diag d = {0};
    int rc = tandem_store_dump(path, f, &d);
    CHECK_MSG(rc == 0, "dump %s: %s", path, d.message);
    CHECK(fclose(f) == 0);
}

static void test_reexport_idempotent(void)
{
    workload w;
    workload_run(&w);
    char a[512], b[512];
    store_path(a, sizeof(a), "a.db");
    store_path(b, sizeof(b), "b.db");
    export_all(a, &w);
    export_all(b, &w);
    tandem_store *s = open_rw(b);
    /* The same exporter again: everything is at or below its position. */
    export_range(s, "sqlite", &w, 0, w.count);
    CHECK_EQ_U64(w.count, tandem_store_get_stats(s).records_skipped_old);
    CHECK_EQ_U64(0, tandem_store_get_stats(s).records_applied);
    /* The position set back (a new leader resuming from an older one, or
     * initializeFrom): the row guards alone keep every row as it is. */
    CHECK_OK(tandem_store_set_position(s, "sqlite", 1, 0, NULL));
    export_range(s, "sqlite", &w, 0, w.count);
    CHECK_EQ_U64(0, tandem_store_get_stats(s).records_applied);
    tandem_store_close(s);
    check_equal(a, b);

    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, test_seed());
    uint64_t rounds = test_iterations(40);
    s = open_rw(b);
    for (uint64_t i = 0; i < rounds; i++) {
        size_t from = (size_t)tandem_rand_below(&rnd.base, w.count);
        size_t to = from + 1 + (size_t)tandem_rand_below(&rnd.base, w.count - from);
        const char *id = tandem_rand_chance(&rnd.base, 1, 2) ? "sqlite" : "other";
        CHECK_OK(tandem_store_set_position(s, id, 1, 0, NULL));
        export_range(s, id, &w, from, to);
    }
    CHECK_EQ_U64(0, tandem_store_get_stats(s).records_applied);
    tandem_store_close(s);
    check_equal(a, b);

    /* Equal stores dump to the same bytes; the dump holds every table. */
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    dump_to(a, &da, &la);
    dump_to(b, &db, &lb);
    CHECK(la == lb && memcmp(da, db, la) == 0);
    CHECK_CONTAINS(da, "{\"table\":\"process_definition\",\"process_definition_key\":");
    CHECK_CONTAINS(da, "\"name\":\"Order process\"");
    CHECK_CONTAINS(da, "{\"table\":\"incident\",");
    CHECK_CONTAINS(da, "\"value\":\"\\\"x\\\"\"");
    free(da);
    free(db);
    workload_free(&w);
}

/* Any split of the log into two exports, and a resume from any earlier
 * position after the split (a crash after the first commit), give the store
 * of a single export. */
static void test_split_everywhere(void)
{
    workload w;
    workload_run(&w);
    char a[512], c[512];
    store_path(a, sizeof(a), "whole.db");
    export_all(a, &w);
    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, test_seed());
    for (size_t k = 1; k < w.count; k++) {
        store_path(c, sizeof(c), "split.db");
        tandem_store *s = open_rw(c);
        export_range(s, "sqlite", &w, 0, k);
        size_t resume = (size_t)tandem_rand_below(&rnd.base, k + 1);
        export_range(s, "sqlite", &w, resume, w.count);
        tandem_store_close(s);
        check_equal(a, c);
        remove_store(c);
    }
    /* One record per transaction. */
    store_path(c, sizeof(c), "ones.db");
    tandem_store *s = open_rw(c);
    for (size_t i = 0; i < w.count; i++) {
        export_range(s, "sqlite", &w, i, i + 1);
    }
    CHECK_EQ_U64(w.count, tandem_store_get_stats(s).transactions);
    tandem_store_close(s);
    check_equal(a, c);
    workload_free(&w);
}

static void test_compare_names_difference(void)
{
    workload w;
    workload_run(&w);
    char a[512], b[512];
    store_path(a, sizeof(a), "a.db");
    store_path(b, sizeof(b), "b.db");
    export_all(a, &w);
    export_all(b, &w);
    tandem_store *s = open_rw(b);
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE job SET state = 'FAILED' WHERE job_key = %llu",
             (unsigned long long)w.job[0]);
    CHECK(sqlite3_exec(tandem_store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(s);
    char *report = NULL;
    size_t report_len = 0;
    FILE *f = open_memstream(&report, &report_len);
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EMISMATCH, tandem_store_compare(a, b, f, &d));
    CHECK(fclose(f) == 0);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "table job: row job_key %llu: column state: 'COMPLETED' vs 'FAILED'",
             (unsigned long long)w.job[0]);
    CHECK_STREQ(expected, d.message);
    CHECK_CONTAINS(report, expected);
    free(report);

    s = open_rw(b);
    snprintf(sql, sizeof(sql), "DELETE FROM variable WHERE name = 'paid'");
    CHECK(sqlite3_exec(tandem_store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(s);
    CHECK_RC(TANDEM_EMISMATCH, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table variable: row variable_key ");
    CHECK_CONTAINS(d.message, " only in A");
    /* The exporter position is not data. */
    CHECK_OK(tandem_store_open(a, false, &s, NULL));
    CHECK_OK(tandem_store_set_position(s, "sqlite", 1, 1, NULL));
    tandem_store_close(s);
    CHECK_RC(TANDEM_EMISMATCH, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table variable");
    char missing[512];
    store_path(missing, sizeof(missing), "none.db");
    CHECK_RC(TANDEM_ENOENT, tandem_store_compare(a, missing, NULL, &d));
    CHECK_CONTAINS(d.message, "none.db");
    workload_free(&w);
}

static tandem_record event(uint64_t position, uint8_t value_type, uint16_t intent,
                           const tandem_buf *value)
{
    tandem_record r;
    tandem_record_init(&r);
    r.position = position;
    r.key = tandem_key_encode(1, position);
    r.timestamp_ms = T0_MS;
    r.partition_id = 1;
    r.record_type = TANDEM_RECORD_EVENT;
    r.value_type = value_type;
    r.intent = intent;
    r.value = value->data;
    r.value_len = value->len;
    return r;
}

static void test_unknown_and_bad_batches(void)
{
    char path[512];
    store_path(path, sizeof(path), "odd.db");
    tandem_store *s = open_rw(path);
    tandem_buf empty = TANDEM_BUF_INIT, junk = TANDEM_BUF_INIT, var = TANDEM_BUF_INIT;
    CHECK_OK(tandem_buf_append(&junk, "\xff\xff\xff", 3));
    tandem_variable_value vv;
    tandem_variable_value_init(&vv);
    vv.name = tandem_sv_of("v");
    vv.value = tandem_sv_of("1");
    vv.scope_key = tandem_key_encode(1, 100);
    vv.process_instance_key = vv.scope_key;
    CHECK_OK(tandem_variable_value_encode(&vv, &var));
    tandem_record recs[6] = {
        event(1, 199, 0, &empty),                                               /* unknown type */
        event(2, TANDEM_VALUE_JOB, 99, &empty),                                 /* unknown intent */
        event(3, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, &junk), /* damaged */
        event(4, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, &var),
        event(5, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, &var),
        event(6, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, &var),
    };
    recs[4].record_type = TANDEM_RECORD_COMMAND;
    recs[5].record_type = TANDEM_RECORD_COMMAND_REJECTION;
    recs[5].rejection_type = TANDEM_REJECTION_INVALID_STATE;
    const tandem_record *ptrs[6];
    for (int i = 0; i < 6; i++) {
        ptrs[i] = &recs[i];
    }
    tandem_log_set_level(TANDEM_LOG_ERROR); /* the damaged value is logged */
    tandem_diag d = {0};
    CHECK_OK(tandem_store_export(s, "sqlite", 1, ptrs, 6, &d));
    tandem_store_stats st = tandem_store_get_stats(s);
    CHECK_EQ_U64(1, st.records_applied);
    CHECK_EQ_U64(4, st.records_not_mapped);
    CHECK_EQ_U64(1, st.records_undecodable);
    CHECK_EQ_U64(1, query_int(tandem_store_db(s), "SELECT count(*) FROM variable"));
    uint64_t pos = 0;
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(6, pos);

    /* A record without the key of its row is skipped: a NULL key would make
     * SQLite invent one, and every re-export would add a row. */
    tandem_record keyless = event(7, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, &var);
    keyless.key = TANDEM_KEY_NONE;
    const tandem_record *kp = &keyless;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(tandem_store_set_position(s, "sqlite", 1, 0, NULL));
        CHECK_OK(tandem_store_export(s, "sqlite", 1, &kp, 1, &d));
    }
    CHECK_EQ_U64(3, tandem_store_get_stats(s).records_undecodable);
    CHECK_EQ_U64(1, query_int(tandem_store_db(s), "SELECT count(*) FROM variable"));
    CHECK_OK(tandem_store_set_position(s, "sqlite", 1, 6, NULL));

    /* Bad batches are refused whole, before anything is written. */
    recs[0].position = 10;
    recs[1].position = 9;
    CHECK_RC(TANDEM_EINVAL, tandem_store_export(s, "sqlite", 1, ptrs, 2, &d));
    CHECK_CONTAINS(d.message, "record positions must increase (9 after 10)");
    recs[1].position = 11;
    recs[1].partition_id = 2;
    CHECK_RC(TANDEM_EINVAL, tandem_store_export(s, "sqlite", 1, ptrs, 2, &d));
    CHECK_CONTAINS(d.message, "is of partition 2, not 1");
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(6, pos);
    char long_id[TANDEM_STORE_EXPORTER_ID_MAX_BYTES + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_store_export(s, long_id, 1, ptrs, 1, &d));
    CHECK_CONTAINS(d.message, "exporter id must be 1..128 bytes, got 129");
    CHECK_OK(tandem_store_export(s, "sqlite", 1, ptrs, 0, &d)); /* nothing to do */
    tandem_store_close(s);
    tandem_buf_free(&empty);
    tandem_buf_free(&junk);
    tandem_buf_free(&var);
}

/* A failed transaction leaves nothing behind and the batch can be retried. */
static void test_failed_export_rolls_back(void)
{
    workload w;
    workload_run(&w);
    char a[512], b[512];
    store_path(a, sizeof(a), "a.db");
    store_path(b, sizeof(b), "b.db");
    export_all(a, &w);
    tandem_store *s = open_rw(b);
    /* A trigger that fails the first job row stands in for a disk error. */
    CHECK(sqlite3_exec(tandem_store_db(s),
                       "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.job BEGIN"
                       " SELECT RAISE(ABORT, 'disk on fire'); END",
                       NULL, NULL, NULL) == SQLITE_OK);
    tandem_diag d = {0};
    int rc = tandem_store_export(s, "sqlite", 1, w.ptrs, w.count, &d);
    CHECK(rc != 0);
    CHECK_CONTAINS(d.message, "disk on fire");
    CHECK_CONTAINS(d.message, "write job");
    uint64_t pos = 1;
    CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
    CHECK_EQ_U64(0, pos);
    CHECK_EQ_U64(0, query_int(tandem_store_db(s), "SELECT count(*) FROM process_instance"));
    CHECK_EQ_U64(0, tandem_store_get_stats(s).records_applied);
    CHECK(sqlite3_exec(tandem_store_db(s), "DROP TRIGGER boom", NULL, NULL, NULL) == SQLITE_OK);
    export_range(s, "sqlite", &w, 0, w.count);
    tandem_store_close(s);
    check_equal(a, b);
    workload_free(&w);
}

/* Deployment distribution writes the same PROCESS CREATED on every
 * partition, at unrelated positions: the row ends the same whatever order
 * the partitions' exporters run in. */
static void test_definition_from_two_partitions(void)
{
    tandem_buf pv_buf = TANDEM_BUF_INIT;
    tandem_process_value pv;
    tandem_process_value_init(&pv);
    pv.bpmn_process_id = tandem_sv_of("order");
    pv.version = 1;
    pv.process_definition_key = tandem_key_encode(1, 2);
    pv.resource_name = tandem_sv_of("order.bpmn");
    pv.resource = tandem_sv_of(ORDER_XML);
    pv.tenant_id = tandem_sv_of("<default>");
    pv.deployment_key = tandem_key_encode(1, 1);
    CHECK_OK(tandem_process_value_encode(&pv, &pv_buf));
    tandem_record p1 = event(100, TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED, &pv_buf);
    tandem_record p2 = event(5, TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED, &pv_buf);
    p1.key = p2.key = pv.process_definition_key;
    p2.partition_id = 2;
    const tandem_record *r1 = &p1, *r2 = &p2;
    char a[512], b[512];
    store_path(a, sizeof(a), "p12.db");
    store_path(b, sizeof(b), "p21.db");
    tandem_store *s = open_rw(a);
    CHECK_OK(tandem_store_export(s, "sqlite", 1, &r1, 1, NULL));
    CHECK_OK(tandem_store_export(s, "sqlite", 2, &r2, 1, NULL));
    tandem_store_close(s);
    s = open_rw(b);
    CHECK_OK(tandem_store_export(s, "sqlite", 2, &r2, 1, NULL));
    CHECK_OK(tandem_store_export(s, "sqlite", 1, &r1, 1, NULL));
    CHECK_EQ_U64(100, query_int(tandem_store_db(s), "SELECT position FROM process_definition"));
    uint64_t pos = 0;
    CHECK_OK(tandem_store_position(s, "sqlite", 2, &pos, NULL));
    CHECK_EQ_U64(5, pos);
    tandem_store_close(s);
    check_equal(a, b);
    tandem_buf_free(&pv_buf);
}

/* An empty file (SQLite's empty database) is migrated by a writer and
 * refused by a reader until then. */
static void test_empty_file_migrated(void)
{
    char path[512];
    store_path(path, sizeof(path), "empty.db");
    write_file(path, "", 0);
    tandem_store *s = NULL;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EFORMAT, tandem_store_open(path, true, &s, &d));
    CHECK_CONTAINS(d.message, "schema version 0 is older than this build's 1");
    s = open_rw(path);
    CHECK_EQ_U64(1, query_int(tandem_store_db(s), "SELECT version FROM schema_version"));
    tandem_store_close(s);
    CHECK_OK(tandem_store_open(path, true, &s, &d));
    tandem_store_close(s);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void export_batches(tandem_store *s, const workload *w, size_t batch)
{
    for (size_t at = 0; at < w->count; at += batch) {
        size_t n = w->count - at < batch ? w->count - at : batch;
        if (tandem_store_export(s, "sqlite", 1, w->ptrs + at, n, NULL) != 0) {
            _exit(4);
        }
    }
}

/* kill -9 in the middle of exporting, then resume from the stored position:
 * the store equals one written without the crash, because the position is
 * committed with the rows it covers. */
static void test_kill_and_resume(void)
{
    workload w;
    workload_run(&w);
    char a[512], c[512];
    store_path(a, sizeof(a), "whole.db");
    store_path(c, sizeof(c), "crash.db");
    export_all(a, &w);
    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, test_seed());
    uint64_t rounds = test_iterations(8), midway = 0;
    for (uint64_t round = 0; round < rounds; round++) {
        size_t batch = 1 + (size_t)tandem_rand_below(&rnd.base, 4);
        /* How long one pass takes here, so the kill lands inside it. */
        double start = now_ms();
        tandem_store *s = open_rw(c);
        export_batches(s, &w, batch);
        tandem_store_close(s);
        double pass_ms = now_ms() - start;
        remove_store(c);

        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            tandem_store *cs = NULL;
            if (tandem_store_open(c, false, &cs, NULL) != 0) {
                _exit(3);
            }
            export_batches(cs, &w, batch);
            for (;;) {
                pause(); /* until killed */
            }
        }
        double delay_ms = pass_ms * (double)tandem_rand_below(&rnd.base, 1000) / 1000.0;
        usleep((useconds_t)(delay_ms * 1000.0));
        CHECK(kill(pid, SIGKILL) == 0);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFSIGNALED(status), "exporting child ended with %d before the kill", status);

        s = open_rw(c);
        uint64_t pos = 0;
        CHECK_OK(tandem_store_position(s, "sqlite", 1, &pos, NULL));
        size_t from = 0;
        while (from < w.count && w.records[from].position <= pos) {
            from++;
        }
        midway += from > 0 && from < w.count;
        export_range(s, "sqlite", &w, from, w.count);
        tandem_store_close(s);
        check_equal(a, c);
        remove_store(c);
    }
    printf("kill_and_resume: %" PRIu64 " of %" PRIu64 " kills landed mid-export\n", midway, rounds);
    workload_free(&w);
}

/* The search side reads through its own read-only handle while the exporter
 * writes: each query sees the last committed export, never a half batch. */
static void test_reader_beside_writer(void)
{
    workload w;
    workload_run(&w);
    char path[512];
    store_path(path, sizeof(path), "shared.db");
    tandem_store *wr = open_rw(path);
    size_t half = w.count / 2;
    export_range(wr, "sqlite", &w, 0, half);
    tandem_store *rd = NULL;
    tandem_diag d = {0};
    CHECK_MSG(tandem_store_open(path, true, &rd, &d) == 0, "%s", d.message);
    sqlite3 *db = tandem_store_db(rd);
    int64_t before = query_int(db, "SELECT count(*) FROM element_instance");
    CHECK(before > 0);
    /* A read transaction stays on its snapshot while the writer commits. */
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_U64(before, query_int(db, "SELECT count(*) FROM element_instance"));
    export_range(wr, "sqlite", &w, half, w.count);
    CHECK_EQ_U64(before, query_int(db, "SELECT count(*) FROM element_instance"));
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(query_int(db, "SELECT count(*) FROM element_instance") > before);
    CHECK_EQ_U64(5, query_int(db, "SELECT count(*) FROM process_instance"));
    tandem_store_close(rd);
    tandem_store_close(wr);
    workload_free(&w);
}

/* Writers that open one new file at the same moment: each reads the schema
 * version inside its migration transaction, so one migrates and the others
 * find the version current. */
typedef struct racer {
    const char *path;
    pthread_barrier_t *start;
    int rc;
    char message[512];
} racer;

static void *race_open(void *arg)
{
    racer *r = arg;
    tandem_diag d = {0};
    tandem_store *s = NULL;
    pthread_barrier_wait(r->start);
    r->rc = tandem_store_open(r->path, false, &s, &d);
    snprintf(r->message, sizeof(r->message), "%s", d.message);
    tandem_store_close(s);
    return NULL;
}

static void test_concurrent_first_open(void)
{
    enum { WRITERS = 4 };
    uint64_t rounds = test_iterations(12);
    for (unsigned round = 0; round < rounds; round++) {
        char path[512], name[64];
        snprintf(name, sizeof(name), "race-%u.db", round);
        store_path(path, sizeof(path), name);
        pthread_barrier_t start;
        CHECK(pthread_barrier_init(&start, NULL, WRITERS) == 0);
        racer rs[WRITERS];
        pthread_t threads[WRITERS];
        for (int i = 0; i < WRITERS; i++) {
            rs[i] = (racer){.path = path, .start = &start};
            CHECK(pthread_create(&threads[i], NULL, race_open, &rs[i]) == 0);
        }
        for (int i = 0; i < WRITERS; i++) {
            CHECK(pthread_join(threads[i], NULL) == 0);
            CHECK_MSG(rs[i].rc == 0, "round %u writer %d: %s", round, i, rs[i].message);
        }
        pthread_barrier_destroy(&start);
        tandem_store *s = open_rw(path);
        sqlite3 *db = tandem_store_db(s);
        CHECK_EQ_U64(1, query_int(db, "SELECT count(*) FROM schema_version"));
        CHECK_EQ_U64(TANDEM_STORE_SCHEMA_VERSION,
                     query_int(db, "SELECT version FROM schema_version"));
        tandem_store_close(s);
        remove_store(path);
    }
}

/* A statement a borrower of the connection forgot to finalize does not make
 * close abort; it is logged, and finalizing it later frees the connection. */
static void test_close_with_borrowed_statement(void)
{
    char path[512], logs[512];
    store_path(path, sizeof(path), "borrowed.db");
    store_path(logs, sizeof(logs), "borrowed.log");
    tandem_store *s = open_rw(path);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(tandem_store_db(s), "SELECT version FROM schema_version", -1, &st,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    FILE *sink = fopen(logs, "w+");
    CHECK(sink != NULL);
    tandem_log_set_sink(sink);
    tandem_store_close(s);
    tandem_log_set_sink(NULL);
    CHECK_EQ_U64(TANDEM_STORE_SCHEMA_VERSION, (uint64_t)sqlite3_column_int64(st, 0));
    CHECK(sqlite3_finalize(st) == SQLITE_OK);
    char line[1024] = {0};
    rewind(sink);
    CHECK(fread(line, 1, sizeof(line) - 1, sink) > 0);
    fclose(sink);
    CHECK_CONTAINS(line, "store: closed with statements not finalized");
    CHECK_CONTAINS(line, "borrowed.db");
    /* the file is whole: a new handle opens it */
    tandem_store_close(open_rw(path));
}

/* A file at schema version 1 whose table does not start with its key, or
 * lacks it, or whose columns differ from the other file's, is refused with
 * an error naming table and column, never an abort. */
static void test_compare_damaged_schema(void)
{
    char a[512], b[512];
    store_path(a, sizeof(a), "a.db");
    store_path(b, sizeof(b), "b.db");
    tandem_store_close(open_rw(a));
    tandem_store *s = open_rw(b);
    CHECK(sqlite3_exec(tandem_store_db(s),
                       "DROP TABLE job; CREATE TABLE job(type TEXT, job_key INTEGER PRIMARY KEY,"
                       " position INTEGER NOT NULL);"
                       "INSERT INTO job VALUES ('pay', 7, 1);",
                       NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(s);
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table job: the first column is type, not the key job_key");
    CHECK_CONTAINS(d.message, "b.db");
    /* as the first file too, and when both are alike */
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(b, a, NULL, &d));
    CHECK_CONTAINS(d.message, "table job: the first column is type, not the key job_key");
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(b, b, NULL, &d));
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_dump(b, stderr, &d));
    CHECK_CONTAINS(d.message, "table job: the first column is type");
    /* no key column at all */
    s = open_rw(b);
    CHECK(sqlite3_exec(tandem_store_db(s),
                       "DROP TABLE job; CREATE TABLE job(type TEXT, position INTEGER);", NULL, NULL,
                       NULL) == SQLITE_OK);
    tandem_store_close(s);
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table job has no key column job_key");
    /* the key first, but other columns than the other file's */
    s = open_rw(b);
    CHECK(sqlite3_exec(tandem_store_db(s),
                       "DROP TABLE job; CREATE TABLE job(job_key INTEGER PRIMARY KEY, typ TEXT,"
                       " worker TEXT, state TEXT, kind TEXT, listener_event_type TEXT,"
                       " retries INTEGER, deadline INTEGER, end_time INTEGER, error_code TEXT,"
                       " error_message TEXT, has_failed_with_retries_left INTEGER,"
                       " element_id TEXT, element_instance_key INTEGER,"
                       " process_instance_key INTEGER, process_definition_key INTEGER,"
                       " process_definition_id TEXT, custom_headers TEXT, tenant_id TEXT,"
                       " position INTEGER NOT NULL);",
                       NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(s);
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table job: column 2 is type in ");
    CHECK_CONTAINS(d.message, " but typ in ");
    s = open_rw(b);
    CHECK(sqlite3_exec(tandem_store_db(s),
                       "DROP TABLE job; CREATE TABLE job(job_key INTEGER PRIMARY KEY);", NULL, NULL,
                       NULL) == SQLITE_OK);
    tandem_store_close(s);
    CHECK_RC(TANDEM_ECORRUPT, tandem_store_compare(a, b, NULL, &d));
    CHECK_CONTAINS(d.message, "table job: 20 columns in ");
    CHECK_CONTAINS(d.message, " but 1 in ");
    /* two good files still compare equal */
    CHECK_OK(tandem_store_compare(a, a, NULL, &d));
}

/* When the model cache cannot keep a parsed model, the element rows are
 * still written (named by their ids) and nothing leaks. */
static void test_model_cache_out_of_memory(void)
{
    workload w;
    workload_run(&w);
    char path[512];
    store_path(path, sizeof(path), "oom.db");
    tandem_store *s = open_rw(path);
    fail_strndup = true;
    export_range(s, "sqlite", &w, 0, w.count);
    fail_strndup = false;
    const char *ei = "SELECT group_concat(type || ':' || element_name, ' ')"
                     " FROM (SELECT * FROM element_instance WHERE process_instance_key = ?1"
                     " ORDER BY element_instance_key)";
    CHECK_ROW_TEXT(tandem_store_db(s),
                   "PROCESS:order START_EVENT:start SERVICE_TASK:charge END_EVENT:end", ei,
                   w.pi[0]);
    tandem_store_close(s);
    workload_free(&w);
}

static const tandem_test cases[] = {
    {"create_and_reopen", test_create_and_reopen},
    {"newer_version_refused", test_newer_version_refused},
    {"garbage_refused", test_garbage_refused},
    {"read_only", test_read_only},
    {"workload_rows", test_workload_rows},
    {"reexport_idempotent", test_reexport_idempotent},
    {"split_everywhere", test_split_everywhere},
    {"compare_names_difference", test_compare_names_difference},
    {"unknown_and_bad_batches", test_unknown_and_bad_batches},
    {"failed_export_rolls_back", test_failed_export_rolls_back},
    {"definition_from_two_partitions", test_definition_from_two_partitions},
    {"empty_file_migrated", test_empty_file_migrated},
    {"kill_and_resume", test_kill_and_resume},
    {"reader_beside_writer", test_reader_beside_writer},
    {"concurrent_first_open", test_concurrent_first_open},
    {"close_with_borrowed_statement", test_close_with_borrowed_statement},
    {"compare_damaged_schema", test_compare_damaged_schema},
    {"model_cache_out_of_memory", test_model_cache_out_of_memory},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
