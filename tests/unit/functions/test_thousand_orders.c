/* Both integrations under the emulator, on the project's template.yaml,
 * against the sandbox, with what production brings: 1,000 orders placed in
 * the storefront, their events on the order queue with every tenth
 * delivered twice (Shopify's webhooks through webhook-ingress,
 * commercetools' subscription messages), every twentieth request to MAX
 * answered 503, two bursts of 429 from MAX, one order-export instance
 * killed (SIGKILL) while it waits for MAX, and five orders with SKUs MAX
 * does not know among them.
 *
 * Each ends with exactly 1,000 MAX sales orders, one per order, each adding
 * up to the storefront's order to the cent; the five bad orders, and only
 * they, are open in the error queue with their snapshots; after their
 * mapping is fixed, replay lands each of them once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/commercetools/order.h"
#include "connectors/shopify/order.h"
#include "connectors/shopify/webhook.h"
#include "core/timestamp.h"
#include "fixture.h"
#include "project_fixture.h"
#include "testing.h"

enum { ORDERS = 1000, BAD_ORDERS = 5 };

static const char *const shops[] = {"us-store", "eu-store", "jp-store"};
static const char *const stores[] = {"us", "eu", "jp"};

/* A killed instance's change is held until that invocation's deadline (30
 * s, order-export's timeout) has passed: its messages must come back more
 * often than that before they go to the dead-letter queue. */
static const char *const parameters[] = {"QueueVisibilityTimeout=4", "MaxReceiveCount=20", NULL};

static test_project project;
static char config_path[64];

/* What each placed order must come to in MAX: its customer PO and the sum
 * of MAX's lines, in minor units. */
typedef struct expected {
    char po[24];
    char currency[4];
    int64_t amount;
} expected;
static expected placed[ORDERS];

/* What differs between the integrations. */
typedef struct integration {
    const char *config;
    void (*subscribe)(void);
    void (*place)(int i, expected *out);
    void (*send_bad)(int k);
    const char *bad_sku; /* in each bad order's snapshot */
    const char *fix;     /* SKU table entries that map the bad orders */
    const char *bad_po;  /* printf format of bad order k's PO */
    const char *bad_id;  /* ... and of its correlation id */
    int bad_id_base;     /* k is added to this */
} integration;
static const integration *current;

static int start(const integration *it)
{
    current = it;
    sb_opts sopts = {.shopify = {.seed = 5}};
    if (test_config_copy(config_path, it->config, NULL) ||
        test_project_start_with(&project, &sopts, config_path, parameters)) {
        return -1;
    }
    return test_arena_setup(NULL);
}

static int stop(void **state)
{
    unlink(config_path);
    test_project_stop(&project);
    return test_arena_teardown(state);
}

static cs_str text(const cs_json *o, const char *key)
{
    const cs_json *v = cs_json_object_get(o, cs_str_from_c(key));
    return v ? v->text : CS_STR_NULL;
}

/* What MAX must hold for an order: its customer PO (the store code and the
 * order's number) and the sum of its lines. */
static void expect(const cs_order *order, expected *out)
{
    cs_str number = order->number;
    number = number.len && number.ptr[0] == '#' ? cs_str_sub(number, 1, number.len - 1) : number;
    snprintf(out->po, sizeof(out->po), "%.*s-%.*s", CS_STR_FMT(order->store_code),
             CS_STR_FMT(number));
    snprintf(out->currency, sizeof(out->currency), "%.*s", CS_STR_FMT(order->currency));
    out->amount =
        order->total.minor_units - (order->taxes_included ? 0 : order->tax_total.minor_units);
}

/* A customer checks out in shop s; records what MAX must hold for it. A
 * shop whose prices include tax sends MAX its gross prices, one that adds
 * tax its net prices (MAX adds its own tax). */
static void shopify_place(int i, expected *out)
{
    size_t s = (size_t)i % 3;
    const cs_json *json = test_project_place_order(&project, shops[s], NULL);
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_shopify_order_decode(json, NULL, &test_arena, &order, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    cs_str number = order.number;
    number = number.len && number.ptr[0] == '#' ? cs_str_sub(number, 1, number.len - 1) : number;
    snprintf(out->po, sizeof(out->po), "%s-%.*s", stores[s], CS_STR_FMT(number));
    snprintf(out->currency, sizeof(out->currency), "%.*s", CS_STR_FMT(order.currency));
    out->amount =
        order.total.minor_units - (order.taxes_included ? 0 : order.tax_total.minor_units);
}

static void shopify_subscribe(void)
{
    for (size_t s = 0; s < 3; s++) {
        test_project_subscribe(&project, shops[s], "\"duplicate_every\":10");
    }
}

/* An order with SKUs MAX has no part for, signed as Shopify signs it. */
static void shopify_send_bad(int k)
{
    size_t len;
    char *fixture = fixture_read("shopify/order-webhook.json", &len);
    char id[32], name[32], number[32], webhook[32];
    snprintf(id, sizeof(id), "\"id\": %d", 450789469 + k);
    snprintf(name, sizeof(name), "\"name\": \"#%d\"", 90001 + k);
    snprintf(number, sizeof(number), "\"order_number\": %d", 90001 + k);
    char *body = test_replace(fixture, "\"id\": 450789469", id);
    body = test_replace(body, "\"name\": \"#1001\"", name);
    body = test_replace(body, "\"order_number\": 1001", number);
    free(fixture);
    snprintf(webhook, sizeof(webhook), "bad-order-%d", k);
    test_project_send_webhook(&project, cs_str_from_c(body), "us-store.myshopify.com", webhook);
}

static void ct_subscribe(void)
{
    char queue[128], subscribe[256];
    test_project_queue_url(&project, "order-events", queue, sizeof(queue));
    snprintf(subscribe, sizeof(subscribe), "{\"queue_url\":\"%s\",\"duplicate_every\":10}", queue);
    long status;
    test_project_sandbox_post(&project, "/_sandbox/commercetools/subscription", subscribe, &status);
    assert_int_equal(status, 204);
}

static void ct_place(int i, expected *out)
{
    (void)i;
    const cs_json *json = test_project_place_ct_order(&project);
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_commercetools_order_decode(json, &test_arena, &order, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    expect(&order, out);
}

/* text with every `from` replaced by `to`, in test_arena. */
static char *replace_all(char *text, const char *from, const char *to)
{
    while (strstr(text, from)) {
        text = test_replace(text, from, to);
    }
    return text;
}

/* An OrderCreated message, as commercetools' subscription writes it, of an
 * order with a SKU MAX has no part for. */
static void ct_send_bad(int k)
{
    size_t len;
    char *fixture = fixture_read("commercetools/messages.json", &len);
    const cs_json *created =
        cs_json_object_get(test_parse(&test_arena, fixture, len), CS_STR_LIT("created"));
    cs_buf message;
    cs_buf_init(&message, 0);
    assert_int_equal(cs_json_serialize(created, &message, NULL), CS_ERR_OK);
    char id[48], number[24];
    snprintf(id, sizeof(id), "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a%02d", k);
    snprintf(number, sizeof(number), "CT-%d", 90001 + k);
    char *body = replace_all(cs_arena_strndup(&test_arena, cs_buf_view(&message)),
                             "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", id);
    body = replace_all(body, "CT-10042", number);
    /* Its hoodie's item code attribute names a part MAX has: only the socks
     * (no attribute, not in the SKU table) are unknown. */
    body = test_replace(body, "HD-100-BLK-M", "P-SKU-0003");
    snprintf(id, sizeof(id), "\"msg-bad-%d\"", k);
    body = test_replace(body, "\"msg-1\"", id);
    cs_buf_clean_up(&message);
    free(fixture);
    char queue[128];
    test_project_queue_url(&project, "order-events", queue, sizeof(queue));
    test_project_send(&project, queue, cs_str_from_c(body), NULL);
}

static void fault(const char *body)
{
    long status;
    test_project_sandbox_post(&project, "/_sandbox/faults", body, &status);
    assert_int_equal(status, 204);
}

/* Kills an order-export instance while it waits for MAX (slowed down for
 * the moment), so that MAX may make an order whose state is never written;
 * fails the test when no instance runs within 10 s. */
static void kill_an_instance(void)
{
    fault("{\"system\":\"exactmax\",\"latency_ms\":300}");
    pid_t pids[8];
    size_t n = 0;
    for (int i = 0; i < 1000 && n == 0; i++) {
        n = test_project_function_pids("OrderExport", pids, 8);
        usleep(10 * 1000);
    }
    assert_true(n > 0);
    usleep(150 * 1000);
    assert_int_equal(kill(pids[0], SIGKILL), 0);
    fault("{\"system\":\"exactmax\",\"latency_ms\":0}");
}

/* MAX's sales orders of our stores by customer PO; fails on a PO MAX holds
 * twice. */
static const cs_json **max_orders(size_t *count)
{
    size_t all;
    const cs_json **orders = test_project_max_orders(&project, "CU", &all);
    *count = 0;
    for (size_t i = 0; i < all; i++) {
        cs_str po = text(orders[i], "custPo");
        if (po.len < 3 || po.ptr[2] != '-') {
            continue;
        }
        for (size_t k = 0; k < *count; k++) {
            if (cs_str_eq(po, text(orders[k], "custPo"))) {
                fail_msg("customer PO %.*s is in MAX twice", CS_STR_FMT(po));
            }
        }
        orders[(*count)++] = orders[i];
    }
    return orders;
}

static const cs_json *find(const cs_json **orders, size_t count, const char *po)
{
    for (size_t i = 0; i < count; i++) {
        if (cs_str_eq_c(text(orders[i], "custPo"), po)) {
            return orders[i];
        }
    }
    return NULL;
}

/* Waits until MAX holds n orders of ours and the error queue n_errors open
 * entries, or three minutes pass; then a little longer, so that a late
 * duplicate would have landed. */
static void wait_for(size_t n, size_t n_errors)
{
    int64_t give_up = cs_time_monotonic_ms() + 180000;
    size_t count = 0, errors = 0;
    while ((count < n || errors < n_errors) && cs_time_monotonic_ms() < give_up) {
        sleep(1);
        cs_error_entry *entries;
        max_orders(&count);
        errors = test_project_errors(&project, "open", &entries);
        cs_arena_reset(&test_arena);
    }
    sleep(5);
}

static void a_thousand_orders_land_once_through_faults(void **st)
{
    (void)st;
    current->subscribe();
    fault("{\"system\":\"exactmax\",\"status\":503,\"every\":20}");
    for (int i = 0; i < ORDERS; i++) {
        current->place(i, &placed[i]);
        if (i % 200 == 0) {
            current->send_bad(i / 200);
        }
        if (i == 300 || i == 700) {
            fault("{\"system\":\"exactmax\",\"status\":429,\"count\":8}");
        }
        if (i == 500) {
            kill_an_instance();
        }
        cs_arena_reset(&test_arena);
    }
    wait_for(ORDERS, BAD_ORDERS);
    fault("{\"system\":\"exactmax\",\"every\":0}");

    size_t count;
    const cs_json **orders = max_orders(&count);
    assert_int_equal(count, ORDERS);
    for (int i = 0; i < ORDERS; i++) {
        const cs_json *order = find(orders, count, placed[i].po);
        if (!order) {
            fail_msg("%s is not in MAX", placed[i].po);
        }
        assert_true(cs_str_eq_c(text(order, "curr"), placed[i].currency));
        int64_t amount = test_max_order_amount(order);
        if (amount != placed[i].amount) {
            fail_msg("%s: MAX's lines add up to %lld, the Shopify order to %lld", placed[i].po,
                     (long long)amount, (long long)placed[i].amount);
        }
    }

    cs_error_entry *entries;
    size_t errors = test_project_errors(&project, "open", &entries);
    assert_int_equal(errors, BAD_ORDERS);
    cs_state *state = test_project_state(&project);
    for (size_t i = 0; i < errors; i++) {
        char expected_id[64];
        snprintf(expected_id, sizeof(expected_id), current->bad_id, current->bad_id_base + (int)i);
        bool known = false;
        for (size_t k = 0; k < errors; k++) {
            known = known || strcmp(entries[k].correlation_id, expected_id) == 0;
        }
        assert_true(known);
        assert_non_null(strstr(entries[i].message, "unknown_sku"));
        cs_buf snapshot;
        cs_buf_init(&snapshot, 0);
        cs_error_entry entry;
        assert_int_equal(cs_state_error_get(state, entries[i].correlation_id, &test_arena, &entry,
                                            &snapshot, NULL),
                         CS_ERR_OK);
        assert_non_null(
            memmem(snapshot.data, snapshot.len, current->bad_sku, strlen(current->bad_sku)));
        cs_buf_clean_up(&snapshot);
    }
    cs_state_close(state);
}

static void replay_lands_the_fixed_orders(void **st)
{
    (void)st;
    assert_int_equal(test_config_edit(config_path, "\"SKU-0001\": \"P-SKU-0001\"", current->fix),
                     0);
    assert_int_equal(test_project_restart(&project), 0);
    const cs_json *replay = test_project_invoke(&project, "backfill", "{\"replay\":{}}");
    assert_int_equal(test_json_int(replay, "replayed"), BAD_ORDERS);
    assert_int_equal(test_json_int(replay, "failed"), 0);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&project, "open", &entries), 0);
    size_t count;
    const cs_json **orders = max_orders(&count);
    assert_int_equal(count, ORDERS + BAD_ORDERS);
    for (int k = 0; k < BAD_ORDERS; k++) {
        char po[24];
        snprintf(po, sizeof(po), current->bad_po, 90001 + k);
        assert_non_null(find(orders, count, po));
    }
}

static const integration shopify = {
    .config = "shopify-exactmax",
    .subscribe = shopify_subscribe,
    .place = shopify_place,
    .send_bad = shopify_send_bad,
    .bad_sku = "IPOD2008GREEN",
    .fix = "\"IPOD2008GREEN\": \"P-SKU-0001\", \"IPOD2008RED\": \"P-SKU-0002\", ",
    .bad_po = "us-%d",
    .bad_id = "shopify:us:%d",
    .bad_id_base = 450789469,
};

static const integration commercetools = {
    .config = "commercetools-exactmax",
    .subscribe = ct_subscribe,
    .place = ct_place,
    .send_bad = ct_send_bad,
    .bad_sku = "SOCKS-3P",
    .fix = "\"SOCKS-3P\": \"P-SKU-0002\", ",
    .bad_po = "de-store-CT-%d",
    .bad_id = "commercetools:3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a%02d",
    .bad_id_base = 0,
};

static int start_shopify(void **state)
{
    (void)state;
    return start(&shopify);
}

static int start_commercetools(void **state)
{
    (void)state;
    return start(&commercetools);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_thousand_orders_land_once_through_faults),
        cmocka_unit_test(replay_lands_the_fixed_orders),
    };
    int failed = cmocka_run_group_tests_name("shopify", tests, start_shopify, stop);
    return failed + cmocka_run_group_tests_name("commercetools", tests, start_commercetools, stop);
}
