/* What the MAX bridge answers (docs/exactmax-bridge.md), as canonical
 * records: customers, stock per stockroom, shipments, credit memos and
 * invoices. Part numbers go to item_code (the flows map them to storefront
 * SKUs); the customer PO, which the sync set from the storefront order,
 * goes to order_number so that a shipment or invoice finds its order.
 *
 * Every decoder records its problems with their path in the bridge's JSON
 * and returns CS_ERR_INVALID_ARGUMENT if there was any. Strings point into
 * the JSON or arena. */
#ifndef CS_CONNECTORS_EXACTMAX_RECORDS_H
#define CS_CONNECTORS_EXACTMAX_RECORDS_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

/* A MAX customer is an account (b2b): name is the company, cntct the main
 * contact (its last word taken as the family name), custId both its MAX id
 * and account code. */
cs_error cs_exactmax_customer_decode(const cs_json *customer, cs_arena *arena, cs_customer *out,
                                     cs_problems *problems);

/* What a new account gets besides the customer's own fields (blank: left
 * out, so MAX's defaults apply). */
typedef struct cs_exactmax_account_opts {
    cs_str terms, ship_via, currency;
} cs_exactmax_account_opts;

/* The PUT /customers/{custId} body for a canonical customer: name (the
 * company, else the person), cntct (the person), email, phone and the first
 * address (addr1, addr2, city, state, zipCd, cntry); new_account (NULL for
 * an update) adds terms, shpVia and curr. Only fields with a value are
 * written, so a blank never clears what MAX holds. */
void cs_exactmax_customer_encode(const cs_customer *c, const cs_exactmax_account_opts *new_account,
                                 cs_json_writer *w);

/* A part with its prices: one canonical price per price list and currency,
 * its quantity 1 row the price and the others volume tiers. Parts of type
 * N (non-stock: discounts, freight) are not active for sale. */
cs_error cs_exactmax_part_decode(const cs_json *part, cs_arena *arena, cs_product *out,
                                 cs_problems *problems);

/* On hand per part and stockroom; available is on hand (MAX does not
 * reserve for web orders; the stock flow subtracts what it knows). */
cs_error cs_exactmax_stock_decode(const cs_json *item, cs_arena *arena, cs_stock_level *out,
                                  cs_problems *problems);

/* One shipping event of an order; line ids are MAX line numbers. */
cs_error cs_exactmax_shipment_decode(const cs_json *shipment, cs_arena *arena, cs_shipment *out,
                                     cs_problems *problems);

/* A credit memo (a sales order with sType CR) as a canonical return of
 * kind "credit_note": each line's amount is its quantity times its price. */
cs_error cs_exactmax_credit_memo_decode(const cs_json *order, cs_arena *arena, cs_return *out,
                                        cs_problems *problems);

/* An invoice: what goes back to the storefront order. */
typedef struct cs_exactmax_invoice {
    cs_str invoice_number; /* INVCE, 8 characters */
    cs_str order_number;   /* ORDNUM */
    cs_str cust_po;        /* the storefront order it bills */
    int64_t created_at_ms;
    cs_money total;
} cs_exactmax_invoice;

cs_error cs_exactmax_invoice_decode(const cs_json *invoice, cs_arena *arena,
                                    cs_exactmax_invoice *out, cs_problems *problems);

#endif
