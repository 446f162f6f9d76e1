/* A list of problems, each with the path it concerns and the rule it broke,
 * for validation that reports everything wrong at once instead of stopping at
 * the first error: a config at load, a record before it is written.
 *
 *   config.maps.erp_order.fields[3].transform[0]: unknown_transform: ... */
#ifndef CS_CORE_PROBLEMS_H
#define CS_CORE_PROBLEMS_H

#include <stddef.h>

#include "arena.h"
#include "error.h"
#include "str.h"

typedef struct cs_problem {
    const char *path;    /* "lines[2].quantity" */
    const char *rule;    /* a stable name: "required", "iso4217", "unknown_field" ... */
    const char *message; /* one sentence for a person */
} cs_problem;

enum { CS_PROBLEMS_MAX = 200 };

/* Problems live in the arena given at init; past CS_PROBLEMS_MAX they are
 * only counted. */
typedef struct cs_problems {
    cs_arena *arena;
    cs_problem items[CS_PROBLEMS_MAX];
    size_t count;   /* stored */
    size_t dropped; /* counted but not stored */
} cs_problems;

void cs_problems_init(cs_problems *problems, cs_arena *arena);
/* Records a problem (NULL problems is a no-op). Text is copied to the arena.
 * Loaders that decide success by counting problems need a real list. */
void cs_problems_add(cs_problems *problems, const char *path, const char *rule, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
size_t cs_problems_total(const cs_problems *problems);
/* "path: rule: message" per line into diag (as much as fits) with `code`;
 * returns code. */
cs_error cs_problems_to_diag(const cs_problems *problems, cs_error code, cs_diag *diag);

#endif
