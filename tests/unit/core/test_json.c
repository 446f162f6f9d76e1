#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "fixture.h"
#include "testing.h"

static cs_json *parse_ok(const char *text)
{
    cs_json *doc = NULL;
    cs_diag diag;
    cs_error result = cs_json_parse(&test_arena, cs_str_from_c(text), &doc, &diag);
    if (result) {
        fail_msg("parse of %s failed: %s", text, diag.message);
    }
    return doc;
}

static void check_good(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len;
    char *input = fixture_read(path, &len);
    snprintf(path + strlen(path) - strlen(".json"), 16, ".expected");
    size_t expected_len;
    char *expected = fixture_read(path, &expected_len);
    cs_json *doc = NULL;
    cs_diag diag;
    if (cs_json_parse(&test_arena, cs_str_make(input, len), &doc, &diag)) {
        fail_msg("%s: %s", name, diag.message);
    }
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(cs_json_serialize(doc, &out, &diag), CS_ERR_OK);
    if (out.len != expected_len || memcmp(out.data, expected, out.len) != 0) {
        fail_msg("%s: got %s, expected %s", name, out.data, expected);
    }
    cs_buf_clean_up(&out);
    free(input);
    free(expected);
}

static void good_fixtures_round_trip_exactly(void **state)
{
    (void)state;
    assert_true(fixture_each("json/good", ".json", check_good, NULL) >= 4);
}

static void check_bad(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len;
    char *input = fixture_read(path, &len);
    snprintf(path + strlen(path) - strlen(".json"), 16, ".expected");
    char *expected = fixture_read(path, NULL);
    char want_name[64];
    size_t want_offset;
    assert_int_equal(sscanf(expected, "%63s %zu", want_name, &want_offset), 2);
    cs_json *doc = NULL;
    cs_diag diag;
    cs_error result = cs_json_parse(&test_arena, cs_str_make(input, len), &doc, &diag);
    if (strcmp(cs_error_name(result), want_name) != 0 || !diag.has_offset ||
        diag.offset != want_offset) {
        fail_msg("%s: got %s at %zu (%s), expected %s at %zu", name, cs_error_name(result),
                 diag.offset, diag.message, want_name, want_offset);
    }
    assert_non_null(strstr(diag.message, "byte"));
    free(input);
    free(expected);
}

static void bad_fixtures_fail_with_named_error_and_offset(void **state)
{
    (void)state;
    assert_true(fixture_each("json/bad", ".json", check_bad, NULL) >= 10);
}

static void numbers_keep_their_text(void **state)
{
    (void)state;
    cs_json *doc = parse_ok("{\"id\":9223372036854775807,\"min\":-9223372036854775808,"
                            "\"big\":9223372036854775808,\"price\":\"19.99\",\"f\":1.5}");
    int64_t id;
    assert_int_equal(cs_json_get_int64(doc, "id", &id, NULL), CS_ERR_OK);
    assert_true(id == INT64_MAX);
    assert_int_equal(cs_json_get_int64(doc, "min", &id, NULL), CS_ERR_OK);
    assert_true(id == INT64_MIN);
    cs_diag diag;
    assert_int_equal(cs_json_get_int64(doc, "big", &id, &diag), CS_ERR_OVERFLOW);
    assert_string_equal(diag.field, "big");
    assert_int_equal(cs_json_get_int64(doc, "f", &id, &diag), CS_ERR_JSON_TYPE);
    assert_true(cs_str_eq_c(cs_json_path(doc, "big")->text, "9223372036854775808"));
}

static void paths_and_typed_lookups_name_the_field(void **state)
{
    (void)state;
    cs_json *doc = parse_ok("{\"order\":{\"lines\":[{\"sku\":\"A\"},{\"sku\":7,\"gift\":true}],"
                            "\"note\":null}}");
    cs_str sku;
    assert_int_equal(cs_json_get_string(doc, "order.lines[0].sku", &sku, NULL), CS_ERR_OK);
    assert_true(cs_str_eq_c(sku, "A"));
    cs_diag diag;
    assert_int_equal(cs_json_get_string(doc, "order.lines[1].sku", &sku, &diag), CS_ERR_JSON_TYPE);
    assert_string_equal(diag.field, "order.lines[1].sku");
    assert_non_null(strstr(diag.message, "is number, expected string"));
    assert_int_equal(cs_json_get_string(doc, "order.lines[2].sku", &sku, &diag),
                     CS_ERR_JSON_MISSING);
    assert_string_equal(diag.field, "order.lines[2].sku");
    assert_int_equal(cs_json_get_string(doc, "order.note", &sku, &diag), CS_ERR_JSON_MISSING);
    assert_non_null(strstr(diag.message, "is null"));
    cs_str untouched = CS_STR_LIT("keep");
    assert_int_equal(cs_json_opt_string(doc, "order.note", &untouched, NULL), CS_ERR_OK);
    assert_true(cs_str_eq_c(untouched, "keep"));
    bool gift = false;
    assert_int_equal(cs_json_get_bool(doc, "order.lines[1].gift", &gift, NULL), CS_ERR_OK);
    assert_true(gift);
    assert_ptr_equal(cs_json_path(doc, ""), doc);
    assert_null(cs_json_path(doc, "order..lines"));
    assert_null(cs_json_path(doc, "order.lines[x]"));
    assert_null(cs_json_path(doc, "order.lines[0"));
    assert_null(cs_json_path(doc, ".order"));
    assert_int_equal(cs_json_path(doc, "order.lines")->count, 2);
    cs_json *root_array = parse_ok("[{\"id\":1},{\"id\":2}]");
    int64_t id;
    assert_int_equal(cs_json_get_int64(root_array, "[1].id", &id, NULL), CS_ERR_OK);
    assert_true(id == 2);
}

static void keys_and_strings_with_nul_bytes(void **state)
{
    (void)state;
    cs_json *doc = parse_ok("{\"a\\u0000b\":\"x\\u0000y\"}");
    cs_json *v = cs_json_object_get(doc, cs_str_make("a\0b", 3));
    assert_non_null(v);
    assert_int_equal(v->text.len, 3);
    assert_memory_equal(v->text.ptr, "x\0y", 3);
}

static void depth_limit_is_configurable(void **state)
{
    (void)state;
    cs_json_opts opts = {.max_depth = 3};
    cs_json *doc;
    cs_diag diag;
    assert_int_equal(cs_json_parse_opts(&test_arena, CS_STR_LIT("[[[1]]]"), &opts, &doc, &diag), 0);
    assert_int_equal(cs_json_parse_opts(&test_arena, CS_STR_LIT("[[[[1]]]]"), &opts, &doc, &diag),
                     CS_ERR_JSON_DEPTH);
    assert_int_equal(diag.offset, 3);
}

static void arena_cap_is_an_error_not_a_crash(void **state)
{
    (void)state;
    cs_arena small;
    cs_arena_init(&small, 1024, 4096);
    cs_buf big;
    cs_buf_init(&big, 0);
    cs_buf_append_c(&big, "[");
    for (int i = 0; i < 1000; i++) {
        cs_buf_appendf(&big, "%s\"element %d\"", i ? "," : "", i);
    }
    cs_buf_append_c(&big, "]");
    cs_json *doc;
    cs_diag diag;
    assert_int_equal(cs_json_parse(&small, cs_buf_view(&big), &doc, &diag), CS_ERR_ARENA_FULL);
    cs_buf_clean_up(&big);
    cs_arena_clean_up(&small);
}

static void writer_escapes_and_validates(void **state)
{
    (void)state;
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    assert_int_equal(cs_json_writer_init(&w, &out), CS_ERR_OK);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "s");
    cs_json_write_string_c(&w, "a\"b\\c\n\x01");
    cs_json_write_key_c(&w, "n");
    cs_json_write_number_text(&w, CS_STR_LIT("-12.50e3"));
    cs_json_write_key_c(&w, "i");
    cs_json_write_int64(&w, INT64_MIN);
    cs_json_write_key_c(&w, "b");
    cs_json_write_bool(&w, false);
    cs_json_write_key_c(&w, "z");
    cs_json_write_null(&w);
    cs_json_write_object_end(&w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    assert_string_equal(out.data, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":-12.50e3,"
                                  "\"i\":-9223372036854775808,\"b\":false,\"z\":null}");

    cs_buf_reset(&out);
    cs_json_writer_init(&w, &out);
    cs_json_write_array_begin(&w);
    cs_json_write_number_text(&w, CS_STR_LIT("1.")); /* not a JSON number */
    cs_json_write_array_end(&w);
    cs_diag diag;
    assert_int_equal(cs_json_writer_finish(&w, &diag), CS_ERR_JSON_SYNTAX);
    cs_json_writer_clean_up(&w);

    cs_buf_reset(&out);
    cs_json_writer_init(&w, &out);
    cs_json_write_string(&w, CS_STR_LIT("caf\xe9"));
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_UTF8);
    cs_json_writer_clean_up(&w);

    cs_buf_reset(&out);
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    assert_int_equal(cs_json_writer_finish(&w, &diag), CS_ERR_JSON_SYNTAX);
    assert_non_null(strstr(diag.message, "left open"));
    cs_json_writer_clean_up(&w);

    cs_buf_reset(&out);
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    cs_json_write_int64(&w, 1); /* a value where a key belongs */
    assert_int_not_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&out);
}

static void writer_takes_empty_views_without_pointers(void **state)
{
    (void)state;
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    cs_json_write_key(&w, CS_STR_NULL);
    cs_json_write_string(&w, CS_STR_NULL);
    cs_json_write_object_end(&w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    assert_string_equal(out.data, "{\"\":\"\"}");
    cs_buf_clean_up(&out);
}

static void writer_stops_at_buffer_maximum(void **state)
{
    (void)state;
    cs_buf out;
    cs_buf_init(&out, 8);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_string_c(&w, "longer than eight bytes");
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_BUFFER_FULL);
    assert_true(out.len <= 8);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&out);
}

static void number_grammar(void **state)
{
    (void)state;
    const char *good[] = {"0", "-0", "1", "10", "1.5", "1e5", "1E+5", "1e-5", "-0.0e0"};
    const char *bad[] = {"", "-", "01", "1.", ".1", "1e", "+1", "1e+", "0x10", "1 ", "NaN"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(cs_json_number_valid(cs_str_from_c(good[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cs_json_number_valid(cs_str_from_c(bad[i]))) {
            fail_msg("'%s' accepted as a number", bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_fixtures_round_trip_exactly),
        cmocka_unit_test(bad_fixtures_fail_with_named_error_and_offset),
        cmocka_unit_test(numbers_keep_their_text),
        cmocka_unit_test(paths_and_typed_lookups_name_the_field),
        cmocka_unit_test(keys_and_strings_with_nul_bytes),
        cmocka_unit_test(depth_limit_is_configurable),
        cmocka_unit_test(arena_cap_is_an_error_not_a_crash),
        cmocka_unit_test(writer_escapes_and_validates),
        cmocka_unit_test(writer_takes_empty_views_without_pointers),
        cmocka_unit_test(writer_stops_at_buffer_maximum),
        cmocka_unit_test(number_grammar),
    };
    return cmocka_run_group_tests_name("json", tests, test_arena_setup, test_arena_teardown);
}
