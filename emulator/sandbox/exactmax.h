/* The MAX bridge fake (docs/exactmax-bridge.md) over an SQLite copy of the
 * Exact MAX tables it stands for: Customer_Master, Part_Master, Part_Sales,
 * Part_Stock, SO_Master, SO_Detail and Invoice_Master, with MAX's column
 * names, plus the shipment events the bridge derives.
 *
 * Seeded customers (WEB-US, WEB-EU, WEB-JP and C000001 ...), parts
 * P-SKU-0001 ... P-SKU-0024 (the Shopify fake's SKUs with a P- prefix) plus
 * the non-stock DISCOUNT and FREIGHT, stockrooms MAIN, EAST and WEST, and
 * some history so order numbers start past 00051000.
 *
 * Order numbers are allocated as MAX's own screens do, MAX(ORDNUM_27) + 1;
 * the fake can be told to have another MAX user take that number first
 * (every Nth allocation), and then does what the contract asks of a bridge:
 * retries with the next number, so no client ever sees the collision.
 *
 * A simulated warehouse ships open orders on demand or on its own clock: whole or in part, short
 * when the stockroom lacks stock (the rest goes to backorder), one shipment
 * event per run with a tracking number, an invoice when an order is complete. */
#ifndef CS_SANDBOX_EXACTMAX_H
#define CS_SANDBOX_EXACTMAX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/str.h"
#include "shopify.h" /* sb_reply */

typedef struct sb_exactmax sb_exactmax;

/* Bearer key of the bridge. */
#define SB_EXACTMAX_KEY "max-sandbox-key"

/* now_ms is the seed's clock (0: now). NULL with diag set. */
sb_exactmax *sb_exactmax_new(int64_t now_ms, cs_diag *diag);
void sb_exactmax_destroy(sb_exactmax *m);

/* A bridge request: path after /max/v1, the query's cursor arguments (each
 * may be NULL), If-Match and Authorization headers (NULL when absent). */
typedef struct sb_max_request {
    const char *method;
    const char *path;
    const char *modified_since, *after_key, *limit, *s_type;
    const char *if_match, *if_none_match;
    const char *authorization;
    cs_str body;
} sb_max_request;

void sb_exactmax_handle(sb_exactmax *m, const sb_max_request *req, sb_reply *reply);

/* Another MAX user takes the next order number before every `every`th
 * allocation (0: never). */
void sb_exactmax_set_race(sb_exactmax *m, int every);

/* Someone counts the stockroom: the part's on hand there is now on_hand.
 * false when MAX does not stock the part in that stockroom. */
bool sb_exactmax_set_stock(sb_exactmax *m, cs_str part, cs_str stockroom, int64_t on_hand);
/* Runs the warehouse once: ships every open customer order whole (or half
 * of each line, at least one unit, when partial), as far as stock allows;
 * what stock does not cover is backordered, or with cancel_short cancelled
 * (the line closes, the order completes and is invoiced for what shipped). */
void sb_exactmax_ship(sb_exactmax *m, bool partial, bool cancel_short, const char *carrier,
                      sb_reply *reply);
/* Runs the warehouse every every_ms on its own (0 stops it), so shipments
 * and invoices appear over time as in a real one. */
void sb_exactmax_set_clock(sb_exactmax *m, int64_t every_ms, bool partial, bool cancel_short,
                           const char *carrier);
/* {"orders": n, "allocationRetries": n, "shipments": n, "invoices": n} */
void sb_exactmax_state(sb_exactmax *m, sb_reply *reply);

#endif
