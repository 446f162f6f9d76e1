/* An SQS event source mapping, as Lambda runs one: pollers take batches
 * from a queue, invoke the function with the SQS event, delete the batch on
 * success, and leave it (to come back after the visibility timeout) on an
 * error or timeout. With ReportBatchItemFailures only the listed messages
 * stay; a response that is not a valid partial batch response fails the
 * whole batch. */
#ifndef CS_EMULATOR_ESM_H
#define CS_EMULATOR_ESM_H

#include "pool.h"
#include "queue.h"

typedef struct em_esm em_esm;

typedef struct em_esm_config {
    em_pool *pool;
    em_queues *queues;
    const char *queue;     /* its name */
    const char *queue_arn; /* for eventSourceARN */
    const char *region;
    int batch_size;    /* 1-10 */
    int64_t window_ms; /* MaximumBatchingWindowInSeconds, in ms */
    bool report_item_failures;
    int pollers; /* concurrent batches (ScalingConfig.MaximumConcurrency) */
    int log_fd;
} em_esm_config;

typedef struct em_esm_stats {
    int64_t batches;
    int64_t deleted;
    int64_t failed_batches;
} em_esm_stats;

/* The config's strings must outlive the mapping. */
cs_error em_esm_start(const em_esm_config *config, em_esm **out, cs_diag *diag);
/* Tells the pollers a message may be waiting (they also look every 100 ms). */
void em_esm_poke(em_esm *esm);
em_esm_stats em_esm_stats_of(em_esm *esm);
/* Lets batches in progress finish, then stops. */
void em_esm_stop(em_esm *esm);

#endif
