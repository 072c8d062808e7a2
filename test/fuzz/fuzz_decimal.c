/*
 * Fuzzes the FEEL decimal. The input is "<syntax byte><text a>|<text b>":
 * both texts are parsed in the chosen syntax; every operation is applied to
 * the numbers that parsed. Besides "no crash", it checks that every error is
 * one of the documented codes, that results are never negative zero, and
 * that canonical text round-trips: parse(format(x)) == x, formatted alike.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feel/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(x)                                                                                 \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

static void check_value(tandem_decimal d)
{
    char text[TANDEM_DECIMAL_TEXT_MAX], again[TANDEM_DECIMAL_TEXT_MAX];
    size_t len = tandem_decimal_format(d, text, sizeof(text));
    REQUIRE(len < sizeof(text) && len == strlen(text));
    REQUIRE(strcmp(text, "-0") != 0);
    REQUIRE(!tandem_decimal_is_zero(d) || !tandem_decimal_is_negative(d));
    tandem_decimal back;
    tandem_diag diag;
    REQUIRE(tandem_decimal_parse(text, len, TANDEM_DECIMAL_SYNTAX_JSON, &back, &diag) == 0);
    REQUIRE(tandem_decimal_cmp(back, d) == 0);
    tandem_decimal ra = tandem_decimal_reduce(back), rb = tandem_decimal_reduce(d);
    REQUIRE(memcmp(&ra, &rb, sizeof(ra)) == 0);
    tandem_decimal_format(back, again, sizeof(again));
    REQUIRE(strcmp(text, again) == 0);
    double v = tandem_decimal_to_double(d);
    (void)v;
    int64_t i = 0;
    int rc = tandem_decimal_to_int64(d, &i);
    REQUIRE(rc == 0 || rc == TANDEM_EINVAL || rc == TANDEM_ERANGE);
}

static void check_result(int rc, tandem_decimal r)
{
    REQUIRE(rc == 0 || rc == TANDEM_EINVAL || rc == TANDEM_ERANGE);
    if (rc == 0) {
        check_value(r);
    }
}

static void fuzz_pair(tandem_decimal a, tandem_decimal b)
{
    tandem_decimal r;
    check_result(tandem_decimal_add(a, b, &r), r);
    check_result(tandem_decimal_sub(a, b, &r), r);
    check_result(tandem_decimal_mul(a, b, &r), r);
    check_result(tandem_decimal_div(a, b, &r), r);
    check_result(tandem_decimal_div_int(a, b, &r), r);
    check_result(tandem_decimal_mod(a, b, &r), r);
    check_result(tandem_decimal_pow(a, b, &r), r);
    int c = tandem_decimal_cmp(a, b);
    REQUIRE(c == -tandem_decimal_cmp(b, a));
    int64_t scale = 0;
    if (tandem_decimal_to_int64(b, &scale) == 0 && scale >= INT32_MIN && scale <= INT32_MAX) {
        for (int mode = 0; mode <= TANDEM_DECIMAL_ROUND_FLOOR; mode++) {
            check_result(tandem_decimal_round(a, (int32_t)scale, (tandem_decimal_rounding)mode, &r),
                         r);
        }
    }
}

static void fuzz_one(tandem_decimal a)
{
    tandem_decimal r;
    check_value(a);
    check_result(tandem_decimal_sqrt(a, &r), r);
    check_result(tandem_decimal_ln(a, &r), r);
    check_result(tandem_decimal_exp(a, &r), r);
    check_result(tandem_decimal_floor(a, &r), r);
    check_result(tandem_decimal_ceiling(a, &r), r);
    check_result(tandem_decimal_from_double(tandem_decimal_to_double(a), &r), r);
    (void)tandem_decimal_is_integer(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    tandem_decimal_syntax syntax = (tandem_decimal_syntax)(data[0] % 3);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *bar = memchr(text, '|', len);
    size_t len_a = bar != NULL ? (size_t)(bar - text) : len;
    tandem_decimal a, b;
    tandem_diag diag;
    int rc_a = tandem_decimal_parse(text, len_a, syntax, &a, &diag);
    REQUIRE(rc_a == 0 || rc_a == TANDEM_EINVAL || rc_a == TANDEM_ERANGE);
    REQUIRE(rc_a == 0 || diag.message[0] != '\0');
    if (rc_a == 0) {
        fuzz_one(a);
    }
    if (bar == NULL) {
        return 0;
    }
    int rc_b = tandem_decimal_parse(bar + 1, len - len_a - 1, syntax, &b, NULL);
    REQUIRE(rc_b == 0 || rc_b == TANDEM_EINVAL || rc_b == TANDEM_ERANGE);
    if (rc_a == 0 && rc_b == 0) {
        fuzz_one(b);
        fuzz_pair(a, b);
    }
    return 0;
}
