/*
 * search.h — the read side of the REST API v2: the `/v2/.../search` and
 * entity GET endpoints over the secondary store's SQLite file (the tables
 * are documented in docs/STORE_FORMAT.md).
 *
 * A search request (`{filter, sort, page}` as Camunda 8.8 clients send it)
 * is compiled into one parameterised SQL statement over the store's tables:
 * filter values are always bound, never pasted into the text, and field
 * names come only from the fixed tables of this module, so no request can
 * change the shape of the SQL. Unknown filter or sort fields, wrong value
 * types, bad dates and bad cursors are 400 INVALID_ARGUMENT answers that
 * name the problem. Answers are shaped as the 8.8 reference gives them:
 * keys as strings, dates as ISO-8601 UTC with milliseconds, optional fields
 * left out when they have no value.
 *
 * The store is eventually consistent with the engine: it holds what the
 * exporter has written. A store file that does not exist yet, or has no
 * schema yet, reads as empty (searches find nothing, GETs are 404).
 *
 * Two layers:
 * - tandem_search_execute runs one request on a connection the caller
 *   gives; it is synchronous and touches nothing else (tests, benchmarks
 *   and fuzzing use it directly).
 * - tandem_search_service adds the endpoints to the REST server and runs
 *   each request on the libuv thread pool with a pooled read-only
 *   connection, so a slow query never holds the loop thread.
 *
 * Limits: at most TANDEM_SEARCH_LIMIT_MAX items per page (default
 * TANDEM_SEARCH_LIMIT_DEFAULT); totalItems counts up to
 * TANDEM_SEARCH_COUNT_MAX and then sets hasMoreTotalItems; one query may
 * run TANDEM_SEARCH_QUERY_TIME_MS_MAX before it is interrupted (504).
 */
#ifndef TANDEM_SEARCH_SEARCH_H
#define TANDEM_SEARCH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>
#include <uv.h>

#include "base/buf.h"
#include "base/error.h"
#include "mgmt/http.h"

#define TANDEM_SEARCH_LIMIT_DEFAULT       100
#define TANDEM_SEARCH_LIMIT_MAX           10000
#define TANDEM_SEARCH_COUNT_MAX           10000
#define TANDEM_SEARCH_VALUE_CHARS_MAX     8191 /* variable values in lists */
#define TANDEM_SEARCH_QUERY_TIME_MS_MAX   10000
#define TANDEM_SEARCH_DETAIL_SIZE_MAX     1024
#define TANDEM_SEARCH_BODY_SIZE_BYTES_MAX (1024u * 1024u) /* request bodies */

typedef enum tandem_search_entity {
    TANDEM_SEARCH_PROCESS_INSTANCE,
    TANDEM_SEARCH_PROCESS_DEFINITION,
    TANDEM_SEARCH_ELEMENT_INSTANCE,
    TANDEM_SEARCH_VARIABLE,
    TANDEM_SEARCH_INCIDENT,
    TANDEM_SEARCH_JOB,
    TANDEM_SEARCH_ENTITY_COUNT,
} tandem_search_entity;

typedef enum tandem_search_op {
    TANDEM_SEARCH_QUERY,   /* POST .../search */
    TANDEM_SEARCH_GET,     /* GET .../{key} */
    TANDEM_SEARCH_GET_XML, /* GET /v2/process-definitions/{key}/xml */
} tandem_search_op;

/* One request. Borrowed by tandem_search_execute for the call only. */
typedef struct tandem_search_request {
    tandem_search_op op;
    tandem_search_entity entity;
    const char *body; /* QUERY: the JSON body; NULL or empty = {} */
    size_t body_len;
    int64_t key;            /* GET, GET_XML */
    bool has_process_scope; /* QUERY of incidents: only those of ... */
    int64_t process_scope;  /* ... this process instance (path key) */
    bool truncate_values;   /* QUERY of variables: the truncateValues parameter */
    uint32_t query_time_ms; /* 0 = TANDEM_SEARCH_QUERY_TIME_MS_MAX */
} tandem_search_request;

/*
 * The answer. status 200 with body (content_type "application/json" or
 * "text/xml"), 204 without, or an error status with title and detail (the
 * caller sends them as problem+json). body is owned by the response: free it
 * with tandem_search_response_free.
 */
typedef struct tandem_search_response {
    unsigned status;
    const char *content_type; /* static; NULL for 204 and errors */
    tandem_buf body;
    const char *title; /* static; errors only */
    char detail[TANDEM_SEARCH_DETAIL_SIZE_MAX];
} tandem_search_response;

/*
 * Runs one request on `db` (NULL = no store yet: empty results, 404). The
 * connection is used only during the call and only for reading. Always fills
 * *out (initialise nothing); returns TANDEM_OK, or TANDEM_ENOMEM when the
 * answer could not be built (then *out is a 500).
 */
int tandem_search_execute(sqlite3 *db, const tandem_search_request *req,
                          tandem_search_response *out);

void tandem_search_response_free(tandem_search_response *r);

/* ---- the service: the endpoints on the REST server ---- */

typedef struct tandem_search_service tandem_search_service;

/*
 * Creates the service reading the store at `store_path` (copied; the file
 * may not exist yet) on `loop` (borrowed, must outlive the service).
 * `inflight_max` bounds the requests queued or running (0 = 256); beyond it
 * a request gets 503 RESOURCE_EXHAUSTED. TANDEM_ENOMEM, TANDEM_EINVAL.
 */
int tandem_search_service_create(uv_loop_t *loop, const char *store_path, uint32_t inflight_max,
                                 tandem_search_service **out, tandem_diag *diag);

/* Adds the read routes to `http` before it starts. The server must be
 * closed before the service (held requests are cancelled by it). Errors as
 * tandem_http_route. */
int tandem_search_service_routes(tandem_search_service *s, tandem_http_server *http,
                                 tandem_diag *diag);

/* Requests queued or running now. */
uint32_t tandem_search_service_inflight(const tandem_search_service *s);

/* Closes: the memory is released once every running query has finished
 * (from a later loop callback, or now when none runs); then `cb` (may be
 * NULL) is called. Call once, on the loop thread. */
void tandem_search_service_close(tandem_search_service *s, void (*cb)(void *data), void *data);

#endif
