#include "identity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

cs_str cs_normalize_email(cs_str email, cs_arena *arena)
{
    cs_str t = cs_str_trim(email);
    char *out = cs_arena_alloc(arena, t.len + 1);
    if (!out) {
        return CS_STR_NULL;
    }
    for (size_t i = 0; i < t.len; i++) {
        out[i] = lower(t.ptr[i]);
    }
    out[t.len] = '\0';
    return cs_str_make(out, t.len);
}

cs_str cs_normalize_postal_code(cs_str postal_code, cs_arena *arena)
{
    char *out = cs_arena_alloc(arena, postal_code.len + 1);
    if (!out) {
        return CS_STR_NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < postal_code.len; i++) {
        char c = postal_code.ptr[i];
        if (c != ' ' && c != '-' && c != '\t') {
            out[n++] = upper(c);
        }
    }
    out[n] = '\0';
    return cs_str_make(out, n);
}

/* Legal forms that do not tell two companies apart. */
static bool is_legal_suffix(cs_str word)
{
    static const char *const suffixes[] = {
        "inc",     "incorporated", "llc",  "ltd", "limited", "gmbh", "bv",  "nv",   "ag",
        "sa",      "sas",          "sarl", "srl", "spa",     "plc",  "co",  "corp", "corporation",
        "company", "kg",           "oy",   "ab",  "as",      "aps",  "pty", "se",
    };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (cs_str_eq_c(word, suffixes[i])) {
            return true;
        }
    }
    return false;
}

static bool is_alnum_or_utf8(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

cs_str cs_normalize_company(cs_str company, cs_arena *arena)
{
    /* Lower-case, punctuation dropped ("B.V." -> "bv"), words separated by
     * one space, legal suffix words removed. */
    char *out = cs_arena_alloc(arena, company.len + 1);
    if (!out) {
        return CS_STR_NULL;
    }
    size_t n = 0;
    size_t word_start = 0;
    for (size_t i = 0; i <= company.len; i++) {
        char c = i < company.len ? lower(company.ptr[i]) : ' ';
        if (is_alnum_or_utf8((unsigned char)c)) {
            out[n++] = c;
            continue;
        }
        if (c == '.' || c == '\'' || c == '&') {
            continue; /* "B.V." and "O'Neil" stay one word */
        }
        if (n > word_start && is_legal_suffix(cs_str_make(out + word_start, n - word_start))) {
            n = word_start;
        }
        if (n > 0 && out[n - 1] != ' ') {
            out[n++] = ' ';
        }
        word_start = n;
    }
    while (n > 0 && out[n - 1] == ' ') {
        n--;
    }
    out[n] = '\0';
    return cs_str_make(out, n);
}

cs_error cs_identity_load(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                          const char *path, cs_identity *out, cs_problems *problems)
{
    memset(out, 0, sizeof(*out));
    out->schema = schema;
    const cs_json *keys = cs_json_object_get(config, CS_STR_LIT("keys"));
    if (schema != &cs_schema_customer) {
        cs_problems_add(problems, path, "unknown_entity", "identity matching is for customers");
        return CS_ERR_CONFIG;
    }
    if (!keys || keys->type != CS_JSON_ARRAY || keys->count == 0 || config->count != 1) {
        cs_problems_add(problems, path, "type", "expected {\"keys\": [key, ...]}");
        return CS_ERR_CONFIG;
    }
    out->keys = cs_arena_calloc(arena, keys->count, sizeof(*out->keys));
    if (!out->keys) {
        return CS_ERR_ARENA_FULL;
    }
    bool ok = true;
    size_t i = 0;
    for (const cs_json *k = keys->first; k; k = k->next, i++) {
        const char *where = cs_arena_sprintf(arena, "%s.keys[%zu]", path, i);
        cs_identity_key *key = &out->keys[out->key_count++];
        cs_diag diag;
        if (k->type != CS_JSON_STRING) {
            cs_problems_add(problems, where, "type", "a key is a string");
            ok = false;
            continue;
        }
        key->name = k->text;
        if (cs_str_eq_c(k->text, "company+postal_code")) {
            key->kind = CS_KEY_COMPANY_POSTAL;
        } else if (cs_path_compile(schema, k->text, false, &key->path, &diag)) {
            cs_problems_add(problems, where, "unknown_path", "%s", diag.message);
            ok = false;
        } else if (key->path.type != CS_FIELD_STR) {
            cs_problems_add(problems, where, "type", "a key must be a text field");
            ok = false;
        } else {
            key->kind = cs_str_eq_c(k->text, "email") ? CS_KEY_EMAIL : CS_KEY_EXACT;
        }
    }
    return ok ? CS_ERR_OK : CS_ERR_CONFIG;
}

/* The normalized key value of a customer; empty when it has none. */
static cs_str key_value(const cs_identity_key *key, const cs_customer *c, cs_arena *arena)
{
    if (key->kind == CS_KEY_COMPANY_POSTAL) {
        if (c->company.len == 0 || c->address_count == 0 || c->addresses[0].postal_code.len == 0) {
            return CS_STR_NULL;
        }
        cs_str company = cs_normalize_company(c->company, arena);
        cs_str postal = cs_normalize_postal_code(c->addresses[0].postal_code, arena);
        char *joined =
            cs_arena_sprintf(arena, "%.*s|%.*s", CS_STR_FMT(company), CS_STR_FMT(postal));
        return company.len && postal.len && joined ? cs_str_from_c(joined) : CS_STR_NULL;
    }
    cs_value v = cs_path_read(&key->path, c);
    if (!v.present) {
        return CS_STR_NULL;
    }
    return key->kind == CS_KEY_EMAIL ? cs_normalize_email(v.str, arena) : cs_str_trim(v.str);
}

cs_error cs_identity_match(const cs_identity *id, const cs_customer *incoming,
                           const cs_customer *candidates, size_t count, cs_arena *arena,
                           cs_match *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < id->key_count; k++) {
        const cs_identity_key *key = &id->keys[k];
        cs_str want = key_value(key, incoming, arena);
        if (want.len == 0) {
            continue;
        }
        size_t hits = 0;
        for (size_t i = 0; i < count; i++) {
            if (!cs_str_eq(key_value(key, &candidates[i], arena), want)) {
                continue;
            }
            if (hits < CS_MATCH_MAX_CANDIDATES) {
                out->candidates[hits] = i;
            }
            hits++;
        }
        if (hits == 0) {
            continue;
        }
        out->key = key->name;
        if (hits == 1) {
            out->kind = CS_MATCH_ONE;
            out->index = out->candidates[0];
        } else {
            out->kind = CS_MATCH_AMBIGUOUS;
            out->candidate_count = hits;
        }
        return CS_ERR_OK;
    }
    return CS_ERR_OK;
}

/* ---- the index ---- */

/* One key value of one candidate: open addressing, never deleted (a
 * stale entry fails the check on lookup). key is the key's number + 1;
 * 0 marks a free slot. */
typedef struct index_slot {
    uint64_t hash;
    uint32_t key;
    uint32_t position;
} index_slot;

struct cs_identity_index {
    const cs_identity *id;
    index_slot *slots;
    size_t cap, used; /* cap a power of two */
};

static uint64_t value_hash(size_t key, cs_str value)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)key;
    for (size_t i = 0; i < value.len; i++) {
        h = (h ^ (unsigned char)value.ptr[i]) * 1099511628211ULL;
    }
    return h;
}

cs_identity_index *cs_identity_index_new(const cs_identity *id)
{
    cs_identity_index *ix = calloc(1, sizeof(*ix));
    if (ix) {
        ix->id = id;
    }
    return ix;
}

void cs_identity_index_free(cs_identity_index *ix)
{
    if (ix) {
        free(ix->slots);
        free(ix);
    }
}

/* Puts a slot in the table unless it is there already; whether it did. */
static bool slot_put(index_slot *slots, size_t cap, index_slot s)
{
    for (size_t i = (size_t)s.hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!slots[i].key) {
            slots[i] = s;
            return true;
        }
        if (slots[i].hash == s.hash && slots[i].key == s.key && slots[i].position == s.position) {
            return false;
        }
    }
}

static cs_error grow(cs_identity_index *ix)
{
    size_t cap = ix->cap ? 2 * ix->cap : 1024;
    index_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots) {
        return CS_ERR_NOMEM;
    }
    for (size_t i = 0; i < ix->cap; i++) {
        if (ix->slots[i].key) {
            slot_put(slots, cap, ix->slots[i]);
        }
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return CS_ERR_OK;
}

cs_error cs_identity_index_add(cs_identity_index *ix, const cs_customer *candidate, size_t position,
                               cs_arena *scratch)
{
    if (position >= UINT32_MAX) {
        return CS_ERR_NOMEM;
    }
    for (size_t k = 0; k < ix->id->key_count; k++) {
        cs_str value = key_value(&ix->id->keys[k], candidate, scratch);
        if (!value.len) {
            continue;
        }
        if ((ix->used + 1) * 10 > ix->cap * 7 && grow(ix)) {
            return CS_ERR_NOMEM;
        }
        index_slot s = {value_hash(k, value), (uint32_t)k + 1, (uint32_t)position};
        ix->used += slot_put(ix->slots, ix->cap, s);
    }
    return CS_ERR_OK;
}

/* Keeps the smallest positions, in order, as the scan would meet them. */
static void hit(cs_match *out, size_t position)
{
    size_t n = out->candidate_count < CS_MATCH_MAX_CANDIDATES ? out->candidate_count
                                                              : CS_MATCH_MAX_CANDIDATES;
    size_t at = n;
    while (at > 0 && out->candidates[at - 1] > position) {
        at--;
    }
    if (at < CS_MATCH_MAX_CANDIDATES) {
        size_t last = n < CS_MATCH_MAX_CANDIDATES ? n : CS_MATCH_MAX_CANDIDATES - 1;
        memmove(&out->candidates[at + 1], &out->candidates[at], (last - at) * sizeof(size_t));
        out->candidates[at] = position;
    }
    out->candidate_count++;
}

cs_error cs_identity_match_indexed(const cs_identity_index *ix, const cs_customer *incoming,
                                   const cs_customer *candidates, size_t count, cs_arena *arena,
                                   cs_match *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < ix->id->key_count && ix->cap; k++) {
        const cs_identity_key *key = &ix->id->keys[k];
        cs_str want = key_value(key, incoming, arena);
        if (want.len == 0) {
            continue;
        }
        uint64_t h = value_hash(k, want);
        for (size_t i = (size_t)h & (ix->cap - 1); ix->slots[i].key; i = (i + 1) & (ix->cap - 1)) {
            const index_slot *s = &ix->slots[i];
            if (s->hash == h && s->key == k + 1 && s->position < count &&
                cs_str_eq(key_value(key, &candidates[s->position], arena), want)) {
                hit(out, s->position);
            }
        }
        if (out->candidate_count == 0) {
            continue;
        }
        out->key = key->name;
        if (out->candidate_count == 1) {
            out->kind = CS_MATCH_ONE;
            out->index = out->candidates[0];
            out->candidate_count = 0; /* as the scan leaves it */
        } else {
            out->kind = CS_MATCH_AMBIGUOUS;
        }
        return CS_ERR_OK;
    }
    return CS_ERR_OK;
}

void cs_match_write_review(const cs_match *match, const cs_customer *incoming,
                           const cs_customer *candidates, cs_json_writer *w)
{
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "kind");
    cs_json_write_string_c(w, "identity_ambiguous");
    cs_json_write_key_c(w, "key");
    cs_json_write_string(w, match->key);
    cs_json_write_key_c(w, "matches");
    cs_json_write_int64(w, (int64_t)match->candidate_count);
    cs_json_write_key_c(w, "incoming");
    cs_record_encode(&cs_schema_customer, incoming, w);
    cs_json_write_key_c(w, "candidates");
    cs_json_write_array_begin(w);
    size_t shown = match->candidate_count < CS_MATCH_MAX_CANDIDATES ? match->candidate_count
                                                                    : CS_MATCH_MAX_CANDIDATES;
    for (size_t i = 0; i < shown; i++) {
        cs_record_encode(&cs_schema_customer, &candidates[match->candidates[i]], w);
    }
    cs_json_write_array_end(w);
    cs_json_write_object_end(w);
}
