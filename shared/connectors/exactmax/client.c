#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"

enum { CONFLICT_ATTEMPTS = 3 };

struct cs_exactmax {
    cs_http_client *http;
    char base[512];
    char *auth_header;
    cs_buf response;
};

cs_exactmax *cs_exactmax_new(cs_http_client *http, const cs_exactmax_config *config, cs_diag *diag)
{
    if (!config->base_url || config->key.len == 0) {
        cs_diag_set(diag, CS_ERR_CONFIG, "a MAX bridge connection needs base_url and a key");
        return NULL;
    }
    cs_exactmax *m = calloc(1, sizeof(*m));
    size_t len = strlen("Authorization: Bearer ") + config->key.len + 1;
    if (!m || !(m->auth_header = malloc(len))) {
        free(m);
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    snprintf(m->auth_header, len, "Authorization: Bearer %.*s", CS_STR_FMT(config->key));
    snprintf(m->base, sizeof(m->base), "%s", config->base_url);
    m->http = http;
    cs_http_add_secret(http, config->key);
    cs_buf_init(&m->response, 16 * 1024 * 1024);
    return m;
}

void cs_exactmax_destroy(cs_exactmax *m)
{
    if (m) {
        cs_buf_clean_up(&m->response);
        free(m->auth_header);
        free(m);
    }
}

/* The bridge's error body as a named error: code in diag.field. */
static cs_error named(cs_error r, long status, const cs_json *body, cs_diag *diag)
{
    cs_str code = CS_STR_NULL, message = CS_STR_NULL, table = CS_STR_NULL, column = CS_STR_NULL;
    cs_json_opt_string(body, "code", &code, NULL);
    cs_json_opt_string(body, "message", &message, NULL);
    cs_json_opt_string(body, "table", &table, NULL);
    cs_json_opt_string(body, "column", &column, NULL);
    if (code.len == 0) {
        return r;
    }
    cs_error named_r = status == 404 ? CS_ERR_NOT_FOUND : r;
    cs_diag_set(diag, named_r, "MAX bridge: %.*s: %.*s%s%.*s%s%.*s%s", CS_STR_FMT(code),
                CS_STR_FMT(message), table.len ? " (" : "", CS_STR_FMT(table),
                column.len ? "." : "", CS_STR_FMT(column), table.len ? ")" : "");
    char field[64];
    snprintf(field, sizeof(field), "%.*s", CS_STR_FMT(code));
    cs_diag_set_field(diag, field);
    return named_r;
}

/* One call; the answer (JSON) parsed into arena, also on an error status. */
/* condition: an If-Match or If-None-Match header line, or NULL. */
static cs_error call(cs_exactmax *m, const char *method, const char *path, cs_str body,
                     const char *condition, cs_arena *arena, const cs_json **answer, long *status,
                     cs_diag *diag)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", m->base, path);
    const char *headers[] = {m->auth_header, "Content-Type: application/json", condition, NULL};
    cs_http_request req = {.method = method, .url = url, .headers = headers, .body = body};
    cs_http_response resp = {.body = &m->response};
    cs_error r = cs_http_send(m->http, &req, &resp, diag);
    *status = resp.status;
    *answer = NULL;
    cs_json *parsed = NULL;
    char *text = resp.status ? cs_arena_strndup(arena, cs_buf_view(&m->response)) : NULL;
    if (text && m->response.len &&
        cs_json_parse(arena, cs_str_make(text, m->response.len), &parsed, NULL) == CS_ERR_OK) {
        *answer = parsed;
    }
    return r ? named(r, resp.status, *answer, diag) : CS_ERR_OK;
}

cs_error cs_exactmax_create_order(cs_exactmax *m, cs_str body, char ord_num[16], bool *existed,
                                  cs_diag *diag)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    const cs_json *answer;
    long status;
    cs_error r = call(m, "POST", "/sales-orders", body, NULL, &arena, &answer, &status, diag);
    cs_str number = CS_STR_NULL;
    cs_json_opt_string(answer, "ordNum", &number, NULL);
    /* The order this customer PO already made: the create happened before. */
    *existed = r == CS_ERR_HTTP_CONFLICT && diag && strcmp(diag->field, "DUPLICATE_CUSTPO") == 0;
    if (*existed || (!r && number.len)) {
        r = CS_ERR_OK;
    } else if (!r) {
        r = cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "MAX bridge: a created order has no ordNum");
    }
    snprintf(ord_num, 16, "%.*s", CS_STR_FMT(number));
    cs_arena_clean_up(&arena);
    return r;
}

cs_error cs_exactmax_get_order(cs_exactmax *m, cs_str ord_num, cs_arena *arena,
                               const cs_json **order, cs_diag *diag)
{
    char path[96];
    snprintf(path, sizeof(path), "/sales-orders/%.*s", CS_STR_FMT(ord_num));
    long status;
    return call(m, "GET", path, CS_STR_NULL, NULL, arena, order, &status, diag);
}

static cs_str row_version(const cs_json *order)
{
    cs_str v = CS_STR_NULL;
    cs_json_opt_string(order, "rowVersion", &v, NULL);
    return v;
}

cs_error cs_exactmax_update_order(cs_exactmax *m, cs_str ord_num, cs_str changes, cs_str version,
                                  cs_arena *arena, const cs_json **order, cs_diag *diag)
{
    char path[96], match[96];
    snprintf(path, sizeof(path), "/sales-orders/%.*s", CS_STR_FMT(ord_num));
    cs_error r = CS_ERR_OK;
    /* Changes made from what the caller read are the caller's to make again. */
    int attempts = version.len ? 1 : CONFLICT_ATTEMPTS;
    if (version.len == 0) {
        r = cs_exactmax_get_order(m, ord_num, arena, order, diag);
        version = r ? version : row_version(*order);
    }
    for (int attempt = 1; !r && attempt <= attempts; attempt++) {
        snprintf(match, sizeof(match), "If-Match: %.*s", CS_STR_FMT(version));
        long status;
        r = call(m, "PATCH", path, changes, match, arena, order, &status, diag);
        if (r != CS_ERR_HTTP_CONFLICT || attempt == attempts) {
            break;
        }
        /* Someone changed the order since it was read: read it again. */
        r = cs_exactmax_get_order(m, ord_num, arena, order, diag);
        version = r ? version : row_version(*order);
    }
    return r;
}

cs_error cs_exactmax_put_customer(cs_exactmax *m, cs_str cust_id, cs_str body, cs_str row_version,
                                  cs_arena *arena, const cs_json **customer, cs_diag *diag)
{
    bool valid = cust_id.len >= 1 && cust_id.len <= 12;
    for (size_t i = 0; valid && i < cust_id.len; i++) {
        char ch = cust_id.ptr[i];
        valid = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-';
    }
    if (!valid) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "custId: 1 to 12 of A-Z, 0-9 and -, not '%.*s'", CS_STR_FMT(cust_id));
    }
    char path[96], condition[96];
    snprintf(path, sizeof(path), "/customers/%.*s", CS_STR_FMT(cust_id));
    if (row_version.len) {
        snprintf(condition, sizeof(condition), "If-Match: %.*s", CS_STR_FMT(row_version));
    } else {
        snprintf(condition, sizeof(condition), "If-None-Match: *");
    }
    long status;
    return call(m, "PUT", path, body, condition, arena, customer, &status, diag);
}

/* How the bridge orders each resource: by this time, then this key. */
typedef struct resource_order {
    const char *resource, *time, *key;
} resource_order;

static const resource_order orders[] = {
    {"customers", "modifiedDate", "custId"}, {"parts", "modifiedDate", "prtNum"},
    {"inventory", "modifiedDate", "prtNum"}, {"shipments", "modifiedDate", "shipmentId"},
    {"invoices", "creationDate", "invce"},   {"sales-orders", "modifiedDate", "ordNum"},
};

static const resource_order *order_of(const char *resource)
{
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        if (strcmp(orders[i].resource, resource) == 0) {
            return &orders[i];
        }
    }
    return NULL;
}

/* Moves the cursor past a record: its time and its key (for stock, part
 * and stockroom). */
static void advance(const resource_order *o, const cs_json *item, cs_exactmax_cursor *cursor)
{
    cs_str when = CS_STR_NULL, key = CS_STR_NULL, stockroom = CS_STR_NULL;
    cs_json_opt_string(item, o->time, &when, NULL);
    cs_json_opt_string(item, o->key, &key, NULL);
    if (strcmp(o->resource, "inventory") == 0) {
        cs_json_opt_string(item, "stk", &stockroom, NULL);
    }
    cs_time_parse_rfc3339(when, &cursor->modified_since_ms, NULL, NULL);
    snprintf(cursor->after_key, sizeof(cursor->after_key), "%.*s%s%.*s", CS_STR_FMT(key),
             stockroom.len ? "@" : "", CS_STR_FMT(stockroom));
}

cs_error cs_exactmax_page(cs_exactmax *m, const char *resource, const char *s_type, int limit,
                          cs_exactmax_cursor *cursor, cs_arena *arena, const cs_json **items,
                          bool *more, cs_diag *diag)
{
    const resource_order *order = order_of(resource);
    if (!order) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "the MAX bridge has no resource '%s'",
                           resource);
    }
    char since[CS_TIME_RFC3339_MAX], path[512];
    cs_time_format_rfc3339(cursor->modified_since_ms, 0, since);
    char *key = curl_easy_escape(NULL, cursor->after_key, 0);
    snprintf(path, sizeof(path), "/%s?modifiedSince=%s&afterKey=%s&limit=%d%s%s", resource, since,
             key ? key : "", limit, s_type ? "&sType=" : "", s_type ? s_type : "");
    curl_free(key);
    const cs_json *answer;
    long status;
    cs_error r = call(m, "GET", path, CS_STR_NULL, NULL, arena, &answer, &status, diag);
    *items = r ? NULL : cs_json_object_get(answer, CS_STR_LIT("items"));
    const cs_json *next = r ? NULL : cs_json_object_get(answer, CS_STR_LIT("next"));
    *more = next && next->type == CS_JSON_OBJECT;
    if (!r && (!*items || (*items)->type != CS_JSON_ARRAY)) {
        return cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "MAX bridge: %s answered no items",
                           resource);
    }
    if (!r && (*items)->last) {
        advance(order, (*items)->last, cursor);
    }
    return r;
}
