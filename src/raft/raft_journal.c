/*
 * raft_journal.c — the journal as the Raft log (raft_journal.h).
 */
#include "raft/raft_journal.h"

#include "base/assert.h"

static int continue_snapshot(tandem_journal *j, const tandem_raft_snapshot_meta *snap,
                             tandem_diag *diag)
{
    uint64_t last = tandem_journal_last_index(j);
    uint64_t term = 0;
    if (last >= snap->index && tandem_journal_term_at(j, snap->index, &term) == 0 &&
        term == snap->term) {
        return TANDEM_OK;
    }
    /* what the journal holds does not follow the snapshot: start after it */
    return tandem_journal_reset(j, snap->index + 1, snap->term, diag);
}

int tandem_raft_journal_load(tandem_raft *r, tandem_journal *j,
                             const tandem_raft_snapshot_meta *snap, uint64_t commit_index,
                             tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && j != NULL);
    TANDEM_ASSERT(snap == NULL || snap->index > 0);
    tandem_journal_meta meta = tandem_journal_meta_get(j);
    uint64_t vote = meta.voted_for == TANDEM_JOURNAL_NO_VOTE ? TANDEM_RAFT_NONE : meta.voted_for;
    int rc = tandem_raft_load_hard_state(r, meta.term, vote);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "raft: term %llu in the term/vote file is impossible",
                               (unsigned long long)meta.term);
    }
    uint64_t first = tandem_journal_first_index(j);
    if (snap != NULL) {
        rc = tandem_raft_load_snapshot(r, snap->index, snap->term, &snap->config);
        if (rc != 0) {
            return tandem_diag_set(diag, rc, "raft: snapshot at index %llu term %llu is impossible",
                                   (unsigned long long)snap->index, (unsigned long long)snap->term);
        }
        rc = continue_snapshot(j, snap, diag);
        if (rc != 0) {
            return rc;
        }
        first = snap->index + 1;
    }
    if (first < tandem_journal_first_index(j)) {
        return tandem_diag_set(
            diag, TANDEM_ECORRUPT, "raft: journal starts at %llu, after the log needed from %llu",
            (unsigned long long)tandem_journal_first_index(j), (unsigned long long)first);
    }
    tandem_buf payload = TANDEM_BUF_INIT;
    uint64_t last = tandem_journal_last_index(j);
    for (uint64_t i = first; rc == 0 && i <= last; i++) {
        tandem_journal_entry je;
        rc = tandem_journal_read(j, i, &je, &payload, diag);
        if (rc == 0) {
            tandem_raft_entry e = {je.term, je.kind, je.payload_size_bytes, payload.data};
            rc = tandem_raft_load_entry(r, &e, diag);
        }
    }
    tandem_buf_free(&payload);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_raft_load_done(r, commit_index, diag);
    TANDEM_ASSERT(rc != 0 || tandem_raft_last_index(r) == tandem_journal_last_index(j) ||
                  tandem_raft_last_index(r) == tandem_raft_snapshot_index(r));
    return rc;
}

int tandem_raft_journal_write_hard_state(tandem_journal *j, const tandem_raft_update *u,
                                         tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && u != NULL);
    if (!u->hard_state_changed) {
        return TANDEM_OK;
    }
    uint64_t vote = u->voted_for == TANDEM_RAFT_NONE ? TANDEM_JOURNAL_NO_VOTE : u->voted_for;
    int rc = tandem_journal_meta_set(j, u->term, vote, diag);
    TANDEM_ASSERT(rc != 0 || tandem_journal_meta_get(j).term == u->term);
    return rc;
}

int tandem_raft_journal_write_entries(tandem_journal *j, const tandem_raft_update *u,
                                      tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && u != NULL);
    int rc = 0;
    if (u->truncate_from != 0) {
        rc = tandem_journal_truncate_from(j, u->truncate_from, diag);
    }
    for (size_t i = 0; i < u->n_entries && rc == 0; i++) {
        const tandem_raft_entry *e = &u->entries[i];
        uint64_t at = 0;
        rc = tandem_journal_append(j, e->term, e->kind, e->payload, e->size_bytes, &at, diag);
        if (rc == 0 && at != u->entries_first_index + i) {
            return tandem_diag_set(
                diag, TANDEM_ECORRUPT, "raft: journal appended at %llu, the log is at %llu",
                (unsigned long long)at, (unsigned long long)(u->entries_first_index + i));
        }
    }
    return rc;
}

int tandem_raft_journal_flush(tandem_raft *r, tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && j != NULL);
    int rc = tandem_journal_flush(j, diag);
    if (rc != 0) {
        return rc;
    }
    uint64_t last = tandem_journal_last_index(j), term = 0;
    TANDEM_ASSERT(tandem_journal_durable_index(j) == last);
    if (tandem_journal_term_at(j, last, &term) == 0) {
        tandem_raft_persisted(r, last, term);
    }
    return TANDEM_OK;
}
