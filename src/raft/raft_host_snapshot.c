/*
 * raft_host_snapshot.c — the replica host's snapshot files (raft_host.h):
 * taking a snapshot of the state and compacting below it, serving chunks of
 * it at offsets, storing received chunks in a staged file whose progress
 * survives a crash, installing a complete one, and recovering all of that at
 * open.
 *
 * Crash safety comes from the order of durable steps. A snapshot counts only
 * once both snap-<index>.kv and snap-<index>.meta are in place (kv first,
 * each written to a temporary name, synced and renamed, the directory
 * synced); the journal is compacted only after that. recv.meta is replaced
 * only after the chunk it counts is synced in recv.kv, so at open recv.kv
 * holds at least the bytes recv.meta names, and their CRC32C tells whether
 * they are the bytes it counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "raft/raft_host_int.h"

#define LIST_NAMES_MAX  64
#define LIST_NAME_BYTES 64
#define READ_BYTES      65536

void host_snap_path(const tandem_raft_host *h, uint64_t index, const char *ext, char *out)
{
    TANDEM_ASSERT(h != NULL && ext != NULL);
    TANDEM_ASSERT(out != NULL);
    snprintf(out, HOST_PATH_BYTES, "%s/snap-%020llu.%s", h->snap_dir, (unsigned long long)index,
             ext);
}

static void recv_path(const tandem_raft_host *h, const char *ext, char *out)
{
    TANDEM_ASSERT(h != NULL && ext != NULL);
    snprintf(out, HOST_PATH_BYTES, "%s/recv.%s", h->snap_dir, ext);
}

/* ---- meta files ---- */

int host_meta_encode(const host_meta *m, tandem_buf *out)
{
    TANDEM_ASSERT(m != NULL && out != NULL);
    TANDEM_ASSERT(m->kind == HOST_META_COMPLETE || m->kind == HOST_META_STAGED);
    tandem_buf conf = TANDEM_BUF_INIT;
    int rc = m->kind == HOST_META_COMPLETE ? tandem_raft_config_encode(&m->config, &conf) : 0;
    tandem_buf_reset(out);
    rc = rc ? rc : tandem_buf_append(out, HOST_META_MAGIC, 4);
    rc = rc ? rc : tandem_buf_put_u8(out, HOST_META_VERSION);
    rc = rc ? rc : tandem_buf_put_u8(out, m->kind);
    rc = rc ? rc : tandem_buf_put_u16(out, 0);
    rc = rc ? rc : tandem_buf_put_u64(out, m->index);
    rc = rc ? rc : tandem_buf_put_u64(out, m->term);
    rc = rc ? rc : tandem_buf_put_u64(out, m->size_bytes);
    rc = rc ? rc : tandem_buf_put_u32(out, m->crc);
    rc = rc ? rc : tandem_buf_put_u32(out, (uint32_t)conf.len);
    rc = rc ? rc : tandem_buf_append(out, conf.data, conf.len);
    rc = rc ? rc : tandem_buf_put_u32(out, tandem_crc32c(0, out->data, out->len));
    tandem_buf_free(&conf);
    return rc;
}

int host_meta_decode(const uint8_t *data, size_t len, host_meta *m, tandem_diag *diag)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(m != NULL);
    memset(m, 0, sizeof(*m));
    if (len < 4 + 4 + 24 + 8 + 4 || memcmp(data, HOST_META_MAGIC, 4) != 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "snapshot meta: no header (%zu bytes)", len);
    }
    if (tandem_crc32c(0, data, len - 4) != tandem_load_u32(data + len - 4)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "snapshot meta: checksum mismatch");
    }
    tandem_reader rd;
    tandem_reader_init(&rd, data + 4, len - 8);
    uint8_t version = tandem_read_u8(&rd);
    if (version != HOST_META_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT, "snapshot meta: version %u unknown", version);
    }
    m->kind = tandem_read_u8(&rd);
    uint16_t zero = tandem_read_u16(&rd);
    m->index = tandem_read_u64(&rd);
    m->term = tandem_read_u64(&rd);
    m->size_bytes = tandem_read_u64(&rd);
    m->crc = tandem_read_u32(&rd);
    uint32_t conf_len = tandem_read_u32(&rd);
    const uint8_t *conf = tandem_read_bytes(&rd, conf_len);
    if (rd.failed || tandem_reader_left(&rd) != 0 || zero != 0 ||
        (m->kind != HOST_META_COMPLETE && m->kind != HOST_META_STAGED) || m->index == 0 ||
        m->index > TANDEM_RAFT_INDEX_MAX || m->term > TANDEM_RAFT_TERM_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "snapshot meta: bad fields");
    }
    if (m->kind == HOST_META_COMPLETE) {
        return tandem_raft_config_decode(conf, conf_len, &m->config, diag);
    }
    return conf_len == 0 ? TANDEM_OK
                         : tandem_diag_set(diag, TANDEM_ECORRUPT, "snapshot meta: bad fields");
}

static int meta_write(tandem_raft_host *h, const char *path, const host_meta *m, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && path != NULL);
    TANDEM_ASSERT(m != NULL && m->index > 0);
    tandem_buf b = TANDEM_BUF_INIT;
    int rc = host_meta_encode(m, &b);
    rc = rc ? rc : tandem_file_write_atomic(h->o.ops, path, b.data, b.len);
    tandem_buf_free(&b);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: writing %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

static int meta_read(tandem_raft_host *h, const char *path, host_meta *m, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && path != NULL);
    TANDEM_ASSERT(m != NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = tandem_file_read_all(h->o.ops, path, HOST_META_MAX_BYTES, &data, &len);
    if (rc == 0) {
        rc = host_meta_decode(data, len, m, diag);
    } else if (rc == TANDEM_ETOOBIG) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "snapshot meta: over %d bytes",
                             HOST_META_MAX_BYTES);
    }
    free(data);
    return rc;
}

/* ---- listing and removing ---- */

typedef struct name_list {
    char names[LIST_NAMES_MAX][LIST_NAME_BYTES];
    uint32_t n;
} name_list;

static int collect(void *arg, const char *name)
{
    name_list *l = arg;
    TANDEM_ASSERT(name != NULL);
    TANDEM_ASSERT(l->n <= LIST_NAMES_MAX);
    if (strlen(name) >= LIST_NAME_BYTES || l->n == LIST_NAMES_MAX) {
        return TANDEM_OK; /* not ours (ours are short); a full list is cleaned next time */
    }
    snprintf(l->names[l->n++], LIST_NAME_BYTES, "%s", name);
    return TANDEM_OK;
}

/* The index of "snap-<index>.<ext>", or 0. */
static uint64_t snap_name_index(const char *name, const char *ext)
{
    TANDEM_ASSERT(name != NULL && ext != NULL);
    unsigned long long idx = 0;
    char tail[16];
    if (sscanf(name, "snap-%20llu.%15s", &idx, tail) != 2 || strcmp(tail, ext) != 0) {
        return 0;
    }
    return (uint64_t)idx;
}

/* Removes every snapshot file but those of `keep`, and temporary files. */
static int remove_others(tandem_raft_host *h, uint64_t keep, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && h->snap_dir[0] != '\0');
    TANDEM_ASSERT(keep == h->snap_index);
    name_list *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft host: out of memory");
    }
    int rc = h->o.ops->list(h->o.ops, h->snap_dir, collect, l);
    bool removed = false;
    for (uint32_t i = 0; i < l->n && rc == 0; i++) {
        const char *n = l->names[i];
        uint64_t idx = snap_name_index(n, "kv") + snap_name_index(n, "meta");
        size_t len = strlen(n);
        bool tmp = len > 4 && strcmp(n + len - 4, ".tmp") == 0;
        if ((idx != 0 && idx != keep) || tmp) {
            char path[HOST_PATH_BYTES];
            int w = snprintf(path, sizeof(path), "%s/%s", h->snap_dir, n);
            if (w < 0 || (size_t)w >= sizeof(path)) {
                rc = TANDEM_ETOOBIG; /* a name no snapshot of ours has */
                break;
            }
            rc = h->o.ops->unlink(h->o.ops, path);
            removed = true;
        }
    }
    free(l);
    if (rc == 0 && removed) {
        rc = h->o.ops->sync_dir(h->o.ops, h->snap_dir);
    }
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: cleaning %s: %s", h->snap_dir,
                               tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/* ---- recovery at open ---- */

/* True when snap-<index> is complete: meta and kv file both verify. */
static bool snapshot_usable(tandem_raft_host *h, uint64_t index, host_meta *m)
{
    TANDEM_ASSERT(h != NULL && m != NULL);
    TANDEM_ASSERT(index > 0);
    char path[HOST_PATH_BYTES];
    host_snap_path(h, index, "meta", path);
    if (meta_read(h, path, m, NULL) != 0 || m->kind != HOST_META_COMPLETE || m->index != index) {
        return false;
    }
    uint64_t applied = 0;
    host_snap_path(h, index, "kv", path);
    return tandem_kv_snapshot_verify(h->o.ops, path, &applied, NULL) == 0 && applied == index;
}

int host_recover_snapshots(tandem_raft_host *h, tandem_raft_snapshot_meta *snap, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && snap != NULL);
    memset(snap, 0, sizeof(*snap));
    name_list *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft host: out of memory");
    }
    int rc = h->o.ops->list(h->o.ops, h->snap_dir, collect, l);
    host_meta m;
    for (uint32_t i = 0; i < l->n && rc == 0; i++) {
        uint64_t idx = snap_name_index(l->names[i], "meta");
        if (idx > snap->index && snapshot_usable(h, idx, &m)) {
            *snap = (tandem_raft_snapshot_meta){m.index, m.term, m.config};
        }
    }
    free(l);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: listing %s: %s", h->snap_dir,
                               tandem_strerror(rc));
    }
    h->snap_index = snap->index;
    h->snap_term = snap->term;
    rc = remove_others(h, snap->index, diag);
    if (rc == 0 && snap->index > tandem_kv_applied_position(h->o.kv)) {
        char path[HOST_PATH_BYTES];
        host_snap_path(h, snap->index, "kv", path);
        rc = tandem_kv_restore(h->o.kv, h->o.ops, path, diag);
    }
    TANDEM_ASSERT(rc != 0 || tandem_kv_applied_position(h->o.kv) >= h->snap_index);
    return rc;
}

/* CRC32C of the first `size` bytes of an open file; TANDEM_ERANGE when shorter. */
static int file_crc(tandem_raft_host *h, int fd, uint64_t size, uint32_t *crc_out)
{
    TANDEM_ASSERT(fd >= 0 && crc_out != NULL);
    uint8_t *buf = malloc(READ_BYTES);
    if (buf == NULL) {
        return TANDEM_ENOMEM;
    }
    uint32_t crc = 0;
    int rc = 0;
    for (uint64_t off = 0; off < size && rc == 0;) {
        size_t want = size - off < READ_BYTES ? (size_t)(size - off) : READ_BYTES;
        size_t got = 0;
        rc = h->o.ops->pread(h->o.ops, fd, buf, want, off, &got);
        if (rc == 0 && got != want) {
            rc = TANDEM_ERANGE;
        }
        crc = rc == 0 ? tandem_crc32c(crc, buf, got) : crc;
        off += got;
    }
    free(buf);
    *crc_out = crc;
    TANDEM_ASSERT(rc != 0 || size > 0 || crc == 0);
    return rc;
}

static int discard_staged(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h->recv_fd < 0);
    char path[HOST_PATH_BYTES];
    recv_path(h, "meta", path);
    int rc = h->o.ops->unlink(h->o.ops, path);
    rc = rc == TANDEM_ENOENT ? 0 : rc;
    recv_path(h, "kv", path);
    int rc2 = h->o.ops->unlink(h->o.ops, path);
    rc = rc ? rc : (rc2 == TANDEM_ENOENT ? 0 : rc2);
    rc = rc ? rc : h->o.ops->sync_dir(h->o.ops, h->snap_dir);
    h->recv_index = h->recv_term = h->recv_bytes = 0;
    h->recv_crc = 0;
    TANDEM_ASSERT(h->recv_index == 0 && h->recv_bytes == 0);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: removing the staged snapshot in %s: %s",
                               h->snap_dir, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/* Checks recv.kv against recv.meta and cuts what follows the counted bytes. */
static int staged_valid(tandem_raft_host *h, const host_meta *m, bool *valid)
{
    TANDEM_ASSERT(m->kind == HOST_META_STAGED);
    char path[HOST_PATH_BYTES];
    recv_path(h, "kv", path);
    int fd = -1;
    uint32_t crc = 0;
    int rc = h->o.ops->open(h->o.ops, path, TANDEM_OPEN_WRITE, &fd);
    if (rc == TANDEM_ENOENT) {
        *valid = false;
        return TANDEM_OK;
    }
    rc = rc ? rc : file_crc(h, fd, m->size_bytes, &crc);
    *valid = rc == 0 && crc == m->crc;
    if (rc == TANDEM_ERANGE) {
        rc = 0; /* shorter than counted: not ours */
    }
    if (*valid) {
        rc = h->o.ops->truncate(h->o.ops, fd, m->size_bytes);
        rc = rc ? rc : h->o.ops->sync(h->o.ops, fd);
    }
    if (fd >= 0) {
        (void)h->o.ops->close(h->o.ops, fd);
    }
    TANDEM_ASSERT(rc != 0 || !*valid || crc == m->crc);
    return rc;
}

int host_recover_staged(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->recv_fd < 0);
    char path[HOST_PATH_BYTES];
    recv_path(h, "meta", path);
    host_meta m;
    int rc = meta_read(h, path, &m, NULL);
    if (rc == TANDEM_ENOENT) {
        return discard_staged(h, diag); /* a recv.kv without its meta counted nothing */
    }
    bool valid = false;
    if (rc == 0 && m.kind == HOST_META_STAGED && m.index > h->snap_index) {
        rc = staged_valid(h, &m, &valid);
        if (rc != 0) {
            return tandem_diag_set(diag, rc, "raft host: reading the staged snapshot in %s: %s",
                                   h->snap_dir, tandem_strerror(rc));
        }
    }
    if (!valid) {
        h->stats.staged_discarded++;
        return discard_staged(h, diag);
    }
    h->recv_index = m.index;
    h->recv_term = m.term;
    h->recv_bytes = m.size_bytes;
    h->recv_crc = m.crc;
    h->stats.staged_resumed_bytes = m.size_bytes;
    TANDEM_ASSERT(h->recv_index > h->snap_index);
    return TANDEM_OK;
}

/* ---- taking a snapshot ---- */

/* Writes snap-<index>.kv and .meta for the state now in the kv. */
static int write_snapshot(tandem_raft_host *h, uint64_t index, uint64_t term,
                          const tandem_raft_config *conf, tandem_diag *diag)
{
    TANDEM_ASSERT(index == tandem_kv_applied_position(h->o.kv));
    char path[HOST_PATH_BYTES];
    host_snap_path(h, index, "kv", path);
    uint64_t applied = 0;
    int rc = tandem_kv_snapshot(h->o.kv, h->o.ops, path, &applied, diag);
    if (rc != 0) {
        return rc;
    }
    TANDEM_ASSERT(applied == index);
    host_meta m = {.kind = HOST_META_COMPLETE, .index = index, .term = term, .config = *conf};
    host_snap_path(h, index, "meta", path);
    return meta_write(h, path, &m, diag);
}

static int compact_journal(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h->snap_index > 0);
    uint64_t below = h->snap_index + 1 < h->floor ? h->snap_index + 1 : h->floor;
    int rc = tandem_journal_compact_below(h->journal, below, diag);
    TANDEM_ASSERT(rc != 0 || tandem_journal_first_index(h->journal) <= h->snap_index + 1);
    return rc;
}

int host_take_snapshot(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && h->raft != NULL);
    uint64_t index = tandem_kv_applied_position(h->o.kv);
    if (index <= h->snap_index || index > tandem_raft_commit_index(h->raft) ||
        tandem_raft_compact(h->raft, index) != 0) {
        return TANDEM_OK; /* nothing new, or the state is ahead of the log after a restart */
    }
    uint64_t term = tandem_raft_term_at(h->raft, index);
    int rc = write_snapshot(h, index, term, tandem_raft_snapshot_config(h->raft), diag);
    if (rc != 0) {
        return rc; /* the core forgot entries the disk still needs: fail-stop */
    }
    if (h->send_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->send_fd);
        h->send_fd = -1;
    }
    h->snap_index = index;
    h->snap_term = term;
    h->since_entries = 0;
    h->since_bytes = 0;
    h->stats.snapshots_taken++;
    rc = remove_others(h, index, diag);
    rc = rc ? rc : compact_journal(h, diag);
    TANDEM_ASSERT(h->snap_index == tandem_raft_snapshot_index(h->raft));
    return rc;
}

/* ---- sending ---- */

static int open_for_send(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h->snap_index > 0);
    if (h->send_fd >= 0 && h->send_index == h->snap_index) {
        return TANDEM_OK;
    }
    if (h->send_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->send_fd);
        h->send_fd = -1;
    }
    char path[HOST_PATH_BYTES];
    host_snap_path(h, h->snap_index, "kv", path);
    int rc = h->o.ops->open(h->o.ops, path, TANDEM_OPEN_READ, &h->send_fd);
    rc = rc ? rc : h->o.ops->size(h->o.ops, h->send_fd, &h->send_size);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: opening %s: %s", path, tandem_strerror(rc));
    }
    h->send_index = h->snap_index;
    TANDEM_ASSERT(h->send_fd >= 0);
    return TANDEM_OK;
}

int host_send_snapshot(tandem_raft_host *h, const tandem_raft_message *m, tandem_diag *diag)
{
    TANDEM_ASSERT(m->type == TANDEM_RAFT_MSG_SNAPSHOT);
    TANDEM_ASSERT(h->chunk != NULL);
    if (m->index != h->snap_index || h->snap_index == 0) {
        return TANDEM_OK; /* not the snapshot on disk (cannot happen): the core retries */
    }
    int rc = open_for_send(h, diag);
    if (rc != 0) {
        return rc;
    }
    if (m->hint > h->send_size) {
        return TANDEM_OK; /* a follower asked past the end: not a snapshot of ours */
    }
    uint64_t left = h->send_size - m->hint;
    size_t want = left < h->o.chunk_size_bytes ? (size_t)left : h->o.chunk_size_bytes;
    size_t got = 0;
    rc = h->o.ops->pread(h->o.ops, h->send_fd, h->chunk, want, m->hint, &got);
    if (rc != 0 || got != want) {
        rc = rc ? rc : TANDEM_EIO;
        return tandem_diag_set(diag, rc, "raft host: reading snapshot %llu at %llu: %s",
                               (unsigned long long)m->index, (unsigned long long)m->hint,
                               tandem_strerror(rc));
    }
    TANDEM_ASSERT(got <= h->o.chunk_size_bytes && got <= left);
    tandem_raft_message filled = *m;
    filled.chunk = h->chunk;
    filled.chunk_size_bytes = (uint32_t)got;
    if (got == left) {
        filled.flags |= TANDEM_RAFT_FLAG_LAST;
    }
    h->o.send(h->o.send_arg, &filled);
    h->stats.chunks_sent++;
    return TANDEM_OK;
}

/* ---- receiving ---- */

static int open_staged(tandem_raft_host *h, bool fresh, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL);
    char path[HOST_PATH_BYTES];
    recv_path(h, "kv", path);
    if (h->recv_fd >= 0 && !fresh) {
        return TANDEM_OK;
    }
    if (h->recv_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->recv_fd);
        h->recv_fd = -1;
    }
    int rc = h->o.ops->open(h->o.ops, path, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &h->recv_fd);
    if (rc == 0 && fresh) {
        rc = h->o.ops->truncate(h->o.ops, h->recv_fd, 0);
    }
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: opening %s: %s", path, tandem_strerror(rc));
    }
    TANDEM_ASSERT(h->recv_fd >= 0);
    return TANDEM_OK;
}

int host_store_chunk(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag)
{
    TANDEM_ASSERT(u->snapshot_chunk != NULL);
    bool fresh = u->snapshot_offset == 0;
    if (!fresh && (u->snapshot_index != h->recv_index || u->snapshot_offset != h->recv_bytes)) {
        return tandem_diag_set(
            diag, TANDEM_ESTATE,
            "raft host: chunk of snapshot %llu at %llu, %llu bytes of %llu staged",
            (unsigned long long)u->snapshot_index, (unsigned long long)u->snapshot_offset,
            (unsigned long long)h->recv_bytes, (unsigned long long)h->recv_index);
    }
    int rc = open_staged(h, fresh, diag);
    if (rc != 0) {
        return rc;
    }
    if (fresh) {
        h->recv_index = u->snapshot_index;
        h->recv_term = u->snapshot_term;
        h->recv_bytes = 0;
        h->recv_crc = 0;
    }
    size_t n = u->snapshot_chunk_size_bytes;
    rc = n > 0 ? h->o.ops->pwrite(h->o.ops, h->recv_fd, u->snapshot_chunk, n, h->recv_bytes) : 0;
    rc = rc ? rc : h->o.ops->sync(h->o.ops, h->recv_fd);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: writing the staged snapshot: %s",
                               tandem_strerror(rc));
    }
    h->recv_bytes += n;
    h->recv_crc = tandem_crc32c(h->recv_crc, u->snapshot_chunk, n);
    h->stats.chunks_stored++;
    TANDEM_ASSERT(h->recv_bytes >= n && h->recv_index > 0);
    host_meta m = {.kind = HOST_META_STAGED,
                   .index = h->recv_index,
                   .term = h->recv_term,
                   .size_bytes = h->recv_bytes,
                   .crc = h->recv_crc};
    char path[HOST_PATH_BYTES];
    recv_path(h, "meta", path);
    return meta_write(h, path, &m, diag);
}

/* Makes the complete staged file snapshot `index`: verified, renamed, meta written. */
static int promote_staged(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag)
{
    TANDEM_ASSERT(u->snapshot_config != NULL);
    TANDEM_ASSERT(h->recv_fd < 0);
    char from[HOST_PATH_BYTES], to[HOST_PATH_BYTES];
    recv_path(h, "kv", from);
    uint64_t applied = 0;
    int rc = tandem_kv_snapshot_verify(h->o.ops, from, &applied, diag);
    if (rc == 0 && applied != u->snapshot_index) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                             "raft host: received snapshot %llu holds the state at %llu",
                             (unsigned long long)u->snapshot_index, (unsigned long long)applied);
    }
    if (rc != 0) {
        (void)discard_staged(h, NULL); /* start over after the restart */
        return rc;
    }
    host_snap_path(h, u->snapshot_index, "kv", to);
    rc = h->o.ops->rename(h->o.ops, from, to);
    rc = rc ? rc : h->o.ops->sync_dir(h->o.ops, h->snap_dir);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: renaming %s: %s", from, tandem_strerror(rc));
    }
    host_meta m = {.kind = HOST_META_COMPLETE,
                   .index = u->snapshot_index,
                   .term = u->snapshot_term,
                   .config = *u->snapshot_config};
    host_snap_path(h, u->snapshot_index, "meta", to);
    rc = meta_write(h, to, &m, diag);
    TANDEM_ASSERT(rc != 0 || applied == u->snapshot_index);
    return rc;
}

int host_install(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag)
{
    TANDEM_ASSERT(u->snapshot_install && u->snapshot_config != NULL);
    TANDEM_ASSERT(u->snapshot_index > h->snap_index);
    if (h->recv_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->recv_fd);
        h->recv_fd = -1;
    }
    if (h->recv_index != u->snapshot_index) {
        return tandem_diag_set(diag, TANDEM_ESTATE, "raft host: install of %llu, %llu staged",
                               (unsigned long long)u->snapshot_index,
                               (unsigned long long)h->recv_index);
    }
    int rc = promote_staged(h, u, diag);
    rc = rc ? rc : discard_staged(h, diag);
    if (rc != 0) {
        return rc;
    }
    char path[HOST_PATH_BYTES];
    host_snap_path(h, u->snapshot_index, "kv", path);
    rc = tandem_kv_restore(h->o.kv, h->o.ops, path, diag);
    rc = rc ? rc : tandem_journal_reset(h->journal, u->snapshot_index + 1, u->snapshot_term, diag);
    if (rc != 0) {
        return rc;
    }
    h->snap_index = u->snapshot_index;
    h->snap_term = u->snapshot_term;
    h->since_entries = 0;
    h->since_bytes = 0;
    h->stats.snapshots_installed++;
    TANDEM_ASSERT(tandem_kv_applied_position(h->o.kv) == h->snap_index);
    return remove_others(h, h->snap_index, diag);
}

void host_close_files(tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    if (h->send_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->send_fd);
        h->send_fd = -1;
    }
    if (h->recv_fd >= 0) {
        (void)h->o.ops->close(h->o.ops, h->recv_fd);
        h->recv_fd = -1;
    }
    TANDEM_ASSERT(h->send_fd < 0 && h->recv_fd < 0);
}
