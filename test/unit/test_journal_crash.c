/*
 * Crash tests of the journal on the power-loss file system: a writer appends,
 * flushes and now and then truncates, the disk dies after a random number of
 * operations, a power loss keeps, tears or drops each unsynced write, and the
 * journal is reopened. Every entry reported durable must be there and
 * byte-identical; every entry present beyond that must be byte-identical to
 * what was appended at its index (nothing torn is ever served); the journal
 * must accept new appends. Also: fsync and write failures stop the journal.
 *
 * TANDEM_TEST_ITERATIONS scales the number of crash points;
 * TANDEM_TEST_SEED replays a failure.
 */
#include "journal/journal_int.h"
#include "test_journal_util.h"

#define CRASH_MODEL_MAX 8192

typedef struct model_entry {
    uint64_t term;
    uint64_t gen;
    size_t size;
} model_entry;

/* What the writer did, as far as the journal acknowledged it. */
typedef struct model {
    model_entry e[CRASH_MODEL_MAX + 1];
    uint64_t last;     /* highest index that may be present */
    uint64_t required; /* every index up to here must be present */
    uint64_t term;
    uint64_t compact; /* highest index given to compact_below (entries below may go) */
} model;

static model m;

typedef struct writer {
    jfixture *f;
    tandem_journal *j;
    tandem_seeded_rand *r;
    tandem_journal_options o;
} writer;

static tandem_journal_options random_options(tandem_seeded_rand *r)
{
    tandem_journal_options o = jf_small_options();
    o.segment_size_bytes = 4096 + 4096 * tandem_rand_below(&r->base, 2);
    o.write_buffer_bytes = (uint32_t)(64 + tandem_rand_below(&r->base, 3000));
    return o;
}

/* One append; the entry is recorded even when the call fails, because its
 * bytes may have reached the file before the failure. */
static int w_append(writer *w)
{
    if (tandem_rand_chance(&w->r->base, 1, 30)) {
        m.term++;
    }
    size_t size = (size_t)tandem_rand_below(&w->r->base, 700);
    if (tandem_rand_chance(&w->r->base, 1, 10)) {
        size = 1024;
    }
    uint64_t gen = tandem_rand_u64(&w->r->base);
    uint8_t buf[1024];
    jf_payload(gen, size, buf);
    uint64_t expect = tandem_journal_last_index(w->j) + 1;
    CHECK(expect <= CRASH_MODEL_MAX);
    m.e[expect] = (model_entry){m.term, gen, size};
    m.last = expect;
    uint64_t index = 0;
    int rc = tandem_journal_append(w->j, m.term, TANDEM_JOURNAL_DATA, buf, size, &index, NULL);
    if (rc == TANDEM_OK) {
        CHECK_EQ_U64(expect, index);
    }
    return rc;
}

static int w_truncate(writer *w)
{
    uint64_t first = tandem_journal_first_index(w->j);
    uint64_t last = tandem_journal_last_index(w->j);
    uint64_t index = first + tandem_rand_below(&w->r->base, last + 2 - first);
    if (m.required > index - 1) {
        m.required = index - 1; /* the caller gave those up, whatever happens */
    }
    int rc = tandem_journal_truncate_from(w->j, index, NULL);
    if (rc == TANDEM_OK) {
        m.last = index - 1;
        m.term++; /* a new leader's entries replace the suffix */
    }
    return rc;
}

static int w_compact(writer *w)
{
    uint64_t index = 1 + tandem_rand_below(&w->r->base, tandem_journal_durable_index(w->j) + 1);
    if (index > m.compact) {
        m.compact = index;
    }
    return tandem_journal_compact_below(w->j, index, NULL);
}

/* Random appends, flushes, truncations and compactions until a call fails (the disk
 * died) or the budget is spent. */
static void w_run(writer *w, int groups)
{
    for (int g = 0; g < groups; g++) {
        int rc = TANDEM_OK;
        if (tandem_rand_chance(&w->r->base, 1, 12)) {
            rc = w_truncate(w);
        } else if (tandem_rand_chance(&w->r->base, 1, 12)) {
            rc = w_compact(w);
        } else {
            uint64_t n = 1 + tandem_rand_below(&w->r->base, 8);
            for (uint64_t i = 0; i < n && rc == TANDEM_OK; i++) {
                rc = w_append(w);
            }
            /* a third of the groups stay unflushed, so unsynced writes pile up */
            if (rc == TANDEM_OK && tandem_rand_chance(&w->r->base, 2, 3)) {
                rc = tandem_journal_flush(w->j, NULL);
                if (rc == TANDEM_OK) {
                    CHECK_EQ_U64(tandem_journal_last_index(w->j),
                                 tandem_journal_durable_index(w->j));
                }
            }
        }
        if (rc != TANDEM_OK) {
            CHECK(tandem_journal_stopped(w->j));
            return;
        }
        m.required = tandem_journal_durable_index(w->j);
        CHECK_EQ_U64(m.last, tandem_journal_last_index(w->j));
    }
}

/* The recovery invariants. */
static void verify(tandem_journal *j)
{
    uint64_t last = tandem_journal_last_index(j);
    uint64_t first = tandem_journal_first_index(j);
    CHECK_MSG(first <= (m.compact > 1 ? m.compact : 1), "first index %" PRIu64 " past %" PRIu64,
              first, m.compact);
    CHECK_MSG(last >= m.required, "lost durable entries: last %" PRIu64 " < durable %" PRIu64, last,
              m.required);
    CHECK_MSG(last <= m.last, "entries nobody appended: last %" PRIu64 " > %" PRIu64, last, m.last);
    CHECK_EQ_U64(last, tandem_journal_durable_index(j));
    for (uint64_t i = first; i <= last; i++) {
        CHECK_MSG(jf_entry_is(j, i, m.e[i].term, m.e[i].gen, m.e[i].size),
                  "entry %" PRIu64 " is not what was appended (required up to %" PRIu64 ")", i,
                  m.required);
    }
}

static tandem_journal *reopen_after_crash(jfixture *f, tandem_seeded_rand *r,
                                          const tandem_journal_options *o)
{
    tandem_faultfs_crash(f->fs, false);
    /* sometimes the power fails again during recovery itself */
    if (tandem_rand_chance(&r->base, 1, 4)) {
        tandem_faultfs_crash_after(f->fs, (int64_t)tandem_rand_below(&r->base, 40));
        tandem_journal *j = NULL;
        if (tandem_journal_open(f->ops, JDIR, o, &j, NULL) == TANDEM_OK) {
            tandem_journal_close(j);
        }
        tandem_faultfs_crash(f->fs, false);
    }
    tandem_journal *j = NULL;
    tandem_diag d;
    int rc = tandem_journal_open(f->ops, JDIR, o, &j, &d);
    CHECK_MSG(rc == TANDEM_OK, "reopen after crash: %s", tandem_diag_text(&d));
    return j;
}

static void crash_once(uint64_t seed, tandem_faultfs_stats *total)
{
    jfixture f;
    jf_setup(&f, seed);
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, seed ^ 0x5bd1e995u);
    memset(&m, 0, sizeof(m));
    m.term = 1;
    writer w = {.f = &f, .r = &r, .o = random_options(&r)};
    w.j = jf_open(&f, &w.o);
    /* sometimes a durable history first, so the crash meets older segments */
    if (tandem_rand_chance(&r.base, 1, 2)) {
        w_run(&w, (int)tandem_rand_below(&r.base, 30));
        CHECK(!tandem_journal_stopped(w.j));
    }
    tandem_faultfs_crash_after(f.fs, (int64_t)tandem_rand_below(&r.base, 300));
    w_run(&w, 60);
    tandem_journal_close(w.j);

    w.j = reopen_after_crash(&f, &r, &w.o);
    verify(w.j);
    /* the journal goes on: new appends, a flush, a clean reopen */
    m.last = tandem_journal_last_index(w.j);
    m.term++;
    for (int i = 0; i < 5; i++) {
        CHECK_OK(w_append(&w));
    }
    CHECK_OK(tandem_journal_flush(w.j, NULL));
    m.required = m.last;
    tandem_journal_close(w.j);
    w.j = jf_open(&f, &w.o);
    verify(w.j);
    tandem_journal_close(w.j);

    tandem_faultfs_stats s;
    tandem_faultfs_stats_get(f.fs, &s);
    total->torn_writes += s.torn_writes;
    total->dropped_writes += s.dropped_writes;
    total->kept_writes += s.kept_writes;
    total->crashes += s.crashes;
    jf_teardown(&f);
}

static void test_crash_random_points(void)
{
    uint64_t n = test_iterations(1000);
    tandem_faultfs_stats total;
    memset(&total, 0, sizeof(total));
    for (uint64_t i = 0; i < n; i++) {
        crash_once(test_seed() + i * 7919, &total);
    }
    /* the fault injection must actually have done its three things */
    CHECK(total.crashes >= n);
    CHECK_MSG(total.torn_writes > 0, "no torn writes in %" PRIu64 " crashes", n);
    CHECK_MSG(total.dropped_writes > 0, "no dropped writes in %" PRIu64 " crashes", n);
    CHECK_MSG(total.kept_writes > 0, "no kept writes in %" PRIu64 " crashes", n);
    fprintf(stderr, "crashes %" PRIu64 ": torn %" PRIu64 " dropped %" PRIu64 " kept %" PRIu64 "\n",
            total.crashes, total.torn_writes, total.dropped_writes, total.kept_writes);
}

/* Every call after the failure is refused, and nothing is synced again. */
static void check_stopped(jfixture *f, tandem_journal *j, uint64_t durable)
{
    tandem_faultfs_stats before;
    tandem_faultfs_stats_get(f->fs, &before);
    CHECK(tandem_journal_stopped(j));
    uint64_t index = 0;
    tandem_diag d;
    CHECK_RC(TANDEM_ESTOPPED,
             tandem_journal_append(j, m.term, TANDEM_JOURNAL_DATA, "x", 1, &index, &d));
    CHECK_CONTAINS(d.message, "stopped");
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_flush(j, NULL));
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_read(j, 1, &e, &b, NULL));
    uint64_t t;
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_term_at(j, 1, &t));
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_truncate_from(j, 1, NULL));
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_compact_below(j, 2, NULL));
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_reset(j, 9, 9, NULL));
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_meta_set(j, 9, 9, NULL));
    CHECK_RC(TANDEM_ESTOPPED, tandem_journal_flush(j, NULL));
    CHECK_EQ_U64(durable, tandem_journal_durable_index(j));
    tandem_faultfs_stats after;
    tandem_faultfs_stats_get(f->fs, &after);
    CHECK_EQ_U64(before.syncs, after.syncs);
    CHECK_EQ_U64(before.writes, after.writes);
    CHECK_EQ_U64(before.failed_syncs, after.failed_syncs);
    tandem_buf_free(&b);
}

/* Arms a failure of the given kind, runs the writer until it hits it, and
 * checks the fail-stop and the recovery. */
static void failure_once(uint64_t seed, bool fsync_fails)
{
    jfixture f;
    jf_setup(&f, seed);
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, seed ^ 0x27d4eb2fu);
    memset(&m, 0, sizeof(m));
    m.term = 1;
    writer w = {.f = &f, .r = &r, .o = random_options(&r)};
    w.j = jf_open(&f, &w.o);
    w_run(&w, (int)tandem_rand_below(&r.base, 20));
    CHECK(!tandem_journal_stopped(w.j));
    if (fsync_fails) {
        tandem_faultfs_fail_sync(f.fs, 1 + (int64_t)tandem_rand_below(&r.base, 4));
    } else {
        tandem_faultfs_fail_write(f.fs, 1 + (int64_t)tandem_rand_below(&r.base, 6));
    }
    int rc = TANDEM_OK;
    uint64_t durable_before = 0;
    for (int g = 0; g < 200 && rc == TANDEM_OK; g++) {
        uint64_t n = 1 + tandem_rand_below(&r.base, 8);
        for (uint64_t i = 0; i < n && rc == TANDEM_OK; i++) {
            durable_before = tandem_journal_durable_index(w.j); /* a seal may advance it */
            rc = w_append(&w);
        }
        if (rc == TANDEM_OK) {
            durable_before = tandem_journal_durable_index(w.j);
            rc = tandem_journal_flush(w.j, NULL);
        }
        if (rc == TANDEM_OK) {
            m.required = tandem_journal_durable_index(w.j);
        }
    }
    CHECK_RC(fsync_fails ? TANDEM_EIO : TANDEM_ENOSPC, rc);
    tandem_faultfs_stats s;
    tandem_faultfs_stats_get(f.fs, &s);
    CHECK_EQ_U64(fsync_fails ? 1 : 0, s.failed_syncs);
    CHECK_EQ_U64(fsync_fails ? 0 : 1, s.failed_writes);
    /* a failing append may have sealed a full segment (a successful fsync)
     * before creating the next one failed: durable_index may have moved up
     * to that fsync, never past it and never after the failure */
    uint64_t durable = tandem_journal_durable_index(w.j);
    CHECK(durable >= durable_before && durable <= tandem_journal_last_index(w.j));
    check_stopped(&f, w.j, durable);
    tandem_journal_close(w.j);

    m.required = durable;
    w.j = reopen_after_crash(&f, &r, &w.o);
    verify(w.j);
    m.last = tandem_journal_last_index(w.j);
    CHECK_OK(w_append(&w));
    CHECK_OK(tandem_journal_flush(w.j, NULL));
    tandem_journal_close(w.j);
    jf_teardown(&f);
}

static void test_fsync_failure_stops(void)
{
    uint64_t n = test_iterations(200);
    for (uint64_t i = 0; i < n; i++) {
        failure_once(test_seed() + i * 104729, true);
    }
}

static void test_write_failure_stops(void)
{
    uint64_t n = test_iterations(200);
    for (uint64_t i = 0; i < n; i++) {
        failure_once(test_seed() + i * 1299709, false);
    }
}

/* A failed fsync of the term/vote file stops the journal too, and the old
 * term/vote survives. */
static void test_meta_fsync_failure_stops(void)
{
    jfixture f;
    jf_setup(&f, test_seed());
    memset(&m, 0, sizeof(m));
    tandem_journal *j = jf_open(&f, NULL);
    CHECK_OK(tandem_journal_meta_set(j, 3, 1, NULL));
    tandem_faultfs_fail_sync(f.fs, 1);
    tandem_diag d;
    CHECK_RC(TANDEM_EIO, tandem_journal_meta_set(j, 4, 2, &d));
    CHECK_CONTAINS(d.message, "raft-meta");
    CHECK_EQ_U64(3, tandem_journal_meta_get(j).term);
    check_stopped(&f, j, 0);
    tandem_journal_close(j);
    tandem_faultfs_crash(f.fs, false);
    j = jf_open(&f, NULL);
    tandem_journal_meta got = tandem_journal_meta_get(j);
    CHECK_EQ_U64(3, got.term);
    CHECK_EQ_U64(1, got.voted_for);
    tandem_journal_close(j);
    jf_teardown(&f);
}

/* A process that dies without a power loss leaves unsynced entries in the
 * page cache; the next open reads them as valid and reports them durable,
 * so it must make them durable before a power loss can take them. */
static void test_restart_then_power_loss(void)
{
    uint64_t n = test_iterations(50);
    for (uint64_t it = 0; it < n; it++) {
        jfixture f;
        jf_setup(&f, test_seed() + it);
        tandem_seeded_rand r;
        tandem_seeded_rand_init(&r, test_seed() + it);
        memset(&m, 0, sizeof(m));
        m.term = 1;
        writer w = {.f = &f, .r = &r, .o = random_options(&r)};
        w.j = jf_open(&f, &w.o);
        uint64_t count = 1 + tandem_rand_below(&r.base, 60);
        for (uint64_t i = 0; i < count; i++) {
            CHECK_OK(w_append(&w));
            if (tandem_rand_chance(&r.base, 1, 10)) {
                CHECK_OK(tandem_journal_flush(w.j, NULL));
            }
        }
        /* the process exits: what was written (the write buffer is small)
         * is in the page cache, what was still buffered is gone */
        uint64_t last = tandem_journal_last_index(w.j);
        tandem_journal_close(w.j);
        w.j = jf_open(&f, &w.o);
        uint64_t seen = tandem_journal_last_index(w.j);
        CHECK(seen <= last);
        CHECK_EQ_U64(seen, tandem_journal_durable_index(w.j));
        m.required = seen;
        verify(w.j);
        tandem_journal_close(w.j);
        tandem_faultfs_crash(f.fs, true); /* only what was fsynced survives */
        w.j = jf_open(&f, &w.o);
        CHECK_EQ_U64(seen, tandem_journal_last_index(w.j));
        verify(w.j);
        tandem_journal_close(w.j);
        jf_teardown(&f);
    }
}

static const tandem_test cases[] = {
    {"crash_random_points", test_crash_random_points},
    {"fsync_failure_stops", test_fsync_failure_stops},
    {"write_failure_stops", test_write_failure_stops},
    {"meta_fsync_failure_stops", test_meta_fsync_failure_stops},
    {"restart_then_power_loss", test_restart_then_power_loss},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
