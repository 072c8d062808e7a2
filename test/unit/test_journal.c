/* Tests of the journal's contract without crashes: round trips across
 * segments, group commit, truncation, compaction, reset, the term/vote file,
 * argument errors, damage found by open and by read, and inspect. The crash
 * tests are in test_journal_crash.c. */
#include <stdlib.h>

#include "base/fileops.h"
#include "journal/journal_int.h"
#include "test_journal_util.h"

#define MODEL_MAX 4096

typedef struct model_entry {
    uint64_t term;
    uint64_t gen;
    size_t size;
} model_entry;

static model_entry model[MODEL_MAX + 1];

/* Appends n entries of random sizes, terms growing now and then, flushing
 * in random groups; returns the last index. */
static uint64_t fill(tandem_journal *j, tandem_seeded_rand *r, uint64_t n, uint64_t *term)
{
    uint64_t last = tandem_journal_last_index(j);
    for (uint64_t i = 0; i < n; i++) {
        if (tandem_rand_chance(&r->base, 1, 20)) {
            (*term)++;
        }
        size_t size = (size_t)tandem_rand_below(&r->base, 1001);
        uint64_t gen = tandem_rand_u64(&r->base);
        uint64_t index = jf_append(j, *term, gen, size);
        CHECK_EQ_U64(last + 1, index);
        CHECK(index <= MODEL_MAX);
        model[index] = (model_entry){*term, gen, size};
        last = index;
        if (tandem_rand_chance(&r->base, 1, 8)) {
            CHECK_OK(tandem_journal_flush(j, NULL));
            CHECK_EQ_U64(last, tandem_journal_durable_index(j));
        }
    }
    return last;
}

static void check_all(tandem_journal *j)
{
    for (uint64_t i = tandem_journal_first_index(j); i <= tandem_journal_last_index(j); i++) {
        CHECK_MSG(jf_entry_is(j, i, model[i].term, model[i].gen, model[i].size),
                  "entry %" PRIu64 " differs", i);
        uint64_t term = 0;
        CHECK_OK(tandem_journal_term_at(j, i, &term));
        CHECK_EQ_U64(model[i].term, term);
    }
}

typedef struct count_acc {
    size_t segments;
    size_t other;
} count_acc;

static int count_cb(void *arg, const char *name)
{
    count_acc *acc = arg;
    uint64_t number;
    if (journal_segment_name_parse(name, &number) == 1) {
        acc->segments++;
    } else {
        acc->other++;
    }
    return 0;
}

static size_t count_segments(tandem_fileops *ops, const char *dir)
{
    count_acc acc = {0, 0};
    CHECK_OK(ops->list(ops, dir, count_cb, &acc));
    return acc.segments;
}

static void test_roundtrip_many_segments(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    CHECK_EQ_U64(1, tandem_journal_first_index(j));
    CHECK_EQ_U64(0, tandem_journal_last_index(j));
    uint64_t term0 = 99;
    CHECK_OK(tandem_journal_term_at(j, 0, &term0));
    CHECK_EQ_U64(0, term0);
    uint64_t term = 1;
    uint64_t last = fill(j, &f.rand, 600, &term);
    check_all(j); /* before any reopen: from files and from the pending buffer */
    CHECK_OK(tandem_journal_flush(j, NULL));
    CHECK_EQ_U64(last, tandem_journal_durable_index(j));
    tandem_journal_close(j);
    CHECK(count_segments(f.ops, JDIR) > 20);

    j = jf_open(&f, &o);
    CHECK_EQ_U64(1, tandem_journal_first_index(j));
    CHECK_EQ_U64(last, tandem_journal_last_index(j));
    CHECK_EQ_U64(last, tandem_journal_durable_index(j));
    check_all(j);
    /* reads in random order exercise the cached read handle */
    for (int k = 0; k < 200; k++) {
        uint64_t i = 1 + tandem_rand_below(&f.rand.base, last);
        CHECK(jf_entry_is(j, i, model[i].term, model[i].gen, model[i].size));
    }
    /* appending continues the sequence after a reopen */
    CHECK_EQ_U64(last + 1, jf_append(j, term, 5, 10));
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* The same on the real file system, to check the posix path too. */
static void test_roundtrip_posix(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/journal", test_tmpdir());
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = NULL;
    CHECK_OK(tandem_journal_open(ops, dir, &o, &j, NULL));
    uint64_t term = 1;
    uint64_t last = fill(j, &r, 300, &term);
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    CHECK_OK(tandem_journal_open(ops, dir, &o, &j, NULL));
    CHECK_EQ_U64(last, tandem_journal_last_index(j));
    check_all(j);
    CHECK_OK(tandem_journal_truncate_from(j, 100, NULL));
    CHECK_OK(tandem_journal_compact_below(j, 50, NULL));
    CHECK(tandem_journal_first_index(j) <= 50);
    tandem_journal_close(j);
    CHECK_OK(tandem_journal_open(ops, dir, &o, &j, NULL));
    CHECK_EQ_U64(99, tandem_journal_last_index(j));
    check_all(j);
    tandem_journal_close(j);
}

static void test_group_commit_one_fsync(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o;
    tandem_journal_options_default(&o); /* large segments: no sealing in between */
    tandem_journal *j = jf_open(&f, &o);
    tandem_faultfs_stats before;
    tandem_faultfs_stats_get(f.fs, &before);
    for (uint64_t i = 1; i <= 300; i++) {
        CHECK_EQ_U64(i, jf_append(j, 1, i, 100 + (size_t)(i % 50)));
        CHECK_EQ_U64(0, tandem_journal_durable_index(j));
    }
    tandem_faultfs_stats mid;
    tandem_faultfs_stats_get(f.fs, &mid);
    CHECK_EQ_U64(before.syncs, mid.syncs);
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_faultfs_stats after;
    tandem_faultfs_stats_get(f.fs, &after);
    CHECK_EQ_U64(before.syncs + 1, after.syncs);
    CHECK_EQ_U64(300, tandem_journal_durable_index(j));
    CHECK_OK(tandem_journal_flush(j, NULL)); /* nothing new: no fsync */
    tandem_faultfs_stats_get(f.fs, &after);
    CHECK_EQ_U64(before.syncs + 1, after.syncs);
    /* what flush made durable survives a power loss that drops the rest */
    jf_append(j, 1, 301, 10);
    tandem_journal_close(j);
    tandem_faultfs_crash(f.fs, true);
    j = jf_open(&f, &o);
    CHECK_EQ_U64(300, tandem_journal_last_index(j));
    CHECK(jf_entry_is(j, 300, 1, 300, 100));
    tandem_journal_close(j);
    jf_teardown(&f);
}

static void test_truncate_then_append(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    uint64_t term = 1;
    uint64_t last = fill(j, &f.rand, 200, &term);
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_diag d;
    CHECK_RC(TANDEM_ERANGE, tandem_journal_truncate_from(j, 0, &d));
    CHECK_CONTAINS(d.message, "outside");
    CHECK_RC(TANDEM_ERANGE, tandem_journal_truncate_from(j, last + 2, NULL));
    CHECK_OK(tandem_journal_truncate_from(j, last + 1, NULL)); /* nothing to do */
    CHECK_EQ_U64(last, tandem_journal_last_index(j));

    /* across segments, from the middle of an earlier one */
    CHECK_OK(tandem_journal_truncate_from(j, 57, NULL));
    CHECK_EQ_U64(56, tandem_journal_last_index(j));
    CHECK_EQ_U64(56, tandem_journal_durable_index(j));
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    CHECK_RC(TANDEM_ERANGE, tandem_journal_read(j, 57, &e, &b, NULL));
    term++;
    last = fill(j, &f.rand, 100, &term);
    CHECK_EQ_U64(156, last);
    check_all(j);

    /* inside entries that were never written (pending only) */
    CHECK_OK(tandem_journal_flush(j, NULL));
    for (uint64_t i = 0; i < 5; i++) {
        uint64_t index = jf_append(j, term, 1000 + i, 20);
        model[index] = (model_entry){term, 1000 + i, 20};
    }
    CHECK_OK(tandem_journal_truncate_from(j, 159, NULL));
    CHECK_EQ_U64(158, tandem_journal_last_index(j));
    /* 156 unless an append filled the segment: a full segment is fsynced
     * before the next one starts, which makes what it holds durable */
    CHECK(tandem_journal_durable_index(j) >= 156 && tandem_journal_durable_index(j) <= 158);
    CHECK_OK(tandem_journal_flush(j, NULL));
    check_all(j);

    /* the truncation is durable: a crash that drops everything unsynced
     * brings nothing back */
    CHECK_OK(tandem_journal_truncate_from(j, 120, NULL));
    tandem_journal_close(j);
    tandem_faultfs_crash(f.fs, true);
    j = jf_open(&f, &o);
    CHECK_EQ_U64(119, tandem_journal_last_index(j));
    check_all(j);

    /* everything, down to an empty log that still knows its start */
    CHECK_OK(tandem_journal_truncate_from(j, 1, NULL));
    CHECK_EQ_U64(0, tandem_journal_last_index(j));
    CHECK_EQ_U64(1, jf_append(j, term, 7, 7));
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    j = jf_open(&f, &o);
    CHECK_EQ_U64(1, tandem_journal_last_index(j));
    CHECK(jf_entry_is(j, 1, term, 7, 7));
    CHECK_EQ_U64(1, count_segments(f.ops, JDIR));
    tandem_buf_free(&b);
    tandem_journal_close(j);
    jf_teardown(&f);
}

static void test_compact(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    uint64_t term = 1;
    uint64_t last = fill(j, &f.rand, 400, &term);
    CHECK_OK(tandem_journal_flush(j, NULL));
    size_t before = count_segments(f.ops, JDIR);
    CHECK_OK(tandem_journal_compact_below(j, 1, NULL)); /* nothing below 1 */
    CHECK_EQ_U64(1, tandem_journal_first_index(j));
    CHECK_OK(tandem_journal_compact_below(j, 200, NULL));
    uint64_t first = tandem_journal_first_index(j);
    CHECK(first > 1 && first <= 200);
    CHECK(count_segments(f.ops, JDIR) < before);
    uint64_t prev_term = 0;
    CHECK_OK(tandem_journal_term_at(j, first - 1, &prev_term));
    CHECK_EQ_U64(model[first - 1].term, prev_term);
    CHECK_RC(TANDEM_ERANGE, tandem_journal_term_at(j, first - 2, &prev_term));
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    CHECK_RC(TANDEM_ERANGE, tandem_journal_read(j, first - 1, &e, &b, NULL));
    check_all(j);
    /* the active segment is never deleted, even when everything is below */
    CHECK_OK(tandem_journal_compact_below(j, last + 100, NULL));
    CHECK_EQ_U64(1, count_segments(f.ops, JDIR));
    CHECK_EQ_U64(last, tandem_journal_last_index(j));
    first = tandem_journal_first_index(j);
    tandem_journal_close(j);
    j = jf_open(&f, &o);
    CHECK_EQ_U64(first, tandem_journal_first_index(j));
    CHECK_EQ_U64(last, tandem_journal_last_index(j));
    CHECK_OK(tandem_journal_term_at(j, first - 1, &prev_term));
    CHECK_EQ_U64(model[first - 1].term, prev_term);
    check_all(j);
    tandem_buf_free(&b);
    tandem_journal_close(j);
    jf_teardown(&f);
}

static void test_reset(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    uint64_t term = 1;
    fill(j, &f.rand, 100, &term);
    CHECK_RC(TANDEM_EINVAL, tandem_journal_reset(j, 0, 1, NULL));
    CHECK_OK(tandem_journal_reset(j, 1000, 7, NULL));
    CHECK_EQ_U64(1000, tandem_journal_first_index(j));
    CHECK_EQ_U64(999, tandem_journal_last_index(j));
    CHECK_EQ_U64(999, tandem_journal_durable_index(j));
    uint64_t t = 0;
    CHECK_OK(tandem_journal_term_at(j, 999, &t));
    CHECK_EQ_U64(7, t);
    CHECK_EQ_U64(1, count_segments(f.ops, JDIR));
    tandem_diag d;
    CHECK_RC(TANDEM_EINVAL, tandem_journal_append(j, 6, TANDEM_JOURNAL_DATA, "x", 1, &t, &d));
    CHECK_CONTAINS(d.message, "below");
    CHECK_EQ_U64(1000, jf_append(j, 8, 42, 30));
    tandem_journal_close(j);
    tandem_faultfs_crash(f.fs, true);
    j = jf_open(&f, &o);
    CHECK_EQ_U64(1000, tandem_journal_first_index(j));
    CHECK_EQ_U64(999, tandem_journal_last_index(j)); /* 1000 was never flushed */
    CHECK_OK(tandem_journal_term_at(j, 999, &t));
    CHECK_EQ_U64(7, t);
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* A crash at every step of a reset leaves the old log or the new one. */
static void test_reset_crash(void)
{
    for (int64_t n = 0; n < 40; n++) {
        jfixture f;
        jf_setup(&f, test_seed() + (uint64_t)n);
        tandem_journal_options o = jf_small_options();
        tandem_journal *j = jf_open(&f, &o);
        for (uint64_t i = 1; i <= 200; i++) {
            jf_append(j, 2, i, 50);
        }
        CHECK_OK(tandem_journal_flush(j, NULL));
        tandem_faultfs_crash_after(f.fs, n);
        int rc = tandem_journal_reset(j, 5000, 3, NULL);
        tandem_journal_close(j);
        tandem_faultfs_crash(f.fs, false);
        j = jf_open(&f, &o);
        if (tandem_journal_first_index(j) == 1) {
            CHECK(rc != TANDEM_OK);
            CHECK_EQ_U64(200, tandem_journal_last_index(j));
            CHECK(jf_entry_is(j, 200, 2, 200, 50));
        } else {
            CHECK_EQ_U64(5000, tandem_journal_first_index(j));
            CHECK_EQ_U64(4999, tandem_journal_last_index(j));
            CHECK_EQ_U64(1, count_segments(f.ops, JDIR));
        }
        tandem_journal_close(j);
        jf_teardown(&f);
    }
}

static void test_meta_roundtrip_and_damage(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal *j = jf_open(&f, NULL);
    tandem_journal_meta m = tandem_journal_meta_get(j);
    CHECK_EQ_U64(0, m.term);
    CHECK_EQ_U64(TANDEM_JOURNAL_NO_VOTE, m.voted_for);
    CHECK_OK(tandem_journal_meta_set(j, 5, 2, NULL));
    CHECK_OK(tandem_journal_meta_set(j, 6, TANDEM_JOURNAL_NO_VOTE, NULL));
    CHECK_OK(tandem_journal_meta_set(j, 7, 3, NULL));
    tandem_journal_close(j);
    tandem_faultfs_crash(f.fs, false); /* durable before meta_set returned */
    j = jf_open(&f, NULL);
    m = tandem_journal_meta_get(j);
    CHECK_EQ_U64(7, m.term);
    CHECK_EQ_U64(3, m.voted_for);
    tandem_journal_close(j);

    /* by path */
    tandem_journal_meta m2;
    tandem_diag d;
    CHECK_OK(tandem_journal_meta_load(f.ops, JDIR "/raft-meta", &m2, &d));
    CHECK_EQ_U64(7, m2.term);
    CHECK_RC(TANDEM_ENOENT, tandem_journal_meta_load(f.ops, JDIR "/nothing", &m2, &d));
    CHECK_CONTAINS(d.message, "nothing");

    /* a flipped bit anywhere is noticed and the file named */
    for (uint64_t off = 0; off < 36; off += 5) {
        CHECK_OK(tandem_faultfs_flip_bit(f.fs, JDIR "/raft-meta", off, (unsigned)(off % 8)));
        tandem_journal *bad = NULL;
        int rc = tandem_journal_open(f.ops, JDIR, NULL, &bad, &d);
        CHECK_MSG(rc == TANDEM_ECORRUPT || (off >= 8 && off < 12 && rc == TANDEM_EFORMAT),
                  "offset %" PRIu64 ": %s", off, tandem_errname(rc));
        CHECK(bad == NULL);
        CHECK_CONTAINS(d.message, JDIR "/raft-meta");
        CHECK_OK(tandem_faultfs_flip_bit(f.fs, JDIR "/raft-meta", off, (unsigned)(off % 8)));
    }
    /* a short file */
    CHECK_OK(tandem_file_write_atomic(f.ops, JDIR "/raft-meta", "TNDMMETA", 8));
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_meta_load(f.ops, JDIR "/raft-meta", &m2, &d));
    CHECK_CONTAINS(d.message, "8 bytes, expected 36");
    jf_teardown(&f);
}

static void test_argument_errors(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_diag d;
    tandem_journal *j = NULL;
    tandem_journal_options o = jf_small_options();
    o.segment_size_bytes = 100;
    CHECK_RC(TANDEM_EINVAL, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "segment_size_bytes 100");
    o = jf_small_options();
    o.entry_size_bytes_max = 5000;
    CHECK_RC(TANDEM_EINVAL, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "entry_size_bytes_max 5000");
    o = jf_small_options();
    o.write_buffer_bytes = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "write_buffer_bytes");
    CHECK_RC(TANDEM_EINVAL, tandem_journal_open(f.ops, "", NULL, &j, &d));
    CHECK(j == NULL);

    o = jf_small_options();
    j = jf_open(&f, &o);
    uint8_t big[2048] = {0};
    uint64_t index = 0;
    CHECK_RC(TANDEM_ETOOBIG,
             tandem_journal_append(j, 1, TANDEM_JOURNAL_DATA, big, 1025, &index, &d));
    CHECK_CONTAINS(d.message, "1025 bytes");
    CHECK_RC(TANDEM_EINVAL, tandem_journal_append(j, 1, 0, big, 1, &index, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_journal_append(j, 1, 4, big, 1, &index, &d));
    CHECK_CONTAINS(d.message, "kind 4");
    /* refusals leave the journal usable */
    CHECK_OK(tandem_journal_append(j, 1, TANDEM_JOURNAL_DATA, big, 1024, &index, NULL));
    CHECK_OK(tandem_journal_append(j, 2, TANDEM_JOURNAL_CONFIG, "c", 1, &index, NULL));
    CHECK_OK(tandem_journal_append(j, 2, TANDEM_JOURNAL_NOOP, NULL, 0, &index, NULL));
    CHECK_EQ_U64(3, index);
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    CHECK_OK(tandem_journal_read(j, 2, &e, &b, NULL));
    CHECK_EQ_U64(TANDEM_JOURNAL_CONFIG, e.kind);
    CHECK_OK(tandem_journal_read(j, 3, &e, &b, NULL));
    CHECK_EQ_U64(TANDEM_JOURNAL_NOOP, e.kind);
    CHECK_EQ_U64(0, b.len);
    CHECK_RC(TANDEM_ERANGE, tandem_journal_read(j, 4, &e, &b, &d));
    CHECK_CONTAINS(d.message, "index 4 is outside");
    CHECK_RC(TANDEM_ERANGE, tandem_journal_read(j, 0, &e, &b, NULL));
    uint64_t t;
    CHECK_RC(TANDEM_ERANGE, tandem_journal_term_at(j, 4, &t));
    CHECK(!tandem_journal_stopped(j));
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    /* trailing slashes name the same directory */
    CHECK_OK(tandem_journal_open(f.ops, JDIR "//", &o, &j, &d));
    CHECK_EQ_U64(3, tandem_journal_last_index(j));
    CHECK_OK(tandem_journal_read(j, 2, &e, &b, NULL));
    CHECK_EQ_U64(1, b.len);
    tandem_buf_free(&b);
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* Writes entries 1..n of 40 payload bytes (88 bytes on disk each), each one
 * flushed, so every entry proves the one before it durable. */
static void write_flushed(jfixture *f, uint64_t n)
{
    tandem_journal_options o;
    tandem_journal_options_default(&o);
    tandem_journal *j = jf_open(f, &o);
    for (uint64_t i = 1; i <= n; i++) {
        jf_append(j, 1, i, 40);
        CHECK_OK(tandem_journal_flush(j, NULL));
    }
    tandem_journal_close(j);
}

#define ENTRY_OFF(i) (64 + ((i)-1) * 88)

static void test_flipped_bit_is_corruption(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    write_flushed(&f, 20);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    /* a payload byte of entry 5, then a header byte of entry 9 */
    uint64_t offs[2] = {ENTRY_OFF(5) + 44 + 3, ENTRY_OFF(9) + 10};
    uint64_t starts[2] = {ENTRY_OFF(5), ENTRY_OFF(9)};
    const char *entries[2] = {"(entry 5)", "(entry 9)"};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, offs[k], 2));
        tandem_journal *j = NULL;
        tandem_diag d;
        CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, NULL, &j, &d));
        CHECK(j == NULL);
        CHECK_CONTAINS(d.message, "journal-00000000000000000001.seg");
        char where[64];
        snprintf(where, sizeof(where), "byte offset %" PRIu64 " ", starts[k]);
        CHECK_CONTAINS(d.message, where);
        CHECK_CONTAINS(d.message, entries[k]);
        /* inspect says the same, and changes nothing */
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        CHECK(mem != NULL);
        CHECK_RC(TANDEM_ECORRUPT, tandem_journal_inspect(f.ops, JDIR, mem, NULL, NULL, NULL));
        fclose(mem);
        CHECK_CONTAINS(text, "DAMAGE");
        CHECK_CONTAINS(text, "verdict: CORRUPT");
        CHECK_CONTAINS(text, where);
        free(text);
        CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, NULL, &j, NULL));
        CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, offs[k], 2));
    }
    tandem_journal *j = jf_open(&f, NULL);
    CHECK_EQ_U64(20, tandem_journal_last_index(j));
    tandem_journal_close(j);
    jf_teardown(&f);
}

static void test_damaged_last_entry_is_torn(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    write_flushed(&f, 20);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, ENTRY_OFF(20) + 50, 0));
    tandem_journal *j = jf_open(&f, NULL);
    CHECK_EQ_U64(19, tandem_journal_last_index(j));
    for (uint64_t i = 1; i <= 19; i++) {
        CHECK(jf_entry_is(j, i, 1, i, 40));
    }
    CHECK_EQ_U64(20, jf_append(j, 1, 77, 3));
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    j = jf_open(&f, NULL);
    CHECK(jf_entry_is(j, 20, 1, 77, 3));
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* Damage followed by valid entries that were all written in the same
 * unsynced group proves nothing: torn, truncated at the damage. */
static void test_damage_before_unproven_entries_is_torn(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal *j = jf_open(&f, NULL);
    for (uint64_t i = 1; i <= 10; i++) {
        jf_append(j, 1, i, 40);
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    for (uint64_t i = 11; i <= 20; i++) {
        jf_append(j, 1, i, 40);
    }
    CHECK_OK(tandem_journal_flush(j, NULL)); /* 11..20 carry synced_index 10 */
    tandem_journal_close(j);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, ENTRY_OFF(12) + 60, 7));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CHECK_OK(tandem_journal_inspect(f.ops, JDIR, mem, NULL, NULL, NULL));
    fclose(mem);
    CHECK_CONTAINS(text, "verdict: torn tail");
    CHECK_CONTAINS(text, "after the damage");
    CHECK_CONTAINS(text, "entry 11 term 1 kind data size 40 synced 10");
    free(text);
    j = jf_open(&f, NULL);
    CHECK_EQ_U64(11, tandem_journal_last_index(j));
    tandem_journal_close(j);
    jf_teardown(&f);

    /* entry 10 was flushed before 11..20 were written: they prove it */

    jf_setup(&f, test_seed());
    j = jf_open(&f, NULL);
    for (uint64_t i = 1; i <= 10; i++) {
        jf_append(j, 1, i, 40);
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    for (uint64_t i = 11; i <= 20; i++) {
        jf_append(j, 1, i, 40);
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, ENTRY_OFF(10) + 60, 7));
    tandem_diag d;
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, NULL, &j, &d));
    CHECK_CONTAINS(d.message, "(entry 10)");
    CHECK_CONTAINS(d.message, "entry 11 at byte offset");
    jf_teardown(&f);
}

static void test_segment_header_damage(void)
{
    tandem_journal_options o = jf_small_options();
    /* an earlier segment's header: corruption */
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal *j = jf_open(&f, &o);
    for (uint64_t i = 1; i <= 200; i++) {
        jf_append(j, 1, i, 100);
        CHECK_OK(tandem_journal_flush(j, NULL));
    }
    tandem_journal_close(j);
    size_t segs = count_segments(f.ops, JDIR);
    CHECK(segs > 3);
    char path[256];
    jf_segment_path(2, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 20, 1));
    tandem_diag d;
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "journal-00000000000000000002.seg at byte offset 0");
    CHECK_CONTAINS(d.message, "checksum");
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 20, 1));

    /* the last segment's header, with flushed entries in it: corruption */
    jf_segment_path(segs, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 3, 1));
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "bad segment magic");
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 3, 1));

    /* a missing segment in the middle: corruption */
    jf_segment_path(3, path, sizeof(path));
    CHECK_OK(f.ops->unlink(f.ops, path));
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "segment 3 is missing");
    jf_teardown(&f);

    /* the last segment's header when it holds nothing durable: a torn
     * creation, deleted */
    jf_setup(&f, test_seed());
    j = jf_open(&f, &o);
    for (uint64_t i = 1; i <= 30; i++) {
        jf_append(j, 1, i, 100);
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    uint64_t last = tandem_journal_last_index(j);
    segs = count_segments(f.ops, JDIR);
    tandem_journal_close(j);
    CHECK(segs >= 2);
    jf_segment_path(segs, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 30, 4));
    j = jf_open(&f, &o);
    CHECK_EQ_U64(segs - 1, count_segments(f.ops, JDIR));
    CHECK(tandem_journal_last_index(j) < last);
    for (uint64_t i = 1; i <= tandem_journal_last_index(j); i++) {
        CHECK(jf_entry_is(j, i, 1, i, 100));
    }
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* A segment cut short while the next one holds entries written after its
 * end was durable: corruption, not a torn tail. */
static void test_shortened_segment_is_corruption(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    for (uint64_t i = 1; i <= 100; i++) {
        jf_append(j, 1, i, 100);
        CHECK_OK(tandem_journal_flush(j, NULL));
    }
    tandem_journal_close(j);
    char path[256];
    jf_segment_path(2, path, sizeof(path));
    int fd;
    CHECK_OK(f.ops->open(f.ops, path, TANDEM_OPEN_WRITE, &fd));
    uint64_t size = 0;
    CHECK_OK(f.ops->size(f.ops, fd, &size));
    CHECK_OK(f.ops->truncate(f.ops, fd, size - 144)); /* exactly one entry less */
    CHECK_OK(f.ops->close(f.ops, fd));
    tandem_diag d;
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_open(f.ops, JDIR, &o, &j, &d));
    CHECK_CONTAINS(d.message, "journal-00000000000000000002.seg at byte offset 3952 (entry 56)");
    CHECK_CONTAINS(d.message, "the file ends at entry 55 but the next segment starts at 57");
    jf_teardown(&f);
}

static void test_newer_format_refused(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    write_flushed(&f, 3);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, 9, 0)); /* version 1 -> 257 */
    tandem_journal *j = NULL;
    tandem_diag d;
    CHECK_RC(TANDEM_EFORMAT, tandem_journal_open(f.ops, JDIR, NULL, &j, &d));
    CHECK_CONTAINS(d.message, "format version 257");
    CHECK_CONTAINS(d.message, "journal-00000000000000000001.seg");
    jf_teardown(&f);
}

static void test_read_detects_later_damage(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    write_flushed(&f, 10);
    tandem_journal *j = jf_open(&f, NULL);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    CHECK_OK(tandem_faultfs_flip_bit(f.fs, path, ENTRY_OFF(4) + 44, 0));
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    tandem_diag d;
    CHECK_RC(TANDEM_ECORRUPT, tandem_journal_read(j, 4, &e, &b, &d));
    CHECK_CONTAINS(d.message,
                   "entry 4 at byte offset 328 of " JDIR "/journal-00000000000000000001.seg");
    CHECK_EQ_U64(0, b.len);
    CHECK(jf_entry_is(j, 5, 1, 5, 40));
    tandem_buf_free(&b);
    tandem_journal_close(j);
    jf_teardown(&f);
}

static void test_leftovers_removed(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    write_flushed(&f, 3);
    int fd;
    CHECK_OK(f.ops->open(f.ops, JDIR "/journal-00000000000000000002.seg.tmp",
                         TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd));
    CHECK_OK(f.ops->pwrite(f.ops, fd, "junk", 4, 0));
    CHECK_OK(f.ops->close(f.ops, fd));
    CHECK_OK(
        f.ops->open(f.ops, JDIR "/raft-meta.tmp", TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd));
    CHECK_OK(f.ops->close(f.ops, fd));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CHECK_OK(tandem_journal_inspect(f.ops, JDIR, mem, NULL, NULL, NULL));
    fclose(mem);
    CHECK_CONTAINS(text, "leftover temporary file " JDIR "/journal-00000000000000000002.seg.tmp");
    free(text);
    tandem_journal *j = jf_open(&f, NULL);
    CHECK_EQ_U64(3, tandem_journal_last_index(j));
    tandem_journal_close(j);
    count_acc acc = {0, 0};
    CHECK_OK(f.ops->list(f.ops, JDIR, count_cb, &acc));
    CHECK_EQ_U64(1, acc.segments);
    CHECK_EQ_U64(0, acc.other); /* no raft-meta was ever written, and the tmp files are gone */
    jf_teardown(&f);
}

static void print_payload(void *arg, FILE *out, const tandem_journal_entry *e,
                          const uint8_t *payload)
{
    int *calls = arg;
    (*calls)++;
    fprintf(out, "payload=%.*s", (int)e->payload_size_bytes, (const char *)payload);
}

static void test_inspect_listing(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal *j = jf_open(&f, NULL);
    uint64_t index;
    CHECK_OK(tandem_journal_append(j, 3, TANDEM_JOURNAL_NOOP, NULL, 0, &index, NULL));
    CHECK_OK(tandem_journal_append(j, 3, TANDEM_JOURNAL_DATA, "hello", 5, &index, NULL));
    CHECK_OK(tandem_journal_append(j, 4, TANDEM_JOURNAL_CONFIG, "cfg", 3, &index, NULL));
    CHECK_OK(tandem_journal_flush(j, NULL));
    CHECK_OK(tandem_journal_meta_set(j, 4, 1, NULL));
    tandem_journal_close(j);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int calls = 0;
    CHECK_OK(tandem_journal_inspect(f.ops, JDIR, mem, print_payload, &calls, NULL));
    fclose(mem);
    CHECK_EQ_U64(3, calls);
    CHECK_CONTAINS(text, "term/vote " JDIR "/raft-meta: term 4, voted for 1");
    CHECK_CONTAINS(text, "segment " JDIR "/journal-00000000000000000001.seg: number 1, format 1, "
                         "first index 1, prev term 0, flags base");
    CHECK_CONTAINS(text, "entry 1 term 3 kind noop size 0 synced 0 offset 64 crc ok");
    CHECK_CONTAINS(text, "entry 2 term 3 kind data size 5 synced 0 offset 112 crc ok "
                         "payload=hello");
    CHECK_CONTAINS(text, "entry 3 term 4 kind config size 3");
    CHECK_CONTAINS(text, "valid entries: 3 (indexes 1..3)");
    CHECK_CONTAINS(text, "verdict: clean");
    free(text);

    /* a missing directory is an error naming it */
    tandem_diag d;
    mem = open_memstream(&text, &len);
    CHECK_RC(TANDEM_ENOENT, tandem_journal_inspect(f.ops, "nowhere", mem, NULL, NULL, &d));
    fclose(mem);
    CHECK_CONTAINS(d.message, "nowhere");
    CHECK_CONTAINS(text, "cannot read");
    free(text);
    jf_teardown(&f);
}

/* Inspect is read-only even on a torn directory: open afterwards still
 * finds the damage and truncates it. */
static void test_inspect_is_read_only(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    tandem_journal *j = jf_open(&f, NULL);
    for (uint64_t i = 1; i <= 10; i++) {
        jf_append(j, 1, i, 40);
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    tandem_journal_close(j);
    char path[256];
    jf_segment_path(1, path, sizeof(path));
    int fd;
    CHECK_OK(f.ops->open(f.ops, path, TANDEM_OPEN_WRITE, &fd));
    uint8_t zeros[48] = {0};
    CHECK_OK(f.ops->pwrite(f.ops, fd, zeros, sizeof(zeros), ENTRY_OFF(11)));
    uint64_t size_before = 0;
    CHECK_OK(f.ops->size(f.ops, fd, &size_before));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CHECK_OK(tandem_journal_inspect(f.ops, JDIR, mem, NULL, NULL, NULL));
    fclose(mem);
    CHECK_CONTAINS(text, "entry header is all zeros");
    CHECK_CONTAINS(text, "verdict: torn tail");
    free(text);
    uint64_t size_after = 0;
    CHECK_OK(f.ops->size(f.ops, fd, &size_after));
    CHECK_EQ_U64(size_before, size_after);
    CHECK_OK(f.ops->close(f.ops, fd));
    j = jf_open(&f, NULL);
    CHECK_EQ_U64(10, tandem_journal_last_index(j));
    tandem_journal_close(j);
    CHECK_OK(f.ops->open(f.ops, path, TANDEM_OPEN_READ, &fd));
    CHECK_OK(f.ops->size(f.ops, fd, &size_after));
    CHECK_EQ_U64(ENTRY_OFF(11), size_after);
    CHECK_OK(f.ops->close(f.ops, fd));
    jf_teardown(&f);
}

static void test_header_codec(void)
{
    journal_entry_header h = {.payload_size_bytes = 3,
                              .index = 9,
                              .term = 2,
                              .synced_index = 8,
                              .kind = TANDEM_JOURNAL_CONFIG};
    uint8_t raw[JOURNAL_ENTRY_HEADER_BYTES];
    journal_entry_header_encode(&h, "abc", raw);
    journal_entry_header back;
    const char *why;
    CHECK_OK(journal_entry_header_decode(raw, sizeof(raw), &back, &why));
    CHECK_EQ_U64(9, back.index);
    CHECK_EQ_U64(8, back.synced_index);
    CHECK(journal_entry_payload_ok(raw, &back, (const uint8_t *)"abc"));
    CHECK(!journal_entry_payload_ok(raw, &back, (const uint8_t *)"abd"));
    CHECK_RC(TANDEM_EINCOMPLETE, journal_entry_header_decode(raw, 43, &back, &why));
    for (size_t i = 0; i < JOURNAL_ENTRY_CRC_OFF; i++) {
        raw[i] ^= 0x10;
        CHECK_RC(TANDEM_ECORRUPT, journal_entry_header_decode(raw, sizeof(raw), &back, &why));
        CHECK(why[0] != '\0');
        raw[i] ^= 0x10;
    }
    CHECK_EQ_U64(48, journal_entry_size_bytes(0));
    CHECK_EQ_U64(48, journal_entry_size_bytes(4));
    CHECK_EQ_U64(56, journal_entry_size_bytes(5));
    uint64_t n = 0;
    CHECK_EQ_U64(1, journal_segment_name_parse("journal-00000000000000000042.seg", &n));
    CHECK_EQ_U64(42, n);
    CHECK_EQ_U64(2, journal_segment_name_parse("journal-00000000000000000042.seg.tmp", &n));
    CHECK_EQ_U64(0, journal_segment_name_parse("journal-0000000000000000004.seg", &n));
    CHECK_EQ_U64(0, journal_segment_name_parse("journal-99999999999999999999.seg", &n));
    CHECK_EQ_U64(0, journal_segment_name_parse("raft-meta", &n));
}

/* Reads a whole file of the faultfs into out; returns its size. */
static size_t slurp(jfixture *f, const char *path, uint8_t *out, size_t cap)
{
    int fd;
    CHECK_OK(f->ops->open(f->ops, path, TANDEM_OPEN_READ, &fd));
    size_t n = 0;
    CHECK_OK(f->ops->pread(f->ops, fd, out, cap, 0, &n));
    CHECK_OK(f->ops->close(f->ops, fd));
    CHECK(n < cap);
    return n;
}

static void save_corpus(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    if (dir == NULL) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    CHECK_EQ_U64(len, fwrite(data, 1, len, fp));
    CHECK(fclose(fp) == 0);
}

/* Builds the fuzz target's seed corpus: real segment files (and a term/vote
 * file), each under 4 KiB, and checks each is what it claims to be. With
 * TANDEM_JOURNAL_CORPUS_DIR set it also writes them there. */
static void test_fuzz_corpus_files(void)
{
    const char *out = getenv("TANDEM_JOURNAL_CORPUS_DIR");
    static uint8_t raw[4096];
    char path[256];
    jfixture f;
    jf_setup(&f, 1);
    tandem_journal_options o = jf_small_options();
    tandem_journal *j = jf_open(&f, &o);
    uint64_t index;
    CHECK_OK(tandem_journal_append(j, 1, TANDEM_JOURNAL_NOOP, NULL, 0, &index, NULL));
    CHECK_OK(
        tandem_journal_append(j, 1, TANDEM_JOURNAL_CONFIG, "voters 0 1 2 3", 14, &index, NULL));
    CHECK_OK(tandem_journal_flush(j, NULL));
    for (uint64_t i = 3; i <= 60; i++) {
        jf_append(j, 1 + i / 10, i, (size_t)(i * 7 % 90));
        if (i % 3 == 0) {
            CHECK_OK(tandem_journal_flush(j, NULL));
        }
    }
    CHECK_OK(tandem_journal_flush(j, NULL));
    CHECK_OK(tandem_journal_meta_set(j, 5, 1, NULL));
    tandem_journal_close(j);
    CHECK(count_segments(f.ops, JDIR) >= 2);

    jf_segment_path(1, path, sizeof(path));
    size_t n1 = slurp(&f, path, raw, sizeof(raw));
    CHECK(n1 > 64 && n1 <= 4096);
    save_corpus(out, "segment-first", raw, n1);
    journal_segment_header h;
    const char *why;
    CHECK_OK(journal_segment_header_decode(raw, n1, &h, &why));
    CHECK_EQ_U64(JOURNAL_SEGMENT_FLAG_BASE, h.flags);

    /* the same file with its tail torn to zeros, and with a proven flip */
    uint8_t copy[4096];
    memcpy(copy, raw, n1);
    memset(copy + n1 - 30, 0, 30);
    save_corpus(out, "segment-torn-tail", copy, n1);
    memcpy(copy, raw, n1);
    copy[64 + 48 + 50] ^= 4; /* inside entry 2's payload */
    save_corpus(out, "segment-flipped", copy, n1);
    journal_entry_header eh;
    CHECK_OK(journal_entry_header_decode(copy + 64 + 48, 44, &eh, &why));
    CHECK(!journal_entry_payload_ok(copy + 64 + 48, &eh, copy + 64 + 48 + 44));

    jf_segment_path(2, path, sizeof(path));
    size_t n2 = slurp(&f, path, raw, sizeof(raw));
    CHECK_OK(journal_segment_header_decode(raw, n2, &h, &why));
    CHECK_EQ_U64(0, h.flags);
    CHECK(h.first_index > 1);
    save_corpus(out, "segment-second", raw, n2);

    size_t nm = slurp(&f, JDIR "/raft-meta", raw, sizeof(raw));
    CHECK_EQ_U64(36, nm);
    save_corpus(out, "raft-meta", raw, nm);
    jf_teardown(&f);
}

static const tandem_test cases[] = {
    {"roundtrip_many_segments", test_roundtrip_many_segments},
    {"roundtrip_posix", test_roundtrip_posix},
    {"group_commit_one_fsync", test_group_commit_one_fsync},
    {"truncate_then_append", test_truncate_then_append},
    {"compact", test_compact},
    {"reset", test_reset},
    {"reset_crash", test_reset_crash},
    {"meta_roundtrip_and_damage", test_meta_roundtrip_and_damage},
    {"argument_errors", test_argument_errors},
    {"flipped_bit_is_corruption", test_flipped_bit_is_corruption},
    {"damaged_last_entry_is_torn", test_damaged_last_entry_is_torn},
    {"damage_before_unproven_entries_is_torn", test_damage_before_unproven_entries_is_torn},
    {"segment_header_damage", test_segment_header_damage},
    {"shortened_segment_is_corruption", test_shortened_segment_is_corruption},
    {"newer_format_refused", test_newer_format_refused},
    {"read_detects_later_damage", test_read_detects_later_damage},
    {"leftovers_removed", test_leftovers_removed},
    {"inspect_listing", test_inspect_listing},
    {"inspect_is_read_only", test_inspect_is_read_only},
    {"header_codec", test_header_codec},
    {"fuzz_corpus_files", test_fuzz_corpus_files},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
