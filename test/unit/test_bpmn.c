/* Tests of the BPMN parser and model: Modeler-style fixtures with every
 * namespace style, the model and its lookups, every refused element kind and
 * every validation rule with its exact message, hostile XML, limits, digest. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlmemory.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"
#include "bpmn/bpmn.h"
#include "bpmn/bpmn_int.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------ */

/* A fixture of test/fixtures/bpmn, found from this source file's path. The
 * returned buffer is malloc'd and NUL-terminated; *len excludes the NUL. */
static char *fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    CHECK(slash != NULL);
    snprintf(slash, sizeof(path) - (size_t)(slash - path), "/../fixtures/bpmn/%s", name);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s: %s", path, strerror(errno));
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    CHECK(size > 0);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    char *data = malloc((size_t)size + 1);
    CHECK(data != NULL);
    CHECK(fread(data, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    data[size] = '\0';
    *len = (size_t)size;
    return data;
}

static tandem_bpmn_resource *parse_ok(const char *xml, size_t len)
{
    tandem_bpmn_resource *r = NULL;
    tandem_diag d = {0};
    int rc = tandem_bpmn_parse(xml, len, "test.bpmn", &r, &d);
    CHECK_MSG(rc == TANDEM_OK, "parse failed: %s\n--- xml:\n%s", tandem_diag_text(&d), xml);
    CHECK(r != NULL);
    return r;
}

static tandem_bpmn_resource *parse_fixture(const char *name)
{
    size_t len = 0;
    char *xml = fixture(name, &len);
    tandem_bpmn_resource *r = parse_ok(xml, len);
    free(xml);
    return r;
}

static void expect_error_rc(const char *xml, size_t len, int code, const char *message)
{
    tandem_bpmn_resource *r = (tandem_bpmn_resource *)1;
    tandem_diag d = {0};
    int rc = tandem_bpmn_parse(xml, len, "test.bpmn", &r, &d);
    CHECK_MSG(rc == code, "parse returned %s, expected %s (%s)\n--- xml:\n%.2000s",
              tandem_errname(rc), tandem_errname(code), tandem_diag_text(&d), xml);
    CHECK(r == NULL);
    CHECK_EQ_U64((uint64_t)code, (uint64_t)d.code);
    CHECK_STREQ(message, d.message);
}

static void expect_error(const char *xml, const char *message)
{
    expect_error_rc(xml, strlen(xml), TANDEM_EINVAL, message);
}

#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"Definitions_1\">\n"                  \
    "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
#define TAIL "</bpmn:process>\n</bpmn:definitions>\n"
/* The body of a process starts on line 4. */
#define START "<bpmn:startEvent id=\"S\"/>\n"
#define TASK(id, ext)                                                                              \
    "<bpmn:serviceTask id=\"" id "\"><bpmn:extensionElements>" ext                                 \
    "</bpmn:extensionElements></bpmn:serviceTask>\n"
#define TYPE(t) "<zeebe:taskDefinition type=\"" t "\"/>"

/* ---- fixtures and the model --------------------------------------------- */

static void test_one_task_model(void)
{
    tandem_bpmn_resource *r = parse_fixture("one-task.bpmn");
    CHECK_EQ_U64(1, r->process_count);
    const tandem_bpmn_process *p = &r->processes[0];
    CHECK_STREQ("one-task", p->id);
    CHECK_STREQ("One task", p->name);
    CHECK_EQ_U64(3, p->element_count);
    CHECK_EQ_U64(2, p->flow_count);
    CHECK(tandem_bpmn_process_find(r, "one-task") == p);
    CHECK(tandem_bpmn_process_find(r, "other") == NULL);

    const tandem_bpmn_element *start = tandem_bpmn_start_event(p);
    CHECK_STREQ("StartEvent_1", start->id);
    CHECK_STREQ("Order received", start->name);
    CHECK_EQ_U64(TANDEM_BPMN_START_EVENT, start->type);
    CHECK_EQ_U64(4, start->line);
    CHECK(start->task == NULL);

    uint32_t n = 0;
    const uint32_t *out = tandem_bpmn_outgoing(p, p->start, &n);
    CHECK_EQ_U64(1, n);
    const tandem_bpmn_flow *f1 = &p->flows[out[0]];
    CHECK_STREQ("Flow_1", f1->id);
    CHECK(f1->condition == NULL);
    CHECK_EQ_U64(p->start, f1->source);
    CHECK_EQ_U64(7, f1->line);

    uint32_t task_index = tandem_bpmn_element_find(p, "Task_1");
    CHECK(task_index != TANDEM_BPMN_NONE);
    CHECK_EQ_U64(task_index, f1->target);
    const tandem_bpmn_element *task = &p->elements[task_index];
    CHECK_EQ_U64(TANDEM_BPMN_SERVICE_TASK, task->type);
    CHECK_STREQ("serviceTask", tandem_bpmn_type_name(task->type));
    CHECK_STREQ("Charge card", task->name);
    CHECK(task->task != NULL);
    CHECK_STREQ("charge-card", task->task->type);
    CHECK_STREQ("5", task->task->retries);
    CHECK_EQ_U64(5, task->task->retries_count);
    CHECK(!task->task->retries_is_expression);
    CHECK_EQ_U64(2, task->task->header_count);
    CHECK_STREQ("currency", task->task->headers[0].key);
    CHECK_STREQ("EUR", task->task->headers[0].value);
    CHECK_STREQ("provider", task->task->headers[1].key);
    CHECK_STREQ("acme", task->task->headers[1].value);
    CHECK_EQ_U64(1, task->task->input_count);
    CHECK_STREQ("=order.total", task->task->inputs[0].source);
    CHECK_STREQ("amount", task->task->inputs[0].target);
    CHECK_EQ_U64(1, task->task->output_count);
    CHECK_STREQ("=receipt.id", task->task->outputs[0].source);
    CHECK_STREQ("receiptId", task->task->outputs[0].target);

    const uint32_t *in = tandem_bpmn_incoming(p, task_index, &n);
    CHECK_EQ_U64(1, n);
    CHECK_STREQ("Flow_1", p->flows[in[0]].id);
    out = tandem_bpmn_outgoing(p, task_index, &n);
    CHECK_EQ_U64(1, n);
    const tandem_bpmn_element *end = &p->elements[p->flows[out[0]].target];
    CHECK_STREQ("EndEvent_1", end->id);
    CHECK_EQ_U64(TANDEM_BPMN_END_EVENT, end->type);
    uint32_t end_index = tandem_bpmn_element_find(p, "EndEvent_1");
    tandem_bpmn_outgoing(p, end_index, &n);
    CHECK_EQ_U64(0, n);
    tandem_bpmn_incoming(p, p->start, &n);
    CHECK_EQ_U64(0, n);
    /* flows are not elements, diagram ids are not elements */
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(p, "Flow_1"));
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(p, "Activity_0x1y2z3_di"));
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(p, ""));

    size_t len = 0;
    char *xml = fixture("one-task.bpmn", &len);
    CHECK_EQ_U64(len, r->size_bytes);
    tandem_bpmn_digest d;
    tandem_bpmn_resource_digest(xml, len, &d);
    CHECK(memcmp(d.bytes, r->digest.bytes, sizeof(d.bytes)) == 0);
    free(xml);
    tandem_bpmn_free(r);
    tandem_bpmn_free(NULL);
}

static void test_bpmn2_prefix_and_modelling_elements(void)
{
    tandem_bpmn_resource *r = parse_fixture("two-tasks-bpmn2-prefix.bpmn");
    CHECK_EQ_U64(1, r->process_count);
    const tandem_bpmn_process *p = &r->processes[0];
    CHECK_STREQ("ship-order", p->id);
    /* lanes, annotations, associations, groups and data objects are ignored */
    CHECK_EQ_U64(4, p->element_count);
    CHECK_EQ_U64(3, p->flow_count);
    const tandem_bpmn_element *pick = &p->elements[tandem_bpmn_element_find(p, "Pick")];
    CHECK_STREQ("=\"pick-\" + warehouse", pick->task->type);
    CHECK_STREQ("=maxRetries", pick->task->retries);
    CHECK(pick->task->retries_is_expression);
    CHECK_EQ_U64(0, pick->task->retries_count);
    CHECK_EQ_U64(0, pick->task->header_count);
    CHECK_EQ_U64(0, pick->task->input_count);
    const tandem_bpmn_element *ship = &p->elements[tandem_bpmn_element_find(p, "Ship")];
    CHECK_STREQ("Ship\nparcel", ship->name);
    CHECK_STREQ("ship", ship->task->type);
    CHECK_STREQ("3", ship->task->retries);
    CHECK_EQ_U64(TANDEM_BPMN_RETRIES_DEFAULT, ship->task->retries_count);
    uint32_t n = 0;
    const uint32_t *out = tandem_bpmn_outgoing(p, tandem_bpmn_element_find(p, "Pick"), &n);
    CHECK_EQ_U64(1, n);
    CHECK_STREQ("ToShip", p->flows[out[0]].id);
    CHECK_STREQ("picked", p->flows[out[0]].name);
    CHECK_STREQ("=picked = true", p->flows[out[0]].condition);
    CHECK_STREQ("", p->flows[0].name);
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(p, "Note_1"));
    tandem_bpmn_free(r);
}

static void test_default_namespace_and_several_processes(void)
{
    tandem_bpmn_resource *r = parse_fixture("default-namespace-collaboration.bpmn");
    /* the non-executable pool (with a timer and a user task) is skipped */
    CHECK_EQ_U64(2, r->process_count);
    CHECK_STREQ("shop", r->processes[0].id);
    CHECK_STREQ("audit", r->processes[1].id);
    CHECK(tandem_bpmn_process_find(r, "customer") == NULL);
    const tandem_bpmn_process *shop = tandem_bpmn_process_find(r, "shop");
    const tandem_bpmn_element *invoice = &shop->elements[tandem_bpmn_element_find(shop, "Invoice")];
    CHECK_STREQ("invoice", invoice->task->type);
    CHECK_EQ_U64(0, invoice->task->retries_count);
    CHECK_STREQ("0", invoice->task->retries);
    const tandem_bpmn_process *audit = tandem_bpmn_process_find(r, "audit");
    CHECK_STREQ("AuditStart", tandem_bpmn_start_event(audit)->id);
    /* element lookups stay inside their process */
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(audit, "Invoice"));
    tandem_bpmn_free(r);
}

static void test_minimal_and_implicit_end(void)
{
    /* A process of a start event alone, a task without outgoing flows (an
     * implicit end) and an unreachable task are accepted, as Zeebe does. */
    const char *xml = HEAD START TASK("T", TYPE("a"))
        TASK("Unreached",
             TYPE("b")) "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\" targetRef=\"T\"/>\n" TAIL;
    tandem_bpmn_resource *r = parse_ok(xml, strlen(xml));
    const tandem_bpmn_process *p = &r->processes[0];
    CHECK_EQ_U64(3, p->element_count);
    uint32_t n = 1;
    tandem_bpmn_incoming(p, tandem_bpmn_element_find(p, "Unreached"), &n);
    CHECK_EQ_U64(0, n);
    tandem_bpmn_free(r);

    const char *alone = HEAD START TAIL;
    r = parse_ok(alone, strlen(alone));
    CHECK_EQ_U64(1, r->processes[0].element_count);
    CHECK_EQ_U64(0, r->processes[0].flow_count);
    tandem_bpmn_free(r);
}

static void test_large_process_lookups(void)
{
    /* a chain start -> T0 -> ... -> T(n-1) -> end, with elements written in
     * reverse so the index order differs from the document order */
    const uint32_t tasks = 2000;
    size_t cap = 256u * tasks + 1024u;
    char *xml = malloc(cap);
    CHECK(xml != NULL);
    size_t off = (size_t)snprintf(xml, cap, "%s", HEAD START "<bpmn:endEvent id=\"E\"/>\n");
    for (uint32_t i = tasks; i-- > 0;) {
        off += (size_t)snprintf(xml + off, cap - off, TASK("T%u", TYPE("job-%u")), i, i);
    }
    off +=
        (size_t)snprintf(xml + off, cap - off,
                         "<bpmn:sequenceFlow id=\"F_start\" sourceRef=\"S\" targetRef=\"T0\"/>\n");
    for (uint32_t i = 0; i + 1 < tasks; i++) {
        off += (size_t)snprintf(
            xml + off, cap - off,
            "<bpmn:sequenceFlow id=\"F%u\" sourceRef=\"T%u\" targetRef=\"T%u\"/>\n", i, i, i + 1);
    }
    off += (size_t)snprintf(xml + off, cap - off,
                            "<bpmn:sequenceFlow id=\"F_end\" sourceRef=\"T%u\" targetRef=\"E\"/>\n",
                            tasks - 1);
    off += (size_t)snprintf(xml + off, cap - off, "%s", TAIL);
    CHECK(off < cap);
    tandem_bpmn_resource *r = parse_ok(xml, off);
    const tandem_bpmn_process *p = &r->processes[0];
    CHECK_EQ_U64(tasks + 2, p->element_count);
    /* walk the chain through the lookups */
    uint32_t at = p->start;
    char want[32];
    for (uint32_t i = 0; i < tasks; i++) {
        uint32_t n = 0;
        const uint32_t *out = tandem_bpmn_outgoing(p, at, &n);
        CHECK_EQ_U64(1, n);
        at = p->flows[out[0]].target;
        snprintf(want, sizeof(want), "T%u", i);
        CHECK_STREQ(want, p->elements[at].id);
        CHECK_EQ_U64(at, tandem_bpmn_element_find(p, want));
        snprintf(want, sizeof(want), "job-%u", i);
        CHECK_STREQ(want, p->elements[at].task->type);
    }
    uint32_t n = 0;
    const uint32_t *out = tandem_bpmn_outgoing(p, at, &n);
    CHECK_EQ_U64(TANDEM_BPMN_END_EVENT, p->elements[p->flows[out[0]].target].type);
    CHECK_EQ_U64(TANDEM_BPMN_NONE, tandem_bpmn_element_find(p, "T2000"));
    tandem_bpmn_free(r);
    free(xml);
}

/* A UTF-16 file with a byte-order mark (some editors save so) reads the same;
 * names come out as UTF-8. */
static void test_utf16_resource(void)
{
    const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
                        "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
                        "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"S\" "
                        "name=\"Caf\xe9\"/></process></definitions>";
    size_t n = strlen(ascii);
    unsigned char *wide = malloc(2 * n + 2);
    CHECK(wide != NULL);
    wide[0] = 0xff; /* little-endian byte-order mark */
    wide[1] = 0xfe;
    for (size_t i = 0; i < n; i++) {
        wide[2 + 2 * i] = (unsigned char)ascii[i]; /* Latin-1 widens to UTF-16 as is */
        wide[3 + 2 * i] = 0;
    }
    tandem_bpmn_resource *r = NULL;
    tandem_diag d = {0};
    CHECK_MSG(tandem_bpmn_parse(wide, 2 * n + 2, "wide.bpmn", &r, &d) == TANDEM_OK, "%s",
              tandem_diag_text(&d));
    CHECK_STREQ("Caf\xc3\xa9", r->processes[0].elements[0].name);
    tandem_bpmn_free(r);
    free(wide);
}

/* Threads parse at once: libxml2's set-up and the id sort are thread-safe. */
static void *parse_repeatedly(void *arg)
{
    const char *xml = arg;
    for (uint64_t i = 0; i < test_iterations(50); i++) {
        tandem_bpmn_resource *r = NULL;
        if (tandem_bpmn_parse(xml, strlen(xml), "t.bpmn", &r, NULL) != TANDEM_OK) {
            return (void *)1;
        }
        const tandem_bpmn_process *p = &r->processes[0];
        for (uint32_t e = 0; e < p->element_count; e++) {
            if (tandem_bpmn_element_find(p, p->elements[e].id) != e) {
                return (void *)1;
            }
        }
        tandem_bpmn_free(r);
    }
    return NULL;
}

static void test_concurrent_parses(void)
{
    size_t len = 0;
    char *xml = fixture("two-tasks-bpmn2-prefix.bpmn", &len);
    pthread_t threads[4];
    for (size_t i = 0; i < 4; i++) {
        CHECK(pthread_create(&threads[i], NULL, parse_repeatedly, xml) == 0);
    }
    for (size_t i = 0; i < 4; i++) {
        void *result = (void *)1;
        CHECK(pthread_join(threads[i], &result) == 0);
        CHECK(result == NULL);
    }
    free(xml);
}

/* ---- refused elements --------------------------------------------------- */

static void test_refused_process_children(void)
{
    static const char *const refused[] = {
        "task",
        "userTask",
        "manualTask",
        "receiveTask",
        "sendTask",
        "scriptTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "adHocSubProcess",
        "transaction",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "someFutureElement",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char xml[2048];
        char message[512];
        snprintf(xml, sizeof(xml), HEAD START "<bpmn:%s id=\"X_1\"/>\n" TAIL, refused[i]);
        snprintf(message, sizeof(message),
                 "test.bpmn:5: element 'X_1' of type '%s' is not supported yet", refused[i]);
        expect_error(xml, message);
    }
    expect_error(HEAD START "<bpmn:parallelGateway/>\n" TAIL,
                 "test.bpmn:5: element of type 'parallelGateway' is not supported yet");
}

static void test_refused_gateway_fixture(void)
{
    size_t len = 0;
    char *xml = fixture("refused-exclusive-gateway.bpmn", &len);
    expect_error_rc(xml, len, TANDEM_EINVAL,
                    "test.bpmn:8: element 'Gateway_1' of type 'exclusiveGateway' is not "
                    "supported yet");
    free(xml);
}

static void test_refused_event_definitions_and_markers(void)
{
    static const char *const definitions[] = {
        "messageEventDefinition",     "timerEventDefinition",      "signalEventDefinition",
        "errorEventDefinition",       "escalationEventDefinition", "compensateEventDefinition",
        "conditionalEventDefinition", "linkEventDefinition",       "cancelEventDefinition",
        "terminateEventDefinition",   "eventDefinitionRef",
    };
    for (size_t i = 0; i < sizeof(definitions) / sizeof(definitions[0]); i++) {
        char xml[2048];
        char message[512];
        snprintf(xml, sizeof(xml),
                 HEAD "<bpmn:startEvent id=\"S\">\n<bpmn:%s/>\n</bpmn:startEvent>\n" TAIL,
                 definitions[i]);
        snprintf(message, sizeof(message),
                 "test.bpmn:5: element 'S' of type 'startEvent' with '%s' is not supported yet",
                 definitions[i]);
        expect_error(xml, message);
        snprintf(xml, sizeof(xml),
                 HEAD START "<bpmn:endEvent id=\"E\"><bpmn:%s/></bpmn:endEvent>\n" TAIL,
                 definitions[i]);
        snprintf(message, sizeof(message),
                 "test.bpmn:5: element 'E' of type 'endEvent' with '%s' is not supported yet",
                 definitions[i]);
        expect_error(xml, message);
    }
    expect_error(HEAD START "<bpmn:serviceTask id=\"T\">\n<bpmn:extensionElements>" TYPE(
                     "a") "</bpmn:extensionElements>\n<bpmn:multiInstanceLoopCharacteristics "
                          "isSequential=\"true\"/>\n</bpmn:serviceTask>\n" TAIL,
                 "test.bpmn:7: element 'T' of type 'serviceTask' with "
                 "'multiInstanceLoopCharacteristics' is not supported yet");
    expect_error(HEAD START "<bpmn:serviceTask id=\"T\"><bpmn:standardLoopCharacteristics/>"
                            "</bpmn:serviceTask>\n" TAIL,
                 "test.bpmn:5: element 'T' of type 'serviceTask' with "
                 "'standardLoopCharacteristics' is not supported yet");
}

static void test_refused_zeebe_extensions(void)
{
    expect_error(HEAD START TASK("T", TYPE("a") "\n<zeebe:executionListeners/>") TAIL,
                 "test.bpmn:6: element 'T' of type 'serviceTask' with "
                 "'zeebe:executionListeners' is not supported yet");
    expect_error(HEAD START TASK("T", TYPE("a") "<zeebe:userTask/>") TAIL,
                 "test.bpmn:5: element 'T' of type 'serviceTask' with 'zeebe:userTask' is not "
                 "supported yet");
    expect_error(HEAD "<bpmn:extensionElements><zeebe:executionListeners/>"
                      "</bpmn:extensionElements>\n" START TAIL,
                 "test.bpmn:4: element 'p' of type 'process' with 'zeebe:executionListeners' is "
                 "not supported yet");
    expect_error(HEAD START "<bpmn:endEvent id=\"E\"><bpmn:extensionElements><zeebe:ioMapping/>"
                            "</bpmn:extensionElements></bpmn:endEvent>\n" TAIL,
                 "test.bpmn:5: element 'E' of type 'endEvent' with 'zeebe:ioMapping' is not "
                 "supported yet");
    /* other vendors' extensions and zeebe:properties are ignored */
    const char *xml = HEAD START
        "<bpmn:serviceTask id=\"T\"><bpmn:extensionElements xmlns:camunda=\"urn:c7\">"
        "<camunda:inputOutput/>" TYPE(
            "a") "<zeebe:properties/></bpmn:extensionElements>"
                 "<bpmn:documentation>doc</bpmn:documentation></bpmn:serviceTask>\n" TAIL;
    tandem_bpmn_resource *r = parse_ok(xml, strlen(xml));
    tandem_bpmn_free(r);
}

/* ---- validation rules --------------------------------------------------- */

static void test_not_xml(void)
{
    expect_error("this is not xml",
                 "test.bpmn:1: not well-formed XML: Start tag expected, '<' not found");
    expect_error(HEAD START "<bpmn:serviceTask id=\"T\">\n" TAIL,
                 "test.bpmn:6: not well-formed XML: Opening and ending tag mismatch: serviceTask "
                 "line 5 and process");
    expect_error("<a></a><b/>",
                 "test.bpmn:1: not well-formed XML: Extra content at the end of the document");
    expect_error("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"\xff\"/>",
                 "test.bpmn:2: not well-formed XML: Input is not proper UTF-8, indicate encoding "
                 "! Bytes: 0xFF 0x22 0x2F 0x3E");
    expect_error_rc("", 0, TANDEM_EINVAL, "test.bpmn: resource is empty");
    tandem_bpmn_resource *r = NULL;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EINVAL, tandem_bpmn_parse("<x/>", 4, NULL, &r, &d));
    CHECK_CONTAINS(d.message, "resource:1: root element is 'x'");
    /* the diag may be NULL */
    CHECK_RC(TANDEM_EINVAL, tandem_bpmn_parse("<x/>", 4, "x.bpmn", &r, NULL));
    CHECK(r == NULL);
}

static void test_wrong_root_and_no_process(void)
{
    expect_error("<definitions xmlns=\"http://example.com/not-bpmn\"/>",
                 "test.bpmn:1: root element is 'definitions' of namespace "
                 "'http://example.com/not-bpmn'; expected 'definitions' of namespace "
                 "'http://www.omg.org/spec/BPMN/20100524/MODEL'");
    expect_error("<process xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>",
                 "test.bpmn:1: root element is 'process' of namespace "
                 "'http://www.omg.org/spec/BPMN/20100524/MODEL'; expected 'definitions' of "
                 "namespace 'http://www.omg.org/spec/BPMN/20100524/MODEL'");
    const char *none =
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
        "<bpmn:process id=\"a\" isExecutable=\"false\"/><bpmn:process id=\"b\"/>"
        "</bpmn:definitions>";
    expect_error(none, "test.bpmn: no executable process (a process with isExecutable=\"true\")");
    expect_error("<?xml version=\"1.0\"?>\n<bpmn:definitions "
                 "xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
                 "<bpmn:process isExecutable=\"true\"/></bpmn:definitions>",
                 "test.bpmn:3: process has no id");
    expect_error(HEAD TAIL, "test.bpmn:3: process 'p' has no none start event");
    expect_error(HEAD START "<bpmn:startEvent id=\"S2\"/>\n" TAIL,
                 "test.bpmn:5: process 'p' has more than one none start event ('S' and 'S2')");
}

static void test_ids(void)
{
    expect_error(HEAD START "<bpmn:endEvent/>\n" TAIL, "test.bpmn:5: endEvent has no id");
    expect_error(HEAD START "<bpmn:endEvent id=\"\"/>\n" TAIL, "test.bpmn:5: endEvent has no id");
    expect_error(HEAD START "<bpmn:sequenceFlow sourceRef=\"S\" targetRef=\"S\"/>\n" TAIL,
                 "test.bpmn:5: sequenceFlow has no id");
    expect_error(HEAD START "<bpmn:endEvent id=\"S\"/>\n" TAIL,
                 "test.bpmn:5: duplicate id 'S' (also on line 4)");
    expect_error(HEAD START "<bpmn:endEvent id=\"E\"/>\n"
                            "<bpmn:sequenceFlow id=\"E\" sourceRef=\"S\" targetRef=\"E\"/>\n" TAIL,
                 "test.bpmn:6: duplicate id 'E' (also on line 5)");
    expect_error(HEAD "<bpmn:startEvent id=\"p\"/>\n" TAIL, "test.bpmn:4: duplicate id 'p'");
    /* ids are unique across the processes of one resource */
    expect_error(HEAD START
                 "</bpmn:process>\n<bpmn:process id=\"q\" isExecutable=\"true\">\n" START TAIL,
                 "test.bpmn:7: duplicate id 'S' (also on line 4)");
    char long_id[TANDEM_BPMN_ID_LEN_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    char xml[2048];
    snprintf(xml, sizeof(xml), HEAD START "<bpmn:endEvent id=\"%s\"/>\n" TAIL, long_id);
    expect_error(xml, "test.bpmn:5: endEvent has an id longer than 255 bytes");
    long_id[TANDEM_BPMN_ID_LEN_MAX] = '\0';
    snprintf(xml, sizeof(xml), HEAD START "<bpmn:endEvent id=\"%s\"/>\n" TAIL, long_id);
    tandem_bpmn_resource *r = parse_ok(xml, strlen(xml));
    CHECK(tandem_bpmn_element_find(&r->processes[0], long_id) != TANDEM_BPMN_NONE);
    tandem_bpmn_free(r);
}

static void test_sequence_flow_rules(void)
{
    expect_error(HEAD START "<bpmn:sequenceFlow id=\"F\" targetRef=\"S\"/>\n" TAIL,
                 "test.bpmn:5: sequence flow 'F' has no sourceRef");
    expect_error(HEAD START "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\"/>\n" TAIL,
                 "test.bpmn:5: sequence flow 'F' has no targetRef");
    expect_error(HEAD START
                 "<bpmn:sequenceFlow id=\"F\" sourceRef=\"Nope\" targetRef=\"S\"/>\n" TAIL,
                 "test.bpmn:5: sequence flow 'F' references unknown source 'Nope'");
    expect_error(HEAD START
                 "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\" targetRef=\"Nope\"/>\n" TAIL,
                 "test.bpmn:5: sequence flow 'F' references unknown target 'Nope'");
    /* a flow may not point at an ignored element or at another flow */
    expect_error(HEAD START "<bpmn:textAnnotation id=\"N\"/>\n"
                            "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\" targetRef=\"N\"/>\n" TAIL,
                 "test.bpmn:6: sequence flow 'F' references unknown target 'N'");
    expect_error(HEAD START "<bpmn:endEvent id=\"E\"/>\n"
                            "<bpmn:sequenceFlow id=\"F\" sourceRef=\"E\" targetRef=\"S\"/>\n" TAIL,
                 "test.bpmn:6: start event 'S' has an incoming sequence flow 'F'; start events "
                 "cannot have incoming flows");
    expect_error(
        HEAD START "<bpmn:endEvent id=\"E\"/>\n" TASK(
            "T", TYPE("a")) "<bpmn:sequenceFlow id=\"F\" sourceRef=\"E\" targetRef=\"T\"/>\n" TAIL,
        "test.bpmn:7: end event 'E' has an outgoing sequence flow 'F'; end events "
        "cannot have outgoing flows");
    expect_error(HEAD START TASK(
                     "T", TYPE("a")) "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\" targetRef=\"T\">"
                                     "<bpmn:conditionExpression>=a</bpmn:conditionExpression>\n"
                                     "<bpmn:conditionExpression>=b</bpmn:conditionExpression></"
                                     "bpmn:sequenceFlow>\n" TAIL,
                 "test.bpmn:7: sequence flow 'F' has more than one conditionExpression");
}

static void test_service_task_rules(void)
{
    expect_error(HEAD START "<bpmn:serviceTask id=\"T\"/>\n" TAIL,
                 "test.bpmn:5: service task 'T' has no zeebe:taskDefinition");
    expect_error(HEAD START TASK("T", "<zeebe:taskHeaders/>") TAIL,
                 "test.bpmn:5: service task 'T' has no zeebe:taskDefinition");
    expect_error(HEAD START TASK("T", "<zeebe:taskDefinition/>") TAIL,
                 "test.bpmn:5: service task 'T' has a zeebe:taskDefinition without a type");
    expect_error(HEAD START TASK("T", "<zeebe:taskDefinition type=\" \"/>") TAIL,
                 "test.bpmn:5: service task 'T' has a zeebe:taskDefinition without a type");
    expect_error(HEAD START TASK("T", TYPE("= ")) TAIL,
                 "test.bpmn:5: service task 'T' has an empty expression as job type");
    expect_error(HEAD START TASK("T", TYPE("a") "\n" TYPE("b")) TAIL,
                 "test.bpmn:6: service task 'T' has more than one zeebe:taskDefinition");
    static const char *const bad_retries[] = {"abc", "-1",         "1.5",
                                              " 3",  "2147483648", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_retries) / sizeof(bad_retries[0]); i++) {
        char xml[2048];
        char message[512];
        snprintf(xml, sizeof(xml),
                 HEAD START TASK("T", "<zeebe:taskDefinition type=\"a\" retries=\"%s\"/>") TAIL,
                 bad_retries[i]);
        snprintf(message, sizeof(message),
                 "test.bpmn:5: service task 'T' has retries '%s'; expected a number from 0 to "
                 "2147483647 or an expression starting with '='",
                 bad_retries[i]);
        expect_error(xml, message);
    }
    expect_error(HEAD START TASK("T", "<zeebe:taskDefinition type=\"a\" retries=\"=\"/>") TAIL,
                 "test.bpmn:5: service task 'T' has an empty expression as retries");
    const char *max =
        HEAD START TASK("T", "<zeebe:taskDefinition type=\"a\" retries=\"2147483647\"/>") TAIL;
    tandem_bpmn_resource *r = parse_ok(max, strlen(max));
    CHECK_EQ_U64(2147483647u, r->processes[0].elements[1].task->retries_count);
    tandem_bpmn_free(r);
    const char *empty =
        HEAD START TASK("T", "<zeebe:taskDefinition type=\"a\" retries=\"\"/>") TAIL;
    r = parse_ok(empty, strlen(empty));
    CHECK_STREQ("3", r->processes[0].elements[1].task->retries);
    tandem_bpmn_free(r);

    expect_error(HEAD START TASK("T", TYPE("a") "<zeebe:taskHeaders>\n<zeebe:header value=\"v\"/>"
                                                "</zeebe:taskHeaders>") TAIL,
                 "test.bpmn:6: service task 'T' has a zeebe:header without a key");
    expect_error(HEAD START TASK("T", TYPE("a") "<zeebe:taskHeaders/><zeebe:taskHeaders/>") TAIL,
                 "test.bpmn:5: service task 'T' has more than one zeebe:taskHeaders");
    expect_error(HEAD START TASK("T", TYPE("a") "<zeebe:ioMapping><zeebe:input source=\"=x\"/>"
                                                "</zeebe:ioMapping>") TAIL,
                 "test.bpmn:5: service task 'T' has a zeebe:input without a target");
    expect_error(HEAD START TASK("T", TYPE("a") "<zeebe:ioMapping><zeebe:output source=\"=x\" "
                                                "target=\"\"/></zeebe:ioMapping>") TAIL,
                 "test.bpmn:5: service task 'T' has a zeebe:output without a target");
    const char *header_no_value =
        HEAD START TASK("T", TYPE("a") "<zeebe:taskHeaders><zeebe:header key=\"k\"/>"
                                       "</zeebe:taskHeaders><zeebe:ioMapping>"
                                       "<zeebe:input target=\"t\"/></zeebe:ioMapping>") TAIL;
    r = parse_ok(header_no_value, strlen(header_no_value));
    const tandem_bpmn_task *task = r->processes[0].elements[1].task;
    CHECK_STREQ("", task->headers[0].value);
    CHECK_STREQ("", task->inputs[0].source);
    tandem_bpmn_free(r);
}

/* ---- hostile input and limits ------------------------------------------- */

static void test_doctype_refused(void)
{
    size_t len = 0;
    char *xml = fixture("billion-laughs.bpmn", &len);
    expect_error_rc(xml, len, TANDEM_EINVAL,
                    "test.bpmn:2: DOCTYPE declarations are not allowed (BPMN resources carry no "
                    "DTD and no entities)");
    free(xml);
    xml = fixture("external-entity.bpmn", &len);
    expect_error_rc(xml, len, TANDEM_EINVAL,
                    "test.bpmn:2: DOCTYPE declarations are not allowed (BPMN resources carry no "
                    "DTD and no entities)");
    free(xml);
    /* a DOCTYPE without entities, and one with an external subset, too */
    expect_error("<!DOCTYPE definitions>\n<definitions/>",
                 "test.bpmn:1: DOCTYPE declarations are not allowed (BPMN resources carry no DTD "
                 "and no entities)");
    expect_error("<!DOCTYPE definitions SYSTEM \"http://127.0.0.1:1/x.dtd\"><definitions/>",
                 "test.bpmn:1: DOCTYPE declarations are not allowed (BPMN resources carry no DTD "
                 "and no entities)");
    /* an undeclared entity is malformed XML, not expanded */
    expect_error(HEAD "<bpmn:startEvent id=\"S\" name=\"&secret;\"/>\n" TAIL,
                 "test.bpmn:4: not well-formed XML: Entity 'secret' not defined");
    /* character references and predefined entities are plain text */
    const char *ok = HEAD "<bpmn:startEvent id=\"S\" name=\"a&amp;b&#233;&lt;\"/>\n" TAIL;
    tandem_bpmn_resource *r = parse_ok(ok, strlen(ok));
    CHECK_STREQ("a&b\xc3\xa9<", r->processes[0].elements[0].name);
    tandem_bpmn_free(r);
}

static void test_size_limit(void)
{
    size_t limit = TANDEM_BPMN_RESOURCE_SIZE_BYTES_MAX;
    char *xml = malloc(limit + 1);
    CHECK(xml != NULL);
    /* a valid process padded with a comment to exactly the limit parses */
    const char *head = HEAD START TAIL "<!--";
    size_t head_len = strlen(head);
    memcpy(xml, head, head_len);
    memset(xml + head_len, 'x', limit - head_len - 3);
    memcpy(xml + limit - 3, "-->", 3);
    tandem_bpmn_resource *r = parse_ok(xml, limit);
    CHECK_EQ_U64(limit, r->size_bytes);
    tandem_bpmn_free(r);
    xml[limit] = '\n';
    expect_error_rc(xml, limit + 1, TANDEM_ETOOBIG,
                    "test.bpmn: resource is 4194305 bytes, more than the limit of 4194304 bytes");
    free(xml);
}

static void test_deep_nesting_refused(void)
{
    /* libxml2's depth limit stays on: 100,000 nested elements are refused
     * with a message, not a stack overflow */
    size_t depth = 100000;
    size_t cap = depth * 8 + 64;
    char *xml = malloc(cap);
    CHECK(xml != NULL);
    size_t off = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy(xml + off, "<a>", 3);
        off += 3;
    }
    tandem_bpmn_resource *r = NULL;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EINVAL, tandem_bpmn_parse(xml, off, "deep.bpmn", &r, &d));
    CHECK_CONTAINS(d.message, "deep.bpmn:1: not well-formed XML: ");
    CHECK_CONTAINS(d.message, "depth");
    free(xml);
}

/* Random byte edits of the fixtures: every result is a model or a message. */
static void test_mutations_never_crash(void)
{
    static const char *const names[] = {"one-task.bpmn", "two-tasks-bpmn2-prefix.bpmn",
                                        "default-namespace-collaboration.bpmn"};
    tandem_seeded_rand seeded;
    tandem_seeded_rand_init(&seeded, test_seed());
    tandem_rand *rng = &seeded.base;
    uint64_t iterations = test_iterations(300);
    uint64_t ok = 0;
    for (uint64_t it = 0; it < iterations; it++) {
        size_t len = 0;
        char *xml = fixture(names[it % 3], &len);
        uint64_t edits = 1 + tandem_rand_below(rng, 4);
        for (uint64_t e = 0; e < edits; e++) {
            size_t at = (size_t)tandem_rand_below(rng, len);
            static const char alphabet[] = "<>/=\"' xa:&;!-?\n";
            xml[at] = alphabet[tandem_rand_below(rng, sizeof(alphabet) - 1)];
        }
        tandem_bpmn_resource *r = NULL;
        tandem_diag d = {0};
        int rc = tandem_bpmn_parse(xml, len, "m.bpmn", &r, &d);
        if (rc == TANDEM_OK) {
            ok++;
            CHECK(r->process_count >= 1);
            CHECK(tandem_bpmn_start_event(&r->processes[0]) != NULL);
            tandem_bpmn_free(r);
        } else {
            CHECK_RC(TANDEM_EINVAL, rc);
            CHECK(r == NULL);
            CHECK_CONTAINS(d.message, "m.bpmn");
        }
        free(xml);
    }
    CHECK(ok < iterations);
}

/* ---- out of memory ------------------------------------------------------ */

/* libxml2's allocator, failing after a count like the arena's hook. */
static long xml_fail_after = -1;

static bool xml_injected_failure(void)
{
    if (xml_fail_after == 0) {
        return true;
    }
    if (xml_fail_after > 0) {
        xml_fail_after--;
    }
    return false;
}

static void *oom_malloc(size_t size)
{
    return xml_injected_failure() ? NULL : malloc(size);
}

static void *oom_realloc(void *p, size_t size)
{
    return xml_injected_failure() ? NULL : realloc(p, size);
}

static char *oom_strdup(const char *s)
{
    return xml_injected_failure() ? NULL : strdup(s);
}

/* Every allocation of a parse fails in turn, in libxml2 and in the arena:
 * each gives TANDEM_ENOMEM with a message, never a crash, a leak (under the
 * sanitizer build) or a misleading "invalid" answer. */
static void test_out_of_memory(void)
{
    static const char *const names[] = {"one-task.bpmn", "two-tasks-bpmn2-prefix.bpmn",
                                        "default-namespace-collaboration.bpmn"};
    CHECK(xmlMemSetup(free, oom_malloc, oom_realloc, oom_strdup) == 0);
    for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
        size_t len = 0;
        char *xml = fixture(names[f], &len);
        tandem_bpmn_free(parse_ok(xml, len)); /* libxml2's one-time set-up succeeds */
        for (int mode = 0; mode < 2; mode++) {
            long n = 0;
            for (;; n++) {
                CHECK(n < 100000);
                if (mode == 0) {
                    xml_fail_after = n;
                } else {
                    bpmn_arena_fail_after(n);
                }
                tandem_bpmn_resource *r = NULL;
                tandem_diag d = {0};
                int rc = tandem_bpmn_parse(xml, len, "oom.bpmn", &r, &d);
                xml_fail_after = -1;
                bpmn_arena_fail_after(-1);
                if (rc == TANDEM_OK) {
                    CHECK(r != NULL && r->process_count >= 1);
                    tandem_bpmn_free(r);
                    break;
                }
                CHECK(r == NULL);
                CHECK_MSG(rc == TANDEM_ENOMEM, "%s after %ld allocations (%s): %s", names[f], n,
                          mode == 0 ? "libxml2" : "arena", tandem_diag_text(&d));
                CHECK_STREQ("oom.bpmn: out of memory while parsing", d.message);
            }
            CHECK(n > 5); /* the failures were really injected */
        }
        free(xml);
    }
}

/* ---- digest ------------------------------------------------------------- */

static void hex(const tandem_bpmn_digest *d, char out[65])
{
    for (size_t i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", d->bytes[i]);
    }
}

static void test_digest(void)
{
    /* FIPS 180-4 examples and the boundary where padding takes a second block */
    static const struct {
        const char *input;
        const char *sha256;
    } vectors[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
         "lmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char text[65];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        tandem_bpmn_digest d;
        tandem_bpmn_resource_digest(vectors[i].input, strlen(vectors[i].input), &d);
        hex(&d, text);
        CHECK_STREQ(vectors[i].sha256, text);
    }
    char *million = malloc(1000000);
    CHECK(million != NULL);
    memset(million, 'a', 1000000);
    tandem_bpmn_digest d;
    tandem_bpmn_resource_digest(million, 1000000, &d);
    hex(&d, text);
    CHECK_STREQ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", text);
    free(million);

    /* same bytes, same digest; one changed byte (even whitespace), another */
    size_t len = 0;
    char *xml = fixture("one-task.bpmn", &len);
    tandem_bpmn_resource *a = parse_ok(xml, len);
    tandem_bpmn_resource *b = parse_ok(xml, len);
    CHECK(memcmp(a->digest.bytes, b->digest.bytes, 32) == 0);
    char *space = strstr(xml, "  <bpmn:process");
    CHECK(space != NULL);
    space[0] = '\t';
    tandem_bpmn_resource *c = parse_ok(xml, len);
    CHECK(memcmp(a->digest.bytes, c->digest.bytes, 32) != 0);
    tandem_bpmn_free(a);
    tandem_bpmn_free(b);
    tandem_bpmn_free(c);
    free(xml);
}

/* docs/BPMN.md carries the generated tables verbatim. */
static void test_doc_table_matches_rules(void)
{
    size_t len = 0;
    char *doc = fixture("../../../docs/BPMN.md", &len);
    tandem_buf table = TANDEM_BUF_INIT;
    CHECK_OK(tandem_bpmn_doc_table(&table));
    CHECK_OK(tandem_buf_append(&table, "", 1));
    const char *generated = (const char *)table.data;
    CHECK_CONTAINS(generated, "| `serviceTask` | executed |");
    CHECK_CONTAINS(generated, "| `exclusiveGateway` | refused: not supported yet |");
    CHECK_CONTAINS(generated, "| `zeebe:taskDefinition` | serviceTask | read |");
    CHECK_MSG(strstr(doc, generated) != NULL, "docs/BPMN.md lacks the generated tables:\n%s",
              generated);
    tandem_buf_free(&table);
    free(doc);
}

static const tandem_test cases[] = {
    {"one_task_model", test_one_task_model},
    {"bpmn2_prefix_and_modelling_elements", test_bpmn2_prefix_and_modelling_elements},
    {"default_namespace_and_several_processes", test_default_namespace_and_several_processes},
    {"minimal_and_implicit_end", test_minimal_and_implicit_end},
    {"large_process_lookups", test_large_process_lookups},
    {"utf16_resource", test_utf16_resource},
    {"concurrent_parses", test_concurrent_parses},
    {"refused_process_children", test_refused_process_children},
    {"refused_gateway_fixture", test_refused_gateway_fixture},
    {"refused_event_definitions_and_markers", test_refused_event_definitions_and_markers},
    {"refused_zeebe_extensions", test_refused_zeebe_extensions},
    {"not_xml", test_not_xml},
    {"wrong_root_and_no_process", test_wrong_root_and_no_process},
    {"ids", test_ids},
    {"sequence_flow_rules", test_sequence_flow_rules},
    {"service_task_rules", test_service_task_rules},
    {"doctype_refused", test_doctype_refused},
    {"size_limit", test_size_limit},
    {"deep_nesting_refused", test_deep_nesting_refused},
    {"mutations_never_crash", test_mutations_never_crash},
    {"out_of_memory", test_out_of_memory},
    {"digest", test_digest},
    {"doc_table_matches_rules", test_doc_table_matches_rules},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
