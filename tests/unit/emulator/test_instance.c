/* Function instances run the contract test function (built on our runtime)
 * through the emulator's Runtime API: warm reuse, the Lambda environment,
 * errors, timeouts, crashes and init failures, as Lambda reports them; and
 * pools of instances: cold starts, concurrency, throttling, idle stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/json.h"
#include "emulator/instance.h"
#include "emulator/pool.h"
#include "fixture.h"
#include "testing.h"

static char bootstrap[256];
static char task_root[256];
static const char *env[4];
static char asan_options[256];

static em_function_config config(const char *name, int64_t timeout_s)
{
    return (em_function_config){.name = name,
                                .bootstrap = bootstrap,
                                .task_root = task_root,
                                .handler = "contract.handler",
                                .region = "eu-west-1",
                                .timeout_s = timeout_s,
                                .memory_mb = 256,
                                .env = env,
                                .log_fd = -1};
}

static int setup(void **st)
{
    snprintf(bootstrap, sizeof(bootstrap), "%s", test_contract_bootstrap());
    if (!getcwd(task_root, sizeof(task_root))) {
        return -1;
    }
    size_t n = 0;
    env[n++] = "FROM_TEMPLATE=yes";
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan) {
        snprintf(asan_options, sizeof(asan_options), "ASAN_OPTIONS=%s", asan);
        env[n++] = asan_options;
    }
    env[n] = NULL;
    return test_arena_setup(st);
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static em_instance *start(const em_function_config *c)
{
    em_instance *inst = NULL;
    cs_diag diag;
    if (em_instance_start(c, &inst, &diag)) {
        fail_msg("start: %s", diag.message);
    }
    return inst;
}

static em_result invoke(em_instance *inst, const char *id, const char *payload)
{
    em_result r;
    cs_diag diag;
    if (em_instance_invoke(inst, id, cs_str_from_c(payload), NULL, &r, &diag)) {
        fail_msg("invoke: %s", diag.message);
    }
    return r;
}

static cs_json *parse(const em_result *r)
{
    return test_parse(&test_arena, r->payload, r->payload_len);
}

static void string_at(const cs_json *root, const char *path, const char *expected)
{
    cs_str got;
    cs_diag diag;
    if (cs_json_get_string(root, path, &got, &diag)) {
        fail_msg("%s: %s", path, diag.message);
    }
    if (!cs_str_eq_c(got, expected)) {
        fail_msg("%s: got '%.*s', expected '%s'", path, CS_STR_FMT(got), expected);
    }
}

static void a_warm_instance_answers_again_without_init(void **st)
{
    (void)st;
    em_function_config c = config("echo", 5);
    em_instance *inst = start(&c);
    em_result first = invoke(inst, "req-1", "{\"action\":\"echo\",\"n\":1}");
    assert_int_equal(first.outcome, EM_OUTCOME_OK);
    assert_string_equal(first.payload, "{\"action\":\"echo\",\"n\":1}");
    assert_true(first.init_ms >= 0);
    assert_true(first.max_memory_mb > 0);
    char report[256];
    em_result_report(&first, "req-1", 256, report);
    assert_non_null(strstr(report, "REPORT RequestId: req-1\tDuration: "));
    assert_non_null(strstr(report, "\tMemory Size: 256 MB\tMax Memory Used: "));
    assert_non_null(strstr(report, "\tInit Duration: "));

    em_result second = invoke(inst, "req-2", "{\"action\":\"echo\",\"n\":2}");
    assert_int_equal(second.outcome, EM_OUTCOME_OK);
    assert_string_equal(second.payload, "{\"action\":\"echo\",\"n\":2}");
    assert_true(second.init_ms < 0);
    assert_true(second.billed_ms >= 1);
    em_result_report(&second, "req-2", 256, report);
    assert_null(strstr(report, "Init Duration"));
    assert_true(em_instance_usable(inst));
    em_result_clean_up(&first);
    em_result_clean_up(&second);
    em_instance_stop(inst);
}

static void the_function_sees_what_lambda_sets(void **st)
{
    (void)st;
    em_function_config c = config("orders-export", 5);
    em_instance *inst = start(&c);
    em_result r;
    cs_diag diag;
    assert_int_equal(em_instance_invoke(inst, "0f1e2d3c-0000-4000-8000-000000000001",
                                        cs_str_from_c("{\"action\":\"context\"}"),
                                        "{\"custom\":{\"k\":\"v\"}}", &r, &diag),
                     CS_ERR_OK);
    cs_json *ctx = parse(&r);
    string_at(ctx, "requestId", "0f1e2d3c-0000-4000-8000-000000000001");
    string_at(ctx, "functionArn", "arn:aws:lambda:eu-west-1:000000000000:function:orders-export");
    string_at(ctx, "clientContext", "{\"custom\":{\"k\":\"v\"}}");
    bool remaining = false;
    assert_int_equal(cs_json_get_bool(ctx, "remainingPositive", &remaining, NULL), CS_ERR_OK);
    assert_true(remaining);
    cs_str trace;
    assert_int_equal(cs_json_get_string(ctx, "traceId", &trace, NULL), CS_ERR_OK);
    assert_true(cs_str_starts_with(trace, cs_str_from_c("Root=1-")));
    em_result_clean_up(&r);

    r = invoke(inst, "req-env",
               "{\"action\":\"env\",\"names\":[\"AWS_LAMBDA_FUNCTION_NAME\","
               "\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\",\"AWS_LAMBDA_FUNCTION_VERSION\","
               "\"AWS_REGION\",\"LAMBDA_TASK_ROOT\",\"_HANDLER\",\"AWS_LAMBDA_LOG_GROUP_NAME\","
               "\"FROM_TEMPLATE\"]}");
    cs_json *vars = parse(&r);
    string_at(vars, "AWS_LAMBDA_FUNCTION_NAME", "orders-export");
    string_at(vars, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256");
    string_at(vars, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    string_at(vars, "AWS_REGION", "eu-west-1");
    string_at(vars, "LAMBDA_TASK_ROOT", task_root);
    string_at(vars, "_HANDLER", "contract.handler");
    string_at(vars, "AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders-export");
    string_at(vars, "FROM_TEMPLATE", "yes");
    em_result_clean_up(&r);
    em_instance_stop(inst);
}

static void the_output_is_logged_by_name_and_kept_as_the_tail(void **st)
{
    (void)st;
    char log_path[] = "/tmp/cs-instance-log-XXXXXX";
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    em_function_config c = config("talker", 5);
    c.log_fd = fd;
    em_instance *inst = start(&c);
    em_result r = invoke(inst, "req-l", "{\"action\":\"log\",\"text\":\"first\"}");
    assert_non_null(strstr(r.log_tail, "\"text\":\"first\""));
    em_result_clean_up(&r);
    r = invoke(inst, "req-m", "{\"action\":\"log\",\"text\":\"second\"}");
    /* Only this invocation's output. */
    assert_null(strstr(r.log_tail, "first"));
    assert_non_null(strstr(r.log_tail, "\"text\":\"second\""));
    em_result_clean_up(&r);
    em_instance_stop(inst);
    char *text = fixture_read_absolute(log_path);
    assert_non_null(strstr(text, "talker: {\"timestamp\""));
    free(text);
    close(fd);
    unlink(log_path);
}

static void a_function_error_keeps_the_instance(void **st)
{
    (void)st;
    em_function_config c = config("fail", 5);
    em_instance *inst = start(&c);
    em_result r = invoke(inst, "req-f", "{\"action\":\"fail\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_FUNCTION_ERROR);
    assert_string_equal(r.error_type, "Unhandled");
    assert_non_null(strstr(r.payload, "asked to fail"));
    assert_true(em_instance_usable(inst));
    em_result_clean_up(&r);
    r = invoke(inst, "req-g", "{\"action\":\"echo\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_OK);
    em_result_clean_up(&r);
    em_instance_stop(inst);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void a_timeout_kills_the_instance(void **st)
{
    (void)st;
    em_function_config c = config("slow", 1);
    em_instance *inst = start(&c);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    em_result r = invoke(inst, "req-slow", "{\"action\":\"sleep\",\"ms\":5000}");
    double took = seconds_since(&t0);
    assert_int_equal(r.outcome, EM_OUTCOME_TIMEOUT);
    cs_json *error = parse(&r);
    string_at(error, "errorType", "Sandbox.Timedout");
    string_at(error, "errorMessage",
              "RequestId: req-slow Error: Task timed out after 1.00 seconds");
    assert_true(took >= 1.0 && took < 3.0);
    assert_false(em_instance_usable(inst));
    em_result_clean_up(&r);
    cs_diag diag;
    assert_int_equal(em_instance_invoke(inst, "again", cs_str_from_c("{}"), NULL, &r, &diag),
                     CS_ERR_BUSY);
    em_instance_stop(inst);
}

static void a_crash_is_a_runtime_exit_error(void **st)
{
    (void)st;
    em_function_config c = config("crash", 5);
    em_instance *inst = start(&c);
    em_result r = invoke(inst, "req-c", "{\"action\":\"crash\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_CRASH);
    cs_json *error = parse(&r);
    string_at(error, "errorType", "Runtime.ExitError");
    string_at(error, "errorMessage",
              "RequestId: req-c Error: Runtime exited with error: signal: Aborted");
    assert_false(em_instance_usable(inst));
    em_result_clean_up(&r);
    em_instance_stop(inst);
}

static void an_init_failure_is_reported_on_the_first_invoke(void **st)
{
    (void)st;
    const char *init_env[] = {"CONTRACT_INIT_FAIL=1", asan_options[0] ? asan_options : NULL, NULL};
    em_function_config c = config("broken", 5);
    c.env = init_env;
    em_instance *inst = start(&c);
    em_result r = invoke(inst, "req-i", "{\"action\":\"echo\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_INIT_ERROR);
    assert_non_null(strstr(r.payload, "queueUrl"));
    assert_false(em_instance_usable(inst));
    em_result_clean_up(&r);
    em_instance_stop(inst);
}

static long post(const em_instance *inst, const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "http://%s%s", em_instance_runtime_api(inst), path);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(curl);
    return status;
}

static void the_runtime_api_refuses_late_and_unknown_answers(void **st)
{
    (void)st;
    em_function_config c = config("statuses", 5);
    em_instance *inst = start(&c);
    em_result r = invoke(inst, "req-s", "{\"action\":\"echo\"}");
    em_result_clean_up(&r);
    assert_int_equal(post(inst, "/2018-06-01/runtime/invocation/req-s/response", "{}"), 403);
    assert_int_equal(post(inst, "/2018-06-01/runtime/invocation/other/response", "{}"), 400);
    assert_int_equal(post(inst, "/2018-06-01/runtime/invocation/req-s/bogus", "{}"), 404);
    assert_int_equal(post(inst, "/2018-06-01/runtime/init/error", "{}"), 403);
    em_instance_stop(inst);
}

static void a_missing_bootstrap_is_named(void **st)
{
    (void)st;
    em_function_config c = config("ghost", 5);
    c.bootstrap = "/nonexistent/bootstrap";
    em_instance *inst = NULL;
    cs_diag diag;
    assert_int_equal(em_instance_start(&c, &inst, &diag), CS_ERR_CONFIG);
    assert_string_equal(diag.message,
                        "function 'ghost': '/nonexistent/bootstrap' is not an executable");
}

static em_pool *make_pool(const em_function_config *c, int max)
{
    em_pool *pool = NULL;
    cs_diag diag;
    if (em_pool_create(c, max, &pool, &diag)) {
        fail_msg("pool: %s", diag.message);
    }
    return pool;
}

static em_result pool_invoke(em_pool *pool, const char *id, const char *payload)
{
    em_result r;
    cs_diag diag;
    if (em_pool_invoke(pool, id, cs_str_from_c(payload), NULL, true, &r, &diag)) {
        fail_msg("invoke: %s", diag.message);
    }
    return r;
}

static void a_pool_reuses_a_warm_instance_and_logs_each_invocation(void **st)
{
    (void)st;
    char log_path[] = "/tmp/cs-pool-log-XXXXXX";
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    em_function_config c = config("warm", 5);
    c.log_fd = fd;
    em_pool *pool = make_pool(&c, 4);
    for (int i = 0; i < 3; i++) {
        em_result r = pool_invoke(pool, "req-w", "{\"action\":\"echo\"}");
        assert_int_equal(r.outcome, EM_OUTCOME_OK);
        em_result_clean_up(&r);
    }
    em_pool_stats s = em_pool_stats_of(pool);
    assert_int_equal(s.instances, 1);
    assert_int_equal(s.cold_starts, 1);
    assert_int_equal(s.invocations, 3);
    assert_int_equal(s.busy, 0);

    assert_int_equal(em_pool_stop_idle(pool, 60000), 0);
    assert_int_equal(em_pool_stop_idle(pool, 0), 1);
    assert_int_equal(em_pool_stats_of(pool).instances, 0);
    em_pool_destroy(pool);

    char text[4096] = "";
    FILE *f = fopen(log_path, "r");
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    close(fd);
    unlink(log_path);
    assert_non_null(strstr(text, "START RequestId: req-w Version: $LATEST\n"));
    assert_non_null(strstr(text, "END RequestId: req-w\n"));
    char *report = strstr(text, "REPORT RequestId: req-w\tDuration: ");
    assert_non_null(report);
    assert_non_null(strstr(report, "Init Duration"));
}

typedef struct parallel {
    em_pool *pool;
    cs_error result;
    em_outcome outcome;
} parallel;

static void *invoke_slowly(void *arg)
{
    parallel *p = arg;
    em_result r;
    cs_diag diag;
    p->result = em_pool_invoke(p->pool, "req-p", cs_str_from_c("{\"action\":\"sleep\",\"ms\":300}"),
                               NULL, true, &r, &diag);
    if (!p->result) {
        p->outcome = r.outcome;
        em_result_clean_up(&r);
    }
    return NULL;
}

static void a_pool_stays_within_its_concurrency(void **st)
{
    (void)st;
    em_function_config c = config("limited", 5);
    em_pool *pool = make_pool(&c, 2);
    parallel p[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (parallel){.pool = pool, .result = CS_ERR_IO};
        pthread_create(&threads[i], NULL, invoke_slowly, &p[i]);
    }
    /* While two run, a caller that will not wait is throttled. */
    em_pool_stats s;
    do {
        s = em_pool_stats_of(pool);
    } while (s.busy < 2);
    em_result r;
    cs_diag diag;
    assert_int_equal(em_pool_invoke(pool, "req-t", cs_str_from_c("{\"action\":\"echo\"}"), NULL,
                                    false, &r, &diag),
                     CS_ERR_BUSY);
    assert_non_null(strstr(diag.message, "concurrency limit of 2"));
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(p[i].result, CS_ERR_OK);
        assert_int_equal(p[i].outcome, EM_OUTCOME_OK);
    }
    s = em_pool_stats_of(pool);
    assert_int_equal(s.instances, 2);
    assert_int_equal(s.cold_starts, 2);
    assert_int_equal(s.invocations, 4);
    em_pool_destroy(pool);
}

static void a_crashed_instance_is_replaced(void **st)
{
    (void)st;
    em_function_config c = config("phoenix", 5);
    em_pool *pool = make_pool(&c, 1);
    em_result r = pool_invoke(pool, "req-x", "{\"action\":\"crash\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_CRASH);
    em_result_clean_up(&r);
    assert_int_equal(em_pool_stats_of(pool).instances, 0);
    r = pool_invoke(pool, "req-y", "{\"action\":\"echo\"}");
    assert_int_equal(r.outcome, EM_OUTCOME_OK);
    assert_true(r.init_ms >= 0);
    em_result_clean_up(&r);
    assert_int_equal(em_pool_stats_of(pool).cold_starts, 2);
    em_pool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_warm_instance_answers_again_without_init),
        cmocka_unit_test(the_function_sees_what_lambda_sets),
        cmocka_unit_test(the_output_is_logged_by_name_and_kept_as_the_tail),
        cmocka_unit_test(a_function_error_keeps_the_instance),
        cmocka_unit_test(a_timeout_kills_the_instance),
        cmocka_unit_test(a_crash_is_a_runtime_exit_error),
        cmocka_unit_test(an_init_failure_is_reported_on_the_first_invoke),
        cmocka_unit_test(the_runtime_api_refuses_late_and_unknown_answers),
        cmocka_unit_test(a_missing_bootstrap_is_named),
        cmocka_unit_test(a_pool_reuses_a_warm_instance_and_logs_each_invocation),
        cmocka_unit_test(a_pool_stays_within_its_concurrency),
        cmocka_unit_test(a_crashed_instance_is_replaced),
    };
    return cmocka_run_group_tests_name("instance", tests, setup, test_arena_teardown);
}
