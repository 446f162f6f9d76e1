#include "records.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "mapping/identity.h"

typedef struct decode_ctx {
    cs_arena *arena;
    cs_problems *problems;
    const char *prefix; /* "lines[2]." for a line's fields, "" at the top */
    bool failed;
} decode_ctx;

static void problem(decode_ctx *ctx, const char *field, const char *rule, const char *message)
{
    char path[96];
    snprintf(path, sizeof(path), "%s%s", ctx->prefix, field);
    cs_problems_add(ctx->problems, path, rule, "%s", message);
    ctx->failed = true;
}

static cs_str text(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

static cs_str required(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    cs_str v = text(obj, key);
    if (v.len == 0) {
        problem(ctx, key, "required", "missing");
    }
    return v;
}

static int64_t time_of(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    int64_t ms = 0;
    cs_diag diag;
    cs_str t = text(obj, key);
    if (t.len && cs_time_parse_rfc3339(t, &ms, NULL, &diag)) {
        problem(ctx, key, "rfc3339", diag.message);
    }
    return ms;
}

/* MAX quantities are decimals ("2.0000"); the canonical ones are whole. */
static int64_t quantity_of(decode_ctx *ctx, const cs_json *obj, const char *key)
{
    int64_t scaled = 0;
    cs_diag diag;
    cs_str t = text(obj, key);
    if (t.len == 0 || cs_decimal_parse(t, 4, &scaled, &diag)) {
        problem(ctx, key, "quantity", t.len ? diag.message : "missing");
    } else if (scaled % 10000 != 0) {
        problem(ctx, key, "quantity", "a fraction of a unit cannot be synced");
    }
    return scaled / 10000;
}

static cs_money money_of(decode_ctx *ctx, const cs_json *obj, const char *key, const cs_currency *c)
{
    cs_money m = {0, c};
    cs_diag diag;
    cs_str t = text(obj, key);
    if (c && t.len && cs_decimal_parse(t, c->exponent, &m.minor_units, &diag)) {
        problem(ctx, key, "money", diag.message);
    }
    return m;
}

static void set_meta(decode_ctx *ctx, const cs_json *obj, cs_str id, const char *kind,
                     cs_record_meta *meta)
{
    meta->source = CS_SYS_EXACTMAX;
    meta->source_id = id;
    meta->source_version = text(obj, "rowVersion");
    meta->updated_at_ms = time_of(ctx, obj, "modifiedDate");
    meta->correlation_id =
        cs_str_from_c(cs_arena_sprintf(ctx->arena, "exactmax:%s:%.*s", kind, CS_STR_FMT(id)));
}

static cs_error done(decode_ctx *ctx, const cs_json *obj)
{
    if (!obj || obj->type != CS_JSON_OBJECT) {
        cs_problems_add(ctx->problems, "", "type", "expected a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    return ctx->failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

/* ---- customers ---- */

static void customer_address(const cs_json *c, cs_address *a)
{
    a->company = text(c, "name");
    a->line1 = text(c, "addr1");
    a->line2 = text(c, "addr2");
    a->city = text(c, "city");
    a->region = text(c, "state");
    a->postal_code = text(c, "zipCd");
    a->country = text(c, "cntry");
    a->phone = text(c, "phone");
}

cs_error cs_exactmax_customer_decode(const cs_json *c, cs_arena *arena, cs_customer *out,
                                     cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!c || c->type != CS_JSON_OBJECT) {
        return done(&ctx, c);
    }
    cs_str id = required(&ctx, c, "custId");
    set_meta(&ctx, c, id, "customer", &out->meta);
    out->ids.by_system[CS_SYS_EXACTMAX] = id;
    out->account_code = id;
    out->b2b = true;
    out->company = text(c, "name");
    /* The contact is one name; its last word is taken as the family name. */
    cs_str contact = cs_str_trim(text(c, "cntct"));
    long space = -1;
    for (long at; (at = cs_str_find_char(contact, ' ', (size_t)(space + 1))) >= 0;) {
        space = at;
    }
    out->first_name = space > 0 ? cs_str_trim(cs_str_sub(contact, 0, (size_t)space)) : contact;
    out->last_name = space > 0
                         ? cs_str_sub(contact, (size_t)space + 1, contact.len - (size_t)space - 1)
                         : CS_STR_NULL;
    out->phone = text(c, "phone");
    out->email = cs_normalize_email(text(c, "email"), arena);
    out->addresses = cs_arena_calloc(arena, 1, sizeof(cs_address));
    if (out->addresses) {
        customer_address(c, out->addresses);
        out->address_count = 1;
    }
    return done(&ctx, c);
}

static void put_field(cs_json_writer *w, const char *key, cs_str value)
{
    cs_str v = cs_str_trim(value);
    if (v.len) {
        cs_json_write_key_c(w, key);
        cs_json_write_string(w, v);
    }
}

void cs_exactmax_customer_encode(const cs_customer *c, const cs_exactmax_account_opts *new_account,
                                 cs_json_writer *w)
{
    char person[160];
    snprintf(person, sizeof(person), "%.*s%s%.*s", CS_STR_FMT(c->first_name),
             c->first_name.len && c->last_name.len ? " " : "", CS_STR_FMT(c->last_name));
    const cs_address *a = c->address_count ? &c->addresses[0] : NULL;
    cs_json_write_object_begin(w);
    put_field(w, "name", c->company.len ? c->company : cs_str_from_c(person));
    put_field(w, "cntct", cs_str_from_c(person));
    put_field(w, "email", c->email);
    put_field(w, "phone", c->phone.len || !a ? c->phone : a->phone);
    if (a) {
        put_field(w, "addr1", a->line1);
        put_field(w, "addr2", a->line2);
        put_field(w, "city", a->city);
        put_field(w, "state", a->region);
        put_field(w, "zipCd", a->postal_code);
        put_field(w, "cntry", a->country);
    }
    if (new_account) {
        put_field(w, "terms", new_account->terms);
        put_field(w, "shpVia", new_account->ship_via);
        put_field(w, "curr", new_account->currency);
    }
    cs_json_write_object_end(w);
}

/* ---- parts ---- */

/* The canonical price for the row's list and currency, made if new. */
static cs_price *price_for(cs_product *out, size_t capacity, cs_str list, cs_str curr)
{
    for (size_t i = 0; i < out->price_count; i++) {
        if (cs_str_eq(out->prices[i].price_list, list) &&
            cs_str_eq(out->prices[i].currency, curr)) {
            return &out->prices[i];
        }
    }
    if (out->price_count == capacity) {
        return NULL;
    }
    cs_price *p = &out->prices[out->price_count++];
    p->price_list = list;
    p->currency = curr;
    return p;
}

static void part_price(decode_ctx *ctx, const cs_json *row, size_t capacity, cs_product *out)
{
    cs_str curr = text(row, "curr");
    const cs_currency *c = cs_currency_find(curr);
    if (!c) {
        problem(ctx, "curr", "iso4217", "missing or not an ISO 4217 code");
        return;
    }
    cs_price *p = price_for(out, capacity, text(row, "priceList"), curr);
    int64_t min = quantity_of(ctx, row, "minQty");
    cs_money amount = money_of(ctx, row, "price", c);
    if (!p) {
        return;
    }
    if (min <= 1) {
        p->amount = amount;
        return;
    }
    cs_price_tier *tiers = cs_arena_calloc(ctx->arena, p->tier_count + 1, sizeof(*tiers));
    if (tiers) {
        if (p->tier_count) {
            memcpy(tiers, p->tiers, p->tier_count * sizeof(*tiers));
        }
        tiers[p->tier_count++] = (cs_price_tier){min, amount};
        p->tiers = tiers;
    }
}

cs_error cs_exactmax_part_decode(const cs_json *part, cs_arena *arena, cs_product *out,
                                 cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!part || part->type != CS_JSON_OBJECT) {
        return done(&ctx, part);
    }
    cs_str id = required(&ctx, part, "prtNum");
    set_meta(&ctx, part, id, "part", &out->meta);
    out->ids.by_system[CS_SYS_EXACTMAX] = id;
    out->item_code = id;
    out->title = text(part, "pmDes1");
    out->unit = text(part, "slsUom");
    out->active = !cs_str_eq_c(text(part, "type"), "N");
    const cs_json *prices = cs_json_object_get(part, CS_STR_LIT("prices"));
    size_t n = prices && prices->type == CS_JSON_ARRAY ? prices->count : 0;
    out->prices = n ? cs_arena_calloc(arena, n, sizeof(cs_price)) : NULL;
    size_t i = 0;
    for (const cs_json *row = out->prices ? prices->first : NULL; row; row = row->next, i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "prices[%zu].", i);
        ctx.prefix = prefix;
        part_price(&ctx, row, n, out);
        ctx.prefix = "";
    }
    return done(&ctx, part);
}

/* ---- stock ---- */

cs_error cs_exactmax_stock_decode(const cs_json *item, cs_arena *arena, cs_stock_level *out,
                                  cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!item || item->type != CS_JSON_OBJECT) {
        return done(&ctx, item);
    }
    out->item_code = required(&ctx, item, "prtNum");
    out->location = required(&ctx, item, "stk");
    cs_str key = cs_str_from_c(cs_arena_sprintf(arena, "%.*s@%.*s", CS_STR_FMT(out->item_code),
                                                CS_STR_FMT(out->location)));
    set_meta(&ctx, item, key, "stock", &out->meta);
    out->on_hand = quantity_of(&ctx, item, "qtyOh");
    out->available = out->on_hand;
    out->at_ms = out->meta.updated_at_ms;
    return done(&ctx, item);
}

/* ---- shipments ---- */

static void shipment_lines(decode_ctx *ctx, const cs_json *lines, cs_shipment *out)
{
    size_t n = lines && lines->type == CS_JSON_ARRAY ? lines->count : 0;
    out->lines = n ? cs_arena_calloc(ctx->arena, n, sizeof(cs_shipment_line)) : NULL;
    out->line_count = out->lines ? n : 0;
    if (n == 0) {
        problem(ctx, "lines", "required", "a shipment ships at least one line");
    }
    size_t i = 0;
    for (const cs_json *l = out->lines ? lines->first : NULL; l; l = l->next, i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "lines[%zu].", i);
        ctx->prefix = prefix;
        out->lines[i].line_id = required(ctx, l, "linNum");
        out->lines[i].item_code = required(ctx, l, "prtNum");
        out->lines[i].quantity = quantity_of(ctx, l, "shpQty");
        ctx->prefix = "";
    }
}

cs_error cs_exactmax_shipment_decode(const cs_json *s, cs_arena *arena, cs_shipment *out,
                                     cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!s || s->type != CS_JSON_OBJECT) {
        return done(&ctx, s);
    }
    set_meta(&ctx, s, required(&ctx, s, "shipmentId"), "shipment", &out->meta);
    out->order_ids.by_system[CS_SYS_EXACTMAX] = required(&ctx, s, "ordNum");
    out->order_number = required(&ctx, s, "custPo");
    out->status = CS_STR_LIT("shipped");
    out->carrier = text(s, "carrier");
    out->tracking_number = text(s, "tracking");
    out->shipped_at_ms = time_of(&ctx, s, "shpDte");
    shipment_lines(&ctx, cs_json_object_get(s, CS_STR_LIT("lines")), out);
    return done(&ctx, s);
}

/* ---- credit memos ---- */

static void credit_lines(decode_ctx *ctx, const cs_json *lines, const cs_currency *c,
                         cs_return *out)
{
    size_t n = lines && lines->type == CS_JSON_ARRAY ? lines->count : 0;
    out->lines = n ? cs_arena_calloc(ctx->arena, n, sizeof(cs_return_line)) : NULL;
    out->line_count = out->lines ? n : 0;
    out->total = (cs_money){0, c};
    size_t i = 0;
    for (const cs_json *l = out->lines ? lines->first : NULL; l; l = l->next, i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "lines[%zu].", i);
        ctx->prefix = prefix;
        cs_return_line *r = &out->lines[i];
        r->line_id = required(ctx, l, "linNum");
        r->item_code = required(ctx, l, "prtNum");
        r->quantity = quantity_of(ctx, l, "qty");
        cs_money price = money_of(ctx, l, "price", c);
        r->amount = (cs_money){price.minor_units * r->quantity, c};
        out->total.minor_units += r->amount.minor_units;
        ctx->prefix = "";
    }
}

cs_error cs_exactmax_credit_memo_decode(const cs_json *o, cs_arena *arena, cs_return *out,
                                        cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!o || o->type != CS_JSON_OBJECT) {
        return done(&ctx, o);
    }
    cs_str id = required(&ctx, o, "ordNum");
    set_meta(&ctx, o, id, "credit_memo", &out->meta);
    out->ids.by_system[CS_SYS_EXACTMAX] = id;
    if (!cs_str_eq_c(text(o, "sType"), "CR")) {
        problem(&ctx, "sType", "credit_memo", "a credit memo has sType CR");
    }
    out->kind = CS_STR_LIT("credit_note");
    out->order_number = text(o, "custPo");
    out->reason = text(o, "reason");
    out->currency = text(o, "curr");
    const cs_currency *c = cs_currency_find(out->currency);
    if (!c) {
        problem(&ctx, "curr", "iso4217", "missing or not an ISO 4217 code");
    }
    out->created_at_ms = time_of(&ctx, o, "ordDte");
    credit_lines(&ctx, cs_json_object_get(o, CS_STR_LIT("lines")), c, out);
    return done(&ctx, o);
}

/* ---- invoices ---- */

cs_error cs_exactmax_invoice_decode(const cs_json *inv, cs_arena *arena, cs_exactmax_invoice *out,
                                    cs_problems *problems)
{
    decode_ctx ctx = {arena, problems, "", false};
    memset(out, 0, sizeof(*out));
    if (!inv || inv->type != CS_JSON_OBJECT) {
        return done(&ctx, inv);
    }
    out->invoice_number = required(&ctx, inv, "invce");
    out->order_number = required(&ctx, inv, "ordNum");
    out->cust_po = required(&ctx, inv, "custPo");
    out->created_at_ms = time_of(&ctx, inv, "creationDate");
    const cs_currency *c = cs_currency_find(text(inv, "curr"));
    if (!c) {
        problem(&ctx, "curr", "iso4217", "missing or not an ISO 4217 code");
    }
    out->total = money_of(&ctx, inv, "total", c);
    return done(&ctx, inv);
}
