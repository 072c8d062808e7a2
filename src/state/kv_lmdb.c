/*
 * The LMDB backend of the state store (see kv.h; the environment's layout is
 * in docs/STATE_FORMAT.md).
 *
 * One environment per partition replica, in its `state/` directory (LMDB's
 * default subdirectory mode: data.mdb and lock.mdb inside it), so the
 * directory is the state and nothing else shares it. Flags:
 * - MDB_NOMETASYNC: a commit syncs the data pages but not the meta page,
 *   which the next commit's sync (or tandem_kv_sync) carries to disk. After a
 *   power loss the environment is consistent and at worst one commit behind,
 *   and since the applied position lives in the same transaction, restart
 *   simply replays the log from the position it finds. That halves the
 *   fsyncs per commit.
 * - MDB_NOTLS: read transactions are not tied to the thread that began
 *   them, so a snapshot or a query may run on another thread, and one thread
 *   may hold a read and the write transaction at once.
 * The map size is fixed at open (no automatic growth: growing needs every
 * transaction of the process closed, which a background resize cannot
 * promise); MDB_MAP_FULL becomes TANDEM_ENOSPC with a message saying so.
 *
 * LMDB does its own file I/O through mmap and pwrite, so the fault-injecting
 * file system cannot reach it; its crash behaviour is tested with real
 * processes killed mid-transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/buf.h"
#include "state/kv_int.h"

/* The state format this build writes and reads (the "format" meta key). */
#define LMDB_STATE_FORMAT 1
#define LMDB_META_TABLE   "tandem.meta"
#define LMDB_KEY_FORMAT   "format"
#define LMDB_KEY_APPLIED  "applied_position"
/* Reader slots: a few more than the front end allows, so its check and
 * LMDB's never disagree under a race. */
#define LMDB_READERS_MAX (TANDEM_KV_READERS_MAX + 4)

_Static_assert(TANDEM_KV_KEY_MAX_BYTES <= 511, "LMDB's default maximum key size");
_Static_assert(TANDEM_KV_TABLES_MAX + 1 < 128, "tables and the meta table fit LMDB's dbi count");

typedef struct lmdb_kv {
    tandem_kv base;
    MDB_env *env;
    MDB_dbi meta;
    MDB_dbi dbis[TANDEM_KV_TABLES_MAX];
} lmdb_kv;

typedef struct lmdb_txn {
    tandem_kv_txn base;
    MDB_txn *txn;
} lmdb_txn;

typedef struct lmdb_cursor {
    tandem_kv_cursor base;
    MDB_cursor *cur;
} lmdb_cursor;

static const kv_backend lmdb_backend;

static lmdb_kv *lmdb_of(tandem_kv *kv)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(kv->backend == &lmdb_backend);
    return (lmdb_kv *)kv;
}

static lmdb_txn *txn_of(tandem_kv_txn *txn)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(txn->kv->backend == &lmdb_backend);
    return (lmdb_txn *)txn;
}

static lmdb_cursor *cursor_of(tandem_kv_cursor *c)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    TANDEM_ASSERT(c->txn->kv->backend == &lmdb_backend);
    return (lmdb_cursor *)c;
}

static MDB_val mval(const void *data, size_t len)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    MDB_val v;
    v.mv_size = len;
    v.mv_data = (void *)(uintptr_t)data; /* LMDB does not write through it */
    return v;
}

/* Translates an LMDB result into the error table with a message naming the
 * call and the directory. MDB_NOTFOUND is TANDEM_ENOENT without a message. */
static int lmdb_error(const lmdb_kv *l, int mrc, const char *call, tandem_diag *diag)
{
    TANDEM_ASSERT(l != NULL && call != NULL);
    TANDEM_ASSERT(mrc != MDB_SUCCESS);
    int code;
    const char *hint = "";
    char map_hint[160] = "";
    switch (mrc) {
    case MDB_NOTFOUND:
        return TANDEM_ENOENT;
    case MDB_MAP_FULL:
        code = TANDEM_ENOSPC;
        snprintf(map_hint, sizeof(map_hint),
                 "; the state reached its map size of %llu bytes: raise the state map size",
                 (unsigned long long)l->base.map_size_bytes);
        hint = map_hint;
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        code = TANDEM_ECORRUPT;
        hint = "; the state file is damaged or is not an LMDB file";
        break;
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        code = TANDEM_EFORMAT;
        hint = "; the state was written by an incompatible LMDB or layout";
        break;
    case MDB_PANIC:
        code = TANDEM_EIO;
        break;
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
        code = TANDEM_EFULL;
        break;
    case MDB_BAD_VALSIZE:
        code = TANDEM_ETOOBIG;
        break;
    case MDB_KEYEXIST:
        code = TANDEM_EEXIST;
        break;
    case MDB_MAP_RESIZED:
    case MDB_BAD_TXN:
    case MDB_BAD_RSLOT:
    case MDB_BAD_DBI:
        code = TANDEM_ESTATE;
        break;
    default:
        code = mrc > 0 ? tandem_from_errno(mrc) : TANDEM_ESYS;
        break;
    }
    return tandem_diag_set(diag, code, "%s on %s: %s%s", call, l->base.path, mdb_strerror(mrc),
                           hint);
}

/* LMDB creates data.mdb and lock.mdb but never syncs the directory, so their
 * names could vanish in a power loss right after the first commits. */
static int sync_directory(const lmdb_kv *l, tandem_diag *diag)
{
    TANDEM_ASSERT(l != NULL);
    TANDEM_ASSERT(l->base.path[0] != '\0');
    int fd = open(l->base.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return tandem_diag_set(diag, tandem_from_errno(errno), "open state directory %s: %s",
                               l->base.path, strerror(errno));
    }
    int rc = TANDEM_OK;
    if (fsync(fd) != 0) {
        rc = tandem_diag_set(diag, TANDEM_EIO, "fsync state directory %s: %s", l->base.path,
                             strerror(errno));
    }
    close(fd);
    return rc;
}

/* Reads (or, in a new environment, writes) the meta keys. */
static int init_meta(lmdb_kv *l, MDB_txn *txn, uint64_t *applied_out, tandem_diag *diag)
{
    TANDEM_ASSERT(l != NULL && txn != NULL && applied_out != NULL);
    MDB_val k = mval(LMDB_KEY_FORMAT, strlen(LMDB_KEY_FORMAT));
    MDB_val v;
    int mrc = mdb_get(txn, l->meta, &k, &v);
    if (mrc == MDB_NOTFOUND) {
        uint8_t fmt[4];
        uint8_t pos[8];
        tandem_store_u32(fmt, LMDB_STATE_FORMAT);
        tandem_store_u64(pos, 0);
        v = mval(fmt, sizeof(fmt));
        mrc = mdb_put(txn, l->meta, &k, &v, 0);
        if (mrc == MDB_SUCCESS) {
            k = mval(LMDB_KEY_APPLIED, strlen(LMDB_KEY_APPLIED));
            v = mval(pos, sizeof(pos));
            mrc = mdb_put(txn, l->meta, &k, &v, 0);
        }
        *applied_out = 0;
        TANDEM_ASSERT(tandem_load_u32(fmt) == LMDB_STATE_FORMAT);
        return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_put", diag);
    }
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_get", diag);
    }
    if (v.mv_size != 4) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "state %s is damaged: format key has %zu bytes, expected 4",
                               l->base.path, v.mv_size);
    }
    TANDEM_ASSERT(v.mv_data != NULL);
    uint32_t format = tandem_load_u32(v.mv_data);
    if (format > LMDB_STATE_FORMAT) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "state %s has format version %u, this build reads up to %d",
                               l->base.path, format, LMDB_STATE_FORMAT);
    }
    if (format == 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "state %s is damaged: format version 0",
                               l->base.path);
    }
    return TANDEM_OK;
}

static int read_applied(const lmdb_kv *l, MDB_txn *txn, uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(l != NULL && txn != NULL && out != NULL);
    MDB_val k = mval(LMDB_KEY_APPLIED, strlen(LMDB_KEY_APPLIED));
    MDB_val v;
    int mrc = mdb_get(txn, l->meta, &k, &v);
    if (mrc == MDB_NOTFOUND || (mrc == MDB_SUCCESS && v.mv_size != 8)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "state %s is damaged: applied position missing or malformed",
                               l->base.path);
    }
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_get", diag);
    }
    TANDEM_ASSERT(v.mv_data != NULL && v.mv_size == 8);
    *out = tandem_load_u64(v.mv_data);
    return TANDEM_OK;
}

/* Opens (creating) the meta table and every table, in one write transaction. */
static int open_tables(lmdb_kv *l, uint64_t *applied_out, tandem_diag *diag)
{
    TANDEM_ASSERT(l != NULL && l->env != NULL);
    MDB_txn *txn = NULL;
    int mrc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_txn_begin", diag);
    }
    int rc;
    mrc = mdb_dbi_open(txn, LMDB_META_TABLE, MDB_CREATE, &l->meta);
    if (mrc != MDB_SUCCESS) {
        rc = lmdb_error(l, mrc, "mdb_dbi_open " LMDB_META_TABLE, diag);
        goto fail;
    }
    rc = init_meta(l, txn, applied_out, diag);
    if (rc == TANDEM_OK) {
        rc = read_applied(l, txn, applied_out, diag);
    }
    if (rc != TANDEM_OK) {
        goto fail;
    }
    for (uint32_t i = 0; i < l->base.table_count; i++) {
        mrc = mdb_dbi_open(txn, l->base.table_names[i], MDB_CREATE, &l->dbis[i]);
        if (mrc != MDB_SUCCESS) {
            rc = lmdb_error(l, mrc, "mdb_dbi_open", diag);
            goto fail;
        }
    }
    mrc = mdb_txn_commit(txn);
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_txn_commit", diag);
    }
    TANDEM_ASSERT(l->base.table_count <= TANDEM_KV_TABLES_MAX);
    return TANDEM_OK;

fail:
    TANDEM_ASSERT(rc != TANDEM_OK);
    mdb_txn_abort(txn);
    return rc;
}

static void lmdb_close(tandem_kv *kv)
{
    lmdb_kv *l = lmdb_of(kv);
    TANDEM_ASSERT(l->env != NULL);
    TANDEM_ASSERT(atomic_load(&kv->txns_open) == 0); /* LMDB: no transaction may outlive the env */
    mdb_env_close(l->env);
    free(l);
}

static int lmdb_begin(tandem_kv *kv, bool write, tandem_kv_txn **out, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(kv);
    TANDEM_ASSERT(out != NULL && l->env != NULL);
    TANDEM_ASSERT(!write || atomic_load(&kv->writer_open));
    lmdb_txn *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a transaction",
                               kv->path);
    }
    int mrc = mdb_txn_begin(l->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (mrc != MDB_SUCCESS) {
        free(t);
        return lmdb_error(l, mrc, "mdb_txn_begin", diag);
    }
    int rc = read_applied(l, t->txn, &t->base.applied_position, diag);
    if (rc != TANDEM_OK) {
        mdb_txn_abort(t->txn);
        free(t);
        return rc;
    }
    *out = &t->base;
    return TANDEM_OK;
}

static void lmdb_abort(tandem_kv_txn *txn)
{
    lmdb_txn *t = txn_of(txn);
    TANDEM_ASSERT(t->txn != NULL);
    TANDEM_ASSERT(txn->cursors_open == 0); /* read cursors must be closed before their txn */
    mdb_txn_abort(t->txn);
    free(t);
}

static int lmdb_commit(tandem_kv_txn *txn, uint64_t applied_position, tandem_diag *diag)
{
    lmdb_txn *t = txn_of(txn);
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(t->txn != NULL && txn->write);
    TANDEM_ASSERT(txn->error == TANDEM_OK && txn->cursors_open == 0);
    uint8_t pos[8];
    tandem_store_u64(pos, applied_position);
    MDB_val k = mval(LMDB_KEY_APPLIED, strlen(LMDB_KEY_APPLIED));
    MDB_val v = mval(pos, sizeof(pos));
    int mrc = mdb_put(t->txn, l->meta, &k, &v, 0);
    if (mrc != MDB_SUCCESS) {
        mdb_txn_abort(t->txn);
        free(t);
        return lmdb_error(l, mrc, "mdb_put " LMDB_KEY_APPLIED, diag);
    }
    mrc = mdb_txn_commit(t->txn); /* frees the LMDB transaction, even on failure */
    free(t);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_txn_commit", diag);
}

static int lmdb_get(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                    tandem_kv_val *val_out, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(table < l->base.table_count && val_out != NULL);
    MDB_val k = mval(key, key_len);
    MDB_val v;
    int mrc = mdb_get(txn_of(txn)->txn, l->dbis[table], &k, &v);
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_get", diag);
    }
    TANDEM_ASSERT(v.mv_data != NULL || v.mv_size == 0);
    val_out->data = v.mv_data;
    val_out->len = v.mv_size;
    return TANDEM_OK;
}

static int lmdb_put(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                    const void *val, size_t val_len, bool append, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(txn->write && table < l->base.table_count);
    TANDEM_ASSERT(key_len >= 1 && key_len <= TANDEM_KV_KEY_MAX_BYTES);
    MDB_val k = mval(key, key_len);
    MDB_val v = mval(val, val_len);
    int mrc = mdb_put(txn_of(txn)->txn, l->dbis[table], &k, &v, append ? MDB_APPEND : 0);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_put", diag);
}

static int lmdb_del(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                    tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(txn->write && table < l->base.table_count);
    TANDEM_ASSERT(key_len >= 1 && key_len <= TANDEM_KV_KEY_MAX_BYTES);
    MDB_val k = mval(key, key_len);
    int mrc = mdb_del(txn_of(txn)->txn, l->dbis[table], &k, NULL);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_del", diag);
}

static int lmdb_clear(tandem_kv_txn *txn, uint32_t table, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(txn->write && table < l->base.table_count);
    TANDEM_ASSERT(txn->error == TANDEM_OK);
    int mrc = mdb_drop(txn_of(txn)->txn, l->dbis[table], 0);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_drop", diag);
}

static int lmdb_count(tandem_kv_txn *txn, uint32_t table, uint64_t *count_out, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(table < l->base.table_count && count_out != NULL);
    MDB_stat st;
    int mrc = mdb_stat(txn_of(txn)->txn, l->dbis[table], &st);
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(l, mrc, "mdb_stat", diag);
    }
    *count_out = st.ms_entries;
    TANDEM_ASSERT(st.ms_psize > 0);
    return TANDEM_OK;
}

static int lmdb_cursor_open(tandem_kv_txn *txn, uint32_t table, tandem_kv_cursor **out,
                            tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(txn->kv);
    TANDEM_ASSERT(table < l->base.table_count && out != NULL);
    lmdb_cursor *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a cursor",
                               txn->kv->path);
    }
    int mrc = mdb_cursor_open(txn_of(txn)->txn, l->dbis[table], &c->cur);
    if (mrc != MDB_SUCCESS) {
        free(c);
        return lmdb_error(l, mrc, "mdb_cursor_open", diag);
    }
    TANDEM_ASSERT(c->cur != NULL);
    *out = &c->base;
    return TANDEM_OK;
}

static void lmdb_cursor_close(tandem_kv_cursor *c)
{
    lmdb_cursor *lc = cursor_of(c);
    TANDEM_ASSERT(lc->cur != NULL);
    mdb_cursor_close(lc->cur);
    free(lc);
}

static int cursor_result(tandem_kv_cursor *c, int mrc, const MDB_val *mk, const MDB_val *mv,
                         tandem_kv_val *k, tandem_kv_val *v, tandem_diag *diag)
{
    TANDEM_ASSERT(c != NULL && mk != NULL && mv != NULL);
    TANDEM_ASSERT(k != NULL && v != NULL);
    if (mrc != MDB_SUCCESS) {
        return lmdb_error(lmdb_of(c->txn->kv), mrc, "mdb_cursor_get", diag);
    }
    k->data = mk->mv_data;
    k->len = mk->mv_size;
    v->data = mv->mv_data;
    v->len = mv->mv_size;
    return TANDEM_OK;
}

static int lmdb_cursor_seek(tandem_kv_cursor *c, const void *key, size_t key_len, tandem_kv_val *k,
                            tandem_kv_val *v, tandem_diag *diag)
{
    lmdb_cursor *lc = cursor_of(c);
    TANDEM_ASSERT(lc->cur != NULL);
    TANDEM_ASSERT(key_len <= TANDEM_KV_KEY_MAX_BYTES);
    MDB_val mk = mval(key, key_len);
    MDB_val mv;
    int mrc = mdb_cursor_get(lc->cur, &mk, &mv, key_len == 0 ? MDB_FIRST : MDB_SET_RANGE);
    return cursor_result(c, mrc, &mk, &mv, k, v, diag);
}

static int lmdb_cursor_next(tandem_kv_cursor *c, tandem_kv_val *k, tandem_kv_val *v,
                            tandem_diag *diag)
{
    lmdb_cursor *lc = cursor_of(c);
    TANDEM_ASSERT(lc->cur != NULL);
    TANDEM_ASSERT(c->last_key_len > 0); /* positioned by a seek or next */
    MDB_val mk;
    MDB_val mv;
    int mrc = mdb_cursor_get(lc->cur, &mk, &mv, MDB_NEXT);
    return cursor_result(c, mrc, &mk, &mv, k, v, diag);
}

static int lmdb_sync(tandem_kv *kv, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(kv);
    TANDEM_ASSERT(l->env != NULL);
    TANDEM_ASSERT(!atomic_load(&kv->stopped));
    int mrc = mdb_env_sync(l->env, 1);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_env_sync", diag);
}

static int lmdb_set_map_size(tandem_kv *kv, uint64_t map_size_bytes, tandem_diag *diag)
{
    lmdb_kv *l = lmdb_of(kv);
    TANDEM_ASSERT(map_size_bytes > 0 && (uint64_t)(size_t)map_size_bytes == map_size_bytes);
    TANDEM_ASSERT(atomic_load(&kv->txns_open) == 0); /* LMDB's rule for resizing */
    int mrc = mdb_env_set_mapsize(l->env, (size_t)map_size_bytes);
    return mrc == MDB_SUCCESS ? TANDEM_OK : lmdb_error(l, mrc, "mdb_env_set_mapsize", diag);
}

static const kv_backend lmdb_backend = {
    .name = "lmdb",
    .close = lmdb_close,
    .begin = lmdb_begin,
    .commit = lmdb_commit,
    .abort = lmdb_abort,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .clear = lmdb_clear,
    .count = lmdb_count,
    .cursor_open = lmdb_cursor_open,
    .cursor_close = lmdb_cursor_close,
    .cursor_seek = lmdb_cursor_seek,
    .cursor_next = lmdb_cursor_next,
    .sync = lmdb_sync,
    .set_map_size = lmdb_set_map_size,
};

int tandem_kv_open_lmdb(const char *dir, const tandem_kv_options *opts, tandem_kv **out,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(dir != NULL && out != NULL);
    lmdb_kv *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for the store", dir);
    }
    int rc = kv_init_common(&l->base, &lmdb_backend, dir, opts, diag);
    if (rc != TANDEM_OK) {
        goto fail_free;
    }
    if ((uint64_t)(size_t)l->base.map_size_bytes != l->base.map_size_bytes) {
        rc = tandem_diag_set(diag, TANDEM_EINVAL,
                             "state %s: map size %llu exceeds the address space", dir,
                             (unsigned long long)l->base.map_size_bytes);
        goto fail_free;
    }
    int mrc = mdb_env_create(&l->env);
    if (mrc != MDB_SUCCESS) {
        rc = lmdb_error(l, mrc, "mdb_env_create", diag);
        goto fail_free;
    }
    mrc = mdb_env_set_mapsize(l->env, (size_t)l->base.map_size_bytes);
    const char *call = "mdb_env_set_mapsize";
    if (mrc == MDB_SUCCESS) {
        mrc = mdb_env_set_maxdbs(l->env, (MDB_dbi)l->base.table_count + 1);
        call = "mdb_env_set_maxdbs";
    }
    if (mrc == MDB_SUCCESS) {
        mrc = mdb_env_set_maxreaders(l->env, LMDB_READERS_MAX);
        call = "mdb_env_set_maxreaders";
    }
    if (mrc == MDB_SUCCESS) {
        mrc = mdb_env_open(l->env, dir, MDB_NOMETASYNC | MDB_NOTLS, 0644);
        call = "mdb_env_open";
    }
    if (mrc != MDB_SUCCESS) {
        rc = lmdb_error(l, mrc, call, diag);
        goto fail_env;
    }
    rc = sync_directory(l, diag);
    if (rc != TANDEM_OK) {
        goto fail_env;
    }
    uint64_t applied = 0;
    rc = open_tables(l, &applied, diag);
    if (rc != TANDEM_OK) {
        goto fail_env;
    }
    atomic_store(&l->base.applied_position, applied);
    *out = &l->base;
    return TANDEM_OK;

fail_env:
    mdb_env_close(l->env);
fail_free:
    TANDEM_ASSERT(rc != TANDEM_OK);
    free(l);
    return rc;
}
