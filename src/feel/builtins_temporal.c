/*
 * builtins_temporal.c — conversion to temporal values (date, time, date and
 * time, duration, years and months duration) and the temporal functions.
 * `now()` and `today()` read the caller's clock (tandem_feel_eval_opts.now_ms,
 * in UTC), never the machine's.
 */
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

#define NANOS_PER_SEC INT64_C(1000000000)

static const feel_value *from_string(feel_eval *e, const feel_value *s, unsigned type,
                                     const char *fn)
{
    TANDEM_ASSERT(s->type == TANDEM_FEEL_STRING);
    const feel_value *v = feel_temporal_parse(e, s->u.str.s, s->u.str.len, type);
    if (v == NULL) {
        return e->error != 0
                   ? NULL
                   : feel_warn(e, "%s: '%.60s' is not a valid %s", fn, s->u.str.s,
                               type == TANDEM_FEEL_NULL ? "duration" : feel_type_name(type));
    }
    if (type != TANDEM_FEEL_NULL && v->type != type) {
        return feel_warn(e, "%s: '%.60s' is a %s", fn, s->u.str.s, feel_type_name(v->type));
    }
    return v;
}

static bool int_in(const feel_value *v, int64_t lo, int64_t hi, int64_t *out)
{
    TANDEM_ASSERT(v != NULL && out != NULL && lo <= hi);
    return feel_int_arg(v, out) && *out >= lo && *out <= hi;
}

static const feel_value *fn_date(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (n == 3) {
        int64_t y, m, d;
        if (!int_in(args[0], -999999999, 999999999, &y) || !int_in(args[1], 1, 12, &m) ||
            !int_in(args[2], 1, 31, &d) || d > feel_days_in_month(y, (unsigned)m)) {
            return feel_warn(e, "date: year, month and day do not form a date");
        }
        feel_temporal tm = {.days = feel_days_from_civil(y, (unsigned)m, (unsigned)d)};
        return feel_temporal_value(e, TANDEM_FEEL_DATE, tm);
    }
    const feel_value *from = args[0];
    if (from->type == TANDEM_FEEL_STRING) {
        return from_string(e, from, TANDEM_FEEL_DATE, "date");
    }
    if (from->type == TANDEM_FEEL_DATE) {
        return from;
    }
    if (from->type == TANDEM_FEEL_DATE_TIME) {
        feel_temporal tm = {.days = from->u.tm.days};
        return feel_temporal_value(e, TANDEM_FEEL_DATE, tm);
    }
    return feel_bad_arg(e, "date", 0, "a string or a date and time", from);
}

static const feel_value *fn_time(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (n >= 3) {
        int64_t h, m;
        feel_num ns;
        int64_t nanos;
        if (!int_in(args[0], 0, 23, &h) || !int_in(args[1], 0, 59, &m) ||
            args[2]->type != TANDEM_FEEL_NUMBER || feel_num_is_negative(args[2]->u.num) ||
            feel_num_mul(args[2]->u.num, feel_num_from_int(NANOS_PER_SEC), &ns) != 0 ||
            feel_num_round(ns, 0, FEEL_ROUND_DOWN, &ns) != 0 ||
            feel_num_to_int64(ns, &nanos) != 0 || nanos >= 60 * NANOS_PER_SEC) {
            return feel_warn(e, "time: hour, minute and second do not form a time");
        }
        feel_temporal tm = {.nanos = (h * 3600 + m * 60) * NANOS_PER_SEC + nanos};
        if (n == 4 && args[3]->type == TANDEM_FEEL_DAYS_TIME_DURATION) {
            if (args[3]->u.dur.secs < -18 * 3600 || args[3]->u.dur.secs > 18 * 3600) {
                return feel_warn(e, "time: offset out of range");
            }
            tm.zone_kind = FEEL_ZONE_OFFSET;
            tm.offset_s = (int32_t)args[3]->u.dur.secs;
        } else if (n == 4 && args[3]->type != TANDEM_FEEL_NULL) {
            return feel_bad_arg(e, "time", 3, "a days and time duration", args[3]);
        }
        return feel_temporal_value(e, TANDEM_FEEL_TIME, tm);
    }
    const feel_value *from = args[0];
    if (from->type == TANDEM_FEEL_STRING) {
        return from_string(e, from, TANDEM_FEEL_TIME, "time");
    }
    if (from->type == TANDEM_FEEL_TIME) {
        return from;
    }
    if (from->type == TANDEM_FEEL_DATE_TIME || from->type == TANDEM_FEEL_DATE) {
        feel_temporal tm = from->u.tm;
        tm.days = 0;
        return feel_temporal_value(e, TANDEM_FEEL_TIME, tm);
    }
    return feel_bad_arg(e, "time", 0, "a string, a date or a date and time", from);
}

static const feel_value *fn_date_and_time(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    if (n == 2) {
        const feel_value *d = args[0], *t = args[1];
        if ((d->type != TANDEM_FEEL_DATE && d->type != TANDEM_FEEL_DATE_TIME) ||
            t->type != TANDEM_FEEL_TIME) {
            return feel_warn(e, "date and time: expected a date and a time");
        }
        feel_temporal tm = t->u.tm;
        tm.days = d->u.tm.days;
        return feel_temporal_value(e, TANDEM_FEEL_DATE_TIME, tm);
    }
    const feel_value *from = args[0];
    if (from->type == TANDEM_FEEL_STRING) {
        return from_string(e, from, TANDEM_FEEL_DATE_TIME, "date and time");
    }
    if (from->type == TANDEM_FEEL_DATE_TIME) {
        return from;
    }
    if (from->type == TANDEM_FEEL_DATE) {
        feel_temporal tm = {.days = from->u.tm.days};
        return feel_temporal_value(e, TANDEM_FEEL_DATE_TIME, tm);
    }
    return feel_bad_arg(e, "date and time", 0, "a string", from);
}

static const feel_value *fn_duration(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    if (args[0]->type == TANDEM_FEEL_DAYS_TIME_DURATION ||
        args[0]->type == TANDEM_FEEL_YEARS_MONTHS_DURATION) {
        return args[0];
    }
    if (args[0]->type != TANDEM_FEEL_STRING) {
        return feel_bad_arg(e, "duration", 0, "a string", args[0]);
    }
    const feel_value *v = from_string(e, args[0], TANDEM_FEEL_NULL, "duration");
    if (v != NULL && v->type != TANDEM_FEEL_NULL && v->type != TANDEM_FEEL_DAYS_TIME_DURATION &&
        v->type != TANDEM_FEEL_YEARS_MONTHS_DURATION) {
        return feel_warn(e, "duration: '%.60s' is not a duration", args[0]->u.str.s);
    }
    return v;
}

/* Whole months from `from` to `to`, as java.time.Period.between counts. */
static const feel_value *fn_years_and_months_duration(feel_eval *e, const feel_value *const *args,
                                                      uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    for (uint32_t i = 0; i < 2; i++) {
        if (args[i]->type != TANDEM_FEEL_DATE && args[i]->type != TANDEM_FEEL_DATE_TIME) {
            return feel_bad_arg(e, "years and months duration", i, "a date", args[i]);
        }
    }
    int64_t y1, y2;
    unsigned m1, m2, d1, d2;
    feel_civil_from_days(args[0]->u.tm.days, &y1, &m1, &d1);
    feel_civil_from_days(args[1]->u.tm.days, &y2, &m2, &d2);
    int64_t months = (y2 * 12 + m2) - (y1 * 12 + m1);
    int64_t days = (int64_t)d2 - (int64_t)d1;
    if (months > 0 && days < 0) {
        months--;
    } else if (months < 0 && days > 0) {
        months++;
    }
    return feel_months_value(e, months);
}

static const feel_value *fn_now(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 0 && args != NULL);
    int64_t ms = e->now_ms;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    feel_temporal tm = {
        .days = days, .nanos = (ms - days * 86400000) * 1000000, .zone_kind = FEEL_ZONE_OFFSET};
    return feel_temporal_value(e, TANDEM_FEEL_DATE_TIME, tm);
}

static const feel_value *fn_today(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *now = fn_now(e, args, n);
    if (now == NULL || now->type != TANDEM_FEEL_DATE_TIME) {
        return now;
    }
    feel_temporal tm = {.days = now->u.tm.days};
    return feel_temporal_value(e, TANDEM_FEEL_DATE, tm);
}

/* The date argument of the calendar functions: a date or a date and time. */
static bool date_arg(feel_eval *e, const char *fn, const feel_value *v, int64_t *days)
{
    TANDEM_ASSERT(fn != NULL && v != NULL && days != NULL);
    if (v->type != TANDEM_FEEL_DATE && v->type != TANDEM_FEEL_DATE_TIME) {
        feel_bad_arg(e, fn, 0, "a date", v);
        return false;
    }
    *days = v->u.tm.days;
    return true;
}

static unsigned iso_weekday(int64_t days)
{
    return (unsigned)((days % 7 + 7 + 3) % 7 + 1); /* 1970-01-01 was a Thursday (4) */
}

static const feel_value *fn_day_of_week(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    int64_t days;
    if (!date_arg(e, "day of week", args[0], &days)) {
        return &feel_null;
    }
    const char *name = names[iso_weekday(days) - 1];
    return feel_string(e, name, strlen(name));
}

static int64_t day_of_year(int64_t days)
{
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(days, &y, &m, &d);
    return days - feel_days_from_civil(y, 1, 1) + 1;
}

static const feel_value *fn_day_of_year(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    int64_t days;
    if (!date_arg(e, "day of year", args[0], &days)) {
        return &feel_null;
    }
    return feel_number(e, feel_num_from_int(day_of_year(days)));
}

static int64_t iso_weeks_in_year(int64_t y)
{
    unsigned jan1 = iso_weekday(feel_days_from_civil(y, 1, 1));
    bool leap = feel_days_in_month(y, 2) == 29;
    return jan1 == 4 || (leap && jan1 == 3) ? 53 : 52;
}

static const feel_value *fn_week_of_year(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    int64_t days;
    if (!date_arg(e, "week of year", args[0], &days)) {
        return &feel_null;
    }
    int64_t y;
    unsigned m, d;
    feel_civil_from_days(days, &y, &m, &d);
    int64_t w = (day_of_year(days) - iso_weekday(days) + 10) / 7;
    if (w < 1) {
        w = iso_weeks_in_year(y - 1);
    } else if (w > iso_weeks_in_year(y)) {
        w = 1;
    }
    return feel_number(e, feel_num_from_int(w));
}

static const feel_value *fn_month_of_year(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    int64_t days, y;
    unsigned m, d;
    if (!date_arg(e, "month of year", args[0], &days)) {
        return &feel_null;
    }
    feel_civil_from_days(days, &y, &m, &d);
    return feel_string(e, names[m - 1], strlen(names[m - 1]));
}

static const feel_value *fn_last_day_of_month(feel_eval *e, const feel_value *const *args,
                                              uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    int64_t days, y;
    unsigned m, d;
    if (!date_arg(e, "last day of month", args[0], &days)) {
        return &feel_null;
    }
    feel_civil_from_days(days, &y, &m, &d);
    feel_temporal tm = {.days = feel_days_from_civil(y, m, feel_days_in_month(y, m))};
    return feel_temporal_value(e, TANDEM_FEEL_DATE, tm);
}

const feel_builtin feel_builtins_temporal[] = {
    {"date", {"from"}, 1, 3, fn_date},
    {"time", {"from"}, 1, 4, fn_time},
    {"date and time", {"from"}, 1, 2, fn_date_and_time},
    {"duration", {"from"}, 1, 1, fn_duration},
    {"years and months duration", {"from", "to"}, 2, 2, fn_years_and_months_duration},
    {"now", {NULL}, 0, 0, fn_now},
    {"today", {NULL}, 0, 0, fn_today},
    {"day of week", {"date"}, 1, 1, fn_day_of_week},
    {"day of year", {"date"}, 1, 1, fn_day_of_year},
    {"week of year", {"date"}, 1, 1, fn_week_of_year},
    {"month of year", {"date"}, 1, 1, fn_month_of_year},
    {"last day of month", {"date"}, 1, 1, fn_last_day_of_month},
    {NULL, {NULL}, 0, 0, NULL},
};
