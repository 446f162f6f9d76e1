#include "money.h"

#include <stdbool.h>
#include <string.h>

/* ISO 4217 list one (current and recently withdrawn codes still found in
 * historical orders), grouped by minor-unit exponent. */
static const cs_currency currencies[] = {
    {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0},
    {"PYG", 0}, {"RWF", 0}, {"UGX", 0}, {"UYI", 0}, {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0},
    {"XPF", 0}, {"BHD", 3}, {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"TND", 3},
    {"CLF", 4}, {"UYW", 4}, {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2},
    {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BMD", 2},
    {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CNY", 2}, {"COP", 2},
    {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DKK", 2}, {"DOP", 2},
    {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2},
    {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2},
    {"HRK", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IRR", 2}, {"JMD", 2},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KPW", 2}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2},
    {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2},
    {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2},
    {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"QAR", 2}, {"RON", 2},
    {"RSD", 2}, {"RUB", 2}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2},
    {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
    {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"USD", 2}, {"USN", 2}, {"UYU", 2}, {"UZS", 2}, {"VED", 2},
    {"VES", 2}, {"WST", 2}, {"XCD", 2}, {"XCG", 2}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

const cs_currency *cs_currency_find(cs_str code)
{
    if (code.len != 3) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        if (memcmp(currencies[i].code, code.ptr, 3) == 0) {
            return &currencies[i];
        }
    }
    return NULL;
}

/* The pieces of a decimal literal: digits are the integer part followed by
 * the fraction part, the value being digits * 10^(exp10 - frac_len). */
typedef struct decimal_parts {
    bool negative;
    const char *digits_int;
    size_t int_len;
    const char *digits_frac;
    size_t frac_len;
    int64_t exp10;
} decimal_parts;

/* Exponents beyond this only matter for zero, and zero is exact anyway. */
enum { EXP10_SATURATE = 1000000 };

static size_t count_digits(cs_str t, size_t i)
{
    size_t start = i;
    while (i < t.len && t.ptr[i] >= '0' && t.ptr[i] <= '9') {
        i++;
    }
    return i - start;
}

static cs_error syntax_error(cs_str t, size_t at, const char *what, cs_diag *diag)
{
    cs_diag_set(diag, CS_ERR_DECIMAL_SYNTAX, "malformed decimal '%.*s' at byte %zu: %s",
                (int)(t.len > 40 ? 40 : t.len), t.ptr ? t.ptr : "", at, what);
    cs_diag_set_offset(diag, at);
    return CS_ERR_DECIMAL_SYNTAX;
}

static cs_error split_decimal(cs_str t, decimal_parts *p, cs_diag *diag)
{
    size_t i = 0;
    memset(p, 0, sizeof(*p));
    if (i < t.len && t.ptr[i] == '-') {
        p->negative = true;
        i++;
    }
    p->digits_int = t.ptr + i;
    p->int_len = count_digits(t, i);
    if (p->int_len == 0) {
        return syntax_error(t, i, "expected a digit", diag);
    }
    i += p->int_len;
    if (i < t.len && t.ptr[i] == '.') {
        i++;
        p->digits_frac = t.ptr + i;
        p->frac_len = count_digits(t, i);
        if (p->frac_len == 0) {
            return syntax_error(t, i, "expected a digit after '.'", diag);
        }
        i += p->frac_len;
    }
    if (i < t.len && (t.ptr[i] == 'e' || t.ptr[i] == 'E')) {
        i++;
        bool exp_negative = false;
        if (i < t.len && (t.ptr[i] == '+' || t.ptr[i] == '-')) {
            exp_negative = t.ptr[i] == '-';
            i++;
        }
        if (count_digits(t, i) == 0) {
            return syntax_error(t, i, "expected a digit in the exponent", diag);
        }
        for (; i < t.len && t.ptr[i] >= '0' && t.ptr[i] <= '9'; i++) {
            if (p->exp10 < EXP10_SATURATE) {
                p->exp10 = p->exp10 * 10 + (t.ptr[i] - '0');
            }
        }
        if (exp_negative) {
            p->exp10 = -p->exp10;
        }
    }
    if (i != t.len) {
        return syntax_error(t, i, "unexpected character", diag);
    }
    return CS_ERR_OK;
}

static int digit_at(const decimal_parts *p, size_t i)
{
    return i < p->int_len ? p->digits_int[i] - '0' : p->digits_frac[i - p->int_len] - '0';
}

/* Whether to add one unit to the truncated magnitude, given the first dropped
 * digit, whether anything non-zero follows it, and the last kept digit. */
static bool round_up(cs_rounding rounding, int first_dropped, bool sticky, uint64_t kept)
{
    switch (rounding) {
    case CS_ROUND_HALF_UP:
        return first_dropped >= 5;
    case CS_ROUND_HALF_EVEN:
        return first_dropped > 5 || (first_dropped == 5 && (sticky || (kept & 1)));
    case CS_ROUND_NONE:
        break;
    }
    return false;
}

static cs_error overflow(cs_str t, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_OVERFLOW, "decimal '%.*s' does not fit in 64-bit minor units",
                       (int)(t.len > 40 ? 40 : t.len), t.ptr);
}

cs_error cs_decimal_parse_opts(cs_str text, int exponent, cs_rounding rounding, int64_t *out,
                               cs_diag *diag)
{
    decimal_parts p;
    cs_error result = split_decimal(text, &p, diag);
    if (result) {
        return result;
    }
    size_t n = p.int_len + p.frac_len;
    int64_t shift = p.exp10 + exponent - (int64_t)p.frac_len;
    /* Digits [0, kept) land on or above the minor unit; the rest are finer. */
    size_t kept = n;
    if (shift < 0) {
        kept = (uint64_t)-shift >= n ? 0 : n - (size_t)-shift;
    }
    uint64_t limit = p.negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t value = 0;
    for (size_t i = 0; i < kept; i++) {
        unsigned d = (unsigned)digit_at(&p, i);
        if (value > (limit - d) / 10) {
            return overflow(text, diag);
        }
        value = value * 10 + d;
    }
    for (int64_t s = shift; value != 0 && s > 0; s--) {
        if (value > limit / 10) {
            return overflow(text, diag);
        }
        value *= 10;
    }
    if (kept < n) {
        /* When every digit is dropped and more, the first dropped digit is an
         * implied leading zero. */
        bool all_below = shift < 0 && (uint64_t)-shift > n;
        int first = all_below ? 0 : digit_at(&p, kept);
        bool sticky = false;
        for (size_t i = all_below ? kept : kept + 1; i < n; i++) {
            sticky = sticky || digit_at(&p, i) != 0;
        }
        if (rounding == CS_ROUND_NONE && (first != 0 || sticky)) {
            return cs_diag_set(diag, CS_ERR_DECIMAL_PRECISION,
                               "decimal '%.*s' has more than %d fraction digits",
                               (int)(text.len > 40 ? 40 : text.len), text.ptr, exponent);
        }
        if (round_up(rounding, first, sticky, value)) {
            if (value == limit) {
                return overflow(text, diag);
            }
            value++;
        }
    }
    *out = p.negative ? (int64_t)(0 - value) : (int64_t)value;
    return CS_ERR_OK;
}

cs_error cs_decimal_parse(cs_str text, int exponent, int64_t *out, cs_diag *diag)
{
    return cs_decimal_parse_opts(text, exponent, CS_ROUND_NONE, out, diag);
}

size_t cs_decimal_format(int64_t units, int exponent, char out[CS_DECIMAL_MAX])
{
    uint64_t magnitude = units < 0 ? 0 - (uint64_t)units : (uint64_t)units;
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    size_t frac = exponent > 0 ? (size_t)exponent : 0;
    while (n <= frac) {
        digits[n++] = '0';
    }
    size_t len = 0;
    if (units < 0) {
        out[len++] = '-';
    }
    while (n > 0) {
        if (n == frac) {
            out[len++] = '.';
        }
        out[len++] = digits[--n];
    }
    out[len] = '\0';
    return len;
}

cs_error cs_money_parse(cs_str amount, cs_str currency_code, cs_money *out, cs_diag *diag)
{
    const cs_currency *currency = cs_currency_find(currency_code);
    if (!currency) {
        return cs_diag_set(diag, CS_ERR_UNKNOWN_CURRENCY, "unknown ISO 4217 currency code '%.*s'",
                           (int)(currency_code.len > 16 ? 16 : currency_code.len),
                           currency_code.ptr ? currency_code.ptr : "");
    }
    int64_t units;
    cs_error result = cs_decimal_parse(amount, currency->exponent, &units, diag);
    if (result) {
        return result;
    }
    out->minor_units = units;
    out->currency = currency;
    return CS_ERR_OK;
}

size_t cs_money_format(cs_money m, char out[CS_DECIMAL_MAX])
{
    return cs_decimal_format(m.minor_units, m.currency ? m.currency->exponent : 0, out);
}

static cs_error combine(cs_money a, cs_money b, bool subtract, cs_money *out)
{
    if (a.currency != b.currency) {
        return CS_ERR_CURRENCY_MISMATCH;
    }
    int64_t result;
    bool overflow = subtract ? __builtin_sub_overflow(a.minor_units, b.minor_units, &result)
                             : __builtin_add_overflow(a.minor_units, b.minor_units, &result);
    if (overflow) {
        return CS_ERR_OVERFLOW;
    }
    out->minor_units = result;
    out->currency = a.currency;
    return CS_ERR_OK;
}

cs_error cs_money_add(cs_money a, cs_money b, cs_money *out)
{
    return combine(a, b, false, out);
}

cs_error cs_money_sub(cs_money a, cs_money b, cs_money *out)
{
    return combine(a, b, true, out);
}

cs_error cs_money_mul(cs_money m, int64_t quantity, cs_money *out)
{
    int64_t product;
    if (__builtin_mul_overflow(m.minor_units, quantity, &product)) {
        return CS_ERR_OVERFLOW;
    }
    out->minor_units = product;
    out->currency = m.currency;
    return CS_ERR_OK;
}

cs_error cs_decimal_rescale(int64_t units, int from_exponent, int to_exponent, cs_rounding rounding,
                            int64_t *out)
{
    int64_t value = units;
    for (int e = from_exponent; e < to_exponent; e++) {
        if (__builtin_mul_overflow(value, 10, &value)) {
            return CS_ERR_OVERFLOW;
        }
    }
    if (to_exponent >= from_exponent) {
        *out = value;
        return CS_ERR_OK;
    }
    int64_t divisor = 1;
    for (int e = to_exponent; e < from_exponent; e++) {
        divisor *= 10;
    }
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    uint64_t kept = magnitude / (uint64_t)divisor;
    uint64_t rest = magnitude % (uint64_t)divisor;
    if (rest != 0 && rounding == CS_ROUND_NONE) {
        return CS_ERR_DECIMAL_PRECISION;
    }
    uint64_t half = (uint64_t)divisor / 2;
    bool up =
        rounding == CS_ROUND_HALF_UP ? rest >= half : (rest > half || (rest == half && (kept & 1)));
    kept += up ? 1 : 0;
    *out = value < 0 ? -(int64_t)kept : (int64_t)kept;
    return CS_ERR_OK;
}

/* Products of an amount and a weight need 128 bits; gcc and clang have them
 * on x86_64 and arm64, the two Lambda architectures. */
__extension__ typedef __int128 wide_int;

cs_error cs_money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *shares)
{
    if (n == 0) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    wide_int weight_sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] < 0) {
            return CS_ERR_INVALID_ARGUMENT;
        }
        weight_sum += weights[i];
    }
    bool even = weight_sum == 0;
    if (even) {
        weight_sum = (wide_int)n;
    }
    /* Work on the magnitude so floors and remainders behave the same for
     * refunds (negative totals) as for charges. */
    wide_int magnitude = total < 0 ? -(wide_int)total : (wide_int)total;
    wide_int given = 0;
    for (size_t i = 0; i < n; i++) {
        wide_int w = even ? 1 : weights[i];
        shares[i] = (int64_t)(magnitude * w / weight_sum);
        given += shares[i];
    }
    /* Hand out what is left, one unit each, to the largest remainders. */
    for (wide_int left = magnitude - given; left > 0; left--) {
        size_t best = 0;
        wide_int best_rest = -1;
        for (size_t i = 0; i < n; i++) {
            wide_int w = even ? 1 : weights[i];
            wide_int rest = magnitude * w - (wide_int)shares[i] * weight_sum;
            if (rest > best_rest) {
                best_rest = rest;
                best = i;
            }
        }
        shares[best]++;
    }
    if (total < 0) {
        for (size_t i = 0; i < n; i++) {
            shares[i] = -shares[i];
        }
    }
    return CS_ERR_OK;
}
