/*
 * number.c — the seam between the evaluator and FEEL's number type: thin
 * wrappers of the 34-digit decimal (decimal.h).
 */
#include "base/assert.h"
#include "feel/feel_int.h"

_Static_assert((int)FEEL_ROUND_HALF_EVEN == (int)TANDEM_DECIMAL_ROUND_HALF_EVEN &&
                   (int)FEEL_ROUND_HALF_UP == (int)TANDEM_DECIMAL_ROUND_HALF_UP &&
                   (int)FEEL_ROUND_HALF_DOWN == (int)TANDEM_DECIMAL_ROUND_HALF_DOWN &&
                   (int)FEEL_ROUND_UP == (int)TANDEM_DECIMAL_ROUND_UP &&
                   (int)FEEL_ROUND_DOWN == (int)TANDEM_DECIMAL_ROUND_DOWN &&
                   (int)FEEL_ROUND_CEILING == (int)TANDEM_DECIMAL_ROUND_CEILING &&
                   (int)FEEL_ROUND_FLOOR == (int)TANDEM_DECIMAL_ROUND_FLOOR,
               "rounding modes map one to one");

int feel_num_parse(const char *text, size_t len, bool lenient, feel_num *out)
{
    TANDEM_ASSERT(text != NULL && out != NULL);
    return tandem_decimal_parse(
        text, len, lenient ? TANDEM_DECIMAL_SYNTAX_LENIENT : TANDEM_DECIMAL_SYNTAX_FEEL, out, NULL);
}

int feel_num_from_double(double v, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_from_double(v, out);
}

feel_num feel_num_from_int(int64_t v)
{
    return tandem_decimal_from_int64(v);
}

int feel_num_to_int64(feel_num n, int64_t *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_to_int64(n, out);
}

size_t feel_num_format(feel_num n, char *buf, size_t size)
{
    TANDEM_ASSERT(buf != NULL && size > 0);
    size_t len = tandem_decimal_format(n, buf, size);
    TANDEM_ASSERT(len < size || size < FEEL_NUM_TEXT_MAX);
    return len;
}

int feel_num_cmp(feel_num a, feel_num b)
{
    return tandem_decimal_cmp(a, b);
}

bool feel_num_is_integer(feel_num n)
{
    return tandem_decimal_is_integer(n);
}

bool feel_num_is_negative(feel_num n)
{
    return tandem_decimal_is_negative(n);
}

bool feel_num_is_zero(feel_num n)
{
    return tandem_decimal_is_zero(n);
}

feel_num feel_num_negate(feel_num n)
{
    return tandem_decimal_negate(n);
}

int feel_num_add(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_add(a, b, out);
}

int feel_num_sub(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_sub(a, b, out);
}

int feel_num_mul(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_mul(a, b, out);
}

int feel_num_div(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_div(a, b, out);
}

int feel_num_pow(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_pow(a, b, out);
}

int feel_num_mod(feel_num a, feel_num b, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_mod(a, b, out);
}

int feel_num_sqrt(feel_num a, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_sqrt(a, out);
}

int feel_num_ln(feel_num a, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_ln(a, out);
}

int feel_num_exp(feel_num a, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_exp(a, out);
}

int feel_num_round(feel_num a, int32_t scale, feel_rounding mode, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(mode <= FEEL_ROUND_FLOOR);
    return tandem_decimal_round(a, scale, (tandem_decimal_rounding)mode, out);
}
