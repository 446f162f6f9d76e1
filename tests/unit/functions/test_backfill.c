/* backfill and order-export's reconciliation under the emulator, on the
 * project's template.yaml, against the sandbox's Shopify shops (160 seeded
 * orders each, over 60 days) and MAX:
 * - a backfill of the whole range makes one MAX sales order per Shopify
 *   order, resumes from its checkpoint, and a second run finds every order
 *   a duplicate; its progress is in the log;
 * - the reconciliation schedule finds an order whose webhook was lost;
 * - an order that failed for an unknown SKU is replayed: still failing, it
 *   stays open with one more attempt; after the mapping is fixed (and the
 *   functions redeployed), replay lands it and marks it replayed;
 * - customers get one MAX account each;
 * - every variant of the shops' catalogs is linked to its MAX part, and
 *   one whose SKU maps to a part MAX has not got is in the error queue
 *   until the mapping is fixed. */
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

enum { SEEDED_ORDERS = 3 * 160, CATALOG = 3 * 24 };

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

static char *range_of(const char *run, int page_size, const char *entities)
{
    char *payload = cs_arena_alloc(&test_arena, 256);
    int64_t now = cs_time_now_ms();
    test_backfill_payload(payload, 256, run, now - 70LL * 86400000, now + 60000, page_size,
                          entities);
    return payload;
}

static char *range(const char *run, int page_size)
{
    return range_of(run, page_size, NULL);
}

static const cs_json *orders_of(const cs_json *answer)
{
    const cs_json *orders = cs_json_object_get(answer, CS_STR_LIT("orders"));
    assert_non_null(orders);
    return orders;
}

static void a_backfill_loads_every_order_once(void **st)
{
    (void)st;
    const cs_json *first = invoke(range("all", 50));
    assert_true(flag(first, "complete"));
    assert_int_equal(test_json_int(orders_of(first), "read"), SEEDED_ORDERS);
    int64_t customers = test_json_int(cs_json_object_get(first, CS_STR_LIT("customers")), "read");
    assert_true(customers > 0); /* those updated in the range, before the orders */
    /* And the whole catalog: every variant of the three shops. */
    const cs_json *products = cs_json_object_get(first, CS_STR_LIT("products"));
    assert_int_equal(test_json_int(products, "read"), CATALOG);
    assert_int_equal(test_json_int(first, "read"), SEEDED_ORDERS + customers + CATALOG);
    size_t count;
    test_project_max_orders(&test_scenario, "CU", &count);
    assert_int_equal(count, SEEDED_ORDERS);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);

    /* The same run again starts at its checkpoint: nothing left to read. */
    const cs_json *again = invoke(range("all", 50));
    assert_true(flag(again, "complete"));
    assert_int_equal(test_json_int(again, "read"), 0);
    assert_int_equal(test_json_int(orders_of(again), "done"), SEEDED_ORDERS);

    /* Another run reads them all, and every one is a duplicate. */
    const cs_json *other = invoke(range("other", 250));
    assert_int_equal(test_json_int(orders_of(other), "read"), SEEDED_ORDERS);
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

/* ---- customers into MAX accounts ---- */

static const cs_json *customers_run(const char *run)
{
    const cs_json *answer = invoke(range_of(run, 100, "[\"customers\"]"));
    assert_true(flag(answer, "complete"));
    return answer;
}

static const cs_json *account(const char *cust_id)
{
    size_t n;
    const cs_json **all = test_project_max_records(&test_scenario, "customers", NULL, &n);
    for (size_t i = 0; i < n; i++) {
        if (cs_str_eq_c(test_json_text(all[i], "custId"), cust_id)) {
            return all[i];
        }
    }
    fail_msg("no MAX account %s", cust_id);
    return NULL;
}

/* A MAX user's change to an account (fields as JSON members). */
static void max_edit(const char *cust_id, const char *fields, bool create)
{
    cs_exactmax *max = test_project_max(&test_scenario);
    char body[256];
    snprintf(body, sizeof(body), "{%s}", fields);
    const cs_json *answer;
    cs_diag diag;
    cs_str version = create ? CS_STR_NULL : test_json_text(account(cust_id), "rowVersion");
    assert_int_equal(cs_exactmax_put_customer(max, cs_str_from_c(cust_id), cs_str_from_c(body),
                                              version, &test_arena, &answer, &diag),
                     CS_ERR_OK);
    cs_exactmax_destroy(max);
}

static size_t accounts(void)
{
    size_t n;
    test_project_max_records(&test_scenario, "customers", NULL, &n);
    return n;
}

/* Each Shopify customer gets one MAX account, whatever the runs; MAX keeps
 * what it owns (terms), the storefront what it owns (the contact's name);
 * a customer two accounts claim goes to the error queue, never merged, and
 * lands on its account by replay once MAX is fixed. */
static void customers_get_one_account_each(void **st)
{
    (void)st;
    size_t before = accounts();
    int64_t read = test_json_int(customers_run("c1"), "read");
    /* The load in the first test linked them all already. */
    assert_int_equal(accounts(), before);
    assert_true(read > 0);

    const char *log = test_project_log(&test_scenario);
    const char *line = strstr(log, "\"correlationId\":\"customer:shopify:us:");
    assert_non_null(line);
    char key[64], cust_id[16];
    assert_int_equal(sscanf(line, "\"correlationId\":\"%63[^\"]", key), 1);
    const char *target = strstr(line, "\"targetId\":\"");
    assert_int_equal(sscanf(target, "\"targetId\":\"%15[^\"]", cust_id), 1);
    cs_str email = test_json_text(account(cust_id), "email");
    cs_str contact = test_json_text(account(cust_id), "cntct");
    assert_true(email.len > 0);

    /* MAX's user changes the terms (MAX's) and the contact (Shopify's). */
    max_edit(cust_id, "\"terms\":\"NET60\",\"cntct\":\"Someone Else\"", false);
    customers_run("c2");
    assert_true(cs_str_eq_c(test_json_text(account(cust_id), "terms"), "NET60"));
    assert_true(cs_str_eq(test_json_text(account(cust_id), "cntct"), contact));
    assert_int_equal(accounts(), before);

    /* A second account with the same e-mail, and the link forgotten: the
     * customer is ambiguous, and waits in the error queue. */
    char fields[160];
    snprintf(fields, sizeof(fields), "\"name\":\"Copy\",\"email\":\"%.*s\"", CS_STR_FMT(email));
    max_edit("DUP-1", fields, true);
    cs_state *state = test_project_state(&test_scenario);
    assert_int_equal(cs_state_idmap_put(state, "customer", CS_SYS_SHOPIFY, cs_str_from_c(key),
                                        CS_SYS_EXACTMAX, CS_STR_LIT("GONE"), NULL),
                     CS_ERR_OK);
    cs_state_close(state);
    customers_run("c3");
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1);
    assert_string_equal(entries[0].correlation_id, key);
    assert_non_null(strstr(entries[0].message, "identity_ambiguous"));

    /* MAX's user fixes the copy; replay finds the one account. */
    max_edit("DUP-1", "\"email\":\"copy@max.example.com\"", false);
    const cs_json *replay = invoke("{\"replay\":{}}");
    assert_int_equal(test_json_int(replay, "replayed"), 1);
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
    assert_int_equal(accounts(), before + 1); /* DUP-1 only */
}

/* ---- the catalogs against MAX's parts ---- */

/* The open error entries of the catalog check; the first in *first. */
static size_t product_errors(const cs_error_entry **first)
{
    cs_error_entry *entries;
    size_t n = test_project_errors(&test_scenario, "open", &entries), found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(entries[i].correlation_id, "product:", 8) == 0) {
            *first = found++ ? *first : &entries[i];
        }
    }
    return found;
}

/* The config's SKU-0005 mapped to `part` (the functions restarted). */
static void map_sku_0005(const char *from, const char *to)
{
    char *text = fixture_read_absolute(config_path);
    char *edited = test_replace(text, from, to);
    free(text);
    assert_true(test_write_with(config_path, edited, "{", ""));
    assert_int_equal(test_project_restart(&test_scenario), 0);
}

static void catalogs_are_checked_against_max_parts(void **st)
{
    (void)st;
    map_sku_0005("\"SKU-0005\": \"P-SKU-0005\"", "\"SKU-0005\": \"P-SKU-9005\"");
    const cs_json *run = invoke(range_of("catalog", 10, "[\"products\"]"));
    assert_true(flag(run, "complete"));
    assert_int_equal(test_json_int(run, "read"), CATALOG);
    assert_null(cs_json_object_get(run, CS_STR_LIT("orders")));
    /* us-store's variants are 40000000 + index: SKU-0001 is the first. */
    assert_string_equal(test_project_link(&test_scenario, "product", "product:shopify:us:40000000"),
                        "P-SKU-0001");
    const cs_error_entry *entry = NULL;
    assert_int_equal(product_errors(&entry), 3); /* SKU-0005 in each shop */
    assert_non_null(strstr(entry->message, "unknown_part"));
    assert_non_null(strstr(entry->message, "P-SKU-9005"));

    /* Fixed, replay links them. */
    map_sku_0005("\"SKU-0005\": \"P-SKU-9005\"", "\"SKU-0005\": \"P-SKU-0005\"");
    const cs_json *replay = invoke("{\"replay\":{}}");
    assert_int_equal(test_json_int(replay, "replayed"), 3);
    assert_int_equal(product_errors(&entry), 0);
    assert_string_equal(test_project_link(&test_scenario, "product", "product:shopify:us:40000004"),
                        "P-SKU-0005");
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
    answer = test_post(test_scenario.http, url, NULL,
                       "{\"run\":\"x\",\"from\":\"2026-01-01T00:00:00Z\","
                       "\"to\":\"2026-02-01T00:00:00Z\",\"entities\":[\"orders\",\"parts\"]}",
                       &status);
    assert_non_null(strstr(answer, "entities[1]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_backfill_loads_every_order_once),
        cmocka_unit_test(reconciliation_finds_a_lost_order),
        cmocka_unit_test(replay_lands_a_fixed_order),
        cmocka_unit_test(customers_get_one_account_each),
        cmocka_unit_test(catalogs_are_checked_against_max_parts),
        cmocka_unit_test(bad_requests_are_named),
    };
    return cmocka_run_group_tests_name("backfill", tests, setup, teardown);
}
