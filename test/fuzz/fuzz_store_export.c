/*
 * Fuzzes the store's record-to-row mapping: the input is a sequence of
 * records (value type, intent, record type, key and value bytes chosen by
 * the fuzzer, positions increasing), exported into an in-memory store in
 * batches whose sizes the input also picks. Then the position is set back
 * to 0 and everything exported again: the row guards must leave every row
 * as it was (no record applied). Any crash, sanitizer report or abort()
 * below is a bug; values that do not decode are skipped by the store.
 *
 * Input: chunks of
 *   u8 value type, u8 intent, u8 flags (bits 0-1 record type, bits 2-7 key
 *   number: few keys, so records collide on rows), u8 batch break (odd: end
 *   the batch after this record), u16 LE length, value bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "export/store.h"
#include "protocol/key.h"
#include "protocol/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX 256

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

static size_t parse(const uint8_t *data, size_t size, tandem_record *recs, bool *breaks)
{
    size_t n = 0, off = 0;
    while (n < RECORDS_MAX && size - off >= 6) {
        const uint8_t *h = data + off;
        size_t len = (size_t)h[4] | ((size_t)h[5] << 8);
        off += 6;
        len = len > size - off ? size - off : len;
        tandem_record *r = &recs[n];
        tandem_record_init(r);
        r->position = n + 1;
        r->value_type = h[0];
        r->intent = h[1];
        r->record_type = (uint8_t)((h[2] & 3) % 3);
        r->key = tandem_key_encode(1, (uint64_t)(h[2] >> 2) + 1);
        r->timestamp_ms = 1700000000000ull + n;
        r->partition_id = 1;
        r->value = data + off;
        r->value_len = len;
        breaks[n] = (h[3] & 1) != 0;
        off += len;
        n++;
    }
    return n;
}

static void export_batches(tandem_store *s, tandem_record *recs, const bool *breaks, size_t n)
{
    const tandem_record *ptrs[RECORDS_MAX];
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = &recs[i];
        if (breaks[i] || i + 1 == n) {
            tandem_diag d;
            tandem_diag_clear(&d);
            require(tandem_store_export(s, "fuzz", 1, ptrs + start, i + 1 - start, &d) == 0);
            start = i + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tandem_record recs[RECORDS_MAX];
    static bool breaks[RECORDS_MAX];
    tandem_log_set_level(TANDEM_LOG_ERROR);
    size_t n = parse(data, size, recs, breaks);
    tandem_store *s = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    require(tandem_store_open(":memory:", false, &s, &d) == 0);
    export_batches(s, recs, breaks, n);
    tandem_store_stats first = tandem_store_get_stats(s);
    require(first.records_applied + first.records_not_mapped + first.records_undecodable <= n);
    require(tandem_store_set_position(s, "fuzz", 1, 0, &d) == 0);
    export_batches(s, recs, breaks, n);
    tandem_store_stats second = tandem_store_get_stats(s);
    require(second.records_applied == first.records_applied);
    tandem_store_close(s);
    return 0;
}
