/* Reading Shopify JSON of either shape (webhook/REST or GraphQL): the
 * helpers the order and customer decoders share. */
#ifndef CS_CONNECTORS_SHOPIFY_FIELDS_H
#define CS_CONNECTORS_SHOPIFY_FIELDS_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/json.h"
#include "model/model.h"

/* A string field, or an id Shopify writes as a JSON number; empty if absent. */
cs_str cs_shopify_text(const cs_json *obj, const char *key);
/* An object member, or NULL. */
const cs_json *cs_shopify_object(const cs_json *obj, const char *key);
/* An id both shapes agree on: the number at the end of a gid:// URI
 * ("gid://shopify/Order/450789469") or the webhook's number. */
cs_str cs_shopify_id(const cs_json *obj, const char *key);
/* The number at the end of a gid:// URI; other text as it is. */
cs_str cs_shopify_gid_tail(cs_str id);
/* The first element of a list: an array, or a GraphQL connection
 * ({"edges":[{"node":...}]} or {"nodes":[...]}); *count elements, and
 * *edges says whether cs_shopify_node must unwrap "node". NULL if none. */
const cs_json *cs_shopify_list(const cs_json *obj, const char *key, size_t *count, bool *edges);
const cs_json *cs_shopify_node(const cs_json *element, bool edges);
/* GraphQL enum values ("PARTIALLY_REFUNDED") as the webhook writes them
 * ("partially_refunded"), copied into arena (s itself if it is full). */
cs_str cs_shopify_lower(cs_arena *arena, cs_str s);
/* A record's Shopify provenance from obj's "id": meta source and source id,
 * the id under CS_SYS_SHOPIFY, and the correlation id "shopify:{kind}:{id}"
 * (in arena). Returns the id, empty when obj has none. */
cs_str cs_shopify_provenance(const cs_json *obj, const char *kind, cs_arena *arena,
                             cs_record_meta *meta, cs_ids *ids);

/* A mailing address of either shape (province_code/provinceCode,
 * country_code/countryCodeV2, ...); nothing when a is not an object. */
void cs_shopify_address(const cs_json *a, bool graphql, cs_address *out);

#endif
