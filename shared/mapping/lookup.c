#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int compare_keys(cs_str a, cs_str b, bool ignore_case)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a.ptr[i];
        int y = (unsigned char)b.ptr[i];
        if (ignore_case) {
            x = ascii_lower(x);
            y = ascii_lower(y);
        }
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static int compare_entries(const void *a, const void *b, void *ignore_case)
{
    return compare_keys(((const cs_lookup_entry *)a)->key, ((const cs_lookup_entry *)b)->key,
                        *(const bool *)ignore_case);
}

static bool row_is_valid(const cs_json *value)
{
    if (value->type == CS_JSON_STRING) {
        return true;
    }
    if (value->type != CS_JSON_OBJECT) {
        return false;
    }
    for (const cs_json *col = value->first; col; col = col->next) {
        if (col->type != CS_JSON_STRING) {
            return false;
        }
    }
    return true;
}

static void check_entries(const cs_lookup *t, const char *path, cs_problems *problems)
{
    for (size_t i = 0; i < t->count; i++) {
        if (!row_is_valid(t->entries[i].value)) {
            char where[256];
            snprintf(where, sizeof(where), "%s.values.%.*s", path, CS_STR_FMT(t->entries[i].key));
            cs_problems_add(problems, where, "type",
                            "expected a string or an object of string columns");
        }
        if (i > 0 && compare_keys(t->entries[i - 1].key, t->entries[i].key, t->ignore_case) == 0) {
            char where[256];
            snprintf(where, sizeof(where), "%s.values.%.*s", path, CS_STR_FMT(t->entries[i].key));
            cs_problems_add(problems, where, "duplicate_key", "key appears twice%s",
                            t->ignore_case ? " (ignoring case)" : "");
        }
    }
}

cs_error cs_lookup_load(cs_arena *arena, cs_str name, const cs_json *config, const char *path,
                        cs_lookup *out, cs_problems *problems)
{
    size_t before = cs_problems_total(problems);
    memset(out, 0, sizeof(*out));
    out->name = name;
    if (!config || config->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, path, "type", "a lookup table is an object with \"values\"");
        return CS_ERR_CONFIG;
    }
    const cs_json *values = NULL;
    for (const cs_json *m = config->first; m; m = m->next) {
        char where[256];
        snprintf(where, sizeof(where), "%s.%.*s", path, CS_STR_FMT(m->key));
        if (cs_str_eq_c(m->key, "values") && m->type == CS_JSON_OBJECT) {
            values = m;
        } else if (cs_str_eq_c(m->key, "ignore_case") && m->type == CS_JSON_BOOL) {
            out->ignore_case = m->boolean;
        } else if (cs_str_eq_c(m->key, "values") || cs_str_eq_c(m->key, "ignore_case")) {
            cs_problems_add(problems, where, "type", "expected %s",
                            cs_str_eq_c(m->key, "values") ? "an object" : "true or false");
        } else {
            cs_problems_add(problems, where, "unknown_key", "lookups take values and ignore_case");
        }
    }
    if (!values) {
        cs_problems_add(problems, path, "required", "\"values\" is missing");
        return CS_ERR_CONFIG;
    }
    out->entries = cs_arena_calloc(arena, values->count ? values->count : 1, sizeof(*out->entries));
    if (!out->entries) {
        return CS_ERR_ARENA_FULL;
    }
    for (const cs_json *m = values->first; m; m = m->next) {
        out->entries[out->count].key = m->key;
        out->entries[out->count].value = m;
        out->count++;
    }
    qsort_r(out->entries, out->count, sizeof(*out->entries), compare_entries, &out->ignore_case);
    check_entries(out, path, problems);
    return cs_problems_total(problems) == before ? CS_ERR_OK : CS_ERR_CONFIG;
}

static const cs_lookup_entry *find_entry(const cs_lookup *t, cs_str key)
{
    size_t lo = 0;
    size_t hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_keys(t->entries[mid].key, key, t->ignore_case);
        if (c == 0) {
            return &t->entries[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

bool cs_lookup_find(const cs_lookup *table, cs_str key, cs_str column, cs_str *out)
{
    const cs_lookup_entry *e = find_entry(table, key);
    if (!e) {
        return false;
    }
    const cs_json *value = e->value;
    if (column.len) {
        value = cs_json_object_get(value, column);
    }
    if (!value || value->type != CS_JSON_STRING) {
        return false;
    }
    *out = value->text;
    return true;
}

bool cs_lookup_has_column(const cs_lookup *table, cs_str column)
{
    for (size_t i = 0; i < table->count; i++) {
        if (cs_json_object_get(table->entries[i].value, column)) {
            return true;
        }
    }
    return false;
}

cs_error cs_lookup_reverse(cs_arena *arena, const cs_lookup *table, const char *path,
                           cs_lookup *out, cs_problems *problems)
{
    *out = (cs_lookup){.name = table->name, .ignore_case = false};
    out->entries = cs_arena_calloc(arena, table->count ? table->count : 1, sizeof(*out->entries));
    cs_json *keys = cs_arena_calloc(arena, table->count ? table->count : 1, sizeof(cs_json));
    if (!out->entries || !keys) {
        return CS_ERR_ARENA_FULL;
    }
    for (size_t i = 0; i < table->count; i++) {
        const cs_lookup_entry *e = &table->entries[i];
        if (e->value->type == CS_JSON_STRING) {
            keys[out->count] = (cs_json){.type = CS_JSON_STRING, .text = e->key};
            out->entries[out->count] =
                (cs_lookup_entry){.key = e->value->text, .value = &keys[out->count]};
            out->count++;
        }
    }
    bool ignore_case = false;
    qsort_r(out->entries, out->count, sizeof(*out->entries), compare_entries, &ignore_case);
    size_t before = cs_problems_total(problems);
    for (size_t i = 1; i < out->count; i++) {
        if (compare_keys(out->entries[i - 1].key, out->entries[i].key, false) == 0) {
            cs_problems_add(problems, path, "ambiguous", "'%.*s' is the value of two keys",
                            CS_STR_FMT(out->entries[i].key));
        }
    }
    return cs_problems_total(problems) > before ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}
