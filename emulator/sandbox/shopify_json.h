/* The Shopify fake's records as JSON, in either of the shapes Shopify
 * writes: GraphQL nodes (camelCase, gid:// ids, money bags, connections)
 * for API answers, and REST JSON (snake_case, numeric ids, plain amounts
 * beside bags) for webhook bodies. One writer serves both, so the two
 * shapes of one order cannot drift apart. */
#ifndef CS_SANDBOX_SHOPIFY_JSON_H
#define CS_SANDBOX_SHOPIFY_JSON_H

#include "core/json.h"
#include "shopify_store.h"

typedef enum sb_shape { SB_GRAPHQL, SB_REST } sb_shape;

void sb_json_str(cs_json_writer *w, const char *key, const char *value); /* NULL: null */
void sb_json_int(cs_json_writer *w, const char *key, int64_t n);
void sb_json_gid(cs_json_writer *w, const char *key, const char *type, int64_t id);
void sb_json_time(cs_json_writer *w, const char *key, int64_t ms); /* 0: null */
/* {"shopMoney": {"amount", "currencyCode"}, "presentmentMoney": ...}; the
 * fake presents in the shop's own currency. */
void sb_json_money(cs_json_writer *w, const char *key, const sb_shop *shop, int64_t units);
/* A mailing address in the shop's country. */
void sb_json_address(cs_json_writer *w, sb_shape shape, const char *key, const sb_shop *shop,
                     const char *first_name, const char *last_name);

/* "UNFULFILLED", "PARTIALLY_FULFILLED" or "FULFILLED". */
const char *sb_fulfillment_status(const sb_order *o);

void sb_json_order(cs_json_writer *w, sb_shape shape, const sb_shop *shop, const sb_order *o);

#endif
