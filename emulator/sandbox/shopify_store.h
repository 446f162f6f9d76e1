/* The Shopify fake's data: shops with their locations, variants, stock,
 * customers and orders, seeded deterministically, held in memory.
 *
 * Three shops show the variety the sync meets: "us-store" (USD, prices
 * before 6% tax), "eu-store" (EUR, 19% VAT included, three locations) and
 * "jp-store" (JPY, no minor unit, 10% tax included). Every shop sells the
 * same SKUs (SKU-0001 ... SKU-0024), so that one ERP part list serves all;
 * not every SKU is stocked at every location. Orders are spread over the 60
 * days before the seed's clock: one to four lines, a discount code on some
 * that does not divide evenly, guests, cancellations, partial refunds, and
 * fulfillment orders split across locations, some partly shipped. */
#ifndef CS_SANDBOX_SHOPIFY_STORE_H
#define CS_SANDBOX_SHOPIFY_STORE_H

#include <stdbool.h>
#include <stdint.h>

enum {
    SB_SHOPS = 3,
    SB_LOCATIONS = 3,
    SB_VARIANTS = 24,
    SB_CUSTOMERS = 40,
    SB_ORDERS = 160,        /* seeded, unless asked for more */
    SB_ORDER_LIMIT = 99999, /* seeded and placed later: order ids leave room for this many */
    SB_LINES = 4,
    SB_FULFILLMENTS = 8,
    SB_METAFIELDS = 4,
};

typedef struct sb_variant {
    int64_t id, product_id, inventory_item_id;
    char sku[16];
    char title[48];
    int64_t price; /* minor units of the shop's currency */
} sb_variant;

typedef struct sb_level {
    bool stocked;
    int64_t available;
} sb_level;

typedef struct sb_customer {
    int64_t id;
    char email[64], first_name[24], last_name[24], phone[24];
    bool subscribed;
    int64_t updated_ms;
} sb_customer;

typedef struct sb_line {
    int64_t id;
    int variant;
    int64_t quantity, discount, tax; /* discount and tax for the whole line */
    int location;                    /* where its fulfillment order is */
    int64_t remaining;               /* not yet fulfilled */
} sb_line;

/* One fulfillment order per location an order ships from. */
typedef struct sb_fulfillment_order {
    int64_t id;
    int location;
    bool closed;
} sb_fulfillment_order;

typedef struct sb_fulfillment {
    int64_t id;
    int location;
    char tracking_number[48], tracking_url[160], company[32];
    int64_t created_ms;
} sb_fulfillment;

typedef struct sb_metafield {
    char namespace_[32], key[32], type[32], value[128];
} sb_metafield;

typedef struct sb_order {
    int64_t id;
    int number;
    int64_t created_ms, updated_ms, cancelled_ms;
    int customer; /* -1: a guest */
    char email[64];
    sb_line lines[SB_LINES];
    int line_count;
    char code[16]; /* discount code, "" for none */
    int64_t shipping, shipping_tax;
    bool refunded_partly;
    sb_fulfillment_order fulfillment_orders[SB_LOCATIONS];
    int fulfillment_order_count;
    sb_fulfillment fulfillments[SB_FULFILLMENTS];
    int fulfillment_count;
    sb_metafield metafields[SB_METAFIELDS];
    int metafield_count;
} sb_order;

/* Where an order is in the order of pages of orders. */
typedef struct sb_order_key {
    int64_t updated_ms, id;
    int index;
} sb_order_key;

typedef struct sb_shop {
    char name[16];
    char currency[4];
    int exponent;
    bool taxes_included;
    int tax_rate_bp; /* basis points: 600 is 6% */
    char token[48];
    char location_names[SB_LOCATIONS][24];
    int64_t location_ids[SB_LOCATIONS];
    int location_count;
    sb_variant variants[SB_VARIANTS];
    sb_level levels[SB_VARIANTS][SB_LOCATIONS];
    sb_customer customers[SB_CUSTOMERS];
    sb_order *orders; /* by index; an order's id names its index */
    int order_count, order_capacity;
    /* The orders by (updated_ms, id), for pages of orders; rebuilt
     * when stale (an order was placed or changed). */
    sb_order_key *by_updated;
    bool by_updated_stale;
    int64_t next_id; /* for fulfillments and orders made later */
} sb_shop;

/* Fills shops (SB_SHOPS of them) from seed, orders_per_shop orders each
 * (0: SB_ORDERS; at most SB_ORDER_LIMIT) spread over the 60 days before
 * now_ms, the seed's clock. The same seed, count and clock give the same
 * data. false without memory. */
bool sb_shopify_seed(sb_shop *shops, uint64_t seed, int64_t now_ms, int orders_per_shop);
void sb_shopify_free(sb_shop *shops);

/* Places one more order now, as a customer checking out would (shops[i]
 * must come from sb_shopify_seed). NULL when the shop holds
 * SB_ORDER_LIMIT orders or without memory. */
sb_order *sb_shop_place_order(sb_shop *shops, int shop_index, uint64_t seed, int64_t now_ms);

/* The shop's order with this id, or NULL. */
sb_order *sb_shop_order(sb_shop *shop, int64_t id);
/* Marks an order changed now (its updated_at). */
void sb_shop_touch(sb_shop *shop, sb_order *order, int64_t now_ms);
/* The shop's orders by (updated_ms, id), ascending (order_count of them);
 * NULL without memory. */
const sb_order_key *sb_shop_orders_by_updated(sb_shop *shop);

/* An order's amounts, as Shopify reports them. */
typedef struct sb_totals {
    int64_t lines, discounts, taxes, subtotal, total;
} sb_totals;
sb_totals sb_order_totals(const sb_shop *shop, const sb_order *order);

/* A partly refunded order's refund: one unit of its first line, returned,
 * at its price after discount (and its tax, when tax is added on top). */
typedef struct sb_refund {
    int64_t id, created_ms;
    int64_t subtotal, total;
} sb_refund;
sb_refund sb_order_refund(const sb_shop *shop, const sb_order *order);
/* A line's tax for its amount after discount, included or added. */
int64_t sb_tax_of(const sb_shop *shop, int64_t amount);

#endif
