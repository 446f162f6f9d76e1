#include "commercetools.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/id.h"
#include "core/json.h"
#include "core/timestamp.h"

enum { TOKENS = 64, MAX_LIMIT = 500, MAX_OFFSET = 10000, LINES = 3 };

/* A store: its currency, locale and country, and the VAT included in its
 * prices. */
typedef struct ct_store {
    const char *key, *currency, *locale, *country, *tax_name, *tax_rate;
    int tax_bp;
    int64_t shipping;               /* gross, in the currency's minor units */
    int64_t price_base, price_step; /* line prices, gross, minor units */
    const char *street, *postal_code, *city;
    const char *company_suffix, *vat_prefix;
} ct_store;

enum { STORES = 3, CUSTOMERS = 60 };

static const ct_store stores[STORES] = {
    {"de-store", "EUR", "de-DE", "DE", "MwSt", "0.19", 1900, 490, 999, 250, "Torstrasse", "10119",
     "Berlin", "GmbH", "DE"},
    {"uk-store", "GBP", "en-GB", "GB", "VAT", "0.2", 2000, 395, 899, 200, "Baker Street", "NW1 6XE",
     "London", "Ltd", "GB"},
    {"jp-store", "JPY", "ja-JP", "JP", "JCT", "0.1", 1000, 600, 1200, 300, "Jingumae", "150-0001",
     "Tokyo", "KK", "T"},
};

static const char *const first_names[] = {"Lena", "Oliver", "Yuki", "Jonas", "Amelia", "Haruto"};
static const char *const last_names[] = {"Fischer", "Smith", "Sato", "Becker", "Jones", "Suzuki"};

typedef struct ct_line {
    char id[32];
    char sku[24];
    int64_t quantity, minor; /* gross per unit, in the store's currency */
} ct_line;

typedef struct ct_customer {
    char id[24], number[16], email[64];
    int store;
    int64_t version, modified_ms;
} ct_customer;

/* A custom Type (POST /types): its key and its String fields' names. */
enum { TYPES = 8, TYPE_FIELDS = 8 };
typedef struct ct_type {
    char id[24], key[64];
    char fields[TYPE_FIELDS][48];
    int field_count;
} ct_type;

/* An order's custom fields: its type (an index into the types, -1 none)
 * and String values by the type's field index. */
typedef struct ct_custom {
    int type;
    char values[TYPE_FIELDS][64];
} ct_custom;

typedef struct ct_order {
    char id[32];
    char number[16];
    int store, customer;
    int64_t version, created_ms, modified_ms;
    char state[12], shipment[12];
    ct_line lines[LINES];
    int line_count;
    int deliveries, returns;
    ct_custom custom;
    int64_t messages; /* sequenceNumber of the last message about it */
} ct_order;

/* One InventoryEntry per SKU and supply channel. */
typedef struct ct_entry {
    char id[24];
    char sku[24];
    int channel;
    int64_t version, quantity, modified_ms;
} ct_entry;

enum { ENTRIES = 512, CHANNELS = 2 };

static const char *const channel_ids[CHANNELS] = {"ch-berlin", "ch-paris"};
static const char *const channel_keys[CHANNELS] = {"wh-berlin", "wh-paris"};

typedef struct token {
    char value[CS_UUID_STR_LEN];
    int64_t expires_ms;
} token;

struct sb_commercetools {
    pthread_mutex_t mu;
    sb_ct_emit_fn emit;
    void *emit_user;
    int64_t now_ms;
    ct_order *orders;
    int count;
    token tokens[TOKENS];
    size_t next_token;
    int64_t lifetime_s;
    ct_customer customers[CUSTOMERS];
    ct_entry entries[ENTRIES];
    int entry_count;
    ct_type types[TYPES];
    int type_count;
    int races; /* inventory writes that another client beats */
};

/* ---- data ---- */

/* Customer c shops in store c % 3; every fourth is a company. */
static void seed_customers(sb_commercetools *ct)
{
    for (int c = 0; c < CUSTOMERS; c++) {
        ct_customer *u = &ct->customers[c];
        u->store = c % STORES;
        u->version = 1 + c % 2;
        u->modified_ms = ct->now_ms - (int64_t)(CUSTOMERS - c) * 3600000;
        snprintf(u->id, sizeof(u->id), "ct-cus-%04d", c);
        snprintf(u->number, sizeof(u->number), "C-%05d", 10000 + c);
        snprintf(u->email, sizeof(u->email), "%s.%s%d@Example.com", first_names[c % 6],
                 last_names[(c / 6) % 6], c);
    }
}

/* Order k: its store, customer and lines follow from k. */
static void make_order(ct_order *o, int k, int64_t created_ms)
{
    *o = (ct_order){
        .version = 1, .created_ms = created_ms, .modified_ms = created_ms, .custom = {.type = -1}};
    snprintf(o->id, sizeof(o->id), "ct-ord-%06d", k);
    snprintf(o->number, sizeof(o->number), "CT-%d", 10000 + k);
    snprintf(o->state, sizeof(o->state), "%s", "Open");
    snprintf(o->shipment, sizeof(o->shipment), "%s", "Pending");
    /* Mostly Germany; every sixth order from the UK, and one from Japan. */
    o->store = k % 6 == 4 ? 1 : k % 6 == 5 ? 2 : 0;
    o->customer = 3 * ((k / 6) % (CUSTOMERS / 3)) + o->store;
    o->line_count = 1 + k % LINES;
    for (int i = 0; i < o->line_count; i++) {
        ct_line *l = &o->lines[i];
        snprintf(l->id, sizeof(l->id), "li-%06d-%d", k, i);
        snprintf(l->sku, sizeof(l->sku), "SKU-%04d", 1 + (k * 3 + i) % 24);
        l->quantity = 1 + (k + i) % 3;
        l->minor = stores[o->store].price_base + stores[o->store].price_step * ((k + i) % 9);
    }
}

void sb_commercetools_seed(sb_commercetools *ct, int orders)
{
    pthread_mutex_lock(&ct->mu);
    free(ct->orders);
    ct->orders = calloc((size_t)(orders > 0 ? orders : 1), sizeof(ct_order));
    ct->count = ct->orders ? orders : 0;
    for (int k = 0; k < ct->count; k++) {
        /* A minute apart, oldest first; every 7th shares its neighbour's
         * millisecond, so paging must break ties by id. */
        int64_t created = ct->now_ms - (int64_t)(ct->count - k) * 60000 + (k % 7 == 0 ? 60000 : 0);
        make_order(&ct->orders[k], k, created);
        ct->orders[k].version = 1 + k % 3;
        snprintf(ct->orders[k].state, sizeof(ct->orders[k].state), "%s",
                 k % 11 == 0 ? "Cancelled" : "Open");
    }
    seed_customers(ct);
    /* Stock for the first ten SKUs in Berlin; Paris starts empty. */
    ct->entry_count = 10;
    ct->races = 0;
    for (int i = 0; i < ct->entry_count; i++) {
        ct_entry *e = &ct->entries[i];
        *e = (ct_entry){.channel = 0, .version = 1, .quantity = 5 + i, .modified_ms = ct->now_ms};
        snprintf(e->id, sizeof(e->id), "inv-%04d", i);
        snprintf(e->sku, sizeof(e->sku), "SKU-%04d", i + 1);
    }
    pthread_mutex_unlock(&ct->mu);
}

sb_commercetools *sb_commercetools_new(int64_t now_ms, sb_ct_emit_fn emit, void *user,
                                       cs_diag *diag)
{
    sb_commercetools *ct = calloc(1, sizeof(*ct));
    if (!ct) {
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    ct->emit = emit;
    ct->emit_user = user;
    pthread_mutex_init(&ct->mu, NULL);
    ct->now_ms = now_ms ? now_ms : cs_time_now_ms();
    ct->lifetime_s = 172800;
    sb_commercetools_seed(ct, 200);
    return ct;
}

void sb_commercetools_destroy(sb_commercetools *ct)
{
    if (ct) {
        free(ct->orders);
        pthread_mutex_destroy(&ct->mu);
        free(ct);
    }
}

void sb_commercetools_set_token_lifetime(sb_commercetools *ct, int64_t seconds)
{
    pthread_mutex_lock(&ct->mu);
    ct->lifetime_s = seconds > 0 ? seconds : 172800;
    /* Tokens issued so far are revoked: a client must notice and renew. */
    memset(ct->tokens, 0, sizeof(ct->tokens));
    pthread_mutex_unlock(&ct->mu);
}

static ct_order *find(sb_commercetools *ct, cs_str id)
{
    for (int i = 0; i < ct->count; i++) {
        if (cs_str_eq_c(id, ct->orders[i].id)) {
            return &ct->orders[i];
        }
    }
    return NULL;
}

/* ---- answers ---- */

/* {statusCode, message, errors: [{code, message, ...extra}]} */
static void error_reply(sb_reply *reply, unsigned status, const char *code, const char *message,
                        int64_t current_version)
{
    reply->status = status;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "statusCode");
    cs_json_write_int64(&w, status);
    cs_json_write_key_c(&w, "message");
    cs_json_write_string_c(&w, message);
    cs_json_write_key_c(&w, "errors");
    cs_json_write_array_begin(&w);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "code");
    cs_json_write_string_c(&w, code);
    cs_json_write_key_c(&w, "message");
    cs_json_write_string_c(&w, message);
    if (current_version > 0) {
        cs_json_write_key_c(&w, "currentVersion");
        cs_json_write_int64(&w, current_version);
    }
    cs_json_write_object_end(&w);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

static void w_str(cs_json_writer *w, const char *key, const char *value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string_c(w, value);
}

static void w_int(cs_json_writer *w, const char *key, int64_t n)
{
    cs_json_write_key_c(w, key);
    cs_json_write_int64(w, n);
}

static void w_time(cs_json_writer *w, const char *key, int64_t ms)
{
    char text[CS_TIME_RFC3339_MAX];
    cs_time_format_rfc3339(ms, 0, text);
    w_str(w, key, text);
}

static void w_money(cs_json_writer *w, const ct_store *s, const char *key, int64_t minor)
{
    cs_json_write_key_c(w, key);
    cs_json_write_object_begin(w);
    w_str(w, "type", "centPrecision");
    w_str(w, "currencyCode", s->currency);
    w_int(w, "centAmount", minor);
    w_int(w, "fractionDigits", strcmp(s->currency, "JPY") == 0 ? 0 : 2);
    cs_json_write_object_end(w);
}

static int64_t included_tax(const ct_store *s, int64_t gross)
{
    return (gross * s->tax_bp + (10000 + s->tax_bp) / 2) / (10000 + s->tax_bp);
}

static void w_taxed(cs_json_writer *w, const ct_store *s, int64_t gross, int64_t tax)
{
    cs_json_write_key_c(w, "taxedPrice");
    cs_json_write_object_begin(w);
    w_money(w, s, "totalNet", gross - tax);
    w_money(w, s, "totalGross", gross);
    w_money(w, s, "totalTax", tax);
    cs_json_write_object_end(w);
}

static void w_tax_rate(cs_json_writer *w, const ct_store *s)
{
    cs_json_write_key_c(w, "taxRate");
    cs_json_write_object_begin(w);
    w_str(w, "name", s->tax_name);
    cs_json_write_key_c(w, "amount");
    cs_json_write_number_text(w, cs_str_from_c(s->tax_rate));
    cs_json_write_key_c(w, "includedInPrice");
    cs_json_write_bool(w, true);
    w_str(w, "country", s->country);
    cs_json_write_object_end(w);
}

static void w_reference(cs_json_writer *w, const char *key, const char *type, const char *id_key,
                        const char *id)
{
    cs_json_write_key_c(w, key);
    cs_json_write_object_begin(w);
    w_str(w, "typeId", type);
    w_str(w, id_key, id);
    cs_json_write_object_end(w);
}

/* The customer's one address, in their store's country. */
static void w_address(cs_json_writer *w, const ct_customer *u, int index, bool company)
{
    const ct_store *s = &stores[u->store];
    char number[8];
    snprintf(number, sizeof(number), "%d", 1 + index % 90);
    cs_json_write_object_begin(w);
    w_str(w, "id", "addr-1");
    w_str(w, "firstName", first_names[index % 6]);
    w_str(w, "lastName", last_names[(index / 6) % 6]);
    if (company) {
        char name[48];
        snprintf(name, sizeof(name), "%s %s", last_names[(index / 6) % 6], s->company_suffix);
        w_str(w, "company", name);
    }
    w_str(w, "streetName", s->street);
    w_str(w, "streetNumber", number);
    w_str(w, "postalCode", s->postal_code);
    w_str(w, "city", s->city);
    w_str(w, "country", s->country);
    cs_json_write_object_end(w);
}

static void w_line(cs_json_writer *w, const ct_store *s, const ct_line *l)
{
    cs_json_write_object_begin(w);
    w_str(w, "id", l->id);
    cs_json_write_key_c(w, "variant");
    cs_json_write_object_begin(w);
    w_int(w, "id", 1);
    w_str(w, "sku", l->sku);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "name");
    cs_json_write_object_begin(w);
    w_str(w, "en", l->sku);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "price");
    cs_json_write_object_begin(w);
    w_money(w, s, "value", l->minor);
    cs_json_write_object_end(w);
    w_int(w, "quantity", l->quantity);
    w_tax_rate(w, s);
    int64_t total = l->minor * l->quantity;
    w_taxed(w, s, total, included_tax(s, total));
    w_money(w, s, "totalPrice", total);
    cs_json_write_object_end(w);
}

/* "custom": {"type": {"typeId", "id"}, "fields": {...}}, when it has a type. */
static void w_custom(cs_json_writer *w, const sb_commercetools *ct, const ct_custom *c)
{
    if (c->type < 0) {
        return;
    }
    const ct_type *t = &ct->types[c->type];
    cs_json_write_key_c(w, "custom");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "type");
    cs_json_write_object_begin(w);
    w_str(w, "typeId", "type");
    w_str(w, "id", t->id);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "fields");
    cs_json_write_object_begin(w);
    for (int f = 0; f < t->field_count; f++) {
        if (c->values[f][0]) {
            w_str(w, t->fields[f], c->values[f]);
        }
    }
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

static void w_order(cs_json_writer *w, const sb_commercetools *ct, const ct_order *o)
{
    const ct_store *s = &stores[o->store];
    const ct_customer *u = &ct->customers[o->customer];
    int64_t gross = s->shipping, tax = included_tax(s, s->shipping);
    for (int i = 0; i < o->line_count; i++) {
        gross += o->lines[i].minor * o->lines[i].quantity;
        tax += included_tax(s, o->lines[i].minor * o->lines[i].quantity);
    }
    cs_json_write_object_begin(w);
    w_str(w, "type", "Order");
    w_str(w, "id", o->id);
    w_int(w, "version", o->version);
    w_str(w, "orderNumber", o->number);
    w_time(w, "createdAt", o->created_ms);
    w_time(w, "lastModifiedAt", o->modified_ms);
    w_str(w, "orderState", o->state);
    w_str(w, "shipmentState", o->shipment);
    w_str(w, "paymentState", "Paid");
    w_str(w, "locale", s->locale);
    w_reference(w, "store", "store", "key", s->key);
    w_str(w, "customerId", u->id);
    w_str(w, "customerEmail", u->email);
    cs_json_write_key_c(w, "shippingAddress");
    w_address(w, u, o->customer, false);
    cs_json_write_key_c(w, "billingAddress");
    w_address(w, u, o->customer, o->customer % 4 == 0);
    w_money(w, s, "totalPrice", gross);
    w_taxed(w, s, gross, tax);
    cs_json_write_key_c(w, "lineItems");
    cs_json_write_array_begin(w);
    for (int i = 0; i < o->line_count; i++) {
        w_line(w, s, &o->lines[i]);
    }
    cs_json_write_array_end(w);
    cs_json_write_key_c(w, "shippingInfo");
    cs_json_write_object_begin(w);
    w_str(w, "shippingMethodName", "DHL Standard");
    w_money(w, s, "price", s->shipping);
    w_tax_rate(w, s);
    w_taxed(w, s, s->shipping, included_tax(s, s->shipping));
    cs_json_write_key_c(w, "deliveries");
    cs_json_write_array_begin(w);
    for (int i = 0; i < o->deliveries; i++) {
        char id[48];
        snprintf(id, sizeof(id), "del-%s-%d", o->id, i + 1);
        cs_json_write_object_begin(w);
        w_str(w, "id", id);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "returnInfo");
    cs_json_write_array_begin(w);
    for (int i = 0; i < o->returns; i++) {
        cs_json_write_object_begin(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    w_custom(w, ct, &o->custom);
    cs_json_write_object_end(w);
}

/* ---- OAuth ---- */

/* Basic base64(client_id:client_secret) and grant_type=client_credentials. */
static void issue_token(sb_commercetools *ct, const char *authorization, cs_str body,
                        sb_reply *reply)
{
    cs_buf expected;
    cs_buf_init(&expected, 256);
    cs_buf_append_c(&expected, "Basic ");
    cs_base64_encode(CS_STR_LIT(SB_CT_CLIENT_ID ":" SB_CT_CLIENT_SECRET), &expected);
    cs_buf_append_byte(&expected, '\0');
    bool client_ok = authorization && strcmp(authorization, expected.data) == 0;
    cs_buf_clean_up(&expected);
    if (!client_ok) {
        reply->status = 401;
        cs_buf_append_c(&reply->body, "{\"error\":\"invalid_client\",\"error_description\":"
                                      "\"Please provide valid client credentials using HTTP "
                                      "Basic Authentication.\"}");
        return;
    }
    if (!body.ptr || !strstr(body.ptr, "grant_type=client_credentials")) {
        reply->status = 400;
        cs_buf_append_c(&reply->body, "{\"error\":\"unsupported_grant_type\"}");
        return;
    }
    token *t = &ct->tokens[ct->next_token++ % TOKENS];
    cs_uuid_v4(t->value);
    t->expires_ms = cs_time_now_ms() + ct->lifetime_s * 1000;
    reply->status = 200;
    cs_buf_appendf(&reply->body,
                   "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%lld,"
                   "\"scope\":\"manage_orders:%s\"}",
                   t->value, (long long)ct->lifetime_s, SB_CT_PROJECT);
}

static bool authorized(sb_commercetools *ct, const char *authorization)
{
    int64_t now = cs_time_now_ms();
    for (size_t i = 0; authorization && strncmp(authorization, "Bearer ", 7) == 0 && i < TOKENS;
         i++) {
        if (ct->tokens[i].value[0] && strcmp(ct->tokens[i].value, authorization + 7) == 0) {
            return ct->tokens[i].expires_ms > now;
        }
    }
    return false;
}

/* ---- queries ---- */

typedef struct predicate {
    int64_t since_ms;
    bool inclusive;
    char after_id[32]; /* the keyset form's id, or "" */
} predicate;

/* A quoted RFC 3339 time at *p; moves past it. */
static bool quoted_time(const char **p, int64_t *ms)
{
    const char *start = strchr(*p, '"');
    const char *end = start ? strchr(start + 1, '"') : NULL;
    if (!end ||
        cs_time_parse_rfc3339(cs_str_make(start + 1, (size_t)(end - start - 1)), ms, NULL, NULL)) {
        return false;
    }
    *p = end + 1;
    return true;
}

/* lastModifiedAt > "T" | lastModifiedAt >= "T" |
 * lastModifiedAt > "T" or (lastModifiedAt = "T" and id > "X") */
static bool parse_where(const char *where, predicate *out)
{
    *out = (predicate){0};
    if (!where) {
        out->since_ms = INT64_MIN;
        return true;
    }
    const char *p = where;
    while (*p == ' ') {
        p++;
    }
    if (strncmp(p, "lastModifiedAt", 14) != 0) {
        return false;
    }
    p += 14;
    while (*p == ' ') {
        p++;
    }
    out->inclusive = strncmp(p, ">=", 2) == 0;
    if (*p != '>' || !quoted_time(&p, &out->since_ms)) {
        return false;
    }
    while (*p == ' ') {
        p++;
    }
    if (!*p) {
        return true;
    }
    int64_t same;
    char id[32];
    int used = 0;
    if (out->inclusive || strncmp(p, "or (lastModifiedAt = ", 21) != 0) {
        return false;
    }
    p += 20;
    if (!quoted_time(&p, &same) || same != out->since_ms ||
        sscanf(p, " and id > \"%31[^\"]\")%n", id, &used) != 1 || used == 0 || p[used] != '\0') {
        return false;
    }
    snprintf(out->after_id, sizeof(out->after_id), "%s", id);
    return true;
}

/* What a query sees of a resource: its id, when it last changed, and its
 * index in its array. */
typedef struct row {
    const char *id;
    int64_t modified_ms;
    int index;
} row;

static bool matches(const predicate *w, const row *r)
{
    if (r->modified_ms > w->since_ms) {
        return true;
    }
    if (r->modified_ms == w->since_ms) {
        return w->inclusive || (w->after_id[0] && strcmp(r->id, w->after_id) > 0);
    }
    return false;
}

static int by_modified(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->modified_ms != y->modified_ms) {
        return x->modified_ms < y->modified_ms ? -1 : 1;
    }
    return strcmp(x->id, y->id);
}

static bool number_arg(const char *text, int64_t fallback, int64_t max, int64_t *out)
{
    *out = fallback;
    return !text || (!cs_parse_int64(cs_str_from_c(text), out) && *out >= 0 && *out <= max);
}

typedef void (*write_fn)(cs_json_writer *w, const sb_commercetools *ct, int index,
                         const sb_ct_request *req);

/* A query over rows (sorted and filtered here), each written by `write`. */
static void query(const sb_commercetools *ct, const sb_ct_request *req, row *rows, int count,
                  write_fn write, sb_reply *reply)
{
    predicate w;
    int64_t limit, offset;
    char message[256];
    if (!number_arg(req->limit, 20, MAX_LIMIT, &limit) || limit == 0) {
        error_reply(reply, 400, "InvalidInput", "The limit must be between 1 and 500.", 0);
        return;
    }
    if (!number_arg(req->offset, 0, MAX_OFFSET, &offset)) {
        error_reply(reply, 400, "InvalidInput",
                    "The offset must be between 0 and 10000; page by a where predicate beyond "
                    "it.",
                    0);
        return;
    }
    if (req->sort && strcmp(req->sort, "lastModifiedAt asc") != 0) {
        error_reply(reply, 400, "InvalidInput",
                    "The sandbox sorts by lastModifiedAt asc, then id asc.", 0);
        return;
    }
    if (!parse_where(req->where, &w)) {
        snprintf(message, sizeof(message), "Malformed or unsupported where predicate: %.180s",
                 req->where);
        error_reply(reply, 400, "InvalidInput", message, 0);
        return;
    }
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (matches(&w, &rows[i])) {
            rows[n++] = rows[i];
        }
    }
    qsort(rows, (size_t)n, sizeof(*rows), by_modified);
    int64_t from = offset < n ? offset : n;
    int64_t shown = n - from < limit ? n - from : limit;
    reply->status = 200;
    cs_json_writer jw;
    cs_json_writer_init(&jw, &reply->body);
    cs_json_write_object_begin(&jw);
    w_int(&jw, "limit", limit);
    w_int(&jw, "offset", offset);
    w_int(&jw, "count", shown);
    cs_json_write_key_c(&jw, "results");
    cs_json_write_array_begin(&jw);
    for (int64_t i = 0; i < shown; i++) {
        write(&jw, ct, rows[from + i].index, req);
    }
    cs_json_write_array_end(&jw);
    cs_json_write_object_end(&jw);
    cs_json_writer_finish(&jw, NULL);
    cs_json_writer_clean_up(&jw);
}

static void write_order(cs_json_writer *w, const sb_commercetools *ct, int index,
                        const sb_ct_request *req)
{
    (void)req;
    w_order(w, ct, &ct->orders[index]);
}

static void query_orders(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply)
{
    row *rows = calloc((size_t)(ct->count ? ct->count : 1), sizeof(*rows));
    if (!rows) {
        error_reply(reply, 500, "General", "The sandbox ran out of memory.", 0);
        return;
    }
    for (int i = 0; i < ct->count; i++) {
        rows[i] = (row){ct->orders[i].id, ct->orders[i].modified_ms, i};
    }
    query(ct, req, rows, ct->count, write_order, reply);
    free(rows);
}

/* Every fourth customer is a company (companyName, vatId, group b2b); every
 * fourth after it is in group vip; the group is a reference, with its key
 * under obj when the query asks for expand=customerGroup. */
static void w_customer(cs_json_writer *w, const sb_commercetools *ct, int index,
                       const sb_ct_request *req)
{
    const ct_customer *u = &ct->customers[index];
    const ct_store *s = &stores[u->store];
    bool company = index % 4 == 0;
    const char *group = company ? "b2b" : index % 4 == 1 ? "vip" : NULL;
    cs_json_write_object_begin(w);
    w_str(w, "id", u->id);
    w_int(w, "version", u->version);
    w_str(w, "customerNumber", u->number);
    w_str(w, "email", u->email);
    w_str(w, "firstName", first_names[index % 6]);
    w_str(w, "lastName", last_names[(index / 6) % 6]);
    w_str(w, "locale", s->locale);
    if (company) {
        char name[48], vat[24];
        snprintf(name, sizeof(name), "%s %s", last_names[(index / 6) % 6], s->company_suffix);
        snprintf(vat, sizeof(vat), "%s%09d", s->vat_prefix, 100000000 + index * 7919);
        w_str(w, "companyName", name);
        w_str(w, "vatId", vat);
    }
    if (group) {
        char id[16];
        snprintf(id, sizeof(id), "cg-%s", group);
        cs_json_write_key_c(w, "customerGroup");
        cs_json_write_object_begin(w);
        w_str(w, "typeId", "customer-group");
        w_str(w, "id", id);
        if (req->expand && strstr(req->expand, "customerGroup")) {
            cs_json_write_key_c(w, "obj");
            cs_json_write_object_begin(w);
            w_str(w, "id", id);
            w_str(w, "key", group);
            cs_json_write_object_end(w);
        }
        cs_json_write_object_end(w);
    }
    cs_json_write_key_c(w, "stores");
    cs_json_write_array_begin(w);
    cs_json_write_object_begin(w);
    w_str(w, "typeId", "store");
    w_str(w, "key", s->key);
    cs_json_write_object_end(w);
    cs_json_write_array_end(w);
    cs_json_write_key_c(w, "addresses");
    cs_json_write_array_begin(w);
    w_address(w, u, index, company);
    cs_json_write_array_end(w);
    w_time(w, "createdAt", u->modified_ms - 86400000);
    w_time(w, "lastModifiedAt", u->modified_ms);
    cs_json_write_object_end(w);
}

/* Business units: every company customer's Company (the customer and the
 * next one, a buyer, its associates), and for every other company a
 * Purchasing Division under it (the customer two after, its associate). */
static void w_unit(cs_json_writer *w, const sb_commercetools *ct, int company, bool division)
{
    const ct_customer *owner = &ct->customers[company];
    char key[48], top[32], name[80];
    snprintf(top, sizeof(top), "bu-%s", owner->number);
    snprintf(key, sizeof(key), "%s%s", top, division ? "-purchasing" : "");
    snprintf(name, sizeof(name), "%s %s%s", last_names[(company / 6) % 6],
             stores[owner->store].company_suffix, division ? ", Purchasing" : "");
    cs_json_write_object_begin(w);
    w_str(w, "id", key);
    w_int(w, "version", 1);
    w_str(w, "key", key);
    w_str(w, "name", name);
    w_str(w, "unitType", division ? "Division" : "Company");
    w_str(w, "status", "Active");
    w_str(w, "storeMode", division ? "FromParent" : "Explicit");
    if (division) {
        w_reference(w, "parentUnit", "business-unit", "key", top);
    }
    w_reference(w, "topLevelUnit", "business-unit", "key", top);
    cs_json_write_key_c(w, "addresses");
    cs_json_write_array_begin(w);
    w_address(w, owner, company, true);
    cs_json_write_array_end(w);
    cs_json_write_key_c(w, "associates");
    cs_json_write_array_begin(w);
    int first = division ? company + 2 : company, last = division ? company + 2 : company + 1;
    for (int a = first; a <= last && a < CUSTOMERS; a++) {
        cs_json_write_object_begin(w);
        w_reference(w, "customer", "customer", "id", ct->customers[a].id);
        cs_json_write_key_c(w, "associateRoleAssignments");
        cs_json_write_array_begin(w);
        cs_json_write_object_begin(w);
        w_reference(w, "associateRole", "associate-role", "key", a == company ? "admin" : "buyer");
        w_str(w, "inheritance", "Enabled");
        cs_json_write_object_end(w);
        cs_json_write_array_end(w);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    w_time(w, "createdAt", owner->modified_ms - 86400000);
    w_time(w, "lastModifiedAt", owner->modified_ms);
    cs_json_write_object_end(w);
}

/* where=associates(customer(id="X")) */
static void query_units(sb_commercetools *ct, const char *where, sb_reply *reply)
{
    char id[32];
    int used = 0;
    if (!where || sscanf(where, "associates(customer(id=\"%31[^\"]\"))%n", id, &used) != 1 ||
        where[used] != '\0') {
        error_reply(reply, 400, "InvalidInput",
                    "The sandbox queries business units by associates(customer(id=\"...\")).", 0);
        return;
    }
    int c = -1;
    for (int i = 0; i < CUSTOMERS && c < 0; i++) {
        c = strcmp(ct->customers[i].id, id) == 0 ? i : -1;
    }
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "results");
    cs_json_write_array_begin(&w);
    if (c >= 0 && c % 4 <= 1) {
        w_unit(&w, ct, c - c % 4, false);
    }
    if (c >= 0 && c % 8 == 2) {
        w_unit(&w, ct, c - 2, true);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

/* The catalog: PRODUCTS products of three variants each, SKU-0001 to
 * SKU-0024 (the SKUs the orders buy), a day apart in lastModifiedAt. */
enum { PRODUCTS = 8, VARIANTS_EACH = 3 };

static const char *const product_ids[PRODUCTS] = {"ct-prod-01", "ct-prod-02", "ct-prod-03",
                                                  "ct-prod-04", "ct-prod-05", "ct-prod-06",
                                                  "ct-prod-07", "ct-prod-08"};

static int64_t product_modified(const sb_commercetools *ct, int p)
{
    return ct->now_ms - (int64_t)(PRODUCTS - p) * 86400000;
}

static void w_product_variant(cs_json_writer *w, int p, int v)
{
    char sku[24];
    snprintf(sku, sizeof(sku), "SKU-%04d", p * VARIANTS_EACH + v + 1);
    cs_json_write_object_begin(w);
    w_int(w, "id", v + 1);
    w_str(w, "sku", sku);
    cs_json_write_object_end(w);
}

static void w_product(cs_json_writer *w, const sb_commercetools *ct, int p,
                      const sb_ct_request *req)
{
    (void)req;
    char key[24], name[32];
    snprintf(key, sizeof(key), "prod-%02d", p + 1);
    snprintf(name, sizeof(name), "Product %d", p + 1);
    cs_json_write_object_begin(w);
    w_str(w, "id", product_ids[p]);
    w_int(w, "version", 1);
    w_str(w, "key", key);
    cs_json_write_key_c(w, "name");
    cs_json_write_object_begin(w);
    w_str(w, "en", name);
    cs_json_write_object_end(w);
    cs_json_write_key_c(w, "masterVariant");
    w_product_variant(w, p, 0);
    cs_json_write_key_c(w, "variants");
    cs_json_write_array_begin(w);
    for (int v = 1; v < VARIANTS_EACH; v++) {
        w_product_variant(w, p, v);
    }
    cs_json_write_array_end(w);
    w_time(w, "createdAt", product_modified(ct, p));
    w_time(w, "lastModifiedAt", product_modified(ct, p));
    cs_json_write_object_end(w);
}

static void query_products(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply)
{
    row rows[PRODUCTS];
    for (int p = 0; p < PRODUCTS; p++) {
        rows[p] = (row){product_ids[p], product_modified(ct, p), p};
    }
    query(ct, req, rows, PRODUCTS, w_product, reply);
}

static void query_customers(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply)
{
    row rows[CUSTOMERS];
    for (int i = 0; i < CUSTOMERS; i++) {
        rows[i] = (row){ct->customers[i].id, ct->customers[i].modified_ms, i};
    }
    query(ct, req, rows, CUSTOMERS, w_customer, reply);
}

/* ---- custom types ---- */

static int type_by_key(const sb_commercetools *ct, cs_str key)
{
    for (int i = 0; i < ct->type_count; i++) {
        if (cs_str_eq_c(key, ct->types[i].key)) {
            return i;
        }
    }
    return -1;
}

/* POST /types: a TypeDraft with String fields; a key taken is
 * DuplicateField, as commercetools answers. */
static void create_type(sb_commercetools *ct, cs_str body, sb_reply *reply)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc = NULL;
    cs_str key = CS_STR_NULL;
    const cs_json *fields = NULL;
    if (cs_json_parse(&arena, body, &doc, NULL) || cs_json_get_string(doc, "key", &key, NULL) ||
        !key.len || key.len >= 64 ||
        !(fields = cs_json_object_get(doc, CS_STR_LIT("fieldDefinitions"))) ||
        fields->type != CS_JSON_ARRAY || fields->count > TYPE_FIELDS) {
        error_reply(reply, 400, "InvalidInput",
                    "A type draft needs a key and at most 8 fieldDefinitions.", 0);
    } else if (type_by_key(ct, key) >= 0) {
        error_reply(reply, 400, "DuplicateField", "A duplicate value for the field 'key'.", 0);
    } else if (ct->type_count == TYPES) {
        error_reply(reply, 400, "InvalidOperation", "The sandbox holds 8 types.", 0);
    } else {
        ct_type *t = &ct->types[ct->type_count];
        *t = (ct_type){0};
        snprintf(t->id, sizeof(t->id), "type-%d", ct->type_count + 1);
        snprintf(t->key, sizeof(t->key), "%.*s", CS_STR_FMT(key));
        for (const cs_json *f = fields->first; f; f = f->next) {
            cs_str name = CS_STR_NULL;
            cs_json_opt_string(f, "name", &name, NULL);
            snprintf(t->fields[t->field_count++], sizeof(t->fields[0]), "%.*s", CS_STR_FMT(name));
        }
        ct->type_count++;
        reply->status = 201;
        cs_json_writer w;
        cs_json_writer_init(&w, &reply->body);
        cs_json_write_object_begin(&w);
        w_str(&w, "id", t->id);
        w_str(&w, "key", t->key);
        w_int(&w, "version", 1);
        cs_json_write_object_end(&w);
        cs_json_writer_finish(&w, NULL);
        cs_json_writer_clean_up(&w);
    }
    cs_arena_clean_up(&arena);
}

static int field_of(const ct_type *t, cs_str name)
{
    for (int f = 0; f < t->field_count; f++) {
        if (cs_str_eq_c(name, t->fields[f])) {
            return f;
        }
    }
    return -1;
}

/* One String custom field set; NULL, or why it cannot be. */
static const char *set_field(const sb_commercetools *ct, ct_custom *c, cs_str name,
                             const cs_json *value)
{
    int f = c->type < 0 ? -1 : field_of(&ct->types[c->type], name);
    if (f < 0) {
        return "The order's custom type has no such field.";
    }
    if (!value || value->type != CS_JSON_STRING || value->text.len >= sizeof(c->values[0])) {
        return "The sandbox's custom fields hold Strings of up to 63 bytes.";
    }
    snprintf(c->values[f], sizeof(c->values[0]), "%.*s", CS_STR_FMT(value->text));
    return NULL;
}

/* setCustomType (by the type's key; its fields replace the order's) and
 * setCustomField. A type that does not exist is ReferencedResourceNotFound. */
static const char *apply_custom(const sb_commercetools *ct, ct_order *o, const cs_json *action,
                                const char **code)
{
    cs_str name = CS_STR_NULL;
    cs_json_opt_string(action, "action", &name, NULL);
    if (cs_str_eq_c(name, "setCustomField")) {
        cs_str field = CS_STR_NULL;
        cs_json_opt_string(action, "name", &field, NULL);
        return set_field(ct, &o->custom, field, cs_json_object_get(action, CS_STR_LIT("value")));
    }
    cs_str key = CS_STR_NULL;
    cs_json_opt_string(cs_json_object_get(action, CS_STR_LIT("type")), "key", &key, NULL);
    int type = type_by_key(ct, key);
    if (type < 0) {
        *code = "ReferencedResourceNotFound";
        return "The referenced type does not exist.";
    }
    o->custom = (ct_custom){.type = type};
    const cs_json *fields = cs_json_object_get(action, CS_STR_LIT("fields"));
    const char *why = NULL;
    for (const cs_json *f = fields ? fields->first : NULL; f && !why; f = f->next) {
        why = set_field(ct, &o->custom, f->key, f);
    }
    return why;
}

/* ---- updates ---- */

/* The subscription message an applied action makes (NULL: one the
 * sync does not subscribe to). */
static const char *message_type(const cs_json *action)
{
    cs_str name = CS_STR_NULL;
    cs_json_opt_string(action, "action", &name, NULL);
    return cs_str_eq_c(name, "changeOrderState")      ? "OrderStateChanged"
           : cs_str_eq_c(name, "changeShipmentState") ? "OrderShipmentStateChanged"
           : cs_str_eq_c(name, "addDelivery")         ? "DeliveryAdded"
           : cs_str_eq_c(name, "addReturnInfo")       ? "ReturnInfoAdded"
                                                      : NULL;
}

/* The message about the order: OrderCreated carries the order, the others
 * what the action (applied) changed. */
static void emit_message(sb_commercetools *ct, ct_order *o, const char *type, const cs_json *action)
{
    if (!ct->emit || !type) {
        return;
    }
    char id[CS_UUID_STR_LEN];
    cs_uuid_v4(id);
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    w_str(&w, "notificationType", "Message");
    w_str(&w, "projectKey", SB_CT_PROJECT);
    w_str(&w, "id", id);
    w_int(&w, "version", 1);
    w_int(&w, "sequenceNumber", ++o->messages);
    cs_json_write_key_c(&w, "resource");
    cs_json_write_object_begin(&w);
    w_str(&w, "typeId", "order");
    w_str(&w, "id", o->id);
    cs_json_write_object_end(&w);
    w_int(&w, "resourceVersion", o->version);
    cs_json_write_key_c(&w, "resourceUserProvidedIdentifiers");
    cs_json_write_object_begin(&w);
    w_str(&w, "orderNumber", o->number);
    cs_json_write_object_end(&w);
    w_str(&w, "type", type);
    w_time(&w, "createdAt", o->modified_ms);
    w_time(&w, "lastModifiedAt", o->modified_ms);
    if (strcmp(type, "OrderCreated") == 0) {
        cs_json_write_key_c(&w, "order");
        w_order(&w, ct, o);
    } else if (strcmp(type, "OrderStateChanged") == 0) {
        w_str(&w, "orderState", o->state);
    } else if (strcmp(type, "OrderShipmentStateChanged") == 0) {
        w_str(&w, "shipmentState", o->shipment);
    } else {
        /* The action's own body: the delivery or return info it added. */
        cs_json_write_key_c(&w, strcmp(type, "DeliveryAdded") == 0 ? "delivery" : "returnInfo");
        cs_json_write_value(&w, action);
    }
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    ct->emit(ct->emit_user, cs_buf_view(&body));
    cs_buf_clean_up(&body);
}

static const char *apply(const sb_commercetools *ct, ct_order *o, const cs_json *action,
                         const char **code)
{
    cs_str name = CS_STR_NULL, value = CS_STR_NULL;
    cs_json_opt_string(action, "action", &name, NULL);
    if (cs_str_eq_c(name, "setCustomType") || cs_str_eq_c(name, "setCustomField")) {
        return apply_custom(ct, o, action, code);
    }
    if (cs_str_eq_c(name, "changeOrderState") &&
        !cs_json_opt_string(action, "orderState", &value, NULL) && value.len) {
        snprintf(o->state, sizeof(o->state), "%.*s", CS_STR_FMT(value));
    } else if (cs_str_eq_c(name, "changeShipmentState") &&
               !cs_json_opt_string(action, "shipmentState", &value, NULL) && value.len) {
        snprintf(o->shipment, sizeof(o->shipment), "%.*s", CS_STR_FMT(value));
    } else if (cs_str_eq_c(name, "addDelivery")) {
        o->deliveries++;
    } else if (cs_str_eq_c(name, "addReturnInfo")) {
        o->returns++;
    } else {
        return "Unknown or incomplete update action.";
    }
    return NULL;
}

static void update_order(sb_commercetools *ct, ct_order *o, cs_str body, sb_reply *reply)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 4 * 1024 * 1024);
    cs_json *doc = NULL;
    int64_t version = 0;
    const cs_json *actions = NULL;
    if (cs_json_parse(&arena, body, &doc, NULL) ||
        cs_json_get_int64(doc, "version", &version, NULL) ||
        !(actions = cs_json_object_get(doc, CS_STR_LIT("actions"))) ||
        actions->type != CS_JSON_ARRAY) {
        error_reply(reply, 400, "InvalidInput", "An update is {\"version\", \"actions\"}.", 0);
    } else if (version != o->version) {
        char message[200];
        snprintf(message, sizeof(message),
                 "Object %s has a different version than expected. Expected: %lld - Actual: "
                 "%lld.",
                 o->id, (long long)version, (long long)o->version);
        error_reply(reply, 409, "ConcurrentModification", message, o->version);
    } else {
        ct_order changed = *o;
        const char *why = NULL, *code = "InvalidOperation";
        for (const cs_json *a = actions->first; a && !why; a = a->next) {
            why = apply(ct, &changed, a, &code);
        }
        if (why) {
            error_reply(reply, 400, code, why, 0);
        } else {
            changed.version++;
            changed.modified_ms = cs_time_now_ms();
            *o = changed;
            for (const cs_json *a = actions->first; a; a = a->next) {
                emit_message(ct, o, message_type(a), a);
            }
            reply->status = 200;
            cs_json_writer w;
            cs_json_writer_init(&w, &reply->body);
            w_order(&w, ct, o);
            cs_json_writer_finish(&w, NULL);
            cs_json_writer_clean_up(&w);
        }
    }
    cs_arena_clean_up(&arena);
}

void sb_commercetools_place_order(sb_commercetools *ct, sb_reply *reply)
{
    pthread_mutex_lock(&ct->mu);
    ct_order *grown = realloc(ct->orders, (size_t)(ct->count + 1) * sizeof(*grown));
    if (!grown) {
        error_reply(reply, 500, "General", "The sandbox ran out of memory.", 0);
    } else {
        ct->orders = grown;
        ct_order *o = &ct->orders[ct->count];
        make_order(o, ct->count++, cs_time_now_ms());
        emit_message(ct, o, "OrderCreated", NULL);
        reply->status = 201;
        cs_json_writer w;
        cs_json_writer_init(&w, &reply->body);
        w_order(&w, ct, o);
        cs_json_writer_finish(&w, NULL);
        cs_json_writer_clean_up(&w);
    }
    pthread_mutex_unlock(&ct->mu);
}

void sb_commercetools_touch(sb_commercetools *ct, cs_str order_id, sb_reply *reply)
{
    pthread_mutex_lock(&ct->mu);
    ct_order *o = find(ct, order_id);
    if (!o) {
        error_reply(reply, 404, "ResourceNotFound", "The order does not exist.", 0);
    } else {
        o->version++;
        o->modified_ms = cs_time_now_ms();
        reply->status = 200;
        cs_buf_appendf(&reply->body, "{\"version\":%lld}", (long long)o->version);
    }
    pthread_mutex_unlock(&ct->mu);
}

/* ---- inventory ---- */

static void w_entry(cs_json_writer *w, const ct_entry *e)
{
    cs_json_write_object_begin(w);
    w_str(w, "id", e->id);
    w_int(w, "version", e->version);
    w_str(w, "sku", e->sku);
    cs_json_write_key_c(w, "supplyChannel");
    cs_json_write_object_begin(w);
    w_str(w, "typeId", "channel");
    w_str(w, "id", channel_ids[e->channel]);
    cs_json_write_object_end(w);
    w_int(w, "quantityOnStock", e->quantity);
    w_int(w, "availableQuantity", e->quantity);
    w_time(w, "lastModifiedAt", e->modified_ms);
    cs_json_write_object_end(w);
}

static void answer_entry(sb_reply *reply, unsigned status, const ct_entry *e)
{
    reply->status = status;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    w_entry(&w, e);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

/* where=sku="X", optionally and supplyChannel(id="Y"). */
static bool parse_inventory_where(const char *where, char sku[32], char channel[32])
{
    int used = 0;
    channel[0] = '\0';
    if (!where || sscanf(where, "sku=\"%31[^\"]\"%n", sku, &used) != 1) {
        return false;
    }
    const char *rest = where + used;
    if (*rest && (sscanf(rest, " and supplyChannel(id=\"%31[^\"]\")%n", channel, &used) != 1 ||
                  rest[used] != '\0')) {
        return false;
    }
    return true;
}

static void query_inventory(sb_commercetools *ct, const char *where, sb_reply *reply)
{
    char sku[32], channel[32];
    if (!parse_inventory_where(where, sku, channel)) {
        error_reply(reply, 400, "InvalidInput",
                    "The sandbox queries inventory by sku=\"...\" [and supplyChannel(id=\"...\")].",
                    0);
        return;
    }
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "results");
    cs_json_write_array_begin(&w);
    for (int i = 0; i < ct->entry_count; i++) {
        const ct_entry *e = &ct->entries[i];
        if (strcmp(e->sku, sku) == 0 &&
            (!channel[0] || strcmp(channel_ids[e->channel], channel) == 0)) {
            w_entry(&w, e);
        }
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

static int channel_of(const cs_json *reference)
{
    cs_str key = CS_STR_NULL, id = CS_STR_NULL;
    cs_json_opt_string(reference, "key", &key, NULL);
    cs_json_opt_string(reference, "id", &id, NULL);
    for (int c = 0; c < CHANNELS; c++) {
        if (cs_str_eq_c(key, channel_keys[c]) || cs_str_eq_c(id, channel_ids[c])) {
            return c;
        }
    }
    return -1;
}

static ct_entry *add_entry(sb_commercetools *ct, cs_str sku, int channel, int64_t quantity)
{
    ct_entry *e = &ct->entries[ct->entry_count];
    *e = (ct_entry){
        .channel = channel, .version = 1, .quantity = quantity, .modified_ms = cs_time_now_ms()};
    snprintf(e->id, sizeof(e->id), "inv-%04d", ct->entry_count++);
    snprintf(e->sku, sizeof(e->sku), "%.*s", CS_STR_FMT(sku));
    return e;
}

static void create_entry(sb_commercetools *ct, cs_str body, sb_reply *reply)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc = NULL;
    cs_str sku = CS_STR_NULL;
    int64_t quantity = 0;
    int channel = -1;
    if (cs_json_parse(&arena, body, &doc, NULL) || cs_json_get_string(doc, "sku", &sku, NULL) ||
        cs_json_get_int64(doc, "quantityOnStock", &quantity, NULL) || sku.len >= 24 ||
        quantity < 0) {
        error_reply(reply, 400, "InvalidInput",
                    "An inventory draft needs sku, supplyChannel and quantityOnStock.", 0);
    } else if ((channel = channel_of(cs_json_object_get(doc, CS_STR_LIT("supplyChannel")))) < 0) {
        error_reply(reply, 400, "ReferencedResourceNotFound", "The supply channel does not exist.",
                    0);
    } else {
        bool exists = false;
        for (int i = 0; i < ct->entry_count; i++) {
            exists = exists ||
                     (cs_str_eq_c(sku, ct->entries[i].sku) && ct->entries[i].channel == channel);
        }
        if (!exists && ct->races > 0 && ct->entry_count < ENTRIES) {
            /* Another client creates the same entry first. */
            ct->races--;
            add_entry(ct, sku, channel, 1);
            exists = true;
        }
        if (exists || ct->entry_count == ENTRIES) {
            error_reply(reply, 400, "DuplicateField",
                        "An inventory entry for this SKU and channel exists.", 0);
        } else {
            answer_entry(reply, 201, add_entry(ct, sku, channel, quantity));
        }
    }
    cs_arena_clean_up(&arena);
}

static void update_entry(sb_commercetools *ct, ct_entry *e, cs_str body, sb_reply *reply)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc = NULL;
    int64_t version = 0, quantity = -1;
    const cs_json *action = NULL;
    cs_str name = CS_STR_NULL;
    if (cs_json_parse(&arena, body, &doc, NULL) ||
        cs_json_get_int64(doc, "version", &version, NULL) ||
        !(action = cs_json_array_at(cs_json_object_get(doc, CS_STR_LIT("actions")), 0)) ||
        cs_json_get_string(action, "action", &name, NULL) || !cs_str_eq_c(name, "changeQuantity") ||
        cs_json_get_int64(action, "quantity", &quantity, NULL) || quantity < 0) {
        error_reply(reply, 400, "InvalidInput", "The sandbox takes one changeQuantity action.", 0);
        cs_arena_clean_up(&arena);
        return;
    }
    if (ct->races > 0) {
        /* Another client changes the entry between the reader's read and
         * this write. */
        ct->races--;
        e->quantity = e->quantity > 0 ? e->quantity - 1 : 0;
        e->version++;
    }
    if (version != e->version) {
        error_reply(reply, 409, "ConcurrentModification",
                    "Object has a different version than expected.", e->version);
    } else {
        e->quantity = quantity;
        e->version++;
        e->modified_ms = cs_time_now_ms();
        answer_entry(reply, 200, e);
    }
    cs_arena_clean_up(&arena);
}

static bool inventory(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply)
{
    static const char prefix[] = "/" SB_CT_PROJECT "/inventory";
    size_t n = strlen(prefix);
    if (strncmp(req->path, prefix, n) != 0) {
        return false;
    }
    const char *rest = req->path + n;
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (get && !*rest) {
        query_inventory(ct, req->where, reply);
    } else if (post && !*rest) {
        create_entry(ct, req->body, reply);
    } else if (post && *rest == '/') {
        ct_entry *e = NULL;
        for (int i = 0; i < ct->entry_count && !e; i++) {
            e = strcmp(ct->entries[i].id, rest + 1) == 0 ? &ct->entries[i] : NULL;
        }
        if (e) {
            update_entry(ct, e, req->body, reply);
        } else {
            error_reply(reply, 404, "ResourceNotFound", "The inventory entry does not exist.", 0);
        }
    } else {
        return false;
    }
    return true;
}

/* GET /channels/key={key} */
static bool channel(const sb_ct_request *req, sb_reply *reply)
{
    static const char prefix[] = "/" SB_CT_PROJECT "/channels/key=";
    if (strcmp(req->method, "GET") != 0 || strncmp(req->path, prefix, strlen(prefix)) != 0) {
        return false;
    }
    const char *key = req->path + strlen(prefix);
    for (int c = 0; c < CHANNELS; c++) {
        if (strcmp(key, channel_keys[c]) == 0) {
            reply->status = 200;
            cs_buf_appendf(&reply->body,
                           "{\"id\":\"%s\",\"version\":1,\"key\":\"%s\",\"roles\":"
                           "[\"InventorySupply\"]}",
                           channel_ids[c], channel_keys[c]);
            return true;
        }
    }
    error_reply(reply, 404, "ResourceNotFound", "The channel does not exist.", 0);
    return true;
}

void sb_commercetools_inventory(sb_commercetools *ct, sb_reply *reply)
{
    pthread_mutex_lock(&ct->mu);
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "entries");
    cs_json_write_array_begin(&w);
    for (int i = 0; i < ct->entry_count; i++) {
        const ct_entry *e = &ct->entries[i];
        cs_json_write_object_begin(&w);
        w_str(&w, "id", e->id);
        w_str(&w, "sku", e->sku);
        w_str(&w, "channel", channel_keys[e->channel]);
        w_int(&w, "version", e->version);
        w_int(&w, "quantityOnStock", e->quantity);
        cs_json_write_object_end(&w);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    pthread_mutex_unlock(&ct->mu);
}

void sb_commercetools_race(sb_commercetools *ct, int writes)
{
    pthread_mutex_lock(&ct->mu);
    ct->races = writes;
    pthread_mutex_unlock(&ct->mu);
}

/* ---- dispatch ---- */

void sb_commercetools_handle(sb_commercetools *ct, const sb_ct_request *req, sb_reply *reply)
{
    pthread_mutex_lock(&ct->mu);
    static const char orders[] = "/" SB_CT_PROJECT "/orders";
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    const char *path = req->path;
    if (post && strcmp(path, "/oauth/token") == 0) {
        issue_token(ct, req->authorization, req->body, reply);
    } else if (!authorized(ct, req->authorization)) {
        reply->status = 401;
        cs_buf_append_c(&reply->body,
                        "{\"statusCode\":401,\"message\":\"invalid_token\",\"errors\":[{\"code\":"
                        "\"invalid_token\",\"message\":\"invalid_token\"}],\"error\":"
                        "\"invalid_token\"}");
    } else if (inventory(ct, req, reply) || channel(req, reply)) {
        /* answered */
    } else if (get && strcmp(path, orders) == 0) {
        query_orders(ct, req, reply);
    } else if (get && strcmp(path, "/" SB_CT_PROJECT "/product-projections") == 0) {
        query_products(ct, req, reply);
    } else if (get && strcmp(path, "/" SB_CT_PROJECT "/customers") == 0) {
        query_customers(ct, req, reply);
    } else if (get && strcmp(path, "/" SB_CT_PROJECT "/business-units") == 0) {
        query_units(ct, req->where, reply);
    } else if (post && strcmp(path, "/" SB_CT_PROJECT "/types") == 0) {
        create_type(ct, req->body, reply);
    } else if (strncmp(path, orders, strlen(orders)) == 0 && path[strlen(orders)] == '/') {
        ct_order *o = find(ct, cs_str_from_c(path + strlen(orders) + 1));
        if (!o) {
            error_reply(reply, 404, "ResourceNotFound", "The order does not exist.", 0);
        } else if (post) {
            update_order(ct, o, req->body, reply);
        } else {
            reply->status = 200;
            cs_json_writer w;
            cs_json_writer_init(&w, &reply->body);
            w_order(&w, ct, o);
            cs_json_writer_finish(&w, NULL);
            cs_json_writer_clean_up(&w);
        }
    } else {
        error_reply(reply, 404, "ResourceNotFound", "The sandbox does not serve this endpoint.", 0);
    }
    pthread_mutex_unlock(&ct->mu);
}
