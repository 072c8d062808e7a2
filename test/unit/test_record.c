/* One record: envelope codec, compatibility with newer envelopes, name
 * tables, and the printer's exact output. */
#include "test.h"

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"
#include "protocol/field.h"
#include "protocol/key.h"
#include "protocol/print.h"
#include "protocol/record.h"
#include "protocol/types.h"

/* A JOB COMPLETE command with one field of every wire type; `value` owns the
 * value bytes the record points at. */
static void sample_command(tandem_record *rec, tandem_buf *value)
{
    tandem_field_writer w;
    tandem_field_writer_init(&w, value);
    tandem_field_put_cstr(&w, 1, "worker \"a\"\n");
    tandem_field_put_uint(&w, 2, 3);
    tandem_field_put_int(&w, 3, -7);
    tandem_field_put_fixed64(&w, 4, 42);
    tandem_field_put_bool(&w, 5, true);
    tandem_field_put_bytes(&w, 6, "\x00\xff", 2);
    tandem_field_begin(&w, 7);
    tandem_field_put_cstr(&w, 1, "eu");
    tandem_field_end(&w);
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_record_init(rec);
    rec->position = 12;
    rec->source_position = 11;
    rec->key = tandem_key_encode(1, 1);
    rec->timestamp_ms = UINT64_C(1735787045678); /* 2025-01-02T03:04:05.678Z */
    rec->partition_id = 1;
    rec->record_type = TANDEM_RECORD_COMMAND;
    rec->value_type = TANDEM_VALUE_JOB;
    rec->intent = TANDEM_INTENT_JOB_COMPLETE;
    rec->value = value->data;
    rec->value_len = value->len;
}

/* A rejection with every optional envelope field set. */
static void sample_rejection(tandem_record *rec)
{
    static const char reason[] = "Expected job with key '5' to exist";
    tandem_record_init(rec);
    rec->position = 13;
    rec->source_position = 12;
    rec->partition_id = 2;
    rec->record_type = TANDEM_RECORD_COMMAND_REJECTION;
    rec->value_type = TANDEM_VALUE_JOB;
    rec->intent = TANDEM_INTENT_JOB_COMPLETE;
    rec->rejection_type = TANDEM_REJECTION_NOT_FOUND;
    rec->rejection_reason = reason;
    rec->rejection_reason_len = sizeof(reason) - 1;
    rec->request_stream_id = 3;
    rec->request_id = 77;
    rec->operation_reference = 5;
    rec->batch_operation_reference = 9;
    rec->record_version = 2;
    rec->broker_version = (tandem_broker_version){8, 8, 0};
}

static void roundtrip(const tandem_record *rec)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_OK(tandem_record_encode(&b, rec, &d));
    tandem_record back;
    CHECK_OK(tandem_record_decode(b.data, b.len, &back, &d));
    CHECK_EQ_U64(0, back.position); /* the batch carries positions */
    back.position = rec->position;
    CHECK(tandem_record_equal(rec, &back));
    /* Views point into the encoded bytes. */
    CHECK(back.value_len == 0 || (back.value >= b.data && back.value < b.data + b.len));
    tandem_buf_free(&b);
}

static void test_init_defaults(void)
{
    tandem_record rec;
    memset(&rec, 0x5a, sizeof(rec));
    tandem_record_init(&rec);
    CHECK_EQ_I64(-1, rec.source_position);
    CHECK_EQ_U64(TANDEM_KEY_NONE, rec.key);
    CHECK_EQ_U64(TANDEM_REJECTION_NONE, rec.rejection_type);
    CHECK_EQ_U64(1, rec.record_version);
    CHECK_EQ_I64(-1, rec.request_stream_id);
    CHECK_EQ_I64(-1, rec.request_id);
    CHECK_EQ_I64(-1, rec.operation_reference);
    CHECK_EQ_I64(-1, rec.batch_operation_reference);
    CHECK(rec.value == NULL && rec.value_len == 0 && rec.ext == NULL && rec.ext_len == 0);
    CHECK(rec.rejection_reason == NULL && rec.rejection_reason_len == 0);
}

static void test_minimal_record_bytes(void)
{
    tandem_record rec;
    tandem_record_init(&rec);
    rec.partition_id = 1;
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_record_encode(&b, &rec, NULL));
    /* timestamp, partition, record type, value type, intent, record version, empty value */
    static const uint8_t want[] = {0x18, 0x00, 0x20, 0x01, 0x28, 0x00, 0x30, 0x00,
                                   0x38, 0x00, 0x58, 0x01, 0x86, 0x01, 0x00};
    CHECK_EQ_U64(sizeof(want), b.len);
    CHECK(memcmp(want, b.data, sizeof(want)) == 0);
    roundtrip(&rec);
    tandem_buf_free(&b);
}

static void test_roundtrip_every_record_type(void)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_record rec;
    sample_command(&rec, &value);
    roundtrip(&rec);
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.intent = TANDEM_INTENT_JOB_COMPLETED;
    roundtrip(&rec);
    /* All optional fields absent. */
    rec.source_position = TANDEM_NONE;
    rec.key = TANDEM_KEY_NONE;
    rec.value = NULL;
    rec.value_len = 0;
    roundtrip(&rec);
    /* All present, on a rejection. */
    sample_rejection(&rec);
    roundtrip(&rec);
    /* A rejection with a type but no reason. */
    rec.rejection_reason = NULL;
    rec.rejection_reason_len = 0;
    roundtrip(&rec);
    /* Extremes of every field. */
    tandem_record_init(&rec);
    rec.source_position = INT64_MAX;
    rec.key = UINT64_MAX - 1;
    rec.timestamp_ms = UINT64_MAX;
    rec.partition_id = TANDEM_PARTITION_ID_MAX;
    rec.record_type = TANDEM_RECORD_COMMAND;
    rec.value_type = 255;
    rec.intent = UINT16_MAX;
    rec.record_version = UINT16_MAX;
    rec.request_stream_id = INT32_MAX;
    rec.request_id = INT64_MAX;
    rec.operation_reference = 0;
    rec.batch_operation_reference = INT64_MAX;
    rec.broker_version = (tandem_broker_version){UINT16_MAX, UINT16_MAX, UINT16_MAX};
    roundtrip(&rec);
    tandem_buf_free(&value);
}

static void test_random_roundtrip(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_rand *rnd = &r.base;
    uint8_t value[8] = {0x08, 0x01, 0x14, 0x02, 'o', 'k', 0x18, 0x00};
    for (uint64_t i = 0; i < test_iterations(5000); i++) {
        tandem_record rec;
        tandem_record_init(&rec);
        rec.record_type = (uint8_t)tandem_rand_below(rnd, 3);
        rec.partition_id = (uint16_t)(1 + tandem_rand_below(rnd, TANDEM_PARTITION_ID_MAX));
        rec.value_type = (uint8_t)tandem_rand_u64(rnd);
        rec.intent = (uint16_t)tandem_rand_u64(rnd);
        rec.timestamp_ms = tandem_rand_u64(rnd) >> tandem_rand_below(rnd, 64);
        if (tandem_rand_chance(rnd, 1, 2)) {
            rec.source_position = (int64_t)(tandem_rand_u64(rnd) >> 1);
        }
        if (tandem_rand_chance(rnd, 1, 2)) {
            rec.key = tandem_rand_u64(rnd) >> tandem_rand_below(rnd, 64);
        }
        if (rec.record_type == TANDEM_RECORD_COMMAND_REJECTION) {
            rec.rejection_type = (uint8_t)tandem_rand_below(rnd, 255);
            rec.rejection_reason = "why";
            rec.rejection_reason_len = (size_t)tandem_rand_below(rnd, 4);
        }
        if (tandem_rand_chance(rnd, 1, 2)) {
            rec.request_stream_id = (int32_t)tandem_rand_below(rnd, INT32_MAX);
            rec.request_id = (int64_t)tandem_rand_below(rnd, INT64_MAX);
        }
        rec.value = value;
        rec.value_len = tandem_rand_chance(rnd, 1, 2) ? sizeof(value) : 0;
        roundtrip(&rec);
    }
}

static void check_encode_refused(const tandem_record *rec, const char *message)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_RC(TANDEM_EINVAL, tandem_record_encode(&b, rec, &d));
    CHECK_EQ_U64(TANDEM_EINVAL, d.code);
    CHECK_STREQ(message, d.message);
    tandem_buf_free(&b);
}

static void test_encode_refuses_broken_records(void)
{
    tandem_record rec;
    tandem_record_init(&rec);
    check_encode_refused(&rec, "record: partition id is outside 1..8191");
    rec.partition_id = 8192;
    check_encode_refused(&rec, "record: partition id is outside 1..8191");
    rec.partition_id = 1;
    rec.record_type = 3;
    check_encode_refused(&rec, "record: record type is not EVENT, COMMAND or COMMAND_REJECTION");
    rec.record_type = TANDEM_RECORD_COMMAND_REJECTION;
    check_encode_refused(&rec, "record: a command rejection has no rejection type");
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.rejection_reason = "x";
    rec.rejection_reason_len = 1;
    check_encode_refused(&rec,
                         "record: a record that is not a rejection has a rejection type or reason");
    rec.rejection_reason_len = 0;
    rec.source_position = -2;
    check_encode_refused(&rec, "record: source position is below -1");
    rec.source_position = TANDEM_NONE;
    rec.request_id = -7;
    check_encode_refused(&rec, "record: a request id or operation reference is below -1");
    rec.request_id = TANDEM_NONE;
    static const uint8_t bad_value[] = {0x0b, 0x07};
    rec.value = bad_value;
    rec.value_len = sizeof(bad_value);
    check_encode_refused(&rec, "record value: bool value is neither 0 nor 1 at byte 0");
    rec.value = NULL;
    rec.value_len = 0;
    static const uint8_t known_ext[] = {0x20, 0x01}; /* field 4: the partition id */
    rec.ext = known_ext;
    rec.ext_len = sizeof(known_ext);
    check_encode_refused(&rec, "record envelope: extension field 4 is not above field 16 (tags "
                               "must ascend)");
}

/* Envelope bytes built field by field, for decoders to refuse. */
typedef struct envelope_builder {
    tandem_buf buf;
    tandem_field_writer w;
} envelope_builder;

static void builder_start(envelope_builder *e)
{
    tandem_buf_init(&e->buf);
    tandem_field_writer_init(&e->w, &e->buf);
}

static void check_decode_refused(envelope_builder *e, const char *message)
{
    CHECK_OK(tandem_field_writer_finish(&e->w));
    tandem_record rec;
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_RC(TANDEM_ECORRUPT, tandem_record_decode(e->buf.data, e->buf.len, &rec, &d));
    CHECK_STREQ(message, d.message);
    tandem_buf_free(&e->buf);
}

/* Writes the required fields up to (not including) tag `stop`. */
static void put_required_before(envelope_builder *e, uint32_t stop)
{
    static const uint32_t tags[] = {3, 4, 5, 6, 7, 11};
    static const uint64_t values[] = {0, 1, 0, 0, 0, 1};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && tags[i] < stop; i++) {
        tandem_field_put_uint(&e->w, tags[i], values[i]);
    }
}

static void test_decode_refuses_broken_envelopes(void)
{
    envelope_builder e;
    builder_start(&e);
    put_required_before(&e, 7);
    tandem_field_put_uint(&e.w, 11, 1);
    tandem_field_put_nested(&e.w, 16, NULL, 0);
    check_decode_refused(&e, "record envelope: required intent (field 7) is missing");

    builder_start(&e);
    put_required_before(&e, 17);
    check_decode_refused(&e, "record envelope: required value (field 16) is missing");

    builder_start(&e);
    put_required_before(&e, 7);
    tandem_field_put_int(&e.w, 7, 1);
    check_decode_refused(&e, "record envelope: intent (field 7) has wire type sint, expected uint");

    builder_start(&e);
    tandem_field_put_uint(&e.w, 4, 1);
    tandem_field_put_uint(&e.w, 3, 1);
    check_decode_refused(&e, "record envelope: field 3 follows field 4 (tags must ascend)");

    builder_start(&e);
    tandem_field_put_uint(&e.w, 4, 1);
    tandem_field_put_uint(&e.w, 4, 1);
    check_decode_refused(&e, "record envelope: field 4 follows field 4 (tags must ascend)");

    builder_start(&e);
    tandem_field_put_uint(&e.w, 3, 0);
    tandem_field_put_uint(&e.w, 4, 9000);
    check_decode_refused(&e, "record envelope: partition id is outside 1..8191");

    builder_start(&e);
    tandem_field_put_uint(&e.w, 3, 0);
    tandem_field_put_uint(&e.w, 4, 0);
    put_required_before(&e, 17);
    check_decode_refused(&e, "record envelope: field 3 follows field 4 (tags must ascend)");

    builder_start(&e);
    put_required_before(&e, 5);
    tandem_field_put_uint(&e.w, 5, 7);
    tandem_field_put_uint(&e.w, 6, 0);
    tandem_field_put_uint(&e.w, 7, 0);
    tandem_field_put_uint(&e.w, 11, 1);
    tandem_field_put_nested(&e.w, 16, NULL, 0);
    check_decode_refused(&e, "record envelope: record type is not EVENT, COMMAND or "
                             "COMMAND_REJECTION");

    builder_start(&e);
    put_required_before(&e, 6);
    tandem_field_put_uint(&e.w, 6, 256);
    check_decode_refused(&e, "record envelope: value type is above 255");

    builder_start(&e);
    put_required_before(&e, 7);
    tandem_field_put_uint(&e.w, 7, 65536);
    check_decode_refused(&e, "record envelope: intent is above 65535");

    builder_start(&e);
    put_required_before(&e, 8); /* an EVENT */
    tandem_field_put_uint(&e.w, 8, 1);
    tandem_field_put_uint(&e.w, 11, 1);
    tandem_field_put_nested(&e.w, 16, NULL, 0);
    check_decode_refused(&e, "record envelope: a record that is not a rejection has a rejection "
                             "type or reason");

    builder_start(&e);
    put_required_before(&e, 8);
    tandem_field_put_uint(&e.w, 10, UINT64_C(1) << 48);
    check_decode_refused(&e, "record envelope: broker version does not fit 16.16.16 bits");

    builder_start(&e);
    put_required_before(&e, 12);
    tandem_field_put_int(&e.w, 12, INT64_C(1) << 31);
    check_decode_refused(&e, "record envelope: request stream id is not 32-bit");

    builder_start(&e);
    tandem_field_put_int(&e.w, 1, -5);
    put_required_before(&e, 17);
    tandem_field_put_nested(&e.w, 16, NULL, 0);
    check_decode_refused(&e, "record envelope: source position is below -1");

    builder_start(&e);
    put_required_before(&e, 17);
    tandem_field_begin(&e.w, 16);
    tandem_field_put_bytes(&e.w, 1, "\x0b\x09", 2);
    tandem_field_end(&e.w);
    CHECK_OK(tandem_field_writer_finish(&e.w));
    e.buf.data[e.buf.len - 4] = 0x0e; /* bytes -> nested: a malformed field inside */
    check_decode_refused(&e, "record value: bool value is neither 0 nor 1 at byte 2");

    builder_start(&e);
    put_required_before(&e, 17);
    tandem_field_put_nested(&e.w, 16, NULL, 0);
    CHECK_OK(tandem_field_writer_finish(&e.w));
    tandem_buf_put_u8(&e.buf, 0x0f);
    check_decode_refused(&e, "record envelope: wire type 7 is reserved at byte 15");
}

static void test_old_reader_meets_new_envelope_field(void)
{
    tandem_buf value = TANDEM_BUF_INIT, bytes = TANDEM_BUF_INIT, again = TANDEM_BUF_INIT;
    tandem_record rec;
    sample_command(&rec, &value);
    CHECK_OK(tandem_record_encode(&bytes, &rec, NULL));
    /* A newer broker adds envelope fields 17 and 20 after all known ones. */
    size_t known_len = bytes.len;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &bytes);
    tandem_field_put_cstr(&w, 17, "zone-b");
    tandem_field_begin(&w, 20);
    tandem_field_put_bool(&w, 1, true);
    tandem_field_end(&w);
    CHECK_OK(tandem_field_writer_finish(&w));

    tandem_record back;
    CHECK_OK(tandem_record_decode(bytes.data, bytes.len, &back, NULL));
    CHECK(back.ext == bytes.data + known_len);
    CHECK_EQ_U64(bytes.len - known_len, back.ext_len);
    back.position = rec.position;
    rec.ext = back.ext;
    rec.ext_len = back.ext_len;
    CHECK(tandem_record_equal(&rec, &back));
    /* Re-encoding keeps the new fields byte for byte. */
    CHECK_OK(tandem_record_encode(&again, &back, NULL));
    CHECK_EQ_U64(bytes.len, again.len);
    CHECK(memcmp(bytes.data, again.data, bytes.len) == 0);
    /* And the printer shows them. */
    tandem_buf line = TANDEM_BUF_INIT;
    CHECK_OK(tandem_record_format(&back, &line));
    tandem_buf_put_u8(&line, 0);
    CHECK_CONTAINS((const char *)line.data, " ext={17=\"zone-b\" 20={1=true}} value={");
    tandem_buf_free(&line);
    tandem_buf_free(&value);
    tandem_buf_free(&bytes);
    tandem_buf_free(&again);
}

static void test_value_type_names(void)
{
    static const struct {
        unsigned num;
        const char *name;
    } all[] = {
        {0, "JOB"},
        {4, "DEPLOYMENT"},
        {5, "PROCESS_INSTANCE"},
        {6, "INCIDENT"},
        {10, "MESSAGE"},
        {11, "MESSAGE_SUBSCRIPTION"},
        {12, "PROCESS_MESSAGE_SUBSCRIPTION"},
        {14, "JOB_BATCH"},
        {15, "TIMER"},
        {16, "MESSAGE_START_EVENT_SUBSCRIPTION"},
        {17, "VARIABLE"},
        {18, "VARIABLE_DOCUMENT"},
        {19, "PROCESS_INSTANCE_CREATION"},
        {20, "ERROR"},
        {21, "PROCESS_INSTANCE_RESULT"},
        {22, "PROCESS"},
        {23, "DEPLOYMENT_DISTRIBUTION"},
        {24, "PROCESS_EVENT"},
        {25, "DECISION"},
        {26, "DECISION_REQUIREMENTS"},
        {27, "DECISION_EVALUATION"},
        {28, "PROCESS_INSTANCE_MODIFICATION"},
        {29, "ESCALATION"},
        {30, "SIGNAL_SUBSCRIPTION"},
        {31, "SIGNAL"},
        {32, "RESOURCE_DELETION"},
        {33, "COMMAND_DISTRIBUTION"},
        {34, "PROCESS_INSTANCE_BATCH"},
        {35, "MESSAGE_BATCH"},
        {36, "FORM"},
        {37, "USER_TASK"},
        {38, "PROCESS_INSTANCE_MIGRATION"},
        {39, "COMPENSATION_SUBSCRIPTION"},
        {40, "MESSAGE_CORRELATION"},
        {41, "USER"},
        {42, "CLOCK"},
        {43, "AUTHORIZATION"},
        {44, "ROLE"},
        {45, "TENANT"},
        {46, "GROUP"},
        {47, "MAPPING"},
        {48, "IDENTITY_SETUP"},
        {49, "RESOURCE"},
        {50, "BATCH_OPERATION_CREATION"},
        {51, "BATCH_OPERATION_EXECUTION"},
        {52, "BATCH_OPERATION_CHUNK"},
        {53, "AD_HOC_SUB_PROCESS_ACTIVITY_ACTIVATION"},
        {54, "BATCH_OPERATION_LIFECYCLE_MANAGEMENT"},
        {55, "BATCH_OPERATION_PARTITION_LIFECYCLE"},
        {56, "ASYNC_REQUEST"},
        {200, "PROBE"},    /* tandem's own */
        {201, "EXPORTER"}, /* tandem's own */
        {253, "SCALE"},
        {254, "CHECKPOINT"},
    };
    tandem_name_buf nb;
    unsigned known = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        CHECK_STREQ(all[i].name, tandem_value_type_name(all[i].num, &nb));
        CHECK_EQ_I64(all[i].num, tandem_value_type_parse(all[i].name));
    }
    for (unsigned vt = 0; vt < 300; vt++) {
        known += tandem_value_type_known(vt);
    }
    CHECK_EQ_U64(sizeof(all) / sizeof(all[0]), known);
    CHECK_STREQ("UNKNOWN(1)", tandem_value_type_name(1, &nb));
    CHECK_STREQ("UNKNOWN(255)", tandem_value_type_name(255, &nb));
    CHECK_STREQ("UNKNOWN(4294967295)", tandem_value_type_name(UINT32_MAX, &nb));
    CHECK(tandem_value_type_name(1, &nb) == nb.text);
    CHECK_EQ_I64(-1, tandem_value_type_parse("job"));
    CHECK_EQ_I64(-1, tandem_value_type_parse("UNKNOWN(1)"));
}

static void test_intent_names(void)
{
    static const struct {
        unsigned vt, intent;
        const char *name;
    } some[] = {
        {TANDEM_VALUE_JOB, 0, "CREATED"},
        {TANDEM_VALUE_JOB, 2, "COMPLETED"},
        {TANDEM_VALUE_JOB, 20, "UPDATE"},
        {TANDEM_VALUE_JOB_BATCH, 1, "ACTIVATED"},
        {TANDEM_VALUE_DEPLOYMENT, 0, "CREATE"},
        {TANDEM_VALUE_DEPLOYMENT, 6, "REDEPLOY"},
        {TANDEM_VALUE_PROCESS, 2, "DELETED"},
        {TANDEM_VALUE_PROCESS_INSTANCE, 1, "SEQUENCE_FLOW_TAKEN"},
        {TANDEM_VALUE_PROCESS_INSTANCE, 3, "ELEMENT_ACTIVATED"},
        {TANDEM_VALUE_PROCESS_INSTANCE, 14, "CONTINUE_TERMINATING_ELEMENT"},
        {TANDEM_VALUE_PROCESS_INSTANCE_CREATION, 2, "CREATE_WITH_AWAITING_RESULT"},
        {TANDEM_VALUE_PROCESS_INSTANCE_RESULT, 0, "COMPLETED"},
        {TANDEM_VALUE_INCIDENT, 1, "RESOLVE"},
        {TANDEM_VALUE_VARIABLE, 1, "UPDATED"},
        {TANDEM_VALUE_VARIABLE_DOCUMENT, 2, "UPDATING"},
        {TANDEM_VALUE_MESSAGE, 3, "EXPIRED"},
        {TANDEM_VALUE_MESSAGE_SUBSCRIPTION, 8, "CORRELATING"},
        {TANDEM_VALUE_PROCESS_MESSAGE_SUBSCRIPTION, 0, "CREATING"},
        {TANDEM_VALUE_PROCESS_MESSAGE_SUBSCRIPTION, 10, "MIGRATED"},
        {TANDEM_VALUE_TIMER, 1, "TRIGGER"},
        {TANDEM_VALUE_COMMAND_DISTRIBUTION, 8, "FINISH"},
        {TANDEM_VALUE_USER_TASK, 14, "MIGRATED"},
        {TANDEM_VALUE_SIGNAL, 1, "BROADCASTED"},
        {TANDEM_VALUE_CLOCK, 1, "PINNED"},
    };
    tandem_name_buf nb;
    for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
        CHECK_STREQ(some[i].name, tandem_intent_name(some[i].vt, some[i].intent, &nb));
        CHECK(tandem_intent_known(some[i].vt, some[i].intent));
    }
    CHECK_EQ_U64(2, TANDEM_INTENT_TIMER_TRIGGERED);
    CHECK_STREQ("UNKNOWN(21)", tandem_intent_name(TANDEM_VALUE_JOB, 21, &nb));
    CHECK_STREQ("UNKNOWN(0)", tandem_intent_name(1, 0, &nb));
    CHECK(!tandem_intent_known(1, 0));
    /* Every name parses back to its number within its value type. */
    unsigned named = 0;
    for (unsigned vt = 0; vt < 256; vt++) {
        for (unsigned intent = 0; intent < 64; intent++) {
            if (!tandem_intent_known(vt, intent)) {
                continue;
            }
            named++;
            CHECK(tandem_value_type_known(vt));
            const char *name = tandem_intent_name(vt, intent, &nb);
            CHECK(name != nb.text);
            CHECK_EQ_I64(intent, tandem_intent_parse(vt, name));
        }
    }
    CHECK(named > 120);
    CHECK_EQ_I64(-1, tandem_intent_parse(TANDEM_VALUE_TIMER, "COMPLETED"));
}

static void test_record_and_rejection_type_names(void)
{
    tandem_name_buf nb;
    CHECK_STREQ("EVENT", tandem_record_type_name(0, &nb));
    CHECK_STREQ("COMMAND", tandem_record_type_name(1, &nb));
    CHECK_STREQ("COMMAND_REJECTION", tandem_record_type_name(2, &nb));
    CHECK_STREQ("UNKNOWN(3)", tandem_record_type_name(3, &nb));
    CHECK_EQ_I64(2, tandem_record_type_parse("COMMAND_REJECTION"));
    CHECK_EQ_I64(-1, tandem_record_type_parse("REJECTION"));
    static const char *const rejections[] = {
        "INVALID_ARGUMENT", "NOT_FOUND",        "ALREADY_EXISTS",
        "INVALID_STATE",    "PROCESSING_ERROR", "EXCEEDED_BATCH_RECORD_SIZE",
        "UNAUTHORIZED",     "FORBIDDEN",
    };
    for (unsigned i = 0; i < 8; i++) {
        CHECK_STREQ(rejections[i], tandem_rejection_type_name(i, &nb));
    }
    CHECK_STREQ("UNKNOWN(8)", tandem_rejection_type_name(8, &nb));
    CHECK_STREQ("NONE", tandem_rejection_type_name(TANDEM_REJECTION_NONE, &nb));
}

static void check_line(const tandem_record *rec, const char *want)
{
    tandem_buf line = TANDEM_BUF_INIT;
    CHECK_OK(tandem_record_format(rec, &line));
    CHECK_OK(tandem_buf_put_u8(&line, 0));
    CHECK_STREQ(want, (const char *)line.data);
    tandem_buf_free(&line);
}

static void test_printer_exact_output(void)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_record rec;
    sample_command(&rec, &value);
    check_line(&rec, "pos=12 src=11 key=2251799813685249(p1:1) ts=2025-01-02T03:04:05.678Z "
                     "partition=1 COMMAND JOB COMPLETE value={1=\"worker \\\"a\\\"\\n\" 2=3 "
                     "3=-7 4=0x000000000000002a 5=true 6=x'00ff' 7={1=\"eu\"}}\n");

    static const uint8_t ext[] = {0x8c, 0x01, 0x03, 'n', 'e', 'w'}; /* 17="new" */
    sample_rejection(&rec);
    rec.ext = ext;
    rec.ext_len = sizeof(ext);
    check_line(&rec, "pos=13 src=12 key=- ts=1970-01-01T00:00:00.000Z partition=2 "
                     "COMMAND_REJECTION JOB COMPLETE rejection=NOT_FOUND reason=\"Expected job "
                     "with key '5' to exist\" request=3:77 op=5 batch_op=9 rv=2 broker=8.8.0 "
                     "ext={17=\"new\"} value={}\n");

    tandem_record_init(&rec);
    rec.partition_id = 3;
    rec.value_type = 99;
    rec.intent = 7;
    rec.timestamp_ms = UINT64_MAX;
    check_line(&rec, "pos=0 src=- key=- ts=18446744073709551615ms partition=3 EVENT UNKNOWN(99) "
                     "UNKNOWN(7) value={}\n");
    tandem_buf_free(&value);
}

static void test_printer_long_and_malformed_values(void)
{
    tandem_buf value = TANDEM_BUF_INIT;
    char text[200];
    memset(text, 'a', sizeof(text));
    text[0] = '\x01';
    tandem_field_writer w;
    tandem_field_writer_init(&w, &value);
    tandem_field_put_string(&w, 1, text, sizeof(text));
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_buf out = TANDEM_BUF_INIT;
    CHECK_OK(tandem_fields_format(value.data, value.len, &out));
    char want[300];
    snprintf(want, sizeof(want), "{1=\"\\x01%.*s\"...(200 bytes)}", TANDEM_PRINT_BYTES_MAX - 1,
             text + 1);
    CHECK_EQ_U64(strlen(want), out.len);
    CHECK(memcmp(want, out.data, out.len) == 0);

    static const uint8_t bad[] = {0x08, 0x01, 0x0b, 0x05};
    tandem_buf_reset(&out);
    CHECK_OK(tandem_fields_format(bad, sizeof(bad), &out));
    tandem_buf_put_u8(&out, 0);
    CHECK_STREQ("{1=1 <malformed: bool value is neither 0 nor 1 at byte 2>}",
                (const char *)out.data);
    static const uint8_t bad_nested[] = {0x0e, 0x01, 0x80};
    tandem_buf_reset(&out);
    CHECK_OK(tandem_fields_format(bad_nested, sizeof(bad_nested), &out));
    tandem_buf_put_u8(&out, 0);
    CHECK_STREQ("{1={<malformed: field key is cut off at byte 0>}}", (const char *)out.data);

    /* tandem_record_print writes the same line to a stream. */
    tandem_record rec;
    tandem_record_init(&rec);
    rec.partition_id = 1;
    rec.value = bad;
    rec.value_len = sizeof(bad);
    char *mem = NULL;
    size_t mem_len = 0;
    FILE *f = open_memstream(&mem, &mem_len);
    CHECK(f != NULL);
    CHECK_OK(tandem_record_print(&rec, f));
    CHECK(fclose(f) == 0);
    CHECK_STREQ("pos=0 src=- key=- ts=1970-01-01T00:00:00.000Z partition=1 EVENT JOB CREATED "
                "value={1=1 <malformed: bool value is neither 0 nor 1 at byte 2>}\n",
                mem);
    free(mem);
    tandem_buf_free(&out);
    tandem_buf_free(&value);
}

static const tandem_test cases[] = {
    {"init_defaults", test_init_defaults},
    {"minimal_record_bytes", test_minimal_record_bytes},
    {"roundtrip_every_record_type", test_roundtrip_every_record_type},
    {"random_roundtrip", test_random_roundtrip},
    {"encode_refuses_broken_records", test_encode_refuses_broken_records},
    {"decode_refuses_broken_envelopes", test_decode_refuses_broken_envelopes},
    {"old_reader_meets_new_envelope_field", test_old_reader_meets_new_envelope_field},
    {"value_type_names", test_value_type_names},
    {"intent_names", test_intent_names},
    {"record_and_rejection_type_names", test_record_and_rejection_type_names},
    {"printer_exact_output", test_printer_exact_output},
    {"printer_long_and_malformed_values", test_printer_long_and_malformed_values},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
