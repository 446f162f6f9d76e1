#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/order.h"
#include "fixture.h"
#include "testing.h"
#include "mapping/validate.h"
#include "model/codec.h"

typedef cs_error (*decoder)(const cs_json *, const cs_shopify_order_opts *, cs_arena *, cs_order *,
                            cs_problems *);

/* Decodes a fixture, checks that its amounts add up, and compares the
 * canonical JSON with the golden file. */
static void expect_canonical(decoder decode, const char *input, const cs_shopify_order_opts *opts,
                             const char *golden)
{
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (decode(test_parse_fixture(&test_arena, input), opts, &test_arena, &order, &problems) ||
        cs_validate_order(&order, NULL, &problems)) {
        fail_msg("%s:\n%s", input, test_problems_text(&test_arena, &problems));
    }
    test_expect_canonical(&cs_schema_order, &order, golden);
}

static void webhook_order_decodes_to_the_canonical_order(void **state)
{
    (void)state;
    cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("us")};
    expect_canonical(cs_shopify_order_decode, "shopify/order-webhook.json", &opts,
                     "shopify/order-webhook.canonical.json");
}

/* An order read back by polling must be the same record as the one its
 * webhook delivered, or the sync would see two orders. */
static void the_graphql_node_of_an_order_decodes_like_its_webhook(void **state)
{
    (void)state;
    cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("us")};
    expect_canonical(cs_shopify_order_decode_graphql, "shopify/order-graphql.json", &opts,
                     "shopify/order-webhook.canonical.json");
}

/* A yen shop selling in euros, prices with VAT included, a guest, a code
 * whose 10.00 EUR does not divide evenly over three lines, partly shipped
 * and partly refunded: once in the shop's currency, once in the customer's. */
static void a_multi_currency_order_decodes_in_either_currency(void **state)
{
    (void)state;
    cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("de")};
    expect_canonical(cs_shopify_order_decode_graphql, "shopify/order-graphql-jpy-eur.json", &opts,
                     "shopify/order-graphql-jpy-eur.shop.canonical.json");
    opts.presentment = true;
    expect_canonical(cs_shopify_order_decode_graphql, "shopify/order-graphql-jpy-eur.json", &opts,
                     "shopify/order-graphql-jpy-eur.presentment.canonical.json");
}

static void bad_order_names_each_field(void **state)
{
    (void)state;
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(
        cs_shopify_order_decode(test_parse_fixture(&test_arena, "shopify/order-bad.json"), NULL,
                                &test_arena, &order, &problems),
        CS_ERR_INVALID_ARGUMENT);
    char *expected = fixture_read("shopify/order-bad.expected", NULL);
    test_expect_text("problems", test_problems_text(&test_arena, &problems), expected);
    free(expected);

    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_shopify_order_decode_graphql(
                         test_parse_fixture(&test_arena, "shopify/order-graphql-bad.json"), NULL,
                         &test_arena, &order, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    expected = fixture_read("shopify/order-graphql-bad.expected", NULL);
    test_expect_text("graphql problems", test_problems_text(&test_arena, &problems), expected);
    free(expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(webhook_order_decodes_to_the_canonical_order),
        cmocka_unit_test(the_graphql_node_of_an_order_decodes_like_its_webhook),
        cmocka_unit_test(a_multi_currency_order_decodes_in_either_currency),
        cmocka_unit_test(bad_order_names_each_field),
    };
    return cmocka_run_group_tests_name("shopify_order", tests, test_arena_setup,
                                       test_arena_teardown);
}
