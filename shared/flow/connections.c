#include "connections.h"

#include <string.h>

static void read_shops(cs_connections *k, cs_config *c, const cs_json *shopify)
{
    const cs_json *shops = cs_json_object_get(shopify, CS_STR_LIT("shops"));
    if (!shops || shops->type != CS_JSON_OBJECT || shops->count == 0) {
        cs_problems_add(&c->problems, "connections.shopify.shops", "required",
                        "an object of shop domains, each with its store code");
        return;
    }
    for (const cs_json *s = shops->first; s; s = s->next) {
        const char *path =
            cs_arena_sprintf(c->arena, "connections.shopify.shops.%.*s", CS_STR_FMT(s->key));
        cs_str store = cs_config_string(c, s, path, "store", false);
        if (k->shop_count == CS_MAX_SHOPS) {
            cs_problems_add(&c->problems, path, "too_many", "at most %d shops", CS_MAX_SHOPS);
            return;
        }
        k->shops[k->shop_count++] = (cs_shop){.domain = s->key, .store = store};
    }
}

static void read_shopify(cs_connections *k, cs_config *c, unsigned uses)
{
    const char *at = "connections.shopify";
    const cs_json *shopify = cs_config_object(c, at, true);
    k->has_shopify = shopify != NULL;
    if (!shopify) {
        return;
    }
    read_shops(k, c, shopify);
    if (uses & CS_USE_WEBHOOKS) {
        k->webhook_secret = cs_config_secret(c, shopify, at, "webhook_secret");
    }
    if (uses & CS_USE_SHOPIFY_API) {
        k->admin_url = cs_config_string(c, shopify, at, "admin_url", true);
        if (!k->admin_url.len) {
            k->admin_url = CS_STR_LIT("https://{shop}.myshopify.com");
        }
        k->tokens = cs_config_secret(c, shopify, at, "access_tokens");
    }
}

static void read_commercetools(cs_connections *k, cs_config *c, unsigned uses)
{
    const char *at = "connections.commercetools";
    const cs_json *ct = cs_config_object(c, at, true);
    k->has_commercetools = ct != NULL;
    if (ct && (uses & CS_USE_COMMERCETOOLS)) {
        k->ct_auth = cs_config_string(c, ct, at, "auth_url", false);
        k->ct_api = cs_config_string(c, ct, at, "api_url", false);
        k->ct_id = cs_config_string(c, ct, at, "client_id", false);
        k->ct_secret = cs_config_secret(c, ct, at, "client_secret");
    }
}

void cs_connections_read(cs_connections *k, cs_config *c, unsigned uses)
{
    memset(k, 0, sizeof(*k));
    if (uses & CS_USE_EXACTMAX) {
        const cs_json *max = cs_config_object(c, "connections.exactmax", false);
        k->max_url = cs_config_string(c, max, "connections.exactmax", "url", false);
        k->max_key = cs_config_secret(c, max, "connections.exactmax", "key");
    }
    read_shopify(k, c, uses);
    read_commercetools(k, c, uses);
    if (!k->has_shopify && !k->has_commercetools) {
        cs_problems_add(&c->problems, "connections", "required",
                        "a storefront: connections.shopify or connections.commercetools");
    }
}

/* admin_url with {shop} replaced by the domain's first label. */
static const char *shop_url(cs_str admin_url, cs_str domain, cs_arena *arena)
{
    size_t dot = 0;
    while (dot < domain.len && domain.ptr[dot] != '.') {
        dot++;
    }
    const char *mark = memmem(admin_url.ptr, admin_url.len, "{shop}", 6);
    if (!mark) {
        return cs_arena_strndup(arena, admin_url);
    }
    size_t before = (size_t)(mark - admin_url.ptr);
    return cs_arena_sprintf(arena, "%.*s%.*s%.*s", (int)before, admin_url.ptr, (int)dot, domain.ptr,
                            (int)(admin_url.len - before - 6), mark + 6);
}

static cs_error open_shops(cs_connections *k, cs_flow *f, cs_diag *diag)
{
    cs_arena *arena = f->config.arena;
    cs_json *tokens = NULL;
    cs_error r = cs_json_parse(arena, k->tokens, &tokens, diag);
    if (r || tokens->type != CS_JSON_OBJECT) {
        return cs_diag_set(diag, CS_ERR_CONFIG,
                           "connections.shopify.access_tokens: the secret is not a JSON object "
                           "of store code to token");
    }
    for (size_t i = 0; i < k->shop_count; i++) {
        cs_shop *s = &k->shops[i];
        const cs_json *token = cs_json_object_get(tokens, s->store);
        if (!token || token->type != CS_JSON_STRING || !token->text.len) {
            return cs_diag_set(diag, CS_ERR_CONFIG,
                               "connections.shopify.access_tokens has no token for store '%.*s'",
                               CS_STR_FMT(s->store));
        }
        cs_log_add_secret(f->log, token->text);
        cs_shopify_config sc = {.shop_url = shop_url(k->admin_url, s->domain, arena),
                                .access_token = token->text};
        s->api = cs_shopify_new(f->http, &sc, diag);
        if (!s->api) {
            return diag->code;
        }
    }
    return CS_ERR_OK;
}

cs_error cs_connections_open(cs_connections *k, cs_flow *f, cs_diag *diag)
{
    cs_arena *arena = f->config.arena;
    cs_log_add_secret(f->log, k->max_key);
    cs_log_add_secret(f->log, k->webhook_secret);
    cs_log_add_secret(f->log, k->ct_secret);
    if (k->max_url.len) {
        cs_exactmax_config mc = {.base_url = cs_arena_strndup(arena, k->max_url),
                                 .key = k->max_key};
        k->max = cs_exactmax_new(f->http, &mc, diag);
        if (!k->max) {
            return diag->code;
        }
    }
    if (k->tokens.len) {
        cs_error r = open_shops(k, f, diag);
        if (r) {
            return r;
        }
    }
    if (k->ct_api.len) {
        cs_commercetools_config cc = {.auth_url = cs_arena_strndup(arena, k->ct_auth),
                                      .api_url = cs_arena_strndup(arena, k->ct_api),
                                      .client_id = k->ct_id,
                                      .client_secret = k->ct_secret};
        k->ct = cs_commercetools_new(f->http, &cc, diag);
        if (!k->ct) {
            return diag->code;
        }
    }
    return CS_ERR_OK;
}

void cs_connections_close(cs_connections *k)
{
    for (size_t i = 0; i < k->shop_count; i++) {
        cs_shopify_destroy(k->shops[i].api);
    }
    cs_commercetools_destroy(k->ct);
    cs_exactmax_destroy(k->max);
    memset(k, 0, sizeof(*k));
}

const cs_shop *cs_connections_shop(const cs_connections *k, cs_str domain)
{
    for (size_t i = 0; i < k->shop_count; i++) {
        if (cs_str_eq(k->shops[i].domain, domain)) {
            return &k->shops[i];
        }
    }
    return NULL;
}

const cs_shop *cs_connections_store(const cs_connections *k, cs_str store)
{
    for (size_t i = 0; i < k->shop_count; i++) {
        if (cs_str_eq(k->shops[i].store, store)) {
            return &k->shops[i];
        }
    }
    return NULL;
}
