#include "aws.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static cs_error need_env(const char *name, const char **out, cs_diag *diag)
{
    *out = getenv(name);
    if (!*out || !**out) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "environment variable %s is not set", name);
    }
    return CS_ERR_OK;
}

cs_error cs_aws_init(cs_aws *aws, cs_http_client *http, const char *endpoint, cs_diag *diag)
{
    memset(aws, 0, sizeof(*aws));
    aws->http = http;
    const char *key, *secret, *region;
    cs_error result = need_env("AWS_ACCESS_KEY_ID", &key, diag);
    if (!result) {
        result = need_env("AWS_SECRET_ACCESS_KEY", &secret, diag);
    }
    if (!result) {
        result = need_env("AWS_REGION", &region, diag);
    }
    if (result) {
        return result;
    }
    const char *token = getenv("AWS_SESSION_TOKEN");
    aws->endpoint_given = endpoint != NULL;
    endpoint = endpoint ? endpoint : getenv("AWS_ENDPOINT_URL");
    if ((size_t)snprintf(aws->userpwd, sizeof(aws->userpwd), "%s:%s", key, secret) >=
            sizeof(aws->userpwd) ||
        (size_t)snprintf(aws->region, sizeof(aws->region), "%s", region) >= sizeof(aws->region) ||
        (size_t)snprintf(aws->endpoint, sizeof(aws->endpoint), "%s", endpoint ? endpoint : "") >=
            sizeof(aws->endpoint) ||
        (token && *token &&
         (size_t)snprintf(aws->session_header, sizeof(aws->session_header),
                          "x-amz-security-token: %s", token) >= sizeof(aws->session_header))) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "AWS credentials or endpoint too long");
    }
    cs_http_add_secret(http, cs_str_from_c(secret));
    if (token && *token) {
        cs_http_add_secret(http, cs_str_from_c(token));
    }
    return CS_ERR_OK;
}

/* The "Name" of an AWS error body: {"__type": "prefix#Name"}, {"code": ...},
 * or <Code>Name</Code> in S3's XML. */
static cs_str error_name(cs_str body)
{
    static const char *const json_keys[] = {"\"__type\"", "\"code\"", "\"Code\""};
    for (size_t k = 0; k < 3; k++) {
        const char *at = memmem(body.ptr, body.len, json_keys[k], strlen(json_keys[k]));
        if (!at) {
            continue;
        }
        const char *open = memchr(at + strlen(json_keys[k]), '"',
                                  body.len - (size_t)(at - body.ptr) - strlen(json_keys[k]));
        const char *close =
            open ? memchr(open + 1, '"', body.len - (size_t)(open + 1 - body.ptr)) : NULL;
        if (close) {
            cs_str name = cs_str_make(open + 1, (size_t)(close - open - 1));
            long hash = -1;
            for (size_t i = 0; i < name.len; i++) {
                hash = name.ptr[i] == '#' ? (long)i : hash;
            }
            return hash >= 0 ? cs_str_sub(name, (size_t)hash + 1, name.len) : name;
        }
    }
    const char *code = memmem(body.ptr, body.len, "<Code>", 6);
    const char *end =
        code ? memmem(code, body.len - (size_t)(code - body.ptr), "</Code>", 7) : NULL;
    return end ? cs_str_make(code + 6, (size_t)(end - code - 6)) : CS_STR_NULL;
}

static bool is_throttling(cs_str name)
{
    static const char *const names[] = {"ProvisionedThroughputExceededException",
                                        "ThrottlingException",
                                        "Throttling",
                                        "RequestLimitExceeded",
                                        "ThrottledException",
                                        "SlowDown",
                                        "InternalServerError",
                                        "ServiceUnavailable",
                                        "RequestThrottled",
                                        "TransactionInProgressException"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (cs_str_eq_c(name, names[i])) {
            return true;
        }
    }
    return false;
}

static bool retry_aws_body(long status, cs_str body)
{
    return status == 400 && is_throttling(error_name(body));
}

/* Turns a refused AWS call into a named error. */
static cs_error named_error(cs_error result, const char *what, cs_str body, cs_diag *diag)
{
    if (result != CS_ERR_HTTP_PERMANENT && result != CS_ERR_HTTP_CONFLICT &&
        result != CS_ERR_HTTP_TRANSIENT) {
        return result;
    }
    cs_str name = error_name(body);
    cs_error code = result == CS_ERR_HTTP_TRANSIENT ? CS_ERR_HTTP_TRANSIENT : CS_ERR_AWS;
    if (cs_str_eq_c(name, "ConditionalCheckFailedException") ||
        cs_str_eq_c(name, "TransactionCanceledException")) {
        code = CS_ERR_CONDITION_FAILED;
    } else if (cs_str_eq_c(name, "ResourceNotFoundException") ||
               cs_str_eq_c(name, "QueueDoesNotExist") ||
               cs_str_eq_c(name, "AWS.SimpleQueueService.NonExistentQueue") ||
               cs_str_eq_c(name, "NoSuchKey") || cs_str_eq_c(name, "NoSuchBucket")) {
        code = CS_ERR_NOT_FOUND;
    }
    cs_diag_set(diag, code, "%s: %.*s: %.300s", what, CS_STR_FMT(name), body.ptr ? body.ptr : "");
    if (diag && name.len) { /* the AWS error name, for callers that branch on it */
        snprintf(diag->field, sizeof(diag->field), "%.*s", CS_STR_FMT(name));
    }
    return code;
}

/* The endpoint for one service: the argument to cs_aws_init, else the
 * service's own variable (AWS_ENDPOINT_URL_SQS, as the AWS SDKs read it),
 * else AWS_ENDPOINT_URL; "" for AWS's own. */
static const char *endpoint_of(const cs_aws *aws, const char *service)
{
    static const char *const vars[][2] = {{"dynamodb", "AWS_ENDPOINT_URL_DYNAMODB"},
                                          {"sqs", "AWS_ENDPOINT_URL_SQS"},
                                          {"secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"},
                                          {"s3", "AWS_ENDPOINT_URL_S3"}};
    for (size_t i = 0; !aws->endpoint_given && i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *own = strcmp(vars[i][0], service) == 0 ? getenv(vars[i][1]) : NULL;
        if (own && own[0]) {
            return own;
        }
    }
    return aws->endpoint;
}

static void service_url(const cs_aws *aws, const char *service, char *out, size_t out_len)
{
    const char *endpoint = endpoint_of(aws, service);
    if (endpoint[0]) {
        snprintf(out, out_len, "%s/", endpoint);
    } else {
        snprintf(out, out_len, "https://%s.%s.amazonaws.com/", service, aws->region);
    }
}

static cs_error json_call(cs_aws *aws, const char *service, const char *target_prefix,
                          const char *op, cs_str body, cs_buf *out, cs_diag *diag)
{
    /* Secrets Manager speaks JSON 1.1; DynamoDB and SQS 1.0. */
    const char *content_type = strcmp(service, "secretsmanager") == 0
                                   ? "Content-Type: application/x-amz-json-1.1"
                                   : "Content-Type: application/x-amz-json-1.0";
    char url[320], sigv4[96], target[128];
    service_url(aws, service, url, sizeof(url));
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", aws->region, service);
    snprintf(target, sizeof(target), "X-Amz-Target: %s.%s", target_prefix, op);
    const char *headers[] = {target, content_type,
                             aws->session_header[0] ? aws->session_header : NULL, NULL};
    cs_http_request req = {.method = "POST",
                           .url = url,
                           .headers = headers,
                           .body = body,
                           .aws_sigv4 = sigv4,
                           .userpwd = aws->userpwd,
                           .retry_body = retry_aws_body};
    cs_http_response resp = {.body = out};
    cs_error result = cs_http_send(aws->http, &req, &resp, diag);
    return result ? named_error(result, target + 14, cs_buf_view(out), diag) : CS_ERR_OK;
}

cs_error cs_dynamodb(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag)
{
    return json_call(aws, "dynamodb", "DynamoDB_20120810", op, body, out, diag);
}

cs_error cs_sqs(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag)
{
    return json_call(aws, "sqs", "AmazonSQS", op, body, out, diag);
}

cs_error cs_sqs_send_request(cs_str queue_url, cs_str body, const cs_sqs_attr *attrs, size_t n,
                             cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "QueueUrl");
    cs_json_write_string(&w, queue_url);
    cs_json_write_key_c(&w, "MessageBody");
    cs_json_write_string(&w, body);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!attrs[i].value.len) {
            continue;
        }
        if (!any) {
            cs_json_write_key_c(&w, "MessageAttributes");
            cs_json_write_object_begin(&w);
            any = true;
        }
        cs_json_write_key(&w, attrs[i].name);
        cs_json_write_object_begin(&w);
        cs_json_write_key_c(&w, "DataType");
        cs_json_write_string_c(&w, "String");
        cs_json_write_key_c(&w, "StringValue");
        cs_json_write_string(&w, attrs[i].value);
        cs_json_write_object_end(&w);
    }
    if (any) {
        cs_json_write_object_end(&w);
    }
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

cs_error cs_secretsmanager(cs_aws *aws, const char *op, cs_str body, cs_buf *out, cs_diag *diag)
{
    return json_call(aws, "secretsmanager", "secretsmanager", op, body, out, diag);
}

cs_error cs_secret_string(cs_aws *aws, cs_str secret_id, cs_arena *arena, cs_str *value,
                          cs_diag *diag)
{
    cs_buf request, answer;
    cs_buf_init(&request, 0);
    cs_buf_init(&answer, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &request);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "SecretId");
    cs_json_write_string(&w, secret_id);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    if (!r) {
        r = cs_secretsmanager(aws, "GetSecretValue", cs_buf_view(&request), &answer, diag);
    }
    cs_json *doc;
    if (!r) {
        char *text = cs_arena_strndup(arena, cs_buf_view(&answer));
        r = text ? cs_json_parse(arena, cs_str_make(text, answer.len), &doc, diag)
                 : cs_arena_full(arena, diag);
    }
    if (!r) {
        r = cs_json_get_string(doc, "SecretString", value, diag);
    }
    if (!r) {
        cs_http_add_secret(aws->http, *value);
    }
    cs_buf_clean_up(&request);
    cs_buf_clean_up(&answer);
    return r;
}

/* Path-style URL with an override (local peers), virtual-hosted on AWS. */
static cs_error object_url(const cs_aws *aws, const char *bucket, const char *key, char *out,
                           size_t out_len, cs_diag *diag)
{
    char *escaped = curl_easy_escape(NULL, key, 0);
    if (!escaped) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "cannot escape the S3 key");
    }
    /* Keep '/' as the key's own separators. */
    char path[1024];
    size_t n = 0;
    for (const char *p = escaped; *p && n + 1 < sizeof(path); p++) {
        if (strncmp(p, "%2F", 3) == 0) {
            path[n++] = '/';
            p += 2;
        } else {
            path[n++] = *p;
        }
    }
    path[n] = '\0';
    curl_free(escaped);
    const char *slash = key[0] ? "/" : "";
    const char *endpoint = endpoint_of(aws, "s3");
    int written = endpoint[0] ? snprintf(out, out_len, "%s/%s%s%s", endpoint, bucket, slash, path)
                              : snprintf(out, out_len, "https://%s.s3.%s.amazonaws.com/%s", bucket,
                                         aws->region, path);
    if (written < 0 || (size_t)written >= out_len) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "S3 key too long");
    }
    return CS_ERR_OK;
}

/* S3's SigV4 signs the payload's SHA-256, sent in x-amz-content-sha256. */
static void payload_hash_header(cs_str data, char out[96])
{
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_Digest(data.ptr ? data.ptr : "", data.len, digest, &len, EVP_sha256(), NULL);
    int n = snprintf(out, 96, "x-amz-content-sha256: ");
    for (unsigned i = 0; i < len; i++) {
        n += snprintf(out + n, (size_t)(96 - n), "%02x", digest[i]);
    }
}

static cs_error s3_call(cs_aws *aws, const char *method, const char *bucket, const char *key,
                        cs_str data, const char *content_type, cs_buf *out, cs_diag *diag)
{
    char url[1400], sigv4[96], hash[96], type[160];
    cs_error result = object_url(aws, bucket, key, url, sizeof(url), diag);
    if (result) {
        return result;
    }
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", aws->region);
    payload_hash_header(data, hash);
    snprintf(type, sizeof(type), "Content-Type: %s",
             content_type ? content_type : "application/octet-stream");
    const char *headers[] = {hash, type, aws->session_header[0] ? aws->session_header : NULL, NULL};
    cs_http_request req = {.method = method,
                           .url = url,
                           .headers = headers,
                           .body = data,
                           .aws_sigv4 = sigv4,
                           .userpwd = aws->userpwd,
                           .retry_body = retry_aws_body};
    cs_http_response resp = {.body = out};
    result = cs_http_send(aws->http, &req, &resp, diag);
    if (result == CS_ERR_HTTP_PERMANENT && resp.status == 404) {
        named_error(result, "S3", cs_buf_view(out), diag);
        return CS_ERR_NOT_FOUND;
    }
    return result ? named_error(result, "S3", cs_buf_view(out), diag) : CS_ERR_OK;
}

cs_error cs_s3_put(cs_aws *aws, const char *bucket, const char *key, cs_str data,
                   const char *content_type, cs_diag *diag)
{
    cs_buf out;
    cs_buf_init(&out, 64 * 1024);
    cs_error result = s3_call(aws, "PUT", bucket, key, data, content_type, &out, diag);
    cs_buf_clean_up(&out);
    return result;
}

cs_error cs_s3_get(cs_aws *aws, const char *bucket, const char *key, cs_buf *out, cs_diag *diag)
{
    return s3_call(aws, "GET", bucket, key, CS_STR_NULL, NULL, out, diag);
}

cs_error cs_s3_create_bucket(cs_aws *aws, const char *bucket, cs_diag *diag)
{
    /* Outside us-east-1, S3 wants the region named in the request body. */
    char body[256] = "";
    if (strcmp(aws->region, "us-east-1") != 0) {
        snprintf(body, sizeof(body),
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                 aws->region);
    }
    return cs_s3_put(aws, bucket, "", cs_str_from_c(body), "application/xml", diag);
}
