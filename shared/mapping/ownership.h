/* Field ownership: each field of a shared entity has one system of record,
 * so two systems never overwrite each other back and forth.
 *
 *   "ownership": {
 *     "customer": {
 *       "fields": {
 *         "email":        {"owner": "commercetools"},
 *         "account_code": {"owner": "exactmax", "mode": "unless_blank"},
 *         "phone":        {"owner": "salesforce"},
 *         "company":      {"mode": "never"}
 *       }
 *     }
 *   }
 *
 * Modes: "always" (the default: the owner's value is written whenever the
 * owner sends one, blank included), "unless_blank" (a blank from the owner
 * leaves the target as it is), "never" (the field is not synced). Fields not
 * listed are not synced. A field changed on both sides since the last sync
 * is a conflict: reported with both values, and the owner wins. */
#ifndef CS_MAPPING_OWNERSHIP_H
#define CS_MAPPING_OWNERSHIP_H

#include "core/json.h"
#include "core/log.h"
#include "core/problems.h"
#include "model/schema.h"

typedef enum cs_own_mode { CS_OWN_ALWAYS, CS_OWN_UNLESS_BLANK, CS_OWN_NEVER } cs_own_mode;

typedef struct cs_own_rule {
    cs_str field; /* as written in the config */
    cs_path path;
    cs_system owner;
    cs_own_mode mode;
} cs_own_rule;

typedef struct cs_ownership {
    const cs_schema *schema;
    cs_own_rule *rules;
    size_t rule_count;
} cs_ownership;

cs_error cs_ownership_load(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                           const char *path, cs_ownership *out, cs_problems *problems);

typedef struct cs_conflict {
    cs_str field;
    cs_str incoming; /* the source's value, as text */
    cs_str current;  /* the target's value, as text */
    cs_str last;     /* the value at the last sync, as text */
    cs_system winner;
} cs_conflict;

typedef struct cs_merge_result {
    cs_str *changed; /* fields the merge wrote */
    size_t changed_count;
    cs_conflict *conflicts;
    size_t conflict_count;
} cs_merge_result;

/* Merges `incoming` (a record from `source`) into a copy of `current` (the
 * target's record), writing only the fields `source` owns, into `merged`
 * (a struct of the same shape; may be `current` itself). `last_synced` is
 * the record as it was after the previous sync, or NULL on the first sync
 * (no conflicts can be told then). Lists and texts live in arena. */
cs_error cs_ownership_merge(const cs_ownership *own, cs_system source, const void *incoming,
                            const void *current, const void *last_synced, void *merged,
                            cs_arena *arena, cs_merge_result *result);

/* Logs each conflict as one WARN line with the field, the three values and
 * the winner, under the logger's current correlation id. */
void cs_ownership_log_conflicts(const cs_merge_result *result, cs_logger *log);

#endif
