/*
 * sim.c — the deterministic Raft simulator (see sim.h).
 *
 * Time advances one virtual millisecond per step. In each step the scenario
 * may inject faults, due messages are delivered, replicas tick every 10 ms
 * and finish due fsyncs, the region script acts (loss, forces, failback),
 * the leader may propose, and then every live replica runs its host
 * (raft/raft_host.h, the broker's own code): persist term/vote, store
 * snapshot chunks, send, truncate/append, apply into its state, install
 * snapshots, snapshot and compact.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/faultfs.h"
#include "base/log.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "raft/raft.h"
#include "raft/raft_host.h"
#include "sim.h"

#define TICK_MS          10
#define QUIET_MS         3000
#define LOG_CHECK_MS     50
#define MESSAGES_MAX     20000
#define READY_ROUNDS_MAX 16
#define STATE_KEYS       16

static const char *const fault_names[SIM_FAULT_COUNT] = {
    "drop",          "duplicate",  "reorder",       "partition",  "one-way",         "crash",
    "torn-write",    "lost-write", "fsync-eio",     "enospc",     "election",        "transfer",
    "conf-change",   "snapshot",   "chunk",         "install",    "slow-fsync",      "resume",
    "region-lost",   "force",      "force-refused", "force-done", "crash-preparing", "crash-voting",
    "crash-leading", "fenced",     "re-add",        "promote",    "old-disk",
};

const char *sim_fault_name(int fault)
{
    return fault >= 0 && fault < SIM_FAULT_COUNT ? fault_names[fault] : "?";
}

void sim_options_default(sim_options *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->seed = seed;
    o->replicas = 3;
    o->voters = 3;
    o->duration_ms = 3000;
    o->delay_min_ms = 1;
    o->delay_max_ms = 8;
    o->propose_every_ms = 10;
    o->partition_max_ms = 450;
    o->restart_min_ms = 20;
    o->restart_max_ms = 220;
    o->batch_entries = 16;
    o->window_messages = 8;
    o->chunk_size_bytes = 256;
    o->regions = 1;
    o->loss_ms = 600;
}

typedef struct sim_msg {
    uint64_t at_ms;
    uint32_t from;
    uint32_t to;
    uint8_t *bytes;
    size_t len;
} sim_msg;

typedef struct sim sim;

typedef struct sim_replica {
    sim *s;
    uint64_t id;
    tandem_seeded_rand rand;
    tandem_faultfs *fs;
    tandem_kv *kv;          /* in memory: lost at a crash, rebuilt from snapshot and log */
    tandem_raft_host *host; /* NULL while down */
    tandem_raft *raft;      /* the host's core, NULL while down */
    bool up;
    uint64_t restart_at_ms;
    bool flush_pending;
    uint64_t flush_at_ms;
    uint64_t applied;       /* last applied position whose digest was checked */
    uint64_t installs_seen; /* host stats already counted */
    uint64_t commit_seen;   /* commit index of the last update handed over */
    bool was_leader;
    uint64_t last_deliver_ms[SIM_REPLICAS_MAX]; /* per incoming link, for reorder counting */
    uint64_t incarnation;                       /* of its data directory (a new one when wiped) */
    bool held;                                  /* lost with its region: not restarted */
    uint32_t readd_stage; /* failback: 0 lost, 1 wiped (re-adding), 3 voter again,
                             4 old disk back, 5 removed */
    uint64_t readd_at_ms;
    uint32_t generation;    /* data directories wiped so far */
    tandem_faultfs *old_fs; /* OLD_DISK: the disk of the previous incarnation */
    uint64_t old_incarnation;
    bool old_disk_used;
} sim_replica;

/* What everyone agrees on so far: committed entries and applied digests. */
typedef struct sim_truth_entry {
    uint64_t term;
    uint32_t crc;
    bool digest_known;
    uint64_t digest[2]; /* the state's digest with this entry last applied */
} sim_truth_entry;

struct sim {
    const sim_options *o;
    sim_result *res;
    tandem_seeded_rand rand;
    uint64_t now_ms;
    sim_replica rep[SIM_REPLICAS_MAX];
    tandem_raft_config boot;
    bool blocked[SIM_REPLICAS_MAX][SIM_REPLICAS_MAX]; /* [from][to] */
    uint64_t heal_at_ms;
    sim_msg *msgs;
    size_t n_msgs;
    sim_truth_entry *truth;
    uint64_t truth_len;
    uint64_t truth_cap;
    uint64_t *term_leader; /* term -> leader id + 1 (0: none seen) */
    uint64_t term_leader_cap;
    uint64_t proposals;
    tandem_buf buf;
    tandem_raft_entry *dec_entries;
    size_t dec_cap;
    bool faults_on;
    /* acknowledgements delivered, [from][to]: the latest term and the
     * highest durable index acknowledged in it */
    uint64_t ack_term[SIM_REPLICAS_MAX][SIM_REPLICAS_MAX];
    uint64_t ack_index[SIM_REPLICAS_MAX][SIM_REPLICAS_MAX];
    tandem_raft_config committed_conf; /* the latest committed configuration */
    /* region scenario */
    bool lost;
    uint32_t one_way; /* 0, or 1: region 1 -> 0 cut, 2: region 0 -> 1 cut */
    uint64_t force_next_ms;
    bool raced;
    bool force_done;
    uint64_t force_done_ms;
    bool stale_returned;
};

static void fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(sim *s, const char *fmt, ...)
{
    if (s->res->failed) {
        return;
    }
    s->res->failed = true;
    int n = snprintf(s->res->message, sizeof(s->res->message),
                     "t=%llums: ", (unsigned long long)s->now_ms);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->res->message + n, sizeof(s->res->message) - (size_t)n, fmt, ap);
    va_end(ap);
}

static uint64_t rnd(sim *s, uint64_t n)
{
    return tandem_rand_below(&s->rand.base, n);
}

/* The region of the replica at index idx (id idx + 1). */
static uint32_t region_of(const sim *s, uint32_t idx)
{
    return s->o->regions == 2 ? idx % 2 : 0;
}

/* True with probability 1/every per millisecond. */
static bool every(sim *s, uint32_t every_ms)
{
    return every_ms > 0 && rnd(s, every_ms) == 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static void build_config(const sim_options *o, tandem_raft_config *c)
{
    memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < o->voters; i++) {
        c->members[i].id = i + 1;
        c->members[i].incarnation = 1000 + i;
        c->members[i].role = TANDEM_RAFT_VOTER;
        c->members[i].priority = o->priorities ? (uint8_t)(mix(o->seed, i) % 4) : 1;
        c->members[i].region = (uint8_t)(o->regions == 2 ? i % 2 : 0);
    }
    c->n_members = o->voters;
}

static bool truth_grow(sim *s, uint64_t len);
static void committed_config(sim *s, const tandem_raft_entry *e);

/* The state machine: STATE_KEYS keys, each holding the payload of the last
 * data entry that hit it. Also checks each entry against what was
 * committed before. */
static int apply_entry(void *arg, tandem_kv_txn *txn, uint64_t index, const tandem_raft_entry *e,
                       tandem_diag *diag)
{
    sim_replica *r = arg;
    sim *s = r->s;
    if (!truth_grow(s, index)) {
        return TANDEM_ENOMEM;
    }
    uint32_t crc = tandem_crc32c(0, e->payload, e->size_bytes);
    if (index > s->truth_len) {
        s->truth[index - 1] = (sim_truth_entry){e->term, crc, false, {0, 0}};
        s->truth_len = index;
        if (e->kind == TANDEM_JOURNAL_CONFIG) {
            committed_config(s, e);
        }
        if (index > s->res->committed) {
            s->res->committed = index;
        }
    } else if (s->truth[index - 1].term != e->term || s->truth[index - 1].crc != crc) {
        fail(s, "committed entry %llu changed: term %llu on replica %llu, term %llu before",
             (unsigned long long)index, (unsigned long long)e->term, (unsigned long long)r->id,
             (unsigned long long)s->truth[index - 1].term);
    }
    if (e->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK;
    }
    uint8_t key[2] = {'k', (uint8_t)(index % STATE_KEYS)};
    return tandem_kv_put(txn, 0, key, sizeof(key), e->payload, e->size_bytes, diag);
}

static void net_send(sim *s, uint32_t from, const tandem_raft_message *m);

static void host_send(void *arg, const tandem_raft_message *m)
{
    sim_replica *r = arg;
    net_send(r->s, (uint32_t)(r->id - 1), m);
}

/* ---- disk ---- */

static void crash(sim *s, sim_replica *r)
{
    if (!r->up) {
        return;
    }
    tandem_raft_host_close(r->host);
    r->host = NULL;
    r->raft = NULL;
    tandem_kv_close(r->kv);
    r->kv = NULL;
    tandem_faultfs_crash(r->fs, false);
    r->up = false;
    uint32_t idx = (uint32_t)(r->id - 1);
    size_t keep = 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        if (s->msgs[i].from == idx && rnd(s, 2) == 0) {
            free(s->msgs[i].bytes);
            s->res->faults[SIM_DROP]++;
        } else {
            s->msgs[keep++] = s->msgs[i];
        }
    }
    s->n_msgs = keep;
    r->flush_pending = false;
    r->restart_at_ms =
        s->now_ms + s->o->restart_min_ms + rnd(s, s->o->restart_max_ms - s->o->restart_min_ms + 1);
    s->res->faults[SIM_CRASH]++;
}

static void host_options(sim *s, sim_replica *r, tandem_raft_host_options *ho)
{
    memset(ho, 0, sizeof(*ho));
    ho->ops = tandem_faultfs_ops(r->fs);
    ho->dir = "r";
    ho->kv = r->kv;
    tandem_raft_options_default(&ho->raft, r->id, &r->rand.base);
    ho->raft.window_messages = s->o->window_messages;
    ho->raft.batch_entries = s->o->batch_entries;
    ho->raft.bugs = s->o->bugs;
    ho->raft.incarnation = r->incarnation;
    tandem_journal_options_default(&ho->journal);
    ho->journal.segment_size_bytes = 64 * 1024;
    ho->journal.entry_size_bytes_max = 4096;
    ho->journal.write_buffer_bytes = 64; /* write through early: leaves unsynced bytes to tear */
    /* only the first data directory of a first voter is bootstrapped: a
     * wiped one starts empty and is added back by the leader */
    ho->bootstrap = r->id <= s->o->voters && r->generation == 0 ? &s->boot : NULL;
    ho->apply = apply_entry;
    ho->apply_arg = r;
    ho->send = host_send;
    ho->send_arg = r;
    ho->chunk_size_bytes = s->o->chunk_size_bytes;
}

/* Opens the replica's host on its disk with a fresh in-memory state, as a
 * restarted broker would: the state comes back from the snapshot and log. */
static int start(sim *s, sim_replica *r)
{
    static const char *const tables[] = {"data"};
    tandem_kv_options ko = {tables, 1, 0};
    tandem_diag d;
    int rc = tandem_kv_open_mem(&ko, &r->kv, &d);
    tandem_raft_host_options ho;
    host_options(s, r, &ho);
    ho.kv = r->kv;
    rc = rc ? rc : tandem_raft_host_open(&ho, &r->host, &d);
    if (rc == TANDEM_EIO || rc == TANDEM_ENOSPC || rc == TANDEM_ESTOPPED) {
        /* the disk failed during recovery: power off and try again later */
        tandem_kv_close(r->kv);
        r->kv = NULL;
        tandem_faultfs_crash(r->fs, false);
        r->restart_at_ms = s->now_ms + 20 + rnd(s, 200);
        return 0;
    }
    if (rc != 0) {
        fail(s, "replica %llu cannot open: %s", (unsigned long long)r->id, tandem_diag_text(&d));
        return rc;
    }
    r->raft = tandem_raft_host_raft(r->host);
    r->up = true;
    r->was_leader = false;
    r->applied = 0;
    r->installs_seen = 0;
    r->commit_seen = 0;
    tandem_raft_host_stats st;
    tandem_raft_host_stats_get(r->host, &st);
    s->res->faults[SIM_RESUME] += st.staged_resumed_bytes > 0;
    return 0;
}

static int create_replica(sim *s, uint32_t i)
{
    sim_replica *r = &s->rep[i];
    r->s = s;
    r->id = i + 1;
    r->incarnation = 1000 + i; /* as build_config names it */
    tandem_seeded_rand_init(&r->rand, s->o->seed * 31 + i + 1);
    int rc = tandem_faultfs_new(&r->rand.base, &r->fs);
    if (rc != 0) {
        return rc;
    }
    return start(s, r);
}

/* ---- network ---- */

static void send_bytes(sim *s, uint32_t from, uint32_t to, const uint8_t *bytes, size_t len,
                       uint64_t at_ms)
{
    if (s->n_msgs >= MESSAGES_MAX) {
        s->res->faults[SIM_DROP]++;
        return;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, bytes, len);
    s->msgs[s->n_msgs++] = (sim_msg){at_ms, from, to, copy, len};
}

static void net_send(sim *s, uint32_t from, const tandem_raft_message *m)
{
    if (m->to == 0 || m->to > s->o->replicas) {
        return;
    }
    uint32_t to = (uint32_t)(m->to - 1);
    if (m->type == TANDEM_RAFT_MSG_SNAPSHOT) {
        s->res->faults[SIM_CHUNK]++; /* the host filled it from its snapshot file */
    }
    tandem_buf_reset(&s->buf);
    if (tandem_raft_message_encode(m, &s->buf) != 0) {
        fail(s, "encode failed");
        return;
    }
    if (s->blocked[from][to]) {
        return;
    }
    if (s->faults_on && rnd(s, 1000) < s->o->drop_per_mille) {
        s->res->faults[SIM_DROP]++;
        return;
    }
    uint32_t copies = s->faults_on && rnd(s, 1000) < s->o->duplicate_per_mille ? 2 : 1;
    s->res->faults[SIM_DUPLICATE] += copies - 1;
    for (uint32_t c = 0; c < copies; c++) {
        uint64_t delay = s->o->delay_min_ms + rnd(s, s->o->delay_max_ms - s->o->delay_min_ms + 1);
        uint64_t at = s->now_ms + delay;
        sim_replica *dst = &s->rep[to];
        if (at < dst->last_deliver_ms[from]) {
            s->res->faults[SIM_REORDER]++;
        } else {
            dst->last_deliver_ms[from] = at;
        }
        send_bytes(s, from, to, s->buf.data, s->buf.len, at);
    }
}

/* ---- invariants ---- */

static void check_leader(sim *s, sim_replica *r)
{
    uint64_t term = tandem_raft_term(r->raft);
    if (term >= s->term_leader_cap) {
        uint64_t cap = term * 2 + 16;
        uint64_t *n = realloc(s->term_leader, cap * sizeof(*n));
        if (n == NULL) {
            fail(s, "out of memory");
            return;
        }
        memset(n + s->term_leader_cap, 0, (cap - s->term_leader_cap) * sizeof(*n));
        s->term_leader = n;
        s->term_leader_cap = cap;
    }
    if (s->term_leader[term] == 0) {
        s->term_leader[term] = r->id + 1;
        s->res->faults[SIM_ELECTION]++;
        /* leader completeness: every committed entry is in the new leader's log */
        for (uint64_t i = tandem_raft_snapshot_index(r->raft) + 1; i <= s->truth_len; i++) {
            tandem_raft_entry e;
            if (tandem_raft_entry_at(r->raft, i, &e) != 0 || e.term != s->truth[i - 1].term ||
                tandem_crc32c(0, e.payload, e.size_bytes) != s->truth[i - 1].crc) {
                fail(s, "leader %llu of term %llu lacks committed entry %llu",
                     (unsigned long long)r->id, (unsigned long long)term, (unsigned long long)i);
                return;
            }
        }
    } else if (s->term_leader[term] != r->id + 1) {
        fail(s, "two leaders in term %llu: %llu and %llu", (unsigned long long)term,
             (unsigned long long)(s->term_leader[term] - 1), (unsigned long long)r->id);
    }
}

static bool truth_grow(sim *s, uint64_t len)
{
    if (len <= s->truth_cap) {
        return true;
    }
    uint64_t cap = len * 2 + 64;
    sim_truth_entry *n = realloc(s->truth, cap * sizeof(*n));
    if (n == NULL) {
        fail(s, "out of memory");
        return false;
    }
    s->truth = n;
    s->truth_cap = cap;
    return true;
}

/* A configuration entry committed: the latest committed configuration,
 * and the moment a forced one took effect. */
static void committed_config(sim *s, const tandem_raft_entry *e)
{
    tandem_raft_config c;
    if (tandem_raft_config_decode(e->payload, e->size_bytes, &c, NULL) != 0) {
        fail(s, "a committed configuration does not decode");
        return;
    }
    s->committed_conf = c;
    if (c.epoch > 0 && !s->force_done) {
        s->force_done = true;
        s->force_done_ms = s->now_ms;
        s->res->faults[SIM_FORCE_DONE]++;
    }
}

/* True when (id, incarnation) is a member of c. */
static bool is_member(const tandem_raft_config *c, uint64_t id, uint64_t incarnation)
{
    const tandem_raft_member *m = tandem_raft_config_find(c, id);
    return m != NULL && m->incarnation == incarnation;
}

/* The region rule and the quorum, checked from outside the core: leader l
 * just committed `commit`; the acknowledgements the simulator delivered to
 * it in its term (and its own durable log) must cover a majority of the
 * voters and, while voters exist in both regions, each region. */
static void check_commit_acks(sim *s, sim_replica *l, uint64_t commit)
{
    const tandem_raft_config *c = tandem_raft_config_current(l->raft);
    uint64_t term = tandem_raft_term(l->raft);
    uint32_t voters = 0, acks = 0;
    bool region_voter[2] = {false, false}, region_ack[2] = {false, false};
    for (uint32_t i = 0; i < c->n_members; i++) {
        const tandem_raft_member *m = &c->members[i];
        if (m->role != TANDEM_RAFT_VOTER || m->id == 0 || m->id > s->o->replicas) {
            continue;
        }
        voters++;
        region_voter[m->region & 1] = true;
        uint32_t from = (uint32_t)(m->id - 1), to = (uint32_t)(l->id - 1);
        bool has = m->id == l->id
                       ? tandem_raft_persisted_index(l->raft) >= commit
                       : s->ack_term[from][to] == term && s->ack_index[from][to] >= commit;
        if (has) {
            acks++;
            region_ack[m->region & 1] = true;
        }
    }
    if (acks < voters / 2 + 1) {
        fail(s,
             "leader %llu committed %llu in term %llu with acknowledgements from %u of %u voters",
             (unsigned long long)l->id, (unsigned long long)commit, (unsigned long long)term, acks,
             voters);
    } else if (region_voter[0] && region_voter[1] && !(region_ack[0] && region_ack[1])) {
        fail(s, "leader %llu committed %llu in term %llu with acknowledgements from region %d only",
             (unsigned long long)l->id, (unsigned long long)commit, (unsigned long long)term,
             region_ack[0] ? 0 : 1);
    }
}

/* Compares the state a replica has applied with the first state any replica
 * had at the same position (kv digests, which include the position). */
static void check_applied(sim *s, sim_replica *r)
{
    uint64_t at = tandem_raft_host_applied_index(r->host);
    if (at == r->applied || at == 0) {
        return;
    }
    r->applied = at;
    if (at > s->truth_len) {
        fail(s, "replica %llu has state at %llu, beyond anything committed (%llu)",
             (unsigned long long)r->id, (unsigned long long)at, (unsigned long long)s->truth_len);
        return;
    }
    uint64_t dg[2];
    tandem_diag d;
    if (tandem_kv_digest(r->kv, dg, &d) != 0) {
        fail(s, "replica %llu: digest: %s", (unsigned long long)r->id, tandem_diag_text(&d));
        return;
    }
    sim_truth_entry *t = &s->truth[at - 1];
    if (!t->digest_known) {
        t->digest_known = true;
        t->digest[0] = dg[0];
        t->digest[1] = dg[1];
    } else if (t->digest[0] != dg[0] || t->digest[1] != dg[1]) {
        fail(s, "applied state of replica %llu differs at index %llu", (unsigned long long)r->id,
             (unsigned long long)at);
    }
}

static void check_log_matching(sim *s)
{
    for (uint32_t a = 0; a < s->o->replicas; a++) {
        for (uint32_t b = a + 1; b < s->o->replicas; b++) {
            sim_replica *x = &s->rep[a], *y = &s->rep[b];
            if (!x->up || !y->up) {
                continue;
            }
            uint64_t la = tandem_raft_last_index(x->raft), lb = tandem_raft_last_index(y->raft);
            uint64_t i = la < lb ? la : lb;
            uint64_t lo = tandem_raft_snapshot_index(x->raft);
            if (tandem_raft_snapshot_index(y->raft) > lo) {
                lo = tandem_raft_snapshot_index(y->raft);
            }
            while (i > lo && tandem_raft_term_at(x->raft, i) != tandem_raft_term_at(y->raft, i)) {
                i--;
            }
            for (; i > lo; i--) {
                tandem_raft_entry ex, ey;
                (void)tandem_raft_entry_at(x->raft, i, &ex);
                (void)tandem_raft_entry_at(y->raft, i, &ey);
                if (ex.term != ey.term || ex.kind != ey.kind || ex.size_bytes != ey.size_bytes ||
                    (ex.size_bytes > 0 && memcmp(ex.payload, ey.payload, ex.size_bytes) != 0)) {
                    fail(s, "log matching: replicas %llu and %llu differ at index %llu",
                         (unsigned long long)x->id, (unsigned long long)y->id,
                         (unsigned long long)i);
                    return;
                }
            }
        }
    }
}

/* ---- the host loop of one replica ---- */

static void io_failed(sim *s, sim_replica *r, int rc)
{
    if (rc == TANDEM_EIO || rc == TANDEM_ESTOPPED) {
        s->res->faults[SIM_EIO] += rc == TANDEM_EIO;
    }
    if (rc == TANDEM_ENOSPC) {
        s->res->faults[SIM_ENOSPC]++;
    }
    crash(s, r); /* fail-stop: restart and recover from the disk */
}

/* A host call failed: a disk fault restarts the replica, anything else
 * (the journal disagreeing with the core, a damaged snapshot) is a bug. */
static void host_failed(sim *s, sim_replica *r, int rc, const tandem_diag *d)
{
    if (rc == TANDEM_EIO || rc == TANDEM_ESTOPPED || rc == TANDEM_ENOSPC) {
        io_failed(s, r, rc);
        return;
    }
    fail(s, "replica %llu: %s", (unsigned long long)r->id, tandem_diag_text(d));
}

/* Counts what the host did since the last look (installs, resumptions). */
static void count_host(sim *s, sim_replica *r)
{
    tandem_raft_host_stats st;
    tandem_raft_host_stats_get(r->host, &st);
    s->res->faults[SIM_INSTALL] += st.snapshots_installed - r->installs_seen;
    r->installs_seen = st.snapshots_installed;
}

static void schedule_flush(sim *s, sim_replica *r)
{
    r->flush_pending = true;
    r->flush_at_ms = s->now_ms + 1 + rnd(s, 8);
    if (s->faults_on && rnd(s, 1000) < s->o->slow_fsync_per_mille) {
        r->flush_at_ms += 50 + rnd(s, 150);
        s->res->faults[SIM_SLOW_FSYNC]++;
    }
}

/* Hands over the replica's updates one at a time, crashing it right after
 * a term/vote write or an election, as a leader's commit index moves, or in
 * the middle of a force it initiated. Checks after each update: leaders per
 * term, a new leader's membership, the commit's acknowledgements (two
 * regions) and the applied state. */
static void run_host(sim *s, uint32_t idx)
{
    sim_replica *r = &s->rep[idx];
    for (int round = 0; round < READY_ROUNDS_MAX && r->up && !s->res->failed; round++) {
        tandem_raft_host_round rd;
        tandem_diag d;
        int rc = tandem_raft_host_process_one(r->host, &rd, &d);
        if (rc != 0) {
            host_failed(s, r, rc, &d);
            return;
        }
        if (!rd.handled) {
            return;
        }
        bool elected = rd.role == TANDEM_RAFT_LEADER && !r->was_leader;
        r->was_leader = rd.role == TANDEM_RAFT_LEADER;
        if (rd.role == TANDEM_RAFT_LEADER) {
            check_leader(s, r);
        }
        if (elected && s->committed_conf.n_members > 0 &&
            !is_member(&s->committed_conf, r->id, r->incarnation)) {
            const tandem_raft_config *own = tandem_raft_config_current(r->raft);
            fail(s,
                 "replica %llu (incarnation %llu), fenced, was elected in term %llu (committed "
                 "configuration: epoch %llu, %u members; its own: epoch %llu, %u members)",
                 (unsigned long long)r->id, (unsigned long long)r->incarnation,
                 (unsigned long long)tandem_raft_term(r->raft),
                 (unsigned long long)s->committed_conf.epoch, s->committed_conf.n_members,
                 (unsigned long long)own->epoch, own->n_members);
        }
        bool committed = rd.commit_index > r->commit_seen;
        r->commit_seen = rd.commit_index;
        if (s->o->regions == 2 && rd.role == TANDEM_RAFT_LEADER && committed && !elected) {
            check_commit_acks(s, r, rd.commit_index);
        }
        check_applied(s, r);
        count_host(s, r);
        uint8_t fs = tandem_raft_force_state(r->raft);
        if (s->faults_on && fs >= TANDEM_RAFT_FORCE_PREPARING && fs <= TANDEM_RAFT_FORCE_LEADING &&
            rnd(s, 1000) < s->o->force_crash_per_mille) {
            s->res->faults[SIM_CRASH_PREPARING + fs - TANDEM_RAFT_FORCE_PREPARING]++;
            crash(s, r); /* the initiator dies with the force half done */
            return;
        }
        if ((rd.hard_state_changed || elected) && s->faults_on &&
            rnd(s, 1000) < s->o->crash_after_vote_per_mille) {
            crash(s, r); /* written, not synced; the answers are out or lost with it */
            return;
        }
        if (tandem_raft_host_needs_flush(r->host) && !r->flush_pending) {
            schedule_flush(s, r);
        }
        if (rd.role == TANDEM_RAFT_LEADER && committed && s->faults_on &&
            rnd(s, 1000) < s->o->crash_after_commit_per_mille) {
            crash(s, r);
            return;
        }
    }
}

static void flush(sim *s, uint32_t idx)
{
    sim_replica *r = &s->rep[idx];
    r->flush_pending = false;
    tandem_diag d;
    int rc = tandem_raft_host_flush(r->host, &d);
    if (rc != 0) {
        host_failed(s, r, rc, &d);
    }
}

static void deliver(sim *s, sim_msg *m)
{
    sim_replica *r = &s->rep[m->to];
    if (!r->up) {
        return;
    }
    if (s->blocked[m->from][m->to]) {
        s->res->faults[SIM_DROP]++; /* the link was cut while it was in flight */
        return;
    }
    if (s->one_way != 0 && region_of(s, m->from) != region_of(s, m->to) &&
        region_of(s, m->from) == (s->one_way == 1 ? 1u : 0u)) {
        s->res->faults[SIM_DROP]++; /* the regions are cut one way */
        return;
    }
    tandem_raft_message msg;
    tandem_diag d;
    if (tandem_raft_message_decode(m->bytes, m->len, &msg, &s->dec_entries, &s->dec_cap, &d) != 0) {
        fail(s, "decode failed: %s", tandem_diag_text(&d));
        return;
    }
    const tandem_raft_config *c = tandem_raft_config_current(r->raft);
    bool fenced = c->n_members > 0 && !is_member(c, msg.from, msg.incarnation);
    if (!fenced &&
        ((msg.type == TANDEM_RAFT_MSG_APPEND_RESP && !(msg.flags & TANDEM_RAFT_FLAG_REJECT)) ||
         msg.type == TANDEM_RAFT_MSG_HEARTBEAT_RESP)) {
        if (msg.term > s->ack_term[m->from][m->to]) {
            s->ack_term[m->from][m->to] = msg.term;
            s->ack_index[m->from][m->to] = 0;
        }
        if (msg.term == s->ack_term[m->from][m->to] && msg.index > s->ack_index[m->from][m->to]) {
            s->ack_index[m->from][m->to] = msg.index;
        }
    }
    uint64_t before[5] = {tandem_raft_term(r->raft), tandem_raft_role(r->raft),
                          tandem_raft_leader(r->raft), tandem_raft_commit_index(r->raft),
                          tandem_raft_last_index(r->raft)};
    bool had_ready = tandem_raft_has_ready(r->raft);
    if (tandem_raft_step(r->raft, &msg) != 0) {
        fail(s, "step failed on replica %llu", (unsigned long long)r->id);
        return;
    }
    if (fenced) {
        /* fencing: a non-member's message (whatever its term) changes nothing */
        s->res->faults[SIM_FENCED]++;
        uint64_t after[5] = {tandem_raft_term(r->raft), tandem_raft_role(r->raft),
                             tandem_raft_leader(r->raft), tandem_raft_commit_index(r->raft),
                             tandem_raft_last_index(r->raft)};
        if (memcmp(before, after, sizeof(before)) != 0 ||
            (!had_ready && tandem_raft_has_ready(r->raft))) {
            fail(s,
                 "replica %llu acted on a message (type %u, term %llu) from fenced replica %llu "
                 "(incarnation %llu)",
                 (unsigned long long)r->id, msg.type, (unsigned long long)msg.term,
                 (unsigned long long)msg.from, (unsigned long long)msg.incarnation);
        }
    }
}

/* ---- scenario actions ---- */

static sim_replica *leader(sim *s)
{
    sim_replica *best = NULL;
    for (uint32_t i = 0; i < s->o->replicas; i++) {
        sim_replica *r = &s->rep[i];
        if (r->up && tandem_raft_role(r->raft) == TANDEM_RAFT_LEADER &&
            (best == NULL || tandem_raft_term(r->raft) > tandem_raft_term(best->raft))) {
            best = r;
        }
    }
    return best;
}

static void propose(sim *s)
{
    sim_replica *l = leader(s);
    if (l == NULL) {
        return;
    }
    uint8_t payload[64];
    size_t len = 8 + (size_t)rnd(s, 56);
    uint64_t seq = ++s->proposals;
    for (size_t i = 0; i < len; i++) {
        payload[i] = (uint8_t)(mix(seq, i) & 0xff);
    }
    uint64_t idx;
    (void)tandem_raft_propose(l->raft, TANDEM_JOURNAL_DATA, payload, len, &idx);
}

static void partition(sim *s)
{
    uint32_t n = s->o->replicas;
    uint32_t a = (uint32_t)rnd(s, n);
    if (n < 2) {
        return;
    }
    uint64_t kind = rnd(s, 3);
    if (kind == 0) {
        for (uint32_t b = 0; b < n; b++) {
            if (b != a) {
                s->blocked[a][b] = s->blocked[b][a] = true;
            }
        }
        s->res->faults[SIM_PARTITION]++;
    } else if (kind == 1) {
        /* split into two random sides */
        bool side[SIM_REPLICAS_MAX];
        for (uint32_t b = 0; b < n; b++) {
            side[b] = rnd(s, 2) == 0;
        }
        for (uint32_t x = 0; x < n; x++) {
            for (uint32_t y = 0; y < n; y++) {
                s->blocked[x][y] |= side[x] != side[y];
            }
        }
        s->res->faults[SIM_PARTITION]++;
    } else {
        uint32_t b = (a + 1 + (uint32_t)rnd(s, n - 1)) % n;
        s->blocked[a][b] = true;
        s->res->faults[SIM_ONE_WAY]++;
    }
    s->heal_at_ms = s->now_ms + 10 + rnd(s, s->o->partition_max_ms);
}

static void heal(sim *s)
{
    memset(s->blocked, 0, sizeof(s->blocked));
    s->heal_at_ms = 0;
}

static void transfer(sim *s)
{
    sim_replica *l = leader(s);
    if (l == NULL) {
        return;
    }
    uint64_t target = 1 + rnd(s, s->o->replicas);
    if (tandem_raft_transfer(l->raft, target) == 0) {
        s->res->faults[SIM_TRANSFER]++;
    }
}

/* Adds a learner, promotes a learner, demotes or removes a voter. */
static void membership(sim *s)
{
    sim_replica *l = leader(s);
    if (l == NULL) {
        return;
    }
    tandem_raft_config c = *tandem_raft_config_current(l->raft);
    uint64_t id = 1 + rnd(s, s->o->replicas);
    tandem_raft_member *m = NULL;
    uint32_t voters = 0;
    for (uint32_t i = 0; i < c.n_members; i++) {
        voters += c.members[i].role == TANDEM_RAFT_VOTER;
        if (c.members[i].id == id) {
            m = &c.members[i];
        }
    }
    if (m == NULL) {
        c.members[c.n_members++] =
            (tandem_raft_member){id, s->rep[id - 1].incarnation, TANDEM_RAFT_LEARNER, 1,
                                 (uint8_t)(s->o->regions == 2 ? (id - 1) % 2 : 0)};
    } else if (m->role == TANDEM_RAFT_LEARNER) {
        if (rnd(s, 3) == 0) {
            *m = c.members[--c.n_members];
        } else {
            m->role = TANDEM_RAFT_VOTER;
        }
    } else if (voters > 2) {
        m->role = TANDEM_RAFT_LEARNER;
    } else {
        return;
    }
    uint64_t idx;
    if (tandem_raft_change_config(l->raft, &c, &idx, NULL) == 0) {
        s->res->faults[SIM_CONF_CHANGE]++;
    }
}

/* A replica snapshots its applied state and compacts its log and journal. */
static void take_snapshot(sim *s)
{
    sim_replica *r = &s->rep[rnd(s, s->o->replicas)];
    if (!r->up ||
        tandem_raft_host_applied_index(r->host) < tandem_raft_host_snapshot_index(r->host) + 16) {
        return;
    }
    uint64_t before = tandem_raft_host_snapshot_index(r->host), idx = 0;
    tandem_diag d;
    int rc = tandem_raft_host_snapshot(r->host, &idx, &d);
    if (rc != 0) {
        host_failed(s, r, rc, &d);
        return;
    }
    s->res->faults[SIM_SNAPSHOT] += idx > before;
}

/* ---- the region scenario ---- */

/* Region 1 is lost: its replicas crash and stay down, or (ONE_WAY) stay up
 * behind a one-way cut between the regions. */
static void lose_region(sim *s)
{
    s->lost = true;
    s->res->faults[SIM_REGION_LOST]++;
    if (s->o->region_script & SIM_SCRIPT_ONE_WAY) {
        s->one_way = 1 + (uint32_t)rnd(s, 2);
        return;
    }
    for (uint32_t i = 0; i < s->o->replicas; i++) {
        if (region_of(s, i) == 1) {
            crash(s, &s->rep[i]);
            s->rep[i].held = true;
        }
    }
}

/* The survivors (region 0) as a forced set; `with` adds a lost replica (an
 * operator's mistake, for the race). */
static void survivors(const sim *s, tandem_raft_config *c, uint32_t with)
{
    memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < s->o->replicas; i++) {
        if (region_of(s, i) == 0 || i == with) {
            c->members[c->n_members++] =
                (tandem_raft_member){s->rep[i].id, s->rep[i].incarnation, TANDEM_RAFT_VOTER, 1,
                                     (uint8_t)region_of(s, i)};
        }
    }
}

static void force_on(sim *s, uint32_t idx, const tandem_raft_config *set)
{
    sim_replica *r = &s->rep[idx];
    if (!r->up) {
        return;
    }
    s->res->faults[SIM_FORCE]++;
    if (tandem_raft_force(r->raft, set, NULL) != 0 ||
        tandem_raft_force_state(r->raft) == TANDEM_RAFT_FORCE_REJECTED) {
        s->res->faults[SIM_FORCE_REFUSED]++;
    }
}

/* The operator asks a random survivor to force region 0 (and, once, with
 * RACE, another survivor to force a different set first or second). */
static void force_attempt(sim *s)
{
    tandem_raft_config set;
    survivors(s, &set, UINT32_MAX);
    uint32_t idx = (uint32_t)rnd(s, s->o->replicas / 2) * 2; /* a region-0 replica */
    bool race = (s->o->region_script & SIM_SCRIPT_RACE) && !s->raced;
    bool race_first = rnd(s, 2) == 0;
    tandem_raft_config other;
    survivors(s, &other, 1); /* names lost replica 2 too */
    uint32_t other_idx = (idx + 2) % s->o->replicas;
    if (race && race_first) {
        force_on(s, other_idx, &other);
    }
    force_on(s, idx, &set);
    if (race && !race_first) {
        force_on(s, other_idx, &other);
    }
    s->raced |= race;
}

/* Wipes replica r: a fresh data directory with a new incarnation. */
static int wipe(sim *s, sim_replica *r)
{
    crash(s, r);
    if ((s->o->region_script & SIM_SCRIPT_OLD_DISK) && r->id == 2 && !r->old_disk_used &&
        r->old_fs == NULL) {
        r->old_fs = r->fs; /* kept, to come back later */
        r->old_incarnation = r->incarnation;
    } else {
        tandem_faultfs_free(r->fs);
    }
    r->fs = NULL;
    int rc = tandem_faultfs_new(&r->rand.base, &r->fs);
    if (rc != 0) {
        return rc;
    }
    r->incarnation = 1000 * (uint64_t)(++r->generation + 1) + r->id - 1;
    r->held = false;
    r->restart_at_ms = s->now_ms;
    return 0;
}

/* OLD_DISK: the re-added voter restarts on its old disk (stage 4); the
 * operator removes it, or forces it out when no leader can commit (the region
 * rule stops commits while the only region-1 voter is fenced), and once its
 * removal committed (stage 5) it is wiped and re-added (stage 0). */
static void old_disk(sim *s, sim_replica *r, sim_replica *l)
{
    if (r->readd_stage == 3) {
        crash(s, r);
        tandem_faultfs_free(r->fs);
        r->fs = r->old_fs;
        r->old_fs = NULL;
        r->incarnation = r->old_incarnation;
        r->old_disk_used = true;
        r->held = false;
        r->restart_at_ms = s->now_ms;
        r->readd_stage = 4;
        r->readd_at_ms = s->now_ms + 300;
        s->res->faults[SIM_OLD_DISK]++;
        return;
    }
    if (r->readd_stage == 5) {
        if (tandem_raft_config_find(&s->committed_conf, r->id) == NULL) {
            r->readd_stage = 0;
        } else if (l != NULL &&
                   tandem_raft_config_find(tandem_raft_config_current(l->raft), r->id) != NULL) {
            r->readd_stage = 4; /* the removal was lost with a leader: again */
            r->readd_at_ms = s->now_ms;
        }
        return;
    }
    tandem_raft_config c;
    if (l != NULL) {
        c = *tandem_raft_config_current(l->raft);
        uint32_t k = 0;
        while (k < c.n_members && c.members[k].id != r->id) {
            k++;
        }
        if (k == c.n_members) {
            r->readd_stage = 5;
            return;
        }
        c.members[k] = c.members[--c.n_members];
        uint64_t idx;
        if (tandem_raft_change_config(l->raft, &c, &idx, NULL) == 0) {
            s->res->faults[SIM_CONF_CHANGE]++;
            r->readd_stage = 5;
            return;
        }
    }
    if (s->now_ms >= r->readd_at_ms + 300) {
        survivors(s, &c, UINT32_MAX);
        force_on(s, (uint32_t)rnd(s, s->o->replicas / 2) * 2, &c);
    }
}

/* Failback, one region-1 replica at a time: wipe it, add it as a learner,
 * promote it once it has caught up (the core refuses before). */
static int failback(sim *s)
{
    sim_replica *l = leader(s);
    for (uint32_t i = 0; i < s->o->replicas; i++) {
        sim_replica *r = &s->rep[i];
        if (region_of(s, i) != 1 || (r->readd_stage == 3 && r->old_fs == NULL)) {
            continue;
        }
        if (r->readd_stage >= 3) {
            if (s->now_ms >= r->readd_at_ms) {
                old_disk(s, r, l);
            }
            return 0;
        }
        if (s->now_ms < r->readd_at_ms) {
            return 0;
        }
        r->readd_at_ms = s->now_ms + 50;
        if (r->readd_stage == 0) {
            r->readd_stage = 1;
            return wipe(s, r);
        }
        if (l == NULL) {
            return 0;
        }
        tandem_raft_config c = *tandem_raft_config_current(l->raft);
        tandem_raft_member *m = NULL;
        for (uint32_t k = 0; k < c.n_members; k++) {
            m = c.members[k].id == r->id ? &c.members[k] : m;
        }
        uint64_t idx;
        if (m == NULL) {
            c.members[c.n_members++] =
                (tandem_raft_member){r->id, r->incarnation, TANDEM_RAFT_LEARNER, 1, 1};
            if (tandem_raft_change_config(l->raft, &c, &idx, NULL) == 0) {
                s->res->faults[SIM_READD]++;
            }
        } else if (m->role == TANDEM_RAFT_LEARNER) {
            m->role = TANDEM_RAFT_VOTER;
            if (tandem_raft_change_config(l->raft, &c, &idx, NULL) == 0) {
                s->res->faults[SIM_PROMOTE]++;
            }
        } else {
            const tandem_raft_member *cm = tandem_raft_config_find(&s->committed_conf, r->id);
            if (cm != NULL && cm->incarnation == r->incarnation && cm->role == TANDEM_RAFT_VOTER) {
                r->readd_stage = 3; /* its promotion committed: the next one */
            }
        }
        return 0;
    }
    return 0;
}

static void region_script(sim *s)
{
    const sim_options *o = s->o;
    if (!s->lost && s->now_ms >= o->loss_ms) {
        lose_region(s);
        s->force_next_ms = s->now_ms + 150;
    }
    if (s->lost && !s->force_done && s->now_ms >= s->force_next_ms) {
        force_attempt(s);
        s->force_next_ms = s->now_ms + 250;
    }
    if (!s->force_done) {
        return;
    }
    if ((o->region_script & SIM_SCRIPT_STALE) && !s->stale_returned &&
        s->now_ms >= s->force_done_ms + 200) {
        /* region 1 comes back with the data it had */
        s->stale_returned = true;
        s->one_way = 0;
        for (uint32_t i = 0; i < o->replicas; i++) {
            if (s->rep[i].held) {
                s->rep[i].held = false;
                s->rep[i].restart_at_ms = s->now_ms;
            }
        }
    }
    if ((o->region_script & SIM_SCRIPT_FAILBACK) && s->now_ms >= s->force_done_ms + 400 &&
        failback(s) != 0) {
        fail(s, "out of memory");
    }
}

static void inject(sim *s)
{
    const sim_options *o = s->o;
    if (s->heal_at_ms != 0 && s->now_ms >= s->heal_at_ms) {
        heal(s);
    }
    if (s->heal_at_ms == 0 && every(s, o->partition_every_ms)) {
        partition(s);
    }
    if (every(s, o->crash_every_ms)) {
        crash(s, &s->rep[rnd(s, o->replicas)]);
    }
    if (every(s, o->eio_every_ms)) {
        sim_replica *r = &s->rep[rnd(s, o->replicas)];
        tandem_faultfs_fail_sync(r->fs, 1 + (int64_t)rnd(s, 3));
    }
    if (every(s, o->enospc_every_ms)) {
        sim_replica *r = &s->rep[rnd(s, o->replicas)];
        tandem_faultfs_fail_write(r->fs, 1 + (int64_t)rnd(s, 3));
    }
    if (every(s, o->transfer_every_ms)) {
        transfer(s);
    }
    if (every(s, o->membership_every_ms)) {
        membership(s);
    }
    if (every(s, o->snapshot_every_ms)) {
        take_snapshot(s);
    }
}

static void step(sim *s)
{
    const sim_options *o = s->o;
    if (s->faults_on) {
        inject(s);
    }
    for (uint32_t i = 0; i < o->replicas; i++) {
        sim_replica *r = &s->rep[i];
        if (!r->up && !r->held && s->now_ms >= r->restart_at_ms && start(s, r) != 0) {
            return;
        }
    }
    /* deliver due messages, in the order they were sent when due together */
    size_t keep = 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        if (s->msgs[i].at_ms <= s->now_ms && !s->res->failed) {
            deliver(s, &s->msgs[i]);
            free(s->msgs[i].bytes);
        } else {
            s->msgs[keep++] = s->msgs[i];
        }
    }
    s->n_msgs = keep;
    for (uint32_t i = 0; i < o->replicas; i++) {
        sim_replica *r = &s->rep[i];
        if (r->up && (s->now_ms + i * 3) % TICK_MS == 0) {
            tandem_raft_tick(r->raft);
        }
        if (r->up && r->flush_pending && s->now_ms >= r->flush_at_ms) {
            flush(s, i);
        }
    }
    if (o->region_script != 0) {
        region_script(s);
    }
    if (every(s, o->propose_every_ms)) {
        propose(s);
    }
    for (uint32_t i = 0; i < o->replicas && !s->res->failed; i++) {
        if (s->rep[i].up) {
            run_host(s, i);
        }
    }
    if (s->now_ms % LOG_CHECK_MS == 0) {
        check_log_matching(s);
    }
}

static void collect_disk_stats(sim *s)
{
    for (uint32_t i = 0; i < s->o->replicas; i++) {
        tandem_faultfs_stats st;
        tandem_faultfs_stats_get(s->rep[i].fs, &st);
        s->res->faults[SIM_TORN_WRITE] += st.torn_writes;
        s->res->faults[SIM_LOST_WRITE] += st.dropped_writes;
    }
}

static const char *settled_text(const sim *s)
{
    return s->o->region_script != 0 && !s->force_done ? " (the force never committed)" : "";
}

/* Heals everything, restarts every replica, and requires a new proposal to
 * commit on the leader within the quiet phase. */
static void quiet_phase(sim *s)
{
    s->faults_on = false;
    heal(s);
    s->one_way = 0;
    uint64_t end = s->now_ms + QUIET_MS;
    uint64_t propose_at = s->now_ms + QUIET_MS / 3;
    uint64_t target = 0;
    for (; s->now_ms < end && !s->res->failed; s->now_ms++) {
        step(s);
        sim_replica *l = leader(s);
        bool settled = s->o->region_script == 0 || s->force_done;
        if (target == 0 && l != NULL && s->now_ms >= propose_at && settled) {
            uint64_t idx;
            if (tandem_raft_propose(l->raft, TANDEM_JOURNAL_DATA, "end", 3, &idx) == 0) {
                target = idx;
            }
        }
        if (target != 0 && s->truth_len >= target) {
            return;
        }
    }
    if (!s->res->failed) {
        /* say what each replica thinks, to start the diagnosis */
        char state[320] = "";
        size_t off = 0;
        for (uint32_t i = 0; i < s->o->replicas && off < sizeof(state); i++) {
            sim_replica *r = &s->rep[i];
            if (!r->up) {
                off += (size_t)snprintf(state + off, sizeof(state) - off, " [%u down]", i + 1);
                continue;
            }
            const tandem_raft_config *c = tandem_raft_config_current(r->raft);
            uint32_t voters = 0;
            for (uint32_t k = 0; k < c->n_members; k++) {
                voters |= (c->members[k].role == TANDEM_RAFT_VOTER ? 1u : 0u) << c->members[k].id;
            }
            off += (size_t)snprintf(state + off, sizeof(state) - off,
                                    " [%u role %u term %llu commit %llu last %llu voters 0x%x]",
                                    i + 1, tandem_raft_role(r->raft),
                                    (unsigned long long)tandem_raft_term(r->raft),
                                    (unsigned long long)tandem_raft_commit_index(r->raft),
                                    (unsigned long long)tandem_raft_last_index(r->raft), voters);
        }
        fail(s, "no progress: the final proposal (index %llu) did not commit in %d ms%s;%s",
             (unsigned long long)target, QUIET_MS, settled_text(s), state);
    }
}

static void destroy(sim *s)
{
    for (uint32_t i = 0; i < SIM_REPLICAS_MAX; i++) {
        sim_replica *r = &s->rep[i];
        tandem_raft_host_close(r->host);
        tandem_kv_close(r->kv);
        if (r->fs != NULL) {
            tandem_faultfs_free(r->fs);
        }
        if (r->old_fs != NULL) {
            tandem_faultfs_free(r->old_fs);
        }
    }
    for (size_t i = 0; i < s->n_msgs; i++) {
        free(s->msgs[i].bytes);
    }
    free(s->msgs);
    free(s->truth);
    free(s->term_leader);
    free(s->dec_entries);
    tandem_buf_free(&s->buf);
}

int sim_run(const sim_options *o, sim_result *res)
{
    if (o->replicas == 0 || o->replicas > SIM_REPLICAS_MAX || o->voters == 0 ||
        o->voters > o->replicas || o->delay_max_ms < o->delay_min_ms ||
        o->restart_max_ms < o->restart_min_ms || o->regions < 1 || o->regions > 2 ||
        (o->region_script != 0 && (o->regions != 2 || o->replicas != 4 || o->voters != 4))) {
        return TANDEM_EINVAL;
    }
    memset(res, 0, sizeof(*res));
    static FILE *devnull;
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
    }
    if (devnull != NULL) {
        tandem_log_set_sink(devnull); /* the journal's failures are expected here */
    }
    sim *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return TANDEM_ENOMEM;
    }
    s->o = o;
    s->res = res;
    tandem_seeded_rand_init(&s->rand, o->seed);
    tandem_buf_init(&s->buf);
    s->msgs = calloc(MESSAGES_MAX, sizeof(*s->msgs));
    int rc = s->msgs ? 0 : TANDEM_ENOMEM;
    build_config(o, &s->boot);
    for (uint32_t i = 0; i < o->replicas && rc == 0; i++) {
        rc = create_replica(s, i);
    }
    s->faults_on = true;
    for (; rc == 0 && s->now_ms < o->duration_ms && !res->failed; s->now_ms++) {
        step(s);
    }
    if (rc == 0 && !res->failed) {
        quiet_phase(s);
    }
    if (rc == 0 && !res->failed) {
        check_log_matching(s);
    }
    collect_disk_stats(s);
    res->end_ms = s->now_ms;
    destroy(s);
    free(s);
    return res->failed ? 0 : rc;
}
