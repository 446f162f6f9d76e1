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

static void webhook_order_decodes_to_the_canonical_order(void **state)
{
    (void)state;
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("us")};
    assert_int_equal(
        cs_shopify_order_decode(test_parse_fixture(&test_arena, "shopify/order-webhook.json"),
                                &opts, &test_arena, &order, &problems),
        CS_ERR_OK);
    /* What Shopify sent adds up. */
    assert_int_equal(cs_validate_order(&order, NULL, &problems), CS_ERR_OK);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_record_encode(&cs_schema_order, &order, &w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    char *expected = fixture_read("shopify/order-webhook.canonical.json", NULL);
    test_expect_text("canonical order", out.data, expected);
    free(expected);
    cs_buf_clean_up(&out);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(webhook_order_decodes_to_the_canonical_order),
        cmocka_unit_test(bad_order_names_each_field),
    };
    return cmocka_run_group_tests_name("shopify_order", tests, test_arena_setup,
                                       test_arena_teardown);
}
