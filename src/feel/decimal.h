/*
 * decimal.h — the number type of FEEL: a 34-digit decimal floating point.
 *
 * FEEL numbers behave like Java's BigDecimal under MathContext.DECIMAL128,
 * as the reference FEEL implementation (FEEL-Scala) uses them: every result
 * is rounded to 34 significant digits, ties to even, so `0.1 + 0.2 = 0.3`
 * exactly. A value is sign * coefficient * 10^exponent with a coefficient
 * below 10^34. The type has a fixed size, holds no pointers and allocates
 * nothing: copy it freely, pass it by value.
 *
 * Scale. Like BigDecimal, a value keeps the scale it was made with (`1.50`
 * is 150 * 10^-2); comparison ignores it (`1.50 = 1.5`, `1.0 = 1`) and the
 * canonical text drops trailing zeros. There is no negative zero: every
 * function returns zero with a positive sign.
 *
 * Range. The adjusted exponent (the exponent of the leading digit) of a
 * non-zero result must lie in [-6143, 6144], the DECIMAL128 range; a result
 * outside it (either side: there are no subnormals) is TANDEM_ERANGE, which
 * FEEL turns into null. A zero result never fails (its exponent is clamped).
 *
 * Errors. Functions return 0 or a code from base/error.h:
 *   TANDEM_EINVAL  malformed text, division by zero, or an argument outside
 *                  the function's domain (square root of a negative number,
 *                  logarithm of a non-positive one, a fraction where an
 *                  integer is needed, NaN or infinity from a double);
 *   TANDEM_ERANGE  the result is outside the exponent range, or does not fit
 *                  the requested integer type, or an integral quotient would
 *                  need more than 34 digits.
 * On failure `*out` is left unchanged. Outputs may alias nothing but locals:
 * inputs are taken by value, so `tandem_decimal_add(x, y, &x)` is fine.
 *
 * Exactness. add, sub, mul, div, sqrt, div_int, mod, round and the
 * conversions from text and integers are correctly rounded (half-even, or the
 * requested mode). pow with an integer exponent rounds at each step of a
 * square-and-multiply, so it is exact when the exact result has at most 34
 * digits and otherwise within a few units in the last place (like
 * BigDecimal.pow(n, mc)). ln, exp and pow with a fraction exponent go through
 * the C library's double functions, exactly as FEEL-Scala does (Math.log,
 * Math.exp, Math.pow), and the double result enters through its shortest
 * round-trip text: `exp(1)` is 2.718281828459045. They are stable for a given
 * C library, not correctly rounded to 34 digits.
 *
 * Threads: every function is pure and reentrant.
 */
#ifndef TANDEM_FEEL_DECIMAL_H
#define TANDEM_FEEL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TANDEM_DECIMAL_DIGITS      34   /* significant digits of every result */
#define TANDEM_DECIMAL_ADJ_EXP_MAX 6144 /* largest adjusted exponent */
#define TANDEM_DECIMAL_ADJ_EXP_MIN -6143
#define TANDEM_DECIMAL_TEXT_MAX    48        /* bytes for any canonical text, NUL included */
#define TANDEM_DECIMAL_POW_EXP_MAX 999999999 /* largest |n| of an integer power */

/* All fields are private; use the functions below. */
typedef struct tandem_decimal {
    uint64_t coef_lo; /* private: coefficient, low 64 bits */
    uint64_t coef_hi; /* private: coefficient, high 64 bits; coefficient < 10^34 */
    int32_t exponent; /* private: power of ten of the coefficient's last digit */
    uint8_t negative; /* private: 1 when below zero; never set on zero */
    uint8_t zero_[3]; /* private: always zero, so equal structs compare equal bytewise */
} tandem_decimal;

/* Text grammars accepted by tandem_decimal_parse. */
typedef enum tandem_decimal_syntax {
    /* A FEEL numeric literal with an optional leading minus:
     * `-`? (digits (`.` digits)? | `.` digits). No exponent, no `+`. */
    TANDEM_DECIMAL_SYNTAX_FEEL = 0,
    /* A JSON number (RFC 8259): `-`? (`0` | [1-9] digits) (`.` digits)?
     * ([eE] [+-]? digits)?. */
    TANDEM_DECIMAL_SYNTAX_JSON = 1,
    /* What Java's BigDecimal(String) takes, for FEEL's number("..."): an
     * optional sign, digits with an optional point on either side (`1.`,
     * `.5`), an optional exponent. */
    TANDEM_DECIMAL_SYNTAX_LENIENT = 2,
} tandem_decimal_syntax;

/* Rounding modes of tandem_decimal_round (the names of Java's RoundingMode). */
typedef enum tandem_decimal_rounding {
    TANDEM_DECIMAL_ROUND_HALF_EVEN = 0, /* nearest, ties to the even digit */
    TANDEM_DECIMAL_ROUND_HALF_UP,       /* nearest, ties away from zero */
    TANDEM_DECIMAL_ROUND_HALF_DOWN,     /* nearest, ties toward zero */
    TANDEM_DECIMAL_ROUND_UP,            /* away from zero */
    TANDEM_DECIMAL_ROUND_DOWN,          /* toward zero (truncate) */
    TANDEM_DECIMAL_ROUND_CEILING,       /* toward +infinity */
    TANDEM_DECIMAL_ROUND_FLOOR,         /* toward -infinity */
} tandem_decimal_rounding;

/* ---- construction and conversion ---- */

/* Parses `len` bytes of `text` (need not be NUL-terminated; the whole span
 * must be the number, no spaces). More than 34 significant digits are rounded
 * half-even. TANDEM_EINVAL with a message naming the text and the offset of
 * the first bad byte, or TANDEM_ERANGE when the value is outside the range.
 * `diag` may be NULL. */
int tandem_decimal_parse(const char *text, size_t len, tandem_decimal_syntax syntax,
                         tandem_decimal *out, tandem_diag *diag);

tandem_decimal tandem_decimal_from_int64(int64_t v);
tandem_decimal tandem_decimal_from_uint64(uint64_t v);

/* The decimal whose text is the shortest that reads back as `v` (what a JSON
 * parser or Java's Double.toString gives: 0.1 becomes 0.1, not
 * 0.1000000000000000055...). -0.0 becomes 0. NaN or infinity: TANDEM_EINVAL. */
int tandem_decimal_from_double(double v, tandem_decimal *out);

/* The integer value. TANDEM_EINVAL when `d` has a non-zero fraction,
 * TANDEM_ERANGE when it does not fit. */
int tandem_decimal_to_int64(tandem_decimal d, int64_t *out);

/* The nearest double (correctly rounded); +-HUGE_VAL beyond the double range
 * and +-0.0 below it. */
double tandem_decimal_to_double(tandem_decimal d);

/* Writes the canonical text and returns its length (without the NUL), or the
 * length it would have had if `size` is too small, like snprintf; `buf` is
 * always NUL-terminated when size > 0. TANDEM_DECIMAL_TEXT_MAX bytes always
 * suffice. Canonical text: trailing zeros dropped, no negative zero, plain
 * notation when the adjusted exponent is in [-6, 33] (`3`, `0.3`, `100`,
 * `-0.001`, `0.000001`, `1234567890123456789012345678901234`), otherwise
 * scientific with one digit before the point, like Java's BigDecimal
 * (`1E-7`, `1.5E+34`, `-2.5E-100`). Every canonical text parses back to an
 * equal value in the JSON and LENIENT syntaxes, and in FEEL syntax when it
 * is plain. */
size_t tandem_decimal_format(tandem_decimal d, char *buf, size_t size);

/* ---- queries ---- */

bool tandem_decimal_is_zero(tandem_decimal d);
bool tandem_decimal_is_negative(tandem_decimal d); /* below zero */
bool tandem_decimal_is_integer(tandem_decimal d);  /* no non-zero fraction */

/* Total numeric order, scale ignored: -1, 0 or 1. */
int tandem_decimal_cmp(tandem_decimal a, tandem_decimal b);

/* The same value with trailing zeros of the coefficient removed (smallest
 * coefficient); equal values reduce to identical structs, so the reduced
 * form may be hashed or compared with memcmp. */
tandem_decimal tandem_decimal_reduce(tandem_decimal d);

/* ---- arithmetic (34 digits, half-even) ---- */

tandem_decimal tandem_decimal_negate(tandem_decimal d);
tandem_decimal tandem_decimal_abs(tandem_decimal d);

int tandem_decimal_add(tandem_decimal a, tandem_decimal b, tandem_decimal *out);
int tandem_decimal_sub(tandem_decimal a, tandem_decimal b, tandem_decimal *out);
int tandem_decimal_mul(tandem_decimal a, tandem_decimal b, tandem_decimal *out);
/* TANDEM_EINVAL when b is zero. */
int tandem_decimal_div(tandem_decimal a, tandem_decimal b, tandem_decimal *out);

/* floor(a / b), exact: TANDEM_EINVAL when b is zero, TANDEM_ERANGE when the
 * integer needs more than 34 digits. */
int tandem_decimal_div_int(tandem_decimal a, tandem_decimal b, tandem_decimal *out);

/* FEEL's modulo(a, b) = a - b * floor(a / b): the result has the sign of the
 * divisor (modulo(-5, 3) = 1, modulo(5, -3) = -1, modulo(-10.1, 4.5) = 3.4).
 * Errors as tandem_decimal_div_int. */
int tandem_decimal_mod(tandem_decimal a, tandem_decimal b, tandem_decimal *out);

/* Rounds to `scale` digits after the point (negative: to tens, hundreds, ...)
 * with `mode`, like BigDecimal.setScale: round(1.25, 1, HALF_EVEN) = 1.2,
 * round(-1.5, 0, FLOOR) = -2, round(1250, -2, HALF_UP) = 1300. */
int tandem_decimal_round(tandem_decimal d, int32_t scale, tandem_decimal_rounding mode,
                         tandem_decimal *out);
int tandem_decimal_floor(tandem_decimal d, tandem_decimal *out);   /* round(d, 0, FLOOR) */
int tandem_decimal_ceiling(tandem_decimal d, tandem_decimal *out); /* round(d, 0, CEILING) */

/* Correctly rounded square root; TANDEM_EINVAL below zero. */
int tandem_decimal_sqrt(tandem_decimal d, tandem_decimal *out);

/* Natural logarithm (TANDEM_EINVAL when d <= 0) and e^d, through doubles. */
int tandem_decimal_ln(tandem_decimal d, tandem_decimal *out);
int tandem_decimal_exp(tandem_decimal d, tandem_decimal *out);

/* base ** exponent as FEEL-Scala computes it: an integer exponent with
 * |n| <= TANDEM_DECIMAL_POW_EXP_MAX by repeated multiplication (x ** 0 = 1,
 * also for 0; 0 ** -n is TANDEM_EINVAL); any other exponent through
 * pow(double, double), TANDEM_EINVAL when that is not a real number
 * ((-8) ** 0.5). */
int tandem_decimal_pow(tandem_decimal base, tandem_decimal exponent, tandem_decimal *out);

#endif
