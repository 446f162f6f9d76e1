#include "shopify_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/money.h"
#include "core/timestamp.h"

void sb_json_str(cs_json_writer *w, const char *key, const char *value)
{
    cs_json_write_key_c(w, key);
    if (value) {
        cs_json_write_string_c(w, value);
    } else {
        cs_json_write_null(w);
    }
}

void sb_json_int(cs_json_writer *w, const char *key, int64_t n)
{
    cs_json_write_key_c(w, key);
    cs_json_write_int64(w, n);
}

void sb_json_gid(cs_json_writer *w, const char *key, const char *type, int64_t id)
{
    char gid[96];
    snprintf(gid, sizeof(gid), "gid://shopify/%s/%" PRId64, type, id);
    sb_json_str(w, key, gid);
}

void sb_json_time(cs_json_writer *w, const char *key, int64_t ms)
{
    char text[CS_TIME_RFC3339_MAX];
    sb_json_str(w, key, ms == 0 || cs_time_format_rfc3339(ms, 0, text) ? NULL : text);
}

static void write_bag(cs_json_writer *w, sb_shape shape, const char *key, const sb_shop *shop,
                      int64_t units)
{
    char amount[CS_DECIMAL_MAX];
    cs_decimal_format(units, shop->exponent, amount);
    cs_json_write_key_c(w, key);
    cs_json_write_object_begin(w);
    for (int i = 0; i < 2; i++) {
        bool shop_money = i == 0;
        cs_json_write_key_c(w, shape == SB_GRAPHQL
                                   ? (shop_money ? "shopMoney" : "presentmentMoney")
                                   : (shop_money ? "shop_money" : "presentment_money"));
        cs_json_write_object_begin(w);
        sb_json_str(w, "amount", amount);
        sb_json_str(w, shape == SB_GRAPHQL ? "currencyCode" : "currency_code", shop->currency);
        cs_json_write_object_end(w);
    }
    cs_json_write_object_end(w);
}

void sb_json_money(cs_json_writer *w, const char *key, const sb_shop *shop, int64_t units)
{
    write_bag(w, SB_GRAPHQL, key, shop, units);
}

/* ---- the two shapes ---- */

static const char *pick(sb_shape shape, const char *graphql, const char *rest)
{
    return shape == SB_GRAPHQL ? graphql : rest;
}

/* GraphQL: "id": "gid://shopify/Type/1"; REST: "id": 1. */
static void write_id(cs_json_writer *w, sb_shape shape, const char *type, int64_t id)
{
    if (shape == SB_GRAPHQL) {
        sb_json_gid(w, "id", type, id);
    } else {
        sb_json_int(w, "id", id);
    }
}

/* GraphQL: "variant": {"id": gid}; REST: "variant_id": 1. */
static void write_ref(cs_json_writer *w, sb_shape shape, const char *object, const char *rest_key,
                      const char *type, int64_t id)
{
    if (shape == SB_REST) {
        sb_json_int(w, rest_key, id);
        return;
    }
    cs_json_write_key_c(w, object);
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", type, id);
    cs_json_write_object_end(w);
}

/* GraphQL: "priceSet": bag; REST: "price": "1.00" and "price_set": bag. */
static void write_price(cs_json_writer *w, sb_shape shape, const char *graphql_key,
                        const char *rest_key, const sb_shop *shop, int64_t units)
{
    if (shape == SB_GRAPHQL) {
        write_bag(w, shape, graphql_key, shop, units);
        return;
    }
    char amount[CS_DECIMAL_MAX], bag[48];
    cs_decimal_format(units, shop->exponent, amount);
    sb_json_str(w, rest_key, amount);
    snprintf(bag, sizeof(bag), "%s_set", rest_key);
    write_bag(w, shape, bag, shop, units);
}

/* A list: an array, or in GraphQL a connection ({"nodes": [...]}). */
static void list_begin(cs_json_writer *w, sb_shape shape, const char *graphql_key,
                       const char *rest_key, bool connection)
{
    cs_json_write_key_c(w, pick(shape, graphql_key, rest_key));
    if (shape == SB_GRAPHQL && connection) {
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "nodes");
    }
    cs_json_write_array_begin(w);
}

static void list_end(cs_json_writer *w, sb_shape shape, bool connection)
{
    cs_json_write_array_end(w);
    if (shape == SB_GRAPHQL && connection) {
        cs_json_write_object_end(w);
    }
}

void sb_json_address(cs_json_writer *w, sb_shape shape, const char *key, const sb_shop *shop,
                     const char *first_name, const char *last_name)
{
    /* Each shop's customers live where the shop sells. */
    static const char *cities[][4] = {{"USD", "Louisville", "KY", "US"},
                                      {"EUR", "Berlin", "BE", "DE"},
                                      {"JPY", "Tokyo", "13", "JP"}};
    const char *const *city = cities[0];
    for (size_t k = 0; k < sizeof(cities) / sizeof(cities[0]); k++) {
        city = strcmp(shop->currency, cities[k][0]) == 0 ? cities[k] : city;
    }
    cs_json_write_key_c(w, key);
    cs_json_write_object_begin(w);
    sb_json_str(w, pick(shape, "firstName", "first_name"), first_name);
    sb_json_str(w, pick(shape, "lastName", "last_name"), last_name);
    sb_json_str(w, "company", NULL);
    sb_json_str(w, "address1", "Main Street 1");
    sb_json_str(w, "address2", NULL);
    sb_json_str(w, "city", city[1]);
    sb_json_str(w, pick(shape, "provinceCode", "province_code"), city[2]);
    sb_json_str(w, "zip", "10001");
    sb_json_str(w, pick(shape, "countryCodeV2", "country_code"), city[3]);
    sb_json_str(w, "phone", NULL);
    cs_json_write_object_end(w);
}

/* ---- orders ---- */

const char *sb_fulfillment_status(const sb_order *o)
{
    int64_t left = 0, total = 0;
    for (int i = 0; i < o->line_count; i++) {
        left += o->lines[i].remaining;
        total += o->lines[i].quantity;
    }
    return left == 0 ? "FULFILLED" : left == total ? "UNFULFILLED" : "PARTIALLY_FULFILLED";
}

static void write_tax_lines(cs_json_writer *w, sb_shape shape, const sb_shop *shop, int64_t tax)
{
    char rate[16];
    snprintf(rate, sizeof(rate), "%d.%04d", shop->tax_rate_bp / 10000, shop->tax_rate_bp % 10000);
    list_begin(w, shape, "taxLines", "tax_lines", false);
    cs_json_write_object_begin(w);
    sb_json_str(w, "title", shop->taxes_included ? "VAT" : "Sales tax");
    cs_json_write_key_c(w, "rate");
    cs_json_write_number_text(w, cs_str_from_c(rate));
    write_price(w, shape, "priceSet", "price", shop, tax);
    cs_json_write_object_end(w);
    list_end(w, shape, false);
}

static void write_allocation(cs_json_writer *w, sb_shape shape, const sb_shop *shop,
                             const sb_order *o, int64_t amount)
{
    cs_json_write_object_begin(w);
    write_price(w, shape, "allocatedAmountSet", "amount", shop, amount);
    if (shape == SB_REST) {
        sb_json_int(w, "discount_application_index", 0);
    } else {
        cs_json_write_key_c(w, "discountApplication");
        cs_json_write_object_begin(w);
        sb_json_str(w, "__typename", "DiscountCodeApplication");
        sb_json_str(w, "code", o->code);
        sb_json_int(w, "index", 0);
        cs_json_write_object_end(w);
    }
    cs_json_write_object_end(w);
}

static void write_line(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o,
                       const sb_line *l)
{
    const sb_variant *v = &shop->variants[l->variant];
    cs_json_write_object_begin(w);
    write_id(w, shape, "LineItem", l->id);
    write_ref(w, shape, "variant", "variant_id", "ProductVariant", v->id);
    write_ref(w, shape, "product", "product_id", "Product", v->product_id);
    sb_json_str(w, "sku", v->sku);
    sb_json_str(w, "title", v->title);
    sb_json_int(w, "quantity", l->quantity);
    if (shape == SB_REST) {
        sb_json_int(w, "fulfillable_quantity", l->remaining);
    }
    write_price(w, shape, "originalUnitPriceSet", "price", shop, v->price);
    list_begin(w, shape, "discountAllocations", "discount_allocations", false);
    if (o->code[0]) {
        write_allocation(w, shape, shop, o, l->discount);
    }
    list_end(w, shape, false);
    write_tax_lines(w, shape, shop, l->tax);
    cs_json_write_object_end(w);
}

/* GraphQL lists the code's application with its value; REST lists the
 * application and, apart, the code with the amount it took off. */
static void write_discounts(cs_json_writer *w, sb_shape shape, const sb_shop *shop,
                            const sb_order *o, int64_t amount)
{
    char value[CS_DECIMAL_MAX];
    cs_decimal_format(amount, shop->exponent, value);
    list_begin(w, shape, "discountApplications", "discount_applications", true);
    if (o->code[0]) {
        cs_json_write_object_begin(w);
        sb_json_str(w, pick(shape, "__typename", "type"),
                    pick(shape, "DiscountCodeApplication", "discount_code"));
        sb_json_str(w, "code", o->code);
        sb_json_str(w, pick(shape, "allocationMethod", "allocation_method"),
                    pick(shape, "ACROSS", "across"));
        sb_json_str(w, pick(shape, "targetType", "target_type"),
                    pick(shape, "LINE_ITEM", "line_item"));
        if (shape == SB_GRAPHQL) {
            sb_json_int(w, "index", 0);
            cs_json_write_key_c(w, "value");
            cs_json_write_object_begin(w);
            sb_json_str(w, "__typename", "MoneyV2");
            sb_json_str(w, "amount", value);
            sb_json_str(w, "currencyCode", shop->currency);
            cs_json_write_object_end(w);
        } else {
            sb_json_str(w, "value", value);
            sb_json_str(w, "value_type", "fixed_amount");
        }
        cs_json_write_object_end(w);
    }
    list_end(w, shape, true);
    if (shape == SB_REST) {
        cs_json_write_key_c(w, "discount_codes");
        cs_json_write_array_begin(w);
        if (o->code[0]) {
            cs_json_write_object_begin(w);
            sb_json_str(w, "code", o->code);
            sb_json_str(w, "amount", value);
            sb_json_str(w, "type", "fixed_amount");
            cs_json_write_object_end(w);
        }
        cs_json_write_array_end(w);
    }
}

static void write_shipping(cs_json_writer *w, sb_shape shape, const sb_shop *shop,
                           const sb_order *o)
{
    list_begin(w, shape, "shippingLines", "shipping_lines", true);
    cs_json_write_object_begin(w);
    write_id(w, shape, "ShippingLine", o->id * 10 + 9);
    sb_json_str(w, "code", "STANDARD");
    sb_json_str(w, "title", "Standard shipping");
    sb_json_str(w, "source", "shopify");
    write_price(w, shape, "originalPriceSet", "price", shop, o->shipping);
    list_begin(w, shape, "discountAllocations", "discount_allocations", false);
    list_end(w, shape, false);
    write_tax_lines(w, shape, shop, o->shipping_tax);
    cs_json_write_object_end(w);
    list_end(w, shape, true);
}

static void write_customer(cs_json_writer *w, sb_shape shape, const sb_shop *shop,
                           const sb_order *o)
{
    const sb_customer *cu = o->customer >= 0 ? &shop->customers[o->customer] : NULL;
    cs_json_write_key_c(w, "customer");
    if (cu) {
        cs_json_write_object_begin(w);
        write_id(w, shape, "Customer", cu->id);
        sb_json_str(w, "email", cu->email);
        sb_json_str(w, pick(shape, "firstName", "first_name"), cu->first_name);
        sb_json_str(w, pick(shape, "lastName", "last_name"), cu->last_name);
        cs_json_write_object_end(w);
    } else {
        cs_json_write_null(w);
    }
    const char *first = cu ? cu->first_name : "Guest", *last = cu ? cu->last_name : "Buyer";
    sb_json_address(w, shape, pick(shape, "billingAddress", "billing_address"), shop, first, last);
    sb_json_address(w, shape, pick(shape, "shippingAddress", "shipping_address"), shop, first,
                    last);
}

/* A partly refunded order's one refund (sb_order_refund). */
static void write_refund(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o)
{
    sb_refund r = sb_order_refund(shop, o);
    const sb_line *l = &o->lines[0];
    cs_json_write_object_begin(w);
    write_id(w, shape, "Refund", r.id);
    sb_json_time(w, pick(shape, "createdAt", "created_at"), r.created_ms);
    sb_json_str(w, "note", "Returned by the customer");
    list_begin(w, shape, "refundLineItems", "refund_line_items", true);
    cs_json_write_object_begin(w);
    sb_json_int(w, "quantity", 1);
    sb_json_str(w, pick(shape, "restockType", "restock_type"), pick(shape, "RETURN", "return"));
    if (shape == SB_REST) {
        sb_json_int(w, "line_item_id", l->id);
    }
    cs_json_write_key_c(w, pick(shape, "lineItem", "line_item"));
    cs_json_write_object_begin(w);
    write_id(w, shape, "LineItem", l->id);
    sb_json_str(w, "sku", shop->variants[l->variant].sku);
    cs_json_write_object_end(w);
    write_price(w, shape, "subtotalSet", "subtotal", shop, r.subtotal);
    cs_json_write_object_end(w);
    list_end(w, shape, true);
    if (shape == SB_GRAPHQL) {
        sb_json_money(w, "totalRefundedSet", shop, r.total);
        list_begin(w, shape, "refundShippingLines", NULL, true);
        list_end(w, shape, true);
    } else {
        char amount[CS_DECIMAL_MAX];
        cs_decimal_format(r.total, shop->exponent, amount);
        sb_json_int(w, "order_id", o->id);
        cs_json_write_key_c(w, "transactions");
        cs_json_write_array_begin(w);
        cs_json_write_object_begin(w);
        sb_json_str(w, "kind", "refund");
        sb_json_str(w, "status", "success");
        sb_json_str(w, "amount", amount);
        cs_json_write_object_end(w);
        cs_json_write_array_end(w);
        cs_json_write_key_c(w, "order_adjustments");
        cs_json_write_array_begin(w);
        cs_json_write_array_end(w);
    }
    cs_json_write_object_end(w);
}

static void write_status(cs_json_writer *w, sb_shape shape, const sb_order *o)
{
    const char *financial = o->cancelled_ms      ? "VOIDED"
                            : o->refunded_partly ? "PARTIALLY_REFUNDED"
                                                 : "PAID";
    const char *fulfillment = sb_fulfillment_status(o);
    if (shape == SB_GRAPHQL) {
        sb_json_str(w, "displayFinancialStatus", financial);
        sb_json_str(w, "displayFulfillmentStatus", fulfillment);
        return;
    }
    /* The webhook's words are the enum's in lower case; fulfillment is null
     * until something shipped. */
    char lower[24];
    size_t i = 0;
    for (; financial[i] && i + 1 < sizeof(lower); i++) {
        lower[i] =
            (char)(financial[i] >= 'A' && financial[i] <= 'Z' ? financial[i] + 32 : financial[i]);
    }
    lower[i] = '\0';
    sb_json_str(w, "financial_status", lower);
    sb_json_str(w, "fulfillment_status",
                strcmp(fulfillment, "FULFILLED") == 0             ? "fulfilled"
                : strcmp(fulfillment, "PARTIALLY_FULFILLED") == 0 ? "partial"
                                                                  : NULL);
}

static void write_totals(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o)
{
    sb_totals t = sb_order_totals(shop, o);
    write_price(w, shape, "subtotalPriceSet", "subtotal_price", shop, t.subtotal);
    write_price(w, shape, "totalDiscountsSet", "total_discounts", shop, t.discounts);
    write_price(w, shape, "totalTaxSet", "total_tax", shop, t.taxes);
    write_price(w, shape, "totalPriceSet", "total_price", shop, t.total);
    write_bag(w, shape, pick(shape, "totalShippingPriceSet", "total_shipping_price_set"), shop,
              o->shipping);
}

static void write_header(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o)
{
    char name[16];
    snprintf(name, sizeof(name), "#%d", o->number);
    write_id(w, shape, "Order", o->id);
    if (shape == SB_REST) {
        sb_json_gid(w, "admin_graphql_api_id", "Order", o->id);
        sb_json_int(w, "order_number", o->number);
    }
    sb_json_str(w, "name", name);
    sb_json_str(w, "email", o->email);
    sb_json_time(w, pick(shape, "createdAt", "created_at"), o->created_ms);
    sb_json_time(w, pick(shape, "updatedAt", "updated_at"), o->updated_ms);
    sb_json_time(w, pick(shape, "cancelledAt", "cancelled_at"), o->cancelled_ms);
    sb_json_str(w, pick(shape, "cancelReason", "cancel_reason"),
                o->cancelled_ms ? pick(shape, "CUSTOMER", "customer") : NULL);
    sb_json_time(w, pick(shape, "closedAt", "closed_at"), 0);
    sb_json_str(w, pick(shape, "currencyCode", "currency"), shop->currency);
    sb_json_str(w, pick(shape, "presentmentCurrencyCode", "presentment_currency"), shop->currency);
    sb_json_str(w, pick(shape, "customerLocale", "customer_locale"), "en");
    cs_json_write_key_c(w, pick(shape, "taxesIncluded", "taxes_included"));
    cs_json_write_bool(w, shop->taxes_included);
    write_status(w, shape, o);
    cs_json_write_key_c(w, pick(shape, "paymentGatewayNames", "payment_gateway_names"));
    cs_json_write_array_begin(w);
    cs_json_write_string_c(w, "shopify_payments");
    cs_json_write_array_end(w);
    sb_json_str(w, "note", NULL);
}

void sb_json_order(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o)
{
    cs_json_write_object_begin(w);
    write_header(w, shape, shop, o);
    write_totals(w, shape, shop, o);
    write_discounts(w, shape, shop, o, sb_order_totals(shop, o).discounts);
    write_customer(w, shape, shop, o);
    list_begin(w, shape, "lineItems", "line_items", true);
    for (int i = 0; i < o->line_count; i++) {
        write_line(w, shape, shop, o, &o->lines[i]);
    }
    list_end(w, shape, true);
    write_shipping(w, shape, shop, o);
    list_begin(w, shape, "refunds", "refunds", false);
    if (o->refunded_partly) {
        write_refund(w, shape, shop, o);
    }
    list_end(w, shape, false);
    cs_json_write_object_end(w);
}
