#include "mapping.h"

#include <string.h>

/* "section.name" in the arena, for problem locations. */
static const char *member_path(cs_arena *arena, const char *section, cs_str name)
{
    const char *joined = cs_arena_sprintf(arena, "%s.%.*s", section, CS_STR_FMT(name));
    return joined ? joined : section;
}

static const cs_json *section(const cs_json *config, const char *name, cs_problems *problems)
{
    const cs_json *s = cs_json_object_get(config, cs_str_from_c(name));
    if (s && s->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, name, "type", "expected an object");
        return NULL;
    }
    return s;
}

static cs_error load_lookups(cs_arena *arena, const cs_json *lookups, cs_mapping *m,
                             cs_problems *problems)
{
    cs_error result = CS_ERR_OK;
    m->lookups = cs_arena_calloc(arena, lookups->count + 1, sizeof(*m->lookups));
    if (!m->lookups) {
        return CS_ERR_ARENA_FULL;
    }
    for (const cs_json *t = lookups->first; t; t = t->next) {
        cs_error r = cs_lookup_load(arena, t->key, t, member_path(arena, "lookups", t->key),
                                    &m->lookups[m->lookup_count++], problems);
        result = result ? result : r;
    }
    return result;
}

static cs_error load_maps(cs_arena *arena, const cs_json *maps, cs_mapping *m,
                          cs_problems *problems)
{
    cs_error result = CS_ERR_OK;
    m->maps = cs_arena_calloc(arena, maps->count + 1, sizeof(*m->maps));
    if (!m->maps) {
        return CS_ERR_ARENA_FULL;
    }
    for (const cs_json *map = maps->first; map; map = map->next) {
        cs_error r =
            cs_fieldmap_load(arena, map->key, map, member_path(arena, "maps", map->key), m->lookups,
                             m->lookup_count, &m->maps[m->map_count++], problems);
        result = result ? result : r;
    }
    return result;
}

/* Ownership and identity sections are keyed by entity name. */
static const cs_schema *entity_schema(cs_arena *arena, const char *name, const cs_json *entry,
                                      cs_problems *problems)
{
    const cs_schema *schema = cs_schema_find(entry->key);
    if (!schema) {
        cs_problems_add(problems, member_path(arena, name, entry->key), "unknown_entity",
                        "one of order, customer, product, stock_level, shipment, return");
    }
    return schema;
}

static cs_error load_ownership(cs_arena *arena, const cs_json *own, cs_mapping *m,
                               cs_problems *problems)
{
    cs_error result = CS_ERR_OK;
    m->ownership = cs_arena_calloc(arena, own->count + 1, sizeof(*m->ownership));
    if (!m->ownership) {
        return CS_ERR_ARENA_FULL;
    }
    for (const cs_json *e = own->first; e; e = e->next) {
        const cs_schema *schema = entity_schema(arena, "ownership", e, problems);
        cs_error r =
            schema ? cs_ownership_load(arena, schema, e, member_path(arena, "ownership", e->key),
                                       &m->ownership[m->ownership_count++], problems)
                   : CS_ERR_CONFIG;
        result = result ? result : r;
    }
    return result;
}

static cs_error load_identity(cs_arena *arena, const cs_json *ident, cs_mapping *m,
                              cs_problems *problems)
{
    cs_error result = CS_ERR_OK;
    m->identity = cs_arena_calloc(arena, ident->count + 1, sizeof(*m->identity));
    if (!m->identity) {
        return CS_ERR_ARENA_FULL;
    }
    for (const cs_json *e = ident->first; e; e = e->next) {
        const cs_schema *schema = entity_schema(arena, "identity", e, problems);
        cs_error r =
            schema ? cs_identity_load(arena, schema, e, member_path(arena, "identity", e->key),
                                      &m->identity[m->identity_count++], problems)
                   : CS_ERR_CONFIG;
        result = result ? result : r;
    }
    return result;
}

cs_error cs_mapping_load(cs_arena *arena, const cs_json *config, cs_mapping **out,
                         cs_problems *problems)
{
    cs_mapping *m = cs_arena_calloc(arena, 1, sizeof(*m));
    if (!m) {
        return CS_ERR_ARENA_FULL;
    }
    if (!config || config->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, "", "type", "the config is a JSON object");
        return CS_ERR_CONFIG;
    }
    size_t before = cs_problems_total(problems);
    static const cs_json empty = {.type = CS_JSON_OBJECT};
    const cs_json *lookups = section(config, "lookups", problems);
    const cs_json *maps = section(config, "maps", problems);
    const cs_json *own = section(config, "ownership", problems);
    const cs_json *ident = section(config, "identity", problems);
    /* Every section is loaded even after a failure, so all problems show. */
    cs_error results[] = {
        load_lookups(arena, lookups ? lookups : &empty, m, problems),
        load_maps(arena, maps ? maps : &empty, m, problems),
        load_ownership(arena, own ? own : &empty, m, problems),
        load_identity(arena, ident ? ident : &empty, m, problems),
    };
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
        if (results[i] == CS_ERR_ARENA_FULL) {
            return CS_ERR_ARENA_FULL;
        }
    }
    if (cs_problems_total(problems) != before) {
        return CS_ERR_CONFIG;
    }
    *out = m;
    return CS_ERR_OK;
}

const cs_fieldmap *cs_mapping_map(const cs_mapping *m, cs_str name)
{
    for (size_t i = 0; i < m->map_count; i++) {
        if (cs_str_eq(m->maps[i].name, name)) {
            return &m->maps[i];
        }
    }
    return NULL;
}

const cs_lookup *cs_mapping_lookup(const cs_mapping *m, cs_str name)
{
    for (size_t i = 0; i < m->lookup_count; i++) {
        if (cs_str_eq(m->lookups[i].name, name)) {
            return &m->lookups[i];
        }
    }
    return NULL;
}

const cs_ownership *cs_mapping_ownership(const cs_mapping *m, const cs_schema *entity)
{
    for (size_t i = 0; i < m->ownership_count; i++) {
        if (m->ownership[i].schema == entity) {
            return &m->ownership[i];
        }
    }
    return NULL;
}

const cs_identity *cs_mapping_identity(const cs_mapping *m, const cs_schema *entity)
{
    for (size_t i = 0; i < m->identity_count; i++) {
        if (m->identity[i].schema == entity) {
            return &m->identity[i];
        }
    }
    return NULL;
}
