#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/commercetools/actions.h"
#include "connectors/commercetools/message.h"
#include "fixture.h"
#include "testing.h"

static cs_commercetools_message decode(const char *name)
{
    const cs_json *all = test_parse_fixture(&test_arena, "commercetools/messages.json");
    cs_commercetools_message m;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_commercetools_message_decode(cs_json_object_get(all, cs_str_from_c(name)), &test_arena,
                                        &m, &problems)) {
        fail_msg("%s: %s", name, test_problems_text(&test_arena, &problems));
    }
    return m;
}

static void messages_become_canonical_records(void **st)
{
    (void)st;
    cs_commercetools_message m = decode("created");
    assert_int_equal(m.payload, CS_CT_ORDER);
    test_expect_canonical(&cs_schema_order, &m.order, "commercetools/order.canonical.json");

    m = decode("state");
    assert_int_equal(m.payload, CS_CT_STATE);
    assert_true(cs_str_eq_c(m.order_state, "open"));
    m = decode("shipment_state");
    assert_true(cs_str_eq_c(m.fulfillment_state, "partial"));

    m = decode("delivery");
    assert_int_equal(m.payload, CS_CT_DELIVERY);
    test_expect_canonical(&cs_schema_shipment, &m.shipment,
                          "commercetools/delivery.canonical.json");
    m = decode("return");
    assert_int_equal(m.payload, CS_CT_RETURN);
    test_expect_canonical(&cs_schema_return, &m.ret, "commercetools/return.canonical.json");

    m = decode("large");
    assert_true(m.payload_not_included);
    assert_int_equal(m.payload, CS_CT_NONE);
}

/* Delivered twice and out of order: the copy has the same id, and the older
 * message is stale against what the consumer has applied. */
static void duplicated_and_reordered_messages_are_stale(void **st)
{
    (void)st;
    cs_commercetools_message delivery = decode("delivery"), state = decode("state");
    int64_t applied = 0;
    assert_false(cs_commercetools_message_is_stale(&delivery, applied));
    applied = delivery.resource_version;
    /* Its second copy carries the same id: the consumer's dedupe drops it. */
    assert_true(cs_str_eq(decode("delivery").id, delivery.id));
    assert_true(cs_commercetools_message_is_stale(&state, applied)); /* older, late */
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_commercetools_message m;
    const char *bad = "{\"notificationType\":\"Message\",\"resource\":{},\"createdAt\":\"x\"}";
    assert_int_equal(cs_commercetools_message_decode(test_parse(&test_arena, bad, strlen(bad)),
                                                     &test_arena, &m, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     "id: required: missing\nresource.id: required: missing\n"
                     "type: required: missing\n"
                     "resourceVersion: required: resourceVersion and sequenceNumber are positive "
                     "integers\n"
                     "createdAt: rfc3339: malformed timestamp 'x' at byte 0: expected a digit\n");
}

static void shipments_returns_states_and_stock_become_update_actions(void **st)
{
    (void)st;
    cs_shipment_line line = {.line_id = CS_STR_LIT("li-2"), .quantity = 2};
    cs_shipment shipment = {.carrier = CS_STR_LIT("DHL"),
                            .tracking_number = CS_STR_LIT("00340434161094042557"),
                            .partial = true,
                            .lines = &line,
                            .line_count = 1};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_commercetools_delivery_update(&shipment, 7, &out, &problems), CS_ERR_OK);
    test_expect_text("delivery", out.data,
                     "{\"version\":7,\"actions\":[{\"action\":\"addDelivery\",\"items\":[{\"id\":"
                     "\"li-2\",\"quantity\":2}],\"parcels\":[{\"trackingData\":{\"trackingId\":"
                     "\"00340434161094042557\",\"carrier\":\"DHL\",\"isReturn\":false}}]},"
                     "{\"action\":\"changeShipmentState\",\"shipmentState\":\"Partial\"}]}");
    cs_buf_reset(&out);
    assert_int_equal(cs_commercetools_order_state_update(CS_STR_LIT("cancelled"), 8, &out, NULL),
                     CS_ERR_OK);
    test_expect_text("state", out.data,
                     "{\"version\":8,\"actions\":[{\"action\":\"changeOrderState\",\"orderState\":"
                     "\"Cancelled\"}]}");
    cs_return_line rl = {.line_id = CS_STR_LIT("li-1"), .quantity = 1};
    cs_return ret = {.lines = &rl, .line_count = 1};
    cs_buf_reset(&out);
    assert_int_equal(cs_commercetools_return_update(&ret, 9, &out, &problems), CS_ERR_OK);
    test_expect_text("return", out.data,
                     "{\"version\":9,\"actions\":[{\"action\":\"addReturnInfo\",\"items\":[{"
                     "\"quantity\":1,\"lineItemId\":\"li-1\",\"shipmentState\":\"Returned\"}]}]}");
    cs_stock_level level = {.sku = CS_STR_LIT("HOODIE-BLK-M"), .available = -3};
    cs_buf_reset(&out);
    assert_int_equal(
        cs_commercetools_inventory_body(&level, CS_STR_LIT("wh-berlin"), 0, &out, NULL), CS_ERR_OK);
    test_expect_text("create entry", out.data,
                     "{\"sku\":\"HOODIE-BLK-M\",\"supplyChannel\":{\"typeId\":\"channel\",\"key\":"
                     "\"wh-berlin\"},\"quantityOnStock\":0}");
    level.available = 12;
    cs_buf_reset(&out);
    assert_int_equal(
        cs_commercetools_inventory_body(&level, CS_STR_LIT("wh-berlin"), 4, &out, NULL), CS_ERR_OK);
    test_expect_text(
        "change quantity", out.data,
        "{\"version\":4,\"actions\":[{\"action\":\"changeQuantity\",\"quantity\":12}]}");
    /* A delivery line that names no order line is refused. */
    line.line_id = CS_STR_NULL;
    cs_buf_reset(&out);
    assert_int_equal(cs_commercetools_delivery_update(&shipment, 7, &out, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(test_problems_text(&test_arena, &problems), "lines[0]: line:"));
    cs_buf_clean_up(&out);
}

/* An invoice number: the sync's order type on an order without custom
 * fields, the field alone on an order that has a type (the merchant's). */
static void an_invoice_number_becomes_a_custom_field(void **st)
{
    (void)st;
    cs_buf out;
    cs_buf_init(&out, 0);
    const char *bare_text = "{\"id\":\"o-1\"}";
    const cs_json *bare = test_parse(&test_arena, bare_text, strlen(bare_text));
    assert_int_equal(cs_commercetools_invoice_update(bare, CS_STR_LIT("00000042"), 3, &out, NULL),
                     CS_ERR_OK);
    test_expect_text("set type", out.data,
                     "{\"version\":3,\"actions\":[{\"action\":\"setCustomType\",\"type\":{"
                     "\"key\":\"commerce-sync-order\",\"typeId\":\"type\"},\"fields\":{"
                     "\"erpInvoiceNumber\":\"00000042\"}}]}");
    const char *typed_text = "{\"id\":\"o-2\",\"custom\":{\"type\":{\"typeId\":\"type\","
                             "\"id\":\"t-9\"},\"fields\":{\"giftNote\":\"hi\"}}}";
    const cs_json *typed = test_parse(&test_arena, typed_text, strlen(typed_text));
    cs_buf_reset(&out);
    assert_int_equal(cs_commercetools_invoice_update(typed, CS_STR_LIT("00000043"), 4, &out, NULL),
                     CS_ERR_OK);
    test_expect_text("set field", out.data,
                     "{\"version\":4,\"actions\":[{\"action\":\"setCustomField\",\"name\":"
                     "\"erpInvoiceNumber\",\"value\":\"00000043\"}]}");
    cs_buf_reset(&out);
    assert_int_equal(cs_commercetools_order_type_draft(&out, NULL), CS_ERR_OK);
    test_expect_text("type draft", out.data,
                     "{\"key\":\"commerce-sync-order\",\"name\":{\"en\":\"Commerce sync: ERP "
                     "references\"},\"resourceTypeIds\":[\"order\"],\"fieldDefinitions\":[{"
                     "\"name\":\"erpInvoiceNumber\",\"label\":{\"en\":\"ERP invoice number\"},"
                     "\"required\":false,\"type\":{\"name\":\"String\"},\"inputHint\":"
                     "\"SingleLine\"}]}");
    cs_buf_clean_up(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_become_canonical_records),
        cmocka_unit_test(duplicated_and_reordered_messages_are_stale),
        cmocka_unit_test(shipments_returns_states_and_stock_become_update_actions),
        cmocka_unit_test(an_invoice_number_becomes_a_custom_field),
    };
    return cmocka_run_group_tests_name("commercetools_messages", tests, test_arena_setup,
                                       test_arena_teardown);
}
