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

/* Ownership and identity sections are keyed by entity name and load the
 * same way; these adapters give their loaders one signature. */
typedef cs_error (*entity_loader)(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                                  const char *path, void *out, cs_problems *problems);

static cs_error ownership_loader(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                                 const char *path, void *out, cs_problems *problems)
{
    return cs_ownership_load(arena, schema, config, path, out, problems);
}

static cs_error identity_loader(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                                const char *path, void *out, cs_problems *problems)
{
    return cs_identity_load(arena, schema, config, path, out, problems);
}

static cs_error load_per_entity(cs_arena *arena, const char *name, const cs_json *section,
                                size_t item_size, entity_loader load, void **items, size_t *count,
                                cs_problems *problems)
{
    cs_error result = CS_ERR_OK;
    char *array = cs_arena_calloc(arena, section->count + 1, item_size);
    if (!array) {
        return CS_ERR_ARENA_FULL;
    }
    *items = array;
    for (const cs_json *e = section->first; e; e = e->next) {
        const char *path = member_path(arena, name, e->key);
        const cs_schema *schema = cs_schema_find(e->key);
        cs_error r = CS_ERR_CONFIG;
        if (!schema) {
            cs_problems_add(problems, path, "unknown_entity",
                            "one of order, customer, product, stock_level, shipment, return");
        } else {
            r = load(arena, schema, e, path, array + (*count)++ * item_size, problems);
        }
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
        load_per_entity(arena, "ownership", own ? own : &empty, sizeof(cs_ownership),
                        ownership_loader, (void **)&m->ownership, &m->ownership_count, problems),
        load_per_entity(arena, "identity", ident ? ident : &empty, sizeof(cs_identity),
                        identity_loader, (void **)&m->identity, &m->identity_count, problems),
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
