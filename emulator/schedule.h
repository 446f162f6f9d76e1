/* EventBridge schedule expressions, as the emulator fires them.
 *
 *   rate(5 minutes)  rate(1 hour)  rate(2 days)        every N units from the start
 *   cron(Minutes Hours Day-of-month Month Day-of-week Year)
 *
 * Cron fields take lists (,), ranges (-), steps (/) and * as usual; one of
 * day-of-month and day-of-week must be '?'. Day-of-month also takes L (last
 * day), NW (the weekday nearest day N, within the month) and LW; day-of-week
 * takes 1-7 or SUN-SAT (1 is Sunday), L (Saturday), NL (the last day N of
 * the month) and N#K (the K-th day N). Months are 1-12 or JAN-DEC, years
 * 1970-2199. Times are evaluated in the schedule's time zone (an IANA name
 * such as "Europe/Berlin"; empty for UTC). */
#ifndef CS_EMULATOR_SCHEDULE_H
#define CS_EMULATOR_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/str.h"

typedef struct em_cron_field {
    uint64_t bits; /* allowed values, bit n for value n */
} em_cron_field;

typedef struct em_schedule {
    bool is_rate;
    int64_t rate_ms;
    em_cron_field minutes, hours, months;
    em_cron_field days;     /* day-of-month bits, 1-31 */
    em_cron_field weekdays; /* day-of-week bits, 1-7 */
    uint64_t year_bits[4];  /* bit n for year 1970 + n, up to 2199 */
    bool days_any;          /* day-of-month is '?' */
    bool last_day;          /* L */
    int nearest_weekday;    /* NW: N; 32 for LW; 0 none */
    int last_weekday;       /* NL: N (1-7); 0 none */
    int nth_weekday, nth;   /* N#K */
    char timezone[64];
} em_schedule;

/* CS_ERR_CONFIG with the field and value named in diag. */
cs_error em_schedule_parse(cs_str expression, cs_str timezone, em_schedule *out, cs_diag *diag);

/* The first firing strictly after after_ms (epoch ms). For rates, firings
 * are start_ms + k * rate. Returns -1 when a cron never fires again. */
int64_t em_schedule_next(const em_schedule *s, int64_t start_ms, int64_t after_ms);

#endif
