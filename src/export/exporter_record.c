/* The EXPORTER record's value codec and state (exporter_record.h). */
#include "export/exporter_record.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "protocol/field.h"
#include "protocol/types.h"
#include "stream/partition.h"

#define KEY_PREFIX  "exporter/"
#define KEY_LEN_MAX (sizeof(KEY_PREFIX) - 1 + TANDEM_EXPORTER_ID_LEN_MAX)

int tandem_exporter_record_encode(tandem_buf *out, const char *id, uint64_t position,
                                  tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL && id != NULL);
    size_t len = strlen(id);
    if (len == 0 || len > TANDEM_EXPORTER_ID_LEN_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporter id of %zu bytes, need 1..%d", len,
                               TANDEM_EXPORTER_ID_LEN_MAX);
    }
    size_t before = out->len;
    tandem_field_writer w;
    tandem_field_writer_init(&w, out);
    tandem_field_put_string(&w, 1, id, len);
    tandem_field_put_uint(&w, 2, position);
    int rc = tandem_field_writer_finish(&w);
    if (rc != TANDEM_OK) {
        tandem_buf_truncate(out, before);
        return tandem_diag_set(diag, rc, "exporter record: %s", tandem_strerror(rc));
    }
    TANDEM_ASSERT(out->len > before);
    return TANDEM_OK;
}

int tandem_exporter_record_decode(const uint8_t *value, size_t len,
                                  char id[TANDEM_EXPORTER_ID_LEN_MAX + 1], uint64_t *position,
                                  tandem_diag *diag)
{
    TANDEM_ASSERT(id != NULL && position != NULL);
    TANDEM_ASSERT(value != NULL || len == 0);
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, value, len);
    tandem_field f;
    bool have_id = false, have_position = false;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_STRING) {
            if (f.len == 0 || f.len > TANDEM_EXPORTER_ID_LEN_MAX ||
                memchr(f.data, 0, f.len) != NULL) {
                return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                       "exporter record: id of %zu bytes, need 1..%d without NUL",
                                       f.len, TANDEM_EXPORTER_ID_LEN_MAX);
            }
            memcpy(id, f.data, f.len);
            id[f.len] = '\0';
            have_id = true;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_UINT) {
            *position = f.u;
            have_position = true;
        } else if (f.tag == 1 || f.tag == 2) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "exporter record: field %u has the wrong wire type", f.tag);
        }
    }
    if (fr.error != 0) {
        return tandem_field_reader_diag(&fr, diag, "exporter record");
    }
    if (!have_id || !have_position) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "exporter record: no %s",
                               !have_id ? "exporter id (field 1)" : "position (field 2)");
    }
    return TANDEM_OK;
}

static size_t state_key(const char *id, char *key)
{
    size_t id_len = strlen(id);
    TANDEM_ASSERT(id_len > 0 && id_len <= TANDEM_EXPORTER_ID_LEN_MAX);
    memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
    memcpy(key + sizeof(KEY_PREFIX) - 1, id, id_len);
    return sizeof(KEY_PREFIX) - 1 + id_len;
}

int tandem_exporter_record_apply(tandem_kv_txn *txn, const tandem_record *rec, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && rec != NULL);
    if (rec->value_type != TANDEM_VALUE_EXPORTER || rec->record_type != TANDEM_RECORD_EVENT ||
        rec->intent != TANDEM_INTENT_EXPORTER_POSITION_UPDATED) {
        return TANDEM_OK;
    }
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    uint64_t position = 0;
    int rc = tandem_exporter_record_decode(rec->value, rec->value_len, id, &position, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    char key[KEY_LEN_MAX];
    size_t key_len = state_key(id, key);
    uint8_t v[8];
    tandem_store_u64(v, position);
    return tandem_kv_put(txn, TANDEM_PARTITION_TABLE, key, key_len, v, sizeof(v), diag);
}

int tandem_exporter_state_position(tandem_kv_txn *txn, const char *id, uint64_t *out,
                                   tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && id != NULL && out != NULL);
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > TANDEM_EXPORTER_ID_LEN_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporter id of %zu bytes", id_len);
    }
    char key[KEY_LEN_MAX];
    size_t key_len = state_key(id, key);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, TANDEM_PARTITION_TABLE, key, key_len, &v, diag);
    if (rc == TANDEM_ENOENT) {
        *out = 0;
        return TANDEM_OK;
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (v.len != 8) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "state table partition: exporter/%s has %zu bytes, not 8", id,
                               v.len);
    }
    *out = tandem_load_u64(v.data);
    return TANDEM_OK;
}
