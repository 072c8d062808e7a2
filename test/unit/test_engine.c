/*
 * Engine flows: the exact record sequences of deployment, instance creation,
 * job activation/completion/failure, timeouts, back-off and cancellation,
 * rejections with their reasons. Every command also checks that a follower
 * applying the batch reaches the leader's state digest (harness).
 */
#include "test_engine_harness.h"

#define ONE_TASK                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">\n"                              \
    "<bpmn:process id=\"order\" isExecutable=\"true\">\n"                                          \
    "<bpmn:startEvent id=\"start\"/>\n"                                                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"charge\"/>\n"                    \
    "<bpmn:serviceTask id=\"charge\">\n"                                                           \
    "<bpmn:extensionElements><zeebe:taskDefinition type=\"charge-card\" retries=\"RETRIES\"/>"     \
    "<zeebe:taskHeaders><zeebe:header key=\"currency\" value=\"EUR\"/></zeebe:taskHeaders>"        \
    "</bpmn:extensionElements>\n"                                                                  \
    "</bpmn:serviceTask>\n"                                                                        \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"charge\" targetRef=\"end\"/>\n"                      \
    "<bpmn:endEvent id=\"end\"/>\n"                                                                \
    "</bpmn:process>\n"                                                                            \
    "</bpmn:definitions>\n"

#define NO_TASK                                                                                    \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=\"d\">"       \
    "<bpmn:process id=\"empty\" isExecutable=\"true\">"                                            \
    "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"     \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

#define GATEWAY                                                                                    \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=\"d\">"       \
    "<bpmn:process id=\"gw\" isExecutable=\"true\">"                                               \
    "<bpmn:startEvent id=\"s\"/><bpmn:exclusiveGateway id=\"Gateway_1\"/>"                         \
    "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"Gateway_1\"/>"                        \
    "</bpmn:process></bpmn:definitions>"

/* ONE_TASK with a retries value in place of RETRIES. */
static const char *one_task(int retries)
{
    static char xml[4096];
    const char *tpl = ONE_TASK;
    const char *at = strstr(tpl, "RETRIES");
    CHECK(at != NULL);
    snprintf(xml, sizeof(xml), "%.*s%d%s", (int)(at - tpl), tpl, retries, at + 7);
    return xml;
}

static uint64_t deploy_one_task(harness *h, int retries)
{
    const tandem_engine_output *out = deploy1(h, "order.bpmn", one_task(retries));
    return out
        ->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS,
                           TANDEM_INTENT_PROCESS_CREATED, 0)]
        .key;
}

static uint64_t pi_key_of(const tandem_engine_output *out)
{
    return out
        ->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                           TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED, 0)]
        .key;
}

static uint64_t job_key_of(const tandem_engine_output *out)
{
    return out
        ->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_CREATED,
                           0)]
        .key;
}

static uint32_t activate_count(harness *h, const char *type, uint64_t *keys, tandem_job_value *jobs)
{
    const tandem_engine_output *out = activate(h, type, 10, 60000, NULL);
    CHECK_STREQ("E JOB_BATCH ACTIVATED\n", h->trace);
    return batch_jobs(response(out), keys, jobs, 16);
}

/* ---- Deployment ---------------------------------------------------------- */

static void test_deploy_records(void)
{
    harness h;
    harness_init(&h);
    const tandem_engine_output *out = deploy1(&h, "order.bpmn", one_task(5));
    CHECK_STREQ("E PROCESS CREATED\nE DEPLOYMENT CREATED\n", h.trace);
    const tandem_record *proc = &out->records[1], *dep = response(out);
    CHECK_EQ_U64(2, out->response_index);
    CHECK_EQ_U64(7, dep->request_stream_id);
    CHECK_EQ_U64(42, dep->request_id);
    /* Keys: deployment first, then the process (Zeebe's first key is 2^51+1). */
    CHECK_EQ_U64(tandem_key_encode(1, 1), dep->key);
    CHECK_EQ_U64(tandem_key_encode(1, 2), proc->key);
    tandem_process_value pv;
    CHECK_OK(tandem_process_value_decode(proc->value, proc->value_len, &pv, NULL, NULL));
    sv_check("order", pv.bpmn_process_id);
    CHECK_EQ_I64(1, pv.version);
    sv_check("order.bpmn", pv.resource_name);
    CHECK_EQ_U64(32, pv.checksum.len);
    CHECK_EQ_U64(strlen(one_task(5)), pv.resource.len);
    CHECK_EQ_U64(dep->key, pv.deployment_key);
    /* The deployment lists its processes without the XML. */
    tandem_deployment_value dv;
    CHECK_OK(tandem_deployment_value_decode(dep->value, dep->value_len, &dv, NULL, NULL));
    tandem_value_list it;
    tandem_value_list_init(&it, dv.processes);
    tandem_field f;
    CHECK(tandem_value_list_next(&it, &f));
    CHECK_OK(tandem_process_value_decode(f.data, f.len, &pv, NULL, NULL));
    CHECK_EQ_U64(proc->key, pv.process_definition_key);
    CHECK_EQ_U64(0, pv.resource.len);
    CHECK(!pv.duplicate);
    CHECK(!tandem_value_list_next(&it, &f));
    harness_free(&h);
}

static void test_deploy_versions(void)
{
    harness h;
    harness_init(&h);
    uint64_t k1 = deploy_one_task(&h, 5);
    /* Identical bytes: same key and version, no PROCESS CREATED. */
    const tandem_engine_output *out = deploy1(&h, "order.bpmn", one_task(5));
    CHECK_STREQ("E DEPLOYMENT CREATED\n", h.trace);
    tandem_deployment_value dv;
    const tandem_record *dep = response(out);
    CHECK_OK(tandem_deployment_value_decode(dep->value, dep->value_len, &dv, NULL, NULL));
    tandem_value_list it;
    tandem_value_list_init(&it, dv.processes);
    tandem_field f;
    CHECK(tandem_value_list_next(&it, &f));
    tandem_process_value pv;
    CHECK_OK(tandem_process_value_decode(f.data, f.len, &pv, NULL, NULL));
    CHECK_EQ_U64(k1, pv.process_definition_key);
    CHECK_EQ_I64(1, pv.version);
    CHECK(pv.duplicate);
    /* Changed bytes: the next version with a new key. */
    uint64_t k2 = deploy_one_task(&h, 2);
    CHECK(k2 != k1);
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    tandem_process_instance_creation_value cv;
    const tandem_record *created = response(out);
    CHECK_OK(tandem_process_instance_creation_value_decode(created->value, created->value_len, &cv,
                                                           NULL, NULL));
    CHECK_EQ_U64(k2, cv.process_definition_key);
    CHECK_EQ_I64(2, cv.version);
    /* Version 1 is still there, by version and by key. */
    out = create_pi(&h, "order", 1, TANDEM_KEY_NONE, NULL, false, NULL);
    created = response(out);
    CHECK_OK(tandem_process_instance_creation_value_decode(created->value, created->value_len, &cv,
                                                           NULL, NULL));
    CHECK_EQ_U64(k1, cv.process_definition_key);
    out = create_pi(&h, "", -1, k1, NULL, false, NULL);
    created = response(out);
    CHECK_OK(tandem_process_instance_creation_value_decode(created->value, created->value_len, &cv,
                                                           NULL, NULL));
    sv_check("order", cv.bpmn_process_id);
    CHECK_EQ_I64(1, cv.version);
    /* Redeploying version 1's bytes is a change against the latest (2). */
    uint64_t k3 = deploy_one_task(&h, 5);
    CHECK(k3 != k1 && k3 != k2);
    harness_free(&h);
}

static void test_deploy_rejections(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    uint64_t before[2], after[2];
    harness_digest(h.kv, before);
    const tandem_engine_output *out = deploy1(&h, "broken.bpmn", "<bpmn:definitions");
    CHECK_STREQ("R DEPLOYMENT CREATE INVALID_ARGUMENT\n", h.trace);
    const tandem_record *r = response(out);
    char text[600];
    snprintf(text, sizeof(text), "%.*s", (int)r->rejection_reason_len, r->rejection_reason);
    CHECK_CONTAINS(text, "Expected to deploy new resources, but encountered the following errors:");
    CHECK_CONTAINS(text, "broken.bpmn");
    out = deploy1(&h, "gw.bpmn", GATEWAY);
    r = response(out);
    snprintf(text, sizeof(text), "%.*s", (int)r->rejection_reason_len, r->rejection_reason);
    CHECK_CONTAINS(text, "gw.bpmn");
    CHECK_CONTAINS(text, "Gateway_1");
    /* Atomic: a good resource next to a bad one deploys nothing. */
    const char *names[] = {"new.bpmn", "gw.bpmn"};
    const char *xmls[] = {NO_TASK, GATEWAY};
    out = deploy(&h, 2, names, xmls);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_ARGUMENT, response(out)->rejection_type);
    /* The same process id twice in one deployment. */
    const char *names2[] = {"a.bpmn", "b.bpmn"};
    const char *xmls2[] = {NO_TASK, NO_TASK};
    out = deploy(&h, 2, names2, xmls2);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to deploy new resources, but encountered the following errors:\n"
                    "Duplicated process id in resources 'a.bpmn' and 'b.bpmn'");
    out = deploy(&h, 0, NULL, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to deploy at least one resource, but none given");
    /* Rejections change nothing but the applied position. */
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_read(h.kv, &t, NULL));
    uint64_t d1[2];
    CHECK_OK(tandem_kv_txn_digest(t, d1, NULL));
    tandem_kv_abort(t);
    harness_digest(h.kv, after);
    (void)d1;
    CHECK(before[0] != after[0] || before[1] != after[1]); /* the position moved */
    create_pi(&h, "empty", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    CHECK_CONTAINS(h.trace, "R PROCESS_INSTANCE_CREATION CREATE NOT_FOUND");
    harness_free(&h);
}

/* ---- Instances and jobs ------------------------------------------------- */

static void test_create_and_complete(void)
{
    harness h;
    harness_init(&h);
    uint64_t def = deploy_one_task(&h, 5);
    const tandem_engine_output *out = create_pi(&h, "order", -1, TANDEM_KEY_NONE,
                                                "{\"total\":12.5,\"items\":[1,2]}", false, NULL);
    CHECK_STREQ("E VARIABLE CREATED\n"
                "E VARIABLE CREATED\n"
                "C PROCESS_INSTANCE ACTIVATE_ELEMENT PROCESS order\n"
                "E PROCESS_INSTANCE_CREATION CREATED\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATING START_EVENT start\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED START_EVENT start\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING START_EVENT start\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED START_EVENT start\n"
                "E PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN SEQUENCE_FLOW f1\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATING SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED SERVICE_TASK charge\n"
                "E JOB CREATED\n",
                h.trace);
    uint64_t pi = pi_key_of(out);
    CHECK_EQ_U64(pi, out->records[3].key); /* ACTIVATE_ELEMENT of the process */
    CHECK_EQ_U64(pi, out->records[5].key); /* process ACTIVATING */
    CHECK(out->records[7].key != pi);      /* the start event has its own key */
    CHECK_EQ_U64(out->records[7].key, out->records[10].key);
    CHECK_EQ_U64(4, out->response_index);
    CHECK_EQ_U64(1, out->activatable_type_count);
    sv_check("charge-card", out->activatable_types[0]);
    tandem_variable_value var;
    CHECK_OK(tandem_variable_value_decode(out->records[1].value, out->records[1].value_len, &var,
                                          NULL, NULL));
    sv_check("total", var.name);
    sv_check("12.5", var.value);
    CHECK_EQ_U64(pi, var.scope_key);
    uint64_t task_key = out->records[12].key;
    const tandem_record *jr = &out->records[14];
    tandem_job_value job;
    CHECK_OK(tandem_job_value_decode(jr->value, jr->value_len, &job, NULL, NULL));
    sv_check("charge-card", job.type);
    CHECK_EQ_I64(5, job.retries);
    sv_check("{\"currency\":\"EUR\"}", job.custom_headers);
    CHECK_EQ_U64(task_key, job.element_instance_key);
    CHECK_EQ_U64(pi, job.process_instance_key);
    CHECK_EQ_U64(def, job.process_definition_key);
    sv_check("charge", job.element_id);

    h.now_ms += 10;
    uint64_t keys[16];
    tandem_job_value jobs[16];
    out = activate(&h, "charge-card", 10, 30000, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 16));
    CHECK_EQ_U64(jr->key == keys[0] ? keys[0] : jr->key, keys[0]);
    sv_check("worker-1", jobs[0].worker);
    CHECK_EQ_I64((int64_t)h.now_ms + 30000, jobs[0].deadline_ms);
    sv_check("{\"items\":[1,2],\"total\":12.5}", jobs[0].variables);
    sv_check("{\"currency\":\"EUR\"}", jobs[0].custom_headers);
    CHECK_EQ_I64(1, jobs[0].process_definition_version);
    sv_check("order", jobs[0].bpmn_process_id);
    /* Nothing more to activate. */
    CHECK_EQ_U64(0, activate_count(&h, "charge-card", keys, jobs));

    out = complete(&h, keys[0], "{\"total\":13,\"receipt\":\"r-1\"}");
    CHECK_STREQ("E JOB COMPLETED\n"
                "E VARIABLE UPDATED\n"
                "E VARIABLE CREATED\n"
                "C PROCESS_INSTANCE COMPLETE_ELEMENT SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN SEQUENCE_FLOW f2\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATING END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED PROCESS order\n",
                h.trace);
    CHECK_EQ_U64(1, out->response_index);
    CHECK_EQ_U64(task_key, out->records[4].key);
    CHECK_EQ_U64(pi, out->records[13].key);
    CHECK_EQ_U64(0, out->result_count);
    /* Everything of the instance is gone; completing again: no such job. */
    out = complete(&h, keys[0], NULL);
    char reason[200];
    snprintf(reason, sizeof(reason),
             "Expected to complete job with key '%llu', but no such job was found",
             (unsigned long long)keys[0]);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND, reason);
    out = cancel(&h, pi);
    snprintf(reason, sizeof(reason),
             "Expected to cancel a process instance with key '%llu', but no such process was found",
             (unsigned long long)pi);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND, reason);
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_read(h.kv, &t, NULL));
    uint32_t n;
    const char *const *names = tandem_engine_tables(&n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t count = 0;
        CHECK_OK(tandem_kv_count(t, i, &count, NULL));
        bool keeps = strcmp(names[i], "engine_meta") == 0 || strncmp(names[i], "process", 7) == 0 ||
                     strcmp(names[i], "deployment") == 0;
        CHECK_MSG(keeps || count == 0, "table %s keeps %llu rows", names[i],
                  (unsigned long long)count);
    }
    tandem_kv_abort(t);
    harness_free(&h);
}

static void test_create_rejections(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out = create_pi(&h, "nope", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to find process definition with process ID 'nope', but none found");
    out = create_pi(&h, "order", 3, TANDEM_KEY_NONE, NULL, false, NULL);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to find process definition with process ID 'order' and version "
                    "'3', but none found");
    out = create_pi(&h, "", -1, 12345, NULL, false, NULL);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to find process definition with key '12345', but none found");
    out = create_pi(&h, "", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected at least a bpmnProcessId or a key greater than -1, but none given");
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, "[1,2]", false, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected document to be a root level object, but was 'ARRAY'");
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"\":1}", false, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected variable names of 1 to 503 bytes without NUL characters, but got "
                    "'' (0 bytes)");
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"a\":", false, NULL);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_ARGUMENT, response(out)->rejection_type);
    CHECK(strstr(response(out)->rejection_reason, "Expected document to be valid JSON") != NULL);
    harness_free(&h);
}

static void test_await_result(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"a\":1,\"b\":2}", true, "b,c");
    CHECK_EQ_I64(-1, out->response_index); /* the client waits for the result */
    uint64_t pi = pi_key_of(out);
    uint64_t keys[16];
    tandem_job_value jobs[16];
    CHECK_EQ_U64(1, activate_count(&h, "charge-card", keys, jobs));
    out = complete(&h, keys[0], "{\"c\":3}");
    CHECK_EQ_U64(1, out->result_count);
    const tandem_engine_result *res = &out->results[0];
    CHECK_EQ_I64(7, res->request_stream_id);
    CHECK_EQ_I64(42, res->request_id);
    CHECK_EQ_U64(TANDEM_VALUE_PROCESS_INSTANCE_RESULT, res->record.value_type);
    CHECK_EQ_U64(pi, res->record.key);
    tandem_process_instance_result_value rv;
    CHECK_OK(tandem_process_instance_result_value_decode(res->record.value, res->record.value_len,
                                                         &rv, NULL, NULL));
    sv_check("{\"b\":2,\"c\":3}", rv.variables);
    sv_check("order", rv.bpmn_process_id);
    CHECK_EQ_U64(pi, rv.process_instance_key);

    /* A process without a wait state answers in the creation batch. */
    deploy1(&h, "empty.bpmn", NO_TASK);
    out = create_pi(&h, "empty", -1, TANDEM_KEY_NONE, "{\"x\":\"y\"}", true, NULL);
    CHECK_EQ_U64(1, out->result_count);
    CHECK_OK(tandem_process_instance_result_value_decode(
        out->results[0].record.value, out->results[0].record.value_len, &rv, NULL, NULL));
    sv_check("{\"x\":\"y\"}", rv.variables);
    CHECK_CONTAINS(h.trace, "E PROCESS_INSTANCE ELEMENT_COMPLETED PROCESS empty\n");
    harness_free(&h);
}

static void test_fail_incident(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t pi = pi_key_of(out);
    uint64_t job = job_key_of(out);
    uint64_t keys[16];
    tandem_job_value jobs[16];
    CHECK_EQ_U64(1, activate_count(&h, "charge-card", keys, jobs));
    /* Retries left and no back-off: activatable again at once. */
    out = fail(&h, job, 1, 0, "card declined");
    CHECK_STREQ("E JOB FAILED\n", h.trace);
    CHECK_EQ_U64(1, out->activatable_type_count);
    CHECK_EQ_U64(1, activate_count(&h, "charge-card", keys, jobs));
    CHECK_EQ_I64(1, jobs[0].retries);
    sv_check("card declined", jobs[0].error_message);
    out = fail(&h, job, 0, 0, "");
    CHECK_STREQ("E JOB FAILED\nE INCIDENT CREATED\n", h.trace);
    const tandem_record *ir = &out->records[2];
    tandem_incident_value inc;
    CHECK_OK(tandem_incident_value_decode(ir->value, ir->value_len, &inc, NULL, NULL));
    CHECK_EQ_U64(TANDEM_INCIDENT_JOB_NO_RETRIES, inc.error_type);
    sv_check("No more retries left.", inc.error_message);
    CHECK_EQ_U64(job, inc.job_key);
    CHECK_EQ_U64(pi, inc.process_instance_key);
    sv_check("charge", inc.element_id);
    CHECK_EQ_U64(0, activate_count(&h, "charge-card", keys, jobs));
    out = complete(&h, job, NULL);
    char reason[200];
    snprintf(reason, sizeof(reason),
             "Expected to complete job with key '%llu', but it is in state 'FAILED'",
             (unsigned long long)job);
    check_rejection(out, TANDEM_REJECTION_INVALID_STATE, reason);
    /* Cancelling resolves the incident with the job. */
    out = cancel(&h, pi);
    CHECK_STREQ("E PROCESS_INSTANCE ELEMENT_TERMINATING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATING SERVICE_TASK charge\n"
                "E JOB CANCELED\n"
                "E INCIDENT RESOLVED\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED PROCESS order\n",
                h.trace);
    CHECK_EQ_U64(ir->key == out->records[4].key ? 1 : 1, 1);
    CHECK_EQ_U64(1, out->response_index);
    harness_free(&h);
}

static void test_backoff_and_timeout(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t job = job_key_of(out);
    uint64_t keys[16];
    tandem_job_value jobs[16];
    tandem_record cmds[8];
    tandem_buf values[8];
    for (int i = 0; i < 8; i++) {
        tandem_buf_init(&values[i]);
    }
    int64_t next = 0;
    CHECK_EQ_U64(0, due(&h, cmds, values, 8, &next));
    CHECK_EQ_I64(INT64_MAX, next);

    /* Timeout: the deadline passes, the job is activatable again. */
    out = activate(&h, "charge-card", 1, 100, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 16));
    h.now_ms += 99;
    CHECK_EQ_U64(0, due(&h, cmds, values, 8, &next));
    CHECK_EQ_I64((int64_t)T0_MS + 100, next);
    h.now_ms += 1;
    CHECK_EQ_U64(1, due(&h, cmds, values, 8, &next));
    CHECK_EQ_U64(TANDEM_INTENT_JOB_TIME_OUT, cmds[0].intent);
    CHECK_EQ_U64(job, cmds[0].key);
    out = process(&h, &cmds[0]);
    CHECK_STREQ("E JOB TIMED_OUT\n", h.trace);
    CHECK_EQ_U64(1, out->activatable_type_count);
    /* The same due command again (a leader may write it twice): rejected. */
    out = process(&h, &cmds[0]);
    CHECK_STREQ("R JOB TIME_OUT INVALID_STATE\n", h.trace);

    /* Timeout extended: not timed out at the old deadline. */
    out = activate(&h, "charge-card", 1, 100, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 16));
    tandem_job_value upd;
    tandem_job_value_init(&upd);
    upd.timeout_ms = 5000;
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE_TIMEOUT, job, &upd);
    CHECK_STREQ("E JOB TIMEOUT_UPDATED\n", h.trace);
    h.now_ms += 100;
    CHECK_EQ_U64(0, due(&h, cmds, values, 8, &next));
    CHECK_EQ_I64((int64_t)h.now_ms - 100 + 5000, next);

    /* Back-off: failed with retries, handed out only after the back-off. */
    out = fail(&h, job, 2, 1000, "try later");
    CHECK_STREQ("E JOB FAILED\n", h.trace);
    CHECK_EQ_U64(0, out->activatable_type_count);
    CHECK_EQ_U64(0, activate_count(&h, "charge-card", keys, jobs));
    h.now_ms += 999;
    CHECK_EQ_U64(0, due(&h, cmds, values, 8, &next));
    CHECK_EQ_I64((int64_t)h.now_ms + 1, next);
    h.now_ms += 1;
    for (int i = 0; i < 8; i++) {
        tandem_buf_reset(&values[i]);
    }
    CHECK_EQ_U64(1, due(&h, cmds, values, 8, &next));
    CHECK_EQ_U64(TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF, cmds[0].intent);
    out = process(&h, &cmds[0]);
    CHECK_STREQ("E JOB RECURRED_AFTER_BACKOFF\n", h.trace);
    CHECK_EQ_U64(1, activate_count(&h, "charge-card", keys, jobs));
    CHECK_EQ_I64(2, jobs[0].retries);
    for (int i = 0; i < 8; i++) {
        tandem_buf_free(&values[i]);
    }
    harness_free(&h);
}

static void test_job_updates(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t job = job_key_of(out);
    tandem_job_value upd;
    tandem_job_value_init(&upd);
    upd.retries = 9;
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE_RETRIES, job, &upd);
    CHECK_STREQ("E JOB RETRIES_UPDATED\n", h.trace);
    upd.retries = 0;
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE_RETRIES, job, &upd);
    char reason[200];
    snprintf(reason, sizeof(reason),
             "Expected to update retries of job with key '%llu' to a positive number, but got 0",
             (unsigned long long)job);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT, reason);
    /* A timeout needs an activated job. */
    upd.timeout_ms = 10;
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE_TIMEOUT, job, &upd);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_STATE, response(out)->rejection_type);
    /* UPDATE with a changeset of both. */
    uint64_t keys[16];
    tandem_job_value jobs[16];
    CHECK_EQ_U64(1, activate_count(&h, "charge-card", keys, jobs));
    CHECK_EQ_I64(9, jobs[0].retries);
    tandem_buf changed = TANDEM_BUF_INIT;
    CHECK_OK(tandem_value_list_add_str(&changed, tandem_sv_of("retries")));
    CHECK_OK(tandem_value_list_add_str(&changed, tandem_sv_of("timeout")));
    upd.retries = 4;
    upd.timeout_ms = 777;
    upd.changed_attributes = (tandem_sv){(const char *)changed.data, changed.len};
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE, job, &upd);
    CHECK_STREQ("E JOB RETRIES_UPDATED\nE JOB TIMEOUT_UPDATED\n", h.trace);
    CHECK_EQ_U64(1, out->response_index);
    tandem_job_value ev;
    CHECK_OK(
        tandem_job_value_decode(out->records[2].value, out->records[2].value_len, &ev, NULL, NULL));
    CHECK_EQ_I64((int64_t)h.now_ms + 777, ev.deadline_ms);
    CHECK_EQ_I64(4, ev.retries);
    tandem_buf_free(&changed);
    upd.changed_attributes = (tandem_sv){"", 0};
    /* Unknown job. */
    out = job_cmd(&h, TANDEM_INTENT_JOB_UPDATE_RETRIES, 99, &upd);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to update retries of job with key '99', but no such job was found");
    /* Found by fuzzing: a job command without a key is NOT_FOUND, not an abort. */
    out = complete(&h, TANDEM_KEY_NONE, NULL);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    out = cancel(&h, TANDEM_KEY_NONE);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    out = fail(&h, 99, 1, 0, "x");
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to fail job with key '99', but no such job was found");
    harness_free(&h);
}

static void test_cancel(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"v\":1}", false, NULL);
    uint64_t pi = pi_key_of(out);
    uint64_t job = job_key_of(out);
    out = cancel(&h, pi);
    CHECK_STREQ("E PROCESS_INSTANCE ELEMENT_TERMINATING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATING SERVICE_TASK charge\n"
                "E JOB CANCELED\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED PROCESS order\n",
                h.trace);
    CHECK_EQ_U64(job, out->records[3].key);
    out = complete(&h, job, NULL);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    uint64_t keys[16];
    tandem_job_value jobs[16];
    CHECK_EQ_U64(0, activate_count(&h, "charge-card", keys, jobs));
    harness_free(&h);
}

static void test_batch_rejections_and_limits(void)
{
    harness h;
    harness_init(&h);
    deploy_one_task(&h, 5);
    for (int i = 0; i < 5; i++) {
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    }
    const tandem_engine_output *out = activate(&h, "", 1, 100, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to activate job batch with type to be present, but it was blank");
    out = activate(&h, "charge-card", 0, 100, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to activate job batch with max jobs to activate to be greater than "
                    "zero, but it was '0'");
    out = activate(&h, "charge-card", 1, 0, NULL);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to activate job batch with timeout to be greater than zero, but it "
                    "was '0'");
    uint64_t keys[16];
    tandem_job_value jobs[16];
    out = activate(&h, "charge-card", 3, 100, NULL);
    CHECK_EQ_U64(3, batch_jobs(response(out), keys, jobs, 16));
    CHECK(keys[0] < keys[1] && keys[1] < keys[2]); /* oldest first */
    CHECK_EQ_U64(2, activate_count(&h, "charge-card", keys, jobs));
    CHECK_EQ_U64(0, activate_count(&h, "other-type", keys, jobs));
    /* The read-only peek a long-polling gateway uses. */
    tandem_kv_txn *t;
    bool any = true;
    CHECK_OK(tandem_kv_begin_read(h.kv, &t, NULL));
    CHECK_OK(tandem_engine_has_activatable(h.engine, t, "charge-card", 11, &any, NULL));
    CHECK(!any);
    CHECK_OK(tandem_engine_has_activatable(h.engine, t, "charge", 6, &any, NULL));
    CHECK(!any);
    tandem_kv_abort(t);
    create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    CHECK_OK(tandem_kv_begin_read(h.kv, &t, NULL));
    CHECK_OK(tandem_engine_has_activatable(h.engine, t, "charge-card", 11, &any, NULL));
    CHECK(any);
    CHECK_OK(tandem_engine_has_activatable(h.engine, t, "", 0, &any, NULL));
    CHECK(!any);
    tandem_kv_abort(t);
    /* An unsupported command is rejected, not an error. */
    tandem_buf empty = TANDEM_BUF_INIT;
    tandem_record cmd =
        command(TANDEM_VALUE_MESSAGE, TANDEM_INTENT_MESSAGE_PUBLISH, TANDEM_KEY_NONE, &empty);
    out = process(&h, &cmd);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected to process a supported command, but MESSAGE PUBLISH is not "
                    "supported");
    cmd = command(TANDEM_VALUE_PROCESS_INSTANCE, TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT, 5,
                  &empty);
    out = process(&h, &cmd);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_ARGUMENT, response(out)->rejection_type);
    harness_free(&h);
}

static const tandem_test cases[] = {
    {"deploy_records", test_deploy_records},
    {"deploy_versions", test_deploy_versions},
    {"deploy_rejections", test_deploy_rejections},
    {"create_and_complete", test_create_and_complete},
    {"create_rejections", test_create_rejections},
    {"await_result", test_await_result},
    {"fail_incident", test_fail_incident},
    {"backoff_and_timeout", test_backoff_and_timeout},
    {"job_updates", test_job_updates},
    {"cancel", test_cancel},
    {"batch_rejections_and_limits", test_batch_rejections_and_limits},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
