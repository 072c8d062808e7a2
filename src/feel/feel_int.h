/*
 * feel_int.h — internals shared by the files of the FEEL module: the arena
 * every compiled tree and every evaluation allocates from, the tokens of the
 * lexer and the nodes of the syntax tree.
 */
#ifndef TANDEM_FEEL_FEEL_INT_H
#define TANDEM_FEEL_FEEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "feel/decimal.h"
#include "feel/feel.h"

/* ---- Arena ---------------------------------------------------------------
 * Many small objects that die together: a compiled tree dies with its
 * expression, the values of an evaluation die with its result. One arena per
 * owner makes every free a single call and leaks impossible. `bytes_max`
 * bounds the total, so an evaluation cannot eat the machine. */

typedef struct feel_arena_block feel_arena_block;

typedef struct feel_arena {
    feel_arena_block *head; /* private: newest block first */
    size_t used_bytes;      /* read-only: bytes handed out (with alignment) */
    size_t bytes_max;       /* public: 0 = unbounded */
    bool over_limit;        /* read-only: an allocation failed for bytes_max (sticky) */
} feel_arena;

void feel_arena_init(feel_arena *a, size_t bytes_max);
/* Frees every block; the arena may be used again afterwards. */
void feel_arena_free(feel_arena *a);
/* Forgets all allocations but keeps the first block, for reuse in loops. */
void feel_arena_reset(feel_arena *a);
/* 8-byte aligned memory valid until free/reset, or NULL when out of memory
 * or over bytes_max. Zeroed. */
void *feel_arena_alloc(feel_arena *a, size_t size);
/* NUL-terminated copy of len bytes, or NULL. */
char *feel_arena_strndup(feel_arena *a, const char *s, size_t len);

/* ---- Tokens -------------------------------------------------------------- */

#define FEEL_TOKENS(X)                                                                             \
    X(FT_EOF, "end of input")                                                                      \
    X(FT_NUMBER, "number")                                                                         \
    X(FT_STRING, "string")                                                                         \
    X(FT_NAME, "name")                                                                             \
    X(FT_AT, "'@'")                                                                                \
    X(FT_LPAREN, "'('")                                                                            \
    X(FT_RPAREN, "')'")                                                                            \
    X(FT_LBRACK, "'['")                                                                            \
    X(FT_RBRACK, "']'")                                                                            \
    X(FT_LBRACE, "'{'")                                                                            \
    X(FT_RBRACE, "'}'")                                                                            \
    X(FT_COMMA, "','")                                                                             \
    X(FT_DOT, "'.'")                                                                               \
    X(FT_DOTDOT, "'..'")                                                                           \
    X(FT_COLON, "':'")                                                                             \
    X(FT_PLUS, "'+'")                                                                              \
    X(FT_MINUS, "'-'")                                                                             \
    X(FT_STAR, "'*'")                                                                              \
    X(FT_SLASH, "'/'")                                                                             \
    X(FT_POW, "'**'")                                                                              \
    X(FT_EQ, "'='")                                                                                \
    X(FT_NE, "'!='")                                                                               \
    X(FT_LT, "'<'")                                                                                \
    X(FT_LE, "'<='")                                                                               \
    X(FT_GT, "'>'")                                                                                \
    X(FT_GE, "'>='")                                                                               \
    X(FT_ARROW, "'->'")                                                                            \
    X(FT_AND, "'and'")                                                                             \
    X(FT_OR, "'or'")                                                                               \
    X(FT_IF, "'if'")                                                                               \
    X(FT_THEN, "'then'")                                                                           \
    X(FT_ELSE, "'else'")                                                                           \
    X(FT_FOR, "'for'")                                                                             \
    X(FT_IN, "'in'")                                                                               \
    X(FT_RETURN, "'return'")                                                                       \
    X(FT_SOME, "'some'")                                                                           \
    X(FT_EVERY, "'every'")                                                                         \
    X(FT_SATISFIES, "'satisfies'")                                                                 \
    X(FT_BETWEEN, "'between'")                                                                     \
    X(FT_INSTANCE, "'instance'")                                                                   \
    X(FT_OF, "'of'")                                                                               \
    X(FT_FUNCTION, "'function'")                                                                   \
    X(FT_TRUE, "'true'")                                                                           \
    X(FT_FALSE, "'false'")                                                                         \
    X(FT_NULL, "'null'")

enum feel_tok_kind {
#define FEEL_TOK_ENUM_(name, text) name,
    FEEL_TOKENS(FEEL_TOK_ENUM_)
#undef FEEL_TOK_ENUM_
        FT_COUNT
};

typedef struct feel_token {
    uint16_t kind;    /* enum feel_tok_kind */
    uint32_t pos;     /* byte offset of the first character in the source */
    uint32_t len;     /* bytes of source */
    const char *text; /* NAME: the name (words joined by one space); STRING: decoded;
                         NUMBER: digits as written; else NULL. Arena-owned. */
    uint32_t text_len;
} feel_token;

const char *feel_tok_name(unsigned kind);

/* Splits src into tokens ending with FT_EOF, allocated from `arena`. Errors
 * (bad character, unterminated string or comment, bad escape) give
 * TANDEM_EINVAL with "line:column: what" in diag. */
int feel_lex(const char *src, size_t len, feel_arena *arena, feel_token **tokens_out,
             size_t *count_out, tandem_diag *diag);

/* Sets diag to "line:column: <message>" for byte offset `pos` of src. */
int feel_diag_at(tandem_diag *diag, int code, const char *src, size_t len, size_t pos,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- Syntax tree --------------------------------------------------------- */

#define FEEL_NODES(X)                                                                              \
    X(FN_NULL, "null")                                                                             \
    X(FN_BOOL, "bool")            /* op: 0 false, 1 true */                                        \
    X(FN_NUMBER, "number")        /* text: digits as written */                                    \
    X(FN_STRING, "string")        /* text: decoded */                                              \
    X(FN_TEMPORAL, "temporal")    /* text: the string after '@' */                                 \
    X(FN_NAME, "name")            /* text: the name */                                             \
    X(FN_NEG, "neg")              /* kids: operand */                                              \
    X(FN_ARITH, "arith")          /* op: FT_PLUS..FT_POW; kids: left, right */                     \
    X(FN_COMPARE, "compare")      /* op: FT_EQ..FT_GE; kids: left, right */                        \
    X(FN_AND, "and")              /* kids: left, right */                                          \
    X(FN_OR, "or")                /* kids: left, right */                                          \
    X(FN_BETWEEN, "between")      /* kids: value, low, high */                                     \
    X(FN_IN, "in")                /* kids: value, test */                                          \
    X(FN_UT_CMP, "test")          /* op: FT_EQ..FT_GE; kids: endpoint ("< 5") */                   \
    X(FN_UT_LIST, "tests")        /* kids: tests, any may match */                                 \
    X(FN_INSTANCE_OF, "instance") /* kids: value; text: type name */                               \
    X(FN_PATH, "path")            /* kids: base; text: member name */                              \
    X(FN_FILTER, "filter")        /* kids: list, filter */                                         \
    X(FN_CALL, "call")            /* kids: callee, args...; op: 1 when named */                    \
    X(FN_NAMED_ARG, "arg")        /* text: parameter name; kids: value */                          \
    X(FN_IF, "if")                /* kids: condition, then, else */                                \
    X(FN_FOR, "for")              /* kids: iterators..., body */                                   \
    X(FN_SOME, "some")            /* kids: iterators..., condition */                              \
    X(FN_EVERY, "every")          /* kids: iterators..., condition */                              \
    X(FN_ITER, "iter")            /* text: variable; kids: domain [, range end] */                 \
    X(FN_LIST, "list")            /* kids: items */                                                \
    X(FN_CONTEXT, "context")      /* kids: entries */                                              \
    X(FN_ENTRY, "entry")          /* text: key; kids: value */                                     \
    X(FN_FUNCDEF, "function")     /* kids: params..., body */                                      \
    X(FN_PARAM, "param")          /* text: parameter name */                                       \
    X(FN_RANGE, "range")          /* op: bit 0 start closed, bit 1 end closed; kids: start, end    \
                                     (either may be NULL for an open end) */

enum feel_node_kind {
#define FEEL_NODE_ENUM_(name, text) name,
    FEEL_NODES(FEEL_NODE_ENUM_)
#undef FEEL_NODE_ENUM_
        FN_COUNT
};

#define FEEL_RANGE_START_CLOSED 1u
#define FEEL_RANGE_END_CLOSED   2u

typedef struct feel_node feel_node;
struct feel_node {
    uint16_t kind;  /* enum feel_node_kind */
    uint16_t op;    /* see FEEL_NODES */
    uint32_t pos;   /* byte offset in the source, for messages */
    uint32_t nkids; /* entries of kids */
    uint32_t text_len;
    uint32_t height;  /* 1 + height of the tallest kid: bounds evaluation recursion */
    const char *text; /* NUL-terminated, arena-owned, or NULL */
    feel_node **kids; /* arena-owned; an entry may be NULL only in FN_RANGE */
    void *aux;        /* filled in by the compiler: constants, resolved built-ins */
};

const char *feel_node_name(unsigned kind);

struct tandem_feel_expr {
    feel_arena arena; /* owns the source copy, tokens and the tree */
    const char *src;  /* copy of the source, NUL-terminated */
    size_t src_len;
    feel_node *root;
};

/* Parses tokens into a tree allocated from `arena`; *root_out on success. */
int feel_parse(const char *src, size_t len, const feel_token *tokens, size_t count,
               uint32_t depth_max, feel_arena *arena, feel_node **root_out, tandem_diag *diag);

/* ---- Numbers --------------------------------------------------------------
 * The evaluator reaches numbers only through these calls (number.c), thin
 * wrappers of FEEL's 34-digit decimal (decimal.h), so the evaluator reads in
 * FEEL's terms. Errors: TANDEM_EINVAL (bad text, division by zero, outside
 * the domain), TANDEM_ERANGE. */

typedef tandem_decimal feel_num;

#define FEEL_NUM_TEXT_MAX TANDEM_DECIMAL_TEXT_MAX

/* lenient: what number("...") accepts (Java BigDecimal text); else a FEEL
 * literal. */
int feel_num_parse(const char *text, size_t len, bool lenient, feel_num *out);
/* The shortest decimal that reads back as v (JSON numbers). */
int feel_num_from_double(double v, feel_num *out);
feel_num feel_num_from_int(int64_t v);
/* TANDEM_EINVAL with a fraction, TANDEM_ERANGE when it does not fit. */
int feel_num_to_int64(feel_num n, int64_t *out);
/* Canonical text like tandem_decimal_format; returns the length. */
size_t feel_num_format(feel_num n, char *buf, size_t size);
int feel_num_cmp(feel_num a, feel_num b);
bool feel_num_is_integer(feel_num n);
bool feel_num_is_negative(feel_num n);
bool feel_num_is_zero(feel_num n);
feel_num feel_num_negate(feel_num n);
int feel_num_add(feel_num a, feel_num b, feel_num *out);
int feel_num_sub(feel_num a, feel_num b, feel_num *out);
int feel_num_mul(feel_num a, feel_num b, feel_num *out);
int feel_num_div(feel_num a, feel_num b, feel_num *out);
int feel_num_pow(feel_num a, feel_num b, feel_num *out);
/* FEEL's modulo: the sign of the divisor. */
int feel_num_mod(feel_num a, feel_num b, feel_num *out);
int feel_num_sqrt(feel_num a, feel_num *out);
int feel_num_ln(feel_num a, feel_num *out);
int feel_num_exp(feel_num a, feel_num *out);

typedef enum feel_rounding {
    FEEL_ROUND_HALF_EVEN = 0,
    FEEL_ROUND_HALF_UP,
    FEEL_ROUND_HALF_DOWN,
    FEEL_ROUND_UP,
    FEEL_ROUND_DOWN,
    FEEL_ROUND_CEILING,
    FEEL_ROUND_FLOOR,
} feel_rounding;

/* To `scale` digits after the point (negative: tens, hundreds...). */
int feel_num_round(feel_num a, int32_t scale, feel_rounding mode, feel_num *out);

/* ---- Values ---------------------------------------------------------------
 * Immutable, allocated from an arena (the evaluation's, or the variables'),
 * shared freely by pointer. */

typedef struct feel_value feel_value;
typedef struct feel_eval feel_eval;

typedef struct feel_entry {
    const char *key; /* NUL-terminated */
    uint32_t key_len;
    const feel_value *value;
} feel_entry;

struct feel_builtin;

/* Date, time and date and time share one shape; a date has nanos 0, a time
 * days 0. A date-time in a zone by name is resolved (its offset found) when
 * the evaluation has zone data; without, it is kept and printed but
 * compares only with date-times of the same zone. */
typedef struct feel_temporal {
    int64_t days;     /* date part: days since 1970-01-01 */
    int64_t nanos;    /* time part: nanoseconds since midnight, < 86400e9 */
    int32_t offset_s; /* when zone_kind is FEEL_ZONE_OFFSET: seconds east of UTC */
    uint8_t zone_kind;
    uint8_t resolved; /* FEEL_ZONE_NAMED: offset_s holds the zone's offset then */
    const char *zone; /* FEEL_ZONE_NAMED: IANA name, NUL-terminated */
} feel_temporal;

#define FEEL_ZONE_LOCAL  0 /* no offset: a local date-time */
#define FEEL_ZONE_OFFSET 1
#define FEEL_ZONE_NAMED  2

/* Lists and contexts nest at most this deep, so every walk over a value
 * (printing, equality, flatten) has bounded recursion. */
#define FEEL_VALUE_DEPTH_MAX 100

struct feel_value {
    uint8_t type;   /* tandem_feel_type */
    uint16_t depth; /* lists and contexts: 1 + the deepest item; else 0 */
    union {
        bool b;
        feel_num num;
        struct {
            const char *s; /* NUL-terminated */
            uint32_t len;
        } str;
        struct {
            const feel_value *const *items;
            uint32_t n;
        } list;
        struct {
            const feel_entry *entries; /* in insertion order, keys unique */
            uint32_t n;
        } ctx;
        struct {
            const feel_value *start, *end; /* NULL: unbounded */
            uint8_t flags;                 /* FEEL_RANGE_START_CLOSED | FEEL_RANGE_END_CLOSED */
        } range;
        struct {
            const struct feel_builtin *builtin; /* or NULL for a function literal */
            const feel_node *def;               /* FN_FUNCDEF */
            const struct feel_scope *closure;   /* scope of the definition */
        } fn;
        feel_temporal tm; /* date, time, date and time */
        struct {
            int64_t secs;  /* days and time duration: secs + nanos / 1e9, */
            int32_t nanos; /* both of the same sign, |nanos| < 1e9 */
        } dur;
        int64_t months; /* years and months duration */
    } u;
};

extern const feel_value feel_null;
extern const feel_value feel_true;
extern const feel_value feel_false;

/* A scope: bindings from a context value or one name, then the outer scope. */
typedef struct feel_scope {
    const struct feel_scope *outer;
    const feel_value *ctx; /* a context whose entries are in scope, or NULL */
    const char *name;      /* a single binding when ctx is NULL */
    const feel_value *value;
} feel_scope;

/* The state of one evaluation. */
struct feel_eval {
    feel_arena *arena;
    const char *src; /* of the expression, for messages */
    size_t src_len;
    tandem_feel_eval_limits lim;
    int64_t now_ms;
    tandem_rand *rand;        /* or NULL */
    tandem_feel_zones *zones; /* or NULL */
    uint64_t steps;
    uint64_t iterations;
    uint32_t call_depth;
    uint64_t missing; /* lookups of absent variables and entries so far (is defined) */
    int error;        /* sticky: a limit or out of memory ends the evaluation */
    tandem_diag *diag;
    tandem_feel_result *result; /* where warnings go */
};

/* Constructors: NULL (and e->error set) when out of memory or over a limit. */
const feel_value *feel_bool(bool b);
const feel_value *feel_number(feel_eval *e, feel_num n);
const feel_value *feel_string(feel_eval *e, const char *s, size_t len);
const feel_value *feel_list(feel_eval *e, const feel_value *const *items, size_t n);
const feel_value *feel_context(feel_eval *e, const feel_entry *entries, size_t n);

/* 1 + depth of v when it is a list or context, else 0: the depth a
 * container holding v has at least. */
uint16_t feel_depth_in(const feel_value *v);
/* Fails the evaluation when a container of `depth` would nest too deep. */
bool feel_depth_ok(feel_eval *e, uint32_t depth);

/* The entry `key` of a context, or NULL. */
const feel_value *feel_ctx_get(const feel_value *ctx, const char *key, size_t key_len);
/* Equality as `=` sees it: true/false, or NULL when not comparable. */
const feel_value *feel_equals(const feel_value *a, const feel_value *b);
/* Order of comparable values: -1/0/1 in *out, false when not comparable. */
bool feel_compare(const feel_value *a, const feel_value *b, int *out);
const char *feel_type_name(unsigned type);

/* Adds a warning (first TANDEM_FEEL_WARNINGS_MAX kept) and returns feel_null. */
const feel_value *feel_warn(feel_eval *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the sticky error (first one wins) and returns NULL. */
const feel_value *feel_fail(feel_eval *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends v as JSON. */
int feel_value_json(const feel_value *v, tandem_buf *out);
/* Builds a value from parsed JSON text (see tandem_feel_vars_from_json). */
int feel_value_from_json(const char *json, size_t len, feel_arena *arena, const feel_value **out,
                         tandem_diag *diag);

/* ---- Temporal values (temporal.c) ---------------------------------------- */

/* Parses an ISO 8601 date, time, date-time or duration (the text of @"...",
 * or of date()/time()/date and time()/duration() when `want` is that type,
 * or any of them when `want` is TANDEM_FEEL_NULL). NULL when the text is not
 * one (e->error is set only when out of memory). */
const feel_value *feel_temporal_parse(feel_eval *e, const char *s, size_t len, unsigned want);
/* Appends the ISO text of a temporal value (2020-01-01, 10:00:00+02:00,
 * P1DT2H, P1Y2M). */
int feel_temporal_format(const feel_value *v, tandem_buf *out);
/* Arithmetic with at least one temporal operand: a value, null with a
 * warning, or NULL with e->error. */
const feel_value *feel_temporal_arith(feel_eval *e, unsigned op, const feel_value *a,
                                      const feel_value *b);
/* Order of two temporal values of the same type; false when not comparable
 * (a local date-time and one with an offset). */
bool feel_temporal_compare(const feel_value *a, const feel_value *b, int *out);
/* A property (`year`, `hours`, `time offset`...) or NULL when none. */
const feel_value *feel_temporal_property(feel_eval *e, const feel_value *v, const char *name);
bool feel_is_temporal(const feel_value *v);
const feel_value *feel_temporal_value(feel_eval *e, unsigned type, feel_temporal tm);
const feel_value *feel_duration_value(feel_eval *e, int64_t secs, int32_t nanos);
const feel_value *feel_months_value(feel_eval *e, int64_t months);
/* Calendar: days since the epoch and back (proleptic Gregorian). */
int64_t feel_days_from_civil(int64_t y, unsigned m, unsigned d);
void feel_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
unsigned feel_days_in_month(int64_t y, unsigned m);

/* ---- Evaluation and built-ins -------------------------------------------- */

const feel_value *feel_eval_node(feel_eval *e, const feel_node *n, const feel_scope *scope);
/* Counts `steps` of work done outside the tree walk (loops of built-ins);
 * false with e->error set beyond steps_max. */
bool feel_charge(feel_eval *e, uint64_t steps);
/* Calls a function value with positional args (named: names[i] for each). */
const feel_value *feel_call(feel_eval *e, const feel_value *fn, const feel_value *const *args,
                            const char *const *names, uint32_t nargs, uint32_t pos);

/* The contract of every built-in, checked on entry: feel_call never calls
 * one after the evaluation failed, and passes its arguments as an array. */
#define FEEL_BUILTIN_ENTRY(e, args, n)                                                             \
    TANDEM_ASSERT((e) != NULL && (e)->error == 0);                                                 \
    TANDEM_ASSERT((args) != NULL || (n) == 0)

typedef const feel_value *(*feel_builtin_fn)(feel_eval *e, const feel_value *const *args,
                                             uint32_t nargs);

typedef struct feel_builtin {
    const char *name;
    const char *params[4];      /* parameter names, for named arguments */
    uint8_t min_args, max_args; /* max 255: variadic */
    feel_builtin_fn fn;
} feel_builtin;

/* Tables of one group each, ended by an entry with a NULL name. */
extern const feel_builtin feel_builtins_string[];
extern const feel_builtin feel_builtins_list[];
extern const feel_builtin feel_builtins_misc[];
extern const feel_builtin feel_builtins_temporal[];

/* ---- Zones (zone.c) ------------------------------------------------------ */

typedef struct feel_zone feel_zone;
/* The zone `name`, loading it on first use; NULL when unknown. */
const feel_zone *feel_zone_find(tandem_feel_zones *zones, const char *name);
/* Offset (seconds east of UTC) at a UTC instant in seconds. */
int32_t feel_zone_utoff_at(const feel_zone *z, int64_t utc);
/* Offset of a local date-time in seconds (java.time's choice in gaps and
 * overlaps: the offset before the transition). */
int32_t feel_zone_utoff_local(const feel_zone *z, int64_t local);
extern const feel_builtin feel_builtins_range[];

/* Helpers of the built-ins: argument checks that warn with the function's
 * name and return feel_null on a mismatch. */
const feel_value *feel_bad_arg(feel_eval *e, const char *fn, uint32_t index, const char *expected,
                               const feel_value *got);
/* An integral number argument into *out; false when it is not one. */
bool feel_int_arg(const feel_value *v, int64_t *out);
/* Number of Unicode code points of a UTF-8 string. */
size_t feel_utf8_count(const char *s, size_t len);
/* Byte offset of code point `index` (clamped to len). */
size_t feel_utf8_offset(const char *s, size_t len, size_t index);
/* A list with room for n items, filled by the caller before use. */
const feel_value **feel_items(feel_eval *e, size_t n);

/* A growing list of values (arena memory). push returns false with e->error
 * set when out of memory or over list_items_max. */
typedef struct feel_list_builder {
    const feel_value **items;
    uint32_t n, cap;
} feel_list_builder;
bool feel_lb_push(feel_eval *e, feel_list_builder *lb, const feel_value *v);

/* The built-in named `name`, or NULL. */
const feel_builtin *feel_builtin_find(const char *name, size_t len);

#endif
