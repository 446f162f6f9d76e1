#include "problems.h"

#include <stdio.h>
#include <string.h>

void cs_problems_init(cs_problems *problems, cs_arena *arena)
{
    problems->arena = arena;
    problems->count = 0;
    problems->dropped = 0;
}

void cs_problems_add(cs_problems *problems, const char *path, const char *rule, const char *fmt,
                     ...)
{
    if (!problems) {
        return;
    }
    if (problems->count == CS_PROBLEMS_MAX) {
        problems->dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = cs_arena_vsprintf(problems->arena, fmt, ap);
    va_end(ap);
    cs_problem *p = &problems->items[problems->count++];
    p->path = cs_arena_strndup(problems->arena, cs_str_from_c(path));
    p->rule = rule;
    p->message = message ? message : "(out of memory)";
    if (!p->path) {
        p->path = "";
    }
}

size_t cs_problems_total(const cs_problems *problems)
{
    return problems->count + problems->dropped;
}

cs_error cs_problems_to_diag(const cs_problems *problems, cs_error code, cs_diag *diag)
{
    if (!diag) {
        return code;
    }
    cs_diag_clear(diag);
    diag->code = code;
    size_t used = 0;
    for (size_t i = 0; i < problems->count && used < sizeof(diag->message) - 1; i++) {
        int n = snprintf(diag->message + used, sizeof(diag->message) - used, "%s%s: %s: %s",
                         i ? "; " : "", problems->items[i].path, problems->items[i].rule,
                         problems->items[i].message);
        if (n < 0) {
            break;
        }
        used += (size_t)n;
    }
    if (problems->count > 0) {
        cs_diag_set_field(diag, problems->items[0].path);
    }
    return code;
}
