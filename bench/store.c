/*
 * store — the secondary store: records per second exported into SQLite, and
 * the latency of a filtered, sorted query over a million process instances.
 *
 *   build/bench/store [--dir DIR] [--instances N] [--query-instances N] [--queries N]
 *
 * Export: the records of N one-task instances (start, service task with a
 * job and a variable, completion: 23 records each, commands included, as
 * the exporter receives them) are built with the engine's value codecs and
 * exported through tandem_store_export in batches of 1, 64 and 512 records
 * per transaction, each into a fresh store in DIR (default: a new directory
 * in the current one, removed at the end), so the figure includes the
 * fsyncs of synchronous=FULL on this disk.
 *
 * Query: a store of --query-instances process instances (default 1 million;
 * 10 process ids, 70% completed, 10% terminated, 20% active) is built through
 * the same mapping, then each query of the table below runs --queries times
 * and prints median and p99 latency. The queries are plain SQL for now; the
 * search side adds a row that goes through its query builder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "engine/value.h"
#include "export/store.h"
#include "protocol/key.h"
#include "protocol/record.h"
#include "protocol/types.h"

#define PROCESS_IDS 10
#define T0_MS       1700000000000ull

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const tandem_diag *d)
{
    fprintf(stderr, "store bench: %s: %s\n", what, d != NULL ? tandem_diag_text(d) : "");
    exit(1);
}

/* ---- Building records ---------------------------------------------------- */

/* Records and the value bytes they point into (one arena, offsets fixed up
 * once everything is built so the buffer may grow meanwhile). */
typedef struct record_set {
    tandem_record *records;
    size_t *value_offsets;
    size_t count, capacity;
    tandem_buf values;
    uint64_t next_position;
    uint64_t next_key;
} record_set;

static void add(record_set *rs, uint8_t record_type, uint8_t value_type, uint16_t intent,
                uint64_t key, uint64_t timestamp_ms, const tandem_buf *value)
{
    if (rs->count == rs->capacity) {
        rs->capacity = rs->capacity == 0 ? 4096 : rs->capacity * 2;
        rs->records = realloc(rs->records, rs->capacity * sizeof(*rs->records));
        rs->value_offsets = realloc(rs->value_offsets, rs->capacity * sizeof(size_t));
        if (rs->records == NULL || rs->value_offsets == NULL) {
            die("out of memory", NULL);
        }
    }
    tandem_record *r = &rs->records[rs->count];
    tandem_record_init(r);
    r->position = rs->next_position++;
    r->key = key;
    r->timestamp_ms = timestamp_ms;
    r->partition_id = 1;
    r->record_type = record_type;
    r->value_type = value_type;
    r->intent = intent;
    r->value_len = value->len;
    rs->value_offsets[rs->count] = rs->values.len;
    if (tandem_buf_append(&rs->values, value->data, value->len) != 0) {
        die("out of memory", NULL);
    }
    rs->count++;
}

static void fix_views(record_set *rs)
{
    for (size_t i = 0; i < rs->count; i++) {
        rs->records[i].value = rs->values.data + rs->value_offsets[i];
    }
}

static uint64_t new_key(record_set *rs)
{
    return tandem_key_encode(1, rs->next_key++);
}

static void element(record_set *rs, tandem_process_instance_value *pi, uint64_t key, const char *id,
                    unsigned type, uint16_t intent, uint64_t t_ms)
{
    tandem_buf b = TANDEM_BUF_INIT;
    pi->element_id = tandem_sv_of(id);
    pi->bpmn_element_type = type;
    pi->flow_scope_key =
        type == TANDEM_ELEMENT_PROCESS ? TANDEM_KEY_NONE : pi->process_instance_key;
    if (tandem_process_instance_value_encode(pi, &b) != 0) {
        die("encode", NULL);
    }
    add(rs, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS_INSTANCE, intent, key, t_ms, &b);
    tandem_buf_free(&b);
}

static const char *process_id(unsigned i)
{
    static char ids[PROCESS_IDS][16];
    snprintf(ids[i % PROCESS_IDS], sizeof(ids[0]), "process-%u", i % PROCESS_IDS);
    return ids[i % PROCESS_IDS];
}

static void deploy(record_set *rs, uint64_t def_keys[PROCESS_IDS])
{
    for (unsigned i = 0; i < PROCESS_IDS; i++) {
        char xml[1024];
        snprintf(xml, sizeof(xml),
                 "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
                 "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">"
                 "<bpmn:process id=\"%s\" name=\"Process %u\" isExecutable=\"true\">"
                 "<bpmn:startEvent id=\"start\"/>"
                 "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"task\"/>"
                 "<bpmn:serviceTask id=\"task\" name=\"Task\"><bpmn:extensionElements>"
                 "<zeebe:taskDefinition type=\"work\"/></bpmn:extensionElements>"
                 "</bpmn:serviceTask>"
                 "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"task\" targetRef=\"end\"/>"
                 "<bpmn:endEvent id=\"end\"/></bpmn:process></bpmn:definitions>",
                 process_id(i), i);
        tandem_process_value v;
        tandem_process_value_init(&v);
        def_keys[i] = new_key(rs);
        v.bpmn_process_id = tandem_sv_of(process_id(i));
        v.version = 1;
        v.process_definition_key = def_keys[i];
        v.resource_name = tandem_sv_of("p.bpmn");
        v.resource = tandem_sv_of(xml);
        v.tenant_id = tandem_sv_of("<default>");
        v.deployment_key = new_key(rs);
        tandem_buf b = TANDEM_BUF_INIT;
        if (tandem_process_value_encode(&v, &b) != 0) {
            die("encode", NULL);
        }
        add(rs, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED,
            def_keys[i], T0_MS, &b);
        tandem_buf_free(&b);
    }
}

static void job(record_set *rs, const tandem_process_instance_value *pi, uint64_t job_key,
                uint64_t task_key, uint16_t intent, uint64_t t_ms)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.type = tandem_sv_of("work");
    v.retries = 3;
    v.custom_headers = tandem_sv_of("{}");
    v.bpmn_process_id = pi->bpmn_process_id;
    v.process_definition_version = 1;
    v.process_definition_key = pi->process_definition_key;
    v.process_instance_key = pi->process_instance_key;
    v.element_id = tandem_sv_of("task");
    v.element_instance_key = task_key;
    v.tenant_id = pi->tenant_id;
    if (intent == TANDEM_INTENT_JOB_COMPLETED) {
        v.worker = tandem_sv_of("bench");
    }
    tandem_buf b = TANDEM_BUF_INIT;
    if (tandem_job_value_encode(&v, &b) != 0) {
        die("encode", NULL);
    }
    add(rs, TANDEM_RECORD_EVENT, TANDEM_VALUE_JOB, intent, job_key, t_ms, &b);
    tandem_buf_free(&b);
}

static void variable(record_set *rs, const tandem_process_instance_value *pi, uint64_t t_ms)
{
    tandem_variable_value v;
    tandem_variable_value_init(&v);
    v.name = tandem_sv_of("order");
    v.value = tandem_sv_of("{\"id\":\"A-1\",\"amount\":1200,\"items\":[1,2,3]}");
    v.scope_key = pi->process_instance_key;
    v.process_instance_key = pi->process_instance_key;
    v.process_definition_key = pi->process_definition_key;
    v.bpmn_process_id = pi->bpmn_process_id;
    v.tenant_id = pi->tenant_id;
    tandem_buf b = TANDEM_BUF_INIT;
    if (tandem_variable_value_encode(&v, &b) != 0) {
        die("encode", NULL);
    }
    add(rs, TANDEM_RECORD_EVENT, TANDEM_VALUE_VARIABLE, TANDEM_INTENT_VARIABLE_CREATED, new_key(rs),
        t_ms, &b);
    tandem_buf_free(&b);
}

static void command(record_set *rs, uint8_t value_type, uint16_t intent, uint64_t t_ms)
{
    tandem_buf b = TANDEM_BUF_INIT;
    add(rs, TANDEM_RECORD_COMMAND, value_type, intent, TANDEM_KEY_NONE, t_ms, &b);
}

/* A one-task instance, complete: 23 records. */
static void one_task_instance(record_set *rs, const uint64_t def_keys[PROCESS_IDS], unsigned i)
{
    uint64_t t = T0_MS + (uint64_t)i * 10;
    tandem_process_instance_value pi;
    tandem_process_instance_value_init(&pi);
    pi.bpmn_process_id = tandem_sv_of(process_id(i));
    pi.version = 1;
    pi.process_definition_key = def_keys[i % PROCESS_IDS];
    pi.process_instance_key = new_key(rs);
    pi.tenant_id = tandem_sv_of("<default>");
    uint64_t pk = pi.process_instance_key, sk = new_key(rs), tk = new_key(rs), jk = new_key(rs);
    uint64_t ek = new_key(rs);
    command(rs, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
            TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE, t);
    variable(rs, &pi, t);
    element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS,
            TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING, t);
    element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS,
            TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED, t);
    static const uint16_t life[] = {
        TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING,
        TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED,
        TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING,
        TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED,
    };
    for (int k = 0; k < 4; k++) {
        element(rs, &pi, sk, "start", TANDEM_ELEMENT_START_EVENT, life[k], t);
    }
    element(rs, &pi, new_key(rs), "f1", TANDEM_ELEMENT_SEQUENCE_FLOW,
            TANDEM_INTENT_PROCESS_INSTANCE_SEQUENCE_FLOW_TAKEN, t);
    element(rs, &pi, tk, "task", TANDEM_ELEMENT_SERVICE_TASK, life[0], t);
    element(rs, &pi, tk, "task", TANDEM_ELEMENT_SERVICE_TASK, life[1], t);
    job(rs, &pi, jk, tk, TANDEM_INTENT_JOB_CREATED, t);
    command(rs, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_COMPLETE, t + 5);
    job(rs, &pi, jk, tk, TANDEM_INTENT_JOB_COMPLETED, t + 5);
    element(rs, &pi, tk, "task", TANDEM_ELEMENT_SERVICE_TASK, life[2], t + 5);
    element(rs, &pi, tk, "task", TANDEM_ELEMENT_SERVICE_TASK, life[3], t + 5);
    element(rs, &pi, new_key(rs), "f2", TANDEM_ELEMENT_SEQUENCE_FLOW,
            TANDEM_INTENT_PROCESS_INSTANCE_SEQUENCE_FLOW_TAKEN, t + 5);
    for (int k = 0; k < 4; k++) {
        element(rs, &pi, ek, "end", TANDEM_ELEMENT_END_EVENT, life[k], t + 5);
    }
    element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS, life[2], t + 5);
    element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS, life[3], t + 5);
}

/* Only the process element of an instance, ending in a chosen state; enough
 * for a process_instance table of a million rows. */
static void process_only(record_set *rs, const uint64_t def_keys[PROCESS_IDS], unsigned i,
                         uint64_t rnd)
{
    uint64_t t = T0_MS + (uint64_t)i * 1000 + rnd % 1000;
    tandem_process_instance_value pi;
    tandem_process_instance_value_init(&pi);
    pi.bpmn_process_id = tandem_sv_of(process_id(i));
    pi.version = 1;
    pi.process_definition_key = def_keys[i % PROCESS_IDS];
    pi.process_instance_key = new_key(rs);
    pi.tenant_id = tandem_sv_of("<default>");
    uint64_t pk = pi.process_instance_key;
    element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS,
            TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING, t);
    unsigned pct = (unsigned)((rnd >> 16) % 100);
    if (pct < 80) {
        element(rs, &pi, pk, process_id(i), TANDEM_ELEMENT_PROCESS,
                pct < 70 ? TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED
                         : TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED,
                t + 60000);
    }
}

static void free_set(record_set *rs)
{
    free(rs->records);
    free(rs->value_offsets);
    tandem_buf_free(&rs->values);
    memset(rs, 0, sizeof(*rs));
}

/* ---- Export -------------------------------------------------------------- */

static void remove_store(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

/* Exports rs[0..count) in batches; returns seconds. */
static double export_all(const char *path, const record_set *rs, size_t count, size_t batch)
{
    remove_store(path);
    tandem_store *s = NULL;
    tandem_diag d = {0};
    if (tandem_store_open(path, false, &s, &d) != 0) {
        die("open", &d);
    }
    const tandem_record **ptrs = malloc(batch * sizeof(*ptrs));
    if (ptrs == NULL) {
        die("out of memory", NULL);
    }
    double start = now_s();
    for (size_t at = 0; at < count; at += batch) {
        size_t n = count - at < batch ? count - at : batch;
        for (size_t i = 0; i < n; i++) {
            ptrs[i] = &rs->records[at + i];
        }
        if (tandem_store_export(s, "bench", 1, ptrs, n, &d) != 0) {
            die("export", &d);
        }
    }
    double elapsed = now_s() - start;
    free(ptrs);
    tandem_store_close(s);
    return elapsed;
}

/* ---- Queries ------------------------------------------------------------- */

/* A query under test: SQL with ?1 = a process id, or a function of the
 * search side's own (when `run` is set). */
typedef struct bench_query {
    const char *label;
    const char *sql;
    int (*run)(sqlite3 *db, const char *process_id, size_t *rows);
} bench_query;

static const bench_query queries[] = {
    {"active, by process id, startDate DESC, limit 50",
     "SELECT pi.*, coalesce(pd.name, pi.process_definition_id) FROM process_instance pi"
     " LEFT JOIN process_definition pd USING (process_definition_key)"
     " WHERE pi.state = 'ACTIVE' AND pi.process_definition_id = ?1"
     " ORDER BY pi.start_date DESC LIMIT 50",
     NULL},
    {"completed, by process id, startDate DESC, limit 50",
     "SELECT pi.*, coalesce(pd.name, pi.process_definition_id) FROM process_instance pi"
     " LEFT JOIN process_definition pd USING (process_definition_key)"
     " WHERE pi.state = 'COMPLETED' AND pi.process_definition_id = ?1"
     " ORDER BY pi.start_date DESC LIMIT 50",
     NULL},
    {"count active (total of a page)",
     "SELECT count(*) FROM process_instance WHERE state = 'ACTIVE'"
     " AND process_definition_id = ?1",
     NULL},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run_query(sqlite3 *db, const bench_query *q, unsigned times)
{
    double *lat = malloc(times * sizeof(double));
    if (lat == NULL) {
        die("out of memory", NULL);
    }
    sqlite3_stmt *st = NULL;
    if (q->run == NULL && sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "store bench: %s: %s\n", q->label, sqlite3_errmsg(db));
        exit(1);
    }
    size_t rows = 0;
    for (unsigned i = 0; i < times; i++) {
        double start = now_s();
        rows = 0;
        if (q->run != NULL) {
            if (q->run(db, process_id(i), &rows) != 0) {
                die(q->label, NULL);
            }
        } else {
            sqlite3_bind_text(st, 1, process_id(i), -1, SQLITE_TRANSIENT);
            int rc;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                rows++;
            }
            if (rc != SQLITE_DONE) {
                fprintf(stderr, "store bench: %s: %s\n", q->label, sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_reset(st);
        }
        lat[i] = (now_s() - start) * 1000.0;
    }
    sqlite3_finalize(st);
    qsort(lat, times, sizeof(double), cmp_double);
    printf("%-50s %8.3f ms %8.3f ms %6zu\n", q->label, lat[times / 2],
           lat[(size_t)((double)times * 0.99)], rows);
    free(lat);
}

static unsigned long arg_num(int argc, char **argv, const char *name, unsigned long dflt)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return strtoul(argv[i + 1], NULL, 10);
        }
    }
    return dflt;
}

static const char *arg_str(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned instances = (unsigned)arg_num(argc, argv, "--instances", 4000);
    unsigned query_instances = (unsigned)arg_num(argc, argv, "--query-instances", 1000000);
    unsigned times = (unsigned)arg_num(argc, argv, "--queries", 200);
    const char *dir = arg_str(argc, argv, "--dir");
    char made[64] = "";
    if (dir == NULL) {
        snprintf(made, sizeof(made), "bench-store-XXXXXX");
        if (mkdtemp(made) == NULL) {
            perror("store bench: mkdtemp");
            return 1;
        }
        dir = made;
    }
    if (instances == 0 || times == 0) {
        fprintf(stderr, "usage: store [--dir DIR] [--instances N] [--query-instances N] "
                        "[--queries N]\n");
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/store.db", dir);

    record_set rs = {0};
    rs.next_position = 1;
    rs.next_key = 1;
    uint64_t def_keys[PROCESS_IDS];
    deploy(&rs, def_keys);
    for (unsigned i = 0; i < instances; i++) {
        one_task_instance(&rs, def_keys, i);
    }
    fix_views(&rs);
    printf("export: %u one-task instances, %zu records\n", instances, rs.count);
    printf("%-8s %10s %12s %12s\n", "batch", "records", "records/s", "txns/s");
    static const size_t batches[] = {1, 64, 512};
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        /* One record per transaction is one fsync each: a bounded slice. */
        size_t count = rs.count < batches[b] * 4000 ? rs.count : batches[b] * 4000;
        double s = export_all(path, &rs, count, batches[b]);
        double txns = (double)((count + batches[b] - 1) / batches[b]);
        printf("%-8zu %10zu %12.0f %12.0f\n", batches[b], count, (double)count / s, txns / s);
    }
    free_set(&rs);

    if (query_instances > 0) {
        rs = (record_set){0};
        rs.next_position = 1;
        rs.next_key = 1;
        deploy(&rs, def_keys);
        uint64_t x = 0x9e3779b97f4a7c15ull;
        for (unsigned i = 0; i < query_instances; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            process_only(&rs, def_keys, i, x);
        }
        fix_views(&rs);
        double s = export_all(path, &rs, rs.count, 4096);
        printf("\nquery store: %u process instances, %zu records exported in %.1f s "
               "(%.0f records/s, batch 4096)\n",
               query_instances, rs.count, s, (double)rs.count / s);
        free_set(&rs);
        tandem_store *st = NULL;
        tandem_diag d = {0};
        if (tandem_store_open(path, true, &st, &d) != 0) {
            die("open", &d);
        }
        printf("%-50s %11s %11s %6s\n", "query", "median", "p99", "rows");
        for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
            run_query(tandem_store_db(st), &queries[q], times);
        }
        tandem_store_close(st);
    }
    remove_store(path);
    if (made[0] != 0) {
        rmdir(made);
    }
    return 0;
}
