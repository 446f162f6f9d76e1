/* The AWS clients against moto_server with SigV4 checking on (a wrong
 * signature is refused, as AWS does), and the exact request shape against
 * the scripted fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_http.h"
#include "connectors/shopify/client.h"
#include "moto.h"
#include "net/aws.h"
#include "testing.h"

static moto peer;
static cs_http_client *http;
static cs_aws aws;
static cs_buf out;

static int group_setup(void **state)
{
    (void)state;
    if (moto_start(&peer, true) != 0) {
        fprintf(stderr, "moto_server did not start\n");
        return -1;
    }
    cs_http_options options = {.backoff_base_ms = 5, .max_attempts = 3};
    http = cs_http_client_new(&options, NULL);
    cs_diag diag;
    if (cs_aws_init(&aws, http, peer.endpoint, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return -1;
    }
    cs_buf_init(&out, 0);
    return test_arena_setup(state);
}

static int group_teardown(void **state)
{
    cs_buf_clean_up(&out);
    cs_http_client_destroy(http);
    moto_stop(&peer);
    return test_arena_teardown(state);
}

static cs_error dynamo(const char *op, const char *body, cs_diag *diag)
{
    cs_error result = cs_dynamodb(&aws, op, cs_str_from_c(body), &out, diag);
    if (result && getenv("CS_TEST_VERBOSE")) {
        fprintf(stderr, "%s: %s\n", op, diag->message);
    }
    return result;
}

static void dynamodb_items_conditions_queries_and_ttl(void **state)
{
    (void)state;
    cs_diag diag;
    assert_int_equal(
        dynamo("CreateTable",
               "{\"TableName\":\"state\",\"BillingMode\":\"PAY_PER_REQUEST\","
               "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},"
               "{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],"
               "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
               "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}]}",
               &diag),
        CS_ERR_OK);
    const char *put = "{\"TableName\":\"state\",\"Item\":{\"pk\":{\"S\":\"order#1\"},"
                      "\"sk\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}},"
                      "\"ConditionExpression\":\"attribute_not_exists(pk)\"}";
    assert_int_equal(dynamo("PutItem", put, &diag), CS_ERR_OK);
    assert_int_equal(dynamo("PutItem", put, &diag), CS_ERR_CONDITION_FAILED);
    assert_string_equal(diag.field, "ConditionalCheckFailedException");
    assert_int_equal(dynamo("UpdateItem",
                            "{\"TableName\":\"state\",\"Key\":{\"pk\":{\"S\":\"order#1\"},"
                            "\"sk\":{\"S\":\"a\"}},\"UpdateExpression\":\"ADD n :one\","
                            "\"ConditionExpression\":\"n = :was\",\"ExpressionAttributeValues\":"
                            "{\":one\":{\"N\":\"1\"},\":was\":{\"N\":\"1\"}}}",
                            &diag),
                     CS_ERR_OK);
    assert_int_equal(dynamo("GetItem",
                            "{\"TableName\":\"state\",\"Key\":{\"pk\":{\"S\":\"order#1\"},"
                            "\"sk\":{\"S\":\"a\"}},\"ConsistentRead\":true}",
                            &diag),
                     CS_ERR_OK);
    cs_json *item = test_parse(&test_arena, out.data, out.len);
    cs_str n;
    assert_int_equal(cs_json_get_string(item, "Item.n.N", &n, NULL), CS_ERR_OK);
    assert_true(cs_str_eq_c(n, "2"));
    assert_int_equal(
        dynamo("BatchWriteItem",
               "{\"RequestItems\":{\"state\":["
               "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"order#1\"},\"sk\":{\"S\":\"b\"}}}},"
               "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"order#1\"},\"sk\":{\"S\":\"c\"}}}},"
               "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"order#2\"},\"sk\":{\"S\":\"a\"}}}}]}}",
               &diag),
        CS_ERR_OK);
    assert_int_equal(dynamo("Query",
                            "{\"TableName\":\"state\",\"KeyConditionExpression\":\"pk = :pk\","
                            "\"ExpressionAttributeValues\":{\":pk\":{\"S\":\"order#1\"}}}",
                            &diag),
                     CS_ERR_OK);
    int64_t count;
    assert_int_equal(
        cs_json_get_int64(test_parse(&test_arena, out.data, out.len), "Count", &count, NULL),
        CS_ERR_OK);
    assert_true(count == 3);
    assert_int_equal(dynamo("UpdateTimeToLive",
                            "{\"TableName\":\"state\",\"TimeToLiveSpecification\":"
                            "{\"Enabled\":true,\"AttributeName\":\"expiresAt\"}}",
                            &diag),
                     CS_ERR_OK);
    assert_int_equal(dynamo("DescribeTimeToLive", "{\"TableName\":\"state\"}", &diag), CS_ERR_OK);
    assert_non_null(strstr(out.data, "expiresAt"));
    assert_int_equal(dynamo("GetItem",
                            "{\"TableName\":\"nope\",\"Key\":{\"pk\":{\"S\":\"x\"},"
                            "\"sk\":{\"S\":\"x\"}}}",
                            &diag),
                     CS_ERR_NOT_FOUND);
}

static void a_wrong_signature_is_refused(void **state)
{
    (void)state;
    cs_aws forged = aws;
    snprintf(forged.userpwd, sizeof(forged.userpwd), "%s:not-the-secret",
             getenv("AWS_ACCESS_KEY_ID"));
    cs_diag diag;
    assert_int_equal(cs_dynamodb(&forged, "ListTables", CS_STR_LIT("{}"), &out, &diag), CS_ERR_AWS);
    assert_non_null(strstr(diag.message, "SignatureDoesNotMatch"));
}

static void sqs_messages_arrive(void **state)
{
    (void)state;
    cs_diag diag;
    assert_int_equal(
        cs_sqs(&aws, "CreateQueue", CS_STR_LIT("{\"QueueName\":\"orders\"}"), &out, &diag),
        CS_ERR_OK);
    cs_str queue_url;
    assert_int_equal(cs_json_get_string(test_parse(&test_arena, out.data, out.len), "QueueUrl",
                                        &queue_url, NULL),
                     CS_ERR_OK);
    char *url = cs_arena_strndup(&test_arena, queue_url);
    char *body = cs_arena_sprintf(
        &test_arena, "{\"QueueUrl\":\"%s\",\"MessageBody\":\"{\\\"order\\\":1}\"}", url);
    assert_int_equal(cs_sqs(&aws, "SendMessage", cs_str_from_c(body), &out, &diag), CS_ERR_OK);
    assert_non_null(strstr(out.data, "MessageId"));
    body =
        cs_arena_sprintf(&test_arena,
                         "{\"QueueUrl\":\"%s\",\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"2\"},"
                         "{\"Id\":\"b\",\"MessageBody\":\"3\"}]}",
                         url);
    assert_int_equal(cs_sqs(&aws, "SendMessageBatch", cs_str_from_c(body), &out, &diag), CS_ERR_OK);
    assert_null(strstr(out.data, "\"Failed\":[{"));
    body = cs_arena_sprintf(&test_arena, "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":10}", url);
    assert_int_equal(cs_sqs(&aws, "ReceiveMessage", cs_str_from_c(body), &out, &diag), CS_ERR_OK);
    cs_json *received = test_parse(&test_arena, out.data, out.len);
    assert_int_equal(cs_json_path(received, "Messages")->count, 3);
}

/* The Shopify token from a secret, as a flow reads it at init. */
static void a_secret_is_read_by_its_id(void **state)
{
    (void)state;
    cs_diag diag;
    const char *create = "{\"Name\":\"shopify/eu-store\",\"SecretString\":"
                         "\"{\\\"access_token\\\":\\\"shpat_from_secret\\\"}\"}";
    if (cs_secretsmanager(&aws, "CreateSecret", cs_str_from_c(create), &out, &diag)) {
        fail_msg("%s", diag.message);
    }
    cs_str secret, token;
    assert_int_equal(
        cs_secret_string(&aws, CS_STR_LIT("shopify/eu-store"), &test_arena, &secret, &diag),
        CS_ERR_OK);
    assert_int_equal(cs_shopify_token(secret, &test_arena, &token, &diag), CS_ERR_OK);
    assert_true(cs_str_eq_c(token, "shpat_from_secret"));
    assert_int_equal(cs_shopify_token(CS_STR_LIT(" shpat_plain\n"), &test_arena, &token, &diag),
                     CS_ERR_OK);
    assert_true(cs_str_eq_c(token, "shpat_plain"));
    assert_int_equal(cs_shopify_token(CS_STR_LIT("{\"token\":\"x\"}"), &test_arena, &token, &diag),
                     CS_ERR_JSON_MISSING);
    assert_int_equal(
        cs_secret_string(&aws, CS_STR_LIT("no/such/secret"), &test_arena, &secret, &diag),
        CS_ERR_NOT_FOUND);
}

static void s3_objects_round_trip(void **state)
{
    (void)state;
    cs_diag diag;
    assert_int_equal(cs_s3_create_bucket(&aws, "snapshots", &diag), CS_ERR_OK);
    const char bytes[] = "{\"order\":\"#1001\"}\0binary\xff";
    cs_str data = cs_str_make(bytes, sizeof(bytes) - 1);
    assert_int_equal(
        cs_s3_put(&aws, "snapshots", "errors/2026/abc 1.json", data, "application/json", &diag),
        CS_ERR_OK);
    assert_int_equal(cs_s3_get(&aws, "snapshots", "errors/2026/abc 1.json", &out, &diag),
                     CS_ERR_OK);
    assert_int_equal(out.len, data.len);
    assert_memory_equal(out.data, bytes, data.len);
    assert_int_equal(cs_s3_get(&aws, "snapshots", "errors/missing.json", &out, &diag),
                     CS_ERR_NOT_FOUND);
}

static void requests_are_signed_and_throttling_retried(void **state)
{
    (void)state;
    fake_http *fake = fake_http_start(NULL, NULL);
    fake_http_push(fake, 400, NULL,
                   "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                   "ProvisionedThroughputExceededException\",\"message\":\"slow down\"}",
                   0);
    fake_http_push(fake, 200, NULL, "{}", 0);
    setenv("AWS_SESSION_TOKEN", "session-token-xyz", 1);
    cs_aws local;
    cs_diag diag;
    assert_int_equal(cs_aws_init(&local, http, fake_http_base(fake), &diag), CS_ERR_OK);
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(
        cs_dynamodb(&local, "GetItem", CS_STR_LIT("{\"TableName\":\"t\"}"), &out, &diag),
        CS_ERR_OK);
    assert_int_equal(fake_http_count(fake), 2);
    const fake_http_request *r = fake_http_at(fake, 1);
    char value[512];
    assert_string_equal(fake_http_header(r, "x-amz-target", value, sizeof(value)),
                        "DynamoDB_20120810.GetItem");
    assert_string_equal(fake_http_header(r, "content-type", value, sizeof(value)),
                        "application/x-amz-json-1.0");
    assert_string_equal(fake_http_header(r, "x-amz-security-token", value, sizeof(value)),
                        "session-token-xyz");
    assert_non_null(fake_http_header(r, "x-amz-date", value, sizeof(value)));
    fake_http_header(r, "authorization", value, sizeof(value));
    char prefix[160];
    snprintf(prefix, sizeof(prefix), "AWS4-HMAC-SHA256 Credential=%s/",
             getenv("AWS_ACCESS_KEY_ID"));
    assert_true(strncmp(value, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(value, "/eu-west-1/dynamodb/aws4_request"));
    assert_non_null(strstr(value, "Signature="));
    assert_string_equal(r->body, "{\"TableName\":\"t\"}");
    fake_http_stop(fake);
}

/* AWS_ENDPOINT_URL_SQS sends SQS alone to its peer (as the emulator sets it
 * for the functions it runs); the other services keep AWS_ENDPOINT_URL. */
static void a_service_has_its_own_endpoint(void **state)
{
    (void)state;
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1); /* nothing listens there */
    setenv("AWS_ENDPOINT_URL_SQS", peer.endpoint, 1);
    cs_aws own;
    cs_diag diag;
    assert_int_equal(cs_aws_init(&own, http, NULL, &diag), CS_ERR_OK);
    assert_int_equal(
        cs_sqs(&own, "CreateQueue", CS_STR_LIT("{\"QueueName\":\"own\"}"), &out, &diag), CS_ERR_OK);
    assert_non_null(strstr(out.data, "/own"));
    assert_int_not_equal(cs_dynamodb(&own, "ListTables", CS_STR_LIT("{}"), &out, &diag), CS_ERR_OK);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_SQS");
}

static void missing_credentials_are_named(void **state)
{
    (void)state;
    char *saved = strdup(getenv("AWS_REGION"));
    unsetenv("AWS_REGION");
    cs_aws none;
    cs_diag diag;
    assert_int_equal(cs_aws_init(&none, http, NULL, &diag), CS_ERR_CONFIG);
    assert_string_equal(diag.message, "environment variable AWS_REGION is not set");
    setenv("AWS_REGION", saved, 1);
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dynamodb_items_conditions_queries_and_ttl),
        cmocka_unit_test(a_wrong_signature_is_refused),
        cmocka_unit_test(sqs_messages_arrive),
        cmocka_unit_test(a_secret_is_read_by_its_id),
        cmocka_unit_test(s3_objects_round_trip),
        cmocka_unit_test(requests_are_signed_and_throttling_retried),
        cmocka_unit_test(a_service_has_its_own_endpoint),
        cmocka_unit_test(missing_credentials_are_named),
    };
    return cmocka_run_group_tests_name("aws", tests, group_setup, group_teardown);
}
