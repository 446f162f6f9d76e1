/* The Exact MAX connector: the MAX bridge (docs/exactmax-bridge.md) over the
 * shared HTTP client, which retries 503s, timeouts and resets.
 *
 * - Creating a sales order is idempotent: the bridge keys it by customer
 *   PO, and a repeat (a retry after a lost answer, a redelivered event)
 *   answers 409 DUPLICATE_CUSTPO with the order it made, which this client
 *   returns as success with `existed` set. No second order, ever.
 * - Changes go with the row version last seen (If-Match); a
 *   ROW_VERSION_CONFLICT re-reads the order and tries again, up to 3 times.
 * - The bridge's named errors come back as CS_ERR_HTTP_PERMANENT (or
 *   CS_ERR_NOT_FOUND) with the code in diag.field ("UNKNOWN_PART",
 *   "UNKNOWN_CUSTOMER", "CLOSED_ORDER", ...) and the MAX table and column in
 *   the message.
 * - Reads are incremental, by the compound cursor (modifiedSince, afterKey),
 *   so records changed in the same millisecond are never skipped. */
#ifndef CS_CONNECTORS_EXACTMAX_CLIENT_H
#define CS_CONNECTORS_EXACTMAX_CLIENT_H

#include <stdbool.h>

#include "core/json.h"
#include "net/http.h"

typedef struct cs_exactmax cs_exactmax;

typedef struct cs_exactmax_config {
    const char *base_url; /* "https://bridge.example.com/max/v1", no trailing slash */
    cs_str key;           /* the bridge's bearer key, from its secret */
} cs_exactmax_config;

/* http stays the caller's. NULL with diag set. */
cs_exactmax *cs_exactmax_new(cs_http_client *http, const cs_exactmax_config *config, cs_diag *diag);
void cs_exactmax_destroy(cs_exactmax *m);

/* POST /sales-orders with body (cs_exactmax_order_encode's); ord_num gets
 * the order number, new or existing. */
cs_error cs_exactmax_create_order(cs_exactmax *m, cs_str body, char ord_num[16], bool *existed,
                                  cs_diag *diag);

/* GET /sales-orders/{ordNum}, parsed into arena. */
cs_error cs_exactmax_get_order(cs_exactmax *m, cs_str ord_num, cs_arena *arena,
                               const cs_json **order, cs_diag *diag);

/* PATCH /sales-orders/{ordNum} with changes (JSON text). Without a row
 * version the order is read first, and a conflict reads it again and
 * retries: for changes that do not depend on what the order was. With the
 * row version the caller's changes were made from, a change since is
 * CS_ERR_HTTP_CONFLICT (ROW_VERSION_CONFLICT): read again and recompute.
 * *order is the order as the bridge answers it after the change. */
cs_error cs_exactmax_update_order(cs_exactmax *m, cs_str ord_num, cs_str changes,
                                  cs_str row_version, cs_arena *arena, const cs_json **order,
                                  cs_diag *diag);

/* PUT /customers/{custId} with body (the fields to set; a field left out
 * keeps its value). With row_version (the one read) it updates, and a
 * change since is CS_ERR_HTTP_CONFLICT (ROW_VERSION_CONFLICT in
 * diag.field): read again. Without, it creates only (If-None-Match: *), and
 * an existing custId is CS_ERR_HTTP_CONFLICT with DUPLICATE_CUSTID.
 * *customer is the record as the bridge answers it. A custId that is not
 * 1 to 12 of A-Z, 0-9 and - is CS_ERR_INVALID_ARGUMENT, never sent. */
cs_error cs_exactmax_put_customer(cs_exactmax *m, cs_str cust_id, cs_str body, cs_str row_version,
                                  cs_arena *arena, const cs_json **customer, cs_diag *diag);

/* Where an incremental read is: the last record's modifiedDate and key. */
typedef struct cs_exactmax_cursor {
    int64_t modified_since_ms; /* 0: from the beginning */
    char after_key[64];
} cs_exactmax_cursor;

/* One page of /customers, /parts, /inventory, /shipments, /invoices or
 * /sales-orders (s_type "CU", "CR" or NULL). items is the page's array in
 * arena; cursor moves past its last record (keep it between runs: the next
 * run reads only what changed after); *more says whether to ask again. */
cs_error cs_exactmax_page(cs_exactmax *m, const char *resource, const char *s_type, int limit,
                          cs_exactmax_cursor *cursor, cs_arena *arena, const cs_json **items,
                          bool *more, cs_diag *diag);

#endif
