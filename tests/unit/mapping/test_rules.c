/* Validation, discount allocation, field ownership and identity matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "testing.h"
#include "mapping/mapping.h"
#include "mapping/validate.h"
#include "model/codec.h"

static cs_json *parse(const char *text)
{
    return test_parse(&test_arena, text, strlen(text));
}

/* A record of the schema's shape from canonical JSON text. */
static void *record(const cs_schema *schema, const char *json)
{
    void *r = cs_arena_calloc(&test_arena, 1, schema->size);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    if (cs_record_decode(schema, parse(json), &test_arena, r, &problems)) {
        fail_msg("bad test record: %s: %s", problems.items[0].path, problems.items[0].message);
    }
    return r;
}

static void check_validation(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *text = fixture_read(path, NULL);
    cs_order *order = record(&cs_schema_order, text);
    free(text);
    snprintf(path + strlen(path) - strlen(".json"), 16, ".expected");
    char *expected = fixture_read(path, NULL);
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_error result = cs_validate_order(order, NULL, &problems);
    test_expect_text(name, test_problems_text(&test_arena, &problems), expected);
    assert_int_equal(result, expected[0] ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK);
    free(expected);
}

static void validation_fixtures(void **state)
{
    (void)state;
    assert_true(fixture_each("mapping/validate", ".json", check_validation, NULL) >= 5);
}

static void unmapped_skus_need_an_item_code(void **state)
{
    (void)state;
    cs_lookup table;
    cs_json *cfg = parse("{\"values\": {\"SKU-RED-M\": \"TS-100\"}}");
    cs_problems config_problems;
    cs_problems_init(&config_problems, &test_arena);
    assert_int_equal(cs_lookup_load(&test_arena, CS_STR_LIT("skus"), cfg, "lookups.skus", &table,
                                    &config_problems),
                     CS_ERR_OK);
    cs_order *order = record(&cs_schema_order,
                             "{\"number\":\"1\",\"currency\":\"EUR\",\"lines\":["
                             "{\"sku\":\"SKU-RED-M\",\"quantity\":1,\"unit_price\":{\"amount\":\"1."
                             "00\",\"currency\":\"EUR\"}},"
                             "{\"sku\":\"ERP-ONLY\",\"item_code\":\"P-9\",\"quantity\":1,"
                             "\"unit_price\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}},"
                             "{\"sku\":\"NEW-SKU\",\"quantity\":1,\"unit_price\":{\"amount\":\"1."
                             "00\",\"currency\":\"EUR\"}}]}");
    cs_validate_opts opts = {.sku_table = &table};
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_validate_order(order, &opts, &problems), CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(test_problems_text(&test_arena, &problems),
                        "lines[2].sku: sku_unmapped: SKU 'NEW-SKU' has no item code\n");
}

/* Part numbers back to SKUs; a part two SKUs share is named. */
static void a_table_turns_round(void **state)
{
    (void)state;
    cs_lookup table, back;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    cs_json *cfg = parse("{\"values\": {\"SKU-B\": \"P-1\", \"SKU-A\": \"P-2\", "
                         "\"SKU-C\": {\"part\": \"P-3\"}}}");
    assert_int_equal(
        cs_lookup_load(&test_arena, CS_STR_LIT("skus"), cfg, "lookups.skus", &table, &problems),
        CS_ERR_OK);
    assert_int_equal(cs_lookup_reverse(&test_arena, &table, "back", &back, &problems), CS_ERR_OK);
    assert_int_equal(back.count, 2); /* rows with columns do not turn round */
    cs_str sku = CS_STR_NULL;
    assert_true(cs_lookup_find(&back, CS_STR_LIT("P-2"), CS_STR_NULL, &sku));
    assert_true(cs_str_eq_c(sku, "SKU-A"));
    assert_false(cs_lookup_find(&back, CS_STR_LIT("P-3"), CS_STR_NULL, &sku));

    cfg = parse("{\"values\": {\"SKU-A\": \"P-1\", \"SKU-B\": \"P-1\"}}");
    assert_int_equal(
        cs_lookup_load(&test_arena, CS_STR_LIT("skus"), cfg, "lookups.skus", &table, &problems),
        CS_ERR_OK);
    assert_int_equal(cs_lookup_reverse(&test_arena, &table, "back", &back, &problems),
                     CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(test_problems_text(&test_arena, &problems),
                        "back: ambiguous: 'P-1' is the value of two keys\n");
}

static void allocation_adds_up_to_the_unit(void **state)
{
    (void)state;
    int64_t shares[6];
    assert_int_equal(cs_money_allocate(1000, (int64_t[]){1, 1, 1}, 3, shares), CS_ERR_OK);
    assert_true(shares[0] == 334 && shares[1] == 333 && shares[2] == 333);
    assert_int_equal(cs_money_allocate(386, (int64_t[]){5997, 950}, 2, shares), CS_ERR_OK);
    assert_true(shares[0] == 333 && shares[1] == 53);
    assert_int_equal(cs_money_allocate(-1000, (int64_t[]){1, 1, 1}, 3, shares), CS_ERR_OK);
    assert_true(shares[0] == -334 && shares[1] == -333 && shares[2] == -333);
    assert_int_equal(cs_money_allocate(5, (int64_t[]){0, 0, 0, 0, 0, 0}, 6, shares), CS_ERR_OK);
    assert_true(shares[0] == 1 && shares[4] == 1 && shares[5] == 0);
    assert_int_equal(cs_money_allocate(1, (int64_t[]){-1}, 1, shares), CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(cs_money_allocate(1, shares, 0, shares), CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(cs_money_allocate(INT64_MAX, (int64_t[]){INT64_MAX, INT64_MAX}, 2, shares),
                     CS_ERR_OK);
    assert_true(shares[0] == INT64_MAX / 2 + 1 && shares[1] == INT64_MAX / 2);
    /* Random cases: shares add up exactly and each is within one unit of its exact share. */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 20000; round++) {
        int64_t weights[6];
        size_t n = 1 + (size_t)(round % 6);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            weights[i] = (int64_t)(x % 100000);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t total = (int64_t)(x % 2000000) - 1000000;
        assert_int_equal(cs_money_allocate(total, weights, n, shares), CS_ERR_OK);
        int64_t sum = 0, weight_sum = 0;
        for (size_t i = 0; i < n; i++) {
            sum += shares[i];
            weight_sum += weights[i];
        }
        assert_true(sum == total);
        for (size_t i = 0; weight_sum && i < n; i++) {
            double exact = (double)total * (double)weights[i] / (double)weight_sum;
            assert_true((double)shares[i] - exact < 1.0 && exact - (double)shares[i] < 1.0);
        }
    }
}

static void order_discount_is_spread_over_lines(void **state)
{
    (void)state;
    cs_order *order = record(
        &cs_schema_order,
        "{\"number\":\"1\",\"currency\":\"EUR\",\"lines\":["
        "{\"sku\":\"A\",\"quantity\":3,\"unit_price\":{\"amount\":\"19.99\",\"currency\":\"EUR\"}},"
        "{\"sku\":\"B\",\"quantity\":1,\"unit_price\":{\"amount\":\"9.50\",\"currency\":\"EUR\"}},"
        "{\"sku\":\"C\",\"quantity\":1,\"unit_price\":{\"amount\":\"0.00\",\"currency\":\"EUR\"}}]"
        "}");
    cs_money discount;
    assert_int_equal(cs_money_parse(CS_STR_LIT("3.86"), CS_STR_LIT("EUR"), &discount, NULL), 0);
    assert_int_equal(
        cs_order_allocate_discount(order, CS_STR_LIT("SPRING10"), discount, &test_arena),
        CS_ERR_OK);
    assert_true(order->lines[0].discount.minor_units == 333);
    assert_true(order->lines[1].discount.minor_units == 53);
    assert_int_equal(order->lines[2].discount_count, 0); /* a free line gets no share */
    assert_true(cs_str_eq_c(order->lines[1].discounts[0].code, "SPRING10"));
    cs_money yen;
    cs_money_parse(CS_STR_LIT("100"), CS_STR_LIT("JPY"), &yen, NULL);
    assert_int_equal(cs_order_allocate_discount(order, CS_STR_LIT("X"), yen, &test_arena),
                     CS_ERR_CURRENCY_MISMATCH);
}

static const char *ownership_config =
    "{\"ownership\": {\"customer\": {\"fields\": {"
    "\"email\": {\"owner\": \"commercetools\"},"
    "\"account_code\": {\"owner\": \"exactmax\", \"mode\": \"unless_blank\"},"
    "\"phone\": {\"owner\": \"salesforce\"},"
    "\"company\": {\"mode\": \"never\"},"
    "\"addresses[0].city\": {\"owner\": \"commercetools\"}}}}}";

static const cs_ownership *load_ownership(void)
{
    cs_mapping *m;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_mapping_load(&test_arena, parse(ownership_config), &m, &problems),
                     CS_ERR_OK);
    return cs_mapping_ownership(m, &cs_schema_customer);
}

static void owner_fields_only_are_written(void **state)
{
    (void)state;
    const cs_ownership *own = load_ownership();
    cs_customer *incoming =
        record(&cs_schema_customer, "{\"email\":\"new@x.com\",\"phone\":\"+49 1\",\"company\":"
                                    "\"New Co\",\"addresses\":[{\"city\":\"Köln\"}]}");
    cs_customer *current =
        record(&cs_schema_customer, "{\"email\":\"old@x.com\",\"phone\":\"+49 2\",\"company\":"
                                    "\"Old Co\",\"account_code\":\"C10\",\"addresses\":[{\"city\":"
                                    "\"Bonn\"}]}");
    cs_customer merged;
    cs_merge_result result;
    assert_int_equal(cs_ownership_merge(own, CS_SYS_COMMERCETOOLS, incoming, current, NULL, &merged,
                                        &test_arena, &result),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(merged.email, "new@x.com"));  /* commercetools owns it */
    assert_true(cs_str_eq_c(merged.phone, "+49 2"));      /* salesforce owns it */
    assert_true(cs_str_eq_c(merged.company, "Old Co"));   /* never synced */
    assert_true(cs_str_eq_c(merged.account_code, "C10")); /* exactmax owns it */
    assert_int_equal(result.changed_count, 2);
    assert_true(cs_str_eq_c(result.changed[0], "email"));
    assert_true(cs_str_eq_c(result.changed[1], "addresses[0].city"));
    assert_int_equal(result.conflict_count, 0);
    /* The merged copy shares the address array with current: a nested write
     * goes through to it. The flows merge into a fresh copy when they need
     * the old record afterwards. */
    assert_true(cs_str_eq_c(merged.addresses[0].city, "Köln"));
}

static void blank_from_owner_keeps_target_in_unless_blank_mode(void **state)
{
    (void)state;
    const cs_ownership *own = load_ownership();
    cs_customer *incoming = record(&cs_schema_customer, "{\"email\":\"e@x.com\"}");
    cs_customer *current =
        record(&cs_schema_customer, "{\"email\":\"e@x.com\",\"account_code\":\"C10\"}");
    cs_customer merged;
    cs_merge_result result;
    assert_int_equal(cs_ownership_merge(own, CS_SYS_EXACTMAX, incoming, current, NULL, &merged,
                                        &test_arena, &result),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(merged.account_code, "C10"));
    assert_int_equal(result.changed_count, 0);
    /* In "always" mode a blank from the owner clears the field. */
    cs_customer *no_email = record(&cs_schema_customer, "{\"phone\":\"1\"}");
    assert_int_equal(cs_ownership_merge(own, CS_SYS_COMMERCETOOLS, no_email, current, NULL, &merged,
                                        &test_arena, &result),
                     CS_ERR_OK);
    assert_int_equal(merged.email.len, 0);
}

static void changes_on_both_sides_are_conflicts_and_the_owner_wins(void **state)
{
    (void)state;
    const cs_ownership *own = load_ownership();
    cs_customer *last = record(&cs_schema_customer, "{\"email\":\"a@x.com\",\"phone\":\"1\"}");
    cs_customer *incoming = record(&cs_schema_customer, "{\"email\":\"b@x.com\",\"phone\":\"2\"}");
    cs_customer *current = record(&cs_schema_customer, "{\"email\":\"c@x.com\",\"phone\":\"3\"}");
    cs_customer merged;
    cs_merge_result result;
    assert_int_equal(cs_ownership_merge(own, CS_SYS_COMMERCETOOLS, incoming, current, last, &merged,
                                        &test_arena, &result),
                     CS_ERR_OK);
    assert_int_equal(result.conflict_count, 2);
    assert_true(cs_str_eq_c(result.conflicts[0].field, "email"));
    assert_true(cs_str_eq_c(result.conflicts[0].incoming, "b@x.com"));
    assert_true(cs_str_eq_c(result.conflicts[0].current, "c@x.com"));
    assert_true(cs_str_eq_c(result.conflicts[0].last, "a@x.com"));
    assert_int_equal(result.conflicts[0].winner, CS_SYS_COMMERCETOOLS);
    assert_true(cs_str_eq_c(result.conflicts[1].field, "phone"));
    assert_int_equal(result.conflicts[1].winner, CS_SYS_SALESFORCE);
    assert_true(cs_str_eq_c(merged.email, "b@x.com"));
    assert_true(cs_str_eq_c(merged.phone, "3"));
    /* Conflicts are logged with all three values and the winner. */
    char log_path[] = "/tmp/cs-conflicts-XXXXXX";
    int fd = mkstemp(log_path);
    cs_logger log;
    cs_log_init(&log, "customer-sync", fd);
    cs_ownership_log_conflicts(&result, &log);
    cs_log_clean_up(&log);
    close(fd);
    char *lines = fixture_read_absolute(log_path);
    unlink(log_path);
    assert_non_null(strstr(lines, "\"level\":\"WARN\""));
    assert_non_null(strstr(lines,
                           "\"field\":\"email\",\"incoming\":\"b@x.com\",\"current\":"
                           "\"c@x.com\",\"lastSynced\":\"a@x.com\",\"winner\":\"commercetools\""));
    assert_non_null(strstr(lines, "\"field\":\"phone\""));
    free(lines);
    /* The other side syncing back changes nothing: no flip-flop. */
    cs_customer again;
    assert_int_equal(cs_ownership_merge(own, CS_SYS_SALESFORCE, &merged, &merged, &merged, &again,
                                        &test_arena, &result),
                     CS_ERR_OK);
    assert_int_equal(result.changed_count, 0);
    assert_true(cs_str_eq_c(again.email, "b@x.com"));
}

static const char *candidates_json[] = {
    "{\"ids\":{\"exactmax\":\"C100\"},\"email\":\"anna@x.com\",\"company\":\"Acme GmbH\","
    "\"addresses\":[{\"postal_code\":\"10115\"}]}",
    "{\"email\":\"bob@x.com\",\"account_code\":\"C200\"}",
    "{\"email\":\"shared@x.com\"}",
    "{\"email\":\" Shared@X.com \"}",
    "{\"company\":\"Beta B.V.\",\"addresses\":[{\"postal_code\":\"1011 AB\"}]}",
    "{\"company\":\"beta bv\",\"addresses\":[{\"postal_code\":\"1011ab\"}]}",
};

static void identity_keys_in_order(void **state)
{
    (void)state;
    cs_mapping *m;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_mapping_load(&test_arena,
                                     parse("{\"identity\": {\"customer\": {\"keys\": "
                                           "[\"ids.exactmax\", \"account_code\", \"email\", "
                                           "\"company+postal_code\"]}}}"),
                                     &m, &problems),
                     CS_ERR_OK);
    const cs_identity *id = cs_mapping_identity(m, &cs_schema_customer);
    size_t n = sizeof(candidates_json) / sizeof(candidates_json[0]);
    cs_customer *candidates = cs_arena_calloc(&test_arena, n, sizeof(cs_customer));
    for (size_t i = 0; i < n; i++) {
        candidates[i] = *(cs_customer *)record(&cs_schema_customer, candidates_json[i]);
    }
    struct {
        const char *incoming;
        cs_match_kind kind;
        const char *key;
        size_t index;
        size_t count;
    } cases[] = {
        {"{\"ids\":{\"exactmax\":\"C100\"},\"email\":\"bob@x.com\"}", CS_MATCH_ONE, "ids.exactmax",
         0, 0},
        {"{\"guest\":true,\"email\":\" BOB@X.COM\"}", CS_MATCH_ONE, "email", 1, 0},
        {"{\"account_code\":\"C200\",\"email\":\"shared@x.com\"}", CS_MATCH_ONE, "account_code", 1,
         0},
        {"{\"email\":\"shared@x.com\"}", CS_MATCH_AMBIGUOUS, "email", 0, 2},
        {"{\"company\":\"ACME, Inc.\",\"addresses\":[{\"postal_code\":\"10115\"}]}", CS_MATCH_ONE,
         "company+postal_code", 0, 0},
        {"{\"company\":\"BETA\",\"addresses\":[{\"postal_code\":\"1011-AB\"}]}", CS_MATCH_AMBIGUOUS,
         "company+postal_code", 0, 2},
        {"{\"email\":\"nobody@x.com\",\"company\":\"Acme\"}", CS_MATCH_NONE, "", 0, 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        cs_match match;
        assert_int_equal(cs_identity_match(id, record(&cs_schema_customer, cases[c].incoming),
                                           candidates, n, &test_arena, &match),
                         CS_ERR_OK);
        if (match.kind != cases[c].kind || !cs_str_eq_c(match.key, cases[c].key)) {
            fail_msg("case %zu: kind %d key '%.*s'", c, match.kind, CS_STR_FMT(match.key));
        }
        if (match.kind == CS_MATCH_ONE) {
            assert_int_equal(match.index, cases[c].index);
        }
        if (match.kind == CS_MATCH_AMBIGUOUS) {
            assert_int_equal(match.candidate_count, cases[c].count);
        }
    }
    /* An ambiguous match becomes a review record with every candidate. */
    cs_match match;
    cs_customer *incoming = record(&cs_schema_customer, "{\"email\":\"shared@x.com\"}");
    cs_identity_match(id, incoming, candidates, n, &test_arena, &match);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_match_write_review(&match, incoming, candidates, &w);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    assert_string_equal(out.data,
                        "{\"kind\":\"identity_ambiguous\",\"key\":\"email\",\"matches\":2,"
                        "\"incoming\":{\"email\":\"shared@x.com\"},\"candidates\":["
                        "{\"email\":\"shared@x.com\"},{\"email\":\" Shared@X.com \"}]}");
    cs_buf_clean_up(&out);
}

/* The two answers agree: kind, key, index, count and the candidates. */
static void same_match(const cs_match *a, const cs_match *b, size_t incoming)
{
    size_t shown =
        a->candidate_count < CS_MATCH_MAX_CANDIDATES ? a->candidate_count : CS_MATCH_MAX_CANDIDATES;
    bool same = a->kind == b->kind && cs_str_eq(a->key, b->key) &&
                a->candidate_count == b->candidate_count &&
                (a->kind != CS_MATCH_ONE || a->index == b->index) &&
                memcmp(a->candidates, b->candidates, shown * sizeof(size_t)) == 0;
    if (!same) {
        fail_msg("incoming %zu: scan kind %d key '%.*s' count %zu, index kind %d key '%.*s' "
                 "count %zu",
                 incoming, a->kind, CS_STR_FMT(a->key), a->candidate_count, b->kind,
                 CS_STR_FMT(b->key), b->candidate_count);
    }
}

/* 3,000 candidates whose e-mails and companies repeat (so that many
 * matches are ambiguous, some with more than 16 candidates), 600 incoming:
 * the index answers as the scan does; then after rows are replaced and
 * added again. */
static void the_index_matches_as_the_scan_does(void **state)
{
    (void)state;
    enum { CANDIDATES = 3000, INCOMING = 600 };
    cs_mapping *m;
    cs_problems problems;
    cs_problems_init(&problems, &test_arena);
    assert_int_equal(cs_mapping_load(&test_arena,
                                     parse("{\"identity\": {\"customer\": {\"keys\": "
                                           "[\"account_code\", \"email\", "
                                           "\"company+postal_code\"]}}}"),
                                     &m, &problems),
                     CS_ERR_OK);
    const cs_identity *id = cs_mapping_identity(m, &cs_schema_customer);
    cs_customer *candidates = cs_arena_calloc(&test_arena, CANDIDATES, sizeof(cs_customer));
    cs_identity_index *ix = cs_identity_index_new(id);
    assert_non_null(ix);
    char json[256];
    size_t kinds[3] = {0}, crowded = 0;
    for (size_t i = 0; i < CANDIDATES; i++) {
        snprintf(json, sizeof(json),
                 "{\"account_code\":\"C%zu\",\"email\":\"p%zu@x.com\",\"company\":\"Co %zu "
                 "GmbH\",\"addresses\":[{\"postal_code\":\"%zu\"}]}",
                 i, (i * 7) % 2400, i % 20, 10000 + i % 7);
        candidates[i] = *(cs_customer *)record(&cs_schema_customer, json);
        assert_int_equal(cs_identity_index_add(ix, &candidates[i], i, &test_arena), CS_ERR_OK);
    }
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < INCOMING; k++) {
            snprintf(json, sizeof(json),
                     "{\"account_code\":\"%s%zu\",\"email\":\" P%zu@X.com\",\"company\":"
                     "\"CO %zu\",\"addresses\":[{\"postal_code\":\"%zu\"}]}",
                     k % 5 ? "none-" : "C", k * 3, k * 5 % 2600, k % 25, 10000 + k % 8);
            const cs_customer *incoming = record(&cs_schema_customer, json);
            cs_match scan, indexed;
            assert_int_equal(
                cs_identity_match(id, incoming, candidates, CANDIDATES, &test_arena, &scan),
                CS_ERR_OK);
            assert_int_equal(cs_identity_match_indexed(ix, incoming, candidates, CANDIDATES,
                                                       &test_arena, &indexed),
                             CS_ERR_OK);
            same_match(&scan, &indexed, k);
            kinds[scan.kind]++;
            crowded += scan.candidate_count > CS_MATCH_MAX_CANDIDATES;
        }
        /* Every tenth row's e-mail changes (an account updated in MAX). */
        for (size_t i = 0; i < CANDIDATES; i += 10) {
            candidates[i].email = cs_str_from_c(cs_arena_sprintf(&test_arena, "new%zu@x.com", i));
            assert_int_equal(cs_identity_index_add(ix, &candidates[i], i, &test_arena), CS_ERR_OK);
        }
    }
    cs_identity_index_free(ix);
    assert_true(kinds[CS_MATCH_NONE] && kinds[CS_MATCH_ONE] && kinds[CS_MATCH_AMBIGUOUS] &&
                crowded);
}

static void normalizations(void **state)
{
    (void)state;
    assert_true(
        cs_str_eq_c(cs_normalize_email(CS_STR_LIT("  Anna.Müller@Example.COM "), &test_arena),
                    "anna.müller@example.com"));
    assert_true(
        cs_str_eq_c(cs_normalize_company(CS_STR_LIT("Müller & Söhne GmbH & Co. KG"), &test_arena),
                    "müller söhne"));
    assert_true(cs_str_eq_c(cs_normalize_company(CS_STR_LIT("O'Neil Ltd."), &test_arena), "oneil"));
    assert_true(
        cs_str_eq_c(cs_normalize_postal_code(CS_STR_LIT("sw1a 1aa"), &test_arena), "SW1A1AA"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validation_fixtures),
        cmocka_unit_test(unmapped_skus_need_an_item_code),
        cmocka_unit_test(a_table_turns_round),
        cmocka_unit_test(allocation_adds_up_to_the_unit),
        cmocka_unit_test(order_discount_is_spread_over_lines),
        cmocka_unit_test(owner_fields_only_are_written),
        cmocka_unit_test(blank_from_owner_keeps_target_in_unless_blank_mode),
        cmocka_unit_test(changes_on_both_sides_are_conflicts_and_the_owner_wins),
        cmocka_unit_test(identity_keys_in_order),
        cmocka_unit_test(the_index_matches_as_the_scan_does),
        cmocka_unit_test(normalizations),
    };
    return cmocka_run_group_tests_name("mapping_rules", tests, test_arena_setup,
                                       test_arena_teardown);
}
