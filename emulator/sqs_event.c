#include "sqs_event.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "sqs_message.h"

/* What Lambda's event shows as the sender of a message sent by an IAM user. */
static const char sender_id[] = "AIDAIENQZJOLO23YVJ4VO";

static void write_number_string(cs_json_writer *w, const char *key, int64_t n)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)n);
    cs_json_write_key_c(w, key);
    cs_json_write_string_c(w, text);
}

static void write_attributes(cs_json_writer *w, const em_message *m)
{
    cs_json_write_key_c(w, "attributes");
    cs_json_write_object_begin(w);
    write_number_string(w, "ApproximateReceiveCount", m->receive_count);
    write_number_string(w, "SentTimestamp", m->sent_ms);
    cs_json_write_key_c(w, "SenderId");
    cs_json_write_string_c(w, sender_id);
    write_number_string(w, "ApproximateFirstReceiveTimestamp", m->first_receive_ms);
    if (m->group_id.len) {
        /* SQS sequence numbers are 20-digit strings. */
        char sequence[24];
        snprintf(sequence, sizeof(sequence), "%020lld", (long long)m->sequence);
        cs_json_write_key_c(w, "SequenceNumber");
        cs_json_write_string_c(w, sequence);
        cs_json_write_key_c(w, "MessageGroupId");
        cs_json_write_string(w, m->group_id);
    }
    cs_json_write_object_end(w);
}

/* The stored attributes are canonical JSON the emulator wrote itself. */
static void write_message_attributes(cs_json_writer *w, const em_message *m, cs_arena *arena)
{
    cs_json *canonical = NULL;
    if (m->attributes.len) {
        cs_arena_reset(arena);
        cs_json_parse(arena, m->attributes, &canonical, NULL);
    }
    cs_json_write_key_c(w, "messageAttributes");
    em_sqs_attributes_write_lambda(w, canonical);
}

static void write_record(cs_json_writer *w, const em_message *m, const char *arn,
                         const char *region, cs_arena *arena)
{
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "messageId");
    cs_json_write_string_c(w, m->message_id);
    cs_json_write_key_c(w, "receiptHandle");
    cs_json_write_string_c(w, m->receipt);
    cs_json_write_key_c(w, "body");
    cs_json_write_string(w, m->body);
    write_attributes(w, m);
    write_message_attributes(w, m, arena);
    cs_json_write_key_c(w, "md5OfBody");
    cs_json_write_string_c(w, m->md5);
    if (m->attributes_md5[0]) {
        cs_json_write_key_c(w, "md5OfMessageAttributes");
        cs_json_write_string_c(w, m->attributes_md5);
    }
    cs_json_write_key_c(w, "eventSource");
    cs_json_write_string_c(w, "aws:sqs");
    cs_json_write_key_c(w, "eventSourceARN");
    cs_json_write_string_c(w, arn);
    cs_json_write_key_c(w, "awsRegion");
    cs_json_write_string_c(w, region);
    cs_json_write_object_end(w);
}

cs_error em_sqs_event_write(const em_message *messages, int count, const char *queue_arn,
                            const char *region, cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    /* Attributes are parsed one message at a time; a message's attributes
     * are at most 256 KiB. */
    cs_arena arena;
    cs_arena_init(&arena, 4096, 4 * 1024 * 1024);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "Records");
    cs_json_write_array_begin(&w);
    for (int i = 0; i < count; i++) {
        write_record(&w, &messages[i], queue_arn, region, &arena);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_arena_clean_up(&arena);
    cs_error r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

static int index_of(cs_str id, const em_message *messages, int count)
{
    for (int i = 0; i < count; i++) {
        if (cs_str_eq_c(id, messages[i].message_id)) {
            return i;
        }
    }
    return -1;
}

static cs_error mark_failures(const cs_json *list, const em_message *messages, int count,
                              bool *failed, cs_diag *diag)
{
    if (list->type != CS_JSON_ARRAY) {
        return cs_diag_set(diag, CS_ERR_JSON_TYPE, "batchItemFailures is not an array");
    }
    size_t n = 0;
    for (const cs_json *item = list->first; item; item = item->next, n++) {
        const cs_json *id = cs_json_object_get(item, cs_str_from_c("itemIdentifier"));
        if (!id || id->type != CS_JSON_STRING || id->text.len == 0) {
            return cs_diag_set(diag, CS_ERR_JSON_TYPE,
                               "batchItemFailures[%zu].itemIdentifier is not a non-empty string",
                               n);
        }
        int i = index_of(id->text, messages, count);
        if (i < 0) {
            return cs_diag_set(diag, CS_ERR_NOT_FOUND,
                               "batchItemFailures[%zu].itemIdentifier '%.*s' is not in the batch",
                               n, CS_STR_FMT(id->text));
        }
        failed[i] = true;
    }
    return CS_ERR_OK;
}

cs_error em_sqs_batch_failures(cs_str response, const em_message *messages, int count, bool *failed,
                               cs_diag *diag)
{
    memset(failed, 0, (size_t)count * sizeof(bool));
    cs_str trimmed = cs_str_trim(response);
    if (trimmed.len == 0 || cs_str_eq_c(trimmed, "null")) {
        return CS_ERR_OK;
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 16 * 1024 * 1024);
    cs_json *root;
    cs_error r = cs_json_parse(&arena, response, &root, diag);
    if (!r) {
        const cs_json *list = cs_json_object_get(root, cs_str_from_c("batchItemFailures"));
        if (root->type != CS_JSON_OBJECT) {
            r = cs_diag_set(diag, CS_ERR_JSON_TYPE, "the response is not a JSON object");
        } else if (list && list->type != CS_JSON_NULL) {
            r = mark_failures(list, messages, count, failed, diag);
        }
    }
    if (r) {
        memset(failed, 0, (size_t)count * sizeof(bool));
    }
    cs_arena_clean_up(&arena);
    return r;
}
