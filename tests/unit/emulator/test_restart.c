/* Killing the emulator with SIGKILL mid-stream and starting it again on the
 * same state loses no message, and delivers again only what was in flight
 * (at most one batch per poller): a batch that succeeded was deleted in the
 * same step and never comes back. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <libgen.h>

#include "fixture.h"
#include "proc.h"
#include "testing.h"

enum { MESSAGES = 150, POLLERS = 5, BATCH = 10 };

static char dir[64];

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void write_template(const char *path)
{
    char code[256], abs_code[4096];
    snprintf(code, sizeof(code), "%s", test_contract_bootstrap());
    assert_non_null(realpath(dirname(code), abs_code));
    char *format = fixture_read("emulator/service.yaml", NULL);
    FILE *f = fopen(path, "w");
    const char *asan = getenv("ASAN_OPTIONS");
    char env[400] = "";
    if (asan) {
        snprintf(env, sizeof(env), "          ASAN_OPTIONS: '%s'\n", asan);
    }
    fprintf(f, format, abs_code, env);
    fclose(f);
    free(format);
}

/* The log so far ("" before the shell has created it); malloc'd. */
static char *read_log(const char *path)
{
    return access(path, R_OK) == 0 ? fixture_read_absolute(path) : strdup("");
}

/* Starts the emulator; its stderr (function logs) goes to log_path. */
static unsigned start(test_proc *p, const char *log_path)
{
    const char *build = getenv("BUILD");
    char command[1024];
    snprintf(command, sizeof(command),
             "exec %s/bin/emulator start --template %s/template.yaml --port 0 --state-dir %s "
             "2>%s",
             build ? build : "build", dir, dir, log_path);
    char *argv[] = {"/bin/sh", "-c", command, NULL};
    extern char **environ;
    assert_int_equal(test_proc_spawn(p, argv, environ, NULL), 0);
    for (int waited = 0; waited < 5000; waited += 20) {
        char *log = read_log(log_path);
        char *at = strstr(log, "listening on http://127.0.0.1:");
        unsigned port = at ? (unsigned)atoi(at + strlen("listening on http://127.0.0.1:")) : 0;
        free(log);
        if (port) {
            return port;
        }
        sleep_ms(20);
    }
    fail_msg("the emulator did not start");
    return 0;
}

static void send_batch(unsigned port, int first)
{
    char body[4096];
    int n = snprintf(body, sizeof(body), "{\"QueueUrl\":\"orders\",\"Entries\":[");
    for (int i = 0; i < 10; i++) {
        n += snprintf(body + n, sizeof(body) - (size_t)n,
                      "%s{\"Id\":\"e%d\",\"MessageBody\":\"{\\\"action\\\":\\\"slow\\\","
                      "\\\"tag\\\":\\\"k-%04d\\\"}\"}",
                      i ? "," : "", i, first + i);
    }
    snprintf(body + n, sizeof(body) - (size_t)n, "]}");
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers =
        curl_slist_append(NULL, "X-Amz-Target: AmazonSQS.SendMessageBatch");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    long status = 0;
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    fclose(sink);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
}

/* How often each tag was handed to the function, over both logs. */
static void count_tags(const char *log, int *seen)
{
    for (const char *at = log; (at = strstr(at, "k-")); at += 2) {
        int tag = atoi(at + 2);
        if (tag >= 0 && tag < MESSAGES && at[6] == '\\') {
            seen[tag]++;
        }
    }
}

static int processed(const char *log_path)
{
    int seen[MESSAGES] = {0}, distinct = 0;
    char *log = read_log(log_path);
    count_tags(log, seen);
    free(log);
    for (int i = 0; i < MESSAGES; i++) {
        distinct += seen[i] > 0;
    }
    return distinct;
}

static void sigkill_loses_nothing_and_repeats_only_what_was_in_flight(void **st)
{
    (void)st;
    snprintf(dir, sizeof(dir), "/tmp/cs-restart-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char template_path[128], first_log[128], second_log[128];
    snprintf(template_path, sizeof(template_path), "%s/template.yaml", dir);
    snprintf(first_log, sizeof(first_log), "%s/first.log", dir);
    snprintf(second_log, sizeof(second_log), "%s/second.log", dir);
    write_template(template_path);

    test_proc first;
    unsigned port = start(&first, first_log);
    for (int i = 0; i < MESSAGES; i += 10) {
        send_batch(port, i);
    }
    while (processed(first_log) < MESSAGES / 4) {
        sleep_ms(5);
    }
    kill(first.pid, SIGKILL);
    test_proc_wait(&first, 5000);
    int before = processed(first_log);
    assert_true(before < MESSAGES);

    test_proc second;
    start(&second, second_log);
    int seen[MESSAGES] = {0};
    /* Messages in flight at the kill come back after the 1 s visibility timeout. */
    for (int waited = 0; waited < 20000; waited += 100) {
        memset(seen, 0, sizeof(seen));
        char *a = read_log(first_log), *b = read_log(second_log);
        count_tags(a, seen);
        count_tags(b, seen);
        free(a);
        free(b);
        int distinct = 0;
        for (int i = 0; i < MESSAGES; i++) {
            distinct += seen[i] > 0;
        }
        if (distinct == MESSAGES) {
            break;
        }
        sleep_ms(100);
    }
    test_proc_stop(&second, 5000);
    int repeated = 0;
    for (int i = 0; i < MESSAGES; i++) {
        if (seen[i] == 0) {
            fail_msg("k-%04d was lost", i);
        }
        repeated += seen[i] > 1;
    }
    printf("processed before the kill: %d of %d; delivered twice: %d\n", before, MESSAGES,
           repeated);
    assert_true(repeated <= POLLERS * BATCH);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigkill_loses_nothing_and_repeats_only_what_was_in_flight),
    };
    return cmocka_run_group_tests_name("restart", tests, NULL, NULL);
}
