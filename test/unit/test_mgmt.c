/*
 * Tests of the management API over loopback: health with components that
 * flip, liveness, the readiness flag, the Prometheus endpoint, routes added
 * by the broker, and registration errors.
 */
#include "mgmt/mgmt.h"

#include "test.h"
#include "test_http_client.h"

typedef struct fixture {
    uv_loop_t loop;
    tandem_metrics *metrics;
    tandem_mgmt *mgmt;
    uint16_t port;
    bool closed;
} fixture;

static void fixture_create(fixture *f)
{
    memset(f, 0, sizeof(*f));
    CHECK(uv_loop_init(&f->loop) == 0);
    CHECK_OK(tandem_metrics_create(64, &f->metrics));
    tandem_mgmt_config cfg = {.http = {.host = "127.0.0.1"}, .metrics = f->metrics};
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_mgmt_create(&f->loop, &cfg, &f->mgmt, &d);
    CHECK_MSG(rc == TANDEM_OK, "create: %s", tandem_diag_text(&d));
}

static void fixture_start(fixture *f)
{
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_mgmt_start(f->mgmt, &d);
    CHECK_MSG(rc == TANDEM_OK, "start: %s", tandem_diag_text(&d));
    f->port = tandem_mgmt_port(f->mgmt);
    CHECK(f->port != 0);
}

static void on_closed(void *data)
{
    *(bool *)data = true;
}

static void fixture_close(fixture *f)
{
    tandem_mgmt_close(f->mgmt, on_closed, &f->closed);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK(f->closed);
    CHECK(uv_loop_close(&f->loop) == 0);
    tandem_metrics_destroy(f->metrics);
}

/* GETs `path` with the loop running; the caller frees the call. */
static void get(fixture *f, http_call *c, const char *path)
{
    http_call_start(c, f->port, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    http_run_until_done(&f->loop, c, 1);
}

typedef struct component_state {
    tandem_health health;
    const char *detail;
    int calls;
} component_state;

static tandem_health check_component(void *ctx, char *detail, size_t detail_size)
{
    component_state *s = ctx;
    s->calls++;
    if (s->detail != NULL) {
        snprintf(detail, detail_size, "%s", s->detail);
    }
    return s->health;
}

static void test_health_components(void)
{
    fixture f;
    fixture_create(&f);
    http_call c;

    component_state journal = {TANDEM_HEALTH_UP, NULL, 0};
    component_state raft = {TANDEM_HEALTH_UP, NULL, 0};
    CHECK_OK(tandem_mgmt_add_health(f.mgmt, "journal", check_component, &journal, NULL));
    CHECK_OK(tandem_mgmt_add_health(f.mgmt, "raft-1", check_component, &raft, NULL));
    fixture_start(&f);

    get(&f, &c, "/actuator/health");
    CHECK_EQ_U64(200, c.status);
    char h[128];
    CHECK_STREQ("application/json", http_reply_header(&c, "Content-Type", h, sizeof(h)));
    CHECK_STREQ("{\"status\":\"UP\",\"components\":{\"journal\":{\"status\":\"UP\"},"
                "\"raft-1\":{\"status\":\"UP\"}}}",
                http_body(&c));
    http_call_free(&c);

    /* one component goes down: the whole is DOWN with 503 */
    raft.health = TANDEM_HEALTH_DOWN;
    raft.detail = "no leader for \"partition 1\"";
    get(&f, &c, "/actuator/health");
    CHECK_EQ_U64(503, c.status);
    CHECK_STREQ("{\"status\":\"DOWN\",\"components\":{\"journal\":{\"status\":\"UP\"},"
                "\"raft-1\":{\"status\":\"DOWN\",\"details\":{\"message\":"
                "\"no leader for \\\"partition 1\\\"\"}}}}",
                http_body(&c));
    http_call_free(&c);

    /* and comes back */
    raft.health = TANDEM_HEALTH_UP;
    raft.detail = NULL;
    get(&f, &c, "/actuator/health");
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "{\"status\":\"UP\"");
    http_call_free(&c);
    CHECK_EQ_U64(3, journal.calls);
    CHECK_EQ_U64(3, raft.calls);
    fixture_close(&f);
}

static void test_health_without_components_and_liveness(void)
{
    fixture f;
    fixture_create(&f);
    fixture_start(&f);
    http_call c;
    get(&f, &c, "/actuator/health");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"status\":\"UP\"}", http_body(&c));
    http_call_free(&c);

    get(&f, &c, "/actuator/health/liveness");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"status\":\"UP\"}", http_body(&c));
    http_call_free(&c);

    /* liveness is answered by the loop: while the loop does not run, no answer */
    http_call_start(
        &c, f.port,
        "GET /actuator/health/liveness HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    usleep(200 * 1000);
    CHECK(!atomic_load(&c.finished));
    http_run_until_done(&f.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    http_call_free(&c);

    get(&f, &c, "/actuator/unknown");
    CHECK_EQ_U64(404, c.status);
    CHECK_CONTAINS(http_body(&c), "\"title\":\"NOT_FOUND\"");
    http_call_free(&c);

    http_call_start(&c, f.port,
                    "POST /actuator/health HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n");
    http_run_until_done(&f.loop, &c, 1);
    CHECK_EQ_U64(405, c.status);
    char h[64];
    CHECK_STREQ("GET", http_reply_header(&c, "Allow", h, sizeof(h)));
    http_call_free(&c);
    fixture_close(&f);
}

static void test_readiness_flag(void)
{
    fixture f;
    fixture_create(&f);
    fixture_start(&f);
    http_call c;
    CHECK(!tandem_mgmt_ready(f.mgmt));
    get(&f, &c, "/actuator/health/readiness");
    CHECK_EQ_U64(503, c.status);
    CHECK_STREQ("{\"status\":\"OUT_OF_SERVICE\"}", http_body(&c));
    http_call_free(&c);

    tandem_mgmt_set_ready(f.mgmt, true);
    CHECK(tandem_mgmt_ready(f.mgmt));
    get(&f, &c, "/actuator/health/readiness");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"status\":\"UP\"}", http_body(&c));
    http_call_free(&c);

    tandem_mgmt_set_ready(f.mgmt, false);
    get(&f, &c, "/actuator/health/readiness");
    CHECK_EQ_U64(503, c.status);
    http_call_free(&c);
    fixture_close(&f);
}

static void test_prometheus(void)
{
    fixture f;
    fixture_create(&f);
    tandem_counter *appends = NULL;
    tandem_metric_label p1[] = {{"partition", "1"}};
    CHECK_OK(tandem_metrics_counter(f.metrics, "tandem_journal_appends_total",
                                    "Entries appended to the journal.", p1, 1, &appends, NULL));
    fixture_start(&f);
    tandem_counter_add(appends, 7);
    http_call c;
    get(&f, &c, "/actuator/health"); /* counted below */
    http_call_free(&c);
    get(&f, &c, "/actuator/prometheus");
    CHECK_EQ_U64(200, c.status);
    char h[128];
    CHECK_STREQ("text/plain; version=0.0.4; charset=utf-8",
                http_reply_header(&c, "Content-Type", h, sizeof(h)));
    const char *body = http_body(&c);
    CHECK_CONTAINS(body, "# HELP tandem_journal_appends_total Entries appended to the journal.\n"
                         "# TYPE tandem_journal_appends_total counter\n"
                         "tandem_journal_appends_total{partition=\"1\"} 7\n");
    CHECK_CONTAINS(body, "tandem_http_responses_total{server=\"management\",class=\"2xx\"} 1\n");
    CHECK_CONTAINS(body, "# TYPE tandem_http_request_duration_seconds histogram\n");
    http_call_free(&c);
    fixture_close(&f);
}

static void on_partitions(tandem_http_request *req, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    static const char body[] = "[{\"partitionId\":1,\"role\":\"LEADER\"}]";
    CHECK_STREQ("1", tandem_http_param(req, "id"));
    tandem_http_respond(req, 200, "application/json", body, sizeof(body) - 1);
}

static tandem_health always_up(void *ctx, char *detail, size_t detail_size)
{
    (void)ctx;
    (void)detail;
    (void)detail_size;
    return TANDEM_HEALTH_UP;
}

static void test_broker_routes_and_errors(void)
{
    fixture f;
    fixture_create(&f);
    int calls = 0;
    tandem_diag d;
    CHECK_OK(
        tandem_mgmt_route(f.mgmt, "GET", "/actuator/partitions/{id}", on_partitions, &calls, &d));
    CHECK_RC(TANDEM_EEXIST,
             tandem_mgmt_route(f.mgmt, "GET", "/actuator/health", on_partitions, &calls, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_mgmt_add_health(f.mgmt, "has space", always_up, NULL, &d));
    CHECK_CONTAINS(d.message, "health component name \"has space\"");
    CHECK_RC(TANDEM_EINVAL, tandem_mgmt_add_health(f.mgmt, "", always_up, NULL, &d));
    CHECK_OK(tandem_mgmt_add_health(f.mgmt, "c0", always_up, NULL, &d));
    CHECK_RC(TANDEM_EEXIST, tandem_mgmt_add_health(f.mgmt, "c0", always_up, NULL, &d));
    CHECK_CONTAINS(d.message, "\"c0\" is already registered");
    char name[16];
    for (int i = 1; i < TANDEM_MGMT_COMPONENTS_MAX; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        CHECK_OK(tandem_mgmt_add_health(f.mgmt, name, always_up, NULL, &d));
    }
    CHECK_RC(TANDEM_EFULL, tandem_mgmt_add_health(f.mgmt, "c99", always_up, NULL, &d));
    fixture_start(&f);
    CHECK_RC(TANDEM_ESTATE, tandem_mgmt_add_health(f.mgmt, "late", always_up, NULL, &d));
    CHECK_CONTAINS(d.message, "after the management API started");
    CHECK_RC(TANDEM_ESTATE, tandem_mgmt_route(f.mgmt, "GET", "/late", on_partitions, &calls, &d));

    http_call c;
    get(&f, &c, "/actuator/partitions/1");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("[{\"partitionId\":1,\"role\":\"LEADER\"}]", http_body(&c));
    CHECK_EQ_U64(1, calls);
    http_call_free(&c);
    get(&f, &c, "/actuator/health");
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"c15\":{\"status\":\"UP\"}}}");
    http_call_free(&c);
    fixture_close(&f);
}

static void test_start_failure_then_close(void)
{
    fixture a;
    fixture_create(&a);
    fixture_start(&a);
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    tandem_metrics *metrics = NULL;
    CHECK_OK(tandem_metrics_create(16, &metrics));
    tandem_mgmt *m = NULL;
    tandem_mgmt_config cfg = {.http = {.host = "127.0.0.1", .port = a.port}, .metrics = metrics};
    tandem_diag d;
    CHECK_OK(tandem_mgmt_create(&loop, &cfg, &m, &d));
    CHECK_RC(TANDEM_ESYS, tandem_mgmt_start(m, &d));
    CHECK_CONTAINS(d.message, "for the management server: Address already in use");
    CHECK_EQ_U64(0, tandem_mgmt_port(m));
    bool closed = false;
    tandem_mgmt_close(m, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed);
    CHECK(uv_loop_close(&loop) == 0);
    tandem_metrics_destroy(metrics);
    fixture_close(&a);
}

static const tandem_test cases[] = {
    {"health_components", test_health_components},
    {"health_without_components_and_liveness", test_health_without_components_and_liveness},
    {"readiness_flag", test_readiness_flag},
    {"prometheus", test_prometheus},
    {"broker_routes_and_errors", test_broker_routes_and_errors},
    {"start_failure_then_close", test_start_failure_then_close},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
