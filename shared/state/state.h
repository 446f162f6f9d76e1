/* What the flows remember between invocations, behind one interface with two
 * backends: SQLite (local runs and the emulator) and DynamoDB (AWS, one
 * table with a composite key, conditional writes), payload snapshots in a
 * directory or in S3.
 *
 * - Cursors for incremental reads: (updated_at, id) pairs, so records that
 *   share a timestamp are neither skipped nor read again forever. A cursor
 *   only moves forward.
 * - Idempotency records, keyed by flow + source record + version: acquiring
 *   one takes a lease, so a crashed invocation blocks the record only until
 *   the lease runs out; completing stores the result (the ERP order number)
 *   that a repeat gets back instead of doing the work twice. Both expire.
 * - Id maps: the same entity's id in two systems, readable both ways.
 * - Error queue entries: what failed, why, how often, the payload snapshot,
 *   and whether it is open, replayed or resolved. */
#ifndef CS_STATE_STATE_H
#define CS_STATE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"
#include "model/model.h"
#include "net/aws.h"

typedef struct cs_state cs_state;

typedef struct cs_cursor {
    int64_t updated_at_ms;
    char id[128];
} cs_cursor;

/* Whether a record (updated_at_ms, id) comes after the cursor: by time,
 * then by id, numerically when both ids are numbers (Shopify sorts 999
 * before 1000), else bytewise (commercetools' UUIDs, as it sorts them). */
bool cs_cursor_after(const cs_cursor *cursor, int64_t updated_at_ms, cs_str id);

/* An id as the stores compare it: a number without leading zeros padded to
 * 20 digits, anything else as it is (cut to fit). */
enum { CS_CURSOR_KEY_MAX = 148 };
void cs_cursor_order_key(cs_str id, char out[CS_CURSOR_KEY_MAX]);

typedef enum cs_idem_status {
    CS_IDEM_ACQUIRED, /* this caller holds the record now */
    CS_IDEM_BUSY,     /* another holds it and its lease has not run out */
    CS_IDEM_DONE      /* it was completed; `result` says with what */
} cs_idem_status;

typedef struct cs_idem_result {
    cs_idem_status status;
    char result[256]; /* DONE: what complete() stored */
} cs_idem_result;

typedef struct cs_error_entry {
    const char *correlation_id;
    const char *flow;
    const char *code; /* a cs_error name, or a connector's */
    const char *message;
    int64_t attempts;
    const char *status; /* "open", "replayed", "resolved" */
    int64_t created_ms;
    int64_t updated_ms;
} cs_error_entry;

/* Opens (creating if needed) a SQLite database and a snapshot directory. */
cs_error cs_state_open_sqlite(const char *db_path, const char *snapshot_dir, cs_state **out,
                              cs_diag *diag);
/* Uses an existing DynamoDB table (pk, sk: strings) and S3 bucket. */
cs_error cs_state_open_dynamodb(cs_aws *aws, const char *table, const char *bucket, cs_state **out,
                                cs_diag *diag);
void cs_state_close(cs_state *state);

/* Cursors, one per flow + source + store. get: *found false when none. */
cs_error cs_state_cursor_get(cs_state *s, const char *flow, const char *source, const char *store,
                             cs_cursor *out, bool *found, cs_diag *diag);
/* Moves the cursor forward; an older position is ignored, not an error. */
cs_error cs_state_cursor_put(cs_state *s, const char *flow, const char *source, const char *store,
                             const cs_cursor *cursor, cs_diag *diag);

/* Idempotency. `owner` identifies this invocation (a request id). */
cs_error cs_state_idem_begin(cs_state *s, const char *flow, cs_str record, cs_str version,
                             const char *owner, int64_t now_ms, int64_t lease_ms, int64_t ttl_ms,
                             cs_idem_result *out, cs_diag *diag);
/* CS_ERR_CONDITION_FAILED when `owner` no longer
 * holds the record (its lease ran out and another took it). */
cs_error cs_state_idem_complete(cs_state *s, const char *flow, cs_str record, cs_str version,
                                const char *owner, cs_str result, int64_t now_ms, int64_t ttl_ms,
                                cs_diag *diag);
/* Gives the record up after a failure, so a retry need not wait out the lease. */
cs_error cs_state_idem_release(cs_state *s, const char *flow, cs_str record, cs_str version,
                               const char *owner, cs_diag *diag);

/* Id maps: records id_a in system a and id_b in system b as the same entity. */
cs_error cs_state_idmap_put(cs_state *s, const char *entity, cs_system a, cs_str id_a, cs_system b,
                            cs_str id_b, cs_diag *diag);
cs_error cs_state_idmap_get(cs_state *s, const char *entity, cs_system from, cs_str id,
                            cs_system to, char *out, size_t out_len, bool *found, cs_diag *diag);

/* Error queue. record counts one more failure of entry->correlation_id at
 * entry->updated_ms: a new entry starts at attempts 1, created then; an
 * existing one keeps its created time and adds one to its attempts, in the
 * store itself, so failures recorded at once by two instances are both
 * counted. Flow, code, message, status and the snapshot are replaced.
 * entry->attempts and created_ms are not read. */
cs_error cs_state_error_record(cs_state *s, const cs_error_entry *entry, cs_str snapshot,
                               cs_diag *diag);
/* Strings of *out live in arena; the snapshot goes to `snapshot` when not NULL.
 * CS_ERR_NOT_FOUND for an unknown id. */
cs_error cs_state_error_get(cs_state *s, const char *correlation_id, cs_arena *arena,
                            cs_error_entry *out, cs_buf *snapshot, cs_diag *diag);
cs_error cs_state_error_set_status(cs_state *s, const char *correlation_id, const char *status,
                                   int64_t now_ms, cs_diag *diag);
/* Entries with `status`, oldest first, at most `max`. */
cs_error cs_state_error_list(cs_state *s, const char *status, size_t max, cs_arena *arena,
                             cs_error_entry **out, size_t *count, cs_diag *diag);

#endif
