/*
 * The read endpoints over HTTP: the routes on a real server, the store file
 * appearing after start, problem+json for bad keys and unknown keys, the
 * XML content type, the bound on searches in flight, and closing while a
 * search is still with the thread pool.
 */
#include <jansson.h>
#include <sqlite3.h>

#include "base/error.h"
#include "export/store.h"
#include "mgmt/http.h"
#include "search/search.h"
#include "test.h"
#include "test_http_client.h"

typedef struct fixture {
    uv_loop_t loop;
    tandem_http_server *http;
    tandem_search_service *search;
    uint16_t port;
    char store_path[512];
    bool http_closed;
    bool search_closed;
} fixture;

static void fixture_open(fixture *f, uint32_t inflight_max)
{
    memset(f, 0, sizeof(*f));
    CHECK(uv_loop_init(&f->loop) == 0);
    snprintf(f->store_path, sizeof(f->store_path), "%s/store.sqlite", test_tmpdir());
    tandem_http_config cfg = {
        .name = "rest", .host = "127.0.0.1", .body_size_bytes_max = 4u * 1024u * 1024u};
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_OK(tandem_http_server_create(&f->loop, &cfg, &f->http, &d));
    CHECK_OK(tandem_search_service_create(&f->loop, f->store_path, inflight_max, &f->search, &d));
    CHECK_OK(tandem_search_service_routes(f->search, f->http, &d));
    int rc = tandem_http_server_start(f->http, &d);
    CHECK_MSG(rc == TANDEM_OK, "start: %s", tandem_diag_text(&d));
    f->port = tandem_http_server_port(f->http);
}

static void on_search_closed(void *data)
{
    fixture *f = data;
    f->search_closed = true;
}

/* As the broker: the read API closes once the server can reach it no more. */
static void on_http_closed(void *data)
{
    fixture *f = data;
    f->http_closed = true;
    tandem_search_service_close(f->search, on_search_closed, f);
}

static void fixture_close(fixture *f)
{
    tandem_http_server_close(f->http, on_http_closed, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK(f->http_closed && f->search_closed);
    CHECK(uv_loop_close(&f->loop) == 0);
}

static void call(fixture *f, http_call *c, const char *method, const char *path, const char *body)
{
    http_call_start(c, f->port,
                    "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                    method, path, strlen(body), body);
    http_run_until_done(&f->loop, c, 1);
}

static json_t *reply_json(const http_call *c)
{
    json_t *doc = json_loads(http_body(c), 0, NULL);
    CHECK_MSG(doc != NULL, "not JSON: %s", http_body(c));
    return doc;
}

/* A request with a body larger than the test client's buffer: written and
 * read on its own thread while the test thread runs the loop. */
typedef struct big_call {
    uint16_t port;
    pthread_t thread;
    char *reply;
    atomic_bool finished;
} big_call;

static void *big_call_main(void *arg)
{
    big_call *bc = arg;
    size_t big = TANDEM_SEARCH_BODY_SIZE_BYTES_MAX + 10;
    char *raw = malloc(big + 256);
    CHECK(raw != NULL);
    int n = snprintf(raw, 256,
                     "POST /v2/jobs/search HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     big);
    memset(raw + n, ' ', big);
    int fd = http_connect(bc->port);
    http_send_all(fd, raw, (size_t)n + big);
    size_t len = 0;
    bc->reply = http_read_all(fd, &len);
    close(fd);
    free(raw);
    atomic_store(&bc->finished, true);
    return NULL;
}

static void test_routes_and_late_store(void)
{
    fixture f;
    fixture_open(&f, 0);
    http_call c;
    char ct[128];
    /* No store file yet: empty pages, 404s. */
    call(&f, &c, "POST", "/v2/process-instances/search", "");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("application/json", http_reply_header(&c, "Content-Type", ct, sizeof(ct)));
    CHECK_CONTAINS(http_body(&c), "\"totalItems\":0");
    http_call_free(&c);
    call(&f, &c, "GET", "/v2/incidents/77", "");
    CHECK_EQ_U64(404, c.status);
    CHECK_STREQ("application/problem+json", http_reply_header(&c, "Content-Type", ct, sizeof(ct)));
    CHECK_CONTAINS(http_body(&c), "Incident with key '77' not found.");
    CHECK_CONTAINS(http_body(&c), "\"instance\":\"/v2/incidents/77\"");
    http_call_free(&c);
    call(&f, &c, "GET", "/v2/process-instances/7x", "");
    CHECK_EQ_U64(400, c.status);
    CHECK_CONTAINS(http_body(&c), "processInstanceKey is '7x'");
    http_call_free(&c);
    call(&f, &c, "POST", "/v2/variables/search?truncateValues=yes", "{}");
    CHECK_EQ_U64(400, c.status);
    CHECK_CONTAINS(http_body(&c), "truncateValues");
    http_call_free(&c);
    call(&f, &c, "POST", "/v2/jobs/search", "{\"filter\":{\"colour\":\"red\"}}");
    CHECK_EQ_U64(400, c.status);
    CHECK_CONTAINS(http_body(&c), "'colour'");
    http_call_free(&c);
    /* A search body over the limit (the server's own limit is larger). */
    big_call bc = {.port = f.port};
    CHECK(pthread_create(&bc.thread, NULL, big_call_main, &bc) == 0);
    while (!atomic_load(&bc.finished)) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    CHECK(pthread_join(bc.thread, NULL) == 0);
    CHECK_CONTAINS(bc.reply, "HTTP/1.1 413");
    CHECK_CONTAINS(bc.reply, "at most 1048576 are allowed");
    free(bc.reply);
    /* The exporter creates the store later: the next request sees it. */
    tandem_store *store = NULL;
    tandem_diag d;
    CHECK_OK(tandem_store_open(f.store_path, false, &store, &d));
    CHECK(sqlite3_exec(tandem_store_db(store),
                       "INSERT INTO process_definition VALUES(5,'p','P',1,NULL,'p.bpmn',"
                       "'<default>','<definitions/>',1,1);"
                       "INSERT INTO incident VALUES(77,'JOB_NO_RETRIES','m','a',4,3,5,'p',NULL,"
                       "'ACTIVE',0,'<default>',2);",
                       NULL, NULL, NULL) == SQLITE_OK);
    call(&f, &c, "GET", "/v2/incidents/77", "");
    CHECK_EQ_U64(200, c.status);
    json_t *doc = reply_json(&c);
    CHECK_STREQ("77", json_string_value(json_object_get(doc, "incidentKey")));
    CHECK_STREQ("1970-01-01T00:00:00.000Z",
                json_string_value(json_object_get(doc, "creationTime")));
    json_decref(doc);
    http_call_free(&c);
    call(&f, &c, "POST", "/v2/process-instances/3/incidents/search", "{}");
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"totalItems\":1");
    http_call_free(&c);
    call(&f, &c, "POST", "/v2/process-instances/4/incidents/search", "{}");
    CHECK_CONTAINS(http_body(&c), "\"totalItems\":0");
    http_call_free(&c);
    call(&f, &c, "GET", "/v2/process-definitions/5/xml", "");
    CHECK_EQ_U64(200, c.status);
    CHECK_STREQ("text/xml", http_reply_header(&c, "Content-Type", ct, sizeof(ct)));
    CHECK_STREQ("<definitions/>", http_body(&c));
    http_call_free(&c);
    /* The writer goes away (its WAL files with it): still readable. */
    tandem_store_close(store);
    call(&f, &c, "GET", "/v2/incidents/77", "");
    CHECK_EQ_U64(200, c.status);
    http_call_free(&c);
    /* The file is replaced by another store (a restored copy): the pooled
     * connections follow the new file, not the old inode. */
    char other[600];
    snprintf(other, sizeof(other), "%s.new", f.store_path);
    CHECK_OK(tandem_store_open(other, false, &store, &d));
    CHECK(sqlite3_exec(tandem_store_db(store),
                       "INSERT INTO incident VALUES(78,'JOB_NO_RETRIES','m','a',4,3,5,'p',NULL,"
                       "'ACTIVE',0,'<default>',2);",
                       NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(store);
    /* A restore replaces the database and drops the old WAL files with it
     * (SQLite cannot tell a WAL of another database from its own). */
    char wal[620];
    snprintf(wal, sizeof(wal), "%s-wal", f.store_path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", f.store_path);
    unlink(wal);
    CHECK(rename(other, f.store_path) == 0);
    call(&f, &c, "GET", "/v2/incidents/77", "");
    CHECK_EQ_U64(404, c.status);
    http_call_free(&c);
    call(&f, &c, "GET", "/v2/incidents/78", "");
    CHECK_EQ_U64(200, c.status);
    http_call_free(&c);
    /* And removed: empty again. */
    CHECK(unlink(f.store_path) == 0);
    call(&f, &c, "POST", "/v2/incidents/search", "{}");
    CHECK_EQ_U64(200, c.status);
    CHECK_CONTAINS(http_body(&c), "\"totalItems\":0");
    http_call_free(&c);
    CHECK_EQ_U64(0, tandem_search_service_inflight(f.search));
    fixture_close(&f);
}

/* Two searches reach the loop together with room for one: the second is
 * turned away at once. */
static void test_inflight_bound(void)
{
    fixture f;
    fixture_open(&f, 1);
    http_call c[2];
    for (int i = 0; i < 2; i++) {
        http_call_start(&c[i], f.port,
                        "POST /v2/jobs/search HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                        "Content-Length: 2\r\n\r\n{}");
    }
    /* Let the HTTP thread queue both before the loop takes any. */
    double deadline = http_now_ms() + 10000;
    tandem_http_stats st;
    do {
        CHECK_MSG(http_now_ms() < deadline, "the two requests were not queued");
        usleep(1000);
        tandem_http_server_stats(f.http, &st);
    } while (st.queued < 2);
    http_run_until_done(&f.loop, c, 2);
    int ok = 0, busy = 0;
    for (int i = 0; i < 2; i++) {
        ok += c[i].status == 200;
        if (c[i].status == 503) {
            busy++;
            CHECK_CONTAINS(http_body(&c[i]), "RESOURCE_EXHAUSTED");
        }
        http_call_free(&c[i]);
    }
    CHECK_EQ_U64(1, ok);
    CHECK_EQ_U64(1, busy);
    fixture_close(&f);
}

/* The server closes while a search is with the thread pool: the client gets
 * 503, the work finishes into nothing, and the service is freed after it. */
static void test_close_while_running(void)
{
    fixture f;
    fixture_open(&f, 0);
    http_call c;
    http_call_start(&c, f.port,
                    "POST /v2/process-instances/search HTTP/1.1\r\nHost: t\r\n"
                    "Connection: close\r\nContent-Length: 2\r\n\r\n{}");
    double deadline = http_now_ms() + 10000;
    while (tandem_search_service_inflight(f.search) == 0) {
        CHECK_MSG(http_now_ms() < deadline, "the search never started");
        uv_run(&f.loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    /* Its answer can only come from a later loop turn: close now. */
    tandem_http_server_close(f.http, on_http_closed, &f);
    CHECK(!f.search_closed); /* the work still holds it */
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK(f.http_closed && f.search_closed);
    http_call_join(&c);
    CHECK_EQ_U64(503, c.status);
    CHECK_CONTAINS(http_body(&c), "UNAVAILABLE");
    http_call_free(&c);
    CHECK(uv_loop_close(&f.loop) == 0);
}

static const tandem_test cases[] = {
    {"routes_and_late_store", test_routes_and_late_store},
    {"inflight_bound", test_inflight_bound},
    {"close_while_running", test_close_while_running},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
