/*
 * fuzz_gateway_multipart.c — arbitrary bytes as a deployment request: the
 * first line is the Content-Type header, the rest the multipart body.
 *
 * The parser must answer with success or an error and a message, never
 * crash, read out of bounds or leak; parts it returns lie inside the body,
 * in order, and carry a name.
 */
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

static gateway_part parts[GATEWAY_PARTS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl != NULL ? (size_t)(nl - data) : size;
    char *ct = malloc(ct_len + 1);
    REQUIRE(ct != NULL);
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    /* the body in its own allocation, so ASan sees reads past its end */
    size_t body_len = nl != NULL ? size - ct_len - 1 : 0;
    uint8_t *body = malloc(body_len > 0 ? body_len : 1);
    REQUIRE(body != NULL);
    if (body_len > 0) {
        memcpy(body, nl + 1, body_len);
    }
    char boundary[GATEWAY_BOUNDARY_SIZE_MAX];
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = gateway_multipart_boundary(ct, boundary, &diag);
    if (rc != TANDEM_OK) {
        REQUIRE(rc == TANDEM_EINVAL && diag.message[0] != '\0');
    } else {
        size_t n = 0;
        size_t max = 1 + (size % GATEWAY_PARTS_MAX);
        tandem_diag_clear(&diag);
        rc = gateway_multipart_parse(body, body_len, boundary, parts, max, &n, &diag);
        if (rc == TANDEM_OK) {
            REQUIRE(n <= max);
            const uint8_t *prev_end = body;
            for (size_t i = 0; i < n; i++) {
                REQUIRE(parts[i].name[0] != '\0');
                REQUIRE(parts[i].data >= prev_end);
                REQUIRE(parts[i].data + parts[i].size_bytes <= body + body_len);
                prev_end = parts[i].data + parts[i].size_bytes;
            }
        } else {
            REQUIRE(rc == TANDEM_EINVAL || rc == TANDEM_EINCOMPLETE || rc == TANDEM_ETOOBIG);
            REQUIRE(diag.message[0] != '\0');
        }
    }
    free(body);
    free(ct);
    return 0;
}
