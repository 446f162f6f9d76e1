/* Per-invocation memory: allocate many pieces, free them all at once.
 *
 * An arena hands out memory from blocks it mallocs; nothing is freed piece by
 * piece. cs_arena_reset() returns it to empty while keeping its first block,
 * so a warm function that resets after each invocation reaches a steady state
 * with no malloc at all. The arena has a hard cap on the bytes it holds: an
 * allocation past the cap returns NULL (the caller reports CS_ERR_ARENA_FULL)
 * rather than letting one bad input take the whole process down. */
#ifndef CS_CORE_ARENA_H
#define CS_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"
#include "str.h"

typedef struct cs_arena_block cs_arena_block;

/* Allocation is on every hot path (a JSON node, a string copy), so the
 * common case, room in the current block, is inline here; the rest is in
 * arena.c. The block layout is private to the arena. */
typedef struct cs_arena {
    unsigned char *cursor; /* next free byte in the current block */
    unsigned char *limit;  /* end of the current block */
    cs_arena_block *head;  /* newest block; allocations come from here */
    cs_arena_block *first; /* kept across resets */
    size_t block_bytes;    /* default size of a new block */
    size_t max_bytes;      /* cap on the sum of block sizes held */
    size_t held_bytes;     /* sum of block sizes held now */
    size_t peak_bytes;     /* highest held_bytes seen since init */
    int exhausted;         /* an allocation failed since the last reset */
} cs_arena;

/* Prepares caller-owned storage. block_bytes 0 picks 64 KiB; max_bytes 0 means
 * no cap. No memory is allocated until the first cs_arena_alloc. */
void cs_arena_init(cs_arena *arena, size_t block_bytes, size_t max_bytes);
/* Frees every block. The arena may be initialised again afterwards. */
void cs_arena_clean_up(cs_arena *arena);
/* Forgets every allocation; keeps the first block for reuse. */
void cs_arena_reset(cs_arena *arena);

void *cs_arena_alloc_slow(cs_arena *arena, size_t size);

/* size bytes aligned for any type, uninitialised; NULL when the cap is reached
 * or malloc fails (and `exhausted` is set). size 0 returns a valid pointer. */
static inline void *cs_arena_alloc(cs_arena *arena, size_t size)
{
    size_t rounded = (size + 15) & ~(size_t)15;
    if (rounded >= size && (size_t)(arena->limit - arena->cursor) >= rounded) {
        void *p = arena->cursor;
        arena->cursor += rounded;
        return p;
    }
    return cs_arena_alloc_slow(arena, size);
}
/* As cs_arena_alloc, zero-filled; n * size overflow returns NULL. */
void *cs_arena_calloc(cs_arena *arena, size_t n, size_t size);
/* A NUL-terminated copy of the view; NULL when full. */
char *cs_arena_strndup(cs_arena *arena, cs_str s);
/* The same as a view (still NUL-terminated); empty when full. */
cs_str cs_arena_copy(cs_arena *arena, cs_str s);
/* printf into the arena; NULL when full. */
char *cs_arena_sprintf(cs_arena *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *cs_arena_vsprintf(cs_arena *arena, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Records CS_ERR_ARENA_FULL in diag with the cap; returns the code. */
cs_error cs_arena_full(const cs_arena *arena, cs_diag *diag);

#endif
