/*
 * raft_replication.c — AppendEntries and heartbeats, on both sides, and the
 * commit rule.
 *
 * Follower acknowledgements carry the *durable match*: the highest index that
 * is both persisted on the follower and known to equal the leader's log
 * (`leader_match`, set by an accepted AppendEntries of this term). A stale
 * entry beyond what the current leader sent is therefore never acknowledged,
 * and nothing is acknowledged before it is on disk.
 *
 * The leader pipelines: a follower in REPLICATE gets up to `window_messages`
 * AppendEntries in flight, each up to `batch_entries` / `batch_bytes`; a
 * follower in PROBE gets one at a time until the logs agree. A follower that
 * misses a message refuses the next (its log has a gap), which sends it back
 * to PROBE.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

raft_progress *raft_progress_of(tandem_raft *r, uint64_t id)
{
    TANDEM_ASSERT(r != NULL);
    if (r->progress == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        if (r->progress[i].id == id) {
            return &r->progress[i];
        }
    }
    return NULL;
}

/* What a follower may acknowledge: durable and equal to the leader's log. */
static uint64_t acked_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r->leader_match <= raft_last_index(r));
    TANDEM_ASSERT(r->persisted <= raft_last_index(r));
    if (r->opts.bugs & TANDEM_RAFT_BUG_ACK_BEFORE_FSYNC) {
        return r->leader_match;
    }
    return r->persisted < r->leader_match ? r->persisted : r->leader_match;
}

static void follower_commit(tandem_raft *r, uint64_t leader_commit)
{
    if (r->install_pending) {
        /* the install drops the log past the snapshot: nothing there may
         * count as committed until the journal restarts after it */
        return;
    }
    uint64_t c = leader_commit < r->leader_match ? leader_commit : r->leader_match;
    if (c > r->commit) {
        r->commit = c;
    }
    TANDEM_ASSERT(r->commit <= raft_last_index(r));
}

void raft_send_ack(tandem_raft *r)
{
    TANDEM_ASSERT(r->role == TANDEM_RAFT_FOLLOWER);
    if (r->leader == TANDEM_RAFT_NONE) {
        return;
    }
    raft_msg resp = {0};
    resp.type = TANDEM_RAFT_MSG_APPEND_RESP;
    resp.to = r->leader;
    resp.term = r->term;
    resp.index = acked_index(r);
    resp.hint = r->leader_match;
    raft_send(r, &resp);
}

static void reject_append(tandem_raft *r, const tandem_raft_message *m)
{
    /* Skip back over our entries of terms newer than the leader's previous
     * entry: none of them can match (etcd's findConflictByTerm). */
    uint64_t i = m->index < raft_last_index(r) ? m->index : raft_last_index(r);
    while (i > r->commit && raft_term_at(r, i) > m->log_term) {
        i--;
    }
    raft_msg resp = {0};
    resp.type = TANDEM_RAFT_MSG_APPEND_RESP;
    resp.flags = TANDEM_RAFT_FLAG_REJECT;
    resp.to = m->from;
    resp.term = r->term;
    resp.index = m->index;
    resp.hint = i;
    resp.log_term = raft_term_at(r, i);
    raft_send(r, &resp);
}

/* Entries a leader sends must be well-formed; a message with any that is not
 * is dropped whole (a peer's bug must not stop this replica). */
static bool entries_valid(const tandem_raft_message *m)
{
    uint64_t prev_term = m->log_term;
    for (uint32_t k = 0; k < m->n_entries; k++) {
        const tandem_raft_entry *e = &m->entries[k];
        if (e->kind < TANDEM_JOURNAL_DATA || e->kind > TANDEM_JOURNAL_NOOP) {
            return false;
        }
        if (e->term < prev_term || e->term > m->term) {
            return false;
        }
        if (e->kind == TANDEM_JOURNAL_CONFIG) {
            tandem_raft_config c;
            if (tandem_raft_config_decode(e->payload, e->size_bytes, &c, NULL) != 0) {
                return false;
            }
        }
        prev_term = e->term;
    }
    return true;
}

void raft_recv_append(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    if (r->role != TANDEM_RAFT_FOLLOWER || r->leader != m->from) {
        raft_become_follower(r, m->term, m->from);
    }
    r->election_elapsed = 0;
    if (r->install_pending) {
        return; /* a snapshot replaces the log first */
    }
    uint64_t prev = m->index;
    if (prev < r->snap_index) {
        /* the start is in our snapshot: skip what it covers */
        uint64_t skip = r->snap_index - prev;
        if (skip > m->n_entries) {
            raft_send_ack(r);
            return;
        }
        tandem_raft_message rest = *m;
        rest.index = r->snap_index;
        rest.log_term = skip > 0 ? m->entries[skip - 1].term : m->log_term;
        rest.n_entries = m->n_entries - (uint32_t)skip;
        rest.entries = m->entries + skip;
        if (rest.log_term != r->snap_term) {
            return; /* a leader whose log disagrees with our committed snapshot */
        }
        raft_recv_append(r, &rest);
        return;
    }
    if (prev > raft_last_index(r) || raft_term_at(r, prev) != m->log_term) {
        reject_append(r, m);
        return;
    }
    if (!entries_valid(m) || prev > UINT64_MAX - m->n_entries) {
        return;
    }
    bool conf_changed = false;
    for (uint32_t k = 0; k < m->n_entries; k++) {
        const tandem_raft_entry *e = &m->entries[k];
        uint64_t idx = prev + 1 + k;
        if (idx <= raft_last_index(r)) {
            if (raft_term_at(r, idx) == e->term) {
                continue;
            }
            if (idx <= r->commit) {
                return; /* would replace a committed entry: a broken leader */
            }
            conf_changed |= r->conf_index >= idx;
            raft_log_truncate(r, idx);
        }
        if (raft_log_append(r, e->term, e->kind, e->payload, e->size_bytes) != 0) {
            r->error = TANDEM_ENOMEM;
            return;
        }
        conf_changed |= e->kind == TANDEM_JOURNAL_CONFIG;
    }
    uint64_t last_new = prev + m->n_entries;
    if (last_new > r->leader_match) {
        r->leader_match = last_new;
    }
    if (conf_changed && raft_conf_refresh(r, NULL) != 0) {
        r->error = TANDEM_ENOMEM;
    }
    follower_commit(r, m->commit);
    raft_send_ack(r);
}

void raft_recv_heartbeat(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    if (r->role != TANDEM_RAFT_FOLLOWER || r->leader != m->from) {
        raft_become_follower(r, m->term, m->from);
    }
    r->election_elapsed = 0;
    follower_commit(r, m->commit);
    raft_msg resp = {0};
    resp.type = TANDEM_RAFT_MSG_HEARTBEAT_RESP;
    resp.to = m->from;
    resp.term = r->term;
    resp.index = acked_index(r);
    raft_send(r, &resp);
}

static void inflight_reset(raft_progress *p)
{
    p->inflight_start = 0;
    p->inflight_count = 0;
}

static void inflight_free_to(raft_progress *p, uint64_t index)
{
    while (p->inflight_count > 0 && p->inflight[p->inflight_start] <= index) {
        p->inflight_start = (p->inflight_start + 1) % TANDEM_RAFT_WINDOW_MAX;
        p->inflight_count--;
    }
}

static void update_match(tandem_raft *r, raft_progress *p, uint64_t match)
{
    if (match > p->match && match <= raft_last_index(r)) {
        p->match = match;
        if (p->next <= match) {
            p->next = match + 1;
        }
        raft_maybe_commit(r);
        raft_maybe_send_timeout_now(r);
    }
}

void raft_recv_append_resp(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    raft_progress *p = raft_progress_of(r, m->from);
    if (r->role != TANDEM_RAFT_LEADER || p == NULL || m->from == r->opts.id) {
        return;
    }
    p->recent_active = true;
    if (m->flags & TANDEM_RAFT_FLAG_REJECT) {
        if (m->index > raft_last_index(r)) {
            return; /* we never sent that previous index: a confused peer */
        }
        if (m->index <= p->match || (p->state == RAFT_PROBE && m->index + 1 != p->next)) {
            return; /* stale */
        }
        uint64_t next = m->hint + 1 < m->index ? m->hint + 1 : m->index;
        p->next = next > p->match + 1 ? next : p->match + 1;
        p->state = RAFT_PROBE;
        p->probe_sent = false;
        inflight_reset(p);
        return;
    }
    uint64_t accepted = m->hint <= raft_last_index(r) ? m->hint : raft_last_index(r);
    if (p->state != RAFT_REPLICATE && accepted + 1 >= p->next) {
        p->state = RAFT_REPLICATE;
        p->next = accepted + 1;
        inflight_reset(p);
    }
    p->probe_sent = false;
    inflight_free_to(p, accepted);
    update_match(r, p, m->index);
}

void raft_recv_heartbeat_resp(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    raft_progress *p = raft_progress_of(r, m->from);
    if (r->role != TANDEM_RAFT_LEADER || p == NULL || m->from == r->opts.id) {
        return;
    }
    p->recent_active = true;
    p->probe_sent = false;
    if (p->state == RAFT_REPLICATE && m->index < p->match) {
        /* It no longer knows it matches us: it restarted, and what was in
         * flight (and any unsynced tail) is gone. Without this a follower
         * that lost entries waits for the next proposal to learn it. */
        p->state = RAFT_PROBE;
        p->next = p->match + 1;
        inflight_reset(p);
    }
    if (p->state == RAFT_REPLICATE && p->inflight_count >= r->opts.window_messages) {
        /* a full window and silence: let one more through to learn more */
        p->inflight_start = (p->inflight_start + 1) % TANDEM_RAFT_WINDOW_MAX;
        p->inflight_count--;
    }
    if (p->match < r->commit) {
        p->commit_sent = false;
    }
    update_match(r, p, m->index);
}

void raft_send_heartbeats(tandem_raft *r)
{
    TANDEM_ASSERT(r->role == TANDEM_RAFT_LEADER);
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        raft_progress *p = &r->progress[i];
        if (p->id == r->opts.id) {
            continue;
        }
        raft_msg m = {0};
        m.type = TANDEM_RAFT_MSG_HEARTBEAT;
        m.to = p->id;
        m.term = r->term;
        m.commit = r->commit;
        raft_send(r, &m);
    }
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/*
 * Region rule (DESIGN §3): while voters exist in more than one region, an
 * index commits only when a voter of every such region holds it durably, on
 * top of the majority. It is stricter than a majority, so it is safe; it
 * keeps every commit in both regions (RPO 0 when a region is lost), and so
 * makes the survivors of a lost region hold every committed entry, which
 * the forced reconfiguration relies on. Returns the highest such index.
 */
static uint64_t region_limit(const tandem_raft *r, const uint64_t *match_of_slot)
{
    uint8_t regions[TANDEM_RAFT_MEMBERS_MAX];
    uint64_t best[TANDEM_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const tandem_raft_member *mem = &r->conf.members[i];
        if (mem->role != TANDEM_RAFT_VOTER) {
            continue;
        }
        uint32_t k = 0;
        while (k < n && regions[k] != mem->region) {
            k++;
        }
        if (k == n) {
            regions[n] = mem->region;
            best[n++] = 0;
        }
        if (match_of_slot[i] > best[k]) {
            best[k] = match_of_slot[i];
        }
    }
    TANDEM_ASSERT(n <= TANDEM_RAFT_MEMBERS_MAX);
    uint64_t limit = UINT64_MAX;
    for (uint32_t k = 0; k < n; k++) {
        limit = best[k] < limit ? best[k] : limit;
    }
    return limit;
}

/* Figure-8 rule: a leader commits by counting replicas only entries of its
 * own term; earlier entries commit with them. The leader counts itself only
 * for what it has persisted. */
void raft_maybe_commit(tandem_raft *r)
{
    TANDEM_ASSERT(r->role == TANDEM_RAFT_LEADER);
    uint64_t matches[TANDEM_RAFT_MEMBERS_MAX];
    uint64_t match_of_slot[TANDEM_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const tandem_raft_member *mem = &r->conf.members[i];
        match_of_slot[i] = mem->id == r->opts.id ? r->persisted : r->progress[i].match;
        if (mem->role == TANDEM_RAFT_VOTER) {
            matches[n++] = match_of_slot[i];
        }
    }
    if (n == 0) {
        return;
    }
    qsort(matches, n, sizeof(matches[0]), cmp_desc);
    uint64_t candidate = matches[n / 2];
    if (!(r->opts.bugs & TANDEM_RAFT_BUG_NO_REGION_RULE)) {
        uint64_t limit = region_limit(r, match_of_slot);
        candidate = limit < candidate ? limit : candidate;
    }
    if (r->opts.bugs & TANDEM_RAFT_BUG_COMMIT_WITHOUT_QUORUM) {
        candidate = matches[0] > raft_last_index(r) ? raft_last_index(r) : matches[0];
        if (r->persisted > candidate) {
            candidate = r->persisted;
        }
    }
    bool own_term = raft_term_at(r, candidate) == r->term;
    if (candidate > r->commit && (own_term || (r->opts.bugs & TANDEM_RAFT_BUG_NO_FIGURE8))) {
        r->commit = candidate;
        for (uint32_t i = 0; i < r->conf.n_members; i++) {
            r->progress[i].commit_sent = false;
        }
    }
    TANDEM_ASSERT(r->commit <= raft_last_index(r));
    if (r->conf_index <= r->commit && !raft_is_voter(r, r->opts.id)) {
        /* our removal is committed: leave the group */
        raft_become_follower(r, r->term, TANDEM_RAFT_NONE);
    }
}

void raft_maybe_send_timeout_now(tandem_raft *r)
{
    if (r->role != TANDEM_RAFT_LEADER || r->transfer_target == TANDEM_RAFT_NONE) {
        return;
    }
    raft_progress *p = raft_progress_of(r, r->transfer_target);
    if (p == NULL) {
        r->transfer_target = TANDEM_RAFT_NONE;
        return;
    }
    if (p->match == raft_last_index(r)) {
        raft_msg m = {0};
        m.type = TANDEM_RAFT_MSG_TIMEOUT_NOW;
        m.to = p->id;
        m.term = r->term;
        raft_send(r, &m);
    }
}

static void push_append(tandem_raft *r, raft_progress *p, uint64_t prev, uint32_t n)
{
    raft_msg m = {0};
    m.type = TANDEM_RAFT_MSG_APPEND;
    m.to = p->id;
    m.term = r->term;
    m.index = prev;
    m.log_term = raft_term_at(r, prev);
    m.commit = r->commit;
    m.n_entries = n;
    m.entries = n > 0 ? raft_entry_ptr(r, prev + 1) : NULL;
    raft_send(r, &m);
    p->commit_sent = true;
}

/* How many entries from `next` fit in one message. */
static uint32_t batch_size(const tandem_raft *r, uint64_t next)
{
    uint64_t last = raft_last_index(r);
    uint32_t n = 0;
    uint64_t bytes = 0;
    while (next + n <= last && n < r->opts.batch_entries) {
        uint32_t size = raft_entry_ptr(r, next + n)->size_bytes;
        if (n > 0 && bytes + size > r->opts.batch_bytes) {
            break;
        }
        bytes += size;
        n++;
    }
    return n;
}

/* Called by ready (the log does not change until advance, so messages may
 * point into it). */
int raft_make_appends(tandem_raft *r)
{
    TANDEM_ASSERT(r->role == TANDEM_RAFT_LEADER);
    TANDEM_ASSERT(r->in_ready);
    uint64_t last = raft_last_index(r);
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        raft_progress *p = &r->progress[i];
        if (p->id == r->opts.id) {
            continue;
        }
        TANDEM_ASSERT(p->next >= 1 && p->next <= last + 1);
        if (p->state == RAFT_SNAPSHOT || p->next - 1 < r->snap_index) {
            raft_send_snapshot(r, p);
            continue;
        }
        if (p->state == RAFT_PROBE) {
            if (!p->probe_sent) {
                push_append(r, p, p->next - 1, batch_size(r, p->next));
                p->probe_sent = true;
            }
            continue;
        }
        bool sent = false;
        while (p->next <= last && p->inflight_count < r->opts.window_messages) {
            uint32_t n = batch_size(r, p->next);
            TANDEM_ASSERT(n >= 1);
            push_append(r, p, p->next - 1, n);
            p->next += n;
            uint32_t slot = (p->inflight_start + p->inflight_count) % TANDEM_RAFT_WINDOW_MAX;
            p->inflight[slot] = p->next - 1;
            p->inflight_count++;
            sent = true;
        }
        if (!sent && !p->commit_sent) {
            /* tell the new commit index without disturbing the pipeline */
            push_append(r, p, p->match, 0);
        }
    }
    return TANDEM_OK;
}
