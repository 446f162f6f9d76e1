/* backfill and order-export's reconciliation under the emulator, on the
 * project's template.yaml, against the sandbox's Shopify shops (160 seeded
 * orders each, over 60 days) and MAX:
 * - a backfill of the whole range makes one MAX sales order per Shopify
 *   order, resumes from its checkpoint, and a second run finds every order
 *   a duplicate; its progress is in the log;
 * - the reconciliation schedule finds an order whose webhook was lost;
 * - an order that failed for an unknown SKU is replayed: still failing, it
 *   stays open with one more attempt; after the mapping is fixed (and the
 *   functions redeployed), replay lands it and marks it replayed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/shopify/webhook.h"
#include "core/timestamp.h"
#include "fixture.h"
#include "project_fixture.h"
#include "testing.h"

enum { SEEDED_ORDERS = 3 * 160 };

static char config_path[64];

/* The integration's config with the reconciliation's settle time off (an
 * order placed a moment ago is polled at once), in a file of its own so
 * that a test can fix its mapping. */
static int setup(void **state)
{
    (void)state;
    static const char *const edits[] = {"\"sku_lookup\"", "\"reconcile_settle_seconds\": 0, ",
                                        NULL};
    return test_scenario_with_copy(config_path, "shopify-exactmax", edits);
}

static int teardown(void **state)
{
    unlink(config_path);
    return test_scenario_stop(state);
}

static const cs_json *invoke(const char *payload)
{
    return test_project_invoke(&test_scenario, "backfill", payload);
}

static bool flag(const cs_json *o, const char *key)
{
    bool b = false;
    cs_json_get_bool(o, key, &b, NULL);
    return b;
}

static char *range(const char *run, int page_size)
{
    char *payload = cs_arena_alloc(&test_arena, 256);
    int64_t now = cs_time_now_ms();
    test_backfill_payload(payload, 256, run, now - 70LL * 86400000, now + 60000, page_size);
    return payload;
}

static void a_backfill_loads_every_order_once(void **st)
{
    (void)st;
    const cs_json *first = invoke(range("all", 50));
    assert_true(flag(first, "complete"));
    assert_int_equal(test_json_int(first, "read"), SEEDED_ORDERS);
    size_t count;
    test_project_max_orders(&test_scenario, "CU", &count);
    assert_int_equal(count, SEEDED_ORDERS);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);

    /* The same run again starts at its checkpoint: nothing left to read. */
    const cs_json *again = invoke(range("all", 50));
    assert_true(flag(again, "complete"));
    assert_int_equal(test_json_int(again, "read"), 0);
    assert_int_equal(test_json_int(again, "done"), SEEDED_ORDERS);

    /* Another run reads them all, and every one is a duplicate. */
    const cs_json *other = invoke(range("other", 250));
    assert_int_equal(test_json_int(other, "read"), SEEDED_ORDERS);
    test_project_max_orders(&test_scenario, "CU", &count);
    assert_int_equal(count, SEEDED_ORDERS);

    const char *log = test_project_log(&test_scenario);
    assert_non_null(strstr(log, "\"message\":\"progress\""));
    assert_non_null(strstr(log, "\"run\":\"run:all\""));
    assert_non_null(strstr(log, "\"done\":480"));
}

/* An order placed with no webhook subscription, its webhook as good as
 * lost: the reconciliation poll exports it, and only it. */
static void reconciliation_finds_a_lost_order(void **st)
{
    (void)st;
    test_project_place_order(&test_scenario, "us-store", NULL);
    size_t before, after;
    test_project_max_orders(&test_scenario, "CU", &before);
    const cs_json *run = test_project_invoke(&test_scenario, "order-export", "{}");
    assert_true(flag(run, "complete"));
    assert_int_equal(test_json_int(run, "written"), 1);
    assert_int_equal(test_json_int(run, "failed"), 0);
    test_project_max_orders(&test_scenario, "CU", &after);
    assert_int_equal(after, before + 1);

    /* The next run starts after it: nothing new. */
    run = test_project_invoke(&test_scenario, "order-export", "{}");
    assert_int_equal(test_json_int(run, "read"), 0);
}

/* The fixture's order with SKUs MAX has no part for, as #95001 (the
 * sandbox's shops have seeded a #1001 of their own). */
static void send_unmapped_order(void)
{
    char *fixture = fixture_read("shopify/order-webhook.json", NULL);
    char *order = test_replace(fixture, "\"name\": \"#1001\"", "\"name\": \"#95001\"");
    order = test_replace(order, "\"order_number\": 1001", "\"order_number\": 95001");
    free(fixture);
    test_project_send_webhook(&test_scenario, cs_str_from_c(order), "us-store.myshopify.com",
                              "replay-me");
}

static void fix_mapping(void)
{
    assert_int_equal(test_config_edit(config_path, "\"SKU-0001\": \"P-SKU-0001\"",
                                      "\"IPOD2008GREEN\": \"P-SKU-0001\", "
                                      "\"IPOD2008RED\": \"P-SKU-0002\", "),
                     0);
}

static void replay_lands_a_fixed_order(void **st)
{
    (void)st;
    send_unmapped_order();
    cs_error_entry *entries = NULL;
    for (int i = 0; i < 100 && test_project_errors(&test_scenario, "open", &entries) == 0; i++) {
        usleep(100 * 1000);
    }
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1);
    assert_string_equal(entries[0].correlation_id, "shopify:us:450789469");

    /* Nothing fixed yet: it fails again and stays open, one attempt more. */
    const cs_json *first = invoke("{\"replay\":{}}");
    assert_int_equal(test_json_int(first, "entries"), 1);
    assert_int_equal(test_json_int(first, "failed"), 1);
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1);
    assert_int_equal(entries[0].attempts, 2);

    fix_mapping();
    assert_int_equal(test_project_restart(&test_scenario), 0);
    const cs_json *second = invoke("{\"replay\":{\"max\":10}}");
    assert_int_equal(test_json_int(second, "replayed"), 1);
    assert_int_equal(test_json_int(second, "failed"), 0);
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
    assert_int_equal(test_project_errors(&test_scenario, "replayed", &entries), 1);
    size_t count;
    const cs_json **orders = test_project_max_orders(&test_scenario, "CU", &count);
    size_t landed = 0;
    for (size_t i = 0; i < count; i++) {
        const cs_json *po = cs_json_object_get(orders[i], CS_STR_LIT("custPo"));
        landed += po && cs_str_eq_c(po->text, "us-95001");
    }
    assert_int_equal(landed, 1);
}

static void bad_requests_are_named(void **st)
{
    (void)st;
    char url[160];
    snprintf(url, sizeof(url), "%s/2015-03-31/functions/backfill/invocations",
             test_scenario.emulator_url);
    long status;
    char *answer =
        test_post(test_scenario.http, url, NULL,
                  "{\"run\":\"x\",\"from\":\"2026-13-01T00:00:00Z\",\"to\":\"x\"}", &status);
    assert_non_null(strstr(answer, "from"));
    answer = test_post(test_scenario.http, url, NULL,
                       "{\"run\":\"x\",\"from\":\"2026-02-01T00:00:00Z\","
                       "\"to\":\"2026-01-01T00:00:00Z\"}",
                       &status);
    assert_non_null(strstr(answer, "to: must be after from"));
    answer = test_post(test_scenario.http, url, NULL, "{\"replay\":{\"max\":0}}", &status);
    assert_non_null(strstr(answer, "replay.max"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_backfill_loads_every_order_once),
        cmocka_unit_test(reconciliation_finds_a_lost_order),
        cmocka_unit_test(replay_lands_a_fixed_order),
        cmocka_unit_test(bad_requests_are_named),
    };
    return cmocka_run_group_tests_name("backfill", tests, setup, teardown);
}
