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

static const tandem_test cases[] = {
    {"generated_table", test_generated_table},
    {"arithmetic_cases", test_arithmetic_cases},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
