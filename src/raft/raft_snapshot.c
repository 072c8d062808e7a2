/*
 * raft_snapshot.c — snapshots: compaction of the in-memory log, and sending
 * a snapshot in chunks to a follower whose next entry is compacted away.
 *
 * The core never holds a snapshot: the leader's SNAPSHOT messages name the
 * snapshot and a byte offset, and the host fills in the bytes; the follower
 * hands each chunk to its host in order and tells the leader the next offset
 * it wants. A chunk lost, duplicated or reordered is answered with that
 * offset, and a new leader sending the same snapshot resumes from it, so a
 * transfer never starts over unless the snapshot itself changed. One chunk is
 * in flight per follower (retried on every heartbeat answer).
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

int raft_snap_conf_set(tandem_raft *r, const tandem_raft_config *c)
{
    TANDEM_ASSERT(c->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    r->snap_conf = *c;
    tandem_buf_reset(&r->snap_conf_bytes);
    if (c->n_members == 0) {
        return TANDEM_OK;
    }
    return tandem_raft_config_encode(c, &r->snap_conf_bytes);
}

int tandem_raft_load_snapshot(tandem_raft *r, uint64_t index, uint64_t term,
                              const tandem_raft_config *conf)
{
    TANDEM_ASSERT(r != NULL && conf != NULL);
    TANDEM_ASSERT(!r->loaded && r->log_len == 0);
    if (index > TANDEM_RAFT_INDEX_MAX || term > TANDEM_RAFT_TERM_MAX) {
        return TANDEM_ECORRUPT;
    }
    r->snap_index = index;
    r->snap_term = term;
    r->conf_index = index;
    int rc = raft_snap_conf_set(r, conf);
    if (rc != 0) {
        return rc;
    }
    r->conf = *conf;
    return raft_progress_rebuild(r);
}

int tandem_raft_load_partial_snapshot(tandem_raft *r, uint64_t index, uint64_t term,
                                      uint64_t size_bytes)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(!r->loaded);
    if (index == 0 || index > TANDEM_RAFT_INDEX_MAX || term > TANDEM_RAFT_TERM_MAX) {
        return TANDEM_ERANGE;
    }
    r->recv_index = index;
    r->recv_term = term;
    r->recv_offset = size_bytes;
    r->recv_conf_known = false; /* taken from the next chunk */
    return TANDEM_OK;
}

/* The configuration in force at `index` (>= the snapshot index). */
int raft_conf_at(const tandem_raft *r, uint64_t index, tandem_raft_config *out)
{
    TANDEM_ASSERT(index >= r->snap_index && index <= raft_last_index(r));
    for (uint64_t i = index; i > r->snap_index; i--) {
        const tandem_raft_entry *e = raft_entry_ptr(r, i);
        if (e->kind == TANDEM_JOURNAL_CONFIG) {
            return tandem_raft_config_decode(e->payload, e->size_bytes, out, NULL);
        }
    }
    *out = r->snap_conf;
    return TANDEM_OK;
}

int tandem_raft_compact(tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (index <= r->snap_index || index > r->commit || index >= r->unstable_from) {
        return TANDEM_ERANGE;
    }
    tandem_raft_config c;
    int rc = raft_conf_at(r, index, &c);
    rc = rc ? rc : raft_snap_conf_set(r, &c);
    if (rc != 0) {
        return rc;
    }
    uint64_t term = raft_term_at(r, index);
    raft_log_drop_prefix(r, index);
    r->snap_index = index;
    r->snap_term = term;
    if (r->conf_index < index) {
        r->conf_index = index; /* the configuration now lives in the snapshot */
    }
    TANDEM_ASSERT(raft_term_at(r, index) == term);
    return TANDEM_OK;
}

void tandem_raft_snapshot_installed(tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (!r->install_pending || index != r->recv_index) {
        return;
    }
    r->install_pending = false;
    r->install_reported = false;
    raft_log_drop_prefix(r, raft_last_index(r)); /* the journal was reset: forget all */
    r->snap_index = index;
    r->snap_term = r->recv_term;
    if (raft_snap_conf_set(r, &r->recv_conf) != 0 || raft_conf_refresh(r, NULL) != 0) {
        r->error = TANDEM_ENOMEM;
        return;
    }
    r->commit = r->commit > index ? r->commit : index;
    r->reported_commit = r->commit < index ? r->commit : index;
    r->persisted = index;
    r->unstable_from = index + 1;
    r->truncate_from = 0;
    r->leader_match = index;
    r->recv_index = 0;
    r->recv_offset = 0;
    TANDEM_ASSERT(raft_last_index(r) == index);
    if (r->role == TANDEM_RAFT_FOLLOWER) {
        raft_send_ack(r);
    }
}

static void reply(tandem_raft *r, const tandem_raft_message *m)
{
    raft_msg resp = {0};
    resp.type = TANDEM_RAFT_MSG_SNAPSHOT_RESP;
    resp.to = m->from;
    resp.term = r->term;
    resp.index = m->index;
    resp.hint = r->recv_index == m->index ? r->recv_offset : 0;
    raft_send(r, &resp);
}

/* Takes the snapshot's configuration from m, when it carries a valid one. */
static bool take_config(tandem_raft *r, const tandem_raft_message *m)
{
    tandem_raft_config c;
    if (m->n_entries != 1 || m->entries[0].kind != TANDEM_JOURNAL_CONFIG ||
        tandem_raft_config_decode(m->entries[0].payload, m->entries[0].size_bytes, &c, NULL) != 0) {
        return false;
    }
    r->recv_conf = c;
    r->recv_conf_known = true;
    TANDEM_ASSERT(r->recv_conf.n_members <= TANDEM_RAFT_MEMBERS_MAX);
    return true;
}

/* Starts receiving snapshot m->index, if m is its first chunk and valid. */
static bool start_receiving(tandem_raft *r, const tandem_raft_message *m)
{
    if (m->hint != 0 || m->n_entries != 1 || m->entries[0].kind != TANDEM_JOURNAL_CONFIG ||
        m->log_term > m->term || m->index == 0) {
        return false;
    }
    tandem_raft_config c;
    if (tandem_raft_config_decode(m->entries[0].payload, m->entries[0].size_bytes, &c, NULL) != 0) {
        return false;
    }
    r->recv_index = m->index;
    r->recv_term = m->log_term;
    r->recv_offset = 0;
    r->recv_conf = c;
    r->recv_conf_known = true;
    return true;
}

void raft_recv_snapshot(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    if (r->role != TANDEM_RAFT_FOLLOWER || r->leader != m->from) {
        raft_become_follower(r, m->term, m->from);
    }
    r->election_elapsed = 0;
    if (m->index <= r->commit) {
        /* we have it all: committed entries equal the leader's */
        uint64_t c = r->commit < raft_last_index(r) ? r->commit : raft_last_index(r);
        r->leader_match = r->leader_match > c ? r->leader_match : c;
        raft_send_ack(r);
        return;
    }
    if (r->install_pending || r->chunk_pending) {
        return; /* the host is busy with the previous chunk; the leader retries */
    }
    if ((r->recv_index != m->index || r->recv_term != m->log_term) && !start_receiving(r, m)) {
        reply(r, m); /* asks for offset 0 */
        return;
    }
    if (!r->recv_conf_known && !take_config(r, m)) {
        return; /* resumed after a restart: the configuration comes with every chunk */
    }
    if (m->hint != r->recv_offset || m->chunk_size_bytes > TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX) {
        reply(r, m); /* out of order: tell where to resume */
        return;
    }
    if (m->chunk_size_bytes > 0) {
        uint8_t *copy = realloc(r->chunk, m->chunk_size_bytes);
        if (copy == NULL) {
            return; /* the leader retries */
        }
        memcpy(copy, m->chunk, m->chunk_size_bytes);
        r->chunk = copy;
    }
    r->chunk_len = m->chunk_size_bytes;
    r->chunk_offset = r->recv_offset;
    r->chunk_pending = true;
    r->recv_offset += m->chunk_size_bytes;
    if (m->flags & TANDEM_RAFT_FLAG_LAST) {
        r->install_pending = true;
        r->install_reported = false;
        return; /* acknowledged once installed */
    }
    reply(r, m);
}

void raft_recv_snapshot_resp(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    raft_progress *p = raft_progress_of(r, m->from);
    if (r->role != TANDEM_RAFT_LEADER || p == NULL || m->from == r->opts.id) {
        return;
    }
    p->recent_active = true;
    if (p->state != RAFT_SNAPSHOT || m->index != p->snap_index) {
        return;
    }
    p->snap_offset = m->hint;
    p->probe_sent = false;
}

/* Called by ready for a member in SNAPSHOT state with nothing in flight. */
void raft_send_snapshot(tandem_raft *r, raft_progress *p)
{
    TANDEM_ASSERT(r->in_ready && r->snap_index > 0);
    TANDEM_ASSERT(r->snap_conf_bytes.len > 0);
    if (p->state != RAFT_SNAPSHOT || p->snap_index != r->snap_index) {
        p->state = RAFT_SNAPSHOT;
        p->snap_index = r->snap_index;
        p->snap_offset = 0;
        p->next = r->snap_index + 1;
        p->probe_sent = false;
    }
    if (p->probe_sent) {
        return;
    }
    tandem_raft_entry *conf = &r->snap_conf_entry;
    conf->term = r->snap_term;
    conf->kind = TANDEM_JOURNAL_CONFIG;
    conf->size_bytes = (uint32_t)r->snap_conf_bytes.len;
    conf->payload = r->snap_conf_bytes.data;
    raft_msg m = {0};
    m.type = TANDEM_RAFT_MSG_SNAPSHOT;
    m.to = p->id;
    m.term = r->term;
    m.index = r->snap_index;
    m.log_term = r->snap_term;
    m.hint = p->snap_offset;
    m.commit = r->commit;
    m.n_entries = 1;
    m.entries = conf;
    raft_send(r, &m);
    p->probe_sent = true;
    p->commit_sent = true;
}
