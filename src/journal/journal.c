/*
 * The journal's public calls. The write path in one paragraph: append
 * encodes the entry into `pending` (stamped with the current durable index),
 * records its offset in the index and, once `pending` holds
 * write_buffer_bytes, writes it at the end of the active segment without
 * fsync. flush writes the rest and fdatasyncs the active segment once. A full
 * segment is sealed (written and fsynced) before the next is created, so only
 * the active segment ever holds unsynced bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"
#include "journal/journal_int.h"

struct tandem_journal {
    tandem_fileops *ops; /* not owned */
    char dir[TANDEM_JOURNAL_DIR_PATH_BYTES_MAX + 1];
    char meta_path[JOURNAL_PATH_BYTES];
    tandem_journal_options opts;
    journal_index index;
    int active_fd;          /* the last segment, read-write; -1 after a failure */
    uint64_t written_bytes; /* bytes of the last segment already written to its file */
    uint8_t *pending;       /* owned: encoded entries that follow written_bytes */
    size_t pending_len;
    size_t pending_cap;
    uint64_t durable_index;
    int read_fd; /* a sealed segment kept open for reads; -1 when none */
    uint64_t read_number;
    tandem_journal_meta meta;
    bool stopped;
};

void tandem_journal_options_default(tandem_journal_options *opts)
{
    TANDEM_ASSERT(opts != NULL);
    opts->segment_size_bytes = (uint64_t)128 << 20;
    opts->entry_size_bytes_max = (uint32_t)4 << 20;
    opts->write_buffer_bytes = (uint32_t)1 << 20;
    TANDEM_ASSERT(opts->segment_size_bytes >=
                  JOURNAL_SEGMENT_HEADER_BYTES +
                      journal_entry_size_bytes(opts->entry_size_bytes_max));
}

static int check_options(const tandem_journal_options *o, tandem_diag *diag)
{
    TANDEM_ASSERT(o != NULL);
    if (o->segment_size_bytes < TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MIN ||
        o->segment_size_bytes > TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "segment_size_bytes %" PRIu64 " is outside [%" PRIu64 ", %" PRIu64
                               "]",
                               o->segment_size_bytes, TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MIN,
                               TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MAX);
    }
    if (o->entry_size_bytes_max > TANDEM_JOURNAL_ENTRY_SIZE_BYTES_MAX ||
        JOURNAL_SEGMENT_HEADER_BYTES + journal_entry_size_bytes(o->entry_size_bytes_max) >
            o->segment_size_bytes) {
        return tandem_diag_set(
            diag, TANDEM_EINVAL,
            "entry_size_bytes_max %" PRIu32 " does not fit a segment of segment_size_bytes %" PRIu64
            " (or is over %" PRIu32 ")",
            o->entry_size_bytes_max, o->segment_size_bytes, TANDEM_JOURNAL_ENTRY_SIZE_BYTES_MAX);
    }
    if (o->write_buffer_bytes == 0 ||
        o->write_buffer_bytes > TANDEM_JOURNAL_WRITE_BUFFER_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "write_buffer_bytes %" PRIu32 " is outside [1, %" PRIu32 "]",
                               o->write_buffer_bytes, TANDEM_JOURNAL_WRITE_BUFFER_BYTES_MAX);
    }
    return TANDEM_OK;
}

/* The fail-stop: after this every call returns TANDEM_ESTOPPED. */
static int stop(tandem_journal *j, int rc, const tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && diag != NULL);
    TANDEM_ASSERT(rc != TANDEM_OK);
    j->stopped = true;
    char durable[32];
    snprintf(durable, sizeof(durable), "%" PRIu64, j->durable_index);
    tandem_log(TANDEM_LOG_ERROR, "journal stopped after an I/O failure", "dir", j->dir, "error",
               tandem_errname(rc), "detail", tandem_diag_text(diag), "durable_index", durable,
               NULL);
    return rc;
}

static journal_segment *last_segment(tandem_journal *j)
{
    TANDEM_ASSERT(j->index.seg_count > 0);
    journal_segment *s = &j->index.segs[j->index.seg_count - 1];
    TANDEM_ASSERT(s->end_bytes == j->written_bytes + j->pending_len || j->stopped);
    return s;
}

static void close_read_fd(tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    if (j->read_fd >= 0) {
        j->ops->close(j->ops, j->read_fd);
        j->read_fd = -1;
        j->read_number = 0;
    }
    TANDEM_ASSERT(j->read_fd == -1);
}

static void close_active_fd(tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    if (j->active_fd >= 0) {
        j->ops->close(j->ops, j->active_fd);
        j->active_fd = -1;
    }
    TANDEM_ASSERT(j->active_fd == -1);
}

/* Writes `pending` at the end of the active segment; no fsync. */
static int write_pending(tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && !j->stopped && j->active_fd >= 0);
    if (j->pending_len == 0) {
        return TANDEM_OK;
    }
    int rc = j->ops->pwrite(j->ops, j->active_fd, j->pending, j->pending_len, j->written_bytes);
    if (rc != TANDEM_OK) {
        tandem_diag_set(
            diag, rc, "write %zu bytes at byte offset %" PRIu64 " of segment %" PRIu64 " in %s: %s",
            j->pending_len, j->written_bytes, last_segment(j)->number, j->dir, tandem_strerror(rc));
        return stop(j, rc, diag);
    }
    j->written_bytes += j->pending_len;
    j->pending_len = 0;
    TANDEM_ASSERT(j->written_bytes == last_segment(j)->end_bytes);
    return TANDEM_OK;
}

/* Writes what is pending and fdatasyncs the active segment. */
static int sync_active(tandem_journal *j, tandem_diag *diag)
{
    int rc = write_pending(j, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = j->ops->sync(j->ops, j->active_fd);
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "fsync segment %" PRIu64 " in %s: %s", last_segment(j)->number,
                        j->dir, tandem_strerror(rc));
        return stop(j, rc, diag);
    }
    j->durable_index = journal_index_last(&j->index);
    return TANDEM_OK;
}

/* Seals the full active segment and starts the next one. */
static int roll(tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && !j->stopped);
    if (last_segment(j)->number >= JOURNAL_SEGMENT_NUMBER_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE,
                               "segment number %" PRIu64 " is the largest allowed",
                               last_segment(j)->number);
    }
    int rc = sync_active(j, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    const journal_segment *s = last_segment(j);
    uint64_t last = journal_index_last(&j->index);
    journal_segment_header h = {.version = JOURNAL_FORMAT_VERSION,
                                .number = s->number + 1,
                                .first_index = last + 1,
                                .flags = 0};
    bool ok = journal_index_term_at(&j->index, last, &h.prev_term);
    TANDEM_ASSERT(ok);
    close_active_fd(j);
    rc = journal_segment_create(j->ops, j->dir, &h, diag);
    if (rc == TANDEM_OK) {
        rc = journal_index_push_segment(&j->index, &h);
        if (rc != TANDEM_OK) {
            tandem_diag_set(diag, rc, "index of segment %" PRIu64 ": %s", h.number,
                            tandem_strerror(rc));
        }
    }
    if (rc == TANDEM_OK) {
        rc = journal_segment_open(j->ops, j->dir, h.number, true, &j->active_fd, diag);
    }
    if (rc != TANDEM_OK) {
        return stop(j, rc, diag);
    }
    j->written_bytes = JOURNAL_SEGMENT_HEADER_BYTES;
    TANDEM_ASSERT(last_segment(j)->end_bytes == j->written_bytes);
    return TANDEM_OK;
}

/* ---- open ---- */

/* Carries out a torn-tail verdict and removes leftovers, read-write. */
static int apply_plan(tandem_journal *j, journal_plan *plan, tandem_diag *diag)
{
    TANDEM_ASSERT(plan->verdict == JOURNAL_CLEAN || plan->verdict == JOURNAL_TORN);
    bool deleted = false;
    for (size_t i = 0; i < plan->tmp_count; i++) {
        int rc = journal_segment_unlink(j->ops, j->dir, plan->tmp_numbers[i], true, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        deleted = true;
    }
    for (size_t i = 0; i < plan->start; i++) { /* obsolete, oldest first */
        int rc = journal_segment_unlink(j->ops, j->dir, plan->numbers[i], false, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        deleted = true;
    }
    const journal_damage *d = &plan->damage;
    if (plan->verdict == JOURNAL_TORN) {
        size_t keep = d->header ? d->seg_pos : d->seg_pos + 1;
        for (size_t i = plan->number_count; i-- > keep;) { /* newest first */
            int rc = journal_segment_unlink(j->ops, j->dir, plan->numbers[i], false, diag);
            if (rc != TANDEM_OK) {
                return rc;
            }
            deleted = true;
        }
        char entry[32];
        char offset[32];
        snprintf(entry, sizeof(entry), "%" PRIu64, d->index);
        snprintf(offset, sizeof(offset), "%" PRIu64, d->offset);
        tandem_log(TANDEM_LOG_WARN, "journal torn tail truncated", "dir", j->dir, "index", entry,
                   "offset", offset, "detail", plan->message, NULL);
    }
    if (deleted) {
        int rc = j->ops->sync_dir(j->ops, j->dir);
        if (rc != TANDEM_OK) {
            return tandem_diag_set(diag, rc, "fsync directory %s: %s", j->dir, tandem_strerror(rc));
        }
    }
    return TANDEM_OK;
}

/* Opens every segment, fsyncs it (a crashed process may have left unsynced
 * bytes that were read as valid; they must be durable before the journal
 * reports them so, and before new entries claim them in synced_index),
 * truncates the last one to its valid end and keeps it open. */
static int sync_segments(tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(j->index.seg_count > 0 && j->active_fd == -1);
    for (size_t i = 0; i < j->index.seg_count; i++) {
        const journal_segment *s = &j->index.segs[i];
        bool last = i + 1 == j->index.seg_count;
        int fd;
        int rc = journal_segment_open(j->ops, j->dir, s->number, true, &fd, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        uint64_t size = 0;
        rc = j->ops->size(j->ops, fd, &size);
        if (rc == TANDEM_OK && last && size != s->end_bytes) {
            rc = j->ops->truncate(j->ops, fd, s->end_bytes);
        }
        if (rc == TANDEM_OK) {
            rc = j->ops->sync(j->ops, fd);
        }
        if (rc != TANDEM_OK) {
            j->ops->close(j->ops, fd);
            return tandem_diag_set(diag, rc, "truncate/fsync segment %" PRIu64 " in %s: %s",
                                   s->number, j->dir, tandem_strerror(rc));
        }
        if (last) {
            j->active_fd = fd;
        } else {
            j->ops->close(j->ops, fd);
        }
    }
    j->written_bytes = j->index.segs[j->index.seg_count - 1].end_bytes;
    return TANDEM_OK;
}

static int open_recover(tandem_journal *j, tandem_diag *diag)
{
    journal_plan plan;
    int rc = journal_scan(j->ops, j->dir, NULL, &plan, diag);
    if (rc != TANDEM_OK) {
        goto cleanup;
    }
    if (plan.verdict == JOURNAL_CORRUPT) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "%s", plan.message);
        tandem_log(TANDEM_LOG_ERROR, "journal refused", "dir", j->dir, "detail", plan.message,
                   NULL);
        goto cleanup;
    }
    rc = apply_plan(j, &plan, diag);
    if (rc != TANDEM_OK) {
        goto cleanup;
    }
    j->index = plan.index;
    journal_index_init(&plan.index);
    if (j->index.seg_count == 0) {
        journal_segment_header h = {.version = JOURNAL_FORMAT_VERSION,
                                    .number = 1,
                                    .first_index = 1,
                                    .prev_term = 0,
                                    .flags = JOURNAL_SEGMENT_FLAG_BASE};
        rc = journal_segment_create(j->ops, j->dir, &h, diag);
        if (rc == TANDEM_OK) {
            rc = journal_index_push_segment(&j->index, &h);
        }
        if (rc != TANDEM_OK) {
            goto cleanup;
        }
    }
    rc = sync_segments(j, diag);
cleanup:
    journal_plan_free(&plan);
    return rc;
}

static int open_meta(tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    int n = snprintf(j->meta_path, sizeof(j->meta_path), "%s/%s", j->dir, JOURNAL_META_NAME);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(j->meta_path));
    char tmp[JOURNAL_PATH_BYTES];
    n = snprintf(tmp, sizeof(tmp), "%s%s", j->meta_path, JOURNAL_TMP_SUFFIX);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(tmp));
    int rc = j->ops->unlink(j->ops, tmp); /* an interrupted meta_set */
    if (rc != TANDEM_OK && rc != TANDEM_ENOENT) {
        return tandem_diag_set(diag, rc, "unlink %s: %s", tmp, tandem_strerror(rc));
    }
    j->meta.term = 0;
    j->meta.voted_for = TANDEM_JOURNAL_NO_VOTE;
    rc = tandem_journal_meta_load(j->ops, j->meta_path, &j->meta, diag);
    if (rc == TANDEM_ENOENT) {
        tandem_diag_clear(diag);
        return TANDEM_OK;
    }
    return rc;
}

int tandem_journal_open(tandem_fileops *ops, const char *dir, const tandem_journal_options *opts,
                        tandem_journal **out, tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL && out != NULL);
    tandem_journal_options o;
    if (opts != NULL) {
        o = *opts;
    } else {
        tandem_journal_options_default(&o);
    }
    int rc = check_options(&o, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_journal *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "journal: out of memory");
    }
    rc = journal_dir_normalise(dir, j->dir, sizeof(j->dir), diag);
    if (rc != TANDEM_OK) {
        free(j);
        return rc;
    }
    dir = j->dir;
    j->ops = ops;
    j->opts = o;
    j->active_fd = -1;
    j->read_fd = -1;
    journal_index_init(&j->index);
    rc = tandem_mkdir_durable(ops, dir);
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "create directory %s: %s", dir, tandem_strerror(rc));
        goto fail;
    }
    rc = open_recover(j, diag);
    if (rc == TANDEM_OK) {
        rc = open_meta(j, diag);
    }
    if (rc != TANDEM_OK) {
        goto fail;
    }
    j->durable_index = journal_index_last(&j->index);
    char first[32];
    char last[32];
    snprintf(first, sizeof(first), "%" PRIu64, journal_index_first(&j->index));
    snprintf(last, sizeof(last), "%" PRIu64, j->durable_index);
    tandem_log(TANDEM_LOG_INFO, "journal opened", "dir", dir, "first_index", first, "last_index",
               last, NULL);
    *out = j;
    return TANDEM_OK;
fail:
    tandem_journal_close(j);
    return rc;
}

void tandem_journal_close(tandem_journal *j)
{
    if (j == NULL) {
        return;
    }
    TANDEM_ASSERT(j->ops != NULL);
    close_read_fd(j);
    close_active_fd(j);
    journal_index_free(&j->index);
    free(j->pending);
    free(j);
}

/* ---- append, flush ---- */

static int reserve_pending(tandem_journal *j, uint64_t extra)
{
    TANDEM_ASSERT(j != NULL);
    TANDEM_ASSERT(extra <= (uint64_t)TANDEM_JOURNAL_ENTRY_SIZE_BYTES_MAX + JOURNAL_ENTRY_BYTES_MIN);
    size_t need = j->pending_len + (size_t)extra;
    if (need <= j->pending_cap) {
        return TANDEM_OK;
    }
    size_t cap = j->pending_cap == 0 ? 4096 : j->pending_cap;
    while (cap < need) {
        cap *= 2;
    }
    uint8_t *p = realloc(j->pending, cap);
    if (p == NULL) {
        return TANDEM_ENOMEM;
    }
    j->pending = p;
    j->pending_cap = cap;
    return TANDEM_OK;
}

int tandem_journal_append(tandem_journal *j, uint64_t term, uint8_t kind, const void *payload,
                          size_t payload_size_bytes, uint64_t *index_out, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && index_out != NULL);
    TANDEM_ASSERT(payload != NULL || payload_size_bytes == 0);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    if (kind < TANDEM_JOURNAL_DATA || kind > TANDEM_JOURNAL_NOOP) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "unknown entry kind %u", (unsigned)kind);
    }
    if (payload_size_bytes > j->opts.entry_size_bytes_max) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "entry of %zu bytes is over the %" PRIu32 " bytes limit",
                               payload_size_bytes, j->opts.entry_size_bytes_max);
    }
    uint64_t last = journal_index_last(&j->index);
    uint64_t last_term = 0;
    bool ok = journal_index_term_at(&j->index, last, &last_term);
    TANDEM_ASSERT(ok);
    if (term < last_term) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "term %" PRIu64 " is below the last entry's %" PRIu64, term,
                               last_term);
    }
    if (last >= JOURNAL_INDEX_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE, "index %" PRIu64 " is the largest allowed",
                               last);
    }
    uint64_t total = journal_entry_size_bytes(payload_size_bytes);
    if (last_segment(j)->count > 0 &&
        last_segment(j)->end_bytes + total > j->opts.segment_size_bytes) {
        int rc = roll(j, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    journal_segment *s = last_segment(j);
    uint64_t max_entries = j->opts.segment_size_bytes / JOURNAL_ENTRY_BYTES_MIN + 1;
    int rc = journal_index_reserve_entry(&j->index, max_entries);
    if (rc == TANDEM_OK) {
        rc = reserve_pending(j, total);
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "append: %s", tandem_strerror(rc));
    }
    journal_entry_header h = {.payload_size_bytes = (uint32_t)payload_size_bytes,
                              .index = last + 1,
                              .term = term,
                              .synced_index = j->durable_index,
                              .kind = kind};
    uint8_t *dst = j->pending + j->pending_len;
    memset(dst, 0, (size_t)total);
    journal_entry_header_encode(&h, payload, dst);
    if (payload_size_bytes > 0) {
        memcpy(dst + JOURNAL_ENTRY_HEADER_BYTES, payload, payload_size_bytes);
    }
    j->pending_len += (size_t)total;
    rc = journal_index_add_entry(&j->index, (uint32_t)s->end_bytes, term, total, max_entries);
    TANDEM_ASSERT(rc == TANDEM_OK); /* reserved above */
    TANDEM_ASSERT(journal_index_last(&j->index) == h.index);
    *index_out = h.index;
    if (j->pending_len >= j->opts.write_buffer_bytes) {
        return write_pending(j, diag);
    }
    return TANDEM_OK;
}

int tandem_journal_flush(tandem_journal *j, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    uint64_t last = journal_index_last(&j->index);
    TANDEM_ASSERT(j->durable_index <= last);
    if (j->durable_index == last) {
        TANDEM_ASSERT(j->pending_len == 0);
        return TANDEM_OK;
    }
    tandem_diag local;
    return sync_active(j, diag != NULL ? diag : &local);
}

/* ---- read ---- */

static int read_fd_for(tandem_journal *j, size_t pos, int *fd, tandem_diag *diag)
{
    TANDEM_ASSERT(pos < j->index.seg_count);
    const journal_segment *s = &j->index.segs[pos];
    if (pos + 1 == j->index.seg_count) {
        TANDEM_ASSERT(j->active_fd >= 0);
        *fd = j->active_fd;
        return TANDEM_OK;
    }
    if (j->read_fd < 0 || j->read_number != s->number) {
        close_read_fd(j);
        int rc = journal_segment_open(j->ops, j->dir, s->number, false, &j->read_fd, diag);
        if (rc != TANDEM_OK) {
            j->read_fd = -1;
            return rc;
        }
        j->read_number = s->number;
    }
    *fd = j->read_fd;
    return TANDEM_OK;
}

static int read_damaged(tandem_journal *j, uint64_t number, uint64_t index, uint64_t off,
                        const char *why, tandem_diag *diag)
{
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(j->dir, number, false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    TANDEM_ASSERT(why != NULL);
    return tandem_diag_set(diag, TANDEM_ECORRUPT,
                           "entry %" PRIu64 " at byte offset %" PRIu64 " of %s is damaged: %s",
                           index, off, path, why);
}

static int read_from_file(tandem_journal *j, size_t pos, uint64_t index, uint64_t off,
                          journal_entry_header *h, tandem_buf *payload, tandem_diag *diag)
{
    uint64_t number = j->index.segs[pos].number;
    int fd;
    int rc = read_fd_for(j, pos, &fd, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint8_t hb[JOURNAL_ENTRY_HEADER_BYTES];
    size_t got = 0;
    rc = j->ops->pread(j->ops, fd, hb, sizeof(hb), off, &got);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read segment %" PRIu64 " in %s: %s", number, j->dir,
                               tandem_strerror(rc));
    }
    const char *why = "entry header cut short";
    if (got < sizeof(hb) || journal_entry_header_decode(hb, got, h, &why) != TANDEM_OK) {
        return read_damaged(j, number, index, off, why, diag);
    }
    if (h->index != index) {
        return read_damaged(j, number, index, off, "another index is stored there", diag);
    }
    if (h->payload_size_bytes == 0) {
        return journal_entry_payload_ok(hb, h, NULL)
                   ? TANDEM_OK
                   : read_damaged(j, number, index, off, "checksum mismatch", diag);
    }
    uint8_t *dst = NULL;
    rc = tandem_buf_put_zeros(payload, h->payload_size_bytes, &dst);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read: %s", tandem_strerror(rc));
    }
    rc = j->ops->pread(j->ops, fd, dst, h->payload_size_bytes, off + JOURNAL_ENTRY_HEADER_BYTES,
                       &got);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read segment %" PRIu64 " in %s: %s", number, j->dir,
                               tandem_strerror(rc));
    }
    if (got < h->payload_size_bytes || !journal_entry_payload_ok(hb, h, dst)) {
        return read_damaged(j, number, index, off, "payload checksum mismatch", diag);
    }
    return TANDEM_OK;
}

int tandem_journal_read(tandem_journal *j, uint64_t index, tandem_journal_entry *entry,
                        tandem_buf *payload, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL && entry != NULL && payload != NULL);
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    uint64_t first = journal_index_first(&j->index);
    uint64_t last = journal_index_last(&j->index);
    if (index < first || index > last) {
        return tandem_diag_set(diag, TANDEM_ERANGE,
                               "index %" PRIu64 " is outside the journal's [%" PRIu64 ", %" PRIu64
                               "]",
                               index, first, last);
    }
    size_t pos = journal_index_find(&j->index, index);
    const journal_segment *s = &j->index.segs[pos];
    uint64_t off = s->offsets[index - s->first_index];
    tandem_buf_reset(payload);
    journal_entry_header h;
    if (pos + 1 == j->index.seg_count && off >= j->written_bytes) {
        /* not written yet: our own memory, checked by assertion */
        const uint8_t *p = j->pending + (off - j->written_bytes);
        const char *why;
        int rc = journal_entry_header_decode(p, JOURNAL_ENTRY_HEADER_BYTES, &h, &why);
        TANDEM_ASSERT(rc == TANDEM_OK && h.index == index);
        rc = tandem_buf_append(payload, p + JOURNAL_ENTRY_HEADER_BYTES, h.payload_size_bytes);
        if (rc != TANDEM_OK) {
            return tandem_diag_set(diag, rc, "read: %s", tandem_strerror(rc));
        }
    } else {
        int rc = read_from_file(j, pos, index, off, &h, payload, diag);
        if (rc != TANDEM_OK) {
            tandem_buf_reset(payload);
            return rc;
        }
    }
    entry->index = h.index;
    entry->term = h.term;
    entry->kind = h.kind;
    entry->payload_size_bytes = h.payload_size_bytes;
    TANDEM_ASSERT(payload->len == h.payload_size_bytes);
    return TANDEM_OK;
}

int tandem_journal_term_at(const tandem_journal *j, uint64_t index, uint64_t *term_out)
{
    TANDEM_ASSERT(j != NULL && term_out != NULL);
    if (j->stopped) {
        return TANDEM_ESTOPPED;
    }
    if (!journal_index_term_at(&j->index, index, term_out)) {
        return TANDEM_ERANGE;
    }
    return TANDEM_OK;
}

uint64_t tandem_journal_first_index(const tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    return journal_index_first(&j->index);
}

uint64_t tandem_journal_last_index(const tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    return journal_index_last(&j->index);
}

uint64_t tandem_journal_durable_index(const tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    TANDEM_ASSERT(j->durable_index <= journal_index_last(&j->index));
    return j->durable_index;
}

bool tandem_journal_stopped(const tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    return j->stopped;
}

/* ---- truncate, compact, reset ---- */

/* Makes the segment at pos (no longer the last file) the active one again. */
static int reactivate(tandem_journal *j, size_t pos, tandem_diag *diag)
{
    TANDEM_ASSERT(j->active_fd == -1);
    uint64_t number = j->index.segs[pos].number;
    if (j->read_number == number) {
        close_read_fd(j);
    }
    return journal_segment_open(j->ops, j->dir, number, true, &j->active_fd, diag);
}

/* Deletes the segments after pos durably, newest first (a crash leaves a
 * prefix), and makes pos the active segment again. */
static int drop_segments_after(tandem_journal *j, size_t pos, tandem_diag *diag)
{
    size_t n = j->index.seg_count;
    TANDEM_ASSERT(pos + 1 < n);
    for (size_t i = n; i-- > pos + 1;) {
        if (i + 1 == n) {
            close_active_fd(j);
            j->pending_len = 0;
        }
        if (j->read_number == j->index.segs[i].number) {
            close_read_fd(j);
        }
        int rc = journal_segment_unlink(j->ops, j->dir, j->index.segs[i].number, false, diag);
        if (rc != TANDEM_OK) {
            return stop(j, rc, diag);
        }
    }
    int rc = j->ops->sync_dir(j->ops, j->dir);
    if (rc == TANDEM_OK) {
        rc = reactivate(j, pos, diag);
    } else {
        tandem_diag_set(diag, rc, "fsync directory %s: %s", j->dir, tandem_strerror(rc));
    }
    if (rc != TANDEM_OK) {
        return stop(j, rc, diag);
    }
    j->written_bytes = j->index.segs[pos].end_bytes;
    TANDEM_ASSERT(j->active_fd >= 0 && j->pending_len == 0);
    return TANDEM_OK;
}

int tandem_journal_truncate_from(tandem_journal *j, uint64_t index, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    uint64_t first = journal_index_first(&j->index);
    uint64_t last = journal_index_last(&j->index);
    if (index < first || index > last + 1) {
        return tandem_diag_set(diag, TANDEM_ERANGE,
                               "truncate from %" PRIu64 ": outside [%" PRIu64 ", %" PRIu64 "]",
                               index, first, last + 1);
    }
    if (index == last + 1) {
        return TANDEM_OK;
    }
    size_t pos = journal_index_find(&j->index, index);
    int rc = TANDEM_OK;
    if (pos + 1 < j->index.seg_count) {
        rc = drop_segments_after(j, pos, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    const journal_segment *s = &j->index.segs[pos];
    uint64_t off = s->offsets[index - s->first_index];
    if (off >= j->written_bytes) {
        /* only pending bytes go: the file never held them */
        j->pending_len = (size_t)(off - j->written_bytes);
    } else {
        j->pending_len = 0;
        rc = j->ops->truncate(j->ops, j->active_fd, off);
        if (rc == TANDEM_OK) {
            rc = j->ops->sync(j->ops, j->active_fd);
        }
        if (rc != TANDEM_OK) {
            tandem_diag_set(diag, rc,
                            "truncate segment %" PRIu64 " in %s at byte offset %" PRIu64 ": %s",
                            s->number, j->dir, off, tandem_strerror(rc));
            return stop(j, rc, diag);
        }
        j->written_bytes = off;
    }
    journal_index_truncate(&j->index, index);
    if (j->durable_index > index - 1) {
        j->durable_index = index - 1;
    }
    TANDEM_ASSERT(last_segment(j)->end_bytes == j->written_bytes + j->pending_len);
    return TANDEM_OK;
}

int tandem_journal_compact_below(tandem_journal *j, uint64_t index, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    size_t n = 0;
    while (n + 1 < j->index.seg_count && j->index.segs[n + 1].first_index <= index) {
        n++;
    }
    if (n == 0) {
        return TANDEM_OK;
    }
    for (size_t i = 0; i < n; i++) { /* oldest first: a crash leaves a suffix */
        if (j->read_number == j->index.segs[i].number) {
            close_read_fd(j);
        }
        int rc = journal_segment_unlink(j->ops, j->dir, j->index.segs[i].number, false, diag);
        if (rc != TANDEM_OK) {
            return stop(j, rc, diag);
        }
    }
    int rc = j->ops->sync_dir(j->ops, j->dir);
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "fsync directory %s: %s", j->dir, tandem_strerror(rc));
        return stop(j, rc, diag);
    }
    journal_index_drop_front(&j->index, n);
    TANDEM_ASSERT(journal_index_first(&j->index) <= index);
    return TANDEM_OK;
}

int tandem_journal_reset(tandem_journal *j, uint64_t next_index, uint64_t prev_term,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    if (next_index == 0 || next_index > JOURNAL_INDEX_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "reset: next index %" PRIu64 " is outside [1, %" PRIu64 "]",
                               next_index, JOURNAL_INDEX_MAX);
    }
    if (last_segment(j)->number >= JOURNAL_SEGMENT_NUMBER_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE,
                               "segment number %" PRIu64 " is the largest allowed",
                               last_segment(j)->number);
    }
    journal_segment_header h = {.version = JOURNAL_FORMAT_VERSION,
                                .number = last_segment(j)->number + 1,
                                .first_index = next_index,
                                .prev_term = prev_term,
                                .flags = JOURNAL_SEGMENT_FLAG_BASE};
    close_active_fd(j);
    close_read_fd(j);
    j->pending_len = 0;
    /* the new start is durable before anything old goes */
    int rc = journal_segment_create(j->ops, j->dir, &h, diag);
    for (size_t i = 0; rc == TANDEM_OK && i < j->index.seg_count; i++) {
        rc = journal_segment_unlink(j->ops, j->dir, j->index.segs[i].number, false, diag);
    }
    if (rc == TANDEM_OK) {
        rc = j->ops->sync_dir(j->ops, j->dir);
        if (rc != TANDEM_OK) {
            tandem_diag_set(diag, rc, "fsync directory %s: %s", j->dir, tandem_strerror(rc));
        }
    }
    journal_index fresh;
    journal_index_init(&fresh);
    if (rc == TANDEM_OK) {
        rc = journal_index_push_segment(&fresh, &h);
        if (rc != TANDEM_OK) {
            tandem_diag_set(diag, rc, "reset: %s", tandem_strerror(rc));
        }
    }
    if (rc == TANDEM_OK) {
        journal_index_free(&j->index);
        j->index = fresh;
        rc = journal_segment_open(j->ops, j->dir, h.number, true, &j->active_fd, diag);
    } else {
        journal_index_free(&fresh);
    }
    if (rc != TANDEM_OK) {
        /* the old index stays (or the new one) so getters answer while stopped */
        return stop(j, rc, diag);
    }
    j->written_bytes = JOURNAL_SEGMENT_HEADER_BYTES;
    j->durable_index = next_index - 1;
    TANDEM_ASSERT(journal_index_last(&j->index) == next_index - 1);
    return TANDEM_OK;
}

/* ---- term and vote ---- */

tandem_journal_meta tandem_journal_meta_get(const tandem_journal *j)
{
    TANDEM_ASSERT(j != NULL);
    TANDEM_ASSERT(j->meta_path[0] != '\0');
    return j->meta;
}

int tandem_journal_meta_set(tandem_journal *j, uint64_t term, uint64_t voted_for, tandem_diag *diag)
{
    TANDEM_ASSERT(j != NULL);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    if (j->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "journal %s is stopped", j->dir);
    }
    tandem_journal_meta m = {.term = term, .voted_for = voted_for};
    int rc = tandem_journal_meta_store(j->ops, j->meta_path, &m, diag);
    if (rc != TANDEM_OK) {
        return stop(j, rc, diag);
    }
    j->meta = m;
    TANDEM_ASSERT(j->meta.term == term);
    return TANDEM_OK;
}
