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
#include <stdio.h>
#include <string.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/buf.h"

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
    partition_slot *slot = arg;
    TANDEM_ASSERT(slot != NULL);
    uint32_t records = 0;
    int rc = tandem_processor_apply_entry(slot->engine, txn, entry, payload, &records, diag);
    atomic_fetch_add(&slot->replayed_records, records);
    return rc;
}

void broker_apply_options(tandem_partition_options *opts, partition_slot *slot)
{
    TANDEM_ASSERT(opts != NULL && slot != NULL && slot->engine != NULL);
    tables_init();
    opts->apply = apply_entry;
    opts->apply_arg = slot;
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

/* --- tandemctl state digest --- */

static void print_digest(FILE *out, const char *what, const uint64_t d[2], uint64_t applied)
{
    fprintf(out, "%s digest %016llx%016llx applied %llu\n", what, (unsigned long long)d[0],
            (unsigned long long)d[1], (unsigned long long)applied);
}

/* Applies the whole journal in `journal_dir` from index 1 to a fresh
 * in-memory state: what a run without any crash would hold. */
static int replay_digest(partition_slot *slot, const char *journal_dir, uint64_t d[2],
                         uint64_t *applied, tandem_diag *diag)
{
    tandem_journal *j = NULL;
    int rc = tandem_journal_open(tandem_fileops_posix(), journal_dir, NULL, &j, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (tandem_journal_first_index(j) != 1) {
        tandem_journal_close(j);
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "the journal starts at index %llu (compacted): it cannot be "
                               "replayed from the start",
                               (unsigned long long)tandem_journal_first_index(j));
    }
    tandem_kv_options kopts = {broker_tables, broker_table_count, 0};
    tandem_kv *kv = NULL;
    rc = tandem_kv_open_mem(&kopts, &kv, diag);
    tandem_kv_txn *txn = NULL;
    if (rc == TANDEM_OK) {
        rc = tandem_kv_begin_write(kv, &txn, diag);
    }
    tandem_buf payload = TANDEM_BUF_INIT;
    uint64_t last = tandem_journal_last_index(j);
    for (uint64_t i = 1; i <= last && rc == TANDEM_OK; i++) {
        tandem_journal_entry e;
        rc = tandem_journal_read(j, i, &e, &payload, diag);
        if (rc == TANDEM_OK) {
            rc = apply_entry(slot, txn, &e, payload.data, diag);
        }
    }
    if (rc == TANDEM_OK) {
        rc = tandem_kv_commit(txn, last, diag);
        txn = NULL;
    }
    if (rc == TANDEM_OK) {
        rc = tandem_kv_digest(kv, d, diag);
        *applied = last;
    }
    tandem_kv_abort(txn);
    tandem_buf_free(&payload);
    tandem_kv_close(kv);
    tandem_journal_close(j);
    return rc;
}

int broker_state_digests(const char *dir, FILE *out, FILE *err)
{
    TANDEM_ASSERT(dir != NULL && out != NULL && err != NULL);
    tables_init();
    const char *base = strrchr(dir, '/');
    base = base != NULL && base[1] != '\0' ? base + 1 : dir;
    unsigned partition_id = 0;
    if (sscanf(base, "partition-%u", &partition_id) != 1 || partition_id == 0) {
        fprintf(err, "tandemctl: %s is not a partition folder (partition-<id>)\n", dir);
        return 2;
    }
    partition_slot slot;
    memset(&slot, 0, sizeof(slot));
    tandem_diag diag;
    tandem_diag_clear(&diag);
    tandem_engine_config ecfg = {.partition_id = partition_id,
                                 .table_base = broker_engine_table_base()};
    int rc = tandem_engine_create(&ecfg, &slot.engine, &diag);
    char path[4200];
    uint64_t stored[2] = {0, 0};
    uint64_t replayed[2] = {0, 0};
    uint64_t stored_applied = 0;
    uint64_t replay_applied = 0;
    if (rc == TANDEM_OK) {
        snprintf(path, sizeof(path), "%s/state", dir);
        tandem_kv_options kopts = {broker_tables, broker_table_count, 0};
        tandem_kv *kv = NULL;
        rc = tandem_kv_open_lmdb(path, &kopts, &kv, &diag);
        if (rc == TANDEM_OK) {
            rc = tandem_kv_digest(kv, stored, &diag);
            stored_applied = tandem_kv_applied_position(kv);
            tandem_kv_close(kv);
        }
    }
    if (rc == TANDEM_OK) {
        snprintf(path, sizeof(path), "%s/journal", dir);
        rc = replay_digest(&slot, path, replayed, &replay_applied, &diag);
    }
    tandem_engine_destroy(slot.engine);
    if (rc != TANDEM_OK) {
        fprintf(err, "tandemctl: %s: %s\n", dir, tandem_diag_text(&diag));
        return 1;
    }
    print_digest(out, "state ", stored, stored_applied);
    print_digest(out, "replay", replayed, replay_applied);
    bool equal =
        stored[0] == replayed[0] && stored[1] == replayed[1] && stored_applied == replay_applied;
    fprintf(out, "%s\n", equal ? "equal" : "DIFFERENT");
    return equal ? 0 : 1;
}
