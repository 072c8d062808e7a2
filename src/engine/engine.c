#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

/* ---- Tables ----------------------------------------------------------- */

static const char *const table_names[TBL_COUNT] = {
    [TBL_META] = "engine_meta",
    [TBL_PROCESS] = "process",
    [TBL_PROCESS_LATEST] = "process_latest",
    [TBL_PROCESS_VERSION] = "process_version",
    [TBL_ELEMENT] = "element_instance",
    [TBL_ELEMENT_CHILD] = "element_child",
    [TBL_VARIABLE] = "variable",
    [TBL_JOB] = "job",
    [TBL_JOB_ACTIVATABLE] = "job_activatable",
    [TBL_JOB_DEADLINE] = "job_deadline",
    [TBL_JOB_BACKOFF] = "job_backoff",
    [TBL_INCIDENT] = "incident",
    [TBL_AWAIT] = "await_result",
    [TBL_DEPLOYMENT] = "deployment",
    [TBL_DISTRIBUTION] = "distribution",
    [TBL_DISTRIBUTION_PENDING] = "distribution_pending",
};
_Static_assert(TBL_COUNT <= TANDEM_KV_TABLES_MAX, "the engine's tables fit the state");

const char *const *tandem_engine_tables(uint32_t *count)
{
    TANDEM_ASSERT(count != NULL);
    for (uint32_t i = 0; i < TBL_COUNT; i++) {
        TANDEM_ASSERT(table_names[i] != NULL);
    }
    *count = TBL_COUNT;
    return table_names;
}

uint32_t engine_tbl(const tandem_engine *e, enum engine_table t)
{
    TANDEM_ASSERT(e != NULL);
    TANDEM_ASSERT(t < TBL_COUNT);
    return e->table_base + (uint32_t)t;
}

/* ---- Arena ------------------------------------------------------------ */

#define ARENA_BLOCK_BYTES (64u * 1024u)
/* Bytes copied out of the state in one call; beyond it the call fails with
 * TANDEM_ENOMEM instead of growing without bound. */
#define ARENA_BYTES_MAX (256u * 1024u * 1024u)

struct engine_arena_block {
    engine_arena_block *next;
    size_t cap;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void *engine_arena_alloc(engine_arena *a, size_t len)
{
    TANDEM_ASSERT(a != NULL);
    size_t need = (len + 15u) & ~(size_t)15u;
    if (need < len || a->used_bytes + need > ARENA_BYTES_MAX) {
        return NULL;
    }
    engine_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK_BYTES ? need : ARENA_BLOCK_BYTES;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL) {
            return NULL;
        }
        b->next = a->head;
        b->cap = cap;
        b->used = 0;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used_bytes += need;
    TANDEM_ASSERT(b->used <= b->cap);
    return p;
}

int engine_arena_dup(engine_arena *a, const void *p, size_t len, tandem_sv *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    if (len == 0) {
        *out = (tandem_sv){"", 0};
        return 0;
    }
    char *copy = engine_arena_alloc(a, len);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, p, len);
    *out = (tandem_sv){copy, len};
    return 0;
}

void engine_arena_reset(engine_arena *a)
{
    TANDEM_ASSERT(a != NULL);
    /* Keep the newest block of default size: most calls fit in it, so the
     * steady state allocates nothing. */
    engine_arena_block *keep = NULL;
    engine_arena_block *b = a->head;
    while (b != NULL) {
        engine_arena_block *next = b->next;
        if (keep == NULL && b->cap == ARENA_BLOCK_BYTES) {
            keep = b;
            keep->next = NULL;
            keep->used = 0;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->used_bytes = 0;
}

/* ---- Engine ----------------------------------------------------------- */

int tandem_engine_create(const tandem_engine_config *config, tandem_engine **out, tandem_diag *diag)
{
    TANDEM_ASSERT(config != NULL && out != NULL);
    *out = NULL;
    if (config->partition_id < TANDEM_PARTITION_ID_MIN ||
        config->partition_id > TANDEM_PARTITION_ID_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "engine: partition id %u is out of range 1..%u",
                               config->partition_id, TANDEM_PARTITION_ID_MAX);
    }
    if (config->table_base > TANDEM_KV_TABLES_MAX - TBL_COUNT) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "engine: table base %u leaves no room for the engine's %u tables",
                               config->table_base, (unsigned)TBL_COUNT);
    }
    if (config->partition_count > TANDEM_PARTITION_ID_MAX ||
        (config->partition_count != 0 && config->partition_id > config->partition_count)) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "engine: partition id %u is not within the partition count %u",
                               config->partition_id, config->partition_count);
    }
    tandem_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    e->partition_id = config->partition_id;
    e->partition_count = config->partition_count == 0 ? 1 : config->partition_count;
    e->table_base = config->table_base;
    tandem_buf_init(&e->scratch);
    tandem_buf_init(&e->unknown);
    for (uint32_t i = 0; i < TANDEM_ENGINE_MODEL_CACHE_MAX; i++) {
        e->models[i].process_definition_key = TANDEM_KEY_NONE;
    }
    *out = e;
    TANDEM_ASSERT(e->depth == 0);
    return 0;
}

void tandem_engine_destroy(tandem_engine *engine)
{
    if (engine == NULL) {
        return;
    }
    TANDEM_ASSERT(engine->depth == 0);
    engine_models_free(engine);
    engine_arena_reset(&engine->arena);
    free(engine->arena.head);
    tandem_buf_free(&engine->scratch);
    tandem_buf_free(&engine->unknown);
    free(engine);
}

static void call_enter(tandem_engine *e)
{
    TANDEM_ASSERT(e != NULL);
    TANDEM_ASSERT(e->depth < 4);
    e->depth++;
}

static void call_leave(tandem_engine *e)
{
    TANDEM_ASSERT(e != NULL);
    TANDEM_ASSERT(e->depth > 0);
    e->depth--;
    if (e->depth == 0) {
        engine_arena_reset(&e->arena);
        tandem_buf_reset(&e->unknown);
        tandem_buf_reset(&e->scratch);
    }
}

/* ---- Output ----------------------------------------------------------- */

void tandem_engine_output_init(tandem_engine_output *out)
{
    TANDEM_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    tandem_buf_init(&out->bytes);
    out->response_index = -1;
}

void tandem_engine_output_free(tandem_engine_output *out)
{
    if (out == NULL) {
        return;
    }
    free(out->records);
    free(out->record_offs);
    free(out->activatable_types);
    free(out->type_offs);
    free(out->results);
    free(out->result_offs);
    free(out->sends);
    free(out->send_offs);
    tandem_buf_free(&out->bytes);
    memset(out, 0, sizeof(*out));
    out->response_index = -1;
}

static void output_reset(tandem_engine_output *out)
{
    TANDEM_ASSERT(out->record_count <= out->record_cap);
    TANDEM_ASSERT(out != NULL);
    out->record_count = 0;
    out->activatable_type_count = 0;
    out->result_count = 0;
    out->send_count = 0;
    out->response_index = -1;
    tandem_buf_reset(&out->bytes);
}

/* Grows a pair of parallel arrays to hold one more entry. */
static int grow(void **a, size_t a_size, void **b, size_t b_size, uint32_t *cap, uint32_t count)
{
    TANDEM_ASSERT(a != NULL && b != NULL && cap != NULL);
    TANDEM_ASSERT(a_size > 0 && b_size > 0);
    TANDEM_ASSERT(count <= *cap);
    if (count < *cap) {
        return 0;
    }
    uint32_t new_cap = *cap == 0 ? 16 : *cap * 2;
    void *na = realloc(*a, (size_t)new_cap * a_size);
    if (na == NULL) {
        return TANDEM_ENOMEM;
    }
    *a = na;
    void *nb = realloc(*b, (size_t)new_cap * b_size);
    if (nb == NULL) {
        return TANDEM_ENOMEM;
    }
    *b = nb;
    *cap = new_cap;
    return 0;
}

static const void *bytes_at(const tandem_engine_output *out, size_t off)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(off <= out->bytes.len);
    if (out->bytes.data == NULL) {
        return ""; /* nothing appended yet: every view is empty */
    }
    return out->bytes.data + off;
}

/* Points every view of the output at its bytes (the buffer may have moved). */
static void output_fix_views(tandem_engine_output *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(out->record_count <= out->record_cap);
    for (uint32_t i = 0; i < out->record_count; i++) {
        tandem_record *r = &out->records[i];
        const engine_record_offsets *o = &out->record_offs[i];
        r->value = bytes_at(out, o->value);
        r->rejection_reason = r->rejection_reason_len > 0 ? bytes_at(out, o->reason) : NULL;
        r->ext = r->ext_len > 0 ? bytes_at(out, o->ext) : NULL;
    }
    for (uint32_t i = 0; i < out->activatable_type_count; i++) {
        out->activatable_types[i].ptr = bytes_at(out, out->type_offs[i]);
    }
    for (uint32_t i = 0; i < out->result_count; i++) {
        out->results[i].record.value = bytes_at(out, out->result_offs[i].value);
    }
    for (uint32_t i = 0; i < out->send_count; i++) {
        out->sends[i].command.value = bytes_at(out, out->send_offs[i].value);
    }
}

static int append_bytes(tandem_engine_output *out, const void *p, size_t len, size_t *off)
{
    TANDEM_ASSERT(out != NULL && off != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    *off = out->bytes.len;
    return len == 0 ? 0 : tandem_buf_append(&out->bytes, p, len);
}

/* A new record slot with the command's envelope. */
static int record_slot(engine_ctx *ctx, tandem_record **slot, uint32_t *index)
{
    TANDEM_ASSERT(ctx != NULL && slot != NULL && index != NULL);
    TANDEM_ASSERT(ctx->out->record_count <= ctx->out->record_cap);
    tandem_engine_output *out = ctx->out;
    if (out->record_count >= TANDEM_ENGINE_RECORDS_MAX) {
        return tandem_diag_set(ctx->diag, TANDEM_ETOOBIG,
                               "engine: the command at position %llu produced more than %u records",
                               (unsigned long long)ctx->command->position,
                               TANDEM_ENGINE_RECORDS_MAX);
    }
    if (grow((void **)&out->records, sizeof(*out->records), (void **)&out->record_offs,
             sizeof(*out->record_offs), &out->record_cap, out->record_count) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for records");
    }
    uint32_t n = out->record_count;
    tandem_record *r = &out->records[n];
    tandem_record_init(r);
    r->position = ctx->command->position + n;
    r->source_position = n == 0 ? ctx->command->source_position : (int64_t)ctx->command->position;
    r->timestamp_ms = ctx->command->timestamp_ms;
    r->partition_id = ctx->command->partition_id;
    r->broker_version = ctx->command->broker_version;
    out->record_offs[n] = (engine_record_offsets){out->bytes.len, out->bytes.len, out->bytes.len};
    *slot = r;
    *index = n;
    return 0;
}

static void answer_with(engine_ctx *ctx, tandem_record *r, uint32_t index)
{
    TANDEM_ASSERT(ctx != NULL && r != NULL);
    TANDEM_ASSERT(index < ctx->out->record_count + 1);
    const tandem_record *cmd = ctx->command;
    if (cmd->request_id == TANDEM_NONE && cmd->request_stream_id == TANDEM_NONE) {
        return;
    }
    TANDEM_ASSERT(ctx->out->response_index < 0);
    r->request_stream_id = cmd->request_stream_id;
    r->request_id = cmd->request_id;
    ctx->out->response_index = (int32_t)index;
}

int engine_emit(engine_ctx *ctx, uint8_t record_type, uint8_t value_type, uint16_t intent,
                uint64_t key, engine_encode_fn encode, const void *value, bool answer)
{
    TANDEM_ASSERT(ctx != NULL && encode != NULL && value != NULL);
    TANDEM_ASSERT(record_type != TANDEM_RECORD_COMMAND_REJECTION);
    tandem_record *r;
    uint32_t n;
    int rc = record_slot(ctx, &r, &n);
    if (rc != 0) {
        return rc;
    }
    tandem_engine_output *out = ctx->out;
    size_t off = out->bytes.len;
    rc = encode(value, &out->bytes);
    if (rc != 0) {
        return tandem_diag_set(ctx->diag, rc, "engine: encoding a %s value failed",
                               tandem_value_type_name(value_type, &(tandem_name_buf){{0}}));
    }
    r->record_type = record_type;
    r->value_type = value_type;
    r->intent = intent;
    r->key = key;
    r->value_len = out->bytes.len - off;
    out->record_offs[n].value = off;
    out->record_count++;
    if (answer && !ctx->in_follow_up) {
        answer_with(ctx, r, n);
    }
    if (record_type == TANDEM_RECORD_COMMAND) {
        return engine_queue_follow_up(ctx, n);
    }
    r->value = bytes_at(out, off);
    /* Applied through the followers' path, so the leader's state is what
     * replaying this very record gives. */
    return engine_apply_event(ctx->engine, ctx->txn, r, ctx->diag);
}

int engine_reject(engine_ctx *ctx, uint8_t rejection_type, const char *fmt, ...)
{
    TANDEM_ASSERT(ctx != NULL && fmt != NULL);
    /* A rejection follows only the command: checks run before any event. */
    TANDEM_ASSERT(ctx->out->record_count == 1);
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    TANDEM_ASSERT(len >= 0);
    size_t reason_len = (size_t)len < sizeof(reason) ? (size_t)len : sizeof(reason) - 1;
    tandem_record *r;
    uint32_t n;
    int rc = record_slot(ctx, &r, &n);
    if (rc != 0) {
        return rc;
    }
    tandem_engine_output *out = ctx->out;
    const tandem_record *cmd = ctx->command;
    size_t value_off, reason_off;
    if (append_bytes(out, cmd->value, cmd->value_len, &value_off) != 0 ||
        append_bytes(out, reason, reason_len, &reason_off) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for a rejection");
    }
    r->record_type = TANDEM_RECORD_COMMAND_REJECTION;
    r->value_type = cmd->value_type;
    r->intent = cmd->intent;
    r->key = cmd->key;
    r->rejection_type = rejection_type;
    r->rejection_reason_len = reason_len;
    r->value_len = cmd->value_len;
    out->record_offs[n].value = value_off;
    out->record_offs[n].reason = reason_off;
    out->record_count++;
    answer_with(ctx, r, n);
    ctx->rejected = true;
    return 0;
}

int engine_note_activatable(engine_ctx *ctx, tandem_sv type)
{
    TANDEM_ASSERT(ctx != NULL);
    tandem_engine_output *out = ctx->out;
    for (uint32_t i = 0; i < out->activatable_type_count; i++) {
        tandem_sv seen = {(const char *)bytes_at(out, out->type_offs[i]),
                          out->activatable_types[i].len};
        if (tandem_sv_eq(seen, type)) {
            return 0;
        }
    }
    if (grow((void **)&out->activatable_types, sizeof(*out->activatable_types),
             (void **)&out->type_offs, sizeof(*out->type_offs), &out->type_cap,
             out->activatable_type_count) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    size_t off;
    if (append_bytes(out, type.ptr, type.len, &off) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    out->type_offs[out->activatable_type_count] = off;
    out->activatable_types[out->activatable_type_count] = (tandem_sv){NULL, type.len};
    out->activatable_type_count++;
    return 0;
}

int engine_add_result(engine_ctx *ctx, int32_t request_stream_id, int64_t request_id, uint64_t key,
                      const tandem_process_instance_result_value *v)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL);
    tandem_engine_output *out = ctx->out;
    if (grow((void **)&out->results, sizeof(*out->results), (void **)&out->result_offs,
             sizeof(*out->result_offs), &out->result_cap, out->result_count) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    size_t off = out->bytes.len;
    int rc = tandem_process_instance_result_value_encode(v, &out->bytes);
    if (rc != 0) {
        return tandem_diag_set(ctx->diag, rc, "engine: encoding a process instance result");
    }
    tandem_engine_result *res = &out->results[out->result_count];
    res->request_stream_id = request_stream_id;
    res->request_id = request_id;
    tandem_record_init(&res->record);
    res->record.record_type = TANDEM_RECORD_EVENT;
    res->record.value_type = TANDEM_VALUE_PROCESS_INSTANCE_RESULT;
    res->record.intent = TANDEM_INTENT_PROCESS_INSTANCE_RESULT_COMPLETED;
    res->record.key = key;
    res->record.timestamp_ms = ctx->command->timestamp_ms;
    res->record.partition_id = ctx->command->partition_id;
    res->record.request_stream_id = request_stream_id;
    res->record.request_id = request_id;
    res->record.value_len = out->bytes.len - off;
    out->result_offs[out->result_count] = (engine_record_offsets){off, off, off};
    out->result_count++;
    return 0;
}

tandem_sv engine_record_value(const engine_ctx *ctx, uint32_t i)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(i < ctx->out->record_count);
    const tandem_record *r = &ctx->out->records[i];
    return (tandem_sv){(const char *)bytes_at(ctx->out, ctx->out->record_offs[i].value),
                       r->value_len};
}

int engine_queue_follow_up(engine_ctx *ctx, uint32_t index)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(index < ctx->out->record_count);
    if (ctx->follow_up_count >= TANDEM_ENGINE_FOLLOW_UPS_MAX) {
        return tandem_diag_set(ctx->diag, TANDEM_ETOOBIG,
                               "engine: the command at position %llu needs more than %u follow-up "
                               "commands",
                               (unsigned long long)ctx->command->position,
                               TANDEM_ENGINE_FOLLOW_UPS_MAX);
    }
    ctx->follow_ups[ctx->follow_up_count++] = index;
    return 0;
}

/* ---- Key generator ------------------------------------------------------ */

uint64_t engine_key_new(engine_ctx *ctx)
{
    TANDEM_ASSERT(ctx != NULL);
    /* The counter runs out after 2^51 keys; at a million keys a second that
     * is 71 years, so it is an invariant, not an input error. */
    TANDEM_ASSERT(ctx->key_next <= TANDEM_KEY_COUNTER_MAX);
    return tandem_key_encode(ctx->engine->partition_id, ctx->key_next++);
}

/* ---- Processing --------------------------------------------------------- */

static int dispatch(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    TANDEM_ASSERT(cmd->record_type == TANDEM_RECORD_COMMAND);
    switch (cmd->value_type) {
    case TANDEM_VALUE_DEPLOYMENT:
        if (cmd->intent == TANDEM_INTENT_DEPLOYMENT_CREATE) {
            return engine_deploy(ctx, cmd);
        }
        break;
    case TANDEM_VALUE_PROCESS_INSTANCE_CREATION:
        if (cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE ||
            cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT) {
            return engine_create_instance(ctx, cmd);
        }
        break;
    case TANDEM_VALUE_PROCESS_INSTANCE:
        /* ACTIVATE_ELEMENT and COMPLETE_ELEMENT are the engine's own
         * follow-ups; from outside they are not accepted. */
        if (cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_CANCEL ||
            (ctx->in_follow_up &&
             (cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_ACTIVATE_ELEMENT ||
              cmd->intent == TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT))) {
            return engine_pi_command(ctx, cmd);
        }
        break;
    case TANDEM_VALUE_JOB:
        return engine_job_command(ctx, cmd);
    case TANDEM_VALUE_JOB_BATCH:
        if (cmd->intent == TANDEM_INTENT_JOB_BATCH_ACTIVATE) {
            return engine_job_batch_activate(ctx, cmd);
        }
        break;
    case TANDEM_VALUE_INCIDENT:
        return engine_incident_command(ctx, cmd);
    case TANDEM_VALUE_VARIABLE_DOCUMENT:
        return engine_variable_document_command(ctx, cmd);
    case TANDEM_VALUE_COMMAND_DISTRIBUTION:
        if (cmd->intent == TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE && !ctx->in_follow_up) {
            return engine_distribution_ack(ctx, cmd);
        }
        break;
    default:
        break;
    }
    tandem_name_buf vt, in;
    return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                         "Expected to process a supported command, but %s %s is not supported",
                         tandem_value_type_name(cmd->value_type, &vt),
                         tandem_intent_name(cmd->value_type, cmd->intent, &in));
}

/* Copies the command as records[0] (its bytes owned by the output). */
static int emit_command(engine_ctx *ctx)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(ctx->out->record_count == 0);
    tandem_record *r;
    uint32_t n;
    int rc = record_slot(ctx, &r, &n);
    if (rc != 0) {
        return rc;
    }
    TANDEM_ASSERT(n == 0);
    const tandem_record *cmd = ctx->command;
    engine_record_offsets *o = &ctx->out->record_offs[0];
    if (append_bytes(ctx->out, cmd->value, cmd->value_len, &o->value) != 0 ||
        append_bytes(ctx->out, cmd->ext, cmd->ext_len, &o->ext) != 0) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    *r = *cmd;
    ctx->out->record_count = 1;
    return 0;
}

static int run_follow_ups(engine_ctx *ctx)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(ctx->follow_up_count <= TANDEM_ENGINE_FOLLOW_UPS_MAX);
    int rc = 0;
    while (rc == 0 && ctx->follow_up_done < ctx->follow_up_count) {
        uint32_t i = ctx->follow_ups[ctx->follow_up_done++];
        tandem_record fu = ctx->out->records[i];
        tandem_sv value;
        tandem_sv now = engine_record_value(ctx, i);
        /* The output's bytes move as records are added: work on a copy. */
        if (engine_arena_dup(&ctx->engine->arena, now.ptr, now.len, &value) != 0) {
            return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
        }
        fu.value = (const uint8_t *)value.ptr;
        fu.value_len = value.len;
        ctx->in_follow_up = true;
        rc = dispatch(ctx, &fu);
        TANDEM_ASSERT(rc != 0 || !ctx->rejected);
    }
    return rc;
}

int tandem_engine_process(tandem_engine *engine, tandem_kv_txn *txn, const tandem_record *command,
                          tandem_engine_output *out, tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && command != NULL && out != NULL);
    TANDEM_ASSERT(tandem_kv_txn_is_write(txn));
    output_reset(out);
    if (command->record_type != TANDEM_RECORD_COMMAND) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "engine: record at position %llu is not a command",
                               (unsigned long long)command->position);
    }
    call_enter(engine);
    engine_ctx ctx = {.engine = engine, .txn = txn, .command = command, .out = out, .diag = diag};
    int rc = engine_key_next_get(engine, txn, &ctx.key_next, diag);
    if (rc == 0) {
        rc = emit_command(&ctx);
    }
    if (rc == 0) {
        rc = dispatch(&ctx, command);
    }
    if (rc == 0 && !ctx.rejected) {
        rc = run_follow_ups(&ctx);
    }
    if (rc == 0) {
        /* Every key handed out is carried by an applied event, so the
         * replicated generator is at least where this call left it. */
        uint64_t next = 0;
        rc = engine_key_next_get(engine, txn, &next, diag);
        TANDEM_ASSERT(rc != 0 || next >= ctx.key_next);
    }
    output_fix_views(out);
    call_leave(engine);
    return rc;
}

int tandem_engine_apply(tandem_engine *engine, tandem_kv_txn *txn, const tandem_record *record,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && record != NULL);
    TANDEM_ASSERT(tandem_kv_txn_is_write(txn));
    if (record->record_type != TANDEM_RECORD_EVENT) {
        return 0;
    }
    call_enter(engine);
    int rc = engine_apply_event(engine, txn, record, diag);
    call_leave(engine);
    return rc;
}

int tandem_engine_due(tandem_engine *engine, tandem_kv_txn *txn, uint64_t now_ms,
                      tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && out != NULL);
    output_reset(out);
    call_enter(engine);
    int rc = engine_due_scan(engine, txn, now_ms, out, next_due_ms, diag);
    output_fix_views(out);
    call_leave(engine);
    return rc;
}

int tandem_engine_resends(tandem_engine *engine, tandem_kv_txn *txn, uint64_t since_ms,
                          uint64_t now_ms, tandem_engine_output *out, int64_t *next_due_ms,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && out != NULL);
    TANDEM_ASSERT(since_ms <= now_ms);
    output_reset(out);
    call_enter(engine);
    int rc = engine_resend_scan(engine, txn, since_ms, now_ms, out, next_due_ms, diag);
    output_fix_views(out);
    call_leave(engine);
    return rc;
}

int engine_output_add_send(tandem_engine_output *out, uint32_t partition_id,
                           const tandem_record *proto, tandem_sv value)
{
    TANDEM_ASSERT(out != NULL && proto != NULL);
    TANDEM_ASSERT(proto->record_type == TANDEM_RECORD_COMMAND);
    if (grow((void **)&out->sends, sizeof(*out->sends), (void **)&out->send_offs,
             sizeof(*out->send_offs), &out->send_cap, out->send_count) != 0) {
        return TANDEM_ENOMEM;
    }
    size_t off;
    if (append_bytes(out, value.ptr, value.len, &off) != 0) {
        return TANDEM_ENOMEM;
    }
    tandem_engine_send *s = &out->sends[out->send_count];
    s->partition_id = partition_id;
    s->command = *proto;
    s->command.value = NULL; /* pointed at the bytes by output_fix_views */
    s->command.value_len = value.len;
    s->command.rejection_reason = NULL;
    s->command.rejection_reason_len = 0;
    s->command.ext = NULL;
    s->command.ext_len = 0;
    out->send_offs[out->send_count] = (engine_record_offsets){off, off, off};
    out->send_count++;
    return 0;
}

int engine_output_add_command(tandem_engine_output *out, const tandem_record *proto,
                              engine_encode_fn encode, const void *value)
{
    TANDEM_ASSERT(out->record_count < TANDEM_ENGINE_DUE_MAX);
    TANDEM_ASSERT(out != NULL && proto != NULL && encode != NULL);
    if (grow((void **)&out->records, sizeof(*out->records), (void **)&out->record_offs,
             sizeof(*out->record_offs), &out->record_cap, out->record_count) != 0) {
        return TANDEM_ENOMEM;
    }
    size_t off = out->bytes.len;
    int rc = encode(value, &out->bytes);
    if (rc != 0) {
        return rc;
    }
    uint32_t n = out->record_count++;
    out->records[n] = *proto;
    out->records[n].value_len = out->bytes.len - off;
    out->record_offs[n] = (engine_record_offsets){off, off, off};
    TANDEM_ASSERT(out->records[n].record_type == TANDEM_RECORD_COMMAND);
    return 0;
}
