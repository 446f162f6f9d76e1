/* fulfillment-callback: the ERP's shipments back to the storefront order
 * they ship, on a schedule.
 *
 * Each run reads MAX's shipments after the last run's cursor (kept in
 * state) and applies each one once: a Shopify fulfillment on the order's
 * fulfillment orders with carrier and tracking (partial shipments ship
 * their lines only), or a commercetools delivery with its parcel and the
 * shipment state. The storefront order is the one order-export made the
 * MAX order from (the id map it wrote); a MAX order the sync did not make
 * is skipped. Each shipment has an idempotency record, so a shipment
 * already applied is never applied again, and per order they go in MAX's
 * order: once one of an order's shipments must be retried, its later ones
 * wait for the next run, and the cursor stays before the page. A shipment
 * the storefront refuses (nothing left to ship, an unknown SKU) goes to the
 * error queue with the shipment as MAX answered it. Config:
 *
 *   "fulfillment_callback": {"sku_lookup": "sku_to_item", "notify_customer": false}
 *
 * Shipments can also be pushed (a warehouse system's events): each message
 * on the shipment queue is one shipment in MAX's /shipments shape, applied
 * the same way; one to retry comes back as a batch item failure.
 *
 * Then MAX's invoices, after a cursor of their own: each invoice number goes
 * onto its storefront order once: Shopify's "erp.invoice_number" metafield,
 * commercetools' "erpInvoiceNumber" custom field (on the sync's own order
 * type, "commerce-sync-order", made the first time it is missing; an order
 * that has the merchant's custom type needs the field on that type).
 *
 * Last, MAX's customer orders that changed, after their own cursor: one
 * MAX has cancelled (status 5) gets its storefront order cancelled, once
 * (Shopify orderCancel refunding the customer, commercetools orderState
 * Cancelled); one the storefront cancelled first is a duplicate.
 *
 * The answer: {"shipments", "invoices", "cancellations", "written",
 * "skipped", "retried", "failed"}.
 *
 * Invoked with {"replay": {"max": 100}} instead, it applies its open
 * error-queue entries again from their snapshots, after the config or the
 * storefront was fixed, and marks those that go through "replayed"
 * (cs_flow_replay's answer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/commercetools/actions.h"
#include "connectors/exactmax/records.h"
#include "flow/connections.h"
#include "runtime.h"

enum { PAGE = 100, MAX_BLOCKED = 64 };
static const int64_t REPLAY_MARGIN_MS = 5000; /* no replay starts closer to the deadline */
static const int64_t LEASE_MS = 5 * 60 * 1000;
static const int64_t IDEM_TTL_MS = 365LL * 24 * 3600 * 1000;
static const char *const SECTION = "fulfillment_callback";

typedef struct callback {
    cs_flow flow;
    cs_connections systems;
    cs_lookup parts; /* part number to SKU */
    bool notify_customer;
    char owner[64];
    /* MAX orders with a shipment to retry this run: their later ones wait */
    cs_str blocked[MAX_BLOCKED];
    size_t blocked_count;
} callback;

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    callback *x = user;
    cs_error r = cs_flow_init(&x->flow, "fulfillment-callback", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c,
                        CS_USE_EXACTMAX | CS_USE_SHOPIFY_API | CS_USE_COMMERCETOOLS);
    const cs_json *s = cs_config_object(c, SECTION, false);
    const cs_lookup *skus = cs_flow_lookup(&x->flow, s, SECTION, "sku_lookup", NULL);
    if (skus) {
        cs_lookup_reverse(arena, skus, "fulfillment_callback.sku_lookup", &x->parts, &c->problems);
    }
    x->notify_customer = cs_config_bool(c, s, SECTION, "notify_customer", false);
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

/* ---- one shipment ---- */

/* The storefront order MAX's order came from: "shopify:us:5001" or
 * "commercetools:<id>", from the id map order-export wrote. */
static cs_error storefront_order(callback *x, cs_str ord_num, cs_system *system, char key[160],
                                 cs_diag *diag)
{
    static const cs_system sources[] = {CS_SYS_SHOPIFY, CS_SYS_COMMERCETOOLS};
    for (size_t i = 0; i < 2; i++) {
        bool found = false;
        cs_error r = cs_state_idmap_get(x->flow.state, "order", CS_SYS_EXACTMAX, ord_num,
                                        sources[i], key, 160, &found, diag);
        if (r || found) {
            *system = sources[i];
            return r;
        }
    }
    return cs_diag_set(diag, CS_ERR_NOT_FOUND, "MAX order %.*s was not made by the sync",
                       CS_STR_FMT(ord_num));
}

/* The shop and the order id of "shopify:<store>:<order id>". */
static cs_error shopify_order(callback *x, const char *key, const cs_shop **shop, cs_str *order_id,
                              cs_diag *diag)
{
    const char *store = key + strlen("shopify:");
    const char *id = strchr(store, ':');
    *shop = id ? cs_connections_store(&x->systems, cs_str_make(store, (size_t)(id - store))) : NULL;
    if (!*shop || !(*shop)->api) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: its store is not configured", key);
    }
    *order_id = cs_str_from_c(id + 1);
    return CS_ERR_OK;
}

static cs_error ship_shopify(callback *x, const char *key, const cs_shipment *shipment,
                             cs_arena *arena, cs_diag *diag)
{
    const cs_shop *shop;
    cs_str order_id;
    cs_error r = shopify_order(x, key, &shop, &order_id, diag);
    if (r) {
        return r;
    }
    cs_problems problems;
    cs_problems_init(&problems, arena);
    cs_shopify_fulfillment_opts opts = {.notify_customer = x->notify_customer};
    return cs_shopify_ship(shop->api, order_id, shipment, &opts, arena, &problems, diag);
}

/* addDelivery for the shipment on the order as it is now: each line's
 * lineItem found by SKU. */
static cs_error delivery_actions(void *user, const cs_json *order, int64_t version, cs_buf *body,
                                 cs_diag *diag)
{
    cs_shipment *shipment = user;
    const cs_json *items = cs_json_object_get(order, CS_STR_LIT("lineItems"));
    for (size_t i = 0; i < shipment->line_count; i++) {
        cs_shipment_line *l = &shipment->lines[i];
        for (const cs_json *li = items ? items->first : NULL; li; li = li->next) {
            const cs_json *sku = cs_json_path(li, "variant.sku");
            const cs_json *id = cs_json_object_get(li, CS_STR_LIT("id"));
            if (sku && id && cs_str_eq(sku->text, l->sku)) {
                l->line_id = id->text;
            }
        }
    }
    cs_arena scratch;
    cs_arena_init(&scratch, 0, 64 * 1024);
    cs_problems problems;
    cs_problems_init(&problems, &scratch);
    cs_error r = cs_commercetools_delivery_update(shipment, version, body, &problems);
    if (r) {
        cs_problems_to_diag(&problems, r, diag);
    }
    cs_arena_clean_up(&scratch);
    return r;
}

static cs_error ship_commercetools(callback *x, const char *key, cs_shipment *shipment,
                                   cs_arena *arena, cs_diag *diag)
{
    if (!x->systems.ct) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: no commercetools connection", key);
    }
    const cs_json *updated;
    return cs_commercetools_update_order(x->systems.ct,
                                         cs_str_from_c(key + strlen("commercetools:")),
                                         delivery_actions, shipment, arena, &updated, diag);
}

static bool transient(cs_error e)
{
    return e == CS_ERR_HTTP_TRANSIENT || e == CS_ERR_HTTP || e == CS_ERR_DEADLINE ||
           e == CS_ERR_BUSY || e == CS_ERR_STORAGE || e == CS_ERR_AWS || e == CS_ERR_TLS ||
           e == CS_ERR_CONDITION_FAILED || e == CS_ERR_HTTP_CONFLICT || e == CS_ERR_ARENA_FULL;
}

/* The shipment's lines get their storefront SKUs; MAX line numbers mean
 * nothing to the storefront, so lines are matched by SKU. */
static cs_error map_lines(callback *x, cs_shipment *s, cs_arena *arena, cs_diag *diag)
{
    cs_problems problems;
    cs_problems_init(&problems, arena);
    for (size_t i = 0; i < s->line_count; i++) {
        s->lines[i].line_id = CS_STR_NULL;
        if (!cs_lookup_find(&x->parts, s->lines[i].item_code, CS_STR_NULL, &s->lines[i].sku)) {
            cs_problems_add(&problems, cs_arena_sprintf(arena, "lines[%zu].prtNum", i),
                            "unknown_part", "no SKU for part %.*s",
                            CS_STR_FMT(s->lines[i].item_code));
        }
    }
    return cs_problems_total(&problems)
               ? cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag)
               : CS_ERR_OK;
}

/* A shipment with where it goes, for cs_flow_once. */
typedef struct delivery {
    callback *x;
    cs_shipment *shipment;
    cs_system system;
    const char *key; /* the storefront order */
    cs_arena *arena;
} delivery;

static cs_error deliver(void *user, char result[256], bool *existed, cs_diag *diag)
{
    const delivery *d = user;
    (void)existed;
    snprintf(result, 256, "%s", d->key);
    return d->system == CS_SYS_SHOPIFY
               ? ship_shopify(d->x, d->key, d->shipment, d->arena, diag)
               : ship_commercetools(d->x, d->key, d->shipment, d->arena, diag);
}

/* Makes a change to the storefront once, under its idempotency record
 * ("shipment:<id>", "invoice:<number>"). */
static cs_outcome once(callback *x, cs_str record, cs_change_fn change, void *user, cs_error *error,
                       cs_diag *diag)
{
    cs_once o = {.record = record,
                 .version = CS_STR_LIT("applied"),
                 .owner = x->owner,
                 .lease_ms = LEASE_MS,
                 .ttl_ms = IDEM_TTL_MS,
                 .attempts = 1,
                 .transient = transient};
    char result[256];
    return cs_flow_once(&x->flow, &o, change, user, result, error, diag);
}

/* Sends the shipment once. */
static cs_outcome apply_once(callback *x, cs_shipment *s, cs_system system, const char *key,
                             cs_arena *arena, cs_error *error, cs_diag *diag)
{
    delivery d = {x, s, system, key, arena};
    cs_str record =
        cs_str_from_c(cs_arena_sprintf(arena, "shipment:%.*s", CS_STR_FMT(s->meta.source_id)));
    return once(x, record, deliver, &d, error, diag);
}

static bool blocked(const callback *x, cs_str ord_num)
{
    for (size_t i = 0; i < x->blocked_count; i++) {
        if (cs_str_eq(x->blocked[i], ord_num)) {
            return true;
        }
    }
    return false;
}

static cs_str snapshot(const cs_json *item, cs_arena *arena)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_value(&w, item);
    return cs_json_writer_to_arena(&w, &out, arena);
}

/* One shipment (as MAX answers it) applied; its result in *r for the flow
 * to record. An order with a shipment to retry blocks its later ones. */
static void ship_one(callback *x, const cs_json *item, cs_arena *arena, cs_record_result *r)
{
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    cs_shipment *s = cs_arena_calloc(arena, 1, sizeof(*s));
    *r = (cs_record_result){
        .outcome = CS_OUTCOME_FAILED, .diag = diag, .snapshot = snapshot(item, arena)};
    if (!diag || !s) {
        *r = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        return;
    }
    cs_problems problems;
    cs_problems_init(&problems, arena);
    r->error = cs_exactmax_shipment_decode(item, arena, s, &problems);
    if (r->error) {
        cs_problems_to_diag(&problems, r->error, diag);
    }
    cs_str ord_num = s->order_ids.by_system[CS_SYS_EXACTMAX];
    r->source_id = s->meta.source_id;
    r->correlation_id =
        cs_str_from_c(cs_arena_sprintf(arena, "shipment:%.*s", CS_STR_FMT(s->meta.source_id)));
    char key[160] = "";
    cs_system system = CS_SYS_NONE;
    if (!r->error && blocked(x, ord_num)) {
        r->outcome = CS_OUTCOME_RETRY;
        r->error = cs_diag_set(diag, CS_ERR_BUSY, "an earlier shipment of %.*s waits",
                               CS_STR_FMT(ord_num));
    } else if (!r->error && (r->error = storefront_order(x, ord_num, &system, key, diag))) {
        r->outcome = r->error == CS_ERR_NOT_FOUND ? CS_OUTCOME_SKIPPED : CS_OUTCOME_RETRY;
    } else if (!r->error && !(r->error = map_lines(x, s, arena, diag))) {
        r->target_id = cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(key)));
        r->outcome = apply_once(x, s, system, key, arena, &r->error, diag);
    }
    if (r->outcome == CS_OUTCOME_RETRY && ord_num.len && x->blocked_count < MAX_BLOCKED &&
        !blocked(x, ord_num)) {
        x->blocked[x->blocked_count++] = ord_num;
    }
}

static cs_outcome apply(callback *x, const cs_json *item, cs_arena *arena)
{
    x->flow.records_in++;
    cs_record_result r;
    ship_one(x, item, arena, &r);
    return cs_flow_record(&x->flow, &r);
}

/* A shipment pushed onto the shipment queue: the message body is the
 * shipment as MAX's /shipments answers it. */
static void pushed_shipment(void *user, const cs_sqs_record *rec, cs_arena *arena,
                            cs_record_result *out)
{
    cs_json *item = NULL;
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    cs_error e = diag ? cs_json_parse(arena, rec->body, &item, diag) : CS_ERR_ARENA_FULL;
    if (e) {
        *out = (cs_record_result){.outcome = diag ? CS_OUTCOME_FAILED : CS_OUTCOME_RETRY,
                                  .correlation_id = rec->message_id,
                                  .error = e,
                                  .diag = diag,
                                  .snapshot = rec->body};
        return;
    }
    ship_one(user, item, arena, out);
}

/* ---- one invoice ---- */

/* An invoice to send, for cs_flow_once. */
typedef struct billing {
    callback *x;
    const cs_exactmax_invoice *invoice;
    const char *key; /* the storefront order */
    cs_arena *arena;
} billing;

static cs_error ct_invoice(void *user, const cs_json *order, int64_t version, cs_buf *body,
                           cs_diag *diag)
{
    const billing *b = user;
    return cs_commercetools_invoice_update(order, b->invoice->invoice_number, version, body, diag);
}

/* The custom field, and the sync's order type first when the project has
 * not got it yet. */
static cs_error bill_commercetools(const billing *b, cs_diag *diag)
{
    cs_commercetools *ct = b->x->systems.ct;
    if (!ct) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: no commercetools connection", b->key);
    }
    cs_str id = cs_str_from_c(b->key + strlen("commercetools:"));
    const cs_json *updated = NULL;
    cs_error r =
        cs_commercetools_update_order(ct, id, ct_invoice, (void *)b, b->arena, &updated, diag);
    if (r && strcmp(diag->field, "ReferencedResourceNotFound") == 0) {
        r = cs_commercetools_create_order_type(ct, b->arena, diag);
        r = r ? r
              : cs_commercetools_update_order(ct, id, ct_invoice, (void *)b, b->arena, &updated,
                                              diag);
    }
    if (r == CS_ERR_HTTP_PERMANENT && (strcmp(diag->field, "InvalidOperation") == 0 ||
                                       strcmp(diag->field, "InvalidField") == 0)) {
        char why[sizeof(diag->message)];
        snprintf(why, sizeof(why), "%s", diag->message);
        cs_diag_set(diag, r,
                    "invoice %.*s onto %s: %s (an order with a custom type of its own needs a "
                    "String field %s on it)",
                    CS_STR_FMT(b->invoice->invoice_number), b->key, why,
                    CS_COMMERCETOOLS_INVOICE_FIELD);
    }
    return r;
}

static cs_error bill(void *user, char result[256], bool *existed, cs_diag *diag)
{
    const billing *b = user;
    (void)existed;
    snprintf(result, 256, "%s", b->key);
    if (strncmp(b->key, "commercetools:", 14) == 0) {
        return bill_commercetools(b, diag);
    }
    const cs_shop *shop;
    cs_str order_id;
    cs_error r = shopify_order(b->x, b->key, &shop, &order_id, diag);
    return r ? r
             : cs_shopify_set_invoice(shop->api, order_id, b->invoice->invoice_number, b->arena,
                                      diag);
}

/* A MAX invoice: its number onto the storefront order, once. */
static cs_outcome apply_invoice(callback *x, const cs_json *item, cs_arena *arena)
{
    x->flow.records_in++;
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    cs_exactmax_invoice *inv = cs_arena_calloc(arena, 1, sizeof(*inv));
    cs_record_result r = {
        .outcome = CS_OUTCOME_FAILED, .diag = diag, .snapshot = snapshot(item, arena)};
    if (!diag || !inv) {
        return CS_OUTCOME_RETRY;
    }
    cs_problems problems;
    cs_problems_init(&problems, arena);
    r.error = cs_exactmax_invoice_decode(item, arena, inv, &problems);
    if (r.error) {
        cs_problems_to_diag(&problems, r.error, diag);
    }
    r.source_id = inv->invoice_number;
    r.correlation_id =
        cs_str_from_c(cs_arena_sprintf(arena, "invoice:%.*s", CS_STR_FMT(inv->invoice_number)));
    char key[160] = "";
    cs_system system = CS_SYS_NONE;
    if (!r.error && (r.error = storefront_order(x, inv->order_number, &system, key, diag))) {
        r.outcome = r.error == CS_ERR_NOT_FOUND ? CS_OUTCOME_SKIPPED : CS_OUTCOME_RETRY;
    } else if (!r.error) {
        r.target_id = cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(key)));
        billing b = {x, inv, key, arena};
        r.outcome = once(x, r.correlation_id, bill, &b, &r.error, diag);
    }
    return cs_flow_record(&x->flow, &r);
}

/* ---- one cancellation ---- */

/* A MAX order cancelled (status 5) whose storefront order is to be, for
 * cs_flow_once. */
typedef struct withdrawal {
    callback *x;
    cs_system system;
    const char *key; /* the storefront order */
    cs_arena *arena;
} withdrawal;

static cs_error ct_cancel(void *user, const cs_json *order, int64_t version, cs_buf *body,
                          cs_diag *diag)
{
    (void)user;
    (void)order;
    return cs_commercetools_order_state_update(CS_STR_LIT("cancelled"), version, body, diag);
}

static cs_error withdraw_commercetools(callback *x, const char *key, cs_arena *arena, bool *already,
                                       cs_diag *diag)
{
    if (!x->systems.ct) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: no commercetools connection", key);
    }
    cs_str id = cs_str_from_c(key + strlen("commercetools:"));
    const cs_json *order = NULL, *updated = NULL;
    cs_error r = cs_commercetools_get_order(x->systems.ct, id, arena, &order, diag);
    const cs_json *state = r ? NULL : cs_json_object_get(order, CS_STR_LIT("orderState"));
    *already = state && cs_str_eq_c(state->text, "Cancelled");
    return r || *already ? r
                         : cs_commercetools_update_order(x->systems.ct, id, ct_cancel, NULL, arena,
                                                         &updated, diag);
}

static cs_error withdraw(void *user, char result[256], bool *existed, cs_diag *diag)
{
    const withdrawal *w = user;
    snprintf(result, 256, "%s", w->key);
    if (w->system != CS_SYS_SHOPIFY) {
        return withdraw_commercetools(w->x, w->key, w->arena, existed, diag);
    }
    const cs_shop *shop;
    cs_str order_id;
    cs_error r = shopify_order(w->x, w->key, &shop, &order_id, diag);
    return r ? r
             : cs_shopify_cancel_order(shop->api, order_id, w->x->notify_customer, w->arena,
                                       existed, diag);
}

/* A MAX customer order that changed: when MAX has it cancelled (status 5:
 * a MAX user cancelled it, or the warehouse gave up on every line), its
 * storefront order is cancelled too, once (the customer refunded, nothing
 * restocked: stock-update publishes MAX's stock). One the storefront
 * cancelled first, which order-export cancelled in MAX, is a duplicate.
 * Other changes are not this flow's records. */
static cs_outcome apply_cancellation(callback *x, const cs_json *item, cs_arena *arena)
{
    const cs_json *status = cs_json_object_get(item, CS_STR_LIT("status"));
    const cs_json *type = cs_json_object_get(item, CS_STR_LIT("sType"));
    if (!status || !cs_str_eq_c(status->text, "5") || !type || !cs_str_eq_c(type->text, "CU")) {
        return CS_OUTCOME_SKIPPED;
    }
    x->flow.records_in++;
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    if (!diag) {
        return CS_OUTCOME_RETRY;
    }
    const cs_json *ord_num = cs_json_object_get(item, CS_STR_LIT("ordNum"));
    cs_record_result r = {.outcome = CS_OUTCOME_FAILED,
                          .source_id = ord_num ? ord_num->text : CS_STR_NULL,
                          .diag = diag,
                          .snapshot = snapshot(item, arena)};
    r.correlation_id =
        cs_str_from_c(cs_arena_sprintf(arena, "cancel:%.*s", CS_STR_FMT(r.source_id)));
    char key[160] = "";
    cs_system system = CS_SYS_NONE;
    if ((r.error = storefront_order(x, r.source_id, &system, key, diag))) {
        r.outcome = r.error == CS_ERR_NOT_FOUND ? CS_OUTCOME_SKIPPED : CS_OUTCOME_RETRY;
    } else {
        r.target_id = cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(key)));
        withdrawal w = {x, system, key, arena};
        r.outcome = once(x, r.correlation_id, withdraw, &w, &r.error, diag);
    }
    return cs_flow_record(&x->flow, &r);
}

/* ---- a run ---- */

typedef cs_outcome (*apply_fn)(callback *x, const cs_json *item, cs_arena *arena);

/* MAX's records of a resource ("shipments", "invoices") after the cursor
 * kept for it, each applied; the cursor moves past each page unless a
 * record of it must be retried. */
static cs_error sweep(callback *x, const char *resource, apply_fn apply_item, cs_arena *arena,
                      cs_diag *diag)
{
    cs_cursor saved;
    bool found = false;
    cs_error r = cs_state_cursor_get(x->flow.state, x->flow.name, "exactmax", resource, &saved,
                                     &found, diag);
    cs_exactmax_cursor cursor = {.modified_since_ms = found ? saved.updated_at_ms : 0};
    snprintf(cursor.after_key, sizeof(cursor.after_key), "%.63s", found ? saved.id : "");
    bool retry_seen = false;
    for (bool more = !r; more && !r;) {
        const cs_json *items;
        r = cs_exactmax_page(x->systems.max, resource, NULL, PAGE, &cursor, arena, &items, &more,
                             diag);
        for (const cs_json *i = r ? NULL : items->first; i; i = i->next) {
            retry_seen = apply_item(x, i, arena) == CS_OUTCOME_RETRY || retry_seen;
        }
        if (!r && !retry_seen) {
            cs_cursor next = {.updated_at_ms = cursor.modified_since_ms};
            snprintf(next.id, sizeof(next.id), "%s", cursor.after_key);
            r = cs_state_cursor_put(x->flow.state, x->flow.name, "exactmax", resource, &next, diag);
        }
        more = more && !retry_seen;
    }
    return r;
}

/* ---- replay ---- */

static bool own_entry(const cs_error_entry *e)
{
    return strcmp(e->flow, "fulfillment-callback") == 0;
}

/* A snapshot is the shipment or invoice as MAX answered it: applied again
 * as a run would. */
static cs_outcome replay_one(void *user, const cs_error_entry *e, cs_str snapshot, cs_arena *arena)
{
    callback *x = user;
    cs_json *item = NULL;
    cs_diag diag;
    if (cs_json_parse(arena, snapshot, &item, &diag)) {
        x->flow.records_in++;
        cs_record_result r = {.outcome = CS_OUTCOME_FAILED,
                              .correlation_id = cs_str_from_c(e->correlation_id),
                              .error = diag.code,
                              .diag = &diag,
                              .snapshot = snapshot};
        return cs_flow_record(&x->flow, &r);
    }
    return strncmp(e->correlation_id, "invoice:", 8) == 0  ? apply_invoice(x, item, arena)
           : strncmp(e->correlation_id, "cancel:", 7) == 0 ? apply_cancellation(x, item, arena)
                                                           : apply(x, item, arena);
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    callback *x = user;
    snprintf(x->owner, sizeof(x->owner), "%.*s", CS_STR_FMT(inv->request_id));
    x->blocked_count = 0;
    cs_http_set_deadline(x->flow.http, inv->deadline_ms);
    cs_json *doc = NULL;
    const cs_json *what = cs_json_parse(inv->arena, inv->event, &doc, NULL)
                              ? NULL
                              : cs_json_object_get(doc, CS_STR_LIT("replay"));
    if (cs_json_object_get(doc, CS_STR_LIT("Records"))) {
        cs_error r =
            cs_flow_sqs_batch(&x->flow, inv->event, inv->arena, pushed_shipment, x, response, diag);
        cs_flow_emit_metrics(&x->flow);
        return r;
    }
    if (what) {
        cs_replay replay = {.mine = own_entry,
                            .apply = replay_one,
                            .user = x,
                            .stop_ms = inv->deadline_ms - REPLAY_MARGIN_MS};
        cs_error r = cs_flow_replay(&x->flow, &replay, what, inv->arena, response, diag);
        cs_flow_emit_metrics(&x->flow);
        return r;
    }
    cs_error r = sweep(x, "shipments", apply, inv->arena, diag);
    int64_t shipments = x->flow.records_in;
    if (!r) {
        r = sweep(x, "invoices", apply_invoice, inv->arena, diag);
    }
    int64_t invoices = x->flow.records_in - shipments;
    if (!r) {
        r = sweep(x, "sales-orders", apply_cancellation, inv->arena, diag);
    }
    int64_t cancellations = x->flow.records_in - shipments - invoices;
    if (!r) {
        const int64_t *n = x->flow.counts;
        r = cs_buf_appendf(response,
                           "{\"shipments\":%lld,\"invoices\":%lld,\"cancellations\":%lld,"
                           "\"written\":%lld,\"skipped\":%lld,\"retried\":%lld,\"failed\":%lld}",
                           (long long)shipments, (long long)invoices, (long long)cancellations,
                           (long long)n[CS_OUTCOME_WRITTEN],
                           (long long)(n[CS_OUTCOME_SKIPPED] + n[CS_OUTCOME_DUPLICATE]),
                           (long long)n[CS_OUTCOME_RETRY], (long long)n[CS_OUTCOME_FAILED]);
    }
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static callback x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_connections_close(&x.systems);
    cs_flow_clean_up(&x.flow);
    return status;
}
