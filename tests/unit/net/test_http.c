/* The HTTP client against a scripted server: what it sends, how it retries,
 * paces, respects deadlines, redacts for the audit hook and checks TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timestamp.h"
#include "fake_http.h"
#include "net/http.h"
#include "fixture.h"
#include "testing.h"

typedef struct fixture {
    fake_http *server;
    cs_http_client *client;
    cs_buf body;
    char url[256];
} fixture;

static int make(void **state, const cs_http_options *options)
{
    fixture *fx = calloc(1, sizeof(*fx));
    fx->server = fake_http_start(NULL, NULL);
    assert_non_null(fx->server);
    fx->client = cs_http_client_new(options, NULL);
    assert_non_null(fx->client);
    cs_buf_init(&fx->body, 0);
    snprintf(fx->url, sizeof(fx->url), "%s/admin/api/orders.json", fake_http_base(fx->server));
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    cs_http_options options = {.backoff_base_ms = 5, .backoff_cap_ms = 20, .max_attempts = 3};
    return make(state, &options);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    cs_http_client_destroy(fx->client);
    fake_http_stop(fx->server);
    cs_buf_clean_up(&fx->body);
    free(fx);
    return 0;
}

static cs_error send_get(fixture *fx, cs_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->body = &fx->body;
    const char *headers[] = {"X-Shopify-Access-Token: shpat_secret", NULL};
    cs_http_request req = {.method = "GET", .url = fx->url, .headers = headers};
    return cs_http_send(fx->client, &req, resp, NULL);
}

static void sends_the_request_and_reads_the_answer(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 200, "Content-Type: application/json\n", "{\"orders\":[]}", 0);
    cs_http_response resp = {.body = &fx->body};
    const char *headers[] = {"Content-Type: application/json", NULL};
    cs_http_request req = {
        .method = "POST", .url = fx->url, .headers = headers, .body = CS_STR_LIT("{\"a\":1}")};
    assert_int_equal(cs_http_send(fx->client, &req, &resp, NULL), CS_ERR_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(fx->body.data, "{\"orders\":[]}");
    const fake_http_request *r = fake_http_at(fx->server, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->url, "/admin/api/orders.json");
    assert_string_equal(r->body, "{\"a\":1}");
    char value[128];
    assert_string_equal(fake_http_header(r, "content-type", value, sizeof(value)),
                        "application/json");
    assert_null(fake_http_header(r, "expect", value, sizeof(value))); /* small body */
}

static void transient_failures_are_retried(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 503, NULL, "busy", 0);
    fake_http_push(fx->server, 502, NULL, "bad gateway", 0);
    fake_http_push(fx->server, 200, NULL, "ok", 0);
    cs_http_response resp;
    assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    assert_int_equal(resp.attempts, 3);
    assert_string_equal(fx->body.data, "ok");
    assert_int_equal(fake_http_count(fx->server), 3);
    /* Three attempts, one kept-alive connection. */
    assert_int_equal(fake_http_connections(fx->server), 1);
}

static void retries_stop_after_the_last_attempt(void **state)
{
    fixture *fx = *state;
    for (int i = 0; i < 5; i++) {
        fake_http_push(fx->server, 500, NULL, "down", 0);
    }
    cs_http_response resp;
    assert_int_equal(send_get(fx, &resp), CS_ERR_HTTP_TRANSIENT);
    assert_int_equal(resp.status, 500);
    assert_int_equal(fake_http_count(fx->server), 3);
}

static void client_errors_are_never_retried(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 422, NULL, "{\"errors\":{\"sku\":[\"is invalid\"]}}", 0);
    fake_http_push(fx->server, 409, NULL, "{\"message\":\"version\"}", 0);
    cs_http_response resp;
    cs_diag diag;
    memset(&resp, 0, sizeof(resp));
    resp.body = &fx->body;
    cs_http_request req = {.method = "GET", .url = fx->url};
    assert_int_equal(cs_http_send(fx->client, &req, &resp, &diag), CS_ERR_HTTP_PERMANENT);
    assert_non_null(strstr(diag.message, "is invalid"));
    assert_int_equal(fake_http_count(fx->server), 1);
    assert_int_equal(cs_http_send(fx->client, &req, &resp, NULL), CS_ERR_HTTP_CONFLICT);
    assert_int_equal(fake_http_count(fx->server), 2);
}

static void retry_after_is_honoured(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 429, "Retry-After: 1\n", "{\"errors\":\"Exceeded 2 calls\"}", 0);
    fake_http_push(fx->server, 200, NULL, "ok", 0);
    cs_http_response resp;
    assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    int64_t gap = fake_http_at(fx->server, 1)->at_ms - fake_http_at(fx->server, 0)->at_ms;
    assert_true(gap >= 950);
}

static bool throttled_body(long status, cs_str body)
{
    return status == 400 && memmem(body.ptr, body.len, "Throttling", 10) != NULL;
}

static void a_body_can_say_retry(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 400, NULL, "{\"__type\":\"x#ThrottlingException\"}", 0);
    fake_http_push(fx->server, 200, NULL, "{}", 0);
    cs_http_response resp = {.body = &fx->body};
    cs_http_request req = {.method = "POST", .url = fx->url, .retry_body = throttled_body};
    assert_int_equal(cs_http_send(fx->client, &req, &resp, NULL), CS_ERR_OK);
    assert_int_equal(resp.attempts, 2);
}

static void the_deadline_bounds_every_wait(void **state)
{
    fixture *fx = *state;
    fake_http_push(fx->server, 200, NULL, "late", 3000);
    cs_http_set_deadline(fx->client, cs_time_now_ms() + 700); /* 500 ms after the margin */
    cs_http_response resp;
    int64_t start = cs_time_monotonic_ms();
    assert_int_equal(send_get(fx, &resp), CS_ERR_HTTP_TRANSIENT);
    int64_t took = cs_time_monotonic_ms() - start;
    assert_true(took < 1000);
    /* Past the deadline nothing is sent at all. */
    size_t sent = fake_http_count(fx->server);
    cs_http_set_deadline(fx->client, cs_time_now_ms() - 1);
    assert_int_equal(send_get(fx, &resp), CS_ERR_DEADLINE);
    assert_int_equal(fake_http_count(fx->server), sent);
}

static void unreachable_hosts_are_transient(void **state)
{
    fixture *fx = *state;
    snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:1/x");
    cs_http_response resp;
    assert_int_equal(send_get(fx, &resp), CS_ERR_HTTP_TRANSIENT);
    assert_int_equal(resp.attempts, 3);
}

static void pacing_spreads_requests(void **state)
{
    fixture *fx = *state;
    assert_int_equal(cs_http_pace(fx->client, "127.0.0.1", 2, 10), CS_ERR_OK);
    for (int i = 0; i < 6; i++) {
        fake_http_push(fx->server, 200, NULL, "ok", 0);
    }
    int64_t start = cs_time_monotonic_ms();
    cs_http_response resp;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    }
    /* Two tokens at hand, then four more at ten a second. */
    assert_true(cs_time_monotonic_ms() - start >= 380);
}

static void the_server_tells_the_bucket_what_is_left(void **state)
{
    fixture *fx = *state;
    assert_int_equal(cs_http_pace(fx->client, "127.0.0.1", 40, 2), CS_ERR_OK);
    fake_http_push(fx->server, 200, "X-Shopify-Shop-Api-Call-Limit: 40/40\n", "ok", 0);
    fake_http_push(fx->server, 200, NULL, "ok", 0);
    cs_http_response resp;
    assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    assert_true(cs_http_pace_available(fx->client, "127.0.0.1") < 0.5);
    assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    /* The second call waited for a token at two a second. */
    int64_t gap = fake_http_at(fx->server, 1)->at_ms - fake_http_at(fx->server, 0)->at_ms;
    assert_true(gap >= 450);
    /* GraphQL's throttle status comes from the body, through the connector. */
    cs_http_pace_report(fx->client, "127.0.0.1", 500, 1000, 50);
    assert_true(cs_http_pace_available(fx->client, "127.0.0.1") >= 500);
    fake_http_push(fx->server, 200, "Sforce-Limit-Info: api-usage=14990/15000\n", "ok", 0);
    assert_int_equal(send_get(fx, &resp), CS_ERR_OK);
    assert_true(cs_http_pace_available(fx->client, "127.0.0.1") < 11);
}

typedef struct audit_log {
    int calls;
    char request[512];
    char response[512];
    char url[256];
    long status;
} audit_log;

static void record_audit(void *user, const cs_http_audit *a)
{
    audit_log *log = user;
    log->calls++;
    log->status = a->status;
    snprintf(log->request, sizeof(log->request), "%.*s", CS_STR_FMT(a->request_body));
    snprintf(log->response, sizeof(log->response), "%.*s", CS_STR_FMT(a->response_body));
    snprintf(log->url, sizeof(log->url), "%s", a->url);
}

static void the_audit_hook_sees_no_secrets_or_pii(void **state)
{
    static audit_log log;
    static const char *const pii[] = {"email", "phone", "first_name", NULL};
    cs_http_options options = {.audit = record_audit, .audit_user = &log, .pii_fields = pii};
    make(state, &options);
    fixture *fx = *state;
    assert_int_equal(cs_http_add_secret(fx->client, CS_STR_LIT("shpat_secret")), CS_ERR_OK);
    fake_http_push(fx->server, 201, NULL,
                   "{\"customer\":{\"id\":7,\"email\":\"ann@example.com\",\"phone\":null,"
                   "\"addresses\":[{\"first_name\":\"Ann\",\"city\":\"Riga\"}]}}",
                   0);
    snprintf(fx->url, sizeof(fx->url), "%s/x?token=shpat_secret", fake_http_base(fx->server));
    cs_http_response resp = {.body = &fx->body};
    cs_http_request req = {
        .method = "POST",
        .url = fx->url,
        .body = CS_STR_LIT("{\"email\":\"ann@example.com\",\"note\":\"key shpat_secret\"}")};
    assert_int_equal(cs_http_send(fx->client, &req, &resp, NULL), CS_ERR_OK);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.status, 201);
    assert_string_equal(log.request, "{\"email\":\"[REDACTED]\",\"note\":\"key [REDACTED]\"}");
    assert_string_equal(log.response, "{\"customer\":{\"id\":7,\"email\":\"[REDACTED]\",\"phone\":"
                                      "null,\"addresses\":[{\"first_name\":\"[REDACTED]\","
                                      "\"city\":\"Riga\"}]}}");
    assert_non_null(strstr(log.url, "token=[REDACTED]"));
    /* The caller still gets the real body. */
    assert_non_null(strstr(fx->body.data, "ann@example.com"));
    teardown(state);
}

static void tls_peers_are_verified(void **state)
{
    (void)state;
    char dir[] = "/tmp/cs-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fake_http_make_cert(dir), 0);
    char cert_path[256], key_path[256];
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    char *cert = fixture_read_absolute(cert_path);
    char *key = fixture_read_absolute(key_path);
    fake_http *server = fake_http_start(cert, key);
    assert_non_null(server);
    fake_http_push(server, 200, NULL, "secure", 0);
    char url[256];
    snprintf(url, sizeof(url), "%s/x", fake_http_base(server));
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_http_response resp = {.body = &body};
    cs_http_request req = {.method = "GET", .url = url};
    /* A self-signed certificate is refused... */
    cs_http_client *strict = cs_http_client_new(NULL, NULL);
    assert_int_equal(cs_http_send(strict, &req, &resp, NULL), CS_ERR_TLS);
    cs_http_client_destroy(strict);
    /* ...unless its CA is configured. */
    cs_http_options options = {.ca_file = cert_path};
    cs_http_client *trusting = cs_http_client_new(&options, NULL);
    assert_int_equal(cs_http_send(trusting, &req, &resp, NULL), CS_ERR_OK);
    assert_string_equal(body.data, "secure");
    cs_http_client_destroy(trusting);
    fake_http_stop(server);
    cs_buf_clean_up(&body);
    free(cert);
    free(key);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sends_the_request_and_reads_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(transient_failures_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(retries_stop_after_the_last_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(client_errors_are_never_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_after_is_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(a_body_can_say_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(the_deadline_bounds_every_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(unreachable_hosts_are_transient, setup, teardown),
        cmocka_unit_test_setup_teardown(pacing_spreads_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(the_server_tells_the_bucket_what_is_left, setup, teardown),
        cmocka_unit_test(the_audit_hook_sees_no_secrets_or_pii),
        cmocka_unit_test(tls_peers_are_verified),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
