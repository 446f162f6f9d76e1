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
#include "order_export.h"
#include "runtime.h"

/* ---- init ---- */

static void read_order_opts(order_export *x, cs_config *c)
{
    const cs_json *o = cs_config_object(c, "order_export", false);
    static const char *const store_columns[] = {"account", "stockroom", NULL};
    x->skus = cs_flow_lookup(&x->flow, o, "order_export", "sku_lookup", NULL);
    x->stores = cs_flow_lookup(&x->flow, o, "order_export", "stores_lookup", store_columns);
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
    cs_connections_read(&x->systems, c, CS_USE_EXACTMAX | CS_USE_WEBHOOKS);
    read_order_opts(x, c);
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

/* ---- one message ---- */

void export_map_and_validate(const order_export *x, cs_order *o, cs_problems *problems)
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
    cs_validate_order(o, &(cs_validate_opts){.sku_table = x->skus}, problems);
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

/* A commercetools message is JSON with notificationType "Message"; a
 * Shopify webhook comes with its topic attribute. */
static bool to_job(order_export *x, const cs_sqs_record *rec, cs_arena *arena, export_job *job,
                   cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    if (cs_sqs_attribute(rec, "X-Shopify-Topic").len) {
        return shopify_job(x, rec, arena, job, out);
    }
    cs_json *json = NULL;
    out->error = cs_json_parse(arena, rec->body, &json, diag);
    const cs_json *type = cs_json_object_get(json, CS_STR_LIT("notificationType"));
    if (!out->error && !(type && cs_str_eq_c(type->text, "Message"))) {
        out->error = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                                 "neither a Shopify webhook (no X-Shopify-Topic attribute) nor a "
                                 "commercetools message (notificationType Message)");
    }
    return !out->error && commercetools_job(x, json, arena, job, out);
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
    export_job job;
    if (to_job(x, rec, arena, &job, out)) {
        export_apply(x, &job, arena, out);
    } else if (out->error && export_transient(out->error)) {
        out->outcome = CS_OUTCOME_RETRY;
    }
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
    cs_connections_close(&x.systems);
    cs_flow_clean_up(&x.flow);
    return status;
}
