/* What the sync writes to commercetools: update actions on orders and
 * inventory entries, as request bodies ({"version", "actions"} for an
 * update, the draft for a create). The version is the resource's as last
 * read; a 409 ConcurrentModification means re-read, recompute, resend. */
#ifndef CS_CONNECTORS_COMMERCETOOLS_ACTIONS_H
#define CS_CONNECTORS_COMMERCETOOLS_ACTIONS_H

#include "core/buf.h"
#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

/* addDelivery with the shipment's lines (order line ids) and a parcel with
 * its tracking data, then changeShipmentState: Partial for a partial
 * shipment, Shipped otherwise. A line without its order line id, or with no
 * quantity, is a problem naming it. */
cs_error cs_commercetools_delivery_update(const cs_shipment *shipment, int64_t version, cs_buf *out,
                                          cs_problems *problems);

/* changeOrderState from a canonical status: "open" Confirmed, "closed"
 * Complete, "cancelled" Cancelled. */
cs_error cs_commercetools_order_state_update(cs_str status, int64_t version, cs_buf *out,
                                             cs_diag *diag);

/* addReturnInfo with the return's lines, as Returned. */
cs_error cs_commercetools_return_update(const cs_return *ret, int64_t version, cs_buf *out,
                                        cs_problems *problems);

/* Where MAX's invoice number goes on an order: a String custom field. An
 * order without custom fields gets the sync's own type (its key); one
 * with the merchant's type needs the field on that type. */
#define CS_COMMERCETOOLS_ORDER_TYPE "commerce-sync-order"
#define CS_COMMERCETOOLS_INVOICE_FIELD "erpInvoiceNumber"

/* The invoice number onto the order as it is now: setCustomField when the
 * order has a custom type, else setCustomType with the sync's type. */
cs_error cs_commercetools_invoice_update(const cs_json *order, cs_str invoice_number,
                                         int64_t version, cs_buf *out, cs_diag *diag);

/* The draft of the sync's order type (POST /types). */
cs_error cs_commercetools_order_type_draft(cs_buf *out, cs_diag *diag);

/* An inventory entry for the level's SKU at the supply channel (its key):
 * with version 0 the draft that creates it, otherwise changeQuantity to the
 * level's available quantity (never below zero). */
cs_error cs_commercetools_inventory_body(const cs_stock_level *level, cs_str channel_key,
                                         int64_t version, cs_buf *out, cs_diag *diag);

#endif
