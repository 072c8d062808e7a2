#include "protocol/field.h"

#include <string.h>

#include "base/assert.h"
#include "protocol/protocol_int.h"

/* ---- Varints and zigzag ------------------------------------------------- */

int protocol_varint_read(const uint8_t *p, size_t left, uint64_t *v, size_t *used)
{
    TANDEM_ASSERT(p != NULL || left == 0);
    TANDEM_ASSERT(v != NULL && used != NULL);
    uint64_t value = 0;
    for (size_t n = 0; n < PROTOCOL_VARINT_SIZE_MAX; n++) {
        if (n == left) {
            return TANDEM_EINCOMPLETE;
        }
        uint8_t byte = p[n];
        unsigned shift = (unsigned)(7 * n);
        /* The tenth byte holds only bit 63. */
        if (n == PROTOCOL_VARINT_SIZE_MAX - 1 && byte > 1) {
            return TANDEM_ECORRUPT;
        }
        value |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            if (n > 0 && byte == 0) {
                return TANDEM_ECORRUPT; /* a redundant zero group: not minimal */
            }
            *v = value;
            *used = n + 1;
            return TANDEM_OK;
        }
    }
    return TANDEM_ECORRUPT;
}

size_t protocol_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    TANDEM_ASSERT(n <= PROTOCOL_VARINT_SIZE_MAX);
    return n;
}

uint64_t protocol_zigzag_encode(int64_t v)
{
    uint64_t u = (uint64_t)v << 1;
    u = v < 0 ? ~u : u;
    TANDEM_ASSERT(((u & 1) != 0) == (v < 0)); /* the low bit carries the sign */
    return u;
}

int64_t protocol_zigzag_decode(uint64_t u)
{
    uint64_t half = u >> 1;
    uint64_t bits = (u & 1) != 0 ? ~half : half;
    int64_t v;
    memcpy(&v, &bits, sizeof(v)); /* two's complement reinterpretation, no overflow */
    TANDEM_ASSERT(protocol_zigzag_encode(v) == u);
    return v;
}

int protocol_insert_length_prefix(tandem_buf *b, size_t start)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(start <= b->len);
    /* The length is only known once the content is written: move the content
     * up by the prefix size. Values are small, so the copy costs less than
     * encoding twice to learn the size first. */
    size_t content_len = b->len - start;
    uint8_t prefix[PROTOCOL_VARINT_SIZE_MAX];
    size_t n = 0;
    for (uint64_t v = content_len;; v >>= 7) {
        prefix[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) {
            break;
        }
    }
    TANDEM_ASSERT(n == protocol_varint_size(content_len));
    int rc = tandem_buf_put_zeros(b, n, NULL);
    if (rc != 0) {
        return rc;
    }
    memmove(b->data + start + n, b->data + start, content_len);
    memcpy(b->data + start, prefix, n);
    return 0;
}

const char *tandem_wire_name(unsigned wire)
{
    _Static_assert(TANDEM_WIRE_NESTED + 1 == TANDEM_WIRE_COUNT, "wire names");
    static const char *const names[TANDEM_WIRE_COUNT] = {
        "uint", "sint", "fixed64", "bool", "string", "bytes", "nested",
    };
    return wire < TANDEM_WIRE_COUNT ? names[wire] : "reserved";
}

/* ---- Writer ------------------------------------------------------------- */

void tandem_field_writer_init(tandem_field_writer *w, tandem_buf *out)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(out != NULL);
    w->out = out;
    w->error = 0;
    w->depth = 0;
    memset(w->open_at, 0, sizeof(w->open_at));
}

/* Records the first error; later errors are consequences of it. */
static int writer_fail(tandem_field_writer *w, int rc)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(rc != 0);
    if (w->error == 0) {
        w->error = rc;
    }
    return w->error;
}

static int put_key(tandem_field_writer *w, uint32_t tag, enum tandem_wire wire)
{
    TANDEM_ASSERT(tag >= TANDEM_FIELD_TAG_MIN && tag <= TANDEM_FIELD_TAG_MAX);
    TANDEM_ASSERT((unsigned)wire < TANDEM_WIRE_COUNT);
    if (w->error != 0) {
        return w->error;
    }
    int rc = tandem_buf_put_varint(w->out, ((uint64_t)tag << 3) | (uint64_t)wire);
    return rc == 0 ? 0 : writer_fail(w, rc);
}

static int put_varint(tandem_field_writer *w, uint64_t v)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    TANDEM_ASSERT(w->error == 0); /* only called after a successful key */
    int rc = tandem_buf_put_varint(w->out, v);
    return rc == 0 ? 0 : writer_fail(w, rc);
}

static int put_delimited(tandem_field_writer *w, uint32_t tag, enum tandem_wire wire, const void *p,
                         size_t len)
{
    TANDEM_ASSERT(p != NULL || len == 0);
    TANDEM_ASSERT(wire == TANDEM_WIRE_STRING || wire == TANDEM_WIRE_BYTES ||
                  wire == TANDEM_WIRE_NESTED);
    int rc = put_key(w, tag, wire);
    if (rc == 0) {
        rc = put_varint(w, len);
    }
    if (rc == 0) {
        rc = tandem_buf_append(w->out, p, len);
        rc = rc == 0 ? 0 : writer_fail(w, rc);
    }
    return rc;
}

int protocol_field_put_value(tandem_field_writer *w, uint32_t tag, const void *fields, size_t len)
{
    TANDEM_ASSERT(w != NULL && w->depth == 0);
    TANDEM_ASSERT(fields != NULL || len == 0);
    return put_delimited(w, tag, TANDEM_WIRE_NESTED, fields, len);
}

int tandem_field_put_uint(tandem_field_writer *w, uint32_t tag, uint64_t v)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    int rc = put_key(w, tag, TANDEM_WIRE_UINT);
    return rc == 0 ? put_varint(w, v) : rc;
}

int tandem_field_put_int(tandem_field_writer *w, uint32_t tag, int64_t v)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    int rc = put_key(w, tag, TANDEM_WIRE_SINT);
    return rc == 0 ? put_varint(w, protocol_zigzag_encode(v)) : rc;
}

int tandem_field_put_fixed64(tandem_field_writer *w, uint32_t tag, uint64_t v)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    int rc = put_key(w, tag, TANDEM_WIRE_FIXED64);
    if (rc == 0) {
        rc = tandem_buf_put_u64(w->out, v);
        rc = rc == 0 ? 0 : writer_fail(w, rc);
    }
    return rc;
}

int tandem_field_put_bool(tandem_field_writer *w, uint32_t tag, bool v)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    int rc = put_key(w, tag, TANDEM_WIRE_BOOL);
    if (rc == 0) {
        rc = tandem_buf_put_u8(w->out, v ? 1 : 0);
        rc = rc == 0 ? 0 : writer_fail(w, rc);
    }
    return rc;
}

int tandem_field_put_string(tandem_field_writer *w, uint32_t tag, const char *s, size_t len)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    TANDEM_ASSERT(s != NULL || len == 0);
    return put_delimited(w, tag, TANDEM_WIRE_STRING, s, len);
}

int tandem_field_put_cstr(tandem_field_writer *w, uint32_t tag, const char *s)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    TANDEM_ASSERT(s != NULL);
    return put_delimited(w, tag, TANDEM_WIRE_STRING, s, strlen(s));
}

int tandem_field_put_bytes(tandem_field_writer *w, uint32_t tag, const void *p, size_t len)
{
    TANDEM_ASSERT(w != NULL && w->out != NULL);
    TANDEM_ASSERT(p != NULL || len == 0);
    return put_delimited(w, tag, TANDEM_WIRE_BYTES, p, len);
}

int tandem_field_begin(tandem_field_writer *w, uint32_t tag)
{
    TANDEM_ASSERT(w != NULL);
    /* The depth is counted even after an error so begin/end stay paired. */
    uint32_t depth = w->depth++;
    TANDEM_ASSERT(w->depth > depth);
    if (depth >= TANDEM_FIELD_DEPTH_MAX) {
        return writer_fail(w, TANDEM_ERANGE);
    }
    int rc = put_key(w, tag, TANDEM_WIRE_NESTED);
    if (rc == 0) {
        w->open_at[depth] = w->out->len;
    }
    return rc;
}

int tandem_field_end(tandem_field_writer *w)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(w->depth > 0);
    w->depth--;
    if (w->error != 0) {
        return w->error;
    }
    TANDEM_ASSERT(w->open_at[w->depth] <= w->out->len);
    int rc = protocol_insert_length_prefix(w->out, w->open_at[w->depth]);
    return rc == 0 ? 0 : writer_fail(w, rc);
}

int tandem_field_put_nested(tandem_field_writer *w, uint32_t tag, const void *fields, size_t len)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(fields != NULL || len == 0);
    if (w->error != 0) {
        return w->error;
    }
    if (w->depth >= TANDEM_FIELD_DEPTH_MAX) {
        return writer_fail(w, TANDEM_ERANGE);
    }
    if (protocol_fields_validate_at(fields, len, w->depth + 1, 0, NULL, "nested") != 0) {
        return writer_fail(w, TANDEM_EINVAL);
    }
    return put_delimited(w, tag, TANDEM_WIRE_NESTED, fields, len);
}

int tandem_field_put_raw(tandem_field_writer *w, const void *fields, size_t len)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(fields != NULL || len == 0);
    if (w->error != 0) {
        return w->error;
    }
    if (protocol_fields_validate_at(fields, len, w->depth, 0, NULL, "raw") != 0) {
        return writer_fail(w, TANDEM_EINVAL);
    }
    int rc = tandem_buf_append(w->out, fields, len);
    return rc == 0 ? 0 : writer_fail(w, rc);
}

int tandem_field_writer_finish(tandem_field_writer *w)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(w->error != 0 || w->depth == 0);
    return w->error;
}

/* ---- Reader ------------------------------------------------------------- */

void tandem_field_reader_init(tandem_field_reader *fr, const void *data, size_t len)
{
    TANDEM_ASSERT(fr != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    fr->data = data;
    fr->len = len;
    fr->off = 0;
    fr->error = 0;
    fr->error_offset = 0;
    fr->error_reason = NULL;
}

static bool reader_fail(tandem_field_reader *fr, size_t at, const char *reason)
{
    TANDEM_ASSERT(reason != NULL);
    TANDEM_ASSERT(at <= fr->len);
    fr->error = TANDEM_ECORRUPT;
    fr->error_offset = at;
    fr->error_reason = reason;
    return false;
}

/* Reads a varint at the reader's offset; on failure records `what` in the reason. */
static bool reader_varint(tandem_field_reader *fr, size_t start, uint64_t *v, const char *truncated,
                          const char *malformed)
{
    TANDEM_ASSERT(fr != NULL && v != NULL);
    TANDEM_ASSERT(start <= fr->off && fr->off <= fr->len);
    size_t used = 0;
    int rc = protocol_varint_read(fr->data + fr->off, fr->len - fr->off, v, &used);
    if (rc == TANDEM_EINCOMPLETE) {
        return reader_fail(fr, start, truncated);
    }
    if (rc != 0) {
        return reader_fail(fr, start, malformed);
    }
    fr->off += used;
    return true;
}

static bool reader_payload(tandem_field_reader *fr, size_t start, tandem_field *f)
{
    TANDEM_ASSERT(fr != NULL && f != NULL);
    TANDEM_ASSERT(start < fr->off && fr->off <= fr->len); /* the key was read */
    uint64_t v = 0;
    switch (f->wire) {
    case TANDEM_WIRE_UINT:
        if (!reader_varint(fr, start, &v, "varint value is cut off", "varint value is malformed")) {
            return false;
        }
        f->u = v;
        return true;
    case TANDEM_WIRE_SINT:
        if (!reader_varint(fr, start, &v, "varint value is cut off", "varint value is malformed")) {
            return false;
        }
        f->i = protocol_zigzag_decode(v);
        return true;
    case TANDEM_WIRE_FIXED64:
        if (fr->len - fr->off < 8) {
            return reader_fail(fr, start, "fixed64 value is cut off");
        }
        f->u = tandem_load_u64(fr->data + fr->off);
        fr->off += 8;
        return true;
    case TANDEM_WIRE_BOOL:
        if (fr->len - fr->off < 1) {
            return reader_fail(fr, start, "bool value is cut off");
        }
        if (fr->data[fr->off] > 1) {
            return reader_fail(fr, start, "bool value is neither 0 nor 1");
        }
        f->u = fr->data[fr->off];
        fr->off += 1;
        return true;
    case TANDEM_WIRE_STRING:
    case TANDEM_WIRE_BYTES:
    case TANDEM_WIRE_NESTED:
        if (!reader_varint(fr, start, &v, "length is cut off", "length varint is malformed")) {
            return false;
        }
        if (v > fr->len - fr->off) {
            return reader_fail(fr, start, "length runs past the end of the enclosing bytes");
        }
        f->data = fr->data + fr->off;
        f->len = (size_t)v;
        fr->off += (size_t)v;
        return true;
    }
    return reader_fail(fr, start, "wire type 7 is reserved");
}

bool tandem_field_next(tandem_field_reader *fr, tandem_field *f)
{
    TANDEM_ASSERT(fr != NULL && f != NULL);
    TANDEM_ASSERT(fr->off <= fr->len);
    memset(f, 0, sizeof(*f));
    if (fr->error != 0 || fr->off == fr->len) {
        return false;
    }
    size_t start = fr->off;
    uint64_t key = 0;
    if (!reader_varint(fr, start, &key, "field key is cut off", "field key varint is malformed")) {
        return false;
    }
    uint64_t tag = key >> 3;
    if (tag < TANDEM_FIELD_TAG_MIN || tag > TANDEM_FIELD_TAG_MAX) {
        return reader_fail(fr, start, "field tag is out of range");
    }
    f->tag = (uint32_t)tag;
    f->wire = (enum tandem_wire)(key & 7);
    if (!reader_payload(fr, start, f)) {
        return false;
    }
    f->raw = fr->data + start;
    f->raw_len = fr->off - start;
    TANDEM_ASSERT(fr->off <= fr->len);
    return true;
}

int tandem_field_reader_diag(const tandem_field_reader *fr, tandem_diag *diag, const char *what)
{
    TANDEM_ASSERT(fr != NULL && what != NULL);
    TANDEM_ASSERT(fr->error != 0);
    return tandem_diag_set(diag, fr->error, "%s: %s at byte %zu", what,
                           fr->error_reason != NULL ? fr->error_reason : "malformed",
                           fr->error_offset);
}

int protocol_fields_validate_at(const uint8_t *data, size_t len, uint32_t depth, size_t base,
                                tandem_diag *diag, const char *what)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(depth <= TANDEM_FIELD_DEPTH_MAX);
    tandem_field_reader fr;
    tandem_field f;
    tandem_field_reader_init(&fr, data, len);
    while (tandem_field_next(&fr, &f)) {
        if (f.wire != TANDEM_WIRE_NESTED) {
            continue;
        }
        size_t at = base + (size_t)(f.raw - data);
        if (depth + 1 > TANDEM_FIELD_DEPTH_MAX) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "%s: nested fields deeper than %d levels at byte %zu", what,
                                   TANDEM_FIELD_DEPTH_MAX, at);
        }
        /* Recursion is bounded by TANDEM_FIELD_DEPTH_MAX. */
        int rc = protocol_fields_validate_at(f.data, f.len, depth + 1,
                                             base + (size_t)(f.data - data), diag, what);
        if (rc != 0) {
            return rc;
        }
    }
    if (fr.error != 0) {
        return tandem_diag_set(diag, fr.error, "%s: %s at byte %zu", what, fr.error_reason,
                               base + fr.error_offset);
    }
    return 0;
}

int tandem_fields_validate(const void *data, size_t len, tandem_diag *diag, const char *what)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(what != NULL);
    return protocol_fields_validate_at(data, len, 0, 0, diag, what);
}

int tandem_fields_find(const void *data, size_t len, uint32_t tag, tandem_field *f)
{
    TANDEM_ASSERT(f != NULL);
    TANDEM_ASSERT(tag >= TANDEM_FIELD_TAG_MIN && tag <= TANDEM_FIELD_TAG_MAX);
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, data, len);
    while (tandem_field_next(&fr, f)) {
        if (f->tag == tag) {
            return 0;
        }
    }
    return fr.error != 0 ? fr.error : TANDEM_ENOENT;
}

int tandem_field_keep_unknown(tandem_buf *unknown, const tandem_field *f)
{
    TANDEM_ASSERT(unknown != NULL && f != NULL);
    TANDEM_ASSERT(f->raw != NULL && f->raw_len > 0);
    return tandem_buf_append(unknown, f->raw, f->raw_len);
}
