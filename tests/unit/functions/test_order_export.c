/* order-export under the emulator, on the test_scenario's template.yaml, against
 * the sandbox, for both integrations:
 * - Shopify: webhooks delivered twice each onto the order queue become
 *   exactly one MAX sales order per order; an order whose SKUs have no part
 *   number lands once in the error queue with its snapshot; a cancel cancels
 *   the MAX order and a refund makes one credit memo.
 * - commercetools: OrderCreated messages, duplicated and reordered, become
 *   one sales order each; OrderStateChanged to Cancelled cancels it. */
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

#include "connectors/commercetools/actions.h"
#include "connectors/commercetools/client.h"
#include "connectors/commercetools/order.h"
#include "core/money.h"
#include "connectors/shopify/webhook.h"
#include "core/timestamp.h"
#include "fixture.h"
#include "project_fixture.h"
#include "testing.h"

static const char *const shops[] = {"us-store", "eu-store", "jp-store"};
enum { ORDERS_PER_SHOP = 10, CT_ORDERS = 12 };

/* POSTs a delivery to webhook-ingress's function URL as Shopify does
 * (hmac NULL: no signature header); the answer's body in test_arena. */
static char *post_webhook(cs_str body, const char *webhook_id, const char *hmac, long *status)
{
    char url[160], id[128], signature[96];
    snprintf(url, sizeof(url), "%s/_url/webhook-ingress/", test_scenario.emulator_url);
    snprintf(id, sizeof(id), "X-Shopify-Webhook-Id: %s", webhook_id);
    snprintf(signature, sizeof(signature), "X-Shopify-Hmac-Sha256: %s", hmac ? hmac : "");
    const char *headers[] = {"Content-Type: application/json",
                             "X-Shopify-Topic: orders/create",
                             "X-Shopify-Shop-Domain: us-store.myshopify.com",
                             "X-Shopify-API-Version: 2026-01",
                             id,
                             hmac ? signature : NULL,
                             NULL};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_http_request req = {.method = "POST", .url = url, .headers = headers, .body = body};
    cs_http_response resp = {.body = &out};
    cs_http_send(test_scenario.http, &req, &resp, NULL);
    *status = resp.status;
    char *text = cs_arena_strndup(&test_arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

/* The bad order, signed as Shopify signs it, delivered twice. */
static void send_unmapped_order(void)
{
    size_t len;
    char *order = fixture_read("shopify/order-webhook.json", &len);
    char hmac[45];
    cs_shopify_webhook_sign(cs_str_make(order, len), CS_STR_LIT(TEST_WEBHOOK_SECRET), hmac);
    for (int i = 0; i < 2; i++) {
        long status;
        char *answer = post_webhook(cs_str_make(order, len), "b54557e4-bad-order", hmac, &status);
        assert_int_equal(status, 200);
        assert_non_null(strstr(answer, "\"queued\""));
    }
    free(order);
}

static cs_str text(const cs_json *o, const char *key)
{
    const cs_json *v = cs_json_object_get(o, cs_str_from_c(key));
    return v ? v->text : CS_STR_NULL;
}

/* MAX's orders of a type whose customer PO starts with prefix; fails on a
 * PO MAX holds twice. */
static size_t max_orders(const char *s_type, const char *prefix, const cs_json **found, size_t max)
{
    size_t count, n = 0;
    const cs_json **all = test_project_max_orders(&test_scenario, s_type, &count);
    for (size_t i = 0; i < count; i++) {
        cs_str po = text(all[i], "custPo");
        if (po.len < strlen(prefix) || memcmp(po.ptr, prefix, strlen(prefix)) != 0) {
            continue;
        }
        for (size_t k = i + 1; k < count; k++) {
            if (cs_str_eq(po, text(all[k], "custPo"))) {
                fail_msg("customer PO %.*s is in MAX twice", CS_STR_FMT(po));
            }
        }
        if (found && n < max) {
            found[n] = all[i];
        }
        n++;
    }
    return n;
}

/* Polls until done() holds, then waits a little more, so that late
 * duplicates would have landed; fails naming the condition after two
 * minutes. */
static void wait_until(bool (*done)(void *), void *user, const char *name)
{
    int64_t give_up = cs_time_monotonic_ms() + 120000;
    while (!done(user)) {
        if (cs_time_monotonic_ms() > give_up) {
            fail_msg("%s: still false after 120 s", name);
        }
        usleep(200 * 1000);
    }
    usleep(1500 * 1000);
}
#define wait_for(done, user) wait_until(done, user, #done)

/* Every web order in MAX, and the unmapped one's two deliveries both
 * through (the second can come well after the first). */
static bool web_orders_and_error(void *user)
{
    (void)user;
    cs_error_entry *entries;
    return max_orders("CU", "", NULL, 0) >= 3 * ORDERS_PER_SHOP &&
           test_project_errors(&test_scenario, "open", &entries) >= 1 && entries[0].attempts >= 2;
}

static void each_order_lands_once(void **st)
{
    (void)st;
    for (size_t s = 0; s < 3; s++) {
        test_project_subscribe(&test_scenario, shops[s], "\"duplicates\":1");
    }
    for (int i = 0; i < ORDERS_PER_SHOP; i++) {
        for (size_t s = 0; s < 3; s++) {
            test_project_place_order(&test_scenario, shops[s], NULL);
        }
    }
    send_unmapped_order();
    wait_for(web_orders_and_error, NULL);

    assert_int_equal(max_orders("CU", "", NULL, 0), 3 * ORDERS_PER_SHOP);
    cs_error_entry *entries = NULL;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1);
    assert_string_equal(entries[0].flow, "order-export");
    assert_string_equal(entries[0].code, "InvalidArgument");
    assert_non_null(strstr(entries[0].message, "unknown_sku"));
    assert_non_null(strstr(entries[0].message, "IPOD2008GREEN"));

    cs_state *state = test_project_state(&test_scenario);
    assert_non_null(state);
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

/* A new order in a shop; its id and number from the fake's answer. */
static void place(const char *shop, char id[24], char number[16])
{
    const cs_json *order = test_project_place_order(&test_scenario, shop, NULL);
    snprintf(id, 24, "%.*s", CS_STR_FMT(text(order, "id")));
    snprintf(number, 16, "%.*s", CS_STR_FMT(text(order, "order_number")));
}

typedef struct {
    char cancelled_po[32], credited_po[32];
} change_check;

static bool cancelled_and_credited(void *user)
{
    const change_check *c = user;
    const cs_json *order = NULL;
    return max_orders("CU", c->cancelled_po, &order, 1) == 1 &&
           cs_str_eq_c(text(order, "status"), "5") &&
           max_orders("CR", c->credited_po, NULL, 0) >= 1;
}

/* Webhooks are still subscribed (delivered twice) from the test before. */
static void a_cancel_and_a_refund_land_once(void **st)
{
    (void)st;
    char id[2][24], number[2][16], path[128];
    long status;
    for (int i = 0; i < 2; i++) {
        place("eu-store", id[i], number[i]);
    }
    change_check check;
    snprintf(check.cancelled_po, sizeof(check.cancelled_po), "eu-%s", number[0]);
    snprintf(check.credited_po, sizeof(check.credited_po), "eu-%s-R", number[1]);
    snprintf(path, sizeof(path), "/_sandbox/shopify/eu-store/orders/%s/cancel", id[0]);
    test_project_sandbox_post(&test_scenario, path, "", &status);
    assert_int_equal(status, 200);
    snprintf(path, sizeof(path), "/_sandbox/shopify/eu-store/orders/%s/refund", id[1]);
    test_project_sandbox_post(&test_scenario, path, "", &status);
    assert_int_equal(status, 200);
    wait_for(cancelled_and_credited, &check);

    const cs_json *order = NULL, *memo = NULL, *original = NULL;
    assert_int_equal(max_orders("CU", check.cancelled_po, &order, 1), 1);
    assert_true(cs_str_eq_c(text(order, "status"), "5"));
    assert_int_equal(max_orders("CR", check.credited_po, &memo, 1), 1);
    char po[32];
    snprintf(po, sizeof(po), "eu-%s", number[1]);
    assert_int_equal(max_orders("CU", po, &original, 1), 1);
    assert_true(cs_str_eq(text(memo, "custId"), text(original, "custId")));
    assert_false(cs_str_eq_c(text(original, "status"), "5"));
}

/* An order through Shopify's Amazon EventBridge destination instead: a
 * rule on the partner event bus puts each event, envelope and all, on the
 * order queue. Twice, as EventBridge may; one MAX order. */
static bool in_max(void *po)
{
    return max_orders("CU", po, NULL, 0) >= 1;
}

static void an_eventbridge_event_lands_once(void **st)
{
    (void)st;
    long status;
    test_project_sandbox_post(&test_scenario, "/_sandbox/shopify/jp-store/webhooks",
                              "{\"address\":\"\"}", &status);
    assert_int_equal(status, 204);
    char *order;
    const cs_json *placed = test_project_place_order(&test_scenario, "jp-store", &order);
    char po[32];
    snprintf(po, sizeof(po), "jp-%.*s", CS_STR_FMT(text(placed, "order_number")));
    char *event = cs_arena_sprintf(
        &test_arena,
        "{\"version\":\"0\",\"id\":\"5c8d2f6e-0b1a-4c3d-9e8f-7a6b5c4d3e2f\","
        "\"detail-type\":\"shopifyWebhook\","
        "\"source\":\"aws.partner/shopify.com/1234567/cs-orders\",\"account\":\"000000000000\","
        "\"time\":\"2026-11-24T10:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],"
        "\"detail\":{\"payload\":%s,\"metadata\":{\"Content-Type\":\"application/json\","
        "\"X-Shopify-Topic\":\"orders/create\",\"X-Shopify-Hmac-SHA256\":\"c2lnbmVk\","
        "\"X-Shopify-Shop-Domain\":\"jp-store.myshopify.com\","
        "\"X-Shopify-Webhook-Id\":\"eb-1\",\"X-Shopify-API-Version\":\"2026-01\"}}}",
        order);
    for (int i = 0; i < 2; i++) {
        test_project_send(&test_scenario, test_scenario_queue, cs_str_from_c(event), NULL);
    }
    wait_for(in_max, po);
    assert_int_equal(max_orders("CU", po, NULL, 0), 1);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1); /* the bad one */
}

/* An order edited after its export: a line's variant swapped for another
 * and the ship-to street changed. MAX's order is changed to match (the old
 * part's line closed at 0, a line added for the new one, the street), and
 * the order as it was before, delivered late, does not change it back. */
static char *replace_value(const char *json, const char *after, const char *key, const char *value)
{
    const char *from = strstr(json, after);
    from = from ? strstr(from, key) : NULL;
    assert_non_null(from);
    from += strlen(key);
    const char *to = strchr(from, '"');
    return cs_arena_sprintf(&test_arena, "%.*s%s%s", (int)(from - json), json, value, to);
}

static const cs_json *max_line(const cs_json *order, const char *part)
{
    const cs_json *lines = cs_json_object_get(order, CS_STR_LIT("lines"));
    for (const cs_json *l = lines ? lines->first : NULL; l; l = l->next) {
        if (cs_str_eq_c(text(l, "prtNum"), part)) {
            return l;
        }
    }
    return NULL;
}

/* A quantity MAX answers ("3.0000") in whole units. */
static int64_t units(const cs_json *line, const char *key)
{
    int64_t n = -1;
    assert_int_equal(cs_decimal_parse(text(line, key), 0, &n, NULL), CS_ERR_OK);
    return n;
}

typedef struct edited {
    const char *po, *part;
} edited;

static bool has_part(void *user)
{
    const edited *e = user;
    const cs_json *order = NULL;
    return max_orders("CU", e->po, &order, 1) == 1 && max_line(order, e->part);
}

typedef struct logged {
    const char *what;
    size_t before;
} logged;

static size_t times_logged(const char *what)
{
    size_t n = 0;
    for (const char *at = test_project_log(&test_scenario); (at = strstr(at, what)); at++) {
        n++;
    }
    return n;
}

static bool logged_again(void *user)
{
    const logged *l = user;
    return times_logged(l->what) > l->before;
}

static void an_edited_order_changes_max(void **st)
{
    (void)st;
    char *order;
    const cs_json *json = test_project_place_order(&test_scenario, "us-store", &order);
    char po[32], absent[16] = "", old_part[32], new_part[32];
    snprintf(po, sizeof(po), "us-%.*s", CS_STR_FMT(text(json, "order_number")));
    wait_for(in_max, po);
    for (int k = 1; k <= 24 && !absent[0]; k++) {
        char sku[16];
        snprintf(sku, sizeof(sku), "SKU-%04d", k);
        snprintf(absent, sizeof(absent), "%s", strstr(order, sku) ? "" : sku);
    }
    const char *sku_at = strstr(strstr(order, "\"line_items\""), "\"sku\":\"SKU-");
    assert_non_null(sku_at);
    snprintf(old_part, sizeof(old_part), "P-%.8s", sku_at + strlen("\"sku\":\""));
    snprintf(new_part, sizeof(new_part), "P-%s", absent);
    char *edit = replace_value(order, "\"line_items\"", "\"sku\":\"", absent);
    edit = replace_value(edit, "\"shipping_address\"", "\"address1\":\"", "1 Edited Street");
    edit = replace_value(edit, "{", "\"updated_at\":\"", "2099-01-01T00:00:00Z");
    test_project_send_webhook(&test_scenario, cs_str_from_c(edit), "us-store.myshopify.com",
                              "edited-order");
    edited check = {po, new_part};
    wait_for(has_part, &check);

    const cs_json *in_max_now = NULL;
    assert_int_equal(max_orders("CU", po, &in_max_now, 1), 1);
    const cs_json *gone = max_line(in_max_now, old_part);
    assert_non_null(gone);
    assert_int_equal(units(gone, "curQty"), 0);
    assert_true(cs_str_eq_c(text(gone, "status"), "5"));
    assert_true(units(gone, "qty") > 0); /* as ordered */
    const cs_json *ship_to = cs_json_object_get(in_max_now, CS_STR_LIT("shipTo"));
    assert_true(cs_str_eq_c(text(ship_to, "addr1"), "1 Edited Street"));
    assert_non_null(strstr(test_project_log(&test_scenario), "\"message\":\"order changed\""));

    /* The order as it was, delivered late: MAX keeps the newer one. */
    char key[48], correlation[80];
    snprintf(key, sizeof(key), "shopify:us:%.*s", CS_STR_FMT(text(json, "id")));
    snprintf(correlation, sizeof(correlation), "\"correlationId\":\"%s\"", key);
    logged late = {correlation, times_logged(correlation)};
    test_project_send_webhook(&test_scenario, cs_str_from_c(order), "us-store.myshopify.com",
                              "late-order");
    wait_for(logged_again, &late);
    assert_int_equal(max_orders("CU", po, &in_max_now, 1), 1);
    assert_int_equal(units(max_line(in_max_now, old_part), "curQty"), 0);
    assert_true(cs_str_eq_c(text(max_line(in_max_now, new_part), "status"), "3"));
    ship_to = cs_json_object_get(in_max_now, CS_STR_LIT("shipTo"));
    assert_true(cs_str_eq_c(text(ship_to, "addr1"), "1 Edited Street"));
    cs_error_entry *entries;
    size_t open = test_project_errors(&test_scenario, "open", &entries);
    for (size_t i = 0; i < open; i++) {
        assert_string_not_equal(entries[i].correlation_id, key);
    }
}

/* An order's customer gets a MAX account (the Shopify config gives every
 * customer one), made from the order when the customer load has not run,
 * and the order goes on it; the next order of that customer finds it by
 * its link. A guest's order goes on the store's web account. */
static const cs_json *max_order(const char *po)
{
    const cs_json *order = NULL;
    assert_int_equal(max_orders("CU", po, &order, 1), 1);
    return order;
}

static void orders_go_on_their_customers_accounts(void **st)
{
    (void)st;
    bool guest_seen = false, customer_seen = false;
    for (int i = 0; i < 80 && !(guest_seen && customer_seen); i++) {
        const cs_json *placed = test_project_place_order(&test_scenario, "us-store", NULL);
        char po[32];
        snprintf(po, sizeof(po), "us-%.*s", CS_STR_FMT(text(placed, "order_number")));
        const cs_json *customer = cs_json_object_get(placed, CS_STR_LIT("customer"));
        bool guest = !customer || customer->type != CS_JSON_OBJECT;
        if ((guest && guest_seen) || (!guest && customer_seen)) {
            continue;
        }
        wait_for(in_max, po);
        cs_str cust_id = text(max_order(po), "custId");
        if (guest) {
            assert_true(cs_str_eq_c(cust_id, "WEB-US"));
            guest_seen = true;
            continue;
        }
        const cs_json *id = cs_json_object_get(customer, CS_STR_LIT("id"));
        char key[64];
        snprintf(key, sizeof(key), "customer:shopify:us:%.*s", CS_STR_FMT(id->text));
        assert_true(cs_str_eq_c(cust_id, test_project_link(&test_scenario, "customer", key)));
        assert_true(cs_str_starts_with(cust_id, CS_STR_LIT("WS")));
        size_t n;
        const cs_json **accounts = test_project_max_records(&test_scenario, "customers", NULL, &n);
        bool made = false;
        for (size_t k = 0; k < n; k++) {
            made = made || (cs_str_eq(test_json_text(accounts[k], "custId"), cust_id) &&
                            cs_str_eq(test_json_text(accounts[k], "email"), text(placed, "email")));
        }
        assert_true(made);
        customer_seen = true;
    }
    assert_true(guest_seen && customer_seen);
}

/* ---- commercetools ---- */

static cs_error cancel_action(void *user, const cs_json *order, int64_t version, cs_buf *body,
                              cs_diag *diag)
{
    (void)user;
    (void)order;
    return cs_commercetools_order_state_update(CS_STR_LIT("cancelled"), version, body, diag);
}

static size_t ct_orders_in_max(const cs_json **found, size_t max)
{
    static const char *const prefixes[] = {"de-store-", "uk-store-", "jp-store-"};
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        n += max_orders("CU", prefixes[i], found ? found + n : NULL, found ? max - n : 0);
    }
    return n;
}

static bool all_ct_orders(void *user)
{
    (void)user;
    return ct_orders_in_max(NULL, 0) >= CT_ORDERS;
}

static bool two_cancelled(void *user)
{
    (void)user;
    const cs_json *orders[CT_ORDERS];
    size_t n = ct_orders_in_max(orders, CT_ORDERS), cancelled = 0;
    for (size_t i = 0; i < n && i < CT_ORDERS; i++) {
        cancelled += cs_str_eq_c(text(orders[i], "status"), "5");
    }
    return cancelled >= 2;
}

/* The sandbox project's messages onto the order queue, each delivered
 * twice, and with reorder every pair swapped. */
static void ct_subscribe(bool reorder)
{
    char subscribe[256];
    snprintf(subscribe, sizeof(subscribe), "{\"queue_url\":\"%s\",\"duplicates\":1,\"reorder\":%s}",
             test_scenario_queue, reorder ? "true" : "false");
    long status;
    test_project_sandbox_post(&test_scenario, "/_sandbox/commercetools/subscription", subscribe,
                              &status);
    assert_int_equal(status, 204);
}

static void ct_orders_land_once_and_cancel(void **st)
{
    (void)st;
    ct_subscribe(true);
    char ids[CT_ORDERS][40];
    for (int i = 0; i < CT_ORDERS; i++) {
        const cs_json *order = test_project_place_ct_order(&test_scenario);
        snprintf(ids[i], sizeof(ids[i]), "%.*s", CS_STR_FMT(text(order, "id")));
    }
    wait_for(all_ct_orders, NULL);
    assert_int_equal(ct_orders_in_max(NULL, 0), CT_ORDERS);

    cs_commercetools *ct = test_project_commercetools(&test_scenario);
    for (int i = 0; i < 2; i++) {
        const cs_json *updated;
        cs_diag diag;
        if (cs_commercetools_update_order(ct, cs_str_from_c(ids[i]), cancel_action, NULL,
                                          &test_arena, &updated, &diag)) {
            fail_msg("%s", diag.message);
        }
    }
    cs_commercetools_destroy(ct);
    wait_for(two_cancelled, NULL);
    assert_true(two_cancelled(NULL));
    assert_int_equal(ct_orders_in_max(NULL, 0), CT_ORDERS);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
}

static cs_error return_action(void *user, const cs_json *order, int64_t version, cs_buf *body,
                              cs_diag *diag)
{
    (void)diag;
    const cs_json *line = cs_json_array_at(cs_json_object_get(order, CS_STR_LIT("lineItems")), 0);
    return cs_buf_appendf(body,
                          "{\"version\":%lld,\"actions\":[{\"action\":\"addReturnInfo\","
                          "\"returnTrackingId\":\"%s\",\"returnDate\":\"2026-11-24T10:00:00.000Z\","
                          "\"items\":[{\"quantity\":1,\"lineItemId\":\"%.*s\","
                          "\"shipmentState\":\"Returned\",\"comment\":\"too small\"}]}]}",
                          (long long)version, (const char *)user, CS_STR_FMT(text(line, "id")));
}

/* MAX's credit memos of a storefront order (by its id, MAX's ordId): how
 * many, and the first. */
static size_t memos_of(const char *order_id, const cs_json **first)
{
    size_t count, n = 0;
    const cs_json **all = test_project_max_orders(&test_scenario, "CR", &count);
    for (size_t i = 0; i < count; i++) {
        if (cs_str_eq_c(text(all[i], "ordId"), order_id)) {
            *first = n++ ? *first : all[i];
        }
    }
    return n;
}

static bool credited(void *order_id)
{
    const cs_json *memo;
    return memos_of(order_id, &memo) >= 1;
}

/* A return (ReturnInfoAdded, delivered twice) becomes one credit memo,
 * crediting one unit of the line at its share of what the line cost. */
static void a_ct_return_becomes_one_credit_memo(void **st)
{
    (void)st;
    /* In order this time: with reorder the new order's OrderCreated would
     * be held back until the next message, and never reach MAX alone. */
    ct_subscribe(false);
    const cs_json *json = test_project_place_ct_order(&test_scenario);
    cs_order order;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_commercetools_order_decode(json, &test_arena, &order, &problems),
                     CS_ERR_OK);
    char po[48], id[64];
    snprintf(po, sizeof(po), "%.*s-%.*s", CS_STR_FMT(order.store_code), CS_STR_FMT(order.number));
    snprintf(id, sizeof(id), "%.*s", CS_STR_FMT(text(json, "id")));
    wait_for(in_max, po);

    cs_commercetools *ct = test_project_commercetools(&test_scenario);
    const cs_json *updated;
    cs_diag diag;
    if (cs_commercetools_update_order(ct, cs_str_from_c(id), return_action, "RT-1", &test_arena,
                                      &updated, &diag)) {
        fail_msg("%s", diag.message);
    }
    cs_commercetools_destroy(ct);
    wait_for(credited, id);
    const cs_json *memo = NULL;
    assert_int_equal(memos_of(id, &memo), 1);
    /* "de-store-CT-10212-R..." would pass MAX's 20 characters. */
    assert_true(cs_str_starts_with(text(memo, "custPo"), CS_STR_LIT("R-")));
    const cs_order_line *l = &order.lines[0];
    int64_t weights[2] = {1, l->quantity - 1}, shares[2];
    assert_int_equal(
        cs_money_allocate(l->unit_price.minor_units * l->quantity - l->discount.minor_units,
                          weights, 2, shares),
        CS_ERR_OK);
    assert_int_equal(test_max_order_amount(memo), shares[0]);
    assert_int_equal(max_orders("CU", po, NULL, 0), 1);
}

/* The ingress turns away what Shopify did not sign, and its log names the
 * delivery without showing the body. */
static void the_ingress_refuses_unsigned_deliveries(void **st)
{
    (void)st;
    static const char body[] = "{\"id\":987001,\"email\":\"forged-buyer@example.com\"}";
    char wrong[45];
    cs_shopify_webhook_sign(CS_STR_LIT(body), CS_STR_LIT("not-the-app-secret"), wrong);
    long status;
    char *answer = post_webhook(CS_STR_LIT(body), "forged-1", wrong, &status);
    assert_int_equal(status, 401);
    assert_non_null(strstr(answer, "signature"));
    answer = post_webhook(CS_STR_LIT(body), "forged-2", NULL, &status);
    assert_int_equal(status, 400);
    assert_non_null(strstr(answer, "X-Shopify-Hmac-Sha256"));

    const char *log = test_project_log(&test_scenario);
    assert_non_null(strstr(log, "\"sourceId\":\"forged-1\""));
    assert_non_null(strstr(log, "\"sourceId\":\"forged-2\""));
    assert_null(strstr(log, "forged-buyer"));
    assert_null(strstr(log, "987001"));
    /* Nothing reached order-export (the group's first test): no order and
     * no error entry. */
    usleep(500 * 1000);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
    assert_int_equal(max_orders("CU", "", NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest shopify[] = {
        cmocka_unit_test(the_ingress_refuses_unsigned_deliveries),
        cmocka_unit_test(each_order_lands_once),
        cmocka_unit_test(a_cancel_and_a_refund_land_once),
        cmocka_unit_test(an_eventbridge_event_lands_once),
        cmocka_unit_test(an_edited_order_changes_max),
        cmocka_unit_test(orders_go_on_their_customers_accounts),
    };
    const struct CMUnitTest commercetools[] = {
        cmocka_unit_test(ct_orders_land_once_and_cancel),
        cmocka_unit_test(a_ct_return_becomes_one_credit_memo),
    };
    return cmocka_run_group_tests_name("order_export_shopify", shopify, test_scenario_shopify,
                                       test_scenario_stop) |
           cmocka_run_group_tests_name("order_export_commercetools", commercetools,
                                       test_scenario_commercetools, test_scenario_stop);
}
