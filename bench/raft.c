/*
 * raft — commits per second and commit latency of the Raft core over real
 * journals on this disk.
 *
 *   build/bench/raft [--dir DIR] [--seconds N] [--inflight N,N..]
 *                    [--inproc | --delay-ms MS]
 *
 * For 3 and 4 replicas, with 1 and 64 proposals in flight (or the counts of
 * --inflight), it runs the replicas in one process, each with its own
 * journal directory. Latency is from propose to the leader seeing the entry
 * committed; proposals are 256-byte entries. Prints one line per
 * configuration.
 *
 * Default, loopback mode: every replica has its own thread, libuv loop,
 * journal and transport (src/net), and messages go over 127.0.0.1 TCP, as
 * between brokers. --delay-ms holds every frame that long in the sender's
 * queue (the transport's test delay, a timer), emulating a one-way link
 * latency between regions.
 *
 * --inproc: messages go through the wire codec to in-process queues (no
 * sockets: this measures the core and the disk, not the network). Each
 * round hands over every replica's ready (term/vote durable first, then
 * messages, then appends), flushes all journals in parallel (one thread per
 * replica, as separate machines would), reports what became durable, and
 * delivers the messages.
 *
 * It refuses to run where fsync is a no-op (tmpfs, ramfs), since the figures
 * would be meaningless.
 */
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fileops.h"
#include "base/log.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "net/transport.h"
#include "raft/raft.h"
#include "raft/raft_journal.h"

#define REPLICAS_MAX       4
#define LATENCIES_MAX      (1u << 22)
#define PAYLOAD_BYTES      256
#define TICK_NS            10000000ull
#define INFLIGHT_INDEX_MAX (1u << 22)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "raft bench: %s\n", what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "raft bench: %s: %s\n", what, tandem_errname(rc));
        exit(1);
    }
}

typedef struct replica {
    tandem_seeded_rand rand;
    tandem_journal *journal;
    tandem_raft *raft;
    bool flush; /* this round */
    int flush_rc;
} replica;

typedef struct bench {
    uint32_t n;
    replica rep[REPLICAS_MAX + 1];      /* ids 1..n */
    tandem_buf queue[REPLICAS_MAX + 1]; /* length-prefixed frames to each replica */
    pthread_t threads[REPLICAS_MAX + 1];
    pthread_barrier_t start, done;
    bool stop;
    uint64_t *proposed_ns; /* by index */
    uint64_t *latencies_ns;
    size_t n_latencies;
    uint64_t measured_from; /* first index measured */
} bench;

static bench B;

static void *flusher(void *arg)
{
    replica *r = arg;
    for (;;) {
        pthread_barrier_wait(&B.start);
        if (B.stop) {
            return NULL;
        }
        r->flush_rc = r->flush ? tandem_journal_flush(r->journal, NULL) : 0;
        pthread_barrier_wait(&B.done);
    }
}

static void handle(uint32_t id)
{
    replica *r = &B.rep[id];
    while (tandem_raft_has_ready(r->raft)) {
        tandem_raft_update u;
        tandem_raft_ready(r->raft, &u);
        check(tandem_raft_journal_write_hard_state(r->journal, &u, NULL), "term/vote");
        tandem_buf frame = TANDEM_BUF_INIT;
        for (size_t i = 0; i < u.n_messages; i++) {
            const tandem_raft_message *m = &u.messages[i];
            if (m->to < 1 || m->to > B.n) {
                continue;
            }
            tandem_buf_reset(&frame);
            check(tandem_raft_message_encode(m, &frame), "encode");
            check(tandem_buf_put_u32(&B.queue[m->to], (uint32_t)frame.len), "queue");
            check(tandem_buf_append(&B.queue[m->to], frame.data, frame.len), "queue");
        }
        tandem_buf_free(&frame);
        check(tandem_raft_journal_write_entries(r->journal, &u, NULL), "append");
        tandem_raft_advance(r->raft);
    }
}

static void flush_all(void)
{
    for (uint32_t id = 1; id <= B.n; id++) {
        replica *r = &B.rep[id];
        r->flush = tandem_journal_durable_index(r->journal) < tandem_journal_last_index(r->journal);
    }
    pthread_barrier_wait(&B.start);
    pthread_barrier_wait(&B.done);
    for (uint32_t id = 1; id <= B.n; id++) {
        replica *r = &B.rep[id];
        check(r->flush_rc, "flush");
        if (r->flush) {
            uint64_t last = tandem_journal_last_index(r->journal), term = 0;
            check(tandem_journal_term_at(r->journal, last, &term), "term");
            tandem_raft_persisted(r->raft, last, term);
        }
    }
}

static void deliver_all(void)
{
    tandem_raft_entry *st = NULL;
    size_t cap = 0;
    for (uint32_t id = 1; id <= B.n; id++) {
        tandem_buf q = B.queue[id];
        tandem_buf_init(&B.queue[id]);
        tandem_reader rd;
        tandem_reader_init(&rd, q.data, q.len);
        while (tandem_reader_left(&rd) > 0) {
            uint32_t len = tandem_read_u32(&rd);
            const uint8_t *p = tandem_read_bytes(&rd, len);
            tandem_raft_message m;
            check(p == NULL, "queue damaged");
            check(tandem_raft_message_decode(p, len, &m, &st, &cap, NULL), "decode");
            check(tandem_raft_step(B.rep[id].raft, &m), "step");
        }
        tandem_buf_free(&q);
    }
    free(st);
}

static uint32_t leader(void)
{
    for (uint32_t id = 1; id <= B.n; id++) {
        if (tandem_raft_role(B.rep[id].raft) == TANDEM_RAFT_LEADER) {
            return id;
        }
    }
    return 0;
}

/* The bootstrap configuration: n voters, replica 1 preferred as leader so
 * every run is alike. */
static void bootstrap_config(uint32_t n, tandem_buf *cb)
{
    tandem_raft_config conf;
    memset(&conf, 0, sizeof(conf));
    conf.n_members = n;
    for (uint32_t i = 0; i < n; i++) {
        conf.members[i] = (tandem_raft_member){i + 1, i + 1, TANDEM_RAFT_VOTER, 1, 0};
    }
    conf.members[0].priority = 2;
    check(tandem_raft_config_encode(&conf, cb), "config");
}

/* Opens replica id's journal under dir, writes the bootstrap configuration
 * and loads a core from it. */
static void open_replica(const char *dir, uint32_t id, const tandem_buf *cb,
                         tandem_seeded_rand *rand, tandem_journal **journal, tandem_raft **raft)
{
    tandem_journal_options jo;
    tandem_journal_options_default(&jo);
    char path[4200];
    snprintf(path, sizeof(path), "%s/replica-%u", dir, id);
    check(tandem_journal_open(tandem_fileops_posix(), path, &jo, journal, NULL), "open");
    uint64_t at;
    check(tandem_journal_append(*journal, 1, TANDEM_JOURNAL_CONFIG, cb->data, cb->len, &at, NULL),
          "bootstrap");
    check(tandem_journal_flush(*journal, NULL), "flush");
    tandem_seeded_rand_init(rand, id);
    tandem_raft_options o;
    tandem_raft_options_default(&o, id, &rand->base);
    o.incarnation = id; /* as the configuration names it */
    o.batch_entries = 256;
    check(tandem_raft_new(&o, raft, NULL), "raft");
    check(tandem_raft_load_hard_state(*raft, 1, TANDEM_RAFT_NONE), "load");
    tandem_raft_entry e = {1, TANDEM_JOURNAL_CONFIG, (uint32_t)cb->len, cb->data};
    check(tandem_raft_load_entry(*raft, &e, NULL), "load");
    check(tandem_raft_load_done(*raft, 1, NULL), "load");
}

static void open_replicas(const char *dir, uint32_t n)
{
    tandem_buf cb = TANDEM_BUF_INIT;
    bootstrap_config(n, &cb);
    for (uint32_t id = 1; id <= n; id++) {
        replica *r = &B.rep[id];
        open_replica(dir, id, &cb, &r->rand, &r->journal, &r->raft);
        check(pthread_create(&B.threads[id], NULL, flusher, r), "thread");
    }
    tandem_buf_free(&cb);
}

static void close_replicas(void)
{
    B.stop = true;
    pthread_barrier_wait(&B.start);
    for (uint32_t id = 1; id <= B.n; id++) {
        pthread_join(B.threads[id], NULL);
        tandem_raft_free(B.rep[id].raft);
        tandem_journal_close(B.rep[id].journal);
        tandem_buf_free(&B.queue[id]);
    }
    memset(B.rep, 0, sizeof(B.rep));
    B.stop = false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* In-process mode: one thread drives every replica in rounds. Returns the
 * measured seconds. */
static double run_inproc(const char *dir, uint32_t n, uint32_t inflight, double seconds)
{
    B.n = n;
    pthread_barrier_init(&B.start, NULL, n + 1);
    pthread_barrier_init(&B.done, NULL, n + 1);
    open_replicas(dir, n);
    uint64_t next_tick = now_ns();
    uint64_t start = 0, end = 0, first_measured = 0, committed_seen = 0;
    uint8_t payload[PAYLOAD_BYTES];
    memset(payload, 0xab, sizeof(payload));
    B.n_latencies = 0;
    for (uint64_t rounds = 0;; rounds++) {
        uint64_t t = now_ns();
        if (t >= next_tick) {
            for (uint32_t id = 1; id <= n; id++) {
                tandem_raft_tick(B.rep[id].raft);
            }
            next_tick = t + TICK_NS;
        }
        uint32_t l = leader();
        if (l != 0 && start == 0 && tandem_raft_commit_index(B.rep[l].raft) >= 2) {
            start = now_ns();
            end = start + (uint64_t)(seconds * 1e9);
            first_measured = tandem_raft_last_index(B.rep[l].raft) + 1;
            committed_seen = first_measured - 1;
        }
        if (start != 0 && l != 0) { /* no proposals while leadership moves */
            tandem_raft *lr = B.rep[l].raft;
            while (tandem_raft_last_index(lr) - tandem_raft_commit_index(lr) < inflight) {
                uint64_t idx;
                if (tandem_raft_propose(lr, TANDEM_JOURNAL_DATA, payload, sizeof(payload), &idx) !=
                        0 ||
                    idx >= INFLIGHT_INDEX_MAX) {
                    break;
                }
                B.proposed_ns[idx] = now_ns();
            }
        }
        for (uint32_t id = 1; id <= n; id++) {
            handle(id);
        }
        flush_all();
        deliver_all();
        if (start != 0 && l != 0) {
            uint64_t c = tandem_raft_commit_index(B.rep[l].raft);
            uint64_t tc = now_ns();
            for (uint64_t i = committed_seen + 1; i <= c && i < INFLIGHT_INDEX_MAX; i++) {
                if (i >= first_measured && B.proposed_ns[i] != 0 && B.n_latencies < LATENCIES_MAX) {
                    B.latencies_ns[B.n_latencies++] = tc - B.proposed_ns[i];
                }
            }
            committed_seen = c > committed_seen ? c : committed_seen;
            if (tc >= end) {
                break;
            }
        }
        if (rounds > 100000000ull) {
            die("no progress");
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    close_replicas();
    memset(B.proposed_ns, 0, INFLIGHT_INDEX_MAX * sizeof(uint64_t));
    pthread_barrier_destroy(&B.start);
    pthread_barrier_destroy(&B.done);
    return elapsed;
}

/* ---- loopback TCP mode ---------------------------------------------------
 *
 * Every replica runs on its own thread with its own libuv loop, journal and
 * transport (src/net), as separate brokers would; messages are Raft frames
 * over 127.0.0.1. Each loop handles its replica's ready before it sleeps
 * (uv_prepare): term/vote, then messages handed to the transport (written at
 * once), then appends, then a blocking flush, then persisted — so a
 * leader's fsync overlaps its followers' receiving. Replica 1 (the preferred
 * leader) proposes and measures on its own thread. */

typedef struct tcp_node {
    uint32_t id;
    uv_loop_t loop;
    tandem_transport *transport;
    uv_timer_t tick;
    uv_prepare_t prepare;
    uv_async_t stop;
    tandem_seeded_rand rand;
    tandem_journal *journal;
    tandem_raft *raft;
    tandem_raft_entry *entries; /* decode storage */
    size_t entries_cap;
    tandem_buf frame;
    pthread_t thread;
    uint64_t sends_refused;
    uint64_t bad_messages;
} tcp_node;

static struct {
    uint32_t n, inflight;
    double seconds;
    uint32_t delay_ms;
    tcp_node node[REPLICAS_MAX + 1];
    atomic_bool done; /* replica 1 has measured long enough */
    /* replica 1's thread only, until done: */
    uint64_t start_ns, end_ns, first_measured, committed_seen;
    double elapsed;
} T;

static void tcp_on_receive(void *ctx, uint64_t from, uint8_t type, const uint8_t *payload,
                           size_t size)
{
    tcp_node *nd = ctx;
    (void)from;
    if (type != TANDEM_NET_FRAME_RAFT) {
        nd->bad_messages++;
        return;
    }
    tandem_raft_message m;
    if (tandem_raft_message_decode(payload, size, &m, &nd->entries, &nd->entries_cap, NULL) != 0) {
        nd->bad_messages++;
        return;
    }
    check(tandem_raft_step(nd->raft, &m), "step");
}

static void tcp_handle_ready(tcp_node *nd)
{
    tandem_raft_update u;
    tandem_raft_ready(nd->raft, &u);
    check(tandem_raft_journal_write_hard_state(nd->journal, &u, NULL), "term/vote");
    for (size_t i = 0; i < u.n_messages; i++) {
        const tandem_raft_message *m = &u.messages[i];
        if (m->to < 1 || m->to > T.n) {
            continue;
        }
        tandem_buf_reset(&nd->frame);
        check(tandem_raft_message_encode(m, &nd->frame), "encode");
        /* A full queue drops the message: Raft resends. */
        if (tandem_transport_send(nd->transport, m->to, TANDEM_NET_FRAME_RAFT, nd->frame.data,
                                  nd->frame.len) != 0) {
            nd->sends_refused++;
        }
    }
    check(tandem_raft_journal_write_entries(nd->journal, &u, NULL), "append");
    tandem_raft_advance(nd->raft);
}

/* Replica 1: count commits, stop after the measured time, keep `inflight`
 * proposals outstanding. */
static void tcp_measure(tcp_node *nd)
{
    tandem_raft *r = nd->raft;
    if (atomic_load(&T.done) || tandem_raft_role(r) != TANDEM_RAFT_LEADER) {
        return;
    }
    if (T.start_ns == 0) {
        if (tandem_raft_commit_index(r) < 2) {
            return; /* the new leader's no-op first */
        }
        T.start_ns = now_ns();
        T.end_ns = T.start_ns + (uint64_t)(T.seconds * 1e9);
        T.first_measured = tandem_raft_last_index(r) + 1;
        T.committed_seen = T.first_measured - 1;
    }
    uint64_t c = tandem_raft_commit_index(r), tc = now_ns();
    for (uint64_t i = T.committed_seen + 1; i <= c && i < INFLIGHT_INDEX_MAX; i++) {
        if (B.proposed_ns[i] != 0 && B.n_latencies < LATENCIES_MAX) {
            B.latencies_ns[B.n_latencies++] = tc - B.proposed_ns[i];
        }
    }
    T.committed_seen = c > T.committed_seen ? c : T.committed_seen;
    if (tc >= T.end_ns) {
        T.elapsed = (double)(tc - T.start_ns) / 1e9;
        atomic_store(&T.done, true);
        return;
    }
    uint8_t payload[PAYLOAD_BYTES];
    memset(payload, 0xab, sizeof(payload));
    while (tandem_raft_last_index(r) - tandem_raft_commit_index(r) < T.inflight) {
        uint64_t idx;
        if (tandem_raft_propose(r, TANDEM_JOURNAL_DATA, payload, sizeof(payload), &idx) != 0 ||
            idx >= INFLIGHT_INDEX_MAX) {
            break;
        }
        B.proposed_ns[idx] = now_ns();
    }
}

static void tcp_pump(uv_prepare_t *h)
{
    tcp_node *nd = h->data;
    for (unsigned rounds = 0; rounds < 1024; rounds++) {
        if (nd->id == 1) {
            tcp_measure(nd);
        }
        bool did = false;
        while (tandem_raft_has_ready(nd->raft)) {
            tcp_handle_ready(nd);
            did = true;
        }
        uint64_t last = tandem_journal_last_index(nd->journal);
        if (tandem_journal_durable_index(nd->journal) < last) {
            check(tandem_journal_flush(nd->journal, NULL), "flush");
            uint64_t term = 0;
            check(tandem_journal_term_at(nd->journal, last, &term), "term");
            tandem_raft_persisted(nd->raft, last, term);
            did = true;
        }
        if (!did) {
            break;
        }
    }
}

static void tcp_on_tick(uv_timer_t *h)
{
    tcp_node *nd = h->data;
    tandem_raft_tick(nd->raft);
}

static void tcp_on_stop(uv_async_t *h)
{
    tcp_node *nd = h->data;
    tandem_transport_close(nd->transport);
    nd->transport = NULL;
    uv_close((uv_handle_t *)&nd->tick, NULL);
    uv_close((uv_handle_t *)&nd->prepare, NULL);
    uv_close((uv_handle_t *)&nd->stop, NULL);
}

static void *tcp_thread(void *arg)
{
    tcp_node *nd = arg;
    uv_run(&nd->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void tcp_open(const char *dir, tcp_node *nd, uint32_t id, const tandem_buf *cb)
{
    memset(nd, 0, sizeof(*nd));
    nd->id = id;
    check(uv_loop_init(&nd->loop) == 0 ? 0 : TANDEM_ESYS, "loop");
    open_replica(dir, id, cb, &nd->rand, &nd->journal, &nd->raft);
    tandem_transport_options o;
    tandem_transport_options_default(&o);
    o.cluster_name = "raft-bench";
    o.node_id = id;
    o.listen_host = "127.0.0.1";
    o.test_delay_ms = T.delay_ms;
    o.on_receive = tcp_on_receive;
    o.ctx = nd;
    tandem_diag d;
    tandem_diag_clear(&d);
    if (tandem_transport_create(&nd->loop, &o, &nd->transport, &d) != 0) {
        die(tandem_diag_text(&d));
    }
    uv_timer_init(&nd->loop, &nd->tick);
    nd->tick.data = nd;
    uv_timer_start(&nd->tick, tcp_on_tick, TICK_NS / 1000000u, TICK_NS / 1000000u);
    uv_prepare_init(&nd->loop, &nd->prepare);
    nd->prepare.data = nd;
    uv_prepare_start(&nd->prepare, tcp_pump);
    uv_async_init(&nd->loop, &nd->stop, tcp_on_stop);
    nd->stop.data = nd;
}

/* Loopback mode; returns the measured seconds. */
static double run_tcp(const char *dir, uint32_t n, uint32_t inflight, double seconds)
{
    T.n = n;
    T.inflight = inflight;
    T.seconds = seconds;
    T.start_ns = 0;
    T.elapsed = 0;
    atomic_store(&T.done, false);
    B.n_latencies = 0;
    tandem_buf cb = TANDEM_BUF_INIT;
    bootstrap_config(n, &cb);
    for (uint32_t id = 1; id <= n; id++) {
        tcp_open(dir, &T.node[id], id, &cb);
    }
    tandem_buf_free(&cb);
    for (uint32_t id = 1; id <= n; id++) {
        for (uint32_t p = 1; p <= n; p++) {
            if (p != id) {
                check(tandem_transport_add_peer(T.node[id].transport, p, "127.0.0.1",
                                                tandem_transport_port(T.node[p].transport), NULL),
                      "peer");
            }
        }
    }
    /* Loops are handed to their threads only now: until pthread_create, this
     * thread was the only one to touch them. */
    for (uint32_t id = 1; id <= n; id++) {
        check(pthread_create(&T.node[id].thread, NULL, tcp_thread, &T.node[id]), "thread");
    }
    uint64_t give_up = now_ns() + (uint64_t)((seconds + 30) * 1e9);
    while (!atomic_load(&T.done)) {
        if (now_ns() > give_up) {
            die("no progress over loopback");
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    /* The replicas stop one by one and see each other go: expected, not news. */
    tandem_log_set_level(TANDEM_LOG_ERROR);
    for (uint32_t id = 1; id <= n; id++) {
        uv_async_send(&T.node[id].stop);
    }
    for (uint32_t id = 1; id <= n; id++) {
        tcp_node *nd = &T.node[id];
        pthread_join(nd->thread, NULL);
        check(uv_loop_close(&nd->loop) == 0 ? 0 : TANDEM_ESYS, "loop close");
        if (nd->bad_messages != 0) {
            die("a replica received a message it could not decode");
        }
        tandem_raft_free(nd->raft);
        tandem_journal_close(nd->journal);
        free(nd->entries);
        tandem_buf_free(&nd->frame);
    }
    tandem_log_set_level(TANDEM_LOG_WARN);
    memset(B.proposed_ns, 0, INFLIGHT_INDEX_MAX * sizeof(uint64_t));
    return T.elapsed;
}

/* One configuration: n replicas, `inflight` proposals outstanding. */
static void run(const char *parent, bool inproc, uint32_t n, uint32_t inflight, double seconds)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/raft-bench-XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        die("cannot create the benchmark directory");
    }
    double elapsed =
        inproc ? run_inproc(dir, n, inflight, seconds) : run_tcp(dir, n, inflight, seconds);
    qsort(B.latencies_ns, B.n_latencies, sizeof(uint64_t), cmp_u64);
    uint64_t p50 = B.n_latencies ? B.latencies_ns[B.n_latencies / 2] : 0;
    uint64_t p99 = B.n_latencies ? B.latencies_ns[B.n_latencies * 99 / 100] : 0;
    printf("%u replicas, %4u in flight: %9.0f commits/s  p50 %7.2f ms  p99 %7.2f ms  (%zu "
           "commits)\n",
           n, inflight, (double)B.n_latencies / elapsed, (double)p50 / 1e6, (double)p99 / 1e6,
           B.n_latencies);
    fflush(stdout);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "raft bench: could not remove %s\n", dir);
    }
}

static void refuse_fake_fsync(const char *dir)
{
    struct statfs st;
    if (statfs(dir, &st) != 0) {
        die("statfs of the benchmark directory failed");
    }
    if ((unsigned long)st.f_type == (unsigned long)TMPFS_MAGIC ||
        (unsigned long)st.f_type == (unsigned long)RAMFS_MAGIC) {
        die("the directory is on tmpfs/ramfs, where fsync does nothing; use --dir");
    }
}

/* "1,64,1024": up to four counts of proposals in flight, each 1..8192 (the
 * core's default limit of uncommitted entries). */
static size_t parse_inflight(const char *text, uint32_t out[4])
{
    size_t n = 0;
    const char *p = text;
    while (*p != '\0') {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 8192 || n == 4 || (*end != ',' && *end != '\0')) {
            die("--inflight takes up to four counts in 1..8192 separated by commas");
        }
        out[n++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0) {
        die("--inflight takes up to four counts in 1..8192 separated by commas");
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *parent = ".";
    double seconds = 3;
    bool inproc = false;
    long delay_ms = 0;
    uint32_t inflight[4] = {1, 64};
    size_t n_inflight = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            parent = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc) {
            delay_ms = atol(argv[++i]);
        } else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) {
            n_inflight = parse_inflight(argv[++i], inflight);
        } else if (strcmp(argv[i], "--inproc") == 0) {
            inproc = true;
        } else {
            fprintf(stderr,
                    "usage: %s [--dir DIR] [--seconds N] [--inflight N,N..] [--inproc | --delay-ms "
                    "MS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!(seconds > 0 && seconds <= 3600)) {
        die("--seconds must be in (0, 3600]");
    }
    if (delay_ms < 0 || delay_ms > 1000 || (inproc && delay_ms != 0)) {
        die("--delay-ms must be in [0, 1000] and needs the loopback mode");
    }
    T.delay_ms = (uint32_t)delay_ms;
    refuse_fake_fsync(parent);
    tandem_log_set_level(TANDEM_LOG_WARN);
    B.proposed_ns = calloc(INFLIGHT_INDEX_MAX, sizeof(uint64_t));
    B.latencies_ns = calloc(LATENCIES_MAX, sizeof(uint64_t));
    if (B.proposed_ns == NULL || B.latencies_ns == NULL) {
        die("out of memory");
    }
    printf("raft bench: %s, %.1f s per row, 256-byte entries, journals under %s\n",
           inproc ? "in-process queues" : "loopback TCP, one thread and loop per replica", seconds,
           parent);
    if (delay_ms != 0) {
        printf("raft bench: every frame delayed %ld ms one way\n", delay_ms);
    }
    const uint32_t replicas[] = {3, 4};
    for (size_t a = 0; a < 2; a++) {
        for (size_t b = 0; b < n_inflight; b++) {
            run(parent, inproc, replicas[a], inflight[b], seconds);
        }
    }
    free(B.proposed_ns);
    free(B.latencies_ns);
    return 0;
}
