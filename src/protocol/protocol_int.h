/*
 * protocol_int.h — internals shared by the files of src/protocol; not for use
 * outside the module.
 */
#ifndef TANDEM_PROTOCOL_INT_H
#define TANDEM_PROTOCOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* A varint is at most 10 bytes (64 bits in 7-bit groups). */
#define PROTOCOL_VARINT_SIZE_MAX 10

/*
 * Reads a minimal unsigned LEB128 varint from p[0..left). Minimal means no
 * redundant trailing zero groups, so every value has exactly one encoding and
 * a decoded record re-encodes to the same bytes. Returns 0 with *v and *used
 * set, TANDEM_EINCOMPLETE when the bytes end inside the varint, or
 * TANDEM_ECORRUPT when it is longer than 64 bits or not minimal.
 */
int protocol_varint_read(const uint8_t *p, size_t left, uint64_t *v, size_t *used);

/* Bytes tandem_buf_put_varint writes for v (1..10). */
size_t protocol_varint_size(uint64_t v);

/* Inserts varint(b->len - start) at `start`, in front of the content written
 * since then. 0 or TANDEM_ENOMEM (buffer unchanged). */
int protocol_insert_length_prefix(tandem_buf *b, size_t start);

/* Zigzag mapping of signed to unsigned: 0,-1,1,-2,... -> 0,1,2,3,... */
uint64_t protocol_zigzag_encode(int64_t v);
int64_t protocol_zigzag_decode(uint64_t u);

/* tandem_fields_validate for content that already sits `depth` nesting levels
 * below the top; `base` is added to reported offsets. */
int protocol_fields_validate_at(const uint8_t *data, size_t len, uint32_t depth, size_t base,
                                tandem_diag *diag, const char *what);

struct tandem_field_writer;

/* Writes a nested field whose content the caller has checked as a top-level
 * sequence: a record's value counts its nesting depth from itself, not from
 * the envelope around it. */
int protocol_field_put_value(struct tandem_field_writer *w, uint32_t tag, const void *fields,
                             size_t len);

struct tandem_record;

/* tandem_record_decode; `deep` false skips re-validating the content of the
 * value and ext, for records a batch reader already checked when it opened. */
int protocol_record_decode(const uint8_t *data, size_t len, struct tandem_record *rec, bool deep,
                           tandem_diag *diag);

/*
 * Tags of the record envelope (docs/RECORD_FORMAT.md). Envelope fields are
 * written in ascending tag order, and a new envelope field always gets a tag
 * above every existing one, so to an older reader all the fields it does not
 * know form one contiguous tail, which it keeps verbatim (tandem_record.ext).
 */
enum protocol_envelope_tag {
    PROTOCOL_TAG_SOURCE_POSITION = 1,            /* SINT, optional, default -1 */
    PROTOCOL_TAG_KEY = 2,                        /* UINT, optional, default TANDEM_KEY_NONE */
    PROTOCOL_TAG_TIMESTAMP = 3,                  /* UINT, required, ms since the epoch */
    PROTOCOL_TAG_PARTITION_ID = 4,               /* UINT, required, 1..8191 */
    PROTOCOL_TAG_RECORD_TYPE = 5,                /* UINT, required, 0..2 */
    PROTOCOL_TAG_VALUE_TYPE = 6,                 /* UINT, required, 0..255 */
    PROTOCOL_TAG_INTENT = 7,                     /* UINT, required, 0..65535 */
    PROTOCOL_TAG_REJECTION_TYPE = 8,             /* UINT, rejections only */
    PROTOCOL_TAG_REJECTION_REASON = 9,           /* STRING, rejections only, optional */
    PROTOCOL_TAG_BROKER_VERSION = 10,            /* UINT, optional, major<<32|minor<<16|patch */
    PROTOCOL_TAG_RECORD_VERSION = 11,            /* UINT, required, 0..65535 */
    PROTOCOL_TAG_REQUEST_STREAM_ID = 12,         /* SINT, optional, default -1 */
    PROTOCOL_TAG_REQUEST_ID = 13,                /* SINT, optional, default -1 */
    PROTOCOL_TAG_OPERATION_REFERENCE = 14,       /* SINT, optional, default -1 */
    PROTOCOL_TAG_BATCH_OPERATION_REFERENCE = 15, /* SINT, optional, default -1 */
    PROTOCOL_TAG_VALUE = 16,                     /* NESTED, required */
};
/* The highest envelope tag this build knows; higher tags are kept as ext. */
#define PROTOCOL_TAG_KNOWN_MAX PROTOCOL_TAG_VALUE

#endif
