#include "message.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "order.h"

static cs_str text(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

static const cs_json *object(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_OBJECT ? v : NULL;
}

static int64_t integer(const cs_json *obj, const char *key)
{
    int64_t n = 0;
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_NUMBER && !cs_parse_int64(v->text, &n) ? n : -1;
}

bool cs_commercetools_message_is_stale(const cs_commercetools_message *m, int64_t applied_version)
{
    /* Messages of one update share its version: equal is not stale (a
     * duplicate is caught by its id). */
    return m->resource_version < applied_version;
}

/* The items of a delivery or return info: line item id and quantity. */
static size_t item_count(const cs_json *items)
{
    return items && items->type == CS_JSON_ARRAY ? items->count : 0;
}

static void decode_delivery(const cs_json *m, cs_arena *arena, cs_commercetools_message *out)
{
    const cs_json *delivery = object(m, "delivery");
    cs_shipment *s = &out->shipment;
    s->meta.source = CS_SYS_COMMERCETOOLS;
    s->meta.source_id = text(delivery, "id");
    s->meta.updated_at_ms = out->created_at_ms;
    s->order_ids.by_system[CS_SYS_COMMERCETOOLS] = out->resource_id;
    s->order_number = out->order_number;
    s->status = CS_STR_LIT("shipped");
    const cs_json *parcels = cs_json_object_get(delivery, CS_STR_LIT("parcels"));
    const cs_json *tracking =
        object(parcels && parcels->type == CS_JSON_ARRAY ? parcels->first : NULL, "trackingData");
    s->tracking_number = text(tracking, "trackingId");
    s->carrier = text(tracking, "carrier");
    cs_time_parse_rfc3339(text(delivery, "createdAt"), &s->shipped_at_ms, NULL, NULL);
    const cs_json *items = cs_json_object_get(delivery, CS_STR_LIT("items"));
    size_t n = item_count(items);
    s->lines = n ? cs_arena_calloc(arena, n, sizeof(cs_shipment_line)) : NULL;
    s->line_count = s->lines ? n : 0;
    size_t i = 0;
    for (const cs_json *it = s->lines ? items->first : NULL; it; it = it->next, i++) {
        s->lines[i].line_id = text(it, "id");
        s->lines[i].quantity = integer(it, "quantity");
    }
}

static void decode_return(const cs_json *m, cs_arena *arena, cs_commercetools_message *out)
{
    const cs_json *info = object(m, "returnInfo");
    cs_return *r = &out->ret;
    r->meta.source = CS_SYS_COMMERCETOOLS;
    r->meta.source_id = text(info, "returnTrackingId");
    r->meta.updated_at_ms = out->created_at_ms;
    r->order_ids.by_system[CS_SYS_COMMERCETOOLS] = out->resource_id;
    r->order_number = out->order_number;
    r->kind = CS_STR_LIT("return");
    cs_time_parse_rfc3339(text(info, "returnDate"), &r->created_at_ms, NULL, NULL);
    const cs_json *items = cs_json_object_get(info, CS_STR_LIT("items"));
    size_t n = item_count(items);
    r->lines = n ? cs_arena_calloc(arena, n, sizeof(cs_return_line)) : NULL;
    r->line_count = r->lines ? n : 0;
    size_t i = 0;
    for (const cs_json *it = r->lines ? items->first : NULL; it; it = it->next, i++) {
        r->lines[i].line_id = text(it, "lineItemId");
        r->lines[i].quantity = integer(it, "quantity");
        r->lines[i].reason = text(it, "comment");
    }
}

static void decode_payload(const cs_json *m, cs_arena *arena, cs_commercetools_message *out,
                           cs_problems *problems, cs_error *result)
{
    if (cs_str_eq_c(out->type, "OrderCreated")) {
        out->payload = CS_CT_ORDER;
        cs_problems own;
        cs_problems_init(&own, arena);
        if (cs_commercetools_order_decode(object(m, "order"), arena, &out->order, &own)) {
            *result = CS_ERR_INVALID_ARGUMENT;
            for (size_t i = 0; i < own.count; i++) {
                cs_problems_add(problems, cs_arena_sprintf(arena, "order.%s", own.items[i].path),
                                own.items[i].rule, "%s", own.items[i].message);
            }
        }
    } else if (cs_str_eq_c(out->type, "OrderStateChanged")) {
        out->payload = CS_CT_STATE;
        out->order_state = cs_commercetools_order_state(text(m, "orderState"));
    } else if (cs_str_eq_c(out->type, "OrderShipmentStateChanged")) {
        out->payload = CS_CT_STATE;
        out->fulfillment_state = cs_commercetools_shipment_state(text(m, "shipmentState"));
    } else if (cs_str_eq_c(out->type, "DeliveryAdded")) {
        out->payload = CS_CT_DELIVERY;
        decode_delivery(m, arena, out);
    } else if (cs_str_eq_c(out->type, "ReturnInfoAdded")) {
        out->payload = CS_CT_RETURN;
        decode_return(m, arena, out);
    }
}

cs_error cs_commercetools_message_decode(const cs_json *m, cs_arena *arena,
                                         cs_commercetools_message *out, cs_problems *problems)
{
    memset(out, 0, sizeof(*out));
    if (!m || m->type != CS_JSON_OBJECT || !cs_str_eq_c(text(m, "notificationType"), "Message")) {
        cs_problems_add(problems, "notificationType", "type",
                        "not a commercetools message (notificationType Message)");
        return CS_ERR_INVALID_ARGUMENT;
    }
    cs_error result = CS_ERR_OK;
    out->id = text(m, "id");
    out->sequence_number = integer(m, "sequenceNumber");
    out->resource_type = text(object(m, "resource"), "typeId");
    out->resource_id = text(object(m, "resource"), "id");
    out->resource_version = integer(m, "resourceVersion");
    out->type = text(m, "type");
    out->order_number = text(object(m, "resourceUserProvidedIdentifiers"), "orderNumber");
    const char *required[] = {"id", "resource.id", "type"};
    cs_str values[] = {out->id, out->resource_id, out->type};
    for (size_t i = 0; i < 3; i++) {
        if (values[i].len == 0) {
            cs_problems_add(problems, required[i], "required", "missing");
            result = CS_ERR_INVALID_ARGUMENT;
        }
    }
    if (out->resource_version < 1 || out->sequence_number < 1) {
        cs_problems_add(problems, "resourceVersion", "required",
                        "resourceVersion and sequenceNumber are positive integers");
        result = CS_ERR_INVALID_ARGUMENT;
    }
    cs_diag diag;
    if (cs_time_parse_rfc3339(text(m, "createdAt"), &out->created_at_ms, NULL, &diag)) {
        cs_problems_add(problems, "createdAt", "rfc3339", "%s", diag.message);
        result = CS_ERR_INVALID_ARGUMENT;
    }
    const cs_json *not_included = cs_json_object_get(m, CS_STR_LIT("payloadNotIncluded"));
    out->payload_not_included = not_included != NULL;
    if (!out->payload_not_included && !result) {
        decode_payload(m, arena, out, problems, &result);
    }
    return result;
}
