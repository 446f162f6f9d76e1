/* Checks a canonical order before it is written anywhere, reporting every
 * problem with its field path and rule, so a bad order goes to the error
 * queue whole instead of half-written:
 *
 *   required       number, currency, at least one line
 *   iso4217        the order currency; currency_mismatch for any amount in another
 *   iso3166        billing and shipping country codes
 *   positive       line quantities; non_negative for prices
 *   sku            each line has a SKU or an item code; sku_unmapped when a
 *                  SKU table is given, the line has no item code and the SKU
 *                  is not in the table
 *   line_sums      a line's discount and tax equal the sums of its parts
 *   totals         lines - discounts + shipping + taxes = total, to the minor
 *                  unit (taxes left out when prices include them), and the
 *                  declared subtotal, discount, shipping and tax totals agree;
 *                  checked only when every amount is in the order currency
 */
#ifndef CS_MAPPING_VALIDATE_H
#define CS_MAPPING_VALIDATE_H

#include "core/problems.h"
#include "lookup.h"
#include "model/model.h"

typedef struct cs_validate_opts {
    const cs_lookup *sku_table; /* optional: SKU to item code */
} cs_validate_opts;

/* CS_ERR_OK when the order is sound, CS_ERR_INVALID_ARGUMENT with every
 * problem recorded otherwise. opts may be NULL. */
cs_error cs_validate_order(const cs_order *order, const cs_validate_opts *opts,
                           cs_problems *problems);

/* Spreads an order-level discount over the lines in proportion to what each
 * line costs after its own discounts (largest remainder, so the shares add
 * up to the cent), appending an allocation to every line that gets a share
 * and adding it to the line's discount. Allocation arrays are regrown in
 * arena. CS_ERR_CURRENCY_MISMATCH, CS_ERR_OVERFLOW, CS_ERR_INVALID_ARGUMENT
 * for an order without lines. */
cs_error cs_order_allocate_discount(cs_order *order, cs_str code, cs_money amount, cs_arena *arena);

#endif
