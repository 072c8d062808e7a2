/*
 * http.h — the HTTP/1.1 server that the management API, and later the REST
 * gateway, are built on.
 *
 * libmicrohttpd reads and parses requests on its own thread. A complete
 * request is put into a bounded queue, its connection is suspended, and the
 * owning libuv loop is woken with uv_async_send. The handler of the matching
 * route then runs on the loop thread, where all broker state lives, and
 * answers at once or later — long polls and answers sent after a commit keep
 * the request and answer from a later loop callback. Answering resumes the
 * connection, and the HTTP thread writes the response.
 *
 * A full queue is backpressure: the request is answered 503 with the title
 * RESOURCE_EXHAUSTED at once on the HTTP thread, and the queue never grows.
 * Other answers that need no broker state are also given on the HTTP thread,
 * so they cost the loop nothing: unknown path (404), known path with another
 * method (405 with an Allow header), body over the limit (413), malformed
 * percent-encoding in a path parameter (400), shutting down (503
 * UNAVAILABLE). Every error answer is an RFC 9457 application/problem+json
 * document: {"type":"about:blank","title":...,"status":...,"detail":...,
 * "instance":<path>}.
 *
 * Threads: create, route, start, respond and close are called on the loop
 * thread; tandem_http_server_stats may be called from any thread.
 *
 * Ownership and lifetimes:
 * - The server owns every request. A handler receives a borrowed pointer that
 *   stays valid until the request is answered with one of the respond
 *   functions (the pointer is dead as soon as that call returns) or until the
 *   server cancels it while closing (see tandem_http_request_set_cancel).
 * - Strings and bytes returned by the request accessors (method, path, query
 *   string and values, path parameters, headers, body) belong to the request
 *   and stay valid until it is answered or cancelled.
 * - The respond functions copy content type, headers and body; the caller
 *   keeps its memory.
 * - Configuration strings are copied by create.
 */
#ifndef TANDEM_MGMT_HTTP_H
#define TANDEM_MGMT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "mgmt/metrics.h"

/* Routes per server; the route table is fixed at start. */
#define TANDEM_HTTP_ROUTES_MAX 64
/* Default body limit when the configuration says 0. */
#define TANDEM_HTTP_BODY_SIZE_BYTES_DEFAULT (1024u * 1024u)

typedef struct tandem_http_server tandem_http_server;
typedef struct tandem_http_request tandem_http_request;

typedef struct tandem_http_config {
    const char *name;              /* for logs and the "server" metric label, e.g. "management" */
    const char *host;              /* numeric IPv4/IPv6 address, or "localhost" */
    uint16_t port;                 /* 0 = an ephemeral port; see tandem_http_server_port */
    uint32_t queue_capacity;       /* requests waiting for the loop; 0 = 64 */
    size_t body_size_bytes_max;    /* 0 = TANDEM_HTTP_BODY_SIZE_BYTES_DEFAULT */
    uint32_t connections_max;      /* open connections; 0 = 256 */
    uint32_t connection_timeout_s; /* idle connections are closed after this; 0 = 30 */
    uint32_t shutdown_grace_ms;    /* close waits this long for answers to be written; 0 = 1000 */
    tandem_metrics *metrics;       /* NULL = no metrics; borrowed, must outlive the server */
    tandem_clock *clock;           /* NULL = the real clock; used for request durations */
} tandem_http_config;

/* A route handler; runs on the loop thread. It answers with a respond
 * function now or later; until then the request is "held". */
typedef void (*tandem_http_handler_fn)(tandem_http_request *req, void *ctx);

/* Called on the loop thread when the server closes while a handler still
 * holds `req`: the holder must forget the pointer. It must not answer from
 * this callback; the server answers 503 UNAVAILABLE right after it. */
typedef void (*tandem_http_cancel_fn)(tandem_http_request *req, void *data);

/* Called on the loop thread once the server's memory is released. */
typedef void (*tandem_http_close_fn)(void *data);

typedef struct tandem_http_header {
    const char *name;
    const char *value;
} tandem_http_header;

typedef struct tandem_http_stats {
    uint32_t queued;         /* complete requests waiting for the loop */
    uint32_t held;           /* given to handlers and not answered yet */
    uint32_t pending;        /* queued, held, or answered and not yet written out */
    uint64_t rejected_total; /* answered 503 RESOURCE_EXHAUSTED because the queue was full */
} tandem_http_stats;

/*
 * Creates a stopped server owned by `loop` (which must outlive it). Registers
 * the server's metrics when cfg->metrics is set. On error nothing is
 * allocated and *out is untouched. TANDEM_ECONFIG for a bad host or limits.
 */
int tandem_http_server_create(uv_loop_t *loop, const tandem_http_config *cfg,
                              tandem_http_server **out, tandem_diag *diag);

/*
 * Adds a route before start. `method` is an upper-case token ("GET"); a GET
 * route also answers HEAD. `pattern` is an absolute path whose segments are
 * literals or whole-segment parameters, e.g. "/actuator/exporters/{id}/disable".
 * Both strings are copied. TANDEM_EINVAL for a malformed pattern, TANDEM_EEXIST
 * for a duplicate method + pattern, TANDEM_EFULL beyond TANDEM_HTTP_ROUTES_MAX,
 * TANDEM_ESTATE after start.
 */
int tandem_http_route(tandem_http_server *s, const char *method, const char *pattern,
                      tandem_http_handler_fn fn, void *ctx, tandem_diag *diag);

/* Binds host:port and starts the HTTP thread. TANDEM_ESYS (with the address
 * and the reason in diag) when the address cannot be bound. A failed start
 * leaves the server stopped; it must still be closed. */
int tandem_http_server_start(tandem_http_server *s, tandem_diag *diag);

/* The bound port (the ephemeral one when configured with 0); 0 before start. */
uint16_t tandem_http_server_port(const tandem_http_server *s);

/* A snapshot of the counters; any thread. */
void tandem_http_server_stats(tandem_http_server *s, tandem_http_stats *out);

/*
 * Stops the server: new requests get 503 UNAVAILABLE, queued requests are
 * answered 503 UNAVAILABLE, held requests are cancelled (their cancel
 * callback, then 503 UNAVAILABLE). Waits up to shutdown_grace_ms for those
 * answers to be written, then closes every connection and joins the HTTP
 * thread. The memory is released from a later loop callback, after which `cb`
 * (may be NULL) is called: keep running the loop until then. Valid in any
 * state, also from inside a handler; call it once.
 */
void tandem_http_server_close(tandem_http_server *s, tandem_http_close_fn cb, void *data);

/* ---- requests (loop thread, while the request is held) ---- */

/* The method token, e.g. "GET". */
const char *tandem_http_method(const tandem_http_request *req);
/* The path as sent, still percent-encoded, without the query string. */
const char *tandem_http_path(const tandem_http_request *req);
/* The raw query string without '?'; "" when there is none. */
const char *tandem_http_query_string(const tandem_http_request *req);

/* The percent-decoded value of the route parameter `name` ("id" for "{id}"),
 * or NULL when the route has no such parameter. */
const char *tandem_http_param(const tandem_http_request *req, const char *name);

/*
 * Looks a query parameter up; the query string is parsed (percent-decoded,
 * '+' as space) on the first call. *value is the first value of `name`, ""
 * for "?flag". TANDEM_ENOENT when absent, TANDEM_EINVAL when the query string
 * is malformed (bad %-escape, %00), TANDEM_ERANGE when it has more than 64
 * parameters, TANDEM_ENOMEM. *value is untouched on error.
 */
int tandem_http_query(tandem_http_request *req, const char *name, const char **value);

/* A request header by case-insensitive name, or NULL. */
const char *tandem_http_header_value(const tandem_http_request *req, const char *name);

/* The body and its length (*len may not be NULL). The bytes are followed by a
 * NUL that is not counted, so a text body can be used as a C string. */
const uint8_t *tandem_http_body(const tandem_http_request *req, size_t *len);

/* Registers the callback that tells a holder its request is cancelled; a
 * handler that keeps a request after it returns must set one. */
void tandem_http_request_set_cancel(tandem_http_request *req, tandem_http_cancel_fn fn, void *data);

/*
 * Answers a held request with `status` (100..599), an optional content type
 * (NULL = none) and `len` bytes of body (body may be NULL when len is 0).
 * Call once, on the loop thread. Whatever the result, the request is gone
 * when the call returns; on TANDEM_ENOMEM the connection is closed without
 * an answer.
 */
int tandem_http_respond(tandem_http_request *req, unsigned status, const char *content_type,
                        const void *body, size_t len);

/* Like tandem_http_respond with extra response headers (copied). */
int tandem_http_respond_headers(tandem_http_request *req, unsigned status, const char *content_type,
                                const void *body, size_t len, const tandem_http_header *headers,
                                size_t header_count);

/* Answers with an application/problem+json document whose instance is the
 * request's path. `detail` may be NULL (then it is left out). */
int tandem_http_respond_problem(tandem_http_request *req, unsigned status, const char *title,
                                const char *detail);

/* ---- JSON helpers shared by the API modules ---- */

/* Appends the RFC 9457 document for the given fields to `out`; detail and
 * instance may be NULL (then they are left out). TANDEM_ENOMEM. */
int tandem_http_problem_json(tandem_buf *out, unsigned status, const char *title,
                             const char *detail, const char *instance);

/* Appends `s` as a quoted JSON string: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD, so the output is
 * always valid JSON whatever the input bytes. TANDEM_ENOMEM. */
int tandem_http_json_string(tandem_buf *out, const char *s);

#endif
