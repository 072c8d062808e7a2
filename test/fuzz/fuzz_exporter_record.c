/*
 * Fuzzes the EXPORTER record's value decoder (export/exporter_record.h) and
 * its apply path with arbitrary bytes: decoding returns 0 or TANDEM_ECORRUPT,
 * never more; a decoded value re-encodes and decodes to the same id and
 * position; applying it to an in-memory state stores exactly that position.
 * Any crash, sanitizer report or abort() below is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "export/exporter_record.h"
#include "protocol/types.h"
#include "state/kv.h"
#include "stream/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

static tandem_kv *state(void)
{
    static tandem_kv *kv;
    if (kv == NULL) {
        const char *tables[] = {TANDEM_PARTITION_TABLE_NAME};
        tandem_kv_options o;
        memset(&o, 0, sizeof(o));
        o.table_names = tables;
        o.table_count = 1;
        require(tandem_kv_open_mem(&o, &kv, NULL) == 0);
    }
    return kv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    uint64_t position = 0;
    tandem_diag d;
    int rc = tandem_exporter_record_decode(data, size, id, &position, &d);
    require(rc == 0 || rc == TANDEM_ECORRUPT);
    if (rc != 0) {
        require(d.message[0] != '\0');
    }
    tandem_record rec;
    tandem_record_init(&rec);
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.value_type = TANDEM_VALUE_EXPORTER;
    rec.intent = TANDEM_INTENT_EXPORTER_POSITION_UPDATED;
    rec.value = data;
    rec.value_len = size;
    tandem_kv_txn *txn = NULL;
    require(tandem_kv_begin_write(state(), &txn, NULL) == 0);
    int arc = tandem_exporter_record_apply(txn, &rec, NULL);
    require(arc == rc);
    if (rc == 0) {
        uint64_t stored = 0;
        require(tandem_exporter_state_position(txn, id, &stored, NULL) == 0);
        require(stored == position);
        tandem_buf again = TANDEM_BUF_INIT;
        require(tandem_exporter_record_encode(&again, id, position, NULL) == 0);
        char id2[TANDEM_EXPORTER_ID_LEN_MAX + 1];
        uint64_t position2 = 0;
        require(tandem_exporter_record_decode(again.data, again.len, id2, &position2, NULL) == 0);
        require(strcmp(id, id2) == 0 && position == position2);
        tandem_buf_free(&again);
    }
    tandem_kv_abort(txn);
    return 0;
}
