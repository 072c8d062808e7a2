/*
 * parser.c — recursive descent from tokens to the syntax tree.
 *
 * Precedence, lowest first (FEEL grammar of DMN 1.4, as FEEL-Scala reads it):
 *   textual    if/then/else, for/return, some|every/satisfies, function literal
 *   or, and
 *   comparison = != < <= > >=, between, in <unary tests>, instance of <type>
 *   additive   + -
 *   multiplicative * /
 *   power      **
 *   unary      -
 *   postfix    .name  [filter]  (arguments)
 *   primary    literals, names, (expr), lists, contexts, ranges, @"temporal"
 *
 * Tokens are in an array, so trying one reading and falling back to another
 * (needed after `in (`, which may start a list of tests or an open interval)
 * is a matter of saving an index.
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

typedef struct parser {
    const char *src;
    size_t len;
    const feel_token *toks;
    size_t count;
    size_t at; /* index of the current token */
    uint32_t depth;
    uint32_t depth_max;
    feel_arena *arena;
    tandem_diag *diag;
} parser;

typedef struct node_vec {
    feel_node **items;
    uint32_t n, cap;
} node_vec;

static feel_node *parse_expr(parser *p);
static feel_node *parse_additive(parser *p);
static feel_node *parse_unary(parser *p);
static feel_node *parse_or(parser *p);

static const feel_token *cur(const parser *p)
{
    TANDEM_ASSERT(p->at < p->count);
    TANDEM_ASSERT(p->toks[p->count - 1].kind == FT_EOF);
    return &p->toks[p->at];
}

static bool is(const parser *p, unsigned kind)
{
    return cur(p)->kind == kind;
}

static bool is_next(const parser *p, unsigned kind)
{
    TANDEM_ASSERT(p->at < p->count);
    return p->at + 1 < p->count && p->toks[p->at + 1].kind == kind;
}

static const feel_token *advance(parser *p)
{
    const feel_token *t = cur(p);
    if (t->kind != FT_EOF) {
        p->at++;
    }
    TANDEM_ASSERT(p->at < p->count);
    return t;
}

/* Records the first error only: later ones are consequences. */
static feel_node *fail(parser *p, size_t pos, const char *what)
{
    TANDEM_ASSERT(what != NULL);
    if (p->diag == NULL || p->diag->code == 0) {
        feel_diag_at(p->diag, TANDEM_EINVAL, p->src, p->len, pos, "%s", what);
    }
    return NULL;
}

static feel_node *fail_code(parser *p, int code, size_t pos, const char *what)
{
    TANDEM_ASSERT(code != 0);
    if (p->diag == NULL || p->diag->code == 0) {
        feel_diag_at(p->diag, code, p->src, p->len, pos, "%s", what);
    }
    return NULL;
}

static feel_node *oom(parser *p)
{
    TANDEM_ASSERT(p != NULL);
    if (p->diag == NULL || p->diag->code == 0) {
        tandem_diag_set(p->diag, TANDEM_ENOMEM, "out of memory while parsing");
    }
    return NULL;
}

static feel_node *fail_expected(parser *p, const char *expected)
{
    TANDEM_ASSERT(expected != NULL);
    const feel_token *t = cur(p);
    char what[200];
    if (t->kind == FT_NAME || t->kind == FT_NUMBER) {
        snprintf(what, sizeof(what), "expected %s but found '%.*s'", expected,
                 (int)(t->text_len > 40 ? 40 : t->text_len), t->text);
    } else if (t->kind == FT_STRING) {
        snprintf(what, sizeof(what), "expected %s but found a string", expected);
    } else {
        snprintf(what, sizeof(what), "expected %s but found %s", expected, feel_tok_name(t->kind));
    }
    return fail(p, t->pos, what);
}

static bool expect(parser *p, unsigned kind)
{
    TANDEM_ASSERT(kind < FT_COUNT);
    if (!is(p, kind)) {
        fail_expected(p, feel_tok_name(kind));
        return false;
    }
    advance(p);
    return true;
}

static feel_node *mk(parser *p, unsigned kind, uint32_t pos, const char *text, uint32_t text_len,
                     feel_node *const *kids, uint32_t nkids)
{
    TANDEM_ASSERT(kind < FN_COUNT);
    TANDEM_ASSERT(nkids == 0 || kids != NULL);
    feel_node *n = feel_arena_alloc(p->arena, sizeof(*n));
    if (n == NULL) {
        return oom(p);
    }
    n->kind = (uint16_t)kind;
    n->pos = pos;
    n->text = text;
    n->text_len = text_len;
    n->nkids = nkids;
    n->height = 1;
    if (nkids > 0) {
        n->kids = feel_arena_alloc(p->arena, nkids * sizeof(feel_node *));
        if (n->kids == NULL) {
            return oom(p);
        }
        for (uint32_t i = 0; i < nkids; i++) {
            n->kids[i] = kids[i];
            if (kids[i] != NULL && kids[i]->height + 1 > n->height) {
                n->height = kids[i]->height + 1;
            }
        }
    }
    if (n->height > p->depth_max) {
        return fail_code(p, TANDEM_ETOOBIG, pos, "expression is nested too deeply");
    }
    return n;
}

static feel_node *mk2(parser *p, unsigned kind, unsigned op, uint32_t pos, feel_node *a,
                      feel_node *b)
{
    TANDEM_ASSERT(a != NULL);
    feel_node *kids[2] = {a, b};
    feel_node *n = mk(p, kind, pos, NULL, 0, kids, b != NULL ? 2 : 1);
    if (n != NULL) {
        n->op = (uint16_t)op;
    }
    return n;
}

static bool vec_push(parser *p, node_vec *v, feel_node *n)
{
    TANDEM_ASSERT(v->n <= v->cap);
    if (v->n == v->cap) {
        uint32_t cap = v->cap == 0 ? 8 : v->cap * 2;
        feel_node **items = feel_arena_alloc(p->arena, cap * sizeof(feel_node *));
        if (items == NULL) {
            oom(p);
            return false;
        }
        if (v->n > 0) {
            memcpy(items, v->items, v->n * sizeof(feel_node *));
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = n;
    TANDEM_ASSERT(v->n <= v->cap);
    return true;
}

/* Enters one level of nesting; false (with an error) beyond depth_max. */
static bool enter(parser *p)
{
    TANDEM_ASSERT(p->depth <= p->depth_max);
    if (p->depth == p->depth_max) {
        fail_code(p, TANDEM_ETOOBIG, cur(p)->pos, "expression is nested too deeply");
        return false;
    }
    p->depth++;
    return true;
}

static void leave(parser *p)
{
    TANDEM_ASSERT(p->depth > 0);
    p->depth--;
}

/* ---- Textual expressions ------------------------------------------------- */

static feel_node *parse_if(parser *p)
{
    uint32_t pos = advance(p)->pos;
    TANDEM_ASSERT(p->toks[p->at - 1].kind == FT_IF);
    feel_node *k[3];
    if ((k[0] = parse_expr(p)) == NULL || !expect(p, FT_THEN) || (k[1] = parse_expr(p)) == NULL ||
        !expect(p, FT_ELSE) || (k[2] = parse_expr(p)) == NULL) {
        return NULL;
    }
    return mk(p, FN_IF, pos, NULL, 0, k, 3);
}

/* `name in domain` or, for `for`, `name in start..end`. */
static feel_node *parse_iterator(parser *p, bool ranges)
{
    const feel_token *name = cur(p);
    if (name->kind != FT_NAME) {
        return fail_expected(p, "a variable name");
    }
    advance(p);
    if (!expect(p, FT_IN)) {
        return NULL;
    }
    feel_node *k[2] = {parse_expr(p), NULL};
    if (k[0] == NULL) {
        return NULL;
    }
    if (ranges && is(p, FT_DOTDOT)) {
        advance(p);
        if ((k[1] = parse_expr(p)) == NULL) {
            return NULL;
        }
    }
    TANDEM_ASSERT(name->text != NULL);
    return mk(p, FN_ITER, name->pos, name->text, name->text_len, k, k[1] != NULL ? 2 : 1);
}

/* for/some/every: iterators separated by commas, then the keyword and body. */
static feel_node *parse_iteration(parser *p, unsigned kind, unsigned body_kw)
{
    uint32_t pos = advance(p)->pos;
    TANDEM_ASSERT(kind == FN_FOR || kind == FN_SOME || kind == FN_EVERY);
    node_vec v = {0};
    do {
        if (v.n > 0) {
            advance(p); /* the comma */
        }
        feel_node *it = parse_iterator(p, kind == FN_FOR);
        if (it == NULL || !vec_push(p, &v, it)) {
            return NULL;
        }
    } while (is(p, FT_COMMA));
    if (!expect(p, body_kw)) {
        return NULL;
    }
    feel_node *body = parse_expr(p);
    if (body == NULL || !vec_push(p, &v, body)) {
        return NULL;
    }
    return mk(p, kind, pos, NULL, 0, v.items, v.n);
}

static feel_node *parse_function_literal(parser *p)
{
    uint32_t pos = advance(p)->pos;
    TANDEM_ASSERT(p->toks[p->at - 1].kind == FT_FUNCTION);
    if (!expect(p, FT_LPAREN)) {
        return NULL;
    }
    node_vec v = {0};
    while (!is(p, FT_RPAREN)) {
        if (v.n > 0 && !expect(p, FT_COMMA)) {
            return NULL;
        }
        const feel_token *t = cur(p);
        if (t->kind != FT_NAME) {
            return fail_expected(p, "a parameter name");
        }
        advance(p);
        if (is(p, FT_COLON)) { /* a type annotation: accepted, not checked */
            advance(p);
            if (!is(p, FT_NAME)) {
                return fail_expected(p, "a type name");
            }
            advance(p);
        }
        feel_node *param = mk(p, FN_PARAM, t->pos, t->text, t->text_len, NULL, 0);
        if (param == NULL || !vec_push(p, &v, param)) {
            return NULL;
        }
    }
    advance(p);
    feel_node *body = parse_expr(p);
    if (body == NULL || !vec_push(p, &v, body)) {
        return NULL;
    }
    return mk(p, FN_FUNCDEF, pos, NULL, 0, v.items, v.n);
}

static feel_node *parse_expr(parser *p)
{
    if (!enter(p)) {
        return NULL;
    }
    feel_node *n;
    switch (cur(p)->kind) {
    case FT_IF:
        n = parse_if(p);
        break;
    case FT_FOR:
        n = parse_iteration(p, FN_FOR, FT_RETURN);
        break;
    case FT_SOME:
        n = parse_iteration(p, FN_SOME, FT_SATISFIES);
        break;
    case FT_EVERY:
        n = parse_iteration(p, FN_EVERY, FT_SATISFIES);
        break;
    default:
        n = parse_or(p);
        break;
    }
    leave(p);
    return n;
}

/* ---- Boolean and comparison ---------------------------------------------- */

static feel_node *parse_and(parser *p);
static feel_node *parse_comparison(parser *p);

static feel_node *parse_or(parser *p)
{
    feel_node *left = parse_and(p);
    while (left != NULL && is(p, FT_OR)) {
        uint32_t pos = advance(p)->pos;
        feel_node *right = parse_and(p);
        left = right == NULL ? NULL : mk2(p, FN_OR, 0, pos, left, right);
    }
    TANDEM_ASSERT(left != NULL || p->diag == NULL || p->diag->code != 0);
    return left;
}

static feel_node *parse_and(parser *p)
{
    feel_node *left = parse_comparison(p);
    while (left != NULL && is(p, FT_AND)) {
        uint32_t pos = advance(p)->pos;
        feel_node *right = parse_comparison(p);
        left = right == NULL ? NULL : mk2(p, FN_AND, 0, pos, left, right);
    }
    TANDEM_ASSERT(left != NULL || p->diag == NULL || p->diag->code != 0);
    return left;
}

static bool is_compare_op(unsigned kind)
{
    return kind == FT_EQ || kind == FT_NE || kind == FT_LT || kind == FT_LE || kind == FT_GT ||
           kind == FT_GE;
}

/* One positive unary test: `< 5`, `[1..5]`, `"a"`, `x + 1`. */
static feel_node *parse_positive_test(parser *p)
{
    const feel_token *t = cur(p);
    if (is_compare_op(t->kind)) {
        advance(p);
        feel_node *end = parse_additive(p);
        return end == NULL ? NULL : mk2(p, FN_UT_CMP, t->kind, t->pos, end, NULL);
    }
    TANDEM_ASSERT(t->kind < FT_COUNT);
    return parse_additive(p);
}

static feel_node *parse_range_rest(parser *p, const feel_token *open, feel_node *start);

/* After `in`: one test, or `(test, test, ...)` where any may match, or an
 * interval opened by '(' such as `(1..5]`. Read in one pass: trying one
 * reading and re-reading on failure would be exponential in the nesting of
 * `in (`. */
static feel_node *parse_positive_tests(parser *p)
{
    if (!is(p, FT_LPAREN)) {
        return parse_positive_test(p);
    }
    const feel_token *open = advance(p);
    TANDEM_ASSERT(open->kind == FT_LPAREN);
    node_vec v = {0};
    for (;;) {
        /* a comparison test, or any expression (`(a or b)` too) */
        feel_node *t = is_compare_op(cur(p)->kind) ? parse_positive_test(p) : parse_expr(p);
        if (t == NULL) {
            return NULL;
        }
        if (v.n == 0 && t->kind != FN_UT_CMP && is(p, FT_DOTDOT)) {
            advance(p);
            return parse_range_rest(p, open, t);
        }
        if (!vec_push(p, &v, t)) {
            return NULL;
        }
        if (!is(p, FT_COMMA)) {
            break;
        }
        advance(p);
    }
    if (!expect(p, FT_RPAREN)) {
        return NULL;
    }
    return v.n == 1 ? v.items[0] : mk(p, FN_UT_LIST, open->pos, NULL, 0, v.items, v.n);
}

/* A type after `instance of`: a name, possibly generic (`list<number>`). */
static feel_node *parse_type(parser *p, feel_node *value, uint32_t pos)
{
    const feel_token *t = cur(p);
    if (t->kind != FT_NAME && t->kind != FT_FUNCTION && t->kind != FT_NULL) {
        return fail_expected(p, "a type name");
    }
    advance(p);
    size_t start = t->pos;
    size_t end = t->pos + t->len;
    if (is(p, FT_LT)) { /* generic type: skip to the matching '>' */
        int depth = 0;
        do {
            if (is(p, FT_LT)) {
                depth++;
            } else if (is(p, FT_GT)) {
                depth--;
            } else if (is(p, FT_EOF)) {
                return fail_expected(p, "'>'");
            }
            end = cur(p)->pos + cur(p)->len;
            advance(p);
        } while (depth > 0);
    }
    TANDEM_ASSERT(end > start);
    const char *text = t->kind == FT_NAME && end == t->pos + t->len
                           ? t->text
                           : feel_arena_strndup(p->arena, p->src + start, end - start);
    if (text == NULL) {
        return oom(p);
    }
    feel_node *n = mk(p, FN_INSTANCE_OF, pos, text, (uint32_t)strlen(text), &value, 1);
    return n;
}

static feel_node *parse_comparison(parser *p)
{
    feel_node *left = parse_additive(p);
    if (left == NULL) {
        return NULL;
    }
    const feel_token *t = cur(p);
    if (is_compare_op(t->kind)) {
        advance(p);
        feel_node *right = parse_additive(p);
        return right == NULL ? NULL : mk2(p, FN_COMPARE, t->kind, t->pos, left, right);
    }
    if (t->kind == FT_BETWEEN) {
        advance(p);
        feel_node *k[3] = {left, parse_additive(p), NULL};
        if (k[1] == NULL || !expect(p, FT_AND) || (k[2] = parse_additive(p)) == NULL) {
            return NULL;
        }
        return mk(p, FN_BETWEEN, t->pos, NULL, 0, k, 3);
    }
    if (t->kind == FT_IN) {
        advance(p);
        feel_node *test = parse_positive_tests(p);
        return test == NULL ? NULL : mk2(p, FN_IN, 0, t->pos, left, test);
    }
    if (t->kind == FT_INSTANCE) {
        advance(p);
        if (!expect(p, FT_OF)) {
            return NULL;
        }
        return parse_type(p, left, t->pos);
    }
    TANDEM_ASSERT(left != NULL);
    return left;
}

/* ---- Arithmetic ---------------------------------------------------------- */

static feel_node *parse_multiplicative(parser *p);
static feel_node *parse_power(parser *p);

static feel_node *parse_additive(parser *p)
{
    feel_node *left = parse_multiplicative(p);
    while (left != NULL && (is(p, FT_PLUS) || is(p, FT_MINUS))) {
        const feel_token *t = advance(p);
        feel_node *right = parse_multiplicative(p);
        left = right == NULL ? NULL : mk2(p, FN_ARITH, t->kind, t->pos, left, right);
    }
    TANDEM_ASSERT(left != NULL || p->diag == NULL || p->diag->code != 0);
    return left;
}

static feel_node *parse_multiplicative(parser *p)
{
    feel_node *left = parse_power(p);
    while (left != NULL && (is(p, FT_STAR) || is(p, FT_SLASH))) {
        const feel_token *t = advance(p);
        feel_node *right = parse_power(p);
        left = right == NULL ? NULL : mk2(p, FN_ARITH, t->kind, t->pos, left, right);
    }
    TANDEM_ASSERT(left != NULL || p->diag == NULL || p->diag->code != 0);
    return left;
}

static feel_node *parse_power(parser *p)
{
    feel_node *left = parse_unary(p);
    while (left != NULL && is(p, FT_POW)) {
        const feel_token *t = advance(p);
        feel_node *right = parse_unary(p);
        left = right == NULL ? NULL : mk2(p, FN_ARITH, t->kind, t->pos, left, right);
    }
    TANDEM_ASSERT(left != NULL || p->diag == NULL || p->diag->code != 0);
    return left;
}

static feel_node *parse_postfix(parser *p);

static feel_node *parse_unary(parser *p)
{
    if (!is(p, FT_MINUS)) {
        return parse_postfix(p);
    }
    if (!enter(p)) {
        return NULL;
    }
    uint32_t pos = advance(p)->pos;
    feel_node *operand = parse_unary(p);
    leave(p);
    TANDEM_ASSERT(p->depth <= p->depth_max);
    return operand == NULL ? NULL : mk2(p, FN_NEG, 0, pos, operand, NULL);
}

/* ---- Postfix: paths, filters, calls -------------------------------------- */

/* Arguments after '(' up to and including ')'. */
static feel_node *parse_call(parser *p, feel_node *callee, uint32_t pos)
{
    TANDEM_ASSERT(callee != NULL);
    node_vec v = {0};
    if (!vec_push(p, &v, callee)) {
        return NULL;
    }
    bool named = is(p, FT_NAME) && is_next(p, FT_COLON);
    while (!is(p, FT_RPAREN)) {
        if (v.n > 1 && !expect(p, FT_COMMA)) {
            return NULL;
        }
        feel_node *arg;
        if (named) {
            const feel_token *t = cur(p);
            if (t->kind != FT_NAME || !is_next(p, FT_COLON)) {
                return fail_expected(p, "a named argument (name: value)");
            }
            advance(p);
            advance(p);
            feel_node *value = parse_expr(p);
            arg =
                value == NULL ? NULL : mk(p, FN_NAMED_ARG, t->pos, t->text, t->text_len, &value, 1);
        } else {
            arg = parse_expr(p);
        }
        if (arg == NULL || !vec_push(p, &v, arg)) {
            return NULL;
        }
    }
    advance(p);
    feel_node *call = mk(p, FN_CALL, pos, NULL, 0, v.items, v.n);
    if (call != NULL) {
        call->op = named ? 1 : 0;
    }
    return call;
}

static feel_node *parse_primary(parser *p);

/* `[` after an interval end such as `]1..10[` closes the interval (open end)
 * rather than starting a filter: it is followed by what ends an expression. */
static bool closes_interval(const parser *p)
{
    TANDEM_ASSERT(is(p, FT_LBRACK));
    TANDEM_ASSERT(p->at + 1 < p->count);
    switch (p->toks[p->at + 1].kind) {
    case FT_EOF:
    case FT_RPAREN:
    case FT_RBRACK:
    case FT_RBRACE:
    case FT_COMMA:
    case FT_AND:
    case FT_OR:
    case FT_THEN:
    case FT_ELSE:
    case FT_RETURN:
    case FT_SATISFIES:
        return true;
    default:
        return false;
    }
}

static feel_node *parse_postfix(parser *p)
{
    TANDEM_ASSERT(p != NULL && p->at < p->count);
    feel_node *n = parse_primary(p);
    while (n != NULL) {
        const feel_token *t = cur(p);
        if (t->kind == FT_DOT) {
            advance(p);
            const feel_token *name = cur(p);
            /* Keywords are fine as member names: `x.then`, `d.time offset`. */
            if (name->text == NULL || name->kind == FT_STRING || name->kind == FT_NUMBER) {
                return fail_expected(p, "a name after '.'");
            }
            advance(p);
            n = mk(p, FN_PATH, name->pos, name->text, name->text_len, &n, 1);
        } else if (t->kind == FT_LBRACK && !closes_interval(p)) {
            advance(p);
            feel_node *filter = parse_expr(p);
            if (filter == NULL || !expect(p, FT_RBRACK)) {
                return NULL;
            }
            n = mk2(p, FN_FILTER, 0, t->pos, n, filter);
        } else if (t->kind == FT_LPAREN) {
            advance(p);
            n = parse_call(p, n, t->pos);
        } else {
            break;
        }
    }
    return n;
}

/* ---- Primary ------------------------------------------------------------- */

/* After the first endpoint and '..' of an interval opened by `open`. */
static feel_node *parse_range_rest(parser *p, const feel_token *open, feel_node *start)
{
    TANDEM_ASSERT(open->kind == FT_LBRACK || open->kind == FT_LPAREN || open->kind == FT_RBRACK);
    feel_node *k[2] = {start, parse_additive(p)};
    if (k[1] == NULL) {
        return NULL;
    }
    unsigned flags = open->kind == FT_LBRACK ? FEEL_RANGE_START_CLOSED : 0;
    if (is(p, FT_RBRACK)) {
        flags |= FEEL_RANGE_END_CLOSED;
    } else if (!is(p, FT_RPAREN) && !is(p, FT_LBRACK)) {
        return fail_expected(p, "']', ')' or '[' to close the interval");
    }
    advance(p);
    feel_node *n = mk(p, FN_RANGE, open->pos, NULL, 0, k, 2);
    if (n != NULL) {
        n->op = (uint16_t)flags;
    }
    return n;
}

/* '[' starts a list or a closed-start interval. */
static feel_node *parse_list_or_range(parser *p)
{
    const feel_token *open = advance(p);
    TANDEM_ASSERT(open->kind == FT_LBRACK);
    node_vec v = {0};
    if (is(p, FT_RBRACK)) {
        advance(p);
        return mk(p, FN_LIST, open->pos, NULL, 0, NULL, 0);
    }
    feel_node *first = parse_expr(p);
    if (first == NULL) {
        return NULL;
    }
    if (is(p, FT_DOTDOT)) {
        advance(p);
        return parse_range_rest(p, open, first);
    }
    if (!vec_push(p, &v, first)) {
        return NULL;
    }
    while (is(p, FT_COMMA)) {
        advance(p);
        feel_node *item = parse_expr(p);
        if (item == NULL || !vec_push(p, &v, item)) {
            return NULL;
        }
    }
    if (!expect(p, FT_RBRACK)) {
        return NULL;
    }
    return mk(p, FN_LIST, open->pos, NULL, 0, v.items, v.n);
}

/* A context key: a name (words may be separated by spaces), or a string. */
static bool parse_key(parser *p, const char **text, uint32_t *text_len, uint32_t *pos)
{
    const feel_token *t = cur(p);
    *pos = t->pos;
    if (t->kind == FT_STRING) {
        advance(p);
        *text = t->text;
        *text_len = t->text_len;
        return true;
    }
    if (t->text == NULL || t->kind == FT_NUMBER) {
        fail_expected(p, "a context key");
        return false;
    }
    size_t start = p->at;
    while (cur(p)->text != NULL && cur(p)->kind != FT_STRING && cur(p)->kind != FT_NUMBER) {
        advance(p);
    }
    if (p->at - start == 1) {
        *text = t->text;
        *text_len = t->text_len;
        return true;
    }
    size_t total = 0;
    for (size_t i = start; i < p->at; i++) {
        total += p->toks[i].text_len + 1;
    }
    char *s = feel_arena_alloc(p->arena, total);
    if (s == NULL) {
        oom(p);
        return false;
    }
    size_t n = 0;
    for (size_t i = start; i < p->at; i++) {
        memcpy(s + n, p->toks[i].text, p->toks[i].text_len);
        n += p->toks[i].text_len;
        s[n++] = i + 1 < p->at ? ' ' : '\0';
    }
    TANDEM_ASSERT(n == total);
    *text = s;
    *text_len = (uint32_t)(n - 1);
    return true;
}

static feel_node *parse_context(parser *p)
{
    const feel_token *open = advance(p);
    TANDEM_ASSERT(open->kind == FT_LBRACE);
    node_vec v = {0};
    while (!is(p, FT_RBRACE)) {
        if (v.n > 0 && !expect(p, FT_COMMA)) {
            return NULL;
        }
        const char *key;
        uint32_t key_len, pos;
        if (!parse_key(p, &key, &key_len, &pos) || !expect(p, FT_COLON)) {
            return NULL;
        }
        feel_node *value = parse_expr(p);
        feel_node *entry = value == NULL ? NULL : mk(p, FN_ENTRY, pos, key, key_len, &value, 1);
        if (entry == NULL || !vec_push(p, &v, entry)) {
            return NULL;
        }
    }
    advance(p);
    return mk(p, FN_CONTEXT, open->pos, NULL, 0, v.items, v.n);
}

/* '(' starts a parenthesised expression or an open-start interval. */
static feel_node *parse_paren(parser *p)
{
    const feel_token *open = advance(p);
    TANDEM_ASSERT(open->kind == FT_LPAREN);
    feel_node *inner = parse_expr(p);
    if (inner == NULL) {
        return NULL;
    }
    if (is(p, FT_DOTDOT)) {
        advance(p);
        return parse_range_rest(p, open, inner);
    }
    if (!expect(p, FT_RPAREN)) {
        return NULL;
    }
    return inner;
}

static feel_node *parse_primary(parser *p)
{
    TANDEM_ASSERT(p != NULL && p->depth <= p->depth_max);
    const feel_token *t = cur(p);
    switch (t->kind) {
    case FT_NUMBER:
        advance(p);
        return mk(p, FN_NUMBER, t->pos, t->text, t->text_len, NULL, 0);
    case FT_STRING:
        advance(p);
        return mk(p, FN_STRING, t->pos, t->text, t->text_len, NULL, 0);
    case FT_NAME:
        advance(p);
        return mk(p, FN_NAME, t->pos, t->text, t->text_len, NULL, 0);
    case FT_NULL:
        advance(p);
        return mk(p, FN_NULL, t->pos, NULL, 0, NULL, 0);
    case FT_TRUE:
    case FT_FALSE: {
        advance(p);
        feel_node *n = mk(p, FN_BOOL, t->pos, NULL, 0, NULL, 0);
        if (n != NULL) {
            n->op = t->kind == FT_TRUE;
        }
        return n;
    }
    case FT_AT: {
        advance(p);
        const feel_token *s = cur(p);
        if (s->kind != FT_STRING) {
            return fail_expected(p, "a string after '@'");
        }
        advance(p);
        return mk(p, FN_TEMPORAL, t->pos, s->text, s->text_len, NULL, 0);
    }
    case FT_LPAREN:
        return parse_paren(p);
    case FT_LBRACK:
        return parse_list_or_range(p);
    case FT_LBRACE:
        return parse_context(p);
    case FT_RBRACK: { /* ]a..b] : interval with an open start */
        advance(p);
        feel_node *start = parse_additive(p);
        if (start == NULL || !expect(p, FT_DOTDOT)) {
            return NULL;
        }
        return parse_range_rest(p, t, start);
    }
    case FT_FUNCTION:
        return parse_function_literal(p);
    case FT_IF:
    case FT_FOR:
    case FT_SOME:
    case FT_EVERY:
        return parse_expr(p);
    default:
        return fail_expected(p, "an expression");
    }
}

int feel_parse(const char *src, size_t len, const feel_token *tokens, size_t count,
               uint32_t depth_max, feel_arena *arena, feel_node **root_out, tandem_diag *diag)
{
    TANDEM_ASSERT(tokens != NULL && count >= 1 && tokens[count - 1].kind == FT_EOF);
    TANDEM_ASSERT(arena != NULL && root_out != NULL && depth_max > 0);
    tandem_diag local;
    tandem_diag_clear(&local);
    parser p = {src, len, tokens, count, 0, 0, depth_max, arena, diag != NULL ? diag : &local};
    tandem_diag_clear(p.diag);
    *root_out = NULL;
    feel_node *root = parse_expr(&p);
    if (root != NULL && !is(&p, FT_EOF)) {
        root = fail_expected(&p, "end of input");
    }
    if (root == NULL) {
        TANDEM_ASSERT(p.diag->code != 0);
        return p.diag->code;
    }
    TANDEM_ASSERT(p.depth == 0);
    *root_out = root;
    return 0;
}
