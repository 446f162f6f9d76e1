/* The emulator serving a template's functions on the Invoke API, driven by
 * the machine's aws CLI and by libcurl. The functions are the contract test
 * function built on our runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>

#include "aws_cli.h"
#include "core/base64.h"
#include "emulator/service.h"
#include "net/aws.h"
#include "fixture.h"
#include "testing.h"

static char dir[64];
static char log_path[96];
static int log_fd = -1;
static em_service *svc;
static char endpoint[64];

static int setup(void **st)
{
    snprintf(dir, sizeof(dir), "/tmp/cs-service-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    char code[256], template_path[128], asan_env[400] = "";
    snprintf(code, sizeof(code), "%s", test_contract_bootstrap());
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan) {
        snprintf(asan_env, sizeof(asan_env), "          ASAN_OPTIONS: '%s'\n", asan);
    }
    char abs_code[4096];
    if (!realpath(dirname(code), abs_code)) {
        return -1;
    }
    snprintf(template_path, sizeof(template_path), "%s/template.yaml", dir);
    char *format = fixture_read("emulator/service.yaml", NULL);
    FILE *f = fopen(template_path, "w");
    fprintf(f, format, abs_code, asan_env);
    fclose(f);
    free(format);
    snprintf(log_path, sizeof(log_path), "%s/functions.log", dir);
    log_fd = open(log_path, O_CREAT | O_WRONLY | O_APPEND, 0600);

    static const char *const secrets[] = {"ApiKey=s3cr3t", NULL};
    em_service_opts opts = {
        .template_path = template_path, .state_dir = dir, .log_fd = log_fd, .secrets = secrets};
    cs_diag diag;
    if (em_service_start(&opts, NULL, &svc, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", (unsigned)em_service_port(svc));
    return test_arena_setup(st);
}

static int teardown(void **st)
{
    em_service_stop(svc);
    close(log_fd);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    if (system(command) != 0) {
        return -1;
    }
    return test_arena_teardown(st);
}

static char *read_all(const char *path)
{
    static char text[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f) {
        fclose(f);
    }
    return text;
}

static void the_aws_cli_invokes_a_function(void **st)
{
    (void)st;
    char out[4096];
    int rc = test_aws_cli(endpoint,
                          "lambda invoke --function-name echo --payload "
                          "'{\"action\":\"env\",\"names\":[\"GREETING\"]}' result.json",
                          dir, true, out, sizeof(out));
    if (rc != 0) {
        fail_msg("aws exited %d: %s", rc, out);
    }
    assert_non_null(strstr(out, "\"StatusCode\": 200"));
    assert_non_null(strstr(out, "\"ExecutedVersion\": \"$LATEST\""));
    char path[128];
    snprintf(path, sizeof(path), "%s/result.json", dir);
    assert_string_equal(read_all(path), "{\"GREETING\":\"hello\"}");
}

static bool log_has(const char *text, int timeout_ms);

static void the_aws_cli_gets_the_log_tail(void **st)
{
    (void)st;
    char out[16384];
    int rc = test_aws_cli(endpoint,
                          "lambda invoke --function-name echo --log-type Tail --query LogResult "
                          "--output text --payload '{\"action\":\"log\",\"text\":\"tail-me\"}' "
                          "tail.json",
                          dir, false, out, sizeof(out));
    if (rc != 0) {
        fail_msg("aws exited %d: %s", rc, out);
    }
    cs_buf log;
    cs_buf_init(&log, 0);
    assert_int_equal(cs_base64_decode(cs_str_trim(cs_str_from_c(out)), &log, NULL), CS_ERR_OK);
    assert_non_null(strstr(log.data, "START RequestId: "));
    assert_non_null(strstr(log.data, "\"text\":\"tail-me\""));
    assert_non_null(strstr(log.data, "END RequestId: "));
    assert_non_null(strstr(log.data, "REPORT RequestId: "));
    cs_buf_clean_up(&log);
    /* The emulator's own log names the function on each of its lines. */
    assert_true(log_has("echo: {\"timestamp\"", 1000));
}

static void the_aws_cli_sees_a_function_error(void **st)
{
    (void)st;
    char out[4096];
    int rc = test_aws_cli(endpoint,
                          "lambda invoke --function-name echo --payload '{\"action\":\"fail\"}' "
                          "error.json",
                          dir, true, out, sizeof(out));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"FunctionError\": \"Unhandled\""));
    char path[128];
    snprintf(path, sizeof(path), "%s/error.json", dir);
    assert_non_null(strstr(read_all(path), "asked to fail"));
}

static void the_aws_cli_reports_an_unknown_function(void **st)
{
    (void)st;
    char out[4096];
    int rc = test_aws_cli(endpoint, "lambda invoke --function-name nope out.json", dir, true, out,
                          sizeof(out));
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "ResourceNotFoundException"));
    assert_non_null(strstr(out, "Function not found: arn:aws:lambda:eu-west-1:000000000000:"
                                "function:nope"));
}

typedef struct reply {
    long status;
    char headers[2048];
    size_t header_len;
    char body[4096];
    size_t body_len;
} reply;

static size_t keep_body(char *data, size_t size, size_t n, void *user)
{
    reply *r = user;
    size_t len = size * n;
    size_t room = sizeof(r->body) - 1 - r->body_len;
    memcpy(r->body + r->body_len, data, len < room ? len : room);
    r->body_len += len < room ? len : room;
    r->body[r->body_len] = '\0';
    return len;
}

static size_t keep_header(char *data, size_t size, size_t n, void *user)
{
    reply *r = user;
    size_t len = size * n;
    size_t room = sizeof(r->headers) - 1 - r->header_len;
    memcpy(r->headers + r->header_len, data, len < room ? len : room);
    r->header_len += len < room ? len : room;
    r->headers[r->header_len] = '\0';
    return len;
}

/* One HTTP exchange with the emulator; `header_lines` holds one header per
 * line; a NULL body sends none. */
static reply exchange(const char *method, const char *path, const char *header_lines,
                      const char *body, size_t body_len)
{
    reply r = {0};
    char url[256], lines[256];
    snprintf(url, sizeof(url), "%s%s", endpoint, path);
    snprintf(lines, sizeof(lines), "%s", header_lines);
    struct curl_slist *headers = NULL;
    for (char *save = NULL, *line = strtok_r(lines, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        headers = curl_slist_append(headers, line);
    }
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, keep_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return r;
}

static reply request(const char *path, const char *header, const char *body)
{
    return exchange("POST", path, header, body, strlen(body));
}

static reply post(const char *function, const char *type, const char *body)
{
    char path[256], header[96];
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations", function);
    snprintf(header, sizeof(header), "X-Amz-Invocation-Type: %s", type);
    return request(path, header, body);
}

static reply sqs(const char *operation, const char *body)
{
    char header[96];
    snprintf(header, sizeof(header), "X-Amz-Target: AmazonSQS.%s", operation);
    return request("/", header, body);
}

static bool log_has(const char *text, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (strstr(read_all(log_path), text)) {
            return true;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void an_event_invocation_is_accepted_then_run(void **st)
{
    (void)st;
    reply r = post("echo", "Event", "{\"action\":\"log\",\"text\":\"from-event-invoke\"}");
    assert_int_equal(r.status, 202);
    char *id = strstr(r.headers, "X-Amzn-RequestId: ");
    assert_non_null(id);
    assert_true(log_has("from-event-invoke", 5000));
}

static void a_dry_run_runs_nothing(void **st)
{
    (void)st;
    reply r = post("echo", "DryRun", "{\"action\":\"crash\"}");
    assert_int_equal(r.status, 204);
    r = post("echo", "Sideways", "{}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "'Sideways' is not RequestResponse, Event or DryRun"));
}

static void *slow_call(void *arg)
{
    *(reply *)arg = post("single", "RequestResponse", "{\"action\":\"sleep\",\"ms\":800}");
    return NULL;
}

static void a_function_at_its_reserved_concurrency_is_throttled(void **st)
{
    (void)st;
    reply slow;
    pthread_t thread;
    pthread_create(&thread, NULL, slow_call, &slow);
    /* 300 ms into the 800 ms call, its one instance is busy. */
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    reply r = post("single", "RequestResponse", "{\"action\":\"echo\"}");
    pthread_join(thread, NULL);
    assert_int_equal(slow.status, 200);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.headers, "X-Amzn-ErrorType: TooManyRequestsException"));
}

static void unknown_paths_are_named(void **st)
{
    (void)st;
    /* A name with a quote and a byte that is not UTF-8 still makes valid JSON. */
    reply q = post("a%22b%ff", "RequestResponse", "{}");
    assert_int_equal(q.status, 404);
    test_parse(&test_arena, q.body, q.body_len);
    assert_non_null(strstr(q.body, "function:a\\\"b\xef\xbf\xbd\""));
    reply r = post("echo/extra", "RequestResponse", "{}");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "is not an operation the emulator serves"));
}

/* ApproximateNumberOfMessages + NotVisible of a queue. */
static long depth(const char *queue)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\"}", queue);
    reply r = sqs("GetQueueAttributes", body);
    long visible = -1, hidden = -1;
    const char *v = strstr(r.body, "\"ApproximateNumberOfMessages\":\"");
    const char *h = strstr(r.body, "\"ApproximateNumberOfMessagesNotVisible\":\"");
    if (v && h) {
        visible = strtol(v + strlen("\"ApproximateNumberOfMessages\":\""), NULL, 10);
        hidden = strtol(h + strlen("\"ApproximateNumberOfMessagesNotVisible\":\""), NULL, 10);
    }
    return visible < 0 || hidden < 0 ? -1 : visible + hidden;
}

static bool depth_becomes(const char *queue, long expected, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (depth(queue) == expected) {
            return true;
        }
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void a_message_sent_with_the_aws_cli_reaches_the_function(void **st)
{
    (void)st;
    char out[4096], args[4400];
    int rc = test_aws_cli(endpoint, "sqs get-queue-url --queue-name orders --output text", dir,
                          false, out, sizeof(out));
    if (rc != 0) {
        fail_msg("aws exited %d: %s", rc, out);
    }
    out[strcspn(out, "\n")] = '\0';
    snprintf(args, sizeof(args),
             "sqs send-message --queue-url %s --message-body '{\"action\":\"ok\",\"tag\":"
             "\"tag-cli-1\"}'",
             out);
    rc = test_aws_cli(endpoint, args, dir, true, out, sizeof(out));
    if (rc != 0) {
        fail_msg("aws exited %d: %s", rc, out);
    }
    assert_non_null(strstr(out, "\"MD5OfMessageBody\""));
    assert_true(log_has("tag-cli-1", 5000));
    assert_true(depth_becomes("orders", 0, 5000));
}

/* Runs the aws CLI with arguments formatted from fmt; fails the test when it
 * exits non-zero. out receives its output and stderr. */
static void aws(char *out, size_t out_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void aws(char *out, size_t out_len, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    int rc = test_aws_cli(endpoint, args, dir, true, out, out_len);
    if (rc != 0) {
        fail_msg("aws %s exited %d: %s", args, rc, out);
    }
}

static void message_attributes_reach_the_function_and_receivers(void **st)
{
    (void)st;
    const char *tenant = "'{\"tenant\":{\"DataType\":\"String\",\"StringValue\":\"acme\"}}'";
    char out[4096];
    aws(out, sizeof(out),
        "sqs send-message --queue-url http://127.0.0.1:1/000000000000/orders --message-body "
        "'{\"action\":\"ok\",\"tag\":\"tag-attributes\"}' --message-attributes %s",
        tenant);
    /* The digest SQS computes for these attributes (see test_sqs_message). */
    assert_non_null(
        strstr(out, "\"MD5OfMessageAttributes\": \"c52f727da6769fcbc66f3f8555ce234a\""));
    assert_true(log_has("{\\\"tenant\\\":{\\\"stringValue\\\":\\\"acme\\\",", 5000));

    aws(out, sizeof(out),
        "sqs send-message --queue-url http://127.0.0.1:1/000000000000/inbox --message-body held "
        "--message-attributes %s",
        tenant);
    aws(out, sizeof(out),
        "sqs receive-message --queue-url http://127.0.0.1:1/000000000000/inbox "
        "--visibility-timeout 0 --message-attribute-names All");
    assert_non_null(strstr(out, "\"StringValue\": \"acme\""));
    assert_non_null(
        strstr(out, "\"MD5OfMessageAttributes\": \"c52f727da6769fcbc66f3f8555ce234a\""));
    aws(out, sizeof(out), "sqs receive-message --queue-url http://127.0.0.1:1/000000000000/inbox");
    assert_non_null(strstr(out, "\"Body\": \"held\""));
    assert_null(strstr(out, "MessageAttributes"));
}

static void failed_items_return_and_reach_the_dead_letter_queue(void **st)
{
    (void)st;
    reply r = sqs("SendMessageBatch",
                  "{\"QueueUrl\":\"orders\",\"Entries\":["
                  "{\"Id\":\"a\",\"MessageBody\":\"{\\\"action\\\":\\\"ok\\\"}\"},"
                  "{\"Id\":\"b\",\"MessageBody\":\"{\\\"action\\\":\\\"fail-item\\\"}\"},"
                  "{\"Id\":\"c\",\"MessageBody\":\"{\\\"action\\\":\\\"ok\\\"}\"}]}");
    if (r.status != 200) {
        fail_msg("%ld: %s", r.status, r.body);
    }
    assert_non_null(strstr(r.body, "\"Failed\":[]"));
    /* b is received twice (maxReceiveCount 2), a second after the first. */
    assert_true(depth_becomes("orders-dlq", 1, 8000));
    assert_true(depth_becomes("orders", 0, 2000));

    r = sqs("SendMessage", "{\"QueueUrl\":\"orders\",\"MessageBody\":"
                           "\"{\\\"action\\\":\\\"bad-response\\\"}\"}");
    assert_int_equal(r.status, 200);
    assert_true(log_has("invalid partial batch response, so the whole batch failed", 5000));
    assert_true(depth_becomes("orders-dlq", 2, 8000));

    char out[4096];
    int rc = test_aws_cli(endpoint,
                          "sqs start-message-move-task --source-arn "
                          "arn:aws:sqs:eu-west-1:000000000000:orders-dlq",
                          dir, true, out, sizeof(out));
    if (rc != 0) {
        fail_msg("aws exited %d: %s", rc, out);
    }
    assert_int_equal(depth("orders-dlq"), 0);
}

static void sqs_errors_are_named_as_sqs_names_them(void **st)
{
    (void)st;
    reply r = sqs("SendMessage", "{\"QueueUrl\":\"nope\",\"MessageBody\":\"x\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\""));
    assert_non_null(
        strstr(r.headers, "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender"));
    r = sqs("SendMessage", "{\"QueueUrl\":\"orders\"}");
    assert_non_null(strstr(r.body, "The request must contain the parameter MessageBody."));
    r = sqs("ReceiveMessage", "{\"QueueUrl\":\"orders\",\"MaxNumberOfMessages\":11}");
    assert_non_null(strstr(r.body, "MaxNumberOfMessages is invalid"));
    /* One bad entry fails alone, with its own reason. */
    r = sqs("SendMessageBatch",
            "{\"QueueUrl\":\"orders-dlq\",\"Entries\":[{\"Id\":\"good\",\"MessageBody\":\"x\"},"
            "{\"Id\":\"empty\",\"MessageBody\":\"\"},{\"Id\":\"none\"}]}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"Successful\":[{\"Id\":\"good\",\"MessageId\":"));
    assert_non_null(strstr(r.body, "{\"Id\":\"empty\",\"Code\":\"InvalidParameterValue\","
                                   "\"Message\":\"The message body must be 1 to 262144 bytes; "
                                   "it is 0.\",\"SenderFault\":true}"));
    assert_non_null(strstr(r.body, "{\"Id\":\"none\",\"Code\":\"MissingParameter\",\"Message\":"
                                   "\"The request must contain the parameter MessageBody.\""));
    r = sqs("SendMessage", "{\"QueueUrl\":\"orders-dlq\",\"MessageBody\":\"ok\\u0001no\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Invalid binary character '#x1' was found in the message body "
                                   "(byte 2)"));
    r = sqs("SendMessage",
            "{\"QueueUrl\":\"orders-dlq\",\"MessageBody\":\"caf\\u00e9 \\ud83d\\ude00\"}");
    assert_int_equal(r.status, 200);
    r = sqs("SendMessage", "{\"QueueUrl\":\"orders-dlq\",\"MessageBody\":\"\\u00e9\\uffff\"}");
    assert_non_null(strstr(r.body, "Invalid binary character '#xFFFF' was found in the message "
                                   "body (byte 2)"));
    r = sqs("PurgeQueue", "{\"QueueUrl\":\"orders-dlq\"}");
    assert_int_equal(r.status, 200);
    r = sqs("CreateQueue", "{\"QueueName\":\"x\"}");
    assert_non_null(strstr(r.body, "UnsupportedOperation"));
    r = sqs("SendMessage", "{not json");
    assert_non_null(strstr(r.body, "The request body is not JSON"));
    char out[4096];
    assert_int_equal(
        test_aws_cli(endpoint, "sqs list-queues --output text", dir, false, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "/000000000000/orders-dlq"));
}

static void a_schedule_fires_on_demand_with_its_input(void **st)
{
    (void)st;
    reply r = request("/_emulator/schedules/echo-Nightly/fire", "X-Nothing: 1", "");
    assert_int_equal(r.status, 202);
    assert_true(log_has("from-schedule", 5000));
    r = request("/_emulator/schedules/echo-Daily/fire", "X-Nothing: 1", "");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "no schedule named 'echo-Daily'"));
}

/* Runs build/bin/emulator with args against the service; its stdout and
 * stderr go to out. */
static int cli(const char *args, char *out, size_t len)
{
    const char *build = getenv("BUILD");
    char command[1024];
    snprintf(command, sizeof(command), "%s/bin/emulator %s --port %u 2>&1", build ? build : "build",
             args, (unsigned)em_service_port(svc));
    FILE *p = popen(command, "r");
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void the_cli_sends_lists_fires_and_invokes(void **st)
{
    (void)st;
    char out[8192];
    assert_int_equal(cli("send --queue orders --body '{\"action\":\"ok\",\"tag\":\"tag-cli-2\"}'",
                         out, sizeof(out)),
                     0);
    assert_non_null(strstr(out, "\"MessageId\""));
    assert_true(log_has("tag-cli-2", 5000));
    assert_int_equal(cli("queues", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "orders-dlq"));
    assert_int_equal(cli("fire --rule echo-Nightly", out, sizeof(out)), 0);
    assert_string_equal(out, "fired echo-Nightly\n");
    assert_int_equal(
        cli("invoke --function echo --payload '{\"action\":\"echo\"}'", out, sizeof(out)), 0);
    assert_string_equal(out, "{\"action\":\"echo\"}\n");
    assert_int_equal(
        cli("invoke --function echo --payload '{\"action\":\"fail\"}'", out, sizeof(out)), 1);
    assert_int_equal(cli("invocations", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "echo"));
    assert_non_null(strstr(out, " ok "));
    assert_non_null(strstr(out, " error "));
    assert_non_null(strstr(out, "cold start, init "));
    assert_int_equal(cli("fire --rule nope", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "no schedule named 'nope'"));
    assert_int_equal(cli("send --queue orders", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--body is required"));
}

/* A request with two cookies, as a browser would send them. */
static reply http(const char *method, const char *path, const char *header, const char *body,
                  size_t body_len)
{
    char lines[256];
    snprintf(lines, sizeof(lines), "Cookie: c1=1; c2=2\n%s", header);
    return exchange(method, path, lines, body, body_len);
}

/* GetSecretValue signed as the function `caller` is (its logical id is its
 * access key), with our own AWS client. */
static cs_error read_secret(const char *caller, const char *id, cs_str *value, cs_diag *diag)
{
    setenv("AWS_ACCESS_KEY_ID", caller, 1);
    setenv("AWS_SECRET_ACCESS_KEY", "emulator", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    cs_http_client *http = cs_http_client_new(&(cs_http_options){.max_attempts = 1}, NULL);
    cs_aws client;
    cs_error r = cs_aws_init(&client, http, endpoint, diag);
    if (!r) {
        r = cs_secret_string(&client, cs_str_from_c(id), &test_arena, value, diag);
    }
    cs_http_client_destroy(http);
    return r;
}

static void a_function_reads_only_the_secrets_its_policies_grant(void **st)
{
    (void)st;
    cs_str value;
    cs_diag diag;
    assert_int_equal(read_secret("Single", "local/api-key", &value, &diag), CS_ERR_OK);
    assert_true(cs_str_eq_c(value, "s3cr3t"));
    assert_int_equal(read_secret("Single",
                                 "arn:aws:secretsmanager:eu-west-1:000000000000:secret:"
                                 "local/api-key",
                                 &value, &diag),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(value, "s3cr3t"));

    assert_int_equal(read_secret("Echo", "local/api-key", &value, &diag), CS_ERR_AWS);
    assert_string_equal(diag.field, "AccessDeniedException");
    assert_non_null(strstr(diag.message, "assumed-role/EchoRole/echo is not authorized to "
                                         "perform: secretsmanager:GetSecretValue"));
    assert_int_equal(read_secret("Single", "Unset", &value, &diag), CS_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "no --secret Unset=VALUE"));
    assert_int_equal(read_secret("Single", "local/other", &value, &diag), CS_ERR_NOT_FOUND);
    assert_int_equal(read_secret("Stranger", "local/api-key", &value, &diag), CS_ERR_AWS);
    assert_string_equal(diag.field, "UnrecognizedClientException");
}

static void string_is(const cs_json *root, const char *path, const char *expected)
{
    cs_str got;
    if (cs_json_get_string(root, path, &got, NULL) || !cs_str_eq_c(got, expected)) {
        fail_msg("%s: expected '%s'", path, expected);
    }
}

static void an_http_api_route_reaches_the_function_as_payload_2_0(void **st)
{
    (void)st;
    reply r = http("POST", "/orders/42?b=2&a=x%20y", "X-Custom: v", "{\"x\":1}", 7);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.headers, "x-handled-by: contract"));
    assert_non_null(strstr(r.headers, "Set-Cookie: session=abc; Path=/"));
    cs_json *event = test_parse(&test_arena, r.body, r.body_len);
    string_is(event, "version", "2.0");
    string_is(event, "routeKey", "POST /orders/{id}");
    string_is(event, "rawPath", "/orders/42");
    string_is(event, "pathParameters.id", "42");
    string_is(event, "queryStringParameters.a", "x y");
    string_is(event, "queryStringParameters.b", "2");
    string_is(event, "headers.x-custom", "v");
    string_is(event, "cookies[0]", "c1=1");
    string_is(event, "cookies[1]", "c2=2");
    string_is(event, "body", "{\"x\":1}");
    string_is(event, "requestContext.http.method", "POST");
    string_is(event, "requestContext.routeKey", "POST /orders/{id}");
    bool base64 = true;
    assert_int_equal(cs_json_get_bool(event, "isBase64Encoded", &base64, NULL), CS_ERR_OK);
    assert_false(base64);

    /* A repeated header reaches the function joined with commas. */
    r = http("POST", "/orders/43", "X-Repeat: a\nX-Repeat: b", "{}", 2);
    event = test_parse(&test_arena, r.body, r.body_len);
    string_is(event, "headers.x-repeat", "a,b");
    r = http("GET", "/files/a/b/c.txt", "X-Other: 1", NULL, 0);
    assert_int_equal(r.status, 201);
    event = test_parse(&test_arena, r.body, r.body_len);
    string_is(event, "pathParameters.proxy", "a/b/c.txt");
    string_is(event, "routeKey", "GET /files/{proxy+}");

    r = http("POST", "/orders/7", "Content-Type: application/octet-stream", "\xff\x00\x01", 3);
    assert_int_equal(r.status, 201);
    event = test_parse(&test_arena, r.body, r.body_len);
    string_is(event, "body", "/wAB");
    assert_int_equal(cs_json_get_bool(event, "isBase64Encoded", &base64, NULL), CS_ERR_OK);
    assert_true(base64);

    r = http("PUT", "/_url/web/any/path?q=1", "X-Other: 1", "{}", 2);
    assert_int_equal(r.status, 201);
    event = test_parse(&test_arena, r.body, r.body_len);
    string_is(event, "routeKey", "$default");
    string_is(event, "rawPath", "/any/path");
    string_is(event, "requestContext.http.method", "PUT");
    r = http("GET", "/_url/echo/", "X-Other: 1", NULL, 0);
    assert_int_equal(r.status, 404); /* echo has no FunctionUrlConfig */

    r = http("GET", "/orders/42", "X-Other: 1", NULL, 0);
    assert_int_equal(r.status, 404);
    r = http("GET", "/files/", "X-Other: 1", NULL, 0);
    assert_int_equal(r.status, 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_aws_cli_invokes_a_function),
        cmocka_unit_test(the_aws_cli_gets_the_log_tail),
        cmocka_unit_test(the_aws_cli_sees_a_function_error),
        cmocka_unit_test(the_aws_cli_reports_an_unknown_function),
        cmocka_unit_test(an_event_invocation_is_accepted_then_run),
        cmocka_unit_test(a_dry_run_runs_nothing),
        cmocka_unit_test(a_function_at_its_reserved_concurrency_is_throttled),
        cmocka_unit_test(unknown_paths_are_named),
        cmocka_unit_test(a_message_sent_with_the_aws_cli_reaches_the_function),
        cmocka_unit_test(message_attributes_reach_the_function_and_receivers),
        cmocka_unit_test(failed_items_return_and_reach_the_dead_letter_queue),
        cmocka_unit_test(sqs_errors_are_named_as_sqs_names_them),
        cmocka_unit_test(a_schedule_fires_on_demand_with_its_input),
        cmocka_unit_test(the_cli_sends_lists_fires_and_invokes),
        cmocka_unit_test(an_http_api_route_reaches_the_function_as_payload_2_0),
        cmocka_unit_test(a_function_reads_only_the_secrets_its_policies_grant),
    };
    return cmocka_run_group_tests_name("service", tests, setup, teardown);
}
