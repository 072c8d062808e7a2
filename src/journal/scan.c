/*
 * The read-only scan of a journal directory, shared by open (which then
 * acts on the verdict) and inspect (which prints it).
 *
 * It walks the segments from the last reset, checking every entry, and stops
 * at the first damage: an entry that is cut short, fails its checksums or
 * breaks the sequence, or a segment that starts after the index the previous
 * one ended at. Then it decides torn tail or corruption (docs/DISK_FORMAT.md,
 * "Recovery"): it resynchronises on every 8-byte boundary after the damage,
 * through the rest of the files, looking for a valid entry header whose
 * synced_index reaches the damaged index. Such an entry was written after the
 * damaged one had been fsynced, so the damaged one was durable: corruption.
 * If none exists, nothing proves the damaged entry was ever durable, and a
 * power loss explains the damage: a torn tail.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal_int.h"

typedef struct scan_ctx {
    tandem_fileops *ops;
    const char *dir;
    const journal_scan_visitor *v;
    journal_plan *plan;
    tandem_diag *diag;
    journal_segment_header *hdrs; /* [number_count] */
    int *hdr_rc;                  /* [number_count] result of decoding each header */
    const char **hdr_reason;      /* [number_count] */
    uint64_t *sizes;              /* [number_count] file sizes */
    uint64_t expected;            /* index the next entry must have */
    uint64_t last_term;           /* term of expected - 1 */
} scan_ctx;

typedef struct list_acc {
    journal_plan *plan;
    size_t number_cap;
    size_t tmp_cap;
} list_acc;

static int push_u64(uint64_t **arr, size_t *count, size_t *cap, uint64_t v)
{
    TANDEM_ASSERT(arr != NULL && count != NULL && cap != NULL);
    TANDEM_ASSERT(*count <= *cap);
    if (*count == JOURNAL_SEGMENT_COUNT_MAX) {
        return TANDEM_ERANGE;
    }
    if (*count == *cap) {
        size_t ncap = *cap == 0 ? 16 : *cap * 2;
        uint64_t *p = realloc(*arr, ncap * sizeof(*p));
        if (p == NULL) {
            return TANDEM_ENOMEM;
        }
        *arr = p;
        *cap = ncap;
    }
    (*arr)[(*count)++] = v;
    return TANDEM_OK;
}

static int list_cb(void *arg, const char *name)
{
    list_acc *acc = arg;
    TANDEM_ASSERT(acc != NULL && name != NULL);
    uint64_t number = 0;
    int kind = journal_segment_name_parse(name, &number);
    if (kind == 1) {
        return push_u64(&acc->plan->numbers, &acc->plan->number_count, &acc->number_cap, number);
    }
    if (kind == 2) {
        return push_u64(&acc->plan->tmp_numbers, &acc->plan->tmp_count, &acc->tmp_cap, number);
    }
    return TANDEM_OK; /* the meta file and anything else are not segments */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void journal_plan_free(journal_plan *plan)
{
    TANDEM_ASSERT(plan != NULL);
    TANDEM_ASSERT(plan->start <= plan->number_count);
    free(plan->numbers);
    free(plan->tmp_numbers);
    journal_index_free(&plan->index);
    memset(plan, 0, sizeof(*plan));
}

/* Opens a segment read-only and reports its size. */
static int open_segment(scan_ctx *c, uint64_t number, char *path, int *fd, uint64_t *size)
{
    TANDEM_ASSERT(c != NULL && path != NULL && fd != NULL && size != NULL);
    int rc = journal_segment_path(c->dir, number, false, path, JOURNAL_PATH_BYTES);
    TANDEM_ASSERT(rc == TANDEM_OK); /* the directory length was checked */
    rc = c->ops->open(c->ops, path, TANDEM_OPEN_READ, fd);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(c->diag, rc, "open %s: %s", path, tandem_strerror(rc));
    }
    rc = c->ops->size(c->ops, *fd, size);
    if (rc != TANDEM_OK) {
        c->ops->close(c->ops, *fd);
        return tandem_diag_set(c->diag, rc, "size of %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/* Reads and decodes every segment header (needed before the walk, to find
 * the last reset). */
static int probe_headers(scan_ctx *c)
{
    journal_plan *plan = c->plan;
    TANDEM_ASSERT(plan->number_count > 0);
    for (size_t i = 0; i < plan->number_count; i++) {
        char path[JOURNAL_PATH_BYTES];
        int fd;
        int rc = open_segment(c, plan->numbers[i], path, &fd, &c->sizes[i]);
        if (rc != TANDEM_OK) {
            return rc;
        }
        uint8_t raw[JOURNAL_SEGMENT_HEADER_BYTES];
        size_t got = 0;
        rc = c->ops->pread(c->ops, fd, raw, sizeof(raw), 0, &got);
        c->ops->close(c->ops, fd);
        if (rc != TANDEM_OK) {
            return tandem_diag_set(c->diag, rc, "read %s: %s", path, tandem_strerror(rc));
        }
        c->hdr_rc[i] = journal_segment_header_decode(raw, got, &c->hdrs[i], &c->hdr_reason[i]);
        if (c->hdr_rc[i] == TANDEM_EFORMAT) {
            return tandem_diag_set(c->diag, TANDEM_EFORMAT,
                                   "%s has segment format version %" PRIu32
                                   ", this build reads version %u",
                                   path, c->hdrs[i].version, JOURNAL_FORMAT_VERSION);
        }
    }
    return TANDEM_OK;
}

static void set_verdict(scan_ctx *c, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_verdict(scan_ctx *c, int verdict, const char *fmt, ...)
{
    TANDEM_ASSERT(c != NULL && fmt != NULL);
    TANDEM_ASSERT(verdict == JOURNAL_TORN || verdict == JOURNAL_CORRUPT);
    c->plan->verdict = verdict;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->plan->message, sizeof(c->plan->message), fmt, ap);
    va_end(ap);
}

/* Corruption that needs no proof: damage no crash can cause. */
static int corrupt_at(scan_ctx *c, size_t pos, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int corrupt_at(scan_ctx *c, size_t pos, uint64_t offset, const char *fmt, ...)
{
    TANDEM_ASSERT(c != NULL && pos < c->plan->number_count);
    journal_damage *d = &c->plan->damage;
    d->seg_pos = pos;
    d->offset = offset;
    d->index = c->expected;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(c->dir, c->plan->numbers[pos], false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    if (c->v != NULL && c->v->damage != NULL) {
        c->v->damage(c->v->arg, path, d);
    }
    set_verdict(c, JOURNAL_CORRUPT, "journal corrupt: %s at byte offset %" PRIu64 ": %s", path,
                offset, d->reason);
    return TANDEM_OK;
}

/* Looks for a valid entry header at or after `from` in numbers[pos] and in
 * every later segment whose synced_index reaches d->index. */
static int find_proof(scan_ctx *c, size_t pos, uint64_t from)
{
    journal_plan *plan = c->plan;
    journal_damage *d = &plan->damage;
    TANDEM_ASSERT(pos < plan->number_count && from % JOURNAL_ENTRY_ALIGN_BYTES == 0);
    for (size_t j = pos; j < plan->number_count && !d->proven; j++) {
        char path[JOURNAL_PATH_BYTES];
        int fd;
        uint64_t size;
        int rc = open_segment(c, plan->numbers[j], path, &fd, &size);
        if (rc != TANDEM_OK) {
            return rc;
        }
        journal_reader r;
        journal_reader_init(&r, c->ops, fd, size);
        uint64_t off = j == pos ? from : JOURNAL_SEGMENT_HEADER_BYTES;
        while (off + JOURNAL_ENTRY_HEADER_BYTES <= size) {
            const uint8_t *p;
            rc = journal_reader_peek(&r, off, JOURNAL_ENTRY_HEADER_BYTES, &p);
            if (rc != TANDEM_OK) {
                break;
            }
            journal_entry_header h;
            const char *why;
            if (tandem_load_u32(p) != JOURNAL_ENTRY_MAGIC ||
                journal_entry_header_decode(p, JOURNAL_ENTRY_HEADER_BYTES, &h, &why) != 0) {
                off += JOURNAL_ENTRY_ALIGN_BYTES;
                continue;
            }
            if (c->v != NULL && c->v->candidate != NULL) {
                c->v->candidate(c->v->arg, path, off, &h);
            }
            if (h.synced_index >= d->index) {
                d->proven = true;
                d->proof_number = plan->numbers[j];
                d->proof_offset = off;
                d->proof_index = h.index;
                d->proof_synced_index = h.synced_index;
                break;
            }
            /* A whole valid entry is skipped, so copies of entries that a
             * payload might carry are never taken for entries. */
            uint64_t total = journal_entry_size_bytes(h.payload_size_bytes);
            uint8_t hb[JOURNAL_ENTRY_HEADER_BYTES];
            memcpy(hb, p, sizeof(hb));
            if (total <= size - off && journal_reader_peek(&r, off, (size_t)total, &p) == 0 &&
                journal_entry_payload_ok(hb, &h, p + JOURNAL_ENTRY_HEADER_BYTES)) {
                off += total;
            } else {
                off += JOURNAL_ENTRY_ALIGN_BYTES;
            }
        }
        journal_reader_free(&r);
        c->ops->close(c->ops, fd);
        if (rc != TANDEM_OK && rc != TANDEM_EINCOMPLETE) {
            return tandem_diag_set(c->diag, rc, "read %s: %s", path, tandem_strerror(rc));
        }
    }
    return TANDEM_OK;
}

/* The first damage is known (c->plan->damage filled in but for the proof):
 * search the proof and set the verdict. */
static int decide(scan_ctx *c, size_t search_pos, uint64_t search_from)
{
    journal_plan *plan = c->plan;
    journal_damage *d = &plan->damage;
    TANDEM_ASSERT(d->seg_pos < plan->number_count && d->index > 0);
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(c->dir, plan->numbers[d->seg_pos], false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    if (c->v != NULL && c->v->damage != NULL) {
        c->v->damage(c->v->arg, path, d);
    }
    rc = find_proof(c, search_pos, search_from);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (!d->proven) {
        set_verdict(c, JOURNAL_TORN,
                    "torn tail: %s at byte offset %" PRIu64 " (entry %" PRIu64
                    "): %s; no later entry records it durable",
                    path, d->offset, d->index, d->reason);
        return TANDEM_OK;
    }
    char proof_path[JOURNAL_PATH_BYTES];
    rc = journal_segment_path(c->dir, d->proof_number, false, proof_path, sizeof(proof_path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    set_verdict(c, JOURNAL_CORRUPT,
                "journal corrupt: %s at byte offset %" PRIu64 " (entry %" PRIu64
                "): %s; entry %" PRIu64 " at byte offset %" PRIu64
                " of %s was written when entries up to %" PRIu64 " were durable",
                path, d->offset, d->index, d->reason, d->proof_index, d->proof_offset, proof_path,
                d->proof_synced_index);
    return TANDEM_OK;
}

/* Damage at offset of segment numbers[pos]: records it and decides. */
static int damage_at(scan_ctx *c, size_t pos, uint64_t offset, bool header, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int damage_at(scan_ctx *c, size_t pos, uint64_t offset, bool header, const char *fmt, ...)
{
    TANDEM_ASSERT(c != NULL && pos < c->plan->number_count);
    TANDEM_ASSERT(offset % JOURNAL_ENTRY_ALIGN_BYTES == 0);
    journal_damage *d = &c->plan->damage;
    d->seg_pos = pos;
    d->offset = offset;
    d->header = header;
    d->index = c->expected;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
    uint64_t from = header ? JOURNAL_SEGMENT_HEADER_BYTES : offset + JOURNAL_ENTRY_ALIGN_BYTES;
    return decide(c, pos, from);
}

/* Checks the entries of numbers[pos] (its header already valid and pushed
 * into the index) until the end of the file or the first damage. */
static int scan_entries(scan_ctx *c, size_t pos, const char *path, int fd, uint64_t size)
{
    journal_plan *plan = c->plan;
    TANDEM_ASSERT(pos < plan->number_count && plan->index.seg_count > 0);
    journal_reader r;
    journal_reader_init(&r, c->ops, fd, size);
    uint64_t max_entries = size / JOURNAL_ENTRY_BYTES_MIN + 1;
    uint64_t off = JOURNAL_SEGMENT_HEADER_BYTES;
    int rc = TANDEM_OK;
    while (off < size) {
        const uint8_t *p;
        rc = journal_reader_peek(&r, off, JOURNAL_ENTRY_HEADER_BYTES, &p);
        if (rc == TANDEM_EINCOMPLETE) {
            rc = damage_at(c, pos, off, false, "entry header cut short by the end of the file");
            break;
        }
        if (rc != TANDEM_OK) {
            rc = tandem_diag_set(c->diag, rc, "read %s: %s", path, tandem_strerror(rc));
            break;
        }
        journal_entry_header h;
        const char *why;
        if (journal_entry_header_decode(p, JOURNAL_ENTRY_HEADER_BYTES, &h, &why) != TANDEM_OK) {
            rc = damage_at(c, pos, off, false, "%s", why);
            break;
        }
        if (h.index != c->expected) {
            rc = damage_at(c, pos, off, false,
                           "entry has index %" PRIu64 " where %" PRIu64 " belongs", h.index,
                           c->expected);
            break;
        }
        if (h.term < c->last_term) {
            rc = damage_at(c, pos, off, false,
                           "entry term %" PRIu64 " is below the previous %" PRIu64, h.term,
                           c->last_term);
            break;
        }
        uint64_t total = journal_entry_size_bytes(h.payload_size_bytes);
        if (total > size - off) {
            rc = damage_at(c, pos, off, false,
                           "entry of %" PRIu64 " bytes runs past the end of the file", total);
            break;
        }
        uint8_t hb[JOURNAL_ENTRY_HEADER_BYTES];
        memcpy(hb, p, sizeof(hb));
        rc = journal_reader_peek(&r, off, (size_t)total, &p);
        if (rc != TANDEM_OK) {
            rc = tandem_diag_set(c->diag, rc, "read %s: %s", path, tandem_strerror(rc));
            break;
        }
        if (!journal_entry_payload_ok(hb, &h, p + JOURNAL_ENTRY_HEADER_BYTES)) {
            rc = damage_at(c, pos, off, false, "entry checksum mismatch (payload)");
            break;
        }
        rc = journal_index_add_entry(&plan->index, (uint32_t)off, h.term, total, max_entries);
        if (rc != TANDEM_OK) {
            break;
        }
        if (c->v != NULL && c->v->entry != NULL) {
            c->v->entry(c->v->arg, off, &h, p + JOURNAL_ENTRY_HEADER_BYTES);
        }
        c->expected++;
        c->last_term = h.term;
        off += total;
    }
    journal_reader_free(&r);
    return rc;
}

/* Checks that segment numbers[pos] (valid header h) continues the log where
 * the previous one ended. *linked false: a verdict was reached instead. */
static int link_segment(scan_ctx *c, size_t pos, const journal_segment_header *h, bool *linked)
{
    journal_plan *plan = c->plan;
    TANDEM_ASSERT(pos >= plan->start && pos < plan->number_count && h != NULL);
    *linked = false;
    if (pos == plan->start) {
        c->expected = h->first_index;
        c->last_term = h->prev_term;
    } else if (h->first_index < c->expected) {
        return corrupt_at(c, pos, 0,
                          "segment starts at index %" PRIu64
                          ", inside the previous segment (which ends at %" PRIu64 ")",
                          h->first_index, c->expected - 1);
    } else if (h->first_index > c->expected) {
        /* the previous segment's tail is missing */
        TANDEM_ASSERT(plan->index.seg_count > 0);
        const journal_segment *prev = &plan->index.segs[plan->index.seg_count - 1];
        journal_damage *d = &plan->damage;
        d->seg_pos = pos - 1;
        d->offset = prev->end_bytes;
        d->index = c->expected;
        snprintf(d->reason, sizeof(d->reason),
                 "the file ends at entry %" PRIu64 " but the next segment starts at %" PRIu64,
                 c->expected - 1, h->first_index);
        return decide(c, pos, JOURNAL_SEGMENT_HEADER_BYTES);
    } else if (h->prev_term != c->last_term) {
        return corrupt_at(c, pos, 0,
                          "segment header says index %" PRIu64 " has term %" PRIu64
                          ", the previous segment says %" PRIu64,
                          c->expected - 1, h->prev_term, c->last_term);
    }
    *linked = true;
    return TANDEM_OK;
}

/* One segment of the walk. Sets *stop when a verdict has been reached. */
static int walk_segment(scan_ctx *c, size_t pos, bool *stop)
{
    journal_plan *plan = c->plan;
    TANDEM_ASSERT(pos >= plan->start && pos < plan->number_count);
    uint64_t number = plan->numbers[pos];
    bool first = pos == plan->start;
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(c->dir, number, false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    *stop = true;
    if (!first && number != plan->numbers[pos - 1] + 1) {
        return corrupt_at(c, pos, 0, "segment %" PRIu64 " is missing before it",
                          plan->numbers[pos - 1] + 1);
    }
    if (c->hdr_rc[pos] != TANDEM_OK) {
        if (c->v != NULL && c->v->segment != NULL) {
            c->v->segment(c->v->arg, path, number, NULL, c->sizes[pos], c->hdr_reason[pos]);
        }
        if (!first && pos + 1 == plan->number_count) {
            /* the newest segment: possibly a creation a crash cut short */
            return damage_at(c, pos, 0, true, "%s", c->hdr_reason[pos]);
        }
        return corrupt_at(c, pos, 0, "%s", c->hdr_reason[pos]);
    }
    const journal_segment_header *h = &c->hdrs[pos];
    if (c->v != NULL && c->v->segment != NULL) {
        c->v->segment(c->v->arg, path, number, h, c->sizes[pos], NULL);
    }
    if (h->number != number) {
        return corrupt_at(c, pos, 0, "segment header names segment %" PRIu64, h->number);
    }
    if (c->sizes[pos] > JOURNAL_SEGMENT_BYTES_FORMAT_MAX) {
        return corrupt_at(c, pos, 0, "segment file of %" PRIu64 " bytes is over the format limit",
                          c->sizes[pos]);
    }
    bool linked = false;
    rc = link_segment(c, pos, h, &linked);
    if (rc != TANDEM_OK || !linked) {
        return rc;
    }
    rc = journal_index_push_segment(&plan->index, h);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(c->diag, rc, "index of %s: %s", path, tandem_strerror(rc));
    }
    int fd;
    uint64_t size;
    rc = open_segment(c, number, path, &fd, &size);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = scan_entries(c, pos, path, fd, size);
    c->ops->close(c->ops, fd);
    *stop = plan->verdict != JOURNAL_CLEAN;
    return rc;
}

static int scan_walk(scan_ctx *c)
{
    journal_plan *plan = c->plan;
    TANDEM_ASSERT(plan->number_count > 0);
    /* the log starts at the newest segment a reset (or the first open) made */
    plan->start = 0;
    for (size_t i = plan->number_count; i-- > 0;) {
        if (c->hdr_rc[i] == TANDEM_OK && (c->hdrs[i].flags & JOURNAL_SEGMENT_FLAG_BASE) != 0) {
            plan->start = i;
            break;
        }
    }
    for (size_t i = 0; i < plan->start; i++) {
        if (c->v != NULL && c->v->segment != NULL) {
            char path[JOURNAL_PATH_BYTES];
            int rc = journal_segment_path(c->dir, plan->numbers[i], false, path, sizeof(path));
            TANDEM_ASSERT(rc == TANDEM_OK);
            c->v->segment(c->v->arg, path, plan->numbers[i], NULL, c->sizes[i],
                          "obsolete: older than the log's start (a reset), open deletes it");
        }
    }
    for (size_t i = plan->start; i < plan->number_count; i++) {
        bool stop = false;
        int rc = walk_segment(c, i, &stop);
        if (rc != TANDEM_OK || stop) {
            return rc;
        }
    }
    TANDEM_ASSERT(plan->verdict == JOURNAL_CLEAN);
    return TANDEM_OK;
}

int journal_scan(tandem_fileops *ops, const char *dir, const journal_scan_visitor *v,
                 journal_plan *plan, tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL && plan != NULL);
    memset(plan, 0, sizeof(*plan));
    journal_index_init(&plan->index);
    list_acc acc = {plan, 0, 0};
    int rc = ops->list(ops, dir, list_cb, &acc);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "list %s: %s", dir, tandem_strerror(rc));
    }
    if (plan->number_count == 0) {
        return TANDEM_OK;
    }
    qsort(plan->numbers, plan->number_count, sizeof(uint64_t), cmp_u64);
    if (plan->tmp_count > 0) {
        qsort(plan->tmp_numbers, plan->tmp_count, sizeof(uint64_t), cmp_u64);
    }
    scan_ctx c = {.ops = ops, .dir = dir, .v = v, .plan = plan, .diag = diag};
    size_t n = plan->number_count;
    c.hdrs = calloc(n, sizeof(*c.hdrs));
    c.hdr_rc = calloc(n, sizeof(*c.hdr_rc));
    c.hdr_reason = calloc(n, sizeof(*c.hdr_reason));
    c.sizes = calloc(n, sizeof(*c.sizes));
    if (c.hdrs == NULL || c.hdr_rc == NULL || c.hdr_reason == NULL || c.sizes == NULL) {
        rc = TANDEM_ENOMEM;
        goto cleanup;
    }
    rc = probe_headers(&c);
    if (rc != TANDEM_OK) {
        goto cleanup;
    }
    rc = scan_walk(&c);
cleanup:
    free(c.sizes);
    free(c.hdr_reason);
    free(c.hdr_rc);
    free(c.hdrs);
    return rc;
}
