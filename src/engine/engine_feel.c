/*
 * FEEL in the engine: the expressions of a process compiled once (at
 * deployment to check them, and with the cached model to run them), and
 * their evaluation at run time: job type and retries when a job is created,
 * input mappings into a task's local scope on activation, output mappings
 * into the parent scope on completion.
 *
 * Variables reach an expression as one JSON object: the scope chain from the
 * element up to the process instance, inner scopes shadowing outer ones.
 * A failed evaluation is no error of the engine but an incident on the
 * element, as in Zeebe: IO_MAPPING_ERROR for mappings, EXTRACT_VALUE_ERROR for
 * the job type and retries; its message names the expression and the
 * problem. Time comes from the command's timestamp and random numbers from a
 * source seeded by the command's position, so a replay computes the same.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/rand.h"
#include "engine/engine_int.h"
#include "feel/feel.h"
#include "protocol/key.h"

/* Bytes of an incident message (the expression and the warnings are cut). */
#define MESSAGE_BYTES_MAX 1024u
/* Bytes of an expression quoted in a message. */
#define QUOTE_BYTES_MAX 200
/* Levels of a mapping result searched for NUL characters. */
#define TARGET_NUL_DEPTH_MAX 64u

/* Compiled expressions of one element; NULL where the text is static. */
typedef struct task_exprs {
    tandem_feel_expr *type;
    tandem_feel_expr *retries;
    tandem_feel_expr **inputs; /* input_count entries */
    tandem_feel_expr **outputs;
    uint32_t input_count;
    uint32_t output_count;
} task_exprs;

struct engine_exprs {
    task_exprs *elements; /* one per element of the process */
    uint32_t count;
};

static void free_list(tandem_feel_expr **a, uint32_t n)
{
    TANDEM_ASSERT(a != NULL || n == 0);
    TANDEM_ASSERT(n <= TANDEM_BPMN_TASK_ENTRIES_MAX);
    for (uint32_t i = 0; i < n; i++) {
        tandem_feel_expr_free(a[i]);
    }
    free(a);
}

void engine_exprs_free(engine_exprs *x)
{
    if (x == NULL) {
        return;
    }
    TANDEM_ASSERT(x->elements != NULL);
    for (uint32_t i = 0; i < x->count; i++) {
        task_exprs *t = &x->elements[i];
        tandem_feel_expr_free(t->type);
        tandem_feel_expr_free(t->retries);
        free_list(t->inputs, t->inputs != NULL ? t->input_count : 0);
        free_list(t->outputs, t->outputs != NULL ? t->output_count : 0);
    }
    free(x->elements);
    free(x);
}

/* Compiles `text` when it is an expression ("=..."); *out stays NULL for a
 * static text. On a syntax error a message naming element and expression. */
static int compile_one(const tandem_bpmn_element *el, const char *what, const char *text,
                       tandem_feel_expr **out, char *err, size_t err_len)
{
    TANDEM_ASSERT(el != NULL && what != NULL && out != NULL);
    TANDEM_ASSERT(err != NULL && err_len > 0);
    *out = NULL;
    if (text == NULL || text[0] != '=') {
        return 0;
    }
    tandem_diag d = {0};
    int rc = tandem_feel_compile(text + 1, strlen(text + 1), NULL, out, &d);
    if (rc == TANDEM_ENOMEM) {
        snprintf(err, err_len, "out of memory compiling expressions");
        return rc;
    }
    if (rc != 0) {
        /* quoted without its '=', as the run-time messages quote it */
        snprintf(err, err_len, "%u: element '%s': the %s expression '%.*s' is not valid: %s",
                 el->line, el->id, what, QUOTE_BYTES_MAX, text + 1, tandem_diag_text(&d));
        return TANDEM_EINVAL;
    }
    return 0;
}

static int compile_mappings(const tandem_bpmn_element *el, const char *what,
                            const tandem_bpmn_mapping *m, uint32_t n, tandem_feel_expr ***out,
                            char *err, size_t err_len)
{
    TANDEM_ASSERT(el != NULL && out != NULL);
    TANDEM_ASSERT(m != NULL || n == 0);
    *out = NULL;
    if (n == 0) {
        return 0;
    }
    tandem_feel_expr **a = calloc(n, sizeof(*a));
    if (a == NULL) {
        snprintf(err, err_len, "out of memory compiling expressions");
        return TANDEM_ENOMEM;
    }
    *out = a;
    for (uint32_t i = 0; i < n; i++) {
        int rc = compile_one(el, what, m[i].source, &a[i], err, err_len);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int engine_exprs_compile(const tandem_bpmn_process *p, engine_exprs **out, char *err,
                         size_t err_len)
{
    TANDEM_ASSERT(p != NULL && out != NULL);
    TANDEM_ASSERT(err != NULL && err_len > 0);
    *out = NULL;
    engine_exprs *x = calloc(1, sizeof(*x));
    task_exprs *els = calloc(p->element_count > 0 ? p->element_count : 1, sizeof(*els));
    if (x == NULL || els == NULL) {
        free(x);
        free(els);
        snprintf(err, err_len, "out of memory compiling expressions");
        return TANDEM_ENOMEM;
    }
    x->elements = els;
    x->count = p->element_count;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < p->element_count; i++) {
        const tandem_bpmn_element *el = &p->elements[i];
        const tandem_bpmn_task *task = el->task;
        if (task == NULL) {
            continue;
        }
        els[i].input_count = task->input_count;
        els[i].output_count = task->output_count;
        rc = compile_one(el, "job type", task->type, &els[i].type, err, err_len);
        rc = rc != 0 ? rc
                     : compile_one(el, "job retries", task->retries, &els[i].retries, err, err_len);
        rc = rc != 0 ? rc
                     : compile_mappings(el, "input mapping", task->inputs, task->input_count,
                                        &els[i].inputs, err, err_len);
        rc = rc != 0 ? rc
                     : compile_mappings(el, "output mapping", task->outputs, task->output_count,
                                        &els[i].outputs, err, err_len);
    }
    if (rc != 0) {
        engine_exprs_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

/* ---- Evaluation --------------------------------------------------------- */

static const char *feel_type_name(tandem_feel_type t)
{
    static const char *const names[] = {
        "NULL",
        "BOOLEAN",
        "NUMBER",
        "STRING",
        "LIST",
        "CONTEXT",
        "RANGE",
        "FUNCTION",
        "DATE",
        "TIME",
        "DATE_TIME",
        "DAYS_TIME_DURATION",
        "YEARS_MONTHS_DURATION",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == TANDEM_FEEL_YEARS_MONTHS_DURATION + 1,
                   "one name per FEEL type");
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "UNKNOWN";
}

/* One evaluation with its inputs; `msg` receives the problem on failure.
 * A result may point into the variables it was evaluated over (a variable's
 * value returned as it is), so `vars` lives until the result has been read:
 * the caller frees it with tandem_feel_vars_free. */
typedef struct eval_job {
    engine_ctx *ctx;
    const char *source; /* with the leading '=' */
    tandem_feel_vars *vars;
    char msg[MESSAGE_BYTES_MAX];
} eval_job;

/* Evaluates `expr` over the variables `vars_json` (a JSON object). Returns 0
 * with the result, 1 when the evaluation failed (ej->msg says why), or an
 * engine error. */
static int evaluate(eval_job *ej, const tandem_feel_expr *expr, const char *vars_json,
                    tandem_feel_result *r)
{
    TANDEM_ASSERT(ej != NULL && expr != NULL && r != NULL);
    TANDEM_ASSERT(vars_json != NULL && ej->source != NULL);
    TANDEM_ASSERT(ej->vars == NULL);
    tandem_diag d = {0};
    tandem_feel_vars *vars = NULL;
    int rc = tandem_feel_vars_from_json(vars_json, strlen(vars_json), &vars, &d);
    if (rc == TANDEM_ENOMEM) {
        return tandem_diag_set(ej->ctx->diag, rc, "engine: out of memory for FEEL variables");
    }
    if (rc != 0) {
        snprintf(ej->msg, sizeof(ej->msg),
                 "failed to evaluate expression '%.*s': the variables could not be read: %s",
                 QUOTE_BYTES_MAX, ej->source + 1, tandem_diag_text(&d));
        return 1;
    }
    /* Seeded by the command, so a replay or another replica draws the same. */
    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, ej->ctx->command->position);
    tandem_feel_eval_opts opts = {
        .vars = vars, .now_ms = (int64_t)ej->ctx->command->timestamp_ms, .rand = &rnd.base};
    d = (tandem_diag){0};
    rc = tandem_feel_eval(expr, &opts, r, &d);
    ej->vars = vars;
    if (rc == TANDEM_ENOMEM) {
        return tandem_diag_set(ej->ctx->diag, rc, "engine: out of memory evaluating FEEL");
    }
    if (rc != 0) {
        snprintf(ej->msg, sizeof(ej->msg), "failed to evaluate expression '%.*s': %s",
                 QUOTE_BYTES_MAX, ej->source + 1, tandem_diag_text(&d));
        return 1;
    }
    return 0;
}

/* "Expected result of the expression 'x' to be 'STRING', but was 'NULL'."
 * with the warnings that explain it, as Zeebe words it. */
static void wrong_type(eval_job *ej, const char *want, const tandem_feel_result *r)
{
    TANDEM_ASSERT(ej != NULL && want != NULL && r != NULL);
    TANDEM_ASSERT(r->warning_count <= TANDEM_FEEL_WARNINGS_MAX);
    int n = snprintf(ej->msg, sizeof(ej->msg),
                     "Expected result of the expression '%.*s' to be '%s', but was '%s'.",
                     QUOTE_BYTES_MAX, ej->source + 1, want, feel_type_name(r->type));
    size_t len = n > 0 ? (size_t)n : 0;
    if (r->warning_count > 0 && len < sizeof(ej->msg)) {
        n = snprintf(ej->msg + len, sizeof(ej->msg) - len,
                     " The evaluation reported the following warnings:");
        len += n > 0 ? (size_t)n : 0;
    }
    for (uint32_t i = 0; i < r->warning_count && len < sizeof(ej->msg); i++) {
        n = snprintf(ej->msg + len, sizeof(ej->msg) - len, "\n%s", r->warnings[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* The result as a jansson value (*out a new reference): 0, TANDEM_ENOMEM,
 * or TANDEM_ERANGE for a value JSON cannot carry (a number beyond a double's
 * range), which the caller reports as a failed evaluation. A NUL inside a
 * string is kept (JSON_ALLOW_NUL) so that the caller can name it. */
static int result_json(const tandem_feel_result *r, json_t **out)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    tandem_buf b = TANDEM_BUF_INIT;
    *out = NULL;
    if (tandem_feel_result_json(r, &b) != 0) {
        tandem_buf_free(&b);
        return TANDEM_ENOMEM;
    }
    *out = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (*out == NULL) {
        /* a whole number beyond int64: as a double, like a JSON reader */
        *out = json_loadb((const char *)b.data, b.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    }
    tandem_buf_free(&b);
    TANDEM_ASSERT(r->type != TANDEM_FEEL_CONTEXT || *out == NULL || json_is_object(*out));
    return *out != NULL ? 0 : TANDEM_ERANGE;
}

/* Whether a string anywhere in `j` (a value or a name) holds a NUL, which a
 * variable cannot: the variable documents are read without JSON_ALLOW_NUL.
 * Deeper than `depth` levels counts as holding one, so the walk is bounded. */
static bool json_has_nul(const json_t *j, uint32_t depth)
{
    TANDEM_ASSERT(j != NULL);
    TANDEM_ASSERT(depth <= TARGET_NUL_DEPTH_MAX);
    if (json_is_string(j)) {
        return memchr(json_string_value(j), 0, json_string_length(j)) != NULL;
    }
    if (!json_is_array(j) && !json_is_object(j)) {
        return false;
    }
    if (depth == TARGET_NUL_DEPTH_MAX) {
        return true;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(j, i, item)
    {
        if (json_has_nul(item, depth + 1)) {
            return true;
        }
    }
    const char *name;
    size_t name_len;
    json_t *value;
    json_object_keylen_foreach((json_t *)j, name, name_len, value)
    {
        if (memchr(name, 0, name_len) != NULL || json_has_nul(value, depth + 1)) {
            return true;
        }
    }
    return false;
}

/* Why a mapping result cannot be a variable, worded by its type: a number
 * JSON cannot carry, or a value holding a NUL character. */
static void not_a_variable(char *msg, size_t msg_len, const char *source,
                           const tandem_feel_result *r)
{
    TANDEM_ASSERT(msg != NULL && msg_len > 0);
    TANDEM_ASSERT(source != NULL && r != NULL);
    if (r->type == TANDEM_FEEL_NUMBER) {
        snprintf(msg, msg_len,
                 "failed to evaluate expression '%.*s': the result is a number out of range "
                 "for a variable",
                 QUOTE_BYTES_MAX, source + 1);
    } else {
        snprintf(msg, msg_len,
                 "failed to evaluate expression '%.*s': the result is a %s holding a NUL "
                 "character, which a variable cannot hold",
                 QUOTE_BYTES_MAX, source + 1, feel_type_name(r->type));
    }
}

int engine_raise_incident(engine_ctx *ctx, uint32_t error_type, const char *message,
                          uint64_t element_key, const tandem_process_instance_value *v)
{
    TANDEM_ASSERT(ctx != NULL && message != NULL && v != NULL);
    TANDEM_ASSERT(element_key != TANDEM_KEY_NONE);
    tandem_incident_value inc;
    tandem_incident_value_init(&inc);
    inc.error_type = error_type;
    inc.error_message = tandem_sv_of(message);
    inc.bpmn_process_id = v->bpmn_process_id;
    inc.process_definition_key = v->process_definition_key;
    inc.process_instance_key = v->process_instance_key;
    inc.element_id = v->element_id;
    inc.element_instance_key = element_key;
    inc.variable_scope_key = element_key;
    inc.tenant_id = v->tenant_id;
    return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_INCIDENT,
                       TANDEM_INTENT_INCIDENT_CREATED, engine_key_new(ctx), ENGINE_ENC(incident),
                       &inc, false);
}

/* Levels of a dotted mapping target ("a.b.c" has 3); deeper targets are
 * taken as one name, which the variable checks then refuse. */
#define TARGET_DEPTH_MAX 16u

/* Sets `value` at `target` of `obj`; a dotted target ("a.b") makes nested
 * objects, merging into one that is already there. Steals `value`. Returns
 * 0, or -1 on out of memory. */
static int set_target(json_t *obj, const char *target, json_t *value, uint32_t depth)
{
    TANDEM_ASSERT(obj != NULL && target != NULL && value != NULL);
    TANDEM_ASSERT(json_is_object(obj) && depth <= TARGET_DEPTH_MAX);
    const char *dot = strchr(target, '.');
    char head[TANDEM_KV_KEY_MAX_BYTES];
    size_t n = dot != NULL ? (size_t)(dot - target) : 0;
    if (dot == NULL || n == 0 || dot[1] == 0 || n >= sizeof(head) || depth == TARGET_DEPTH_MAX) {
        return json_object_set_new(obj, target, value);
    }
    memcpy(head, target, n);
    head[n] = 0;
    json_t *inner = json_object_get(obj, head);
    if (inner == NULL || !json_is_object(inner)) {
        inner = json_object();
        if (inner == NULL || json_object_set_new(obj, head, inner) != 0) {
            json_decref(value);
            return -1;
        }
    }
    return set_target(inner, dot + 1, value, depth + 1);
}

/* Evaluates mappings in order, each seeing the variables `visible` and the
 * targets of the ones before it. On success *result holds the targets. */
static int run_mappings(engine_ctx *ctx, const tandem_bpmn_mapping *m, tandem_feel_expr *const *x,
                        uint32_t n, json_t *visible, json_t *result, char *msg, size_t msg_len,
                        bool *failed)
{
    TANDEM_ASSERT(ctx != NULL && visible != NULL && result != NULL && failed != NULL);
    TANDEM_ASSERT((m != NULL && x != NULL) || n == 0);
    *failed = false;
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        json_t *value = NULL;
        if (x[i] == NULL) {
            /* a static source is a string; none at all is null */
            value = m[i].source[0] == 0 ? json_null() : json_string(m[i].source);
        } else {
            eval_job ej = {.ctx = ctx, .source = m[i].source};
            char *vars = json_dumps(visible, JSON_COMPACT);
            rc = vars == NULL ? tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory")
                              : evaluate(&ej, x[i], vars, &r);
            free(vars);
            if (rc == 1) {
                tandem_feel_vars_free(ej.vars);
                snprintf(msg, msg_len, "%s", ej.msg);
                *failed = true;
                rc = 0;
                break;
            }
            int jrc = rc == 0 ? result_json(&r, &value) : 0;
            tandem_feel_vars_free(ej.vars);
            if (jrc == TANDEM_ERANGE || (jrc == 0 && value != NULL && json_has_nul(value, 0))) {
                json_decref(value);
                not_a_variable(msg, msg_len, m[i].source, &r);
                *failed = true;
                break;
            }
        }
        if (rc != 0) {
            break;
        }
        json_t *copy = value != NULL ? json_deep_copy(value) : NULL;
        if (value == NULL || copy == NULL) {
            json_decref(value);
            json_decref(copy);
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for mappings");
            break;
        }
        /* both calls take their value, whatever they return */
        int set_rc = set_target(result, m[i].target, value, 1);
        set_rc |= set_target(visible, m[i].target, copy, 1);
        if (set_rc != 0) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for mappings");
        }
    }
    tandem_feel_result_free(&r);
    return rc;
}

/* The variables visible from a scope as a jansson object (new reference). */
static int visible_json(engine_ctx *ctx, uint64_t scope_key, json_t **out)
{
    TANDEM_ASSERT(ctx != NULL && out != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    tandem_sv doc;
    int rc = engine_variables_visible(ctx, scope_key, (tandem_sv){"", 0}, &doc);
    if (rc != 0) {
        return rc;
    }
    *out = json_loadb(doc.ptr, doc.len, 0, NULL);
    if (*out == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                               "engine: the variables of scope %llu do not read back as JSON",
                               (unsigned long long)scope_key);
    }
    return 0;
}

/* Stores what mappings produced: into the element's own scope (inputs) or
 * merged from its flow scope (outputs). A result that cannot be a variable
 * document (a name too long, nesting too deep) is an incident, not an error:
 * it comes from the model and the data. */
static int store_mapped(engine_ctx *ctx, const json_t *doc, uint64_t element_key,
                        const tandem_process_instance_value *v, bool output)
{
    TANDEM_ASSERT(ctx != NULL && doc != NULL && v != NULL);
    TANDEM_ASSERT(json_is_object(doc));
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for mappings");
    }
    char reason[256];
    int rc;
    if (!engine_json_is_object(tandem_sv_of(text), reason, sizeof(reason))) {
        char msg[MESSAGE_BYTES_MAX];
        snprintf(msg, sizeof(msg), "the %s mappings of element '%.*s' give no valid variables: %s",
                 output ? "output" : "input", (int)v->element_id.len, v->element_id.ptr, reason);
        rc = engine_raise_incident(ctx, TANDEM_INCIDENT_IO_MAPPING_ERROR, msg, element_key, v);
    } else if (output) {
        rc = engine_json_merge_variables(ctx, tandem_sv_of(text), v->flow_scope_key, false);
    } else {
        rc =
            engine_json_set_variables(ctx, tandem_sv_of(text), element_key, v->process_instance_key,
                                      v->process_definition_key, v->bpmn_process_id, v->tenant_id);
    }
    free(text);
    return rc;
}

static const task_exprs *exprs_of(const engine_def *def, uint32_t index)
{
    TANDEM_ASSERT(def != NULL && def->exprs != NULL);
    TANDEM_ASSERT(index < def->exprs->count);
    return &def->exprs->elements[index];
}

int engine_input_mappings(engine_ctx *ctx, const engine_def *def, uint32_t index,
                          uint64_t element_key, const tandem_process_instance_value *v,
                          bool *incident)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && v != NULL && incident != NULL);
    TANDEM_ASSERT(index < def->process->element_count);
    *incident = false;
    const tandem_bpmn_task *task = def->process->elements[index].task;
    if (task == NULL || task->input_count == 0) {
        return 0;
    }
    json_t *visible = NULL;
    int rc = visible_json(ctx, v->flow_scope_key, &visible);
    if (rc != 0) {
        return rc;
    }
    json_t *locals = json_object();
    char msg[MESSAGE_BYTES_MAX];
    rc = locals == NULL
             ? tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory")
             : run_mappings(ctx, task->inputs, exprs_of(def, index)->inputs, task->input_count,
                            visible, locals, msg, sizeof(msg), incident);
    if (rc == 0 && *incident) {
        rc = engine_raise_incident(ctx, TANDEM_INCIDENT_IO_MAPPING_ERROR, msg, element_key, v);
    } else if (rc == 0) {
        rc = store_mapped(ctx, locals, element_key, v, false);
    }
    json_decref(locals);
    json_decref(visible);
    return rc;
}

int engine_output_mappings(engine_ctx *ctx, const engine_def *def, uint32_t index,
                           uint64_t element_key, const tandem_process_instance_value *v,
                           bool *incident)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && v != NULL && incident != NULL);
    TANDEM_ASSERT(index < def->process->element_count);
    *incident = false;
    const tandem_bpmn_task *task = def->process->elements[index].task;
    if (task == NULL || task->output_count == 0) {
        return 0;
    }
    json_t *visible = NULL;
    int rc = visible_json(ctx, element_key, &visible);
    if (rc != 0) {
        return rc;
    }
    json_t *outs = json_object();
    char msg[MESSAGE_BYTES_MAX];
    rc = outs == NULL ? tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory")
                      : run_mappings(ctx, task->outputs, exprs_of(def, index)->outputs,
                                     task->output_count, visible, outs, msg, sizeof(msg), incident);
    if (rc == 0 && *incident) {
        rc = engine_raise_incident(ctx, TANDEM_INCIDENT_IO_MAPPING_ERROR, msg, element_key, v);
    } else if (rc == 0) {
        rc = store_mapped(ctx, outs, element_key, v, true);
    }
    json_decref(outs);
    json_decref(visible);
    return rc;
}

/* Evaluates one job property expression over the element's variables. */
static int job_property(engine_ctx *ctx, const tandem_feel_expr *x, const char *source,
                        uint64_t element_key, tandem_feel_type want, tandem_feel_result *r,
                        eval_job *ej, bool *failed)
{
    TANDEM_ASSERT(ctx != NULL && x != NULL && source != NULL && r != NULL);
    TANDEM_ASSERT(ej != NULL && failed != NULL);
    *ej = (eval_job){.ctx = ctx, .source = source};
    tandem_sv vars;
    int rc = engine_variables_visible(ctx, element_key, (tandem_sv){"", 0}, &vars);
    if (rc != 0) {
        return rc;
    }
    char *text = malloc(vars.len + 1);
    if (text == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    memcpy(text, vars.ptr, vars.len);
    text[vars.len] = 0;
    rc = evaluate(ej, x, text, r);
    free(text);
    if (rc == 1) {
        *failed = true;
        return 0;
    }
    if (rc == 0 && r->type != want) {
        wrong_type(ej, feel_type_name(want), r);
        *failed = true;
    }
    return rc;
}

/* The job type from its expression: a non-empty string without NUL that
 * fits an activation's type (*type copied to the arena). */
static int job_type_of(engine_ctx *ctx, const tandem_feel_expr *x, const char *source,
                       uint64_t element_key, tandem_feel_result *r, eval_job *ej, tandem_sv *type,
                       bool *incident)
{
    TANDEM_ASSERT(ctx != NULL && x != NULL && source != NULL && ej != NULL);
    TANDEM_ASSERT(type != NULL && incident != NULL);
    int rc = job_property(ctx, x, source, element_key, TANDEM_FEEL_STRING, r, ej, incident);
    json_t *s = NULL;
    if (rc == 0 && !*incident) {
        int jrc = result_json(r, &s);
        /* job_property checked the type: a FEEL string reads back as one */
        TANDEM_ASSERT(jrc != 0 || json_is_string(s));
        size_t len = jrc == 0 ? json_string_length(s) : 0;
        if (jrc == TANDEM_ENOMEM) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
        } else if (jrc != 0) {
            snprintf(ej->msg, sizeof(ej->msg),
                     "Expected result of the expression '%.*s' to be a job type, but the string "
                     "could not be read",
                     QUOTE_BYTES_MAX, source + 1);
            *incident = true;
        } else if (len == 0 || len > TANDEM_BPMN_ID_LEN_MAX * 4 ||
                   memchr(json_string_value(s), 0, len) != NULL) {
            snprintf(ej->msg, sizeof(ej->msg),
                     "Expected result of the expression '%.*s' to be a job type of 1 to %u bytes "
                     "without NUL characters, but it has %zu bytes",
                     QUOTE_BYTES_MAX, source + 1, TANDEM_BPMN_ID_LEN_MAX * 4, len);
            *incident = true;
        } else if (engine_arena_dup(&ctx->engine->arena, json_string_value(s), len, type) != 0) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
        }
    }
    json_decref(s);
    tandem_feel_vars_free(ej->vars);
    ej->vars = NULL;
    return rc;
}

/* The job retries from their expression: a whole number from 1. */
static int job_retries_of(engine_ctx *ctx, const tandem_feel_expr *x, const char *source,
                          uint64_t element_key, tandem_feel_result *r, eval_job *ej,
                          int32_t *retries, bool *incident)
{
    TANDEM_ASSERT(ctx != NULL && x != NULL && source != NULL && ej != NULL);
    TANDEM_ASSERT(retries != NULL && incident != NULL);
    int rc = job_property(ctx, x, source, element_key, TANDEM_FEEL_NUMBER, r, ej, incident);
    tandem_buf b = TANDEM_BUF_INIT;
    if (rc == 0 && !*incident) {
        rc = tandem_feel_result_json(r, &b) == 0 && tandem_buf_put_u8(&b, 0) == 0
                 ? 0
                 : tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    if (rc == 0 && !*incident) {
        char *end = NULL;
        long long n = strtoll((const char *)b.data, &end, 10);
        if (end == NULL || *end != 0 || n < 1 || n > INT32_MAX) {
            snprintf(ej->msg, sizeof(ej->msg),
                     "Expected result of the expression '%.*s' to be a whole number of retries "
                     "from 1 to %d, but was %.40s",
                     QUOTE_BYTES_MAX, source + 1, INT32_MAX, (const char *)b.data);
            *incident = true;
        } else {
            *retries = (int32_t)n;
        }
    }
    tandem_buf_free(&b);
    tandem_feel_vars_free(ej->vars);
    ej->vars = NULL;
    return rc;
}

int engine_job_properties(engine_ctx *ctx, const engine_def *def, uint32_t index,
                          uint64_t element_key, const tandem_process_instance_value *v,
                          tandem_sv *type, int32_t *retries, bool *incident)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && v != NULL && incident != NULL);
    TANDEM_ASSERT(type != NULL && retries != NULL);
    const tandem_bpmn_task *task = def->process->elements[index].task;
    TANDEM_ASSERT(task != NULL);
    const task_exprs *x = exprs_of(def, index);
    *incident = false;
    *type = tandem_sv_of(task->type);
    uint32_t count =
        task->retries_is_expression ? TANDEM_BPMN_RETRIES_DEFAULT : task->retries_count;
    /* a static 0 would make a job nobody can activate: it counts as 1 */
    *retries = count == 0 ? 1 : (int32_t)(count > INT32_MAX ? INT32_MAX : count);
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    eval_job ej = {.ctx = ctx, .source = task->type, .vars = NULL};
    int rc = 0;
    if (x->type != NULL) {
        rc = job_type_of(ctx, x->type, task->type, element_key, &r, &ej, type, incident);
    }
    if (rc == 0 && !*incident && x->retries != NULL) {
        rc =
            job_retries_of(ctx, x->retries, task->retries, element_key, &r, &ej, retries, incident);
    }
    tandem_feel_result_free(&r);
    if (rc == 0 && *incident) {
        rc =
            engine_raise_incident(ctx, TANDEM_INCIDENT_EXTRACT_VALUE_ERROR, ej.msg, element_key, v);
    }
    return rc;
}
