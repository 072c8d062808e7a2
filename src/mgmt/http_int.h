/*
 * http_int.h — internals of the HTTP server shared by http.c (threads,
 * libmicrohttpd, the loop) and http_route.c (pure text handling: route
 * patterns, percent-decoding, query strings). The pure part has no I/O and no
 * threads, so it is tested and fuzzed on its own.
 */
#ifndef TANDEM_MGMT_HTTP_INT_H
#define TANDEM_MGMT_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "mgmt/http.h"

#define HTTP_METHOD_SIZE_MAX    16   /* "OPTIONS" and friends, with the NUL */
#define HTTP_PATTERN_SIZE_MAX   256  /* route pattern, with the NUL */
#define HTTP_SEGMENTS_MAX       16   /* path segments of a route pattern */
#define HTTP_PARAMS_MAX         8    /* {param} segments of a route pattern */
#define HTTP_QUERY_PAIRS_MAX    64   /* parameters of one query string */
#define HTTP_ALLOW_SIZE_MAX     128  /* the Allow header of a 405 */
#define HTTP_URI_SIZE_BYTES_MAX 8192 /* longer request targets get 414 */

_Static_assert(HTTP_PARAMS_MAX <= HTTP_SEGMENTS_MAX, "a parameter is a segment");

typedef struct http_segment {
    uint16_t off; /* into the pattern: the literal, or the parameter name without braces */
    uint16_t len;
    bool param;
} http_segment;

typedef struct http_route {
    char method[HTTP_METHOD_SIZE_MAX];
    char pattern[HTTP_PATTERN_SIZE_MAX];
    char names[HTTP_PATTERN_SIZE_MAX]; /* parameter names, each NUL-terminated */
    const char *param_names[HTTP_PARAMS_MAX];
    http_segment segments[HTTP_SEGMENTS_MAX];
    uint32_t segment_count;
    uint32_t param_count;
    tandem_http_handler_fn fn;
    void *ctx;
} http_route;

/* A span of the request path holding one parameter value, still encoded. */
typedef struct http_span {
    size_t off;
    size_t len;
} http_span;

typedef struct http_kv {
    const char *name;
    const char *value;
} http_kv;

/* Compiles `pattern` for `method` into r (which must not move afterwards:
 * param_names point into it). TANDEM_EINVAL with the reason in diag. */
int http_route_compile(http_route *r, const char *method, const char *pattern, tandem_diag *diag);

/* True when the raw path (no query) has the shape of r: same number of
 * segments, equal literals, non-empty parameter segments. Fills spans[i] with
 * the encoded value of parameter i. */
bool http_route_match(const http_route *r, const char *path, size_t path_len,
                      http_span spans[HTTP_PARAMS_MAX]);

/* True when a request with `method` may use a route for `route_method`: the
 * same token, or HEAD on a GET route. */
bool http_method_allowed(const char *route_method, const char *method);

/*
 * Percent-decodes src[0..len) into dst (room for len + 1 bytes; src and dst
 * may be the same buffer), NUL-terminates it and sets *out_len. With
 * plus_is_space, '+' becomes ' ' (query strings). TANDEM_EINVAL for a '%' not
 * followed by two hex digits or for %00 (it would cut a C string).
 */
int http_percent_decode(const char *src, size_t len, char *dst, bool plus_is_space,
                        size_t *out_len);

/*
 * Splits the query string in buf[0..len) ("a=1&b=x%20y&flag") into pairs,
 * decoding names and values in place; buf needs len + 1 writable bytes.
 * Empty pairs are skipped; "flag" gives the value "". Pair strings point into
 * buf. TANDEM_EINVAL for bad escapes, TANDEM_ERANGE for more than pairs_max
 * pairs.
 */
int http_query_parse(char *buf, size_t len, http_kv *pairs, size_t pairs_max, size_t *count);

#endif
