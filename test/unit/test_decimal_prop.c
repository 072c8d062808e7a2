/*
 * Property tests of the FEEL decimal: random operands, each result checked
 * against a slow reference written here from scratch (schoolbook arithmetic
 * on arrays of decimal digits, then one rounding to 34 digits half-even),
 * plus algebraic properties (text round trip, compare antisymmetry, a - b =
 * -(b - a), floor division identity).
 */
#include "base/error.h"
#include "feel/decimal.h"
#include "test.h"

#define REF_DIGITS_MAX 1200

/* value = (-1)^neg * digits * 10^exp, digits most significant first. */
typedef struct ref_num {
    int neg;
    int n;
    int64_t exp;
    uint8_t d[REF_DIGITS_MAX];
} ref_num;

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: the test's own generator, seeded from test_seed(). */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rnd_below(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static void ref_strip(ref_num *x)
{
    int lead = 0;
    while (lead < x->n - 1 && x->d[lead] == 0) {
        lead++;
    }
    memmove(x->d, x->d + lead, (size_t)(x->n - lead));
    x->n -= lead;
    if (x->n == 1 && x->d[0] == 0) {
        x->neg = 0;
    }
}

static void ref_random(ref_num *x)
{
    memset(x, 0, sizeof(*x));
    int shape = rnd_below(6);
    x->n = shape == 0 ? 34 : 1 + rnd_below(34);
    for (int i = 0; i < x->n; i++) {
        /* Runs of nines and zeros make carries and ties likely. */
        x->d[i] = (uint8_t)(shape == 1 ? 9 : shape == 2 ? (i == 0 ? 1 : 0) : rnd_below(10));
    }
    if (shape == 3 && x->n > 1) {
        x->d[x->n - 1] = 5;
    }
    x->neg = rnd_below(2);
    int span = rnd_below(4) == 0 ? 200 : 40;
    x->exp = rnd_below(2 * span + 1) - span;
    ref_strip(x);
}

/* Appends `k` zeros (lowers exp by k). */
static void ref_shift(ref_num *x, int64_t k)
{
    CHECK(k >= 0 && x->n + k <= REF_DIGITS_MAX);
    memset(x->d + x->n, 0, (size_t)k);
    x->n += (int)k;
    x->exp -= k;
}

static int ref_cmp_mag(ref_num a, ref_num b)
{
    int64_t e = a.exp < b.exp ? a.exp : b.exp;
    ref_shift(&a, a.exp - e);
    ref_shift(&b, b.exp - e);
    ref_strip(&a);
    ref_strip(&b);
    if (a.n != b.n) {
        return a.n < b.n ? -1 : 1;
    }
    int c = memcmp(a.d, b.d, (size_t)a.n);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

static int ref_is_zero(const ref_num *x)
{
    return x->n == 1 && x->d[0] == 0;
}

static int ref_cmp(const ref_num *a, const ref_num *b)
{
    if (ref_is_zero(a) && ref_is_zero(b)) {
        return 0;
    }
    if (a->neg != b->neg) {
        return a->neg ? -1 : 1;
    }
    int c = ref_cmp_mag(*a, *b);
    return a->neg ? -c : c;
}

/* Magnitudes at the same exp; r = a + b or a - b (a >= b). */
static void ref_addsub_aligned(const ref_num *a, const ref_num *b, int subtract, ref_num *r)
{
    int n = (a->n > b->n ? a->n : b->n) + 1;
    CHECK(n <= REF_DIGITS_MAX);
    int carry = 0;
    for (int i = 0; i < n; i++) {
        int da = i < a->n ? a->d[a->n - 1 - i] : 0;
        int db = i < b->n ? b->d[b->n - 1 - i] : 0;
        int v = subtract ? da - db - carry : da + db + carry;
        carry = subtract ? (v < 0) : (v >= 10);
        v = subtract ? (v < 0 ? v + 10 : v) : v % 10;
        r->d[n - 1 - i] = (uint8_t)v;
    }
    CHECK(carry == 0);
    r->n = n;
    r->exp = a->exp;
    ref_strip(r);
}

static void ref_add(ref_num a, ref_num b, ref_num *r)
{
    int64_t e = a.exp < b.exp ? a.exp : b.exp;
    ref_shift(&a, a.exp - e);
    ref_shift(&b, b.exp - e);
    memset(r, 0, sizeof(*r));
    if (a.neg == b.neg) {
        ref_addsub_aligned(&a, &b, 0, r);
        r->neg = a.neg;
    } else if (ref_cmp_mag(a, b) >= 0) {
        ref_addsub_aligned(&a, &b, 1, r);
        r->neg = a.neg;
    } else {
        ref_addsub_aligned(&b, &a, 1, r);
        r->neg = b.neg;
    }
    ref_strip(r);
}

static void ref_mul(const ref_num *a, const ref_num *b, ref_num *r)
{
    memset(r, 0, sizeof(*r));
    int acc[2 * 40] = {0};
    CHECK(a->n + b->n <= 80);
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < b->n; j++) {
            acc[a->n - 1 - i + b->n - 1 - j] += a->d[i] * b->d[j];
        }
    }
    int n = a->n + b->n;
    for (int k = 0; k < n - 1; k++) {
        acc[k + 1] += acc[k] / 10;
        acc[k] %= 10;
    }
    for (int k = 0; k < n; k++) {
        r->d[n - 1 - k] = (uint8_t)acc[k];
    }
    r->n = n;
    r->exp = a->exp + b->exp;
    r->neg = a->neg != b->neg;
    ref_strip(r);
}

/* Quotient of a / b with 40 significant digits plus a sticky flag. */
static void ref_div(const ref_num *a, const ref_num *b, ref_num *r, int *sticky)
{
    memset(r, 0, sizeof(*r));
    ref_num rem, divisor = *b;
    memset(&rem, 0, sizeof(rem));
    rem.n = 1;
    divisor.neg = 0;
    divisor.exp = 0;
    int produced = 0, significant = 0;
    int64_t exp = a->exp - b->exp;
    /* Long division over a's digits, then as many zeros as needed. */
    for (int i = 0; significant < 40; i++) {
        CHECK(i < REF_DIGITS_MAX);
        if (i >= a->n) {
            exp--;
        }
        rem.d[rem.n++] = i < a->n ? a->d[i] : 0;
        rem.exp = 0;
        ref_strip(&rem);
        int q = 0;
        while (ref_cmp_mag(rem, divisor) >= 0) {
            ref_num t;
            memset(&t, 0, sizeof(t));
            ref_addsub_aligned(&rem, &divisor, 1, &t);
            rem = t;
            q++;
        }
        CHECK(q <= 9);
        r->d[produced++] = (uint8_t)q;
        if (q != 0 || significant > 0) {
            significant++;
        }
    }
    r->n = produced;
    r->exp = exp;
    r->neg = a->neg != b->neg;
    *sticky = !ref_is_zero(&rem);
    ref_strip(r);
}

/* Rounds to 34 digits half-even; `sticky` is a non-zero tail below d. */
static void ref_round34(ref_num *x, int sticky)
{
    ref_strip(x);
    if (x->n <= 34) {
        CHECK(!sticky);
        return;
    }
    int digit = x->d[34];
    for (int i = 35; i < x->n; i++) {
        sticky = sticky || x->d[i] != 0;
    }
    x->exp += x->n - 34;
    x->n = 34;
    int up = digit > 5 || (digit == 5 && (sticky || (x->d[33] & 1)));
    for (int i = 33; up && i >= 0; i--) {
        if (x->d[i] == 9) {
            x->d[i] = 0;
        } else {
            x->d[i]++;
            up = 0;
        }
    }
    if (up) {
        x->d[0] = 1; /* 999...9 + 1: one digit longer, then the last zero drops */
        x->exp++;
    }
}

static tandem_decimal ref_to_dec(const ref_num *x)
{
    char text[REF_DIGITS_MAX + 32];
    size_t len = 0;
    if (x->neg) {
        text[len++] = '-';
    }
    for (int i = 0; i < x->n; i++) {
        text[len++] = (char)('0' + x->d[i]);
    }
    len += (size_t)snprintf(text + len, sizeof(text) - len, "E%" PRId64, x->exp);
    tandem_decimal d;
    CHECK_OK(tandem_decimal_parse(text, len, TANDEM_DECIMAL_SYNTAX_LENIENT, &d, NULL));
    return d;
}

static const char *show(tandem_decimal d, char *buf)
{
    tandem_decimal_format(d, buf, TANDEM_DECIMAL_TEXT_MAX);
    return buf;
}

static void check_same(const char *what, tandem_decimal a, tandem_decimal b, tandem_decimal got,
                       tandem_decimal expect)
{
    char s1[TANDEM_DECIMAL_TEXT_MAX], s2[TANDEM_DECIMAL_TEXT_MAX];
    char s3[TANDEM_DECIMAL_TEXT_MAX], s4[TANDEM_DECIMAL_TEXT_MAX];
    CHECK_MSG(tandem_decimal_cmp(got, expect) == 0, "%s(%s, %s) = %s, reference %s", what,
              show(a, s1), show(b, s2), show(got, s3), show(expect, s4));
    tandem_decimal rg = tandem_decimal_reduce(got), re = tandem_decimal_reduce(expect);
    CHECK(memcmp(&rg, &re, sizeof(rg)) == 0);
}

static void test_against_reference(void)
{
    rng_state = test_seed();
    uint64_t n = test_iterations(3000);
    static ref_num a, b, r;
    for (uint64_t i = 0; i < n; i++) {
        ref_random(&a);
        ref_random(&b);
        tandem_decimal da = ref_to_dec(&a), db = ref_to_dec(&b), got;

        CHECK_EQ_I64(ref_cmp(&a, &b), tandem_decimal_cmp(da, db));

        ref_add(a, b, &r);
        ref_round34(&r, 0);
        CHECK_OK(tandem_decimal_add(da, db, &got));
        check_same("add", da, db, got, ref_to_dec(&r));

        ref_num nb = b;
        nb.neg = ref_is_zero(&b) ? 0 : !b.neg;
        ref_add(a, nb, &r);
        ref_round34(&r, 0);
        CHECK_OK(tandem_decimal_sub(da, db, &got));
        check_same("sub", da, db, got, ref_to_dec(&r));

        ref_mul(&a, &b, &r);
        ref_round34(&r, 0);
        CHECK_OK(tandem_decimal_mul(da, db, &got));
        check_same("mul", da, db, got, ref_to_dec(&r));

        if (!ref_is_zero(&b) && !ref_is_zero(&a)) {
            int sticky = 0;
            ref_div(&a, &b, &r, &sticky);
            ref_round34(&r, sticky);
            CHECK_OK(tandem_decimal_div(da, db, &got));
            check_same("div", da, db, got, ref_to_dec(&r));
        }
    }
}

static void test_algebra(void)
{
    rng_state = test_seed() ^ 0x5a5a5a5aULL;
    uint64_t n = test_iterations(3000);
    static ref_num a, b;
    for (uint64_t i = 0; i < n; i++) {
        ref_random(&a);
        ref_random(&b);
        tandem_decimal da = ref_to_dec(&a), db = ref_to_dec(&b), x, y;
        /* Canonical text reads back to the same value in every syntax it
         * claims, and formats identically. */
        char text[TANDEM_DECIMAL_TEXT_MAX], again[TANDEM_DECIMAL_TEXT_MAX];
        size_t len = tandem_decimal_format(da, text, sizeof(text));
        CHECK(strstr(text, "-0") != text || strcmp(text, "-0") != 0);
        CHECK_OK(tandem_decimal_parse(text, len, TANDEM_DECIMAL_SYNTAX_JSON, &x, NULL));
        CHECK_EQ_I64(0, tandem_decimal_cmp(x, da));
        tandem_decimal_format(x, again, sizeof(again));
        CHECK_STREQ(text, again);
        if (strchr(text, 'E') == NULL) {
            CHECK_OK(tandem_decimal_parse(text, len, TANDEM_DECIMAL_SYNTAX_FEEL, &x, NULL));
            CHECK_EQ_I64(0, tandem_decimal_cmp(x, da));
        }
        /* Antisymmetry and negation. */
        CHECK_EQ_I64(-tandem_decimal_cmp(da, db), tandem_decimal_cmp(db, da));
        CHECK_OK(tandem_decimal_sub(da, db, &x));
        CHECK_OK(tandem_decimal_sub(db, da, &y));
        CHECK_EQ_I64(0, tandem_decimal_cmp(x, tandem_decimal_negate(y)));
        CHECK_OK(tandem_decimal_add(da, db, &x));
        CHECK_OK(tandem_decimal_add(db, da, &y));
        CHECK_EQ_I64(0, tandem_decimal_cmp(x, y));
        /* Floor division: a = b * q + r with r of b's sign and |r| < |b|,
         * whenever q fits (then every step is exact). */
        tandem_decimal q, r, bq, sum;
        int rc = tandem_decimal_div_int(da, db, &q);
        if (rc == TANDEM_OK && tandem_decimal_mod(da, db, &r) == TANDEM_OK &&
            tandem_decimal_mul(db, q, &bq) == TANDEM_OK &&
            tandem_decimal_add(bq, r, &sum) == TANDEM_OK && tandem_decimal_is_integer(q)) {
            CHECK(tandem_decimal_is_zero(r) ||
                  tandem_decimal_is_negative(r) == tandem_decimal_is_negative(db));
            /* |r| <= |b|: r + b may round up to b itself (r tiny, b large) */
            CHECK(tandem_decimal_cmp(tandem_decimal_abs(r), tandem_decimal_abs(db)) <= 0);
            int64_t gap = a.exp > b.exp ? a.exp - b.exp : b.exp - a.exp;
            if (b.n <= 20 && a.n <= 20 && gap <= 10 &&
                tandem_decimal_cmp(tandem_decimal_abs(q), tandem_decimal_from_int64(10000000000)) <
                    0) {
                CHECK_EQ_I64(0, tandem_decimal_cmp(sum, da)); /* all steps exact */
            }
        } else {
            CHECK(rc == TANDEM_OK || rc == TANDEM_ERANGE || rc == TANDEM_EINVAL);
        }
        /* Rounding to a scale never moves by a unit or more of that scale. */
        int32_t scale = (int32_t)rnd_below(60) - 30;
        CHECK_OK(tandem_decimal_round(da, scale, TANDEM_DECIMAL_ROUND_FLOOR, &x));
        CHECK(tandem_decimal_cmp(x, da) <= 0);
        CHECK_OK(tandem_decimal_round(da, scale, TANDEM_DECIMAL_ROUND_CEILING, &y));
        CHECK(tandem_decimal_cmp(y, da) >= 0);
        /* sqrt(a^2) = |a| when a^2 is exact. */
        if (a.n <= 17) {
            CHECK_OK(tandem_decimal_mul(da, da, &x));
            CHECK_OK(tandem_decimal_sqrt(x, &y));
            CHECK_EQ_I64(0, tandem_decimal_cmp(y, tandem_decimal_abs(da)));
        }
    }
}

static const tandem_test cases[] = {
    {"against_reference", test_against_reference},
    {"algebra", test_algebra},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
