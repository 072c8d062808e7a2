/* The journal's in-memory index: where each entry starts, segment by
 * segment, and which term each index has (kept as runs of equal terms, since
 * terms change rarely). It is rebuilt by the scan on open, so reads need no
 * search on disk: one positioned read per entry. */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal_int.h"

void journal_index_init(journal_index *x)
{
    TANDEM_ASSERT(x != NULL);
    memset(x, 0, sizeof(*x));
    TANDEM_ASSERT(x->segs == NULL && x->runs == NULL);
}

void journal_index_free(journal_index *x)
{
    TANDEM_ASSERT(x != NULL);
    TANDEM_ASSERT(x->seg_count <= x->seg_cap);
    for (size_t i = 0; i < x->seg_count; i++) {
        free(x->segs[i].offsets);
    }
    free(x->segs);
    free(x->runs);
    journal_index_init(x);
}

int journal_index_push_segment(journal_index *x, const journal_segment_header *h)
{
    TANDEM_ASSERT(x != NULL && h != NULL);
    if (x->seg_count > 0) {
        const journal_segment *last = &x->segs[x->seg_count - 1];
        TANDEM_ASSERT(h->number == last->number + 1);
        TANDEM_ASSERT(h->first_index == last->first_index + last->count);
    }
    if (x->seg_count == JOURNAL_SEGMENT_COUNT_MAX) {
        return TANDEM_ERANGE;
    }
    if (x->seg_count == x->seg_cap) {
        size_t cap = x->seg_cap == 0 ? 8 : x->seg_cap * 2;
        journal_segment *p = realloc(x->segs, cap * sizeof(*p));
        if (p == NULL) {
            return TANDEM_ENOMEM;
        }
        x->segs = p;
        x->seg_cap = cap;
    }
    journal_segment *s = &x->segs[x->seg_count++];
    memset(s, 0, sizeof(*s));
    s->number = h->number;
    s->first_index = h->first_index;
    s->prev_term = h->prev_term;
    s->flags = h->flags;
    s->end_bytes = JOURNAL_SEGMENT_HEADER_BYTES;
    return TANDEM_OK;
}

int journal_index_reserve_entry(journal_index *x, uint64_t max_entries)
{
    TANDEM_ASSERT(x != NULL && x->seg_count > 0);
    journal_segment *s = &x->segs[x->seg_count - 1];
    TANDEM_ASSERT(s->count <= s->offsets_cap);
    if (s->count == s->offsets_cap) {
        if (s->count >= max_entries) {
            return TANDEM_ERANGE;
        }
        uint64_t cap = s->offsets_cap == 0 ? 64 : s->offsets_cap * 2;
        if (cap > max_entries) {
            cap = max_entries;
        }
        uint32_t *p = realloc(s->offsets, (size_t)cap * sizeof(*p));
        if (p == NULL) {
            return TANDEM_ENOMEM;
        }
        s->offsets = p;
        s->offsets_cap = cap;
    }
    if (x->run_count == x->run_cap) {
        size_t cap = x->run_cap == 0 ? 8 : x->run_cap * 2;
        journal_term_run *p = realloc(x->runs, cap * sizeof(*p));
        if (p == NULL) {
            return TANDEM_ENOMEM;
        }
        x->runs = p;
        x->run_cap = cap;
    }
    return TANDEM_OK;
}

int journal_index_add_entry(journal_index *x, uint32_t offset, uint64_t term, uint64_t size_bytes,
                            uint64_t max_entries)
{
    int rc = journal_index_reserve_entry(x, max_entries);
    if (rc != TANDEM_OK) {
        return rc;
    }
    journal_segment *s = &x->segs[x->seg_count - 1];
    TANDEM_ASSERT(offset == s->end_bytes);
    uint64_t index = s->first_index + s->count;
    if (x->run_count == 0 || x->runs[x->run_count - 1].term != term) {
        TANDEM_ASSERT(x->run_count == 0 || x->runs[x->run_count - 1].term < term);
        x->runs[x->run_count].first_index = index;
        x->runs[x->run_count].term = term;
        x->run_count++;
    }
    s->offsets[s->count++] = offset;
    s->end_bytes = offset + size_bytes;
    return TANDEM_OK;
}

uint64_t journal_index_first(const journal_index *x)
{
    TANDEM_ASSERT(x != NULL && x->seg_count > 0);
    return x->segs[0].first_index;
}

uint64_t journal_index_last(const journal_index *x)
{
    TANDEM_ASSERT(x != NULL && x->seg_count > 0);
    const journal_segment *s = &x->segs[x->seg_count - 1];
    TANDEM_ASSERT(s->first_index > 0);
    return s->first_index + s->count - 1;
}

size_t journal_index_find(const journal_index *x, uint64_t index)
{
    TANDEM_ASSERT(index >= journal_index_first(x) && index <= journal_index_last(x));
    /* the largest position whose first_index <= index; empty segments share
     * their first_index with the next one, so the search lands past them */
    size_t lo = 0;
    size_t hi = x->seg_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->segs[mid].first_index <= index) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    const journal_segment *s = &x->segs[lo];
    TANDEM_ASSERT(index >= s->first_index && index - s->first_index < s->count);
    return lo;
}

bool journal_index_term_at(const journal_index *x, uint64_t index, uint64_t *term)
{
    TANDEM_ASSERT(x != NULL && term != NULL);
    uint64_t first = journal_index_first(x);
    if (index + 1 == first) {
        *term = x->segs[0].prev_term;
        return true;
    }
    if (index < first || index > journal_index_last(x)) {
        return false;
    }
    TANDEM_ASSERT(x->run_count > 0 && x->runs[0].first_index <= index);
    size_t lo = 0;
    size_t hi = x->run_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->runs[mid].first_index <= index) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *term = x->runs[lo].term;
    return true;
}

void journal_index_truncate(journal_index *x, uint64_t index)
{
    TANDEM_ASSERT(x != NULL && x->seg_count > 0);
    TANDEM_ASSERT(index >= journal_index_first(x) && index <= journal_index_last(x) + 1);
    if (index == journal_index_last(x) + 1) {
        return;
    }
    size_t pos = journal_index_find(x, index);
    for (size_t i = pos + 1; i < x->seg_count; i++) {
        free(x->segs[i].offsets);
    }
    x->seg_count = pos + 1;
    journal_segment *s = &x->segs[pos];
    uint64_t keep = index - s->first_index;
    s->end_bytes = s->offsets[keep];
    s->count = keep;
    while (x->run_count > 0 && x->runs[x->run_count - 1].first_index >= index) {
        x->run_count--;
    }
    TANDEM_ASSERT(journal_index_last(x) == index - 1);
}

void journal_index_drop_front(journal_index *x, size_t n)
{
    TANDEM_ASSERT(x != NULL);
    TANDEM_ASSERT(n < x->seg_count); /* the last segment always stays */
    if (n == 0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(x->segs[i].offsets);
    }
    memmove(x->segs, x->segs + n, (x->seg_count - n) * sizeof(*x->segs));
    x->seg_count -= n;
    uint64_t first = journal_index_first(x);
    size_t drop = 0;
    while (drop + 1 < x->run_count && x->runs[drop + 1].first_index <= first) {
        drop++;
    }
    if (drop > 0) {
        memmove(x->runs, x->runs + drop, (x->run_count - drop) * sizeof(*x->runs));
        x->run_count -= drop;
    }
    TANDEM_ASSERT(x->run_count == 0 || x->runs[0].first_index <= first ||
                  journal_index_last(x) < first);
}
