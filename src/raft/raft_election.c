/*
 * raft_election.c — role changes, pre-vote, vote and leadership transfer.
 *
 * Pre-vote (dissertation §9.6): a replica whose election timer fires first
 * asks whether it could win, without raising its term, so a replica cut off
 * from the cluster does not disturb it with ever higher terms when it comes
 * back. Check-quorum's other half is the lease: a replica that heard from a
 * leader within the election timeout refuses (pre-)votes, unless the
 * campaign is a leadership transfer.
 */
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

bool raft_in_lease(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    return r->leader != TANDEM_RAFT_NONE && r->election_elapsed < r->opts.election_ticks;
}

void raft_become_follower(tandem_raft *r, uint64_t term, uint64_t leader)
{
    TANDEM_ASSERT(term >= r->term);
    if (term != r->term) {
        r->term = term;
        r->voted_for = TANDEM_RAFT_NONE;
        r->hard_state_dirty = true;
        r->leader_match = 0;
    }
    if (leader != r->leader) {
        r->leader_match = 0;
    }
    r->role = TANDEM_RAFT_FOLLOWER;
    r->leader = leader;
    r->election_elapsed = 0;
    r->transfer_target = TANDEM_RAFT_NONE;
    raft_reset_election_timeout(r);
    TANDEM_ASSERT(r->role == TANDEM_RAFT_FOLLOWER);
}

void raft_become_leader(tandem_raft *r)
{
    TANDEM_ASSERT(r->role == TANDEM_RAFT_CANDIDATE);
    TANDEM_ASSERT(r->voted_for == r->opts.id);
    r->role = TANDEM_RAFT_LEADER;
    r->leader = r->opts.id;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    r->transfer_target = TANDEM_RAFT_NONE;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        raft_progress *p = &r->progress[i];
        memset(p, 0, sizeof(*p));
        p->id = r->conf.members[i].id;
        p->next = raft_last_index(r) + 1;
        p->state = RAFT_PROBE;
        p->recent_active = true;
    }
    /* The no-op commits, by the Figure-8 rule, every earlier entry. */
    if (raft_log_append(r, r->term, TANDEM_JOURNAL_NOOP, NULL, 0) != 0) {
        /* out of memory: step down rather than lead without the no-op */
        raft_become_follower(r, r->term, TANDEM_RAFT_NONE);
        return;
    }
    r->term_start = raft_last_index(r);
    raft_maybe_commit(r);
}

static uint32_t count_votes(const tandem_raft *r, uint8_t which)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        if (r->conf.members[i].role == TANDEM_RAFT_VOTER && r->votes[i] == which) {
            n++;
        }
    }
    return n;
}

/* Counts votes and acts once the outcome is known. */
static void tally(tandem_raft *r)
{
    uint32_t quorum = raft_voter_count(r) / 2 + 1;
    if (count_votes(r, 1) >= quorum) {
        if (r->role == TANDEM_RAFT_PRECANDIDATE) {
            raft_campaign(r, false, false);
        } else {
            raft_become_leader(r);
        }
    } else if (count_votes(r, 2) >= quorum) {
        raft_become_follower(r, r->term, TANDEM_RAFT_NONE);
    }
}

void raft_campaign(tandem_raft *r, bool pre, bool transfer)
{
    TANDEM_ASSERT(raft_may_campaign(r));
    if (r->term >= TANDEM_RAFT_TERM_MAX) {
        return; /* terms are exhausted: this replica only follows */
    }
    uint64_t term = r->term + 1;
    if (pre) {
        r->role = TANDEM_RAFT_PRECANDIDATE;
    } else {
        r->term = term;
        r->voted_for = r->opts.id;
        r->vote_hidden = false;
        r->hard_state_dirty = true;
        r->role = TANDEM_RAFT_CANDIDATE;
    }
    r->leader = TANDEM_RAFT_NONE;
    r->leader_match = 0;
    r->election_elapsed = 0;
    raft_reset_election_timeout(r);
    memset(r->votes, 0, sizeof(r->votes));
    int self = raft_conf_slot(r, r->opts.id);
    if (self >= 0 && r->conf.members[self].incarnation == r->opts.incarnation) {
        r->votes[self] = 1; /* counted only if a voter */
    }
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const tandem_raft_member *m = &r->conf.members[i];
        if (m->role != TANDEM_RAFT_VOTER || m->id == r->opts.id) {
            continue;
        }
        raft_msg msg = {0};
        msg.type = pre ? TANDEM_RAFT_MSG_PREVOTE : TANDEM_RAFT_MSG_VOTE;
        msg.flags = (uint8_t)(transfer ? TANDEM_RAFT_FLAG_TRANSFER : 0);
        msg.to = m->id;
        msg.term = term;
        msg.index = raft_last_index(r);
        msg.log_term = raft_last_term(r);
        raft_send(r, &msg);
    }
    tally(r);
}

/* A (pre-)vote request whose term is not below ours (step checked). */
void raft_recv_vote(tandem_raft *r, const tandem_raft_message *m)
{
    bool pre = m->type == TANDEM_RAFT_MSG_PREVOTE;
    /* a replica without a configuration has received nothing: it has no vote */
    bool up_to_date = r->conf.n_members > 0 && raft_log_up_to_date(r, m->index, m->log_term);
    bool grant;
    if (pre) {
        /* would we vote for it in its next term? */
        grant = m->term > r->term && up_to_date;
    } else {
        TANDEM_ASSERT(m->term == r->term);
        grant = (r->voted_for == TANDEM_RAFT_NONE || r->voted_for == m->from) && up_to_date;
    }
    raft_msg resp = {0};
    resp.type = pre ? TANDEM_RAFT_MSG_PREVOTE_RESP : TANDEM_RAFT_MSG_VOTE_RESP;
    resp.to = m->from;
    /* a pre-vote answer carries the requested term, so the candidate counts it */
    resp.term = grant && pre ? m->term : r->term;
    resp.flags = (uint8_t)(grant ? 0 : TANDEM_RAFT_FLAG_REJECT);
    if (grant && !pre) {
        if (r->voted_for != m->from) {
            r->voted_for = m->from;
            if (r->opts.bugs & TANDEM_RAFT_BUG_VOTE_NOT_PERSISTED) {
                r->vote_hidden = true;
            } else {
                r->hard_state_dirty = true;
            }
        }
        r->election_elapsed = 0;
    }
    raft_send(r, &resp);
    TANDEM_ASSERT(!grant || pre || r->voted_for == m->from);
}

void raft_recv_vote_resp(tandem_raft *r, const tandem_raft_message *m)
{
    bool pre = m->type == TANDEM_RAFT_MSG_PREVOTE_RESP;
    if ((pre && r->role != TANDEM_RAFT_PRECANDIDATE) ||
        (!pre && r->role != TANDEM_RAFT_CANDIDATE)) {
        return;
    }
    /* pre-vote grants carry term + 1; a refusal at a higher term was handled by step */
    if (pre && m->term != r->term + 1 && !(m->flags & TANDEM_RAFT_FLAG_REJECT)) {
        return;
    }
    int slot = raft_conf_slot(r, m->from);
    if (slot < 0 || r->conf.members[slot].role != TANDEM_RAFT_VOTER) {
        return;
    }
    if (r->votes[slot] == 0) {
        r->votes[slot] = (m->flags & TANDEM_RAFT_FLAG_REJECT) ? 2 : 1;
    }
    tally(r);
}

void raft_recv_timeout_now(tandem_raft *r, const tandem_raft_message *m)
{
    TANDEM_ASSERT(m->term == r->term);
    if (r->role == TANDEM_RAFT_LEADER || r->frozen || !raft_may_campaign(r)) {
        return; /* a frozen replica waits for the forced configuration's leader */
    }
    raft_campaign(r, false, true);
}

int tandem_raft_transfer(tandem_raft *r, uint64_t target)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(!r->in_ready);
    if (r->role != TANDEM_RAFT_LEADER) {
        return TANDEM_ESTATE;
    }
    if (target == r->opts.id || !raft_is_voter(r, target)) {
        return TANDEM_EINVAL;
    }
    r->transfer_target = target;
    r->transfer_elapsed = 0;
    raft_maybe_send_timeout_now(r);
    return TANDEM_OK;
}
