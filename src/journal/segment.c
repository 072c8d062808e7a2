/* Segment files: durable creation, opening, deletion. */
#include <inttypes.h>

#include "base/assert.h"
#include "journal/journal_int.h"

int journal_segment_open(tandem_fileops *ops, const char *dir, uint64_t number, bool write, int *fd,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL && fd != NULL);
    TANDEM_ASSERT(number > 0);
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(dir, number, false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    rc = ops->open(ops, path, write ? TANDEM_OPEN_WRITE : TANDEM_OPEN_READ, fd);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "open %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

int journal_segment_unlink(tandem_fileops *ops, const char *dir, uint64_t number, bool tmp,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL);
    TANDEM_ASSERT(number > 0);
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(dir, number, tmp, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    rc = ops->unlink(ops, path);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "unlink %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/*
 * Temporary name, header, fsync, rename, directory fsync: a segment file
 * under its final name always has a durable header, so recovery never has to
 * guess whether a damaged header is a half-done creation. A crash leaves at
 * worst the temporary file, which open deletes.
 */
int journal_segment_create(tandem_fileops *ops, const char *dir, const journal_segment_header *h,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL && h != NULL);
    TANDEM_ASSERT(h->version == JOURNAL_FORMAT_VERSION && h->number > 0);
    char tmp[JOURNAL_PATH_BYTES];
    char path[JOURNAL_PATH_BYTES];
    int rc = journal_segment_path(dir, h->number, true, tmp, sizeof(tmp));
    TANDEM_ASSERT(rc == TANDEM_OK);
    rc = journal_segment_path(dir, h->number, false, path, sizeof(path));
    TANDEM_ASSERT(rc == TANDEM_OK);
    uint8_t raw[JOURNAL_SEGMENT_HEADER_BYTES];
    journal_segment_header_encode(h, raw);
    int fd;
    rc = ops->open(ops, tmp, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "create %s: %s", tmp, tandem_strerror(rc));
    }
    const char *what = "truncate";
    rc = ops->truncate(ops, fd, 0); /* a leftover of an earlier attempt */
    if (rc == TANDEM_OK) {
        what = "write";
        rc = ops->pwrite(ops, fd, raw, sizeof(raw), 0);
    }
    if (rc == TANDEM_OK) {
        what = "fsync";
        rc = ops->sync(ops, fd);
    }
    int close_rc = ops->close(ops, fd);
    if (rc == TANDEM_OK && close_rc != TANDEM_OK) {
        what = "close";
        rc = close_rc;
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "%s %s: %s", what, tmp, tandem_strerror(rc));
    }
    rc = ops->rename(ops, tmp, path);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "rename %s to %s: %s", tmp, path, tandem_strerror(rc));
    }
    rc = ops->sync_dir(ops, dir);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "fsync directory %s: %s", dir, tandem_strerror(rc));
    }
    return TANDEM_OK;
}
