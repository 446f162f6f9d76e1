#include "shopify.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json.h"
#include "core/money.h"
#include "core/timestamp.h"
#include "connectors/shopify/fields.h"
#include "shopify_json.h"
#include "shopify_store.h"

static const char api_version[] = "2026-01";

enum { IDEMPOTENCY_KEYS = 256, MAX_FIRST = 250, MUTATION_COST = 10 };

typedef struct remembered {
    char key[80];
    char variables_hash[65];
    char *data; /* the "data" object answered the first time */
} remembered;

typedef struct bucket {
    double available;
    int64_t at_ms;
} bucket;

struct sb_shopify {
    pthread_mutex_t mu;
    uint64_t seed;
    sb_emit_fn emit;
    void *emit_user;
    sb_shop shops[SB_SHOPS];
    bucket buckets[SB_SHOPS];
    double bucket_size, restore_rate;
    bool with_429;
    remembered keys[IDEMPOTENCY_KEYS];
    size_t next_key;
    int64_t adjustment_groups;
};

/* One request being answered. */
typedef struct call {
    sb_shopify *s;
    sb_shop *shop;
    const cs_json *variables;
    cs_str query;
    cs_json_writer w;   /* writes the "data" object's members */
    double actual_cost; /* set by the operation */
    char error[512];    /* a top-level GraphQL error, when set */
    const char *error_code;
    cs_arena arena;
} call;

/* Webhook events, written further down with the REST shape. */
static void emit_order(sb_shopify *s, const sb_shop *shop, const sb_order *o,
                       const char *const *topics, sb_reply *reply);
static void emit_fulfillment(sb_shopify *s, const sb_shop *shop, const sb_order *o,
                             const sb_fulfillment *f);
/* What cancelling does to an order, the merchant's way or the API's. */
static void cancel(sb_order *o, int64_t now);

/* ---- errors ---- */

static void top_error(call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void top_error(call *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    c->error_code = code;
}

/* A user error: {"code", "field": [...], "message"} with the field path given
 * as dot-separated parts ("input.quantities.0.quantity"). */
static void w_user_error(cs_json_writer *w, const char *code, const char *field,
                         const char *message)
{
    cs_json_write_object_begin(w);
    if (code) {
        sb_json_str(w, "code", code);
    }
    cs_json_write_key_c(w, "field");
    cs_json_write_array_begin(w);
    char part[64];
    for (const char *p = field; p && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        cs_json_write_string_c(w, part);
        p += n + (p[n] == '.');
    }
    cs_json_write_array_end(w);
    sb_json_str(w, "message", message);
    cs_json_write_object_end(w);
}

/* ---- variables ---- */

static const cs_json *var(const call *c, const char *name)
{
    const cs_json *v = cs_json_object_get(c->variables, cs_str_from_c(name));
    return v && v->type != CS_JSON_NULL ? v : NULL;
}

/* GraphQL's error for a variable of `type` that is missing or wrong;
 * `expected` ("" or ": expected ...") follows "invalid value". False. */
static bool bad_var(call *c, const char *name, const char *type, bool required,
                    const char *expected)
{
    top_error(c, "INVALID_VARIABLE", "Variable $%s of type %s%s was provided invalid value%s", name,
              type, required ? "!" : "", expected);
    return false;
}

/* An Int! or Int variable within [min, max]; false after setting the error. */
static bool int_var(call *c, const char *name, bool required, int64_t min, int64_t max,
                    int64_t *out)
{
    const cs_json *v = var(c, name);
    if (!v && !required) {
        return true;
    }
    if (!v || v->type != CS_JSON_NUMBER || cs_parse_int64(v->text, out) || *out < min ||
        *out > max) {
        char expected[96];
        snprintf(expected, sizeof(expected), ": expected an integer from %" PRId64 " to %" PRId64,
                 min, max);
        return bad_var(c, name, "Int", required, expected);
    }
    return true;
}

static bool string_var(call *c, const char *name, bool required, cs_str *out)
{
    const cs_json *v = var(c, name);
    *out = CS_STR_NULL;
    if (!v && !required) {
        return true;
    }
    if (!v || v->type != CS_JSON_STRING) {
        return bad_var(c, name, "String", required, ": expected a string");
    }
    *out = v->text;
    return true;
}

static bool bool_var(call *c, const char *name, bool required, bool *out)
{
    const cs_json *v = var(c, name);
    if (!v && !required) {
        return true;
    }
    if (!v || v->type != CS_JSON_BOOL) {
        return bad_var(c, name, "Boolean", required, "");
    }
    *out = v->boolean;
    return true;
}

/* The number at the end of "gid://shopify/{type}/{n}"; -1 if it is not one. */
static int64_t gid_number(cs_str gid, const char *type)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "gid://shopify/%s/", type);
    if (!cs_str_starts_with(gid, cs_str_from_c(prefix))) {
        return -1;
    }
    int64_t n;
    cs_str tail = cs_str_sub(gid, strlen(prefix), gid.len - strlen(prefix));
    return cs_parse_int64(tail, &n) || n < 0 ? -1 : n;
}

/* ---- cursors: base64 of "updated_ms:id" ---- */

static void w_cursor(call *c, const char *key, int64_t updated_ms, int64_t id)
{
    char plain[48];
    snprintf(plain, sizeof(plain), "%" PRId64 ":%" PRId64, updated_ms, id);
    cs_buf b;
    cs_buf_init(&b, 128);
    cs_base64_encode(cs_str_from_c(plain), &b);
    cs_buf_append_byte(&b, '\0');
    sb_json_str(&c->w, key, b.data);
    cs_buf_clean_up(&b);
}

static bool parse_cursor(call *c, cs_str cursor, int64_t *updated_ms, int64_t *id)
{
    cs_buf b;
    cs_buf_init(&b, 128);
    bool ok = cs_base64_decode(cursor, &b, NULL) == CS_ERR_OK &&
              cs_buf_append_byte(&b, '\0') == 0 &&
              sscanf(b.data, "%" SCNd64 ":%" SCNd64, updated_ms, id) == 2;
    cs_buf_clean_up(&b);
    if (!ok) {
        top_error(c, "INVALID_VARIABLE", "Invalid cursor for current pagination.");
    }
    return ok;
}

/* The search syntax the connector uses: updated_at:>'RFC3339' (or >=,
 * quotes optional). Anything else is refused rather than ignored, so a
 * query the fake does not understand cannot pass for one it does. */
static bool parse_search(call *c, cs_str query, int64_t *since_ms, bool *inclusive)
{
    *since_ms = INT64_MIN;
    *inclusive = false;
    if (query.len == 0) {
        return true;
    }
    cs_str q = cs_str_trim(query);
    if (!cs_str_starts_with(q, CS_STR_LIT("updated_at:>"))) {
        top_error(c, "INVALID_VARIABLE",
                  "The sandbox understands only the search query updated_at:>'<time>', not '%.*s'",
                  CS_STR_FMT(q));
        return false;
    }
    q = cs_str_sub(q, strlen("updated_at:>"), q.len - strlen("updated_at:>"));
    if (q.len && q.ptr[0] == '=') {
        *inclusive = true;
        q = cs_str_sub(q, 1, q.len - 1);
    }
    if (q.len >= 2 && (q.ptr[0] == '\'' || q.ptr[0] == '"') && q.ptr[q.len - 1] == q.ptr[0]) {
        q = cs_str_sub(q, 1, q.len - 2);
    }
    if (cs_time_parse_rfc3339(q, since_ms, NULL, NULL)) {
        top_error(c, "INVALID_VARIABLE", "'%.*s' in the search query is not an RFC 3339 time",
                  CS_STR_FMT(q));
        return false;
    }
    return true;
}

/* ---- orders ---- */

static bool after(int64_t updated, int64_t id, int64_t cursor_updated, int64_t cursor_id)
{
    return updated > cursor_updated || (updated == cursor_updated && id > cursor_id);
}

/* A page of a connection: the items after the cursor, in order. */
typedef struct page_args {
    int64_t first, since_ms, cursor_updated, cursor_id;
    bool inclusive;
} page_args;

static bool page_variables(call *c, page_args *p)
{
    cs_str after_cursor, query;
    p->cursor_updated = INT64_MIN;
    p->cursor_id = INT64_MIN;
    return int_var(c, "first", true, 1, MAX_FIRST, &p->first) &&
           string_var(c, "after", false, &after_cursor) &&
           (!after_cursor.len ||
            parse_cursor(c, after_cursor, &p->cursor_updated, &p->cursor_id)) &&
           string_var(c, "query", false, &query) &&
           parse_search(c, query, &p->since_ms, &p->inclusive);
}

static bool in_page(const page_args *p, int64_t updated, int64_t id)
{
    bool recent = p->inclusive ? updated >= p->since_ms : updated > p->since_ms;
    return recent && after(updated, id, p->cursor_updated, p->cursor_id);
}

static void w_page_info(call *c, bool more, int64_t updated, int64_t id)
{
    cs_json_write_key_c(&c->w, "pageInfo");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "hasNextPage");
    cs_json_write_bool(&c->w, more);
    if (id != INT64_MIN) {
        w_cursor(c, "endCursor", updated, id);
    } else {
        sb_json_str(&c->w, "endCursor", NULL);
    }
    cs_json_write_object_end(&c->w);
}

static void op_orders(call *c)
{
    page_args p;
    if (!page_variables(c, &p)) {
        return;
    }
    const sb_order_key *keys = sb_shop_orders_by_updated(c->shop);
    if (!keys) {
        top_error(c, "INTERNAL_SERVER_ERROR", "the sandbox is out of memory");
        return;
    }
    /* The page starts at the first order past both the search and the
     * cursor: each holds from some point of the sorted orders on. */
    int lo = 0, hi = c->shop->order_count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        bool in = in_page(&p, keys[mid].updated_ms, keys[mid].id);
        lo = in ? lo : mid + 1;
        hi = in ? mid : hi;
    }
    const sb_order_key *page = keys + lo;
    int n = c->shop->order_count - lo;
    int shown = n < p.first ? n : (int)p.first;
    cs_json_write_key_c(&c->w, "orders");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    for (int i = 0; i < shown; i++) {
        sb_json_order(&c->w, SB_GRAPHQL, c->shop, &c->shop->orders[page[i].index]);
    }
    cs_json_write_array_end(&c->w);
    w_page_info(c, n > shown, shown ? page[shown - 1].updated_ms : 0,
                shown ? page[shown - 1].id : INT64_MIN);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 2 + 5.0 * shown;
}

static void w_customer(cs_json_writer *w, const sb_shop *shop, const sb_customer *cu)
{
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", "Customer", cu->id);
    sb_json_str(w, "firstName", cu->first_name);
    sb_json_str(w, "lastName", cu->last_name);
    cs_json_write_key_c(w, "defaultEmailAddress");
    cs_json_write_object_begin(w);
    sb_json_str(w, "emailAddress", cu->email);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "defaultPhoneNumber");
    cs_json_write_object_begin(w);
    sb_json_str(w, "phoneNumber", cu->phone);
    cs_json_write_object_end(w);
    sb_json_time(w, "updatedAt", cu->updated_ms);
    cs_json_write_key_c(w, "emailMarketingConsent");
    cs_json_write_object_begin(w);
    sb_json_str(w, "marketingState", cu->subscribed ? "SUBSCRIBED" : "NOT_SUBSCRIBED");
    sb_json_time(w, "consentUpdatedAt", cu->updated_ms);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "addresses");
    cs_json_write_array_begin(w);
    cs_json_write_array_end(w);
    sb_json_address(w, SB_GRAPHQL, "defaultAddress", shop, cu->first_name, cu->last_name);
    cs_json_write_object_end(w);
}

static int customer_by_updated(const void *a, const void *b)
{
    const sb_customer *x = *(const sb_customer *const *)a, *y = *(const sb_customer *const *)b;
    if (x->updated_ms != y->updated_ms) {
        return x->updated_ms < y->updated_ms ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

static void op_customers(call *c)
{
    page_args p;
    if (!page_variables(c, &p)) {
        return;
    }
    const sb_customer *sorted[SB_CUSTOMERS];
    int n = 0;
    for (int i = 0; i < SB_CUSTOMERS; i++) {
        const sb_customer *cu = &c->shop->customers[i];
        if (in_page(&p, cu->updated_ms, cu->id)) {
            sorted[n++] = cu;
        }
    }
    qsort(sorted, (size_t)n, sizeof(sorted[0]), customer_by_updated);
    int shown = n < p.first ? n : (int)p.first;
    cs_json_write_key_c(&c->w, "customers");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    for (int i = 0; i < shown; i++) {
        w_customer(&c->w, c->shop, sorted[i]);
    }
    cs_json_write_array_end(&c->w);
    w_page_info(c, n > shown, shown ? sorted[shown - 1]->updated_ms : 0,
                shown ? sorted[shown - 1]->id : INT64_MIN);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 2 + 2.0 * shown;
}

/* ---- fulfillment orders ---- */

/* A fulfillment order line item's id: one per order line. */
static int64_t fo_line_id(const sb_line *l)
{
    return 500000000000 + l->id;
}

static const char *fo_status(const sb_order *o, const sb_fulfillment_order *f)
{
    if (f->closed) {
        return "CLOSED";
    }
    for (int i = 0; i < o->line_count; i++) {
        if (o->lines[i].location == f->location && o->lines[i].remaining < o->lines[i].quantity) {
            return "IN_PROGRESS";
        }
    }
    return "OPEN";
}

static void w_fulfillment_order(cs_json_writer *w, const sb_shop *shop, const sb_order *o,
                                const sb_fulfillment_order *f)
{
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", "FulfillmentOrder", f->id);
    sb_json_str(w, "status", fo_status(o, f));
    cs_json_write_key_c(w, "assignedLocation");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "location");
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", "Location", shop->location_ids[f->location]);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "lineItems");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "nodes");
    cs_json_write_array_begin(w);
    for (int i = 0; i < o->line_count; i++) {
        const sb_line *l = &o->lines[i];
        if (l->location != f->location) {
            continue;
        }
        cs_json_write_object_begin(w);
        sb_json_gid(w, "id", "FulfillmentOrderLineItem", fo_line_id(l));
        sb_json_int(w, "remainingQuantity", l->remaining);
        cs_json_write_key_c(w, "lineItem");
        cs_json_write_object_begin(w);
        sb_json_gid(w, "id", "LineItem", l->id);
        sb_json_str(w, "sku", shop->variants[l->variant].sku);
        cs_json_write_object_end(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

/* The order $id names, its "order" key written; NULL after a bad
 * variable, or with null written as Shopify answers an unknown id. */
static const sb_order *order_of_id(call *c)
{
    cs_str id;
    if (!string_var(c, "id", true, &id)) {
        return NULL;
    }
    const sb_order *o = sb_shop_order(c->shop, gid_number(id, "Order"));
    cs_json_write_key_c(&c->w, "order");
    if (!o) {
        cs_json_write_null(&c->w);
        c->actual_cost = 1;
    }
    return o;
}

static void op_fulfillment_orders(call *c)
{
    const sb_order *o = order_of_id(c);
    if (!o) {
        return;
    }
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "fulfillmentOrders");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    for (int f = 0; f < o->fulfillment_order_count; f++) {
        w_fulfillment_order(&c->w, c->shop, o, &o->fulfillment_orders[f]);
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_object_end(&c->w);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 5;
}

/* ---- variants and locations ---- */

static int find_variant_by_sku(const sb_shop *shop, cs_str sku)
{
    for (int v = 0; v < SB_VARIANTS; v++) {
        if (cs_str_eq_c(sku, shop->variants[v].sku)) {
            return v;
        }
    }
    return -1;
}

static void w_variant(cs_json_writer *w, const sb_shop *shop, int v)
{
    const sb_variant *x = &shop->variants[v];
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", "ProductVariant", x->id);
    sb_json_str(w, "sku", x->sku);
    cs_json_write_key_c(w, "inventoryItem");
    cs_json_write_object_begin(w);
    sb_json_gid(w, "id", "InventoryItem", x->inventory_item_id);
    cs_json_write_key_c(w, "inventoryLevels");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "nodes");
    cs_json_write_array_begin(w);
    for (int l = 0; l < shop->location_count; l++) {
        if (!shop->levels[v][l].stocked) {
            continue;
        }
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "location");
        cs_json_write_object_begin(w);
        sb_json_gid(w, "id", "Location", shop->location_ids[l]);
        cs_json_write_object_end(w);
        cs_json_write_key_c(w, "quantities");
        cs_json_write_array_begin(w);
        cs_json_write_object_begin(w);
        sb_json_str(w, "name", "available");
        sb_json_int(w, "quantity", shop->levels[v][l].available);
        cs_json_write_object_end(w);
        cs_json_write_array_end(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

/* "id:>N" (or no query): the variants past N. */
static bool parse_id_above(call *c, cs_str query, int64_t *above)
{
    *above = INT64_MIN;
    cs_str q = cs_str_trim(query);
    if (!q.len) {
        return true;
    }
    if (!cs_str_starts_with(q, CS_STR_LIT("id:>")) ||
        cs_parse_int64(cs_str_sub(q, 4, q.len - 4), above)) {
        top_error(c, "INVALID_VARIABLE", "The sandbox understands only 'id:>N' here, not '%.*s'",
                  CS_STR_FMT(q));
        return false;
    }
    return true;
}

/* productVariants(first, after, query: "id:>N", sortKey: ID): the
 * catalog, a page at a time. */
static void op_variants(call *c)
{
    int64_t first, above, cursor_updated = INT64_MIN, cursor_id = INT64_MIN;
    cs_str after_cursor, query;
    if (!int_var(c, "first", true, 1, MAX_FIRST, &first) ||
        !string_var(c, "after", false, &after_cursor) ||
        (after_cursor.len && !parse_cursor(c, after_cursor, &cursor_updated, &cursor_id)) ||
        !string_var(c, "query", false, &query) || !parse_id_above(c, query, &above)) {
        return;
    }
    int64_t past = cursor_id > above ? cursor_id : above, last = INT64_MIN;
    int shown = 0, v = 0;
    cs_json_write_key_c(&c->w, "productVariants");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    for (; v < SB_VARIANTS && shown < first; v++) { /* seeded in id order */
        const sb_variant *x = &c->shop->variants[v];
        if (x->id <= past) {
            continue;
        }
        cs_json_write_object_begin(&c->w);
        sb_json_gid(&c->w, "id", "ProductVariant", x->id);
        sb_json_str(&c->w, "sku", x->sku);
        sb_json_str(&c->w, "title", x->title);
        cs_json_write_key_c(&c->w, "product");
        cs_json_write_object_begin(&c->w);
        sb_json_gid(&c->w, "id", "Product", x->product_id);
        cs_json_write_object_end(&c->w);
        cs_json_write_object_end(&c->w);
        last = x->id;
        shown++;
    }
    cs_json_write_array_end(&c->w);
    w_page_info(c, v < SB_VARIANTS, 0, last);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 2 + 1.0 * shown;
}

/* "sku:A OR sku:B ..." */
static void op_variants_by_sku(call *c)
{
    cs_str query;
    int64_t first;
    if (!int_var(c, "first", true, 1, MAX_FIRST, &first) || !string_var(c, "query", true, &query)) {
        return;
    }
    cs_json_write_key_c(&c->w, "productVariants");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    int shown = 0;
    size_t at = 0;
    while (at < query.len && shown < first) {
        cs_str rest = cs_str_trim(cs_str_sub(query, at, query.len - at));
        long end = cs_str_find_char(rest, ' ', 0);
        cs_str term = end < 0 ? rest : cs_str_sub(rest, 0, (size_t)end);
        at = (size_t)(rest.ptr - query.ptr) + term.len + 1;
        if (cs_str_eq_c(term, "OR")) {
            continue;
        }
        if (!cs_str_starts_with(term, CS_STR_LIT("sku:"))) {
            top_error(c, "INVALID_VARIABLE",
                      "The sandbox understands only 'sku:A OR sku:B' queries, not '%.*s'",
                      CS_STR_FMT(term));
            return;
        }
        int v = find_variant_by_sku(c->shop, cs_str_sub(term, 4, term.len - 4));
        if (v >= 0) {
            w_variant(&c->w, c->shop, v);
            shown++;
        }
    }
    cs_json_write_array_end(&c->w);
    w_page_info(c, false, 0, INT64_MIN);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 2 + 3.0 * shown;
}

static void op_locations(call *c)
{
    int64_t first;
    if (!int_var(c, "first", true, 1, MAX_FIRST, &first)) {
        return;
    }
    cs_json_write_key_c(&c->w, "locations");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "nodes");
    cs_json_write_array_begin(&c->w);
    for (int l = 0; l < c->shop->location_count && l < first; l++) {
        cs_json_write_object_begin(&c->w);
        sb_json_gid(&c->w, "id", "Location", c->shop->location_ids[l]);
        sb_json_str(&c->w, "name", c->shop->location_names[l]);
        cs_json_write_object_end(&c->w);
    }
    cs_json_write_array_end(&c->w);
    w_page_info(c, false, 0, INT64_MIN);
    cs_json_write_object_end(&c->w);
    c->actual_cost = 2 + c->shop->location_count;
}

/* ---- inventorySetQuantities ---- */

static const char *const reasons[] = {"correction",
                                      "cycle_count_available",
                                      "damaged",
                                      "movement_canceled",
                                      "movement_created",
                                      "movement_received",
                                      "movement_updated",
                                      "other",
                                      "promotion",
                                      "quality_control",
                                      "received",
                                      "reservation_created",
                                      "reservation_deleted",
                                      "reservation_updated",
                                      "restock",
                                      "safety_stock",
                                      "shrinkage",
                                      NULL};

static bool known_reason(cs_str reason)
{
    for (int i = 0; reasons[i]; i++) {
        if (cs_str_eq_c(reason, reasons[i])) {
            return true;
        }
    }
    return false;
}

/* Where a quantity goes: the variant and location it names. */
typedef struct target {
    int variant, location;
    int64_t quantity;
} target;

static int variant_of_item(const sb_shop *shop, int64_t item)
{
    for (int v = 0; v < SB_VARIANTS; v++) {
        if (shop->variants[v].inventory_item_id == item) {
            return v;
        }
    }
    return -1;
}

static int location_index(const sb_shop *shop, int64_t id)
{
    for (int l = 0; l < shop->location_count; l++) {
        if (shop->location_ids[l] == id) {
            return l;
        }
    }
    return -1;
}

/* Checks one quantity; returns its user error code (and the field) or NULL. */
static const char *check_quantity(const sb_shop *shop, const cs_json *q, bool compare, target *t,
                                  const char **field, char *message, size_t message_len)
{
    int64_t item = gid_number(cs_shopify_text(q, "inventoryItemId"), "InventoryItem");
    int64_t location = gid_number(cs_shopify_text(q, "locationId"), "Location");
    const cs_json *quantity = cs_json_object_get(q, CS_STR_LIT("quantity"));
    const cs_json *compare_to = cs_json_object_get(q, CS_STR_LIT("compareQuantity"));
    t->variant = variant_of_item(shop, item);
    t->location = location_index(shop, location);
    int64_t expected = 0;
    const char *code = NULL;
    if (t->variant < 0) {
        *field = "inventoryItemId", code = "INVALID_INVENTORY_ITEM";
        snprintf(message, message_len, "The specified inventory item could not be found.");
    } else if (t->location < 0) {
        *field = "locationId", code = "INVALID_LOCATION";
        snprintf(message, message_len, "The specified location could not be found.");
    } else if (!shop->levels[t->variant][t->location].stocked) {
        *field = "locationId", code = "ITEM_NOT_STOCKED_AT_LOCATION";
        snprintf(message, message_len, "The item is not stocked at the location.");
    } else if (!quantity || cs_parse_int64(quantity->text, &t->quantity)) {
        *field = "quantity", code = "INVALID_QUANTITY_NEGATIVE";
        snprintf(message, message_len, "The quantity is not an integer.");
    } else if (t->quantity < 0) {
        *field = "quantity", code = "INVALID_QUANTITY_NEGATIVE";
        snprintf(message, message_len, "The quantity can't be negative.");
    } else if (t->quantity > 1000000000) {
        *field = "quantity", code = "INVALID_QUANTITY_TOO_HIGH";
        snprintf(message, message_len, "The quantity can't be higher than 1,000,000,000.");
    } else if (compare && (!compare_to || compare_to->type != CS_JSON_NUMBER)) {
        *field = "compareQuantity", code = "COMPARE_QUANTITY_REQUIRED";
        snprintf(message, message_len,
                 "The compareQuantity argument must be given to each "
                 "quantity or ignored using ignoreCompareQuantity.");
    } else if (compare && (cs_parse_int64(compare_to->text, &expected) ||
                           expected != shop->levels[t->variant][t->location].available)) {
        *field = "compareQuantity", code = "COMPARE_QUANTITY_STALE";
        snprintf(message, message_len, "The compareQuantity value does not match persisted value.");
    }
    return code;
}

/* The whole call is checked before anything changes: one user error and
 * nothing is set, as Shopify applies the quantities together or not at all. */
static void op_set_available(call *c)
{
    const cs_json *input = var(c, "input");
    if (!input || input->type != CS_JSON_OBJECT) {
        top_error(
            c, "INVALID_VARIABLE",
            "Variable $input of type InventorySetQuantitiesInput! was provided invalid value");
        return;
    }
    const cs_json *quantities = cs_json_object_get(input, CS_STR_LIT("quantities"));
    if (!quantities || quantities->type != CS_JSON_ARRAY || quantities->count == 0 ||
        quantities->count > MAX_FIRST) {
        top_error(c, "INVALID_VARIABLE",
                  "Variable $input of type InventorySetQuantitiesInput! was provided invalid value "
                  "for quantities (1 to 250 quantities)");
        return;
    }
    const cs_json *ignore = cs_json_object_get(input, CS_STR_LIT("ignoreCompareQuantity"));
    bool compare = !(ignore && ignore->type == CS_JSON_BOOL && ignore->boolean);
    target targets[MAX_FIRST];
    cs_json_write_key_c(&c->w, "inventorySetQuantities");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "userErrors");
    cs_json_write_array_begin(&c->w);
    int errors = 0;
    if (!cs_str_eq_c(cs_shopify_text(input, "name"), "available")) {
        w_user_error(&c->w, "INVALID_NAME", "input.name",
                     "The sandbox sets the 'available' quantity only.");
        errors++;
    }
    if (!known_reason(cs_shopify_text(input, "reason"))) {
        w_user_error(&c->w, "INVALID_REASON", "input.reason", "The specified reason is invalid.");
        errors++;
    }
    cs_str uri = cs_shopify_text(input, "referenceDocumentUri");
    if (uri.len && cs_str_find_char(uri, ':', 0) <= 0) {
        w_user_error(&c->w, "INVALID_REFERENCE_DOCUMENT", "input.referenceDocumentUri",
                     "The reference document URI is not a valid URI.");
        errors++;
    }
    size_t i = 0;
    for (const cs_json *q = quantities->first; q; q = q->next, i++) {
        const char *field = NULL;
        char message[200], path[64];
        const char *code =
            check_quantity(c->shop, q, compare, &targets[i], &field, message, sizeof(message));
        if (code) {
            snprintf(path, sizeof(path), "input.quantities.%zu.%s", i, field);
            w_user_error(&c->w, code, path, message);
            errors++;
        }
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_key_c(&c->w, "inventoryAdjustmentGroup");
    if (errors) {
        cs_json_write_null(&c->w);
    } else {
        for (size_t k = 0; k < quantities->count; k++) {
            c->shop->levels[targets[k].variant][targets[k].location].available =
                targets[k].quantity;
        }
        cs_json_write_object_begin(&c->w);
        sb_json_gid(&c->w, "id", "InventoryAdjustmentGroup", ++c->s->adjustment_groups);
        cs_json_write_object_end(&c->w);
    }
    cs_json_write_object_end(&c->w);
    c->actual_cost = MUTATION_COST;
}

/* ---- fulfillmentCreate ---- */

typedef struct shipped {
    sb_line *line;
    int64_t quantity;
} shipped;

static sb_fulfillment_order *find_fulfillment_order(sb_shop *shop, int64_t id, sb_order **order)
{
    for (int i = 0; i < shop->order_count; i++) {
        for (int f = 0; f < shop->orders[i].fulfillment_order_count; f++) {
            if (shop->orders[i].fulfillment_orders[f].id == id) {
                *order = &shop->orders[i];
                return &shop->orders[i].fulfillment_orders[f];
            }
        }
    }
    return NULL;
}

/* What one entry of lineItemsByFulfillmentOrder ships; a user error message
 * when it cannot. An entry without line items ships all that remains. */
static const char *collect_shipped(sb_order *o, const sb_fulfillment_order *fo,
                                   const cs_json *items, shipped *out, int *count)
{
    for (int i = 0; !items && i < o->line_count; i++) {
        if (o->lines[i].location == fo->location && o->lines[i].remaining > 0) {
            out[(*count)++] = (shipped){&o->lines[i], o->lines[i].remaining};
        }
    }
    for (const cs_json *it = items ? items->first : NULL; it; it = it->next) {
        int64_t id = gid_number(cs_shopify_text(it, "id"), "FulfillmentOrderLineItem");
        const cs_json *q = cs_json_object_get(it, CS_STR_LIT("quantity"));
        sb_line *line = NULL;
        for (int i = 0; i < o->line_count; i++) {
            line = fo_line_id(&o->lines[i]) == id && o->lines[i].location == fo->location
                       ? &o->lines[i]
                       : line;
        }
        int64_t n;
        if (!line) {
            return "Fulfillment order line item does not belong to the fulfillment order.";
        }
        if (!q || cs_parse_int64(q->text, &n) || n <= 0 || n > line->remaining) {
            return "Invalid fulfillment order line item quantity requested.";
        }
        out[(*count)++] = (shipped){line, n};
    }
    return NULL;
}

static void record_fulfillment(call *c, sb_order *o, int location, const cs_json *fulfillment,
                               int64_t now_ms)
{
    const cs_json *tracking = cs_json_object_get(fulfillment, CS_STR_LIT("trackingInfo"));
    sb_fulfillment *f = &o->fulfillments[o->fulfillment_count % SB_FULFILLMENTS];
    o->fulfillment_count++;
    *f = (sb_fulfillment){.id = c->shop->next_id++, .location = location, .created_ms = now_ms};
    snprintf(f->tracking_number, sizeof(f->tracking_number), "%.*s",
             CS_STR_FMT(cs_shopify_text(tracking, "number")));
    snprintf(f->tracking_url, sizeof(f->tracking_url), "%.*s",
             CS_STR_FMT(cs_shopify_text(tracking, "url")));
    snprintf(f->company, sizeof(f->company), "%.*s",
             CS_STR_FMT(cs_shopify_text(tracking, "company")));
    cs_json_write_object_begin(&c->w);
    sb_json_gid(&c->w, "id", "Fulfillment", f->id);
    sb_json_str(&c->w, "status", "SUCCESS");
    cs_json_write_key_c(&c->w, "trackingInfo");
    cs_json_write_array_begin(&c->w);
    cs_json_write_object_begin(&c->w);
    sb_json_str(&c->w, "number", f->tracking_number);
    sb_json_str(&c->w, "url", f->tracking_url);
    sb_json_str(&c->w, "company", f->company);
    cs_json_write_object_end(&c->w);
    cs_json_write_array_end(&c->w);
    cs_json_write_object_end(&c->w);
}

static void close_finished(sb_order *o)
{
    for (int f = 0; f < o->fulfillment_order_count; f++) {
        bool left = false;
        for (int i = 0; i < o->line_count; i++) {
            left = left || (o->lines[i].location == o->fulfillment_orders[f].location &&
                            o->lines[i].remaining > 0);
        }
        o->fulfillment_orders[f].closed = o->fulfillment_orders[f].closed || !left;
    }
}

/* Checks every entry; the first problem is the user error. */
static const char *plan_shipment(call *c, const cs_json *by_order, sb_order **order, int *location,
                                 shipped *out, int *count, char *field, size_t field_len)
{
    size_t k = 0;
    for (const cs_json *e = by_order->first; e; e = e->next, k++) {
        snprintf(field, field_len, "fulfillment.lineItemsByFulfillmentOrder.%zu", k);
        sb_order *o = NULL;
        sb_fulfillment_order *fo = find_fulfillment_order(
            c->shop, gid_number(cs_shopify_text(e, "fulfillmentOrderId"), "FulfillmentOrder"), &o);
        if (!fo) {
            return "Fulfillment order does not exist.";
        }
        if (fo->closed) {
            return "Fulfillment order is not in an open state.";
        }
        if ((*order && *order != o) || (*location >= 0 && *location != fo->location)) {
            return "All fulfillment orders in a fulfillment must belong to the same order and "
                   "location.";
        }
        *order = o;
        *location = fo->location;
        const cs_json *items = cs_json_object_get(e, CS_STR_LIT("fulfillmentOrderLineItems"));
        const char *why = collect_shipped(
            o, fo, items && items->type == CS_JSON_ARRAY ? items : NULL, out, count);
        if (why) {
            return why;
        }
    }
    return NULL;
}

static void op_ship(call *c)
{
    const cs_json *fulfillment = var(c, "fulfillment");
    const cs_json *by_order =
        cs_json_object_get(fulfillment, CS_STR_LIT("lineItemsByFulfillmentOrder"));
    if (!fulfillment || !by_order || by_order->type != CS_JSON_ARRAY || by_order->count == 0) {
        top_error(c, "INVALID_VARIABLE",
                  "Variable $fulfillment of type FulfillmentInput! was provided invalid value for "
                  "lineItemsByFulfillmentOrder (expected a non-empty list)");
        return;
    }
    shipped plan[SB_LINES * SB_LOCATIONS * 4];
    int count = 0, location = -1;
    sb_order *o = NULL;
    char field[96];
    const char *why =
        by_order->count > SB_LOCATIONS * 4
            ? "Too many fulfillment orders."
            : plan_shipment(c, by_order, &o, &location, plan, &count, field, sizeof(field));
    cs_json_write_key_c(&c->w, "fulfillmentCreate");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "fulfillment");
    if (why) {
        cs_json_write_null(&c->w);
    } else {
        int64_t now = cs_time_now_ms();
        for (int i = 0; i < count; i++) {
            plan[i].line->remaining -= plan[i].quantity;
        }
        close_finished(o);
        sb_shop_touch(c->shop, o, now);
        record_fulfillment(c, o, location, fulfillment, now);
        static const char *const topics[] = {"orders/updated", NULL};
        emit_fulfillment(c->s, c->shop, o,
                         &o->fulfillments[(o->fulfillment_count - 1) % SB_FULFILLMENTS]);
        emit_order(c->s, c->shop, o, topics, NULL);
    }
    cs_json_write_key_c(&c->w, "userErrors");
    cs_json_write_array_begin(&c->w);
    if (why) {
        w_user_error(&c->w, NULL, field, why);
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_object_end(&c->w);
    c->actual_cost = MUTATION_COST;
}

/* ---- metafieldsSet ---- */

static const char *set_metafield(sb_shop *shop, const cs_json *m, sb_order **order)
{
    *order = sb_shop_order(shop, gid_number(cs_shopify_text(m, "ownerId"), "Order"));
    cs_str ns = cs_shopify_text(m, "namespace"), key = cs_shopify_text(m, "key");
    cs_str type = cs_shopify_text(m, "type"), value = cs_shopify_text(m, "value");
    if (!*order) {
        return "Owner does not exist.";
    }
    if (ns.len < 3 || ns.len > 31 || key.len < 2 || key.len > 31) {
        return "Namespace must be 3 to 31 and key 2 to 31 characters.";
    }
    if (!cs_str_eq_c(type, "single_line_text_field") || value.len == 0 || value.len > 127) {
        return "The sandbox stores single_line_text_field values of 1 to 127 characters.";
    }
    sb_order *o = *order;
    int at = 0;
    while (at < o->metafield_count && !(cs_str_eq_c(ns, o->metafields[at].namespace_) &&
                                        cs_str_eq_c(key, o->metafields[at].key))) {
        at++;
    }
    if (at == SB_METAFIELDS) {
        return "The sandbox keeps at most 4 metafields per order.";
    }
    o->metafield_count += at == o->metafield_count;
    sb_metafield *f = &o->metafields[at];
    snprintf(f->namespace_, sizeof(f->namespace_), "%.*s", CS_STR_FMT(ns));
    snprintf(f->key, sizeof(f->key), "%.*s", CS_STR_FMT(key));
    snprintf(f->type, sizeof(f->type), "%.*s", CS_STR_FMT(type));
    snprintf(f->value, sizeof(f->value), "%.*s", CS_STR_FMT(value));
    return NULL;
}

static void op_set_invoice(call *c)
{
    const cs_json *list = var(c, "metafields");
    if (!list || list->type != CS_JSON_ARRAY || list->count == 0 || list->count > 25) {
        top_error(c, "INVALID_VARIABLE",
                  "Variable $metafields of type [MetafieldsSetInput!]! was provided invalid value "
                  "(1 to 25 metafields)");
        return;
    }
    cs_json_write_key_c(&c->w, "metafieldsSet");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "metafields");
    cs_json_write_array_begin(&c->w);
    const char *why = NULL;
    size_t i = 0;
    for (const cs_json *m = list->first; m && !why; m = m->next, i++) {
        sb_order *o;
        why = set_metafield(c->shop, m, &o);
        if (!why) {
            cs_json_write_object_begin(&c->w);
            sb_json_gid(&c->w, "id", "Metafield", o->id * 10 + o->metafield_count);
            sb_json_str(&c->w, "key", "invoice_number");
            cs_json_write_object_end(&c->w);
        }
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_key_c(&c->w, "userErrors");
    cs_json_write_array_begin(&c->w);
    if (why) {
        char field[48];
        snprintf(field, sizeof(field), "metafields.%zu", i - 1);
        w_user_error(&c->w, "INVALID_VALUE", field, why);
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_object_end(&c->w);
    c->actual_cost = MUTATION_COST;
}

/* ---- order status and cancel ---- */

static void op_order_status(call *c)
{
    const sb_order *o = order_of_id(c);
    if (!o) {
        return;
    }
    cs_json_write_object_begin(&c->w);
    sb_json_gid(&c->w, "id", "Order", o->id);
    if (o->cancelled_ms) {
        sb_json_time(&c->w, "cancelledAt", o->cancelled_ms);
    } else {
        sb_json_str(&c->w, "cancelledAt", NULL);
    }
    cs_json_write_object_end(&c->w);
    c->actual_cost = 1;
}

static bool cancel_reason(call *c)
{
    static const char *const cancel_reasons[] = {"CUSTOMER",  "DECLINED", "FRAUD",
                                                 "INVENTORY", "OTHER",    "STAFF"};
    cs_str reason;
    if (!string_var(c, "reason", true, &reason)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(cancel_reasons) / sizeof(cancel_reasons[0]); i++) {
        if (cs_str_eq_c(reason, cancel_reasons[i])) {
            return true;
        }
    }
    top_error(c, "INVALID_VARIABLE",
              "Variable $reason of type OrderCancelReason! was provided invalid value '%.*s'",
              CS_STR_FMT(reason));
    return false;
}

/* orderCancel: Shopify runs it as a job; the fake's is done at once, and
 * the order's orders/cancelled and orders/updated webhooks go out. */
static void op_order_cancel(call *c)
{
    cs_str id;
    bool refund = false, restock = false, notify = false;
    if (!string_var(c, "orderId", true, &id) || !cancel_reason(c) ||
        !bool_var(c, "refund", true, &refund) || !bool_var(c, "restock", true, &restock) ||
        !bool_var(c, "notifyCustomer", false, &notify)) {
        return;
    }
    sb_order *o = sb_shop_order(c->shop, gid_number(id, "Order"));
    const char *why = !o                ? "Order does not exist"
                      : o->cancelled_ms ? "Order is already cancelled"
                                        : NULL;
    if (!why) {
        int64_t now = cs_time_now_ms();
        cancel(o, now);
        sb_shop_touch(c->shop, o, now);
        static const char *const topics[] = {"orders/cancelled", "orders/updated", NULL};
        emit_order(c->s, c->shop, o, topics, NULL);
    }
    cs_json_write_key_c(&c->w, "orderCancel");
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "job");
    if (why) {
        cs_json_write_null(&c->w);
    } else {
        cs_json_write_object_begin(&c->w);
        sb_json_gid(&c->w, "id", "Job", o->id);
        cs_json_write_key_c(&c->w, "done");
        cs_json_write_bool(&c->w, true);
        cs_json_write_object_end(&c->w);
    }
    cs_json_write_key_c(&c->w, "orderCancelUserErrors");
    cs_json_write_array_begin(&c->w);
    if (why) {
        w_user_error(&c->w, o ? "INVALID" : "NOT_FOUND", "orderId", why);
    }
    cs_json_write_array_end(&c->w);
    cs_json_write_object_end(&c->w);
    c->actual_cost = MUTATION_COST;
}

/* ---- dispatch, cost and idempotency ---- */

typedef struct operation {
    const char *name;
    bool mutation;
    void (*run)(call *c);
    double node_cost; /* per "first"; 0: a fixed cost */
    double fixed_cost;
} operation;

static const operation operations[] = {
    {"Orders", false, op_orders, 5, 2},
    {"Customers", false, op_customers, 2, 2},
    {"FulfillmentOrders", false, op_fulfillment_orders, 0, 5},
    {"VariantsBySku", false, op_variants_by_sku, 3, 2},
    {"Variants", false, op_variants, 1, 2},
    {"Locations", false, op_locations, 1, 2},
    {"SetAvailable", true, op_set_available, 0, MUTATION_COST},
    {"Ship", true, op_ship, 0, MUTATION_COST},
    {"SetInvoice", true, op_set_invoice, 0, MUTATION_COST},
    {"OrderStatus", false, op_order_status, 0, 1},
    {"OrderCancel", true, op_order_cancel, 0, MUTATION_COST},
};

/* "query Orders(...)" or "mutation Ship(...)": the keyword and name. */
static cs_str operation_name(cs_str query, bool *mutation)
{
    cs_str q = cs_str_trim(query);
    *mutation = cs_str_starts_with(q, CS_STR_LIT("mutation"));
    size_t at = *mutation ? 8 : cs_str_starts_with(q, CS_STR_LIT("query")) ? 5 : 0;
    if (at == 0) {
        return CS_STR_NULL;
    }
    while (at < q.len && isspace((unsigned char)q.ptr[at])) {
        at++;
    }
    size_t start = at;
    while (at < q.len && (isalnum((unsigned char)q.ptr[at]) || q.ptr[at] == '_')) {
        at++;
    }
    return cs_str_sub(q, start, at - start);
}

static double requested_cost(const call *c, const operation *op)
{
    const cs_json *first = var(c, "first");
    int64_t n = 0;
    if (op->node_cost > 0 && first && !cs_parse_int64(first->text, &n) && n > 0 && n <= MAX_FIRST) {
        return op->fixed_cost + op->node_cost * (double)n;
    }
    return op->fixed_cost + op->node_cost;
}

static bucket *bucket_of(sb_shopify *s, const sb_shop *shop)
{
    bucket *b = &s->buckets[shop - s->shops];
    int64_t now = cs_time_monotonic_ms();
    b->available += (double)(now - b->at_ms) / 1000.0 * s->restore_rate;
    b->available = b->available > s->bucket_size ? s->bucket_size : b->available;
    b->at_ms = now;
    return b;
}

static void w_cost(cs_json_writer *w, const sb_shopify *s, double requested, double actual,
                   bool throttled, const bucket *b)
{
    char number[32];
    cs_json_write_key_c(w, "extensions");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "cost");
    cs_json_write_object_begin(w);
    sb_json_int(w, "requestedQueryCost", (int64_t)requested);
    cs_json_write_key_c(w, "actualQueryCost");
    if (throttled) {
        cs_json_write_null(w);
    } else {
        cs_json_write_int64(w, (int64_t)actual);
    }
    cs_json_write_key_c(w, "throttleStatus");
    cs_json_write_object_begin(w);
    snprintf(number, sizeof(number), "%.1f", s->bucket_size);
    cs_json_write_key_c(w, "maximumAvailable");
    cs_json_write_number_text(w, cs_str_from_c(number));
    sb_json_int(w, "currentlyAvailable", (int64_t)b->available);
    snprintf(number, sizeof(number), "%.1f", s->restore_rate);
    cs_json_write_key_c(w, "restoreRate");
    cs_json_write_number_text(w, cs_str_from_c(number));
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

static void w_errors(cs_json_writer *w, const char *message, const char *code)
{
    cs_json_write_key_c(w, "errors");
    cs_json_write_array_begin(w);
    cs_json_write_object_begin(w);
    sb_json_str(w, "message", message);
    cs_json_write_key_c(w, "extensions");
    cs_json_write_object_begin(w);
    sb_json_str(w, "code", code);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
    cs_json_write_array_end(w);
}

static void variables_hash(const cs_json *variables, char out[65])
{
    cs_buf text;
    cs_buf_init(&text, 0);
    if (variables) {
        cs_json_serialize(variables, &text, NULL);
    }
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_Digest(text.data ? text.data : "", text.len, digest, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < len; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
    cs_buf_clean_up(&text);
}

static remembered *recall(sb_shopify *s, cs_str key)
{
    for (size_t i = 0; i < IDEMPOTENCY_KEYS; i++) {
        if (s->keys[i].data && cs_str_eq_c(key, s->keys[i].key)) {
            return &s->keys[i];
        }
    }
    return NULL;
}

static void remember(sb_shopify *s, cs_str key, const char *hash, cs_str data)
{
    remembered *r = &s->keys[s->next_key++ % IDEMPOTENCY_KEYS];
    free(r->data);
    snprintf(r->key, sizeof(r->key), "%.*s", CS_STR_FMT(key));
    snprintf(r->variables_hash, sizeof(r->variables_hash), "%s", hash);
    r->data = strndup(data.ptr, data.len);
}

/* Runs the operation into data (the "data" object, without braces' owner). */
static void run_operation(call *c, const operation *op, cs_buf *data)
{
    cs_json_writer_init(&c->w, data);
    cs_json_write_object_begin(&c->w);
    op->run(c);
    cs_json_write_object_end(&c->w);
    cs_json_writer_finish(&c->w, NULL);
    cs_json_writer_clean_up(&c->w);
}

/* An @idempotent mutation repeated with its key answers what it answered the
 * first time and changes nothing; the same key with other variables is an
 * error (its code is the fake's own). */
static bool replay(call *c, cs_str key, const char *hash, cs_buf *data)
{
    remembered *r = key.len ? recall(c->s, key) : NULL;
    if (!r) {
        return false;
    }
    if (strcmp(r->variables_hash, hash) != 0) {
        top_error(c, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                  "The idempotency key was used before with different variables.");
    } else {
        cs_buf_append_c(data, r->data);
    }
    return true;
}

static void answer(call *c, const operation *op, sb_reply *reply)
{
    bucket *b = bucket_of(c->s, c->shop);
    double requested = requested_cost(c, op);
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    if (requested > c->s->bucket_size) {
        char message[160];
        snprintf(message, sizeof(message),
                 "Query cost is %.0f, which exceeds the single query max cost limit (%.0f).",
                 requested, c->s->bucket_size);
        w_errors(&w, message, "MAX_COST_EXCEEDED");
        w_cost(&w, c->s, requested, 0, true, b);
        reply->status = 200;
    } else if (b->available < requested) {
        w_errors(&w, "Throttled", "THROTTLED");
        w_cost(&w, c->s, requested, 0, true, b);
        reply->status = c->s->with_429 ? 429 : 200;
    } else {
        cs_buf data;
        cs_buf_init(&data, 0);
        char hash[65] = "";
        cs_str key = CS_STR_NULL;
        if (op->mutation && strstr(c->query.ptr, "@idempotent")) {
            key = cs_shopify_text(c->variables, "idempotencyKey");
            variables_hash(c->variables, hash);
        }
        c->actual_cost = requested;
        if (!replay(c, key, hash, &data)) {
            run_operation(c, op, &data);
            if (!c->error_code && key.len) {
                remember(c->s, key, hash, cs_buf_view(&data));
            }
        }
        if (c->error_code) {
            w_errors(&w, c->error, c->error_code);
        } else {
            cs_json *parsed;
            if (!cs_json_parse(&c->arena, cs_buf_view(&data), &parsed, NULL)) {
                cs_json_write_key_c(&w, "data");
                cs_json_write_value(&w, parsed);
            }
            b->available -= c->actual_cost;
        }
        w_cost(&w, c->s, requested, c->error_code ? 0 : c->actual_cost, false, b);
        cs_buf_clean_up(&data);
        reply->status = 200;
    }
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

static void plain_error(sb_reply *reply, unsigned status, const char *message)
{
    reply->status = status;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    sb_json_str(&w, "errors", message);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

static sb_shop *find_shop(sb_shopify *s, cs_str name)
{
    for (int i = 0; i < SB_SHOPS; i++) {
        if (cs_str_eq_c(name, s->shops[i].name)) {
            return &s->shops[i];
        }
    }
    return NULL;
}

static const operation *find_operation(cs_str name, bool mutation)
{
    for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++) {
        if (cs_str_eq_c(name, operations[i].name) && operations[i].mutation == mutation) {
            return &operations[i];
        }
    }
    return NULL;
}

/* Shopify's own answers to requests that never reach GraphQL. */
static bool refused(sb_shop *shop, cs_str version, cs_str token, sb_reply *reply)
{
    if (!shop) {
        plain_error(reply, 404, "Not Found");
    } else if (!cs_str_eq_c(token, shop->token)) {
        plain_error(reply, 401,
                    "[API] Invalid API key or access token (unrecognized login or wrong password)");
    } else if (!cs_str_eq_c(version, api_version)) {
        plain_error(reply, 404, "Not Found: the sandbox serves API version 2026-01 only");
    } else {
        return false;
    }
    return true;
}

void sb_shopify_graphql(sb_shopify *s, cs_str shop_name, cs_str version, cs_str token, cs_str body,
                        sb_reply *reply)
{
    pthread_mutex_lock(&s->mu);
    call c = {.s = s, .shop = find_shop(s, shop_name)};
    cs_arena_init(&c.arena, 0, 64 * 1024 * 1024);
    cs_json *request = NULL;
    const cs_json *query = NULL;
    if (refused(c.shop, version, token, reply)) {
        goto out;
    }
    if (cs_json_parse(&c.arena, body, &request, NULL) ||
        !(query = cs_json_object_get(request, CS_STR_LIT("query"))) ||
        query->type != CS_JSON_STRING) {
        plain_error(reply, 400, "Parameter Missing or Invalid: query");
        goto out;
    }
    c.query = cs_str_from_c(cs_arena_strndup(&c.arena, query->text));
    c.variables = cs_json_object_get(request, CS_STR_LIT("variables"));
    bool mutation;
    cs_str name = operation_name(c.query, &mutation);
    const operation *op = find_operation(name, mutation);
    if (!op) {
        char message[300];
        snprintf(message, sizeof(message),
                 "Unknown operation '%.*s': the sandbox serves the queries Orders, Customers, "
                 "FulfillmentOrders, VariantsBySku, Locations, OrderStatus and the mutations "
                 "SetAvailable, Ship, SetInvoice, OrderCancel",
                 CS_STR_FMT(name));
        reply->status = 200;
        cs_json_writer w;
        cs_json_writer_init(&w, &reply->body);
        cs_json_write_object_begin(&w);
        w_errors(&w, message, "UNKNOWN_OPERATION");
        cs_json_write_object_end(&w);
        cs_json_writer_finish(&w, NULL);
        cs_json_writer_clean_up(&w);
        goto out;
    }
    answer(&c, op, reply);
out:
    cs_arena_clean_up(&c.arena);
    pthread_mutex_unlock(&s->mu);
}

/* ---- webhooks ---- */

/* Sends the order to the webhook hook under each topic; with a reply, the
 * order's JSON is also the answer. */
static void emit_order(sb_shopify *s, const sb_shop *shop, const sb_order *o,
                       const char *const *topics, sb_reply *reply)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    sb_json_order(&w, SB_REST, shop, o);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    for (const char *const *t = topics; s->emit && *t; t++) {
        s->emit(s->emit_user, shop->name, *t, cs_buf_view(&body));
    }
    if (reply) {
        reply->status = 200;
        cs_buf_append_str(&reply->body, cs_buf_view(&body));
    }
    cs_buf_clean_up(&body);
}

/* fulfillments/create: the fulfillment's REST JSON. */
static void emit_fulfillment(sb_shopify *s, const sb_shop *shop, const sb_order *o,
                             const sb_fulfillment *f)
{
    if (!s->emit) {
        return;
    }
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    sb_json_int(&w, "id", f->id);
    sb_json_int(&w, "order_id", o->id);
    sb_json_str(&w, "status", "success");
    sb_json_int(&w, "location_id", shop->location_ids[f->location]);
    sb_json_str(&w, "tracking_company", f->company);
    sb_json_str(&w, "tracking_number", f->tracking_number);
    sb_json_str(&w, "tracking_url", f->tracking_url);
    sb_json_time(&w, "created_at", f->created_ms);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    s->emit(s->emit_user, shop->name, "fulfillments/create", cs_buf_view(&body));
    cs_buf_clean_up(&body);
}

void sb_shopify_place_order(sb_shopify *s, cs_str shop_name, sb_reply *reply)
{
    pthread_mutex_lock(&s->mu);
    sb_shop *shop = find_shop(s, shop_name);
    sb_order *o =
        shop ? sb_shop_place_order(s->shops, (int)(shop - s->shops), s->seed, cs_time_now_ms())
             : NULL;
    if (!o) {
        plain_error(reply, shop ? 409 : 404,
                    shop ? "The shop holds as many orders as it can" : "Not Found");
    } else {
        static const char *const topics[] = {"orders/create", NULL};
        emit_order(s, shop, o, topics, reply);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The merchant changes an order: change() edits it (now is the time), and
 * it goes out under topics; 404 when the shop has no such order. */
static void merchant_changes(sb_shopify *s, cs_str shop_name, int64_t order_id,
                             void (*change)(sb_order *o, int64_t now), const char *const *topics,
                             sb_reply *reply)
{
    pthread_mutex_lock(&s->mu);
    sb_shop *shop = find_shop(s, shop_name);
    sb_order *o = shop ? sb_shop_order(shop, order_id) : NULL;
    if (!o) {
        plain_error(reply, 404, "Not Found");
    } else {
        int64_t now = cs_time_now_ms();
        change(o, now);
        sb_shop_touch(shop, o, now);
        emit_order(s, shop, o, topics, reply);
    }
    pthread_mutex_unlock(&s->mu);
}

static void refund(sb_order *o, int64_t now)
{
    (void)now;
    o->refunded_partly = true;
}

static void cancel(sb_order *o, int64_t now)
{
    o->cancelled_ms = o->cancelled_ms ? o->cancelled_ms : now;
    for (int f = 0; f < o->fulfillment_order_count; f++) {
        o->fulfillment_orders[f].closed = true;
    }
}

void sb_shopify_refund_order(sb_shopify *s, cs_str shop_name, int64_t order_id, sb_reply *reply)
{
    static const char *const topics[] = {"orders/updated", NULL};
    merchant_changes(s, shop_name, order_id, refund, topics, reply);
}

void sb_shopify_cancel_order(sb_shopify *s, cs_str shop_name, int64_t order_id, sb_reply *reply)
{
    static const char *const topics[] = {"orders/cancelled", "orders/updated", NULL};
    merchant_changes(s, shop_name, order_id, cancel, topics, reply);
}

/* ---- inspection ---- */

void sb_shopify_stock(sb_shopify *s, cs_str shop_name, sb_reply *reply)
{
    pthread_mutex_lock(&s->mu);
    sb_shop *shop = find_shop(s, shop_name);
    if (!shop) {
        plain_error(reply, 404, "Not Found");
        pthread_mutex_unlock(&s->mu);
        return;
    }
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    for (int v = 0; v < SB_VARIANTS; v++) {
        cs_json_write_key_c(&w, shop->variants[v].sku);
        cs_json_write_object_begin(&w);
        for (int l = 0; l < shop->location_count; l++) {
            if (shop->levels[v][l].stocked) {
                char gid[64];
                snprintf(gid, sizeof(gid), "gid://shopify/Location/%" PRId64,
                         shop->location_ids[l]);
                sb_json_int(&w, gid, shop->levels[v][l].available);
            }
        }
        cs_json_write_object_end(&w);
    }
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    pthread_mutex_unlock(&s->mu);
}

static void w_order_state(cs_json_writer *w, const sb_order *o)
{
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "cancelled");
    cs_json_write_bool(w, o->cancelled_ms != 0);
    cs_json_write_key_c(w, "fulfillments");
    cs_json_write_array_begin(w);
    int shown = o->fulfillment_count < SB_FULFILLMENTS ? o->fulfillment_count : SB_FULFILLMENTS;
    for (int i = 0; i < shown; i++) {
        const sb_fulfillment *f = &o->fulfillments[i];
        cs_json_write_object_begin(w);
        sb_json_gid(w, "id", "Fulfillment", f->id);
        sb_json_str(w, "trackingNumber", f->tracking_number);
        sb_json_str(w, "trackingUrl", f->tracking_url);
        sb_json_str(w, "company", f->company);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    cs_json_write_key_c(w, "metafields");
    cs_json_write_array_begin(w);
    for (int i = 0; i < o->metafield_count; i++) {
        cs_json_write_object_begin(w);
        sb_json_str(w, "namespace", o->metafields[i].namespace_);
        sb_json_str(w, "key", o->metafields[i].key);
        sb_json_str(w, "value", o->metafields[i].value);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    cs_json_write_key_c(w, "remaining");
    cs_json_write_object_begin(w);
    for (int i = 0; i < o->line_count; i++) {
        char id[24];
        snprintf(id, sizeof(id), "%" PRId64, o->lines[i].id);
        sb_json_int(w, id, o->lines[i].remaining);
    }
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

void sb_shopify_order_state(sb_shopify *s, cs_str shop_name, int64_t order_id, sb_reply *reply)
{
    pthread_mutex_lock(&s->mu);
    sb_shop *shop = find_shop(s, shop_name);
    const sb_order *o = shop ? sb_shop_order(shop, order_id) : NULL;
    if (!o) {
        plain_error(reply, 404, "Not Found");
    } else {
        reply->status = 200;
        cs_json_writer w;
        cs_json_writer_init(&w, &reply->body);
        w_order_state(&w, o);
        cs_json_writer_finish(&w, NULL);
        cs_json_writer_clean_up(&w);
    }
    pthread_mutex_unlock(&s->mu);
}

void sb_shopify_set_bucket(sb_shopify *s, double size, double restore_rate, bool with_429)
{
    pthread_mutex_lock(&s->mu);
    s->bucket_size = size > 0 ? size : s->bucket_size;
    s->restore_rate = restore_rate > 0 ? restore_rate : s->restore_rate;
    s->with_429 = with_429;
    for (int i = 0; i < SB_SHOPS; i++) {
        s->buckets[i] = (bucket){s->bucket_size, cs_time_monotonic_ms()};
    }
    pthread_mutex_unlock(&s->mu);
}

sb_shopify *sb_shopify_new(const sb_shopify_opts *opts)
{
    sb_shopify *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->seed = opts && opts->seed ? opts->seed : 42;
    if (!sb_shopify_seed(s->shops, s->seed, opts && opts->now_ms ? opts->now_ms : cs_time_now_ms(),
                         opts ? opts->orders_per_shop : 0)) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->emit = opts ? opts->emit : NULL;
    s->emit_user = opts ? opts->emit_user : NULL;
    s->bucket_size = opts && opts->bucket_size > 0 ? opts->bucket_size : 1000;
    s->restore_rate = opts && opts->restore_rate > 0 ? opts->restore_rate : 50;
    s->with_429 = opts && opts->throttle_with_429;
    for (int i = 0; i < SB_SHOPS; i++) {
        s->buckets[i] = (bucket){s->bucket_size, cs_time_monotonic_ms()};
    }
    return s;
}

void sb_shopify_destroy(sb_shopify *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < IDEMPOTENCY_KEYS; i++) {
        free(s->keys[i].data);
    }
    sb_shopify_free(s->shops);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
