/*
 * raft_host_int.h — internals of the replica host shared by raft_host.c
 * (open, the update loop, apply) and raft_host_snapshot.c (snapshot and
 * staged files: take, serve, store, install, recover).
 */
#ifndef TANDEM_RAFT_RAFT_HOST_INT_H
#define TANDEM_RAFT_RAFT_HOST_INT_H

#include "raft/raft_host.h"
#include "raft/raft_journal.h"

/* sized so that no path built from the directory name can be cut */
#define HOST_SNAP_DIR_BYTES (TANDEM_RAFT_HOST_DIR_MAX_BYTES + 16)
#define HOST_PATH_BYTES     (HOST_SNAP_DIR_BYTES + 80)
#define HOST_META_MAGIC     "TSNP"
#define HOST_META_VERSION   1
#define HOST_META_MAX_BYTES 4096
#define HOST_META_COMPLETE  1 /* snap-<index>.meta */
#define HOST_META_STAGED    2 /* recv.meta */

/* What a meta file says. */
typedef struct host_meta {
    uint8_t kind; /* HOST_META_* */
    uint64_t index;
    uint64_t term;
    uint64_t size_bytes;       /* complete: the .kv file's size; staged: bytes stored */
    uint32_t crc;              /* staged: CRC32C of those bytes; complete: 0 */
    tandem_raft_config config; /* complete only */
} host_meta;

struct tandem_raft_host {
    tandem_raft_host_options o;
    char dir[TANDEM_RAFT_HOST_DIR_MAX_BYTES];
    char snap_dir[HOST_SNAP_DIR_BYTES];
    tandem_journal *journal;
    tandem_raft *raft;
    int stopped; /* 0, or the error that stopped the host */
    uint64_t floor;

    /* the newest complete snapshot on disk (index 0: none) */
    uint64_t snap_index;
    uint64_t snap_term;
    int send_fd; /* open on snap-<send_index>.kv for chunks, or -1 */
    uint64_t send_index;
    uint64_t send_size;
    uint8_t *chunk; /* chunk_size_bytes, for one outgoing chunk at a time */

    /* the snapshot being received (recv.kv) */
    int recv_fd; /* or -1 */
    uint64_t recv_index;
    uint64_t recv_term;
    uint64_t recv_bytes;
    uint32_t recv_crc;

    /* applied since the last snapshot, for the snapshot policy */
    uint64_t since_entries;
    uint64_t since_bytes;

    tandem_raft_host_stats stats;
};

/* raft_host_snapshot.c */
int host_meta_encode(const host_meta *m, tandem_buf *out);
int host_meta_decode(const uint8_t *data, size_t len, host_meta *m, tandem_diag *diag);
void host_snap_path(const tandem_raft_host *h, uint64_t index, const char *ext, char *out);
int host_recover_snapshots(tandem_raft_host *h, tandem_raft_snapshot_meta *snap, tandem_diag *diag);
int host_recover_staged(tandem_raft_host *h, tandem_diag *diag);
int host_take_snapshot(tandem_raft_host *h, tandem_diag *diag);
int host_send_snapshot(tandem_raft_host *h, const tandem_raft_message *m, tandem_diag *diag);
int host_store_chunk(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag);
int host_install(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag);
void host_close_files(tandem_raft_host *h);

#endif
