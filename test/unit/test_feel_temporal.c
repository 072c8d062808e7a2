/*
 * test_feel_temporal.c — dates, times, date-times and durations: literals,
 * conversion functions, arithmetic, comparison, properties, calendar
 * functions and the caller's clock.
 */
#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"
#include "test.h"

static char last_warning[256];

static const char *ev_now(const char *src, int64_t now_ms)
{
    static char out[1024];
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    CHECK_MSG(tandem_feel_compile(src, strlen(src), NULL, &e, &d) == 0, "compile \"%s\": %s", src,
              d.message);
    tandem_feel_eval_opts opts = {.now_ms = now_ms};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    CHECK_MSG(tandem_feel_eval(e, &opts, &r, &d) == 0, "eval \"%s\": %s", src, d.message);
    last_warning[0] = '\0';
    if (r.warning_count > 0) {
        snprintf(last_warning, sizeof(last_warning), "%s", r.warnings[0]);
    }
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_feel_result_json(&r, &b));
    CHECK(b.len < sizeof(out));
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    tandem_buf_free(&b);
    tandem_feel_result_free(&r);
    tandem_feel_expr_free(e);
    return out;
}

#define EQ(expected, src) CHECK_STREQ(expected, ev_now(src, 0))

static void test_literals_and_conversion(void)
{
    EQ("\"2020-01-01\"", "@\"2020-01-01\"");
    EQ("\"10:00:00\"", "@\"10:00:00\"");
    EQ("\"10:30:00.5\"", "time(\"10:30:00.500\")");
    EQ("\"2020-01-01T10:00:00Z\"", "@\"2020-01-01T10:00:00Z\"");
    EQ("\"2020-01-01T10:00:00+02:00\"", "date and time(\"2020-01-01T10:00:00+02:00\")");
    EQ("\"2020-01-01T10:00:00@Europe/Berlin\"", "@\"2020-01-01T10:00:00@Europe/Berlin\"");
    EQ("\"P1DT12H\"", "duration(\"PT36H\")");
    EQ("\"P1Y2M\"", "duration(\"P14M\")");
    EQ("\"PT0S\"", "@\"PT0S\"");
    EQ("\"P0M\"", "@\"P0Y\"");
    EQ("\"-P1D\"", "duration(\"-P1D\")");
    EQ("\"P14D\"", "duration(\"P2W\")");
    EQ("\"2020-02-29\"", "date(2020, 2, 29)");
    EQ("\"2020-01-01\"", "date(@\"2020-01-01T10:00:00\")");
    EQ("\"10:05:00.25+01:00\"", "time(10, 5, 0.25, duration(\"PT1H\"))");
    EQ("\"2020-01-01T10:00:00\"", "date and time(date(\"2020-01-01\"), time(\"10:00:00\"))");
    EQ("\"2020-01-01T00:00:00\"", "date and time(\"2020-01-01\")");
    EQ("\"2020-01-01\"", "string(@\"2020-01-01\")");
    EQ("\"[\\\"P1D\\\"]\"", "string([@\"P1D\"])");
    EQ("true", "@\"2020-01-01\" instance of date");
    EQ("true", "@\"P1D\" instance of days and time duration");
}

static void test_invalid(void)
{
    EQ("null", "@\"2020-13-01\"");
    CHECK_STREQ("'2020-13-01' is not a date, time or duration", last_warning);
    EQ("null", "date(\"2021-02-29\")");
    CHECK_CONTAINS(last_warning, "is not a valid date");
    EQ("null", "date(2020, 2, 30)");
    EQ("null", "time(\"25:00:00\")");
    EQ("null", "duration(\"P1Y2D\")");
    EQ("null", "duration(\"P\")");
    EQ("null", "duration(\"P999999999999999W\")");
    EQ("\"P10000DT1H\"", "duration(\"PT240001H\")");
    EQ("\"P115740DT17H46M40S\"", "duration(\"PT10000000000S\")");
    EQ("null", "date(\"2020-01-01T10:00:00\")");
    CHECK_CONTAINS(last_warning, "date: '2020-01-01T10:00:00' is not a valid date");
}

static void test_arithmetic(void)
{
    EQ("\"2020-02-29\"", "date(\"2020-01-31\") + @\"P1M\"");
    EQ("\"2019-02-28\"", "date(\"2020-02-29\") - @\"P1Y\"");
    EQ("\"2020-01-02\"", "@\"2020-01-01\" + @\"P1D\"");
    EQ("\"P60D\"", "date(\"2020-03-01\") - date(\"2020-01-01\")");
    EQ("\"2020-01-02T01:00:00\"", "@\"2020-01-01T23:00:00\" + @\"PT2H\"");
    EQ("\"2019-12-31T23:00:00Z\"", "@\"2020-01-01T01:00:00Z\" - @\"PT2H\"");
    EQ("\"PT2H\"", "@\"2020-01-01T12:00:00Z\" - @\"2020-01-01T12:00:00+02:00\"");
    EQ("null", "@\"2020-01-01T12:00:00Z\" - @\"2020-01-01T12:00:00\"");
    EQ("\"01:00:00\"", "@\"23:00:00\" + @\"PT2H\"");
    EQ("\"PT1H30M0.5S\"", "time(\"10:30:00.5\") - time(\"09:00:00\")");
    EQ("\"P1DT3H\"", "@\"P1DT2H\" + @\"PT1H\"");
    EQ("\"P1Y1M\"", "@\"P1Y\" + @\"P1M\"");
    EQ("\"P1DT12H\"", "@\"P1D\" * 1.5");
    EQ("\"P3D\"", "3 * @\"P1D\"");
    EQ("\"P6M\"", "@\"P1Y\" / 2");
    EQ("2", "@\"P2D\" / @\"P1D\"");
    EQ("\"-P1D\"", "-@\"P1D\"");
    EQ("null", "@\"P1D\" + @\"P1Y\"");
    EQ("null", "@\"10:00:00\" + @\"P1M\"");
    /* found by the fuzzer: a string is no date */
    EQ("null", "(\"0022-01-31\") + @\"P1M\"");
    CHECK_CONTAINS(last_warning, "can't apply '+' to a string and a years and months duration");
    EQ("null", "@\"P1D\" + \"x\"");
    EQ("null", "\"2020-01-01\" - @\"2020-01-01\"");
    EQ("null", "[1] * @\"P1D\"");
    /* found by the fuzzer: a product far beyond any duration */
    EQ("null", "@\"P1DT2H\" * 66000000000000");
    CHECK_STREQ("duration out of range", last_warning);
    EQ("\"P7864999DT23H59M59.9999064S\"", "@\"P1DT2H\" * 7259999.999999999");
}

static void test_comparison_and_properties(void)
{
    EQ("true", "@\"2020-01-01\" < @\"2020-01-02\"");
    EQ("true", "@\"2020-01-01T10:00:00Z\" = @\"2020-01-01T12:00:00+02:00\"");
    EQ("null", "@\"2020-01-01T10:00:00Z\" < @\"2020-01-01T12:00:00\"");
    EQ("true", "@\"PT24H\" = @\"P1D\"");
    EQ("true", "@\"P1Y\" > @\"P11M\"");
    EQ("true", "@\"2020-01-05\" in [@\"2020-01-01\"..@\"2020-01-31\"]");
    EQ("true", "@\"2020-01-05\" between @\"2020-01-01\" and @\"2020-01-31\"");
    EQ("2020", "@\"2020-03-04T05:06:07\".year");
    EQ("3", "@\"2020-03-04T05:06:07\".month");
    EQ("4", "@\"2020-03-04T05:06:07\".day");
    EQ("3", "@\"2020-01-01\".weekday");
    EQ("5", "@\"2020-03-04T05:06:07\".hour");
    EQ("6", "@\"05:06:07\".minute");
    EQ("7", "@\"05:06:07\".second");
    EQ("\"PT2H\"", "@\"10:00:00+02:00\".time offset");
    EQ("\"Europe/Berlin\"", "@\"2020-01-01T10:00:00@Europe/Berlin\".timezone");
    EQ("null", "@\"10:00:00\".time offset");
    EQ("1", "@\"P1DT2H3M4S\".days");
    EQ("2", "@\"P1DT2H3M4S\".hours");
    EQ("3", "@\"P1DT2H3M4S\".minutes");
    EQ("4", "@\"P1DT2H3M4S\".seconds");
    EQ("1", "@\"P1Y6M\".years");
    EQ("6", "@\"P1Y6M\".months");
    EQ("null", "@\"2020-01-01\".hour");
    CHECK_CONTAINS(last_warning, "no property 'hour' on a value of type date");
}

static void test_calendar_functions(void)
{
    EQ("\"Wednesday\"", "day of week(@\"2020-01-01\")");
    EQ("61", "day of year(date(\"2020-03-01\"))");
    EQ("1", "week of year(date(\"2020-01-01\"))");
    EQ("53", "week of year(date(\"2021-01-03\"))");
    EQ("1", "week of year(date(\"2019-12-30\"))");
    EQ("\"January\"", "month of year(date(\"2020-01-01\"))");
    EQ("\"2020-02-29\"", "last day of month(date(\"2020-02-10\"))");
    EQ("\"P1Y2M\"", "years and months duration(date(\"2020-01-01\"), date(\"2021-03-05\"))");
    EQ("\"-P1M\"", "years and months duration(date(\"2020-03-01\"), date(\"2020-01-05\"))");
    EQ("\"-0044-03-15\"", "date(-44, 3, 15)");
}

static void test_clock(void)
{
    /* 2024-05-01T12:34:56.789Z */
    CHECK_STREQ("\"2024-05-01T12:34:56.789Z\"", ev_now("now()", INT64_C(1714566896789)));
    CHECK_STREQ("\"2024-05-01\"", ev_now("today()", INT64_C(1714566896789)));
    CHECK_STREQ("\"1969-12-31T23:59:59.999Z\"", ev_now("now()", -1));
    CHECK_STREQ("true", ev_now("today() > @\"2024-04-30\"", INT64_C(1714566896789)));
}

static const tandem_test cases[] = {
    {"literals_and_conversion", test_literals_and_conversion},
    {"invalid", test_invalid},
    {"arithmetic", test_arithmetic},
    {"comparison_and_properties", test_comparison_and_properties},
    {"calendar_functions", test_calendar_functions},
    {"clock", test_clock},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
