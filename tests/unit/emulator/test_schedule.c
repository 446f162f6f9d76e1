#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/timestamp.h"
#include "emulator/schedule.h"
#include "fixture.h"

static int64_t at(const char *text)
{
    int64_t ms = 0;
    if (strcmp(text, "-") != 0 && cs_time_parse_rfc3339(cs_str_from_c(text), &ms, NULL, NULL)) {
        fail_msg("bad time in fixture: %s", text);
    }
    return ms;
}

static void next_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    assert_int_equal(n, 5);
    em_schedule s;
    cs_diag diag;
    if (em_schedule_parse(cs_str_from_c(col[0]), cs_str_from_c(col[1]), &s, &diag)) {
        fail_msg("line %zu: %s", line, diag.message);
    }
    int64_t next = em_schedule_next(&s, at(col[2]), at(col[3]));
    char got[CS_TIME_RFC3339_MAX] = "never";
    if (next >= 0) {
        cs_time_format_rfc3339(next, 0, got);
    }
    if (strcmp(got, col[4]) != 0) {
        fail_msg("line %zu: %s after %s: got %s, expected %s", line, col[0], col[3], got, col[4]);
    }
}

static void schedules_fire_when_expected(void **state)
{
    (void)state;
    assert_true(fixture_table("emulator/schedules.txt", next_row, NULL) >= 15);
}

static void bad_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    assert_int_equal(n, 3);
    em_schedule s;
    cs_diag diag;
    cs_error r = em_schedule_parse(cs_str_from_c(col[0]), cs_str_from_c(col[1]), &s, &diag);
    if (r != CS_ERR_CONFIG || strcmp(diag.message, col[2]) != 0) {
        fail_msg("line %zu: got %s '%s', expected '%s'", line, cs_error_name(r), diag.message,
                 col[2]);
    }
}

static void bad_expressions_say_why(void **state)
{
    (void)state;
    assert_true(fixture_table("emulator/bad-schedules.txt", bad_row, NULL) >= 12);
}

static void a_year_of_daily_firings_in_a_zone_with_daylight_saving(void **state)
{
    (void)state;
    em_schedule s;
    assert_int_equal(
        em_schedule_parse(CS_STR_LIT("cron(30 9 * * ? *)"), CS_STR_LIT("Europe/Berlin"), &s, NULL),
        CS_ERR_OK);
    int64_t t = at("2024-01-01T00:00:00Z");
    for (int i = 0; i < 366; i++) {
        int64_t next = em_schedule_next(&s, 0, t);
        /* 09:30 in Berlin is 08:30 UTC in winter and 07:30 UTC in summer. */
        int64_t minute_of_day = (next / 60000) % (24 * 60);
        assert_true(minute_of_day == 8 * 60 + 30 || minute_of_day == 7 * 60 + 30);
        assert_true(next - t <= 25 * 3600 * 1000LL && next > t);
        t = next;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedules_fire_when_expected),
        cmocka_unit_test(bad_expressions_say_why),
        cmocka_unit_test(a_year_of_daily_firings_in_a_zone_with_daylight_saving),
    };
    return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
