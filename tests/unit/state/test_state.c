/* One suite, two backends: every test runs against SQLite (a temporary
 * file) and against DynamoDB + S3 on moto_server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "moto.h"
#include "state/state.h"
#include "testing.h"

typedef enum backend { SQLITE, DYNAMODB } backend;

static backend current;
static char dir[64];
static moto peer;
static cs_http_client *http;
static cs_aws aws;
static cs_state *state;
static const int64_t T0 = 1732400000000; /* a fixed "now" */

/* Opens the current backend afresh (also in forked children). */
static cs_state *open_state(cs_http_client **client, cs_aws *a)
{
    cs_state *s = NULL;
    cs_diag diag;
    if (current == SQLITE) {
        char db[128], snaps[128];
        snprintf(db, sizeof(db), "%s/state.db", dir);
        snprintf(snaps, sizeof(snaps), "%s/snapshots", dir);
        if (cs_state_open_sqlite(db, snaps, &s, &diag)) {
            fprintf(stderr, "%s\n", diag.message);
        }
        return s;
    }
    *client = cs_http_client_new(NULL, NULL);
    if (cs_aws_init(a, *client, peer.endpoint, &diag) ||
        cs_state_open_dynamodb(a, "cs-state", "cs-snapshots", &s, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
    }
    return s;
}

static int setup_sqlite(void **st)
{
    current = SQLITE;
    snprintf(dir, sizeof(dir), "/tmp/cs-state-XXXXXX");
    if (!mkdtemp(dir) || !(state = open_state(&http, &aws))) {
        return -1;
    }
    return test_arena_setup(st);
}

static int setup_dynamodb(void **st)
{
    current = DYNAMODB;
    if (moto_start(&peer, false) != 0 || !(state = open_state(&http, &aws))) {
        return -1;
    }
    cs_diag diag;
    if (moto_create_state(&aws, "cs-state", "cs-snapshots", &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    return test_arena_setup(st);
}

static int teardown_backend(void **st)
{
    cs_state_close(state);
    cs_http_client_destroy(http);
    http = NULL;
    if (current == DYNAMODB) {
        moto_stop(&peer);
    } else {
        char command[128];
        snprintf(command, sizeof(command), "rm -rf %s", dir);
        if (system(command) != 0) {
            fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    return test_arena_teardown(st);
}

static void cursors_move_forward_by_time_then_id(void **st)
{
    (void)st;
    cs_cursor c;
    bool found = true;
    assert_int_equal(cs_state_cursor_get(state, "orders", "shopify", "eu", &c, &found, NULL), 0);
    assert_false(found);
    cs_cursor at = {T0, "1002"};
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &at, NULL), 0);
    cs_cursor older = {T0, "1001"}; /* same time, smaller id: ignored */
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &older, NULL), 0);
    assert_int_equal(cs_state_cursor_get(state, "orders", "shopify", "eu", &c, &found, NULL), 0);
    assert_true(found);
    assert_true(c.updated_at_ms == T0);
    assert_string_equal(c.id, "1002");
    cs_cursor next = {T0 + 1, "0001"}; /* later time wins even with a smaller id */
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &next, NULL), 0);
    assert_int_equal(cs_state_cursor_get(state, "orders", "shopify", "eu", &c, &found, NULL), 0);
    assert_string_equal(c.id, "0001");
    /* Records sharing the cursor's timestamp are told apart by id. */
    assert_false(cs_cursor_after(&c, T0 + 1, CS_STR_LIT("0001")));
    assert_true(cs_cursor_after(&c, T0 + 1, CS_STR_LIT("0002")));
    assert_true(cs_cursor_after(&c, T0 + 2, CS_STR_LIT("0000")));
    assert_false(cs_cursor_after(&c, T0, CS_STR_LIT("9999")));
    /* Numeric ids (Shopify's) compare as numbers: 1000 comes after 999. */
    cs_cursor nines = {T0 + 3, "999"}, thousand = {T0 + 3, "1000"};
    assert_true(cs_cursor_after(&nines, T0 + 3, CS_STR_LIT("1000")));
    assert_false(cs_cursor_after(&thousand, T0 + 3, CS_STR_LIT("999")));
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &nines, NULL), 0);
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &thousand, NULL), 0);
    assert_int_equal(cs_state_cursor_put(state, "orders", "shopify", "eu", &nines, NULL), 0);
    assert_int_equal(cs_state_cursor_get(state, "orders", "shopify", "eu", &c, &found, NULL), 0);
    assert_string_equal(c.id, "1000");
    /* Other stores keep their own cursor. */
    assert_int_equal(cs_state_cursor_get(state, "orders", "shopify", "us", &c, &found, NULL), 0);
    assert_false(found);
}

static void idempotency_once_then_done_with_result(void **st)
{
    (void)st;
    cs_idem_result r;
    cs_str rec = CS_STR_LIT("450789469"), ver = CS_STR_LIT("2024-03-05T10:20:00Z");
    assert_int_equal(cs_state_idem_begin(state, "order-export", rec, ver, "req-a", T0, 60000,
                                         86400000, &r, NULL),
                     0);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
    assert_int_equal(cs_state_idem_begin(state, "order-export", rec, ver, "req-b", T0 + 10, 60000,
                                         86400000, &r, NULL),
                     0);
    assert_int_equal(r.status, CS_IDEM_BUSY);
    cs_diag diag;
    assert_int_equal(cs_state_idem_complete(state, "order-export", rec, ver, "req-b",
                                            CS_STR_LIT("SO-9"), T0 + 20, 86400000, &diag),
                     CS_ERR_CONDITION_FAILED);
    assert_int_equal(cs_state_idem_complete(state, "order-export", rec, ver, "req-a",
                                            CS_STR_LIT("SO-1001"), T0 + 30, 86400000, NULL),
                     0);
    assert_int_equal(cs_state_idem_begin(state, "order-export", rec, ver, "req-c", T0 + 40, 60000,
                                         86400000, &r, NULL),
                     0);
    assert_int_equal(r.status, CS_IDEM_DONE);
    assert_string_equal(r.result, "SO-1001");
    /* A new version of the same order is new work. */
    assert_int_equal(cs_state_idem_begin(state, "order-export", rec, CS_STR_LIT("v3"), "req-c",
                                         T0 + 40, 60000, 86400000, &r, NULL),
                     0);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
}

static void a_crashed_holder_blocks_only_until_its_lease_ends(void **st)
{
    (void)st;
    cs_idem_result r;
    cs_str rec = CS_STR_LIT("crash"), ver = CS_STR_LIT("1");
    cs_state_idem_begin(state, "f", rec, ver, "dead", T0, 100, 86400000, &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
    cs_state_idem_begin(state, "f", rec, ver, "alive", T0 + 50, 100, 86400000, &r, NULL);
    assert_int_equal(r.status, CS_IDEM_BUSY);
    cs_state_idem_begin(state, "f", rec, ver, "alive", T0 + 150, 100, 86400000, &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
    /* The late original can no longer complete; the new holder can. */
    assert_int_equal(
        cs_state_idem_complete(state, "f", rec, ver, "dead", CS_STR_LIT("x"), T0 + 160, 1000, NULL),
        CS_ERR_CONDITION_FAILED);
    assert_int_equal(cs_state_idem_complete(state, "f", rec, ver, "alive", CS_STR_LIT("ok"),
                                            T0 + 170, 1000, NULL),
                     0);
    /* Completed records expire after their time to live. */
    cs_state_idem_begin(state, "f", rec, ver, "later", T0 + 170 + 1001, 100, 1000, &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
}

static void release_lets_a_retry_start_at_once(void **st)
{
    (void)st;
    cs_idem_result r;
    cs_str rec = CS_STR_LIT("retry"), ver = CS_STR_LIT("1");
    cs_state_idem_begin(state, "f", rec, ver, "first", T0, 60000, 86400000, &r, NULL);
    assert_int_equal(cs_state_idem_release(state, "f", rec, ver, "first", NULL), 0);
    cs_state_idem_begin(state, "f", rec, ver, "second", T0 + 1, 60000, 86400000, &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
    /* Keys are escaped: ("a|b", "c") and ("a", "b|c") are different records. */
    cs_state_idem_begin(state, "f", CS_STR_LIT("a|b"), CS_STR_LIT("c"), "x", T0, 60000, 86400000,
                        &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
    cs_state_idem_begin(state, "f", CS_STR_LIT("a"), CS_STR_LIT("b|c"), "y", T0, 60000, 86400000,
                        &r, NULL);
    assert_int_equal(r.status, CS_IDEM_ACQUIRED);
}

static void id_maps_read_both_ways(void **st)
{
    (void)st;
    char id[64];
    bool found;
    assert_int_equal(cs_state_idmap_put(state, "order", CS_SYS_SHOPIFY, CS_STR_LIT("450789469"),
                                        CS_SYS_EXACTMAX, CS_STR_LIT("SO-1001"), NULL),
                     0);
    assert_int_equal(cs_state_idmap_get(state, "order", CS_SYS_SHOPIFY, CS_STR_LIT("450789469"),
                                        CS_SYS_EXACTMAX, id, sizeof(id), &found, NULL),
                     0);
    assert_true(found);
    assert_string_equal(id, "SO-1001");
    assert_int_equal(cs_state_idmap_get(state, "order", CS_SYS_EXACTMAX, CS_STR_LIT("SO-1001"),
                                        CS_SYS_SHOPIFY, id, sizeof(id), &found, NULL),
                     0);
    assert_true(found);
    assert_string_equal(id, "450789469");
    assert_int_equal(cs_state_idmap_get(state, "customer", CS_SYS_SHOPIFY, CS_STR_LIT("450789469"),
                                        CS_SYS_EXACTMAX, id, sizeof(id), &found, NULL),
                     0);
    assert_false(found);
}

static void error_queue_keeps_entries_and_snapshots(void **st)
{
    (void)st;
    const char snapshot[] = "{\"id\":450789469,\"note\":\"caf\xc3\xa9\"}";
    cs_error_entry a = {.correlation_id = "shopify:order:1",
                        .flow = "order-export",
                        .code = "UnknownSku",
                        .message = "SKU X has no item code",
                        .status = "open",
                        .updated_ms = T0 + 2};
    cs_error_entry b = {.correlation_id = "shopify:order:2/../x",
                        .flow = "order-export",
                        .code = "HttpPermanent",
                        .message = "422",
                        .status = "open",
                        .updated_ms = T0 + 1};
    cs_error_entry c = {.correlation_id = "shopify:order:3",
                        .flow = "stock-update",
                        .code = "Validation",
                        .message = "qty",
                        .status = "open",
                        .updated_ms = T0 + 3};
    assert_int_equal(cs_state_error_record(state, &a, CS_STR_LIT(snapshot), NULL), 0);
    assert_int_equal(cs_state_error_record(state, &b, CS_STR_LIT("{}"), NULL), 0);
    assert_int_equal(cs_state_error_record(state, &c, CS_STR_LIT("[]"), NULL), 0);
    a.message = "SKU X still has no item code";
    a.updated_ms = T0 + 10;
    assert_int_equal(cs_state_error_record(state, &a, CS_STR_LIT(snapshot), NULL), 0);
    cs_error_entry got;
    cs_buf snap;
    cs_buf_init(&snap, 0);
    assert_int_equal(cs_state_error_get(state, "shopify:order:1", &test_arena, &got, &snap, NULL),
                     0);
    assert_string_equal(got.message, "SKU X still has no item code");
    assert_true(got.attempts == 2); /* counted by the store */
    assert_true(got.created_ms == T0 + 2 && got.updated_ms == T0 + 10);
    assert_string_equal(snap.data, snapshot);
    cs_error_entry *list;
    size_t count;
    assert_int_equal(cs_state_error_list(state, "open", 10, &test_arena, &list, &count, NULL), 0);
    assert_int_equal(count, 3);
    assert_string_equal(list[0].correlation_id, "shopify:order:2/../x"); /* oldest first */
    assert_string_equal(list[1].correlation_id, "shopify:order:1");
    assert_int_equal(cs_state_error_set_status(state, "shopify:order:1", "resolved", T0 + 20, NULL),
                     0);
    assert_int_equal(cs_state_error_list(state, "open", 10, &test_arena, &list, &count, NULL), 0);
    assert_int_equal(count, 2);
    assert_int_equal(cs_state_error_list(state, "open", 1, &test_arena, &list, &count, NULL), 0);
    assert_int_equal(count, 1);
    assert_int_equal(cs_state_error_set_status(state, "nope", "resolved", T0, NULL),
                     CS_ERR_NOT_FOUND);
    assert_int_equal(cs_state_error_get(state, "nope", &test_arena, &got, NULL, NULL),
                     CS_ERR_NOT_FOUND);
    cs_buf_clean_up(&snap);
}

/* Forks two processes, each with the backend opened afresh, that start
 * work(state, child, k) at the same moment; their exit statuses (work's
 * answer; 3 when the state would not open). */
static void race_two(int (*work)(cs_state *s, int child, int k), int k, int statuses[2])
{
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t children[2];
    for (int c = 0; c < 2; c++) {
        children[c] = fork();
        if (children[c] == 0) {
            cs_http_client *client = NULL;
            cs_aws child_aws;
            cs_state *s = open_state(&client, &child_aws);
            char byte;
            close(go[1]);
            if (!s || read(go[0], &byte, 1) != 0) { /* wait for the pipe to close */
                _exit(3);
            }
            _exit(work(s, c, k));
        }
    }
    close(go[0]);
    close(go[1]); /* both children start now */
    for (int c = 0; c < 2; c++) {
        int status;
        waitpid(children[c], &status, 0);
        assert_true(WIFEXITED(status));
        statuses[c] = WEXITSTATUS(status);
    }
}

/* 0: this worker acquired record race-k; 1: it found it busy. */
static int begin_race_record(cs_state *s, int child, int k)
{
    char owner[32], record[32];
    snprintf(owner, sizeof(owner), "worker-%d", child);
    snprintf(record, sizeof(record), "race-%d", k);
    cs_idem_result r;
    cs_error e = cs_state_idem_begin(s, "race", cs_str_from_c(record), CS_STR_LIT("1"), owner, T0,
                                     60000, 86400000, &r, NULL);
    return e ? 2 : r.status == CS_IDEM_ACQUIRED ? 0 : 1;
}

/* Two processes race for the same records; for each exactly one wins. */
static void concurrent_writers_one_wins(void **st)
{
    (void)st;
    enum { KEYS = 10 };
    for (int k = 0; k < KEYS; k++) {
        int statuses[2];
        race_two(begin_race_record, k, statuses);
        assert_int_equal((statuses[0] == 0) + (statuses[1] == 0), 1);
        assert_int_equal((statuses[0] == 1) + (statuses[1] == 1), 1);
    }
}

enum { RACED_FAILURES = 20 };

static int fail_race_record(cs_state *s, int child, int k)
{
    (void)k;
    cs_error_entry e = {.correlation_id = "shopify:us:race",
                        .flow = "order-export",
                        .code = "InvalidArgument",
                        .message = child ? "from 1" : "from 0",
                        .status = "open",
                        .updated_ms = T0};
    for (int i = 0; i < RACED_FAILURES; i++) {
        if (cs_state_error_record(s, &e, CS_STR_LIT("{}"), NULL)) {
            return 2;
        }
    }
    return 0;
}

/* Two instances failing one record at once: every failure is counted (an
 * order delivered twice and failed twice shows attempts 2, not 1). On
 * DynamoDB the count is one UpdateItem with ADD, which DynamoDB applies
 * atomically; moto_server runs requests on threads without serializing
 * writes to an item (1 of 40 was lost in a run), so there the two write
 * one after the other, and the race is the SQLite store's. */
static void concurrent_failures_all_count(void **st)
{
    (void)st;
    int statuses[2];
    if (current == DYNAMODB) {
        statuses[0] = fail_race_record(state, 0, 0);
        statuses[1] = fail_race_record(state, 1, 0);
    } else {
        race_two(fail_race_record, 0, statuses);
    }
    assert_int_equal(statuses[0], 0);
    assert_int_equal(statuses[1], 0);
    cs_error_entry got;
    assert_int_equal(cs_state_error_get(state, "shopify:us:race", &test_arena, &got, NULL, NULL),
                     CS_ERR_OK);
    assert_int_equal(got.attempts, 2 * RACED_FAILURES);
}

#define SUITE(setup)                                                                               \
    {                                                                                              \
        cmocka_unit_test(cursors_move_forward_by_time_then_id),                                    \
            cmocka_unit_test(idempotency_once_then_done_with_result),                              \
            cmocka_unit_test(a_crashed_holder_blocks_only_until_its_lease_ends),                   \
            cmocka_unit_test(release_lets_a_retry_start_at_once),                                  \
            cmocka_unit_test(id_maps_read_both_ways),                                              \
            cmocka_unit_test(error_queue_keeps_entries_and_snapshots),                             \
            cmocka_unit_test(concurrent_writers_one_wins),                                         \
            cmocka_unit_test(concurrent_failures_all_count),                                       \
    }

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = SUITE();
    const struct CMUnitTest dynamodb_tests[] = SUITE();
    int failed =
        cmocka_run_group_tests_name("state_sqlite", sqlite_tests, setup_sqlite, teardown_backend);
    failed += cmocka_run_group_tests_name("state_dynamodb", dynamodb_tests, setup_dynamodb,
                                          teardown_backend);
    return failed;
}
