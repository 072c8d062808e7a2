/*
 * Decimal operations beyond the hot path: division and its integer forms,
 * rounding to a scale, square root, and the functions FEEL-Scala computes
 * through doubles (ln, exp, pow with a fraction exponent).
 */
#include <math.h>
#include <string.h>

#include "feel/decimal.h"
#include "feel/decimal_int.h"

static int64_t floor_half(int64_t e)
{
    return e >= 0 ? e / 2 : -((-e + 1) / 2);
}

/* Strips trailing zeros of an exact result toward the exponent BigDecimal
 * prefers for it, so exact quotients stay short (10 / 2 = 5, not
 * 5.000...000) and later additions keep to their fast path. */
static void reduce_exact(tandem_decimal *r, int64_t preferred)
{
    TANDEM_ASSERT(r != NULL);
    u128 coef = decimal_coef(*r);
    int64_t exponent = r->exponent;
    decimal_reduce_to(&coef, &exponent, preferred);
    TANDEM_ASSERT(exponent <= DECIMAL_EXP_MAX);
    *r = decimal_make(r->negative, coef, (int32_t)exponent);
}

int tandem_decimal_div(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    u128 ca = decimal_coef(a), cb = decimal_coef(b);
    TANDEM_ASSERT(ca < DECIMAL_COEF_LIMIT && cb < DECIMAL_COEF_LIMIT);
    if (cb == 0) {
        return TANDEM_EINVAL;
    }
    int64_t preferred = (int64_t)a.exponent - b.exponent;
    if (ca == 0) {
        return decimal_pack(false, 0, preferred, out);
    }
    /* Scale the dividend so the quotient has at least 35 digits: 34 plus a
     * rounding digit, with the remainder as the sticky fraction. */
    int scale = 35 + decimal_digits128(cb) - decimal_digits128(ca);
    TANDEM_ASSERT(scale >= 2 && scale <= 68);
    decimal_wide w;
    decimal_wide_from128(&w, ca);
    decimal_wide_mul_pow10(&w, scale);
    u128 rem = decimal_wide_divmod128(&w, cb);
    tandem_decimal r;
    bool inexact = false;
    int rc =
        decimal_finish(&w, a.negative != b.negative, preferred - scale, rem != 0, &r, &inexact);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (!inexact) {
        reduce_exact(&r, preferred);
    }
    *out = r;
    return TANDEM_OK;
}

/* Truncated integer division: a = q * b + r, |r| < |b|, r with a's sign.
 * q must fit 34 digits (TANDEM_ERANGE otherwise); r is always exact, as
 * |r| <= min(|a|, |b|) at exponent min(a.exponent, b.exponent). */
static int divide_trunc(tandem_decimal a, tandem_decimal b, u128 *q, tandem_decimal *r)
{
    u128 ca = decimal_coef(a), cb = decimal_coef(b);
    TANDEM_ASSERT(cb != 0);
    TANDEM_ASSERT(q != NULL && r != NULL);
    if (a.exponent >= b.exponent) {
        int64_t shift = (int64_t)a.exponent - b.exponent;
        if (shift > 70 && ca != 0) {
            return TANDEM_ERANGE; /* q > 10^70 / 10^34 */
        }
        decimal_wide w;
        decimal_wide_from128(&w, ca);
        decimal_wide_mul_pow10(&w, ca == 0 ? 0 : shift);
        u128 rem = decimal_wide_divmod128(&w, cb);
        if (!decimal_wide_fits128(&w) || decimal_wide_to128(&w) >= DECIMAL_COEF_LIMIT) {
            return TANDEM_ERANGE;
        }
        *q = decimal_wide_to128(&w);
        return decimal_pack(a.negative, rem, b.exponent, r);
    }
    int64_t shift = (int64_t)b.exponent - a.exponent;
    decimal_wide wb;
    decimal_wide_from128(&wb, cb);
    if (shift > 40) {
        *q = 0; /* |b| >= 10^40 units of a's last digit > |a| */
        *r = a;
        return TANDEM_OK;
    }
    decimal_wide_mul_pow10(&wb, shift);
    if (!decimal_wide_fits128(&wb)) {
        *q = 0;
        *r = a;
        return TANDEM_OK;
    }
    u128 divisor = decimal_wide_to128(&wb);
    *q = ca / divisor;
    return decimal_pack(a.negative, ca % divisor, a.exponent, r);
}

int tandem_decimal_div_int(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (tandem_decimal_is_zero(b)) {
        return TANDEM_EINVAL;
    }
    u128 q = 0;
    tandem_decimal r;
    int rc = divide_trunc(a, b, &q, &r);
    if (rc != TANDEM_OK) {
        return rc;
    }
    bool negative = a.negative != b.negative;
    int64_t exponent = 0;
    if (negative && !tandem_decimal_is_zero(r)) {
        q++; /* floor: one further from zero */
        if (q == DECIMAL_COEF_LIMIT) {
            q = decimal_pow10[TANDEM_DECIMAL_DIGITS - 1];
            exponent = 1;
        }
    }
    TANDEM_ASSERT(q < DECIMAL_COEF_LIMIT);
    return decimal_pack(negative, q, exponent, out);
}

int tandem_decimal_mod(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (tandem_decimal_is_zero(b)) {
        return TANDEM_EINVAL;
    }
    u128 q = 0;
    tandem_decimal r;
    int rc = divide_trunc(a, b, &q, &r);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (!tandem_decimal_is_zero(r) && r.negative != b.negative) {
        return tandem_decimal_add(r, b, out); /* move into the divisor's sign */
    }
    *out = r;
    return TANDEM_OK;
}

int tandem_decimal_round(tandem_decimal d, int32_t scale, tandem_decimal_rounding mode,
                         tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (mode < TANDEM_DECIMAL_ROUND_HALF_EVEN || mode > TANDEM_DECIMAL_ROUND_FLOOR) {
        return TANDEM_EINVAL;
    }
    u128 coef = decimal_coef(d);
    int64_t target = -(int64_t)scale;
    if (coef == 0) {
        return decimal_pack(false, 0, target, out);
    }
    if (d.exponent >= target) {
        *out = d; /* no digit below the scale */
        return TANDEM_OK;
    }
    int64_t drop = target - d.exponent;
    u128 q = 0;
    int digit = 0;
    bool sticky = true;
    if (drop <= TANDEM_DECIMAL_DIGITS) {
        q = coef / decimal_pow10[drop];
        u128 rem = coef % decimal_pow10[drop];
        digit = (int)(rem / decimal_pow10[drop - 1]);
        sticky = rem % decimal_pow10[drop - 1] != 0;
    }
    TANDEM_ASSERT(q < decimal_pow10[TANDEM_DECIMAL_DIGITS - 1]);
    if (decimal_round_up(mode, d.negative, (q & 1) != 0, digit, sticky)) {
        q++;
    }
    return decimal_pack(d.negative, q, target, out);
}

int tandem_decimal_floor(tandem_decimal d, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_round(d, 0, TANDEM_DECIMAL_ROUND_FLOOR, out);
}

int tandem_decimal_ceiling(tandem_decimal d, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_round(d, 0, TANDEM_DECIMAL_ROUND_CEILING, out);
}

/* root = floor(sqrt(n)); n becomes n - root^2. Bit by bit: about 120 steps
 * for the 70-digit radicands used here. */
static void wide_isqrt(decimal_wide *n, decimal_wide *root)
{
    TANDEM_ASSERT(n != NULL && root != NULL);
    memset(root, 0, sizeof(*root));
    int bits = decimal_wide_bits(n);
    if (bits == 0) {
        return;
    }
    int top = (bits - 1) & ~1; /* highest even bit index at or below the top bit */
    decimal_wide bit;
    memset(&bit, 0, sizeof(bit));
    bit.limb[top / 64] = (uint64_t)1 << (top % 64);
    while (!decimal_wide_is_zero(&bit)) {
        decimal_wide t = *root;
        decimal_wide_add(&t, &bit);
        if (decimal_wide_cmp(n, &t) >= 0) {
            decimal_wide_sub(n, &t);
            decimal_wide_shr1(root);
            decimal_wide_add(root, &bit);
        } else {
            decimal_wide_shr1(root);
        }
        decimal_wide_shr2(&bit);
    }
    decimal_wide twice = *root;
    decimal_wide_add(&twice, root);
    TANDEM_ASSERT(decimal_wide_cmp(n, &twice) <= 0); /* n - root^2 <= 2 * root */
}

int tandem_decimal_sqrt(tandem_decimal d, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    u128 coef = decimal_coef(d);
    int64_t preferred = floor_half(d.exponent);
    if (coef == 0) {
        return decimal_pack(false, 0, preferred, out);
    }
    if (d.negative) {
        return TANDEM_EINVAL;
    }
    /* A radicand of at least 10^69 has a root of at least 35 digits; the
     * exponent left over must be even. */
    int64_t scale = 70 - decimal_digits128(coef);
    if (((int64_t)d.exponent - scale) % 2 != 0) {
        scale++;
    }
    decimal_wide n, root;
    decimal_wide_from128(&n, coef);
    decimal_wide_mul_pow10(&n, scale);
    wide_isqrt(&n, &root);
    TANDEM_ASSERT(decimal_wide_digits(&root) > TANDEM_DECIMAL_DIGITS);
    tandem_decimal r;
    bool inexact = false;
    int rc = decimal_finish(&root, false, ((int64_t)d.exponent - scale) / 2,
                            !decimal_wide_is_zero(&n), &r, &inexact);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (!inexact) {
        reduce_exact(&r, preferred);
    }
    *out = r;
    return TANDEM_OK;
}

/* A double result of a FEEL-Scala double function, back to a decimal. */
static int from_double_result(double v, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (isnan(v)) {
        return TANDEM_EINVAL;
    }
    if (isinf(v)) {
        return TANDEM_ERANGE;
    }
    return tandem_decimal_from_double(v, out);
}

int tandem_decimal_ln(tandem_decimal d, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    u128 coef = decimal_coef(d);
    if (coef == 0 || d.negative) {
        return TANDEM_EINVAL;
    }
    double x = tandem_decimal_to_double(d);
    if (isnormal(x)) {
        return from_double_result(log(x), out);
    }
    /* Beyond the double range: ln(m * 10^adj) = ln(m) + adj * ln(10), with
     * the mantissa m in [1, 10). */
    int digits = decimal_digits128(coef);
    int64_t adjusted = (int64_t)d.exponent + digits - 1;
    double m = (double)coef / (double)decimal_pow10[digits - 1];
    TANDEM_ASSERT(m >= 1.0 && m < 10.5);
    return from_double_result(log(m) + (double)adjusted * M_LN10, out);
}

int tandem_decimal_exp(tandem_decimal d, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    double x = tandem_decimal_to_double(d);
    TANDEM_ASSERT(!isnan(x));
    return from_double_result(exp(x), out);
}

static int pow_int(tandem_decimal base, int64_t n, tandem_decimal *out)
{
    TANDEM_ASSERT(n >= -TANDEM_DECIMAL_POW_EXP_MAX && n <= TANDEM_DECIMAL_POW_EXP_MAX);
    TANDEM_ASSERT(out != NULL);
    if (n < 0 && tandem_decimal_is_zero(base)) {
        return TANDEM_EINVAL;
    }
    uint64_t e = n < 0 ? (uint64_t)-n : (uint64_t)n;
    tandem_decimal result = tandem_decimal_from_int64(1);
    while (e != 0) {
        int rc;
        if (e & 1) {
            rc = tandem_decimal_mul(result, base, &result);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
        e >>= 1;
        if (e != 0) {
            rc = tandem_decimal_mul(base, base, &base);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
    }
    if (n < 0) {
        return tandem_decimal_div(tandem_decimal_from_int64(1), result, out);
    }
    *out = result;
    return TANDEM_OK;
}

int tandem_decimal_pow(tandem_decimal base, tandem_decimal exponent, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    int64_t n = 0;
    if (tandem_decimal_to_int64(exponent, &n) == TANDEM_OK && n >= -TANDEM_DECIMAL_POW_EXP_MAX &&
        n <= TANDEM_DECIMAL_POW_EXP_MAX) {
        return pow_int(base, n, out);
    }
    if (tandem_decimal_is_zero(base) && exponent.negative) {
        return TANDEM_EINVAL;
    }
    double r = pow(tandem_decimal_to_double(base), tandem_decimal_to_double(exponent));
    return from_double_result(r, out);
}
