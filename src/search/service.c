/*
 * The read endpoints on the REST server. A request is taken on the loop
 * thread (path key and query parameters checked there), run on the libuv
 * thread pool, and answered back on the loop thread, so a slow query never
 * holds the loop.
 *
 * Each pool thread borrows a read-only SQLite connection from a small pool
 * (SQLite's WAL mode lets these readers run beside the exporter's writer).
 * A connection is opened on first use, so the store file may appear after
 * the broker starts; until it does, searches are empty and GETs are 404.
 * Work in flight is bounded by inflight_max; beyond it the answer is 503
 * RESOURCE_EXHAUSTED, like every other full queue of the broker.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/assert.h"
#include "base/log.h"
#include "search/search_int.h"

#define POOL_SIZE            8 /* connections kept open; more threads open their own */
#define INFLIGHT_MAX_DEFAULT 256
#define BUSY_TIMEOUT_MS      1000
#define ROUTE_COUNT          13

typedef struct route {
    tandem_search_service *s;
    tandem_search_op op;
    tandem_search_entity entity;
    const char *key_param; /* NULL when the path has no key */
    bool scoped;           /* the key scopes a search (incidents of an instance) */
} route;

/* One pooled connection and the file it was opened on: a store replaced
 * or removed (an operator restoring a copy) is noticed by its inode, so a
 * connection never keeps reading a file that is no longer the store. */
typedef struct conn {
    sqlite3 *db; /* NULL: not open */
    dev_t dev;
    ino_t ino;
} conn;

struct tandem_search_service {
    uv_loop_t *loop;
    char *path;
    uint32_t inflight;
    uint32_t inflight_max;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
    pthread_mutex_t mu; /* guards conns and busy */
    conn conns[POOL_SIZE];
    bool busy[POOL_SIZE];
    route routes[ROUTE_COUNT];
};

typedef struct search_work {
    uv_work_t work;
    tandem_search_service *s;
    tandem_http_request *req; /* NULL once cancelled */
    tandem_search_request sreq;
    char *body;
    tandem_search_response resp;
} search_work;

/* ---- connections (pool threads) ---- */

/* Makes c current for the file at path: opened read-only on first use,
 * reopened when the file changed, closed (db NULL) when there is no file.
 * SQLite's code, or SQLITE_OK. */
static int conn_refresh(conn *c, const char *path)
{
    TANDEM_ASSERT(c != NULL && path != NULL);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (c->db != NULL && (!exists || st.st_dev != c->dev || st.st_ino != c->ino)) {
        sqlite3_close(c->db);
        c->db = NULL;
    }
    if (c->db != NULL || !exists) {
        return SQLITE_OK;
    }
    int src = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        sqlite3_close(c->db);
        c->db = NULL;
        return src;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    TANDEM_ASSERT(c->db != NULL);
    return SQLITE_OK;
}

/* A slot of the pool, or -1 when all are busy. */
static int slot_take(tandem_search_service *s)
{
    TANDEM_ASSERT(s != NULL);
    int slot = -1;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < POOL_SIZE && slot < 0; i++) {
        if (!s->busy[i]) {
            s->busy[i] = true;
            slot = i;
        }
    }
    pthread_mutex_unlock(&s->mu);
    TANDEM_ASSERT(slot < POOL_SIZE);
    return slot;
}

static void slot_give(tandem_search_service *s, int slot)
{
    TANDEM_ASSERT(s != NULL && slot >= 0 && slot < POOL_SIZE);
    pthread_mutex_lock(&s->mu);
    TANDEM_ASSERT(s->busy[slot]);
    s->busy[slot] = false;
    pthread_mutex_unlock(&s->mu);
}

static void on_work(uv_work_t *w)
{
    search_work *sw = w->data;
    TANDEM_ASSERT(sw != NULL && &sw->work == w);
    tandem_search_service *s = sw->s;
    int slot = slot_take(s);
    conn temp = {NULL, 0, 0};
    conn *c = slot >= 0 ? &s->conns[slot] : &temp; /* the slot is ours while busy */
    int src = conn_refresh(c, s->path);
    if (src != SQLITE_OK) {
        memset(&sw->resp, 0, sizeof(sw->resp));
        sw->resp.status = 503;
        sw->resp.title = "UNAVAILABLE";
        snprintf(sw->resp.detail, sizeof(sw->resp.detail), "The store cannot be opened: %s.",
                 sqlite3_errstr(src));
    } else {
        tandem_search_execute(c->db, &sw->sreq, &sw->resp);
    }
    if (slot >= 0) {
        slot_give(s, slot);
    } else {
        sqlite3_close(temp.db);
    }
    TANDEM_ASSERT(sw->resp.status >= 200);
}

/* ---- the loop side ---- */

static void service_free(tandem_search_service *s)
{
    TANDEM_ASSERT(s != NULL && s->closing);
    TANDEM_ASSERT(s->inflight == 0);
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    for (int i = 0; i < POOL_SIZE; i++) {
        TANDEM_ASSERT(!s->busy[i]);
        sqlite3_close(s->conns[i].db);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
    if (cb != NULL) {
        cb(data);
    }
}

static void on_cancel(tandem_http_request *req, void *data)
{
    search_work *sw = data;
    TANDEM_ASSERT(sw != NULL && sw->req == req);
    TANDEM_ASSERT(sw->s->inflight > 0);
    sw->req = NULL; /* the server answers; the work finishes on its own */
}

static void on_after_work(uv_work_t *w, int status)
{
    search_work *sw = w->data;
    TANDEM_ASSERT(sw != NULL && &sw->work == w);
    tandem_search_service *s = sw->s;
    TANDEM_ASSERT(s->inflight > 0);
    (void)status; /* not cancellable: uv_cancel is never called */
    tandem_http_request *req = sw->req;
    if (req != NULL) {
        tandem_http_request_set_cancel(req, NULL, NULL);
        const tandem_search_response *r = &sw->resp;
        if (r->status >= 400) {
            tandem_http_respond_problem(req, r->status, r->title, r->detail);
        } else {
            tandem_http_respond(req, r->status, r->content_type, r->body.data, r->body.len);
        }
    }
    tandem_search_response_free(&sw->resp);
    free(sw->body);
    free(sw);
    s->inflight--;
    if (s->closing && s->inflight == 0) {
        service_free(s);
    }
}

static void on_request(tandem_http_request *req, void *ctx)
{
    TANDEM_ASSERT(((route *)ctx)->key_param != NULL || !((route *)ctx)->scoped);
    route *r = ctx;
    TANDEM_ASSERT(r != NULL && r->s != NULL && req != NULL);
    tandem_search_service *s = r->s;
    tandem_search_request sreq = {.op = r->op, .entity = r->entity, .truncate_values = true};
    if (s->closing) {
        tandem_http_respond_problem(req, 503, "UNAVAILABLE", "The read API is shutting down.");
        return;
    }
    if (r->key_param != NULL) {
        const char *text = tandem_http_param(req, r->key_param);
        int64_t key = 0;
        if (text == NULL || search_key_parse(text, &key) != TANDEM_OK) {
            char detail[256];
            snprintf(detail, sizeof(detail),
                     "The value for %s is '%.64s' but must be a key: a number as a string.",
                     r->key_param, text != NULL ? text : "");
            tandem_http_respond_problem(req, 400, "INVALID_ARGUMENT", detail);
            return;
        }
        sreq.key = key;
        sreq.has_process_scope = r->scoped;
        sreq.process_scope = key;
    }
    const char *truncate = NULL;
    if (r->entity == TANDEM_SEARCH_VARIABLE && r->op == TANDEM_SEARCH_QUERY &&
        tandem_http_query(req, "truncateValues", &truncate) == TANDEM_OK) {
        if (strcmp(truncate, "true") != 0 && strcmp(truncate, "false") != 0) {
            tandem_http_respond_problem(req, 400, "INVALID_ARGUMENT",
                                        "The value for truncateValues must be true or false.");
            return;
        }
        sreq.truncate_values = strcmp(truncate, "true") == 0;
    }
    if (s->inflight >= s->inflight_max) {
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED",
                                    "Too many searches are running; try again shortly.");
        return;
    }
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    if (len > TANDEM_SEARCH_BODY_SIZE_BYTES_MAX) {
        char detail[128];
        snprintf(detail, sizeof(detail), "The search body has %zu bytes; at most %u are allowed.",
                 len, TANDEM_SEARCH_BODY_SIZE_BYTES_MAX);
        tandem_http_respond_problem(req, 413, "PAYLOAD_TOO_LARGE", detail);
        return;
    }
    search_work *sw = calloc(1, sizeof(*sw));
    char *copy = len > 0 ? malloc(len) : NULL;
    if (sw == NULL || (len > 0 && copy == NULL)) {
        free(sw);
        free(copy);
        tandem_http_respond_problem(req, 500, "INTERNAL", "Out of memory taking the search.");
        return;
    }
    if (len > 0) {
        memcpy(copy, body, len);
    }
    sw->s = s;
    sw->req = req;
    sw->body = copy;
    sw->sreq = sreq;
    sw->sreq.body = copy;
    sw->sreq.body_len = len;
    sw->work.data = sw;
    int urc = uv_queue_work(s->loop, &sw->work, on_work, on_after_work);
    if (urc != 0) {
        free(copy);
        free(sw);
        tandem_http_respond_problem(req, 503, "UNAVAILABLE", uv_strerror(urc));
        return;
    }
    s->inflight++;
    tandem_http_request_set_cancel(req, on_cancel, sw);
}

/* ---- public ---- */

int tandem_search_service_create(uv_loop_t *loop, const char *store_path, uint32_t inflight_max,
                                 tandem_search_service **out, tandem_diag *diag)
{
    TANDEM_ASSERT(loop != NULL && out != NULL);
    if (store_path == NULL || store_path[0] == '\0') {
        return tandem_diag_set(diag, TANDEM_EINVAL, "the store path of the read API is empty");
    }
    tandem_search_service *s = calloc(1, sizeof(*s));
    char *path = strdup(store_path);
    if (s == NULL || path == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        free(path);
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory creating the read API");
    }
    s->loop = loop;
    s->path = path;
    s->inflight_max = inflight_max != 0 ? inflight_max : INFLIGHT_MAX_DEFAULT;
    *out = s;
    TANDEM_ASSERT(s->inflight == 0 && !s->closing);
    return TANDEM_OK;
}

int tandem_search_service_routes(tandem_search_service *s, tandem_http_server *http,
                                 tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && http != NULL);
    TANDEM_ASSERT(!s->closing);
    static const struct {
        const char *method;
        const char *pattern;
        tandem_search_op op;
        tandem_search_entity entity;
        const char *key_param;
        bool scoped;
    } table[ROUTE_COUNT] = {
        {"POST", "/v2/process-instances/search", TANDEM_SEARCH_QUERY,
         TANDEM_SEARCH_PROCESS_INSTANCE, NULL, false},
        {"GET", "/v2/process-instances/{processInstanceKey}", TANDEM_SEARCH_GET,
         TANDEM_SEARCH_PROCESS_INSTANCE, "processInstanceKey", false},
        {"POST", "/v2/process-instances/{processInstanceKey}/incidents/search", TANDEM_SEARCH_QUERY,
         TANDEM_SEARCH_INCIDENT, "processInstanceKey", true},
        {"POST", "/v2/process-definitions/search", TANDEM_SEARCH_QUERY,
         TANDEM_SEARCH_PROCESS_DEFINITION, NULL, false},
        {"GET", "/v2/process-definitions/{processDefinitionKey}", TANDEM_SEARCH_GET,
         TANDEM_SEARCH_PROCESS_DEFINITION, "processDefinitionKey", false},
        {"GET", "/v2/process-definitions/{processDefinitionKey}/xml", TANDEM_SEARCH_GET_XML,
         TANDEM_SEARCH_PROCESS_DEFINITION, "processDefinitionKey", false},
        {"POST", "/v2/element-instances/search", TANDEM_SEARCH_QUERY,
         TANDEM_SEARCH_ELEMENT_INSTANCE, NULL, false},
        {"GET", "/v2/element-instances/{elementInstanceKey}", TANDEM_SEARCH_GET,
         TANDEM_SEARCH_ELEMENT_INSTANCE, "elementInstanceKey", false},
        {"POST", "/v2/variables/search", TANDEM_SEARCH_QUERY, TANDEM_SEARCH_VARIABLE, NULL, false},
        {"GET", "/v2/variables/{variableKey}", TANDEM_SEARCH_GET, TANDEM_SEARCH_VARIABLE,
         "variableKey", false},
        {"POST", "/v2/incidents/search", TANDEM_SEARCH_QUERY, TANDEM_SEARCH_INCIDENT, NULL, false},
        {"GET", "/v2/incidents/{incidentKey}", TANDEM_SEARCH_GET, TANDEM_SEARCH_INCIDENT,
         "incidentKey", false},
        {"POST", "/v2/jobs/search", TANDEM_SEARCH_QUERY, TANDEM_SEARCH_JOB, NULL, false},
    };
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        s->routes[i] =
            (route){s, table[i].op, table[i].entity, table[i].key_param, table[i].scoped};
        int rc = tandem_http_route(http, table[i].method, table[i].pattern, on_request,
                                   &s->routes[i], diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    return TANDEM_OK;
}

uint32_t tandem_search_service_inflight(const tandem_search_service *s)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(s->inflight <= s->inflight_max);
    return s->inflight;
}

void tandem_search_service_close(tandem_search_service *s, void (*cb)(void *data), void *data)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    if (s->inflight == 0) {
        service_free(s);
    }
}
