/*
 * fuzz_engine.c — arbitrary command values processed by the engine.
 *
 * The state holds a deployed one-task process, one instance and its job,
 * activated, and an instance of a process with mappings stopped at an
 * incident. Each input is one command against that state (in a transaction
 * that is thrown away): the first byte picks the command, the second its key
 * (none, the job, the instance, the definition, the incident, the task
 * element waiting on it, or 8 bytes of the input),
 * the rest is the value. Every input must give a batch (events or one
 * rejection), never an error, crash or leak; and applying the batch's events
 * to the state before the command must give the digest the command left.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "protocol/key.h"
#include "state/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define XML                                                                                        \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">"                                \
    "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                     \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>"                               \
    "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"                                          \
    "<zeebe:taskDefinition type=\"work\" retries=\"2\"/></bpmn:extensionElements>"                 \
    "</bpmn:serviceTask><bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>"            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

/* Input mapping fails without `a`: its instance waits at an incident. */
#define XML_MAPPED                                                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">"                                \
    "<bpmn:process id=\"q\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                     \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>"                               \
    "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"                                          \
    "<zeebe:taskDefinition type=\"=kind\" retries=\"=n\"/><zeebe:ioMapping>"                       \
    "<zeebe:input source=\"=assert(a, a != null)\" target=\"x.y\"/>"                               \
    "<zeebe:output source=\"=a + 1\" target=\"b\"/></zeebe:ioMapping></bpmn:extensionElements>"    \
    "</bpmn:serviceTask><bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>"            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static const struct {
    uint8_t value_type;
    uint16_t intent;
} commands[] = {
    {TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE},
    {TANDEM_VALUE_PROCESS_INSTANCE_CREATION, TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE},
    {TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
     TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT},
    {TANDEM_VALUE_PROCESS_INSTANCE, TANDEM_INTENT_PROCESS_INSTANCE_CANCEL},
    {TANDEM_VALUE_PROCESS_INSTANCE, TANDEM_INTENT_PROCESS_INSTANCE_ACTIVATE_ELEMENT},
    {TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATE},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_COMPLETE},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_FAIL},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_TIME_OUT},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_UPDATE_RETRIES},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_UPDATE_TIMEOUT},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_UPDATE},
    {TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF},
    {TANDEM_VALUE_MESSAGE, TANDEM_INTENT_MESSAGE_PUBLISH},
    {TANDEM_VALUE_INCIDENT, TANDEM_INTENT_INCIDENT_RESOLVE},
    {TANDEM_VALUE_VARIABLE_DOCUMENT, TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATE},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static tandem_kv *kv;
static tandem_engine *engine;
static tandem_engine_output out;
static uint64_t position = 1;
static uint64_t job_key, pi_key, def_key, incident_key, task_key;

static void must(int ok)
{
    if (!ok) {
        abort();
    }
}

static tandem_kv *open_state(void)
{
    uint32_t n;
    const char *const *names = tandem_engine_tables(&n);
    tandem_kv_options o = {names, n, 0};
    tandem_kv *k = NULL;
    must(tandem_kv_open_mem(&o, &k, NULL) == 0);
    return k;
}

/* Processes and commits one command during setup; returns the key of the
 * first event of the given value type and intent. */
static uint64_t setup_command(uint8_t vt, uint16_t intent, uint64_t key, const tandem_buf *value,
                              uint8_t want_vt, uint16_t want_intent)
{
    tandem_record cmd;
    tandem_record_init(&cmd);
    cmd.record_type = TANDEM_RECORD_COMMAND;
    cmd.value_type = vt;
    cmd.intent = intent;
    cmd.key = key;
    cmd.partition_id = 1;
    cmd.timestamp_ms = 1000;
    cmd.position = position;
    cmd.value = value->data;
    cmd.value_len = value->len;
    tandem_kv_txn *t;
    must(tandem_kv_begin_write(kv, &t, NULL) == 0);
    must(tandem_engine_process(engine, t, &cmd, &out, NULL) == 0);
    position += out.record_count;
    must(tandem_kv_commit(t, position - 1, NULL) == 0);
    for (uint32_t i = 0; i < out.record_count; i++) {
        if (out.records[i].record_type == TANDEM_RECORD_EVENT &&
            out.records[i].value_type == want_vt && out.records[i].intent == want_intent) {
            return out.records[i].key;
        }
    }
    abort();
}

static void deploy(const char *name, const char *xml, tandem_buf *value)
{
    tandem_buf item = TANDEM_BUF_INIT, list = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &item);
    tandem_field_put_cstr(&w, 1, name);
    tandem_field_put_bytes(&w, 2, xml, strlen(xml));
    must(tandem_field_writer_finish(&w) == 0);
    must(tandem_value_list_add_nested(&list, item.data, item.len) == 0);
    tandem_deployment_value dv;
    tandem_deployment_value_init(&dv);
    dv.resources = (tandem_sv){(const char *)list.data, list.len};
    tandem_buf_reset(value);
    must(tandem_deployment_value_encode(&dv, value) == 0);
    tandem_buf_free(&item);
    tandem_buf_free(&list);
}

/* An instance of the mapped process, at its incident. */
static void setup_incident(tandem_buf *value)
{
    deploy("q.bpmn", XML_MAPPED, value);
    setup_command(TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE, TANDEM_KEY_NONE, value,
                  TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED);
    tandem_buf_reset(value);
    tandem_process_instance_creation_value cv;
    tandem_process_instance_creation_value_init(&cv);
    cv.bpmn_process_id = tandem_sv_of("q");
    cv.variables = tandem_sv_of("{\"kind\":\"work\",\"n\":2}");
    must(tandem_process_instance_creation_value_encode(&cv, value) == 0);
    incident_key = setup_command(TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                                 TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE, TANDEM_KEY_NONE,
                                 value, TANDEM_VALUE_INCIDENT, TANDEM_INTENT_INCIDENT_CREATED);
    for (uint32_t i = 0; i < out.record_count; i++) {
        if (out.records[i].value_type == TANDEM_VALUE_INCIDENT) {
            tandem_incident_value iv;
            must(tandem_incident_value_decode(out.records[i].value, out.records[i].value_len, &iv,
                                              NULL, NULL) == 0);
            task_key = iv.element_instance_key;
        }
    }
    must(task_key != 0);
}

static void setup(void)
{
    kv = open_state();
    tandem_engine_config c = {1, 0, 1};
    must(tandem_engine_create(&c, &engine, NULL) == 0);
    tandem_engine_output_init(&out);
    tandem_buf item = TANDEM_BUF_INIT, list = TANDEM_BUF_INIT, value = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &item);
    tandem_field_put_cstr(&w, 1, "p.bpmn");
    tandem_field_put_bytes(&w, 2, XML, strlen(XML));
    must(tandem_field_writer_finish(&w) == 0);
    must(tandem_value_list_add_nested(&list, item.data, item.len) == 0);
    tandem_deployment_value dv;
    tandem_deployment_value_init(&dv);
    dv.resources = (tandem_sv){(const char *)list.data, list.len};
    must(tandem_deployment_value_encode(&dv, &value) == 0);
    def_key =
        setup_command(TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE, TANDEM_KEY_NONE,
                      &value, TANDEM_VALUE_PROCESS, TANDEM_INTENT_PROCESS_CREATED);
    tandem_buf_reset(&value);
    tandem_process_instance_creation_value cv;
    tandem_process_instance_creation_value_init(&cv);
    cv.bpmn_process_id = tandem_sv_of("p");
    must(tandem_process_instance_creation_value_encode(&cv, &value) == 0);
    job_key = setup_command(TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                            TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE, TANDEM_KEY_NONE, &value,
                            TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_CREATED);
    pi_key = out.records[3].key;
    tandem_buf_reset(&value);
    tandem_job_batch_value bv;
    tandem_job_batch_value_init(&bv);
    bv.type = tandem_sv_of("work");
    bv.timeout_ms = 500;
    bv.max_jobs_to_activate = 1;
    must(tandem_job_batch_value_encode(&bv, &value) == 0);
    setup_command(TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATE, TANDEM_KEY_NONE, &value,
                  TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATED);
    setup_incident(&value);
    tandem_buf_free(&item);
    tandem_buf_free(&list);
    tandem_buf_free(&value);
}

static void digest(tandem_kv_txn *t, uint64_t d[2])
{
    must(tandem_kv_txn_digest(t, d, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (engine == NULL) {
        setup();
    }
    if (size < 2) {
        return 0;
    }
    tandem_record cmd;
    tandem_record_init(&cmd);
    cmd.record_type = TANDEM_RECORD_COMMAND;
    cmd.value_type = commands[data[0] % COMMAND_COUNT].value_type;
    cmd.intent = commands[data[0] % COMMAND_COUNT].intent;
    cmd.partition_id = 1;
    cmd.timestamp_ms = 1000 + (uint64_t)data[1] * 10;
    cmd.position = position;
    cmd.request_id = 1;
    cmd.request_stream_id = 1;
    const uint64_t keys[] = {TANDEM_KEY_NONE, job_key, pi_key, def_key, incident_key, task_key};
    size_t used = 2;
    if (data[1] % 7 < 6) {
        cmd.key = keys[data[1] % 7];
    } else if (size >= 10) {
        memcpy(&cmd.key, data + 2, 8);
        used = 10;
    }
    cmd.value = data + used;
    cmd.value_len = size - used;

    tandem_kv_txn *t;
    must(tandem_kv_begin_write(kv, &t, NULL) == 0);
    uint64_t before[2], after[2], replayed[2];
    digest(t, before);
    tandem_diag d = {0};
    int rc = tandem_engine_process(engine, t, &cmd, &out, &d);
    /* Bad input is a rejection; only the bounds may stop a command. */
    must(rc == 0 || rc == TANDEM_ETOOBIG);
    if (rc == 0) {
        must(out.record_count >= 2);
        must(out.response_index >= 0 ||
             cmd.intent == TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT);
        digest(t, after);
    }
    tandem_kv_abort(t);
    if (rc != 0) {
        return 0;
    }
    /* Replay: the events alone, applied to the state before, give the same. */
    tandem_engine *follower;
    tandem_engine_config c = {1, 0, 1};
    must(tandem_engine_create(&c, &follower, NULL) == 0);
    must(tandem_kv_begin_write(kv, &t, NULL) == 0);
    digest(t, replayed);
    must(replayed[0] == before[0] && replayed[1] == before[1]);
    for (uint32_t i = 0; i < out.record_count; i++) {
        must(tandem_engine_apply(follower, t, &out.records[i], NULL) == 0);
    }
    digest(t, replayed);
    must(replayed[0] == after[0] && replayed[1] == after[1]);
    tandem_kv_abort(t);
    tandem_engine_destroy(follower);
    return 0;
}
