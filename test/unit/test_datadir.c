/* The data directory: creation, reopening, refusals with their messages,
 * and creation interrupted by a power loss at every step (faultfs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/error.h"
#include "base/faultfs.h"
#include "base/fileops.h"
#include "base/rand.h"
#include "state/datadir.h"
#include "test.h"

#define CHECK_OKD(expr, d)                                                                         \
    do {                                                                                           \
        int r__ = (expr);                                                                          \
        CHECK_MSG(r__ == 0, "%s returned %s: %s", #expr, tandem_errname(r__), (d).message);        \
    } while (0)

static char root[4096];

static const char *fresh_root(void)
{
    static int n;
    snprintf(root, sizeof(root), "%s/data-%d", test_tmpdir(), n++);
    return root;
}

static tandem_datadir_config cfg_of(const char *r, const char *cluster, uint32_t node,
                                    uint32_t partition)
{
    tandem_datadir_config c = {r, cluster, node, partition};
    return c;
}

static tandem_datadir *open_ok(tandem_fileops *ops, tandem_rand *rand,
                               const tandem_datadir_config *c)
{
    tandem_datadir *dd = NULL;
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_datadir_open(ops, rand, c, &dd, &d), d);
    CHECK(dd != NULL);
    return dd;
}

static int open_rc(tandem_fileops *ops, const tandem_datadir_config *c, tandem_diag *d)
{
    tandem_datadir *dd = NULL;
    int rc = tandem_datadir_open(ops, tandem_rand_real(), c, &dd, d);
    if (rc == TANDEM_OK) {
        tandem_datadir_close(dd);
    } else {
        CHECK(dd == NULL);
    }
    return rc;
}

static char *read_text(tandem_fileops *ops, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(tandem_file_read_all(ops, path, 4096, &data, &len));
    return (char *)data;
}

static void write_text(tandem_fileops *ops, const char *path, const char *text)
{
    CHECK_OK(tandem_file_write_atomic(ops, path, text, strlen(text)));
}

static void file_path(char *out, size_t cap, const tandem_datadir *dd, const char *name)
{
    snprintf(out, cap, "%s/%s", tandem_datadir_path(dd), name);
}

static void test_create_and_reopen(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "prod-eu", 2, 3);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    CHECK(tandem_datadir_created(dd));
    char want[4200];
    snprintf(want, sizeof(want), "%s/partition-3", root);
    CHECK_STREQ(want, tandem_datadir_path(dd));
    snprintf(want, sizeof(want), "%s/partition-3/journal", root);
    CHECK_STREQ(want, tandem_datadir_journal_path(dd));
    snprintf(want, sizeof(want), "%s/partition-3/state", root);
    CHECK_STREQ(want, tandem_datadir_state_path(dd));
    snprintf(want, sizeof(want), "%s/partition-3/snapshots", root);
    CHECK_STREQ(want, tandem_datadir_snapshots_path(dd));
    const char *subs[] = {tandem_datadir_journal_path(dd), tandem_datadir_state_path(dd),
                          tandem_datadir_snapshots_path(dd)};
    for (int i = 0; i < 3; i++) {
        bool is_dir = false;
        CHECK_OK(ops->stat(ops, subs[i], &is_dir));
        CHECK(is_dir);
    }
    CHECK_STREQ("prod-eu", tandem_datadir_cluster_name(dd));
    CHECK_EQ_U64(2, tandem_datadir_node_id(dd));
    CHECK_EQ_U64(3, tandem_datadir_partition_id(dd));

    /* the files, byte by byte */
    char path[4300];
    file_path(path, sizeof(path), dd, "FORMAT");
    char *text = read_text(ops, path);
    CHECK_STREQ("tandem-data 1\n", text);
    free(text);
    file_path(path, sizeof(path), dd, "IDENTITY");
    text = read_text(ops, path);
    char body[512];
    snprintf(body, sizeof(body),
             "tandem-identity 1\ncluster prod-eu\nnode 2\npartition 3\nincarnation %s\n",
             tandem_datadir_incarnation_hex(dd));
    char expect[600];
    snprintf(expect, sizeof(expect), "%scrc32c %08x\n", body, tandem_crc32c(0, body, strlen(body)));
    CHECK_STREQ(expect, text);
    free(text);

    char inc[40];
    snprintf(inc, sizeof(inc), "%s", tandem_datadir_incarnation_hex(dd));
    CHECK_EQ_U64(32, strlen(inc));
    const uint8_t *raw = tandem_datadir_incarnation(dd);
    char hex[3];
    snprintf(hex, sizeof(hex), "%02x", raw[15]);
    CHECK(memcmp(inc + 30, hex, 2) == 0);
    tandem_datadir_close(dd);

    /* reopen: same incarnation, nothing created; a trailing slash is fine */
    char with_slash[4200];
    snprintf(with_slash, sizeof(with_slash), "%s/", root);
    tandem_datadir_config c2 = cfg_of(with_slash, "prod-eu", 2, 3);
    dd = open_ok(ops, tandem_rand_real(), &c2);
    CHECK(!tandem_datadir_created(dd));
    CHECK_STREQ(inc, tandem_datadir_incarnation_hex(dd));
    tandem_datadir_close(dd);

    /* another partition of the same broker is another folder */
    tandem_datadir_config c3 = cfg_of(root, "prod-eu", 2, 4);
    dd = open_ok(ops, tandem_rand_real(), &c3);
    CHECK(tandem_datadir_created(dd));
    CHECK(strcmp(inc, tandem_datadir_incarnation_hex(dd)) != 0);
    tandem_datadir_close(dd);
}

static void test_documented_example(void)
{
    /* The IDENTITY example of docs/STATE_FORMAT.md, byte for byte. */
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "prod-eu", 2, 3);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char path[4300];
    file_path(path, sizeof(path), dd, "IDENTITY");
    tandem_datadir_close(dd);
    write_text(ops, path,
               "tandem-identity 1\ncluster prod-eu\nnode 2\npartition 3\n"
               "incarnation 5f0c8e1d2a7b4c9e0d1f2a3b4c5d6e7f\ncrc32c a3f0c9d0\n");
    dd = open_ok(ops, tandem_rand_real(), &c);
    CHECK_STREQ("5f0c8e1d2a7b4c9e0d1f2a3b4c5d6e7f", tandem_datadir_incarnation_hex(dd));
    CHECK_EQ_U64(0x5f, tandem_datadir_incarnation(dd)[0]);
    CHECK_EQ_U64(0x7f, tandem_datadir_incarnation(dd)[15]);
    tandem_datadir_close(dd);
}

static void test_incarnation_differs(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    char seen[8][40];
    for (int i = 0; i < 8; i++) {
        tandem_datadir_config c = cfg_of(fresh_root(), "c", 1, 1);
        tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
        snprintf(seen[i], sizeof(seen[i]), "%s", tandem_datadir_incarnation_hex(dd));
        for (int j = 0; j < i; j++) {
            CHECK(strcmp(seen[i], seen[j]) != 0);
        }
        tandem_datadir_close(dd);
    }
}

static void test_refuse_newer_format(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "c", 1, 1);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char path[4300];
    file_path(path, sizeof(path), dd, "FORMAT");
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", tandem_datadir_path(dd));
    tandem_datadir_close(dd);
    write_text(ops, path, "tandem-data 2\n");
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_EFORMAT, open_rc(ops, &c, &d));
    char msg[4400];
    snprintf(msg, sizeof(msg), "data directory %s has format version 2, this build reads up to 1",
             dir);
    CHECK_CONTAINS(d.message, msg);
    /* garbage in FORMAT is damage, not a version */
    const char *bad[] = {"tandem-data 0\n",
                         "tandem-data 1",
                         "tandem-data x\n",
                         "TANDEM-DATA 1\n",
                         "tandem-data 01\n",
                         "tandem-data 99999999999\n",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(ops, path, bad[i]);
        CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
        CHECK_CONTAINS(d.message, path);
        CHECK_CONTAINS(d.message, "is damaged");
    }
    write_text(ops, path, "tandem-data 1\n");
    CHECK_OKD(open_rc(ops, &c, &d), d);
}

static void test_refuse_other_owner(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "alpha", 1, 1);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", tandem_datadir_path(dd));
    tandem_datadir_close(dd);
    tandem_diag d = {0, ""};
    tandem_datadir_config other = cfg_of(root, "beta", 1, 1);
    CHECK_RC(TANDEM_ECLUSTER, open_rc(ops, &other, &d));
    CHECK_CONTAINS(d.message, dir);
    CHECK_CONTAINS(d.message, "cluster \"alpha\"");
    CHECK_CONTAINS(d.message, "cluster \"beta\"");
    other = cfg_of(root, "alpha", 7, 1);
    CHECK_RC(TANDEM_ECLUSTER, open_rc(ops, &other, &d));
    CHECK_CONTAINS(d.message, "belongs to node 1, this broker is node 7");
    /* an IDENTITY copied into another partition's folder */
    tandem_datadir_config p2 = cfg_of(root, "alpha", 1, 2);
    dd = open_ok(ops, tandem_rand_real(), &p2);
    char from[4300];
    char to[4300];
    snprintf(from, sizeof(from), "%s/IDENTITY", dir);
    file_path(to, sizeof(to), dd, "IDENTITY");
    tandem_datadir_close(dd);
    char *text = read_text(ops, from);
    write_text(ops, to, text);
    free(text);
    CHECK_RC(TANDEM_ECLUSTER, open_rc(ops, &p2, &d));
    CHECK_CONTAINS(d.message, "belongs to partition 1, expected partition 2");
    /* the right owner still opens */
    CHECK_OKD(open_rc(ops, &c, &d), d);
}

static void test_damaged_identity(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "c1", 5, 6);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char path[4300];
    file_path(path, sizeof(path), dd, "IDENTITY");
    tandem_datadir_close(dd);
    char *good = read_text(ops, path);
    size_t len = strlen(good);
    tandem_diag d = {0, ""};

    /* every single-character change is caught */
    for (size_t i = 0; i < len; i++) {
        char *bad = strdup(good);
        bad[i] = bad[i] == 'x' ? 'y' : 'x';
        write_text(ops, path, bad);
        free(bad);
        int rc = open_rc(ops, &c, &d);
        CHECK_MSG(rc == TANDEM_ECORRUPT, "byte %zu: %s", i, tandem_errname(rc));
        CHECK_CONTAINS(d.message, path);
        CHECK_CONTAINS(d.message, "is damaged");
    }
    /* a changed node id with a stale checksum */
    char *swapped = strdup(good);
    char *node = strstr(swapped, "node 5");
    CHECK(node != NULL);
    node[5] = '7';
    write_text(ops, path, swapped);
    free(swapped);
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "checksum");
    /* truncated, empty, extended */
    char cut[512];
    snprintf(cut, sizeof(cut), "%.*s", (int)(len / 2), good);
    write_text(ops, path, cut);
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    write_text(ops, path, "");
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "line 1");
    char longer[600];
    snprintf(longer, sizeof(longer), "%sextra\n", good);
    write_text(ops, path, longer);
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "after the checksum");
    char *huge = calloc(1, 2000);
    memset(huge, 'a', 1999);
    write_text(ops, path, huge);
    free(huge);
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "larger than");
    /* missing */
    CHECK_OK(ops->unlink(ops, path));
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "is missing");
    CHECK_CONTAINS(d.message, path);
    /* restored, it opens again */
    write_text(ops, path, good);
    CHECK_OKD(open_rc(ops, &c, &d), d);
    free(good);
}

static void test_missing_subdirectory(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "c", 1, 1);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char journal[4200];
    snprintf(journal, sizeof(journal), "%s", tandem_datadir_journal_path(dd));
    tandem_datadir_close(dd);
    test_rmtree(journal);
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, journal);
}

static void test_no_format(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_datadir_config c = cfg_of(fresh_root(), "c", 1, 1);
    tandem_datadir *dd = open_ok(ops, tandem_rand_real(), &c);
    char format[4300];
    char identity[4300];
    char segment[4300];
    file_path(format, sizeof(format), dd, "FORMAT");
    file_path(identity, sizeof(identity), dd, "IDENTITY");
    snprintf(segment, sizeof(segment), "%s/segment-1", tandem_datadir_journal_path(dd));
    tandem_datadir_close(dd);
    /* no FORMAT, but a stale IDENTITY of another cluster and no data: an
     * interrupted creation, done again */
    CHECK_OK(ops->unlink(ops, format));
    tandem_datadir_config other = cfg_of(root, "other", 9, 1);
    dd = open_ok(ops, tandem_rand_real(), &other);
    CHECK(tandem_datadir_created(dd));
    tandem_datadir_close(dd);
    /* no FORMAT but data: refused */
    CHECK_OK(ops->unlink(ops, format));
    write_text(ops, segment, "log bytes");
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ECORRUPT, open_rc(ops, &other, &d));
    CHECK_CONTAINS(d.message, "has data in");
    CHECK_CONTAINS(d.message, "but no FORMAT file");
    (void)identity;
}

static void test_bad_config(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_diag d = {0, ""};
    const char *names[] = {"", "has space", "slash/name", "new\nline",
                           "a23456789012345678901234567890123456789012345678901234567890123456"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        tandem_datadir_config c = cfg_of(fresh_root(), names[i], 1, 1);
        CHECK_RC(TANDEM_EINVAL, open_rc(ops, &c, &d));
        CHECK_CONTAINS(d.message, "cluster name");
    }
    tandem_datadir_config c = cfg_of("", "c", 1, 1);
    CHECK_RC(TANDEM_EINVAL, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "no root directory");
    /* the root's parent must exist */
    char deep[4200];
    snprintf(deep, sizeof(deep), "%s/no/such/parent", test_tmpdir());
    c = cfg_of(deep, "c", 1, 1);
    CHECK_RC(TANDEM_ENOENT, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, deep);
    /* a path too long */
    static char longroot[5000];
    memset(longroot, 'r', sizeof(longroot) - 1);
    c = cfg_of(longroot, "c", 1, 1);
    CHECK_RC(TANDEM_EINVAL, open_rc(ops, &c, &d));
    CHECK_CONTAINS(d.message, "too long");
}

/* --- power loss during creation --- */

static void test_crash_during_creation(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_datadir_config c = cfg_of("data", "crashy", 1, 2);
    uint64_t rounds = test_iterations(3);
    uint64_t crashed_points = 0;
    for (uint64_t round = 0; round < rounds; round++) {
        for (int64_t n = 0; n < 1000; n++) {
            tandem_faultfs *fs = NULL;
            CHECK_OK(tandem_faultfs_new(&r.base, &fs));
            tandem_fileops *ops = tandem_faultfs_ops(fs);
            tandem_faultfs_crash_after(fs, n);
            tandem_datadir *dd = NULL;
            tandem_diag d = {0, ""};
            int rc = tandem_datadir_open(ops, &r.base, &c, &dd, &d);
            char first[40] = "";
            if (rc == TANDEM_OK) {
                snprintf(first, sizeof(first), "%s", tandem_datadir_incarnation_hex(dd));
                tandem_datadir_close(dd);
            } else {
                CHECK_RC(TANDEM_EIO, rc);
                CHECK(d.message[0] != '\0');
                crashed_points++;
            }
            tandem_faultfs_crash(fs, (round + (uint64_t)n) % 2 == 0);
            /* after the power loss it opens: either what was made, or made anew */
            dd = NULL;
            CHECK_OKD(tandem_datadir_open(ops, &r.base, &c, &dd, &d), d);
            if (rc == TANDEM_OK) {
                /* a successful open was durable */
                CHECK(!tandem_datadir_created(dd));
                CHECK_STREQ(first, tandem_datadir_incarnation_hex(dd));
            }
            char second[40];
            snprintf(second, sizeof(second), "%s", tandem_datadir_incarnation_hex(dd));
            tandem_datadir_close(dd);
            /* and from then on it is stable, across another power loss */
            tandem_faultfs_crash(fs, true);
            dd = NULL;
            CHECK_OKD(tandem_datadir_open(ops, &r.base, &c, &dd, &d), d);
            CHECK(!tandem_datadir_created(dd));
            CHECK_STREQ(second, tandem_datadir_incarnation_hex(dd));
            tandem_datadir_close(dd);
            tandem_faultfs_free(fs);
            if (rc == TANDEM_OK) {
                break; /* every crash point was covered */
            }
        }
    }
    CHECK(crashed_points > 10 * rounds);
}

static void test_sync_failure_during_creation(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_datadir_config c = cfg_of("data", "c", 1, 1);
    for (int64_t nth = 1; nth <= 8; nth++) {
        tandem_faultfs *fs = NULL;
        CHECK_OK(tandem_faultfs_new(&r.base, &fs));
        tandem_fileops *ops = tandem_faultfs_ops(fs);
        tandem_faultfs_fail_sync(fs, nth);
        tandem_datadir *dd = NULL;
        tandem_diag d = {0, ""};
        int rc = tandem_datadir_open(ops, &r.base, &c, &dd, &d);
        tandem_faultfs_stats st;
        tandem_faultfs_stats_get(fs, &st);
        if (st.failed_syncs > 0) {
            CHECK_RC(TANDEM_EIO, rc);
            CHECK_CONTAINS(d.message, "data/partition-1/");
        } else {
            CHECK_OK(rc);
            tandem_datadir_close(dd);
        }
        /* the broker stops; after restart the folder opens */
        tandem_faultfs_crash(fs, false);
        CHECK_OKD(tandem_datadir_open(ops, &r.base, &c, &dd, &d), d);
        tandem_datadir_close(dd);
        tandem_faultfs_free(fs);
    }
}

static void test_bit_flip_in_identity(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_faultfs *fs = NULL;
    CHECK_OK(tandem_faultfs_new(&r.base, &fs));
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    tandem_datadir_config c = cfg_of("data", "c", 1, 1);
    tandem_datadir *dd = open_ok(ops, &r.base, &c);
    tandem_datadir_close(dd);
    uint64_t off = tandem_rand_below(&r.base, 60);
    CHECK_OK(tandem_faultfs_flip_bit(fs, "data/partition-1/IDENTITY", off,
                                     (unsigned)tandem_rand_below(&r.base, 8)));
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ECORRUPT, tandem_datadir_open(ops, &r.base, &c, &dd, &d));
    CHECK_CONTAINS(d.message, "identity file data/partition-1/IDENTITY is damaged");
    tandem_faultfs_free(fs);
}

static const tandem_test cases[] = {
    {"create_and_reopen", test_create_and_reopen},
    {"documented_example", test_documented_example},
    {"incarnation_differs", test_incarnation_differs},
    {"refuse_newer_format", test_refuse_newer_format},
    {"refuse_other_owner", test_refuse_other_owner},
    {"damaged_identity", test_damaged_identity},
    {"missing_subdirectory", test_missing_subdirectory},
    {"no_format", test_no_format},
    {"bad_config", test_bad_config},
    {"crash_during_creation", test_crash_during_creation},
    {"sync_failure_during_creation", test_sync_failure_during_creation},
    {"bit_flip_in_identity", test_bit_flip_in_identity},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
