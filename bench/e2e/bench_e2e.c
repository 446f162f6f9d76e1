/* make bench-e2e: the backfill function under the emulator, on the
 * project's template.yaml and shopify-exactmax config, loading the Shopify
 * fake's orders into the MAX fake, in three runs of a fresh project each:
 *
 *   small    a tenth of the orders, no rate limit: peak RSS to compare with
 *   full     every order (default 3 x 33,334), no rate limit: orders/s
 *   limited  a part of the orders with the fake's bucket at Shopify Plus's
 *            rate (1,000 points, 1,000 a second) and THROTTLED answered as
 *            HTTP 429: the fraction of the allowed rate achieved
 *
 * Every run checks that MAX ends with exactly one sales order per Shopify
 * order and that nothing failed. The functions' log goes to
 * $BENCH_LOG (default /tmp/bench-e2e.log), not the terminal. Last line:
 *   e2e: orders_per_s= limited_rate_fraction= surfaced_429= peak_rss_kb= ...
 *
 * Usage: bench_e2e [orders_per_shop [limited_orders_per_shop]] */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timestamp.h"
#include "emulator/sandbox/shopify_store.h"
#include "proc.h"
#include "project_fixture.h"
#include "testing.h"

enum {
    SHOPS = 3,
    PAGE = 100,       /* orders per Shopify page: what the backfill asks for */
    ORDER_POINTS = 5, /* the fake's cost of an order in a page ... */
    PAGE_POINTS = 2,  /* ... and of the page itself (shopify.h) */
    LIMITED_BUCKET = 1000,
    LIMITED_RATE = 1000, /* points a second */
};

typedef struct run_spec {
    const char *name;
    int orders_per_shop;
    bool limited;
} run_spec;

typedef struct outcome {
    long orders, invocations, failed, errors, blocked;
    double seconds;
    long rss_kb;
} outcome;

/* The peak RSS (VmHWM) of the backfill's instance, still warm. */
static long function_peak_rss_kb(void)
{
    pid_t pids[4];
    size_t n = test_project_function_pids("Backfill", pids, 4);
    long best = 0;
    for (size_t i = 0; i < n; i++) {
        test_proc instance = {.pid = pids[i]};
        long hwm = test_proc_mem_kb(&instance, "VmHWM:");
        best = hwm > best ? hwm : best;
    }
    return best;
}

static long answer_int(const cs_json *answer, const char *key)
{
    int64_t v = 0;
    cs_json_get_int64(answer, key, &v, NULL);
    return (long)v;
}

/* Sums a metric over the backfill's metric lines in the functions' log. */
static long metric_sum(const test_project *p, const char *metric)
{
    char path[64], key[48];
    snprintf(path, sizeof(path), "%s/functions.log", p->dir);
    snprintf(key, sizeof(key), "\"%s\":", metric);
    FILE *f = fopen(path, "r");
    char line[8192];
    long sum = 0;
    while (f && fgets(line, sizeof(line), f)) {
        const char *at = strstr(line, "\"Flow\":\"backfill\"") ? strstr(line, key) : NULL;
        sum += at ? atol(at + strlen(key)) : 0;
    }
    if (f) {
        fclose(f);
    }
    return sum;
}

static outcome run(const run_spec *spec)
{
    sb_opts opts = {.shopify = {.seed = 42,
                                .orders_per_shop = spec->orders_per_shop,
                                .bucket_size = spec->limited ? LIMITED_BUCKET : 1e12,
                                .restore_rate = spec->limited ? LIMITED_RATE : 1e12,
                                .throttle_with_429 = spec->limited}};
    test_project p = {0};
    if (test_project_start(&p, &opts, "shopify-exactmax")) {
        fprintf(stdout, "%s: the project did not start\n", spec->name);
        exit(1);
    }
    char payload[256];
    int64_t now = cs_time_now_ms();
    test_backfill_payload(payload, sizeof(payload), spec->name, now - 61LL * 86400000,
                          now + 2LL * 86400000, PAGE, "[\"orders\"]");
    outcome o = {0};
    int64_t start = cs_time_monotonic_us();
    for (bool complete = false; !complete; o.invocations++) {
        const cs_json *answer = test_project_invoke(&p, "backfill", payload);
        o.orders += answer_int(answer, "read");
        cs_json_get_bool(answer, "complete", &complete, NULL);
        bool blocked = false;
        cs_json_get_bool(answer, "blocked", &blocked, NULL);
        o.blocked += blocked;
        complete = complete || blocked;
        cs_arena_reset(&test_arena);
    }
    o.seconds = (double)(cs_time_monotonic_us() - start) / 1e6;
    o.rss_kb = function_peak_rss_kb();
    size_t written;
    test_project_max_orders(&p, "CU", &written);
    cs_error_entry *entries;
    o.errors = (long)test_project_errors(&p, "open", &entries);
    o.failed = metric_sum(&p, "Failed");
    long expected = (long)SHOPS * spec->orders_per_shop;
    if ((long)written != expected || o.orders != expected) {
        fprintf(stdout, "%s: read %ld orders and MAX holds %zu sales orders; the shops hold %ld\n",
                spec->name, o.orders, written, expected);
        exit(1);
    }
    cs_arena_reset(&test_arena);
    test_project_stop(&p);
    fprintf(stdout,
            "%-8s orders=%ld invocations=%ld seconds=%.2f orders_per_s=%.0f failed=%ld "
            "errors=%ld blocked=%ld peak_rss_kb=%ld\n",
            spec->name, o.orders, o.invocations, o.seconds, (double)o.orders / o.seconds, o.failed,
            o.errors, o.blocked, o.rss_kb);
    fflush(stdout);
    return o;
}

/* The Shopify points a sweep of n orders per shop costs. */
static double points(long orders_per_shop)
{
    long pages = (orders_per_shop + PAGE - 1) / PAGE;
    return (double)SHOPS * (double)(orders_per_shop * ORDER_POINTS + pages * PAGE_POINTS);
}

int main(int argc, char **argv)
{
    int full = argc > 1 ? atoi(argv[1]) : 33334;
    int limited = argc > 2 ? atoi(argv[2]) : 2000;
    if (full < 10 || full > SB_ORDER_LIMIT || limited < 1 || limited > SB_ORDER_LIMIT) {
        fprintf(stderr, "usage: bench_e2e [orders_per_shop (10-%d) [limited_orders_per_shop]]\n",
                SB_ORDER_LIMIT);
        return 2;
    }
    const char *log = getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "/tmp/bench-e2e.log";
    int fd = open(log, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || dup2(fd, 2) < 0) {
        perror(log);
        return 1;
    }
    close(fd);
    test_arena_setup(NULL);
    fprintf(stdout, "functions' log: %s\n", log);
    run_spec small = {"small", full / 10, false}, all = {"full", full, false},
             slow = {"limited", limited, true};
    outcome s = run(&small), f = run(&all), l = run(&slow);
    /* A sweep goes shop by shop: while one shop's bucket drains, the
     * others stay full, so the allowed points are every bucket once plus
     * the restore rate over the run. */
    double allowed = SHOPS * (double)LIMITED_BUCKET + LIMITED_RATE * l.seconds;
    double fraction = points(limited) / allowed;
    fprintf(stdout, "limited: %.0f points spent of %.0f allowed in %.2f s\n", points(limited),
            allowed, l.seconds);
    fprintf(stdout,
            "e2e: orders_per_s=%.0f limited_rate_fraction=%.3f surfaced_429=%ld peak_rss_kb=%ld "
            "orders=%ld small_orders=%ld small_peak_rss_kb=%ld limited_orders=%ld\n",
            (double)f.orders / f.seconds, fraction, l.failed + l.errors + l.blocked, f.rss_kb,
            f.orders, s.orders, s.rss_kb, l.orders);
    test_arena_teardown(NULL);
    return 0;
}
