/*
 * Jobs: creation for service tasks, the JOB commands, JOB_BATCH ACTIVATE, and
 * the time-driven commands (deadline passed, back-off over).
 *
 * Job states (engine_int.h): ACTIVATABLE -> ACTIVATED (batch activation) ->
 * gone (COMPLETED, CANCELED) or back to ACTIVATABLE (TIMED_OUT, FAILED with
 * retries), BACKOFF (FAILED with retries and a back-off, until
 * RECURRED_AFTER_BACKOFF), FAILED (no retries: held by an incident).
 * Preconditions follow Zeebe's JobCommandPreconditionChecker: complete and
 * fail accept ACTIVATABLE and ACTIVATED jobs, with its wording.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

static int emit_job(engine_ctx *ctx, uint16_t intent, uint64_t key, const tandem_job_value *v,
                    bool answer)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_JOB, intent, key, ENGINE_ENC(job), v,
                       answer);
}

int engine_job_create(engine_ctx *ctx, uint64_t element_key,
                      const tandem_process_instance_value *el, const tandem_bpmn_task *task,
                      tandem_sv type, int32_t retries)
{
    TANDEM_ASSERT(element_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(ctx != NULL && el != NULL && task != NULL);
    TANDEM_ASSERT(type.len > 0 && retries > 0);
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.type = type;
    v.retries = retries;
    int rc = engine_json_headers(ctx, task, &v.custom_headers);
    if (rc != 0) {
        return rc;
    }
    v.bpmn_process_id = el->bpmn_process_id;
    v.process_definition_version = el->version;
    v.process_definition_key = el->process_definition_key;
    v.process_instance_key = el->process_instance_key;
    v.element_id = el->element_id;
    v.element_instance_key = element_key;
    v.tenant_id = el->tenant_id;
    v.kind = TANDEM_JOB_KIND_BPMN_ELEMENT;
    v.listener_event = TANDEM_JOB_LISTENER_UNSPECIFIED;
    rc = emit_job(ctx, TANDEM_INTENT_JOB_CREATED, engine_key_new(ctx), &v, false);
    return rc != 0 ? rc : engine_note_activatable(ctx, v.type);
}

/* ---- JOB commands ------------------------------------------------------ */

static const char *verb_of(uint16_t intent)
{
    switch (intent) {
    case TANDEM_INTENT_JOB_COMPLETE:
        return "complete";
    case TANDEM_INTENT_JOB_FAIL:
        return "fail";
    case TANDEM_INTENT_JOB_TIME_OUT:
        return "time out";
    case TANDEM_INTENT_JOB_UPDATE_RETRIES:
        return "update retries of";
    case TANDEM_INTENT_JOB_UPDATE_TIMEOUT:
        return "update the timeout of";
    case TANDEM_INTENT_JOB_UPDATE:
        return "update";
    case TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF:
        return "recur after back-off";
    default:
        return NULL;
    }
}

static int reject_state(engine_ctx *ctx, const tandem_record *cmd, const engine_job *job)
{
    TANDEM_ASSERT(verb_of(cmd->intent) != NULL);
    TANDEM_ASSERT(job->state >= JOB_ACTIVATABLE && job->state <= JOB_BACKOFF);
    return engine_reject(ctx, TANDEM_REJECTION_INVALID_STATE,
                         "Expected to %s job with key '%llu', but it is in state '%s'",
                         verb_of(cmd->intent), (unsigned long long)cmd->key,
                         engine_job_state_name(job->state));
}

static int job_complete(engine_ctx *ctx, const tandem_record *cmd, engine_job *job,
                        const tandem_job_value *in)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_JOB_COMPLETE);
    TANDEM_ASSERT(job != NULL && in != NULL);
    if (job->state != JOB_ACTIVATABLE && job->state != JOB_ACTIVATED) {
        return reject_state(ctx, cmd, job);
    }
    char reason[256];
    if (!engine_json_is_object(in->variables, reason, sizeof(reason))) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, "%s", reason);
    }
    tandem_job_value v = job->value;
    v.variables = in->variables;
    int rc = emit_job(ctx, TANDEM_INTENT_JOB_COMPLETED, cmd->key, &v, true);
    if (rc != 0) {
        return rc;
    }
    engine_element el;
    rc = engine_element_get(ctx->engine, ctx->txn, v.element_instance_key, &el, ctx->diag);
    if (rc == TANDEM_ENOENT) {
        /* no element waits for it: the variables go to the process */
        return engine_json_set_variables(ctx, in->variables, v.process_instance_key,
                                         v.process_instance_key, v.process_definition_key,
                                         v.bpmn_process_id, v.tenant_id);
    }
    /* With output mappings the variables stay in the task's scope for the
     * mappings to read (Zeebe); without, they propagate from it. */
    engine_def def;
    rc = rc != 0 ? rc : engine_model_get(ctx, el.value.process_definition_key, &def);
    uint32_t index = 0;
    rc = rc != 0 ? rc : engine_element_index(ctx, &def, el.value.element_id, &index);
    if (rc != 0) {
        return rc;
    }
    const tandem_bpmn_task *task = def.process->elements[index].task;
    bool local = task != NULL && task->output_count > 0;
    rc = engine_json_merge_variables(ctx, in->variables, v.element_instance_key, local);
    if (rc != 0) {
        return rc;
    }
    return engine_complete_element_later(ctx, v.element_instance_key, &el.value);
}

static int job_fail(engine_ctx *ctx, const tandem_record *cmd, engine_job *job,
                    const tandem_job_value *in)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_JOB_FAIL);
    TANDEM_ASSERT(job != NULL && in != NULL);
    if (job->state != JOB_ACTIVATABLE && job->state != JOB_ACTIVATED) {
        return reject_state(ctx, cmd, job);
    }
    if (in->retry_backoff_ms < 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to fail job with key '%llu' with a retry back-off of at "
                             "least 0 ms, but got %lld",
                             (unsigned long long)cmd->key, (long long)in->retry_backoff_ms);
    }
    tandem_job_value v = job->value;
    v.retries = in->retries;
    v.error_message = in->error_message;
    v.retry_backoff_ms = in->retry_backoff_ms;
    v.deadline_ms = TANDEM_NONE;
    v.recurring_time_ms = TANDEM_NONE;
    if (in->retries > 0 && in->retry_backoff_ms > 0) {
        v.recurring_time_ms = (int64_t)cmd->timestamp_ms + in->retry_backoff_ms;
    }
    int rc = emit_job(ctx, TANDEM_INTENT_JOB_FAILED, cmd->key, &v, true);
    if (rc != 0) {
        return rc;
    }
    if (in->retries > 0) {
        return in->retry_backoff_ms > 0 ? 0 : engine_note_activatable(ctx, v.type);
    }
    tandem_incident_value inc;
    tandem_incident_value_init(&inc);
    inc.error_type = TANDEM_INCIDENT_JOB_NO_RETRIES;
    inc.error_message =
        in->error_message.len > 0 ? in->error_message : tandem_sv_of("No more retries left.");
    inc.bpmn_process_id = v.bpmn_process_id;
    inc.process_definition_key = v.process_definition_key;
    inc.process_instance_key = v.process_instance_key;
    inc.element_id = v.element_id;
    inc.element_instance_key = v.element_instance_key;
    inc.job_key = cmd->key;
    inc.variable_scope_key = v.element_instance_key;
    inc.tenant_id = v.tenant_id;
    return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_INCIDENT,
                       TANDEM_INTENT_INCIDENT_CREATED, engine_key_new(ctx), ENGINE_ENC(incident),
                       &inc, false);
}

static int job_time_out(engine_ctx *ctx, const tandem_record *cmd, engine_job *job)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_JOB_TIME_OUT);
    TANDEM_ASSERT(job != NULL);
    if (job->state != JOB_ACTIVATED) {
        return reject_state(ctx, cmd, job);
    }
    if (job->value.deadline_ms > (int64_t)cmd->timestamp_ms) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_STATE,
                             "Expected to time out job with key '%llu', but its deadline has not "
                             "passed yet",
                             (unsigned long long)cmd->key);
    }
    int rc = emit_job(ctx, TANDEM_INTENT_JOB_TIMED_OUT, cmd->key, &job->value, true);
    return rc != 0 ? rc : engine_note_activatable(ctx, job->value.type);
}

static int job_recur(engine_ctx *ctx, const tandem_record *cmd, engine_job *job)
{
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF);
    TANDEM_ASSERT(job != NULL);
    if (job->state != JOB_BACKOFF || job->value.recurring_time_ms > (int64_t)cmd->timestamp_ms) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_STATE,
                             "Expected to recur job with key '%llu' after its back-off, but it is "
                             "not waiting for one that has passed",
                             (unsigned long long)cmd->key);
    }
    int rc = emit_job(ctx, TANDEM_INTENT_JOB_RECURRED_AFTER_BACKOFF, cmd->key, &job->value, true);
    return rc != 0 ? rc : engine_note_activatable(ctx, job->value.type);
}

static bool wants(tandem_sv changed, const char *attribute)
{
    TANDEM_ASSERT(attribute != NULL);
    TANDEM_ASSERT(changed.ptr != NULL || changed.len == 0);
    tandem_value_list it;
    tandem_value_list_init(&it, changed);
    tandem_field f;
    while (tandem_value_list_next(&it, &f)) {
        if (f.wire == TANDEM_WIRE_STRING &&
            tandem_sv_eq_cstr((tandem_sv){(const char *)f.data, f.len}, attribute)) {
            return true;
        }
    }
    return false;
}

static int job_update(engine_ctx *ctx, const tandem_record *cmd, engine_job *job,
                      const tandem_job_value *in)
{
    TANDEM_ASSERT(job != NULL && in != NULL);
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_JOB);
    bool retries =
        cmd->intent == TANDEM_INTENT_JOB_UPDATE_RETRIES ||
        (cmd->intent == TANDEM_INTENT_JOB_UPDATE && wants(in->changed_attributes, "retries"));
    bool timeout =
        cmd->intent == TANDEM_INTENT_JOB_UPDATE_TIMEOUT ||
        (cmd->intent == TANDEM_INTENT_JOB_UPDATE && wants(in->changed_attributes, "timeout"));
    if (!retries && !timeout) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to update job with key '%llu', but no changes were given",
                             (unsigned long long)cmd->key);
    }
    if (retries && in->retries < 1) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to update retries of job with key '%llu' to a positive "
                             "number, but got %d",
                             (unsigned long long)cmd->key, (int)in->retries);
    }
    if (timeout && in->timeout_ms < 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to update the timeout of job with key '%llu' to at least 0 "
                             "ms, but got %lld",
                             (unsigned long long)cmd->key, (long long)in->timeout_ms);
    }
    if (timeout && job->state != JOB_ACTIVATED) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_STATE,
                             "Expected to update the timeout of job with key '%llu', but it is "
                             "not activated",
                             (unsigned long long)cmd->key);
    }
    tandem_job_value v = job->value;
    int rc = 0;
    bool answered = false;
    if (retries) {
        v.retries = in->retries;
        rc = emit_job(ctx, TANDEM_INTENT_JOB_RETRIES_UPDATED, cmd->key, &v, true);
        answered = true;
    }
    if (rc == 0 && timeout) {
        v.deadline_ms = (int64_t)cmd->timestamp_ms + in->timeout_ms;
        v.timeout_ms = in->timeout_ms;
        rc = emit_job(ctx, TANDEM_INTENT_JOB_TIMEOUT_UPDATED, cmd->key, &v, !answered);
    }
    return rc;
}

int engine_job_command(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_JOB);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    const char *verb = verb_of(cmd->intent);
    if (verb == NULL) {
        tandem_name_buf in;
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to process a supported command, but JOB %s is not supported",
                             tandem_intent_name(cmd->value_type, cmd->intent, &in));
    }
    tandem_job_value in;
    tandem_diag dd = {0};
    if (tandem_job_value_decode(cmd->value, cmd->value_len, &in, NULL, &dd) != 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to %s job with key '%llu', but the command could not be "
                             "read: %s",
                             verb, (unsigned long long)cmd->key, tandem_diag_text(&dd));
    }
    engine_job job;
    int rc = engine_job_get(ctx->engine, ctx->txn, cmd->key, &job, ctx->diag);
    if (rc == TANDEM_ENOENT) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to %s job with key '%llu', but no such job was found", verb,
                             (unsigned long long)cmd->key);
    }
    if (rc != 0) {
        return rc;
    }
    switch (cmd->intent) {
    case TANDEM_INTENT_JOB_COMPLETE:
        return job_complete(ctx, cmd, &job, &in);
    case TANDEM_INTENT_JOB_FAIL:
        return job_fail(ctx, cmd, &job, &in);
    case TANDEM_INTENT_JOB_TIME_OUT:
        return job_time_out(ctx, cmd, &job);
    case TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF:
        return job_recur(ctx, cmd, &job);
    default:
        return job_update(ctx, cmd, &job, &in);
    }
}

/* ---- JOB_BATCH ACTIVATE ------------------------------------------------ */

/* Up to `max` activatable job keys of a type, oldest (lowest key) first. */
static int activatable_keys(engine_ctx *ctx, tandem_sv type, uint64_t *keys, uint32_t max,
                            uint32_t *count, bool *more)
{
    TANDEM_ASSERT(keys != NULL && count != NULL && more != NULL);
    TANDEM_ASSERT(max > 0 && max <= TANDEM_ENGINE_ACTIVATE_JOBS_MAX);
    uint8_t prefix[TANDEM_KV_KEY_MAX_BYTES];
    TANDEM_ASSERT(type.len + 1 <= sizeof(prefix));
    memcpy(prefix, type.ptr, type.len);
    prefix[type.len] = 0;
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(ctx->txn, engine_tbl(ctx->engine, TBL_JOB_ACTIVATABLE), &c,
                                   ctx->diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_cursor_seek_prefix(c, prefix, type.len + 1, ctx->diag);
    uint32_t n = 0;
    *more = false;
    tandem_kv_val k, v;
    while (rc == 0 && (rc = tandem_kv_cursor_next(c, &k, &v, ctx->diag)) == 0) {
        if (n == max) {
            *more = true;
            break;
        }
        if (k.len != type.len + 9) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ECORRUPT, "engine: activatable index damaged");
            break;
        }
        keys[n++] = engine_load_be64((const uint8_t *)k.data + type.len + 1);
    }
    tandem_kv_cursor_close(c);
    *count = n;
    return rc == TANDEM_ENOENT ? 0 : rc;
}

static int check_batch(engine_ctx *ctx, const tandem_job_batch_value *v)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL);
    TANDEM_ASSERT(!ctx->rejected);
    if (v->type.len == 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate job batch with type to be present, but it was "
                             "blank");
    }
    if (v->type.len > TANDEM_BPMN_ID_LEN_MAX * 4) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate job batch with a type of at most %u bytes, but "
                             "it has %zu",
                             TANDEM_BPMN_ID_LEN_MAX * 4, v->type.len);
    }
    if (memchr(v->type.ptr, 0, v->type.len) != NULL) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate job batch with a type without NUL characters, "
                             "but it has one");
    }
    if (v->timeout_ms < 1) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate job batch with timeout to be greater than zero, "
                             "but it was '%lld'",
                             (long long)v->timeout_ms);
    }
    if (v->max_jobs_to_activate < 1) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate job batch with max jobs to activate to be "
                             "greater than zero, but it was '%d'",
                             (int)v->max_jobs_to_activate);
    }
    return 0;
}

/* Builds the lists of the ACTIVATED value; stops early at the size bound. */
static int build_batch(engine_ctx *ctx, const tandem_job_batch_value *v, const uint64_t *keys,
                       uint32_t n, tandem_buf *key_list, tandem_buf *job_list, bool *truncated)
{
    TANDEM_ASSERT(key_list != NULL && job_list != NULL && truncated != NULL);
    TANDEM_ASSERT(n <= TANDEM_ENGINE_ACTIVATE_JOBS_MAX);
    tandem_buf item = TANDEM_BUF_INIT;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        engine_job job;
        rc = engine_job_get(ctx->engine, ctx->txn, keys[i], &job, ctx->diag);
        if (rc != 0) {
            break;
        }
        TANDEM_ASSERT(job.state == JOB_ACTIVATABLE);
        tandem_job_value jv = job.value;
        jv.worker = v->worker;
        jv.deadline_ms = (int64_t)ctx->command->timestamp_ms + v->timeout_ms;
        /* what the task sees: its local variables (input mappings) over the
         * process's */
        rc = engine_variables_visible(ctx, jv.element_instance_key, v->fetch_variables,
                                      &jv.variables);
        if (rc != 0) {
            break;
        }
        tandem_buf_reset(&item);
        rc = tandem_job_value_encode(&jv, &item);
        if (rc == 0 && i > 0 && job_list->len + item.len > TANDEM_ENGINE_JOB_BATCH_BYTES_MAX) {
            *truncated = true;
            break;
        }
        rc = rc != 0 ? rc : tandem_value_list_add_nested(job_list, item.data, item.len);
        rc = rc != 0 ? rc : tandem_value_list_add_uint(key_list, keys[i]);
        if (rc != 0) {
            rc = tandem_diag_set(ctx->diag, rc, "engine: encoding a job batch");
        }
    }
    tandem_buf_free(&item);
    return rc;
}

int engine_job_batch_activate(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(cmd->value_type == TANDEM_VALUE_JOB_BATCH);
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    tandem_job_batch_value v;
    tandem_diag dd = {0};
    if (tandem_job_batch_value_decode(cmd->value, cmd->value_len, &v, NULL, &dd) != 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to activate a job batch, but the command could not be read: "
                             "%s",
                             tandem_diag_text(&dd));
    }
    int rc = check_batch(ctx, &v);
    if (rc != 0 || ctx->rejected) {
        return rc;
    }
    uint32_t max = (uint32_t)v.max_jobs_to_activate;
    max = max > TANDEM_ENGINE_ACTIVATE_JOBS_MAX ? TANDEM_ENGINE_ACTIVATE_JOBS_MAX : max;
    uint64_t keys[TANDEM_ENGINE_ACTIVATE_JOBS_MAX];
    uint32_t n = 0;
    bool more = false, truncated = false;
    rc = activatable_keys(ctx, v.type, keys, max, &n, &more);
    tandem_buf key_list = TANDEM_BUF_INIT, job_list = TANDEM_BUF_INIT;
    if (rc == 0) {
        rc = build_batch(ctx, &v, keys, n, &key_list, &job_list, &truncated);
    }
    if (rc == 0) {
        tandem_job_batch_value out = v;
        out.job_keys = (tandem_sv){(const char *)key_list.data, key_list.len};
        out.jobs = (tandem_sv){(const char *)job_list.data, job_list.len};
        out.truncated = truncated;
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_JOB_BATCH,
                         TANDEM_INTENT_JOB_BATCH_ACTIVATED, engine_key_new(ctx),
                         ENGINE_ENC(job_batch), &out, true);
    }
    tandem_buf_free(&key_list);
    tandem_buf_free(&job_list);
    return rc;
}

/* ---- Time-driven commands --------------------------------------------- */

/* Scans one time index (deadline or back-off) for entries due at now_ms. */
static int scan_due(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, uint16_t intent,
                    uint64_t now_ms, tandem_engine_output *out, int64_t *next, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && out != NULL && next != NULL);
    TANDEM_ASSERT(t == TBL_JOB_DEADLINE || t == TBL_JOB_BACKOFF);
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(txn, engine_tbl(e, t), &c, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_kv_val k, v;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, diag)) == 0) {
        if (k.len != 16) {
            rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "engine: time index damaged");
            break;
        }
        uint64_t when = engine_load_be64(k.data);
        uint64_t job_key = engine_load_be64((const uint8_t *)k.data + 8);
        if (when > now_ms || out->record_count >= TANDEM_ENGINE_DUE_MAX) {
            int64_t w =
                when > now_ms ? (int64_t)(when > INT64_MAX ? INT64_MAX : when) : (int64_t)now_ms;
            *next = w < *next ? w : *next;
            break;
        }
        engine_job job;
        rc = engine_job_get(e, txn, job_key, &job, diag);
        if (rc != 0) {
            break;
        }
        tandem_record proto;
        tandem_record_init(&proto);
        proto.record_type = TANDEM_RECORD_COMMAND;
        proto.value_type = TANDEM_VALUE_JOB;
        proto.intent = intent;
        proto.key = job_key;
        proto.timestamp_ms = now_ms;
        proto.partition_id = (uint16_t)e->partition_id;
        rc = engine_output_add_command(out, &proto, ENGINE_ENC(job), &job.value);
        if (rc != 0) {
            rc = tandem_diag_set(diag, rc, "engine: out of memory for due commands");
            break;
        }
    }
    tandem_kv_cursor_close(c);
    return rc == TANDEM_ENOENT ? 0 : rc;
}

int engine_due_scan(tandem_engine *e, tandem_kv_txn *txn, uint64_t now_ms,
                    tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag)
{
    TANDEM_ASSERT(TANDEM_ENGINE_DUE_MAX > 0);
    TANDEM_ASSERT(e != NULL && txn != NULL && out != NULL);
    TANDEM_ASSERT(out->record_count == 0);
    int64_t next = INT64_MAX;
    int rc =
        scan_due(e, txn, TBL_JOB_DEADLINE, TANDEM_INTENT_JOB_TIME_OUT, now_ms, out, &next, diag);
    if (rc == 0) {
        rc = scan_due(e, txn, TBL_JOB_BACKOFF, TANDEM_INTENT_JOB_RECUR_AFTER_BACKOFF, now_ms, out,
                      &next, diag);
    }
    if (next_due_ms != NULL) {
        *next_due_ms = next;
    }
    return rc;
}

int tandem_engine_has_activatable(tandem_engine *engine, tandem_kv_txn *txn, const char *type,
                                  size_t type_len, bool *out, tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && out != NULL);
    TANDEM_ASSERT(type != NULL || type_len == 0);
    *out = false;
    if (type_len == 0 || type_len + 1 > TANDEM_KV_KEY_MAX_BYTES - 8 ||
        memchr(type, 0, type_len) != NULL) {
        return 0; /* no job can have such a type */
    }
    uint8_t prefix[TANDEM_KV_KEY_MAX_BYTES];
    memcpy(prefix, type, type_len);
    prefix[type_len] = 0;
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(txn, engine_tbl(engine, TBL_JOB_ACTIVATABLE), &c, diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_cursor_seek_prefix(c, prefix, type_len + 1, diag);
    tandem_kv_val k, v;
    if (rc == 0) {
        rc = tandem_kv_cursor_next(c, &k, &v, diag);
        *out = rc == 0;
    }
    tandem_kv_cursor_close(c);
    return rc == TANDEM_ENOENT ? 0 : rc;
}
