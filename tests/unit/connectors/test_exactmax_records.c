#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
    };
    return cmocka_run_group_tests_name("exactmax_records", tests, test_arena_setup,
                                       test_arena_teardown);
}
