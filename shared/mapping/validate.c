#include "validate.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/country.h"

typedef struct check_ctx {
    cs_problems *problems;
    const cs_currency *currency;
    bool failed;
    bool overflow;
    bool mixed; /* an amount in another currency: sums would mean nothing */
} check_ctx;

static void problem(check_ctx *ctx, const char *path, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(check_ctx *ctx, const char *path, const char *rule, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    ctx->failed = true;
    cs_problems_add(ctx->problems, path, rule, "%s", message);
}

/* Checks an amount's currency; absent amounts are fine. */
static void check_money(check_ctx *ctx, const char *path, cs_money m)
{
    if (m.currency && ctx->currency && m.currency != ctx->currency) {
        ctx->mixed = true;
        problem(ctx, path, "currency_mismatch", "amount is in %s, the order in %s",
                m.currency->code, ctx->currency->code);
    }
}

static void check_country(check_ctx *ctx, const char *path, cs_str country)
{
    if (country.len && !cs_country_valid(country)) {
        problem(ctx, path, "iso3166", "'%.*s' is not an ISO 3166-1 alpha-2 code",
                CS_STR_FMT(country));
    }
}

static int64_t add(check_ctx *ctx, int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum)) {
        ctx->overflow = true;
        return 0;
    }
    return sum;
}

static void check_header(check_ctx *ctx, const cs_order *o)
{
    if (o->number.len == 0) {
        problem(ctx, "number", "required", "the order has no number");
    }
    if (o->currency.len == 0) {
        problem(ctx, "currency", "required", "the order has no currency");
    } else if (!ctx->currency) {
        problem(ctx, "currency", "iso4217", "'%.*s' is not an ISO 4217 code",
                CS_STR_FMT(o->currency));
    }
    if (o->line_count == 0) {
        problem(ctx, "lines", "required", "the order has no lines");
    }
    check_country(ctx, "billing.country", o->billing.country);
    check_country(ctx, "shipping.country", o->shipping.country);
}

static bool sku_known(const cs_validate_opts *opts, cs_str sku)
{
    cs_str item;
    return !opts || !opts->sku_table || cs_lookup_find(opts->sku_table, sku, CS_STR_NULL, &item);
}

/* Checks that `count` parts (each an amount at amount_offset within a
 * `stride`-sized item) are in the order currency and add up to `total`. */
static void check_parts(check_ctx *ctx, const char *line_path, const char *list, const void *items,
                        size_t count, size_t stride, size_t amount_offset, cs_money total,
                        const char *total_name, const char *what)
{
    int64_t sum = 0;
    char field[128];
    for (size_t k = 0; k < count; k++) {
        const cs_money *amount =
            (const cs_money *)((const char *)items + k * stride + amount_offset);
        sum = add(ctx, sum, amount->minor_units);
        snprintf(field, sizeof(field), "%s.%s[%zu].amount", line_path, list, k);
        check_money(ctx, field, *amount);
    }
    if (count && sum != total.minor_units) {
        snprintf(field, sizeof(field), "%s.%s", line_path, total_name);
        problem(ctx, field, "line_sums", "%s differs from the sum of its %s", total_name, what);
    }
}

/* Checks one line; returns its amount after its own discounts. */
static int64_t check_line(check_ctx *ctx, const cs_order_line *l, size_t i,
                          const cs_validate_opts *opts, int64_t *discount, int64_t *tax)
{
    char path[32]; /* "lines[N]" with N at most 20 digits */
    snprintf(path, sizeof(path), "lines[%zu]", i);
    char field[128];
    if (l->quantity <= 0) {
        snprintf(field, sizeof(field), "%s.quantity", path);
        problem(ctx, field, "positive", "quantity is %lld", (long long)l->quantity);
    }
    snprintf(field, sizeof(field), "%s.unit_price", path);
    if (!l->unit_price.currency) {
        problem(ctx, field, "required", "the line has no price");
    } else if (l->unit_price.minor_units < 0) {
        problem(ctx, field, "non_negative", "price is negative");
    }
    check_money(ctx, field, l->unit_price);
    snprintf(field, sizeof(field), "%s.sku", path);
    if (l->sku.len == 0 && l->item_code.len == 0) {
        problem(ctx, field, "sku", "the line has neither a SKU nor an item code");
    } else if (l->item_code.len == 0 && !sku_known(opts, l->sku)) {
        problem(ctx, field, "sku_unmapped", "SKU '%.*s' has no item code", CS_STR_FMT(l->sku));
    }
    check_parts(ctx, path, "discounts", l->discounts, l->discount_count,
                sizeof(cs_discount_allocation), offsetof(cs_discount_allocation, amount),
                l->discount, "discount", "allocations");
    check_parts(ctx, path, "tax_lines", l->tax_lines, l->tax_line_count, sizeof(cs_tax_line),
                offsetof(cs_tax_line, amount), l->tax, "tax", "tax lines");
    *discount = l->discount.minor_units;
    *tax = l->tax.minor_units;
    int64_t gross;
    if (__builtin_mul_overflow(l->unit_price.minor_units, l->quantity, &gross)) {
        ctx->overflow = true;
        return 0;
    }
    return gross;
}

typedef struct sums {
    int64_t lines, line_discounts, shipping, shipping_discounts, taxes, order_discounts;
} sums;

static void format_units(const check_ctx *ctx, int64_t units, char out[CS_DECIMAL_MAX])
{
    cs_decimal_format(units, ctx->currency ? ctx->currency->exponent : 0, out);
}

/* A declared total must match what the parts add up to. */
static void compare_total(check_ctx *ctx, const char *path, cs_money declared, int64_t computed,
                          const char *what)
{
    if (!declared.currency || declared.minor_units == computed) {
        return;
    }
    char want[CS_DECIMAL_MAX], got[CS_DECIMAL_MAX];
    format_units(ctx, computed, want);
    format_units(ctx, declared.minor_units, got);
    problem(ctx, path, "totals", "%s add up to %s, but %s is %s", what, want, path, got);
}

static void check_totals(check_ctx *ctx, const cs_order *o, const sums *s)
{
    int64_t taxes = o->taxes_included ? 0 : s->taxes;
    int64_t total = add(ctx, add(ctx, s->lines, -s->line_discounts),
                        add(ctx, add(ctx, s->shipping, -s->shipping_discounts), taxes));
    if (ctx->overflow) {
        problem(ctx, "total", "overflow", "the amounts do not fit in 64-bit minor units");
        return;
    }
    if (o->total.currency && o->total.minor_units != total) {
        char lines[CS_DECIMAL_MAX], disc[CS_DECIMAL_MAX], ship[CS_DECIMAL_MAX];
        char tax[CS_DECIMAL_MAX], want[CS_DECIMAL_MAX], got[CS_DECIMAL_MAX];
        format_units(ctx, s->lines, lines);
        format_units(ctx, s->line_discounts + s->shipping_discounts, disc);
        format_units(ctx, s->shipping, ship);
        format_units(ctx, taxes, tax);
        format_units(ctx, total, want);
        format_units(ctx, o->total.minor_units, got);
        problem(ctx, "total", "totals",
                "lines %s - discounts %s + shipping %s + taxes %s = %s, "
                "but total is %s",
                lines, disc, ship, tax, want, got);
    }
    compare_total(ctx, "subtotal", o->subtotal, s->lines - s->line_discounts,
                  "lines after their discounts");
    compare_total(ctx, "discount_total", o->discount_total,
                  s->line_discounts + s->shipping_discounts, "line and shipping discounts");
    compare_total(ctx, "shipping_total", o->shipping_total, s->shipping, "shipping lines");
    compare_total(ctx, "tax_total", o->tax_total, s->taxes, "line and shipping taxes");
    if (o->discount_count) {
        compare_total(ctx, "discount_total", o->discount_total, s->order_discounts,
                      "order discounts");
    }
}

cs_error cs_validate_order(const cs_order *o, const cs_validate_opts *opts, cs_problems *problems)
{
    check_ctx ctx = {problems, cs_currency_find(o->currency), false, false, false};
    check_header(&ctx, o);
    sums s;
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < o->line_count; i++) {
        int64_t discount, tax;
        s.lines = add(&ctx, s.lines, check_line(&ctx, &o->lines[i], i, opts, &discount, &tax));
        s.line_discounts = add(&ctx, s.line_discounts, discount);
        s.taxes = add(&ctx, s.taxes, tax);
    }
    for (size_t i = 0; i < o->shipping_line_count; i++) {
        const cs_shipping_line *sl = &o->shipping_lines[i];
        char path[64];
        snprintf(path, sizeof(path), "shipping_lines[%zu].price", i);
        check_money(&ctx, path, sl->price);
        s.shipping = add(&ctx, s.shipping, sl->price.minor_units);
        s.shipping_discounts = add(&ctx, s.shipping_discounts, sl->discount.minor_units);
        s.taxes = add(&ctx, s.taxes, sl->tax.minor_units);
    }
    for (size_t i = 0; i < o->discount_count; i++) {
        s.order_discounts = add(&ctx, s.order_discounts, o->discounts[i].amount.minor_units);
    }
    check_money(&ctx, "total", o->total);
    check_money(&ctx, "subtotal", o->subtotal);
    check_money(&ctx, "discount_total", o->discount_total);
    check_money(&ctx, "shipping_total", o->shipping_total);
    check_money(&ctx, "tax_total", o->tax_total);
    if (ctx.currency && o->line_count && !ctx.mixed) {
        check_totals(&ctx, o, &s);
    }
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

cs_error cs_order_allocate_discount(cs_order *order, cs_str code, cs_money amount, cs_arena *arena)
{
    size_t n = order->line_count;
    if (n == 0) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    int64_t *weights = cs_arena_calloc(arena, n, sizeof(int64_t));
    int64_t *shares = cs_arena_calloc(arena, n, sizeof(int64_t));
    if (!weights || !shares) {
        return CS_ERR_ARENA_FULL;
    }
    for (size_t i = 0; i < n; i++) {
        cs_order_line *l = &order->lines[i];
        if (l->unit_price.currency != amount.currency) {
            return CS_ERR_CURRENCY_MISMATCH;
        }
        int64_t gross;
        if (__builtin_mul_overflow(l->unit_price.minor_units, l->quantity, &gross) ||
            __builtin_sub_overflow(gross, l->discount.minor_units, &weights[i])) {
            return CS_ERR_OVERFLOW;
        }
        weights[i] = weights[i] > 0 ? weights[i] : 0;
    }
    cs_error result = cs_money_allocate(amount.minor_units, weights, n, shares);
    for (size_t i = 0; !result && i < n; i++) {
        if (shares[i] == 0) {
            continue;
        }
        cs_order_line *l = &order->lines[i];
        cs_discount_allocation *grown =
            cs_arena_alloc(arena, (l->discount_count + 1) * sizeof(*grown));
        if (!grown) {
            return CS_ERR_ARENA_FULL;
        }
        if (l->discount_count) {
            memcpy(grown, l->discounts, l->discount_count * sizeof(*grown));
        }
        grown[l->discount_count].code = code;
        grown[l->discount_count].amount = (cs_money){shares[i], amount.currency};
        l->discounts = grown;
        l->discount_count++;
        if (__builtin_add_overflow(l->discount.minor_units, shares[i], &l->discount.minor_units)) {
            return CS_ERR_OVERFLOW;
        }
        l->discount.currency = amount.currency;
    }
    return result;
}
