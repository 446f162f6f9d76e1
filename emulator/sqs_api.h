/* The SQS API (JSON protocol: POST / with X-Amz-Target: AmazonSQS.<Op>)
 * over the emulator's queues, for the aws CLI and SDKs: GetQueueUrl,
 * ListQueues, SendMessage, SendMessageBatch, ReceiveMessage (with
 * WaitTimeSeconds), DeleteMessage, DeleteMessageBatch,
 * ChangeMessageVisibility, GetQueueAttributes, PurgeQueue and
 * StartMessageMoveTask (DLQ redrive), with message attributes
 * (sqs_message.h). Errors carry the __type and
 * x-amzn-query-error SQS uses. */
#ifndef CS_EMULATOR_SQS_API_H
#define CS_EMULATOR_SQS_API_H

#include <microhttpd.h>

#include "core/str.h"
#include "queue.h"

typedef struct em_sqs_api {
    em_queues *queues;
    const char *region;
    uint16_t port; /* for queue URLs */
    /* Called after messages arrive on a queue (to wake its pollers). */
    void (*arrived)(void *user, cs_str queue);
    void *user;
} em_sqs_api;

/* Answers one request; `target` is the X-Amz-Target header. */
enum MHD_Result em_sqs_api_handle(const em_sqs_api *api, struct MHD_Connection *conn,
                                  const char *target, cs_str body);

#endif
