/*
 * api.c — the public evaluation API: variables from JSON, results, and
 * tandem_feel_eval around the evaluator.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

struct tandem_feel_vars {
    feel_arena arena;
    const feel_value *ctx; /* a context */
};

typedef struct result_priv {
    feel_arena arena;
    const feel_value *value;
} result_priv;

int tandem_feel_vars_from_json(const char *json, size_t len, tandem_feel_vars **out,
                               tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(json != NULL || len == 0);
    *out = NULL;
    tandem_feel_vars *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory reading variables");
    }
    feel_arena_init(&v->arena, 0);
    int rc = feel_value_from_json(json, len, &v->arena, &v->ctx, diag);
    if (rc == 0 && v->ctx->type != TANDEM_FEEL_CONTEXT) {
        rc = tandem_diag_set(diag, TANDEM_EINVAL, "variables must be a JSON object, not %s",
                             feel_type_name(v->ctx->type));
    }
    if (rc != 0) {
        feel_arena_free(&v->arena);
        free(v);
        return rc;
    }
    *out = v;
    TANDEM_ASSERT(v->ctx != NULL);
    return 0;
}

void tandem_feel_vars_free(tandem_feel_vars *vars)
{
    if (vars == NULL) {
        return;
    }
    TANDEM_ASSERT(vars->ctx != NULL);
    feel_arena_free(&vars->arena);
    free(vars);
}

void tandem_feel_result_init(tandem_feel_result *r)
{
    TANDEM_ASSERT(r != NULL);
    memset(r, 0, sizeof(*r));
    TANDEM_ASSERT(r->type == TANDEM_FEEL_NULL);
}

void tandem_feel_result_free(tandem_feel_result *r)
{
    TANDEM_ASSERT(r != NULL);
    result_priv *p = r->priv_;
    if (p != NULL) {
        feel_arena_free(&p->arena);
        free(p);
    }
    memset(r, 0, sizeof(*r));
}

static tandem_feel_eval_limits limits_or_defaults(const tandem_feel_eval_limits *in)
{
    tandem_feel_eval_limits l = {0};
    if (in != NULL) {
        l = *in;
    }
    l.steps_max = l.steps_max != 0 ? l.steps_max : TANDEM_FEEL_STEPS_MAX_DEFAULT;
    l.iterations_max =
        l.iterations_max != 0 ? l.iterations_max : TANDEM_FEEL_ITERATIONS_MAX_DEFAULT;
    l.string_bytes_max =
        l.string_bytes_max != 0 ? l.string_bytes_max : TANDEM_FEEL_STRING_BYTES_MAX_DEFAULT;
    l.list_items_max =
        l.list_items_max != 0 ? l.list_items_max : TANDEM_FEEL_LIST_ITEMS_MAX_DEFAULT;
    l.memory_bytes_max =
        l.memory_bytes_max != 0 ? l.memory_bytes_max : TANDEM_FEEL_MEMORY_BYTES_MAX_DEFAULT;
    l.call_depth_max =
        l.call_depth_max != 0 ? l.call_depth_max : TANDEM_FEEL_CALL_DEPTH_MAX_DEFAULT;
    TANDEM_ASSERT(l.steps_max > 0 && l.call_depth_max > 0);
    return l;
}

int tandem_feel_eval(const tandem_feel_expr *expr, const tandem_feel_eval_opts *opts,
                     tandem_feel_result *result, tandem_diag *diag)
{
    TANDEM_ASSERT(expr != NULL && expr->root != NULL);
    TANDEM_ASSERT(result != NULL);
    result_priv *p = result->priv_;
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
            return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory evaluating");
        }
        result->priv_ = p;
    } else {
        feel_arena_reset(&p->arena);
    }
    feel_eval e = {0};
    e.lim = limits_or_defaults(opts != NULL ? &opts->limits : NULL);
    p->arena.bytes_max = e.lim.memory_bytes_max;
    p->value = &feel_null;
    result->type = TANDEM_FEEL_NULL;
    result->warning_count = 0;
    e.arena = &p->arena;
    e.src = expr->src;
    e.src_len = expr->src_len;
    e.now_ms = opts != NULL ? opts->now_ms : 0;
    e.rand = opts != NULL ? opts->rand : NULL;
    e.zones = opts != NULL ? opts->zones : NULL;
    e.diag = diag;
    e.result = result;
    feel_scope globals = {NULL, NULL, NULL, NULL};
    const feel_scope *scope = NULL;
    if (opts != NULL && opts->vars != NULL) {
        globals.ctx = opts->vars->ctx;
        scope = &globals;
    }
    const feel_value *v = feel_eval_node(&e, expr->root, scope);
    if (v == NULL) {
        TANDEM_ASSERT(e.error != 0);
        result->warning_count = 0;
        return e.error;
    }
    p->value = v;
    result->type = (tandem_feel_type)v->type;
    return 0;
}

bool tandem_feel_result_is_true(const tandem_feel_result *result)
{
    TANDEM_ASSERT(result != NULL);
    const result_priv *p = result->priv_;
    return p != NULL && p->value != NULL && p->value->type == TANDEM_FEEL_BOOLEAN && p->value->u.b;
}

int tandem_feel_result_json(const tandem_feel_result *result, tandem_buf *out)
{
    TANDEM_ASSERT(result != NULL && out != NULL);
    const result_priv *p = result->priv_;
    return feel_value_json(p != NULL && p->value != NULL ? p->value : &feel_null, out);
}
