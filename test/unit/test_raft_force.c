/*
 * Forced reconfiguration, fencing and the region rule of the Raft core, on
 * small clusters driven by hand (messages through the wire codec, every
 * entry persisted at once): the request's refusals, a force that completes
 * and its idempotent repetition, a concurrent force to another set, the
 * vote refused to a base whose log is behind, fencing whatever the term,
 * and commits that wait for an acknowledgement from each region.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "raft/raft.h"
#include "test.h"

#define N 4

typedef struct cluster {
    tandem_seeded_rand rnd[N + 1];
    tandem_raft *r[N + 1];
    bool cut[N + 1]; /* messages to and from a cut replica are lost */
    tandem_raft_config conf;
    tandem_raft_entry *st;
    size_t cap;
} cluster;

/* Replicas 1..n, voters, replica i in region regions[i - 1], incarnation 100 + i. */
static void cluster_init(cluster *c, uint32_t n, const uint8_t *regions)
{
    memset(c, 0, sizeof(*c));
    c->conf.n_members = n;
    for (uint32_t i = 0; i < n; i++) {
        c->conf.members[i] = (tandem_raft_member){i + 1, 101 + i, TANDEM_RAFT_VOTER, 1, regions[i]};
    }
    c->conf.members[0].priority = 2; /* replica 1 campaigns first */
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_config_encode(&c->conf, &b));
    for (uint32_t i = 1; i <= n; i++) {
        tandem_seeded_rand_init(&c->rnd[i], i);
        tandem_raft_options o;
        tandem_raft_options_default(&o, i, &c->rnd[i].base);
        o.incarnation = 100 + i;
        CHECK_OK(tandem_raft_new(&o, &c->r[i], NULL));
        CHECK_OK(tandem_raft_load_hard_state(c->r[i], 1, TANDEM_RAFT_NONE));
        tandem_raft_entry e = {1, TANDEM_JOURNAL_CONFIG, (uint32_t)b.len, b.data};
        CHECK_OK(tandem_raft_load_entry(c->r[i], &e, NULL));
        CHECK_OK(tandem_raft_load_done(c->r[i], 1, NULL));
    }
    tandem_buf_free(&b);
}

static void cluster_free(cluster *c)
{
    for (uint32_t i = 0; i <= N; i++) {
        tandem_raft_free(c->r[i]);
    }
    free(c->st);
}

/* One round: every replica hands over its ready; its messages are delivered
 * at once (through the codec) unless cut; its entries are persisted. */
static void round_once(cluster *c)
{
    for (uint32_t i = 1; i <= N; i++) {
        if (c->r[i] == NULL || !tandem_raft_has_ready(c->r[i])) {
            continue;
        }
        tandem_raft_update u;
        tandem_raft_ready(c->r[i], &u);
        size_t n = u.n_messages;
        tandem_buf frames[64];
        CHECK(n <= 64);
        for (size_t k = 0; k < n; k++) {
            tandem_buf_init(&frames[k]);
            CHECK_OK(tandem_raft_message_encode(&u.messages[k], &frames[k]));
        }
        uint64_t last = u.entries_first_index + u.n_entries - 1;
        bool persist = u.n_entries > 0;
        tandem_raft_advance(c->r[i]);
        if (persist) {
            tandem_raft_persisted(c->r[i], last, tandem_raft_term_at(c->r[i], last));
        }
        for (size_t k = 0; k < n; k++) {
            tandem_raft_message m;
            CHECK_OK(tandem_raft_message_decode(frames[k].data, frames[k].len, &m, &c->st, &c->cap,
                                                NULL));
            if (m.to >= 1 && m.to <= N && c->r[m.to] != NULL && !c->cut[m.to] && !c->cut[i]) {
                CHECK_OK(tandem_raft_step(c->r[m.to], &m));
            }
            tandem_buf_free(&frames[k]);
        }
    }
}

static void settle(cluster *c, int rounds)
{
    for (int k = 0; k < rounds; k++) {
        round_once(c);
    }
}

static void tick_all(cluster *c, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        for (uint32_t i = 1; i <= N; i++) {
            if (c->r[i] != NULL && !c->cut[i]) {
                tandem_raft_tick(c->r[i]);
            }
        }
        settle(c, 3);
    }
}

static uint32_t leader_of(const cluster *c)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i <= N; i++) {
        if (c->r[i] != NULL && !c->cut[i] && tandem_raft_role(c->r[i]) == TANDEM_RAFT_LEADER &&
            (best == 0 || tandem_raft_term(c->r[i]) > tandem_raft_term(c->r[best]))) {
            best = i;
        }
    }
    return best;
}

static void survivors(const cluster *c, tandem_raft_config *s, uint32_t a, uint32_t b)
{
    memset(s, 0, sizeof(*s));
    s->members[s->n_members++] = c->conf.members[a - 1];
    if (b != 0) {
        s->members[s->n_members++] = c->conf.members[b - 1];
    }
}

static const uint8_t two_regions[N] = {0, 1, 0, 1};

static void test_force_refusals(void)
{
    cluster c;
    cluster_init(&c, 4, two_regions);
    tandem_raft_config s;
    tandem_diag diag;
    survivors(&c, &s, 1, 3);
    s.members[1].incarnation = 999; /* a wiped replica is not the member the configuration names */
    CHECK_RC(TANDEM_EINVAL, tandem_raft_force(c.r[1], &s, &diag));
    CHECK_CONTAINS(diag.message, "member 3 (incarnation 999) is not in the configuration");
    survivors(&c, &s, 2, 3);
    CHECK_RC(TANDEM_EINVAL, tandem_raft_force(c.r[1], &s, &diag));
    CHECK_CONTAINS(diag.message, "replica 1 is not among the survivors");
    survivors(&c, &s, 1, 1);
    CHECK_RC(TANDEM_EINVAL, tandem_raft_force(c.r[1], &s, &diag));
    CHECK_CONTAINS(diag.message, "named twice");
    s.n_members = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_raft_force(c.r[1], &s, &diag));
    CHECK_CONTAINS(diag.message, "0 members");
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_NONE, tandem_raft_force_state(c.r[1]));
    /* naming every member changes nothing: reported done at once */
    CHECK_OK(tandem_raft_force(c.r[1], &c.conf, &diag));
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(c.r[1]));
    cluster_free(&c);
}

/* Region 1 (replicas 2 and 4) is lost; region 0 is forced. */
static void test_force_completes(void)
{
    cluster c;
    cluster_init(&c, 4, two_regions);
    tick_all(&c, 30);
    uint32_t l = leader_of(&c);
    CHECK(l != 0);
    uint64_t idx, x_idx;
    CHECK_OK(tandem_raft_propose(c.r[l], TANDEM_JOURNAL_DATA, "x", 1, &x_idx));
    settle(&c, 6);
    CHECK_EQ_U64(x_idx, tandem_raft_commit_index(c.r[1]));
    uint64_t old_term = tandem_raft_term(c.r[3]);
    c.cut[2] = c.cut[4] = true;
    tandem_raft_config s;
    survivors(&c, &s, 1, 3);
    CHECK_OK(tandem_raft_force(c.r[3], &s, NULL));
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_PREPARING, tandem_raft_force_state(c.r[3]));
    /* the same request again is harmless; another set is refused */
    CHECK_OK(tandem_raft_force(c.r[3], &s, NULL));
    tandem_raft_config other;
    survivors(&c, &other, 3, 0);
    tandem_diag diag;
    CHECK_RC(TANDEM_ESTATE, tandem_raft_force(c.r[3], &other, &diag));
    CHECK_CONTAINS(diag.message, "another member set is in progress");
    tick_all(&c, 20);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(c.r[3]));
    l = leader_of(&c);
    CHECK(l == 1 || l == 3);
    const tandem_raft_config *now = tandem_raft_config_current(c.r[l]);
    CHECK_EQ_U64(1, now->epoch);
    CHECK_EQ_U64(2, now->n_members);
    CHECK(tandem_raft_term(c.r[l]) > old_term);
    /* a member's incarnation changes only by removal and addition */
    tandem_raft_config swap = *tandem_raft_config_current(c.r[l]);
    swap.members[0].incarnation = 555;
    CHECK_RC(TANDEM_EINVAL, tandem_raft_change_config(c.r[l], &swap, &idx, &diag));
    CHECK_CONTAINS(diag.message, "changes incarnation");
    /* it commits with region 0 alone now, and keeps what was committed */
    CHECK_OK(tandem_raft_propose(c.r[l], TANDEM_JOURNAL_DATA, "y", 1, &idx));
    settle(&c, 6);
    CHECK_EQ_U64(idx, tandem_raft_commit_index(c.r[l]));
    tandem_raft_entry e;
    CHECK_OK(tandem_raft_entry_at(c.r[l], x_idx, &e));
    CHECK(e.size_bytes == 1 && e.payload[0] == 'x');
    /* repeated after it took effect: done, nothing changes */
    uint64_t last = tandem_raft_last_index(c.r[1]);
    CHECK_OK(tandem_raft_force(c.r[1], &s, NULL));
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(c.r[1]));
    settle(&c, 3);
    CHECK_EQ_U64(last, tandem_raft_last_index(c.r[1]));
    /* the lost region returns: fenced, whatever its term */
    c.cut[2] = c.cut[4] = false;
    uint64_t term = tandem_raft_term(c.r[l]);
    tandem_raft_message v = {.type = TANDEM_RAFT_MSG_VOTE,
                             .from = 2,
                             .incarnation = 102,
                             .to = (uint64_t)l,
                             .term = term + 100,
                             .index = 1000,
                             .log_term = term + 99};
    CHECK_OK(tandem_raft_step(c.r[l], &v));
    CHECK_EQ_U64(term, tandem_raft_term(c.r[l]));
    CHECK_EQ_U64(TANDEM_RAFT_LEADER, tandem_raft_role(c.r[l]));
    tick_all(&c, 40);
    CHECK_EQ_U64(l, leader_of(&c));
    CHECK_EQ_U64(term, tandem_raft_term(c.r[l]));
    cluster_free(&c);
}

/* Different forces racing: a survivor frozen by one rejects the other. */
static void test_force_race(void)
{
    cluster c;
    cluster_init(&c, 4, two_regions);
    tick_all(&c, 30);
    c.cut[2] = c.cut[4] = true;
    tandem_raft_config s, other;
    survivors(&c, &s, 1, 3);
    survivors(&c, &other, 3, 0);
    CHECK_OK(tandem_raft_force(c.r[1], &s, NULL)); /* freezes 3 for {1, 3} */
    settle(&c, 1);
    tandem_diag diag;
    CHECK_RC(TANDEM_ESTATE, tandem_raft_force(c.r[3], &other, &diag));
    CHECK_CONTAINS(diag.message, "frozen");
    tick_all(&c, 20);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(c.r[1]));

    /* both started before either froze the other: each survivor is frozen
     * for its own set and rejects the other's; neither completes, the
     * freezes expire, and a retry of one completes */
    cluster d;
    cluster_init(&d, 4, two_regions);
    tick_all(&d, 30);
    d.cut[2] = d.cut[4] = true;
    tandem_raft_config s3;
    survivors(&d, &s3, 1, 3);
    s3.members[s3.n_members++] = d.conf.members[1]; /* {1, 3, 2}: names a lost replica */
    d.cut[3] = true;
    CHECK_OK(tandem_raft_force(d.r[1], &s, NULL));
    settle(&d, 1);
    d.cut[3] = false;
    d.cut[1] = true;
    CHECK_OK(tandem_raft_force(d.r[3], &s3, NULL));
    settle(&d, 1);
    d.cut[1] = false;
    tick_all(&d, 4);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_REJECTED, tandem_raft_force_state(d.r[1]));
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_REJECTED, tandem_raft_force_state(d.r[3]));
    CHECK_EQ_U64(0, tandem_raft_config_current(d.r[1])->epoch);
    tick_all(&d, 120);
    CHECK_OK(tandem_raft_force(d.r[1], &s, NULL));
    tick_all(&d, 20);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(d.r[1]));
    CHECK_EQ_U64(1, tandem_raft_config_current(d.r[3])->epoch);
    cluster_free(&d);
    cluster_free(&c);
}

/* The initiator crashes after freezing: the freeze expires, a retry elsewhere completes. */
static void test_force_retry_after_initiator_loss(void)
{
    cluster c;
    cluster_init(&c, 4, two_regions);
    tick_all(&c, 30);
    c.cut[2] = c.cut[4] = true;
    tandem_raft_config s;
    survivors(&c, &s, 1, 3);
    CHECK_OK(tandem_raft_force(c.r[1], &s, NULL));
    settle(&c, 1);
    c.cut[1] = true; /* gone before the votes */
    tick_all(&c, 5);
    c.cut[1] = false;
    tandem_raft_free(c.r[1]); /* restarted: it forgot the force */
    tandem_seeded_rand_init(&c.rnd[1], 11);
    tandem_raft_options o;
    tandem_raft_options_default(&o, 1, &c.rnd[1].base);
    o.incarnation = 101;
    CHECK_OK(tandem_raft_new(&o, &c.r[1], NULL));
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_config_encode(&c.conf, &b));
    tandem_raft_entry e = {1, TANDEM_JOURNAL_CONFIG, (uint32_t)b.len, b.data};
    CHECK_OK(tandem_raft_load_hard_state(c.r[1], tandem_raft_term(c.r[3]), TANDEM_RAFT_NONE));
    CHECK_OK(tandem_raft_load_entry(c.r[1], &e, NULL));
    CHECK_OK(tandem_raft_load_done(c.r[1], 1, NULL));
    tandem_buf_free(&b);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_NONE, tandem_raft_force_state(c.r[1]));
    CHECK_OK(tandem_raft_force(c.r[3], &s, NULL)); /* the retry, on the other survivor */
    tick_all(&c, 30);
    CHECK_EQ_U64(TANDEM_RAFT_FORCE_DONE, tandem_raft_force_state(c.r[3]));
    CHECK_EQ_U64(1, tandem_raft_config_current(c.r[1])->epoch);
    cluster_free(&c);
}

/* Fencing: a message from a non-member, or from a member's id with another
 * incarnation, changes nothing whatever its term. */
static void test_fencing(void)
{
    cluster c;
    static const uint8_t one_region[N] = {0, 0, 0, 0};
    cluster_init(&c, 3, one_region);
    tick_all(&c, 30);
    uint32_t l = leader_of(&c);
    CHECK(l != 0);
    uint64_t term = tandem_raft_term(c.r[l]);
    uint64_t f = l == 1 ? 2 : 1;
    tandem_raft_message m = {.type = TANDEM_RAFT_MSG_APPEND,
                             .from = 3,
                             .incarnation = 999, /* replica 3's id, an old data directory */
                             .to = f,
                             .term = term + 5};
    if (l == 3) {
        m.from = f == 1 ? 2 : 1;
        m.incarnation = 999;
    }
    CHECK_OK(tandem_raft_step(c.r[f], &m));
    CHECK_EQ_U64(term, tandem_raft_term(c.r[f]));
    CHECK(!tandem_raft_has_ready(c.r[f]));
    m.from = 4; /* not a member at all */
    m.incarnation = 104;
    m.type = TANDEM_RAFT_MSG_HEARTBEAT;
    CHECK_OK(tandem_raft_step(c.r[f], &m));
    CHECK_EQ_U64(term, tandem_raft_term(c.r[f]));
    CHECK(!tandem_raft_has_ready(c.r[f]));
    cluster_free(&c);
}

/* The region rule: with voters in regions {0, 0, 1}, the leader in region 0
 * commits only once region 1 acknowledged, however many in region 0 did. */
static void test_region_rule(void)
{
    cluster c;
    static const uint8_t regions[N] = {0, 0, 1, 0};
    cluster_init(&c, 3, regions);
    tick_all(&c, 30);
    CHECK_EQ_U64(1, leader_of(&c));
    c.cut[3] = true;
    uint64_t idx, commit = tandem_raft_commit_index(c.r[1]);
    CHECK_OK(tandem_raft_propose(c.r[1], TANDEM_JOURNAL_DATA, "z", 1, &idx));
    settle(&c, 6);
    CHECK_EQ_U64(commit, tandem_raft_commit_index(c.r[1])); /* 2 of 3, one region: no */
    c.cut[3] = false;
    CHECK_OK(tandem_raft_propose(c.r[1], TANDEM_JOURNAL_DATA, "w", 1, &idx));
    tick_all(&c, 4);
    CHECK_EQ_U64(idx, tandem_raft_commit_index(c.r[1]));
    cluster_free(&c);
}

/* The wire codec of version 2: the incarnation and the force messages. */
static void test_force_messages_codec(void)
{
    cluster c;
    cluster_init(&c, 2, two_regions);
    tandem_buf cb = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_config_encode(&c.conf, &cb));
    tandem_raft_entry e = {0, TANDEM_JOURNAL_CONFIG, (uint32_t)cb.len, cb.data};
    tandem_raft_message m = {.type = TANDEM_RAFT_MSG_FORCE_VOTE,
                             .from = 1,
                             .to = 2,
                             .term = 9,
                             .incarnation = 0xabcdef,
                             .hint = 2,
                             .index = 7,
                             .log_term = 3,
                             .n_entries = 1,
                             .entries = &e};
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_message_encode(&m, &b));
    CHECK_EQ_U64(2, b.data[2]);
    tandem_raft_message d;
    tandem_diag diag;
    CHECK_OK(tandem_raft_message_decode(b.data, b.len, &d, &c.st, &c.cap, &diag));
    CHECK_EQ_U64(TANDEM_RAFT_MSG_FORCE_VOTE, d.type);
    CHECK_EQ_U64(0xabcdef, d.incarnation);
    CHECK_EQ_U64(2, d.hint);
    CHECK_EQ_U64(1, d.n_entries);
    CHECK(d.entries[0].size_bytes == cb.len && memcmp(d.entries[0].payload, cb.data, cb.len) == 0);
    /* answers carry no entries */
    m.type = TANDEM_RAFT_MSG_FORCE_RESP;
    tandem_buf_reset(&b);
    CHECK_OK(tandem_raft_message_encode(&m, &b));
    CHECK_RC(TANDEM_ECORRUPT, tandem_raft_message_decode(b.data, b.len, &d, &c.st, &c.cap, &diag));
    CHECK_CONTAINS(diag.message, "entries in a type 13");
    /* a type past the last, and a version 1 frame, are refused */
    b.data[3] = 17;
    CHECK_RC(TANDEM_ECORRUPT, tandem_raft_message_decode(b.data, b.len, &d, &c.st, &c.cap, &diag));
    CHECK_CONTAINS(diag.message, "unknown type 17");
    b.data[2] = 1;
    CHECK_RC(TANDEM_EFORMAT, tandem_raft_message_decode(b.data, b.len, &d, &c.st, &c.cap, &diag));
    CHECK_CONTAINS(diag.message, "version 1 unsupported");
    /* a force message whose entry is not a configuration is ignored */
    m.type = TANDEM_RAFT_MSG_FORCE;
    m.to = 2;
    tandem_raft_entry bad = {0, TANDEM_JOURNAL_DATA, 3, (const uint8_t *)"abc"};
    m.entries = &bad;
    m.incarnation = 101;
    settle(&c, 1);
    CHECK(!tandem_raft_has_ready(c.r[2]));
    CHECK_OK(tandem_raft_step(c.r[2], &m));
    CHECK(!tandem_raft_has_ready(c.r[2]));
    tandem_buf_free(&b);
    tandem_buf_free(&cb);
    cluster_free(&c);
}

static const tandem_test cases[] = {
    {"force_messages_codec", test_force_messages_codec},
    {"force_refusals", test_force_refusals},
    {"force_completes", test_force_completes},
    {"force_race", test_force_race},
    {"force_retry_after_initiator_loss", test_force_retry_after_initiator_loss},
    {"fencing", test_fencing},
    {"region_rule", test_region_rule},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
