/* The tagged field encoding of values: exact bytes, malformed input, unknown
 * fields kept across decode and re-encode. */
#include "test.h"

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"
#include "protocol/field.h"

static void check_bytes(const tandem_buf *b, const uint8_t *want, size_t len)
{
    CHECK_EQ_U64(len, b->len);
    for (size_t i = 0; i < len; i++) {
        CHECK_MSG(b->data[i] == want[i], "byte %zu is 0x%02x, expected 0x%02x", i, b->data[i],
                  want[i]);
    }
}

static void test_exact_bytes(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    CHECK_OK(tandem_field_put_uint(&w, 1, 150));                   /* 08 96 01 */
    CHECK_OK(tandem_field_put_int(&w, 2, -1));                     /* 11 01 */
    CHECK_OK(tandem_field_put_fixed64(&w, 3, 0x0102030405060708)); /* 1a 08..01 */
    CHECK_OK(tandem_field_put_bool(&w, 4, true));                  /* 23 01 */
    CHECK_OK(tandem_field_put_cstr(&w, 5, "hi"));                  /* 2c 02 68 69 */
    CHECK_OK(tandem_field_put_bytes(&w, 6, "\x00\xff", 2));        /* 35 02 00 ff */
    CHECK_OK(tandem_field_begin(&w, 7));                           /* 3e 02 */
    CHECK_OK(tandem_field_put_int(&w, 1, 1));                      /*   09 02 */
    CHECK_OK(tandem_field_end(&w));
    CHECK_OK(tandem_field_writer_finish(&w));
    static const uint8_t want[] = {0x08, 0x96, 0x01, 0x11, 0x01, 0x1a, 0x08, 0x07, 0x06, 0x05,
                                   0x04, 0x03, 0x02, 0x01, 0x23, 0x01, 0x2c, 0x02, 'h',  'i',
                                   0x35, 0x02, 0x00, 0xff, 0x3e, 0x02, 0x09, 0x02};
    check_bytes(&b, want, sizeof(want));
    tandem_buf_free(&b);
}

static void test_read_every_wire_type(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    tandem_field_put_uint(&w, 1, UINT64_MAX);
    tandem_field_put_int(&w, 2, INT64_MIN);
    tandem_field_put_int(&w, 3, INT64_MAX);
    tandem_field_put_fixed64(&w, 4, 42);
    tandem_field_put_bool(&w, 5, false);
    tandem_field_put_string(&w, 6, "abc", 3);
    tandem_field_put_bytes(&w, 7, "", 0);
    tandem_field_begin(&w, TANDEM_FIELD_TAG_MAX);
    tandem_field_put_cstr(&w, 1, "inner");
    tandem_field_end(&w);
    CHECK_OK(tandem_field_writer_finish(&w));

    tandem_field_reader fr;
    tandem_field f;
    tandem_field_reader_init(&fr, b.data, b.len);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 1 && f.wire == TANDEM_WIRE_UINT);
    CHECK_EQ_U64(UINT64_MAX, f.u);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 2 && f.wire == TANDEM_WIRE_SINT);
    CHECK_EQ_I64(INT64_MIN, f.i);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 3);
    CHECK_EQ_I64(INT64_MAX, f.i);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 4 && f.wire == TANDEM_WIRE_FIXED64);
    CHECK_EQ_U64(42, f.u);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 5 && f.wire == TANDEM_WIRE_BOOL && f.u == 0);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 6 && f.wire == TANDEM_WIRE_STRING);
    CHECK(f.len == 3 && memcmp(f.data, "abc", 3) == 0);
    CHECK(tandem_field_next(&fr, &f) && f.tag == 7 && f.wire == TANDEM_WIRE_BYTES && f.len == 0);
    CHECK(tandem_field_next(&fr, &f) && f.tag == TANDEM_FIELD_TAG_MAX);
    CHECK(f.wire == TANDEM_WIRE_NESTED);
    tandem_field inner;
    CHECK_OK(tandem_fields_find(f.data, f.len, 1, &inner));
    CHECK(inner.len == 5 && memcmp(inner.data, "inner", 5) == 0);
    CHECK_RC(TANDEM_ENOENT, tandem_fields_find(f.data, f.len, 2, &inner));
    CHECK(!tandem_field_next(&fr, &f));
    CHECK_EQ_U64(0, fr.error);
    CHECK_EQ_U64(b.len, fr.off);
    CHECK_OK(tandem_fields_validate(b.data, b.len, NULL, "value"));
    tandem_buf_free(&b);
}

static void test_nested_long_content_and_depth(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    /* Content over 127 bytes needs a two-byte length prefix: the content moves. */
    char big[300];
    memset(big, 'z', sizeof(big));
    tandem_field_begin(&w, 1);
    tandem_field_put_string(&w, 2, big, sizeof(big));
    tandem_field_end(&w);
    /* TANDEM_FIELD_DEPTH_MAX levels are fine. */
    for (int i = 0; i < TANDEM_FIELD_DEPTH_MAX; i++) {
        CHECK_OK(tandem_field_begin(&w, 3));
    }
    CHECK_OK(tandem_field_put_uint(&w, 4, 7));
    for (int i = 0; i < TANDEM_FIELD_DEPTH_MAX; i++) {
        CHECK_OK(tandem_field_end(&w));
    }
    CHECK_OK(tandem_field_writer_finish(&w));
    CHECK_OK(tandem_fields_validate(b.data, b.len, NULL, "value"));
    tandem_field f;
    CHECK_OK(tandem_fields_find(b.data, b.len, 1, &f));
    CHECK_EQ_U64(1 + 2 + 300, f.len);
    CHECK_EQ_U64(0x0e, f.raw[0]); /* tag 1, nested */
    CHECK_EQ_U64(1 + 2 + 1 + 2 + 300, f.raw_len);

    /* One more level is refused, stickily, and begin/end stay paired. */
    tandem_buf_reset(&b);
    tandem_field_writer_init(&w, &b);
    for (int i = 0; i < TANDEM_FIELD_DEPTH_MAX; i++) {
        CHECK_OK(tandem_field_begin(&w, 3));
    }
    CHECK_RC(TANDEM_ERANGE, tandem_field_begin(&w, 3));
    CHECK_RC(TANDEM_ERANGE, tandem_field_put_uint(&w, 1, 1));
    for (int i = 0; i <= TANDEM_FIELD_DEPTH_MAX; i++) {
        CHECK_RC(TANDEM_ERANGE, tandem_field_end(&w));
    }
    CHECK_EQ_U64(0, w.depth);
    CHECK_RC(TANDEM_ERANGE, tandem_field_writer_finish(&w));
    tandem_buf_free(&b);
}

typedef struct bad_case {
    const char *name;
    uint8_t bytes[16];
    size_t len;
    const char *reason;
    size_t offset;
} bad_case;

static void test_malformed_fields(void)
{
    static const bad_case bad[] = {
        {"truncated key", {0x80}, 1, "field key is cut off", 0},
        {"truncated varint", {0x08, 0x96}, 2, "varint value is cut off", 0},
        {"overlong varint",
         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         12,
         "varint value is malformed",
         0},
        {"varint above 64 bits",
         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
         11,
         "varint value is malformed",
         0},
        {"non-minimal varint", {0x08, 0x01, 0x08, 0x80, 0x00}, 5, "varint value is malformed", 2},
        {"non-minimal key", {0x88, 0x00, 0x01}, 3, "field key varint is malformed", 0},
        {"tag zero", {0x00, 0x01}, 2, "field tag is out of range", 0},
        {"tag too big", {0xf8, 0xff, 0xff, 0xff, 0x1f, 0x00}, 6, "field tag is out of range", 0},
        {"reserved wire type", {0x0f, 0x00}, 2, "wire type 7 is reserved", 0},
        {"bool two", {0x0b, 0x02}, 2, "bool value is neither 0 nor 1", 0},
        {"bool cut off", {0x0b}, 1, "bool value is cut off", 0},
        {"fixed64 short", {0x0a, 1, 2, 3}, 4, "fixed64 value is cut off", 0},
        {"length past end",
         {0x08, 0x00, 0x0c, 0x05, 'a'},
         5,
         "length runs past the end of the enclosing bytes",
         2},
        {"length cut off", {0x0c}, 1, "length is cut off", 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tandem_field_reader fr;
        tandem_field f;
        tandem_field_reader_init(&fr, bad[i].bytes, bad[i].len);
        while (tandem_field_next(&fr, &f)) {
        }
        CHECK_MSG(fr.error == TANDEM_ECORRUPT, "%s: no error", bad[i].name);
        CHECK_STREQ(bad[i].reason, fr.error_reason);
        CHECK_MSG(fr.error_offset == bad[i].offset, "%s: offset %zu", bad[i].name, fr.error_offset);
        /* Sticky: the reader stays at the error. */
        CHECK(!tandem_field_next(&fr, &f));
        tandem_diag d;
        tandem_diag_clear(&d);
        CHECK_RC(TANDEM_ECORRUPT, tandem_field_reader_diag(&fr, &d, "job value"));
        char want[160];
        snprintf(want, sizeof(want), "job value: %s at byte %zu", bad[i].reason, bad[i].offset);
        CHECK_STREQ(want, d.message);
        CHECK_RC(TANDEM_ECORRUPT, tandem_fields_validate(bad[i].bytes, bad[i].len, NULL, "v"));
    }
}

static void test_validate_nested(void)
{
    /* A malformed field inside a nested field is reported at its offset from the top. */
    static const uint8_t bytes[] = {0x08, 0x01, 0x16, 0x05, 0x08, 0x01};
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_RC(TANDEM_ECORRUPT, tandem_fields_validate(bytes, sizeof(bytes), &d, "value"));
    CHECK_STREQ("value: length runs past the end of the enclosing bytes at byte 2", d.message);
    static const uint8_t inner[] = {0x08, 0x01, 0x16, 0x03, 0x08, 0x01, 0x0b, 0x08, 0x00};
    /* field 1 = 1, field 2 = {field 1 = 1, field 1 bool with its byte outside the nest} */
    CHECK_RC(TANDEM_ECORRUPT, tandem_fields_validate(inner, sizeof(inner), &d, "value"));
    CHECK_STREQ("value: bool value is cut off at byte 6", d.message);

    /* 17 levels of nesting, each holding the next. */
    uint8_t deep[2 * (TANDEM_FIELD_DEPTH_MAX + 1)];
    for (int i = 0; i <= TANDEM_FIELD_DEPTH_MAX; i++) {
        deep[2 * i] = 0x0e; /* tag 1, nested */
        deep[2 * i + 1] = (uint8_t)(2 * (TANDEM_FIELD_DEPTH_MAX - i));
    }
    CHECK_RC(TANDEM_ECORRUPT, tandem_fields_validate(deep, sizeof(deep), &d, "value"));
    CHECK_STREQ("value: nested fields deeper than 16 levels at byte 32", d.message);
    CHECK_OK(tandem_fields_validate(deep + 2, sizeof(deep) - 2, &d, "value"));
}

static void test_put_raw_and_nested_check_input(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &b);
    static const uint8_t good[] = {0x08, 0x05};
    static const uint8_t bad[] = {0x08};
    CHECK_OK(tandem_field_put_nested(&w, 2, good, sizeof(good)));
    CHECK_OK(tandem_field_put_raw(&w, good, sizeof(good)));
    static const uint8_t want[] = {0x16, 0x02, 0x08, 0x05, 0x08, 0x05};
    check_bytes(&b, want, sizeof(want));
    CHECK_RC(TANDEM_EINVAL, tandem_field_put_raw(&w, bad, sizeof(bad)));
    CHECK_RC(TANDEM_EINVAL, tandem_field_put_uint(&w, 1, 1));
    CHECK_RC(TANDEM_EINVAL, tandem_field_writer_finish(&w));
    tandem_field_writer_init(&w, &b);
    CHECK_RC(TANDEM_EINVAL, tandem_field_put_nested(&w, 2, bad, sizeof(bad)));
    tandem_buf_free(&b);
}

/*
 * A value codec as the engine will write them: version 1 knows `type` (1) and
 * `retries` (2); version 2 adds `worker` (3), `headers` (4, nested) and
 * `deadline` (5). Version 1 keeps what it does not know in `unknown`.
 */
typedef struct job_v1 {
    const char *type;
    size_t type_len;
    uint64_t retries;
    tandem_buf unknown; /* owned: fields of newer versions, verbatim */
} job_v1;

static int job_v1_decode(const uint8_t *data, size_t len, job_v1 *job, tandem_diag *diag)
{
    tandem_field_reader fr;
    tandem_field f;
    tandem_field_reader_init(&fr, data, len);
    while (tandem_field_next(&fr, &f)) {
        if (f.tag == 1 && f.wire == TANDEM_WIRE_STRING) {
            job->type = (const char *)f.data;
            job->type_len = f.len;
        } else if (f.tag == 2 && f.wire == TANDEM_WIRE_UINT) {
            job->retries = f.u;
        } else {
            CHECK_OK(tandem_field_keep_unknown(&job->unknown, &f));
        }
    }
    return fr.error != 0 ? tandem_field_reader_diag(&fr, diag, "job value") : 0;
}

static int job_v1_encode(const job_v1 *job, tandem_buf *out)
{
    tandem_field_writer w;
    tandem_field_writer_init(&w, out);
    tandem_field_put_string(&w, 1, job->type, job->type_len);
    tandem_field_put_uint(&w, 2, job->retries);
    tandem_field_put_raw(&w, job->unknown.data, job->unknown.len);
    return tandem_field_writer_finish(&w);
}

static void job_v2_encode(tandem_buf *out)
{
    tandem_field_writer w;
    tandem_field_writer_init(&w, out);
    tandem_field_put_cstr(&w, 1, "payment");
    tandem_field_put_uint(&w, 2, 3);
    tandem_field_put_cstr(&w, 3, "worker-7");
    tandem_field_begin(&w, 4);
    tandem_field_put_cstr(&w, 1, "region");
    tandem_field_put_cstr(&w, 2, "eu");
    tandem_field_end(&w);
    tandem_field_put_int(&w, 5, -12);
    CHECK_OK(tandem_field_writer_finish(&w));
}

static void test_old_reader_keeps_unknown_fields(void)
{
    tandem_buf v2 = TANDEM_BUF_INIT, again = TANDEM_BUF_INIT;
    job_v2_encode(&v2);
    job_v1 job = {NULL, 0, 0, TANDEM_BUF_INIT};
    CHECK_OK(job_v1_decode(v2.data, v2.len, &job, NULL));
    CHECK(job.type_len == 7 && memcmp(job.type, "payment", 7) == 0);
    CHECK_EQ_U64(3, job.retries);
    CHECK(job.unknown.len > 0);
    /* The old version changes what it knows and writes the value back ... */
    job.retries = 2;
    CHECK_OK(job_v1_encode(&job, &again));
    /* ... and the new version still finds its fields. */
    tandem_field f;
    CHECK_OK(tandem_fields_find(again.data, again.len, 2, &f));
    CHECK_EQ_U64(2, f.u);
    CHECK_OK(tandem_fields_find(again.data, again.len, 5, &f));
    CHECK_EQ_I64(-12, f.i);
    CHECK_OK(tandem_fields_find(again.data, again.len, 4, &f));
    tandem_field g;
    CHECK_OK(tandem_fields_find(f.data, f.len, 2, &g));
    CHECK(g.len == 2 && memcmp(g.data, "eu", 2) == 0);
    /* Unchanged, the round trip is byte for byte. */
    job.retries = 3;
    tandem_buf_reset(&again);
    CHECK_OK(job_v1_encode(&job, &again));
    CHECK_EQ_U64(v2.len, again.len);
    CHECK(memcmp(v2.data, again.data, v2.len) == 0);
    tandem_buf_free(&job.unknown);
    tandem_buf_free(&v2);
    tandem_buf_free(&again);
}

static void test_old_reader_unknown_in_the_middle(void)
{
    /* Unknown fields between known ones are kept verbatim, moved after them. */
    tandem_buf in = TANDEM_BUF_INIT, out = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &in);
    tandem_field_put_cstr(&w, 1, "t");
    tandem_field_put_fixed64(&w, 9, 0xdeadbeef);
    tandem_field_put_uint(&w, 2, 4);
    CHECK_OK(tandem_field_writer_finish(&w));
    job_v1 job = {NULL, 0, 0, TANDEM_BUF_INIT};
    CHECK_OK(job_v1_decode(in.data, in.len, &job, NULL));
    CHECK_OK(job_v1_encode(&job, &out));
    static const uint8_t want[] = {0x0c, 0x01, 't',  0x10, 0x04, 0x4a, 0xef,
                                   0xbe, 0xad, 0xde, 0,    0,    0,    0};
    CHECK_EQ_U64(sizeof(want), out.len);
    CHECK(memcmp(want, out.data, sizeof(want)) == 0);
    tandem_buf_free(&job.unknown);
    tandem_buf_free(&in);
    tandem_buf_free(&out);
}

/* Two's complement reinterpretation, so random values cover negatives. */
static int64_t as_signed(uint64_t v)
{
    int64_t s;
    memcpy(&s, &v, sizeof(s));
    return s;
}

static void test_random_roundtrip(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_buf b = TANDEM_BUF_INIT;
    uint8_t junk[64];
    for (uint64_t iter = 0; iter < test_iterations(2000); iter++) {
        tandem_buf_reset(&b);
        tandem_field_writer w;
        tandem_field_writer_init(&w, &b);
        uint64_t values[32];
        unsigned wires[32];
        size_t n = (size_t)tandem_rand_below(&r.base, 32);
        for (size_t i = 0; i < n; i++) {
            uint64_t v = tandem_rand_u64(&r.base) >> tandem_rand_below(&r.base, 64);
            uint32_t tag = (uint32_t)(i + 1);
            values[i] = v;
            wires[i] = (unsigned)tandem_rand_below(&r.base, 5);
            switch (wires[i]) {
            case 0:
                tandem_field_put_uint(&w, tag, v);
                break;
            case 1:
                tandem_field_put_int(&w, tag, as_signed(v));
                break;
            case 2:
                tandem_field_put_fixed64(&w, tag, v);
                break;
            case 3:
                tandem_field_put_bool(&w, tag, (v & 1) != 0);
                break;
            default:
                values[i] = v % sizeof(junk);
                memset(junk, (int)i, sizeof(junk));
                tandem_field_put_bytes(&w, tag, junk, (size_t)values[i]);
            }
        }
        CHECK_OK(tandem_field_writer_finish(&w));
        tandem_field_reader fr;
        tandem_field f;
        tandem_field_reader_init(&fr, b.data, b.len);
        for (size_t i = 0; i < n; i++) {
            CHECK(tandem_field_next(&fr, &f));
            CHECK_EQ_U64(i + 1, f.tag);
            uint64_t v = values[i];
            switch (wires[i]) {
            case 0:
                CHECK_EQ_U64(v, f.u);
                break;
            case 1:
                CHECK_EQ_I64(as_signed(v), f.i);
                break;
            case 2:
                CHECK_EQ_U64(v, f.u);
                break;
            case 3:
                CHECK_EQ_U64(v & 1, f.u);
                break;
            default:
                CHECK_EQ_U64(v, f.len);
            }
        }
        CHECK(!tandem_field_next(&fr, &f) && fr.error == 0);
    }
    tandem_buf_free(&b);
}

static void test_random_bytes_never_crash(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint8_t bytes[48];
    uint64_t ok = 0;
    for (uint64_t iter = 0; iter < test_iterations(20000); iter++) {
        size_t len = (size_t)tandem_rand_below(&r.base, sizeof(bytes) + 1);
        for (size_t i = 0; i < len; i++) {
            /* Small bytes make valid keys and lengths likely. */
            bytes[i] = (uint8_t)tandem_rand_below(&r.base, (iter & 1) ? 256 : 40);
        }
        tandem_diag d;
        tandem_diag_clear(&d);
        int rc = tandem_fields_validate(bytes, len, &d, "value");
        CHECK(rc == 0 || rc == TANDEM_ECORRUPT);
        CHECK(rc == 0 || strstr(d.message, "value: ") == d.message);
        ok += rc == 0;
    }
    CHECK(ok > 0);
}

static const tandem_test cases[] = {
    {"exact_bytes", test_exact_bytes},
    {"read_every_wire_type", test_read_every_wire_type},
    {"nested_long_content_and_depth", test_nested_long_content_and_depth},
    {"malformed_fields", test_malformed_fields},
    {"validate_nested", test_validate_nested},
    {"put_raw_and_nested_check_input", test_put_raw_and_nested_check_input},
    {"old_reader_keeps_unknown_fields", test_old_reader_keeps_unknown_fields},
    {"old_reader_unknown_in_the_middle", test_old_reader_unknown_in_the_middle},
    {"random_roundtrip", test_random_roundtrip},
    {"random_bytes_never_crash", test_random_bytes_never_crash},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
