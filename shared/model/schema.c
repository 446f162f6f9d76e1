#include "schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

static const char *const system_names[CS_SYS__COUNT] = {
    "", "shopify", "commercetools", "sfcc", "salesforce", "exactmax", "orderflow",
};

const char *cs_system_name(cs_system system)
{
    return (unsigned)system < CS_SYS__COUNT ? system_names[system] : "";
}

cs_error cs_system_parse(cs_str name, cs_system *out)
{
    for (int i = 1; i < CS_SYS__COUNT; i++) {
        if (cs_str_eq_c(name, system_names[i])) {
            *out = (cs_system)i;
            return CS_ERR_OK;
        }
    }
    return CS_ERR_NOT_FOUND;
}

#define FIELD(T, name, member, type)                                                               \
    {                                                                                              \
        name, type, offsetof(T, member), NULL, 0                                                   \
    }
#define STR(T, m) FIELD(T, #m, m, CS_FIELD_STR)
#define INT(T, m) FIELD(T, #m, m, CS_FIELD_INT)
#define BOOL(T, m) FIELD(T, #m, m, CS_FIELD_BOOL)
#define MONEY(T, m) FIELD(T, #m, m, CS_FIELD_MONEY)
#define TIME(T, name, m) FIELD(T, name, m, CS_FIELD_TIME)
#define IDS(T, m) FIELD(T, #m, m, CS_FIELD_IDS)
#define STRUCT(T, m, s)                                                                            \
    {                                                                                              \
#m, CS_FIELD_STRUCT, offsetof(T, m), &(s), 0                                               \
    }
#define ARRAY(T, m, count, s)                                                                      \
    {                                                                                              \
#m, CS_FIELD_ARRAY, offsetof(T, m), &(s), offsetof(T, count)                               \
    }
#define SCHEMA(var, label, T, table)                                                               \
    const cs_schema var = {label, sizeof(T), table, sizeof(table) / sizeof(table[0])}

static const cs_field meta_fields[] = {
    FIELD(cs_record_meta, "source", source, CS_FIELD_SYSTEM),
    STR(cs_record_meta, source_id),
    STR(cs_record_meta, source_version),
    TIME(cs_record_meta, "updated_at", updated_at_ms),
    STR(cs_record_meta, correlation_id),
};
static SCHEMA(meta_schema, "meta", cs_record_meta, meta_fields);

static const cs_field address_fields[] = {
    STR(cs_address, first_name), STR(cs_address, last_name),   STR(cs_address, company),
    STR(cs_address, line1),      STR(cs_address, line2),       STR(cs_address, city),
    STR(cs_address, region),     STR(cs_address, postal_code), STR(cs_address, country),
    STR(cs_address, phone),      STR(cs_address, email),
};
static SCHEMA(address_schema, "address", cs_address, address_fields);

static const cs_field consent_fields[] = {
    STR(cs_consent, purpose),
    BOOL(cs_consent, granted),
    TIME(cs_consent, "updated_at", updated_at_ms),
    STR(cs_consent, locale),
};
static SCHEMA(consent_schema, "consent", cs_consent, consent_fields);

static const cs_field preference_fields[] = {STR(cs_preference, key), STR(cs_preference, value)};
static SCHEMA(preference_schema, "preference", cs_preference, preference_fields);

static const cs_field contact_fields[] = {
    IDS(cs_contact, ids),       STR(cs_contact, email), STR(cs_contact, first_name),
    STR(cs_contact, last_name), STR(cs_contact, phone), STR(cs_contact, role),
};
static SCHEMA(contact_schema, "contact", cs_contact, contact_fields);

static const cs_field customer_fields[] = {
    STRUCT(cs_customer, meta, meta_schema),
    IDS(cs_customer, ids),
    STR(cs_customer, email),
    STR(cs_customer, first_name),
    STR(cs_customer, last_name),
    STR(cs_customer, phone),
    STR(cs_customer, company),
    STR(cs_customer, account_code),
    STR(cs_customer, parent_account),
    STR(cs_customer, customer_group),
    STR(cs_customer, locale),
    STR(cs_customer, tax_exempt_id),
    BOOL(cs_customer, b2b),
    BOOL(cs_customer, guest),
    ARRAY(cs_customer, addresses, address_count, address_schema),
    ARRAY(cs_customer, consents, consent_count, consent_schema),
    ARRAY(cs_customer, preferences, preference_count, preference_schema),
    ARRAY(cs_customer, contacts, contact_count, contact_schema),
};
SCHEMA(cs_schema_customer, "customer", cs_customer, customer_fields);

static const cs_field tax_line_fields[] = {STR(cs_tax_line, title), STR(cs_tax_line, rate),
                                           MONEY(cs_tax_line, amount)};
static SCHEMA(tax_line_schema, "tax_line", cs_tax_line, tax_line_fields);

static const cs_field allocation_fields[] = {STR(cs_discount_allocation, code),
                                             MONEY(cs_discount_allocation, amount)};
static SCHEMA(allocation_schema, "discount_allocation", cs_discount_allocation, allocation_fields);

static const cs_field line_fields[] = {
    STR(cs_order_line, line_id),
    STR(cs_order_line, sku),
    STR(cs_order_line, item_code),
    STR(cs_order_line, variant_id),
    STR(cs_order_line, product_id),
    STR(cs_order_line, gtin),
    STR(cs_order_line, title),
    STR(cs_order_line, unit),
    STR(cs_order_line, tax_class),
    INT(cs_order_line, quantity),
    MONEY(cs_order_line, unit_price),
    MONEY(cs_order_line, discount),
    MONEY(cs_order_line, tax),
    ARRAY(cs_order_line, discounts, discount_count, allocation_schema),
    ARRAY(cs_order_line, tax_lines, tax_line_count, tax_line_schema),
};
static SCHEMA(line_schema, "order_line", cs_order_line, line_fields);

static const cs_field shipping_line_fields[] = {
    STR(cs_shipping_line, code),       STR(cs_shipping_line, title),
    STR(cs_shipping_line, carrier),    MONEY(cs_shipping_line, price),
    MONEY(cs_shipping_line, discount), MONEY(cs_shipping_line, tax),
};
static SCHEMA(shipping_line_schema, "shipping_line", cs_shipping_line, shipping_line_fields);

static const cs_field order_discount_fields[] = {
    STR(cs_order_discount, code), STR(cs_order_discount, kind), MONEY(cs_order_discount, amount)};
static SCHEMA(order_discount_schema, "order_discount", cs_order_discount, order_discount_fields);

static const cs_field payment_fields[] = {
    STR(cs_payment, transaction_id),
    STR(cs_payment, gateway),
    STR(cs_payment, method),
    STR(cs_payment, kind),
    STR(cs_payment, status),
    MONEY(cs_payment, amount),
    TIME(cs_payment, "processed_at", processed_at_ms),
};
static SCHEMA(payment_schema, "payment", cs_payment, payment_fields);

static const cs_field customer_ref_fields[] = {
    IDS(cs_customer_ref, ids), STR(cs_customer_ref, email), STR(cs_customer_ref, account_code)};
static SCHEMA(customer_ref_schema, "customer_ref", cs_customer_ref, customer_ref_fields);

static const cs_field order_fields[] = {
    STRUCT(cs_order, meta, meta_schema),
    IDS(cs_order, ids),
    STR(cs_order, number),
    STR(cs_order, store_code),
    STR(cs_order, currency),
    STR(cs_order, locale),
    STR(cs_order, order_status),
    STR(cs_order, payment_status),
    STR(cs_order, fulfillment_status),
    TIME(cs_order, "created_at", created_at_ms),
    TIME(cs_order, "updated_at", updated_at_ms),
    TIME(cs_order, "cancelled_at", cancelled_at_ms),
    STR(cs_order, cancel_reason),
    BOOL(cs_order, guest),
    BOOL(cs_order, taxes_included),
    STRUCT(cs_order, customer, customer_ref_schema),
    STRUCT(cs_order, billing, address_schema),
    STRUCT(cs_order, shipping, address_schema),
    ARRAY(cs_order, lines, line_count, line_schema),
    ARRAY(cs_order, shipping_lines, shipping_line_count, shipping_line_schema),
    ARRAY(cs_order, discounts, discount_count, order_discount_schema),
    ARRAY(cs_order, payments, payment_count, payment_schema),
    STR(cs_order, payment_method),
    MONEY(cs_order, subtotal),
    MONEY(cs_order, discount_total),
    MONEY(cs_order, shipping_total),
    MONEY(cs_order, tax_total),
    MONEY(cs_order, total),
    STR(cs_order, note),
};
SCHEMA(cs_schema_order, "order", cs_order, order_fields);

static const cs_field tier_fields[] = {INT(cs_price_tier, min_quantity),
                                       MONEY(cs_price_tier, price)};
static SCHEMA(tier_schema, "price_tier", cs_price_tier, tier_fields);

static const cs_field price_fields[] = {
    STR(cs_price, price_list),
    STR(cs_price, currency),
    MONEY(cs_price, amount),
    ARRAY(cs_price, tiers, tier_count, tier_schema),
    TIME(cs_price, "valid_from", valid_from_ms),
    TIME(cs_price, "valid_to", valid_to_ms),
};
static SCHEMA(price_schema, "price", cs_price, price_fields);

static const cs_field product_fields[] = {
    STRUCT(cs_product, meta, meta_schema),
    IDS(cs_product, ids),
    STR(cs_product, sku),
    STR(cs_product, variant_id),
    STR(cs_product, product_id),
    STR(cs_product, gtin),
    STR(cs_product, item_code),
    STR(cs_product, title),
    STR(cs_product, unit),
    STR(cs_product, tax_class),
    BOOL(cs_product, active),
    ARRAY(cs_product, prices, price_count, price_schema),
};
SCHEMA(cs_schema_product, "product", cs_product, product_fields);

static const cs_field stock_fields[] = {
    STRUCT(cs_stock_level, meta, meta_schema),
    STR(cs_stock_level, sku),
    STR(cs_stock_level, item_code),
    STR(cs_stock_level, location),
    INT(cs_stock_level, on_hand),
    INT(cs_stock_level, reserved),
    INT(cs_stock_level, available),
    TIME(cs_stock_level, "at", at_ms),
    INT(cs_stock_level, sequence),
};
SCHEMA(cs_schema_stock_level, "stock_level", cs_stock_level, stock_fields);

static const cs_field shipment_line_fields[] = {
    STR(cs_shipment_line, line_id), STR(cs_shipment_line, sku), STR(cs_shipment_line, item_code),
    INT(cs_shipment_line, quantity)};
static SCHEMA(shipment_line_schema, "shipment_line", cs_shipment_line, shipment_line_fields);

static const cs_field shipment_fields[] = {
    STRUCT(cs_shipment, meta, meta_schema),
    IDS(cs_shipment, order_ids),
    STR(cs_shipment, order_number),
    STR(cs_shipment, status),
    STR(cs_shipment, carrier),
    STR(cs_shipment, service),
    STR(cs_shipment, tracking_number),
    STR(cs_shipment, tracking_url),
    TIME(cs_shipment, "shipped_at", shipped_at_ms),
    BOOL(cs_shipment, partial),
    ARRAY(cs_shipment, lines, line_count, shipment_line_schema),
};
SCHEMA(cs_schema_shipment, "shipment", cs_shipment, shipment_fields);

static const cs_field return_line_fields[] = {
    STR(cs_return_line, line_id),  STR(cs_return_line, sku),    STR(cs_return_line, item_code),
    INT(cs_return_line, quantity), STR(cs_return_line, reason), MONEY(cs_return_line, amount),
};
static SCHEMA(return_line_schema, "return_line", cs_return_line, return_line_fields);

static const cs_field return_fields[] = {
    STRUCT(cs_return, meta, meta_schema),
    IDS(cs_return, ids),
    IDS(cs_return, order_ids),
    STR(cs_return, order_number),
    STR(cs_return, kind),
    STR(cs_return, reason),
    STR(cs_return, currency),
    ARRAY(cs_return, lines, line_count, return_line_schema),
    MONEY(cs_return, shipping_refund),
    MONEY(cs_return, total),
    TIME(cs_return, "created_at", created_at_ms),
};
SCHEMA(cs_schema_return, "return", cs_return, return_fields);

static const cs_schema *const top_level[] = {
    &cs_schema_order,       &cs_schema_customer, &cs_schema_product,
    &cs_schema_stock_level, &cs_schema_shipment, &cs_schema_return,
};

const cs_schema *cs_schema_find(cs_str entity)
{
    for (size_t i = 0; i < sizeof(top_level) / sizeof(top_level[0]); i++) {
        if (cs_str_eq_c(entity, top_level[i]->name)) {
            return top_level[i];
        }
    }
    return NULL;
}

const cs_field *cs_schema_field(const cs_schema *schema, cs_str name)
{
    for (size_t i = 0; i < schema->field_count; i++) {
        if (cs_str_eq_c(name, schema->fields[i].name)) {
            return &schema->fields[i];
        }
    }
    return NULL;
}

const char *cs_field_type_name(cs_field_type type)
{
    static const char *const names[] = {"string", "integer", "boolean", "money", "time",
                                        "system", "ids",     "object",  "array"};
    return names[type];
}

/* Reads "[N]" or "[]" at text[*pos]; *index is -1 for "[]". */
static cs_error read_index(cs_str text, size_t *pos, long *index, cs_diag *diag)
{
    size_t i = *pos + 1;
    long value = -1;
    if (i < text.len && text.ptr[i] != ']') {
        value = 0;
        size_t start = i;
        while (i < text.len && text.ptr[i] >= '0' && text.ptr[i] <= '9' && value < 1000000) {
            value = value * 10 + (text.ptr[i++] - '0');
        }
        if (i == start) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "path '%.*s': bad index at byte %zu",
                               CS_STR_FMT(text), i);
        }
    }
    if (i >= text.len || text.ptr[i] != ']') {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "path '%.*s': expected ']' at byte %zu",
                           CS_STR_FMT(text), i);
    }
    *index = value;
    *pos = i + 1;
    return CS_ERR_OK;
}

static cs_error unknown(cs_str text, cs_str segment, const cs_schema *schema, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_NOT_FOUND, "path '%.*s': %s has no field '%.*s'",
                       CS_STR_FMT(text), schema->name, CS_STR_FMT(segment));
}

/* Compiles one "name", "name[N]" or "ids.<system>" segment starting at *pos. */
static cs_error compile_step(const cs_schema **schema, cs_str text, size_t *pos, bool allow_each,
                             cs_path *out, cs_diag *diag)
{
    size_t start = *pos;
    while (*pos < text.len && text.ptr[*pos] != '.' && text.ptr[*pos] != '[') {
        (*pos)++;
    }
    cs_str segment = cs_str_sub(text, start, *pos - start);
    if (out->step_count == CS_PATH_MAX_STEPS || segment.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "path '%.*s' is malformed or too deep",
                           CS_STR_FMT(text));
    }
    const cs_field *field = cs_schema_field(*schema, segment);
    if (!field) {
        return unknown(text, segment, *schema, diag);
    }
    cs_path_step *step = &out->steps[out->step_count++];
    step->field = field;
    step->index = 0;
    step->system = CS_SYS_NONE;
    out->type = field->type;
    out->schema = field->schema;
    if (field->type == CS_FIELD_ARRAY && *pos < text.len && text.ptr[*pos] == '[') {
        cs_error result = read_index(text, pos, &step->index, diag);
        if (result) {
            return result;
        }
        bool last = *pos == text.len;
        if (step->index < 0 && (!allow_each || !last)) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "path '%.*s': '[]' is only allowed at the end of an 'each' path",
                               CS_STR_FMT(text));
        }
        if (step->index >= 0 || !last) {
            out->type = CS_FIELD_STRUCT; /* one element */
        }
    } else if (field->type == CS_FIELD_ARRAY) {
        step->index = -1;
    }
    if (field->type == CS_FIELD_IDS && *pos < text.len && text.ptr[*pos] == '.') {
        size_t name_start = ++(*pos);
        while (*pos < text.len && text.ptr[*pos] != '.' && text.ptr[*pos] != '[') {
            (*pos)++;
        }
        cs_str name = cs_str_sub(text, name_start, *pos - name_start);
        if (cs_system_parse(name, &step->system)) {
            return cs_diag_set(diag, CS_ERR_NOT_FOUND, "path '%.*s': unknown system '%.*s'",
                               CS_STR_FMT(text), CS_STR_FMT(name));
        }
        out->type = CS_FIELD_STR;
    }
    *schema = field->schema;
    return CS_ERR_OK;
}

cs_error cs_path_compile(const cs_schema *schema, cs_str text, bool allow_each, cs_path *out,
                         cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0;
    const cs_schema *current = schema;
    while (pos < text.len || out->step_count == 0) {
        if (out->step_count > 0) {
            cs_field_type prev = out->steps[out->step_count - 1].field->type;
            bool through_element = prev == CS_FIELD_ARRAY && out->type == CS_FIELD_STRUCT;
            if (text.ptr[pos] != '.' || !(prev == CS_FIELD_STRUCT || through_element)) {
                return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                                   "path '%.*s': nothing to select at byte %zu", CS_STR_FMT(text),
                                   pos);
            }
            pos++;
        }
        cs_error result = compile_step(&current, text, &pos, allow_each, out, diag);
        if (result) {
            return result;
        }
    }
    return CS_ERR_OK;
}

/* The element a step selects, or NULL when the index is out of range. */
static const char *step_into(const cs_path_step *step, const char *base)
{
    const char *at = base + step->field->offset;
    if (step->field->type != CS_FIELD_ARRAY || step->index < 0) {
        return at;
    }
    size_t count = *(const size_t *)(base + step->field->count_offset);
    if ((size_t)step->index >= count) {
        return NULL;
    }
    const char *elements = *(const char *const *)at;
    return elements + (size_t)step->index * step->field->schema->size;
}

const void *cs_path_address(const cs_path *path, const void *record)
{
    const char *at = record;
    for (size_t i = 0; at && i < path->step_count; i++) {
        at = step_into(&path->steps[i], at);
    }
    return at;
}

size_t cs_path_elements(const cs_path *path, const void *record, const void **elements)
{
    const char *base = record;
    for (size_t i = 0; base && i + 1 < path->step_count; i++) {
        base = step_into(&path->steps[i], base);
    }
    const cs_path_step *last = &path->steps[path->step_count - 1];
    if (!base || last->field->type != CS_FIELD_ARRAY) {
        *elements = NULL;
        return 0;
    }
    *elements = *(const void *const *)(base + last->field->offset);
    return *(const size_t *)(base + last->field->count_offset);
}

cs_value cs_path_read(const cs_path *path, const void *record)
{
    cs_value v;
    memset(&v, 0, sizeof(v));
    v.type = path->type;
    const char *at = cs_path_address(path, record);
    if (!at) {
        return v;
    }
    const cs_path_step *last = &path->steps[path->step_count - 1];
    switch (path->type) {
    case CS_FIELD_STR:
        v.str = last->field->type == CS_FIELD_IDS ? ((const cs_ids *)at)->by_system[last->system]
                                                  : *(const cs_str *)at;
        v.present = v.str.len > 0;
        break;
    case CS_FIELD_INT:
        v.i = *(const int64_t *)at;
        v.present = true;
        break;
    case CS_FIELD_TIME:
        v.i = *(const int64_t *)at;
        v.present = v.i != 0;
        break;
    case CS_FIELD_BOOL:
        v.b = *(const bool *)at;
        v.present = true;
        break;
    case CS_FIELD_MONEY:
        v.money = *(const cs_money *)at;
        v.present = v.money.currency != NULL;
        break;
    case CS_FIELD_SYSTEM:
        v.str = cs_str_from_c(cs_system_name(*(const cs_system *)at));
        v.present = v.str.len > 0;
        break;
    case CS_FIELD_IDS:
    case CS_FIELD_STRUCT:
    case CS_FIELD_ARRAY:
        v.present = true;
        break;
    }
    return v;
}

cs_error cs_path_store(const cs_path *path, void *record, const cs_value *v)
{
    void *at = (void *)cs_path_address(path, record);
    if (!at) {
        return CS_ERR_NOT_FOUND;
    }
    const cs_path_step *last = &path->steps[path->step_count - 1];
    switch (path->type) {
    case CS_FIELD_STR:
        if (last->field->type == CS_FIELD_IDS) {
            ((cs_ids *)at)->by_system[last->system] = v->present ? v->str : CS_STR_NULL;
        } else {
            *(cs_str *)at = v->present ? v->str : CS_STR_NULL;
        }
        break;
    case CS_FIELD_INT:
    case CS_FIELD_TIME:
        *(int64_t *)at = v->present ? v->i : 0;
        break;
    case CS_FIELD_BOOL:
        *(bool *)at = v->present && v->b;
        break;
    case CS_FIELD_MONEY:
        if (v->present) {
            *(cs_money *)at = v->money;
        } else {
            memset(at, 0, sizeof(cs_money));
        }
        break;
    case CS_FIELD_SYSTEM:
        if (!v->present || cs_system_parse(v->str, (cs_system *)at)) {
            *(cs_system *)at = CS_SYS_NONE;
        }
        break;
    default:
        return CS_ERR_INVALID_ARGUMENT;
    }
    return CS_ERR_OK;
}

cs_str cs_value_text(const cs_value *v, cs_arena *arena)
{
    char text[CS_TIME_RFC3339_MAX + CS_DECIMAL_MAX];
    switch (v->type) {
    case CS_FIELD_STR:
    case CS_FIELD_SYSTEM:
        return v->str;
    case CS_FIELD_INT:
        snprintf(text, sizeof(text), "%" PRId64, v->i);
        break;
    case CS_FIELD_BOOL:
        return cs_str_from_c(v->b ? "true" : "false");
    case CS_FIELD_MONEY:
        cs_money_format(v->money, text);
        break;
    case CS_FIELD_TIME:
        if (cs_time_format_rfc3339(v->i, 0, text)) {
            return CS_STR_NULL;
        }
        break;
    default:
        return CS_STR_NULL;
    }
    char *copy = cs_arena_strndup(arena, cs_str_from_c(text));
    return copy ? cs_str_from_c(copy) : CS_STR_NULL;
}

bool cs_value_equal(const cs_value *a, const cs_value *b)
{
    if (a->type != b->type || a->present != b->present) {
        return false;
    }
    switch (a->type) {
    case CS_FIELD_STR:
    case CS_FIELD_SYSTEM:
        return cs_str_eq(a->str, b->str);
    case CS_FIELD_INT:
    case CS_FIELD_TIME:
        return a->i == b->i;
    case CS_FIELD_BOOL:
        return a->b == b->b;
    case CS_FIELD_MONEY:
        return a->money.minor_units == b->money.minor_units &&
               a->money.currency == b->money.currency;
    default:
        return false;
    }
}
