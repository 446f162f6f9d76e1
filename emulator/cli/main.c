/* build/bin/emulator: run a SAM template locally, and talk to a running
 * emulator. See docs/emulator.md. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/json.h"
#include "emulator/service.h"

enum { MAX_OVERRIDES = 64, DEFAULT_PORT = 3001 };

static const char usage[] = "usage: emulator COMMAND [OPTIONS]\n"
                            "\n"
                            "commands:\n"
                            "  start    run a template's functions on one port\n"
                            "  invoke   invoke a function of a running emulator\n"
                            "\n"
                            "`emulator COMMAND --help` describes a command.\n";

static const char start_usage[] =
    "usage: emulator start --template FILE [--port N] [--state-dir DIR] [--region R]\n"
    "                      [--parameter NAME=VALUE]... [--max-instances N]\n"
    "                      [--build-dir DIR] [--secret SECRET=VALUE]...\n"
    "                      [--aws-endpoint URL]\n"
    "\n"
    "Serves the template's functions on 127.0.0.1:N (default 3001; 0 picks a free\n"
    "port) with the Lambda Invoke API, until SIGINT or SIGTERM. Function output and\n"
    "START/END/REPORT lines go to stderr. Event invocations are kept in\n"
    "DIR/queues.db (default: the current directory) and survive a restart.\n"
    "Functions with Metadata BuildMethod makefile run from --build-dir's\n"
    "<LogicalId>/bootstrap (default: .aws-sam/build beside the template, where\n"
    "`sam build` puts them).\n"
    "--secret gives an AWS::SecretsManager::Secret of the template (logical id or\n"
    "name) its value; functions read it through the emulator's GetSecretValue,\n"
    "and only if their Policies grant it. --aws-endpoint sends the functions'\n"
    "other AWS calls (DynamoDB, S3) to a local peer such as moto_server.\n";

static const char invoke_usage[] =
    "usage: emulator invoke --function NAME [--payload JSON] [--port N] [--event]\n"
    "\n"
    "Invokes NAME on the emulator at 127.0.0.1:N (default 3001) and prints its\n"
    "response. Exits 1 when the function failed, 2 when the call did. --event\n"
    "queues the invocation instead (Event) and prints nothing.\n";

static const char send_usage[] =
    "usage: emulator send --queue NAME --body TEXT [--port N]\n"
    "\n"
    "Sends one message to the queue NAME (SQS SendMessage) and prints its id.\n";

static const char queues_usage[] =
    "usage: emulator queues [--port N]\n"
    "\n"
    "Lists every queue with its visible, in-flight and delayed message counts and\n"
    "its redrive policy.\n";

static const char redrive_usage[] =
    "usage: emulator redrive --dlq NAME [--to QUEUE] [--port N]\n"
    "\n"
    "Moves every message of the dead-letter queue NAME back to QUEUE (default: the\n"
    "one queue whose redrive policy names NAME), visible at once and counted afresh.\n";

static const char fire_usage[] =
    "usage: emulator fire --rule FUNCTION-EVENT [--port N]\n"
    "\n"
    "Fires a schedule now, whatever its expression. Rules are named after their\n"
    "function and event: orders-export-Nightly.\n";

static const char invocations_usage[] =
    "usage: emulator invocations [--port N]\n"
    "\n"
    "Shows the last 50 invocations of each function, oldest first: when they\n"
    "ended, the function, the request id, the outcome (ok, error, timeout, crash,\n"
    "init-error), the duration and, on a cold start, the init duration.\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
    }
    return false;
}

static int parse_port(const char *text, long *out)
{
    char *end;
    errno = 0;
    long port = strtol(text, &end, 10);
    if (errno || *end || port < 0 || port > 65535) {
        fprintf(stderr, "emulator: --port '%s' is not a port number (0-65535)\n", text);
        return -1;
    }
    *out = port;
    return 0;
}

static void print_warnings(const cs_problems *warnings)
{
    for (size_t i = 0; i < warnings->count; i++) {
        const cs_problem *p = &warnings->items[i];
        fprintf(stderr, "emulator: warning: %s: %s\n", p->path, p->message);
    }
}

static int run(em_service_opts *opts)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 0);
    cs_problems warnings;
    cs_problems_init(&warnings, &arena);
    em_service *svc;
    cs_diag diag;
    cs_error r = em_service_start(opts, &warnings, &svc, &diag);
    print_warnings(&warnings);
    cs_arena_clean_up(&arena);
    if (r) {
        fprintf(stderr, "emulator: %s\n", diag.message);
        return 1;
    }
    fprintf(stderr, "emulator: listening on http://127.0.0.1:%u\n", (unsigned)em_service_port(svc));
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested) {
        pause();
    }
    fprintf(stderr, "emulator: stopping\n");
    em_service_stop(svc);
    return 0;
}

/* Appends a repeated option's value to its NULL-terminated list. */
static bool add_option(const char **list, int *count, const char *option, const char *value)
{
    if (*count == MAX_OVERRIDES) {
        fprintf(stderr, "emulator: at most %d --%s options\n", MAX_OVERRIDES, option);
        return false;
    }
    list[(*count)++] = value;
    return true;
}

static int start(int argc, char **argv)
{
    static const struct option options[] = {{"template", required_argument, NULL, 't'},
                                            {"port", required_argument, NULL, 'p'},
                                            {"state-dir", required_argument, NULL, 's'},
                                            {"region", required_argument, NULL, 'r'},
                                            {"parameter", required_argument, NULL, 'P'},
                                            {"max-instances", required_argument, NULL, 'm'},
                                            {"build-dir", required_argument, NULL, 'b'},
                                            {"secret", required_argument, NULL, 'S'},
                                            {"aws-endpoint", required_argument, NULL, 'a'},
                                            {NULL, 0, NULL, 0}};
    const char *overrides[MAX_OVERRIDES + 1] = {0};
    const char *secrets[MAX_OVERRIDES + 1] = {0};
    int override_count = 0, secret_count = 0;
    long port = DEFAULT_PORT;
    em_service_opts opts = {.log_fd = STDERR_FILENO, .overrides = overrides, .secrets = secrets};
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 't':
            opts.template_path = optarg;
            break;
        case 'p':
            if (parse_port(optarg, &port)) {
                return 2;
            }
            break;
        case 's':
            opts.state_dir = optarg;
            break;
        case 'r':
            opts.region = optarg;
            break;
        case 'P':
            if (!add_option(overrides, &override_count, "parameter", optarg)) {
                return 2;
            }
            break;
        case 'S':
            if (!add_option(secrets, &secret_count, "secret", optarg)) {
                return 2;
            }
            break;
        case 'a':
            opts.aws_endpoint = optarg;
            break;
        case 'm':
            opts.max_instances = atoi(optarg);
            break;
        case 'b':
            opts.build_dir = optarg;
            break;
        default:
            fputs(start_usage, stderr);
            return 2;
        }
    }
    if (!opts.template_path) {
        fprintf(stderr, "emulator: start needs --template FILE\n\n%s", start_usage);
        return 2;
    }
    opts.port = (uint16_t)port;
    return run(&opts);
}

/* ---- talking to a running emulator ---- */

typedef struct response {
    long status;
    bool function_error;
    cs_buf body;
} response;

static size_t keep_body(char *data, size_t size, size_t n, void *user)
{
    response *r = user;
    return cs_buf_append(&r->body, data, size * n) ? 0 : size * n;
}

static size_t note_function_error(char *data, size_t size, size_t n, void *user)
{
    if (size * n >= 21 && strncasecmp(data, "X-Amz-Function-Error:", 21) == 0) {
        ((response *)user)->function_error = true;
    }
    return size * n;
}

/* POSTs body to the emulator (GET when body is NULL); false (with a
 * message) when it cannot be reached. out->body must be freed with
 * cs_buf_clean_up. */
static bool post(long port, const char *path, const char *header, const char *body, response *out)
{
    char url[1024];
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld%s", port, path);
    *out = (response){0};
    cs_buf_init(&out->body, 64 * 1024 * 1024);
    struct curl_slist *headers = curl_slist_append(NULL, header);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, note_function_error);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        fprintf(stderr, "emulator: %s: %s (is the emulator running?)\n", url,
                curl_easy_strerror(rc));
        cs_buf_clean_up(&out->body);
        return false;
    }
    return true;
}

/* Prints an error answer and returns 2; 0 for a 2xx. */
static int check(response *r)
{
    if (r->status >= 200 && r->status < 300) {
        return 0;
    }
    fprintf(stderr, "emulator: HTTP %ld: %.*s\n", r->status, (int)r->body.len,
            r->body.data ? r->body.data : "");
    cs_buf_clean_up(&r->body);
    return 2;
}

/* An SQS JSON request: {"k1":"v1",...} from NULL-terminated pairs. */
static bool sqs(long port, const char *operation, const char *const *pairs, response *out)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    for (size_t i = 0; pairs[i]; i += 2) {
        cs_json_write_key_c(&w, pairs[i]);
        cs_json_write_string_c(&w, pairs[i + 1]);
    }
    cs_json_write_object_end(&w);
    cs_diag diag;
    bool ok = !cs_json_writer_finish(&w, &diag);
    cs_json_writer_clean_up(&w);
    if (!ok) {
        fprintf(stderr, "emulator: %s\n", diag.message);
    }
    char header[128];
    snprintf(header, sizeof(header), "X-Amz-Target: AmazonSQS.%s", operation);
    ok = ok && post(port, "/", header, body.data, out);
    cs_buf_clean_up(&body);
    return ok;
}

static int call(const char *function, const char *payload, long port, bool event)
{
    char path[512];
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations", function);
    response r;
    if (!post(port, path,
              event ? "X-Amz-Invocation-Type: Event" : "X-Amz-Invocation-Type: RequestResponse",
              payload, &r)) {
        return 2;
    }
    if (check(&r)) {
        return 2;
    }
    if (!event) {
        printf("%.*s\n", (int)r.body.len, r.body.data ? r.body.data : "");
    }
    cs_buf_clean_up(&r.body);
    return r.function_error ? 1 : 0;
}

/* Options shared by the client commands: --port and one or two named
 * values. */
typedef struct client_opts {
    long port;
    const char *values[3]; /* in the order of names */
    bool flag;
} client_opts;

/* Parses --port, --NAME VALUE for each name, and --FLAG when flag_name is
 * set; -1 after printing why. */
static int parse_client(int argc, char **argv, const char *const names[3], const char *flag_name,
                        const char *usage_text, client_opts *out)
{
    struct option options[6] = {{"port", required_argument, NULL, 'p'}};
    int n = 1;
    for (int i = 0; i < 3 && names[i]; i++) {
        options[n++] = (struct option){names[i], required_argument, NULL, '0' + i};
    }
    if (flag_name) {
        options[n++] = (struct option){flag_name, no_argument, NULL, 'f'};
    }
    options[n] = (struct option){NULL, 0, NULL, 0};
    out->port = DEFAULT_PORT;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'p' && parse_port(optarg, &out->port) == 0) {
            continue;
        }
        if (c >= '0' && c <= '2') {
            out->values[c - '0'] = optarg;
        } else if (c == 'f') {
            out->flag = true;
        } else {
            fputs(usage_text, stderr);
            return -1;
        }
    }
    return 0;
}

static int require(const char *value, const char *option, const char *usage_text)
{
    if (!value) {
        fprintf(stderr, "emulator: --%s is required\n\n%s", option, usage_text);
        return -1;
    }
    return 0;
}

static int invoke(int argc, char **argv)
{
    static const char *const names[3] = {"function", "payload", NULL};
    client_opts o = {0};
    if (parse_client(argc, argv, names, "event", invoke_usage, &o) ||
        require(o.values[0], "function", invoke_usage)) {
        return 2;
    }
    return call(o.values[0], o.values[1] ? o.values[1] : "{}", o.port, o.flag);
}

static int fire(int argc, char **argv)
{
    static const char *const names[3] = {"rule", NULL, NULL};
    client_opts o = {0};
    if (parse_client(argc, argv, names, NULL, fire_usage, &o) ||
        require(o.values[0], "rule", fire_usage)) {
        return 2;
    }
    char path[512];
    snprintf(path, sizeof(path), "/_emulator/schedules/%s/fire", o.values[0]);
    response r;
    if (!post(o.port, path, "X-Emulator: cli", "", &r) || check(&r)) {
        return 2;
    }
    cs_buf_clean_up(&r.body);
    printf("fired %s\n", o.values[0]);
    return 0;
}

static int send_message(int argc, char **argv)
{
    static const char *const names[3] = {"queue", "body", NULL};
    client_opts o = {0};
    if (parse_client(argc, argv, names, NULL, send_usage, &o) ||
        require(o.values[0], "queue", send_usage) || require(o.values[1], "body", send_usage)) {
        return 2;
    }
    const char *pairs[] = {"QueueUrl", o.values[0], "MessageBody", o.values[1], NULL};
    response r;
    if (!sqs(o.port, "SendMessage", pairs, &r) || check(&r)) {
        return 2;
    }
    printf("%.*s\n", (int)r.body.len, r.body.data);
    cs_buf_clean_up(&r.body);
    return 0;
}

static int redrive(int argc, char **argv)
{
    static const char *const names[3] = {"dlq", "to", NULL};
    client_opts o = {0};
    if (parse_client(argc, argv, names, NULL, redrive_usage, &o) ||
        require(o.values[0], "dlq", redrive_usage)) {
        return 2;
    }
    char source[300], destination[300];
    snprintf(source, sizeof(source), "arn:aws:sqs:local:000000000000:%s", o.values[0]);
    snprintf(destination, sizeof(destination), "arn:aws:sqs:local:000000000000:%s",
             o.values[1] ? o.values[1] : "");
    const char *pairs[] = {"SourceArn", source, o.values[1] ? "DestinationArn" : NULL, destination,
                           NULL};
    response r;
    if (!sqs(o.port, "StartMessageMoveTask", pairs, &r) || check(&r)) {
        return 2;
    }
    cs_buf_clean_up(&r.body);
    printf("redrove %s\n", o.values[0]);
    return 0;
}

/* One row of `emulator queues`: the queue's counts from GetQueueAttributes. */
static void print_queue(long port, cs_str url)
{
    char name[256];
    snprintf(name, sizeof(name), "%.*s", CS_STR_FMT(cs_str_after_last(url, '/')));
    const char *pairs[] = {"QueueUrl", name, NULL};
    response r;
    if (!sqs(port, "GetQueueAttributes", pairs, &r) || check(&r)) {
        return;
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 0);
    cs_json *root;
    cs_str visible = CS_STR_NULL, hidden = CS_STR_NULL, delayed = CS_STR_NULL, policy = CS_STR_NULL;
    if (!cs_json_parse(&arena, cs_str_make(r.body.data, r.body.len), &root, NULL)) {
        cs_json_opt_string(root, "Attributes.ApproximateNumberOfMessages", &visible, NULL);
        cs_json_opt_string(root, "Attributes.ApproximateNumberOfMessagesNotVisible", &hidden, NULL);
        cs_json_opt_string(root, "Attributes.ApproximateNumberOfMessagesDelayed", &delayed, NULL);
        cs_json_opt_string(root, "Attributes.RedrivePolicy", &policy, NULL);
    }
    printf("%-40s %8.*s %9.*s %8.*s  %.*s\n", name, CS_STR_FMT(visible), CS_STR_FMT(hidden),
           CS_STR_FMT(delayed), CS_STR_FMT(policy));
    cs_arena_clean_up(&arena);
    cs_buf_clean_up(&r.body);
}

static int queues(int argc, char **argv)
{
    static const char *const names[3] = {NULL, NULL, NULL};
    client_opts o = {0};
    if (parse_client(argc, argv, names, NULL, queues_usage, &o)) {
        return 2;
    }
    const char *pairs[] = {NULL};
    response r;
    if (!sqs(o.port, "ListQueues", pairs, &r) || check(&r)) {
        return 2;
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 0);
    cs_json *root;
    printf("%-40s %8s %9s %8s  %s\n", "queue", "visible", "in-flight", "delayed", "redrive");
    if (!cs_json_parse(&arena, cs_str_make(r.body.data, r.body.len), &root, NULL)) {
        const cs_json *urls = cs_json_object_get(root, cs_str_from_c("QueueUrls"));
        for (const cs_json *u = urls ? urls->first : NULL; u; u = u->next) {
            print_queue(o.port, u->text);
        }
    }
    cs_arena_clean_up(&arena);
    cs_buf_clean_up(&r.body);
    return 0;
}

static void print_invocation(const cs_json *inv)
{
    cs_str time = CS_STR_NULL, function = CS_STR_NULL, id = CS_STR_NULL, outcome = CS_STR_NULL;
    cs_json_opt_string(inv, "time", &time, NULL);
    cs_json_opt_string(inv, "function", &function, NULL);
    cs_json_opt_string(inv, "requestId", &id, NULL);
    cs_json_opt_string(inv, "outcome", &outcome, NULL);
    const cs_json *duration = cs_json_object_get(inv, cs_str_from_c("durationMs"));
    const cs_json *init = cs_json_object_get(inv, cs_str_from_c("initMs"));
    printf("%.*s  %-24.*s %-36.*s %-10.*s %9.*s ms%s%.*s\n", CS_STR_FMT(time), CS_STR_FMT(function),
           CS_STR_FMT(id), CS_STR_FMT(outcome), duration ? (int)duration->text.len : 0,
           duration ? duration->text.ptr : "", init ? "  cold start, init " : "",
           init ? (int)init->text.len : 0, init ? init->text.ptr : "");
}

static int invocations(int argc, char **argv)
{
    static const char *const names[3] = {NULL, NULL, NULL};
    client_opts o = {0};
    response r;
    if (parse_client(argc, argv, names, NULL, invocations_usage, &o) ||
        !post(o.port, "/_emulator/invocations", "X-Emulator: cli", NULL, &r) || check(&r)) {
        return 2;
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 0);
    cs_json *root;
    if (!cs_json_parse(&arena, cs_str_make(r.body.data, r.body.len), &root, NULL)) {
        const cs_json *list = cs_json_object_get(root, cs_str_from_c("invocations"));
        for (const cs_json *inv = list ? list->first : NULL; inv; inv = inv->next) {
            print_invocation(inv);
        }
    }
    cs_arena_clean_up(&arena);
    cs_buf_clean_up(&r.body);
    return 0;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} command;

static const command commands[] = {
    {"start", start, start_usage},
    {"invoke", invoke, invoke_usage},
    {"send", send_message, send_usage},
    {"queues", queues, queues_usage},
    {"redrive", redrive, redrive_usage},
    {"fire", fire, fire_usage},
    {"invocations", invocations, invocations_usage},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const command *cmd = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cmd = &commands[i];
        }
    }
    if (!cmd) {
        fprintf(stderr, "emulator: unknown command '%s'\n\n%s", argv[1], usage);
        return 2;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(cmd->usage, stdout);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmd->run(argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
}
