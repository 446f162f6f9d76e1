#include "http_event.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/base64.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "httpd.h"

/* ---- routes ---- */

/* The next segment of s from *at (after a '/'). */
static cs_str segment(cs_str s, size_t *at)
{
    size_t start = *at < s.len && s.ptr[*at] == '/' ? *at + 1 : *at;
    size_t end = start;
    while (end < s.len && s.ptr[end] != '/') {
        end++;
    }
    *at = end;
    return cs_str_make(s.ptr + start, end - start);
}

static bool bind_param(em_path_params *params, cs_str name, cs_str value)
{
    if (params->count == EM_HTTP_MAX_PARAMS) {
        return false;
    }
    params->names[params->count] = name;
    params->values[params->count++] = value;
    return true;
}

bool em_http_route_matches(cs_str route, cs_str path, em_path_params *params)
{
    params->count = 0;
    size_t r = 0, p = 0;
    while (r < route.len) {
        cs_str want = segment(route, &r);
        size_t before = p;
        cs_str got = segment(path, &p);
        bool param = want.len > 2 && want.ptr[0] == '{' && want.ptr[want.len - 1] == '}';
        if (param && want.ptr[want.len - 2] == '+') {
            /* {proxy+}: the rest of the path, at least one segment. */
            cs_str rest =
                cs_str_make(path.ptr + before + 1, before < path.len ? path.len - before - 1 : 0);
            return rest.len > 0 && r == route.len &&
                   bind_param(params, cs_str_make(want.ptr + 1, want.len - 3), rest);
        }
        if (param
                ? got.len == 0 || !bind_param(params, cs_str_make(want.ptr + 1, want.len - 2), got)
                : !cs_str_eq(want, got)) {
            return false;
        }
    }
    return p >= path.len;
}

/* ---- the event ---- */

enum { MAX_HEADERS = 64 };

/* The request's headers by lower-cased name; a repeated header's values
 * are joined with commas, as API Gateway does. */
typedef struct header_walk {
    const char *cookie; /* the Cookie header, kept for "cookies" */
    char names[MAX_HEADERS][64];
    cs_buf values[MAX_HEADERS];
    int count;
} header_walk;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    header_walk *h = cls;
    char name[64];
    size_t n = 0;
    for (; key[n] && n + 1 < sizeof(name); n++) {
        name[n] = (char)tolower((unsigned char)key[n]);
    }
    name[n] = '\0';
    if (strcmp(name, "cookie") == 0) {
        h->cookie = value;
        return MHD_YES;
    }
    int i = 0;
    while (i < h->count && strcmp(h->names[i], name) != 0) {
        i++;
    }
    if (i == MAX_HEADERS) {
        return MHD_YES; /* past what any real client sends */
    }
    if (i == h->count) {
        memcpy(h->names[h->count], name, n + 1);
        cs_buf_init(&h->values[h->count++], 0);
    } else {
        cs_buf_append(&h->values[i], ",", 1);
    }
    cs_buf_append(&h->values[i], value ? value : "", value ? strlen(value) : 0);
    return MHD_YES;
}

static void write_headers(cs_json_writer *w, header_walk *h)
{
    cs_json_write_key_c(w, "headers");
    cs_json_write_object_begin(w);
    for (int i = 0; i < h->count; i++) {
        cs_json_write_key_c(w, h->names[i]);
        cs_json_write_string(
            w, cs_str_make(h->values[i].data ? h->values[i].data : "", h->values[i].len));
        cs_buf_clean_up(&h->values[i]);
    }
    cs_json_write_object_end(w);
}

static enum MHD_Result write_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    cs_json_writer *w = cls;
    cs_json_write_key_c(w, key);
    cs_json_write_string_c(w, value ? value : "");
    return MHD_YES;
}

static void write_percent_encoded(cs_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~", c)) {
            cs_buf_append(out, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            cs_buf_append(out, esc, 3);
        }
    }
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    cs_buf *out = cls;
    if (out->len) {
        cs_buf_append(out, "&", 1);
    }
    write_percent_encoded(out, key);
    if (value) {
        cs_buf_append(out, "=", 1);
        write_percent_encoded(out, value);
    }
    return MHD_YES;
}

static void write_cookies(cs_json_writer *w, const char *cookie)
{
    cs_json_write_key_c(w, "cookies");
    cs_json_write_array_begin(w);
    while (cookie && *cookie) {
        const char *end = strstr(cookie, "; ");
        size_t len = end ? (size_t)(end - cookie) : strlen(cookie);
        cs_json_write_string(w, cs_str_make(cookie, len));
        cookie = end ? end + 2 : NULL;
    }
    cs_json_write_array_end(w);
}

static void write_request_context(cs_json_writer *w, const em_http_request *req, int64_t now_ms)
{
    char domain[64], when[64];
    snprintf(domain, sizeof(domain), "127.0.0.1:%u", req->port);
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    const char *agent =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    cs_json_write_key_c(w, "requestContext");
    cs_json_write_object_begin(w);
    const char *fields[][2] = {{"accountId", "000000000000"},  {"apiId", "local"},
                               {"domainName", domain},         {"domainPrefix", "local"},
                               {"requestId", req->request_id}, {"routeKey", req->route_key},
                               {"stage", "$default"},          {"time", when}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        cs_json_write_key_c(w, fields[i][0]);
        cs_json_write_string_c(w, fields[i][1]);
    }
    cs_json_write_key_c(w, "timeEpoch");
    cs_json_write_int64(w, now_ms);
    cs_json_write_key_c(w, "http");
    cs_json_write_object_begin(w);
    const char *http[][2] = {{"method", req->method},
                             {"path", req->path},
                             {"protocol", "HTTP/1.1"},
                             {"sourceIp", "127.0.0.1"},
                             {"userAgent", agent ? agent : ""}};
    for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
        cs_json_write_key_c(w, http[i][0]);
        cs_json_write_string_c(w, http[i][1]);
    }
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

static void write_body(cs_json_writer *w, cs_str body, cs_buf *scratch)
{
    bool text = cs_utf8_valid(body, NULL);
    cs_json_write_key_c(w, "body");
    if (text) {
        cs_json_write_string(w, body);
    } else {
        cs_base64_encode(body, scratch);
        cs_json_write_string(w, cs_str_make(scratch->data, scratch->len));
    }
    cs_json_write_key_c(w, "isBase64Encoded");
    cs_json_write_bool(w, !text);
}

cs_error em_http_event_write(const em_http_request *req, cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_buf query, scratch;
    cs_buf_init(&query, 0);
    cs_buf_init(&scratch, 0);
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query, &query);
    cs_json_write_object_begin(&w);
    const char *top[][2] = {{"version", "2.0"},
                            {"routeKey", req->route_key},
                            {"rawPath", req->path},
                            {"rawQueryString", query.data ? query.data : ""}};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        cs_json_write_key_c(&w, top[i][0]);
        cs_json_write_string_c(&w, top[i][1]);
    }
    header_walk h = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &h);
    write_headers(&w, &h);
    if (h.cookie) {
        write_cookies(&w, h.cookie);
    }
    if (query.len) {
        cs_json_write_key_c(&w, "queryStringParameters");
        cs_json_write_object_begin(&w);
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, write_argument, &w);
        cs_json_write_object_end(&w);
    }
    if (req->params->count) {
        cs_json_write_key_c(&w, "pathParameters");
        cs_json_write_object_begin(&w);
        for (int i = 0; i < req->params->count; i++) {
            cs_json_write_key(&w, req->params->names[i]);
            cs_json_write_string(&w, req->params->values[i]);
        }
        cs_json_write_object_end(&w);
    }
    write_request_context(&w, req, cs_time_now_ms());
    write_body(&w, req->body, &scratch);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&query);
    cs_buf_clean_up(&scratch);
    return r;
}

/* ---- the response ---- */

static enum MHD_Result respond_structured(struct MHD_Connection *conn, const cs_json *root)
{
    int64_t status = 200;
    cs_json_opt_int64(root, "statusCode", &status, NULL);
    cs_str body = CS_STR_NULL;
    bool base64 = false;
    cs_json_opt_string(root, "body", &body, NULL);
    cs_json_opt_bool(root, "isBase64Encoded", &base64, NULL);
    cs_buf decoded;
    cs_buf_init(&decoded, 0);
    if (base64 && cs_base64_decode(body, &decoded, NULL) == CS_ERR_OK) {
        body = cs_str_make(decoded.data ? decoded.data : "", decoded.len);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body.len, (void *)(body.ptr ? body.ptr : ""), MHD_RESPMEM_MUST_COPY);
    cs_buf_clean_up(&decoded);
    const cs_json *headers = cs_json_object_get(root, cs_str_from_c("headers"));
    for (const cs_json *h = headers ? headers->first : NULL; h; h = h->next) {
        char name[256], value[4096];
        snprintf(name, sizeof(name), "%.*s", CS_STR_FMT(h->key));
        snprintf(value, sizeof(value), "%.*s", CS_STR_FMT(h->text));
        MHD_add_response_header(r, name, value);
    }
    const cs_json *cookies = cs_json_object_get(root, cs_str_from_c("cookies"));
    for (const cs_json *c = cookies ? cookies->first : NULL; c; c = c->next) {
        char value[4096];
        snprintf(value, sizeof(value), "%.*s", CS_STR_FMT(c->text));
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, value);
    }
    enum MHD_Result ok =
        MHD_queue_response(conn, status >= 100 && status <= 599 ? (unsigned)status : 500, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result em_http_respond(struct MHD_Connection *conn, cs_str payload)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 64 * 1024 * 1024);
    cs_json *root = NULL;
    enum MHD_Result ok;
    if (!cs_json_parse(&arena, payload, &root, NULL) && root->type == CS_JSON_OBJECT &&
        cs_json_object_get(root, cs_str_from_c("statusCode"))) {
        ok = respond_structured(conn, root);
    } else {
        ok = em_reply(conn, MHD_HTTP_OK, "application/json", payload.ptr ? payload.ptr : "",
                      payload.len, NULL);
    }
    cs_arena_clean_up(&arena);
    return ok;
}
