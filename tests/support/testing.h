/* Helpers shared by the cmocka tests: parse JSON that must be valid, render
 * problem lists, compare long texts with a readable failure. Each fails the
 * running test (cmocka) rather than returning an error. */
#ifndef CS_TESTS_TESTING_H
#define CS_TESTS_TESTING_H

#include "core/json.h"
#include "core/problems.h"
#include "model/schema.h"
#include "net/http.h"

/* An arena for a test group, initialised and freed by the group's setup and
 * teardown: cmocka_run_group_tests_name(name, tests, test_arena_setup,
 * test_arena_teardown). */
extern cs_arena test_arena;
int test_arena_setup(void **state);
int test_arena_teardown(void **state);

/* Copies text into arena and parses it (the DOM may point into the copy). */
cs_json *test_parse(cs_arena *arena, const char *text, size_t len);
/* test_parse of a file under tests/fixtures. */
cs_json *test_parse_fixture(cs_arena *arena, const char *relative_path);
/* "path: rule: message\n" per problem, in arena ("" when there are none). */
char *test_problems_text(cs_arena *arena, const cs_problems *problems);
/* Fails with both texts on stderr (cmocka cuts long messages) unless equal. */
void test_expect_text(const char *what, const char *got, const char *expected);

/* Fails unless the record's canonical JSON (schema.h) is the text of the
 * golden fixture (a path under tests/fixtures), byte for byte. */
void test_expect_canonical(const cs_schema *schema, const void *record, const char *golden);

/* text with its first `from` replaced by `to`, in test_arena; fails the
 * test when from is not in text. */
char *test_replace(const char *text, const char *from, const char *to);

/* Writes text to path with `insert` put before the first `before`; false
 * when before is not in text or the file cannot be written. */
bool test_write_with(const char *path, const char *text, const char *before, const char *insert);

/* The integer at key (a path) in o; fails the test when it is not one. */
int64_t test_json_int(const cs_json *o, const char *key);

/* The string at key (a path) in o; fails the test when it is not one. */
cs_str test_json_text(const cs_json *o, const char *key);

/* POSTs body to url and returns the answer's text (in test_arena) and its
 * status (0 when nothing answered); the caller asserts on the status. With
 * target, the request is an AWS JSON-protocol call (X-Amz-Target: target),
 * as the emulator's SQS API takes them. */
char *test_post(cs_http_client *http, const char *url, const char *target, const char *body,
                long *status);
/* The same for a GET. */
char *test_get(cs_http_client *http, const char *url, long *status);

/* The contract test function (tests/functions/contract.c), under $BUILD or
 * build/. */
const char *test_contract_bootstrap(void);

#endif
