/*
 * json.c — JSON text to FEEL values, for variables.
 *
 * A reader of its own rather than a general JSON library, because numbers
 * must keep their decimal text: `0.1` becomes exactly 0.1 and
 * `12345678901234567890.5` keeps its digits (up to the 34 of a FEEL number),
 * which a reader that goes through binary doubles cannot do. Objects keep
 * their key order; a repeated key keeps its last value. Nesting is bounded
 * (TANDEM_FEEL_DEPTH_MAX_DEFAULT), strings must be valid UTF-8, and every
 * error names its line and column.
 */
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

typedef struct reader {
    const char *s;
    size_t len, at;
    feel_eval *e;
    tandem_diag *diag;
} reader;

static int fail_at(reader *r, size_t at, const char *what)
{
    TANDEM_ASSERT(at <= r->len);
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
        if (r->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)r->s[i] & 0xC0u) != 0x80u) {
            col++;
        }
    }
    return tandem_diag_set(r->diag, TANDEM_EINVAL, "JSON %u:%u: %s", line, col, what);
}

static void skip_ws(reader *r)
{
    while (r->at < r->len && (r->s[r->at] == ' ' || r->s[r->at] == '\t' || r->s[r->at] == '\n' ||
                              r->s[r->at] == '\r')) {
        r->at++;
    }
    TANDEM_ASSERT(r->at <= r->len);
}

static int oom(reader *r)
{
    TANDEM_ASSERT(r != NULL);
    return tandem_diag_set(r->diag, TANDEM_ENOMEM, "out of memory reading JSON");
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    TANDEM_ASSERT(left > 0);
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || n > left || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4)) {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            return 0;
        }
    }
    /* no overlong 3/4-byte forms, no surrogates, nothing above U+10FFFF */
    if ((n == 3 && c == 0xE0 && s[1] < 0xA0) || (n == 3 && c == 0xED && s[1] >= 0xA0) ||
        (n == 4 && c == 0xF0 && s[1] < 0x90) || (n == 4 && c == 0xF4 && s[1] >= 0x90)) {
        return 0;
    }
    return n;
}

static int hex4(reader *r, uint32_t *out)
{
    TANDEM_ASSERT(r != NULL && out != NULL && r->at <= r->len);
    if (r->len - r->at < 4) {
        return fail_at(r, r->at, "\\u needs four hex digits");
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->s[r->at + (size_t)i];
        uint32_t d = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                     : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                            : 16;
        if (d == 16) {
            return fail_at(r, r->at, "\\u needs four hex digits");
        }
        v = v * 16 + d;
    }
    r->at += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    TANDEM_ASSERT(cp <= 0x10FFFF);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int read_escape(reader *r, char *out, size_t *n)
{
    TANDEM_ASSERT(r->s[r->at - 1] == '\\');
    if (r->at >= r->len) {
        return fail_at(r, r->at, "unterminated string");
    }
    char c = r->s[r->at++];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *p = strchr(from, c);
    if (p != NULL && c != '\0') {
        out[(*n)++] = to[p - from];
        return 0;
    }
    if (c != 'u') {
        return fail_at(r, r->at - 2, "bad escape in string");
    }
    uint32_t cp, lo;
    int rc = hex4(r, &cp);
    if (rc == 0 && cp >= 0xD800 && cp < 0xDC00) {
        if (r->len - r->at < 2 || r->s[r->at] != '\\' || r->s[r->at + 1] != 'u') {
            return fail_at(r, r->at, "unpaired surrogate in \\u escape");
        }
        r->at += 2;
        rc = hex4(r, &lo);
        if (rc == 0 && (lo < 0xDC00 || lo > 0xDFFF)) {
            return fail_at(r, r->at - 6, "unpaired surrogate in \\u escape");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (rc == 0 && cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail_at(r, r->at - 6, "unpaired surrogate in \\u escape");
    }
    if (rc == 0) {
        *n += put_utf8(out + *n, cp);
    }
    return rc;
}

/* The string at r->at (after its opening quote), NUL-terminated in the arena. */
static int read_string(reader *r, const char **out, uint32_t *out_len)
{
    size_t start = r->at - 1;
    TANDEM_ASSERT(r->s[start] == '"');
    /* Decoded text is never longer than the source (\uXXXX: 6 bytes to <= 3,
     * a pair: 12 to 4). */
    size_t end = start + 1;
    while (end < r->len && r->s[end] != '"') {
        end += r->s[end] == '\\' ? 2 : 1;
    }
    if (end >= r->len) {
        return fail_at(r, start, "unterminated string");
    }
    char *buf = feel_arena_alloc(r->e->arena, end - start);
    if (buf == NULL) {
        return oom(r);
    }
    size_t n = 0;
    while (r->s[r->at] != '"') {
        unsigned char c = (unsigned char)r->s[r->at];
        if (c == '\\') {
            r->at++;
            int rc = read_escape(r, buf, &n);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (c < 0x20) {
            return fail_at(r, r->at, "control character in string");
        }
        size_t k = utf8_len((const unsigned char *)r->s + r->at, r->len - r->at);
        if (k == 0) {
            return fail_at(r, r->at, "invalid UTF-8 in string");
        }
        memcpy(buf + n, r->s + r->at, k);
        n += k;
        r->at += k;
    }
    r->at++;
    TANDEM_ASSERT(n < end - start);
    buf[n] = '\0';
    *out = buf;
    *out_len = (uint32_t)n;
    return 0;
}

static int read_value(reader *r, uint32_t depth, const feel_value **out);

static int read_array(reader *r, uint32_t depth, const feel_value **out)
{
    TANDEM_ASSERT(r->s[r->at - 1] == '[');
    feel_list_builder lb = {0};
    skip_ws(r);
    if (r->at < r->len && r->s[r->at] == ']') {
        r->at++;
        *out = feel_list(r->e, NULL, 0);
        return *out != NULL ? 0 : oom(r);
    }
    for (;;) {
        const feel_value *v;
        int rc = read_value(r, depth + 1, &v);
        if (rc != 0) {
            return rc;
        }
        if (!feel_lb_push(r->e, &lb, v)) {
            return r->e->error;
        }
        skip_ws(r);
        if (r->at < r->len && r->s[r->at] == ',') {
            r->at++;
            continue;
        }
        if (r->at < r->len && r->s[r->at] == ']') {
            r->at++;
            break;
        }
        return fail_at(r, r->at, "expected ',' or ']' in an array");
    }
    *out = feel_list(r->e, lb.items, lb.n);
    return *out != NULL ? 0 : r->e->error;
}

static int read_object(reader *r, uint32_t depth, const feel_value **out)
{
    TANDEM_ASSERT(r->s[r->at - 1] == '{');
    feel_entry *entries = NULL;
    uint32_t n = 0, cap = 0;
    skip_ws(r);
    bool empty = r->at < r->len && r->s[r->at] == '}';
    while (!empty) {
        skip_ws(r);
        if (r->at >= r->len || r->s[r->at] != '"') {
            return fail_at(r, r->at, "expected a string key in an object");
        }
        r->at++;
        feel_entry en;
        int rc = read_string(r, &en.key, &en.key_len);
        skip_ws(r);
        if (rc == 0 && (r->at >= r->len || r->s[r->at++] != ':')) {
            rc = fail_at(r, r->at - (r->at > 0), "expected ':' after a key");
        }
        if (rc == 0) {
            rc = read_value(r, depth + 1, &en.value);
        }
        if (rc != 0) {
            return rc;
        }
        uint32_t at = n;
        for (uint32_t i = 0; i < n; i++) {
            at = entries[i].key_len == en.key_len && memcmp(entries[i].key, en.key, en.key_len) == 0
                     ? i
                     : at;
        }
        if (at == n && n == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            feel_entry *more = feel_arena_alloc(r->e->arena, cap * sizeof(*more));
            if (more == NULL) {
                return oom(r);
            }
            if (n > 0) {
                memcpy(more, entries, n * sizeof(*more));
            }
            entries = more;
        }
        entries[at] = en; /* a repeated key keeps its last value */
        n += at == n;
        skip_ws(r);
        if (r->at < r->len && r->s[r->at] == ',') {
            r->at++;
            continue;
        }
        if (r->at >= r->len || r->s[r->at] != '}') {
            return fail_at(r, r->at, "expected ',' or '}' in an object");
        }
        break;
    }
    r->at++;
    *out = feel_context(r->e, entries, n);
    return *out != NULL ? 0 : r->e->error;
}

static int read_number(reader *r, const feel_value **out)
{
    TANDEM_ASSERT(r->at < r->len && out != NULL);
    size_t start = r->at;
    while (r->at < r->len && strchr("+-.eE0123456789", r->s[r->at]) != NULL && r->s[r->at]) {
        r->at++;
    }
    feel_num num;
    int rc =
        tandem_decimal_parse(r->s + start, r->at - start, TANDEM_DECIMAL_SYNTAX_JSON, &num, NULL);
    if (rc != 0) {
        return fail_at(r, start, rc == TANDEM_ERANGE ? "number out of range" : "bad number");
    }
    *out = feel_number(r->e, num);
    return *out != NULL ? 0 : oom(r);
}

static int read_value(reader *r, uint32_t depth, const feel_value **out)
{
    TANDEM_ASSERT(out != NULL);
    if (depth > TANDEM_FEEL_DEPTH_MAX_DEFAULT) {
        return tandem_diag_set(r->diag, TANDEM_ETOOBIG, "JSON is nested deeper than %u levels",
                               TANDEM_FEEL_DEPTH_MAX_DEFAULT);
    }
    skip_ws(r);
    if (r->at >= r->len) {
        return fail_at(r, r->at, "expected a value");
    }
    char c = r->s[r->at];
    static const struct {
        const char *text;
        const feel_value *value;
    } words[] = {{"true", &feel_true}, {"false", &feel_false}, {"null", &feel_null}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].text);
        if (r->len - r->at >= n && memcmp(r->s + r->at, words[i].text, n) == 0) {
            r->at += n;
            *out = words[i].value;
            return 0;
        }
    }
    r->at++;
    switch (c) {
    case '{':
        return read_object(r, depth, out);
    case '[':
        return read_array(r, depth, out);
    case '"': {
        const char *s;
        uint32_t len;
        int rc = read_string(r, &s, &len);
        if (rc != 0) {
            return rc;
        }
        *out = feel_string(r->e, s, len);
        return *out != NULL ? 0 : oom(r);
    }
    default:
        r->at--;
        if (c == '-' || (c >= '0' && c <= '9')) {
            return read_number(r, out);
        }
        return fail_at(r, r->at, "expected a value");
    }
}

int feel_value_from_json(const char *json, size_t len, feel_arena *arena, const feel_value **out,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(json != NULL || len == 0);
    TANDEM_ASSERT(arena != NULL && out != NULL);
    feel_eval e = {0};
    e.arena = arena;
    e.diag = diag;
    e.lim.string_bytes_max = SIZE_MAX;
    e.lim.list_items_max = SIZE_MAX;
    reader r = {json != NULL ? json : "", len, 0, &e, diag};
    const feel_value *v = NULL;
    int rc = read_value(&r, 0, &v);
    if (rc == 0) {
        skip_ws(&r);
        if (r.at != len) {
            rc = fail_at(&r, r.at, "unexpected text after the value");
        }
    }
    if (rc != 0) {
        return rc;
    }
    TANDEM_ASSERT(v != NULL);
    *out = v;
    return 0;
}
