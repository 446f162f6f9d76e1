/* What the sync writes to Shopify, as GraphQL Admin API mutations and their
 * variables, for the pinned API version.
 *
 * 2026-01 is pinned because it is the first version with both
 * fulfillmentCreate (which replaced fulfillmentCreateV2 in 2025-10) and the
 * optional @idempotent directive on inventorySetQuantities, and the last one
 * in which inventorySetQuantities takes compareQuantity (2026-04 replaces it
 * with changeFromQuantity and makes @idempotent mandatory). Moving to a newer
 * version means changing these texts and their tests, not a config value.
 *
 * The writers produce the "variables" object of one request; the connector
 * sends {"query": <text>, "variables": <that>}. Ids are gid:// URIs. */
#ifndef CS_CONNECTORS_SHOPIFY_MUTATIONS_H
#define CS_CONNECTORS_SHOPIFY_MUTATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

#define CS_SHOPIFY_API_VERSION "2026-01"

/* At most this many quantities per inventorySetQuantities call. */
#define CS_SHOPIFY_MAX_QUANTITIES 250
/* Shopify refuses quantities above this (INVALID_QUANTITY_TOO_HIGH). */
#define CS_SHOPIFY_MAX_QUANTITY 1000000000

extern const char cs_shopify_inventory_set_mutation[];
extern const char cs_shopify_fulfillment_create_mutation[];
extern const char cs_shopify_metafields_set_mutation[];
/* The query that reads an order's fulfillment orders for
 * cs_shopify_fulfillment_variables; variable $id is the order's gid. */
extern const char cs_shopify_fulfillment_orders_query[];

typedef struct cs_shopify_quantity {
    cs_str inventory_item_id; /* gid://shopify/InventoryItem/... */
    cs_str location_id;       /* gid://shopify/Location/... */
    int64_t quantity;
    /* What Shopify should hold now (the last value we published), for
     * compare-and-set; < 0 when unknown. */
    int64_t compare_quantity;
} cs_shopify_quantity;

/* Variables for one inventorySetQuantities call setting "available":
 * {"input": {"name", "reason", "referenceDocumentUri", "ignoreCompareQuantity",
 * "quantities": [...]}, "idempotencyKey": key}. Compare-and-set applies when
 * every quantity has a compare_quantity; one without opts the whole call out
 * (Shopify takes the choice per call), so callers send those apart. A retry
 * of the same call must reuse its idempotency key. CS_ERR_INVALID_ARGUMENT
 * names the quantity at fault ("quantities[3].quantity"): 0 or more than 250
 * quantities, a negative or too high quantity, a missing id, an empty reason
 * or reference. */
cs_error cs_shopify_inventory_variables(const cs_shopify_quantity *quantities, size_t count,
                                        cs_str reason, cs_str reference_uri, cs_str idempotency_key,
                                        cs_buf *out, cs_diag *diag);

typedef struct cs_shopify_fulfillment_opts {
    bool notify_customer;
} cs_shopify_fulfillment_opts;

/* Variables for the fulfillmentCreate calls that ship `shipment`, given the
 * order's fulfillment orders (the "fulfillmentOrders" connection the query
 * above returns). Each shipment line is matched to fulfillment order lines
 * by its line id (the order line's id, numeric or gid) or else its SKU, on
 * fulfillment orders that are OPEN or IN_PROGRESS, up to their remaining
 * quantity; a partial shipment ships only its lines and quantities. Shopify
 * fulfills one location per call, so out is a JSON array with one variables
 * object ({"fulfillment": {...}}) per location, in the order the
 * fulfillment orders came. A line with nothing left to ship is a problem
 * naming it ("lines[1]"); CS_ERR_INVALID_ARGUMENT if there is any. */
cs_error cs_shopify_fulfillment_variables(const cs_shipment *shipment,
                                          const cs_json *fulfillment_orders,
                                          const cs_shopify_fulfillment_opts *opts, cs_arena *arena,
                                          cs_buf *out, cs_problems *problems);

/* Variables for metafieldsSet writing the ERP's invoice number onto the
 * order: namespace "erp", key "invoice_number", a single line text. */
cs_error cs_shopify_invoice_metafield_variables(cs_str order_gid, cs_str invoice_number,
                                                cs_buf *out, cs_diag *diag);

#endif
