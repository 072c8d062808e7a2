/*
 * Fuzzes the text handling of the HTTP server with arbitrary bytes: query
 * string parsing, percent-decoding, route matching and compiling, and JSON
 * string escaping. Besides "no crash", it checks the invariants callers rely
 * on: decoded text never grows, pairs point inside the buffer, and escaped
 * JSON contains no raw control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/http_int.h"

#define REQUIRE(x)                                                                                 \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

static void fuzz_query(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    REQUIRE(buf != NULL);
    memcpy(buf, data, size);
    buf[size] = '\0';
    http_kv pairs[HTTP_QUERY_PAIRS_MAX];
    size_t count = 0;
    if (http_query_parse(buf, size, pairs, HTTP_QUERY_PAIRS_MAX, &count) == TANDEM_OK) {
        REQUIRE(count <= HTTP_QUERY_PAIRS_MAX);
        for (size_t i = 0; i < count; i++) {
            REQUIRE(pairs[i].name >= buf && pairs[i].name <= buf + size);
            REQUIRE(strlen(pairs[i].name) <= size);
            REQUIRE(strlen(pairs[i].value) <= size);
        }
    }
    free(buf);
}

static void fuzz_decode(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    REQUIRE(out != NULL);
    for (int plus = 0; plus < 2; plus++) {
        size_t n = 0;
        if (http_percent_decode((const char *)data, size, out, plus != 0, &n) == TANDEM_OK) {
            REQUIRE(n <= size);
            REQUIRE(strlen(out) == n); /* no NUL inside */
        }
    }
    free(out);
}

static void fuzz_routes(const char *text, size_t len)
{
    static const char *const patterns[] = {"/actuator/exporters/{id}/disable", "/a/{x}",
                                           "/actuator/health", "/{a}/{b}/{c}"};
    http_route r;
    http_span spans[HTTP_PARAMS_MAX];
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        REQUIRE(http_route_compile(&r, "GET", patterns[i], NULL) == TANDEM_OK);
        if (http_route_match(&r, text, len, spans)) {
            for (uint32_t p = 0; p < r.param_count; p++) {
                REQUIRE(spans[p].len > 0 && spans[p].off + spans[p].len <= len);
            }
        }
    }
    int rc = http_route_compile(&r, "GET", text, NULL);
    REQUIRE(rc == TANDEM_OK || rc == TANDEM_EINVAL);
}

static void fuzz_json(const char *text)
{
    tandem_buf b = TANDEM_BUF_INIT;
    REQUIRE(tandem_http_json_string(&b, text) == TANDEM_OK);
    REQUIRE(b.len >= 2 && b.data[0] == '"' && b.data[b.len - 1] == '"');
    for (size_t i = 0; i < b.len; i++) {
        REQUIRE(b.data[i] >= 0x20);
    }
    tandem_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_query(data, size);
    fuzz_decode(data, size);
    char *text = malloc(size + 1);
    REQUIRE(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text); /* up to the first NUL, as C strings arrive */
    fuzz_routes(text, len);
    fuzz_json(text);
    free(text);
    return 0;
}
