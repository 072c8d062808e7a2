#include "protocol/batch.h"

#include <inttypes.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "protocol/protocol_int.h"

/* Header layout (docs/RECORD_FORMAT.md). */
#define OFF_MAGIC          0
#define OFF_VERSION        2
#define OFF_FLAGS          3
#define OFF_COUNT          4
#define OFF_FIRST_POSITION 8
#define OFF_BODY_SIZE      16
#define OFF_CRC            20
#define MAGIC_0            'T'
#define MAGIC_1            'R'

_Static_assert(OFF_CRC + 4 == TANDEM_BATCH_HEADER_SIZE, "the checksum ends the header");
_Static_assert(TANDEM_BATCH_SIZE_BYTES_MAX <= UINT32_MAX, "body size is a u32");
_Static_assert(TANDEM_BATCH_RECORDS_MAX <= UINT32_MAX, "record count is a u32");

/* CRC-32C of the header up to the checksum field, then the body. */
static uint32_t batch_crc(const uint8_t *batch, size_t body_size)
{
    TANDEM_ASSERT(batch != NULL);
    uint32_t crc = tandem_crc32c(0, batch, OFF_CRC);
    return tandem_crc32c(crc, batch + TANDEM_BATCH_HEADER_SIZE, body_size);
}

/* ---- Writer ------------------------------------------------------------- */

int tandem_batch_writer_begin(tandem_batch_writer *bw, tandem_buf *out, uint64_t first_position,
                              size_t size_bytes_max)
{
    TANDEM_ASSERT(bw != NULL && out != NULL);
    TANDEM_ASSERT(size_bytes_max <= TANDEM_BATCH_SIZE_BYTES_MAX);
    memset(bw, 0, sizeof(*bw));
    if (first_position > TANDEM_POSITION_MAX) {
        return TANDEM_EINVAL;
    }
    bw->out = out;
    bw->start = out->len;
    bw->first_position = first_position;
    bw->size_bytes_max = size_bytes_max != 0 ? size_bytes_max : TANDEM_BATCH_SIZE_BYTES_MAX;
    TANDEM_ASSERT(bw->size_bytes_max > TANDEM_BATCH_HEADER_SIZE);
    return tandem_buf_put_zeros(out, TANDEM_BATCH_HEADER_SIZE, NULL);
}

int tandem_batch_writer_add(tandem_batch_writer *bw, const tandem_record *rec, tandem_diag *diag)
{
    TANDEM_ASSERT(bw != NULL && bw->out != NULL && rec != NULL);
    TANDEM_ASSERT(bw->out->len >= bw->start + TANDEM_BATCH_HEADER_SIZE);
    uint64_t position = bw->first_position + bw->count;
    if (rec->position != position) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "record batch: record %" PRIu32 " has position %" PRIu64
                               ", expected %" PRIu64 " (positions are consecutive)",
                               bw->count, rec->position, position);
    }
    if (position > TANDEM_POSITION_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "record batch: position %" PRIu64 " is above the maximum", position);
    }
    size_t used = bw->out->len - bw->start;
    size_t room = bw->size_bytes_max - used;
    if (bw->count >= TANDEM_BATCH_RECORDS_MAX ||
        rec->value_len + rec->ext_len + rec->rejection_reason_len > room) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "record batch: record %" PRIu32
                               " does not fit (%zu of %zu bytes used, %" PRIu32 " records)",
                               bw->count, used, bw->size_bytes_max, bw->count);
    }
    size_t before = bw->out->len;
    int rc = tandem_record_encode(bw->out, rec, diag);
    if (rc == 0) {
        rc = protocol_insert_length_prefix(bw->out, before);
    }
    if (rc == 0 && bw->out->len - bw->start > bw->size_bytes_max) {
        rc = tandem_diag_set(diag, TANDEM_ETOOBIG,
                             "record batch: record %" PRIu32 " does not fit (%zu of %zu bytes)",
                             bw->count, bw->out->len - bw->start, bw->size_bytes_max);
    }
    if (rc != 0) {
        tandem_buf_truncate(bw->out, before);
        return rc;
    }
    bw->count++;
    return 0;
}

int tandem_batch_writer_finish(tandem_batch_writer *bw, tandem_diag *diag)
{
    TANDEM_ASSERT(bw != NULL && bw->out != NULL);
    TANDEM_ASSERT(bw->out->len - bw->start <= bw->size_bytes_max);
    if (bw->count == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "record batch: a batch needs a record");
    }
    uint8_t *h = bw->out->data + bw->start;
    size_t body_size = bw->out->len - bw->start - TANDEM_BATCH_HEADER_SIZE;
    h[OFF_MAGIC] = MAGIC_0;
    h[OFF_MAGIC + 1] = MAGIC_1;
    h[OFF_VERSION] = TANDEM_BATCH_FORMAT_VERSION;
    h[OFF_FLAGS] = 0;
    tandem_store_u32(h + OFF_COUNT, bw->count);
    tandem_store_u64(h + OFF_FIRST_POSITION, bw->first_position);
    tandem_store_u32(h + OFF_BODY_SIZE, (uint32_t)body_size);
    tandem_store_u32(h + OFF_CRC, batch_crc(h, body_size));
    return 0;
}

int tandem_batch_encode(tandem_buf *out, const tandem_record *records, size_t count,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(records != NULL || count == 0);
    if (count == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "record batch: a batch needs a record");
    }
    size_t before = out->len;
    tandem_batch_writer bw;
    int rc = tandem_batch_writer_begin(&bw, out, records[0].position, 0);
    if (rc != 0) {
        tandem_diag_set(diag, rc, "record batch: cannot start at position %" PRIu64,
                        records[0].position);
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        rc = tandem_batch_writer_add(&bw, &records[i], diag);
        if (rc != 0) {
            goto fail;
        }
    }
    rc = tandem_batch_writer_finish(&bw, diag);
    if (rc != 0) {
        goto fail;
    }
    return 0;

fail:
    TANDEM_ASSERT(out->len >= before);
    tandem_buf_truncate(out, before);
    return rc;
}

/* ---- Reader ------------------------------------------------------------- */

/* Checks the fixed header; fills br's read-only fields. */
static int open_header(tandem_batch_reader *br, const uint8_t *p, size_t len, tandem_diag *diag,
                       uint32_t *body_size)
{
    TANDEM_ASSERT(br != NULL && body_size != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    if (len < OFF_VERSION) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "record batch: %zu bytes, the header alone needs %d", len,
                               TANDEM_BATCH_HEADER_SIZE);
    }
    if (p[OFF_MAGIC] != MAGIC_0 || p[OFF_MAGIC + 1] != MAGIC_1) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: magic is 0x%02x%02x, not \"TR\": not a record batch",
                               p[OFF_MAGIC], p[OFF_MAGIC + 1]);
    }
    if (len <= OFF_VERSION) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "record batch: %zu bytes, the header alone needs %d", len,
                               TANDEM_BATCH_HEADER_SIZE);
    }
    /* The version is checked before anything else it could change. */
    br->format_version = p[OFF_VERSION];
    if (br->format_version != TANDEM_BATCH_FORMAT_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "record batch: format version %u is not supported (this build "
                               "reads version %d; a newer broker wrote it?)",
                               br->format_version, TANDEM_BATCH_FORMAT_VERSION);
    }
    if (len < TANDEM_BATCH_HEADER_SIZE) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "record batch: %zu bytes, the header alone needs %d", len,
                               TANDEM_BATCH_HEADER_SIZE);
    }
    if (p[OFF_FLAGS] != 0) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "record batch: flags 0x%02x are not supported by this build",
                               p[OFF_FLAGS]);
    }
    br->count = tandem_load_u32(p + OFF_COUNT);
    br->first_position = tandem_load_u64(p + OFF_FIRST_POSITION);
    *body_size = tandem_load_u32(p + OFF_BODY_SIZE);
    if (br->count == 0 || br->count > TANDEM_BATCH_RECORDS_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: record count %" PRIu32 " is outside 1..%u", br->count,
                               TANDEM_BATCH_RECORDS_MAX);
    }
    if (*body_size > TANDEM_BATCH_SIZE_BYTES_MAX - TANDEM_BATCH_HEADER_SIZE) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: body size %" PRIu32 " is above the limit of %u",
                               *body_size, TANDEM_BATCH_SIZE_BYTES_MAX);
    }
    size_t total = TANDEM_BATCH_HEADER_SIZE + (size_t)*body_size;
    if (len < total) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "record batch: %zu of its %zu bytes are present", len, total);
    }
    if (len > total) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: %zu unexpected bytes after its %zu bytes",
                               len - total, total);
    }
    uint32_t stored = tandem_load_u32(p + OFF_CRC);
    uint32_t computed = batch_crc(p, *body_size);
    if (stored != computed) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: checksum mismatch (stored 0x%08" PRIx32
                               ", computed 0x%08" PRIx32 ")",
                               stored, computed);
    }
    if (br->first_position > TANDEM_POSITION_MAX - (br->count - 1)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: positions from %" PRIu64 " overflow",
                               br->first_position);
    }
    return 0;
}

/* Reads the length prefix of the record at *off; 0 or TANDEM_ECORRUPT. */
static int record_span(const uint8_t *p, size_t len, size_t *off, size_t *record_len)
{
    TANDEM_ASSERT(p != NULL && off != NULL && record_len != NULL);
    TANDEM_ASSERT(*off <= len);
    uint64_t v = 0;
    size_t used = 0;
    if (protocol_varint_read(p + *off, len - *off, &v, &used) != 0) {
        return TANDEM_ECORRUPT;
    }
    if (v > len - *off - used) {
        return TANDEM_ECORRUPT;
    }
    *off += used;
    *record_len = (size_t)v;
    return 0;
}

int tandem_batch_open(tandem_batch_reader *br, const void *payload, size_t len, tandem_diag *diag)
{
    TANDEM_ASSERT(br != NULL);
    TANDEM_ASSERT(payload != NULL || len == 0);
    memset(br, 0, sizeof(*br));
    const uint8_t *p = payload;
    uint32_t body_size = 0;
    int rc = open_header(br, p, len, diag, &body_size);
    if (rc != 0) {
        return rc;
    }
    /* Check every record now so that next() cannot fail halfway through. */
    size_t off = TANDEM_BATCH_HEADER_SIZE;
    for (uint32_t i = 0; i < br->count; i++) {
        uint64_t position = br->first_position + i;
        size_t record_len = 0;
        if (record_span(p, len, &off, &record_len) != 0) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "record batch: record %" PRIu32 " of %" PRIu32
                                   " (position %" PRIu64 ") has no valid length prefix at byte %zu",
                                   i, br->count, position, off);
        }
        tandem_record rec;
        tandem_diag inner;
        tandem_diag_clear(&inner);
        rc = protocol_record_decode(p + off, record_len, &rec, true, &inner);
        if (rc != 0) {
            return tandem_diag_set(diag, rc,
                                   "record batch: record %" PRIu32 " (position %" PRIu64 "): %s", i,
                                   position, tandem_diag_text(&inner));
        }
        off += record_len;
    }
    if (off != len) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "record batch: %zu bytes after the last of %" PRIu32 " records",
                               len - off, br->count);
    }
    br->data = p;
    br->len = len;
    br->off = TANDEM_BATCH_HEADER_SIZE;
    br->index = 0;
    return 0;
}

bool tandem_batch_next(tandem_batch_reader *br, tandem_record *rec)
{
    TANDEM_ASSERT(br != NULL && rec != NULL);
    TANDEM_ASSERT(br->index <= br->count);
    if (br->index == br->count) {
        return false;
    }
    /* tandem_batch_open checked these bytes; failing now means they changed. */
    size_t record_len = 0;
    int rc = record_span(br->data, br->len, &br->off, &record_len);
    TANDEM_ASSERT(rc == 0);
    rc = protocol_record_decode(br->data + br->off, record_len, rec, false, NULL);
    TANDEM_ASSERT(rc == 0);
    br->off += record_len;
    rec->position = br->first_position + br->index;
    br->index++;
    return true;
}
