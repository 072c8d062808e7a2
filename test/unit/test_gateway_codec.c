/*
 * Tests of the pure parts of the REST gateway: the multipart/form-data
 * parser, key parsing, request decoding with Camunda's validation messages,
 * and the response encoders.
 */
#include "gateway/gateway.h"
#include "gateway/gateway_int.h"

#include "test.h"

/* ---- multipart ---- */

static gateway_part parts[GATEWAY_PARTS_MAX];

static int parse(const char *body, const char *boundary, size_t *count, tandem_diag *d)
{
    tandem_diag_clear(d);
    return gateway_multipart_parse((const uint8_t *)body, strlen(body), boundary, parts,
                                   GATEWAY_PARTS_MAX, count, d);
}

static void check_part(size_t i, const char *name, const char *filename, const char *content)
{
    CHECK_STREQ(name, parts[i].name);
    if (filename == NULL) {
        CHECK(!parts[i].has_filename);
    } else {
        CHECK(parts[i].has_filename);
        CHECK_STREQ(filename, parts[i].filename);
    }
    CHECK_EQ_U64(strlen(content), parts[i].size_bytes);
    CHECK(memcmp(content, parts[i].data, parts[i].size_bytes) == 0);
}

static void test_multipart_boundary(void)
{
    char b[GATEWAY_BOUNDARY_SIZE_MAX];
    tandem_diag d;
    CHECK_OK(gateway_multipart_boundary("multipart/form-data; boundary=abc123", b, &d));
    CHECK_STREQ("abc123", b);
    CHECK_OK(gateway_multipart_boundary("Multipart/Form-Data;charset=utf-8; "
                                        "boundary=\"----=_Part_1\"",
                                        b, &d));
    /* a quoted boundary may hold characters a token may not (but not '"') */
    CHECK_RC(TANDEM_EINVAL,
             gateway_multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"", b, &d));
    CHECK_CONTAINS(d.message, "not allowed at offset 1");
    CHECK_OK(gateway_multipart_boundary("multipart/form-data; boundary=\"--=_a:b(c)\"", b, &d));
    CHECK_STREQ("--=_a:b(c)", b);
    CHECK_RC(TANDEM_EINVAL, gateway_multipart_boundary("multipart/form-data", b, &d));
    CHECK_CONTAINS(d.message, "has no boundary");
    CHECK_RC(TANDEM_EINVAL, gateway_multipart_boundary("application/json", b, &d));
    CHECK_CONTAINS(d.message, "must be multipart/form-data");
    CHECK_RC(TANDEM_EINVAL,
             gateway_multipart_boundary("multipart/form-data; boundary=\"abc", b, &d));
    CHECK_CONTAINS(d.message, "malformed parameter");
    CHECK_RC(TANDEM_EINVAL, gateway_multipart_boundary("multipart/form-data; boundary=", b, &d));
    CHECK_RC(TANDEM_EINVAL, gateway_multipart_boundary("multipart/form-data x", b, &d));
    char longb[200];
    snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%071d", 0);
    CHECK_RC(TANDEM_EINVAL, gateway_multipart_boundary(longb, b, &d));
    CHECK_CONTAINS(d.message, "longer than 70");
}

static void test_multipart_parse(void)
{
    size_t n = 0;
    tandem_diag d;
    /* CRLF, two resources and a tenant, the part content holding CRLFs and
     * a line that looks almost like a delimiter */
    const char *body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"resources\"; filename=\"p1.bpmn\"\r\n"
        "Content-Type: application/xml\r\n"
        "\r\n"
        "<a>\r\n--XY\r\n</a>\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; filename=\"dir/p 2.bpmn\"; name=resources\r\n"
        "\r\n"
        "b\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"tenantId\"\r\n"
        "\r\n"
        "<default>\r\n"
        "--XyZ--\r\n";
    CHECK_OK(parse(body, "XyZ", &n, &d));
    CHECK_EQ_U64(3, n);
    check_part(0, "resources", "p1.bpmn", "<a>\r\n--XY\r\n</a>");
    check_part(1, "resources", "dir/p 2.bpmn", "b");
    check_part(2, "tenantId", NULL, "<default>");

    /* bare LF line ends, a preamble, padding after a delimiter, an epilogue,
     * an empty content */
    body = "preamble\n--b \t\n"
           "Content-Disposition: form-data; name=\"a\"; filename=\"x\\\"y\"\n"
           "\n"
           "one\n"
           "--b\n"
           "Content-Disposition: form-data; name=\"e\"\n"
           "\n"
           "\n"
           "--b--epilogue";
    CHECK_OK(parse(body, "b", &n, &d));
    CHECK_EQ_U64(2, n);
    check_part(0, "a", "x\"y", "one");
    check_part(1, "e", NULL, "");

    /* no part at all is well-formed */
    CHECK_OK(parse("--b--", "b", &n, &d));
    CHECK_EQ_U64(0, n);
}

static void test_multipart_errors(void)
{
    size_t n = 0;
    tandem_diag d;
    /* truncated in several places */
    CHECK_RC(TANDEM_EINCOMPLETE, parse("", "b", &n, &d));
    CHECK_RC(TANDEM_EINCOMPLETE, parse("--b", "b", &n, &d));
    CHECK_CONTAINS(d.message, "ends right after delimiter 1");
    CHECK_RC(TANDEM_EINCOMPLETE,
             parse("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", "b", &n, &d));
    CHECK_CONTAINS(d.message, "inside the part's headers");
    CHECK_RC(TANDEM_EINCOMPLETE,
             parse("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc", "b", &n, &d));
    CHECK_CONTAINS(d.message, "part 1 ('a') is truncated");
    /* the boundary is not there */
    CHECK_RC(TANDEM_EINVAL, parse("hello", "b", &n, &d));
    CHECK_CONTAINS(d.message, "does not contain its boundary 'b'");
    /* garbage after a delimiter */
    CHECK_RC(TANDEM_EINVAL, parse("--bx\r\n", "b", &n, &d));
    CHECK_CONTAINS(d.message, "followed by other characters");
    /* headers */
    CHECK_RC(TANDEM_EINVAL,
             parse("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "part 1 has no Content-Disposition header");
    CHECK_RC(TANDEM_EINVAL, parse("--b\r\nno colon here\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "malformed header line");
    CHECK_RC(
        TANDEM_EINVAL,
        parse("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "must be form-data");
    CHECK_RC(
        TANDEM_EINVAL,
        parse("--b\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "has no name");
    CHECK_RC(
        TANDEM_EINVAL,
        parse("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "malformed or longer than");
    CHECK_RC(TANDEM_EINVAL,
             parse("--b\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "malformed Content-Disposition");
    CHECK_RC(
        TANDEM_EINVAL,
        parse("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--", "b", &n, &d));
    CHECK_CONTAINS(d.message, "the field name is empty");
    CHECK_RC(TANDEM_EINVAL, parse("--b\r\nContent-Disposition: form-data; name=a\r\n"
                                  "Content-Disposition: form-data; name=b\r\n\r\nx\r\n--b--",
                                  "b", &n, &d));
    CHECK_CONTAINS(d.message, "more than one Content-Disposition header");
    /* too many header lines */
    char big[8192];
    size_t off = (size_t)snprintf(big, sizeof(big), "--b\r\n");
    for (int i = 0; i < GATEWAY_PART_HEADERS_MAX + 1; i++) {
        off += (size_t)snprintf(big + off, sizeof(big) - off, "X-H%d: v\r\n", i);
    }
    snprintf(big + off, sizeof(big) - off, "\r\nx\r\n--b--");
    CHECK_RC(TANDEM_EINVAL, parse(big, "b", &n, &d));
    CHECK_CONTAINS(d.message, "more than 16 header lines");
    /* too many parts */
    tandem_buf many = TANDEM_BUF_INIT;
    for (int i = 0; i < 3; i++) {
        const char *p = "--b\r\nContent-Disposition: form-data; name=x\r\n\r\ny\r\n";
        CHECK_OK(tandem_buf_append(&many, p, strlen(p)));
    }
    CHECK_OK(tandem_buf_append(&many, "--b--", 6));
    CHECK_RC(TANDEM_ETOOBIG,
             gateway_multipart_parse(many.data, many.len - 1, "b", parts, 2, &n, &d));
    CHECK_CONTAINS(d.message, "more than 2 parts");
    CHECK_OK(gateway_multipart_parse(many.data, many.len - 1, "b", parts, 3, &n, &d));
    CHECK_EQ_U64(3, n);
    tandem_buf_free(&many);
    /* a file name over the bound */
    char name[2000];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(big, sizeof(big),
             "--b\r\nContent-Disposition: form-data; name=r; filename=\"%s\"\r\n\r\nx\r\n--b--",
             name);
    CHECK_RC(TANDEM_EINVAL, parse(big, "b", &n, &d));
}

/* ---- keys ---- */

static void test_keys(void)
{
    int64_t k = 0;
    CHECK_OK(gateway_parse_key("2251799813690746", &k));
    CHECK_EQ_I64(2251799813690746LL, k);
    CHECK_OK(gateway_parse_key("-1", &k));
    CHECK_EQ_I64(-1, k);
    CHECK_OK(gateway_parse_key("9223372036854775807", &k));
    CHECK_EQ_I64(INT64_MAX, k);
    CHECK_OK(gateway_parse_key("-9223372036854775808", &k));
    CHECK_EQ_I64(INT64_MIN, k);
    CHECK_RC(TANDEM_ERANGE, gateway_parse_key("9223372036854775808", &k));
    const char *bad[] = {"",   "-",  "abc",  "12a", " 1",
                         "1 ", "+1", "0x10", "1.0", "00000000000000000000000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_MSG(gateway_parse_key(bad[i], &k) == TANDEM_EINVAL, "'%s' accepted", bad[i]);
    }
}

/* ---- decoding ---- */

static int decode(gateway_op op, const char *key, const char *body, gateway_decoded *out,
                  gateway_problem *p)
{
    memset(p, 0, sizeof(*p));
    return gateway_decode(op, key, (const uint8_t *)body, strlen(body), out, p);
}

/* Decoding must fail with 400 INVALID_ARGUMENT and exactly `detail`. */
static void check_invalid(gateway_op op, const char *key, const char *body, const char *detail)
{
    gateway_decoded d;
    gateway_problem p;
    int rc = decode(op, key, body, &d, &p);
    CHECK_MSG(rc == TANDEM_EINVAL, "%s accepted", body);
    CHECK_EQ_U64(400, p.status);
    CHECK_STREQ("INVALID_ARGUMENT", p.title);
    CHECK_STREQ(detail, p.detail);
}

static void test_decode_create(void)
{
    gateway_decoded d;
    gateway_problem p;
    CHECK_OK(decode(GATEWAY_OP_CREATE, NULL,
                    "{\"processDefinitionId\":\"p1\",\"variables\":{\"a\":1,\"s\":\"x\"},"
                    "\"awaitCompletion\":true,\"fetchVariables\":[\"a\"],\"requestTimeout\":5000,"
                    "\"tenantId\":\"<default>\",\"unknownField\":[1,2]}",
                    &d, &p));
    const tandem_gateway_create_request *r = &d.u.create;
    CHECK(!r->by_key);
    CHECK_STREQ("p1", r->process_definition_id);
    CHECK_EQ_I64(-1, r->version);
    CHECK_STREQ("{\"a\":1,\"s\":\"x\"}", r->variables_json);
    CHECK(r->await_completion);
    CHECK_EQ_U64(1, r->fetch_variable_count);
    CHECK_STREQ("a", r->fetch_variables[0]);
    CHECK(d.has_request_timeout);
    CHECK_EQ_I64(5000, d.request_timeout_ms);
    CHECK_EQ_I64(0, r->operation_reference);
    gateway_decoded_free(&d);

    CHECK_OK(decode(GATEWAY_OP_CREATE, NULL,
                    "{\"processDefinitionKey\":\"2251799813685249\",\"operationReference\":7,"
                    "\"variables\":null,\"startInstructions\":[]}",
                    &d, &p));
    CHECK(d.u.create.by_key);
    CHECK_EQ_I64(2251799813685249LL, d.u.create.process_definition_key);
    CHECK(d.u.create.process_definition_id == NULL);
    CHECK_STREQ("{}", d.u.create.variables_json);
    CHECK_EQ_I64(7, d.u.create.operation_reference);
    CHECK(!d.u.create.await_completion);
    CHECK(!d.has_request_timeout);
    gateway_decoded_free(&d);

    CHECK_OK(decode(GATEWAY_OP_CREATE, NULL,
                    "{\"processDefinitionId\":\"p\",\"processDefinitionVersion\":3}", &d, &p));
    CHECK_EQ_I64(3, d.u.create.version);
    gateway_decoded_free(&d);

    check_invalid(GATEWAY_OP_CREATE, NULL, "{}",
                  "At least one of [processDefinitionId, processDefinitionKey] is required.");
    check_invalid(GATEWAY_OP_CREATE, NULL,
                  "{\"processDefinitionId\":\"p\",\"processDefinitionKey\":\"1\"}",
                  "Only one of [processDefinitionId, processDefinitionKey] is allowed.");
    check_invalid(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionId\":\"\"}",
                  "No processDefinitionId provided.");
    check_invalid(GATEWAY_OP_CREATE, NULL,
                  "{\"processDefinitionId\":\"p\",\"operationReference\":0}",
                  "The value for operationReference is '0' but must be > 0.");
    check_invalid(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionKey\":\"12x\"}",
                  "The value for processDefinitionKey is '12x' but must be a numeric key as a "
                  "string within the 64-bit range.");
    check_invalid(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionKey\":\"99999999999999999999\"}",
                  "The value for processDefinitionKey is '99999999999999999999' but must be a "
                  "numeric key as a string within the 64-bit range.");
    /* several violations joined */
    check_invalid(GATEWAY_OP_CREATE, NULL,
                  "{\"processDefinitionId\":7,\"variables\":[1],\"awaitCompletion\":\"yes\","
                  "\"processDefinitionVersion\":-2}",
                  "The value for processDefinitionId is '7' but must be a string. The value for "
                  "processDefinitionVersion is '-2' but must be >= -1. The value for "
                  "awaitCompletion is 'yes' but must be a boolean. The value for variables is "
                  "'[1]' but must be a JSON object.");
    check_invalid(GATEWAY_OP_CREATE, NULL,
                  "{\"processDefinitionId\":\"p\",\"startInstructions\":[{\"elementId\":\"a\"}]}",
                  "startInstructions is not supported yet.");
    check_invalid(GATEWAY_OP_CREATE, NULL,
                  "{\"processDefinitionId\":\"p\",\"fetchVariables\":[\"a\",1]}",
                  "The value for fetchVariables is '[\"a\",1]' but must be an array of strings.");
    /* jansson refuses \u0000 in strings, so C strings are safe */
    gateway_decoded d2;
    CHECK_RC(TANDEM_EINVAL,
             decode(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionId\":\"a\\u0000b\"}", &d2, &p));
    CHECK_CONTAINS(p.detail, "is not allowed without JSON_ALLOW_NUL");
}

static void test_decode_json_errors(void)
{
    check_invalid(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionId\":",
                  "Request body is not valid JSON: unexpected token near end of file at line "
                  "1, column 23 (position 23).");
    gateway_decoded d;
    gateway_problem p;
    CHECK_RC(TANDEM_EINVAL, decode(GATEWAY_OP_ACTIVATE, NULL, "{\"type\":x}", &d, &p));
    CHECK_CONTAINS(p.detail, "Request body is not valid JSON: ");
    CHECK_CONTAINS(p.detail, "line 1, column 9");
    check_invalid(GATEWAY_OP_CREATE, NULL, "[1]", "Request body must be a JSON object.");
    check_invalid(GATEWAY_OP_CREATE, NULL, "", "Required request body is missing.");
    check_invalid(GATEWAY_OP_UPDATE, "1", " \r\n", "Required request body is missing.");
    CHECK_RC(TANDEM_EINVAL, decode(GATEWAY_OP_CREATE, NULL, "{\"a\":1,\"a\":2}", &d, &p));
    CHECK_CONTAINS(p.detail, "duplicate object key");
    /* optional bodies */
    CHECK_OK(decode(GATEWAY_OP_CANCEL, "42", "", &d, &p));
    CHECK_EQ_I64(42, d.u.cancel.process_instance_key);
    CHECK_EQ_I64(0, d.u.cancel.operation_reference);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_COMPLETE, "-5", "", &d, &p));
    CHECK_EQ_I64(-5, d.u.complete.job_key);
    CHECK_STREQ("{}", d.u.complete.variables_json);
    gateway_decoded_free(&d);
}

static void test_decode_tenants(void)
{
    const char *detail = "Tenant 'acme' is not allowed: multi-tenancy is not enabled; only tenant "
                         "'<default>' exists.";
    check_invalid(GATEWAY_OP_CREATE, NULL, "{\"processDefinitionId\":\"p\",\"tenantId\":\"acme\"}",
                  detail);
    check_invalid(GATEWAY_OP_ACTIVATE, NULL,
                  "{\"type\":\"t\",\"timeout\":1,\"maxJobsToActivate\":1,"
                  "\"tenantIds\":[\"<default>\",\"acme\"]}",
                  detail);
    check_invalid(GATEWAY_OP_COMPLETE, "1", "{\"tenantId\":\"acme\"}", detail);
    check_invalid(GATEWAY_OP_ACTIVATE, NULL,
                  "{\"type\":\"t\",\"timeout\":1,\"maxJobsToActivate\":1,\"tenantIds\":\"x\"}",
                  "The value for tenantIds is 'x' but must be an array of strings.");
    gateway_decoded d;
    gateway_problem p;
    CHECK_OK(decode(GATEWAY_OP_ACTIVATE, NULL,
                    "{\"type\":\"t\",\"timeout\":1,\"maxJobsToActivate\":1,"
                    "\"tenantIds\":[\"<default>\"],\"tenantId\":\"<default>\"}",
                    &d, &p));
    gateway_decoded_free(&d);
}

static void test_decode_jobs(void)
{
    gateway_decoded d;
    gateway_problem p;
    CHECK_OK(
        decode(GATEWAY_OP_ACTIVATE, NULL,
               "{\"type\":\"work\",\"worker\":\"w1\",\"timeout\":30000,"
               "\"maxJobsToActivate\":5,\"requestTimeout\":-1,\"fetchVariable\":[\"a\",\"b\"]}",
               &d, &p));
    const tandem_gateway_activate_request *a = &d.u.activate;
    CHECK_STREQ("work", a->type);
    CHECK_STREQ("w1", a->worker);
    CHECK_EQ_I64(30000, a->timeout_ms);
    CHECK_EQ_I64(5, a->max_jobs);
    CHECK_EQ_U64(2, a->fetch_variable_count);
    CHECK_STREQ("b", a->fetch_variables[1]);
    CHECK(d.has_request_timeout);
    CHECK_EQ_I64(-1, d.request_timeout_ms);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_ACTIVATE, NULL,
                    "{\"type\":\"w\",\"timeout\":1,\"maxJobsToActivate\":100000}", &d, &p));
    CHECK_EQ_I64(TANDEM_GATEWAY_JOBS_MAX, d.u.activate.max_jobs);
    CHECK_STREQ("", d.u.activate.worker);
    CHECK_EQ_U64(0, d.u.activate.fetch_variable_count);
    gateway_decoded_free(&d);
    check_invalid(GATEWAY_OP_ACTIVATE, NULL, "{}",
                  "No type provided. No timeout provided. No maxJobsToActivate provided.");
    check_invalid(GATEWAY_OP_ACTIVATE, NULL,
                  "{\"type\":\"\",\"timeout\":0,\"maxJobsToActivate\":\"5\"}",
                  "No type provided. The value for timeout is '0' but must be > 0. The value for "
                  "maxJobsToActivate is '5' but must be an integer.");
    check_invalid(GATEWAY_OP_ACTIVATE, NULL,
                  "{\"type\":\"t\",\"timeout\":1.5,\"maxJobsToActivate\":1}",
                  "The value for timeout is '1.5' but must be an integer.");

    CHECK_OK(decode(GATEWAY_OP_FAIL, "7",
                    "{\"retries\":2,\"errorMessage\":\"x\",\"retryBackOff\":1000,"
                    "\"variables\":{\"b\":[true]}}",
                    &d, &p));
    CHECK_EQ_I64(7, d.u.fail.job_key);
    CHECK_EQ_I64(2, d.u.fail.retries);
    CHECK_STREQ("x", d.u.fail.error_message);
    CHECK_EQ_I64(1000, d.u.fail.retry_backoff_ms);
    CHECK_STREQ("{\"b\":[true]}", d.u.fail.variables_json);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_FAIL, "7", "{}", &d, &p));
    CHECK_EQ_I64(0, d.u.fail.retries);
    CHECK_STREQ("", d.u.fail.error_message);
    gateway_decoded_free(&d);
    check_invalid(GATEWAY_OP_FAIL, "7", "{\"retries\":-1,\"retryBackOff\":-5}",
                  "The value for retries is '-1' but must be >= 0. The value for retryBackOff is "
                  "'-5' but must be >= 0.");

    CHECK_OK(decode(GATEWAY_OP_UPDATE, "9", "{\"changeset\":{\"retries\":3}}", &d, &p));
    CHECK(d.u.update.has_retries && !d.u.update.has_timeout);
    CHECK_EQ_I64(3, d.u.update.retries);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_UPDATE, "9",
                    "{\"changeset\":{\"timeout\":60000,\"retries\":null},\"operationReference\":2}",
                    &d, &p));
    CHECK(!d.u.update.has_retries && d.u.update.has_timeout);
    CHECK_EQ_I64(60000, d.u.update.timeout_ms);
    CHECK_EQ_I64(2, d.u.update.operation_reference);
    gateway_decoded_free(&d);
    check_invalid(GATEWAY_OP_UPDATE, "9", "{\"changeset\":{}}",
                  "At least one of [retries, timeout] is required.");
    check_invalid(GATEWAY_OP_UPDATE, "9", "{}", "No changeset provided.");
    check_invalid(GATEWAY_OP_UPDATE, "9", "{\"changeset\":5}",
                  "The value for changeset is '5' but must be a JSON object.");
    check_invalid(GATEWAY_OP_COMPLETE, "1", "{\"variables\":\"x\"}",
                  "The value for variables is 'x' but must be a JSON object.");
}

static void test_decode_incidents_and_variables(void)
{
    gateway_decoded d;
    gateway_problem p;
    CHECK_OK(decode(GATEWAY_OP_RESOLVE, "42", "", &d, &p));
    CHECK_EQ_I64(42, d.u.resolve.incident_key);
    CHECK_EQ_I64(0, d.u.resolve.operation_reference);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_RESOLVE, "42", "{\"operationReference\":3}", &d, &p));
    CHECK_EQ_I64(3, d.u.resolve.operation_reference);
    gateway_decoded_free(&d);
    check_invalid(GATEWAY_OP_RESOLVE, "42", "{\"operationReference\":\"x\"}",
                  "The value for operationReference is 'x' but must be an integer.");
    check_invalid(GATEWAY_OP_RESOLVE, "-", "",
                  "The provided incidentKey '-' is not a valid key: expected a numeric value "
                  "within the 64-bit range.");

    CHECK_OK(
        decode(GATEWAY_OP_VARIABLES, "77", "{\"variables\":{\"a\":[1,2]},\"local\":true}", &d, &p));
    CHECK_EQ_I64(77, d.u.variables.element_instance_key);
    CHECK(d.u.variables.local);
    CHECK_STREQ("{\"a\":[1,2]}", d.u.variables.variables_json);
    gateway_decoded_free(&d);
    CHECK_OK(decode(GATEWAY_OP_VARIABLES, "77", "{\"variables\":{}}", &d, &p));
    CHECK(!d.u.variables.local);
    CHECK_STREQ("{}", d.u.variables.variables_json);
    gateway_decoded_free(&d);
    check_invalid(GATEWAY_OP_VARIABLES, "77", "{}", "No variables provided.");
    check_invalid(GATEWAY_OP_VARIABLES, "77", " ", "Required request body is missing.");
    check_invalid(GATEWAY_OP_VARIABLES, "77", "{\"variables\":5,\"local\":\"yes\"}",
                  "The value for local is 'yes' but must be a boolean. The value for variables "
                  "is '5' but must be a JSON object.");
    check_invalid(GATEWAY_OP_VARIABLES, "x", "{\"variables\":{}}",
                  "The provided elementInstanceKey 'x' is not a valid key: expected a numeric "
                  "value within the 64-bit range.");
}

static void test_decode_path_keys(void)
{
    check_invalid(GATEWAY_OP_COMPLETE, "abc", "{}",
                  "The provided jobKey 'abc' is not a valid key: expected a numeric value within "
                  "the 64-bit range.");
    check_invalid(GATEWAY_OP_CANCEL, "99999999999999999999", "{}",
                  "The provided processInstanceKey '99999999999999999999' is not a valid key: "
                  "expected a numeric value within the 64-bit range.");
    check_invalid(GATEWAY_OP_UPDATE, "", "{\"changeset\":{\"retries\":1}}",
                  "The provided jobKey '' is not a valid key: expected a numeric value within "
                  "the 64-bit range.");
}

/* ---- encoding ---- */

static void check_buf(const char *expected, tandem_buf *b)
{
    CHECK_OK(tandem_buf_append(b, "", 1));
    CHECK_STREQ(expected, (const char *)b->data);
    tandem_buf_free(b);
}

static void test_encode(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_gateway_topology t;
    memset(&t, 0, sizeof(t));
    t.cluster_size = 1;
    t.partitions_count = 2;
    t.replication_factor = 1;
    t.last_completed_change_id = -1;
    t.broker_count = 1;
    t.brokers[0].node_id = 0;
    snprintf(t.brokers[0].host, sizeof(t.brokers[0].host), "127.0.0.1");
    t.brokers[0].port = 26502;
    snprintf(t.brokers[0].version, sizeof(t.brokers[0].version), "8.8.0");
    t.brokers[0].partition_count = 2;
    t.brokers[0].partitions[0] =
        (tandem_gateway_partition){1, TANDEM_GATEWAY_ROLE_LEADER, TANDEM_GATEWAY_HEALTHY};
    t.brokers[0].partitions[1] =
        (tandem_gateway_partition){2, TANDEM_GATEWAY_ROLE_FOLLOWER, TANDEM_GATEWAY_UNHEALTHY};
    CHECK_OK(gateway_encode_topology(&b, &t, "8.8.0"));
    check_buf("{\"brokers\":[{\"nodeId\":0,\"host\":\"127.0.0.1\",\"port\":26502,\"partitions\":["
              "{\"partitionId\":1,\"role\":\"leader\",\"health\":\"healthy\"},"
              "{\"partitionId\":2,\"role\":\"follower\",\"health\":\"unhealthy\"}],"
              "\"version\":\"8.8.0\"}],\"clusterSize\":1,\"partitionsCount\":2,"
              "\"replicationFactor\":1,\"gatewayVersion\":\"8.8.0\","
              "\"lastCompletedChangeId\":\"-1\"}",
              &b);

    tandem_gateway_deployed_process procs[2] = {{"p1", 1, "p1.bpmn", 2251799813685249LL},
                                                {"p\"2", 3, "p2.bpmn", 5}};
    tandem_gateway_deployment dep = {2251799813685250LL, procs, 2};
    CHECK_OK(gateway_encode_deployment(&b, &dep));
    check_buf("{\"tenantId\":\"<default>\",\"deploymentKey\":\"2251799813685250\","
              "\"deployments\":[{\"processDefinition\":{\"processDefinitionId\":\"p1\","
              "\"processDefinitionVersion\":1,\"resourceName\":\"p1.bpmn\","
              "\"tenantId\":\"<default>\",\"processDefinitionKey\":\"2251799813685249\"}},"
              "{\"processDefinition\":{\"processDefinitionId\":\"p\\\"2\","
              "\"processDefinitionVersion\":3,\"resourceName\":\"p2.bpmn\","
              "\"tenantId\":\"<default>\",\"processDefinitionKey\":\"5\"}}]}",
              &b);

    tandem_gateway_instance pi = {"p1", 2, 10, 11, NULL};
    CHECK_OK(gateway_encode_instance(&b, &pi));
    check_buf("{\"processDefinitionId\":\"p1\",\"processDefinitionVersion\":2,"
              "\"tenantId\":\"<default>\",\"variables\":{},\"processDefinitionKey\":\"10\","
              "\"processInstanceKey\":\"11\"}",
              &b);

    CHECK_OK(gateway_encode_jobs(&b, NULL, 0));
    check_buf("{\"jobs\":[]}", &b);
    tandem_gateway_job job = {.job_key = 100,
                              .type = "work",
                              .process_definition_id = "p1",
                              .process_definition_version = 1,
                              .element_id = "task",
                              .custom_headers_json = "{\"h\":\"v\"}",
                              .worker = "w1",
                              .retries = 3,
                              .deadline_ms = 1700000000000LL,
                              .variables_json = "{\"a\":1}",
                              .process_instance_key = 101,
                              .process_definition_key = 102,
                              .element_instance_key = 103};
    CHECK_OK(gateway_encode_jobs(&b, &job, 1));
    check_buf(
        "{\"jobs\":[{\"type\":\"work\",\"processDefinitionId\":\"p1\","
        "\"processDefinitionVersion\":1,\"elementId\":\"task\",\"customHeaders\":{\"h\":\"v\"},"
        "\"worker\":\"w1\",\"retries\":3,\"deadline\":1700000000000,\"variables\":{\"a\":1},"
        "\"tenantId\":\"<default>\",\"jobKey\":\"100\",\"processInstanceKey\":\"101\","
        "\"processDefinitionKey\":\"102\",\"elementInstanceKey\":\"103\","
        "\"kind\":\"BPMN_ELEMENT\",\"listenerEventType\":\"UNSPECIFIED\"}]}",
        &b);

    CHECK_STREQ("NOT_FOUND", tandem_gateway_rejection_name(TANDEM_GATEWAY_NOT_FOUND));
    CHECK_EQ_U64(404, tandem_gateway_rejection_status(TANDEM_GATEWAY_NOT_FOUND));
    CHECK_EQ_U64(409, tandem_gateway_rejection_status(TANDEM_GATEWAY_INVALID_STATE));
    CHECK_EQ_U64(409, tandem_gateway_rejection_status(TANDEM_GATEWAY_ALREADY_EXISTS));
    CHECK_EQ_U64(400, tandem_gateway_rejection_status(TANDEM_GATEWAY_INVALID_ARGUMENT));
    CHECK_EQ_U64(500, tandem_gateway_rejection_status(TANDEM_GATEWAY_PROCESSING_ERROR));
}

static const tandem_test cases[] = {
    {"multipart_boundary", test_multipart_boundary},
    {"multipart_parse", test_multipart_parse},
    {"multipart_errors", test_multipart_errors},
    {"keys", test_keys},
    {"decode_create", test_decode_create},
    {"decode_json_errors", test_decode_json_errors},
    {"decode_tenants", test_decode_tenants},
    {"decode_jobs", test_decode_jobs},
    {"decode_path_keys", test_decode_path_keys},
    {"decode_incidents_and_variables", test_decode_incidents_and_variables},
    {"encode", test_encode},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
