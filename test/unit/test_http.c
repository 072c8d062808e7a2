/*
 * Tests of the HTTP server core: the pure text handling (routes,
 * percent-decoding, query strings, problem JSON) and the server over
 * loopback — routing, 404/405/413/400 answers, deferred answers, the bounded
 * queue, shutdown with requests queued and held, logging and metrics.
 */
#include "mgmt/http.h"
#include "mgmt/http_int.h"

#include "base/log.h"
#include "test.h"
#include "test_http_client.h"

/* ---- pure parts ---- */

static void test_route_compile(void)
{
    http_route r;
    tandem_diag d;
    CHECK_OK(http_route_compile(&r, "POST", "/actuator/exporters/{id}/disable", &d));
    CHECK_EQ_U64(4, r.segment_count);
    CHECK_EQ_U64(1, r.param_count);
    CHECK_STREQ("id", r.param_names[0]);

    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "actuator", &d));
    CHECK_CONTAINS(d.message, "must start with \"/\"");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a//b", &d));
    CHECK_CONTAINS(d.message, "empty segment");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a/", &d));
    CHECK_CONTAINS(d.message, "empty segment");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a/x{id}", &d));
    CHECK_CONTAINS(d.message, "whole segment");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a/{id", &d));
    CHECK_CONTAINS(d.message, "whole segment");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a/{}", &d));
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/{a}/{a}", &d));
    CHECK_CONTAINS(d.message, "repeats parameter \"a\"");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "GET", "/a?b", &d));
    CHECK_CONTAINS(d.message, "offset 2");
    CHECK_RC(TANDEM_EINVAL, http_route_compile(&r, "get", "/a", &d));
    CHECK_CONTAINS(d.message, "upper-case");
    CHECK_RC(TANDEM_EINVAL,
             http_route_compile(&r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", &d));
    CHECK_CONTAINS(d.message, "more than 16 segments");
    CHECK_RC(TANDEM_EINVAL,
             http_route_compile(&r, "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", &d));
    CHECK_CONTAINS(d.message, "more than 8 parameters");
}

static void test_route_match(void)
{
    http_route r;
    CHECK_OK(http_route_compile(&r, "POST", "/actuator/exporters/{id}/disable", NULL));
    http_span spans[HTTP_PARAMS_MAX];
    const char *p = "/actuator/exporters/region%201/disable";
    CHECK(http_route_match(&r, p, strlen(p), spans));
    CHECK_EQ_U64(20, spans[0].off);
    CHECK_EQ_U64(10, spans[0].len);
    const char *no[] = {"/actuator/exporters//disable", "/actuator/exporters/x/disable/",
                        "/actuator/exporters/x",        "/actuator/exporters/x/disable/more",
                        "/actuator/exporter/x/disable", "",
                        "actuator/exporters/x/disable"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        CHECK_MSG(!http_route_match(&r, no[i], strlen(no[i]), spans), "%s matched", no[i]);
    }
    CHECK(http_method_allowed("GET", "HEAD"));
    CHECK(http_method_allowed("POST", "POST"));
    CHECK(!http_method_allowed("POST", "HEAD"));
    CHECK(!http_method_allowed("GET", "POST"));
}

static void test_percent_decode(void)
{
    char out[64];
    size_t n = 0;
    CHECK_OK(http_percent_decode("a%20b+c%2Fd", 11, out, false, &n));
    CHECK_STREQ("a b+c/d", out);
    CHECK_EQ_U64(7, n);
    CHECK_OK(http_percent_decode("a%20b+c", 7, out, true, &n));
    CHECK_STREQ("a b c", out);
    CHECK_OK(http_percent_decode("", 0, out, true, &n));
    CHECK_EQ_U64(0, n);
    const char *bad[] = {"%", "%2", "a%zz", "%00", "%g1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_RC(TANDEM_EINVAL, http_percent_decode(bad[i], strlen(bad[i]), out, true, &n));
    }
}

static void test_query_parse(void)
{
    char buf[128];
    http_kv pairs[4];
    size_t count = 0;
    const char *q = "a=1&&b=x%20y+z&flag&=empty&c=";
    /* five pairs do not fit in four */
    snprintf(buf, sizeof(buf), "%s", q);
    CHECK_RC(TANDEM_ERANGE, http_query_parse(buf, strlen(q), pairs, 4, &count));

    http_kv more[8];
    snprintf(buf, sizeof(buf), "%s", q);
    CHECK_OK(http_query_parse(buf, strlen(q), more, 8, &count));
    CHECK_EQ_U64(5, count);
    CHECK_STREQ("a", more[0].name);
    CHECK_STREQ("1", more[0].value);
    CHECK_STREQ("b", more[1].name);
    CHECK_STREQ("x y z", more[1].value);
    CHECK_STREQ("flag", more[2].name);
    CHECK_STREQ("", more[2].value);
    CHECK_STREQ("", more[3].name);
    CHECK_STREQ("empty", more[3].value);
    CHECK_STREQ("c", more[4].name);
    CHECK_STREQ("", more[4].value);

    snprintf(buf, sizeof(buf), "a=%%zz");
    CHECK_RC(TANDEM_EINVAL, http_query_parse(buf, strlen(buf), more, 8, &count));
    snprintf(buf, sizeof(buf), "%%4=1");
    CHECK_RC(TANDEM_EINVAL, http_query_parse(buf, strlen(buf), more, 8, &count));
    CHECK_OK(http_query_parse(buf, 0, more, 8, &count));
    CHECK_EQ_U64(0, count);
}

static void test_problem_json(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_http_problem_json(&b, 404, "NOT_FOUND", "no \"x\"\n", "/a\\b"));
    CHECK_OK(tandem_buf_append(&b, "", 1));
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"NOT_FOUND\",\"status\":404,"
                "\"detail\":\"no \\\"x\\\"\\u000a\",\"instance\":\"/a\\\\b\"}",
                (const char *)b.data);
    tandem_buf_reset(&b);
    CHECK_OK(tandem_http_problem_json(&b, 503, "RESOURCE_EXHAUSTED", NULL, NULL));
    CHECK_OK(tandem_buf_append(&b, "", 1));
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"RESOURCE_EXHAUSTED\",\"status\":503}",
                (const char *)b.data);
    /* Valid UTF-8 passes, invalid bytes become U+FFFD. */
    tandem_buf_reset(&b);
    CHECK_OK(tandem_http_json_string(&b, "\xc3\xa9-\xff-\xe2\x82-\xed\xa0\x80-\xf0\x9f\x98\x80"));
    CHECK_OK(tandem_buf_append(&b, "", 1));
    CHECK_STREQ("\"\xc3\xa9-\\ufffd-\\ufffd\\ufffd-\\ufffd\\ufffd\\ufffd-\xf0\x9f\x98\x80\"",
                (const char *)b.data);
    tandem_buf_free(&b);
}

/* ---- the server over loopback ---- */

typedef struct fixture {
    uv_loop_t loop;
    tandem_http_server *server;
    tandem_metrics *metrics;
    uint16_t port;
    bool closed;
} fixture;

static void fixture_create(fixture *f, tandem_http_config *cfg)
{
    memset(f, 0, sizeof(*f));
    CHECK(uv_loop_init(&f->loop) == 0);
    CHECK_OK(tandem_metrics_create(64, &f->metrics));
    tandem_http_config defaults = {0};
    if (cfg == NULL) {
        cfg = &defaults;
    }
    cfg->name = cfg->name != NULL ? cfg->name : "test";
    cfg->host = cfg->host != NULL ? cfg->host : "127.0.0.1";
    cfg->metrics = f->metrics;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_http_server_create(&f->loop, cfg, &f->server, &d);
    CHECK_MSG(rc == TANDEM_OK, "create: %s", tandem_diag_text(&d));
}

static void fixture_start(fixture *f)
{
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_http_server_start(f->server, &d);
    CHECK_MSG(rc == TANDEM_OK, "start: %s", tandem_diag_text(&d));
    f->port = tandem_http_server_port(f->server);
    CHECK(f->port != 0);
}

static void on_closed(void *data)
{
    *(bool *)data = true;
}

static void fixture_close(fixture *f)
{
    tandem_http_server_close(f->server, on_closed, &f->closed);
    CHECK(!f->closed); /* memory is released from a loop callback */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK(f->closed);
    CHECK(uv_loop_close(&f->loop) == 0);
    tandem_metrics_destroy(f->metrics);
}

/* What the echo handler saw, for checks in the test thread (which runs the loop). */
static struct {
    int calls;
    int missing_rc;
    int query_rc;
    char x[64];
    char flag[64];
} seen;

static void append_field(tandem_buf *b, const char *key, const char *value, bool first)
{
    CHECK_OK(tandem_buf_append(b, first ? "\"" : ",\"", first ? 1 : 2));
    CHECK_OK(tandem_buf_append(b, key, strlen(key)));
    CHECK_OK(tandem_buf_append(b, "\":", 2));
    if (value == NULL) {
        CHECK_OK(tandem_buf_append(b, "null", 4));
    } else {
        CHECK_OK(tandem_http_json_string(b, value));
    }
}

/* Answers a JSON echo of what the request carried. */
static void on_echo(tandem_http_request *req, void *ctx)
{
    CHECK(ctx == &seen);
    seen.calls++;
    const char *v = NULL;
    seen.missing_rc = tandem_http_query(req, "missing", &v);
    seen.query_rc = tandem_http_query(req, "x", &v);
    snprintf(seen.x, sizeof(seen.x), "%s", seen.query_rc == TANDEM_OK ? v : "-");
    int rc = tandem_http_query(req, "flag", &v);
    snprintf(seen.flag, sizeof(seen.flag), "%s", rc == TANDEM_OK ? v : "-");
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    CHECK(body[len] == '\0');
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_buf_append(&b, "{", 1));
    append_field(&b, "method", tandem_http_method(req), true);
    append_field(&b, "path", tandem_http_path(req), false);
    append_field(&b, "query", tandem_http_query_string(req), false);
    append_field(&b, "id", tandem_http_param(req, "id"), false);
    append_field(&b, "nope", tandem_http_param(req, "nope"), false);
    append_field(&b, "h", tandem_http_header_value(req, "x-test"), false);
    append_field(&b, "body", (const char *)body, false);
    CHECK_OK(tandem_buf_append(&b, "}", 1));
    tandem_http_header extra = {"X-Reply", "yes"};
    CHECK_OK(tandem_http_respond_headers(req, 200, "application/json", b.data, b.len, &extra, 1));
    tandem_buf_free(&b);
}

static void test_routing_params_query_headers_body(void)
{
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "POST", "/actuator/exporters/{id}/disable", on_echo, &seen,
                               NULL));
    CHECK_OK(tandem_http_route(f.server, "GET", "/things/{id}", on_echo, &seen, NULL));
    fixture_start(&f);

    http_call c[3];
    http_call_start(&c[0], f.port,
                    "POST /actuator/exporters/region%%201/disable?x=a%%2Bb+c&flag HTTP/1.1\r\n"
                    "Host: t\r\nX-Test: hello\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                    "hi\"yo");
    http_run_until_done(&f.loop, c, 1);
    CHECK_EQ_U64(200, c[0].status);
    CHECK_STREQ("{\"method\":\"POST\",\"path\":\"/actuator/exporters/region%201/disable\","
                "\"query\":\"x=a%2Bb+c&flag\",\"id\":\"region 1\",\"nope\":null,"
                "\"h\":\"hello\",\"body\":\"hi\\\"yo\"}",
                http_body(&c[0]));
    char h[128];
    CHECK_STREQ("yes", http_reply_header(&c[0], "X-Reply", h, sizeof(h)));
    CHECK_STREQ("application/json", http_reply_header(&c[0], "Content-Type", h, sizeof(h)));
    CHECK_RC(TANDEM_ENOENT, seen.missing_rc);
    CHECK_STREQ("a+b c", seen.x);
    CHECK_STREQ("", seen.flag);

    /* A malformed query string is an error of the lookup, not of the request. */
    http_call_start(&c[1], f.port,
                    "GET /things/7?x=%%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_done(&f.loop, &c[1], 1);
    CHECK_EQ_U64(200, c[1].status);
    CHECK_RC(TANDEM_EINVAL, seen.query_rc);
    CHECK_CONTAINS(http_body(&c[1]), "\"id\":\"7\",\"nope\":null,\"h\":null,\"body\":\"\"");

    /* HEAD uses the GET route and gets no body. */
    http_call_start(&c[2], f.port,
                    "HEAD /things/8 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_done(&f.loop, &c[2], 1);
    CHECK_EQ_U64(200, c[2].status);
    CHECK_EQ_U64(0, c[2].body_len);
    CHECK_EQ_U64(3, seen.calls);
    for (int i = 0; i < 3; i++) {
        http_call_free(&c[i]);
    }
    fixture_close(&f);
}

static void on_never(tandem_http_request *req, void *ctx)
{
    (void)ctx;
    tandem_http_respond(req, 500, NULL, NULL, 0);
    CHECK_MSG(0, "this handler must not be reached");
}

static void test_not_found_and_method_not_allowed(void)
{
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "GET", "/things/{id}", on_never, NULL, NULL));
    CHECK_OK(tandem_http_route(f.server, "POST", "/things/{id}", on_never, NULL, NULL));
    CHECK_OK(tandem_http_route(f.server, "PUT", "/things/{id}/x", on_never, NULL, NULL));
    fixture_start(&f);

    http_call c[3];
    http_call_start(&c[0], f.port,
                    "GET /nope?a=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_call_start(&c[1], f.port,
                    "DELETE /things/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_call_start(&c[2], f.port,
                    "GET /things/bad%%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    /* These answers come from the HTTP thread: no loop turn is needed. */
    for (int i = 0; i < 3; i++) {
        http_call_join(&c[i]);
    }
    char h[128];
    CHECK_EQ_U64(404, c[0].status);
    CHECK_STREQ("application/problem+json", http_reply_header(&c[0], "Content-Type", h, sizeof(h)));
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"NOT_FOUND\",\"status\":404,"
                "\"detail\":\"no resource at /nope\",\"instance\":\"/nope\"}",
                http_body(&c[0]));

    CHECK_EQ_U64(405, c[1].status);
    CHECK_STREQ("GET, POST", http_reply_header(&c[1], "Allow", h, sizeof(h)));
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"METHOD_NOT_ALLOWED\",\"status\":405,"
                "\"detail\":\"DELETE is not allowed here; allowed: GET, POST\","
                "\"instance\":\"/things/1\"}",
                http_body(&c[1]));

    CHECK_EQ_U64(400, c[2].status);
    CHECK_CONTAINS(http_body(&c[2]), "\"title\":\"INVALID_ARGUMENT\"");
    CHECK_CONTAINS(http_body(&c[2]),
                   "\"detail\":\"path parameter \\\"id\\\" is not valid percent-encoding\"");
    for (int i = 0; i < 3; i++) {
        http_call_free(&c[i]);
    }
    fixture_close(&f);
}

static void test_body_limit(void)
{
    tandem_http_config cfg = {0};
    cfg.body_size_bytes_max = 16;
    fixture f;
    fixture_create(&f, &cfg);
    CHECK_OK(tandem_http_route(f.server, "POST", "/echo", on_echo, &seen, NULL));
    fixture_start(&f);

    http_call c[3];
    /* announced too big: refused before the body is read */
    http_call_start(&c[0], f.port,
                    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n"
                    "Connection: close\r\n\r\n01234567890123456");
    /* chunked, too big once read */
    http_call_start(&c[1], f.port,
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n"
                    "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    /* exactly the limit */
    http_call_start(&c[2], f.port,
                    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n"
                    "Connection: close\r\n\r\n0123456789abcdef");
    http_run_until_done(&f.loop, c, 3);
    CHECK_EQ_U64(413, c[0].status);
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"PAYLOAD_TOO_LARGE\",\"status\":413,"
                "\"detail\":\"the body of 17 bytes is over the limit of 16\","
                "\"instance\":\"/echo\"}",
                http_body(&c[0]));
    CHECK_EQ_U64(413, c[1].status);
    CHECK_CONTAINS(http_body(&c[1]), "\"detail\":\"the body is over the limit of 16 bytes\"");
    CHECK_EQ_U64(200, c[2].status);
    CHECK_CONTAINS(http_body(&c[2]), "\"body\":\"0123456789abcdef\"");
    CHECK_EQ_U64(1, seen.calls);
    for (int i = 0; i < 3; i++) {
        http_call_free(&c[i]);
    }
    fixture_close(&f);
}

/* ---- deferred answers ---- */

static struct {
    uv_timer_t timer;
    tandem_http_request *req;
    int cancelled;
    bool got_request;
} held;

static void on_timer(uv_timer_t *t)
{
    CHECK(t == &held.timer && held.req != NULL);
    static const char body[] = "{\"late\":true}";
    tandem_http_request *req = held.req;
    held.req = NULL;
    CHECK_OK(tandem_http_respond(req, 200, "application/json", body, sizeof(body) - 1));
    uv_close((uv_handle_t *)t, NULL);
}

static void on_defer(tandem_http_request *req, void *ctx)
{
    uv_loop_t *loop = ctx;
    held.req = req;
    CHECK(uv_timer_init(loop, &held.timer) == 0);
    CHECK(uv_timer_start(&held.timer, on_timer, 200, 0) == 0);
}

static void test_deferred_response(void)
{
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "GET", "/slow", on_defer, &f.loop, NULL));
    fixture_start(&f);
    http_call c;
    http_call_start(&c, f.port, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_done(&f.loop, &c, 1);
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("{\"late\":true}", http_body(&c));
    CHECK_MSG(c.elapsed_ms >= 195.0, "answered after %.1f ms, before the timer", c.elapsed_ms);
    http_call_free(&c);
    fixture_close(&f);
}

/* ---- the bounded queue ---- */

static void on_ok(tandem_http_request *req, void *ctx)
{
    (void)ctx;
    tandem_http_respond(req, 200, "text/plain", "ok", 2);
}

static void wait_queued(tandem_http_server *s, uint32_t queued)
{
    double deadline = http_now_ms() + 10000;
    tandem_http_stats st;
    for (;;) {
        tandem_http_server_stats(s, &st);
        if (st.queued == queued) {
            return;
        }
        CHECK_MSG(http_now_ms() < deadline, "%u requests queued, expected %u", st.queued, queued);
        usleep(1000);
    }
}

static void test_bounded_queue(void)
{
    tandem_http_config cfg = {0};
    cfg.queue_capacity = 2;
    fixture f;
    fixture_create(&f, &cfg);
    CHECK_OK(tandem_http_route(f.server, "GET", "/q", on_ok, NULL, NULL));
    fixture_start(&f);
    /* The loop does not run: the first two requests stay in the queue. */
    http_call c[3];
    http_call_start(&c[0], f.port, "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    wait_queued(f.server, 1);
    http_call_start(&c[1], f.port, "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    wait_queued(f.server, 2);
    http_call_start(&c[2], f.port, "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_call_join(&c[2]);
    CHECK_EQ_U64(503, c[2].status);
    CHECK_STREQ("{\"type\":\"about:blank\",\"title\":\"RESOURCE_EXHAUSTED\",\"status\":503,"
                "\"detail\":\"the queue of 2 requests to the broker is full\","
                "\"instance\":\"/q\"}",
                http_body(&c[2]));
    CHECK(!atomic_load(&c[0].finished) && !atomic_load(&c[1].finished));
    tandem_http_stats st;
    tandem_http_server_stats(f.server, &st);
    CHECK_EQ_U64(2, st.queued);
    CHECK_EQ_U64(2, st.pending);
    CHECK_EQ_U64(1, st.rejected_total);

    /* Once the loop drains the queue, the waiting two are answered. */
    http_run_until_done(&f.loop, c, 2);
    CHECK_EQ_U64(200, c[0].status);
    CHECK_EQ_U64(200, c[1].status);
    CHECK_STREQ("ok", http_body(&c[0]));
    tandem_buf text = TANDEM_BUF_INIT;
    CHECK_OK(tandem_metrics_render(f.metrics, &text));
    CHECK_OK(tandem_buf_append(&text, "", 1));
    CHECK_CONTAINS((const char *)text.data,
                   "tandem_http_queue_rejections_total{server=\"test\"} 1\n");
    CHECK_CONTAINS((const char *)text.data,
                   "tandem_http_responses_total{server=\"test\",class=\"5xx\"} 1\n");
    CHECK_CONTAINS((const char *)text.data,
                   "tandem_http_responses_total{server=\"test\",class=\"2xx\"} 2\n");
    CHECK_CONTAINS((const char *)text.data,
                   "tandem_http_request_duration_seconds_count{server=\"test\"} 3\n");
    tandem_buf_free(&text);
    for (int i = 0; i < 3; i++) {
        http_call_free(&c[i]);
    }
    fixture_close(&f);
}

/* ---- shutdown ---- */

static void on_cancel(tandem_http_request *req, void *data)
{
    CHECK(data == &held);
    CHECK(req == held.req);
    held.req = NULL;
    held.cancelled++;
}

static void on_hold(tandem_http_request *req, void *ctx)
{
    (void)ctx;
    held.req = req;
    held.got_request = true;
    tandem_http_request_set_cancel(req, on_cancel, &held);
}

static void test_shutdown_with_pending_requests(void)
{
    tandem_http_config cfg = {0};
    cfg.queue_capacity = 4;
    fixture f;
    fixture_create(&f, &cfg);
    CHECK_OK(tandem_http_route(f.server, "GET", "/hold", on_hold, NULL, NULL));
    CHECK_OK(tandem_http_route(f.server, "POST", "/hold", on_hold, NULL, NULL));
    fixture_start(&f);
    http_call c[4];
    /* one held by a handler ... */
    http_call_start(&c[0], f.port, "GET /hold HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_flag(&f.loop, &held.got_request);
    /* ... and two waiting in the queue, one with a body */
    http_call_start(&c[1], f.port, "GET /hold HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_call_start(&c[2], f.port,
                    "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                    "Connection: close\r\n\r\nabc");
    wait_queued(f.server, 2);
    /* ... and one still sending its body */
    static const char part[] = "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab";
    http_call_start_raw(&c[3], f.port, part, sizeof(part) - 1, false);
    tandem_http_stats st;
    tandem_http_server_stats(f.server, &st);
    CHECK_EQ_U64(1, st.held);
    CHECK_EQ_U64(3, st.pending);

    fixture_close(&f);
    CHECK_EQ_U64(1, held.cancelled);
    CHECK(held.req == NULL);
    for (int i = 0; i < 3; i++) {
        http_call_join(&c[i]);
        CHECK_EQ_U64(503, c[i].status);
        CHECK_CONTAINS(http_body(&c[i]), "\"title\":\"UNAVAILABLE\"");
        CHECK_CONTAINS(http_body(&c[i]), "\"detail\":\"the server is shutting down\"");
        http_call_free(&c[i]);
    }
    /* Dropped when its headers came before the close, refused 503 when after. */
    http_call_join(&c[3]);
    CHECK_MSG(c[3].status == -1 || c[3].status == 503, "partial request answered %d", c[3].status);
    http_call_free(&c[3]);
}

static bool close_done;

static void on_close_from_handler(tandem_http_request *req, void *ctx)
{
    tandem_http_server *s = *(tandem_http_server **)ctx;
    (void)req; /* answered by the close */
    tandem_http_server_close(s, on_closed, &close_done);
}

static void test_close_from_handler_and_before_start(void)
{
    /* never started */
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    tandem_http_server *s = NULL;
    tandem_http_config cfg = {.name = "idle", .host = "::1"};
    CHECK_OK(tandem_http_server_create(&loop, &cfg, &s, NULL));
    CHECK_EQ_U64(0, tandem_http_server_port(s));
    bool done = false;
    tandem_http_server_close(s, on_closed, &done);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(done);

    /* closed by its own handler */
    CHECK_OK(
        tandem_http_server_create(&loop, &(tandem_http_config){.host = "localhost"}, &s, NULL));
    CHECK_OK(tandem_http_route(s, "POST", "/shutdown", on_close_from_handler, &s, NULL));
    CHECK_OK(tandem_http_server_start(s, NULL));
    http_call c;
    http_call_start(&c, tandem_http_server_port(s),
                    "POST /shutdown HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n");
    http_run_until_done(&loop, &c, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(close_done);
    CHECK_EQ_U64(503, c.status);
    http_call_free(&c);
    CHECK(uv_loop_close(&loop) == 0);
}

/* ---- robustness ---- */

static void test_bad_clients(void)
{
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "POST", "/echo", on_echo, &seen, NULL));
    CHECK_OK(tandem_http_route(f.server, "GET", "/ok", on_ok, NULL, NULL));
    fixture_start(&f);

    http_call c[5];
    /* headers larger than libmicrohttpd's connection memory (32 KiB): it
     * answers by itself, and the request made for the target must not leak */
    static char big[HTTP_CALL_REQUEST_SIZE_MAX];
    int n = snprintf(big, sizeof(big), "GET /ok HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(big + n, 'a', 40000);
    n += 40000;
    n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\nConnection: close\r\n\r\n");
    http_call_start_raw(&c[0], f.port, big, (size_t)n, false);
    /* a client that leaves in the middle of its body */
    static const char part[] = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc";
    http_call_start_raw(&c[1], f.port, part, sizeof(part) - 1, true);
    /* garbage */
    static const char junk[] = "\x01\x02 nonsense\r\n\r\n";
    http_call_start_raw(&c[2], f.port, junk, sizeof(junk) - 1, false);
    http_run_until_done(&f.loop, c, 3);
    CHECK_MSG(c[0].status == 431 || c[0].status == 413, "big headers answered %d", c[0].status);
    CHECK_EQ_I64(-1, c[1].status);
    CHECK_EQ_U64(400, c[2].status);

    /* two pipelined requests on one connection, then the server still works */
    http_call_start(&c[3], f.port,
                    "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"
                    "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_done(&f.loop, &c[3], 1);
    CHECK_EQ_U64(200, c[3].status);
    const char *second = strstr(c[3].raw + 1, "HTTP/1.1 200");
    CHECK(second != NULL);
    CHECK_EQ_U64(0, seen.calls);
    for (int i = 0; i < 4; i++) {
        http_call_free(&c[i]);
    }
    fixture_close(&f);
}

static void test_uri_too_long(void)
{
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "GET", "/ok", on_ok, NULL, NULL));
    fixture_start(&f);
    /* A target of 8194 bytes is over the 8192 limit. */
    static char req[HTTP_CALL_REQUEST_SIZE_MAX];
    int n = snprintf(req, sizeof(req), "GET /ok?");
    size_t q = 8192 - 3;
    memset(req + n, 'q', q);
    n += (int)q;
    int tail = snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\n\r\n");
    CHECK(tail > 0 && (size_t)(n + tail) <= sizeof(req));
    n += tail;
    http_call c;
    http_call_start_raw(&c, f.port, req, (size_t)n, false);
    http_run_until_done(&f.loop, &c, 1);
    CHECK_EQ_U64(414, c.status);
    CHECK_CONTAINS(http_body(&c), "\"title\":\"URI_TOO_LONG\"");
    CHECK_CONTAINS(http_body(&c), "\"detail\":\"the request target is over 8192 bytes\"");
    http_call_free(&c);
    fixture_close(&f);
}

/* ---- configuration and registration errors ---- */

static void test_config_and_route_errors(void)
{
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    tandem_http_server *s = NULL;
    tandem_diag d;
    tandem_http_config cfg = {.name = "mgmt", .host = "example.invalid"};
    CHECK_RC(TANDEM_ECONFIG, tandem_http_server_create(&loop, &cfg, &s, &d));
    CHECK_CONTAINS(d.message, "\"example.invalid\" of the mgmt server is not a numeric");
    cfg.host = NULL;
    CHECK_RC(TANDEM_ECONFIG, tandem_http_server_create(&loop, &cfg, &s, &d));
    CHECK_CONTAINS(d.message, "listen host of the mgmt server is missing");
    cfg.host = "127.0.0.1";
    cfg.queue_capacity = 1000000;
    CHECK_RC(TANDEM_ECONFIG, tandem_http_server_create(&loop, &cfg, &s, &d));
    CHECK_CONTAINS(d.message, "queue capacity 1000000");
    CHECK(s == NULL);

    cfg.queue_capacity = 0;
    CHECK_OK(tandem_http_server_create(&loop, &cfg, &s, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_http_route(s, "GET", "/a/{", on_ok, NULL, &d));
    CHECK_OK(tandem_http_route(s, "GET", "/a/{id}", on_ok, NULL, &d));
    CHECK_RC(TANDEM_EEXIST, tandem_http_route(s, "GET", "/a/{id}", on_ok, NULL, &d));
    CHECK_CONTAINS(d.message, "GET /a/{id} is already registered");
    char pattern[32];
    for (int i = 1; i < TANDEM_HTTP_ROUTES_MAX; i++) {
        snprintf(pattern, sizeof(pattern), "/r%d", i);
        CHECK_OK(tandem_http_route(s, "GET", pattern, on_ok, NULL, &d));
    }
    CHECK_RC(TANDEM_EFULL, tandem_http_route(s, "GET", "/one-more", on_ok, NULL, &d));
    CHECK_CONTAINS(d.message, "has 64 routes already");
    CHECK_OK(tandem_http_server_start(s, &d));
    uint16_t port = tandem_http_server_port(s);

    /* the same port twice */
    tandem_http_server *s2 = NULL;
    cfg.port = port;
    CHECK_OK(tandem_http_server_create(&loop, &cfg, &s2, &d));
    CHECK_RC(TANDEM_ESYS, tandem_http_server_start(s2, &d));
    char want[128];
    snprintf(want, sizeof(want),
             "listen on 127.0.0.1:%u for the mgmt server: Address already in use", port);
    CHECK_CONTAINS(d.message, want);
    CHECK_EQ_U64(0, tandem_http_server_port(s2));

    CHECK_RC(TANDEM_ESTATE, tandem_http_route(s, "GET", "/late", on_ok, NULL, &d));
    CHECK_CONTAINS(d.message, "after start");
    tandem_http_server_close(s2, NULL, NULL);
    tandem_http_server_close(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}

/* ---- logging ---- */

static void test_request_log_line(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/log.txt", test_tmpdir());
    FILE *sink = fopen(path, "w+");
    CHECK(sink != NULL);
    tandem_log_set_sink(sink);
    tandem_log_set_level(TANDEM_LOG_DEBUG);
    fixture f;
    fixture_create(&f, NULL);
    CHECK_OK(tandem_http_route(f.server, "GET", "/ok", on_ok, NULL, NULL));
    fixture_start(&f);
    http_call c[2];
    http_call_start(&c[0], f.port, "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_call_start(&c[1], f.port, "GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    http_run_until_done(&f.loop, c, 2);
    fixture_close(&f);
    tandem_log_set_sink(NULL);
    fflush(sink);
    rewind(sink);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, sink);
    text[n] = '\0';
    fclose(sink);
    CHECK_CONTAINS(text, "msg=\"http request\" server=test method=GET path=/ok status=200 "
                         "duration_ms=");
    CHECK_CONTAINS(text, "method=GET path=/missing status=404 duration_ms=");
    CHECK_CONTAINS(text, "msg=\"http server listening\" server=test host=127.0.0.1 port=");
    for (int i = 0; i < 2; i++) {
        http_call_free(&c[i]);
    }
}

static const tandem_test cases[] = {
    {"route_compile", test_route_compile},
    {"route_match", test_route_match},
    {"percent_decode", test_percent_decode},
    {"query_parse", test_query_parse},
    {"problem_json", test_problem_json},
    {"routing_params_query_headers_body", test_routing_params_query_headers_body},
    {"not_found_and_method_not_allowed", test_not_found_and_method_not_allowed},
    {"body_limit", test_body_limit},
    {"deferred_response", test_deferred_response},
    {"bounded_queue", test_bounded_queue},
    {"shutdown_with_pending_requests", test_shutdown_with_pending_requests},
    {"close_from_handler_and_before_start", test_close_from_handler_and_before_start},
    {"bad_clients", test_bad_clients},
    {"uri_too_long", test_uri_too_long},
    {"config_and_route_errors", test_config_and_route_errors},
    {"request_log_line", test_request_log_line},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
