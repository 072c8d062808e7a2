/*
 * The REST gateway on the loop: routes, calls to the backend, deadlines and
 * long polling.
 *
 * Every request that goes to the backend becomes a call, counted against
 * calls_max (the gateway's bound on work in flight) and kept on one list
 * until the backend answers it. A call's HTTP request is answered at most
 * once: by the backend's answer, by the deadline (504; a long poll's deadline
 * answers {"jobs":[]}), or not at all when the server cancels it while
 * closing. Once answered, the call only waits for the backend.
 *
 * One timer serves every deadline: it is armed for the earliest and, when it
 * fires, the list is scanned. The list is bounded by calls_max, so the scan
 * is too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "base/log.h"
#include "gateway/gateway_int.h"

#define CALLS_MAX_DEFAULT            1024
#define LONG_POLL_TIMEOUT_MS_DEFAULT 10000
#define REQUEST_TIMEOUT_MS_DEFAULT   15000
#define VERSION_SIZE_MAX             32

static const char content_type_json[] = "application/json";

struct tandem_gateway_call {
    tandem_gateway *gw;
    gateway_op op;
    tandem_http_request *req;         /* NULL once answered or cancelled */
    gateway_decoded dec;              /* every op but DEPLOY */
    uint64_t deadline_ms;             /* loop time; 0 = none left */
    uint64_t timeout_ms;              /* what the deadline was set from, for messages */
    bool long_poll;                   /* activation that may wait for jobs */
    bool expired;                     /* activation: its deadline passed while with the backend */
    bool with_backend;                /* an invocation waits for the backend's answer */
    bool retry;                       /* activation: jobs were announced while with the backend */
    bool queued;                      /* on a notify's local queue */
    tandem_gateway_call *prev, *next; /* gw->calls */
    tandem_gateway_call *qnext;       /* a notify's local queue */
};

/* The JSON routes: one handler, told by its context which operation it is. */
typedef struct json_route {
    tandem_gateway *gw;
    gateway_op op;
    const char *key_param; /* the {key} path parameter, NULL when none */
} json_route;

struct tandem_gateway {
    uv_loop_t *loop;
    tandem_http_server *http; /* NULL once closed */
    tandem_gateway_backend backend;
    uint32_t calls_max;
    uint32_t long_poll_timeout_ms;
    uint32_t request_timeout_ms;
    char version[VERSION_SIZE_MAX];
    uv_timer_t timer;
    uint64_t timer_due_ms; /* 0 = not armed */
    tandem_gateway_call *calls;
    uint32_t call_count;
    json_route json_routes[GATEWAY_OP_COUNT];
    bool closing;
    bool timer_closing;
    tandem_http_close_fn close_cb;
    void *close_data;
};

/* ---- answers ---- */

static void respond_buf(tandem_http_request *req, unsigned status, tandem_buf *body, int rc)
{
    TANDEM_ASSERT(req != NULL && body != NULL);
    TANDEM_ASSERT(status >= 200 && status < 300);
    if (rc == TANDEM_OK) {
        tandem_http_respond(req, status, content_type_json, body->data, body->len);
    } else {
        tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory building the answer");
    }
    tandem_buf_free(body);
}

static void respond_gateway_problem(tandem_http_request *req, const gateway_problem *p)
{
    TANDEM_ASSERT(req != NULL && p != NULL);
    TANDEM_ASSERT(p->status >= 400 && p->title != NULL);
    tandem_http_respond_problem(req, p->status, p->title, p->detail);
}

/* ---- the call list and the deadline timer ---- */

static void on_timer(uv_timer_t *t);

static void arm(tandem_gateway *gw, uint64_t due_ms)
{
    TANDEM_ASSERT(gw != NULL);
    TANDEM_ASSERT(!gw->timer_closing);
    gw->timer_due_ms = due_ms;
    if (due_ms == 0) {
        uv_timer_stop(&gw->timer);
        return;
    }
    uint64_t now = uv_now(gw->loop);
    uv_timer_start(&gw->timer, on_timer, due_ms > now ? due_ms - now : 0, 0);
}

static void finish_close_maybe(tandem_gateway *gw);

static void call_link(tandem_gateway *gw, tandem_gateway_call *c)
{
    TANDEM_ASSERT(gw != NULL && c != NULL);
    TANDEM_ASSERT(c->prev == NULL && c->next == NULL && gw->call_count < UINT32_MAX);
    c->next = gw->calls;
    if (gw->calls != NULL) {
        gw->calls->prev = c;
    }
    gw->calls = c;
    gw->call_count++;
    if (c->deadline_ms != 0 && (gw->timer_due_ms == 0 || c->deadline_ms < gw->timer_due_ms)) {
        arm(gw, c->deadline_ms);
    }
}

/* The call is over: unlink and free it. */
static void call_done(tandem_gateway_call *c)
{
    TANDEM_ASSERT(c != NULL && c->gw != NULL);
    TANDEM_ASSERT(!c->with_backend && !c->queued);
    tandem_gateway *gw = c->gw;
    TANDEM_ASSERT(gw->call_count > 0);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        TANDEM_ASSERT(gw->calls == c);
        gw->calls = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    gw->call_count--;
    if (c->op != GATEWAY_OP_DEPLOY) {
        gateway_decoded_free(&c->dec);
    }
    free(c);
    finish_close_maybe(gw);
}

/* Takes the call's HTTP request for answering; NULL when there is none. */
static tandem_http_request *take_req(tandem_gateway_call *c)
{
    TANDEM_ASSERT(c != NULL);
    TANDEM_ASSERT(c->req != NULL || c->deadline_ms == 0 || c->op == GATEWAY_OP_ACTIVATE);
    tandem_http_request *req = c->req;
    if (req != NULL) {
        tandem_http_request_set_cancel(req, NULL, NULL);
    }
    c->req = NULL;
    c->deadline_ms = 0;
    return req;
}

static void answer_jobs(tandem_gateway_call *c, const tandem_gateway_job *jobs, size_t count)
{
    TANDEM_ASSERT(c != NULL && c->op == GATEWAY_OP_ACTIVATE);
    TANDEM_ASSERT(!c->with_backend && (jobs != NULL || count == 0));
    tandem_http_request *req = take_req(c);
    if (req != NULL) {
        tandem_buf body = TANDEM_BUF_INIT;
        int rc = gateway_encode_jobs(&body, jobs, count);
        respond_buf(req, 200, &body, rc);
    }
}

static void on_timer(uv_timer_t *t)
{
    tandem_gateway *gw = t->data;
    TANDEM_ASSERT(gw != NULL && &gw->timer == t);
    TANDEM_ASSERT(!gw->timer_closing);
    uint64_t now = uv_now(gw->loop);
    uint64_t next_due = 0;
    tandem_gateway_call *next = NULL;
    for (tandem_gateway_call *c = gw->calls; c != NULL; c = next) {
        next = c->next;
        if (c->req == NULL || c->deadline_ms == 0) {
            continue;
        }
        if (c->deadline_ms > now) {
            next_due = next_due == 0 || c->deadline_ms < next_due ? c->deadline_ms : next_due;
            continue;
        }
        if (c->op == GATEWAY_OP_ACTIVATE) {
            if (c->with_backend) {
                c->expired = true; /* answered with whatever the backend brings */
                c->deadline_ms = 0;
            } else {
                answer_jobs(c, NULL, 0);
                call_done(c);
            }
            continue;
        }
        char detail[128];
        snprintf(detail, sizeof(detail), "the request timed out after %llu ms",
                 (unsigned long long)c->timeout_ms);
        tandem_http_request *req = take_req(c);
        tandem_http_respond_problem(req, 504, "DEADLINE_EXCEEDED", detail);
    }
    arm(gw, next_due);
}

/* ---- invoking the backend ---- */

static void invoke(tandem_gateway_call *c)
{
    TANDEM_ASSERT(c != NULL && !c->with_backend);
    TANDEM_ASSERT(c->op != GATEWAY_OP_DEPLOY && !c->gw->closing);
    const tandem_gateway_backend *b = &c->gw->backend;
    c->with_backend = true;
    switch (c->op) {
    case GATEWAY_OP_CREATE:
        b->create_instance(b->ctx, &c->dec.u.create, c);
        break;
    case GATEWAY_OP_CANCEL:
        b->cancel_instance(b->ctx, &c->dec.u.cancel, c);
        break;
    case GATEWAY_OP_ACTIVATE:
        b->activate_jobs(b->ctx, &c->dec.u.activate, c);
        break;
    case GATEWAY_OP_COMPLETE:
        b->complete_job(b->ctx, &c->dec.u.complete, c);
        break;
    case GATEWAY_OP_FAIL:
        b->fail_job(b->ctx, &c->dec.u.fail, c);
        break;
    case GATEWAY_OP_UPDATE:
        b->update_job(b->ctx, &c->dec.u.update, c);
        break;
    case GATEWAY_OP_RESOLVE:
        b->resolve_incident(b->ctx, &c->dec.u.resolve, c);
        break;
    case GATEWAY_OP_VARIABLES:
        b->set_variables(b->ctx, &c->dec.u.variables, c);
        break;
    default:
        TANDEM_UNREACHABLE();
    }
    /* c may be freed here: the backend may have answered already. */
}

static void on_cancel(tandem_http_request *req, void *data)
{
    tandem_gateway_call *c = data;
    TANDEM_ASSERT(c != NULL && c->req == req);
    TANDEM_ASSERT(c->gw->closing);
    c->req = NULL;
    c->deadline_ms = 0;
    if (!c->with_backend && !c->queued) {
        call_done(c); /* a waiting long poll: nobody else will end it */
    }
}

/* The effective deadline of a new call, in loop time. */
static void set_deadline(tandem_gateway *gw, tandem_gateway_call *c)
{
    TANDEM_ASSERT(gw != NULL && c != NULL);
    TANDEM_ASSERT(c->req != NULL);
    int64_t timeout_ms = gw->request_timeout_ms;
    if (c->op == GATEWAY_OP_ACTIVATE) {
        c->long_poll = !c->dec.has_request_timeout || c->dec.request_timeout_ms >= 0;
        if (c->long_poll) {
            timeout_ms = c->dec.has_request_timeout && c->dec.request_timeout_ms > 0
                             ? c->dec.request_timeout_ms
                             : gw->long_poll_timeout_ms;
        }
    } else if (c->op == GATEWAY_OP_CREATE && c->dec.has_request_timeout &&
               c->dec.request_timeout_ms > 0) {
        timeout_ms = c->dec.request_timeout_ms;
    }
    TANDEM_ASSERT(timeout_ms > 0);
    c->timeout_ms = (uint64_t)timeout_ms;
    uint64_t now = uv_now(gw->loop);
    c->deadline_ms =
        (uint64_t)timeout_ms > UINT64_MAX / 2 - now ? UINT64_MAX / 2 : now + (uint64_t)timeout_ms;
}

static tandem_gateway_call *call_new(tandem_gateway *gw, gateway_op op, tandem_http_request *req)
{
    TANDEM_ASSERT(gw != NULL && req != NULL);
    TANDEM_ASSERT(op < GATEWAY_OP_COUNT && !gw->closing);
    if (gw->call_count >= gw->calls_max) {
        char detail[128];
        snprintf(detail, sizeof(detail), "the gateway has %u requests in flight, its limit",
                 gw->calls_max);
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED", detail);
        return NULL;
    }
    tandem_gateway_call *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory");
        return NULL;
    }
    c->gw = gw;
    c->op = op;
    c->dec.op = op;
    return c;
}

/* Body must be JSON when there is one. */
static bool json_content_ok(tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL);
    size_t len = 0;
    tandem_http_body(req, &len);
    TANDEM_ASSERT(len < SIZE_MAX);
    const char *ct = tandem_http_header_value(req, "Content-Type");
    if (len == 0 || ct == NULL) {
        return true;
    }
    static const char json[] = "application/json";
    if (strncasecmp(ct, json, sizeof(json) - 1) == 0 &&
        (ct[sizeof(json) - 1] == '\0' || ct[sizeof(json) - 1] == ';' ||
         ct[sizeof(json) - 1] == ' ')) {
        return true;
    }
    char detail[256];
    snprintf(detail, sizeof(detail), "Content type '%.100s' is not supported; use %s.", ct, json);
    tandem_http_respond_problem(req, 415, "UNSUPPORTED_MEDIA_TYPE", detail);
    return false;
}

static void handle_json(tandem_gateway *gw, tandem_http_request *req, gateway_op op,
                        const char *key_param)
{
    TANDEM_ASSERT(gw != NULL && req != NULL);
    TANDEM_ASSERT(!gw->closing);
    if (!json_content_ok(req)) {
        return;
    }
    tandem_gateway_call *c = call_new(gw, op, req);
    if (c == NULL) {
        return;
    }
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    const char *key = key_param != NULL ? tandem_http_param(req, key_param) : NULL;
    gateway_problem problem;
    int rc = gateway_decode(op, key, body, len, &c->dec, &problem);
    if (rc != TANDEM_OK) {
        if (rc == TANDEM_EINVAL) {
            respond_gateway_problem(req, &problem);
        } else {
            tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory decoding the request");
        }
        free(c);
        return;
    }
    c->req = req;
    set_deadline(gw, c);
    tandem_http_request_set_cancel(req, on_cancel, c);
    call_link(gw, c);
    invoke(c);
}

static void on_json_route(tandem_http_request *req, void *ctx)
{
    const json_route *r = ctx;
    TANDEM_ASSERT(req != NULL && r != NULL);
    TANDEM_ASSERT(r->gw != NULL && r->op != GATEWAY_OP_DEPLOY);
    handle_json(r->gw, req, r->op, r->key_param);
}

/* ---- deployments ---- */

/* Turns the parts into resources; false with *problem on a bad part. */
static bool collect_resources(const gateway_part *parts, size_t count, tandem_gateway_resource *res,
                              uint32_t *res_count, gateway_problem *problem)
{
    TANDEM_ASSERT(parts != NULL || count == 0);
    TANDEM_ASSERT(res != NULL && res_count != NULL && problem != NULL);
    *res_count = 0;
    for (size_t i = 0; i < count; i++) {
        const gateway_part *p = &parts[i];
        if (strcmp(p->name, "tenantId") == 0) {
            char tenant[GATEWAY_PART_NAME_SIZE_MAX];
            size_t n = p->size_bytes < sizeof(tenant) - 1 ? p->size_bytes : sizeof(tenant) - 1;
            memcpy(tenant, p->data, n);
            tenant[n] = '\0';
            if (strlen(tenant) != p->size_bytes || !gateway_tenant_ok(tenant, problem)) {
                if (strlen(tenant) != p->size_bytes) {
                    gateway_problem_invalid(problem, "The tenantId part is not a valid tenant id.");
                }
                return false;
            }
        } else if (strcmp(p->name, "resources") == 0) {
            if (!p->has_filename || p->filename[0] == '\0') {
                gateway_problem_invalid(problem,
                                        "Resource %u (multipart part %zu) has no filename: every "
                                        "resource needs one.",
                                        *res_count + 1, i + 1);
                return false;
            }
            if (*res_count == TANDEM_GATEWAY_RESOURCES_MAX) {
                gateway_problem_invalid(problem, "More than %d resources in one deployment.",
                                        TANDEM_GATEWAY_RESOURCES_MAX);
                return false;
            }
            tandem_gateway_resource *r = &res[(*res_count)++];
            r->name = p->filename;
            r->data = p->data;
            r->size_bytes = p->size_bytes;
        } /* other fields are ignored, like unknown JSON fields */
    }
    if (*res_count == 0) {
        gateway_problem_invalid(problem, "No resources provided.");
        return false;
    }
    return true;
}

/* Parses the multipart body; false when answered with an error. */
static bool parse_deployment(tandem_http_request *req, gateway_part *parts, size_t *count)
{
    TANDEM_ASSERT(req != NULL && parts != NULL && count != NULL);
    TANDEM_ASSERT(GATEWAY_PARTS_MAX > TANDEM_GATEWAY_RESOURCES_MAX);
    const char *ct = tandem_http_header_value(req, "Content-Type");
    char boundary[GATEWAY_BOUNDARY_SIZE_MAX];
    tandem_diag diag;
    tandem_diag_clear(&diag);
    if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        char detail[256];
        snprintf(detail, sizeof(detail),
                 "Content type '%.100s' is not supported; use multipart/form-data.",
                 ct != NULL ? ct : "(none)");
        tandem_http_respond_problem(req, 415, "UNSUPPORTED_MEDIA_TYPE", detail);
        return false;
    }
    int rc = gateway_multipart_boundary(ct, boundary, &diag);
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    rc = rc != TANDEM_OK
             ? rc
             : gateway_multipart_parse(body, len, boundary, parts, GATEWAY_PARTS_MAX, count, &diag);
    if (rc != TANDEM_OK) {
        gateway_problem p;
        gateway_problem_invalid(&p, "Malformed multipart request: %s.", diag.message);
        respond_gateway_problem(req, &p);
        return false;
    }
    return true;
}

static void on_deploy(tandem_http_request *req, void *ctx)
{
    tandem_gateway *gw = ctx;
    TANDEM_ASSERT(gw != NULL && req != NULL);
    TANDEM_ASSERT(!gw->closing);
    gateway_part *parts = malloc(GATEWAY_PARTS_MAX * sizeof(*parts));
    tandem_gateway_resource *res = malloc(TANDEM_GATEWAY_RESOURCES_MAX * sizeof(*res));
    size_t count = 0;
    uint32_t res_count = 0;
    gateway_problem problem;
    if (parts == NULL || res == NULL) {
        tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory");
        goto cleanup;
    }
    if (!parse_deployment(req, parts, &count)) {
        goto cleanup;
    }
    if (!collect_resources(parts, count, res, &res_count, &problem)) {
        respond_gateway_problem(req, &problem);
        goto cleanup;
    }
    tandem_gateway_call *c = call_new(gw, GATEWAY_OP_DEPLOY, req);
    if (c == NULL) {
        goto cleanup;
    }
    c->req = req;
    set_deadline(gw, c);
    tandem_http_request_set_cancel(req, on_cancel, c);
    call_link(gw, c);
    tandem_gateway_deploy_request dr = {.resources = res, .resource_count = res_count};
    c->with_backend = true;
    gw->backend.deploy(gw->backend.ctx, &dr, c);
    /* c may be freed here. */
cleanup:
    free(res);
    free(parts);
}

/* ---- cluster ---- */

static void on_topology(tandem_http_request *req, void *ctx)
{
    tandem_gateway *gw = ctx;
    TANDEM_ASSERT(gw != NULL && req != NULL);
    tandem_gateway_topology *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory");
        return;
    }
    t->last_completed_change_id = -1;
    gw->backend.topology(gw->backend.ctx, t);
    TANDEM_ASSERT(t->broker_count <= TANDEM_GATEWAY_BROKERS_MAX);
    tandem_buf body = TANDEM_BUF_INIT;
    int rc = gateway_encode_topology(&body, t, gw->version);
    respond_buf(req, 200, &body, rc);
    free(t);
}

static void on_status(tandem_http_request *req, void *ctx)
{
    tandem_gateway *gw = ctx;
    TANDEM_ASSERT(gw != NULL && req != NULL);
    TANDEM_ASSERT(gw->backend.healthy != NULL);
    if (gw->backend.healthy(gw->backend.ctx)) {
        tandem_http_respond(req, 204, NULL, NULL, 0);
    } else {
        tandem_http_respond_problem(req, 503, "UNAVAILABLE",
                                    "the broker is not ready to serve requests");
    }
}

/* ---- public ---- */

int tandem_gateway_create(uv_loop_t *loop, const tandem_gateway_config *cfg,
                          const tandem_gateway_backend *backend, tandem_gateway **out,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(loop != NULL && cfg != NULL && backend != NULL && out != NULL);
    TANDEM_ASSERT(backend->topology != NULL && backend->healthy != NULL &&
                  backend->deploy != NULL && backend->create_instance != NULL &&
                  backend->cancel_instance != NULL && backend->activate_jobs != NULL &&
                  backend->complete_job != NULL && backend->fail_job != NULL &&
                  backend->update_job != NULL && backend->resolve_incident != NULL &&
                  backend->set_variables != NULL);
    const char *version =
        cfg->gateway_version != NULL ? cfg->gateway_version : TANDEM_GATEWAY_VERSION_DEFAULT;
    if (strlen(version) == 0 || strlen(version) >= VERSION_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_ECONFIG,
                               "gateway version '%.64s' must be 1 to %d bytes", version,
                               VERSION_SIZE_MAX - 1);
    }
    tandem_gateway *gw = calloc(1, sizeof(*gw));
    if (gw == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory creating the REST gateway");
    }
    gw->loop = loop;
    gw->backend = *backend;
    gw->calls_max = cfg->calls_max != 0 ? cfg->calls_max : CALLS_MAX_DEFAULT;
    gw->long_poll_timeout_ms =
        cfg->long_poll_timeout_ms != 0 ? cfg->long_poll_timeout_ms : LONG_POLL_TIMEOUT_MS_DEFAULT;
    gw->request_timeout_ms =
        cfg->request_timeout_ms != 0 ? cfg->request_timeout_ms : REQUEST_TIMEOUT_MS_DEFAULT;
    memcpy(gw->version, version, strlen(version) + 1);
    tandem_http_config http = cfg->http;
    if (http.name == NULL) {
        http.name = "rest";
    }
    if (http.body_size_bytes_max == 0) {
        http.body_size_bytes_max = TANDEM_GATEWAY_BODY_SIZE_BYTES_DEFAULT;
    }
    int rc = tandem_http_server_create(loop, &http, &gw->http, diag);
    if (rc != TANDEM_OK) {
        free(gw);
        return rc;
    }
    static const struct {
        const char *method;
        const char *pattern;
        tandem_http_handler_fn fn;
        gateway_op op; /* for on_json_route */
        const char *key_param;
    } routes[] = {
        {"GET", "/v2/topology", on_topology, GATEWAY_OP_COUNT, NULL},
        {"GET", "/v2/status", on_status, GATEWAY_OP_COUNT, NULL},
        {"POST", "/v2/deployments", on_deploy, GATEWAY_OP_COUNT, NULL},
        {"POST", "/v2/process-instances", on_json_route, GATEWAY_OP_CREATE, NULL},
        {"POST", "/v2/process-instances/{processInstanceKey}/cancellation", on_json_route,
         GATEWAY_OP_CANCEL, "processInstanceKey"},
        /* the literal before the {jobKey} pattern of the same length */
        {"POST", "/v2/jobs/activation", on_json_route, GATEWAY_OP_ACTIVATE, NULL},
        {"POST", "/v2/jobs/{jobKey}/completion", on_json_route, GATEWAY_OP_COMPLETE, "jobKey"},
        {"POST", "/v2/jobs/{jobKey}/failure", on_json_route, GATEWAY_OP_FAIL, "jobKey"},
        {"PATCH", "/v2/jobs/{jobKey}", on_json_route, GATEWAY_OP_UPDATE, "jobKey"},
        {"POST", "/v2/incidents/{incidentKey}/resolution", on_json_route, GATEWAY_OP_RESOLVE,
         "incidentKey"},
        {"PUT", "/v2/element-instances/{elementInstanceKey}/variables", on_json_route,
         GATEWAY_OP_VARIABLES, "elementInstanceKey"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        void *route_ctx = gw;
        if (routes[i].fn == on_json_route) {
            json_route *jr = &gw->json_routes[routes[i].op];
            *jr = (json_route){gw, routes[i].op, routes[i].key_param};
            route_ctx = jr;
        }
        rc = tandem_http_route(gw->http, routes[i].method, routes[i].pattern, routes[i].fn,
                               route_ctx, diag);
        TANDEM_ASSERT(rc == TANDEM_OK); /* fixed patterns on a fresh server */
    }
    rc = uv_timer_init(loop, &gw->timer);
    TANDEM_ASSERT(rc == 0); /* uv_timer_init cannot fail */
    gw->timer.data = gw;
    *out = gw;
    return TANDEM_OK;
}

int tandem_gateway_start(tandem_gateway *gw, tandem_diag *diag)
{
    TANDEM_ASSERT(gw != NULL && gw->http != NULL);
    TANDEM_ASSERT(!gw->closing);
    return tandem_http_server_start(gw->http, diag);
}

uint16_t tandem_gateway_port(const tandem_gateway *gw)
{
    TANDEM_ASSERT(gw != NULL && gw->http != NULL);
    return tandem_http_server_port(gw->http);
}

tandem_http_server *tandem_gateway_http(tandem_gateway *gw)
{
    TANDEM_ASSERT(gw != NULL && gw->http != NULL);
    TANDEM_ASSERT(gw->calls_max > 0);
    return gw->http;
}

uint32_t tandem_gateway_calls(const tandem_gateway *gw)
{
    TANDEM_ASSERT(gw != NULL);
    TANDEM_ASSERT(gw->call_count <= gw->calls_max);
    return gw->call_count;
}

void tandem_gateway_notify_jobs_available(tandem_gateway *gw, const char *type)
{
    TANDEM_ASSERT(gw != NULL && type != NULL);
    if (gw->closing) {
        return;
    }
    /* Collect first, invoke after: an invocation may answer and free calls,
     * so the list is not walked while the backend runs. */
    tandem_gateway_call *queue = NULL;
    tandem_gateway_call **tail = &queue;
    for (tandem_gateway_call *c = gw->calls; c != NULL; c = c->next) {
        if (c->op != GATEWAY_OP_ACTIVATE || c->req == NULL || c->queued ||
            strcmp(c->dec.u.activate.type, type) != 0) {
            continue;
        }
        if (c->with_backend) {
            c->retry = true;
            continue;
        }
        c->queued = true;
        c->qnext = NULL;
        *tail = c;
        tail = &c->qnext;
    }
    while (queue != NULL) {
        tandem_gateway_call *c = queue;
        queue = c->qnext;
        c->queued = false;
        c->qnext = NULL;
        TANDEM_ASSERT(c->req != NULL && !c->with_backend);
        invoke(c);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    tandem_gateway *gw = h->data;
    TANDEM_ASSERT(gw != NULL && gw->timer_closing);
    TANDEM_ASSERT(gw->call_count == 0 && gw->http == NULL);
    tandem_http_close_fn cb = gw->close_cb;
    void *data = gw->close_data;
    free(gw);
    if (cb != NULL) {
        cb(data);
    }
}

static void finish_close_maybe(tandem_gateway *gw)
{
    TANDEM_ASSERT(gw != NULL);
    TANDEM_ASSERT(gw->call_count == 0 || gw->calls != NULL);
    if (gw->closing && gw->http == NULL && gw->call_count == 0 && !gw->timer_closing) {
        gw->timer_closing = true;
        uv_close((uv_handle_t *)&gw->timer, on_timer_closed);
    }
}

static void on_http_closed(void *data)
{
    tandem_gateway *gw = data;
    TANDEM_ASSERT(gw != NULL && gw->closing);
    TANDEM_ASSERT(gw->http != NULL && !gw->timer_closing);
    gw->http = NULL;
    finish_close_maybe(gw);
}

void tandem_gateway_close(tandem_gateway *gw, tandem_http_close_fn cb, void *data)
{
    TANDEM_ASSERT(gw != NULL && gw->http != NULL);
    TANDEM_ASSERT(!gw->closing);
    gw->closing = true;
    gw->close_cb = cb;
    gw->close_data = data;
    tandem_http_server_close(gw->http, on_http_closed, gw);
}

/* ---- answers from the backend ---- */

static tandem_http_request *backend_answered(tandem_gateway_call *c, gateway_op op)
{
    TANDEM_ASSERT(c != NULL && c->with_backend);
    TANDEM_ASSERT(c->op == op || op == GATEWAY_OP_COUNT);
    c->with_backend = false;
    return take_req(c);
}

void tandem_gateway_complete_deploy(tandem_gateway_call *c, const tandem_gateway_deployment *d)
{
    TANDEM_ASSERT(c != NULL && d != NULL);
    TANDEM_ASSERT(d->processes != NULL || d->process_count == 0);
    tandem_http_request *req = backend_answered(c, GATEWAY_OP_DEPLOY);
    if (req != NULL) {
        tandem_buf body = TANDEM_BUF_INIT;
        int rc = gateway_encode_deployment(&body, d);
        respond_buf(req, 200, &body, rc);
    }
    call_done(c);
}

void tandem_gateway_complete_create(tandem_gateway_call *c, const tandem_gateway_instance *pi)
{
    TANDEM_ASSERT(c != NULL && pi != NULL);
    TANDEM_ASSERT(pi->process_definition_id != NULL);
    tandem_http_request *req = backend_answered(c, GATEWAY_OP_CREATE);
    if (req != NULL) {
        tandem_buf body = TANDEM_BUF_INIT;
        int rc = gateway_encode_instance(&body, pi);
        respond_buf(req, 200, &body, rc);
    }
    call_done(c);
}

void tandem_gateway_complete_empty(tandem_gateway_call *c)
{
    TANDEM_ASSERT(c != NULL);
    TANDEM_ASSERT(c->op == GATEWAY_OP_CANCEL || c->op == GATEWAY_OP_COMPLETE ||
                  c->op == GATEWAY_OP_FAIL || c->op == GATEWAY_OP_UPDATE ||
                  c->op == GATEWAY_OP_RESOLVE || c->op == GATEWAY_OP_VARIABLES);
    tandem_http_request *req = backend_answered(c, c->op);
    if (req != NULL) {
        tandem_http_respond(req, 204, NULL, NULL, 0);
    }
    call_done(c);
}

void tandem_gateway_complete_activation(tandem_gateway_call *c, const tandem_gateway_job *jobs,
                                        size_t count)
{
    TANDEM_ASSERT(c != NULL && c->op == GATEWAY_OP_ACTIVATE && c->with_backend);
    TANDEM_ASSERT(jobs != NULL || count == 0);
    c->with_backend = false;
    bool wait = c->req != NULL && count == 0 && c->long_poll && !c->expired && !c->gw->closing;
    if (!wait) {
        /* Jobs whose request is gone (shutdown) go back to the engine when
         * their activation times out. */
        answer_jobs(c, jobs, count);
        call_done(c);
        return;
    }
    if (c->retry) {
        c->retry = false;
        invoke(c); /* jobs were announced while this activation ran */
    }              /* else it waits for a notify or its deadline */
}

void tandem_gateway_reject(tandem_gateway_call *c, tandem_gateway_rejection type,
                           const char *intent, const char *reason)
{
    TANDEM_ASSERT(c != NULL && intent != NULL && reason != NULL);
    TANDEM_ASSERT(c->op != GATEWAY_OP_COUNT);
    tandem_http_request *req = backend_answered(c, GATEWAY_OP_COUNT);
    if (req != NULL) {
        const char *name = tandem_gateway_rejection_name(type);
        char detail[GATEWAY_DETAIL_SIZE_MAX];
        snprintf(detail, sizeof(detail), "Command '%s' rejected with code '%s': %s", intent, name,
                 reason);
        tandem_http_respond_problem(req, tandem_gateway_rejection_status(type), name, detail);
    }
    call_done(c);
}

void tandem_gateway_fail(tandem_gateway_call *c, unsigned status, const char *title,
                         const char *detail)
{
    TANDEM_ASSERT(status >= 400 && status <= 599);
    TANDEM_ASSERT(title != NULL);
    tandem_http_request *req = backend_answered(c, GATEWAY_OP_COUNT);
    if (req != NULL) {
        tandem_http_respond_problem(req, status, title, detail);
    }
    call_done(c);
}

const char *tandem_gateway_rejection_name(tandem_gateway_rejection type)
{
    switch (type) {
    case TANDEM_GATEWAY_INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case TANDEM_GATEWAY_NOT_FOUND:
        return "NOT_FOUND";
    case TANDEM_GATEWAY_ALREADY_EXISTS:
        return "ALREADY_EXISTS";
    case TANDEM_GATEWAY_INVALID_STATE:
        return "INVALID_STATE";
    case TANDEM_GATEWAY_UNAUTHORIZED:
        return "UNAUTHORIZED";
    case TANDEM_GATEWAY_FORBIDDEN:
        return "FORBIDDEN";
    case TANDEM_GATEWAY_PROCESSING_ERROR:
        return "PROCESSING_ERROR";
    case TANDEM_GATEWAY_EXCEEDED_BATCH_RECORD_SIZE:
        return "EXCEEDED_BATCH_RECORD_SIZE";
    }
    TANDEM_UNREACHABLE();
}

unsigned tandem_gateway_rejection_status(tandem_gateway_rejection type)
{
    switch (type) {
    case TANDEM_GATEWAY_INVALID_ARGUMENT:
        return 400;
    case TANDEM_GATEWAY_NOT_FOUND:
        return 404;
    case TANDEM_GATEWAY_ALREADY_EXISTS:
    case TANDEM_GATEWAY_INVALID_STATE:
        return 409;
    case TANDEM_GATEWAY_UNAUTHORIZED:
        return 401;
    case TANDEM_GATEWAY_FORBIDDEN:
        return 403;
    case TANDEM_GATEWAY_PROCESSING_ERROR:
    case TANDEM_GATEWAY_EXCEEDED_BATCH_RECORD_SIZE:
        return 500;
    }
    TANDEM_UNREACHABLE();
}
