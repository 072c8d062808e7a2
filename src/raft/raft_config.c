/*
 * raft_config.c — configurations: their codec, the configuration in force,
 * and one-at-a-time membership changes.
 *
 * A configuration takes effect as soon as its entry is in a replica's log
 * (Raft dissertation §4.1), committed or not; when the entry is truncated
 * the replica falls back to the previous configuration entry of its log.
 * Because the leader allows one change at a time, and only after an entry
 * of its own term is committed, the old and the new majorities always
 * overlap.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

#define CONFIG_VERSION      1
#define CONFIG_MEMBER_BYTES 19

int tandem_raft_config_encode(const tandem_raft_config *c, tandem_buf *b)
{
    TANDEM_ASSERT(c != NULL && b != NULL);
    TANDEM_ASSERT(c->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    size_t start = b->len;
    int rc = tandem_buf_put_u8(b, CONFIG_VERSION);
    rc = rc ? rc : tandem_buf_put_u64(b, c->epoch);
    rc = rc ? rc : tandem_buf_put_u8(b, (uint8_t)c->n_members);
    for (uint32_t i = 0; i < c->n_members && rc == 0; i++) {
        const tandem_raft_member *m = &c->members[i];
        rc = tandem_buf_put_u64(b, m->id);
        rc = rc ? rc : tandem_buf_put_u64(b, m->incarnation);
        rc = rc ? rc : tandem_buf_put_u8(b, m->role);
        rc = rc ? rc : tandem_buf_put_u8(b, m->priority);
        rc = rc ? rc : tandem_buf_put_u8(b, m->region);
    }
    if (rc != 0) {
        tandem_buf_truncate(b, start);
    }
    return rc;
}

int tandem_raft_config_decode(const uint8_t *data, size_t size, tandem_raft_config *out,
                              tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(data != NULL || size == 0);
    tandem_reader rd;
    tandem_reader_init(&rd, data, size);
    uint8_t version = tandem_read_u8(&rd);
    if (rd.failed) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft configuration: empty");
    }
    if (version != CONFIG_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT, "raft configuration: version %u unsupported",
                               version);
    }
    memset(out, 0, sizeof(*out));
    out->epoch = tandem_read_u64(&rd);
    uint8_t n = tandem_read_u8(&rd);
    if (rd.failed) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft configuration: truncated header");
    }
    if (n == 0 || n > TANDEM_RAFT_MEMBERS_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "raft configuration: %u members (1..%d allowed)", n,
                               TANDEM_RAFT_MEMBERS_MAX);
    }
    if (tandem_reader_left(&rd) != (size_t)n * CONFIG_MEMBER_BYTES) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "raft configuration: %zu bytes for %u members, expected %u",
                               tandem_reader_left(&rd), n, n * CONFIG_MEMBER_BYTES);
    }
    for (uint32_t i = 0; i < n; i++) {
        tandem_raft_member *m = &out->members[i];
        m->id = tandem_read_u64(&rd);
        m->incarnation = tandem_read_u64(&rd);
        m->role = tandem_read_u8(&rd);
        m->priority = tandem_read_u8(&rd);
        m->region = tandem_read_u8(&rd);
        if (m->role != TANDEM_RAFT_VOTER && m->role != TANDEM_RAFT_LEARNER) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "raft configuration: member %u has role %u", i, m->role);
        }
        if (m->id == TANDEM_RAFT_NONE) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "raft configuration: member %u has a reserved id", i);
        }
        for (uint32_t k = 0; k < i; k++) {
            if (out->members[k].id == m->id) {
                return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                       "raft configuration: member id %llu twice",
                                       (unsigned long long)m->id);
            }
        }
        out->n_members = i + 1;
    }
    TANDEM_ASSERT(!rd.failed);
    return TANDEM_OK;
}

const tandem_raft_member *tandem_raft_config_find(const tandem_raft_config *c, uint64_t id)
{
    TANDEM_ASSERT(c != NULL);
    TANDEM_ASSERT(c->n_members <= TANDEM_RAFT_MEMBERS_MAX);
    for (uint32_t i = 0; i < c->n_members; i++) {
        if (c->members[i].id == id) {
            return &c->members[i];
        }
    }
    return NULL;
}

int raft_conf_slot(const tandem_raft *r, uint64_t id)
{
    TANDEM_ASSERT(r != NULL);
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        if (r->conf.members[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

bool raft_is_voter(const tandem_raft *r, uint64_t id)
{
    const tandem_raft_member *m = tandem_raft_config_find(&r->conf, id);
    return m != NULL && m->role == TANDEM_RAFT_VOTER;
}

/*
 * A replica campaigns when it is a voter in its latest configuration or, while
 * that one is uncommitted, in the configuration just before it. The second
 * matters when the latest is an uncommitted entry that demotes or removes it:
 * without it, a cluster whose only up-to-date replicas hold such entries could
 * never elect a leader again. It is the configuration before the latest, not
 * the one at this replica's commit index: after a restart the commit index
 * falls back to the snapshot, and a replica removed since (by an entry it
 * holds) and re-added as a learner would otherwise campaign as the voter it
 * was before its removal (simulator seed 20263088).
 * It is safe because a candidate counts votes by its latest configuration
 * alone, its own vote only if it is a voter there. Membership is by id and
 * incarnation.
 */
/* This replica, with its incarnation, is a voter of c: a replica whose data
 * directory was wiped and re-added is not the voter its id was before. */
static bool self_votes_in(const tandem_raft *r, const tandem_raft_config *c)
{
    const tandem_raft_member *m = tandem_raft_config_find(c, r->opts.id);
    return m != NULL && m->role == TANDEM_RAFT_VOTER && m->incarnation == r->opts.incarnation;
}

bool raft_may_campaign(const tandem_raft *r)
{
    if (self_votes_in(r, &r->conf)) {
        return true;
    }
    if (r->conf_index <= r->commit) {
        return false; /* the latest is the committed one */
    }
    TANDEM_ASSERT(r->conf_index > r->snap_index);
    tandem_raft_config before;
    if (raft_conf_at(r, r->conf_index - 1, &before) != 0) {
        return false;
    }
    TANDEM_ASSERT(before.n_members <= TANDEM_RAFT_MEMBERS_MAX);
    return self_votes_in(r, &before);
}

uint32_t raft_voter_count(const tandem_raft *r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        n += r->conf.members[i].role == TANDEM_RAFT_VOTER;
    }
    TANDEM_ASSERT(n <= TANDEM_RAFT_MEMBERS_MAX);
    return n;
}

/* Makes the configuration in force the latest configuration entry of the
 * log (called after the log gained or lost a configuration entry). */
int raft_conf_refresh(tandem_raft *r, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL);
    for (uint64_t i = raft_last_index(r); i > r->snap_index; i--) {
        const tandem_raft_entry *e = raft_entry_ptr(r, i);
        if (e->kind != TANDEM_JOURNAL_CONFIG) {
            continue;
        }
        if (i == r->conf_index) {
            return TANDEM_OK;
        }
        tandem_raft_config c;
        int rc = tandem_raft_config_decode(e->payload, e->size_bytes, &c, diag);
        if (rc != 0) {
            return rc;
        }
        r->conf = c;
        r->conf_index = i;
        return raft_progress_rebuild(r);
    }
    /* no configuration entry after the snapshot: the snapshot's is in force
     * (empty for a new member that has received nothing yet) */
    r->conf = r->snap_conf;
    r->conf_index = r->snap_index;
    return raft_progress_rebuild(r);
}

/* Resizes the leader's progress table to the configuration, keeping what it
 * knew of members that stay. */
int raft_progress_rebuild(tandem_raft *r)
{
    TANDEM_ASSERT(r->conf.n_members <= TANDEM_RAFT_MEMBERS_MAX);
    raft_progress *np = calloc(TANDEM_RAFT_MEMBERS_MAX, sizeof(*np));
    if (np == NULL) {
        return TANDEM_ENOMEM;
    }
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        uint64_t id = r->conf.members[i].id;
        raft_progress *old = r->progress ? raft_progress_of(r, id) : NULL;
        if (old != NULL) {
            np[i] = *old;
        } else {
            np[i].id = id;
            np[i].next = raft_last_index(r) + 1;
            np[i].state = RAFT_PROBE;
            np[i].recent_active = true;
        }
    }
    free(r->progress);
    r->progress = np;
    memset(r->votes, 0, sizeof(r->votes));
    return TANDEM_OK;
}

/* Checks that `next` differs from the configuration in force by one voter at
 * most, and that a new voter was a caught-up learner. */
static int check_change(tandem_raft *r, const tandem_raft_config *next, tandem_diag *diag)
{
    uint32_t changed_voters = 0;
    for (uint32_t i = 0; i < next->n_members; i++) {
        const tandem_raft_member *m = &next->members[i];
        const tandem_raft_member *old = tandem_raft_config_find(&r->conf, m->id);
        if (old != NULL && old->incarnation != m->incarnation) {
            /* the leader's knowledge of the old data directory (its match)
             * must not be taken for the new one's */
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "member %llu changes incarnation: remove it, then add it back",
                                   (unsigned long long)m->id);
        }
        if (m->role != TANDEM_RAFT_VOTER) {
            continue;
        }
        if (old == NULL) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "member %llu must join as a learner before it votes",
                                   (unsigned long long)m->id);
        }
        if (old->role == TANDEM_RAFT_LEARNER) {
            raft_progress *p = raft_progress_of(r, m->id);
            if (p == NULL || p->match < r->commit) {
                return tandem_diag_set(
                    diag, TANDEM_EINVAL, "learner %llu has not caught up (match %llu, commit %llu)",
                    (unsigned long long)m->id, (unsigned long long)(p ? p->match : 0),
                    (unsigned long long)r->commit);
            }
            changed_voters++;
        }
    }
    for (uint32_t i = 0; i < r->conf.n_members; i++) {
        const tandem_raft_member *m = &r->conf.members[i];
        const tandem_raft_member *nm = tandem_raft_config_find(next, m->id);
        if (m->role == TANDEM_RAFT_VOTER && (nm == NULL || nm->role != TANDEM_RAFT_VOTER)) {
            changed_voters++;
        }
    }
    if (changed_voters > 1) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "configuration changes %u voters; one at a time", changed_voters);
    }
    return TANDEM_OK;
}

int tandem_raft_change_config(tandem_raft *r, const tandem_raft_config *next, uint64_t *index_out,
                              tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && next != NULL && index_out != NULL);
    TANDEM_ASSERT(!r->in_ready);
    if (r->role != TANDEM_RAFT_LEADER) {
        return tandem_diag_set(diag, TANDEM_ESTATE, "not the leader");
    }
    if (r->conf_index > r->commit) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "configuration change at index %llu is not committed yet",
                               (unsigned long long)r->conf_index);
    }
    if (r->commit < r->term_start) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "leader has not committed an entry of its term yet");
    }
    if (next->n_members == 0 || next->n_members > TANDEM_RAFT_MEMBERS_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "configuration has %u members",
                               next->n_members);
    }
    if (next->epoch != r->conf.epoch) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "configuration epoch changes only by force");
    }
    int rc = check_change(r, next, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_buf b = TANDEM_BUF_INIT;
    rc = tandem_raft_config_encode(next, &b);
    if (rc == 0) {
        /* decode what we encoded: duplicate ids and bad roles are refused here */
        tandem_raft_config check;
        rc = tandem_raft_config_decode(b.data, b.len, &check, diag);
        if (rc != 0) {
            rc = TANDEM_EINVAL;
        }
    }
    if (rc == 0) {
        rc = raft_log_append(r, r->term, TANDEM_JOURNAL_CONFIG, b.data, b.len);
    }
    tandem_buf_free(&b);
    if (rc != 0) {
        return rc;
    }
    *index_out = raft_last_index(r);
    return raft_conf_refresh(r, diag);
}
