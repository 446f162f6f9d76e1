/* commercetools orders (the Order resource, as the HTTP API and
 * subscription messages carry it) to the canonical order.
 *
 * Money is commercetools' centPrecision: centAmount in the currency's
 * fractionDigits, kept exact (a fractionDigits other than ISO 4217's is
 * rescaled, and refused when that would round). Each line's discount is
 * what discountedPricePerQuantity takes off its price, allocated to the
 * cart discounts that took it and named after the discount code that
 * triggered them (or the cart discount's id); its tax is the line's
 * taxedPrice.totalTax. The total is taxedPrice.totalGross. States map to
 * the canonical words: orderState Open and Confirmed are "open", Complete
 * "closed", Cancelled "cancelled"; shipmentState Shipped and Delivered are
 * "fulfilled", Partial "partial", anything else "unfulfilled"; paymentState
 * Paid "paid", Pending and BalanceDue "pending", Failed "voided",
 * CreditOwed "partially_refunded". Variant attributes fill what the
 * canonical line has room for: gtin (or ean), itemCode (the ERP's part
 * number) and unitOfMeasure (or unit), enums by their key. */
#ifndef CS_CONNECTORS_COMMERCETOOLS_ORDER_H
#define CS_CONNECTORS_COMMERCETOOLS_ORDER_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

/* Every problem names its path in the order's JSON ("lineItems[1].price");
 * CS_ERR_INVALID_ARGUMENT if there was any. The store code is the order's
 * store key. Strings point into the JSON or arena. */
cs_error cs_commercetools_order_decode(const cs_json *order, cs_arena *arena, cs_order *out,
                                       cs_problems *problems);

/* An Address (streetName and streetNumber joined as line 1; region, else
 * state); nothing when a is not an object. */
void cs_commercetools_address(const cs_json *a, cs_arena *arena, cs_address *out);

/* The canonical word for an orderState and for a shipmentState. */
cs_str cs_commercetools_order_state(cs_str state);
cs_str cs_commercetools_shipment_state(cs_str state);

#endif
