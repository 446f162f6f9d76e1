/* AWS clients over the HTTP client, signed with libcurl's SigV4 (no SDK):
 * DynamoDB, SQS and Secrets Manager through their JSON protocols, S3
 * objects by path.
 *
 * Credentials come from the environment exactly as Lambda provides them:
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional) and
 * AWS_REGION. An endpoint override (AWS_ENDPOINT_URL, or the argument) sends
 * every service to one local peer such as moto_server; a service's own
 * variable (AWS_ENDPOINT_URL_SQS, _DYNAMODB, _S3, _SECRETS_MANAGER) sends
 * just that one, as the AWS SDKs do, which is how the emulator offers its
 * queues to the functions it runs. AWS error bodies
 * become named errors: ConditionalCheckFailedException is
 * CS_ERR_CONDITION_FAILED, ResourceNotFoundException, QueueDoesNotExist and
 * NoSuchKey are CS_ERR_NOT_FOUND, and throttling
 * (ProvisionedThroughputExceededException, ThrottlingException,
 * RequestLimitExceeded, ...) is retried like a 429. */
#ifndef CS_NET_AWS_H
#define CS_NET_AWS_H

#include "core/arena.h"
#include "http.h"

typedef struct cs_aws {
    cs_http_client *http; /* borrowed */
    char region[32];
    char userpwd[256];         /* "key:secret" for SigV4 */
    char session_header[2200]; /* "x-amz-security-token: ..." or "" */
    char endpoint[256];        /* override, or "" for AWS's own */
    bool endpoint_given;       /* by the caller: every service goes there */
} cs_aws;

/* Reads the environment; endpoint (may be NULL) overrides AWS_ENDPOINT_URL.
 * CS_ERR_CONFIG naming the missing variable. The secret is registered with
 * the HTTP client so the audit hook never shows it. */
cs_error cs_aws_init(cs_aws *aws, cs_http_client *http, const char *endpoint, cs_diag *diag);

/* One DynamoDB call: op is "PutItem", "GetItem", "UpdateItem", "Query",
 * "BatchWriteItem", "CreateTable", ...; body is the JSON request. The JSON
 * answer goes to out. */
cs_error cs_dynamodb(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag);

/* One SQS call in the JSON protocol: op is "SendMessage",
 * "SendMessageBatch", "ReceiveMessage", "CreateQueue", ... */
cs_error cs_sqs(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag);

/* A String message attribute. */
typedef struct cs_sqs_attr {
    cs_str name;
    cs_str value;
} cs_sqs_attr;

/* Writes the SendMessage request for a body and its String attributes to
 * out; an attribute with an empty value is left out (SQS refuses it), and
 * with none, so is MessageAttributes. */
cs_error cs_sqs_send_request(cs_str queue_url, cs_str body, const cs_sqs_attr *attrs, size_t n,
                             cs_buf *out, cs_diag *diag);

/* One Secrets Manager call ("GetSecretValue", "CreateSecret", ...). */
cs_error cs_secretsmanager(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag);
/* A secret's SecretString, in arena; registered with the HTTP client so the
 * audit hook never shows it. CS_ERR_NOT_FOUND for an unknown secret. */
cs_error cs_secret_string(cs_aws *aws, cs_str secret_id, cs_arena *arena, cs_str *value,
                          cs_diag *diag);

/* S3 objects. Keys may contain '/'. cs_s3_get returns CS_ERR_NOT_FOUND for a
 * missing key. */
cs_error cs_s3_put(cs_aws *aws, const char *bucket, const char *key, cs_str data,
                   const char *content_type, cs_diag *diag);
cs_error cs_s3_get(cs_aws *aws, const char *bucket, const char *key, cs_buf *out, cs_diag *diag);
/* Creates a bucket (local setups; on AWS the template creates it). */
cs_error cs_s3_create_bucket(cs_aws *aws, const char *bucket, cs_diag *diag);

#endif
