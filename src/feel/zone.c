/*
 * zone.c — time zones by name: TZif data (RFC 8536) parsed into transition
 * tables plus the POSIX TZ rule of the footer for instants after the last
 * transition, and the two questions FEEL asks of a zone: the offset at an
 * instant, and the offset of a local date-time (java.time's rules: in a gap
 * the earlier offset, which moves the time forward; in an overlap the
 * earlier offset too).
 *
 * Parsing never trusts its input: bad data makes the zone unknown, never an
 * assertion.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

#define ZONE_NAME_BYTES_MAX  64
#define ZONE_TRANSITIONS_MAX 4000
#define ZONE_TYPES_MAX       256
#define SECS_PER_DAY         INT64_C(86400)
#define UTOFF_MIN            (-89999) /* offsets of RFC 8536: about +-25 hours */
#define UTOFF_MAX            93599

typedef struct tz_rule {
    uint8_t kind;   /* 'M' month.week.day, 'J' julian without Feb 29, 'D' zero-based day */
    uint8_t month;  /* M */
    uint8_t week;   /* M: 1..5, 5 = last */
    uint8_t wday;   /* M: 0 = Sunday */
    uint16_t day;   /* J: 1..365, D: 0..365 */
    int32_t time_s; /* local time of the change, seconds (may exceed a day) */
} tz_rule;

typedef struct feel_zone {
    char name[ZONE_NAME_BYTES_MAX + 1];
    bool known;           /* false: the loader or the data said no */
    uint32_t ntrans;      /* transitions */
    int64_t *trans;       /* UTC seconds, ascending */
    int32_t *trans_utoff; /* offset in force from each transition */
    int32_t first_utoff;  /* before the first transition */
    bool has_rule;        /* the footer gives a rule for later instants */
    int32_t std_utoff, dst_utoff;
    bool has_dst;
    tz_rule start, end;
} feel_zone;

struct tandem_feel_zones {
    tandem_feel_zone_loader load;
    void *ctx;
    pthread_mutex_t lock;
    uint32_t n;
    feel_zone *zones[TANDEM_FEEL_ZONES_MAX];
};

int tandem_feel_zones_new(tandem_feel_zone_loader load, void *ctx, tandem_feel_zones **out)
{
    TANDEM_ASSERT(load != NULL && out != NULL);
    tandem_feel_zones *z = calloc(1, sizeof(*z));
    if (z == NULL) {
        return TANDEM_ENOMEM;
    }
    z->load = load;
    z->ctx = ctx;
    if (pthread_mutex_init(&z->lock, NULL) != 0) {
        free(z);
        return TANDEM_ESYS;
    }
    *out = z;
    TANDEM_ASSERT(z->n == 0);
    return 0;
}

static void zone_free(feel_zone *zone)
{
    if (zone != NULL) {
        free(zone->trans);
        free(zone->trans_utoff);
        free(zone);
    }
}

void tandem_feel_zones_free(tandem_feel_zones *zones)
{
    if (zones == NULL) {
        return;
    }
    TANDEM_ASSERT(zones->n <= TANDEM_FEEL_ZONES_MAX);
    for (uint32_t i = 0; i < zones->n; i++) {
        zone_free(zones->zones[i]);
    }
    pthread_mutex_destroy(&zones->lock);
    free(zones);
}

/* ---- POSIX TZ rule (the TZif footer) ------------------------------------- */

typedef struct tz_cursor {
    const char *s;
    size_t len, at;
} tz_cursor;

static bool tz_peek(const tz_cursor *c, char ch)
{
    return c->at < c->len && c->s[c->at] == ch;
}

static bool tz_num(tz_cursor *c, int64_t max, int64_t *out)
{
    TANDEM_ASSERT(out != NULL && max > 0);
    size_t start = c->at;
    int64_t v = 0;
    while (c->at < c->len && c->s[c->at] >= '0' && c->s[c->at] <= '9' && c->at - start < 6) {
        v = v * 10 + (c->s[c->at++] - '0');
    }
    *out = v;
    return c->at > start && v <= max;
}

/* [+-]hh[:mm[:ss]] in seconds. */
static bool tz_time(tz_cursor *c, int64_t hours_max, int32_t *out)
{
    TANDEM_ASSERT(c != NULL && out != NULL && hours_max > 0);
    int64_t sign = 1, h, m = 0, s = 0;
    if (tz_peek(c, '+') || tz_peek(c, '-')) {
        sign = c->s[c->at++] == '-' ? -1 : 1;
    }
    if (!tz_num(c, hours_max, &h)) {
        return false;
    }
    if (tz_peek(c, ':')) {
        c->at++;
        if (!tz_num(c, 59, &m)) {
            return false;
        }
        if (tz_peek(c, ':')) {
            c->at++;
            if (!tz_num(c, 59, &s)) {
                return false;
            }
        }
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return true;
}

static bool tz_name(tz_cursor *c)
{
    TANDEM_ASSERT(c != NULL && c->at <= c->len);
    size_t start = c->at;
    if (tz_peek(c, '<')) {
        while (c->at < c->len && c->s[c->at] != '>') {
            c->at++;
        }
        return c->at++ < c->len;
    }
    while (c->at < c->len && ((c->s[c->at] >= 'A' && c->s[c->at] <= 'Z') ||
                              (c->s[c->at] >= 'a' && c->s[c->at] <= 'z'))) {
        c->at++;
    }
    return c->at - start >= 3;
}

static bool tz_rule_parse(tz_cursor *c, tz_rule *r)
{
    TANDEM_ASSERT(c != NULL && r != NULL);
    int64_t a, b, d;
    memset(r, 0, sizeof(*r));
    r->time_s = 7200; /* 02:00 by default */
    if (tz_peek(c, 'M')) {
        c->at++;
        if (!tz_num(c, 12, &a) || a < 1 || !tz_peek(c, '.')) {
            return false;
        }
        c->at++;
        if (!tz_num(c, 5, &b) || b < 1 || !tz_peek(c, '.')) {
            return false;
        }
        c->at++;
        if (!tz_num(c, 6, &d)) {
            return false;
        }
        r->kind = 'M';
        r->month = (uint8_t)a;
        r->week = (uint8_t)b;
        r->wday = (uint8_t)d;
    } else if (tz_peek(c, 'J')) {
        c->at++;
        if (!tz_num(c, 365, &a) || a < 1) {
            return false;
        }
        r->kind = 'J';
        r->day = (uint16_t)a;
    } else {
        if (!tz_num(c, 365, &a)) {
            return false;
        }
        r->kind = 'D';
        r->day = (uint16_t)a;
    }
    if (tz_peek(c, '/')) {
        c->at++;
        return tz_time(c, 167, &r->time_s);
    }
    return true;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": offsets in POSIX are west-positive. */
static bool tz_footer_parse(feel_zone *z, const char *s, size_t len)
{
    TANDEM_ASSERT(z != NULL && s != NULL);
    tz_cursor c = {s, len, 0};
    int32_t std, dst;
    if (len == 0) {
        return true; /* no rule: the last transition holds for ever */
    }
    if (!tz_name(&c) || !tz_time(&c, 24, &std)) {
        return false;
    }
    z->has_rule = true;
    z->std_utoff = -std;
    if (c.at == len) {
        return true;
    }
    if (!tz_name(&c)) {
        return false;
    }
    dst = std - 3600;
    if (!tz_peek(&c, ',') && !tz_time(&c, 24, &dst)) {
        return false;
    }
    z->has_dst = true;
    z->dst_utoff = -dst;
    if (!tz_peek(&c, ',')) {
        return false;
    }
    c.at++;
    if (!tz_rule_parse(&c, &z->start) || !tz_peek(&c, ',')) {
        return false;
    }
    c.at++;
    return tz_rule_parse(&c, &z->end) && c.at == len;
}

/* Local seconds since the epoch at which rule r fires in year y. */
static int64_t tz_rule_local(const tz_rule *r, int64_t y)
{
    TANDEM_ASSERT(r->kind == 'M' || r->kind == 'J' || r->kind == 'D');
    int64_t days;
    if (r->kind == 'M') {
        int64_t first = feel_days_from_civil(y, r->month, 1);
        int64_t wd_first = ((first % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday: 4 */
        int64_t day = 1 + (r->wday - wd_first + 7) % 7 + (r->week - 1) * 7;
        while (day > feel_days_in_month(y, r->month)) {
            day -= 7;
        }
        days = first + day - 1;
    } else {
        days = feel_days_from_civil(y, 1, 1) + r->day;
        bool leap = feel_days_in_month(y, 2) == 29;
        days -= r->kind == 'J' && !(leap && r->day >= 60) ? 1 : 0;
    }
    return days * SECS_PER_DAY + r->time_s;
}

static int32_t rule_utoff_at(const feel_zone *z, int64_t utc)
{
    TANDEM_ASSERT(z->has_rule);
    if (!z->has_dst) {
        return z->std_utoff;
    }
    int64_t y;
    unsigned m, d;
    int64_t local_days =
        (utc + z->std_utoff) / SECS_PER_DAY - ((utc + z->std_utoff) % SECS_PER_DAY < 0);
    feel_civil_from_days(local_days, &y, &m, &d);
    int64_t start = tz_rule_local(&z->start, y) - z->std_utoff;
    int64_t end = tz_rule_local(&z->end, y) - z->dst_utoff;
    bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    return dst ? z->dst_utoff : z->std_utoff;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool tzif_header(const uint8_t *p, size_t len, tzif_counts *c, uint8_t *version)
{
    TANDEM_ASSERT((p != NULL || len == 0) && c != NULL && version != NULL);
    if (len < 44 || memcmp(p, "TZif", 4) != 0) {
        return false;
    }
    *version = p[4];
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    return c->time <= ZONE_TRANSITIONS_MAX && c->type >= 1 && c->type <= ZONE_TYPES_MAX &&
           c->leap <= 1000 && c->chars <= 1000 && c->isut <= c->type && c->isstd <= c->type;
}

static size_t tzif_block_bytes(const tzif_counts *c, size_t time_bytes)
{
    return (size_t)c->time * time_bytes + c->time + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (time_bytes + 4) + c->isstd + c->isut;
}

/* Parses TZif bytes into z (the 64-bit block when there is one). */
static bool tzif_parse(feel_zone *z, const uint8_t *p, size_t len)
{
    TANDEM_ASSERT(z != NULL);
    tzif_counts c;
    uint8_t version;
    if (!tzif_header(p, len, &c, &version)) {
        return false;
    }
    size_t time_bytes = 4, at = 44;
    if (version >= '2') {
        size_t v1 = tzif_block_bytes(&c, 4);
        if (len - 44 < v1 || !tzif_header(p + 44 + v1, len - 44 - v1, &c, &version)) {
            return false;
        }
        at = 44 + v1 + 44;
        time_bytes = 8;
    }
    size_t block = tzif_block_bytes(&c, time_bytes);
    if (len - at < block) {
        return false;
    }
    const uint8_t *times = p + at, *idx = times + (size_t)c.time * time_bytes;
    const uint8_t *types = idx + c.time;
    z->ntrans = c.time;
    z->trans = malloc((c.time + 1) * sizeof(int64_t));
    z->trans_utoff = malloc((c.time + 1) * sizeof(int32_t));
    if (z->trans == NULL || z->trans_utoff == NULL) {
        return false;
    }
    for (uint32_t i = 0; i < c.time; i++) {
        z->trans[i] = time_bytes == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        if (idx[i] >= c.type || (i > 0 && z->trans[i] <= z->trans[i - 1])) {
            return false;
        }
        z->trans_utoff[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    for (uint32_t t = 0; t < c.type; t++) {
        int32_t utoff = (int32_t)be32(types + 6 * t);
        if (utoff < UTOFF_MIN || utoff > UTOFF_MAX) {
            return false; /* RFC 8536 3.2; keeps every shift by an offset small */
        }
    }
    /* Before the first transition: the first standard-time type (RFC 8536 3.2). */
    z->first_utoff = (int32_t)be32(types);
    for (uint32_t t = 0; t < c.type; t++) {
        if (types[6 * t + 4] == 0) {
            z->first_utoff = (int32_t)be32(types + 6 * t);
            break;
        }
    }
    if (time_bytes == 8) {
        const uint8_t *footer = p + at + block;
        size_t left = len - at - block;
        const uint8_t *nl =
            left > 1 && footer[0] == '\n' ? memchr(footer + 1, '\n', left - 1) : NULL;
        if (nl != NULL &&
            !tz_footer_parse(z, (const char *)footer + 1, (size_t)(nl - footer - 1))) {
            return false;
        }
    }
    return true;
}

/* ---- Lookups ------------------------------------------------------------- */

static bool name_ok(const char *name)
{
    TANDEM_ASSERT(name != NULL);
    size_t len = strlen(name);
    if (len == 0 || len > ZONE_NAME_BYTES_MAX || name[0] == '/' || strstr(name, "..") != NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/')) {
            return false;
        }
    }
    return true;
}

static feel_zone *load_zone(tandem_feel_zones *zs, const char *name)
{
    TANDEM_ASSERT(zs != NULL && name != NULL);
    feel_zone *z = calloc(1, sizeof(*z));
    if (z == NULL) {
        return NULL;
    }
    memcpy(z->name, name, strlen(name) + 1);
    tandem_buf data = TANDEM_BUF_INIT;
    z->known =
        name_ok(name) && zs->load(zs->ctx, name, &data) == 0 && tzif_parse(z, data.data, data.len);
    tandem_buf_free(&data);
    return z;
}

const feel_zone *feel_zone_find(tandem_feel_zones *zs, const char *name)
{
    TANDEM_ASSERT(zs != NULL && name != NULL);
    if (strlen(name) > ZONE_NAME_BYTES_MAX) {
        return NULL;
    }
    pthread_mutex_lock(&zs->lock);
    feel_zone *found = NULL;
    for (uint32_t i = 0; i < zs->n && found == NULL; i++) {
        if (strcmp(zs->zones[i]->name, name) == 0) {
            found = zs->zones[i];
        }
    }
    if (found == NULL && zs->n < TANDEM_FEEL_ZONES_MAX) {
        /* Unknown names are remembered too, so a bad name is read once. */
        found = load_zone(zs, name);
        if (found != NULL) {
            zs->zones[zs->n++] = found;
        }
    }
    pthread_mutex_unlock(&zs->lock);
    return found != NULL && found->known ? found : NULL;
}

int32_t feel_zone_utoff_at(const feel_zone *z, int64_t utc)
{
    TANDEM_ASSERT(z != NULL && z->known);
    if (z->ntrans == 0 || utc < z->trans[0]) {
        return z->ntrans == 0 && z->has_rule ? rule_utoff_at(z, utc) : z->first_utoff;
    }
    if (utc >= z->trans[z->ntrans - 1] && z->has_rule) {
        return rule_utoff_at(z, utc);
    }
    uint32_t lo = 0, hi = z->ntrans - 1; /* the last transition at or before utc */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (z->trans[mid] <= utc) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    TANDEM_ASSERT(z->trans[lo] <= utc);
    return z->trans_utoff[lo];
}

int32_t feel_zone_utoff_local(const feel_zone *z, int64_t local)
{
    TANDEM_ASSERT(z != NULL && z->known);
    /* The offsets in force a day before and a day after cover both sides
     * of any transition near `local`. */
    int32_t before = feel_zone_utoff_at(z, local - SECS_PER_DAY);
    int32_t after = feel_zone_utoff_at(z, local + SECS_PER_DAY);
    bool before_ok = feel_zone_utoff_at(z, local - before) == before;
    bool after_ok = feel_zone_utoff_at(z, local - after) == after;
    if (before_ok) {
        return before; /* also in an overlap: the earlier offset */
    }
    if (after_ok) {
        return after;
    }
    return before; /* in a gap: the offset before it, which moves the time forward */
}
