/* The emulator's queues against the SQS behaviour they stand in for; time is
 * passed in, so every timeout is exact. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "emulator/queue.h"
#include "testing.h"

static const int64_t T0 = 1732400000000;
static const int64_t S = 1000; /* one second in ms */
static char dir[64];
static char db_path[96];
static em_queues *queues;

static em_queue standard(const char *name)
{
    return (em_queue){.name = cs_str_from_c(name),
                      .dlq = cs_str_from_c(""),
                      .visibility_timeout_s = 30,
                      .retention_s = 345600};
}

static void define(em_queue q)
{
    cs_diag diag;
    if (em_queues_define(queues, &q, &diag)) {
        fail_msg("define: %s", diag.message);
    }
}

static int setup(void **st)
{
    snprintf(dir, sizeof(dir), "/tmp/cs-queue-XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db_path, sizeof(db_path), "%s/queues.db", dir);
    cs_diag diag;
    if (em_queues_open(db_path, &queues, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    return test_arena_setup(st);
}

static void remove_store(const char *path)
{
    char file[160];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

static int teardown(void **st)
{
    em_queues_close(queues);
    remove_store(db_path);
    rmdir(dir);
    return test_arena_teardown(st);
}

static void send_to(const char *queue, const char *body, const char *group, const char *dedup,
                    int64_t now, char id[37])
{
    cs_diag diag;
    if (em_queue_send(queues, cs_str_from_c(queue), cs_str_from_c(body), -1, cs_str_from_c(group),
                      cs_str_from_c(dedup), now, id, &diag)) {
        fail_msg("send: %s", diag.message);
    }
}

static int receive(const char *queue, int max, int64_t now, em_message *out)
{
    cs_diag diag;
    int count = 0;
    if (em_queue_receive(queues, cs_str_from_c(queue), max, -1, now, &test_arena, out, &count,
                         &diag)) {
        fail_msg("receive: %s", diag.message);
    }
    return count;
}

static em_queue_stats stats(const char *queue, int64_t now)
{
    em_queue_stats s;
    cs_diag diag;
    if (em_queue_stats_of(queues, cs_str_from_c(queue), now, &s, &diag)) {
        fail_msg("stats: %s", diag.message);
    }
    return s;
}

static cs_error delete_message(const char *queue, const char *receipt)
{
    cs_diag diag;
    return em_queue_delete(queues, cs_str_from_c(queue), cs_str_from_c(receipt), &diag);
}

static void a_received_message_comes_back_after_its_visibility_timeout(void **st)
{
    (void)st;
    define(standard("orders"));
    char id[37];
    send_to("orders", "{\"order\":1}", "", "", T0, id);
    em_message m[10];
    assert_int_equal(receive("orders", 10, T0, m), 1);
    assert_string_equal(m[0].message_id, id);
    assert_string_equal(m[0].body.ptr, "{\"order\":1}");
    assert_string_equal(m[0].md5, "190ad5fd0596a0629a0aa256937135a3");
    assert_int_equal(m[0].receive_count, 1);
    assert_int_equal(m[0].first_receive_ms, T0);
    char first_receipt[37];
    strcpy(first_receipt, m[0].receipt);

    assert_int_equal(receive("orders", 10, T0 + 29 * S, m), 0);
    em_queue_stats s = stats("orders", T0 + 29 * S);
    assert_int_equal(s.in_flight, 1);
    assert_int_equal(s.visible, 0);

    assert_int_equal(receive("orders", 10, T0 + 30 * S, m), 1);
    assert_string_equal(m[0].message_id, id);
    assert_int_equal(m[0].receive_count, 2);
    assert_int_equal(m[0].first_receive_ms, T0);
    assert_string_not_equal(m[0].receipt, first_receipt);

    /* Only the latest receipt deletes, as in SQS. */
    assert_int_equal(delete_message("orders", first_receipt), CS_ERR_NOT_FOUND);
    assert_int_equal(delete_message("orders", m[0].receipt), CS_ERR_OK);
    assert_int_equal(receive("orders", 10, T0 + 3600 * S, m), 0);
    assert_int_equal(stats("orders", T0).in_flight, 0);
}

static void visibility_can_be_changed_while_in_flight(void **st)
{
    (void)st;
    define(standard("stock"));
    char id[37];
    send_to("stock", "a", "", "", T0, id);
    em_message m[1];
    assert_int_equal(receive("stock", 1, T0, m), 1);
    cs_diag diag;
    assert_int_equal(em_queue_change_visibility(queues, cs_str_from_c("stock"),
                                                cs_str_from_c(m[0].receipt), 0, T0 + S, &diag),
                     CS_ERR_OK);
    assert_int_equal(receive("stock", 1, T0 + S, m), 1);
    assert_int_equal(em_queue_change_visibility(queues, cs_str_from_c("stock"),
                                                cs_str_from_c(m[0].receipt), 300, T0 + S, &diag),
                     CS_ERR_OK);
    assert_int_equal(receive("stock", 1, T0 + 299 * S, m), 0);
    assert_int_equal(receive("stock", 1, T0 + 301 * S, m), 1);
    assert_int_equal(em_queue_change_visibility(queues, cs_str_from_c("stock"),
                                                cs_str_from_c("no-such-receipt"), 1, T0, &diag),
                     CS_ERR_NOT_FOUND);
    assert_int_equal(em_queue_change_visibility(queues, cs_str_from_c("stock"),
                                                cs_str_from_c(m[0].receipt), 43201, T0, &diag),
                     CS_ERR_INVALID_ARGUMENT);
}

static void delayed_messages_wait(void **st)
{
    (void)st;
    em_queue q = standard("delayed");
    q.delay_s = 10;
    define(q);
    char id[37];
    send_to("delayed", "later", "", "", T0, id);
    cs_diag diag;
    char now_id[37];
    assert_int_equal(em_queue_send(queues, cs_str_from_c("delayed"), cs_str_from_c("now"), 0,
                                   cs_str_from_c(""), cs_str_from_c(""), T0, now_id, &diag),
                     CS_ERR_OK);
    em_queue_stats s = stats("delayed", T0);
    assert_int_equal(s.delayed, 1);
    assert_int_equal(s.visible, 1);
    em_message m[10];
    assert_int_equal(receive("delayed", 10, T0 + 9 * S, m), 1);
    assert_string_equal(m[0].body.ptr, "now");
    assert_int_equal(receive("delayed", 10, T0 + 10 * S, m), 1);
    assert_string_equal(m[0].message_id, id);
}

static void a_message_received_too_often_goes_to_the_dead_letter_queue(void **st)
{
    (void)st;
    define(standard("export-dlq"));
    em_queue q = standard("export");
    q.dlq = cs_str_from_c("export-dlq");
    q.max_receive_count = 2;
    define(q);
    char id[37];
    send_to("export", "poison", "", "", T0, id);
    em_message m[10];
    assert_int_equal(receive("export", 10, T0, m), 1);
    assert_int_equal(receive("export", 10, T0 + 30 * S, m), 1);
    assert_int_equal(receive("export", 10, T0 + 60 * S, m), 0);
    assert_int_equal(stats("export", T0 + 60 * S).visible, 0);

    assert_int_equal(receive("export-dlq", 10, T0 + 60 * S, m), 1);
    assert_string_equal(m[0].message_id, id);
    assert_string_equal(m[0].body.ptr, "poison");
    assert_int_equal(m[0].receive_count, 3);
    assert_int_equal(m[0].sent_ms, T0);

    /* Replay: back to the source queue, counted afresh. */
    int64_t moved = 0;
    cs_diag diag;
    assert_int_equal(em_queue_redrive(queues, cs_str_from_c("export-dlq"), cs_str_from_c("export"),
                                      T0 + 61 * S, &moved, &diag),
                     CS_ERR_OK);
    assert_int_equal(moved, 1);
    assert_int_equal(receive("export", 10, T0 + 61 * S, m), 1);
    assert_int_equal(m[0].receive_count, 1);
}

static void many_dead_letters_do_not_hide_good_messages(void **st)
{
    (void)st;
    define(standard("bulk-dlq"));
    em_queue q = standard("bulk");
    q.dlq = cs_str_from_c("bulk-dlq");
    q.max_receive_count = 1;
    q.visibility_timeout_s = 0;
    define(q);
    char id[37];
    for (int i = 0; i < 150; i++) {
        send_to("bulk", "bad", "", "", T0, id);
    }
    em_message m[10];
    for (int i = 0; i < 15; i++) {
        assert_int_equal(receive("bulk", 10, T0, m), 10);
    }
    send_to("bulk", "good", "", "", T0, id);
    assert_int_equal(receive("bulk", 10, T0, m), 1);
    assert_string_equal(m[0].body.ptr, "good");
    assert_int_equal(stats("bulk-dlq", T0).visible, 150);
}

static em_queue fifo(const char *name)
{
    em_queue q = standard(name);
    q.fifo = true;
    return q;
}

static void fifo_groups_keep_order_and_wait_for_the_message_in_flight(void **st)
{
    (void)st;
    define(fifo("orders.fifo"));
    char a1[37], a2[37], b1[37];
    send_to("orders.fifo", "a1", "A", "d-a1", T0, a1);
    send_to("orders.fifo", "b1", "B", "d-b1", T0, b1);
    send_to("orders.fifo", "a2", "A", "d-a2", T0, a2);

    em_message m[10];
    assert_int_equal(receive("orders.fifo", 1, T0, m), 1);
    assert_string_equal(m[0].message_id, a1);
    assert_string_equal(m[0].group_id.ptr, "A");
    char a1_receipt[37];
    strcpy(a1_receipt, m[0].receipt);
    int64_t a1_sequence = m[0].sequence;

    /* a2 waits behind a1, which is in flight; B goes on. */
    assert_int_equal(receive("orders.fifo", 10, T0, m), 1);
    assert_string_equal(m[0].message_id, b1);
    assert_true(m[0].sequence > a1_sequence);
    assert_int_equal(receive("orders.fifo", 10, T0, m), 0);

    assert_int_equal(delete_message("orders.fifo", a1_receipt), CS_ERR_OK);
    assert_int_equal(receive("orders.fifo", 10, T0, m), 1);
    assert_string_equal(m[0].message_id, a2);
}

static void fifo_batches_hold_a_group_in_order(void **st)
{
    (void)st;
    define(fifo("batch.fifo"));
    char ids[5][37];
    const char *bodies[] = {"1", "2", "3", "4", "5"};
    for (int i = 0; i < 5; i++) {
        send_to("batch.fifo", bodies[i], i % 2 ? "odd" : "even", bodies[i], T0, ids[i]);
    }
    em_message m[10];
    assert_int_equal(receive("batch.fifo", 10, T0, m), 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(m[i].message_id, ids[i]);
    }
}

static void fifo_deduplication_lasts_five_minutes(void **st)
{
    (void)st;
    em_queue q = fifo("dedup.fifo");
    q.content_dedup = true;
    define(q);
    char first[37], again[37], same_body[37], later[37];
    send_to("dedup.fifo", "x", "g", "id-1", T0, first);
    send_to("dedup.fifo", "y", "g", "id-1", T0 + 299 * S, again);
    assert_string_equal(again, first);
    send_to("dedup.fifo", "body", "g", "", T0, same_body);
    send_to("dedup.fifo", "body", "g", "", T0 + S, later);
    assert_string_equal(later, same_body);
    assert_int_equal(stats("dedup.fifo", T0).visible, 2);

    send_to("dedup.fifo", "x", "g", "id-1", T0 + 300 * S, later);
    assert_string_not_equal(later, first);
    assert_int_equal(stats("dedup.fifo", T0 + 300 * S).visible, 3);
}

static void messages_older_than_retention_are_dropped(void **st)
{
    (void)st;
    em_queue q = standard("short");
    q.retention_s = 60;
    define(q);
    char id[37];
    send_to("short", "old", "", "", T0, id);
    send_to("short", "new", "", "", T0 + 30 * S, id);
    em_message m[10];
    assert_int_equal(receive("short", 10, T0 + 60 * S + 1, m), 1);
    assert_string_equal(m[0].body.ptr, "new");
}

static void bad_requests_say_what_is_wrong(void **st)
{
    (void)st;
    define(fifo("strict.fifo"));
    define(standard("plain"));
    cs_diag diag;
    char id[37];
    em_message m[1];
    int count;
    assert_int_equal(em_queue_send(queues, cs_str_from_c("nope"), cs_str_from_c("x"), -1,
                                   cs_str_from_c(""), cs_str_from_c(""), T0, id, &diag),
                     CS_ERR_NOT_FOUND);
    assert_string_equal(diag.message, "no queue named 'nope'");
    assert_int_equal(em_queue_send(queues, cs_str_from_c("strict.fifo"), cs_str_from_c("x"), -1,
                                   cs_str_from_c(""), cs_str_from_c("d"), T0, id, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(diag.message, "MessageGroupId is required for FIFO");
    assert_int_equal(em_queue_send(queues, cs_str_from_c("strict.fifo"), cs_str_from_c("x"), -1,
                                   cs_str_from_c("g"), cs_str_from_c(""), T0, id, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(em_queue_send(queues, cs_str_from_c("plain"), cs_str_from_c(""), -1,
                                   cs_str_from_c(""), cs_str_from_c(""), T0, id, &diag),
                     CS_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        em_queue_receive(queues, cs_str_from_c("plain"), 11, -1, T0, &test_arena, m, &count, &diag),
        CS_ERR_INVALID_ARGUMENT);
    assert_string_equal(diag.message, "MaxNumberOfMessages is 1 to 10");
    assert_int_equal(em_queue_redrive(queues, cs_str_from_c("plain"), cs_str_from_c("strict.fifo"),
                                      T0, &(int64_t){0}, &diag),
                     CS_ERR_INVALID_ARGUMENT);
}

static void purge_empties_a_queue(void **st)
{
    (void)st;
    define(standard("purge-me"));
    char id[37];
    send_to("purge-me", "1", "", "", T0, id);
    send_to("purge-me", "2", "", "", T0, id);
    cs_diag diag;
    assert_int_equal(em_queue_purge(queues, cs_str_from_c("purge-me"), &diag), CS_ERR_OK);
    assert_int_equal(stats("purge-me", T0).visible, 0);
}

/* A child process that writes one line per committed operation to `out`
 * and runs until it is killed. */
static pid_t start_child(int out, bool consume)
{
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    em_queues *mine;
    cs_diag diag;
    if (em_queues_open(db_path, &mine, &diag)) {
        _exit(2);
    }
    em_queue q = standard("durable");
    q.visibility_timeout_s = 3600;
    em_queues_define(mine, &q, &diag);
    cs_arena arena;
    cs_arena_init(&arena, 4096, 1 << 20);
    char line[40];
    for (;;) {
        em_message m;
        int count = 0;
        if (consume) {
            if (em_queue_receive(mine, q.name, 1, -1, T0, &arena, &m, &count, &diag) ||
                count == 0 || em_queue_delete(mine, q.name, cs_str_from_c(m.receipt), &diag)) {
                _exit(3);
            }
        } else if (em_queue_send(mine, q.name, cs_str_from_c("payload"), 0, cs_str_from_c(""),
                                 cs_str_from_c(""), T0, m.message_id, &diag)) {
            _exit(3);
        }
        snprintf(line, sizeof(line), "%s\n", m.message_id);
        if (write(out, line, 37) != 37) {
            _exit(4);
        }
        cs_arena_reset(&arena);
    }
}

/* Reads n acknowledgements from the child, then kills it with SIGKILL. */
static int64_t anchor(const char *rule, const char *expression, int64_t now)
{
    int64_t at = -1;
    cs_diag diag;
    if (em_queues_schedule_anchor(queues, rule, cs_str_from_c(expression), now, &at, &diag)) {
        fail_msg("anchor: %s", diag.message);
    }
    return at;
}

static void schedule_anchors_survive_a_reopen_until_the_expression_changes(void **st)
{
    (void)st;
    assert_int_equal(anchor("nightly", "rate(1 day)", T0), T0);
    assert_int_equal(anchor("nightly", "rate(1 day)", T0 + 3600 * S), T0);
    assert_int_equal(anchor("hourly", "rate(1 hour)", T0 + 5 * S), T0 + 5 * S);
    em_queues_close(queues);
    cs_diag diag;
    if (em_queues_open(db_path, &queues, &diag)) {
        fail_msg("reopen: %s", diag.message);
    }
    assert_int_equal(anchor("nightly", "rate(1 day)", T0 + 7200 * S), T0);
    assert_int_equal(anchor("nightly", "rate(12 hours)", T0 + 7200 * S), T0 + 7200 * S);
    assert_int_equal(anchor("hourly", "rate(1 hour)", T0 + 9000 * S), T0 + 5 * S);
}

/* A state directory from before messages carried attributes keeps its
 * messages. */
static void a_store_from_before_attributes_is_upgraded(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof(path), "%s/old.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT "
                     "NULL, message_id TEXT NOT NULL, body BLOB NOT NULL, group_id TEXT, sequence "
                     "INTEGER, md5 TEXT NOT NULL, sent_at INTEGER NOT NULL, available_at INTEGER "
                     "NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0, first_receive_at "
                     "INTEGER, receipt TEXT);"
                     "INSERT INTO messages (queue, message_id, body, md5, sent_at, available_at) "
                     "VALUES ('orders', 'old-1', 'kept', 'x', 1, 1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    em_queues *old;
    cs_diag diag;
    if (em_queues_open(path, &old, &diag)) {
        fail_msg("open: %s", diag.message);
    }
    em_queue q = standard("orders");
    q.retention_s = 0x7fffffff;
    assert_int_equal(em_queues_define(old, &q, NULL), CS_ERR_OK);
    em_message m;
    int count = 0;
    assert_int_equal(em_queue_receive(old, q.name, 1, -1, T0, &test_arena, &m, &count, NULL),
                     CS_ERR_OK);
    assert_int_equal(count, 1);
    assert_true(cs_str_eq_c(m.body, "kept"));
    assert_int_equal(m.attributes.len, 0);
    em_queues_close(old);
    remove_store(path);
}

static void read_then_kill(int in, pid_t child, int n, char (*ids)[37])
{
    for (int i = 0; i < n; i++) {
        char line[37];
        size_t got = 0;
        while (got < sizeof(line)) {
            ssize_t r = read(in, line + got, sizeof(line) - got);
            assert_true(r > 0);
            got += (size_t)r;
        }
        if (ids) {
            memcpy(ids[i], line, 36);
            ids[i][36] = '\0';
        }
    }
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFSIGNALED(status));
}

static pid_t run_child(bool consume, int n, char (*ids)[37])
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = start_child(fds[1], consume);
    assert_true(child > 0);
    close(fds[1]);
    read_then_kill(fds[0], child, n, ids);
    close(fds[0]);
    return child;
}

static void killing_the_process_loses_no_sent_message_and_revives_no_deleted_one(void **st)
{
    (void)st;
    define(standard("durable"));
    run_child(false, 400, NULL);
    em_queue_stats s = stats("durable", T0);
    assert_true(s.visible >= 400);
    int64_t sent = s.visible;

    char(*deleted)[37] = calloc(100, 37);
    run_child(true, 100, deleted);
    s = stats("durable", T0);
    assert_true(s.visible <= sent - 100);
    /* A message taken but not yet deleted when the child died is in flight;
     * at most one, and none of the acknowledged deletions comes back. */
    assert_true(s.in_flight <= 1);
    em_message m[10];
    int64_t after = T0 + 3600 * S;
    for (int n; (n = receive("durable", 10, after, m)) > 0;) {
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < 100; d++) {
                assert_string_not_equal(m[i].message_id, deleted[d]);
            }
            assert_int_equal(delete_message("durable", m[i].receipt), CS_ERR_OK);
        }
    }
    free(deleted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_received_message_comes_back_after_its_visibility_timeout),
        cmocka_unit_test(visibility_can_be_changed_while_in_flight),
        cmocka_unit_test(delayed_messages_wait),
        cmocka_unit_test(a_message_received_too_often_goes_to_the_dead_letter_queue),
        cmocka_unit_test(many_dead_letters_do_not_hide_good_messages),
        cmocka_unit_test(fifo_groups_keep_order_and_wait_for_the_message_in_flight),
        cmocka_unit_test(fifo_batches_hold_a_group_in_order),
        cmocka_unit_test(fifo_deduplication_lasts_five_minutes),
        cmocka_unit_test(messages_older_than_retention_are_dropped),
        cmocka_unit_test(bad_requests_say_what_is_wrong),
        cmocka_unit_test(purge_empties_a_queue),
        cmocka_unit_test(schedule_anchors_survive_a_reopen_until_the_expression_changes),
        cmocka_unit_test(a_store_from_before_attributes_is_upgraded),
        cmocka_unit_test(killing_the_process_loses_no_sent_message_and_revives_no_deleted_one),
    };
    return cmocka_run_group_tests_name("queue", tests, setup, teardown);
}
