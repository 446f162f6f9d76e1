/* Exact decimals and money.
 *
 * An amount is an int64 count of the currency's minor units (cents for USD,
 * yen for JPY, fils for KWD). Decimal text ("199.00", "0.1", "1e2", -5) is
 * converted exactly: no double is involved anywhere, an amount that does not
 * fit is CS_ERR_OVERFLOW, never a wrap, and digits finer than the currency's
 * minor unit are an error unless the caller asks for rounding. */
#ifndef CS_CORE_MONEY_H
#define CS_CORE_MONEY_H

#include <stdint.h>

#include "error.h"
#include "str.h"

typedef struct cs_currency {
    char code[4]; /* ISO 4217 alphabetic code, NUL-terminated */
    int exponent; /* digits after the decimal point: 0, 2, 3 or 4 */
} cs_currency;

typedef struct cs_money {
    int64_t minor_units;
    const cs_currency *currency; /* points into the static table */
} cs_money;

typedef enum cs_rounding {
    CS_ROUND_NONE,      /* extra non-zero digits are CS_ERR_DECIMAL_PRECISION */
    CS_ROUND_HALF_EVEN, /* banker's rounding, as tax engines usually use */
    CS_ROUND_HALF_UP    /* half away from zero, as Shopify and most ERPs display */
} cs_rounding;

/* Looks up an ISO 4217 code (exact case, three letters); NULL if unknown.
 * Codes without minor units defined (XAU, XXX, ...) are not in the table. */
const cs_currency *cs_currency_find(cs_str code);

/* Parses decimal text into units of 10^-exponent: with exponent 2, "199.5"
 * is 19950. Accepts the JSON number grammar, also leading zeros ("007.50").
 * Errors: CS_ERR_DECIMAL_SYNTAX (with the byte offset), CS_ERR_DECIMAL_PRECISION,
 * CS_ERR_OVERFLOW. */
cs_error cs_decimal_parse(cs_str text, int exponent, int64_t *out, cs_diag *diag);
cs_error cs_decimal_parse_opts(cs_str text, int exponent, cs_rounding rounding, int64_t *out,
                               cs_diag *diag);

/* Formats units of 10^-exponent as plain decimal text ("-199.50", "1000",
 * "0.005"); returns the length written. out needs CS_DECIMAL_MAX bytes. */
#define CS_DECIMAL_MAX 32
size_t cs_decimal_format(int64_t units, int exponent, char out[CS_DECIMAL_MAX]);

/* Parses an amount in a currency given by code. CS_ERR_UNKNOWN_CURRENCY names
 * the code; otherwise as cs_decimal_parse. */
cs_error cs_money_parse(cs_str amount, cs_str currency_code, cs_money *out, cs_diag *diag);
size_t cs_money_format(cs_money m, char out[CS_DECIMAL_MAX]);

/* Re-expresses units of 10^-from_exponent in units of 10^-to_exponent:
 * (1999, 2 -> 3) is 19990; (1235, 3 -> 2) is 124 with half-up. Dropping
 * non-zero digits with CS_ROUND_NONE is CS_ERR_DECIMAL_PRECISION. */
cs_error cs_decimal_rescale(int64_t units, int from_exponent, int to_exponent, cs_rounding rounding,
                            int64_t *out);

/* Splits `total` over n shares in proportion to `weights` (all >= 0) so that
 * the shares add up to total exactly: each gets the floor of its exact share,
 * and the units left over go one each to the largest remainders (ties to the
 * lower index). All-zero weights split evenly the same way. total may be
 * negative. CS_ERR_INVALID_ARGUMENT for n == 0 or a negative weight,
 * CS_ERR_OVERFLOW if a product does not fit. */
cs_error cs_money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *shares);

/* a + b; CS_ERR_CURRENCY_MISMATCH or CS_ERR_OVERFLOW. */
cs_error cs_money_add(cs_money a, cs_money b, cs_money *out);
cs_error cs_money_sub(cs_money a, cs_money b, cs_money *out);
/* m * quantity; CS_ERR_OVERFLOW. */
cs_error cs_money_mul(cs_money m, int64_t quantity, cs_money *out);

#endif
