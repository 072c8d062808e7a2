/* The journal's byte layout (docs/DISK_FORMAT.md): encoders and checking
 * decoders of the segment and entry headers, and the file names. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/crc32c.h"
#include "journal/journal_int.h"

_Static_assert(sizeof(JOURNAL_SEGMENT_MAGIC) - 1 == 8, "segment magic is 8 bytes");

void journal_segment_header_encode(const journal_segment_header *h,
                                   uint8_t out[JOURNAL_SEGMENT_HEADER_BYTES])
{
    TANDEM_ASSERT(h != NULL && out != NULL);
    TANDEM_ASSERT(h->number > 0 && h->first_index > 0);
    memset(out, 0, JOURNAL_SEGMENT_HEADER_BYTES);
    memcpy(out, JOURNAL_SEGMENT_MAGIC, 8);
    tandem_store_u32(out + 8, h->version);
    tandem_store_u32(out + 12, JOURNAL_SEGMENT_HEADER_BYTES);
    tandem_store_u64(out + 16, h->number);
    tandem_store_u64(out + 24, h->first_index);
    tandem_store_u64(out + 32, h->prev_term);
    tandem_store_u32(out + 40, h->flags);
    /* bytes 44..59 stay zero (reserved) */
    tandem_store_u32(out + JOURNAL_SEGMENT_HEADER_CRC_OFF,
                     tandem_crc32c(0, out, JOURNAL_SEGMENT_HEADER_CRC_OFF));
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

int journal_segment_header_decode(const uint8_t *p, size_t len, journal_segment_header *h,
                                  const char **reason)
{
    TANDEM_ASSERT(h != NULL && reason != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    if (len < JOURNAL_SEGMENT_HEADER_BYTES) {
        *reason = "segment header is cut short";
        return TANDEM_EINCOMPLETE;
    }
    if (memcmp(p, JOURNAL_SEGMENT_MAGIC, 8) != 0) {
        *reason = all_zero(p, JOURNAL_SEGMENT_HEADER_BYTES) ? "segment header is all zeros"
                                                            : "bad segment magic";
        return TANDEM_ECORRUPT;
    }
    /* The version is checked before the checksum: a newer format may checksum
     * differently, and must be refused as "newer", not as "damaged". */
    h->version = tandem_load_u32(p + 8);
    if (h->version != JOURNAL_FORMAT_VERSION) {
        *reason = "unsupported segment format version";
        return TANDEM_EFORMAT;
    }
    uint32_t crc = tandem_load_u32(p + JOURNAL_SEGMENT_HEADER_CRC_OFF);
    if (crc != tandem_crc32c(0, p, JOURNAL_SEGMENT_HEADER_CRC_OFF)) {
        *reason = "segment header checksum mismatch";
        return TANDEM_ECORRUPT;
    }
    if (tandem_load_u32(p + 12) != JOURNAL_SEGMENT_HEADER_BYTES || !all_zero(p + 44, 16)) {
        *reason = "segment header size or reserved bytes wrong";
        return TANDEM_ECORRUPT;
    }
    h->number = tandem_load_u64(p + 16);
    h->first_index = tandem_load_u64(p + 24);
    h->prev_term = tandem_load_u64(p + 32);
    h->flags = tandem_load_u32(p + 40);
    if (h->number == 0 || h->number > JOURNAL_SEGMENT_NUMBER_MAX || h->first_index == 0 ||
        h->first_index > JOURNAL_INDEX_MAX || (h->flags & ~JOURNAL_SEGMENT_FLAG_BASE) != 0) {
        *reason = "segment header fields out of range";
        return TANDEM_ECORRUPT;
    }
    *reason = "";
    return TANDEM_OK;
}

uint64_t journal_entry_size_bytes(uint64_t payload_size_bytes)
{
    TANDEM_ASSERT(payload_size_bytes <= JOURNAL_PAYLOAD_BYTES_FORMAT_MAX);
    uint64_t n = JOURNAL_ENTRY_HEADER_BYTES + payload_size_bytes;
    n = (n + JOURNAL_ENTRY_ALIGN_BYTES - 1) / JOURNAL_ENTRY_ALIGN_BYTES * JOURNAL_ENTRY_ALIGN_BYTES;
    TANDEM_ASSERT(n >= JOURNAL_ENTRY_BYTES_MIN);
    return n;
}

void journal_entry_header_encode(journal_entry_header *h, const void *payload,
                                 uint8_t out[JOURNAL_ENTRY_HEADER_BYTES])
{
    TANDEM_ASSERT(h != NULL && out != NULL && (payload != NULL || h->payload_size_bytes == 0));
    TANDEM_ASSERT(h->synced_index < h->index && h->kind >= TANDEM_JOURNAL_DATA &&
                  h->kind <= TANDEM_JOURNAL_NOOP);
    memset(out, 0, JOURNAL_ENTRY_HEADER_BYTES);
    tandem_store_u32(out, JOURNAL_ENTRY_MAGIC);
    tandem_store_u32(out + 4, h->payload_size_bytes);
    tandem_store_u64(out + 8, h->index);
    tandem_store_u64(out + 16, h->term);
    tandem_store_u64(out + 24, h->synced_index);
    out[32] = h->kind;
    /* bytes 33..35 stay zero (reserved) */
    tandem_store_u32(out + JOURNAL_ENTRY_HEADER_CRC_OFF,
                     tandem_crc32c(0, out, JOURNAL_ENTRY_HEADER_CRC_OFF));
    uint32_t crc = tandem_crc32c(0, out, JOURNAL_ENTRY_CRC_OFF);
    h->entry_crc = tandem_crc32c(crc, payload, h->payload_size_bytes);
    tandem_store_u32(out + JOURNAL_ENTRY_CRC_OFF, h->entry_crc);
}

int journal_entry_header_decode(const uint8_t *p, size_t len, journal_entry_header *h,
                                const char **reason)
{
    TANDEM_ASSERT(h != NULL && reason != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    if (len < JOURNAL_ENTRY_HEADER_BYTES) {
        *reason = "entry header is cut short";
        return TANDEM_EINCOMPLETE;
    }
    if (tandem_load_u32(p) != JOURNAL_ENTRY_MAGIC) {
        *reason = all_zero(p, JOURNAL_ENTRY_HEADER_BYTES) ? "entry header is all zeros"
                                                          : "bad entry magic";
        return TANDEM_ECORRUPT;
    }
    if (tandem_load_u32(p + JOURNAL_ENTRY_HEADER_CRC_OFF) !=
        tandem_crc32c(0, p, JOURNAL_ENTRY_HEADER_CRC_OFF)) {
        *reason = "entry header checksum mismatch";
        return TANDEM_ECORRUPT;
    }
    h->payload_size_bytes = tandem_load_u32(p + 4);
    h->index = tandem_load_u64(p + 8);
    h->term = tandem_load_u64(p + 16);
    h->synced_index = tandem_load_u64(p + 24);
    h->kind = p[32];
    h->entry_crc = tandem_load_u32(p + JOURNAL_ENTRY_CRC_OFF);
    if (p[33] != 0 || p[34] != 0 || p[35] != 0) {
        *reason = "entry reserved bytes are not zero";
        return TANDEM_ECORRUPT;
    }
    if (h->kind < TANDEM_JOURNAL_DATA || h->kind > TANDEM_JOURNAL_NOOP) {
        *reason = "unknown entry kind";
        return TANDEM_ECORRUPT;
    }
    if (h->index == 0 || h->index > JOURNAL_INDEX_MAX || h->synced_index >= h->index) {
        *reason = "entry index or synced index out of range";
        return TANDEM_ECORRUPT;
    }
    if (h->payload_size_bytes > JOURNAL_PAYLOAD_BYTES_FORMAT_MAX) {
        *reason = "entry payload size over the format limit";
        return TANDEM_ECORRUPT;
    }
    *reason = "";
    return TANDEM_OK;
}

bool journal_entry_payload_ok(const uint8_t *header_bytes, const journal_entry_header *h,
                              const uint8_t *payload)
{
    TANDEM_ASSERT(header_bytes != NULL && h != NULL);
    TANDEM_ASSERT(payload != NULL || h->payload_size_bytes == 0);
    uint32_t crc = tandem_crc32c(0, header_bytes, JOURNAL_ENTRY_CRC_OFF);
    crc = tandem_crc32c(crc, payload, h->payload_size_bytes);
    return crc == h->entry_crc;
}

const char *journal_kind_name(uint8_t kind)
{
    switch (kind) {
    case TANDEM_JOURNAL_DATA:
        return "data";
    case TANDEM_JOURNAL_CONFIG:
        return "config";
    case TANDEM_JOURNAL_NOOP:
        return "noop";
    default:
        return "unknown";
    }
}

int journal_segment_path(const char *dir, uint64_t number, bool tmp, char *out, size_t out_size)
{
    TANDEM_ASSERT(dir != NULL && out != NULL && out_size > 0);
    TANDEM_ASSERT(number > 0);
    int n = snprintf(out, out_size,
                     "%s/" JOURNAL_SEGMENT_PREFIX "%020" PRIu64 JOURNAL_SEGMENT_SUFFIX "%s", dir,
                     number, tmp ? JOURNAL_TMP_SUFFIX : "");
    if (n < 0 || (size_t)n >= out_size) {
        return TANDEM_ETOOBIG;
    }
    return TANDEM_OK;
}

int journal_segment_name_parse(const char *name, uint64_t *number)
{
    TANDEM_ASSERT(name != NULL && number != NULL);
    size_t prefix_len = strlen(JOURNAL_SEGMENT_PREFIX);
    if (strncmp(name, JOURNAL_SEGMENT_PREFIX, prefix_len) != 0) {
        return 0;
    }
    const char *digits = name + prefix_len;
    uint64_t v = 0;
    for (int i = 0; i < JOURNAL_SEGMENT_DIGITS; i++) {
        if (digits[i] < '0' || digits[i] > '9') {
            return 0;
        }
        uint64_t d = (uint64_t)(digits[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    if (v == 0 || v > JOURNAL_SEGMENT_NUMBER_MAX) {
        return 0;
    }
    const char *rest = digits + JOURNAL_SEGMENT_DIGITS;
    *number = v;
    if (strcmp(rest, JOURNAL_SEGMENT_SUFFIX) == 0) {
        return 1;
    }
    if (strcmp(rest, JOURNAL_SEGMENT_SUFFIX JOURNAL_TMP_SUFFIX) == 0) {
        return 2;
    }
    return 0;
}

int journal_dir_normalise(const char *dir, char *out, size_t out_size, tandem_diag *diag)
{
    TANDEM_ASSERT(dir != NULL && out != NULL);
    TANDEM_ASSERT(out_size > TANDEM_JOURNAL_DIR_PATH_BYTES_MAX);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }
    if (len == 0 || len > TANDEM_JOURNAL_DIR_PATH_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "journal directory path is empty or longer than %zu bytes",
                               TANDEM_JOURNAL_DIR_PATH_BYTES_MAX);
    }
    memcpy(out, dir, len);
    out[len] = '\0';
    return TANDEM_OK;
}
