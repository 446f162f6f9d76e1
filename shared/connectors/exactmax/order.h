/* Canonical orders and returns to MAX bridge sales orders
 * (docs/exactmax-bridge.md): POST /sales-orders bodies with MAX's own field
 * names, a customer order (sType CU) for an order and a credit memo (CR)
 * for a return or refund.
 *
 * The customer PO, the bridge's idempotency key, is the store code and the
 * storefront's order number ("eu-1001"; a credit memo adds the return's id,
 * "eu-1001-RFDBFW8": the id in base 36), so a retried create finds the
 * order it made.
 * Lines need their MAX part number (cs_order_line.item_code, set by the
 * field map's SKU lookup). Prices are the storefront's unit prices, exact,
 * in the order's currency; discounts and shipping go either as lines of
 * their own (configured part numbers) or as the header's discount and
 * freight, as the site's MAX expects. Tax is MAX's to compute from the tax
 * code; a shop whose prices include tax needs an inclusive code. */
#ifndef CS_CONNECTORS_EXACTMAX_ORDER_H
#define CS_CONNECTORS_EXACTMAX_ORDER_H

#include "core/buf.h"
#include "core/problems.h"
#include "model/model.h"

typedef enum cs_exactmax_charges {
    CS_EXACTMAX_CHARGES_AS_LINES, /* a discount line and a freight line */
    CS_EXACTMAX_CHARGES_ON_HEADER /* "discount" and "freight" on the order */
} cs_exactmax_charges;

typedef struct cs_exactmax_order_opts {
    cs_str cust_id;   /* the MAX customer (CUSTID), resolved by the flow */
    cs_str stockroom; /* STK for every line */
    cs_str terms, tax_code, ship_via;
    cs_exactmax_charges charges;
    cs_str discount_part; /* with charges as lines: "DISCOUNT" */
    cs_str freight_part;  /* with charges as lines: "FREIGHT" */
    int due_days;         /* each line is due this many days after the order */
} cs_exactmax_order_opts;

/* The POST /sales-orders body for an order. Every problem names its
 * canonical path ("lines[2].item_code"); CS_ERR_INVALID_ARGUMENT if any,
 * and out is then left as it was. */
cs_error cs_exactmax_order_encode(const cs_order *order, const cs_exactmax_order_opts *opts,
                                  cs_buf *out, cs_problems *problems);

/* The customer PO of an order (or, with a return id, of its credit memo:
 * "-R" and the id in base 36 or hashed; when that is past 20 characters,
 * "R-" and a 64-bit hash of it in base 36),
 * into out (at most 40 bytes); CS_ERR_INVALID_ARGUMENT past MAX's 20. */
cs_error cs_exactmax_cust_po(cs_str store_code, cs_str order_number, cs_str return_id, char out[41],
                             cs_diag *diag);

/* A new customer account's custId: prefix (1 to 3 of A-Z, 0-9) and 41 bits
 * of the FNV-1a hash of the storefront customer's key in base 36, eight
 * characters ("W0K3ZQ81A"), the same on every retry. */
void cs_exactmax_cust_id(cs_str prefix, cs_str source_key, char out[16]);

/* The POST /sales-orders body of a credit memo (sType CR) for a return of
 * `original`: each returned line credits exactly the amount refunded for it.
 * When that amount does not divide by the quantity, the line is split in
 * two (all units but one at the floor of the unit amount, the last one at
 * the rest), since a unit price cannot carry a fraction of a cent. Shipping
 * refunded is a freight line or the header's freight. Lines are matched to
 * the original by line id, or else SKU, for their part number. */
cs_error cs_exactmax_credit_memo_encode(const cs_return *ret, const cs_order *original,
                                        const cs_exactmax_order_opts *opts, cs_buf *out,
                                        cs_problems *problems);

#endif
