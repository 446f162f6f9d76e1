/* The Exact MAX connector against the sandbox's MAX bridge fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "connectors/exactmax/client.h"
#include "connectors/exactmax/records.h"
#include "emulator/sandbox/exactmax.h"
#include "emulator/sandbox/sandbox.h"
#include "fixture.h"
#include "testing.h"

static sb_sandbox *sandbox;
static cs_http_client *http;
static cs_exactmax *max;
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
    char url[96];
    snprintf(url, sizeof(url), "%s/max/v1", base);
    cs_exactmax_config config = {.base_url = url, .key = CS_STR_LIT(SB_EXACTMAX_KEY)};
    max = cs_exactmax_new(http, &config, &diag);
    return max ? test_arena_setup(st) : -1;
}

static int teardown(void **st)
{
    cs_exactmax_destroy(max);
    cs_http_client_destroy(http);
    sb_stop(sandbox);
    return test_arena_teardown(st);
}

static char *sandbox_post(const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_http_request req = {.method = strcmp(path, "/_sandbox/exactmax/state") == 0 ? "GET" : "POST",
                           .url = url,
                           .body = cs_str_from_c(body)};
    cs_http_response resp = {.body = &out};
    assert_int_equal(cs_http_send(http, &req, &resp, NULL), CS_ERR_OK);
    char *text = cs_arena_strndup(&test_arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return text;
}

/* The golden sales order of test_exactmax_order, with the fake's parts and
 * another customer PO. */
static cs_str order_body(const char *cust_po, const char *part)
{
    char *body = fixture_read("exactmax/sales-order-lines.json", NULL);
    cs_buf b;
    cs_buf_init(&b, 0);
    for (const char *p = body; *p;) {
        const char *hits[] = {"us-1001", "P-IPOD2008GREEN", "P-IPOD2008RED"};
        const char *with[] = {cust_po, part, "P-SKU-0002"};
        size_t i = 0;
        while (i < 3 && strncmp(p, hits[i], strlen(hits[i])) != 0) {
            i++;
        }
        if (i < 3) {
            cs_buf_append_c(&b, with[i]);
            p += strlen(hits[i]);
        } else {
            cs_buf_append_byte(&b, *p++);
        }
    }
    free(body);
    cs_str text = cs_str_from_c(cs_arena_strndup(&test_arena, cs_buf_view(&b)));
    cs_buf_clean_up(&b);
    return text;
}

static void a_repeated_create_answers_the_same_order(void **st)
{
    (void)st;
    char first[16], again[16];
    bool existed;
    cs_diag diag;
    if (cs_exactmax_create_order(max, order_body("us-2001", "P-SKU-0001"), first, &existed,
                                 &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_false(existed);
    assert_int_equal(
        cs_exactmax_create_order(max, order_body("us-2001", "P-SKU-0001"), again, &existed, &diag),
        CS_ERR_OK);
    assert_true(existed);
    assert_string_equal(first, again);
    assert_non_null(strstr(sandbox_post("/_sandbox/exactmax/state", ""), "\"orders\":1,"));
}

/* Another MAX user takes every second number the bridge reads (the 2nd,
 * 4th and 6th of the 7 reads four orders take): clients still get distinct
 * numbers and never see the collisions. */
static void order_numbers_survive_the_allocation_race(void **st)
{
    (void)st;
    sandbox_post("/_sandbox/exactmax/race", "{\"every\":2}");
    char numbers[4][16];
    for (int i = 0; i < 4; i++) {
        char po[24];
        snprintf(po, sizeof(po), "us-21%02d", i);
        bool existed;
        cs_diag diag;
        if (cs_exactmax_create_order(max, order_body(po, "P-SKU-0003"), numbers[i], &existed,
                                     &diag)) {
            fail_msg("%s", diag.message);
        }
        for (int k = 0; k < i; k++) {
            assert_string_not_equal(numbers[k], numbers[i]);
        }
    }
    sandbox_post("/_sandbox/exactmax/race", "{\"every\":0}");
    assert_non_null(
        strstr(sandbox_post("/_sandbox/exactmax/state", ""), "\"allocationRetries\":3"));
}

static void an_unknown_part_is_named(void **st)
{
    (void)st;
    char number[16];
    bool existed;
    cs_diag diag = {0};
    assert_int_equal(
        cs_exactmax_create_order(max, order_body("us-2201", "P-NO-SUCH"), number, &existed, &diag),
        CS_ERR_HTTP_PERMANENT);
    assert_string_equal(diag.field, "UNKNOWN_PART");
    assert_string_equal(diag.message, "MAX bridge: UNKNOWN_PART: no part P-NO-SUCH (line 1) "
                                      "(Part_Master.PRTNUM_01)");
}

/* PUT /customers/{custId}: a create only with If-None-Match, an update
 * with the row version read; a field left out keeps its value; bad fields
 * are named with their MAX column. */
static void a_customer_is_created_once_and_updated_by_version(void **st)
{
    (void)st;
    cs_diag diag = {0};
    const cs_json *c;
    cs_str body = CS_STR_LIT("{\"name\":\"Acme GmbH\",\"cntct\":\"Ann Lee\","
                             "\"email\":\"ann@acme.example\",\"addr2\":\"Floor 3\","
                             "\"curr\":\"EUR\"}");
    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T1"), body, CS_STR_NULL,
                                              &test_arena, &c, &diag),
                     CS_ERR_OK);
    cs_str version = test_json_text(c, "rowVersion");
    assert_true(cs_str_eq_c(test_json_text(c, "addr2"), "Floor 3"));
    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T1"), body, CS_STR_NULL,
                                              &test_arena, &c, &diag),
                     CS_ERR_HTTP_CONFLICT);
    assert_string_equal(diag.field, "DUPLICATE_CUSTID");

    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T1"),
                                              CS_STR_LIT("{\"phone\":\"+49 30 1\"}"), version,
                                              &test_arena, &c, &diag),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(test_json_text(c, "phone"), "+49 30 1"));
    assert_true(cs_str_eq_c(test_json_text(c, "name"), "Acme GmbH")); /* kept */
    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T1"),
                                              CS_STR_LIT("{\"phone\":\"2\"}"), version, &test_arena,
                                              &c, &diag),
                     CS_ERR_HTTP_CONFLICT); /* the version read is gone */
    assert_string_equal(diag.field, "ROW_VERSION_CONFLICT");

    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T2"),
                                              CS_STR_LIT("{\"name\":\"x\",\"curr\":\"XXX\"}"),
                                              CS_STR_NULL, &test_arena, &c, &diag),
                     CS_ERR_HTTP_PERMANENT);
    assert_string_equal(diag.message, "MAX bridge: INVALID_FIELD: curr: not a currency MAX knows "
                                      "(Customer_Master.CURR_23)");
    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("WS-T2"),
                                              CS_STR_LIT("{\"name\":\"x\",\"fax\":\"1\"}"),
                                              CS_STR_NULL, &test_arena, &c, &diag),
                     CS_ERR_HTTP_PERMANENT);
    assert_non_null(strstr(diag.message, "fax: no such customer field"));
    assert_int_equal(cs_exactmax_put_customer(max, CS_STR_LIT("ws t2"),
                                              CS_STR_LIT("{\"name\":\"x\"}"), CS_STR_NULL,
                                              &test_arena, &c, &diag),
                     CS_ERR_INVALID_ARGUMENT); /* refused before it is a URL */
    assert_non_null(strstr(diag.message, "custId: 1 to 12"));
}

/* A change made with a row version the warehouse has since moved on is
 * refused (409), re-read and applied; a closed order refuses changes. */
static void a_stale_row_version_is_read_again(void **st)
{
    (void)st;
    char number[16];
    bool existed;
    cs_diag diag;
    assert_int_equal(
        cs_exactmax_create_order(max, order_body("us-2301", "P-SKU-0004"), number, &existed, &diag),
        CS_ERR_OK);
    const cs_json *order;
    assert_int_equal(cs_exactmax_get_order(max, cs_str_from_c(number), &test_arena, &order, &diag),
                     CS_ERR_OK);
    cs_str stale = cs_json_object_get(order, CS_STR_LIT("rowVersion"))->text;
    sandbox_post("/_sandbox/exactmax/warehouse", "{\"partial\":true}");
    /* Changes made from what was read: the caller's to make again. */
    assert_int_equal(cs_exactmax_update_order(max, cs_str_from_c(number),
                                              CS_STR_LIT("{\"shpVia\":\"DHL\"}"), stale,
                                              &test_arena, &order, &diag),
                     CS_ERR_HTTP_CONFLICT);
    assert_string_equal(diag.field, "ROW_VERSION_CONFLICT");
    /* Changes that do not depend on it: read again and made. */
    if (cs_exactmax_update_order(max, cs_str_from_c(number), CS_STR_LIT("{\"shpVia\":\"DHL\"}"),
                                 CS_STR_NULL, &test_arena, &order, &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_true(cs_str_eq_c(cs_json_object_get(order, CS_STR_LIT("shpVia"))->text, "DHL"));
    assert_int_equal(cs_exactmax_update_order(max, cs_str_from_c(number),
                                              CS_STR_LIT("{\"status\":\"5\"}"), CS_STR_NULL,
                                              &test_arena, &order, &diag),
                     CS_ERR_OK);
    assert_int_equal(cs_exactmax_update_order(max, cs_str_from_c(number),
                                              CS_STR_LIT("{\"reason\":\"late\"}"), CS_STR_NULL,
                                              &test_arena, &order, &diag),
                     CS_ERR_HTTP_PERMANENT);
    assert_string_equal(diag.field, "CLOSED_ORDER");
}

/* One warehouse run ships many orders in the same millisecond; reading one
 * shipment a page, the compound cursor still sees each exactly once. */
static void shipments_are_read_incrementally(void **st)
{
    (void)st;
    for (int i = 0; i < 3; i++) {
        char po[24], number[16];
        bool existed;
        snprintf(po, sizeof(po), "us-24%02d", i);
        assert_int_equal(
            cs_exactmax_create_order(max, order_body(po, "P-SKU-0005"), number, &existed, NULL),
            CS_ERR_OK);
    }
    assert_non_null(strstr(sandbox_post("/_sandbox/exactmax/warehouse", "{}"), "\"shipments\":"));
    cs_exactmax_cursor cursor = {0};
    bool more = true;
    size_t seen = 0;
    char ids[32][64];
    while (more) {
        const cs_json *items;
        cs_diag diag;
        if (cs_exactmax_page(max, "shipments", NULL, 1, &cursor, &test_arena, &items, &more,
                             &diag)) {
            fail_msg("%s", diag.message);
        }
        for (const cs_json *it = items->first; it; it = it->next) {
            cs_shipment shipment;
            cs_problems problems;
            cs_problems_init(&problems, &test_arena);
            if (cs_exactmax_shipment_decode(it, &test_arena, &shipment, &problems)) {
                fail_msg("%s", test_problems_text(&test_arena, &problems));
            }
            for (size_t k = 0; k < seen; k++) {
                assert_false(cs_str_eq_c(shipment.meta.source_id, ids[k]));
            }
            snprintf(ids[seen++], sizeof(ids[0]), "%.*s", CS_STR_FMT(shipment.meta.source_id));
        }
    }
    assert_true(seen >= 4); /* one per order shipped so far, at least */
    /* Nothing new since: the next run reads nothing. */
    const cs_json *items;
    assert_int_equal(
        cs_exactmax_page(max, "shipments", NULL, 10, &cursor, &test_arena, &items, &more, NULL),
        CS_ERR_OK);
    assert_int_equal(items->count, 0);
}

/* Every record of a resource, page by page, each handed to check. */
static size_t read_all(const char *resource, const char *s_type, void (*check)(const cs_json *item))
{
    cs_exactmax_cursor cursor = {0};
    bool more = true;
    size_t n = 0;
    while (more) {
        const cs_json *items;
        cs_diag diag;
        if (cs_exactmax_page(max, resource, s_type, 10, &cursor, &test_arena, &items, &more,
                             &diag)) {
            fail_msg("%s: %s", resource, diag.message);
        }
        for (const cs_json *it = items->first; it; it = it->next, n++) {
            check(it);
        }
    }
    return n;
}

static void check_part(const cs_json *item)
{
    cs_product part;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_exactmax_part_decode(item, &test_arena, &part, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    if (cs_str_eq_c(part.item_code, "P-SKU-0001")) {
        assert_int_equal(part.price_count, 3); /* EUR, JPY, USD */
        assert_true(cs_str_eq_c(part.prices[2].currency, "USD"));
        assert_int_equal(part.prices[2].amount.minor_units, 1199);
        assert_int_equal(part.prices[2].tier_count, 1);
        assert_int_equal(part.prices[2].tiers[0].min_quantity, 10);
        assert_int_equal(part.prices[1].amount.minor_units, 1600); /* yen */
    }
    assert_int_equal(part.active, !cs_str_eq_c(part.item_code, "FREIGHT") &&
                                      !cs_str_eq_c(part.item_code, "DISCOUNT"));
}

static void check_invoice(const cs_json *item)
{
    cs_exactmax_invoice invoice;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_exactmax_invoice_decode(item, &test_arena, &invoice, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    assert_int_equal(invoice.invoice_number.len, 8);
    assert_true(cs_str_starts_with(invoice.cust_po, CS_STR_LIT("us-")));
    assert_true(invoice.total.minor_units > 0);
}

static void check_credit_memo(const cs_json *item)
{
    cs_return credit;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_exactmax_credit_memo_decode(item, &test_arena, &credit, &problems)) {
        fail_msg("%s", test_problems_text(&test_arena, &problems));
    }
    assert_true(cs_str_eq_c(credit.order_number, "us-2501-R7"));
    assert_int_equal(credit.total.minor_units, 10000);
}

/* Parts with their prices, the invoices of completed orders, and a credit
 * memo made through the bridge and read back. */
static void parts_invoices_and_credit_memos_are_read(void **st)
{
    (void)st;
    assert_int_equal(read_all("parts", NULL, check_part), 26);
    assert_true(read_all("invoices", NULL, check_invoice) >= 1);
    char number[16];
    bool existed;
    cs_diag diag;
    const char *credit = "{\"custId\":\"WEB-US\",\"custPo\":\"us-2501-R7\",\"sType\":\"CR\","
                         "\"curr\":\"USD\",\"reason\":\"Damaged\",\"lines\":[{\"prtNum\":"
                         "\"P-SKU-0006\",\"qty\":\"2\",\"price\":\"50.00\",\"stk\":\"MAIN\"}]}";
    if (cs_exactmax_create_order(max, cs_str_from_c(credit), number, &existed, &diag)) {
        fail_msg("%s", diag.message);
    }
    assert_int_equal(read_all("sales-orders", "CR", check_credit_memo), 1);
    /* And an unknown customer is named like an unknown part. */
    const char *stranger = "{\"custId\":\"NOBODY\",\"custPo\":\"us-2502\",\"sType\":\"CU\","
                           "\"curr\":\"USD\",\"lines\":[{\"prtNum\":\"P-SKU-0006\",\"qty\":"
                           "\"1\",\"price\":\"1.00\",\"stk\":\"MAIN\"}]}";
    assert_int_equal(
        cs_exactmax_create_order(max, cs_str_from_c(stranger), number, &existed, &diag),
        CS_ERR_HTTP_PERMANENT);
    assert_string_equal(diag.field, "UNKNOWN_CUSTOMER");
}

/* A web order of one line at 10.00 from MAIN; its number into number. */
static void create_one_line(const char *cust_po, const char *part, int qty, char number[16])
{
    char body[320];
    snprintf(body, sizeof(body),
             "{\"custId\":\"WEB-US\",\"custPo\":\"%s\",\"sType\":\"CU\",\"curr\":\"USD\","
             "\"lines\":[{\"prtNum\":\"%s\",\"qty\":\"%d\",\"price\":\"10.00\",\"stk\":"
             "\"MAIN\"}]}",
             cust_po, part, qty);
    bool existed;
    cs_diag diag;
    if (cs_exactmax_create_order(max, cs_str_from_c(body), number, &existed, &diag)) {
        fail_msg("%s", diag.message);
    }
}

/* Two ordered, one in stock: the warehouse ships one and, told to, cancels
 * the backordered other; the order completes and is invoiced for one. */
static void a_short_line_is_backordered_then_cancelled(void **st)
{
    (void)st;
    char number[16];
    create_one_line("us-2601", "P-SKU-0023", 2, number);
    cs_diag diag;
    sandbox_post("/_sandbox/exactmax/warehouse", "{\"cancel_backorders\":true}");
    const cs_json *order;
    assert_int_equal(cs_exactmax_get_order(max, cs_str_from_c(number), &test_arena, &order, &diag),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(cs_json_object_get(order, CS_STR_LIT("status"))->text, "4"));
    const cs_json *line = cs_json_object_get(order, CS_STR_LIT("lines"))->first;
    assert_true(cs_str_eq_c(cs_json_object_get(line, CS_STR_LIT("shpQty"))->text, "1.0000"));
    assert_true(cs_str_eq_c(cs_json_object_get(line, CS_STR_LIT("status"))->text, "5"));
    assert_true(cs_json_object_get(order, CS_STR_LIT("invce"))->text.len == 8);
}

static const cs_json *line_of(const cs_json *order, int n)
{
    const cs_json *l = cs_json_object_get(order, CS_STR_LIT("lines"))->first;
    for (int i = 1; i < n && l; i++) {
        l = l->next;
    }
    assert_non_null(l);
    return l;
}

static const char *field_of(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    assert_non_null(v);
    return cs_arena_strndup(&test_arena, v->text);
}

/* A PATCH with the order's row version; the bridge's error code, or "". */
static const char *patch(const char *number, const char *changes, const cs_json **order)
{
    cs_diag diag;
    const cs_json *now;
    assert_int_equal(cs_exactmax_get_order(max, cs_str_from_c(number), &test_arena, &now, &diag),
                     CS_ERR_OK);
    cs_str version = cs_json_object_get(now, CS_STR_LIT("rowVersion"))->text;
    cs_error r = cs_exactmax_update_order(max, cs_str_from_c(number), cs_str_from_c(changes),
                                          version, &test_arena, order, &diag);
    return r ? cs_arena_strndup(&test_arena, cs_str_from_c(diag.field)) : "";
}

/* Lines change (CURQTY_28; ORGQTY_28 keeps what was ordered) and are
 * added, all or none, never below what a line has shipped. */
static void lines_change_but_not_below_shipped(void **st)
{
    (void)st;
    char number[16];
    create_one_line("us-2851", "P-SKU-0004", 4, number);
    sandbox_post("/_sandbox/exactmax/warehouse", "{\"partial\":true}"); /* ships 2 of 4 */
    const cs_json *order;
    assert_string_equal(patch(number, "{\"lines\":[{\"linNum\":1,\"qty\":\"1\"}]}", &order),
                        "BELOW_SHIPPED");
    assert_string_equal(patch(number,
                              "{\"lines\":[{\"linNum\":1,\"qty\":\"3\"},{\"linNum\":2,"
                              "\"prtNum\":\"P-NONE\",\"qty\":\"1\",\"price\":\"1.00\","
                              "\"stk\":\"MAIN\"}]}",
                              &order),
                        "UNKNOWN_PART");
    assert_string_equal(patch(number,
                              "{\"lines\":[{\"linNum\":1,\"qty\":\"2\"},{\"linNum\":2,"
                              "\"prtNum\":\"P-SKU-0005\",\"qty\":\"3\",\"price\":\"4.50\","
                              "\"stk\":\"MAIN\"}],\"shipTo\":{\"addr1\":\"2 New Road\"}}",
                              &order),
                        "");
    const cs_json *first = line_of(order, 1), *added = line_of(order, 2);
    assert_string_equal(field_of(first, "qty"), "4.0000"); /* the unknown part changed nothing */
    assert_string_equal(field_of(first, "curQty"), "2.0000");
    assert_string_equal(field_of(first, "shpQty"), "2.0000");
    assert_string_equal(field_of(first, "status"), "4");
    assert_string_equal(field_of(added, "prtNum"), "P-SKU-0005");
    assert_string_equal(field_of(added, "curQty"), "3.0000");
    assert_string_equal(field_of(added, "price"), "4.50");
    assert_string_equal(field_of(added, "status"), "3");
    assert_string_equal(field_of(cs_json_object_get(order, CS_STR_LIT("shipTo")), "addr1"),
                        "2 New Road");
    assert_string_equal(patch(number, "{\"lines\":[{\"linNum\":2,\"qty\":\"0\"}]}", &order), "");
    assert_string_equal(field_of(line_of(order, 2), "status"), "5");
}

static long count_in_state(const char *key)
{
    char *state = sandbox_post("/_sandbox/exactmax/state", "");
    char *at = strstr(state, key);
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/* On its own clock the warehouse ships an order placed after it started. */
static void the_warehouse_runs_on_its_own_clock(void **st)
{
    (void)st;
    long before = count_in_state("\"shipments\":");
    sandbox_post("/_sandbox/exactmax/warehouse", "{\"every_ms\":20}");
    char number[16];
    bool existed;
    assert_int_equal(
        cs_exactmax_create_order(max, order_body("us-2701", "P-SKU-0007"), number, &existed, NULL),
        CS_ERR_OK);
    long after = before;
    for (int i = 0; i < 200 && after == before; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        after = count_in_state("\"shipments\":");
    }
    sandbox_post("/_sandbox/exactmax/warehouse", "{\"every_ms\":0}");
    assert_true(after > before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_repeated_create_answers_the_same_order),
        cmocka_unit_test(order_numbers_survive_the_allocation_race),
        cmocka_unit_test(an_unknown_part_is_named),
        cmocka_unit_test(a_customer_is_created_once_and_updated_by_version),
        cmocka_unit_test(a_stale_row_version_is_read_again),
        cmocka_unit_test(shipments_are_read_incrementally),
        cmocka_unit_test(parts_invoices_and_credit_memos_are_read),
        cmocka_unit_test(a_short_line_is_backordered_then_cancelled),
        cmocka_unit_test(lines_change_but_not_below_shipped),
        cmocka_unit_test(the_warehouse_runs_on_its_own_clock),
    };
    return cmocka_run_group_tests_name("exactmax_client", tests, setup, teardown);
}
