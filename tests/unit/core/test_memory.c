/* Arena, bounded buffer, error list and string views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

static void arena_allocations_are_aligned_and_distinct(void **state)
{
    (void)state;
    cs_arena a;
    cs_arena_init(&a, 256, 0);
    char *prev = NULL;
    for (size_t size = 1; size < 300; size += 7) {
        char *p = cs_arena_alloc(&a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xAB, size);
        assert_ptr_not_equal(p, prev);
        prev = p;
    }
    assert_non_null(cs_arena_alloc(&a, 0));
    cs_arena_clean_up(&a);
}

static void arena_cap_fails_cleanly_and_reset_recovers(void **state)
{
    (void)state;
    cs_arena a;
    cs_arena_init(&a, 1024, 4096);
    size_t got = 0;
    while (cs_arena_alloc(&a, 100)) {
        got++;
    }
    assert_true(a.exhausted);
    assert_true(a.held_bytes <= 4096);
    assert_true(got >= 30);
    assert_null(cs_arena_alloc(&a, 5000)); /* larger than the cap on its own */
    cs_diag diag;
    assert_int_equal(cs_arena_full(&a, &diag), CS_ERR_ARENA_FULL);
    assert_non_null(strstr(diag.message, "4096"));
    cs_arena_reset(&a);
    assert_false(a.exhausted);
    assert_int_equal(a.held_bytes, 1024); /* the first block is kept */
    assert_non_null(cs_arena_alloc(&a, 100));
    cs_arena_clean_up(&a);
}

static void arena_big_allocation_gets_its_own_block(void **state)
{
    (void)state;
    cs_arena a;
    cs_arena_init(&a, 128, 0);
    char *small = cs_arena_alloc(&a, 16);
    char *big = cs_arena_alloc(&a, 100000);
    assert_non_null(small);
    assert_non_null(big);
    memset(big, 1, 100000);
    assert_true(a.peak_bytes >= 100000);
    cs_arena_reset(&a);
    assert_int_equal(a.held_bytes, 128);
    cs_arena_clean_up(&a);
}

static void arena_strings(void **state)
{
    (void)state;
    cs_arena a;
    cs_arena_init(&a, 0, 0);
    char *s = cs_arena_strndup(&a, cs_str_make("hello world", 5));
    assert_string_equal(s, "hello");
    char *f = cs_arena_sprintf(&a, "%s-%d", "order", 42);
    assert_string_equal(f, "order-42");
    assert_null(cs_arena_calloc(&a, SIZE_MAX / 2, 4));
    int *zeros = cs_arena_calloc(&a, 10, sizeof(int));
    for (int i = 0; i < 10; i++) {
        assert_int_equal(zeros[i], 0);
    }
    cs_arena_clean_up(&a);
}

static void buffer_respects_its_maximum(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 10);
    assert_int_equal(cs_buf_append_c(&b, "0123456"), CS_ERR_OK);
    assert_int_equal(cs_buf_append_c(&b, "7890"), CS_ERR_BUFFER_FULL);
    assert_string_equal(b.data, "0123456"); /* untouched by the failed append */
    assert_int_equal(cs_buf_appendf(&b, "%d", 789), CS_ERR_OK);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(cs_buf_append_byte(&b, 'x'), CS_ERR_BUFFER_FULL);
    assert_true(b.refused);
    char *data = b.data;
    cs_buf_reset(&b);
    assert_false(b.refused);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(cs_buf_append_c(&b, "again"), CS_ERR_OK);
    assert_ptr_equal(b.data, data); /* memory reused */
    cs_buf_clean_up(&b);
    cs_buf empty;
    cs_buf_init(&empty, 0);
    assert_int_equal(cs_buf_view(&empty).len, 0);
    assert_non_null(cs_buf_view(&empty).ptr);
    cs_buf_clean_up(&empty);
}

static void buffer_repairs_utf8_on_request(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 0);
    assert_int_equal(cs_buf_append_valid_utf8(&b, CS_STR_LIT("ok \xc3\xa9 \xff\xfe end \xe2\x82")),
                     0);
    assert_string_equal(b.data,
                        "ok \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end \xef\xbf\xbd\xef\xbf\xbd");
    cs_buf_reset(&b);
    assert_int_equal(cs_buf_append_valid_utf8(&b, CS_STR_NULL), 0);
    assert_int_equal(b.len, 0);
    cs_buf_clean_up(&b);
}

static void error_names_and_messages_are_unique(void **state)
{
    (void)state;
    for (int i = 0; i < CS_ERR__COUNT; i++) {
        assert_true(strlen(cs_error_name((cs_error)i)) > 1);
        assert_true(strlen(cs_error_message((cs_error)i)) > 1);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(cs_error_name((cs_error)i), cs_error_name((cs_error)j));
        }
    }
    assert_string_equal(cs_error_name(CS_ERR_OK), "Ok");
    assert_string_equal(cs_error_name(CS_ERR__COUNT), "Unknown");
    assert_string_equal(cs_error_name((cs_error)-1), "Unknown");
}

static void diag_records_code_message_field_offset(void **state)
{
    (void)state;
    cs_diag d;
    assert_int_equal(cs_diag_set(&d, CS_ERR_JSON_TYPE, "field %s wrong", "x"), CS_ERR_JSON_TYPE);
    cs_diag_set_field(&d, "order.lines[0]");
    cs_diag_set_offset(&d, 12);
    assert_int_equal(d.code, CS_ERR_JSON_TYPE);
    assert_string_equal(d.message, "field x wrong");
    assert_string_equal(d.field, "order.lines[0]");
    assert_true(d.has_offset);
    assert_int_equal(d.offset, 12);
    assert_int_equal(cs_diag_set(&d, CS_ERR_NOMEM, NULL), CS_ERR_NOMEM);
    assert_string_equal(d.message, "out of memory");
    assert_false(d.has_offset);
    /* A NULL diag is allowed everywhere. */
    assert_int_equal(cs_diag_set(NULL, CS_ERR_IO, "x"), CS_ERR_IO);
    cs_diag_set_field(NULL, "x");
    cs_diag_set_offset(NULL, 1);
    cs_diag_clear(NULL);
}

static void utf8_validation_is_strict(void **state)
{
    (void)state;
    struct {
        const char *text;
        size_t len;
        int valid;
        size_t bad;
    } cases[] = {
        {"plain ascii", 11, 1, 0},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 1, 0},
        {"\xf4\x8f\xbf\xbf", 4, 1, 0}, /* U+10FFFF */
        {"ab\xc0\x80", 4, 0, 2},       /* overlong NUL */
        {"\xe0\x80\xaf", 3, 0, 0},     /* overlong '/' */
        {"x\xed\xa0\x80", 4, 0, 1},    /* surrogate */
        {"\xf4\x90\x80\x80", 4, 0, 0}, /* above U+10FFFF */
        {"ok\xe2\x82", 4, 0, 2},       /* truncated */
        {"\x80", 1, 0, 0},             /* lone continuation */
        {"\xff", 1, 0, 0},
        {"a\0b", 3, 1, 0}, /* NUL is valid UTF-8 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 99;
        int valid = cs_utf8_valid(cs_str_make(cases[i].text, cases[i].len), &bad);
        assert_int_equal(valid, cases[i].valid);
        if (!valid) {
            assert_int_equal(bad, cases[i].bad);
        }
    }
}

static void string_views(void **state)
{
    (void)state;
    assert_true(cs_str_eq(CS_STR_LIT("abc"), cs_str_from_c("abc")));
    assert_false(cs_str_eq(CS_STR_LIT("abc"), CS_STR_LIT("abd")));
    assert_true(cs_str_eq(CS_STR_NULL, CS_STR_LIT("")));
    assert_true(cs_str_eq_nocase(CS_STR_LIT("Content-Type"), CS_STR_LIT("content-TYPE")));
    assert_true(cs_str_starts_with(CS_STR_LIT("gid://shopify/Order/1"), CS_STR_LIT("gid://")));
    assert_int_equal(cs_str_find_char(CS_STR_LIT("a:b:c"), ':', 2), 3);
    assert_int_equal(cs_str_find_char(CS_STR_LIT("abc"), ':', 0), -1);
    assert_true(cs_str_eq_c(cs_str_trim(CS_STR_LIT(" \t x y \r\n")), "x y"));
    assert_true(cs_str_eq_c(cs_str_sub(CS_STR_LIT("abcdef"), 2, 100), "cdef"));
    assert_true(cs_str_eq_c(cs_str_sub(CS_STR_LIT("abc"), 10, 1), ""));
    assert_int_equal(cs_str_from_c(NULL).len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_allocations_are_aligned_and_distinct),
        cmocka_unit_test(arena_cap_fails_cleanly_and_reset_recovers),
        cmocka_unit_test(arena_big_allocation_gets_its_own_block),
        cmocka_unit_test(arena_strings),
        cmocka_unit_test(buffer_respects_its_maximum),
        cmocka_unit_test(buffer_repairs_utf8_on_request),
        cmocka_unit_test(error_names_and_messages_are_unique),
        cmocka_unit_test(diag_records_code_message_field_offset),
        cmocka_unit_test(utf8_validation_is_strict),
        cmocka_unit_test(string_views),
    };
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
