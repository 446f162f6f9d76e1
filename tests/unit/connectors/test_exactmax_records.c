#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/exactmax/order.h"
#include "connectors/exactmax/records.h"
#include "fixture.h"
#include "testing.h"

static const cs_json *record(const char *name)
{
    const cs_json *all = test_parse_fixture(&test_arena, "exactmax/bridge-records.json");
    return cs_json_object_get(all, cs_str_from_c(name));
}

static cs_problems fresh(void)
{
    cs_problems p;
    cs_problems_init(&p, &test_arena);
    return p;
}

static void bridge_records_become_canonical(void **st)
{
    (void)st;
    cs_problems problems = fresh();
    cs_customer customer;
    assert_int_equal(
        cs_exactmax_customer_decode(record("customer"), &test_arena, &customer, &problems),
        CS_ERR_OK);
    test_expect_canonical(&cs_schema_customer, &customer, "exactmax/customer.canonical.json");

    cs_stock_level level;
    assert_int_equal(cs_exactmax_stock_decode(record("stock"), &test_arena, &level, &problems),
                     CS_ERR_OK);
    test_expect_canonical(&cs_schema_stock_level, &level, "exactmax/stock.canonical.json");

    cs_shipment shipment;
    assert_int_equal(
        cs_exactmax_shipment_decode(record("shipment"), &test_arena, &shipment, &problems),
        CS_ERR_OK);
    test_expect_canonical(&cs_schema_shipment, &shipment, "exactmax/shipment.canonical.json");

    cs_return credit;
    assert_int_equal(
        cs_exactmax_credit_memo_decode(record("credit_memo"), &test_arena, &credit, &problems),
        CS_ERR_OK);
    test_expect_canonical(&cs_schema_return, &credit, "exactmax/credit-memo.canonical.json");

    cs_exactmax_invoice invoice;
    assert_int_equal(
        cs_exactmax_invoice_decode(record("invoice"), &test_arena, &invoice, &problems), CS_ERR_OK);
    assert_true(cs_str_eq_c(invoice.invoice_number, "00009876"));
    assert_true(cs_str_eq_c(invoice.cust_po, "us-1001"));
    assert_int_equal(invoice.total.minor_units, 31562);
}

/* A customer as the bridge's PUT takes it: blanks left out, the person as
 * the name when there is no company; the custId of a new account. */
static void a_customer_becomes_a_max_account(void **st)
{
    (void)st;
    cs_address address = {.line1 = CS_STR_LIT("Hauptstr. 5"),
                          .city = CS_STR_LIT("Berlin"),
                          .postal_code = CS_STR_LIT("10115"),
                          .country = CS_STR_LIT("DE"),
                          .phone = CS_STR_LIT("+49 30 5")};
    cs_customer c = {.first_name = CS_STR_LIT("Ann"),
                     .last_name = CS_STR_LIT("Lee"),
                     .email = CS_STR_LIT("ann@example.com"),
                     .addresses = &address,
                     .address_count = 1};
    cs_exactmax_account_opts opts = {.terms = CS_STR_LIT("NET30"), .currency = CS_STR_LIT("EUR")};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_exactmax_customer_encode(&c, &opts, &w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    assert_string_equal(out.data,
                        "{\"name\":\"Ann Lee\",\"cntct\":\"Ann Lee\",\"email\":\"ann@example.com\","
                        "\"phone\":\"+49 30 5\",\"addr1\":\"Hauptstr. 5\",\"city\":\"Berlin\","
                        "\"zipCd\":\"10115\",\"cntry\":\"DE\",\"terms\":\"NET30\","
                        "\"curr\":\"EUR\"}");
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&out);

    char a[16], b[16], again[16];
    cs_exactmax_cust_id(CS_STR_LIT("WS"), CS_STR_LIT("customer:shopify:us:7000000001"), a);
    cs_exactmax_cust_id(CS_STR_LIT("WS"), CS_STR_LIT("customer:shopify:us:7000000002"), b);
    cs_exactmax_cust_id(CS_STR_LIT("WS"), CS_STR_LIT("customer:shopify:us:7000000001"), again);
    assert_int_equal(strlen(a), 10);
    assert_int_equal(strncmp(a, "WS", 2), 0);
    assert_string_equal(a, again);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 10);
}

static void a_bad_shipment_names_its_fields(void **st)
{
    (void)st;
    cs_problems problems = fresh();
    cs_shipment shipment;
    assert_int_equal(
        cs_exactmax_shipment_decode(record("bad_shipment"), &test_arena, &shipment, &problems),
        CS_ERR_INVALID_ARGUMENT);
    test_expect_text("problems", test_problems_text(&test_arena, &problems),
                     "shipmentId: required: missing\n"
                     "custPo: required: missing\n"
                     "shpDte: rfc3339: malformed timestamp 'yesterday' at byte 0: expected a "
                     "digit\n"
                     "lines[0].shpQty: quantity: a fraction of a unit cannot be synced\n"
                     "lines[1].linNum: required: missing\n"
                     "lines[1].shpQty: quantity: malformed decimal 'x' at byte 0: expected a "
                     "digit\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bridge_records_become_canonical),
        cmocka_unit_test(a_bad_shipment_names_its_fields),
        cmocka_unit_test(a_customer_becomes_a_max_account),
    };
    return cmocka_run_group_tests_name("exactmax_records", tests, test_arena_setup,
                                       test_arena_teardown);
}
