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

/* B2B buyers are associates of a business unit (a Company, or a Division
 * under one): the customer buys for it. The unit makes the customer B2B,
 * its name becomes the company and its key the parent account; its
 * addresses stand in when the customer has none of their own. */
cs_error cs_commercetools_business_unit_apply(const cs_json *unit, cs_arena *arena,
                                              cs_customer *customer, cs_problems *problems);

#endif
