/*
 * kv_int.h — internals shared by the state store's front end (kv.c), its two
 * backends (kv_lmdb.c, kv_mem.c), the digest and the snapshot code.
 *
 * The front end owns everything both backends must agree on: argument
 * checks, sticky transaction errors, the one-writer rule, the applied
 * position's monotonicity, the stopped state after a failed fsync, and the
 * cursor protocol (seek, prefix bound, next). A backend only stores and finds
 * bytes. Backend objects embed the front end's structs as their first member.
 */
#ifndef TANDEM_STATE_KV_INT_H
#define TANDEM_STATE_KV_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "state/kv.h"

#define KV_PATH_MAX_BYTES 4096

/* What a backend implements. Arguments are checked by the front end before
 * a call: tables are in range, keys are 1..TANDEM_KV_KEY_MAX_BYTES (seek:
 * 0..), values within limits, writes only in write transactions, and the
 * transaction is not failed. A backend returns TANDEM_OK, TANDEM_ENOENT for
 * "no such key / end", or an error with diag set. */
typedef struct kv_backend {
    const char *name;
    void (*close)(tandem_kv *kv);
    /* Allocates the transaction (front-end fields zeroed) and sets its
     * applied_position to the committed one it sees. */
    int (*begin)(tandem_kv *kv, bool write, tandem_kv_txn **out, tandem_diag *diag);
    /* Stores applied_position and commits; frees the transaction always. */
    int (*commit)(tandem_kv_txn *txn, uint64_t applied_position, tandem_diag *diag);
    /* Frees the transaction. */
    void (*abort)(tandem_kv_txn *txn);
    int (*get)(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
               tandem_kv_val *val_out, tandem_diag *diag);
    /* `append`: the caller promises the key is larger than every key in the
     * table (a snapshot load), which LMDB turns into MDB_APPEND. */
    int (*put)(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len, const void *val,
               size_t val_len, bool append, tandem_diag *diag);
    int (*del)(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
               tandem_diag *diag);
    int (*clear)(tandem_kv_txn *txn, uint32_t table, tandem_diag *diag);
    int (*count)(tandem_kv_txn *txn, uint32_t table, uint64_t *count_out, tandem_diag *diag);
    /* Allocates the cursor (front-end fields zeroed). */
    int (*cursor_open)(tandem_kv_txn *txn, uint32_t table, tandem_kv_cursor **out,
                       tandem_diag *diag);
    void (*cursor_close)(tandem_kv_cursor *c);
    /* The first entry with key >= key (key_len 0: the first entry). */
    int (*cursor_seek)(tandem_kv_cursor *c, const void *key, size_t key_len, tandem_kv_val *k,
                       tandem_kv_val *v, tandem_diag *diag);
    /* The entry after c->last_key, the one the last seek/next produced; no
     * write happened in between. */
    int (*cursor_next)(tandem_kv_cursor *c, tandem_kv_val *k, tandem_kv_val *v, tandem_diag *diag);
    int (*sync)(tandem_kv *kv, tandem_diag *diag);
    /* Called with no transaction open. */
    int (*set_map_size)(tandem_kv *kv, uint64_t map_size_bytes, tandem_diag *diag);
} kv_backend;

struct tandem_kv {
    const kv_backend *backend;    /* private */
    char path[KV_PATH_MAX_BYTES]; /* the directory, or "memory" */
    uint32_t table_count;
    char table_names[TANDEM_KV_TABLES_MAX][TANDEM_KV_TABLE_NAME_MAX_BYTES + 1];
    uint32_t table_order[TANDEM_KV_TABLES_MAX]; /* indexes sorted by name */
    uint64_t map_size_bytes;
    _Atomic uint64_t applied_position; /* of the last successful commit */
    atomic_bool writer_open;
    atomic_uint txns_open;
    atomic_uint readers_open; /* read transactions among txns_open */
    atomic_bool stopped;      /* a sync failed: nothing may begin */
};

struct tandem_kv_txn {
    tandem_kv *kv;
    bool write;
    int error;                 /* sticky: 0 or the first failure */
    uint64_t applied_position; /* as of begin */
    uint32_t cursors_open;
    uint64_t write_gen; /* counts puts, deletes and clears: cursors re-seek after one */
    /* A snapshot load may set a lower applied position than the current. */
    bool allow_position_back;
};

/* The front end's cursor. `last_key` is a copy of the key the backend last
 * produced (by seek or next): when the transaction wrote since (write_gen
 * moved), the front end re-seeks from it, so both backends continue after
 * the last key whatever the writes did to their internal positions. */
struct tandem_kv_cursor {
    tandem_kv_txn *txn;
    uint32_t table;
    bool started;       /* a seek happened (a fresh cursor seeks the first key) */
    bool pending;       /* the last produced entry came from seek, not yet returned */
    bool exhausted;     /* the end or the prefix bound was reached */
    uint64_t write_gen; /* txn->write_gen when the backend last produced an entry */
    tandem_kv_val pending_key;
    tandem_kv_val pending_val;
    size_t last_key_len;
    uint8_t last_key[TANDEM_KV_KEY_MAX_BYTES];
    size_t prefix_len; /* 0: no bound */
    uint8_t prefix[TANDEM_KV_KEY_MAX_BYTES];
};

/* Fills the front-end part of a new handle: copies and checks the options
 * (TANDEM_EINVAL with a message naming the bad one). */
int kv_init_common(tandem_kv *kv, const kv_backend *backend, const char *path,
                   const tandem_kv_options *opts, tandem_diag *diag);

/* True when the name is 1..TANDEM_KV_TABLE_NAME_MAX_BYTES of [a-z0-9_]. */
bool kv_table_name_valid(const char *name, size_t len);

/* LMDB's key order: memcmp over the common length, then the shorter first. */
int kv_key_compare(const void *a, size_t a_len, const void *b, size_t b_len);

/* tandem_kv_put with the backend's `append` hint, for snapshot loading
 * (kv_snapshot.c), whose keys arrive in order into emptied tables. */
int kv_put_append(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  const void *val, size_t val_len, tandem_diag *diag);

/* --- the digest's hash (kv_digest.c) --- */

typedef struct kv_hasher {
    uint64_t h0;
    uint64_t h1;
    uint64_t total_bytes;
    uint8_t tail[8];
    size_t tail_len;
} kv_hasher;

void kv_hasher_init(kv_hasher *h);
void kv_hasher_update(kv_hasher *h, const void *data, size_t len);
void kv_hasher_u32(kv_hasher *h, uint32_t v);
void kv_hasher_u64(kv_hasher *h, uint64_t v);
void kv_hasher_final(const kv_hasher *h, uint64_t out[2]);

#endif
