#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/timestamp.h"
#include "fixture.h"

static void parse_row(char **col, size_t n, size_t line, void *ctx)
{
    (void)ctx;
    int64_t ms = 0;
    int offset = 0;
    cs_diag diag;
    cs_diag_clear(&diag);
    cs_error result = cs_time_parse_rfc3339(cs_str_from_c(col[0]), &ms, &offset, &diag);
    int64_t want_ms;
    if (n == 3 && cs_parse_int64(cs_str_from_c(col[1]), &want_ms) == CS_ERR_OK) {
        if (result || ms != want_ms || offset != atoi(col[2])) {
            fail_msg("line %zu '%s': got %s %lld %+d (%s)", line, col[0], cs_error_name(result),
                     (long long)ms, offset, diag.message);
        }
        return;
    }
    char name[64];
    size_t at = 0;
    int fields = sscanf(col[1], "%63s %zu", name, &at);
    if (strcmp(cs_error_name(result), name) != 0 || (fields == 2 && diag.offset != at)) {
        fail_msg("line %zu '%s': got %s at %zu (%s), expected %s", line, col[0],
                 cs_error_name(result), diag.offset, diag.message, col[1]);
    }
}

static void parse_table(void **state)
{
    (void)state;
    assert_true(fixture_table("time/parse.txt", parse_row, NULL) >= 25);
}

static void format_writes_milliseconds_and_offsets(void **state)
{
    (void)state;
    char out[CS_TIME_RFC3339_MAX];
    assert_int_equal(cs_time_format_rfc3339(1709633730123, 0, out), CS_ERR_OK);
    assert_string_equal(out, "2024-03-05T10:15:30.123Z");
    assert_int_equal(cs_time_format_rfc3339(1709633730123, 60, out), CS_ERR_OK);
    assert_string_equal(out, "2024-03-05T11:15:30.123+01:00");
    assert_int_equal(cs_time_format_rfc3339(1709633730000, -330, out), CS_ERR_OK);
    assert_string_equal(out, "2024-03-05T04:45:30.000-05:30");
    assert_int_equal(cs_time_format_rfc3339(-1, 0, out), CS_ERR_OK);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(cs_time_format_rfc3339(253402300800000, 0, out), CS_ERR_TIME_RANGE);
    assert_int_equal(cs_time_format_rfc3339(INT64_MIN, 0, out), CS_ERR_TIME_RANGE);
    assert_int_equal(cs_time_format_rfc3339(0, 24 * 60, out), CS_ERR_TIME_RANGE);
}

static void format_and_parse_round_trip(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)(x % 253402300799999ULL) - (int64_t)(x % 3 == 0 ? 62135596800000 : 0);
        int offset = (int)(x % 1439) - 719;
        char out[CS_TIME_RFC3339_MAX];
        if (cs_time_format_rfc3339(ms, offset, out)) {
            continue; /* shifted outside year 0000-9999 by the offset */
        }
        int64_t back;
        int back_offset;
        assert_int_equal(cs_time_parse_rfc3339(cs_str_from_c(out), &back, &back_offset, NULL), 0);
        if (back != ms || back_offset != offset) {
            fail_msg("%lld at %d wrote %s, read back %lld", (long long)ms, offset, out,
                     (long long)back);
        }
    }
}

static void clocks_move_forward(void **state)
{
    (void)state;
    int64_t a = cs_time_monotonic_us();
    int64_t b = cs_time_monotonic_us();
    assert_true(b >= a);
    assert_true(cs_time_now_ms() > 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_table),
        cmocka_unit_test(format_writes_milliseconds_and_offsets),
        cmocka_unit_test(format_and_parse_round_trip),
        cmocka_unit_test(clocks_move_forward),
    };
    return cmocka_run_group_tests_name("timestamp", tests, NULL, NULL);
}
