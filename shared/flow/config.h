/* An integration's config file (infra/config/<integration>.json), as the
 * functions read it at init.
 *
 * Settings that differ between a laptop and AWS, and every secret, are
 * references, never literal values in the file:
 *
 *   "url": {"env": "EXACTMAX_URL"}              the variable's value
 *   "key": {"secret": "commerce-sync/max-key"}  a Secrets Manager secret
 *   "key": {"secret_env": "MAX_KEY_SECRET"}     the secret the variable names
 *
 * A plain string is accepted where a setting is not secret. Every getter
 * records a problem with the setting's JSON path instead of failing, so
 * that init can list all of them at once (cs_config_check). */
#ifndef CS_FLOW_CONFIG_H
#define CS_FLOW_CONFIG_H

#include "core/json.h"
#include "core/log.h"
#include "core/problems.h"
#include "net/aws.h"

typedef struct cs_config {
    const cs_json *root;
    cs_arena *arena; /* process lifetime: values resolved from references */
    cs_aws *aws;     /* for secrets; NULL: {"secret": ...} is a problem */
    cs_problems problems;
} cs_config;

/* Reads and parses the file: path, or when NULL the file named by
 * CS_CONFIG (relative names are under LAMBDA_TASK_ROOT). CS_ERR_CONFIG
 * naming the file, or the byte where the JSON breaks. A member that is no
 * setting (misspelt, or in the wrong object) is a problem, anywhere in the
 * file. */
cs_error cs_config_load(cs_config *c, const char *path, cs_arena *arena, cs_aws *aws,
                        cs_diag *diag);

/* The object at path ("connections.exactmax"); NULL and a problem when it is
 * missing or not an object (optional: no problem when missing). */
const cs_json *cs_config_object(cs_config *c, const char *path, bool optional);

/* A setting: a string or an {"env": ...} reference. CS_STR_NULL and a
 * problem when missing and not optional, or when the variable is unset. */
cs_str cs_config_string(cs_config *c, const cs_json *at, const char *parent, const char *key,
                        bool optional);
/* A secret: {"env"}, {"secret"} or {"secret_env"}; a literal is refused so
 * that no secret is ever committed with the config. */
cs_str cs_config_secret(cs_config *c, const cs_json *at, const char *parent, const char *key);
/* An integer setting with a range; fallback when missing. */
int64_t cs_config_int(cs_config *c, const cs_json *at, const char *parent, const char *key,
                      int64_t min, int64_t max, int64_t fallback);

/* true or false; fallback when missing. */
bool cs_config_bool(cs_config *c, const cs_json *at, const char *parent, const char *key,
                    bool fallback);

/* CS_ERR_OK, or CS_ERR_CONFIG with one ERROR line per problem on log (path,
 * rule, message; log may be NULL) and diag saying how many there are,
 * followed by as many as fit. */
cs_error cs_config_check(const cs_config *c, cs_logger *log, cs_diag *diag);

#endif
