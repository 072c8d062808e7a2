/*
 * journal.h — the segmented journal: the Raft log of one partition replica.
 *
 * A journal is a directory of append-only segment files holding a gap-free
 * sequence of entries [first_index, last_index]. Every entry carries its Raft
 * index and term, a kind (data batch, configuration, no-op), an opaque payload
 * and a CRC32C. Appends are group-committed: `append` only buffers (and
 * writes, without fsync, when the buffer is full); `flush` writes what is
 * pending and does one fdatasync for everything appended so far, after which
 * `durable_index` covers it. Nothing below `durable_index` can be lost by a
 * power failure; everything above it may be.
 *
 * On open the journal tells a torn tail (unsynced writes a power loss left
 * half-done, which it truncates) from corruption of durable entries (which it
 * refuses to serve, naming the file and byte offset): every entry records the
 * journal's durable index at the time it was written, so a valid entry after
 * a damaged one proves, or fails to prove, that the damaged one had been
 * fsynced. docs/DISK_FORMAT.md has the byte layout and the argument.
 *
 * Fail-stop: when a write, truncate, unlink or fsync fails, the failing call
 * returns the error and the journal is stopped: every later call returns
 * TANDEM_ESTOPPED (the getters first/last/durable_index and stopped keep
 * answering) and `durable_index` never advances again. An fsync is never
 * retried (the kernel may already have dropped the unsynced pages); the
 * broker restarts and recovers from what is on disk.
 *
 * Beside the entries the directory holds a small file with Raft's current
 * term and vote, replaced atomically and durably by tandem_journal_meta_set.
 *
 * Threads: none of this is thread-safe. One thread (the broker's I/O thread)
 * owns a journal and makes every call on it; inspect may run anywhere on a
 * directory no journal has open for writing, or on a copy.
 *
 * All I/O goes through the tandem_fileops table given to open, so tests can
 * crash the disk under the journal (base/faultfs.h).
 */
#ifndef TANDEM_JOURNAL_JOURNAL_H
#define TANDEM_JOURNAL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/fileops.h"

/* Kinds of entries; stored as one byte. */
enum tandem_journal_kind {
    TANDEM_JOURNAL_DATA = 1,   /* a batch of records */
    TANDEM_JOURNAL_CONFIG = 2, /* a Raft configuration */
    TANDEM_JOURNAL_NOOP = 3,   /* the no-op a new leader appends */
};

/* voted_for when the replica has not voted in the current term. */
#define TANDEM_JOURNAL_NO_VOTE UINT64_MAX

/* Limits of the options (checked by open, TANDEM_EINVAL outside). */
#define TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MIN ((uint64_t)4096)
#define TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MAX ((uint64_t)1 << 30)
#define TANDEM_JOURNAL_ENTRY_SIZE_BYTES_MAX   ((uint32_t)256 << 20)
#define TANDEM_JOURNAL_WRITE_BUFFER_BYTES_MAX ((uint32_t)64 << 20)
#define TANDEM_JOURNAL_DIR_PATH_BYTES_MAX     ((size_t)3800)

typedef struct tandem_journal_options {
    /* A new segment file is started when the next entry would make the
     * current one larger than this. Default 128 MiB. */
    uint64_t segment_size_bytes;
    /* Largest payload `append` accepts (larger: TANDEM_ETOOBIG). Must leave
     * room for the segment and entry headers within segment_size_bytes.
     * Default 4 MiB. Only appends are limited: entries already on disk are
     * read whatever their size. */
    uint32_t entry_size_bytes_max;
    /* Appended bytes buffered in memory before they are written (without
     * fsync) ahead of the next flush. Default 1 MiB. */
    uint32_t write_buffer_bytes;
} tandem_journal_options;

/* Fills in the defaults. */
void tandem_journal_options_default(tandem_journal_options *opts);

/* An entry's header as read back (the payload goes to a caller buffer). */
typedef struct tandem_journal_entry {
    uint64_t index;
    uint64_t term;
    uint8_t kind;                /* enum tandem_journal_kind */
    uint32_t payload_size_bytes; /* bytes of payload */
} tandem_journal_entry;

/* Raft's persistent election state. */
typedef struct tandem_journal_meta {
    uint64_t term;
    uint64_t voted_for; /* TANDEM_JOURNAL_NO_VOTE when none */
} tandem_journal_meta;

typedef struct tandem_journal tandem_journal;

/*
 * Opens the journal in `dir` (created, durably, if missing), recovering from
 * a crash: a torn tail is truncated and the truncation made durable before
 * open returns; corruption gives TANDEM_ECORRUPT with the file, byte offset
 * and index in diag; a segment of a newer format gives TANDEM_EFORMAT. An
 * empty directory gets its first segment (first index 1). opts may be NULL
 * for the defaults. After open every entry present is durable (the segments
 * are fsynced), so durable_index == last_index.
 *
 * `ops` and `dir` are copied by reference / by value respectively: ops must
 * outlive the journal. On success *out is owned by the caller and released
 * with tandem_journal_close; on failure *out is untouched.
 */
int tandem_journal_open(tandem_fileops *ops, const char *dir, const tandem_journal_options *opts,
                        tandem_journal **out, tandem_diag *diag);

/* Closes files and frees the journal. Nothing is flushed: entries above
 * durable_index may or may not survive, as after a crash. NULL is a no-op. */
void tandem_journal_close(tandem_journal *j);

/*
 * Appends one entry after last_index and returns its index in *index_out.
 * No fsync: the entry is durable only after a later flush (or when a full
 * segment is sealed). `term` must be >= the term of the last entry and
 * `kind` one of enum tandem_journal_kind (TANDEM_EINVAL otherwise);
 * payloads over entry_size_bytes_max give TANDEM_ETOOBIG. Those refusals leave
 * the journal usable. The payload is copied before the call returns.
 */
int tandem_journal_append(tandem_journal *j, uint64_t term, uint8_t kind, const void *payload,
                          size_t payload_size_bytes, uint64_t *index_out, tandem_diag *diag);

/* Writes what is pending and makes every appended entry durable with one
 * fdatasync; then durable_index == last_index. Does nothing when there is
 * nothing to make durable. */
int tandem_journal_flush(tandem_journal *j, tandem_diag *diag);

/*
 * Reads the entry at `index` (first_index <= index <= last_index, else
 * TANDEM_ERANGE): its header into *entry, its payload into `payload` (reset
 * first; the caller owns the buffer). The entry's checksums are verified
 * again on every read from disk: damage found later gives TANDEM_ECORRUPT.
 * Entries not yet flushed are readable too.
 */
int tandem_journal_read(tandem_journal *j, uint64_t index, tandem_journal_entry *entry,
                        tandem_buf *payload, tandem_diag *diag);

/* Term of the entry at index, for first_index - 1 <= index <= last_index;
 * the term at first_index - 1 is the one the segment header remembers (0 for
 * index 0). TANDEM_ERANGE outside. No I/O. */
int tandem_journal_term_at(const tandem_journal *j, uint64_t index, uint64_t *term_out);

/* Current bounds. The log is empty when last_index == first_index - 1. */
uint64_t tandem_journal_first_index(const tandem_journal *j);
uint64_t tandem_journal_last_index(const tandem_journal *j);
uint64_t tandem_journal_durable_index(const tandem_journal *j);
/* True once an I/O failure stopped the journal. */
bool tandem_journal_stopped(const tandem_journal *j);

/*
 * Removes the entries >= index (first_index <= index <= last_index + 1,
 * else TANDEM_ERANGE), durably: the files are truncated/deleted and synced
 * before the call returns. The caller must never truncate committed
 * entries. durable_index drops to at most index - 1.
 */
int tandem_journal_truncate_from(tandem_journal *j, uint64_t index, tandem_diag *diag);

/*
 * Deletes whole segment files whose entries are all below `index`, oldest
 * first, then syncs the directory. The segment being appended to is never
 * deleted, so first_index may stay below `index`. The caller guarantees the
 * deleted entries are no longer needed (applied and exported, or covered by
 * a snapshot).
 */
int tandem_journal_compact_below(tandem_journal *j, uint64_t index, tandem_diag *diag);

/*
 * Discards the whole log and restarts it empty at next_index, remembering
 * prev_term as the term of next_index - 1: what a follower does when it
 * installs a snapshot that ends at next_index - 1. Durable before returning:
 * a crash leaves either the old log or the new empty one.
 */
int tandem_journal_reset(tandem_journal *j, uint64_t next_index, uint64_t prev_term,
                         tandem_diag *diag);

/* Term and vote as of the last successful meta_set (term 0 and no vote when
 * the file has never been written). */
tandem_journal_meta tandem_journal_meta_get(const tandem_journal *j);

/* Replaces the term/vote file atomically and durably before returning
 * (temporary file, fsync, rename, directory fsync). A failure stops the
 * journal like any other I/O failure. */
int tandem_journal_meta_set(tandem_journal *j, uint64_t term, uint64_t voted_for,
                            tandem_diag *diag);

/* The term/vote file on its own, by path (the journal keeps it in
 * "<dir>/raft-meta"). load: TANDEM_ENOENT when the file is absent,
 * TANDEM_ECORRUPT / TANDEM_EFORMAT with the path in diag when it is
 * damaged or newer. */
int tandem_journal_meta_load(tandem_fileops *ops, const char *path, tandem_journal_meta *meta,
                             tandem_diag *diag);
int tandem_journal_meta_store(tandem_fileops *ops, const char *path,
                              const tandem_journal_meta *meta, tandem_diag *diag);

/*
 * Prints a payload for inspect, as one line's worth of text without the
 * newline. payload is valid during the call only.
 */
typedef void (*tandem_journal_payload_printer)(void *arg, FILE *out,
                                               const tandem_journal_entry *entry,
                                               const uint8_t *payload);

/*
 * Prints a human-readable listing of the journal in `dir` to `out`: the
 * term/vote file, each segment's header, every entry (index, term, kind,
 * size, synced index, checksum verdict) and, where the files are damaged,
 * the file and byte offset, the valid entries found after the damage, and
 * what open would do (truncate a torn tail, or refuse: corruption).
 * Strictly read-only: never truncates or deletes, so it may be pointed at a
 * broken directory. printer may be NULL (payloads are not printed).
 * Returns, after printing the whole listing, what open would return:
 * 0 for a clean journal or a torn tail, TANDEM_ECORRUPT / TANDEM_EFORMAT
 * (message in diag) when open would refuse; other codes when the directory
 * cannot be read at all.
 */
int tandem_journal_inspect(tandem_fileops *ops, const char *dir, FILE *out,
                           tandem_journal_payload_printer printer, void *printer_arg,
                           tandem_diag *diag);

#endif
