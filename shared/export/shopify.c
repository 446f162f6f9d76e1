/* Shopify order webhooks on the order queue: the body as Shopify sent it,
 * its X-Shopify-* headers as message attributes (from webhook-ingress,
 * which verified them, and verified again here); or Shopify's Amazon
 * EventBridge events, the order in detail.payload and the headers in
 * detail.metadata, which a rule on the partner event bus puts on the
 * queue. EventBridge re-serialises the payload, so its HMAC no longer
 * matches; such an event is trusted for its source, a partner event source
 * only Shopify can write to, and the queue's policy.
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

/* A verified delivery of topic from shop_domain whose body is json. */
static bool webhook_job(cs_export *x, cs_str topic, cs_str shop_domain, const cs_json *json,
                        cs_arena *arena, cs_export_job *job, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    const cs_shop *shop = cs_connections_shop(&x->systems, shop_domain);
    cs_str store = shop ? shop->store : CS_STR_NULL;
    const cs_json *id = cs_json_object_get(json, CS_STR_LIT("id"));
    out->source_id = id ? id->text : CS_STR_NULL;
    out->correlation_id = cs_str_from_c(cs_arena_sprintf(
        arena, "shopify:%.*s:%.*s", CS_STR_FMT(store), CS_STR_FMT(out->source_id)));
    if (!store.len) {
        out->error = cs_diag_set(diag, CS_ERR_CONFIG, "shop %.*s is not configured",
                                 CS_STR_FMT(shop_domain));
        return false;
    }
    if (!exported_topic(topic)) {
        out->outcome = CS_OUTCOME_SKIPPED;
        return false;
    }
    *job = (cs_export_job){.source = CS_SYS_SHOPIFY, .key = out->correlation_id};
    out->error = decode(x, json, store, arena, job, diag);
    return !out->error;
}

static bool has_shopify(const cs_export *x, cs_record_result *out)
{
    if (!x->systems.has_shopify) {
        out->error = cs_diag_set((cs_diag *)out->diag, CS_ERR_CONFIG,
                                 "a Shopify webhook, and the config has no "
                                 "connections.shopify");
    }
    return x->systems.has_shopify;
}

bool cs_export_shopify_job(cs_export *x, const cs_sqs_record *rec, cs_arena *arena,
                           cs_export_job *job, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    cs_shopify_webhook w;
    cs_json *json = NULL;
    if (!has_shopify(x, out) || (out->error = verify(x, rec, &w, diag)) ||
        (out->error = cs_json_parse(arena, rec->body, &json, diag))) {
        return false;
    }
    return webhook_job(x, w.topic, w.shop_domain, json, arena, job, out);
}

bool cs_export_is_shopify_event(const cs_json *event)
{
    cs_str source = CS_STR_NULL;
    cs_json_get_string(event, "source", &source, NULL);
    return cs_str_starts_with(source, CS_STR_LIT("aws.partner/shopify.com/")) &&
           cs_json_object_get(event, CS_STR_LIT("detail"));
}

/* A member of the event's metadata, whatever the case of its name (the
 * headers keep Shopify's spelling, which varies). */
static cs_str metadata(const cs_json *meta, const char *name)
{
    for (const cs_json *m = meta ? meta->first : NULL; m; m = m->next) {
        if (m->type == CS_JSON_STRING && cs_str_eq_nocase(m->key, cs_str_from_c(name))) {
            return m->text;
        }
    }
    return CS_STR_NULL;
}

bool cs_export_shopify_event_job(cs_export *x, const cs_json *event, cs_arena *arena,
                                 cs_export_job *job, cs_record_result *out)
{
    const cs_json *detail = cs_json_object_get(event, CS_STR_LIT("detail"));
    const cs_json *meta = cs_json_object_get(detail, CS_STR_LIT("metadata"));
    const cs_json *payload = cs_json_object_get(detail, CS_STR_LIT("payload"));
    cs_str topic = metadata(meta, "X-Shopify-Topic");
    cs_str shop_domain = metadata(meta, "X-Shopify-Shop-Domain");
    if (!has_shopify(x, out)) {
        return false;
    }
    if (!payload || payload->type != CS_JSON_OBJECT || !topic.len || !shop_domain.len) {
        out->error = cs_diag_set((cs_diag *)out->diag, CS_ERR_INVALID_ARGUMENT,
                                 "a Shopify EventBridge event needs detail.payload (an object) "
                                 "and detail.metadata's X-Shopify-Topic and "
                                 "X-Shopify-Shop-Domain");
        return false;
    }
    return webhook_job(x, topic, shop_domain, payload, arena, job, out);
}
