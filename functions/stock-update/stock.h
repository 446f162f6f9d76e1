/* stock-update's parts: the function and its config (main.c), what MAX and
 * the storefronts say about each part in each stockroom (levels.c), and
 * what is published where, only when it changed (publish.c). */
#ifndef STOCK_UPDATE_H
#define STOCK_UPDATE_H

#include "flow/connections.h"
#include "mapping/mapping.h"

enum { MAX_TARGETS = 64 };

/* Where a stockroom's stock is published: a Shopify location of a store,
 * or a commercetools supply channel. */
typedef struct target {
    cs_str stockroom;
    cs_str store;    /* Shopify: the store code */
    cs_str location; /* Shopify: the location's name or gid */
    cs_str channel;  /* commercetools: the supply channel's key */
    int64_t share;   /* percent of the stockroom's stock; 0: all of it */
} target;

typedef struct stock_update {
    cs_flow flow;
    cs_connections systems;
    const cs_lookup *skus;       /* SKU to part number */
    const cs_lookup *stores;     /* store code to its stockroom */
    cs_lookup parts;             /* the SKU table turned round: part to SKU */
    const cs_lookup *categories; /* SKU to category, for safety stock */
    target targets[MAX_TARGETS];
    size_t target_count;
    const cs_json *safety; /* {"default", "skus": {}, "stockrooms": {}} */
    int64_t open_order_days, unexported_minutes;
    cs_str request_id;
} stock_update;

/* One part in one stockroom. */
typedef struct level {
    cs_str part, stockroom;
    int64_t on_hand;
    int64_t reserved;   /* on MAX sales orders not shipped yet */
    int64_t unexported; /* on storefront orders MAX has not got yet */
} level;

typedef struct levels {
    level *items; /* sorted by part, then stockroom */
    size_t count;
} levels;

/* Reads MAX's on hand per part and stockroom, the open quantities of its
 * recent sales orders, and the storefronts' recent orders that MAX does
 * not have. */
cs_error levels_read(stock_update *x, cs_arena *arena, levels *out, cs_diag *diag);

/* The storefront SKU of a part; CS_STR_NULL for a part not sold online. */
cs_str stock_sku_of(const stock_update *x, cs_str part);

/* on hand - reserved - unexported - safety stock, never below zero. */
int64_t stock_available(const stock_update *x, const level *l, cs_str sku);

/* The target's part of what its stockroom has available: all of it, or
 * with shares its share, the stockroom's targets' parts adding up to no
 * more than the stockroom has (a unit is on sale in one place only). */
int64_t stock_share(const stock_update *x, const target *t, int64_t available);

/* Publishes every target's levels that changed since last published;
 * counts and logs each through the flow. */
void publish_all(stock_update *x, const levels *all, cs_arena *arena);

#endif
