#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/webhook.h"

static const char body[] = "{\"id\":450789469,\"name\":\"#1001\"}";
static const char secret[] = "hush-app-secret";
/* Computed apart from our code: Python's hmac and base64 modules. */
static const char signature[] = "+hWnbvLE6cvV6SLzyHA4i/goyTiwsNaViAcxLZQF5Kg=";

enum { HEADERS = 7 };

static void delivery(cs_header *h, const char *hmac)
{
    const char *pairs[HEADERS][2] = {
        {"x-shopify-topic", "orders/create"},
        {"X-Shopify-Shop-Domain", "eu-store.myshopify.com"},
        {"X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
        {"X-Shopify-API-Version", "2026-01"},
        {"X-Shopify-Hmac-SHA256", hmac},
        {"X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5"},
        {"X-Shopify-Triggered-At", "2026-11-24T08:00:00.000Z"},
    };
    for (int i = 0; i < HEADERS; i++) {
        h[i] = (cs_header){cs_str_from_c(pairs[i][0]), cs_str_from_c(pairs[i][1])};
    }
}

static cs_error verify(const cs_header *h, size_t count, const char *text, const char *key,
                       cs_shopify_webhook *out, cs_diag *diag)
{
    return cs_shopify_webhook_verify(h, count, cs_str_from_c(text), cs_str_from_c(key), out, diag);
}

static void a_signed_delivery_verifies_and_names_itself(void **st)
{
    (void)st;
    cs_header h[HEADERS];
    delivery(h, signature);
    cs_shopify_webhook w;
    cs_diag diag = {0};
    assert_int_equal(verify(h, HEADERS, body, secret, &w, &diag), CS_ERR_OK);
    assert_true(cs_str_eq_c(w.topic, "orders/create"));
    assert_true(cs_str_eq_c(w.shop_domain, "eu-store.myshopify.com"));
    assert_true(cs_str_eq_c(w.webhook_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"));
    assert_true(cs_str_eq_c(w.api_version, "2026-01"));
    assert_true(cs_str_eq_c(w.event_id, "98880550-7158-44d4-b7cd-2c97c8a091b5"));
    char signed_here[45];
    cs_shopify_webhook_sign(cs_str_from_c(body), cs_str_from_c(secret), signed_here);
    assert_string_equal(signed_here, signature);
}

static void a_changed_body_or_secret_is_refused_without_echoing_either(void **st)
{
    (void)st;
    cs_header h[HEADERS];
    delivery(h, signature);
    cs_shopify_webhook w;
    cs_diag diag = {0};
    assert_int_equal(verify(h, HEADERS, "{\"id\":450789469,\"name\":\"#1002\"}", secret, &w, &diag),
                     CS_ERR_SIGNATURE);
    assert_string_equal(diag.message, "X-Shopify-Hmac-Sha256 does not match the body");
    assert_string_equal(diag.field, "X-Shopify-Hmac-Sha256");
    assert_int_equal(verify(h, HEADERS, body, "another-secret", &w, &diag), CS_ERR_SIGNATURE);
    assert_null(strstr(diag.message, "another-secret"));

    /* Base64 of the right bytes but one short, and text that is not base64. */
    delivery(h, "+hWnbvLE6cvV6SLzyHA4i/goyTiwsNaViAcxLZQF5A==");
    assert_int_equal(verify(h, HEADERS, body, secret, &w, &diag), CS_ERR_SIGNATURE);
    delivery(h, "not a signature");
    assert_int_equal(verify(h, HEADERS, body, secret, &w, &diag), CS_ERR_SIGNATURE);
    assert_string_equal(diag.message, "X-Shopify-Hmac-Sha256 is not base64 of a SHA-256 HMAC");
}

static void a_missing_header_or_secret_is_named(void **st)
{
    (void)st;
    static const char *required[] = {"X-Shopify-Topic", "X-Shopify-Shop-Domain",
                                     "X-Shopify-Webhook-Id", "X-Shopify-API-Version",
                                     "X-Shopify-Hmac-Sha256"};
    for (int i = 0; i < 5; i++) {
        cs_header h[HEADERS];
        delivery(h, signature);
        h[i].value = cs_str_from_c(" ");
        cs_shopify_webhook w;
        cs_diag diag = {0};
        assert_int_equal(verify(h, HEADERS, body, secret, &w, &diag), CS_ERR_INVALID_ARGUMENT);
        assert_string_equal(diag.field, required[i]);
        char message[128];
        snprintf(message, sizeof(message), "the webhook has no %s header", required[i]);
        assert_string_equal(diag.message, message);
    }
    cs_header h[HEADERS];
    delivery(h, signature);
    cs_shopify_webhook w;
    cs_diag diag = {0};
    assert_int_equal(verify(h, 2, body, secret, &w, &diag), CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(verify(h, HEADERS, body, "", &w, &diag), CS_ERR_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_signed_delivery_verifies_and_names_itself),
        cmocka_unit_test(a_changed_body_or_secret_is_refused_without_echoing_either),
        cmocka_unit_test(a_missing_header_or_secret_is_named),
    };
    return cmocka_run_group_tests_name("shopify_webhook", tests, NULL, NULL);
}
