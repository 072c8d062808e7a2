/*
 * raft_force.c — forced reconfiguration: a new configuration without a
 * quorum of the old one (docs/RAFT.md, "Forced reconfiguration").
 *
 * The initiator (any survivor the operator asks) runs three phases, each
 * message retried every heartbeat until answered:
 *
 *   PREPARING  FORCE to every survivor: it freezes (stops campaigning and
 *              hears only survivors) and answers with its term and last
 *              entry. Every survivor must answer.
 *   VOTING     the base is the survivor with the most up-to-date log; the
 *              new term is one above every survivor's term. FORCE_VOTE asks
 *              each survivor to vote for the base in that term; a survivor
 *              grants only if the base's log is at least as up to date as its
 *              own, and persists the vote before answering (an ordinary
 *              Raft vote). Every survivor must grant.
 *   LEADING    FORCE_WON tells the base it won: it appends the forced
 *              configuration (epoch + 1) as the first entry of the new term
 *              and leads; the survivors take it by AppendEntries.
 *
 * A refusal in VOTING or a base that does not lead in time starts PREPARING
 * again (with fresh terms); a survivor frozen for, or already in, another
 * set rejects the force. The initiator's state is in memory only: after a
 * crash the operator repeats the request, and freezes expire on their own.
 */
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

/* A freeze lasts this many election timeouts without news of its force. */
#define FREEZE_TIMEOUTS 10
/* The base has this many election timeouts to lead, and the survivors to
 * vote, before a new round. */
#define LEADING_TIMEOUTS 4
/* Survivors have this many election timeouts to answer FORCE: a force that
 * names a replica that is down must not freeze the others for ever. */
#define PREPARE_TIMEOUTS 8

_Static_assert(PREPARE_TIMEOUTS < FREEZE_TIMEOUTS, "a live initiator outlasts its freezes");

static bool force_active(const tandem_raft *r)
{
    return r->force_state == TANDEM_RAFT_FORCE_PREPARING ||
           r->force_state == TANDEM_RAFT_FORCE_VOTING ||
           r->force_state == TANDEM_RAFT_FORCE_LEADING;
}

/* Same members: the same ids with the same incarnations. */
static bool same_members(const tandem_raft_config *a, const tandem_raft_config *b)
{
    TANDEM_ASSERT(a->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    TANDEM_ASSERT(b->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    if (a->n_members != b->n_members) {
        return false;
    }
    for (uint32_t i = 0; i < a->n_members; i++) {
        const tandem_raft_member *o = tandem_raft_config_find(b, a->members[i].id);
        if (o == NULL || o->incarnation != a->members[i].incarnation) {
            return false;
        }
    }
    return true;
}

static int member_slot(const tandem_raft_config *c, uint64_t id)
{
    TANDEM_ASSERT(c->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    for (uint32_t i = 0; i < c->n_members; i++) {
        if (c->members[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

/* Freezes this replica for the forced set s. Returns 0, or the flag of the
 * answer: DONE when s is in force here, REJECT when another set is. */
static uint8_t freeze(tandem_raft *r, const tandem_raft_config *s)
{
    TANDEM_ASSERT(s->epoch > 0);
    if (r->conf.epoch >= s->epoch) {
        return same_members(&r->conf, s) ? TANDEM_RAFT_FLAG_DONE : TANDEM_RAFT_FLAG_REJECT;
    }
    if (r->frozen && !same_members(&r->frozen_conf, s)) {
        return TANDEM_RAFT_FLAG_REJECT;
    }
    if (tandem_raft_config_find(s, r->opts.id) == NULL) {
        return TANDEM_RAFT_FLAG_REJECT;
    }
    r->frozen = true;
    r->frozen_conf = *s;
    r->frozen_elapsed = 0;
    if (r->role != TANDEM_RAFT_FOLLOWER || r->leader != TANDEM_RAFT_NONE) {
        raft_become_follower(r, r->term, TANDEM_RAFT_NONE);
    }
    TANDEM_ASSERT(r->role == TANDEM_RAFT_FOLLOWER);
    return 0;
}

/* Our log is at least as up to date as (index, log_term). */
static bool log_covers(const tandem_raft *r, uint64_t index, uint64_t log_term)
{
    uint64_t lt = raft_last_term(r);
    TANDEM_ASSERT(lt <= r->term);
    return lt > log_term || (lt == log_term && raft_last_index(r) >= index);
}

/* A survivor's vote for the base in the new term. Returns 0 (granted and
 * marked for persisting) or the answer's flags. */
static uint8_t force_vote(tandem_raft *r, const tandem_raft_config *s, uint64_t term, uint64_t base,
                          uint64_t index, uint64_t log_term)
{
    TANDEM_ASSERT(tandem_raft_config_find(s, base) != NULL);
    uint8_t f = freeze(r, s);
    if (f != 0) {
        return f;
    }
    if (r->term == term && r->voted_for == base) {
        return 0; /* granted before: the vote is durable already */
    }
    bool same_term_bug = (r->opts.bugs & TANDEM_RAFT_BUG_FORCE_SAME_TERM) != 0;
    if ((same_term_bug ? r->term > term : r->term >= term) ||
        !raft_log_up_to_date(r, index, log_term) || term > TANDEM_RAFT_TERM_MAX) {
        return TANDEM_RAFT_FLAG_REJECT;
    }
    if (term > r->term) {
        raft_become_follower(r, term, TANDEM_RAFT_NONE);
    }
    r->voted_for = base;
    r->vote_hidden = false;
    r->hard_state_dirty = true;
    TANDEM_ASSERT(r->term == term);
    return 0;
}

/* The base was told every survivor voted for it: it leads the new term with
 * the forced configuration as its first entry. */
static void force_lead(tandem_raft *r, const tandem_raft_config *s, uint64_t term, uint64_t index,
                       uint64_t log_term)
{
    if (r->conf.epoch >= s->epoch || r->term != term || r->voted_for != r->opts.id ||
        r->role == TANDEM_RAFT_LEADER || !log_covers(r, index, log_term)) {
        return; /* done already, a stale round, or a log that lost what it claimed */
    }
    tandem_buf b = TANDEM_BUF_INIT;
    int rc = tandem_raft_config_encode(s, &b);
    rc = rc ? rc : raft_log_append(r, term, TANDEM_JOURNAL_CONFIG, b.data, b.len);
    tandem_buf_free(&b);
    rc = rc ? rc : raft_conf_refresh(r, NULL);
    if (rc != 0) {
        r->error = TANDEM_ENOMEM;
        return;
    }
    TANDEM_ASSERT(r->conf.epoch == s->epoch);
    r->frozen = false;
    r->role = TANDEM_RAFT_CANDIDATE;
    raft_become_leader(r);
    TANDEM_ASSERT(r->term == term);
}

static void send_to(tandem_raft *r, uint8_t type, uint64_t to)
{
    TANDEM_ASSERT(r->force_bytes.len > 0 && r->force_entry.payload == r->force_bytes.data);
    TANDEM_ASSERT(type == TANDEM_RAFT_MSG_FORCE || type == TANDEM_RAFT_MSG_FORCE_VOTE ||
                  type == TANDEM_RAFT_MSG_FORCE_WON);
    raft_msg m = {0};
    m.type = type;
    m.to = to;
    m.n_entries = 1;
    m.entries = &r->force_entry;
    if (type != TANDEM_RAFT_MSG_FORCE) {
        m.term = r->force_new_term;
        m.hint = r->force_base;
        m.index = r->force_base_index;
        m.log_term = r->force_base_log_term;
    } else {
        m.term = r->term;
    }
    raft_send(r, &m);
}

static void on_prepared(tandem_raft *r, uint64_t from, uint8_t flags, uint64_t term, uint64_t index,
                        uint64_t log_term);
static void on_voted(tandem_raft *r, uint64_t from, uint8_t flags, uint64_t term);

/* Sends this phase's message to every survivor that has not answered; the
 * initiator answers itself at once. */
static void send_phase(tandem_raft *r)
{
    TANDEM_ASSERT(r->force_conf.n_members > 0);
    for (uint32_t i = 0; i < r->force_conf.n_members && force_active(r); i++) {
        uint64_t id = r->force_conf.members[i].id;
        if (r->force_state == TANDEM_RAFT_FORCE_LEADING) {
            if (id == r->force_base && id != r->opts.id) {
                send_to(r, TANDEM_RAFT_MSG_FORCE_WON, id);
            }
            continue;
        }
        if (r->force_seen[i]) {
            continue;
        }
        bool prep = r->force_state == TANDEM_RAFT_FORCE_PREPARING;
        if (id != r->opts.id) {
            send_to(r, prep ? TANDEM_RAFT_MSG_FORCE : TANDEM_RAFT_MSG_FORCE_VOTE, id);
        } else if (prep) {
            on_prepared(r, id, freeze(r, &r->force_conf), r->term, raft_last_index(r),
                        raft_last_term(r));
        } else {
            on_voted(r, id,
                     force_vote(r, &r->force_conf, r->force_new_term, r->force_base,
                                r->force_base_index, r->force_base_log_term),
                     r->force_new_term);
        }
    }
}

static void enter(tandem_raft *r, uint8_t state)
{
    TANDEM_ASSERT(state >= TANDEM_RAFT_FORCE_PREPARING && state <= TANDEM_RAFT_FORCE_LEADING);
    if (state == TANDEM_RAFT_FORCE_PREPARING) {
        r->force_base = TANDEM_RAFT_NONE; /* chosen anew: no FORCE_WON before */
    }
    r->force_state = state;
    r->force_elapsed = 0;
    memset(r->force_seen, 0, sizeof(r->force_seen));
    send_phase(r);
}

static void on_prepared(tandem_raft *r, uint64_t from, uint8_t flags, uint64_t term, uint64_t index,
                        uint64_t log_term)
{
    int slot = member_slot(&r->force_conf, from);
    if (r->force_state != TANDEM_RAFT_FORCE_PREPARING || slot < 0 || r->force_seen[slot] ||
        term > TANDEM_RAFT_TERM_MAX || log_term > term) {
        return; /* a survivor's last term never exceeds its term: a confused peer */
    }
    if (flags & TANDEM_RAFT_FLAG_REJECT) {
        r->force_state = TANDEM_RAFT_FORCE_REJECTED;
        return;
    }
    if (flags & TANDEM_RAFT_FLAG_DONE) {
        r->force_state = TANDEM_RAFT_FORCE_LEADING; /* wait for the leader's entries */
        r->force_elapsed = 0;
        return;
    }
    r->force_seen[slot] = 1;
    r->force_term_of[slot] = term;
    r->force_index_of[slot] = index;
    r->force_log_term_of[slot] = log_term;
    for (uint32_t i = 0; i < r->force_conf.n_members; i++) {
        if (!r->force_seen[i]) {
            return;
        }
    }
    /* every survivor is frozen: the most up-to-date log is the base (the
     * lowest id among equals, so repeated rounds agree), the term is new */
    uint32_t best = 0;
    uint64_t top = 0;
    for (uint32_t i = 0; i < r->force_conf.n_members; i++) {
        uint64_t lt = r->force_log_term_of[i], li = r->force_index_of[i];
        uint64_t blt = r->force_log_term_of[best], bli = r->force_index_of[best];
        if (lt > blt || (lt == blt && li > bli) ||
            (lt == blt && li == bli &&
             r->force_conf.members[i].id < r->force_conf.members[best].id)) {
            best = i;
        }
        top = r->force_term_of[i] > top ? r->force_term_of[i] : top;
        top = lt > top ? lt : top;
    }
    r->force_base = r->force_conf.members[best].id;
    r->force_base_index = r->force_index_of[best];
    r->force_base_log_term = r->force_log_term_of[best];
    r->force_new_term = (r->opts.bugs & TANDEM_RAFT_BUG_FORCE_SAME_TERM) ? top : top + 1;
    TANDEM_ASSERT(r->force_new_term >= r->force_base_log_term);
    enter(r, TANDEM_RAFT_FORCE_VOTING);
}

static void on_voted(tandem_raft *r, uint64_t from, uint8_t flags, uint64_t term)
{
    int slot = member_slot(&r->force_conf, from);
    if (r->force_state != TANDEM_RAFT_FORCE_VOTING || slot < 0 || term != r->force_new_term ||
        r->force_seen[slot]) {
        return;
    }
    if (flags & TANDEM_RAFT_FLAG_DONE) {
        r->force_state = TANDEM_RAFT_FORCE_LEADING;
        r->force_elapsed = 0;
        return;
    }
    if (flags & TANDEM_RAFT_FLAG_REJECT) {
        enter(r, TANDEM_RAFT_FORCE_PREPARING); /* logs or terms moved: a new round */
        return;
    }
    r->force_seen[slot] = 1;
    for (uint32_t i = 0; i < r->force_conf.n_members; i++) {
        if (!r->force_seen[i]) {
            return;
        }
    }
    enter(r, TANDEM_RAFT_FORCE_LEADING);
    if (r->force_base == r->opts.id) {
        force_lead(r, &r->force_conf, r->force_new_term, r->force_base_index,
                   r->force_base_log_term);
        raft_force_settle(r);
    }
}

/* The forced configuration a FORCE* message carries, or false. */
static bool forced_config(const tandem_raft_message *m, tandem_raft_config *s)
{
    TANDEM_ASSERT(m->n_entries == 0 || m->entries != NULL);
    if (m->n_entries != 1 || m->entries[0].kind != TANDEM_JOURNAL_CONFIG ||
        tandem_raft_config_decode(m->entries[0].payload, m->entries[0].size_bytes, s, NULL) != 0) {
        return false;
    }
    for (uint32_t i = 0; i < s->n_members; i++) {
        if (s->members[i].role != TANDEM_RAFT_VOTER) {
            return false;
        }
    }
    return s->epoch > 0 && s->epoch < UINT64_MAX;
}

static void answer(tandem_raft *r, const tandem_raft_message *m, uint8_t type, uint8_t flags)
{
    TANDEM_ASSERT(type == TANDEM_RAFT_MSG_FORCE_RESP || type == TANDEM_RAFT_MSG_FORCE_VOTE_RESP);
    raft_msg resp = {0};
    resp.type = type;
    resp.to = m->from;
    resp.flags = flags;
    if (type == TANDEM_RAFT_MSG_FORCE_RESP) {
        resp.term = r->term;
        resp.index = raft_last_index(r);
        resp.log_term = raft_last_term(r);
    } else {
        resp.term = m->term;
    }
    raft_send(r, &resp);
}

void raft_force_step(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->type >= TANDEM_RAFT_MSG_FORCE && m->type <= TANDEM_RAFT_MSG_FORCE_WON);
    TANDEM_ASSERT(m->from != r->opts.id);
    tandem_raft_config s;
    switch (m->type) {
    case TANDEM_RAFT_MSG_FORCE:
        if (forced_config(m, &s)) {
            answer(r, m, TANDEM_RAFT_MSG_FORCE_RESP, freeze(r, &s));
        }
        break;
    case TANDEM_RAFT_MSG_FORCE_VOTE:
        if (forced_config(m, &s) && tandem_raft_config_find(&s, m->hint) != NULL) {
            uint8_t f = force_vote(r, &s, m->term, m->hint, m->index, m->log_term);
            answer(r, m, TANDEM_RAFT_MSG_FORCE_VOTE_RESP, f);
        }
        break;
    case TANDEM_RAFT_MSG_FORCE_WON:
        if (forced_config(m, &s) && m->hint == r->opts.id) {
            force_lead(r, &s, m->term, m->index, m->log_term);
        }
        break;
    case TANDEM_RAFT_MSG_FORCE_RESP:
        on_prepared(r, m->from, m->flags, m->term, m->index, m->log_term);
        break;
    case TANDEM_RAFT_MSG_FORCE_VOTE_RESP:
        on_voted(r, m->from, m->flags, m->term);
        break;
    default:
        TANDEM_UNREACHABLE();
    }
}

void raft_force_tick(tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    if (r->frozen && ++r->frozen_elapsed >= FREEZE_TIMEOUTS * r->opts.election_ticks) {
        r->frozen = false; /* its initiator is gone: a retry freezes again */
    }
    if (!force_active(r)) {
        return;
    }
    r->force_elapsed++;
    if (r->force_state == TANDEM_RAFT_FORCE_PREPARING &&
        r->force_elapsed >= PREPARE_TIMEOUTS * r->opts.election_ticks) {
        r->force_state = TANDEM_RAFT_FORCE_TIMED_OUT;
        r->frozen = false;
        return;
    }
    if (r->force_state != TANDEM_RAFT_FORCE_PREPARING &&
        r->force_elapsed >= LEADING_TIMEOUTS * r->opts.election_ticks) {
        enter(r, TANDEM_RAFT_FORCE_PREPARING);
    } else if (r->force_elapsed % r->opts.heartbeat_ticks == 0) {
        if (r->frozen) {
            r->frozen_elapsed = 0; /* our own force keeps our freeze */
        }
        send_phase(r);
    }
    raft_force_settle(r);
}

/* Ends freezes and forces once the configuration in force has their epoch. */
void raft_force_settle(tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    if (r->frozen && r->conf.epoch >= r->frozen_conf.epoch) {
        r->frozen = false;
    }
    if (force_active(r) && r->conf.epoch >= r->force_conf.epoch) {
        r->force_state = same_members(&r->conf, &r->force_conf) ? TANDEM_RAFT_FORCE_DONE
                                                                : TANDEM_RAFT_FORCE_REJECTED;
    }
    TANDEM_ASSERT(!r->frozen || r->role != TANDEM_RAFT_LEADER);
}

/* Checks the survivors against the configuration in force and builds the
 * target configuration in *t. */
static int check_survivors(const tandem_raft *r, const tandem_raft_config *survivors,
                           tandem_raft_config *t, tandem_diag *diag)
{
    if (survivors->n_members == 0 || survivors->n_members > TANDEM_RAFT_MEMBERS_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "forced configuration has %u members",
                               survivors->n_members);
    }
    if (r->conf.epoch >= UINT64_MAX - 1) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "configuration epochs are exhausted");
    }
    *t = *survivors;
    t->epoch = r->conf.epoch + 1;
    for (uint32_t i = 0; i < t->n_members; i++) {
        tandem_raft_member *m = &t->members[i];
        const tandem_raft_member *old = tandem_raft_config_find(&r->conf, m->id);
        if (old == NULL || old->incarnation != m->incarnation) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "member %llu (incarnation %llu) is not in the configuration",
                                   (unsigned long long)m->id, (unsigned long long)m->incarnation);
        }
        if (member_slot(t, m->id) != (int)i) {
            return tandem_diag_set(diag, TANDEM_EINVAL, "member %llu named twice",
                                   (unsigned long long)m->id);
        }
        m->role = TANDEM_RAFT_VOTER;
    }
    TANDEM_ASSERT(t->n_members == survivors->n_members && t->epoch > r->conf.epoch);
    if (tandem_raft_config_find(t, r->opts.id) == NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "replica %llu is not among the survivors it was asked to force",
                               (unsigned long long)r->opts.id);
    }
    return TANDEM_OK;
}

int tandem_raft_force(tandem_raft *r, const tandem_raft_config *survivors, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && survivors != NULL);
    TANDEM_ASSERT(r->loaded && !r->in_ready);
    if (same_members(&r->conf, survivors)) {
        r->force_state = TANDEM_RAFT_FORCE_DONE; /* repeated after it took effect */
        return TANDEM_OK;
    }
    tandem_raft_config t;
    int rc = check_survivors(r, survivors, &t, diag);
    if (rc != 0) {
        return rc;
    }
    if (force_active(r)) {
        if (same_members(&r->force_conf, &t)) {
            return TANDEM_OK; /* the same request again: it is running */
        }
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "a forced reconfiguration to another member set is in progress");
    }
    if (r->frozen && !same_members(&r->frozen_conf, &t)) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "frozen by a forced reconfiguration to another member set");
    }
    tandem_buf_reset(&r->force_bytes);
    rc = tandem_raft_config_encode(&t, &r->force_bytes);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "forced configuration: out of memory");
    }
    r->force_conf = t;
    r->force_entry = (tandem_raft_entry){0, TANDEM_JOURNAL_CONFIG, (uint32_t)r->force_bytes.len,
                                         r->force_bytes.data};
    enter(r, TANDEM_RAFT_FORCE_PREPARING);
    raft_force_settle(r);
    TANDEM_ASSERT(r->force_state != TANDEM_RAFT_FORCE_NONE);
    return TANDEM_OK;
}

uint8_t tandem_raft_force_state(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->force_state <= TANDEM_RAFT_FORCE_TIMED_OUT);
    return r->force_state;
}
