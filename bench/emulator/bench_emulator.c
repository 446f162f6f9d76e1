/* make bench-emulator: the emulator serving the echo function (our runtime),
 * measured from outside with libcurl, side by side with starting a fresh
 * process per invoke (what a container-per-invoke emulator does at best).
 *
 *   bench_emulator ECHO_DIR WARM_INVOKES MESSAGES SPAWNS
 *
 * Last line: emulator: invokes_per_s= p50_ms= p99_ms= sqs_msgs_per_s=
 * spawn_per_invoke_per_s= */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcntl.h>

#include "core/timestamp.h"
#include "emulator/instance.h"
#include "emulator/queue.h"
#include "emulator/service.h"

enum { CLIENTS = 2 };

static const char template_format[] = "Transform: AWS::Serverless-2016-10-31\n"
                                      "Globals:\n"
                                      "  Function:\n"
                                      "    CodeUri: %s\n"
                                      "    Handler: bootstrap\n"
                                      "    Runtime: provided.al2023\n"
                                      "    Timeout: 10\n"
                                      "Resources:\n"
                                      "  Echo:\n"
                                      "    Type: AWS::Serverless::Function\n"
                                      "    Properties:\n"
                                      "      FunctionName: echo\n"
                                      "  Bench:\n"
                                      "    Type: AWS::SQS::Queue\n"
                                      "    Properties:\n"
                                      "      QueueName: bench\n"
                                      "  Consumer:\n"
                                      "    Type: AWS::Serverless::Function\n"
                                      "    Properties:\n"
                                      "      FunctionName: consumer\n"
                                      "      Events:\n"
                                      "        Bench:\n"
                                      "          Type: SQS\n"
                                      "          Properties:\n"
                                      "            Queue: !GetAtt Bench.Arn\n"
                                      "            BatchSize: 10\n";

static unsigned port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static CURL *client(const char *path, struct curl_slist *headers)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    return curl;
}

static void post(CURL *curl, const char *body)
{
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(curl) != CURLE_OK ||
        (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
        fprintf(stderr, "bench-emulator: request failed (HTTP %ld)\n", status);
        exit(1);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct worker {
    int invokes;
    double *latencies;
} worker;

static void *invoke_loop(void *arg)
{
    worker *w = arg;
    CURL *curl = client("/2015-03-31/functions/echo/invocations", NULL);
    for (int i = 0; i < w->invokes; i++) {
        double t0 = now_s();
        post(curl, "{\"order\":{\"id\":1001,\"total\":\"19.99\"}}");
        if (w->latencies) {
            w->latencies[i] = now_s() - t0;
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* Sequential round trips for the percentiles, then CLIENTS in parallel for
 * throughput. */
static void warm_invokes(int n, double *p50, double *p99, double *per_s)
{
    worker warmup = {.invokes = 100};
    invoke_loop(&warmup);
    worker seq = {.invokes = n, .latencies = calloc((size_t)n, sizeof(double))};
    invoke_loop(&seq);
    qsort(seq.latencies, (size_t)n, sizeof(double), by_value);
    *p50 = seq.latencies[n / 2] * 1000;
    *p99 = seq.latencies[n * 99 / 100] * 1000;
    free(seq.latencies);
    pthread_t threads[CLIENTS];
    worker w[CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        w[i] = (worker){.invokes = n / CLIENTS};
        pthread_create(&threads[i], NULL, invoke_loop, &w[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
    }
    *per_s = (double)(n / CLIENTS * CLIENTS) / (now_s() - t0);
}

static long queue_depth(CURL *curl)
{
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    post(curl, "{\"QueueUrl\":\"bench\"}");
    fclose(out);
    long depth = 0;
    const char *keys[] = {"\"ApproximateNumberOfMessages\":\"",
                          "\"ApproximateNumberOfMessagesNotVisible\":\""};
    for (int i = 0; i < 2; i++) {
        const char *at = strstr(body, keys[i]);
        depth += at ? strtol(at + strlen(keys[i]), NULL, 10) : 1;
    }
    free(body);
    return depth;
}

typedef struct sender {
    int first, count;
} sender;

/* Sends messages first..first+count-1 in batches of 10. */
static void *send_loop(void *arg)
{
    const sender *s = arg;
    struct curl_slist *headers =
        curl_slist_append(NULL, "X-Amz-Target: AmazonSQS.SendMessageBatch");
    CURL *curl = client("/", headers);
    char body[4096];
    for (int i = s->first; i < s->first + s->count; i += 10) {
        int len = snprintf(body, sizeof(body), "{\"QueueUrl\":\"bench\",\"Entries\":[");
        for (int k = 0; k < 10; k++) {
            len += snprintf(body + len, sizeof(body) - (size_t)len,
                            "%s{\"Id\":\"%d\",\"MessageBody\":\"{\\\"sku\\\":\\\"SKU-%d\\\","
                            "\\\"available\\\":%d}\"}",
                            k ? "," : "", k, i + k, k);
        }
        snprintf(body + len, sizeof(body) - (size_t)len, "]}");
        post(curl, body);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return NULL;
}

/* CLIENTS senders send n messages in batches of 10 while the consumer
 * drains the queue; messages per second from the first send until the queue
 * reads empty. */
static double sqs_throughput(int n)
{
    struct curl_slist *attr_headers =
        curl_slist_append(NULL, "X-Amz-Target: AmazonSQS.GetQueueAttributes");
    CURL *attrs = client("/", attr_headers);
    pthread_t threads[CLIENTS];
    sender senders[CLIENTS];
    int share = n / CLIENTS / 10 * 10;
    double t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        senders[i] = (sender){.first = i * share, .count = share};
        pthread_create(&threads[i], NULL, send_loop, &senders[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
    }
    fprintf(stderr, "sent in %.2f s\n", now_s() - t0);
    while (queue_depth(attrs) > 0) {
        usleep(2000);
    }
    double rate = (double)(share * CLIENTS) / (now_s() - t0);
    curl_easy_cleanup(attrs);
    curl_slist_free_all(attr_headers);
    return rate;
}

/* The queue store alone: fills a queue to `depth` in batches of 10, then
 * receives and deletes 10 at a time until it is empty; messages per second
 * of the draining. A store whose receive or delete scans the queue slows
 * down with depth. */
static double drain_rate(const char *dir, int depth)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/drain-%d.db", dir, depth);
    em_queues *q;
    cs_diag diag;
    em_queue def = {.name = cs_str_from_c("deep"),
                    .dlq = cs_str_from_c(""),
                    .visibility_timeout_s = 30,
                    .retention_s = 345600};
    if (em_queues_open(path, &q, &diag) || em_queues_define(q, &def, &diag)) {
        fprintf(stderr, "bench-emulator: %s\n", diag.message);
        exit(1);
    }
    for (int i = 0; i < depth; i += 10) {
        em_outgoing m[10];
        for (int k = 0; k < 10; k++) {
            m[k] = (em_outgoing){.body = cs_str_from_c("{\"sku\":\"SKU-1\",\"available\":3}"),
                                 .delay_s = -1};
        }
        em_queue_send_batch(q, def.name, m, 10, cs_time_now_ms(), NULL);
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 0);
    int drained = 0, got;
    double t0 = now_s();
    do {
        em_message batch[10];
        cs_str receipts[10];
        cs_error results[10];
        cs_arena_reset(&arena);
        got = 0;
        em_queue_receive(q, def.name, 10, -1, cs_time_now_ms(), &arena, batch, &got, NULL);
        for (int k = 0; k < got; k++) {
            receipts[k] = cs_str_from_c(batch[k].receipt);
        }
        if (got) {
            em_queue_delete_batch(q, def.name, receipts, got, results, NULL);
        }
        drained += got;
    } while (got > 0);
    double rate = (double)drained / (now_s() - t0);
    cs_arena_clean_up(&arena);
    em_queues_close(q);
    return drained == depth ? rate : 0;
}

/* A fresh process per invoke: start, one invocation, stop. */
static double spawn_per_invoke(const char *echo_dir, int n)
{
    char bootstrap[4200];
    snprintf(bootstrap, sizeof(bootstrap), "%s/bootstrap", echo_dir);
    em_function_config config = {.name = "echo",
                                 .bootstrap = bootstrap,
                                 .task_root = echo_dir,
                                 .handler = "bootstrap",
                                 .region = "eu-west-1",
                                 .timeout_s = 10,
                                 .memory_mb = 128,
                                 .log_fd = -1};
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        em_instance *inst;
        em_result result;
        cs_diag diag;
        if (em_instance_start(&config, &inst, &diag) ||
            em_instance_invoke(inst, "bench", cs_str_from_c("{\"order\":1}"), NULL, &result,
                               &diag)) {
            fprintf(stderr, "bench-emulator: %s\n", diag.message);
            exit(1);
        }
        em_result_clean_up(&result);
        em_instance_stop(inst);
    }
    return (double)n / (now_s() - t0);
}

static em_service *start_service(const char *echo_dir, char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/template.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, template_format, echo_dir);
    fclose(f);
    int null_fd = open("/dev/null", O_WRONLY);
    em_service_opts opts = {.template_path = path, .state_dir = dir, .log_fd = null_fd};
    em_service *svc;
    cs_diag diag;
    if (em_service_start(&opts, NULL, &svc, &diag)) {
        fprintf(stderr, "bench-emulator: %s\n", diag.message);
        exit(1);
    }
    port = em_service_port(svc);
    return svc;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_emulator ECHO_DIR WARM_INVOKES MESSAGES SPAWNS\n");
        return 2;
    }
    char echo_dir[4096];
    if (!realpath(argv[1], echo_dir)) {
        fprintf(stderr, "bench-emulator: %s: no such directory\n", argv[1]);
        return 1;
    }
    int invokes = atoi(argv[2]), messages = atoi(argv[3]), spawns = atoi(argv[4]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/cs-bench-emulator-XXXXXX";
    if (!mkdtemp(dir)) {
        return 1;
    }
    em_service *svc = start_service(echo_dir, dir);
    double p50, p99, per_s;
    warm_invokes(invokes, &p50, &p99, &per_s);
    printf("warm invokes: %d sequential, p50 %.3f ms, p99 %.3f ms; %d clients: %.0f invokes/s\n",
           invokes, p50, p99, CLIENTS, per_s);
    double sqs = sqs_throughput(messages);
    printf("sqs: %d messages through a batch-size-10 echo consumer: %.0f messages/s\n", messages,
           sqs);
    em_service_stop(svc);
    double shallow = drain_rate(dir, 100), deep = drain_rate(dir, 40000);
    printf("queue store alone: receive+delete %.0f messages/s from 100 deep, %.0f from 40,000 "
           "deep (%.2fx)\n",
           shallow, deep, deep / shallow);
    double spawn = spawn_per_invoke(echo_dir, spawns);
    printf("fresh process per invoke: %d invokes, %.0f invokes/s (warm is %.1fx)\n", spawns, spawn,
           per_s / spawn);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    if (system(command) != 0) {
        return 1;
    }
    printf("emulator: invokes_per_s=%.0f p50_ms=%.3f p99_ms=%.3f sqs_msgs_per_s=%.0f "
           "spawn_per_invoke_per_s=%.0f\n",
           per_s, p50, p99, sqs, spawn);
    curl_global_cleanup();
    return 0;
}
