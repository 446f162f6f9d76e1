/* Condition waits with a time limit, for the emulator's threads. */
#ifndef CS_EMULATOR_WAIT_H
#define CS_EMULATOR_WAIT_H

#include <pthread.h>
#include <stdint.h>

/* Waits on cond (mu held) until signalled or epoch_ms (wall clock) passes. */
void em_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t epoch_ms);
/* The same for at most ms from now. */
void em_wait_for(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t ms);

#endif
