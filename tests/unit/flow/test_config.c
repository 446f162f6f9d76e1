/* The integration config: references resolved, and a bad file refused at
 * init with every problem named by its path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/config.h"
#include "moto.h"
#include "net/aws.h"
#include "testing.h"

static void load(cs_config *c, const char *fixture)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/fixtures/%s", fixture);
    cs_diag diag;
    if (cs_config_load(c, path, &test_arena, NULL, &diag)) {
        fail_msg("%s", diag.message);
    }
}

static const char *problem_lines(const cs_config *c, cs_buf *all)
{
    cs_buf_init(all, 0);
    for (size_t i = 0; i < c->problems.count; i++) {
        const cs_problem *p = &c->problems.items[i];
        cs_buf_appendf(all, "%s%s: %s: %s", i ? "\n" : "", p->path, p->rule, p->message);
    }
    cs_buf_append_byte(all, '\0');
    return all->data;
}

/* A secret in moto's Secrets Manager, its name in the variable `env`, as
 * the template passes each secret's ARN. */
static void put_secret(cs_aws *aws, const char *env, const char *name, const char *value)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"Name\":\"%s\",\"SecretString\":\"%s\"}", name, value);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_diag diag;
    if (cs_secretsmanager(aws, "CreateSecret", cs_str_from_c(body), &out, &diag)) {
        fail_msg("CreateSecret %s: %s", name, diag.message);
    }
    cs_buf_clean_up(&out);
    setenv(env, name, 1);
}

/* The shipped config, its secrets read from Secrets Manager (moto_server)
 * and its other values from the environment. */
static void references_are_resolved(void **st)
{
    (void)st;
    moto peer;
    assert_int_equal(moto_start(&peer, true), 0);
    cs_http_client *http = cs_http_client_new(&(cs_http_options){.max_attempts = 2}, NULL);
    cs_aws aws;
    cs_diag diag;
    assert_int_equal(cs_aws_init(&aws, http, peer.endpoint, &diag), CS_ERR_OK);
    put_secret(&aws, "EXACTMAX_KEY_SECRET_ARN", "test/exactmax-key", "k-123");
    put_secret(&aws, "SHOPIFY_APP_SECRET_ARN", "test/shopify-app-secret", "s-456");
    setenv("EXACTMAX_URL", "http://127.0.0.1:1/max/v1", 1);
    cs_config c;
    if (cs_config_load(&c, "infra/config/shopify-exactmax.json", &test_arena, &aws, &diag)) {
        fail_msg("%s", diag.message);
    }
    const cs_json *max = cs_config_object(&c, "connections.exactmax", false);
    assert_true(cs_str_eq_c(cs_config_string(&c, max, "connections.exactmax", "url", false),
                            "http://127.0.0.1:1/max/v1"));
    assert_true(cs_str_eq_c(cs_config_secret(&c, max, "connections.exactmax", "key"), "k-123"));
    const cs_json *shopify = cs_config_object(&c, "connections.shopify", false);
    assert_true(cs_str_eq_c(cs_config_secret(&c, shopify, "connections.shopify", "webhook_secret"),
                            "s-456"));
    const cs_json *o = cs_config_object(&c, "order_export", false);
    assert_true(cs_str_eq_c(cs_config_string(&c, o, "order_export", "terms", false), "NET30"));
    assert_int_equal(cs_config_int(&c, o, "order_export", "due_days", 0, 365, 0), 3);
    assert_int_equal(cs_config_check(&c, NULL, NULL), CS_ERR_OK);

    /* A secret the store does not have is a problem at its path. */
    setenv("SHOPIFY_TOKENS_SECRET_ARN", "test/no-such-secret", 1);
    cs_config_secret(&c, shopify, "connections.shopify", "access_tokens");
    assert_int_equal(cs_config_check(&c, NULL, &diag), CS_ERR_CONFIG);
    assert_non_null(strstr(diag.message, "connections.shopify.access_tokens: secret: secret "
                                         "test/no-such-secret: "));
    assert_non_null(strstr(diag.message, "ResourceNotFoundException"));
    cs_http_client_destroy(http);
    moto_stop(&peer);
}

static void every_problem_is_listed(void **st)
{
    (void)st;
    unsetenv("CS_TEST_UNSET_VARIABLE");
    cs_config c;
    load(&c, "flow/bad-config.json");
    const cs_json *shopify = cs_config_object(&c, "connections.shopify", false);
    cs_config_string(&c,
                     cs_json_object_get(cs_json_object_get(shopify, CS_STR_LIT("shops")),
                                        CS_STR_LIT("us-store.myshopify.com")),
                     "connections.shopify.shops.us-store.myshopify.com", "store", false);
    cs_config_secret(&c, shopify, "connections.shopify", "webhook_secret");
    const cs_json *max = cs_config_object(&c, "connections.exactmax", false);
    cs_config_string(&c, max, "connections.exactmax", "url", false);
    cs_config_secret(&c, max, "connections.exactmax", "key");
    const cs_json *o = cs_config_object(&c, "order_export", false);
    cs_config_int(&c, o, "order_export", "due_days", 0, 365, 0);
    cs_config_object(&c, "stock_update", false);
    cs_diag diag;
    assert_int_equal(cs_config_check(&c, NULL, &diag), CS_ERR_CONFIG);
    assert_non_null(strstr(diag.message, "6 problems in the config: connections.shopify"));
    cs_buf all;
    test_expect_text("problems", problem_lines(&c, &all),
                     "connections.shopify.shops.us-store.myshopify.com.store: required: this "
                     "setting is missing\n"
                     "connections.shopify.webhook_secret: inline_secret: a secret is a reference "
                     "({\"secret\": ID} or {\"env\": NAME}), never its value\n"
                     "connections.exactmax.url: unset: the variable CS_TEST_UNSET_VARIABLE is "
                     "not set\n"
                     "connections.exactmax.key: reference: a secret is {\"env\": NAME}, "
                     "{\"secret\": ID} or {\"secret_env\": NAME}\n"
                     "order_export.due_days: range: must be an integer from 0 to 365\n"
                     "stock_update: required: this section is missing");
    cs_buf_clean_up(&all);
}

/* A member no function reads is named wherever it is, with the word it was
 * probably meant to be; what is inside lookups and references is the
 * mapping library's and the getters' to check. */
static void a_member_that_is_no_setting_is_named(void **st)
{
    (void)st;
    cs_config c;
    load(&c, "flow/stray-members.json");
    const cs_json *s = cs_config_object(&c, "fulfillment_callback", false);
    assert_true(cs_config_bool(&c, s, "fulfillment_callback", "notify_customer", true));
    cs_buf all;
    test_expect_text(
        "problems", problem_lines(&c, &all),
        "conections: unknown_key: not a setting; did you mean connections? (the config has "
        "integration, connections, order_export, customer_export, stock_update, "
        "fulfillment_callback, lookups, maps, ownership, identity)\n"
        "connections.shopify.shops.us-store.myshopify.com.share: unknown_key: not a setting "
        "(connections.shopify.shops.* has store)\n"
        "connections.exactmax.timeout: unknown_key: not a setting (connections.exactmax has "
        "url, key)\n"
        "stock_update.locations[1].shares: unknown_key: not a setting; did you mean share? "
        "(stock_update.locations[] has stockroom, store, location, channel, share)\n"
        "stock_update.safety_stock.stockroom: unknown_key: not a setting; did you mean "
        "stockrooms? (stock_update.safety_stock has default, category_lookup, skus, "
        "categories, stockrooms)\n"
        "fulfillment_callback.notify_customer: type: must be true or false");
    cs_buf_clean_up(&all);
}

/* The shipped configs have no stray member. */
static void the_shipped_configs_have_only_settings(void **st)
{
    (void)st;
    const char *files[] = {"infra/config/shopify-exactmax.json",
                           "infra/config/commercetools-exactmax.json"};
    for (size_t i = 0; i < 2; i++) {
        cs_config c;
        cs_diag diag;
        if (cs_config_load(&c, files[i], &test_arena, NULL, &diag)) {
            fail_msg("%s", diag.message);
        }
        cs_buf all;
        test_expect_text(files[i], problem_lines(&c, &all), "");
        cs_buf_clean_up(&all);
    }
}

static void a_missing_or_broken_file_is_named(void **st)
{
    (void)st;
    cs_config c;
    cs_diag diag;
    assert_int_equal(cs_config_load(&c, "tests/fixtures/flow/none.json", &test_arena, NULL, &diag),
                     CS_ERR_CONFIG);
    assert_non_null(strstr(diag.message, "tests/fixtures/flow/none.json"));
    assert_int_equal(
        cs_config_load(&c, "tests/fixtures/flow/broken.json", &test_arena, NULL, &diag),
        CS_ERR_CONFIG);
    assert_non_null(strstr(diag.message, "broken.json"));
    assert_non_null(strstr(diag.message, "byte"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(references_are_resolved),
        cmocka_unit_test(every_problem_is_listed),
        cmocka_unit_test(a_member_that_is_no_setting_is_named),
        cmocka_unit_test(the_shipped_configs_have_only_settings),
        cmocka_unit_test(a_missing_or_broken_file_is_named),
    };
    return cmocka_run_group_tests_name("config", tests, test_arena_setup, test_arena_teardown);
}
