/* The Shopify connector: the GraphQL Admin API over the shared HTTP client.
 *
 * - Auth by access token (X-Shopify-Access-Token); the flow resolves it from
 *   its secret reference at init and hands the value in.
 * - Cost-based pacing: each request takes its expected cost (the
 *   requestedQueryCost last seen for the same query, 50 before that) from
 *   the shop's bucket in the HTTP client, and every answer's
 *   extensions.cost.throttleStatus resets that bucket to what Shopify says is
 *   left, so a sync runs at the shop's rate instead of into THROTTLED.
 *   A THROTTLED answer all the same is retried once the bucket has refilled,
 *   up to 5 times and while the deadline allows.
 * - Errors: transport and HTTP failures as the HTTP client names them
 *   (transient ones retried there); GraphQL top-level errors are
 *   CS_ERR_HTTP_PERMANENT with Shopify's message and code; userErrors of a
 *   mutation are CS_ERR_HTTP_PERMANENT naming the code and field, except
 *   COMPARE_QUANTITY_STALE, which is CS_ERR_CONDITION_FAILED (re-read, then
 *   try again).
 * One client serves one shop and one thread. */
#ifndef CS_CONNECTORS_SHOPIFY_CLIENT_H
#define CS_CONNECTORS_SHOPIFY_CLIENT_H

#include "connectors/shopify/mutations.h"
#include "connectors/shopify/order.h"
#include "net/http.h"

typedef struct cs_shopify cs_shopify;

typedef struct cs_shopify_config {
    /* "https://{shop}.myshopify.com", or the sandbox's
     * "http://127.0.0.1:PORT/shopify/{shop}"; no trailing slash. */
    const char *shop_url;
    const char *api_version; /* NULL: CS_SHOPIFY_API_VERSION */
    cs_str access_token;
    double bucket_size;  /* until the first answer says; 0: 1000 */
    double restore_rate; /* 0: 50 a second */
} cs_shopify_config;

/* The access token in a secret's string (cs_secret_string): either the token
 * itself or JSON {"access_token": "shpat_..."}. In arena. */
cs_error cs_shopify_token(cs_str secret, cs_arena *arena, cs_str *token, cs_diag *diag);

/* http stays the caller's and must outlive the client. NULL with diag set. */
cs_shopify *cs_shopify_new(cs_http_client *http, const cs_shopify_config *config, cs_diag *diag);
void cs_shopify_destroy(cs_shopify *s);

/* Sends {"query", "variables"} (variables is JSON text, or empty for none)
 * and hands back the response's "data" object, parsed into arena. */
cs_error cs_shopify_request(cs_shopify *s, const char *query, cs_str variables, cs_arena *arena,
                            const cs_json **data, cs_diag *diag);

/* ---- orders ---- */

typedef struct cs_shopify_order_item {
    const cs_json *source; /* the GraphQL node, for error-queue snapshots */
    cs_order order;
    cs_return *refunds; /* the order's refunds, for credit memos */
    size_t refund_count;
    cs_error result; /* CS_ERR_OK, or why the node (or a refund) did not decode */
    cs_problems problems;
} cs_shopify_order_item;

typedef struct cs_shopify_page {
    cs_str end_cursor; /* pass as `after` for the next page */
    bool has_next;
} cs_shopify_page;

extern const char cs_shopify_orders_query[];

/* One page of the orders updated at or after since_ms, oldest update first
 * (the incremental read's cursor is the last order's updated_at and, within
 * a page run, end_cursor). An order that does not decode is an item with its
 * result and problems; the page as a whole fails only on transport, HTTP or
 * GraphQL errors. first is 1 to 250. */
cs_error cs_shopify_orders_page(cs_shopify *s, int64_t since_ms, cs_str after, int first,
                                const cs_shopify_order_opts *opts, cs_arena *arena,
                                cs_shopify_order_item **items, size_t *count, cs_shopify_page *page,
                                cs_diag *diag);

/* ---- customers ---- */

typedef struct cs_shopify_customer_item {
    const cs_json *source;
    cs_customer customer;
    cs_error result;
    cs_problems problems;
} cs_shopify_customer_item;

extern const char cs_shopify_customers_query[];

/* One page of the customers updated at or after since_ms, as orders are read. */
cs_error cs_shopify_customers_page(cs_shopify *s, int64_t since_ms, cs_str after, int first,
                                   cs_arena *arena, cs_shopify_customer_item **items, size_t *count,
                                   cs_shopify_page *page, cs_diag *diag);

/* ---- the catalog ---- */

/* A variant as the catalog read gives it: sku, variant_id (numeric),
 * product_id, title, gtin (the barcode) of the product. */
typedef struct cs_shopify_variant_item {
    const cs_json *source;
    cs_product product;
} cs_shopify_variant_item;

extern const char cs_shopify_catalog_query[];

/* One page of the shop's variants in id order: after the page cursor
 * `after`, or when it is empty after the variant after_id (0: from the
 * first), so that a read resumes from the last variant it recorded. */
cs_error cs_shopify_catalog_page(cs_shopify *s, int64_t after_id, cs_str after, int first,
                                 cs_arena *arena, cs_shopify_variant_item **items, size_t *count,
                                 cs_shopify_page *page, cs_diag *diag);

/* ---- stock ---- */

/* What a SKU is in the shop: its inventory item and what each location
 * where it is stocked has available now. */
typedef struct cs_shopify_level {
    cs_str location_id;
    int64_t available;
} cs_shopify_level;

typedef struct cs_shopify_item {
    cs_str sku;
    cs_str inventory_item_id; /* empty when the shop has no such SKU */
    cs_shopify_level *levels;
    size_t level_count;
} cs_shopify_item;

extern const char cs_shopify_variants_query[];

/* Looks the SKUs up (50 per request), in arena. Inventory item ids are
 * cached in the client, so later calls in the same invocation only ask for
 * SKUs not seen before when levels are not wanted; cs_shopify_forget drops
 * the cache (call it between invocations). */
cs_error cs_shopify_items(cs_shopify *s, const cs_str *skus, size_t count, bool with_levels,
                          cs_arena *arena, cs_shopify_item *out, cs_diag *diag);
void cs_shopify_forget(cs_shopify *s);

typedef struct cs_shopify_location {
    cs_str id; /* gid://shopify/Location/... */
    cs_str name;
} cs_shopify_location;

extern const char cs_shopify_locations_query[];

/* The shop's locations (up to 250), so that config can name stockroom
 * targets by name; in arena. */
cs_error cs_shopify_locations(cs_shopify *s, cs_arena *arena, cs_shopify_location **out,
                              size_t *count, cs_diag *diag);

/* Canonical stock levels to the quantities inventorySetQuantities takes:
 * each level's SKU to its inventory item (items, as cs_shopify_items found
 * them with levels) and its location (a gid, or a location's name) to the
 * location's gid; quantity is the level's available, compare_quantity what
 * Shopify holds now (from items), so a sale between the read and the write
 * is COMPARE_QUANTITY_STALE instead of being overwritten. A level whose SKU
 * or location the shop does not have, or that is not stocked there, or whose
 * available is negative, is a problem naming it ("levels[3].sku") and is
 * left out; CS_ERR_INVALID_ARGUMENT when there was any. */
cs_error cs_shopify_quantities(const cs_stock_level *levels, size_t count,
                               const cs_shopify_item *items, size_t item_count,
                               const cs_shopify_location *locations, size_t location_count,
                               cs_arena *arena, cs_shopify_quantity **out, size_t *out_count,
                               cs_problems *problems);

/* inventorySetQuantities for up to 250 quantities (see mutations.h). */
cs_error cs_shopify_set_available(cs_shopify *s, const cs_shopify_quantity *quantities,
                                  size_t count, cs_str reference_uri, cs_str idempotency_key,
                                  cs_arena *arena, cs_diag *diag);

/* ---- fulfillment and invoices ---- */

/* Reads the order's fulfillment orders and creates one fulfillment per
 * location for the shipment. A shipment that cannot be placed is
 * CS_ERR_INVALID_ARGUMENT with its problems; nothing is sent then. */
cs_error cs_shopify_ship(cs_shopify *s, cs_str order_id, const cs_shipment *shipment,
                         const cs_shopify_fulfillment_opts *opts, cs_arena *arena,
                         cs_problems *problems, cs_diag *diag);

cs_error cs_shopify_set_invoice(cs_shopify *s, cs_str order_id, cs_str invoice_number,
                                cs_arena *arena, cs_diag *diag);

/* Cancels the order (orderCancel, reason OTHER, refunding the customer,
 * not restocking: the ERP's stock is published on its own), unless it is
 * cancelled already (*already then). An order Shopify does not have is
 * CS_ERR_NOT_FOUND; one cancelled meanwhile by someone else is
 * CS_ERR_HTTP_CONFLICT (read again, it is *already). */
cs_error cs_shopify_cancel_order(cs_shopify *s, cs_str order_id, bool notify_customer,
                                 cs_arena *arena, bool *already, cs_diag *diag);

#endif
