/*
 * Decimal values: text in and out, conversions, comparison, and the three
 * operations that are on every FEEL hot path (add, sub, mul), each with a
 * fast path for coefficients that stay within 34 digits exactly.
 */
#include "feel/decimal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feel/decimal_int.h"

/* Offending text is quoted in messages up to this many bytes. */
#define DECIMAL_QUOTE_MAX 40
/* Exponents in text saturate here; anything this large is out of range. */
#define DECIMAL_TEXT_EXP_CAP 100000000

/* ---- parsing ---- */

typedef struct decimal_scan {
    u128 coef;         /* the first 34 significant digits */
    int digits;        /* significant digits in coef */
    int round_digit;   /* the 35th significant digit */
    bool sticky;       /* a non-zero digit after the 35th */
    int64_t exponent;  /* power of ten of coef's last digit, before the exponent part */
    bool negative;     /* a leading minus */
    size_t pos;        /* next byte */
    size_t mantissa_n; /* digits seen before the exponent part */
} decimal_scan;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void scan_digit(decimal_scan *s, int digit, bool fraction)
{
    TANDEM_ASSERT(digit >= 0 && digit <= 9);
    s->mantissa_n++;
    if (s->digits == 0 && digit == 0) {
        /* A leading zero: no significant digit, but a fraction digit still
         * moves the point. */
        if (fraction) {
            s->exponent--;
        }
        return;
    }
    if (s->digits < TANDEM_DECIMAL_DIGITS) {
        s->coef = s->coef * 10 + (unsigned)digit;
        s->digits++;
        if (fraction) {
            s->exponent--;
        }
        return;
    }
    /* Beyond 34 digits: dropped, remembered for rounding. */
    if (s->digits == TANDEM_DECIMAL_DIGITS) {
        s->round_digit = digit;
        s->digits++;
    } else if (digit != 0) {
        s->sticky = true;
    }
    if (!fraction) {
        s->exponent++;
    }
}

static int scan_fail(const char *text, size_t len, size_t pos, const char *what, tandem_diag *diag)
{
    TANDEM_ASSERT(text != NULL || len == 0);
    TANDEM_ASSERT(pos <= len);
    int shown = len > DECIMAL_QUOTE_MAX ? DECIMAL_QUOTE_MAX : (int)len;
    return tandem_diag_set(diag, TANDEM_EINVAL, "invalid number \"%.*s%s\": %s at offset %zu",
                           shown, text != NULL ? text : "", len > DECIMAL_QUOTE_MAX ? "..." : "",
                           what, pos);
}

/* Reads digits while they come; returns how many. */
static size_t scan_digits(decimal_scan *s, const char *text, size_t len, bool fraction)
{
    TANDEM_ASSERT(s != NULL && text != NULL);
    size_t start = s->pos;
    while (s->pos < len && is_digit(text[s->pos])) {
        scan_digit(s, text[s->pos] - '0', fraction);
        s->pos++;
    }
    TANDEM_ASSERT(s->pos <= len);
    return s->pos - start;
}

static int scan_exponent(decimal_scan *s, const char *text, size_t len, int64_t *value,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(s->pos < len && (text[s->pos] == 'e' || text[s->pos] == 'E'));
    s->pos++;
    bool negative = false;
    if (s->pos < len && (text[s->pos] == '+' || text[s->pos] == '-')) {
        negative = text[s->pos] == '-';
        s->pos++;
    }
    if (s->pos >= len || !is_digit(text[s->pos])) {
        return scan_fail(text, len, s->pos, "expected a digit of the exponent", diag);
    }
    int64_t e = 0;
    while (s->pos < len && is_digit(text[s->pos])) {
        if (e < DECIMAL_TEXT_EXP_CAP) {
            e = e * 10 + (text[s->pos] - '0');
        }
        s->pos++;
    }
    *value = negative ? -e : e;
    return TANDEM_OK;
}

/* Checks the mantissa shape the syntax demands; fills s. */
static int scan_mantissa(decimal_scan *s, const char *text, size_t len,
                         tandem_decimal_syntax syntax, tandem_diag *diag)
{
    if (s->pos < len && (text[s->pos] == '-' || text[s->pos] == '+')) {
        if (text[s->pos] == '+' && syntax != TANDEM_DECIMAL_SYNTAX_LENIENT) {
            return scan_fail(text, len, s->pos, "a leading '+' is not allowed", diag);
        }
        s->negative = text[s->pos] == '-';
        s->pos++;
    }
    size_t int_start = s->pos;
    size_t int_n = scan_digits(s, text, len, false);
    if (syntax == TANDEM_DECIMAL_SYNTAX_JSON) {
        if (int_n == 0) {
            return scan_fail(text, len, s->pos, "expected a digit", diag);
        }
        if (int_n > 1 && text[int_start] == '0') {
            return scan_fail(text, len, int_start, "a leading zero is not allowed", diag);
        }
    }
    size_t frac_n = 0;
    if (s->pos < len && text[s->pos] == '.') {
        s->pos++;
        frac_n = scan_digits(s, text, len, true);
        bool need_fraction = syntax != TANDEM_DECIMAL_SYNTAX_LENIENT || int_n == 0;
        if (frac_n == 0 && need_fraction) {
            return scan_fail(text, len, s->pos, "expected a digit after '.'", diag);
        }
    }
    if (int_n == 0 && frac_n == 0) {
        return scan_fail(text, len, s->pos, "expected a digit", diag);
    }
    return TANDEM_OK;
}

int tandem_decimal_parse(const char *text, size_t len, tandem_decimal_syntax syntax,
                         tandem_decimal *out, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(text != NULL || len == 0);
    if (syntax != TANDEM_DECIMAL_SYNTAX_FEEL && syntax != TANDEM_DECIMAL_SYNTAX_JSON &&
        syntax != TANDEM_DECIMAL_SYNTAX_LENIENT) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "unknown number syntax %d", (int)syntax);
    }
    if (len == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "invalid number \"\": empty text");
    }
    decimal_scan s;
    memset(&s, 0, sizeof(s));
    int rc = scan_mantissa(&s, text, len, syntax, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    int64_t exp_part = 0;
    if (s.pos < len && (text[s.pos] == 'e' || text[s.pos] == 'E')) {
        if (syntax == TANDEM_DECIMAL_SYNTAX_FEEL) {
            return scan_fail(text, len, s.pos, "FEEL numbers have no exponent", diag);
        }
        rc = scan_exponent(&s, text, len, &exp_part, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    if (s.pos != len) {
        return scan_fail(text, len, s.pos, "unexpected character", diag);
    }
    u128 coef = s.coef;
    int64_t exponent = s.exponent + exp_part;
    if (decimal_round_up(TANDEM_DECIMAL_ROUND_HALF_EVEN, s.negative, (coef & 1) != 0, s.round_digit,
                         s.sticky)) {
        coef++;
        if (coef == DECIMAL_COEF_LIMIT) {
            coef = decimal_pow10[TANDEM_DECIMAL_DIGITS - 1];
            exponent++;
        }
    }
    rc = decimal_pack(s.negative, coef, exponent, out);
    if (rc != TANDEM_OK) {
        int shown = len > DECIMAL_QUOTE_MAX ? DECIMAL_QUOTE_MAX : (int)len;
        return tandem_diag_set(diag, rc, "number \"%.*s%s\" is out of range (exponent beyond %d)",
                               shown, text, len > DECIMAL_QUOTE_MAX ? "..." : "",
                               TANDEM_DECIMAL_ADJ_EXP_MAX);
    }
    return TANDEM_OK;
}

/* ---- conversions ---- */

tandem_decimal tandem_decimal_from_uint64(uint64_t v)
{
    tandem_decimal d = decimal_make(false, v, 0);
    TANDEM_ASSERT(decimal_coef(d) == v);
    return d;
}

tandem_decimal tandem_decimal_from_int64(int64_t v)
{
    /* The magnitude of INT64_MIN does not fit int64_t; compute it unsigned. */
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    tandem_decimal d = decimal_make(v < 0, magnitude, 0);
    TANDEM_ASSERT(d.negative == (v < 0));
    return d;
}

int tandem_decimal_from_double(double v, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (!isfinite(v)) {
        return TANDEM_EINVAL;
    }
    if (v == 0) {
        *out = decimal_make(false, 0, 0);
        return TANDEM_OK;
    }
    /* The shortest precision whose text reads back as v; 17 always does. */
    char text[40];
    int n = 0;
    for (int precision = 1; precision <= 17; precision++) {
        n = snprintf(text, sizeof(text), "%.*e", precision - 1, v);
        TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(text));
        if (strtod(text, NULL) == v) {
            break;
        }
    }
    int rc = tandem_decimal_parse(text, (size_t)n, TANDEM_DECIMAL_SYNTAX_LENIENT, out, NULL);
    TANDEM_ASSERT(rc == TANDEM_OK); /* doubles are far inside the decimal range */
    return rc;
}

int tandem_decimal_to_int64(tandem_decimal d, int64_t *out)
{
    TANDEM_ASSERT(out != NULL);
    d = tandem_decimal_reduce(d);
    u128 coef = decimal_coef(d);
    if (coef == 0) {
        *out = 0;
        return TANDEM_OK;
    }
    if (d.exponent < 0) {
        return TANDEM_EINVAL;
    }
    if (decimal_digits128(coef) + d.exponent > 19) {
        return TANDEM_ERANGE;
    }
    u128 magnitude = coef * decimal_pow10[d.exponent];
    u128 limit = d.negative ? (u128)1 << 63 : ((u128)1 << 63) - 1;
    if (magnitude > limit) {
        return TANDEM_ERANGE;
    }
    /* -2^63 is the one value whose magnitude is not an int64_t. */
    *out = d.negative ? (int64_t)(0 - (uint64_t)magnitude) : (int64_t)magnitude;
    TANDEM_ASSERT((*out < 0) == (d.negative != 0));
    return TANDEM_OK;
}

/* Writes the coefficient's digits (no NUL); returns how many. */
static int coef_digits(u128 coef, char *buf)
{
    int n = decimal_digits128(coef);
    TANDEM_ASSERT(n >= 1 && n <= TANDEM_DECIMAL_DIGITS);
    for (int i = n - 1; i >= 0; i--) {
        buf[i] = (char)('0' + (int)(coef % 10));
        coef /= 10;
    }
    TANDEM_ASSERT(coef == 0);
    return n;
}

double tandem_decimal_to_double(tandem_decimal d)
{
    char text[TANDEM_DECIMAL_TEXT_MAX + 16];
    int n = d.negative ? 1 : 0;
    text[0] = '-';
    n += coef_digits(decimal_coef(d), text + n);
    int m = snprintf(text + n, sizeof(text) - (size_t)n, "e%d", (int)d.exponent);
    TANDEM_ASSERT(m > 0 && (size_t)(n + m) < sizeof(text));
    /* strtod rounds correctly; the text has no locale-dependent point. */
    return strtod(text, NULL);
}

size_t tandem_decimal_format(tandem_decimal d, char *buf, size_t size)
{
    TANDEM_ASSERT(buf != NULL || size == 0);
    d = tandem_decimal_reduce(d);
    char digits[TANDEM_DECIMAL_DIGITS];
    int n = coef_digits(decimal_coef(d), digits);
    int64_t exponent = decimal_coef(d) == 0 ? 0 : d.exponent;
    int64_t adjusted = exponent + n - 1;
    char text[TANDEM_DECIMAL_TEXT_MAX];
    size_t len = 0;
    if (d.negative) {
        text[len++] = '-';
    }
    if (adjusted >= -6 && adjusted <= 33) {
        if (exponent >= 0) {
            memcpy(text + len, digits, (size_t)n);
            len += (size_t)n;
            memset(text + len, '0', (size_t)exponent);
            len += (size_t)exponent;
        } else if (adjusted >= 0) {
            size_t whole = (size_t)adjusted + 1;
            memcpy(text + len, digits, whole);
            len += whole;
            text[len++] = '.';
            memcpy(text + len, digits + whole, (size_t)n - whole);
            len += (size_t)n - whole;
        } else {
            text[len++] = '0';
            text[len++] = '.';
            memset(text + len, '0', (size_t)(-adjusted - 1));
            len += (size_t)(-adjusted - 1);
            memcpy(text + len, digits, (size_t)n);
            len += (size_t)n;
        }
    } else {
        text[len++] = digits[0];
        if (n > 1) {
            text[len++] = '.';
            memcpy(text + len, digits + 1, (size_t)n - 1);
            len += (size_t)n - 1;
        }
        int m = snprintf(text + len, sizeof(text) - len, "E%+d", (int)adjusted);
        TANDEM_ASSERT(m > 0);
        len += (size_t)m;
    }
    TANDEM_ASSERT(len < sizeof(text));
    if (size > 0) {
        size_t copy = len < size ? len : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return len;
}

/* ---- queries ---- */

bool tandem_decimal_is_zero(tandem_decimal d)
{
    TANDEM_ASSERT(decimal_coef(d) != 0 || !d.negative);
    return d.coef_lo == 0 && d.coef_hi == 0;
}

bool tandem_decimal_is_negative(tandem_decimal d)
{
    TANDEM_ASSERT(decimal_coef(d) != 0 || !d.negative);
    return d.negative != 0;
}

bool tandem_decimal_is_integer(tandem_decimal d)
{
    u128 coef = decimal_coef(d);
    TANDEM_ASSERT(coef < DECIMAL_COEF_LIMIT);
    if (coef == 0 || d.exponent >= 0) {
        return true;
    }
    if (d.exponent <= -TANDEM_DECIMAL_DIGITS) {
        return false; /* 0 < coef < 10^34 <= 10^-exponent */
    }
    return coef % decimal_pow10[-d.exponent] == 0;
}

int tandem_decimal_cmp(tandem_decimal a, tandem_decimal b)
{
    u128 ca = decimal_coef(a), cb = decimal_coef(b);
    TANDEM_ASSERT(ca < DECIMAL_COEF_LIMIT && cb < DECIMAL_COEF_LIMIT);
    if (ca == 0 || cb == 0) {
        if (ca == 0 && cb == 0) {
            return 0;
        }
        if (ca == 0) {
            return b.negative ? 1 : -1;
        }
        return a.negative ? -1 : 1;
    }
    if (a.negative != b.negative) {
        return a.negative ? -1 : 1;
    }
    int sign = a.negative ? -1 : 1;
    int na = decimal_digits128(ca), nb = decimal_digits128(cb);
    int64_t adj_a = (int64_t)a.exponent + na, adj_b = (int64_t)b.exponent + nb;
    if (adj_a != adj_b) {
        return adj_a < adj_b ? -sign : sign;
    }
    /* Same leading position: scale the one with fewer digits up, which
     * stays below 10^34. */
    if (a.exponent > b.exponent) {
        ca *= decimal_pow10[a.exponent - b.exponent];
    } else if (b.exponent > a.exponent) {
        cb *= decimal_pow10[b.exponent - a.exponent];
    }
    if (ca == cb) {
        return 0;
    }
    return ca < cb ? -sign : sign;
}

tandem_decimal tandem_decimal_reduce(tandem_decimal d)
{
    u128 coef = decimal_coef(d);
    if (coef == 0) {
        return decimal_make(false, 0, 0);
    }
    int64_t exponent = d.exponent;
    decimal_reduce_to(&coef, &exponent, INT64_MAX);
    /* Stripping zeros lowers the digit count as much as it raises the
     * exponent: the adjusted exponent, hence the range, is unchanged. */
    TANDEM_ASSERT(exponent <= DECIMAL_EXP_MAX);
    return decimal_make(d.negative, coef, (int32_t)exponent);
}

/* ---- arithmetic ---- */

tandem_decimal tandem_decimal_negate(tandem_decimal d)
{
    u128 coef = decimal_coef(d);
    TANDEM_ASSERT(coef != 0 || !d.negative);
    return decimal_make(!d.negative, coef, d.exponent);
}

tandem_decimal tandem_decimal_abs(tandem_decimal d)
{
    u128 coef = decimal_coef(d);
    TANDEM_ASSERT(coef != 0 || !d.negative);
    return decimal_make(false, coef, d.exponent);
}

/* The exact sum of a and b with a.exponent >= b.exponent, rounded. */
static int add_slow(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(a.exponent >= b.exponent);
    u128 cb = decimal_coef(b);
    int64_t shift = (int64_t)a.exponent - b.exponent;
    if (shift > 70) {
        /* |b| < 10^(a.exponent - 36): it cannot reach the rounding digit of
         * a (whose ulp below a power of ten is at least 10^(a.exponent-34)).
         * Any value strictly between 0 and that bound rounds the same way,
         * so 1 * 10^(a.exponent - 71) stands in for it. */
        shift = 71;
        cb = 1;
    }
    decimal_wide wa, wb;
    decimal_wide_from128(&wa, decimal_coef(a));
    decimal_wide_mul_pow10(&wa, shift);
    decimal_wide_from128(&wb, cb);
    bool negative = a.negative;
    if (a.negative == b.negative) {
        decimal_wide_add(&wa, &wb);
    } else if (decimal_wide_cmp(&wa, &wb) >= 0) {
        decimal_wide_sub(&wa, &wb);
    } else {
        decimal_wide_sub(&wb, &wa);
        wa = wb;
        negative = b.negative;
    }
    return decimal_finish(&wa, negative, (int64_t)a.exponent - shift, false, out, NULL);
}

int tandem_decimal_add(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    if (a.exponent < b.exponent) {
        tandem_decimal t = a;
        a = b;
        b = t;
    }
    u128 ca = decimal_coef(a), cb = decimal_coef(b);
    TANDEM_ASSERT(ca < DECIMAL_COEF_LIMIT && cb < DECIMAL_COEF_LIMIT);
    if (ca == 0 || cb == 0) {
        /* x + 0 = x exactly, at the smaller exponent when that loses
         * nothing (BigDecimal's preferred scale). */
        tandem_decimal x = ca == 0 ? b : a;
        if (decimal_coef(x) == 0) {
            return decimal_pack(false, 0, b.exponent, out);
        }
        *out = x;
        return TANDEM_OK;
    }
    int64_t shift = (int64_t)a.exponent - b.exponent;
    if (shift < TANDEM_DECIMAL_DIGITS && ca < decimal_pow10[TANDEM_DECIMAL_DIGITS - shift]) {
        /* Fast path: the aligned a fits 34 digits, the sum fits 128 bits. */
        u128 aligned = ca * decimal_pow10[shift];
        u128 sum;
        bool negative = a.negative;
        if (a.negative == b.negative) {
            sum = aligned + cb;
        } else if (aligned >= cb) {
            sum = aligned - cb;
        } else {
            sum = cb - aligned;
            negative = b.negative;
        }
        if (sum < DECIMAL_COEF_LIMIT) {
            return decimal_pack(negative, sum, b.exponent, out);
        }
    }
    return add_slow(a, b, out);
}

int tandem_decimal_sub(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    return tandem_decimal_add(a, tandem_decimal_negate(b), out);
}

int tandem_decimal_mul(tandem_decimal a, tandem_decimal b, tandem_decimal *out)
{
    TANDEM_ASSERT(out != NULL);
    u128 ca = decimal_coef(a), cb = decimal_coef(b);
    TANDEM_ASSERT(ca < DECIMAL_COEF_LIMIT && cb < DECIMAL_COEF_LIMIT);
    bool negative = a.negative != b.negative;
    int64_t exponent = (int64_t)a.exponent + b.exponent;
    if ((ca >> 64) == 0 && (cb >> 64) == 0) {
        u128 p = ca * cb; /* two 64-bit factors: no overflow */
        if (p < DECIMAL_COEF_LIMIT) {
            return decimal_pack(negative, p, exponent, out);
        }
    }
    decimal_wide w;
    decimal_wide_mul128(&w, ca, cb);
    return decimal_finish(&w, negative, exponent, false, out, NULL);
}
