/*
 * eval.c — the tree-walking evaluator of FEEL.
 *
 * Errors follow FEEL-Scala 1.17+: a missing variable or a type mismatch gives
 * null and a warning, and evaluation goes on; only a limit (steps,
 * iterations, sizes, memory, call depth) or out of memory stops it, through
 * the sticky e->error (every function then returns NULL up the stack).
 * Recursion is bounded by the tree height (checked when compiling) and by
 * call_depth_max for user-defined functions.
 */
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

static const feel_value *lookup(const feel_scope *s, const char *name, size_t len)
{
    TANDEM_ASSERT(name != NULL);
    for (; s != NULL; s = s->outer) {
        if (s->ctx != NULL) {
            const feel_value *v = feel_ctx_get(s->ctx, name, len);
            if (v != NULL) {
                return v;
            }
        } else if (s->name != NULL && strlen(s->name) == len && memcmp(s->name, name, len) == 0) {
            TANDEM_ASSERT(s->value != NULL);
            return s->value;
        }
    }
    return NULL;
}

static bool tick_iteration(feel_eval *e)
{
    TANDEM_ASSERT(e->iterations <= e->lim.iterations_max);
    if (++e->iterations > e->lim.iterations_max) {
        feel_fail(e, TANDEM_ETOOBIG, "evaluation exceeds the limit of %llu iterations",
                  (unsigned long long)e->lim.iterations_max);
        return false;
    }
    return true;
}

bool feel_charge(feel_eval *e, uint64_t steps)
{
    TANDEM_ASSERT(e != NULL);
    if (e->error != 0) {
        return false;
    }
    e->steps += steps;
    if (e->steps > e->lim.steps_max) {
        feel_fail(e, TANDEM_ETOOBIG, "evaluation exceeds the limit of %llu steps",
                  (unsigned long long)e->lim.steps_max);
        return false;
    }
    return true;
}

static const feel_value *eval_name(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_NAME && n->text != NULL);
    const feel_value *v = lookup(scope, n->text, n->text_len);
    if (v != NULL) {
        return v;
    }
    const feel_builtin *b = feel_builtin_find(n->text, n->text_len);
    if (b != NULL) {
        feel_value *f = feel_arena_alloc(e->arena, sizeof(*f));
        if (f == NULL) {
            return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        }
        f->type = TANDEM_FEEL_FUNCTION;
        f->u.fn.builtin = b;
        return f;
    }
    e->missing++;
    return feel_warn(e, "no variable found with name '%s'", n->text);
}

/* The entry `name` of v: contexts by key, lists member-wise, ranges and
 * temporal values by property. */
static const feel_value *member(feel_eval *e, const feel_value *v, const char *name, size_t len,
                                bool warn)
{
    TANDEM_ASSERT(v != NULL && name != NULL);
    if (v->type == TANDEM_FEEL_CONTEXT) {
        const feel_value *m = feel_ctx_get(v, name, len);
        e->missing += m == NULL;
        return m != NULL ? m
               : warn    ? feel_warn(e, "no context entry found with key '%s'", name)
                         : &feel_null;
    }
    if (v->type == TANDEM_FEEL_LIST) {
        const feel_value **items =
            v->u.list.n > 0 ? feel_arena_alloc(e->arena, v->u.list.n * sizeof(*items)) : NULL;
        if (v->u.list.n > 0 && items == NULL) {
            return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        }
        for (uint32_t i = 0; i < v->u.list.n; i++) {
            if (!tick_iteration(e) ||
                (items[i] = member(e, v->u.list.items[i], name, len, warn)) == NULL) {
                return NULL;
            }
        }
        return feel_list(e, items, v->u.list.n);
    }
    if (v->type == TANDEM_FEEL_RANGE) {
        if (strcmp(name, "start") == 0) {
            return v->u.range.start != NULL ? v->u.range.start : &feel_null;
        }
        if (strcmp(name, "end") == 0) {
            return v->u.range.end != NULL ? v->u.range.end : &feel_null;
        }
        if (strcmp(name, "start included") == 0) {
            return feel_bool((v->u.range.flags & FEEL_RANGE_START_CLOSED) != 0);
        }
        if (strcmp(name, "end included") == 0) {
            return feel_bool((v->u.range.flags & FEEL_RANGE_END_CLOSED) != 0);
        }
    }
    if (feel_is_temporal(v)) {
        const feel_value *p = feel_temporal_property(e, v, name);
        if (p != NULL) {
            return p;
        }
    }
    if (v->type == TANDEM_FEEL_NULL) {
        return &feel_null;
    }
    return feel_warn(e, "no property '%s' on a value of type %s", name, feel_type_name(v->type));
}

/* Evaluates the filter for each item; a number filter selects by position. */
static const feel_value *eval_filter(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_FILTER && n->nkids == 2);
    const feel_value *base = feel_eval_node(e, n->kids[0], scope);
    if (base == NULL || base->type == TANDEM_FEEL_NULL) {
        return base;
    }
    const feel_value *const *items = &base;
    uint32_t count = 1;
    if (base->type == TANDEM_FEEL_LIST) {
        items = base->u.list.items;
        count = base->u.list.n;
    }
    const feel_value **kept = count > 0 ? feel_arena_alloc(e->arena, count * sizeof(*kept)) : NULL;
    if (count > 0 && kept == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    uint32_t nkept = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (!tick_iteration(e)) {
            return NULL;
        }
        feel_scope item = {scope, NULL, "item", items[i]};
        feel_scope entries = {&item, items[i], NULL, NULL};
        const feel_value *r =
            feel_eval_node(e, n->kids[1], items[i]->type == TANDEM_FEEL_CONTEXT ? &entries : &item);
        if (r == NULL) {
            return NULL;
        }
        if (r->type == TANDEM_FEEL_NUMBER && i == 0) {
            int64_t idx;
            if (feel_num_to_int64(r->u.num, &idx) != 0 || idx == 0) {
                return &feel_null;
            }
            int64_t at = idx > 0 ? idx - 1 : (int64_t)count + idx;
            return at >= 0 && at < (int64_t)count ? items[at] : &feel_null;
        }
        if (r->type == TANDEM_FEEL_BOOLEAN && r->u.b) {
            kept[nkept++] = items[i];
        }
    }
    return feel_list(e, kept, nkept);
}

static const feel_value *arith_numbers(feel_eval *e, unsigned op, feel_num a, feel_num b)
{
    feel_num r;
    int rc;
    switch (op) {
    case FT_PLUS:
        rc = feel_num_add(a, b, &r);
        break;
    case FT_MINUS:
        rc = feel_num_sub(a, b, &r);
        break;
    case FT_STAR:
        rc = feel_num_mul(a, b, &r);
        break;
    case FT_SLASH:
        rc = feel_num_div(a, b, &r);
        break;
    case FT_POW:
        rc = feel_num_pow(a, b, &r);
        break;
    default:
        TANDEM_UNREACHABLE();
    }
    if (rc != 0) {
        return feel_warn(e, rc == TANDEM_ERANGE ? "number out of range" : "%s",
                         op == FT_SLASH ? "division by zero" : "arithmetic error");
    }
    return feel_number(e, r);
}

static const feel_value *eval_arith(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_ARITH && n->nkids == 2);
    const feel_value *a = feel_eval_node(e, n->kids[0], scope);
    const feel_value *b = a != NULL ? feel_eval_node(e, n->kids[1], scope) : NULL;
    if (b == NULL) {
        return NULL;
    }
    if (a->type == TANDEM_FEEL_NUMBER && b->type == TANDEM_FEEL_NUMBER) {
        return arith_numbers(e, n->op, a->u.num, b->u.num);
    }
    if ((feel_is_temporal(a) || feel_is_temporal(b)) && a->type != TANDEM_FEEL_NULL &&
        b->type != TANDEM_FEEL_NULL) {
        return feel_temporal_arith(e, n->op, a, b);
    }
    if (n->op == FT_PLUS && a->type == TANDEM_FEEL_STRING && b->type == TANDEM_FEEL_STRING) {
        size_t len = (size_t)a->u.str.len + b->u.str.len;
        if (len > e->lim.string_bytes_max) {
            return feel_fail(e, TANDEM_ETOOBIG,
                             "a string of %zu bytes exceeds the limit of %zu bytes", len,
                             e->lim.string_bytes_max);
        }
        char *buf = feel_arena_alloc(e->arena, len + 1);
        if (buf == NULL) {
            return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        }
        memcpy(buf, a->u.str.s, a->u.str.len);
        memcpy(buf + a->u.str.len, b->u.str.s, b->u.str.len);
        return feel_string(e, buf, len);
    }
    if (a->type == TANDEM_FEEL_NULL || b->type == TANDEM_FEEL_NULL) {
        return &feel_null;
    }
    static const char *const verbs[FT_COUNT] = {[FT_PLUS] = "add",
                                                [FT_MINUS] = "subtract",
                                                [FT_STAR] = "multiply",
                                                [FT_SLASH] = "divide",
                                                [FT_POW] = "raise"};
    TANDEM_ASSERT(n->op < FT_COUNT && verbs[n->op] != NULL);
    return feel_warn(e, "can't %s a value of type %s and a value of type %s", verbs[n->op],
                     feel_type_name(a->type), feel_type_name(b->type));
}

/* `a op b` for = != < <= > >=; null when not comparable. */
static const feel_value *compare_values(feel_eval *e, unsigned op, const feel_value *a,
                                        const feel_value *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    if (op == FT_EQ || op == FT_NE) {
        const feel_value *eq = feel_equals(a, b);
        if (eq == NULL) {
            return feel_warn(e, "can't compare a value of type %s with a value of type %s",
                             feel_type_name(a->type), feel_type_name(b->type));
        }
        return op == FT_EQ ? eq : feel_bool(!eq->u.b);
    }
    int c;
    if (!feel_compare(a, b, &c)) {
        if (a->type == TANDEM_FEEL_NULL || b->type == TANDEM_FEEL_NULL) {
            return &feel_null;
        }
        return feel_warn(e, "can't compare a value of type %s with a value of type %s",
                         feel_type_name(a->type), feel_type_name(b->type));
    }
    switch (op) {
    case FT_LT:
        return feel_bool(c < 0);
    case FT_LE:
        return feel_bool(c <= 0);
    case FT_GT:
        return feel_bool(c > 0);
    case FT_GE:
        return feel_bool(c >= 0);
    default:
        TANDEM_UNREACHABLE();
    }
}

static const feel_value *eval_compare(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_COMPARE && n->nkids == 2);
    const feel_value *a = feel_eval_node(e, n->kids[0], scope);
    const feel_value *b = a != NULL ? feel_eval_node(e, n->kids[1], scope) : NULL;
    return b == NULL ? NULL : compare_values(e, n->op, a, b);
}

/* Three-valued and/or: operands that are not booleans count as null. */
static const feel_value *eval_logic(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_AND || n->kind == FN_OR);
    bool is_and = n->kind == FN_AND;
    const feel_value *a = feel_eval_node(e, n->kids[0], scope);
    if (a == NULL) {
        return NULL;
    }
    if (a->type == TANDEM_FEEL_BOOLEAN && a->u.b != is_and) {
        return a; /* false and ..., true or ... */
    }
    const feel_value *b = feel_eval_node(e, n->kids[1], scope);
    if (b == NULL) {
        return NULL;
    }
    if (b->type == TANDEM_FEEL_BOOLEAN && b->u.b != is_and) {
        return b;
    }
    if (a->type == TANDEM_FEEL_BOOLEAN && b->type == TANDEM_FEEL_BOOLEAN) {
        return feel_bool(is_and);
    }
    return &feel_null;
}

/* Is v inside the range r? NULL result: not comparable. */
static const feel_value *in_range(feel_eval *e, const feel_value *v, const feel_value *r)
{
    TANDEM_ASSERT(r->type == TANDEM_FEEL_RANGE);
    int c;
    if (r->u.range.start != NULL) {
        if (!feel_compare(v, r->u.range.start, &c)) {
            return &feel_null;
        }
        if (c < 0 || (c == 0 && !(r->u.range.flags & FEEL_RANGE_START_CLOSED))) {
            return &feel_false;
        }
    }
    if (r->u.range.end != NULL) {
        if (!feel_compare(v, r->u.range.end, &c)) {
            return &feel_null;
        }
        if (c > 0 || (c == 0 && !(r->u.range.flags & FEEL_RANGE_END_CLOSED))) {
            return &feel_false;
        }
    }
    TANDEM_ASSERT(e != NULL);
    return &feel_true;
}

static const feel_value *unary_test(feel_eval *e, const feel_value *v, const feel_node *t,
                                    const feel_scope *scope);

static const feel_value *test_against_value(feel_eval *e, const feel_value *v, const feel_value *t)
{
    TANDEM_ASSERT(v != NULL && t != NULL);
    if (t->type == TANDEM_FEEL_RANGE) {
        return in_range(e, v, t);
    }
    if (t->type == TANDEM_FEEL_LIST && v->type != TANDEM_FEEL_LIST) {
        for (uint32_t i = 0; i < t->u.list.n; i++) {
            const feel_value *eq = test_against_value(e, v, t->u.list.items[i]);
            if (eq != NULL && eq->type == TANDEM_FEEL_BOOLEAN && eq->u.b) {
                return &feel_true;
            }
        }
        return &feel_false;
    }
    if (t->type == TANDEM_FEEL_BOOLEAN && v->type != TANDEM_FEEL_BOOLEAN) {
        return t; /* an expression over `?` */
    }
    const feel_value *eq = feel_equals(v, t);
    return eq != NULL ? eq : &feel_null;
}

static const feel_value *unary_test(feel_eval *e, const feel_value *v, const feel_node *t,
                                    const feel_scope *scope)
{
    TANDEM_ASSERT(v != NULL && t != NULL);
    if (t->kind == FN_UT_CMP) {
        const feel_value *end = feel_eval_node(e, t->kids[0], scope);
        return end == NULL ? NULL : compare_values(e, t->op, v, end);
    }
    if (t->kind == FN_UT_LIST) {
        const feel_value *result = &feel_false;
        for (uint32_t i = 0; i < t->nkids; i++) {
            const feel_value *r = unary_test(e, v, t->kids[i], scope);
            if (r == NULL) {
                return NULL;
            }
            if (r->type == TANDEM_FEEL_BOOLEAN && r->u.b) {
                return r;
            }
            if (r->type != TANDEM_FEEL_BOOLEAN) {
                result = &feel_null;
            }
        }
        return result;
    }
    feel_scope input = {scope, NULL, "?", v};
    const feel_value *tv = feel_eval_node(e, t, &input);
    return tv == NULL ? NULL : test_against_value(e, v, tv);
}

static const feel_value *eval_between(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_BETWEEN && n->nkids == 3);
    const feel_value *v = feel_eval_node(e, n->kids[0], scope);
    const feel_value *lo = v != NULL ? feel_eval_node(e, n->kids[1], scope) : NULL;
    const feel_value *hi = lo != NULL ? feel_eval_node(e, n->kids[2], scope) : NULL;
    if (hi == NULL) {
        return NULL;
    }
    int a, b;
    if (!feel_compare(v, lo, &a) || !feel_compare(v, hi, &b)) {
        return v->type == TANDEM_FEEL_NULL ? &feel_null
                                           : feel_warn(e, "can't compare the values of between");
    }
    return feel_bool(a >= 0 && b <= 0);
}

static bool type_matches(const feel_value *v, const char *type)
{
    TANDEM_ASSERT(v != NULL && type != NULL);
    if (strcmp(type, "Any") == 0) {
        return v->type != TANDEM_FEEL_NULL;
    }
    if (strcmp(type, "Null") == 0) {
        return v->type == TANDEM_FEEL_NULL;
    }
    size_t base = strcspn(type, "<");
    const char *name = feel_type_name(v->type);
    return strlen(name) == base && memcmp(name, type, base) == 0;
}

static const feel_value *eval_range(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_RANGE && n->nkids == 2);
    feel_value *r = feel_arena_alloc(e->arena, sizeof(*r));
    if (r == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    r->type = TANDEM_FEEL_RANGE;
    r->u.range.flags = (uint8_t)n->op;
    for (int i = 0; i < 2; i++) {
        const feel_value *end =
            n->kids[i] != NULL ? feel_eval_node(e, n->kids[i], scope) : &feel_null;
        if (end == NULL) {
            return NULL;
        }
        if (i == 0) {
            r->u.range.start = end->type == TANDEM_FEEL_NULL ? NULL : end;
        } else {
            r->u.range.end = end->type == TANDEM_FEEL_NULL ? NULL : end;
        }
    }
    int c;
    if (r->u.range.start != NULL && r->u.range.end != NULL &&
        !feel_compare(r->u.range.start, r->u.range.end, &c)) {
        return feel_warn(e, "the ends of a range must be of one comparable type");
    }
    return r;
}

static const feel_value *eval_list(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_LIST);
    const feel_value **items =
        n->nkids > 0 ? feel_arena_alloc(e->arena, n->nkids * sizeof(*items)) : NULL;
    if (n->nkids > 0 && items == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    for (uint32_t i = 0; i < n->nkids; i++) {
        if ((items[i] = feel_eval_node(e, n->kids[i], scope)) == NULL) {
            return NULL;
        }
    }
    return feel_list(e, items, n->nkids);
}

/* Entries see the entries before them: `{a: 1, b: a + 1}`. */
static const feel_value *eval_context(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_CONTEXT);
    feel_entry *entries =
        n->nkids > 0 ? feel_arena_alloc(e->arena, n->nkids * sizeof(*entries)) : NULL;
    feel_value *ctx = feel_arena_alloc(e->arena, sizeof(*ctx));
    if ((n->nkids > 0 && entries == NULL) || ctx == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    ctx->type = TANDEM_FEEL_CONTEXT;
    ctx->depth = 1;
    ctx->u.ctx.entries = entries;
    ctx->u.ctx.n = 0;
    feel_scope inner = {scope, ctx, NULL, NULL};
    for (uint32_t i = 0; i < n->nkids; i++) {
        const feel_node *en = n->kids[i];
        TANDEM_ASSERT(en->kind == FN_ENTRY && en->nkids == 1);
        const feel_value *v = feel_eval_node(e, en->kids[0], &inner);
        if (v == NULL) {
            return NULL;
        }
        if (!feel_charge(e, ctx->u.ctx.n)) { /* the duplicate check below is linear */
            return NULL;
        }
        if (feel_ctx_get(ctx, en->text, en->text_len) != NULL) {
            return feel_warn(e, "duplicate context entry '%s'", en->text);
        }
        uint32_t depth = feel_depth_in(v) + 1u;
        if (!feel_depth_ok(e, depth)) {
            return NULL;
        }
        ctx->depth = (uint16_t)(depth > ctx->depth ? depth : ctx->depth);
        entries[ctx->u.ctx.n].key = en->text;
        entries[ctx->u.ctx.n].key_len = en->text_len;
        entries[ctx->u.ctx.n].value = v;
        ctx->u.ctx.n++;
    }
    if (ctx->u.ctx.n > e->lim.list_items_max) {
        return feel_fail(e, TANDEM_ETOOBIG, "a context exceeds the limit of %zu entries",
                         e->lim.list_items_max);
    }
    return ctx;
}

typedef struct iter_state {
    const feel_node *n;     /* FN_FOR / FN_SOME / FN_EVERY */
    const feel_value **out; /* for: results */
    uint32_t nout, cap;
    int verdict;      /* some/every: -1 undecided, 0 false, 1 true */
    uint16_t depth;   /* for: depth of the result list so far */
    bool null_result; /* a domain was null or a bad range: the result is null */
} iter_state;

static bool iter_body(feel_eval *e, iter_state *st, const feel_scope *scope)
{
    TANDEM_ASSERT(st != NULL && scope != NULL);
    const feel_node *body = st->n->kids[st->n->nkids - 1];
    const feel_value *r = feel_eval_node(e, body, scope);
    if (r == NULL) {
        return false;
    }
    if (st->n->kind == FN_FOR) {
        if (st->nout == st->cap) {
            uint32_t cap = st->cap == 0 ? 16 : st->cap * 2;
            const feel_value **out = feel_arena_alloc(e->arena, cap * sizeof(*out));
            if (out == NULL) {
                feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
                return false;
            }
            if (st->nout > 0) {
                memcpy(out, st->out, st->nout * sizeof(*out));
            }
            st->out = out;
            st->cap = cap;
        }
        uint32_t depth = feel_depth_in(r) + 1u;
        if (!feel_depth_ok(e, depth)) {
            return false;
        }
        st->depth = (uint16_t)(depth > st->depth ? depth : st->depth);
        st->out[st->nout++] = r;
        return true;
    }
    bool holds = r->type == TANDEM_FEEL_BOOLEAN && r->u.b;
    if (st->n->kind == FN_SOME && holds) {
        st->verdict = 1;
    } else if (st->n->kind == FN_EVERY && !holds) {
        st->verdict = 0;
    }
    return true;
}

static bool iterate(feel_eval *e, iter_state *st, uint32_t k, const feel_scope *scope);

static bool iterate_bind(feel_eval *e, iter_state *st, uint32_t k, const feel_scope *scope,
                         const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    if (!tick_iteration(e)) {
        return false;
    }
    feel_scope bound = {scope, NULL, st->n->kids[k]->text, v};
    if (st->n->kind == FN_FOR) {
        /* `partial`: the results so far, as FEEL-Scala offers. It shares
         * the result array (items below nout never change, and a grown
         * array leaves the old one in the arena), so it costs one value per
         * iteration, not a copy. */
        feel_value *pl = feel_arena_alloc(e->arena, sizeof(*pl));
        if (pl == NULL) {
            feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
            return false;
        }
        pl->type = TANDEM_FEEL_LIST;
        pl->depth = st->depth > 0 ? st->depth : 1;
        pl->u.list.items = st->out;
        pl->u.list.n = st->nout;
        feel_scope with_partial = {&bound, NULL, "partial", pl};
        return iterate(e, st, k + 1, &with_partial);
    }
    return iterate(e, st, k + 1, &bound);
}

/* Binds iterator k to each element of its domain, then the next iterator. */
static bool iterate(feel_eval *e, iter_state *st, uint32_t k, const feel_scope *scope)
{
    TANDEM_ASSERT(k < st->n->nkids);
    if (st->verdict != -1 || st->null_result) {
        return true;
    }
    if (k == st->n->nkids - 1) {
        return iter_body(e, st, scope);
    }
    const feel_node *it = st->n->kids[k];
    TANDEM_ASSERT(it->kind == FN_ITER);
    const feel_value *dom = feel_eval_node(e, it->kids[0], scope);
    if (dom == NULL) {
        return false;
    }
    const feel_value *last = NULL;
    if (it->nkids == 2) {
        if ((last = feel_eval_node(e, it->kids[1], scope)) == NULL) {
            return false;
        }
    } else if (dom->type == TANDEM_FEEL_RANGE && dom->u.range.start != NULL &&
               dom->u.range.end != NULL) {
        last = dom->u.range.end;
        dom = dom->u.range.start;
    }
    if (last != NULL) {
        int64_t a, b;
        if (dom->type != TANDEM_FEEL_NUMBER || last->type != TANDEM_FEEL_NUMBER ||
            feel_num_to_int64(dom->u.num, &a) != 0 || feel_num_to_int64(last->u.num, &b) != 0) {
            feel_warn(e, "the range of '%s' must have integer ends", it->text);
            st->null_result = true;
            return true;
        }
        int64_t step = a <= b ? 1 : -1;
        for (int64_t i = a;; i += step) {
            const feel_value *v = feel_number(e, feel_num_from_int(i));
            if (v == NULL || !iterate_bind(e, st, k, scope, v)) {
                return false;
            }
            if (i == b || st->verdict != -1 || st->null_result) {
                break;
            }
        }
        return true;
    }
    if (dom->type == TANDEM_FEEL_NULL) {
        feel_warn(e, "'%s' iterates over null", it->text);
        st->null_result = true;
        return true;
    }
    if (dom->type != TANDEM_FEEL_LIST) {
        /* FEEL-Scala iterates a single value as a list of one. */
        return iterate_bind(e, st, k, scope, dom);
    }
    for (uint32_t i = 0; i < dom->u.list.n && st->verdict == -1 && !st->null_result; i++) {
        if (!iterate_bind(e, st, k, scope, dom->u.list.items[i])) {
            return false;
        }
    }
    return true;
}

static const feel_value *eval_iteration(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_FOR || n->kind == FN_SOME || n->kind == FN_EVERY);
    TANDEM_ASSERT(n->nkids >= 2);
    iter_state st = {n, NULL, 0, 0, -1, 0, false};
    if (!iterate(e, &st, 0, scope)) {
        return NULL;
    }
    if (st.null_result) {
        return &feel_null;
    }
    if (n->kind == FN_FOR) {
        return feel_list(e, st.out, st.nout);
    }
    if (st.verdict == -1) {
        return feel_bool(n->kind == FN_EVERY);
    }
    return feel_bool(st.verdict == 1);
}

/* A closure keeps its scope chain: copy it out of the C stack. */
static const feel_scope *copy_scope(feel_eval *e, const feel_scope *s)
{
    if (s == NULL) {
        return NULL;
    }
    feel_scope *c = feel_arena_alloc(e->arena, sizeof(*c));
    if (c == NULL) {
        feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        return NULL;
    }
    *c = *s;
    if (s->outer != NULL && (c->outer = copy_scope(e, s->outer)) == NULL) {
        return NULL;
    }
    TANDEM_ASSERT(c->ctx != NULL || c->name != NULL || c->value == NULL);
    return c;
}

static const feel_value *eval_funcdef(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_FUNCDEF && n->nkids >= 1);
    feel_value *f = feel_arena_alloc(e->arena, sizeof(*f));
    if (f == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    f->type = TANDEM_FEEL_FUNCTION;
    f->u.fn.def = n;
    f->u.fn.closure = copy_scope(e, scope);
    if (scope != NULL && f->u.fn.closure == NULL) {
        return NULL;
    }
    return f;
}

static const feel_value *call_user(feel_eval *e, const feel_value *fn,
                                   const feel_value *const *args, const char *const *names,
                                   uint32_t nargs)
{
    const feel_node *def = fn->u.fn.def;
    TANDEM_ASSERT(def != NULL && def->kind == FN_FUNCDEF);
    uint32_t nparams = def->nkids - 1;
    if (nargs > nparams) {
        return feel_warn(e, "function expects %u arguments but got %u", nparams, nargs);
    }
    if (e->call_depth >= e->lim.call_depth_max) {
        return feel_fail(e, TANDEM_ETOOBIG, "function calls nest deeper than %u",
                         e->lim.call_depth_max);
    }
    feel_scope frames[256];
    if (nparams > 256) {
        return feel_warn(e, "too many parameters");
    }
    const feel_scope *s = fn->u.fn.closure;
    for (uint32_t p = 0; p < nparams; p++) {
        const feel_node *param = def->kids[p];
        const feel_value *v = &feel_null;
        for (uint32_t a = 0; a < nargs; a++) {
            if (names != NULL ? strcmp(names[a], param->text) == 0 : a == p) {
                v = args[a];
            }
        }
        frames[p] = (feel_scope){s, NULL, param->text, v};
        s = &frames[p];
    }
    e->call_depth++;
    const feel_value *r = feel_eval_node(e, def->kids[nparams], s);
    e->call_depth--;
    return r;
}

const feel_value *feel_call(feel_eval *e, const feel_value *fn, const feel_value *const *args,
                            const char *const *names, uint32_t nargs, uint32_t pos)
{
    TANDEM_ASSERT(fn != NULL && fn->type == TANDEM_FEEL_FUNCTION);
    TANDEM_ASSERT(args != NULL || nargs == 0);
    (void)pos;
    if (fn->u.fn.builtin == NULL) {
        return call_user(e, fn, args, names, nargs);
    }
    const feel_builtin *b = fn->u.fn.builtin;
    const feel_value *ordered[8];
    if (names != NULL) {
        /* Named arguments: put them in parameter order. */
        uint32_t count = 0;
        for (uint32_t p = 0; p < 4 && b->params[p] != NULL; p++) {
            ordered[p] = NULL;
            for (uint32_t a = 0; a < nargs; a++) {
                if (strcmp(names[a], b->params[p]) == 0) {
                    ordered[p] = args[a];
                    count = p + 1;
                }
            }
        }
        for (uint32_t p = 0; p < count; p++) {
            if (ordered[p] == NULL) {
                ordered[p] = &feel_null;
            }
        }
        if (count < nargs) {
            return feel_warn(e, "unknown parameter name in a call of %s", b->name);
        }
        args = ordered;
        nargs = count;
    }
    if (nargs < b->min_args || nargs > b->max_args) {
        return feel_warn(e, "no function found with name '%s' and %u parameters", b->name, nargs);
    }
    return b->fn(e, args, nargs);
}

static const feel_value *eval_call(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_CALL && n->nkids >= 1);
    const feel_node *callee = n->kids[0];
    feel_value builtin = {.type = TANDEM_FEEL_FUNCTION};
    const feel_value *fn;
    if (callee->kind == FN_NAME) {
        /* A variable holding a function shadows a built-in of that name. */
        fn = lookup(scope, callee->text, callee->text_len);
        if (fn == NULL || fn->type != TANDEM_FEEL_FUNCTION) {
            if (callee->aux == NULL) {
                return feel_warn(e, "no function found with name '%s'", callee->text);
            }
            builtin.u.fn.builtin = callee->aux;
            fn = &builtin;
        }
    } else if ((fn = feel_eval_node(e, callee, scope)) == NULL) {
        return NULL;
    } else if (fn->type != TANDEM_FEEL_FUNCTION) {
        return feel_warn(e, "a value of type %s is not a function", feel_type_name(fn->type));
    }
    enum { args_max = 64 };
    uint32_t nargs = n->nkids - 1;
    const feel_value *args[args_max];
    const char *names[args_max];
    if (nargs > args_max) {
        return feel_warn(e, "a function call has more than %d arguments", args_max);
    }
    uint64_t missing_before = e->missing;
    for (uint32_t i = 0; i < nargs; i++) {
        const feel_node *a = n->kids[i + 1];
        names[i] = a->kind == FN_NAMED_ARG ? a->text : NULL;
        args[i] = feel_eval_node(e, a->kind == FN_NAMED_ARG ? a->kids[0] : a, scope);
        if (args[i] == NULL) {
            return NULL;
        }
    }
    if (fn == &builtin && strcmp(builtin.u.fn.builtin->name, "is defined") == 0 && nargs == 1) {
        /* The one built-in that sees how its argument was evaluated: a
         * missing variable or entry is "not defined", a null value is. */
        return feel_bool(e->missing == missing_before);
    }
    return feel_call(e, fn, args, n->op ? names : NULL, nargs, n->pos);
}

/* Literals are parsed when compiling, without zone data: a date-time in a
 * named zone is resolved here when the evaluation has zone data. */
static const feel_value *eval_temporal_literal(feel_eval *e, const feel_node *n)
{
    TANDEM_ASSERT(n->kind == FN_TEMPORAL);
    const feel_value *v = n->aux;
    if (v == NULL) {
        return feel_warn(e, "'%s' is not a date, time or duration", n->text);
    }
    if (v->type == TANDEM_FEEL_DATE_TIME && v->u.tm.zone_kind == FEEL_ZONE_NAMED &&
        !v->u.tm.resolved && e->zones != NULL) {
        return feel_temporal_value(e, v->type, v->u.tm);
    }
    return v;
}

static const feel_value *eval_neg(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_NEG && n->nkids == 1);
    const feel_value *v = feel_eval_node(e, n->kids[0], scope);
    if (v == NULL || v->type == TANDEM_FEEL_NULL) {
        return v;
    }
    if (v->type == TANDEM_FEEL_DAYS_TIME_DURATION) {
        return feel_duration_value(e, -v->u.dur.secs, -v->u.dur.nanos);
    }
    if (v->type == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
        return feel_months_value(e, -v->u.months);
    }
    if (v->type != TANDEM_FEEL_NUMBER) {
        return feel_warn(e, "can't negate a value of type %s", feel_type_name(v->type));
    }
    return feel_number(e, feel_num_negate(v->u.num));
}

/* Only the boolean true takes the then-branch; null and non-booleans the else. */
static const feel_value *eval_if(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_IF && n->nkids == 3);
    const feel_value *c = feel_eval_node(e, n->kids[0], scope);
    if (c == NULL) {
        return NULL;
    }
    bool yes = c->type == TANDEM_FEEL_BOOLEAN && c->u.b;
    return feel_eval_node(e, n->kids[yes ? 1 : 2], scope);
}

/* `x in tests`, or a test on its own, which applies to `?`. */
static const feel_value *eval_in(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_IN || n->kind == FN_UT_CMP || n->kind == FN_UT_LIST);
    if (n->kind != FN_IN) {
        const feel_value *input = lookup(scope, "?", 1);
        return unary_test(e, input != NULL ? input : &feel_null, n, scope);
    }
    const feel_value *v = feel_eval_node(e, n->kids[0], scope);
    return v == NULL ? NULL : unary_test(e, v, n->kids[1], scope);
}

static const feel_value *eval_instance_or_path(feel_eval *e, const feel_node *n,
                                               const feel_scope *scope)
{
    TANDEM_ASSERT(n->kind == FN_INSTANCE_OF || n->kind == FN_PATH);
    const feel_value *v = feel_eval_node(e, n->kids[0], scope);
    if (v == NULL) {
        return NULL;
    }
    if (n->kind == FN_INSTANCE_OF) {
        return feel_bool(type_matches(v, n->text));
    }
    return member(e, v, n->text, n->text_len, true);
}

const feel_value *feel_eval_node(feel_eval *e, const feel_node *n, const feel_scope *scope)
{
    TANDEM_ASSERT(e != NULL && n != NULL);
    if (e->error != 0) {
        return NULL;
    }
    if (++e->steps > e->lim.steps_max) {
        return feel_fail(e, TANDEM_ETOOBIG, "evaluation exceeds the limit of %llu steps",
                         (unsigned long long)e->lim.steps_max);
    }
    switch (n->kind) {
    case FN_NULL:
        return &feel_null;
    case FN_BOOL:
        return feel_bool(n->op != 0);
    case FN_NUMBER:
    case FN_STRING:
        TANDEM_ASSERT(n->aux != NULL); /* constants are built when compiling */
        return n->aux;
    case FN_TEMPORAL:
        /* Built when compiling; NULL when the text is no ISO 8601 value. */
        return eval_temporal_literal(e, n);
    case FN_NAME:
        return eval_name(e, n, scope);
    case FN_NEG:
        return eval_neg(e, n, scope);
    case FN_ARITH:
        return eval_arith(e, n, scope);
    case FN_COMPARE:
        return eval_compare(e, n, scope);
    case FN_AND:
    case FN_OR:
        return eval_logic(e, n, scope);
    case FN_BETWEEN:
        return eval_between(e, n, scope);
    case FN_IN:
    case FN_UT_CMP:
    case FN_UT_LIST:
        return eval_in(e, n, scope);
    case FN_INSTANCE_OF:
    case FN_PATH:
        return eval_instance_or_path(e, n, scope);
    case FN_FILTER:
        return eval_filter(e, n, scope);
    case FN_CALL:
        return eval_call(e, n, scope);
    case FN_IF:
        return eval_if(e, n, scope);
    case FN_FOR:
    case FN_SOME:
    case FN_EVERY:
        return eval_iteration(e, n, scope);
    case FN_LIST:
        return eval_list(e, n, scope);
    case FN_CONTEXT:
        return eval_context(e, n, scope);
    case FN_FUNCDEF:
        return eval_funcdef(e, n, scope);
    case FN_RANGE:
        return eval_range(e, n, scope);
    default:
        break;
    }
    /* FN_NAMED_ARG, FN_ITER, FN_ENTRY, FN_PARAM live only inside their parents. */
    TANDEM_UNREACHABLE();
}
