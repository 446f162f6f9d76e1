/* The Shopify connector against the sandbox's Shopify fake: a real HTTP
 * server on a port the OS picks, its journal read back to check what the
 * connector sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connectors/shopify/client.h"
#include "connectors/shopify/refund.h"
#include "core/timestamp.h"
#include "emulator/sandbox/sandbox.h"
#include "mapping/validate.h"
#include "testing.h"

static const int64_t NOW_MS = 1795000000000; /* the fake's clock: 2026-11-18 */

static sb_sandbox *sandbox;
static cs_http_client *http, *inspector;
static char base[128];

static cs_shopify *connect_to(const char *shop, const char *token)
{
    char url[192];
    snprintf(url, sizeof(url), "%s/shopify/%s", base, shop);
    cs_shopify_config config = {.shop_url = url, .access_token = cs_str_from_c(token)};
    cs_diag diag;
    cs_shopify *s = cs_shopify_new(http, &config, &diag);
    if (!s) {
        fail_msg("%s", diag.message);
    }
    return s;
}

static int setup(void **st)
{
    sb_opts opts = {.shopify = {.seed = 42, .now_ms = NOW_MS}};
    cs_diag diag;
    cs_http_options fast = {.backoff_base_ms = 5, .backoff_cap_ms = 20};
    if (sb_start(&opts, &sandbox, &diag) || !(http = cs_http_client_new(&fast, &diag)) ||
        !(inspector = cs_http_client_new(NULL, &diag))) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)sb_port(sandbox));
    return test_arena_setup(st);
}

static int teardown(void **st)
{
    cs_http_client_destroy(http);
    cs_http_client_destroy(inspector);
    sb_stop(sandbox);
    return test_arena_teardown(st);
}

/* A request to the sandbox's own endpoints; the body comes back in arena. */
static char *sandbox_call(const char *method, const char *path, const char *body, long *status)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_http_request req = {.method = method, .url = url, .body = cs_str_from_c(body ? body : "")};
    cs_http_response resp = {.body = &out};
    cs_diag diag;
    if (cs_http_send(inspector, &req, &resp, &diag) && resp.status == 0) {
        fail_msg("%s %s: %s", method, path, diag.message);
    }
    *status = resp.status;
    char *text = cs_arena_strndup(&test_arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

static const cs_json *journal(void)
{
    long status;
    char *text = sandbox_call("GET", "/_sandbox/journal?system=shopify", NULL, &status);
    assert_int_equal(status, 200);
    return test_parse(&test_arena, text, strlen(text));
}

static void forget_journal(void)
{
    long status;
    sandbox_call("DELETE", "/_sandbox/journal", NULL, &status);
    assert_int_equal(status, 204);
}

static size_t count_responses_with(const cs_json *entries, const char *text)
{
    size_t n = 0;
    for (const cs_json *e = entries->first; e; e = e->next) {
        cs_str response = cs_json_object_get(e, CS_STR_LIT("response"))->text;
        n += response.len && memmem(response.ptr, response.len, text, strlen(text)) != NULL;
    }
    return n;
}

/* A refund read through GraphQL, and the same refund in the REST JSON the
 * fake sends with webhooks (here the answer to cancelling the order). */
static void check_refund(const cs_shopify_order_item *it)
{
    const cs_return *r = &it->refunds[0];
    assert_int_equal(it->refund_count, 1);
    assert_int_equal(r->line_count, 1);
    assert_int_equal(r->lines[0].quantity, 1);
    assert_true(cs_str_eq(r->lines[0].line_id, it->order.lines[0].line_id));
    assert_true(cs_str_eq(r->order_ids.by_system[CS_SYS_SHOPIFY], it->order.meta.source_id));
    assert_true(r->total.minor_units > 0 && r->total.minor_units <= it->order.total.minor_units);

    long status;
    char path[128];
    snprintf(path, sizeof(path), "/_sandbox/shopify/eu-store/orders/%.*s/cancel",
             CS_STR_FMT(it->order.meta.source_id));
    char *rest = sandbox_call("POST", path, "{}", &status);
    assert_int_equal(status, 200);
    cs_return *from_webhook;
    size_t n;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_shopify_order_refunds(test_parse(&test_arena, rest, strlen(rest)), false,
                                              &it->order, false, &test_arena, &from_webhook, &n,
                                              &problems),
                     CS_ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(from_webhook->total.minor_units, r->total.minor_units);
    assert_int_equal(from_webhook->lines[0].amount.minor_units, r->lines[0].amount.minor_units);
}

/* Every order of the shop, page by page; the orders are checked as they
 * come. */
static const cs_shopify_order_item *refunded; /* one the last read met */

static size_t read_all_orders(cs_shopify *s, int64_t since_ms, int first, int *pages)
{
    cs_str after = CS_STR_NULL;
    size_t total = 0;
    int64_t last_update = INT64_MIN;
    cs_shopify_page page = {.has_next = true};
    for (*pages = 0; page.has_next; (*pages)++) {
        cs_shopify_order_item *items;
        size_t count;
        cs_diag diag;
        cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("eu")};
        if (cs_shopify_orders_page(s, since_ms, after, first, &opts, &test_arena, &items, &count,
                                   &page, &diag)) {
            fail_msg("page %d: %s", *pages, diag.message);
        }
        for (size_t i = 0; i < count; i++) {
            cs_problems problems;
            cs_problems_init(&problems, &test_arena);
            if (items[i].result || cs_validate_order(&items[i].order, NULL, &problems)) {
                fail_msg("order %zu: %s%s", total + i,
                         test_problems_text(&test_arena, &items[i].problems),
                         test_problems_text(&test_arena, &problems));
            }
            assert_true(items[i].order.updated_at_ms >= last_update);
            assert_true(items[i].order.updated_at_ms >= since_ms);
            last_update = items[i].order.updated_at_ms;
            if (items[i].refund_count && !refunded) {
                refunded = &items[i];
            }
        }
        total += count;
        after = page.end_cursor;
    }
    return total;
}

/* The first page of a shop's orders; the test fails if it cannot be read. */
static cs_shopify_order_item *first_page(cs_shopify *s, int first, size_t *count)
{
    cs_shopify_order_item *items;
    cs_shopify_page page;
    cs_diag diag;
    if (cs_shopify_orders_page(s, 0, CS_STR_NULL, first, NULL, &test_arena, &items, count, &page,
                               &diag)) {
        fail_msg("%s", diag.message);
    }
    return items;
}

static void orders_are_read_page_by_page_and_add_up(void **st)
{
    (void)st;
    forget_journal();
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    int pages;
    assert_int_equal(read_all_orders(s, 0, 50, &pages), 160);
    assert_int_equal(pages, 4);
    const cs_json *entries = journal();
    assert_true(refunded != NULL);
    check_refund(refunded);
    assert_int_equal(entries->count, 4);
    /* The pages after the first carry the cursor of the one before. */
    cs_str second = cs_json_object_get(cs_json_array_at(entries, 1), CS_STR_LIT("request"))->text;
    assert_non_null(memmem(second.ptr, second.len, "\"after\":\"", 9));
    /* Incremental: only what changed since a time comes back. */
    int64_t since = NOW_MS - 15ll * 86400000;
    size_t recent = read_all_orders(s, since, 50, &pages);
    assert_true(recent > 10 && recent < 160);
    cs_shopify_destroy(s);
}

/* A bucket smaller than a few pages: the connector waits for it to refill
 * instead of being throttled. A second client that does not know what the
 * first spent is throttled once, and retries. */
static void throttling_is_paced_and_retried(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/shopify/bucket", "{\"size\":300,\"restore_rate\":1000}",
                 &status);
    assert_int_equal(status, 204);
    forget_journal();
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    int pages;
    assert_int_equal(read_all_orders(s, 0, 50, &pages), 160);
    assert_int_equal(count_responses_with(journal(), "THROTTLED"), 0);

    cs_http_client *other_http = cs_http_client_new(NULL, NULL);
    char url[192];
    snprintf(url, sizeof(url), "%s/shopify/eu-store", base);
    cs_shopify_config config = {.shop_url = url,
                                .access_token = CS_STR_LIT("shpat_sandbox_eu-store")};
    cs_shopify *other = cs_shopify_new(other_http, &config, NULL);
    forget_journal();
    size_t count;
    /* Both read a 252-point page at once from a 300-point bucket. */
    first_page(s, 50, &count);
    first_page(other, 50, &count);
    assert_int_equal(count, 50);
    assert_int_equal(count_responses_with(journal(), "THROTTLED"), 1);
    cs_shopify_destroy(other);
    cs_http_client_destroy(other_http);
    cs_shopify_destroy(s);
    sandbox_call("POST", "/_sandbox/shopify/bucket", "{\"size\":1000,\"restore_rate\":50}",
                 &status);
}

static void server_errors_and_resets_are_retried(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/faults", "{\"system\":\"shopify\",\"status\":503,\"count\":2}",
                 &status);
    assert_int_equal(status, 204);
    forget_journal();
    cs_shopify *s = connect_to("us-store", "shpat_sandbox_us-store");
    size_t count;
    first_page(s, 10, &count);
    assert_int_equal(count, 10);
    const cs_json *entries = journal();
    assert_int_equal(entries->count, 3);
    assert_int_equal(count_responses_with(entries, "(injected)"), 2);

    sandbox_call("POST", "/_sandbox/faults", "{\"system\":\"shopify\",\"reset\":true,\"count\":1}",
                 &status);
    forget_journal();
    first_page(s, 10, &count);
    assert_int_equal(journal()->count, 2);
    cs_shopify_destroy(s);
}

static void customers_are_read_page_by_page(void **st)
{
    (void)st;
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    cs_str after = CS_STR_NULL;
    cs_shopify_page page = {.has_next = true};
    size_t total = 0;
    int pages = 0;
    for (; page.has_next; pages++) {
        cs_shopify_customer_item *items;
        size_t count;
        cs_diag diag;
        if (cs_shopify_customers_page(s, 0, after, 15, &test_arena, &items, &count, &page, &diag)) {
            fail_msg("%s", diag.message);
        }
        for (size_t i = 0; i < count; i++) {
            assert_int_equal(items[i].result, CS_ERR_OK);
            /* The fake writes "Hiro.Jansen.23@..."; the record keeps it normalized. */
            cs_str email = items[i].customer.email;
            for (size_t k = 0; k < email.len; k++) {
                assert_false(email.ptr[k] >= 'A' && email.ptr[k] <= 'Z');
            }
            assert_int_equal(items[i].customer.consent_count, 1);
        }
        total += count;
        after = page.end_cursor;
    }
    assert_int_equal(total, 40);
    assert_int_equal(pages, 3);
    cs_shopify_destroy(s);
}

static void a_wrong_token_is_a_permanent_error(void **st)
{
    (void)st;
    cs_shopify *s = connect_to("eu-store", "shpat_wrong");
    cs_shopify_order_item *items;
    size_t count;
    cs_shopify_page page;
    cs_diag diag;
    assert_int_equal(cs_shopify_orders_page(s, 0, CS_STR_NULL, 10, NULL, &test_arena, &items,
                                            &count, &page, &diag),
                     CS_ERR_HTTP_PERMANENT);
    cs_shopify_destroy(s);
}

static void stock_is_looked_up_and_set_with_compare_and_set(void **st)
{
    (void)st;
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    cs_str skus[3] = {CS_STR_LIT("SKU-0001"), CS_STR_LIT("SKU-0002"), CS_STR_LIT("NO-SUCH-SKU")};
    cs_shopify_item items[3];
    cs_diag diag;
    if (cs_shopify_items(s, skus, 3, true, &test_arena, items, &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_true(
        cs_str_starts_with(items[0].inventory_item_id, CS_STR_LIT("gid://shopify/InventoryItem/")));
    assert_int_equal(items[2].inventory_item_id.len, 0);
    assert_true(items[0].level_count >= 1);
    /* Cached: asking again without levels sends nothing. */
    forget_journal();
    assert_int_equal(cs_shopify_items(s, skus, 2, false, &test_arena, items + 1, &diag), CS_ERR_OK);
    assert_int_equal(journal()->count, 0);

    cs_shopify_location *locations;
    size_t location_count;
    assert_int_equal(cs_shopify_locations(s, &test_arena, &locations, &location_count, &diag),
                     CS_ERR_OK);
    assert_int_equal(location_count, 3);
    assert_true(cs_str_eq_c(locations[0].name, "Berlin"));

    /* Canonical levels, with the location named as configuration names it. */
    cs_stock_level levels[3] = {
        {.sku = CS_STR_LIT("SKU-0001"), .location = CS_STR_LIT("Berlin"), .available = 17},
        {.sku = CS_STR_LIT("NO-SUCH-SKU"), .location = CS_STR_LIT("Berlin"), .available = 1},
        {.sku = CS_STR_LIT("SKU-0002"), .location = CS_STR_LIT("Narnia"), .available = 1}};
    cs_shopify_quantity *quantities;
    size_t quantity_count;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_shopify_quantities(levels, 3, items, 3, locations, location_count,
                                           &test_arena, &quantities, &quantity_count, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    test_expect_text("unpublishable", test_problems_text(&test_arena, &problems),
                     "levels[1].sku: unpublishable: the shop has no variant with this SKU\n"
                     "levels[2].location: unpublishable: the shop has no location with this id "
                     "or name\n");
    assert_int_equal(quantity_count, 1);
    cs_shopify_quantity q = quantities[0];
    assert_true(cs_str_eq(q.location_id, locations[0].id));
    assert_int_equal(q.compare_quantity, items[0].levels[0].available);
    if (cs_shopify_set_available(s, &q, 1, CS_STR_LIT("gid://cs-sync/StockSnapshot/1"),
                                 CS_STR_LIT("key-1"), &test_arena, &diag)) {
        fail_msg("%s", diag.message);
    }
    long status;
    char *stock = sandbox_call("GET", "/_sandbox/shopify/eu-store/stock", NULL, &status);
    char expected[160];
    snprintf(expected, sizeof(expected), "\"SKU-0001\":{\"%.*s\":17", CS_STR_FMT(q.location_id));
    assert_non_null(strstr(stock, expected));
    /* What we published last is no longer what Shopify holds. */
    q.quantity = 5;
    q.compare_quantity = 16;
    assert_int_equal(cs_shopify_set_available(s, &q, 1, CS_STR_LIT("gid://cs-sync/StockSnapshot/2"),
                                              CS_STR_LIT("key-2"), &test_arena, &diag),
                     CS_ERR_CONDITION_FAILED);
    assert_string_equal(diag.field, "input.quantities.0.compareQuantity");
    assert_non_null(strstr(diag.message, "COMPARE_QUANTITY_STALE"));
    cs_shopify_destroy(s);
}

/* The first order with nothing shipped yet. */
static const cs_shopify_order_item *unshipped_order(cs_shopify *s)
{
    size_t count;
    const cs_shopify_order_item *items = first_page(s, 50, &count);
    for (size_t i = 0; i < count; i++) {
        if (cs_str_eq_c(items[i].order.fulfillment_status, "unfulfilled") &&
            cs_str_eq_c(items[i].order.order_status, "open")) {
            return &items[i];
        }
    }
    fail_msg("no unshipped order in the first page");
    return NULL;
}

static void a_partial_shipment_becomes_fulfillments_and_an_invoice_a_metafield(void **st)
{
    (void)st;
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    const cs_order *o = &unshipped_order(s)->order;
    cs_shipment_line line = {.line_id = o->lines[0].line_id, .sku = o->lines[0].sku, .quantity = 1};
    cs_shipment shipment = {.carrier = CS_STR_LIT("DHL"),
                            .tracking_number = CS_STR_LIT("00340434161094042557"),
                            .lines = &line,
                            .line_count = 1};
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_diag diag;
    if (cs_shopify_ship(s, o->meta.source_id, &shipment, NULL, &test_arena, &problems, &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_int_equal(cs_shopify_set_invoice(s, o->meta.source_id, CS_STR_LIT("INV-2026-0042"),
                                            &test_arena, &diag),
                     CS_ERR_OK);
    char path[128];
    snprintf(path, sizeof(path), "/_sandbox/shopify/eu-store/orders/%.*s",
             CS_STR_FMT(o->meta.source_id));
    long status;
    char *state = sandbox_call("GET", path, NULL, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(state, "\"trackingNumber\":\"00340434161094042557\""));
    assert_non_null(strstr(state, "\"value\":\"INV-2026-0042\""));
    char remaining[64];
    snprintf(remaining, sizeof(remaining), "\"%.*s\":%lld", CS_STR_FMT(o->lines[0].line_id),
             (long long)(o->lines[0].quantity - 1));
    assert_non_null(strstr(state, remaining));

    /* More than is left to ship: refused before anything is sent. */
    line.quantity = o->lines[0].quantity + 5;
    forget_journal();
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(
        cs_shopify_ship(s, o->meta.source_id, &shipment, NULL, &test_arena, &problems, &diag),
        CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(journal()->count, 1); /* the fulfillment orders were read, nothing created */
    assert_non_null(strstr(test_problems_text(&test_arena, &problems), "unfulfillable"));
    cs_shopify_destroy(s);
}

/* A shop of thousands of orders pages the same way: every order once, in
 * (updated_at, id) order, and one placed or changed after a read is in the
 * next read from where it stopped. (Runs last: it replaces the sandbox.) */
static void thousands_of_orders_page_in_order(void **st)
{
    (void)st;
    sb_stop(sandbox);
    sb_opts opts = {.shopify = {.seed = 42, .now_ms = NOW_MS, .orders_per_shop = 3000}};
    cs_diag diag;
    if (sb_start(&opts, &sandbox, &diag)) {
        fail_msg("%s", diag.message);
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)sb_port(sandbox));
    cs_shopify *s = connect_to("eu-store", "shpat_sandbox_eu-store");
    long status;
    sandbox_call("POST", "/_sandbox/shopify/bucket", "{\"restore_rate\": 100000}", &status);
    assert_int_equal(status, 204);
    int pages;
    assert_int_equal(read_all_orders(s, 0, 100, &pages), 3000);
    assert_int_equal(pages, 30);
    sandbox_call("POST", "/_sandbox/shopify/eu-store/orders", "{}", &status);
    assert_int_equal(status, 200);
    char path[96];
    snprintf(path, sizeof(path), "/_sandbox/shopify/eu-store/orders/%lld/cancel",
             (long long)(5000000000 + 100000 + 7));
    sandbox_call("POST", path, "{}", &status);
    assert_int_equal(status, 200);
    assert_int_equal(read_all_orders(s, NOW_MS + 1, 100, &pages), 2);
    assert_int_equal(read_all_orders(s, 0, 100, &pages), 3001);
    cs_shopify_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orders_are_read_page_by_page_and_add_up),
        cmocka_unit_test(throttling_is_paced_and_retried),
        cmocka_unit_test(server_errors_and_resets_are_retried),
        cmocka_unit_test(customers_are_read_page_by_page),
        cmocka_unit_test(a_wrong_token_is_a_permanent_error),
        cmocka_unit_test(stock_is_looked_up_and_set_with_compare_and_set),
        cmocka_unit_test(a_partial_shipment_becomes_fulfillments_and_an_invoice_a_metafield),
        cmocka_unit_test(thousands_of_orders_page_in_order),
    };
    return cmocka_run_group_tests_name("shopify_client", tests, setup, teardown);
}
