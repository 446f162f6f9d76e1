/* The order_export settings, read once at init, and what each invocation
 * sets. */
#include <stdio.h>

#include "export/export.h"

void cs_export_read_config(cs_export *x, cs_config *c)
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
    cs_export_read_customer_config(x, c); /* orders go on their customers' accounts */
}

void cs_export_clean_up(cs_export *x)
{
    cs_export_accounts_free(x);
    cs_export_parts_free(x);
    cs_connections_close(&x->systems);
    cs_flow_clean_up(&x->flow);
}

void cs_export_start(cs_export *x, cs_str request_id, int64_t deadline_ms)
{
    snprintf(x->owner, sizeof(x->owner), "%.*s", CS_STR_FMT(request_id));
    cs_export_accounts_free(x); /* MAX's accounts and parts as they are now, when needed */
    cs_export_parts_free(x);
    x->deadline_ms = deadline_ms;
    cs_http_set_deadline(x->flow.http, deadline_ms);
}
