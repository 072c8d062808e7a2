/* A buffered reader over one file for the scan: one positioned read per
 * window instead of two per entry, and a window that grows to hold the
 * largest entry met (bounded by the format's entry limit). */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal_int.h"

#define READER_WINDOW_BYTES ((size_t)1 << 20)

_Static_assert(READER_WINDOW_BYTES >= JOURNAL_SEGMENT_HEADER_BYTES, "window holds a header");

void journal_reader_init(journal_reader *r, tandem_fileops *ops, int fd, uint64_t size_bytes)
{
    TANDEM_ASSERT(r != NULL && ops != NULL);
    TANDEM_ASSERT(fd >= 0);
    memset(r, 0, sizeof(*r));
    r->ops = ops;
    r->fd = fd;
    r->file_size_bytes = size_bytes;
}

void journal_reader_free(journal_reader *r)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(r->buf_len <= r->cap);
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
    r->buf_len = 0;
}

int journal_reader_peek(journal_reader *r, uint64_t off, size_t len, const uint8_t **p)
{
    TANDEM_ASSERT(r != NULL && p != NULL);
    TANDEM_ASSERT(len <= JOURNAL_PAYLOAD_BYTES_FORMAT_MAX + JOURNAL_ENTRY_BYTES_MIN);
    if (off > r->file_size_bytes || len > r->file_size_bytes - off) {
        return TANDEM_EINCOMPLETE;
    }
    if (off >= r->buf_off && off + len <= r->buf_off + r->buf_len) {
        *p = r->buf + (off - r->buf_off);
        return TANDEM_OK;
    }
    uint64_t left = r->file_size_bytes - off;
    size_t want = len > READER_WINDOW_BYTES ? len : READER_WINDOW_BYTES;
    if (want > left) {
        want = (size_t)left; /* small files get small windows */
    }
    TANDEM_ASSERT(want >= len);
    if (want > r->cap) {
        uint8_t *nb = realloc(r->buf, want);
        if (nb == NULL) {
            return TANDEM_ENOMEM;
        }
        r->buf = nb;
        r->cap = want;
    }
    size_t n = left < r->cap ? (size_t)left : r->cap;
    size_t got = 0;
    r->buf_len = 0;
    int rc = r->ops->pread(r->ops, r->fd, r->buf, n, off, &got);
    if (rc != TANDEM_OK) {
        return rc;
    }
    r->buf_off = off;
    r->buf_len = got;
    if (got < len) {
        /* the file shrank under us: treat like its end */
        return TANDEM_EINCOMPLETE;
    }
    *p = r->buf;
    return TANDEM_OK;
}
