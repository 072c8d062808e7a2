/*
 * Unit tests of the replica host (raft/raft_host.h): small clusters of hosts,
 * each on its own fault-injecting disk with an in-memory state, wired by
 * queues through the wire codec. Covers option refusals, applying committed
 * entries into the state, snapshots and compaction (with and without a
 * floor), recovery from the snapshot after a crash, snapshots sent in chunks
 * to a follower that missed the entries, a staged transfer resumed after the
 * follower restarts, a crash at every disk operation of a transfer, and
 * damaged staged files discarded.
 */
#include <stdio.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/faultfs.h"
#include "base/log.h"
#include "base/rand.h"
#include "raft/raft_host.h"
#include "raft/raft_host_int.h"
#include "test.h"

#define NREP 3

/* CHECK_OK that prints the diagnostic. */
#define CHECK_OKD(expr, d)                                                                         \
    do {                                                                                           \
        int r__ = (expr);                                                                          \
        CHECK_MSG(r__ == 0, "%s returned %s: %s", #expr, tandem_errname(r__), (d).message);        \
    } while (0)

static const char *const tables[] = {"data"};

typedef struct world world;

typedef struct rep {
    world *w;
    uint64_t id;
    tandem_seeded_rand frand;
    tandem_seeded_rand rrand;
    tandem_faultfs *fs;
    tandem_kv *kv;
    tandem_raft_host *h; /* NULL while down */
} rep;

struct world {
    rep r[NREP + 1]; /* 1-based */
    uint32_t n;
    tandem_buf q[NREP + 1];
    bool cut[NREP + 1]; /* cut off: nothing to or from it arrives */
    tandem_raft_entry *st;
    size_t cap;
    uint64_t snapshot_entries;
    uint64_t snapshot_bytes;
    uint32_t chunk_size_bytes;
    uint64_t floor;
    uint64_t proposals;
};

/* The state: 16 keys, each holding the payload of the last entry that hit it. */
static int apply(void *arg, tandem_kv_txn *txn, uint64_t index, const tandem_raft_entry *e,
                 tandem_diag *diag)
{
    (void)arg;
    if (e->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK;
    }
    uint8_t key[2] = {'k', (uint8_t)(index % 16)};
    return tandem_kv_put(txn, 0, key, sizeof(key), e->payload, e->size_bytes, diag);
}

static void send(void *arg, const tandem_raft_message *m)
{
    rep *r = arg;
    world *w = r->w;
    if (m->to < 1 || m->to > w->n || w->cut[m->to] || w->cut[r->id]) {
        return;
    }
    tandem_buf frame = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_message_encode(m, &frame));
    CHECK_OK(tandem_buf_put_u32(&w->q[m->to], (uint32_t)frame.len));
    CHECK_OK(tandem_buf_append(&w->q[m->to], frame.data, frame.len));
    tandem_buf_free(&frame);
}

static tandem_raft_config voters(uint32_t n)
{
    tandem_raft_config c;
    memset(&c, 0, sizeof(c));
    for (uint32_t i = 0; i < n; i++) {
        c.members[i] = (tandem_raft_member){i + 1, 100 + i, TANDEM_RAFT_VOTER, 1, 0};
    }
    c.n_members = n;
    return c;
}

static void fill_options(rep *r, tandem_raft_host_options *o, const tandem_raft_config *boot)
{
    memset(o, 0, sizeof(*o));
    o->ops = tandem_faultfs_ops(r->fs);
    o->dir = "r";
    o->kv = r->kv;
    tandem_raft_options_default(&o->raft, r->id, &r->rrand.base);
    o->raft.incarnation = 100 + r->id - 1; /* as voters() names it */
    tandem_journal_options_default(&o->journal);
    o->journal.segment_size_bytes = 4096;
    o->journal.entry_size_bytes_max = 1024;
    o->journal.write_buffer_bytes = 64;
    o->bootstrap = boot;
    o->apply = apply;
    o->send = send;
    o->send_arg = r;
    o->snapshot_entries = r->w->snapshot_entries;
    o->snapshot_bytes = r->w->snapshot_bytes;
    o->chunk_size_bytes = r->w->chunk_size_bytes;
}

/* Opens replica i (a fresh in-memory state: the disk keeps the rest);
 * returns the open result. */
static int rep_open(world *w, uint32_t i)
{
    rep *r = &w->r[i];
    tandem_kv_options ko = {tables, 1, 0};
    if (r->kv == NULL) {
        CHECK_OK(tandem_kv_open_mem(&ko, &r->kv, NULL));
    }
    tandem_raft_config boot = voters(w->n);
    tandem_raft_host_options o;
    fill_options(r, &o, &boot);
    tandem_diag d;
    int rc = tandem_raft_host_open(&o, &r->h, &d);
    if (rc == 0 && w->floor != 0) {
        tandem_raft_host_set_floor(r->h, w->floor);
    }
    return rc;
}

/* Power loss: the host and its in-memory state are gone, the disk keeps
 * what was synced (and a random outcome for the rest). */
static void rep_crash(world *w, uint32_t i)
{
    rep *r = &w->r[i];
    tandem_raft_host_close(r->h);
    r->h = NULL;
    tandem_kv_close(r->kv);
    r->kv = NULL;
    tandem_faultfs_crash(r->fs, false);
    tandem_buf_reset(&w->q[i]);
}

static void quiet(void)
{
    static FILE *devnull;
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
        tandem_log_set_sink(devnull); /* the journal's failures are expected here */
    }
}

static void world_init(world *w, uint32_t n, uint64_t snapshot_entries, uint32_t chunk)
{
    quiet();
    memset(w, 0, sizeof(*w));
    w->n = n;
    w->snapshot_entries = snapshot_entries;
    w->chunk_size_bytes = chunk;
    for (uint32_t i = 1; i <= n; i++) {
        rep *r = &w->r[i];
        r->w = w;
        r->id = i;
        tandem_seeded_rand_init(&r->frand, test_seed() + i);
        tandem_seeded_rand_init(&r->rrand, i);
        CHECK_OK(tandem_faultfs_new(&r->frand.base, &r->fs));
        CHECK_OK(rep_open(w, i));
    }
}

static void world_free(world *w)
{
    for (uint32_t i = 1; i <= w->n; i++) {
        tandem_raft_host_close(w->r[i].h);
        tandem_kv_close(w->r[i].kv);
        tandem_faultfs_free(w->r[i].fs);
        tandem_buf_free(&w->q[i]);
    }
    free(w->st);
}

/* A host whose call failed is down until the test restarts it. */
static void check_up(world *w, uint32_t i, int rc)
{
    if (rc != 0) {
        CHECK(rc == TANDEM_EIO || rc == TANDEM_ESTOPPED || rc == TANDEM_ENOSPC);
        rep_crash(w, i);
    }
}

static void deliver(world *w, uint32_t i)
{
    tandem_buf q = w->q[i];
    tandem_buf_init(&w->q[i]);
    tandem_reader rd;
    tandem_reader_init(&rd, q.data, q.len);
    while (tandem_reader_left(&rd) > 0 && w->r[i].h != NULL) {
        uint32_t len = tandem_read_u32(&rd);
        const uint8_t *p = tandem_read_bytes(&rd, len);
        CHECK(p != NULL);
        tandem_raft_message m;
        CHECK_OK(tandem_raft_message_decode(p, len, &m, &w->st, &w->cap, NULL));
        if (!w->cut[i]) {
            CHECK_OK(tandem_raft_step(tandem_raft_host_raft(w->r[i].h), &m));
        }
    }
    tandem_buf_free(&q);
}

/* One round: every live host handles its updates, syncs, and takes its mail. */
static void round_once(world *w)
{
    for (uint32_t i = 1; i <= w->n; i++) {
        rep *r = &w->r[i];
        if (r->h == NULL) {
            continue;
        }
        int rc = tandem_raft_host_process(r->h, NULL);
        if (rc == 0 && tandem_raft_host_needs_flush(r->h)) {
            rc = tandem_raft_host_flush(r->h, NULL);
        }
        rc = rc ? rc : tandem_raft_host_process(r->h, NULL);
        check_up(w, i, rc);
        if (r->h != NULL) {
            deliver(w, i);
        }
    }
}

static void rounds(world *w, int n)
{
    for (int k = 0; k < n; k++) {
        round_once(w);
    }
}

static void tick_all(world *w)
{
    for (uint32_t i = 1; i <= w->n; i++) {
        if (w->r[i].h != NULL) {
            tandem_raft_tick(tandem_raft_host_raft(w->r[i].h));
        }
    }
    rounds(w, 2);
}

static tandem_raft *raft_of(world *w, uint32_t i)
{
    CHECK(w->r[i].h != NULL);
    return tandem_raft_host_raft(w->r[i].h);
}

static void elect(world *w, uint32_t who)
{
    for (int t = 0; t < 60 && tandem_raft_role(raft_of(w, who)) != TANDEM_RAFT_LEADER; t++) {
        tandem_raft_tick(raft_of(w, who));
        rounds(w, 3);
    }
    CHECK_EQ_U64(TANDEM_RAFT_LEADER, tandem_raft_role(raft_of(w, who)));
    rounds(w, 4);
}

static void propose_n(world *w, uint32_t leader, int n)
{
    for (int k = 0; k < n; k++) {
        char payload[48];
        int len = snprintf(payload, sizeof(payload), "entry %llu of the test",
                           (unsigned long long)++w->proposals);
        uint64_t idx;
        CHECK_OK(tandem_raft_propose(raft_of(w, leader), TANDEM_JOURNAL_DATA, payload, (size_t)len,
                                     &idx));
        rounds(w, 2);
    }
    rounds(w, 4);
}

/* The state's 16 values hashed (the applied position aside). */
static uint32_t state_hash(world *w, uint32_t i)
{
    tandem_kv_txn *txn;
    CHECK_OK(tandem_kv_begin_read(w->r[i].kv, &txn, NULL));
    uint32_t crc = 0;
    for (uint8_t k = 0; k < 16; k++) {
        uint8_t key[2] = {'k', k};
        tandem_kv_val v = {NULL, 0};
        int rc = tandem_kv_get(txn, 0, key, sizeof(key), &v, NULL);
        CHECK(rc == 0 || rc == TANDEM_ENOENT);
        crc = tandem_crc32c(crc, &k, 1);
        crc = rc == 0 ? tandem_crc32c(crc, v.data, v.len) : crc;
    }
    tandem_kv_abort(txn);
    return crc;
}

static uint64_t applied(world *w, uint32_t i)
{
    return tandem_raft_host_applied_index(w->r[i].h);
}

static tandem_raft_host_stats stats(world *w, uint32_t i)
{
    tandem_raft_host_stats s;
    tandem_raft_host_stats_get(w->r[i].h, &s);
    return s;
}

/* ---- cases ---- */

static void test_options_refused(void)
{
    world w;
    world_init(&w, 1, 0, 0);
    tandem_raft_host_options o;
    fill_options(&w.r[1], &o, NULL);
    tandem_raft_host *h = NULL;
    tandem_diag d;
    o.apply = NULL;
    CHECK_RC(TANDEM_EINVAL, tandem_raft_host_open(&o, &h, &d));
    CHECK_CONTAINS(d.message, "apply");
    fill_options(&w.r[1], &o, NULL);
    o.dir = "";
    CHECK_RC(TANDEM_EINVAL, tandem_raft_host_open(&o, &h, &d));
    CHECK_CONTAINS(d.message, "directory");
    fill_options(&w.r[1], &o, NULL);
    o.chunk_size_bytes = TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX + 1;
    CHECK_RC(TANDEM_EINVAL, tandem_raft_host_open(&o, &h, &d));
    CHECK_CONTAINS(d.message, "chunk_size_bytes");
    fill_options(&w.r[1], &o, NULL);
    o.raft.election_ticks = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_raft_host_open(&o, &h, &d));
    CHECK_CONTAINS(d.message, "election_ticks");
    CHECK(h == NULL);
    world_free(&w);
}

static void test_apply_and_recover(void)
{
    world w;
    world_init(&w, 1, 0, 0);
    elect(&w, 1);
    propose_n(&w, 1, 40);
    uint64_t last = tandem_raft_commit_index(raft_of(&w, 1));
    CHECK(last >= 42); /* configuration, no-op, 40 entries */
    CHECK_EQ_U64(last, applied(&w, 1));
    CHECK_EQ_U64(40, stats(&w, 1).applied_entries - 2);
    uint32_t before = state_hash(&w, 1);
    /* a crash loses the in-memory state: the journal gives it back */
    rep_crash(&w, 1);
    CHECK_OK(rep_open(&w, 1));
    CHECK_EQ_U64(0, tandem_raft_host_snapshot_index(w.r[1].h));
    elect(&w, 1);
    CHECK(applied(&w, 1) > last);
    CHECK_EQ_U64(before, state_hash(&w, 1));
    world_free(&w);
}

static uint32_t count_snapshot_files(world *w, uint32_t i);

static void test_snapshot_and_compaction(void)
{
    for (int with_floor = 0; with_floor < 2; with_floor++) {
        world w;
        world_init(&w, 1, 10, 0);
        if (with_floor) {
            w.floor = 5;
            tandem_raft_host_set_floor(w.r[1].h, 5);
        }
        elect(&w, 1);
        propose_n(&w, 1, 150);
        uint64_t snap = tandem_raft_host_snapshot_index(w.r[1].h);
        CHECK(snap >= 140);
        CHECK(stats(&w, 1).snapshots_taken >= 10);
        CHECK_EQ_U64(snap, tandem_raft_snapshot_index(raft_of(&w, 1)));
        uint64_t first = tandem_journal_first_index(tandem_raft_host_journal(w.r[1].h));
        if (with_floor) {
            CHECK_MSG(first <= 5, "journal starts at %llu, floor 5", (unsigned long long)first);
        } else {
            CHECK_MSG(first > 60, "journal starts at %llu", (unsigned long long)first);
        }
        CHECK_EQ_U64(2, count_snapshot_files(&w, 1)); /* one .kv and its .meta */
        uint32_t before = state_hash(&w, 1);
        uint64_t before_applied = applied(&w, 1);
        rep_crash(&w, 1);
        CHECK_OK(rep_open(&w, 1));
        /* the state comes back from the snapshot at once, the rest from the log */
        CHECK_EQ_U64(snap, tandem_raft_host_snapshot_index(w.r[1].h));
        CHECK(applied(&w, 1) >= snap);
        elect(&w, 1);
        CHECK(applied(&w, 1) > before_applied);
        CHECK_EQ_U64(before, state_hash(&w, 1));
        world_free(&w);
    }
}

/* The byte policy: a snapshot once 500 payload bytes were applied. */
static void test_snapshot_by_bytes(void)
{
    world w;
    world_init(&w, 1, 0, 0);
    w.snapshot_bytes = 500;
    rep_crash(&w, 1);
    CHECK_OK(rep_open(&w, 1));
    elect(&w, 1);
    propose_n(&w, 1, 100); /* about 2,200 bytes */
    uint64_t taken = stats(&w, 1).snapshots_taken;
    CHECK_MSG(taken >= 3 && taken <= 5, "%llu snapshots", (unsigned long long)taken);
    CHECK(tandem_raft_host_snapshot_index(w.r[1].h) > 60);
    world_free(&w);
}

typedef struct file_count {
    uint32_t n;
} file_count;

static int count_cb(void *arg, const char *name)
{
    file_count *c = arg;
    c->n += strncmp(name, "snap-", 5) == 0;
    return 0;
}

static uint32_t count_snapshot_files(world *w, uint32_t i)
{
    tandem_fileops *ops = tandem_faultfs_ops(w->r[i].fs);
    file_count c = {0};
    CHECK_OK(ops->list(ops, "r/snapshots", count_cb, &c));
    return c.n;
}

/* Three voters; replica 3 is cut off while the leader runs ahead and
 * snapshots, then comes back and must be caught up by a snapshot. */
static void far_behind(world *w, uint32_t chunk)
{
    world_init(w, 3, 20, chunk);
    elect(w, 1);
    propose_n(w, 1, 5);
    w->cut[3] = true;
    propose_n(w, 1, 120);
    CHECK(tandem_raft_host_snapshot_index(w->r[1].h) > 100);
    CHECK(tandem_raft_commit_index(raft_of(w, 3)) < 20);
}

/* Runs rounds with heartbeats until replica 3 has applied what 1 has. */
static void catch_up(world *w)
{
    for (int t = 0; t < 400 && (w->r[3].h == NULL || applied(w, 3) < applied(w, 1)); t++) {
        tick_all(w);
        if (w->r[3].h == NULL) {
            CHECK_OK(rep_open(w, 3)); /* the crash disarmed the faults */
        }
    }
    CHECK_EQ_U64(applied(w, 1), applied(w, 3));
    CHECK_EQ_U64(state_hash(w, 1), state_hash(w, 3));
}

static void test_chunked_transfer(void)
{
    world w;
    far_behind(&w, 64);
    w.cut[3] = false;
    catch_up(&w);
    CHECK_EQ_U64(1, stats(&w, 3).snapshots_installed);
    CHECK(stats(&w, 3).chunks_stored > 4);
    CHECK(stats(&w, 1).chunks_sent >= stats(&w, 3).chunks_stored);
    CHECK(tandem_raft_host_snapshot_index(w.r[3].h) > 100);
    world_free(&w);
}

/* Lets replica 3 store some chunks of the snapshot but not all. */
static void stage_some(world *w, uint64_t chunks)
{
    w->cut[3] = false;
    for (int t = 0; t < 200 && stats(w, 3).chunks_stored < chunks; t++) {
        round_once(w);
        if (t % 4 == 0) {
            tick_all(w);
        }
    }
    CHECK(stats(w, 3).chunks_stored >= chunks);
    CHECK_EQ_U64(0, stats(w, 3).snapshots_installed);
}

static void test_staged_resumes_after_restart(void)
{
    world w;
    far_behind(&w, 64);
    stage_some(&w, 3);
    uint64_t stored = stats(&w, 3).chunks_stored;
    rep_crash(&w, 3);
    CHECK_OK(rep_open(&w, 3));
    CHECK_EQ_U64(stored * 64, stats(&w, 3).staged_resumed_bytes);
    CHECK_EQ_U64(0, stats(&w, 3).staged_discarded);
    catch_up(&w);
    CHECK_EQ_U64(1, stats(&w, 3).snapshots_installed);
    /* only the rest was sent again: the total is the file's chunks */
    uint64_t again = stats(&w, 3).chunks_stored;
    world w2;
    far_behind(&w2, 64);
    w2.cut[3] = false;
    catch_up(&w2);
    CHECK_EQ_U64(stats(&w2, 3).chunks_stored, stored + again);
    world_free(&w2);
    world_free(&w);
}

static void test_damaged_staged_discarded(void)
{
    const char *files[] = {"r/snapshots/recv.kv", "r/snapshots/recv.meta"};
    for (int f = 0; f < 2; f++) {
        world w;
        far_behind(&w, 64);
        stage_some(&w, 3);
        rep_crash(&w, 3);
        CHECK_OK(tandem_faultfs_flip_bit(w.r[3].fs, files[f], 10, 2));
        CHECK_OK(rep_open(&w, 3));
        CHECK_EQ_U64(1, stats(&w, 3).staged_discarded);
        CHECK_EQ_U64(0, stats(&w, 3).staged_resumed_bytes);
        bool is_dir;
        tandem_fileops *ops = tandem_faultfs_ops(w.r[3].fs);
        CHECK_RC(TANDEM_ENOENT, ops->stat(ops, files[f], &is_dir));
        catch_up(&w);
        CHECK_EQ_U64(1, stats(&w, 3).snapshots_installed);
        world_free(&w);
    }
}

/* A crash at every disk operation of replica 3 while it receives and
 * installs: each time it recovers and catches up with equal state. */
static void test_crash_at_every_step(void)
{
    world w;
    far_behind(&w, 128);
    tandem_faultfs_stats s0, s1;
    tandem_faultfs_stats_get(w.r[3].fs, &s0);
    w.cut[3] = false;
    catch_up(&w);
    tandem_faultfs_stats_get(w.r[3].fs, &s1);
    uint64_t ops = s1.ops - s0.ops;
    world_free(&w);
    CHECK(ops > 10);
    for (uint64_t n = 0; n < ops; n++) {
        far_behind(&w, 128);
        tandem_faultfs_crash_after(w.r[3].fs, (int64_t)n);
        w.cut[3] = false;
        catch_up(&w);
        world_free(&w);
    }
}

/* The meta codec: round trip, and every refusal names its reason. */
static void test_meta_codec(void)
{
    host_meta m = {.kind = HOST_META_COMPLETE, .index = 9, .term = 2, .config = voters(3)};
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(host_meta_encode(&m, &b));
    host_meta back;
    tandem_diag d;
    CHECK_OK(host_meta_decode(b.data, b.len, &back, &d));
    CHECK_EQ_U64(9, back.index);
    CHECK_EQ_U64(2, back.term);
    CHECK_EQ_U64(3, back.config.n_members);
    CHECK_RC(TANDEM_ECORRUPT, host_meta_decode(b.data, 10, &back, &d));
    CHECK_CONTAINS(d.message, "no header");
    b.data[20] ^= 1;
    CHECK_RC(TANDEM_ECORRUPT, host_meta_decode(b.data, b.len, &back, &d));
    CHECK_CONTAINS(d.message, "checksum");
    b.data[20] ^= 1;
    b.data[4] = 7;
    tandem_store_u32(b.data + b.len - 4, tandem_crc32c(0, b.data, b.len - 4));
    CHECK_RC(TANDEM_EFORMAT, host_meta_decode(b.data, b.len, &back, &d));
    CHECK_CONTAINS(d.message, "version 7");
    m.index = TANDEM_RAFT_INDEX_MAX + 1;
    CHECK_OK(host_meta_encode(&m, &b));
    CHECK_RC(TANDEM_ECORRUPT, host_meta_decode(b.data, b.len, &back, &d));
    CHECK_CONTAINS(d.message, "bad fields");
    tandem_buf_free(&b);
}

/* ---- the broker's setting: LMDB state on the real file system ---- */

static void no_send(void *arg, const tandem_raft_message *m)
{
    (void)m;
    ++*(int *)arg; /* a single voter has nobody to send to */
}

typedef struct solo {
    char dir[256];
    char state[256];
    tandem_kv *kv;
    tandem_raft_host *h;
    tandem_seeded_rand rnd;
    int sent;
} solo;

static void solo_open(solo *x)
{
    quiet();
    tandem_kv_options ko = {tables, 1, 0};
    tandem_diag d;
    (void)tandem_mkdir_durable(tandem_fileops_posix(), x->state);
    CHECK_OKD(tandem_kv_open_lmdb(x->state, &ko, &x->kv, &d), d);
    tandem_raft_config boot = voters(1);
    tandem_raft_host_options o;
    memset(&o, 0, sizeof(o));
    o.ops = tandem_fileops_posix();
    o.dir = x->dir;
    o.kv = x->kv;
    tandem_seeded_rand_init(&x->rnd, 1);
    tandem_raft_options_default(&o.raft, 1, &x->rnd.base);
    o.raft.incarnation = 100; /* as voters() names it */
    tandem_journal_options_default(&o.journal);
    o.journal.segment_size_bytes = 4096;
    o.journal.entry_size_bytes_max = 1024;
    o.bootstrap = &boot;
    o.apply = apply;
    o.send = no_send;
    o.send_arg = &x->sent;
    o.snapshot_entries = 10;
    CHECK_OKD(tandem_raft_host_open(&o, &x->h, &d), d);
}

static void solo_run(solo *x, int proposals)
{
    tandem_raft *r = tandem_raft_host_raft(x->h);
    for (int t = 0; t < 100 && tandem_raft_role(r) != TANDEM_RAFT_LEADER; t++) {
        tandem_raft_tick(r);
        CHECK_OK(tandem_raft_host_process(x->h, NULL));
    }
    CHECK_EQ_U64(TANDEM_RAFT_LEADER, tandem_raft_role(r));
    for (int k = 0; k <= proposals; k++) {
        uint64_t idx;
        if (k < proposals) {
            char p[32];
            int len = snprintf(p, sizeof(p), "lmdb entry %d", k);
            CHECK_OK(tandem_raft_propose(r, TANDEM_JOURNAL_DATA, p, (size_t)len, &idx));
        }
        CHECK_OK(tandem_raft_host_process(x->h, NULL));
        CHECK_OK(tandem_raft_host_flush(x->h, NULL));
        CHECK_OK(tandem_raft_host_process(x->h, NULL));
    }
    CHECK_EQ_U64(tandem_raft_commit_index(r), tandem_raft_host_applied_index(x->h));
}

static void solo_close(solo *x)
{
    tandem_raft_host_close(x->h);
    tandem_kv_close(x->kv);
    x->h = NULL;
    x->kv = NULL;
}

static uint32_t solo_hash(solo *x)
{
    world w;
    memset(&w, 0, sizeof(w));
    w.r[1].kv = x->kv;
    return state_hash(&w, 1);
}

/* LMDB keeps its applied position across a restart (ahead of the
 * snapshot: nothing is applied twice); a lost state directory comes back
 * from the snapshot and the log. */
static void test_lmdb_state(void)
{
    solo x;
    memset(&x, 0, sizeof(x));
    snprintf(x.dir, sizeof(x.dir), "%s/r", test_tmpdir());
    snprintf(x.state, sizeof(x.state), "%s/state", test_tmpdir());
    solo_open(&x);
    solo_run(&x, 35);
    uint64_t applied_before = tandem_raft_host_applied_index(x.h);
    uint64_t snap = tandem_raft_host_snapshot_index(x.h);
    CHECK(snap >= 30 && snap < applied_before);
    uint32_t hash = solo_hash(&x);
    solo_close(&x);
    solo_open(&x);
    CHECK_EQ_U64(applied_before, tandem_raft_host_applied_index(x.h));
    CHECK_EQ_U64(hash, solo_hash(&x));
    solo_run(&x, 0);
    CHECK_EQ_U64(hash, solo_hash(&x));
    uint64_t applied_mid = tandem_raft_host_applied_index(x.h);
    solo_close(&x);
    test_rmtree(x.state);
    solo_open(&x);
    CHECK_EQ_U64(tandem_raft_host_snapshot_index(x.h), tandem_raft_host_applied_index(x.h));
    solo_run(&x, 0);
    CHECK(tandem_raft_host_applied_index(x.h) > applied_mid);
    CHECK_EQ_U64(hash, solo_hash(&x));
    CHECK_EQ_U64(0, x.sent);
    solo_close(&x);
}

static const tandem_test cases[] = {
    {"options_refused", test_options_refused},
    {"meta_codec", test_meta_codec},
    {"apply_and_recover", test_apply_and_recover},
    {"snapshot_and_compaction", test_snapshot_and_compaction},
    {"snapshot_by_bytes", test_snapshot_by_bytes},
    {"chunked_transfer", test_chunked_transfer},
    {"staged_resumes_after_restart", test_staged_resumes_after_restart},
    {"damaged_staged_discarded", test_damaged_staged_discarded},
    {"crash_at_every_step", test_crash_at_every_step},
    {"lmdb_state", test_lmdb_state},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
