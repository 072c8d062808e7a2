/*
 * faultfs.h — an in-memory file system behind the fileops table that can
 * lose power.
 *
 * It keeps, for every file, the bytes a reader sees (the page cache) apart
 * from the bytes that would survive a power loss (what `sync` made durable),
 * and, for every directory, the names that are durable apart from the names
 * only created, renamed or unlinked since the last `sync_dir`.
 *
 * Faults a test can arm:
 * - a crash point: after `n` more operations every call fails with TANDEM_EIO
 *   and changes nothing (the "process" is dead); `tandem_faultfs_crash` then
 *   rebuilds the view a restarted process would find.
 * - on crash, unsynced writes are, one by one and in any order, kept whole,
 *   kept torn (a prefix, cut at a random byte) or dropped, as a real disk
 *   writing back dirty pages might; with `drop_all_unsynced` they are all
 *   dropped.
 * - the nth `sync` from now fails with TANDEM_EIO and discards that file's
 *   unsynced data from the durable view (as Linux may after a writeback error).
 * - the nth `pwrite` from now fails with TANDEM_ENOSPC after writing a prefix.
 *
 * Paths are plain strings; "a/b" and "a//b" are different names, so callers
 * must build paths consistently (tandem does). Directories must exist before
 * files are created in them; the root "" / "." / "/" always exists.
 * Not thread-safe: one test thread drives it.
 */
#ifndef TANDEM_BASE_FAULTFS_H
#define TANDEM_BASE_FAULTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/fileops.h"
#include "base/rand.h"

typedef struct tandem_faultfs tandem_faultfs;

/* rand drives the crash outcomes; it must outlive the faultfs. */
int tandem_faultfs_new(tandem_rand *rand, tandem_faultfs **out);
void tandem_faultfs_free(tandem_faultfs *fs);

/* The table to hand to code under test; valid until tandem_faultfs_free. */
tandem_fileops *tandem_faultfs_ops(tandem_faultfs *fs);

/* After `n` more successful-or-failed operations, the file system is dead:
 * every call fails with TANDEM_EIO. n == 0 kills it at once. Negative disarms. */
void tandem_faultfs_crash_after(tandem_faultfs *fs, int64_t n);

/* Simulates the power loss and restart: all handles are closed, every file's
 * content becomes its durable content plus a random outcome (kept, torn,
 * dropped) for each unsynced write, every directory its durable names, and
 * faults are disarmed. If drop_all_unsynced, no unsynced write survives. */
void tandem_faultfs_crash(tandem_faultfs *fs, bool drop_all_unsynced);

/* The nth sync from now (1 = the next one) fails with TANDEM_EIO. */
void tandem_faultfs_fail_sync(tandem_faultfs *fs, int64_t nth);
/* The nth pwrite from now fails with TANDEM_ENOSPC after writing a random
 * prefix of its buffer. */
void tandem_faultfs_fail_write(tandem_faultfs *fs, int64_t nth);

/* Counters, for tests that check a fault actually fired. */
typedef struct tandem_faultfs_stats {
    uint64_t ops;            /* operations attempted */
    uint64_t syncs;          /* successful syncs of files */
    uint64_t dir_syncs;      /* successful directory syncs */
    uint64_t writes;         /* successful pwrites */
    uint64_t failed_syncs;   /* injected sync failures */
    uint64_t failed_writes;  /* injected write failures */
    uint64_t crashes;        /* tandem_faultfs_crash calls */
    uint64_t torn_writes;    /* unsynced writes kept torn at a crash */
    uint64_t dropped_writes; /* unsynced writes dropped at a crash */
    uint64_t kept_writes;    /* unsynced writes kept whole at a crash */
} tandem_faultfs_stats;

void tandem_faultfs_stats_get(const tandem_faultfs *fs, tandem_faultfs_stats *out);

/* Flips one bit of the durable and cached content of a file at off (for
 * corruption tests). TANDEM_ENOENT / TANDEM_ERANGE when there is no such byte. */
int tandem_faultfs_flip_bit(tandem_faultfs *fs, const char *path, uint64_t off, unsigned bit);

#endif
