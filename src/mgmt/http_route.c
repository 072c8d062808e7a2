/*
 * The text-only half of the HTTP server: route patterns and their matching,
 * percent-decoding, query strings and the JSON of problem documents. Nothing
 * here touches a socket, a thread or the clock.
 */
#include "mgmt/http_int.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"

static bool token_char(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int compile_segment(http_route *r, const char *seg, size_t len, size_t off,
                           size_t *names_len, tandem_diag *diag)
{
    TANDEM_ASSERT(r->segment_count < HTTP_SEGMENTS_MAX);
    TANDEM_ASSERT(off + len < HTTP_PATTERN_SIZE_MAX);
    http_segment *s = &r->segments[r->segment_count];
    bool open = memchr(seg, '{', len) != NULL;
    bool close = memchr(seg, '}', len) != NULL;
    if (!open && !close) {
        if (len == 0) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "route \"%s\" has an empty segment (\"//\" or a trailing "
                                   "\"/\")",
                                   r->pattern);
        }
        s->off = (uint16_t)off;
        s->len = (uint16_t)len;
        s->param = false;
        r->segment_count++;
        return TANDEM_OK;
    }
    if (len < 3 || seg[0] != '{' || seg[len - 1] != '}' || memchr(seg + 1, '{', len - 2) != NULL ||
        memchr(seg + 1, '}', len - 2) != NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "route \"%s\": a parameter must be a whole segment \"{name}\"",
                               r->pattern);
    }
    if (r->param_count == HTTP_PARAMS_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "route \"%s\" has more than %d parameters",
                               r->pattern, HTTP_PARAMS_MAX);
    }
    const char *name = seg + 1;
    size_t name_len = len - 2;
    for (uint32_t i = 0; i < r->param_count; i++) {
        if (strlen(r->param_names[i]) == name_len &&
            memcmp(r->param_names[i], name, name_len) == 0) {
            return tandem_diag_set(diag, TANDEM_EINVAL, "route \"%s\" repeats parameter \"%.*s\"",
                                   r->pattern, (int)name_len, name);
        }
    }
    TANDEM_ASSERT(*names_len + name_len + 1 <= sizeof(r->names));
    memcpy(r->names + *names_len, name, name_len);
    r->names[*names_len + name_len] = '\0';
    r->param_names[r->param_count++] = r->names + *names_len;
    *names_len += name_len + 1;
    s->off = (uint16_t)(off + 1);
    s->len = (uint16_t)name_len;
    s->param = true;
    r->segment_count++;
    return TANDEM_OK;
}

int http_route_compile(http_route *r, const char *method, const char *pattern, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(method != NULL && pattern != NULL);
    memset(r, 0, sizeof(*r));
    size_t mlen = strlen(method);
    if (mlen == 0 || mlen >= HTTP_METHOD_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "method \"%s\" must be 1 to %d letters", method,
                               HTTP_METHOD_SIZE_MAX - 1);
    }
    for (size_t i = 0; i < mlen; i++) {
        if (!token_char(method[i])) {
            return tandem_diag_set(diag, TANDEM_EINVAL, "method \"%s\" must be upper-case letters",
                                   method);
        }
    }
    size_t plen = strlen(pattern);
    if (plen >= HTTP_PATTERN_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "route pattern is over %d bytes",
                               HTTP_PATTERN_SIZE_MAX - 1);
    }
    memcpy(r->method, method, mlen + 1);
    memcpy(r->pattern, pattern, plen + 1);
    if (plen < 2 || pattern[0] != '/') {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "route \"%s\" must start with \"/\" and name a resource", pattern);
    }
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)pattern[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '%') {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "route \"%s\" has a character not allowed in a pattern at "
                                   "offset %zu",
                                   pattern, i);
        }
    }
    size_t names_len = 0;
    size_t start = 1;
    while (start <= plen) {
        const char *slash = memchr(pattern + start, '/', plen - start);
        size_t end = slash != NULL ? (size_t)(slash - pattern) : plen;
        if (r->segment_count == HTTP_SEGMENTS_MAX) {
            return tandem_diag_set(diag, TANDEM_EINVAL, "route \"%s\" has more than %d segments",
                                   pattern, HTTP_SEGMENTS_MAX);
        }
        int rc = compile_segment(r, pattern + start, end - start, start, &names_len, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        start = end + 1;
    }
    return TANDEM_OK;
}

bool http_route_match(const http_route *r, const char *path, size_t path_len,
                      http_span spans[HTTP_PARAMS_MAX])
{
    TANDEM_ASSERT(r != NULL && path != NULL);
    TANDEM_ASSERT(r->segment_count >= 1);
    if (path_len == 0 || path[0] != '/') {
        return false;
    }
    size_t start = 1;
    uint32_t param = 0;
    for (uint32_t i = 0; i < r->segment_count; i++) {
        if (start > path_len) {
            return false; /* the path has fewer segments */
        }
        const char *slash = memchr(path + start, '/', path_len - start);
        size_t end = slash != NULL ? (size_t)(slash - path) : path_len;
        size_t len = end - start;
        const http_segment *s = &r->segments[i];
        if (s->param) {
            if (len == 0) {
                return false;
            }
            spans[param].off = start;
            spans[param].len = len;
            param++;
        } else if (len != s->len || memcmp(path + start, r->pattern + s->off, len) != 0) {
            return false;
        }
        start = end + 1;
    }
    TANDEM_ASSERT(param == r->param_count);
    return start == path_len + 1; /* consumed exactly: no segments left over */
}

bool http_method_allowed(const char *route_method, const char *method)
{
    TANDEM_ASSERT(route_method != NULL && method != NULL);
    TANDEM_ASSERT(route_method[0] != '\0');
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int http_percent_decode(const char *src, size_t len, char *dst, bool plus_is_space, size_t *out_len)
{
    TANDEM_ASSERT(src != NULL || len == 0);
    TANDEM_ASSERT(dst != NULL && out_len != NULL);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(src[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return TANDEM_EINVAL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return TANDEM_EINVAL;
        }
        TANDEM_ASSERT(o <= i); /* decoding never overtakes the reader: in place is safe */
        dst[o++] = c;
    }
    dst[o] = '\0';
    *out_len = o;
    return TANDEM_OK;
}

int http_query_parse(char *buf, size_t len, http_kv *pairs, size_t pairs_max, size_t *count)
{
    TANDEM_ASSERT(buf != NULL && count != NULL);
    TANDEM_ASSERT(pairs != NULL || pairs_max == 0);
    size_t n = 0;
    size_t start = 0;
    while (start < len) {
        char *amp = memchr(buf + start, '&', len - start);
        size_t end = amp != NULL ? (size_t)(amp - buf) : len;
        if (end > start) {
            if (n == pairs_max) {
                return TANDEM_ERANGE;
            }
            char *pair = buf + start;
            size_t pair_len = end - start;
            char *eq = memchr(pair, '=', pair_len);
            size_t name_len = eq != NULL ? (size_t)(eq - pair) : pair_len;
            size_t decoded = 0;
            /* The value is decoded first: decoding the name writes a NUL at
             * most at the '=', which the value no longer needs then. */
            char *value = eq != NULL ? eq + 1 : pair + pair_len;
            size_t value_len = eq != NULL ? pair_len - name_len - 1 : 0;
            int rc = http_percent_decode(value, value_len, value, true, &decoded);
            if (rc != TANDEM_OK) {
                return rc;
            }
            rc = http_percent_decode(pair, name_len, pair, true, &decoded);
            if (rc != TANDEM_OK) {
                return rc;
            }
            pairs[n].name = pair;
            pairs[n].value = eq != NULL ? value : "";
            n++;
        }
        start = end + 1;
    }
    *count = n;
    return TANDEM_OK;
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid:
 * overlong forms, surrogates and code points past U+10FFFF are refused. */
static size_t utf8_sequence(const unsigned char *s)
{
    TANDEM_ASSERT(s != NULL);
    unsigned char c = s[0];
    TANDEM_ASSERT(c >= 0x80);
    if (c >= 0xc2 && c <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
        unsigned char hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

int tandem_http_json_string(tandem_buf *out, const char *s)
{
    TANDEM_ASSERT(out != NULL && s != NULL);
    size_t start_len = out->len;
    int rc = tandem_buf_append(out, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (rc == TANDEM_OK && *p != '\0') {
        unsigned char c = *p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = tandem_buf_append(out, esc, 2);
            p++;
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rc = tandem_buf_append(out, esc, 6);
            p++;
        } else if (c < 0x80) {
            rc = tandem_buf_append(out, p, 1);
            p++;
        } else {
            /* utf8_sequence stops at the NUL: a continuation test fails on it. */
            size_t n = utf8_sequence(p);
            if (n == 0) {
                rc = tandem_buf_append(out, "\\ufffd", 6);
                p++;
            } else {
                rc = tandem_buf_append(out, p, n);
                p += n;
            }
        }
    }
    rc = rc != TANDEM_OK ? rc : tandem_buf_append(out, "\"", 1);
    TANDEM_ASSERT(rc != TANDEM_OK || out->len >= start_len + 2);
    return rc;
}

static int put_str(tandem_buf *out, const char *s)
{
    return tandem_buf_append(out, s, strlen(s));
}

int tandem_http_problem_json(tandem_buf *out, unsigned status, const char *title,
                             const char *detail, const char *instance)
{
    TANDEM_ASSERT(out != NULL && title != NULL);
    TANDEM_ASSERT(status >= 100 && status <= 599);
    char num[16];
    snprintf(num, sizeof(num), "%u", status);
    int rc = put_str(out, "{\"type\":\"about:blank\",\"title\":");
    rc = rc != TANDEM_OK ? rc : tandem_http_json_string(out, title);
    rc = rc != TANDEM_OK ? rc : put_str(out, ",\"status\":");
    rc = rc != TANDEM_OK ? rc : put_str(out, num);
    if (detail != NULL) {
        rc = rc != TANDEM_OK ? rc : put_str(out, ",\"detail\":");
        rc = rc != TANDEM_OK ? rc : tandem_http_json_string(out, detail);
    }
    if (instance != NULL) {
        rc = rc != TANDEM_OK ? rc : put_str(out, ",\"instance\":");
        rc = rc != TANDEM_OK ? rc : tandem_http_json_string(out, instance);
    }
    return rc != TANDEM_OK ? rc : put_str(out, "}");
}
