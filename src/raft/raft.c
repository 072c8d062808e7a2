/*
 * raft.c — life cycle of a replica, the event entry points and the ready /
 * advance hand-over to the host.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

void tandem_raft_options_default(tandem_raft_options *o, uint64_t id, tandem_rand *rand)
{
    TANDEM_ASSERT(o != NULL);
    TANDEM_ASSERT(rand != NULL);
    memset(o, 0, sizeof(*o));
    o->id = id;
    o->election_ticks = 10;
    o->heartbeat_ticks = 2;
    o->window_messages = 32;
    o->batch_entries = 64;
    o->batch_bytes = 1u << 20;
    o->uncommitted_max = 8192;
    o->rand = rand;
}

static int check_options(const tandem_raft_options *o, tandem_diag *diag)
{
    if (o->id == TANDEM_RAFT_NONE) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: replica id is reserved");
    }
    if (o->election_ticks < 2 || o->election_ticks > 1000000) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: election_ticks %u not in 2..1000000",
                               o->election_ticks);
    }
    if (o->heartbeat_ticks < 1 || o->heartbeat_ticks >= o->election_ticks) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "raft: heartbeat_ticks %u must be in 1..election_ticks-1",
                               o->heartbeat_ticks);
    }
    if (o->window_messages < 1 || o->window_messages > TANDEM_RAFT_WINDOW_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: window_messages %u not in 1..%d",
                               o->window_messages, TANDEM_RAFT_WINDOW_MAX);
    }
    if (o->batch_entries < 1 || o->batch_entries > TANDEM_RAFT_BATCH_ENTRIES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: batch_entries %u not in 1..%d",
                               o->batch_entries, TANDEM_RAFT_BATCH_ENTRIES_MAX);
    }
    if (o->uncommitted_max < 1 || o->rand == NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: uncommitted_max and rand are needed");
    }
    return TANDEM_OK;
}

int tandem_raft_new(const tandem_raft_options *opts, tandem_raft **out, tandem_diag *diag)
{
    TANDEM_ASSERT(opts != NULL && out != NULL);
    int rc = check_options(opts, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_raft *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft: out of memory");
    }
    r->opts = *opts;
    r->voted_for = TANDEM_RAFT_NONE;
    r->leader = TANDEM_RAFT_NONE;
    r->role = TANDEM_RAFT_FOLLOWER;
    r->unstable_from = 1;
    r->transfer_target = TANDEM_RAFT_NONE;
    r->reported_leader = TANDEM_RAFT_NONE;
    *out = r;
    TANDEM_ASSERT(raft_last_index(r) == 0);
    return TANDEM_OK;
}

void tandem_raft_free(tandem_raft *r)
{
    if (r == NULL) {
        return;
    }
    raft_log_free(r);
    free(r->chunk);
    tandem_buf_free(&r->snap_conf_bytes);
    tandem_buf_free(&r->force_bytes);
    free(r->progress);
    free(r->out);
    free(r);
}

void raft_reset_election_timeout(tandem_raft *r)
{
    uint32_t base = r->opts.election_ticks;
    uint32_t t = base + (uint32_t)tandem_rand_below(r->opts.rand, base);
    /* Priority: a replica below the highest priority among voters waits a
     * half timeout longer per step, so the preferred replica usually wins. */
    const tandem_raft_member *self = tandem_raft_config_find(&r->conf, r->opts.id);
    if (self != NULL) {
        uint32_t top = 0;
        for (uint32_t i = 0; i < r->conf.n_members; i++) {
            if (r->conf.members[i].role == TANDEM_RAFT_VOTER && r->conf.members[i].priority > top) {
                top = r->conf.members[i].priority;
            }
        }
        uint32_t steps = top > self->priority ? top - self->priority : 0;
        t += (steps < 4 ? steps : 4) * (base / 2);
    }
    r->election_timeout = t;
    TANDEM_ASSERT(r->election_timeout >= base);
}

/* Queues a message; a full outbox drops it (Raft tolerates loss) and counts. */
void raft_send(tandem_raft *r, const raft_msg *m)
{
    TANDEM_ASSERT(m->to != r->opts.id);
    TANDEM_ASSERT(m->type >= TANDEM_RAFT_MSG_APPEND && m->type <= TANDEM_RAFT_MSG_FORCE_WON);
    if (r->out_len == r->out_cap) {
        size_t cap = r->out_cap ? r->out_cap * 2 : 32;
        if (r->out_len >= TANDEM_RAFT_OUTBOX_MESSAGES_MAX) {
            r->dropped_messages++;
            return;
        }
        raft_msg *n = realloc(r->out, cap * sizeof(*n));
        if (n == NULL) {
            r->dropped_messages++;
            return;
        }
        r->out = n;
        r->out_cap = cap;
    }
    raft_msg *slot = &r->out[r->out_len++];
    *slot = *m;
    slot->from = r->opts.id;
    slot->epoch = r->conf.epoch;
    slot->incarnation = r->opts.incarnation;
}

int tandem_raft_load_hard_state(tandem_raft *r, uint64_t term, uint64_t voted_for)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(!r->loaded);
    TANDEM_ASSERT(r->log_len == 0);
    if (term > TANDEM_RAFT_TERM_MAX) {
        return TANDEM_ECORRUPT;
    }
    r->term = term;
    r->voted_for = voted_for;
    return TANDEM_OK;
}

int tandem_raft_load_entry(tandem_raft *r, const tandem_raft_entry *e, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && e != NULL);
    TANDEM_ASSERT(!r->loaded);
    if (e->term > TANDEM_RAFT_TERM_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft: entry %llu has term %llu",
                               (unsigned long long)(raft_last_index(r) + 1),
                               (unsigned long long)e->term);
    }
    if (raft_last_index(r) >= TANDEM_RAFT_INDEX_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft: entry past index %llu",
                               (unsigned long long)TANDEM_RAFT_INDEX_MAX);
    }
    if (e->term < raft_last_term(r)) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "raft: entry %llu has term %llu below %llu",
                               (unsigned long long)(raft_last_index(r) + 1),
                               (unsigned long long)e->term, (unsigned long long)raft_last_term(r));
    }
    if (e->kind == TANDEM_JOURNAL_CONFIG) {
        tandem_raft_config c;
        int rc = tandem_raft_config_decode(e->payload, e->size_bytes, &c, diag);
        if (rc != 0) {
            return rc;
        }
    }
    return raft_log_append(r, e->term, e->kind, e->payload, e->size_bytes);
}

int tandem_raft_load_done(tandem_raft *r, uint64_t commit_index, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(!r->loaded);
    uint64_t last = raft_last_index(r);
    r->commit = commit_index < last ? commit_index : last;
    if (r->commit < r->snap_index) {
        r->commit = r->snap_index;
    }
    r->persisted = last;
    r->unstable_from = last + 1;
    r->reported_commit = r->snap_index; /* the state holds the snapshot already */
    if (r->recv_index <= r->snap_index || r->recv_index <= r->commit) {
        r->recv_index = 0; /* a staged snapshot the log has passed */
        r->recv_term = 0;
        r->recv_offset = 0;
    }
    if (raft_last_term(r) > r->term) {
        r->term = raft_last_term(r);
        r->voted_for = TANDEM_RAFT_NONE;
        r->hard_state_dirty = true;
    }
    int rc = raft_conf_refresh(r, diag);
    if (rc != 0) {
        return rc;
    }
    /* An empty log (a member about to be added) has no configuration: it
     * never campaigns and waits for a leader to send it the log. */
    raft_reset_election_timeout(r);
    r->loaded = true;
    return TANDEM_OK;
}

/* A message from a higher term: follow it, unless it is a (pre-)vote we
 * refuse to hear inside a leader's lease. Returns false to drop m. */
static bool step_higher_term(tandem_raft *r, const tandem_raft_message *m)
{
    bool vote = m->type == TANDEM_RAFT_MSG_VOTE || m->type == TANDEM_RAFT_MSG_PREVOTE;
    if (vote && raft_in_lease(r) && !(m->flags & TANDEM_RAFT_FLAG_TRANSFER)) {
        return false;
    }
    if (m->type == TANDEM_RAFT_MSG_PREVOTE ||
        (m->type == TANDEM_RAFT_MSG_PREVOTE_RESP && !(m->flags & TANDEM_RAFT_FLAG_REJECT))) {
        return true; /* pre-votes do not change terms */
    }
    bool from_leader = m->type == TANDEM_RAFT_MSG_APPEND || m->type == TANDEM_RAFT_MSG_HEARTBEAT ||
                       m->type == TANDEM_RAFT_MSG_TIMEOUT_NOW ||
                       m->type == TANDEM_RAFT_MSG_SNAPSHOT;
    r->vote_hidden = false;
    raft_become_follower(r, m->term, from_leader ? m->from : TANDEM_RAFT_NONE);
    return true;
}

/* A message from an older term: tell a stale leader or pre-candidate our term. */
static void step_lower_term(tandem_raft *r, const tandem_raft_message *m)
{
    raft_msg resp = {0};
    resp.to = m->from;
    resp.term = r->term;
    resp.flags = TANDEM_RAFT_FLAG_REJECT;
    if (m->type == TANDEM_RAFT_MSG_APPEND || m->type == TANDEM_RAFT_MSG_HEARTBEAT ||
        m->type == TANDEM_RAFT_MSG_SNAPSHOT) {
        resp.type = TANDEM_RAFT_MSG_APPEND_RESP;
        raft_send(r, &resp);
    } else if (m->type == TANDEM_RAFT_MSG_PREVOTE) {
        resp.type = TANDEM_RAFT_MSG_PREVOTE_RESP;
        raft_send(r, &resp);
    }
}

/*
 * Fencing: only members of the configuration in force, with the incarnation
 * it names, are heard, whatever term they carry (plain Raft would follow a
 * higher term from anyone). This keeps replicas forced out of the
 * configuration, and a replica that returns with the data of an older
 * incarnation, from voting, acknowledging or disturbing the leader. A
 * replica without a configuration (a new member) hears everyone: it has no
 * vote, and the leader it follows is checked by the others. While frozen for
 * a forced reconfiguration, only the survivors are heard.
 */
static bool sender_admitted(const tandem_raft *r, const tandem_raft_message *m)
{
    if (r->opts.bugs & TANDEM_RAFT_BUG_NO_FENCING) {
        return true;
    }
    if (r->frozen && tandem_raft_config_find(&r->frozen_conf, m->from) == NULL) {
        return false;
    }
    if (r->conf.n_members == 0) {
        return true;
    }
    const tandem_raft_member *s = tandem_raft_config_find(&r->conf, m->from);
    return s != NULL && s->incarnation == m->incarnation;
}

int tandem_raft_step(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(r != NULL && m != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (r->error != 0) {
        return r->error;
    }
    if (m->to != r->opts.id || m->from == r->opts.id || m->term > TANDEM_RAFT_TERM_MAX ||
        m->type < TANDEM_RAFT_MSG_APPEND || m->type > TANDEM_RAFT_MSG_FORCE_WON ||
        !sender_admitted(r, m)) {
        return TANDEM_OK;
    }
    if (m->index > TANDEM_RAFT_INDEX_MAX || m->commit > TANDEM_RAFT_INDEX_MAX ||
        m->n_entries > TANDEM_RAFT_INDEX_MAX - m->index) {
        return TANDEM_OK; /* an index no log reaches: the next index would wrap */
    }
    if (m->type >= TANDEM_RAFT_MSG_FORCE) {
        raft_force_step(r, m); /* outside the term rules: the force sets terms itself */
        raft_force_settle(r);
        return r->error;
    }
    if (m->term > r->term) {
        if (!step_higher_term(r, m)) {
            return TANDEM_OK;
        }
    } else if (m->term < r->term) {
        step_lower_term(r, m);
        return TANDEM_OK;
    }
    switch (m->type) {
    case TANDEM_RAFT_MSG_APPEND:
        raft_recv_append(r, m);
        break;
    case TANDEM_RAFT_MSG_APPEND_RESP:
        raft_recv_append_resp(r, m);
        break;
    case TANDEM_RAFT_MSG_PREVOTE:
        if (!raft_in_lease(r)) {
            raft_recv_vote(r, m);
        }
        break;
    case TANDEM_RAFT_MSG_VOTE:
        raft_recv_vote(r, m);
        break;
    case TANDEM_RAFT_MSG_PREVOTE_RESP:
    case TANDEM_RAFT_MSG_VOTE_RESP:
        raft_recv_vote_resp(r, m);
        break;
    case TANDEM_RAFT_MSG_HEARTBEAT:
        raft_recv_heartbeat(r, m);
        break;
    case TANDEM_RAFT_MSG_HEARTBEAT_RESP:
        raft_recv_heartbeat_resp(r, m);
        break;
    case TANDEM_RAFT_MSG_TIMEOUT_NOW:
        raft_recv_timeout_now(r, m);
        break;
    case TANDEM_RAFT_MSG_SNAPSHOT:
        raft_recv_snapshot(r, m);
        break;
    case TANDEM_RAFT_MSG_SNAPSHOT_RESP:
        raft_recv_snapshot_resp(r, m);
        break;
    default:
        TANDEM_UNREACHABLE();
    }
    raft_force_settle(r);
    return r->error;
}

/* Priority: once per election timeout, a leader that is not the member of
 * highest priority hands leadership to the highest-priority voter that is
 * fully caught up, so leaders settle where the configuration pins them. */
static void maybe_hand_to_preferred(tandem_raft *r)
{
    if (r->transfer_target != TANDEM_RAFT_NONE || r->commit < r->term_start) {
        return;
    }
    const tandem_raft_member *self = tandem_raft_config_find(&r->conf, r->opts.id);
    uint8_t best_priority = self != NULL ? self->priority : 0;
    uint64_t best = TANDEM_RAFT_NONE;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const tandem_raft_member *m = &r->conf.members[i];
        if (m->role == TANDEM_RAFT_VOTER && m->id != r->opts.id && m->priority > best_priority &&
            r->progress[i].match == raft_last_index(r) && r->progress[i].recent_active) {
            best_priority = m->priority;
            best = m->id;
        }
    }
    if (best != TANDEM_RAFT_NONE) {
        r->transfer_target = best;
        r->transfer_elapsed = 0;
        raft_maybe_send_timeout_now(r);
    }
}

static void tick_leader(tandem_raft *r)
{
    if (++r->heartbeat_elapsed >= r->opts.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        raft_send_heartbeats(r);
    }
    if (r->transfer_target != TANDEM_RAFT_NONE && ++r->transfer_elapsed >= r->opts.election_ticks) {
        r->transfer_target = TANDEM_RAFT_NONE; /* gave up: take proposals again */
    }
    if (++r->election_elapsed < r->opts.election_ticks) {
        return;
    }
    maybe_hand_to_preferred(r);
    /* check-quorum: step down unless a majority answered within a timeout */
    r->election_elapsed = 0;
    uint32_t active = 0;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        raft_progress *p = &r->progress[i];
        if (r->conf.members[i].role == TANDEM_RAFT_VOTER &&
            (p->recent_active || p->id == r->opts.id)) {
            active++;
        }
        p->recent_active = false;
    }
    if (active < raft_voter_count(r) / 2 + 1) {
        raft_become_follower(r, r->term, TANDEM_RAFT_NONE);
    }
}

void tandem_raft_tick(tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    raft_force_tick(r);
    if (r->role == TANDEM_RAFT_LEADER) {
        tick_leader(r);
        return;
    }
    r->election_elapsed++;
    /* a frozen replica waits for the forced configuration's leader */
    if (r->election_elapsed >= r->election_timeout && !r->frozen && raft_may_campaign(r)) {
        raft_campaign(r, true, false);
    }
}

void tandem_raft_persisted(tandem_raft *r, uint64_t index, uint64_t term)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (index > raft_last_index(r) || index >= r->unstable_from || index <= r->persisted ||
        raft_term_at(r, index) != term) {
        return; /* stale: those entries were replaced since */
    }
    r->persisted = index;
    if (r->role == TANDEM_RAFT_LEADER) {
        raft_maybe_commit(r);
    } else if (r->role == TANDEM_RAFT_FOLLOWER) {
        raft_send_ack(r);
    }
}

int tandem_raft_propose(tandem_raft *r, uint8_t kind, const void *payload, size_t size_bytes,
                        uint64_t *index_out)
{
    TANDEM_ASSERT(r != NULL && index_out != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (r->role != TANDEM_RAFT_LEADER || r->transfer_target != TANDEM_RAFT_NONE) {
        return TANDEM_ESTATE;
    }
    if (kind != TANDEM_JOURNAL_DATA && kind != TANDEM_JOURNAL_NOOP) {
        return TANDEM_EINVAL; /* configurations go through change_config */
    }
    if (raft_last_index(r) - r->commit >= r->opts.uncommitted_max) {
        return TANDEM_EFULL;
    }
    int rc = raft_log_append(r, r->term, kind, payload, size_bytes);
    if (rc != 0) {
        return rc;
    }
    *index_out = raft_last_index(r);
    raft_maybe_commit(r); /* a single voter commits once persisted; harmless otherwise */
    return TANDEM_OK;
}

static bool leader_has_appends(const tandem_raft *r)
{
    uint64_t last = raft_last_index(r);
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const raft_progress *p = &r->progress[i];
        if (p->id == r->opts.id) {
            continue;
        }
        if (p->state == RAFT_PROBE
                ? !p->probe_sent
                : (!p->commit_sent ||
                   (p->next <= last && p->inflight_count < r->opts.window_messages))) {
            return true;
        }
    }
    return false;
}

bool tandem_raft_has_ready(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(!r->in_ready);
    return r->hard_state_dirty || r->truncate_from != 0 || r->unstable_from <= raft_last_index(r) ||
           r->out_len > 0 || r->commit != r->reported_commit || r->role != r->reported_role ||
           r->leader != r->reported_leader || r->chunk_pending ||
           (r->install_pending && !r->install_reported) ||
           (r->role == TANDEM_RAFT_LEADER && leader_has_appends(r));
}

void tandem_raft_ready(tandem_raft *r, tandem_raft_update *u)
{
    TANDEM_ASSERT(r != NULL && u != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    r->in_ready = true;
    if (r->role == TANDEM_RAFT_LEADER) {
        (void)raft_make_appends(r);
    }
    memset(u, 0, sizeof(*u));
    u->hard_state_changed = r->hard_state_dirty;
    u->term = r->term;
    u->voted_for = r->vote_hidden ? TANDEM_RAFT_NONE : r->voted_for;
    u->truncate_from = r->truncate_from;
    uint64_t last = raft_last_index(r);
    TANDEM_ASSERT(r->unstable_from >= 1 && r->unstable_from <= last + 1);
    u->entries_first_index = r->unstable_from;
    u->n_entries = (size_t)(last + 1 - r->unstable_from);
    u->entries = u->n_entries > 0 ? raft_entry_ptr(r, r->unstable_from) : NULL;
    u->n_messages = r->out_len;
    u->messages = r->out;
    u->commit_index = r->commit;
    u->role = r->role;
    u->leader = r->leader;
    if (r->chunk_pending) {
        u->snapshot_index = r->recv_index;
        u->snapshot_term = r->recv_term;
        u->snapshot_offset = r->chunk_offset;
        u->snapshot_chunk = r->chunk != NULL ? r->chunk : (const uint8_t *)"";
        u->snapshot_chunk_size_bytes = r->chunk_len;
    }
    if (r->install_pending && !r->install_reported) {
        u->snapshot_index = r->recv_index;
        u->snapshot_term = r->recv_term;
        u->snapshot_install = true;
        u->snapshot_config = &r->recv_conf;
    }
}

void tandem_raft_advance(tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->in_ready);
    r->in_ready = false;
    r->hard_state_dirty = false;
    r->truncate_from = 0;
    r->unstable_from = raft_last_index(r) + 1;
    r->out_len = 0;
    r->chunk_pending = false;
    r->install_reported = r->install_pending;
    r->reported_commit = r->commit;
    r->reported_role = r->role;
    r->reported_leader = r->leader;
}

uint8_t tandem_raft_role(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->role >= TANDEM_RAFT_FOLLOWER && r->role <= TANDEM_RAFT_LEADER);
    return r->role;
}

uint64_t tandem_raft_term(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(raft_last_term(r) <= r->term || !r->loaded);
    return r->term;
}

uint64_t tandem_raft_leader(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->role != TANDEM_RAFT_LEADER || r->leader == r->opts.id);
    return r->leader;
}

uint64_t tandem_raft_commit_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->commit <= raft_last_index(r));
    return r->commit;
}

uint64_t tandem_raft_last_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->unstable_from <= raft_last_index(r) + 1);
    return raft_last_index(r);
}

uint64_t tandem_raft_persisted_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->persisted <= raft_last_index(r));
    return r->persisted;
}

uint64_t tandem_raft_snapshot_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->snap_index <= r->commit);
    return r->snap_index;
}

const tandem_raft_config *tandem_raft_snapshot_config(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->snap_conf.n_members <= TANDEM_RAFT_MEMBERS_MAX);
    return &r->snap_conf;
}

uint64_t tandem_raft_term_at(const tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->snap_index <= raft_last_index(r));
    return raft_term_at(r, index);
}

int tandem_raft_entry_at(const tandem_raft *r, uint64_t index, tandem_raft_entry *e)
{
    TANDEM_ASSERT(r != NULL && e != NULL);
    if (index <= r->snap_index || index > raft_last_index(r)) {
        return TANDEM_ERANGE;
    }
    *e = *raft_entry_ptr(r, index);
    return TANDEM_OK;
}

const tandem_raft_config *tandem_raft_config_current(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->conf.n_members <= TANDEM_RAFT_MEMBERS_MAX);
    return &r->conf;
}
