#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/refund.h"
#include "fixture.h"
#include "model/codec.h"
#include "testing.h"

typedef cs_error (*decoder)(const cs_json *, const cs_shopify_refund_opts *, cs_arena *,
                            cs_return *, cs_problems *);

static void expect_canonical(decoder decode, const char *input, const char *golden)
{
    cs_shopify_refund_opts opts = {.currency = CS_STR_LIT("USD"),
                                   .order_id = CS_STR_LIT("450789469"),
                                   .order_number = CS_STR_LIT("#1001")};
    cs_return refund;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (decode(test_parse_fixture(&test_arena, input), &opts, &test_arena, &refund, &problems)) {
        fail_msg("%s:\n%s", input, test_problems_text(&test_arena, &problems));
    }
    test_expect_canonical(&cs_schema_return, &refund, golden);
}

/* A refunds/create webhook and the same refund read with GraphQL: one line
 * returned, shipping paid back, a failed transaction not counted. */
static void a_refund_decodes_the_same_from_both_shapes(void **st)
{
    (void)st;
    expect_canonical(cs_shopify_refund_decode, "shopify/refund-webhook.json",
                     "shopify/refund.canonical.json");
    expect_canonical(cs_shopify_refund_decode_graphql, "shopify/refund-graphql.json",
                     "shopify/refund.canonical.json");
}

static void a_bad_refund_names_its_fields(void **st)
{
    (void)st;
    const char *bad = "{\"refund_line_items\":[{\"quantity\":0,\"subtotal\":\"1.234\"}]}";
    cs_shopify_refund_opts opts = {.currency = CS_STR_LIT("USD")};
    cs_return refund;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_shopify_refund_decode(test_parse(&test_arena, bad, strlen(bad)), &opts,
                                              &test_arena, &refund, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     "id: required: the refund has no id\n"
                     "refund_line_items[0].quantity: type: expected a positive integer quantity\n"
                     "refund_line_items[0].subtotal: money: decimal '1.234' has more than 2 "
                     "fraction digits\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_refund_decodes_the_same_from_both_shapes),
        cmocka_unit_test(a_bad_refund_names_its_fields),
    };
    return cmocka_run_group_tests_name("shopify_refund", tests, test_arena_setup,
                                       test_arena_teardown);
}
