#include "order.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timestamp.h"

enum { CUST_PO_MAX = 20 };

static const int64_t DAY_MS = 86400000;

static uint64_t fnv1a(cs_str text, uint64_t h)
{
    for (size_t i = 0; i < text.len; i++) {
        h = (h ^ (unsigned char)text.ptr[i]) * 1099511628211ull;
    }
    return h;
}

static void base36(uint64_t n, char out[16])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char reversed[16];
    size_t len = 0;
    do {
        reversed[len++] = digits[n % 36];
        n /= 36;
    } while (n);
    for (size_t i = 0; i < len; i++) {
        out[i] = reversed[len - 1 - i];
    }
    out[len] = '\0';
}

/* A return's id, short: a storefront's numeric id in base 36 (Shopify's
 * twelve-digit refund ids take eight characters), any other id as 40 bits
 * of its FNV-1a hash in base 36 (at most eight). */
static void return_token(cs_str id, char out[16])
{
    uint64_t n = 0;
    bool numeric = id.len > 0 && id.len <= 19;
    for (size_t i = 0; i < id.len && numeric; i++) {
        numeric = id.ptr[i] >= '0' && id.ptr[i] <= '9';
        n = n * 10 + (uint64_t)(id.ptr[i] - '0');
    }
    base36(numeric ? n : fnv1a(id, 14695981039346656037ull) >> 24, out);
}

void cs_exactmax_cust_id(cs_str prefix, cs_str source_key, char out[16])
{
    char digits[16], padded[9] = "00000000";
    base36(fnv1a(source_key, 14695981039346656037ull) >> 23, digits); /* 36^8 > 2^41 */
    size_t len = strlen(digits);
    memcpy(padded + 8 - len, digits, len);
    size_t head = prefix.len < 3 ? prefix.len : 3;
    memcpy(out, prefix.ptr, head);
    memcpy(out + head, padded, sizeof(padded));
}

cs_error cs_exactmax_cust_po(cs_str store_code, cs_str order_number, cs_str return_id, char out[41],
                             cs_diag *diag)
{
    cs_str number = order_number;
    while (number.len && (number.ptr[0] == '#' || number.ptr[0] == ' ')) {
        number = cs_str_sub(number, 1, number.len - 1);
    }
    char token[16];
    return_token(return_id, token);
    int n =
        return_id.len
            ? snprintf(out, 41, "%.*s-%.*s-R%s", CS_STR_FMT(store_code), CS_STR_FMT(number), token)
            : snprintf(out, 41, "%.*s-%.*s", CS_STR_FMT(store_code), CS_STR_FMT(number));
    if (return_id.len && number.len && store_code.len && (n < 0 || n > CUST_PO_MAX)) {
        /* Too long to read (commercetools' store keys and order numbers):
         * "R-" and 64 bits of the whole PO's hash, the same on every retry. */
        base36(
            fnv1a(cs_str_make(out, n < 0 ? 0 : (size_t)(n < 40 ? n : 40)), 14695981039346656037ull),
            token);
        n = snprintf(out, 41, "R-%s", token);
    }
    if (number.len == 0 || store_code.len == 0 || n < 0 || n > CUST_PO_MAX) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "customer PO '%.40s' is empty or longer than MAX's %d characters "
                           "(CUSTPO_27)",
                           out, CUST_PO_MAX);
    }
    return CS_ERR_OK;
}

/* ---- writing ---- */

static void w_str(cs_json_writer *w, const char *key, cs_str value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string(w, value);
}

static void w_amount(cs_json_writer *w, const char *key, int64_t units, const cs_currency *c)
{
    char text[CS_DECIMAL_MAX];
    cs_decimal_format(units, c ? c->exponent : 2, text);
    w_str(w, key, cs_str_from_c(text));
}

static void w_quantity(cs_json_writer *w, int64_t quantity)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)quantity);
    w_str(w, "qty", cs_str_from_c(text));
}

static void w_date(cs_json_writer *w, const char *key, int64_t ms)
{
    char text[CS_TIME_RFC3339_MAX];
    if (cs_time_format_rfc3339(ms, 0, text) == CS_ERR_OK) {
        w_str(w, key, cs_str_from_c(text));
    }
}

/* The ship-to name: the person, or the company when there is no person. */
static void w_ship_to(cs_json_writer *w, const cs_address *a)
{
    char name[160];
    snprintf(name, sizeof(name), "%.*s%s%.*s", CS_STR_FMT(a->first_name),
             a->first_name.len && a->last_name.len ? " " : "", CS_STR_FMT(a->last_name));
    cs_json_write_key_c(w, "shipTo");
    cs_json_write_object_begin(w);
    w_str(w, "name", name[0] ? cs_str_from_c(name) : a->company);
    w_str(w, "addr1", a->line1);
    w_str(w, "addr2", a->line2);
    if (name[0] && a->company.len) {
        w_str(w, "addr3", a->company);
    }
    w_str(w, "city", a->city);
    w_str(w, "state", a->region);
    w_str(w, "zipCd", a->postal_code);
    w_str(w, "cntry", a->country);
    cs_json_write_object_end(w);
}

typedef struct line_writer {
    cs_json_writer *w;
    const cs_exactmax_order_opts *opts;
    const cs_currency *currency;
    int64_t due_ms;
    int number; /* LINNUM of the last line written */
} line_writer;

static void w_line(line_writer *lw, cs_str part, int64_t quantity, int64_t price, cs_str unit)
{
    cs_json_writer *w = lw->w;
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "linNum");
    cs_json_write_int64(w, ++lw->number);
    w_str(w, "prtNum", part);
    w_quantity(w, quantity);
    w_amount(w, "price", price, lw->currency);
    w_str(w, "stk", lw->opts->stockroom);
    w_date(w, "dueDate", lw->due_ms);
    w_str(w, "slsUom", unit.len ? unit : CS_STR_LIT("EA"));
    cs_json_write_object_end(w);
}

/* Discount (negative) and freight as lines, or as the header's fields. */
static void w_charges(line_writer *lw, int64_t discount, int64_t freight)
{
    if (lw->opts->charges != CS_EXACTMAX_CHARGES_AS_LINES) {
        return;
    }
    if (discount) {
        w_line(lw, lw->opts->discount_part, 1, -discount, CS_STR_NULL);
    }
    if (freight) {
        w_line(lw, lw->opts->freight_part, 1, freight, CS_STR_NULL);
    }
}

static void w_header_charges(cs_json_writer *w, const cs_exactmax_order_opts *opts,
                             int64_t discount, int64_t freight, const cs_currency *c)
{
    if (opts->charges == CS_EXACTMAX_CHARGES_ON_HEADER) {
        w_amount(w, "discount", discount, c);
        w_amount(w, "freight", freight, c);
    }
}

static void w_head(cs_json_writer *w, const cs_order *o, const cs_exactmax_order_opts *opts,
                   const char *cust_po, const char *type)
{
    w_str(w, "custId", opts->cust_id);
    w_str(w, "custPo", cs_str_from_c(cust_po));
    w_str(w, "ordId", o->ids.by_system[o->meta.source]);
    w_str(w, "sType", cs_str_from_c(type));
    w_date(w, "ordDte", o->created_at_ms);
    w_str(w, "shpVia", opts->ship_via);
    w_str(w, "terms", opts->terms);
    w_str(w, "taxCd1", opts->tax_code);
    w_str(w, "curr", o->currency);
    w_ship_to(w, &o->shipping);
}

/* ---- checks ---- */

static bool check_opts(const cs_exactmax_order_opts *opts, cs_problems *problems)
{
    bool ok = opts->cust_id.len && opts->stockroom.len;
    if (!ok) {
        cs_problems_add(problems, "", "config", "a MAX order needs a customer id and a stockroom");
    }
    if (opts->charges == CS_EXACTMAX_CHARGES_AS_LINES &&
        (!opts->discount_part.len || !opts->freight_part.len)) {
        cs_problems_add(problems, "", "config",
                        "charges as lines need the discount and freight part numbers");
        ok = false;
    }
    return ok;
}

static bool check_lines(const cs_order *o, cs_problems *problems)
{
    bool ok = o->line_count > 0;
    if (!ok) {
        cs_problems_add(problems, "lines", "required", "the order has no lines");
    }
    for (size_t i = 0; i < o->line_count; i++) {
        char path[48];
        if (o->lines[i].item_code.len == 0) {
            snprintf(path, sizeof(path), "lines[%zu].item_code", i);
            cs_problems_add(problems, path, "unknown_part",
                            "SKU '%.*s' has no MAX part number (PRTNUM); map it in the SKU table",
                            CS_STR_FMT(o->lines[i].sku));
            ok = false;
        }
        if (o->lines[i].quantity <= 0) {
            snprintf(path, sizeof(path), "lines[%zu].quantity", i);
            cs_problems_add(problems, path, "quantity", "a MAX line orders 1 or more");
            ok = false;
        }
    }
    return ok;
}

static cs_error finish(cs_json_writer *w, cs_buf *scratch, cs_buf *out, cs_problems *problems)
{
    cs_diag diag;
    cs_error r = cs_json_writer_finish(w, &diag);
    cs_json_writer_clean_up(w);
    if (r) {
        cs_problems_add(problems, "", "json", "%s", diag.message);
    } else {
        r = cs_buf_append_str(out, cs_buf_view(scratch));
    }
    cs_buf_clean_up(scratch);
    return r;
}

/* ---- orders ---- */

cs_error cs_exactmax_order_encode(const cs_order *o, const cs_exactmax_order_opts *opts,
                                  cs_buf *out, cs_problems *problems)
{
    char cust_po[41];
    cs_diag diag;
    bool ok = check_opts(opts, problems);
    ok = check_lines(o, problems) && ok;
    if (cs_exactmax_cust_po(o->store_code, o->number, CS_STR_NULL, cust_po, &diag)) {
        cs_problems_add(problems, "number", "cust_po", "%s", diag.message);
        ok = false;
    }
    if (!ok) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    const cs_currency *c = cs_currency_find(o->currency);
    int64_t discount = o->discount_total.minor_units;
    int64_t freight = o->shipping_total.minor_units;
    for (size_t i = 0; i < o->shipping_line_count; i++) {
        freight -= o->shipping_lines[i].discount.minor_units;
        discount -= o->shipping_lines[i].discount.minor_units;
    }
    /* Written aside first: a failure leaves out untouched. */
    cs_buf scratch;
    cs_buf_init(&scratch, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &scratch);
    cs_json_write_object_begin(&w);
    w_head(&w, o, opts, cust_po, "CU");
    w_header_charges(&w, opts, discount, freight, c);
    cs_json_write_key_c(&w, "lines");
    cs_json_write_array_begin(&w);
    line_writer lw = {&w, opts, c, o->created_at_ms + opts->due_days * DAY_MS, 0};
    for (size_t i = 0; i < o->line_count; i++) {
        const cs_order_line *l = &o->lines[i];
        w_line(&lw, l->item_code, l->quantity, l->unit_price.minor_units, l->unit);
    }
    w_charges(&lw, discount, freight);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    return finish(&w, &scratch, out, problems);
}

/* ---- credit memos ---- */

static const cs_order_line *original_line(const cs_order *o, const cs_return_line *r)
{
    for (size_t i = 0; i < o->line_count; i++) {
        if (r->line_id.len ? cs_str_eq(o->lines[i].line_id, r->line_id)
                           : cs_str_eq(o->lines[i].sku, r->sku)) {
            return &o->lines[i];
        }
    }
    return NULL;
}

static bool check_return(const cs_return *ret, const cs_order *o, cs_problems *problems)
{
    bool ok = ret->line_count > 0 || ret->shipping_refund.minor_units > 0;
    if (!ok) {
        cs_problems_add(problems, "lines", "required", "the return credits nothing");
    }
    for (size_t i = 0; i < ret->line_count; i++) {
        const cs_order_line *l = original_line(o, &ret->lines[i]);
        char path[48];
        snprintf(path, sizeof(path), "lines[%zu]", i);
        if (!l || l->item_code.len == 0) {
            cs_problems_add(problems, path, "unknown_part",
                            "line '%.*s' (SKU '%.*s') is not on the order with a MAX part number",
                            CS_STR_FMT(ret->lines[i].line_id), CS_STR_FMT(ret->lines[i].sku));
            ok = false;
        } else if (ret->lines[i].quantity <= 0 || ret->lines[i].amount.minor_units < 0) {
            cs_problems_add(problems, path, "quantity",
                            "a credited line has 1 or more units and an amount of 0 or more");
            ok = false;
        }
    }
    return ok;
}

/* The refunded amount over the units, exactly: n-1 units at the floor and
 * one at the rest when it does not divide. */
static void w_credit_line(line_writer *lw, const cs_order_line *l, const cs_return_line *r)
{
    int64_t each = r->amount.minor_units / r->quantity;
    int64_t rest = r->amount.minor_units - each * r->quantity;
    if (rest == 0) {
        w_line(lw, l->item_code, r->quantity, each, l->unit);
        return;
    }
    if (r->quantity > 1) {
        w_line(lw, l->item_code, r->quantity - 1, each, l->unit);
    }
    w_line(lw, l->item_code, 1, each + rest, l->unit);
}

cs_error cs_exactmax_credit_memo_encode(const cs_return *ret, const cs_order *o,
                                        const cs_exactmax_order_opts *opts, cs_buf *out,
                                        cs_problems *problems)
{
    char cust_po[41];
    cs_diag diag;
    bool ok = check_opts(opts, problems);
    ok = check_return(ret, o, problems) && ok;
    if (cs_exactmax_cust_po(o->store_code, o->number, ret->meta.source_id, cust_po, &diag)) {
        cs_problems_add(problems, "number", "cust_po", "%s", diag.message);
        ok = false;
    }
    if (!ok) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    const cs_currency *c = cs_currency_find(o->currency);
    cs_buf scratch;
    cs_buf_init(&scratch, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &scratch);
    cs_json_write_object_begin(&w);
    w_head(&w, o, opts, cust_po, "CR");
    w_str(&w, "reason", ret->reason);
    w_header_charges(&w, opts, 0, ret->shipping_refund.minor_units, c);
    cs_json_write_key_c(&w, "lines");
    cs_json_write_array_begin(&w);
    line_writer lw = {&w, opts, c, ret->created_at_ms, 0};
    for (size_t i = 0; i < ret->line_count; i++) {
        w_credit_line(&lw, original_line(o, &ret->lines[i]), &ret->lines[i]);
    }
    w_charges(&lw, 0, ret->shipping_refund.minor_units);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    return finish(&w, &scratch, out, problems);
}
