/*
 * raft_journal.h — the journal as the Raft log: the storage half of a Raft
 * host, shared by the broker, the simulator and the benchmark.
 *
 * Not part of the pure core (it does I/O, through the journal's file
 * operations table): it loads a tandem_raft from a journal at start-up and
 * carries out the storage steps of a tandem_raft_update in the order raft.h
 * requires. The host keeps the rest: sending messages between
 * tandem_raft_journal_write_hard_state and tandem_raft_journal_write_entries,
 * applying committed entries, snapshots of its state.
 *
 * Every function returns the journal's error unchanged; after an I/O error
 * the journal is stopped (fail-stop) and the host restarts the replica.
 * Neither the journal nor the replica is owned: both must outlive the calls.
 */
#ifndef TANDEM_RAFT_RAFT_JOURNAL_H
#define TANDEM_RAFT_RAFT_JOURNAL_H

#include "journal/journal.h"
#include "raft/raft.h"

/* The snapshot the host's state holds, if any (index 0: none). */
typedef struct tandem_raft_snapshot_meta {
    uint64_t index;
    uint64_t term;
    tandem_raft_config config;
} tandem_raft_snapshot_meta;

/*
 * Loads a new replica `r` (fresh from tandem_raft_new) from journal `j`:
 * term and vote, the snapshot (may be NULL), every entry after it, then
 * load_done with `commit_index` (an index known committed, e.g. the state's
 * applied position). A journal that does not continue the snapshot (it ends
 * before it, or disagrees at its index) is reset to start right after it
 * first. Bad content gives the journal's or the core's error with the
 * reason in diag.
 */
int tandem_raft_journal_load(tandem_raft *r, tandem_journal *j,
                             const tandem_raft_snapshot_meta *snap, uint64_t commit_index,
                             tandem_diag *diag);

/* Step 1 of an update: the term and vote, durably (nothing when unchanged). */
int tandem_raft_journal_write_hard_state(tandem_journal *j, const tandem_raft_update *u,
                                         tandem_diag *diag);

/* Step 3: truncation (durable) and appends (not yet synced). Checks that the
 * journal's indexes are the core's (TANDEM_ECORRUPT otherwise). */
int tandem_raft_journal_write_entries(tandem_journal *j, const tandem_raft_update *u,
                                      tandem_diag *diag);

/* Makes everything appended durable (one fsync) and reports it to `r` with
 * tandem_raft_persisted. Not between ready and advance. */
int tandem_raft_journal_flush(tandem_raft *r, tandem_journal *j, tandem_diag *diag);

#endif
