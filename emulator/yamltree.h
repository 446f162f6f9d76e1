/* A YAML document as a tree in an arena, every node with its line and
 * column (1-based) and its tag ("!Ref", "!GetAtt", "!Sub"...), which SAM
 * templates need and libyaml's event stream does not keep for us. Only what
 * templates use: mappings, sequences, scalars; anchors and aliases are
 * refused with their position. */
#ifndef CS_EMULATOR_YAMLTREE_H
#define CS_EMULATOR_YAMLTREE_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/str.h"

typedef enum em_yaml_type { EM_YAML_SCALAR, EM_YAML_MAP, EM_YAML_SEQ } em_yaml_type;

typedef struct em_yaml em_yaml;
struct em_yaml {
    em_yaml_type type;
    cs_str tag;                  /* "" when untagged; local tags keep their "!" */
    cs_str text;                 /* scalars */
    bool plain;                  /* an unquoted scalar (so "null" and "~" mean nothing) */
    cs_str key;                  /* when a mapping value: its key */
    size_t key_line, key_column; /* where that key is written; 0 otherwise */
    size_t line, column;         /* where the value starts */
    em_yaml *first, *next;       /* children; next sibling */
    size_t count;
};

/* Parses one document. Errors: CS_ERR_CONFIG with "line L, column C: ..."
 * in the message and the byte offset in diag. */
cs_error em_yaml_parse(cs_arena *arena, cs_str text, em_yaml **out, cs_diag *diag);

/* A mapping's value for key, or NULL. */
const em_yaml *em_yaml_get(const em_yaml *map, const char *key);

#endif
