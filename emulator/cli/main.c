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
    "\n"
    "Serves the template's functions on 127.0.0.1:N (default 3001; 0 picks a free\n"
    "port) with the Lambda Invoke API, until SIGINT or SIGTERM. Function output and\n"
    "START/END/REPORT lines go to stderr. Event invocations are kept in\n"
    "DIR/queues.db (default: the current directory) and survive a restart.\n";

static const char invoke_usage[] =
    "usage: emulator invoke --function NAME [--payload JSON] [--port N] [--event]\n"
    "\n"
    "Invokes NAME on the emulator at 127.0.0.1:N (default 3001) and prints its\n"
    "response. Exits 1 when the function failed, 2 when the call did. --event\n"
    "queues the invocation instead (Event) and prints nothing.\n";

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

static int start(int argc, char **argv)
{
    static const struct option options[] = {{"template", required_argument, NULL, 't'},
                                            {"port", required_argument, NULL, 'p'},
                                            {"state-dir", required_argument, NULL, 's'},
                                            {"region", required_argument, NULL, 'r'},
                                            {"parameter", required_argument, NULL, 'P'},
                                            {"max-instances", required_argument, NULL, 'm'},
                                            {NULL, 0, NULL, 0}};
    const char *overrides[MAX_OVERRIDES + 1] = {0};
    int override_count = 0;
    long port = DEFAULT_PORT;
    em_service_opts opts = {.log_fd = STDERR_FILENO, .overrides = overrides};
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
            if (override_count == MAX_OVERRIDES) {
                fprintf(stderr, "emulator: at most %d --parameter options\n", MAX_OVERRIDES);
                return 2;
            }
            overrides[override_count++] = optarg;
            break;
        case 'm':
            opts.max_instances = atoi(optarg);
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

static size_t print_body(char *data, size_t size, size_t n, void *user)
{
    (void)user;
    return fwrite(data, size, n, stdout) * size;
}

static size_t note_function_error(char *data, size_t size, size_t n, void *user)
{
    if (strncasecmp(data, "X-Amz-Function-Error:", 21) == 0) {
        *(bool *)user = true;
    }
    return size * n;
}

static int call(const char *function, const char *payload, long port, bool event)
{
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld/2015-03-31/functions/%s/invocations", port,
             function);
    struct curl_slist *headers = curl_slist_append(
        NULL, event ? "X-Amz-Invocation-Type: Event" : "X-Amz-Invocation-Type: RequestResponse");
    bool function_error = false;
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, print_body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, note_function_error);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &function_error);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        fprintf(stderr, "emulator: %s: %s (is the emulator running?)\n", url,
                curl_easy_strerror(rc));
        return 2;
    }
    if (!event) {
        putchar('\n');
    }
    return status >= 300 ? 2 : function_error ? 1 : 0;
}

static int invoke(int argc, char **argv)
{
    static const struct option options[] = {{"function", required_argument, NULL, 'f'},
                                            {"payload", required_argument, NULL, 'd'},
                                            {"port", required_argument, NULL, 'p'},
                                            {"event", no_argument, NULL, 'e'},
                                            {NULL, 0, NULL, 0}};
    const char *function = NULL, *payload = "{}";
    long port = DEFAULT_PORT;
    bool event = false;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'f') {
            function = optarg;
        } else if (c == 'd') {
            payload = optarg;
        } else if (c == 'p') {
            if (parse_port(optarg, &port)) {
                return 2;
            }
        } else if (c == 'e') {
            event = true;
        } else {
            fputs(invoke_usage, stderr);
            return 2;
        }
    }
    if (!function) {
        fprintf(stderr, "emulator: invoke needs --function NAME\n\n%s", invoke_usage);
        return 2;
    }
    return call(function, payload, port, event);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    const char *help = strcmp(command, "start") == 0    ? start_usage
                       : strcmp(command, "invoke") == 0 ? invoke_usage
                                                        : NULL;
    if (!help) {
        fprintf(stderr, "emulator: unknown command '%s'\n\n%s", command, usage);
        return 2;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(help, stdout);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = strcmp(command, "start") == 0 ? start(argc - 1, argv + 1) : invoke(argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
}
