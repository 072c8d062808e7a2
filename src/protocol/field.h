/*
 * field.h — the self-describing tagged field encoding of record values.
 *
 * Two broker versions run side by side during a staged upgrade, so a value
 * written by a newer broker must be readable by an older one, and an older
 * broker that decodes and re-encodes such a value must not lose what it did
 * not understand. Values are therefore a sequence of tagged fields, each
 * carrying its own wire type, so any reader can skip, copy or print a field
 * without knowing what it means:
 *
 *   field   = varint(tag << 3 | wire) payload
 *   payload = UINT:    varint                      (unsigned LEB128, minimal)
 *             SINT:    varint(zigzag(v))           (0,-1,1,-2 -> 0,1,2,3)
 *             FIXED64: 8 bytes little-endian
 *             BOOL:    1 byte, 0 or 1
 *             STRING, BYTES, NESTED: varint(len) + len bytes
 *                                    (NESTED bytes are themselves a field sequence)
 *
 * Byte-level details and the compatibility rules are in docs/RECORD_FORMAT.md.
 * A value codec writes with tandem_field_writer, reads with
 * tandem_field_reader, and keeps every field whose tag it does not know with
 * tandem_field_keep_unknown, writing them back with tandem_field_put_raw.
 *
 * Decoding never trusts its input: malformed bytes give TANDEM_ECORRUPT with
 * the offending byte offset, never an assertion. Tags and nesting depth passed
 * to the writer come from code, so a tag out of range is asserted.
 */
#ifndef TANDEM_PROTOCOL_FIELD_H
#define TANDEM_PROTOCOL_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

enum tandem_wire {
    TANDEM_WIRE_UINT = 0,
    TANDEM_WIRE_SINT = 1,
    TANDEM_WIRE_FIXED64 = 2,
    TANDEM_WIRE_BOOL = 3,
    TANDEM_WIRE_STRING = 4,
    TANDEM_WIRE_BYTES = 5,
    TANDEM_WIRE_NESTED = 6,
    /* 7 is reserved: a reader cannot know its length, so it refuses it. */
};
#define TANDEM_WIRE_COUNT 7

#define TANDEM_FIELD_TAG_MIN 1
#define TANDEM_FIELD_TAG_MAX ((UINT32_C(1) << 29) - 1)
/* Nested fields may be nested this deep below the top sequence. */
#define TANDEM_FIELD_DEPTH_MAX 16

/* Name of a wire type ("uint", "string", ...); "reserved" for others. Static. */
const char *tandem_wire_name(unsigned wire);

/* ---- Writing ------------------------------------------------------------ */

/*
 * Appends fields to a tandem_buf the caller owns. Errors are sticky: after the
 * first failure every put returns that code without writing, so a codec may
 * write all its fields and check once with tandem_field_writer_finish. After an
 * error the bytes appended since init are unspecified and must be discarded.
 */
typedef struct tandem_field_writer {
    tandem_buf *out;                        /* private: not owned */
    int error;                              /* read-only: sticky first error, 0 when none */
    uint32_t depth;                         /* read-only: nested fields open */
    size_t open_at[TANDEM_FIELD_DEPTH_MAX]; /* private: content offset of each open nest */
} tandem_field_writer;

/* `out` must outlive the writer; fields are appended after its current content. */
void tandem_field_writer_init(tandem_field_writer *w, tandem_buf *out);

/* Each put returns 0 or the sticky error (TANDEM_ENOMEM, TANDEM_ERANGE, TANDEM_EINVAL).
 * Tags must be in [TANDEM_FIELD_TAG_MIN, TANDEM_FIELD_TAG_MAX] (asserted). */
int tandem_field_put_uint(tandem_field_writer *w, uint32_t tag, uint64_t v);
int tandem_field_put_int(tandem_field_writer *w, uint32_t tag, int64_t v);
int tandem_field_put_fixed64(tandem_field_writer *w, uint32_t tag, uint64_t v);
int tandem_field_put_bool(tandem_field_writer *w, uint32_t tag, bool v);
/* s need not be NUL-terminated; len bytes are copied. */
int tandem_field_put_string(tandem_field_writer *w, uint32_t tag, const char *s, size_t len);
/* A NUL-terminated string. */
int tandem_field_put_cstr(tandem_field_writer *w, uint32_t tag, const char *s);
int tandem_field_put_bytes(tandem_field_writer *w, uint32_t tag, const void *p, size_t len);

/* Opens a nested field: the following puts go inside it until the matching
 * tandem_field_end. Deeper than TANDEM_FIELD_DEPTH_MAX gives TANDEM_ERANGE. */
int tandem_field_begin(tandem_field_writer *w, uint32_t tag);
/* Closes the innermost open nested field (asserts one is open). */
int tandem_field_end(tandem_field_writer *w);

/* A nested field whose content is an already encoded field sequence; the
 * sequence is checked first (TANDEM_EINVAL if it is not well formed). */
int tandem_field_put_nested(tandem_field_writer *w, uint32_t tag, const void *fields, size_t len);

/* Appends already encoded fields verbatim, e.g. the unknown fields a decoder
 * kept; checked first (TANDEM_EINVAL if not a well formed field sequence). */
int tandem_field_put_raw(tandem_field_writer *w, const void *fields, size_t len);

/* Returns the sticky error, or 0; asserts that every nested field was closed
 * when there was no error. */
int tandem_field_writer_finish(tandem_field_writer *w);

/* ---- Reading ------------------------------------------------------------ */

/* One decoded field. All pointers are views into the bytes being read and
 * stay valid as long as those bytes. */
typedef struct tandem_field {
    uint32_t tag;
    enum tandem_wire wire;
    uint64_t u;          /* UINT, FIXED64, BOOL (0 or 1) */
    int64_t i;           /* SINT */
    const uint8_t *data; /* STRING, BYTES, NESTED: the payload */
    size_t len;
    const uint8_t *raw; /* the whole field, key included, for verbatim copies */
    size_t raw_len;
} tandem_field;

/*
 * Iterates over one level of a field sequence. The reader does not descend
 * into nested fields (start another reader on field.data for that) and does
 * not check their content; tandem_fields_validate does both.
 *
 *   tandem_field f;
 *   while (tandem_field_next(&fr, &f)) { switch (f.tag) { ... } }
 *   if (fr.error != 0) return tandem_field_reader_diag(&fr, diag, "job value");
 */
typedef struct tandem_field_reader {
    const uint8_t *data;      /* private: not owned */
    size_t len;               /* private */
    size_t off;               /* read-only: bytes consumed */
    int error;                /* read-only: sticky, 0 or TANDEM_ECORRUPT */
    size_t error_offset;      /* read-only: byte where the bad field starts */
    const char *error_reason; /* read-only: static text, NULL when no error */
} tandem_field_reader;

/* The bytes must stay valid while the reader and its fields are used. */
void tandem_field_reader_init(tandem_field_reader *fr, const void *data, size_t len);

/* Reads the next field into *f: true when one was read, false at the end of
 * the sequence or on malformed bytes (then fr->error is set). */
bool tandem_field_next(tandem_field_reader *fr, tandem_field *f);

/* Fills diag with "<what>: <reason> at byte <n>" and returns fr->error. */
int tandem_field_reader_diag(const tandem_field_reader *fr, tandem_diag *diag, const char *what);

/* Checks that data is a well formed field sequence, nested fields included (at
 * most TANDEM_FIELD_DEPTH_MAX deep). 0 or TANDEM_ECORRUPT with a message naming
 * `what` and the byte offset. */
int tandem_fields_validate(const void *data, size_t len, tandem_diag *diag, const char *what);

/* Finds the first field with `tag` at the top level of a sequence. 0 and *f
 * filled, TANDEM_ENOENT when absent, TANDEM_ECORRUPT when the bytes before it
 * are malformed. */
int tandem_fields_find(const void *data, size_t len, uint32_t tag, tandem_field *f);

/* Appends a field verbatim (f->raw) to `unknown`, a buffer the caller owns, so
 * a decoded struct can keep the fields it does not know and write them back
 * unchanged with tandem_field_put_raw. TANDEM_ENOMEM on failure. */
int tandem_field_keep_unknown(tandem_buf *unknown, const tandem_field *f);

#endif
