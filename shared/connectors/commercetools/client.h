/* The commercetools connector: OAuth client credentials, order queries and
 * versioned updates over the shared HTTP client (which retries 502, 503,
 * timeouts and resets).
 *
 * - The token is fetched once and kept until a minute before it expires; a
 *   401 invalid_token fetches a new one and repeats the call once.
 * - Orders and customers are read by keyset, never by offset: sorted by lastModifiedAt then
 *   id, each page asks for lastModifiedAt > T or (lastModifiedAt = T and
 *   id > last id), so a read goes past commercetools' 10,000 offset cap and
 *   two orders changed in the same millisecond are neither skipped nor read
 *   twice. The cursor is the caller's to keep between runs.
 * - Updates carry the version last read; on 409 ConcurrentModification the
 *   order is read again and the caller's builder computes the actions anew
 *   from what is there now (up to 3 times).
 * Errors carry commercetools' first error code in diag.field. */
#ifndef CS_CONNECTORS_COMMERCETOOLS_CLIENT_H
#define CS_CONNECTORS_COMMERCETOOLS_CLIENT_H

#include "core/json.h"
#include "model/model.h"
#include "net/http.h"

typedef struct cs_commercetools cs_commercetools;

typedef struct cs_commercetools_config {
    const char *auth_url; /* "https://auth.{region}.commercetools.com/oauth/token" */
    const char *api_url;  /* "https://api.{region}.commercetools.com/{projectKey}" */
    cs_str client_id, client_secret;
    const char *scope; /* NULL: all of the client's scopes */
} cs_commercetools_config;

cs_commercetools *cs_commercetools_new(cs_http_client *http, const cs_commercetools_config *config,
                                       cs_diag *diag);
void cs_commercetools_destroy(cs_commercetools *ct);

typedef struct cs_commercetools_cursor {
    int64_t modified_ms; /* lastModifiedAt of the last order read (or where to start) */
    char last_id[64];    /* its id; "" to start at modified_ms inclusive */
} cs_commercetools_cursor;

/* One page (limit 1 to 500) of orders after the cursor; *results is the
 * page's array in arena, and the cursor moves past its last order. */
cs_error cs_commercetools_orders_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                      int limit, cs_arena *arena, const cs_json **results,
                                      cs_diag *diag);

/* The same for customers, with their customer group expanded (its key is
 * what the mapping uses). */
cs_error cs_commercetools_customers_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                         int limit, cs_arena *arena, const cs_json **results,
                                         cs_diag *diag);

/* The same for the published catalog (product projections); and a
 * projection's variants, master first, each a cs_product whose variant_id
 * is "<product id>/<variant id>". */
cs_error cs_commercetools_products_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                        int limit, cs_arena *arena, const cs_json **results,
                                        cs_diag *diag);
cs_error cs_commercetools_product_variants(const cs_json *product, cs_arena *arena,
                                           cs_product **out, size_t *count);

/* The business units the customer is an associate of (sorted by key; B2B
 * buyers belong to one, sometimes more). */
cs_error cs_commercetools_business_units_of(cs_commercetools *ct, cs_str customer_id,
                                            cs_arena *arena, const cs_json **results,
                                            cs_diag *diag);

/* The order as it is now (GET /orders/{id}). */
cs_error cs_commercetools_get_order(cs_commercetools *ct, cs_str order_id, cs_arena *arena,
                                    const cs_json **order, cs_diag *diag);

/* Builds an update's body ({"version", "actions"}) from the order as it is
 * now and its version. */
typedef cs_error (*cs_commercetools_actions_fn)(void *user, const cs_json *order, int64_t version,
                                                cs_buf *body, cs_diag *diag);

/* Reads the order, builds the update, sends it; a concurrent change is read
 * again and rebuilt. *updated is the order after the update. */
cs_error cs_commercetools_update_order(cs_commercetools *ct, cs_str order_id,
                                       cs_commercetools_actions_fn build, void *user,
                                       cs_arena *arena, const cs_json **updated, cs_diag *diag);

/* Creates the sync's order type (cs_commercetools_order_type_draft); one
 * that exists already (DuplicateField) is as good. */
cs_error cs_commercetools_create_order_type(cs_commercetools *ct, cs_arena *arena, cs_diag *diag);

/* Sets the SKU's quantity on stock at the supply channel (by key) to the
 * level's available quantity, never below zero: creates the entry when
 * there is none, changes it when it differs, leaves it alone when it is
 * already right (*written false). The channel's id is looked up once and
 * kept. Another client's write in between (409 ConcurrentModification, or
 * DuplicateField on a create) is read again and redone, up to 3 times. */
cs_error cs_commercetools_set_stock(cs_commercetools *ct, const cs_stock_level *level,
                                    cs_str channel_key, bool *written, cs_diag *diag);

#endif
