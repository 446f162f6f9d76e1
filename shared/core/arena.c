#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cs_arena_block {
    cs_arena_block *next; /* older block */
    size_t size;          /* usable bytes after the header */
    alignas(max_align_t) unsigned char data[];
};

enum { ARENA_DEFAULT_BLOCK = 64 * 1024, ARENA_ALIGN = alignof(max_align_t) };

/* cs_arena_alloc's inline fast path rounds to 16 bytes. */
_Static_assert(ARENA_ALIGN <= 16 && 16 % ARENA_ALIGN == 0, "arena alignment");

static void use_block(cs_arena *arena, cs_arena_block *block)
{
    arena->cursor = block ? block->data : NULL;
    arena->limit = block ? block->data + block->size : NULL;
}

void cs_arena_init(cs_arena *arena, size_t block_bytes, size_t max_bytes)
{
    memset(arena, 0, sizeof(*arena));
    arena->block_bytes = block_bytes ? block_bytes : ARENA_DEFAULT_BLOCK;
    arena->max_bytes = max_bytes;
}

static void free_blocks(cs_arena_block *block, const cs_arena_block *stop)
{
    while (block && block != stop) {
        cs_arena_block *next = block->next;
        free(block);
        block = next;
    }
}

void cs_arena_clean_up(cs_arena *arena)
{
    free_blocks(arena->head, NULL);
    arena->head = NULL;
    arena->first = NULL;
    arena->held_bytes = 0;
    use_block(arena, NULL);
}

void cs_arena_reset(cs_arena *arena)
{
    free_blocks(arena->head, arena->first);
    arena->head = arena->first;
    arena->held_bytes = arena->first ? arena->first->size : 0;
    use_block(arena, arena->first);
    arena->exhausted = 0;
}

static cs_arena_block *add_block(cs_arena *arena, size_t min_size)
{
    size_t size = min_size > arena->block_bytes ? min_size : arena->block_bytes;
    if (arena->max_bytes &&
        (size > arena->max_bytes || arena->held_bytes > arena->max_bytes - size)) {
        return NULL;
    }
    if (size > SIZE_MAX - sizeof(cs_arena_block)) {
        return NULL;
    }
    cs_arena_block *block = malloc(sizeof(cs_arena_block) + size);
    if (!block) {
        return NULL;
    }
    block->size = size;
    block->next = arena->head;
    arena->head = block;
    if (!arena->first) {
        arena->first = block;
    }
    arena->held_bytes += size;
    if (arena->held_bytes > arena->peak_bytes) {
        arena->peak_bytes = arena->held_bytes;
    }
    use_block(arena, block);
    return block;
}

void *cs_arena_alloc_slow(cs_arena *arena, size_t size)
{
    if (size > SIZE_MAX - ARENA_ALIGN) {
        arena->exhausted = 1;
        return NULL;
    }
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if ((size_t)(arena->limit - arena->cursor) < rounded && !add_block(arena, rounded)) {
        arena->exhausted = 1;
        return NULL;
    }
    void *p = arena->cursor;
    arena->cursor += rounded;
    return p;
}

void *cs_arena_calloc(cs_arena *arena, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        arena->exhausted = 1;
        return NULL;
    }
    void *p = cs_arena_alloc(arena, total);
    if (p) {
        memset(p, 0, total);
    }
    return p;
}

char *cs_arena_strndup(cs_arena *arena, cs_str s)
{
    char *p = cs_arena_alloc(arena, s.len + 1);
    if (p) {
        if (s.len) {
            memcpy(p, s.ptr, s.len);
        }
        p[s.len] = '\0';
    }
    return p;
}

cs_str cs_arena_copy(cs_arena *arena, cs_str s)
{
    char *p = cs_arena_strndup(arena, s);
    return p ? cs_str_make(p, s.len) : CS_STR_NULL;
}

char *cs_arena_vsprintf(cs_arena *arena, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return NULL;
    }
    char *p = cs_arena_alloc(arena, (size_t)n + 1);
    if (p) {
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    }
    return p;
}

char *cs_arena_sprintf(cs_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = cs_arena_vsprintf(arena, fmt, ap);
    va_end(ap);
    return p;
}

cs_error cs_arena_full(const cs_arena *arena, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_ARENA_FULL, "invocation memory cap of %zu bytes reached",
                       arena->max_bytes);
}
