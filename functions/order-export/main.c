/* order-export: storefront orders into the ERP, each exactly once.
 *
 * Two triggers:
 * - The order queue, which holds Shopify order webhooks (the body as
 *   Shopify sent it, its X-Shopify-* headers as message attributes, put
 *   there by webhook-ingress) and commercetools subscription messages.
 *   Each message is applied to MAX by shared/export; one that cannot be (a
 *   bad signature, a bad order, an unknown SKU) goes to the error queue
 *   with its snapshot.
 * - A schedule that reconciles, because webhooks get lost: every
 *   storefront's orders updated since the last reconciliation (per store,
 *   a checkpoint in state; the first one looks back
 *   order_export.reconcile_lookback_minutes) up to a minute ago are read
 *   from their APIs and applied the same way. An order a webhook brought
 *   is a duplicate; one it lost is written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/validate.h"
#include "core/timestamp.h"
#include "export/export.h"
#include "runtime.h"

/* Orders more recent than the settle time are left to their webhooks,
 * still on their way. */
enum { DEFAULT_LOOKBACK_MINUTES = 120, DEFAULT_SETTLE_SECONDS = 60, RECONCILE_PAGE = 100 };
static const int64_t STOP_BEFORE_DEADLINE_MS = 10000;
static int64_t lookback_ms, settle_ms;

/* ---- init ---- */

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    cs_export *x = user;
    cs_error r = cs_flow_init(&x->flow, "order-export", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c,
                        CS_USE_EXACTMAX | CS_USE_WEBHOOKS | CS_USE_SHOPIFY_API |
                            CS_USE_COMMERCETOOLS);
    cs_export_read_config(x, c);
    const cs_json *o = cs_config_object(c, "order_export", false);
    lookback_ms = cs_config_int(c, o, "order_export", "reconcile_lookback_minutes", 1, 10080,
                                DEFAULT_LOOKBACK_MINUTES) *
                  60000;
    settle_ms = cs_config_int(c, o, "order_export", "reconcile_settle_seconds", 0, 3600,
                              DEFAULT_SETTLE_SECONDS) *
                1000;
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

static void handle_record(void *user, const cs_sqs_record *rec, cs_arena *arena,
                          cs_record_result *out)
{
    cs_export_message(user, rec, arena, out);
}

/* The schedule's run: each store from its checkpoint (or the lookback)
 * to a minute ago. */
static cs_error reconcile(cs_export *x, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    int64_t now = cs_time_now_ms();
    cs_export_sweep_opts s = {
        .flow = x->flow.name,
        .source = "reconcile",
        .from_ms = now - lookback_ms,
        .to_ms = now - settle_ms + 1,
        .page_size = RECONCILE_PAGE,
        .stop_at_ms = inv->deadline_ms ? inv->deadline_ms - STOP_BEFORE_DEADLINE_MS : INT64_MAX,
    };
    cs_error r = cs_export_sweep(x, &s, diag);
    const int64_t *n = x->flow.counts;
    return r ? r
             : cs_buf_appendf(response,
                              "{\"read\":%lld,\"written\":%lld,\"duplicates\":%lld,"
                              "\"failed\":%lld,\"complete\":%s}",
                              (long long)s.read, (long long)n[CS_OUTCOME_WRITTEN],
                              (long long)n[CS_OUTCOME_DUPLICATE], (long long)n[CS_OUTCOME_FAILED],
                              s.complete ? "true" : "false");
}

/* An SQS batch has "Records"; anything else is the schedule. */
static bool is_batch(cs_str event)
{
    return memmem(event.ptr, event.len, "\"Records\"", 9) != NULL;
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    cs_export *x = user;
    cs_export_start(x, inv->request_id, inv->deadline_ms);
    cs_error r = is_batch(inv->event) ? cs_flow_sqs_batch(&x->flow, inv->event, inv->arena,
                                                          handle_record, x, response, diag)
                                      : reconcile(x, inv, response, diag);
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static cs_export x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_export_clean_up(&x);
    return status;
}
