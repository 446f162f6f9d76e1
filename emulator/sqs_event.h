/* The event Lambda hands a function for a batch of SQS messages, and the
 * partial batch response it may answer with. */
#ifndef CS_EMULATOR_SQS_EVENT_H
#define CS_EMULATOR_SQS_EVENT_H

#include <stdbool.h>

#include "core/buf.h"
#include "queue.h"

/* {"Records":[...]} exactly as Lambda writes it: messageId, receiptHandle,
 * body, attributes (ApproximateReceiveCount, SentTimestamp, SenderId,
 * ApproximateFirstReceiveTimestamp, and for FIFO MessageGroupId and
 * SequenceNumber), messageAttributes, md5OfBody, eventSource,
 * eventSourceARN, awsRegion. */
cs_error em_sqs_event_write(const em_message *messages, int count, const char *queue_arn,
                            const char *region, cs_buf *out, cs_diag *diag);

/* Reads {"batchItemFailures":[{"itemIdentifier":"<messageId>"}]} and marks
 * failed[i] for each listed message. An empty or null response, or an
 * empty list, fails nothing. Anything else that is not this shape, or an
 * identifier that is not in the batch, is an error: Lambda then treats the
 * whole batch as failed. */
cs_error em_sqs_batch_failures(cs_str response, const em_message *messages, int count, bool *failed,
                               cs_diag *diag);

#endif
