/*
 * builtins.c — the table of built-in functions and helpers shared by the
 * files that implement them (builtins_*.c, one per group of the FEEL
 * documentation).
 */
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

static const feel_builtin *const groups[] = {feel_builtins_string, feel_builtins_list,
                                             feel_builtins_misc, feel_builtins_temporal,
                                             feel_builtins_range};

const feel_builtin *feel_builtin_find(const char *name, size_t len)
{
    TANDEM_ASSERT(name != NULL);
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        for (const feel_builtin *b = groups[g]; b->name != NULL; b++) {
            TANDEM_ASSERT(b->min_args <= b->max_args);
            if (strlen(b->name) == len && memcmp(b->name, name, len) == 0) {
                return b;
            }
        }
    }
    return NULL;
}

const feel_value *feel_bad_arg(feel_eval *e, const char *fn, uint32_t index, const char *expected,
                               const feel_value *got)
{
    TANDEM_ASSERT(fn != NULL && expected != NULL);
    TANDEM_ASSERT(got != NULL);
    return feel_warn(e, "%s: argument %u must be %s, not %s", fn, index + 1, expected,
                     feel_type_name(got->type));
}

bool feel_int_arg(const feel_value *v, int64_t *out)
{
    TANDEM_ASSERT(v != NULL && out != NULL);
    return v->type == TANDEM_FEEL_NUMBER && feel_num_to_int64(v->u.num, out) == 0;
}

size_t feel_utf8_count(const char *s, size_t len)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xC0u) != 0x80u;
    }
    TANDEM_ASSERT(n <= len);
    return n;
}

size_t feel_utf8_offset(const char *s, size_t len, size_t index)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    size_t i = 0, cp = 0;
    while (i < len) {
        if (((unsigned char)s[i] & 0xC0u) != 0x80u) {
            if (cp == index) {
                return i;
            }
            cp++;
        }
        i++;
    }
    TANDEM_ASSERT(i == len);
    return len;
}

const feel_value **feel_items(feel_eval *e, size_t n)
{
    TANDEM_ASSERT(e != NULL);
    if (n > e->lim.list_items_max) {
        feel_fail(e, TANDEM_ETOOBIG, "a list of %zu items exceeds the limit of %zu items", n,
                  e->lim.list_items_max);
        return NULL;
    }
    const feel_value **items = feel_arena_alloc(e->arena, (n > 0 ? n : 1) * sizeof(*items));
    if (items == NULL) {
        feel_fail(e, TANDEM_ENOMEM, "out of memory during evaluation");
    }
    return items;
}

bool feel_lb_push(feel_eval *e, feel_list_builder *lb, const feel_value *v)
{
    TANDEM_ASSERT(lb != NULL && lb->n <= lb->cap);
    if (v == NULL) {
        return false; /* the error is already set by whoever made v */
    }
    if (lb->n == lb->cap) {
        size_t cap = lb->cap == 0 ? 8 : (size_t)lb->cap * 2;
        const feel_value **items = feel_items(
            e, cap > e->lim.list_items_max && lb->n < e->lim.list_items_max ? e->lim.list_items_max
                                                                            : cap);
        if (items == NULL) {
            return false;
        }
        if (lb->n > 0) {
            memcpy(items, lb->items, lb->n * sizeof(*items));
        }
        lb->items = items;
        lb->cap = (uint32_t)(cap > e->lim.list_items_max ? e->lim.list_items_max : cap);
        if (lb->n == lb->cap) {
            feel_fail(e, TANDEM_ETOOBIG, "a list exceeds the limit of %zu items",
                      e->lim.list_items_max);
            return false;
        }
    }
    lb->items[lb->n++] = v;
    TANDEM_ASSERT(lb->n <= lb->cap);
    return true;
}
