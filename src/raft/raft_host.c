/*
 * raft_host.c — the replica host: open and recovery, the update loop and
 * the apply path (raft_host.h). Snapshot files live in raft_host_snapshot.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "raft/raft_host_int.h"
#include "raft/raft_journal.h"

#define READY_ROUNDS_MAX 16

static int check_options(const tandem_raft_host_options *o, tandem_diag *diag)
{
    TANDEM_ASSERT(o != NULL);
    if (o->ops == NULL || o->dir == NULL || o->kv == NULL || o->apply == NULL || o->send == NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "raft host: ops, dir, kv, apply and send are needed");
    }
    if (o->dir[0] == '\0' || strlen(o->dir) >= TANDEM_RAFT_HOST_DIR_MAX_BYTES) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "raft host: directory name empty or over %d bytes",
                               TANDEM_RAFT_HOST_DIR_MAX_BYTES - 1);
    }
    if (o->chunk_size_bytes > TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft host: chunk_size_bytes %u over %u",
                               o->chunk_size_bytes, TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX);
    }
    return TANDEM_OK;
}

/* Stops the host on rc (fail-stop); returns rc. */
static int stop(tandem_raft_host *h, int rc)
{
    TANDEM_ASSERT(h != NULL);
    if (rc != 0 && h->stopped == 0) {
        h->stopped = rc;
    }
    return rc;
}

/* An empty log of a bootstrapping replica gets the configuration as entry 1. */
static int bootstrap(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h->journal != NULL);
    if (h->o.bootstrap == NULL || h->snap_index > 0 || tandem_journal_last_index(h->journal) > 0) {
        return TANDEM_OK;
    }
    tandem_buf b = TANDEM_BUF_INIT;
    uint64_t idx = 0;
    int rc = tandem_raft_config_encode(h->o.bootstrap, &b);
    rc =
        rc ? rc
           : tandem_journal_append(h->journal, 1, TANDEM_JOURNAL_CONFIG, b.data, b.len, &idx, diag);
    rc = rc ? rc : tandem_journal_flush(h->journal, diag);
    tandem_buf_free(&b);
    TANDEM_ASSERT(rc != 0 || idx == 1);
    return rc;
}

static int open_parts(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h->raft == NULL && h->journal == NULL);
    tandem_raft_snapshot_meta snap;
    int rc = tandem_mkdir_durable(h->o.ops, h->dir);
    rc = rc ? rc : tandem_mkdir_durable(h->o.ops, h->snap_dir);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft host: cannot create %s: %s", h->snap_dir,
                               tandem_strerror(rc));
    }
    rc = host_recover_snapshots(h, &snap, diag);
    rc = rc ? rc : host_recover_staged(h, diag);
    if (rc != 0) {
        return rc;
    }
    char path[HOST_PATH_BYTES];
    snprintf(path, sizeof(path), "%s/journal", h->dir);
    rc = tandem_journal_open(h->o.ops, path, &h->o.journal, &h->journal, diag);
    rc = rc ? rc : bootstrap(h, diag);
    rc = rc ? rc : tandem_raft_new(&h->o.raft, &h->raft, diag);
    if (rc != 0) {
        return rc;
    }
    if (h->recv_index > 0) {
        rc = tandem_raft_load_partial_snapshot(h->raft, h->recv_index, h->recv_term, h->recv_bytes);
        TANDEM_ASSERT(rc == 0); /* recover_staged checked the bounds */
    }
    uint64_t commit = tandem_kv_applied_position(h->o.kv);
    commit = commit > h->snap_index ? commit : h->snap_index;
    if (h->o.bootstrap != NULL && commit == 0) {
        commit = 1; /* the bootstrap configuration is identical everywhere */
    }
    return tandem_raft_journal_load(h->raft, h->journal, h->snap_index > 0 ? &snap : NULL, commit,
                                    diag);
}

int tandem_raft_host_open(const tandem_raft_host_options *o, tandem_raft_host **out,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(o != NULL && out != NULL);
    int rc = check_options(o, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_raft_host *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft host: out of memory");
    }
    h->o = *o;
    if (h->o.chunk_size_bytes == 0) {
        h->o.chunk_size_bytes = TANDEM_RAFT_HOST_CHUNK_DEFAULT_BYTES;
    }
    snprintf(h->dir, sizeof(h->dir), "%s", o->dir);
    h->o.dir = h->dir;
    snprintf(h->snap_dir, sizeof(h->snap_dir), "%s/snapshots", h->dir);
    h->send_fd = -1;
    h->recv_fd = -1;
    h->floor = UINT64_MAX;
    h->chunk = malloc(h->o.chunk_size_bytes);
    if (h->chunk == NULL) {
        free(h);
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft host: out of memory");
    }
    rc = open_parts(h, diag);
    h->o.bootstrap = NULL; /* o->bootstrap need not outlive open */
    if (rc != 0) {
        tandem_raft_host_close(h);
        return rc;
    }
    *out = h;
    TANDEM_ASSERT(tandem_raft_host_applied_index(h) >= h->snap_index);
    return TANDEM_OK;
}

void tandem_raft_host_close(tandem_raft_host *h)
{
    if (h == NULL) {
        return;
    }
    host_close_files(h);
    tandem_raft_free(h->raft);
    tandem_journal_close(h->journal);
    free(h->chunk);
    free(h);
}

tandem_raft *tandem_raft_host_raft(tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->raft != NULL);
    return h->raft;
}

/* Applies the committed entries the state lacks, in one transaction. */
static int apply_committed(tandem_raft_host *h, uint64_t commit, tandem_diag *diag)
{
    uint64_t from = tandem_kv_applied_position(h->o.kv) + 1;
    uint64_t last = tandem_raft_last_index(h->raft);
    uint64_t to = commit < last ? commit : last;
    if (from > to) {
        return TANDEM_OK;
    }
    TANDEM_ASSERT(from > tandem_raft_snapshot_index(h->raft));
    tandem_kv_txn *txn = NULL;
    int rc = tandem_kv_begin_write(h->o.kv, &txn, diag);
    if (rc != 0) {
        return rc;
    }
    for (uint64_t i = from; i <= to && rc == 0; i++) {
        tandem_raft_entry e;
        rc = tandem_raft_entry_at(h->raft, i, &e);
        TANDEM_ASSERT(rc == 0); /* between the snapshot and the last index */
        rc = h->o.apply(h->o.apply_arg, txn, i, &e, diag);
        h->since_entries++;
        h->since_bytes += e.size_bytes;
    }
    if (rc != 0) {
        tandem_kv_abort(txn);
        return rc;
    }
    rc = tandem_kv_commit(txn, to, diag);
    if (rc == 0) {
        h->stats.applied_entries += to + 1 - from;
    }
    TANDEM_ASSERT(rc != 0 || tandem_kv_applied_position(h->o.kv) == to);
    return rc;
}

static int send_messages(tandem_raft_host *h, const tandem_raft_update *u, tandem_diag *diag)
{
    TANDEM_ASSERT(u->n_messages == 0 || u->messages != NULL);
    for (size_t i = 0; i < u->n_messages; i++) {
        const tandem_raft_message *m = &u->messages[i];
        if (m->type == TANDEM_RAFT_MSG_SNAPSHOT) {
            int rc = host_send_snapshot(h, m, diag);
            if (rc != 0) {
                return rc;
            }
        } else {
            h->o.send(h->o.send_arg, m);
        }
    }
    return TANDEM_OK;
}

/* Carries out one update; *installed says a snapshot was installed. */
static int handle_update(tandem_raft_host *h, const tandem_raft_update *u, bool *installed,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(!*installed);
    int rc = tandem_raft_journal_write_hard_state(h->journal, u, diag);
    if (rc == 0 && u->snapshot_chunk != NULL) {
        rc = host_store_chunk(h, u, diag);
    }
    rc = rc ? rc : send_messages(h, u, diag);
    rc = rc ? rc : tandem_raft_journal_write_entries(h->journal, u, diag);
    rc = rc ? rc : apply_committed(h, u->commit_index, diag);
    if (rc == 0 && u->snapshot_install) {
        rc = host_install(h, u, diag);
        *installed = rc == 0;
    }
    return rc;
}

static bool snapshot_due(const tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    return (h->o.snapshot_entries > 0 && h->since_entries >= h->o.snapshot_entries) ||
           (h->o.snapshot_bytes > 0 && h->since_bytes >= h->o.snapshot_bytes);
}

int tandem_raft_host_process_one(tandem_raft_host *h, tandem_raft_host_round *out,
                                 tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    if (h->stopped != 0) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "raft host: stopped after %s",
                               tandem_errname(h->stopped));
    }
    if (!tandem_raft_has_ready(h->raft)) {
        return TANDEM_OK;
    }
    tandem_raft_update u;
    tandem_raft_ready(h->raft, &u);
    *out = (tandem_raft_host_round){true,           u.hard_state_changed, u.role,
                                    u.commit_index, u.n_entries,          u.n_messages};
    bool installed = false;
    int rc = handle_update(h, &u, &installed, diag);
    uint64_t snap = u.snapshot_index;
    tandem_raft_advance(h->raft);
    if (rc != 0) {
        return stop(h, rc);
    }
    if (installed) {
        tandem_raft_snapshot_installed(h->raft, snap);
        TANDEM_ASSERT(tandem_raft_snapshot_index(h->raft) == snap);
    }
    if (snapshot_due(h)) {
        rc = stop(h, host_take_snapshot(h, diag));
    }
    return rc;
}

int tandem_raft_host_process(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL);
    tandem_raft_host_round round = {.handled = true};
    int rc = TANDEM_OK;
    for (int i = 0; i < READY_ROUNDS_MAX && rc == 0 && round.handled; i++) {
        rc = tandem_raft_host_process_one(h, &round, diag);
    }
    TANDEM_ASSERT(rc != 0 || h->stopped == 0);
    return rc;
}

bool tandem_raft_host_needs_flush(const tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->journal != NULL);
    return tandem_journal_durable_index(h->journal) < tandem_journal_last_index(h->journal);
}

int tandem_raft_host_flush(tandem_raft_host *h, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL);
    if (h->stopped != 0) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "raft host: stopped after %s",
                               tandem_errname(h->stopped));
    }
    int rc = stop(h, tandem_raft_journal_flush(h->raft, h->journal, diag));
    TANDEM_ASSERT(rc != 0 || !tandem_raft_host_needs_flush(h));
    return rc;
}

int tandem_raft_host_snapshot(tandem_raft_host *h, uint64_t *index_out, tandem_diag *diag)
{
    TANDEM_ASSERT(h != NULL);
    if (h->stopped != 0) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "raft host: stopped after %s",
                               tandem_errname(h->stopped));
    }
    int rc = stop(h, host_take_snapshot(h, diag));
    if (rc == 0 && index_out != NULL) {
        *index_out = h->snap_index;
    }
    return rc;
}

void tandem_raft_host_set_floor(tandem_raft_host *h, uint64_t floor_index)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(floor_index > 0);
    h->floor = floor_index;
}

uint64_t tandem_raft_host_applied_index(const tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->o.kv != NULL);
    return tandem_kv_applied_position(h->o.kv);
}

uint64_t tandem_raft_host_snapshot_index(const tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    /* equal unless a snapshot write failed and stopped the host */
    TANDEM_ASSERT(h->stopped != 0 || h->snap_index == tandem_raft_snapshot_index(h->raft));
    return h->snap_index;
}

void tandem_raft_host_stats_get(const tandem_raft_host *h, tandem_raft_host_stats *out)
{
    TANDEM_ASSERT(h != NULL && out != NULL);
    *out = h->stats;
}

const tandem_journal *tandem_raft_host_journal(const tandem_raft_host *h)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->journal != NULL);
    return h->journal;
}
