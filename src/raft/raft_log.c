/*
 * raft_log.c — the core's in-memory copy of the log.
 *
 * The journal is the durable log; the core keeps every entry after its
 * snapshot in memory, so that it can send and compare entries without I/O.
 * Index i lives at log[i - snap_index - 1]; tandem_raft_compact bounds the
 * memory by moving the snapshot forward.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "raft/raft_int.h"

uint64_t raft_last_index(const tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->log_len <= r->log_cap);
    return r->snap_index + r->log_len;
}

tandem_raft_entry *raft_entry_ptr(const tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(index > r->snap_index);
    TANDEM_ASSERT(index <= raft_last_index(r));
    return &r->log[index - r->snap_index - 1];
}

uint64_t raft_term_at(const tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(r != NULL);
    if (index == r->snap_index) {
        return r->snap_term;
    }
    if (index < r->snap_index || index > raft_last_index(r)) {
        return 0;
    }
    return raft_entry_ptr(r, index)->term;
}

uint64_t raft_last_term(const tandem_raft *r)
{
    return raft_term_at(r, raft_last_index(r));
}

int raft_log_append(tandem_raft *r, uint64_t term, uint8_t kind, const void *payload,
                    size_t size_bytes)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(term >= raft_last_term(r));
    if (size_bytes > TANDEM_RAFT_ENTRY_SIZE_BYTES_MAX) {
        return TANDEM_ETOOBIG;
    }
    if (r->log_len == r->log_cap) {
        uint64_t cap = r->log_cap ? r->log_cap * 2 : 64;
        tandem_raft_entry *n = realloc(r->log, (size_t)cap * sizeof(*n));
        if (n == NULL) {
            return TANDEM_ENOMEM;
        }
        r->log = n;
        r->log_cap = cap;
    }
    uint8_t *copy = NULL;
    if (size_bytes > 0) {
        copy = malloc(size_bytes);
        if (copy == NULL) {
            return TANDEM_ENOMEM;
        }
        memcpy(copy, payload, size_bytes);
    }
    tandem_raft_entry *e = &r->log[r->log_len];
    e->term = term;
    e->kind = kind;
    e->size_bytes = (uint32_t)size_bytes;
    e->payload = copy;
    r->log_len++;
    return TANDEM_OK;
}

/* Removes entries >= from. Never below the commit index: a committed entry
 * is never replaced. */
void raft_log_truncate(tandem_raft *r, uint64_t from)
{
    TANDEM_ASSERT(from > r->snap_index);
    TANDEM_ASSERT(from > r->commit);
    while (raft_last_index(r) >= from) {
        free((void *)r->log[r->log_len - 1].payload);
        r->log_len--;
    }
    if (r->persisted >= from) {
        r->persisted = from - 1;
    }
    if (r->leader_match >= from) {
        r->leader_match = from - 1;
    }
    if (r->conf_index >= from) {
        /* the configuration entry in force is gone; one appended at the same
         * index may differ, so raft_conf_refresh must not take it for this one */
        r->conf_index = 0;
    }
    if (r->unstable_from > from) {
        /* entries already handed to the host are removed: tell it */
        if (r->truncate_from == 0 || from < r->truncate_from) {
            r->truncate_from = from;
        }
        r->unstable_from = from;
    }
}

void raft_log_free(tandem_raft *r)
{
    TANDEM_ASSERT(r != NULL);
    for (uint64_t i = 0; i < r->log_len; i++) {
        free((void *)r->log[i].payload);
    }
    free(r->log);
    r->log = NULL;
    r->log_len = 0;
    r->log_cap = 0;
}

/* Raft §5.4.1: a candidate's log is at least as up to date as ours. */
bool raft_log_up_to_date(const tandem_raft *r, uint64_t last_index, uint64_t last_term)
{
    uint64_t my_term = raft_last_term(r);
    TANDEM_ASSERT(my_term <= r->term || r->term == 0);
    if (last_term != my_term) {
        return last_term > my_term;
    }
    return last_index >= raft_last_index(r);
}

/* Drops the entries up to `index` from memory: they are in the snapshot. */
void raft_log_drop_prefix(tandem_raft *r, uint64_t index)
{
    TANDEM_ASSERT(index >= r->snap_index);
    TANDEM_ASSERT(index <= raft_last_index(r));
    uint64_t n = index - r->snap_index;
    for (uint64_t i = 0; i < n; i++) {
        free((void *)r->log[i].payload);
    }
    if (n > 0 && r->log_len > n) {
        memmove(r->log, r->log + n, (size_t)(r->log_len - n) * sizeof(*r->log));
    }
    r->log_len -= n;
}
