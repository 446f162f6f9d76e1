/* Measures a Lambda runtime against the scripted fake Runtime API:
 *
 *   bench_runtime LABEL INVOCATIONS COLD_STARTS CWD -- PROGRAM [ARGS...]
 *
 * (INVOCATIONS 0 measures the cold start only.)
 *
 * cold start: time from spawning PROGRAM to its first GET /next, the median
 * of COLD_STARTS fresh processes; overhead: per invocation, from the fake
 * handing out an event to the response post arriving (the echo handler does
 * nothing, so this is the runtime's own cost plus loopback HTTP both ways),
 * p50 and p99 over INVOCATIONS after a warm-up; peak RSS (VmHWM) of the
 * process after the run. Prints one line:
 *
 *   LABEL first_next_ms=... overhead_p50_us=... overhead_p99_us=... rss_kb=... anon_kb=...
 *
 * rss_kb is the peak resident set (shared library pages included); anon_kb is
 * the process's own memory (RssAnon) at the end of the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_rapi.h"
#include "proc.h"

enum { WARMUP = 500 };

static char env_api[64];
static char *bench_env[] = {
    env_api,
    "AWS_LAMBDA_FUNCTION_NAME=echo",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
    "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
    "AWS_REGION=eu-west-1",
    "_HANDLER=index.handler",
    "LAMBDA_TASK_ROOT=.",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "AWS_LAMBDA_LOG_LEVEL=WARN",
    "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/echo",
    "AWS_LAMBDA_LOG_STREAM_NAME=2026/11/24/[$LATEST]bench",
    NULL,
};

/* A 2.5 KB order event, the size DESIGN.md's JSON figures are quoted for. */
static char *order_event(void)
{
    static char event[4096];
    size_t n = (size_t)snprintf(event, sizeof(event),
                                "{\"id\":450789469,\"currency\":\"EUR\",\"total_price\":\"598.94\","
                                "\"customer\":{\"email\":\"bob@example.com\",\"id\":207119551},"
                                "\"line_items\":[");
    for (int i = 0; i < 14; i++) {
        n += (size_t)snprintf(event + n, sizeof(event) - n,
                              "%s{\"sku\":\"SKU-%04d\",\"quantity\":%d,\"price\":\"199.00\","
                              "\"title\":\"IPod Nano - 8gb\",\"tax_lines\":[{\"rate\":0.21}]}",
                              i ? "," : "", i, i + 1);
    }
    snprintf(event + n, sizeof(event) - n, "]}");
    return event;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double cold_start_ms(char *const argv[], const char *cwd)
{
    fake_rapi *api = fake_rapi_start();
    snprintf(env_api, sizeof(env_api), "AWS_LAMBDA_RUNTIME_API=%s", fake_rapi_address(api));
    test_proc proc;
    int64_t t0 = fake_now_ns();
    if (test_proc_spawn(&proc, argv, bench_env, cwd) != 0 || !fake_rapi_wait_nexts(api, 1, 20000)) {
        fprintf(stderr, "%s never asked for an event\n", argv[0]);
        exit(1);
    }
    double ms = (double)(fake_rapi_first_next_ns(api) - t0) / 1e6;
    test_proc_stop(&proc, 2000);
    unlink(proc.stdout_path);
    fake_rapi_stop(api);
    return ms;
}

static void warm_run(char *const argv[], const char *cwd, size_t invocations, double *p50_us,
                     double *p99_us, long *rss_kb, long *anon_kb)
{
    fake_rapi *api = fake_rapi_start();
    snprintf(env_api, sizeof(env_api), "AWS_LAMBDA_RUNTIME_API=%s", fake_rapi_address(api));
    test_proc proc;
    if (test_proc_spawn(&proc, argv, bench_env, cwd) != 0) {
        exit(1);
    }
    int64_t *us = calloc(invocations, sizeof(int64_t));
    const char *event = order_event();
    size_t total = WARMUP + invocations;
    for (size_t i = 0; i < total; i++) {
        char id[48];
        snprintf(id, sizeof(id), "bench-%08zu", i);
        fake_rapi_event ev = {.request_id = id,
                              .body = event,
                              .deadline_ms = 4102444800000LL,
                              .function_arn =
                                  "arn:aws:lambda:eu-west-1:123456789012:function:echo"};
        fake_rapi_push_event(api, &ev);
        /* One at a time, as Lambda sends them to one instance. */
        if (!fake_rapi_wait_posts(api, i + 1, 20000)) {
            fprintf(stderr, "%s stopped answering at invocation %zu\n", argv[0], i);
            exit(1);
        }
    }
    for (size_t i = 0; i < invocations; i++) {
        const fake_rapi_post *p = fake_rapi_post_at(api, WARMUP + i);
        if (p->kind != FAKE_POST_RESPONSE || strcmp(p->body, event) != 0) {
            fprintf(stderr, "%s answered invocation %zu wrongly\n", argv[0], i);
            exit(1);
        }
        us[i] = (p->received_ns - p->event_sent_ns) / 1000;
    }
    qsort(us, invocations, sizeof(us[0]), compare_i64);
    *p50_us = (double)us[invocations / 2];
    *p99_us = (double)us[invocations * 99 / 100];
    *rss_kb = test_proc_mem_kb(&proc, "VmHWM:");
    *anon_kb = test_proc_mem_kb(&proc, "RssAnon:");
    free(us);
    test_proc_stop(&proc, 2000);
    unlink(proc.stdout_path);
    fake_rapi_stop(api);
}

int main(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: %s LABEL INVOCATIONS COLD_STARTS CWD -- PROGRAM [ARGS...]\n",
                argv[0]);
        return 2;
    }
    const char *label = argv[1];
    int invocations = atoi(argv[2]);
    int cold_starts = atoi(argv[3]);
    if (invocations < 0 || invocations > 1000000 || cold_starts < 1 || cold_starts > 1000) {
        fprintf(stderr, "INVOCATIONS must be 0..1000000 and COLD_STARTS 1..1000\n");
        return 2;
    }
    const char *cwd = argv[4];
    char *const *program = argv + 6;
    double *cold = malloc(sizeof(double) * (size_t)cold_starts);
    for (int i = 0; i < cold_starts; i++) {
        cold[i] = cold_start_ms(program, cwd);
    }
    for (int i = 1; i < cold_starts; i++) { /* insertion sort: a handful of values */
        for (int j = i; j > 0 && cold[j] < cold[j - 1]; j--) {
            double t = cold[j];
            cold[j] = cold[j - 1];
            cold[j - 1] = t;
        }
    }
    if (invocations == 0) { /* a program that only asks for its first event */
        printf("%s first_next_ms=%.2f\n", label, cold[cold_starts / 2]);
        free(cold);
        return 0;
    }
    double p50, p99;
    long rss, anon;
    warm_run(program, cwd, (size_t)invocations, &p50, &p99, &rss, &anon);
    printf(
        "%s first_next_ms=%.2f overhead_p50_us=%.0f overhead_p99_us=%.0f rss_kb=%ld anon_kb=%ld\n",
        label, cold[cold_starts / 2], p50, p99, rss, anon);
    free(cold);
    return 0;
}
