/*
 * Fuzzes the record decoders with arbitrary bytes:
 *   - the input as a value field sequence (validate, print);
 *   - the input as one record envelope (decode, print, re-encode, decode again);
 *   - the input as a batch, its checksum rewritten first so mutations reach the
 *     record decoder: open, print every record, re-encode; the re-encoded batch
 *     must hold the same records and re-encode to itself.
 * Any crash, sanitizer report or abort() below is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "protocol/batch.h"
#include "protocol/field.h"
#include "protocol/print.h"
#include "protocol/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

static void fuzz_value(const uint8_t *data, size_t size, tandem_buf *out)
{
    int rc = tandem_fields_validate(data, size, NULL, "value");
    require(rc == 0 || rc == TANDEM_ECORRUPT);
    require(tandem_fields_format(data, size, out) == 0);
}

static void fuzz_record(const uint8_t *data, size_t size, tandem_buf *out)
{
    tandem_record rec, again;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_record_decode(data, size, &rec, &d);
    if (rc != 0) {
        require(rc == TANDEM_ECORRUPT && d.message[0] != '\0');
        return;
    }
    require(tandem_record_format(&rec, out) == 0);
    tandem_buf_reset(out);
    /* Whatever the decoder accepts, the encoder writes. */
    require(tandem_record_encode(out, &rec, NULL) == 0);
    require(tandem_record_decode(out->data, out->len, &again, NULL) == 0);
    require(tandem_record_equal(&rec, &again));
}

static void fuzz_batch(uint8_t *copy, size_t size, tandem_buf *out)
{
    if (size >= TANDEM_BATCH_HEADER_SIZE) {
        uint32_t crc = tandem_crc32c(0, copy, 20);
        crc = tandem_crc32c(crc, copy + TANDEM_BATCH_HEADER_SIZE, size - TANDEM_BATCH_HEADER_SIZE);
        tandem_store_u32(copy + 20, crc);
    }
    tandem_batch_reader br;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_batch_open(&br, copy, size, &d);
    if (rc != 0) {
        require((rc == TANDEM_ECORRUPT || rc == TANDEM_EFORMAT || rc == TANDEM_EINCOMPLETE) &&
                d.message[0] != '\0');
        return;
    }
    tandem_record *recs = calloc(br.count, sizeof(*recs));
    require(recs != NULL);
    size_t n = 0;
    while (tandem_batch_next(&br, &recs[n])) {
        require(tandem_record_format(&recs[n], out) == 0);
        n++;
    }
    require(n == br.count);

    tandem_buf again = TANDEM_BUF_INIT, twice = TANDEM_BUF_INIT;
    require(tandem_batch_encode(&again, recs, n, NULL) == 0);
    require(again.len <= size);
    require(tandem_batch_open(&br, again.data, again.len, NULL) == 0);
    tandem_record rec;
    for (size_t i = 0; i < n; i++) {
        require(tandem_batch_next(&br, &rec));
        require(tandem_record_equal(&recs[i], &rec));
        recs[i] = rec; /* views into `again` from here on */
    }
    require(!tandem_batch_next(&br, &rec));
    require(tandem_batch_encode(&twice, recs, n, NULL) == 0);
    require(twice.len == again.len && memcmp(twice.data, again.data, again.len) == 0);
    tandem_buf_free(&again);
    tandem_buf_free(&twice);
    free(recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_buf out = TANDEM_BUF_INIT;
    fuzz_value(data, size, &out);
    tandem_buf_reset(&out);
    fuzz_record(data, size, &out);
    tandem_buf_reset(&out);
    /* A private copy: the checksum is rewritten, and ASan sees over-reads. */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    require(copy != NULL);
    if (size > 0) {
        memcpy(copy, data, size);
    }
    fuzz_batch(copy, size, &out);
    free(copy);
    tandem_buf_free(&out);
    return 0;
}
