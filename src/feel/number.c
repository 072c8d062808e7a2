/*
 * number.c — the seam between the evaluator and FEEL's number type.
 *
 * Interim implementation over binary doubles, printed with 15 significant
 * digits so that `0.1 + 0.2` prints 0.3; it is replaced by calls into the
 * 34-digit decimal type (feel/decimal.h) when that lands. Keep every use of
 * numbers behind these calls.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

static int checked(double v, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    if (isnan(v)) {
        return TANDEM_EINVAL;
    }
    if (isinf(v)) {
        return TANDEM_ERANGE;
    }
    out->v = v == 0 ? 0 : v; /* no negative zero */
    return 0;
}

int feel_num_parse(const char *text, size_t len, bool json, feel_num *out)
{
    TANDEM_ASSERT(text != NULL && out != NULL);
    char buf[400];
    if (len == 0 || len >= sizeof(buf)) {
        return TANDEM_EINVAL;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        bool ok = (c >= '0' && c <= '9') || c == '.' || (c == '-' && i == 0) ||
                  (json && (c == 'e' || c == 'E' || c == '+' || c == '-'));
        if (!ok) {
            return TANDEM_EINVAL;
        }
    }
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len) {
        return TANDEM_EINVAL;
    }
    return checked(v, out);
}

feel_num feel_num_from_int(int64_t v)
{
    feel_num n = {(double)v};
    TANDEM_ASSERT(!isnan(n.v));
    return n;
}

int feel_num_to_int64(feel_num n, int64_t *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(!isnan(n.v));
    if (n.v != floor(n.v)) {
        return TANDEM_EINVAL;
    }
    if (n.v < -9.2e18 || n.v > 9.2e18) {
        return TANDEM_ERANGE;
    }
    *out = (int64_t)n.v;
    return 0;
}

size_t feel_num_format(feel_num n, char *buf, size_t size)
{
    TANDEM_ASSERT(buf != NULL && size > 0);
    TANDEM_ASSERT(!isnan(n.v));
    int len = snprintf(buf, size, "%.15g", n.v);
    return len < 0 ? 0 : (size_t)len;
}

int feel_num_cmp(feel_num a, feel_num b)
{
    TANDEM_ASSERT(!isnan(a.v) && !isnan(b.v));
    return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
}

bool feel_num_is_integer(feel_num n)
{
    return n.v == floor(n.v);
}

bool feel_num_is_negative(feel_num n)
{
    return n.v < 0;
}

bool feel_num_is_zero(feel_num n)
{
    return n.v == 0;
}

feel_num feel_num_negate(feel_num n)
{
    feel_num r = {n.v == 0 ? 0 : -n.v};
    return r;
}

int feel_num_add(feel_num a, feel_num b, feel_num *out)
{
    return checked(a.v + b.v, out);
}

int feel_num_sub(feel_num a, feel_num b, feel_num *out)
{
    return checked(a.v - b.v, out);
}

int feel_num_mul(feel_num a, feel_num b, feel_num *out)
{
    return checked(a.v * b.v, out);
}

int feel_num_div(feel_num a, feel_num b, feel_num *out)
{
    if (b.v == 0) {
        return TANDEM_EINVAL;
    }
    return checked(a.v / b.v, out);
}

int feel_num_pow(feel_num a, feel_num b, feel_num *out)
{
    return checked(pow(a.v, b.v), out);
}

int feel_num_mod(feel_num a, feel_num b, feel_num *out)
{
    if (b.v == 0) {
        return TANDEM_EINVAL;
    }
    return checked(a.v - b.v * floor(a.v / b.v), out);
}

int feel_num_sqrt(feel_num a, feel_num *out)
{
    if (a.v < 0) {
        return TANDEM_EINVAL;
    }
    return checked(sqrt(a.v), out);
}

int feel_num_ln(feel_num a, feel_num *out)
{
    if (a.v <= 0) {
        return TANDEM_EINVAL;
    }
    return checked(log(a.v), out);
}

int feel_num_exp(feel_num a, feel_num *out)
{
    return checked(exp(a.v), out);
}

int feel_num_round(feel_num a, int32_t scale, feel_rounding mode, feel_num *out)
{
    TANDEM_ASSERT(out != NULL);
    if (scale > 30 || scale < -30) {
        return TANDEM_ERANGE;
    }
    double f = pow(10, scale);
    double x = a.v * f, r;
    double fl = floor(x), diff = x - fl;
    switch (mode) {
    case FEEL_ROUND_FLOOR:
        r = fl;
        break;
    case FEEL_ROUND_CEILING:
        r = ceil(x);
        break;
    case FEEL_ROUND_DOWN:
        r = trunc(x);
        break;
    case FEEL_ROUND_UP:
        r = x < 0 ? floor(x) : ceil(x);
        break;
    case FEEL_ROUND_HALF_UP:
        r = round(x);
        break;
    case FEEL_ROUND_HALF_DOWN:
        r = fabs(x - trunc(x)) == 0.5 ? trunc(x) : round(x);
        break;
    default:
        r = diff > 0.5 ? fl + 1 : diff < 0.5 ? fl : (fmod(fl, 2) == 0 ? fl : fl + 1);
        break;
    }
    return checked(r / f, out);
}
