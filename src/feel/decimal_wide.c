/*
 * The 512-bit integers under the decimal module and the one rounding step,
 * decimal_finish, that every correctly rounded operation ends with.
 */
#include "feel/decimal_int.h"

#include <string.h>

const u128 decimal_pow10[39] = {
    (u128)1ULL,
    (u128)10ULL,
    (u128)100ULL,
    (u128)1000ULL,
    (u128)10000ULL,
    (u128)100000ULL,
    (u128)1000000ULL,
    (u128)10000000ULL,
    (u128)100000000ULL,
    (u128)1000000000ULL,
    (u128)10000000000ULL,
    (u128)100000000000ULL,
    (u128)1000000000000ULL,
    (u128)10000000000000ULL,
    (u128)100000000000000ULL,
    (u128)1000000000000000ULL,
    (u128)10000000000000000ULL,
    (u128)100000000000000000ULL,
    (u128)1000000000000000000ULL,
    (u128)10000000000000000000ULL,
    (u128)10000000000000000000ULL * 10ULL,
    (u128)10000000000000000000ULL * 100ULL,
    (u128)10000000000000000000ULL * 1000ULL,
    (u128)10000000000000000000ULL * 10000ULL,
    (u128)10000000000000000000ULL * 100000ULL,
    (u128)10000000000000000000ULL * 1000000ULL,
    (u128)10000000000000000000ULL * 10000000ULL,
    (u128)10000000000000000000ULL * 100000000ULL,
    (u128)10000000000000000000ULL * 1000000000ULL,
    (u128)10000000000000000000ULL * 10000000000ULL,
    (u128)10000000000000000000ULL * 100000000000ULL,
    (u128)10000000000000000000ULL * 1000000000000ULL,
    (u128)10000000000000000000ULL * 10000000000000ULL,
    (u128)10000000000000000000ULL * 100000000000000ULL,
    (u128)10000000000000000000ULL * 1000000000000000ULL,
    (u128)10000000000000000000ULL * 10000000000000000ULL,
    (u128)10000000000000000000ULL * 100000000000000000ULL,
    (u128)10000000000000000000ULL * 1000000000000000000ULL,
    (u128)10000000000000000000ULL * 10000000000000000000ULL,
};

int decimal_digits128(u128 v)
{
    if (v == 0) {
        return 1;
    }
    uint64_t hi = (uint64_t)(v >> 64);
    int bits = hi != 0 ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll((uint64_t)v);
    /* floor(bits * log10(2)) is the digit count or one less. */
    int est = (bits * 1233) >> 12;
    TANDEM_ASSERT(est >= 0 && est <= 38);
    return v >= decimal_pow10[est] ? est + 1 : est;
}

bool decimal_round_up(tandem_decimal_rounding mode, bool negative, bool odd, int digit, bool sticky)
{
    TANDEM_ASSERT(digit >= 0 && digit <= 9);
    if (digit == 0 && !sticky) {
        return false; /* exact */
    }
    switch (mode) {
    case TANDEM_DECIMAL_ROUND_HALF_EVEN:
        return digit > 5 || (digit == 5 && (sticky || odd));
    case TANDEM_DECIMAL_ROUND_HALF_UP:
        return digit >= 5;
    case TANDEM_DECIMAL_ROUND_HALF_DOWN:
        return digit > 5 || (digit == 5 && sticky);
    case TANDEM_DECIMAL_ROUND_UP:
        return true;
    case TANDEM_DECIMAL_ROUND_DOWN:
        return false;
    case TANDEM_DECIMAL_ROUND_CEILING:
        return !negative;
    case TANDEM_DECIMAL_ROUND_FLOOR:
        return negative;
    }
    TANDEM_UNREACHABLE();
}

int decimal_pack(bool negative, u128 coef, int64_t exponent, tandem_decimal *out)
{
    TANDEM_ASSERT(coef < DECIMAL_COEF_LIMIT);
    TANDEM_ASSERT(out != NULL);
    if (coef == 0) {
        if (exponent < DECIMAL_EXP_MIN) {
            exponent = DECIMAL_EXP_MIN;
        } else if (exponent > DECIMAL_EXP_MAX) {
            exponent = DECIMAL_EXP_MAX;
        }
        *out = decimal_make(false, 0, (int32_t)exponent);
        return TANDEM_OK;
    }
    int64_t adjusted = exponent + decimal_digits128(coef) - 1;
    if (adjusted > TANDEM_DECIMAL_ADJ_EXP_MAX || adjusted < TANDEM_DECIMAL_ADJ_EXP_MIN) {
        return TANDEM_ERANGE;
    }
    *out = decimal_make(negative, coef, (int32_t)exponent);
    return TANDEM_OK;
}

void decimal_reduce_to(u128 *coef, int64_t *exponent, int64_t exponent_max)
{
    TANDEM_ASSERT(coef != NULL && exponent != NULL);
    if (*coef == 0) {
        return;
    }
    /* Large steps first: a coefficient has at most 33 trailing zeros. */
    static const int steps[] = {16, 8, 4, 2, 1};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int k = steps[i];
        while (*exponent + k <= exponent_max && *coef % decimal_pow10[k] == 0) {
            *coef /= decimal_pow10[k];
            *exponent += k;
        }
    }
    TANDEM_ASSERT(*coef != 0);
}

int decimal_finish(decimal_wide *w, bool negative, int64_t exponent, bool sticky,
                   tandem_decimal *out, bool *inexact)
{
    TANDEM_ASSERT(w != NULL && out != NULL);
    int digits = decimal_wide_digits(w);
    TANDEM_ASSERT(!sticky || digits > TANDEM_DECIMAL_DIGITS);
    int round_digit = 0;
    if (digits > TANDEM_DECIMAL_DIGITS) {
        /* Drop all but one of the extra digits into `sticky`, then the last
         * one into the rounding digit. */
        int drop = digits - TANDEM_DECIMAL_DIGITS - 1;
        while (drop > 0) {
            int k = drop > 19 ? 19 : drop;
            uint64_t rem = decimal_wide_divmod_u64(w, (uint64_t)decimal_pow10[k]);
            sticky = sticky || rem != 0;
            drop -= k;
        }
        round_digit = (int)decimal_wide_divmod_u64(w, 10);
        exponent += digits - TANDEM_DECIMAL_DIGITS;
    }
    u128 coef = decimal_wide_to128(w);
    TANDEM_ASSERT(coef < DECIMAL_COEF_LIMIT);
    if (decimal_round_up(TANDEM_DECIMAL_ROUND_HALF_EVEN, negative, (coef & 1) != 0, round_digit,
                         sticky)) {
        coef++;
        if (coef == DECIMAL_COEF_LIMIT) {
            coef = decimal_pow10[TANDEM_DECIMAL_DIGITS - 1];
            exponent++;
        }
    }
    if (inexact != NULL) {
        *inexact = round_digit != 0 || sticky;
    }
    return decimal_pack(negative, coef, exponent, out);
}

/* ---- 512-bit unsigned integers ---- */

void decimal_wide_from128(decimal_wide *w, u128 v)
{
    TANDEM_ASSERT(w != NULL);
    memset(w, 0, sizeof(*w));
    w->limb[0] = (uint64_t)v;
    w->limb[1] = (uint64_t)(v >> 64);
}

bool decimal_wide_fits128(const decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    for (int i = 2; i < DECIMAL_WIDE_LIMBS; i++) {
        if (w->limb[i] != 0) {
            return false;
        }
    }
    return true;
}

u128 decimal_wide_to128(const decimal_wide *w)
{
    TANDEM_ASSERT(decimal_wide_fits128(w));
    return ((u128)w->limb[1] << 64) | w->limb[0];
}

bool decimal_wide_is_zero(const decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        if (w->limb[i] != 0) {
            return false;
        }
    }
    return true;
}

int decimal_wide_bits(const decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    for (int i = DECIMAL_WIDE_LIMBS - 1; i >= 0; i--) {
        if (w->limb[i] != 0) {
            return i * 64 + 64 - __builtin_clzll(w->limb[i]);
        }
    }
    return 0;
}

int decimal_wide_cmp(const decimal_wide *a, const decimal_wide *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    for (int i = DECIMAL_WIDE_LIMBS - 1; i >= 0; i--) {
        if (a->limb[i] != b->limb[i]) {
            return a->limb[i] < b->limb[i] ? -1 : 1;
        }
    }
    return 0;
}

void decimal_wide_add(decimal_wide *a, const decimal_wide *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    uint64_t carry = 0;
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        u128 s = (u128)a->limb[i] + b->limb[i] + carry;
        a->limb[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    TANDEM_ASSERT(carry == 0);
}

void decimal_wide_sub(decimal_wide *a, const decimal_wide *b)
{
    TANDEM_ASSERT(decimal_wide_cmp(a, b) >= 0);
    uint64_t borrow = 0;
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        uint64_t x = a->limb[i];
        uint64_t y = b->limb[i];
        uint64_t d = x - y - borrow;
        borrow = (x < y || (x == y && borrow != 0)) ? 1 : 0;
        a->limb[i] = d;
    }
    TANDEM_ASSERT(borrow == 0);
}

void decimal_wide_mul_u64(decimal_wide *w, uint64_t m)
{
    TANDEM_ASSERT(w != NULL);
    uint64_t carry = 0;
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        u128 p = (u128)w->limb[i] * m + carry;
        w->limb[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    TANDEM_ASSERT(carry == 0);
}

void decimal_wide_mul_pow10(decimal_wide *w, int64_t n)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(n >= 0 && n <= 154);
    while (n > 0) {
        int64_t k = n > 19 ? 19 : n;
        decimal_wide_mul_u64(w, (uint64_t)decimal_pow10[k]);
        n -= k;
    }
}

void decimal_wide_mul128(decimal_wide *w, u128 a, u128 b)
{
    TANDEM_ASSERT(w != NULL);
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    memset(w, 0, sizeof(*w));
    u128 p00 = (u128)a0 * b0;
    u128 p01 = (u128)a0 * b1;
    u128 p10 = (u128)a1 * b0;
    u128 p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    w->limb[0] = (uint64_t)p00;
    w->limb[1] = (uint64_t)mid;
    u128 high = (mid >> 64) + (p01 >> 64) + (p10 >> 64) + p11;
    w->limb[2] = (uint64_t)high;
    w->limb[3] = (uint64_t)(high >> 64);
    TANDEM_ASSERT(a1 == 0 || b1 == 0 || w->limb[2] != 0 || w->limb[3] != 0);
}

uint64_t decimal_wide_divmod_u64(decimal_wide *w, uint64_t d)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(d != 0);
    u128 rem = 0;
    for (int i = DECIMAL_WIDE_LIMBS - 1; i >= 0; i--) {
        u128 cur = (rem << 64) | w->limb[i];
        w->limb[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

u128 decimal_wide_divmod128(decimal_wide *w, u128 d)
{
    TANDEM_ASSERT(w != NULL);
    TANDEM_ASSERT(d != 0);
    if ((d >> 64) == 0) {
        return decimal_wide_divmod_u64(w, (uint64_t)d);
    }
    /* The divisor needs more than 64 bits; the remainder stays below it, so
     * below 2^127 as long as d < 2^127, and one bit at a time is enough for
     * the few divisions that get here. */
    TANDEM_ASSERT((d >> 127) == 0);
    int bits = decimal_wide_bits(w);
    u128 rem = 0;
    decimal_wide q;
    memset(&q, 0, sizeof(q));
    for (int i = bits - 1; i >= 0; i--) {
        rem = (rem << 1) | ((w->limb[i / 64] >> (i % 64)) & 1);
        if (rem >= d) {
            rem -= d;
            q.limb[i / 64] |= (uint64_t)1 << (i % 64);
        }
    }
    TANDEM_ASSERT(rem < d);
    *w = q;
    return rem;
}

int decimal_wide_digits(const decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    if (decimal_wide_fits128(w)) {
        return decimal_digits128(decimal_wide_to128(w));
    }
    int bits = decimal_wide_bits(w);
    int est = (bits * 1233) >> 12; /* digits - 1 or digits */
    TANDEM_ASSERT(est >= 38 && est <= 154);
    decimal_wide p;
    decimal_wide_from128(&p, 1);
    decimal_wide_mul_pow10(&p, est);
    return decimal_wide_cmp(w, &p) >= 0 ? est + 1 : est;
}

void decimal_wide_shr1(decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        uint64_t next = i + 1 < DECIMAL_WIDE_LIMBS ? w->limb[i + 1] : 0;
        w->limb[i] = (w->limb[i] >> 1) | (next << 63);
    }
}

void decimal_wide_shr2(decimal_wide *w)
{
    TANDEM_ASSERT(w != NULL);
    for (int i = 0; i < DECIMAL_WIDE_LIMBS; i++) {
        uint64_t next = i + 1 < DECIMAL_WIDE_LIMBS ? w->limb[i + 1] : 0;
        w->limb[i] = (w->limb[i] >> 2) | (next << 62);
    }
}
