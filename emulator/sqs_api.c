#include "sqs_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "httpd.h"
#include "sqs_message.h"

enum { MAX_BODY_BYTES = 256 * 1024, MAX_WAIT_S = 20, WAIT_STEP_MS = 20 };

/* One request: its parsed body, the response being written, and the error
 * to answer with instead when an operation fails. */
typedef struct call {
    const em_sqs_api *api;
    cs_arena arena;
    const cs_json *req;
    cs_buf out;
    cs_json_writer w;
    const char *error_type;  /* "QueueDoesNotExist" ... */
    const char *query_error; /* "AWS.SimpleQueueService.NonExistentQueue" ... */
    char message[512];
} call;

static cs_error fail(call *c, const char *type, const char *query_error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cs_error fail(call *c, const char *type, const char *query_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    c->error_type = type;
    c->query_error = query_error;
    return CS_ERR_INVALID_ARGUMENT;
}

static cs_error invalid(call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static cs_error invalid(call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    c->error_type = "InvalidParameterValue";
    c->query_error = "InvalidParameterValue";
    return CS_ERR_INVALID_ARGUMENT;
}

/* ---- request fields ---- */

static cs_error string_field(call *c, const cs_json *from, const char *name, bool required,
                             cs_str *out)
{
    const cs_json *v = cs_json_object_get(from, cs_str_from_c(name));
    *out = CS_STR_NULL;
    if (!v || v->type == CS_JSON_NULL) {
        return required ? fail(c, "MissingParameter", "MissingParameter",
                               "The request must contain the parameter %s.", name)
                        : CS_ERR_OK;
    }
    if (v->type != CS_JSON_STRING) {
        return invalid(c, "%s must be a string.", name);
    }
    *out = v->text;
    return CS_ERR_OK;
}

static cs_error int_field(call *c, const cs_json *from, const char *name, int64_t min, int64_t max,
                          int64_t *out)
{
    const cs_json *v = cs_json_object_get(from, cs_str_from_c(name));
    if (!v || v->type == CS_JSON_NULL) {
        return CS_ERR_OK;
    }
    int64_t n;
    if (v->type != CS_JSON_NUMBER || cs_parse_int64(v->text, &n) || n < min || n > max) {
        return invalid(c,
                       "Value for parameter %s is invalid. Reason: must be an integer from "
                       "%lld to %lld.",
                       name, (long long)min, (long long)max);
    }
    *out = n;
    return CS_ERR_OK;
}

/* The queue named by QueueUrl (http://host:port/account/name) or a name. */
static cs_error queue_field(call *c, const cs_json *from, const em_queue **out)
{
    cs_str url;
    cs_error r = string_field(c, from, "QueueUrl", true, &url);
    if (r) {
        return r;
    }
    *out = em_queues_find(c->api->queues, cs_str_after_last(url, '/'));
    return *out ? CS_ERR_OK
                : fail(c, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
                       "The specified queue does not exist.");
}

static void write_queue_url(call *c, const em_queue *q)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/000000000000/%.*s", (unsigned)c->api->port,
             CS_STR_FMT(q->name));
    cs_json_write_string_c(&c->w, url);
}

static void write_field(call *c, const char *key, const char *value)
{
    cs_json_write_key_c(&c->w, key);
    cs_json_write_string_c(&c->w, value);
}

static void write_number_field(call *c, const char *key, int64_t n)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)n);
    write_field(c, key, text);
}

/* ---- operations ---- */

static cs_error get_queue_url(call *c)
{
    cs_str name;
    cs_error r = string_field(c, c->req, "QueueName", true, &name);
    if (r) {
        return r;
    }
    const em_queue *q = em_queues_find(c->api->queues, name);
    if (!q) {
        return fail(c, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
                    "The specified queue does not exist.");
    }
    cs_json_write_key_c(&c->w, "QueueUrl");
    write_queue_url(c, q);
    return CS_ERR_OK;
}

static cs_error list_queues(call *c)
{
    cs_str prefix;
    cs_error r = string_field(c, c->req, "QueueNamePrefix", false, &prefix);
    if (r) {
        return r;
    }
    cs_json_write_key_c(&c->w, "QueueUrls");
    cs_json_write_array_begin(&c->w);
    const em_queue *q;
    for (size_t i = 0; (q = em_queues_at(c->api->queues, i)); i++) {
        if (cs_str_starts_with(q->name, prefix)) {
            write_queue_url(c, q);
        }
    }
    cs_json_write_array_end(&c->w);
    return CS_ERR_OK;
}

/* MessageAttributes into the canonical form the queue keeps, in the call's
 * arena. SQS counts them towards the message size. */
static cs_error parse_attributes(call *c, const cs_json *entry, em_outgoing *m, size_t *bytes)
{
    *bytes = 0;
    if (cs_json_object_get(entry, cs_str_from_c("MessageSystemAttributes"))) {
        return invalid(c, "MessageSystemAttributes (AWSTraceHeader) is not emulated; send the "
                          "message without it.");
    }
    const cs_json *attributes = cs_json_object_get(entry, cs_str_from_c("MessageAttributes"));
    if (!attributes || attributes->type == CS_JSON_NULL ||
        (attributes->type == CS_JSON_OBJECT && attributes->count == 0)) {
        return CS_ERR_OK;
    }
    cs_buf canonical;
    cs_buf_init(&canonical, 2 * MAX_BODY_BYTES);
    cs_diag diag;
    cs_error r = em_sqs_attributes_check(attributes, &canonical, bytes, m->attributes_md5, &diag);
    if (r) {
        invalid(c, "%s", diag.message);
    } else {
        m->attributes =
            cs_str_make(cs_arena_strndup(&c->arena, cs_buf_view(&canonical)), canonical.len);
        r = m->attributes.ptr ? CS_ERR_OK
                              : fail(c, "InternalError", "InternalError", "request too large");
    }
    cs_buf_clean_up(&canonical);
    return r;
}

/* An entry's fields (SendMessage's request or a batch entry) into m. */
static cs_error parse_entry(call *c, const em_queue *q, const cs_json *entry, em_outgoing *m)
{
    *m = (em_outgoing){.delay_s = -1};
    cs_error r = string_field(c, entry, "MessageBody", true, &m->body);
    if (!r) {
        r = string_field(c, entry, "MessageGroupId", false, &m->group_id);
    }
    if (!r) {
        r = string_field(c, entry, "MessageDeduplicationId", false, &m->dedup_id);
    }
    if (!r) {
        r = int_field(c, entry, "DelaySeconds", 0, 900, &m->delay_s);
    }
    size_t attribute_bytes = 0;
    if (!r) {
        r = parse_attributes(c, entry, m, &attribute_bytes);
    }
    if (r) {
        return r;
    }
    if (m->body.len == 0 || m->body.len > MAX_BODY_BYTES) {
        return invalid(c, "The message body must be 1 to %d bytes; it is %zu.", MAX_BODY_BYTES,
                       m->body.len);
    }
    if (m->body.len + attribute_bytes > MAX_BODY_BYTES) {
        return invalid(c,
                       "The message body and its attributes must be at most %d bytes together; "
                       "they are %zu and %zu.",
                       MAX_BODY_BYTES, m->body.len, attribute_bytes);
    }
    unsigned code;
    long at = em_sqs_refused_character(m->body, &code);
    if (at >= 0) {
        return fail(c, "InvalidMessageContents", "InvalidMessageContents",
                    "Invalid binary character '#x%X' was found in the message body (byte %ld), the "
                    "set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
                    "#xFFFD | #x10000 to #x10FFFF",
                    code, at);
    }
    if (q->fifo && m->delay_s > 0) {
        return invalid(c,
                       "Value %lld for parameter DelaySeconds is invalid. Reason: The request "
                       "include parameter that is not valid for this queue type.",
                       (long long)m->delay_s);
    }
    return CS_ERR_OK;
}

/* Sends the parsed entries in one transaction and wakes the queue's
 * pollers. */
static cs_error send_all(call *c, const em_queue *q, em_outgoing *messages, int count)
{
    cs_diag diag;
    if (count &&
        em_queue_send_batch(c->api->queues, q->name, messages, count, cs_time_now_ms(), &diag)) {
        return fail(c, "InternalError", "InternalError", "%s", diag.message);
    }
    if (count && c->api->arrived) {
        c->api->arrived(c->api->user, q->name);
    }
    return CS_ERR_OK;
}

static cs_error send_message(call *c)
{
    const em_queue *q;
    em_outgoing m;
    cs_error r = queue_field(c, c->req, &q);
    if (!r) {
        r = parse_entry(c, q, c->req, &m);
    }
    if (!r) {
        r = send_all(c, q, &m, 1);
    }
    if (!r && m.result) {
        r = invalid(c, "%s", m.error);
    }
    if (!r) {
        write_field(c, "MessageId", m.message_id);
        write_field(c, "MD5OfMessageBody", m.md5);
        if (m.attributes_md5[0]) {
            write_field(c, "MD5OfMessageAttributes", m.attributes_md5);
        }
    }
    return r;
}

static cs_error entries(call *c, const cs_json **out)
{
    *out = cs_json_object_get(c->req, cs_str_from_c("Entries"));
    if (!*out || (*out)->type != CS_JSON_ARRAY || (*out)->count == 0) {
        return fail(c, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
                    "There should be at least one entry in the request.");
    }
    if ((*out)->count > 10) {
        return fail(c, "TooManyEntriesInBatchRequest",
                    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                    "Maximum number of entries per request are 10. You have sent %zu.",
                    (*out)->count);
    }
    return CS_ERR_OK;
}

/* What happened to one entry of a batch request. */
typedef struct outcome {
    cs_str id;
    bool ok;
    char message_id[37];
    char md5[33];            /* "" for deletes */
    char attributes_md5[33]; /* "" without attributes */
    const char *code;
    char message[512];
} outcome;

static void failed(call *c, outcome *o)
{
    o->ok = false;
    o->code = c->error_type;
    snprintf(o->message, sizeof(o->message), "%s", c->message);
}

static void write_outcome(call *c, const outcome *o)
{
    cs_json_write_object_begin(&c->w);
    cs_json_write_key_c(&c->w, "Id");
    cs_json_write_string(&c->w, o->id);
    if (!o->ok) {
        write_field(c, "Code", o->code);
        write_field(c, "Message", o->message);
        cs_json_write_key_c(&c->w, "SenderFault");
        cs_json_write_bool(&c->w, true);
    } else if (o->md5[0]) {
        write_field(c, "MessageId", o->message_id);
        write_field(c, "MD5OfMessageBody", o->md5);
        if (o->attributes_md5[0]) {
            write_field(c, "MD5OfMessageAttributes", o->attributes_md5);
        }
    }
    cs_json_write_object_end(&c->w);
}

static void write_outcomes(call *c, const outcome *outcomes, size_t count)
{
    for (int pass = 0; pass < 2; pass++) {
        cs_json_write_key_c(&c->w, pass == 0 ? "Successful" : "Failed");
        cs_json_write_array_begin(&c->w);
        for (size_t i = 0; i < count; i++) {
            if (outcomes[i].ok == (pass == 0)) {
                write_outcome(c, &outcomes[i]);
            }
        }
        cs_json_write_array_end(&c->w);
    }
}

/* The queue, the entries and each entry's Id; an error when the request as a
 * whole is refused. */
static cs_error batch_request(call *c, const em_queue **q, const cs_json **list, outcome *outcomes)
{
    cs_error r = queue_field(c, c->req, q);
    if (!r) {
        r = entries(c, list);
    }
    size_t i = 0;
    for (const cs_json *e = r ? NULL : (*list)->first; e; e = e->next, i++) {
        outcomes[i] = (outcome){.ok = true};
        string_field(c, e, "Id", false, &outcomes[i].id);
    }
    return r;
}

static cs_error send_message_batch(call *c)
{
    const em_queue *q;
    const cs_json *list;
    outcome outcomes[10];
    em_outgoing messages[10];
    int from[10], count = 0;
    cs_error r = batch_request(c, &q, &list, outcomes);
    size_t i = 0;
    for (const cs_json *e = r ? NULL : list->first; e; e = e->next, i++) {
        if (parse_entry(c, q, e, &messages[count])) {
            failed(c, &outcomes[i]);
        } else {
            from[count++] = (int)i;
        }
    }
    if (!r) {
        r = send_all(c, q, messages, count);
    }
    for (int k = 0; !r && k < count; k++) {
        outcome *o = &outcomes[from[k]];
        if (messages[k].result) {
            invalid(c, "%s", messages[k].error);
            failed(c, o);
        } else {
            memcpy(o->message_id, messages[k].message_id, sizeof(o->message_id));
            memcpy(o->attributes_md5, messages[k].attributes_md5, sizeof(o->attributes_md5));
            memcpy(o->md5, messages[k].md5, sizeof(o->md5));
        }
    }
    if (!r) {
        write_outcomes(c, outcomes, list->count);
    }
    return r;
}

/* The message's attributes that MessageAttributeNames asks for. The stored
 * text is canonical JSON the emulator wrote itself, so it parses. */
static void write_message_attributes(call *c, const em_message *m, const cs_json *names)
{
    cs_json *canonical = NULL;
    if (m->attributes.len == 0 || cs_json_parse(&c->arena, m->attributes, &canonical, NULL)) {
        return;
    }
    char md5[33];
    em_sqs_attributes_write_selected(&c->w, canonical, names, md5);
    if (md5[0]) {
        write_field(c, "MD5OfMessageAttributes", md5);
    }
}

static void write_message(call *c, const em_message *m, const cs_json *attribute_names)
{
    cs_json_write_object_begin(&c->w);
    write_field(c, "MessageId", m->message_id);
    write_field(c, "ReceiptHandle", m->receipt);
    write_field(c, "MD5OfBody", m->md5);
    cs_json_write_key_c(&c->w, "Body");
    cs_json_write_string(&c->w, m->body);
    cs_json_write_key_c(&c->w, "Attributes");
    cs_json_write_object_begin(&c->w);
    write_number_field(c, "ApproximateReceiveCount", m->receive_count);
    write_number_field(c, "SentTimestamp", m->sent_ms);
    write_number_field(c, "ApproximateFirstReceiveTimestamp", m->first_receive_ms);
    if (m->group_id.len) {
        cs_json_write_key_c(&c->w, "MessageGroupId");
        cs_json_write_string(&c->w, m->group_id);
    }
    cs_json_write_object_end(&c->w);
    write_message_attributes(c, m, attribute_names);
    cs_json_write_object_end(&c->w);
}

static cs_error receive_message(call *c)
{
    const em_queue *q;
    int64_t max = 1, visibility = -1, wait = 0;
    cs_error r = queue_field(c, c->req, &q);
    if (!r) {
        r = int_field(c, c->req, "MaxNumberOfMessages", 1, 10, &max);
    }
    if (!r) {
        r = int_field(c, c->req, "VisibilityTimeout", 0, 43200, &visibility);
    }
    if (!r) {
        r = int_field(c, c->req, "WaitTimeSeconds", 0, MAX_WAIT_S, &wait);
    }
    if (r) {
        return r;
    }
    em_message messages[10];
    int count = 0;
    cs_diag diag;
    /* Long polling: look again until a message comes or the wait ends. */
    for (int64_t waited = 0;; waited += WAIT_STEP_MS) {
        if (em_queue_receive(c->api->queues, q->name, (int)max, visibility, cs_time_now_ms(),
                             &c->arena, messages, &count, &diag)) {
            return fail(c, "InternalError", "InternalError", "%s", diag.message);
        }
        if (count > 0 || waited >= wait * 1000) {
            break;
        }
        struct timespec step = {0, WAIT_STEP_MS * 1000000};
        nanosleep(&step, NULL);
    }
    cs_json_write_key_c(&c->w, "Messages");
    cs_json_write_array_begin(&c->w);
    const cs_json *names = cs_json_object_get(c->req, cs_str_from_c("MessageAttributeNames"));
    for (int i = 0; i < count; i++) {
        write_message(c, &messages[i], names);
    }
    cs_json_write_array_end(&c->w);
    return CS_ERR_OK;
}

/* SQS accepts a stale receipt handle and deletes nothing, so only a missing
 * one is an error. */
static cs_error delete_one(call *c, const em_queue *q, const cs_json *e)
{
    cs_str receipt;
    cs_error r = string_field(c, e, "ReceiptHandle", true, &receipt);
    if (r) {
        return r;
    }
    cs_diag diag;
    r = em_queue_delete(c->api->queues, q->name, receipt, &diag);
    return r && r != CS_ERR_NOT_FOUND
               ? fail(c, "InternalError", "InternalError", "%s", diag.message)
               : CS_ERR_OK;
}

static cs_error delete_message(call *c)
{
    const em_queue *q;
    cs_error r = queue_field(c, c->req, &q);
    return r ? r : delete_one(c, q, c->req);
}

static cs_error delete_message_batch(call *c)
{
    const em_queue *q;
    const cs_json *list;
    outcome outcomes[10];
    cs_error r = batch_request(c, &q, &list, outcomes);
    size_t i = 0;
    for (const cs_json *e = r ? NULL : list->first; e; e = e->next, i++) {
        if (delete_one(c, q, e)) {
            failed(c, &outcomes[i]);
        }
    }
    if (!r) {
        write_outcomes(c, outcomes, list->count);
    }
    return r;
}

static cs_error change_visibility(call *c)
{
    const em_queue *q;
    cs_str receipt;
    int64_t timeout = -1;
    cs_error r = queue_field(c, c->req, &q);
    if (!r) {
        r = string_field(c, c->req, "ReceiptHandle", true, &receipt);
    }
    if (!r) {
        r = int_field(c, c->req, "VisibilityTimeout", 0, 43200, &timeout);
    }
    if (!r && timeout < 0) {
        r = fail(c, "MissingParameter", "MissingParameter",
                 "The request must contain the parameter VisibilityTimeout.");
    }
    cs_diag diag;
    if (!r && em_queue_change_visibility(c->api->queues, q->name, receipt, timeout,
                                         cs_time_now_ms(), &diag)) {
        r = fail(c, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "%s", diag.message);
    }
    return r;
}

static cs_error get_queue_attributes(call *c)
{
    const em_queue *q;
    cs_error r = queue_field(c, c->req, &q);
    em_queue_stats s;
    cs_diag diag;
    if (!r && em_queue_stats_of(c->api->queues, q->name, cs_time_now_ms(), &s, &diag)) {
        r = fail(c, "InternalError", "InternalError", "%s", diag.message);
    }
    if (r) {
        return r;
    }
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:sqs:%s:000000000000:%.*s", c->api->region,
             CS_STR_FMT(q->name));
    cs_json_write_key_c(&c->w, "Attributes");
    cs_json_write_object_begin(&c->w);
    write_field(c, "QueueArn", arn);
    write_number_field(c, "ApproximateNumberOfMessages", s.visible);
    write_number_field(c, "ApproximateNumberOfMessagesNotVisible", s.in_flight);
    write_number_field(c, "ApproximateNumberOfMessagesDelayed", s.delayed);
    write_number_field(c, "VisibilityTimeout", q->visibility_timeout_s);
    write_number_field(c, "MessageRetentionPeriod", q->retention_s);
    write_number_field(c, "DelaySeconds", q->delay_s);
    if (q->fifo) {
        write_field(c, "FifoQueue", "true");
        write_field(c, "ContentBasedDeduplication", q->content_dedup ? "true" : "false");
    }
    if (q->dlq.len) {
        char policy[400];
        snprintf(policy, sizeof(policy),
                 "{\"deadLetterTargetArn\":\"arn:aws:sqs:%s:000000000000:%.*s\","
                 "\"maxReceiveCount\":%lld}",
                 c->api->region, CS_STR_FMT(q->dlq), (long long)q->max_receive_count);
        write_field(c, "RedrivePolicy", policy);
    }
    cs_json_write_object_end(&c->w);
    return CS_ERR_OK;
}

static cs_error purge_queue(call *c)
{
    const em_queue *q;
    cs_diag diag;
    cs_error r = queue_field(c, c->req, &q);
    if (!r && em_queue_purge(c->api->queues, q->name, &diag)) {
        r = fail(c, "InternalError", "InternalError", "%s", diag.message);
    }
    return r;
}

/* The queue named at the end of an ARN. */
static const em_queue *queue_of_arn(call *c, cs_str arn)
{
    cs_str name = cs_str_after_last(arn, ':');
    return name.len ? em_queues_find(c->api->queues, name) : NULL;
}

/* Without a DestinationArn, the queue whose redrive policy names the DLQ. */
static const em_queue *redrive_source(call *c, const em_queue *dlq)
{
    const em_queue *q, *found = NULL;
    for (size_t i = 0; (q = em_queues_at(c->api->queues, i)); i++) {
        if (cs_str_eq(q->dlq, dlq->name)) {
            if (found) {
                return NULL;
            }
            found = q;
        }
    }
    return found;
}

static cs_error start_message_move_task(call *c)
{
    cs_str source_arn, destination_arn;
    cs_error r = string_field(c, c->req, "SourceArn", true, &source_arn);
    if (!r) {
        r = string_field(c, c->req, "DestinationArn", false, &destination_arn);
    }
    if (r) {
        return r;
    }
    const em_queue *dlq = queue_of_arn(c, source_arn);
    if (!dlq) {
        return fail(c, "ResourceNotFoundException", "ResourceNotFoundException",
                    "The resource that you specified for the SourceArn parameter doesn't exist.");
    }
    const em_queue *to =
        destination_arn.len ? queue_of_arn(c, destination_arn) : redrive_source(c, dlq);
    if (!to) {
        return invalid(c,
                       "DestinationArn is required: no single queue sends its dead letters to "
                       "%.*s.",
                       CS_STR_FMT(dlq->name));
    }
    int64_t moved;
    cs_diag diag;
    if (em_queue_redrive(c->api->queues, dlq->name, to->name, cs_time_now_ms(), &moved, &diag)) {
        return invalid(c, "%s", diag.message);
    }
    if (moved > 0 && c->api->arrived) {
        c->api->arrived(c->api->user, to->name);
    }
    write_field(c, "TaskHandle", "emulator-redrive-done");
    return CS_ERR_OK;
}

/* ---- dispatch ---- */

typedef struct operation {
    const char *name;
    cs_error (*run)(call *c);
} operation;

static const operation operations[] = {
    {"GetQueueUrl", get_queue_url},
    {"ListQueues", list_queues},
    {"SendMessage", send_message},
    {"SendMessageBatch", send_message_batch},
    {"ReceiveMessage", receive_message},
    {"DeleteMessage", delete_message},
    {"DeleteMessageBatch", delete_message_batch},
    {"ChangeMessageVisibility", change_visibility},
    {"GetQueueAttributes", get_queue_attributes},
    {"PurgeQueue", purge_queue},
    {"StartMessageMoveTask", start_message_move_task},
};

static enum MHD_Result reply_error(struct MHD_Connection *conn, const call *c)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    char type[128];
    snprintf(type, sizeof(type), "com.amazonaws.sqs#%s", c->error_type);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "__type");
    cs_json_write_string_c(&w, type);
    cs_json_write_key_c(&w, "message");
    cs_json_write_string_c(&w, c->message);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    char query[160];
    snprintf(query, sizeof(query), "%s;Sender", c->query_error);
    enum MHD_Result ok =
        em_reply(conn, MHD_HTTP_BAD_REQUEST, "application/x-amz-json-1.0",
                 body.data ? body.data : "", body.len, "x-amzn-query-error", query, NULL);
    cs_buf_clean_up(&body);
    return ok;
}

static const operation *find_operation(const char *target)
{
    static const char prefix[] = "AmazonSQS.";
    if (!target || strncmp(target, prefix, strlen(prefix)) != 0) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++) {
        if (strcmp(target + strlen(prefix), operations[i].name) == 0) {
            return &operations[i];
        }
    }
    return NULL;
}

static cs_error run(call *c, const operation *op, cs_str body)
{
    cs_json *req = NULL;
    cs_diag diag;
    if (!op) {
        return fail(c, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
                    "This operation is not emulated.");
    }
    if (cs_json_parse(&c->arena, body.len ? body : cs_str_from_c("{}"), &req, &diag)) {
        return invalid(c, "The request body is not JSON: %s", diag.message);
    }
    if (req->type != CS_JSON_OBJECT) {
        return invalid(c, "The request body is not a JSON object.");
    }
    c->req = req;
    cs_json_write_object_begin(&c->w);
    cs_error r = op->run(c);
    cs_json_write_object_end(&c->w);
    return r;
}

enum MHD_Result em_sqs_api_handle(const em_sqs_api *api, struct MHD_Connection *conn,
                                  const char *target, cs_str body)
{
    call c = {.api = api};
    cs_arena_init(&c.arena, 0, 64 * 1024 * 1024);
    cs_buf_init(&c.out, 0);
    cs_json_writer_init(&c.w, &c.out);
    cs_error r = run(&c, find_operation(target), body);
    cs_diag diag;
    if (!r && cs_json_writer_finish(&c.w, &diag)) {
        r = fail(&c, "InternalError", "InternalError", "%s", diag.message);
    }
    enum MHD_Result ok =
        r ? reply_error(conn, &c)
          : em_reply(conn, MHD_HTTP_OK, "application/x-amz-json-1.0",
                     c.out.data ? c.out.data : "{}", c.out.data ? c.out.len : 2, NULL);
    cs_json_writer_clean_up(&c.w);
    cs_buf_clean_up(&c.out);
    cs_arena_clean_up(&c.arena);
    return ok;
}
