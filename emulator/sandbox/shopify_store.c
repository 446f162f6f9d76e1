#include "shopify_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

/* A small deterministic generator (SplitMix64): the same seed, the same
 * shops, on every machine. */
typedef struct rng {
    uint64_t state;
} rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t below(rng *r, int64_t n)
{
    return (int64_t)(next(r) % (uint64_t)n);
}

static const char *first_names[] = {"Ada", "Bob", "Chloe", "Dirk", "Elif", "Femi", "Greta", "Hiro"};
static const char *last_names[] = {"Norman", "Kowalski", "Tanaka", "Jansen", "Rossi", "Okafor"};
static const char *products[] = {"Tee", "Mug", "Cap", "Hoodie", "Tote", "Sock", "Scarf", "Poster"};
static const char *colours[] = {"Black", "White", "Red"};

typedef struct shop_profile {
    const char *name, *currency;
    bool taxes_included;
    int tax_rate_bp;
    int64_t base_price; /* a typical price in minor units */
    int64_t shipping;
    const char *locations[SB_LOCATIONS];
} shop_profile;

static const shop_profile profiles[SB_SHOPS] = {
    {"us-store", "USD", false, 600, 1999, 499, {"Louisville DC", "Reno DC", NULL}},
    {"eu-store", "EUR", true, 1900, 1799, 490, {"Berlin", "Amsterdam", "Milan"}},
    {"jp-store", "JPY", true, 1000, 2400, 600, {"Tokyo", NULL, NULL}},
};

int64_t sb_tax_of(const sb_shop *shop, int64_t amount)
{
    /* Rounded half up: included tax is amount * r / (1 + r). */
    int64_t bp = shop->tax_rate_bp;
    return shop->taxes_included ? (amount * bp + (10000 + bp) / 2) / (10000 + bp)
                                : (amount * bp + 5000) / 10000;
}

sb_totals sb_order_totals(const sb_shop *shop, const sb_order *o)
{
    sb_totals t = {0};
    for (int i = 0; i < o->line_count; i++) {
        t.lines += shop->variants[o->lines[i].variant].price * o->lines[i].quantity;
        t.discounts += o->lines[i].discount;
        t.taxes += o->lines[i].tax;
    }
    t.taxes += o->shipping_tax;
    t.subtotal = t.lines - t.discounts;
    t.total = t.subtotal + o->shipping + (shop->taxes_included ? 0 : t.taxes);
    return t;
}

sb_refund sb_order_refund(const sb_shop *shop, const sb_order *o)
{
    const sb_line *l = &o->lines[0];
    int64_t price = shop->variants[l->variant].price;
    int64_t discount = (l->discount + l->quantity / 2) / l->quantity;
    sb_refund r = {.id = o->id + 7000000000, .created_ms = o->updated_ms + 86400000};
    r.subtotal = price - discount;
    r.total = r.subtotal + (shop->taxes_included ? 0 : sb_tax_of(shop, r.subtotal));
    return r;
}

static void seed_catalog(sb_shop *s, const shop_profile *p, int shop_index, rng *r)
{
    for (int v = 0; v < SB_VARIANTS; v++) {
        sb_variant *x = &s->variants[v];
        x->id = 40000000 + shop_index * 1000 + v;
        x->product_id = 60000000 + shop_index * 1000 + v / 3;
        x->inventory_item_id = 30000000 + shop_index * 1000 + v;
        snprintf(x->sku, sizeof(x->sku), "SKU-%04d", v + 1);
        snprintf(x->title, sizeof(x->title), "%s - %s", products[(v / 3) % 8], colours[v % 3]);
        x->price = p->base_price / 2 + below(r, p->base_price) + (v % 3) * (p->base_price / 10);
        for (int l = 0; l < s->location_count; l++) {
            /* Every SKU is stocked at the first location, most elsewhere. */
            s->levels[v][l].stocked = l == 0 || below(r, 5) > 0;
            s->levels[v][l].available = s->levels[v][l].stocked ? below(r, 60) : 0;
        }
    }
}

static void seed_customers(sb_shop *s, int shop_index, int64_t now_ms, rng *r)
{
    for (int c = 0; c < SB_CUSTOMERS; c++) {
        sb_customer *x = &s->customers[c];
        x->id = 7000000000 + shop_index * 10000 + c;
        const char *first = first_names[below(r, 8)], *last = last_names[below(r, 6)];
        snprintf(x->first_name, sizeof(x->first_name), "%s", first);
        snprintf(x->last_name, sizeof(x->last_name), "%s", last);
        snprintf(x->email, sizeof(x->email), "%s.%s.%d@mail.example.com", first, last, c);
        snprintf(x->phone, sizeof(x->phone), "+4930%07d", (int)below(r, 10000000));
        x->subscribed = below(r, 2) == 0;
        x->updated_ms = now_ms - below(r, 90) * 86400000;
    }
}

/* A discount code's amount spread over the lines by their value, so that
 * it rarely divides evenly. */
static void apply_discount(const sb_shop *s, sb_order *o, int64_t amount)
{
    int64_t weights[SB_LINES], shares[SB_LINES];
    for (int i = 0; i < o->line_count; i++) {
        weights[i] = s->variants[o->lines[i].variant].price * o->lines[i].quantity;
    }
    cs_money_allocate(amount, weights, (size_t)o->line_count, shares);
    for (int i = 0; i < o->line_count; i++) {
        o->lines[i].discount = shares[i];
    }
}

static void seed_fulfillment(sb_shop *s, sb_order *o, rng *r)
{
    /* Lines ship from their location; one fulfillment order per location. */
    for (int i = 0; i < o->line_count; i++) {
        sb_line *l = &o->lines[i];
        int pick = (int)below(r, s->location_count);
        l->location = s->levels[l->variant][pick].stocked ? pick : 0;
        int f = 0;
        while (f < o->fulfillment_order_count && o->fulfillment_orders[f].location != l->location) {
            f++;
        }
        if (f == o->fulfillment_order_count) {
            o->fulfillment_orders[o->fulfillment_order_count++] =
                (sb_fulfillment_order){o->id * 10 + f, l->location, false};
        }
    }
    int64_t shipped = o->cancelled_ms ? 0 : below(r, 10); /* 0-5: none, 6-7: part, 8-9: all */
    for (int i = 0; i < o->line_count; i++) {
        sb_line *l = &o->lines[i];
        l->remaining = shipped >= 8 ? 0 : shipped >= 6 && i == 0 ? l->quantity / 2 : l->quantity;
    }
    /* A fulfillment order is closed when nothing is left to ship from it. */
    for (int f = 0; f < o->fulfillment_order_count; f++) {
        bool left = false;
        for (int i = 0; i < o->line_count; i++) {
            left = left || (o->lines[i].location == o->fulfillment_orders[f].location &&
                            o->lines[i].remaining > 0);
        }
        o->fulfillment_orders[f].closed = !left || o->cancelled_ms != 0;
    }
}

/* Order k of the shop, created at created_ms. */
static void seed_order(sb_shop *s, const shop_profile *p, int shop_index, int k, int64_t created_ms,
                       rng *r)
{
    sb_order *o = &s->orders[k];
    o->id = 5000000000 + shop_index * 100000 + k;
    o->number = 1001 + k;
    o->created_ms = created_ms;
    o->updated_ms = o->created_ms + below(r, 3600000);
    o->customer = below(r, 10) == 0 ? -1 : (int)below(r, SB_CUSTOMERS);
    snprintf(o->email, sizeof(o->email), "%s",
             o->customer < 0 ? "guest.buyer@mail.example.com" : s->customers[o->customer].email);
    o->line_count = 1 + (int)below(r, SB_LINES);
    for (int i = 0; i < o->line_count; i++) {
        o->lines[i] = (sb_line){.id = o->id * 10 + i,
                                .variant = (int)((k * 7 + i * 5) % SB_VARIANTS),
                                .quantity = 1 + below(r, 3)};
    }
    if (below(r, 10) < 3) {
        snprintf(o->code, sizeof(o->code), "%s", "WINTER10");
        apply_discount(s, o, p->base_price / 2);
    }
    for (int i = 0; i < o->line_count; i++) {
        sb_line *l = &o->lines[i];
        l->tax = sb_tax_of(s, s->variants[l->variant].price * l->quantity - l->discount);
    }
    o->shipping = p->shipping;
    o->shipping_tax = sb_tax_of(s, o->shipping);
    o->cancelled_ms = below(r, 10) == 0 ? o->updated_ms : 0;
    o->refunded_partly = !o->cancelled_ms && below(r, 7) == 0;
    seed_fulfillment(s, o, r);
}

static bool seed_shop(sb_shop *s, int shop_index, int64_t now_ms, int orders, rng *r)
{
    const shop_profile *p = &profiles[shop_index];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", p->name);
    snprintf(s->currency, sizeof(s->currency), "%s", p->currency);
    const cs_currency *c = cs_currency_find(cs_str_from_c(p->currency));
    s->exponent = c ? c->exponent : 2;
    s->taxes_included = p->taxes_included;
    s->tax_rate_bp = p->tax_rate_bp;
    snprintf(s->token, sizeof(s->token), "shpat_sandbox_%s", p->name);
    for (int l = 0; l < SB_LOCATIONS && p->locations[l]; l++) {
        snprintf(s->location_names[l], sizeof(s->location_names[l]), "%s", p->locations[l]);
        s->location_ids[l] = 24826418 + shop_index * 100 + l;
        s->location_count++;
    }
    seed_catalog(s, p, shop_index, r);
    seed_customers(s, shop_index, now_ms, r);
    s->orders = calloc((size_t)orders, sizeof(*s->orders));
    if (!s->orders) {
        return false;
    }
    s->order_capacity = orders;
    /* Spread over 60 days, in creation order; updated some time later. */
    for (int k = 0; k < orders; k++) {
        seed_order(s, p, shop_index, k, now_ms - (int64_t)(orders - k) * (60ll * 86400000 / orders),
                   r);
    }
    s->order_count = orders;
    s->by_updated_stale = true;
    s->next_id = 9000000000 + shop_index * 1000000;
    return true;
}

bool sb_shopify_seed(sb_shop *shops, uint64_t seed, int64_t now_ms, int orders_per_shop)
{
    rng r = {seed};
    int orders = orders_per_shop > 0 ? orders_per_shop : SB_ORDERS;
    orders = orders < SB_ORDER_LIMIT ? orders : SB_ORDER_LIMIT;
    for (int i = 0; i < SB_SHOPS; i++) {
        if (!seed_shop(&shops[i], i, now_ms, orders, &r)) {
            sb_shopify_free(shops);
            return false;
        }
    }
    return true;
}

void sb_shopify_free(sb_shop *shops)
{
    for (int i = 0; i < SB_SHOPS; i++) {
        free(shops[i].orders);
        free(shops[i].by_updated);
        shops[i].orders = NULL;
        shops[i].by_updated = NULL;
        shops[i].order_count = shops[i].order_capacity = 0;
    }
}

static bool room_for_one_more(sb_shop *s)
{
    if (s->order_count < s->order_capacity) {
        return true;
    }
    int capacity = s->order_capacity * 2 < SB_ORDER_LIMIT ? s->order_capacity * 2 : SB_ORDER_LIMIT;
    sb_order *orders =
        s->order_count < capacity ? realloc(s->orders, (size_t)capacity * sizeof(*orders)) : NULL;
    sb_order_key *index = orders ? realloc(s->by_updated, (size_t)capacity * sizeof(*index)) : NULL;
    s->orders = orders ? orders : s->orders;
    s->by_updated = index ? index : s->by_updated;
    s->order_capacity = index ? capacity : s->order_capacity;
    return index != NULL;
}

sb_order *sb_shop_place_order(sb_shop *shops, int shop_index, uint64_t seed, int64_t now_ms)
{
    sb_shop *s = &shops[shop_index];
    if (!room_for_one_more(s)) {
        return NULL;
    }
    s->by_updated_stale = true;
    rng r = {seed ^ ((uint64_t)s->order_count * (uint64_t)0x9E3779B97F4A7C15ull)};
    int k = s->order_count++;
    seed_order(s, &profiles[shop_index], shop_index, k, now_ms, &r);
    sb_order *o = &s->orders[k];
    /* A fresh order: not shipped, cancelled or refunded yet. */
    o->updated_ms = now_ms;
    o->cancelled_ms = 0;
    o->refunded_partly = false;
    for (int i = 0; i < o->line_count; i++) {
        o->lines[i].remaining = o->lines[i].quantity;
    }
    for (int f = 0; f < o->fulfillment_order_count; f++) {
        o->fulfillment_orders[f].closed = false;
    }
    return o;
}

sb_order *sb_shop_order(sb_shop *shop, int64_t id)
{
    int64_t k = id - shop->orders[0].id;
    return shop->order_count && k >= 0 && k < shop->order_count && shop->orders[k].id == id
               ? &shop->orders[k]
               : NULL;
}

void sb_shop_touch(sb_shop *shop, sb_order *order, int64_t now_ms)
{
    order->updated_ms = now_ms;
    shop->by_updated_stale = true;
}

static int by_updated(const void *a, const void *b)
{
    const sb_order_key *x = a, *y = b;
    if (x->updated_ms != y->updated_ms) {
        return x->updated_ms < y->updated_ms ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

const sb_order_key *sb_shop_orders_by_updated(sb_shop *shop)
{
    if (!shop->by_updated_stale) {
        return shop->by_updated;
    }
    if (!shop->by_updated) {
        shop->by_updated = malloc((size_t)shop->order_capacity * sizeof(*shop->by_updated));
        if (!shop->by_updated) {
            return NULL;
        }
    }
    for (int i = 0; i < shop->order_count; i++) {
        const sb_order *o = &shop->orders[i];
        shop->by_updated[i] = (sb_order_key){o->updated_ms, o->id, i};
    }
    qsort(shop->by_updated, (size_t)shop->order_count, sizeof(*shop->by_updated), by_updated);
    shop->by_updated_stale = false;
    return shop->by_updated;
}
