#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timestamp.h"

const char *cs_outcome_name(cs_outcome outcome)
{
    static const char *const names[CS_OUTCOME__COUNT] = {"written", "duplicate", "skipped", "retry",
                                                         "failed"};
    return outcome < CS_OUTCOME__COUNT ? names[outcome] : "unknown";
}

static cs_error open_state(cs_flow *f, cs_diag *diag)
{
    const char *db = getenv("STATE_DB"), *dir = getenv("SNAPSHOT_DIR");
    const char *table = getenv("STATE_TABLE"), *bucket = getenv("SNAPSHOT_BUCKET");
    if (db && db[0]) {
        return cs_state_open_sqlite(db, dir && dir[0] ? dir : NULL, &f->state, diag);
    }
    if (!table || !table[0] || !bucket || !bucket[0]) {
        return cs_diag_set(diag, CS_ERR_CONFIG,
                           "no state: set STATE_DB (and SNAPSHOT_DIR) for SQLite, or "
                           "STATE_TABLE and SNAPSHOT_BUCKET for DynamoDB and S3");
    }
    if (!f->has_aws) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "STATE_TABLE needs AWS credentials");
    }
    return cs_state_open_dynamodb(&f->aws, table, bucket, &f->state, diag);
}

cs_error cs_flow_init(cs_flow *f, const char *name, cs_arena *process_arena, cs_logger *log,
                      cs_diag *diag)
{
    cs_error r = cs_flow_init_stateless(f, name, process_arena, log, diag);
    return r ? r : open_state(f, diag);
}

cs_error cs_flow_init_stateless(cs_flow *f, const char *name, cs_arena *process_arena,
                                cs_logger *log, cs_diag *diag)
{
    *f = (cs_flow){.name = name, .log = log};
    f->http = cs_http_client_new(NULL, diag);
    if (!f->http) {
        return diag ? diag->code : CS_ERR_NOMEM;
    }
    cs_diag ignored;
    f->has_aws = getenv("AWS_ACCESS_KEY_ID") && cs_aws_init(&f->aws, f->http, NULL, &ignored) == 0;
    cs_error r = cs_config_load(&f->config, NULL, process_arena, f->has_aws ? &f->aws : NULL, diag);
    if (!r && cs_mapping_load(process_arena, f->config.root, &f->mapping, &f->config.problems) ==
                  CS_ERR_ARENA_FULL) {
        r = cs_arena_full(process_arena, diag);
    }
    return r;
}

void cs_flow_clean_up(cs_flow *f)
{
    cs_state_close(f->state);
    cs_http_client_destroy(f->http);
    f->state = NULL;
    f->http = NULL;
}

const cs_lookup *cs_flow_lookup(cs_flow *f, const cs_json *at, const char *parent, const char *key,
                                const char *const *columns)
{
    cs_config *c = &f->config;
    cs_str name = cs_config_string(c, at, parent, key, false);
    const cs_lookup *t = name.len ? cs_mapping_lookup(f->mapping, name) : NULL;
    if (name.len && !t) {
        cs_problems_add(&c->problems, cs_arena_sprintf(c->arena, "%s.%s", parent, key),
                        "unknown_lookup", "no lookup table '%.*s'", CS_STR_FMT(name));
    }
    for (size_t i = 0; t && columns && columns[i]; i++) {
        if (!cs_lookup_has_column(t, cs_str_from_c(columns[i]))) {
            cs_problems_add(&c->problems,
                            cs_arena_sprintf(c->arena, "lookups.%.*s", CS_STR_FMT(name)), "column",
                            "every row needs '%s'", columns[i]);
        }
    }
    return t;
}

static const char *scope_of(const cs_flow *f, const cs_once *o)
{
    return o->scope ? o->scope : f->name;
}

/* Takes the record; while another instance holds it (a duplicate
 * delivered at the same moment holds it for milliseconds), waits for it to
 * finish, so that the answer is "duplicate" now instead of a redelivery
 * after the visibility timeout. */
static cs_error take(cs_flow *f, const cs_once *o, cs_idem_result *idem, cs_diag *diag)
{
    enum { WAIT_MS = 50 };
    cs_error r = CS_ERR_OK;
    for (int attempt = 0; attempt < (o->attempts > 0 ? o->attempts : 1); attempt++) {
        r = cs_state_idem_begin(f->state, scope_of(f, o), o->record, o->version, o->owner,
                                cs_time_now_ms(), o->lease_ms, o->ttl_ms, idem, diag);
        bool time_left = !o->deadline_ms || cs_time_now_ms() + 2 * WAIT_MS < o->deadline_ms;
        if (r || idem->status != CS_IDEM_BUSY || !time_left) {
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = WAIT_MS * 1000000L}, NULL);
    }
    return r;
}

cs_outcome cs_flow_once(cs_flow *f, const cs_once *o, cs_change_fn change, void *user,
                        char result[256], cs_error *error, cs_diag *diag)
{
    cs_idem_result idem;
    *error = take(f, o, &idem, diag);
    if (*error) {
        return CS_OUTCOME_RETRY;
    }
    if (idem.status == CS_IDEM_DONE) {
        snprintf(result, 256, "%s", idem.result);
        return CS_OUTCOME_DUPLICATE;
    }
    if (idem.status == CS_IDEM_BUSY) {
        *error = cs_diag_set(diag, CS_ERR_BUSY, "another instance is making this change");
        return CS_OUTCOME_RETRY;
    }
    bool existed = false;
    *error = change(user, result, &existed, diag);
    if (*error) {
        cs_state_idem_release(f->state, scope_of(f, o), o->record, o->version, o->owner, NULL);
        return o->transient(*error) ? CS_OUTCOME_RETRY : CS_OUTCOME_FAILED;
    }
    *error = cs_state_idem_complete(f->state, scope_of(f, o), o->record, o->version, o->owner,
                                    cs_str_from_c(result), cs_time_now_ms(), o->ttl_ms, diag);
    if (*error) {
        return CS_OUTCOME_RETRY;
    }
    return existed ? CS_OUTCOME_DUPLICATE : CS_OUTCOME_WRITTEN;
}

/* The error queue entry for a failed record; the store counts the
 * attempts across failures of the same record. */
static cs_error queue_error(cs_flow *f, const cs_record_result *r, cs_diag *diag)
{
    char id[160], message[sizeof(r->diag->message)];
    snprintf(id, sizeof(id), "%.*s", CS_STR_FMT(r->correlation_id));
    snprintf(message, sizeof(message), "%s", r->diag ? r->diag->message : "");
    cs_error_entry entry = {.correlation_id = id,
                            .flow = f->name,
                            .code = cs_error_name(r->error),
                            .message = message,
                            .status = "open",
                            .updated_ms = cs_time_now_ms()};
    return cs_state_error_record(f->state, &entry, r->snapshot, diag);
}

cs_outcome cs_flow_record(cs_flow *f, const cs_record_result *r)
{
    cs_outcome outcome = r->outcome;
    cs_diag queue_diag = {0};
    if (outcome == CS_OUTCOME_FAILED && queue_error(f, r, &queue_diag)) {
        outcome = CS_OUTCOME_RETRY;
    }
    f->counts[outcome < CS_OUTCOME__COUNT ? outcome : CS_OUTCOME_FAILED]++;
    bool bad = outcome == CS_OUTCOME_RETRY || outcome == CS_OUTCOME_FAILED;
    const char *why = queue_diag.message[0] ? queue_diag.message
                      : bad && r->diag      ? r->diag->message
                                            : "";
    cs_log_set_correlation_id(f->log, r->correlation_id);
    CS_LOG(f->log, bad ? CS_LOG_WARN : CS_LOG_INFO, "record", CS_LOG_CSTR("flow", f->name),
           CS_LOG_STR("sourceId", r->source_id), CS_LOG_STR("targetId", r->target_id),
           CS_LOG_CSTR("result", cs_outcome_name(outcome)),
           CS_LOG_CSTR("error", bad ? cs_error_name(r->error) : ""), CS_LOG_CSTR("reason", why));
    cs_log_set_correlation_id(f->log, CS_STR_NULL);
    return outcome;
}

cs_str cs_sqs_attribute(const cs_sqs_record *rec, const char *name)
{
    const cs_json *a = cs_json_object_get(rec->attributes, cs_str_from_c(name));
    const cs_json *v = cs_json_object_get(a, CS_STR_LIT("stringValue"));
    return v && v->type == CS_JSON_STRING ? v->text : CS_STR_NULL;
}

static cs_error read_record(const cs_json *item, size_t i, cs_sqs_record *rec, cs_diag *diag)
{
    *rec = (cs_sqs_record){0};
    cs_str count = CS_STR_NULL;
    if (cs_json_get_string(item, "messageId", &rec->message_id, diag) ||
        cs_json_get_string(item, "body", &rec->body, diag) ||
        cs_json_opt_string(item, "attributes.ApproximateReceiveCount", &count, diag)) {
        char why[sizeof(diag->message)];
        snprintf(why, sizeof(why), "%s", diag ? diag->message : "");
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "Records[%zu]: %s", i, why);
    }
    rec->attributes = cs_json_object_get(item, CS_STR_LIT("messageAttributes"));
    if (count.len) {
        cs_parse_int64(count, &rec->receive_count);
    }
    return CS_ERR_OK;
}

cs_error cs_flow_sqs_batch(cs_flow *f, cs_str event, cs_arena *arena, cs_sqs_record_fn fn,
                           void *user, cs_buf *response, cs_diag *diag)
{
    cs_json *doc;
    cs_error r = cs_json_parse(arena, event, &doc, diag);
    const cs_json *records = r ? NULL : cs_json_object_get(doc, CS_STR_LIT("Records"));
    if (!r && (!records || records->type != CS_JSON_ARRAY)) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "the event has no Records array");
    }
    cs_json_writer w;
    cs_json_writer_init(&w, response);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "batchItemFailures");
    cs_json_write_array_begin(&w);
    size_t i = 0;
    for (const cs_json *item = records ? records->first : NULL; item && !r; item = item->next) {
        cs_sqs_record rec;
        r = read_record(item, i++, &rec, diag);
        cs_record_result result = {.outcome = CS_OUTCOME_RETRY};
        if (!r) {
            f->records_in++;
            fn(user, &rec, arena, &result);
        }
        if (!r && cs_flow_record(f, &result) == CS_OUTCOME_RETRY) {
            cs_json_write_object_begin(&w);
            cs_json_write_key_c(&w, "itemIdentifier");
            cs_json_write_string(&w, rec.message_id);
            cs_json_write_object_end(&w);
        }
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_error done = cs_json_writer_finish(&w, r ? NULL : diag);
    cs_json_writer_clean_up(&w);
    return r ? r : done;
}

void cs_flow_emit_metrics(cs_flow *f)
{
    static const char *const metrics[] = {"Written", "DuplicatesSkipped", "Skipped", "Retried",
                                          "Failed"};
    cs_buf line;
    cs_buf_init(&line, 4096);
    cs_buf_appendf(&line,
                   "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":"
                   "\"CommerceSync\",\"Dimensions\":[[\"Flow\"]],\"Metrics\":[{\"Name\":"
                   "\"RecordsIn\",\"Unit\":\"Count\"}",
                   (long long)cs_time_now_ms());
    for (size_t i = 0; i < CS_OUTCOME__COUNT; i++) {
        cs_buf_appendf(&line, ",{\"Name\":\"%s\",\"Unit\":\"Count\"}", metrics[i]);
    }
    cs_buf_appendf(&line, "]}]},\"Flow\":\"%s\",\"RecordsIn\":%lld", f->name,
                   (long long)f->records_in);
    for (size_t i = 0; i < CS_OUTCOME__COUNT; i++) {
        cs_buf_appendf(&line, ",\"%s\":%lld", metrics[i], (long long)f->counts[i]);
    }
    cs_buf_append_c(&line, "}\n");
    if (line.data && write(f->log->fd, line.data, line.len) < 0) {
        perror("metrics");
    }
    cs_buf_clean_up(&line);
    f->records_in = 0;
    memset(f->counts, 0, sizeof(f->counts));
}

enum { DEFAULT_REPLAY = 100, MAX_REPLAY = 1000 };

static cs_error replay_max(const cs_json *what, int64_t *max, cs_diag *diag)
{
    *max = DEFAULT_REPLAY;
    cs_error r = cs_json_object_get(what, CS_STR_LIT("max"))
                     ? cs_json_get_int64(what, "max", max, diag)
                     : CS_ERR_OK;
    if (!r && (*max < 1 || *max > MAX_REPLAY)) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "replay.max: 1 to %d", MAX_REPLAY);
    }
    return r;
}

cs_error cs_flow_replay(cs_flow *f, const cs_replay *replay, const cs_json *what, cs_arena *arena,
                        cs_buf *response, cs_diag *diag)
{
    int64_t max;
    cs_error_entry *entries = NULL;
    size_t count = 0;
    cs_error r = replay_max(what, &max, diag);
    if (!r) {
        r = cs_state_error_list(f->state, "open", (size_t)max, arena, &entries, &count, diag);
    }
    int64_t tally[CS_OUTCOME__COUNT] = {0}, skipped = 0;
    cs_buf snapshot;
    cs_buf_init(&snapshot, 0);
    for (size_t i = 0; !r && i < count && cs_time_now_ms() < replay->stop_ms; i++) {
        if (!replay->mine(&entries[i])) {
            skipped++;
            continue;
        }
        cs_error_entry full;
        cs_buf_reset(&snapshot);
        r = cs_state_error_get(f->state, entries[i].correlation_id, arena, &full, &snapshot, diag);
        cs_outcome o = r ? CS_OUTCOME_RETRY
                         : replay->apply(replay->user, &full, cs_buf_view(&snapshot), arena);
        tally[o] += !r;
        if (!r && o != CS_OUTCOME_RETRY && o != CS_OUTCOME_FAILED) {
            r = cs_state_error_set_status(f->state, full.correlation_id, "replayed",
                                          cs_time_now_ms(), diag);
        }
    }
    cs_buf_clean_up(&snapshot);
    if (!r) {
        r = cs_buf_appendf(response,
                           "{\"entries\":%zu,\"replayed\":%lld,\"failed\":%lld,\"retry\":%lld,"
                           "\"skipped\":%lld}",
                           count,
                           (long long)(tally[CS_OUTCOME_WRITTEN] + tally[CS_OUTCOME_DUPLICATE] +
                                       tally[CS_OUTCOME_SKIPPED]),
                           (long long)tally[CS_OUTCOME_FAILED], (long long)tally[CS_OUTCOME_RETRY],
                           (long long)skipped);
    }
    return r;
}
