/* Fires a template's Schedule and ScheduleV2 events on time, as
 * EventBridge does: each rule's payload is its Input verbatim, or the
 * Scheduled Event JSON (version, id, detail-type, source, account, time,
 * region, resources, detail). Firing hands the payload to a callback (the
 * emulator queues it as an Event invocation). */
#ifndef CS_EMULATOR_SCHEDULER_H
#define CS_EMULATOR_SCHEDULER_H

#include "core/buf.h"
#include "schedule.h"

typedef struct em_scheduler em_scheduler;

typedef void (*em_fire_fn)(void *user, const char *rule, cs_str payload);

cs_error em_scheduler_create(const char *region, em_fire_fn fire, em_scheduler **out,
                             cs_diag *diag);
/* Adds a rule; start_ms anchors rate() schedules. `target` goes to fire as
 * user. Strings are copied. */
cs_error em_scheduler_add(em_scheduler *s, const char *rule, cs_str expression, cs_str timezone,
                          cs_str input, void *target, int64_t start_ms, cs_diag *diag);
/* Starts the thread that fires rules when due. */
cs_error em_scheduler_start(em_scheduler *s, cs_diag *diag);
/* Fires a rule now, whatever its schedule; CS_ERR_NOT_FOUND names it. */
cs_error em_scheduler_fire_now(em_scheduler *s, const char *rule, cs_diag *diag);
/* The next firing of a rule (epoch ms), or -1. */
int64_t em_scheduler_next(em_scheduler *s, const char *rule);
void em_scheduler_destroy(em_scheduler *s);

/* The Scheduled Event JSON for a rule firing at time_ms. */
cs_error em_scheduled_event_write(const char *rule_arn, const char *region, int64_t time_ms,
                                  const char *id, cs_buf *out, cs_diag *diag);

#endif
