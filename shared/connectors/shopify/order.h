/* Shopify orders to the canonical order, from both shapes Shopify writes:
 * webhooks and the REST Admin API (snake_case, numeric ids, plain amounts
 * beside money bags), and GraphQL Admin API order nodes (camelCase, gid://
 * ids, money bags only, connections as edges or nodes). Both give the same
 * canonical order: ids are the number at the end of a gid, GraphQL's enum
 * statuses become the webhook's words.
 *
 * Amounts are in the shop currency (`shop_money`/`shopMoney`), or with
 * `presentment` set in the currency the customer paid in
 * (`presentment_money`/`presentmentMoney`); a money bag in another currency
 * than the one chosen is a problem. Discount allocations are named after
 * their discount's code or title. The store code is not in Shopify's JSON:
 * the integration config gives it per shop. */
#ifndef CS_CONNECTORS_SHOPIFY_ORDER_H
#define CS_CONNECTORS_SHOPIFY_ORDER_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

typedef struct cs_shopify_order_opts {
    cs_str store_code; /* copied into the order */
    bool presentment;  /* amounts in the presentment currency, not the shop's */
} cs_shopify_order_opts;

/* Decodes one order object. Every problem is recorded with its path in the
 * Shopify JSON ("line_items[2].price"); returns CS_ERR_INVALID_ARGUMENT if
 * there was any. Strings point into the JSON; arrays go in arena. */
cs_error cs_shopify_order_decode(const cs_json *order, const cs_shopify_order_opts *opts,
                                 cs_arena *arena, cs_order *out, cs_problems *problems);
/* The same for a GraphQL Order node; problem paths use GraphQL's names
 * ("lineItems[2].originalUnitPriceSet.shopMoney.amount"), counting nodes. */
cs_error cs_shopify_order_decode_graphql(const cs_json *order, const cs_shopify_order_opts *opts,
                                         cs_arena *arena, cs_order *out, cs_problems *problems);

#endif
