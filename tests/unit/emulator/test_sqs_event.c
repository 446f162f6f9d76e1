#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulator/sqs_event.h"
#include "testing.h"

static em_message message(const char *id, const char *body)
{
    em_message m = {.body = cs_str_from_c(body),
                    .group_id = cs_str_from_c(""),
                    .sent_ms = 1732400000000,
                    .first_receive_ms = 1732400000123,
                    .receive_count = 1};
    snprintf(m.message_id, sizeof(m.message_id), "%s", id);
    snprintf(m.receipt, sizeof(m.receipt), "r-%s", id);
    snprintf(m.md5, sizeof(m.md5), "%s", "0cc175b9c0f1b6a831c399e269772661");
    return m;
}

static void the_event_is_lambdas_shape(void **st)
{
    (void)st;
    em_message m[2] = {message("m1", "a"), message("m2", "{\"quoted\":\"yes\"}")};
    m[1].group_id = cs_str_from_c("g1");
    m[1].sequence = 7;
    m[1].receive_count = 2;
    cs_buf out;
    cs_buf_init(&out, 0);
    assert_int_equal(em_sqs_event_write(m, 2, "arn:aws:sqs:eu-west-1:000000000000:orders",
                                        "eu-west-1", &out, NULL),
                     CS_ERR_OK);
    test_expect_text(
        "event", out.data,
        "{\"Records\":[{\"messageId\":\"m1\",\"receiptHandle\":\"r-m1\",\"body\":\"a\","
        "\"attributes\":{\"ApproximateReceiveCount\":\"1\",\"SentTimestamp\":\"1732400000000\","
        "\"SenderId\":\"AIDAIENQZJOLO23YVJ4VO\",\"ApproximateFirstReceiveTimestamp\":"
        "\"1732400000123\"},\"messageAttributes\":{},\"md5OfBody\":"
        "\"0cc175b9c0f1b6a831c399e269772661\",\"eventSource\":\"aws:sqs\",\"eventSourceARN\":"
        "\"arn:aws:sqs:eu-west-1:000000000000:orders\",\"awsRegion\":\"eu-west-1\"},"
        "{\"messageId\":\"m2\",\"receiptHandle\":\"r-m2\",\"body\":\"{\\\"quoted\\\":\\\"yes\\\"}"
        "\","
        "\"attributes\":{\"ApproximateReceiveCount\":\"2\",\"SentTimestamp\":\"1732400000000\","
        "\"SenderId\":\"AIDAIENQZJOLO23YVJ4VO\",\"ApproximateFirstReceiveTimestamp\":"
        "\"1732400000123\",\"SequenceNumber\":\"00000000000000000007\",\"MessageGroupId\":"
        "\"g1\"},\"messageAttributes\":{},\"md5OfBody\":\"0cc175b9c0f1b6a831c399e269772661\","
        "\"eventSource\":\"aws:sqs\",\"eventSourceARN\":"
        "\"arn:aws:sqs:eu-west-1:000000000000:orders\",\"awsRegion\":\"eu-west-1\"}]}");
    cs_buf_clean_up(&out);
}

static void partial_batch_responses_mark_only_the_listed_items(void **st)
{
    (void)st;
    em_message m[3] = {message("m1", "a"), message("m2", "b"), message("m3", "c")};
    bool failed[3];
    const char *successes[] = {"", "null", "{}", "{\"batchItemFailures\":[]}",
                               "{\"batchItemFailures\":null}"};
    for (size_t i = 0; i < sizeof(successes) / sizeof(successes[0]); i++) {
        assert_int_equal(em_sqs_batch_failures(cs_str_from_c(successes[i]), m, 3, failed, NULL),
                         CS_ERR_OK);
        assert_false(failed[0] || failed[1] || failed[2]);
    }
    assert_int_equal(em_sqs_batch_failures(
                         cs_str_from_c("{\"batchItemFailures\":[{\"itemIdentifier\":\"m2\"}]}"), m,
                         3, failed, NULL),
                     CS_ERR_OK);
    assert_false(failed[0]);
    assert_true(failed[1]);
    assert_false(failed[2]);
}

static void an_invalid_response_fails_the_batch_with_a_reason(void **st)
{
    (void)st;
    em_message m[2] = {message("m1", "a"), message("m2", "b")};
    bool failed[2];
    static const char *cases[][2] = {
        {"{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
         "batchItemFailures[0].itemIdentifier is not a non-empty string"},
        {"{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
         "batchItemFailures[0].itemIdentifier is not a non-empty string"},
        {"{\"batchItemFailures\":[{\"itemIdentifier\":\"m1\"},{\"id\":\"m2\"}]}",
         "batchItemFailures[1].itemIdentifier is not a non-empty string"},
        {"{\"batchItemFailures\":[{\"itemIdentifier\":\"m9\"}]}",
         "batchItemFailures[0].itemIdentifier 'm9' is not in the batch"},
        {"{\"batchItemFailures\":{}}", "batchItemFailures is not an array"},
        {"[1]", "the response is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cs_diag diag;
        assert_int_not_equal(em_sqs_batch_failures(cs_str_from_c(cases[i][0]), m, 2, failed, &diag),
                             CS_ERR_OK);
        assert_string_equal(diag.message, cases[i][1]);
        assert_false(failed[0] || failed[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_event_is_lambdas_shape),
        cmocka_unit_test(partial_batch_responses_mark_only_the_listed_items),
        cmocka_unit_test(an_invalid_response_fails_the_batch_with_a_reason),
    };
    return cmocka_run_group_tests_name("sqs_event", tests, NULL, NULL);
}
