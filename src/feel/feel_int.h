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

#endif
