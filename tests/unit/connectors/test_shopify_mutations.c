#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/mutations.h"
#include "fixture.h"
#include "testing.h"

static cs_shopify_quantity quantity(const char *item, const char *location, int64_t n,
                                    int64_t compare)
{
    return (cs_shopify_quantity){cs_str_from_c(item), cs_str_from_c(location), n, compare};
}

static void stock_is_set_with_compare_and_set_and_an_idempotency_key(void **st)
{
    (void)st;
    cs_shopify_quantity q[2] = {
        quantity("gid://shopify/InventoryItem/30322695", "gid://shopify/Location/24826418", 7, 9),
        quantity("gid://shopify/InventoryItem/30322696", "gid://shopify/Location/24826418", 0, 2)};
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(cs_shopify_inventory_variables(
                         q, 2, CS_STR_LIT("correction"),
                         CS_STR_LIT("gid://cs-sync/StockSnapshot/2026-11-24T08:00:00Z"),
                         CS_STR_LIT("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"), &out, NULL),
                     CS_ERR_OK);
    test_expect_text(
        "with compare", out.data,
        "{\"input\":{\"name\":\"available\",\"reason\":\"correction\",\"referenceDocumentUri\":"
        "\"gid://cs-sync/StockSnapshot/2026-11-24T08:00:00Z\",\"ignoreCompareQuantity\":false,"
        "\"quantities\":[{\"inventoryItemId\":\"gid://shopify/InventoryItem/30322695\","
        "\"locationId\":\"gid://shopify/Location/24826418\",\"quantity\":7,\"compareQuantity\":9},"
        "{\"inventoryItemId\":\"gid://shopify/InventoryItem/30322696\",\"locationId\":"
        "\"gid://shopify/Location/24826418\",\"quantity\":0,\"compareQuantity\":2}]},"
        "\"idempotencyKey\":\"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b\"}");
    /* One quantity whose published value is unknown opts the call out. */
    q[1].compare_quantity = -1;
    cs_buf_reset(&out);
    assert_int_equal(cs_shopify_inventory_variables(q, 2, CS_STR_LIT("correction"),
                                                    CS_STR_LIT("gid://cs-sync/StockSnapshot/1"),
                                                    CS_STR_LIT("k"), &out, NULL),
                     CS_ERR_OK);
    assert_non_null(strstr(out.data, "\"ignoreCompareQuantity\":true"));
    assert_null(strstr(out.data, "compareQuantity\":"));
    cs_buf_clean_up(&out);
    assert_non_null(strstr(cs_shopify_inventory_set_mutation, "@idempotent(key: $idempotencyKey)"));
}

static void bad_stock_calls_name_the_quantity(void **st)
{
    (void)st;
    cs_shopify_quantity *many = calloc(251, sizeof(*many));
    for (int i = 0; i < 251; i++) {
        many[i] = quantity("gid://shopify/InventoryItem/1", "gid://shopify/Location/1", 1, -1);
    }
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_diag diag = {0};
    cs_str reason = CS_STR_LIT("correction"), uri = CS_STR_LIT("gid://cs-sync/S/1"),
           key = CS_STR_LIT("k");
    assert_int_equal(cs_shopify_inventory_variables(many, 251, reason, uri, key, &out, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(diag.message,
                        "an inventorySetQuantities call sets 1 to 250 quantities, not 251");
    many[3].quantity = -2;
    assert_int_equal(cs_shopify_inventory_variables(many, 250, reason, uri, key, &out, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(diag.field, "quantities[3].quantity");
    assert_string_equal(diag.message, "quantities[3].quantity is outside 0 to 1000000000");
    many[3].quantity = 1;
    many[4].location_id = CS_STR_NULL;
    assert_int_equal(cs_shopify_inventory_variables(many, 250, reason, uri, key, &out, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(diag.field, "quantities[4].locationId");
    assert_int_equal(cs_shopify_inventory_variables(many, 2, reason, uri, CS_STR_NULL, &out, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(out.len, 0);
    cs_buf_clean_up(&out);
    free(many);
}

static cs_shipment shipment(cs_shipment_line *lines, size_t count)
{
    return (cs_shipment){.carrier = CS_STR_LIT("UPS"),
                         .tracking_number = CS_STR_LIT("1Z999AA10123456784"),
                         .tracking_url =
                             CS_STR_LIT("https://www.ups.com/track?tracknum=1Z999AA10123456784"),
                         .lines = lines,
                         .line_count = count};
}

/* One line by its order line id, one by SKU spread over two fulfillment
 * orders at two locations; a closed fulfillment order is not shipped from. */
static void a_shipment_becomes_one_fulfillment_per_location(void **st)
{
    (void)st;
    cs_shipment_line lines[2] = {
        {.line_id = CS_STR_LIT("466157049"), .sku = CS_STR_LIT("IPOD2008GREEN"), .quantity = 1},
        {.sku = CS_STR_LIT("IPOD2008RED"), .quantity = 2}};
    cs_shipment s = shipment(lines, 2);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_shopify_fulfillment_opts opts = {.notify_customer = true};
    if (cs_shopify_fulfillment_variables(
            &s, test_parse_fixture(&test_arena, "shopify/fulfillment-orders.json"), &opts,
            &test_arena, &out, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    char *expected = fixture_read("shopify/fulfillment-create.expected.json", NULL);
    test_expect_text("fulfillments", out.data, expected);
    free(expected);
    cs_buf_clean_up(&out);
}

static void what_cannot_be_shipped_is_named(void **st)
{
    (void)st;
    cs_shipment_line lines[3] = {
        {.line_id = CS_STR_LIT("gid://shopify/LineItem/518995019"), .quantity = 3},
        {.sku = CS_STR_LIT("NOT-ON-ORDER"), .quantity = 1},
        {.sku = CS_STR_LIT("IPOD2008GREEN"), .quantity = 0}};
    cs_shipment s = shipment(lines, 3);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(cs_shopify_fulfillment_variables(
                         &s, test_parse_fixture(&test_arena, "shopify/fulfillment-orders.json"),
                         NULL, &test_arena, &out, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     "lines[0]: unfulfillable: 1 of line 'gid://shopify/LineItem/518995019' (SKU "
                     "'') have no open fulfillment order line left to ship from\n"
                     "lines[1]: unfulfillable: 1 of line '' (SKU 'NOT-ON-ORDER') have no open "
                     "fulfillment order line left to ship from\n"
                     "lines[2]: quantity: a shipped quantity is 1 or more\n");
    assert_int_equal(out.len, 0);
    cs_buf_clean_up(&out);
}

static void the_invoice_number_goes_on_the_order_as_a_metafield(void **st)
{
    (void)st;
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(
        cs_shopify_invoice_metafield_variables(CS_STR_LIT("gid://shopify/Order/450789469"),
                                               CS_STR_LIT("INV-2026-00042"), &out, NULL),
        CS_ERR_OK);
    test_expect_text(
        "metafield", out.data,
        "{\"metafields\":[{\"ownerId\":\"gid://shopify/Order/450789469\",\"namespace\":"
        "\"erp\",\"key\":\"invoice_number\",\"type\":\"single_line_text_field\","
        "\"value\":\"INV-2026-00042\"}]}");
    cs_diag diag = {0};
    assert_int_equal(cs_shopify_invoice_metafield_variables(CS_STR_LIT("450789469"),
                                                            CS_STR_LIT("INV-1"), &out, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    cs_buf_clean_up(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stock_is_set_with_compare_and_set_and_an_idempotency_key),
        cmocka_unit_test(bad_stock_calls_name_the_quantity),
        cmocka_unit_test(a_shipment_becomes_one_fulfillment_per_location),
        cmocka_unit_test(what_cannot_be_shipped_is_named),
        cmocka_unit_test(the_invoice_number_goes_on_the_order_as_a_metafield),
    };
    return cmocka_run_group_tests_name("shopify_mutations", tests, test_arena_setup,
                                       test_arena_teardown);
}
