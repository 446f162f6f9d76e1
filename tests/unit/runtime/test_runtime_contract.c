/* The runtime against a scripted fake Runtime API: each test starts the fake,
 * runs the contract function as a child process and asserts on exactly what
 * the fake received. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/json.h"
#include "fake_rapi.h"
#include "proc.h"
#include "testing.h"

typedef struct fixture {
    fake_rapi *api;
    test_proc proc;
    char env_api[64];
    char env_asan[256];
    char env_ubsan[256];
    char *env[12];
    size_t env_len;
    cs_arena arena;
} fixture;

/* Sanitizer builds pass their options on, so the child reports leaks too. */
static void pass_through(fixture *fx, const char *name, char *storage, size_t size)
{
    const char *value = getenv(name);
    if (value) {
        snprintf(storage, size, "%s=%s", name, value);
        fx->env[fx->env_len++] = storage;
    }
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    fx->api = fake_rapi_start();
    assert_non_null(fx->api);
    snprintf(fx->env_api, sizeof(fx->env_api), "AWS_LAMBDA_RUNTIME_API=%s",
             fake_rapi_address(fx->api));
    fx->env[fx->env_len++] = fx->env_api;
    fx->env[fx->env_len++] = "AWS_LAMBDA_FUNCTION_NAME=contract";
    pass_through(fx, "ASAN_OPTIONS", fx->env_asan, sizeof(fx->env_asan));
    pass_through(fx, "UBSAN_OPTIONS", fx->env_ubsan, sizeof(fx->env_ubsan));
    cs_arena_init(&fx->arena, 0, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    if (fx->proc.pid) {
        test_proc_stop(&fx->proc, 3000);
        unlink(fx->proc.stdout_path);
    }
    fake_rapi_stop(fx->api);
    cs_arena_clean_up(&fx->arena);
    free(fx);
    return 0;
}

static void add_env(fixture *fx, char *var)
{
    fx->env[fx->env_len++] = var;
}

static void start(fixture *fx)
{
    fx->env[fx->env_len] = NULL;
    assert_int_equal(test_proc_start(&fx->proc, test_contract_bootstrap(), fx->env), 0);
}

static void push(fixture *fx, const char *id, const char *body)
{
    fake_rapi_event ev = {.request_id = id, .body = body};
    fake_rapi_push_event(fx->api, &ev);
}

static const fake_rapi_post *wait_post(fixture *fx, size_t index)
{
    assert_true(fake_rapi_wait_posts(fx->api, index + 1, 10000));
    return fake_rapi_post_at(fx->api, index);
}

static cs_json *parse(fixture *fx, const char *text)
{
    cs_json *doc = NULL;
    cs_diag diag;
    assert_int_equal(cs_json_parse(&fx->arena, cs_str_from_c(text), &doc, &diag), CS_ERR_OK);
    return doc;
}

static void assert_json_string(fixture *fx, const char *doc_text, const char *path,
                               const char *want)
{
    cs_str got;
    assert_int_equal(cs_json_get_string(parse(fx, doc_text), path, &got, NULL), CS_ERR_OK);
    assert_true(cs_str_eq_c(got, want));
}

static void success_posts_the_response(void **state)
{
    fixture *fx = *state;
    start(fx);
    push(fx, "req-1", "{\"action\":\"echo\",\"n\":1}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_string_equal(p->request_id, "req-1");
    assert_string_equal(p->body, "{\"action\":\"echo\",\"n\":1}");
    assert_string_equal(p->error_type, "");
    assert_int_equal(p->status, 202);
    /* The runtime comes straight back for the next event. */
    assert_true(fake_rapi_wait_nexts(fx->api, 2, 5000));
}

static void proxy_settings_do_not_apply_to_the_runtime_api(void **state)
{
    fixture *fx = *state;
    /* A proxy meant for the function's outbound calls; port 1 refuses. */
    add_env(fx, "http_proxy=http://127.0.0.1:1");
    add_env(fx, "HTTP_PROXY=http://127.0.0.1:1");
    start(fx);
    push(fx, "req-proxy", "{\"action\":\"echo\"}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_string_equal(p->request_id, "req-proxy");
}

static void handler_error_posts_invocation_error(void **state)
{
    fixture *fx = *state;
    start(fx);
    push(fx, "req-fail", "{\"action\":\"fail\"}");
    push(fx, "req-bad-json", "{\"action\":");
    push(fx, "req-after", "{\"action\":\"echo\"}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_string_equal(p->request_id, "req-fail");
    assert_string_equal(p->error_type, "Function.HandlerError");
    assert_json_string(fx, p->body, "errorType", "Function.HandlerError");
    assert_json_string(fx, p->body, "errorMessage", "asked to fail");
    assert_int_equal(cs_json_path(parse(fx, p->body), "stackTrace")->type, CS_JSON_ARRAY);
    p = wait_post(fx, 1);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_string_equal(p->error_type, "Function.JsonSyntax");
    /* The loop goes on after a failed invocation. */
    p = wait_post(fx, 2);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_string_equal(p->request_id, "req-after");
}

static void error_message_is_made_valid_utf8(void **state)
{
    fixture *fx = *state;
    start(fx);
    push(fx, "req-cut", "{\"action\":\"fail-cut\"}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_json_string(fx, p->body, "errorMessage", "bad name 'caf\xef\xbf\xbd'");
}

static void init_failure_posts_init_error_and_exits(void **state)
{
    fixture *fx = *state;
    add_env(fx, "CONTRACT_INIT_FAIL=1");
    start(fx);
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_INIT_ERROR);
    assert_string_equal(p->error_type, "Runtime.Config");
    assert_json_string(fx, p->body, "errorMessage", "config: setting 'queueUrl' is missing");
    assert_true(test_proc_wait(&fx->proc, 5000));
    assert_int_not_equal(fx->proc.exit_status, 0);
    assert_int_equal(fake_rapi_next_count(fx->api), 0);
}

static void next_failing_twice_then_recovering(void **state)
{
    fixture *fx = *state;
    fake_rapi_push_failure(fx->api, 502);
    fake_rapi_push_failure(fx->api, 0); /* connection closed without an answer */
    push(fx, "req-recovered", "{\"action\":\"echo\"}");
    start(fx);
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_string_equal(p->request_id, "req-recovered");
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_true(fake_rapi_next_count(fx->api) >= 3);
    char *out = test_proc_stdout(&fx->proc);
    assert_non_null(strstr(out, "GET /next failed; retrying"));
    free(out);
}

static void runtime_api_500_ends_the_process(void **state)
{
    fixture *fx = *state;
    fake_rapi_push_failure(fx->api, 500);
    start(fx);
    assert_true(test_proc_wait(&fx->proc, 5000));
    assert_int_equal(fx->proc.exit_status, 1);
    assert_int_equal(fake_rapi_post_count(fx->api), 0);
}

static void oversized_response_becomes_function_error(void **state)
{
    fixture *fx = *state;
    start(fx);
    push(fx, "req-big", "{\"action\":\"big\",\"bytes\":6291457}");
    push(fx, "req-limit", "{\"action\":\"big\",\"bytes\":6291456}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_string_equal(p->request_id, "req-big");
    assert_string_equal(p->error_type, "Function.ResponseSizeTooLarge");
    assert_true(p->body_len < 1024);
    /* Exactly 6 MiB is allowed, and the process is still alive to send it. */
    p = wait_post(fx, 1);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_int_equal(p->body_len, 6291456);
    assert_int_equal(p->status, 202);
    /* One append past the limit is refused whole and reported the same way. */
    push(fx, "req-one-append", "{\"action\":\"big\",\"bytes\":7000000,\"oneAppend\":true}");
    p = wait_post(fx, 2);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_string_equal(p->error_type, "Function.ResponseSizeTooLarge");
}

static void oversized_event_is_refused_and_the_loop_goes_on(void **state)
{
    fixture *fx = *state;
    start(fx);
    size_t size = 16 * 1024 * 1024 + 1;
    char *body = malloc(size + 1);
    memset(body, ' ', size);
    memcpy(body, "{\"action\":\"echo\"}", 17);
    body[size] = '\0';
    fake_rapi_event ev = {.request_id = "req-huge", .body = body, .body_len = size};
    fake_rapi_push_event(fx->api, &ev);
    free(body);
    push(fx, "req-next", "{\"action\":\"echo\"}");
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_ERROR);
    assert_string_equal(p->request_id, "req-huge");
    assert_string_equal(p->error_type, "Runtime.EventTooLarge");
    p = wait_post(fx, 1);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    assert_string_equal(p->request_id, "req-next");
}

static void headers_reach_the_handler(void **state)
{
    fixture *fx = *state;
    start(fx);
    fake_rapi_event ev = {
        .request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        .body = "{\"action\":\"context\"}",
        .deadline_ms = 4102444800000LL,
        .function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:order-export",
        .trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        .client_context = "{\"custom\":{\"k\":\"v\"}}",
        .cognito_identity = "{\"cognitoIdentityId\":\"id\"}",
    };
    fake_rapi_push_event(fx->api, &ev);
    const fake_rapi_post *p = wait_post(fx, 0);
    assert_int_equal(p->kind, FAKE_POST_RESPONSE);
    cs_json *doc = parse(fx, p->body);
    int64_t deadline;
    bool remaining_positive;
    assert_int_equal(cs_json_get_int64(doc, "deadlineMs", &deadline, NULL), CS_ERR_OK);
    assert_true(deadline == 4102444800000LL);
    assert_int_equal(cs_json_get_bool(doc, "remainingPositive", &remaining_positive, NULL), 0);
    assert_true(remaining_positive);
    assert_json_string(fx, p->body, "requestId", ev.request_id);
    assert_json_string(fx, p->body, "functionArn", ev.function_arn);
    assert_json_string(fx, p->body, "traceId", ev.trace_id);
    assert_json_string(fx, p->body, "envTraceId", ev.trace_id);
    assert_json_string(fx, p->body, "clientContext", ev.client_context);
    assert_json_string(fx, p->body, "cognitoIdentity", ev.cognito_identity);
}

static void trace_env_cleared_when_header_absent(void **state)
{
    fixture *fx = *state;
    start(fx);
    fake_rapi_event with = {
        .request_id = "a", .body = "{\"action\":\"context\"}", .trace_id = "Root=1-x"};
    fake_rapi_event without = {.request_id = "b", .body = "{\"action\":\"context\"}"};
    fake_rapi_push_event(fx->api, &with);
    fake_rapi_push_event(fx->api, &without);
    assert_json_string(fx, wait_post(fx, 0)->body, "envTraceId", "Root=1-x");
    assert_json_string(fx, wait_post(fx, 1)->body, "envTraceId", "");
}

static void logs_are_json_with_request_id_and_no_secret(void **state)
{
    fixture *fx = *state;
    add_env(fx, "CONTRACT_SECRET=shpat_0123456789abcdef");
    start(fx);
    push(fx, "req-log", "{\"action\":\"log\",\"text\":\"token=shpat_0123456789abcdef end\"}");
    wait_post(fx, 0);
    test_proc_stop(&fx->proc, 3000);
    char *out = test_proc_stdout(&fx->proc);
    assert_null(strstr(out, "shpat_0123456789abcdef"));
    char *line = strstr(out, "{\"timestamp\"");
    assert_non_null(line);
    char *hit = strstr(out, "logging as asked");
    assert_non_null(hit);
    while (hit > out && hit[-1] != '\n') {
        hit--;
    }
    *strchr(hit, '\n') = '\0';
    assert_json_string(fx, hit, "level", "INFO");
    assert_json_string(fx, hit, "requestId", "req-log");
    assert_json_string(fx, hit, "function", "contract");
    assert_json_string(fx, hit, "text", "token=[REDACTED] end");
    free(out);
}

static void sigterm_ends_the_loop_cleanly(void **state)
{
    fixture *fx = *state;
    start(fx);
    assert_true(fake_rapi_wait_nexts(fx->api, 1, 5000));
    /* The runtime is now blocked in /next, as between invocations. */
    kill(fx->proc.pid, SIGTERM);
    assert_true(test_proc_wait(&fx->proc, 3000));
    assert_int_equal(fx->proc.exit_status, 0);
}

static void ten_thousand_invocations_without_memory_growth(void **state)
{
    fixture *fx = *state;
    start(fx);
    enum { TOTAL = 10000, WARMUP = 1000 };
    char id[32];
    for (int i = 0; i < WARMUP; i++) {
        snprintf(id, sizeof(id), "warm-%d", i);
        push(fx, id, "{\"action\":\"echo\",\"payload\":[1,2,3,{\"k\":\"some text here\"}]}");
    }
    assert_true(fake_rapi_wait_posts(fx->api, WARMUP, 60000));
    long rss_warm = test_proc_mem_kb(&fx->proc, "VmRSS:");
    for (int i = WARMUP; i < TOTAL; i++) {
        snprintf(id, sizeof(id), "req-%d", i);
        push(fx, id, "{\"action\":\"echo\",\"payload\":[1,2,3,{\"k\":\"some text here\"}]}");
    }
    assert_true(fake_rapi_wait_posts(fx->api, TOTAL, 120000));
    long rss_end = test_proc_mem_kb(&fx->proc, "VmRSS:");
    for (size_t i = 0; i < TOTAL; i++) {
        const fake_rapi_post *p = fake_rapi_post_at(fx->api, i);
        assert_int_equal(p->kind, FAKE_POST_RESPONSE);
        assert_int_equal(p->status, 202);
    }
    print_message("rss after %d: %ld KiB, after %d: %ld KiB\n", WARMUP, rss_warm, TOTAL, rss_end);
    assert_true(rss_warm > 0);
    /* One curl handle, one kept-alive connection for the whole run. */
    assert_int_equal(fake_rapi_connection_count(fx->api), 1);
#ifndef __SANITIZE_ADDRESS__
    /* A leak of even 8 bytes per invocation would show as 70 KiB here. Under
     * AddressSanitizer freed memory sits in quarantine, so RSS says nothing;
     * LeakSanitizer's check at exit below covers it instead. */
    assert_true(rss_end - rss_warm < 64);
#endif
    test_proc_stop(&fx->proc, 10000);
    assert_int_equal(fx->proc.exit_status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(success_posts_the_response, setup, teardown),
        cmocka_unit_test_setup_teardown(proxy_settings_do_not_apply_to_the_runtime_api, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(handler_error_posts_invocation_error, setup, teardown),
        cmocka_unit_test_setup_teardown(error_message_is_made_valid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(init_failure_posts_init_error_and_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(next_failing_twice_then_recovering, setup, teardown),
        cmocka_unit_test_setup_teardown(runtime_api_500_ends_the_process, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_response_becomes_function_error, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_event_is_refused_and_the_loop_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(headers_reach_the_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(trace_env_cleared_when_header_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(logs_are_json_with_request_id_and_no_secret, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sigterm_ends_the_loop_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(ten_thousand_invocations_without_memory_growth, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("runtime_contract", tests, NULL, NULL);
}
