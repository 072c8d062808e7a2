/*
 * search — read API latency over a store of 1 million process instances.
 *
 *   build/bench/search [--instances N] [--rounds N] [--store PATH]
 *
 * Builds the store (the store module's schema; rows inserted with one SQL
 * statement, not through the exporter) unless PATH already holds one, then
 * times tandem_search_execute — compile, count (capped), page, JSON — for:
 *   filtered   state = ACTIVE and one definition id, by startDate DESC, 50
 *   range      a one-hour startDate window, by startDate, 100
 *   cursor     the page after the first answer of "filtered"
 *   offset     "filtered" from item 1000
 *   get        GET one instance by key
 * and prints p50 and p99 per query. One connection, one thread: the
 * latency a single search worker sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "export/store.h"
#include "search/search.h"

#define BASE_MS 1735689600000LL

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "search bench: %s: %s\n", what, detail);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void build(sqlite3 *db, long instances)
{
    char sql[2048];
    double start = now_ms();
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 9)"
             " INSERT INTO process_definition SELECT 1 + i, 'proc-' || i, 'Process ' || i, 1,"
             " NULL, 'proc-' || i || '.bpmn', '<default>', NULL, 1, 1 + i FROM d;"
             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
             " INSERT INTO process_instance SELECT 2251799813685248 + i, 1 + i %% 10,"
             " 'proc-' || (i %% 10), 1, NULL,"
             " CASE WHEN i %% 10 < 7 THEN 'COMPLETED' WHEN i %% 10 = 7 THEN 'TERMINATED'"
             " ELSE 'ACTIVE' END, %lld + i * 1000,"
             " CASE WHEN i %% 10 < 8 THEN %lld + i * 1000 + 500 ELSE NULL END,"
             " i %% 97 = 0, '<default>', NULL, NULL, 1, i FROM n;"
             "COMMIT;",
             instances - 1, BASE_MS, BASE_MS);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        die("building the store", err != NULL ? err : "?");
    }
    printf("built %ld process instances in %.1f s\n", instances, (now_ms() - start) / 1e3);
}

static void timed(sqlite3 *db, const char *label, const tandem_search_request *req, int rounds)
{
    double *ms = malloc((size_t)rounds * sizeof(*ms));
    if (ms == NULL) {
        die(label, "out of memory");
    }
    size_t bytes = 0;
    for (int i = 0; i < rounds; i++) {
        tandem_search_response r;
        double t0 = now_ms();
        if (tandem_search_execute(db, req, &r) != TANDEM_OK || r.status != 200) {
            die(label, r.detail);
        }
        ms[i] = now_ms() - t0;
        bytes = r.body.len;
        tandem_search_response_free(&r);
    }
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
    printf("%-9s p50 %7.2f ms  p99 %7.2f ms  (%d rounds, %zu-byte answer)\n", label, ms[rounds / 2],
           ms[(rounds * 99) / 100], rounds, bytes);
    free(ms);
}

/* The endCursor of an answer, into out. */
static void end_cursor(sqlite3 *db, const tandem_search_request *req, char *out, size_t size)
{
    tandem_search_response r;
    if (tandem_search_execute(db, req, &r) != TANDEM_OK || r.status != 200) {
        die("cursor", r.detail);
    }
    tandem_buf_append(&r.body, "", 1);
    const char *p = strstr((const char *)r.body.data, "\"endCursor\":\"");
    if (p == NULL) {
        die("cursor", "no endCursor in the answer");
    }
    p += strlen("\"endCursor\":\"");
    size_t n = strcspn(p, "\"");
    snprintf(out, size, "%.*s", (int)n, p);
    tandem_search_response_free(&r);
}

static tandem_search_request query(const char *body)
{
    tandem_search_request req = {.op = TANDEM_SEARCH_QUERY,
                                 .entity = TANDEM_SEARCH_PROCESS_INSTANCE,
                                 .body = body,
                                 .body_len = strlen(body)};
    return req;
}

int main(int argc, char **argv)
{
    long instances = 1000000;
    int rounds = 200;
    const char *path = "build/bench/search-store.sqlite";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--instances") == 0) {
            instances = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            rounds = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--store") == 0) {
            path = argv[i + 1];
        } else {
            die("usage", "search [--instances N] [--rounds N] [--store PATH]");
        }
    }
    if (instances < 1000 || rounds < 1) {
        die("usage", "--instances at least 1000, --rounds at least 1");
    }
    bool exists = access(path, F_OK) == 0;
    tandem_store *store = NULL;
    tandem_diag diag;
    if (tandem_store_open(path, false, &store, &diag) != TANDEM_OK) {
        die(path, diag.message);
    }
    sqlite3 *db = tandem_store_db(store);
    if (!exists) {
        build(db, instances);
    }
    const char *filtered = "{\"filter\":{\"state\":\"ACTIVE\",\"processDefinitionId\":\"proc-9\"},"
                           "\"sort\":[{\"field\":\"startDate\",\"order\":\"DESC\"}],"
                           "\"page\":{\"limit\":50}}";
    tandem_search_request req = query(filtered);
    timed(db, "filtered", &req, rounds);
    char range[512];
    snprintf(range, sizeof(range),
             "{\"filter\":{\"startDate\":{\"$gte\":\"2025-01-03T00:00:00Z\","
             "\"$lt\":\"2025-01-03T01:00:00Z\"}},\"sort\":[{\"field\":\"startDate\"}]}");
    req = query(range);
    timed(db, "range", &req, rounds);
    char cursor[1024];
    req = query(filtered);
    end_cursor(db, &req, cursor, sizeof(cursor));
    char after[2048];
    snprintf(after, sizeof(after),
             "{\"filter\":{\"state\":\"ACTIVE\",\"processDefinitionId\":\"proc-9\"},"
             "\"sort\":[{\"field\":\"startDate\",\"order\":\"DESC\"}],"
             "\"page\":{\"limit\":50,\"after\":\"%s\"}}",
             cursor);
    req = query(after);
    timed(db, "cursor", &req, rounds);
    req = query("{\"filter\":{\"state\":\"ACTIVE\",\"processDefinitionId\":\"proc-9\"},"
                "\"sort\":[{\"field\":\"startDate\",\"order\":\"DESC\"}],"
                "\"page\":{\"from\":1000,\"limit\":50}}");
    timed(db, "offset", &req, rounds);
    tandem_search_request get = {.op = TANDEM_SEARCH_GET,
                                 .entity = TANDEM_SEARCH_PROCESS_INSTANCE,
                                 .key = 2251799813685248LL + instances / 2};
    timed(db, "get", &get, rounds);
    tandem_store_close(store);
    return 0;
}
