/*
 * The threaded half of the HTTP server: libmicrohttpd on its own thread, the
 * bounded queue to the loop, answers and shutdown.
 *
 * A request's life, and which thread owns it at each step:
 *
 *   REQ_NEW      HTTP thread: created by the URI callback, headers not seen yet
 *   REQ_READING  HTTP thread: routed, body arriving
 *   REQ_QUEUED   in the queue, connection suspended (the queue lock guards it)
 *   REQ_HELD     loop thread: given to the handler, on the held list
 *   REQ_CANCELLING loop thread: inside its cancel callback while closing
 *   REQ_ANSWERED answer built on the loop, connection resumed; the HTTP
 *                thread queues it when it picks the connection up again
 *   REQ_SENT     HTTP thread: response handed to libmicrohttpd
 *
 * The request is freed by libmicrohttpd's completion callback, which comes
 * only when the connection is not suspended — so never while the loop owns
 * the request. That is why close answers every queued and held request
 * before it stops the daemon: libmicrohttpd forbids stopping with suspended
 * connections, and it is what lets every request be freed exactly once.
 */
#include "mgmt/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/log.h"

#define QUEUE_CAPACITY_DEFAULT     64
#define QUEUE_CAPACITY_MAX         65536
#define CONNECTIONS_DEFAULT        256
#define CONNECTION_TIMEOUT_DEFAULT 30
#define SHUTDOWN_GRACE_DEFAULT_MS  1000
#define LISTEN_BACKLOG             128
#define NAME_SIZE_MAX              32
#define HOST_SIZE_MAX              64
#define STATUS_CLASSES             5 /* 1xx .. 5xx */

enum req_state {
    REQ_NEW,
    REQ_READING,
    REQ_QUEUED,
    REQ_HELD,
    REQ_CANCELLING,
    REQ_ANSWERED,
    REQ_SENT,
};

struct tandem_http_request {
    tandem_http_server *server;
    struct MHD_Connection *conn;
    /* Written by one thread and read by the other across the queue and the
     * resume; acquire/release makes the fields written before visible. */
    _Atomic int state;
    uint64_t start_ns;
    const http_route *route;
    char method[HTTP_METHOD_SIZE_MAX];
    bool uri_too_long;
    char *path; /* in tail, NUL-terminated, still percent-encoded */
    size_t path_len;
    char *query; /* in tail, without '?', "" when none */
    size_t query_len;
    char *param_storage; /* in tail, path_len + 1 bytes for decoded values */
    const char *params[HTTP_PARAMS_MAX];
    tandem_buf body;
    size_t body_len; /* body.len minus the terminating NUL */
    bool body_too_big;
    bool body_oom;
    void *headers_block; /* one allocation: http_kv array, then the strings */
    http_kv *headers;
    size_t header_count;
    bool query_parsed;
    int query_rc;
    void *query_block; /* one allocation: http_kv array, then the decoded query */
    http_kv *query_pairs;
    size_t query_count;
    unsigned status;
    struct MHD_Response *response;
    bool counted_pending;
    tandem_http_request *held_prev; /* loop thread */
    tandem_http_request *held_next;
    tandem_http_request *queue_next; /* queue lock */
    tandem_http_cancel_fn cancel_fn;
    void *cancel_data;
    char tail[];
};

struct tandem_http_server {
    uv_loop_t *loop;
    uv_async_t wake; /* the HTTP thread's doorbell to the loop */
    struct MHD_Daemon *daemon;
    char name[NAME_SIZE_MAX];
    char host[HOST_SIZE_MAX];
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint16_t port;
    uint32_t queue_capacity;
    size_t body_size_bytes_max;
    uint32_t connections_max;
    uint32_t connection_timeout_s;
    uint32_t shutdown_grace_ms;
    tandem_clock *clock;
    bool closing; /* loop thread */
    http_route routes[TANDEM_HTTP_ROUTES_MAX];
    uint32_t route_count;

    pthread_mutex_t lock;   /* guards the queue, pending and rejected_total */
    pthread_cond_t settled; /* signalled when pending drops to 0 */
    tandem_http_request *queue_head;
    tandem_http_request *queue_tail;
    uint32_t queue_depth;
    uint32_t pending;
    uint64_t rejected_total;
    atomic_bool stopping; /* read by the HTTP thread without the lock */

    tandem_http_request *held_head; /* loop thread */
    _Atomic uint32_t held_count;

    tandem_counter *responses[STATUS_CLASSES];
    tandem_histogram *duration;
    tandem_counter *rejections;

    tandem_http_close_fn close_cb;
    void *close_data;
};

static int load_state(const tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL);
    int state = atomic_load_explicit(&req->state, memory_order_acquire);
    TANDEM_ASSERT(state >= REQ_NEW && state <= REQ_SENT);
    return state;
}

static void store_state(tandem_http_request *req, int state)
{
    TANDEM_ASSERT(req != NULL);
    TANDEM_ASSERT(state >= REQ_NEW && state <= REQ_SENT);
    atomic_store_explicit(&req->state, state, memory_order_release);
}

/* ---- configuration ---- */

/* Accepts a numeric IPv4 or IPv6 address (brackets allowed) or "localhost";
 * names are not resolved, so start never waits for DNS. */
static int parse_host(tandem_http_server *s, const char *host, uint16_t port, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL);
    if (host == NULL || host[0] == '\0' || strlen(host) >= HOST_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_ECONFIG,
                               "listen host of the %s server is missing or too long", s->name);
    }
    snprintf(s->host, sizeof(s->host), "%s", host);
    char bare[HOST_SIZE_MAX];
    size_t len = strlen(host);
    if (host[0] == '[' && host[len - 1] == ']') {
        snprintf(bare, sizeof(bare), "%.*s", (int)(len - 2), host + 1);
    } else {
        snprintf(bare, sizeof(bare), "%s", strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
    }
    memset(&s->addr, 0, sizeof(s->addr));
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&s->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&s->addr;
    if (inet_pton(AF_INET, bare, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        s->addr_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, bare, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        s->addr_len = sizeof(*v6);
    } else {
        return tandem_diag_set(diag, TANDEM_ECONFIG,
                               "listen host \"%s\" of the %s server is not a numeric IPv4/IPv6 "
                               "address or \"localhost\"",
                               host, s->name);
    }
    TANDEM_ASSERT(s->addr_len > 0);
    return TANDEM_OK;
}

static int register_metrics(tandem_http_server *s, tandem_metrics *m, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && m != NULL);
    static const char *const classes[STATUS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    static const double bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30};
    tandem_metric_label labels[2] = {{"server", s->name}, {"class", NULL}};
    int rc = TANDEM_OK;
    for (int i = 0; rc == TANDEM_OK && i < STATUS_CLASSES; i++) {
        labels[1].value = classes[i];
        rc = tandem_metrics_counter(m, "tandem_http_responses_total",
                                    "HTTP responses sent, by status class.", labels, 2,
                                    &s->responses[i], diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_metrics_histogram(
            m, "tandem_http_request_duration_seconds",
            "Time from the request line to the answer, including time held by a handler.", labels,
            1, bounds, sizeof(bounds) / sizeof(bounds[0]), &s->duration, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_metrics_counter(
            m, "tandem_http_queue_rejections_total",
            "Requests answered 503 RESOURCE_EXHAUSTED because the queue to the loop was full.",
            labels, 1, &s->rejections, diag);
    }
    TANDEM_ASSERT(rc != TANDEM_OK || (s->duration != NULL && s->rejections != NULL));
    return rc;
}

static void on_wake(uv_async_t *handle);

int tandem_http_server_create(uv_loop_t *loop, const tandem_http_config *cfg,
                              tandem_http_server **out, tandem_diag *diag)
{
    TANDEM_ASSERT(loop != NULL && cfg != NULL);
    TANDEM_ASSERT(out != NULL);
    int rc = TANDEM_ENOMEM;
    tandem_http_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory creating an HTTP server");
        goto fail;
    }
    s->loop = loop;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name != NULL ? cfg->name : "http");
    s->queue_capacity = cfg->queue_capacity != 0 ? cfg->queue_capacity : QUEUE_CAPACITY_DEFAULT;
    s->body_size_bytes_max = cfg->body_size_bytes_max != 0 ? cfg->body_size_bytes_max
                                                           : TANDEM_HTTP_BODY_SIZE_BYTES_DEFAULT;
    s->connections_max = cfg->connections_max != 0 ? cfg->connections_max : CONNECTIONS_DEFAULT;
    s->connection_timeout_s =
        cfg->connection_timeout_s != 0 ? cfg->connection_timeout_s : CONNECTION_TIMEOUT_DEFAULT;
    s->shutdown_grace_ms =
        cfg->shutdown_grace_ms != 0 ? cfg->shutdown_grace_ms : SHUTDOWN_GRACE_DEFAULT_MS;
    s->clock = cfg->clock != NULL ? cfg->clock : tandem_clock_real();
    atomic_init(&s->stopping, false);
    atomic_init(&s->held_count, 0);
    if (s->queue_capacity > QUEUE_CAPACITY_MAX) {
        rc = tandem_diag_set(diag, TANDEM_ECONFIG, "queue capacity %u of the %s server is over %d",
                             s->queue_capacity, s->name, QUEUE_CAPACITY_MAX);
        goto fail_server;
    }
    rc = parse_host(s, cfg->host, cfg->port, diag);
    if (rc != TANDEM_OK) {
        goto fail_server;
    }
    if (cfg->metrics != NULL) {
        rc = register_metrics(s, cfg->metrics, diag);
        if (rc != TANDEM_OK) {
            goto fail_server;
        }
    }
    rc = TANDEM_ESYS;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        tandem_diag_set(diag, rc, "pthread_mutex_init failed");
        goto fail_server;
    }
    pthread_condattr_t attr;
    bool cond_ok = pthread_condattr_init(&attr) == 0;
    cond_ok = cond_ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&s->settled, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!cond_ok) {
        tandem_diag_set(diag, rc, "pthread_cond_init failed");
        goto fail_lock;
    }
    int uv_rc = uv_async_init(loop, &s->wake, on_wake);
    if (uv_rc != 0) {
        tandem_diag_set(diag, rc, "uv_async_init: %s", uv_strerror(uv_rc));
        goto fail_cond;
    }
    s->wake.data = s;
    *out = s;
    return TANDEM_OK;

fail_cond:
    pthread_cond_destroy(&s->settled);
fail_lock:
    pthread_mutex_destroy(&s->lock);
fail_server:
    /* Metrics registered above stay in the registry (it cannot unregister);
     * they only read zero. */
    free(s);
fail:
    return rc;
}

int tandem_http_route(tandem_http_server *s, const char *method, const char *pattern,
                      tandem_http_handler_fn fn, void *ctx, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && fn != NULL);
    TANDEM_ASSERT(method != NULL && pattern != NULL);
    if (s->daemon != NULL || s->closing) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "route %s %s added to the %s server after start", method, pattern,
                               s->name);
    }
    if (s->route_count == TANDEM_HTTP_ROUTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EFULL, "the %s server has %d routes already", s->name,
                               TANDEM_HTTP_ROUTES_MAX);
    }
    http_route *r = &s->routes[s->route_count];
    int rc = http_route_compile(r, method, pattern, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < s->route_count; i++) {
        if (strcmp(s->routes[i].method, r->method) == 0 &&
            strcmp(s->routes[i].pattern, r->pattern) == 0) {
            return tandem_diag_set(diag, TANDEM_EEXIST, "route %s %s is already registered", method,
                                   pattern);
        }
    }
    r->fn = fn;
    r->ctx = ctx;
    s->route_count++;
    return TANDEM_OK;
}

/* ---- answers, from either thread ---- */

static struct MHD_Response *make_response(const char *content_type, const void *body, size_t len,
                                          const tandem_http_header *headers, size_t header_count)
{
    TANDEM_ASSERT(body != NULL || len == 0);
    TANDEM_ASSERT(headers != NULL || header_count == 0);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(uintptr_t)(body != NULL ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return NULL;
    }
    bool ok = content_type == NULL ||
              MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES;
    for (size_t i = 0; ok && i < header_count; i++) {
        ok = MHD_add_response_header(resp, headers[i].name, headers[i].value) == MHD_YES;
    }
    if (!ok) {
        MHD_destroy_response(resp);
        return NULL;
    }
    return resp;
}

/* Log line and metrics of one answer; status 0 when the connection was
 * closed without one. */
static void note_answer(tandem_http_server *s, const tandem_http_request *req, unsigned status)
{
    TANDEM_ASSERT(s != NULL && req != NULL);
    TANDEM_ASSERT(status == 0 || (status >= 100 && status <= 599));
    uint64_t now_ns = tandem_clock_mono_ns(s->clock);
    uint64_t elapsed_ns = now_ns > req->start_ns ? now_ns - req->start_ns : 0;
    if (status != 0) {
        tandem_counter_inc(s->responses[status / 100 - 1]);
    }
    tandem_histogram_observe(s->duration, (double)elapsed_ns / 1e9);
    char status_text[16];
    char duration_text[32];
    snprintf(status_text, sizeof(status_text), "%u", status);
    snprintf(duration_text, sizeof(duration_text), "%.3f", (double)elapsed_ns / 1e6);
    tandem_log(TANDEM_LOG_DEBUG, "http request", "server", s->name, "method", req->method, "path",
               req->path, "status", status_text, "duration_ms", duration_text, NULL);
}

/* Answers on the HTTP thread without involving the loop. */
static enum MHD_Result answer_now(tandem_http_request *req, unsigned status, const char *title,
                                  const char *detail, const tandem_http_header *extra,
                                  size_t extra_count)
{
    TANDEM_ASSERT(req != NULL && req->conn != NULL);
    TANDEM_ASSERT(load_state(req) == REQ_NEW || load_state(req) == REQ_READING);
    tandem_buf doc = TANDEM_BUF_INIT;
    struct MHD_Response *resp = NULL;
    if (tandem_http_problem_json(&doc, status, title, detail, req->path) == TANDEM_OK) {
        resp = make_response("application/problem+json", doc.data, doc.len, extra, extra_count);
    }
    tandem_buf_free(&doc);
    note_answer(req->server, req, resp != NULL ? status : 0);
    store_state(req, REQ_SENT);
    if (resp == NULL) {
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the HTTP thread ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    tandem_http_server *s = cls;
    TANDEM_ASSERT(s != NULL && uri != NULL);
    (void)conn;
    size_t uri_len = strlen(uri);
    bool too_long = uri_len > HTTP_URI_SIZE_BYTES_MAX;
    if (too_long) {
        uri_len = 0; /* keep nothing of it; the answer is 414 */
    }
    const char *q = memchr(uri, '?', uri_len);
    size_t path_len = q != NULL ? (size_t)(q - uri) : uri_len;
    size_t query_len = q != NULL ? uri_len - path_len - 1 : 0;
    /* tail: path NUL query NUL, then room for the decoded parameters */
    tandem_http_request *req =
        calloc(1, sizeof(*req) + path_len + 1 + query_len + 1 + path_len + 1);
    if (req == NULL) {
        return NULL; /* the access handler closes the connection */
    }
    req->server = s;
    req->uri_too_long = too_long;
    req->start_ns = tandem_clock_mono_ns(s->clock);
    req->path = req->tail;
    memcpy(req->path, uri, path_len);
    req->path[path_len] = '\0';
    req->path_len = path_len;
    req->query = req->path + path_len + 1;
    if (q != NULL) {
        memcpy(req->query, q + 1, query_len);
    }
    req->query[query_len] = '\0';
    req->query_len = query_len;
    req->param_storage = req->query + query_len + 1;
    TANDEM_ASSERT(strlen(req->path) == path_len && strlen(req->query) == query_len);
    tandem_buf_init(&req->body);
    atomic_init(&req->state, REQ_NEW);
    return req;
}

static void request_free(tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL);
    TANDEM_ASSERT(req->held_prev == NULL && req->held_next == NULL);
    if (req->response != NULL) {
        MHD_destroy_response(req->response);
    }
    tandem_buf_free(&req->body);
    free(req->headers_block);
    free(req->query_block);
    free(req);
}

/* Finds the route; on a path match with no method match, fills `allow`. */
static const http_route *find_route(tandem_http_server *s, tandem_http_request *req,
                                    http_span spans[HTTP_PARAMS_MAX], char *allow, bool *path_known)
{
    TANDEM_ASSERT(s != NULL && req != NULL);
    TANDEM_ASSERT(allow != NULL && path_known != NULL);
    size_t allow_len = 0;
    allow[0] = '\0';
    *path_known = false;
    for (uint32_t i = 0; i < s->route_count; i++) {
        const http_route *r = &s->routes[i];
        if (!http_route_match(r, req->path, req->path_len, spans)) {
            continue;
        }
        *path_known = true;
        if (http_method_allowed(r->method, req->method)) {
            return r;
        }
        size_t mlen = strlen(r->method);
        if (strstr(allow, r->method) == NULL && allow_len + mlen + 3 < HTTP_ALLOW_SIZE_MAX) {
            if (allow_len > 0) {
                memcpy(allow + allow_len, ", ", 2);
                allow_len += 2;
            }
            memcpy(allow + allow_len, r->method, mlen + 1);
            allow_len += mlen;
        }
    }
    return NULL;
}

static enum MHD_Result on_headers(tandem_http_server *s, tandem_http_request *req,
                                  struct MHD_Connection *conn, const char *method)
{
    TANDEM_ASSERT(s != NULL && req != NULL);
    TANDEM_ASSERT(conn != NULL && method != NULL);
    req->conn = conn;
    if (strlen(method) < HTTP_METHOD_SIZE_MAX) {
        memcpy(req->method, method, strlen(method) + 1);
    } /* else "" : matches no route */
    if (req->uri_too_long) {
        return answer_now(req, 414, "URI_TOO_LONG", "the request target is over 8192 bytes", NULL,
                          0);
    }
    if (atomic_load(&s->stopping)) {
        return answer_now(req, 503, "UNAVAILABLE", "the server is shutting down", NULL, 0);
    }
    http_span spans[HTTP_PARAMS_MAX];
    char allow[HTTP_ALLOW_SIZE_MAX];
    bool path_known = false;
    const http_route *r = find_route(s, req, spans, allow, &path_known);
    char detail[256];
    if (r == NULL && !path_known) {
        snprintf(detail, sizeof(detail), "no resource at %.200s", req->path);
        return answer_now(req, 404, "NOT_FOUND", detail, NULL, 0);
    }
    if (r == NULL) {
        tandem_http_header h = {MHD_HTTP_HEADER_ALLOW, allow};
        snprintf(detail, sizeof(detail), "%.16s is not allowed here; allowed: %s",
                 req->method[0] != '\0' ? req->method : "this method", allow);
        return answer_now(req, 405, "METHOD_NOT_ALLOWED", detail, &h, 1);
    }
    size_t used = 0;
    for (uint32_t i = 0; i < r->param_count; i++) {
        size_t n = 0;
        char *dst = req->param_storage + used;
        if (http_percent_decode(req->path + spans[i].off, spans[i].len, dst, false, &n) !=
            TANDEM_OK) {
            snprintf(detail, sizeof(detail),
                     "path parameter \"%.32s\" is not valid percent-encoding", r->param_names[i]);
            return answer_now(req, 400, "INVALID_ARGUMENT", detail, NULL, 0);
        }
        req->params[i] = dst;
        used += n + 1;
        TANDEM_ASSERT(used <= req->path_len + 1);
    }
    req->route = r;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        /* libmicrohttpd has checked the syntax already. */
        unsigned long long announced = strtoull(cl, NULL, 10);
        if (announced > s->body_size_bytes_max) {
            snprintf(detail, sizeof(detail), "the body of %llu bytes is over the limit of %zu",
                     announced, s->body_size_bytes_max);
            return answer_now(req, 413, "PAYLOAD_TOO_LARGE", detail, NULL, 0);
        }
    }
    store_state(req, REQ_READING);
    return MHD_YES;
}

static void on_body(tandem_http_server *s, tandem_http_request *req, const char *data, size_t len)
{
    TANDEM_ASSERT(load_state(req) == REQ_READING);
    TANDEM_ASSERT(data != NULL && len > 0);
    if (req->body_too_big || req->body_oom) {
        return; /* discard the rest; the answer is decided */
    }
    if (len > s->body_size_bytes_max - req->body.len) {
        req->body_too_big = true;
        tandem_buf_free(&req->body);
        return;
    }
    if (tandem_buf_append(&req->body, data, len) != TANDEM_OK) {
        req->body_oom = true;
        tandem_buf_free(&req->body);
    }
}

typedef struct header_copy {
    size_t count;
    size_t bytes;
    size_t index;
    http_kv *kv;
    char *cursor;
} header_copy;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    header_copy *c = cls;
    TANDEM_ASSERT(c != NULL && kind == MHD_HEADER_KIND);
    TANDEM_ASSERT(key != NULL);
    c->count++;
    c->bytes += strlen(key) + 1 + (value != NULL ? strlen(value) : 0) + 1;
    return MHD_YES;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    header_copy *c = cls;
    TANDEM_ASSERT(c != NULL && kind == MHD_HEADER_KIND);
    if (c->index == c->count) {
        return MHD_NO; /* the list cannot grow between the passes; stay in bounds anyway */
    }
    const char *v = value != NULL ? value : "";
    size_t klen = strlen(key) + 1;
    size_t vlen = strlen(v) + 1;
    c->kv[c->index].name = memcpy(c->cursor, key, klen);
    c->cursor += klen;
    c->kv[c->index].value = memcpy(c->cursor, v, vlen);
    c->cursor += vlen;
    c->index++;
    TANDEM_ASSERT(c->cursor <= (char *)(c->kv + c->count) + c->bytes);
    return MHD_YES;
}

/* Copies the headers into the request, so the loop never reads
 * libmicrohttpd's connection state. */
static int copy_headers(tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL && req->conn != NULL);
    header_copy c = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &c);
    if (c.count == 0) {
        return TANDEM_OK;
    }
    req->headers_block = malloc(c.count * sizeof(http_kv) + c.bytes);
    if (req->headers_block == NULL) {
        return TANDEM_ENOMEM;
    }
    c.kv = req->headers_block;
    c.cursor = (char *)(c.kv + c.count);
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, copy_header, &c);
    req->headers = c.kv;
    req->header_count = c.index;
    TANDEM_ASSERT(c.index <= c.count);
    return TANDEM_OK;
}

static enum MHD_Result on_complete(tandem_http_server *s, tandem_http_request *req)
{
    TANDEM_ASSERT(load_state(req) == REQ_READING);
    TANDEM_ASSERT(req->route != NULL);
    char detail[128];
    if (req->body_too_big) {
        snprintf(detail, sizeof(detail), "the body is over the limit of %zu bytes",
                 s->body_size_bytes_max);
        return answer_now(req, 413, "PAYLOAD_TOO_LARGE", detail, NULL, 0);
    }
    if (req->body_oom || (req->body.len > 0 && tandem_buf_append(&req->body, "", 1) != TANDEM_OK) ||
        copy_headers(req) != TANDEM_OK) {
        return answer_now(req, 503, "RESOURCE_EXHAUSTED", "out of memory reading the request", NULL,
                          0);
    }
    req->body_len = req->body.len > 0 ? req->body.len - 1 : 0;

    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->stopping)) {
        pthread_mutex_unlock(&s->lock);
        return answer_now(req, 503, "UNAVAILABLE", "the server is shutting down", NULL, 0);
    }
    if (s->queue_depth == s->queue_capacity) {
        s->rejected_total++;
        pthread_mutex_unlock(&s->lock);
        tandem_counter_inc(s->rejections);
        snprintf(detail, sizeof(detail), "the queue of %u requests to the broker is full",
                 s->queue_capacity);
        return answer_now(req, 503, "RESOURCE_EXHAUSTED", detail, NULL, 0);
    }
    /* Suspend before the request becomes visible to the loop: the loop may
     * resume it as soon as the lock is released. */
    MHD_suspend_connection(req->conn);
    store_state(req, REQ_QUEUED);
    req->counted_pending = true;
    if (s->queue_tail != NULL) {
        s->queue_tail->queue_next = req;
    } else {
        s->queue_head = req;
    }
    s->queue_tail = req;
    s->queue_depth++;
    s->pending++;
    TANDEM_ASSERT(s->queue_depth <= s->queue_capacity);
    pthread_mutex_unlock(&s->lock);
    uv_async_send(&s->wake);
    return MHD_YES;
}

/* The loop answered and resumed the connection; hand the answer over. */
static enum MHD_Result send_answer(tandem_http_request *req)
{
    TANDEM_ASSERT(load_state(req) == REQ_ANSWERED);
    TANDEM_ASSERT(req->conn != NULL);
    struct MHD_Response *resp = req->response;
    req->response = NULL;
    store_state(req, REQ_SENT);
    if (resp == NULL) {
        return MHD_NO; /* the answer could not be built: close */
    }
    enum MHD_Result ret = MHD_queue_response(req->conn, req->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
    tandem_http_server *s = cls;
    tandem_http_request *req = *con_cls;
    (void)url; /* already decoded by libmicrohttpd; routes use the raw path */
    (void)version;
    TANDEM_ASSERT(s != NULL && upload_size != NULL);
    if (req == NULL) {
        return MHD_NO; /* out of memory in on_uri */
    }
    TANDEM_ASSERT(req->server == s);
    switch (load_state(req)) {
    case REQ_NEW:
        return on_headers(s, req, conn, method);
    case REQ_READING:
        if (*upload_size > 0) {
            on_body(s, req, upload_data, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        return on_complete(s, req);
    case REQ_ANSWERED:
        return send_answer(req);
    case REQ_SENT:
        /* Answered before the body was read: drop what still arrives. */
        *upload_size = 0;
        return MHD_YES;
    default:
        TANDEM_UNREACHABLE(); /* queued and held requests are suspended */
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    tandem_http_server *s = cls;
    TANDEM_ASSERT(s != NULL && con_cls != NULL);
    tandem_http_request *req = *con_cls;
    (void)conn;
    (void)toe;
    if (req == NULL) {
        return;
    }
    *con_cls = NULL;
    int state = load_state(req);
    TANDEM_ASSERT(state != REQ_QUEUED && state != REQ_HELD && state != REQ_CANCELLING);
    if (req->counted_pending) {
        pthread_mutex_lock(&s->lock);
        TANDEM_ASSERT(s->pending > 0);
        s->pending--;
        if (s->pending == 0) {
            pthread_cond_broadcast(&s->settled);
        }
        pthread_mutex_unlock(&s->lock);
    }
    request_free(req);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    tandem_http_server *s = cls;
    TANDEM_ASSERT(s != NULL && fmt != NULL);
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    TANDEM_ASSERT(n < sizeof(text));
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        text[--n] = '\0';
    }
    tandem_log(TANDEM_LOG_WARN, "http server error", "server", s->name, "error", text, NULL);
}

/* ---- start ---- */

static int open_listener(tandem_http_server *s, int *fd_out, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && fd_out != NULL);
    TANDEM_ASSERT(s->addr_len > 0);
    uint16_t want =
        ntohs(s->addr.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&s->addr)->sin_port
                                           : ((struct sockaddr_in6 *)(void *)&s->addr)->sin6_port);
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        return tandem_diag_set(diag, tandem_from_errno(err), "socket for the %s server: %s",
                               s->name, strerror(err));
    }
    int one = 1;
    /* Restarting must not fail on connections of the previous run in TIME_WAIT. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&s->addr, s->addr_len) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        int err = errno;
        close(fd);
        return tandem_diag_set(diag, tandem_from_errno(err),
                               "listen on %s:%u for the %s server: %s", s->host, want, s->name,
                               strerror(err));
    }
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &len) != 0) {
        int err = errno;
        close(fd);
        return tandem_diag_set(diag, tandem_from_errno(err), "getsockname: %s", strerror(err));
    }
    s->port =
        ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&bound)->sin_port
                                         : ((struct sockaddr_in6 *)(void *)&bound)->sin6_port);
    *fd_out = fd;
    return TANDEM_OK;
}

int tandem_http_server_start(tandem_http_server *s, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(s->daemon == NULL);
    if (s->closing) {
        return tandem_diag_set(diag, TANDEM_ESTATE, "the %s server is closing", s->name);
    }
    int fd = -1;
    int rc = open_listener(s, &fd, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (s->addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    s->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
                         s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned int)s->connections_max, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned int)s->connection_timeout_s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        close(fd);
        s->port = 0;
        return tandem_diag_set(diag, TANDEM_ESYS,
                               "libmicrohttpd could not start the %s server on %s", s->name,
                               s->host);
    }
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%u", s->port);
    tandem_log(TANDEM_LOG_INFO, "http server listening", "server", s->name, "host", s->host, "port",
               port_text, NULL);
    return TANDEM_OK;
}

uint16_t tandem_http_server_port(const tandem_http_server *s)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(s->daemon != NULL || s->port == 0 || s->closing);
    return s->daemon != NULL ? s->port : 0;
}

void tandem_http_server_stats(tandem_http_server *s, tandem_http_stats *out)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    pthread_mutex_lock(&s->lock);
    out->queued = s->queue_depth;
    out->pending = s->pending;
    out->rejected_total = s->rejected_total;
    pthread_mutex_unlock(&s->lock);
    out->held = atomic_load(&s->held_count);
    TANDEM_ASSERT(out->queued <= s->queue_capacity);
}

/* ---- the loop thread ---- */

static void held_insert(tandem_http_server *s, tandem_http_request *req)
{
    TANDEM_ASSERT(req->held_prev == NULL && req->held_next == NULL);
    TANDEM_ASSERT(s->held_head != req);
    req->held_next = s->held_head;
    if (s->held_head != NULL) {
        s->held_head->held_prev = req;
    }
    s->held_head = req;
    atomic_fetch_add(&s->held_count, 1);
}

static void held_remove(tandem_http_server *s, tandem_http_request *req)
{
    TANDEM_ASSERT(atomic_load(&s->held_count) > 0);
    TANDEM_ASSERT(req->held_prev != NULL || s->held_head == req);
    if (req->held_prev != NULL) {
        req->held_prev->held_next = req->held_next;
    } else {
        s->held_head = req->held_next;
    }
    if (req->held_next != NULL) {
        req->held_next->held_prev = req->held_prev;
    }
    req->held_prev = NULL;
    req->held_next = NULL;
    atomic_fetch_sub(&s->held_count, 1);
}

static tandem_http_request *queue_pop(tandem_http_server *s)
{
    TANDEM_ASSERT(s != NULL);
    pthread_mutex_lock(&s->lock);
    tandem_http_request *req = s->queue_head;
    if (req != NULL) {
        TANDEM_ASSERT(s->queue_depth > 0);
        s->queue_head = req->queue_next;
        if (s->queue_head == NULL) {
            s->queue_tail = NULL;
        }
        req->queue_next = NULL;
        s->queue_depth--;
    }
    TANDEM_ASSERT((s->queue_head == NULL) == (s->queue_depth == 0));
    pthread_mutex_unlock(&s->lock);
    return req;
}

static void on_wake(uv_async_t *handle)
{
    tandem_http_server *s = handle->data;
    TANDEM_ASSERT(s != NULL && handle == &s->wake);
    /* At most one queue's worth per wake-up, so a stream of requests cannot
     * starve the loop's other work; the rest waits for the next turn. */
    for (uint32_t i = 0; i < s->queue_capacity; i++) {
        if (s->closing) {
            return;
        }
        tandem_http_request *req = queue_pop(s);
        if (req == NULL) {
            return;
        }
        TANDEM_ASSERT(load_state(req) == REQ_QUEUED && req->route != NULL);
        store_state(req, REQ_HELD);
        held_insert(s, req);
        req->route->fn(req, req->route->ctx);
    }
    if (!s->closing) {
        uv_async_send(&s->wake); /* a handle being closed must not be signalled */
    }
}

int tandem_http_respond_headers(tandem_http_request *req, unsigned status, const char *content_type,
                                const void *body, size_t len, const tandem_http_header *headers,
                                size_t header_count)
{
    TANDEM_ASSERT(req != NULL && load_state(req) == REQ_HELD);
    TANDEM_ASSERT(status >= 100 && status <= 599);
    tandem_http_server *s = req->server;
    struct MHD_Response *resp = make_response(content_type, body, len, headers, header_count);
    req->response = resp;
    req->status = status;
    held_remove(s, req);
    note_answer(s, req, resp != NULL ? status : 0);
    store_state(req, REQ_ANSWERED);
    /* From here on the HTTP thread owns the request and may free it. */
    MHD_resume_connection(req->conn);
    return resp != NULL ? TANDEM_OK : TANDEM_ENOMEM;
}

int tandem_http_respond(tandem_http_request *req, unsigned status, const char *content_type,
                        const void *body, size_t len)
{
    TANDEM_ASSERT(req != NULL);
    TANDEM_ASSERT(body != NULL || len == 0);
    return tandem_http_respond_headers(req, status, content_type, body, len, NULL, 0);
}

int tandem_http_respond_problem(tandem_http_request *req, unsigned status, const char *title,
                                const char *detail)
{
    TANDEM_ASSERT(req != NULL && title != NULL);
    TANDEM_ASSERT(status >= 400 && status <= 599); /* problems are errors */
    tandem_buf doc = TANDEM_BUF_INIT;
    int rc = tandem_http_problem_json(&doc, status, title, detail, req->path);
    if (rc == TANDEM_OK) {
        rc = tandem_http_respond(req, status, "application/problem+json", doc.data, doc.len);
    } else {
        tandem_http_respond(req, status, NULL, NULL, 0);
    }
    tandem_buf_free(&doc);
    return rc;
}

/* ---- request accessors ---- */

/* Accessors are for requests the loop holds; those were routed, so they
 * have a route and a path that starts with '/'. */
static void check_held(const tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL);
    int state = load_state(req);
    TANDEM_ASSERT(state == REQ_HELD || state == REQ_CANCELLING);
    TANDEM_ASSERT(req->route != NULL && req->path[0] == '/');
}

const char *tandem_http_method(const tandem_http_request *req)
{
    check_held(req);
    TANDEM_ASSERT(req->method[0] != '\0');
    return req->method;
}

const char *tandem_http_path(const tandem_http_request *req)
{
    check_held(req);
    TANDEM_ASSERT(req->path_len > 0);
    return req->path;
}

const char *tandem_http_query_string(const tandem_http_request *req)
{
    check_held(req);
    TANDEM_ASSERT(req->query != NULL && req->query[req->query_len] == '\0');
    return req->query;
}

const char *tandem_http_param(const tandem_http_request *req, const char *name)
{
    check_held(req);
    TANDEM_ASSERT(name != NULL);
    TANDEM_ASSERT(req->route->param_count <= HTTP_PARAMS_MAX);
    for (uint32_t i = 0; i < req->route->param_count; i++) {
        if (strcmp(req->route->param_names[i], name) == 0) {
            return req->params[i];
        }
    }
    return NULL;
}

int tandem_http_query(tandem_http_request *req, const char *name, const char **value)
{
    check_held(req);
    TANDEM_ASSERT(name != NULL && value != NULL);
    if (!req->query_parsed) {
        req->query_parsed = true;
        size_t pairs_bytes = HTTP_QUERY_PAIRS_MAX * sizeof(http_kv);
        req->query_block = malloc(pairs_bytes + req->query_len + 1);
        if (req->query_block == NULL) {
            req->query_parsed = false; /* a later call may try again */
            return TANDEM_ENOMEM;
        }
        req->query_pairs = req->query_block;
        char *text = (char *)req->query_block + pairs_bytes;
        memcpy(text, req->query, req->query_len + 1);
        req->query_rc = http_query_parse(text, req->query_len, req->query_pairs,
                                         HTTP_QUERY_PAIRS_MAX, &req->query_count);
    }
    if (req->query_rc != TANDEM_OK) {
        return req->query_rc;
    }
    TANDEM_ASSERT(req->query_count <= HTTP_QUERY_PAIRS_MAX);
    for (size_t i = 0; i < req->query_count; i++) {
        if (strcmp(req->query_pairs[i].name, name) == 0) {
            *value = req->query_pairs[i].value;
            return TANDEM_OK;
        }
    }
    return TANDEM_ENOENT;
}

const char *tandem_http_header_value(const tandem_http_request *req, const char *name)
{
    check_held(req);
    TANDEM_ASSERT(name != NULL);
    TANDEM_ASSERT(req->headers != NULL || req->header_count == 0);
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }
    return NULL;
}

const uint8_t *tandem_http_body(const tandem_http_request *req, size_t *len)
{
    check_held(req);
    TANDEM_ASSERT(len != NULL);
    TANDEM_ASSERT(req->body.len == 0 || req->body.data[req->body_len] == '\0');
    *len = req->body_len;
    return req->body.len > 0 ? req->body.data : (const uint8_t *)"";
}

void tandem_http_request_set_cancel(tandem_http_request *req, tandem_http_cancel_fn fn, void *data)
{
    TANDEM_ASSERT(req != NULL && load_state(req) == REQ_HELD);
    TANDEM_ASSERT(fn != NULL || data == NULL);
    req->cancel_fn = fn;
    req->cancel_data = data;
}

/* ---- shutdown ---- */

static void wait_settled(tandem_http_server *s)
{
    TANDEM_ASSERT(s != NULL && atomic_load(&s->stopping));
    TANDEM_ASSERT(s->shutdown_grace_ms > 0);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(s->shutdown_grace_ms / 1000);
    deadline.tv_nsec += (long)(s->shutdown_grace_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (s->pending > 0) {
        if (pthread_cond_timedwait(&s->settled, &s->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    uint32_t left = s->pending;
    pthread_mutex_unlock(&s->lock);
    if (left > 0) {
        char text[16];
        snprintf(text, sizeof(text), "%u", left);
        tandem_log(TANDEM_LOG_WARN, "http server closes connections with unsent answers", "server",
                   s->name, "requests", text, NULL);
    }
}

static void stop_daemon(tandem_http_server *s)
{
    TANDEM_ASSERT(s != NULL && s->daemon != NULL);
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stopping, true);
    tandem_http_request *queued = s->queue_head;
    s->queue_head = NULL;
    s->queue_tail = NULL;
    s->queue_depth = 0;
    pthread_mutex_unlock(&s->lock);
    /* Nothing can be queued any more: the HTTP thread checks `stopping`
     * under the lock. Queued requests join the held ones, which all get an
     * answer so that no connection stays suspended. */
    while (queued != NULL) {
        tandem_http_request *req = queued;
        queued = req->queue_next;
        req->queue_next = NULL;
        TANDEM_ASSERT(load_state(req) == REQ_QUEUED);
        store_state(req, REQ_HELD);
        held_insert(s, req);
    }
    while (s->held_head != NULL) {
        tandem_http_request *req = s->held_head;
        if (req->cancel_fn != NULL) {
            tandem_http_cancel_fn fn = req->cancel_fn;
            req->cancel_fn = NULL;
            store_state(req, REQ_CANCELLING);
            fn(req, req->cancel_data);
            TANDEM_ASSERT(load_state(req) == REQ_CANCELLING && s->held_head == req);
            store_state(req, REQ_HELD);
        }
        tandem_http_respond_problem(req, 503, "UNAVAILABLE", "the server is shutting down");
    }
    TANDEM_ASSERT(atomic_load(&s->held_count) == 0);
    wait_settled(s);
    MHD_stop_daemon(s->daemon); /* closes the listener and every connection, joins the thread */
    s->daemon = NULL;
    tandem_log(TANDEM_LOG_INFO, "http server stopped", "server", s->name, NULL);
}

static void on_wake_closed(uv_handle_t *handle)
{
    tandem_http_server *s = handle->data;
    TANDEM_ASSERT(s != NULL && s->closing);
    TANDEM_ASSERT(s->daemon == NULL && s->queue_head == NULL);
    tandem_http_close_fn cb = s->close_cb;
    void *data = s->close_data;
    pthread_cond_destroy(&s->settled);
    pthread_mutex_destroy(&s->lock);
    free(s);
    if (cb != NULL) {
        cb(data);
    }
}

void tandem_http_server_close(tandem_http_server *s, tandem_http_close_fn cb, void *data)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    if (s->daemon != NULL) {
        stop_daemon(s);
    }
    uv_close((uv_handle_t *)&s->wake, on_wake_closed);
}
