#include "yamltree.h"

#include <string.h>
#include <yaml.h>

enum { YAML_MAX_DEPTH = 64 };

typedef struct tree_builder {
    cs_arena *arena;
    em_yaml *stack[YAML_MAX_DEPTH];
    size_t depth;
    em_yaml *root;
    bool want_key; /* in a mapping, the next scalar is a key */
    cs_str pending_key;
    yaml_mark_t key_mark;
    cs_diag *diag;
} tree_builder;

static cs_error at(cs_diag *diag, yaml_mark_t mark, const char *what)
{
    cs_diag_set(diag, CS_ERR_CONFIG, "line %zu, column %zu: %s", mark.line + 1, mark.column + 1,
                what);
    cs_diag_set_offset(diag, mark.index);
    return CS_ERR_CONFIG;
}

static cs_str copy(cs_arena *arena, const unsigned char *text, size_t len)
{
    char *p = cs_arena_strndup(
        arena, cs_str_make((const char *)(text ? text : (const unsigned char *)""), len));
    return p ? cs_str_make(p, len) : CS_STR_NULL;
}

static bool in_map(const tree_builder *b)
{
    return b->depth > 0 && b->stack[b->depth - 1]->type == EM_YAML_MAP;
}

/* Attaches a new node to the open container (or makes it the root). */
static em_yaml *add(tree_builder *b, em_yaml_type type, const unsigned char *tag, yaml_mark_t mark)
{
    em_yaml *n = cs_arena_calloc(b->arena, 1, sizeof(*n));
    if (!n) {
        return NULL;
    }
    n->type = type;
    n->tag = copy(b->arena, tag, tag ? strlen((const char *)tag) : 0);
    n->line = mark.line + 1;
    n->column = mark.column + 1;
    if (b->depth == 0) {
        b->root = n;
        return n;
    }
    em_yaml *parent = b->stack[b->depth - 1];
    if (parent->type == EM_YAML_MAP) {
        n->key = b->pending_key;
        n->key_line = b->key_mark.line + 1;
        n->key_column = b->key_mark.column + 1;
    }
    em_yaml **slot = &parent->first;
    while (*slot) {
        slot = &(*slot)->next;
    }
    *slot = n;
    parent->count++;
    b->want_key = parent->type == EM_YAML_MAP;
    return n;
}

static cs_error on_scalar(tree_builder *b, const yaml_event_t *e)
{
    if (in_map(b) && b->want_key) {
        b->pending_key = copy(b->arena, e->data.scalar.value, e->data.scalar.length);
        b->key_mark = e->start_mark;
        b->want_key = false;
        return CS_ERR_OK;
    }
    em_yaml *n = add(b, EM_YAML_SCALAR, e->data.scalar.tag, e->start_mark);
    if (!n) {
        return cs_arena_full(b->arena, b->diag);
    }
    n->text = copy(b->arena, e->data.scalar.value, e->data.scalar.length);
    n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return CS_ERR_OK;
}

static cs_error on_open(tree_builder *b, em_yaml_type type, const unsigned char *tag,
                        yaml_mark_t mark)
{
    if (in_map(b) && b->want_key) {
        return at(b->diag, mark, "a mapping key must be a plain value");
    }
    if (b->depth == YAML_MAX_DEPTH) {
        return at(b->diag, mark, "nested too deeply");
    }
    em_yaml *n = add(b, type, tag, mark);
    if (!n) {
        return cs_arena_full(b->arena, b->diag);
    }
    b->stack[b->depth++] = n;
    b->want_key = type == EM_YAML_MAP;
    return CS_ERR_OK;
}

static void on_close(tree_builder *b)
{
    b->depth--;
    b->want_key = in_map(b);
}

static cs_error on_event(tree_builder *b, const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(b, e);
    case YAML_MAPPING_START_EVENT:
        return on_open(b, EM_YAML_MAP, e->data.mapping_start.tag, e->start_mark);
    case YAML_SEQUENCE_START_EVENT:
        return on_open(b, EM_YAML_SEQ, e->data.sequence_start.tag, e->start_mark);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        on_close(b);
        return CS_ERR_OK;
    case YAML_ALIAS_EVENT:
        return at(b->diag, e->start_mark, "anchors and aliases are not supported");
    case YAML_DOCUMENT_START_EVENT:
        if (b->root) {
            return at(b->diag, e->start_mark, "only one YAML document is allowed");
        }
        return CS_ERR_OK;
    default:
        return CS_ERR_OK;
    }
}

cs_error em_yaml_parse(cs_arena *arena, cs_str text, em_yaml **out, cs_diag *diag)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "cannot start the YAML parser");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text.ptr, text.len);
    tree_builder b;
    memset(&b, 0, sizeof(b));
    b.arena = arena;
    b.diag = diag;
    cs_error result = CS_ERR_OK;
    bool done = false;
    while (!result && !done) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            result = at(diag, parser.problem_mark, parser.problem ? parser.problem : "bad YAML");
            break;
        }
        result = on_event(&b, &event);
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    if (!result && !b.root) {
        result = cs_diag_set(diag, CS_ERR_CONFIG, "the template is empty");
    }
    if (!result) {
        *out = b.root;
    }
    return result;
}

const em_yaml *em_yaml_get(const em_yaml *map, const char *key)
{
    if (!map || map->type != EM_YAML_MAP) {
        return NULL;
    }
    for (const em_yaml *c = map->first; c; c = c->next) {
        if (cs_str_eq_c(c->key, key)) {
            return c;
        }
    }
    return NULL;
}
