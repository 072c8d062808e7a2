/*
 * Command distribution (DESIGN §1, Zeebe 8.3+ COMMAND_DISTRIBUTION): a
 * command processed on one partition is carried to every other partition
 * with acknowledgement, retry and de-duplication.
 *
 * Distributing partition, processing the command: COMMAND_DISTRIBUTION
 * STARTED (key = distribution key, value with the command's value), then per
 * other partition DISTRIBUTING and a send of the command under the
 * distribution key. Receiving partition: processes the command (once: the
 * key says whether it already has it) and sends ACKNOWLEDGE back to the
 * partition of the key. Distributing partition, processing ACKNOWLEDGE:
 * ACKNOWLEDGED, and FINISHED after the last one; an acknowledgement of what
 * is not pending (a repeat) is rejected and changes nothing.
 *
 * The state keeps the STARTED value per distribution and one pending row per
 * (distribution, partition) holding the DISTRIBUTING event's timestamp, from
 * which the retry times follow; no retry counter is written, so retrying
 * costs no log records and replay gives the same schedule.
 */
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

#define PENDING_KEY_BYTES 12u

static void pending_key(uint8_t out[PENDING_KEY_BYTES], uint64_t key, uint32_t partition_id)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(partition_id <= TANDEM_PARTITION_ID_MAX);
    engine_be64(out, key);
    out[8] = (uint8_t)(partition_id >> 24);
    out[9] = (uint8_t)(partition_id >> 16);
    out[10] = (uint8_t)(partition_id >> 8);
    out[11] = (uint8_t)partition_id;
}

static int encode_raw(const void *value, tandem_buf *out)
{
    const tandem_sv *sv = value;
    TANDEM_ASSERT(sv != NULL && out != NULL);
    TANDEM_ASSERT(sv->ptr != NULL || sv->len == 0);
    return sv->len == 0 ? 0 : tandem_buf_append(out, sv->ptr, sv->len);
}

/* ---- Sends --------------------------------------------------------------- */

int engine_add_send(engine_ctx *ctx, uint32_t partition_id, uint8_t value_type, uint16_t intent,
                    uint64_t key, engine_encode_fn encode, const void *value)
{
    TANDEM_ASSERT(ctx != NULL && encode != NULL && value != NULL);
    TANDEM_ASSERT(partition_id >= TANDEM_PARTITION_ID_MIN &&
                  partition_id <= ctx->engine->partition_count);
    tandem_buf bytes = TANDEM_BUF_INIT;
    int rc = encode(value, &bytes);
    if (rc == 0) {
        tandem_record proto;
        tandem_record_init(&proto);
        proto.record_type = TANDEM_RECORD_COMMAND;
        proto.value_type = value_type;
        proto.intent = intent;
        proto.key = key;
        proto.timestamp_ms = ctx->command->timestamp_ms;
        proto.partition_id = (uint16_t)partition_id;
        proto.broker_version = ctx->command->broker_version;
        rc = engine_output_add_send(ctx->out, partition_id, &proto,
                                    (tandem_sv){(const char *)bytes.data, bytes.len});
    }
    tandem_buf_free(&bytes);
    if (rc != 0) {
        return tandem_diag_set(ctx->diag, rc, "engine: out of memory for a send");
    }
    return 0;
}

int engine_distribute(engine_ctx *ctx, uint64_t key, uint8_t value_type, uint16_t intent,
                      tandem_sv value)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE && tandem_key_partition(key) == ctx->engine->partition_id);
    tandem_engine *e = ctx->engine;
    if (e->partition_count <= 1) {
        return 0;
    }
    /* The value may view the output, which moves as records are added. */
    tandem_sv copy;
    if (engine_arena_dup(&e->arena, value.ptr, value.len, &copy) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    tandem_command_distribution_value cd;
    tandem_command_distribution_value_init(&cd);
    cd.partition_id = e->partition_id;
    cd.value_type = value_type;
    cd.intent = intent;
    cd.command_value = copy;
    int rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_COMMAND_DISTRIBUTION,
                         TANDEM_INTENT_COMMAND_DISTRIBUTION_STARTED, key,
                         ENGINE_ENC(command_distribution), &cd, false);
    cd.command_value = (tandem_sv){"", 0};
    for (uint32_t p = 1; rc == 0 && p <= e->partition_count; p++) {
        if (p == e->partition_id) {
            continue;
        }
        cd.partition_id = p;
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_COMMAND_DISTRIBUTION,
                         TANDEM_INTENT_COMMAND_DISTRIBUTION_DISTRIBUTING, key,
                         ENGINE_ENC(command_distribution), &cd, false);
        if (rc == 0) {
            rc = engine_add_send(ctx, p, value_type, intent, key, encode_raw, &copy);
        }
    }
    return rc;
}

int engine_acknowledge(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    TANDEM_ASSERT(tandem_key_partition(cmd->key) != ctx->engine->partition_id);
    tandem_command_distribution_value cd;
    tandem_command_distribution_value_init(&cd);
    cd.partition_id = ctx->engine->partition_id;
    cd.value_type = cmd->value_type;
    cd.intent = cmd->intent;
    return engine_add_send(ctx, tandem_key_partition(cmd->key), TANDEM_VALUE_COMMAND_DISTRIBUTION,
                           TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE, cmd->key,
                           ENGINE_ENC(command_distribution), &cd);
}

/* ---- Receiving a deployment --------------------------------------------- */

/* The content of the resource named `name` in a deployment's resource list. */
static bool find_resource(tandem_sv resources, tandem_sv name, tandem_sv *content)
{
    TANDEM_ASSERT(content != NULL);
    TANDEM_ASSERT(resources.ptr != NULL || resources.len == 0);
    tandem_value_list it;
    tandem_value_list_init(&it, resources);
    tandem_field f, n, c;
    while (tandem_value_list_next(&it, &f)) {
        if (f.wire == TANDEM_WIRE_NESTED && tandem_fields_find(f.data, f.len, 1, &n) == 0 &&
            n.wire == TANDEM_WIRE_STRING && n.len == name.len &&
            memcmp(n.data, name.ptr, name.len) == 0 &&
            tandem_fields_find(f.data, f.len, 2, &c) == 0 && c.wire == TANDEM_WIRE_BYTES) {
            *content = (tandem_sv){(const char *)c.data, c.len};
            return true;
        }
    }
    return false;
}

static int has_row(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, uint64_t key,
                   bool *out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && out != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, engine_tbl(e, t), k, sizeof(k), &v, diag);
    *out = rc == 0;
    return rc == TANDEM_ENOENT ? 0 : rc;
}

#define REJECT_DISTRIBUTED "Expected to create the distributed deployment with key '%llu', but "

/* Checks every process of a distributed deployment before anything is
 * written (a rejection must come before any event). */
static int check_processes(engine_ctx *ctx, const tandem_record *cmd,
                           const tandem_deployment_value *d)
{
    TANDEM_ASSERT(ctx != NULL && d != NULL);
    TANDEM_ASSERT(!ctx->rejected);
    tandem_value_list it;
    tandem_value_list_init(&it, d->processes);
    tandem_field f;
    uint32_t n = 0;
    while (tandem_value_list_next(&it, &f)) {
        tandem_process_value pv;
        tandem_sv content;
        n++;
        if (f.wire != TANDEM_WIRE_NESTED ||
            tandem_process_value_decode(f.data, f.len, &pv, NULL, NULL) != 0 ||
            pv.process_definition_key == TANDEM_KEY_NONE || pv.version < 1 ||
            pv.bpmn_process_id.len == 0 ||
            !find_resource(d->resources, pv.resource_name, &content)) {
            return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                                 REJECT_DISTRIBUTED
                                 "its process %u is malformed or has no resource",
                                 (unsigned long long)cmd->key, n);
        }
    }
    if (it.fr.error != 0 || n == 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             REJECT_DISTRIBUTED "its process list is malformed or empty",
                             (unsigned long long)cmd->key);
    }
    return 0;
}

static int create_processes(engine_ctx *ctx, const tandem_deployment_value *d)
{
    TANDEM_ASSERT(ctx != NULL && d != NULL);
    TANDEM_ASSERT(!ctx->rejected);
    tandem_value_list it;
    tandem_value_list_init(&it, d->processes);
    tandem_field f;
    int rc = 0;
    while (rc == 0 && tandem_value_list_next(&it, &f)) {
        tandem_process_value pv;
        tandem_sv content = {"", 0};
        rc = tandem_process_value_decode(f.data, f.len, &pv, NULL, ctx->diag);
        bool have = false;
        if (rc == 0) {
            rc = has_row(ctx->engine, ctx->txn, TBL_PROCESS, pv.process_definition_key, &have,
                         ctx->diag);
        }
        if (rc != 0 || have) {
            continue; /* a duplicate of an earlier deployment: the key is here */
        }
        bool found = find_resource(d->resources, pv.resource_name, &content);
        TANDEM_ASSERT(found); /* check_processes made sure */
        pv.resource = content;
        pv.duplicate = false;
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS,
                         TANDEM_INTENT_PROCESS_CREATED, pv.process_definition_key,
                         ENGINE_ENC(process), &pv, false);
    }
    return rc;
}

int engine_deploy_distributed(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    TANDEM_ASSERT(cmd->key != TANDEM_KEY_NONE);
    uint32_t from = tandem_key_partition(cmd->key);
    if (from == ctx->engine->partition_id || from > ctx->engine->partition_count) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             REJECT_DISTRIBUTED "it is not from another partition of the cluster",
                             (unsigned long long)cmd->key);
    }
    tandem_deployment_value d;
    tandem_diag dd = {0};
    if (tandem_deployment_value_decode(cmd->value, cmd->value_len, &d, NULL, &dd) != 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, REJECT_DISTRIBUTED "%s",
                             (unsigned long long)cmd->key, tandem_diag_text(&dd));
    }
    bool have = false;
    int rc = has_row(ctx->engine, ctx->txn, TBL_DEPLOYMENT, cmd->key, &have, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    if (have) {
        /* A repeat (the acknowledgement was lost or is late): only the
         * acknowledgement again. */
        return engine_acknowledge(ctx, cmd);
    }
    rc = check_processes(ctx, cmd, &d);
    if (rc != 0 || ctx->rejected) {
        return rc;
    }
    rc = create_processes(ctx, &d);
    if (rc == 0) {
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_DEPLOYMENT,
                         TANDEM_INTENT_DEPLOYMENT_CREATED, cmd->key, ENGINE_ENC(deployment), &d,
                         false);
    }
    return rc != 0 ? rc : engine_acknowledge(ctx, cmd);
}

/* ---- Acknowledgements ----------------------------------------------------- */

/* The STARTED value of a distribution (views: arena), TANDEM_ENOENT when it
 * is not (or no longer) in progress. */
static int distribution_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key,
                            tandem_command_distribution_value *out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && out != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, engine_tbl(e, TBL_DISTRIBUTION), k, sizeof(k), &v, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_sv copy;
    if (engine_arena_dup(&e->arena, v.data, v.len, &copy) != 0) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    rc = tandem_command_distribution_value_decode(copy.ptr, copy.len, out, NULL, diag);
    return rc == 0 ? 0 : TANDEM_ECORRUPT;
}

/* Whether any partition still has to acknowledge the distribution. */
static int any_pending(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, bool *out,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && out != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    uint8_t prefix[8];
    engine_be64(prefix, key);
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(txn, engine_tbl(e, TBL_DISTRIBUTION_PENDING), &c, diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_cursor_seek_prefix(c, prefix, sizeof(prefix), diag);
    tandem_kv_val k, v;
    if (rc == 0) {
        rc = tandem_kv_cursor_next(c, &k, &v, diag);
        *out = rc == 0;
    }
    tandem_kv_cursor_close(c);
    return rc == TANDEM_ENOENT ? 0 : rc;
}

int engine_distribution_ack(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE);
    tandem_engine *e = ctx->engine;
    tandem_command_distribution_value ack;
    tandem_diag dd = {0};
    if (tandem_command_distribution_value_decode(cmd->value, cmd->value_len, &ack, NULL, &dd) !=
            0 ||
        ack.partition_id < TANDEM_PARTITION_ID_MIN || ack.partition_id > TANDEM_PARTITION_ID_MAX) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to acknowledge a distribution with a partition id, but the "
                             "value is malformed");
    }
    tandem_command_distribution_value started;
    int rc = cmd->key == TANDEM_KEY_NONE
                 ? TANDEM_ENOENT
                 : distribution_get(e, ctx->txn, cmd->key, &started, ctx->diag);
    tandem_kv_val v;
    uint8_t pk[PENDING_KEY_BYTES];
    if (rc == 0) {
        pending_key(pk, cmd->key, ack.partition_id);
        rc = tandem_kv_get(ctx->txn, engine_tbl(e, TBL_DISTRIBUTION_PENDING), pk, sizeof(pk), &v,
                           ctx->diag);
    }
    if (rc == TANDEM_ENOENT) {
        return engine_reject(ctx, TANDEM_REJECTION_NOT_FOUND,
                             "Expected to acknowledge the distribution with key '%llu' to "
                             "partition %u, but it is not pending",
                             (unsigned long long)cmd->key, ack.partition_id);
    }
    if (rc != 0) {
        return rc;
    }
    tandem_command_distribution_value cd;
    tandem_command_distribution_value_init(&cd);
    cd.partition_id = ack.partition_id;
    cd.value_type = started.value_type;
    cd.intent = started.intent;
    rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_COMMAND_DISTRIBUTION,
                     TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGED, cmd->key,
                     ENGINE_ENC(command_distribution), &cd, true);
    bool more = true;
    if (rc == 0) {
        rc = any_pending(e, ctx->txn, cmd->key, &more, ctx->diag);
    }
    if (rc == 0 && !more) {
        cd.partition_id = e->partition_id;
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_COMMAND_DISTRIBUTION,
                         TANDEM_INTENT_COMMAND_DISTRIBUTION_FINISHED, cmd->key,
                         ENGINE_ENC(command_distribution), &cd, false);
    }
    return rc;
}

/* ---- Retry ---------------------------------------------------------------- */

/* The first retry time of a distribution sent at sent_ms that is after t_ms. */
static uint64_t next_retry_ms(uint64_t sent_ms, uint64_t t_ms)
{
    TANDEM_ASSERT(TANDEM_ENGINE_RESEND_FIRST_MS > 0);
    TANDEM_ASSERT(TANDEM_ENGINE_RESEND_MAX_MS >= TANDEM_ENGINE_RESEND_FIRST_MS);
    uint64_t interval = TANDEM_ENGINE_RESEND_FIRST_MS;
    uint64_t at = sent_ms + interval;
    /* the doubling phase has a handful of steps; then a fixed interval */
    while (at <= t_ms && interval < TANDEM_ENGINE_RESEND_MAX_MS) {
        interval =
            interval * 2 < TANDEM_ENGINE_RESEND_MAX_MS ? interval * 2 : TANDEM_ENGINE_RESEND_MAX_MS;
        at += interval;
    }
    if (at <= t_ms) {
        at += ((t_ms - at) / interval + 1) * interval;
    }
    TANDEM_ASSERT(at > t_ms);
    return at;
}

static int resend_one(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, uint32_t partition_id,
                      uint64_t now_ms, tandem_engine_output *out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && out != NULL);
    TANDEM_ASSERT(out->send_count < TANDEM_ENGINE_RESENDS_MAX);
    tandem_command_distribution_value started;
    int rc = distribution_get(e, txn, key, &started, diag);
    if (rc == TANDEM_ENOENT) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "engine: distribution %llu is pending for partition %u but was "
                               "never started",
                               (unsigned long long)key, partition_id);
    }
    if (rc != 0) {
        return rc;
    }
    tandem_record proto;
    tandem_record_init(&proto);
    proto.record_type = TANDEM_RECORD_COMMAND;
    proto.value_type = (uint8_t)started.value_type;
    proto.intent = (uint16_t)started.intent;
    proto.key = key;
    proto.timestamp_ms = now_ms;
    proto.partition_id = (uint16_t)partition_id;
    rc = engine_output_add_send(out, partition_id, &proto, started.command_value);
    return rc == 0 ? 0 : tandem_diag_set(diag, rc, "engine: out of memory for a send");
}

int engine_resend_scan(tandem_engine *e, tandem_kv_txn *txn, uint64_t since_ms, uint64_t now_ms,
                       tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL && out != NULL);
    TANDEM_ASSERT(out->send_count == 0 && since_ms <= now_ms);
    int64_t next = INT64_MAX;
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(txn, engine_tbl(e, TBL_DISTRIBUTION_PENDING), &c, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_kv_val k, v;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, diag)) == 0) {
        if (k.len != PENDING_KEY_BYTES || v.len != 8) {
            rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                                 "engine: a pending distribution row of %zu+%zu bytes", k.len,
                                 v.len);
            break;
        }
        const uint8_t *kb = k.data;
        uint64_t key = engine_load_be64(kb);
        uint32_t partition_id = (uint32_t)kb[8] << 24 | (uint32_t)kb[9] << 16 |
                                (uint32_t)kb[10] << 8 | (uint32_t)kb[11];
        uint64_t sent_ms = engine_load_be64(v.data);
        /* since 0: the first call after a start, when whatever was in
         * flight was lost with the process */
        if ((since_ms == 0 || next_retry_ms(sent_ms, since_ms) <= now_ms) &&
            out->send_count < TANDEM_ENGINE_RESENDS_MAX) {
            rc = resend_one(e, txn, key, partition_id, now_ms, out, diag);
            if (rc != 0) {
                break;
            }
        }
        uint64_t at = next_retry_ms(sent_ms, now_ms);
        if (at < (uint64_t)next) {
            next = (int64_t)at;
        }
    }
    tandem_kv_cursor_close(c);
    if (next_due_ms != NULL) {
        *next_due_ms = next;
    }
    return rc == TANDEM_ENOENT ? 0 : rc;
}

/* ---- Apply ---------------------------------------------------------------- */

static int apply_error(tandem_diag *diag, const tandem_record *rec, const char *why)
{
    TANDEM_ASSERT(rec != NULL && why != NULL);
    tandem_name_buf in;
    return tandem_diag_set(diag, TANDEM_ECORRUPT,
                           "engine: cannot apply COMMAND_DISTRIBUTION %s with key %llu at "
                           "position %llu: %s",
                           tandem_intent_name(rec->value_type, rec->intent, &in),
                           (unsigned long long)rec->key, (unsigned long long)rec->position, why);
}

int engine_apply_distribution(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                              tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL && rec != NULL);
    TANDEM_ASSERT(rec->record_type == TANDEM_RECORD_EVENT);
    uint8_t k[8];
    engine_be64(k, rec->key);
    if (rec->value_type == TANDEM_VALUE_DEPLOYMENT) {
        return rec->intent == TANDEM_INTENT_DEPLOYMENT_CREATED
                   ? tandem_kv_put(txn, engine_tbl(e, TBL_DEPLOYMENT), k, sizeof(k), "", 0, diag)
                   : 0;
    }
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_COMMAND_DISTRIBUTION);
    tandem_command_distribution_value cd;
    int rc = tandem_command_distribution_value_decode(rec->value, rec->value_len, &cd, NULL, diag);
    if (rc != 0) {
        return rc;
    }
    if (rec->key == TANDEM_KEY_NONE || cd.partition_id > TANDEM_PARTITION_ID_MAX) {
        return apply_error(diag, rec, "no distribution key or a bad partition id");
    }
    uint8_t pk[PENDING_KEY_BYTES];
    pending_key(pk, rec->key, cd.partition_id);
    uint32_t pending = engine_tbl(e, TBL_DISTRIBUTION_PENDING);
    switch (rec->intent) {
    case TANDEM_INTENT_COMMAND_DISTRIBUTION_STARTED:
        return tandem_kv_put(txn, engine_tbl(e, TBL_DISTRIBUTION), k, sizeof(k), rec->value,
                             rec->value_len, diag);
    case TANDEM_INTENT_COMMAND_DISTRIBUTION_DISTRIBUTING: {
        uint8_t sent[8];
        engine_be64(sent, rec->timestamp_ms);
        return tandem_kv_put(txn, pending, pk, sizeof(pk), sent, sizeof(sent), diag);
    }
    case TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGED:
        rc = tandem_kv_del(txn, pending, pk, sizeof(pk), diag);
        return rc == TANDEM_ENOENT ? apply_error(diag, rec, "it is not pending") : rc;
    case TANDEM_INTENT_COMMAND_DISTRIBUTION_FINISHED:
        rc = tandem_kv_del(txn, engine_tbl(e, TBL_DISTRIBUTION), k, sizeof(k), diag);
        return rc == TANDEM_ENOENT ? apply_error(diag, rec, "it was not started") : rc;
    default:
        return 0;
    }
}
