/*
 * test_engine_harness.h — drives the engine the way a partition will: each
 * command processed in its own write transaction of a "leader" state, and
 * the produced batch applied with tandem_engine_apply to a "follower" state;
 * after every command the two digests must be equal (the replay property).
 * Included by the engine test files only.
 */
#ifndef TANDEM_TEST_ENGINE_HARNESS_H
#define TANDEM_TEST_ENGINE_HARNESS_H

#include <stdarg.h>

#include "engine/engine.h"
#include "protocol/key.h"
#include "state/kv.h"
#include "test.h"

#define T0_MS 1700000000000ull

typedef struct harness {
    tandem_kv *kv;      /* leader */
    tandem_kv *replica; /* follower: events applied only */
    tandem_engine *engine;
    tandem_engine *replica_engine;
    tandem_engine_output out;
    uint64_t next_position;
    uint64_t now_ms;
    char trace[16384]; /* the last batch, one line per record after the command */
    /* every record ever produced, encoded, for full replays */
    tandem_buf log;
    uint32_t log_count;
    uint64_t commands; /* processed so far */
    uint32_t partition_id;
} harness;

static inline tandem_kv *harness_kv(void)
{
    uint32_t n;
    const char *const *names = tandem_engine_tables(&n);
    tandem_kv_options o = {names, n, 0};
    tandem_kv *kv;
    tandem_diag d = {0};
    CHECK_MSG(tandem_kv_open_mem(&o, &kv, &d) == 0, "%s", d.message);
    return kv;
}

/* A harness for partition `partition_id` of a cluster of partition_count. */
static inline void harness_init_partition(harness *h, uint32_t partition_id,
                                          uint32_t partition_count)
{
    memset(h, 0, sizeof(*h));
    h->kv = harness_kv();
    h->replica = harness_kv();
    h->partition_id = partition_id;
    tandem_engine_config c = {partition_id, 0, partition_count};
    tandem_diag d = {0};
    CHECK_MSG(tandem_engine_create(&c, &h->engine, &d) == 0, "%s", d.message);
    CHECK_MSG(tandem_engine_create(&c, &h->replica_engine, &d) == 0, "%s", d.message);
    tandem_engine_output_init(&h->out);
    h->next_position = 1;
    h->now_ms = T0_MS;
    tandem_buf_init(&h->log);
}

static inline void harness_init(harness *h)
{
    harness_init_partition(h, 1, 1);
}

static inline void harness_free(harness *h)
{
    tandem_engine_output_free(&h->out);
    tandem_engine_destroy(h->engine);
    tandem_engine_destroy(h->replica_engine);
    tandem_kv_close(h->kv);
    tandem_kv_close(h->replica);
    tandem_buf_free(&h->log);
}

static inline void harness_digest(tandem_kv *kv, uint64_t out[2])
{
    tandem_diag d = {0};
    CHECK_MSG(tandem_kv_digest(kv, out, &d) == 0, "%s", d.message);
}

static inline void trace_line(harness *h, const tandem_record *r)
{
    tandem_name_buf a, b;
    size_t len = strlen(h->trace);
    const char *kind = r->record_type == TANDEM_RECORD_EVENT     ? "E"
                       : r->record_type == TANDEM_RECORD_COMMAND ? "C"
                                                                 : "R";
    int n = snprintf(h->trace + len, sizeof(h->trace) - len, "%s %s %s", kind,
                     tandem_value_type_name(r->value_type, &a),
                     tandem_intent_name(r->value_type, r->intent, &b));
    CHECK(n > 0 && (size_t)n < sizeof(h->trace) - len);
    len += (size_t)n;
    if (r->value_type == TANDEM_VALUE_PROCESS_INSTANCE) {
        tandem_process_instance_value v;
        CHECK_OK(tandem_process_instance_value_decode(r->value, r->value_len, &v, NULL, NULL));
        n = snprintf(h->trace + len, sizeof(h->trace) - len, " %s %.*s",
                     tandem_bpmn_element_type_name(v.bpmn_element_type), (int)v.element_id.len,
                     v.element_id.ptr);
        CHECK(n > 0 && (size_t)n < sizeof(h->trace) - len);
        len += (size_t)n;
    }
    if (r->record_type == TANDEM_RECORD_COMMAND_REJECTION) {
        n = snprintf(h->trace + len, sizeof(h->trace) - len, " %s",
                     tandem_rejection_type_name(r->rejection_type, &a));
        CHECK(n > 0 && (size_t)n < sizeof(h->trace) - len);
        len += (size_t)n;
    }
    CHECK(len + 1 < sizeof(h->trace));
    h->trace[len] = '\n';
    h->trace[len + 1] = 0;
}

/* Applies a batch's records to the replica in one transaction. */
static inline void replicate(harness *h, const tandem_engine_output *out, uint64_t last)
{
    tandem_kv_txn *t;
    tandem_diag d = {0};
    CHECK_OK(tandem_kv_begin_write(h->replica, &t, &d));
    for (uint32_t i = 0; i < out->record_count; i++) {
        int rc = tandem_engine_apply(h->replica_engine, t, &out->records[i], &d);
        CHECK_MSG(rc == 0, "apply of record %u: %s", i, d.message);
    }
    CHECK_OK(tandem_kv_commit(t, last, &d));
}

static inline void log_batch(harness *h, const tandem_engine_output *out)
{
    for (uint32_t i = 0; i < out->record_count; i++) {
        tandem_buf one = TANDEM_BUF_INIT;
        CHECK_OK(tandem_record_encode(&one, &out->records[i], NULL));
        CHECK_OK(tandem_buf_put_u64(&h->log, out->records[i].position));
        CHECK_OK(tandem_buf_put_u32(&h->log, (uint32_t)one.len));
        CHECK_OK(tandem_buf_append(&h->log, one.data, one.len));
        tandem_buf_free(&one);
        h->log_count++;
    }
}

/* Processes a command; returns the output (valid until the next call). */
static inline const tandem_engine_output *process(harness *h, tandem_record *cmd)
{
    cmd->position = h->next_position;
    cmd->timestamp_ms = h->now_ms;
    cmd->partition_id = (uint16_t)h->partition_id;
    cmd->record_type = TANDEM_RECORD_COMMAND;
    tandem_kv_txn *t;
    tandem_diag d = {0};
    CHECK_OK(tandem_kv_begin_write(h->kv, &t, &d));
    int rc = tandem_engine_process(h->engine, t, cmd, &h->out, &d);
    CHECK_MSG(rc == 0, "process: %s", d.message);
    CHECK(h->out.record_count >= 1); /* a repeated distributed command: itself only */
    uint64_t last = h->out.records[h->out.record_count - 1].position;
    CHECK_OK(tandem_kv_commit(t, last, &d));
    h->trace[0] = 0;
    for (uint32_t i = 0; i < h->out.record_count; i++) {
        const tandem_record *r = &h->out.records[i];
        CHECK_EQ_U64(cmd->position + i, r->position);
        CHECK_EQ_U64(h->now_ms, r->timestamp_ms);
        if (i > 0) {
            CHECK_EQ_I64((int64_t)cmd->position, r->source_position);
            trace_line(h, r);
        }
    }
    h->next_position = last + 1;
    replicate(h, &h->out, last);
    log_batch(h, &h->out);
    /* A digest reads the whole state: every command while it is small, then
     * every 64th, so long soaks stay linear. */
    if (++h->commands > 2000 && h->commands % 64 != 0) {
        return &h->out;
    }
    uint64_t a[2], b[2];
    harness_digest(h->kv, a);
    harness_digest(h->replica, b);
    CHECK_MSG(a[0] == b[0] && a[1] == b[1], "leader and follower states differ after position %llu",
              (unsigned long long)last);
    return &h->out;
}

/* Index of the n-th (0-based) record with this type/intent, or fail. */
static inline uint32_t find_rec(const tandem_engine_output *out, uint8_t record_type,
                                uint8_t value_type, uint16_t intent, uint32_t nth)
{
    for (uint32_t i = 0; i < out->record_count; i++) {
        const tandem_record *r = &out->records[i];
        if (r->record_type == record_type && r->value_type == value_type && r->intent == intent &&
            nth-- == 0) {
            return i;
        }
    }
    tandem_test_fail(__FILE__, __LINE__, "record %u/%u/%u not in output", record_type, value_type,
                     intent);
}

static inline const tandem_record *response(const tandem_engine_output *out)
{
    CHECK(out->response_index >= 0 && (uint32_t)out->response_index < out->record_count);
    return &out->records[out->response_index];
}

static inline void check_rejection(const tandem_engine_output *out, uint8_t type,
                                   const char *reason)
{
    CHECK_EQ_U64(2, out->record_count);
    const tandem_record *r = response(out);
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND_REJECTION, r->record_type);
    CHECK_EQ_U64(type, r->rejection_type);
    char text[600];
    snprintf(text, sizeof(text), "%.*s", (int)r->rejection_reason_len, r->rejection_reason);
    CHECK_STREQ(reason, text);
}

/* ---- Command builders (values in a static buffer per call site) -------- */

static inline tandem_record command(uint8_t value_type, uint16_t intent, uint64_t key,
                                    const tandem_buf *value)
{
    tandem_record r;
    tandem_record_init(&r);
    r.record_type = TANDEM_RECORD_COMMAND;
    r.value_type = value_type;
    r.intent = intent;
    r.key = key;
    r.request_stream_id = 7;
    r.request_id = 42;
    r.value = value->data;
    r.value_len = value->len;
    return r;
}

static inline const tandem_engine_output *deploy(harness *h, uint32_t count, const char **names,
                                                 const char **xmls)
{
    tandem_buf list = TANDEM_BUF_INIT, item = TANDEM_BUF_INIT, value = TANDEM_BUF_INIT;
    for (uint32_t i = 0; i < count; i++) {
        tandem_buf_reset(&item);
        tandem_field_writer w;
        tandem_field_writer_init(&w, &item);
        tandem_field_put_cstr(&w, 1, names[i]);
        tandem_field_put_bytes(&w, 2, xmls[i], strlen(xmls[i]));
        CHECK_OK(tandem_field_writer_finish(&w));
        CHECK_OK(tandem_value_list_add_nested(&list, item.data, item.len));
    }
    tandem_deployment_value v;
    tandem_deployment_value_init(&v);
    v.resources = (tandem_sv){(const char *)list.data, list.len};
    v.tenant_id = tandem_sv_of("<default>");
    CHECK_OK(tandem_deployment_value_encode(&v, &value));
    tandem_record cmd =
        command(TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE, TANDEM_KEY_NONE, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&list);
    tandem_buf_free(&item);
    tandem_buf_free(&value);
    return out;
}

static inline const tandem_engine_output *deploy1(harness *h, const char *name, const char *xml)
{
    return deploy(h, 1, &name, &xml);
}

/* fetch: comma separated names or NULL. */
static inline const tandem_engine_output *create_pi(harness *h, const char *id, int32_t version,
                                                    uint64_t def_key, const char *vars, bool await,
                                                    const char *fetch)
{
    tandem_buf value = TANDEM_BUF_INIT, fl = TANDEM_BUF_INIT;
    tandem_process_instance_creation_value v;
    tandem_process_instance_creation_value_init(&v);
    v.bpmn_process_id = tandem_sv_of(id);
    v.version = version;
    v.process_definition_key = def_key;
    v.variables = tandem_sv_of(vars);
    if (fetch != NULL) {
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", fetch);
        for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
            CHECK_OK(tandem_value_list_add_str(&fl, tandem_sv_of(tok)));
        }
        v.fetch_variables = (tandem_sv){(const char *)fl.data, fl.len};
    }
    CHECK_OK(tandem_process_instance_creation_value_encode(&v, &value));
    tandem_record cmd =
        command(TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                await ? TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT
                      : TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE,
                TANDEM_KEY_NONE, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    tandem_buf_free(&fl);
    return out;
}

static inline const tandem_engine_output *activate(harness *h, const char *type, int32_t max,
                                                   int64_t timeout_ms, const char *fetch)
{
    tandem_buf value = TANDEM_BUF_INIT, fl = TANDEM_BUF_INIT;
    tandem_job_batch_value v;
    tandem_job_batch_value_init(&v);
    v.type = tandem_sv_of(type);
    v.worker = tandem_sv_of("worker-1");
    v.timeout_ms = timeout_ms;
    v.max_jobs_to_activate = max;
    if (fetch != NULL) {
        CHECK_OK(tandem_value_list_add_str(&fl, tandem_sv_of(fetch)));
        v.fetch_variables = (tandem_sv){(const char *)fl.data, fl.len};
    }
    CHECK_OK(tandem_job_batch_value_encode(&v, &value));
    tandem_record cmd =
        command(TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATE, TANDEM_KEY_NONE, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    tandem_buf_free(&fl);
    return out;
}

/* A job command with the fields tests use. */
static inline const tandem_engine_output *job_cmd(harness *h, uint16_t intent, uint64_t key,
                                                  const tandem_job_value *v)
{
    tandem_buf value = TANDEM_BUF_INIT;
    CHECK_OK(tandem_job_value_encode(v, &value));
    tandem_record cmd = command(TANDEM_VALUE_JOB, intent, key, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    return out;
}

static inline const tandem_engine_output *complete(harness *h, uint64_t key, const char *vars)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.variables = tandem_sv_of(vars);
    return job_cmd(h, TANDEM_INTENT_JOB_COMPLETE, key, &v);
}

static inline const tandem_engine_output *fail(harness *h, uint64_t key, int32_t retries,
                                               int64_t backoff_ms, const char *message)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.retries = retries;
    v.retry_backoff_ms = backoff_ms;
    v.error_message = tandem_sv_of(message);
    return job_cmd(h, TANDEM_INTENT_JOB_FAIL, key, &v);
}

static inline const tandem_engine_output *cancel(harness *h, uint64_t pi_key)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_process_instance_value v;
    tandem_process_instance_value_init(&v);
    CHECK_OK(tandem_process_instance_value_encode(&v, &value));
    tandem_record cmd = command(TANDEM_VALUE_PROCESS_INSTANCE,
                                TANDEM_INTENT_PROCESS_INSTANCE_CANCEL, pi_key, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    return out;
}

/* Runs tandem_engine_due at h->now_ms on the leader; the commands are copied
 * into `cmds` (values into `values`). Returns their number. */
static inline uint32_t due(harness *h, tandem_record *cmds, tandem_buf *values, uint32_t max,
                           int64_t *next)
{
    tandem_engine_output o;
    tandem_engine_output_init(&o);
    tandem_kv_txn *t;
    tandem_diag d = {0};
    CHECK_OK(tandem_kv_begin_read(h->kv, &t, &d));
    CHECK_MSG(tandem_engine_due(h->engine, t, h->now_ms, &o, next, &d) == 0, "%s", d.message);
    tandem_kv_abort(t);
    CHECK(o.record_count <= max);
    for (uint32_t i = 0; i < o.record_count; i++) {
        cmds[i] = o.records[i];
        CHECK_OK(tandem_buf_append(&values[i], o.records[i].value, o.records[i].value_len));
        cmds[i].value = values[i].data;
    }
    uint32_t n = o.record_count;
    tandem_engine_output_free(&o);
    return n;
}

/* The jobs of a JOB_BATCH ACTIVATED record. */
static inline uint32_t batch_jobs(const tandem_record *r, uint64_t *keys, tandem_job_value *jobs,
                                  uint32_t max)
{
    CHECK_EQ_U64(TANDEM_VALUE_JOB_BATCH, r->value_type);
    tandem_job_batch_value b;
    CHECK_OK(tandem_job_batch_value_decode(r->value, r->value_len, &b, NULL, NULL));
    tandem_value_list kl, jl;
    tandem_value_list_init(&kl, b.job_keys);
    tandem_value_list_init(&jl, b.jobs);
    tandem_field kf, jf;
    uint32_t n = 0;
    while (tandem_value_list_next(&kl, &kf)) {
        CHECK(n < max);
        CHECK(tandem_value_list_next(&jl, &jf));
        keys[n] = kf.u;
        CHECK_OK(tandem_job_value_decode(jf.data, jf.len, &jobs[n], NULL, NULL));
        n++;
    }
    CHECK(!tandem_value_list_next(&jl, &jf));
    return n;
}

static inline void sv_check(const char *expected, tandem_sv actual)
{
    char text[4096];
    snprintf(text, sizeof(text), "%.*s", (int)actual.len, actual.ptr);
    CHECK_STREQ(expected, text);
}

#endif
