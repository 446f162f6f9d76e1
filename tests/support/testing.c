#include "testing.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "model/codec.h"

cs_arena test_arena;

int test_arena_setup(void **state)
{
    (void)state;
    cs_arena_init(&test_arena, 0, 0);
    return 0;
}

int test_arena_teardown(void **state)
{
    (void)state;
    cs_arena_clean_up(&test_arena);
    return 0;
}

cs_json *test_parse(cs_arena *arena, const char *text, size_t len)
{
    char *copy = cs_arena_strndup(arena, cs_str_make(text, len));
    cs_json *doc = NULL;
    cs_diag diag;
    if (!copy || cs_json_parse(arena, cs_str_make(copy, len), &doc, &diag)) {
        fail_msg("test JSON does not parse: %s", copy ? diag.message : "arena full");
    }
    return doc;
}

cs_json *test_parse_fixture(cs_arena *arena, const char *relative_path)
{
    size_t len;
    char *text = fixture_read(relative_path, &len);
    cs_json *doc = test_parse(arena, text, len);
    free(text);
    return doc;
}

char *test_problems_text(cs_arena *arena, const cs_problems *problems)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    for (size_t i = 0; i < problems->count; i++) {
        cs_buf_appendf(&out, "%s: %s: %s\n", problems->items[i].path, problems->items[i].rule,
                       problems->items[i].message);
    }
    char *text = cs_arena_strndup(arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

void test_expect_text(const char *what, const char *got, const char *expected)
{
    if (strcmp(got ? got : "", expected) != 0) {
        fprintf(stderr, "%s: got\n%s\n--- expected\n%s\n---\n", what, got ? got : "", expected);
        fail_msg("%s differs from what was expected", what);
    }
}

const char *test_contract_bootstrap(void)
{
    static char path[256];
    const char *build = getenv("BUILD");
    snprintf(path, sizeof(path), "%s/tests/functions/contract/bootstrap", build ? build : "build");
    return path;
}

void test_expect_canonical(const cs_schema *schema, const void *record, const char *golden)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_record_encode(schema, record, &w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    char *expected = fixture_read(golden, NULL);
    test_expect_text(golden, out.data, expected);
    free(expected);
    cs_buf_clean_up(&out);
}

int64_t test_json_int(const cs_json *o, const char *key)
{
    int64_t n = -1;
    assert_int_equal(cs_json_get_int64(o, key, &n, NULL), CS_ERR_OK);
    return n;
}

cs_str test_json_text(const cs_json *o, const char *key)
{
    cs_str text = CS_STR_NULL;
    assert_int_equal(cs_json_get_string(o, key, &text, NULL), CS_ERR_OK);
    return text;
}

static char *request(cs_http_client *http, const char *method, const char *url, const char *target,
                     const char *body, long *status)
{
    char header[96];
    snprintf(header, sizeof(header), "X-Amz-Target: %s", target ? target : "");
    const char *headers[] = {header, "Content-Type: application/x-amz-json-1.0", NULL};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_http_request req = {.method = method,
                           .url = url,
                           .headers = target ? headers : NULL,
                           .body = cs_str_from_c(body ? body : "")};
    cs_http_response resp = {.body = &out};
    cs_http_send(http, &req, &resp, NULL);
    *status = resp.status;
    char *text = cs_arena_strndup(&test_arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

char *test_post(cs_http_client *http, const char *url, const char *target, const char *body,
                long *status)
{
    return request(http, "POST", url, target, body, status);
}

char *test_get(cs_http_client *http, const char *url, long *status)
{
    return request(http, "GET", url, NULL, NULL, status);
}

bool test_write_with(const char *path, const char *text, const char *before, const char *insert)
{
    const char *mark = strstr(text, before);
    FILE *f = mark ? fopen(path, "w") : NULL;
    if (!f) {
        return false;
    }
    fwrite(text, 1, (size_t)(mark - text), f);
    fputs(insert, f);
    fputs(mark, f);
    return fclose(f) == 0;
}

char *test_replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    return cs_arena_sprintf(&test_arena, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}
