#include "protocol/record.h"

#include <inttypes.h>
#include <string.h>

#include "base/assert.h"
#include "protocol/field.h"
#include "protocol/protocol_int.h"

/* Broker versions pack into one varint as major << 32 | minor << 16 | patch. */
#define BROKER_VERSION_PACKED_MAX ((UINT64_C(1) << 48) - 1)

typedef struct envelope_field {
    const char *name;
    enum tandem_wire wire;
    bool required;
} envelope_field;

static const envelope_field envelope[PROTOCOL_TAG_KNOWN_MAX + 1] = {
    [PROTOCOL_TAG_SOURCE_POSITION] = {"source position", TANDEM_WIRE_SINT, false},
    [PROTOCOL_TAG_KEY] = {"key", TANDEM_WIRE_UINT, false},
    [PROTOCOL_TAG_TIMESTAMP] = {"timestamp", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_PARTITION_ID] = {"partition id", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_RECORD_TYPE] = {"record type", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_VALUE_TYPE] = {"value type", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_INTENT] = {"intent", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_REJECTION_TYPE] = {"rejection type", TANDEM_WIRE_UINT, false},
    [PROTOCOL_TAG_REJECTION_REASON] = {"rejection reason", TANDEM_WIRE_STRING, false},
    [PROTOCOL_TAG_BROKER_VERSION] = {"broker version", TANDEM_WIRE_UINT, false},
    [PROTOCOL_TAG_RECORD_VERSION] = {"record version", TANDEM_WIRE_UINT, true},
    [PROTOCOL_TAG_REQUEST_STREAM_ID] = {"request stream id", TANDEM_WIRE_SINT, false},
    [PROTOCOL_TAG_REQUEST_ID] = {"request id", TANDEM_WIRE_SINT, false},
    [PROTOCOL_TAG_OPERATION_REFERENCE] = {"operation reference", TANDEM_WIRE_SINT, false},
    [PROTOCOL_TAG_BATCH_OPERATION_REFERENCE] = {"batch operation reference", TANDEM_WIRE_SINT,
                                                false},
    [PROTOCOL_TAG_VALUE] = {"value", TANDEM_WIRE_NESTED, true},
};
_Static_assert(PROTOCOL_TAG_KNOWN_MAX < 32, "seen-field mask is 32 bits");

void tandem_record_init(tandem_record *rec)
{
    TANDEM_ASSERT(rec != NULL);
    memset(rec, 0, sizeof(*rec));
    rec->source_position = TANDEM_NONE;
    rec->key = TANDEM_KEY_NONE;
    rec->rejection_type = TANDEM_REJECTION_NONE;
    rec->record_version = 1;
    rec->request_stream_id = TANDEM_NONE;
    rec->request_id = TANDEM_NONE;
    rec->operation_reference = TANDEM_NONE;
    rec->batch_operation_reference = TANDEM_NONE;
    TANDEM_ASSERT(rec->value == NULL && rec->ext == NULL);
}

static uint64_t broker_version_pack(tandem_broker_version v)
{
    uint64_t packed = ((uint64_t)v.major << 32) | ((uint64_t)v.minor << 16) | v.patch;
    TANDEM_ASSERT(packed <= BROKER_VERSION_PACKED_MAX);
    return packed;
}

static tandem_broker_version broker_version_unpack(uint64_t packed)
{
    TANDEM_ASSERT(packed <= BROKER_VERSION_PACKED_MAX);
    tandem_broker_version v = {(uint16_t)(packed >> 32), (uint16_t)(packed >> 16),
                               (uint16_t)packed};
    TANDEM_ASSERT(broker_version_pack(v) == packed);
    return v;
}

/*
 * The rules both codecs check, so an encoder never writes what a decoder
 * refuses. Returns NULL when the record is fine, else the broken rule.
 */
static const char *record_rule_broken(const tandem_record *rec)
{
    TANDEM_ASSERT(rec != NULL);
    if (rec->partition_id < TANDEM_PARTITION_ID_MIN ||
        rec->partition_id > TANDEM_PARTITION_ID_MAX) {
        return "partition id is outside 1..8191";
    }
    if (rec->record_type >= TANDEM_RECORD_TYPE_COUNT) {
        return "record type is not EVENT, COMMAND or COMMAND_REJECTION";
    }
    if (rec->source_position < TANDEM_NONE) {
        return "source position is below -1";
    }
    if (rec->request_stream_id < TANDEM_NONE || rec->request_id < TANDEM_NONE ||
        rec->operation_reference < TANDEM_NONE || rec->batch_operation_reference < TANDEM_NONE) {
        return "a request id or operation reference is below -1";
    }
    bool rejection = rec->record_type == TANDEM_RECORD_COMMAND_REJECTION;
    if (rejection && rec->rejection_type == TANDEM_REJECTION_NONE) {
        return "a command rejection has no rejection type";
    }
    if (!rejection &&
        (rec->rejection_type != TANDEM_REJECTION_NONE || rec->rejection_reason_len > 0)) {
        return "a record that is not a rejection has a rejection type or reason";
    }
    if (rec->rejection_reason == NULL && rec->rejection_reason_len > 0) {
        return "rejection reason has a length but no bytes";
    }
    return NULL;
}

/* ext must hold only fields above the known tags, ascending, so that the
 * envelope stays in tag order when ext is appended after the value. 0 or
 * TANDEM_ECORRUPT. */
static int check_ext(const uint8_t *ext, size_t len, tandem_diag *diag)
{
    TANDEM_ASSERT(ext != NULL || len == 0);
    tandem_field_reader fr;
    tandem_field f;
    uint32_t last = PROTOCOL_TAG_KNOWN_MAX;
    tandem_field_reader_init(&fr, ext, len);
    while (tandem_field_next(&fr, &f)) {
        if (f.tag <= last) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "record envelope: extension field %" PRIu32
                                   " is not above field %" PRIu32 " (tags must ascend)",
                                   f.tag, last);
        }
        last = f.tag;
    }
    if (fr.error != 0) {
        return tandem_field_reader_diag(&fr, diag, "record envelope extension");
    }
    return protocol_fields_validate_at(ext, len, 0, 0, diag, "record envelope extension");
}

/* Turns a decoder's verdict on caller-supplied bytes into the encoder's code. */
static int as_invalid(tandem_diag *diag, int rc)
{
    TANDEM_ASSERT(rc != 0);
    TANDEM_ASSERT(diag == NULL || diag->code == rc);
    if (diag != NULL) {
        diag->code = TANDEM_EINVAL;
    }
    return rc == TANDEM_ENOMEM ? rc : TANDEM_EINVAL;
}

static void put_envelope(tandem_field_writer *w, const tandem_record *rec)
{
    TANDEM_ASSERT(w != NULL && rec != NULL);
    /* Ascending tag order; optional fields are left out at their default. */
    if (rec->source_position != TANDEM_NONE) {
        tandem_field_put_int(w, PROTOCOL_TAG_SOURCE_POSITION, rec->source_position);
    }
    if (rec->key != TANDEM_KEY_NONE) {
        tandem_field_put_uint(w, PROTOCOL_TAG_KEY, rec->key);
    }
    tandem_field_put_uint(w, PROTOCOL_TAG_TIMESTAMP, rec->timestamp_ms);
    tandem_field_put_uint(w, PROTOCOL_TAG_PARTITION_ID, rec->partition_id);
    tandem_field_put_uint(w, PROTOCOL_TAG_RECORD_TYPE, rec->record_type);
    tandem_field_put_uint(w, PROTOCOL_TAG_VALUE_TYPE, rec->value_type);
    tandem_field_put_uint(w, PROTOCOL_TAG_INTENT, rec->intent);
    if (rec->rejection_type != TANDEM_REJECTION_NONE) {
        tandem_field_put_uint(w, PROTOCOL_TAG_REJECTION_TYPE, rec->rejection_type);
    }
    if (rec->rejection_reason_len > 0) {
        tandem_field_put_string(w, PROTOCOL_TAG_REJECTION_REASON, rec->rejection_reason,
                                rec->rejection_reason_len);
    }
    uint64_t broker = broker_version_pack(rec->broker_version);
    if (broker != 0) {
        tandem_field_put_uint(w, PROTOCOL_TAG_BROKER_VERSION, broker);
    }
    tandem_field_put_uint(w, PROTOCOL_TAG_RECORD_VERSION, rec->record_version);
    if (rec->request_stream_id != TANDEM_NONE) {
        tandem_field_put_int(w, PROTOCOL_TAG_REQUEST_STREAM_ID, rec->request_stream_id);
    }
    if (rec->request_id != TANDEM_NONE) {
        tandem_field_put_int(w, PROTOCOL_TAG_REQUEST_ID, rec->request_id);
    }
    if (rec->operation_reference != TANDEM_NONE) {
        tandem_field_put_int(w, PROTOCOL_TAG_OPERATION_REFERENCE, rec->operation_reference);
    }
    if (rec->batch_operation_reference != TANDEM_NONE) {
        tandem_field_put_int(w, PROTOCOL_TAG_BATCH_OPERATION_REFERENCE,
                             rec->batch_operation_reference);
    }
}

int tandem_record_encode(tandem_buf *out, const tandem_record *rec, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL && rec != NULL);
    TANDEM_ASSERT(rec->value != NULL || rec->value_len == 0);
    TANDEM_ASSERT(rec->ext != NULL || rec->ext_len == 0);
    const char *broken = record_rule_broken(rec);
    if (broken != NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "record: %s", broken);
    }
    int rc = tandem_fields_validate(rec->value, rec->value_len, diag, "record value");
    if (rc != 0) {
        return as_invalid(diag, rc);
    }
    rc = check_ext(rec->ext, rec->ext_len, diag);
    if (rc != 0) {
        return as_invalid(diag, rc);
    }
    tandem_field_writer w;
    tandem_field_writer_init(&w, out);
    put_envelope(&w, rec);
    protocol_field_put_value(&w, PROTOCOL_TAG_VALUE, rec->value, rec->value_len);
    tandem_field_put_raw(&w, rec->ext, rec->ext_len);
    rc = tandem_field_writer_finish(&w);
    if (rc != 0) {
        return tandem_diag_set(diag, rc, "record: encoding failed: %s", tandem_strerror(rc));
    }
    return 0;
}

/* Stores one known envelope field into rec; NULL or the range it breaks. */
static const char *assign_field(tandem_record *rec, const tandem_field *f)
{
    TANDEM_ASSERT(rec != NULL && f != NULL);
    TANDEM_ASSERT(f->tag >= 1 && f->tag <= PROTOCOL_TAG_KNOWN_MAX);
    switch ((enum protocol_envelope_tag)f->tag) {
    case PROTOCOL_TAG_SOURCE_POSITION:
        rec->source_position = f->i;
        return NULL;
    case PROTOCOL_TAG_KEY:
        rec->key = f->u;
        return NULL;
    case PROTOCOL_TAG_TIMESTAMP:
        rec->timestamp_ms = f->u;
        return NULL;
    case PROTOCOL_TAG_PARTITION_ID:
        rec->partition_id = (uint16_t)(f->u <= TANDEM_PARTITION_ID_MAX ? f->u : 0);
        return f->u <= TANDEM_PARTITION_ID_MAX ? NULL : "partition id is outside 1..8191";
    case PROTOCOL_TAG_RECORD_TYPE:
        rec->record_type = (uint8_t)(f->u <= UINT8_MAX ? f->u : UINT8_MAX);
        return NULL; /* the rule check names unknown record types */
    case PROTOCOL_TAG_VALUE_TYPE:
        rec->value_type = (uint8_t)f->u;
        return f->u <= UINT8_MAX ? NULL : "value type is above 255";
    case PROTOCOL_TAG_INTENT:
        rec->intent = (uint16_t)f->u;
        return f->u <= UINT16_MAX ? NULL : "intent is above 65535";
    case PROTOCOL_TAG_REJECTION_TYPE:
        rec->rejection_type = (uint8_t)f->u;
        return f->u <= UINT8_MAX ? NULL : "rejection type is above 255";
    case PROTOCOL_TAG_REJECTION_REASON:
        rec->rejection_reason = (const char *)f->data;
        rec->rejection_reason_len = f->len;
        return NULL;
    case PROTOCOL_TAG_BROKER_VERSION:
        if (f->u > BROKER_VERSION_PACKED_MAX) {
            return "broker version does not fit 16.16.16 bits";
        }
        rec->broker_version = broker_version_unpack(f->u);
        return NULL;
    case PROTOCOL_TAG_RECORD_VERSION:
        rec->record_version = (uint16_t)f->u;
        return f->u <= UINT16_MAX ? NULL : "record version is above 65535";
    case PROTOCOL_TAG_REQUEST_STREAM_ID:
        rec->request_stream_id = (int32_t)(f->i <= INT32_MAX && f->i >= INT32_MIN ? f->i : 0);
        return f->i <= INT32_MAX && f->i >= INT32_MIN ? NULL : "request stream id is not 32-bit";
    case PROTOCOL_TAG_REQUEST_ID:
        rec->request_id = f->i;
        return NULL;
    case PROTOCOL_TAG_OPERATION_REFERENCE:
        rec->operation_reference = f->i;
        return NULL;
    case PROTOCOL_TAG_BATCH_OPERATION_REFERENCE:
        rec->batch_operation_reference = f->i;
        return NULL;
    case PROTOCOL_TAG_VALUE:
        rec->value = f->data;
        rec->value_len = f->len;
        return NULL;
    }
    TANDEM_UNREACHABLE();
}

int protocol_record_decode(const uint8_t *data, size_t len, tandem_record *rec, bool deep,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(rec != NULL);
    tandem_record_init(rec);
    tandem_field_reader fr;
    tandem_field f;
    uint32_t last = 0;
    uint32_t seen = 0;
    tandem_field_reader_init(&fr, data, len);
    while (tandem_field_next(&fr, &f)) {
        if (f.tag <= last) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "record envelope: field %" PRIu32 " follows field %" PRIu32
                                   " (tags must ascend)",
                                   f.tag, last);
        }
        last = f.tag;
        if (f.tag > PROTOCOL_TAG_KNOWN_MAX) {
            /* Written by a newer broker. Tags ascend, so everything from here
             * to the end is unknown to this build: keep it as one view. */
            if (rec->ext == NULL) {
                rec->ext = f.raw;
                rec->ext_len = len - (size_t)(f.raw - data);
            }
            continue;
        }
        const envelope_field *known = &envelope[f.tag];
        if (f.wire != known->wire) {
            return tandem_diag_set(
                diag, TANDEM_ECORRUPT,
                "record envelope: %s (field %" PRIu32 ") has wire type %s, expected %s",
                known->name, f.tag, tandem_wire_name(f.wire), tandem_wire_name(known->wire));
        }
        const char *broken = assign_field(rec, &f);
        if (broken != NULL) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT, "record envelope: %s", broken);
        }
        seen |= UINT32_C(1) << f.tag;
    }
    if (fr.error != 0) {
        return tandem_field_reader_diag(&fr, diag, "record envelope");
    }
    for (uint32_t tag = 1; tag <= PROTOCOL_TAG_KNOWN_MAX; tag++) {
        if (envelope[tag].required && (seen & (UINT32_C(1) << tag)) == 0) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "record envelope: required %s (field %" PRIu32 ") is missing",
                                   envelope[tag].name, tag);
        }
    }
    const char *broken = record_rule_broken(rec);
    if (broken != NULL) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "record envelope: %s", broken);
    }
    if (!deep) {
        return 0;
    }
    int rc = tandem_fields_validate(rec->value, rec->value_len, diag, "record value");
    if (rc == 0 && rec->ext != NULL) {
        rc = protocol_fields_validate_at(rec->ext, rec->ext_len, 0, 0, diag,
                                         "record envelope extension");
    }
    return rc;
}

int tandem_record_decode(const void *data, size_t len, tandem_record *rec, tandem_diag *diag)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(rec != NULL);
    return protocol_record_decode(data, len, rec, true, diag);
}

static bool views_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    TANDEM_ASSERT(a != NULL || a_len == 0);
    TANDEM_ASSERT(b != NULL || b_len == 0);
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

bool tandem_record_equal(const tandem_record *a, const tandem_record *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    return a->position == b->position && a->source_position == b->source_position &&
           a->key == b->key && a->timestamp_ms == b->timestamp_ms &&
           a->partition_id == b->partition_id && a->record_type == b->record_type &&
           a->value_type == b->value_type && a->intent == b->intent &&
           a->rejection_type == b->rejection_type &&
           views_equal(a->rejection_reason, a->rejection_reason_len, b->rejection_reason,
                       b->rejection_reason_len) &&
           broker_version_pack(a->broker_version) == broker_version_pack(b->broker_version) &&
           a->record_version == b->record_version && a->request_stream_id == b->request_stream_id &&
           a->request_id == b->request_id && a->operation_reference == b->operation_reference &&
           a->batch_operation_reference == b->batch_operation_reference &&
           views_equal(a->value, a->value_len, b->value, b->value_len) &&
           views_equal(a->ext, a->ext_len, b->ext, b->ext_len);
}
