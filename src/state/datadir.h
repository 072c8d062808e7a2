/*
 * datadir.h — the data directory of one partition replica.
 *
 * Everything a broker keeps on disk for one partition lives in one folder,
 * `<data.directory>/partition-<p>/` (DESIGN §4):
 *
 *   FORMAT       "tandem-data 1\n": the layout version of this folder
 *   IDENTITY     cluster name, node id, partition id, incarnation id, CRC32C
 *   journal/     the partition's log segments
 *   state/       the LMDB environment of the state store
 *   snapshots/   snapshot files of the state
 *
 * Opening checks that the folder is one this build can read and that it
 * belongs to this cluster, node and partition, so a misconfigured broker
 * refuses to start instead of serving another broker's data. A fresh folder
 * is created on first use with a random 128-bit incarnation id, which stays
 * the same for the folder's life: a replica whose disk was wiped comes back
 * with a new one, which Raft uses to tell it from the replica it replaces.
 *
 * Creation is crash-safe: IDENTITY and the subdirectories are made durable
 * first and FORMAT is written last, atomically, as the commit mark. A folder
 * without FORMAT was never handed out, holds no data, and is created again;
 * one with FORMAT is complete. Byte layouts: docs/STATE_FORMAT.md.
 *
 * Files are reached through the fileops table only (tests use faultfs). The
 * handle is immutable after open; its getters may be called from any thread.
 * Strings returned are owned by the handle and valid until
 * tandem_datadir_close.
 */
#ifndef TANDEM_STATE_DATADIR_H
#define TANDEM_STATE_DATADIR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/fileops.h"
#include "base/rand.h"

/* The folder layout this build writes and reads. */
#define TANDEM_DATADIR_FORMAT_VERSION 1
/* Cluster names: 1..64 bytes of [A-Za-z0-9._-]. */
#define TANDEM_CLUSTER_NAME_MAX_BYTES 64
/* Longest path of anything in the folder, NUL included. */
#define TANDEM_DATADIR_PATH_MAX_BYTES 4096
#define TANDEM_INCARNATION_BYTES      16

typedef struct tandem_datadir tandem_datadir;

typedef struct tandem_datadir_config {
    const char *root;         /* data.directory; created if missing, its parent must exist */
    const char *cluster_name; /* this cluster's name */
    uint32_t node_id;
    uint32_t partition_id;
} tandem_datadir_config;

/*
 * Opens the partition's folder under cfg->root, creating it on first use.
 * `rand` draws the incarnation id of a new folder (production passes
 * tandem_rand_real()); `ops` and `rand` must outlive the handle. Errors, each
 * with a message naming the file or directory:
 *   TANDEM_EFORMAT   FORMAT is newer than this build reads
 *   TANDEM_ECLUSTER  the folder belongs to another cluster, node or partition
 *                    (the message names both values)
 *   TANDEM_ECORRUPT  FORMAT or IDENTITY is damaged or missing, a subdirectory
 *                    is missing, or a folder without FORMAT holds data
 *   TANDEM_EINVAL    a bad configuration value
 *   others           from the file system
 * *out is set only on success; close it with tandem_datadir_close.
 */
int tandem_datadir_open(tandem_fileops *ops, tandem_rand *rand, const tandem_datadir_config *cfg,
                        tandem_datadir **out, tandem_diag *diag);

/* Frees the handle (files stay). NULL is a no-op. */
void tandem_datadir_close(tandem_datadir *dd);

/* True when this open created the folder. */
bool tandem_datadir_created(const tandem_datadir *dd);

/* "<root>/partition-<p>" and its subdirectories. */
const char *tandem_datadir_path(const tandem_datadir *dd);
const char *tandem_datadir_journal_path(const tandem_datadir *dd);
const char *tandem_datadir_state_path(const tandem_datadir *dd);
const char *tandem_datadir_snapshots_path(const tandem_datadir *dd);

/* The incarnation id: 16 bytes, and as 32 lowercase hex digits. */
const uint8_t *tandem_datadir_incarnation(const tandem_datadir *dd);
const char *tandem_datadir_incarnation_hex(const tandem_datadir *dd);

const char *tandem_datadir_cluster_name(const tandem_datadir *dd);
uint32_t tandem_datadir_node_id(const tandem_datadir *dd);
uint32_t tandem_datadir_partition_id(const tandem_datadir *dd);

#endif
