/*
 * Tables for the FEEL decimal: text in and out, conversions, every operation
 * (against a generated table from an independent implementation and
 * hand-picked cases for ties, carries, scale and the range limits).
 */
#include <math.h>

#include "base/error.h"
#include "feel/decimal.h"
#include "test.h"

typedef struct decimal_case {
    const char *op;
    const char *a;
    const char *b;
    const char *expect; /* canonical text, "ERANGE" or "EINVAL" */
} decimal_case;

#include "test_decimal_cases.h"

static tandem_decimal dec(const char *text)
{
    tandem_decimal d;
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_decimal_parse(text, strlen(text), TANDEM_DECIMAL_SYNTAX_LENIENT, &d, &diag);
    CHECK_MSG(rc == 0, "parse \"%s\": %s", text, tandem_diag_text(&diag));
    return d;
}

/* Canonical text in a rotating static buffer (a few live at once). */
static const char *fmt(tandem_decimal d)
{
    static char bufs[8][TANDEM_DECIMAL_TEXT_MAX];
    static int next;
    char *buf = bufs[next++ % 8];
    size_t n = tandem_decimal_format(d, buf, TANDEM_DECIMAL_TEXT_MAX);
    CHECK(n < TANDEM_DECIMAL_TEXT_MAX);
    CHECK_EQ_U64(n, strlen(buf));
    return buf;
}

static const char *rc_text(int rc, tandem_decimal d)
{
    if (rc == TANDEM_ERANGE) {
        return "ERANGE";
    }
    if (rc == TANDEM_EINVAL) {
        return "EINVAL";
    }
    CHECK_OK(rc);
    return fmt(d);
}

static int apply(const char *op, tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    if (strcmp(op, "add") == 0) {
        return tandem_decimal_add(a, b, out);
    }
    if (strcmp(op, "sub") == 0) {
        return tandem_decimal_sub(a, b, out);
    }
    if (strcmp(op, "mul") == 0) {
        return tandem_decimal_mul(a, b, out);
    }
    if (strcmp(op, "div") == 0) {
        return tandem_decimal_div(a, b, out);
    }
    if (strcmp(op, "mod") == 0) {
        return tandem_decimal_mod(a, b, out);
    }
    if (strcmp(op, "div_int") == 0) {
        return tandem_decimal_div_int(a, b, out);
    }
    if (strcmp(op, "sqrt") == 0) {
        return tandem_decimal_sqrt(a, out);
    }
    CHECK_MSG(0, "unknown op %s", op);
    return -1;
}

static void check_op(const char *op, const char *a, const char *b, const char *expect)
{
    tandem_decimal r = dec("12345"); /* must stay untouched on failure */
    tandem_decimal before = r;
    int rc = apply(op, dec(a), b[0] ? dec(b) : dec("0"), &r);
    const char *got = rc_text(rc, r);
    CHECK_MSG(strcmp(got, expect) == 0, "%s(%s, %s) = %s, expected %s", op, a, b, got, expect);
    if (rc != 0) {
        CHECK(memcmp(&r, &before, sizeof(r)) == 0);
    } else {
        CHECK(!tandem_decimal_is_zero(r) || !tandem_decimal_is_negative(r));
    }
}

static void test_generated_table(void)
{
    size_t n = sizeof(decimal_cases) / sizeof(decimal_cases[0]);
    CHECK(n > 1000);
    for (size_t i = 0; i < n; i++) {
        check_op(decimal_cases[i].op, decimal_cases[i].a, decimal_cases[i].b,
                 decimal_cases[i].expect);
    }
}

static void test_arithmetic_cases(void)
{
    static const decimal_case cases[] = {
        /* the reason for decimals */
        {"add", "0.1", "0.2", "0.3"},
        {"sub", "0.3", "0.1", "0.2"},
        {"mul", "0.1", "3", "0.3"},
        {"add", "1.50", "0", "1.5"},
        {"sub", "1", "1", "0"},
        {"sub", "-1", "-1", "0"},
        {"mul", "-1", "0", "0"},
        {"mul", "-0", "5", "0"},
        {"div", "0", "-5", "0"},
        /* carries across 34 digits */
        {"add", "9999999999999999999999999999999999", "1", "1E+34"},
        {"add", "9999999999999999999999999999999999", "0.5", "1E+34"},
        {"add", "9999999999999999999999999999999998", "0.5", "9999999999999999999999999999999998"},
        {"add", "9999999999999999999999999999999997", "0.5", "9999999999999999999999999999999998"},
        {"add", "9999999999999999999999999999999997", "0.50000001",
         "9999999999999999999999999999999998"},
        {"add", "9999999999999999999999999999999998", "0.50000001",
         "9999999999999999999999999999999999"},
        {"add", "1E+34", "-0.5", "1E+34"},
        {"add", "1E+34", "-1", "9999999999999999999999999999999999"},
        {"add", "1E+33", "-0.00000000000000000000000000001", "1000000000000000000000000000000000"},
        {"add", "1E+33", "-0.1", "999999999999999999999999999999999.9"},
        /* ties to even on add */
        {"add", "1234567890123456789012345678901234", "0.5", "1234567890123456789012345678901234"},
        {"add", "1234567890123456789012345678901235", "0.5", "1234567890123456789012345678901236"},
        {"add", "-1234567890123456789012345678901235", "-0.5",
         "-1234567890123456789012345678901236"},
        /* huge exponent gaps: the small operand only nudges the rounding */
        {"add", "1E+100", "1", "1E+100"},
        {"sub", "1E+100", "1E-100", "1E+100"},
        {"sub", "1E+100", "6E+65", "9.999999999999999999999999999999999E+99"},
        {"sub", "1E+100", "5E+65", "1E+100"},
        {"sub", "1E+100", "5.1E+65", "9.999999999999999999999999999999999E+99"},
        {"add", "1E-6143", "1E+6144", "1E+6144"},
        /* mul */
        {"mul", "1.1", "1.1", "1.21"},
        {"mul", "99999999999999999", "99999999999999999", "9999999999999999800000000000000001"},
        {"mul", "9999999999999999999999999999999999", "9999999999999999999999999999999999",
         "9.999999999999999999999999999999998E+67"},
        {"mul", "1.5", "-2", "-3"},
        {"mul", "1E+6144", "10", "ERANGE"},
        {"mul", "1E-6143", "0.1", "ERANGE"},
        {"mul", "1E-6143", "0", "0"},
        /* div */
        {"div", "1", "3", "0.3333333333333333333333333333333333"},
        {"div", "2", "3", "0.6666666666666666666666666666666667"},
        {"div", "-2", "3", "-0.6666666666666666666666666666666667"},
        {"div", "10", "4", "2.5"},
        {"div", "1", "0", "EINVAL"},
        {"div", "0", "0", "EINVAL"},
        {"div", "1", "1E-6143", "1E+6143"},
        {"div", "100", "1E-6143", "ERANGE"},
        {"div", "1E+6144", "0.1", "ERANGE"},
        {"div", "1", "9999999999999999999999999999999999", "1E-34"},
        {"div", "1", "18446744073709551617", "5.421010862427522169743390416644137E-20"},
        /* FEEL modulo: the sign of the divisor */
        {"mod", "-5", "3", "1"},
        {"mod", "5", "-3", "-1"},
        {"mod", "5", "3", "2"},
        {"mod", "-5", "-3", "-2"},
        {"mod", "10.1", "4.5", "1.1"},
        {"mod", "-10.1", "4.5", "3.4"},
        {"mod", "10.1", "-4.5", "-3.4"},
        {"mod", "-10.1", "-4.5", "-1.1"},
        {"mod", "6", "3", "0"},
        {"mod", "-6", "3", "0"},
        {"mod", "5", "0", "EINVAL"},
        {"mod", "1E+100", "3", "ERANGE"},
        {"mod", "1", "1E+100", "1"},
        {"mod", "-1", "1E+20", "99999999999999999999"},
        {"div_int", "7", "2", "3"},
        {"div_int", "-7", "2", "-4"},
        {"div_int", "7", "-2", "-4"},
        {"div_int", "-7", "-2", "3"},
        {"div_int", "-6", "2", "-3"},
        {"div_int", "1", "0", "EINVAL"},
        {"div_int", "-9999999999999999999999999999999999.5", "1", "ERANGE"},
        {"div_int", "-999999999999999999999999999999999.5", "1",
         "-1000000000000000000000000000000000"},
        /* sqrt */
        {"sqrt", "4", "", "2"},
        {"sqrt", "2", "", "1.414213562373095048801688724209698"},
        {"sqrt", "0.01", "", "0.1"},
        {"sqrt", "1E+2", "", "10"},
        {"sqrt", "-1", "", "EINVAL"},
        {"sqrt", "0", "", "0"},
        {"sqrt", "1E-6143", "", "3.162277660168379331998893544432719E-3072"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_op(cases[i].op, cases[i].a, cases[i].b, cases[i].expect);
    }
}

static void check_parse(tandem_decimal_syntax syntax, const char *text, const char *expect)
{
    tandem_decimal d = tandem_decimal_from_int64(77);
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_decimal_parse(text, strlen(text), syntax, &d, &diag);
    CHECK_MSG(rc == 0, "parse(%d, \"%s\"): %s", (int)syntax, text, tandem_diag_text(&diag));
    CHECK_MSG(strcmp(fmt(d), expect) == 0, "parse(%d, \"%s\") = %s, expected %s", (int)syntax, text,
              fmt(d), expect);
}

static void check_parse_error(tandem_decimal_syntax syntax, const char *text, int code,
                              const char *message)
{
    tandem_decimal d = tandem_decimal_from_int64(77);
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_decimal_parse(text, strlen(text), syntax, &d, &diag);
    CHECK_MSG(rc == code, "parse(%d, \"%s\") returned %s, expected %s", (int)syntax, text,
              tandem_errname(rc), tandem_errname(code));
    CHECK_CONTAINS(diag.message, message);
    CHECK_EQ_I64(code, diag.code);
    CHECK_STREQ("77", fmt(d)); /* untouched */
}

static void test_parse_and_format(void)
{
    static const struct {
        const char *text;
        const char *expect;
    } both[] = {
        {"0", "0"},
        {"-0", "0"},
        {"-0.000", "0"},
        {"1", "1"},
        {"-1.5", "-1.5"},
        {"1.50", "1.5"},
        {"100", "100"},
        {"0.3", "0.3"},
        {"-0.001", "-0.001"},
        {"0.000001", "0.000001"},
        {"0.0000001", "1E-7"},
        {"0.00000012", "1.2E-7"},
        {"123.456000", "123.456"},
        {"000123", "123"},
        {"1234567890123456789012345678901234", "1234567890123456789012345678901234"},
        {"12345678901234567890123456789012345", "1.234567890123456789012345678901234E+34"},
        {"12345678901234567890123456789012355", "1.234567890123456789012345678901236E+34"},
        {"1.2345678901234567890123456789012345", "1.234567890123456789012345678901234"},
        {"1.23456789012345678901234567890123450000001", "1.234567890123456789012345678901235"},
        {"0.99999999999999999999999999999999995", "1"},
        {"9999999999999999999999999999999999.5", "1E+34"},
        {"9999999999999999999999999999999998.5", "9999999999999999999999999999999998"},
        {"10000000000000000000000000000000000", "1E+34"},
        {"1000000000000000000000000000000000", "1000000000000000000000000000000000"},
        {"0.00000000000000000000000000000000000000000000001", "1E-47"},
    };
    tandem_decimal_syntax syntaxes[] = {TANDEM_DECIMAL_SYNTAX_FEEL, TANDEM_DECIMAL_SYNTAX_JSON,
                                        TANDEM_DECIMAL_SYNTAX_LENIENT};
    for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
        for (size_t s = 0; s < 3; s++) {
            if (syntaxes[s] == TANDEM_DECIMAL_SYNTAX_JSON && both[i].text[0] == '0' &&
                both[i].text[1] == '0') {
                continue; /* JSON forbids leading zeros */
            }
            check_parse(syntaxes[s], both[i].text, both[i].expect);
        }
    }
    check_parse(TANDEM_DECIMAL_SYNTAX_FEEL, ".5", "0.5");
    check_parse(TANDEM_DECIMAL_SYNTAX_FEEL, "-.5", "-0.5");
    check_parse(TANDEM_DECIMAL_SYNTAX_LENIENT, "1.", "1");
    check_parse(TANDEM_DECIMAL_SYNTAX_LENIENT, "+1.25", "1.25");
    check_parse(TANDEM_DECIMAL_SYNTAX_LENIENT, "1E3", "1000");
    check_parse(TANDEM_DECIMAL_SYNTAX_LENIENT, ".5e-2", "0.005");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1e3", "1000");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1.5E+40", "1.5E+40");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "-2.5e-100", "-2.5E-100");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "0e999999999999", "0");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "0.0e-999999999999", "0");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1e6144", "1E+6144");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1e-6143", "1E-6143");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "100e-6145", "1E-6143");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "0.01e6146", "1E+6144");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "9.999999999999999999999999999999999e6144",
                "9.999999999999999999999999999999999E+6144");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1e33", "1000000000000000000000000000000000");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "1e34", "1E+34");
    check_parse(TANDEM_DECIMAL_SYNTAX_JSON, "-1.5e-6", "-0.0000015");
}

static void test_parse_errors(void)
{
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "", TANDEM_EINVAL, "empty");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "-", TANDEM_EINVAL,
                      "expected a digit at offset 1");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "1.", TANDEM_EINVAL,
                      "expected a digit after '.' at offset 2");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "1e3", TANDEM_EINVAL,
                      "FEEL numbers have no exponent at offset 1");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "+1", TANDEM_EINVAL, "'+'");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "1 ", TANDEM_EINVAL,
                      "invalid number \"1 \": unexpected character at offset 1");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "1.2.3", TANDEM_EINVAL, "offset 3");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, "abc", TANDEM_EINVAL, "offset 0");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "01", TANDEM_EINVAL, "leading zero");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, ".5", TANDEM_EINVAL, "expected a digit");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "1e", TANDEM_EINVAL,
                      "expected a digit of the exponent at offset 2");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "1e+", TANDEM_EINVAL, "exponent");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "NaN", TANDEM_EINVAL, "offset 0");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "Infinity", TANDEM_EINVAL, "offset 0");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_LENIENT, ".", TANDEM_EINVAL, "expected a digit");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_LENIENT, "e5", TANDEM_EINVAL, "offset 0");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "1e6145", TANDEM_ERANGE, "out of range");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "1e-6144", TANDEM_ERANGE, "out of range");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "1e99999999999999999999", TANDEM_ERANGE,
                      "out of range");
    check_parse_error(TANDEM_DECIMAL_SYNTAX_JSON, "9.9999999999999999999999999999999999e6144",
                      TANDEM_ERANGE, "out of range");
    check_parse_error((tandem_decimal_syntax)9, "1", TANDEM_EINVAL, "unknown number syntax");
    /* Long text is quoted only in part. */
    char long_text[200];
    memset(long_text, '1', sizeof(long_text) - 2);
    long_text[sizeof(long_text) - 2] = 'x';
    long_text[sizeof(long_text) - 1] = '\0';
    check_parse_error(TANDEM_DECIMAL_SYNTAX_FEEL, long_text, TANDEM_EINVAL, "...\": unexpected");
    /* A span inside a larger buffer: bytes past len are not read. */
    tandem_decimal d;
    CHECK_OK(tandem_decimal_parse("12x", 2, TANDEM_DECIMAL_SYNTAX_FEEL, &d, NULL));
    CHECK_STREQ("12", fmt(d));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_parse("12x", 3, TANDEM_DECIMAL_SYNTAX_FEEL, &d, NULL));
}

static void test_format_truncation(void)
{
    tandem_decimal d = dec("-123.45");
    char small[4];
    CHECK_EQ_U64(7, tandem_decimal_format(d, small, sizeof(small)));
    CHECK_STREQ("-12", small);
    CHECK_EQ_U64(7, tandem_decimal_format(d, NULL, 0));
    /* The longest texts fit TANDEM_DECIMAL_TEXT_MAX. */
    const char *longest[] = {"-0.000001234567890123456789012345678901234",
                             "-1.234567890123456789012345678901234E-6143",
                             "-1.234567890123456789012345678901234E+6144"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STREQ(longest[i], fmt(dec(longest[i])));
    }
}

static void test_int_conversions(void)
{
    CHECK_STREQ("0", fmt(tandem_decimal_from_int64(0)));
    CHECK_STREQ("-9223372036854775808", fmt(tandem_decimal_from_int64(INT64_MIN)));
    CHECK_STREQ("9223372036854775807", fmt(tandem_decimal_from_int64(INT64_MAX)));
    CHECK_STREQ("18446744073709551615", fmt(tandem_decimal_from_uint64(UINT64_MAX)));
    int64_t v = 0;
    CHECK_OK(tandem_decimal_to_int64(dec("-9223372036854775808"), &v));
    CHECK_EQ_I64(INT64_MIN, v);
    CHECK_OK(tandem_decimal_to_int64(dec("9223372036854775807.000"), &v));
    CHECK_EQ_I64(INT64_MAX, v);
    CHECK_OK(tandem_decimal_to_int64(dec("1.2E+3"), &v));
    CHECK_EQ_I64(1200, v);
    CHECK_OK(tandem_decimal_to_int64(dec("-0.000"), &v));
    CHECK_EQ_I64(0, v);
    v = 5;
    CHECK_RC(TANDEM_ERANGE, tandem_decimal_to_int64(dec("9223372036854775808"), &v));
    CHECK_RC(TANDEM_ERANGE, tandem_decimal_to_int64(dec("-9223372036854775809"), &v));
    CHECK_RC(TANDEM_ERANGE, tandem_decimal_to_int64(dec("1E+19"), &v));
    CHECK_RC(TANDEM_ERANGE, tandem_decimal_to_int64(dec("1E+6144"), &v));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_to_int64(dec("1.5"), &v));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_to_int64(dec("1E-6143"), &v));
    CHECK_EQ_I64(5, v);
}

static void test_double_conversions(void)
{
    static const struct {
        double v;
        const char *expect;
    } cases[] = {
        {0.1, "0.1"},
        {0.2, "0.2"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0, "1"},
        {-1.5, "-1.5"},
        {100.0, "100"},
        {1e21, "1000000000000000000000"},
        {1e-7, "1E-7"},
        {123456.789, "123456.789"},
        {5e-324, "5E-324"},
        {1.7976931348623157e308, "1.7976931348623157E+308"},
        {-0.0, "0"},
        {9007199254740993.0, "9007199254740992"},
        {2.5e-5, "0.000025"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tandem_decimal d;
        CHECK_OK(tandem_decimal_from_double(cases[i].v, &d));
        CHECK_STREQ(cases[i].expect, fmt(d));
        CHECK(!tandem_decimal_is_negative(d) || cases[i].v < 0);
        CHECK(tandem_decimal_to_double(d) == cases[i].v);
    }
    tandem_decimal d = dec("3");
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_from_double(NAN, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_from_double(INFINITY, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_from_double(-INFINITY, &d));
    CHECK_STREQ("3", fmt(d));
    CHECK(tandem_decimal_to_double(dec("0.3")) == 0.3);
    CHECK(tandem_decimal_to_double(dec("1E+400")) == HUGE_VAL);
    CHECK(tandem_decimal_to_double(dec("-1E+400")) == -HUGE_VAL);
    CHECK(tandem_decimal_to_double(dec("1E-400")) == 0.0);
    CHECK(tandem_decimal_to_double(dec("0.1000000000000000055511151231257827")) == 0.1);
    CHECK(tandem_decimal_to_double(dec("-2.5E-100")) == -2.5e-100);
}

static void test_compare(void)
{
    static const char *ordered[] = {"-9.999999999999999999999999999999999E+6144",
                                    "-1E+100",
                                    "-100",
                                    "-1.5",
                                    "-1",
                                    "-0.5",
                                    "-1E-6143",
                                    "0",
                                    "1E-6143",
                                    "0.1",
                                    "0.3",
                                    "0.5",
                                    "1",
                                    "1.000000000000000000000000000000001",
                                    "1.5",
                                    "2",
                                    "10",
                                    "99.99",
                                    "100",
                                    "1E+34",
                                    "1E+6144"};
    size_t n = sizeof(ordered) / sizeof(ordered[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int expect = i < j ? -1 : (i > j ? 1 : 0);
            int got = tandem_decimal_cmp(dec(ordered[i]), dec(ordered[j]));
            CHECK_MSG(got == expect, "cmp(%s, %s) = %d", ordered[i], ordered[j], got);
        }
    }
    /* Scale does not matter; reduce gives identical structs. */
    static const char *equal[][2] = {{"1.0", "1"},     {"1.50", "1.5"}, {"100", "1E+2"},
                                     {"0.000", "0"},   {"-0", "0"},     {"0E+10", "0E-10"},
                                     {"-2.50", "-2.5"}};
    for (size_t i = 0; i < sizeof(equal) / sizeof(equal[0]); i++) {
        tandem_decimal a = dec(equal[i][0]), b = dec(equal[i][1]);
        CHECK_EQ_I64(0, tandem_decimal_cmp(a, b));
        tandem_decimal ra = tandem_decimal_reduce(a), rb = tandem_decimal_reduce(b);
        CHECK(memcmp(&ra, &rb, sizeof(ra)) == 0);
    }
}

static void test_queries(void)
{
    CHECK(tandem_decimal_is_zero(dec("-0.00")));
    CHECK(!tandem_decimal_is_negative(dec("-0.00")));
    CHECK(tandem_decimal_is_negative(dec("-1E-6143")));
    CHECK(!tandem_decimal_is_zero(dec("1E-6143")));
    static const char *integers[] = {"0", "1", "-1", "1.000", "1E+6144", "-120.0", "1E+34"};
    static const char *fractions[] = {"0.5", "-1.1", "1E-6143",
                                      "1.000000000000000000000000000000001",
                                      "123456789012345678901234567890.1"};
    for (size_t i = 0; i < sizeof(integers) / sizeof(integers[0]); i++) {
        CHECK_MSG(tandem_decimal_is_integer(dec(integers[i])), "%s", integers[i]);
    }
    for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
        CHECK_MSG(!tandem_decimal_is_integer(dec(fractions[i])), "%s", fractions[i]);
    }
    CHECK_STREQ("1.5", fmt(tandem_decimal_negate(dec("-1.5"))));
    CHECK_STREQ("-1.5", fmt(tandem_decimal_negate(dec("1.5"))));
    CHECK(!tandem_decimal_is_negative(tandem_decimal_negate(dec("0"))));
    CHECK_STREQ("1.5", fmt(tandem_decimal_abs(dec("-1.5"))));
    CHECK_STREQ("0", fmt(tandem_decimal_abs(dec("-0"))));
}

static void check_round(const char *x, int32_t scale, tandem_decimal_rounding mode,
                        const char *expect)
{
    tandem_decimal r = dec("77");
    int rc = tandem_decimal_round(dec(x), scale, mode, &r);
    const char *got = rc_text(rc, r);
    CHECK_MSG(strcmp(got, expect) == 0, "round(%s, %d, %d) = %s, expected %s", x, (int)scale,
              (int)mode, got, expect);
}

static void test_round(void)
{
    /* Java's RoundingMode table: 5.5 2.5 1.6 1.1 1.0 -1.0 -1.1 -1.6 -2.5 -5.5 */
    static const char *inputs[] = {"5.5",  "2.5",  "1.6",  "1.1",  "1.0",
                                   "-1.0", "-1.1", "-1.6", "-2.5", "-5.5"};
    static const char *expect[7][10] = {
        /* HALF_EVEN */ {"6", "2", "2", "1", "1", "-1", "-1", "-2", "-2", "-6"},
        /* HALF_UP */ {"6", "3", "2", "1", "1", "-1", "-1", "-2", "-3", "-6"},
        /* HALF_DOWN */ {"5", "2", "2", "1", "1", "-1", "-1", "-2", "-2", "-5"},
        /* UP */ {"6", "3", "2", "2", "1", "-1", "-2", "-2", "-3", "-6"},
        /* DOWN */ {"5", "2", "1", "1", "1", "-1", "-1", "-1", "-2", "-5"},
        /* CEILING */ {"6", "3", "2", "2", "1", "-1", "-1", "-1", "-2", "-5"},
        /* FLOOR */ {"5", "2", "1", "1", "1", "-1", "-2", "-2", "-3", "-6"},
    };
    for (int mode = 0; mode < 7; mode++) {
        for (size_t i = 0; i < 10; i++) {
            check_round(inputs[i], 0, (tandem_decimal_rounding)mode, expect[mode][i]);
        }
    }
    check_round("1.25", 1, TANDEM_DECIMAL_ROUND_HALF_EVEN, "1.2");
    check_round("1.35", 1, TANDEM_DECIMAL_ROUND_HALF_EVEN, "1.4");
    check_round("1.2500000001", 1, TANDEM_DECIMAL_ROUND_HALF_EVEN, "1.3");
    check_round("1.2500000001", 1, TANDEM_DECIMAL_ROUND_HALF_DOWN, "1.3");
    check_round("1.25", 1, TANDEM_DECIMAL_ROUND_HALF_DOWN, "1.2");
    check_round("1250", -2, TANDEM_DECIMAL_ROUND_HALF_UP, "1300");
    check_round("1250", -2, TANDEM_DECIMAL_ROUND_HALF_EVEN, "1200");
    check_round("-1.5", 0, TANDEM_DECIMAL_ROUND_FLOOR, "-2");
    check_round("0.0001", 2, TANDEM_DECIMAL_ROUND_UP, "0.01");
    check_round("0.0001", 2, TANDEM_DECIMAL_ROUND_CEILING, "0.01");
    check_round("-0.0001", 2, TANDEM_DECIMAL_ROUND_CEILING, "0");
    check_round("-0.0001", 2, TANDEM_DECIMAL_ROUND_HALF_UP, "0");
    check_round("1E-100", 0, TANDEM_DECIMAL_ROUND_UP, "1");
    check_round("-1E-100", 0, TANDEM_DECIMAL_ROUND_FLOOR, "-1");
    check_round("1E-100", 0, TANDEM_DECIMAL_ROUND_HALF_UP, "0");
    check_round("0.5", 0, TANDEM_DECIMAL_ROUND_HALF_UP, "1");
    check_round("9.99", 1, TANDEM_DECIMAL_ROUND_HALF_UP, "10");
    check_round("9999999999999999999999999999999999", -1, TANDEM_DECIMAL_ROUND_HALF_UP, "1E+34");
    check_round("0.3333333333333333333333333333333333", 33, TANDEM_DECIMAL_ROUND_UP,
                "0.333333333333333333333333333333334");
    check_round("123.456", 10, TANDEM_DECIMAL_ROUND_HALF_UP, "123.456");
    check_round("0", 5, TANDEM_DECIMAL_ROUND_UP, "0");
    check_round("5", INT32_MIN, TANDEM_DECIMAL_ROUND_UP, "ERANGE");
    check_round("5", INT32_MIN, TANDEM_DECIMAL_ROUND_DOWN, "0");
    check_round("5", INT32_MAX, TANDEM_DECIMAL_ROUND_DOWN, "5");
    check_round("9.5E+6144", -6144, TANDEM_DECIMAL_ROUND_HALF_UP, "ERANGE");
    check_round("1.5", 0, (tandem_decimal_rounding)99, "EINVAL");
    tandem_decimal r;
    CHECK_OK(tandem_decimal_floor(dec("-0.5"), &r));
    CHECK_STREQ("-1", fmt(r));
    CHECK_OK(tandem_decimal_ceiling(dec("-0.5"), &r));
    CHECK_STREQ("0", fmt(r));
    CHECK(!tandem_decimal_is_negative(r));
    CHECK_OK(tandem_decimal_floor(dec("2.000001"), &r));
    CHECK_STREQ("2", fmt(r));
    CHECK_OK(tandem_decimal_ceiling(dec("2.000001"), &r));
    CHECK_STREQ("3", fmt(r));
}

static void check_pow(const char *x, const char *y, const char *expect)
{
    tandem_decimal r = dec("77");
    int rc = tandem_decimal_pow(dec(x), dec(y), &r);
    const char *got = rc_text(rc, r);
    CHECK_MSG(strcmp(got, expect) == 0, "%s ** %s = %s, expected %s", x, y, got, expect);
}

static void test_pow_ln_exp(void)
{
    check_pow("2", "10", "1024");
    check_pow("2", "0", "1");
    check_pow("0", "0", "1");
    check_pow("0", "5", "0");
    check_pow("0", "-1", "EINVAL");
    check_pow("0", "-0.5", "EINVAL");
    check_pow("2", "-2", "0.25");
    check_pow("1.1", "2", "1.21");
    check_pow("-2", "3", "-8");
    check_pow("-2", "2", "4");
    check_pow("10", "6144", "1E+6144");
    check_pow("10", "6145", "ERANGE");
    check_pow("10", "-6143", "1E-6143");
    check_pow("10", "-6144", "ERANGE");
    check_pow("1", "999999999", "1");
    check_pow("1", "1E+20", "1");
    check_pow("2", "100", "1267650600228229401496703205376");
    check_pow("2", "200", "1.606938044258990275541962092341163E+60");
    check_pow("3", "-1", "0.3333333333333333333333333333333333");
    check_pow("4", "0.5", "2");
    check_pow("2", "0.5", "1.4142135623730951");
    check_pow("-8", "0.5", "EINVAL");
    check_pow("10", "1E+20", "ERANGE");
    tandem_decimal r;
    CHECK_OK(tandem_decimal_exp(dec("1"), &r));
    CHECK_STREQ("2.718281828459045", fmt(r));
    CHECK_OK(tandem_decimal_exp(dec("0"), &r));
    CHECK_STREQ("1", fmt(r));
    CHECK_OK(tandem_decimal_exp(dec("-1000"), &r));
    CHECK_STREQ("0", fmt(r));
    CHECK_RC(TANDEM_ERANGE, tandem_decimal_exp(dec("1000"), &r));
    CHECK_OK(tandem_decimal_ln(dec("1"), &r));
    CHECK_STREQ("0", fmt(r));
    CHECK_OK(tandem_decimal_ln(dec("10"), &r));
    CHECK_STREQ("2.302585092994046", fmt(r));
    CHECK_OK(tandem_decimal_ln(dec("1E+1000"), &r));
    CHECK_STREQ("2302.5850929940457", fmt(r));
    CHECK_OK(tandem_decimal_ln(dec("1E-1000"), &r));
    CHECK_STREQ("-2302.5850929940457", fmt(r));
    r = dec("77");
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_ln(dec("0"), &r));
    CHECK_RC(TANDEM_EINVAL, tandem_decimal_ln(dec("-1"), &r));
    CHECK_STREQ("77", fmt(r));
}

static const tandem_test cases[] = {
    {"parse_and_format", test_parse_and_format},
    {"parse_errors", test_parse_errors},
    {"format_truncation", test_format_truncation},
    {"int_conversions", test_int_conversions},
    {"double_conversions", test_double_conversions},
    {"compare", test_compare},
    {"queries", test_queries},
    {"round", test_round},
    {"pow_ln_exp", test_pow_ln_exp},
    {"generated_table", test_generated_table},
    {"arithmetic_cases", test_arithmetic_cases},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
