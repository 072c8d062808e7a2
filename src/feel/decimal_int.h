/*
 * decimal_int.h — internals of the decimal module shared by its files.
 *
 * Coefficients live in unsigned 128-bit integers (10^34 < 2^113). Exact
 * intermediate results (an aligned sum, a full product, a scaled dividend)
 * can reach about 10^105, so they are held in a fixed 512-bit integer,
 * `decimal_wide`, of 64-bit limbs, and `decimal_finish` rounds one of those
 * to 34 digits. Nothing here allocates.
 */
#ifndef TANDEM_FEEL_DECIMAL_INT_H
#define TANDEM_FEEL_DECIMAL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/assert.h"
#include "feel/decimal.h"

__extension__ typedef unsigned __int128 u128;

#define DECIMAL_WIDE_LIMBS 8 /* 512 bits: > 10^154, room for every exact intermediate */
#define DECIMAL_EXP_MIN    (TANDEM_DECIMAL_ADJ_EXP_MIN - (TANDEM_DECIMAL_DIGITS - 1))
#define DECIMAL_EXP_MAX    TANDEM_DECIMAL_ADJ_EXP_MAX

_Static_assert(TANDEM_DECIMAL_DIGITS == 34, "the tables below assume 34 digits");
_Static_assert(sizeof(tandem_decimal) == 24, "no padding: reduced values compare bytewise");

/* 10^0 .. 10^38, all that fit in 128 bits. */
extern const u128 decimal_pow10[39];

#define DECIMAL_COEF_LIMIT (decimal_pow10[TANDEM_DECIMAL_DIGITS]) /* 10^34 */

typedef struct decimal_wide {
    uint64_t limb[DECIMAL_WIDE_LIMBS]; /* little-endian */
} decimal_wide;

static inline u128 decimal_coef(tandem_decimal d)
{
    return ((u128)d.coef_hi << 64) | d.coef_lo;
}

static inline tandem_decimal decimal_make(bool negative, u128 coef, int32_t exponent)
{
    TANDEM_ASSERT(coef < DECIMAL_COEF_LIMIT);
    tandem_decimal d;
    memset(&d, 0, sizeof(d));
    d.coef_lo = (uint64_t)coef;
    d.coef_hi = (uint64_t)(coef >> 64);
    d.exponent = exponent;
    d.negative = (uint8_t)(negative && coef != 0);
    return d;
}

/* Number of decimal digits of v (1 for 0). */
int decimal_digits128(u128 v);

/* Builds a result from an exact coefficient below 10^34: range check of the
 * adjusted exponent (TANDEM_ERANGE), zero's exponent clamped. */
int decimal_pack(bool negative, u128 coef, int64_t exponent, tandem_decimal *out);

/* Rounds (-1)^negative * (w + f) * 10^exponent to 34 digits half-even and
 * packs it, where f is a fraction in (0, 1) when `sticky` and 0 otherwise.
 * A caller that passes `sticky` guarantees w has more than 34 digits, so the
 * fraction only breaks ties. `*inexact` (may be NULL) says whether anything
 * non-zero was dropped. */
int decimal_finish(decimal_wide *w, bool negative, int64_t exponent, bool sticky,
                   tandem_decimal *out, bool *inexact);

/* Whether to add one to a truncated coefficient, given the first dropped
 * digit and whether anything non-zero follows it. */
bool decimal_round_up(tandem_decimal_rounding mode, bool negative, bool odd, int digit,
                      bool sticky);

/* Strips trailing zeros of the coefficient while the exponent stays at most
 * `exponent_max`. */
void decimal_reduce_to(u128 *coef, int64_t *exponent, int64_t exponent_max);

/* ---- 512-bit unsigned integers ---- */
void decimal_wide_from128(decimal_wide *w, u128 v);
bool decimal_wide_fits128(const decimal_wide *w);
u128 decimal_wide_to128(const decimal_wide *w);
bool decimal_wide_is_zero(const decimal_wide *w);
int decimal_wide_bits(const decimal_wide *w);
int decimal_wide_cmp(const decimal_wide *a, const decimal_wide *b);
void decimal_wide_add(decimal_wide *a, const decimal_wide *b); /* a += b, asserts no carry out */
void decimal_wide_sub(decimal_wide *a, const decimal_wide *b); /* a -= b, asserts a >= b */
void decimal_wide_mul_u64(decimal_wide *w, uint64_t m);        /* asserts no overflow */
void decimal_wide_mul_pow10(decimal_wide *w, int64_t n);       /* w *= 10^n, n >= 0 */
void decimal_wide_mul128(decimal_wide *w, u128 a, u128 b);     /* w = a * b */
uint64_t decimal_wide_divmod_u64(decimal_wide *w, uint64_t d); /* w /= d; returns w % d */
/* w /= d; returns w % d, for any non-zero d (shift-and-subtract when d needs
 * more than 64 bits). */
u128 decimal_wide_divmod128(decimal_wide *w, u128 d);
int decimal_wide_digits(const decimal_wide *w); /* decimal digits, 1 for 0 */
void decimal_wide_shr1(decimal_wide *w);
void decimal_wide_shr2(decimal_wide *w);

#endif
