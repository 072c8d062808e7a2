/*
 * builtins_list.c — list functions.
 *
 * Aggregates (min, max, sum, mean, ...) take one list or their items as
 * separate arguments: `max([1, 2])` and `max(1, 2)` are the same.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

#define NEED_LIST(fn, i)                                                                           \
    do {                                                                                           \
        if (args[i]->type != TANDEM_FEEL_LIST) {                                                   \
            return feel_bad_arg(e, fn, i, "a list", args[i]);                                      \
        }                                                                                          \
    } while (0)
#define L(i) (args[i]->u.list)

/* The items of an aggregate: the one list argument or all the arguments. */
static void items_of(const feel_value *const *args, uint32_t n, const feel_value *const **items,
                     uint32_t *count)
{
    TANDEM_ASSERT(args != NULL && items != NULL);
    if (n == 1 && args[0]->type == TANDEM_FEEL_LIST) {
        *items = args[0]->u.list.items;
        *count = args[0]->u.list.n;
    } else {
        *items = args;
        *count = n;
    }
}

static bool is_equal(const feel_value *a, const feel_value *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    const feel_value *eq = feel_equals(a, b);
    return eq != NULL && eq->u.b;
}

static const feel_value *fn_list_contains(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    NEED_LIST("list contains", 0);
    for (uint32_t i = 0; i < L(0).n; i++) {
        if (is_equal(L(0).items[i], args[1])) {
            return &feel_true;
        }
    }
    return &feel_false;
}

static const feel_value *fn_count(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("count", 0);
    return feel_number(e, feel_num_from_int(L(0).n));
}

static const feel_value *extreme(feel_eval *e, const feel_value *const *args, uint32_t n, int sign)
{
    const char *fn = sign > 0 ? "max" : "min";
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    if (count == 0) {
        return &feel_null;
    }
    const feel_value *best = items[0];
    for (uint32_t i = 1; i < count; i++) {
        int c;
        if (!feel_compare(items[i], best, &c)) {
            return feel_warn(e, "%s: the items are not comparable", fn);
        }
        if (c * sign > 0) {
            best = items[i];
        }
    }
    if (count == 1 && best->type != TANDEM_FEEL_NUMBER && best->type != TANDEM_FEEL_STRING) {
        int c;
        if (!feel_compare(best, best, &c)) {
            return feel_warn(e, "%s: the items are not comparable", fn);
        }
    }
    return best;
}

static const feel_value *fn_min(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    return extreme(e, args, n, -1);
}

static const feel_value *fn_max(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    return extreme(e, args, n, 1);
}

/* Sum (product when mul) of numeric items; false with a warning otherwise. */
static bool fold_numbers(feel_eval *e, const char *fn, const feel_value *const *items,
                         uint32_t count, bool mul, feel_num *out)
{
    TANDEM_ASSERT(items != NULL || count == 0);
    feel_num acc = feel_num_from_int(mul ? 1 : 0);
    for (uint32_t i = 0; i < count; i++) {
        if (items[i]->type != TANDEM_FEEL_NUMBER) {
            feel_warn(e, "%s: the items must be numbers, not %s", fn,
                      feel_type_name(items[i]->type));
            return false;
        }
        int rc = mul ? feel_num_mul(acc, items[i]->u.num, &acc)
                     : feel_num_add(acc, items[i]->u.num, &acc);
        if (rc != 0) {
            feel_warn(e, "%s: number out of range", fn);
            return false;
        }
    }
    *out = acc;
    return true;
}

static const feel_value *fn_sum(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    feel_num s;
    if (count == 0) {
        return &feel_null;
    }
    return fold_numbers(e, "sum", items, count, false, &s) ? feel_number(e, s) : &feel_null;
}

static const feel_value *fn_product(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    feel_num s;
    if (count == 0) {
        return &feel_null;
    }
    return fold_numbers(e, "product", items, count, true, &s) ? feel_number(e, s) : &feel_null;
}

static const feel_value *fn_mean(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    feel_num s, m;
    if (count == 0 || !fold_numbers(e, "mean", items, count, false, &s)) {
        return &feel_null;
    }
    if (feel_num_div(s, feel_num_from_int(count), &m) != 0) {
        return &feel_null;
    }
    return feel_number(e, m);
}

static int cmp_values(const void *a, const void *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    int c = 0;
    feel_compare(*(const feel_value *const *)a, *(const feel_value *const *)b, &c);
    return c;
}

/* A sorted copy of numeric or string items; NULL (with a warning) otherwise. */
static const feel_value **sorted_copy(feel_eval *e, const char *fn, const feel_value *const *items,
                                      uint32_t count)
{
    const feel_value **copy = feel_items(e, count);
    if (copy == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
        int c;
        if (!feel_compare(items[i], items[0], &c)) {
            feel_warn(e, "%s: the items are not comparable", fn);
            return NULL;
        }
        copy[i] = items[i];
    }
    qsort(copy, count, sizeof(*copy), cmp_values);
    return copy;
}

static const feel_value *fn_median(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    if (count == 0) {
        return &feel_null;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (items[i]->type != TANDEM_FEEL_NUMBER) {
            return feel_warn(e, "median: the items must be numbers");
        }
    }
    const feel_value **s = sorted_copy(e, "median", items, count);
    if (s == NULL) {
        return e->error != 0 ? NULL : &feel_null;
    }
    if (count % 2 == 1) {
        return s[count / 2];
    }
    feel_num sum, half;
    if (feel_num_add(s[count / 2 - 1]->u.num, s[count / 2]->u.num, &sum) != 0 ||
        feel_num_div(sum, feel_num_from_int(2), &half) != 0) {
        return &feel_null;
    }
    return feel_number(e, half);
}

/* all (conjunction) and any (disjunction) with FEEL's null rules. */
static const feel_value *all_any(feel_eval *e, const feel_value *const *args, uint32_t n, bool all)
{
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    bool saw_other = false;
    for (uint32_t i = 0; i < count; i++) {
        const feel_value *v = items[i];
        if (v->type == TANDEM_FEEL_BOOLEAN && v->u.b != all) {
            return v;
        }
        if (v->type != TANDEM_FEEL_BOOLEAN) {
            saw_other = true;
        }
    }
    TANDEM_ASSERT(e != NULL);
    return saw_other ? &feel_null : feel_bool(all);
}

static const feel_value *fn_all(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    return all_any(e, args, n, true);
}

static const feel_value *fn_any(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    return all_any(e, args, n, false);
}

static const feel_value *fn_sublist(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_LIST("sublist", 0);
    int64_t start, length = -1;
    if (!feel_int_arg(args[1], &start) || start == 0) {
        return feel_bad_arg(e, "sublist", 1, "a non-zero integer", args[1]);
    }
    if (n == 3 && (!feel_int_arg(args[2], &length) || length < 0)) {
        return feel_bad_arg(e, "sublist", 2, "a non-negative integer", args[2]);
    }
    int64_t count = L(0).n;
    int64_t from = start > 0 ? start - 1 : count + start;
    if (from < 0 || from > count) {
        return feel_warn(e, "sublist: start position %lld is outside the list", (long long)start);
    }
    int64_t to = length < 0 || length > count - from ? count : from + length;
    if (to == from) {
        return feel_list(e, NULL, 0); /* the items of an empty list may be NULL */
    }
    return feel_list(e, L(0).items + from, (size_t)(to - from));
}

static const feel_value *fn_append(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_LIST("append", 0);
    feel_list_builder lb = {0};
    for (uint32_t i = 0; i < L(0).n; i++) {
        if (!feel_lb_push(e, &lb, L(0).items[i])) {
            return NULL;
        }
    }
    for (uint32_t i = 1; i < n; i++) {
        if (!feel_lb_push(e, &lb, args[i])) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

static const feel_value *fn_concatenate(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    feel_list_builder lb = {0};
    for (uint32_t i = 0; i < n; i++) {
        NEED_LIST("concatenate", i);
        for (uint32_t k = 0; k < L(i).n; k++) {
            if (!feel_lb_push(e, &lb, L(i).items[k])) {
                return NULL;
            }
        }
    }
    return feel_list(e, lb.items, lb.n);
}

/* Position argument of insert before / remove: 1-based, negative from the end. */
static bool position(const feel_value *v, uint32_t count, bool allow_end, int64_t *at)
{
    TANDEM_ASSERT(v != NULL && at != NULL);
    int64_t p;
    if (!feel_int_arg(v, &p) || p == 0) {
        return false;
    }
    *at = p > 0 ? p - 1 : (int64_t)count + p;
    return *at >= 0 && *at < (int64_t)count + (allow_end ? 1 : 0);
}

static const feel_value *fn_insert_before(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 3);
    NEED_LIST("insert before", 0);
    int64_t at;
    if (!position(args[1], L(0).n, false, &at)) {
        return feel_warn(e, "insert before: position is outside the list");
    }
    feel_list_builder lb = {0};
    for (uint32_t i = 0; i <= L(0).n; i++) {
        if ((int64_t)i == at && !feel_lb_push(e, &lb, args[2])) {
            return NULL;
        }
        if (i < L(0).n && !feel_lb_push(e, &lb, L(0).items[i])) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

static const feel_value *fn_remove(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    NEED_LIST("remove", 0);
    int64_t at;
    if (!position(args[1], L(0).n, false, &at)) {
        return feel_warn(e, "remove: position is outside the list");
    }
    feel_list_builder lb = {0};
    for (uint32_t i = 0; i < L(0).n; i++) {
        if ((int64_t)i != at && !feel_lb_push(e, &lb, L(0).items[i])) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

static const feel_value *fn_reverse(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("reverse", 0);
    const feel_value **items = feel_items(e, L(0).n);
    if (items == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < L(0).n; i++) {
        items[i] = L(0).items[L(0).n - 1 - i];
    }
    return feel_list(e, items, L(0).n);
}

static const feel_value *fn_index_of(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    NEED_LIST("index of", 0);
    feel_list_builder lb = {0};
    for (uint32_t i = 0; i < L(0).n; i++) {
        if (is_equal(L(0).items[i], args[1]) &&
            !feel_lb_push(e, &lb, feel_number(e, feel_num_from_int(i + 1)))) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

static bool push_distinct(feel_eval *e, feel_list_builder *lb, const feel_value *v, bool *ok)
{
    TANDEM_ASSERT(lb != NULL && v != NULL && ok != NULL);
    for (uint32_t k = 0; k < lb->n; k++) {
        if (is_equal(lb->items[k], v)) {
            return true;
        }
    }
    *ok = feel_lb_push(e, lb, v);
    return *ok;
}

static const feel_value *fn_union(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    feel_list_builder lb = {0};
    bool ok = true;
    for (uint32_t i = 0; i < n; i++) {
        NEED_LIST("union", i);
        for (uint32_t k = 0; k < L(i).n && ok; k++) {
            if (!feel_charge(e, lb.n + 1)) {
                return NULL;
            }
            push_distinct(e, &lb, L(i).items[k], &ok);
        }
    }
    return ok ? feel_list(e, lb.items, lb.n) : NULL;
}

static const feel_value *fn_distinct_values(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("distinct values", 0);
    feel_list_builder lb = {0};
    bool ok = true;
    for (uint32_t k = 0; k < L(0).n && ok; k++) {
        if (!feel_charge(e, lb.n + 1)) {
            return NULL;
        }
        push_distinct(e, &lb, L(0).items[k], &ok);
    }
    return ok ? feel_list(e, lb.items, lb.n) : NULL;
}

static const feel_value *fn_duplicate_values(feel_eval *e, const feel_value *const *args,
                                             uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("duplicate values", 0);
    feel_list_builder lb = {0};
    bool ok = true;
    for (uint32_t k = 0; k < L(0).n && ok; k++) {
        if (!feel_charge(e, L(0).n)) {
            return NULL;
        }
        bool dup = false;
        for (uint32_t j = 0; j < L(0).n && !dup; j++) {
            dup = j != k && is_equal(L(0).items[j], L(0).items[k]);
        }
        if (dup) {
            push_distinct(e, &lb, L(0).items[k], &ok);
        }
    }
    return ok ? feel_list(e, lb.items, lb.n) : NULL;
}

static bool flatten_into(feel_eval *e, feel_list_builder *lb, const feel_value *v)
{
    TANDEM_ASSERT(v != NULL);
    if (v->type != TANDEM_FEEL_LIST) {
        return feel_lb_push(e, lb, v);
    }
    for (uint32_t i = 0; i < v->u.list.n; i++) {
        if (!feel_charge(e, 1) || !flatten_into(e, lb, v->u.list.items[i])) {
            return false;
        }
    }
    return true;
}

static const feel_value *fn_flatten(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("flatten", 0);
    feel_list_builder lb = {0};
    return flatten_into(e, &lb, args[0]) ? feel_list(e, lb.items, lb.n) : NULL;
}

static const feel_value *fn_is_empty(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 1);
    NEED_LIST("is empty", 0);
    return feel_bool(L(0).n == 0);
}

/* precedes(a, b) through the user's function: 1 true, 0 false, -1 stop. */
static int precedes(feel_eval *e, const feel_value *fn, const feel_value *a, const feel_value *b)
{
    TANDEM_ASSERT(e != NULL && e->error == 0);
    TANDEM_ASSERT(a != NULL && b != NULL);
    if (fn == NULL) {
        int c;
        if (!feel_compare(a, b, &c)) {
            feel_warn(e, "sort: the items are not comparable");
            return -2;
        }
        return c < 0;
    }
    const feel_value *pair[2] = {a, b};
    const feel_value *r = feel_call(e, fn, pair, NULL, 2, 0);
    if (r == NULL) {
        return -1;
    }
    if (r->type != TANDEM_FEEL_BOOLEAN) {
        feel_warn(e, "sort: the ordering function must return a boolean");
        return -2;
    }
    return r->u.b;
}

/* Stable insertion-merge sort: the ordering function may be anything, so
 * only "a precedes b" is asked, never a three-way comparison. */
static const feel_value *fn_sort(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    NEED_LIST("sort", 0);
    const feel_value *fn = n == 2 ? args[1] : NULL;
    if (fn != NULL && fn->type != TANDEM_FEEL_FUNCTION) {
        return feel_bad_arg(e, "sort", 1, "a function", fn);
    }
    uint32_t count = L(0).n;
    const feel_value **a = feel_items(e, count), **tmp = feel_items(e, count);
    if (a == NULL || tmp == NULL) {
        return NULL;
    }
    if (count > 0) { /* an empty list has no item array */
        memcpy(a, L(0).items, count * sizeof(*a));
    }
    for (uint32_t width = 1; width < count; width *= 2) {
        for (uint32_t lo = 0; lo < count; lo += 2 * width) {
            uint32_t mid = lo + width < count ? lo + width : count;
            uint32_t hi = lo + 2 * width < count ? lo + 2 * width : count;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int p = precedes(e, fn, a[j], a[i]);
                if (p < 0) {
                    return p == -1 ? NULL : &feel_null;
                }
                tmp[k++] = p ? a[j++] : a[i++];
            }
            while (i < mid) {
                tmp[k++] = a[i++];
            }
            while (j < hi) {
                tmp[k++] = a[j++];
            }
        }
        memcpy(a, tmp, count * sizeof(*a));
    }
    return feel_list(e, a, count);
}

/* Sample standard deviation (n - 1 in the denominator), as DMN defines it. */
static const feel_value *fn_stddev(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    feel_num sum, mean, acc = feel_num_from_int(0), r;
    if (count < 2 || !fold_numbers(e, "stddev", items, count, false, &sum)) {
        return &feel_null;
    }
    if (feel_num_div(sum, feel_num_from_int(count), &mean) != 0) {
        return &feel_null;
    }
    for (uint32_t i = 0; i < count; i++) {
        feel_num d, sq;
        if (feel_num_sub(items[i]->u.num, mean, &d) != 0 || feel_num_mul(d, d, &sq) != 0 ||
            feel_num_add(acc, sq, &acc) != 0) {
            return feel_warn(e, "stddev: number out of range");
        }
    }
    if (feel_num_div(acc, feel_num_from_int(count - 1), &r) != 0 || feel_num_sqrt(r, &r) != 0) {
        return feel_warn(e, "stddev: number out of range");
    }
    return feel_number(e, r);
}

/* The most frequent items, in ascending order. */
static const feel_value *fn_mode(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    const feel_value *const *items;
    uint32_t count;
    items_of(args, n, &items, &count);
    if (count == 0) {
        return feel_list(e, NULL, 0);
    }
    const feel_value **s = sorted_copy(e, "mode", items, count);
    if (s == NULL) {
        return e->error != 0 ? NULL : &feel_null;
    }
    uint32_t best = 0;
    for (uint32_t i = 0, run = 1; i < count; i++, run++) {
        if (i + 1 == count || cmp_values(&s[i], &s[i + 1]) != 0) {
            best = run > best ? run : best;
            run = 0;
        }
    }
    feel_list_builder lb = {0};
    for (uint32_t i = 0, run = 1; i < count; i++, run++) {
        if (i + 1 == count || cmp_values(&s[i], &s[i + 1]) != 0) {
            if (run == best && !feel_lb_push(e, &lb, s[i])) {
                return NULL;
            }
            run = 0;
        }
    }
    TANDEM_ASSERT(lb.n >= 1);
    return feel_list(e, lb.items, lb.n);
}

/* partition(list, size): consecutive sublists of `size` items. */
static const feel_value *fn_partition(feel_eval *e, const feel_value *const *args, uint32_t n)
{
    FEEL_BUILTIN_ENTRY(e, args, n);
    TANDEM_ASSERT(n == 2);
    NEED_LIST("partition", 0);
    int64_t size;
    if (!feel_int_arg(args[1], &size) || size < 1) {
        return feel_bad_arg(e, "partition", 1, "a positive integer", args[1]);
    }
    feel_list_builder lb = {0};
    for (uint32_t at = 0; at < L(0).n; at += (uint32_t)(size < L(0).n ? size : L(0).n)) {
        uint32_t k = (uint32_t)(L(0).n - at < size ? L(0).n - at : size);
        if (!feel_lb_push(e, &lb, feel_list(e, L(0).items + at, k))) {
            return NULL;
        }
    }
    return feel_list(e, lb.items, lb.n);
}

const feel_builtin feel_builtins_list[] = {
    {"list contains", {"list", "element"}, 2, 2, fn_list_contains},
    {"count", {"list"}, 1, 1, fn_count},
    {"min", {"list"}, 1, 255, fn_min},
    {"max", {"list"}, 1, 255, fn_max},
    {"sum", {"list"}, 1, 255, fn_sum},
    {"product", {"list"}, 1, 255, fn_product},
    {"mean", {"list"}, 1, 255, fn_mean},
    {"median", {"list"}, 1, 255, fn_median},
    {"all", {"list"}, 1, 255, fn_all},
    {"any", {"list"}, 1, 255, fn_any},
    {"sublist", {"list", "start position", "length"}, 2, 3, fn_sublist},
    {"append", {"list", "item"}, 1, 255, fn_append},
    {"concatenate", {"lists"}, 0, 255, fn_concatenate},
    {"insert before", {"list", "position", "newItem"}, 3, 3, fn_insert_before},
    {"remove", {"list", "position"}, 2, 2, fn_remove},
    {"reverse", {"list"}, 1, 1, fn_reverse},
    {"index of", {"list", "match"}, 2, 2, fn_index_of},
    {"union", {"lists"}, 0, 255, fn_union},
    {"distinct values", {"list"}, 1, 1, fn_distinct_values},
    {"duplicate values", {"list"}, 1, 1, fn_duplicate_values},
    {"flatten", {"list"}, 1, 1, fn_flatten},
    {"is empty", {"list"}, 1, 1, fn_is_empty},
    {"sort", {"list", "precedes"}, 1, 2, fn_sort},
    {"stddev", {"list"}, 1, 255, fn_stddev},
    {"mode", {"list"}, 1, 255, fn_mode},
    {"partition", {"list", "size"}, 2, 2, fn_partition},
    {NULL, {NULL}, 0, 0, NULL},
};
