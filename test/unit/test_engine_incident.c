/*
 * Incidents and FEEL in the engine: resolving a job's incident once its
 * retries are raised, job type and retries expressions, input and output
 * mappings with the incidents their failures raise, resolving those after
 * the variables are fixed (VARIABLE_DOCUMENT UPDATE), and the deployment
 * rejection of an expression that does not parse. Every command also checks
 * that a follower applying the batch reaches the leader's digest (harness),
 * and the whole log is replayed at the end of each flow.
 */
#include "test_engine_harness.h"

#define XML_HEAD                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\">\n"                              \
    "<bpmn:process id=\"order\" isExecutable=\"true\">\n"                                          \
    "<bpmn:startEvent id=\"start\"/>\n"                                                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"charge\"/>\n"                    \
    "<bpmn:serviceTask id=\"charge\">\n"                                                           \
    "<bpmn:extensionElements>"
#define XML_TAIL                                                                                   \
    "</bpmn:extensionElements>\n"                                                                  \
    "</bpmn:serviceTask>\n"                                                                        \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"charge\" targetRef=\"end\"/>\n"                      \
    "<bpmn:endEvent id=\"end\"/>\n"                                                                \
    "</bpmn:process>\n"                                                                            \
    "</bpmn:definitions>\n"

/* A one-task process whose extension elements are `ext`. */
static const char *task_xml(const char *ext)
{
    static char xml[8192];
    snprintf(xml, sizeof(xml), "%s%s%s", XML_HEAD, ext, XML_TAIL);
    return xml;
}

static uint64_t key_of(const tandem_engine_output *out, uint8_t value_type, uint16_t intent)
{
    return out->records[find_rec(out, TANDEM_RECORD_EVENT, value_type, intent, 0)].key;
}

static tandem_incident_value incident_of(const tandem_engine_output *out, uint64_t *key)
{
    uint32_t i = find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_INCIDENT,
                          TANDEM_INTENT_INCIDENT_CREATED, 0);
    tandem_incident_value v;
    CHECK_OK(tandem_incident_value_decode(out->records[i].value, out->records[i].value_len, &v,
                                          NULL, NULL));
    *key = out->records[i].key;
    return v;
}

static const tandem_engine_output *resolve(harness *h, uint64_t incident_key)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_incident_value v;
    tandem_incident_value_init(&v);
    CHECK_OK(tandem_incident_value_encode(&v, &value));
    tandem_record cmd =
        command(TANDEM_VALUE_INCIDENT, TANDEM_INTENT_INCIDENT_RESOLVE, incident_key, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    return out;
}

static const tandem_engine_output *set_vars(harness *h, uint64_t scope, const char *json,
                                            bool local)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_variable_document_value v;
    tandem_variable_document_value_init(&v);
    v.scope_key = scope;
    v.update_semantics = local ? TANDEM_VARIABLES_LOCAL : TANDEM_VARIABLES_PROPAGATE;
    v.variables = tandem_sv_of(json);
    CHECK_OK(tandem_variable_document_value_encode(&v, &value));
    tandem_record cmd = command(TANDEM_VALUE_VARIABLE_DOCUMENT,
                                TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATE, TANDEM_KEY_NONE, &value);
    const tandem_engine_output *out = process(h, &cmd);
    tandem_buf_free(&value);
    return out;
}

static const tandem_engine_output *update_retries(harness *h, uint64_t job, int32_t retries)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.retries = retries;
    return job_cmd(h, TANDEM_INTENT_JOB_UPDATE_RETRIES, job, &v);
}

/* The n-th VARIABLE event of a batch: its name, value and scope. */
static void check_variable(const tandem_engine_output *out, uint16_t intent, uint32_t nth,
                           const char *name, const char *json, uint64_t scope)
{
    const tandem_record *r =
        &out->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_VARIABLE, intent, nth)];
    tandem_variable_value v;
    CHECK_OK(tandem_variable_value_decode(r->value, r->value_len, &v, NULL, NULL));
    sv_check(name, v.name);
    sv_check(json, v.value);
    CHECK_EQ_U64(scope, v.scope_key);
}

/* Replays the whole log into a fresh state: it must give the leader's digest. */
static void check_full_replay(harness *h)
{
    tandem_kv *kv = harness_kv();
    tandem_engine *e;
    tandem_engine_config c = {h->partition_id, 0, 1};
    tandem_diag d = {0};
    CHECK_OK(tandem_engine_create(&c, &e, &d));
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_write(kv, &t, &d));
    tandem_reader rd;
    tandem_reader_init(&rd, h->log.data, h->log.len);
    uint64_t last = 0;
    for (uint32_t i = 0; i < h->log_count; i++) {
        uint64_t position = tandem_read_u64(&rd);
        uint32_t len = tandem_read_u32(&rd);
        const uint8_t *bytes = tandem_read_bytes(&rd, len);
        CHECK(!rd.failed);
        tandem_record r;
        CHECK_MSG(tandem_record_decode(bytes, len, &r, &d) == 0, "%s", d.message);
        r.position = position;
        CHECK_MSG(tandem_engine_apply(e, t, &r, &d) == 0, "replay at %llu: %s",
                  (unsigned long long)position, d.message);
        last = position;
    }
    CHECK_EQ_U64(0, tandem_reader_left(&rd));
    CHECK_OK(tandem_kv_commit(t, last, &d));
    uint64_t a[2], b[2];
    harness_digest(h->kv, a);
    harness_digest(kv, b);
    CHECK(a[0] == b[0] && a[1] == b[1]);
    tandem_engine_destroy(e);
    tandem_kv_close(kv);
}

/* ---- Job incidents -------------------------------------------------------- */

static void test_job_incident_resolve(void)
{
    harness h;
    harness_init(&h);
    deploy1(&h, "order.bpmn",
            task_xml("<zeebe:taskDefinition type=\"charge-card\" retries=\"1\"/>"));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"amount\":5}", false, NULL);
    uint64_t job = key_of(out, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_CREATED);
    uint64_t keys[4];
    tandem_job_value jobs[4];
    out = activate(&h, "charge-card", 10, 60000, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
    CHECK_EQ_U64(job, keys[0]);
    out = fail(&h, job, 0, 0, "card declined");
    uint64_t inc_key;
    tandem_incident_value inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_JOB_NO_RETRIES, inc.error_type);
    /* Without retries the incident cannot be resolved. */
    out = resolve(&h, inc_key);
    char reason[300];
    snprintf(reason, sizeof(reason),
             "Expected to resolve incident with key '%llu', but job with key '%llu' has no "
             "retries left; update its retries first",
             (unsigned long long)inc_key, (unsigned long long)job);
    check_rejection(out, TANDEM_REJECTION_INVALID_STATE, reason);
    out = resolve(&h, inc_key + 1000);
    snprintf(reason, sizeof(reason),
             "Expected to resolve incident with key '%llu', but no such incident was found",
             (unsigned long long)(inc_key + 1000));
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND, reason);
    /* Raising the retries alone does not make the job activatable. */
    update_retries(&h, job, 2);
    CHECK_STREQ("E JOB RETRIES_UPDATED\n", h.trace);
    out = activate(&h, "charge-card", 10, 60000, NULL);
    CHECK_EQ_U64(0, batch_jobs(response(out), keys, jobs, 4));
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\n", h.trace);
    CHECK_EQ_U64(inc_key, response(out)->key);
    CHECK_EQ_U64(1, out->activatable_type_count);
    out = activate(&h, "charge-card", 10, 60000, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
    CHECK_EQ_U64(job, keys[0]);
    CHECK_EQ_I64(2, jobs[0].retries);
    out = complete(&h, job, NULL);
    CHECK_CONTAINS(h.trace, "E PROCESS_INSTANCE ELEMENT_COMPLETED PROCESS order\n");
    /* Resolved incidents are gone. */
    out = resolve(&h, inc_key);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    check_full_replay(&h);
    harness_free(&h);
}

/* ---- Job type and retries expressions -------------------------------------- */

static void test_job_expressions(void)
{
    harness h;
    harness_init(&h);
    deploy1(&h, "order.bpmn",
            task_xml("<zeebe:taskDefinition type=\"=&quot;pay-&quot; + kind\" "
                     "retries=\"=tries + 1\"/>"));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"kind\":\"card\",\"tries\":3}", false, NULL);
    CHECK_CONTAINS(h.trace, "E PROCESS_INSTANCE ELEMENT_ACTIVATED SERVICE_TASK charge\nE JOB "
                            "CREATED\n");
    out = activate(&h, "pay-card", 10, 60000, NULL);
    uint64_t keys[4];
    tandem_job_value jobs[4];
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
    CHECK_EQ_I64(4, jobs[0].retries);
    sv_check("pay-card", jobs[0].type);
    /* Without the variables: an EXTRACT_VALUE_ERROR naming the expression. */
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t pi = key_of(out, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                         TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED);
    CHECK_CONTAINS(h.trace, "E PROCESS_INSTANCE ELEMENT_ACTIVATING SERVICE_TASK charge\n"
                            "E INCIDENT CREATED\n");
    CHECK(strstr(h.trace, "ELEMENT_ACTIVATED SERVICE_TASK") == NULL);
    uint64_t inc_key;
    tandem_incident_value inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_EXTRACT_VALUE_ERROR, inc.error_type);
    CHECK_STREQ("EXTRACT_VALUE_ERROR", tandem_incident_error_type_name(inc.error_type));
    char msg[600];
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "Expected result of the expression '\"pay-\" + kind' to be 'STRING', but "
                        "was 'NULL'.");
    CHECK_CONTAINS(msg, "kind");
    CHECK(inc.job_key == TANDEM_KEY_NONE);
    CHECK(inc.element_instance_key != TANDEM_KEY_NONE);
    CHECK_EQ_U64(inc.element_instance_key, inc.variable_scope_key);
    /* Resolving without fixing the data raises a new incident. */
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\nC PROCESS_INSTANCE ACTIVATE_ELEMENT SERVICE_TASK charge\n"
                "E INCIDENT CREATED\n",
                h.trace);
    inc = incident_of(out, &inc_key);
    /* A retries expression of the wrong type is an incident too. */
    set_vars(&h, pi, "{\"kind\":\"card\",\"tries\":\"many\"}", false);
    CHECK_STREQ("E VARIABLE_DOCUMENT UPDATED\nE VARIABLE CREATED\nE VARIABLE CREATED\n", h.trace);
    out = resolve(&h, inc_key);
    inc = incident_of(out, &inc_key);
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "Expected result of the expression 'tries + 1' to be 'NUMBER', but was "
                        "'NULL'.");
    set_vars(&h, pi, "{\"tries\":0}", false);
    CHECK_STREQ("E VARIABLE_DOCUMENT UPDATED\nE VARIABLE UPDATED\n", h.trace);
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\nC PROCESS_INSTANCE ACTIVATE_ELEMENT SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED SERVICE_TASK charge\nE JOB CREATED\n",
                h.trace);
    CHECK_EQ_U64(1, out->activatable_type_count);
    out = activate(&h, "pay-card", 10, 60000, NULL);
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
    CHECK_EQ_I64(1, jobs[0].retries);
    out = complete(&h, keys[0], NULL);
    CHECK_CONTAINS(h.trace, "E PROCESS_INSTANCE ELEMENT_COMPLETED PROCESS order\n");
    check_full_replay(&h);
    harness_free(&h);
}

/* ---- Mappings -------------------------------------------------------------- */

#define MAPPED                                                                                     \
    "<zeebe:taskDefinition type=\"pay\"/>"                                                         \
    "<zeebe:ioMapping>"                                                                            \
    "<zeebe:input source=\"=assert(amount, amount != null)\" target=\"total\"/>"                   \
    "<zeebe:input source=\"=total * 2\" target=\"order.double\"/>"                                 \
    "<zeebe:input source=\"EUR\" target=\"currency\"/>"                                            \
    "<zeebe:output source=\"=assert(result, result = &quot;ok&quot;)\" target=\"outcome\"/>"       \
    "<zeebe:output source=\"=order.double + 1\" target=\"plusOne\"/>"                              \
    "</zeebe:ioMapping>"

static void test_mappings_and_incidents(void)
{
    harness h;
    harness_init(&h);
    deploy1(&h, "order.bpmn", task_xml(MAPPED));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t pi = key_of(out, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                         TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED);
    uint64_t inc_key;
    tandem_incident_value inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_IO_MAPPING_ERROR, inc.error_type);
    char msg[600];
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "failed to evaluate expression 'assert(amount, amount != null)'");
    uint64_t task = inc.element_instance_key;
    /* An unknown scope is refused; a document must be an object. */
    out = set_vars(&h, pi + 5000, "{\"amount\":1}", false);
    char reason[300];
    snprintf(reason, sizeof(reason),
             "Expected to update variables for element with key '%llu', but no such element was "
             "found",
             (unsigned long long)(pi + 5000));
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND, reason);
    out = set_vars(&h, pi, "[1]", false);
    check_rejection(out, TANDEM_REJECTION_INVALID_ARGUMENT,
                    "Expected document to be a root level object, but was 'ARRAY'");
    /* Fixed from the task's scope: a new variable propagates to the process. */
    out = set_vars(&h, task, "{\"amount\":21}", false);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 0, "amount", "21", pi);
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\nC PROCESS_INSTANCE ACTIVATE_ELEMENT SERVICE_TASK charge\n"
                "E VARIABLE CREATED\nE VARIABLE CREATED\nE VARIABLE CREATED\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED SERVICE_TASK charge\nE JOB CREATED\n",
                h.trace);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 0, "total", "21", task);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 1, "order", "{\"double\":42}", task);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 2, "currency", "\"EUR\"", task);
    /* The job sees the task's local variables over the process's. */
    out = activate(&h, "pay", 10, 60000, NULL);
    uint64_t keys[4];
    tandem_job_value jobs[4];
    CHECK_EQ_U64(1, batch_jobs(response(out), keys, jobs, 4));
    sv_check("{\"amount\":21,\"currency\":\"EUR\",\"order\":{\"double\":42},\"total\":21}",
             jobs[0].variables);
    /* With output mappings the job's variables stay local; a failing output
     * mapping leaves the task COMPLETING with an incident. */
    out = complete(&h, keys[0], "{\"result\":\"bad\"}");
    CHECK_STREQ("E JOB COMPLETED\nE VARIABLE CREATED\n"
                "C PROCESS_INSTANCE COMPLETE_ELEMENT SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING SERVICE_TASK charge\nE INCIDENT CREATED\n",
                h.trace);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 0, "result", "\"bad\"", task);
    inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_IO_MAPPING_ERROR, inc.error_type);
    /* A propagating update of a local variable changes it where it is. */
    out = set_vars(&h, task, "{\"result\":\"ok\"}", false);
    CHECK_STREQ("E VARIABLE_DOCUMENT UPDATED\nE VARIABLE UPDATED\n", h.trace);
    check_variable(out, TANDEM_INTENT_VARIABLE_UPDATED, 0, "result", "\"ok\"", task);
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\nC PROCESS_INSTANCE COMPLETE_ELEMENT SERVICE_TASK charge\n"
                "E VARIABLE CREATED\nE VARIABLE CREATED\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN SEQUENCE_FLOW f2\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATING END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_ACTIVATED END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED END_EVENT end\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_COMPLETED PROCESS order\n",
                h.trace);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 0, "outcome", "\"ok\"", pi);
    check_variable(out, TANDEM_INTENT_VARIABLE_CREATED, 1, "plusOne", "43", pi);
    check_full_replay(&h);
    harness_free(&h);
}

static void test_cancel_with_element_incident(void)
{
    harness h;
    harness_init(&h);
    deploy1(&h, "order.bpmn", task_xml(MAPPED));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t pi = key_of(out, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                         TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED);
    uint64_t inc_key;
    incident_of(out, &inc_key);
    out = cancel(&h, pi);
    CHECK_STREQ("E PROCESS_INSTANCE ELEMENT_TERMINATING PROCESS order\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATING SERVICE_TASK charge\n"
                "E INCIDENT RESOLVED\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED SERVICE_TASK charge\n"
                "E PROCESS_INSTANCE ELEMENT_TERMINATED PROCESS order\n",
                h.trace);
    out = resolve(&h, inc_key);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    out = set_vars(&h, pi, "{\"a\":1}", false);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    check_full_replay(&h);
    harness_free(&h);
}

/* A mapping whose result cannot be a variable (a name longer than a state
 * key allows) is an incident too, not an engine error. */
static void test_mapping_result_not_storable(void)
{
    harness h;
    harness_init(&h);
    char ext[2048], target[700];
    memset(target, 'n', sizeof(target) - 1);
    target[sizeof(target) - 1] = 0;
    snprintf(ext, sizeof(ext),
             "<zeebe:taskDefinition type=\"t\"/><zeebe:ioMapping>"
             "<zeebe:input source=\"=1\" target=\"%s\"/></zeebe:ioMapping>",
             target);
    deploy1(&h, "order.bpmn", task_xml(ext));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    uint64_t inc_key;
    tandem_incident_value inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_IO_MAPPING_ERROR, inc.error_type);
    char msg[600];
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "the input mappings of element 'charge' give no valid variables: Expected "
                        "variable names of 1 to");
    check_full_replay(&h);
    harness_free(&h);
}

/* A job type or a mapping whose result holds a NUL character is an incident
 * naming the problem, not an engine error that stops the partition. */
static void test_nul_results_are_incidents(void)
{
    harness h;
    harness_init(&h);
    deploy1(&h, "order.bpmn",
            task_xml("<zeebe:taskDefinition type=\"=kind + &quot;\\u0000&quot;\"/>"));
    const tandem_engine_output *out =
        create_pi(&h, "order", -1, TANDEM_KEY_NONE, "{\"kind\":\"card\"}", false, NULL);
    uint64_t inc_key;
    tandem_incident_value inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_EXTRACT_VALUE_ERROR, inc.error_type);
    char msg[600];
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "Expected result of the expression 'kind + \"\\u0000\"' to be a job type "
                        "of 1 to ");
    CHECK_CONTAINS(msg, "without NUL characters, but it has 5 bytes");
    /* Resolving without a fix raises it again; the partition keeps going. */
    out = resolve(&h, inc_key);
    CHECK_STREQ("E INCIDENT RESOLVED\nC PROCESS_INSTANCE ACTIVATE_ELEMENT SERVICE_TASK charge\n"
                "E INCIDENT CREATED\n",
                h.trace);
    deploy1(&h, "order.bpmn",
            task_xml("<zeebe:taskDefinition type=\"t\"/><zeebe:ioMapping>"
                     "<zeebe:input source=\"=&quot;\\u0000&quot;\" target=\"a\"/>"
                     "</zeebe:ioMapping>"));
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_IO_MAPPING_ERROR, inc.error_type);
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_STREQ("failed to evaluate expression '\"\\u0000\"': the result is a STRING holding a "
                "NUL character, which a variable cannot hold",
                msg);
    CHECK(strstr(msg, "number") == NULL);
    /* Nested in a context, too. */
    deploy1(&h, "order.bpmn",
            task_xml("<zeebe:taskDefinition type=\"t\"/><zeebe:ioMapping>"
                     "<zeebe:input source=\"={x: [1, &quot;\\u0000&quot;]}\" target=\"b\"/>"
                     "</zeebe:ioMapping>"));
    out = create_pi(&h, "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    inc = incident_of(out, &inc_key);
    CHECK_EQ_U64(TANDEM_INCIDENT_IO_MAPPING_ERROR, inc.error_type);
    snprintf(msg, sizeof(msg), "%.*s", (int)inc.error_message.len, inc.error_message.ptr);
    CHECK_CONTAINS(msg, "the result is a CONTEXT holding a NUL character");
    check_full_replay(&h);
    harness_free(&h);
}

/* ---- Deployment ------------------------------------------------------------ */

static void test_deploy_bad_expression(void)
{
    harness h;
    harness_init(&h);
    const tandem_engine_output *out =
        deploy1(&h, "order.bpmn", task_xml("<zeebe:taskDefinition type=\"=a +\"/>"));
    const tandem_record *r = response(out);
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND_REJECTION, r->record_type);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_ARGUMENT, r->rejection_type);
    char text[600];
    snprintf(text, sizeof(text), "%.*s", (int)r->rejection_reason_len, r->rejection_reason);
    CHECK_CONTAINS(text, "Expected to deploy new resources, but encountered the following "
                         "errors:\norder.bpmn:");
    CHECK_CONTAINS(text, "element 'charge': the job type expression 'a +' is not valid: 1:");
    out = deploy1(&h, "order.bpmn",
                  task_xml("<zeebe:taskDefinition type=\"t\"/><zeebe:ioMapping>"
                           "<zeebe:output source=\"=if x then\" target=\"y\"/>"
                           "</zeebe:ioMapping>"));
    r = response(out);
    snprintf(text, sizeof(text), "%.*s", (int)r->rejection_reason_len, r->rejection_reason);
    CHECK_CONTAINS(text, "the output mapping expression 'if x then' is not valid");
    harness_free(&h);
}

static const tandem_test cases[] = {
    {"job_incident_resolve", test_job_incident_resolve},
    {"job_expressions", test_job_expressions},
    {"mappings_and_incidents", test_mappings_and_incidents},
    {"cancel_with_element_incident", test_cancel_with_element_incident},
    {"mapping_result_not_storable", test_mapping_result_not_storable},
    {"deploy_bad_expression", test_deploy_bad_expression},
    {"nul_results_are_incidents", test_nul_results_are_incidents},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
