#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/money.h"
#include "fixture.h"

static void check_row(const char *what, size_t line, cs_error result, int64_t got,
                      const char *expected, const cs_diag *diag)
{
    int64_t want;
    if (cs_parse_int64(cs_str_from_c(expected), &want) == CS_ERR_OK) {
        if (result != CS_ERR_OK || got != want) {
            fail_msg("line %zu '%s': got %s %lld (%s), expected %s", line, what,
                     cs_error_name(result), (long long)got, diag->message, expected);
        }
        return;
    }
    if (strcmp(cs_error_name(result), expected) != 0) {
        fail_msg("line %zu '%s': got %s, expected %s", line, what, cs_error_name(result), expected);
    }
    if (diag->message[0] == '\0') {
        fail_msg("line %zu '%s': error without a message", line, what);
    }
}

static void parse_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    assert_int_equal(n, 3);
    cs_money m = {0, NULL};
    cs_diag diag;
    cs_diag_clear(&diag);
    cs_error result = cs_money_parse(cs_str_from_c(col[0]), cs_str_from_c(col[1]), &m, &diag);
    check_row(col[0], line, result, m.minor_units, col[2], &diag);
    if (result == CS_ERR_DECIMAL_SYNTAX) {
        assert_true(diag.has_offset);
    }
}

static void parse_table(void **state)
{
    (void)state;
    assert_true(fixture_table("money/parse.txt", parse_row, NULL) >= 30);
}

static cs_rounding rounding_named(const char *name)
{
    if (strcmp(name, "half-even") == 0) {
        return CS_ROUND_HALF_EVEN;
    }
    assert_string_equal(name, "half-up");
    return CS_ROUND_HALF_UP;
}

static void round_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    assert_int_equal(n, 4);
    const cs_currency *currency = cs_currency_find(cs_str_from_c(col[1]));
    assert_non_null(currency);
    int64_t units = 0;
    cs_diag diag;
    cs_diag_clear(&diag);
    cs_error result = cs_decimal_parse_opts(cs_str_from_c(col[0]), currency->exponent,
                                            rounding_named(col[2]), &units, &diag);
    check_row(col[0], line, result, units, col[3], &diag);
}

static void rounding_table(void **state)
{
    (void)state;
    assert_true(fixture_table("money/round.txt", round_row, NULL) >= 10);
}

static void format_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    (void)line;
    assert_int_equal(n, 3);
    int64_t units;
    assert_int_equal(cs_parse_int64(cs_str_from_c(col[0]), &units), CS_ERR_OK);
    char out[CS_DECIMAL_MAX];
    size_t len = cs_decimal_format(units, atoi(col[1]), out);
    assert_string_equal(out, col[2]);
    assert_int_equal(len, strlen(col[2]));
    /* What is written parses back to the same units. */
    int64_t back;
    assert_int_equal(cs_decimal_parse(cs_str_from_c(out), atoi(col[1]), &back, NULL), CS_ERR_OK);
    assert_true(back == units);
}

static void format_table(void **state)
{
    (void)state;
    assert_true(fixture_table("money/format.txt", format_row, NULL) >= 5);
}

static void currency_table_has_the_exponents(void **state)
{
    (void)state;
    struct {
        const char *code;
        int exponent;
    } want[] = {{"USD", 2}, {"EUR", 2}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3},
                {"BHD", 3}, {"TND", 3}, {"CLF", 4}, {"ISK", 0}, {"HUF", 2}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const cs_currency *c = cs_currency_find(cs_str_from_c(want[i].code));
        assert_non_null(c);
        assert_int_equal(c->exponent, want[i].exponent);
    }
    assert_null(cs_currency_find(CS_STR_LIT("usd")));
    assert_null(cs_currency_find(CS_STR_LIT("USDX")));
    assert_null(cs_currency_find(CS_STR_NULL));
}

static void arithmetic_checks_currency_and_overflow(void **state)
{
    (void)state;
    cs_money usd, eur, out;
    assert_int_equal(cs_money_parse(CS_STR_LIT("10.00"), CS_STR_LIT("USD"), &usd, NULL), 0);
    assert_int_equal(cs_money_parse(CS_STR_LIT("10.00"), CS_STR_LIT("EUR"), &eur, NULL), 0);
    assert_int_equal(cs_money_add(usd, eur, &out), CS_ERR_CURRENCY_MISMATCH);
    assert_int_equal(cs_money_add(usd, usd, &out), CS_ERR_OK);
    assert_true(out.minor_units == 2000);
    assert_int_equal(cs_money_sub(usd, usd, &out), CS_ERR_OK);
    assert_true(out.minor_units == 0);
    assert_int_equal(cs_money_mul(usd, 3, &out), CS_ERR_OK);
    assert_true(out.minor_units == 3000);
    cs_money max = {INT64_MAX, usd.currency};
    cs_money min = {INT64_MIN, usd.currency};
    assert_int_equal(cs_money_add(max, usd, &out), CS_ERR_OVERFLOW);
    assert_int_equal(cs_money_sub(min, usd, &out), CS_ERR_OVERFLOW);
    assert_int_equal(cs_money_mul(max, 2, &out), CS_ERR_OVERFLOW);
    assert_int_equal(cs_money_mul(min, -1, &out), CS_ERR_OVERFLOW);
    char text[CS_DECIMAL_MAX];
    cs_money_format(usd, text);
    assert_string_equal(text, "10.00");
}

static void unknown_currency_names_the_code(void **state)
{
    (void)state;
    cs_money m;
    cs_diag diag;
    assert_int_equal(cs_money_parse(CS_STR_LIT("1"), CS_STR_LIT("ABC"), &m, &diag),
                     CS_ERR_UNKNOWN_CURRENCY);
    assert_non_null(strstr(diag.message, "'ABC'"));
    assert_int_equal(cs_money_parse(CS_STR_LIT("1.2.3"), CS_STR_LIT("USD"), &m, &diag),
                     CS_ERR_DECIMAL_SYNTAX);
    assert_int_equal(diag.offset, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_table),
        cmocka_unit_test(rounding_table),
        cmocka_unit_test(format_table),
        cmocka_unit_test(currency_table_has_the_exponents),
        cmocka_unit_test(arithmetic_checks_currency_and_overflow),
        cmocka_unit_test(unknown_currency_names_the_code),
    };
    return cmocka_run_group_tests_name("money", tests, NULL, NULL);
}
