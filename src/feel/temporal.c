/*
 * temporal.c — FEEL's date, time, date and time and the two durations:
 * ISO 8601 text in and out, calendar arithmetic, comparison, properties.
 *
 * Calendar arithmetic is proleptic Gregorian on day numbers (days since
 * 1970-01-01), so no C library time function (and no process time zone) is
 * involved. Adding months clamps the day to the end of the month
 * (2020-01-31 + P1M = 2020-02-29), as java.time does. Zones by name are
 * resolved through the zone data of the evaluation (zone.c) when it has
 * some; without, they are kept and printed, and compare only with
 * date-times of the same zone.
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

/* Moments in nanoseconds need more than 64 bits (days * 86400e9). */
__extension__ typedef __int128 i128;

#define NANOS_PER_SEC  INT64_C(1000000000)
#define NANOS_PER_DAY  (INT64_C(86400) * NANOS_PER_SEC)
#define YEAR_ABS_MAX   999999999
#define OFFSET_ABS_MAX (18 * 3600)
/* Durations beyond this many seconds (about 2.9 million years) are refused,
 * so sums of two never overflow int64. */
#define DURATION_SECS_MAX (INT64_C(1) << 46)

int64_t feel_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    TANDEM_ASSERT(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    TANDEM_ASSERT(y >= -YEAR_ABS_MAX - 1 && y <= YEAR_ABS_MAX + 1);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void feel_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    TANDEM_ASSERT(y != NULL && m != NULL && d != NULL);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
    TANDEM_ASSERT(*m >= 1 && *m <= 12 && *d >= 1 && *d <= 31);
}

unsigned feel_days_in_month(int64_t y, unsigned m)
{
    TANDEM_ASSERT(m >= 1 && m <= 12);
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    TANDEM_ASSERT(b > 0);
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

bool feel_is_temporal(const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    return v->type >= TANDEM_FEEL_DATE && v->type <= TANDEM_FEEL_YEARS_MONTHS_DURATION;
}

static feel_value *new_value(feel_eval *e, unsigned type)
{
    TANDEM_ASSERT(type >= TANDEM_FEEL_DATE && type <= TANDEM_FEEL_YEARS_MONTHS_DURATION);
    feel_value *v = feel_arena_alloc(e->arena, sizeof(*v));
    if (v == NULL) {
        feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
        return NULL;
    }
    v->type = (uint8_t)type;
    return v;
}

/* Finds the offset of a date-time in a named zone, moving a local time in
 * a gap forward as java.time does. False (with a warning) for an unknown
 * zone; true and unchanged without zone data. */
static bool resolve_zone(feel_eval *e, unsigned type, feel_temporal *tm)
{
    TANDEM_ASSERT(tm != NULL);
    if (type != TANDEM_FEEL_DATE_TIME || tm->zone_kind != FEEL_ZONE_NAMED || tm->resolved ||
        e->zones == NULL) {
        return true;
    }
    const feel_zone *z = feel_zone_find(e->zones, tm->zone);
    if (z == NULL) {
        feel_warn(e, "unknown time zone '%s'", tm->zone);
        return false;
    }
    int64_t local = tm->days * 86400 + tm->nanos / NANOS_PER_SEC;
    int64_t utc = local - feel_zone_utoff_local(z, local);
    int32_t off = feel_zone_utoff_at(z, utc);
    int64_t shift = (utc + off) - local; /* non-zero only in a gap */
    int64_t ns = tm->nanos + shift * NANOS_PER_SEC;
    int64_t carry = floor_div(ns, NANOS_PER_DAY);
    tm->days += carry;
    tm->nanos = ns - carry * NANOS_PER_DAY;
    tm->offset_s = off;
    tm->resolved = 1;
    TANDEM_ASSERT(tm->nanos >= 0 && tm->nanos < NANOS_PER_DAY);
    return true;
}

const feel_value *feel_temporal_value(feel_eval *e, unsigned type, feel_temporal tm)
{
    TANDEM_ASSERT(type == TANDEM_FEEL_DATE || type == TANDEM_FEEL_TIME ||
                  type == TANDEM_FEEL_DATE_TIME);
    TANDEM_ASSERT(tm.nanos >= 0 && tm.nanos < NANOS_PER_DAY);
    if (!resolve_zone(e, type, &tm)) {
        return &feel_null;
    }
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(tm.days, &y, &m, &d);
    if (y > YEAR_ABS_MAX || y < -YEAR_ABS_MAX) {
        return feel_warn(e, "date out of range");
    }
    feel_value *v = new_value(e, type);
    if (v != NULL) {
        v->u.tm = tm;
    }
    return v;
}

const feel_value *feel_duration_value(feel_eval *e, int64_t secs, int32_t nanos)
{
    TANDEM_ASSERT(nanos > -NANOS_PER_SEC && nanos < NANOS_PER_SEC);
    /* Same sign for both parts. */
    if (secs > 0 && nanos < 0) {
        secs--;
        nanos += (int32_t)NANOS_PER_SEC;
    } else if (secs < 0 && nanos > 0) {
        secs++;
        nanos -= (int32_t)NANOS_PER_SEC;
    }
    if (secs > DURATION_SECS_MAX || secs < -DURATION_SECS_MAX) {
        return feel_warn(e, "duration out of range");
    }
    feel_value *v = new_value(e, TANDEM_FEEL_DAYS_TIME_DURATION);
    if (v != NULL) {
        v->u.dur.secs = secs;
        v->u.dur.nanos = nanos;
    }
    return v;
}

const feel_value *feel_months_value(feel_eval *e, int64_t months)
{
    if (months > INT64_C(12) * YEAR_ABS_MAX || months < -INT64_C(12) * YEAR_ABS_MAX) {
        return feel_warn(e, "duration out of range");
    }
    feel_value *v = new_value(e, TANDEM_FEEL_YEARS_MONTHS_DURATION);
    if (v != NULL) {
        v->u.months = months;
    }
    return v;
}

/* ---- Parsing ------------------------------------------------------------- */

typedef struct cursor {
    const char *s;
    size_t len, at;
} cursor;

static bool peek(const cursor *c, char ch)
{
    TANDEM_ASSERT(c->at <= c->len);
    return c->at < c->len && c->s[c->at] == ch;
}

/* Exactly `min`..`max` digits into *out. */
static bool digits(cursor *c, int min, int max, int64_t *out)
{
    TANDEM_ASSERT(min >= 1 && max <= 18);
    int n = 0;
    int64_t v = 0;
    while (n < max && c->at < c->len && c->s[c->at] >= '0' && c->s[c->at] <= '9') {
        v = v * 10 + (c->s[c->at] - '0');
        c->at++;
        n++;
    }
    *out = v;
    return n >= min;
}

static bool parse_date_part(cursor *c, int64_t *days)
{
    TANDEM_ASSERT(c != NULL && days != NULL);
    int64_t y, m, d;
    bool neg = peek(c, '-');
    if (neg) {
        c->at++;
    }
    if (!digits(c, 4, 9, &y) || !peek(c, '-')) {
        return false;
    }
    c->at++;
    if (!digits(c, 2, 2, &m) || !peek(c, '-')) {
        return false;
    }
    c->at++;
    if (!digits(c, 2, 2, &d) || m < 1 || m > 12) {
        return false;
    }
    y = neg ? -y : y;
    if (d < 1 || d > feel_days_in_month(y, (unsigned)m)) {
        return false;
    }
    *days = feel_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

/* HH:MM[:SS[.fffffffff]] then an optional Z, +HH:MM, -HH:MM or @Zone. */
static bool parse_time_part(feel_eval *e, cursor *c, feel_temporal *tm)
{
    TANDEM_ASSERT(e != NULL && c != NULL && tm != NULL);
    int64_t h, mi, sec = 0, frac = 0;
    if (!digits(c, 2, 2, &h) || !peek(c, ':')) {
        return false;
    }
    c->at++;
    if (!digits(c, 2, 2, &mi)) {
        return false;
    }
    if (peek(c, ':')) {
        c->at++;
        if (!digits(c, 2, 2, &sec)) {
            return false;
        }
        if (peek(c, '.')) {
            c->at++;
            size_t start = c->at;
            if (!digits(c, 1, 9, &frac)) {
                return false;
            }
            for (size_t k = c->at - start; k < 9; k++) {
                frac *= 10;
            }
        }
    }
    if (h > 23 || mi > 59 || sec > 59) {
        return false;
    }
    tm->nanos = ((h * 60 + mi) * 60 + sec) * NANOS_PER_SEC + frac;
    if (peek(c, 'Z')) {
        c->at++;
        tm->zone_kind = FEEL_ZONE_OFFSET;
        tm->offset_s = 0;
    } else if (peek(c, '+') || peek(c, '-')) {
        int sign = peek(c, '-') ? -1 : 1;
        int64_t oh, om = 0;
        c->at++;
        if (!digits(c, 2, 2, &oh)) {
            return false;
        }
        if (peek(c, ':')) {
            c->at++;
            if (!digits(c, 2, 2, &om)) {
                return false;
            }
        }
        if (oh * 3600 + om * 60 > OFFSET_ABS_MAX || om > 59) {
            return false;
        }
        tm->zone_kind = FEEL_ZONE_OFFSET;
        tm->offset_s = (int32_t)(sign * (oh * 3600 + om * 60));
    } else if (peek(c, '@')) {
        c->at++;
        size_t start = c->at;
        while (c->at < c->len && c->s[c->at] != ' ') {
            c->at++;
        }
        if (c->at == start) {
            return false;
        }
        tm->zone_kind = FEEL_ZONE_NAMED;
        tm->zone = feel_arena_strndup(e->arena, c->s + start, c->at - start);
        if (tm->zone == NULL) {
            feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
            return false;
        }
    }
    return true;
}

/* [-]P[nY][nM][nW][nD][T[nH][nM][n[.f]S]] */
static const feel_value *parse_duration(feel_eval *e, cursor *c, unsigned want)
{
    TANDEM_ASSERT(e != NULL && c != NULL && c->at <= c->len);
    bool neg = peek(c, '-');
    if (neg) {
        c->at++;
    }
    if (!peek(c, 'P')) {
        return NULL;
    }
    c->at++;
    int64_t months = 0, secs = 0, frac = 0;
    bool any = false, ym = false, dt = false, in_time = false;
    while (c->at < c->len) {
        if (peek(c, 'T') && !in_time) {
            in_time = true;
            c->at++;
            continue;
        }
        int64_t n;
        if (!digits(c, 1, 15, &n) || c->at >= c->len) {
            return NULL;
        }
        char unit = c->s[c->at++];
        if (unit == '.' && in_time) {
            size_t start = c->at;
            if (!digits(c, 1, 9, &frac) || !peek(c, 'S')) {
                return NULL;
            }
            for (size_t k = c->at - start; k < 9; k++) {
                frac *= 10;
            }
            unit = c->s[c->at++];
        }
        any = true;
        int64_t unit_secs = 0;
        if (!in_time && (unit == 'Y' || unit == 'M')) {
            months += unit == 'Y' ? n * 12 : n; /* n < 1e15: no overflow */
            ym = true;
        } else if (!in_time && (unit == 'W' || unit == 'D')) {
            unit_secs = unit == 'W' ? 7 * 86400 : 86400;
        } else if (in_time && (unit == 'H' || unit == 'M' || unit == 'S')) {
            unit_secs = unit == 'H' ? 3600 : unit == 'M' ? 60 : 1;
        } else {
            return NULL;
        }
        if (unit_secs != 0) {
            if (n > DURATION_SECS_MAX / unit_secs) {
                return NULL; /* checked before multiplying, so nothing overflows */
            }
            secs += n * unit_secs;
            dt = true;
        }
        if (months > INT64_C(12) * YEAR_ABS_MAX || secs > DURATION_SECS_MAX) {
            return NULL;
        }
    }
    if (!any || (ym && dt) || (want == TANDEM_FEEL_YEARS_MONTHS_DURATION && dt)) {
        return NULL;
    }
    if (ym) {
        return feel_months_value(e, neg ? -months : months);
    }
    return feel_duration_value(e, neg ? -secs : secs, (int32_t)(neg ? -frac : frac));
}

const feel_value *feel_temporal_parse(feel_eval *e, const char *s, size_t len, unsigned want)
{
    TANDEM_ASSERT(e != NULL && (s != NULL || len == 0));
    cursor c = {s, len, 0};
    feel_temporal tm = {0};
    const feel_value *v = NULL;
    bool duration = len > 0 && (s[0] == 'P' || (len > 1 && s[0] == '-' && s[1] == 'P'));
    if (duration) {
        if (want == TANDEM_FEEL_NULL || want == TANDEM_FEEL_DAYS_TIME_DURATION ||
            want == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
            v = parse_duration(e, &c, want);
        }
    } else if (len > 2 && s[2] == ':') {
        if ((want == TANDEM_FEEL_NULL || want == TANDEM_FEEL_TIME) && parse_time_part(e, &c, &tm)) {
            v = feel_temporal_value(e, TANDEM_FEEL_TIME, tm);
        }
    } else if (parse_date_part(&c, &tm.days)) {
        if (peek(&c, 'T') && want != TANDEM_FEEL_DATE) {
            c.at++;
            if (parse_time_part(e, &c, &tm)) {
                v = feel_temporal_value(e, TANDEM_FEEL_DATE_TIME, tm);
            }
        } else if (c.at == len && want == TANDEM_FEEL_DATE_TIME) {
            v = feel_temporal_value(e, TANDEM_FEEL_DATE_TIME, tm); /* midnight */
        } else if (want != TANDEM_FEEL_DATE_TIME && want != TANDEM_FEEL_TIME) {
            v = feel_temporal_value(e, TANDEM_FEEL_DATE, tm);
        }
    }
    if (v == NULL || v->type == TANDEM_FEEL_NULL || c.at != len) {
        return NULL;
    }
    return v;
}

/* ---- Formatting ---------------------------------------------------------- */

static int put_fraction(tandem_buf *out, int64_t nanos)
{
    TANDEM_ASSERT(nanos >= 0 && nanos < NANOS_PER_SEC);
    if (nanos == 0) {
        return 0;
    }
    char buf[16];
    int n = snprintf(buf, sizeof(buf), ".%09lld", (long long)nanos);
    while (n > 1 && buf[n - 1] == '0') {
        n--;
    }
    return tandem_buf_append(out, buf, (size_t)n);
}

static int format_date(int64_t days, tandem_buf *out)
{
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(days, &y, &m, &d);
    char buf[40];
    int n = y >= 0 ? snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", (long long)y, m, d)
                   : snprintf(buf, sizeof(buf), "-%04lld-%02u-%02u", (long long)-y, m, d);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(buf));
    return tandem_buf_append(out, buf, (size_t)n);
}

static int format_time(const feel_temporal *tm, tandem_buf *out)
{
    TANDEM_ASSERT(tm->nanos >= 0 && tm->nanos < NANOS_PER_DAY);
    int64_t secs = tm->nanos / NANOS_PER_SEC;
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", (long long)(secs / 3600),
                     (long long)(secs / 60 % 60), (long long)(secs % 60));
    int rc = tandem_buf_append(out, buf, (size_t)n);
    if (rc == 0) {
        rc = put_fraction(out, tm->nanos % NANOS_PER_SEC);
    }
    if (rc != 0 || tm->zone_kind == FEEL_ZONE_LOCAL) {
        return rc;
    }
    if (tm->zone_kind == FEEL_ZONE_NAMED) {
        rc = tandem_buf_put_u8(out, '@');
        return rc != 0 ? rc : tandem_buf_append(out, tm->zone, strlen(tm->zone));
    }
    if (tm->offset_s == 0) {
        return tandem_buf_put_u8(out, 'Z');
    }
    int32_t off = tm->offset_s < 0 ? -tm->offset_s : tm->offset_s;
    n = snprintf(buf, sizeof(buf), "%c%02d:%02d", tm->offset_s < 0 ? '-' : '+', off / 3600,
                 off / 60 % 60);
    if (off % 60 != 0) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ":%02d", off % 60);
    }
    return tandem_buf_append(out, buf, (size_t)n);
}

/* P1DT2H3M4.5S; zero is PT0S. */
static int format_duration(int64_t secs, int32_t nanos, tandem_buf *out)
{
    bool neg = secs < 0 || nanos < 0;
    uint64_t s = neg ? (uint64_t)(-secs) : (uint64_t)secs;
    int64_t ns = nanos < 0 ? -(int64_t)nanos : nanos;
    uint64_t days = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    bool zero = s == 0 && ns == 0;
    char buf[96];
    size_t cap = sizeof(buf);
    int n = snprintf(buf, cap, "%sP", neg ? "-" : "");
    if (days > 0) {
        n += snprintf(buf + n, cap - (size_t)n, "%lluD", (unsigned long long)days);
    }
    if (zero || h > 0 || m > 0 || sec > 0 || ns > 0) {
        n += snprintf(buf + n, cap - (size_t)n, "T");
    }
    if (h > 0) {
        n += snprintf(buf + n, cap - (size_t)n, "%lluH", (unsigned long long)h);
    }
    if (m > 0) {
        n += snprintf(buf + n, cap - (size_t)n, "%lluM", (unsigned long long)m);
    }
    bool secs_part = zero || sec > 0 || ns > 0;
    if (secs_part) {
        n += snprintf(buf + n, cap - (size_t)n, "%llu", (unsigned long long)sec);
    }
    TANDEM_ASSERT(n > 0 && (size_t)n < cap);
    int rc = tandem_buf_append(out, buf, (size_t)n);
    if (rc == 0 && secs_part) {
        rc = put_fraction(out, ns);
        if (rc == 0) {
            rc = tandem_buf_put_u8(out, 'S');
        }
    }
    return rc;
}

static int format_months(int64_t months, tandem_buf *out)
{
    bool neg = months < 0;
    uint64_t mo = neg ? (uint64_t)(-months) : (uint64_t)months;
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%sP", neg ? "-" : "");
    if (mo >= 12) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%lluY", (unsigned long long)(mo / 12));
    }
    if (mo % 12 != 0 || mo == 0) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%lluM", (unsigned long long)(mo % 12));
    }
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(buf));
    return tandem_buf_append(out, buf, (size_t)n);
}

int feel_temporal_format(const feel_value *v, tandem_buf *out)
{
    TANDEM_ASSERT(feel_is_temporal(v));
    TANDEM_ASSERT(out != NULL);
    int rc = 0;
    switch (v->type) {
    case TANDEM_FEEL_DATE:
        return format_date(v->u.tm.days, out);
    case TANDEM_FEEL_TIME:
        return format_time(&v->u.tm, out);
    case TANDEM_FEEL_DATE_TIME:
        rc = format_date(v->u.tm.days, out);
        if (rc == 0) {
            rc = tandem_buf_put_u8(out, 'T');
        }
        return rc != 0 ? rc : format_time(&v->u.tm, out);
    case TANDEM_FEEL_DAYS_TIME_DURATION:
        return format_duration(v->u.dur.secs, v->u.dur.nanos, out);
    default:
        return format_months(v->u.months, out);
    }
}

/* ---- Arithmetic ---------------------------------------------------------- */

/* tm plus `months`, the day clamped to the end of the month. */
static feel_temporal add_months(feel_temporal tm, int64_t months)
{
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(tm.days, &y, &m, &d);
    int64_t total = y * 12 + (int64_t)(m - 1) + months;
    int64_t ny = floor_div(total, 12);
    unsigned nm = (unsigned)(total - ny * 12) + 1;
    TANDEM_ASSERT(nm >= 1 && nm <= 12);
    unsigned last = feel_days_in_month(ny, nm);
    if (ny > YEAR_ABS_MAX || ny < -YEAR_ABS_MAX) {
        ny = ny > 0 ? YEAR_ABS_MAX + 1 : -YEAR_ABS_MAX - 1; /* refused by the caller */
        nm = 1;
        d = 1;
        last = 31;
    }
    tm.days = feel_days_from_civil(ny, nm, d > last ? last : d);
    return tm;
}

/* tm plus a days-time duration; a date moves by whole days. */
static feel_temporal add_duration(feel_temporal tm, unsigned type, int64_t secs, int32_t nanos)
{
    TANDEM_ASSERT(type == TANDEM_FEEL_DATE || type == TANDEM_FEEL_TIME ||
                  type == TANDEM_FEEL_DATE_TIME);
    if (type == TANDEM_FEEL_DATE) {
        tm.days += floor_div(secs, 86400);
        return tm;
    }
    int64_t ns = tm.nanos + (secs % 86400) * NANOS_PER_SEC + nanos;
    int64_t carry = floor_div(ns, NANOS_PER_DAY);
    tm.nanos = ns - carry * NANOS_PER_DAY;
    if (type == TANDEM_FEEL_DATE_TIME) {
        tm.days += secs / 86400 + carry;
    }
    TANDEM_ASSERT(tm.nanos >= 0 && tm.nanos < NANOS_PER_DAY);
    return tm;
}

/* Nanoseconds of a moment on a common scale, when a and b can be compared:
 * both local (or the same named zone), or both with offsets. */
static bool comparable_moments(const feel_temporal *a, const feel_temporal *b, bool with_days,
                               i128 *ma, i128 *mb)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    /* A resolved zone has an offset; an unresolved one compares only
     * with itself, as local times. */
    int ka = a->zone_kind == FEEL_ZONE_NAMED && a->resolved ? FEEL_ZONE_OFFSET : a->zone_kind;
    int kb = b->zone_kind == FEEL_ZONE_NAMED && b->resolved ? FEEL_ZONE_OFFSET : b->zone_kind;
    bool same_kind = ka == kb && (ka != FEEL_ZONE_NAMED || strcmp(a->zone, b->zone) == 0);
    if (!same_kind) {
        return false;
    }
    const feel_temporal *t[2] = {a, b};
    i128 *m[2] = {ma, mb};
    for (int i = 0; i < 2; i++) {
        i128 v = (i128)(with_days ? t[i]->days : 0) * NANOS_PER_DAY + t[i]->nanos;
        if (t[i]->zone_kind == FEEL_ZONE_OFFSET ||
            (t[i]->zone_kind == FEEL_ZONE_NAMED && t[i]->resolved)) {
            v -= (i128)t[i]->offset_s * NANOS_PER_SEC;
        }
        *m[i] = v;
    }
    return true;
}

static const feel_value *duration_between(feel_eval *e, const feel_value *a, const feel_value *b)
{
    TANDEM_ASSERT(a->type == b->type);
    if (a->type == TANDEM_FEEL_DATE) {
        return feel_duration_value(e, (a->u.tm.days - b->u.tm.days) * 86400, 0);
    }
    i128 ma, mb;
    if (!comparable_moments(&a->u.tm, &b->u.tm, a->type == TANDEM_FEEL_DATE_TIME, &ma, &mb)) {
        return feel_warn(e, "can't subtract a %s with a zone from one without",
                         feel_type_name(a->type));
    }
    i128 diff = ma - mb;
    return feel_duration_value(e, (int64_t)(diff / NANOS_PER_SEC), (int32_t)(diff % NANOS_PER_SEC));
}

/* A days-time duration as a decimal number of nanoseconds. */
static int duration_nanos(const feel_value *d, feel_num *out)
{
    TANDEM_ASSERT(d->type == TANDEM_FEEL_DAYS_TIME_DURATION);
    feel_num s;
    int rc = feel_num_mul(feel_num_from_int(d->u.dur.secs), feel_num_from_int(NANOS_PER_SEC), &s);
    return rc != 0 ? rc : feel_num_add(s, feel_num_from_int(d->u.dur.nanos), out);
}

/* A decimal number of nanoseconds (rounded half-even) as a duration. */
static const feel_value *duration_from_nanos(feel_eval *e, feel_num ns)
{
    feel_num whole, secs, secs_ns, rest;
    int64_t s, r;
    /* In decimals throughout: seconds times 1e9 exceed 64 bits for long
     * durations. */
    if (feel_num_round(ns, 0, FEEL_ROUND_HALF_EVEN, &whole) != 0 ||
        feel_num_div(whole, feel_num_from_int(NANOS_PER_SEC), &secs) != 0 ||
        feel_num_round(secs, 0, FEEL_ROUND_DOWN, &secs) != 0 || feel_num_to_int64(secs, &s) != 0 ||
        s > DURATION_SECS_MAX || s < -DURATION_SECS_MAX ||
        feel_num_mul(secs, feel_num_from_int(NANOS_PER_SEC), &secs_ns) != 0 ||
        feel_num_sub(whole, secs_ns, &rest) != 0 || feel_num_to_int64(rest, &r) != 0) {
        return feel_warn(e, "duration out of range");
    }
    TANDEM_ASSERT(r > -NANOS_PER_SEC && r < NANOS_PER_SEC);
    return feel_duration_value(e, s, (int32_t)r);
}

/* duration * number, duration / number, duration / duration. */
static const feel_value *scale_duration(feel_eval *e, unsigned op, const feel_value *d,
                                        const feel_value *x)
{
    TANDEM_ASSERT(op == FT_STAR || op == FT_SLASH);
    feel_num r;
    if (d->type == TANDEM_FEEL_YEARS_MONTHS_DURATION && x->type == TANDEM_FEEL_NUMBER) {
        int64_t months;
        int rc = op == FT_STAR ? feel_num_mul(feel_num_from_int(d->u.months), x->u.num, &r)
                               : feel_num_div(feel_num_from_int(d->u.months), x->u.num, &r);
        if (rc != 0 || feel_num_round(r, 0, FEEL_ROUND_DOWN, &r) != 0 ||
            feel_num_to_int64(r, &months) != 0) {
            return feel_warn(e, "duration out of range");
        }
        return feel_months_value(e, months);
    }
    if (d->type == TANDEM_FEEL_YEARS_MONTHS_DURATION && x->type == d->type && op == FT_SLASH) {
        if (feel_num_div(feel_num_from_int(d->u.months), feel_num_from_int(x->u.months), &r) != 0) {
            return feel_warn(e, "division by zero");
        }
        return feel_number(e, r);
    }
    feel_num ns, xs;
    if (d->type != TANDEM_FEEL_DAYS_TIME_DURATION || duration_nanos(d, &ns) != 0) {
        return feel_warn(e, "can't scale a %s", feel_type_name(d->type));
    }
    if (x->type == TANDEM_FEEL_DAYS_TIME_DURATION && op == FT_SLASH) {
        if (duration_nanos(x, &xs) != 0 || feel_num_div(ns, xs, &r) != 0) {
            return feel_warn(e, "division by zero");
        }
        return feel_number(e, r);
    }
    if (x->type != TANDEM_FEEL_NUMBER) {
        return feel_warn(e, "can't scale a duration by a %s", feel_type_name(x->type));
    }
    int rc = op == FT_STAR ? feel_num_mul(ns, x->u.num, &r) : feel_num_div(ns, x->u.num, &r);
    return rc != 0 ? feel_warn(e, "duration out of range") : duration_from_nanos(e, r);
}

static const feel_value *add_to_temporal(feel_eval *e, const feel_value *t, const feel_value *d,
                                         bool minus)
{
    TANDEM_ASSERT(t->type >= TANDEM_FEEL_DATE && t->type <= TANDEM_FEEL_DATE_TIME);
    if (d->type == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
        if (t->type == TANDEM_FEEL_TIME) {
            return feel_warn(e, "can't add years and months to a time");
        }
        feel_temporal tm = add_months(t->u.tm, minus ? -d->u.months : d->u.months);
        tm.resolved = 0; /* a new local date-time: find its offset again */
        return feel_temporal_value(e, t->type, tm);
    }
    int64_t secs = minus ? -d->u.dur.secs : d->u.dur.secs;
    int32_t nanos = minus ? -d->u.dur.nanos : d->u.dur.nanos;
    feel_temporal tm = add_duration(t->u.tm, t->type, secs, nanos);
    if (tm.zone_kind == FEEL_ZONE_NAMED && tm.resolved) {
        /* Durations move the instant (java.time's ZonedDateTime.plus): the
         * new local time takes the offset in force at the new instant. */
        const feel_zone *z = feel_zone_find(e->zones, tm.zone);
        TANDEM_ASSERT(z != NULL); /* it resolved before */
        int64_t utc = tm.days * 86400 + tm.nanos / NANOS_PER_SEC - tm.offset_s;
        int32_t off = feel_zone_utoff_at(z, utc);
        tm = add_duration(tm, t->type, off - tm.offset_s, 0);
        tm.offset_s = off;
    }
    return feel_temporal_value(e, t->type, tm);
}

/* A date, a time or a date and time. */
static bool is_moment(const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    return v->type >= TANDEM_FEEL_DATE && v->type <= TANDEM_FEEL_DATE_TIME;
}

static bool is_duration(const feel_value *v)
{
    return v->type == TANDEM_FEEL_DAYS_TIME_DURATION ||
           v->type == TANDEM_FEEL_YEARS_MONTHS_DURATION;
}

const feel_value *feel_temporal_arith(feel_eval *e, unsigned op, const feel_value *a,
                                      const feel_value *b)
{
    TANDEM_ASSERT(feel_is_temporal(a) || feel_is_temporal(b));
    bool da = is_duration(a), db = is_duration(b);
    if ((op == FT_PLUS || op == FT_MINUS) && da && db && a->type == b->type) {
        if (a->type == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
            return feel_months_value(e, op == FT_PLUS ? a->u.months + b->u.months
                                                      : a->u.months - b->u.months);
        }
        int64_t s = op == FT_PLUS ? a->u.dur.secs + b->u.dur.secs : a->u.dur.secs - b->u.dur.secs;
        int64_t n = op == FT_PLUS ? (int64_t)a->u.dur.nanos + b->u.dur.nanos
                                  : (int64_t)a->u.dur.nanos - b->u.dur.nanos;
        return feel_duration_value(e, s + n / NANOS_PER_SEC, (int32_t)(n % NANOS_PER_SEC));
    }
    bool ma = is_moment(a), mb = is_moment(b);
    if ((op == FT_PLUS || op == FT_MINUS) && ma && db) {
        return add_to_temporal(e, a, b, op == FT_MINUS);
    }
    if (op == FT_PLUS && da && mb) {
        return add_to_temporal(e, b, a, false);
    }
    if (op == FT_MINUS && ma && mb && a->type == b->type) {
        return duration_between(e, a, b);
    }
    if ((op == FT_STAR || op == FT_SLASH) && da) {
        return scale_duration(e, op, a, b);
    }
    if (op == FT_STAR && db && a->type == TANDEM_FEEL_NUMBER) {
        return scale_duration(e, op, b, a);
    }
    return feel_warn(e, "can't apply %s to a %s and a %s", feel_tok_name(op),
                     feel_type_name(a->type), feel_type_name(b->type));
}

/* ---- Comparison and properties ------------------------------------------- */

bool feel_temporal_compare(const feel_value *a, const feel_value *b, int *out)
{
    TANDEM_ASSERT(feel_is_temporal(a) && a->type == b->type);
    TANDEM_ASSERT(out != NULL);
    i128 ma, mb;
    switch (a->type) {
    case TANDEM_FEEL_DATE:
        ma = a->u.tm.days, mb = b->u.tm.days;
        break;
    case TANDEM_FEEL_DAYS_TIME_DURATION:
        ma = (i128)a->u.dur.secs * NANOS_PER_SEC + a->u.dur.nanos;
        mb = (i128)b->u.dur.secs * NANOS_PER_SEC + b->u.dur.nanos;
        break;
    case TANDEM_FEEL_YEARS_MONTHS_DURATION:
        ma = a->u.months, mb = b->u.months;
        break;
    default:
        if (!comparable_moments(&a->u.tm, &b->u.tm, a->type == TANDEM_FEEL_DATE_TIME, &ma, &mb)) {
            return false;
        }
        break;
    }
    *out = ma < mb ? -1 : ma > mb ? 1 : 0;
    return true;
}

static const feel_value *int_value(feel_eval *e, int64_t v)
{
    return feel_number(e, feel_num_from_int(v));
}

static const feel_value *moment_property(feel_eval *e, const feel_value *v, const char *name)
{
    TANDEM_ASSERT(v->type >= TANDEM_FEEL_DATE && v->type <= TANDEM_FEEL_DATE_TIME);
    const feel_temporal *tm = &v->u.tm;
    bool has_date = v->type != TANDEM_FEEL_TIME, has_time = v->type != TANDEM_FEEL_DATE;
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(tm->days, &y, &m, &d);
    int64_t secs = tm->nanos / NANOS_PER_SEC;
    if (has_date && strcmp(name, "year") == 0) {
        return int_value(e, y);
    }
    if (has_date && strcmp(name, "month") == 0) {
        return int_value(e, m);
    }
    if (has_date && strcmp(name, "day") == 0) {
        return int_value(e, d);
    }
    if (has_date && strcmp(name, "weekday") == 0) {
        return int_value(e, (tm->days % 7 + 7 + 3) % 7 + 1); /* 1970-01-01 was a Thursday */
    }
    if (has_time && strcmp(name, "hour") == 0) {
        return int_value(e, secs / 3600);
    }
    if (has_time && strcmp(name, "minute") == 0) {
        return int_value(e, secs / 60 % 60);
    }
    if (has_time && strcmp(name, "second") == 0) {
        return int_value(e, secs % 60);
    }
    if (has_time && strcmp(name, "time offset") == 0) {
        bool known =
            tm->zone_kind == FEEL_ZONE_OFFSET || (tm->zone_kind == FEEL_ZONE_NAMED && tm->resolved);
        return known ? feel_duration_value(e, tm->offset_s, 0) : &feel_null;
    }
    if (has_time && strcmp(name, "timezone") == 0) {
        return tm->zone_kind == FEEL_ZONE_NAMED ? feel_string(e, tm->zone, strlen(tm->zone))
                                                : &feel_null;
    }
    return NULL;
}

const feel_value *feel_temporal_property(feel_eval *e, const feel_value *v, const char *name)
{
    TANDEM_ASSERT(feel_is_temporal(v) && name != NULL);
    if (v->type == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
        if (strcmp(name, "years") == 0) {
            return int_value(e, v->u.months / 12);
        }
        return strcmp(name, "months") == 0 ? int_value(e, v->u.months % 12) : NULL;
    }
    if (v->type == TANDEM_FEEL_DAYS_TIME_DURATION) {
        int64_t s = v->u.dur.secs;
        if (strcmp(name, "days") == 0) {
            return int_value(e, s / 86400);
        }
        if (strcmp(name, "hours") == 0) {
            return int_value(e, s / 3600 % 24);
        }
        if (strcmp(name, "minutes") == 0) {
            return int_value(e, s / 60 % 60);
        }
        return strcmp(name, "seconds") == 0 ? int_value(e, s % 60) : NULL;
    }
    return moment_property(e, v, name);
}
