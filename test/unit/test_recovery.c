/*
 * Recovery of a partition replica (journal + state) after a process crash at
 * any point between a journal flush and the state commit that follows it:
 * reopening applies the journal after the state's applied position, every
 * flushed entry is in the state, and the state's digest equals the digest of
 * applying the same journal from scratch in a clean run.
 *
 * The crash is real: a forked child runs the write path on the real disk and
 * LMDB and `_exit`s at a random step — in the middle of a state transaction,
 * right after a flush before the apply, or right after a state commit.
 */
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "state/kv.h"
#include "stream/partition.h"
#include "test.h"

static const char *const tables[] = {TANDEM_PARTITION_TABLE_NAME, "entries", "totals"};
enum { T_ENTRIES = 1, T_TOTALS = 2 };

typedef struct crash_plan {
    uint64_t apply_call;  /* _exit inside the nth apply call (0 = never) */
    uint64_t after_flush; /* _exit after the nth flush, before applying (0 = never) */
    uint64_t after_apply; /* _exit after the nth apply commit (0 = never) */
    uint64_t apply_calls;
} crash_plan;

static crash_plan plan;

/* A deterministic apply: the entry under its own key, and a running total
 * whose value depends on the order entries are applied in. */
static int apply_entry(void *arg, tandem_kv_txn *txn, const tandem_journal_entry *entry,
                       const uint8_t *payload, tandem_diag *diag)
{
    (void)arg;
    if (entry->kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK;
    }
    if (plan.apply_call != 0 && ++plan.apply_calls == plan.apply_call) {
        _exit(0); /* mid-transaction: nothing of it is committed */
    }
    int rc = tandem_kv_put(txn, T_ENTRIES, payload, 12, payload, entry->payload_size_bytes, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint64_t total = 0;
    tandem_kv_val v;
    rc = tandem_kv_get(txn, T_TOTALS, "total", 5, &v, diag);
    if (rc == TANDEM_OK) {
        CHECK(v.len == sizeof(total));
        memcpy(&total, v.data, sizeof(total));
    } else if (rc != TANDEM_ENOENT) {
        return rc;
    }
    total = total * 31 + entry->payload_size_bytes + entry->index;
    return tandem_kv_put(txn, T_TOTALS, "total", 5, &total, sizeof(total), diag);
}

static void partition_options(tandem_partition_options *o, const char *root)
{
    tandem_partition_options_default(o);
    o->data_root = root;
    o->cluster_name = "recovery";
    o->partition_id = 1;
    o->journal.segment_size_bytes = 16 * 1024;
    o->journal.entry_size_bytes_max = 2048;
    o->state_map_size_bytes = 64u << 20;
    o->apply_entries_max = 7; /* several state transactions per apply */
    o->table_names = tables;
    o->table_count = 3;
    o->apply = apply_entry;
}

/* The child: appends numbered entries in random groups; after each flush it
 * reports the highest flushed sequence number on `fd`; it crashes as planned. */
static void child_run(const char *root, uint64_t seed, int fd, uint64_t first_seq)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, seed);
    tandem_partition_options o;
    partition_options(&o, root);
    tandem_partition *p = NULL;
    tandem_diag d = {0};
    CHECK_MSG(tandem_partition_open(&o, &p, &d) == TANDEM_OK, "child open: %s",
              tandem_diag_text(&d));
    uint64_t flushes = 0;
    uint64_t applies = 0;
    for (uint64_t seq = first_seq; seq < first_seq + 200; seq++) {
        char payload[256];
        size_t len = 12 + (size_t)tandem_rand_below(&r.base, 200);
        memset(payload, 'a' + (int)(seq % 26), len);
        snprintf(payload, 13, "seq%09llu", (unsigned long long)seq);
        uint64_t index;
        CHECK_OK(tandem_partition_append(p, TANDEM_JOURNAL_DATA, payload, len, &index, &d));
        if (!tandem_rand_chance(&r.base, 1, 4)) {
            continue;
        }
        CHECK_OK(tandem_partition_flush(p, &d));
        CHECK(write(fd, &seq, sizeof(seq)) == (ssize_t)sizeof(seq));
        if (plan.after_flush != 0 && ++flushes == plan.after_flush) {
            _exit(0);
        }
        CHECK_OK(tandem_partition_apply(p, &d));
        if (plan.after_apply != 0 && ++applies == plan.after_apply) {
            _exit(0);
        }
    }
    _exit(0); /* no clean close either: whatever is not flushed may be lost */
}

/* Digest of applying the journal in `root` from its start, in memory. */
static void clean_digest(const char *root, uint64_t out[2], uint64_t *last_out)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s/partition-1/journal", root);
    tandem_diag d = {0};
    tandem_journal *j = NULL;
    CHECK_OK(tandem_journal_open(tandem_fileops_posix(), dir, NULL, &j, &d));
    tandem_kv_options kopts = {tables, 3, 0};
    tandem_kv *kv = NULL;
    CHECK_OK(tandem_kv_open_mem(&kopts, &kv, &d));
    tandem_kv_txn *txn = NULL;
    CHECK_OK(tandem_kv_begin_write(kv, &txn, &d));
    tandem_buf payload = TANDEM_BUF_INIT;
    uint64_t last = tandem_journal_last_index(j);
    for (uint64_t i = tandem_journal_first_index(j); i <= last; i++) {
        tandem_journal_entry e;
        CHECK_OK(tandem_journal_read(j, i, &e, &payload, &d));
        CHECK_OK(apply_entry(NULL, txn, &e, payload.data, &d));
    }
    CHECK_OK(tandem_kv_commit(txn, last, &d));
    CHECK_OK(tandem_kv_digest(kv, out, &d));
    *last_out = last;
    tandem_buf_free(&payload);
    tandem_kv_close(kv);
    tandem_journal_close(j);
}

/* Sequence numbers [from, to] each crashed run flushed. */
typedef struct acked_range {
    uint64_t from;
    uint64_t to;
} acked_range;

static void check_round(const char *root, const acked_range *ranges, size_t range_count)
{
    /* reopen: recovery applies what the state lacks */
    tandem_partition_options o;
    partition_options(&o, root);
    plan = (crash_plan){0};
    tandem_partition *p = NULL;
    tandem_diag d = {0};
    CHECK_MSG(tandem_partition_open(&o, &p, &d) == TANDEM_OK, "reopen: %s", tandem_diag_text(&d));
    CHECK_EQ_U64(tandem_partition_commit_index(p), tandem_partition_applied_index(p));
    uint64_t applied = tandem_partition_applied_index(p);
    tandem_kv *kv = tandem_partition_kv(p);
    tandem_kv_txn *txn = NULL;
    CHECK_OK(tandem_kv_begin_read(kv, &txn, &d));
    for (size_t i = 0; i < range_count; i++) {
        for (uint64_t seq = ranges[i].from; seq <= ranges[i].to; seq++) {
            char key[16];
            snprintf(key, sizeof(key), "seq%09llu", (unsigned long long)seq);
            tandem_kv_val v;
            CHECK_MSG(tandem_kv_get(txn, T_ENTRIES, key, 12, &v, &d) == TANDEM_OK,
                      "flushed entry %s missing after recovery", key);
        }
    }
    tandem_kv_abort(txn);
    uint64_t recovered[2];
    CHECK_OK(tandem_kv_digest(kv, recovered, &d));
    tandem_partition_close(p);

    uint64_t clean[2];
    uint64_t last = 0;
    clean_digest(root, clean, &last);
    CHECK_EQ_U64(last, applied);
    CHECK_EQ_U64(clean[0], recovered[0]);
    CHECK_EQ_U64(clean[1], recovered[1]);
}

static uint64_t run_child(const char *root, uint64_t seed, uint64_t first_seq)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_run(root, seed, fds[1], first_seq);
    }
    close(fds[1]);
    uint64_t acked = first_seq - 1;
    uint64_t seq;
    while (read(fds[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
        CHECK(seq > acked);
        acked = seq;
    }
    close(fds[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d)", status);
    return acked;
}

static void test_crash_between_journal_and_state(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint64_t rounds = test_iterations(40);
    uint64_t kinds[3] = {0, 0, 0};
    for (uint64_t round = 0; round < rounds; round++) {
        char root[4200];
        snprintf(root, sizeof(root), "%s/r%llu", test_tmpdir(), (unsigned long long)round);
        CHECK(mkdir(root, 0755) == 0);
        /* several crashes on the same directory, each followed by recovery */
        uint64_t first_seq = 1;
        acked_range ranges[3];
        for (int crash = 0; crash < 3; crash++) {
            plan = (crash_plan){0};
            uint64_t kind = tandem_rand_below(&r.base, 3);
            kinds[kind]++;
            if (kind == 0) {
                plan.apply_call = 1 + tandem_rand_below(&r.base, 60);
            } else if (kind == 1) {
                plan.after_flush = 1 + tandem_rand_below(&r.base, 40);
            } else {
                plan.after_apply = 1 + tandem_rand_below(&r.base, 40);
            }
            uint64_t acked = run_child(root, tandem_rand_u64(&r.base), first_seq);
            if (getenv("RECOVERY_TRACE") != NULL) {
                fprintf(stderr, "round %llu crash %d kind %llu acked %llu\n",
                        (unsigned long long)round, crash, (unsigned long long)kind,
                        (unsigned long long)acked);
            }
            ranges[crash] = (acked_range){first_seq, acked};
            check_round(root, ranges, (size_t)crash + 1);
            first_seq += 200;
        }
    }
    CHECK(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0);
}

static void test_state_ahead_of_journal_refused(void)
{
    /* a journal that lost entries the state applied is damage, not a crash */
    char root[4200];
    snprintf(root, sizeof(root), "%s/ahead", test_tmpdir());
    CHECK(mkdir(root, 0755) == 0);
    tandem_partition_options o;
    partition_options(&o, root);
    plan = (crash_plan){0};
    tandem_partition *p = NULL;
    tandem_diag d = {0};
    CHECK_OK(tandem_partition_open(&o, &p, &d));
    uint64_t index;
    for (int i = 0; i < 5; i++) {
        CHECK_OK(tandem_partition_append(p, TANDEM_JOURNAL_DATA, "seq000000001xx", 14, &index, &d));
    }
    CHECK_OK(tandem_partition_flush(p, &d));
    CHECK_OK(tandem_partition_apply(p, &d));
    CHECK_OK(tandem_journal_truncate_from(tandem_partition_journal(p), index - 2, &d));
    tandem_partition_close(p);
    CHECK_RC(TANDEM_ECORRUPT, tandem_partition_open(&o, &p, &d));
    CHECK_CONTAINS(d.message, "ahead of the journal");
}

static const tandem_test cases[] = {
    {"crash_between_journal_and_state", test_crash_between_journal_and_state},
    {"state_ahead_of_journal_refused", test_state_ahead_of_journal_refused},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
