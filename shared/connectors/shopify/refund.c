#include "refund.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "fields.h"

typedef struct decode_ctx {
    bool graphql;
    const cs_currency *currency;
    const char *money; /* "shop_money", "presentmentMoney", ... */
    cs_arena *arena;
    cs_problems *problems;
    bool failed;
} decode_ctx;

static void problem(decode_ctx *ctx, const char *path, const char *rule, const char *message)
{
    ctx->failed = true;
    cs_problems_add(ctx->problems, path, rule, "%s", message);
}

/* An amount from a money bag (bag_key.money.amount), or the plain webhook
 * field when the bag is absent and shop money is wanted. Refunds and
 * shipping adjustments may be written negative; the record keeps their size. */
static cs_money money_at(decode_ctx *ctx, const cs_json *obj, const char *bag_key,
                         const char *plain_key, const char *path)
{
    const cs_json *bag = cs_shopify_object(cs_shopify_object(obj, bag_key), ctx->money);
    bool shop = strcmp(ctx->money, "shop_money") == 0 || strcmp(ctx->money, "shopMoney") == 0;
    cs_str text = bag ? cs_shopify_text(bag, "amount")
                      : (plain_key && shop ? cs_shopify_text(obj, plain_key) : CS_STR_NULL);
    cs_money m = {0, ctx->currency};
    cs_diag diag;
    if (text.len && ctx->currency &&
        cs_decimal_parse(text, ctx->currency->exponent, &m.minor_units, &diag)) {
        problem(ctx, path, "money", diag.message);
    }
    m.minor_units = m.minor_units < 0 ? -m.minor_units : m.minor_units;
    return m;
}

static void decode_line(decode_ctx *ctx, const cs_json *item, size_t i, cs_return_line *line)
{
    char path[96];
    const cs_json *order_line = cs_shopify_object(item, ctx->graphql ? "lineItem" : "line_item");
    line->line_id =
        ctx->graphql ? cs_shopify_id(order_line, "id") : cs_shopify_id(item, "line_item_id");
    line->sku = cs_shopify_text(order_line, "sku");
    const cs_json *qty = cs_json_object_get(item, CS_STR_LIT("quantity"));
    if (!qty || qty->type != CS_JSON_NUMBER || cs_parse_int64(qty->text, &line->quantity) ||
        line->quantity <= 0) {
        snprintf(path, sizeof(path), "%s[%zu].quantity",
                 ctx->graphql ? "refundLineItems" : "refund_line_items", i);
        problem(ctx, path, "type", "expected a positive integer quantity");
    }
    cs_str restock = cs_shopify_text(item, ctx->graphql ? "restockType" : "restock_type");
    line->reason = ctx->graphql ? cs_shopify_lower(ctx->arena, restock) : restock;
    snprintf(path, sizeof(path), "%s[%zu].%s",
             ctx->graphql ? "refundLineItems" : "refund_line_items", i,
             ctx->graphql ? "subtotalSet" : "subtotal");
    line->amount =
        money_at(ctx, item, ctx->graphql ? "subtotalSet" : "subtotal_set", "subtotal", path);
}

static void decode_lines(decode_ctx *ctx, const cs_json *refund, cs_return *out)
{
    bool edges;
    size_t count;
    const cs_json *e = cs_shopify_list(
        refund, ctx->graphql ? "refundLineItems" : "refund_line_items", &count, &edges);
    out->lines = count ? cs_arena_calloc(ctx->arena, count, sizeof(cs_return_line)) : NULL;
    out->line_count = out->lines ? count : 0;
    for (size_t i = 0; i < out->line_count; e = e->next, i++) {
        decode_line(ctx, cs_shopify_node(e, edges), i, &out->lines[i]);
    }
}

/* Webhooks: shipping comes back as an order adjustment of kind
 * "shipping_refund", and what was paid back is the successful refund
 * transactions. */
static void webhook_amounts(decode_ctx *ctx, const cs_json *refund, cs_return *out)
{
    bool edges;
    size_t count;
    out->shipping_refund = (cs_money){0, ctx->currency};
    const cs_json *a = cs_shopify_list(refund, "order_adjustments", &count, &edges);
    for (; a; a = a->next) {
        if (cs_str_eq_c(cs_shopify_text(a, "kind"), "shipping_refund")) {
            out->shipping_refund.minor_units +=
                money_at(ctx, a, "amount_set", "amount", "order_adjustments.amount").minor_units;
        }
    }
    out->total = (cs_money){0, ctx->currency};
    const cs_json *t = cs_shopify_list(refund, "transactions", &count, &edges);
    for (; t; t = t->next) {
        if (cs_str_eq_c(cs_shopify_text(t, "kind"), "refund") &&
            cs_str_eq_c(cs_shopify_text(t, "status"), "success")) {
            out->total.minor_units +=
                money_at(ctx, t, "amount_set", "amount", "transactions.amount").minor_units;
        }
    }
}

static void graphql_amounts(decode_ctx *ctx, const cs_json *refund, cs_return *out)
{
    bool edges;
    size_t count;
    out->shipping_refund = (cs_money){0, ctx->currency};
    const cs_json *s = cs_shopify_list(refund, "refundShippingLines", &count, &edges);
    for (; s; s = s->next) {
        out->shipping_refund.minor_units +=
            money_at(ctx, cs_shopify_node(s, edges), "subtotalAmountSet", NULL,
                     "refundShippingLines.subtotalAmountSet")
                .minor_units;
    }
    out->total = money_at(ctx, refund, "totalRefundedSet", NULL, "totalRefundedSet");
}

static void decode_header(decode_ctx *ctx, const cs_json *refund,
                          const cs_shopify_refund_opts *opts, cs_return *out)
{
    if (cs_shopify_provenance(refund, "refund", ctx->arena, &out->meta, &out->ids).len == 0) {
        problem(ctx, "id", "required", "the refund has no id");
    }
    cs_str order_id = cs_shopify_id(refund, "order_id");
    out->order_ids.by_system[CS_SYS_SHOPIFY] = order_id.len ? order_id : opts->order_id;
    out->order_number = opts->order_number;
    out->kind = CS_STR_LIT("refund");
    out->reason = cs_shopify_text(refund, "note");
    out->currency = opts->currency;
    const char *created = ctx->graphql ? "createdAt" : "created_at";
    cs_str text = cs_shopify_text(refund, created);
    cs_diag diag;
    if (text.len && cs_time_parse_rfc3339(text, &out->created_at_ms, NULL, &diag)) {
        problem(ctx, created, "rfc3339", diag.message);
    }
    out->meta.updated_at_ms = out->created_at_ms;
}

static cs_error decode(bool graphql, const cs_json *refund, const cs_shopify_refund_opts *opts,
                       cs_arena *arena, cs_return *out, cs_problems *problems)
{
    const char *money = graphql ? (opts->presentment ? "presentmentMoney" : "shopMoney")
                                : (opts->presentment ? "presentment_money" : "shop_money");
    decode_ctx ctx = {graphql, cs_currency_find(opts->currency), money, arena, problems, false};
    memset(out, 0, sizeof(*out));
    if (!refund || refund->type != CS_JSON_OBJECT) {
        problem(&ctx, "", "type", "a refund is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    if (!ctx.currency) {
        problem(&ctx, "currency", "iso4217", "the order's currency is not an ISO 4217 code");
    }
    decode_header(&ctx, refund, opts, out);
    decode_lines(&ctx, refund, out);
    if (graphql) {
        graphql_amounts(&ctx, refund, out);
    } else {
        webhook_amounts(&ctx, refund, out);
    }
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

cs_error cs_shopify_refund_decode(const cs_json *refund, const cs_shopify_refund_opts *opts,
                                  cs_arena *arena, cs_return *out, cs_problems *problems)
{
    return decode(false, refund, opts, arena, out, problems);
}

cs_error cs_shopify_refund_decode_graphql(const cs_json *refund, const cs_shopify_refund_opts *opts,
                                          cs_arena *arena, cs_return *out, cs_problems *problems)
{
    return decode(true, refund, opts, arena, out, problems);
}

cs_error cs_shopify_order_refunds(const cs_json *order, bool graphql, const cs_order *decoded,
                                  bool presentment, cs_arena *arena, cs_return **out, size_t *count,
                                  cs_problems *problems)
{
    bool edges;
    size_t n;
    const cs_json *r = cs_shopify_list(order, "refunds", &n, &edges);
    *out = n ? cs_arena_calloc(arena, n, sizeof(cs_return)) : NULL;
    *count = *out ? n : 0;
    cs_shopify_refund_opts opts = {.currency = decoded->currency,
                                   .presentment = presentment,
                                   .order_id = decoded->meta.source_id,
                                   .order_number = decoded->number};
    cs_error result = n && !*out ? CS_ERR_ARENA_FULL : CS_ERR_OK;
    for (size_t i = 0; i < *count; r = r->next, i++) {
        cs_problems own;
        cs_problems_init(&own, arena);
        if (decode(graphql, cs_shopify_node(r, edges), &opts, arena, &(*out)[i], &own)) {
            result = CS_ERR_INVALID_ARGUMENT;
            for (size_t k = 0; k < own.count; k++) {
                cs_problems_add(problems,
                                cs_arena_sprintf(arena, "refunds[%zu].%s", i, own.items[k].path),
                                own.items[k].rule, "%s", own.items[k].message);
            }
        }
    }
    return result;
}
