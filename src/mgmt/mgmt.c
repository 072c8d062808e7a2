#include "mgmt/mgmt.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"

#define COMPONENT_NAME_SIZE_MAX 64

static const char json_type[] = "application/json";
static const char prometheus_type[] = "text/plain; version=0.0.4; charset=utf-8";

typedef struct component {
    char name[COMPONENT_NAME_SIZE_MAX];
    tandem_mgmt_health_fn fn;
    void *ctx;
} component;

struct tandem_mgmt {
    tandem_http_server *http;
    tandem_metrics *metrics;
    atomic_bool ready;
    bool started;
    component components[TANDEM_MGMT_COMPONENTS_MAX];
    uint32_t component_count;
    tandem_http_close_fn close_cb;
    void *close_data;
};

/* A document could not be built: tell the client rather than hang it. */
static void respond_oom(tandem_http_request *req)
{
    TANDEM_ASSERT(req != NULL);
    tandem_http_respond_problem(req, 500, "INTERNAL", "out of memory building the answer");
}

static int put_str(tandem_buf *b, const char *s)
{
    return tandem_buf_append(b, s, strlen(s));
}

static void on_health(tandem_http_request *req, void *ctx)
{
    tandem_mgmt *m = ctx;
    TANDEM_ASSERT(m != NULL && req != NULL);
    TANDEM_ASSERT(m->component_count <= TANDEM_MGMT_COMPONENTS_MAX);
    tandem_health states[TANDEM_MGMT_COMPONENTS_MAX];
    char details[TANDEM_MGMT_COMPONENTS_MAX][TANDEM_MGMT_DETAIL_SIZE_MAX];
    bool up = true;
    for (uint32_t i = 0; i < m->component_count; i++) {
        details[i][0] = '\0';
        states[i] = m->components[i].fn(m->components[i].ctx, details[i], sizeof(details[i]));
        details[i][TANDEM_MGMT_DETAIL_SIZE_MAX - 1] = '\0'; /* whatever the callback did */
        up = up && states[i] == TANDEM_HEALTH_UP;
    }
    tandem_buf body = TANDEM_BUF_INIT;
    int rc = put_str(&body, up ? "{\"status\":\"UP\"" : "{\"status\":\"DOWN\"");
    if (m->component_count > 0) {
        rc = rc != TANDEM_OK ? rc : put_str(&body, ",\"components\":{");
    }
    for (uint32_t i = 0; rc == TANDEM_OK && i < m->component_count; i++) {
        rc = put_str(&body, i > 0 ? "," : "");
        rc = rc != TANDEM_OK ? rc : tandem_http_json_string(&body, m->components[i].name);
        rc = rc != TANDEM_OK
                 ? rc
                 : put_str(&body, states[i] == TANDEM_HEALTH_UP ? ":{\"status\":\"UP\""
                                                                : ":{\"status\":\"DOWN\"");
        if (details[i][0] != '\0') {
            rc = rc != TANDEM_OK ? rc : put_str(&body, ",\"details\":{\"message\":");
            rc = rc != TANDEM_OK ? rc : tandem_http_json_string(&body, details[i]);
            rc = rc != TANDEM_OK ? rc : put_str(&body, "}");
        }
        rc = rc != TANDEM_OK ? rc : put_str(&body, "}");
    }
    if (m->component_count > 0) {
        rc = rc != TANDEM_OK ? rc : put_str(&body, "}");
    }
    rc = rc != TANDEM_OK ? rc : put_str(&body, "}");
    if (rc == TANDEM_OK) {
        tandem_http_respond(req, up ? 200 : 503, json_type, body.data, body.len);
    } else {
        respond_oom(req);
    }
    tandem_buf_free(&body);
}

static void on_liveness(tandem_http_request *req, void *ctx)
{
    TANDEM_ASSERT(req != NULL && ctx != NULL);
    TANDEM_ASSERT(((tandem_mgmt *)ctx)->http != NULL);
    static const char up[] = "{\"status\":\"UP\"}";
    tandem_http_respond(req, 200, json_type, up, sizeof(up) - 1);
}

static void on_readiness(tandem_http_request *req, void *ctx)
{
    tandem_mgmt *m = ctx;
    TANDEM_ASSERT(req != NULL && m != NULL);
    TANDEM_ASSERT(m->http != NULL);
    static const char up[] = "{\"status\":\"UP\"}";
    static const char out[] = "{\"status\":\"OUT_OF_SERVICE\"}";
    if (atomic_load(&m->ready)) {
        tandem_http_respond(req, 200, json_type, up, sizeof(up) - 1);
    } else {
        tandem_http_respond(req, 503, json_type, out, sizeof(out) - 1);
    }
}

static void on_prometheus(tandem_http_request *req, void *ctx)
{
    tandem_mgmt *m = ctx;
    TANDEM_ASSERT(req != NULL && m != NULL);
    TANDEM_ASSERT(m->metrics != NULL);
    tandem_buf text = TANDEM_BUF_INIT;
    if (tandem_metrics_render(m->metrics, &text) == TANDEM_OK) {
        tandem_http_respond(req, 200, prometheus_type, text.data, text.len);
    } else {
        respond_oom(req);
    }
    tandem_buf_free(&text);
}

int tandem_mgmt_create(uv_loop_t *loop, const tandem_mgmt_config *cfg, tandem_mgmt **out,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(loop != NULL && cfg != NULL && out != NULL);
    TANDEM_ASSERT(cfg->metrics != NULL);
    tandem_mgmt *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory creating the management API");
    }
    m->metrics = cfg->metrics;
    atomic_init(&m->ready, false);
    tandem_http_config http = cfg->http;
    if (http.name == NULL) {
        http.name = "management";
    }
    if (http.metrics == NULL) {
        http.metrics = cfg->metrics; /* the server's own metrics go to the same registry */
    }
    int rc = tandem_http_server_create(loop, &http, &m->http, diag);
    if (rc != TANDEM_OK) {
        free(m);
        return rc;
    }
    static const struct {
        const char *pattern;
        tandem_http_handler_fn fn;
    } builtin[] = {
        {"/actuator/health", on_health},
        {"/actuator/health/liveness", on_liveness},
        {"/actuator/health/readiness", on_readiness},
        {"/actuator/prometheus", on_prometheus},
    };
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        rc = tandem_http_route(m->http, "GET", builtin[i].pattern, builtin[i].fn, m, diag);
        /* Fixed, well-formed patterns on a fresh server: failing is a bug here. */
        TANDEM_ASSERT(rc == TANDEM_OK);
    }
    *out = m;
    return TANDEM_OK;
}

static bool valid_component_name(const char *name)
{
    TANDEM_ASSERT(name != NULL);
    size_t len = strlen(name);
    if (len == 0 || len >= COMPONENT_NAME_SIZE_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

int tandem_mgmt_add_health(tandem_mgmt *m, const char *name, tandem_mgmt_health_fn fn, void *ctx,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(m != NULL && name != NULL);
    TANDEM_ASSERT(fn != NULL);
    if (m->started) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "health component \"%s\" added after the management API started",
                               name);
    }
    if (!valid_component_name(name)) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "health component name \"%s\" must be 1 to %d of [a-zA-Z0-9_-]",
                               name, COMPONENT_NAME_SIZE_MAX - 1);
    }
    for (uint32_t i = 0; i < m->component_count; i++) {
        if (strcmp(m->components[i].name, name) == 0) {
            return tandem_diag_set(diag, TANDEM_EEXIST,
                                   "health component \"%s\" is already registered", name);
        }
    }
    if (m->component_count == TANDEM_MGMT_COMPONENTS_MAX) {
        return tandem_diag_set(diag, TANDEM_EFULL, "more than %d health components",
                               TANDEM_MGMT_COMPONENTS_MAX);
    }
    component *c = &m->components[m->component_count++];
    memcpy(c->name, name, strlen(name) + 1);
    c->fn = fn;
    c->ctx = ctx;
    return TANDEM_OK;
}

int tandem_mgmt_route(tandem_mgmt *m, const char *method, const char *pattern,
                      tandem_http_handler_fn fn, void *ctx, tandem_diag *diag)
{
    TANDEM_ASSERT(m != NULL && m->http != NULL);
    TANDEM_ASSERT(method != NULL && pattern != NULL);
    return tandem_http_route(m->http, method, pattern, fn, ctx, diag);
}

void tandem_mgmt_set_ready(tandem_mgmt *m, bool ready)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(m->http != NULL); /* not after close */
    bool was = atomic_exchange(&m->ready, ready);
    if (was != ready) {
        tandem_log(TANDEM_LOG_INFO, "broker readiness changed", "ready", ready ? "true" : "false",
                   NULL);
    }
}

bool tandem_mgmt_ready(const tandem_mgmt *m)
{
    TANDEM_ASSERT(m != NULL);
    return atomic_load(&((tandem_mgmt *)(uintptr_t)m)->ready);
}

int tandem_mgmt_start(tandem_mgmt *m, tandem_diag *diag)
{
    TANDEM_ASSERT(m != NULL && m->http != NULL);
    TANDEM_ASSERT(!m->started);
    int rc = tandem_http_server_start(m->http, diag);
    m->started = rc == TANDEM_OK;
    return rc;
}

uint16_t tandem_mgmt_port(const tandem_mgmt *m)
{
    TANDEM_ASSERT(m != NULL && m->http != NULL);
    return tandem_http_server_port(m->http);
}

tandem_http_server *tandem_mgmt_http(tandem_mgmt *m)
{
    TANDEM_ASSERT(m != NULL && m->http != NULL);
    return m->http;
}

static void on_http_closed(void *data)
{
    tandem_mgmt *m = data;
    TANDEM_ASSERT(m != NULL && m->http == NULL);
    tandem_http_close_fn cb = m->close_cb;
    void *cb_data = m->close_data;
    free(m);
    if (cb != NULL) {
        cb(cb_data);
    }
}

void tandem_mgmt_close(tandem_mgmt *m, tandem_http_close_fn cb, void *data)
{
    TANDEM_ASSERT(m != NULL && m->http != NULL);
    TANDEM_ASSERT(m->close_cb == NULL && m->close_data == NULL);
    m->close_cb = cb;
    m->close_data = data;
    tandem_http_server *http = m->http;
    m->http = NULL;
    tandem_http_server_close(http, on_http_closed, m);
}
