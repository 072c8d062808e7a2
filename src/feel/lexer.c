/*
 * lexer.c — splits FEEL source into tokens.
 *
 * FEEL names may contain spaces: the built-in functions and types are called
 * `string length`, `date and time`, `years and months duration`. A general
 * rule ("consecutive words form one name") cannot work because `and` is also
 * an operator, so the lexer knows the multi-word names of the language and
 * joins words only when they spell one of them (longest match). Other names
 * with spaces are written in backticks: `my name`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

static const char *const tok_names[FT_COUNT] = {
#define FEEL_TOK_NAME_(name, text) text,
    FEEL_TOKENS(FEEL_TOK_NAME_)
#undef FEEL_TOK_NAME_
};

const char *feel_tok_name(unsigned kind)
{
    TANDEM_ASSERT(FT_COUNT == sizeof(tok_names) / sizeof(tok_names[0]));
    return kind < FT_COUNT ? tok_names[kind] : "token";
}

int feel_diag_at(tandem_diag *diag, int code, const char *src, size_t len, size_t pos,
                 const char *fmt, ...)
{
    TANDEM_ASSERT(code != 0);
    TANDEM_ASSERT(pos <= len);
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)src[i] & 0xC0u) != 0x80u) {
            col++; /* columns count characters, not UTF-8 continuation bytes */
        }
    }
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return tandem_diag_set(diag, code, "%u:%u: %s", line, col, what);
}

static const struct {
    const char *text;
    uint16_t kind;
} keywords[] = {
    {"and", FT_AND},
    {"or", FT_OR},
    {"if", FT_IF},
    {"then", FT_THEN},
    {"else", FT_ELSE},
    {"for", FT_FOR},
    {"in", FT_IN},
    {"return", FT_RETURN},
    {"some", FT_SOME},
    {"every", FT_EVERY},
    {"satisfies", FT_SATISFIES},
    {"between", FT_BETWEEN},
    {"instance", FT_INSTANCE},
    {"of", FT_OF},
    {"function", FT_FUNCTION},
    {"true", FT_TRUE},
    {"false", FT_FALSE},
    {"null", FT_NULL},
};

/* Names of the language made of several words, each separated by one space.
 * Between words the source may have any run of white space. */
static const char *const multi_word_names[] = {
    "date and time",
    "years and months duration",
    "days and time duration",
    "string length",
    "upper case",
    "lower case",
    "substring before",
    "substring after",
    "starts with",
    "ends with",
    "string join",
    "list contains",
    "insert before",
    "index of",
    "distinct values",
    "duplicate values",
    "is empty",
    "round up",
    "round down",
    "round half up",
    "round half down",
    "random number",
    "get value",
    "get entries",
    "context put",
    "context merge",
    "is defined",
    "get or else",
    "day of week",
    "day of year",
    "week of year",
    "month of year",
    "last day of month",
    "met by",
    "overlaps before",
    "overlaps after",
    "finished by",
    "started by",
    "string format",
    /* properties */
    "time offset",
    "start included",
    "end included",
    /* parameter names of built-ins, for named arguments */
    "start position",
    "grouping separator",
    "decimal separator",
    "new item",
    "default value",
};

static bool is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '?' || c == '$' ||
           c >= 0x80;
}

static bool is_name_part(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static size_t word_end(const char *src, size_t len, size_t i)
{
    TANDEM_ASSERT(i <= len);
    while (i < len && is_name_part((unsigned char)src[i])) {
        i++;
    }
    TANDEM_ASSERT(i <= len);
    return i;
}

/* If a multi-word name starts at `start`, returns its end in the source (the
 * longest such name); else 0. */
static size_t match_multi_word(const char *src, size_t len, size_t start, const char **name)
{
    TANDEM_ASSERT(start < len);
    size_t best_end = 0;
    for (size_t k = 0; k < sizeof(multi_word_names) / sizeof(multi_word_names[0]); k++) {
        const char *n = multi_word_names[k];
        size_t i = start;
        bool ok = true;
        while (*n != '\0' && ok) {
            if (*n == ' ') {
                if (i >= len ||
                    (src[i] != ' ' && src[i] != '\t' && src[i] != '\n' && src[i] != '\r')) {
                    ok = false;
                }
                while (i < len &&
                       (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) {
                    i++;
                }
                n++;
            } else if (i < len && src[i] == *n) {
                i++;
                n++;
            } else {
                ok = false;
            }
        }
        if (ok && (i >= len || !is_name_part((unsigned char)src[i])) && i > best_end) {
            best_end = i;
            *name = multi_word_names[k];
        }
    }
    TANDEM_ASSERT(best_end == 0 || best_end > start);
    return best_end;
}

static int put_utf8(char *out, size_t *n, uint32_t cp)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(cp <= 0x10FFFF);
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

static int hex4(const char *s, size_t left, uint32_t *out)
{
    TANDEM_ASSERT(out != NULL);
    if (left < 4) {
        return -1;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9') {
            d = (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (uint32_t)(c - 'A' + 10);
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    *out = v;
    TANDEM_ASSERT(v <= 0xFFFF);
    return 0;
}

/* Decodes the escape at src[*i] (a backslash) into out; advances *i. */
static int lex_escape(const char *src, size_t len, size_t start, size_t *i, char *out, size_t *n,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(src[*i] == '\\' && *i + 1 < len);
    char e = src[*i + 1];
    *i += 2;
    switch (e) {
    case 'n':
        out[(*n)++] = '\n';
        return 0;
    case 'r':
        out[(*n)++] = '\r';
        return 0;
    case 't':
        out[(*n)++] = '\t';
        return 0;
    case '"':
        out[(*n)++] = '"';
        return 0;
    case '\'':
        out[(*n)++] = '\'';
        return 0;
    case '\\':
        out[(*n)++] = '\\';
        return 0;
    case 'u':
        break;
    default:
        /* Other escapes stay as written, so regular expressions such as
         * "\d+" keep their backslash. */
        out[(*n)++] = '\\';
        out[(*n)++] = e;
        return 0;
    }
    uint32_t cp;
    if (hex4(src + *i, len - *i, &cp) != 0) {
        return feel_diag_at(diag, TANDEM_EINVAL, src, len, *i - 2,
                            "bad \\u escape: four hex digits expected");
    }
    *i += 4;
    if (cp >= 0xD800 && cp < 0xDC00) {
        uint32_t lo;
        if (len - *i < 6 || src[*i] != '\\' || src[*i + 1] != 'u' ||
            hex4(src + *i + 2, len - *i - 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
            return feel_diag_at(diag, TANDEM_EINVAL, src, len, *i - 6,
                                "bad \\u escape: unpaired surrogate");
        }
        *i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return feel_diag_at(diag, TANDEM_EINVAL, src, len, *i - 6,
                            "bad \\u escape: unpaired surrogate");
    }
    TANDEM_ASSERT(start < *i);
    /* 4 or 6 source bytes give at most 4 output bytes: it fits. */
    return put_utf8(out, n, cp);
}

/* Decodes a string literal starting at the quote at `start` (a double quote,
 * or a backtick for a quoted name). */
static int lex_string(const char *src, size_t len, size_t start, feel_arena *arena, feel_token *t,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(src[start] == '"' || src[start] == '`');
    char quote = src[start];
    /* The decoded text is never longer than the source. */
    char *out = feel_arena_alloc(arena, len - start + 1);
    if (out == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory in the lexer");
    }
    size_t n = 0, i = start + 1;
    for (;;) {
        if (i >= len) {
            return feel_diag_at(diag, TANDEM_EINVAL, src, len, start,
                                quote == '"' ? "unterminated string" : "unterminated name");
        }
        char c = src[i];
        if (c == quote) {
            i++;
            break;
        }
        if (c != '\\' || quote == '`') {
            out[n++] = c;
            i++;
            continue;
        }
        if (i + 1 >= len) {
            return feel_diag_at(diag, TANDEM_EINVAL, src, len, start, "unterminated string");
        }
        int rc = lex_escape(src, len, start, &i, out, &n, diag);
        if (rc != 0) {
            return rc;
        }
    }
    TANDEM_ASSERT(n <= len - start);
    out[n] = '\0';
    t->kind = quote == '"' ? FT_STRING : FT_NAME;
    t->pos = (uint32_t)start;
    t->len = (uint32_t)(i - start);
    t->text = out;
    t->text_len = (uint32_t)n;
    return 0;
}

static size_t skip_space_and_comments(const char *src, size_t len, size_t i, size_t *bad_comment)
{
    TANDEM_ASSERT(i <= len);
    for (;;) {
        while (i < len && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) {
            i++;
        }
        if (i + 1 < len && src[i] == '/' && src[i + 1] == '/') {
            while (i < len && src[i] != '\n') {
                i++;
            }
        } else if (i + 1 < len && src[i] == '/' && src[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < len; j++) {
                if (src[j] == '*' && src[j + 1] == '/') {
                    end = src + j;
                    break;
                }
            }
            if (end == NULL) {
                *bad_comment = i;
                return len;
            }
            i = (size_t)(end - src) + 2;
        } else {
            break;
        }
    }
    TANDEM_ASSERT(i <= len);
    return i;
}

static int lex_name(const char *src, size_t len, size_t i, feel_arena *arena, feel_token *t,
                    tandem_diag *diag)
{
    TANDEM_ASSERT(is_name_start((unsigned char)src[i]));
    const char *multi = NULL;
    size_t end = match_multi_word(src, len, i, &multi);
    if (end != 0) {
        t->kind = FT_NAME;
        t->text = multi;
        t->text_len = (uint32_t)strlen(multi);
    } else {
        end = word_end(src, len, i);
        t->kind = FT_NAME;
        for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
            if (strlen(keywords[k].text) == end - i &&
                memcmp(keywords[k].text, src + i, end - i) == 0) {
                t->kind = keywords[k].kind;
            }
        }
        t->text = feel_arena_strndup(arena, src + i, end - i);
        if (t->text == NULL) {
            return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory in the lexer");
        }
        t->text_len = (uint32_t)(end - i);
    }
    t->pos = (uint32_t)i;
    t->len = (uint32_t)(end - i);
    TANDEM_ASSERT(end > i);
    return 0;
}

static int lex_number(const char *src, size_t len, size_t i, feel_arena *arena, feel_token *t,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(i < len);
    size_t j = i;
    while (j < len && src[j] >= '0' && src[j] <= '9') {
        j++;
    }
    /* "1..5" is a range: the first dot is not a decimal point. */
    if (j + 1 < len && src[j] == '.' && src[j + 1] >= '0' && src[j + 1] <= '9') {
        j++;
        while (j < len && src[j] >= '0' && src[j] <= '9') {
            j++;
        }
    }
    TANDEM_ASSERT(j > i);
    t->kind = FT_NUMBER;
    t->pos = (uint32_t)i;
    t->len = (uint32_t)(j - i);
    t->text = feel_arena_strndup(arena, src + i, j - i);
    t->text_len = t->len;
    if (t->text == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory in the lexer");
    }
    return 0;
}

/* Operators and punctuation; returns the token length, 0 when none. */
static size_t lex_punct(const char *src, size_t len, size_t i, uint16_t *kind)
{
    TANDEM_ASSERT(i < len);
    char c = src[i], d = i + 1 < len ? src[i + 1] : '\0';
    static const struct {
        char a, b;
        uint16_t kind;
    } two[] = {{'.', '.', FT_DOTDOT}, {'*', '*', FT_POW}, {'!', '=', FT_NE},
               {'<', '=', FT_LE},     {'>', '=', FT_GE},  {'-', '>', FT_ARROW}};
    for (size_t k = 0; k < sizeof(two) / sizeof(two[0]); k++) {
        if (c == two[k].a && d == two[k].b) {
            *kind = two[k].kind;
            return 2;
        }
    }
    static const char one_chars[] = "@()[]{},.:+-*/=<>";
    static const uint16_t one_kinds[] = {FT_AT,     FT_LPAREN, FT_RPAREN, FT_LBRACK, FT_RBRACK,
                                         FT_LBRACE, FT_RBRACE, FT_COMMA,  FT_DOT,    FT_COLON,
                                         FT_PLUS,   FT_MINUS,  FT_STAR,   FT_SLASH,  FT_EQ,
                                         FT_LT,     FT_GT};
    _Static_assert(sizeof(one_chars) - 1 == sizeof(one_kinds) / sizeof(one_kinds[0]),
                   "one token kind per punctuation character");
    const char *p = c != '\0' ? strchr(one_chars, c) : NULL;
    if (p == NULL) {
        return 0;
    }
    *kind = one_kinds[p - one_chars];
    return 1;
}

int feel_lex(const char *src, size_t len, feel_arena *arena, feel_token **tokens_out,
             size_t *count_out, tandem_diag *diag)
{
    TANDEM_ASSERT(src != NULL || len == 0);
    TANDEM_ASSERT(arena != NULL && tokens_out != NULL && count_out != NULL);
    /* Every token but EOF consumes at least one byte. */
    feel_token *toks = feel_arena_alloc(arena, (len + 1) * sizeof(feel_token));
    if (toks == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory in the lexer");
    }
    size_t n = 0, i = 0;
    for (;;) {
        size_t bad_comment = SIZE_MAX;
        i = skip_space_and_comments(src, len, i, &bad_comment);
        if (bad_comment != SIZE_MAX) {
            return feel_diag_at(diag, TANDEM_EINVAL, src, len, bad_comment, "unterminated comment");
        }
        if (i >= len) {
            break;
        }
        TANDEM_ASSERT(n < len);
        feel_token *t = &toks[n];
        unsigned char c = (unsigned char)src[i];
        int rc = 0;
        uint16_t kind = 0;
        size_t plen;
        if (c == '"' || c == '`') {
            rc = lex_string(src, len, i, arena, t, diag);
        } else if (c >= '0' && c <= '9') {
            rc = lex_number(src, len, i, arena, t, diag);
        } else if (c == '.' && i + 1 < len && src[i + 1] >= '0' && src[i + 1] <= '9') {
            rc = lex_number(src, len, i + 1, arena, t, diag);
            /* ".5" is the number 0.5: keep the dot in the text. */
            if (rc == 0) {
                t->pos = (uint32_t)i;
                t->len++;
                t->text = feel_arena_strndup(arena, src + i, t->len);
                t->text_len = t->len;
                rc = t->text == NULL ? tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory") : 0;
            }
        } else if (is_name_start(c)) {
            rc = lex_name(src, len, i, arena, t, diag);
        } else if ((plen = lex_punct(src, len, i, &kind)) != 0) {
            t->kind = kind;
            t->pos = (uint32_t)i;
            t->len = (uint32_t)plen;
        } else {
            return feel_diag_at(diag, TANDEM_EINVAL, src, len, i, "unexpected character '%c'",
                                c >= 0x20 && c < 0x7F ? c : '?');
        }
        if (rc != 0) {
            return rc;
        }
        i += t->len;
        n++;
    }
    toks[n].kind = FT_EOF;
    toks[n].pos = (uint32_t)len;
    toks[n].len = 0;
    *tokens_out = toks;
    *count_out = n + 1;
    return 0;
}
