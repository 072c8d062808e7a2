/* Batches: round trips, the header byte by byte, writer limits, and damaged
 * payloads (every truncation, every single-bit flip, random mutations). */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/error.h"
#include "base/rand.h"
#include "protocol/batch.h"
#include "protocol/field.h"
#include "protocol/key.h"
#include "protocol/print.h"
#include "protocol/record.h"

#define SAMPLE_COUNT   4
#define FIRST_POSITION 100

/* Values of the sample records; static so the records' views stay valid. */
static tandem_buf sample_values[SAMPLE_COUNT];

/* A command, the events it caused, a follow-up command and a rejection:
 * what one processing step appends, with consecutive positions. */
static void sample_batch_records(tandem_record *recs)
{
    uint64_t job = tandem_key_encode(1, 42);
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        tandem_buf_reset(&sample_values[i]);
        tandem_field_writer w;
        tandem_field_writer_init(&w, &sample_values[i]);
        tandem_field_put_uint(&w, 1, job);
        tandem_field_put_cstr(&w, 2, "payment");
        if (i == 1) {
            tandem_field_begin(&w, 3);
            tandem_field_put_cstr(&w, 1, "amount");
            tandem_field_put_int(&w, 2, -250);
            tandem_field_end(&w);
        }
        CHECK_OK(tandem_field_writer_finish(&w));
        tandem_record_init(&recs[i]);
        recs[i].position = FIRST_POSITION + (uint64_t)i;
        recs[i].source_position = i == 0 ? TANDEM_NONE : FIRST_POSITION;
        recs[i].key = i == 3 ? TANDEM_KEY_NONE : job;
        recs[i].timestamp_ms = UINT64_C(1735787045678);
        recs[i].partition_id = 1;
        recs[i].value_type = TANDEM_VALUE_JOB;
        recs[i].value = sample_values[i].data;
        recs[i].value_len = sample_values[i].len;
        recs[i].broker_version = (tandem_broker_version){0, 1, 0};
    }
    recs[0].record_type = TANDEM_RECORD_COMMAND;
    recs[0].intent = TANDEM_INTENT_JOB_COMPLETE;
    recs[0].request_stream_id = 1;
    recs[0].request_id = 99;
    recs[1].record_type = TANDEM_RECORD_EVENT;
    recs[1].intent = TANDEM_INTENT_JOB_COMPLETED;
    recs[2].record_type = TANDEM_RECORD_COMMAND;
    recs[2].value_type = TANDEM_VALUE_PROCESS_INSTANCE;
    recs[2].intent = TANDEM_INTENT_PROCESS_INSTANCE_COMPLETE_ELEMENT;
    recs[3].record_type = TANDEM_RECORD_COMMAND_REJECTION;
    recs[3].intent = TANDEM_INTENT_JOB_COMPLETE;
    recs[3].rejection_type = TANDEM_REJECTION_INVALID_STATE;
    recs[3].rejection_reason = "job is already completed";
    recs[3].rejection_reason_len = strlen(recs[3].rejection_reason);
}

static void free_samples(void)
{
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        tandem_buf_free(&sample_values[i]);
    }
}

/* Decodes a batch and checks it holds exactly `recs`. */
static void check_batch(const uint8_t *data, size_t len, const tandem_record *recs, size_t n)
{
    tandem_batch_reader br;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_batch_open(&br, data, len, &d);
    CHECK_MSG(rc == 0, "open: %s", tandem_diag_text(&d));
    CHECK_EQ_U64(TANDEM_BATCH_FORMAT_VERSION, br.format_version);
    CHECK_EQ_U64(n, br.count);
    CHECK_EQ_U64(recs[0].position, br.first_position);
    tandem_record rec;
    for (size_t i = 0; i < n; i++) {
        CHECK(tandem_batch_next(&br, &rec));
        CHECK_EQ_U64(recs[i].position, rec.position);
        CHECK_MSG(tandem_record_equal(&recs[i], &rec), "record %zu differs", i);
        CHECK(rec.value_len == 0 || (rec.value >= data && rec.value + rec.value_len <= data + len));
    }
    CHECK(!tandem_batch_next(&br, &rec));
    CHECK_EQ_U64(n, br.index);
}

static void test_roundtrip(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    check_batch(b.data, b.len, recs, SAMPLE_COUNT);
    /* A single minimal record: every optional field absent. */
    tandem_record one;
    tandem_record_init(&one);
    one.partition_id = 7;
    tandem_buf_reset(&b);
    CHECK_OK(tandem_batch_encode(&b, &one, 1, NULL));
    check_batch(b.data, b.len, &one, 1);
    /* A batch after other bytes in the same buffer. */
    tandem_buf_reset(&b);
    tandem_buf_append(&b, "xyz", 3);
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    check_batch(b.data + 3, b.len - 3, recs, SAMPLE_COUNT);
    tandem_buf_free(&b);
    free_samples();
}

static void test_header_bytes(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    const uint8_t *h = b.data;
    CHECK(h[0] == 'T' && h[1] == 'R');
    CHECK_EQ_U64(1, h[2]);
    CHECK_EQ_U64(0, h[3]);
    CHECK_EQ_U64(SAMPLE_COUNT, tandem_load_u32(h + 4));
    CHECK_EQ_U64(FIRST_POSITION, tandem_load_u64(h + 8));
    CHECK_EQ_U64(b.len - TANDEM_BATCH_HEADER_SIZE, tandem_load_u32(h + 16));
    uint32_t crc = tandem_crc32c(0, h, 20);
    crc = tandem_crc32c(crc, h + 24, b.len - 24);
    CHECK_EQ_U64(crc, tandem_load_u32(h + 20));
    /* The body is length-prefixed records, the first one decodable alone. */
    tandem_record first;
    size_t len0 = h[24];
    CHECK(len0 < 128);
    CHECK_OK(tandem_record_decode(h + 25, len0, &first, NULL));
    first.position = FIRST_POSITION;
    CHECK(tandem_record_equal(&recs[0], &first));
    tandem_buf_free(&b);
    free_samples();
}

/* The worked example of docs/RECORD_FORMAT.md, byte for byte. */
static void test_documented_example(void)
{
    static const uint8_t want[] = {
        0x54, 0x52, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x8d, 0x3e, 0x4a, 0xa7, 0x28, 0x10,
        0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04, 0x18, 0xae, 0xc6, 0xe1, 0xa7,
        0xc2, 0x32, 0x20, 0x01, 0x28, 0x00, 0x30, 0x00, 0x38, 0x00, 0x58, 0x01, 0x86,
        0x01, 0x0b, 0x0c, 0x07, 0x70, 0x61, 0x79, 0x6d, 0x65, 0x6e, 0x74, 0x10, 0x03,
    };
    tandem_buf value = TANDEM_BUF_INIT, b = TANDEM_BUF_INIT, line = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &value);
    tandem_field_put_cstr(&w, 1, "payment");
    tandem_field_put_uint(&w, 2, 3);
    CHECK_OK(tandem_field_writer_finish(&w));
    tandem_record rec;
    tandem_record_init(&rec);
    rec.position = 1;
    rec.key = tandem_key_encode(1, 1);
    rec.timestamp_ms = UINT64_C(1735787045678);
    rec.partition_id = 1;
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.value_type = TANDEM_VALUE_JOB;
    rec.intent = TANDEM_INTENT_JOB_CREATED;
    rec.value = value.data;
    rec.value_len = value.len;
    CHECK_OK(tandem_batch_encode(&b, &rec, 1, NULL));
    CHECK_EQ_U64(sizeof(want), b.len);
    for (size_t i = 0; i < sizeof(want); i++) {
        CHECK_MSG(want[i] == b.data[i], "byte %zu is 0x%02x, expected 0x%02x", i, b.data[i],
                  want[i]);
    }
    CHECK_OK(tandem_record_format(&rec, &line));
    CHECK_OK(tandem_buf_put_u8(&line, 0));
    CHECK_STREQ("pos=1 src=- key=2251799813685249(p1:1) ts=2025-01-02T03:04:05.678Z partition=1 "
                "EVENT JOB CREATED value={1=\"payment\" 2=3}\n",
                (const char *)line.data);
    tandem_buf_free(&value);
    tandem_buf_free(&b);
    tandem_buf_free(&line);
}

static void test_writer_refusals(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_batch_writer bw;
    CHECK_OK(tandem_batch_writer_begin(&bw, &b, FIRST_POSITION, 0));
    CHECK_RC(TANDEM_EINVAL, tandem_batch_writer_finish(&bw, &d));
    CHECK_STREQ("record batch: a batch needs a record", d.message);
    CHECK_OK(tandem_batch_writer_add(&bw, &recs[0], &d));
    size_t len = b.len;
    CHECK_RC(TANDEM_EINVAL, tandem_batch_writer_add(&bw, &recs[2], &d));
    CHECK_STREQ("record batch: record 1 has position 102, expected 101 (positions are "
                "consecutive)",
                d.message);
    CHECK_EQ_U64(len, b.len);
    tandem_record broken = recs[1];
    broken.partition_id = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_batch_writer_add(&bw, &broken, &d));
    CHECK_STREQ("record: partition id is outside 1..8191", d.message);
    CHECK_EQ_U64(len, b.len);
    CHECK_OK(tandem_batch_writer_add(&bw, &recs[1], &d));
    CHECK_OK(tandem_batch_writer_finish(&bw, &d));
    check_batch(b.data, b.len, recs, 2);
    CHECK_RC(TANDEM_EINVAL, tandem_batch_encode(&b, recs, 0, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_batch_writer_begin(&bw, &b, TANDEM_POSITION_MAX + 1, 0));
    tandem_buf_free(&b);
    free_samples();
}

static void test_writer_size_limit(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_batch_writer bw;
    CHECK_OK(tandem_batch_writer_begin(&bw, &b, FIRST_POSITION, 150));
    uint32_t added = 0;
    int rc = 0;
    while (added < SAMPLE_COUNT) {
        size_t len = b.len;
        rc = tandem_batch_writer_add(&bw, &recs[added], &d);
        if (rc != 0) {
            CHECK_EQ_U64(len, b.len); /* all or nothing */
            break;
        }
        added++;
    }
    CHECK_RC(TANDEM_ETOOBIG, rc);
    CHECK(added >= 1 && added < SAMPLE_COUNT);
    CHECK_CONTAINS(d.message, "does not fit");
    CHECK_OK(tandem_batch_writer_finish(&bw, &d));
    CHECK(b.len <= 150);
    check_batch(b.data, b.len, recs, added);
    /* The refused record starts the next batch. */
    size_t second = b.len;
    CHECK_OK(tandem_batch_writer_begin(&bw, &b, recs[added].position, 150));
    CHECK_OK(tandem_batch_writer_add(&bw, &recs[added], &d));
    CHECK_OK(tandem_batch_writer_finish(&bw, &d));
    check_batch(b.data + second, b.len - second, &recs[added], 1);
    /* A value larger than any batch is refused before it is encoded. */
    static uint8_t huge[TANDEM_BATCH_SIZE_BYTES_MAX];
    tandem_record big = recs[0];
    big.value = huge;
    big.value_len = sizeof(huge);
    tandem_buf_reset(&b);
    CHECK_OK(tandem_batch_writer_begin(&bw, &b, FIRST_POSITION, 0));
    CHECK_RC(TANDEM_ETOOBIG, tandem_batch_writer_add(&bw, &big, &d));
    CHECK_EQ_U64(TANDEM_BATCH_HEADER_SIZE, b.len);
    tandem_buf_free(&b);
    free_samples();
}

static void test_writer_record_count_limit(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_batch_writer bw;
    tandem_record rec;
    tandem_record_init(&rec);
    rec.partition_id = 1;
    CHECK_OK(tandem_batch_writer_begin(&bw, &b, 1, 0));
    for (uint32_t i = 0; i < TANDEM_BATCH_RECORDS_MAX; i++) {
        rec.position = 1 + i;
        CHECK_OK(tandem_batch_writer_add(&bw, &rec, NULL));
    }
    rec.position = 1 + TANDEM_BATCH_RECORDS_MAX;
    CHECK_RC(TANDEM_ETOOBIG, tandem_batch_writer_add(&bw, &rec, NULL));
    CHECK_OK(tandem_batch_writer_finish(&bw, NULL));
    tandem_batch_reader br;
    CHECK_OK(tandem_batch_open(&br, b.data, b.len, NULL));
    CHECK_EQ_U64(TANDEM_BATCH_RECORDS_MAX, br.count);
    uint64_t n = 0;
    while (tandem_batch_next(&br, &rec)) {
        CHECK_EQ_U64(1 + n, rec.position);
        n++;
    }
    CHECK_EQ_U64(TANDEM_BATCH_RECORDS_MAX, n);
    tandem_buf_free(&b);
}

static void test_every_truncation(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    /* A copy of each prefix in its own allocation, so ASan sees any over-read. */
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *copy = malloc(len + 1);
        CHECK(copy != NULL);
        memcpy(copy, b.data, len);
        tandem_batch_reader br;
        tandem_diag d;
        tandem_diag_clear(&d);
        CHECK_RC(TANDEM_EINCOMPLETE, tandem_batch_open(&br, len > 0 ? copy : NULL, len, &d));
        CHECK_CONTAINS(d.message, "record batch: ");
        free(copy);
    }
    tandem_diag d;
    tandem_batch_reader br;
    CHECK_RC(TANDEM_EINCOMPLETE, tandem_batch_open(&br, b.data, 10, &d));
    CHECK_STREQ("record batch: 10 bytes, the header alone needs 24", d.message);
    CHECK_RC(TANDEM_EINCOMPLETE, tandem_batch_open(&br, b.data, 30, &d));
    char want[100];
    snprintf(want, sizeof(want), "record batch: 30 of its %zu bytes are present", b.len);
    CHECK_STREQ(want, d.message);
    tandem_buf_put_u8(&b, 0);
    CHECK_RC(TANDEM_ECORRUPT, tandem_batch_open(&br, b.data, b.len, &d));
    snprintf(want, sizeof(want), "record batch: 1 unexpected bytes after its %zu bytes", b.len - 1);
    CHECK_STREQ(want, d.message);
    tandem_buf_free(&b);
    free_samples();
}

static void test_every_bit_flip(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    for (size_t bit = 0; bit < b.len * 8; bit++) {
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        tandem_batch_reader br;
        tandem_diag d;
        tandem_diag_clear(&d);
        int rc = tandem_batch_open(&br, b.data, b.len, &d);
        size_t byte = bit / 8;
        if (byte == 2 || byte == 3) {
            CHECK_RC(TANDEM_EFORMAT, rc); /* version, flags */
        } else if (byte >= 16 && byte < 20) {
            CHECK(rc == TANDEM_EINCOMPLETE || rc == TANDEM_ECORRUPT); /* body size */
        } else {
            CHECK_MSG(rc == TANDEM_ECORRUPT, "bit %zu: %s", bit, tandem_errname(rc));
        }
        CHECK_CONTAINS(d.message, "record batch: ");
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    check_batch(b.data, b.len, recs, SAMPLE_COUNT);
    tandem_buf_free(&b);
    free_samples();
}

/* Rewrites the checksum so a mutation reaches the record decoder. */
static void fix_crc(uint8_t *batch, size_t len)
{
    CHECK(len >= TANDEM_BATCH_HEADER_SIZE);
    uint32_t crc = tandem_crc32c(0, batch, 20);
    crc = tandem_crc32c(crc, batch + 24, len - 24);
    tandem_store_u32(batch + 20, crc);
}

/* A decodable batch must re-encode to a batch with the same records, and that
 * one must re-encode to itself. */
static void check_reencode(const uint8_t *data, size_t len)
{
    tandem_batch_reader br;
    CHECK_OK(tandem_batch_open(&br, data, len, NULL));
    tandem_record recs[SAMPLE_COUNT + 4];
    size_t n = 0;
    while (n < sizeof(recs) / sizeof(recs[0]) && tandem_batch_next(&br, &recs[n])) {
        n++;
    }
    CHECK_EQ_U64(br.count, n);
    tandem_buf again = TANDEM_BUF_INIT, twice = TANDEM_BUF_INIT, line = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&again, recs, n, NULL));
    check_batch(again.data, again.len, recs, n);
    tandem_batch_open(&br, again.data, again.len, NULL);
    for (size_t i = 0; i < n; i++) {
        CHECK(tandem_batch_next(&br, &recs[i]));
        CHECK_OK(tandem_record_format(&recs[i], &line));
    }
    CHECK_OK(tandem_batch_encode(&twice, recs, n, NULL));
    CHECK(twice.len == again.len && memcmp(twice.data, again.data, again.len) == 0);
    tandem_buf_free(&again);
    tandem_buf_free(&twice);
    tandem_buf_free(&line);
}

static void test_random_mutations(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf orig = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&orig, recs, SAMPLE_COUNT, NULL));
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_rand *rnd = &r.base;
    uint64_t decoded = 0, refused = 0;
    for (uint64_t iter = 0; iter < test_iterations(20000); iter++) {
        uint8_t *m = malloc(orig.len);
        CHECK(m != NULL);
        memcpy(m, orig.data, orig.len);
        uint64_t flips = 1 + tandem_rand_below(rnd, 4);
        for (uint64_t k = 0; k < flips; k++) {
            /* Mostly the body: the header is covered by test_every_bit_flip. */
            size_t at = 24 + (size_t)tandem_rand_below(rnd, orig.len - 24);
            if (tandem_rand_chance(rnd, 1, 2)) {
                m[at] ^= (uint8_t)(1u << tandem_rand_below(rnd, 8));
            } else {
                m[at] = (uint8_t)tandem_rand_u64(rnd);
            }
        }
        if (tandem_rand_chance(rnd, 1, 8)) {
            m[4] = (uint8_t)(1 + tandem_rand_below(rnd, SAMPLE_COUNT + 2)); /* record count */
        }
        fix_crc(m, orig.len);
        tandem_batch_reader br;
        tandem_diag d;
        tandem_diag_clear(&d);
        int rc = tandem_batch_open(&br, m, orig.len, &d);
        if (rc == 0) {
            decoded++;
            check_reencode(m, orig.len);
        } else {
            refused++;
            CHECK_MSG(rc == TANDEM_ECORRUPT, "%s: %s", tandem_errname(rc), d.message);
            CHECK_CONTAINS(d.message, "record batch: ");
        }
        free(m);
    }
    CHECK(refused > 0);
    CHECK(decoded > 0);
    tandem_buf_free(&orig);
    free_samples();
}

static void test_format_version_and_flags(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_batch_encode(&b, recs, SAMPLE_COUNT, NULL));
    tandem_batch_reader br;
    tandem_diag d;
    b.data[2] = 2;
    fix_crc(b.data, b.len);
    CHECK_RC(TANDEM_EFORMAT, tandem_batch_open(&br, b.data, b.len, &d));
    CHECK_STREQ("record batch: format version 2 is not supported (this build reads version 1; a "
                "newer broker wrote it?)",
                d.message);
    /* The version is judged before the length: 3 bytes are enough. */
    CHECK_RC(TANDEM_EFORMAT, tandem_batch_open(&br, b.data, 3, &d));
    b.data[2] = 1;
    b.data[3] = 1;
    fix_crc(b.data, b.len);
    CHECK_RC(TANDEM_EFORMAT, tandem_batch_open(&br, b.data, b.len, &d));
    CHECK_STREQ("record batch: flags 0x01 are not supported by this build", d.message);
    b.data[3] = 0;
    b.data[0] = 'X';
    CHECK_RC(TANDEM_ECORRUPT, tandem_batch_open(&br, b.data, b.len, &d));
    CHECK_STREQ("record batch: magic is 0x5852, not \"TR\": not a record batch", d.message);
    b.data[0] = 'T';
    b.data[20] ^= 1;
    CHECK_RC(TANDEM_ECORRUPT, tandem_batch_open(&br, b.data, b.len, &d));
    CHECK_CONTAINS(d.message, "record batch: checksum mismatch (stored 0x");
    tandem_buf_free(&b);
    free_samples();
}

/* A batch assembled by hand from record bodies, with a valid checksum. */
static void assemble(tandem_buf *out, uint32_t count, uint64_t first, const tandem_buf *bodies,
                     size_t n)
{
    tandem_buf_reset(out);
    uint8_t *h = NULL;
    CHECK_OK(tandem_buf_put_zeros(out, TANDEM_BATCH_HEADER_SIZE, &h));
    for (size_t i = 0; i < n; i++) {
        tandem_buf_put_varint(out, bodies[i].len);
        tandem_buf_append(out, bodies[i].data, bodies[i].len);
    }
    h = out->data;
    h[0] = 'T';
    h[1] = 'R';
    h[2] = 1;
    tandem_store_u32(h + 4, count);
    tandem_store_u64(h + 8, first);
    tandem_store_u32(h + 16, (uint32_t)(out->len - TANDEM_BATCH_HEADER_SIZE));
    fix_crc(out->data, out->len);
}

static void check_open_refused(const tandem_buf *b, int code, const char *message)
{
    tandem_batch_reader br;
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_RC(code, tandem_batch_open(&br, b->data, b->len, &d));
    CHECK_STREQ(message, d.message);
}

static void test_damaged_records_inside_valid_checksum(void)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    tandem_buf bodies[2] = {TANDEM_BUF_INIT, TANDEM_BUF_INIT};
    CHECK_OK(tandem_record_encode(&bodies[0], &recs[0], NULL));
    CHECK_OK(tandem_record_encode(&bodies[1], &recs[1], NULL));
    tandem_buf b = TANDEM_BUF_INIT;
    assemble(&b, 2, 100, bodies, 2);
    check_batch(b.data, b.len, recs, 2);

    assemble(&b, 3, 100, bodies, 2);
    char want[200];
    snprintf(want, sizeof(want),
             "record batch: record 2 of 3 (position 102) has no valid length prefix at byte %zu",
             b.len);
    check_open_refused(&b, TANDEM_ECORRUPT, want);
    assemble(&b, 1, 100, bodies, 2);
    snprintf(want, sizeof(want), "record batch: %zu bytes after the last of 1 records",
             bodies[1].len + 1);
    check_open_refused(&b, TANDEM_ECORRUPT, want);
    assemble(&b, 0, 100, bodies, 2);
    check_open_refused(&b, TANDEM_ECORRUPT, "record batch: record count 0 is outside 1..65535");
    assemble(&b, 70000, 100, bodies, 2);
    check_open_refused(&b, TANDEM_ECORRUPT, "record batch: record count 70000 is outside 1..65535");
    assemble(&b, 2, (uint64_t)INT64_MAX, bodies, 2);
    check_open_refused(&b, TANDEM_ECORRUPT,
                       "record batch: positions from 9223372036854775807 overflow");

    /* Record 1 loses its intent (field 7: bytes 0x38 0x02 of the event). */
    tandem_buf event = TANDEM_BUF_INIT;
    for (size_t i = 0; i < bodies[1].len; i++) {
        if (bodies[1].data[i] == 0x38 && bodies[1].data[i + 1] == TANDEM_INTENT_JOB_COMPLETED) {
            i++;
            continue;
        }
        tandem_buf_put_u8(&event, bodies[1].data[i]);
    }
    CHECK_EQ_U64(bodies[1].len - 2, event.len);
    tandem_buf_free(&bodies[1]);
    bodies[1] = event;
    assemble(&b, 2, 100, bodies, 2);
    check_open_refused(&b, TANDEM_ECORRUPT,
                       "record batch: record 1 (position 101): record envelope: required intent "
                       "(field 7) is missing");
    /* A length prefix that runs past the body. */
    bodies[1].data[0] = 0x0f;
    tandem_buf_truncate(&bodies[1], 1);
    assemble(&b, 2, 100, bodies, 2);
    check_open_refused(&b, TANDEM_ECORRUPT,
                       "record batch: record 1 (position 101): record envelope: wire type 7 is "
                       "reserved at byte 0");
    tandem_buf_free(&bodies[0]);
    tandem_buf_free(&bodies[1]);
    tandem_buf_free(&b);
    free_samples();
}

/* ---- The fuzzer's seed corpus ------------------------------------------ */

/* test/fuzz/corpus/record beside this file's folder. */
static void corpus_dir(char *out, size_t cap)
{
    const char *file = __FILE__;
    const char *cut = strstr(file, "unit/test_record_batch.c");
    CHECK(cut != NULL);
    snprintf(out, cap, "%.*sfuzz/corpus/record", (int)(cut - file), file);
}

typedef struct seed {
    const char *name;
    tandem_buf bytes;
} seed;

static void build_seeds(seed *seeds, size_t *n)
{
    tandem_record recs[SAMPLE_COUNT];
    sample_batch_records(recs);
    size_t k = 0;
    seeds[k].name = "command_and_events.bin";
    CHECK_OK(tandem_batch_encode(&seeds[k++].bytes, recs, SAMPLE_COUNT, NULL));
    seeds[k].name = "single_event.bin";
    CHECK_OK(tandem_batch_encode(&seeds[k++].bytes, &recs[1], 1, NULL));
    seeds[k].name = "rejection.bin";
    recs[3].operation_reference = 17;
    recs[3].batch_operation_reference = (int64_t)tandem_key_encode(1, 5);
    recs[3].record_version = 3;
    CHECK_OK(tandem_batch_encode(&seeds[k++].bytes, &recs[3], 1, NULL));

    /* Unknown value type and intent, envelope fields of a newer version, a
     * value nested to the maximum depth. */
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &value);
    for (int i = 0; i < TANDEM_FIELD_DEPTH_MAX; i++) {
        tandem_field_begin(&w, (uint32_t)(1 + i));
        tandem_field_put_bool(&w, 1, i % 2 == 0);
    }
    tandem_field_put_fixed64(&w, 2, UINT64_C(0x0123456789abcdef));
    tandem_field_put_bytes(&w, 3, "\x00\x01\xfe\xff", 4);
    for (int i = 0; i < TANDEM_FIELD_DEPTH_MAX; i++) {
        tandem_field_end(&w);
    }
    CHECK_OK(tandem_field_writer_finish(&w));
    static const uint8_t ext[] = {0x8c, 0x01, 0x02, 'e', 'u', 0xa6, 0x01, 0x02, 0x08, 0x07};
    tandem_record odd;
    tandem_record_init(&odd);
    odd.position = 1;
    odd.partition_id = TANDEM_PARTITION_ID_MAX;
    odd.value_type = 200;
    odd.intent = 999;
    odd.key = tandem_key_encode(TANDEM_PARTITION_ID_MAX, 3);
    odd.value = value.data;
    odd.value_len = value.len;
    odd.ext = ext;
    odd.ext_len = sizeof(ext);
    seeds[k].name = "newer_broker.bin";
    CHECK_OK(tandem_batch_encode(&seeds[k++].bytes, &odd, 1, NULL));
    tandem_buf_free(&value);
    *n = k;
    free_samples();
}

static void test_seed_corpus_is_current(void)
{
    char dir[1024];
    corpus_dir(dir, sizeof(dir));
    seed seeds[8];
    memset(seeds, 0, sizeof(seeds));
    size_t n = 0;
    build_seeds(seeds, &n);
    const char *write = getenv("TANDEM_WRITE_CORPUS");
    for (size_t i = 0; i < n; i++) {
        char path[1100];
        snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
        CHECK(seeds[i].bytes.len < 4096);
        if (write != NULL && *write != '\0') {
            FILE *f = fopen(path, "wb");
            CHECK_MSG(f != NULL, "%s: %s", path, strerror(errno));
            CHECK(fwrite(seeds[i].bytes.data, 1, seeds[i].bytes.len, f) == seeds[i].bytes.len);
            CHECK(fclose(f) == 0);
        }
        /* The committed seed equals what this build writes: the format is stable. */
        FILE *f = fopen(path, "rb");
        CHECK_MSG(f != NULL, "%s: %s (TANDEM_WRITE_CORPUS=1 writes it)", path, strerror(errno));
        uint8_t disk[4096];
        size_t len = fread(disk, 1, sizeof(disk), f);
        fclose(f);
        CHECK_MSG(len == seeds[i].bytes.len && memcmp(disk, seeds[i].bytes.data, len) == 0,
                  "%s differs from what this build encodes", seeds[i].name);
        tandem_buf_free(&seeds[i].bytes);
    }
    /* Every file of the corpus (including ones the fuzzer added) is a valid batch. */
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1400];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        uint8_t disk[4096];
        size_t len = fread(disk, 1, sizeof(disk), f);
        fclose(f);
        tandem_batch_reader br;
        tandem_diag diag;
        tandem_diag_clear(&diag);
        CHECK_MSG(tandem_batch_open(&br, disk, len, &diag) == 0, "%s: %s", e->d_name, diag.message);
        files++;
    }
    closedir(d);
    CHECK(files >= n);
}

static const tandem_test cases[] = {
    {"roundtrip", test_roundtrip},
    {"header_bytes", test_header_bytes},
    {"documented_example", test_documented_example},
    {"writer_refusals", test_writer_refusals},
    {"writer_size_limit", test_writer_size_limit},
    {"writer_record_count_limit", test_writer_record_count_limit},
    {"every_truncation", test_every_truncation},
    {"every_bit_flip", test_every_bit_flip},
    {"random_mutations", test_random_mutations},
    {"format_version_and_flags", test_format_version_and_flags},
    {"damaged_records_inside_valid_checksum", test_damaged_records_inside_valid_checksum},
    {"seed_corpus_is_current", test_seed_corpus_is_current},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
