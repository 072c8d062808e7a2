/*
 * The state store's front end (see kv.h and kv_int.h): checks, sticky
 * errors, the one-writer rule and the cursor protocol, shared by both
 * backends so they cannot drift apart.
 */
#include "state/kv.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "state/kv_int.h"

bool kv_table_name_valid(const char *name, size_t len)
{
    TANDEM_ASSERT(name != NULL);
    if (len == 0 || len > TANDEM_KV_TABLE_NAME_MAX_BYTES) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

int kv_key_compare(const void *a, size_t a_len, const void *b, size_t b_len)
{
    TANDEM_ASSERT(a != NULL || a_len == 0);
    TANDEM_ASSERT(b != NULL || b_len == 0);
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n == 0 ? 0 : memcmp(a, b, n);
    if (c != 0) {
        return c;
    }
    return a_len < b_len ? -1 : (a_len > b_len ? 1 : 0);
}

int kv_init_common(tandem_kv *kv, const kv_backend *backend, const char *path,
                   const tandem_kv_options *opts, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && backend != NULL && path != NULL);
    if (opts == NULL || opts->table_names == NULL || opts->table_count == 0 ||
        opts->table_count > TANDEM_KV_TABLES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "state %s: between 1 and %d tables must be named", path,
                               TANDEM_KV_TABLES_MAX);
    }
    size_t path_len = strlen(path);
    if (path_len == 0 || path_len >= sizeof(kv->path)) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "state path has %zu bytes (1..%zu allowed)",
                               path_len, sizeof(kv->path) - 1);
    }
    memcpy(kv->path, path, path_len + 1);
    kv->backend = backend;
    kv->table_count = opts->table_count;
    for (uint32_t i = 0; i < opts->table_count; i++) {
        const char *name = opts->table_names[i];
        size_t len = name == NULL ? 0 : strlen(name);
        if (name == NULL || !kv_table_name_valid(name, len)) {
            return tandem_diag_set(
                diag, TANDEM_EINVAL, "state %s: table name \"%s\" is not 1..%d bytes of [a-z0-9_]",
                path, name == NULL ? "(null)" : name, TANDEM_KV_TABLE_NAME_MAX_BYTES);
        }
        memcpy(kv->table_names[i], name, len + 1);
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(kv->table_names[j], name) == 0) {
                return tandem_diag_set(diag, TANDEM_EINVAL, "state %s: table \"%s\" named twice",
                                       path, name);
            }
        }
    }
    /* Insertion sort of the indexes by name: at most TANDEM_KV_TABLES_MAX. */
    for (uint32_t i = 0; i < kv->table_count; i++) {
        uint32_t j = i;
        kv->table_order[i] = i;
        while (j > 0 && strcmp(kv->table_names[kv->table_order[j - 1]], kv->table_names[i]) > 0) {
            kv->table_order[j] = kv->table_order[j - 1];
            j--;
        }
        kv->table_order[j] = i;
    }
    kv->map_size_bytes =
        opts->map_size_bytes == 0 ? TANDEM_KV_MAP_SIZE_DEFAULT_BYTES : opts->map_size_bytes;
    atomic_init(&kv->applied_position, 0);
    atomic_init(&kv->writer_open, false);
    atomic_init(&kv->txns_open, 0);
    atomic_init(&kv->readers_open, 0);
    atomic_init(&kv->stopped, false);
    TANDEM_ASSERT(kv->map_size_bytes > 0);
    TANDEM_ASSERT(strcmp(kv->table_names[kv->table_order[0]],
                         kv->table_names[kv->table_order[kv->table_count - 1]]) <= 0);
    return TANDEM_OK;
}

void tandem_kv_close(tandem_kv *kv)
{
    if (kv == NULL) {
        return;
    }
    TANDEM_ASSERT(atomic_load(&kv->txns_open) == 0);
    TANDEM_ASSERT(atomic_load(&kv->readers_open) == 0);
    TANDEM_ASSERT(!atomic_load(&kv->writer_open));
    kv->backend->close(kv);
}

const char *tandem_kv_backend_name(const tandem_kv *kv)
{
    TANDEM_ASSERT(kv != NULL && kv->backend != NULL);
    TANDEM_ASSERT(kv->backend->name != NULL);
    return kv->backend->name;
}

uint32_t tandem_kv_table_count(const tandem_kv *kv)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(kv->table_count > 0 && kv->table_count <= TANDEM_KV_TABLES_MAX);
    return kv->table_count;
}

const char *tandem_kv_table_name(const tandem_kv *kv, uint32_t table)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(table < kv->table_count);
    return kv->table_names[table];
}

uint64_t tandem_kv_applied_position(const tandem_kv *kv)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(kv->backend != NULL);
    return atomic_load(&((tandem_kv *)kv)->applied_position);
}

/* A failed fsync is final: the page cache may have dropped what it could not
 * write, so no later commit may pretend the state is intact (DESIGN §2). */
static void stop_on_sync_failure(tandem_kv *kv, int rc)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(rc != TANDEM_ESTOPPED); /* a backend never reports the front end's state */
    if (rc == TANDEM_EIO) {
        atomic_store(&kv->stopped, true);
    }
}

int tandem_kv_sync(tandem_kv *kv, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(kv->backend->sync != NULL);
    if (atomic_load(&kv->stopped)) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "state %s stopped after a failed sync",
                               kv->path);
    }
    int rc = kv->backend->sync(kv, diag);
    stop_on_sync_failure(kv, rc);
    return rc;
}

int tandem_kv_set_map_size(tandem_kv *kv, uint64_t map_size_bytes, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL);
    if (map_size_bytes == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "state %s: map size must be positive",
                               kv->path);
    }
    if (atomic_load(&kv->txns_open) != 0) {
        return tandem_diag_set(diag, TANDEM_ESTATE,
                               "state %s: map size changed while %u transactions are open",
                               kv->path, atomic_load(&kv->txns_open));
    }
    TANDEM_ASSERT(!atomic_load(&kv->writer_open));
    int rc = kv->backend->set_map_size(kv, map_size_bytes, diag);
    if (rc == TANDEM_OK) {
        kv->map_size_bytes = map_size_bytes;
    }
    return rc;
}

/* --- transactions --- */

static int begin(tandem_kv *kv, bool write, tandem_kv_txn **out, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && out != NULL);
    if (atomic_load(&kv->stopped)) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED,
                               "state %s stopped after a failed sync; restart to recover",
                               kv->path);
    }
    if (write) {
        bool expected = false;
        if (!atomic_compare_exchange_strong(&kv->writer_open, &expected, true)) {
            return tandem_diag_set(diag, TANDEM_ESTATE,
                                   "state %s: a write transaction is already open", kv->path);
        }
    } else if (atomic_fetch_add(&kv->readers_open, 1) >= TANDEM_KV_READERS_MAX) {
        atomic_fetch_sub(&kv->readers_open, 1);
        return tandem_diag_set(diag, TANDEM_EFULL,
                               "state %s: %d read transactions are open already", kv->path,
                               TANDEM_KV_READERS_MAX);
    }
    tandem_kv_txn *txn = NULL;
    int rc = kv->backend->begin(kv, write, &txn, diag);
    if (rc != TANDEM_OK) {
        if (write) {
            atomic_store(&kv->writer_open, false);
        } else {
            atomic_fetch_sub(&kv->readers_open, 1);
        }
        return rc;
    }
    TANDEM_ASSERT(txn != NULL && txn->error == 0 && txn->cursors_open == 0);
    TANDEM_ASSERT(txn->write_gen == 0 && !txn->allow_position_back);
    txn->kv = kv;
    txn->write = write;
    unsigned before = atomic_fetch_add(&kv->txns_open, 1);
    TANDEM_ASSERT(before <= TANDEM_KV_READERS_MAX);
    *out = txn;
    return TANDEM_OK;
}

int tandem_kv_begin_read(tandem_kv *kv, tandem_kv_txn **out, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && out != NULL);
    int rc = begin(kv, false, out, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || !(*out)->write);
    return rc;
}

int tandem_kv_begin_write(tandem_kv *kv, tandem_kv_txn **out, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && out != NULL);
    int rc = begin(kv, true, out, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || (*out)->write);
    return rc;
}

uint64_t tandem_kv_txn_applied_position(const tandem_kv_txn *txn)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    /* The writer started from the last commit, and nobody else commits. */
    TANDEM_ASSERT(!txn->write || txn->applied_position == tandem_kv_applied_position(txn->kv));
    return txn->applied_position;
}

bool tandem_kv_txn_is_write(const tandem_kv_txn *txn)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(!txn->write || atomic_load(&txn->kv->writer_open));
    return txn->write;
}

/* Bookkeeping after the backend freed a transaction. The writer flag is
 * released last, so the next writer never waits on the backend's lock. */
static void txn_ended(tandem_kv *kv, bool write)
{
    TANDEM_ASSERT(kv != NULL);
    unsigned before = atomic_fetch_sub(&kv->txns_open, 1);
    TANDEM_ASSERT(before > 0);
    if (write) {
        TANDEM_ASSERT(atomic_load(&kv->writer_open));
        atomic_store(&kv->writer_open, false);
    } else {
        unsigned readers = atomic_fetch_sub(&kv->readers_open, 1);
        TANDEM_ASSERT(readers > 0);
    }
}

void tandem_kv_abort(tandem_kv_txn *txn)
{
    if (txn == NULL) {
        return;
    }
    TANDEM_ASSERT(txn->kv != NULL);
    TANDEM_ASSERT(txn->cursors_open == 0);
    tandem_kv *kv = txn->kv;
    bool write = txn->write;
    kv->backend->abort(txn);
    txn_ended(kv, write);
}

int tandem_kv_commit(tandem_kv_txn *txn, uint64_t applied_position, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(txn->write && txn->cursors_open == 0);
    tandem_kv *kv = txn->kv;
    int rc = txn->error;
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "state %s: commit of a failed transaction (%s); discarded",
                        kv->path, tandem_errname(rc));
        tandem_kv_abort(txn);
        return rc;
    }
    if (applied_position < txn->applied_position && !txn->allow_position_back) {
        tandem_diag_set(diag, TANDEM_ERANGE,
                        "state %s: applied position %llu is behind the committed %llu", kv->path,
                        (unsigned long long)applied_position,
                        (unsigned long long)txn->applied_position);
        tandem_kv_abort(txn);
        return TANDEM_ERANGE;
    }
    TANDEM_ASSERT(atomic_load(&kv->writer_open));
    rc = kv->backend->commit(txn, applied_position, diag);
    if (rc == TANDEM_OK) {
        atomic_store(&kv->applied_position, applied_position);
    }
    TANDEM_ASSERT(rc != TANDEM_ENOENT);
    stop_on_sync_failure(kv, rc);
    txn_ended(kv, true);
    return rc;
}

/* --- data --- */

/* Common checks of every data operation; a failure makes the transaction
 * failed, as every other error does. */
static int check_op(tandem_kv_txn *txn, uint32_t table, bool writes, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(table < txn->kv->table_count);
    if (txn->error != TANDEM_OK) {
        return tandem_diag_set(diag, txn->error, "state %s: transaction failed earlier (%s)",
                               txn->kv->path, tandem_errname(txn->error));
    }
    if (writes && !txn->write) {
        txn->error = TANDEM_ESTATE;
        return tandem_diag_set(diag, TANDEM_ESTATE, "state %s: write in a read transaction",
                               txn->kv->path);
    }
    return TANDEM_OK;
}

static int check_key(tandem_kv_txn *txn, const void *key, size_t key_len, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(txn->error == TANDEM_OK); /* check_op ran first */
    int rc = TANDEM_OK;
    if (key == NULL || key_len == 0) {
        rc = tandem_diag_set(diag, TANDEM_EINVAL, "state %s: empty key", txn->kv->path);
    } else if (key_len > TANDEM_KV_KEY_MAX_BYTES) {
        rc = tandem_diag_set(diag, TANDEM_ETOOBIG, "state %s: key of %zu bytes (at most %d)",
                             txn->kv->path, key_len, TANDEM_KV_KEY_MAX_BYTES);
    }
    if (rc != TANDEM_OK) {
        txn->error = rc;
    }
    return rc;
}

/* Records a backend failure as the transaction's sticky error. */
static int settle(tandem_kv_txn *txn, int rc)
{
    TANDEM_ASSERT(txn != NULL);
    TANDEM_ASSERT(rc >= 0 && rc < TANDEM_ERROR_COUNT);
    if (rc != TANDEM_OK && rc != TANDEM_ENOENT) {
        txn->error = rc;
    }
    return rc;
}

int tandem_kv_get(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  tandem_kv_val *val_out, tandem_diag *diag)
{
    TANDEM_ASSERT(val_out != NULL);
    int rc = check_op(txn, table, false, diag);
    if (rc == TANDEM_OK) {
        rc = check_key(txn, key, key_len, diag);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = settle(txn, txn->kv->backend->get(txn, table, key, key_len, val_out, diag));
    TANDEM_ASSERT(rc != TANDEM_OK || val_out->data != NULL || val_out->len == 0);
    return rc;
}

static int put(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len, const void *val,
               size_t val_len, bool append, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    int rc = check_op(txn, table, true, diag);
    if (rc == TANDEM_OK) {
        rc = check_key(txn, key, key_len, diag);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (val == NULL && val_len != 0) {
        txn->error = TANDEM_EINVAL;
        return tandem_diag_set(diag, TANDEM_EINVAL, "state %s: value without bytes", txn->kv->path);
    }
    if (val_len > TANDEM_KV_VALUE_MAX_BYTES) {
        txn->error = TANDEM_ETOOBIG;
        return tandem_diag_set(diag, TANDEM_ETOOBIG, "state %s: value of %zu bytes (at most %u)",
                               txn->kv->path, val_len, TANDEM_KV_VALUE_MAX_BYTES);
    }
    TANDEM_ASSERT(txn->write && txn->error == TANDEM_OK);
    txn->write_gen++;
    rc = txn->kv->backend->put(txn, table, key, key_len, val_len == 0 ? "" : val, val_len, append,
                               diag);
    TANDEM_ASSERT(rc != TANDEM_ENOENT);
    return settle(txn, rc);
}

int tandem_kv_put(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  const void *val, size_t val_len, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    int rc = put(txn, table, key, key_len, val, val_len, false, diag);
    TANDEM_ASSERT(rc == TANDEM_OK || txn->error == rc);
    return rc;
}

int kv_put_append(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  const void *val, size_t val_len, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->allow_position_back); /* snapshot loads only */
    int rc = put(txn, table, key, key_len, val, val_len, true, diag);
    TANDEM_ASSERT(rc == TANDEM_OK || txn->error == rc);
    return rc;
}

int tandem_kv_del(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    int rc = check_op(txn, table, true, diag);
    if (rc == TANDEM_OK) {
        rc = check_key(txn, key, key_len, diag);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(txn->write && txn->error == TANDEM_OK);
    txn->write_gen++;
    return settle(txn, txn->kv->backend->del(txn, table, key, key_len, diag));
}

int tandem_kv_clear(tandem_kv_txn *txn, uint32_t table, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    int rc = check_op(txn, table, true, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(txn->write && txn->error == TANDEM_OK);
    txn->write_gen++;
    rc = txn->kv->backend->clear(txn, table, diag);
    TANDEM_ASSERT(rc != TANDEM_ENOENT);
    return settle(txn, rc);
}

int tandem_kv_count(tandem_kv_txn *txn, uint32_t table, uint64_t *count_out, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    TANDEM_ASSERT(count_out != NULL);
    int rc = check_op(txn, table, false, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = txn->kv->backend->count(txn, table, count_out, diag);
    TANDEM_ASSERT(rc != TANDEM_ENOENT);
    return settle(txn, rc);
}

/* --- cursors --- */

int tandem_kv_cursor_open(tandem_kv_txn *txn, uint32_t table, tandem_kv_cursor **out,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    TANDEM_ASSERT(out != NULL);
    int rc = check_op(txn, table, false, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_kv_cursor *c = NULL;
    rc = settle(txn, txn->kv->backend->cursor_open(txn, table, &c, diag));
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(c != NULL && !c->started);
    c->txn = txn;
    c->table = table;
    txn->cursors_open++;
    *out = c;
    return TANDEM_OK;
}

void tandem_kv_cursor_close(tandem_kv_cursor *c)
{
    if (c == NULL) {
        return;
    }
    TANDEM_ASSERT(c->txn != NULL && c->txn->cursors_open > 0);
    TANDEM_ASSERT(c->table < c->txn->kv->table_count);
    c->txn->cursors_open--;
    c->txn->kv->backend->cursor_close(c);
}

static bool has_prefix(const tandem_kv_cursor *c, const tandem_kv_val *key)
{
    TANDEM_ASSERT(c->prefix_len <= sizeof(c->prefix));
    TANDEM_ASSERT(key->data != NULL && key->len >= 1);
    return c->prefix_len == 0 ||
           (key->len >= c->prefix_len && memcmp(key->data, c->prefix, c->prefix_len) == 0);
}

/* Takes an entry the backend just produced: checks it lies beyond `after`
 * (strictly when `strict`), remembers its key, applies the prefix bound.
 * An LMDB file is input: a key out of range or out of order there is damage,
 * reported, never asserted. */
static int produced(tandem_kv_cursor *c, int rc, const tandem_kv_val *k, const void *after,
                    size_t after_len, bool strict, tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && k != NULL);
    TANDEM_ASSERT(after != NULL || after_len == 0);
    if (rc == TANDEM_ENOENT) {
        c->exhausted = true;
        return rc;
    }
    if (rc == TANDEM_OK) {
        bool in_range = k->data != NULL && k->len >= 1 && k->len <= TANDEM_KV_KEY_MAX_BYTES;
        int order =
            in_range && after_len > 0 ? kv_key_compare(k->data, k->len, after, after_len) : 1;
        if (!in_range || order < 0 || (strict && order == 0)) {
            rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                                 "state %s is damaged: table %s yields a key out of order or of "
                                 "%zu bytes",
                                 c->txn->kv->path, c->txn->kv->table_names[c->table], k->len);
        }
    }
    if (rc != TANDEM_OK) {
        c->txn->error = rc;
        return rc;
    }
    memcpy(c->last_key, k->data, k->len);
    c->last_key_len = k->len;
    c->write_gen = c->txn->write_gen;
    if (!has_prefix(c, k)) {
        c->exhausted = true;
        return TANDEM_ENOENT;
    }
    return TANDEM_OK;
}

static int seek(tandem_kv_cursor *c, const void *key, size_t key_len, size_t prefix_len,
                tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    tandem_kv_txn *txn = c->txn;
    if (txn->error != TANDEM_OK) {
        return tandem_diag_set(diag, txn->error, "state %s: transaction failed earlier (%s)",
                               txn->kv->path, tandem_errname(txn->error));
    }
    if (key_len > TANDEM_KV_KEY_MAX_BYTES || (key == NULL && key_len != 0)) {
        txn->error = TANDEM_ETOOBIG;
        return tandem_diag_set(diag, TANDEM_ETOOBIG, "state %s: seek key of %zu bytes (at most %d)",
                               txn->kv->path, key_len, TANDEM_KV_KEY_MAX_BYTES);
    }
    TANDEM_ASSERT(prefix_len <= key_len);
    c->started = true;
    c->pending = false;
    c->exhausted = false;
    c->prefix_len = prefix_len;
    if (prefix_len > 0) {
        memcpy(c->prefix, key, prefix_len);
    }
    tandem_kv_val k = {NULL, 0};
    tandem_kv_val v = {NULL, 0};
    int rc = txn->kv->backend->cursor_seek(c, key, key_len, &k, &v, diag);
    rc = produced(c, rc, &k, key, key_len, false, diag);
    if (rc == TANDEM_OK) {
        c->pending = true;
        c->pending_key = k;
        c->pending_val = v;
    }
    return rc == TANDEM_ENOENT ? TANDEM_OK : rc;
}

int tandem_kv_cursor_seek(tandem_kv_cursor *c, const void *key, size_t key_len, tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    int rc = seek(c, key, key_len, 0, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || (c->started && c->prefix_len == 0));
    return rc;
}

int tandem_kv_cursor_seek_prefix(tandem_kv_cursor *c, const void *prefix, size_t prefix_len,
                                 tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    if (prefix == NULL || prefix_len == 0) {
        c->txn->error = TANDEM_EINVAL;
        return tandem_diag_set(diag, TANDEM_EINVAL, "state %s: empty prefix", c->txn->kv->path);
    }
    int rc = seek(c, prefix, prefix_len, prefix_len, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || c->prefix_len == prefix_len);
    return rc;
}

/* After a write in the transaction, finds the first entry after last_key
 * again (or at it, when it is still pending). */
static int reseek(tandem_kv_cursor *c, tandem_kv_val *k, tandem_kv_val *v, tandem_diag *diag)
{
    TANDEM_ASSERT(c->last_key_len > 0 && c->last_key_len <= TANDEM_KV_KEY_MAX_BYTES);
    TANDEM_ASSERT(c->write_gen != c->txn->write_gen);
    const kv_backend *b = c->txn->kv->backend;
    const uint8_t *from = c->last_key; /* unchanged until produced() takes the result */
    size_t from_len = c->last_key_len;
    int rc = b->cursor_seek(c, from, from_len, k, v, diag);
    if (rc == TANDEM_OK && !c->pending && k->data != NULL &&
        kv_key_compare(k->data, k->len, from, from_len) == 0) {
        rc = b->cursor_next(c, k, v, diag);
    }
    return rc;
}

int tandem_kv_cursor_next(tandem_kv_cursor *c, tandem_kv_val *key_out, tandem_kv_val *val_out,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    TANDEM_ASSERT(key_out != NULL && val_out != NULL);
    tandem_kv_txn *txn = c->txn;
    if (txn->error != TANDEM_OK) {
        return tandem_diag_set(diag, txn->error, "state %s: transaction failed earlier (%s)",
                               txn->kv->path, tandem_errname(txn->error));
    }
    if (!c->started) {
        int rc = seek(c, NULL, 0, 0, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    if (c->exhausted) {
        return TANDEM_ENOENT;
    }
    tandem_kv_val k = {NULL, 0};
    tandem_kv_val v = {NULL, 0};
    int rc;
    /* The bound is copied: produced() overwrites last_key. */
    uint8_t after[TANDEM_KV_KEY_MAX_BYTES];
    size_t after_len = c->last_key_len;
    memcpy(after, c->last_key, after_len);
    bool strict = !c->pending;
    if (c->write_gen != txn->write_gen) {
        rc = produced(c, reseek(c, &k, &v, diag), &k, after, after_len, strict, diag);
    } else if (c->pending) {
        k = c->pending_key;
        v = c->pending_val;
        rc = TANDEM_OK;
    } else {
        rc = produced(c, txn->kv->backend->cursor_next(c, &k, &v, diag), &k, after, after_len, true,
                      diag);
    }
    c->pending = false;
    if (rc == TANDEM_OK) {
        TANDEM_ASSERT(has_prefix(c, &k));
        TANDEM_ASSERT(kv_key_compare(k.data, k.len, c->last_key, c->last_key_len) == 0);
        *key_out = k;
        *val_out = v;
    }
    return rc;
}

/* --- digest --- */

static int digest_table(tandem_kv_txn *txn, uint32_t table, kv_hasher *h, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && h != NULL);
    TANDEM_ASSERT(table < txn->kv->table_count);
    const char *name = txn->kv->table_names[table];
    kv_hasher_u32(h, (uint32_t)strlen(name));
    kv_hasher_update(h, name, strlen(name));
    tandem_kv_cursor *c = NULL;
    int rc = tandem_kv_cursor_open(txn, table, &c, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint64_t entries = 0;
    tandem_kv_val k;
    tandem_kv_val v;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, diag)) == TANDEM_OK) {
        kv_hasher_u32(h, (uint32_t)k.len);
        kv_hasher_update(h, k.data, k.len);
        kv_hasher_u32(h, (uint32_t)v.len);
        kv_hasher_update(h, v.data, v.len);
        entries++;
    }
    tandem_kv_cursor_close(c);
    if (rc != TANDEM_ENOENT) {
        return rc;
    }
    kv_hasher_u64(h, entries);
    return TANDEM_OK;
}

int tandem_kv_txn_digest(tandem_kv_txn *txn, uint64_t out[2], tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(out != NULL);
    kv_hasher h;
    kv_hasher_init(&h);
    for (uint32_t i = 0; i < txn->kv->table_count; i++) {
        int rc = digest_table(txn, txn->kv->table_order[i], &h, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    kv_hasher_u64(&h, txn->applied_position);
    kv_hasher_final(&h, out);
    return TANDEM_OK;
}

int tandem_kv_digest(tandem_kv *kv, uint64_t out[2], tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && out != NULL);
    tandem_kv_txn *txn = NULL;
    int rc = tandem_kv_begin_read(kv, &txn, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(!txn->write);
    rc = tandem_kv_txn_digest(txn, out, diag);
    tandem_kv_abort(txn);
    return rc;
}
