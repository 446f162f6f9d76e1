/* stock-update under the emulator, on the test_scenario's template.yaml, against
 * the sandbox: MAX's stock published to the Shopify shops' locations and
 * to commercetools' supply channels, only where it changed, never below
 * zero, with safety stock and storefront orders MAX has not got yet taken
 * off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/shopify/client.h"
#include "project_fixture.h"
#include "testing.h"

/* 24 parts; MAIN is published to two Shopify locations (us, jp) and EAST
 * to one (eu); in commercetools MAIN and EAST to one channel each. */
enum { SHOPIFY_LEVELS = 72, CT_LEVELS = 48 };

static const cs_json *run(void)
{
    const cs_json *answer = test_project_invoke(&test_scenario, "stock-update", "{}");
    assert_int_equal(test_json_int(answer, "retried"), 0);
    return answer;
}

static void set_on_hand(const char *part, const char *stockroom, int64_t on_hand)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"part\":\"%s\",\"stockroom\":\"%s\",\"on_hand\":%lld}", part,
             stockroom, (long long)on_hand);
    long status;
    test_project_sandbox_post(&test_scenario, "/_sandbox/exactmax/stock", body, &status);
    assert_int_equal(status, 204);
}

/* What the shop holds of the SKU at the named location; -1 when the SKU is
 * not stocked there. */
static int64_t shopify_available(const char *shop, const char *location, const char *sku)
{
    char url[160], token[48];
    snprintf(url, sizeof(url), "%s/shopify/%s", test_scenario.sandbox_url, shop);
    snprintf(token, sizeof(token), "shpat_sandbox_%s", shop);
    cs_diag diag;
    cs_shopify_config config = {.shop_url = url, .access_token = cs_str_from_c(token)};
    cs_shopify *api = cs_shopify_new(test_scenario.http, &config, &diag);
    assert_non_null(api);
    cs_shopify_location *locations;
    size_t count;
    assert_int_equal(cs_shopify_locations(api, &test_arena, &locations, &count, &diag), CS_ERR_OK);
    cs_shopify_destroy(api);
    cs_str id = CS_STR_NULL;
    for (size_t i = 0; i < count; i++) {
        id = cs_str_eq_c(locations[i].name, location) ? locations[i].id : id;
    }
    assert_true(id.len > 0);
    snprintf(url, sizeof(url), "%s/_sandbox/shopify/%s/stock", test_scenario.sandbox_url, shop);
    long status;
    char *text = test_get(test_scenario.http, url, &status);
    assert_int_equal(status, 200);
    const cs_json *stock = test_parse(&test_arena, text, strlen(text));
    const cs_json *at = cs_json_object_get(cs_json_object_get(stock, cs_str_from_c(sku)), id);
    int64_t n = -1;
    return at && !cs_parse_int64(at->text, &n) ? n : -1;
}

static void only_changes_are_published_to_shopify(void **st)
{
    (void)st;
    const cs_json *first = run();
    assert_int_equal(test_json_int(first, "levels"), SHOPIFY_LEVELS);
    assert_true(test_json_int(first, "written") > 0);
    assert_int_equal(test_json_int(first, "written") + test_json_int(first, "skipped"),
                     SHOPIFY_LEVELS);
    int64_t before = shopify_available("us-store", "Louisville DC", "SKU-0005");

    /* Nothing changed: nothing is written. */
    const cs_json *again = run();
    assert_int_equal(test_json_int(again, "written"), 0);
    assert_int_equal(test_json_int(again, "skipped"), SHOPIFY_LEVELS);

    /* Five units of one part fewer in MAIN: that SKU at MAIN's locations only. */
    int64_t jp = shopify_available("jp-store", "Tokyo", "SKU-0005");
    set_on_hand("P-SKU-0005", "MAIN", 35 - 5);
    const cs_json *changed = run();
    assert_int_equal(test_json_int(changed, "written"), (before >= 0) + (jp >= 0));
    if (before >= 5) {
        assert_int_equal(shopify_available("us-store", "Louisville DC", "SKU-0005"), before - 5);
    }
}

static void available_never_goes_below_zero(void **st)
{
    (void)st;
    /* EAST keeps one unit of safety stock: none on hand is -1, published as 0. */
    set_on_hand("P-SKU-0002", "EAST", 0);
    set_on_hand("P-SKU-0003", "EAST", 1);
    run();
    for (int sku = 2; sku <= 3; sku++) {
        char name[16];
        snprintf(name, sizeof(name), "SKU-%04d", sku);
        int64_t n = shopify_available("eu-store", "Berlin", name);
        assert_true(n == 0 || n == -1); /* -1: not stocked in Berlin */
    }
    /* SKU-0001 keeps two: on hand 2 in MAIN is none to sell. */
    set_on_hand("P-SKU-0001", "MAIN", 2);
    run();
    int64_t us = shopify_available("us-store", "Louisville DC", "SKU-0001");
    assert_true(us == 0 || us == -1);
}

/* ---- commercetools ---- */

static const cs_json *inventory(void)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/_sandbox/commercetools/inventory", test_scenario.sandbox_url);
    long status;
    char *text = test_get(test_scenario.http, url, &status);
    assert_int_equal(status, 200);
    return test_parse(&test_arena, text, strlen(text));
}

static int64_t ct_quantity(const cs_json *entries, const char *sku, const char *channel)
{
    const cs_json *list = entries->type == CS_JSON_ARRAY
                              ? entries
                              : cs_json_object_get(entries, CS_STR_LIT("entries"));
    for (const cs_json *e = list ? list->first : NULL; e; e = e->next) {
        cs_str s = CS_STR_NULL, c = CS_STR_NULL;
        cs_json_opt_string(e, "sku", &s, NULL);
        cs_json_opt_string(e, "channel", &c, NULL);
        if (cs_str_eq_c(s, sku) && cs_str_eq_c(c, channel)) {
            return test_json_int(e, "quantityOnStock");
        }
    }
    return -1;
}

static void stock_reaches_the_supply_channels(void **st)
{
    (void)st;
    set_on_hand("P-SKU-0004", "EAST", 0);
    const cs_json *first = run();
    assert_int_equal(test_json_int(first, "levels"), CT_LEVELS);
    assert_int_equal(test_json_int(first, "written") + test_json_int(first, "skipped"), CT_LEVELS);
    const cs_json *entries = inventory();
    assert_int_equal(ct_quantity(entries, "SKU-0004", "wh-paris"), 0); /* 0 - 1 safety */
    int64_t berlin = ct_quantity(entries, "SKU-0007", "wh-berlin");
    assert_true(berlin >= 0);

    const cs_json *again = run();
    assert_int_equal(test_json_int(again, "written"), 0);
    set_on_hand("P-SKU-0007", "MAIN", 40);
    const cs_json *changed = run();
    assert_int_equal(test_json_int(changed, "written"), 1);
    assert_true(ct_quantity(inventory(), "SKU-0007", "wh-berlin") > berlin);
}

/* Safety stock by category: the test's own copy of the config keeps 50
 * units of every poster (SKU-0008, by a SKU-to-category table) whatever
 * the stockroom; other SKUs keep their own. */
static char config_path[64];

static int start_with_categories(void **state)
{
    static const char *const edits[] = {
        "\"stockrooms\": {\n        \"EAST\"",
        "\"categories\": {\"posters\": 50}, \"category_lookup\": \"sku_category\", ",
        "\"sku_to_item\": {", "\"sku_category\": {\"values\": {\"SKU-0008\": \"posters\"}}, ",
        NULL};
    (void)state;
    return test_scenario_with_copy(config_path, "shopify-exactmax", edits);
}

static int stop_with_categories(void **state)
{
    unlink(config_path);
    return test_scenario_stop(state);
}

static void a_category_keeps_its_safety_stock(void **st)
{
    (void)st;
    set_on_hand("P-SKU-0008", "MAIN", 60);
    set_on_hand("P-SKU-0009", "MAIN", 60);
    run();
    int64_t poster = shopify_available("us-store", "Louisville DC", "SKU-0008");
    int64_t other = shopify_available("us-store", "Louisville DC", "SKU-0009");
    assert_true(poster >= 0 && poster <= 10); /* 60 - 50, less what is sold */
    assert_true(other > 10);
    set_on_hand("P-SKU-0008", "MAIN", 40);
    run();
    assert_int_equal(shopify_available("us-store", "Louisville DC", "SKU-0008"), 0);
}

/* MAIN shared between two shops, 60 % to us-store's Louisville DC and
 * 40 % to jp-store's Tokyo: together they sell no more than MAIN has. */
static int start_with_shares(void **state)
{
    static const char *const edits[] = {"\"store\": \"us\",", "\"share\": 60, ",
                                        "\"store\": \"jp\",", "\"share\": 40, ", NULL};
    (void)state;
    return test_scenario_with_copy(config_path, "shopify-exactmax", edits);
}

static void a_shared_stockroom_is_split(void **st)
{
    (void)st;
    set_on_hand("P-SKU-0001", "MAIN", 1000);
    run();
    /* SKU-0001 is stocked at every shop's first location. */
    int64_t us = shopify_available("us-store", "Louisville DC", "SKU-0001");
    int64_t jp = shopify_available("jp-store", "Tokyo", "SKU-0001");
    int64_t sum = us + jp;
    assert_true(sum <= 1000 - 2 && sum > 900); /* less 2 of safety stock, and open orders */
    assert_true(us * 10 >= sum * 6 - 10 && us * 10 <= sum * 6 + 10);
    /* One unit left goes on sale in one place only. */
    set_on_hand("P-SKU-0001", "MAIN", 3);
    run();
    us = shopify_available("us-store", "Louisville DC", "SKU-0001");
    jp = shopify_available("jp-store", "Tokyo", "SKU-0001");
    assert_true(us + jp <= 1);
}

/* Shares that add up to more than the stockroom has fail the function's
 * init, naming the stockroom and the sum. */
static int start_with_too_much_shared(void **state)
{
    static const char *const edits[] = {"\"store\": \"us\",", "\"share\": 60, ",
                                        "\"store\": \"jp\",", "\"share\": 60, ", NULL};
    (void)state;
    return test_scenario_with_copy(config_path, "shopify-exactmax", edits);
}

static void shares_over_100_are_refused(void **st)
{
    (void)st;
    char url[160];
    snprintf(url, sizeof(url), "%s/2015-03-31/functions/stock-update/invocations",
             test_scenario.emulator_url);
    long status;
    char *answer = test_post(test_scenario.http, url, NULL, "{}", &status);
    assert_non_null(strstr(answer, "stockroom MAIN"));
    assert_non_null(strstr(answer, "adding up to 120"));
}

int main(void)
{
    const struct CMUnitTest shopify[] = {
        cmocka_unit_test(only_changes_are_published_to_shopify),
        cmocka_unit_test(available_never_goes_below_zero),
    };
    const struct CMUnitTest commercetools[] = {
        cmocka_unit_test(stock_reaches_the_supply_channels),
    };
    const struct CMUnitTest categories[] = {
        cmocka_unit_test(a_category_keeps_its_safety_stock),
    };
    const struct CMUnitTest shares[] = {
        cmocka_unit_test(a_shared_stockroom_is_split),
    };
    const struct CMUnitTest bad_shares[] = {
        cmocka_unit_test(shares_over_100_are_refused),
    };
    return cmocka_run_group_tests_name("stock_update_shopify", shopify, test_scenario_shopify,
                                       test_scenario_stop) |
           cmocka_run_group_tests_name("stock_update_commercetools", commercetools,
                                       test_scenario_commercetools, test_scenario_stop) |
           cmocka_run_group_tests_name("stock_update_categories", categories, start_with_categories,
                                       stop_with_categories) |
           cmocka_run_group_tests_name("stock_update_shares", shares, start_with_shares,
                                       stop_with_categories) |
           cmocka_run_group_tests_name("stock_update_bad_shares", bad_shares,
                                       start_with_too_much_shared, stop_with_categories);
}
