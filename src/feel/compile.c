/*
 * compile.c — tandem_feel_compile: source to a tree ready to evaluate, and
 * the S-expression dump of that tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

static const char *const node_names[FN_COUNT] = {
#define FEEL_NODE_NAME_(name, text) text,
    FEEL_NODES(FEEL_NODE_NAME_)
#undef FEEL_NODE_NAME_
};

const char *feel_node_name(unsigned kind)
{
    TANDEM_ASSERT(FN_COUNT == sizeof(node_names) / sizeof(node_names[0]));
    return kind < FN_COUNT ? node_names[kind] : "node";
}

/* Builds what evaluation would otherwise redo every time: number and string
 * constants, and the built-in each called name refers to. */
static int prepare(tandem_feel_expr *x, feel_node *n, tandem_diag *diag)
{
    TANDEM_ASSERT(x != NULL && n != NULL);
    feel_eval e = {0};
    e.arena = &x->arena;
    e.diag = diag;
    e.lim.string_bytes_max = SIZE_MAX;
    e.lim.list_items_max = SIZE_MAX;
    if (n->kind == FN_NUMBER) {
        feel_num num;
        int rc = feel_num_parse(n->text, n->text_len, false, &num);
        if (rc != 0) {
            return feel_diag_at(diag, TANDEM_EINVAL, x->src, x->src_len, n->pos,
                                "number '%s' is out of range", n->text);
        }
        n->aux = (void *)feel_number(&e, num);
    } else if (n->kind == FN_STRING) {
        n->aux = (void *)feel_string(&e, n->text, n->text_len);
    } else if (n->kind == FN_TEMPORAL) {
        /* NULL when the text is no temporal value: evaluating then warns. */
        n->aux = (void *)feel_temporal_parse(&e, n->text, n->text_len, TANDEM_FEEL_NULL);
        if (e.error != 0) {
            return e.error;
        }
    } else if (n->kind == FN_CALL && n->kids[0]->kind == FN_NAME) {
        n->kids[0]->aux = (void *)feel_builtin_find(n->kids[0]->text, n->kids[0]->text_len);
    }
    if ((n->kind == FN_NUMBER || n->kind == FN_STRING) && n->aux == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory compiling an expression");
    }
    for (uint32_t i = 0; i < n->nkids; i++) {
        int rc = n->kids[i] != NULL ? prepare(x, n->kids[i], diag) : 0;
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int tandem_feel_compile(const char *src, size_t len, const tandem_feel_limits *limits,
                        tandem_feel_expr **out, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(src != NULL || len == 0);
    *out = NULL;
    size_t bytes_max = limits != NULL && limits->expr_bytes_max != 0
                           ? limits->expr_bytes_max
                           : TANDEM_FEEL_EXPR_BYTES_MAX_DEFAULT;
    uint32_t depth_max = limits != NULL && limits->depth_max != 0 ? limits->depth_max
                                                                  : TANDEM_FEEL_DEPTH_MAX_DEFAULT;
    if (len > bytes_max) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "expression is %zu bytes long, the limit is %zu bytes", len,
                               bytes_max);
    }
    if (len > 0 && memchr(src, '\0', len) != NULL) {
        size_t at = (size_t)((const char *)memchr(src, '\0', len) - src);
        return feel_diag_at(diag, TANDEM_EINVAL, src, len, at, "NUL character in expression");
    }
    tandem_feel_expr *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory compiling an expression");
    }
    feel_arena_init(&e->arena, 0);
    int rc;
    char *copy = feel_arena_strndup(&e->arena, src, len);
    if (copy == NULL) {
        rc = tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory compiling an expression");
        goto fail_expr;
    }
    e->src = copy;
    e->src_len = len;
    feel_token *toks;
    size_t count;
    rc = feel_lex(copy, len, &e->arena, &toks, &count, diag);
    if (rc != 0) {
        goto fail_expr;
    }
    if (count == 1) {
        rc = feel_diag_at(diag, TANDEM_EINVAL, copy, len, len, "empty expression");
        goto fail_expr;
    }
    rc = feel_parse(copy, len, toks, count, depth_max, &e->arena, &e->root, diag);
    if (rc != 0) {
        goto fail_expr;
    }
    TANDEM_ASSERT(e->root != NULL);
    rc = prepare(e, e->root, diag);
    if (rc != 0) {
        goto fail_expr;
    }
    *out = e;
    return 0;

fail_expr:
    TANDEM_ASSERT(rc != 0);
    feel_arena_free(&e->arena);
    free(e);
    return rc;
}

void tandem_feel_expr_free(tandem_feel_expr *expr)
{
    if (expr == NULL) {
        return;
    }
    TANDEM_ASSERT(expr->root != NULL);
    feel_arena_free(&expr->arena);
    free(expr);
}

/* ---- Dump ---------------------------------------------------------------- */

static int put(tandem_buf *b, const char *s)
{
    TANDEM_ASSERT(b != NULL && s != NULL);
    return tandem_buf_append(b, s, strlen(s));
}

static int put_quoted(tandem_buf *b, const char *s, size_t len, char quote)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    int rc = tandem_buf_put_u8(b, (uint8_t)quote);
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (s[i] == quote || s[i] == '\\') {
            rc = tandem_buf_put_u8(b, '\\');
        }
        if (rc == 0 && s[i] == '\n') {
            rc = put(b, "\\n");
        } else if (rc == 0) {
            rc = tandem_buf_put_u8(b, (uint8_t)s[i]);
        }
    }
    return rc != 0 ? rc : tandem_buf_put_u8(b, (uint8_t)quote);
}

static int dump_node(const feel_node *n, tandem_buf *b);

static int dump_kids(const feel_node *n, uint32_t from, tandem_buf *b)
{
    TANDEM_ASSERT(n != NULL);
    int rc = 0;
    for (uint32_t i = from; i < n->nkids && rc == 0; i++) {
        rc = put(b, " ");
        if (rc == 0) {
            rc = n->kids[i] != NULL ? dump_node(n->kids[i], b) : put(b, "_");
        }
    }
    return rc;
}

static int dump_name(const char *text, size_t len, tandem_buf *b)
{
    TANDEM_ASSERT(text != NULL);
    return memchr(text, ' ', len) != NULL ? put_quoted(b, text, len, '`')
                                          : tandem_buf_append(b, text, len);
}

static int dump_node(const feel_node *n, tandem_buf *b)
{
    TANDEM_ASSERT(n != NULL && n->kind < FN_COUNT);
    int rc = 0;
    switch (n->kind) {
    case FN_NULL:
        return put(b, "null");
    case FN_BOOL:
        return put(b, n->op ? "true" : "false");
    case FN_NUMBER:
        return tandem_buf_append(b, n->text, n->text_len);
    case FN_STRING:
        return put_quoted(b, n->text, n->text_len, '"');
    case FN_NAME:
    case FN_PARAM:
        return dump_name(n->text, n->text_len, b);
    case FN_TEMPORAL:
        return (rc = put(b, "@")) != 0 ? rc : put_quoted(b, n->text, n->text_len, '"');
    case FN_RANGE:
        rc = put(b, n->op & FEEL_RANGE_START_CLOSED ? "[" : "(");
        if (rc == 0) {
            rc = n->kids[0] != NULL ? dump_node(n->kids[0], b) : put(b, "_");
        }
        if (rc == 0) {
            rc = put(b, "..");
        }
        if (rc == 0) {
            rc = n->kids[1] != NULL ? dump_node(n->kids[1], b) : put(b, "_");
        }
        return rc != 0 ? rc : put(b, n->op & FEEL_RANGE_END_CLOSED ? "]" : ")");
    default:
        break;
    }
    const char *head = feel_node_name(n->kind);
    if (n->kind == FN_ARITH || n->kind == FN_COMPARE || n->kind == FN_UT_CMP) {
        static const char *const ops[FT_COUNT] = {
            [FT_PLUS] = "+", [FT_MINUS] = "-", [FT_STAR] = "*", [FT_SLASH] = "/",
            [FT_POW] = "**", [FT_EQ] = "=",    [FT_NE] = "!=",  [FT_LT] = "<",
            [FT_LE] = "<=",  [FT_GT] = ">",    [FT_GE] = ">="};
        TANDEM_ASSERT(n->op < FT_COUNT && ops[n->op] != NULL);
        head = ops[n->op];
    }
    rc = put(b, "(");
    if (rc == 0) {
        rc = put(b, head);
    }
    if (rc == 0 && n->kind == FN_UT_CMP) {
        rc = put(b, "?"); /* "(<? 5)" reads as the test "< 5" */
    }
    if (rc == 0 && n->text != NULL) {
        rc = put(b, " ");
        if (rc == 0) {
            rc = dump_name(n->text, n->text_len, b);
        }
    }
    if (rc == 0) {
        rc = dump_kids(n, 0, b);
    }
    return rc != 0 ? rc : put(b, ")");
}

int tandem_feel_expr_dump(const tandem_feel_expr *expr, tandem_buf *out)
{
    TANDEM_ASSERT(expr != NULL && expr->root != NULL);
    TANDEM_ASSERT(out != NULL);
    return dump_node(expr->root, out);
}
