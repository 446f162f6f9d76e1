/* The HTTP client every connector uses, over one reused libcurl handle.
 *
 * - Retries 408, 429, 5xx, timeouts and connection failures with exponential
 *   backoff and full jitter, or exactly as long as Retry-After says, while the
 *   invocation's deadline allows; other 4xx are never retried.
 * - Derives each attempt's timeout from the time left before the deadline.
 * - Paces requests per host with a token bucket that the server's own
 *   figures keep current (X-Shopify-Shop-Api-Call-Limit, Sforce-Limit-Info,
 *   or GraphQL throttle status handed in by a connector), so a sync runs at
 *   the allowed rate instead of bouncing off 429s.
 * - Shows each attempt to an audit hook with secrets and PII redacted.
 * - Always verifies TLS peers; a private CA is configured, never skipped. */
#ifndef CS_NET_HTTP_H
#define CS_NET_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

typedef struct cs_http_client cs_http_client;

/* What the audit hook sees of one attempt. Bodies are redacted copies. */
typedef struct cs_http_audit {
    const char *method;
    const char *url;
    long status; /* 0 when no response came */
    int attempt; /* 1 for the first */
    int64_t duration_ms;
    cs_str request_body;  /* redacted */
    cs_str response_body; /* redacted */
    const char *error;    /* transport error text, or NULL */
} cs_http_audit;

typedef void (*cs_http_audit_fn)(void *user, const cs_http_audit *record);

typedef struct cs_http_options {
    const char *ca_file;        /* extra trusted CA bundle (PEM); NULL: system store */
    int64_t connect_timeout_ms; /* 0: 3000 */
    int64_t attempt_timeout_ms; /* cap per attempt; 0: 30000 */
    int max_attempts;           /* 0: 5 */
    int64_t backoff_base_ms;    /* 0: 100 */
    int64_t backoff_cap_ms;     /* 0: 10000 */
    int64_t deadline_margin_ms; /* kept free before the deadline; 0: 200 */
    size_t max_response_bytes;  /* 0: 16 MiB */
    cs_http_audit_fn audit;     /* NULL: none */
    void *audit_user;
    const char *const *pii_fields; /* JSON keys whose values are redacted (NULL-terminated) */
} cs_http_options;

typedef struct cs_http_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    cs_str body;
    double cost;           /* tokens this request takes from its host's bucket; 0: 1 */
    const char *aws_sigv4; /* "aws:amz:REGION:SERVICE" to sign, or NULL */
    const char *userpwd;   /* "key:secret" for aws_sigv4 */
    /* Optional: whether a response with this status and body is a transient
     * failure to retry (AWS signals throttling in 400 bodies). */
    bool (*retry_body)(long status, cs_str body);
} cs_http_request;

typedef struct cs_http_response {
    long status;  /* 0 when no response came */
    cs_buf *body; /* caller-owned; reset before each attempt */
    int attempts;
    int64_t retry_after_ms; /* from the last response, or -1 */
} cs_http_response;

/* NULL options take every default. NULL on failure, with diag set. */
cs_http_client *cs_http_client_new(const cs_http_options *options, cs_diag *diag);
void cs_http_client_destroy(cs_http_client *client);

/* The invocation's deadline (epoch ms; 0: none). Set per invocation. */
void cs_http_set_deadline(cs_http_client *client, int64_t deadline_ms);
/* Values never to show to the audit hook (tokens, passwords). Copied. */
cs_error cs_http_add_secret(cs_http_client *client, cs_str secret);

/* Sends the request, retrying as described above. Returns CS_ERR_OK for 2xx
 * and 3xx; CS_ERR_HTTP_CONFLICT for 409; CS_ERR_HTTP_PERMANENT for other 4xx;
 * CS_ERR_HTTP_TRANSIENT when retries or time ran out; CS_ERR_DEADLINE when
 * no attempt could start in time; CS_ERR_TLS for a refused peer; CS_ERR_HTTP
 * for anything else. The response holds the last status and body received. */
cs_error cs_http_send(cs_http_client *client, const cs_http_request *request,
                      cs_http_response *response, cs_diag *diag);

/* Pacing for a host ("shop.myshopify.com"): a bucket of `capacity` tokens
 * refilled at `per_second`. Hosts without one are not paced. */
cs_error cs_http_pace(cs_http_client *client, const char *host, double capacity, double per_second);
/* What the server says is left now (Shopify GraphQL throttleStatus, say);
 * replaces the bucket's own estimate. */
void cs_http_pace_report(cs_http_client *client, const char *host, double available,
                         double capacity, double per_second);
/* Tokens the bucket believes are available now (for tests and logs). */
double cs_http_pace_available(cs_http_client *client, const char *host);

#endif
