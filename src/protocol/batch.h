/*
 * batch.h — a batch of records: the payload of one journal data entry.
 *
 * The leader writes a command and every record it caused as one batch, so a
 * batch is the unit that is replicated, committed and applied. A batch is a
 * fixed 24-byte header followed by the records, each prefixed by its length:
 *
 *   header: magic "TR", format version, flags, record count, first position,
 *           body size, CRC-32C        (byte layout in docs/RECORD_FORMAT.md)
 *   body:   record_count x (varint(record_len) record)
 *
 * Record i of a batch has position first_position + i: positions are
 * consecutive within a batch and stored once. The batch carries its own
 * checksum so it can be verified wherever it is decoded, whichever container
 * (journal entry, snapshot, network frame) brought it.
 *
 * A reader refuses, with TANDEM_EFORMAT and a message, a batch whose format
 * version or flags it does not know; it never asserts on payload bytes. A
 * batch shorter than its header says gives TANDEM_EINCOMPLETE; anything else
 * wrong gives TANDEM_ECORRUPT.
 */
#ifndef TANDEM_PROTOCOL_BATCH_H
#define TANDEM_PROTOCOL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "protocol/record.h"

/* The format this build writes and the only one it reads. Bump it when a
 * reader of the current version could misread the new bytes (rules in
 * docs/RECORD_FORMAT.md). */
#define TANDEM_BATCH_FORMAT_VERSION 1
#define TANDEM_BATCH_HEADER_SIZE    24
/* Zeebe's default maximum message size: a batch fits in one replication message. */
#define TANDEM_BATCH_SIZE_BYTES_MAX (4u * 1024 * 1024)
#define TANDEM_BATCH_RECORDS_MAX    65535u
/* The highest position a record may have, so that it fits a signed source position. */
#define TANDEM_POSITION_MAX ((uint64_t)INT64_MAX)

/* ---- Writing ------------------------------------------------------------ */

/*
 * Builds one batch at the end of a tandem_buf the caller owns:
 *
 *   tandem_batch_writer_begin(&bw, &out, next_position, 0);
 *   rc = tandem_batch_writer_add(&bw, &command, diag);   ... more records
 *   rc = tandem_batch_writer_finish(&bw, diag);
 *
 * Every add is all or nothing: on error the buffer is as before the call, so a
 * caller that gets TANDEM_ETOOBIG can finish this batch and put the record in
 * the next one. Abandoning a writer needs no cleanup; the caller truncates or
 * frees its buffer.
 */
typedef struct tandem_batch_writer {
    tandem_buf *out;         /* private: not owned */
    size_t start;            /* private: offset of the header in out */
    uint64_t first_position; /* read-only */
    uint32_t count;          /* read-only: records added */
    size_t size_bytes_max;   /* read-only: limit of the whole batch, header included */
} tandem_batch_writer;

/* Reserves the header. size_bytes_max 0 means TANDEM_BATCH_SIZE_BYTES_MAX, and
 * may not exceed it (asserted). TANDEM_EINVAL when first_position is above
 * TANDEM_POSITION_MAX; TANDEM_ENOMEM. */
int tandem_batch_writer_begin(tandem_batch_writer *bw, tandem_buf *out, uint64_t first_position,
                              size_t size_bytes_max);

/* Appends a record, which must have position first_position + count
 * (TANDEM_EINVAL otherwise, or when tandem_record_encode refuses it).
 * TANDEM_ETOOBIG when the batch would exceed size_bytes_max or
 * TANDEM_BATCH_RECORDS_MAX records; TANDEM_ENOMEM. The record's views are
 * copied; they need not outlive the call. */
int tandem_batch_writer_add(tandem_batch_writer *bw, const tandem_record *rec, tandem_diag *diag);

/* Completes the header (count, body size, checksum). TANDEM_EINVAL for a batch
 * without records. The batch is out->data[start..out->len), start being
 * out->len at begin. */
int tandem_batch_writer_finish(tandem_batch_writer *bw, tandem_diag *diag);

/* The writer in one call: appends a batch of `count` records whose positions
 * are records[0].position, +1, +2, ... Same errors as above. */
int tandem_batch_encode(tandem_buf *out, const tandem_record *records, size_t count,
                        tandem_diag *diag);

/* ---- Reading ------------------------------------------------------------ */

/*
 * Opening a batch checks all of it (header, checksum, every record and value),
 * so a caller never applies the first half of a damaged batch; after a
 * successful open, tandem_batch_next cannot fail. The reader and the records
 * it yields are views into the payload, valid as long as the payload buffer,
 * which must not change while they are used.
 */
typedef struct tandem_batch_reader {
    const uint8_t *data;     /* private: not owned */
    size_t len;              /* private */
    size_t off;              /* private: next record */
    uint8_t format_version;  /* read-only */
    uint32_t count;          /* read-only: records in the batch */
    uint32_t index;          /* read-only: records returned so far */
    uint64_t first_position; /* read-only */
} tandem_batch_reader;

/* 0, or TANDEM_EINCOMPLETE / TANDEM_EFORMAT / TANDEM_ECORRUPT with a message
 * naming what is wrong (and the record index where it applies). */
int tandem_batch_open(tandem_batch_reader *br, const void *payload, size_t len, tandem_diag *diag);

/* The next record into *rec: true, or false after the last one. */
bool tandem_batch_next(tandem_batch_reader *br, tandem_record *rec);

#endif
