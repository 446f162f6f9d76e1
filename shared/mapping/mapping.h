/* The mapping part of an integration's config, loaded and checked at init:
 *
 *   {
 *     "lookups":   { name: table, ... }        lookup.h
 *     "maps":      { name: field map, ... }    fieldmap.h
 *     "ownership": { entity: rules, ... }      ownership.h
 *     "identity":  { entity: keys, ... }       identity.h
 *     ...other sections belong to the flows and are left alone...
 *   }
 *
 * A bad config is rejected with every problem listed, each with its JSON
 * path, before any record is touched. */
#ifndef CS_MAPPING_MAPPING_H
#define CS_MAPPING_MAPPING_H

#include "fieldmap.h"
#include "identity.h"
#include "lookup.h"
#include "ownership.h"

typedef struct cs_mapping {
    cs_lookup *lookups;
    size_t lookup_count;
    cs_fieldmap *maps;
    size_t map_count;
    cs_ownership *ownership; /* one per entity that has rules */
    size_t ownership_count;
    cs_identity *identity; /* one per entity that has keys */
    size_t identity_count;
} cs_mapping;

/* Loads every section; *out lives in arena and points into config. Returns
 * CS_ERR_CONFIG (problems listed) or CS_ERR_ARENA_FULL. */
cs_error cs_mapping_load(cs_arena *arena, const cs_json *config, cs_mapping **out,
                         cs_problems *problems);

/* NULL when there is none of that name or entity. */
const cs_fieldmap *cs_mapping_map(const cs_mapping *m, cs_str name);
const cs_lookup *cs_mapping_lookup(const cs_mapping *m, cs_str name);
const cs_ownership *cs_mapping_ownership(const cs_mapping *m, const cs_schema *entity);
const cs_identity *cs_mapping_identity(const cs_mapping *m, const cs_schema *entity);

#endif
