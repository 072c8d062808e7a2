/*
 * arena.c — the one allocation behind a parsed resource.
 *
 * A model is built once and freed once, so a bump allocator over a list of
 * chunks is enough and lets tandem_bpmn_free be a single call.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "bpmn/bpmn_int.h"

/* First chunk; later chunks double up to the cap, large requests get a chunk
 * of their own. */
#define ARENA_CHUNK_BYTES_MIN (16u * 1024u)
#define ARENA_CHUNK_BYTES_CAP (1024u * 1024u)
#define ARENA_ALIGN_BYTES     8u

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size_bytes; /* usable bytes after the header */
    size_t used_bytes;
    unsigned char data[]; /* 8-aligned: the header is pointer-sized fields */
} arena_chunk;

struct tandem_bpmn_arena {
    arena_chunk *head; /* chunk being filled; older chunks follow */
    size_t next_chunk_bytes;
    size_t used_bytes;
};

_Static_assert(ARENA_CHUNK_BYTES_MIN % ARENA_ALIGN_BYTES == 0, "chunks keep alignment");

static long arena_fail_after = -1;

void bpmn_arena_fail_after(long count)
{
    arena_fail_after = count < 0 ? -1 : count;
    TANDEM_ASSERT(arena_fail_after >= -1);
}

/* True when the test hook says this call fails. */
static bool arena_injected_failure(void)
{
    if (arena_fail_after < 0) {
        return false;
    }
    if (arena_fail_after == 0) {
        return true;
    }
    arena_fail_after--;
    return false;
}

tandem_bpmn_arena *bpmn_arena_new(void)
{
    if (arena_injected_failure()) {
        return NULL;
    }
    tandem_bpmn_arena *arena = calloc(1, sizeof(*arena));
    if (arena == NULL) {
        return NULL;
    }
    arena->next_chunk_bytes = ARENA_CHUNK_BYTES_MIN;
    TANDEM_ASSERT(arena->head == NULL);
    return arena;
}

void bpmn_arena_free(tandem_bpmn_arena *arena)
{
    if (arena == NULL) {
        return;
    }
    arena_chunk *chunk = arena->head;
    while (chunk != NULL) {
        arena_chunk *next = chunk->next;
        TANDEM_ASSERT(chunk->used_bytes <= chunk->size_bytes);
        free(chunk);
        chunk = next;
    }
    free(arena);
}

static arena_chunk *arena_grow(tandem_bpmn_arena *arena, size_t need_bytes)
{
    size_t size_bytes = arena->next_chunk_bytes;
    if (size_bytes < need_bytes) {
        size_bytes = need_bytes;
    }
    arena_chunk *chunk = malloc(sizeof(*chunk) + size_bytes);
    if (chunk == NULL) {
        return NULL;
    }
    chunk->size_bytes = size_bytes;
    chunk->used_bytes = 0;
    chunk->next = arena->head;
    arena->head = chunk;
    if (arena->next_chunk_bytes < ARENA_CHUNK_BYTES_CAP) {
        arena->next_chunk_bytes *= 2;
    }
    TANDEM_ASSERT(chunk->size_bytes >= need_bytes);
    return chunk;
}

void *bpmn_arena_alloc(tandem_bpmn_arena *arena, size_t count, size_t size)
{
    TANDEM_ASSERT(arena != NULL);
    TANDEM_ASSERT(size > 0);
    if (count > (SIZE_MAX / 2) / size || arena_injected_failure()) {
        return NULL;
    }
    size_t need_bytes = count * size;
    need_bytes = (need_bytes + ARENA_ALIGN_BYTES - 1) & ~(size_t)(ARENA_ALIGN_BYTES - 1);
    if (need_bytes == 0) {
        need_bytes = ARENA_ALIGN_BYTES;
    }
    arena_chunk *chunk = arena->head;
    if (chunk == NULL || chunk->size_bytes - chunk->used_bytes < need_bytes) {
        chunk = arena_grow(arena, need_bytes);
        if (chunk == NULL) {
            return NULL;
        }
    }
    void *p = chunk->data + chunk->used_bytes;
    chunk->used_bytes += need_bytes;
    arena->used_bytes += need_bytes;
    memset(p, 0, need_bytes);
    TANDEM_ASSERT(((uintptr_t)p % ARENA_ALIGN_BYTES) == 0);
    return p;
}

char *bpmn_arena_strndup(tandem_bpmn_arena *arena, const char *s, size_t len)
{
    TANDEM_ASSERT(s != NULL || len == 0);
    char *copy = bpmn_arena_alloc(arena, len + 1, 1);
    if (copy == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, s, len);
    }
    TANDEM_ASSERT(copy[len] == '\0');
    return copy;
}

size_t bpmn_arena_used_bytes(const tandem_bpmn_arena *arena)
{
    TANDEM_ASSERT(arena != NULL);
    return arena->used_bytes;
}
