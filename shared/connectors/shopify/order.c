#include "order.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

typedef struct decode_ctx {
    cs_arena *arena;
    cs_problems *problems;
    const cs_currency *currency;
    bool failed;
} decode_ctx;

static void problem(decode_ctx *ctx, const char *path, const char *rule, const char *message)
{
    ctx->failed = true;
    cs_problems_add(ctx->problems, path, rule, "%s", message);
}

/* Where a value sits in the Shopify JSON, as "line_items[2].tax_lines[0]".
 * Kept as parts and only formatted when there is a problem to report, since
 * decoding an order visits hundreds of values and fails on almost none. */
typedef struct where {
    const char *object; /* "total_shipping_price_set.shop_money", or NULL */
    const char *array;  /* "line_items", or NULL at the top level */
    size_t index;
    const char *child_array; /* "tax_lines", or NULL */
    size_t child_index;
} where;

static const where TOP = {NULL, NULL, 0, NULL, 0};

static void problem_at(decode_ctx *ctx, where at, const char *key, const char *rule,
                       const char *message)
{
    char path[160];
    int n = 0;
    if (at.object) {
        n = snprintf(path, sizeof(path), "%s.", at.object);
    } else if (at.array) {
        n = snprintf(path, sizeof(path), "%s[%zu].", at.array, at.index);
    }
    if (at.child_array && n >= 0 && (size_t)n < sizeof(path)) {
        n += snprintf(path + n, sizeof(path) - (size_t)n, "%s[%zu].", at.child_array,
                      at.child_index);
    }
    if (n >= 0 && (size_t)n < sizeof(path)) {
        snprintf(path + n, sizeof(path) - (size_t)n, "%s", key);
    }
    problem(ctx, path, rule, message);
}

/* A string field, or an id that Shopify writes as a JSON number. */
static cs_str text_of(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

static cs_money money_of(decode_ctx *ctx, const cs_json *obj, const char *key, where at)
{
    cs_money m = {0, NULL};
    cs_str text = text_of(obj, key);
    if (text.len == 0 || !ctx->currency) {
        return m;
    }
    cs_diag diag;
    if (cs_decimal_parse(text, ctx->currency->exponent, &m.minor_units, &diag)) {
        problem_at(ctx, at, key, "money", diag.message);
        return m;
    }
    m.currency = ctx->currency;
    return m;
}

static int64_t time_of(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    cs_str text = text_of(obj, key);
    int64_t ms = 0;
    cs_diag diag;
    if (text.len && cs_time_parse_rfc3339(text, &ms, NULL, &diag)) {
        problem(ctx, key, "rfc3339", diag.message);
    }
    return ms;
}

static void decode_address(const cs_json *a, cs_address *out)
{
    if (!a || a->type != CS_JSON_OBJECT) {
        return;
    }
    out->first_name = text_of(a, "first_name");
    out->last_name = text_of(a, "last_name");
    out->company = text_of(a, "company");
    out->line1 = text_of(a, "address1");
    out->line2 = text_of(a, "address2");
    out->city = text_of(a, "city");
    out->region = text_of(a, "province_code");
    out->postal_code = text_of(a, "zip");
    out->country = text_of(a, "country_code");
    out->phone = text_of(a, "phone");
}

static const cs_json *array_of(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_ARRAY ? v : NULL;
}

static void *alloc_array(decode_ctx *ctx, const cs_json *array, size_t elem, size_t *count)
{
    *count = array ? array->count : 0;
    if (*count == 0) {
        return NULL;
    }
    void *p = cs_arena_calloc(ctx->arena, *count, elem);
    if (!p) {
        problem(ctx, "", "memory", "invocation memory cap reached");
        *count = 0;
    }
    return p;
}

static void decode_tax_lines(decode_ctx *ctx, const cs_json *owner, where at, cs_tax_line **lines,
                             size_t *count, cs_money *sum)
{
    const cs_json *array = array_of(owner, "tax_lines");
    *lines = alloc_array(ctx, array, sizeof(**lines), count);
    *sum = (cs_money){0, ctx->currency};
    size_t i = 0;
    for (const cs_json *t = array ? array->first : NULL; t && *lines; t = t->next, i++) {
        (*lines)[i].title = text_of(t, "title");
        (*lines)[i].rate = text_of(t, "rate");
        (*lines)[i].amount =
            money_of(ctx, t, "price", (where){NULL, at.array, at.index, "tax_lines", i});
        sum->minor_units += (*lines)[i].amount.minor_units;
    }
}

/* The code (or title) of the discount application an allocation points at. */
static cs_str application_name(const cs_json *applications, const cs_json *allocation)
{
    int64_t index;
    const cs_json *idx = cs_json_object_get(allocation, CS_STR_LIT("discount_application_index"));
    if (!idx || cs_parse_int64(idx->text, &index) || index < 0) {
        return CS_STR_NULL;
    }
    const cs_json *app = cs_json_array_at(applications, (size_t)index);
    cs_str code = text_of(app, "code");
    return code.len ? code : text_of(app, "title");
}

static void decode_allocations(decode_ctx *ctx, const cs_json *owner, const cs_json *applications,
                               where at, cs_discount_allocation **out, size_t *count, cs_money *sum)
{
    const cs_json *array = array_of(owner, "discount_allocations");
    *out = alloc_array(ctx, array, sizeof(**out), count);
    *sum = (cs_money){0, ctx->currency};
    size_t i = 0;
    for (const cs_json *a = array ? array->first : NULL; a && *out; a = a->next, i++) {
        (*out)[i].code = application_name(applications, a);
        (*out)[i].amount = money_of(ctx, a, "amount",
                                    (where){NULL, at.array, at.index, "discount_allocations", i});
        sum->minor_units += (*out)[i].amount.minor_units;
    }
}

static void decode_line(decode_ctx *ctx, const cs_json *li, const cs_json *applications, size_t i,
                        cs_order_line *line)
{
    where at = {NULL, "line_items", i, NULL, 0};
    line->line_id = text_of(li, "id");
    line->sku = text_of(li, "sku");
    line->variant_id = text_of(li, "variant_id");
    line->product_id = text_of(li, "product_id");
    line->title = text_of(li, "title");
    const cs_json *qty = cs_json_object_get(li, CS_STR_LIT("quantity"));
    if (!qty || qty->type != CS_JSON_NUMBER || cs_parse_int64(qty->text, &line->quantity)) {
        problem_at(ctx, at, "quantity", "type", "expected an integer quantity");
    }
    line->unit_price = money_of(ctx, li, "price", at);
    decode_allocations(ctx, li, applications, at, &line->discounts, &line->discount_count,
                       &line->discount);
    decode_tax_lines(ctx, li, at, &line->tax_lines, &line->tax_line_count, &line->tax);
}

static void decode_shipping(decode_ctx *ctx, const cs_json *order, const cs_json *applications,
                            cs_order *out)
{
    const cs_json *array = array_of(order, "shipping_lines");
    out->shipping_lines =
        alloc_array(ctx, array, sizeof(cs_shipping_line), &out->shipping_line_count);
    size_t i = 0;
    for (const cs_json *s = array ? array->first : NULL; s && out->shipping_lines;
         s = s->next, i++) {
        where at = {NULL, "shipping_lines", i, NULL, 0};
        cs_shipping_line *sl = &out->shipping_lines[i];
        sl->code = text_of(s, "code");
        sl->title = text_of(s, "title");
        sl->carrier = text_of(s, "source");
        sl->price = money_of(ctx, s, "price", at);
        cs_discount_allocation *allocations;
        size_t allocation_count;
        decode_allocations(ctx, s, applications, at, &allocations, &allocation_count,
                           &sl->discount);
        cs_tax_line *taxes;
        size_t tax_count;
        decode_tax_lines(ctx, s, at, &taxes, &tax_count, &sl->tax);
    }
}

static void decode_discounts(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    const cs_json *array = array_of(order, "discount_codes");
    out->discounts = alloc_array(ctx, array, sizeof(cs_order_discount), &out->discount_count);
    size_t i = 0;
    for (const cs_json *d = array ? array->first : NULL; d && out->discounts; d = d->next, i++) {
        out->discounts[i].code = text_of(d, "code");
        out->discounts[i].kind = text_of(d, "type");
        out->discounts[i].amount =
            money_of(ctx, d, "amount", (where){NULL, "discount_codes", i, NULL, 0});
    }
}

static cs_str order_status(const cs_json *order)
{
    if (text_of(order, "cancelled_at").len) {
        return CS_STR_LIT("cancelled");
    }
    return text_of(order, "closed_at").len ? CS_STR_LIT("closed") : CS_STR_LIT("open");
}

static void decode_header(decode_ctx *ctx, const cs_json *order, const cs_shopify_order_opts *opts,
                          cs_order *out)
{
    cs_str id = text_of(order, "id");
    if (id.len == 0) {
        problem(ctx, "id", "required", "the order has no id");
    }
    out->meta.source = CS_SYS_SHOPIFY;
    out->meta.source_id = id;
    out->ids.by_system[CS_SYS_SHOPIFY] = id;
    static const char prefix[] = "shopify:order:";
    char *correlation = cs_arena_alloc(ctx->arena, sizeof(prefix) + id.len);
    if (correlation) {
        memcpy(correlation, prefix, sizeof(prefix) - 1);
        memcpy(correlation + sizeof(prefix) - 1, id.ptr ? id.ptr : "", id.len);
        correlation[sizeof(prefix) - 1 + id.len] = '\0';
        out->meta.correlation_id = cs_str_make(correlation, sizeof(prefix) - 1 + id.len);
    }
    out->number = text_of(order, "name");
    out->store_code = opts ? opts->store_code : CS_STR_NULL;
    out->currency = text_of(order, "currency");
    out->locale = text_of(order, "customer_locale");
    out->created_at_ms = time_of(ctx, order, "created_at");
    out->updated_at_ms = time_of(ctx, order, "updated_at");
    out->cancelled_at_ms = time_of(ctx, order, "cancelled_at");
    out->meta.updated_at_ms = out->updated_at_ms;
    out->cancel_reason = text_of(order, "cancel_reason");
    out->order_status = order_status(order);
    out->payment_status = text_of(order, "financial_status");
    cs_str fulfillment = text_of(order, "fulfillment_status");
    out->fulfillment_status = fulfillment.len ? fulfillment : CS_STR_LIT("unfulfilled");
    const cs_json *taxes_included = cs_json_object_get(order, CS_STR_LIT("taxes_included"));
    out->taxes_included = taxes_included && taxes_included->boolean;
    out->note = text_of(order, "note");
    const cs_json *gateways = array_of(order, "payment_gateway_names");
    out->payment_method = gateways && gateways->first ? gateways->first->text : CS_STR_NULL;
}

static void decode_customer(const cs_json *order, cs_order *out)
{
    const cs_json *customer = cs_json_object_get(order, CS_STR_LIT("customer"));
    bool has_customer = customer && customer->type == CS_JSON_OBJECT;
    out->guest = !has_customer;
    cs_str email = text_of(order, "email");
    if (email.len == 0 && has_customer) {
        email = text_of(customer, "email");
    }
    out->customer.email = email;
    if (has_customer) {
        out->customer.ids.by_system[CS_SYS_SHOPIFY] = text_of(customer, "id");
    }
    decode_address(cs_json_object_get(order, CS_STR_LIT("billing_address")), &out->billing);
    decode_address(cs_json_object_get(order, CS_STR_LIT("shipping_address")), &out->shipping);
    out->billing.email = email;
}

static void decode_totals(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    out->subtotal = money_of(ctx, order, "subtotal_price", TOP);
    out->discount_total = money_of(ctx, order, "total_discounts", TOP);
    out->tax_total = money_of(ctx, order, "total_tax", TOP);
    out->total = money_of(ctx, order, "total_price", TOP);
    const cs_json *shipping = cs_json_path(order, "total_shipping_price_set.shop_money");
    where at = {"total_shipping_price_set.shop_money", NULL, 0, NULL, 0};
    out->shipping_total = money_of(ctx, shipping, "amount", at);
}

cs_error cs_shopify_order_decode(const cs_json *order, const cs_shopify_order_opts *opts,
                                 cs_arena *arena, cs_order *out, cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, NULL, false};
    memset(out, 0, sizeof(*out));
    if (!order || order->type != CS_JSON_OBJECT) {
        problem(&ctx, "", "type", "an order is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    decode_header(&ctx, order, opts, out);
    ctx.currency = cs_currency_find(out->currency);
    if (!ctx.currency) {
        problem(&ctx, "currency", "iso4217", "missing or not an ISO 4217 code");
    }
    decode_customer(order, out);
    const cs_json *applications = array_of(order, "discount_applications");
    const cs_json *items = array_of(order, "line_items");
    out->lines = alloc_array(&ctx, items, sizeof(cs_order_line), &out->line_count);
    size_t i = 0;
    for (const cs_json *li = items ? items->first : NULL; li && out->lines; li = li->next, i++) {
        decode_line(&ctx, li, applications, i, &out->lines[i]);
    }
    decode_shipping(&ctx, order, applications, out);
    decode_discounts(&ctx, order, out);
    decode_totals(&ctx, order, out);
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}
