/*
 * Tests of the REST gateway over loopback with a fake backend that answers
 * at once, later from a timer, with a rejection or an error, or never: every
 * endpoint's JSON, validation, keys, tenants, the empty authorization
 * header, multipart deployments, long polling timed against the clock,
 * request timeouts (504), backpressure (503) and shutdown with held
 * requests.
 */
#include "gateway/gateway.h"

#include "test.h"
#include "test_http_client.h"

typedef enum mode { NOW, LATER, REJECT, FAIL, NEVER } mode;

#define PENDING_MAX 16
#define TEXT_MAX    256

typedef struct pending {
    int op; /* 0 deploy, 1 create, 2 empty, 3 activate */
    tandem_gateway_call *call;
    uint32_t jobs; /* activate: jobs to hand out */
    bool await;
} pending;

typedef struct fake {
    tandem_gateway *gw;
    uv_loop_t *loop;
    mode mode;
    uint32_t later_ms;
    bool healthy;
    tandem_gateway_rejection reject_type;
    /* what the backend saw last */
    int invocations;
    int activations;
    char last_op[32];
    char last_text[TEXT_MAX]; /* id, type or resource names */
    char last_vars[TEXT_MAX];
    int64_t last_key;
    int64_t last_num[4];
    /* jobs that can be activated now */
    uint32_t available;
    /* answers waiting for the timer, or never given (NEVER) */
    pending pending[PENDING_MAX];
    uint32_t pending_count;
    uv_timer_t timer;
} fake;

static void text_copy(char *dst, const char *src)
{
    snprintf(dst, TEXT_MAX, "%s", src != NULL ? src : "(null)");
}

static void answer(fake *f, const pending *p)
{
    switch (p->op) {
    case 0: {
        tandem_gateway_deployed_process procs[2] = {{"p1", 1, "p1.bpmn", 2251799813685249LL},
                                                    {"p2", 4, "sub/p2.bpmn", 2251799813685250LL}};
        tandem_gateway_deployment d = {2251799813685248LL, procs, 2};
        tandem_gateway_complete_deploy(p->call, &d);
        break;
    }
    case 1: {
        tandem_gateway_instance pi = {"p1", 1, 2251799813685249LL, 2251799813685251LL,
                                      p->await ? "{\"a\":1,\"b\":\"x\"}" : NULL};
        tandem_gateway_complete_create(p->call, &pi);
        break;
    }
    case 2:
        tandem_gateway_complete_empty(p->call);
        break;
    case 3: {
        tandem_gateway_job jobs[4];
        uint32_t n = p->jobs < 4 ? p->jobs : 4;
        for (uint32_t i = 0; i < n; i++) {
            jobs[i] = (tandem_gateway_job){.job_key = 2251799813685260LL + i,
                                           .type = "work",
                                           .process_definition_id = "p1",
                                           .process_definition_version = 1,
                                           .element_id = "task",
                                           .custom_headers_json = NULL,
                                           .worker = "w1",
                                           .retries = 3,
                                           .deadline_ms = 1700000030000LL,
                                           .variables_json = "{\"a\":1}",
                                           .process_instance_key = 2251799813685251LL,
                                           .process_definition_key = 2251799813685249LL,
                                           .element_instance_key = 2251799813685255LL};
        }
        tandem_gateway_complete_activation(p->call, jobs, n);
        break;
    }
    default:
        CHECK(false);
    }
    (void)f;
}

static void on_fake_timer(uv_timer_t *t)
{
    fake *f = t->data;
    uint32_t n = f->pending_count;
    pending copy[PENDING_MAX];
    memcpy(copy, f->pending, n * sizeof(copy[0]));
    f->pending_count = 0;
    for (uint32_t i = 0; i < n; i++) {
        answer(f, &copy[i]);
    }
}

/* Answers a call in the fake's mode. */
static void dispatch(fake *f, pending p)
{
    f->invocations++;
    switch (f->mode) {
    case NOW:
        answer(f, &p);
        return;
    case LATER:
    case NEVER:
        CHECK(f->pending_count < PENDING_MAX);
        f->pending[f->pending_count++] = p;
        if (f->mode == LATER) {
            uv_timer_start(&f->timer, on_fake_timer, f->later_ms, 0);
        }
        return;
    case REJECT:
        tandem_gateway_reject(p.call, f->reject_type, "CREATE",
                              "Expected to find process definition with process ID 'nope', but "
                              "none found");
        return;
    case FAIL:
        tandem_gateway_fail(p.call, 503, "RESOURCE_EXHAUSTED",
                            "Expected to handle the request, but the partition is busy");
        return;
    }
}

static void fake_topology(void *ctx, tandem_gateway_topology *t)
{
    (void)ctx;
    t->cluster_size = 1;
    t->partitions_count = 1;
    t->replication_factor = 1;
    t->broker_count = 1;
    snprintf(t->brokers[0].host, sizeof(t->brokers[0].host), "127.0.0.1");
    t->brokers[0].port = 26502;
    snprintf(t->brokers[0].version, sizeof(t->brokers[0].version), "8.8.0");
    t->brokers[0].partition_count = 1;
    t->brokers[0].partitions[0] =
        (tandem_gateway_partition){1, TANDEM_GATEWAY_ROLE_LEADER, TANDEM_GATEWAY_HEALTHY};
}

static bool fake_healthy(void *ctx)
{
    return ((fake *)ctx)->healthy;
}

static void fake_deploy(void *ctx, const tandem_gateway_deploy_request *r,
                        tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "deploy");
    f->last_text[0] = '\0';
    for (uint32_t i = 0; i < r->resource_count; i++) {
        size_t len = strlen(f->last_text);
        snprintf(f->last_text + len, TEXT_MAX - len, "%s%s=%.*s", i > 0 ? "|" : "",
                 r->resources[i].name, (int)r->resources[i].size_bytes,
                 (const char *)r->resources[i].data);
    }
    dispatch(f, (pending){0, call, 0, false});
}

static void fake_create(void *ctx, const tandem_gateway_create_request *r,
                        tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "create");
    text_copy(f->last_text, r->by_key ? "(by key)" : r->process_definition_id);
    text_copy(f->last_vars, r->variables_json);
    f->last_key = r->process_definition_key;
    f->last_num[0] = r->version;
    f->last_num[1] = r->await_completion;
    f->last_num[2] = r->fetch_variable_count;
    f->last_num[3] = r->operation_reference;
    dispatch(f, (pending){1, call, 0, r->await_completion});
}

static void fake_cancel(void *ctx, const tandem_gateway_cancel_request *r,
                        tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "cancel");
    f->last_key = r->process_instance_key;
    f->last_num[0] = r->operation_reference;
    dispatch(f, (pending){2, call, 0, false});
}

static void fake_activate(void *ctx, const tandem_gateway_activate_request *r,
                          tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "activate");
    text_copy(f->last_text, r->type);
    f->activations++;
    f->last_num[0] = r->timeout_ms;
    f->last_num[1] = r->max_jobs;
    f->last_num[2] = r->fetch_variable_count;
    uint32_t n = f->available < (uint32_t)r->max_jobs ? f->available : (uint32_t)r->max_jobs;
    f->available -= n;
    dispatch(f, (pending){3, call, n, false});
}

static void fake_complete(void *ctx, const tandem_gateway_complete_request *r,
                          tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "complete");
    f->last_key = r->job_key;
    text_copy(f->last_vars, r->variables_json);
    dispatch(f, (pending){2, call, 0, false});
}

static void fake_fail(void *ctx, const tandem_gateway_fail_request *r, tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "fail");
    f->last_key = r->job_key;
    text_copy(f->last_text, r->error_message);
    text_copy(f->last_vars, r->variables_json);
    f->last_num[0] = r->retries;
    f->last_num[1] = r->retry_backoff_ms;
    dispatch(f, (pending){2, call, 0, false});
}

static void fake_update(void *ctx, const tandem_gateway_update_request *r,
                        tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "update");
    f->last_key = r->job_key;
    f->last_num[0] = r->has_retries ? r->retries : -100;
    f->last_num[1] = r->has_timeout ? r->timeout_ms : -100;
    dispatch(f, (pending){2, call, 0, false});
}

static void fake_resolve(void *ctx, const tandem_gateway_resolve_request *r,
                         tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "resolve");
    f->last_key = r->incident_key;
    f->last_num[0] = r->operation_reference;
    dispatch(f, (pending){2, call, 0, false});
}

static void fake_set_variables(void *ctx, const tandem_gateway_variables_request *r,
                               tandem_gateway_call *call)
{
    fake *f = ctx;
    snprintf(f->last_op, sizeof(f->last_op), "variables");
    f->last_key = r->element_instance_key;
    f->last_num[0] = r->local;
    text_copy(f->last_vars, r->variables_json);
    dispatch(f, (pending){2, call, 0, false});
}

/* ---- fixture ---- */

typedef struct fixture {
    uv_loop_t loop;
    fake fake;
    uint16_t port;
    bool closed;
} fixture;

static void fixture_start(fixture *fx, tandem_gateway_config *cfg)
{
    memset(fx, 0, sizeof(*fx));
    CHECK(uv_loop_init(&fx->loop) == 0);
    fake *f = &fx->fake;
    f->loop = &fx->loop;
    f->healthy = true;
    f->later_ms = 50;
    CHECK(uv_timer_init(&fx->loop, &f->timer) == 0);
    f->timer.data = f;
    tandem_gateway_backend b = {
        .ctx = f,
        .topology = fake_topology,
        .healthy = fake_healthy,
        .deploy = fake_deploy,
        .create_instance = fake_create,
        .cancel_instance = fake_cancel,
        .activate_jobs = fake_activate,
        .complete_job = fake_complete,
        .fail_job = fake_fail,
        .update_job = fake_update,
        .resolve_incident = fake_resolve,
        .set_variables = fake_set_variables,
    };
    tandem_gateway_config defaults = {0};
    if (cfg == NULL) {
        cfg = &defaults;
    }
    cfg->http.host = "127.0.0.1";
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_gateway_create(&fx->loop, cfg, &b, &f->gw, &d);
    CHECK_MSG(rc == TANDEM_OK, "create: %s", tandem_diag_text(&d));
    rc = tandem_gateway_start(f->gw, &d);
    CHECK_MSG(rc == TANDEM_OK, "start: %s", tandem_diag_text(&d));
    fx->port = tandem_gateway_port(f->gw);
    CHECK(fx->port != 0);
}

static void on_closed(void *data)
{
    *(bool *)data = true;
}

/* Answers what the fake still holds, closes, and checks nothing is left. */
static void fixture_close(fixture *fx)
{
    fake *f = &fx->fake;
    tandem_gateway_close(f->gw, on_closed, &fx->closed);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    on_fake_timer(&f->timer);
    uv_close((uv_handle_t *)&f->timer, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(fx->closed);
    CHECK(uv_loop_close(&fx->loop) == 0);
}

/* Sends a request with a body and waits for the answer. */
static void call_json(fixture *fx, http_call *c, const char *method, const char *path,
                      const char *body)
{
    http_call_start(c, fx->port,
                    "%s %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "authorization: \r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                    method, path, strlen(body), body);
    http_run_until_done(&fx->loop, c, 1);
}

static void start_json(fixture *fx, http_call *c, const char *path, const char *body)
{
    http_call_start(c, fx->port,
                    "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                    path, strlen(body), body);
}

static void check_problem(http_call *c, int status, const char *title, const char *detail)
{
    CHECK_EQ_U64(status, c->status);
    char h[128];
    CHECK_STREQ("application/problem+json", http_reply_header(c, "Content-Type", h, sizeof(h)));
    char expect[2048];
    snprintf(expect, sizeof(expect), "\"title\":\"%s\",\"status\":%d", title, status);
    CHECK_CONTAINS(http_body(c), expect);
    if (detail != NULL) {
        snprintf(expect, sizeof(expect), "\"detail\":\"%s\"", detail);
        CHECK_CONTAINS(http_body(c), expect);
    }
}

/* ---- cluster ---- */

static void test_topology_and_status(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    /* the SDK's request: an empty authorization header means no credentials */
    http_call_start(&c, fx.port,
                    "GET /v2/topology HTTP/1.1\r\nHost: t\r\nuser-agent: camunda8-sdk-nodejs/8.8.13"
                    "\r\ncontent-type: application/json\r\nauthorization: \r\naccept: */*\r\n"
                    "Connection: close\r\n\r\n");
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"brokers\":[{\"nodeId\":0,\"host\":\"127.0.0.1\",\"port\":26502,"
                "\"partitions\":[{\"partitionId\":1,\"role\":\"leader\",\"health\":\"healthy\"}],"
                "\"version\":\"8.8.0\"}],\"clusterSize\":1,\"partitionsCount\":1,"
                "\"replicationFactor\":1,\"gatewayVersion\":\"8.8.0\","
                "\"lastCompletedChangeId\":\"-1\"}",
                http_body(&c));
    http_call_free(&c);

    call_json(&fx, &c, "GET", "/v2/status", "");
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_U64(0, c.body_len);
    http_call_free(&c);
    fx.fake.healthy = false;
    call_json(&fx, &c, "GET", "/v2/status", "");
    check_problem(&c, 503, "UNAVAILABLE", "the broker is not ready to serve requests");
    http_call_free(&c);

    /* unknown endpoints answer at once (clients retry 503s for seconds) */
    call_json(&fx, &c, "POST", "/v2/messages/publication", "{}");
    check_problem(&c, 404, "NOT_FOUND", NULL);
    http_call_free(&c);
    call_json(&fx, &c, "DELETE", "/v2/topology", "");
    check_problem(&c, 405, "METHOD_NOT_ALLOWED", NULL);
    http_call_free(&c);
    fixture_close(&fx);
}

/* ---- deployments ---- */

static void deploy(fixture *fx, http_call *c, const char *content_type, const char *body)
{
    http_call_start(c, fx->port,
                    "POST /v2/deployments HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                    content_type, strlen(body), body);
    http_run_until_done(&fx->loop, c, 1);
}

static const char two_files[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"resources\"; filename=\"p1.bpmn\"\r\n"
    "Content-Type: application/xml\r\n\r\n"
    "<one/>\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"resources\"; filename=\"sub/p2.bpmn\"\r\n\r\n"
    "<two/>\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"tenantId\"\r\n\r\n"
    "<default>\r\n"
    "--XyZ--\r\n";

static void test_deploy(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ", two_files);
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("p1.bpmn=<one/>|sub/p2.bpmn=<two/>", fx.fake.last_text);
    CHECK_STREQ("{\"tenantId\":\"<default>\",\"deploymentKey\":\"2251799813685248\","
                "\"deployments\":[{\"processDefinition\":{\"processDefinitionId\":\"p1\","
                "\"processDefinitionVersion\":1,\"resourceName\":\"p1.bpmn\","
                "\"tenantId\":\"<default>\",\"processDefinitionKey\":\"2251799813685249\"}},"
                "{\"processDefinition\":{\"processDefinitionId\":\"p2\","
                "\"processDefinitionVersion\":4,\"resourceName\":\"sub/p2.bpmn\","
                "\"tenantId\":\"<default>\",\"processDefinitionKey\":\"2251799813685250\"}}]}",
                http_body(&c));
    http_call_free(&c);

    /* a quoted boundary and bare LF line ends, answered later */
    fx.fake.mode = LATER;
    deploy(&fx, &c, "multipart/form-data; boundary=\"a:b\"",
           "--a:b\nContent-Disposition: form-data; name=resources; filename=x.bpmn\n\nX\n--a:b--");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("x.bpmn=X", fx.fake.last_text);
    http_call_free(&c);

    /* the engine refuses the file: all or nothing, a 400 naming the problem */
    fx.fake.mode = REJECT;
    fx.fake.reject_type = TANDEM_GATEWAY_INVALID_ARGUMENT;
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ", two_files);
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to find "
                  "process definition with process ID 'nope', but none found");
    http_call_free(&c);
    int before = fx.fake.invocations;

    /* the request's own errors never reach the backend */
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ",
           "--XyZ\r\nContent-Disposition: form-data; name=\"resources\"\r\n\r\n<x/>\r\n--XyZ--");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Resource 1 (multipart part 1) has no filename: every resource needs one.");
    http_call_free(&c);
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ",
           "--XyZ\r\nContent-Disposition: form-data; name=\"tenantId\"\r\n\r\n<default>\r\n"
           "--XyZ--");
    check_problem(&c, 400, "INVALID_ARGUMENT", "No resources provided.");
    http_call_free(&c);
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ",
           "--XyZ\r\nContent-Disposition: form-data; name=\"tenantId\"\r\n\r\nacme\r\n--XyZ--");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Tenant 'acme' is not allowed: multi-tenancy is not enabled; only tenant "
                  "'<default>' exists.");
    http_call_free(&c);
    deploy(&fx, &c, "multipart/form-data; boundary=XyZ",
           "--XyZ\r\nContent-Disposition: form-data; name=\"resources\"; filename=a\r\n\r\n<x");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Malformed multipart request: multipart part 1 ('resources') is truncated: no "
                  "delimiter follows.");
    http_call_free(&c);
    deploy(&fx, &c, "multipart/form-data", two_files);
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Malformed multipart request: the multipart/form-data content type has no "
                  "boundary.");
    http_call_free(&c);
    deploy(&fx, &c, "application/json", "{}");
    check_problem(&c, 415, "UNSUPPORTED_MEDIA_TYPE",
                  "Content type 'application/json' is not supported; use multipart/form-data.");
    http_call_free(&c);
    CHECK_EQ_U64(before, fx.fake.invocations);
    fixture_close(&fx);
}

static void test_deploy_oversized(void)
{
    tandem_gateway_config cfg = {0};
    cfg.http.body_size_bytes_max = 1024;
    fixture fx;
    fixture_start(&fx, &cfg);
    char body[4096];
    int n = snprintf(body, sizeof(body),
                     "--b\r\nContent-Disposition: form-data; name=resources; filename=a\r\n\r\n");
    memset(body + n, 'x', 2000);
    snprintf(body + n + 2000, sizeof(body) - (size_t)n - 2000, "\r\n--b--");
    http_call c;
    deploy(&fx, &c, "multipart/form-data; boundary=b", body);
    check_problem(&c, 413, "PAYLOAD_TOO_LARGE", NULL);
    http_call_free(&c);
    CHECK_EQ_U64(0, fx.fake.invocations);
    fixture_close(&fx);
}

/* ---- process instances ---- */

static void test_create_instance(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    call_json(
        &fx, &c, "POST", "/v2/process-instances",
        "{\"processDefinitionId\":\"p1\",\"variables\":{\"a\":1},\"tenantId\":\"<default>\"}");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"processDefinitionId\":\"p1\",\"processDefinitionVersion\":1,"
                "\"tenantId\":\"<default>\",\"variables\":{},"
                "\"processDefinitionKey\":\"2251799813685249\","
                "\"processInstanceKey\":\"2251799813685251\"}",
                http_body(&c));
    CHECK_STREQ("p1", fx.fake.last_text);
    CHECK_STREQ("{\"a\":1}", fx.fake.last_vars);
    CHECK_EQ_I64(-1, fx.fake.last_num[0]);
    http_call_free(&c);

    /* by key, answered later, with awaitCompletion and result variables */
    fx.fake.mode = LATER;
    call_json(&fx, &c, "POST", "/v2/process-instances",
              "{\"processDefinitionKey\":\"2251799813685249\",\"awaitCompletion\":true,"
              "\"fetchVariables\":[\"a\"],\"requestTimeout\":5000,\"operationReference\":3}");
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"variables\":{\"a\":1,\"b\":\"x\"}");
    CHECK_STREQ("(by key)", fx.fake.last_text);
    CHECK_EQ_I64(2251799813685249LL, fx.fake.last_key);
    CHECK_EQ_I64(1, fx.fake.last_num[1]);
    CHECK_EQ_I64(1, fx.fake.last_num[2]);
    CHECK_EQ_I64(3, fx.fake.last_num[3]);
    http_call_free(&c);

    /* the engine's rejection, mapped */
    fx.fake.mode = REJECT;
    fx.fake.reject_type = TANDEM_GATEWAY_NOT_FOUND;
    call_json(&fx, &c, "POST", "/v2/process-instances", "{\"processDefinitionId\":\"nope\"}");
    check_problem(&c, 404, "NOT_FOUND",
                  "Command 'CREATE' rejected with code 'NOT_FOUND': Expected to find process "
                  "definition with process ID 'nope', but none found");
    http_call_free(&c);
    /* the backend's own error: backpressure */
    fx.fake.mode = FAIL;
    call_json(&fx, &c, "POST", "/v2/process-instances", "{\"processDefinitionId\":\"p1\"}");
    check_problem(&c, 503, "RESOURCE_EXHAUSTED",
                  "Expected to handle the request, but the partition is busy");
    http_call_free(&c);

    /* validation, malformed JSON, foreign tenant, wrong media type */
    int before = fx.fake.invocations;
    call_json(&fx, &c, "POST", "/v2/process-instances", "{\"variables\":{}}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "At least one of [processDefinitionId, processDefinitionKey] is required.");
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/process-instances", "{\"processDefinitionId\":\"p1\",}");
    check_problem(&c, 400, "INVALID_ARGUMENT", NULL);
    CHECK_CONTAINS(http_body(&c), "Request body is not valid JSON: ");
    CHECK_CONTAINS(http_body(&c),
                   "string or '}' expected near '}' at line 1, column 29 (position 29).");
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/process-instances",
              "{\"processDefinitionId\":\"p1\",\"tenantId\":\"acme\"}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Tenant 'acme' is not allowed: multi-tenancy is not enabled; only tenant "
                  "'<default>' exists.");
    http_call_free(&c);
    http_call_start(&c, fx.port,
                    "POST /v2/process-instances HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain"
                    "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    http_run_until_done(&fx.loop, &c, 1);
    check_problem(&c, 415, "UNSUPPORTED_MEDIA_TYPE",
                  "Content type 'text/plain' is not supported; use application/json.");
    http_call_free(&c);
    CHECK_EQ_U64(before, fx.fake.invocations);
    CHECK_EQ_U64(0, tandem_gateway_calls(fx.fake.gw));
    fixture_close(&fx);
}

static void test_await_timeout(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    fx.fake.mode = NEVER;
    http_call c;
    call_json(&fx, &c, "POST", "/v2/process-instances",
              "{\"processDefinitionId\":\"p1\",\"awaitCompletion\":true,\"requestTimeout\":300}");
    check_problem(&c, 504, "DEADLINE_EXCEEDED", "the request timed out after 300 ms");
    CHECK_MSG(c.elapsed_ms >= 280 && c.elapsed_ms < 3000, "answered after %.0f ms", c.elapsed_ms);
    http_call_free(&c);
    /* the call lives on until the engine answers; the late answer goes nowhere */
    CHECK_EQ_U64(1, tandem_gateway_calls(fx.fake.gw));
    on_fake_timer(&fx.fake.timer);
    CHECK_EQ_U64(0, tandem_gateway_calls(fx.fake.gw));
    fixture_close(&fx);
}

static void test_cancel_instance(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    call_json(&fx, &c, "POST", "/v2/process-instances/2251799813685251/cancellation", "{}");
    CHECK_EQ_U64(204, c.status);
    CHECK_STREQ("cancel", fx.fake.last_op);
    CHECK_EQ_I64(2251799813685251LL, fx.fake.last_key);
    http_call_free(&c);
    /* no body at all, as some clients send it */
    http_call_start(&c, fx.port,
                    "POST /v2/process-instances/7/cancellation HTTP/1.1\r\nHost: t\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n");
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_I64(7, fx.fake.last_key);
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/process-instances/12ab/cancellation", "{}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "The provided processInstanceKey '12ab' is not a valid key: expected a numeric "
                  "value within the 64-bit range.");
    http_call_free(&c);
    fx.fake.mode = REJECT;
    fx.fake.reject_type = TANDEM_GATEWAY_NOT_FOUND;
    call_json(&fx, &c, "POST", "/v2/process-instances/5/cancellation", "{}");
    check_problem(&c, 404, "NOT_FOUND", NULL);
    http_call_free(&c);
    fixture_close(&fx);
}

/* ---- jobs ---- */

static void test_job_commands(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    call_json(&fx, &c, "POST", "/v2/jobs/2251799813685260/completion", "{\"variables\":{\"b\":2}}");
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_U64(0, c.body_len);
    CHECK_STREQ("complete", fx.fake.last_op);
    CHECK_EQ_I64(2251799813685260LL, fx.fake.last_key);
    CHECK_STREQ("{\"b\":2}", fx.fake.last_vars);
    http_call_free(&c);

    fx.fake.mode = LATER;
    call_json(&fx, &c, "POST", "/v2/jobs/8/failure",
              "{\"retries\":2,\"errorMessage\":\"x\",\"retryBackOff\":1000}");
    CHECK_EQ_U64(204, c.status);
    CHECK_STREQ("fail", fx.fake.last_op);
    CHECK_EQ_I64(8, fx.fake.last_key);
    CHECK_EQ_I64(2, fx.fake.last_num[0]);
    CHECK_EQ_I64(1000, fx.fake.last_num[1]);
    CHECK_STREQ("x", fx.fake.last_text);
    CHECK_STREQ("{}", fx.fake.last_vars);
    http_call_free(&c);

    fx.fake.mode = NOW;
    call_json(&fx, &c, "PATCH", "/v2/jobs/9", "{\"changeset\":{\"retries\":5,\"timeout\":60000}}");
    CHECK_EQ_U64(204, c.status);
    CHECK_STREQ("update", fx.fake.last_op);
    CHECK_EQ_I64(9, fx.fake.last_key);
    CHECK_EQ_I64(5, fx.fake.last_num[0]);
    CHECK_EQ_I64(60000, fx.fake.last_num[1]);
    http_call_free(&c);

    call_json(&fx, &c, "PATCH", "/v2/jobs/9", "{\"changeset\":{}}");
    check_problem(&c, 400, "INVALID_ARGUMENT", "At least one of [retries, timeout] is required.");
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/jobs/x/completion", "{}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "The provided jobKey 'x' is not a valid key: expected a numeric value within "
                  "the 64-bit range.");
    http_call_free(&c);
    /* POST to the job itself is not a route */
    call_json(&fx, &c, "POST", "/v2/jobs/9", "{}");
    check_problem(&c, 405, "METHOD_NOT_ALLOWED", NULL);
    http_call_free(&c);

    fx.fake.mode = REJECT;
    fx.fake.reject_type = TANDEM_GATEWAY_INVALID_STATE;
    call_json(&fx, &c, "POST", "/v2/jobs/8/completion", "");
    check_problem(&c, 409, "INVALID_STATE", NULL);
    http_call_free(&c);
    fixture_close(&fx);
}

static void test_incident_and_variables(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c;
    call_json(&fx, &c, "POST", "/v2/incidents/2251799813685270/resolution", "");
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_U64(0, c.body_len);
    CHECK_STREQ("resolve", fx.fake.last_op);
    CHECK_EQ_I64(2251799813685270LL, fx.fake.last_key);
    CHECK_EQ_I64(0, fx.fake.last_num[0]);
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/incidents/7/resolution", "{\"operationReference\":12}");
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_I64(12, fx.fake.last_num[0]);
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/incidents/7/resolution", "{\"operationReference\":0}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "The value for operationReference is '0' but must be > 0.");
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/incidents/abc/resolution", "");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "The provided incidentKey 'abc' is not a valid key: expected a numeric value "
                  "within the 64-bit range.");
    http_call_free(&c);

    call_json(&fx, &c, "PUT", "/v2/element-instances/2251799813685271/variables",
              "{\"variables\":{\"amount\":21},\"local\":true}");
    CHECK_EQ_U64(204, c.status);
    CHECK_STREQ("variables", fx.fake.last_op);
    CHECK_EQ_I64(2251799813685271LL, fx.fake.last_key);
    CHECK_EQ_I64(1, fx.fake.last_num[0]);
    CHECK_STREQ("{\"amount\":21}", fx.fake.last_vars);
    http_call_free(&c);
    call_json(&fx, &c, "PUT", "/v2/element-instances/5/variables", "{\"variables\":{}}");
    CHECK_EQ_U64(204, c.status);
    CHECK_EQ_I64(0, fx.fake.last_num[0]);
    http_call_free(&c);
    call_json(&fx, &c, "PUT", "/v2/element-instances/5/variables", "{\"local\":true}");
    check_problem(&c, 400, "INVALID_ARGUMENT", "No variables provided.");
    http_call_free(&c);
    call_json(&fx, &c, "PUT", "/v2/element-instances/5/variables", "");
    check_problem(&c, 400, "INVALID_ARGUMENT", "Required request body is missing.");
    http_call_free(&c);
    call_json(&fx, &c, "PUT", "/v2/element-instances/5/variables", "{\"variables\":[1]}");
    check_problem(&c, 400, "INVALID_ARGUMENT", NULL);
    http_call_free(&c);

    fx.fake.mode = REJECT;
    fx.fake.reject_type = TANDEM_GATEWAY_NOT_FOUND;
    call_json(&fx, &c, "POST", "/v2/incidents/7/resolution", "");
    check_problem(&c, 404, "NOT_FOUND", NULL);
    http_call_free(&c);
    fx.fake.reject_type = TANDEM_GATEWAY_INVALID_STATE;
    call_json(&fx, &c, "POST", "/v2/incidents/7/resolution", "");
    check_problem(&c, 409, "INVALID_STATE", NULL);
    http_call_free(&c);
    fixture_close(&fx);
}

static const char activation[] =
    "{\"type\":\"work\",\"worker\":\"w1\",\"timeout\":30000,\"maxJobsToActivate\":5,"
    "\"requestTimeout\":%d,\"fetchVariable\":[\"a\"],\"tenantIds\":[\"<default>\"]}";

static void activate(fixture *fx, http_call *c, int request_timeout_ms)
{
    char body[512];
    snprintf(body, sizeof(body), activation, request_timeout_ms);
    start_json(fx, c, "/v2/jobs/activation", body);
}

static void test_activate_at_once(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    fx.fake.available = 2;
    http_call c;
    activate(&fx, &c, 10000);
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c),
                   "{\"jobs\":[{\"type\":\"work\",\"processDefinitionId\":\"p1\","
                   "\"processDefinitionVersion\":1,\"elementId\":\"task\","
                   "\"customHeaders\":{},\"worker\":\"w1\",\"retries\":3,"
                   "\"deadline\":1700000030000,\"variables\":{\"a\":1},"
                   "\"tenantId\":\"<default>\",\"jobKey\":\"2251799813685260\","
                   "\"processInstanceKey\":\"2251799813685251\","
                   "\"processDefinitionKey\":\"2251799813685249\","
                   "\"elementInstanceKey\":\"2251799813685255\","
                   "\"kind\":\"BPMN_ELEMENT\",\"listenerEventType\":\"UNSPECIFIED\"},");
    CHECK_CONTAINS(http_body(&c), "\"jobKey\":\"2251799813685261\"");
    CHECK_MSG(c.elapsed_ms < 2000, "answered after %.0f ms", c.elapsed_ms);
    CHECK_STREQ("work", fx.fake.last_text);
    CHECK_EQ_I64(30000, fx.fake.last_num[0]);
    CHECK_EQ_I64(5, fx.fake.last_num[1]);
    CHECK_EQ_I64(1, fx.fake.last_num[2]);
    http_call_free(&c);

    /* a negative requestTimeout answers at once, even with no job */
    activate(&fx, &c, -1);
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"jobs\":[]}", http_body(&c));
    CHECK_MSG(c.elapsed_ms < 500, "answered after %.0f ms", c.elapsed_ms);
    http_call_free(&c);

    call_json(&fx, &c, "POST", "/v2/jobs/activation", "{\"type\":\"work\"}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "No timeout provided. No maxJobsToActivate provided.");
    http_call_free(&c);
    call_json(&fx, &c, "POST", "/v2/jobs/activation",
              "{\"type\":\"w\",\"timeout\":1,\"maxJobsToActivate\":1,\"tenantIds\":[\"t1\"]}");
    check_problem(&c, 400, "INVALID_ARGUMENT",
                  "Tenant 't1' is not allowed: multi-tenancy is not enabled; only tenant "
                  "'<default>' exists.");
    http_call_free(&c);
    fixture_close(&fx);
}

/* A job of type "work" appears after job_after_ms. */
typedef struct job_later {
    fake *fake;
    uv_timer_t timer;
    const char *type;
} job_later;

static void on_job_appears(uv_timer_t *t)
{
    job_later *j = t->data;
    j->fake->available++;
    tandem_gateway_notify_jobs_available(j->fake->gw, j->type);
}

static void test_long_poll_job_appears(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    job_later later = {.fake = &fx.fake, .type = "work"};
    CHECK(uv_timer_init(&fx.loop, &later.timer) == 0);
    later.timer.data = &later;
    job_later other = {.fake = &fx.fake, .type = "other"};
    CHECK(uv_timer_init(&fx.loop, &other.timer) == 0);
    other.timer.data = &other;

    http_call c;
    activate(&fx, &c, 10000);
    /* a notify for another type does not wake the poll */
    uv_timer_start(&other.timer, on_job_appears, 200, 0);
    uv_timer_start(&later.timer, on_job_appears, 500, 0);
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"jobKey\":\"2251799813685260\"");
    CHECK_MSG(c.elapsed_ms >= 450 && c.elapsed_ms < 3000, "answered after %.0f ms", c.elapsed_ms);
    CHECK_EQ_U64(2, fx.fake.activations); /* the first try and the one after the notify */
    http_call_free(&c);
    uv_close((uv_handle_t *)&later.timer, NULL);
    uv_close((uv_handle_t *)&other.timer, NULL);
    fixture_close(&fx);
}

static void test_long_poll_times_out(void)
{
    tandem_gateway_config cfg = {0};
    cfg.long_poll_timeout_ms = 700;
    fixture fx;
    fixture_start(&fx, &cfg);
    http_call c[2];
    activate(&fx, &c[0], 1000);
    activate(&fx, &c[1], 0); /* the configured default */
    http_run_until_done(&fx.loop, c, 2);
    CHECK_EQ_U64(200, c[0].status);
    CHECK_STREQ("{\"jobs\":[]}", http_body(&c[0]));
    CHECK_MSG(c[0].elapsed_ms >= 950 && c[0].elapsed_ms < 3000, "answered after %.0f ms",
              c[0].elapsed_ms);
    CHECK_EQ_U64(200, c[1].status);
    CHECK_STREQ("{\"jobs\":[]}", http_body(&c[1]));
    CHECK_MSG(c[1].elapsed_ms >= 650 && c[1].elapsed_ms < 2500, "answered after %.0f ms",
              c[1].elapsed_ms);
    http_call_free(&c[0]);
    http_call_free(&c[1]);
    CHECK_EQ_U64(0, tandem_gateway_calls(fx.fake.gw));
    fixture_close(&fx);
}

/* A notify while the backend holds the activation makes the gateway ask
 * again once the backend answers with no job. */
static void test_long_poll_retry_after_notify(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    fx.fake.mode = LATER;
    fx.fake.later_ms = 200;
    job_later later = {.fake = &fx.fake, .type = "work"};
    CHECK(uv_timer_init(&fx.loop, &later.timer) == 0);
    later.timer.data = &later;
    http_call c;
    activate(&fx, &c, 5000);
    uv_timer_start(&later.timer, on_job_appears, 50, 0);
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"jobKey\":\"2251799813685260\"");
    CHECK_EQ_U64(2, fx.fake.activations);
    CHECK_MSG(c.elapsed_ms < 3000, "answered after %.0f ms", c.elapsed_ms);
    http_call_free(&c);
    uv_close((uv_handle_t *)&later.timer, NULL);
    fixture_close(&fx);
}

/* The deadline passes while the backend holds the activation: its jobs are
 * still delivered. */
static void test_long_poll_deadline_with_backend(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    fx.fake.mode = LATER;
    fx.fake.later_ms = 600;
    fx.fake.available = 1;
    http_call c;
    activate(&fx, &c, 200);
    http_run_until_done(&fx.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"jobKey\":\"2251799813685260\"");
    CHECK_MSG(c.elapsed_ms >= 550, "answered after %.0f ms", c.elapsed_ms);
    http_call_free(&c);
    fixture_close(&fx);
}

/* ---- limits and shutdown ---- */

static void wait_calls(fixture *fx, uint32_t n)
{
    double deadline = http_now_ms() + 10000;
    while (tandem_gateway_calls(fx->fake.gw) != n) {
        CHECK_MSG(http_now_ms() < deadline, "%u calls, expected %u",
                  tandem_gateway_calls(fx->fake.gw), n);
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
}

static void test_backpressure(void)
{
    tandem_gateway_config cfg = {0};
    cfg.calls_max = 2;
    fixture fx;
    fixture_start(&fx, &cfg);
    fx.fake.mode = NEVER;
    http_call held[2];
    start_json(&fx, &held[0], "/v2/process-instances", "{\"processDefinitionId\":\"p1\"}");
    activate(&fx, &held[1], 300);
    wait_calls(&fx, 2);
    http_call c;
    call_json(&fx, &c, "POST", "/v2/jobs/1/completion", "{}");
    check_problem(&c, 503, "RESOURCE_EXHAUSTED", "the gateway has 2 requests in flight, its limit");
    http_call_free(&c);
    /* once the engine answers, there is room again */
    on_fake_timer(&fx.fake.timer);
    http_run_until_done(&fx.loop, held, 2);
    CHECK_EQ_U64(200, held[0].status);
    CHECK_EQ_U64(200, held[1].status);
    CHECK_STREQ("{\"jobs\":[]}", http_body(&held[1]));
    http_call_free(&held[0]);
    http_call_free(&held[1]);
    fx.fake.mode = NOW;
    call_json(&fx, &c, "POST", "/v2/jobs/1/completion", "{}");
    CHECK_EQ_U64(204, c.status);
    http_call_free(&c);
    fixture_close(&fx);
}

/* The queue from the HTTP thread to the loop is full while the loop is busy:
 * 503 RESOURCE_EXHAUSTED at once. */
static void test_queue_full(void)
{
    tandem_gateway_config cfg = {0};
    cfg.http.queue_capacity = 1;
    fixture fx;
    fixture_start(&fx, &cfg);
    tandem_http_server *http = tandem_gateway_http(fx.fake.gw);
    http_call c[2];
    start_json(&fx, &c[0], "/v2/process-instances", "{\"processDefinitionId\":\"p1\"}");
    tandem_http_stats st;
    double deadline = http_now_ms() + 10000;
    do {
        CHECK(http_now_ms() < deadline);
        usleep(1000);
        tandem_http_server_stats(http, &st);
    } while (st.queued != 1);
    start_json(&fx, &c[1], "/v2/process-instances", "{\"processDefinitionId\":\"p1\"}");
    http_call_join(&c[1]);
    check_problem(&c[1], 503, "RESOURCE_EXHAUSTED", NULL);
    http_run_until_done(&fx.loop, c, 1);
    CHECK_EQ_U64(200, c[0].status);
    http_call_free(&c[0]);
    http_call_free(&c[1]);
    fixture_close(&fx);
}

static void test_shutdown_with_held_requests(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    http_call c[3];
    /* two long polls wait for jobs, a create waits for the engine */
    activate(&fx, &c[0], 10000);
    activate(&fx, &c[1], 0);
    wait_calls(&fx, 2);
    fx.fake.mode = NEVER;
    start_json(&fx, &c[2], "/v2/process-instances", "{\"processDefinitionId\":\"p1\"}");
    wait_calls(&fx, 3);
    tandem_gateway_close(fx.fake.gw, on_closed, &fx.closed);
    for (int i = 0; i < 3; i++) {
        http_call_join(&c[i]);
        check_problem(&c[i], 503, "UNAVAILABLE", "the server is shutting down");
        http_call_free(&c[i]);
    }
    /* the gateway stays until the engine answers its last call */
    for (int i = 0; i < 50; i++) {
        uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    CHECK(!fx.closed);
    on_fake_timer(&fx.fake.timer);
    uv_close((uv_handle_t *)&fx.fake.timer, NULL);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    CHECK(fx.closed);
    CHECK(uv_loop_close(&fx.loop) == 0);
}

/* A client that goes away while its long poll is held: the poll ends at
 * its deadline like any other, and nothing is left behind. */
static void test_client_leaves_long_poll(void)
{
    fixture fx;
    fixture_start(&fx, NULL);
    char body[512];
    snprintf(body, sizeof(body), activation, 300);
    char raw[1024];
    int n = snprintf(raw, sizeof(raw),
                     "POST /v2/jobs/activation HTTP/1.1\r\nHost: t\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    http_call c;
    http_call_start_raw(&c, fx.port, raw, (size_t)n, true);
    http_run_until_done(&fx.loop, &c, 1);
    http_call_free(&c);
    wait_calls(&fx, 1);
    double start = http_now_ms();
    wait_calls(&fx, 0);
    CHECK_MSG(http_now_ms() - start < 3000, "the poll lived %.0f ms", http_now_ms() - start);
    fixture_close(&fx);
}

static const tandem_test cases[] = {
    {"topology_and_status", test_topology_and_status},
    {"deploy", test_deploy},
    {"deploy_oversized", test_deploy_oversized},
    {"create_instance", test_create_instance},
    {"await_timeout", test_await_timeout},
    {"cancel_instance", test_cancel_instance},
    {"job_commands", test_job_commands},
    {"incident_and_variables", test_incident_and_variables},
    {"activate_at_once", test_activate_at_once},
    {"long_poll_job_appears", test_long_poll_job_appears},
    {"long_poll_times_out", test_long_poll_times_out},
    {"long_poll_retry_after_notify", test_long_poll_retry_after_notify},
    {"long_poll_deadline_with_backend", test_long_poll_deadline_with_backend},
    {"backpressure", test_backpressure},
    {"queue_full", test_queue_full},
    {"shutdown_with_held_requests", test_shutdown_with_held_requests},
    {"client_leaves_long_poll", test_client_leaves_long_poll},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
