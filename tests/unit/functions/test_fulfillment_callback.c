/* fulfillment-callback under the emulator against the sandbox: orders that
 * order-export put into MAX are shipped by MAX's warehouse, and each
 * shipment reaches its storefront order once (a Shopify fulfillment with
 * tracking, a commercetools delivery), however often the schedule runs or
 * a shipment is pushed onto the shipment queue; a shipment the storefront
 * refused is replayed from the error queue; an order MAX cancels is
 * cancelled in the storefront. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/commercetools/client.h"
#include "connectors/exactmax/client.h"
#include "core/timestamp.h"
#include "emulator/sandbox/exactmax.h"
#include "project_fixture.h"
#include "testing.h"

enum { ORDERS = 4 };

/* Waits until MAX has `want` customer orders. */
static void wait_for_orders(size_t want)
{
    size_t count = 0;
    int64_t give_up = cs_time_monotonic_ms() + 60000;
    while (cs_time_monotonic_ms() < give_up) {
        test_project_max_orders(&test_scenario, "CU", &count);
        if (count >= want) {
            return;
        }
        usleep(200 * 1000);
    }
    fail_msg("MAX has %zu orders, not %zu", count, want);
}

/* MAX's warehouse ships what it can; the number of shipment events and of
 * invoices (an order shipped whole is invoiced). */
static int64_t ship(int64_t *invoices)
{
    long status;
    char *text =
        test_project_sandbox_post(&test_scenario, "/_sandbox/exactmax/warehouse", "{}", &status);
    assert_int_equal(status, 200);
    const cs_json *answer = test_parse(&test_arena, text, strlen(text));
    *invoices = test_json_int(answer, "invoices");
    return test_json_int(answer, "shipments");
}

/* Runs the callback twice: the shipments and invoices are applied by the
 * first run only (invoices written: those that go to the storefront). */
static void callback_applies(int64_t shipments, int64_t invoices, int64_t invoices_written)
{
    const cs_json *first = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(first, "shipments"), shipments);
    assert_int_equal(test_json_int(first, "invoices"), invoices);
    assert_int_equal(test_json_int(first, "written"), shipments + invoices_written);
    assert_int_equal(test_json_int(first, "failed"), 0);
    assert_int_equal(test_json_int(first, "retried"), 0);
    const cs_json *again = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(again, "shipments"), 0);
    assert_int_equal(test_json_int(again, "invoices"), 0);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
}

static void shipments_become_fulfillments_once(void **st)
{
    (void)st;
    char subscribe[512];
    long status;
    snprintf(subscribe, sizeof(subscribe), "{\"address\":\"sqs:%s\",\"secret\":\"%s\"}",
             test_scenario_queue, TEST_WEBHOOK_SECRET);
    test_project_sandbox_post(&test_scenario, "/_sandbox/shopify/us-store/webhooks", subscribe,
                              &status);
    assert_int_equal(status, 204);
    char ids[ORDERS][24];
    for (int i = 0; i < ORDERS; i++) {
        const cs_json *order = test_project_place_order(&test_scenario, "us-store", NULL);
        cs_str id = cs_json_object_get(order, CS_STR_LIT("id"))->text;
        snprintf(ids[i], sizeof(ids[i]), "%.*s", CS_STR_FMT(id));
    }
    wait_for_orders(ORDERS);
    int64_t invoices;
    int64_t shipments = ship(&invoices);
    assert_true(shipments > 0 && invoices > 0);
    callback_applies(shipments, invoices, invoices);

    /* Every shipped order has its fulfillment, with MAX's tracking number,
     * and every invoiced one MAX's invoice number in its "erp" metafield. */
    size_t fulfilled = 0, invoiced = 0;
    for (int i = 0; i < ORDERS; i++) {
        char url[256];
        snprintf(url, sizeof(url), "%s/_sandbox/shopify/us-store/orders/%s",
                 test_scenario.sandbox_url, ids[i]);
        char *text = test_get(test_scenario.http, url, &status);
        assert_int_equal(status, 200);
        const cs_json *state = test_parse(&test_arena, text, strlen(text));
        const cs_json *list = cs_json_object_get(state, CS_STR_LIT("fulfillments"));
        for (const cs_json *f = list ? list->first : NULL; f; f = f->next) {
            assert_non_null(strstr(text, "1Z"));
            fulfilled++;
        }
        invoiced += strstr(text, "invoice_number") != NULL;
    }
    assert_true(fulfilled >= (size_t)shipments);
    assert_int_equal(invoiced, invoices);
}

/* Shopify refuses a shipment (a 400): it goes to the error queue with the
 * shipment as MAX answered it, the run goes on; replayed once Shopify takes
 * it again, it lands and is marked replayed. */
static void a_refused_shipment_is_replayed(void **st)
{
    (void)st;
    test_project_place_order(&test_scenario, "us-store", NULL);
    wait_for_orders(ORDERS + 1);
    int64_t invoices;
    int64_t shipments = ship(&invoices);
    assert_true(shipments > 0);
    long status;
    test_project_sandbox_post(&test_scenario, "/_sandbox/faults",
                              "{\"system\":\"shopify\",\"status\":400,\"count\":1}", &status);
    assert_int_equal(status, 204);
    const cs_json *run = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(run, "failed"), 1);
    assert_int_equal(test_json_int(run, "written"), shipments - 1 + invoices);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 1);
    assert_string_equal(entries[0].flow, "fulfillment-callback");

    const cs_json *replay =
        test_project_invoke(&test_scenario, "fulfillment-callback", "{\"replay\":{}}");
    assert_int_equal(test_json_int(replay, "entries"), 1);
    assert_int_equal(test_json_int(replay, "replayed"), 1);
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
    assert_int_equal(test_project_errors(&test_scenario, "replayed", &entries), 1);
    const cs_json *again =
        test_project_invoke(&test_scenario, "fulfillment-callback", "{\"replay\":{}}");
    assert_int_equal(test_json_int(again, "entries"), 0);
}

/* MAX's shipments of an order (its customer PO), as /shipments answers. */
static const cs_json *max_shipment_of(const char *po)
{
    char url[96];
    snprintf(url, sizeof(url), "%s/max/v1", test_scenario.sandbox_url);
    cs_exactmax_config config = {.base_url = url, .key = CS_STR_LIT(SB_EXACTMAX_KEY)};
    cs_exactmax *max = cs_exactmax_new(test_scenario.http, &config, NULL);
    assert_non_null(max);
    cs_exactmax_cursor cursor = {0};
    const cs_json *found = NULL;
    for (bool more = true; more && !found;) {
        const cs_json *items;
        assert_int_equal(cs_exactmax_page(max, "shipments", NULL, 500, &cursor, &test_arena, &items,
                                          &more, NULL),
                         CS_ERR_OK);
        for (const cs_json *i = items->first; i && !found; i = i->next) {
            const cs_json *cust_po = cs_json_object_get(i, CS_STR_LIT("custPo"));
            found = cust_po && cs_str_eq_c(cust_po->text, po) ? i : NULL;
        }
    }
    cs_exactmax_destroy(max);
    return found;
}

static size_t fulfillments_of(const char *order_id)
{
    char url[256];
    long status;
    snprintf(url, sizeof(url), "%s/_sandbox/shopify/us-store/orders/%s", test_scenario.sandbox_url,
             order_id);
    char *text = test_get(test_scenario.http, url, &status);
    assert_int_equal(status, 200);
    const cs_json *list =
        cs_json_object_get(test_parse(&test_arena, text, strlen(text)), CS_STR_LIT("fulfillments"));
    return list ? list->count : 0;
}

/* A shipment pushed onto the shipment queue (twice) becomes one
 * fulfillment; the next polled run finds it applied already. */
static void a_pushed_shipment_lands_once(void **st)
{
    (void)st;
    const cs_json *order = test_project_place_order(&test_scenario, "us-store", NULL);
    char id[24], po[32];
    snprintf(id, sizeof(id), "%.*s", CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("id"))->text));
    snprintf(po, sizeof(po), "us-%.*s",
             CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("order_number"))->text));
    wait_for_orders(ORDERS + 2);
    int64_t invoices;
    assert_true(ship(&invoices) > 0);
    const cs_json *shipment = max_shipment_of(po);
    assert_non_null(shipment);
    cs_buf body;
    cs_buf_init(&body, 0);
    assert_int_equal(cs_json_serialize(shipment, &body, NULL), CS_ERR_OK);
    char queue[128];
    test_project_queue_url(&test_scenario, "shipment-events", queue, sizeof(queue));
    for (int i = 0; i < 2; i++) {
        test_project_send(&test_scenario, queue, cs_buf_view(&body), NULL);
    }
    cs_buf_clean_up(&body);
    for (int i = 0; i < 100 && fulfillments_of(id) == 0; i++) {
        usleep(100 * 1000);
    }
    usleep(1000 * 1000); /* the duplicate has landed too */
    assert_int_equal(fulfillments_of(id), 1);
    const cs_json *run = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(run, "failed"), 0);
    assert_int_equal(fulfillments_of(id), 1);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
}

/* A MAX user cancels the MAX order of the storefront order with this
 * customer PO (waiting until order-export has made it). */
static void cancel_in_max(const char *po)
{
    const cs_json *order = NULL;
    for (int i = 0; i < 300 && !order; i++) {
        size_t count;
        const cs_json **all = test_project_max_orders(&test_scenario, "CU", &count);
        for (size_t k = 0; k < count && !order; k++) {
            const cs_json *cust_po = cs_json_object_get(all[k], CS_STR_LIT("custPo"));
            order = cust_po && cs_str_eq_c(cust_po->text, po) ? all[k] : NULL;
        }
        usleep(order ? 0 : 100 * 1000);
    }
    assert_non_null(order);
    char url[96];
    snprintf(url, sizeof(url), "%s/max/v1", test_scenario.sandbox_url);
    cs_exactmax_config config = {.base_url = url, .key = CS_STR_LIT(SB_EXACTMAX_KEY)};
    cs_exactmax *max = cs_exactmax_new(test_scenario.http, &config, NULL);
    const cs_json *updated;
    cs_diag diag;
    if (cs_exactmax_update_order(max, cs_json_object_get(order, CS_STR_LIT("ordNum"))->text,
                                 CS_STR_LIT("{\"status\":\"5\"}"), CS_STR_NULL, &test_arena,
                                 &updated, &diag)) {
        fail_msg("%s", diag.message);
    }
    cs_exactmax_destroy(max);
}

/* The callback passes the cancellation on once; the storefront's own
 * cancel message that follows finds MAX's order cancelled already. */
static void callback_cancels_once(void)
{
    const cs_json *run = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(run, "cancellations"), 1);
    assert_int_equal(test_json_int(run, "failed"), 0);
    usleep(1500 * 1000);
    const cs_json *again = test_project_invoke(&test_scenario, "fulfillment-callback", "{}");
    assert_int_equal(test_json_int(again, "cancellations"), 0);
    cs_error_entry *entries;
    assert_int_equal(test_project_errors(&test_scenario, "open", &entries), 0);
}

static void a_max_cancellation_reaches_shopify(void **st)
{
    (void)st;
    long status;
    const cs_json *order = test_project_place_order(&test_scenario, "us-store", NULL);
    char id[24], po[32], url[256];
    snprintf(id, sizeof(id), "%.*s", CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("id"))->text));
    snprintf(po, sizeof(po), "us-%.*s",
             CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("order_number"))->text));
    cancel_in_max(po);
    callback_cancels_once();
    snprintf(url, sizeof(url), "%s/_sandbox/shopify/us-store/orders/%s", test_scenario.sandbox_url,
             id);
    char *state = test_get(test_scenario.http, url, &status);
    assert_non_null(strstr(state, "\"cancelled\":true"));
}

static void shipments_become_deliveries_once(void **st)
{
    (void)st;
    char subscribe[256];
    snprintf(subscribe, sizeof(subscribe), "{\"queue_url\":\"%s\"}", test_scenario_queue);
    long status;
    test_project_sandbox_post(&test_scenario, "/_sandbox/commercetools/subscription", subscribe,
                              &status);
    assert_int_equal(status, 204);
    char ids[ORDERS][32];
    for (int i = 0; i < ORDERS; i++) {
        char *text = test_project_sandbox_post(&test_scenario, "/_sandbox/commercetools/orders",
                                               "{}", &status);
        assert_int_equal(status, 201);
        const cs_json *order = test_parse(&test_arena, text, strlen(text));
        snprintf(ids[i], sizeof(ids[i]), "%.*s",
                 CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("id"))->text));
    }
    wait_for_orders(ORDERS);
    int64_t invoices;
    int64_t shipments = ship(&invoices);
    assert_true(shipments > 0 && invoices > 0);
    callback_applies(shipments, invoices, invoices);

    /* Every invoiced order has MAX's invoice number in its custom field, on
     * the sync's order type, which the first invoice made. */
    cs_commercetools *ct = test_project_commercetools(&test_scenario);
    int64_t invoiced = 0;
    for (int i = 0; i < ORDERS; i++) {
        const cs_json *now = NULL;
        assert_int_equal(
            cs_commercetools_get_order(ct, cs_str_from_c(ids[i]), &test_arena, &now, NULL),
            CS_ERR_OK);
        const cs_json *number = cs_json_path(now, "custom.fields.erpInvoiceNumber");
        if (number) {
            assert_int_equal(number->text.len, 8); /* MAX's INVCE_31 */
            invoiced++;
        }
    }
    assert_int_equal(invoiced, invoices);
    cs_commercetools_destroy(ct);
}

static void a_max_cancellation_reaches_commercetools(void **st)
{
    (void)st;
    const cs_json *order = test_project_place_ct_order(&test_scenario);
    cs_str id = cs_json_object_get(order, CS_STR_LIT("id"))->text;
    char po[48];
    snprintf(po, sizeof(po), "%.*s-%.*s", CS_STR_FMT(cs_json_path(order, "store.key")->text),
             CS_STR_FMT(cs_json_object_get(order, CS_STR_LIT("orderNumber"))->text));
    cancel_in_max(po);
    callback_cancels_once();
    cs_commercetools *ct = test_project_commercetools(&test_scenario);
    const cs_json *now = NULL;
    assert_int_equal(cs_commercetools_get_order(ct, id, &test_arena, &now, NULL), CS_ERR_OK);
    assert_true(cs_str_eq_c(cs_json_object_get(now, CS_STR_LIT("orderState"))->text, "Cancelled"));
    cs_commercetools_destroy(ct);
}

int main(void)
{
    const struct CMUnitTest shopify[] = {
        cmocka_unit_test(shipments_become_fulfillments_once),
        cmocka_unit_test(a_refused_shipment_is_replayed),
        cmocka_unit_test(a_pushed_shipment_lands_once),
        cmocka_unit_test(a_max_cancellation_reaches_shopify),
    };
    const struct CMUnitTest commercetools[] = {
        cmocka_unit_test(shipments_become_deliveries_once),
        cmocka_unit_test(a_max_cancellation_reaches_commercetools),
    };
    return cmocka_run_group_tests_name("fulfillment_shopify", shopify, test_scenario_shopify,
                                       test_scenario_stop) |
           cmocka_run_group_tests_name("fulfillment_commercetools", commercetools,
                                       test_scenario_commercetools, test_scenario_stop);
}
