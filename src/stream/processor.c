/* Leader processing of one partition (see processor.h). */
#include "stream/processor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "export/exporter_record.h"
#include "base/log.h"
#include "journal/journal.h"
#include "protocol/batch.h"
#include "protocol/field.h"
#include "engine/value.h"
#include "protocol/types.h"

/* Rounds re-run after taking out a command the engine failed on. */
#define PROCESSOR_RESTARTS_MAX 16

struct tandem_processor {
    tandem_partition *partition;
    tandem_engine *engine;
    uint32_t entry_size_bytes_max;
    uint64_t next_position;
    uint64_t last_timestamp_ms;
    tandem_engine_output out;    /* reused for every command */
    tandem_engine_output due;    /* reused for the due commands */
    tandem_engine_output resend; /* reused for the re-sends */
    uint64_t resend_since_ms;    /* now of the last committed (or empty) round; 0 at start */
    tandem_buf batches;          /* the round's encoded batches, back to back */
    size_t *batch_ends;          /* end offset of each batch in `batches` */
    tandem_item **batch_items;   /* the item of each batch, NULL for due commands */
    size_t batch_cap;
    size_t batch_count;
};

void tandem_item_init(tandem_item *item, int kind)
{
    TANDEM_ASSERT(item != NULL);
    TANDEM_ASSERT(kind == TANDEM_ITEM_COMMAND || kind == TANDEM_ITEM_PROBE ||
                  kind == TANDEM_ITEM_EXPORTER);
    memset(item, 0, sizeof(*item));
    item->kind = kind;
    tandem_record_init(&item->command);
    tandem_buf_init(&item->payload);
    tandem_buf_init(&item->response_bytes);
}

void tandem_item_free(tandem_item *item)
{
    if (item == NULL) {
        return;
    }
    tandem_buf_free(&item->payload);
    tandem_buf_free(&item->response_bytes);
}

void tandem_round_output_init(tandem_round_output *out)
{
    TANDEM_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    tandem_buf_init(&out->types);
    tandem_buf_init(&out->result_bytes);
    tandem_buf_init(&out->send_bytes);
    out->next_due_ms = INT64_MAX;
}

void tandem_round_output_free(tandem_round_output *out)
{
    if (out == NULL) {
        return;
    }
    tandem_buf_free(&out->types);
    tandem_buf_free(&out->result_bytes);
    tandem_buf_free(&out->send_bytes);
    free(out->results);
    free(out->sends);
    memset(out, 0, sizeof(*out));
}

static void round_output_reset(tandem_round_output *out)
{
    tandem_buf_reset(&out->types);
    tandem_buf_reset(&out->result_bytes);
    tandem_buf_reset(&out->send_bytes);
    out->type_count = 0;
    out->result_count = 0;
    out->send_count = 0;
    out->next_due_ms = INT64_MAX;
}

int tandem_record_copy(tandem_record *dst, tandem_buf *bytes, const tandem_record *src)
{
    TANDEM_ASSERT(dst != NULL && bytes != NULL && src != NULL);
    tandem_buf_reset(bytes);
    int rc = tandem_buf_reserve(bytes, src->value_len + src->rejection_reason_len + src->ext_len);
    if (rc != TANDEM_OK) {
        return rc;
    }
    *dst = *src;
    /* the reservation above means these appends never move the buffer */
    size_t value_off = bytes->len;
    tandem_buf_append(bytes, src->value, src->value_len);
    size_t reason_off = bytes->len;
    tandem_buf_append(bytes, src->rejection_reason, src->rejection_reason_len);
    size_t ext_off = bytes->len;
    tandem_buf_append(bytes, src->ext, src->ext_len);
    dst->value = src->value_len > 0 ? bytes->data + value_off : NULL;
    dst->rejection_reason =
        src->rejection_reason_len > 0 ? (const char *)bytes->data + reason_off : NULL;
    dst->ext = src->ext_len > 0 ? bytes->data + ext_off : NULL;
    return TANDEM_OK;
}

int tandem_processor_apply_entry(tandem_engine *engine, tandem_kv_txn *txn,
                                 const tandem_journal_entry *entry, const uint8_t *payload,
                                 uint32_t *records, tandem_diag *diag)
{
    TANDEM_ASSERT(engine != NULL && txn != NULL && entry != NULL);
    TANDEM_ASSERT(payload != NULL || entry->payload_size_bytes == 0);
    if (records != NULL) {
        *records = 0;
    }
    if (entry->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK; /* no-ops and configurations carry no records */
    }
    tandem_batch_reader br;
    tandem_diag bad;
    tandem_diag_clear(&bad);
    int rc = tandem_batch_open(&br, payload, entry->payload_size_bytes, &bad);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "journal entry %llu: %s", (unsigned long long)entry->index,
                               bad.message);
    }
    uint64_t last = 0;
    rc = tandem_partition_last_position(txn, &last, diag);
    if (rc != TANDEM_OK || br.count == 0) {
        return rc;
    }
    if (br.first_position != last + 1) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "journal entry %llu: batch starts at position %llu, "
                               "expected %llu",
                               (unsigned long long)entry->index,
                               (unsigned long long)br.first_position,
                               (unsigned long long)(last + 1));
    }
    tandem_record rec;
    while (tandem_batch_next(&br, &rec)) {
        rc = rec.value_type == TANDEM_VALUE_EXPORTER ? tandem_exporter_record_apply(txn, &rec, diag)
                                                     : tandem_engine_apply(engine, txn, &rec, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    if (records != NULL) {
        *records = br.count;
    }
    return tandem_partition_set_last_position(txn, br.first_position + br.count - 1, diag);
}

int tandem_processor_create(tandem_partition *p, tandem_engine *engine,
                            uint32_t entry_size_bytes_max, uint64_t next_position,
                            tandem_processor **out)
{
    TANDEM_ASSERT(p != NULL && engine != NULL && out != NULL);
    TANDEM_ASSERT(next_position > 0);
    tandem_processor *pr = calloc(1, sizeof(*pr));
    if (pr == NULL) {
        return TANDEM_ENOMEM;
    }
    pr->partition = p;
    pr->engine = engine;
    pr->entry_size_bytes_max = entry_size_bytes_max;
    pr->next_position = next_position;
    tandem_engine_output_init(&pr->out);
    tandem_engine_output_init(&pr->due);
    tandem_engine_output_init(&pr->resend);
    tandem_buf_init(&pr->batches);
    *out = pr;
    return TANDEM_OK;
}

void tandem_processor_destroy(tandem_processor *pr)
{
    if (pr == NULL) {
        return;
    }
    tandem_engine_output_free(&pr->out);
    tandem_engine_output_free(&pr->due);
    tandem_engine_output_free(&pr->resend);
    tandem_buf_free(&pr->batches);
    free(pr->batch_ends);
    free(pr->batch_items);
    free(pr);
}

uint64_t tandem_processor_next_position(const tandem_processor *pr)
{
    return pr->next_position;
}

static int batch_push(tandem_processor *pr, tandem_item *item)
{
    if (pr->batch_count == pr->batch_cap) {
        size_t cap = pr->batch_cap == 0 ? 64 : pr->batch_cap * 2;
        size_t *ends = realloc(pr->batch_ends, cap * sizeof(*ends));
        if (ends == NULL) {
            return TANDEM_ENOMEM;
        }
        pr->batch_ends = ends;
        tandem_item **items = realloc(pr->batch_items, cap * sizeof(*items));
        if (items == NULL) {
            return TANDEM_ENOMEM;
        }
        pr->batch_items = items;
        pr->batch_cap = cap;
    }
    pr->batch_ends[pr->batch_count] = pr->batches.len;
    pr->batch_items[pr->batch_count] = item;
    pr->batch_count++;
    return TANDEM_OK;
}

static int add_type(tandem_round_output *out, tandem_sv type)
{
    /* each type once: the list is short (types of one round) */
    size_t off = 0;
    for (uint32_t i = 0; i < out->type_count; i++) {
        const char *t = (const char *)out->types.data + off;
        size_t n = strlen(t);
        if (n == type.len && memcmp(t, type.ptr, n) == 0) {
            return TANDEM_OK;
        }
        off += n + 1;
    }
    int rc = tandem_buf_append(&out->types, type.ptr, type.len);
    if (rc == TANDEM_OK) {
        rc = tandem_buf_put_u8(&out->types, 0);
    }
    if (rc == TANDEM_OK) {
        out->type_count++;
    }
    return rc;
}

/* Result records are copied; their views are fixed up once the round is done
 * (result_bytes may move while it grows), so offsets are kept meanwhile. */
static int add_result(tandem_round_output *out, const tandem_engine_result *r)
{
    if (out->result_count == out->result_cap) {
        uint32_t cap = out->result_cap == 0 ? 8 : out->result_cap * 2;
        tandem_engine_result *results = realloc(out->results, cap * sizeof(*results));
        if (results == NULL) {
            return TANDEM_ENOMEM;
        }
        out->results = results;
        out->result_cap = cap;
    }
    tandem_engine_result *dst = &out->results[out->result_count];
    *dst = *r;
    size_t off = out->result_bytes.len;
    int rc = tandem_buf_append(&out->result_bytes, r->record.value, r->record.value_len);
    if (rc != TANDEM_OK) {
        return rc;
    }
    dst->record.value = (const uint8_t *)(uintptr_t)off; /* offset until fix-up */
    dst->record.rejection_reason = NULL;
    dst->record.rejection_reason_len = 0;
    dst->record.ext = NULL;
    dst->record.ext_len = 0;
    out->result_count++;
    return TANDEM_OK;
}

/* Sends are copied like results (offsets until the fix-up). */
static int add_send(tandem_round_output *out, const tandem_engine_send *s)
{
    TANDEM_ASSERT(out != NULL && s != NULL);
    TANDEM_ASSERT(s->command.record_type == TANDEM_RECORD_COMMAND);
    if (out->send_count == out->send_cap) {
        uint32_t cap = out->send_cap == 0 ? 8 : out->send_cap * 2;
        tandem_engine_send *sends = realloc(out->sends, cap * sizeof(*sends));
        if (sends == NULL) {
            return TANDEM_ENOMEM;
        }
        out->sends = sends;
        out->send_cap = cap;
    }
    tandem_engine_send *dst = &out->sends[out->send_count];
    *dst = *s;
    size_t off = out->send_bytes.len;
    int rc = tandem_buf_append(&out->send_bytes, s->command.value, s->command.value_len);
    if (rc != TANDEM_OK) {
        return rc;
    }
    dst->command.value = (const uint8_t *)(uintptr_t)off; /* offset until fix-up */
    dst->command.rejection_reason = NULL;
    dst->command.rejection_reason_len = 0;
    dst->command.ext = NULL;
    dst->command.ext_len = 0;
    out->send_count++;
    return TANDEM_OK;
}

static void fix_results(tandem_round_output *out)
{
    for (uint32_t i = 0; i < out->result_count; i++) {
        uintptr_t off = (uintptr_t)out->results[i].record.value;
        out->results[i].record.value =
            out->results[i].record.value_len > 0 ? out->result_bytes.data + off : NULL;
    }
    for (uint32_t i = 0; i < out->send_count; i++) {
        uintptr_t off = (uintptr_t)out->sends[i].command.value;
        out->sends[i].command.value =
            out->sends[i].command.value_len > 0 ? out->send_bytes.data + off : NULL;
    }
}

/* Encodes the engine's records of one command as a batch and collects what
 * the round reports. */
static int take_output(tandem_processor *pr, const tandem_engine_output *eo, tandem_item *item,
                       tandem_round_output *out, tandem_diag *diag)
{
    TANDEM_ASSERT(eo->record_count > 0);
    size_t start = pr->batches.len;
    int rc = tandem_batch_encode(&pr->batches, eo->records, eo->record_count, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (pr->batches.len - start > pr->entry_size_bytes_max) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "the records of this command take %zu bytes, more than "
                               "data.entrySizeMax (%u)",
                               pr->batches.len - start, pr->entry_size_bytes_max);
    }
    rc = batch_push(pr, item);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (item != NULL) {
        item->position = eo->records[0].position;
        if (eo->response_index >= 0) {
            TANDEM_ASSERT((uint32_t)eo->response_index < eo->record_count);
            rc = tandem_record_copy(&item->response, &item->response_bytes,
                                    &eo->records[eo->response_index]);
            if (rc != TANDEM_OK) {
                return rc;
            }
            item->has_response = true;
        }
    }
    for (uint32_t i = 0; i < eo->activatable_type_count && rc == TANDEM_OK; i++) {
        rc = add_type(out, eo->activatable_types[i]);
    }
    for (uint32_t i = 0; i < eo->result_count && rc == TANDEM_OK; i++) {
        rc = add_result(out, &eo->results[i]);
    }
    for (uint32_t i = 0; i < eo->send_count && rc == TANDEM_OK; i++) {
        rc = add_send(out, &eo->sends[i]);
    }
    pr->next_position += eo->record_count;
    return rc;
}

static int probe_batch(tandem_processor *pr, tandem_item *item, uint64_t ts, tandem_diag *diag)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &value);
    tandem_field_put_bytes(&w, 1, item->payload.data, item->payload.len);
    int rc = tandem_field_writer_finish(&w);
    if (rc == TANDEM_OK) {
        tandem_record rec;
        tandem_record_init(&rec);
        rec.position = pr->next_position;
        rec.timestamp_ms = ts;
        rec.partition_id = (uint16_t)tandem_partition_id(pr->partition);
        rec.record_type = TANDEM_RECORD_EVENT;
        rec.value_type = TANDEM_VALUE_PROBE;
        rec.intent = TANDEM_INTENT_PROBE_APPENDED;
        rec.value = value.data;
        rec.value_len = value.len;
        size_t start = pr->batches.len;
        rc = tandem_batch_encode(&pr->batches, &rec, 1, diag);
        if (rc == TANDEM_OK && pr->batches.len - start > pr->entry_size_bytes_max) {
            rc = tandem_diag_set(diag, TANDEM_ETOOBIG,
                                 "a probe of %zu bytes is more than data.entrySizeMax (%u)",
                                 item->payload.len, pr->entry_size_bytes_max);
        }
    }
    tandem_buf_free(&value);
    if (rc == TANDEM_OK) {
        rc = batch_push(pr, item);
    }
    if (rc == TANDEM_OK) {
        item->position = pr->next_position++;
    }
    return rc;
}

/* An exporter's position: one EVENT, applied to the round's state at once
 * (the same function replay uses, so both build the same state). */
static int exporter_batch(tandem_processor *pr, tandem_kv_txn *txn, tandem_item *item, uint64_t ts,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(item->kind == TANDEM_ITEM_EXPORTER);
    tandem_record rec;
    tandem_record_init(&rec);
    rec.position = pr->next_position;
    rec.timestamp_ms = ts;
    rec.partition_id = (uint16_t)tandem_partition_id(pr->partition);
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.value_type = TANDEM_VALUE_EXPORTER;
    rec.intent = TANDEM_INTENT_EXPORTER_POSITION_UPDATED;
    rec.value = item->payload.data;
    rec.value_len = item->payload.len;
    int rc = tandem_exporter_record_apply(txn, &rec, diag);
    if (rc == TANDEM_OK) {
        rc = tandem_batch_encode(&pr->batches, &rec, 1, diag);
    }
    if (rc == TANDEM_OK) {
        rc = batch_push(pr, item);
    }
    if (rc == TANDEM_OK) {
        item->position = pr->next_position++;
    }
    return rc;
}

/* A JOB_BATCH ACTIVATE for a type with no activatable job would append an
 * empty ACTIVATED event; long polls ask often, so it is answered without a
 * record instead (has_response stays false: no jobs). */
static bool nothing_to_activate(tandem_processor *pr, tandem_kv_txn *txn, tandem_item *item,
                                int *rc, tandem_diag *diag)
{
    *rc = TANDEM_OK;
    if (item->command.value_type != TANDEM_VALUE_JOB_BATCH ||
        item->command.intent != TANDEM_INTENT_JOB_BATCH_ACTIVATE) {
        return false;
    }
    tandem_job_batch_value v;
    tandem_buf unknown = TANDEM_BUF_INIT;
    if (tandem_job_batch_value_decode(item->payload.data, item->payload.len, &v, &unknown, diag) !=
        TANDEM_OK) {
        tandem_buf_free(&unknown);
        return false; /* the engine rejects it properly */
    }
    bool any = true;
    *rc = tandem_engine_has_activatable(pr->engine, txn, v.type.ptr, v.type.len, &any, diag);
    tandem_buf_free(&unknown);
    return *rc == TANDEM_OK && !any;
}

enum { STEP_OK, STEP_RESTART, STEP_FATAL };

/* Processes the due commands and every item still in the round into `txn`. */
static int process_all(tandem_processor *pr, tandem_kv_txn *txn, tandem_item **items, size_t count,
                       uint64_t ts, tandem_round_output *out, int *fatal, tandem_diag *diag)
{
    uint32_t partition_id = (uint32_t)tandem_partition_id(pr->partition);
    int64_t resend_due_ms = INT64_MAX;
    int rc = tandem_engine_resends(pr->engine, txn, pr->resend_since_ms, ts, &pr->resend,
                                   &resend_due_ms, diag);
    for (uint32_t i = 0; i < pr->resend.send_count && rc == TANDEM_OK; i++) {
        rc = add_send(out, &pr->resend.sends[i]);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_engine_due(pr->engine, txn, ts, &pr->due, &out->next_due_ms, diag);
    }
    if (rc != TANDEM_OK) {
        *fatal = rc;
        return STEP_FATAL;
    }
    if (resend_due_ms < out->next_due_ms) {
        out->next_due_ms = resend_due_ms;
    }
    for (uint32_t i = 0; i < pr->due.record_count; i++) {
        tandem_record cmd = pr->due.records[i];
        cmd.position = pr->next_position;
        cmd.timestamp_ms = ts;
        cmd.partition_id = (uint16_t)partition_id;
        rc = tandem_engine_process(pr->engine, txn, &cmd, &pr->out, diag);
        if (rc == TANDEM_OK) {
            rc = take_output(pr, &pr->out, NULL, out, diag);
        }
        if (rc != TANDEM_OK) {
            *fatal = rc; /* due commands come from the state itself: no client to blame */
            return STEP_FATAL;
        }
    }
    for (size_t i = 0; i < count; i++) {
        tandem_item *item = items[i];
        if (item->rc != TANDEM_OK) {
            continue; /* taken out in an earlier attempt */
        }
        if (item->kind == TANDEM_ITEM_PROBE) {
            rc = probe_batch(pr, item, ts, diag);
        } else if (item->kind == TANDEM_ITEM_EXPORTER) {
            rc = exporter_batch(pr, txn, item, ts, diag);
        } else if (nothing_to_activate(pr, txn, item, &rc, diag)) {
            /* answered with no jobs and no record: an empty poll writes nothing */
        } else if (rc == TANDEM_OK) {
            tandem_record cmd = item->command;
            cmd.position = pr->next_position;
            cmd.timestamp_ms = ts;
            cmd.partition_id = (uint16_t)partition_id;
            cmd.value = item->payload.data;
            cmd.value_len = item->payload.len;
            rc = tandem_engine_process(pr->engine, txn, &cmd, &pr->out, diag);
            if (rc == TANDEM_OK) {
                rc = take_output(pr, &pr->out, item, out, diag);
            }
        }
        if (rc != TANDEM_OK) {
            item->rc = rc == TANDEM_ETOOBIG ? TANDEM_ETOOBIG : TANDEM_ESTATE;
            snprintf(item->error, sizeof(item->error), "command could not be processed: %s",
                     tandem_diag_text(diag != NULL ? diag : &(tandem_diag){rc, ""}));
            tandem_log(TANDEM_LOG_WARN, "command taken out of the round", "detail", item->error,
                       NULL);
            return STEP_RESTART;
        }
    }
    return STEP_OK;
}

static void round_reset(tandem_processor *pr, tandem_item **items, size_t count,
                        uint64_t first_position, tandem_round_output *out)
{
    pr->next_position = first_position;
    tandem_buf_reset(&pr->batches);
    pr->batch_count = 0;
    round_output_reset(out);
    for (size_t i = 0; i < count; i++) {
        items[i]->has_response = false;
    }
}

/* Appends the round's batches and commits it. */
static int append_all(tandem_processor *pr, tandem_kv_txn *txn, tandem_diag *diag)
{
    int rc = tandem_partition_set_last_position(txn, pr->next_position - 1, diag);
    if (rc != TANDEM_OK) {
        tandem_kv_abort(txn);
        return rc;
    }
    size_t start = 0;
    for (size_t b = 0; b < pr->batch_count; b++) {
        size_t end = pr->batch_ends[b];
        uint64_t index = 0;
        rc = tandem_partition_append(pr->partition, TANDEM_JOURNAL_DATA, pr->batches.data + start,
                                     end - start, &index, diag);
        if (rc != TANDEM_OK) {
            tandem_kv_abort(txn);
            return rc;
        }
        if (pr->batch_items[b] != NULL) {
            pr->batch_items[b]->index = index;
        }
        start = end;
    }
    return tandem_partition_round_commit(pr->partition, txn, diag);
}

int tandem_processor_round(tandem_processor *pr, tandem_item **items, size_t count, uint64_t now_ms,
                           tandem_round_output *out, tandem_diag *diag)
{
    TANDEM_ASSERT(pr != NULL && out != NULL);
    TANDEM_ASSERT(items != NULL || count == 0);
    uint64_t ts = now_ms > pr->last_timestamp_ms ? now_ms : pr->last_timestamp_ms;
    uint64_t first_position = pr->next_position;
    for (size_t i = 0; i < count; i++) {
        items[i]->rc = TANDEM_OK;
        items[i]->error[0] = '\0';
    }
    for (int attempt = 0; attempt <= PROCESSOR_RESTARTS_MAX; attempt++) {
        round_reset(pr, items, count, first_position, out);
        tandem_kv_txn *txn = NULL;
        int rc = tandem_partition_round_begin(pr->partition, &txn, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        int fatal = TANDEM_OK;
        int step = process_all(pr, txn, items, count, ts, out, &fatal, diag);
        if (step == STEP_RESTART) {
            tandem_partition_round_abort(pr->partition, txn);
            continue;
        }
        if (step == STEP_FATAL) {
            tandem_partition_round_abort(pr->partition, txn);
            round_reset(pr, items, count, first_position, out);
            return fatal;
        }
        if (pr->batch_count == 0) {
            tandem_partition_round_abort(pr->partition, txn); /* nothing written */
            fix_results(out);                                 /* re-sends may go out */
            pr->resend_since_ms = ts;
            return TANDEM_OK;
        }
        rc = append_all(pr, txn, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        fix_results(out);
        pr->last_timestamp_ms = ts;
        pr->resend_since_ms = ts;
        return TANDEM_OK;
    }
    /* every restart took one command out; more than the bound means the
     * engine fails on something that is not any one command */
    round_reset(pr, items, count, first_position, out);
    return tandem_diag_set(diag, TANDEM_ESTATE, "partition %llu: round failed %d times",
                           (unsigned long long)tandem_partition_id(pr->partition),
                           PROCESSOR_RESTARTS_MAX + 1);
}
