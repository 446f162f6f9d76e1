/* Time: RFC 3339 timestamps and UTC epoch milliseconds.
 *
 * Every instant inside the library is int64 milliseconds since the Unix epoch,
 * UTC. Text is RFC 3339 ("2024-03-05T10:15:30.123+01:00"); the offset of a
 * parsed timestamp is kept apart so it can be written back as received. */
#ifndef CS_CORE_TIMESTAMP_H
#define CS_CORE_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "str.h"

/* Longest text cs_time_format writes, with its NUL:
 * "YYYY-MM-DDTHH:MM:SS.mmm+HH:MM". */
#define CS_TIME_RFC3339_MAX 30

/* Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; 't', 'z' and a
 * space separator are accepted as RFC 3339 allows. Fractions beyond
 * milliseconds are truncated (never rounded into the next second). A leap
 * second (:60) counts as the first millisecond-second after :59.
 * offset_minutes may be NULL. Errors: CS_ERR_TIME_SYNTAX (with the byte
 * offset), CS_ERR_TIME_RANGE (month 13, February 30, hour 24, ...). */
cs_error cs_time_parse_rfc3339(cs_str text, int64_t *epoch_ms, int *offset_minutes, cs_diag *diag);

/* Writes epoch_ms as seen at offset_minutes (0 gives 'Z'), always with
 * milliseconds. Years outside 0000-9999 are CS_ERR_TIME_RANGE. */
cs_error cs_time_format_rfc3339(int64_t epoch_ms, int offset_minutes,
                                char out[CS_TIME_RFC3339_MAX]);

/* Wall clock, UTC epoch milliseconds. */
int64_t cs_time_now_ms(void);
/* Monotonic clock for durations and deadlines within the process. */
int64_t cs_time_monotonic_ms(void);
int64_t cs_time_monotonic_us(void);

#endif
