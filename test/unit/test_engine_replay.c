/*
 * The replay property over random command sequences: after every command a
 * follower that applied the batch has the leader's digest (harness), and at
 * the end the whole log, encoded and decoded again, applied to a fresh state
 * in one transaction gives the leader's digest too. Also the value codecs:
 * round trips, unknown fields kept, malformed bytes refused with a message.
 */
#include "test_engine_harness.h"

#define XML_RETRIES                                                                                \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">"                                \
    "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                     \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>"                               \
    "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"                                          \
    "<zeebe:taskDefinition type=\"work\" retries=\"%d\"/></bpmn:extensionElements>"                \
    "</bpmn:serviceTask><bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>"            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

/* Mappings and expressions that fail without the variables `a` and `b`,
 * so random runs raise, fix and resolve incidents. */
#define XML_MAPPED                                                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">"                                \
    "<bpmn:process id=\"q\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                     \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>"                               \
    "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"                                          \
    "<zeebe:taskDefinition type=\"=&quot;wo&quot; + &quot;rk&quot;\" retries=\"=count([1,2])\"/>"  \
    "<zeebe:ioMapping><zeebe:input source=\"=assert(a, a != null)\" target=\"local\"/>"            \
    "<zeebe:output source=\"=assert(b, b != null) + 1\" target=\"out\"/></zeebe:ioMapping>"        \
    "</bpmn:extensionElements>"                                                                    \
    "</bpmn:serviceTask><bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>"            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

#define KEYS_MAX 4096

typedef struct model {
    uint64_t jobs[KEYS_MAX];
    uint32_t job_count;
    uint64_t pis[KEYS_MAX];
    uint32_t pi_count;
    uint64_t incidents[KEYS_MAX];
    uint32_t incident_count;
    uint32_t resolved;         /* INCIDENT RESOLVED events */
    uint64_t scopes[KEYS_MAX]; /* element instances of service tasks */
    uint32_t scope_count;
    uint32_t completed; /* JOB COMPLETED events */
    uint32_t recurred;  /* TIMED_OUT and RECURRED_AFTER_BACKOFF events */
    uint64_t rng;
} model;

static uint64_t next_rand(model *m)
{
    /* xorshift64*: deterministic from the seed, so a failing seed replays. */
    m->rng ^= m->rng >> 12;
    m->rng ^= m->rng << 25;
    m->rng ^= m->rng >> 27;
    return m->rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t pick(model *m, uint32_t n)
{
    return (uint32_t)(next_rand(m) % n);
}

static void remember(model *m, const tandem_engine_output *out)
{
    for (uint32_t i = 0; i < out->record_count; i++) {
        const tandem_record *r = &out->records[i];
        if (r->record_type != TANDEM_RECORD_EVENT) {
            continue;
        }
        if (r->value_type == TANDEM_VALUE_JOB && r->intent == TANDEM_INTENT_JOB_CREATED &&
            m->job_count < KEYS_MAX) {
            m->jobs[m->job_count++] = r->key;
        }
        if (r->value_type == TANDEM_VALUE_JOB) {
            m->completed += r->intent == TANDEM_INTENT_JOB_COMPLETED;
            m->recurred += r->intent == TANDEM_INTENT_JOB_TIMED_OUT ||
                           r->intent == TANDEM_INTENT_JOB_RECURRED_AFTER_BACKOFF;
        }
        if (r->value_type == TANDEM_VALUE_PROCESS_INSTANCE_CREATION && m->pi_count < KEYS_MAX) {
            m->pis[m->pi_count++] = r->key;
        }
        if (r->value_type == TANDEM_VALUE_INCIDENT) {
            if (r->intent == TANDEM_INTENT_INCIDENT_CREATED && m->incident_count < KEYS_MAX) {
                m->incidents[m->incident_count++] = r->key;
            }
            m->resolved += r->intent == TANDEM_INTENT_INCIDENT_RESOLVED;
        }
        if (r->value_type == TANDEM_VALUE_PROCESS_INSTANCE &&
            r->intent == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING &&
            m->scope_count < KEYS_MAX) {
            m->scopes[m->scope_count++] = r->key;
        }
    }
}

static void deploy_retries(harness *h, int retries)
{
    char xml[2048];
    snprintf(xml, sizeof(xml), XML_RETRIES, retries);
    const tandem_engine_output *out = deploy1(h, "p.bpmn", xml);
    CHECK_EQ_U64(TANDEM_RECORD_EVENT, response(out)->record_type);
}

static void deploy_mapped(harness *h)
{
    const tandem_engine_output *out = deploy1(h, "q.bpmn", XML_MAPPED);
    CHECK_EQ_U64(TANDEM_RECORD_EVENT, response(out)->record_type);
}

static void run_due(harness *h, model *m)
{
    tandem_record cmds[TANDEM_ENGINE_DUE_MAX];
    tandem_buf values[TANDEM_ENGINE_DUE_MAX];
    for (uint32_t i = 0; i < TANDEM_ENGINE_DUE_MAX; i++) {
        tandem_buf_init(&values[i]);
    }
    int64_t next;
    uint32_t n = due(h, cmds, values, TANDEM_ENGINE_DUE_MAX, &next);
    for (uint32_t i = 0; i < n; i++) {
        remember(m, process(h, &cmds[i]));
    }
    for (uint32_t i = 0; i < TANDEM_ENGINE_DUE_MAX; i++) {
        tandem_buf_free(&values[i]);
    }
}

static void step(harness *h, model *m)
{
    static const char *const vars[] = {NULL, "{\"a\":1}", "{\"a\":\"x\",\"b\":[true,null]}",
                                       "{\"c\":{\"d\":0.1}}"};
    uint64_t job = m->job_count > 0 ? m->jobs[pick(m, m->job_count)] : 1;
    uint64_t pi = m->pi_count > 0 ? m->pis[pick(m, m->pi_count)] : 1;
    switch (pick(m, 12)) {
    case 0:
    case 1:
        remember(m, create_pi(h, "p", -1, TANDEM_KEY_NONE, vars[pick(m, 4)], pick(m, 2) == 0,
                              pick(m, 2) == 0 ? "a" : NULL));
        break;
    case 2:
        remember(m, activate(h, "work", (int32_t)pick(m, 3) + 1, (int64_t)pick(m, 400) + 50,
                             pick(m, 2) == 0 ? "b" : NULL));
        break;
    case 3:
        remember(m, complete(h, job, vars[pick(m, 4)]));
        break;
    case 4:
        remember(m, fail(h, job, (int32_t)pick(m, 3), pick(m, 2) == 0 ? 0 : 100, "boom"));
        break;
    case 5:
        remember(m, cancel(h, pi));
        break;
    case 6:
        h->now_ms += pick(m, 300);
        run_due(h, m);
        break;
    case 7: {
        tandem_job_value v;
        tandem_job_value_init(&v);
        v.retries = (int32_t)pick(m, 3);
        v.timeout_ms = (int64_t)pick(m, 500);
        remember(m, job_cmd(h,
                            pick(m, 2) == 0 ? TANDEM_INTENT_JOB_UPDATE_RETRIES
                                            : TANDEM_INTENT_JOB_UPDATE_TIMEOUT,
                            job, &v));
        break;
    }
    case 8:
        deploy_retries(h, (int)pick(m, 3) + 1);
        break;
    case 9: {
        static const char *const mapped_vars[] = {NULL, "{\"a\":1}", "{\"a\":2,\"b\":3}"};
        remember(m, create_pi(h, "q", -1, TANDEM_KEY_NONE, mapped_vars[pick(m, 3)], false, NULL));
        break;
    }
    case 10: {
        uint64_t inc = m->incident_count > 0 ? m->incidents[pick(m, m->incident_count)] : 1;
        tandem_buf value = TANDEM_BUF_INIT;
        tandem_incident_value v;
        tandem_incident_value_init(&v);
        CHECK_OK(tandem_incident_value_encode(&v, &value));
        tandem_record cmd =
            command(TANDEM_VALUE_INCIDENT, TANDEM_INTENT_INCIDENT_RESOLVE, inc, &value);
        remember(m, process(h, &cmd));
        tandem_buf_free(&value);
        break;
    }
    default: {
        static const char *const docs[] = {"{\"a\":5}", "{\"b\":7}", "{\"a\":1,\"b\":\"x\"}"};
        bool element = pick(m, 2) == 0 && m->scope_count > 0;
        tandem_buf value = TANDEM_BUF_INIT;
        tandem_variable_document_value v;
        tandem_variable_document_value_init(&v);
        v.scope_key = element ? m->scopes[pick(m, m->scope_count)] : pi;
        v.update_semantics = pick(m, 2);
        v.variables = tandem_sv_of(docs[pick(m, 3)]);
        CHECK_OK(tandem_variable_document_value_encode(&v, &value));
        tandem_record cmd =
            command(TANDEM_VALUE_VARIABLE_DOCUMENT, TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATE,
                    TANDEM_KEY_NONE, &value);
        remember(m, process(h, &cmd));
        tandem_buf_free(&value);
        break;
    }
    }
}

/* Applies the harness's whole log, decoded from its bytes, to a fresh state. */
static void replay_all(harness *h, uint64_t digest_out[2])
{
    tandem_kv *kv = harness_kv();
    tandem_engine *e;
    tandem_engine_config c = {1, 0, 1};
    CHECK_OK(tandem_engine_create(&c, &e, NULL));
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_write(kv, &t, NULL));
    tandem_reader rd;
    tandem_reader_init(&rd, h->log.data, h->log.len);
    uint64_t last = 0;
    for (uint32_t i = 0; i < h->log_count; i++) {
        uint64_t position = tandem_read_u64(&rd);
        uint32_t len = tandem_read_u32(&rd);
        const uint8_t *bytes = tandem_read_bytes(&rd, len);
        CHECK(!rd.failed);
        tandem_record r;
        tandem_diag d = {0};
        CHECK_MSG(tandem_record_decode(bytes, len, &r, &d) == 0, "%s", d.message);
        r.position = position;
        CHECK_MSG(tandem_engine_apply(e, t, &r, &d) == 0, "replay at %llu: %s",
                  (unsigned long long)position, d.message);
        last = position;
    }
    CHECK_EQ_U64(0, tandem_reader_left(&rd));
    CHECK_OK(tandem_kv_commit(t, last, NULL));
    harness_digest(kv, digest_out);
    tandem_engine_destroy(e);
    tandem_kv_close(kv);
}

static void test_random_replay(void)
{
    harness h;
    harness_init(&h);
    model *m = calloc(1, sizeof(*m));
    CHECK(m != NULL);
    m->rng = test_seed() | 1;
    deploy_retries(&h, 2);
    deploy_mapped(&h);
    uint64_t steps = test_iterations(400);
    for (uint64_t i = 0; i < steps; i++) {
        step(&h, m);
    }
    uint64_t a[2], b[2];
    harness_digest(h.kv, a);
    replay_all(&h, b);
    CHECK_MSG(a[0] == b[0] && a[1] == b[1], "a full replay differs from the leader (seed %llu)",
              (unsigned long long)test_seed());
    /* The run did real work: instances, jobs, and some completions. */
    CHECK(m->pi_count > 10);
    CHECK(m->job_count > 10);
    CHECK(m->completed > 0);
    CHECK(m->recurred > 0);
    CHECK(m->incident_count > 0);
    CHECK(m->resolved > 0);
    free(m);
    harness_free(&h);
}

/* The same random run with the leader's state in LMDB (whose views end at
 * the next write, unlike the in-memory tree) reaches the same digest. */
static void test_lmdb_same_digest(void)
{
    harness mem, disk;
    harness_init(&mem);
    harness_init(&disk);
    tandem_kv_close(disk.kv);
    uint32_t n;
    const char *const *names = tandem_engine_tables(&n);
    tandem_kv_options o = {names, n, 0};
    tandem_diag d = {0};
    CHECK_MSG(tandem_kv_open_lmdb(test_tmpdir(), &o, &disk.kv, &d) == 0, "%s", d.message);
    model *m1 = calloc(1, sizeof(*m1)), *m2 = calloc(1, sizeof(*m2));
    CHECK(m1 != NULL && m2 != NULL);
    m1->rng = m2->rng = test_seed() | 1;
    deploy_retries(&mem, 2);
    deploy_retries(&disk, 2);
    deploy_mapped(&mem);
    deploy_mapped(&disk);
    uint64_t steps = test_iterations(150);
    for (uint64_t i = 0; i < steps; i++) {
        step(&mem, m1);
        step(&disk, m2);
    }
    uint64_t a[2], b[2];
    harness_digest(mem.kv, a);
    harness_digest(disk.kv, b);
    CHECK(a[0] == b[0] && a[1] == b[1]);
    CHECK_EQ_U64(mem.log.len, disk.log.len);
    CHECK(memcmp(mem.log.data, disk.log.data, mem.log.len) == 0); /* identical records */
    free(m1);
    free(m2);
    harness_free(&mem);
    harness_free(&disk);
}

/* A command the engine cannot process leaves the follower path unaffected:
 * commands and rejections are ignored by apply. */
static void test_apply_ignores_commands(void)
{
    harness h;
    harness_init(&h);
    uint64_t before[2], after[2];
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_write(h.kv, &t, NULL));
    CHECK_OK(tandem_kv_txn_digest(t, before, NULL));
    tandem_buf empty = TANDEM_BUF_INIT;
    tandem_record cmd = command(TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_COMPLETE, 5, &empty);
    CHECK_OK(tandem_engine_apply(h.engine, t, &cmd, NULL));
    cmd.record_type = TANDEM_RECORD_COMMAND_REJECTION;
    CHECK_OK(tandem_engine_apply(h.engine, t, &cmd, NULL));
    CHECK_OK(tandem_kv_txn_digest(t, after, NULL));
    CHECK(before[0] == after[0] && before[1] == after[1]);
    /* An event that does not fit the state is damage, named as such. */
    cmd.record_type = TANDEM_RECORD_EVENT;
    cmd.intent = TANDEM_INTENT_JOB_COMPLETED;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECORRUPT, tandem_engine_apply(h.engine, t, &cmd, &d));
    CHECK_CONTAINS(d.message, "cannot apply JOB COMPLETED with key 5");
    CHECK_CONTAINS(d.message, "no such job");
    tandem_kv_abort(t);
    /* Process refuses a record that is not a command. */
    CHECK_OK(tandem_kv_begin_write(h.kv, &t, NULL));
    CHECK_RC(TANDEM_EINVAL, tandem_engine_process(h.engine, t, &cmd, &h.out, &d));
    CHECK_CONTAINS(d.message, "is not a command");
    tandem_kv_abort(t);
    harness_free(&h);
}

static void test_engine_config(void)
{
    tandem_engine *e = NULL;
    tandem_diag d = {0};
    tandem_engine_config c = {0, 0, 1};
    CHECK_RC(TANDEM_EINVAL, tandem_engine_create(&c, &e, &d));
    CHECK_CONTAINS(d.message, "partition id 0 is out of range");
    CHECK(e == NULL);
    c = (tandem_engine_config){1, TANDEM_KV_TABLES_MAX, 1};
    CHECK_RC(TANDEM_EINVAL, tandem_engine_create(&c, &e, &d));
    CHECK_CONTAINS(d.message, "table base");
    uint32_t n = 0;
    const char *const *names = tandem_engine_tables(&n);
    CHECK(n >= 10 && n <= TANDEM_KV_TABLES_MAX);
    CHECK_STREQ("engine_meta", names[0]);
    tandem_engine_destroy(NULL);
}

/* ---- Value codecs -------------------------------------------------------- */

static void test_value_roundtrip_unknown(void)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    CHECK_EQ_U64(TANDEM_KEY_NONE, v.process_instance_key);
    CHECK_EQ_I64(-1, v.deadline_ms);
    v.type = tandem_sv_of("t");
    v.retries = -3;
    v.deadline_ms = 5;
    v.process_instance_key = 77;
    v.custom_headers = tandem_sv_of("{}");
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_job_value_encode(&v, &b));
    /* A field from a newer broker: tag 900, a string. */
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    tandem_field_put_cstr(&w, 900, "future");
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_buf unknown = TANDEM_BUF_INIT;
    tandem_job_value d;
    CHECK_OK(tandem_job_value_decode(b.data, b.len, &d, &unknown, NULL));
    sv_check("t", d.type);
    CHECK_EQ_I64(-3, d.retries);
    CHECK_EQ_I64(5, d.deadline_ms);
    CHECK_EQ_U64(77, d.process_instance_key);
    CHECK_EQ_U64(TANDEM_KEY_NONE, d.element_instance_key);
    CHECK(d.unknown.len > 0);
    /* Re-encoding writes the unknown field back: same bytes. */
    tandem_buf again = TANDEM_BUF_INIT;
    CHECK_OK(tandem_job_value_encode(&d, &again));
    CHECK_EQ_U64(b.len, again.len);
    CHECK(memcmp(b.data, again.data, b.len) == 0);
    /* Without an unknown buffer the field is dropped. */
    CHECK_OK(tandem_job_value_decode(b.data, b.len, &d, NULL, NULL));
    CHECK_EQ_U64(0, d.unknown.len);
    tandem_buf_free(&b);
    tandem_buf_free(&unknown);
    tandem_buf_free(&again);
}

static void test_value_malformed(void)
{
    /* retries (tag 3) written as a string. */
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    tandem_field_put_cstr(&w, 3, "three");
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_job_value v;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECORRUPT, tandem_job_value_decode(b.data, b.len, &v, NULL, &d));
    CHECK_CONTAINS(d.message, "job value: field retries (tag 3) is a string, not a sint");
    /* A version out of int32 range. */
    tandem_buf_reset(&b);
    tandem_field_writer_init(&w, &b);
    tandem_field_put_int(&w, 2, (int64_t)1 << 40);
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_process_value pv;
    CHECK_RC(TANDEM_ECORRUPT, tandem_process_value_decode(b.data, b.len, &pv, NULL, &d));
    CHECK_CONTAINS(d.message, "process value: field version (tag 2) is out of range");
    /* Truncated bytes. */
    const uint8_t cut[] = {0x0c, 0x05, 'a'};
    tandem_variable_value vv;
    CHECK_RC(TANDEM_ECORRUPT, tandem_variable_value_decode(cut, sizeof(cut), &vv, NULL, &d));
    CHECK_CONTAINS(d.message, "variable value");
    /* A list whose content is not a field sequence. */
    const uint8_t bad_list[] = {0x07}; /* tag 0: malformed */
    tandem_buf_reset(&b);
    CHECK_OK(tandem_buf_put_u8(&b, (uint8_t)(7 << 3 | TANDEM_WIRE_NESTED))); /* job_keys */
    CHECK_OK(tandem_buf_put_u8(&b, 1));
    CHECK_OK(tandem_buf_append(&b, bad_list, 1));
    tandem_job_batch_value jb;
    int rc = tandem_job_batch_value_decode(b.data, b.len, &jb, NULL, &d);
    CHECK_RC(TANDEM_ECORRUPT, rc);
    CHECK_CONTAINS(d.message, "job_keys");
    tandem_buf_free(&b);
}

static void test_value_lists(void)
{
    tandem_buf list = TANDEM_BUF_INIT;
    CHECK_OK(tandem_value_list_add_str(&list, tandem_sv_of("a")));
    CHECK_OK(tandem_value_list_add_uint(&list, 9));
    CHECK_OK(tandem_value_list_add_str(&list, tandem_sv_of("")));
    tandem_value_list it;
    tandem_value_list_init(&it, (tandem_sv){(const char *)list.data, list.len});
    tandem_field f;
    CHECK(tandem_value_list_next(&it, &f));
    CHECK_EQ_U64(TANDEM_WIRE_STRING, f.wire);
    CHECK(tandem_value_list_next(&it, &f));
    CHECK_EQ_U64(9, f.u);
    CHECK(tandem_value_list_next(&it, &f));
    CHECK_EQ_U64(0, f.len);
    CHECK(!tandem_value_list_next(&it, &f));
    CHECK_EQ_U64(0, it.fr.error);
    CHECK_STREQ("SERVICE_TASK", tandem_bpmn_element_type_name(TANDEM_ELEMENT_SERVICE_TASK));
    CHECK_STREQ("UNSPECIFIED", tandem_bpmn_element_type_name(99));
    CHECK_STREQ("JOB_NO_RETRIES", tandem_incident_error_type_name(TANDEM_INCIDENT_JOB_NO_RETRIES));
    CHECK(tandem_sv_eq_cstr(tandem_sv_of(NULL), ""));
    tandem_buf_free(&list);
}

static const tandem_test cases[] = {
    {"random_replay", test_random_replay},
    {"lmdb_same_digest", test_lmdb_same_digest},
    {"apply_ignores_commands", test_apply_ignores_commands},
    {"engine_config", test_engine_config},
    {"value_roundtrip_unknown", test_value_roundtrip_unknown},
    {"value_malformed", test_value_malformed},
    {"value_lists", test_value_lists},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
