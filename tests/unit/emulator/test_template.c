#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emulator/template.h"
#include "fixture.h"
#include "testing.h"

static char *load(const char *path, em_template *t, const em_template_opts *opts,
                  cs_problems *warnings, cs_error *result, cs_diag *diag)
{
    size_t len;
    char *text = fixture_read(path, &len);
    char *copy = cs_arena_strndup(&test_arena, cs_str_make(text, len));
    free(text);
    cs_problems_init(warnings, &test_arena);
    *result = em_template_load(&test_arena, cs_str_make(copy, len), opts, t, warnings, diag);
    return copy;
}

static void expect_env(const em_function *f, const char *name, const char *value)
{
    for (size_t i = 0; i < f->env_count; i++) {
        if (cs_str_eq_c(f->env[i].name, name)) {
            if (!cs_str_eq_c(f->env[i].value, value)) {
                fail_msg("%s is '%.*s', expected '%s'", name, CS_STR_FMT(f->env[i].value), value);
            }
            return;
        }
    }
    fail_msg("no %s", name);
}

static void a_full_template(void **state)
{
    (void)state;
    em_template t;
    cs_problems warnings;
    cs_error result;
    cs_diag diag;
    const char *overrides[] = {"Stage=test", NULL};
    em_template_opts opts = {.region = "eu-central-1", .overrides = overrides};
    load("emulator/full.yaml", &t, &opts, &warnings, &result, &diag);
    if (result) {
        fail_msg("%s", diag.message);
    }
    assert_int_equal(t.queue_count, 2);
    const em_queue *q = em_template_queue(&t, CS_STR_LIT("OrderQueue"));
    assert_true(q->visibility_timeout_s == 120 && q->retention_s == 1209600 && q->delay_s == 0);
    assert_true(cs_str_eq_c(q->dlq, "OrderDLQ") && q->max_receive_count == 5);
    const em_queue *dlq = em_template_queue(&t, CS_STR_LIT("OrderDLQ"));
    assert_true(cs_str_eq_c(dlq->name, "order-dlq") && dlq->visibility_timeout_s == 30);

    assert_int_equal(t.function_count, 2);
    const em_function *f = em_template_function(&t, CS_STR_LIT("order-export-test"));
    assert_non_null(f);
    assert_true(cs_str_eq_c(f->logical_id, "OrderExport"));
    assert_true(f->timeout_s == 60 && f->memory_mb == 256 && f->reserved_concurrency == 4);
    assert_true(cs_str_eq_c(f->runtime, "provided.al2023") && cs_str_eq_c(f->handler, "bootstrap"));
    assert_true(f->function_url);
    expect_env(f, "STAGE", "test");
    expect_env(f, "LOG_LEVEL", "DEBUG"); /* the function's value beats Globals */
    expect_env(f, "QUEUE_URL", "http://sqs.eu-central-1.localhost/000000000000/OrderQueue");
    expect_env(f, "DLQ_ARN", "arn:aws:sqs:eu-central-1:000000000000:order-dlq");
    expect_env(f, "WHERE",
               "eu-central-1/000000000000/arn:aws:sqs:eu-central-1:000000000000:OrderQueue");
    expect_env(f, "LONG_FORM", "test-x");
    assert_int_equal(f->sqs_count, 1);
    assert_true(cs_str_eq_c(f->sqs[0].queue, "OrderQueue") && f->sqs[0].batch_size == 10);
    assert_true(f->sqs[0].window_s == 1 && f->sqs[0].report_batch_item_failures);
    assert_true(f->sqs[0].enabled && f->sqs[0].max_concurrency == 2);
    assert_int_equal(f->schedule_count, 2);
    assert_true(cs_str_eq_c(f->schedules[0].expression, "cron(0 2 * * ? *)"));
    assert_true(cs_str_eq_c(f->schedules[0].timezone, "Europe/Berlin"));
    assert_true(cs_str_eq_c(f->schedules[0].input, "{\"full\": true}"));
    assert_false(f->schedules[0].enabled);
    assert_true(cs_str_eq_c(f->schedules[1].expression, "rate(5 minutes)") &&
                f->schedules[1].enabled);

    const em_function *stock = em_template_function(&t, CS_STR_LIT("StockUpdate"));
    assert_true(stock->timeout_s == 20 && stock->memory_mb == 256); /* from Globals */
    expect_env(stock, "LOG_LEVEL", "INFO");

    char *expected = fixture_read("emulator/full.warnings", NULL);
    test_expect_text("warnings", test_problems_text(&test_arena, &warnings), expected);
    free(expected);
}

static void check_bad(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    em_template t;
    cs_problems warnings;
    cs_error result;
    cs_diag diag;
    load(path, &t, NULL, &warnings, &result, &diag);
    snprintf(path + strlen(path) - strlen(".yaml"), 16, ".expected");
    char *expected = fixture_read(path, NULL);
    expected[strcspn(expected, "\n")] = '\0';
    if (result != CS_ERR_CONFIG || strcmp(diag.message, expected) != 0) {
        fail_msg("%s: got %s '%s', expected '%s'", name, cs_error_name(result), diag.message,
                 expected);
    }
    free(expected);
}

static void broken_templates_name_line_and_column(void **state)
{
    (void)state;
    assert_true(fixture_each("emulator/bad", ".yaml", check_bad, NULL) >= 9);
}

static void the_project_template_loads(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture_read("../../template.yaml", &len);
    em_template t;
    cs_problems warnings;
    cs_problems_init(&warnings, &test_arena);
    cs_diag diag;
    cs_error result =
        em_template_load(&test_arena, cs_str_make(text, len), NULL, &t, &warnings, &diag);
    if (result) {
        fail_msg("%s", diag.message);
    }
    /* Everything in it today is for AWS only, and says so. */
    assert_non_null(strstr(test_problems_text(&test_arena, &warnings),
                           "resource type AWS::DynamoDB::Table is not emulated"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_template),
        cmocka_unit_test(broken_templates_name_line_and_column),
        cmocka_unit_test(the_project_template_loads),
    };
    return cmocka_run_group_tests_name("template", tests, test_arena_setup, test_arena_teardown);
}
