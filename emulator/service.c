#include "service.h"

#include <libgen.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/id.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "esm.h"
#include "http_event.h"
#include "httpd.h"
#include "pool.h"
#include "queue.h"
#include "scheduler.h"
#include "secrets_api.h"
#include "sqs_api.h"
#include "wait.h"

enum {
    MAX_PAYLOAD_BYTES = 6 * 1024 * 1024,
    MAX_EVENT_PAYLOAD_BYTES = 256 * 1024,
    DEFAULT_MAX_INSTANCES = 32,
    ASYNC_ATTEMPTS = 3, /* Lambda retries an event twice */
    ASYNC_RETRY_S = 60,
    DEFAULT_POLLERS = 5,
};

static const char invoke_prefix[] = "/2015-03-31/functions/";
static const char invoke_suffix[] = "/invocations";
static const char fire_prefix[] = "/_emulator/schedules/";

typedef struct em_service em_service;

/* One function: its configuration, its instances, and the worker that runs
 * its Event invocations from a durable queue. */
typedef struct function {
    em_service *svc;
    em_function_config config;
    char **env;
    em_pool *pool;
    char async_queue[160];
    pthread_t worker;
    bool worker_started;
} function;

/* A function's SQS event source mapping and the queue it polls. */
typedef struct mapping {
    em_esm *esm;
    const char *queue;
} mapping;

struct em_service {
    cs_arena arena; /* the template and everything derived from it */
    mapping *mappings;
    size_t mapping_count;
    em_sqs_api sqs;
    em_secrets_api secrets;
    em_scheduler *scheduler;
    em_template template;
    function *functions;
    size_t function_count;
    em_queues *queues;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char sqs_endpoint[40]; /* http://127.0.0.1:port, once serving */
    char region[32];
    pthread_mutex_t mu;
    pthread_cond_t wake; /* an event arrived, or stopping */
    bool stopping;
};

/* ---- loading ---- */

/* The template's text, copied into the arena that holds what is read from it. */
static cs_error read_text(const char *path, cs_arena *arena, cs_str *out, cs_diag *diag)
{
    cs_buf buf;
    cs_buf_init(&buf, 16 * 1024 * 1024);
    cs_error r = cs_buf_append_file(&buf, path, "template", diag);
    char *copy = r ? NULL : cs_arena_strndup(arena, cs_str_make(buf.data ? buf.data : "", buf.len));
    *out = cs_str_make(copy, buf.len);
    cs_buf_clean_up(&buf);
    return r || copy ? r : cs_arena_full(arena, diag);
}

/* CodeUri is a directory holding `bootstrap`, relative to the template; a
 * function built by make runs from its artifacts directory instead. */
static cs_error configure(em_service *svc, const em_function *fn, const char *template_dir,
                          const char *build_dir, const em_service_opts *opts, function *out,
                          cs_diag *diag)
{
    cs_arena *a = &svc->arena;
    char *code = fn->makefile_build
                     ? cs_arena_sprintf(a, "%s/%.*s", build_dir, CS_STR_FMT(fn->logical_id))
                     : cs_arena_strndup(a, fn->code_uri);
    char *root = code && code[0] == '/'
                     ? code
                     : cs_arena_sprintf(a, "%s/%s", template_dir, code ? code : "");
    out->env = cs_arena_calloc(a, fn->env_count + 1, sizeof(char *));
    for (size_t i = 0; out->env && i < fn->env_count; i++) {
        out->env[i] = cs_arena_sprintf(a, "%.*s=%.*s", CS_STR_FMT(fn->env[i].name),
                                       CS_STR_FMT(fn->env[i].value));
    }
    out->svc = svc;
    out->config = (em_function_config){
        .name = cs_arena_strndup(a, fn->name),
        .bootstrap = root ? cs_arena_sprintf(a, "%s/bootstrap", root) : NULL,
        .task_root = root,
        .handler = cs_arena_strndup(a, fn->handler),
        .region = svc->region,
        .timeout_s = fn->timeout_s,
        .memory_mb = fn->memory_mb,
        .env = (const char *const *)out->env,
        .log_fd = opts->log_fd,
        .sqs_endpoint = svc->sqs_endpoint,
        .access_key_id = cs_arena_strndup(a, fn->logical_id),
        .aws_endpoint = opts->aws_endpoint,
    };
    if (!out->config.name || !out->config.bootstrap || !out->config.handler ||
        !out->config.access_key_id || a->exhausted) {
        return cs_arena_full(a, diag);
    }
    snprintf(out->async_queue, sizeof(out->async_queue), "lambda-async-%s", out->config.name);
    return CS_ERR_OK;
}

/* The --secret values, each in the slot of its template secret. */
static cs_error load_secrets(em_service *svc, const char *const *given, cs_diag *diag)
{
    const em_template *t = &svc->template;
    cs_str *values = cs_arena_calloc(&svc->arena, t->secret_count + 1, sizeof(cs_str));
    if (!values) {
        return cs_arena_full(&svc->arena, diag);
    }
    for (const char *const *g = given; g && *g; g++) {
        const char *eq = strchr(*g, '=');
        cs_str id = cs_str_make(*g, eq ? (size_t)(eq - *g) : strlen(*g));
        const em_secret *s = eq ? em_template_secret(t, id) : NULL;
        if (!s) {
            return cs_diag_set(
                diag, CS_ERR_CONFIG,
                eq ? "--secret %.*s: the template has no AWS::SecretsManager::Secret "
                     "of that logical id or name"
                   : "--secret %.*s: expected SECRET=VALUE",
                CS_STR_FMT(id));
        }
        values[s - t->secrets] = cs_str_from_c(eq + 1);
    }
    svc->secrets = (em_secrets_api){.template = t, .values = values};
    return CS_ERR_OK;
}

static cs_error define_async_queue(em_service *svc, const function *f, cs_diag *diag)
{
    em_queue q = {.name = cs_str_from_c(f->async_queue),
                  .dlq = cs_str_from_c(""),
                  .visibility_timeout_s = f->config.timeout_s + ASYNC_RETRY_S,
                  .retention_s = 6 * 3600};
    return em_queues_define(svc->queues, &q, diag);
}

static cs_error load_functions(em_service *svc, const em_service_opts *opts, cs_diag *diag)
{
    char *path_copy = strdup(opts->template_path);
    if (!path_copy) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    const char *dir = dirname(path_copy);
    char cwd[4096];
    const char *build = !opts->build_dir ? cs_arena_sprintf(&svc->arena, "%s/.aws-sam/build", dir)
                        : opts->build_dir[0] == '/' || !getcwd(cwd, sizeof(cwd))
                            ? opts->build_dir
                            : cs_arena_sprintf(&svc->arena, "%s/%s", cwd, opts->build_dir);
    svc->functions =
        cs_arena_calloc(&svc->arena, svc->template.function_count + 1, sizeof(function));
    cs_error r = svc->functions ? CS_ERR_OK : cs_arena_full(&svc->arena, diag);
    for (size_t i = 0; !r && i < svc->template.function_count; i++) {
        const em_function *fn = &svc->template.functions[i];
        function *f = &svc->functions[i];
        int max = fn->reserved_concurrency >= 0 ? (int)fn->reserved_concurrency
                  : opts->max_instances > 0     ? opts->max_instances
                                                : DEFAULT_MAX_INSTANCES;
        r = configure(svc, fn, dir, build, opts, f, diag);
        if (!r && max == 0) {
            r = cs_diag_set(diag, CS_ERR_CONFIG,
                            "function '%s': ReservedConcurrentExecutions 0 never runs",
                            f->config.name);
        }
        if (!r) {
            r = em_pool_create(&f->config, max, &f->pool, diag);
        }
        if (!r) {
            svc->function_count++;
            r = define_async_queue(svc, f, diag);
        }
    }
    free(path_copy);
    return r;
}

static function *find_function(em_service *svc, cs_str name)
{
    /* The SDKs accept a name, an ARN or a partial ARN. */
    name = cs_str_after_last(name, ':');
    for (size_t i = 0; i < svc->function_count; i++) {
        if (cs_str_eq_c(name, svc->functions[i].config.name)) {
            return &svc->functions[i];
        }
    }
    return NULL;
}

/* ---- the template's queues and their event source mappings ---- */

/* The template names a DLQ by logical id; the store by queue name. */
static cs_error define_template_queues(em_service *svc, cs_diag *diag)
{
    cs_error r = CS_ERR_OK;
    for (size_t i = 0; !r && i < svc->template.queue_count; i++) {
        em_queue q = svc->template.queues[i];
        if (q.dlq.len) {
            const em_queue *dlq = em_template_queue(&svc->template, q.dlq);
            if (!dlq) {
                return cs_diag_set(diag, CS_ERR_CONFIG,
                                   "queue '%.*s': dead-letter queue '%.*s' "
                                   "is not in the template",
                                   CS_STR_FMT(q.name), CS_STR_FMT(q.dlq));
            }
            q.dlq = dlq->name;
        }
        r = em_queues_define(svc->queues, &q, diag);
    }
    return r;
}

static cs_error map_event(em_service *svc, function *f, const em_sqs_event *e, cs_diag *diag)
{
    const em_queue *q = em_template_queue(&svc->template, e->queue);
    if (!q) {
        return cs_diag_set(diag, CS_ERR_CONFIG,
                           "function '%s': event '%.*s' polls '%.*s', which "
                           "is not a queue of the template",
                           f->config.name, CS_STR_FMT(e->name), CS_STR_FMT(e->queue));
    }
    mapping *m = &svc->mappings[svc->mapping_count];
    m->queue = cs_arena_strndup(&svc->arena, q->name);
    em_esm_config config = {
        .pool = f->pool,
        .queues = svc->queues,
        .queue = m->queue,
        .queue_arn = cs_arena_sprintf(&svc->arena, "arn:aws:sqs:%s:000000000000:%s", svc->region,
                                      m->queue ? m->queue : ""),
        .region = svc->region,
        .batch_size = (int)e->batch_size,
        .window_ms = e->window_s * 1000,
        .report_item_failures = e->report_batch_item_failures,
        .pollers = e->max_concurrency > 0 ? (int)e->max_concurrency : DEFAULT_POLLERS,
        .log_fd = f->config.log_fd,
    };
    if (!m->queue || !config.queue_arn) {
        return cs_arena_full(&svc->arena, diag);
    }
    cs_error r = em_esm_start(&config, &m->esm, diag);
    svc->mapping_count += !r;
    return r;
}

static cs_error start_mappings(em_service *svc, cs_diag *diag)
{
    size_t total = 0;
    for (size_t i = 0; i < svc->template.function_count; i++) {
        total += svc->template.functions[i].sqs_count;
    }
    svc->mappings = cs_arena_calloc(&svc->arena, total + 1, sizeof(mapping));
    cs_error r = svc->mappings ? CS_ERR_OK : cs_arena_full(&svc->arena, diag);
    for (size_t i = 0; !r && i < svc->function_count; i++) {
        const em_function *fn = &svc->template.functions[i];
        for (size_t k = 0; !r && k < fn->sqs_count; k++) {
            r = fn->sqs[k].enabled ? map_event(svc, &svc->functions[i], &fn->sqs[k], diag)
                                   : CS_ERR_OK;
        }
    }
    return r;
}

/* Wakes the pollers of a queue that just received messages. */
static void arrived(void *user, cs_str queue)
{
    em_service *svc = user;
    for (size_t i = 0; i < svc->mapping_count; i++) {
        if (cs_str_eq_c(queue, svc->mappings[i].queue)) {
            em_esm_poke(svc->mappings[i].esm);
        }
    }
}

/* ---- Event invocations ---- */

static void run_async(function *f, const em_message *m)
{
    em_result result;
    cs_diag diag;
    char id[CS_UUID_STR_LEN];
    snprintf(id, sizeof(id), "%s", m->message_id);
    cs_error r = em_pool_invoke(f->pool, id, m->body, NULL, true, &result, &diag);
    bool ok = !r && result.outcome == EM_OUTCOME_OK;
    if (!r) {
        em_result_clean_up(&result);
    }
    if (ok || m->receive_count >= ASYNC_ATTEMPTS) {
        if (!ok) {
            dprintf(f->config.log_fd, "emulator: %s: event %s failed %d times; dropped\n",
                    f->config.name, m->message_id, ASYNC_ATTEMPTS);
        }
        em_queue_delete(f->svc->queues, cs_str_from_c(f->async_queue), cs_str_from_c(m->receipt),
                        &diag);
    }
}

/* Stores an Event invocation and wakes the function's worker. */
static cs_error enqueue_event(function *f, cs_str payload, cs_diag *diag)
{
    char message_id[37];
    em_service *svc = f->svc;
    cs_error r = em_queue_send(svc->queues, cs_str_from_c(f->async_queue),
                               payload.len ? payload : cs_str_from_c("{}"), 0, cs_str_from_c(""),
                               cs_str_from_c(""), cs_time_now_ms(), message_id, diag);
    if (!r) {
        pthread_mutex_lock(&svc->mu);
        pthread_cond_broadcast(&svc->wake);
        pthread_mutex_unlock(&svc->mu);
    }
    return r;
}

/* EventBridge invokes a schedule's target asynchronously. */
static void fire_schedule(void *target, const char *rule, cs_str payload)
{
    function *f = target;
    cs_diag diag;
    if (enqueue_event(f, payload, &diag)) {
        dprintf(f->config.log_fd, "emulator: schedule %s: %s\n", rule, diag.message);
    }
}

static cs_error add_schedule(em_service *svc, function *f, const em_schedule_event *e,
                             int64_t now_ms, cs_diag *diag)
{
    char rule[256];
    snprintf(rule, sizeof(rule), "%s-%.*s", f->config.name, CS_STR_FMT(e->name));
    int64_t anchor_ms;
    cs_error r =
        em_queues_schedule_anchor(svc->queues, rule, e->expression, now_ms, &anchor_ms, diag);
    return r ? r
             : em_scheduler_add(svc->scheduler, rule, e->expression, e->timezone, e->input, f,
                                anchor_ms, diag);
}

static cs_error add_schedules(em_service *svc, cs_diag *diag)
{
    cs_error r = em_scheduler_create(svc->region, fire_schedule, &svc->scheduler, diag);
    int64_t now = cs_time_now_ms();
    for (size_t i = 0; !r && i < svc->function_count; i++) {
        const em_function *fn = &svc->template.functions[i];
        for (size_t k = 0; !r && k < fn->schedule_count; k++) {
            if (fn->schedules[k].enabled) {
                r = add_schedule(svc, &svc->functions[i], &fn->schedules[k], now, diag);
            }
        }
    }
    return r ? r : em_scheduler_start(svc->scheduler, diag);
}

/* Takes the function's stored events one at a time until stopped; a failed
 * one comes back after ASYNC_RETRY_S. */
static void *async_worker(void *arg)
{
    function *f = arg;
    em_service *svc = f->svc;
    cs_arena arena;
    cs_arena_init(&arena, 0, 2 * MAX_EVENT_PAYLOAD_BYTES);
    pthread_mutex_lock(&svc->mu);
    while (!svc->stopping) {
        pthread_mutex_unlock(&svc->mu);
        em_message m;
        int count = 0;
        cs_diag diag;
        cs_arena_reset(&arena);
        if (!em_queue_receive(svc->queues, cs_str_from_c(f->async_queue), 1, -1, cs_time_now_ms(),
                              &arena, &m, &count, &diag) &&
            count == 1) {
            run_async(f, &m);
        }
        pthread_mutex_lock(&svc->mu);
        if (count == 0 && !svc->stopping) {
            em_wait_for(&svc->wake, &svc->mu, 1000);
        }
    }
    pthread_mutex_unlock(&svc->mu);
    cs_arena_clean_up(&arena);
    return NULL;
}

/* ---- the Invoke API ---- */

static enum MHD_Result aws_error(struct MHD_Connection *conn, unsigned status, const char *type,
                                 const char *message)
{
    /* Through the writer: a message may quote a name taken from the URL,
     * with quotes or bytes that are not UTF-8. */
    cs_buf text;
    cs_buf_init(&text, 0);
    cs_buf_append_valid_utf8(&text, cs_str_from_c(message));
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "Type");
    cs_json_write_string_c(&w, "User");
    cs_json_write_key_c(&w, "message");
    cs_json_write_string(&w, cs_str_make(text.data ? text.data : "", text.len));
    cs_json_write_object_end(&w);
    enum MHD_Result ok = cs_json_writer_finish(&w, NULL)
                             ? MHD_NO
                             : em_reply(conn, status, "application/json", body.data, body.len,
                                        "X-Amzn-ErrorType", type, NULL);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&body);
    cs_buf_clean_up(&text);
    return ok;
}

/* X-Amz-Client-Context is base64 of a JSON object; the runtime gets the
 * JSON itself. */
static cs_error client_context(struct MHD_Connection *conn, cs_buf *out, cs_diag *diag)
{
    const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Client-Context");
    if (!header) {
        return CS_ERR_OK;
    }
    cs_error r = cs_base64_decode(cs_str_from_c(header), out, diag);
    if (!r && out->len > 3583) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                        "X-Amz-Client-Context is over 3,583 bytes once decoded");
    }
    return r;
}

/* X-Amz-Log-Type: Tail asks for the invocation's log, base64, in
 * X-Amz-Log-Result. */
static enum MHD_Result answer(struct MHD_Connection *conn, const em_result *r, const char *id)
{
    bool failed = r->outcome != EM_OUTCOME_OK;
    const char *log_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Log-Type");
    cs_buf tail;
    cs_buf_init(&tail, 0);
    bool want_tail = log_type && strcmp(log_type, "Tail") == 0 && r->log_tail;
    if (want_tail && cs_base64_encode(cs_str_make(r->log_tail, r->log_tail_len), &tail)) {
        want_tail = false;
    }
    enum MHD_Result ok = em_reply(
        conn, MHD_HTTP_OK, "application/json", r->payload, r->payload_len, "X-Amz-Executed-Version",
        "$LATEST", "X-Amzn-RequestId", id, "X-Amz-Function-Error", failed ? r->error_type : NULL,
        "X-Amz-Log-Result", want_tail ? (tail.data ? tail.data : "") : NULL, NULL);
    cs_buf_clean_up(&tail);
    return ok;
}

static enum MHD_Result invoke_now(function *f, struct MHD_Connection *conn, cs_str payload,
                                  const char *id)
{
    cs_buf context;
    cs_buf_init(&context, 8192);
    cs_diag diag;
    cs_error r = client_context(conn, &context, &diag);
    if (r) {
        cs_buf_clean_up(&context);
        return aws_error(conn, MHD_HTTP_BAD_REQUEST, "InvalidRequestContentException",
                         diag.message);
    }
    em_result result;
    r = em_pool_invoke(f->pool, id, payload, context.len ? context.data : NULL, false, &result,
                       &diag);
    cs_buf_clean_up(&context);
    if (r == CS_ERR_BUSY) {
        return aws_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "TooManyRequestsException",
                         "Rate Exceeded.");
    }
    if (r) {
        return aws_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "ServiceException", diag.message);
    }
    enum MHD_Result ok = answer(conn, &result, id);
    em_result_clean_up(&result);
    return ok;
}

static enum MHD_Result invoke_later(function *f, struct MHD_Connection *conn, cs_str payload,
                                    const char *id)
{
    if (payload.len > MAX_EVENT_PAYLOAD_BYTES) {
        return aws_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "RequestTooLargeException",
                         "Request must be smaller than 262144 bytes for the InvokeAsync operation");
    }
    cs_diag diag;
    if (enqueue_event(f, payload, &diag)) {
        return aws_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "ServiceException", diag.message);
    }
    return em_reply(conn, MHD_HTTP_ACCEPTED, "application/json", "", 0, "X-Amzn-RequestId", id,
                    NULL);
}

static enum MHD_Result handle_invoke(em_service *svc, struct MHD_Connection *conn, cs_str name,
                                     em_upload *up)
{
    function *f = find_function(svc, name);
    char message[300];
    if (!f) {
        snprintf(message, sizeof(message),
                 "Function not found: arn:aws:lambda:%s:000000000000:"
                 "function:%.*s",
                 svc->region, (int)(name.len > 140 ? 140 : name.len), name.ptr);
        return aws_error(conn, MHD_HTTP_NOT_FOUND, "ResourceNotFoundException", message);
    }
    if (up->too_large) {
        return aws_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "RequestTooLargeException",
                         "Request must be smaller than 6291456 bytes for the Invoke operation");
    }
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
    char id[CS_UUID_STR_LEN];
    cs_uuid_v4(id);
    cs_str payload = cs_str_make(up->data ? up->data : "", up->len);
    if (!type || strcmp(type, "RequestResponse") == 0) {
        return invoke_now(f, conn, payload, id);
    }
    if (strcmp(type, "Event") == 0) {
        return invoke_later(f, conn, payload, id);
    }
    if (strcmp(type, "DryRun") == 0) {
        return em_reply(conn, MHD_HTTP_NO_CONTENT, "application/json", "", 0, "X-Amzn-RequestId",
                        id, NULL);
    }
    snprintf(message, sizeof(message),
             "X-Amz-Invocation-Type '%.40s' is not RequestResponse, Event or DryRun", type);
    return aws_error(conn, MHD_HTTP_BAD_REQUEST, "InvalidParameterValueException", message);
}

/* POST /_emulator/schedules/{rule}/fire: the rule fires now. */
static enum MHD_Result handle_fire(em_service *svc, struct MHD_Connection *conn, const char *rest)
{
    char rule[256];
    const char *slash = strchr(rest, '/');
    if (!slash || strcmp(slash, "/fire") != 0 || (size_t)(slash - rest) >= sizeof(rule)) {
        return aws_error(conn, MHD_HTTP_NOT_FOUND, "UnknownOperationException",
                         "POST /_emulator/schedules/{rule}/fire");
    }
    snprintf(rule, sizeof(rule), "%.*s", (int)(slash - rest), rest);
    cs_diag diag;
    if (em_scheduler_fire_now(svc->scheduler, rule, &diag)) {
        return aws_error(conn, MHD_HTTP_NOT_FOUND, "ResourceNotFoundException", diag.message);
    }
    return em_reply(conn, MHD_HTTP_ACCEPTED, "application/json", "{}", 2, NULL);
}

typedef struct named_record {
    const char *function;
    em_invocation_record rec;
} named_record;

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const named_record *)a)->rec.at_ms, y = ((const named_record *)b)->rec.at_ms;
    return x < y ? -1 : x > y;
}

static const char *outcome_name(em_outcome o)
{
    static const char *names[] = {"ok", "error", "timeout", "crash", "init-error"};
    return names[o];
}

static void write_record(cs_json_writer *w, const named_record *n)
{
    char time[CS_TIME_RFC3339_MAX], number[32];
    cs_time_format_rfc3339(n->rec.at_ms, 0, time);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "time");
    cs_json_write_string_c(w, time);
    cs_json_write_key_c(w, "function");
    cs_json_write_string_c(w, n->function);
    cs_json_write_key_c(w, "requestId");
    cs_json_write_string_c(w, n->rec.request_id);
    cs_json_write_key_c(w, "outcome");
    cs_json_write_string_c(w, outcome_name(n->rec.outcome));
    snprintf(number, sizeof(number), "%.2f", n->rec.duration_ms);
    cs_json_write_key_c(w, "durationMs");
    cs_json_write_number_text(w, cs_str_from_c(number));
    if (n->rec.init_ms >= 0) {
        snprintf(number, sizeof(number), "%.2f", n->rec.init_ms);
        cs_json_write_key_c(w, "initMs");
        cs_json_write_number_text(w, cs_str_from_c(number));
    }
    cs_json_write_object_end(w);
}

/* GET /_emulator/invocations: the recent invocations of every function,
 * oldest first. */
static enum MHD_Result handle_recent(em_service *svc, struct MHD_Connection *conn)
{
    named_record *all = calloc(svc->function_count * EM_POOL_RECENT + 1, sizeof(named_record));
    if (!all) {
        return MHD_NO;
    }
    size_t n = 0;
    em_invocation_record recs[EM_POOL_RECENT];
    for (size_t i = 0; i < svc->function_count; i++) {
        int count = em_pool_recent(svc->functions[i].pool, recs);
        for (int k = 0; k < count; k++) {
            all[n++] = (named_record){svc->functions[i].config.name, recs[k]};
        }
    }
    qsort(all, n, sizeof(*all), by_time);
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "invocations");
    cs_json_write_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        write_record(&w, &all[i]);
    }
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    free(all);
    enum MHD_Result ok =
        r ? MHD_NO : em_reply(conn, MHD_HTTP_OK, "application/json", body.data, body.len, NULL);
    cs_buf_clean_up(&body);
    return ok;
}

/* ---- HttpApi routes ---- */

/* The function whose HttpApi event matches; "$default" routes last. */
static function *route(em_service *svc, const char *method, const char *path,
                       em_path_params *params, char *route_key, size_t key_size)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < svc->function_count; i++) {
            const em_function *fn = &svc->template.functions[i];
            for (size_t k = 0; k < fn->http_count; k++) {
                const em_http_event *e = &fn->http[k];
                bool fallback = e->path.len == 0;
                bool method_ok = e->method.len == 0 || cs_str_eq_c(e->method, method);
                if (fallback != (pass == 1) || !method_ok ||
                    (!fallback && !em_http_route_matches(e->path, cs_str_from_c(path), params))) {
                    continue;
                }
                params->count = fallback ? 0 : params->count;
                snprintf(route_key, key_size, fallback ? "$default" : "%.*s %.*s",
                         e->method.len ? (int)e->method.len : 3,
                         e->method.len ? e->method.ptr : "ANY", CS_STR_FMT(e->path));
                return &svc->functions[i];
            }
        }
    }
    return NULL;
}

/* /_url/{function}/{path}: the function's URL (FunctionUrlConfig), which
 * AWS serves on a host of its own; *rest is the path the function sees. */
static function *function_url(em_service *svc, const char *url, const char **rest)
{
    static const char prefix[] = "/_url/";
    if (strncmp(url, prefix, strlen(prefix)) != 0) {
        return NULL;
    }
    const char *name = url + strlen(prefix);
    const char *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    *rest = slash ? slash : "/";
    for (size_t i = 0; i < svc->function_count; i++) {
        if (svc->template.functions[i].function_url &&
            strlen(svc->functions[i].config.name) == len &&
            strncmp(svc->functions[i].config.name, name, len) == 0) {
            return &svc->functions[i];
        }
    }
    return NULL;
}

/* A request on an HttpApi route: the payload 2.0 event in, the function's
 * answer out, as API Gateway does (500 for a failed function, 503 when it
 * is at its concurrency limit). */
static enum MHD_Result handle_http(em_service *svc, function *f, struct MHD_Connection *conn,
                                   const char *method, const char *url, const char *route_key,
                                   const em_path_params *params, em_upload *up)
{
    char id[CS_UUID_STR_LEN];
    cs_uuid_v4(id);
    em_http_request req = {.conn = conn,
                           .method = method,
                           .path = url,
                           .body = cs_str_make(up->data ? up->data : "", up->len),
                           .route_key = route_key,
                           .params = params,
                           .request_id = id,
                           .port = svc->port};
    cs_buf event;
    cs_buf_init(&event, 0);
    cs_diag diag;
    em_result result;
    cs_error r = em_http_event_write(&req, &event, &diag);
    if (!r) {
        r = em_pool_invoke(f->pool, id, cs_str_make(event.data, event.len), NULL, false, &result,
                           &diag);
    }
    cs_buf_clean_up(&event);
    if (r) {
        bool busy = r == CS_ERR_BUSY;
        const char *body = busy ? "{\"message\":\"Service Unavailable\"}"
                                : "{\"message\":\"Internal Server Error\"}";
        return em_reply(conn, busy ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "application/json", body, strlen(body), NULL);
    }
    enum MHD_Result ok =
        result.outcome == EM_OUTCOME_OK
            ? em_http_respond(conn, cs_str_make(result.payload, result.payload_len))
            : em_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                       "{\"message\":\"Internal Server Error\"}", 35, NULL);
    em_result_clean_up(&result);
    return ok;
}

/* The function name in /2015-03-31/functions/{name}/invocations. */
static bool invoke_path(const char *url, cs_str *name)
{
    size_t len = strlen(url), prefix = strlen(invoke_prefix), suffix = strlen(invoke_suffix);
    if (len <= prefix + suffix || strncmp(url, invoke_prefix, prefix) != 0 ||
        strcmp(url + len - suffix, invoke_suffix) != 0) {
        return false;
    }
    *name = cs_str_make(url + prefix, len - prefix - suffix);
    return cs_str_find_char(*name, '/', 0) < 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    em_service *svc = cls;
    em_upload *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof(em_upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        em_upload_collect(up, data, *data_size, MAX_PAYLOAD_BYTES);
        *data_size = 0;
        return MHD_YES;
    }
    cs_str name;
    if (strcmp(method, "POST") == 0 && invoke_path(url, &name)) {
        return handle_invoke(svc, conn, name, up);
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/_emulator/invocations") == 0) {
        return handle_recent(svc, conn);
    }
    if (strcmp(method, "POST") == 0 && strncmp(url, fire_prefix, strlen(fire_prefix)) == 0) {
        return handle_fire(svc, conn, url + strlen(fire_prefix));
    }
    const char *target = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Target");
    if (strcmp(method, "POST") == 0 && strcmp(url, "/") == 0 && target &&
        strncmp(target, "AmazonSQS.", 10) == 0) {
        return em_sqs_api_handle(&svc->sqs, conn, target,
                                 cs_str_make(up->data ? up->data : "", up->len));
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/") == 0 && target &&
        strncmp(target, "secretsmanager.", 15) == 0) {
        const char *authorization =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        return em_secrets_api_handle(&svc->secrets, conn, target, authorization,
                                     cs_str_make(up->data ? up->data : "", up->len));
    }
    em_path_params params = {0};
    const char *rest;
    function *f = function_url(svc, url, &rest);
    if (f) {
        return handle_http(svc, f, conn, method, rest, "$default", &params, up);
    }
    char route_key[300];
    f = route(svc, method, url, &params, route_key, sizeof(route_key));
    if (f) {
        return handle_http(svc, f, conn, method, url, route_key, &params, up);
    }
    char message[300];
    snprintf(message, sizeof(message), "%s %.200s is not an operation the emulator serves", method,
             url);
    return aws_error(conn, MHD_HTTP_NOT_FOUND, "UnknownOperationException", message);
}

static cs_error serve(em_service *svc, uint16_t port, cs_diag *diag)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    svc->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
        NULL, on_request, svc, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
        em_upload_completed, NULL, MHD_OPTION_END);
    if (!svc->daemon) {
        return cs_diag_set(diag, CS_ERR_IO, "cannot listen on 127.0.0.1:%u", (unsigned)port);
    }
    svc->port = MHD_get_daemon_info(svc->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(svc->sqs_endpoint, sizeof(svc->sqs_endpoint), "http://127.0.0.1:%u",
             (unsigned)svc->port);
    return CS_ERR_OK;
}

/* ---- lifecycle ---- */

static cs_error open_store(em_service *svc, const char *state_dir, cs_diag *diag)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/queues.db", state_dir ? state_dir : ".");
    return em_queues_open(path, &svc->queues, diag);
}

static cs_error start_workers(em_service *svc, cs_diag *diag)
{
    for (size_t i = 0; i < svc->function_count; i++) {
        function *f = &svc->functions[i];
        if (pthread_create(&f->worker, NULL, async_worker, f) != 0) {
            return cs_diag_set(diag, CS_ERR_NOMEM, "cannot start a worker for '%s'",
                               f->config.name);
        }
        f->worker_started = true;
    }
    return CS_ERR_OK;
}

cs_error em_service_start(const em_service_opts *opts, cs_problems *warnings, em_service **out,
                          cs_diag *diag)
{
    em_service *svc = calloc(1, sizeof(*svc));
    if (!svc) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    cs_arena_init(&svc->arena, 0, 0);
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->wake, NULL);
    snprintf(svc->region, sizeof(svc->region), "%s", opts->region ? opts->region : "eu-west-1");
    em_template_opts topts = {.region = svc->region, .overrides = opts->overrides};
    cs_str text;
    cs_error r = read_text(opts->template_path, &svc->arena, &text, diag);
    if (!r) {
        r = em_template_load(&svc->arena, text, &topts, &svc->template, warnings, diag);
    }
    if (!r) {
        r = load_secrets(svc, opts->secrets, diag);
    }
    if (!r) {
        r = open_store(svc, opts->state_dir, diag);
    }
    if (!r) {
        r = define_template_queues(svc, diag);
    }
    if (!r) {
        r = load_functions(svc, opts, diag);
    }
    if (!r) {
        r = start_workers(svc, diag);
    }
    if (!r) {
        r = start_mappings(svc, diag);
    }
    if (!r) {
        r = add_schedules(svc, diag);
    }
    svc->sqs =
        (em_sqs_api){.queues = svc->queues, .region = svc->region, .arrived = arrived, .user = svc};
    if (!r) {
        r = serve(svc, opts->port, diag);
        svc->sqs.port = svc->port;
    }
    if (r) {
        em_service_stop(svc);
        return r;
    }
    *out = svc;
    return CS_ERR_OK;
}

uint16_t em_service_port(const em_service *svc)
{
    return svc->port;
}

void em_service_stop(em_service *svc)
{
    if (!svc) {
        return;
    }
    if (svc->daemon) {
        MHD_stop_daemon(svc->daemon);
    }
    em_scheduler_destroy(svc->scheduler);
    for (size_t i = 0; i < svc->mapping_count; i++) {
        em_esm_stop(svc->mappings[i].esm);
    }
    pthread_mutex_lock(&svc->mu);
    svc->stopping = true;
    pthread_cond_broadcast(&svc->wake);
    pthread_mutex_unlock(&svc->mu);
    for (size_t i = 0; i < svc->function_count; i++) {
        if (svc->functions[i].worker_started) {
            pthread_join(svc->functions[i].worker, NULL);
        }
        em_pool_destroy(svc->functions[i].pool);
    }
    em_queues_close(svc->queues);
    pthread_cond_destroy(&svc->wake);
    pthread_mutex_destroy(&svc->mu);
    cs_arena_clean_up(&svc->arena);
    free(svc);
}
