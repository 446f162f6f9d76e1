/* Shopify webhooks: the headers a delivery must carry and its signature.
 *
 * Shopify signs the raw body: X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(
 * app client secret, body)). The comparison runs in constant time, and a
 * delivery missing any of the headers Shopify's own library requires (topic,
 * shop domain, webhook id, API version, signature) is refused before the
 * signature is looked at. X-Shopify-Webhook-Id is the same on every retry of
 * one delivery: it is the deduplication key. */
#ifndef CS_CONNECTORS_SHOPIFY_WEBHOOK_H
#define CS_CONNECTORS_SHOPIFY_WEBHOOK_H

#include <stddef.h>

#include "core/error.h"
#include "core/str.h"

/* One HTTP header as received; names compare without regard to case. */
typedef struct cs_header {
    cs_str name;
    cs_str value;
} cs_header;

/* What a verified delivery says about itself; views into the headers. */
typedef struct cs_shopify_webhook {
    cs_str topic;        /* "orders/create" */
    cs_str shop_domain;  /* "example.myshopify.com" */
    cs_str webhook_id;   /* the deduplication key */
    cs_str api_version;  /* "2026-01" */
    cs_str event_id;     /* X-Shopify-Event-Id, when sent */
    cs_str triggered_at; /* X-Shopify-Triggered-At, when sent */
} cs_shopify_webhook;

/* Checks a delivery. CS_ERR_INVALID_ARGUMENT names a missing or empty header
 * (diag field is the header's name); CS_ERR_SIGNATURE when the signature is
 * not base64 of 32 bytes or does not match body under secret. An empty
 * secret verifies nothing: CS_ERR_CONFIG. Neither the body nor the secret
 * appears in diag. */
cs_error cs_shopify_webhook_verify(const cs_header *headers, size_t header_count, cs_str body,
                                   cs_str secret, cs_shopify_webhook *out, cs_diag *diag);

/* base64(HMAC-SHA256(secret, body)) into out (45 bytes with the NUL): what
 * the sandbox fake signs with, and what Shopify sends. */
void cs_shopify_webhook_sign(cs_str body, cs_str secret, char out[45]);

#endif
