/*
 * arena.c — the bump allocator of the FEEL module (see feel_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "feel/feel_int.h"

/* Blocks grow geometrically up to this size; larger requests get their own. */
#define ARENA_BLOCK_BYTES_MIN 4096u
#define ARENA_BLOCK_BYTES_MAX (1024u * 1024u)

struct feel_arena_block {
    feel_arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(8) unsigned char data[];
};

void feel_arena_init(feel_arena *a, size_t bytes_max)
{
    TANDEM_ASSERT(a != NULL);
    a->head = NULL;
    a->used_bytes = 0;
    a->bytes_max = bytes_max;
    a->over_limit = false;
    TANDEM_ASSERT(a->used_bytes == 0);
}

void feel_arena_free(feel_arena *a)
{
    TANDEM_ASSERT(a != NULL);
    feel_arena_block *b = a->head;
    while (b != NULL) {
        feel_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
    a->over_limit = false;
}

void feel_arena_reset(feel_arena *a)
{
    TANDEM_ASSERT(a != NULL);
    if (a->head == NULL) {
        return;
    }
    /* Keep the oldest block (the last in the chain): a loop that evaluates
     * the same expression again needs about the same memory. */
    feel_arena_block *b = a->head;
    while (b->next != NULL) {
        feel_arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->used_bytes = 0;
    a->over_limit = false;
    TANDEM_ASSERT(a->head->next == NULL);
}

void *feel_arena_alloc(feel_arena *a, size_t size)
{
    TANDEM_ASSERT(a != NULL);
    size_t need = (size + 7u) & ~(size_t)7u;
    if (need < size) {
        return NULL;
    }
    if (a->bytes_max != 0 && (need > a->bytes_max || a->used_bytes > a->bytes_max - need)) {
        a->over_limit = true;
        return NULL;
    }
    feel_arena_block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        size_t prev = b != NULL ? b->size : 0;
        size_t bsize = prev * 2 < ARENA_BLOCK_BYTES_MIN ? ARENA_BLOCK_BYTES_MIN : prev * 2;
        if (bsize > ARENA_BLOCK_BYTES_MAX) {
            bsize = ARENA_BLOCK_BYTES_MAX;
        }
        if (bsize < need) {
            bsize = need;
        }
        feel_arena_block *nb = malloc(sizeof(*nb) + bsize);
        if (nb == NULL) {
            return NULL;
        }
        nb->size = bsize;
        nb->used = 0;
        if (b != NULL && b->size - b->used >= ARENA_BLOCK_BYTES_MIN / 4 && need > bsize / 2) {
            /* A big request gets its own block behind the current one, so
             * the free room of the current block is not wasted. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used_bytes += need;
    memset(p, 0, need);
    TANDEM_ASSERT(b->used <= b->size);
    return p;
}

char *feel_arena_strndup(feel_arena *a, const char *s, size_t len)
{
    TANDEM_ASSERT(a != NULL);
    TANDEM_ASSERT(s != NULL || len == 0);
    if (len == SIZE_MAX) {
        return NULL;
    }
    char *p = feel_arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return p;
}
