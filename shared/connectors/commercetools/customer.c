#include "customer.h"

#include <string.h>

#include "core/timestamp.h"
#include "mapping/identity.h"
#include "order.h"

static cs_str text(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

static const cs_json *object(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_OBJECT ? v : NULL;
}

/* obj's "addresses", in their order. */
static void read_addresses(const cs_json *obj, cs_arena *arena, cs_customer *out)
{
    const cs_json *addresses = cs_json_object_get(obj, CS_STR_LIT("addresses"));
    size_t n = addresses && addresses->type == CS_JSON_ARRAY ? addresses->count : 0;
    out->addresses = n ? cs_arena_calloc(arena, n, sizeof(cs_address)) : NULL;
    out->address_count = out->addresses ? n : 0;
    size_t i = 0;
    for (const cs_json *a = out->addresses ? addresses->first : NULL; a; a = a->next, i++) {
        cs_commercetools_address(a, arena, &out->addresses[i]);
    }
}

cs_error cs_commercetools_customer_decode(const cs_json *c, cs_arena *arena, cs_customer *out,
                                          cs_problems *problems)
{
    memset(out, 0, sizeof(*out));
    if (!c || c->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, "", "type", "a customer is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    cs_error r = CS_ERR_OK;
    cs_str id = text(c, "id");
    if (id.len == 0) {
        cs_problems_add(problems, "id", "required", "the customer has no id");
        r = CS_ERR_INVALID_ARGUMENT;
    }
    out->meta.source = CS_SYS_COMMERCETOOLS;
    out->meta.source_id = id;
    out->meta.source_version = text(c, "version");
    out->meta.correlation_id =
        cs_str_from_c(cs_arena_sprintf(arena, "commercetools:customer:%.*s", CS_STR_FMT(id)));
    cs_diag diag;
    cs_str modified = text(c, "lastModifiedAt");
    if (modified.len && cs_time_parse_rfc3339(modified, &out->meta.updated_at_ms, NULL, &diag)) {
        cs_problems_add(problems, "lastModifiedAt", "rfc3339", "%s", diag.message);
        r = CS_ERR_INVALID_ARGUMENT;
    }
    out->ids.by_system[CS_SYS_COMMERCETOOLS] = id;
    out->email = cs_normalize_email(text(c, "email"), arena);
    out->first_name = text(c, "firstName");
    out->last_name = text(c, "lastName");
    out->company = text(c, "companyName");
    out->b2b = out->company.len > 0;
    out->tax_exempt_id = text(c, "vatId");
    out->locale = text(c, "locale");
    out->account_code = text(c, "customerNumber");
    const cs_json *group = object(c, "customerGroup");
    cs_str group_key = text(object(group, "obj"), "key");
    out->customer_group = group_key.len ? group_key : text(group, "id");
    read_addresses(c, arena, out);
    return r;
}

cs_error cs_commercetools_business_unit_apply(const cs_json *unit, cs_arena *arena,
                                              cs_customer *customer, cs_problems *problems)
{
    cs_str key = text(unit, "key"), name = text(unit, "name");
    if (!unit || unit->type != CS_JSON_OBJECT || key.len == 0 || name.len == 0) {
        cs_problems_add(problems, "businessUnit", "required",
                        "a business unit is an object with a key and a name");
        return CS_ERR_INVALID_ARGUMENT;
    }
    customer->b2b = true;
    customer->company = name;
    customer->parent_account = key;
    if (customer->address_count == 0) {
        read_addresses(unit, arena, customer);
    }
    return CS_ERR_OK;
}
