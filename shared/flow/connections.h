/* The systems an integration connects, as every function reads them from
 * the config's "connections" and opens them at init:
 *
 *   "exactmax":      {"url", "key"}
 *   "shopify":       {"shops": {"<domain>": {"store": "us"}},
 *                     "webhook_secret",                    (webhooks)
 *                     "admin_url": "https://{shop}.myshopify.com",
 *                     "access_tokens"}                     (the Admin API)
 *   "commercetools": {"auth_url", "api_url", "client_id", "client_secret"}
 *
 * access_tokens is one secret holding a JSON object of store code to
 * Admin API token ({"us": "shpat_..."}); {shop} in admin_url is the shop's
 * domain up to its first dot. Secrets are added to the log's redaction. */
#ifndef CS_FLOW_CONNECTIONS_H
#define CS_FLOW_CONNECTIONS_H

#include "connectors/commercetools/client.h"
#include "connectors/exactmax/client.h"
#include "connectors/shopify/client.h"
#include "flow/flow.h"

enum { CS_MAX_SHOPS = 32 };

/* What a function uses of the systems. */
enum {
    CS_USE_WEBHOOKS = 1,      /* the Shopify webhook secret */
    CS_USE_SHOPIFY_API = 2,   /* a client per shop */
    CS_USE_COMMERCETOOLS = 4, /* the commercetools client */
    CS_USE_EXACTMAX = 8,      /* the ERP client */
};

typedef struct cs_shop {
    cs_str domain; /* "eu-store.myshopify.com" */
    cs_str store;  /* its store code: "eu" */
    cs_shopify *api;
} cs_shop;

typedef struct cs_connections {
    cs_exactmax *max; /* with CS_USE_EXACTMAX */
    bool has_shopify, has_commercetools;
    cs_shop shops[CS_MAX_SHOPS];
    size_t shop_count;
    cs_str webhook_secret;
    cs_commercetools *ct;
    /* read from the config, for cs_connections_open */
    cs_str max_url, max_key, admin_url, tokens, ct_auth, ct_api, ct_id, ct_secret;
} cs_connections;

/* Reads the connections; problems go to the config's. At least one
 * storefront must be configured. */
void cs_connections_read(cs_connections *k, cs_config *c, unsigned uses);

/* After cs_config_check: the clients, over the flow's HTTP client. */
cs_error cs_connections_open(cs_connections *k, cs_flow *f, cs_diag *diag);
void cs_connections_close(cs_connections *k);

/* The shop of a domain, or of a store code; NULL when not configured. */
const cs_shop *cs_connections_shop(const cs_connections *k, cs_str domain);
const cs_shop *cs_connections_store(const cs_connections *k, cs_str store);

#endif
