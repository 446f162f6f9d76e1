#include "actions.h"

#include <stdio.h>

#include "core/json.h"
#include "core/timestamp.h"

static void w_str(cs_json_writer *w, const char *key, cs_str value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string(w, value);
}

static void w_int(cs_json_writer *w, const char *key, int64_t n)
{
    cs_json_write_key_c(w, key);
    cs_json_write_int64(w, n);
}

/* {"version": v, "actions": [ ... then the caller's actions and the end. */
static void begin_update(cs_json_writer *w, cs_buf *out, int64_t version)
{
    cs_json_writer_init(w, out);
    cs_json_write_object_begin(w);
    w_int(w, "version", version);
    cs_json_write_key_c(w, "actions");
    cs_json_write_array_begin(w);
}

static cs_error end_update(cs_json_writer *w, cs_diag *diag)
{
    cs_json_write_array_end(w);
    cs_json_write_object_end(w);
    cs_error r = cs_json_writer_finish(w, diag);
    cs_json_writer_clean_up(w);
    return r;
}

/* A line names its order line and ships or returns 1 or more units. */
static bool line_ok(size_t i, cs_str line_id, int64_t quantity, cs_problems *problems)
{
    if (line_id.len && quantity > 0) {
        return true;
    }
    char path[32];
    snprintf(path, sizeof(path), "lines[%zu]", i);
    cs_problems_add(problems, path, "line", "needs its order line id and 1 or more units");
    return false;
}

static bool some_lines(size_t count, const char *what, cs_problems *problems)
{
    if (count == 0) {
        cs_problems_add(problems, "lines", "required", "a %s has at least one line", what);
    }
    return count > 0;
}

cs_error cs_commercetools_delivery_update(const cs_shipment *s, int64_t version, cs_buf *out,
                                          cs_problems *problems)
{
    bool ok = some_lines(s->line_count, "delivery", problems);
    for (size_t i = 0; i < s->line_count; i++) {
        ok = line_ok(i, s->lines[i].line_id, s->lines[i].quantity, problems) && ok;
    }
    if (!ok) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    cs_json_writer w;
    begin_update(&w, out, version);
    cs_json_write_object_begin(&w);
    w_str(&w, "action", CS_STR_LIT("addDelivery"));
    cs_json_write_key_c(&w, "items");
    cs_json_write_array_begin(&w);
    for (size_t i = 0; i < s->line_count; i++) {
        cs_json_write_object_begin(&w);
        w_str(&w, "id", s->lines[i].line_id);
        w_int(&w, "quantity", s->lines[i].quantity);
        cs_json_write_object_end(&w);
    }
    cs_json_write_array_end(&w);
    cs_json_write_key_c(&w, "parcels");
    cs_json_write_array_begin(&w);
    if (s->tracking_number.len) {
        cs_json_write_object_begin(&w);
        cs_json_write_key_c(&w, "trackingData");
        cs_json_write_object_begin(&w);
        w_str(&w, "trackingId", s->tracking_number);
        w_str(&w, "carrier", s->carrier);
        cs_json_write_key_c(&w, "isReturn");
        cs_json_write_bool(&w, false);
        cs_json_write_object_end(&w);
        cs_json_write_object_end(&w);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json_write_object_begin(&w);
    w_str(&w, "action", CS_STR_LIT("changeShipmentState"));
    w_str(&w, "shipmentState", s->partial ? CS_STR_LIT("Partial") : CS_STR_LIT("Shipped"));
    cs_json_write_object_end(&w);
    cs_diag diag;
    cs_error r = end_update(&w, &diag);
    if (r) {
        cs_problems_add(problems, "", "json", "%s", diag.message);
    }
    return r;
}

cs_error cs_commercetools_order_state_update(cs_str status, int64_t version, cs_buf *out,
                                             cs_diag *diag)
{
    cs_str state = cs_str_eq_c(status, "open")        ? CS_STR_LIT("Confirmed")
                   : cs_str_eq_c(status, "closed")    ? CS_STR_LIT("Complete")
                   : cs_str_eq_c(status, "cancelled") ? CS_STR_LIT("Cancelled")
                                                      : CS_STR_NULL;
    if (state.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "order status '%.*s' is not open, closed or cancelled",
                           CS_STR_FMT(status));
    }
    cs_json_writer w;
    begin_update(&w, out, version);
    cs_json_write_object_begin(&w);
    w_str(&w, "action", CS_STR_LIT("changeOrderState"));
    w_str(&w, "orderState", state);
    cs_json_write_object_end(&w);
    return end_update(&w, diag);
}

cs_error cs_commercetools_return_update(const cs_return *ret, int64_t version, cs_buf *out,
                                        cs_problems *problems)
{
    bool ok = some_lines(ret->line_count, "return", problems);
    for (size_t i = 0; i < ret->line_count; i++) {
        ok = line_ok(i, ret->lines[i].line_id, ret->lines[i].quantity, problems) && ok;
    }
    if (!ok) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    cs_json_writer w;
    begin_update(&w, out, version);
    cs_json_write_object_begin(&w);
    w_str(&w, "action", CS_STR_LIT("addReturnInfo"));
    if (ret->meta.source_id.len) {
        w_str(&w, "returnTrackingId", ret->meta.source_id);
    }
    char date[CS_TIME_RFC3339_MAX];
    if (ret->created_at_ms && !cs_time_format_rfc3339(ret->created_at_ms, 0, date)) {
        w_str(&w, "returnDate", cs_str_from_c(date));
    }
    cs_json_write_key_c(&w, "items");
    cs_json_write_array_begin(&w);
    for (size_t i = 0; i < ret->line_count; i++) {
        cs_json_write_object_begin(&w);
        w_int(&w, "quantity", ret->lines[i].quantity);
        w_str(&w, "lineItemId", ret->lines[i].line_id);
        w_str(&w, "shipmentState", CS_STR_LIT("Returned"));
        if (ret->lines[i].reason.len) {
            w_str(&w, "comment", ret->lines[i].reason);
        }
        cs_json_write_object_end(&w);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_diag diag;
    cs_error r = end_update(&w, &diag);
    if (r) {
        cs_problems_add(problems, "", "json", "%s", diag.message);
    }
    return r;
}

cs_error cs_commercetools_inventory_body(const cs_stock_level *level, cs_str channel_key,
                                         int64_t version, cs_buf *out, cs_diag *diag)
{
    if (level->sku.len == 0 || channel_key.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "an inventory entry needs a SKU and a supply channel key");
    }
    int64_t quantity = level->available < 0 ? 0 : level->available;
    cs_json_writer w;
    if (version > 0) {
        begin_update(&w, out, version);
        cs_json_write_object_begin(&w);
        w_str(&w, "action", CS_STR_LIT("changeQuantity"));
        w_int(&w, "quantity", quantity);
        cs_json_write_object_end(&w);
        return end_update(&w, diag);
    }
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    w_str(&w, "sku", level->sku);
    cs_json_write_key_c(&w, "supplyChannel");
    cs_json_write_object_begin(&w);
    w_str(&w, "typeId", CS_STR_LIT("channel"));
    w_str(&w, "key", channel_key);
    cs_json_write_object_end(&w);
    w_int(&w, "quantityOnStock", quantity);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

cs_error cs_commercetools_invoice_update(const cs_json *order, cs_str invoice_number,
                                         int64_t version, cs_buf *out, cs_diag *diag)
{
    const cs_json *custom = cs_json_object_get(order, CS_STR_LIT("custom"));
    cs_json_writer w;
    begin_update(&w, out, version);
    cs_json_write_object_begin(&w);
    if (cs_json_object_get(custom, CS_STR_LIT("type"))) {
        w_str(&w, "action", CS_STR_LIT("setCustomField"));
        w_str(&w, "name", CS_STR_LIT(CS_COMMERCETOOLS_INVOICE_FIELD));
        w_str(&w, "value", invoice_number);
    } else {
        w_str(&w, "action", CS_STR_LIT("setCustomType"));
        cs_json_write_key_c(&w, "type");
        cs_json_write_object_begin(&w);
        w_str(&w, "key", CS_STR_LIT(CS_COMMERCETOOLS_ORDER_TYPE));
        w_str(&w, "typeId", CS_STR_LIT("type"));
        cs_json_write_object_end(&w);
        cs_json_write_key_c(&w, "fields");
        cs_json_write_object_begin(&w);
        w_str(&w, CS_COMMERCETOOLS_INVOICE_FIELD, invoice_number);
        cs_json_write_object_end(&w);
    }
    cs_json_write_object_end(&w);
    return end_update(&w, diag);
}

cs_error cs_commercetools_order_type_draft(cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    w_str(&w, "key", CS_STR_LIT(CS_COMMERCETOOLS_ORDER_TYPE));
    cs_json_write_key_c(&w, "name");
    cs_json_write_object_begin(&w);
    w_str(&w, "en", CS_STR_LIT("Commerce sync: ERP references"));
    cs_json_write_object_end(&w);
    cs_json_write_key_c(&w, "resourceTypeIds");
    cs_json_write_array_begin(&w);
    cs_json_write_string_c(&w, "order");
    cs_json_write_array_end(&w);
    cs_json_write_key_c(&w, "fieldDefinitions");
    cs_json_write_array_begin(&w);
    cs_json_write_object_begin(&w);
    w_str(&w, "name", CS_STR_LIT(CS_COMMERCETOOLS_INVOICE_FIELD));
    cs_json_write_key_c(&w, "label");
    cs_json_write_object_begin(&w);
    w_str(&w, "en", CS_STR_LIT("ERP invoice number"));
    cs_json_write_object_end(&w);
    cs_json_write_key_c(&w, "required");
    cs_json_write_bool(&w, false);
    cs_json_write_key_c(&w, "type");
    cs_json_write_object_begin(&w);
    w_str(&w, "name", CS_STR_LIT("String"));
    cs_json_write_object_end(&w);
    w_str(&w, "inputHint", CS_STR_LIT("SingleLine"));
    cs_json_write_object_end(&w);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}
