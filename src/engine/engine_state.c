/*
 * The engine's state rows. Rows are tagged field sequences like record values
 * (field.h), so a newer broker can add row fields; the layouts are listed in
 * docs/ENGINE.md. Keys are big-endian so the KV order is numeric order.
 * Rows read here are copied to the engine's arena: KV views end at the next
 * write, and the callers write while they still use what they read.
 */
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/field.h"
#include "protocol/key.h"

#define ROW_KEY_MAX_BYTES TANDEM_KV_KEY_MAX_BYTES

void engine_be64(uint8_t out[8], uint64_t v)
{
    TANDEM_ASSERT(out != NULL);
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    TANDEM_ASSERT(v == 0);
}

uint64_t engine_load_be64(const uint8_t *p)
{
    TANDEM_ASSERT(p != NULL);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static int corrupt(tandem_diag *diag, const char *what, uint64_t key)
{
    TANDEM_ASSERT(what != NULL);
    return tandem_diag_set(diag, TANDEM_ECORRUPT, "engine state: %s row of key %llu is damaged",
                           what, (unsigned long long)key);
}

/* Reads a row and copies it to the arena. TANDEM_ENOENT when absent. */
static int row_get(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *key,
                   size_t key_len, tandem_sv *row, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && row != NULL);
    TANDEM_ASSERT(key_len > 0 && key_len <= ROW_KEY_MAX_BYTES);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, engine_tbl(e, t), key, key_len, &v, diag);
    if (rc != 0) {
        return rc;
    }
    if (engine_arena_dup(&e->arena, v.data, v.len, row) != 0) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "engine: out of memory copying state");
    }
    return 0;
}

/* Encodes a row with `w` into e->scratch and puts it. */
static int row_put(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *key,
                   size_t key_len, tandem_field_writer *w, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && w != NULL);
    TANDEM_ASSERT(key_len > 0 && key_len <= ROW_KEY_MAX_BYTES);
    int rc = tandem_field_writer_finish(w);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "engine: encoding a state row");
    }
    TANDEM_ASSERT(w->out == &e->scratch);
    return tandem_kv_put(txn, engine_tbl(e, t), key, key_len, e->scratch.data, e->scratch.len,
                         diag);
}

/* Encodes a value into a nested field of the row being written. */
static void put_value(tandem_engine *e, tandem_field_writer *w, uint32_t tag, tandem_buf *tmp,
                      engine_encode_fn encode, const void *value)
{
    TANDEM_ASSERT(w != NULL && tmp != NULL && encode != NULL && value != NULL);
    TANDEM_ASSERT(tag >= TANDEM_FIELD_TAG_MIN);
    (void)e;
    tandem_buf_reset(tmp);
    int rc = encode(value, tmp);
    if (rc != 0) {
        if (w->error == 0) {
            w->error = rc;
        }
        return;
    }
    tandem_field_put_nested(w, tag, tmp->len > 0 ? tmp->data : (const uint8_t *)"", tmp->len);
}

/* ---- Element instances ------------------------------------------------ */

int engine_element_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, engine_element *out,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL); /* any key: NONE is simply absent */
    TANDEM_ASSERT(out != NULL);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_sv row;
    int rc = row_get(e, txn, TBL_ELEMENT, k, sizeof(k), &row, diag);
    if (rc != 0) {
        return rc;
    }
    memset(out, 0, sizeof(*out));
    out->job_key = TANDEM_KEY_NONE;
    out->incident_key = TANDEM_KEY_NONE;
    tandem_process_instance_value_init(&out->value);
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, row.ptr, row.len);
    tandem_field f;
    bool have_value = false;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_UINT) {
            out->state = (uint32_t)f.u;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_UINT) {
            out->child_count = f.u;
        } else if (f.tag == 3 && f.wire == TANDEM_WIRE_UINT) {
            out->job_key = f.u;
        } else if (f.tag == 4 && f.wire == TANDEM_WIRE_NESTED) {
            rc =
                tandem_process_instance_value_decode(f.data, f.len, &out->value, &e->unknown, diag);
            have_value = rc == 0;
        } else if (f.tag == 5 && f.wire == TANDEM_WIRE_UINT) {
            out->incident_key = f.u;
        }
    }
    if (fr.error != 0 || !have_value) {
        return corrupt(diag, "element instance", key);
    }
    return 0;
}

int engine_element_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, const engine_element *el,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(el != NULL);
    TANDEM_ASSERT(el->state <= TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_buf tmp = TANDEM_BUF_INIT;
    tandem_buf_reset(&e->scratch);
    tandem_field_writer w;
    tandem_field_writer_init(&w, &e->scratch);
    tandem_field_put_uint(&w, 1, el->state);
    tandem_field_put_uint(&w, 2, el->child_count);
    if (el->job_key != TANDEM_KEY_NONE) {
        tandem_field_put_uint(&w, 3, el->job_key);
    }
    put_value(e, &w, 4, &tmp, ENGINE_ENC(process_instance), &el->value);
    if (el->incident_key != TANDEM_KEY_NONE) {
        tandem_field_put_uint(&w, 5, el->incident_key);
    }
    int rc = row_put(e, txn, TBL_ELEMENT, k, sizeof(k), &w, diag);
    tandem_buf_free(&tmp);
    return rc;
}

/* ---- Jobs ------------------------------------------------------------- */

const char *engine_job_state_name(uint32_t state)
{
    switch (state) {
    case JOB_ACTIVATABLE:
        return "ACTIVATABLE";
    case JOB_ACTIVATED:
        return "ACTIVATED";
    case JOB_FAILED:
    case JOB_BACKOFF:
        return "FAILED";
    default:
        return "UNKNOWN";
    }
}

int engine_job_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, engine_job *out,
                   tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL); /* any key: NONE is simply absent */
    TANDEM_ASSERT(out != NULL);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_sv row;
    int rc = row_get(e, txn, TBL_JOB, k, sizeof(k), &row, diag);
    if (rc != 0) {
        return rc;
    }
    memset(out, 0, sizeof(*out));
    out->incident_key = TANDEM_KEY_NONE;
    tandem_job_value_init(&out->value);
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, row.ptr, row.len);
    tandem_field f;
    bool have_value = false;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_UINT) {
            out->state = (uint32_t)f.u;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_UINT) {
            out->incident_key = f.u;
        } else if (f.tag == 3 && f.wire == TANDEM_WIRE_NESTED) {
            rc = tandem_job_value_decode(f.data, f.len, &out->value, &e->unknown, diag);
            have_value = rc == 0;
        }
    }
    if (fr.error != 0 || !have_value || out->state < JOB_ACTIVATABLE || out->state > JOB_BACKOFF) {
        return corrupt(diag, "job", key);
    }
    return 0;
}

int engine_job_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, const engine_job *job,
                   tandem_diag *diag)
{
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(job != NULL);
    TANDEM_ASSERT(job->state >= JOB_ACTIVATABLE && job->state <= JOB_BACKOFF);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_buf tmp = TANDEM_BUF_INIT;
    tandem_buf_reset(&e->scratch);
    tandem_field_writer w;
    tandem_field_writer_init(&w, &e->scratch);
    tandem_field_put_uint(&w, 1, job->state);
    if (job->incident_key != TANDEM_KEY_NONE) {
        tandem_field_put_uint(&w, 2, job->incident_key);
    }
    put_value(e, &w, 3, &tmp, ENGINE_ENC(job), &job->value);
    int rc = row_put(e, txn, TBL_JOB, k, sizeof(k), &w, diag);
    tandem_buf_free(&tmp);
    return rc;
}

/* ---- Variables -------------------------------------------------------- */

static int variable_key(uint64_t scope_key, tandem_sv name, uint8_t *k, size_t *len,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(k != NULL && len != NULL);
    TANDEM_ASSERT(name.ptr != NULL || name.len == 0);
    if (name.len == 0 || name.len > ROW_KEY_MAX_BYTES - 8) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "engine: variable name of %zu bytes (allowed 1..%d)", name.len,
                               ROW_KEY_MAX_BYTES - 8);
    }
    engine_be64(k, scope_key);
    memcpy(k + 8, name.ptr, name.len);
    *len = 8 + name.len;
    return 0;
}

int engine_variable_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key, tandem_sv name,
                        engine_variable *out, tandem_diag *diag)
{
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(out != NULL);
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = 0;
    int rc = variable_key(scope_key, name, k, &klen, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_sv row;
    rc = row_get(e, txn, TBL_VARIABLE, k, klen, &row, diag);
    if (rc != 0) {
        return rc;
    }
    out->key = TANDEM_KEY_NONE;
    out->value = (tandem_sv){"", 0};
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, row.ptr, row.len);
    tandem_field f;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_UINT) {
            out->key = f.u;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_STRING) {
            out->value = (tandem_sv){(const char *)f.data, f.len};
        }
    }
    if (fr.error != 0 || out->key == TANDEM_KEY_NONE) {
        return corrupt(diag, "variable", scope_key);
    }
    return 0;
}

int engine_variable_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key, tandem_sv name,
                        const engine_variable *var, tandem_diag *diag)
{
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(var != NULL);
    TANDEM_ASSERT(var->key != TANDEM_KEY_NONE);
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = 0;
    int rc = variable_key(scope_key, name, k, &klen, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_buf_reset(&e->scratch);
    tandem_field_writer w;
    tandem_field_writer_init(&w, &e->scratch);
    tandem_field_put_uint(&w, 1, var->key);
    tandem_field_put_string(&w, 2, var->value.ptr, var->value.len);
    return row_put(e, txn, TBL_VARIABLE, k, klen, &w, diag);
}

int engine_variables_drop(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    uint8_t prefix[8];
    engine_be64(prefix, scope_key);
    /* Delete in rounds: collect a bounded set of keys, then delete them, so
     * the cursor never runs over rows deleted under it. */
    for (;;) {
        enum { ROUND = 64 };
        uint8_t keys[ROUND][ROW_KEY_MAX_BYTES];
        size_t lens[ROUND];
        size_t n = 0;
        tandem_kv_cursor *c;
        int rc = tandem_kv_cursor_open(txn, engine_tbl(e, TBL_VARIABLE), &c, diag);
        if (rc != 0) {
            return rc;
        }
        rc = tandem_kv_cursor_seek_prefix(c, prefix, sizeof(prefix), diag);
        tandem_kv_val k, v;
        while (rc == 0 && n < ROUND && (rc = tandem_kv_cursor_next(c, &k, &v, diag)) == 0) {
            TANDEM_ASSERT(k.len <= ROW_KEY_MAX_BYTES);
            memcpy(keys[n], k.data, k.len);
            lens[n++] = k.len;
        }
        tandem_kv_cursor_close(c);
        if (rc != 0 && rc != TANDEM_ENOENT) {
            return rc;
        }
        for (size_t i = 0; i < n; i++) {
            rc = tandem_kv_del(txn, engine_tbl(e, TBL_VARIABLE), keys[i], lens[i], diag);
            if (rc != 0) {
                return rc;
            }
        }
        if (n < ROUND) {
            return 0;
        }
    }
}

static bool fetch_wants(tandem_sv fetch, tandem_sv name)
{
    TANDEM_ASSERT(fetch.ptr != NULL || fetch.len == 0);
    TANDEM_ASSERT(name.ptr != NULL || name.len == 0);
    if (fetch.len == 0) {
        return true;
    }
    tandem_value_list it;
    tandem_value_list_init(&it, fetch);
    tandem_field f;
    while (tandem_value_list_next(&it, &f)) {
        if (f.wire == TANDEM_WIRE_STRING &&
            tandem_sv_eq((tandem_sv){(const char *)f.data, f.len}, name)) {
            return true;
        }
    }
    return false;
}

/* Appends a JSON string literal of `s` (escaping quotes, backslashes and
 * control characters; the rest of UTF-8 passes through). */
static int json_quote(tandem_buf *b, tandem_sv s)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(s.ptr != NULL || s.len == 0);
    int rc = tandem_buf_put_u8(b, '"');
    for (size_t i = 0; rc == 0 && i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            rc = tandem_buf_append(b, esc, 2);
        } else if (ch < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            rc = tandem_buf_append(b, esc, 6);
        } else {
            rc = tandem_buf_put_u8(b, ch);
        }
    }
    return rc != 0 ? rc : tandem_buf_put_u8(b, '"');
}

int engine_variables_document(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key,
                              tandem_sv fetch, tandem_sv *out, tandem_diag *diag)
{
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(e != NULL && out != NULL);
    uint8_t prefix[8];
    engine_be64(prefix, scope_key);
    tandem_buf doc = TANDEM_BUF_INIT;
    tandem_kv_cursor *c;
    int rc = tandem_kv_cursor_open(txn, engine_tbl(e, TBL_VARIABLE), &c, diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_cursor_seek_prefix(c, prefix, sizeof(prefix), diag);
    int wrc = tandem_buf_put_u8(&doc, '{');
    bool first = true;
    tandem_kv_val k, v;
    while (rc == 0 && wrc == 0 && (rc = tandem_kv_cursor_next(c, &k, &v, diag)) == 0) {
        TANDEM_ASSERT(k.len > 8);
        tandem_sv name = {(const char *)k.data + 8, k.len - 8};
        if (!fetch_wants(fetch, name)) {
            continue;
        }
        tandem_field f;
        if (tandem_fields_find(v.data, v.len, 2, &f) != 0 || f.wire != TANDEM_WIRE_STRING) {
            rc = corrupt(diag, "variable", scope_key);
            break;
        }
        if (!first) {
            wrc = tandem_buf_put_u8(&doc, ',');
        }
        first = false;
        wrc = wrc != 0 ? wrc : json_quote(&doc, name);
        wrc = wrc != 0 ? wrc : tandem_buf_put_u8(&doc, ':');
        wrc = wrc != 0 ? wrc : tandem_buf_append(&doc, f.data, f.len);
    }
    tandem_kv_cursor_close(c);
    wrc = wrc != 0 ? wrc : tandem_buf_put_u8(&doc, '}');
    if (rc == TANDEM_ENOENT) {
        rc = 0;
    }
    if (rc == 0 && wrc != 0) {
        rc = tandem_diag_set(diag, TANDEM_ENOMEM, "engine: out of memory for variables");
    }
    if (rc == 0 && engine_arena_dup(&e->arena, doc.data, doc.len, out) != 0) {
        rc = tandem_diag_set(diag, TANDEM_ENOMEM, "engine: out of memory for variables");
    }
    tandem_buf_free(&doc);
    return rc;
}

/* ---- Processes -------------------------------------------------------- */

int engine_latest_get(tandem_engine *e, tandem_kv_txn *txn, tandem_sv process_id,
                      engine_latest *out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    TANDEM_ASSERT(out != NULL);
    if (process_id.len == 0 || process_id.len > ROW_KEY_MAX_BYTES - 5) {
        return TANDEM_ENOENT;
    }
    tandem_sv row;
    int rc = row_get(e, txn, TBL_PROCESS_LATEST, process_id.ptr, process_id.len, &row, diag);
    if (rc != 0) {
        return rc;
    }
    out->version = -1;
    out->key = TANDEM_KEY_NONE;
    out->checksum = (tandem_sv){"", 0};
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, row.ptr, row.len);
    tandem_field f;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_SINT) {
            out->version = (int32_t)f.i;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_UINT) {
            out->key = f.u;
        } else if (f.tag == 3 && f.wire == TANDEM_WIRE_BYTES) {
            out->checksum = (tandem_sv){(const char *)f.data, f.len};
        }
    }
    if (fr.error != 0 || out->version < 1 || out->key == TANDEM_KEY_NONE) {
        return corrupt(diag, "latest process", 0);
    }
    return 0;
}

static size_t version_key(tandem_sv process_id, int32_t version, uint8_t *k)
{
    TANDEM_ASSERT(process_id.len > 0 && process_id.len <= ROW_KEY_MAX_BYTES - 5);
    TANDEM_ASSERT(version >= 1);
    memcpy(k, process_id.ptr, process_id.len);
    k[process_id.len] = 0;
    uint32_t v = (uint32_t)version;
    for (int i = 0; i < 4; i++) {
        k[process_id.len + 1 + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
    }
    return process_id.len + 5;
}

int engine_version_get(tandem_engine *e, tandem_kv_txn *txn, tandem_sv process_id, int32_t version,
                       uint64_t *key_out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    TANDEM_ASSERT(key_out != NULL);
    if (process_id.len == 0 || process_id.len > ROW_KEY_MAX_BYTES - 5 || version < 1) {
        return TANDEM_ENOENT;
    }
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = version_key(process_id, version, k);
    tandem_sv row;
    int rc = row_get(e, txn, TBL_PROCESS_VERSION, k, klen, &row, diag);
    if (rc != 0) {
        return rc;
    }
    if (row.len != 8) {
        return corrupt(diag, "process version", 0);
    }
    *key_out = engine_load_be64((const uint8_t *)row.ptr);
    return 0;
}

int engine_process_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key,
                       tandem_process_value *out, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    TANDEM_ASSERT(out != NULL);
    uint8_t k[8];
    engine_be64(k, key);
    tandem_sv row;
    int rc = row_get(e, txn, TBL_PROCESS, k, sizeof(k), &row, diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_process_value_decode(row.ptr, row.len, out, &e->unknown, diag);
    return rc != 0 ? corrupt(diag, "process", key) : 0;
}

int engine_process_index(tandem_engine *e, tandem_kv_txn *txn, const tandem_process_value *p,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    TANDEM_ASSERT(p != NULL);
    if (p->bpmn_process_id.len == 0 || p->bpmn_process_id.len > ROW_KEY_MAX_BYTES - 5 ||
        p->version < 1) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "engine: PROCESS CREATED with a bad process id or version %d",
                               (int)p->version);
    }
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = version_key(p->bpmn_process_id, p->version, k);
    uint8_t v[8];
    engine_be64(v, p->process_definition_key);
    int rc = tandem_kv_put(txn, engine_tbl(e, TBL_PROCESS_VERSION), k, klen, v, sizeof(v), diag);
    if (rc != 0) {
        return rc;
    }
    engine_latest latest;
    rc = engine_latest_get(e, txn, p->bpmn_process_id, &latest, diag);
    if (rc == 0 && latest.version >= p->version) {
        return 0;
    }
    if (rc != 0 && rc != TANDEM_ENOENT) {
        return rc;
    }
    tandem_buf_reset(&e->scratch);
    tandem_field_writer w;
    tandem_field_writer_init(&w, &e->scratch);
    tandem_field_put_int(&w, 1, p->version);
    tandem_field_put_uint(&w, 2, p->process_definition_key);
    tandem_field_put_bytes(&w, 3, p->checksum.ptr, p->checksum.len);
    return row_put(e, txn, TBL_PROCESS_LATEST, p->bpmn_process_id.ptr, p->bpmn_process_id.len, &w,
                   diag);
}

/* ---- Await results ---------------------------------------------------- */

int engine_await_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t pi_key, engine_await *out,
                     tandem_diag *diag)
{
    TANDEM_ASSERT(pi_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(out != NULL);
    uint8_t k[8];
    engine_be64(k, pi_key);
    tandem_sv row;
    int rc = row_get(e, txn, TBL_AWAIT, k, sizeof(k), &row, diag);
    if (rc != 0) {
        return rc;
    }
    out->request_stream_id = -1;
    out->request_id = -1;
    out->fetch_variables = (tandem_sv){"", 0};
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, row.ptr, row.len);
    tandem_field f;
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_SINT) {
            out->request_stream_id = (int32_t)f.i;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_SINT) {
            out->request_id = f.i;
        } else if (f.tag == 3 && f.wire == TANDEM_WIRE_NESTED) {
            out->fetch_variables = (tandem_sv){(const char *)f.data, f.len};
        }
    }
    return fr.error != 0 ? corrupt(diag, "await result", pi_key) : 0;
}

int engine_await_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t pi_key, const engine_await *a,
                     tandem_diag *diag)
{
    TANDEM_ASSERT(pi_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(a != NULL);
    uint8_t k[8];
    engine_be64(k, pi_key);
    tandem_buf_reset(&e->scratch);
    tandem_field_writer w;
    tandem_field_writer_init(&w, &e->scratch);
    tandem_field_put_int(&w, 1, a->request_stream_id);
    tandem_field_put_int(&w, 2, a->request_id);
    if (a->fetch_variables.len > 0) {
        tandem_field_put_nested(&w, 3, a->fetch_variables.ptr, a->fetch_variables.len);
    }
    return row_put(e, txn, TBL_AWAIT, k, sizeof(k), &w, diag);
}

/* ---- Indexes and meta ------------------------------------------------- */

static int index_key(const void *prefix, size_t prefix_len, uint64_t key, uint8_t *k, size_t *len,
                     tandem_diag *diag)
{
    TANDEM_ASSERT(k != NULL && len != NULL);
    TANDEM_ASSERT(prefix != NULL || prefix_len == 0);
    if (prefix_len > ROW_KEY_MAX_BYTES - 8) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "engine: index prefix of %zu bytes too long",
                               prefix_len);
    }
    if (prefix_len > 0) {
        memcpy(k, prefix, prefix_len);
    }
    engine_be64(k + prefix_len, key);
    *len = prefix_len + 8;
    return 0;
}

int engine_index_put(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *prefix,
                     size_t prefix_len, uint64_t key, tandem_diag *diag)
{
    TANDEM_ASSERT(t == TBL_ELEMENT_CHILD || (t >= TBL_JOB_ACTIVATABLE && t <= TBL_JOB_BACKOFF));
    TANDEM_ASSERT(e != NULL && (prefix != NULL || prefix_len == 0));
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = 0;
    int rc = index_key(prefix, prefix_len, key, k, &klen, diag);
    return rc != 0 ? rc : tandem_kv_put(txn, engine_tbl(e, t), k, klen, "", 0, diag);
}

int engine_index_del(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *prefix,
                     size_t prefix_len, uint64_t key, tandem_diag *diag)
{
    TANDEM_ASSERT(t == TBL_ELEMENT_CHILD || (t >= TBL_JOB_ACTIVATABLE && t <= TBL_JOB_BACKOFF));
    TANDEM_ASSERT(e != NULL && (prefix != NULL || prefix_len == 0));
    uint8_t k[ROW_KEY_MAX_BYTES];
    size_t klen = 0;
    int rc = index_key(prefix, prefix_len, key, k, &klen, diag);
    if (rc != 0) {
        return rc;
    }
    rc = tandem_kv_del(txn, engine_tbl(e, t), k, klen, diag);
    return rc == TANDEM_ENOENT ? 0 : rc;
}

static const char key_next_name[] = "key_next";

int engine_key_next_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    TANDEM_ASSERT(e != NULL && out != NULL);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, engine_tbl(e, TBL_META), key_next_name, sizeof(key_next_name) - 1,
                           &v, diag);
    if (rc == TANDEM_ENOENT) {
        *out = 1; /* Zeebe's first key of a partition has counter 1 */
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    if (v.len != 8) {
        return corrupt(diag, "key generator", 0);
    }
    *out = tandem_load_u64(v.data);
    return 0;
}

int engine_key_next_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t next, tandem_diag *diag)
{
    TANDEM_ASSERT(next <= TANDEM_KEY_COUNTER_MAX + 1);
    TANDEM_ASSERT(e != NULL);
    TANDEM_ASSERT(next >= 1);
    uint8_t v[8];
    tandem_store_u64(v, next);
    return tandem_kv_put(txn, engine_tbl(e, TBL_META), key_next_name, sizeof(key_next_name) - 1, v,
                         sizeof(v), diag);
}
