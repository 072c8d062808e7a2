/*
 * The read API's compiler and executor against a real store (created by the
 * store module, rows inserted with SQL): every filter operator, sorting with
 * ties and NULLs, both paging styles with cursor round trips, the answer
 * shapes, bad input answered 400 naming the problem, and injection attempts
 * that stay inert.
 */
#include <jansson.h>
#include <sqlite3.h>

#include "base/error.h"
#include "export/store.h"
#include "search/search.h"
#include "search/search_int.h"
#include "test.h"

#define BASE_MS  1735689600000LL /* 2025-01-01T00:00:00.000Z */
#define PI_COUNT 20

static tandem_store *store;

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int src = sqlite3_exec(db, sql, NULL, NULL, &err);
    CHECK_MSG(src == SQLITE_OK, "%s: %s", sql, err != NULL ? err : "?");
}

static const char *pi_state(int i)
{
    return i % 3 == 0 ? "COMPLETED" : i % 3 == 1 ? "ACTIVE" : "TERMINATED";
}

/* 3 definitions, 20 instances (keys 1000..1019), element instances,
 * variables, incidents and jobs. */
static sqlite3 *fixture(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/store.sqlite", test_tmpdir());
    tandem_diag diag;
    CHECK_OK(tandem_store_open(path, false, &store, &diag));
    sqlite3 *db = tandem_store_db(store);
    exec_sql(db, "BEGIN");
    exec_sql(db, "INSERT INTO process_definition VALUES"
                 "(100,'order','Order process',1,NULL,'order.bpmn','<default>','<definitions/>',"
                 "90,1),"
                 "(101,'order','Order process',2,'v2','order.bpmn','<default>','<x/>',91,2),"
                 "(102,'ship',NULL,1,NULL,'ship.bpmn','<default>',NULL,92,3)");
    for (int i = 0; i < PI_COUNT; i++) {
        int def = i < 10 ? 100 : i < 15 ? 101 : 102;
        const char *id = def == 102 ? "ship" : "order";
        int version = def == 101 ? 2 : 1;
        char sql[1024];
        char end[32] = "NULL";
        if (i % 3 != 1) {
            snprintf(end, sizeof(end), "%lld", BASE_MS + i * 1000 + 500);
        }
        snprintf(sql, sizeof(sql),
                 "INSERT INTO process_instance VALUES(%d,%d,'%s',%d,NULL,'%s',%lld,%s,%d,"
                 "'<default>',%s,%s,1,%d)",
                 1000 + i, def, id, version, pi_state(i), BASE_MS + i * 1000, end, i == 4,
                 i == 19 ? "1000" : "NULL", i == 19 ? "6001" : "NULL", 10 + i);
        exec_sql(db, sql);
    }
    exec_sql(db, "INSERT INTO element_instance VALUES"
                 "(6000,1000,100,'order','start','Start','START_EVENT','COMPLETED',"
                 "1735689600000,1735689600100,0,NULL,1000,'<default>',50),"
                 "(6001,1000,100,'order','task',NULL,'SERVICE_TASK','ACTIVE',"
                 "1735689600200,NULL,1,7000,1000,'<default>',51)");
    exec_sql(db, "INSERT INTO variable VALUES"
                 "(5000,'x','1',1000,1000,'<default>',60),"
                 "(5001,'name','\"O''Brien\"',1001,1001,'<default>',61),"
                 "(5003,'x','2',1002,1002,'<default>',63)");
    /* A long value of two-byte characters: truncation counts characters. */
    exec_sql(db, "INSERT INTO variable VALUES(5002,'long','\"' || replace(hex(zeroblob(4500)),"
                 "'00','éé') || '\"',1003,1003,'<default>',62)");
    exec_sql(db, "INSERT INTO incident VALUES"
                 "(7000,'JOB_NO_RETRIES','no more retries','task',6001,1004,100,'order',8001,"
                 "'ACTIVE',1735689605000,'<default>',70),"
                 "(7001,'IO_MAPPING_ERROR','bad mapping','task',6002,1004,100,'order',NULL,"
                 "'RESOLVED',1735689606000,'<default>',71),"
                 "(7002,'JOB_NO_RETRIES',NULL,'task',6003,1005,100,'order',NULL,'ACTIVE',"
                 "1735689607000,'<default>',72)");
    exec_sql(db, "INSERT INTO job VALUES"
                 "(8000,'pay','','CREATED','BPMN_ELEMENT','UNSPECIFIED',3,NULL,NULL,NULL,NULL,0,"
                 "'task',6001,1000,100,'order','{\"a\":\"b\"}','<default>',80),"
                 "(8001,'pay','w1','FAILED','BPMN_ELEMENT','UNSPECIFIED',0,1735689609000,NULL,"
                 "NULL,'boom',0,'task',6004,1004,100,'order','not json','<default>',81)");
    exec_sql(db, "COMMIT");
    return db;
}

static void teardown(void)
{
    tandem_store_close(store);
    store = NULL;
}

/* Runs a request; checks the status; returns the parsed JSON (200) or NULL. */
static json_t *run_req(sqlite3 *db, const tandem_search_request *req, unsigned status,
                       const char *detail_part)
{
    tandem_search_response r;
    CHECK_OK(tandem_search_execute(db, req, &r));
    CHECK_MSG(r.status == status, "status %u (%s: %s), expected %u", r.status,
              r.title != NULL ? r.title : "-", r.detail, status);
    json_t *doc = NULL;
    if (status >= 400) {
        CHECK(r.title != NULL);
        CHECK_CONTAINS(r.detail, detail_part);
    } else if (status == 200 && r.content_type != NULL &&
               strcmp(r.content_type, "application/json") == 0) {
        json_error_t err;
        doc = json_loadb((const char *)r.body.data, r.body.len, 0, &err);
        CHECK_MSG(doc != NULL, "answer is not JSON: %s", err.text);
    }
    tandem_search_response_free(&r);
    return doc;
}

static json_t *search(sqlite3 *db, tandem_search_entity e, const char *body)
{
    tandem_search_request req = {.op = TANDEM_SEARCH_QUERY,
                                 .entity = e,
                                 .body = body,
                                 .body_len = body != NULL ? strlen(body) : 0,
                                 .truncate_values = true};
    return run_req(db, &req, 200, NULL);
}

static void search_bad(sqlite3 *db, tandem_search_entity e, const char *body, const char *part)
{
    tandem_search_request req = {
        .op = TANDEM_SEARCH_QUERY, .entity = e, .body = body, .body_len = strlen(body)};
    tandem_search_response r;
    CHECK_OK(tandem_search_execute(db, &req, &r));
    CHECK_MSG(r.status == 400, "%s: status %u, expected 400", body, r.status);
    CHECK_STREQ("INVALID_ARGUMENT", r.title);
    CHECK_MSG(strstr(r.detail, part) != NULL, "%s: detail \"%s\" lacks \"%s\"", body, r.detail,
              part);
    tandem_search_response_free(&r);
}

static json_t *get(sqlite3 *db, tandem_search_entity e, int64_t key, unsigned status)
{
    tandem_search_request req = {.op = TANDEM_SEARCH_GET, .entity = e, .key = key};
    return run_req(db, &req, status, status == 404 ? "not found" : NULL);
}

static int64_t total(const json_t *doc)
{
    return json_integer_value(json_object_get(json_object_get(doc, "page"), "totalItems"));
}

/* The items' keys joined by commas. */
static void keys_of(const json_t *doc, const char *field, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    const json_t *items = json_object_get(doc, "items");
    CHECK(json_is_array(items));
    for (size_t i = 0; i < json_array_size(items); i++) {
        const char *k = json_string_value(json_object_get(json_array_get(items, i), field));
        CHECK_MSG(k != NULL, "item %zu has no string %s", i, field);
        n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "," : "", k);
        CHECK(n < size);
    }
}

static void check_pi_count(sqlite3 *db, const char *filter, int64_t expected)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"filter\":%s}", filter);
    json_t *doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE, body);
    CHECK_MSG(total(doc) == expected, "%s: %lld items, expected %lld", filter,
              (long long)total(doc), (long long)expected);
    CHECK_EQ_U64(expected, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
}

/* ---- cases ---- */

static void test_no_store(void)
{
    json_t *doc = search(NULL, TANDEM_SEARCH_PROCESS_INSTANCE, NULL);
    CHECK_EQ_I64(0, total(doc));
    const json_t *page = json_object_get(doc, "page");
    CHECK(json_object_get(page, "startCursor") == NULL); /* 8.8: left out when empty */
    CHECK(json_object_get(page, "endCursor") == NULL);
    CHECK(json_is_false(json_object_get(page, "hasMoreTotalItems")));
    CHECK_EQ_U64(0, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
    CHECK(get(NULL, TANDEM_SEARCH_VARIABLE, 5, 404) == NULL);
    /* A file without the schema yet reads as empty too. */
    char path[512];
    snprintf(path, sizeof(path), "%s/empty.sqlite", test_tmpdir());
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    doc = search(db, TANDEM_SEARCH_JOB, "{\"filter\":{\"type\":\"pay\"}}");
    CHECK_EQ_I64(0, total(doc));
    json_decref(doc);
    CHECK(get(db, TANDEM_SEARCH_INCIDENT, 7000, 404) == NULL);
    /* Bad input is still bad without a store. */
    search_bad(db, TANDEM_SEARCH_JOB, "{\"filter\":{\"nope\":1}}", "'nope'");
    sqlite3_close(db);
}

static void test_process_instance_shape(void)
{
    sqlite3 *db = fixture();
    json_t *doc = get(db, TANDEM_SEARCH_PROCESS_INSTANCE, 1000, 200);
    CHECK_STREQ("1000", json_string_value(json_object_get(doc, "processInstanceKey")));
    CHECK_STREQ("100", json_string_value(json_object_get(doc, "processDefinitionKey")));
    CHECK_STREQ("order", json_string_value(json_object_get(doc, "processDefinitionId")));
    CHECK_STREQ("Order process", json_string_value(json_object_get(doc, "processDefinitionName")));
    CHECK_EQ_I64(1, json_integer_value(json_object_get(doc, "processDefinitionVersion")));
    CHECK_STREQ("2025-01-01T00:00:00.000Z", json_string_value(json_object_get(doc, "startDate")));
    CHECK_STREQ("2025-01-01T00:00:00.500Z", json_string_value(json_object_get(doc, "endDate")));
    CHECK_STREQ("COMPLETED", json_string_value(json_object_get(doc, "state")));
    CHECK(json_is_false(json_object_get(doc, "hasIncident")));
    CHECK_STREQ("<default>", json_string_value(json_object_get(doc, "tenantId")));
    CHECK(json_object_get(doc, "parentProcessInstanceKey") == NULL);
    CHECK(json_object_get(doc, "processDefinitionVersionTag") == NULL);
    json_decref(doc);
    /* Active: no endDate; a name-less definition shows its id. */
    doc = get(db, TANDEM_SEARCH_PROCESS_INSTANCE, 1016, 200);
    CHECK(json_object_get(doc, "endDate") == NULL);
    CHECK_STREQ("ship", json_string_value(json_object_get(doc, "processDefinitionName")));
    json_decref(doc);
    doc = get(db, TANDEM_SEARCH_PROCESS_INSTANCE, 1019, 200);
    CHECK_STREQ("1000", json_string_value(json_object_get(doc, "parentProcessInstanceKey")));
    CHECK_STREQ("6001", json_string_value(json_object_get(doc, "parentElementInstanceKey")));
    json_decref(doc);
    doc = get(db, TANDEM_SEARCH_PROCESS_INSTANCE, 1004, 200);
    CHECK(json_is_true(json_object_get(doc, "hasIncident")));
    json_decref(doc);
    tandem_search_request req = {
        .op = TANDEM_SEARCH_GET, .entity = TANDEM_SEARCH_PROCESS_INSTANCE, .key = 42};
    CHECK(run_req(db, &req, 404, "Process instance with key '42' not found.") == NULL);
    teardown();
}

static void test_operators(void)
{
    sqlite3 *db = fixture();
    check_pi_count(db, "{}", 20);
    check_pi_count(db, "{\"state\":\"ACTIVE\"}", 7);
    check_pi_count(db, "{\"state\":{\"$eq\":\"ACTIVE\"}}", 7);
    check_pi_count(db, "{\"state\":{\"$neq\":\"COMPLETED\"}}", 13);
    check_pi_count(db, "{\"state\":{\"$in\":[\"ACTIVE\",\"TERMINATED\"]}}", 13);
    check_pi_count(db, "{\"state\":{\"$in\":[]}}", 0);
    check_pi_count(db, "{\"state\":{\"$notIn\":[\"ACTIVE\"]}}", 13);
    check_pi_count(db, "{\"state\":{\"$like\":\"*TE*\"}}", 13);
    check_pi_count(db, "{\"endDate\":{\"$exists\":false}}", 7);
    check_pi_count(db, "{\"endDate\":{\"$exists\":true}}", 13);
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"ord*\"}}", 15);
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"o?der\"}}", 15);
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"*ip\"}}", 5);
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"ORD*\"}}", 0); /* case-sensitive */
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"ord\\\\*\"}}", 0); /* escaped */
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"ord%\"}}", 0);     /* not LIKE */
    check_pi_count(db,
                   "{\"startDate\":{\"$gte\":\"2025-01-01T00:00:05.000Z\","
                   "\"$lt\":\"2025-01-01T00:00:10Z\"}}",
                   5);
    check_pi_count(db, "{\"startDate\":\"2025-01-01T01:00:05+01:00\"}", 1);
    check_pi_count(db, "{\"startDate\":{\"$gt\":\"2025-01-01T00:00:18.000Z\"}}", 1);
    check_pi_count(db, "{\"startDate\":{\"$lte\":\"2025-01-01T00:00:01.000Z\"}}", 2);
    check_pi_count(db,
                   "{\"startDate\":{\"$in\":[\"2025-01-01T00:00:01Z\","
                   "\"2025-01-01T00:00:03.000Z\"]}}",
                   2);
    check_pi_count(db, "{\"processDefinitionVersion\":{\"$gt\":1}}", 5);
    check_pi_count(db, "{\"processDefinitionVersion\":2}", 5);
    check_pi_count(db, "{\"processInstanceKey\":\"1003\"}", 1);
    check_pi_count(db, "{\"processInstanceKey\":{\"$in\":[\"1003\",\"1004\"]}}", 2);
    check_pi_count(db, "{\"processInstanceKey\":{\"$notIn\":[\"1003\",\"1004\"]}}", 18);
    check_pi_count(db, "{\"processInstanceKey\":{\"$neq\":\"1003\"}}", 19);
    check_pi_count(db, "{\"parentProcessInstanceKey\":{\"$exists\":true}}", 1);
    check_pi_count(db, "{\"parentProcessInstanceKey\":{\"$neq\":\"1000\"}}", 19);
    check_pi_count(db, "{\"hasIncident\":true}", 1);
    check_pi_count(db, "{\"hasIncident\":false}", 19);
    check_pi_count(db, "{\"processDefinitionName\":\"ship\"}", 5);
    check_pi_count(db, "{\"processDefinitionKey\":\"101\",\"state\":\"ACTIVE\"}", 2);
    check_pi_count(db, "{\"tenantId\":\"<default>\"}", 20);
    check_pi_count(db, "{\"state\":null}", 20);
    /* $or: active ones, or any of ship (16 and 19 are both). */
    check_pi_count(db, "{\"$or\":[{\"state\":\"ACTIVE\"},{\"processDefinitionId\":\"ship\"}]}", 10);
    check_pi_count(db,
                   "{\"processDefinitionId\":\"order\",\"$or\":[{\"state\":\"ACTIVE\"},"
                   "{\"hasIncident\":true}]}",
                   5);
    check_pi_count(db, "{\"$or\":[]}", 20);
    /* Element and incident fields hold for one related row together. */
    check_pi_count(db, "{\"elementId\":\"task\"}", 1);
    check_pi_count(db, "{\"elementId\":\"task\",\"elementInstanceState\":\"COMPLETED\"}", 0);
    check_pi_count(db, "{\"elementId\":\"start\",\"elementInstanceState\":\"COMPLETED\"}", 1);
    check_pi_count(db, "{\"hasElementInstanceIncident\":true,\"state\":\"COMPLETED\"}", 1);
    check_pi_count(db, "{\"state\":\"ACTIVE\",\"elementId\":\"start\"}", 0);
    check_pi_count(db, "{\"$or\":[{\"elementId\":\"task\"},{\"processInstanceKey\":\"1003\"}]}", 2);
    check_pi_count(db, "{\"errorMessage\":\"no more retries\"}", 1);
    check_pi_count(db, "{\"errorMessage\":{\"$like\":\"*retries\"}}", 1);
    check_pi_count(db, "{\"errorMessage\":\"bad mapping\"}", 0); /* resolved */
    check_pi_count(db, "{\"variables\":[{\"name\":\"x\",\"value\":\"1\"}]}", 1);
    check_pi_count(db, "{\"variables\":[{\"name\":\"x\",\"value\":{\"$in\":[\"1\",\"2\"]}}]}", 2);
    check_pi_count(db, "{\"variables\":[{\"name\":\"name\",\"value\":{\"$like\":\"*Brien*\"}}]}",
                   1);
    teardown();
}

static void test_bad_input(void)
{
    sqlite3 *db = fixture();
    const tandem_search_entity pi = TANDEM_SEARCH_PROCESS_INSTANCE;
    search_bad(db, pi, "{\"filter\":{\"foo\":1}}", "Unknown filter field 'foo'");
    search_bad(db, pi, "{\"filter\":{\"$or\":[{\"bar\":1}]}}", "Unknown filter field 'bar'");
    search_bad(db, pi, "{\"filter\":{\"$or\":[{\"$or\":[]}]}}", "'$or'");
    search_bad(db, TANDEM_SEARCH_JOB, "{\"filter\":{\"$or\":[]}}", "'$or'");
    search_bad(db, pi, "{\"sort\":[{\"field\":\"bar\"}]}", "Unknown sortBy: 'bar'");
    search_bad(db, pi, "{\"sort\":[{\"field\":\"variables\"}]}", "'variables'");
    search_bad(db, pi, "{\"sort\":[{\"order\":\"ASC\"}]}", "Sort field must not be null");
    search_bad(db, pi, "{\"sort\":[{\"field\":\"state\",\"order\":\"UP\"}]}", "ASC or DESC");
    search_bad(db, pi, "{\"filter\":{\"startDate\":\"yesterday\"}}", "filter.startDate");
    search_bad(db, pi, "{\"filter\":{\"startDate\":{\"$gt\":\"2025-02-30T00:00:00Z\"}}}",
               "filter.startDate.$gt");
    search_bad(db, pi, "{\"filter\":{\"startDate\":\"2025-01-01T00:00:00\"}}", "RFC 3339");
    search_bad(db, pi, "{\"filter\":{\"processInstanceKey\":\"12a\"}}",
               "filter.processInstanceKey is '12a'");
    search_bad(db, pi, "{\"filter\":{\"processInstanceKey\":\"99999999999999999999\"}}",
               "must be a key");
    search_bad(db, pi, "{\"filter\":{\"state\":\"RUNNING\"}}", "'RUNNING'");
    search_bad(db, pi, "{\"filter\":{\"processDefinitionId\":{\"$gt\":\"a\"}}}", "'$gt'");
    search_bad(db, pi, "{\"filter\":{\"processDefinitionId\":{\"$regex\":\"a\"}}}", "'$regex'");
    search_bad(db, pi, "{\"filter\":{\"processDefinitionVersion\":\"2\"}}", "must be an integer");
    search_bad(db, pi, "{\"filter\":{\"hasIncident\":\"yes\"}}", "true or false");
    search_bad(db, pi, "{\"filter\":{\"state\":{\"$in\":\"ACTIVE\"}}}", "must be an array");
    search_bad(db, pi, "{\"filter\":[]}", "filter must be an object");
    search_bad(db, pi, "{\"filter\":", "not valid JSON");
    search_bad(db, pi, "[]", "must be a JSON object");
    search_bad(db, pi, "{\"filters\":{}}", "Unknown request field 'filters'");
    search_bad(db, pi, "{\"page\":{\"from\":1,\"after\":\"x\"}}", "Only one of");
    search_bad(db, pi, "{\"page\":{\"limit\":10001}}", "page.limit");
    search_bad(db, pi, "{\"page\":{\"limit\":-1}}", "page.limit");
    search_bad(db, pi, "{\"page\":{\"size\":1}}", "Unknown page field 'size'");
    search_bad(db, pi, "{\"page\":{\"after\":\"!!!!\"}}", "page.after is not a cursor");
    search_bad(db, pi, "{\"page\":{\"before\":\"WyJhIl0=\"}}",
               "page.before is not a cursor"); /* ["a"] */
    search_bad(db, pi, "{\"filter\":{\"variables\":[{\"name\":\"x\"}]}}", "filter.variables[0]");
    search_bad(db, pi, "{\"filter\":{\"elementInstanceState\":\"DONE\"}}",
               "filter.elementInstanceState is 'DONE'");
    search_bad(db, pi, "{\"filter\":{\"tags\":[\"a\"]}}", "Unknown filter field 'tags'");
    search_bad(db, TANDEM_SEARCH_PROCESS_DEFINITION, "{\"filter\":{\"state\":\"ACTIVE\"}}",
               "'state'");
    teardown();
}

static void test_sort_and_offset_pages(void)
{
    sqlite3 *db = fixture();
    char keys[4096];
    const tandem_search_entity pi = TANDEM_SEARCH_PROCESS_INSTANCE;
    json_t *doc = search(db, pi,
                         "{\"sort\":[{\"field\":\"startDate\",\"order\":\"DESC\"}],"
                         "\"page\":{\"limit\":5}}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1019,1018,1017,1016,1015", keys);
    CHECK_EQ_I64(20, total(doc));
    json_decref(doc);
    doc = search(db, pi,
                 "{\"sort\":[{\"field\":\"startDate\",\"order\":\"desc\"}],"
                 "\"page\":{\"from\":5,\"limit\":5}}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1014,1013,1012,1011,1010", keys);
    json_decref(doc);
    /* Ties broken by the key, ascending. */
    doc = search(db, pi,
                 "{\"filter\":{\"processDefinitionId\":\"ship\"},"
                 "\"sort\":[{\"field\":\"state\"}]}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1016,1019,1015,1018,1017", keys);
    json_decref(doc);
    /* Descending: the key follows the last sort field's direction. */
    doc = search(db, pi,
                 "{\"filter\":{\"processDefinitionId\":\"ship\"},"
                 "\"sort\":[{\"field\":\"state\",\"order\":\"DESC\"}]}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1017,1018,1015,1019,1016", keys);
    json_decref(doc);
    /* Default: by key; limit 0 counts only; from past the end is empty. */
    doc = search(db, pi, "{\"page\":{\"limit\":3}}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1000,1001,1002", keys);
    json_decref(doc);
    doc = search(db, pi, "{\"page\":{\"limit\":0}}");
    CHECK_EQ_I64(20, total(doc));
    CHECK_EQ_U64(0, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
    doc = search(db, pi, "{\"page\":{\"from\":100}}");
    CHECK_EQ_I64(20, total(doc));
    CHECK_EQ_U64(0, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
    /* Sorting by a nullable column: NULLs first ascending, last descending. */
    doc = search(db, pi, "{\"sort\":[{\"field\":\"endDate\"}],\"page\":{\"limit\":8}}");
    keys_of(doc, "processInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("1001,1004,1007,1010,1013,1016,1019,1000", keys);
    json_decref(doc);
    teardown();
}

/* Walks every page of `sort` with `limit` by endCursor and compares with
 * the one-page answer; then walks back by startCursor. */
static void walk_cursors(sqlite3 *db, const char *sort, const char *filter, size_t limit)
{
    char body[2048], all[8192], pages[8192] = "", keys[8192];
    snprintf(body, sizeof(body), "{\"filter\":%s,\"sort\":%s,\"page\":{\"limit\":1000}}", filter,
             sort);
    json_t *doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE, body);
    keys_of(doc, "processInstanceKey", all, sizeof(all));
    json_decref(doc);
    char cursor[1024] = "";
    char first_page[8192] = "";
    char last_start[1024] = "";
    size_t n = 0;
    for (int round = 0; round < 100; round++) {
        if (cursor[0] == '\0') {
            snprintf(body, sizeof(body), "{\"filter\":%s,\"sort\":%s,\"page\":{\"limit\":%zu}}",
                     filter, sort, limit);
        } else {
            snprintf(body, sizeof(body),
                     "{\"filter\":%s,\"sort\":%s,\"page\":{\"limit\":%zu,\"after\":\"%s\"}}",
                     filter, sort, limit, cursor);
        }
        doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE, body);
        keys_of(doc, "processInstanceKey", keys, sizeof(keys));
        const json_t *page = json_object_get(doc, "page");
        if (keys[0] == '\0') {
            CHECK(json_object_get(page, "endCursor") == NULL);
            json_decref(doc);
            break;
        }
        if (round == 0) {
            snprintf(first_page, sizeof(first_page), "%s", keys);
        }
        n += (size_t)snprintf(pages + n, sizeof(pages) - n, "%s%s", n > 0 ? "," : "", keys);
        snprintf(cursor, sizeof(cursor), "%s",
                 json_string_value(json_object_get(page, "endCursor")));
        snprintf(last_start, sizeof(last_start), "%s",
                 json_string_value(json_object_get(page, "startCursor")));
        json_decref(doc);
    }
    CHECK_MSG(strcmp(all, pages) == 0, "sort %s: pages %s, one query %s", sort, pages, all);
    /* Walk back from the last page's start to the first page. */
    char prev[8192] = "";
    for (int round = 0; round < 100 && last_start[0] != '\0'; round++) {
        snprintf(body, sizeof(body),
                 "{\"filter\":%s,\"sort\":%s,\"page\":{\"limit\":%zu,\"before\":\"%s\"}}", filter,
                 sort, limit, last_start);
        doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE, body);
        keys_of(doc, "processInstanceKey", keys, sizeof(keys));
        const json_t *s = json_object_get(json_object_get(doc, "page"), "startCursor");
        snprintf(last_start, sizeof(last_start), "%s",
                 json_is_string(s) ? json_string_value(s) : "");
        if (keys[0] != '\0') {
            snprintf(prev, sizeof(prev), "%s", keys);
        }
        json_decref(doc);
    }
    if (strlen(all) > 0 && strcmp(all, first_page) != 0) {
        CHECK_MSG(strcmp(prev, first_page) == 0, "sort %s: back at %s, first page %s", sort, prev,
                  first_page);
    }
}

static void test_cursor_round_trip(void)
{
    sqlite3 *db = fixture();
    walk_cursors(db, "[]", "{}", 3);
    walk_cursors(db, "[{\"field\":\"state\"}]", "{}", 4);
    walk_cursors(db, "[{\"field\":\"state\",\"order\":\"DESC\"},{\"field\":\"startDate\"}]", "{}",
                 3);
    walk_cursors(db, "[{\"field\":\"endDate\"}]", "{}", 3);
    walk_cursors(db, "[{\"field\":\"endDate\",\"order\":\"DESC\"}]", "{}", 4);
    walk_cursors(db, "[{\"field\":\"parentProcessInstanceKey\",\"order\":\"DESC\"}]", "{}", 7);
    walk_cursors(db, "[{\"field\":\"processDefinitionName\"},{\"field\":\"hasIncident\"}]",
                 "{\"state\":{\"$neq\":\"TERMINATED\"}}", 2);
    walk_cursors(db, "[{\"field\":\"startDate\"}]", "{\"processInstanceKey\":\"1\"}", 2);
    /* A cursor belongs to its sort. */
    json_t *doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE,
                         "{\"sort\":[{\"field\":\"state\"}],\"page\":{\"limit\":2}}");
    const char *end = json_string_value(json_object_get(json_object_get(doc, "page"), "endCursor"));
    CHECK(end != NULL);
    char body[1024];
    snprintf(body, sizeof(body), "{\"page\":{\"after\":\"%s\"}}", end);
    search_bad(db, TANDEM_SEARCH_PROCESS_INSTANCE, body, "not a cursor of this search");
    json_decref(doc);
    teardown();
}

static void test_injection_inert(void)
{
    sqlite3 *db = fixture();
    check_pi_count(db, "{\"processDefinitionId\":\"x' OR '1'='1\"}", 0);
    check_pi_count(db, "{\"processDefinitionId\":\"order'; DROP TABLE process_instance; --\"}", 0);
    check_pi_count(db, "{\"processDefinitionId\":{\"$like\":\"%' OR 1=1 --\"}}", 0);
    check_pi_count(db, "{\"processDefinitionId\":{\"$in\":[\"') OR (1=1\"]}}", 0);
    search_bad(db, TANDEM_SEARCH_PROCESS_INSTANCE,
               "{\"sort\":[{\"field\":\"startDate; DROP TABLE process_instance\"}]}", "Unknown");
    search_bad(db, TANDEM_SEARCH_PROCESS_INSTANCE, "{\"filter\":{\"1=1 OR state\":\"x\"}}",
               "Unknown filter field");
    /* A cursor is data too: forged values are bound, not pasted. */
    char body[512];
    tandem_buf b = TANDEM_BUF_INIT;
    const char *forged = "[\"order') OR 1=1 --\",1]";
    CHECK_OK(search_base64_encode((const uint8_t *)forged, strlen(forged), &b));
    snprintf(body, sizeof(body),
             "{\"sort\":[{\"field\":\"processDefinitionId\"}],\"page\":{\"after\":\"%s\"}}",
             (const char *)b.data);
    tandem_buf_free(&b);
    json_t *doc = search(db, TANDEM_SEARCH_PROCESS_INSTANCE, body);
    CHECK_EQ_I64(20, total(doc));
    CHECK_EQ_U64(5, json_array_size(json_object_get(doc, "items"))); /* only the ships sort after */
    json_decref(doc);
    check_pi_count(db, "{}", 20); /* the table is still there */
    teardown();
}

static void test_variables(void)
{
    sqlite3 *db = fixture();
    json_t *doc = search(db, TANDEM_SEARCH_VARIABLE, "{\"filter\":{\"name\":\"long\"}}");
    const json_t *item = json_array_get(json_object_get(doc, "items"), 0);
    CHECK(json_is_true(json_object_get(item, "isTruncated")));
    const char *v = json_string_value(json_object_get(item, "value"));
    CHECK(v != NULL);
    CHECK_EQ_U64(TANDEM_SEARCH_VALUE_CHARS_MAX,
                 json_string_length(json_object_get(item, "value")) / 2 +
                     1); /* '"' + 8190 two-byte chars */
    CHECK_STREQ("5002", json_string_value(json_object_get(item, "variableKey")));
    CHECK_STREQ("1003", json_string_value(json_object_get(item, "scopeKey")));
    json_decref(doc);
    tandem_search_request req = {.op = TANDEM_SEARCH_QUERY,
                                 .entity = TANDEM_SEARCH_VARIABLE,
                                 .body = "{\"filter\":{\"name\":\"long\"}}",
                                 .truncate_values = false};
    req.body_len = strlen(req.body);
    doc = run_req(db, &req, 200, NULL);
    item = json_array_get(json_object_get(doc, "items"), 0);
    CHECK(json_is_false(json_object_get(item, "isTruncated")));
    CHECK_EQ_U64(2 + 9000 * 2, json_string_length(json_object_get(item, "value")));
    json_decref(doc);
    doc = get(db, TANDEM_SEARCH_VARIABLE, 5002, 200);
    CHECK_EQ_U64(2 + 9000 * 2, json_string_length(json_object_get(doc, "value")));
    json_decref(doc);
    doc = get(db, TANDEM_SEARCH_VARIABLE, 5001, 200);
    CHECK_STREQ("\"O'Brien\"", json_string_value(json_object_get(doc, "value")));
    CHECK_STREQ("name", json_string_value(json_object_get(doc, "name")));
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_VARIABLE, "{\"filter\":{\"isTruncated\":true}}");
    CHECK_EQ_I64(1, total(doc));
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_VARIABLE,
                 "{\"filter\":{\"value\":\"1\",\"processInstanceKey\":\"1000\"}}");
    CHECK_EQ_I64(1, total(doc));
    json_decref(doc);
    teardown();
}

static void test_other_entities(void)
{
    sqlite3 *db = fixture();
    char keys[1024];
    /* Incidents of one instance, sorted. */
    tandem_search_request req = {.op = TANDEM_SEARCH_QUERY,
                                 .entity = TANDEM_SEARCH_INCIDENT,
                                 .body =
                                     "{\"sort\":[{\"field\":\"incidentKey\",\"order\":\"DESC\"}]}",
                                 .has_process_scope = true,
                                 .process_scope = 1004};
    req.body_len = strlen(req.body);
    json_t *doc = run_req(db, &req, 200, NULL);
    keys_of(doc, "incidentKey", keys, sizeof(keys));
    CHECK_STREQ("7001,7000", keys);
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_INCIDENT,
                 "{\"filter\":{\"state\":\"ACTIVE\",\"errorType\":\"JOB_NO_RETRIES\"}}");
    keys_of(doc, "incidentKey", keys, sizeof(keys));
    CHECK_STREQ("7000,7002", keys);
    json_decref(doc);
    doc = get(db, TANDEM_SEARCH_INCIDENT, 7002, 200);
    CHECK_STREQ("", json_string_value(json_object_get(doc, "errorMessage")));
    CHECK(json_object_get(doc, "jobKey") == NULL);
    CHECK_STREQ("2025-01-01T00:00:07.000Z",
                json_string_value(json_object_get(doc, "creationTime")));
    json_decref(doc);
    /* Jobs: headers as an object, damaged headers as {}, empty strings. */
    doc = search(db, TANDEM_SEARCH_JOB, "{\"filter\":{\"type\":\"pay\"}}");
    const json_t *j0 = json_array_get(json_object_get(doc, "items"), 0);
    const json_t *j1 = json_array_get(json_object_get(doc, "items"), 1);
    CHECK_STREQ("b", json_string_value(json_object_get(json_object_get(j0, "customHeaders"), "a")));
    CHECK_EQ_U64(0, json_object_size(json_object_get(j1, "customHeaders")));
    CHECK_STREQ("", json_string_value(json_object_get(j0, "errorMessage")));
    CHECK_STREQ("boom", json_string_value(json_object_get(j1, "errorMessage")));
    CHECK(json_object_get(j0, "deadline") == NULL);
    CHECK_STREQ("2025-01-01T00:00:09.000Z", json_string_value(json_object_get(j1, "deadline")));
    CHECK(json_is_false(json_object_get(j0, "isDenied")));
    CHECK_EQ_I64(3, json_integer_value(json_object_get(j0, "retries")));
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_JOB,
                 "{\"filter\":{\"retries\":{\"$lt\":1},\"state\":\"FAILED\"}}");
    CHECK_EQ_I64(1, total(doc));
    json_decref(doc);
    /* Element instances: the name falls back to the id. */
    doc = get(db, TANDEM_SEARCH_ELEMENT_INSTANCE, 6001, 200);
    CHECK_STREQ("task", json_string_value(json_object_get(doc, "elementName")));
    CHECK_STREQ("SERVICE_TASK", json_string_value(json_object_get(doc, "type")));
    CHECK_STREQ("7000", json_string_value(json_object_get(doc, "incidentKey")));
    CHECK(json_is_true(json_object_get(doc, "hasIncident")));
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_ELEMENT_INSTANCE,
                 "{\"filter\":{\"processInstanceKey\":\"1000\",\"type\":\"START_EVENT\"}}");
    keys_of(doc, "elementInstanceKey", keys, sizeof(keys));
    CHECK_STREQ("6000", keys);
    json_decref(doc);
    /* Definitions: latest versions; XML; no XML is 204. */
    doc = search(db, TANDEM_SEARCH_PROCESS_DEFINITION, "{\"filter\":{\"isLatestVersion\":true}}");
    keys_of(doc, "processDefinitionKey", keys, sizeof(keys));
    CHECK_STREQ("101,102", keys);
    const json_t *d = json_array_get(json_object_get(doc, "items"), 0);
    CHECK(json_is_false(json_object_get(d, "hasStartForm")));
    CHECK_STREQ("v2", json_string_value(json_object_get(d, "versionTag")));
    CHECK_STREQ("order.bpmn", json_string_value(json_object_get(d, "resourceName")));
    json_decref(doc);
    tandem_search_request x = {
        .op = TANDEM_SEARCH_GET_XML, .entity = TANDEM_SEARCH_PROCESS_DEFINITION, .key = 101};
    tandem_search_response r;
    CHECK_OK(tandem_search_execute(db, &x, &r));
    CHECK_EQ_U64(200, r.status);
    CHECK_STREQ("text/xml", r.content_type);
    CHECK(r.body.len == 4 && memcmp(r.body.data, "<x/>", 4) == 0);
    tandem_search_response_free(&r);
    x.key = 102;
    CHECK(run_req(db, &x, 204, NULL) == NULL);
    x.key = 103;
    CHECK(run_req(db, &x, 404, "Process definition with key '103' not found.") == NULL);
    teardown();
}

static void test_count_cap(void)
{
    sqlite3 *db = fixture();
    exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)"
                 " INSERT INTO job(job_key, type, state, position) SELECT 100000 + i, 'bulk',"
                 " 'CREATED', i FROM n");
    json_t *doc = search(db, TANDEM_SEARCH_JOB, "{\"filter\":{\"type\":\"bulk\"}}");
    const json_t *page = json_object_get(doc, "page");
    CHECK_EQ_I64(TANDEM_SEARCH_COUNT_MAX, total(doc));
    CHECK(json_is_true(json_object_get(page, "hasMoreTotalItems")));
    CHECK_EQ_U64(TANDEM_SEARCH_LIMIT_DEFAULT, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
    doc = search(db, TANDEM_SEARCH_JOB, "{\"page\":{\"limit\":10000}}");
    CHECK_EQ_U64(10000, json_array_size(json_object_get(doc, "items")));
    json_decref(doc);
    teardown();
}

/* A query past its time budget is stopped and answered 504. */
static void test_time_budget(void)
{
    sqlite3 *db = fixture();
    exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)"
                 " INSERT INTO job(job_key, type, state, error_message, position) SELECT"
                 " 100000 + i, 'bulk', 'FAILED', hex(randomblob(8)), i FROM n");
    const char *body = "{\"filter\":{\"errorMessage\":{\"$like\":\"*A*B*C*\"}},"
                       "\"sort\":[{\"field\":\"errorMessage\"}]}";
    tandem_search_request req = {.op = TANDEM_SEARCH_QUERY,
                                 .entity = TANDEM_SEARCH_JOB,
                                 .body = body,
                                 .body_len = strlen(body),
                                 .query_time_ms = 1};
    CHECK(run_req(db, &req, 504, "The query ran longer than 1 ms and was stopped.") == NULL);
    /* The connection is fine afterwards, and with time the same query runs. */
    req.query_time_ms = 0;
    json_t *doc = run_req(db, &req, 200, NULL);
    CHECK(total(doc) > 0);
    json_decref(doc);
    teardown();
}

static void test_values(void)
{
    int64_t ms = 0;
    CHECK_OK(search_date_parse("1970-01-01T00:00:00Z", &ms));
    CHECK_EQ_I64(0, ms);
    CHECK_OK(search_date_parse("2024-02-29T23:59:59.999Z", &ms));
    char out[SEARCH_DATE_SIZE];
    search_date_format(ms, out);
    CHECK_STREQ("2024-02-29T23:59:59.999Z", out);
    CHECK_OK(search_date_parse("1969-12-31T23:59:59.5-00:30", &ms));
    CHECK_EQ_I64(1800000 - 500, ms);
    search_date_format(-500, out);
    CHECK_STREQ("1969-12-31T23:59:59.500Z", out);
    CHECK_RC(TANDEM_EINVAL, search_date_parse("2023-02-29T00:00:00Z", &ms));
    CHECK_RC(TANDEM_EINVAL, search_date_parse("2023-01-01 00:00:00Z", &ms));
    CHECK_RC(TANDEM_EINVAL, search_date_parse("2023-01-01T00:00:00.Z", &ms));
    CHECK_RC(TANDEM_EINVAL, search_date_parse("2023-01-01T00:00:00Zjunk", &ms));
    /* Random round trips through format and parse. */
    uint64_t seed = test_seed();
    for (uint64_t i = 0; i < test_iterations(2000); i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = (int64_t)(seed >> 21); /* up to ~year 2248 */
        search_date_format(t, out);
        int64_t back = 0;
        CHECK_OK(search_date_parse(out, &back));
        CHECK_EQ_I64(t, back);
    }
    int64_t key = 0;
    CHECK_OK(search_key_parse("-9223372036854775808", &key));
    CHECK(key == INT64_MIN);
    CHECK_RC(TANDEM_ERANGE, search_key_parse("9223372036854775808", &key));
    CHECK_RC(TANDEM_EINVAL, search_key_parse("-", &key));
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(search_base64_encode((const uint8_t *)"ab", 2, &b));
    CHECK_STREQ("YWI=", (const char *)b.data);
    uint8_t raw[8];
    size_t len = 0;
    CHECK_OK(search_base64_decode("YWI=", raw, sizeof(raw), &len));
    CHECK(len == 2 && raw[0] == 'a' && raw[1] == 'b');
    CHECK_RC(TANDEM_EINVAL, search_base64_decode("YW=I", raw, sizeof(raw), &len));
    CHECK_RC(TANDEM_ETOOBIG, search_base64_decode("YWJjZGVmZ2hp", raw, 4, &len));
    tandem_buf_free(&b);
}

static const tandem_test cases[] = {
    {"no_store", test_no_store},
    {"process_instance_shape", test_process_instance_shape},
    {"operators", test_operators},
    {"bad_input", test_bad_input},
    {"sort_and_offset_pages", test_sort_and_offset_pages},
    {"cursor_round_trip", test_cursor_round_trip},
    {"injection_inert", test_injection_inert},
    {"variables", test_variables},
    {"other_entities", test_other_entities},
    {"count_cap", test_count_cap},
    {"time_budget", test_time_budget},
    {"values", test_values},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
