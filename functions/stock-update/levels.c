/* What each part in each stockroom has, owes and has promised:
 * - on hand: MAX's /inventory, read whole each run (a few rows per part);
 * - reserved: MAX sales orders (customer orders changed in the last
 *   open_order_days) not cancelled, each line's ordered minus shipped;
 * - unexported: storefront orders changed in the last unexported_minutes
 *   that are neither cancelled nor fulfilled and whose customer PO MAX does
 *   not have yet (in the queue, or in the error queue): the storefront has
 *   already counted them, MAX has not. */
#include <stdlib.h>
#include <string.h>

#include "connectors/commercetools/order.h"
#include "connectors/exactmax/order.h"
#include "connectors/exactmax/records.h"
#include "core/money.h"
#include "core/timestamp.h"
#include "stock.h"

enum { PAGE = 500, STOREFRONT_PAGE = 100 };
static const int64_t DAY_MS = 86400000;

/* A growing array in the invocation's arena. */
typedef struct grow {
    void *items;
    size_t count, capacity, size;
} grow;

static void *grow_add(grow *g, cs_arena *arena)
{
    if (g->count == g->capacity) {
        size_t capacity = g->capacity ? 2 * g->capacity : 256;
        void *bigger = cs_arena_alloc(arena, capacity * g->size);
        if (!bigger) {
            return NULL;
        }
        if (g->count) {
            memcpy(bigger, g->items, g->count * g->size);
        }
        g->items = bigger;
        g->capacity = capacity;
    }
    return (char *)g->items + g->size * g->count++;
}

static int compare_str(cs_str a, cs_str b)
{
    int c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int compare_level(const void *a, const void *b)
{
    const level *x = a, *y = b;
    int c = compare_str(x->part, y->part);
    return c ? c : compare_str(x->stockroom, y->stockroom);
}

static int compare_po(const void *a, const void *b)
{
    return compare_str(*(const cs_str *)a, *(const cs_str *)b);
}

static level *find_level(levels *all, cs_str part, cs_str stockroom)
{
    level key = {.part = part, .stockroom = stockroom};
    return all->count ? bsearch(&key, all->items, all->count, sizeof(level), compare_level) : NULL;
}

static int64_t quantity(const cs_json *o, const char *key)
{
    const cs_json *v = cs_json_object_get(o, cs_str_from_c(key));
    int64_t n = 0;
    return v && !cs_parse_int64(v->text, &n) ? n : 0;
}

static cs_str text(const cs_json *o, const char *key)
{
    const cs_json *v = cs_json_object_get(o, cs_str_from_c(key));
    return v ? v->text : CS_STR_NULL;
}

static cs_error read_on_hand(stock_update *x, cs_arena *arena, levels *out, cs_diag *diag)
{
    grow g = {.size = sizeof(level)};
    cs_exactmax_cursor cursor = {0};
    for (bool more = true; more;) {
        const cs_json *items;
        cs_error r = cs_exactmax_page(x->systems.max, "inventory", NULL, PAGE, &cursor, arena,
                                      &items, &more, diag);
        if (r) {
            return r;
        }
        for (const cs_json *i = items->first; i; i = i->next) {
            cs_problems problems;
            cs_problems_init(&problems, arena);
            cs_stock_level s;
            level *l = NULL;
            if (!cs_exactmax_stock_decode(i, arena, &s, &problems) && !(l = grow_add(&g, arena))) {
                return cs_arena_full(arena, diag);
            }
            if (l) {
                *l = (level){.part = s.item_code, .stockroom = s.location, .on_hand = s.on_hand};
            }
        }
    }
    if (g.count) { /* an empty array has no items pointer, which qsort must not get */
        qsort(g.items, g.count, sizeof(level), compare_level);
    }
    *out = (levels){.items = g.items, .count = g.count};
    return CS_ERR_OK;
}

/* Open quantities of MAX's recent customer orders; their customer POs to pos. */
static cs_error read_reserved(stock_update *x, cs_arena *arena, levels *all, grow *pos,
                              cs_diag *diag)
{
    cs_exactmax_cursor cursor = {.modified_since_ms =
                                     cs_time_now_ms() - x->open_order_days * DAY_MS};
    for (bool more = true; more;) {
        const cs_json *items;
        cs_error r = cs_exactmax_page(x->systems.max, "sales-orders", "CU", PAGE, &cursor, arena,
                                      &items, &more, diag);
        if (r) {
            return r;
        }
        for (const cs_json *o = items->first; o; o = o->next) {
            cs_str *po = grow_add(pos, arena);
            if (!po) {
                return cs_arena_full(arena, diag);
            }
            *po = text(o, "custPo");
            const cs_json *lines = cs_json_object_get(o, CS_STR_LIT("lines"));
            for (const cs_json *l = lines && !cs_str_eq_c(text(o, "status"), "5") ? lines->first
                                                                                  : NULL;
                 l; l = l->next) {
                level *at = find_level(all, text(l, "prtNum"), text(l, "stk"));
                int64_t open = quantity(l, "curQty") - quantity(l, "shpQty");
                if (at && open > 0) {
                    at->reserved += open;
                }
            }
        }
    }
    if (pos->count) {
        qsort(pos->items, pos->count, sizeof(cs_str), compare_po);
    }
    return CS_ERR_OK;
}

/* A storefront order's lines, when MAX does not have it yet. */
static void count_unexported(stock_update *x, const cs_order *o, const grow *pos, levels *all)
{
    char po[41];
    cs_str stockroom = CS_STR_NULL;
    if (cs_str_eq_c(o->order_status, "cancelled") ||
        cs_str_eq_c(o->fulfillment_status, "fulfilled") ||
        cs_exactmax_cust_po(o->store_code, o->number, CS_STR_NULL, po, NULL) ||
        !cs_lookup_find(x->stores, o->store_code, CS_STR_LIT("stockroom"), &stockroom)) {
        return;
    }
    cs_str key = cs_str_from_c(po);
    if (pos->count && bsearch(&key, pos->items, pos->count, sizeof(cs_str), compare_po)) {
        return;
    }
    for (size_t i = 0; i < o->line_count; i++) {
        cs_str part = o->lines[i].item_code;
        if (!part.len && x->skus) {
            cs_lookup_find(x->skus, o->lines[i].sku, CS_STR_NULL, &part);
        }
        level *at = find_level(all, part, stockroom);
        if (at) {
            at->unexported += o->lines[i].quantity;
        }
    }
}

static cs_error read_shopify(stock_update *x, const cs_shop *shop, int64_t since_ms,
                             cs_arena *arena, const grow *pos, levels *all, cs_diag *diag)
{
    cs_shopify_order_opts opts = {.store_code = shop->store};
    cs_shopify_page page = {0};
    do {
        cs_shopify_order_item *items;
        size_t count;
        cs_error r = cs_shopify_orders_page(shop->api, since_ms, page.end_cursor, STOREFRONT_PAGE,
                                            &opts, arena, &items, &count, &page, diag);
        if (r) {
            return r;
        }
        for (size_t i = 0; i < count; i++) {
            if (!items[i].result) {
                count_unexported(x, &items[i].order, pos, all);
            }
        }
    } while (page.has_next);
    return CS_ERR_OK;
}

static cs_error read_commercetools(stock_update *x, int64_t since_ms, cs_arena *arena,
                                   const grow *pos, levels *all, cs_diag *diag)
{
    cs_commercetools_cursor cursor = {.modified_ms = since_ms};
    for (size_t got = STOREFRONT_PAGE; got == STOREFRONT_PAGE;) {
        const cs_json *results;
        cs_error r = cs_commercetools_orders_page(x->systems.ct, &cursor, STOREFRONT_PAGE, arena,
                                                  &results, diag);
        if (r) {
            return r;
        }
        got = results->count;
        for (const cs_json *o = results->first; o; o = o->next) {
            cs_problems problems;
            cs_problems_init(&problems, arena);
            cs_order order;
            if (!cs_commercetools_order_decode(o, arena, &order, &problems)) {
                count_unexported(x, &order, pos, all);
            }
        }
    }
    return CS_ERR_OK;
}

cs_error levels_read(stock_update *x, cs_arena *arena, levels *out, cs_diag *diag)
{
    grow pos = {.size = sizeof(cs_str)};
    cs_error r = read_on_hand(x, arena, out, diag);
    if (!r) {
        r = read_reserved(x, arena, out, &pos, diag);
    }
    int64_t since_ms = cs_time_now_ms() - x->unexported_minutes * 60000;
    for (size_t i = 0; !r && i < x->systems.shop_count; i++) {
        r = read_shopify(x, &x->systems.shops[i], since_ms, arena, &pos, out, diag);
    }
    if (!r && x->systems.ct) {
        r = read_commercetools(x, since_ms, arena, &pos, out, diag);
    }
    return r;
}

cs_str stock_sku_of(const stock_update *x, cs_str part)
{
    cs_str sku = CS_STR_NULL;
    cs_lookup_find(&x->parts, part, CS_STR_NULL, &sku);
    return sku;
}

/* The most specific setting: the SKU's, its category's, the stockroom's,
 * the default. */
static int64_t safety_of(const stock_update *x, cs_str sku, cs_str stockroom)
{
    const cs_json *per_sku = cs_json_object_get(x->safety, CS_STR_LIT("skus"));
    const cs_json *per_category = cs_json_object_get(x->safety, CS_STR_LIT("categories"));
    const cs_json *per_room = cs_json_object_get(x->safety, CS_STR_LIT("stockrooms"));
    cs_str category = CS_STR_NULL;
    if (x->categories) {
        cs_lookup_find(x->categories, sku, CS_STR_NULL, &category);
    }
    const cs_json *v = cs_json_object_get(per_sku, sku);
    v = v || !category.len ? v : cs_json_object_get(per_category, category);
    v = v ? v : cs_json_object_get(per_room, stockroom);
    v = v ? v : cs_json_object_get(x->safety, CS_STR_LIT("default"));
    int64_t n = 0;
    return v && !cs_parse_int64(v->text, &n) ? n : 0;
}

int64_t stock_share(const stock_update *x, const target *t, int64_t available)
{
    if (!t->share) {
        return available;
    }
    int64_t weights[MAX_TARGETS], parts[MAX_TARGETS], total = 0;
    size_t n = 0, mine = 0;
    for (size_t i = 0; i < x->target_count; i++) {
        if (cs_str_eq(x->targets[i].stockroom, t->stockroom)) {
            mine = &x->targets[i] == t ? n : mine;
            weights[n++] = x->targets[i].share;
            total += x->targets[i].share;
        }
    }
    /* Shares under 100 in all hold the rest back; the largest remainders
     * get the odd units, so one unit left still goes on sale somewhere. */
    if (cs_money_allocate(available * total / 100, weights, n, parts)) {
        return 0;
    }
    return parts[mine];
}

int64_t stock_available(const stock_update *x, const level *l, cs_str sku)
{
    int64_t n = l->on_hand - l->reserved - l->unexported - safety_of(x, sku, l->stockroom);
    return n > 0 ? n : 0;
}
