#include "mutations.h"

#include <stdio.h>
#include <string.h>

#include "fields.h"

const char cs_shopify_inventory_set_mutation[] =
    "mutation SetAvailable($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {"
    " inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {"
    " inventoryAdjustmentGroup { id } userErrors { code field message } } }";

const char cs_shopify_fulfillment_create_mutation[] =
    "mutation Ship($fulfillment: FulfillmentInput!) {"
    " fulfillmentCreate(fulfillment: $fulfillment) {"
    " fulfillment { id status } userErrors { field message } } }";

const char cs_shopify_metafields_set_mutation[] =
    "mutation SetInvoice($metafields: [MetafieldsSetInput!]!) {"
    " metafieldsSet(metafields: $metafields) {"
    " metafields { id } userErrors { code field message } } }";

const char cs_shopify_fulfillment_orders_query[] =
    "query FulfillmentOrders($id: ID!) { order(id: $id) {"
    " fulfillmentOrders(first: 50) { nodes { id status"
    " assignedLocation { location { id } }"
    " lineItems(first: 250) { nodes { id remainingQuantity lineItem { id sku } } } } } } }";

static cs_error finish(cs_json_writer *w, cs_diag *diag)
{
    cs_error r = cs_json_writer_finish(w, diag);
    cs_json_writer_clean_up(w);
    return r;
}

static void write_pair(cs_json_writer *w, const char *key, cs_str value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string(w, value);
}

/* ---- inventorySetQuantities ---- */

static cs_error check_quantity(const cs_shopify_quantity *q, size_t i, cs_diag *diag)
{
    const char *field = NULL, *why = NULL;
    if (q->inventory_item_id.len == 0) {
        field = "inventoryItemId", why = "is missing";
    } else if (q->location_id.len == 0) {
        field = "locationId", why = "is missing";
    } else if (q->quantity < 0 || q->quantity > CS_SHOPIFY_MAX_QUANTITY) {
        field = "quantity", why = "is outside 0 to 1000000000";
    } else if (q->compare_quantity > CS_SHOPIFY_MAX_QUANTITY) {
        field = "compareQuantity", why = "is above 1000000000";
    }
    if (!why) {
        return CS_ERR_OK;
    }
    char path[64];
    snprintf(path, sizeof(path), "quantities[%zu].%s", i, field);
    cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "%s %s", path, why);
    cs_diag_set_field(diag, path);
    return CS_ERR_INVALID_ARGUMENT;
}

static cs_error check_inventory_call(const cs_shopify_quantity *q, size_t count, cs_str reason,
                                     cs_str reference_uri, cs_str key, cs_diag *diag)
{
    if (count == 0 || count > CS_SHOPIFY_MAX_QUANTITIES) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "an inventorySetQuantities call sets 1 to %d quantities, not %zu",
                           CS_SHOPIFY_MAX_QUANTITIES, count);
    }
    if (reason.len == 0 || reference_uri.len == 0 || key.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "inventorySetQuantities needs a reason, a reference document URI and "
                           "an idempotency key");
    }
    for (size_t i = 0; i < count; i++) {
        cs_error r = check_quantity(&q[i], i, diag);
        if (r) {
            return r;
        }
    }
    return CS_ERR_OK;
}

cs_error cs_shopify_inventory_variables(const cs_shopify_quantity *q, size_t count, cs_str reason,
                                        cs_str reference_uri, cs_str idempotency_key, cs_buf *out,
                                        cs_diag *diag)
{
    cs_error r = check_inventory_call(q, count, reason, reference_uri, idempotency_key, diag);
    if (r) {
        return r;
    }
    bool compare = true;
    for (size_t i = 0; i < count; i++) {
        compare = compare && q[i].compare_quantity >= 0;
    }
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "input");
    cs_json_write_object_begin(&w);
    write_pair(&w, "name", CS_STR_LIT("available"));
    write_pair(&w, "reason", reason);
    write_pair(&w, "referenceDocumentUri", reference_uri);
    cs_json_write_key_c(&w, "ignoreCompareQuantity");
    cs_json_write_bool(&w, !compare);
    cs_json_write_key_c(&w, "quantities");
    cs_json_write_array_begin(&w);
    for (size_t i = 0; i < count; i++) {
        cs_json_write_object_begin(&w);
        write_pair(&w, "inventoryItemId", q[i].inventory_item_id);
        write_pair(&w, "locationId", q[i].location_id);
        cs_json_write_key_c(&w, "quantity");
        cs_json_write_int64(&w, q[i].quantity);
        if (compare) {
            cs_json_write_key_c(&w, "compareQuantity");
            cs_json_write_int64(&w, q[i].compare_quantity);
        }
        cs_json_write_object_end(&w);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    write_pair(&w, "idempotencyKey", idempotency_key);
    cs_json_write_object_end(&w);
    return finish(&w, diag);
}

/* ---- fulfillmentCreate ---- */

/* One line of an open fulfillment order, and how much of it this shipment
 * takes. */
typedef struct fo_line {
    cs_str order_id; /* the fulfillment order's gid */
    cs_str location_id;
    cs_str id; /* the fulfillment order line item's gid */
    cs_str line_item_id;
    cs_str sku;
    int64_t remaining;
    int64_t taken;
} fo_line;

static const cs_json *nodes_of(const cs_json *connection)
{
    const cs_json *nodes = cs_json_object_get(connection, CS_STR_LIT("nodes"));
    return nodes && nodes->type == CS_JSON_ARRAY ? nodes : NULL;
}

static cs_str text_at(const cs_json *root, const char *path)
{
    const cs_json *v = cs_json_path(root, path);
    return v && v->type == CS_JSON_STRING ? v->text : CS_STR_NULL;
}

static bool shippable(const cs_json *fo)
{
    cs_str status = text_at(fo, "status");
    return cs_str_eq_c(status, "OPEN") || cs_str_eq_c(status, "IN_PROGRESS");
}

static size_t count_lines(const cs_json *orders)
{
    size_t n = 0;
    for (const cs_json *fo = orders ? orders->first : NULL; fo; fo = fo->next) {
        const cs_json *lines = nodes_of(cs_json_object_get(fo, CS_STR_LIT("lineItems")));
        n += shippable(fo) && lines ? lines->count : 0;
    }
    return n;
}

static size_t collect_lines(const cs_json *orders, fo_line *out)
{
    size_t n = 0;
    for (const cs_json *fo = orders ? orders->first : NULL; fo; fo = fo->next) {
        const cs_json *lines = nodes_of(cs_json_object_get(fo, CS_STR_LIT("lineItems")));
        for (const cs_json *l = shippable(fo) && lines ? lines->first : NULL; l; l = l->next) {
            fo_line *f = &out[n++];
            *f = (fo_line){.order_id = text_at(fo, "id"),
                           .location_id = text_at(fo, "assignedLocation.location.id"),
                           .id = text_at(l, "id"),
                           .line_item_id = cs_shopify_gid_tail(text_at(l, "lineItem.id")),
                           .sku = text_at(l, "lineItem.sku")};
            const cs_json *remaining = cs_json_object_get(l, CS_STR_LIT("remainingQuantity"));
            if (!remaining || cs_parse_int64(remaining->text, &f->remaining)) {
                f->remaining = 0;
            }
        }
    }
    return n;
}

static bool matches(const fo_line *f, const cs_shipment_line *line)
{
    return line->line_id.len ? cs_str_eq(f->line_item_id, cs_shopify_gid_tail(line->line_id))
                             : line->sku.len && cs_str_eq(f->sku, line->sku);
}

/* Takes what the line ships from the fulfillment order lines that hold it;
 * what finds no room is left in *short_by. */
static void allocate(fo_line *lines, size_t n, const cs_shipment_line *line, int64_t *short_by)
{
    int64_t need = line->quantity;
    for (size_t i = 0; i < n && need > 0; i++) {
        int64_t room = lines[i].remaining - lines[i].taken;
        if (room > 0 && matches(&lines[i], line)) {
            int64_t take = room < need ? room : need;
            lines[i].taken += take;
            need -= take;
        }
    }
    *short_by = need;
}

static void allocate_all(const cs_shipment *s, fo_line *lines, size_t n, cs_problems *problems,
                         bool *failed)
{
    for (size_t i = 0; i < s->line_count; i++) {
        const cs_shipment_line *line = &s->lines[i];
        char path[32];
        snprintf(path, sizeof(path), "lines[%zu]", i);
        int64_t short_by = 0;
        if (line->quantity <= 0) {
            cs_problems_add(problems, path, "quantity", "a shipped quantity is 1 or more");
            *failed = true;
            continue;
        }
        allocate(lines, n, line, &short_by);
        if (short_by > 0) {
            cs_problems_add(problems, path, "unfulfillable",
                            "%lld of line '%.*s' (SKU '%.*s') have no open fulfillment order line "
                            "left to ship from",
                            (long long)short_by, CS_STR_FMT(line->line_id), CS_STR_FMT(line->sku));
            *failed = true;
        }
    }
}

static void write_tracking(cs_json_writer *w, const cs_shipment *s)
{
    cs_json_write_key_c(w, "trackingInfo");
    cs_json_write_object_begin(w);
    if (s->tracking_number.len) {
        write_pair(w, "number", s->tracking_number);
    }
    if (s->tracking_url.len) {
        write_pair(w, "url", s->tracking_url);
    }
    if (s->carrier.len) {
        write_pair(w, "company", s->carrier);
    }
    cs_json_write_object_end(w);
}

/* The fulfillment order lines at one location that this shipment takes,
 * grouped by fulfillment order (lines of one order are adjacent). */
static void write_by_fulfillment_order(cs_json_writer *w, const fo_line *lines, size_t n,
                                       cs_str location)
{
    cs_json_write_key_c(w, "lineItemsByFulfillmentOrder");
    cs_json_write_array_begin(w);
    cs_str open = CS_STR_NULL;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].taken == 0 || !cs_str_eq(lines[i].location_id, location)) {
            continue;
        }
        if (!open.ptr || !cs_str_eq(open, lines[i].order_id)) {
            if (open.ptr) {
                cs_json_write_array_end(w);
                cs_json_write_object_end(w);
            }
            open = lines[i].order_id;
            cs_json_write_object_begin(w);
            write_pair(w, "fulfillmentOrderId", open);
            cs_json_write_key_c(w, "fulfillmentOrderLineItems");
            cs_json_write_array_begin(w);
        }
        cs_json_write_object_begin(w);
        write_pair(w, "id", lines[i].id);
        cs_json_write_key_c(w, "quantity");
        cs_json_write_int64(w, lines[i].taken);
        cs_json_write_object_end(w);
    }
    if (open.ptr) {
        cs_json_write_array_end(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
}

static bool location_seen_before(const fo_line *lines, size_t upto, cs_str location)
{
    for (size_t i = 0; i < upto; i++) {
        if (lines[i].taken > 0 && cs_str_eq(lines[i].location_id, location)) {
            return true;
        }
    }
    return false;
}

static void write_fulfillments(cs_json_writer *w, const cs_shipment *s, const fo_line *lines,
                               size_t n, const cs_shopify_fulfillment_opts *opts)
{
    cs_json_write_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        if (lines[i].taken == 0 || location_seen_before(lines, i, lines[i].location_id)) {
            continue;
        }
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "fulfillment");
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "notifyCustomer");
        cs_json_write_bool(w, opts && opts->notify_customer);
        write_tracking(w, s);
        write_by_fulfillment_order(w, lines, n, lines[i].location_id);
        cs_json_write_object_end(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
}

cs_error cs_shopify_fulfillment_variables(const cs_shipment *shipment,
                                          const cs_json *fulfillment_orders,
                                          const cs_shopify_fulfillment_opts *opts, cs_arena *arena,
                                          cs_buf *out, cs_problems *problems)
{
    const cs_json *orders = nodes_of(fulfillment_orders);
    size_t n = count_lines(orders);
    fo_line *lines = n ? cs_arena_calloc(arena, n, sizeof(*lines)) : NULL;
    if (n && !lines) {
        cs_problems_add(problems, "", "memory", "invocation memory cap reached");
        return CS_ERR_ARENA_FULL;
    }
    collect_lines(orders, lines);
    bool failed = false;
    if (shipment->line_count == 0) {
        cs_problems_add(problems, "lines", "required", "the shipment has no lines");
        failed = true;
    }
    allocate_all(shipment, lines, n, problems, &failed);
    if (failed) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    write_fulfillments(&w, shipment, lines, n, opts);
    cs_diag diag;
    cs_error r = finish(&w, &diag);
    if (r) {
        cs_problems_add(problems, "", "json", "%s", diag.message);
    }
    return r;
}

/* ---- metafieldsSet ---- */

cs_error cs_shopify_invoice_metafield_variables(cs_str order_gid, cs_str invoice_number,
                                                cs_buf *out, cs_diag *diag)
{
    if (!cs_str_starts_with(order_gid, CS_STR_LIT("gid://shopify/Order/")) ||
        invoice_number.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "an invoice metafield needs the order's gid://shopify/Order/ id and "
                           "an invoice number");
    }
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "metafields");
    cs_json_write_array_begin(&w);
    cs_json_write_object_begin(&w);
    write_pair(&w, "ownerId", order_gid);
    write_pair(&w, "namespace", CS_STR_LIT("erp"));
    write_pair(&w, "key", CS_STR_LIT("invoice_number"));
    write_pair(&w, "type", CS_STR_LIT("single_line_text_field"));
    write_pair(&w, "value", invoice_number);
    cs_json_write_object_end(&w);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    return finish(&w, diag);
}
