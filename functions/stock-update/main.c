/* stock-update: what the storefronts may sell, from the ERP, on a schedule.
 *
 * Each run reads MAX's on hand per part and stockroom and publishes, per
 * SKU and storefront location, on hand - reserved - unexported - safety
 * stock (never below zero), only where it changed since the last published
 * value (levels.c, publish.c). Config:
 *
 *   "stock_update": {
 *     "sku_lookup": "sku_to_item",   the SKU table, turned round
 *     "stores_lookup": "stores",     each store's stockroom
 *     "locations": [{"stockroom": "MAIN", "store": "us", "location": "Reno DC"},
 *                   {"stockroom": "EAST", "channel": "wh-berlin"}],
 *       (a stockroom published to several places gives each all of it,
 *       or with a "share" (percent) on each, its part: stock_share)
 *     "safety_stock": {"default": 0, "skus": {"SKU-0001": 2}, "stockrooms": {"EAST": 1},
 *                      "categories": {"posters": 3}, "category_lookup": "sku_category"},
 *       (the most specific applies: SKU, its category by the lookup table,
 *       stockroom, default)
 *     "open_order_days": 30, "unexported_minutes": 1440
 *   }
 *
 * The answer counts the run's levels: {"levels", "written", "skipped"
 * (unchanged, or not stocked at the location), "retried"}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "stock.h"

static const char *const SECTION = "stock_update";

static void read_target(stock_update *x, cs_config *c, const cs_json *t, const char *path)
{
    target out = {.stockroom = cs_config_string(c, t, path, "stockroom", false),
                  .store = cs_config_string(c, t, path, "store", true),
                  .location = cs_config_string(c, t, path, "location", true),
                  .channel = cs_config_string(c, t, path, "channel", true),
                  .share = cs_config_int(c, t, path, "share", 1, 100, 0)};
    if (out.channel.len ? out.store.len || out.location.len || !x->systems.has_commercetools
                        : !out.store.len || !out.location.len ||
                              !cs_connections_store(&x->systems, out.store)) {
        cs_problems_add(&c->problems, path, "target",
                        "either a configured Shopify store and its location, or a "
                        "commercetools channel (with connections.commercetools)");
        return;
    }
    if (x->target_count == MAX_TARGETS) {
        cs_problems_add(&c->problems, path, "too_many", "at most %d locations", MAX_TARGETS);
        return;
    }
    x->targets[x->target_count++] = out;
}

/* A stockroom's targets all have a share, adding up to at most 100, or
 * none has (each then publishes all of it). */
static void check_shares(const stock_update *x, cs_config *c)
{
    for (size_t i = 0; i < x->target_count; i++) {
        const target *t = &x->targets[i];
        int64_t total = 0;
        size_t with = 0, all = 0, first = i;
        for (size_t k = 0; k < x->target_count; k++) {
            if (cs_str_eq(x->targets[k].stockroom, t->stockroom)) {
                first = k < first ? k : first;
                total += x->targets[k].share;
                with += x->targets[k].share > 0;
                all++;
            }
        }
        if (first == i && with && (with < all || total > 100)) {
            cs_problems_add(&c->problems, "stock_update.locations", "share",
                            "stockroom %.*s: every location it is published to needs a share, "
                            "and they add up to at most 100 (%zu of %zu have one, adding up "
                            "to %lld)",
                            CS_STR_FMT(t->stockroom), with, all, (long long)total);
        }
    }
}

static void read_safety(stock_update *x, cs_config *c, const cs_json *section)
{
    x->safety = cs_json_object_get(section, CS_STR_LIT("safety_stock"));
    const char *path = "stock_update.safety_stock";
    cs_config_int(c, x->safety, path, "default", 0, 1000000, 0);
    if (cs_json_object_get(x->safety, CS_STR_LIT("categories"))) {
        x->categories = cs_flow_lookup(&x->flow, x->safety, path, "category_lookup", NULL);
    }
    const char *groups[] = {"skus", "categories", "stockrooms"};
    for (size_t g = 0; g < 3; g++) {
        const cs_json *per = cs_json_object_get(x->safety, cs_str_from_c(groups[g]));
        for (const cs_json *v = per ? per->first : NULL; v; v = v->next) {
            const char *at = cs_arena_sprintf(c->arena, "%s.%s", path, groups[g]);
            char key[96];
            snprintf(key, sizeof(key), "%.*s", CS_STR_FMT(v->key));
            cs_config_int(c, per, at, key, 0, 1000000, 0);
        }
    }
}

static void read_settings(stock_update *x, cs_config *c)
{
    const cs_json *s = cs_config_object(c, SECTION, false);
    x->skus = cs_flow_lookup(&x->flow, s, SECTION, "sku_lookup", NULL);
    x->stores = cs_flow_lookup(&x->flow, s, SECTION, "stores_lookup", NULL);
    if (x->skus) {
        cs_lookup_reverse(c->arena, x->skus, "stock_update.sku_lookup", &x->parts, &c->problems);
    }
    const cs_json *locations = cs_json_object_get(s, CS_STR_LIT("locations"));
    if (s && (!locations || locations->type != CS_JSON_ARRAY || !locations->count)) {
        cs_problems_add(&c->problems, "stock_update.locations", "required",
                        "a list of stockrooms and where their stock is published");
    }
    size_t i = 0;
    for (const cs_json *t = locations ? locations->first : NULL; t; t = t->next, i++) {
        read_target(x, c, t, cs_arena_sprintf(c->arena, "stock_update.locations[%zu]", i));
    }
    check_shares(x, c);
    read_safety(x, c, s);
    x->open_order_days = cs_config_int(c, s, SECTION, "open_order_days", 1, 365, 30);
    x->unexported_minutes = cs_config_int(c, s, SECTION, "unexported_minutes", 1, 43200, 1440);
}

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    stock_update *x = user;
    cs_error r = cs_flow_init(&x->flow, "stock-update", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c,
                        CS_USE_EXACTMAX | CS_USE_SHOPIFY_API | CS_USE_COMMERCETOOLS);
    read_settings(x, c);
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    stock_update *x = user;
    x->request_id = inv->request_id;
    cs_http_set_deadline(x->flow.http, inv->deadline_ms);
    for (size_t i = 0; i < x->systems.shop_count; i++) {
        cs_shopify_forget(x->systems.shops[i].api);
    }
    levels all;
    cs_error r = levels_read(x, inv->arena, &all, diag);
    if (!r) {
        publish_all(x, &all, inv->arena);
        const int64_t *n = x->flow.counts;
        r = cs_buf_appendf(response,
                           "{\"levels\":%lld,\"written\":%lld,\"skipped\":%lld,\"retried\":%lld}",
                           (long long)x->flow.records_in,
                           (long long)(n[CS_OUTCOME_WRITTEN] + n[CS_OUTCOME_DUPLICATE]),
                           (long long)n[CS_OUTCOME_SKIPPED], (long long)n[CS_OUTCOME_RETRY]);
    }
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static stock_update x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_connections_close(&x.systems);
    cs_flow_clean_up(&x.flow);
    return status;
}
