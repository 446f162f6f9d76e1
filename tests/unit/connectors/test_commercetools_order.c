#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/commercetools/customer.h"
#include "connectors/commercetools/order.h"
#include "fixture.h"
#include "mapping/validate.h"
#include "testing.h"

/* Prices with VAT included, a cart discount that does not divide evenly
 * over three socks (1.11, 1.11, 1.10), a delivery made: it adds up, and it
 * reads as the golden canonical order. */
static void an_order_decodes_to_the_canonical_order(void **st)
{
    (void)st;
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_commercetools_order_decode(test_parse_fixture(&test_arena, "commercetools/order.json"),
                                      &test_arena, &order, &problems) ||
        cs_validate_order(&order, NULL, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    test_expect_canonical(&cs_schema_order, &order, "commercetools/order.canonical.json");
}

static void a_bad_order_names_its_fields(void **st)
{
    (void)st;
    const char *bad =
        "{\"totalPrice\":{\"currencyCode\":\"EUR\",\"centAmount\":100,\"fractionDigits\":2},"
        "\"createdAt\":\"soon\",\"lineItems\":[{\"quantity\":0,\"price\":{\"value\":"
        "{\"currencyCode\":\"USD\",\"centAmount\":5,\"fractionDigits\":2}}},{\"quantity\":1,"
        "\"price\":{\"value\":{\"currencyCode\":\"EUR\",\"centAmount\":12345,\"fractionDigits\":3}}"
        "}]}";
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_commercetools_order_decode(test_parse(&test_arena, bad, strlen(bad)),
                                                   &test_arena, &order, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     "id: required: the order has no id\n"
                     "createdAt: rfc3339: malformed timestamp 'soon' at byte 0: expected a digit\n"
                     "lineItems[0].quantity: type: expected a positive integer quantity\n"
                     "lineItems[0].price.value.currencyCode: currency: not the order's currency\n"
                     "lineItems[1].price.value.fractionDigits: money: cannot be expressed exactly "
                     "in the currency's units\n");
}

static void a_b2b_customer_decodes(void **st)
{
    (void)st;
    cs_customer customer;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_commercetools_customer_decode(
                         test_parse_fixture(&test_arena, "commercetools/customer.json"),
                         &test_arena, &customer, &problems),
                     CS_ERR_OK);
    test_expect_canonical(&cs_schema_customer, &customer, "commercetools/customer.canonical.json");
}

/* A buyer with no company of their own, an associate of a division: the
 * division is their company and parent account, its address theirs. */
static void a_business_unit_buyer_decodes(void **st)
{
    (void)st;
    const cs_json *doc = test_parse_fixture(&test_arena, "commercetools/buyer.json");
    cs_customer customer;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(
        cs_commercetools_customer_decode(cs_json_object_get(doc, CS_STR_LIT("customer")),
                                         &test_arena, &customer, &problems),
        CS_ERR_OK);
    assert_false(customer.b2b);
    assert_int_equal(
        cs_commercetools_business_unit_apply(cs_json_object_get(doc, CS_STR_LIT("businessUnit")),
                                             &test_arena, &customer, &problems),
        CS_ERR_OK);
    test_expect_canonical(&cs_schema_customer, &customer, "commercetools/buyer.canonical.json");

    /* A unit without its key is named. */
    assert_int_equal(
        cs_commercetools_business_unit_apply(test_parse(&test_arena, "{\"name\":\"x\"}", 12),
                                             &test_arena, &customer, &problems),
        CS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(test_problems_text(&test_arena, &problems), "businessUnit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_decodes_to_the_canonical_order),
        cmocka_unit_test(a_bad_order_names_its_fields),
        cmocka_unit_test(a_b2b_customer_decodes),
        cmocka_unit_test(a_business_unit_buyer_decodes),
    };
    return cmocka_run_group_tests_name("commercetools_order", tests, test_arena_setup,
                                       test_arena_teardown);
}
