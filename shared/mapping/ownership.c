#include "ownership.h"

#include <string.h>

/* "path.key" in the arena, for problem locations. */
static const char *sub_path(cs_arena *arena, const char *path, cs_str key)
{
    const char *joined = cs_arena_sprintf(arena, "%s.%.*s", path, CS_STR_FMT(key));
    return joined ? joined : path;
}

static bool is_scalar(cs_field_type type)
{
    return type != CS_FIELD_STRUCT && type != CS_FIELD_ARRAY && type != CS_FIELD_IDS;
}

/* Compiles {"owner": ..., "mode": ...} for one field. */
static bool load_rule(cs_arena *arena, const cs_schema *schema, const cs_json *field,
                      const char *path, cs_own_rule *rule, cs_problems *problems)
{
    const char *where = sub_path(arena, path, field->key);
    bool ok = true;
    cs_diag diag;
    rule->field = field->key;
    if (cs_path_compile(schema, field->key, false, &rule->path, &diag)) {
        cs_problems_add(problems, where, "unknown_path", "%s", diag.message);
        ok = false;
    } else if (!is_scalar(rule->path.type)) {
        cs_problems_add(problems, where, "not_a_value", "ownership applies to single values");
        ok = false;
    }
    if (field->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, where, "type", "expected {\"owner\": ..., \"mode\": ...}");
        return false;
    }
    const cs_json *owner = cs_json_object_get(field, CS_STR_LIT("owner"));
    const cs_json *mode = cs_json_object_get(field, CS_STR_LIT("mode"));
    static const char *const modes[] = {"always", "unless_blank", "never"};
    size_t m = 0;
    if (mode) {
        while (m < 3 && !(mode->type == CS_JSON_STRING && cs_str_eq_c(mode->text, modes[m]))) {
            m++;
        }
        if (m == 3) {
            cs_problems_add(problems, sub_path(arena, where, CS_STR_LIT("mode")), "bad_value",
                            "one of always, unless_blank, never");
            ok = false;
        }
    }
    rule->mode = m < 3 ? (cs_own_mode)m : CS_OWN_NEVER;
    if (rule->mode != CS_OWN_NEVER &&
        (!owner || owner->type != CS_JSON_STRING || cs_system_parse(owner->text, &rule->owner))) {
        cs_problems_add(problems, sub_path(arena, where, CS_STR_LIT("owner")),
                        owner ? "unknown_system" : "required",
                        "the system of record for this field");
        ok = false;
    }
    for (const cs_json *k = field->first; k; k = k->next) {
        if (!cs_str_eq_c(k->key, "owner") && !cs_str_eq_c(k->key, "mode")) {
            cs_problems_add(problems, sub_path(arena, where, k->key), "unknown_key",
                            "a field takes owner and mode");
            ok = false;
        }
    }
    return ok;
}

cs_error cs_ownership_load(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                           const char *path, cs_ownership *out, cs_problems *problems)
{
    memset(out, 0, sizeof(*out));
    out->schema = schema;
    const cs_json *fields = cs_json_object_get(config, CS_STR_LIT("fields"));
    if (!fields || fields->type != CS_JSON_OBJECT || config->count != 1) {
        cs_problems_add(problems, path, "type", "expected {\"fields\": {path: rule, ...}}");
        return CS_ERR_CONFIG;
    }
    const char *where = sub_path(arena, path, CS_STR_LIT("fields"));
    out->rules = cs_arena_calloc(arena, fields->count ? fields->count : 1, sizeof(*out->rules));
    if (!out->rules) {
        return CS_ERR_ARENA_FULL;
    }
    bool ok = true;
    for (const cs_json *f = fields->first; f; f = f->next) {
        ok = load_rule(arena, schema, f, where, &out->rules[out->rule_count++], problems) && ok;
    }
    return ok ? CS_ERR_OK : CS_ERR_CONFIG;
}

static bool changed(const cs_value *a, const cs_value *b)
{
    return !cs_value_equal(a, b);
}

cs_error cs_ownership_merge(const cs_ownership *own, cs_system source, const void *incoming,
                            const void *current, const void *last_synced, void *merged,
                            cs_arena *arena, cs_merge_result *result)
{
    memset(result, 0, sizeof(*result));
    if (merged != current) {
        memcpy(merged, current, own->schema->size);
    }
    result->changed = cs_arena_calloc(arena, own->rule_count + 1, sizeof(*result->changed));
    result->conflicts = cs_arena_calloc(arena, own->rule_count + 1, sizeof(*result->conflicts));
    if (!result->changed || !result->conflicts) {
        return CS_ERR_ARENA_FULL;
    }
    for (size_t i = 0; i < own->rule_count; i++) {
        const cs_own_rule *rule = &own->rules[i];
        if (rule->mode == CS_OWN_NEVER) {
            continue;
        }
        cs_value in = cs_path_read(&rule->path, incoming);
        cs_value cur = cs_path_read(&rule->path, current);
        if (last_synced) {
            cs_value last = cs_path_read(&rule->path, last_synced);
            if (changed(&in, &last) && changed(&cur, &last) && changed(&in, &cur)) {
                cs_conflict *c = &result->conflicts[result->conflict_count++];
                c->field = rule->field;
                c->incoming = cs_value_text(&in, arena);
                c->current = cs_value_text(&cur, arena);
                c->last = cs_value_text(&last, arena);
                c->winner = rule->owner;
            }
        }
        bool writes = rule->owner == source && changed(&in, &cur) &&
                      !(rule->mode == CS_OWN_UNLESS_BLANK && !in.present);
        if (writes) {
            cs_error r = cs_path_store(&rule->path, merged, &in);
            if (r) {
                return r;
            }
            result->changed[result->changed_count++] = rule->field;
        }
    }
    return CS_ERR_OK;
}

void cs_ownership_log_conflicts(const cs_merge_result *result, cs_logger *log)
{
    for (size_t i = 0; i < result->conflict_count; i++) {
        const cs_conflict *c = &result->conflicts[i];
        CS_LOG(log, CS_LOG_WARN, "field changed on both sides since the last sync; owner wins",
               CS_LOG_STR("field", c->field), CS_LOG_STR("incoming", c->incoming),
               CS_LOG_STR("current", c->current), CS_LOG_STR("lastSynced", c->last),
               CS_LOG_CSTR("winner", cs_system_name(c->winner)));
    }
}
