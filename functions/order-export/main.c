/* order-export: storefront orders into the ERP, each exactly once.
 *
 * Triggered by the order queue, which holds Shopify order webhooks (the
 * body as Shopify sent it, its X-Shopify-* headers as message attributes)
 * and commercetools subscription messages. Each message becomes a job
 * (shopify.c, commercetools.c): the order decoded to the canonical order,
 * its SKUs mapped to MAX part numbers and validated; erp.c then creates it
 * as a MAX sales order, cancels it, and credits its refunds, each change
 * exactly once. A message that cannot be a job (a bad signature, a bad
 * order, an unknown SKU) goes to the error queue with its snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/validate.h"
#include "export/export.h"
#include "runtime.h"

/* ---- init ---- */

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    cs_export *x = user;
    cs_error r = cs_flow_init(&x->flow, "order-export", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c, CS_USE_EXACTMAX | CS_USE_WEBHOOKS);
    cs_export_read_config(x, c);
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

static void handle_record(void *user, const cs_sqs_record *rec, cs_arena *arena,
                          cs_record_result *out)
{
    cs_export_message(user, rec, arena, out);
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    cs_export *x = user;
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
    static cs_export x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_connections_close(&x.systems);
    cs_flow_clean_up(&x.flow);
    return status;
}
