/* commercetools customers to the canonical customer: the email normalized,
 * the customer group (its key when expanded, else its id), B2B when the
 * customer belongs to a company (companyName) and its VAT id, addresses in
 * their order. */
#ifndef CS_CONNECTORS_COMMERCETOOLS_CUSTOMER_H
#define CS_CONNECTORS_COMMERCETOOLS_CUSTOMER_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

cs_error cs_commercetools_customer_decode(const cs_json *customer, cs_arena *arena,
                                          cs_customer *out, cs_problems *problems);

#endif
