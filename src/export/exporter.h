/*
 * exporter.h — the exporter framework: committed records of this broker's
 * partitions, handed to secondary stores (DESIGN §5).
 *
 * An exporter is a store behind a small vtable (open, export a run of
 * committed records of one partition, read its stored position, set it,
 * close). The framework runs each exporter on its own thread, fed through its
 * own bounded queue of journal entries, so a slow or failing store never
 * blocks processing or another exporter: a failing export is retried with
 * exponential back-off (capped) on that exporter's thread only.
 *
 * Only committed entries reach the queues. The journal is not thread-safe,
 * so entries leave it on the thread that owns it (the broker's I/O thread)
 * through `tandem_exporters_pump`: after each round, and whenever an exporter
 * asks for more (its `wake` callback), the owner reads the committed entries
 * each exporter has not yet been given, once per entry for all exporters, and
 * puts them on the queues that have room. A full queue is not an error: the
 * exporter is simply behind, and a later pump reads on from where its queue
 * stopped (catch-up). A pump reads a bounded number of entries, so catch-up
 * after a restart is spread over many rounds and never stalls processing.
 *
 * Positions. An exporter's position (the last record position it exported
 * of a partition) lives in its store, written in the same transaction as the
 * rows. When its thread starts it reads the position per partition; the next
 * pump finds the first entry above it by binary search (entries' record
 * positions grow with their index), and records at or below it that still
 * reach the thread are skipped, so re-export is harmless. In memory
 * the framework also keeps, per exporter and partition, the journal index of
 * the last entry whose records are all in the store ("acknowledged index"):
 * the journal may be compacted only below the smallest of those of the
 * enabled exporters (`tandem_exporters_compact_bound`), and the retained log
 * (commit index - that smallest acknowledged index) over a configured bound
 * is backpressure (`tandem_exporters_over_bound`).
 *
 * States: an exporter is enabled or disabled; an enabled one is "failing"
 * while its last open, position read or export failed, and all exporters are
 * "paused" while exporting is paused (paused exporters keep their queue and
 * still hold back compaction). A disabled exporter exports nothing, holds
 * nothing back and has an empty queue; enabling it resumes from its store's
 * position, or from another exporter's position (`initialize_from`), which it
 * then writes to its own store first. Records compacted while an exporter was
 * disabled are not exported to it.
 *
 * Threads: create/add/start/destroy on one thread (the broker's loop, before
 * the I/O thread starts and after it stops). pump and the bound
 * functions on the thread that owns the journals. info, enable, disable,
 * pause and resume from any thread. Every call is serialized internally by
 * the exporters' locks; vtable calls are made only on the exporter's own
 * thread, never under a lock.
 *
 * A disabled exporter's store is closed (its thread calls close), so an
 * operator may replace the store file — e.g. with a copy of another
 * exporter's store — before enabling it with initialize_from that exporter.
 *
 * Ownership: the framework owns the exporters' impl pointers once added (it
 * calls destroy on them in tandem_exporters_destroy). Ids are copied.
 */
#ifndef TANDEM_EXPORT_EXPORTER_H
#define TANDEM_EXPORT_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "journal/journal.h"
#include "mgmt/metrics.h"
#include "protocol/record.h"

#define TANDEM_EXPORTERS_MAX           8
#define TANDEM_EXPORTER_ID_LEN_MAX     32
#define TANDEM_EXPORTER_PARTITIONS_MAX 1024
/* Entries one pump call reads from a journal, for all exporters together. */
#define TANDEM_EXPORTER_PUMP_ENTRIES_MAX 256u

/*
 * A store. Every function is called on the exporter's thread only, one at a
 * time. Records passed to export are committed, of one partition, in
 * position order, all above the position the store holds; they and their
 * views are valid during the call only. export writes them and the new
 * position (the last record's) in one transaction: after a failure nothing
 * of the call may be visible. A non-zero return is retried with back-off,
 * with the message of diag shown as the exporter's last error.
 */
typedef struct tandem_exporter_vtable {
    int (*open)(void *impl, tandem_diag *diag);
    int (*export_records)(void *impl, uint32_t partition_id, const tandem_record *const *records,
                          size_t count, tandem_diag *diag);
    /* The stored position of the partition, 0 when none. */
    int (*position)(void *impl, uint32_t partition_id, uint64_t *out, tandem_diag *diag);
    int (*set_position)(void *impl, uint32_t partition_id, uint64_t position, tandem_diag *diag);
    /* Closes what open opened (called after a successful open only: when
     * the exporter is disabled, and at the end); open may follow again. */
    void (*close)(void *impl);
    /* Frees impl; called once, at destroy, whatever happened before. */
    void (*destroy)(void *impl);
} tandem_exporter_vtable;

/* Reads committed entry `index` of partition `partition_index` into *entry
 * and payload (reset first). Called only from pump, on its caller's thread. */
typedef int (*tandem_exporter_read_fn)(void *arg, uint32_t partition_index, uint64_t index,
                                       tandem_journal_entry *entry, tandem_buf *payload,
                                       tandem_diag *diag);

typedef struct tandem_exporters_options {
    uint32_t partition_count;      /* 1..TANDEM_EXPORTER_PARTITIONS_MAX */
    const uint32_t *partition_ids; /* partition_count ids; copied */
    uint32_t queue_entries_max;    /* per exporter; default 1024 */
    uint32_t batch_entries_max;    /* entries per export call; default 64 */
    uint32_t backoff_initial_ms;   /* first retry delay; default 100 */
    uint32_t backoff_max_ms;       /* cap of the doubling; default 10000 */
    /* After a short export (fewer than batch_entries_max entries), wait this
     * long before the next, so a store that syncs every transaction writes
     * fewer, larger ones while keeping up; 0 = none, at most 10000. Default 0. */
    uint32_t linger_ms;
    /* Backpressure once commit - min acknowledged index of the enabled
     * exporters exceeds this; 0 = never. Default 0. */
    uint64_t retained_entries_max;
    /* Called from an exporter thread (no lock held) when it has room in its
     * queue and the journal holds entries it has not been given: the owner
     * of the journals should pump soon. May be NULL. */
    void (*wake)(void *arg);
    void *wake_arg;
} tandem_exporters_options;

void tandem_exporters_options_default(tandem_exporters_options *opts);

typedef struct tandem_exporters tandem_exporters;

/* TANDEM_EINVAL for options out of range, TANDEM_ENOMEM. *out is the
 * caller's, released with tandem_exporters_destroy. */
int tandem_exporters_create(const tandem_exporters_options *opts, tandem_exporters **out,
                            tandem_diag *diag);

/* Adds an exporter before start. id: 1..TANDEM_EXPORTER_ID_LEN_MAX of
 * [A-Za-z0-9_-], unique. On success impl belongs to the framework; on an
 * error (TANDEM_EINVAL, TANDEM_EEXIST, TANDEM_EFULL) it stays the caller's. */
int tandem_exporters_add(tandem_exporters *ex, const char *id, const tandem_exporter_vtable *vt,
                         void *impl, bool enabled, tandem_diag *diag);

/* Gauges (borrowed, partition_count each, entries may be NULL) the framework
 * keeps current for exporter i: its position and its lag in entries per
 * partition. Before start. */
void tandem_exporters_set_gauges(tandem_exporters *ex, uint32_t i, tandem_gauge *const *position,
                                 tandem_gauge *const *lag_entries);

/* Starts one thread per exporter. On an error no thread runs. */
int tandem_exporters_start(tandem_exporters *ex, tandem_diag *diag);

/* Stops and joins the threads (an export in progress finishes; a back-off
 * wait is cut short), closes every exporter, frees. NULL is a no-op. */
void tandem_exporters_destroy(tandem_exporters *ex);

uint32_t tandem_exporters_count(const tandem_exporters *ex);

/*
 * Offers partition `partition_index`'s committed entries up to commit_index
 * (the journal holding first_index..) to every enabled exporter with room,
 * reading each entry once through read; at most
 * TANDEM_EXPORTER_PUMP_ENTRIES_MAX entries per call. Sets *more when entries
 * remain that a queue with room has not been given (call again soon). A read
 * error is returned (the entry stays unoffered).
 */
int tandem_exporters_pump(tandem_exporters *ex, uint32_t partition_index, uint64_t first_index,
                          uint64_t commit_index, tandem_exporter_read_fn read, void *read_arg,
                          bool *more, tandem_diag *diag);

/* True when some enabled exporter has room and has not been given every
 * committed entry of some partition (as of the last pump). */
bool tandem_exporters_pending(tandem_exporters *ex);

/* The lowest journal index that must be kept for the exporters: one above
 * the smallest acknowledged index of the enabled exporters (UINT64_MAX when
 * none is enabled). Compact only below min(this, applied index + 1). */
uint64_t tandem_exporters_compact_bound(tandem_exporters *ex, uint32_t partition_index);

/* The journal index below which a partition may be compacted:
 * min(applied_index + 1, exporters' bound); ex may be NULL (no exporters). */
uint64_t tandem_exporters_compaction_index(tandem_exporters *ex, uint32_t partition_index,
                                           uint64_t applied_index);

/* Entries retained for the enabled exporters: commit index (as of the last
 * pump) - their smallest acknowledged index; 0 when none is enabled. */
uint64_t tandem_exporters_retained(tandem_exporters *ex, uint32_t partition_index);

/* True when retained_entries_max is set and some partition retains more. */
bool tandem_exporters_over_bound(tandem_exporters *ex, uint32_t partition_index);

/* ---- Management ----------------------------------------------------------- */

enum tandem_exporter_state {
    TANDEM_EXPORTER_ENABLED = 0,
    TANDEM_EXPORTER_DISABLED,
    TANDEM_EXPORTER_PAUSED,
    TANDEM_EXPORTER_FAILING,
};

/* "enabled", "disabled", "paused", "failing". */
const char *tandem_exporter_state_name(enum tandem_exporter_state state);

typedef struct tandem_exporter_partition_info {
    uint32_t partition_id;
    uint64_t position;    /* last record position in the store (0 before the first) */
    uint64_t acked_index; /* journal index of the last entry wholly exported */
    uint64_t lag_entries; /* committed entries not yet exported */
} tandem_exporter_partition_info;

/* A snapshot of one exporter, filled by tandem_exporters_info. */
typedef struct tandem_exporter_info {
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    enum tandem_exporter_state state;
    char last_error[256]; /* "" when none since the last success */
    uint64_t exported_records;
    uint64_t failures;
    uint32_t partition_count;
    tandem_exporter_partition_info *partitions; /* caller's array of partition_count */
} tandem_exporter_info;

/* Fills info for exporter i (0..count-1); info->partitions must hold
 * partition_count entries (the framework's count; set it first). */
void tandem_exporters_info(tandem_exporters *ex, uint32_t i, tandem_exporter_info *info);

/* Index of the exporter with this id, or -1. */
int tandem_exporters_find(const tandem_exporters *ex, const char *id);

/* TANDEM_ENOENT for an unknown id (also for initialize_from, which may be
 * NULL and must name another exporter: TANDEM_EINVAL for itself). Enabling
 * an enabled exporter without initialize_from does nothing. */
int tandem_exporters_enable(tandem_exporters *ex, const char *id, const char *initialize_from,
                            tandem_diag *diag);
int tandem_exporters_disable(tandem_exporters *ex, const char *id, tandem_diag *diag);
void tandem_exporters_pause(tandem_exporters *ex);
void tandem_exporters_resume(tandem_exporters *ex);
bool tandem_exporters_paused(tandem_exporters *ex);

#endif
