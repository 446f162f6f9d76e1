#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timestamp.h"

/* Slots never move, so an index stays valid while an instance starts. */
typedef struct slot {
    bool used;
    em_instance *inst; /* NULL while it starts */
    bool busy;
    int64_t last_used_ns;
} slot;

struct em_pool {
    const em_function_config *config;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    slot *slots; /* max_instances of them */
    int max_instances;
    int64_t invocations;
    int64_t cold_starts;
    em_invocation_record recent[EM_POOL_RECENT]; /* a ring, next at recorded % EM_POOL_RECENT */
    int64_t recorded;
};

cs_error em_pool_create(const em_function_config *config, int max_instances, em_pool **out,
                        cs_diag *diag)
{
    if (max_instances < 1) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "function '%s': concurrency must be at least 1", config->name);
    }
    em_pool *pool = calloc(1, sizeof(*pool));
    slot *slots = calloc((size_t)max_instances, sizeof(slot));
    if (!pool || !slots) {
        free(pool);
        free(slots);
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    pool->config = config;
    pool->slots = slots;
    pool->max_instances = max_instances;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->freed, NULL);
    *out = pool;
    return CS_ERR_OK;
}

void em_pool_destroy(em_pool *pool)
{
    if (!pool) {
        return;
    }
    pthread_mutex_lock(&pool->mu);
    for (int i = 0; i < pool->max_instances; i++) {
        while (pool->slots[i].busy) {
            pthread_cond_wait(&pool->freed, &pool->mu);
        }
        em_instance_stop(pool->slots[i].inst);
    }
    pthread_mutex_unlock(&pool->mu);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->mu);
    free(pool->slots);
    free(pool);
}

const em_function_config *em_pool_config(const em_pool *pool)
{
    return pool->config;
}

/* An idle warm slot, else an unused one, else -1; lock held. The most
 * recently used instance is preferred so that the others go idle and stop. */
static int claim(em_pool *pool)
{
    int best = -1, unused = -1;
    for (int i = 0; i < pool->max_instances; i++) {
        const slot *s = &pool->slots[i];
        if (!s->used) {
            unused = unused < 0 ? i : unused;
        } else if (!s->busy && (best < 0 || s->last_used_ns > pool->slots[best].last_used_ns)) {
            best = i;
        }
    }
    best = best >= 0 ? best : unused;
    if (best >= 0) {
        pool->slots[best].used = true;
        pool->slots[best].busy = true;
    }
    return best;
}

static void forget(em_pool *pool, int i)
{
    pool->slots[i] = (slot){0};
}

static cs_error acquire(em_pool *pool, bool wait, int *out, cs_diag *diag)
{
    pthread_mutex_lock(&pool->mu);
    int i;
    while ((i = claim(pool)) < 0 && wait) {
        pthread_cond_wait(&pool->freed, &pool->mu);
    }
    em_instance *inst = i >= 0 ? pool->slots[i].inst : NULL;
    pthread_mutex_unlock(&pool->mu);
    if (i < 0) {
        return cs_diag_set(diag, CS_ERR_BUSY,
                           "Rate Exceeded: function '%s' is at its concurrency "
                           "limit of %d",
                           pool->config->name, pool->max_instances);
    }
    *out = i;
    if (inst) {
        return CS_ERR_OK;
    }
    /* Started outside the lock: a cold start takes milliseconds. */
    cs_error r = em_instance_start(pool->config, &inst, diag);
    pthread_mutex_lock(&pool->mu);
    if (r) {
        forget(pool, i);
        pthread_cond_broadcast(&pool->freed);
    } else {
        pool->slots[i].inst = inst;
        pool->cold_starts++;
    }
    pthread_mutex_unlock(&pool->mu);
    return r;
}

/* Frees slot i after an invocation and records it (result NULL when the
 * invocation could not run). */
static void release(em_pool *pool, int i, const char *request_id, const em_result *result)
{
    em_instance *inst = pool->slots[i].inst;
    bool usable = em_instance_usable(inst);
    pthread_mutex_lock(&pool->mu);
    if (result) {
        em_invocation_record *rec = &pool->recent[pool->recorded++ % EM_POOL_RECENT];
        *rec = (em_invocation_record){.at_ms = cs_time_now_ms(),
                                      .outcome = result->outcome,
                                      .duration_ms = result->duration_ms,
                                      .init_ms = result->init_ms};
        snprintf(rec->request_id, sizeof(rec->request_id), "%s", request_id);
    }
    if (usable) {
        pool->slots[i].busy = false;
        pool->slots[i].last_used_ns = (cs_time_monotonic_us() * 1000);
    } else {
        forget(pool, i);
    }
    pool->invocations++;
    pthread_cond_broadcast(&pool->freed);
    pthread_mutex_unlock(&pool->mu);
    if (!usable) {
        em_instance_stop(inst);
    }
}

static void log_line(const em_pool *pool, const char *line)
{
    int fd = pool->config->log_fd;
    if (fd >= 0) {
        size_t len = strlen(line);
        /* One write per line, so lines of concurrent invocations do not mix. */
        if (write(fd, line, len) != (ssize_t)len) {
            return;
        }
    }
}

/* Lambda's tail is START, the function's output, END and REPORT, cut to
 * the last EM_LOG_TAIL_BYTES. */
static void frame_tail(em_result *out, const char *start, const char *end)
{
    size_t len = strlen(start) + out->log_tail_len + strlen(end);
    char *framed = malloc(len + 1);
    if (!framed) {
        return;
    }
    snprintf(framed, len + 1, "%s%.*s%s", start, (int)out->log_tail_len,
             out->log_tail ? out->log_tail : "", end);
    size_t cut = len > EM_LOG_TAIL_BYTES ? len - EM_LOG_TAIL_BYTES : 0;
    memmove(framed, framed + cut, len - cut + 1);
    free(out->log_tail);
    out->log_tail = framed;
    out->log_tail_len = len - cut;
}

cs_error em_pool_invoke(em_pool *pool, const char *request_id, cs_str payload,
                        const char *client_context, bool wait, em_result *out, cs_diag *diag)
{
    int i = -1;
    cs_error r = acquire(pool, wait, &i, diag);
    if (r) {
        return r;
    }
    /* A busy slot is this caller's alone. */
    em_instance *inst = pool->slots[i].inst;
    char start[200], end[600], report[256];
    snprintf(start, sizeof(start), "START RequestId: %s Version: $LATEST\n", request_id);
    log_line(pool, start);
    r = em_instance_invoke(inst, request_id, payload, client_context, out, diag);
    if (!r) {
        em_result_report(out, request_id, pool->config->memory_mb, report);
        snprintf(end, sizeof(end), "END RequestId: %s\n%s\n", request_id, report);
        log_line(pool, end);
        frame_tail(out, start, end);
    }
    release(pool, i, request_id, r ? NULL : out);
    return r;
}

int em_pool_stop_idle(em_pool *pool, int64_t idle_ms)
{
    em_instance *idle[64];
    int stopped = 0;
    int64_t cutoff = (cs_time_monotonic_us() * 1000) - idle_ms * 1000000;
    pthread_mutex_lock(&pool->mu);
    for (int i = 0; i < pool->max_instances && stopped < 64; i++) {
        slot *s = &pool->slots[i];
        if (s->used && !s->busy && s->last_used_ns <= cutoff) {
            idle[stopped++] = s->inst;
            forget(pool, i);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < stopped; i++) {
        em_instance_stop(idle[i]);
    }
    return stopped;
}

int em_pool_recent(em_pool *pool, em_invocation_record out[EM_POOL_RECENT])
{
    pthread_mutex_lock(&pool->mu);
    int count = pool->recorded < EM_POOL_RECENT ? (int)pool->recorded : EM_POOL_RECENT;
    for (int k = 0; k < count; k++) {
        out[k] = pool->recent[(pool->recorded - count + k) % EM_POOL_RECENT];
    }
    pthread_mutex_unlock(&pool->mu);
    return count;
}

em_pool_stats em_pool_stats_of(em_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    em_pool_stats s = {.invocations = pool->invocations, .cold_starts = pool->cold_starts};
    for (int i = 0; i < pool->max_instances; i++) {
        s.instances += pool->slots[i].used;
        s.busy += pool->slots[i].busy;
    }
    pthread_mutex_unlock(&pool->mu);
    return s;
}
