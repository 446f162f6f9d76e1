#include "fields.h"

#include <string.h>

cs_str cs_shopify_text(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

const cs_json *cs_shopify_object(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_OBJECT ? v : NULL;
}

cs_str cs_shopify_gid_tail(cs_str id)
{
    return cs_str_starts_with(id, CS_STR_LIT("gid://")) ? cs_str_after_last(id, '/') : id;
}

cs_str cs_shopify_id(const cs_json *obj, const char *key)
{
    return cs_shopify_gid_tail(cs_shopify_text(obj, key));
}

const cs_json *cs_shopify_list(const cs_json *obj, const char *key, size_t *count, bool *edges)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    *edges = false;
    if (v && v->type == CS_JSON_OBJECT) {
        const cs_json *e = cs_json_object_get(v, CS_STR_LIT("edges"));
        *edges = e && e->type == CS_JSON_ARRAY;
        v = *edges ? e : cs_json_object_get(v, CS_STR_LIT("nodes"));
    }
    if (!v || v->type != CS_JSON_ARRAY) {
        *count = 0;
        return NULL;
    }
    *count = v->count;
    return v->first;
}

const cs_json *cs_shopify_node(const cs_json *element, bool edges)
{
    return edges ? cs_json_object_get(element, CS_STR_LIT("node")) : element;
}

cs_str cs_shopify_lower(cs_arena *arena, cs_str s)
{
    char *copy = cs_arena_strndup(arena, s);
    for (size_t i = 0; copy && i < s.len; i++) {
        copy[i] = (char)(copy[i] >= 'A' && copy[i] <= 'Z' ? copy[i] - 'A' + 'a' : copy[i]);
    }
    return copy ? cs_str_make(copy, s.len) : s;
}

void cs_shopify_address(const cs_json *a, bool graphql, cs_address *out)
{
    if (!a || a->type != CS_JSON_OBJECT) {
        return;
    }
    out->first_name = cs_shopify_text(a, graphql ? "firstName" : "first_name");
    out->last_name = cs_shopify_text(a, graphql ? "lastName" : "last_name");
    out->company = cs_shopify_text(a, "company");
    out->line1 = cs_shopify_text(a, "address1");
    out->line2 = cs_shopify_text(a, "address2");
    out->city = cs_shopify_text(a, "city");
    out->region = cs_shopify_text(a, graphql ? "provinceCode" : "province_code");
    out->postal_code = cs_shopify_text(a, "zip");
    out->country = cs_shopify_text(a, graphql ? "countryCodeV2" : "country_code");
    out->phone = cs_shopify_text(a, "phone");
}

cs_str cs_shopify_provenance(const cs_json *obj, const char *kind, cs_arena *arena,
                             cs_record_meta *meta, cs_ids *ids)
{
    cs_str id = cs_shopify_id(obj, "id");
    meta->source = CS_SYS_SHOPIFY;
    meta->source_id = id;
    ids->by_system[CS_SYS_SHOPIFY] = id;
    /* Built by hand: decoding an order runs this for every record of a
     * backfill, and formatting would be most of its cost. */
    size_t kind_len = strlen(kind), len = 8 + kind_len + 1 + id.len;
    char *correlation = cs_arena_alloc(arena, len + 1);
    if (correlation) {
        memcpy(correlation, "shopify:", 8);
        memcpy(correlation + 8, kind, kind_len);
        correlation[8 + kind_len] = ':';
        memcpy(correlation + 9 + kind_len, id.ptr ? id.ptr : "", id.len);
        correlation[len] = '\0';
        meta->correlation_id = cs_str_make(correlation, len);
    }
    return id;
}
