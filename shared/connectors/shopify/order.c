#include "order.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "fields.h"

/* The names one shape of order uses. Webhooks and REST write snake_case,
 * amounts as plain strings with a money bag beside them ("price" and
 * "price_set"), lists as arrays and ids as numbers; GraphQL writes
 * camelCase, amounts only as bags ("originalUnitPriceSet"), lists as
 * connections (edges of nodes, or nodes) and ids as gid:// URIs. */
typedef struct shape {
    bool graphql;
    const char *shop_money, *presentment_money, *amount, *bag_currency;
    /* order */
    const char *created_at, *updated_at, *cancelled_at, *closed_at, *cancel_reason;
    const char *currency, *presentment_currency, *locale, *taxes_included;
    const char *financial_status, *fulfillment_status, *gateways;
    const char *billing, *shipping, *line_items, *shipping_lines;
    const char *subtotal_set, *discounts_set, *tax_set, *total_set, *shipping_total_set;
    /* lines */
    const char *price_set, *shipping_price_set, *allocations, *allocation_set, *tax_lines;
    const char *tax_price_set;
} shape;

static const shape webhook_shape = {
    .graphql = false,
    .shop_money = "shop_money",
    .presentment_money = "presentment_money",
    .amount = "amount",
    .bag_currency = "currency_code",
    .created_at = "created_at",
    .updated_at = "updated_at",
    .cancelled_at = "cancelled_at",
    .closed_at = "closed_at",
    .cancel_reason = "cancel_reason",
    .currency = "currency",
    .presentment_currency = "presentment_currency",
    .locale = "customer_locale",
    .taxes_included = "taxes_included",
    .financial_status = "financial_status",
    .fulfillment_status = "fulfillment_status",
    .gateways = "payment_gateway_names",
    .billing = "billing_address",
    .shipping = "shipping_address",
    .line_items = "line_items",
    .shipping_lines = "shipping_lines",
    .subtotal_set = "subtotal_price_set",
    .discounts_set = "total_discounts_set",
    .tax_set = "total_tax_set",
    .total_set = "total_price_set",
    .shipping_total_set = "total_shipping_price_set",
    .price_set = "price_set",
    .shipping_price_set = "price_set",
    .allocations = "discount_allocations",
    .allocation_set = "amount_set",
    .tax_lines = "tax_lines",
    .tax_price_set = "price_set",
};

static const shape graphql_shape = {
    .graphql = true,
    .shop_money = "shopMoney",
    .presentment_money = "presentmentMoney",
    .amount = "amount",
    .bag_currency = "currencyCode",
    .created_at = "createdAt",
    .updated_at = "updatedAt",
    .cancelled_at = "cancelledAt",
    .closed_at = "closedAt",
    .cancel_reason = "cancelReason",
    .currency = "currencyCode",
    .presentment_currency = "presentmentCurrencyCode",
    .locale = "customerLocale",
    .taxes_included = "taxesIncluded",
    .financial_status = "displayFinancialStatus",
    .fulfillment_status = "displayFulfillmentStatus",
    .gateways = "paymentGatewayNames",
    .billing = "billingAddress",
    .shipping = "shippingAddress",
    .line_items = "lineItems",
    .shipping_lines = "shippingLines",
    .subtotal_set = "subtotalPriceSet",
    .discounts_set = "totalDiscountsSet",
    .tax_set = "totalTaxSet",
    .total_set = "totalPriceSet",
    .shipping_total_set = "totalShippingPriceSet",
    .price_set = "originalUnitPriceSet",
    .shipping_price_set = "originalPriceSet",
    .allocations = "discountAllocations",
    .allocation_set = "allocatedAmountSet",
    .tax_lines = "taxLines",
    .tax_price_set = "priceSet",
};

typedef struct decode_ctx {
    const shape *shape;
    cs_arena *arena;
    cs_problems *problems;
    const cs_currency *currency;
    const char *money; /* shape->shop_money or ->presentment_money */
    bool failed;
} decode_ctx;

static void problem(decode_ctx *ctx, const char *path, const char *rule, const char *message)
{
    ctx->failed = true;
    cs_problems_add(ctx->problems, path, rule, "%s", message);
}

/* Where a value sits in the order's JSON, as "line_items[2].tax_lines[0]".
 * Kept as parts and only formatted when there is a problem to report, since
 * decoding an order visits hundreds of values and fails on almost none. */
typedef struct where {
    const char *array; /* "line_items", or NULL at the top level */
    size_t index;
    const char *child_array; /* "tax_lines", or NULL */
    size_t child_index;
} where;

static const where TOP = {NULL, 0, NULL, 0};

static void problem_at(decode_ctx *ctx, where at, const char *key, const char *rule,
                       const char *message)
{
    char path[160];
    int n = 0;
    if (at.array) {
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

static cs_money parse_money(decode_ctx *ctx, cs_str text, where at, const char *key)
{
    cs_money m = {0, NULL};
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

/* An amount from its money bag (shop or presentment money, as chosen), or
 * from the plain webhook field beside it when the bag is missing and shop
 * money is wanted. A bag in another currency than the order's is a problem. */
static cs_money money_of(decode_ctx *ctx, const cs_json *obj, const char *bag_key,
                         const char *plain_key, where at)
{
    const cs_json *bag = cs_shopify_object(cs_shopify_object(obj, bag_key), ctx->money);
    if (!bag) {
        bool plain = plain_key && ctx->money == ctx->shape->shop_money;
        return plain ? parse_money(ctx, cs_shopify_text(obj, plain_key), at, plain_key)
                     : (cs_money){0, ctx->currency};
    }
    cs_str currency = cs_shopify_text(bag, ctx->shape->bag_currency);
    if (currency.len && ctx->currency && !cs_str_eq_c(currency, ctx->currency->code)) {
        char path[96];
        snprintf(path, sizeof(path), "%s.%s.%s", bag_key, ctx->money, ctx->shape->bag_currency);
        problem_at(ctx, at, path, "currency", "not the order's currency");
    }
    char path[96];
    snprintf(path, sizeof(path), "%s.%s.%s", bag_key, ctx->money, ctx->shape->amount);
    return parse_money(ctx, cs_shopify_text(bag, ctx->shape->amount), at, path);
}

static int64_t time_of(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    cs_str text = cs_shopify_text(obj, key);
    int64_t ms = 0;
    cs_diag diag;
    if (text.len && cs_time_parse_rfc3339(text, &ms, NULL, &diag)) {
        problem(ctx, key, "rfc3339", diag.message);
    }
    return ms;
}

/* GraphQL's nested reference ("variant": {"id": ...}) or the webhook's
 * "variant_id". */
static cs_str ref_id(const decode_ctx *ctx, const cs_json *obj, const char *webhook_key,
                     const char *graphql_object)
{
    return ctx->shape->graphql ? cs_shopify_id(cs_shopify_object(obj, graphql_object), "id")
                               : cs_shopify_id(obj, webhook_key);
}

static void *alloc_array(decode_ctx *ctx, size_t count, size_t elem)
{
    if (count == 0) {
        return NULL;
    }
    void *p = cs_arena_calloc(ctx->arena, count, elem);
    if (!p) {
        problem(ctx, "", "memory", "invocation memory cap reached");
    }
    return p;
}

static void decode_tax_lines(decode_ctx *ctx, const cs_json *owner, where at, cs_tax_line **lines,
                             size_t *count, cs_money *sum)
{
    bool edges;
    const cs_json *t = cs_shopify_list(owner, ctx->shape->tax_lines, count, &edges);
    *lines = alloc_array(ctx, *count, sizeof(**lines));
    *count = *lines ? *count : 0;
    *sum = (cs_money){0, ctx->currency};
    for (size_t i = 0; i < *count; t = t->next, i++) {
        const cs_json *tax = cs_shopify_node(t, edges);
        (*lines)[i].title = cs_shopify_text(tax, "title");
        (*lines)[i].rate = cs_shopify_text(tax, "rate");
        (*lines)[i].amount = money_of(ctx, tax, ctx->shape->tax_price_set, "price",
                                      (where){at.array, at.index, ctx->shape->tax_lines, i});
        sum->minor_units += (*lines)[i].amount.minor_units;
    }
}

/* The code (or title) of the discount an allocation comes from: webhooks
 * point at discount_applications by index, GraphQL nests the application. */
static cs_str allocation_name(const decode_ctx *ctx, const cs_json *applications,
                              const cs_json *allocation)
{
    const cs_json *app = NULL;
    if (ctx->shape->graphql) {
        app = cs_shopify_object(allocation, "discountApplication");
    } else {
        int64_t index;
        const cs_json *idx =
            cs_json_object_get(allocation, CS_STR_LIT("discount_application_index"));
        if (idx && !cs_parse_int64(idx->text, &index) && index >= 0) {
            app = cs_json_array_at(applications, (size_t)index);
        }
    }
    cs_str code = cs_shopify_text(app, "code");
    return code.len ? code : cs_shopify_text(app, "title");
}

static void decode_allocations(decode_ctx *ctx, const cs_json *owner, const cs_json *applications,
                               where at, cs_discount_allocation **out, size_t *count, cs_money *sum)
{
    bool edges;
    const cs_json *a = cs_shopify_list(owner, ctx->shape->allocations, count, &edges);
    *out = alloc_array(ctx, *count, sizeof(**out));
    *count = *out ? *count : 0;
    *sum = (cs_money){0, ctx->currency};
    for (size_t i = 0; i < *count; a = a->next, i++) {
        const cs_json *allocation = cs_shopify_node(a, edges);
        (*out)[i].code = allocation_name(ctx, applications, allocation);
        (*out)[i].amount = money_of(ctx, allocation, ctx->shape->allocation_set, "amount",
                                    (where){at.array, at.index, ctx->shape->allocations, i});
        sum->minor_units += (*out)[i].amount.minor_units;
    }
}

static void decode_line(decode_ctx *ctx, const cs_json *li, const cs_json *applications, size_t i,
                        cs_order_line *line)
{
    where at = {ctx->shape->line_items, i, NULL, 0};
    line->line_id = cs_shopify_id(li, "id");
    line->sku = cs_shopify_text(li, "sku");
    line->variant_id = ref_id(ctx, li, "variant_id", "variant");
    line->product_id = ref_id(ctx, li, "product_id", "product");
    line->title = cs_shopify_text(li, "title");
    const cs_json *qty = cs_json_object_get(li, CS_STR_LIT("quantity"));
    if (!qty || qty->type != CS_JSON_NUMBER || cs_parse_int64(qty->text, &line->quantity)) {
        problem_at(ctx, at, "quantity", "type", "expected an integer quantity");
    }
    line->unit_price = money_of(ctx, li, ctx->shape->price_set, "price", at);
    decode_allocations(ctx, li, applications, at, &line->discounts, &line->discount_count,
                       &line->discount);
    decode_tax_lines(ctx, li, at, &line->tax_lines, &line->tax_line_count, &line->tax);
}

static void decode_lines(decode_ctx *ctx, const cs_json *order, const cs_json *applications,
                         cs_order *out)
{
    bool edges;
    const cs_json *li = cs_shopify_list(order, ctx->shape->line_items, &out->line_count, &edges);
    out->lines = alloc_array(ctx, out->line_count, sizeof(cs_order_line));
    out->line_count = out->lines ? out->line_count : 0;
    for (size_t i = 0; i < out->line_count; li = li->next, i++) {
        decode_line(ctx, cs_shopify_node(li, edges), applications, i, &out->lines[i]);
    }
}

static void decode_shipping(decode_ctx *ctx, const cs_json *order, const cs_json *applications,
                            cs_order *out)
{
    bool edges;
    const cs_json *s =
        cs_shopify_list(order, ctx->shape->shipping_lines, &out->shipping_line_count, &edges);
    out->shipping_lines = alloc_array(ctx, out->shipping_line_count, sizeof(cs_shipping_line));
    out->shipping_line_count = out->shipping_lines ? out->shipping_line_count : 0;
    for (size_t i = 0; i < out->shipping_line_count; s = s->next, i++) {
        where at = {ctx->shape->shipping_lines, i, NULL, 0};
        const cs_json *line = cs_shopify_node(s, edges);
        cs_shipping_line *sl = &out->shipping_lines[i];
        sl->code = cs_shopify_text(line, "code");
        sl->title = cs_shopify_text(line, "title");
        sl->carrier = cs_shopify_text(line, "source");
        sl->price = money_of(ctx, line, ctx->shape->shipping_price_set, "price", at);
        cs_discount_allocation *allocations;
        size_t allocation_count;
        decode_allocations(ctx, line, applications, at, &allocations, &allocation_count,
                           &sl->discount);
        cs_tax_line *taxes;
        size_t tax_count;
        decode_tax_lines(ctx, line, at, &taxes, &tax_count, &sl->tax);
    }
}

static void decode_webhook_discounts(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    bool edges;
    const cs_json *d = cs_shopify_list(order, "discount_codes", &out->discount_count, &edges);
    out->discounts = alloc_array(ctx, out->discount_count, sizeof(cs_order_discount));
    out->discount_count = out->discounts ? out->discount_count : 0;
    for (size_t i = 0; i < out->discount_count; d = d->next, i++) {
        out->discounts[i].code = cs_shopify_text(d, "code");
        out->discounts[i].kind = cs_shopify_text(d, "type");
        out->discounts[i].amount =
            money_of(ctx, d, "amount_set", "amount", (where){"discount_codes", i, NULL, 0});
    }
}

static void add_allocations(cs_order_discount *d, const cs_discount_allocation *a, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        d->amount.minor_units += cs_str_eq(a[i].code, d->code) ? a[i].amount.minor_units : 0;
    }
}

/* The webhook's discount_codes are GraphQL's discount code applications;
 * what each took off is the sum of the line allocations that name it, and
 * its kind follows from its value's type. */
static void decode_graphql_discounts(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    bool edges;
    size_t count;
    const cs_json *first = cs_shopify_list(order, "discountApplications", &count, &edges);
    out->discounts = alloc_array(ctx, count, sizeof(cs_order_discount));
    out->discount_count = 0;
    for (const cs_json *a = out->discounts ? first : NULL; a; a = a->next) {
        const cs_json *app = cs_shopify_node(a, edges);
        if (!cs_str_eq_c(cs_shopify_text(app, "__typename"), "DiscountCodeApplication")) {
            continue;
        }
        cs_order_discount *discount = &out->discounts[out->discount_count++];
        discount->code = cs_shopify_text(app, "code");
        cs_str value_type = cs_shopify_text(cs_shopify_object(app, "value"), "__typename");
        discount->kind = cs_str_eq_c(value_type, "MoneyV2") ? CS_STR_LIT("fixed_amount")
                         : cs_str_eq_c(value_type, "PricingPercentageValue")
                             ? CS_STR_LIT("percentage")
                             : CS_STR_NULL;
        discount->amount = (cs_money){0, ctx->currency};
        for (size_t k = 0; k < out->line_count; k++) {
            add_allocations(discount, out->lines[k].discounts, out->lines[k].discount_count);
        }
    }
}

static cs_str fulfillment_status(decode_ctx *ctx, const cs_json *order)
{
    cs_str status = cs_shopify_text(order, ctx->shape->fulfillment_status);
    if (!ctx->shape->graphql) {
        return status.len ? status : CS_STR_LIT("unfulfilled");
    }
    if (cs_str_eq_c(status, "FULFILLED")) {
        return CS_STR_LIT("fulfilled");
    }
    return cs_str_eq_c(status, "PARTIALLY_FULFILLED") || cs_str_eq_c(status, "IN_PROGRESS")
               ? CS_STR_LIT("partial")
               : CS_STR_LIT("unfulfilled");
}

static cs_str order_status(const decode_ctx *ctx, const cs_json *order)
{
    if (cs_shopify_text(order, ctx->shape->cancelled_at).len) {
        return CS_STR_LIT("cancelled");
    }
    return cs_shopify_text(order, ctx->shape->closed_at).len ? CS_STR_LIT("closed")
                                                             : CS_STR_LIT("open");
}

static void set_ids(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    if (cs_shopify_provenance(order, "order", ctx->arena, &out->meta, &out->ids).len == 0) {
        problem(ctx, "id", "required", "the order has no id");
    }
}

static void decode_header(decode_ctx *ctx, const cs_json *order, const cs_shopify_order_opts *opts,
                          cs_order *out)
{
    const shape *s = ctx->shape;
    set_ids(ctx, order, out);
    out->number = cs_shopify_text(order, "name");
    out->store_code = opts ? opts->store_code : CS_STR_NULL;
    bool presentment = opts && opts->presentment;
    out->currency = cs_shopify_text(order, presentment ? s->presentment_currency : s->currency);
    out->locale = cs_shopify_text(order, s->locale);
    out->created_at_ms = time_of(ctx, order, s->created_at);
    out->updated_at_ms = time_of(ctx, order, s->updated_at);
    out->cancelled_at_ms = time_of(ctx, order, s->cancelled_at);
    out->meta.updated_at_ms = out->updated_at_ms;
    cs_str reason = cs_shopify_text(order, s->cancel_reason);
    out->cancel_reason = s->graphql ? cs_shopify_lower(ctx->arena, reason) : reason;
    out->order_status = order_status(ctx, order);
    cs_str financial = cs_shopify_text(order, s->financial_status);
    out->payment_status = s->graphql ? cs_shopify_lower(ctx->arena, financial) : financial;
    out->fulfillment_status = fulfillment_status(ctx, order);
    const cs_json *taxes_included = cs_json_object_get(order, cs_str_from_c(s->taxes_included));
    out->taxes_included = taxes_included && taxes_included->boolean;
    out->note = cs_shopify_text(order, "note");
    const cs_json *gateways = cs_json_object_get(order, cs_str_from_c(s->gateways));
    out->payment_method = gateways && gateways->type == CS_JSON_ARRAY && gateways->first
                              ? gateways->first->text
                              : CS_STR_NULL;
}

static void decode_customer(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    const cs_json *customer = cs_shopify_object(order, "customer");
    out->guest = !customer;
    cs_str email = cs_shopify_text(order, "email");
    if (email.len == 0 && customer) {
        email = cs_shopify_text(customer, "email");
    }
    out->customer.email = email;
    if (customer) {
        out->customer.ids.by_system[CS_SYS_SHOPIFY] = cs_shopify_id(customer, "id");
    }
    cs_shopify_address(cs_shopify_object(order, ctx->shape->billing), ctx->shape->graphql,
                       &out->billing);
    cs_shopify_address(cs_shopify_object(order, ctx->shape->shipping), ctx->shape->graphql,
                       &out->shipping);
    out->billing.email = email;
}

static void decode_totals(decode_ctx *ctx, const cs_json *order, cs_order *out)
{
    const shape *s = ctx->shape;
    out->subtotal = money_of(ctx, order, s->subtotal_set, "subtotal_price", TOP);
    out->discount_total = money_of(ctx, order, s->discounts_set, "total_discounts", TOP);
    out->tax_total = money_of(ctx, order, s->tax_set, "total_tax", TOP);
    out->total = money_of(ctx, order, s->total_set, "total_price", TOP);
    out->shipping_total = money_of(ctx, order, s->shipping_total_set, NULL, TOP);
}

static cs_error decode(const shape *s, const cs_json *order, const cs_shopify_order_opts *opts,
                       cs_arena *arena, cs_order *out, cs_problems *problems)
{
    bool presentment = opts && opts->presentment;
    decode_ctx ctx = {
        s, arena, problems, NULL, presentment ? s->presentment_money : s->shop_money, false};
    memset(out, 0, sizeof(*out));
    if (!order || order->type != CS_JSON_OBJECT) {
        problem(&ctx, "", "type", "an order is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    decode_header(&ctx, order, opts, out);
    ctx.currency = cs_currency_find(out->currency);
    if (!ctx.currency) {
        problem(&ctx, presentment ? s->presentment_currency : s->currency, "iso4217",
                "missing or not an ISO 4217 code");
    }
    decode_customer(&ctx, order, out);
    const cs_json *applications = cs_json_object_get(order, CS_STR_LIT("discount_applications"));
    decode_lines(&ctx, order, applications, out);
    decode_shipping(&ctx, order, applications, out);
    if (s->graphql) {
        decode_graphql_discounts(&ctx, order, out);
    } else {
        decode_webhook_discounts(&ctx, order, out);
    }
    decode_totals(&ctx, order, out);
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

cs_error cs_shopify_order_decode(const cs_json *order, const cs_shopify_order_opts *opts,
                                 cs_arena *arena, cs_order *out, cs_problems *problems)
{
    return decode(&webhook_shape, order, opts, arena, out, problems);
}

cs_error cs_shopify_order_decode_graphql(const cs_json *order, const cs_shopify_order_opts *opts,
                                         cs_arena *arena, cs_order *out, cs_problems *problems)
{
    return decode(&graphql_shape, order, opts, arena, out, problems);
}
