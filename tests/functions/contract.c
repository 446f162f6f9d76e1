/* A function for the runtime contract tests. The event's "action" picks the
 * behaviour: echo, fail, fail-cut (a message that is not valid UTF-8), big (a
 * response of "bytes" bytes), context (the invocation's headers as JSON) or
 * log (a line carrying the registered secret), sleep ("ms" milliseconds, then
 * echo), crash (abort, as a segfaulting function would die) or env (the
 * variables named in "names", as an object). An SQS event ({"Records":...})
 * is a batch: each record's body (and its messageAttributes, when it has
 * any) is logged, a body {"action":"fail-item"}
 * is reported in batchItemFailures, {"action":"slow"} takes 20 ms,
 * {"action":"fail-batch"} fails the
 * invocation and {"action":"bad-response"} answers an invalid partial
 * batch response. An HttpApi event ({"version":"2.0",...}) is answered with
 * status 201, a header, a cookie and the event itself as the body. CONTRACT_INIT_FAIL makes init
 * fail; CONTRACT_SECRET is registered with the logger at init. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "runtime.h"

static cs_error init(void *user, cs_arena *process_arena, cs_logger *log, cs_diag *diag)
{
    (void)user;
    (void)process_arena;
    if (getenv("CONTRACT_INIT_FAIL")) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "config: setting 'queueUrl' is missing");
    }
    const char *secret = getenv("CONTRACT_SECRET");
    if (secret) {
        cs_log_add_secret(log, cs_str_from_c(secret));
    }
    return CS_ERR_OK;
}

static cs_error respond_context(const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    cs_json_writer w;
    cs_error result = cs_json_writer_init(&w, response);
    if (result) {
        return result;
    }
    const char *env_trace = getenv("_X_AMZN_TRACE_ID");
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "requestId");
    cs_json_write_string(&w, inv->request_id);
    cs_json_write_key_c(&w, "deadlineMs");
    cs_json_write_int64(&w, inv->deadline_ms);
    cs_json_write_key_c(&w, "remainingPositive");
    cs_json_write_bool(&w, cs_invocation_remaining_ms(inv) > 0);
    cs_json_write_key_c(&w, "functionArn");
    cs_json_write_string(&w, inv->function_arn);
    cs_json_write_key_c(&w, "traceId");
    cs_json_write_string(&w, inv->trace_id);
    cs_json_write_key_c(&w, "envTraceId");
    cs_json_write_string_c(&w, env_trace ? env_trace : "");
    cs_json_write_key_c(&w, "clientContext");
    cs_json_write_string(&w, inv->client_context);
    cs_json_write_key_c(&w, "cognitoIdentity");
    cs_json_write_string(&w, inv->cognito_identity);
    cs_json_write_object_end(&w);
    result = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return result;
}

/* "bytes" of 'x', appended one at a time or, with "oneAppend", at once. */
static cs_error respond_big(const cs_json *event, cs_arena *arena, cs_buf *response, cs_diag *diag)
{
    int64_t bytes;
    bool one_append = false;
    cs_error result = cs_json_get_int64(event, "bytes", &bytes, diag);
    if (!result) {
        result = cs_json_opt_bool(event, "oneAppend", &one_append, diag);
    }
    if (result || bytes < 0) {
        return result ? result : cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "bytes < 0");
    }
    if (one_append) {
        char *block = cs_arena_alloc(arena, (size_t)bytes);
        if (!block) {
            return cs_arena_full(arena, diag);
        }
        memset(block, 'x', (size_t)bytes);
        return cs_buf_append(response, block, (size_t)bytes);
    }
    for (int64_t i = 0; i < bytes && !result; i++) {
        result = cs_buf_append_byte(response, 'x');
    }
    return result;
}

static cs_error sleep_then_echo(const cs_invocation *inv, const cs_json *event, cs_buf *response,
                                cs_diag *diag)
{
    int64_t ms = 0;
    cs_error result = cs_json_get_int64(event, "ms", &ms, diag);
    if (result) {
        return result;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    return cs_buf_append_str(response, inv->event);
}

static cs_error respond_env(const cs_json *event, cs_buf *response, cs_diag *diag)
{
    const cs_json *names = cs_json_object_get(event, cs_str_from_c("names"));
    if (!names || names->type != CS_JSON_ARRAY) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "names: an array is required");
    }
    cs_json_writer w;
    cs_error result = cs_json_writer_init(&w, response);
    if (result) {
        return result;
    }
    cs_json_write_object_begin(&w);
    for (const cs_json *n = names->first; n; n = n->next) {
        char name[128];
        snprintf(name, sizeof(name), "%.*s", CS_STR_FMT(n->text));
        const char *value = getenv(name);
        cs_json_write_key(&w, n->text);
        if (value) {
            cs_json_write_string_c(&w, value);
        } else {
            cs_json_write_null(&w);
        }
    }
    cs_json_write_object_end(&w);
    result = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return result;
}

/* The action named in an SQS record's body, or "". */
static cs_str record_action(const cs_invocation *inv, const cs_json *record)
{
    const cs_json *body = cs_json_object_get(record, cs_str_from_c("body"));
    cs_json *parsed;
    cs_str action = CS_STR_NULL;
    if (body && body->type == CS_JSON_STRING &&
        !cs_json_parse(inv->arena, body->text, &parsed, NULL)) {
        cs_json_opt_string(parsed, "action", &action, NULL);
    }
    CS_LOG(inv->log, CS_LOG_INFO, "sqs record", CS_LOG_STR("body", body ? body->text : action));
    const cs_json *attributes = cs_json_object_get(record, cs_str_from_c("messageAttributes"));
    cs_buf text;
    cs_buf_init(&text, 64 * 1024);
    if (attributes && attributes->count > 0 && !cs_json_serialize(attributes, &text, NULL)) {
        CS_LOG(inv->log, CS_LOG_INFO, "sqs record attributes",
               CS_LOG_STR("messageAttributes", cs_buf_view(&text)));
    }
    cs_buf_clean_up(&text);
    if (cs_str_eq_c(action, "slow")) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return action;
}

static cs_error handle_batch(const cs_invocation *inv, const cs_json *records, cs_buf *response,
                             cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, response);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "batchItemFailures");
    cs_json_write_array_begin(&w);
    for (const cs_json *r = records->first; r; r = r->next) {
        cs_str action = record_action(inv, r);
        const cs_json *id = cs_json_object_get(r, cs_str_from_c("messageId"));
        if (cs_str_eq_c(action, "fail-batch")) {
            cs_json_writer_clean_up(&w);
            return cs_diag_set(diag, CS_ERR_HANDLER, "asked to fail the batch");
        }
        if (cs_str_eq_c(action, "fail-item") || cs_str_eq_c(action, "bad-response")) {
            cs_json_write_object_begin(&w);
            cs_json_write_key_c(&w, "itemIdentifier");
            cs_json_write_string(&w, cs_str_eq_c(action, "fail-item") && id ? id->text
                                                                            : cs_str_from_c(""));
            cs_json_write_object_end(&w);
        }
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_error result = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return result;
}

static cs_error respond_http(const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, response);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "statusCode");
    cs_json_write_int64(&w, 201);
    cs_json_write_key_c(&w, "headers");
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "x-handled-by");
    cs_json_write_string_c(&w, "contract");
    cs_json_write_object_end(&w);
    cs_json_write_key_c(&w, "cookies");
    cs_json_write_array_begin(&w);
    cs_json_write_string_c(&w, "session=abc; Path=/");
    cs_json_write_array_end(&w);
    cs_json_write_key_c(&w, "body");
    cs_json_write_string(&w, inv->event);
    cs_json_write_object_end(&w);
    cs_error result = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return result;
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    (void)user;
    cs_json *event;
    cs_error result = cs_json_parse(inv->arena, inv->event, &event, diag);
    cs_str action = CS_STR_NULL;
    const cs_json *records = result ? NULL : cs_json_object_get(event, cs_str_from_c("Records"));
    if (records && records->type == CS_JSON_ARRAY) {
        return handle_batch(inv, records, response, diag);
    }
    if (!result && cs_json_object_get(event, cs_str_from_c("requestContext"))) {
        return respond_http(inv, response, diag);
    }
    if (!result) {
        result = cs_json_get_string(event, "action", &action, diag);
    }
    if (result) {
        return result;
    }
    if (cs_str_eq_c(action, "echo")) {
        return cs_buf_append_str(response, inv->event);
    }
    if (cs_str_eq_c(action, "fail")) {
        return cs_diag_set(diag, CS_ERR_HANDLER, "asked to fail");
    }
    if (cs_str_eq_c(action, "fail-cut")) {
        /* A message quoting input, cut in the middle of a character. */
        return cs_diag_set(diag, CS_ERR_HANDLER, "bad name 'caf\xc3'");
    }
    if (cs_str_eq_c(action, "big")) {
        return respond_big(event, inv->arena, response, diag);
    }
    if (cs_str_eq_c(action, "context")) {
        return respond_context(inv, response, diag);
    }
    if (cs_str_eq_c(action, "log")) {
        cs_str text = CS_STR_NULL;
        cs_json_opt_string(event, "text", &text, NULL);
        CS_LOG(inv->log, CS_LOG_INFO, "logging as asked", CS_LOG_STR("text", text));
        return cs_buf_append_c(response, "{}");
    }
    if (cs_str_eq_c(action, "sleep")) {
        return sleep_then_echo(inv, event, response, diag);
    }
    if (cs_str_eq_c(action, "env")) {
        return respond_env(event, response, diag);
    }
    if (cs_str_eq_c(action, "crash")) {
        abort();
    }
    return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "unknown action '%.*s'", CS_STR_FMT(action));
}

int main(void)
{
    cs_runtime_opts opts = {.handler = handle, .init = init};
    return cs_runtime_main(&opts);
}
