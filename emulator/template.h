/* A SAM template as the emulator runs it: functions with their settings and
 * event sources, and queues with their redrive policies, with Globals and
 * Parameters applied and !Ref, !GetAtt and !Sub resolved.
 *
 * What the emulator does not emulate (a Layers property, a DynamoDB table,
 * an SNS topic) is named in a warning with its line and column, never
 * dropped silently. A template it cannot run is an error with its line and
 * column. */
#ifndef CS_EMULATOR_TEMPLATE_H
#define CS_EMULATOR_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/problems.h"
#include "yamltree.h"

typedef struct em_env_var {
    cs_str name;
    cs_str value;
} em_env_var;

typedef struct em_queue {
    cs_str logical_id;
    cs_str name; /* QueueName, or the logical id */
    int64_t visibility_timeout_s;
    int64_t retention_s;
    int64_t delay_s;
    bool fifo;
    bool content_dedup;
    cs_str dlq; /* logical id of the dead-letter queue, or "" */
    int64_t max_receive_count;
} em_queue;

typedef struct em_sqs_event {
    cs_str name;
    cs_str queue; /* logical id */
    int64_t batch_size;
    int64_t window_s;
    bool report_batch_item_failures;
    bool enabled;
    int64_t max_concurrency; /* 0: no limit */
} em_sqs_event;

typedef struct em_schedule_event {
    cs_str name;
    cs_str expression; /* "rate(5 minutes)", "cron(0 12 * * ? *)" */
    cs_str timezone;   /* "" for UTC */
    cs_str input;      /* "" for the Scheduled Event JSON */
    bool enabled;
} em_schedule_event;

/* An HttpApi event: a route on the emulator's port. */
typedef struct em_http_event {
    cs_str name;
    cs_str path;   /* "/orders/{id}", "/files/{proxy+}"; "" for $default */
    cs_str method; /* "GET" ...; "" for any */
} em_http_event;

/* An AWS::SecretsManager::Secret: its value is given to the emulator
 * (--secret), never read from the template. */
typedef struct em_secret {
    cs_str logical_id;
    cs_str name; /* Name, or the logical id */
    cs_str arn;  /* what Ref gives */
} em_secret;

typedef struct em_function {
    cs_str logical_id;
    cs_str name; /* FunctionName, or the logical id */
    cs_str code_uri;
    cs_str handler;
    cs_str runtime;
    int64_t timeout_s;
    int64_t memory_mb;
    int64_t reserved_concurrency; /* -1: unreserved */
    em_env_var *env;
    size_t env_count;
    em_sqs_event *sqs;
    size_t sqs_count;
    em_schedule_event *schedules;
    size_t schedule_count;
    em_http_event *http;
    size_t http_count;
    bool function_url;
    bool makefile_build; /* Metadata.BuildMethod: makefile, built by make build-<LogicalId> */
    /* The secret ARNs that its Role's statements or its Policies
     * (AWSSecretsManagerGetSecretValuePolicy, Statement) allow
     * secretsmanager:GetSecretValue on: the only secrets it may read. */
    cs_str *secret_grants;
    size_t secret_grant_count;
} em_function;

typedef struct em_template {
    em_function *functions;
    size_t function_count;
    em_queue *queues;
    size_t queue_count;
    em_secret *secrets;
    size_t secret_count;
    cs_str region;
} em_template;

typedef struct em_template_opts {
    const char *region;           /* NULL: "eu-west-1" */
    const char *const *overrides; /* "Name=value" parameter overrides, NULL-terminated */
} em_template_opts;

/* Loads a template. Warnings (what is not emulated) go to `warnings`; the
 * first error stops loading with CS_ERR_CONFIG and "line L, column C: ..."
 * in diag. Views point into the arena. */
cs_error em_template_load(cs_arena *arena, cs_str text, const em_template_opts *opts,
                          em_template *out, cs_problems *warnings, cs_diag *diag);

const em_function *em_template_function(const em_template *t, cs_str name);
const em_queue *em_template_queue(const em_template *t, cs_str logical_id);
/* A secret by logical id, name or ARN; NULL if the template has none. */
const em_secret *em_template_secret(const em_template *t, cs_str id);
/* Whether the function's Policies grant it GetSecretValue on the secret. */
bool em_function_may_read(const em_function *f, const em_secret *s);

#endif
