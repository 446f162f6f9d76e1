/* Least privilege, checked against what the functions do: the project's
 * template under the emulator with its state in moto_server's DynamoDB and
 * S3 (recording every request), the shopify-exactmax integration driven
 * through orders, a bad order, stock, shipments, a backfill and replays.
 * Then tools/check_permissions.py holds each recorded call against the
 * role template.yaml gives its caller: one it does not allow fails, as
 * AccessDenied would in AWS. Secrets are checked on the way: the emulator
 * refuses any secret a role does not grant (emulator/secrets_api.h). */
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
#include "fixture.h"
#include "moto.h"
#include "net/aws.h"
#include "project_fixture.h"
#include "testing.h"

static moto peer;
static char dir[64], recording[96];

/* The table and bucket the emulator names the template's StateTable and
 * SnapshotBucket (Ref gives the logical id), created with the test's own
 * keys, which the check leaves aside. */
static int create_state(void)
{
    cs_http_client *http = cs_http_client_new(&(cs_http_options){.max_attempts = 2}, NULL);
    cs_aws aws;
    cs_diag diag;
    cs_error r = cs_aws_init(&aws, http, peer.endpoint, &diag);
    if (!r) {
        r = moto_create_state(&aws, "StateTable", "SnapshotBucket", &diag);
    }
    if (r) {
        fprintf(stderr, "%s\n", diag.message);
    }
    cs_http_client_destroy(http);
    return r ? -1 : 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cs-permissions-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(recording, sizeof(recording), "%s/recording.jsonl", dir);
    setenv("MOTO_ENABLE_RECORDING", "1", 1);
    setenv("MOTO_RECORDER_FILEPATH", recording, 1);
    int r = moto_start(&peer, false);
    unsetenv("MOTO_ENABLE_RECORDING");
    if (r || create_state()) {
        return -1;
    }
    /* No SQLite: the template's STATE_TABLE and SNAPSHOT_BUCKET, in moto. */
    static const char *const parameters[] = {"LocalStateDb=", "LocalSnapshotDir=", NULL};
    sb_opts sopts = {.shopify = {.seed = 11}};
    test_scenario.aws_endpoint = peer.endpoint;
    if (test_project_start_with(&test_scenario, &sopts, "shopify-exactmax", parameters)) {
        return -1;
    }
    return test_arena_setup(NULL);
}

static int teardown(void **state)
{
    int r = test_scenario_stop(state);
    moto_stop(&peer);
    char command[96];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    return system(command) == 0 ? r : -1;
}

/* Two orders through webhook-ingress into MAX, and one with SKUs the
 * config does not map, which goes to the error queue. */
static void export_orders(void)
{
    test_project_subscribe(&test_scenario, "us-store", "");
    for (int i = 0; i < 2; i++) {
        test_project_place_order(&test_scenario, "us-store", NULL);
    }
    size_t len;
    char *bad = fixture_read("shopify/order-webhook.json", &len);
    test_project_send_webhook(&test_scenario, cs_str_make(bad, len), "us-store.myshopify.com",
                              "permissions-bad-order");
    free(bad);
    size_t count = 0;
    for (int i = 0; i < 300 && count < 2; i++) {
        test_project_max_orders(&test_scenario, "CU", &count);
        usleep(count < 2 ? 100 * 1000 : 0);
    }
    assert_int_equal(count, 2);
    const char *log = NULL;
    for (int i = 0; i < 300; i++) {
        log = test_project_log(&test_scenario);
        if (strstr(log, "\"sourceId\":\"450789469\"") && strstr(log, "\"result\":\"failed\"")) {
            break;
        }
        usleep(100 * 1000);
    }
    assert_non_null(strstr(log, "\"result\":\"failed\""));
}

/* Orders of the last few days, loaded by backfill in pages of 50. */
static const char *backfill_range(void)
{
    char *payload = cs_arena_alloc(&test_arena, 256);
    int64_t now = cs_time_now_ms();
    test_backfill_payload(payload, 256, "permissions", now - 3LL * 86400000, now + 60000, 50, NULL);
    return payload;
}

static void every_call_is_one_its_role_allows(void **st)
{
    (void)st;
    export_orders();
    test_project_invoke(&test_scenario, "stock-update", "{}");
    long answered;
    test_project_sandbox_post(&test_scenario, "/_sandbox/exactmax/warehouse", "{}", &answered);
    assert_int_equal(answered, 200);
    test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    test_project_invoke(&test_scenario, "fulfillment-callback", "{\"replay\":{}}");
    test_project_invoke(&test_scenario, "backfill", backfill_range());
    /* The bad order is still bad: replay reads it and leaves it open. */
    test_project_invoke(&test_scenario, "backfill", "{\"replay\":{}}");

    char command[400], output[16384];
    snprintf(command, sizeof(command),
             "python3 tools/check_permissions.py template.yaml '%s' "
             "--require OrderExport,StockUpdate,FulfillmentCallback,Backfill 2>&1",
             recording);
    FILE *p = popen(command, "r");
    assert_non_null(p);
    size_t n = fread(output, 1, sizeof(output) - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    fprintf(stderr, "%s", output);
    assert_int_equal(status, 0);
    assert_non_null(strstr(output, "OrderExport: dynamodb:"));
    assert_non_null(strstr(output, " 0 problems"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_call_is_one_its_role_allows),
    };
    return cmocka_run_group_tests_name("permissions", tests, setup, teardown);
}
