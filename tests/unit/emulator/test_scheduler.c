#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/timestamp.h"
#include "emulator/scheduler.h"
#include "testing.h"

typedef struct fired {
    int count;
    char rule[128];
    char payload[2048];
    int64_t at_ms;
} fired;

static void record(void *user, const char *rule, cs_str payload)
{
    fired *f = user;
    f->at_ms = cs_time_now_ms();
    snprintf(f->rule, sizeof(f->rule), "%s", rule);
    snprintf(f->payload, sizeof(f->payload), "%.*s", CS_STR_FMT(payload));
    __atomic_add_fetch(&f->count, 1, __ATOMIC_RELEASE);
}

static em_scheduler *make(void)
{
    em_scheduler *s;
    assert_int_equal(em_scheduler_create("eu-west-1", record, &s, NULL), CS_ERR_OK);
    return s;
}

static void the_scheduled_event_is_eventbridges_shape(void **st)
{
    (void)st;
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(em_scheduled_event_write("arn:aws:events:eu-west-1:000000000000:rule/nightly",
                                              "eu-west-1", 1795505700123, "ev-1", &out, NULL),
                     CS_ERR_OK);
    test_expect_text("event", out.data,
                     "{\"version\":\"0\",\"id\":\"ev-1\",\"detail-type\":\"Scheduled Event\","
                     "\"source\":\"aws.events\",\"account\":\"000000000000\",\"time\":"
                     "\"2026-11-24T07:35:00Z\",\"region\":\"eu-west-1\",\"resources\":["
                     "\"arn:aws:events:eu-west-1:000000000000:rule/nightly\"],\"detail\":{}}");
    cs_buf_clean_up(&out);
}

static void a_rule_fires_on_time(void **st)
{
    (void)st;
    em_scheduler *s = make();
    fired f = {0};
    /* rate() counts from its start: started 59.7 s ago, it is due in 0.3 s. */
    int64_t due = cs_time_now_ms() + 300;
    assert_int_equal(em_scheduler_add(s, "soon", cs_str_from_c("rate(1 minute)"), cs_str_from_c(""),
                                      cs_str_from_c(""), &f, due - 60000, NULL),
                     CS_ERR_OK);
    assert_int_equal(em_scheduler_next(s, "soon"), due);
    assert_int_equal(em_scheduler_start(s, NULL), CS_ERR_OK);
    for (int waited = 0; __atomic_load_n(&f.count, __ATOMIC_ACQUIRE) == 0 && waited < 3000;
         waited += 10) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    em_scheduler_destroy(s);
    assert_int_equal(f.count, 1);
    assert_true(f.at_ms >= due && f.at_ms < due + 500);
    assert_string_equal(f.rule, "soon");
    assert_non_null(strstr(f.payload, "\"detail-type\":\"Scheduled Event\""));
    assert_non_null(strstr(f.payload, "\"resources\":[\"arn:aws:events:eu-west-1:000000000000:"
                                      "rule/soon\"]"));
}

static void fire_now_sends_the_input_verbatim(void **st)
{
    (void)st;
    em_scheduler *s = make();
    fired f = {0};
    assert_int_equal(em_scheduler_add(s, "nightly", cs_str_from_c("cron(0 2 * * ? *)"),
                                      cs_str_from_c("Europe/Amsterdam"),
                                      cs_str_from_c("{\"mode\":\"full\"}"), &f, cs_time_now_ms(),
                                      NULL),
                     CS_ERR_OK);
    assert_true(em_scheduler_next(s, "nightly") > cs_time_now_ms());
    assert_int_equal(em_scheduler_fire_now(s, "nightly", NULL), CS_ERR_OK);
    assert_int_equal(f.count, 1);
    assert_string_equal(f.payload, "{\"mode\":\"full\"}");
    cs_diag diag;
    assert_int_equal(em_scheduler_fire_now(s, "daily", &diag), CS_ERR_NOT_FOUND);
    assert_string_equal(diag.message, "no schedule named 'daily'");
    em_scheduler_destroy(s);
}

static void a_bad_expression_names_the_rule(void **st)
{
    (void)st;
    em_scheduler *s = make();
    cs_diag diag;
    assert_int_not_equal(em_scheduler_add(s, "broken", cs_str_from_c("rate(0 minutes)"),
                                          cs_str_from_c(""), cs_str_from_c(""), NULL, 0, &diag),
                         CS_ERR_OK);
    assert_true(strncmp(diag.message, "schedule 'broken': ", 19) == 0);
    em_scheduler_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_scheduled_event_is_eventbridges_shape),
        cmocka_unit_test(a_rule_fires_on_time),
        cmocka_unit_test(fire_now_sends_the_input_verbatim),
        cmocka_unit_test(a_bad_expression_names_the_rule),
    };
    return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
