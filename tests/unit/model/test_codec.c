#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "testing.h"
#include "model/codec.h"

static void order_round_trips_exactly(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture_read("model/order-eur.json", &len);
    cs_order order;
    memset(&order, 0, sizeof(order));
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_record_decode(&cs_schema_order,
                                      test_parse_fixture(&test_arena, "model/order-eur.json"),
                                      &test_arena, &order, &problems),
                     CS_ERR_OK);
    assert_int_equal(cs_problems_total(&problems), 0);
    assert_int_equal(order.line_count, 2);
    assert_true(order.lines[0].unit_price.minor_units == 1999);
    assert_string_equal(order.lines[0].unit_price.currency->code, "EUR");
    assert_true(order.lines[0].quantity == 3);
    assert_true(order.created_at_ms == 1709633730000);
    assert_int_equal(order.meta.source, CS_SYS_SHOPIFY);
    assert_true(cs_str_eq_c(order.ids.by_system[CS_SYS_SHOPIFY], "450789469"));
    assert_true(cs_str_eq_c(order.billing.city, "München"));

    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_record_encode(&cs_schema_order, &order, &w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    text[cs_str_trim(cs_str_make(text, len)).len] = '\0';
    test_expect_text("round trip", out.data, text);
    cs_buf_clean_up(&out);
    free(text);
}

static void bad_order_lists_every_problem_with_its_path(void **state)
{
    (void)state;
    cs_order order;
    memset(&order, 0, sizeof(order));
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_record_decode(&cs_schema_order,
                                      test_parse_fixture(&test_arena, "model/bad-order.json"),
                                      &test_arena, &order, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    char *expected = fixture_read("model/bad-order.expected", NULL);
    test_expect_text("problems", test_problems_text(&test_arena, &problems), expected);
    free(expected);
}

static void paths_compile_against_the_schema(void **state)
{
    (void)state;
    cs_path path;
    cs_diag diag;
    assert_int_equal(
        cs_path_compile(&cs_schema_order, CS_STR_LIT("lines[1].unit_price"), false, &path, &diag),
        CS_ERR_OK);
    assert_int_equal(path.type, CS_FIELD_MONEY);
    assert_int_equal(
        cs_path_compile(&cs_schema_order, CS_STR_LIT("ids.exactmax"), false, &path, &diag),
        CS_ERR_OK);
    assert_int_equal(path.type, CS_FIELD_STR);
    assert_int_equal(cs_path_compile(&cs_schema_order, CS_STR_LIT("lines[]"), true, &path, &diag),
                     CS_ERR_OK);
    assert_int_equal(path.type, CS_FIELD_ARRAY);
    assert_int_equal(
        cs_path_compile(&cs_schema_order, CS_STR_LIT("billing.town"), false, &path, &diag),
        CS_ERR_NOT_FOUND);
    assert_string_equal(diag.message, "path 'billing.town': address has no field 'town'");
    assert_int_equal(
        cs_path_compile(&cs_schema_order, CS_STR_LIT("lines.sku"), false, &path, &diag),
        CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        cs_path_compile(&cs_schema_order, CS_STR_LIT("lines[].sku"), true, &path, &diag),
        CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(cs_path_compile(&cs_schema_order, CS_STR_LIT("ids.sap"), false, &path, &diag),
                     CS_ERR_NOT_FOUND);
    assert_int_equal(cs_path_compile(&cs_schema_order, CS_STR_LIT("number.x"), false, &path, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(cs_path_compile(&cs_schema_order, CS_STR_NULL, false, &path, &diag),
                     CS_ERR_INVALID_ARGUMENT);
}

static void paths_read_values_and_missing_elements(void **state)
{
    (void)state;
    cs_order order;
    memset(&order, 0, sizeof(order));
    assert_int_equal(cs_record_decode(&cs_schema_order,
                                      test_parse_fixture(&test_arena, "model/order-eur.json"),
                                      &test_arena, &order, NULL),
                     CS_ERR_OK);
    cs_path path;
    cs_path_compile(&cs_schema_order, CS_STR_LIT("lines[1].tax_lines[0].rate"), false, &path, NULL);
    cs_value v = cs_path_read(&path, &order);
    assert_true(v.present);
    assert_true(cs_str_eq_c(v.str, "0.19"));
    cs_path_compile(&cs_schema_order, CS_STR_LIT("lines[5].sku"), false, &path, NULL);
    assert_false(cs_path_read(&path, &order).present);
    cs_path_compile(&cs_schema_order, CS_STR_LIT("cancelled_at"), false, &path, NULL);
    assert_false(cs_path_read(&path, &order).present);
    cs_path_compile(&cs_schema_order, CS_STR_LIT("total"), false, &path, NULL);
    v = cs_path_read(&path, &order);
    assert_true(cs_str_eq_c(cs_value_text(&v, &test_arena), "83.90"));
    cs_path_compile(&cs_schema_order, CS_STR_LIT("created_at"), false, &path, NULL);
    v = cs_path_read(&path, &order);
    assert_true(cs_str_eq_c(cs_value_text(&v, &test_arena), "2024-03-05T10:15:30.000Z"));
    cs_path_compile(&cs_schema_order, CS_STR_LIT("lines"), true, &path, NULL);
    const void *elements;
    assert_int_equal(cs_path_elements(&path, &order, &elements), 2);
    assert_ptr_equal(elements, order.lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_round_trips_exactly),
        cmocka_unit_test(bad_order_lists_every_problem_with_its_path),
        cmocka_unit_test(paths_compile_against_the_schema),
        cmocka_unit_test(paths_read_values_and_missing_elements),
    };
    return cmocka_run_group_tests_name("codec", tests, test_arena_setup, test_arena_teardown);
}
