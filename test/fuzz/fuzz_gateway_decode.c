/*
 * fuzz_gateway_decode.c — arbitrary bytes as a JSON request of the REST
 * gateway: the first byte picks the operation, the bytes up to the first
 * newline are the {key} path parameter (for the keyed operations), the rest
 * is the body.
 *
 * Decoding must succeed or give a 400 with a detail, never crash or leak.
 * What decodes is encoded back into the answers that echo it, and those must
 * be valid JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_int.h"

#define REQUIRE(x)                                                                                 \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require_json(tandem_buf *b)
{
    json_error_t err;
    json_t *doc = json_loadb((const char *)b->data, b->len, 0, &err);
    REQUIRE(doc != NULL);
    json_decref(doc);
    tandem_buf_free(b);
}

/* Encodes what was decoded, as the gateway's answers would echo it. */
static void echo(const gateway_decoded *d)
{
    tandem_buf b = TANDEM_BUF_INIT;
    if (d->op == GATEWAY_OP_CREATE) {
        const tandem_gateway_create_request *r = &d->u.create;
        REQUIRE(r->variables_json != NULL && r->variables_json[0] == '{');
        REQUIRE(r->by_key == (r->process_definition_id == NULL));
        tandem_gateway_instance pi = {r->by_key ? "k" : r->process_definition_id, r->version,
                                      r->process_definition_key, 1, r->variables_json};
        REQUIRE(gateway_encode_instance(&b, &pi) == TANDEM_OK);
        require_json(&b);
    } else if (d->op == GATEWAY_OP_ACTIVATE) {
        const tandem_gateway_activate_request *r = &d->u.activate;
        REQUIRE(r->type != NULL && r->type[0] != '\0' && r->worker != NULL);
        REQUIRE(r->max_jobs >= 1 && r->max_jobs <= TANDEM_GATEWAY_JOBS_MAX && r->timeout_ms > 0);
        tandem_gateway_job job = {.type = r->type,
                                  .process_definition_id =
                                      r->fetch_variable_count > 0 ? r->fetch_variables[0] : "p",
                                  .element_id = "e",
                                  .worker = r->worker};
        REQUIRE(gateway_encode_jobs(&b, &job, 1) == TANDEM_OK);
        require_json(&b);
    } else if (d->op == GATEWAY_OP_COMPLETE) {
        REQUIRE(d->u.complete.variables_json[0] == '{');
    } else if (d->op == GATEWAY_OP_FAIL) {
        REQUIRE(d->u.fail.variables_json[0] == '{' && d->u.fail.retries >= 0);
    } else if (d->op == GATEWAY_OP_UPDATE) {
        REQUIRE(d->u.update.has_retries || d->u.update.has_timeout);
    } else if (d->op == GATEWAY_OP_VARIABLES) {
        REQUIRE(d->u.variables.variables_json != NULL && d->u.variables.variables_json[0] == '{');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    static const gateway_op ops[] = {GATEWAY_OP_CREATE,   GATEWAY_OP_CANCEL,   GATEWAY_OP_ACTIVATE,
                                     GATEWAY_OP_COMPLETE, GATEWAY_OP_FAIL,     GATEWAY_OP_UPDATE,
                                     GATEWAY_OP_RESOLVE,  GATEWAY_OP_VARIABLES};
    gateway_op op = ops[data[0] % (sizeof(ops) / sizeof(ops[0]))];
    data++;
    size--;
    char *key = NULL;
    if (op != GATEWAY_OP_CREATE && op != GATEWAY_OP_ACTIVATE) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t key_len = nl != NULL ? (size_t)(nl - data) : size;
        key = malloc(key_len + 1);
        REQUIRE(key != NULL);
        memcpy(key, data, key_len);
        key[key_len] = '\0';
        size_t used = nl != NULL ? key_len + 1 : key_len;
        data += used;
        size -= used;
    }
    uint8_t *body = malloc(size > 0 ? size : 1);
    REQUIRE(body != NULL);
    if (size > 0) {
        memcpy(body, data, size);
    }
    gateway_decoded d;
    gateway_problem problem;
    int rc = gateway_decode(op, key, body, size, &d, &problem);
    if (rc == TANDEM_OK) {
        echo(&d);
        gateway_decoded_free(&d);
    } else {
        REQUIRE(rc == TANDEM_EINVAL);
        REQUIRE(problem.status == 400 && problem.detail[0] != '\0');
        REQUIRE(strlen(problem.detail) < sizeof(problem.detail));
    }
    free(body);
    free(key);
    return 0;
}
