/*
 * Process instances: creation, the element lifecycle, and cancellation.
 *
 * Element lifecycle as Zeebe writes it (reference §3.3): the process and each
 * element go ELEMENT_ACTIVATING -> ELEMENT_ACTIVATED -> ELEMENT_COMPLETING ->
 * ELEMENT_COMPLETED; events (start, end) pass straight through, a service
 * task stops at ACTIVATED with a job and continues with a COMPLETE_ELEMENT
 * follow-up when the job completes. Taking a sequence flow writes
 * SEQUENCE_FLOW_TAKEN and activates the target. The process completes when
 * no element of it is active and no token is on its way.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

/* Nesting of element activations within one command (each step of a chain
 * of pass-through events is one level). */
#define ACTIVATION_DEPTH_MAX 64u

static void element_value(const engine_def *def, uint64_t pi_key, const char *element_id,
                          uint64_t scope_key, uint32_t type, tandem_process_instance_value *v)
{
    TANDEM_ASSERT(def != NULL && element_id != NULL && v != NULL);
    TANDEM_ASSERT(pi_key != TANDEM_KEY_NONE);
    tandem_process_instance_value_init(v);
    v->bpmn_process_id = def->bpmn_process_id;
    v->version = def->version;
    v->process_definition_key = def->key;
    v->process_instance_key = pi_key;
    v->element_id = tandem_sv_of(element_id);
    v->flow_scope_key = scope_key;
    v->bpmn_element_type = type;
    v->tenant_id = def->tenant_id;
}

static uint32_t element_type(enum tandem_bpmn_type t)
{
    switch (t) {
    case TANDEM_BPMN_START_EVENT:
        return TANDEM_ELEMENT_START_EVENT;
    case TANDEM_BPMN_SERVICE_TASK:
        return TANDEM_ELEMENT_SERVICE_TASK;
    case TANDEM_BPMN_END_EVENT:
        return TANDEM_ELEMENT_END_EVENT;
    }
    return TANDEM_ELEMENT_UNSPECIFIED;
}

static int emit_pi(engine_ctx *ctx, uint16_t intent, uint64_t key,
                   const tandem_process_instance_value *v, bool answer)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS_INSTANCE, intent, key,
                       ENGINE_ENC(process_instance), v, answer);
}

/* ---- Completion of the process --------------------------------------- */

static int complete_process(engine_ctx *ctx, uint64_t pi_key)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(pi_key != TANDEM_KEY_NONE);
    engine_element proc;
    int rc = engine_element_get(ctx->engine, ctx->txn, pi_key, &proc, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    TANDEM_ASSERT(proc.child_count == 0);
    rc =
        emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING, pi_key, &proc.value, false);
    if (rc != 0) {
        return rc;
    }
    /* The result is read before COMPLETED: its applier drops the variables
     * and the waiting client's registration. */
    engine_await await;
    rc = engine_await_get(ctx->engine, ctx->txn, pi_key, &await, ctx->diag);
    bool awaited = rc == 0 && await.request_id != TANDEM_NONE;
    tandem_process_instance_result_value result;
    tandem_process_instance_result_value_init(&result);
    if (rc == 0) {
        rc = engine_variables_document(ctx->engine, ctx->txn, pi_key, await.fetch_variables,
                                       &result.variables, ctx->diag);
    } else if (rc == TANDEM_ENOENT) {
        rc = 0;
    }
    if (rc == 0) {
        rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED, pi_key, &proc.value,
                     false);
    }
    if (rc != 0 || !awaited) {
        return rc;
    }
    result.bpmn_process_id = proc.value.bpmn_process_id;
    result.version = proc.value.version;
    result.process_definition_key = proc.value.process_definition_key;
    result.process_instance_key = pi_key;
    result.tenant_id = proc.value.tenant_id;
    return engine_add_result(ctx, await.request_stream_id, await.request_id, pi_key, &result);
}

/* ---- Activation and flows -------------------------------------------- */

static int activate_element(engine_ctx *ctx, const engine_def *def, uint64_t pi_key, uint32_t index,
                            uint32_t *pending);

/* After element `index` completed: take its outgoing flows, or complete the
 * process when nothing of it is left. `pending` counts flows taken whose
 * target is not active yet, so a branch that ends first does not complete
 * the process while a sibling is still on its way. */
static int continue_after(engine_ctx *ctx, const engine_def *def, uint64_t pi_key, uint32_t index,
                          uint32_t *pending)
{
    TANDEM_ASSERT(def != NULL && def->process != NULL && pending != NULL);
    TANDEM_ASSERT(index < def->process->element_count);
    const tandem_bpmn_process *proc = def->process;
    uint32_t out_count = 0;
    const uint32_t *outgoing = tandem_bpmn_outgoing(proc, index, &out_count);
    *pending += out_count;
    for (uint32_t i = 0; i < out_count; i++) {
        const tandem_bpmn_flow *flow = &proc->flows[outgoing[i]];
        tandem_process_instance_value v;
        element_value(def, pi_key, flow->id, pi_key, TANDEM_ELEMENT_SEQUENCE_FLOW, &v);
        int rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_SEQUENCE_FLOW_TAKEN,
                         engine_key_new(ctx), &v, false);
        TANDEM_ASSERT(*pending > 0);
        (*pending)--;
        if (rc == 0) {
            rc = activate_element(ctx, def, pi_key, flow->target, pending);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (out_count > 0 || *pending > 0) {
        return 0;
    }
    engine_element scope;
    int rc = engine_element_get(ctx->engine, ctx->txn, pi_key, &scope, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    return scope.child_count == 0 ? complete_process(ctx, pi_key) : 0;
}

/* The rest of an element's activation after ELEMENT_ACTIVATING: a service
 * task applies its input mappings and creates its job (stopping at an
 * incident, to go on when it is resolved); events pass straight through. */
static int activate_rest(engine_ctx *ctx, const engine_def *def, uint64_t pi_key, uint32_t index,
                         uint64_t key, const tandem_process_instance_value *v, uint32_t *pending)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && v != NULL && pending != NULL);
    TANDEM_ASSERT(index < def->process->element_count && key != TANDEM_KEY_NONE);
    const tandem_bpmn_element *el = &def->process->elements[index];
    if (el->type == TANDEM_BPMN_SERVICE_TASK) {
        TANDEM_ASSERT(el->task != NULL);
        bool incident = false;
        int rc = engine_input_mappings(ctx, def, index, key, v, &incident);
        if (rc != 0 || incident) {
            return rc;
        }
        tandem_sv type;
        int32_t retries = 0;
        rc = engine_job_properties(ctx, def, index, key, v, &type, &retries, &incident);
        if (rc != 0 || incident) {
            return rc;
        }
        rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED, key, v, false);
        return rc != 0 ? rc : engine_job_create(ctx, key, v, el->task, type, retries);
    }
    int rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED, key, v, false);
    rc = rc != 0 ? rc
                 : emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING, key, v, false);
    rc = rc != 0 ? rc
                 : emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED, key, v, false);
    return rc != 0 ? rc : continue_after(ctx, def, pi_key, index, pending);
}

static int activate_element(engine_ctx *ctx, const engine_def *def, uint64_t pi_key, uint32_t index,
                            uint32_t *pending)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && pending != NULL);
    TANDEM_ASSERT(index < def->process->element_count);
    if (++ctx->depth > ACTIVATION_DEPTH_MAX) {
        return tandem_diag_set(ctx->diag, TANDEM_ETOOBIG,
                               "engine: more than %u elements activated in a chain by one command",
                               ACTIVATION_DEPTH_MAX);
    }
    const tandem_bpmn_element *el = &def->process->elements[index];
    uint64_t key = engine_key_new(ctx);
    tandem_process_instance_value v;
    element_value(def, pi_key, el->id, pi_key, element_type(el->type), &v);
    int rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING, key, &v, false);
    rc = rc != 0 ? rc : activate_rest(ctx, def, pi_key, index, key, &v, pending);
    ctx->depth--;
    return rc;
}

int engine_element_index(engine_ctx *ctx, const engine_def *def, tandem_sv element_id,
                         uint32_t *index)
{
    TANDEM_ASSERT(ctx != NULL && def != NULL && index != NULL);
    TANDEM_ASSERT(def->process != NULL);
    char id[TANDEM_BPMN_ID_LEN_MAX + 1];
    if (element_id.len >= sizeof(id)) {
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT, "engine: element id too long");
    }
    memcpy(id, element_id.ptr, element_id.len);
    id[element_id.len] = 0;
    *index = tandem_bpmn_element_find(def->process, id);
    if (*index == TANDEM_BPMN_NONE) {
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                               "engine: element '%s' is not in its process", id);
    }
    return 0;
}

/* ---- Commands --------------------------------------------------------- */

static int find_definition(engine_ctx *ctx, const tandem_process_instance_creation_value *v,
                           uint64_t *key_out)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL && key_out != NULL);
    tandem_engine *e = ctx->engine;
    int rc;
    if (v->process_definition_key != TANDEM_KEY_NONE) {
        tandem_process_value pv;
        rc = engine_process_get(e, ctx->txn, v->process_definition_key, &pv, ctx->diag);
        if (rc == TANDEM_ENOENT) {
            return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                                 "Expected to find process definition with key '%llu', but none "
                                 "found",
                                 (unsigned long long)v->process_definition_key);
        }
        *key_out = v->process_definition_key;
        return rc;
    }
    const tandem_sv id = v->bpmn_process_id;
    if (id.len == 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected at least a bpmnProcessId or a key greater than -1, but none "
                             "given");
    }
    if (v->version < 0) {
        engine_latest latest;
        rc = engine_latest_get(e, ctx->txn, id, &latest, ctx->diag);
        if (rc == TANDEM_ENOENT) {
            return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                                 "Expected to find process definition with process ID '%.*s', but "
                                 "none found",
                                 (int)id.len, id.ptr);
        }
        *key_out = latest.key;
        return rc;
    }
    rc = engine_version_get(e, ctx->txn, id, v->version, key_out, ctx->diag);
    if (rc == TANDEM_ENOENT) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to find process definition with process ID '%.*s' and "
                             "version '%d', but none found",
                             (int)id.len, id.ptr, (int)v->version);
    }
    return rc;
}

int engine_create_instance(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_PROCESS_INSTANCE_CREATION);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    tandem_process_instance_creation_value v;
    tandem_diag dd = {0};
    if (tandem_process_instance_creation_value_decode(cmd->value, cmd->value_len, &v, NULL, &dd) !=
        0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to create a process instance, but the command could not be "
                             "read: %s",
                             tandem_diag_text(&dd));
    }
    uint64_t def_key = TANDEM_KEY_NONE;
    int rc = find_definition(ctx, &v, &def_key);
    if (rc != 0 || ctx->rejected) {
        return rc;
    }
    char reason[256];
    if (!engine_json_is_object(v.variables, reason, sizeof(reason))) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, "%s", reason);
    }
    engine_def def;
    rc = engine_model_get(ctx, def_key, &def);
    if (rc != 0) {
        return rc;
    }
    uint64_t pi_key = engine_key_new(ctx);
    rc = engine_json_set_variables(ctx, v.variables, pi_key, pi_key, def.key, def.bpmn_process_id,
                                   def.tenant_id);
    if (rc != 0) {
        return rc;
    }
    tandem_process_instance_value pv;
    element_value(&def, pi_key, def.process->id, TANDEM_KEY_NONE, TANDEM_ELEMENT_PROCESS, &pv);
    rc = engine_emit(ctx, TANDEM_RECORD_COMMAND, TANDEM_VALUE_PROCESS_INSTANCE,
                     TANDEM_INTENT_PROCESS_INSTANCE_ACTIVATE_ELEMENT, pi_key,
                     ENGINE_ENC(process_instance), &pv, false);
    if (rc != 0) {
        return rc;
    }
    tandem_process_instance_creation_value created = v;
    created.bpmn_process_id = def.bpmn_process_id;
    created.version = def.version;
    created.process_definition_key = def.key;
    created.process_instance_key = pi_key;
    created.tenant_id = def.tenant_id;
    created.await_result =
        cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT;
    rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                     TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED, pi_key,
                     ENGINE_ENC(process_instance_creation), &created, true);
    if (created.await_result) {
        /* CREATED carries the request ids for the registration, but the
         * client waits for the result instead. */
        ctx->out->response_index = -1;
    }
    return rc;
}

/* ACTIVATE_ELEMENT of an element already ACTIVATING: its incident was
 * resolved, so the activation is tried again. */
static int resume_activation(engine_ctx *ctx, uint64_t key, const engine_element *el)
{
    TANDEM_ASSERT(ctx != NULL && el != NULL);
    TANDEM_ASSERT(el->state == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING);
    engine_def def;
    int rc = engine_model_get(ctx, el->value.process_definition_key, &def);
    uint32_t index = 0;
    rc = rc != 0 ? rc : engine_element_index(ctx, &def, el->value.element_id, &index);
    uint32_t pending = 0;
    return rc != 0 ? rc
                   : activate_rest(ctx, &def, el->value.process_instance_key, index, key,
                                   &el->value, &pending);
}

static int activate_process(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx->in_follow_up);
    TANDEM_ASSERT(cmd->key != TANDEM_KEY_NONE);
    engine_element existing;
    int rc = engine_element_get(ctx->engine, ctx->txn, cmd->key, &existing, ctx->diag);
    if (rc == 0 && existing.state == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING &&
        existing.value.bpmn_element_type != TANDEM_ELEMENT_PROCESS) {
        return resume_activation(ctx, cmd->key, &existing);
    }
    if (rc != TANDEM_ENOENT) {
        return rc != 0 ? rc
                       : tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                                         "engine: element instance %llu activated twice",
                                         (unsigned long long)cmd->key);
    }
    tandem_process_instance_value v;
    rc = tandem_process_instance_value_decode(cmd->value, cmd->value_len, &v, NULL, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    engine_def def;
    rc = engine_model_get(ctx, v.process_definition_key, &def);
    if (rc != 0) {
        return rc;
    }
    rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING, cmd->key, &v, false);
    rc = rc != 0
             ? rc
             : emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED, cmd->key, &v, false);
    uint32_t pending = 0;
    return rc != 0 ? rc : activate_element(ctx, &def, cmd->key, def.process->start, &pending);
}

/* COMPLETE_ELEMENT: COMPLETING, the output mappings (an incident stops here,
 * with the element COMPLETING until it is resolved and the command comes
 * again), COMPLETED, and on along the outgoing flows. */
static int complete_element(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx->in_follow_up);
    TANDEM_ASSERT(cmd->key != TANDEM_KEY_NONE);
    engine_element el;
    int rc = engine_element_get(ctx->engine, ctx->txn, cmd->key, &el, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    bool resumed = el.state == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING;
    if (el.state != TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED && !resumed) {
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                               "engine: element instance %llu completes in state %u",
                               (unsigned long long)cmd->key, el.state);
    }
    engine_def def;
    rc = engine_model_get(ctx, el.value.process_definition_key, &def);
    uint32_t index = 0;
    rc = rc != 0 ? rc : engine_element_index(ctx, &def, el.value.element_id, &index);
    if (rc == 0 && !resumed) {
        rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING, cmd->key, &el.value,
                     false);
    }
    bool incident = false;
    rc = rc != 0 ? rc : engine_output_mappings(ctx, &def, index, cmd->key, &el.value, &incident);
    if (rc != 0 || incident) {
        return rc;
    }
    rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED, cmd->key, &el.value, false);
    uint32_t pending = 0;
    return rc != 0 ? rc : continue_after(ctx, &def, el.value.process_instance_key, index, &pending);
}

int engine_complete_element_later(engine_ctx *ctx, uint64_t element_key,
                                  const tandem_process_instance_value *v)
{
    TANDEM_ASSERT(element_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(ctx != NULL && v != NULL);
    return engine_emit(ctx, TANDEM_RECORD_COMMAND, TANDEM_VALUE_PROCESS_INSTANCE,
                       TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT, element_key,
                       ENGINE_ENC(process_instance), v, false);
}

/* ---- Cancellation ----------------------------------------------------- */

static int resolve_incident(engine_ctx *ctx, uint64_t incident_key)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(incident_key != TANDEM_KEY_NONE);
    uint8_t k[8];
    engine_be64(k, incident_key);
    tandem_kv_val raw;
    int rc = tandem_kv_get(ctx->txn, engine_tbl(ctx->engine, TBL_INCIDENT), k, sizeof(k), &raw,
                           ctx->diag);
    if (rc != 0) {
        return rc;
    }
    tandem_sv copy;
    if (engine_arena_dup(&ctx->engine->arena, raw.data, raw.len, &copy) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    tandem_incident_value v;
    rc = tandem_incident_value_decode(copy.ptr, copy.len, &v, &ctx->engine->unknown, ctx->diag);
    return rc != 0 ? rc
                   : engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_INCIDENT,
                                 TANDEM_INTENT_INCIDENT_RESOLVED, incident_key,
                                 ENGINE_ENC(incident), &v, false);
}

static int terminate_child(engine_ctx *ctx, uint64_t key)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    engine_element el;
    int rc = engine_element_get(ctx->engine, ctx->txn, key, &el, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATING, key, &el.value, false);
    if (rc == 0 && el.job_key != TANDEM_KEY_NONE) {
        engine_job job;
        rc = engine_job_get(ctx->engine, ctx->txn, el.job_key, &job, ctx->diag);
        if (rc == 0) {
            rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_CANCELED,
                             el.job_key, ENGINE_ENC(job), &job.value, false);
        }
        if (rc == 0 && job.incident_key != TANDEM_KEY_NONE) {
            rc = resolve_incident(ctx, job.incident_key);
        }
    }
    if (rc == 0 && el.incident_key != TANDEM_KEY_NONE) {
        rc = resolve_incident(ctx, el.incident_key);
    }
    return rc != 0 ? rc
                   : emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED, key, &el.value,
                             false);
}

/* The keys of the active children of a scope, in key order. */
static int children_of(engine_ctx *ctx, uint64_t scope_key, uint64_t *keys, uint32_t max,
                       uint32_t *count)
{
    TANDEM_ASSERT(ctx != NULL && keys != NULL && count != NULL);
    TANDEM_ASSERT(max > 0);
    uint8_t prefix[8];
    engine_be64(prefix, scope_key);
    tandem_kv_cursor *c;
    int rc =
        tandem_kv_cursor_open(ctx->txn, engine_tbl(ctx->engine, TBL_ELEMENT_CHILD), &c, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_cursor_seek_prefix(c, prefix, sizeof(prefix), ctx->diag);
    uint32_t n = 0;
    tandem_kv_val k, v;
    while (rc == 0 && (rc = tandem_kv_cursor_next(c, &k, &v, ctx->diag)) == 0) {
        if (k.len != 16 || n == max) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                                 "engine: child index of %llu is damaged or too large",
                                 (unsigned long long)scope_key);
            break;
        }
        keys[n++] = engine_load_be64((const uint8_t *)k.data + 8);
    }
    tandem_kv_cursor_close(c);
    *count = n;
    return rc == TANDEM_ENOENT ? 0 : rc;
}

static int cancel_instance(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_CANCEL);
    TANDEM_ASSERT(ctx->out->record_count == 1);
    engine_element proc;
    int rc = engine_element_get(ctx->engine, ctx->txn, cmd->key, &proc, ctx->diag);
    if (rc == TANDEM_ENOENT ||
        (rc == 0 && proc.value.bpmn_element_type != TANDEM_ELEMENT_PROCESS)) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to cancel a process instance with key '%llu', but no such "
                             "process was found",
                             (unsigned long long)cmd->key);
    }
    if (rc != 0) {
        return rc;
    }
    uint32_t max = TANDEM_ENGINE_RECORDS_MAX;
    uint64_t *children = malloc(max * sizeof(*children));
    if (children == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    uint32_t n = 0;
    rc = children_of(ctx, cmd->key, children, max, &n);
    if (rc == 0) {
        rc = emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATING, cmd->key, &proc.value,
                     true);
    }
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        rc = terminate_child(ctx, children[i]);
    }
    free(children);
    return rc != 0 ? rc
                   : emit_pi(ctx, TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED, cmd->key,
                             &proc.value, false);
}

int engine_pi_command(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_PROCESS_INSTANCE);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    switch (cmd->intent) {
    case TANDEM_INTENT_PROCESS_INSTANCE_CANCEL:
        return cancel_instance(ctx, cmd);
    case TANDEM_INTENT_PROCESS_INSTANCE_ACTIVATE_ELEMENT:
        return activate_process(ctx, cmd);
    case TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT:
        return complete_element(ctx, cmd);
    default:
        TANDEM_UNREACHABLE();
    }
}
