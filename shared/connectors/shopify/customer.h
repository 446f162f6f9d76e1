/* Shopify customers to the canonical customer, from the webhook/REST shape
 * (customers/create, customers/update) and from GraphQL Customer nodes; both
 * give the same record. The email is normalized (trimmed, lower case) so
 * that identity matching finds the same person whichever way it came; email
 * and SMS marketing consent become consents ("email_marketing",
 * "sms_marketing", granted when subscribed); the company is the default
 * address's. */
#ifndef CS_CONNECTORS_SHOPIFY_CUSTOMER_H
#define CS_CONNECTORS_SHOPIFY_CUSTOMER_H

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

/* Each problem names its path in the source JSON; CS_ERR_INVALID_ARGUMENT if
 * there was any. Strings point into the JSON or arena. */
cs_error cs_shopify_customer_decode(const cs_json *customer, cs_arena *arena, cs_customer *out,
                                    cs_problems *problems);
cs_error cs_shopify_customer_decode_graphql(const cs_json *customer, cs_arena *arena,
                                            cs_customer *out, cs_problems *problems);

#endif
