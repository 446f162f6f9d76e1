/* Logs and ids: every line parses as JSON with the expected fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/id.h"
#include "core/json.h"
#include "core/log.h"

typedef struct capture {
    char path[64];
    int fd;
    cs_logger log;
    cs_arena arena;
    char *text;
} capture;

static int setup(void **state)
{
    capture *c = calloc(1, sizeof(*c));
    snprintf(c->path, sizeof(c->path), "/tmp/cs-log-XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    unsetenv("AWS_LAMBDA_LOG_LEVEL");
    cs_log_init(&c->log, "order-export", c->fd);
    cs_arena_init(&c->arena, 0, 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    capture *c = *state;
    cs_log_clean_up(&c->log);
    cs_arena_clean_up(&c->arena);
    close(c->fd);
    unlink(c->path);
    free(c->text);
    free(c);
    return 0;
}

/* Parses line `index` of what was written so far; NULL if there is none. */
static cs_json *line_at(capture *c, size_t index, size_t *total)
{
    free(c->text);
    FILE *f = fopen(c->path, "r");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->text = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(c->text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    size_t lines = 0;
    cs_json *found = NULL;
    for (char *line = c->text; *line;) {
        char *end = strchr(line, '\n');
        assert_non_null(end); /* every line ends with a newline */
        if (lines == index) {
            cs_json *doc;
            cs_diag diag;
            if (cs_json_parse(&c->arena, cs_str_make(line, (size_t)(end - line)), &doc, &diag)) {
                fail_msg("line %zu is not JSON: %s", index, diag.message);
            }
            found = doc;
        }
        lines++;
        line = end + 1;
    }
    if (total) {
        *total = lines;
    }
    return found;
}

static void assert_field(cs_json *doc, const char *path, const char *want)
{
    cs_str got;
    assert_int_equal(cs_json_get_string(doc, path, &got, NULL), CS_ERR_OK);
    if (!cs_str_eq_c(got, want)) {
        fail_msg("%s is '%.*s', expected '%s'", path, CS_STR_FMT(got), want);
    }
}

static void line_has_lambda_shape_and_context(void **state)
{
    capture *c = *state;
    cs_log_set_request_id(&c->log, CS_STR_LIT("79b4f56e-95b1-4643-9700-2807f4e68189"));
    cs_log_set_correlation_id(&c->log, CS_STR_LIT("shopify:order:450789469"));
    CS_LOG(&c->log, CS_LOG_INFO, "order exported", CS_LOG_CSTR("erpOrder", "SO-1001"),
           CS_LOG_INT("lines", 3), CS_LOG_BOOL("retried", false), CS_LOG_STR("none", CS_STR_NULL));
    cs_json *doc = line_at(c, 0, NULL);
    assert_field(doc, "level", "INFO");
    assert_field(doc, "message", "order exported");
    assert_field(doc, "requestId", "79b4f56e-95b1-4643-9700-2807f4e68189");
    assert_field(doc, "correlationId", "shopify:order:450789469");
    assert_field(doc, "function", "order-export");
    assert_field(doc, "erpOrder", "SO-1001");
    int64_t lines;
    assert_int_equal(cs_json_get_int64(doc, "lines", &lines, NULL), 0);
    assert_true(lines == 3);
    assert_int_equal(cs_json_path(doc, "retried")->type, CS_JSON_BOOL);
    assert_int_equal(cs_json_path(doc, "none")->type, CS_JSON_NULL);
    cs_str ts;
    assert_int_equal(cs_json_get_string(doc, "timestamp", &ts, NULL), 0);
    assert_int_equal(ts.len, 24);
    assert_int_equal(ts.ptr[23], 'Z');
    /* Clearing the context removes the fields. */
    cs_log_set_correlation_id(&c->log, CS_STR_NULL);
    cs_logf(&c->log, CS_LOG_WARN, "slow: %d ms", 900);
    doc = line_at(c, 1, NULL);
    assert_field(doc, "message", "slow: 900 ms");
    assert_field(doc, "level", "WARN");
    assert_null(cs_json_path(doc, "correlationId"));
}

static void level_comes_from_the_environment(void **state)
{
    capture *c = *state;
    cs_log_clean_up(&c->log);
    setenv("AWS_LAMBDA_LOG_LEVEL", "warn", 1);
    cs_log_init(&c->log, "f", c->fd);
    cs_logf(&c->log, CS_LOG_INFO, "hidden");
    cs_logf(&c->log, CS_LOG_DEBUG, "hidden");
    cs_logf(&c->log, CS_LOG_ERROR, "shown");
    size_t total;
    assert_field(line_at(c, 0, &total), "message", "shown");
    assert_int_equal(total, 1);
    cs_log_clean_up(&c->log);
    setenv("AWS_LAMBDA_LOG_LEVEL", "chatty", 1);
    cs_log_init(&c->log, "f", c->fd);
    assert_int_equal(c->log.min_level, CS_LOG_INFO);
    cs_json *warning = line_at(c, 1, NULL);
    assert_field(warning, "level", "WARN");
    cs_str message = cs_json_path(warning, "message")->text;
    assert_non_null(memmem(message.ptr, message.len, "chatty", 6));
    unsetenv("AWS_LAMBDA_LOG_LEVEL");
}

static void secrets_are_never_printed(void **state)
{
    capture *c = *state;
    assert_int_equal(cs_log_add_secret(&c->log, CS_STR_LIT("shpat_abc123")), 0);
    assert_int_equal(cs_log_add_secret(&c->log, CS_STR_LIT("hunter2")), 0);
    assert_int_equal(cs_log_add_secret(&c->log, CS_STR_NULL), CS_ERR_INVALID_ARGUMENT);
    CS_LOG(&c->log, CS_LOG_ERROR, "auth failed for shpat_abc123",
           CS_LOG_CSTR("header", "X-Token: shpat_abc123shpat_abc123; pw=hunter2"));
    cs_json *doc = line_at(c, 0, NULL);
    assert_null(strstr(c->text, "shpat_abc123"));
    assert_null(strstr(c->text, "hunter2"));
    assert_field(doc, "message", "auth failed for [REDACTED]");
    assert_field(doc, "header", "X-Token: [REDACTED][REDACTED]; pw=[REDACTED]");
}

static void invalid_utf8_is_repaired_not_dropped(void **state)
{
    capture *c = *state;
    CS_LOG(&c->log, CS_LOG_WARN, "bad payload", CS_LOG_CSTR("body", "caf\xe9 ok"));
    assert_field(line_at(c, 0, NULL), "body", "caf\xef\xbf\xbd ok");
}

static void oversized_line_is_replaced_by_a_note(void **state)
{
    capture *c = *state;
    size_t size = CS_LOG_MAX_LINE + 10;
    char *huge = malloc(size + 1);
    memset(huge, 'a', size);
    huge[size] = '\0';
    CS_LOG(&c->log, CS_LOG_INFO, "snapshot", CS_LOG_CSTR("payload", huge));
    free(huge);
    cs_json *doc = line_at(c, 0, NULL);
    assert_field(doc, "message", "log line dropped: buffer maximum size reached");
    assert_field(doc, "level", "INFO");
}

static void uuids_are_version_4_and_unique(void **state)
{
    (void)state;
    char ids[1000][CS_UUID_STR_LEN];
    for (int i = 0; i < 1000; i++) {
        cs_uuid_v4(ids[i]);
        assert_int_equal(strlen(ids[i]), 36);
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
        for (int k = 0; k < 36; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23) {
                assert_int_equal(ids[i][k], '-');
            } else {
                assert_non_null(strchr("0123456789abcdef", ids[i][k]));
            }
        }
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(ids[i], ids[j]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(line_has_lambda_shape_and_context, setup, teardown),
        cmocka_unit_test_setup_teardown(level_comes_from_the_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_are_never_printed, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8_is_repaired_not_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_line_is_replaced_by_a_note, setup, teardown),
        cmocka_unit_test(uuids_are_version_4_and_unique),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
