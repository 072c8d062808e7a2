/*
 * Tests of raft_journal: a replica written through it and reloaded has the
 * same term, vote and log; a snapshot the journal does not continue resets
 * the journal after it; an update whose indexes disagree with the journal
 * is refused with a message.
 */
#include <string.h>

#include "base/faultfs.h"
#include "base/rand.h"
#include "raft/raft_journal.h"
#include "test.h"

typedef struct fixture {
    tandem_seeded_rand rnd;
    tandem_faultfs *fs;
    tandem_journal *j;
    tandem_raft *r;
    tandem_raft_config conf;
} fixture;

static void open_journal(fixture *f)
{
    CHECK_OK(tandem_journal_open(tandem_faultfs_ops(f->fs), "j", NULL, &f->j, NULL));
}

static void new_raft(fixture *f)
{
    tandem_raft_options o;
    tandem_raft_options_default(&o, 1, &f->rnd.base);
    o.incarnation = 9; /* as the fixture's configuration names it */
    CHECK_OK(tandem_raft_new(&o, &f->r, NULL));
}

static void setup(fixture *f)
{
    memset(f, 0, sizeof(*f));
    tandem_seeded_rand_init(&f->rnd, 5);
    CHECK_OK(tandem_faultfs_new(&f->rnd.base, &f->fs));
    open_journal(f);
    f->conf.n_members = 1;
    f->conf.members[0] = (tandem_raft_member){1, 9, TANDEM_RAFT_VOTER, 1, 0};
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_raft_config_encode(&f->conf, &b));
    uint64_t at;
    CHECK_OK(tandem_journal_append(f->j, 1, TANDEM_JOURNAL_CONFIG, b.data, b.len, &at, NULL));
    CHECK_OK(tandem_journal_flush(f->j, NULL));
    tandem_buf_free(&b);
    new_raft(f);
}

static void teardown(fixture *f)
{
    tandem_raft_free(f->r);
    tandem_journal_close(f->j);
    tandem_faultfs_free(f->fs);
}

/* Hands over every ready through raft_journal, flushing after each. */
static void drive(fixture *f)
{
    while (tandem_raft_has_ready(f->r)) {
        tandem_raft_update u;
        tandem_raft_ready(f->r, &u);
        CHECK_OK(tandem_raft_journal_write_hard_state(f->j, &u, NULL));
        CHECK_OK(tandem_raft_journal_write_entries(f->j, &u, NULL));
        tandem_raft_advance(f->r);
        CHECK_OK(tandem_raft_journal_flush(f->r, f->j, NULL));
    }
}

static void test_write_and_reload(void)
{
    fixture f;
    setup(&f);
    CHECK_OK(tandem_raft_journal_load(f.r, f.j, NULL, 1, NULL));
    for (int t = 0; t < 40 && tandem_raft_role(f.r) != TANDEM_RAFT_LEADER; t++) {
        tandem_raft_tick(f.r);
        drive(&f);
    }
    CHECK_EQ_U64(TANDEM_RAFT_LEADER, tandem_raft_role(f.r));
    uint64_t idx;
    CHECK_OK(tandem_raft_propose(f.r, TANDEM_JOURNAL_DATA, "hello", 5, &idx));
    drive(&f);
    CHECK_EQ_U64(idx, tandem_raft_commit_index(f.r)); /* durable through the journal */
    uint64_t term = tandem_raft_term(f.r);
    /* power loss, restart */
    tandem_raft_free(f.r);
    tandem_journal_close(f.j);
    tandem_faultfs_crash(f.fs, false);
    open_journal(&f);
    new_raft(&f);
    CHECK_OK(tandem_raft_journal_load(f.r, f.j, NULL, 1, NULL));
    CHECK_EQ_U64(term, tandem_raft_term(f.r));
    CHECK_EQ_U64(idx, tandem_raft_last_index(f.r));
    tandem_raft_entry e;
    CHECK_OK(tandem_raft_entry_at(f.r, idx, &e));
    CHECK_EQ_U64(5, e.size_bytes);
    CHECK(memcmp(e.payload, "hello", 5) == 0);
    teardown(&f);
}

static void test_snapshot_past_the_journal_resets_it(void)
{
    fixture f;
    setup(&f);
    tandem_raft_snapshot_meta snap = {40, 3, f.conf};
    CHECK_OK(tandem_raft_journal_load(f.r, f.j, &snap, 1, NULL));
    CHECK_EQ_U64(40, tandem_raft_snapshot_index(f.r));
    CHECK_EQ_U64(40, tandem_raft_last_index(f.r));
    CHECK_EQ_U64(40, tandem_raft_commit_index(f.r));
    CHECK_EQ_U64(41, tandem_journal_first_index(f.j));
    uint64_t t = 0;
    CHECK_OK(tandem_journal_term_at(f.j, 40, &t));
    CHECK_EQ_U64(3, t);
    teardown(&f);
}

static void test_mismatched_update_refused(void)
{
    fixture f;
    setup(&f);
    tandem_raft_entry e = {1, TANDEM_JOURNAL_DATA, 1, (const uint8_t *)"x"};
    tandem_raft_update u;
    memset(&u, 0, sizeof(u));
    u.entries_first_index = 7; /* the journal is at 2 */
    u.n_entries = 1;
    u.entries = &e;
    tandem_diag d;
    CHECK_RC(TANDEM_ECORRUPT, tandem_raft_journal_write_entries(f.j, &u, &d));
    CHECK_CONTAINS(d.message, "appended at 2, the log is at 7");
    tandem_raft_free(f.r);
    f.r = NULL;
    new_raft(&f);
    CHECK_OK(tandem_journal_meta_set(f.j, UINT64_MAX, TANDEM_JOURNAL_NO_VOTE, NULL));
    CHECK_RC(TANDEM_ECORRUPT, tandem_raft_journal_load(f.r, f.j, NULL, 1, &d));
    CHECK_CONTAINS(d.message, "term/vote file");
    teardown(&f);
}

static const tandem_test cases[] = {
    {"write_and_reload", test_write_and_reload},
    {"snapshot_past_the_journal_resets_it", test_snapshot_past_the_journal_resets_it},
    {"mismatched_update_refused", test_mismatched_update_refused},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
