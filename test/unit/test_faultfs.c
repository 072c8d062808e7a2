/* Tests of the power-loss file system the crash tests rely on: if it stops
 * losing what a real power loss loses, every crash test would pass vacuously. */
#include "base/error.h"
#include "base/faultfs.h"
#include "test.h"

typedef struct fixture {
    tandem_seeded_rand rand;
    tandem_faultfs *fs;
    tandem_fileops *ops;
} fixture;

static void setup(fixture *f, uint64_t seed)
{
    tandem_seeded_rand_init(&f->rand, seed);
    CHECK_OK(tandem_faultfs_new(&f->rand.base, &f->fs));
    f->ops = tandem_faultfs_ops(f->fs);
}

static void teardown(fixture *f)
{
    tandem_faultfs_free(f->fs);
}

static size_t read_file(fixture *f, const char *path, char *out, size_t cap)
{
    int fd;
    CHECK_OK(f->ops->open(f->ops, path, TANDEM_OPEN_READ, &fd));
    size_t n = 0;
    CHECK_OK(f->ops->pread(f->ops, fd, out, cap, 0, &n));
    CHECK_OK(f->ops->close(f->ops, fd));
    return n;
}

static int write_file(fixture *f, const char *path, const char *text, bool sync)
{
    int fd;
    int rc = f->ops->open(f->ops, path, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = f->ops->pwrite(f->ops, fd, text, strlen(text), 0);
    if (rc == TANDEM_OK && sync) {
        rc = f->ops->sync(f->ops, fd);
    }
    f->ops->close(f->ops, fd);
    return rc;
}

static void test_synced_data_and_names_survive(void)
{
    fixture f;
    setup(&f, 1);
    CHECK_OK(f.ops->mkdir(f.ops, "d"));
    CHECK_OK(f.ops->sync_dir(f.ops, "."));
    CHECK_OK(write_file(&f, "d/a", "durable", true));
    CHECK_OK(f.ops->sync_dir(f.ops, "d"));
    tandem_faultfs_crash(f.fs, true);
    char buf[64];
    CHECK_EQ_U64(7, read_file(&f, "d/a", buf, sizeof(buf)));
    CHECK(memcmp(buf, "durable", 7) == 0);
    teardown(&f);
}

static void test_unsynced_name_is_lost(void)
{
    fixture f;
    setup(&f, 2);
    CHECK_OK(write_file(&f, "a", "synced data, name not synced", true));
    tandem_faultfs_crash(f.fs, false);
    bool is_dir;
    CHECK_RC(TANDEM_ENOENT, f.ops->stat(f.ops, "a", &is_dir));
    teardown(&f);
}

static void test_unsynced_data_dropped(void)
{
    fixture f;
    setup(&f, 3);
    CHECK_OK(write_file(&f, "a", "one", true));
    CHECK_OK(f.ops->sync_dir(f.ops, "."));
    int fd;
    CHECK_OK(f.ops->open(f.ops, "a", TANDEM_OPEN_WRITE, &fd));
    CHECK_OK(f.ops->pwrite(f.ops, fd, "two-more", 8, 3));
    uint64_t size;
    CHECK_OK(f.ops->size(f.ops, fd, &size));
    CHECK_EQ_U64(11, size); /* the cache sees it */
    tandem_faultfs_crash(f.fs, true);
    char buf[64];
    CHECK_EQ_U64(3, read_file(&f, "a", buf, sizeof(buf)));
    teardown(&f);
}

static void test_rename_needs_dir_sync(void)
{
    fixture f;
    setup(&f, 4);
    CHECK_OK(write_file(&f, "old", "v1", true));
    CHECK_OK(f.ops->sync_dir(f.ops, "."));
    CHECK_OK(write_file(&f, "tmp", "v2", true));
    CHECK_OK(f.ops->rename(f.ops, "tmp", "old"));
    tandem_faultfs_crash(f.fs, true);
    char buf[8];
    CHECK_EQ_U64(2, read_file(&f, "old", buf, sizeof(buf)));
    CHECK(memcmp(buf, "v1", 2) == 0); /* rename was not durable */

    CHECK_OK(tandem_file_write_atomic(f.ops, "old", "v3", 2));
    tandem_faultfs_crash(f.fs, true);
    CHECK_EQ_U64(2, read_file(&f, "old", buf, sizeof(buf)));
    CHECK(memcmp(buf, "v3", 2) == 0);
    bool is_dir;
    CHECK_RC(TANDEM_ENOENT, f.ops->stat(f.ops, "old.tmp", &is_dir));
    teardown(&f);
}

static void test_crash_outcomes_vary(void)
{
    /* over many crashes, unsynced writes are kept, torn and dropped */
    fixture f;
    setup(&f, test_seed());
    CHECK_OK(write_file(&f, "a", "", true));
    CHECK_OK(f.ops->sync_dir(f.ops, "."));
    for (int i = 0; i < 200; i++) {
        int fd;
        CHECK_OK(f.ops->open(f.ops, "a", TANDEM_OPEN_WRITE, &fd));
        CHECK_OK(f.ops->truncate(f.ops, fd, 0));
        CHECK_OK(f.ops->sync(f.ops, fd));
        CHECK_OK(f.ops->pwrite(f.ops, fd, "0123456789", 10, 0));
        tandem_faultfs_crash(f.fs, false);
        char buf[16];
        size_t n = read_file(&f, "a", buf, sizeof(buf));
        CHECK(n <= 10);
        CHECK(memcmp(buf, "0123456789", n) == 0); /* a prefix, never garbage */
    }
    tandem_faultfs_stats st;
    tandem_faultfs_stats_get(f.fs, &st);
    CHECK(st.kept_writes > 0);
    CHECK(st.torn_writes > 0);
    CHECK(st.dropped_writes > 0);
    CHECK_EQ_U64(200, st.crashes);
    teardown(&f);
}

static void test_crash_after_kills_everything(void)
{
    fixture f;
    setup(&f, 5);
    tandem_faultfs_crash_after(f.fs, 2);
    int fd;
    CHECK_OK(f.ops->open(f.ops, "a", TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd));
    CHECK_OK(f.ops->pwrite(f.ops, fd, "x", 1, 0));
    CHECK_RC(TANDEM_EIO, f.ops->sync(f.ops, fd));
    CHECK_RC(TANDEM_EIO, f.ops->mkdir(f.ops, "d"));
    CHECK_OK(f.ops->close(f.ops, fd)); /* handles can always be released */
    tandem_faultfs_crash(f.fs, false);
    bool is_dir;
    CHECK_RC(TANDEM_ENOENT, f.ops->stat(f.ops, "a", &is_dir));
    CHECK_OK(f.ops->mkdir(f.ops, "d")); /* alive again */
    teardown(&f);
}

static void test_failed_sync_loses_data(void)
{
    fixture f;
    setup(&f, 6);
    CHECK_OK(write_file(&f, "a", "base", true));
    CHECK_OK(f.ops->sync_dir(f.ops, "."));
    tandem_faultfs_fail_sync(f.fs, 1);
    int fd;
    CHECK_OK(f.ops->open(f.ops, "a", TANDEM_OPEN_WRITE, &fd));
    CHECK_OK(f.ops->pwrite(f.ops, fd, "LOST", 4, 4));
    CHECK_RC(TANDEM_EIO, f.ops->sync(f.ops, fd));
    char buf[16];
    size_t n = 0;
    CHECK_OK(f.ops->pread(f.ops, fd, buf, sizeof(buf), 0, &n));
    CHECK_EQ_U64(8, n);               /* still readable from the cache */
    CHECK_OK(f.ops->sync(f.ops, fd)); /* a later sync "succeeds" but cannot bring it back */
    CHECK_OK(f.ops->close(f.ops, fd));
    tandem_faultfs_crash(f.fs, false);
    CHECK_EQ_U64(4, read_file(&f, "a", buf, sizeof(buf)));
    tandem_faultfs_stats st;
    tandem_faultfs_stats_get(f.fs, &st);
    CHECK_EQ_U64(1, st.failed_syncs);
    teardown(&f);
}

static void test_failed_write_enospc(void)
{
    fixture f;
    setup(&f, 7);
    tandem_faultfs_fail_write(f.fs, 2);
    int fd;
    CHECK_OK(f.ops->open(f.ops, "a", TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd));
    CHECK_OK(f.ops->pwrite(f.ops, fd, "abc", 3, 0));
    CHECK_RC(TANDEM_ENOSPC, f.ops->pwrite(f.ops, fd, "defghij", 7, 3));
    uint64_t size;
    CHECK_OK(f.ops->size(f.ops, fd, &size));
    CHECK(size >= 3 && size < 10);                 /* a strict prefix of the failed write */
    CHECK_OK(f.ops->pwrite(f.ops, fd, "k", 1, 0)); /* armed once */
    CHECK_OK(f.ops->close(f.ops, fd));
    teardown(&f);
}

static void test_names_and_listing(void)
{
    fixture f;
    setup(&f, 8);
    CHECK_RC(TANDEM_ENOENT, write_file(&f, "nodir/a", "x", false));
    CHECK_OK(f.ops->mkdir(f.ops, "d"));
    CHECK_RC(TANDEM_EEXIST, f.ops->mkdir(f.ops, "d"));
    CHECK_OK(write_file(&f, "d/a", "x", false));
    CHECK_OK(write_file(&f, "d/b", "y", false));
    int fd;
    CHECK_RC(
        TANDEM_EEXIST,
        f.ops->open(f.ops, "d/a", TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE | TANDEM_OPEN_EXCL, &fd));
    CHECK_RC(TANDEM_EINVAL, f.ops->open(f.ops, "d", TANDEM_OPEN_READ, &fd));
    CHECK_OK(f.ops->unlink(f.ops, "d/a"));
    CHECK_RC(TANDEM_ENOENT, f.ops->unlink(f.ops, "d/a"));
    bool is_dir = false;
    CHECK_OK(f.ops->stat(f.ops, "d", &is_dir));
    CHECK(is_dir);
    CHECK_OK(f.ops->stat(f.ops, "d/b", &is_dir));
    CHECK(!is_dir);
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, "d/b", 0, 0));
    char buf[4];
    CHECK_EQ_U64(1, read_file(&f, "d/b", buf, sizeof(buf)));
    CHECK_EQ_U64('y' ^ 1, (uint8_t)buf[0]);
    CHECK_RC(TANDEM_ERANGE, tandem_faultfs_flip_bit(f.fs, "d/b", 1, 0));
    teardown(&f);
}

static const tandem_test cases[] = {
    {"synced_data_and_names_survive", test_synced_data_and_names_survive},
    {"unsynced_name_is_lost", test_unsynced_name_is_lost},
    {"unsynced_data_dropped", test_unsynced_data_dropped},
    {"rename_needs_dir_sync", test_rename_needs_dir_sync},
    {"crash_outcomes_vary", test_crash_outcomes_vary},
    {"crash_after_kills_everything", test_crash_after_kills_everything},
    {"failed_sync_loses_data", test_failed_sync_loses_data},
    {"failed_write_enospc", test_failed_write_enospc},
    {"names_and_listing", test_names_and_listing},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
