/* The Shopify fake: the GraphQL Admin API operations the connector sends,
 * over the seeded shops of shopify_store.h.
 *
 * POST /shopify/{shop}/admin/api/2026-01/graphql.json with
 * X-Shopify-Access-Token "shpat_sandbox_{shop}" and {"query", "variables"}.
 * Operations are recognized by their name (the first word after "query" or
 * "mutation"): Orders, Customers, FulfillmentOrders, VariantsBySku, Locations,
 * OrderStatus, SetAvailable, Ship, SetInvoice, OrderCancel (orderCancel:
 * done at once, with the order's orders/cancelled webhooks; an order
 * cancelled already is an INVALID user error). Each checks its variables the way the
 * schema would and answers in Shopify's shapes: connections with pageInfo
 * and cursors, userErrors with codes and field paths, top-level errors for
 * invalid variables or unknown operations, and extensions.cost with the
 * leaky bucket's throttleStatus. A request costing more than the bucket
 * holds is THROTTLED (HTTP 200 by default, 429 when configured; the
 * reference leaves it open).
 *
 * Webhooks: placing or cancelling an order (through the sandbox's endpoints)
 * and fulfillmentCreate emit orders/create, orders/cancelled, orders/updated
 * and fulfillments/create with the resource's REST JSON as body.
 *
 * Query costs are the fake's own (Shopify's calculator is not public):
 * 2 + first x node cost for connections (orders 5, customers 2, variants 3,
 * locations 1), 10 for mutations, 5 for FulfillmentOrders; the actual cost
 * counts the nodes returned and the difference is refunded. */
#ifndef CS_SANDBOX_SHOPIFY_H
#define CS_SANDBOX_SHOPIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"

typedef struct sb_shopify sb_shopify;

/* Called for each webhook event: the shop, the topic ("orders/create") and
 * the body Shopify would send (the REST JSON of the resource). Called with
 * the fake's lock held: it must only queue the delivery. */
typedef void (*sb_emit_fn)(void *user, const char *shop, const char *topic, cs_str body);

typedef struct sb_shopify_opts {
    uint64_t seed;          /* 0: 42 */
    int orders_per_shop;    /* seeded; 0: 160 (see shopify_store.h) */
    int64_t now_ms;         /* the seed's clock; 0: now */
    double bucket_size;     /* 0: 1000 points */
    double restore_rate;    /* 0: 50 points a second */
    bool throttle_with_429; /* THROTTLED as HTTP 429 instead of 200 */
    sb_emit_fn emit;        /* NULL: no webhooks */
    void *emit_user;
} sb_shopify_opts;

typedef struct sb_reply {
    unsigned status;
    cs_buf body; /* JSON */
} sb_reply;

/* NULL without memory. */
sb_shopify *sb_shopify_new(const sb_shopify_opts *opts);
void sb_shopify_destroy(sb_shopify *s);

/* Answers one GraphQL request; reply->body must be initialized. */
void sb_shopify_graphql(sb_shopify *s, cs_str shop, cs_str version, cs_str token, cs_str body,
                        sb_reply *reply);

/* What the fake holds, for tests: a shop's stock as {"SKU-0001":
 * {"gid://shopify/Location/..": 12, ...}, ...} (stocked locations only). */
void sb_shopify_stock(sb_shopify *s, cs_str shop, sb_reply *reply);
/* An order's state: {"cancelled": bool, "fulfillments": [...],
 * "metafields": [...], "remaining": {line id: n}}. */
void sb_shopify_order_state(sb_shopify *s, cs_str shop, int64_t order_id, sb_reply *reply);
/* A customer checks out: a new order, answered as its REST JSON and sent as
 * an orders/create webhook. */
void sb_shopify_place_order(sb_shopify *s, cs_str shop, sb_reply *reply);
/* The merchant cancels an order: orders/cancelled and orders/updated. */
void sb_shopify_cancel_order(sb_shopify *s, cs_str shop, int64_t order_id, sb_reply *reply);
/* The merchant refunds one unit of the order's first line (its refund is
 * then in the order's "refunds"): orders/updated. */
void sb_shopify_refund_order(sb_shopify *s, cs_str shop, int64_t order_id, sb_reply *reply);

/* Changes the buckets' settings (0 keeps the current size or rate) and fills
 * every shop's bucket, so a test starts from a known state. */
void sb_shopify_set_bucket(sb_shopify *s, double size, double restore_rate, bool with_429);

#endif
