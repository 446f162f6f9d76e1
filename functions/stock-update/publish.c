/* Publishing: per target, the levels whose available differs from what was
 * last published there (kept in state, one record per target and SKU), in
 * as few calls as the storefront allows:
 * - Shopify: inventorySetQuantities, 250 quantities a call, compare-and-set
 *   against what Shopify holds now, each call with its idempotency key;
 * - commercetools: the inventory entry of the SKU and supply channel.
 * A level that could not be published is a retry: the next run computes it
 * again, so nothing is queued for it. What was published is written to
 * state only after the storefront took it. */
#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "stock.h"

/* One level to publish at a target. */
typedef struct change {
    const level *level;
    cs_str sku;
    int64_t available;
} change;

static cs_str target_name(const target *t, cs_arena *arena)
{
    const char *name = t->channel.len
                           ? cs_arena_sprintf(arena, "commercetools:%.*s", CS_STR_FMT(t->channel))
                           : cs_arena_sprintf(arena, "shopify:%.*s:%.*s", CS_STR_FMT(t->store),
                                              CS_STR_FMT(t->location));
    return cs_str_from_c(name);
}

/* What was last published for the SKU at the target; -1 when nothing. */
static int64_t published(stock_update *x, cs_str name, cs_str sku)
{
    char source[160], store[96];
    snprintf(source, sizeof(source), "published:%.*s", CS_STR_FMT(name));
    snprintf(store, sizeof(store), "%.*s", CS_STR_FMT(sku));
    cs_cursor c;
    bool found = false;
    int64_t n = -1;
    if (cs_state_cursor_get(x->flow.state, x->flow.name, source, store, &c, &found, NULL) ||
        !found || cs_parse_int64(cs_str_from_c(c.id), &n)) {
        return -1;
    }
    return n;
}

static cs_error remember(stock_update *x, cs_str name, const change *ch, cs_diag *diag)
{
    char source[160], store[96];
    snprintf(source, sizeof(source), "published:%.*s", CS_STR_FMT(name));
    snprintf(store, sizeof(store), "%.*s", CS_STR_FMT(ch->sku));
    cs_cursor c = {.updated_at_ms = cs_time_now_ms()};
    snprintf(c.id, sizeof(c.id), "%lld", (long long)ch->available);
    return cs_state_cursor_put(x->flow.state, x->flow.name, source, store, &c, diag);
}

/* The record line of one level at one target. */
static void record(stock_update *x, cs_str name, const change *ch, cs_outcome outcome,
                   cs_error error, const cs_diag *diag, cs_arena *arena)
{
    const level *l = ch->level;
    cs_record_result r = {
        .outcome = outcome,
        .correlation_id = cs_str_from_c(
            cs_arena_sprintf(arena, "stock:%.*s:%.*s", CS_STR_FMT(name), CS_STR_FMT(ch->sku))),
        .source_id = cs_str_from_c(
            cs_arena_sprintf(arena, "%.*s@%.*s", CS_STR_FMT(l->part), CS_STR_FMT(l->stockroom))),
        .target_id = cs_str_from_c(cs_arena_sprintf(arena, "%lld", (long long)ch->available)),
        .error = error,
        .diag = diag};
    cs_flow_record(&x->flow, &r);
}

/* The changed levels of the target's stockroom, into out (capacity all->count). */
static size_t changes_of(stock_update *x, const target *t, cs_str name, const levels *all,
                         change *out)
{
    size_t n = 0;
    for (size_t i = 0; i < all->count; i++) {
        const level *l = &all->items[i];
        cs_str sku = cs_str_eq(l->stockroom, t->stockroom) ? stock_sku_of(x, l->part) : CS_STR_NULL;
        if (!sku.len) {
            continue;
        }
        x->flow.records_in++;
        int64_t available = stock_share(x, t, stock_available(x, l, sku));
        if (available == published(x, name, sku)) {
            x->flow.counts[CS_OUTCOME_SKIPPED]++; /* unchanged: no line, only the count */
            continue;
        }
        out[n++] = (change){.level = l, .sku = sku, .available = available};
    }
    return n;
}

static void publish_commercetools(stock_update *x, const target *t, cs_str name, change *changes,
                                  size_t count, cs_arena *arena)
{
    for (size_t i = 0; i < count; i++) {
        cs_stock_level wanted = {.sku = changes[i].sku, .available = changes[i].available};
        bool written = false;
        cs_diag diag = {0};
        cs_error r =
            cs_commercetools_set_stock(x->systems.ct, &wanted, t->channel, &written, &diag);
        r = r ? r : remember(x, name, &changes[i], &diag);
        cs_outcome outcome = r         ? CS_OUTCOME_RETRY
                             : written ? CS_OUTCOME_WRITTEN
                                       : CS_OUTCOME_DUPLICATE;
        record(x, name, &changes[i], outcome, r, &diag, arena);
    }
}

/* The location's gid from its name (or the gid itself). */
static cs_str location_id(const cs_shopify_location *locations, size_t count, cs_str location)
{
    for (size_t i = 0; i < count; i++) {
        if (cs_str_eq(locations[i].name, location) || cs_str_eq(locations[i].id, location)) {
            return locations[i].id;
        }
    }
    return CS_STR_NULL;
}

/* What Shopify has of the SKU at the location now; false when the SKU is
 * not stocked there (the shop does not sell it at that location). */
static bool stocked(const cs_shopify_item *item, cs_str location, int64_t *now)
{
    for (size_t i = 0; item->inventory_item_id.len && i < item->level_count; i++) {
        if (cs_str_eq(item->levels[i].location_id, location)) {
            *now = item->levels[i].available;
            return true;
        }
    }
    return false;
}

/* Sends quantities[from, to) as one call; records each. */
static void send_batch(stock_update *x, const cs_shop *shop, cs_str name, const change *changes,
                       const cs_shopify_quantity *quantities, size_t from, size_t to,
                       cs_arena *arena)
{
    cs_str key = cs_str_from_c(cs_arena_sprintf(arena, "%.*s-%.*s-%zu", CS_STR_FMT(x->request_id),
                                                CS_STR_FMT(shop->store), from));
    cs_str reference = cs_str_from_c(
        cs_arena_sprintf(arena, "commerce-sync://stock-update/%.*s", CS_STR_FMT(x->request_id)));
    cs_diag diag = {0};
    cs_error r = cs_shopify_set_available(shop->api, quantities + from, to - from, reference, key,
                                          arena, &diag);
    for (size_t i = from; i < to; i++) {
        cs_diag own = diag;
        cs_error e = r ? r : remember(x, name, &changes[i], &own);
        record(x, name, &changes[i], e ? CS_OUTCOME_RETRY : CS_OUTCOME_WRITTEN, e, &own, arena);
    }
}

static void publish_shopify(stock_update *x, const target *t, cs_str name, change *changes,
                            size_t count, cs_arena *arena)
{
    const cs_shop *shop = cs_connections_store(&x->systems, t->store);
    cs_str *skus = cs_arena_calloc(arena, count ? count : 1, sizeof(cs_str));
    cs_shopify_item *items = cs_arena_calloc(arena, count ? count : 1, sizeof(cs_shopify_item));
    cs_shopify_quantity *quantities =
        cs_arena_calloc(arena, count ? count : 1, sizeof(*quantities));
    cs_shopify_location *locations = NULL;
    size_t location_count = 0;
    cs_diag diag = {0};
    cs_error r = skus && items && quantities ? CS_ERR_OK : cs_arena_full(arena, &diag);
    for (size_t i = 0; !r && i < count; i++) {
        skus[i] = changes[i].sku;
    }
    r = r ? r : cs_shopify_locations(shop->api, arena, &locations, &location_count, &diag);
    r = r ? r : cs_shopify_items(shop->api, skus, count, true, arena, items, &diag);
    cs_str location = location_id(locations, location_count, t->location);
    if (!r && !location.len) {
        r = cs_diag_set(&diag, CS_ERR_CONFIG, "store %.*s has no location '%.*s'",
                        CS_STR_FMT(t->store), CS_STR_FMT(t->location));
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t now = 0;
        if (r) {
            record(x, name, &changes[i], CS_OUTCOME_RETRY, r, &diag, arena);
        } else if (!stocked(&items[i], location, &now)) {
            record(x, name, &changes[i], CS_OUTCOME_SKIPPED, CS_ERR_OK, NULL, arena);
        } else {
            changes[n] = changes[i];
            quantities[n++] = (cs_shopify_quantity){.inventory_item_id = items[i].inventory_item_id,
                                                    .location_id = location,
                                                    .quantity = changes[i].available,
                                                    .compare_quantity = now};
        }
    }
    for (size_t from = 0; from < n; from += CS_SHOPIFY_MAX_QUANTITIES) {
        size_t to = from + CS_SHOPIFY_MAX_QUANTITIES < n ? from + CS_SHOPIFY_MAX_QUANTITIES : n;
        send_batch(x, shop, name, changes, quantities, from, to, arena);
    }
}

void publish_all(stock_update *x, const levels *all, cs_arena *arena)
{
    change *changes = cs_arena_calloc(arena, all->count ? all->count : 1, sizeof(change));
    for (size_t i = 0; changes && i < x->target_count; i++) {
        const target *t = &x->targets[i];
        cs_str name = target_name(t, arena);
        size_t count = changes_of(x, t, name, all, changes);
        if (t->channel.len) {
            publish_commercetools(x, t, name, changes, count, arena);
        } else if (count) {
            publish_shopify(x, t, name, changes, count, arena);
        }
    }
}
