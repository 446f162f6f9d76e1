/* The instances of one function: started on demand, reused while warm,
 * bounded by the function's concurrency, stopped when idle.
 *
 * Like Lambda, a synchronous caller over the limit is throttled
 * (CS_ERR_BUSY, which the Invoke API turns into 429), while event sources
 * ask to wait for a free instance. Each invocation writes Lambda's START,
 * END and REPORT lines to the function's log. */
#ifndef CS_EMULATOR_POOL_H
#define CS_EMULATOR_POOL_H

#include "instance.h"

typedef struct em_pool em_pool;

typedef struct em_pool_stats {
    int instances;
    int busy;
    int64_t invocations;
    int64_t cold_starts;
} em_pool_stats;

/* One finished invocation, for `emulator invocations`. */
typedef struct em_invocation_record {
    int64_t at_ms; /* when it ended, epoch ms */
    char request_id[64];
    em_outcome outcome;
    double duration_ms;
    double init_ms; /* < 0 when warm */
} em_invocation_record;

enum { EM_POOL_RECENT = 50 };

/* max_instances >= 1; the config must outlive the pool. */
cs_error em_pool_create(const em_function_config *config, int max_instances, em_pool **out,
                        cs_diag *diag);
/* Stops every instance; waits for invocations in progress to end. */
void em_pool_destroy(em_pool *pool);
const em_function_config *em_pool_config(const em_pool *pool);

/* Runs one invocation on a warm instance, or a new one. When every allowed
 * instance is busy: waits if `wait`, else CS_ERR_BUSY. */
cs_error em_pool_invoke(em_pool *pool, const char *request_id, cs_str payload,
                        const char *client_context, bool wait, em_result *out, cs_diag *diag);
/* Stops instances unused for idle_ms or more; returns how many. */
int em_pool_stop_idle(em_pool *pool, int64_t idle_ms);
em_pool_stats em_pool_stats_of(em_pool *pool);
/* The last EM_POOL_RECENT invocations, oldest first; returns how many. */
int em_pool_recent(em_pool *pool, em_invocation_record out[EM_POOL_RECENT]);

#endif
