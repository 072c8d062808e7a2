/*
 * builtins_string.c — string functions, with regular expressions through
 * PCRE2 (FEEL specifies XML Schema / XPath regexes; PCRE2 accepts the
 * patterns users write in practice). A match limit bounds backtracking, so a
 * pathological pattern ends with null and a warning, not a hang.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

#define REGEX_MATCH_LIMIT 100000u

#define STR(i) (args[i]->u.str)
#define NEED_STR(fn, i)                                                                            \
    do {                                                                                           \
        if (args[i]->type != TANDEM_FEEL_STRING) {                                                 \
            return feel_bad_arg(e, fn, i, "a string", args[i]);                                    \
        }                                                                                          \
    } while (0)

static const feel_value *fn_substring(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_STR("substring", 0);
    int64_t start, length = -1;
    if (!feel_int_arg(args[1], &start)) {
        return feel_bad_arg(e, "substring", 1, "an integer", args[1]);
    }
    if (n == 3 && (!feel_int_arg(args[2], &length) || length < 0)) {
        return feel_bad_arg(e, "substring", 2, "a non-negative integer", args[2]);
    }
    size_t count = feel_utf8_count(STR(0).s, STR(0).len);
    int64_t from = start > 0 ? start - 1 : (int64_t)count + start;
    if (from < 0 || start == 0) {
        from = from < 0 ? 0 : from;
    }
    if (from > (int64_t)count) {
        from = (int64_t)count;
    }
    int64_t to = length < 0 || length > (int64_t)count - from ? (int64_t)count : from + length;
    size_t a = feel_utf8_offset(STR(0).s, STR(0).len, (size_t)from);
    size_t b = feel_utf8_offset(STR(0).s, STR(0).len, (size_t)to);
    TANDEM_ASSERT(a <= b && b <= STR(0).len);
    return feel_string(e, STR(0).s + a, b - a);
}

static const feel_value *fn_string_length(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_STR("string length", 0);
    return feel_number(e, feel_num_from_int((int64_t)feel_utf8_count(STR(0).s, STR(0).len)));
}

/* Case mapping of the scripts users write names in: ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic (what Java's toUpperCase/toLowerCase do
 * there, except the few mappings that change length besides ß -> SS). */
static uint32_t map_case(uint32_t c, bool upper)
{
    if (c < 0x80) {
        if (upper && c >= 'a' && c <= 'z') {
            return c - 32;
        }
        return !upper && c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
    struct span {
        uint32_t lo_upper, hi_upper;
        int32_t delta;
    };
    static const struct span offsets[] = {
        {0xC0, 0xD6, 32},   {0xD8, 0xDE, 32},   {0x391, 0x3A1, 32},
        {0x3A3, 0x3AB, 32}, {0x410, 0x42F, 32}, {0x400, 0x40F, 80},
    };
    for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
        const struct span *sp = &offsets[k];
        if (!upper && c >= sp->lo_upper && c <= sp->hi_upper) {
            return c + (uint32_t)sp->delta;
        }
        if (upper && c >= sp->lo_upper + (uint32_t)sp->delta &&
            c <= sp->hi_upper + (uint32_t)sp->delta) {
            return c - (uint32_t)sp->delta;
        }
    }
    if (upper && c == 0xFF) {
        return 0x178;
    }
    if (!upper && c == 0x178) {
        return 0xFF;
    }
    if (upper && c == 0x3C2) {
        return 0x3A3; /* final sigma */
    }
    /* Latin Extended-A: pairs, upper case first (even, or odd in two runs). */
    bool odd_runs = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    bool even_runs =
        (c >= 0x100 && c <= 0x137 && c != 0x130 && c != 0x131) || (c >= 0x14A && c <= 0x177);
    if (odd_runs || even_runs) {
        bool is_upper = (c % 2 == 1) == odd_runs;
        if (upper && !is_upper) {
            return c - 1;
        }
        if (!upper && is_upper) {
            return c + 1;
        }
    }
    return c;
}

/* Decodes one UTF-8 sequence at s[*i] (invalid bytes pass through as is). */
static uint32_t utf8_next(const char *s, size_t len, size_t *i, size_t *bytes)
{
    TANDEM_ASSERT(*i < len);
    unsigned char c = (unsigned char)s[*i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n <= 1 || *i + n > len) {
        *bytes = 1;
        (*i)++;
        return n == 1 ? c : 0xFFFFFFFFu;
    }
    uint32_t cp = c & (0x7Fu >> n);
    for (size_t k = 1; k < n; k++) {
        unsigned char cc = (unsigned char)s[*i + k];
        if ((cc & 0xC0) != 0x80) {
            *bytes = 1;
            (*i)++;
            return 0xFFFFFFFFu;
        }
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    *bytes = n;
    *i += n;
    TANDEM_ASSERT(*i <= len);
    return cp;
}

static size_t put_cp(char *out, uint32_t cp)
{
    TANDEM_ASSERT(cp < 0x110000);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    TANDEM_ASSERT(cp < 0x10000);
    return 3;
}

static const feel_value *change_case(feel_eval *e, const feel_value *const *args, bool upper)
{
    NEED_STR(upper ? "upper case" : "lower case", 0);
    const char *s = STR(0).s;
    size_t len = STR(0).len;
    /* ß -> SS doubles at most: 2 bytes become 2 bytes; others keep or
     * shrink their length, so twice the input always fits. */
    char *out = feel_arena_alloc(e->arena, 2 * len + 1);
    if (out == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    size_t i = 0, n = 0;
    while (i < len) {
        size_t at = i, bytes;
        uint32_t cp = utf8_next(s, len, &i, &bytes);
        uint32_t m = cp == 0xFFFFFFFFu || cp >= 0x10000 ? cp : map_case(cp, upper);
        if (upper && cp == 0xDF) {
            out[n++] = 'S';
            out[n++] = 'S';
        } else if (m == cp) {
            memcpy(out + n, s + at, bytes);
            n += bytes;
        } else {
            n += put_cp(out + n, m);
        }
    }
    TANDEM_ASSERT(n <= 2 * len);
    return feel_string(e, out, n);
}

static const feel_value *fn_upper_case(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    return change_case(e, args, true);
}

static const feel_value *fn_lower_case(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    return change_case(e, args, false);
}

static const char *find(const char *h, size_t hlen, const char *nd, size_t nlen)
{
    if (nlen == 0) {
        return h;
    }
    return memmem(h, hlen, nd, nlen);
}

/* which: 0 before, 1 after, 2 contains, 3 starts with, 4 ends with. */
static const feel_value *string_match(feel_eval *e, const feel_value *const *args, int which)
{
    static const char *const names[] = {"substring before", "substring after", "contains",
                                        "starts with", "ends with"};
    TANDEM_ASSERT(which >= 0 && which < 5);
    NEED_STR(names[which], 0);
    NEED_STR(names[which], 1);
    const char *h = STR(0).s, *nd = STR(1).s;
    size_t hl = STR(0).len, nl = STR(1).len;
    const char *at = find(h, hl, nd, nl);
    switch (which) {
    case 0:
        return at == NULL ? feel_string(e, "", 0) : feel_string(e, h, (size_t)(at - h));
    case 1:
        return at == NULL ? feel_string(e, "", 0)
                          : feel_string(e, at + nl, hl - (size_t)(at - h) - nl);
    case 2:
        return feel_bool(at != NULL);
    case 3:
        return feel_bool(nl <= hl && memcmp(h, nd, nl) == 0);
    default:
        return feel_bool(nl <= hl && memcmp(h + hl - nl, nd, nl) == 0);
    }
}

static const feel_value *fn_substring_before(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 2);
    return string_match(e, a, 0);
}
static const feel_value *fn_substring_after(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 2);
    return string_match(e, a, 1);
}
static const feel_value *fn_contains(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 2);
    return string_match(e, a, 2);
}
static const feel_value *fn_starts_with(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 2);
    return string_match(e, a, 3);
}
static const feel_value *fn_ends_with(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 2);
    return string_match(e, a, 4);
}

static const feel_value *fn_trim(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_STR("trim", 0);
    const char *s = STR(0).s;
    size_t a = 0, b = STR(0).len;
    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r')) {
        a++;
    }
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' || s[b - 1] == '\r')) {
        b--;
    }
    return feel_string(e, s + a, b - a);
}

/* ---- Regular expressions ------------------------------------------------- */

typedef struct regex {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
} regex;

static void regex_free(regex *r)
{
    TANDEM_ASSERT(r != NULL);
    pcre2_match_context_free(r->mctx);
    pcre2_match_data_free(r->md);
    pcre2_code_free(r->code);
}

/* Compiles a pattern with FEEL flags (i, s, m, x); false with a warning. */
static bool regex_compile(feel_eval *e, const char *fn, const feel_value *pattern,
                          const feel_value *flags, regex *r)
{
    TANDEM_ASSERT(pattern != NULL && r != NULL);
    memset(r, 0, sizeof(*r));
    if (pattern->type != TANDEM_FEEL_STRING) {
        feel_bad_arg(e, fn, 1, "a string", pattern);
        return false;
    }
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (flags != NULL && flags->type == TANDEM_FEEL_STRING) {
        for (uint32_t i = 0; i < flags->u.str.len; i++) {
            switch (flags->u.str.s[i]) {
            case 'i':
                opts |= PCRE2_CASELESS;
                break;
            case 's':
                opts |= PCRE2_DOTALL;
                break;
            case 'm':
                opts |= PCRE2_MULTILINE;
                break;
            case 'x':
                opts |= PCRE2_EXTENDED;
                break;
            default:
                feel_warn(e, "%s: unknown flag '%c'", fn, flags->u.str.s[i]);
                return false;
            }
        }
    }
    int err;
    PCRE2_SIZE off;
    r->code =
        pcre2_compile((PCRE2_SPTR)pattern->u.str.s, pattern->u.str.len, opts, &err, &off, NULL);
    if (r->code == NULL) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(err, msg, sizeof(msg));
        feel_warn(e, "%s: bad pattern at offset %zu: %s", fn, (size_t)off, (const char *)msg);
        return false;
    }
    r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
    r->mctx = pcre2_match_context_create(NULL);
    if (r->md == NULL || r->mctx == NULL) {
        regex_free(r);
        feel_fail(e, TANDEM_ENOMEM, "out of memory compiling a pattern");
        return false;
    }
    pcre2_set_match_limit(r->mctx, REGEX_MATCH_LIMIT);
    return true;
}

/* 1 match, 0 none, -1 error (warned). */
static int regex_match(feel_eval *e, const char *fn, regex *r, const char *s, size_t len,
                       size_t start)
{
    TANDEM_ASSERT(r->code != NULL && start <= len);
    int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, start, 0, r->md, r->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }
    if (rc < 0) {
        feel_warn(e, "%s: matching failed (%d)", fn, rc);
        return -1;
    }
    return 1;
}

static const feel_value *fn_matches(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_STR("matches", 0);
    regex r;
    if (!regex_compile(e, "matches", args[1], n == 3 ? args[2] : NULL, &r)) {
        return e->error != 0 ? NULL : &feel_null;
    }
    int m = regex_match(e, "matches", &r, STR(0).s, STR(0).len, 0);
    regex_free(&r);
    return m < 0 ? &feel_null : feel_bool(m == 1);
}

static const feel_value *fn_replace(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_STR("replace", 0);
    NEED_STR("replace", 2);
    regex r;
    if (!regex_compile(e, "replace", args[1], n == 4 ? args[3] : NULL, &r)) {
        return e->error != 0 ? NULL : &feel_null;
    }
    size_t cap = (size_t)STR(0).len * 2 + 64;
    const feel_value *result = &feel_null;
    for (int attempt = 0; attempt < 8; attempt++) {
        if (cap > e->lim.string_bytes_max + 1) {
            cap = e->lim.string_bytes_max + 1;
        }
        char *out = feel_arena_alloc(e->arena, cap);
        if (out == NULL) {
            result = feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
            break;
        }
        PCRE2_SIZE outlen = cap;
        int rc = pcre2_substitute(r.code, (PCRE2_SPTR)STR(0).s, STR(0).len, 0,
                                  PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                                      PCRE2_SUBSTITUTE_UNSET_EMPTY,
                                  r.md, r.mctx, (PCRE2_SPTR)STR(2).s, STR(2).len,
                                  (PCRE2_UCHAR *)out, &outlen);
        if (rc == PCRE2_ERROR_NOMEMORY && cap <= e->lim.string_bytes_max) {
            cap = outlen + 1;
            continue;
        }
        if (rc == PCRE2_ERROR_NOMEMORY) {
            result =
                feel_fail(e, TANDEM_ETOOBIG, "replace: the result exceeds the limit of %zu bytes",
                          e->lim.string_bytes_max);
        } else if (rc < 0) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(rc, msg, sizeof(msg));
            result = feel_warn(e, "replace: %s", (const char *)msg);
        } else {
            result = feel_string(e, out, outlen);
        }
        break;
    }
    regex_free(&r);
    return result;
}

/* split (every piece, empty ones included, as the DMN specification's
 * split("a;b;c;;", ";") = ["a","b","c","",""]) and extract (every match). */
static const feel_value *regex_pieces(feel_eval *e, const feel_value *const *args, bool matches)
{
    const char *fn = matches ? "extract" : "split";
    NEED_STR(fn, 0);
    regex r;
    if (!regex_compile(e, fn, args[1], NULL, &r)) {
        return e->error != 0 ? NULL : &feel_null;
    }
    const char *s = STR(0).s;
    size_t len = STR(0).len, at = 0, piece = 0;
    feel_list_builder lb = {0};
    bool ok = true;
    while (ok && at <= len) {
        int m = regex_match(e, fn, &r, s, len, at);
        if (m < 0) {
            regex_free(&r);
            return &feel_null;
        }
        if (m == 0) {
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r.md);
        size_t ms = ov[0], me = ov[1];
        TANDEM_ASSERT(ms <= me && me <= len);
        if (matches) {
            ok = feel_lb_push(e, &lb, feel_string(e, s + ms, me - ms));
        } else if (!(me == ms && ms == 0)) {
            ok = feel_lb_push(e, &lb, feel_string(e, s + piece, ms - piece));
            piece = me;
        }
        at = me > ms ? me : me + 1; /* an empty match moves on by one */
    }
    regex_free(&r);
    if (!ok) {
        return NULL;
    }
    if (!matches) {
        if (!feel_lb_push(e, &lb, feel_string(e, s + piece, len - piece))) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

static const feel_value *fn_split(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    return regex_pieces(e, args, false);
}

static const feel_value *fn_extract(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    return regex_pieces(e, args, true);
}

static const feel_value *fn_string_join(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (args[0]->type != TANDEM_FEEL_LIST) {
        return feel_bad_arg(e, "string join", 0, "a list", args[0]);
    }
    const char *parts[3] = {"", "", ""}; /* delimiter, prefix, suffix */
    size_t plen[3] = {0, 0, 0};
    for (uint32_t i = 1; i < n; i++) {
        if (args[i]->type == TANDEM_FEEL_STRING) {
            parts[i - 1] = args[i]->u.str.s;
            plen[i - 1] = args[i]->u.str.len;
        } else if (args[i]->type != TANDEM_FEEL_NULL) {
            return feel_bad_arg(e, "string join", i, "a string", args[i]);
        }
    }
    const feel_value *list = args[0];
    size_t total = plen[1] + plen[2];
    for (uint32_t i = 0; i < list->u.list.n; i++) {
        const feel_value *it = list->u.list.items[i];
        if (it->type == TANDEM_FEEL_STRING) {
            total += it->u.str.len + plen[0];
        } else if (it->type != TANDEM_FEEL_NULL) {
            return feel_warn(e, "string join: the list must contain strings, not %s",
                             feel_type_name(it->type));
        }
    }
    if (total > e->lim.string_bytes_max) {
        return feel_fail(e, TANDEM_ETOOBIG,
                         "string join: the result exceeds the limit of %zu bytes",
                         e->lim.string_bytes_max);
    }
    char *buf = feel_arena_alloc(e->arena, total + 1);
    if (buf == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    size_t at = 0;
    memcpy(buf, parts[1], plen[1]);
    at += plen[1];
    bool first = true;
    for (uint32_t i = 0; i < list->u.list.n; i++) {
        const feel_value *it = list->u.list.items[i];
        if (it->type != TANDEM_FEEL_STRING) {
            continue; /* nulls are skipped */
        }
        if (!first) {
            memcpy(buf + at, parts[0], plen[0]);
            at += plen[0];
        }
        first = false;
        memcpy(buf + at, it->u.str.s, it->u.str.len);
        at += it->u.str.len;
    }
    memcpy(buf + at, parts[2], plen[2]);
    at += plen[2];
    TANDEM_ASSERT(at <= total);
    return feel_string(e, buf, at);
}

/* A version 4 (random) UUID, drawn from the caller's source. */
static const feel_value *fn_uuid(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 0);
    if (e->rand == NULL) {
        return feel_warn(e, "uuid: no source of randomness was given");
    }
    uint64_t hi = tandem_rand_u64(e->rand), lo = tandem_rand_u64(e->rand);
    hi = (hi & ~UINT64_C(0xF000)) | UINT64_C(0x4000);       /* version 4 */
    lo = (lo & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62); /* RFC 4122 variant */
    char text[40];
    int len = snprintf(text, sizeof(text), "%08llx-%04llx-%04llx-%04llx-%012llx",
                       (unsigned long long)(hi >> 32), (unsigned long long)((hi >> 16) & 0xFFFF),
                       (unsigned long long)(hi & 0xFFFF), (unsigned long long)(lo >> 48),
                       (unsigned long long)(lo & UINT64_C(0xFFFFFFFFFFFF)));
    TANDEM_ASSERT(len == 36);
    return feel_string(e, text, (size_t)len);
}

const feel_builtin feel_builtins_string[] = {
    {"substring", {"string", "start position", "length"}, 2, 3, fn_substring},
    {"string length", {"string"}, 1, 1, fn_string_length},
    {"upper case", {"string"}, 1, 1, fn_upper_case},
    {"lower case", {"string"}, 1, 1, fn_lower_case},
    {"substring before", {"string", "match"}, 2, 2, fn_substring_before},
    {"substring after", {"string", "match"}, 2, 2, fn_substring_after},
    {"contains", {"string", "match"}, 2, 2, fn_contains},
    {"starts with", {"string", "match"}, 2, 2, fn_starts_with},
    {"ends with", {"string", "match"}, 2, 2, fn_ends_with},
    {"matches", {"input", "pattern", "flags"}, 2, 3, fn_matches},
    {"replace", {"input", "pattern", "replacement", "flags"}, 3, 4, fn_replace},
    {"split", {"string", "delimiter"}, 2, 2, fn_split},
    {"extract", {"string", "pattern"}, 2, 2, fn_extract},
    {"trim", {"string"}, 1, 1, fn_trim},
    {"string join", {"list", "delimiter", "prefix", "suffix"}, 1, 4, fn_string_join},
    {"uuid", {NULL}, 0, 0, fn_uuid},
    {NULL, {NULL}, 0, 0, NULL},
};
