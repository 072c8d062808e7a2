/*
 * raft — commits per second and commit latency of the Raft core over real
 * journals on this disk.
 *
 *   build/bench/raft [--dir DIR] [--seconds N]
 *
 * For 3 and 4 replicas, with 1 and 64 proposals in flight, it runs the
 * replicas in one process: every replica has its own journal directory, and
 * messages go through the wire codec to an in-process queue (no sockets:
 * this measures the core and the disk, not the network). Each round hands
 * over every replica's ready (term/vote durable first, then messages, then
 * appends), flushes all journals in parallel (one thread per replica, as
 * separate machines would), reports what became durable, and delivers the
 * messages. Latency is from propose to the leader seeing the entry committed.
 * Proposals are 256-byte entries. Prints one line per configuration.
 *
 * It refuses to run where fsync is a no-op (tmpfs, ramfs), since the figures
 * would be meaningless.
 */
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
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

static void open_replicas(const char *dir, uint32_t n)
{
    tandem_raft_config conf;
    memset(&conf, 0, sizeof(conf));
    conf.n_members = n;
    for (uint32_t i = 0; i < n; i++) {
        conf.members[i] = (tandem_raft_member){i + 1, i + 1, TANDEM_RAFT_VOTER, 1, 0};
    }
    conf.members[0].priority = 2; /* replica 1 leads, so every run is alike */
    tandem_buf cb = TANDEM_BUF_INIT;
    check(tandem_raft_config_encode(&conf, &cb), "config");
    tandem_journal_options jo;
    tandem_journal_options_default(&jo);
    for (uint32_t id = 1; id <= n; id++) {
        replica *r = &B.rep[id];
        char path[4200];
        snprintf(path, sizeof(path), "%s/replica-%u", dir, id);
        check(tandem_journal_open(tandem_fileops_posix(), path, &jo, &r->journal, NULL), "open");
        uint64_t at;
        check(
            tandem_journal_append(r->journal, 1, TANDEM_JOURNAL_CONFIG, cb.data, cb.len, &at, NULL),
            "bootstrap");
        check(tandem_journal_flush(r->journal, NULL), "flush");
        tandem_seeded_rand_init(&r->rand, id);
        tandem_raft_options o;
        tandem_raft_options_default(&o, id, &r->rand.base);
        o.incarnation = id; /* as the configuration names it */
        o.batch_entries = 256;
        check(tandem_raft_new(&o, &r->raft, NULL), "raft");
        check(tandem_raft_load_hard_state(r->raft, 1, TANDEM_RAFT_NONE), "load");
        tandem_raft_entry e = {1, TANDEM_JOURNAL_CONFIG, (uint32_t)cb.len, cb.data};
        check(tandem_raft_load_entry(r->raft, &e, NULL), "load");
        check(tandem_raft_load_done(r->raft, 1, NULL), "load");
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

/* One configuration: n replicas, `inflight` proposals outstanding. */
static void run(const char *parent, uint32_t n, uint32_t inflight, double seconds)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/raft-bench-XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        die("cannot create the benchmark directory");
    }
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
    qsort(B.latencies_ns, B.n_latencies, sizeof(uint64_t), cmp_u64);
    uint64_t p50 = B.n_latencies ? B.latencies_ns[B.n_latencies / 2] : 0;
    uint64_t p99 = B.n_latencies ? B.latencies_ns[B.n_latencies * 99 / 100] : 0;
    printf("%u replicas, %2u in flight: %9.0f commits/s  p50 %7.2f ms  p99 %7.2f ms  (%zu "
           "commits)\n",
           n, inflight, (double)B.n_latencies / elapsed, (double)p50 / 1e6, (double)p99 / 1e6,
           B.n_latencies);
    fflush(stdout);
    close_replicas();
    memset(B.proposed_ns, 0, INFLIGHT_INDEX_MAX * sizeof(uint64_t));
    pthread_barrier_destroy(&B.start);
    pthread_barrier_destroy(&B.done);
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

int main(int argc, char **argv)
{
    const char *parent = ".";
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            parent = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--dir DIR] [--seconds N]\n", argv[0]);
            return 2;
        }
    }
    if (!(seconds > 0 && seconds <= 3600)) {
        die("--seconds must be in (0, 3600]");
    }
    refuse_fake_fsync(parent);
    tandem_log_set_level(TANDEM_LOG_WARN);
    B.proposed_ns = calloc(INFLIGHT_INDEX_MAX, sizeof(uint64_t));
    B.latencies_ns = calloc(LATENCIES_MAX, sizeof(uint64_t));
    if (B.proposed_ns == NULL || B.latencies_ns == NULL) {
        die("out of memory");
    }
    printf("raft bench: %.1f s per row, 256-byte entries, journals under %s\n", seconds, parent);
    const uint32_t replicas[] = {3, 4};
    const uint32_t inflight[] = {1, 64};
    for (size_t a = 0; a < 2; a++) {
        for (size_t b = 0; b < 2; b++) {
            run(parent, replicas[a], inflight[b], seconds);
        }
    }
    free(B.proposed_ns);
    free(B.latencies_ns);
    return 0;
}
