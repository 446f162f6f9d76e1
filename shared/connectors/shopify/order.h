/* Shopify orders, as webhooks and the REST Admin API send them, to the
 * canonical order.
 *
 * Amounts are taken in the shop currency (the plain fields and `shop_money`
 * of the money bags); `presentment_currency` is not used yet. Discount
 * allocations are named after the discount application they index. The
 * store code is not in Shopify's JSON: the integration config gives it per
 * shop. GraphQL order nodes are not decoded here yet. */
#ifndef CS_CONNECTORS_SHOPIFY_ORDER_H
#define CS_CONNECTORS_SHOPIFY_ORDER_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

typedef struct cs_shopify_order_opts {
    cs_str store_code; /* copied into the order */
} cs_shopify_order_opts;

/* Decodes one order object. Every problem is recorded with its path in the
 * Shopify JSON ("line_items[2].price"); returns CS_ERR_INVALID_ARGUMENT if
 * there was any. Strings point into the JSON; arrays go in arena. */
cs_error cs_shopify_order_decode(const cs_json *order, const cs_shopify_order_opts *opts,
                                 cs_arena *arena, cs_order *out, cs_problems *problems);

#endif
