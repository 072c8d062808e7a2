/*
 * fuzz_search_query.c — arbitrary bytes as a search request body.
 *
 * The first byte picks the entity (and a scoped incident search); the rest
 * is the body. Every input must be answered 200 or 400 — never 500, which
 * would mean the compiler built SQL the store rejects — with a detail on
 * every 400, and never crash, hang or leak. The store is a real one (the
 * store module's schema) in a temporary directory, with a few rows so the
 * cursor and encoding paths run too. A page's cursors, sent back with the
 * same filter and sort, must be accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/error.h"
#include "export/store.h"
#include "search/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tandem_store *store;
static char store_dir[] = "/tmp/fuzz_search_XXXXXX";

/* The store is a temporary file: removed when the fuzzer exits. */
static void remove_store(void)
{
    char path[64];
    tandem_store_close(store);
    const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/store.sqlite%s", store_dir, suffix[i]);
        unlink(path);
    }
    rmdir(store_dir);
}

static sqlite3 *db_get(void)
{
    if (store != NULL) {
        return tandem_store_db(store);
    }
    if (mkdtemp(store_dir) == NULL) {
        abort();
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/store.sqlite", store_dir);
    if (tandem_store_open(path, false, &store, NULL) != TANDEM_OK) {
        abort();
    }
    atexit(remove_store);
    sqlite3 *db = tandem_store_db(store);
    const char *rows =
        "INSERT INTO process_definition VALUES(1,'p','P',1,NULL,'p.bpmn','<default>','<x/>',1,1);"
        "INSERT INTO process_instance VALUES(2,1,'p',1,NULL,'ACTIVE',0,NULL,0,'<default>',NULL,"
        "NULL,1,2),(3,1,'p',1,'t','COMPLETED',5,9,1,'<default>',2,4,1,3);"
        "INSERT INTO element_instance VALUES(4,2,1,'p','a',NULL,'SERVICE_TASK','ACTIVE',0,NULL,0,"
        "NULL,2,'<default>',4);"
        "INSERT INTO variable VALUES(5,'x','\"v\"',2,2,'<default>',5);"
        "INSERT INTO incident VALUES(6,'JOB_NO_RETRIES','m','a',4,2,1,'p',7,'ACTIVE',1,"
        "'<default>',6);"
        "INSERT INTO job VALUES(7,'t','w','FAILED','BPMN_ELEMENT','UNSPECIFIED',0,1,NULL,NULL,'m',"
        "0,'a',4,2,1,'p','{}','<default>',7);";
    if (sqlite3_exec(db, rows, NULL, NULL, NULL) != SQLITE_OK) {
        abort();
    }
    return db;
}

/* Asks for the pages after and before the answer's cursors with the
 * request's own filter and sort: both must be answered 200. */
static void follow_cursor(sqlite3 *db, const tandem_search_request *req,
                          const tandem_search_response *r)
{
    json_t *answer = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    json_t *body =
        req->body_len > 0 ? json_loadb(req->body, req->body_len, 0, NULL) : json_object();
    const char *const which[] = {"endCursor", "startCursor"};
    const char *const key[] = {"after", "before"};
    for (int i = 0; i < 2 && answer != NULL && json_is_object(body); i++) {
        json_t *cursor = json_object_get(json_object_get(answer, "page"), which[i]);
        if (!json_is_string(cursor)) {
            break;
        }
        json_t *page = json_pack("{s:O,s:i}", key[i], cursor, "limit", 2);
        json_object_set_new(body, "page", page);
        char *text = json_dumps(body, JSON_COMPACT);
        tandem_search_request next = *req;
        next.body = text;
        next.body_len = text != NULL ? strlen(text) : 0;
        tandem_search_response r2;
        if (text == NULL || tandem_search_execute(db, &next, &r2) != TANDEM_OK) {
            abort();
        }
        if (r2.status != 200) {
            fprintf(stderr, "cursor refused (%u: %s): %s\n", r2.status, r2.detail, text);
            abort();
        }
        tandem_search_response_free(&r2);
        free(text);
    }
    json_decref(body);
    json_decref(answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *db = db_get();
    if (size == 0) {
        return 0;
    }
    tandem_search_request req = {
        .op = TANDEM_SEARCH_QUERY,
        .entity = (tandem_search_entity)(data[0] % TANDEM_SEARCH_ENTITY_COUNT),
        .body = (const char *)data + 1,
        .body_len = size - 1,
        .truncate_values = (data[0] & 0x80) != 0,
        .query_time_ms = 2000,
    };
    if (req.entity == TANDEM_SEARCH_INCIDENT && (data[0] & 0x40) != 0) {
        req.has_process_scope = true;
        req.process_scope = 2;
    }
    tandem_search_response r;
    if (tandem_search_execute(db, &req, &r) != TANDEM_OK) {
        abort();
    }
    if (r.status != 200 && r.status != 400) {
        fprintf(stderr, "status %u: %s\n", r.status, r.detail);
        abort();
    }
    if (r.status == 400 && r.detail[0] == '\0') {
        abort();
    }
    if (r.status == 200 && (r.body.len == 0 || r.body.data[0] != '{')) {
        abort();
    }
    /* A cursor this search returned must be accepted by the same search. */
    if (r.status == 200) {
        follow_cursor(db, &req, &r);
    }
    tandem_search_response_free(&r);
    return 0;
}
