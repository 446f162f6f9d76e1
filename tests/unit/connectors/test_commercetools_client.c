/* The commercetools connector against the sandbox's commercetools fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>

#include "connectors/commercetools/actions.h"
#include "connectors/commercetools/client.h"
#include "connectors/commercetools/customer.h"
#include "connectors/commercetools/message.h"
#include "connectors/commercetools/order.h"
#include "emulator/sandbox/commercetools.h"
#include "emulator/sandbox/sandbox.h"
#include "emulator_fixture.h"
#include "fixture.h"
#include "mapping/validate.h"
#include "testing.h"

static sb_sandbox *sandbox;
static cs_http_client *http;
static cs_commercetools *ct;
static char base[64];

static int setup(void **st)
{
    cs_diag diag;
    cs_http_options fast = {.backoff_base_ms = 5, .backoff_cap_ms = 20};
    if (sb_start(NULL, &sandbox, &diag) || !(http = cs_http_client_new(&fast, &diag))) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)sb_port(sandbox));
    char auth[128], api[128];
    snprintf(auth, sizeof(auth), "%s/commercetools/oauth/token", base);
    snprintf(api, sizeof(api), "%s/commercetools/%s", base, SB_CT_PROJECT);
    cs_commercetools_config config = {.auth_url = auth,
                                      .api_url = api,
                                      .client_id = CS_STR_LIT(SB_CT_CLIENT_ID),
                                      .client_secret = CS_STR_LIT(SB_CT_CLIENT_SECRET),
                                      .scope = "manage_orders:" SB_CT_PROJECT};
    ct = cs_commercetools_new(http, &config, &diag);
    return ct ? test_arena_setup(st) : -1;
}

static int teardown(void **st)
{
    cs_commercetools_destroy(ct);
    cs_http_client_destroy(http);
    sb_stop(sandbox);
    return test_arena_teardown(st);
}

static char *sandbox_call(const char *method, const char *path, const char *body, long *status)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base, path);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_http_request req = {.method = method, .url = url, .body = cs_str_from_c(body ? body : "")};
    cs_http_response resp = {.body = &out};
    cs_http_send(http, &req, &resp, NULL);
    *status = resp.status;
    char *text = cs_arena_strndup(&test_arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

static size_t count_in_journal(const char *path_part)
{
    long status;
    char *journal = sandbox_call("GET", "/_sandbox/journal?system=commercetools", NULL, &status);
    size_t n = 0;
    for (char *at = journal; (at = strstr(at, path_part)); at++) {
        n++;
    }
    return n;
}

/* 10,500 orders: past the 10,000 offset cap, every order once, in order,
 * and each one adds up. */
static void keyset_paging_reads_past_the_offset_cap(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/commercetools/seed", "{\"orders\":10500}", &status);
    assert_int_equal(status, 204);
    cs_commercetools_cursor cursor = {0};
    size_t total = 0;
    int pages = 0;
    int64_t last_ms = INT64_MIN;
    char last_id[64] = "";
    size_t eur = 0, gbp = 0, jpy = 0;
    for (;;) {
        cs_arena page_arena;
        cs_arena_init(&page_arena, 0, 0);
        const cs_json *results;
        cs_diag diag;
        if (cs_commercetools_orders_page(ct, &cursor, 500, &page_arena, &results, &diag)) {
            fail_msg("page %d: %s", pages, diag.message);
        }
        size_t n = results->count;
        for (const cs_json *o = results->first; o; o = o->next) {
            cs_order order;
            cs_problems problems;
            cs_problems_init(&problems, &page_arena);
            if (cs_commercetools_order_decode(o, &page_arena, &order, &problems) ||
                cs_validate_order(&order, NULL, &problems)) {
                fail_msg("%s", test_problems_text(&test_arena, &problems));
            }
            bool after = order.updated_at_ms > last_ms ||
                         (order.updated_at_ms == last_ms &&
                          strcmp(last_id, cs_arena_strndup(&page_arena, order.meta.source_id)) < 0);
            assert_true(after);
            eur += cs_str_eq_c(order.currency, "EUR") && cs_str_eq_c(order.store_code, "de-store");
            gbp += cs_str_eq_c(order.currency, "GBP") && cs_str_eq_c(order.store_code, "uk-store");
            jpy += cs_str_eq_c(order.currency, "JPY") && cs_str_eq_c(order.locale, "ja-JP");
            last_ms = order.updated_at_ms;
            snprintf(last_id, sizeof(last_id), "%.*s", CS_STR_FMT(order.meta.source_id));
        }
        cs_arena_clean_up(&page_arena);
        total += n;
        pages += n > 0;
        if (n < 500) {
            break;
        }
    }
    assert_int_equal(total, 10500);
    assert_int_equal(pages, 21);
    assert_int_equal(eur, 7000); /* four orders in six from the German store */
    assert_int_equal(gbp, 1750);
    assert_int_equal(jpy, 1750);
    /* One token for the whole read. */
    assert_int_equal(count_in_journal("/commercetools/oauth/token"), 1);
}

/* The project's 60 customers in pages of 7: each once, with their group's
 * key, the companies with their VAT ids, every store's locale; and each
 * one's business unit, which makes buyers without a company of their own
 * B2B too. */
static void customers_are_read_by_keyset(void **st)
{
    (void)st;
    cs_commercetools_cursor cursor = {0};
    size_t total = 0, companies = 0, vip = 0, japanese = 0, buyers = 0, divisions = 0;
    for (int page = 0; page < 20; page++) {
        const cs_json *results;
        cs_diag diag;
        if (cs_commercetools_customers_page(ct, &cursor, 7, &test_arena, &results, &diag)) {
            fail_msg("page %d: %s", page, diag.message);
        }
        for (const cs_json *c = results->first; c; c = c->next) {
            cs_customer customer;
            cs_problems problems;
            cs_problems_init(&problems, &test_arena);
            if (cs_commercetools_customer_decode(c, &test_arena, &customer, &problems)) {
                fail_msg("%s", test_problems_text(&test_arena, &problems));
            }
            assert_int_equal(customer.address_count, 1);
            assert_int_equal(customer.email.ptr[0], tolower(customer.email.ptr[0]));
            if (customer.b2b) {
                companies++;
                assert_true(customer.company.len > 0 && customer.tax_exempt_id.len > 0);
                assert_true(cs_str_eq_c(customer.customer_group, "b2b"));
            }
            vip += cs_str_eq_c(customer.customer_group, "vip");
            japanese += cs_str_eq_c(customer.locale, "ja-JP") &&
                        cs_str_eq_c(customer.addresses[0].country, "JP");
            const cs_json *units;
            if (cs_commercetools_business_units_of(ct, customer.meta.source_id, &test_arena, &units,
                                                   &diag)) {
                fail_msg("%s", diag.message);
            }
            if (units->count > 0) {
                assert_int_equal(cs_commercetools_business_unit_apply(units->first, &test_arena,
                                                                      &customer, &problems),
                                 CS_ERR_OK);
                assert_true(customer.b2b && customer.company.len > 0);
                buyers++;
                size_t n = customer.parent_account.len;
                divisions +=
                    n > 11 && memcmp(customer.parent_account.ptr + n - 11, "-purchasing", 11) == 0;
            }
        }
        total += results->count;
        if (results->count < 7) {
            break;
        }
    }
    assert_int_equal(total, 60);
    assert_int_equal(companies, 15);
    assert_int_equal(vip, 15);
    assert_int_equal(japanese, 20);
    assert_int_equal(buyers, 15 + 15 + 8); /* the companies, their buyers, the divisions' */
    assert_int_equal(divisions, 8);
}

/* The published catalog by keyset, a page of three products at a time:
 * each product's variants, master first, with the SKUs the orders buy. */
static void the_catalog_is_read_by_keyset(void **st)
{
    (void)st;
    cs_commercetools_cursor cursor = {0};
    char skus[64][16];
    size_t n = 0;
    for (int page = 0; page < 10; page++) {
        const cs_json *results;
        cs_diag diag;
        if (cs_commercetools_products_page(ct, &cursor, 3, &test_arena, &results, &diag)) {
            fail_msg("page %d: %s", page, diag.message);
        }
        for (const cs_json *p = results->first; p; p = p->next) {
            cs_product *variants;
            size_t count;
            assert_int_equal(cs_commercetools_product_variants(p, &test_arena, &variants, &count),
                             CS_ERR_OK);
            assert_int_equal(count, 3);
            for (size_t v = 0; v < count && n < 64; v++, n++) {
                snprintf(skus[n], sizeof(skus[n]), "%.*s", CS_STR_FMT(variants[v].sku));
                assert_true(cs_str_starts_with(variants[v].variant_id, variants[v].product_id));
            }
            cs_str master = variants[0].variant_id;
            assert_true(master.len > 2 && memcmp(master.ptr + master.len - 2, "/1", 2) == 0);
        }
        if (results->count < 3) {
            break;
        }
    }
    assert_int_equal(n, 24);
    assert_string_equal(skus[0], "SKU-0001");
    assert_string_equal(skus[23], "SKU-0024");
}

typedef struct builder {
    int calls;
    const char *touch; /* the sandbox path that has another client change the order */
} builder;

/* Confirms the order; the first time, another client changes it between
 * the read and the write. */
static cs_error confirm(void *user, const cs_json *order, int64_t version, cs_buf *body,
                        cs_diag *diag)
{
    (void)order;
    builder *b = user;
    if (b->calls++ == 0) {
        long status;
        sandbox_call("POST", b->touch, "{}", &status);
    }
    return cs_commercetools_order_state_update(CS_STR_LIT("open"), version, body, diag);
}

static void a_concurrent_modification_is_read_again(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/commercetools/seed", "{\"orders\":50}", &status);
    builder b = {0, "/_sandbox/commercetools/orders/ct-ord-000007/touch"};
    const cs_json *updated;
    cs_diag diag;
    if (cs_commercetools_update_order(ct, CS_STR_LIT("ct-ord-000007"), confirm, &b, &test_arena,
                                      &updated, &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_int_equal(b.calls, 2);
    int64_t version;
    assert_int_equal(cs_json_get_int64(updated, "version", &version, NULL), CS_ERR_OK);
    assert_int_equal(version, 2 + 7 % 3 + 1); /* seeded 2, touched, updated */
    assert_int_equal(count_in_journal("ConcurrentModification"), 1);

    /* An unknown order is named. */
    builder none = {0, "/_sandbox/commercetools/orders/nope/touch"};
    assert_int_equal(cs_commercetools_update_order(ct, CS_STR_LIT("nope"), confirm, &none,
                                                   &test_arena, &updated, &diag),
                     CS_ERR_HTTP_PERMANENT);
    assert_string_equal(diag.field, "ResourceNotFound");
}

/* 503s are retried; a revoked token is renewed; a token that lives less
 * than the renewal margin is fetched again for each call. */
static void overload_is_retried_and_short_tokens_renewed(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/faults",
                 "{\"system\":\"commercetools\",\"status\":503,\"count\":2}", &status);
    cs_commercetools_cursor cursor = {0};
    const cs_json *results;
    cs_diag diag;
    assert_int_equal(cs_commercetools_orders_page(ct, &cursor, 10, &test_arena, &results, &diag),
                     CS_ERR_OK);
    assert_int_equal(results->count, 10);
    assert_int_equal(count_in_journal("OverCapacity"), 2);

    sandbox_call("POST", "/_sandbox/commercetools/token", "{\"lifetime_s\":30}", &status);
    size_t before = count_in_journal("/commercetools/oauth/token");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            cs_commercetools_orders_page(ct, &cursor, 10, &test_arena, &results, &diag), CS_ERR_OK);
    }
    /* The revoked token is refused (401) and renewed; the new one lives less
     * than the renewal margin, so each later call fetches its own. */
    assert_int_equal(count_in_journal("/commercetools/oauth/token") - before, 3);
    sandbox_call("POST", "/_sandbox/commercetools/token", "{\"lifetime_s\":172800}", &status);
}

/* One update action, as the builder gives it. */
static cs_error single_action(void *user, const cs_json *order, int64_t version, cs_buf *body,
                              cs_diag *diag)
{
    (void)order;
    (void)diag;
    return cs_buf_appendf(body, "{\"version\":%lld,\"actions\":[%s]}", (long long)version,
                          (const char *)user);
}

/* Every message on the queue, as the flow would take them: up to `want`. */
static size_t receive_all(const char *emulator, const char *queue_url, size_t want,
                          const cs_json **out)
{
    char url[128], body[256];
    snprintf(url, sizeof(url), "%s/", emulator);
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":2}", queue_url);
    const char *headers[] = {"X-Amz-Target: AmazonSQS.ReceiveMessage",
                             "Content-Type: application/x-amz-json-1.0", NULL};
    size_t n = 0;
    for (int round = 0; round < 10 && n < want; round++) {
        cs_buf answer;
        cs_buf_init(&answer, 0);
        cs_http_request req = {
            .method = "POST", .url = url, .headers = headers, .body = cs_str_from_c(body)};
        cs_http_response resp = {.body = &answer};
        assert_int_equal(cs_http_send(http, &req, &resp, NULL), CS_ERR_OK);
        char *text = cs_arena_strndup(&test_arena, cs_buf_view(&answer));
        cs_buf_clean_up(&answer);
        const cs_json *messages =
            cs_json_object_get(test_parse(&test_arena, text, strlen(text)), CS_STR_LIT("Messages"));
        for (const cs_json *m = messages ? messages->first : NULL; m && n < want; m = m->next) {
            cs_str b = cs_json_object_get(m, CS_STR_LIT("Body"))->text;
            out[n++] = test_parse(&test_arena, b.ptr, b.len);
        }
    }
    return n;
}

/* Two updates of one order, each message sent twice and the pair swapped:
 * the consumer's rules (dedupe by id, drop what is older than applied)
 * apply the newer once and nothing else. */
static void duplicated_and_reordered_messages_reach_a_queue(void **st)
{
    (void)st;
    test_emulator em;
    test_emulator_start(&em, "sandbox/ct-queue.yaml");
    cs_diag diag;
    char queue_url[128], subscribe[256];
    snprintf(queue_url, sizeof(queue_url), "%s/000000000000/ct-orders", em.endpoint);
    snprintf(subscribe, sizeof(subscribe),
             "{\"queue_url\":\"%s\",\"duplicates\":1,\"reorder\":true}", queue_url);
    long status;
    sandbox_call("POST", "/_sandbox/commercetools/subscription", subscribe, &status);
    assert_int_equal(status, 204);
    const cs_json *updated;
    assert_int_equal(cs_commercetools_update_order(
                         ct, CS_STR_LIT("ct-ord-000011"), single_action,
                         "{\"action\":\"changeOrderState\",\"orderState\":\"Confirmed\"}",
                         &test_arena, &updated, &diag),
                     CS_ERR_OK);
    assert_int_equal(cs_commercetools_update_order(
                         ct, CS_STR_LIT("ct-ord-000011"), single_action,
                         "{\"action\":\"addDelivery\",\"items\":[{\"id\":\"li-000011-0\","
                         "\"quantity\":1}],\"parcels\":[]}",
                         &test_arena, &updated, &diag),
                     CS_ERR_OK);
    const cs_json *got[8];
    assert_int_equal(receive_all(em.endpoint, queue_url, 4, got), 4);
    char seen[4][40];
    size_t seen_count = 0, applied_count = 0;
    int64_t applied = 0, first_version = -1;
    for (size_t i = 0; i < 4; i++) {
        cs_commercetools_message m;
        cs_problems problems;
        cs_problems_init(&problems, &test_arena);
        if (cs_commercetools_message_decode(got[i], &test_arena, &m, &problems)) {
            fail_msg("%s", test_problems_text(&test_arena, &problems));
        }
        first_version = first_version < 0 ? m.resource_version : first_version;
        bool duplicate = false;
        for (size_t k = 0; k < seen_count; k++) {
            duplicate = duplicate || cs_str_eq_c(m.id, seen[k]);
        }
        if (!duplicate) {
            snprintf(seen[seen_count++], sizeof(seen[0]), "%.*s", CS_STR_FMT(m.id));
        }
        if (!duplicate && !cs_commercetools_message_is_stale(&m, applied)) {
            applied = m.resource_version;
            applied_count++;
            assert_int_equal(m.payload, CS_CT_DELIVERY);
        }
    }
    assert_int_equal(seen_count, 2);    /* each of the two sent twice */
    assert_int_equal(applied_count, 1); /* the newer; the late older one is stale */
    assert_int_equal(applied, first_version);

    /* A customer places an order: OrderCreated carries the whole order. */
    snprintf(subscribe, sizeof(subscribe), "{\"queue_url\":\"%s\"}", queue_url);
    sandbox_call("POST", "/_sandbox/commercetools/subscription", subscribe, &status);
    sandbox_call("POST", "/_sandbox/commercetools/orders", NULL, &status);
    assert_int_equal(status, 201);
    assert_int_equal(receive_all(em.endpoint, queue_url, 1, got), 1);
    cs_commercetools_message created;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_commercetools_message_decode(got[0], &test_arena, &created, &problems) ||
        cs_validate_order(&created.order, NULL, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    assert_int_equal(created.payload, CS_CT_ORDER);
    assert_true(cs_str_eq(created.resource_id, created.order.meta.source_id));
    assert_int_equal(created.resource_version, 1);
    sandbox_call("POST", "/_sandbox/commercetools/subscription", "{\"queue_url\":\"\"}", &status);
    test_emulator_stop(&em);
}

/* The fake's entry for the SKU at the channel: its quantity on stock, or
 * -1 when there is none. */
static int64_t entry_quantity(const char *sku, const char *channel, int64_t *version)
{
    long status;
    char *text = sandbox_call("GET", "/_sandbox/commercetools/inventory", NULL, &status);
    const cs_json *entries =
        cs_json_object_get(test_parse(&test_arena, text, strlen(text)), CS_STR_LIT("entries"));
    for (const cs_json *e = entries ? entries->first : NULL; e; e = e->next) {
        cs_str s = CS_STR_NULL, c = CS_STR_NULL;
        int64_t quantity = -1;
        cs_json_opt_string(e, "sku", &s, NULL);
        cs_json_opt_string(e, "channel", &c, NULL);
        if (cs_str_eq_c(s, sku) && cs_str_eq_c(c, channel)) {
            cs_json_get_int64(e, "version", version, NULL);
            cs_json_get_int64(e, "quantityOnStock", &quantity, NULL);
            return quantity;
        }
    }
    return -1;
}

static void set_stock(const char *sku, int64_t available, const char *channel, bool want_written)
{
    cs_stock_level level = {.sku = cs_str_from_c(sku), .available = available};
    bool written = !want_written;
    cs_diag diag;
    if (cs_commercetools_set_stock(ct, &level, cs_str_from_c(channel), &written, &diag)) {
        fail_msg("%s at %s: %s", sku, channel, diag.message);
    }
    assert_int_equal(written, want_written);
}

/* Stock levels become inventory entries: changed when they differ, left
 * alone when they are right, created when missing; another client's write
 * in between (an update or a create) is read again and redone. */
static void stock_levels_become_inventory_entries(void **st)
{
    (void)st;
    long status;
    sandbox_call("POST", "/_sandbox/commercetools/seed", "{\"orders\":50}", &status);
    int64_t version = 0;
    assert_int_equal(entry_quantity("SKU-0003", "wh-berlin", &version), 7); /* seeded */

    set_stock("SKU-0003", 20, "wh-berlin", true);
    assert_int_equal(entry_quantity("SKU-0003", "wh-berlin", &version), 20);
    assert_int_equal(version, 2);
    set_stock("SKU-0003", 20, "wh-berlin", false); /* already right */
    assert_int_equal(entry_quantity("SKU-0003", "wh-berlin", &version), 20);
    assert_int_equal(version, 2);

    assert_int_equal(entry_quantity("SKU-0003", "wh-paris", &version), -1);
    set_stock("SKU-0003", 4, "wh-paris", true); /* created */
    assert_int_equal(entry_quantity("SKU-0003", "wh-paris", &version), 4);
    set_stock("SKU-0003", -3, "wh-paris", true); /* oversold: zero, not negative */
    assert_int_equal(entry_quantity("SKU-0003", "wh-paris", &version), 0);

    size_t conflicts = count_in_journal("ConcurrentModification");
    sandbox_call("POST", "/_sandbox/commercetools/race", "{\"writes\":1}", &status);
    assert_int_equal(status, 204);
    set_stock("SKU-0003", 11, "wh-berlin", true);
    assert_int_equal(entry_quantity("SKU-0003", "wh-berlin", &version), 11);
    assert_int_equal(version, 4); /* the other client's change, then ours */
    assert_int_equal(count_in_journal("ConcurrentModification") - conflicts, 1);

    sandbox_call("POST", "/_sandbox/commercetools/race", "{\"writes\":1}", &status);
    set_stock("SKU-0020", 6, "wh-paris", true);
    assert_int_equal(entry_quantity("SKU-0020", "wh-paris", &version), 6);
    assert_int_equal(version, 2); /* created by the other client, then changed */
    assert_int_equal(count_in_journal("DuplicateField"), 1);

    /* Each channel's id is looked up once. */
    assert_int_equal(count_in_journal("/channels/key=wh-berlin"), 1);
    assert_int_equal(count_in_journal("/channels/key=wh-paris"), 1);

    /* An unknown channel is named, and nothing is written. */
    cs_stock_level level = {.sku = CS_STR_LIT("SKU-0001"), .available = 1};
    bool written = true;
    cs_diag diag;
    assert_int_equal(
        cs_commercetools_set_stock(ct, &level, CS_STR_LIT("wh-nowhere"), &written, &diag),
        CS_ERR_HTTP_PERMANENT);
    assert_false(written);
    assert_string_equal(diag.field, "ResourceNotFound");
    assert_non_null(strstr(diag.message, "wh-nowhere"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyset_paging_reads_past_the_offset_cap),
        cmocka_unit_test(customers_are_read_by_keyset),
        cmocka_unit_test(the_catalog_is_read_by_keyset),
        cmocka_unit_test(a_concurrent_modification_is_read_again),
        cmocka_unit_test(overload_is_retried_and_short_tokens_renewed),
        cmocka_unit_test(duplicated_and_reordered_messages_reach_a_queue),
        cmocka_unit_test(stock_levels_become_inventory_entries),
    };
    return cmocka_run_group_tests_name("commercetools_client", tests, setup, teardown);
}
