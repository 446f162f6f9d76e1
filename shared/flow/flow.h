/* What every sync function shares: where it runs (config, state, HTTP and
 * AWS clients, logger), SQS batches with partial failures, one log line per
 * record outcome, the error queue, and each invocation's counters as a
 * CloudWatch Embedded Metric Format line.
 *
 * Outcomes decide what happens to a record:
 * - written, duplicate, skipped: done; SQS deletes the message.
 * - retry (a 429, a 5xx, a timeout, a record another instance holds):
 *   reported as a batch item failure, so SQS delivers it again after the
 *   visibility timeout and, after maxReceiveCount, moves it to the DLQ.
 * - failed (bad data, a missing mapping, a 4xx): put in the error queue with
 *   the payload as received and the named error, never retried blindly;
 *   SQS deletes the message and the rest of the batch goes on. */
#ifndef CS_FLOW_FLOW_H
#define CS_FLOW_FLOW_H

#include "config.h"
#include "core/log.h"
#include "mapping/mapping.h"
#include "net/http.h"
#include "state/state.h"

typedef enum cs_outcome {
    CS_OUTCOME_WRITTEN,
    CS_OUTCOME_DUPLICATE,
    CS_OUTCOME_SKIPPED,
    CS_OUTCOME_RETRY,
    CS_OUTCOME_FAILED,
    CS_OUTCOME__COUNT
} cs_outcome;

/* "written", "duplicate", "skipped", "retry", "failed". */
const char *cs_outcome_name(cs_outcome outcome);

typedef struct cs_flow {
    const char *name; /* "order-export" */
    cs_logger *log;
    cs_http_client *http;
    cs_aws aws;
    bool has_aws; /* credentials were in the environment */
    cs_state *state;
    cs_config config;
    cs_mapping *mapping; /* the config's maps and lookup tables */
    int64_t records_in;
    int64_t counts[CS_OUTCOME__COUNT];
} cs_flow;

/* At init, for the life of the process: the HTTP client, AWS clients when
 * credentials are set, the config (CS_CONFIG) with its maps and lookup
 * tables, and the state, from STATE_DB and SNAPSHOT_DIR (SQLite and a
 * directory) or else STATE_TABLE and SNAPSHOT_BUCKET (DynamoDB and S3).
 * Config problems (the mapping's among them) are collected in f->config
 * for the function's own settings; call cs_config_check after. */
cs_error cs_flow_init(cs_flow *f, const char *name, cs_arena *process_arena, cs_logger *log,
                      cs_diag *diag);
/* The same without the state (f->state NULL), for a function that keeps
 * none: it must not call cs_flow_record or cs_flow_once. */
cs_error cs_flow_init_stateless(cs_flow *f, const char *name, cs_arena *process_arena,
                                cs_logger *log, cs_diag *diag);
void cs_flow_clean_up(cs_flow *f);

/* The lookup table a setting names (parent.key), for a function's own
 * settings: a problem when the setting is missing or names no table, or
 * when the table lacks one of columns (NULL-ended; NULL for a string
 * table). NULL when there is no such table. */
const cs_lookup *cs_flow_lookup(cs_flow *f, const cs_json *at, const char *parent, const char *key,
                                const char *const *columns);

/* One record's result, as the function reports it. */
typedef struct cs_record_result {
    cs_outcome outcome;
    cs_str correlation_id; /* stable per record: the error queue's key */
    cs_str source_id;
    cs_str target_id;    /* what the target calls it, when written or found */
    cs_error error;      /* retry and failed */
    const cs_diag *diag; /* retry and failed: why */
    cs_str snapshot;     /* failed: the payload as received */
} cs_record_result;

/* Logs the outcome (one JSON line with correlation id, source and target
 * ids, flow and result), counts it, and puts a failed record in the error
 * queue; a record that cannot be put there becomes a retry, so it is never
 * lost. Returns the outcome that stands. */
cs_outcome cs_flow_record(cs_flow *f, const cs_record_result *r);

/* A change to a target system made once and only once, under an
 * idempotency record (record + version): taken with a lease, completed
 * with what the target calls the result, released when the change fails
 * so that a retry need not wait out the lease. */
typedef struct cs_once {
    cs_str record;     /* the source record's key: "shopify:us:5001" */
    cs_str version;    /* the change: "create", "cancel", "applied" */
    const char *scope; /* whose records: NULL for the flow's own; "order-export"
                        * for every function that exports orders */
    const char *owner; /* this invocation */
    int64_t lease_ms, ttl_ms;
    /* Takes of the record while another instance holds it, 50 ms apart
     * and while deadline_ms (epoch ms; 0: none) allows; at least 1. */
    int attempts;
    int64_t deadline_ms;
    bool (*transient)(cs_error e); /* the change's errors a retry may cure */
} cs_once;

/* Makes the change and writes its result (at most 255 bytes); *existed
 * when the target already had it (a repeat after a crash). */
typedef cs_error (*cs_change_fn)(void *user, char result[256], bool *existed, cs_diag *diag);

/* Runs the change under its record: duplicate (result is what the first
 * run stored) when it was done; retry when another holds it, or state
 * fails, or the change fails in a transient way; failed when the change
 * fails otherwise; written, or duplicate when the target had it already.
 * A change that went through but could not be recorded is a retry: the
 * target's own key must find it again. *error and diag say why. */
cs_outcome cs_flow_once(cs_flow *f, const cs_once *once, cs_change_fn change, void *user,
                        char result[256], cs_error *error, cs_diag *diag);

/* One message of an SQS batch, as Lambda delivers it. */
typedef struct cs_sqs_record {
    cs_str message_id;
    cs_str body;
    const cs_json *attributes; /* messageAttributes: {name: {stringValue, dataType}} */
    int64_t receive_count;
} cs_sqs_record;

/* A message attribute's string value; CS_STR_NULL when absent. */
cs_str cs_sqs_attribute(const cs_sqs_record *rec, const char *name);

/* Handles one record: fills *out (outcome and ids at least); the flow logs,
 * counts and queues it. */
typedef void (*cs_sqs_record_fn)(void *user, const cs_sqs_record *rec, cs_arena *arena,
                                 cs_record_result *out);

/* Runs fn over an SQS event's records and writes Lambda's partial batch
 * response ({"batchItemFailures":[{"itemIdentifier": id}]}) to response.
 * A malformed event is CS_ERR_INVALID_ARGUMENT naming the byte or field. */
cs_error cs_flow_sqs_batch(cs_flow *f, cs_str event, cs_arena *arena, cs_sqs_record_fn fn,
                           void *user, cs_buf *response, cs_diag *diag);

/* Writes the counters since the last call as one EMF line (namespace
 * CommerceSync, dimension Flow: RecordsIn, Written, DuplicatesSkipped,
 * Skipped, Retried, Failed) to the log's descriptor, and zeroes them. */
void cs_flow_emit_metrics(cs_flow *f);

/* Replay of the error queue: {"max": N} (default 100, at most 1000) open
 * entries, oldest first, of the flows `mine` accepts are applied again from
 * their snapshots by `apply` (which records the outcome), until stop_ms.
 * One that goes through (written, duplicate or skipped) is marked
 * "replayed"; one that fails stays open. Other flows' entries are counted
 * as skipped. Answers {"entries","replayed","failed","retry","skipped"}. */
typedef struct cs_replay {
    bool (*mine)(const cs_error_entry *e);
    cs_outcome (*apply)(void *user, const cs_error_entry *e, cs_str snapshot, cs_arena *arena);
    void *user;
    int64_t stop_ms;
} cs_replay;
cs_error cs_flow_replay(cs_flow *f, const cs_replay *replay, const cs_json *what, cs_arena *arena,
                        cs_buf *response, cs_diag *diag);

#endif
