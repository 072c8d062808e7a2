/*
 * builtins_range.c — the range functions of DMN 1.4 (before, after, meets,
 * met by, overlaps, overlaps before, overlaps after, finishes, finished by,
 * includes, during, starts, started by, coincides).
 *
 * Each argument may be a point or a range; a point is read as the closed
 * range [p..p], which turns the specification's point/range cases into the
 * range/range ones. An open end (`< 10`, `[1..null]`) is infinite.
 */
#include "base/assert.h"
#include "feel/feel_int.h"

typedef struct bound {
    const feel_value *v; /* NULL: infinite */
    bool closed;
} bound;

typedef struct interval {
    bound start, end;
} interval;

static interval as_interval(const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    interval iv;
    if (v->type == TANDEM_FEEL_RANGE) {
        iv.start.v = v->u.range.start;
        iv.start.closed = (v->u.range.flags & FEEL_RANGE_START_CLOSED) != 0;
        iv.end.v = v->u.range.end;
        iv.end.closed = (v->u.range.flags & FEEL_RANGE_END_CLOSED) != 0;
    } else {
        iv.start.v = iv.end.v = v;
        iv.start.closed = iv.end.closed = true;
    }
    TANDEM_ASSERT(iv.start.v != NULL || v->type == TANDEM_FEEL_RANGE);
    return iv;
}

/* Compares two bound values; `as_start` says how an infinite one counts
 * (-inf for a start, +inf for an end). False when not comparable. */
static bool cmp(const bound *a, bool a_start, const bound *b, bool b_start, int *out)
{
    TANDEM_ASSERT(a != NULL && b != NULL && out != NULL);
    int ia = a->v == NULL ? (a_start ? -1 : 1) : 0;
    int ib = b->v == NULL ? (b_start ? -1 : 1) : 0;
    if (ia != 0 || ib != 0) {
        *out = ia < ib ? -1 : ia > ib ? 1 : 0;
        return true;
    }
    return feel_compare(a->v, b->v, out);
}

typedef enum range_fn {
    R_BEFORE,
    R_MEETS,
    R_OVERLAPS,
    R_OVERLAPS_BEFORE,
    R_FINISHES,
    R_INCLUDES,
    R_STARTS,
    R_COINCIDES,
} range_fn;

/* The relation `which` between a and b; -1 when the bounds do not compare. */
static int relation(range_fn which, const interval *a, const interval *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    int ae_bs, as_be, ss, ee;
    if (!cmp(&a->end, false, &b->start, true, &ae_bs) ||
        !cmp(&a->start, true, &b->end, false, &as_be) ||
        !cmp(&a->start, true, &b->start, true, &ss) || !cmp(&a->end, false, &b->end, false, &ee)) {
        return -1;
    }
    bool as = a->start.closed, ae = a->end.closed, bs = b->start.closed, be = b->end.closed;
    switch (which) {
    case R_BEFORE:
        return ae_bs < 0 || (ae_bs == 0 && (!ae || !bs));
    case R_MEETS:
        return ae && bs && ae_bs == 0;
    case R_OVERLAPS:
        return (ae_bs > 0 || (ae_bs == 0 && ae && bs)) && (as_be < 0 || (as_be == 0 && as && be));
    case R_OVERLAPS_BEFORE:
        return (ss < 0 || (ss == 0 && as && !bs)) && (ae_bs > 0 || (ae_bs == 0 && ae && bs)) &&
               (ee < 0 || (ee == 0 && (!ae || be)));
    case R_FINISHES:
        return ae == be && ee == 0 && (ss > 0 || (ss == 0 && (!as || bs)));
    case R_INCLUDES:
        return (ss < 0 || (ss == 0 && (as || !bs))) && (ee > 0 || (ee == 0 && (ae || !be)));
    case R_STARTS:
        return as == bs && ss == 0 && (ee < 0 || (ee == 0 && (!ae || be)));
    case R_COINCIDES:
        return ss == 0 && ee == 0 && as == bs && ae == be;
    }
    TANDEM_UNREACHABLE();
}

static const feel_value *range_call(feel_eval *e, const feel_value *const *args, range_fn which,
                                    bool swap, const char *name)
{
    FEEL_BUILTIN_ENTRY(e, args, 2);
    for (int i = 0; i < 2; i++) {
        if (args[i]->type == TANDEM_FEEL_NULL || args[i]->type == TANDEM_FEEL_LIST ||
            args[i]->type == TANDEM_FEEL_CONTEXT || args[i]->type == TANDEM_FEEL_FUNCTION) {
            return feel_bad_arg(e, name, (uint32_t)i, "a point or a range", args[i]);
        }
    }
    interval a = as_interval(args[swap ? 1 : 0]), b = as_interval(args[swap ? 0 : 1]);
    int r = relation(which, &a, &b);
    if (r < 0) {
        return feel_warn(e, "%s: the values are not comparable", name);
    }
    return feel_bool(r == 1);
}

#define RANGE_FN(fname, text, which, swap)                                                         \
    static const feel_value *fname(feel_eval *e, const feel_value *const *args, uint32_t n)        \
    {                                                                                              \
        TANDEM_ASSERT(n == 2);                                                                     \
        return range_call(e, args, which, swap, text);                                             \
    }

RANGE_FN(fn_before, "before", R_BEFORE, false)
RANGE_FN(fn_after, "after", R_BEFORE, true)
RANGE_FN(fn_meets, "meets", R_MEETS, false)
RANGE_FN(fn_met_by, "met by", R_MEETS, true)
RANGE_FN(fn_overlaps, "overlaps", R_OVERLAPS, false)
RANGE_FN(fn_overlaps_before, "overlaps before", R_OVERLAPS_BEFORE, false)
RANGE_FN(fn_overlaps_after, "overlaps after", R_OVERLAPS_BEFORE, true)
RANGE_FN(fn_finishes, "finishes", R_FINISHES, false)
RANGE_FN(fn_finished_by, "finished by", R_FINISHES, true)
RANGE_FN(fn_includes, "includes", R_INCLUDES, false)
RANGE_FN(fn_during, "during", R_INCLUDES, true)
RANGE_FN(fn_starts, "starts", R_STARTS, false)
RANGE_FN(fn_started_by, "started by", R_STARTS, true)
RANGE_FN(fn_coincides, "coincides", R_COINCIDES, false)

const feel_builtin feel_builtins_range[] = {
    {"before", {"point1", "point2"}, 2, 2, fn_before},
    {"after", {"point1", "point2"}, 2, 2, fn_after},
    {"meets", {"range1", "range2"}, 2, 2, fn_meets},
    {"met by", {"range1", "range2"}, 2, 2, fn_met_by},
    {"overlaps", {"range1", "range2"}, 2, 2, fn_overlaps},
    {"overlaps before", {"range1", "range2"}, 2, 2, fn_overlaps_before},
    {"overlaps after", {"range1", "range2"}, 2, 2, fn_overlaps_after},
    {"finishes", {"point", "range"}, 2, 2, fn_finishes},
    {"finished by", {"range", "point"}, 2, 2, fn_finished_by},
    {"includes", {"range", "point"}, 2, 2, fn_includes},
    {"during", {"point", "range"}, 2, 2, fn_during},
    {"starts", {"point", "range"}, 2, 2, fn_starts},
    {"started by", {"range", "point"}, 2, 2, fn_started_by},
    {"coincides", {"point1", "point2"}, 2, 2, fn_coincides},
    {NULL, {NULL}, 0, 0, NULL},
};
