#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/timestamp.h"

enum { MAX_SECRETS = 16, MAX_HOSTS = 16, HOST_LEN = 256 };

typedef struct bucket {
    char host[HOST_LEN];
    double tokens;
    double capacity;
    double per_second;
    int64_t updated_ms;
} bucket;

struct cs_http_client {
    CURL *curl;
    cs_http_options options;
    int64_t deadline_ms;
    char *secrets[MAX_SECRETS];
    size_t secret_lens[MAX_SECRETS];
    size_t secret_count;
    bucket buckets[MAX_HOSTS];
    size_t bucket_count;
    uint64_t rng;
    cs_arena scratch; /* redaction, reset after each audit */
    /* Per attempt, filled by the callbacks. */
    cs_http_response *response;
    char host[HOST_LEN];
};

static void set_defaults(cs_http_options *o)
{
    o->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 3000;
    o->attempt_timeout_ms = o->attempt_timeout_ms ? o->attempt_timeout_ms : 30000;
    o->max_attempts = o->max_attempts ? o->max_attempts : 5;
    o->backoff_base_ms = o->backoff_base_ms ? o->backoff_base_ms : 100;
    o->backoff_cap_ms = o->backoff_cap_ms ? o->backoff_cap_ms : 10000;
    o->deadline_margin_ms = o->deadline_margin_ms ? o->deadline_margin_ms : 200;
    o->max_response_bytes = o->max_response_bytes ? o->max_response_bytes : 16 * 1024 * 1024;
}

cs_http_client *cs_http_client_new(const cs_http_options *options, cs_diag *diag)
{
    cs_http_client *c = calloc(1, sizeof(*c));
    if (!c || !(c->curl = curl_easy_init())) {
        free(c);
        cs_diag_set(diag, CS_ERR_NOMEM, "cannot create an HTTP client");
        return NULL;
    }
    if (options) {
        c->options = *options;
    }
    set_defaults(&c->options);
    if (getrandom(&c->rng, sizeof(c->rng), 0) != sizeof(c->rng) || c->rng == 0) {
        c->rng = (uint64_t)cs_time_monotonic_us() | 1;
    }
    cs_arena_init(&c->scratch, 0, 64 * 1024 * 1024);
    return c;
}

void cs_http_client_destroy(cs_http_client *c)
{
    if (!c) {
        return;
    }
    curl_easy_cleanup(c->curl);
    for (size_t i = 0; i < c->secret_count; i++) {
        free(c->secrets[i]);
    }
    cs_arena_clean_up(&c->scratch);
    free(c);
}

void cs_http_set_deadline(cs_http_client *c, int64_t deadline_ms)
{
    c->deadline_ms = deadline_ms;
}

cs_error cs_http_add_secret(cs_http_client *c, cs_str secret)
{
    if (secret.len == 0) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    if (c->secret_count == MAX_SECRETS) {
        return CS_ERR_BUFFER_FULL;
    }
    char *copy = malloc(secret.len);
    if (!copy) {
        return CS_ERR_NOMEM;
    }
    memcpy(copy, secret.ptr, secret.len);
    c->secrets[c->secret_count] = copy;
    c->secret_lens[c->secret_count++] = secret.len;
    return CS_ERR_OK;
}

/* ---- pacing ---- */

static bucket *find_bucket(cs_http_client *c, const char *host)
{
    for (size_t i = 0; i < c->bucket_count; i++) {
        if (strcmp(c->buckets[i].host, host) == 0) {
            return &c->buckets[i];
        }
    }
    return NULL;
}

static bucket *add_bucket(cs_http_client *c, const char *host)
{
    bucket *b = find_bucket(c, host);
    if (b || c->bucket_count == MAX_HOSTS || strlen(host) >= HOST_LEN) {
        return b;
    }
    b = &c->buckets[c->bucket_count++];
    memset(b, 0, sizeof(*b));
    snprintf(b->host, sizeof(b->host), "%s", host);
    b->updated_ms = cs_time_monotonic_ms();
    return b;
}

static void refill(bucket *b, int64_t now_ms)
{
    double added = (double)(now_ms - b->updated_ms) / 1000.0 * b->per_second;
    b->tokens = b->tokens + added > b->capacity ? b->capacity : b->tokens + added;
    b->updated_ms = now_ms;
}

cs_error cs_http_pace(cs_http_client *c, const char *host, double capacity, double per_second)
{
    bucket *b = add_bucket(c, host);
    if (!b || capacity <= 0 || per_second <= 0) {
        return b ? CS_ERR_INVALID_ARGUMENT : CS_ERR_BUFFER_FULL;
    }
    b->capacity = capacity;
    b->per_second = per_second;
    b->tokens = capacity;
    b->updated_ms = cs_time_monotonic_ms();
    return CS_ERR_OK;
}

void cs_http_pace_report(cs_http_client *c, const char *host, double available, double capacity,
                         double per_second)
{
    bucket *b = add_bucket(c, host);
    if (!b) {
        return;
    }
    b->capacity = capacity > 0 ? capacity : b->capacity;
    b->per_second = per_second > 0 ? per_second : b->per_second;
    b->tokens = available < 0 ? 0 : available;
    b->updated_ms = cs_time_monotonic_ms();
}

double cs_http_pace_available(cs_http_client *c, const char *host)
{
    bucket *b = find_bucket(c, host);
    if (!b) {
        return -1;
    }
    refill(b, cs_time_monotonic_ms());
    return b->tokens;
}

/* How long to wait before `cost` tokens are there; takes them. */
static int64_t take_tokens(cs_http_client *c, const char *host, double cost)
{
    bucket *b = find_bucket(c, host);
    if (!b || b->per_second <= 0) {
        return 0;
    }
    refill(b, cs_time_monotonic_ms());
    double missing = cost - b->tokens;
    b->tokens -= cost; /* may go negative: later callers wait for it too */
    return missing > 0 ? (int64_t)(missing / b->per_second * 1000.0 + 0.999) : 0;
}

/* ---- response headers ---- */

static int64_t parse_retry_after(cs_str value)
{
    int64_t seconds;
    if (cs_parse_int64(value, &seconds) == CS_ERR_OK) {
        return seconds < 0 ? 0 : seconds * 1000;
    }
    char date[64];
    snprintf(date, sizeof(date), "%.*s", CS_STR_FMT(value));
    time_t when = curl_getdate(date, NULL);
    if (when < 0) {
        return -1;
    }
    int64_t ms = (int64_t)when * 1000 - cs_time_now_ms();
    return ms < 0 ? 0 : ms;
}

/* "used/limit" (both Shopify's call limit and Salesforce's api-usage). */
static bool parse_usage(cs_str value, double *used, double *limit)
{
    long slash = cs_str_find_char(value, '/', 0);
    int64_t u, l;
    if (slash < 0 || cs_parse_int64(cs_str_sub(value, 0, (size_t)slash), &u) ||
        cs_parse_int64(cs_str_sub(value, (size_t)slash + 1, value.len), &l) || l <= 0) {
        return false;
    }
    *used = (double)u;
    *limit = (double)l;
    return true;
}

static void on_rate_header(cs_http_client *c, cs_str name, cs_str value)
{
    double used, limit;
    if (cs_str_eq_nocase(name, CS_STR_LIT("X-Shopify-Shop-Api-Call-Limit")) &&
        parse_usage(value, &used, &limit)) {
        /* Shopify's bucket leaks at the plan's rate; keep the configured one. */
        cs_http_pace_report(c, c->host, limit - used, limit, 0);
    } else if (cs_str_eq_nocase(name, CS_STR_LIT("Sforce-Limit-Info")) &&
               cs_str_starts_with(value, CS_STR_LIT("api-usage=")) &&
               parse_usage(cs_str_sub(value, 10, value.len), &used, &limit)) {
        /* A daily allowance: spread what is left over the rest of the day. */
        cs_http_pace_report(c, c->host, limit - used, limit, limit / 86400.0);
    }
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    cs_http_client *c = userdata;
    size_t len = size * count;
    cs_str line = cs_str_make(data, len);
    long colon = cs_str_find_char(line, ':', 0);
    if (colon > 0) {
        cs_str name = cs_str_make(data, (size_t)colon);
        cs_str value = cs_str_trim(cs_str_sub(line, (size_t)colon + 1, len));
        if (cs_str_eq_nocase(name, CS_STR_LIT("Retry-After"))) {
            c->response->retry_after_ms = parse_retry_after(value);
        } else {
            on_rate_header(c, name, value);
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    cs_http_client *c = userdata;
    size_t len = size * count;
    return cs_buf_append(c->response->body, data, len) ? 0 : len;
}

/* ---- redaction for the audit hook ---- */

static bool is_pii_key(const cs_http_client *c, cs_str key)
{
    for (const char *const *f = c->options.pii_fields; f && *f; f++) {
        if (cs_str_eq_nocase(key, cs_str_from_c(*f))) {
            return true;
        }
    }
    return false;
}

static void write_redacted(const cs_http_client *c, const cs_json *v, cs_json_writer *w)
{
    if (v->type == CS_JSON_OBJECT) {
        cs_json_write_object_begin(w);
        for (const cs_json *m = v->first; m; m = m->next) {
            cs_json_write_key(w, m->key);
            if (is_pii_key(c, m->key) && m->type != CS_JSON_NULL) {
                cs_json_write_string_c(w, "[REDACTED]");
            } else {
                write_redacted(c, m, w);
            }
        }
        cs_json_write_object_end(w);
    } else if (v->type == CS_JSON_ARRAY) {
        cs_json_write_array_begin(w);
        for (const cs_json *e = v->first; e; e = e->next) {
            write_redacted(c, e, w);
        }
        cs_json_write_array_end(w);
    } else {
        cs_json_write_value(w, v);
    }
}

/* Replaces every secret in text; the result lives in the scratch arena. */
static cs_str strip_secrets(cs_http_client *c, cs_str text)
{
    for (size_t i = 0; i < c->secret_count; i++) {
        const char *hit;
        while (text.len && (hit = memmem(text.ptr, text.len, c->secrets[i], c->secret_lens[i]))) {
            size_t before = (size_t)(hit - text.ptr);
            size_t after = text.len - before - c->secret_lens[i];
            char *out = cs_arena_alloc(&c->scratch, before + 10 + after + 1);
            if (!out) {
                return CS_STR_LIT("[REDACTED]");
            }
            memcpy(out, text.ptr, before);
            memcpy(out + before, "[REDACTED]", 10);
            memcpy(out + before + 10, hit + c->secret_lens[i], after);
            out[before + 10 + after] = '\0';
            text = cs_str_make(out, before + 10 + after);
        }
    }
    return text;
}

static cs_str redact(cs_http_client *c, cs_str body)
{
    cs_json *doc;
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_str result = body;
    if (body.len && c->options.pii_fields && cs_json_parse(&c->scratch, body, &doc, NULL) == 0) {
        cs_json_writer w;
        cs_json_writer_init(&w, &out);
        write_redacted(c, doc, &w);
        if (cs_json_writer_finish(&w, NULL) == CS_ERR_OK) {
            char *copy = cs_arena_strndup(&c->scratch, cs_buf_view(&out));
            result = copy ? cs_str_make(copy, out.len) : CS_STR_LIT("[REDACTED]");
        }
    } else if (body.len && !cs_utf8_valid(body, NULL)) {
        result = CS_STR_LIT("[binary body]");
    }
    cs_buf_clean_up(&out);
    return strip_secrets(c, result);
}

static void audit(cs_http_client *c, const cs_http_request *req, const cs_http_response *resp,
                  int attempt, int64_t started_ms, const char *error)
{
    if (!c->options.audit) {
        return;
    }
    cs_http_audit record = {
        .method = req->method,
        .url = req->url,
        .status = resp->status,
        .attempt = attempt,
        .duration_ms = cs_time_monotonic_ms() - started_ms,
        .request_body = redact(c, req->body),
        .response_body = redact(c, cs_buf_view(resp->body)),
        .error = error,
    };
    cs_str url = strip_secrets(c, cs_str_from_c(req->url));
    record.url = url.ptr;
    c->options.audit(c->options.audit_user, &record);
    cs_arena_reset(&c->scratch);
}

/* ---- sending ---- */

static void host_of(const char *url, char out[HOST_LEN])
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t len = strcspn(start, ":/?#");
    snprintf(out, HOST_LEN, "%.*s", (int)(len < HOST_LEN ? len : HOST_LEN - 1), start);
}

/* The request's own headers; NULL with *failed set when out of memory. */
static struct curl_slist *build_headers(const cs_http_request *req, bool *failed)
{
    struct curl_slist *list = NULL;
    *failed = false;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *grown = curl_slist_append(list, *h);
        if (!grown) {
            curl_slist_free_all(list);
            *failed = true;
            return NULL;
        }
        list = grown;
    }
    return list;
}

static void configure(cs_http_client *c, const cs_http_request *req, struct curl_slist *headers,
                      int64_t timeout_ms)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache */
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->options.ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->options.ca_file);
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->options.connect_timeout_ms);
    /* Send bodies at once instead of waiting for "100 Continue". Removing the
     * Expect header with "Expect:" would do the same, but libcurl 7.88 signs
     * that removal line into SigV4 and AWS then refuses the signature. */
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body.ptr ? req->body.ptr : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
    }
    if (req->aws_sigv4) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
    }
}

static bool transient_transport(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_PARTIAL_FILE || rc == CURLE_COULDNT_RESOLVE_HOST;
}

static bool tls_failure(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
}

typedef enum outcome { DONE, RETRY } outcome;

/* Runs one attempt and decides: a final result, or retry. */
static outcome attempt_once(cs_http_client *c, const cs_http_request *req, cs_http_response *resp,
                            int attempt, int64_t timeout_ms, cs_error *result, cs_diag *diag)
{
    bool failed;
    struct curl_slist *headers = build_headers(req, &failed);
    if (failed) {
        *result = cs_diag_set(diag, CS_ERR_NOMEM, "out of memory building headers");
        return DONE;
    }
    cs_buf_reset(resp->body);
    resp->status = 0;
    resp->retry_after_ms = -1;
    resp->attempts = attempt;
    c->response = resp;
    configure(c, req, headers, timeout_ms);
    int64_t started = cs_time_monotonic_ms();
    CURLcode rc = curl_easy_perform(c->curl);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    }
    audit(c, req, resp, attempt, started, rc == CURLE_OK ? NULL : curl_easy_strerror(rc));
    if (rc != CURLE_OK) {
        cs_error code = tls_failure(rc) ? CS_ERR_TLS : CS_ERR_HTTP;
        *result = cs_diag_set(diag, transient_transport(rc) ? CS_ERR_HTTP_TRANSIENT : code,
                              "%s %s: %s", req->method, req->url, curl_easy_strerror(rc));
        return transient_transport(rc) ? RETRY : DONE;
    }
    long s = resp->status;
    bool retry = s == 408 || s == 429 || s >= 500 ||
                 (s >= 400 && req->retry_body && req->retry_body(s, cs_buf_view(resp->body)));
    if (retry) {
        *result =
            cs_diag_set(diag, CS_ERR_HTTP_TRANSIENT, "%s %s: status %ld", req->method, req->url, s);
        return RETRY;
    }
    if (s >= 400) {
        *result = cs_diag_set(diag, s == 409 ? CS_ERR_HTTP_CONFLICT : CS_ERR_HTTP_PERMANENT,
                              "%s %s: status %ld: %.200s", req->method, req->url, s,
                              resp->body->data ? resp->body->data : "");
        return DONE;
    }
    *result = CS_ERR_OK;
    return DONE;
}

static int64_t time_left_ms(const cs_http_client *c)
{
    if (c->deadline_ms == 0) {
        return INT64_MAX;
    }
    return c->deadline_ms - c->options.deadline_margin_ms - cs_time_now_ms();
}

static void sleep_ms(int64_t ms)
{
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Full jitter: a uniform wait between 0 and the capped exponential step. */
static int64_t backoff_ms(cs_http_client *c, int attempt)
{
    int64_t step = c->options.backoff_base_ms;
    for (int i = 1; i < attempt && step < c->options.backoff_cap_ms; i++) {
        step *= 2;
    }
    step = step < c->options.backoff_cap_ms ? step : c->options.backoff_cap_ms;
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (int64_t)(c->rng % (uint64_t)(step + 1));
}

cs_error cs_http_send(cs_http_client *c, const cs_http_request *req, cs_http_response *resp,
                      cs_diag *diag)
{
    host_of(req->url, c->host);
    cs_error result = CS_ERR_OK;
    for (int attempt = 1; attempt <= c->options.max_attempts; attempt++) {
        int64_t wait = take_tokens(c, c->host, req->cost > 0 ? req->cost : 1);
        int64_t left = time_left_ms(c) - wait;
        if (left <= 0) {
            return attempt == 1 ? cs_diag_set(diag, CS_ERR_DEADLINE,
                                              "%s %s: no time left before the deadline",
                                              req->method, req->url)
                                : result;
        }
        sleep_ms(wait);
        int64_t timeout =
            left < c->options.attempt_timeout_ms ? left : c->options.attempt_timeout_ms;
        if (attempt_once(c, req, resp, attempt, timeout, &result, diag) == DONE) {
            return result;
        }
        int64_t pause = resp->retry_after_ms >= 0 ? resp->retry_after_ms : backoff_ms(c, attempt);
        if (attempt == c->options.max_attempts || pause >= time_left_ms(c)) {
            break;
        }
        sleep_ms(pause);
    }
    return result; /* CS_ERR_HTTP_TRANSIENT from the last attempt */
}
