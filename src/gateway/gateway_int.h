/*
 * gateway_int.h — internals of the REST gateway shared by its files:
 *
 *   multipart.c  a strict, bounded multipart/form-data parser (RFC 7578)
 *   decode.c     request bodies and path keys -> the request structs of
 *                gateway.h, with Camunda's validation messages
 *   encode.c     result structs -> response JSON
 *   gateway.c    the server, the calls, deadlines and long polling
 *
 * The first three are pure (no I/O, no loop), so they are tested and fuzzed
 * on their own.
 */
#ifndef TANDEM_GATEWAY_GATEWAY_INT_H
#define TANDEM_GATEWAY_GATEWAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"
#include "gateway/gateway.h"

#define GATEWAY_BOUNDARY_SIZE_MAX    71   /* RFC 2046: 1..70 characters, with the NUL */
#define GATEWAY_PART_NAME_SIZE_MAX   64   /* form field names, with the NUL */
#define GATEWAY_PART_HEADERS_MAX     16   /* header lines of one part */
#define GATEWAY_PART_HEADER_SIZE_MAX 2048 /* bytes of one header line */
#define GATEWAY_PARTS_MAX            (TANDEM_GATEWAY_RESOURCES_MAX + 8)
#define GATEWAY_DETAIL_SIZE_MAX      1024 /* problem detail text, with the NUL */

/* ---- multipart ---- */

typedef struct gateway_part {
    char name[GATEWAY_PART_NAME_SIZE_MAX];
    bool has_filename;
    char filename[TANDEM_GATEWAY_RESOURCE_NAME_SIZE_MAX];
    const uint8_t *data; /* into the body */
    size_t size_bytes;
} gateway_part;

/* The boundary parameter of a "multipart/form-data; boundary=..." content
 * type (token or quoted string) into out[GATEWAY_BOUNDARY_SIZE_MAX].
 * TANDEM_EINVAL with the reason in diag. */
int gateway_multipart_boundary(const char *content_type, char *out, tandem_diag *diag);

/*
 * Splits body[0..len) into at most parts_max parts. Lines end in CRLF or a
 * bare LF. Every part needs a Content-Disposition "form-data" header with a
 * name. TANDEM_EINVAL (malformed), TANDEM_EINCOMPLETE (truncated: no closing
 * delimiter), TANDEM_ETOOBIG (more than parts_max parts), each with the
 * reason in diag. Parts point into body.
 */
int gateway_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                            gateway_part *parts, size_t parts_max, size_t *count,
                            tandem_diag *diag);

/* ---- decoding ---- */

typedef enum gateway_op {
    GATEWAY_OP_DEPLOY,
    GATEWAY_OP_CREATE,
    GATEWAY_OP_CANCEL,
    GATEWAY_OP_ACTIVATE,
    GATEWAY_OP_COMPLETE,
    GATEWAY_OP_FAIL,
    GATEWAY_OP_UPDATE,
    GATEWAY_OP_RESOLVE,
    GATEWAY_OP_VARIABLES,
    GATEWAY_OP_COUNT,
} gateway_op;

/* A 4xx answer: status, title and Camunda-style detail. */
typedef struct gateway_problem {
    unsigned status;
    const char *title; /* static */
    char detail[GATEWAY_DETAIL_SIZE_MAX];
} gateway_problem;

/*
 * A decoded JSON request. Owns the parsed document (the request's strings
 * point into it), the variables text and the fetch list; released with
 * gateway_decoded_free. request_timeout_ms is the raw requestTimeout
 * (has_request_timeout false when absent).
 */
typedef struct gateway_decoded {
    gateway_op op;
    json_t *root;
    char *variables_json;
    const char **fetch;
    bool has_request_timeout;
    int64_t request_timeout_ms;
    union {
        tandem_gateway_create_request create;
        tandem_gateway_cancel_request cancel;
        tandem_gateway_activate_request activate;
        tandem_gateway_complete_request complete;
        tandem_gateway_fail_request fail;
        tandem_gateway_update_request update;
        tandem_gateway_resolve_request resolve;
        tandem_gateway_variables_request variables;
    } u;
} gateway_decoded;

/* Parses a key as the API writes it: ^-?[0-9]+$, 1..25 characters, within
 * int64. TANDEM_EINVAL / TANDEM_ERANGE. */
int gateway_parse_key(const char *text, int64_t *out);

/*
 * Decodes the body of a JSON operation (every op but DEPLOY). `path_key` is
 * the raw {key} path parameter of the keyed operations (NULL for
 * create and activate). An empty body is "{}" where the body is optional.
 * On TANDEM_EINVAL *problem says why (400 INVALID_ARGUMENT) and *out holds
 * nothing to free; TANDEM_ENOMEM. On success free *out with
 * gateway_decoded_free.
 */
int gateway_decode(gateway_op op, const char *path_key, const uint8_t *body, size_t len,
                   gateway_decoded *out, gateway_problem *problem);

void gateway_decoded_free(gateway_decoded *d);

/* Checks a tenant id sent by a client: only "<default>" passes. On false,
 * *problem holds the 400. */
bool gateway_tenant_ok(const char *tenant, gateway_problem *problem);

/* Formats a 400 INVALID_ARGUMENT; returns TANDEM_EINVAL. */
int gateway_problem_invalid(gateway_problem *problem, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- encoding (appending to `out`; TANDEM_ENOMEM) ---- */

int gateway_encode_topology(tandem_buf *out, const tandem_gateway_topology *t,
                            const char *gateway_version);
int gateway_encode_deployment(tandem_buf *out, const tandem_gateway_deployment *d);
int gateway_encode_instance(tandem_buf *out, const tandem_gateway_instance *pi);
int gateway_encode_jobs(tandem_buf *out, const tandem_gateway_job *jobs, size_t count);
/* An int64 key as a JSON string. */
int gateway_encode_key(tandem_buf *out, int64_t key);

#endif
