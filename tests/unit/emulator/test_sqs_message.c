#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emulator/sqs_message.h"
#include "testing.h"

typedef struct checked {
    cs_error result;
    char canonical[4096];
    size_t bytes;
    char md5[33];
    char message[512];
} checked;

static checked check(const char *attributes)
{
    checked c = {0};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_diag diag = {0};
    c.result = em_sqs_attributes_check(test_parse(&test_arena, attributes, strlen(attributes)),
                                       &out, &c.bytes, c.md5, &diag);
    snprintf(c.canonical, sizeof(c.canonical), "%.*s", (int)out.len, out.data ? out.data : "");
    snprintf(c.message, sizeof(c.message), "%s", diag.message);
    cs_buf_clean_up(&out);
    return c;
}

/* The digests SQS answers for these attributes, as published with the
 * aws-md5-of-message-attributes package. */
static void the_digest_is_the_one_sqs_computes(void **st)
{
    (void)st;
    checked c =
        check("{\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"}}");
    assert_int_equal(c.result, CS_ERR_OK);
    assert_string_equal(c.md5, "19e27d4e946b072f3f58da80d94fd778");
    c = check("{\"customNumberTypeAttrib\":{\"DataType\":\"Number.float\",\"StringValue\":"
              "\"4563442423554324324264524243.32543234\"}}");
    assert_string_equal(c.md5, "9fe1b90bbd9965bdf77bac517c7d2495");
    /* "Hello binary world!" */
    c = check("{\"binaryAttribute\":{\"DataType\":\"Binary\",\"BinaryValue\":"
              "\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"}}");
    assert_string_equal(c.md5, "31a92b15d92f8db860eda32aceb656c3");
    c = check("{\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"},"
              "\"customNumberTypeAttrib\":{\"DataType\":\"Number.float\",\"StringValue\":"
              "\"4563442423554324324264524243.32543234\"},"
              "\"binaryAttribute\":{\"DataType\":\"Binary\",\"BinaryValue\":"
              "\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"}}");
    assert_string_equal(c.md5, "c932db14a896c663f83c260297d594ff");
    /* Names sorted by their bytes, nothing but the type and the value kept. */
    test_expect_text(
        "canonical", c.canonical,
        "{\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"},"
        "\"binaryAttribute\":{\"DataType\":\"Binary\",\"BinaryValue\":"
        "\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"},\"customNumberTypeAttrib\":{\"DataType\":"
        "\"Number.float\",\"StringValue\":\"4563442423554324324264524243.32543234\"}}");
    /* Names, types and values (binary ones decoded) count towards the size. */
    assert_int_equal(c.bytes, strlen("attribName1StringattribValue 1") +
                                  strlen("binaryAttributeBinaryHello binary world!") +
                                  strlen("customNumberTypeAttribNumber.float"
                                         "4563442423554324324264524243.32543234"));
}

static void bad_attributes_are_named(void **st)
{
    (void)st;
    static const struct {
        const char *attributes;
        const char *message;
    } cases[] = {
        {"[]", "MessageAttributes is an object of at most 10 attributes."},
        {"{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"},\"b\":1,\"c\":1,\"d\":1,\"e\":1,"
         "\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,\"k\":1}",
         "MessageAttributes is an object of at most 10 attributes."},
        {"{\"aws.trace\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}",
         "Message attribute name 'aws.trace' starts with AWS. or Amazon., which SQS reserves."},
        {"{\"a..b\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}",
         "Message attribute name 'a..b' holds two periods in a row."},
        {"{\".a\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}",
         "Message attribute name '.a' starts or ends with a period."},
        {"{\"a b\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}",
         "Message attribute name 'a b' holds a character other than A-Z, a-z, 0-9, underscore, "
         "hyphen and period."},
        {"{\"tenant\":{\"StringValue\":\"x\"}}", "Message attribute 'tenant' needs a DataType."},
        {"{\"tenant\":{\"DataType\":\"Text\",\"StringValue\":\"x\"}}",
         "Message attribute 'tenant' has a DataType that is not String, Number or Binary (with an "
         "optional .label)."},
        {"{\"tenant\":{\"DataType\":\"String.\",\"StringValue\":\"x\"}}",
         "Message attribute 'tenant' has a DataType that is not String, Number or Binary (with an "
         "optional .label)."},
        {"{\"tenant\":{\"DataType\":\"String\",\"StringValue\":\"\"}}",
         "Message attribute 'tenant' needs a non-empty StringValue."},
        {"{\"tenant\":{\"DataType\":\"Binary\",\"StringValue\":\"x\"}}",
         "Message attribute 'tenant' needs a non-empty BinaryValue."},
        {"{\"tenant\":{\"DataType\":\"Binary\",\"BinaryValue\":\"not base64\"}}",
         "Message attribute 'tenant' has a BinaryValue that is not base64."},
        {"{\"tenant\":{\"DataType\":\"String\",\"StringValue\":\"a\\u0002\"}}",
         "Message attribute 'tenant' has the character #x2 (byte 1 of its StringValue), which SQS "
         "refuses."},
        {"{\"n\":{\"DataType\":\"Number\",\"StringValue\":\"12a\"}}",
         "Message attribute 'n' is a Number whose StringValue is not a number of at most 38 "
         "digits."},
        {"{\"n\":{\"DataType\":\"Number\",\"StringValue\":"
         "\"123456789012345678901234567890123456789\"}}",
         "Message attribute 'n' is a Number whose StringValue is not a number of at most 38 "
         "digits."},
        {"{\"l\":{\"DataType\":\"String\",\"StringValue\":\"x\",\"StringListValues\":[\"y\"]}}",
         "Message attribute 'l' uses StringListValues or BinaryListValues, which SQS reserves and "
         "refuses."},
        {"{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"},\"a\":{\"DataType\":\"String\","
         "\"StringValue\":\"y\"}}",
         "Message attribute name 'a' appears twice."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        checked c = check(cases[i].attributes);
        assert_int_equal(c.result, CS_ERR_INVALID_ARGUMENT);
        test_expect_text(cases[i].attributes, c.message, cases[i].message);
    }
    checked ok = check("{\"n\":{\"DataType\":\"Number.price\",\"StringValue\":\"-12.50e3\"}}");
    assert_int_equal(ok.result, CS_ERR_OK);
}

static void receive_selects_by_name_and_prefix(void **st)
{
    (void)st;
    const char *canonical = "{\"order.id\":{\"DataType\":\"String\",\"StringValue\":\"1001\"},"
                            "\"order.store\":{\"DataType\":\"String\",\"StringValue\":\"eu\"},"
                            "\"tenant\":{\"DataType\":\"String\",\"StringValue\":\"acme\"}}";
    cs_json *attributes = test_parse(&test_arena, canonical, strlen(canonical));
    static const struct {
        const char *names;
        const char *written;
    } cases[] = {
        {"[\"All\"]", NULL},
        {"[\".*\"]", NULL},
        {"[\"tenant\"]", "{\"MessageAttributes\":{\"tenant\":{\"DataType\":\"String\","
                         "\"StringValue\":\"acme\"}}}"},
        {"[\"order.*\"]", "{\"MessageAttributes\":{\"order.id\":{\"DataType\":\"String\","
                          "\"StringValue\":\"1001\"},\"order.store\":{\"DataType\":\"String\","
                          "\"StringValue\":\"eu\"}}}"},
        {"[\"nothing\"]", "{}"},
        {"[]", "{}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cs_buf out;
        cs_buf_init(&out, 0);
        cs_json_writer w;
        cs_json_writer_init(&w, &out);
        cs_json_write_object_begin(&w);
        char md5[33];
        em_sqs_attributes_write_selected(
            &w, attributes, test_parse(&test_arena, cases[i].names, strlen(cases[i].names)), md5);
        cs_json_write_object_end(&w);
        assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
        char all[4200];
        snprintf(all, sizeof(all), "{\"MessageAttributes\":%s}", canonical);
        test_expect_text(cases[i].names, out.data, cases[i].written ? cases[i].written : all);
        assert_int_equal(strlen(md5), strcmp(out.data, "{}") == 0 ? 0 : 32);
        cs_json_writer_clean_up(&w);
        cs_buf_clean_up(&out);
    }
    assert_false(em_sqs_attribute_selected(NULL, cs_str_from_c("tenant")));
}

static void lambda_shows_them_in_its_own_shape(void **st)
{
    (void)st;
    const char *canonical = "{\"blob\":{\"DataType\":\"Binary\",\"BinaryValue\":\"MTEwMA==\"},"
                            "\"tenant\":{\"DataType\":\"String\",\"StringValue\":\"acme\"}}";
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    em_sqs_attributes_write_lambda(&w, test_parse(&test_arena, canonical, strlen(canonical)));
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    test_expect_text("lambda", out.data,
                     "{\"blob\":{\"binaryValue\":\"MTEwMA==\",\"stringListValues\":[],"
                     "\"binaryListValues\":[],\"dataType\":\"Binary\"},\"tenant\":{"
                     "\"stringValue\":\"acme\",\"stringListValues\":[],\"binaryListValues\":[],"
                     "\"dataType\":\"String\"}}");
    cs_buf_reset(&out);
    cs_json_writer_clean_up(&w);
    cs_json_writer_init(&w, &out);
    em_sqs_attributes_write_lambda(&w, NULL);
    assert_int_equal(cs_json_writer_finish(&w, NULL), CS_ERR_OK);
    test_expect_text("none", out.data, "{}");
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_digest_is_the_one_sqs_computes),
        cmocka_unit_test(bad_attributes_are_named),
        cmocka_unit_test(receive_selects_by_name_and_prefix),
        cmocka_unit_test(lambda_shows_them_in_its_own_shape),
    };
    return cmocka_run_group_tests_name("sqs_message", tests, test_arena_setup, test_arena_teardown);
}
