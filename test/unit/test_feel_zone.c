/*
 * test_feel_zone.c — zones by name: TZif data built here (a rule-only zone,
 * a zone with transitions, damaged data), offsets in gaps and overlaps,
 * arithmetic across a change of offset, unknown names, the name check.
 */
#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"
#include "test.h"

static void put_be32(tandem_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    CHECK_OK(tandem_buf_append(b, p, 4));
}

static void put_header(tandem_buf *b, uint32_t ntimes, uint32_t ntypes, uint32_t nchars)
{
    CHECK_OK(tandem_buf_append(b, "TZif2", 5));
    CHECK_OK(tandem_buf_append(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15));
    put_be32(b, 0); /* isut */
    put_be32(b, 0); /* isstd */
    put_be32(b, 0); /* leap */
    put_be32(b, ntimes);
    put_be32(b, ntypes);
    put_be32(b, nchars);
}

/* A TZif v2 file: transitions at `times` to the types of `idx`, types with
 * the offsets `utoffs` (isdst when odd index), then the footer. */
static void build_tzif(tandem_buf *b, const int64_t *times, const uint8_t *idx, uint32_t ntimes,
                       const int32_t *utoffs, uint32_t ntypes, const char *footer)
{
    for (int pass = 0; pass < 2; pass++) {
        put_header(b, ntimes, ntypes, 4);
        for (uint32_t i = 0; i < ntimes; i++) {
            if (pass == 0) {
                put_be32(b, (uint32_t)times[i]);
            } else {
                put_be32(b, (uint32_t)((uint64_t)times[i] >> 32));
                put_be32(b, (uint32_t)times[i]);
            }
        }
        CHECK_OK(tandem_buf_append(b, idx, ntimes));
        for (uint32_t t = 0; t < ntypes; t++) {
            put_be32(b, (uint32_t)utoffs[t]);
            uint8_t rest[2] = {(uint8_t)(t % 2), 0};
            CHECK_OK(tandem_buf_append(b, rest, 2));
        }
        CHECK_OK(tandem_buf_append(b, "XXX", 4));
    }
    CHECK_OK(tandem_buf_put_u8(b, '\n'));
    CHECK_OK(tandem_buf_append(b, footer, strlen(footer)));
    CHECK_OK(tandem_buf_put_u8(b, '\n'));
}

static int loads;

static int test_loader(void *ctx, const char *name, tandem_buf *out)
{
    (void)ctx;
    loads++;
    if (strcmp(name, "Test/Rule") == 0) {
        int32_t offs[1] = {3600};
        build_tzif(out, NULL, NULL, 0, offs, 1, "CET-1CEST,M3.5.0,M10.5.0/3");
        return 0;
    }
    if (strcmp(name, "Test/Jump") == 0) {
        /* UTC until 2001-09-09T01:46:40Z, then +05:30 for ever */
        int64_t times[1] = {1000000000};
        uint8_t idx[1] = {1};
        int32_t offs[2] = {0, 19800};
        build_tzif(out, times, idx, 1, offs, 2, "");
        return 0;
    }
    if (strcmp(name, "Test/Empty") == 0) {
        return 0; /* a loader that found an empty file */
    }
    if (strcmp(name, "Test/Far") == 0) {
        int32_t offs[1] = {100 * 3600}; /* an offset of 100 hours is no offset */
        build_tzif(out, NULL, NULL, 0, offs, 1, "");
        return 0;
    }
    if (strcmp(name, "Test/Broken") == 0) {
        return tandem_buf_append(out, "TZif2 not really", 16);
    }
    return TANDEM_ENOENT;
}

static const char *ev_zones(tandem_feel_zones *zones, const char *src, char *warning)
{
    static char out[512];
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_MSG(tandem_feel_compile(src, strlen(src), NULL, &e, &d) == 0, "%s", d.message);
    tandem_feel_eval_opts opts = {.zones = zones};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    CHECK_OK(tandem_feel_eval(e, &opts, &r, &d));
    snprintf(warning, 256, "%s", r.warning_count > 0 ? r.warnings[0] : "");
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_feel_result_json(&r, &b));
    snprintf(out, sizeof(out), "%.*s", (int)b.len, (const char *)b.data);
    tandem_buf_free(&b);
    tandem_feel_result_free(&r);
    tandem_feel_expr_free(e);
    return out;
}

#define EQZ(expected, src) CHECK_STREQ(expected, ev_zones(zones, src, warning))

static void test_rule_zone(void)
{
    tandem_feel_zones *zones = NULL;
    char warning[256];
    CHECK_OK(tandem_feel_zones_new(test_loader, NULL, &zones));
    EQZ("\"PT1H\"", "@\"2024-01-15T12:00:00@Test/Rule\".time offset");
    EQZ("\"PT2H\"", "@\"2024-07-01T12:00:00@Test/Rule\".time offset");
    /* the gap of 2024-03-31: 02:30 does not exist and moves forward */
    EQZ("\"2024-03-31T03:30:00@Test/Rule\"", "@\"2024-03-31T02:30:00@Test/Rule\"");
    EQZ("\"2024-03-31T01:59:59@Test/Rule\"", "@\"2024-03-31T01:59:59@Test/Rule\"");
    /* the overlap of 2024-10-27: 02:30 happens twice, the earlier offset wins */
    EQZ("\"PT2H\"", "@\"2024-10-27T02:30:00@Test/Rule\".time offset");
    EQZ("\"PT1H\"", "@\"2024-10-27T03:30:00@Test/Rule\".time offset");
    /* a duration moves the instant: 24 hours across the change show 13:00 */
    EQZ("\"2024-03-31T13:00:00@Test/Rule\"", "@\"2024-03-30T12:00:00@Test/Rule\" + @\"PT24H\"");
    /* months move the local date-time */
    EQZ("\"2024-04-30T12:00:00@Test/Rule\"", "@\"2024-03-30T12:00:00@Test/Rule\" + @\"P1M\"");
    EQZ("true", "@\"2024-07-01T12:00:00@Test/Rule\" = @\"2024-07-01T10:00:00Z\"");
    EQZ("\"PT23H\"", "@\"2024-04-01T00:00:00@Test/Rule\" - @\"2024-03-31T00:00:00@Test/Rule\"");
    EQZ("\"PT2H\"", "@\"2095-08-01T00:00:00@Test/Rule\".time offset");
    CHECK_EQ_U64(1, (uint64_t)loads); /* read once, then from the table */
    tandem_feel_zones_free(zones);
}

static void test_transitions_and_errors(void)
{
    tandem_feel_zones *zones = NULL;
    char warning[256];
    loads = 0;
    CHECK_OK(tandem_feel_zones_new(test_loader, NULL, &zones));
    EQZ("\"PT0S\"", "@\"2001-09-09T01:46:39@Test/Jump\".time offset");
    EQZ("\"PT5H30M\"", "@\"2001-09-09T07:16:40@Test/Jump\".time offset");
    EQZ("\"PT5H30M\"", "@\"2030-01-01T00:00:00@Test/Jump\".time offset");
    EQZ("null", "@\"2024-01-01T00:00:00@Test/Broken\"");
    CHECK_STREQ("unknown time zone 'Test/Broken'", warning);
    EQZ("null", "@\"2024-01-01T00:00:00@Test/Far\"");
    CHECK_STREQ("unknown time zone 'Test/Far'", warning);
    EQZ("null", "@\"2024-01-01T00:00:00@Test/Empty\"");
    CHECK_STREQ("unknown time zone 'Test/Empty'", warning);
    EQZ("null", "@\"2024-01-01T00:00:00@Nowhere/City\"");
    CHECK_STREQ("unknown time zone 'Nowhere/City'", warning);
    EQZ("null", "date and time(\"2024-01-01T00:00:00@../../etc/passwd\")");
    CHECK_CONTAINS(warning, "unknown time zone");
    uint64_t before = (uint64_t)loads;
    EQZ("null", "date and time(\"2024-01-01T00:00:00@/etc/passwd\")");
    CHECK_EQ_U64(before, (uint64_t)loads); /* refused names never reach the loader */
    /* without zone data a zone is kept, printed, and compared with itself only */
    CHECK_STREQ("\"2024-03-31T02:30:00@Test/Rule\"",
                ev_zones(NULL, "@\"2024-03-31T02:30:00@Test/Rule\"", warning));
    CHECK_STREQ("null", ev_zones(NULL, "@\"2024-03-31T02:30:00@Test/Rule\".time offset", warning));
    tandem_feel_zones_free(zones);
}

static const tandem_test cases[] = {
    {"rule_zone", test_rule_zone},
    {"transitions_and_errors", test_transitions_and_errors},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
