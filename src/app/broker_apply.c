/*
 * The apply path of the broker's partitions: a committed data entry is a
 * batch of records; applying it checks that the batch decodes and continues
 * the partition's record positions without a gap, hands every record to the
 * engine's one apply path (events change the state; commands, rejections and
 * probes do not), and records the last position — all in the transaction the
 * partition commits with the entry's index. Leader rounds write the same
 * state directly (stream/processor.c); this path serves replay after a
 * restart and, with Raft, followers.
 */
#include "app/broker_int.h"
#include "base/assert.h"
#include "base/buf.h"
#include "protocol/batch.h"
#include "protocol/record.h"

#define BROKER_TABLES_MAX 40u

static const char *broker_tables[BROKER_TABLES_MAX];
static uint32_t broker_table_count;

static void tables_init(void)
{
    if (broker_table_count != 0) {
        return;
    }
    uint32_t engine_count = 0;
    const char *const *engine_tables = tandem_engine_tables(&engine_count);
    TANDEM_ASSERT(engine_count + 1 <= BROKER_TABLES_MAX);
    broker_tables[0] = TANDEM_PARTITION_TABLE_NAME;
    for (uint32_t i = 0; i < engine_count; i++) {
        broker_tables[1 + i] = engine_tables[i];
    }
    broker_table_count = engine_count + 1;
}

uint32_t broker_engine_table_base(void)
{
    return 1;
}

static int apply_entry(void *arg, tandem_kv_txn *txn, const tandem_journal_entry *entry,
                       const uint8_t *payload, tandem_diag *diag)
{
    tandem_engine *engine = arg;
    TANDEM_ASSERT(engine != NULL && txn != NULL && entry != NULL);
    if (entry->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK; /* no-ops and configurations carry no records */
    }
    tandem_batch_reader br;
    int rc = tandem_batch_open(&br, payload, entry->payload_size_bytes, diag);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "journal entry %llu: %s",
                               (unsigned long long)entry->index, tandem_diag_text(diag));
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
        rc = tandem_engine_apply(engine, txn, &rec, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    return tandem_partition_set_last_position(txn, br.first_position + br.count - 1, diag);
}

void broker_apply_options(tandem_partition_options *opts, tandem_engine *engine)
{
    TANDEM_ASSERT(opts != NULL && engine != NULL);
    tables_init();
    opts->apply = apply_entry;
    opts->apply_arg = engine;
    opts->table_names = broker_tables;
    opts->table_count = broker_table_count;
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
    rc = tandem_partition_last_position(txn, &last, diag);
    tandem_kv_abort(txn);
    *out = last + 1;
    return rc;
}
