/*
 * kv.h — the state store: an ordered key-value store with named tables,
 * transactions, and the applied position stored with the data.
 *
 * The engine's committed state (DESIGN §2, §4) lives here. One apply path
 * writes it: committed events are applied in log order inside one write
 * transaction, and `tandem_kv_commit(txn, applied_position)` records, in that
 * same transaction, the log position the state now reflects. After a restart
 * `tandem_kv_applied_position()` says where to resume applying the log.
 *
 * Two backends sit behind one interface and pass one test suite:
 * - LMDB (`tandem_kv_open_lmdb`), the real one: one environment per
 *   partition replica, in the replica's `state/` directory.
 * - in memory (`tandem_kv_open_mem`), for tests and the simulator: a
 *   copy-on-write tree, so read transactions see a stable version exactly as
 *   they do with LMDB. Nothing survives close.
 *
 * Keys are byte strings of 1..TANDEM_KV_KEY_MAX_BYTES bytes, ordered by
 * memcmp with a shorter key first when one is a prefix of the other (LMDB's
 * default order; the in-memory backend uses the same). Values are
 * 0..TANDEM_KV_VALUE_MAX_BYTES bytes.
 *
 * Transactions. Any number of read transactions, and at most one write
 * transaction at a time (a second `tandem_kv_begin_write` fails with
 * TANDEM_ESTATE; it never blocks). A read transaction sees the state as of
 * its begin, unaffected by later commits. Callers group many applied batches
 * into one write transaction and commit once: nothing here syncs per put.
 * Every transaction ends with exactly one `tandem_kv_commit` or
 * `tandem_kv_abort`, which free it whatever they return. Read transactions
 * end with `tandem_kv_abort` (there is nothing to commit).
 *
 * Sticky errors (LMDB style): once any operation on a transaction fails with
 * an error other than TANDEM_ENOENT ("no such key", "end of iteration"), the
 * transaction is failed: every later operation on it returns that same code,
 * and `tandem_kv_commit` returns it and discards the changes. Only abort is
 * useful then.
 *
 * A failed fsync is final (DESIGN §2): when a commit or `tandem_kv_sync`
 * fails with TANDEM_EIO the handle is stopped and every later begin returns
 * TANDEM_ESTOPPED; the broker must restart and replay the log.
 *
 * Threads and ownership:
 * - LMDB backend: read transactions may be begun, used and ended on any
 *   thread, concurrently with each other and with the write transaction; one
 *   transaction (and its cursors) is used by one thread at a time. Open,
 *   close and `tandem_kv_set_map_size` are not concurrent with anything else
 *   on the handle. `tandem_kv_applied_position` may be
 *   called from any thread. A state directory must be open at most once per
 *   process (an LMDB rule).
 * - In-memory backend: not thread-safe; one thread drives the handle.
 * - Views (`tandem_kv_val`) returned by get and cursors point into the store:
 *   in a read transaction they stay valid until it ends; in a write
 *   transaction until its next put/delete/clear or its end. Copy what you
 *   keep longer.
 * - Every cursor is closed before its transaction ends (asserted).
 * - Every function taking a `tandem_diag *` accepts NULL; on failure it holds
 *   a message naming the call and the path (for LMDB, the mdb_* call).
 */
#ifndef TANDEM_STATE_KV_H
#define TANDEM_STATE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/fileops.h"

/* Limits. Tables are a fixed small set named at open (LMDB named
 * databases); names are 1..TANDEM_KV_TABLE_NAME_MAX_BYTES of [a-z0-9_]. */
#define TANDEM_KV_TABLES_MAX           32
#define TANDEM_KV_TABLE_NAME_MAX_BYTES 32
/* LMDB's default maximum key size (mdb_env_get_maxkeysize). */
#define TANDEM_KV_KEY_MAX_BYTES   511
#define TANDEM_KV_VALUE_MAX_BYTES (16u * 1024u * 1024u)
/* Read transactions open at once; one more gives TANDEM_EFULL. */
#define TANDEM_KV_READERS_MAX 126
/* Default map size: the most the state may grow to before writes fail with
 * TANDEM_ENOSPC. It is address space, not memory or disk. */
#define TANDEM_KV_MAP_SIZE_DEFAULT_BYTES                                                           \
    (sizeof(size_t) >= 8 ? (uint64_t)1 << 30 : (uint64_t)256 << 20)

typedef struct tandem_kv tandem_kv;
typedef struct tandem_kv_txn tandem_kv_txn;
typedef struct tandem_kv_cursor tandem_kv_cursor;

/* A view of bytes owned by the store (lifetime: see above). */
typedef struct tandem_kv_val {
    const void *data;
    size_t len;
} tandem_kv_val;

typedef struct tandem_kv_options {
    /* table_count names; a table is then named by its index in this array.
     * The array is copied; it need not outlive the open call. */
    const char *const *table_names;
    uint32_t table_count; /* 1..TANDEM_KV_TABLES_MAX */
    /* Upper bound of the state's size; 0 gives the default. The store does
     * not grow it by itself: when it is reached, writes fail with
     * TANDEM_ENOSPC and the operator raises it (tandem_kv_set_map_size). */
    uint64_t map_size_bytes;
} tandem_kv_options;

/* Opens (creating if empty) the LMDB environment in the existing directory
 * `dir` (files data.mdb and lock.mdb in it). A newer state format gives
 * TANDEM_EFORMAT, a damaged file TANDEM_ECORRUPT, a missing directory
 * TANDEM_ENOENT, each with a message naming the path. *out is set only on
 * success; the caller closes it with tandem_kv_close. */
int tandem_kv_open_lmdb(const char *dir, const tandem_kv_options *opts, tandem_kv **out,
                        tandem_diag *diag);

/* Opens an empty in-memory store (applied position 0). */
int tandem_kv_open_mem(const tandem_kv_options *opts, tandem_kv **out, tandem_diag *diag);

/* Closes the store. No transaction may be open (asserted). NULL is a no-op. */
void tandem_kv_close(tandem_kv *kv);

/* "lmdb" or "memory"; static string. */
const char *tandem_kv_backend_name(const tandem_kv *kv);

/* Number of tables and the name of table `table`, valid until close. */
uint32_t tandem_kv_table_count(const tandem_kv *kv);
const char *tandem_kv_table_name(const tandem_kv *kv, uint32_t table);

/* The applied position of the last successful commit (0 for a new store).
 * With LMDB it is durable after the next commit or tandem_kv_sync (see
 * docs on MDB_NOMETASYNC): after a power loss the store may come back one
 * commit behind, never inconsistent. */
uint64_t tandem_kv_applied_position(const tandem_kv *kv);

/* Makes every committed transaction durable (LMDB: flushes the meta page
 * that MDB_NOMETASYNC leaves unsynced). Call it before trusting the applied
 * position to delete log segments. No-op in memory. */
int tandem_kv_sync(tandem_kv *kv, tandem_diag *diag);

/* Changes the map size. No transaction may be open: TANDEM_ESTATE. */
int tandem_kv_set_map_size(tandem_kv *kv, uint64_t map_size_bytes, tandem_diag *diag);

/* --- transactions --- */

int tandem_kv_begin_read(tandem_kv *kv, tandem_kv_txn **out, tandem_diag *diag);
int tandem_kv_begin_write(tandem_kv *kv, tandem_kv_txn **out, tandem_diag *diag);

/* The applied position this transaction started from. */
uint64_t tandem_kv_txn_applied_position(const tandem_kv_txn *txn);
bool tandem_kv_txn_is_write(const tandem_kv_txn *txn);

/* Commits a write transaction and records `applied_position` with it; the
 * position may not go back (TANDEM_ERANGE). Frees the transaction whatever
 * the result; on failure nothing of it is kept. */
int tandem_kv_commit(tandem_kv_txn *txn, uint64_t applied_position, tandem_diag *diag);

/* Ends a read transaction, or discards a write transaction. NULL is a no-op. */
void tandem_kv_abort(tandem_kv_txn *txn);

/* --- data --- */

/* TANDEM_ENOENT when absent (not sticky). */
int tandem_kv_get(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  tandem_kv_val *val_out, tandem_diag *diag);
/* Inserts or overwrites. Write transactions only. */
int tandem_kv_put(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  const void *val, size_t val_len, tandem_diag *diag);
/* TANDEM_ENOENT when absent (not sticky). Write transactions only. */
int tandem_kv_del(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                  tandem_diag *diag);
/* Removes every entry of a table. Write transactions only. */
int tandem_kv_clear(tandem_kv_txn *txn, uint32_t table, tandem_diag *diag);
/* Number of entries in a table as this transaction sees it. */
int tandem_kv_count(tandem_kv_txn *txn, uint32_t table, uint64_t *count_out, tandem_diag *diag);

/* --- ordered iteration ---
 *
 *   tandem_kv_cursor *c;
 *   tandem_kv_cursor_open(txn, table, &c, diag);
 *   tandem_kv_cursor_seek_prefix(c, "job/", 4, diag);
 *   while ((rc = tandem_kv_cursor_next(c, &k, &v, diag)) == TANDEM_OK) { ... }
 *   // rc == TANDEM_ENOENT: done
 *   tandem_kv_cursor_close(c);
 *
 * A fresh cursor iterates the whole table. A cursor sees the transaction's
 * own writes; writing to the table being iterated continues after the last
 * key returned. */
int tandem_kv_cursor_open(tandem_kv_txn *txn, uint32_t table, tandem_kv_cursor **out,
                          tandem_diag *diag);
/* Restarts the iteration at the first key >= key (key_len 0: the first key)
 * and runs to the end of the table. */
int tandem_kv_cursor_seek(tandem_kv_cursor *c, const void *key, size_t key_len, tandem_diag *diag);
/* Restarts the iteration at the first key that starts with prefix and stops
 * before the first key that does not (prefix_len 1..TANDEM_KV_KEY_MAX_BYTES). */
int tandem_kv_cursor_seek_prefix(tandem_kv_cursor *c, const void *prefix, size_t prefix_len,
                                 tandem_diag *diag);
/* The next entry, or TANDEM_ENOENT at the end. Views: see above; at the
 * latest they end with the next call on this cursor. */
int tandem_kv_cursor_next(tandem_kv_cursor *c, tandem_kv_val *key_out, tandem_kv_val *val_out,
                          tandem_diag *diag);
void tandem_kv_cursor_close(tandem_kv_cursor *c);

/* --- digest ---
 *
 * A 128-bit digest of everything a transaction sees: every table in name
 * order (names, keys, values, entry counts) and the applied position. The
 * same content gives the same digest on both backends, so tests compare
 * replicas and backends with it. It is not cryptographic: it finds
 * divergence, it does not resist forgery. Format: docs/STATE_FORMAT.md. */
int tandem_kv_txn_digest(tandem_kv_txn *txn, uint64_t out[2], tandem_diag *diag);
/* The digest of the last committed state (in a read transaction). */
int tandem_kv_digest(tandem_kv *kv, uint64_t out[2], tandem_diag *diag);

/* --- snapshots ---
 *
 * A snapshot is one file holding a consistent copy of the whole state as of
 * one committed applied position, in a backend-neutral format (either
 * backend reads what either wrote) with a CRC32C over the whole file. It is
 * written through `ops`, under `dest_path.tmp`, synced, renamed over
 * dest_path, and the directory synced. It is taken in a read transaction, so
 * writers keep committing while it is written. *applied_position_out (may be
 * NULL) receives the position it reflects. The parent directory must exist. */
int tandem_kv_snapshot(tandem_kv *kv, tandem_fileops *ops, const char *dest_path,
                       uint64_t *applied_position_out, tandem_diag *diag);

/* Checks a snapshot file without loading it: TANDEM_ECORRUPT naming the file
 * when its checksum or structure is wrong, TANDEM_EFORMAT for a newer format. */
int tandem_kv_snapshot_verify(tandem_fileops *ops, const char *path, uint64_t *applied_position_out,
                              tandem_diag *diag);

/* Replaces the whole state by a snapshot: verifies it first (refusing a
 * damaged one with nothing changed), then, in one write transaction, empties
 * every table, loads the snapshot's entries and sets the applied position to
 * the snapshot's (which may be lower than the current one). A table of the
 * snapshot that the store does not have gives TANDEM_EFORMAT. It takes the
 * write transaction (TANDEM_ESTATE while one is open); readers keep the
 * version they began with. */
int tandem_kv_restore(tandem_kv *kv, tandem_fileops *ops, const char *path, tandem_diag *diag);

#endif
