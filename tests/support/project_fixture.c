#include "project_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/exactmax/client.h"
#include "connectors/shopify/webhook.h"
#include "core/money.h"
#include "core/timestamp.h"
#include "emulator/sandbox/exactmax.h"
#include "net/aws.h"
#include "fixture.h"
#include "testing.h"

enum { PARAMS = 10 };
/* params hold a config path (160) and its parameter name. */

/* The template's parameters that point the functions at the sandbox. */
static void parameters(const test_project *p, const char *config, char params[PARAMS][256])
{
    const char *url = p->sandbox_url;
    if (config[0] == '/') {
        snprintf(params[0], 256, "IntegrationConfig=%s", config);
    } else {
        snprintf(params[0], 256, "IntegrationConfig=config/%s.json", config);
    }
    snprintf(params[1], 256, "ExactMaxUrl=%s/max/v1", url);
    snprintf(params[2], 256, "CommercetoolsAuthUrl=%s/commercetools/oauth/token", url);
    snprintf(params[3], 256, "CommercetoolsApiUrl=%s/commercetools/cs-sandbox", url);
    snprintf(params[4], 256, "CommercetoolsClientId=sandbox-client");
    snprintf(params[5], 256, "LocalStateDb=%s/state.db", p->dir);
    snprintf(params[6], 256, "LocalSnapshotDir=%s/snapshots", p->dir);
    /* A retry comes back in seconds, not minutes. */
    snprintf(params[7], 256, "QueueVisibilityTimeout=2");
    snprintf(params[8], 256, "ShopifyAdminUrl=%s/shopify/{shop}", url);
    snprintf(params[9], 256, "Architecture=x86_64");
}

/* The template's secrets, as the sandbox's systems expect them. */
static const char *const secrets[] = {
    "ExactMaxKeySecret=" SB_EXACTMAX_KEY, "ShopifyAppSecret=" TEST_WEBHOOK_SECRET,
    "ShopifyTokensSecret={\"us\":\"shpat_sandbox_us-store\",\"eu\":\"shpat_sandbox_eu-store\","
    "\"jp\":\"shpat_sandbox_jp-store\"}",
    "CommercetoolsSecret=sandbox-secret", NULL};

/* The functions' output goes to stderr, as it comes, and to functions.log
 * for test_project_log. */
static void *copy_log(void *arg)
{
    test_project *p = arg;
    char chunk[4096];
    ssize_t n;
    while ((n = read(p->log_pipe[0], chunk, sizeof(chunk))) > 0) {
        if (write(2, chunk, (size_t)n) < 0 || write(p->log_file, chunk, (size_t)n) < 0) {
            break;
        }
    }
    return NULL;
}

static int start_log(test_project *p)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/functions.log", p->dir);
    p->log_file = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
    if (p->log_file < 0 || pipe2(p->log_pipe, O_CLOEXEC) != 0 ||
        pthread_create(&p->log_thread, NULL, copy_log, p) != 0) {
        perror("functions.log");
        return -1;
    }
    p->logging = true;
    return 0;
}

static void stop_log(test_project *p)
{
    if (p->logging) {
        close(p->log_pipe[1]);
        pthread_join(p->log_thread, NULL);
        close(p->log_pipe[0]);
        close(p->log_file);
        p->logging = false;
    }
}

char *test_project_log(const test_project *p)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/functions.log", p->dir);
    FILE *f = fopen(path, "rb");
    char *text = cs_arena_alloc(&test_arena, TEST_LOG_MAX + 1);
    size_t n = f ? fread(text, 1, TEST_LOG_MAX, f) : 0;
    text[n] = '\0';
    if (f) {
        fclose(f);
    }
    return text;
}

/* The emulator on the template, with the project's parameters; on `port`
 * (0: the OS picks). */
static int start_emulator(test_project *p, uint16_t port)
{
    char params[PARAMS][256];
    parameters(p, p->config, params);
    /* The template takes the first value given for a parameter. */
    const char *overrides[PARAMS + 16 + 1] = {NULL};
    size_t n = 0;
    for (const char *const *extra = p->parameters; extra && *extra && n < 16; extra++) {
        overrides[n++] = *extra;
    }
    for (size_t i = 0; i < PARAMS; i++) {
        overrides[n++] = params[i];
    }
    /* The functions as make builds them, or (CS_FUNCTIONS_DIR) another
     * directory of <LogicalId>/bootstrap, such as unpacked packages. */
    const char *build = getenv("BUILD"), *functions = getenv("CS_FUNCTIONS_DIR");
    char build_dir[256];
    snprintf(build_dir, sizeof(build_dir), "%s%s",
             functions ? functions
             : build   ? build
                       : "build",
             functions ? "" : "/sam");
    em_service_opts opts = {.template_path = "template.yaml",
                            .port = port,
                            .state_dir = p->dir,
                            .log_fd = p->log_pipe[1],
                            .overrides = overrides,
                            .build_dir = build_dir,
                            .secrets = secrets,
                            .aws_endpoint = p->aws_endpoint};
    cs_diag diag;
    if (em_service_start(&opts, NULL, &p->emulator, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(p->emulator_url, sizeof(p->emulator_url), "http://127.0.0.1:%u",
             (unsigned)em_service_port(p->emulator));
    return 0;
}

int test_project_start(test_project *p, const sb_opts *sandbox, const char *config)
{
    return test_project_start_with(p, sandbox, config, NULL);
}

int test_project_start_with(test_project *p, const sb_opts *sandbox, const char *config,
                            const char *const *parameters)
{
    const char *aws_endpoint = p->aws_endpoint;
    memset(p, 0, sizeof(*p));
    p->parameters = parameters;
    p->aws_endpoint = aws_endpoint;
    snprintf(p->dir, sizeof(p->dir), "/tmp/cs-project-XXXXXX");
    snprintf(p->config, sizeof(p->config), "%s", config);
    cs_diag diag;
    /* An invocation may take as long as the template lets a function run
     * (15 minutes): sent again after the default 30 s, it would run twice. */
    cs_http_options http = {.attempt_timeout_ms = 960000};
    if (!mkdtemp(p->dir) || sb_start(sandbox, &p->sandbox, &diag) ||
        !(p->http = cs_http_client_new(&http, &diag))) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(p->sandbox_url, sizeof(p->sandbox_url), "http://127.0.0.1:%u",
             (unsigned)sb_port(p->sandbox));
    return start_log(p) ? -1 : start_emulator(p, 0);
}

int test_project_restart(test_project *p)
{
    uint16_t port = em_service_port(p->emulator);
    em_service_stop(p->emulator);
    p->emulator = NULL;
    return start_emulator(p, port);
}

void test_project_stop(test_project *p)
{
    em_service_stop(p->emulator);
    stop_log(p);
    sb_stop(p->sandbox);
    cs_http_client_destroy(p->http);
    char command[64];
    snprintf(command, sizeof(command), "rm -rf '%s'", p->dir);
    if (p->dir[0] && system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", p->dir);
    }
}

int test_config_edit(const char *path, const char *before, const char *insert)
{
    char *text = fixture_read_absolute(path);
    bool ok = text && test_write_with(path, text, before, insert);
    free(text);
    return ok ? 0 : -1;
}

int test_config_copy(char *path, const char *integration, const char *const *edits)
{
    snprintf(path, 64, "/tmp/cs-config-XXXXXX.json");
    int fd = mkstemps(path, 5);
    char source[128];
    snprintf(source, sizeof(source), "../../infra/config/%s.json", integration);
    char *text = fixture_read(source, NULL);
    bool ok = fd >= 0 && text && test_write_with(path, text, "{", "");
    free(text);
    if (fd >= 0) {
        close(fd);
    }
    for (size_t i = 0; ok && edits && edits[i]; i += 2) {
        ok = test_config_edit(path, edits[i], edits[i + 1]) == 0;
    }
    return ok ? 0 : -1;
}

test_project test_scenario;
char test_scenario_queue[128];

static int scenario(const char *config)
{
    sb_opts sopts = {.shopify = {.seed = 11}};
    if (test_project_start(&test_scenario, &sopts, config)) {
        return -1;
    }
    test_project_queue_url(&test_scenario, "order-events", test_scenario_queue,
                           sizeof(test_scenario_queue));
    return test_arena_setup(NULL);
}

int test_scenario_shopify(void **state)
{
    (void)state;
    return scenario("shopify-exactmax");
}

int test_scenario_commercetools(void **state)
{
    (void)state;
    return scenario("commercetools-exactmax");
}

int test_scenario_with_copy(char *config_path, const char *integration, const char *const *edits)
{
    sb_opts sopts = {.shopify = {.seed = 11}};
    if (test_config_copy(config_path, integration, edits) ||
        test_project_start(&test_scenario, &sopts, config_path)) {
        return -1;
    }
    return test_arena_setup(NULL);
}

int test_scenario_stop(void **state)
{
    test_project_stop(&test_scenario);
    return test_arena_teardown(state);
}

void test_project_queue_url(const test_project *p, const char *queue, char *out, size_t len)
{
    snprintf(out, len, "%s/000000000000/%s", p->emulator_url, queue);
}

char *test_project_sandbox_post(test_project *p, const char *path, const char *body, long *status)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", p->sandbox_url, path);
    return test_post(p->http, url, NULL, body, status);
}

const cs_json *test_project_place_order(test_project *p, const char *shop, char **text)
{
    char path[96];
    long status;
    snprintf(path, sizeof(path), "/_sandbox/shopify/%s/orders", shop);
    char *answer = test_project_sandbox_post(p, path, "{}", &status);
    assert_int_equal(status, 200);
    if (text) {
        *text = answer;
    }
    return test_parse(&test_arena, answer, strlen(answer));
}

const cs_json *test_project_place_ct_order(test_project *p)
{
    long status;
    char *answer = test_project_sandbox_post(p, "/_sandbox/commercetools/orders", "{}", &status);
    assert_int_equal(status, 201);
    return test_parse(&test_arena, answer, strlen(answer));
}

cs_commercetools *test_project_commercetools(test_project *p)
{
    char auth[128], api[128];
    snprintf(auth, sizeof(auth), "%s/commercetools/oauth/token", p->sandbox_url);
    snprintf(api, sizeof(api), "%s/commercetools/cs-sandbox", p->sandbox_url);
    cs_commercetools_config config = {.auth_url = auth,
                                      .api_url = api,
                                      .client_id = CS_STR_LIT("sandbox-client"),
                                      .client_secret = CS_STR_LIT("sandbox-secret")};
    cs_commercetools *ct = cs_commercetools_new(p->http, &config, NULL);
    assert_non_null(ct);
    return ct;
}

void test_project_send(test_project *p, const char *queue_url, cs_str body,
                       const char *const *attributes)
{
    cs_sqs_attr attrs[16];
    size_t n = 0;
    for (size_t i = 0; attributes && attributes[i] && n < 16; i += 2) {
        attrs[n++] = (cs_sqs_attr){cs_str_from_c(attributes[i]), cs_str_from_c(attributes[i + 1])};
    }
    cs_buf request;
    cs_buf_init(&request, 0);
    assert_int_equal(cs_sqs_send_request(cs_str_from_c(queue_url), body, attrs, n, &request, NULL),
                     CS_ERR_OK);
    char url[96];
    snprintf(url, sizeof(url), "%s/", p->emulator_url);
    long status;
    test_post(p->http, url, "AmazonSQS.SendMessage", request.data, &status);
    assert_int_equal(status, 200);
    cs_buf_clean_up(&request);
}

void test_project_send_webhook(test_project *p, cs_str body, const char *shop_domain,
                               const char *webhook_id)
{
    char hmac[45];
    cs_shopify_webhook_sign(body, CS_STR_LIT(TEST_WEBHOOK_SECRET), hmac);
    const char *attributes[] = {"X-Shopify-Topic",
                                "orders/create",
                                "X-Shopify-Hmac-Sha256",
                                hmac,
                                "X-Shopify-Shop-Domain",
                                shop_domain,
                                "X-Shopify-Webhook-Id",
                                webhook_id,
                                "X-Shopify-API-Version",
                                "2026-01",
                                NULL};
    char queue[128];
    test_project_queue_url(p, "order-events", queue, sizeof(queue));
    test_project_send(p, queue, body, attributes);
}

void test_backfill_payload(char *out, size_t len, const char *run, int64_t from_ms, int64_t to_ms,
                           int page_size, const char *entities)
{
    char from[CS_TIME_RFC3339_MAX], to[CS_TIME_RFC3339_MAX];
    cs_time_format_rfc3339(from_ms, 0, from);
    cs_time_format_rfc3339(to_ms, 0, to);
    snprintf(out, len, "{\"run\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"page_size\":%d%s%s}", run,
             from, to, page_size, entities ? ",\"entities\":" : "", entities ? entities : "");
}

void test_project_subscribe(test_project *p, const char *shop, const char *extra)
{
    char subscribe[512], path[96];
    snprintf(subscribe, sizeof(subscribe),
             "{\"address\":\"%s/_url/webhook-ingress/\",\"secret\":\"%s\"%s%s}", p->emulator_url,
             TEST_WEBHOOK_SECRET, extra[0] ? "," : "", extra);
    snprintf(path, sizeof(path), "/_sandbox/shopify/%s/webhooks", shop);
    long status;
    test_project_sandbox_post(p, path, subscribe, &status);
    assert_int_equal(status, 204);
}

const cs_json *test_project_invoke(test_project *p, const char *function, const char *payload)
{
    char url[160];
    snprintf(url, sizeof(url), "%s/2015-03-31/functions/%s/invocations", p->emulator_url, function);
    long status;
    char *answer = test_post(p->http, url, NULL, payload, &status);
    if (status != 200 || strncmp(answer, "{\"errorMessage\"", 16) == 0) {
        fail_msg("%s answered %ld: %s", function, status, answer);
    }
    return test_parse(&test_arena, answer, strlen(answer));
}

/* The emulator forks instances from this process: they are its children,
 * each running $BUILD/sam/<LogicalId>/bootstrap. */
size_t test_project_function_pids(const char *logical_id, pid_t *pids, size_t max)
{
    char suffix[96];
    snprintf(suffix, sizeof(suffix), "/%s/bootstrap", logical_id);
    DIR *proc = opendir("/proc");
    size_t n = 0;
    for (struct dirent *d; proc && n < max && (d = readdir(proc));) {
        char path[64], exe[512], line[256];
        int pid = atoi(d->d_name), ppid = 0;
        snprintf(path, sizeof(path), "/proc/%d/exe", pid);
        ssize_t len = pid > 0 ? readlink(path, exe, sizeof(exe) - 1) : -1;
        exe[len > 0 ? len : 0] = '\0';
        size_t exe_len = strlen(exe);
        if (exe_len < strlen(suffix) || strcmp(exe + exe_len - strlen(suffix), suffix) != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f) && sscanf(line, "PPid: %d", &ppid) != 1) {
        }
        if (f) {
            fclose(f);
        }
        if (ppid == getpid()) {
            pids[n++] = pid;
        }
    }
    if (proc) {
        closedir(proc);
    }
    return n;
}

cs_state *test_project_state(const test_project *p)
{
    char db[64], snapshots[64];
    snprintf(db, sizeof(db), "%s/state.db", p->dir);
    snprintf(snapshots, sizeof(snapshots), "%s/snapshots", p->dir);
    cs_state *state = NULL;
    if (access(db, F_OK) != 0 || cs_state_open_sqlite(db, snapshots, &state, NULL)) {
        return NULL;
    }
    return state;
}

const char *test_project_link(const test_project *p, const char *entity, const char *key)
{
    cs_state *state = test_project_state(p);
    char *id = cs_arena_alloc(&test_arena, 64);
    bool found = false;
    assert_non_null(state);
    assert_int_equal(cs_state_idmap_get(state, entity, CS_SYS_SHOPIFY, cs_str_from_c(key),
                                        CS_SYS_EXACTMAX, id, 64, &found, NULL),
                     CS_ERR_OK);
    cs_state_close(state);
    return found ? id : "";
}

cs_exactmax *test_project_max(test_project *p)
{
    char url[96];
    snprintf(url, sizeof(url), "%s/max/v1", p->sandbox_url);
    cs_diag diag;
    cs_exactmax_config config = {.base_url = url, .key = CS_STR_LIT(SB_EXACTMAX_KEY)};
    cs_exactmax *max = cs_exactmax_new(p->http, &config, &diag);
    assert_non_null(max);
    return max;
}

const cs_json **test_project_max_orders(test_project *p, const char *s_type, size_t *count)
{
    return test_project_max_records(p, "sales-orders", s_type, count);
}

const cs_json **test_project_max_records(test_project *p, const char *resource, const char *s_type,
                                         size_t *count)
{
    cs_diag diag;
    cs_exactmax *max = test_project_max(p);
    cs_exactmax_cursor cursor = {0};
    size_t n = 0, capacity = 0;
    const cs_json **out = NULL;
    for (bool more = true; more;) {
        const cs_json *items;
        if (cs_exactmax_page(max, resource, s_type, 500, &cursor, &test_arena, &items, &more,
                             &diag)) {
            fail_msg("%s", diag.message);
        }
        for (const cs_json *o = items->first; o; o = o->next) {
            if (n == capacity) {
                capacity = capacity ? 2 * capacity : 64;
                const cs_json **grown = cs_arena_alloc(&test_arena, capacity * sizeof(*out));
                assert_non_null(grown);
                if (n) {
                    memcpy(grown, out, n * sizeof(*out));
                }
                out = grown;
            }
            out[n++] = o;
        }
    }
    cs_exactmax_destroy(max);
    *count = n;
    return out;
}

int64_t test_max_order_amount(const cs_json *order)
{
    const cs_json *curr = cs_json_object_get(order, CS_STR_LIT("curr"));
    const cs_currency *c = curr ? cs_currency_find(curr->text) : NULL;
    assert_non_null(c);
    int64_t sum = 0;
    for (const cs_json *l = cs_json_object_get(order, CS_STR_LIT("lines"))->first; l; l = l->next) {
        const cs_json *price = cs_json_object_get(l, CS_STR_LIT("price"));
        const cs_json *qty = cs_json_object_get(l, CS_STR_LIT("qty"));
        int64_t p, q;
        assert_true(price && qty);
        assert_int_equal(cs_decimal_parse(price->text, c->exponent, &p, NULL), CS_ERR_OK);
        assert_int_equal(cs_decimal_parse(qty->text, 0, &q, NULL), CS_ERR_OK);
        sum += p * q;
    }
    return sum;
}

size_t test_project_errors(test_project *p, const char *status, cs_error_entry **entries)
{
    cs_state *state = test_project_state(p);
    size_t count = 0;
    cs_diag diag;
    if (state && cs_state_error_list(state, status, 2000, &test_arena, entries, &count, &diag)) {
        fail_msg("%s", diag.message);
    }
    cs_state_close(state);
    return count;
}
