/*
 * builtins_misc.c — numeric, boolean, context and conversion functions.
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

#define NEED_NUM(fn, i)                                                                            \
    do {                                                                                           \
        if (args[i]->type != TANDEM_FEEL_NUMBER) {                                                 \
            return feel_bad_arg(e, fn, i, "a number", args[i]);                                    \
        }                                                                                          \
    } while (0)
#define NUM(i) (args[i]->u.num)

/* ---- Numeric ------------------------------------------------------------- */

static const feel_value *num_result(feel_eval *e, const char *fn, int rc, feel_num r)
{
    TANDEM_ASSERT(fn != NULL);
    if (rc != 0) {
        return feel_warn(e, "%s: %s", fn,
                         rc == TANDEM_ERANGE ? "number out of range" : "argument out of domain");
    }
    return feel_number(e, r);
}

/* name(n, scale?) with a rounding mode. */
static const feel_value *rounding(feel_eval *e, const feel_value *const *args, uint32_t n,
                                  const char *fn, feel_rounding mode, bool scale_required)
{
    NEED_NUM(fn, 0);
    int64_t scale = 0;
    if ((n == 2 || scale_required) &&
        (!feel_int_arg(args[1], &scale) || scale < -6111 || scale > 6176)) {
        return feel_bad_arg(e, fn, 1, "an integer scale", args[1]);
    }
    feel_num r;
    return num_result(e, fn, feel_num_round(NUM(0), (int32_t)scale, mode, &r), r);
}

static const feel_value *fn_decimal(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "decimal", FEEL_ROUND_HALF_EVEN, true);
}
static const feel_value *fn_floor(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "floor", FEEL_ROUND_FLOOR, false);
}
static const feel_value *fn_ceiling(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "ceiling", FEEL_ROUND_CEILING, false);
}
static const feel_value *fn_round_up(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "round up", FEEL_ROUND_UP, false);
}
static const feel_value *fn_round_down(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "round down", FEEL_ROUND_DOWN, false);
}
static const feel_value *fn_round_half_up(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "round half up", FEEL_ROUND_HALF_UP, false);
}
static const feel_value *fn_round_half_down(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    return rounding(e, a, n, "round half down", FEEL_ROUND_HALF_DOWN, false);
}

static const feel_value *fn_abs(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_NUM("abs", 0);
    return feel_num_is_negative(NUM(0)) ? feel_number(e, feel_num_negate(NUM(0))) : args[0];
}

static const feel_value *fn_modulo(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    NEED_NUM("modulo", 0);
    NEED_NUM("modulo", 1);
    feel_num r;
    return num_result(e, "modulo", feel_num_mod(NUM(0), NUM(1), &r), r);
}

static const feel_value *fn_sqrt(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_NUM("sqrt", 0);
    feel_num r;
    return num_result(e, "sqrt", feel_num_sqrt(NUM(0), &r), r);
}

static const feel_value *fn_log(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_NUM("log", 0);
    feel_num r;
    return num_result(e, "log", feel_num_ln(NUM(0), &r), r);
}

static const feel_value *fn_exp(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_NUM("exp", 0);
    feel_num r;
    return num_result(e, "exp", feel_num_exp(NUM(0), &r), r);
}

static const feel_value *parity(feel_eval *e, const feel_value *const *args, bool odd)
{
    NEED_NUM(odd ? "odd" : "even", 0);
    feel_num r;
    if (!feel_num_is_integer(NUM(0))) {
        return &feel_false;
    }
    if (feel_num_mod(NUM(0), feel_num_from_int(2), &r) != 0) {
        return &feel_null;
    }
    return feel_bool(feel_num_is_zero(r) != odd);
}

static const feel_value *fn_odd(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 1);
    return parity(e, a, true);
}
static const feel_value *fn_even(feel_eval *e, const feel_value *const *a, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, a, n);
    TANDEM_ASSERT(n == 1);
    return parity(e, a, false);
}

/* A number in [0, 1) with 18 random digits. */
static const feel_value *fn_random_number(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 0);
    if (e->rand == NULL) {
        return feel_warn(e, "random number: no source of randomness was given");
    }
    char text[24];
    uint64_t r = tandem_rand_below(e->rand, UINT64_C(1000000000000000000));
    int len = snprintf(text, sizeof(text), "0.%018llu", (unsigned long long)r);
    feel_num num;
    if (feel_num_parse(text, (size_t)len, false, &num) != 0) {
        TANDEM_UNREACHABLE();
    }
    return feel_number(e, num);
}

/* ---- Boolean ------------------------------------------------------------- */

static const feel_value *fn_not(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    if (args[0]->type != TANDEM_FEEL_BOOLEAN) {
        return args[0]->type == TANDEM_FEEL_NULL ? &feel_null
                                                 : feel_bad_arg(e, "not", 0, "a boolean", args[0]);
    }
    return feel_bool(!args[0]->u.b);
}

/* Called by name, `is defined(x)` is answered by the evaluator, which knows
 * whether x was missing (eval.c); this is the function as a value
 * (`f: is defined`), which sees only values: every value is defined. */
static const feel_value *fn_is_defined(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1 && e != NULL);
    return &feel_true;
}

static const feel_value *fn_get_or_else(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2 && e != NULL);
    return args[0]->type != TANDEM_FEEL_NULL ? args[0] : args[1];
}

static const feel_value *fn_assert(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (args[1]->type == TANDEM_FEEL_BOOLEAN && args[1]->u.b) {
        return args[0];
    }
    if (n == 3 && args[2]->type == TANDEM_FEEL_STRING) {
        return feel_fail(e, TANDEM_EINVAL, "assertion failed: %s", args[2]->u.str.s);
    }
    return feel_fail(e, TANDEM_EINVAL, "assertion failed");
}

/* ---- Context ------------------------------------------------------------- */

static const feel_value *fn_get_value(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    const feel_value *v = args[0];
    if (v->type != TANDEM_FEEL_CONTEXT) {
        return feel_bad_arg(e, "get value", 0, "a context", v);
    }
    if (args[1]->type == TANDEM_FEEL_STRING) {
        const feel_value *r = feel_ctx_get(v, args[1]->u.str.s, args[1]->u.str.len);
        return r != NULL ? r : &feel_null;
    }
    if (args[1]->type != TANDEM_FEEL_LIST) {
        return feel_bad_arg(e, "get value", 1, "a string or a list of strings", args[1]);
    }
    for (uint32_t i = 0; i < args[1]->u.list.n; i++) {
        const feel_value *k = args[1]->u.list.items[i];
        if (v->type != TANDEM_FEEL_CONTEXT || k->type != TANDEM_FEEL_STRING) {
            return &feel_null;
        }
        v = feel_ctx_get(v, k->u.str.s, k->u.str.len);
        if (v == NULL) {
            return &feel_null;
        }
    }
    return v;
}

static const feel_value *fn_get_entries(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    if (args[0]->type != TANDEM_FEEL_CONTEXT) {
        return feel_bad_arg(e, "get entries", 0, "a context", args[0]);
    }
    const feel_value *ctx = args[0];
    const feel_value **items = feel_items(e, ctx->u.ctx.n);
    if (items == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < ctx->u.ctx.n; i++) {
        const feel_entry *en = &ctx->u.ctx.entries[i];
        const feel_value *key = feel_string(e, en->key, en->key_len);
        feel_entry pair[2] = {{"key", 3, key}, {"value", 5, en->value}};
        if (key == NULL || (items[i] = feel_context(e, pair, 2)) == NULL) {
            return NULL;
        }
    }
    return feel_list(e, items, ctx->u.ctx.n);
}

/* A copy of ctx with key set to value (replaced in place or appended). */
static const feel_value *ctx_with(feel_eval *e, const feel_value *ctx, const char *key,
                                  size_t key_len, const feel_value *value)
{
    TANDEM_ASSERT(ctx->type == TANDEM_FEEL_CONTEXT && value != NULL);
    uint32_t n = ctx->u.ctx.n;
    feel_entry *entries = feel_arena_alloc(e->arena, (n + 1) * sizeof(*entries));
    if (entries == NULL) {
        return feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    uint32_t count = 0;
    bool replaced = false;
    for (uint32_t i = 0; i < n; i++) {
        entries[count] = ctx->u.ctx.entries[i];
        if (entries[count].key_len == key_len && memcmp(entries[count].key, key, key_len) == 0) {
            entries[count].value = value;
            replaced = true;
        }
        count++;
    }
    if (!replaced) {
        entries[count++] = (feel_entry){key, (uint32_t)key_len, value};
    }
    return feel_context(e, entries, count);
}

static const feel_value *put_path(feel_eval *e, const feel_value *ctx, const feel_value *keys,
                                  uint32_t at, const feel_value *value)
{
    TANDEM_ASSERT(keys->type == TANDEM_FEEL_LIST && at < keys->u.list.n);
    const feel_value *k = keys->u.list.items[at];
    if (k->type != TANDEM_FEEL_STRING) {
        return feel_warn(e, "context put: keys must be strings");
    }
    if (at + 1 < keys->u.list.n) {
        const feel_value *inner = feel_ctx_get(ctx, k->u.str.s, k->u.str.len);
        static const feel_value empty = {.type = TANDEM_FEEL_CONTEXT};
        if (inner == NULL || inner->type != TANDEM_FEEL_CONTEXT) {
            inner = &empty;
        }
        value = put_path(e, inner, keys, at + 1, value);
        if (value == NULL || value->type == TANDEM_FEEL_NULL) {
            return value;
        }
    }
    return ctx_with(e, ctx, k->u.str.s, k->u.str.len, value);
}

static const feel_value *fn_context_put(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 3);
    if (args[0]->type != TANDEM_FEEL_CONTEXT) {
        return feel_bad_arg(e, "context put", 0, "a context", args[0]);
    }
    if (args[1]->type == TANDEM_FEEL_STRING) {
        return ctx_with(e, args[0], args[1]->u.str.s, args[1]->u.str.len, args[2]);
    }
    if (args[1]->type == TANDEM_FEEL_LIST && args[1]->u.list.n > 0) {
        return put_path(e, args[0], args[1], 0, args[2]);
    }
    return feel_bad_arg(e, "context put", 1, "a string or a list of strings", args[1]);
}

static const feel_value *fn_context_merge(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items = args;
    uint32_t count = n;
    if (n == 1 && args[0]->type == TANDEM_FEEL_LIST) {
        items = args[0]->u.list.items;
        count = args[0]->u.list.n;
    }
    static const feel_value empty = {.type = TANDEM_FEEL_CONTEXT};
    const feel_value *acc = &empty;
    for (uint32_t i = 0; i < count; i++) {
        if (items[i]->type != TANDEM_FEEL_CONTEXT) {
            return feel_warn(e, "context merge: expected contexts, not %s",
                             feel_type_name(items[i]->type));
        }
        for (uint32_t k = 0; k < items[i]->u.ctx.n && acc != NULL; k++) {
            const feel_entry *en = &items[i]->u.ctx.entries[k];
            if (!feel_charge(e, acc->u.ctx.n + 1)) {
                return NULL;
            }
            acc = ctx_with(e, acc, en->key, en->key_len, en->value);
        }
    }
    return acc;
}

static const feel_value *fn_context(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    if (args[0]->type != TANDEM_FEEL_LIST) {
        return feel_bad_arg(e, "context", 0, "a list of entries", args[0]);
    }
    static const feel_value empty = {.type = TANDEM_FEEL_CONTEXT};
    const feel_value *acc = &empty;
    for (uint32_t i = 0; i < args[0]->u.list.n && acc != NULL; i++) {
        const feel_value *it = args[0]->u.list.items[i];
        const feel_value *k = it->type == TANDEM_FEEL_CONTEXT ? feel_ctx_get(it, "key", 3) : NULL;
        const feel_value *v = it->type == TANDEM_FEEL_CONTEXT ? feel_ctx_get(it, "value", 5) : NULL;
        if (k == NULL || v == NULL || k->type != TANDEM_FEEL_STRING) {
            return feel_warn(e, "context: each entry must be a context with key and value");
        }
        if (!feel_charge(e, acc->u.ctx.n + 1)) {
            return NULL;
        }
        acc = ctx_with(e, acc, k->u.str.s, k->u.str.len, v);
    }
    return acc;
}

/* ---- Conversion ---------------------------------------------------------- */

static int text_of(const feel_value *v, tandem_buf *b, bool top);

static int text_items(const feel_value *v, tandem_buf *b)
{
    TANDEM_ASSERT(v->type == TANDEM_FEEL_LIST || v->type == TANDEM_FEEL_CONTEXT);
    bool list = v->type == TANDEM_FEEL_LIST;
    int rc = tandem_buf_put_u8(b, list ? '[' : '{');
    uint32_t n = list ? v->u.list.n : v->u.ctx.n;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (i > 0) {
            rc = tandem_buf_append(b, ", ", 2);
        }
        if (rc == 0 && !list) {
            const feel_entry *en = &v->u.ctx.entries[i];
            rc = tandem_buf_append(b, en->key, en->key_len);
            if (rc == 0) {
                rc = tandem_buf_put_u8(b, ':');
            }
        }
        if (rc == 0) {
            rc = text_of(list ? v->u.list.items[i] : v->u.ctx.entries[i].value, b, false);
        }
    }
    return rc != 0 ? rc : tandem_buf_put_u8(b, list ? ']' : '}');
}

/* FEEL-Scala's text of a value: strings bare at the top, quoted inside. */
static int text_of(const feel_value *v, tandem_buf *b, bool top)
{
    TANDEM_ASSERT(v != NULL && b != NULL);
    switch (v->type) {
    case TANDEM_FEEL_STRING:
        if (top) {
            return tandem_buf_append(b, v->u.str.s, v->u.str.len);
        }
        return feel_value_json(v, b);
    case TANDEM_FEEL_LIST:
    case TANDEM_FEEL_CONTEXT:
        return text_items(v, b);
    case TANDEM_FEEL_FUNCTION:
        return tandem_buf_append(b, "function", 8);
    default:
        /* Temporal values print bare at the top, quoted inside lists. */
        return feel_is_temporal(v) && top ? feel_temporal_format(v, b) : feel_value_json(v, b);
    }
}

static const feel_value *fn_string(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    if (args[0]->type == TANDEM_FEEL_STRING) {
        return args[0];
    }
    if (args[0]->type == TANDEM_FEEL_NULL) {
        return &feel_null;
    }
    tandem_buf b = TANDEM_BUF_INIT;
    const feel_value *r = NULL;
    if (text_of(args[0], &b, true) != 0) {
        r = feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    } else {
        r = feel_string(e, (const char *)b.data, b.len);
    }
    tandem_buf_free(&b);
    return r;
}

static const feel_value *fn_number(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (args[0]->type == TANDEM_FEEL_NUMBER) {
        return args[0];
    }
    if (args[0]->type != TANDEM_FEEL_STRING) {
        return feel_bad_arg(e, "number", 0, "a string", args[0]);
    }
    /* Drop the grouping separator, map the decimal separator to '.'. */
    const char *s = args[0]->u.str.s;
    char group = n >= 2 && args[1]->type == TANDEM_FEEL_STRING && args[1]->u.str.len == 1
                     ? args[1]->u.str.s[0]
                     : '\0';
    char point = n >= 3 && args[2]->type == TANDEM_FEEL_STRING && args[2]->u.str.len == 1
                     ? args[2]->u.str.s[0]
                     : '.';
    char buf[128];
    size_t len = 0;
    for (uint32_t i = 0; i < args[0]->u.str.len; i++) {
        if (len + 1 >= sizeof(buf)) {
            return feel_warn(e, "number: the text is too long");
        }
        if (group != '\0' && s[i] == group) {
            continue;
        }
        buf[len++] = s[i] == point ? '.' : s[i];
    }
    feel_num num;
    if (feel_num_parse(buf, len, true, &num) != 0) {
        return feel_warn(e, "number: '%.40s' is not a number", s);
    }
    return feel_number(e, num);
}

const feel_builtin feel_builtins_misc[] = {
    {"decimal", {"n", "scale"}, 2, 2, fn_decimal},
    {"floor", {"n", "scale"}, 1, 2, fn_floor},
    {"ceiling", {"n", "scale"}, 1, 2, fn_ceiling},
    {"round up", {"n", "scale"}, 1, 2, fn_round_up},
    {"round down", {"n", "scale"}, 1, 2, fn_round_down},
    {"round half up", {"n", "scale"}, 1, 2, fn_round_half_up},
    {"round half down", {"n", "scale"}, 1, 2, fn_round_half_down},
    {"abs", {"n"}, 1, 1, fn_abs},
    {"modulo", {"dividend", "divisor"}, 2, 2, fn_modulo},
    {"sqrt", {"number"}, 1, 1, fn_sqrt},
    {"log", {"number"}, 1, 1, fn_log},
    {"exp", {"number"}, 1, 1, fn_exp},
    {"random number", {NULL}, 0, 0, fn_random_number},
    {"odd", {"number"}, 1, 1, fn_odd},
    {"even", {"number"}, 1, 1, fn_even},
    {"not", {"negand"}, 1, 1, fn_not},
    {"is defined", {"value"}, 1, 1, fn_is_defined},
    {"get or else", {"value", "default"}, 2, 2, fn_get_or_else},
    {"assert", {"value", "condition", "cause"}, 2, 3, fn_assert},
    {"get value", {"context", "key"}, 2, 2, fn_get_value},
    {"get entries", {"context"}, 1, 1, fn_get_entries},
    {"context put", {"context", "key", "value"}, 3, 3, fn_context_put},
    {"context merge", {"contexts"}, 1, 255, fn_context_merge},
    {"context", {"entries"}, 1, 1, fn_context},
    {"string", {"from"}, 1, 1, fn_string},
    {"number", {"from", "grouping separator", "decimal separator"}, 1, 3, fn_number},
    {NULL, {NULL}, 0, 0, NULL},
};
