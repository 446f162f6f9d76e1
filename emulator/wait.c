#include "wait.h"

#include <time.h>

#include "core/timestamp.h"

void em_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t epoch_ms)
{
    struct timespec until = {.tv_sec = (time_t)(epoch_ms / 1000),
                             .tv_nsec = (long)(epoch_ms % 1000) * 1000000};
    pthread_cond_timedwait(cond, mu, &until);
}

void em_wait_for(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t ms)
{
    em_wait_until(cond, mu, cs_time_now_ms() + ms);
}
