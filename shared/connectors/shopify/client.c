#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "customer.h"
#include "refund.h"
#include "fields.h"

enum {
    THROTTLED_ATTEMPTS = 5,
    COST_SLOTS = 16,
    SKUS_PER_REQUEST = 50,
    MAX_RESPONSE_BYTES = 16 * 1024 * 1024,
};

static const double DEFAULT_COST = 50;

/* What Shopify asked for the last request with this query text. */
typedef struct cost_slot {
    const char *query;
    double requested;
} cost_slot;

/* An inventory item id remembered for a SKU within one invocation. */
typedef struct known_sku {
    char *sku;
    char *item_id;
} known_sku;

struct cs_shopify {
    cs_http_client *http;
    char url[600];
    char host[256];
    char *token_header;
    const char *headers[3];
    cost_slot costs[COST_SLOTS];
    known_sku *skus;
    size_t sku_count, sku_capacity;
    cs_buf body, response;
};

const char cs_shopify_orders_query[] =
    "query Orders($first: Int!, $after: String, $query: String) {"
    " orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id name email createdAt updatedAt cancelledAt cancelReason closedAt currencyCode"
    " presentmentCurrencyCode customerLocale taxesIncluded displayFinancialStatus"
    " displayFulfillmentStatus note paymentGatewayNames"
    " subtotalPriceSet { ...Bag } totalDiscountsSet { ...Bag } totalTaxSet { ...Bag }"
    " totalShippingPriceSet { ...Bag } totalPriceSet { ...Bag }"
    " customer { id email } billingAddress { ...Address } shippingAddress { ...Address }"
    " refunds { id createdAt note totalRefundedSet { ...Bag }"
    " refundLineItems(first: 50) { nodes { quantity restockType lineItem { id sku }"
    " subtotalSet { ...Bag } } }"
    " refundShippingLines(first: 10) { nodes { subtotalAmountSet { ...Bag } } } }"
    " discountApplications(first: 20) { nodes { __typename index allocationMethod targetType"
    " value { __typename ... on MoneyV2 { amount currencyCode }"
    " ... on PricingPercentageValue { percentage } }"
    " ... on DiscountCodeApplication { code } ... on ManualDiscountApplication { title }"
    " ... on AutomaticDiscountApplication { title } ... on ScriptDiscountApplication { title } } }"
    " lineItems(first: 100) { nodes { id sku title quantity variant { id } product { id }"
    " originalUnitPriceSet { ...Bag } discountAllocations { allocatedAmountSet { ...Bag }"
    " discountApplication { __typename index ... on DiscountCodeApplication { code }"
    " ... on ManualDiscountApplication { title } ... on AutomaticDiscountApplication { title }"
    " ... on ScriptDiscountApplication { title } } }"
    " taxLines { title rate priceSet { ...Bag } } } }"
    " shippingLines(first: 10) { nodes { code title source originalPriceSet { ...Bag }"
    " discountAllocations { allocatedAmountSet { ...Bag } } taxLines { title rate priceSet { ...Bag"
    " } } } } } } }"
    " fragment Bag on MoneyBag { shopMoney { amount currencyCode }"
    " presentmentMoney { amount currencyCode } }"
    " fragment Address on MailingAddress { firstName lastName company address1 address2 city"
    " provinceCode zip countryCodeV2 phone }";

const char cs_shopify_customers_query[] =
    "query Customers($first: Int!, $after: String, $query: String) {"
    " customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id firstName lastName locale updatedAt defaultEmailAddress { emailAddress }"
    " defaultPhoneNumber { phoneNumber }"
    " emailMarketingConsent { marketingState consentUpdatedAt }"
    " smsMarketingConsent { marketingState consentUpdatedAt }"
    " addresses { ...Address } defaultAddress { ...Address } } } }"
    " fragment Address on MailingAddress { firstName lastName company address1 address2 city"
    " provinceCode zip countryCodeV2 phone }";

const char cs_shopify_catalog_query[] =
    "query Variants($first: Int!, $after: String, $query: String) {"
    " productVariants(first: $first, after: $after, query: $query, sortKey: ID) {"
    " pageInfo { hasNextPage endCursor } nodes { id sku barcode title product { id } } } }";

const char cs_shopify_locations_query[] =
    "query Locations($first: Int!) { locations(first: $first) { nodes { id name } } }";

const char cs_shopify_variants_query[] =
    "query VariantsBySku($first: Int!, $query: String!) {"
    " productVariants(first: $first, query: $query) { nodes { id sku"
    " inventoryItem { id inventoryLevels(first: 50) { nodes { location { id }"
    " quantities(names: [\"available\"]) { name quantity } } } } } } }";

/* ---- the client ---- */

cs_error cs_shopify_token(cs_str secret, cs_arena *arena, cs_str *token, cs_diag *diag)
{
    cs_str text = cs_str_trim(secret);
    *token = text;
    if (text.len && text.ptr[0] == '{') {
        cs_json *doc;
        cs_error r = cs_json_parse(arena, text, &doc, diag);
        if (!r) {
            r = cs_json_get_string(doc, "access_token", token, diag);
        }
        if (r) {
            return r;
        }
    }
    return token->len
               ? CS_ERR_OK
               : cs_diag_set(diag, CS_ERR_CONFIG, "the Shopify secret holds no access token");
}

cs_shopify *cs_shopify_new(cs_http_client *http, const cs_shopify_config *config, cs_diag *diag)
{
    if (!config->shop_url || config->access_token.len == 0) {
        cs_diag_set(diag, CS_ERR_CONFIG, "a Shopify connection needs shop_url and an access token");
        return NULL;
    }
    cs_shopify *s = calloc(1, sizeof(*s));
    if (!s) {
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    s->http = http;
    snprintf(s->url, sizeof(s->url), "%s/admin/api/%s/graphql.json", config->shop_url,
             config->api_version ? config->api_version : CS_SHOPIFY_API_VERSION);
    const char *start = strstr(config->shop_url, "://");
    start = start ? start + 3 : config->shop_url;
    snprintf(s->host, sizeof(s->host), "%.*s", (int)strcspn(start, ":/?#"), start);
    size_t len = strlen("X-Shopify-Access-Token: ") + config->access_token.len + 1;
    s->token_header = malloc(len);
    if (!s->token_header) {
        free(s);
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    snprintf(s->token_header, len, "X-Shopify-Access-Token: %.*s",
             CS_STR_FMT(config->access_token));
    s->headers[0] = "Content-Type: application/json";
    s->headers[1] = s->token_header;
    cs_http_add_secret(http, config->access_token);
    cs_http_pace(http, s->host, config->bucket_size > 0 ? config->bucket_size : 1000,
                 config->restore_rate > 0 ? config->restore_rate : 50);
    cs_buf_init(&s->body, 0);
    cs_buf_init(&s->response, MAX_RESPONSE_BYTES);
    return s;
}

void cs_shopify_forget(cs_shopify *s)
{
    for (size_t i = 0; i < s->sku_count; i++) {
        free(s->skus[i].sku);
        free(s->skus[i].item_id);
    }
    s->sku_count = 0;
}

void cs_shopify_destroy(cs_shopify *s)
{
    if (!s) {
        return;
    }
    cs_shopify_forget(s);
    free(s->skus);
    free(s->token_header);
    cs_buf_clean_up(&s->body);
    cs_buf_clean_up(&s->response);
    free(s);
}

/* ---- one request ---- */

static cost_slot *cost_of(cs_shopify *s, const char *query)
{
    cost_slot *free_slot = NULL;
    for (size_t i = 0; i < COST_SLOTS; i++) {
        if (s->costs[i].query == query) {
            return &s->costs[i];
        }
        free_slot = !free_slot && !s->costs[i].query ? &s->costs[i] : free_slot;
    }
    return free_slot;
}

static double number_at(const cs_json *root, const char *path, double fallback)
{
    const cs_json *v = cs_json_path(root, path);
    if (!v || v->type != CS_JSON_NUMBER) {
        return fallback;
    }
    char text[48];
    snprintf(text, sizeof(text), "%.*s", CS_STR_FMT(v->text));
    return strtod(text, NULL);
}

/* Keeps the HTTP client's bucket at what Shopify says is left. */
static void note_cost(cs_shopify *s, const char *query, const cs_json *root)
{
    const cs_json *cost = cs_json_path(root, "extensions.cost");
    if (!cost) {
        return;
    }
    cost_slot *slot = cost_of(s, query);
    if (slot) {
        slot->query = query;
        slot->requested = number_at(cost, "requestedQueryCost", DEFAULT_COST);
    }
    double max = number_at(cost, "throttleStatus.maximumAvailable", -1);
    double available = number_at(cost, "throttleStatus.currentlyAvailable", -1);
    double rate = number_at(cost, "throttleStatus.restoreRate", -1);
    if (available >= 0) {
        cs_http_pace_report(s->http, s->host, available, max, rate);
    }
}

static cs_error build_body(cs_buf *body, const char *query, cs_str variables)
{
    cs_buf_reset(body);
    cs_buf_append_c(body, "{\"query\":");
    cs_json_writer w;
    cs_json_writer_init(&w, body);
    cs_json_write_string_c(&w, query);
    cs_error r = cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    cs_buf_append_c(body, ",\"variables\":");
    cs_buf_append_str(body, variables.len ? variables : CS_STR_LIT("{}"));
    return r ? r : cs_buf_append_c(body, "}");
}

/* Sends once; *throttled when Shopify answered THROTTLED. */
static cs_error send_once(cs_shopify *s, const char *query, cs_arena *arena, const cs_json **root,
                          bool *throttled, cs_diag *diag)
{
    const cost_slot *slot = cost_of(s, query);
    cs_http_request req = {.method = "POST",
                           .url = s->url,
                           .headers = s->headers,
                           .body = cs_buf_view(&s->body),
                           .cost = slot && slot->query ? slot->requested : DEFAULT_COST};
    cs_http_response resp = {.body = &s->response};
    cs_error r = cs_http_send(s->http, &req, &resp, diag);
    if (r) {
        return r;
    }
    cs_json *parsed;
    char *text = cs_arena_strndup(arena, cs_buf_view(&s->response));
    if (!text || cs_json_parse(arena, cs_str_make(text, s->response.len), &parsed, NULL)) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT,
                           "Shopify answered %ld with a body that is "
                           "not JSON",
                           resp.status);
    }
    *root = parsed;
    note_cost(s, query, parsed);
    const cs_json *error = cs_json_array_at(cs_json_object_get(parsed, CS_STR_LIT("errors")), 0);
    cs_str code = cs_shopify_text(cs_shopify_object(error, "extensions"), "code");
    *throttled = cs_str_eq_c(code, "THROTTLED");
    if (error && !*throttled) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "Shopify refused the request: %.*s (%.*s)",
                           CS_STR_FMT(cs_shopify_text(error, "message")), CS_STR_FMT(code));
    }
    return CS_ERR_OK;
}

cs_error cs_shopify_request(cs_shopify *s, const char *query, cs_str variables, cs_arena *arena,
                            const cs_json **data, cs_diag *diag)
{
    cs_error r = build_body(&s->body, query, variables);
    if (r) {
        return cs_diag_set(diag, r, "the request does not fit in memory");
    }
    for (int attempt = 1; attempt <= THROTTLED_ATTEMPTS; attempt++) {
        const cs_json *root = NULL;
        bool throttled = false;
        r = send_once(s, query, arena, &root, &throttled, diag);
        if (r) {
            return r;
        }
        if (!throttled) {
            *data = cs_shopify_object(root, "data");
            return *data ? CS_ERR_OK
                         : cs_diag_set(diag, CS_ERR_HTTP_PERMANENT,
                                       "Shopify's answer has no data object");
        }
        /* The bucket now holds what Shopify reported; the next send waits
         * in the HTTP client until the request's cost has leaked back. */
    }
    return cs_diag_set(diag, CS_ERR_HTTP_TRANSIENT, "Shopify throttled the request %d times",
                       THROTTLED_ATTEMPTS);
}

/* A mutation's userErrors as one named error. */
static cs_error user_errors(const cs_json *payload, const char *mutation, cs_diag *diag)
{
    const cs_json *first =
        cs_json_array_at(cs_json_object_get(payload, CS_STR_LIT("userErrors")), 0);
    if (!payload || payload->type != CS_JSON_OBJECT) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "%s: Shopify answered no payload",
                           mutation);
    }
    if (!first) {
        return CS_ERR_OK;
    }
    char field[128] = "";
    size_t at = 0;
    const cs_json *parts = cs_json_object_get(first, CS_STR_LIT("field"));
    for (const cs_json *p = parts && parts->type == CS_JSON_ARRAY ? parts->first : NULL; p;
         p = p->next) {
        int n =
            snprintf(field + at, sizeof(field) - at, "%s%.*s", at ? "." : "", CS_STR_FMT(p->text));
        at = n > 0 && at + (size_t)n < sizeof(field) ? at + (size_t)n : at;
    }
    cs_str code = cs_shopify_text(first, "code");
    cs_error r = cs_str_eq_c(code, "COMPARE_QUANTITY_STALE") ? CS_ERR_CONDITION_FAILED
                                                             : CS_ERR_HTTP_PERMANENT;
    cs_diag_set(diag, r, "%s: %.*s at %s: %.*s", mutation, CS_STR_FMT(code), field,
                CS_STR_FMT(cs_shopify_text(first, "message")));
    cs_diag_set_field(diag, field);
    return r;
}

/* ---- orders ---- */

/* The search of a read of what was updated at or after since_ms. */
static cs_error since_search(int64_t since_ms, char query[64], cs_diag *diag)
{
    char since[CS_TIME_RFC3339_MAX];
    if (cs_time_format_rfc3339(since_ms, 0, since)) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "since is not a time Shopify knows");
    }
    snprintf(query, 64, "updated_at:>='%s'", since);
    return CS_ERR_OK;
}

static cs_error page_variables(const char *query, cs_str after, int first, cs_buf *out,
                               cs_diag *diag)
{
    cs_buf_reset(out);
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "first");
    cs_json_write_int64(&w, first);
    cs_json_write_key_c(&w, "after");
    if (after.len) {
        cs_json_write_string(&w, after);
    } else {
        cs_json_write_null(&w);
    }
    cs_json_write_key_c(&w, "query");
    cs_json_write_string_c(&w, query);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

/* One page of a connection (orders, customers, variants) that the search
 * selects: its nodes, to be decoded by the caller. */
typedef struct nodes {
    const cs_json *first;
    size_t count;
    bool edges;
} nodes;

static cs_error read_page(cs_shopify *s, const char *query, const char *connection,
                          const char *search, cs_str after, int first, cs_arena *arena, nodes *out,
                          cs_shopify_page *page, cs_diag *diag)
{
    *out = (nodes){0};
    *page = (cs_shopify_page){0};
    if (first < 1 || first > 250) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "a page holds 1 to 250 %s, not %d",
                           connection, first);
    }
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = page_variables(search, after, first, &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, query, cs_buf_view(&variables), arena, &data, diag);
    }
    cs_buf_clean_up(&variables);
    if (r) {
        return r;
    }
    const cs_json *list = cs_shopify_object(data, connection);
    out->first = cs_shopify_list(list, "nodes", &out->count, &out->edges);
    const cs_json *info = cs_shopify_object(list, "pageInfo");
    const cs_json *more = cs_json_object_get(info, CS_STR_LIT("hasNextPage"));
    page->has_next = more && more->type == CS_JSON_BOOL && more->boolean;
    page->end_cursor = cs_shopify_text(info, "endCursor");
    return CS_ERR_OK;
}

cs_error cs_shopify_orders_page(cs_shopify *s, int64_t since_ms, cs_str after, int first,
                                const cs_shopify_order_opts *opts, cs_arena *arena,
                                cs_shopify_order_item **items, size_t *count, cs_shopify_page *page,
                                cs_diag *diag)
{
    nodes n;
    char search[64];
    *items = NULL;
    *count = 0;
    cs_error r = since_search(since_ms, search, diag);
    if (!r) {
        r = read_page(s, cs_shopify_orders_query, "orders", search, after, first, arena, &n, page,
                      diag);
    }
    *items = !r && n.count ? cs_arena_calloc(arena, n.count, sizeof(**items)) : NULL;
    if (r || (n.count && !*items)) {
        return r ? r : cs_arena_full(arena, diag);
    }
    const cs_json *node = n.first;
    for (size_t i = 0; i < n.count; node = node->next, i++) {
        cs_shopify_order_item *it = &(*items)[i];
        it->source = cs_shopify_node(node, n.edges);
        cs_problems_init(&it->problems, arena);
        it->result =
            cs_shopify_order_decode_graphql(it->source, opts, arena, &it->order, &it->problems);
        if (!it->result) {
            it->result =
                cs_shopify_order_refunds(it->source, true, &it->order, opts && opts->presentment,
                                         arena, &it->refunds, &it->refund_count, &it->problems);
        }
    }
    *count = n.count;
    return CS_ERR_OK;
}

cs_error cs_shopify_customers_page(cs_shopify *s, int64_t since_ms, cs_str after, int first,
                                   cs_arena *arena, cs_shopify_customer_item **items, size_t *count,
                                   cs_shopify_page *page, cs_diag *diag)
{
    nodes n;
    char search[64];
    *items = NULL;
    *count = 0;
    cs_error r = since_search(since_ms, search, diag);
    if (!r) {
        r = read_page(s, cs_shopify_customers_query, "customers", search, after, first, arena, &n,
                      page, diag);
    }
    *items = !r && n.count ? cs_arena_calloc(arena, n.count, sizeof(**items)) : NULL;
    if (r || (n.count && !*items)) {
        return r ? r : cs_arena_full(arena, diag);
    }
    const cs_json *node = n.first;
    for (size_t i = 0; i < n.count; node = node->next, i++) {
        cs_shopify_customer_item *it = &(*items)[i];
        it->source = cs_shopify_node(node, n.edges);
        cs_problems_init(&it->problems, arena);
        it->result =
            cs_shopify_customer_decode_graphql(it->source, arena, &it->customer, &it->problems);
    }
    *count = n.count;
    return CS_ERR_OK;
}

cs_error cs_shopify_catalog_page(cs_shopify *s, int64_t after_id, cs_str after, int first,
                                 cs_arena *arena, cs_shopify_variant_item **items, size_t *count,
                                 cs_shopify_page *page, cs_diag *diag)
{
    nodes n;
    char search[64] = "";
    *items = NULL;
    *count = 0;
    if (after_id > 0) {
        snprintf(search, sizeof(search), "id:>%lld", (long long)after_id);
    }
    cs_error r = read_page(s, cs_shopify_catalog_query, "productVariants", search, after, first,
                           arena, &n, page, diag);
    *items = !r && n.count ? cs_arena_calloc(arena, n.count, sizeof(**items)) : NULL;
    if (r || (n.count && !*items)) {
        return r ? r : cs_arena_full(arena, diag);
    }
    const cs_json *node = n.first;
    for (size_t i = 0; i < n.count; node = node->next, i++) {
        cs_shopify_variant_item *it = &(*items)[i];
        it->source = cs_shopify_node(node, n.edges);
        it->product.variant_id = cs_shopify_id(it->source, "id");
        it->product.meta.source_id = it->product.variant_id;
        it->product.sku = cs_str_trim(cs_shopify_text(it->source, "sku"));
        it->product.title = cs_shopify_text(it->source, "title");
        it->product.gtin = cs_shopify_text(it->source, "barcode");
        it->product.product_id = cs_shopify_id(cs_shopify_object(it->source, "product"), "id");
        it->product.active = true;
    }
    *count = n.count;
    return CS_ERR_OK;
}

/* ---- stock ---- */

static const char *cached_item(const cs_shopify *s, cs_str sku)
{
    for (size_t i = 0; i < s->sku_count; i++) {
        if (cs_str_eq_c(sku, s->skus[i].sku)) {
            return s->skus[i].item_id;
        }
    }
    return NULL;
}

static void cache_item(cs_shopify *s, cs_str sku, cs_str item_id)
{
    if (cached_item(s, sku)) {
        return;
    }
    if (s->sku_count == s->sku_capacity) {
        size_t capacity = s->sku_capacity ? s->sku_capacity * 2 : 64;
        known_sku *grown = realloc(s->skus, capacity * sizeof(*grown));
        if (!grown) {
            return; /* not cached: looked up again next time */
        }
        s->skus = grown;
        s->sku_capacity = capacity;
    }
    known_sku k = {strndup(sku.ptr, sku.len), strndup(item_id.ptr, item_id.len)};
    if (k.sku && k.item_id) {
        s->skus[s->sku_count++] = k;
    } else {
        free(k.sku);
        free(k.item_id);
    }
}

/* Shopify's search syntax has no escape the fake or we rely on: a SKU with
 * a space, quote or colon cannot be asked for safely. */
static cs_error check_sku(cs_str sku, cs_diag *diag)
{
    for (size_t i = 0; i < sku.len; i++) {
        if (sku.ptr[i] == ' ' || sku.ptr[i] == '\'' || sku.ptr[i] == '"' || sku.ptr[i] == ':') {
            cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                        "SKU '%.*s' holds a space, quote or colon, which Shopify's search "
                        "cannot take",
                        CS_STR_FMT(sku));
            return CS_ERR_INVALID_ARGUMENT;
        }
    }
    return sku.len ? CS_ERR_OK : cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "an empty SKU");
}

static void read_levels(const cs_json *item, cs_arena *arena, cs_shopify_item *out)
{
    bool edges;
    size_t n;
    const cs_json *level =
        cs_shopify_list(cs_shopify_object(item, "inventoryItem"), "inventoryLevels", &n, &edges);
    out->levels = n ? cs_arena_calloc(arena, n, sizeof(cs_shopify_level)) : NULL;
    out->level_count = out->levels ? n : 0;
    for (size_t i = 0; i < out->level_count; level = level->next, i++) {
        const cs_json *l = cs_shopify_node(level, edges);
        out->levels[i].location_id = cs_shopify_text(cs_shopify_object(l, "location"), "id");
        const cs_json *q = cs_json_array_at(cs_json_object_get(l, CS_STR_LIT("quantities")), 0);
        const cs_json *quantity = cs_json_object_get(q, CS_STR_LIT("quantity"));
        if (!quantity || cs_parse_int64(quantity->text, &out->levels[i].available)) {
            out->levels[i].available = 0;
        }
    }
}

static cs_error variants_variables(const cs_str *skus, size_t count, cs_buf *out, cs_diag *diag)
{
    cs_buf query;
    cs_buf_init(&query, 0);
    for (size_t i = 0; i < count; i++) {
        cs_buf_appendf(&query, "%ssku:%.*s", i ? " OR " : "", CS_STR_FMT(skus[i]));
    }
    cs_buf_reset(out);
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "first");
    cs_json_write_int64(&w, (int64_t)count);
    cs_json_write_key_c(&w, "query");
    cs_json_write_string(&w, cs_buf_view(&query));
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&query);
    return r;
}

/* Asks for up to SKUS_PER_REQUEST SKUs and fills in the matching outs. */
static cs_error lookup_batch(cs_shopify *s, const cs_str *skus, size_t count, cs_arena *arena,
                             cs_shopify_item *out, size_t out_count, cs_diag *diag)
{
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = variants_variables(skus, count, &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, cs_shopify_variants_query, cs_buf_view(&variables), arena, &data,
                               diag);
    }
    cs_buf_clean_up(&variables);
    bool edges;
    size_t n;
    const cs_json *node =
        r ? NULL : cs_shopify_list(cs_shopify_object(data, "productVariants"), "nodes", &n, &edges);
    for (; node; node = node->next) {
        const cs_json *v = cs_shopify_node(node, edges);
        cs_str sku = cs_shopify_text(v, "sku");
        cs_str item = cs_shopify_text(cs_shopify_object(v, "inventoryItem"), "id");
        cache_item(s, sku, item);
        for (size_t i = 0; i < out_count; i++) {
            if (cs_str_eq(out[i].sku, sku)) {
                out[i].inventory_item_id = item;
                read_levels(v, arena, &out[i]);
            }
        }
    }
    return r;
}

cs_error cs_shopify_items(cs_shopify *s, const cs_str *skus, size_t count, bool with_levels,
                          cs_arena *arena, cs_shopify_item *out, cs_diag *diag)
{
    cs_str *wanted = count ? cs_arena_calloc(arena, count, sizeof(cs_str)) : NULL;
    if (count && !wanted) {
        return cs_arena_full(arena, diag);
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        cs_error r = check_sku(skus[i], diag);
        if (r) {
            return r;
        }
        out[i] = (cs_shopify_item){.sku = skus[i]};
        const char *known = cached_item(s, skus[i]);
        if (known && !with_levels) {
            out[i].inventory_item_id = cs_str_from_c(known);
        } else {
            wanted[n++] = skus[i];
        }
    }
    for (size_t at = 0; at < n; at += SKUS_PER_REQUEST) {
        size_t batch = n - at < SKUS_PER_REQUEST ? n - at : SKUS_PER_REQUEST;
        cs_error r = lookup_batch(s, wanted + at, batch, arena, out, count, diag);
        if (r) {
            return r;
        }
    }
    return CS_ERR_OK;
}

cs_error cs_shopify_locations(cs_shopify *s, cs_arena *arena, cs_shopify_location **out,
                              size_t *count, cs_diag *diag)
{
    const cs_json *data = NULL;
    *out = NULL;
    *count = 0;
    cs_error r = cs_shopify_request(s, cs_shopify_locations_query, CS_STR_LIT("{\"first\":250}"),
                                    arena, &data, diag);
    bool edges;
    size_t n = 0;
    const cs_json *node =
        r ? NULL : cs_shopify_list(cs_shopify_object(data, "locations"), "nodes", &n, &edges);
    *out = n ? cs_arena_calloc(arena, n, sizeof(**out)) : NULL;
    if (n && !*out) {
        return cs_arena_full(arena, diag);
    }
    for (size_t i = 0; i < n; node = node->next, i++) {
        const cs_json *l = cs_shopify_node(node, edges);
        (*out)[i] = (cs_shopify_location){cs_shopify_text(l, "id"), cs_shopify_text(l, "name")};
    }
    *count = n;
    return r;
}

static const cs_shopify_item *item_for(const cs_shopify_item *items, size_t n, cs_str sku)
{
    for (size_t i = 0; i < n; i++) {
        if (cs_str_eq(items[i].sku, sku) && items[i].inventory_item_id.len) {
            return &items[i];
        }
    }
    return NULL;
}

static cs_str location_for(const cs_shopify_location *locations, size_t n, cs_str wanted)
{
    for (size_t i = 0; i < n; i++) {
        if (cs_str_eq(locations[i].id, wanted) || cs_str_eq(locations[i].name, wanted)) {
            return locations[i].id;
        }
    }
    return CS_STR_NULL;
}

/* What the item has available at the location now; -1 if not stocked there. */
static int64_t available_at(const cs_shopify_item *item, cs_str location)
{
    for (size_t i = 0; i < item->level_count; i++) {
        if (cs_str_eq(item->levels[i].location_id, location)) {
            return item->levels[i].available;
        }
    }
    return -1;
}

/* One level to one quantity; the problem's text when it cannot be. */
static const char *quantity_for(const cs_stock_level *level, const cs_shopify_item *items,
                                size_t item_count, const cs_shopify_location *locations,
                                size_t location_count, cs_shopify_quantity *q, const char **field)
{
    const cs_shopify_item *item = item_for(items, item_count, level->sku);
    cs_str location = location_for(locations, location_count, level->location);
    *field = "sku";
    if (!item) {
        return "the shop has no variant with this SKU";
    }
    *field = "location";
    if (location.len == 0) {
        return "the shop has no location with this id or name";
    }
    int64_t now = available_at(item, location);
    if (now < 0) {
        return "the SKU is not stocked at this location";
    }
    *field = "available";
    if (level->available < 0) {
        return "a quantity to publish is 0 or more";
    }
    *q = (cs_shopify_quantity){item->inventory_item_id, location, level->available, now};
    return NULL;
}

cs_error cs_shopify_quantities(const cs_stock_level *levels, size_t count,
                               const cs_shopify_item *items, size_t item_count,
                               const cs_shopify_location *locations, size_t location_count,
                               cs_arena *arena, cs_shopify_quantity **out, size_t *out_count,
                               cs_problems *problems)
{
    *out = count ? cs_arena_calloc(arena, count, sizeof(**out)) : NULL;
    *out_count = 0;
    if (count && !*out) {
        cs_problems_add(problems, "", "memory", "invocation memory cap reached");
        return CS_ERR_ARENA_FULL;
    }
    cs_error r = CS_ERR_OK;
    for (size_t i = 0; i < count; i++) {
        const char *field;
        const char *why = quantity_for(&levels[i], items, item_count, locations, location_count,
                                       &(*out)[*out_count], &field);
        if (why) {
            char path[48];
            snprintf(path, sizeof(path), "levels[%zu].%s", i, field);
            cs_problems_add(problems, path, "unpublishable", "%s", why);
            r = CS_ERR_INVALID_ARGUMENT;
        } else {
            (*out_count)++;
        }
    }
    return r;
}

cs_error cs_shopify_set_available(cs_shopify *s, const cs_shopify_quantity *quantities,
                                  size_t count, cs_str reference_uri, cs_str idempotency_key,
                                  cs_arena *arena, cs_diag *diag)
{
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = cs_shopify_inventory_variables(quantities, count, CS_STR_LIT("correction"),
                                                reference_uri, idempotency_key, &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, cs_shopify_inventory_set_mutation, cs_buf_view(&variables), arena,
                               &data, diag);
    }
    cs_buf_clean_up(&variables);
    return r ? r
             : user_errors(cs_shopify_object(data, "inventorySetQuantities"),
                           "inventorySetQuantities", diag);
}

/* ---- fulfillment and invoices ---- */

/* A numeric order id or its gid, as the gid. */
static char *order_gid(cs_str order_id, cs_arena *arena)
{
    return cs_str_starts_with(order_id, CS_STR_LIT("gid://"))
               ? cs_arena_strndup(arena, order_id)
               : cs_arena_sprintf(arena, "gid://shopify/Order/%.*s", CS_STR_FMT(order_id));
}

static cs_error id_variables(const char *gid, cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "id");
    cs_json_write_string_c(&w, gid);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

static cs_error fulfillment_orders(cs_shopify *s, const char *gid, cs_arena *arena,
                                   const cs_json **out, cs_diag *diag)
{
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = id_variables(gid, &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, cs_shopify_fulfillment_orders_query, cs_buf_view(&variables),
                               arena, &data, diag);
    }
    cs_buf_clean_up(&variables);
    const cs_json *order = r ? NULL : cs_shopify_object(data, "order");
    if (!r && !order) {
        r = cs_diag_set(diag, CS_ERR_NOT_FOUND, "Shopify has no order %s", gid);
    }
    *out = order ? cs_shopify_object(order, "fulfillmentOrders") : NULL;
    return r;
}

static cs_error create_fulfillments(cs_shopify *s, const cs_json *calls, cs_arena *arena,
                                    cs_diag *diag)
{
    cs_error r = CS_ERR_OK;
    cs_buf variables;
    cs_buf_init(&variables, 0);
    for (const cs_json *call = calls ? calls->first : NULL; call && !r; call = call->next) {
        const cs_json *data = NULL;
        cs_buf_reset(&variables);
        r = cs_json_serialize(call, &variables, diag);
        if (!r) {
            r = cs_shopify_request(s, cs_shopify_fulfillment_create_mutation,
                                   cs_buf_view(&variables), arena, &data, diag);
        }
        if (!r) {
            r = user_errors(cs_shopify_object(data, "fulfillmentCreate"), "fulfillmentCreate",
                            diag);
        }
    }
    cs_buf_clean_up(&variables);
    return r;
}

cs_error cs_shopify_ship(cs_shopify *s, cs_str order_id, const cs_shipment *shipment,
                         const cs_shopify_fulfillment_opts *opts, cs_arena *arena,
                         cs_problems *problems, cs_diag *diag)
{
    char *gid = order_gid(order_id, arena);
    if (!gid) {
        return cs_arena_full(arena, diag);
    }
    const cs_json *orders = NULL;
    cs_error r = fulfillment_orders(s, gid, arena, &orders, diag);
    if (r) {
        return r;
    }
    cs_buf calls;
    cs_buf_init(&calls, 0);
    r = cs_shopify_fulfillment_variables(shipment, orders, opts, arena, &calls, problems);
    cs_json *parsed = NULL;
    if (r) {
        cs_problems_to_diag(problems, r, diag);
    } else if (!(r = cs_json_parse(arena,
                                   cs_str_from_c(cs_arena_strndup(arena, cs_buf_view(&calls))),
                                   &parsed, diag))) {
        r = create_fulfillments(s, parsed, arena, diag);
    }
    cs_buf_clean_up(&calls);
    return r;
}

cs_error cs_shopify_set_invoice(cs_shopify *s, cs_str order_id, cs_str invoice_number,
                                cs_arena *arena, cs_diag *diag)
{
    char *gid = order_gid(order_id, arena);
    if (!gid) {
        return cs_arena_full(arena, diag);
    }
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = cs_shopify_invoice_metafield_variables(cs_str_from_c(gid), invoice_number,
                                                        &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, cs_shopify_metafields_set_mutation, cs_buf_view(&variables),
                               arena, &data, diag);
    }
    cs_buf_clean_up(&variables);
    return r ? r : user_errors(cs_shopify_object(data, "metafieldsSet"), "metafieldsSet", diag);
}

static const char order_status_query[] =
    "query OrderStatus($id: ID!) { order(id: $id) { id cancelledAt } }";
static const char order_cancel_mutation[] =
    "mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, "
    "$restock: Boolean!, $notifyCustomer: Boolean) { orderCancel(orderId: $orderId, reason: "
    "$reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer) { job { id "
    "done } orderCancelUserErrors { field message code } } }";

/* Whether Shopify has the order cancelled; CS_ERR_NOT_FOUND without it. */
static cs_error cancelled(cs_shopify *s, const char *gid, cs_arena *arena, bool *yes, cs_diag *diag)
{
    cs_buf variables;
    cs_buf_init(&variables, 0);
    const cs_json *data = NULL;
    cs_error r = id_variables(gid, &variables, diag);
    if (!r) {
        r = cs_shopify_request(s, order_status_query, cs_buf_view(&variables), arena, &data, diag);
    }
    cs_buf_clean_up(&variables);
    const cs_json *order = r ? NULL : cs_shopify_object(data, "order");
    if (!r && !order) {
        r = cs_diag_set(diag, CS_ERR_NOT_FOUND, "Shopify has no order %s", gid);
    }
    *yes = order && cs_shopify_text(order, "cancelledAt").len > 0;
    return r;
}

cs_error cs_shopify_cancel_order(cs_shopify *s, cs_str order_id, bool notify_customer,
                                 cs_arena *arena, bool *already, cs_diag *diag)
{
    char *gid = order_gid(order_id, arena);
    if (!gid) {
        return cs_arena_full(arena, diag);
    }
    cs_error r = cancelled(s, gid, arena, already, diag);
    if (r || *already) {
        return r;
    }
    cs_buf variables;
    cs_buf_init(&variables, 0);
    cs_buf_appendf(&variables,
                   "{\"orderId\":\"%s\",\"reason\":\"OTHER\",\"refund\":true,\"restock\":false,"
                   "\"notifyCustomer\":%s}",
                   gid, notify_customer ? "true" : "false");
    const cs_json *data = NULL;
    r = cs_shopify_request(s, order_cancel_mutation, cs_buf_view(&variables), arena, &data, diag);
    cs_buf_clean_up(&variables);
    const cs_json *payload = r ? NULL : cs_shopify_object(data, "orderCancel");
    const cs_json *error =
        cs_json_array_at(cs_json_object_get(payload, CS_STR_LIT("orderCancelUserErrors")), 0);
    if (!r && error) {
        cs_str code = cs_shopify_text(error, "code");
        r = cs_diag_set(diag,
                        cs_str_eq_c(code, "INVALID") ? CS_ERR_HTTP_CONFLICT : CS_ERR_HTTP_PERMANENT,
                        "orderCancel: %.*s: %.*s", CS_STR_FMT(code),
                        CS_STR_FMT(cs_shopify_text(error, "message")));
    } else if (!r && !payload) {
        r = cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "orderCancel: Shopify answered no payload");
    }
    return r;
}
