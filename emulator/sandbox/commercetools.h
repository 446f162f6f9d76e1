/* The commercetools fake: OAuth client credentials and the order endpoints
 * the connector uses, over a seeded project ("cs-sandbox").
 *
 *   POST /commercetools/oauth/token        Basic sandbox-client:sandbox-secret,
 *                                          grant_type=client_credentials
 *   GET  /commercetools/cs-sandbox/orders  where, sort (lastModifiedAt asc, then
 *                                          id asc), limit (<= 500), offset (<= 10000)
 *   GET  /commercetools/cs-sandbox/orders/{id}
 *   GET  /commercetools/cs-sandbox/customers  as orders, and expand=customerGroup
 *   GET  /commercetools/cs-sandbox/business-units  where=associates(customer(id="X"))
 *   POST /commercetools/cs-sandbox/orders/{id}   {"version", "actions"}
 *   GET  /commercetools/cs-sandbox/channels/key={key}
 *   GET  /commercetools/cs-sandbox/inventory     where=sku="X" [and supplyChannel(id="Y")]
 *   POST /commercetools/cs-sandbox/inventory     a draft (sku, supplyChannel, quantityOnStock)
 *   POST /commercetools/cs-sandbox/inventory/{id}  {"version", "actions": [changeQuantity]}
 *
 * Queries understand the predicates the connector sends:
 * lastModifiedAt > "T", lastModifiedAt >= "T", and the keyset form
 * lastModifiedAt > "T" or (lastModifiedAt = "T" and id > "X"); anything
 * else is 400 InvalidInput, not ignored. Updates check the version (409
 * ConcurrentModification with currentVersion) and apply changeOrderState,
 * changeShipmentState, addDelivery and addReturnInfo.
 *
 * A placed order makes OrderCreated (with the order), and each applied
 * update action makes a subscription message (OrderStateChanged,
 * OrderShipmentStateChanged, DeliveryAdded, ReturnInfoAdded) with the
 * order's new version as resourceVersion and a per-order sequenceNumber;
 * the sandbox delivers them to an emulator queue.
 *
 * Inventory: channels wh-berlin (ch-berlin) and wh-paris (ch-paris); the
 * seed stocks SKU-0001 to SKU-0010 in Berlin, Paris starts empty. A second
 * entry for a SKU and channel is 400 DuplicateField; an update checks the
 * version as orders do.
 *
 * Three stores: de-store (EUR, de-DE, 19% VAT), uk-store (GBP, en-GB, 20%)
 * and jp-store (JPY, ja-JP, 10%), prices VAT included. 60 customers, each in
 * one store, every fourth a company with a VAT id and a business unit (it
 * and the next customer, a buyer, its associates), every eighth with a
 * Purchasing division under it too (the customer two after it its
 * associate); orders are mostly
 * German, one in six British and one in six Japanese. */
#ifndef CS_SANDBOX_COMMERCETOOLS_H
#define CS_SANDBOX_COMMERCETOOLS_H

#include <stdint.h>

#include "core/error.h"
#include "core/str.h"
#include "shopify.h" /* sb_reply */

typedef struct sb_commercetools sb_commercetools;

#define SB_CT_PROJECT "cs-sandbox"
#define SB_CT_CLIENT_ID "sandbox-client"
#define SB_CT_CLIENT_SECRET "sandbox-secret"

/* Called with each subscription message (the Platform format) an update
 * makes, under the fake's lock: it must only queue the delivery. */
typedef void (*sb_ct_emit_fn)(void *user, cs_str message);

sb_commercetools *sb_commercetools_new(int64_t now_ms, sb_ct_emit_fn emit, void *user,
                                       cs_diag *diag);
void sb_commercetools_destroy(sb_commercetools *ct);

/* A request: the path after /commercetools, the query arguments the fake
 * reads (each may be NULL), the Authorization header and the body. */
typedef struct sb_ct_request {
    const char *method;
    const char *path;
    const char *where, *sort, *limit, *offset, *expand;
    const char *authorization;
    cs_str body;
} sb_ct_request;

void sb_commercetools_handle(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply);

/* Knobs: how many orders the project holds (reseeded), how long new tokens
 * live (the ones issued so far are revoked), and another client changing an
 * order (its version moves on). */
void sb_commercetools_seed(sb_commercetools *ct, int orders);
void sb_commercetools_set_token_lifetime(sb_commercetools *ct, int64_t seconds);
void sb_commercetools_touch(sb_commercetools *ct, cs_str order_id, sb_reply *reply);

/* A customer places an order (the next one the seed would make, created
 * now): OrderCreated is published with it, and the reply is the order. */
void sb_commercetools_place_order(sb_commercetools *ct, sb_reply *reply);

/* The next `writes` inventory creates or changeQuantity updates find that
 * another client got there first: the entry was just created (the create
 * answers DuplicateField), or changed (the update answers 409). */
void sb_commercetools_race(sb_commercetools *ct, int writes);

/* Inspection: every inventory entry, {"entries":[{"id","sku","channel",
 * "version","quantityOnStock"}]}, channel by key. */
void sb_commercetools_inventory(sb_commercetools *ct, sb_reply *reply);

#endif
