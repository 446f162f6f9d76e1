/* One message of the order queue, as order-export and replay take it:
 * turned into a job (shopify.c, commercetools.c) and applied to MAX
 * (erp.c). A message that cannot be a job (a bad signature, a bad order,
 * an unknown SKU) fails with its snapshot: the message as received. */
#include <stdio.h>

#include "export/export.h"
#include "mapping/validate.h"

void cs_export_map_and_validate(const cs_export *x, cs_order *o, cs_problems *problems)
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
    return cs_json_writer_to_arena(&w, &out, arena);
}

/* A Shopify webhook comes with its topic attribute; a Shopify EventBridge
 * event and a commercetools message are JSON, told apart by their source
 * and notificationType. */
static bool to_job(cs_export *x, const cs_sqs_record *rec, cs_arena *arena, cs_export_job *job,
                   cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    if (cs_sqs_attribute(rec, "X-Shopify-Topic").len) {
        return cs_export_shopify_job(x, rec, arena, job, out);
    }
    cs_json *json = NULL;
    out->error = cs_json_parse(arena, rec->body, &json, diag);
    if (!out->error && cs_export_is_shopify_event(json)) {
        return cs_export_shopify_event_job(x, json, arena, job, out);
    }
    const cs_json *type = cs_json_object_get(json, CS_STR_LIT("notificationType"));
    if (!out->error && !(type && cs_str_eq_c(type->text, "Message"))) {
        out->error = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                                 "neither a Shopify webhook (no X-Shopify-Topic attribute), a "
                                 "Shopify EventBridge event (source aws.partner/shopify.com/...) "
                                 "nor a commercetools message (notificationType Message)");
    }
    return !out->error && cs_export_commercetools_job(x, json, arena, job, out);
}

void cs_export_message(cs_export *x, const cs_sqs_record *rec, cs_arena *arena,
                       cs_record_result *out)
{
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    *out = (cs_record_result){.outcome = CS_OUTCOME_FAILED,
                              .correlation_id = rec->message_id,
                              .diag = diag,
                              .snapshot = snapshot(rec, arena)};
    if (!diag || !out->snapshot.len) {
        *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        return;
    }
    cs_export_job job;
    if (to_job(x, rec, arena, &job, out)) {
        cs_export_apply(x, &job, arena, out);
    } else if (out->error && cs_export_transient(out->error)) {
        out->outcome = CS_OUTCOME_RETRY;
    }
}
