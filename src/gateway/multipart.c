/*
 * A strict multipart/form-data parser (RFC 7578 over RFC 2046), bounded in
 * parts, header lines and header bytes. Everything is read in place: parts
 * point into the body, only names and file names are copied (they may be
 * quoted strings with escapes).
 *
 * Tolerated, because real clients and hand-written test requests do it: a
 * preamble before the first delimiter, bare LF line ends, transport padding
 * (spaces and tabs) after a delimiter, an epilogue after the closing one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "gateway/gateway_int.h"

static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars, without the space, which may not end a boundary anyway
 * and which no client uses. */
static bool is_bchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("'()+_,-./:=?", c) != NULL);
}

/*
 * Reads a parameter value at *p (a token or a quoted string with backslash
 * escapes) into out[cap]. Advances *p past it. false when malformed or too
 * long.
 */
static bool read_param_value(const char **p, const char *end, char *out, size_t cap)
{
    TANDEM_ASSERT(p != NULL && *p != NULL && end != NULL);
    TANDEM_ASSERT(out != NULL && cap > 0);
    const char *s = *p;
    size_t n = 0;
    if (s < end && *s == '"') {
        s++;
        while (s < end && *s != '"') {
            char c = *s++;
            if (c == '\\') {
                if (s == end) {
                    return false;
                }
                c = *s++;
            }
            if (c == '\0' || c == '\r' || c == '\n' || n + 1 >= cap) {
                return false;
            }
            out[n++] = c;
        }
        if (s == end) {
            return false; /* unterminated quoted string */
        }
        s++;
    } else {
        while (s < end && is_tchar(*s)) {
            if (n + 1 >= cap) {
                return false;
            }
            out[n++] = *s++;
        }
        if (n == 0) {
            return false;
        }
    }
    out[n] = '\0';
    *p = s;
    return true;
}

static const char *skip_ows(const char *p, const char *end)
{
    TANDEM_ASSERT(p != NULL && end != NULL);
    TANDEM_ASSERT(p <= end);
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

int gateway_multipart_boundary(const char *content_type, char *out, tandem_diag *diag)
{
    TANDEM_ASSERT(content_type != NULL && out != NULL);
    static const char type[] = "multipart/form-data";
    const char *end = content_type + strlen(content_type);
    const char *p = skip_ows(content_type, end);
    if (strncasecmp(p, type, sizeof(type) - 1) != 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "the content type must be multipart/form-data, not '%.100s'",
                               content_type);
    }
    p += sizeof(type) - 1;
    out[0] = '\0';
    for (;;) {
        p = skip_ows(p, end);
        if (p == end) {
            break;
        }
        if (*p != ';') {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "malformed parameters in content type '%.100s'", content_type);
        }
        p = skip_ows(p + 1, end);
        const char *name = p;
        while (p < end && is_tchar(*p)) {
            p++;
        }
        size_t name_len = (size_t)(p - name);
        char value[GATEWAY_BOUNDARY_SIZE_MAX + 1];
        if (name_len == 0 || p == end || *p != '=' ||
            (p++, !read_param_value(&p, end, value, sizeof(value)))) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "malformed parameter in content type '%.100s'", content_type);
        }
        if (name_len == 8 && strncasecmp(name, "boundary", 8) == 0) {
            size_t vlen = strlen(value);
            if (vlen >= GATEWAY_BOUNDARY_SIZE_MAX) {
                return tandem_diag_set(diag, TANDEM_EINVAL,
                                       "the multipart boundary is longer than 70 characters");
            }
            for (size_t i = 0; i < vlen; i++) {
                if (!is_bchar(value[i])) {
                    return tandem_diag_set(diag, TANDEM_EINVAL,
                                           "the multipart boundary has a character that is not "
                                           "allowed at offset %zu",
                                           i);
                }
            }
            memcpy(out, value, vlen + 1);
        }
    }
    if (out[0] == '\0') {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "the multipart/form-data content type has no boundary");
    }
    TANDEM_ASSERT(strlen(out) < GATEWAY_BOUNDARY_SIZE_MAX);
    return TANDEM_OK;
}

/* Finds needle in [hay, hay+len); NULL when absent. */
static const uint8_t *find(const uint8_t *hay, size_t len, const char *needle, size_t nlen)
{
    TANDEM_ASSERT(hay != NULL || len == 0);
    TANDEM_ASSERT(needle != NULL && nlen > 0);
    if (len < nlen) {
        return NULL;
    }
    return memmem(hay, len, needle, nlen);
}

/* The end of the line at p: *next is set past CRLF or LF. NULL when no line
 * end comes before `end`. */
static const uint8_t *line_end(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
    TANDEM_ASSERT(p != NULL && end != NULL && p <= end);
    const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
    if (lf == NULL) {
        return NULL;
    }
    *next = lf + 1;
    return lf > p && lf[-1] == '\r' ? lf - 1 : lf;
}

/* Parses the Content-Disposition value of a part into name/filename. */
static int parse_disposition(const char *v, const char *end, gateway_part *part, size_t index,
                             tandem_diag *diag)
{
    TANDEM_ASSERT(v != NULL && end != NULL && part != NULL);
    TANDEM_ASSERT(v <= end && !part->has_filename);
    const char *p = skip_ows(v, end);
    if ((size_t)(end - p) < 9 || strncasecmp(p, "form-data", 9) != 0 ||
        (p + 9 < end && p[9] != ';' && p[9] != ' ' && p[9] != '\t')) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "multipart part %zu: the Content-Disposition must be form-data",
                               index + 1);
    }
    p += 9;
    bool has_name = false;
    for (;;) {
        p = skip_ows(p, end);
        if (p == end) {
            break;
        }
        if (*p != ';') {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "multipart part %zu: malformed Content-Disposition", index + 1);
        }
        p = skip_ows(p + 1, end);
        const char *name = p;
        while (p < end && is_tchar(*p)) {
            p++;
        }
        size_t name_len = (size_t)(p - name);
        p = skip_ows(p, end);
        if (name_len == 0 || p == end || *p != '=') {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "multipart part %zu: malformed Content-Disposition", index + 1);
        }
        p = skip_ows(p + 1, end);
        char value[TANDEM_GATEWAY_RESOURCE_NAME_SIZE_MAX];
        if (!read_param_value(&p, end, value, sizeof(value))) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "multipart part %zu: a Content-Disposition parameter is "
                                   "malformed or longer than %d bytes",
                                   index + 1, TANDEM_GATEWAY_RESOURCE_NAME_SIZE_MAX - 1);
        }
        size_t vlen = strlen(value);
        if (name_len == 4 && strncasecmp(name, "name", 4) == 0) {
            if (vlen == 0 || vlen >= sizeof(part->name)) {
                return tandem_diag_set(diag, TANDEM_EINVAL,
                                       "multipart part %zu: the field name is empty or longer "
                                       "than %zu bytes",
                                       index + 1, sizeof(part->name) - 1);
            }
            memcpy(part->name, value, vlen + 1);
            has_name = true;
        } else if (name_len == 8 && strncasecmp(name, "filename", 8) == 0) {
            memcpy(part->filename, value, vlen + 1);
            part->has_filename = true;
        } /* other parameters (filename*, size, ...) are ignored */
    }
    if (!has_name) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "multipart part %zu: the Content-Disposition has no name",
                               index + 1);
    }
    return TANDEM_OK;
}

/* Reads a part's header lines from *p up to the empty line. */
static int parse_part_headers(const uint8_t **p, const uint8_t *end, gateway_part *part,
                              size_t index, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && *p != NULL && end != NULL);
    TANDEM_ASSERT(part != NULL);
    bool has_disposition = false;
    for (uint32_t lines = 0;; lines++) {
        const uint8_t *next = NULL;
        const uint8_t *e = line_end(*p, end, &next);
        if (e == NULL) {
            return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                                   "multipart part %zu: the body ends inside the part's headers",
                                   index + 1);
        }
        const char *line = (const char *)*p;
        size_t line_len = (size_t)(e - *p);
        *p = next;
        if (line_len == 0) {
            break;
        }
        if (lines == GATEWAY_PART_HEADERS_MAX || line_len >= GATEWAY_PART_HEADER_SIZE_MAX) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "multipart part %zu: more than %d header lines or a line over "
                                   "%d bytes",
                                   index + 1, GATEWAY_PART_HEADERS_MAX,
                                   GATEWAY_PART_HEADER_SIZE_MAX);
        }
        const char *colon = memchr(line, ':', line_len);
        if (colon == NULL || colon == line || memchr(line, '\0', line_len) != NULL) {
            return tandem_diag_set(diag, TANDEM_EINVAL, "multipart part %zu: malformed header line",
                                   index + 1);
        }
        static const char cd[] = "Content-Disposition";
        if ((size_t)(colon - line) == sizeof(cd) - 1 &&
            strncasecmp(line, cd, sizeof(cd) - 1) == 0) {
            if (has_disposition) {
                return tandem_diag_set(diag, TANDEM_EINVAL,
                                       "multipart part %zu has more than one Content-Disposition "
                                       "header",
                                       index + 1);
            }
            int rc = parse_disposition(colon + 1, line + line_len, part, index, diag);
            if (rc != TANDEM_OK) {
                return rc;
            }
            has_disposition = true;
        } /* Content-Type and others are not needed */
    }
    if (!has_disposition) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "multipart part %zu has no Content-Disposition header", index + 1);
    }
    return TANDEM_OK;
}

/* After "--boundary": "--" closes, else padding and a line end. *closing
 * tells which. */
static int after_delimiter(const uint8_t **p, const uint8_t *end, bool *closing, size_t index,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && *p != NULL && end != NULL);
    TANDEM_ASSERT(closing != NULL);
    const uint8_t *s = *p;
    if (end - s >= 2 && s[0] == '-' && s[1] == '-') {
        *closing = true;
        *p = s + 2;
        return TANDEM_OK;
    }
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    if (s < end && *s == '\n') {
        *p = s + 1;
    } else if (end - s >= 2 && s[0] == '\r' && s[1] == '\n') {
        *p = s + 2;
    } else if (s == end || (end - s == 1 && *s == '\r')) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "the multipart body ends right after delimiter %zu", index + 1);
    } else {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "multipart delimiter %zu is followed by other characters than a "
                               "line end",
                               index + 1);
    }
    *closing = false;
    return TANDEM_OK;
}

int gateway_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                            gateway_part *parts, size_t parts_max, size_t *count, tandem_diag *diag)
{
    TANDEM_ASSERT(body != NULL || len == 0);
    TANDEM_ASSERT(boundary != NULL && parts != NULL && count != NULL);
    size_t blen = strlen(boundary);
    TANDEM_ASSERT(blen > 0 && blen < GATEWAY_BOUNDARY_SIZE_MAX);
    /* "\n--" + boundary: the delimiter as it appears after the first one. */
    char delim[GATEWAY_BOUNDARY_SIZE_MAX + 3];
    delim[0] = '\n';
    delim[1] = '-';
    delim[2] = '-';
    memcpy(delim + 3, boundary, blen);
    size_t dlen = blen + 3;
    *count = 0;
    static const uint8_t empty[1] = {0};
    const uint8_t *start = body != NULL ? body : empty;
    const uint8_t *end = start + len;
    const uint8_t *p = NULL;
    /* The first delimiter: at the very start, or after a preamble line. */
    if (len >= dlen - 1 && memcmp(start, delim + 1, dlen - 1) == 0) {
        p = start + dlen - 1;
    } else {
        const uint8_t *d = find(start, len, delim, dlen);
        if (d == NULL) {
            return tandem_diag_set(diag, len == 0 ? TANDEM_EINCOMPLETE : TANDEM_EINVAL,
                                   "the multipart body does not contain its boundary '%s'",
                                   boundary);
        }
        p = d + dlen;
    }
    for (size_t n = 0;; n++) {
        bool closing = false;
        int rc = after_delimiter(&p, end, &closing, n, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (closing) {
            break; /* whatever follows is the epilogue */
        }
        if (n == parts_max) {
            return tandem_diag_set(diag, TANDEM_ETOOBIG,
                                   "the multipart body has more than %zu parts", parts_max);
        }
        gateway_part *part = &parts[n];
        memset(part, 0, sizeof(*part));
        rc = parse_part_headers(&p, end, part, n, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        const uint8_t *d = find(p, (size_t)(end - p), delim, dlen);
        if (d == NULL) {
            return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                                   "multipart part %zu ('%s') is truncated: no delimiter follows",
                                   n + 1, part->name);
        }
        /* The line end before a delimiter belongs to the delimiter (RFC
         * 2046), so an empty content is "\r\n" + delimiter after the
         * blank line. */
        const uint8_t *content_end = d > p && d[-1] == '\r' ? d - 1 : d;
        part->data = p;
        part->size_bytes = (size_t)(content_end - p);
        *count = n + 1;
        p = d + dlen;
    }
    TANDEM_ASSERT(*count <= parts_max);
    return TANDEM_OK;
}
