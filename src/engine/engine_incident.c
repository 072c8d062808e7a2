/*
 * The operator's commands for an instance that stopped at an incident:
 * INCIDENT RESOLVE, and VARIABLE_DOCUMENT UPDATE to fix the data first.
 *
 * A job's incident (JOB_NO_RETRIES) is resolvable once the job has retries
 * again (JOB UPDATE_RETRIES); resolving makes the job activatable (the
 * RESOLVED applier does it). An element's own incident (IO_MAPPING_ERROR,
 * EXTRACT_VALUE_ERROR) is resolved by trying again what failed: the
 * resolution writes the element's ACTIVATE_ELEMENT or COMPLETE_ELEMENT
 * command once more as a follow-up, which re-evaluates the expressions and
 * may raise a new incident, as Zeebe does.
 */
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

/* The incident of a key (views: arena); TANDEM_ENOENT when there is none. */
static int incident_get(engine_ctx *ctx, uint64_t key, tandem_incident_value *out)
{
    TANDEM_ASSERT(ctx != NULL && out != NULL);
    TANDEM_ASSERT(ctx->txn != NULL);
    uint8_t k[8];
    engine_be64(k, key);
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
    return tandem_incident_value_decode(copy.ptr, copy.len, out, &ctx->engine->unknown, ctx->diag);
}

/* After an element's incident is resolved: the command that failed, again. */
static int retry_element(engine_ctx *ctx, uint64_t element_key)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(element_key != TANDEM_KEY_NONE);
    engine_element el;
    int rc = engine_element_get(ctx->engine, ctx->txn, element_key, &el, ctx->diag);
    if (rc == TANDEM_ENOENT) {
        return 0; /* the element is gone: nothing to continue */
    }
    if (rc != 0) {
        return rc;
    }
    uint16_t intent;
    if (el.state == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING) {
        intent = TANDEM_INTENT_PROCESS_INSTANCE_ACTIVATE_ELEMENT;
    } else if (el.state == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING) {
        intent = TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT;
    } else {
        return 0; /* nothing of it waits for the resolution */
    }
    return engine_emit(ctx, TANDEM_RECORD_COMMAND, TANDEM_VALUE_PROCESS_INSTANCE, intent,
                       element_key, ENGINE_ENC(process_instance), &el.value, false);
}

static int incident_resolve(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_INCIDENT_RESOLVE);
    TANDEM_ASSERT(ctx != NULL && !ctx->rejected);
    tandem_incident_value v;
    int rc = incident_get(ctx, cmd->key, &v);
    if (rc == TANDEM_ENOENT) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to resolve incident with key '%llu', but no such incident "
                             "was found",
                             (unsigned long long)cmd->key);
    }
    if (rc != 0) {
        return rc;
    }
    engine_job job;
    bool has_job = false;
    if (v.job_key != TANDEM_KEY_NONE) {
        rc = engine_job_get(ctx->engine, ctx->txn, v.job_key, &job, ctx->diag);
        if (rc != 0 && rc != TANDEM_ENOENT) {
            return rc;
        }
        has_job = rc == 0;
        if (has_job && job.value.retries <= 0) {
            return engine_reject(ctx, TANDEM_REJECTION_INVALID_STATE,
                                 "Expected to resolve incident with key '%llu', but job with key "
                                 "'%llu' has no retries left; update its retries first",
                                 (unsigned long long)cmd->key, (unsigned long long)v.job_key);
        }
    }
    rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_INCIDENT,
                     TANDEM_INTENT_INCIDENT_RESOLVED, cmd->key, ENGINE_ENC(incident), &v, true);
    if (rc != 0) {
        return rc;
    }
    if (has_job) {
        return job.state == JOB_FAILED ? engine_note_activatable(ctx, job.value.type) : 0;
    }
    return v.element_instance_key != TANDEM_KEY_NONE ? retry_element(ctx, v.element_instance_key)
                                                     : 0;
}

int engine_incident_command(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_INCIDENT);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    if (cmd->intent == TANDEM_INTENT_INCIDENT_RESOLVE && !ctx->in_follow_up) {
        return incident_resolve(ctx, cmd);
    }
    tandem_name_buf in;
    return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                         "Expected to process a supported command, but INCIDENT %s is not "
                         "supported",
                         tandem_intent_name(cmd->value_type, cmd->intent, &in));
}

int engine_variable_document_command(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_VARIABLE_DOCUMENT);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    if (cmd->intent != TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATE || ctx->in_follow_up) {
        tandem_name_buf in;
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to process a supported command, but VARIABLE_DOCUMENT %s "
                             "is not supported",
                             tandem_intent_name(cmd->value_type, cmd->intent, &in));
    }
    tandem_variable_document_value v;
    tandem_diag dd = {0};
    if (tandem_variable_document_value_decode(cmd->value, cmd->value_len, &v, NULL, &dd) != 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to update variables, but the command could not be read: %s",
                             tandem_diag_text(&dd));
    }
    if (v.update_semantics > TANDEM_VARIABLES_LOCAL) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to update variables with semantics PROPAGATE or LOCAL, but "
                             "got %u",
                             v.update_semantics);
    }
    engine_element el;
    int rc = engine_element_get(ctx->engine, ctx->txn, v.scope_key, &el, ctx->diag);
    if (rc == TANDEM_ENOENT) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to update variables for element with key '%llu', but no "
                             "such element was found",
                             (unsigned long long)v.scope_key);
    }
    if (rc != 0) {
        return rc;
    }
    char reason[256];
    if (!engine_json_is_object(v.variables, reason, sizeof(reason))) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, "%s", reason);
    }
    tandem_variable_document_value updated = v;
    updated.tenant_id = el.value.tenant_id;
    rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_VARIABLE_DOCUMENT,
                     TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATED, engine_key_new(ctx),
                     ENGINE_ENC(variable_document), &updated, true);
    return rc != 0 ? rc
                   : engine_json_merge_variables(ctx, v.variables, v.scope_key,
                                                 v.update_semantics == TANDEM_VARIABLES_LOCAL);
}
