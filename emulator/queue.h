/* The emulator's queues: durable in SQLite, with SQS semantics.
 *
 * - A received message stays in the queue, invisible, until it is deleted or
 *   its visibility timeout ends; each receive counts, and a message received
 *   more than maxReceiveCount times goes to the dead-letter queue instead.
 * - Delay, retention and ChangeMessageVisibility as SQS does them.
 * - FIFO queues: messages of one MessageGroupId are handed out in order and
 *   not while an earlier one of the group is in flight; a deduplication id
 *   (or the body's SHA-256 with content-based deduplication) seen in the last
 *   5 minutes is accepted again without a second message.
 * Every change is one SQLite transaction, so killing the emulator loses no
 * message that was accepted and resends none that was deleted. One store may
 * be shared by threads: its operations run one at a time. Queues are defined
 * at startup, before threads use the store. */
#ifndef CS_EMULATOR_QUEUE_H
#define CS_EMULATOR_QUEUE_H

#include <stdint.h>

#include "core/arena.h"
#include "template.h"

typedef struct em_queues em_queues;

typedef struct em_message {
    char message_id[37];
    char receipt[37];
    cs_str body;
    cs_str group_id;
    int64_t sent_ms;
    int64_t first_receive_ms;
    int64_t receive_count;
    int64_t sequence;        /* FIFO: increases with each message sent to the store */
    char md5[33];            /* of the body, as SQS reports it */
    cs_str attributes;       /* canonical message attributes (sqs_message.h), or empty */
    char attributes_md5[33]; /* "" without attributes */
} em_message;

typedef struct em_queue_stats {
    int64_t visible;
    int64_t in_flight;
    int64_t delayed;
} em_queue_stats;

/* Opens (creating if needed) the queue store. */
cs_error em_queues_open(const char *db_path, em_queues **out, cs_diag *diag);
void em_queues_close(em_queues *q);
/* Makes a queue known (from the template or CreateQueue); redefining updates
 * its settings and keeps its messages. Here definition->dlq is the
 * dead-letter queue's name (the emulator maps template ids to names). */
cs_error em_queues_define(em_queues *q, const em_queue *definition, cs_diag *diag);
/* NULL when there is no queue of that name. */
const em_queue *em_queues_find(const em_queues *q, cs_str name);
/* The defined queues, in definition order: i from 0 until NULL. */
const em_queue *em_queues_at(const em_queues *q, size_t i);

/* Sends a message; delay_s < 0 takes the queue's DelaySeconds. For FIFO
 * queues group_id is required and a repeated deduplication id returns the
 * first message's id. */
cs_error em_queue_send(em_queues *q, cs_str queue, cs_str body, int64_t delay_s, cs_str group_id,
                       cs_str dedup_id, int64_t now_ms, char message_id[37], cs_diag *diag);
/* One message of a send batch. */
typedef struct em_outgoing {
    cs_str body;
    int64_t delay_s; /* < 0: the queue's DelaySeconds */
    cs_str group_id;
    cs_str dedup_id;
    cs_str attributes;       /* canonical message attributes (sqs_message.h), or empty */
    char attributes_md5[33]; /* their MD5, when there are any */
    char message_id[37];     /* out */
    char md5[33];            /* out: of the body */
    cs_error result;         /* out: the entry's own error, or CS_ERR_OK */
    char error[256];         /* out: why, when result is set */
} em_outgoing;

/* Sends up to 10 messages in one transaction. An entry refused for its own
 * fields (result) does not stop the others; the call fails only when the
 * whole batch does (unknown queue, storage). */
cs_error em_queue_send_batch(em_queues *q, cs_str queue, em_outgoing *messages, int count,
                             int64_t now_ms, cs_diag *diag);
/* Receives up to max messages (1-10); visibility_s < 0 takes the queue's
 * VisibilityTimeout. Bodies live in arena. */
cs_error em_queue_receive(em_queues *q, cs_str queue, int max, int64_t visibility_s, int64_t now_ms,
                          cs_arena *arena, em_message *out, int *count, cs_diag *diag);
/* Receipts to delete; results[i] is CS_ERR_NOT_FOUND for a receipt that is
 * not its message's latest (SQS ignores those), else CS_ERR_OK. */
typedef struct em_done {
    const cs_str *receipts;
    int count;
    cs_error *results;
} em_done;

/* What a poller does between batches: deletes the finished batch's
 * messages and receives the next, in one transaction. done may be NULL. */
cs_error em_queue_delete_and_receive(em_queues *q, cs_str queue, const em_done *done, int max,
                                     int64_t visibility_s, int64_t now_ms, cs_arena *arena,
                                     em_message *out, int *count, cs_diag *diag);
/* CS_ERR_NOT_FOUND when the receipt is not the message's latest. */
cs_error em_queue_delete(em_queues *q, cs_str queue, cs_str receipt, cs_diag *diag);
/* Deletes several in one transaction; results[i] as em_queue_delete's. */
cs_error em_queue_delete_batch(em_queues *q, cs_str queue, const cs_str *receipts, int count,
                               cs_error *results, cs_diag *diag);
cs_error em_queue_change_visibility(em_queues *q, cs_str queue, cs_str receipt, int64_t timeout_s,
                                    int64_t now_ms, cs_diag *diag);
cs_error em_queue_purge(em_queues *q, cs_str queue, cs_diag *diag);
cs_error em_queue_stats_of(em_queues *q, cs_str queue, int64_t now_ms, em_queue_stats *out,
                           cs_diag *diag);
/* Moves every message of a dead-letter queue back to `to`, visible at once
 * and with its receive count reset; *moved says how many. */
cs_error em_queue_redrive(em_queues *q, cs_str dlq, cs_str to, int64_t now_ms, int64_t *moved,
                          cs_diag *diag);

/* The time a schedule rule was first started with this expression. The store
 * keeps it so that rate() schedules keep their phase when the emulator
 * restarts, as a rule in EventBridge keeps its own; a new rule, or one whose
 * expression changed, starts at now_ms. */
cs_error em_queues_schedule_anchor(em_queues *q, const char *rule, cs_str expression,
                                   int64_t now_ms, int64_t *anchor_ms, cs_diag *diag);

#endif
