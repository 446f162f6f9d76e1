/* Shopify order webhooks on the order queue: the body as Shopify sent it,
 * its X-Shopify-* headers as message attributes.
 *
 * orders/create, orders/paid and orders/updated carry the whole order: it
 * is created in MAX when MAX has not got it, cancelled when Shopify has it
 * cancelled, and each of its refunds becomes a credit memo. orders/cancelled
 * is the same, so a cancel that overtakes its create still ends with the
 * order in MAX, cancelled. Other topics are skipped. */
#include <stdio.h>

#include "connectors/shopify/order.h"
#include "connectors/shopify/refund.h"
#include "connectors/shopify/webhook.h"
#include "export/export.h"

static const char *const TOPICS[] = {"orders/create", "orders/paid", "orders/updated",
                                     "orders/cancelled"};

static bool exported_topic(cs_str topic)
{
    for (size_t i = 0; i < sizeof(TOPICS) / sizeof(TOPICS[0]); i++) {
        if (cs_str_eq_c(topic, TOPICS[i])) {
            return true;
        }
    }
    return false;
}

/* Verifies the delivery from its attributes; fills the webhook's facts. */
static cs_error verify(const cs_export *x, const cs_sqs_record *rec, cs_shopify_webhook *w,
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
    return cs_shopify_webhook_verify(headers, n, rec->body, x->systems.webhook_secret, w, diag);
}

/* The order, mapped and validated, and its refunds. */
static cs_error decode(const cs_export *x, const cs_json *json, cs_str store, cs_arena *arena,
                       cs_export_job *job, cs_diag *diag)
{
    cs_problems problems;
    cs_problems_init(&problems, arena);
    cs_order *o = cs_arena_calloc(arena, 1, sizeof(*o));
    if (!o) {
        return cs_arena_full(arena, diag);
    }
    cs_shopify_order_opts opts = {.store_code = store};
    if (!cs_shopify_order_decode(json, &opts, arena, o, &problems)) {
        cs_export_map_and_validate(x, o, &problems);
        cs_return *returns = NULL;
        cs_shopify_order_refunds(json, false, o, false, arena, &returns, &job->return_count,
                                 &problems);
        job->returns = returns;
    }
    job->order = o;
    job->cancel = cs_str_eq_c(o->order_status, "cancelled");
    return cs_problems_total(&problems)
               ? cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag)
               : CS_ERR_OK;
}

bool cs_export_shopify_job(cs_export *x, const cs_sqs_record *rec, cs_arena *arena,
                           cs_export_job *job, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    if (!x->systems.has_shopify) {
        out->error = cs_diag_set(diag, CS_ERR_CONFIG,
                                 "a Shopify webhook, and the config has no "
                                 "connections.shopify");
        return false;
    }
    cs_shopify_webhook w;
    cs_json *json = NULL;
    cs_str store = CS_STR_NULL;
    out->error = verify(x, rec, &w, diag);
    if (!out->error) {
        const cs_shop *shop = cs_connections_shop(&x->systems, w.shop_domain);
        store = shop ? shop->store : CS_STR_NULL;
        out->error = store.len ? cs_json_parse(arena, rec->body, &json, diag)
                               : cs_diag_set(diag, CS_ERR_CONFIG, "shop %.*s is not configured",
                                             CS_STR_FMT(w.shop_domain));
    }
    if (json) {
        const cs_json *id = cs_json_object_get(json, CS_STR_LIT("id"));
        out->source_id = id ? id->text : CS_STR_NULL;
        out->correlation_id = cs_str_from_c(cs_arena_sprintf(
            arena, "shopify:%.*s:%.*s", CS_STR_FMT(store), CS_STR_FMT(out->source_id)));
    }
    if (out->error) {
        return false;
    }
    if (!exported_topic(w.topic)) {
        out->outcome = CS_OUTCOME_SKIPPED;
        return false;
    }
    *job = (cs_export_job){.source = CS_SYS_SHOPIFY, .key = out->correlation_id};
    out->error = decode(x, json, store, arena, job, diag);
    return !out->error;
}
