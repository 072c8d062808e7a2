/* Tests of src/base: errors, CRC32C, buffers and readers, random, clock, logs, paths. */
#include <stdio.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/error.h"
#include "base/fileops.h"
#include "base/log.h"
#include "base/rand.h"
#include "test.h"

static void test_error_table(void)
{
    CHECK_STREQ("success", tandem_strerror(TANDEM_OK));
    CHECK_STREQ("TANDEM_ECORRUPT", tandem_errname(TANDEM_ECORRUPT));
    CHECK_STREQ("unknown error", tandem_strerror(-1));
    CHECK_STREQ("unknown error", tandem_strerror(TANDEM_ERROR_COUNT));
    for (int i = 0; i < TANDEM_ERROR_COUNT; i++) {
        CHECK(tandem_strerror(i)[0] != '\0');
    }
    CHECK_RC(TANDEM_ENOSPC, tandem_from_errno(28 /* ENOSPC */));
    CHECK_RC(TANDEM_EIO, tandem_from_errno(5 /* EIO */));

    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_STREQ("success", tandem_diag_text(&d));
    CHECK_RC(TANDEM_ECORRUPT, tandem_diag_set(&d, TANDEM_ECORRUPT, "file %s at %d", "x", 7));
    CHECK_STREQ("file x at 7", tandem_diag_text(&d));
    CHECK_RC(TANDEM_EIO, tandem_diag_set(NULL, TANDEM_EIO, "ignored"));
}

static void test_crc32c_vectors(void)
{
    CHECK_EQ_U64(0xe3069283u, tandem_crc32c(0, "123456789", 9));
    CHECK_EQ_U64(0xe3069283u, tandem_crc32c_sw(0, "123456789", 9));
    CHECK_EQ_U64(0, tandem_crc32c(0, "", 0));
    uint8_t zeros[32] = {0};
    CHECK_EQ_U64(0x8a9136aau, tandem_crc32c(0, zeros, sizeof(zeros)));
    /* incremental equals one shot */
    uint32_t part = tandem_crc32c(0, "1234", 4);
    CHECK_EQ_U64(0xe3069283u, tandem_crc32c(part, "56789", 5));
}

static void test_crc32c_hw_matches_sw(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint8_t buf[1024];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = (size_t)tandem_rand_below(&r.base, sizeof(buf));
        size_t start = (size_t)tandem_rand_below(&r.base, sizeof(buf) - len + 1);
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = (uint8_t)tandem_rand_u64(&r.base);
        }
        CHECK_EQ_U64(tandem_crc32c_sw(7, buf + start, len), tandem_crc32c(7, buf + start, len));
    }
}

static void test_buf_and_reader(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_buf_put_u8(&b, 0xab));
    CHECK_OK(tandem_buf_put_u16(&b, 0x1234));
    CHECK_OK(tandem_buf_put_u32(&b, 0xdeadbeef));
    CHECK_OK(tandem_buf_put_u64(&b, 0x0102030405060708u));
    uint64_t varints[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
        CHECK_OK(tandem_buf_put_varint(&b, varints[i]));
    }
    CHECK_EQ_U64(0x34, b.data[1]); /* little-endian */
    CHECK_EQ_U64(0x12, b.data[2]);

    tandem_reader r;
    tandem_reader_init(&r, b.data, b.len);
    CHECK_EQ_U64(0xab, tandem_read_u8(&r));
    CHECK_EQ_U64(0x1234, tandem_read_u16(&r));
    CHECK_EQ_U64(0xdeadbeef, tandem_read_u32(&r));
    CHECK_EQ_U64(0x0102030405060708u, tandem_read_u64(&r));
    for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
        CHECK_EQ_U64(varints[i], tandem_read_varint(&r));
    }
    CHECK(!r.failed);
    CHECK_EQ_U64(0, tandem_reader_left(&r));
    /* reading past the end fails, sticks and returns zeros */
    CHECK_EQ_U64(0, tandem_read_u32(&r));
    CHECK(r.failed);
    CHECK(tandem_read_bytes(&r, 0) == NULL);
    tandem_buf_free(&b);
}

static void test_reader_bad_varints(void)
{
    /* eleven continuation bytes: longer than any 64-bit varint */
    uint8_t long_varint[11];
    memset(long_varint, 0xff, sizeof(long_varint));
    tandem_reader r;
    tandem_reader_init(&r, long_varint, sizeof(long_varint));
    tandem_read_varint(&r);
    CHECK(r.failed);
    /* tenth byte with bits beyond 64 */
    uint8_t overflow[10] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    tandem_reader_init(&r, overflow, sizeof(overflow));
    tandem_read_varint(&r);
    CHECK(r.failed);
    /* truncated */
    uint8_t cut[2] = {0x80, 0x80};
    tandem_reader_init(&r, cut, sizeof(cut));
    tandem_read_varint(&r);
    CHECK(r.failed);
}

static void test_seeded_rand_is_deterministic(void)
{
    tandem_seeded_rand a;
    tandem_seeded_rand b;
    tandem_seeded_rand_init(&a, 42);
    tandem_seeded_rand_init(&b, 42);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ_U64(tandem_rand_u64(&a.base), tandem_rand_u64(&b.base));
    }
    tandem_seeded_rand_init(&b, 43);
    CHECK(tandem_rand_u64(&a.base) != tandem_rand_u64(&b.base));
    for (int i = 0; i < 1000; i++) {
        CHECK(tandem_rand_below(&a.base, 7) < 7);
    }
    /* the real source gives different values */
    CHECK(tandem_rand_u64(tandem_rand_real()) != tandem_rand_u64(tandem_rand_real()));
}

static void test_clocks(void)
{
    tandem_fake_clock fc;
    tandem_fake_clock_init(&fc, 1000, 5);
    CHECK_EQ_U64(1000, tandem_clock_wall_ms(&fc.base));
    tandem_fake_clock_advance_ms(&fc, 250);
    CHECK_EQ_U64(1250, tandem_clock_wall_ms(&fc.base));
    CHECK_EQ_U64(5 + 250000000u, tandem_clock_mono_ns(&fc.base));
    uint64_t a = tandem_clock_mono_ns(tandem_clock_real());
    uint64_t b = tandem_clock_mono_ns(tandem_clock_real());
    CHECK(b >= a);
    CHECK(tandem_clock_wall_ms(tandem_clock_real()) > 1700000000000u);
}

static void test_log_format(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CHECK(mem != NULL);
    tandem_log_set_sink(mem);
    tandem_log(TANDEM_LOG_INFO, "journal opened", "partition", "1", "path", "a b\"c", NULL);
    tandem_log(TANDEM_LOG_DEBUG, "dropped at info level", NULL);
    tandem_logf(TANDEM_LOG_WARN, "slow fsync", "partition=%d duration_ms=%d", 2, 31);
    tandem_log_set_sink(NULL);
    fclose(mem);
    CHECK_CONTAINS(text, "level=info ts=");
    CHECK_CONTAINS(text, " msg=\"journal opened\" partition=1 path=\"a b\\\"c\"\n");
    CHECK(strstr(text, "dropped") == NULL);
    CHECK_CONTAINS(text, "level=warn");
    CHECK_CONTAINS(text, "msg=\"slow fsync\" partition=2 duration_ms=31\n");
    CHECK_EQ_I64(TANDEM_LOG_WARN, tandem_log_level_parse("warn"));
    CHECK_EQ_I64(-1, tandem_log_level_parse("loud"));
    free(text);
}

static void test_path_parent(void)
{
    char out[64];
    CHECK_OK(tandem_path_parent("a/b/c", out, sizeof(out)));
    CHECK_STREQ("a/b", out);
    CHECK_OK(tandem_path_parent("c", out, sizeof(out)));
    CHECK_STREQ(".", out);
    CHECK_OK(tandem_path_parent("/c", out, sizeof(out)));
    CHECK_STREQ("/", out);
    CHECK_RC(TANDEM_ETOOBIG, tandem_path_parent("abcdef/g", out, 4));
}

static void test_posix_file_helpers(void)
{
    tandem_fileops *ops = tandem_fileops_posix();
    char dir[4096];
    char path[4200];
    snprintf(dir, sizeof(dir), "%s/sub", test_tmpdir());
    CHECK_OK(tandem_mkdir_durable(ops, dir));
    CHECK_OK(tandem_mkdir_durable(ops, dir)); /* existing directory is fine */
    snprintf(path, sizeof(path), "%s/f", dir);
    CHECK_OK(tandem_file_write_atomic(ops, path, "hello", 5));
    CHECK_OK(tandem_file_write_atomic(ops, path, "bye", 3));
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(tandem_file_read_all(ops, path, 100, &data, &len));
    CHECK_EQ_U64(3, len);
    CHECK_STREQ("bye", (char *)data);
    free(data);
    CHECK_RC(TANDEM_ETOOBIG, tandem_file_read_all(ops, path, 2, &data, &len));
    CHECK_RC(TANDEM_EEXIST, tandem_mkdir_durable(ops, path)); /* a file is in the way */
    char missing[4200];
    snprintf(missing, sizeof(missing), "%s/none", dir);
    CHECK_RC(TANDEM_ENOENT, tandem_file_read_all(ops, missing, 100, &data, &len));
}

static const tandem_test cases[] = {
    {"error_table", test_error_table},
    {"crc32c_vectors", test_crc32c_vectors},
    {"crc32c_hw_matches_sw", test_crc32c_hw_matches_sw},
    {"buf_and_reader", test_buf_and_reader},
    {"reader_bad_varints", test_reader_bad_varints},
    {"seeded_rand_is_deterministic", test_seeded_rand_is_deterministic},
    {"clocks", test_clocks},
    {"log_format", test_log_format},
    {"path_parent", test_path_parent},
    {"posix_file_helpers", test_posix_file_helpers},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
