#include "protocol/print.h"

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

#include "base/assert.h"
#include "protocol/field.h"
#include "protocol/key.h"
#include "protocol/types.h"

/* 9999-12-31T23:59:59.999Z: later timestamps are printed as plain numbers. */
#define ISO_MS_MAX UINT64_C(253402300799999)

/* Output with a sticky error, so formatting reads as a plain sequence of appends. */
typedef struct printer {
    tandem_buf *out;
    int rc;
} printer;

static void emit(printer *p, const void *data, size_t len)
{
    TANDEM_ASSERT(p != NULL && p->out != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    if (p->rc == 0) {
        p->rc = tandem_buf_append(p->out, data, len);
    }
}

static void emitf(printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emitf(printer *p, const char *fmt, ...)
{
    TANDEM_ASSERT(p != NULL && fmt != NULL);
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    /* Callers format numbers, names and static reasons: at most about 120 bytes. */
    TANDEM_ASSERT(n >= 0 && (size_t)n < sizeof(small));
    emit(p, small, (size_t)n);
}

static void emit_escaped(printer *p, const uint8_t *s, size_t len)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    size_t shown = len < TANDEM_PRINT_BYTES_MAX ? len : TANDEM_PRINT_BYTES_MAX;
    emit(p, "\"", 1);
    for (size_t i = 0; i < shown; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '"':
            emit(p, "\\\"", 2);
            break;
        case '\\':
            emit(p, "\\\\", 2);
            break;
        case '\n':
            emit(p, "\\n", 2);
            break;
        case '\r':
            emit(p, "\\r", 2);
            break;
        case '\t':
            emit(p, "\\t", 2);
            break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                emit(p, &c, 1);
            } else {
                emitf(p, "\\x%02x", c);
            }
        }
    }
    emit(p, "\"", 1);
    if (shown < len) {
        emitf(p, "...(%zu bytes)", len);
    }
}

static void emit_hex(printer *p, const uint8_t *s, size_t len)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    static const char digits[] = "0123456789abcdef";
    size_t shown = len < TANDEM_PRINT_BYTES_MAX ? len : TANDEM_PRINT_BYTES_MAX;
    emit(p, "x'", 2);
    for (size_t i = 0; i < shown; i++) {
        char pair[2] = {digits[s[i] >> 4], digits[s[i] & 0xf]};
        emit(p, pair, 2);
    }
    emit(p, "'", 1);
    if (shown < len) {
        emitf(p, "...(%zu bytes)", len);
    }
}

/* One level of a field sequence in braces; recursion is bounded by depth. */
static void emit_fields(printer *p, const uint8_t *data, size_t len, uint32_t depth)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(depth <= TANDEM_FIELD_DEPTH_MAX);
    tandem_field_reader fr;
    tandem_field f;
    tandem_field_reader_init(&fr, data, len);
    emit(p, "{", 1);
    for (bool first = true; tandem_field_next(&fr, &f); first = false) {
        emitf(p, "%s%" PRIu32 "=", first ? "" : " ", f.tag);
        switch (f.wire) {
        case TANDEM_WIRE_UINT:
            emitf(p, "%" PRIu64, f.u);
            break;
        case TANDEM_WIRE_SINT:
            emitf(p, "%" PRId64, f.i);
            break;
        case TANDEM_WIRE_FIXED64:
            emitf(p, "0x%016" PRIx64, f.u);
            break;
        case TANDEM_WIRE_BOOL:
            emit(p, f.u != 0 ? "true" : "false", f.u != 0 ? 4 : 5);
            break;
        case TANDEM_WIRE_STRING:
            emit_escaped(p, f.data, f.len);
            break;
        case TANDEM_WIRE_BYTES:
            emit_hex(p, f.data, f.len);
            break;
        case TANDEM_WIRE_NESTED:
            if (depth + 1 > TANDEM_FIELD_DEPTH_MAX) {
                emit(p, "{...}", 5);
            } else {
                emit_fields(p, f.data, f.len, depth + 1);
            }
            break;
        }
    }
    if (fr.error != 0) {
        emitf(p, "%s<malformed: %s at byte %zu>", fr.off > 0 ? " " : "", fr.error_reason,
              fr.error_offset);
    }
    emit(p, "}", 1);
}

static void emit_timestamp(printer *p, uint64_t ms)
{
    TANDEM_ASSERT(p != NULL);
    _Static_assert(ISO_MS_MAX / 1000 <= INT64_MAX, "fits time_t");
    struct tm tm;
    time_t secs = (time_t)(ms / 1000);
    if (ms > ISO_MS_MAX || gmtime_r(&secs, &tm) == NULL) {
        emitf(p, " ts=%" PRIu64 "ms", ms);
        return;
    }
    TANDEM_ASSERT(tm.tm_year + 1900 <= 9999);
    emitf(p, " ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void emit_envelope(printer *p, const tandem_record *rec)
{
    TANDEM_ASSERT(p != NULL && rec != NULL);
    TANDEM_ASSERT(rec->rejection_reason != NULL || rec->rejection_reason_len == 0);
    tandem_name_buf a, b, c;
    emitf(p, "pos=%" PRIu64, rec->position);
    if (rec->source_position == TANDEM_NONE) {
        emit(p, " src=-", 6);
    } else {
        emitf(p, " src=%" PRId64, rec->source_position);
    }
    if (rec->key == TANDEM_KEY_NONE) {
        emit(p, " key=-", 6);
    } else {
        emitf(p, " key=%" PRIu64 "(p%" PRIu32 ":%" PRIu64 ")", rec->key,
              tandem_key_partition(rec->key), tandem_key_counter(rec->key));
    }
    emit_timestamp(p, rec->timestamp_ms);
    emitf(p, " partition=%u %s", rec->partition_id, tandem_record_type_name(rec->record_type, &a));
    emitf(p, " %s %s", tandem_value_type_name(rec->value_type, &b),
          tandem_intent_name(rec->value_type, rec->intent, &c));
    if (rec->rejection_type != TANDEM_REJECTION_NONE) {
        emitf(p, " rejection=%s", tandem_rejection_type_name(rec->rejection_type, &a));
    }
    if (rec->rejection_reason_len > 0) {
        emit(p, " reason=", 8);
        emit_escaped(p, (const uint8_t *)rec->rejection_reason, rec->rejection_reason_len);
    }
    if (rec->request_stream_id != TANDEM_NONE || rec->request_id != TANDEM_NONE) {
        emitf(p, " request=%" PRId32 ":%" PRId64, rec->request_stream_id, rec->request_id);
    }
    if (rec->operation_reference != TANDEM_NONE) {
        emitf(p, " op=%" PRId64, rec->operation_reference);
    }
    if (rec->batch_operation_reference != TANDEM_NONE) {
        emitf(p, " batch_op=%" PRId64, rec->batch_operation_reference);
    }
    if (rec->record_version != 1) {
        emitf(p, " rv=%u", rec->record_version);
    }
    const tandem_broker_version *v = &rec->broker_version;
    if (v->major != 0 || v->minor != 0 || v->patch != 0) {
        emitf(p, " broker=%u.%u.%u", v->major, v->minor, v->patch);
    }
}

int tandem_record_format(const tandem_record *rec, tandem_buf *out)
{
    TANDEM_ASSERT(rec != NULL && out != NULL);
    TANDEM_ASSERT(rec->value != NULL || rec->value_len == 0);
    printer p = {out, 0};
    emit_envelope(&p, rec);
    if (rec->ext_len > 0) {
        emit(&p, " ext=", 5);
        emit_fields(&p, rec->ext, rec->ext_len, 0);
    }
    emit(&p, " value=", 7);
    emit_fields(&p, rec->value, rec->value_len, 0);
    emit(&p, "\n", 1);
    return p.rc;
}

int tandem_record_print(const tandem_record *rec, FILE *f)
{
    TANDEM_ASSERT(rec != NULL && f != NULL);
    tandem_buf line = TANDEM_BUF_INIT;
    int rc = tandem_record_format(rec, &line);
    if (rc != 0) {
        goto out;
    }
    TANDEM_ASSERT(line.len > 0 && line.data[line.len - 1] == '\n');
    if (fwrite(line.data, 1, line.len, f) != line.len) {
        rc = TANDEM_EIO;
    }
out:
    tandem_buf_free(&line);
    return rc;
}

int tandem_fields_format(const void *data, size_t len, tandem_buf *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    printer p = {out, 0};
    emit_fields(&p, data, len, 0);
    return p.rc;
}
