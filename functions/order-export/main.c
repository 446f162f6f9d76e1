/* order-export: storefront orders into the ERP, each exactly once.
 *
 * Triggered by the order queue, which holds Shopify order webhooks (the
 * body as Shopify sent it, its X-Shopify-* headers as message attributes).
 * For each message: the signature is checked again, the order decoded to
 * the canonical order, its SKUs mapped to MAX part numbers, validated, and
 * created as a MAX sales order.
 *
 * Exactly once: an idempotency record per order (taken with a lease,
 * completed with the MAX order number) makes duplicates and redeliveries
 * no-ops; MAX's own key, the customer PO, covers a crash between the create
 * and the state write, since a repeated create answers the order it made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/exactmax/client.h"
#include "connectors/exactmax/order.h"
#include "connectors/shopify/order.h"
#include "connectors/shopify/webhook.h"
#include "core/timestamp.h"
#include "flow/flow.h"
#include "mapping/mapping.h"
#include "mapping/validate.h"
#include "runtime.h"

enum { MAX_SHOPS = 32, BUSY_WAITS = 40, BUSY_WAIT_MS = 50 };
static const int64_t LEASE_MS = 5 * 60 * 1000; /* longer than the function's timeout */
/* Far past Shopify's 48 hours of redelivery and SQS's 14 days of retention. */
static const int64_t IDEM_TTL_MS = 90LL * 24 * 3600 * 1000;

typedef struct shop {
    cs_str domain; /* "eu-store.myshopify.com" */
    cs_str store;  /* the store code: "eu" */
} shop;

typedef struct order_export {
    cs_flow flow;
    cs_exactmax *max;
    cs_mapping *mapping;
    const cs_lookup *skus;   /* SKU to MAX part number */
    const cs_lookup *stores; /* store code to account, stockroom */
    shop shops[MAX_SHOPS];
    size_t shop_count;
    cs_str webhook_secret;
    cs_exactmax_order_opts opts; /* cust_id and stockroom set per order */
    char owner[64];              /* this invocation, for idempotency leases */
    int64_t deadline_ms;         /* this invocation's, epoch ms; 0: none */
} order_export;

/* ---- init ---- */

static void read_shops(order_export *x, cs_config *c)
{
    const cs_json *shopify = cs_config_object(c, "connections.shopify", false);
    const cs_json *shops = cs_json_object_get(shopify, CS_STR_LIT("shops"));
    if (shopify && (!shops || shops->type != CS_JSON_OBJECT || shops->count == 0)) {
        cs_problems_add(&c->problems, "connections.shopify.shops", "required",
                        "an object of shop domains, each with its store code");
    }
    for (const cs_json *s = shops && shops->type == CS_JSON_OBJECT ? shops->first : NULL; s;
         s = s->next) {
        const char *path =
            cs_arena_sprintf(c->arena, "connections.shopify.shops.%.*s", CS_STR_FMT(s->key));
        cs_str store = cs_config_string(c, s, path, "store", false);
        if (x->shop_count == MAX_SHOPS) {
            cs_problems_add(&c->problems, path, "too_many", "at most %d shops", MAX_SHOPS);
            break;
        }
        x->shops[x->shop_count++] = (shop){.domain = s->key, .store = store};
    }
    if (shopify) {
        x->webhook_secret = cs_config_secret(c, shopify, "connections.shopify", "webhook_secret");
    }
}

static const cs_lookup *table(order_export *x, cs_config *c, const cs_json *at, const char *key,
                              const char *columns[])
{
    cs_str name = cs_config_string(c, at, "order_export", key, false);
    const cs_lookup *t = name.len ? cs_mapping_lookup(x->mapping, name) : NULL;
    if (name.len && !t) {
        cs_problems_add(&c->problems, cs_arena_sprintf(c->arena, "order_export.%s", key),
                        "unknown_lookup", "no lookup table '%.*s'", CS_STR_FMT(name));
    }
    for (size_t i = 0; t && columns && columns[i]; i++) {
        if (!cs_lookup_has_column(t, cs_str_from_c(columns[i]))) {
            cs_problems_add(&c->problems,
                            cs_arena_sprintf(c->arena, "lookups.%.*s", CS_STR_FMT(name)), "column",
                            "every store needs '%s'", columns[i]);
        }
    }
    return t;
}

static void read_order_opts(order_export *x, cs_config *c)
{
    const cs_json *o = cs_config_object(c, "order_export", false);
    static const char *store_columns[] = {"account", "stockroom", NULL};
    x->skus = table(x, c, o, "sku_lookup", NULL);
    x->stores = table(x, c, o, "stores_lookup", store_columns);
    cs_str charges = cs_config_string(c, o, "order_export", "charges", false);
    bool as_lines = cs_str_eq_c(charges, "lines");
    if (charges.len && !as_lines && !cs_str_eq_c(charges, "header")) {
        cs_problems_add(&c->problems, "order_export.charges", "enum",
                        "discounts and shipping go as \"lines\" or on the \"header\"");
    }
    x->opts = (cs_exactmax_order_opts){
        .terms = cs_config_string(c, o, "order_export", "terms", true),
        .tax_code = cs_config_string(c, o, "order_export", "tax_code", true),
        .ship_via = cs_config_string(c, o, "order_export", "ship_via", true),
        .charges = as_lines ? CS_EXACTMAX_CHARGES_AS_LINES : CS_EXACTMAX_CHARGES_ON_HEADER,
        .discount_part = cs_config_string(c, o, "order_export", "discount_part", !as_lines),
        .freight_part = cs_config_string(c, o, "order_export", "freight_part", !as_lines),
        .due_days = (int)cs_config_int(c, o, "order_export", "due_days", 0, 365, 0),
    };
}

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    order_export *x = user;
    cs_error r = cs_flow_init(&x->flow, "order-export", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    if (cs_mapping_load(arena, c->root, &x->mapping, &c->problems) == CS_ERR_ARENA_FULL) {
        return cs_arena_full(arena, diag);
    }
    const cs_json *max = cs_config_object(c, "connections.exactmax", false);
    cs_str url = cs_config_string(c, max, "connections.exactmax", "url", false);
    cs_str key = cs_config_secret(c, max, "connections.exactmax", "key");
    read_shops(x, c);
    read_order_opts(x, c);
    r = cs_config_check(c, log, diag);
    if (!r) {
        cs_log_add_secret(log, key);
        cs_log_add_secret(log, x->webhook_secret);
        cs_exactmax_config mc = {.base_url = cs_arena_strndup(arena, url), .key = key};
        x->max = cs_exactmax_new(x->flow.http, &mc, diag);
        r = x->max ? CS_ERR_OK : diag->code;
    }
    return r;
}

/* ---- one order ---- */

static bool transient(cs_error e)
{
    return e == CS_ERR_HTTP_TRANSIENT || e == CS_ERR_HTTP || e == CS_ERR_DEADLINE ||
           e == CS_ERR_BUSY || e == CS_ERR_STORAGE || e == CS_ERR_AWS || e == CS_ERR_TLS ||
           e == CS_ERR_ARENA_FULL || e == CS_ERR_NOMEM;
}

static cs_str store_of(const order_export *x, cs_str domain)
{
    for (size_t i = 0; i < x->shop_count; i++) {
        if (cs_str_eq(x->shops[i].domain, domain)) {
            return x->shops[i].store;
        }
    }
    return CS_STR_NULL;
}

/* The SQS message as received, for the error queue and replay. */
static cs_str snapshot(const cs_sqs_record *rec, cs_arena *arena)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "messageAttributes");
    if (rec->attributes) {
        cs_json_write_value(&w, rec->attributes);
    } else {
        cs_json_write_null(&w);
    }
    cs_json_write_key_c(&w, "body");
    cs_json_write_string(&w, rec->body);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    char *copy = cs_arena_strndup(arena, cs_buf_view(&out));
    cs_str s = cs_str_make(copy, copy ? out.len : 0);
    cs_buf_clean_up(&out);
    return s;
}

/* Verifies the delivery from its attributes; fills the webhook's facts. */
static cs_error verify(const order_export *x, const cs_sqs_record *rec, cs_shopify_webhook *w,
                       cs_diag *diag)
{
    static const char *names[] = {"X-Shopify-Topic",       "X-Shopify-Hmac-Sha256",
                                  "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id",
                                  "X-Shopify-API-Version", "X-Shopify-Event-Id"};
    cs_header headers[6];
    size_t n = 0;
    for (size_t i = 0; i < 6; i++) {
        cs_str v = cs_sqs_attribute(rec, names[i]);
        if (v.len) {
            headers[n++] = (cs_header){cs_str_from_c(names[i]), v};
        }
    }
    return cs_shopify_webhook_verify(headers, n, rec->body, x->webhook_secret, w, diag);
}

/* Part numbers for lines that have none, from the SKU table. */
static void map_items(const order_export *x, cs_order *o, cs_problems *problems)
{
    for (size_t i = 0; i < o->line_count; i++) {
        cs_order_line *l = &o->lines[i];
        if (!l->item_code.len && x->skus &&
            !cs_lookup_find(x->skus, l->sku, CS_STR_NULL, &l->item_code)) {
            char path[48];
            snprintf(path, sizeof(path), "lines[%zu].sku", i);
            cs_problems_add(problems, path, "unknown_sku", "no part number for SKU '%.*s'",
                            CS_STR_FMT(l->sku));
        }
    }
}

/* Decodes, maps and validates; the MAX body goes to body. */
static cs_error prepare(order_export *x, const cs_json *json, cs_str store, cs_arena *arena,
                        cs_order *o, cs_buf *body, cs_diag *diag)
{
    cs_problems problems;
    cs_problems_init(&problems, arena);
    cs_shopify_order_opts decode = {.store_code = store};
    cs_exactmax_order_opts opts = x->opts;
    if (!cs_shopify_order_decode(json, &decode, arena, o, &problems)) {
        map_items(x, o, &problems);
        cs_validate_order(o, &(cs_validate_opts){.sku_table = x->skus}, &problems);
        if (!cs_lookup_find(x->stores, store, CS_STR_LIT("account"), &opts.cust_id) ||
            !cs_lookup_find(x->stores, store, CS_STR_LIT("stockroom"), &opts.stockroom)) {
            cs_problems_add(&problems, "store_code", "unknown_store",
                            "store '%.*s' is not in the stores table", CS_STR_FMT(store));
        }
    }
    if (!cs_problems_total(&problems)) {
        cs_exactmax_order_encode(o, &opts, body, &problems);
    }
    return cs_problems_total(&problems)
               ? cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag)
               : CS_ERR_OK;
}

/* Takes the order's idempotency record. A duplicate delivered to another
 * instance at the same moment holds it for milliseconds: waiting for it to
 * finish, while time allows, answers "duplicate" now instead of a
 * redelivery after the visibility timeout. */
static cs_error begin(order_export *x, cs_str record, cs_str version, cs_idem_result *idem,
                      cs_diag *diag)
{
    cs_error r = CS_ERR_OK;
    for (int attempt = 0; attempt < BUSY_WAITS; attempt++) {
        r = cs_state_idem_begin(x->flow.state, x->flow.name, record, version, x->owner,
                                cs_time_now_ms(), LEASE_MS, IDEM_TTL_MS, idem, diag);
        bool time_left = !x->deadline_ms || cs_time_now_ms() + 2 * BUSY_WAIT_MS < x->deadline_ms;
        if (r || idem->status != CS_IDEM_BUSY || !time_left) {
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = BUSY_WAIT_MS * 1000000L}, NULL);
    }
    return r;
}

/* Creates the sales order once: the idempotency record answers repeats. */
static cs_outcome export_once(order_export *x, cs_str record, cs_str body, char ord_num[16],
                              cs_error *error, cs_diag *diag)
{
    cs_idem_result idem;
    cs_str version = CS_STR_LIT("create");
    *error = begin(x, record, version, &idem, diag);
    if (*error) {
        return CS_OUTCOME_RETRY;
    }
    if (idem.status == CS_IDEM_DONE) {
        snprintf(ord_num, 16, "%.15s", idem.result);
        return CS_OUTCOME_DUPLICATE;
    }
    if (idem.status == CS_IDEM_BUSY) {
        *error = cs_diag_set(diag, CS_ERR_BUSY, "another instance is exporting this order");
        return CS_OUTCOME_RETRY;
    }
    bool existed = false;
    *error = cs_exactmax_create_order(x->max, body, ord_num, &existed, diag);
    if (*error) {
        cs_state_idem_release(x->flow.state, x->flow.name, record, version, x->owner, NULL);
        return transient(*error) ? CS_OUTCOME_RETRY : CS_OUTCOME_FAILED;
    }
    /* MAX has the order now. If its state cannot be written (or the lease
     * was lost meanwhile), the redelivery finds it by customer PO: a retry,
     * never an error-queue entry for an order that went through. */
    *error = cs_state_idem_complete(x->flow.state, x->flow.name, record, version, x->owner,
                                    cs_str_from_c(ord_num), cs_time_now_ms(), IDEM_TTL_MS, diag);
    if (*error) {
        return CS_OUTCOME_RETRY;
    }
    return existed ? CS_OUTCOME_DUPLICATE : CS_OUTCOME_WRITTEN;
}

static bool creates_order(cs_str topic)
{
    return cs_str_eq_c(topic, "orders/create") || cs_str_eq_c(topic, "orders/updated") ||
           cs_str_eq_c(topic, "orders/paid");
}

static void handle_record(void *user, const cs_sqs_record *rec, cs_arena *arena,
                          cs_record_result *out)
{
    order_export *x = user;
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    *out = (cs_record_result){.outcome = CS_OUTCOME_FAILED,
                              .correlation_id = rec->message_id,
                              .diag = diag,
                              .snapshot = snapshot(rec, arena)};
    if (!diag || !out->snapshot.len) {
        *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        return;
    }
    cs_shopify_webhook w;
    cs_json *json = NULL;
    cs_str store = CS_STR_NULL;
    out->error = verify(x, rec, &w, diag);
    if (!out->error) {
        store = store_of(x, w.shop_domain);
        out->error = store.len ? cs_json_parse(arena, rec->body, &json, diag)
                               : cs_diag_set(diag, CS_ERR_CONFIG, "shop %.*s is not configured",
                                             CS_STR_FMT(w.shop_domain));
    }
    cs_str id = CS_STR_NULL;
    if (json) {
        const cs_json *jid = cs_json_object_get(json, CS_STR_LIT("id"));
        id = jid ? jid->text : CS_STR_NULL;
        out->source_id = id;
        out->correlation_id = cs_str_from_c(
            cs_arena_sprintf(arena, "shopify:%.*s:%.*s", CS_STR_FMT(store), CS_STR_FMT(id)));
    }
    if (out->error) {
        return;
    }
    if (!creates_order(w.topic)) {
        out->outcome = CS_OUTCOME_SKIPPED;
        return;
    }
    cs_order order;
    cs_buf body;
    cs_buf_init(&body, 0);
    out->error = prepare(x, json, store, arena, &order, &body, diag);
    if (!out->error) {
        char ord_num[16] = "";
        out->outcome =
            export_once(x, out->correlation_id, cs_buf_view(&body), ord_num, &out->error, diag);
        out->target_id = cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(ord_num)));
    }
    cs_buf_clean_up(&body);
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    order_export *x = user;
    snprintf(x->owner, sizeof(x->owner), "%.*s", CS_STR_FMT(inv->request_id));
    x->deadline_ms = inv->deadline_ms;
    cs_http_set_deadline(x->flow.http, inv->deadline_ms);
    cs_error r =
        cs_flow_sqs_batch(&x->flow, inv->event, inv->arena, handle_record, x, response, diag);
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static order_export x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_exactmax_destroy(x.max);
    cs_flow_clean_up(&x.flow);
    return status;
}
