/* The term/vote file: Raft's current term and vote, 36 bytes with a
 * checksum, replaced atomically (docs/DISK_FORMAT.md). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/crc32c.h"
#include "journal/journal_int.h"

_Static_assert(sizeof(JOURNAL_META_MAGIC) - 1 == 8, "meta magic is 8 bytes");

int tandem_journal_meta_load(tandem_fileops *ops, const char *path, tandem_journal_meta *meta,
                             tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && path != NULL && meta != NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    /* read one byte more than the format so an overlong file is noticed */
    int rc = tandem_file_read_all(ops, path, JOURNAL_META_BYTES + 1, &data, &len);
    if (rc == TANDEM_ENOENT) {
        return tandem_diag_set(diag, rc, "%s does not exist", path);
    }
    if (rc == TANDEM_ETOOBIG) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "%s is damaged: longer than %u bytes", path,
                               JOURNAL_META_BYTES);
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read %s: %s", path, tandem_strerror(rc));
    }
    TANDEM_ASSERT(data != NULL);
    if (len != JOURNAL_META_BYTES) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "%s is damaged: %zu bytes, expected %u", path,
                             len, JOURNAL_META_BYTES);
        goto cleanup;
    }
    if (memcmp(data, JOURNAL_META_MAGIC, 8) != 0) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "%s is damaged: bad magic", path);
        goto cleanup;
    }
    uint32_t version = tandem_load_u32(data + 8);
    if (version != JOURNAL_FORMAT_VERSION) {
        rc = tandem_diag_set(diag, TANDEM_EFORMAT,
                             "%s has format version %" PRIu32 ", this build reads version %u", path,
                             version, JOURNAL_FORMAT_VERSION);
        goto cleanup;
    }
    if (tandem_load_u32(data + 32) != tandem_crc32c(0, data, 32) ||
        tandem_load_u32(data + 12) != 0) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "%s is damaged: checksum mismatch", path);
        goto cleanup;
    }
    meta->term = tandem_load_u64(data + 16);
    meta->voted_for = tandem_load_u64(data + 24);
    rc = TANDEM_OK;
cleanup:
    free(data);
    return rc;
}

int tandem_journal_meta_store(tandem_fileops *ops, const char *path,
                              const tandem_journal_meta *meta, tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && path != NULL && meta != NULL);
    uint8_t raw[JOURNAL_META_BYTES];
    memset(raw, 0, sizeof(raw));
    memcpy(raw, JOURNAL_META_MAGIC, 8);
    tandem_store_u32(raw + 8, JOURNAL_FORMAT_VERSION);
    tandem_store_u64(raw + 16, meta->term);
    tandem_store_u64(raw + 24, meta->voted_for);
    tandem_store_u32(raw + 32, tandem_crc32c(0, raw, 32));
    TANDEM_ASSERT(tandem_load_u64(raw + 16) == meta->term);
    int rc = tandem_file_write_atomic(ops, path, raw, sizeof(raw));
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "write %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}
