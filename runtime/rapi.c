#include "rapi.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* Lambda answers on the loopback interface; a connect that takes longer than
 * this means the Runtime API is gone. */
enum { RAPI_CONNECT_TIMEOUT_MS = 1000, RAPI_POST_TIMEOUT_MS = 30000 };

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    rapi_client *c = userdata;
    size_t len = size * count;
    if (cs_buf_append(&c->body, data, len)) {
        c->body_too_large = 1;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

typedef struct header_slot {
    const char *name;
    size_t offset; /* of the cs_str in rapi_event */
} header_slot;

static const header_slot header_slots[] = {
    {"Lambda-Runtime-Aws-Request-Id", offsetof(rapi_event, request_id)},
    {"Lambda-Runtime-Deadline-Ms", offsetof(rapi_event, deadline_ms)},
    {"Lambda-Runtime-Invoked-Function-Arn", offsetof(rapi_event, function_arn)},
    {"Lambda-Runtime-Trace-Id", offsetof(rapi_event, trace_id)},
    {"Lambda-Runtime-Client-Context", offsetof(rapi_event, client_context)},
    {"Lambda-Runtime-Cognito-Identity", offsetof(rapi_event, cognito_identity)},
};

/* Keeps the Lambda-Runtime-* headers of /next; others are ignored. */
static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    rapi_client *c = userdata;
    size_t len = size * count;
    if (!c->event) {
        return len;
    }
    cs_str line = cs_str_make(data, len);
    long colon = cs_str_find_char(line, ':', 0);
    if (colon <= 0) {
        return len;
    }
    cs_str name = cs_str_make(data, (size_t)colon);
    cs_str value = cs_str_trim(cs_str_sub(line, (size_t)colon + 1, len));
    for (size_t i = 0; i < sizeof(header_slots) / sizeof(header_slots[0]); i++) {
        if (cs_str_eq_nocase(name, cs_str_from_c(header_slots[i].name))) {
            char *copy = cs_arena_strndup(c->header_arena, value);
            if (!copy) {
                return 0;
            }
            cs_str *slot = (cs_str *)((char *)c->event + header_slots[i].offset);
            *slot = cs_str_make(copy, value.len);
        }
    }
    return len;
}

/* curl calls this about once a second while a transfer waits; a SIGTERM
 * during /next ends the wait so the loop can exit cleanly. Posts are never
 * cut short: a response in flight is worth finishing. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    rapi_client *c = userdata;
    return c->waiting_next && *c->stop ? 1 : 0;
}

cs_error rapi_init(rapi_client *c, const char *api, size_t max_event_bytes,
                   volatile sig_atomic_t *stop, cs_diag *diag)
{
    memset(c, 0, sizeof(*c));
    c->stop = stop;
    cs_buf_init(&c->body, max_event_bytes);
    int n = snprintf(c->base_url, sizeof(c->base_url), "http://%s/2018-06-01/runtime", api);
    if (n < 0 || (size_t)n >= sizeof(c->base_url)) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "AWS_LAMBDA_RUNTIME_API is too long");
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "curl_easy_init failed");
    }
    c->curl = curl;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    /* The Runtime API is local: a proxy set for the function's own outbound
     * traffic (HTTP_PROXY, ...) must never apply to it. */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)RAPI_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
    return CS_ERR_OK;
}

void rapi_clean_up(rapi_client *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
    }
    cs_buf_clean_up(&c->body);
}

static cs_error perform(rapi_client *c, const char *path, long *status, cs_diag *diag)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", c->base_url, path);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    cs_buf_reset(&c->body);
    c->body_too_large = 0;
    *status = 0;
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        return cs_diag_set(diag, CS_ERR_HTTP, "Runtime API %s: %s", path, curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return CS_ERR_OK;
}

cs_error rapi_next(rapi_client *c, cs_arena *arena, rapi_event *out, long *status, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    c->event = out;
    c->header_arena = arena;
    c->waiting_next = 1;
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L); /* lets SIGTERM end the wait */
    /* Lambda freezes the process between invocations: no total timeout. */
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 0L);
    cs_error result = perform(c, "/invocation/next", status, diag);
    c->waiting_next = 0;
    c->event = NULL;
    if (result) {
        return result;
    }
    char *body = cs_arena_strndup(arena, cs_buf_view(&c->body));
    if (!body) {
        return cs_arena_full(arena, diag);
    }
    out->body = cs_str_make(body, c->body.len);
    return CS_ERR_OK;
}

/* Appends a header; on failure frees the whole list and returns NULL. */
static struct curl_slist *add_header(struct curl_slist *list, const char *line)
{
    if (!list) {
        return NULL;
    }
    struct curl_slist *grown = curl_slist_append(list, line);
    if (!grown) {
        curl_slist_free_all(list);
    }
    return grown;
}

cs_error rapi_post(rapi_client *c, const char *path, cs_str body, const char *error_type,
                   long *status, cs_diag *diag)
{
    /* "Expect:" stops curl from waiting for a 100 Continue on large bodies. */
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    headers = add_header(headers, "Content-Type: application/json");
    if (error_type) {
        char line[256];
        snprintf(line, sizeof(line), "Lambda-Runtime-Function-Error-Type: %s", error_type);
        headers = add_header(headers, line);
    }
    if (!headers) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "out of memory building Runtime API headers");
    }
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body.ptr ? body.ptr : "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)RAPI_POST_TIMEOUT_MS);
    cs_error result = perform(c, path, status, diag);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return result;
}
