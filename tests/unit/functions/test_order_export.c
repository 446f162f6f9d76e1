/* order-export under the emulator, on the project's template.yaml, against
 * the sandbox: Shopify webhooks delivered twice each onto the order queue
 * become exactly one MAX sales order per order; an order whose SKUs have no
 * part number lands once in the error queue with its snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/exactmax/client.h"
#include "connectors/shopify/webhook.h"
#include "core/timestamp.h"
#include "emulator/sandbox/exactmax.h"
#include "emulator/sandbox/sandbox.h"
#include "emulator/service.h"
#include "fixture.h"
#include "state/state.h"
#include "testing.h"

static const char secret[] = "order-export-app-secret";
static const char *const shops[] = {"us-store", "eu-store", "jp-store"};
enum { ORDERS_PER_SHOP = 10 };

static sb_sandbox *sandbox;
static em_service *emulator;
static cs_http_client *http;
static char dir[] = "/tmp/cs-order-export-XXXXXX";
static char sandbox_url[64], emulator_url[64], queue_url[128];

static int setup(void **st)
{
    cs_diag diag;
    sb_opts sopts = {.shopify = {.seed = 11}};
    if (!mkdtemp(dir) || sb_start(&sopts, &sandbox, &diag) ||
        !(http = cs_http_client_new(NULL, &diag))) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(sandbox_url, sizeof(sandbox_url), "http://127.0.0.1:%u", (unsigned)sb_port(sandbox));
    char params[5][256];
    snprintf(params[0], sizeof(params[0]), "ExactMaxUrl=%s/max/v1", sandbox_url);
    snprintf(params[1], sizeof(params[1]), "ExactMaxKey=%s", SB_EXACTMAX_KEY);
    snprintf(params[2], sizeof(params[2]), "ShopifyWebhookSecret=%s", secret);
    snprintf(params[3], sizeof(params[3]), "LocalStateDb=%s/state.db", dir);
    snprintf(params[4], sizeof(params[4]), "LocalSnapshotDir=%s/snapshots", dir);
    const char *overrides[] = {params[0], params[1], params[2], params[3], params[4], NULL};
    const char *build = getenv("BUILD");
    char build_dir[256];
    snprintf(build_dir, sizeof(build_dir), "%s/sam", build ? build : "build");
    em_service_opts opts = {.template_path = "template.yaml",
                            .state_dir = dir,
                            .log_fd = 2,
                            .overrides = overrides,
                            .build_dir = build_dir};
    if (em_service_start(&opts, NULL, &emulator, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(emulator_url, sizeof(emulator_url), "http://127.0.0.1:%u",
             (unsigned)em_service_port(emulator));
    snprintf(queue_url, sizeof(queue_url), "%s/000000000000/order-events", emulator_url);
    return test_arena_setup(st);
}

static int teardown(void **st)
{
    em_service_stop(emulator);
    sb_stop(sandbox);
    cs_http_client_destroy(http);
    char command[96];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    return system(command) == 0 ? test_arena_teardown(st) : -1;
}

static char *sandbox_post(const char *path, const char *body, long *status)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", sandbox_url, path);
    return test_post(http, url, NULL, body, status);
}

/* The bad order, signed as Shopify signs it, sent twice to the queue. */
static void send_unmapped_order(void)
{
    size_t len;
    char *order = fixture_read("shopify/order-webhook.json", &len);
    char hmac[45];
    cs_shopify_webhook_sign(cs_str_make(order, len), cs_str_from_c(secret), hmac);
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "QueueUrl");
    cs_json_write_string_c(&w, queue_url);
    cs_json_write_key_c(&w, "MessageBody");
    cs_json_write_string(&w, cs_str_make(order, len));
    cs_json_write_key_c(&w, "MessageAttributes");
    cs_json_write_object_begin(&w);
    const char *attributes[][2] = {{"X-Shopify-Topic", "orders/create"},
                                   {"X-Shopify-Hmac-Sha256", hmac},
                                   {"X-Shopify-Shop-Domain", "us-store.myshopify.com"},
                                   {"X-Shopify-Webhook-Id", "b54557e4-bad-order"},
                                   {"X-Shopify-API-Version", "2026-01"}};
    for (size_t i = 0; i < 5; i++) {
        cs_json_write_key_c(&w, attributes[i][0]);
        cs_json_write_object_begin(&w);
        cs_json_write_key_c(&w, "DataType");
        cs_json_write_string_c(&w, "String");
        cs_json_write_key_c(&w, "StringValue");
        cs_json_write_string_c(&w, attributes[i][1]);
        cs_json_write_object_end(&w);
    }
    cs_json_write_object_end(&w);
    cs_json_write_object_end(&w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    cs_json_writer_clean_up(&w);
    char url[96];
    snprintf(url, sizeof(url), "%s/", emulator_url);
    for (int i = 0; i < 2; i++) {
        long status;
        test_post(http, url, "AmazonSQS.SendMessage", body.data, &status);
        assert_int_equal(status, 200);
    }
    cs_buf_clean_up(&body);
    free(order);
}

/* Every customer order MAX holds whose customer PO starts with a store
 * code; fails on a repeated PO. */
static size_t web_orders_in_max(void)
{
    char url[96];
    snprintf(url, sizeof(url), "%s/max/v1", sandbox_url);
    cs_diag diag;
    cs_exactmax_config config = {.base_url = url, .key = CS_STR_LIT(SB_EXACTMAX_KEY)};
    cs_exactmax *max = cs_exactmax_new(http, &config, &diag);
    assert_non_null(max);
    cs_exactmax_cursor cursor = {0};
    char seen[64][24];
    size_t n = 0;
    for (bool more = true; more;) {
        const cs_json *items;
        if (cs_exactmax_page(max, "sales-orders", "CU", 100, &cursor, &test_arena, &items, &more,
                             &diag)) {
            fail_msg("%s", diag.message);
        }
        for (const cs_json *o = items->first; o; o = o->next) {
            cs_str po = CS_STR_NULL;
            cs_json_opt_string(o, "custPo", &po, NULL);
            if (po.len < 3 || po.ptr[2] != '-') {
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                if (cs_str_eq_c(po, seen[k])) {
                    fail_msg("customer PO %.*s is in MAX twice", CS_STR_FMT(po));
                }
            }
            assert_true(n < 64);
            snprintf(seen[n++], sizeof(seen[0]), "%.*s", CS_STR_FMT(po));
        }
    }
    cs_exactmax_destroy(max);
    return n;
}

static size_t open_errors(cs_state *state, cs_error_entry **entries)
{
    size_t count = 0;
    cs_diag diag;
    if (cs_state_error_list(state, "open", 16, &test_arena, entries, &count, &diag)) {
        fail_msg("%s", diag.message);
    }
    return count;
}

static void each_order_lands_once(void **st)
{
    (void)st;
    long status;
    char subscribe[512], path[96];
    snprintf(subscribe, sizeof(subscribe),
             "{\"address\":\"sqs:%s\",\"secret\":\"%s\",\"duplicates\":1}", queue_url, secret);
    for (size_t s = 0; s < 3; s++) {
        snprintf(path, sizeof(path), "/_sandbox/shopify/%s/webhooks", shops[s]);
        sandbox_post(path, subscribe, &status);
        assert_int_equal(status, 204);
    }
    for (int i = 0; i < ORDERS_PER_SHOP; i++) {
        for (size_t s = 0; s < 3; s++) {
            snprintf(path, sizeof(path), "/_sandbox/shopify/%s/orders", shops[s]);
            sandbox_post(path, "{}", &status);
            assert_int_equal(status, 200);
        }
    }
    send_unmapped_order();

    char db[96], snapshots[96];
    snprintf(db, sizeof(db), "%s/state.db", dir);
    snprintf(snapshots, sizeof(snapshots), "%s/snapshots", dir);
    size_t want = 3 * ORDERS_PER_SHOP, orders = 0, errors = 0;
    cs_error_entry *entries = NULL;
    int64_t give_up = cs_time_monotonic_ms() + 60000;
    while ((orders < want || errors < 1) && cs_time_monotonic_ms() < give_up) {
        usleep(200 * 1000);
        orders = web_orders_in_max();
        cs_state *state;
        if (access(db, F_OK) == 0 && !cs_state_open_sqlite(db, snapshots, &state, NULL)) {
            errors = open_errors(state, &entries);
            cs_state_close(state);
        }
    }
    usleep(1500 * 1000); /* late duplicates would land by now */
    assert_int_equal(web_orders_in_max(), want);
    assert_int_equal(errors, 1);
    assert_string_equal(entries[0].flow, "order-export");
    assert_string_equal(entries[0].code, "InvalidArgument");
    assert_non_null(strstr(entries[0].message, "unknown_sku"));
    assert_non_null(strstr(entries[0].message, "IPOD2008GREEN"));

    cs_state *state;
    assert_int_equal(cs_state_open_sqlite(db, snapshots, &state, NULL), CS_ERR_OK);
    cs_buf snapshot;
    cs_buf_init(&snapshot, 0);
    cs_error_entry entry;
    assert_int_equal(
        cs_state_error_get(state, entries[0].correlation_id, &test_arena, &entry, &snapshot, NULL),
        CS_ERR_OK);
    assert_int_equal(entry.attempts, 2); /* delivered twice, queued once */
    const cs_json *saved = test_parse(&test_arena, snapshot.data, snapshot.len);
    cs_str body = CS_STR_NULL;
    assert_int_equal(cs_json_get_string(saved, "body", &body, NULL), CS_ERR_OK);
    size_t len;
    char *order = fixture_read("shopify/order-webhook.json", &len);
    assert_true(cs_str_eq(body, cs_str_make(order, len)));
    free(order);
    cs_buf_clean_up(&snapshot);
    cs_state_close(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_order_lands_once),
    };
    return cmocka_run_group_tests_name("order_export", tests, setup, teardown);
}
