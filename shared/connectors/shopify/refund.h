/* Shopify refunds to canonical returns (kind "refund"), from the
 * refunds/create webhook (or an entry of an order's "refunds") and from
 * GraphQL Refund nodes. Each refunded line keeps its order line id, SKU,
 * quantity, restock type (as the line's reason: "return", "cancel",
 * "no_restock") and amount before tax; the shipping refund and the total
 * actually refunded (successful refund transactions, or totalRefundedSet)
 * come with it. The ERP turns one into a credit memo. */
#ifndef CS_CONNECTORS_SHOPIFY_REFUND_H
#define CS_CONNECTORS_SHOPIFY_REFUND_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

typedef struct cs_shopify_refund_opts {
    cs_str currency;  /* the order's shop (or presentment) currency; required */
    bool presentment; /* amounts from the presentment money bags */
    cs_str order_id;  /* when the refund itself does not say (GraphQL nodes) */
    cs_str order_number;
} cs_shopify_refund_opts;

cs_error cs_shopify_refund_decode(const cs_json *refund, const cs_shopify_refund_opts *opts,
                                  cs_arena *arena, cs_return *out, cs_problems *problems);
cs_error cs_shopify_refund_decode_graphql(const cs_json *refund, const cs_shopify_refund_opts *opts,
                                          cs_arena *arena, cs_return *out, cs_problems *problems);

/* The refunds an order carries ("refunds" in both shapes), decoded with the
 * order's own currency, id and number; out in arena. Each refund's problems
 * go to problems with its index ("refunds[1].id: ..."). */
cs_error cs_shopify_order_refunds(const cs_json *order, bool graphql, const cs_order *decoded,
                                  bool presentment, cs_arena *arena, cs_return **out, size_t *count,
                                  cs_problems *problems);

#endif
