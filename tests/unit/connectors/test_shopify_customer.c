#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/customer.h"
#include "fixture.h"
#include "model/codec.h"
#include "testing.h"

typedef cs_error (*decoder)(const cs_json *, cs_arena *, cs_customer *, cs_problems *);

static void expect_canonical(decoder decode, const char *input, const char *golden)
{
    cs_customer customer;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (decode(test_parse_fixture(&test_arena, input), &test_arena, &customer, &problems)) {
        fail_msg("%s:\n%s", input, test_problems_text(&test_arena, &problems));
    }
    test_expect_canonical(&cs_schema_customer, &customer, golden);
}

/* The same person from a customers/update webhook and from a GraphQL read
 * is the same canonical customer: same id, same normalized email. */
static void both_shapes_give_the_same_customer(void **st)
{
    (void)st;
    expect_canonical(cs_shopify_customer_decode, "shopify/customer-webhook.json",
                     "shopify/customer.canonical.json");
    expect_canonical(cs_shopify_customer_decode_graphql, "shopify/customer-graphql.json",
                     "shopify/customer.canonical.json");
}

static void a_bad_customer_names_its_fields(void **st)
{
    (void)st;
    cs_customer customer;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    const char *bad = "{\"email\":\"x@example.com\",\"updated_at\":\"soon\","
                      "\"email_marketing_consent\":{\"state\":\"subscribed\","
                      "\"consent_updated_at\":\"2026-13-01T00:00:00Z\"}}";
    assert_int_equal(cs_shopify_customer_decode(test_parse(&test_arena, bad, strlen(bad)),
                                                &test_arena, &customer, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text(
        "problems", test_problems_text(&test_arena, &problems),
        "id: required: the customer has no id\n"
        "updated_at: rfc3339: malformed timestamp 'soon' at byte 0: expected a digit\n"
        "email_marketing_consent.consent_updated_at: rfc3339: timestamp '2026-13-01T00:00:00Z' "
        "has an out-of-range month\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_shapes_give_the_same_customer),
        cmocka_unit_test(a_bad_customer_names_its_fields),
    };
    return cmocka_run_group_tests_name("shopify_customer", tests, test_arena_setup,
                                       test_arena_teardown);
}
