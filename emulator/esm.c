#include "esm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/id.h"
#include "core/timestamp.h"
#include "sqs_event.h"
#include "wait.h"

enum { MAX_POLLERS = 64, IDLE_POLL_MS = 100, MAX_BATCH = 10 };

struct em_esm {
    em_esm_config config;
    pthread_t threads[MAX_POLLERS];
    int thread_count;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    uint64_t pokes;
    em_esm_stats stats;
};

/* Waits up to ms for a poke or stop; lock held. */
static void nap(em_esm *esm, int64_t ms)
{
    int64_t until = cs_time_now_ms() + ms;
    uint64_t seen = esm->pokes;
    while (!esm->stopping && esm->pokes == seen && cs_time_now_ms() < until) {
        em_wait_until(&esm->wake, &esm->mu, until);
    }
}

/* The messages of a finished batch to delete. They go in the same
 * transaction as the next receive: one commit instead of two per batch. */
typedef struct settled {
    char receipts[MAX_BATCH][37];
    cs_str views[MAX_BATCH];
    cs_error results[MAX_BATCH];
    int count;
} settled;

/* The first receive after a batch also deletes what it settled. */
static int receive(em_esm *esm, settled *done, int max, cs_arena *arena, em_message *out)
{
    const em_esm_config *c = &esm->config;
    em_done deletes = {.receipts = done->views, .count = done->count, .results = done->results};
    int got = 0;
    cs_diag diag;
    cs_error r = em_queue_delete_and_receive(c->queues, cs_str_from_c(c->queue),
                                             done->count ? &deletes : NULL, max, -1,
                                             cs_time_now_ms(), arena, out, &got, &diag);
    if (r) {
        /* Undeleted messages come back after their visibility timeout. */
        dprintf(c->log_fd, "emulator: %s: %s\n", c->queue, diag.message);
    }
    int deleted = 0;
    for (int i = 0; !r && i < done->count; i++) {
        deleted += done->results[i] == CS_ERR_OK;
    }
    if (deleted) {
        pthread_mutex_lock(&esm->mu);
        esm->stats.deleted += deleted;
        pthread_mutex_unlock(&esm->mu);
    }
    done->count = 0;
    return got;
}

/* Receives up to batch_size messages, waiting up to the batching window for
 * a fuller batch, as Lambda does. */
static int gather(em_esm *esm, settled *done, cs_arena *arena, em_message *batch)
{
    const em_esm_config *c = &esm->config;
    int count = 0;
    int64_t window_end = cs_time_now_ms() + c->window_ms;
    for (;;) {
        count += receive(esm, done, c->batch_size - count, arena, batch + count);
        int64_t left = window_end - cs_time_now_ms();
        if (count == c->batch_size) {
            /* A full batch: there may be more, so wake another poller. */
            em_esm_poke(esm);
            return count;
        }
        if (count > 0 && left <= 0) {
            return count;
        }
        pthread_mutex_lock(&esm->mu);
        bool stopping = esm->stopping;
        if (!stopping) {
            nap(esm, count > 0 && left < IDLE_POLL_MS ? left : IDLE_POLL_MS);
        }
        stopping = esm->stopping;
        pthread_mutex_unlock(&esm->mu);
        if (stopping) {
            return count; /* not deleted: they come back after the timeout */
        }
    }
}

/* Which messages to delete after the invocation. */
static bool settle(em_esm *esm, const em_result *result, const em_message *batch, int count,
                   bool *keep)
{
    const em_esm_config *c = &esm->config;
    const char *function = em_pool_config(c->pool)->name;
    if (result->outcome != EM_OUTCOME_OK) {
        dprintf(c->log_fd,
                "emulator: %s: batch of %d from %s failed (%.*s); it returns after "
                "the visibility timeout\n",
                function, count, c->queue,
                (int)(result->payload_len > 300 ? 300 : result->payload_len), result->payload);
        return false;
    }
    if (!c->report_item_failures) {
        memset(keep, 0, (size_t)count * sizeof(bool));
        return true;
    }
    cs_diag diag;
    if (em_sqs_batch_failures(cs_str_make(result->payload, result->payload_len), batch, count, keep,
                              &diag)) {
        dprintf(c->log_fd,
                "emulator: %s: invalid partial batch response, so the whole batch "
                "failed: %s\n",
                function, diag.message);
        return false;
    }
    return true;
}

/* Invokes the function with the batch; done receives what to delete. */
static void run_batch(em_esm *esm, em_message *batch, int count, cs_buf *event, settled *done)
{
    const em_esm_config *c = &esm->config;
    cs_diag diag;
    cs_buf_reset(event);
    if (em_sqs_event_write(batch, count, c->queue_arn, c->region, event, &diag)) {
        dprintf(c->log_fd, "emulator: %s: cannot build the event: %s\n", c->queue, diag.message);
        return;
    }
    char id[CS_UUID_STR_LEN];
    cs_uuid_v4(id);
    em_result result;
    if (em_pool_invoke(c->pool, id, cs_str_make(event->data, event->len), NULL, true, &result,
                       &diag)) {
        dprintf(c->log_fd, "emulator: %s: %s\n", em_pool_config(c->pool)->name, diag.message);
        return;
    }
    bool keep[MAX_BATCH];
    bool ok = settle(esm, &result, batch, count, keep);
    em_result_clean_up(&result);
    /* A success is deleted whole or not at all: one transaction. */
    for (int i = 0; ok && i < count; i++) {
        if (!keep[i]) {
            memcpy(done->receipts[done->count], batch[i].receipt, sizeof(done->receipts[0]));
            done->views[done->count] = cs_str_from_c(done->receipts[done->count]);
            done->count++;
        }
    }
    pthread_mutex_lock(&esm->mu);
    esm->stats.batches++;
    esm->stats.failed_batches += !ok;
    pthread_mutex_unlock(&esm->mu);
}

static void *poller(void *arg)
{
    em_esm *esm = arg;
    cs_arena arena;
    cs_arena_init(&arena, 0, 64 * 1024 * 1024);
    cs_buf event;
    cs_buf_init(&event, 6 * 1024 * 1024);
    em_message batch[MAX_BATCH];
    settled done = {.count = 0};
    for (;;) {
        pthread_mutex_lock(&esm->mu);
        bool stopping = esm->stopping;
        pthread_mutex_unlock(&esm->mu);
        if (stopping) {
            break;
        }
        cs_arena_reset(&arena);
        int count = gather(esm, &done, &arena, batch);
        if (count > 0) {
            run_batch(esm, batch, count, &event, &done);
        }
    }
    if (done.count) {
        em_done deletes = {.receipts = done.views, .count = done.count, .results = done.results};
        em_queue_delete_batch(esm->config.queues, cs_str_from_c(esm->config.queue),
                              deletes.receipts, deletes.count, deletes.results, NULL);
    }
    cs_buf_clean_up(&event);
    cs_arena_clean_up(&arena);
    return NULL;
}

cs_error em_esm_start(const em_esm_config *config, em_esm **out, cs_diag *diag)
{
    if (config->batch_size < 1 || config->batch_size > MAX_BATCH) {
        return cs_diag_set(diag, CS_ERR_CONFIG,
                           "%s: BatchSize %d is outside 1-%d (larger "
                           "batches are not emulated)",
                           config->queue, config->batch_size, MAX_BATCH);
    }
    em_esm *esm = calloc(1, sizeof(*esm));
    if (!esm) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    esm->config = *config;
    pthread_mutex_init(&esm->mu, NULL);
    pthread_cond_init(&esm->wake, NULL);
    int pollers = config->pollers < 1             ? 1
                  : config->pollers > MAX_POLLERS ? MAX_POLLERS
                                                  : config->pollers;
    for (int i = 0; i < pollers; i++) {
        if (pthread_create(&esm->threads[i], NULL, poller, esm) != 0) {
            em_esm_stop(esm);
            return cs_diag_set(diag, CS_ERR_NOMEM, "cannot start pollers for %s", config->queue);
        }
        esm->thread_count++;
    }
    *out = esm;
    return CS_ERR_OK;
}

/* Wakes one napping poller, not all: messages sent in one call fill one
 * batch, and waking every poller for it had them queue on the store's lock to
 * find nothing. A poller that finds a full batch pokes the next. */
void em_esm_poke(em_esm *esm)
{
    pthread_mutex_lock(&esm->mu);
    esm->pokes++;
    pthread_cond_signal(&esm->wake);
    pthread_mutex_unlock(&esm->mu);
}

em_esm_stats em_esm_stats_of(em_esm *esm)
{
    pthread_mutex_lock(&esm->mu);
    em_esm_stats s = esm->stats;
    pthread_mutex_unlock(&esm->mu);
    return s;
}

void em_esm_stop(em_esm *esm)
{
    if (!esm) {
        return;
    }
    pthread_mutex_lock(&esm->mu);
    esm->stopping = true;
    pthread_cond_broadcast(&esm->wake);
    pthread_mutex_unlock(&esm->mu);
    for (int i = 0; i < esm->thread_count; i++) {
        pthread_join(esm->threads[i], NULL);
    }
    pthread_cond_destroy(&esm->wake);
    pthread_mutex_destroy(&esm->mu);
    free(esm);
}
