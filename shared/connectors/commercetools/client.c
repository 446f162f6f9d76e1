#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "core/base64.h"
#include "core/timestamp.h"

enum { CONFLICT_ATTEMPTS = 3, TOKEN_MARGIN_MS = 60000, CHANNELS = 16 };

typedef struct channel_id {
    char key[128], id[64];
} channel_id;

struct cs_commercetools {
    cs_http_client *http;
    char auth_url[512], api_url[512];
    char *basic_header; /* "Authorization: Basic ..." */
    char scope[512];
    char bearer_header[128];
    int64_t token_expires_ms;
    cs_buf response;
    channel_id channels[CHANNELS]; /* supply channel ids by key, as looked up */
    int channel_count;
};

cs_commercetools *cs_commercetools_new(cs_http_client *http, const cs_commercetools_config *config,
                                       cs_diag *diag)
{
    if (!config->auth_url || !config->api_url || !config->client_id.len ||
        !config->client_secret.len) {
        cs_diag_set(diag, CS_ERR_CONFIG,
                    "a commercetools connection needs auth_url, api_url, client id and secret");
        return NULL;
    }
    cs_commercetools *ct = calloc(1, sizeof(*ct));
    cs_buf credentials, header;
    cs_buf_init(&credentials, 1024);
    cs_buf_init(&header, 2048);
    cs_buf_append_str(&credentials, config->client_id);
    cs_buf_append_byte(&credentials, ':');
    cs_buf_append_str(&credentials, config->client_secret);
    cs_buf_append_c(&header, "Authorization: Basic ");
    cs_base64_encode(cs_buf_view(&credentials), &header);
    cs_buf_append_byte(&header, '\0');
    if (ct) {
        ct->basic_header = strdup(header.data);
        cs_http_add_secret(http, cs_buf_view(&credentials));
        cs_http_add_secret(http, config->client_secret);
    }
    cs_buf_clean_up(&credentials);
    cs_buf_clean_up(&header);
    if (!ct || !ct->basic_header) {
        free(ct);
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    ct->http = http;
    snprintf(ct->auth_url, sizeof(ct->auth_url), "%s", config->auth_url);
    snprintf(ct->api_url, sizeof(ct->api_url), "%s", config->api_url);
    snprintf(ct->scope, sizeof(ct->scope), "%s", config->scope ? config->scope : "");
    cs_buf_init(&ct->response, 64 * 1024 * 1024);
    return ct;
}

void cs_commercetools_destroy(cs_commercetools *ct)
{
    if (ct) {
        cs_buf_clean_up(&ct->response);
        free(ct->basic_header);
        free(ct);
    }
}

/* ---- the token ---- */

static cs_error fetch_token(cs_commercetools *ct, cs_diag *diag)
{
    char body[640];
    char *scope = curl_easy_escape(NULL, ct->scope, 0);
    snprintf(body, sizeof(body), "grant_type=client_credentials%s%s", ct->scope[0] ? "&scope=" : "",
             ct->scope[0] && scope ? scope : "");
    curl_free(scope);
    const char *headers[] = {ct->basic_header, "Content-Type: application/x-www-form-urlencoded",
                             NULL};
    cs_http_request req = {
        .method = "POST", .url = ct->auth_url, .headers = headers, .body = cs_str_from_c(body)};
    cs_http_response resp = {.body = &ct->response};
    cs_error r = cs_http_send(ct->http, &req, &resp, diag);
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc;
    cs_str token = CS_STR_NULL;
    int64_t expires_in = 0;
    if (!r && (cs_json_parse(&arena, cs_buf_view(&ct->response), &doc, diag) ||
               cs_json_get_string(doc, "access_token", &token, diag) ||
               cs_json_get_int64(doc, "expires_in", &expires_in, diag) || token.len > 80)) {
        r = cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "commercetools gave no usable token");
    }
    if (!r) {
        snprintf(ct->bearer_header, sizeof(ct->bearer_header), "Authorization: Bearer %.*s",
                 CS_STR_FMT(token));
        cs_http_add_secret(ct->http, token);
        ct->token_expires_ms = cs_time_monotonic_ms() + expires_in * 1000;
    }
    cs_arena_clean_up(&arena);
    return r;
}

static cs_error ensure_token(cs_commercetools *ct, cs_diag *diag)
{
    bool fresh =
        ct->bearer_header[0] && cs_time_monotonic_ms() + TOKEN_MARGIN_MS < ct->token_expires_ms;
    return fresh ? CS_ERR_OK : fetch_token(ct, diag);
}

/* ---- calls ---- */

/* The first error's code in diag.field. */
static cs_error named(cs_error r, const cs_json *answer, cs_diag *diag)
{
    const cs_json *first = cs_json_array_at(cs_json_object_get(answer, CS_STR_LIT("errors")), 0);
    cs_str code = CS_STR_NULL, message = CS_STR_NULL;
    cs_json_opt_string(first, "code", &code, NULL);
    cs_json_opt_string(answer, "message", &message, NULL);
    if (code.len) {
        cs_diag_set(diag, r, "commercetools: %.*s: %.*s", CS_STR_FMT(code), CS_STR_FMT(message));
        char field[64];
        snprintf(field, sizeof(field), "%.*s", CS_STR_FMT(code));
        cs_diag_set_field(diag, field);
    }
    return r;
}

static cs_error call_once(cs_commercetools *ct, const char *method, const char *url, cs_str body,
                          cs_arena *arena, const cs_json **answer, long *status, cs_diag *diag)
{
    const char *headers[] = {ct->bearer_header, "Content-Type: application/json", NULL};
    cs_http_request req = {.method = method, .url = url, .headers = headers, .body = body};
    cs_http_response resp = {.body = &ct->response};
    cs_error r = cs_http_send(ct->http, &req, &resp, diag);
    *status = resp.status;
    cs_json *doc = NULL;
    char *text = resp.status ? cs_arena_strndup(arena, cs_buf_view(&ct->response)) : NULL;
    *answer = text && ct->response.len &&
                      !cs_json_parse(arena, cs_str_make(text, ct->response.len), &doc, NULL)
                  ? doc
                  : NULL;
    return r ? named(r, *answer, diag) : CS_ERR_OK;
}

/* With the token; a rejected token is renewed once. */
static cs_error call(cs_commercetools *ct, const char *method, const char *url, cs_str body,
                     cs_arena *arena, const cs_json **answer, cs_diag *diag)
{
    long status;
    cs_error r = ensure_token(ct, diag);
    if (!r) {
        r = call_once(ct, method, url, body, arena, answer, &status, diag);
    }
    if (r && status == 401) {
        r = fetch_token(ct, diag);
        if (!r) {
            r = call_once(ct, method, url, body, arena, answer, &status, diag);
        }
    }
    return r;
}

/* ---- queries ---- */

/* A query's results array. */
static cs_error query(cs_commercetools *ct, const char *url, const char *what, cs_arena *arena,
                      const cs_json **results, cs_diag *diag)
{
    const cs_json *answer = NULL;
    cs_error r = call(ct, "GET", url, CS_STR_NULL, arena, &answer, diag);
    *results = r ? NULL : cs_json_object_get(answer, CS_STR_LIT("results"));
    if (!r && (!*results || (*results)->type != CS_JSON_ARRAY)) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "commercetools answered no %s", what);
    }
    return r;
}

static void keyset_where(const cs_commercetools_cursor *c, char *out, size_t len)
{
    char since[CS_TIME_RFC3339_MAX];
    cs_time_format_rfc3339(c->modified_ms, 0, since);
    if (c->last_id[0]) {
        snprintf(out, len, "lastModifiedAt > \"%s\" or (lastModifiedAt = \"%s\" and id > \"%s\")",
                 since, since, c->last_id);
    } else {
        snprintf(out, len, "lastModifiedAt >= \"%s\"", since);
    }
}

/* One keyset page of a resource ("orders", "customers"); extra is appended
 * to the query (an expand). */
static cs_error page(cs_commercetools *ct, const char *resource, const char *extra,
                     cs_commercetools_cursor *cursor, int limit, cs_arena *arena,
                     const cs_json **results, cs_diag *diag)
{
    if (limit < 1 || limit > 500) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "a page holds 1 to 500 %s", resource);
    }
    char where[512], url[1536];
    keyset_where(cursor, where, sizeof(where));
    char *escaped = curl_easy_escape(NULL, where, 0);
    snprintf(url, sizeof(url),
             "%s/%s?where=%s&sort=lastModifiedAt%%20asc&sort=id%%20asc&limit=%d"
             "&withTotal=false%s",
             ct->api_url, resource, escaped ? escaped : "", limit, extra);
    curl_free(escaped);
    cs_error r = query(ct, url, resource, arena, results, diag);
    const cs_json *last = r ? NULL : (*results)->last;
    if (last) {
        cs_str id = CS_STR_NULL, modified = CS_STR_NULL;
        cs_json_opt_string(last, "id", &id, NULL);
        cs_json_opt_string(last, "lastModifiedAt", &modified, NULL);
        cs_time_parse_rfc3339(modified, &cursor->modified_ms, NULL, NULL);
        snprintf(cursor->last_id, sizeof(cursor->last_id), "%.*s", CS_STR_FMT(id));
    }
    return r;
}

cs_error cs_commercetools_orders_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                      int limit, cs_arena *arena, const cs_json **results,
                                      cs_diag *diag)
{
    return page(ct, "orders", "", cursor, limit, arena, results, diag);
}

cs_error cs_commercetools_customers_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                         int limit, cs_arena *arena, const cs_json **results,
                                         cs_diag *diag)
{
    return page(ct, "customers", "&expand=customerGroup", cursor, limit, arena, results, diag);
}

cs_error cs_commercetools_products_page(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                        int limit, cs_arena *arena, const cs_json **results,
                                        cs_diag *diag)
{
    return page(ct, "product-projections", "&staged=false", cursor, limit, arena, results, diag);
}

static void product_variant(const cs_json *product, const cs_json *variant, cs_arena *arena,
                            cs_product *out)
{
    cs_str id = CS_STR_NULL, sku = CS_STR_NULL;
    int64_t number = 0;
    cs_json_opt_string(product, "id", &id, NULL);
    cs_json_opt_string(variant, "sku", &sku, NULL);
    cs_json_opt_int64(variant, "id", &number, NULL);
    const cs_json *name = cs_json_object_get(product, CS_STR_LIT("name"));
    *out = (cs_product){.product_id = id, .sku = cs_str_trim(sku), .active = true};
    cs_json_opt_string(name, "en", &out->title, NULL);
    const char *variant_id =
        cs_arena_sprintf(arena, "%.*s/%lld", CS_STR_FMT(id), (long long)number);
    out->variant_id = cs_str_from_c(variant_id ? variant_id : "");
    out->meta.source_id = out->variant_id;
}

cs_error cs_commercetools_product_variants(const cs_json *product, cs_arena *arena,
                                           cs_product **out, size_t *count)
{
    const cs_json *master = cs_json_object_get(product, CS_STR_LIT("masterVariant"));
    const cs_json *others = cs_json_object_get(product, CS_STR_LIT("variants"));
    size_t n = (master ? 1 : 0) + (others && others->type == CS_JSON_ARRAY ? others->count : 0);
    *count = 0;
    *out = n ? cs_arena_calloc(arena, n, sizeof(**out)) : NULL;
    if (n && !*out) {
        return CS_ERR_ARENA_FULL;
    }
    if (master) {
        product_variant(product, master, arena, &(*out)[(*count)++]);
    }
    for (const cs_json *v = n > *count ? others->first : NULL; v; v = v->next) {
        product_variant(product, v, arena, &(*out)[(*count)++]);
    }
    return CS_ERR_OK;
}

cs_error cs_commercetools_business_units_of(cs_commercetools *ct, cs_str customer_id,
                                            cs_arena *arena, const cs_json **results, cs_diag *diag)
{
    char where[160], url[1024];
    if (customer_id.len == 0 || customer_id.len > 64 ||
        memchr(customer_id.ptr, '"', customer_id.len)) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "a customer id has 1 to 64 characters, no quotes");
    }
    snprintf(where, sizeof(where), "associates(customer(id=\"%.*s\"))", CS_STR_FMT(customer_id));
    char *escaped = curl_easy_escape(NULL, where, 0);
    snprintf(url, sizeof(url), "%s/business-units?where=%s&sort=key%%20asc&limit=500", ct->api_url,
             escaped ? escaped : "");
    curl_free(escaped);
    return query(ct, url, "business units", arena, results, diag);
}

cs_error cs_commercetools_get_order(cs_commercetools *ct, cs_str order_id, cs_arena *arena,
                                    const cs_json **order, cs_diag *diag)
{
    char url[768];
    snprintf(url, sizeof(url), "%s/orders/%.*s", ct->api_url, CS_STR_FMT(order_id));
    return call(ct, "GET", url, CS_STR_NULL, arena, order, diag);
}

cs_error cs_commercetools_update_order(cs_commercetools *ct, cs_str order_id,
                                       cs_commercetools_actions_fn build, void *user,
                                       cs_arena *arena, const cs_json **updated, cs_diag *diag)
{
    char url[768];
    snprintf(url, sizeof(url), "%s/orders/%.*s", ct->api_url, CS_STR_FMT(order_id));
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_error r = CS_ERR_HTTP_CONFLICT;
    for (int attempt = 0; r == CS_ERR_HTTP_CONFLICT && attempt < CONFLICT_ATTEMPTS; attempt++) {
        const cs_json *current = NULL;
        int64_t version = 0;
        r = call(ct, "GET", url, CS_STR_NULL, arena, &current, diag);
        if (!r && cs_json_get_int64(current, "version", &version, diag)) {
            r = CS_ERR_HTTP_PERMANENT;
        }
        cs_buf_reset(&body);
        if (!r) {
            r = build(user, current, version, &body, diag);
        }
        if (!r) {
            r = call(ct, "POST", url, cs_buf_view(&body), arena, updated, diag);
        }
    }
    cs_buf_clean_up(&body);
    return r;
}

cs_error cs_commercetools_create_order_type(cs_commercetools *ct, cs_arena *arena, cs_diag *diag)
{
    char url[768];
    snprintf(url, sizeof(url), "%s/types", ct->api_url);
    cs_buf body;
    cs_buf_init(&body, 0);
    const cs_json *answer = NULL;
    cs_error r = cs_commercetools_order_type_draft(&body, diag);
    if (!r) {
        r = call(ct, "POST", url, cs_buf_view(&body), arena, &answer, diag);
    }
    cs_buf_clean_up(&body);
    bool exists = r == CS_ERR_HTTP_PERMANENT && strcmp(diag->field, "DuplicateField") == 0;
    return exists ? CS_ERR_OK : r;
}

/* ---- inventory ---- */

static cs_error channel_id_of(cs_commercetools *ct, cs_str key, const char **id, cs_diag *diag)
{
    for (int i = 0; i < ct->channel_count && i < CHANNELS; i++) {
        if (cs_str_eq_c(key, ct->channels[i].key)) {
            *id = ct->channels[i].id;
            return CS_ERR_OK;
        }
    }
    channel_id *slot = &ct->channels[ct->channel_count++ % CHANNELS];
    if (key.len == 0 || key.len >= sizeof(slot->key)) {
        ct->channel_count--;
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "a supply channel key has 1 to 127 characters");
    }
    char url[1024];
    char *escaped = curl_easy_escape(NULL, key.ptr, (int)key.len);
    snprintf(url, sizeof(url), "%s/channels/key=%s", ct->api_url, escaped ? escaped : "");
    curl_free(escaped);
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    const cs_json *channel = NULL;
    cs_str found = CS_STR_NULL;
    cs_error r = call(ct, "GET", url, CS_STR_NULL, &arena, &channel, diag);
    if (!r && (cs_json_get_string(channel, "id", &found, diag) || found.len >= sizeof(slot->id))) {
        r = cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "commercetools answered a channel without id");
    }
    if (r) {
        ct->channel_count--;
        cs_diag why = *diag;
        cs_diag_set(diag, r, "supply channel %.*s: %s", CS_STR_FMT(key), why.message);
        cs_diag_set_field(diag, why.field);
    } else {
        snprintf(slot->key, sizeof(slot->key), "%.*s", CS_STR_FMT(key));
        snprintf(slot->id, sizeof(slot->id), "%.*s", CS_STR_FMT(found));
        *id = slot->id;
    }
    cs_arena_clean_up(&arena);
    return r;
}

/* sku="X" and supplyChannel(id="Y"), with the SKU's quotes and backslashes
 * escaped as predicates want them. */
static void inventory_where(cs_str sku, const char *channel, cs_buf *out)
{
    cs_buf_append_c(out, "sku=\"");
    for (size_t i = 0; i < sku.len; i++) {
        if (sku.ptr[i] == '"' || sku.ptr[i] == '\\') {
            cs_buf_append_byte(out, '\\');
        }
        cs_buf_append_byte(out, sku.ptr[i]);
    }
    cs_buf_appendf(out, "\" and supplyChannel(id=\"%s\")", channel);
}

/* Another client's write came between the read and this one. */
static bool lost_race(cs_error r, const cs_diag *diag)
{
    return r == CS_ERR_HTTP_CONFLICT ||
           (r == CS_ERR_HTTP_PERMANENT && strcmp(diag->field, "DuplicateField") == 0);
}

/* Reads the entry (NULL when there is none) and writes the level. */
static cs_error write_stock(cs_commercetools *ct, const cs_stock_level *level, cs_str channel_key,
                            const char *query_url, cs_arena *arena, cs_buf *body, bool *written,
                            cs_diag *diag)
{
    const cs_json *results = NULL;
    cs_error r = query(ct, query_url, "inventory entries", arena, &results, diag);
    const cs_json *entry = r ? NULL : cs_json_array_at(results, 0);
    int64_t version = 0, on_stock = -1;
    cs_str id = CS_STR_NULL;
    if (entry && (cs_json_get_int64(entry, "version", &version, diag) ||
                  cs_json_get_int64(entry, "quantityOnStock", &on_stock, diag) ||
                  cs_json_get_string(entry, "id", &id, diag))) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "commercetools answered a broken entry");
    }
    if (r || on_stock == (level->available < 0 ? 0 : level->available)) {
        return r;
    }
    cs_buf_reset(body);
    r = cs_commercetools_inventory_body(level, channel_key, version, body, diag);
    char url[1024];
    snprintf(url, sizeof(url), "%s/inventory%s%.*s", ct->api_url, entry ? "/" : "", CS_STR_FMT(id));
    const cs_json *saved = NULL;
    if (!r) {
        r = call(ct, "POST", url, cs_buf_view(body), arena, &saved, diag);
    }
    *written = !r;
    return r;
}

cs_error cs_commercetools_set_stock(cs_commercetools *ct, const cs_stock_level *level,
                                    cs_str channel_key, bool *written, cs_diag *diag)
{
    *written = false;
    if (level->sku.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "a stock level needs a SKU");
    }
    const char *channel = NULL;
    cs_error r = channel_id_of(ct, channel_key, &channel, diag);
    if (r) {
        return r;
    }
    cs_buf where, body;
    cs_buf_init(&where, 4096);
    cs_buf_init(&body, 0);
    inventory_where(level->sku, channel, &where);
    char *escaped = curl_easy_escape(NULL, where.data, (int)where.len);
    char query_url[2048];
    snprintf(query_url, sizeof(query_url), "%s/inventory?where=%s&limit=1", ct->api_url,
             escaped ? escaped : "");
    curl_free(escaped);
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    r = where.len > 1024 ? cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "the SKU is too long")
                         : CS_ERR_HTTP_CONFLICT;
    for (int attempt = 0; lost_race(r, diag) && attempt < CONFLICT_ATTEMPTS; attempt++) {
        r = write_stock(ct, level, channel_key, query_url, &arena, &body, written, diag);
    }
    cs_arena_clean_up(&arena);
    cs_buf_clean_up(&where);
    cs_buf_clean_up(&body);
    return r;
}
