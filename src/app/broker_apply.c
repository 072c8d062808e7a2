/*
 * The broker's apply function for committed journal entries, and the probe
 * records of the management write path.
 *
 * Until the engine exists, applying a data entry means checking that its
 * batch decodes and continues the partition's record positions without a gap,
 * and recording the last position in the state, in the same transaction as
 * the applied index: a restarted leader continues numbering from there.
 */
#include <string.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/buf.h"
#include "protocol/batch.h"
#include "protocol/field.h"
#include "protocol/record.h"
#include "protocol/types.h"

enum { TABLE_PARTITION = 0 };

static const char *const broker_tables[] = {"partition"};
static const char last_position_key[] = "last_position";

static int read_last_position(tandem_kv_txn *txn, uint64_t *out, tandem_diag *diag)
{
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, TABLE_PARTITION, last_position_key, sizeof(last_position_key) - 1,
                           &v, diag);
    if (rc == TANDEM_ENOENT) {
        *out = 0;
        return TANDEM_OK;
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (v.len != 8) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "state table partition: last_position has %zu bytes, not 8", v.len);
    }
    *out = tandem_load_u64(v.data);
    return TANDEM_OK;
}

static int apply_entry(void *arg, tandem_kv_txn *txn, const tandem_journal_entry *entry,
                       const uint8_t *payload, tandem_diag *diag)
{
    (void)arg;
    TANDEM_ASSERT(txn != NULL && entry != NULL);
    if (entry->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK; /* no-ops and configurations carry no records */
    }
    tandem_batch_reader br;
    int rc = tandem_batch_open(&br, payload, entry->payload_size_bytes, diag);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "journal entry %llu: %s", (unsigned long long)entry->index,
                               tandem_diag_text(diag));
    }
    uint64_t last = 0;
    rc = read_last_position(txn, &last, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (br.count == 0) {
        return TANDEM_OK;
    }
    if (br.first_position != last + 1) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "journal entry %llu: batch starts at position %llu, "
                               "expected %llu",
                               (unsigned long long)entry->index,
                               (unsigned long long)br.first_position,
                               (unsigned long long)(last + 1));
    }
    uint8_t value[8];
    tandem_store_u64(value, br.first_position + br.count - 1);
    return tandem_kv_put(txn, TABLE_PARTITION, last_position_key, sizeof(last_position_key) - 1,
                         value, sizeof(value), diag);
}

void broker_apply_options(tandem_partition_options *opts)
{
    TANDEM_ASSERT(opts != NULL);
    opts->apply = apply_entry;
    opts->apply_arg = NULL;
    opts->table_names = broker_tables;
    opts->table_count = sizeof(broker_tables) / sizeof(broker_tables[0]);
}

int broker_apply_next_position(tandem_partition *p, uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && out != NULL);
    /* after open everything committed is applied: the state knows the last position */
    TANDEM_ASSERT(tandem_partition_applied_index(p) == tandem_partition_commit_index(p));
    tandem_kv_txn *txn = NULL;
    int rc = tandem_kv_begin_read(tandem_partition_kv(p), &txn, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint64_t last = 0;
    rc = read_last_position(txn, &last, diag);
    tandem_kv_abort(txn);
    *out = last + 1;
    return rc;
}

int broker_probe_batch(tandem_buf *out, uint32_t partition_id, uint64_t position,
                       uint64_t timestamp_ms, const void *payload, size_t len, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL && position > 0);
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &value);
    tandem_field_put_bytes(&w, 1, payload, len);
    int rc = tandem_field_writer_finish(&w);
    if (rc != TANDEM_OK) {
        tandem_buf_free(&value);
        return tandem_diag_set(diag, rc, "probe value: %s", tandem_strerror(rc));
    }
    tandem_record rec;
    tandem_record_init(&rec);
    rec.position = position;
    rec.timestamp_ms = timestamp_ms;
    rec.partition_id = (uint16_t)partition_id;
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.value_type = TANDEM_VALUE_PROBE;
    rec.intent = TANDEM_INTENT_PROBE_APPENDED;
    rec.value = value.data;
    rec.value_len = value.len;
    rc = tandem_batch_encode(out, &rec, 1, diag);
    tandem_buf_free(&value);
    return rc;
}
