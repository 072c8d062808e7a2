/*
 * partition.h — one partition replica on this broker: its data directory,
 * its journal and its state, recovery when it opens, and the one apply path
 * through which committed entries reach the state.
 *
 * Commit. In this build a partition has one replica, so an entry is committed
 * as soon as it is durable in the local journal: `flush` advances the commit
 * index to the journal's durable index. Raft will replace only that rule (the
 * commit index will come from the quorum); appending, applying and recovery
 * stay as they are.
 *
 * Apply. Committed entries are applied in log order, many per state
 * transaction, by the caller's apply function, and the transaction records the
 * index of the last entry it applied (the state's applied position) in the
 * same commit. A crash between a journal flush and a state commit therefore
 * leaves the state behind the journal, never ahead, and `open` applies the
 * committed entries after the applied position again: the apply function must
 * be a pure function of (state, entry), so that replay gives the state a clean
 * run gives (DESIGN §2, "followers only apply events").
 *
 * Threads: a partition is owned by one thread (the broker's I/O thread); no
 * call is thread-safe.
 */
#ifndef TANDEM_STREAM_PARTITION_H
#define TANDEM_STREAM_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/fileops.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "state/kv.h"

/*
 * Applies one committed entry to the state inside `txn` (a write
 * transaction the partition owns; do not commit or abort it). `payload` is
 * valid during the call. A non-zero return aborts the transaction and stops
 * the partition: the entry cannot be applied, which for a committed entry is
 * a bug or damage, never a reason to skip it.
 */
typedef int (*tandem_apply_fn)(void *arg, tandem_kv_txn *txn, const tandem_journal_entry *entry,
                               const uint8_t *payload, tandem_diag *diag);

typedef struct tandem_partition_options {
    tandem_fileops *ops;      /* journal and data directory I/O; must outlive the partition */
    tandem_rand *rand;        /* draws the incarnation id of a new data directory */
    const char *data_root;    /* data.directory; copied */
    const char *cluster_name; /* copied */
    uint32_t node_id;
    uint32_t partition_id;
    tandem_journal_options journal;
    uint64_t state_map_size_bytes;
    /* State tables, the first being TANDEM_PARTITION_TABLE_NAME; copied.
     * Default: that one table. */
    const char *const *table_names;
    uint32_t table_count;
    /* Keep the state in memory instead of LMDB (tests, simulator): it is
     * rebuilt from the journal on every open. */
    bool state_in_memory;
    /* Upper bound of entries applied in one state transaction. */
    uint32_t apply_entries_max;
    tandem_apply_fn apply; /* NULL: entries are only checked to be readable */
    void *apply_arg;
} tandem_partition_options;

typedef struct tandem_partition tandem_partition;

/*
 * Table 0 of every partition's state is the partition's own ("partition"):
 * it keeps the position of the last record written, so a restarted leader
 * numbers on from there. Other modules' tables (the engine's) follow it.
 */
#define TANDEM_PARTITION_TABLE      0u
#define TANDEM_PARTITION_TABLE_NAME "partition"

/* The last record position in the state (0 before the first record). */
int tandem_partition_last_position(tandem_kv_txn *txn, uint64_t *out, tandem_diag *diag);
int tandem_partition_set_last_position(tandem_kv_txn *txn, uint64_t position, tandem_diag *diag);

/* Fills in defaults for everything but the identity fields and paths. */
void tandem_partition_options_default(tandem_partition_options *opts);

/*
 * Opens (creating on first use) the partition's data directory, recovers the
 * journal (torn tail cut, corruption refused) and the state, and applies the
 * committed entries after the state's applied position. A state ahead of its
 * journal, or a journal compacted past the state, is refused with
 * TANDEM_ECORRUPT naming both positions. On success *out is the caller's, to
 * release with tandem_partition_close; on failure nothing is left open.
 */
int tandem_partition_open(const tandem_partition_options *opts, tandem_partition **out,
                          tandem_diag *diag);

/* Closes the state and journal (nothing more is flushed) and frees. NULL ok. */
void tandem_partition_close(tandem_partition *p);

/* Appends an entry of the current term (not yet durable, not committed). */
int tandem_partition_append(tandem_partition *p, uint8_t kind, const void *payload,
                            size_t payload_size_bytes, uint64_t *index_out, tandem_diag *diag);

/* Makes everything appended durable with one fsync and advances the commit
 * index to it. A failure stops the partition (journal fail-stop). */
int tandem_partition_flush(tandem_partition *p, tandem_diag *diag);

/* Applies committed entries after the applied position, in transactions of
 * at most apply_entries_max entries, each committed with its position. */
int tandem_partition_apply(tandem_partition *p, tandem_diag *diag);

/*
 * Leader rounds. The write transaction of a round holds the effects of every
 * command processed in it — with one replica, this open transaction is the
 * in-memory overlay of DESIGN §2: later commands of the round see earlier
 * ones, nothing is visible to readers or durable until the round commits.
 * round_commit makes the round's appended entries durable (one fsync) and
 * then commits the transaction with the applied position set to the last of
 * them, so the state never runs ahead of the journal. A failure of either
 * stops the partition. round_abort discards the transaction (nothing of the
 * round may have been appended then).
 */
int tandem_partition_round_begin(tandem_partition *p, tandem_kv_txn **txn, tandem_diag *diag);
int tandem_partition_round_commit(tandem_partition *p, tandem_kv_txn *txn, tandem_diag *diag);
void tandem_partition_round_abort(tandem_partition *p, tandem_kv_txn *txn);

uint64_t tandem_partition_id(const tandem_partition *p);
uint64_t tandem_partition_commit_index(const tandem_partition *p);
uint64_t tandem_partition_applied_index(const tandem_partition *p);
uint64_t tandem_partition_term(const tandem_partition *p);
/* Borrowed handles, valid until close. */
tandem_journal *tandem_partition_journal(tandem_partition *p);
tandem_kv *tandem_partition_kv(tandem_partition *p);
const char *tandem_partition_incarnation_hex(const tandem_partition *p);

#endif
