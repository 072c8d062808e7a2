/*
 * raft_host.h — one replica of one partition, wired: the Raft core, its
 * journal (the Raft log) and its state (a tandem_kv), and the loop that
 * carries out what the core asks. The broker and the simulator run this same
 * code; they differ only in the file operations table, the kv backend and
 * the transport behind `send`.
 *
 * Files, under the replica directory `dir` (created if missing):
 *   journal/                     the journal; term and vote in journal/raft-meta
 *   snapshots/snap-<index>.kv    the state as of <index> (kv snapshot format)
 *   snapshots/snap-<index>.meta  its index, entry term and configuration
 *   snapshots/recv.kv            a snapshot being received from the leader
 *   snapshots/recv.meta          how much of it is stored: index, term, bytes
 *                                and the CRC32C of those bytes
 * (docs/RAFT.md, "Snapshot files", has the meta layout.) Every write goes
 * through the fileops table, so faultfs can crash the host anywhere.
 *
 * tandem_raft_host_process hands over the core's updates, each in this
 * order: the term and vote, durably; a received snapshot chunk written to
 * recv.kv, synced, and recv.meta replaced; messages to `send` (SNAPSHOT
 * messages with their chunk read from the snapshot file at the offset the
 * core names, never the whole file in memory); truncation and appends to the
 * journal (unsynced: tandem_raft_host_flush syncs and reports them durable,
 * so a leader's fsync overlaps its sends); committed entries applied through
 * `apply` in one kv write transaction that records the last one as the
 * applied position; and on the last chunk of a snapshot, the install:
 * recv.kv verified, renamed to a snapshot, restored into the kv, the journal
 * restarted after it. After each update, once `snapshot_entries` entries or
 * `snapshot_bytes` payload bytes were applied since the last snapshot, the
 * state is snapshotted and the journal compacted below the lower of the
 * snapshot index + 1 and the caller's floor (exporters set it).
 *
 * At open the host recovers: the newest complete snapshot (older ones and
 * half-written files are deleted), the kv restored from it when the kv is
 * behind it, the journal loaded after it, and a staged partial snapshot
 * reported to the core so the leader resumes where it stopped; a damaged
 * staged file is discarded (counted in the stats), never an error.
 *
 * Failures: an I/O error (or a staged snapshot that does not verify at
 * install) is returned with the reason in diag and stops the host: later
 * calls return TANDEM_ESTOPPED. The caller closes it and opens it again,
 * which recovers from the disk (fail-stop, DESIGN §2).
 *
 * Ownership: the host owns the core and the journal. The kv, the fileops
 * table and `dir` (copied) are the caller's; the kv and the table must
 * outlive the host. A message passed to `send` is valid during the call
 * only. Events (step, tick, propose, ...) go to tandem_raft_host_raft(h)
 * between calls of the host. Not thread-safe: one thread drives a host.
 */
#ifndef TANDEM_RAFT_RAFT_HOST_H
#define TANDEM_RAFT_RAFT_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/fileops.h"
#include "journal/journal.h"
#include "raft/raft.h"
#include "state/kv.h"

#define TANDEM_RAFT_HOST_DIR_MAX_BYTES       400
#define TANDEM_RAFT_HOST_CHUNK_DEFAULT_BYTES ((uint32_t)256 << 10)

/* Applies one committed entry (every kind) to the state inside txn. A
 * non-zero return aborts the transaction and stops the host. */
typedef int (*tandem_raft_host_apply_fn)(void *arg, tandem_kv_txn *txn, uint64_t index,
                                         const tandem_raft_entry *e, tandem_diag *diag);
/* Sends a message (encode or copy it during the call). */
typedef void (*tandem_raft_host_send_fn)(void *arg, const tandem_raft_message *m);

typedef struct tandem_raft_host_options {
    tandem_fileops *ops;
    const char *dir;                /* replica directory, < DIR_MAX_BYTES */
    tandem_kv *kv;                  /* the state; its applied position = log index */
    tandem_raft_options raft;       /* the core's options */
    tandem_journal_options journal; /* the journal's options */
    /* written as entry 1 of an empty log (read in open only); NULL: a new
     * member, which waits for a leader to send it the log */
    const tandem_raft_config *bootstrap;
    tandem_raft_host_apply_fn apply;
    void *apply_arg;
    tandem_raft_host_send_fn send;
    void *send_arg;
    uint64_t snapshot_entries; /* snapshot after this many applied entries (0: never) */
    uint64_t snapshot_bytes;   /* ... or this many applied payload bytes (0: never) */
    uint32_t chunk_size_bytes; /* snapshot chunk sent, 1..TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX
                                  (0: TANDEM_RAFT_HOST_CHUNK_DEFAULT_BYTES) */
} tandem_raft_host_options;

/* Counters since open. */
typedef struct tandem_raft_host_stats {
    uint64_t applied_entries;
    uint64_t snapshots_taken;
    uint64_t snapshots_installed;
    uint64_t chunks_sent;
    uint64_t chunks_stored;
    uint64_t staged_resumed_bytes; /* bytes of a staged snapshot found at open and kept */
    uint64_t staged_discarded;     /* staged snapshots found damaged or stale and removed */
} tandem_raft_host_stats;

typedef struct tandem_raft_host tandem_raft_host;

/* Opens (creating) the replica in o->dir and recovers it; TANDEM_EINVAL for
 * bad options, the journal's, kv's or core's error for damaged files, each
 * with the reason and path in diag. *out is closed with tandem_raft_host_close. */
int tandem_raft_host_open(const tandem_raft_host_options *o, tandem_raft_host **out,
                          tandem_diag *diag);
/* Closes without flushing (what is unsynced may be lost, as in a crash). */
void tandem_raft_host_close(tandem_raft_host *h);

/* The core, for events; valid until close. */
tandem_raft *tandem_raft_host_raft(tandem_raft_host *h);

/* Hands over every ready of the core (bounded rounds), as described above. */
int tandem_raft_host_process(tandem_raft_host *h, tandem_diag *diag);

/* What one handed-over update held, for callers that act between updates
 * (the simulator crashes a replica right after a vote or a commit). */
typedef struct tandem_raft_host_round {
    bool handled;            /* false: the core had nothing to do */
    bool hard_state_changed; /* a term or vote was made durable */
    uint8_t role;            /* enum tandem_raft_role after the update */
    uint64_t commit_index;
    size_t n_entries; /* appended (unsynced) */
    size_t n_messages;
} tandem_raft_host_round;

/* Hands over one ready of the core, if it has one; tandem_raft_host_process
 * is this in a bounded loop. */
int tandem_raft_host_process_one(tandem_raft_host *h, tandem_raft_host_round *out,
                                 tandem_diag *diag);
/* True when appended entries wait for tandem_raft_host_flush. */
bool tandem_raft_host_needs_flush(const tandem_raft_host *h);
/* Syncs the journal and reports the entries durable to the core. */
int tandem_raft_host_flush(tandem_raft_host *h, tandem_diag *diag);
/* Snapshots the state now (nothing when nothing was applied since the last
 * snapshot) and compacts; *index_out (may be NULL) gets the snapshot index. */
int tandem_raft_host_snapshot(tandem_raft_host *h, uint64_t *index_out, tandem_diag *diag);
/* The journal is never compacted at or above floor_index (UINT64_MAX, the
 * default: no floor); takes effect at the next compaction. */
void tandem_raft_host_set_floor(tandem_raft_host *h, uint64_t floor_index);

uint64_t tandem_raft_host_applied_index(const tandem_raft_host *h);
uint64_t tandem_raft_host_snapshot_index(const tandem_raft_host *h);
void tandem_raft_host_stats_get(const tandem_raft_host *h, tandem_raft_host_stats *out);
/* The journal, read-only for tests and tools; valid until close. */
const tandem_journal *tandem_raft_host_journal(const tandem_raft_host *h);

#endif
