/* Field maps against fixtures: tests/fixtures/mapping/golden/<case>/ holds
 * config.json (with a map named "target"), input.json (a canonical record)
 * and either expected.json (the exact output) or expected.problems (one
 * "path: rule: message" per line, and no output). bad-config/<case>.json
 * must fail to load with exactly the problems in <case>.expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixture.h"
#include "testing.h"
#include "mapping/mapping.h"
#include "model/codec.h"

static int fixture_exists(const char *relative)
{
    char path[512];
    const char *root = getenv("CS_FIXTURES");
    snprintf(path, sizeof(path), "%s/%s", root ? root : "tests/fixtures", relative);
    struct stat st;
    return stat(path, &st) == 0;
}

static void run_case(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    print_message("case %s/%s\n", dir, name);
    char path[256];
    snprintf(path, sizeof(path), "mapping/golden/%s/config.json", name);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_mapping *mapping;
    if (cs_mapping_load(&test_arena, test_parse_fixture(&test_arena, path), &mapping, &problems)) {
        fail_msg("%s: config refused:\n%s", name, test_problems_text(&test_arena, &problems));
    }
    const cs_fieldmap *map = cs_mapping_map(mapping, CS_STR_LIT("target"));
    assert_non_null(map);
    void *record = cs_arena_calloc(&test_arena, 1, map->schema->size);
    snprintf(path, sizeof(path), "mapping/golden/%s/input.json", name);
    assert_int_equal(cs_record_decode(map->schema, test_parse_fixture(&test_arena, path),
                                      &test_arena, record, &problems),
                     CS_ERR_OK);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_buf_append_c(&out, "untouched");
    cs_error result = cs_fieldmap_apply(map, record, &test_arena, &out, &problems);
    snprintf(path, sizeof(path), "mapping/golden/%s/expected.json", name);
    bool want_output = fixture_exists(path);
    if (!want_output) {
        snprintf(path, sizeof(path), "mapping/golden/%s/expected.problems", name);
    }
    char *expected = fixture_read(path, NULL);
    if (want_output) {
        assert_int_equal(result, CS_ERR_OK);
        test_expect_text(name, out.data + strlen("untouched"), expected);
    } else {
        assert_int_equal(result, CS_ERR_INVALID_ARGUMENT);
        assert_string_equal(out.data, "untouched"); /* never half-written */
        test_expect_text(name, test_problems_text(&test_arena, &problems), expected);
    }
    free(expected);
    cs_buf_clean_up(&out);
}

static void golden_cases(void **state)
{
    (void)state;
    assert_true(fixture_dirs("mapping/golden", run_case, NULL) >= 5);
}

static void check_bad_config(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_mapping *mapping;
    assert_int_equal(
        cs_mapping_load(&test_arena, test_parse_fixture(&test_arena, path), &mapping, &problems),
        CS_ERR_CONFIG);
    snprintf(path + strlen(path) - strlen(".json"), 16, ".expected");
    char *expected = fixture_read(path, NULL);
    test_expect_text(name, test_problems_text(&test_arena, &problems), expected);
    free(expected);
}

static void bad_configs_list_every_problem(void **state)
{
    (void)state;
    assert_true(fixture_each("mapping/bad-config", ".json", check_bad_config, NULL) >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_cases),
        cmocka_unit_test(bad_configs_list_every_problem),
    };
    return cmocka_run_group_tests_name("fieldmap", tests, test_arena_setup, test_arena_teardown);
}
