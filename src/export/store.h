/*
 * store.h — the secondary store: what the engine did, as SQL rows that the
 * read side (REST v2 searches, the web apps) can query.
 *
 * The engine's own state (state/kv.h) answers the questions the engine needs
 * while processing; it keeps nothing once an instance ends and cannot be
 * filtered or sorted. The secondary store is fed the committed records of
 * every partition by an exporter (DESIGN §5) and keeps one row per process
 * definition, process instance, element instance, variable, job and incident,
 * in a SQLite file. docs/STORE_FORMAT.md documents the tables, which record
 * sets which column, and the migration policy.
 *
 * Exactness. One call of tandem_store_export writes a batch of records and
 * the exporter's position (row (exporter_id, partition_id) of
 * exporter_position) in ONE SQLite transaction with synchronous=FULL, so after
 * a crash the stored position says exactly which records the rows reflect.
 * Every row carries the position of the last record that changed it and a
 * record changes a row only when its position is greater (the position
 * guard); records at or below the stored exporter position are skipped. So
 * re-exporting any range after a failover changes nothing: no duplicate, no
 * regression.
 *
 * Records that are not rows: commands, rejections, and value types or intents
 * the mapping does not know are skipped (counted in tandem_store_stats), never
 * an error, so a newer broker's records never stop exporting.
 *
 * Threads: a tandem_store is used by one thread at a time (the exporter's
 * thread, or a search request's). Several handles may open the same file:
 * SQLite's WAL mode lets readers run beside the one writer.
 *
 * Ownership: tandem_store_open returns a handle the caller frees with
 * tandem_store_close. Records passed to export are read only during the call.
 * tandem_store_db returns a borrowed connection valid until close. Every
 * function taking a `tandem_diag *` accepts NULL; on failure the diag names
 * the file and the SQLite call or the table and column at fault.
 */
#ifndef TANDEM_EXPORT_STORE_H
#define TANDEM_EXPORT_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "protocol/record.h"

/* The schema version this build writes; stores with a newer one are refused. */
#define TANDEM_STORE_SCHEMA_VERSION 1

/* Longest exporter id, in bytes (ids are configuration names). */
#define TANDEM_STORE_EXPORTER_ID_MAX_BYTES 128

/* Records per export call; the exporter batches below this. */
#define TANDEM_STORE_EXPORT_RECORDS_MAX 65536

typedef struct tandem_store tandem_store;

/* Counters since open, a snapshot from tandem_store_get_stats. */
typedef struct tandem_store_stats {
    uint64_t records_applied;     /* records that changed or created at least one row */
    uint64_t records_skipped_old; /* at or below the exporter position, skipped whole */
    uint64_t records_not_mapped;  /* commands, rejections, types/intents without rows */
    uint64_t records_undecodable; /* values that failed to decode or lack the row key */
    uint64_t transactions;        /* committed export transactions */
} tandem_store_stats;

/*
 * Opens the store at path. Writable: creates the file when missing, sets WAL,
 * synchronous=FULL and foreign keys off, and applies the migrations the file
 * lacks, each in one write transaction that reads the schema version first,
 * so several writers may open a new file at once: one migrates, the others
 * wait for its lock and find the version current. Read-only (the search side): the file must
 * exist and be at the current schema version; writes through it fail.
 * TANDEM_EFORMAT when the file's schema version is newer than this build's
 * (diag names both), TANDEM_ECORRUPT when the file is not a SQLite database
 * or is damaged, TANDEM_ENOENT (read-only, no file), TANDEM_EACCES,
 * TANDEM_EIO. On success *out is a handle to free with tandem_store_close.
 */
int tandem_store_open(const char *path, bool read_only, tandem_store **out, tandem_diag *diag);

/* Finalizes the cached statements and closes the connection. NULL is a no-op.
 * Finalize every statement prepared on tandem_store_db before: one left open
 * is logged and keeps the connection's memory until it is finalized. */
void tandem_store_close(tandem_store *s);

/*
 * Exports `count` records of partition `partition_id` (committed, in position
 * order, strictly increasing) in one transaction: rows created or updated
 * under the position guard, and the exporter position set to the last
 * record's position when it is greater than the stored one. Records at or
 * below the stored position are skipped. count 0 is a no-op.
 * TANDEM_EINVAL (read-only store, positions not increasing, record of another
 * partition, exporter id empty or too long, count above the limit),
 * TANDEM_EIO / TANDEM_ENOSPC / TANDEM_EACCES from SQLite; on error nothing of
 * the batch is written (the transaction is rolled back) and the call may be
 * retried.
 */
int tandem_store_export(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                        const tandem_record *const *records, size_t count, tandem_diag *diag);

/* The stored position of (exporter_id, partition_id) into *out; 0 when none. */
int tandem_store_position(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                          uint64_t *out, tandem_diag *diag);

/* Sets the position of (exporter_id, partition_id), e.g. when an exporter is
 * enabled with initializeFrom another's position. Writable stores only. */
int tandem_store_set_position(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                              uint64_t position, tandem_diag *diag);

/* Counters since open. */
tandem_store_stats tandem_store_get_stats(const tandem_store *s);

/*
 * Compares the data tables of two store files row by row, in primary-key
 * order (exporter_position excluded: two stores fed by different exporters
 * hold the same data under different positions). Returns 0 when equal,
 * TANDEM_EMISMATCH when they differ, with the first
 * difference (table, key, column, both values) in diag and, when report is
 * not NULL, written to it; TANDEM_EFORMAT / TANDEM_ECORRUPT / TANDEM_ENOENT
 * when a file cannot be opened as a store. Opens both read-only.
 */
int tandem_store_compare(const char *path_a, const char *path_b, FILE *report, tandem_diag *diag);

/*
 * Writes every data row of the store at path to out as JSON lines
 * ({"table":"job","job_key":...}), tables in schema order, rows in primary-key
 * order, so two equal stores dump to the same bytes.
 */
int tandem_store_dump(const char *path, FILE *out, tandem_diag *diag);

/* The connection, borrowed for the search side; valid until close. The
 * borrower finalizes the statements it prepares on it before
 * tandem_store_close (see there). */
sqlite3 *tandem_store_db(tandem_store *s);

#endif
