/* Secrets Manager's GetSecretValue (JSON protocol: POST / with
 * X-Amz-Target: secretsmanager.GetSecretValue) over the template's
 * AWS::SecretsManager::Secret resources, whose values are given to the
 * emulator (--secret), never written in the template.
 *
 * Each function signs with its logical id as access key id, standing for
 * the role it has in AWS, and reads only the secrets its Role's statements
 * or its Policies allow (em_function_may_read): any other is refused with
 * AccessDeniedException, as IAM would, so a missing grant shows up locally
 * rather than after a deploy. */
#ifndef CS_EMULATOR_SECRETS_API_H
#define CS_EMULATOR_SECRETS_API_H

#include <microhttpd.h>

#include "core/str.h"
#include "template.h"

typedef struct em_secrets_api {
    const em_template *template;
    const cs_str *values; /* per template secret; .ptr NULL when none was given */
} em_secrets_api;

/* Answers one request; `target` is X-Amz-Target, `authorization` the
 * Authorization header (or NULL). */
enum MHD_Result em_secrets_api_handle(const em_secrets_api *api, struct MHD_Connection *conn,
                                      const char *target, const char *authorization, cs_str body);

/* The access key id in a SigV4 Authorization header, or "" if none. */
cs_str em_signing_key_id(const char *authorization);

#endif
