/* What only the LMDB backend of the state store does: survive a process
 * killed mid-transaction, report a full map, refuse damaged or newer files,
 * and give consistent snapshots while another thread keeps committing. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/fileops.h"
#include "base/rand.h"
#include "state/kv.h"
#include "test.h"

#define CHECK_OKD(expr, d)                                                                         \
    do {                                                                                           \
        int r__ = (expr);                                                                          \
        CHECK_MSG(r__ == 0, "%s returned %s: %s", #expr, tandem_errname(r__), (d).message);        \
    } while (0)

static const char *const TABLES[] = {"main", "extra"};
enum { T_MAIN, T_EXTRA };
#define SHARED_KEYS 8

static const char *fresh_dir(void)
{
    static char path[4096];
    static int n;
    snprintf(path, sizeof(path), "%s/lmdb-%d", test_tmpdir(), n++);
    CHECK(mkdir(path, 0755) == 0);
    return path;
}

static int open_kv(const char *dir, tandem_kv **kv, tandem_diag *d)
{
    tandem_kv_options o = {TABLES, 2, 0};
    return tandem_kv_open_lmdb(dir, &o, kv, d);
}

/* The content of transaction i: its own key, and the shared keys set to i. */
static int write_txn(tandem_kv_txn *t, uint64_t i)
{
    char key[32];
    uint8_t val[8];
    tandem_store_u64(val, i);
    snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
    int rc = tandem_kv_put(t, T_MAIN, key, strlen(key), val, 8, NULL);
    for (int j = 0; rc == TANDEM_OK && j < SHARED_KEYS; j++) {
        snprintf(key, sizeof(key), "shared%d", j);
        rc = tandem_kv_put(t, T_EXTRA, key, strlen(key), val, 8, NULL);
    }
    return rc;
}

/* The child: commits transactions 1..limit, reporting each after its commit
 * returned; at `die_at` it dies inside the open transaction. Never returns
 * (and never runs the test runner's exit handlers). */
static _Noreturn void child_writer(const char *dir, int report_fd, uint64_t limit, uint64_t die_at,
                                   bool by_signal)
{
    tandem_kv *kv = NULL;
    if (open_kv(dir, &kv, NULL) != TANDEM_OK) {
        _exit(3);
    }
    for (uint64_t i = 1; i <= limit; i++) {
        tandem_kv_txn *t = NULL;
        if (tandem_kv_begin_write(kv, &t, NULL) != TANDEM_OK || write_txn(t, i) != TANDEM_OK) {
            _exit(4);
        }
        if (i == die_at) {
            if (by_signal) {
                raise(SIGKILL);
            }
            _exit(0);
        }
        if (tandem_kv_commit(t, i, NULL) != TANDEM_OK) {
            _exit(5);
        }
        uint8_t buf[8];
        tandem_store_u64(buf, i);
        if (write(report_fd, buf, 8) != 8) {
            _exit(6);
        }
    }
    _exit(0);
}

/* Reads reports, `already` of which were read before, until `want` arrived
 * (0: until end of file); returns the last one. */
static uint64_t read_reports(int fd, uint64_t already, uint64_t want)
{
    uint64_t last = already;
    uint64_t got = already;
    for (;;) {
        uint8_t buf[8];
        size_t have = 0;
        while (have < 8) {
            ssize_t n = read(fd, buf + have, 8 - have);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                CHECK(have == 0);
                return last;
            }
            have += (size_t)n;
        }
        last = tandem_load_u64(buf);
        got++;
        CHECK_EQ_U64(got, last);
        if (want != 0 && got == want) {
            return last;
        }
    }
}

/* The store must hold exactly transactions 1..applied. */
static void check_prefix(const char *dir, uint64_t applied_min, uint64_t applied_max)
{
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    uint64_t applied = tandem_kv_applied_position(kv);
    CHECK_MSG(applied >= applied_min && applied <= applied_max, "applied %llu not in [%llu, %llu]",
              (unsigned long long)applied, (unsigned long long)applied_min,
              (unsigned long long)applied_max);
    tandem_kv_txn *t = NULL;
    CHECK_OK(tandem_kv_begin_read(kv, &t, NULL));
    uint64_t n = 0;
    CHECK_OK(tandem_kv_count(t, T_MAIN, &n, NULL));
    CHECK_EQ_U64(applied, n);
    for (uint64_t i = 1; i <= applied + 1; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
        tandem_kv_val v;
        int rc = tandem_kv_get(t, T_MAIN, key, strlen(key), &v, NULL);
        CHECK_RC(i <= applied ? TANDEM_OK : TANDEM_ENOENT, rc);
    }
    for (int j = 0; j < SHARED_KEYS && applied > 0; j++) {
        char key[32];
        snprintf(key, sizeof(key), "shared%d", j);
        tandem_kv_val v;
        CHECK_OK(tandem_kv_get(t, T_EXTRA, key, strlen(key), &v, NULL));
        CHECK_EQ_U64(applied, tandem_load_u64(v.data));
    }
    tandem_kv_abort(t);
    /* the writer lock of the dead process is not in the way */
    CHECK_OK(tandem_kv_begin_write(kv, &t, NULL));
    CHECK_OK(write_txn(t, applied + 1));
    CHECK_OKD(tandem_kv_commit(t, applied + 1, &d), d);
    tandem_kv_close(kv);
}

static void test_killed_mid_transaction(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint64_t rounds = test_iterations(6);
    for (uint64_t round = 0; round < rounds; round++) {
        const char *dir = fresh_dir();
        uint64_t die_at = 1 + tandem_rand_below(&r.base, 30);
        bool by_signal = round % 2 == 0;
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_writer(dir, fds[1], 1000, die_at, by_signal);
        }
        close(fds[1]);
        uint64_t last = read_reports(fds[0], 0, 0);
        close(fds[0]);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (by_signal) {
            CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        } else {
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        CHECK_EQ_U64(die_at - 1, last);
        /* a killed process loses nothing it committed */
        check_prefix(dir, last, last);
    }
}

static void test_killed_at_random_time(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint64_t rounds = test_iterations(4);
    for (uint64_t round = 0; round < rounds; round++) {
        const char *dir = fresh_dir();
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_writer(dir, fds[1], 1000000, 0, false);
        }
        close(fds[1]);
        uint64_t want = 1 + tandem_rand_below(&r.base, 40);
        CHECK_EQ_U64(want, read_reports(fds[0], 0, want));
        usleep((useconds_t)tandem_rand_below(&r.base, 3000));
        CHECK(kill(pid, SIGKILL) == 0);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        uint64_t last = read_reports(fds[0], want, 0);
        close(fds[0]);
        /* the commit after the last report may or may not have finished */
        check_prefix(dir, last, last + 1);
    }
}

static void test_map_full_message(void)
{
    const char *dir = fresh_dir();
    tandem_kv_options o = {TABLES, 2, 1u << 20};
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_kv_open_lmdb(dir, &o, &kv, &d), d);
    tandem_kv_txn *t = NULL;
    CHECK_OK(tandem_kv_begin_write(kv, &t, NULL));
    static uint8_t val[8192];
    int rc = TANDEM_OK;
    for (uint32_t i = 0; i < 10000 && rc == TANDEM_OK; i++) {
        uint8_t key[4];
        tandem_store_u32(key, i);
        rc = tandem_kv_put(t, T_MAIN, key, 4, val, sizeof(val), &d);
    }
    CHECK_RC(TANDEM_ENOSPC, rc);
    CHECK_CONTAINS(d.message, "mdb_put on ");
    CHECK_CONTAINS(d.message, dir);
    CHECK_CONTAINS(d.message, "MDB_MAP_FULL");
    CHECK_CONTAINS(d.message, "map size of 1048576 bytes");
    tandem_kv_abort(t);
    /* durable after sync, and the handle is still good */
    CHECK_OKD(tandem_kv_sync(kv, &d), d);
    tandem_kv_close(kv);
}

static void test_damaged_file_refused(void)
{
    const char *dir = fresh_dir();
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    tandem_kv_close(kv);
    char file[4200];
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    int fd = open(file, O_WRONLY);
    CHECK(fd >= 0);
    static uint8_t junk[16384];
    memset(junk, 0xab, sizeof(junk));
    CHECK(pwrite(fd, junk, sizeof(junk), 0) == (ssize_t)sizeof(junk));
    close(fd);
    kv = NULL;
    int rc = open_kv(dir, &kv, &d);
    CHECK_RC(TANDEM_ECORRUPT, rc);
    CHECK(kv == NULL);
    CHECK_CONTAINS(d.message, "mdb_env_open on ");
    CHECK_CONTAINS(d.message, dir);
    CHECK_CONTAINS(d.message, "damaged");
}

static void test_missing_directory(void)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/does-not-exist", test_tmpdir());
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ENOENT, open_kv(dir, &kv, &d));
    CHECK_CONTAINS(d.message, dir);
}

/* Writes the meta format key with LMDB directly, as a future build would. */
static void set_format(const char *dir, uint32_t format)
{
    MDB_env *env = NULL;
    CHECK(mdb_env_create(&env) == 0);
    CHECK(mdb_env_set_maxdbs(env, 4) == 0);
    CHECK(mdb_env_open(env, dir, 0, 0644) == 0);
    MDB_txn *txn = NULL;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    MDB_dbi dbi;
    CHECK(mdb_dbi_open(txn, "tandem.meta", 0, &dbi) == 0);
    uint8_t buf[4];
    tandem_store_u32(buf, format);
    MDB_val k = {6, (void *)"format"};
    MDB_val v = {4, buf};
    CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
    CHECK(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
}

static void test_newer_format_refused(void)
{
    const char *dir = fresh_dir();
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    tandem_kv_close(kv);
    set_format(dir, 2);
    CHECK_RC(TANDEM_EFORMAT, open_kv(dir, &kv, &d));
    CHECK_CONTAINS(d.message, dir);
    CHECK_CONTAINS(d.message, "has format version 2, this build reads up to 1");
    set_format(dir, 0);
    CHECK_RC(TANDEM_ECORRUPT, open_kv(dir, &kv, &d));
    CHECK_CONTAINS(d.message, "format version 0");
    set_format(dir, 1);
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    tandem_kv_close(kv);
}

static void test_reopen_with_more_tables(void)
{
    const char *dir = fresh_dir();
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    tandem_kv_txn *t = NULL;
    CHECK_OK(tandem_kv_begin_write(kv, &t, NULL));
    CHECK_OK(tandem_kv_put(t, T_MAIN, "a", 1, "1", 1, NULL));
    CHECK_OK(tandem_kv_commit(t, 9, NULL));
    tandem_kv_close(kv);
    static const char *const more[] = {"main", "extra", "added"};
    tandem_kv_options o = {more, 3, 0};
    CHECK_OKD(tandem_kv_open_lmdb(dir, &o, &kv, &d), d);
    CHECK_EQ_U64(9, tandem_kv_applied_position(kv));
    CHECK_OK(tandem_kv_begin_write(kv, &t, NULL));
    tandem_kv_val v;
    CHECK_OK(tandem_kv_get(t, T_MAIN, "a", 1, &v, NULL));
    CHECK_OK(tandem_kv_put(t, 2, "b", 1, "2", 1, NULL));
    CHECK_OK(tandem_kv_commit(t, 10, NULL));
    tandem_kv_close(kv);
}

/* --- snapshots while another thread commits --- */

/* Deterministic content of position p, so any position's state can be
 * rebuilt: a rolling window of sequence keys and a few overwritten ones. */
static void apply_position(tandem_kv_txn *t, uint64_t p)
{
    char key[32];
    uint8_t val[8];
    tandem_store_u64(val, p * 31);
    snprintf(key, sizeof(key), "seq%06llu", (unsigned long long)p);
    CHECK_OK(tandem_kv_put(t, T_MAIN, key, strlen(key), val, 8, NULL));
    snprintf(key, sizeof(key), "hot%llu", (unsigned long long)(p % 7));
    CHECK_OK(tandem_kv_put(t, T_EXTRA, key, strlen(key), val, 8, NULL));
    if (p > 20) {
        snprintf(key, sizeof(key), "seq%06llu", (unsigned long long)(p - 20));
        CHECK_OK(tandem_kv_del(t, T_MAIN, key, strlen(key), NULL));
    }
}

typedef struct writer_arg {
    tandem_kv *kv;
    atomic_bool stop;
    atomic_uint_fast64_t committed;
    int failed;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    for (uint64_t pos = 1; !atomic_load(&w->stop) && pos < 100000; pos++) {
        tandem_kv_txn *t = NULL;
        if (tandem_kv_begin_write(w->kv, &t, NULL) != TANDEM_OK) {
            w->failed = 1;
            break;
        }
        /* a few positions per transaction: the group commit */
        apply_position(t, pos);
        if (pos % 3 != 0) {
            tandem_kv_abort(t);
            /* re-apply in the next group: rebuild this one and the next together */
            if (tandem_kv_begin_write(w->kv, &t, NULL) != TANDEM_OK) {
                w->failed = 1;
                break;
            }
            apply_position(t, pos);
            apply_position(t, pos + 1);
            pos++;
        }
        if (tandem_kv_commit(t, pos, NULL) != TANDEM_OK) {
            w->failed = 1;
            break;
        }
        atomic_store(&w->committed, pos);
    }
    return NULL;
}

static void test_snapshot_during_writes(void)
{
    const char *dir = fresh_dir();
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(open_kv(dir, &kv, &d), d);
    writer_arg w;
    w.kv = kv;
    atomic_init(&w.stop, false);
    atomic_init(&w.committed, 0);
    w.failed = 0;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, writer_main, &w) == 0);
    tandem_fileops *ops = tandem_fileops_posix();
    uint64_t snaps = test_iterations(5);
    uint64_t positions[64];
    CHECK(snaps <= 64);
    char path[4200];
    for (uint64_t s = 0; s < snaps; s++) {
        while (atomic_load(&w.committed) < 5 * (s + 1)) {
            usleep(200);
        }
        snprintf(path, sizeof(path), "%s/snap-%llu", test_tmpdir(), (unsigned long long)s);
        CHECK_OKD(tandem_kv_snapshot(kv, ops, path, &positions[s], &d), d);
        CHECK(positions[s] > 0);
    }
    atomic_store(&w.stop, true);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(w.failed == 0);
    CHECK(positions[snaps - 1] > positions[0] || snaps == 1);
    for (uint64_t s = 0; s < snaps; s++) {
        snprintf(path, sizeof(path), "%s/snap-%llu", test_tmpdir(), (unsigned long long)s);
        tandem_kv_options o = {TABLES, 2, 0};
        tandem_kv *restored = NULL;
        tandem_kv *expected = NULL;
        CHECK_OK(tandem_kv_open_mem(&o, &restored, NULL));
        CHECK_OK(tandem_kv_open_mem(&o, &expected, NULL));
        CHECK_OKD(tandem_kv_restore(restored, ops, path, &d), d);
        CHECK_EQ_U64(positions[s], tandem_kv_applied_position(restored));
        tandem_kv_txn *t = NULL;
        CHECK_OK(tandem_kv_begin_write(expected, &t, NULL));
        for (uint64_t p = 1; p <= positions[s]; p++) {
            apply_position(t, p);
        }
        CHECK_OK(tandem_kv_commit(t, positions[s], NULL));
        uint64_t a[2];
        uint64_t b[2];
        CHECK_OK(tandem_kv_digest(restored, a, NULL));
        CHECK_OK(tandem_kv_digest(expected, b, NULL));
        CHECK_MSG(a[0] == b[0] && a[1] == b[1], "snapshot %llu at position %llu differs",
                  (unsigned long long)s, (unsigned long long)positions[s]);
        tandem_kv_close(restored);
        tandem_kv_close(expected);
    }
    tandem_kv_close(kv);
}

static const tandem_test cases[] = {
    {"killed_mid_transaction", test_killed_mid_transaction},
    {"killed_at_random_time", test_killed_at_random_time},
    {"map_full_message", test_map_full_message},
    {"damaged_file_refused", test_damaged_file_refused},
    {"missing_directory", test_missing_directory},
    {"newer_format_refused", test_newer_format_refused},
    {"reopen_with_more_tables", test_reopen_with_more_tables},
    {"snapshot_during_writes", test_snapshot_during_writes},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
