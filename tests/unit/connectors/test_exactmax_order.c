#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/exactmax/order.h"
#include "connectors/shopify/order.h"
#include "connectors/shopify/refund.h"
#include "fixture.h"
#include "testing.h"

#define STR(lit)                                                                                   \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }

static const cs_exactmax_order_opts web_lines = {.cust_id = STR("WEB-US"),
                                                 .stockroom = STR("MAIN"),
                                                 .terms = STR("NET30"),
                                                 .tax_code = STR("KY6"),
                                                 .ship_via = STR("USPS"),
                                                 .charges = CS_EXACTMAX_CHARGES_AS_LINES,
                                                 .discount_part = STR("DISCOUNT"),
                                                 .freight_part = STR("FREIGHT"),
                                                 .due_days = 3};

/* A Shopify order with the MAX part numbers the SKU table would give. */
static cs_order shopify_order(const char *fixture, bool graphql, const char *store)
{
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_shopify_order_opts opts = {.store_code = cs_str_from_c(store)};
    const cs_json *json = test_parse_fixture(&test_arena, fixture);
    cs_error r = graphql
                     ? cs_shopify_order_decode_graphql(json, &opts, &test_arena, &order, &problems)
                     : cs_shopify_order_decode(json, &opts, &test_arena, &order, &problems);
    assert_int_equal(r, CS_ERR_OK);
    for (size_t i = 0; i < order.line_count; i++) {
        order.lines[i].item_code =
            cs_str_from_c(cs_arena_sprintf(&test_arena, "P-%.*s", CS_STR_FMT(order.lines[i].sku)));
    }
    return order;
}

static void expect_encoded(const char *what, cs_error r, const cs_buf *out, const char *golden,
                           const cs_problems *problems)
{
    if (r) {
        fail_msg("%s: %s", what, test_problems_text(&test_arena, problems));
    }
    char *expected = fixture_read(golden, NULL);
    test_expect_text(what, out->data, expected);
    free(expected);
}

static void an_order_becomes_a_max_sales_order(void **st)
{
    (void)st;
    cs_order order = shopify_order("shopify/order-webhook.json", false, "us");
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    expect_encoded("charges as lines",
                   cs_exactmax_order_encode(&order, &web_lines, &out, &problems), &out,
                   "exactmax/sales-order-lines.json", &problems);

    /* The yen shop selling in euros, charges on the header. */
    cs_order jp = shopify_order("shopify/order-graphql-jpy-eur.json", true, "jp");
    cs_exactmax_order_opts header = web_lines;
    header.cust_id = CS_STR_LIT("WEB-JP");
    header.charges = CS_EXACTMAX_CHARGES_ON_HEADER;
    cs_buf_reset(&out);
    expect_encoded("charges on the header", cs_exactmax_order_encode(&jp, &header, &out, &problems),
                   &out, "exactmax/sales-order-header.json", &problems);
    cs_buf_clean_up(&out);
}

/* A refund of one line becomes a credit memo; an amount that does not
 * divide by the quantity is split so that every cent is credited. */
static void a_refund_becomes_a_credit_memo(void **st)
{
    (void)st;
    cs_order order = shopify_order("shopify/order-webhook.json", false, "us");
    cs_return refund;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_shopify_refund_opts ropts = {.currency = CS_STR_LIT("USD")};
    assert_int_equal(
        cs_shopify_refund_decode(test_parse_fixture(&test_arena, "shopify/refund-webhook.json"),
                                 &ropts, &test_arena, &refund, &problems),
        CS_ERR_OK);
    /* Both units of the red one back, 98.31 for the two. */
    refund.lines[0].quantity = 2;
    refund.lines[0].amount.minor_units = 9831;
    cs_buf out;
    cs_buf_init(&out, 0);
    expect_encoded("credit memo",
                   cs_exactmax_credit_memo_encode(&refund, &order, &web_lines, &out, &problems),
                   &out, "exactmax/credit-memo.json", &problems);
    cs_buf_clean_up(&out);
}

static void what_max_cannot_take_is_named(void **st)
{
    (void)st;
    cs_order order = shopify_order("shopify/order-webhook.json", false, "a-very-long-store");
    order.lines[1].item_code = CS_STR_NULL;
    cs_exactmax_order_opts opts = web_lines;
    opts.freight_part = CS_STR_NULL;
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_exactmax_order_encode(&order, &opts, &out, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     ": config: charges as lines need the discount and freight part numbers\n"
                     "lines[1].item_code: unknown_part: SKU 'IPOD2008RED' has no MAX part number "
                     "(PRTNUM); map it in the SKU table\n"
                     "number: cust_po: customer PO 'a-very-long-store-1001' is empty or longer "
                     "than MAX's 20 characters (CUSTPO_27)\n");
    assert_int_equal(out.len, 0);
    cs_buf_clean_up(&out);
}

/* A credit memo's customer PO carries the refund's id in base 36, so that
 * Shopify's twelve-digit refund ids fit MAX's 20 characters with a
 * six-digit order number; an id that is not a number is hashed. */
static void a_credit_memo_po_fits_max(void **st)
{
    (void)st;
    char po[41];
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("us"), CS_STR_LIT("#100000"),
                                         CS_STR_LIT("987654321098"), po, NULL),
                     CS_ERR_OK);
    assert_string_equal(po, "us-100000-RCLPZVRGQ");
    assert_int_equal(
        cs_exactmax_cust_po(CS_STR_LIT("us"), CS_STR_LIT("1001"), CS_STR_LIT("7"), po, NULL),
        CS_ERR_OK);
    assert_string_equal(po, "us-1001-R7");
    char again[41];
    cs_str uuid = CS_STR_LIT("5d3ab1d4-2f1c-4ce1-9a6b-1c5e8e0f3a21");
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("eu"), CS_STR_LIT("1001"), uuid, po, NULL),
                     CS_ERR_OK);
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("eu"), CS_STR_LIT("1001"), uuid, again, NULL),
                     CS_ERR_OK);
    assert_string_equal(po, again);
    assert_true(strlen(po) <= 20 && strncmp(po, "eu-1001-R", 9) == 0);
    /* Too long to read (a commercetools store key and order number): the
     * PO's hash, the same every time. */
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("de-store"), CS_STR_LIT("CT-10212"),
                                         CS_STR_LIT("RT-1"), po, NULL),
                     CS_ERR_OK);
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("de-store"), CS_STR_LIT("CT-10212"),
                                         CS_STR_LIT("RT-1"), again, NULL),
                     CS_ERR_OK);
    assert_string_equal(po, again);
    assert_true(strlen(po) <= 20 && strncmp(po, "R-", 2) == 0);
    assert_int_equal(cs_exactmax_cust_po(CS_STR_LIT("de-store"), CS_STR_LIT("CT-10212"),
                                         CS_STR_LIT("RT-2"), again, NULL),
                     CS_ERR_OK);
    assert_string_not_equal(po, again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_becomes_a_max_sales_order),
        cmocka_unit_test(a_refund_becomes_a_credit_memo),
        cmocka_unit_test(what_max_cannot_take_is_named),
        cmocka_unit_test(a_credit_memo_po_fits_max),
    };
    return cmocka_run_group_tests_name("exactmax_order", tests, test_arena_setup,
                                       test_arena_teardown);
}
