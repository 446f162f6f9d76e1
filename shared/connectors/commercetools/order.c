#include "order.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

typedef struct decode_ctx {
    cs_arena *arena;
    cs_problems *problems;
    const cs_currency *currency;
    const cs_json *discount_codes;
    bool failed;
} decode_ctx;

static void problem(decode_ctx *ctx, const char *path, const char *rule, const char *message)
{
    cs_problems_add(ctx->problems, path, rule, "%s", message);
    ctx->failed = true;
}

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

static const cs_json *array(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_ARRAY ? v : NULL;
}

static int64_t integer(const cs_json *obj, const char *key, int64_t fallback)
{
    int64_t n;
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_NUMBER && !cs_parse_int64(v->text, &n) ? n : fallback;
}

/* A centPrecision amount in the order's currency, exactly. */
static cs_money money(decode_ctx *ctx, const cs_json *m, const char *path)
{
    cs_money out = {0, ctx->currency};
    if (!m || !ctx->currency) {
        return out;
    }
    char where[160];
    int64_t cents = integer(m, "centAmount", INT64_MIN);
    int64_t digits = integer(m, "fractionDigits", ctx->currency->exponent);
    if (!cs_str_eq_c(text(m, "currencyCode"), ctx->currency->code)) {
        snprintf(where, sizeof(where), "%s.currencyCode", path);
        problem(ctx, where, "currency", "not the order's currency");
    } else if (cents == INT64_MIN) {
        snprintf(where, sizeof(where), "%s.centAmount", path);
        problem(ctx, where, "money", "expected an integer centAmount");
    } else if (digits < 0 || digits > 18 ||
               cs_decimal_rescale(cents, (int)digits, ctx->currency->exponent, CS_ROUND_NONE,
                                  &out.minor_units)) {
        snprintf(where, sizeof(where), "%s.fractionDigits", path);
        problem(ctx, where, "money", "cannot be expressed exactly in the currency's units");
    }
    return out;
}

/* {"value": money} (price, discountedPrice) */
static cs_money value(decode_ctx *ctx, const cs_json *priced, const char *path)
{
    char where[160];
    snprintf(where, sizeof(where), "%s.value", path);
    return money(ctx, object(priced, "value"), where);
}

static int64_t time_at(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    int64_t ms = 0;
    cs_diag diag;
    cs_str t = text(obj, key);
    if (t.len && cs_time_parse_rfc3339(t, &ms, NULL, &diag)) {
        problem(ctx, key, "rfc3339", diag.message);
    }
    return ms;
}

void cs_commercetools_address(const cs_json *a, cs_arena *arena, cs_address *out)
{
    if (!a || a->type != CS_JSON_OBJECT) {
        return;
    }
    out->first_name = text(a, "firstName");
    out->last_name = text(a, "lastName");
    out->company = text(a, "company");
    cs_str street = text(a, "streetName"), number = text(a, "streetNumber");
    out->line1 = number.len ? cs_str_from_c(cs_arena_sprintf(arena, "%.*s %.*s", CS_STR_FMT(street),
                                                             CS_STR_FMT(number)))
                            : street;
    out->line2 = text(a, "additionalStreetInfo");
    out->city = text(a, "city");
    cs_str region = text(a, "region");
    out->region = region.len ? region : text(a, "state");
    out->postal_code = text(a, "postalCode");
    out->country = text(a, "country");
    out->phone = text(a, "phone");
    out->email = text(a, "email");
}

/* ---- discounts ---- */

/* The code whose cart discounts include this one, or the cart discount's id. */
static cs_str discount_name(const decode_ctx *ctx, cs_str cart_discount_id)
{
    for (const cs_json *dc = ctx->discount_codes ? ctx->discount_codes->first : NULL; dc;
         dc = dc->next) {
        const cs_json *obj = object(object(dc, "discountCode"), "obj");
        const cs_json *cart = array(obj, "cartDiscounts");
        for (const cs_json *c = cart ? cart->first : NULL; c; c = c->next) {
            if (cs_str_eq(text(c, "id"), cart_discount_id)) {
                return text(obj, "code");
            }
        }
    }
    return cart_discount_id;
}

static cs_discount_allocation *allocation_for(cs_order_line *line, size_t capacity, cs_str name)
{
    for (size_t i = 0; i < line->discount_count; i++) {
        if (cs_str_eq(line->discounts[i].code, name)) {
            return &line->discounts[i];
        }
    }
    if (line->discount_count == capacity) {
        return NULL;
    }
    cs_discount_allocation *a = &line->discounts[line->discount_count++];
    a->code = name;
    return a;
}

/* What each discounted quantity's included discounts took off. */
static void line_discounts(decode_ctx *ctx, const cs_json *li, const char *path,
                           cs_order_line *line)
{
    size_t capacity = 0;
    const cs_json *dpq = array(li, "discountedPricePerQuantity");
    for (const cs_json *d = dpq ? dpq->first : NULL; d; d = d->next) {
        const cs_json *inc = array(object(d, "discountedPrice"), "includedDiscounts");
        capacity += inc ? inc->count : 0;
    }
    line->discounts =
        capacity ? cs_arena_calloc(ctx->arena, capacity, sizeof(*line->discounts)) : NULL;
    line->discount = (cs_money){0, ctx->currency};
    size_t i = 0;
    for (const cs_json *d = line->discounts ? dpq->first : NULL; d; d = d->next, i++) {
        int64_t quantity = integer(d, "quantity", 0);
        const cs_json *inc = array(object(d, "discountedPrice"), "includedDiscounts");
        for (const cs_json *x = inc ? inc->first : NULL; x; x = x->next) {
            char where[160];
            snprintf(where, sizeof(where), "%s.discountedPricePerQuantity[%zu]", path, i);
            cs_money each = money(ctx, object(x, "discountedAmount"), where);
            cs_discount_allocation *a = allocation_for(
                line, capacity, discount_name(ctx, text(object(x, "discount"), "id")));
            if (a) {
                a->amount =
                    (cs_money){a->amount.minor_units + each.minor_units * quantity, ctx->currency};
                line->discount.minor_units += each.minor_units * quantity;
            }
        }
    }
}

static void order_discounts(decode_ctx *ctx, cs_order *out)
{
    size_t n = ctx->discount_codes ? ctx->discount_codes->count : 0;
    out->discounts = n ? cs_arena_calloc(ctx->arena, n, sizeof(cs_order_discount)) : NULL;
    out->discount_count = out->discounts ? n : 0;
    const cs_json *dc = ctx->discount_codes ? ctx->discount_codes->first : NULL;
    for (size_t i = 0; i < out->discount_count; dc = dc->next, i++) {
        cs_order_discount *d = &out->discounts[i];
        cs_str code = text(object(object(dc, "discountCode"), "obj"), "code");
        d->code = code.len ? code : text(object(dc, "discountCode"), "id");
        d->amount = (cs_money){0, ctx->currency};
        for (size_t l = 0; l < out->line_count; l++) {
            for (size_t a = 0; a < out->lines[l].discount_count; a++) {
                d->amount.minor_units += cs_str_eq(out->lines[l].discounts[a].code, d->code)
                                             ? out->lines[l].discounts[a].amount.minor_units
                                             : 0;
            }
        }
    }
}

/* ---- lines ---- */

/* The line's name in the order's locale, else English, else any. */
static cs_str line_name(const cs_json *li, cs_str locale)
{
    const cs_json *names = object(li, "name");
    for (const cs_json *n = names ? names->first : NULL; n; n = n->next) {
        if (cs_str_eq(n->key, locale)) {
            return n->text;
        }
    }
    cs_str english = text(names, "en");
    return english.len ? english : (names && names->first ? names->first->text : CS_STR_NULL);
}

/* A variant attribute's value by name: a string or number as it is, an
 * enum by its key. */
static cs_str attribute(const cs_json *variant, const char *name)
{
    const cs_json *attributes = cs_json_object_get(variant, CS_STR_LIT("attributes"));
    for (const cs_json *a = attributes && attributes->type == CS_JSON_ARRAY ? attributes->first
                                                                            : NULL;
         a; a = a->next) {
        if (cs_str_eq_c(text(a, "name"), name)) {
            const cs_json *v = cs_json_object_get(a, CS_STR_LIT("value"));
            return v && v->type == CS_JSON_OBJECT ? text(v, "key") : text(a, "value");
        }
    }
    return CS_STR_NULL;
}

/* The first of two attributes that is there. */
static cs_str either(const cs_json *variant, const char *name, const char *other)
{
    cs_str v = attribute(variant, name);
    return v.len ? v : attribute(variant, other);
}

static void tax_line(decode_ctx *ctx, const cs_json *rate, const cs_json *taxed, const char *path,
                     cs_tax_line **out, size_t *count, cs_money *sum)
{
    char where[160];
    snprintf(where, sizeof(where), "%s.taxedPrice.totalTax", path);
    *sum = money(ctx, object(taxed, "totalTax"), where);
    *out = rate ? cs_arena_calloc(ctx->arena, 1, sizeof(cs_tax_line)) : NULL;
    *count = *out ? 1 : 0;
    if (*out) {
        (*out)->title = text(rate, "name");
        (*out)->rate = text(rate, "amount");
        (*out)->amount = *sum;
    }
}

static void decode_line(decode_ctx *ctx, const cs_json *li, size_t i, cs_str locale,
                        cs_order_line *line)
{
    char path[64];
    snprintf(path, sizeof(path), "lineItems[%zu]", i);
    const cs_json *variant = object(li, "variant");
    line->line_id = text(li, "id");
    line->product_id = text(li, "productId");
    line->variant_id = text(variant, "id");
    line->sku = text(variant, "sku");
    line->gtin = either(variant, "gtin", "ean");
    line->item_code = attribute(variant, "itemCode");
    line->unit = either(variant, "unitOfMeasure", "unit");
    line->title = line_name(li, locale);
    line->quantity = integer(li, "quantity", -1);
    if (line->quantity <= 0) {
        char where[96];
        snprintf(where, sizeof(where), "%s.quantity", path);
        problem(ctx, where, "type", "expected a positive integer quantity");
    }
    char where[96];
    snprintf(where, sizeof(where), "%s.price", path);
    line->unit_price = value(ctx, object(li, "price"), where);
    line_discounts(ctx, li, path, line);
    tax_line(ctx, object(li, "taxRate"), object(li, "taxedPrice"), path, &line->tax_lines,
             &line->tax_line_count, &line->tax);
}

static void decode_lines(decode_ctx *ctx, const cs_json *order, cs_str locale, cs_order *out)
{
    const cs_json *items = array(order, "lineItems");
    size_t n = items ? items->count : 0;
    out->lines = n ? cs_arena_calloc(ctx->arena, n, sizeof(cs_order_line)) : NULL;
    out->line_count = out->lines ? n : 0;
    size_t i = 0;
    for (const cs_json *li = out->lines ? items->first : NULL; li; li = li->next, i++) {
        decode_line(ctx, li, i, locale, &out->lines[i]);
    }
}

static void decode_shipping(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    const cs_json *info = object(order, "shippingInfo");
    out->shipping_total = (cs_money){0, ctx->currency};
    if (!info) {
        return;
    }
    out->shipping_lines = cs_arena_calloc(ctx->arena, 1, sizeof(cs_shipping_line));
    if (!out->shipping_lines) {
        return;
    }
    out->shipping_line_count = 1;
    cs_shipping_line *s = out->shipping_lines;
    s->code = text(object(info, "shippingMethod"), "id");
    s->title = text(info, "shippingMethodName");
    s->price = money(ctx, object(info, "price"), "shippingInfo.price");
    s->discount = (cs_money){0, ctx->currency};
    cs_tax_line *tax;
    size_t count;
    tax_line(ctx, object(info, "taxRate"), object(info, "taxedPrice"), "shippingInfo", &tax, &count,
             &s->tax);
    out->shipping_total = s->price;
}

/* ---- states ---- */

typedef struct word {
    const char *from, *to;
} word;

static cs_str translate(cs_str state, const word *words, size_t n, const char *otherwise)
{
    for (size_t i = 0; i < n; i++) {
        if (cs_str_eq_c(state, words[i].from)) {
            return cs_str_from_c(words[i].to);
        }
    }
    return cs_str_from_c(otherwise);
}

static const word order_states[] = {
    {"Open", "open"}, {"Confirmed", "open"}, {"Complete", "closed"}, {"Cancelled", "cancelled"}};
static const word shipment_states[] = {
    {"Shipped", "fulfilled"}, {"Delivered", "fulfilled"}, {"Partial", "partial"}};
static const word payment_states[] = {{"Paid", "paid"},
                                      {"Pending", "pending"},
                                      {"BalanceDue", "pending"},
                                      {"Failed", "voided"},
                                      {"CreditOwed", "partially_refunded"}};

cs_str cs_commercetools_order_state(cs_str state)
{
    return translate(state, order_states, 4, "open");
}

cs_str cs_commercetools_shipment_state(cs_str state)
{
    return translate(state, shipment_states, 3, "unfulfilled");
}

static void decode_states(const cs_json *order, cs_order *out)
{
    out->order_status = cs_commercetools_order_state(text(order, "orderState"));
    out->fulfillment_status = cs_commercetools_shipment_state(text(order, "shipmentState"));
    out->payment_status = translate(text(order, "paymentState"), payment_states, 5, "pending");
}

/* ---- the order ---- */

static void decode_header(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    cs_str id = text(order, "id");
    if (id.len == 0) {
        problem(ctx, "id", "required", "the order has no id");
    }
    out->meta.source = CS_SYS_COMMERCETOOLS;
    out->meta.source_id = id;
    out->meta.source_version = text(order, "version");
    out->ids.by_system[CS_SYS_COMMERCETOOLS] = id;
    out->meta.correlation_id =
        cs_str_from_c(cs_arena_sprintf(ctx->arena, "commercetools:order:%.*s", CS_STR_FMT(id)));
    out->number = text(order, "orderNumber");
    out->store_code = text(object(order, "store"), "key");
    out->locale = text(order, "locale");
    out->created_at_ms = time_at(ctx, order, "createdAt");
    out->updated_at_ms = time_at(ctx, order, "lastModifiedAt");
    out->meta.updated_at_ms = out->updated_at_ms;
    decode_states(order, out);
    cs_str customer = text(order, "customerId");
    out->guest = customer.len == 0;
    out->customer.ids.by_system[CS_SYS_COMMERCETOOLS] = customer;
    out->customer.email = text(order, "customerEmail");
    cs_commercetools_address(object(order, "billingAddress"), ctx->arena, &out->billing);
    cs_commercetools_address(object(order, "shippingAddress"), ctx->arena, &out->shipping);
    out->billing.email = out->billing.email.len ? out->billing.email : out->customer.email;
}

static void decode_totals(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    const cs_json *taxed = object(order, "taxedPrice");
    int64_t lines = 0, discounts = 0;
    for (size_t i = 0; i < out->line_count; i++) {
        lines += out->lines[i].unit_price.minor_units * out->lines[i].quantity;
        discounts += out->lines[i].discount.minor_units;
    }
    out->subtotal = (cs_money){lines - discounts, ctx->currency};
    out->discount_total = (cs_money){discounts, ctx->currency};
    out->tax_total = money(ctx, object(taxed, "totalTax"), "taxedPrice.totalTax");
    out->total = taxed ? money(ctx, object(taxed, "totalGross"), "taxedPrice.totalGross")
                       : money(ctx, object(order, "totalPrice"), "totalPrice");
    const cs_json *first = array(order, "lineItems") ? array(order, "lineItems")->first : NULL;
    const cs_json *included =
        cs_json_object_get(object(first, "taxRate"), CS_STR_LIT("includedInPrice"));
    out->taxes_included = included && included->type == CS_JSON_BOOL && included->boolean;
}

cs_error cs_commercetools_order_decode(const cs_json *order, cs_arena *arena, cs_order *out,
                                       cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, NULL, NULL, false};
    memset(out, 0, sizeof(*out));
    if (!order || order->type != CS_JSON_OBJECT) {
        problem(&ctx, "", "type", "an order is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    out->currency = text(object(order, "totalPrice"), "currencyCode");
    ctx.currency = cs_currency_find(out->currency);
    if (!ctx.currency) {
        problem(&ctx, "totalPrice.currencyCode", "iso4217", "missing or not an ISO 4217 code");
    }
    ctx.discount_codes = array(order, "discountCodes");
    decode_header(&ctx, order, out);
    decode_lines(&ctx, order, out->locale, out);
    decode_shipping(&ctx, order, out);
    order_discounts(&ctx, out);
    decode_totals(&ctx, order, out);
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}
