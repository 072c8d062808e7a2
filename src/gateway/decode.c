/*
 * Request bodies and path keys -> the request structs of gateway.h.
 *
 * Validation follows Camunda's gateway so clients see familiar messages: all
 * violations of a request are collected and joined with ". " into one detail
 * ending in "." ("No type provided. No timeout provided."). Unknown fields
 * are ignored, because clients send more than this server uses; JSON null
 * counts as an absent field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "gateway/gateway_int.h"

#define KEY_TEXT_SIZE_MAX    25 /* the API's LongKey maxLength */
#define VALUE_SHOWN_SIZE_MAX 64 /* a rejected value is quoted up to this many bytes */

/* Collected violations of one request. */
typedef struct violations {
    char text[GATEWAY_DETAIL_SIZE_MAX];
    size_t len;
    uint32_t count;
} violations;

static void add(violations *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(violations *v, const char *fmt, ...)
{
    TANDEM_ASSERT(v != NULL && fmt != NULL);
    TANDEM_ASSERT(v->len < sizeof(v->text));
    if (v->count > 0 && v->len + 2 < sizeof(v->text)) {
        memcpy(v->text + v->len, ". ", 3);
        v->len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->text + v->len, sizeof(v->text) - v->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        v->len += (size_t)n;
    }
    if (v->len >= sizeof(v->text) - 1) {
        v->len = sizeof(v->text) - 2; /* truncated; room for the final "." */
        v->text[v->len] = '\0';
    }
    v->count++;
}

int gateway_problem_invalid(gateway_problem *problem, const char *fmt, ...)
{
    TANDEM_ASSERT(problem != NULL && fmt != NULL);
    TANDEM_ASSERT(fmt[0] != '\0');
    problem->status = 400;
    problem->title = "INVALID_ARGUMENT";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem->detail, sizeof(problem->detail), fmt, ap);
    va_end(ap);
    return TANDEM_EINVAL;
}

static int finish(violations *v, gateway_problem *problem)
{
    TANDEM_ASSERT(v != NULL && problem != NULL);
    TANDEM_ASSERT(v->count > 0);
    return gateway_problem_invalid(problem, "%s.", v->text);
}

/* The value as short JSON text, for messages. */
static void shown(const json_t *value, char out[VALUE_SHOWN_SIZE_MAX + 4])
{
    TANDEM_ASSERT(value != NULL && out != NULL);
    TANDEM_ASSERT(VALUE_SHOWN_SIZE_MAX < GATEWAY_DETAIL_SIZE_MAX / 4);
    if (json_is_string(value)) {
        snprintf(out, VALUE_SHOWN_SIZE_MAX + 4, "%.*s", VALUE_SHOWN_SIZE_MAX,
                 json_string_value(value));
        return;
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, VALUE_SHOWN_SIZE_MAX + 4, "%.*s%s", VALUE_SHOWN_SIZE_MAX,
             text != NULL ? text : "?",
             text != NULL && strlen(text) > VALUE_SHOWN_SIZE_MAX ? "..." : "");
    free(text);
}

static void add_bad_value(violations *v, const char *name, const json_t *value, const char *must)
{
    TANDEM_ASSERT(v != NULL && name != NULL);
    TANDEM_ASSERT(value != NULL && must != NULL);
    char s[VALUE_SHOWN_SIZE_MAX + 4];
    shown(value, s);
    add(v, "The value for %s is '%s' but must be %s", name, s, must);
}

int gateway_parse_key(const char *text, int64_t *out)
{
    TANDEM_ASSERT(text != NULL && out != NULL);
    size_t len = strlen(text);
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (len == 0 || len > KEY_TEXT_SIZE_MAX || digits[0] == '\0') {
        return TANDEM_EINVAL;
    }
    for (const char *p = digits; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return TANDEM_EINVAL;
        }
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE) {
        return TANDEM_ERANGE;
    }
    TANDEM_ASSERT(end == text + len);
    *out = (int64_t)v;
    return TANDEM_OK;
}

/* A key field: a string as the API says, or (leniently) a JSON integer. */
static bool get_key(const json_t *obj, const char *name, bool *present, int64_t *out, violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && present != NULL);
    TANDEM_ASSERT(out != NULL && v != NULL);
    const json_t *value = json_object_get(obj, name);
    *present = value != NULL && !json_is_null(value);
    if (!*present) {
        return true;
    }
    if (json_is_integer(value)) {
        *out = (int64_t)json_integer_value(value);
        return true;
    }
    if (!json_is_string(value) || strlen(json_string_value(value)) != json_string_length(value) ||
        gateway_parse_key(json_string_value(value), out) != TANDEM_OK) {
        add_bad_value(v, name, value, "a numeric key as a string within the 64-bit range");
        return false;
    }
    return true;
}

/* An optional string; *out stays as given (the default) when absent. */
static bool get_string(const json_t *obj, const char *name, const char **out, violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && out != NULL);
    TANDEM_ASSERT(v != NULL && json_is_object(obj));
    const json_t *value = json_object_get(obj, name);
    if (value == NULL || json_is_null(value)) {
        return true;
    }
    if (!json_is_string(value)) {
        add_bad_value(v, name, value, "a string");
        return false;
    }
    if (strlen(json_string_value(value)) != json_string_length(value)) {
        add(v, "The value for %s must not contain NUL characters", name);
        return false;
    }
    *out = json_string_value(value);
    return true;
}

/* An optional integer in [min, max]; *present false when absent. */
static bool get_int(const json_t *obj, const char *name, int64_t min, int64_t max, bool *present,
                    int64_t *out, violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && present != NULL);
    TANDEM_ASSERT(min <= max && out != NULL);
    const json_t *value = json_object_get(obj, name);
    *present = value != NULL && !json_is_null(value);
    if (!*present) {
        return true;
    }
    if (!json_is_integer(value)) {
        add_bad_value(v, name, value, "an integer");
        return false;
    }
    json_int_t i = json_integer_value(value);
    if (i < min) {
        if (min == 1) {
            add(v, "The value for %s is '%lld' but must be > 0", name, (long long)i);
        } else {
            add(v, "The value for %s is '%lld' but must be >= %lld", name, (long long)i,
                (long long)min);
        }
        return false;
    }
    if (i > max) {
        add(v, "The value for %s is '%lld' but must be <= %lld", name, (long long)i,
            (long long)max);
        return false;
    }
    *out = (int64_t)i;
    return true;
}

static bool get_bool(const json_t *obj, const char *name, bool *out, violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && out != NULL);
    TANDEM_ASSERT(v != NULL && json_is_object(obj));
    const json_t *value = json_object_get(obj, name);
    if (value == NULL || json_is_null(value)) {
        return true;
    }
    if (!json_is_boolean(value)) {
        add_bad_value(v, name, value, "a boolean");
        return false;
    }
    *out = json_is_true(value);
    return true;
}

/* variables: an object (or absent/null = {}), kept as compact text. */
static int get_variables(const json_t *obj, const char *name, char **out, violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && out != NULL);
    TANDEM_ASSERT(*out == NULL);
    const json_t *value = json_object_get(obj, name);
    if (value != NULL && !json_is_null(value) && !json_is_object(value)) {
        add_bad_value(v, name, value, "a JSON object");
        return TANDEM_OK;
    }
    if (value == NULL || json_is_null(value)) {
        *out = strdup("{}");
    } else {
        *out = json_dumps(value, JSON_COMPACT);
    }
    return *out != NULL ? TANDEM_OK : TANDEM_ENOMEM;
}

/* An array of strings (or absent/null = empty) as views into the document. */
static int get_string_array(const json_t *obj, const char *name, const char ***out, uint32_t *count,
                            violations *v)
{
    TANDEM_ASSERT(obj != NULL && name != NULL && out != NULL);
    TANDEM_ASSERT(count != NULL && *out == NULL);
    *count = 0;
    const json_t *value = json_object_get(obj, name);
    if (value == NULL || json_is_null(value)) {
        return TANDEM_OK;
    }
    if (!json_is_array(value)) {
        add_bad_value(v, name, value, "an array of strings");
        return TANDEM_OK;
    }
    size_t n = json_array_size(value);
    if (n > TANDEM_GATEWAY_FETCH_VARIABLES_MAX) {
        add(v, "The value for %s has %zu entries but must have at most %d", name, n,
            TANDEM_GATEWAY_FETCH_VARIABLES_MAX);
        return TANDEM_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(value, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
            add_bad_value(v, name, value, "an array of strings");
            return TANDEM_OK;
        }
    }
    if (n == 0) {
        return TANDEM_OK;
    }
    const char **names = calloc(n, sizeof(*names));
    if (names == NULL) {
        return TANDEM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = json_string_value(json_array_get(value, i));
    }
    *out = names;
    *count = (uint32_t)n;
    return TANDEM_OK;
}

bool gateway_tenant_ok(const char *tenant, gateway_problem *problem)
{
    TANDEM_ASSERT(tenant != NULL && problem != NULL);
    TANDEM_ASSERT(sizeof(TANDEM_GATEWAY_DEFAULT_TENANT) > 1);
    if (strcmp(tenant, TANDEM_GATEWAY_DEFAULT_TENANT) == 0) {
        return true;
    }
    gateway_problem_invalid(problem,
                            "Tenant '%.64s' is not allowed: multi-tenancy is not enabled; only "
                            "tenant '<default>' exists.",
                            tenant);
    return false;
}

/* tenantId (a string) or tenantIds (an array) must name the default tenant. */
static bool check_tenants(const json_t *root, gateway_problem *problem, violations *v)
{
    TANDEM_ASSERT(root != NULL && problem != NULL);
    TANDEM_ASSERT(v != NULL && json_is_object(root));
    const char *tenant = NULL;
    if (!get_string(root, "tenantId", &tenant, v)) {
        return true; /* reported as a violation */
    }
    if (tenant != NULL && !gateway_tenant_ok(tenant, problem)) {
        return false;
    }
    const json_t *ids = json_object_get(root, "tenantIds");
    if (ids == NULL || json_is_null(ids)) {
        return true;
    }
    if (!json_is_array(ids)) {
        add_bad_value(v, "tenantIds", ids, "an array of strings");
        return true;
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *item = json_array_get(ids, i);
        if (!json_is_string(item)) {
            add_bad_value(v, "tenantIds", ids, "an array of strings");
            return true;
        }
        if (!gateway_tenant_ok(json_string_value(item), problem)) {
            return false;
        }
    }
    return true;
}

/* A non-empty array the server does not support yet is refused rather than
 * silently ignored. */
static void refuse_nonempty(const json_t *root, const char *name, violations *v)
{
    TANDEM_ASSERT(root != NULL && name != NULL);
    TANDEM_ASSERT(v != NULL);
    const json_t *value = json_object_get(root, name);
    if (value != NULL && !json_is_null(value) &&
        (!json_is_array(value) || json_array_size(value) > 0)) {
        add(v, "%s is not supported yet", name);
    }
}

static int decode_create(gateway_decoded *d, violations *v)
{
    TANDEM_ASSERT(d != NULL && d->root != NULL);
    TANDEM_ASSERT(d->op == GATEWAY_OP_CREATE && d->variables_json == NULL);
    tandem_gateway_create_request *r = &d->u.create;
    const json_t *root = d->root;
    const char *id = NULL;
    bool id_ok = get_string(root, "processDefinitionId", &id, v);
    bool has_key = false;
    bool key_ok = get_key(root, "processDefinitionKey", &has_key, &r->process_definition_key, v);
    if (id_ok && key_ok) {
        if (id == NULL && !has_key) {
            add(v, "At least one of [processDefinitionId, processDefinitionKey] is required");
        } else if (id != NULL && has_key) {
            add(v, "Only one of [processDefinitionId, processDefinitionKey] is allowed");
        } else if (id != NULL && id[0] == '\0') {
            add(v, "No processDefinitionId provided");
        }
    }
    r->by_key = has_key;
    r->process_definition_id = has_key ? NULL : id;
    bool present = false;
    int64_t version = -1;
    get_int(root, "processDefinitionVersion", -1, INT32_MAX, &present, &version, v);
    r->version = (int32_t)version;
    int64_t ref = 0;
    get_int(root, "operationReference", 1, INT64_MAX, &present, &ref, v);
    r->operation_reference = ref;
    get_bool(root, "awaitCompletion", &r->await_completion, v);
    get_int(root, "requestTimeout", 0, INT64_MAX, &d->has_request_timeout, &d->request_timeout_ms,
            v);
    refuse_nonempty(root, "startInstructions", v);
    refuse_nonempty(root, "runtimeInstructions", v);
    int rc = get_variables(root, "variables", &d->variables_json, v);
    rc = rc != TANDEM_OK
             ? rc
             : get_string_array(root, "fetchVariables", &d->fetch, &r->fetch_variable_count, v);
    r->variables_json = d->variables_json;
    r->fetch_variables = d->fetch;
    return rc;
}

static int decode_activate(gateway_decoded *d, violations *v)
{
    TANDEM_ASSERT(d != NULL && d->root != NULL);
    TANDEM_ASSERT(d->op == GATEWAY_OP_ACTIVATE && d->fetch == NULL);
    tandem_gateway_activate_request *r = &d->u.activate;
    const json_t *root = d->root;
    r->type = NULL;
    r->worker = "";
    if (get_string(root, "type", &r->type, v) && (r->type == NULL || r->type[0] == '\0')) {
        add(v, "No type provided");
    }
    get_string(root, "worker", &r->worker, v);
    bool present = false;
    if (get_int(root, "timeout", 1, INT64_MAX, &present, &r->timeout_ms, v) && !present) {
        add(v, "No timeout provided");
    }
    int64_t max = 0;
    if (get_int(root, "maxJobsToActivate", 1, INT32_MAX, &present, &max, v) && !present) {
        add(v, "No maxJobsToActivate provided");
    }
    /* More than the bound is not an error: fewer jobs is always a valid answer. */
    r->max_jobs = (int32_t)(max > TANDEM_GATEWAY_JOBS_MAX ? TANDEM_GATEWAY_JOBS_MAX : max);
    get_int(root, "requestTimeout", INT64_MIN, INT64_MAX, &d->has_request_timeout,
            &d->request_timeout_ms, v);
    int rc = get_string_array(root, "fetchVariable", &d->fetch, &r->fetch_variable_count, v);
    r->fetch_variables = d->fetch;
    return rc;
}

static int decode_fail(gateway_decoded *d, violations *v)
{
    TANDEM_ASSERT(d != NULL && d->root != NULL);
    TANDEM_ASSERT(d->op == GATEWAY_OP_FAIL && d->variables_json == NULL);
    tandem_gateway_fail_request *r = &d->u.fail;
    const json_t *root = d->root;
    bool present = false;
    int64_t retries = 0;
    get_int(root, "retries", 0, INT32_MAX, &present, &retries, v);
    r->retries = (int32_t)retries;
    r->error_message = "";
    get_string(root, "errorMessage", &r->error_message, v);
    r->retry_backoff_ms = 0;
    get_int(root, "retryBackOff", 0, INT64_MAX, &present, &r->retry_backoff_ms, v);
    int rc = get_variables(root, "variables", &d->variables_json, v);
    r->variables_json = d->variables_json;
    return rc;
}

static void decode_update(gateway_decoded *d, violations *v)
{
    TANDEM_ASSERT(d != NULL && d->root != NULL);
    TANDEM_ASSERT(d->op == GATEWAY_OP_UPDATE && v != NULL);
    tandem_gateway_update_request *r = &d->u.update;
    const json_t *cs = json_object_get(d->root, "changeset");
    bool present = false;
    int64_t ref = 0;
    get_int(d->root, "operationReference", 1, INT64_MAX, &present, &ref, v);
    r->operation_reference = ref;
    if (cs == NULL || json_is_null(cs)) {
        add(v, "No changeset provided");
        return;
    }
    if (!json_is_object(cs)) {
        add_bad_value(v, "changeset", cs, "a JSON object");
        return;
    }
    int64_t retries = 0;
    bool ok = get_int(cs, "retries", 0, INT32_MAX, &r->has_retries, &retries, v);
    r->retries = (int32_t)retries;
    ok = get_int(cs, "timeout", 0, INT64_MAX, &r->has_timeout, &r->timeout_ms, v) && ok;
    if (ok && !r->has_retries && !r->has_timeout) {
        add(v, "At least one of [retries, timeout] is required");
    }
}

/* SetVariableRequest: variables required (an object), local optional. */
static int decode_variables(gateway_decoded *d, violations *v)
{
    TANDEM_ASSERT(d != NULL && d->root != NULL);
    TANDEM_ASSERT(d->op == GATEWAY_OP_VARIABLES && d->variables_json == NULL);
    tandem_gateway_variables_request *r = &d->u.variables;
    bool present = false;
    get_int(d->root, "operationReference", 1, INT64_MAX, &present, &r->operation_reference, v);
    r->local = false;
    get_bool(d->root, "local", &r->local, v);
    const json_t *vars = json_object_get(d->root, "variables");
    if (vars == NULL || json_is_null(vars)) {
        add(v, "No variables provided");
        return TANDEM_OK;
    }
    int rc = get_variables(d->root, "variables", &d->variables_json, v);
    r->variables_json = d->variables_json;
    return rc;
}

static int decode_path_key(gateway_op op, const char *path_key, int64_t *out,
                           gateway_problem *problem)
{
    TANDEM_ASSERT(out != NULL && problem != NULL);
    TANDEM_ASSERT(path_key != NULL);
    const char *name = op == GATEWAY_OP_CANCEL      ? "processInstanceKey"
                       : op == GATEWAY_OP_RESOLVE   ? "incidentKey"
                       : op == GATEWAY_OP_VARIABLES ? "elementInstanceKey"
                                                    : "jobKey";
    if (gateway_parse_key(path_key, out) != TANDEM_OK) {
        return gateway_problem_invalid(problem,
                                       "The provided %s '%.64s' is not a valid key: expected a "
                                       "numeric value within the 64-bit range.",
                                       name, path_key);
    }
    return TANDEM_OK;
}

static bool body_blank(const uint8_t *body, size_t len)
{
    TANDEM_ASSERT(body != NULL || len == 0);
    TANDEM_ASSERT(len < SIZE_MAX);
    for (size_t i = 0; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
            return false;
        }
    }
    return true;
}

/* Parses the body into d->root (an object). */
static int parse_body(gateway_op op, const uint8_t *body, size_t len, gateway_decoded *d,
                      gateway_problem *problem)
{
    TANDEM_ASSERT(d != NULL && problem != NULL);
    TANDEM_ASSERT(d->root == NULL);
    bool optional = op == GATEWAY_OP_CANCEL || op == GATEWAY_OP_COMPLETE || op == GATEWAY_OP_FAIL ||
                    op == GATEWAY_OP_RESOLVE;
    if (body_blank(body, len)) {
        if (!optional) {
            return gateway_problem_invalid(problem, "Required request body is missing.");
        }
        d->root = json_object();
        return d->root != NULL ? TANDEM_OK : TANDEM_ENOMEM;
    }
    json_error_t err;
    d->root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
    if (d->root == NULL) {
        return gateway_problem_invalid(problem,
                                       "Request body is not valid JSON: %s at line %d, column %d "
                                       "(position %d).",
                                       err.text, err.line, err.column, err.position);
    }
    if (!json_is_object(d->root)) {
        json_decref(d->root);
        d->root = NULL;
        return gateway_problem_invalid(problem, "Request body must be a JSON object.");
    }
    return TANDEM_OK;
}

int gateway_decode(gateway_op op, const char *path_key, const uint8_t *body, size_t len,
                   gateway_decoded *out, gateway_problem *problem)
{
    TANDEM_ASSERT(op != GATEWAY_OP_DEPLOY && op < GATEWAY_OP_COUNT);
    TANDEM_ASSERT(out != NULL && problem != NULL);
    memset(out, 0, sizeof(*out));
    out->op = op;
    int64_t key = 0;
    bool keyed = op != GATEWAY_OP_CREATE && op != GATEWAY_OP_ACTIVATE;
    TANDEM_ASSERT(keyed == (path_key != NULL));
    int rc = keyed ? decode_path_key(op, path_key, &key, problem) : TANDEM_OK;
    rc = rc != TANDEM_OK ? rc : parse_body(op, body, len, out, problem);
    if (rc != TANDEM_OK) {
        gateway_decoded_free(out);
        return rc;
    }
    violations v = {.len = 0, .count = 0};
    v.text[0] = '\0';
    bool ok = check_tenants(out->root, problem, &v);
    switch (op) {
    case GATEWAY_OP_CREATE:
        rc = decode_create(out, &v);
        break;
    case GATEWAY_OP_CANCEL: {
        out->u.cancel.process_instance_key = key;
        bool present = false;
        get_int(out->root, "operationReference", 1, INT64_MAX, &present,
                &out->u.cancel.operation_reference, &v);
        break;
    }
    case GATEWAY_OP_ACTIVATE:
        rc = decode_activate(out, &v);
        break;
    case GATEWAY_OP_COMPLETE:
        out->u.complete.job_key = key;
        rc = get_variables(out->root, "variables", &out->variables_json, &v);
        out->u.complete.variables_json = out->variables_json;
        break;
    case GATEWAY_OP_FAIL:
        out->u.fail.job_key = key;
        rc = decode_fail(out, &v);
        break;
    case GATEWAY_OP_UPDATE:
        out->u.update.job_key = key;
        decode_update(out, &v);
        break;
    case GATEWAY_OP_RESOLVE: {
        out->u.resolve.incident_key = key;
        bool present = false;
        get_int(out->root, "operationReference", 1, INT64_MAX, &present,
                &out->u.resolve.operation_reference, &v);
        break;
    }
    case GATEWAY_OP_VARIABLES:
        out->u.variables.element_instance_key = key;
        rc = decode_variables(out, &v);
        break;
    default:
        TANDEM_UNREACHABLE();
    }
    if (rc == TANDEM_OK && !ok) {
        rc = TANDEM_EINVAL; /* the tenant problem is already in *problem */
    } else if (rc == TANDEM_OK && v.count > 0) {
        rc = finish(&v, problem);
    }
    if (rc != TANDEM_OK) {
        gateway_decoded_free(out);
    }
    return rc;
}

void gateway_decoded_free(gateway_decoded *d)
{
    TANDEM_ASSERT(d != NULL);
    TANDEM_ASSERT(d->op < GATEWAY_OP_COUNT);
    json_decref(d->root);
    free(d->variables_json);
    free((void *)d->fetch);
    d->root = NULL;
    d->variables_json = NULL;
    d->fetch = NULL;
}
