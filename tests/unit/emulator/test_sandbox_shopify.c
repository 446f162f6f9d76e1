/* The sandbox's Shopify webhooks: signed as Shopify signs them, retried,
 * duplicated, delivered to an HTTP receiver or an emulator queue; what
 * arrives verifies with the connector's check and decodes to a sound
 * order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/shopify/order.h"
#include "connectors/shopify/webhook.h"
#include "emulator/sandbox/sandbox.h"
#include "emulator_fixture.h"
#include "fake_http.h"
#include "fixture.h"
#include "mapping/validate.h"
#include "net/http.h"
#include "testing.h"

static const char secret[] = "hush-app-secret";

static sb_sandbox *sandbox;
static cs_http_client *http;
static char base[64];

static int setup(void **st)
{
    sb_opts opts = {.shopify = {.seed = 7}};
    cs_diag diag;
    if (sb_start(&opts, &sandbox, &diag) || !(http = cs_http_client_new(NULL, &diag))) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)sb_port(sandbox));
    return test_arena_setup(st);
}

static int teardown(void **st)
{
    cs_http_client_destroy(http);
    sb_stop(sandbox);
    return test_arena_teardown(st);
}

static char *sandbox_post(const char *path, const char *body, long *status)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    return test_post(http, url, NULL, body, status);
}

static void wait_for_requests(fake_http *f, size_t n)
{
    for (int i = 0; i < 300 && fake_http_count(f) < n; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(fake_http_count(f), n);
}

/* The request's headers as the connector's check takes them. */
static size_t headers_of(const fake_http_request *r, cs_header *out, char values[][128])
{
    static const char *names[] = {"x-shopify-topic", "x-shopify-hmac-sha256",
                                  "x-shopify-shop-domain", "x-shopify-webhook-id",
                                  "x-shopify-api-version"};
    for (size_t i = 0; i < 5; i++) {
        const char *v = fake_http_header(r, names[i], values[i], 128);
        out[i] = (cs_header){cs_str_from_c(names[i]), cs_str_from_c(v ? v : "")};
    }
    return 5;
}

static void verify_and_decode(cs_str body, const cs_header *h, size_t n, cs_shopify_webhook *out)
{
    cs_diag diag = {0};
    if (cs_shopify_webhook_verify(h, n, body, cs_str_from_c(secret), out, &diag)) {
        fail_msg("%s", diag.message);
    }
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_shopify_order_decode(test_parse(&test_arena, body.ptr, body.len), NULL, &test_arena,
                                &order, &problems) ||
        cs_validate_order(&order, NULL, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
}

static void an_order_webhook_is_signed_retried_and_duplicated(void **st)
{
    (void)st;
    fake_http *receiver = fake_http_start(NULL, NULL);
    fake_http_push(receiver, 500, NULL, "busy", 0);
    for (int i = 0; i < 3; i++) {
        fake_http_push(receiver, 200, NULL, "", 0);
    }
    char subscribe[512];
    snprintf(subscribe, sizeof(subscribe),
             "{\"address\":\"%s/webhooks\",\"secret\":\"%s\",\"duplicates\":1,"
             "\"retry_delays_ms\":[50,50],\"topics\":[\"orders/create\"]}",
             fake_http_base(receiver), secret);
    long status;
    sandbox_post("/_sandbox/shopify/eu-store/webhooks", subscribe, &status);
    assert_int_equal(status, 204);
    char *order = sandbox_post("/_sandbox/shopify/eu-store/orders", "{}", &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(order, "\"currency\":\"EUR\""));

    /* One refused, retried; one duplicate: three requests, one webhook id. */
    wait_for_requests(receiver, 3);
    char ids[3][128];
    for (size_t i = 0; i < 3; i++) {
        const fake_http_request *r = fake_http_at(receiver, i);
        cs_header h[5];
        char values[5][128];
        size_t n = headers_of(r, h, values);
        cs_shopify_webhook w;
        verify_and_decode(cs_str_make(r->body, r->body_len), h, n, &w);
        assert_true(cs_str_eq_c(w.topic, "orders/create"));
        assert_true(cs_str_eq_c(w.shop_domain, "eu-store.myshopify.com"));
        snprintf(ids[i], sizeof(ids[i]), "%.*s", CS_STR_FMT(w.webhook_id));
        assert_string_equal(r->body, order);
    }
    assert_string_equal(ids[0], ids[1]);
    assert_string_equal(ids[1], ids[2]);

    /* A body changed on the way, or the wrong secret, is refused. */
    const fake_http_request *r = fake_http_at(receiver, 0);
    cs_header h[5];
    char values[5][128];
    size_t n = headers_of(r, h, values);
    cs_shopify_webhook w;
    r->body[r->body_len - 2] = r->body[r->body_len - 2] == '1' ? '2' : '1';
    assert_int_equal(cs_shopify_webhook_verify(h, n, cs_str_make(r->body, r->body_len),
                                               cs_str_from_c(secret), &w, NULL),
                     CS_ERR_SIGNATURE);
    assert_int_equal(cs_shopify_webhook_verify(h, n, cs_str_from_c(order),
                                               CS_STR_LIT("another-secret"), &w, NULL),
                     CS_ERR_SIGNATURE);
    sandbox_post("/_sandbox/shopify/eu-store/webhooks", "{\"address\":\"\"}", &status);
    fake_http_stop(receiver);
}

/* duplicate_every: every Nth event goes out once more; faults' every: every
 * Nth request to a system answers the status, until turned off. */
static void some_events_twice_and_some_requests_refused(void **st)
{
    (void)st;
    fake_http *receiver = fake_http_start(NULL, NULL);
    char subscribe[512];
    snprintf(subscribe, sizeof(subscribe),
             "{\"address\":\"%s/webhooks\",\"secret\":\"%s\",\"duplicate_every\":3,"
             "\"topics\":[\"orders/create\"]}",
             fake_http_base(receiver), secret);
    long status;
    sandbox_post("/_sandbox/shopify/us-store/webhooks", subscribe, &status);
    assert_int_equal(status, 204);
    for (int i = 0; i < 6; i++) {
        sandbox_post("/_sandbox/shopify/us-store/orders", "{}", &status);
        assert_int_equal(status, 200);
    }
    wait_for_requests(receiver, 8);
    sandbox_post("/_sandbox/shopify/us-store/webhooks", "{\"address\":\"\"}", &status);
    fake_http_stop(receiver);

    sandbox_post("/_sandbox/faults", "{\"system\":\"shopify\",\"status\":503,\"every\":4}",
                 &status);
    assert_int_equal(status, 204);
    cs_http_options once = {.max_attempts = 1};
    cs_http_client *plain = cs_http_client_new(&once, NULL);
    char url[256];
    snprintf(url, sizeof(url), "%s/shopify/us-store/admin/api/2026-01/graphql.json", base);
    int refused = 0;
    for (int i = 0; i < 12; i++) {
        test_post(plain, url, NULL, "{}", &status);
        refused += status == 503;
    }
    assert_int_equal(refused, 3);
    sandbox_post("/_sandbox/faults", "{\"system\":\"shopify\",\"every\":0}", &status);
    for (int i = 0; i < 4; i++) {
        test_post(plain, url, NULL, "{}", &status);
        assert_int_not_equal(status, 503);
    }
    cs_http_client_destroy(plain);
    sandbox_post("/_sandbox/faults", "{\"system\":\"shopify\",\"every\":2,\"count\":1}", &status);
    assert_int_equal(status, 400);
}

/* Shopify's webhooks onto an emulator queue: the body is the message, the
 * headers its attributes, and the signature still holds. */
static void webhooks_reach_an_emulator_queue(void **st)
{
    (void)st;
    test_emulator em;
    test_emulator_start(&em, "sandbox/queue-only.yaml");
    char queue_url[128], subscribe[512];
    snprintf(queue_url, sizeof(queue_url), "%s/000000000000/shopify-orders", em.endpoint);
    snprintf(subscribe, sizeof(subscribe), "{\"address\":\"sqs:%s\",\"secret\":\"%s\"}", queue_url,
             secret);
    long status;
    sandbox_post("/_sandbox/shopify/jp-store/webhooks", subscribe, &status);
    assert_int_equal(status, 204);
    char *order = sandbox_post("/_sandbox/shopify/jp-store/orders", "{}", &status);
    assert_int_equal(status, 200);

    char receive[256];
    snprintf(receive, sizeof(receive),
             "{\"QueueUrl\":\"%s\",\"WaitTimeSeconds\":5,\"MessageAttributeNames\":[\"All\"]}",
             queue_url);
    char *answer = test_post(http, em.endpoint, "AmazonSQS.ReceiveMessage", receive, &status);
    assert_int_equal(status, 200);
    const cs_json *message = cs_json_array_at(
        cs_json_object_get(test_parse(&test_arena, answer, strlen(answer)), CS_STR_LIT("Messages")),
        0);
    assert_non_null(message);
    cs_str body = cs_json_object_get(message, CS_STR_LIT("Body"))->text;
    assert_true(cs_str_eq_c(body, order));
    const cs_json *attributes = cs_json_object_get(message, CS_STR_LIT("MessageAttributes"));
    cs_header h[5];
    const char *names[] = {"X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain",
                           "X-Shopify-Webhook-Id", "X-Shopify-API-Version"};
    for (size_t i = 0; i < 5; i++) {
        const cs_json *a = cs_json_object_get(attributes, cs_str_from_c(names[i]));
        assert_non_null(a);
        h[i] = (cs_header){cs_str_from_c(names[i]),
                           cs_json_object_get(a, CS_STR_LIT("StringValue"))->text};
    }
    cs_shopify_webhook w;
    verify_and_decode(body, h, 5, &w);
    assert_true(cs_str_eq_c(w.shop_domain, "jp-store.myshopify.com"));
    sandbox_post("/_sandbox/shopify/jp-store/webhooks", "{\"address\":\"\"}", &status);
    test_emulator_stop(&em);
}

static void a_bad_subscription_is_named(void **st)
{
    (void)st;
    long status;
    char *answer = sandbox_post("/_sandbox/shopify/eu-store/webhooks",
                                "{\"address\":\"http://127.0.0.1:1/x\"}", &status);
    assert_int_equal(status, 400);
    assert_non_null(strstr(answer, "an address needs a secret"));
    answer = sandbox_post("/_sandbox/shopify/eu-store/webhooks",
                          "{\"address\":\"http://127.0.0.1:1/x\",\"secret\":\"s\","
                          "\"retry_delays_ms\":[-1]}",
                          &status);
    assert_int_equal(status, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_webhook_is_signed_retried_and_duplicated),
        cmocka_unit_test(some_events_twice_and_some_requests_refused),
        cmocka_unit_test(webhooks_reach_an_emulator_queue),
        cmocka_unit_test(a_bad_subscription_is_named),
    };
    return cmocka_run_group_tests_name("sandbox_shopify", tests, setup, teardown);
}
