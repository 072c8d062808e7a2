/*
 * record.h — one record of a partition log: the envelope (position, key,
 * timestamp, type, intent, ...) around a value.
 *
 * Records travel in batches (batch.h): the leader appends a command and the
 * events it caused as one batch, which is the payload of one journal entry.
 * This header holds the record as C code sees it and the codec of a single
 * record, which batch.c and anything that ships lone records (commands sent to
 * another partition) use.
 *
 * The envelope is encoded with the same tagged fields as values (field.h), so
 * a newer broker can add envelope fields that an older one skips; an older
 * broker keeps them verbatim in `ext` and writes them back when it re-encodes
 * the record. The value is an opaque field sequence here: its meaning belongs
 * to the engine's value codecs, keyed by value type.
 *
 * Ownership: a decoded record is a set of views. `rejection_reason`, `value`
 * and `ext` point into the bytes that were decoded and are valid as long as
 * those bytes; the record itself owns nothing and needs no freeing. A record
 * to be encoded likewise only points at memory the caller owns.
 */
#ifndef TANDEM_PROTOCOL_RECORD_H
#define TANDEM_PROTOCOL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "protocol/key.h"
#include "protocol/types.h"

/* "None" of the signed optional fields (source position, request ids,
 * operation references), as in Zeebe. */
#define TANDEM_NONE (-1)

/* Version of the broker that wrote a record; 0.0.0 when not recorded. */
typedef struct tandem_broker_version {
    uint16_t major;
    uint16_t minor;
    uint16_t patch;
} tandem_broker_version;

typedef struct tandem_record {
    uint64_t position;       /* log position; assigned by the batch, not encoded per record */
    int64_t source_position; /* position of the command that caused it, TANDEM_NONE if none */
    uint64_t key;            /* entity key (key.h), TANDEM_KEY_NONE if none */
    uint64_t timestamp_ms;   /* ms since the Unix epoch, UTC */
    uint16_t partition_id;   /* TANDEM_PARTITION_ID_MIN..TANDEM_PARTITION_ID_MAX */
    uint8_t record_type;     /* enum tandem_record_type */
    uint8_t value_type;      /* enum tandem_value_type, or a number this build does not know */
    uint16_t intent;         /* enum tandem_intent of the value type */
    uint8_t
        rejection_type; /* enum tandem_rejection_type; TANDEM_REJECTION_NONE unless a rejection */
    const char *rejection_reason; /* view, not NUL-terminated; rejections only */
    size_t rejection_reason_len;
    tandem_broker_version broker_version;
    uint16_t record_version;     /* version of the value's schema, 1 by default */
    int32_t request_stream_id;   /* gateway stream that waits for the answer, TANDEM_NONE if none */
    int64_t request_id;          /* request within that stream, TANDEM_NONE if none */
    int64_t operation_reference; /* client-chosen reference, TANDEM_NONE if none */
    int64_t batch_operation_reference; /* batch operation key, TANDEM_NONE if none */
    const uint8_t *value;              /* view: the value's field sequence (field.h) */
    size_t value_len;
    const uint8_t *ext; /* view: envelope fields this build does not know, verbatim */
    size_t ext_len;
} tandem_record;

/* Sets every field to its default: positions, key and request ids "none",
 * rejection type NONE, record version 1, empty value, no ext. The caller then
 * fills in at least partition_id, record_type, value_type, intent, timestamp. */
void tandem_record_init(tandem_record *rec);

/*
 * Appends the encoded envelope and value of `rec` to `out` (position not
 * included). TANDEM_EINVAL with a message in diag when the record breaks a
 * rule of the format (partition id out of range, record type unknown, a
 * rejection without a rejection type or rejection fields on a non-rejection, a
 * value that is not a well formed field sequence, ext with tags this build
 * knows); TANDEM_ENOMEM. On error `out` may hold a partial record past its
 * previous length; callers that keep the buffer truncate it.
 */
int tandem_record_encode(tandem_buf *out, const tandem_record *rec, tandem_diag *diag);

/*
 * Decodes one record from data[0..len) into *rec (position set to 0; the batch
 * sets it). The views in *rec point into data. TANDEM_ECORRUPT with a message
 * for malformed bytes, a missing required field, a field of the wrong wire
 * type, or a value out of its range. Never asserts on the input.
 */
int tandem_record_decode(const void *data, size_t len, tandem_record *rec, tandem_diag *diag);

/* True when both records hold the same values (views compared by content). */
bool tandem_record_equal(const tandem_record *a, const tandem_record *b);

#endif
