#include "runtime.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/timestamp.h"
#include "rapi.h"

enum {
    DEFAULT_ARENA_MAX = 64 * 1024 * 1024,
    /* Events larger than this are refused; Lambda's own cap is 6 MB. */
    MAX_EVENT_BYTES = 16 * 1024 * 1024,
    NEXT_ATTEMPTS = 6,
    NEXT_BACKOFF_FIRST_MS = 10,
    NEXT_BACKOFF_MAX_MS = 1000,
};

/* What one GET /next leads to. */
typedef enum next_step { STEP_INVOKE, STEP_RETRY, STEP_STOP, STEP_FATAL } next_step;

typedef struct runtime {
    const cs_runtime_opts *opts;
    cs_logger log;
    rapi_client rapi;
    cs_arena process_arena;
    cs_arena arena;
    cs_buf response;
    cs_buf error_body;
    cs_buf error_message;
} runtime;

static volatile sig_atomic_t stop_requested;

static void on_sigterm(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_sigterm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

int64_t cs_invocation_remaining_ms(const cs_invocation *inv)
{
    if (inv->deadline_ms == 0) {
        return INT64_MAX;
    }
    return inv->deadline_ms - cs_time_now_ms();
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Request ids go into URL paths; anything outside this set is a broken API. */
static int request_id_ok(cs_str id)
{
    if (id.len == 0 || id.len > 128) {
        return 0;
    }
    for (size_t i = 0; i < id.len; i++) {
        char c = id.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

/* {"errorMessage":..., "errorType":..., "stackTrace":[]} into rt->error_body.
 * A message may quote input (and be cut mid-character), so its UTF-8 is
 * repaired first: the error must reach Lambda whatever it says. */
static cs_str error_document(runtime *rt, const char *error_type, const char *message)
{
    cs_buf_reset(&rt->error_message);
    cs_buf_append_valid_utf8(&rt->error_message, cs_str_from_c(message));
    cs_json_writer w;
    cs_buf_reset(&rt->error_body);
    if (cs_json_writer_init(&w, &rt->error_body)) {
        return CS_STR_NULL;
    }
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "errorMessage");
    cs_json_write_string(&w, cs_buf_view(&rt->error_message));
    cs_json_write_key_c(&w, "errorType");
    cs_json_write_string_c(&w, error_type);
    cs_json_write_key_c(&w, "stackTrace");
    cs_json_write_array_begin(&w);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_error result = cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    return result ? CS_STR_NULL : cs_buf_view(&rt->error_body);
}

/* Posts a body; true when the Runtime API answered 500 and the process must
 * exit. Other failures are logged: Lambda times the invocation out. */
static bool post(runtime *rt, const char *path, cs_str body, const char *error_type)
{
    long status = 0;
    cs_diag diag;
    cs_error result = rapi_post(&rt->rapi, path, body, error_type, &status, &diag);
    if (result) {
        CS_LOG(&rt->log, CS_LOG_ERROR, "posting to the Runtime API failed",
               CS_LOG_CSTR("path", path), CS_LOG_CSTR("error", diag.message));
        return false;
    }
    if (status == 500) {
        CS_LOG(&rt->log, CS_LOG_FATAL, "Runtime API answered 500; exiting",
               CS_LOG_CSTR("path", path));
        return true;
    }
    if (status != 202) {
        CS_LOG(&rt->log, CS_LOG_ERROR, "Runtime API refused a post", CS_LOG_CSTR("path", path),
               CS_LOG_INT("status", status), CS_LOG_STR("body", cs_buf_view(&rt->rapi.body)));
    }
    return false;
}

static bool post_error(runtime *rt, const char *path, const char *error_type, const char *message)
{
    CS_LOG(&rt->log, CS_LOG_ERROR, message, CS_LOG_CSTR("errorType", error_type));
    return post(rt, path, error_document(rt, error_type, message), error_type);
}

static bool post_invocation_error(runtime *rt, cs_str request_id, const char *error_type,
                                  const char *message)
{
    char path[256];
    snprintf(path, sizeof(path), "/invocation/%.*s/error", CS_STR_FMT(request_id));
    return post_error(rt, path, error_type, message);
}

/* One GET /next: decides whether to invoke, retry or stop. */
static next_step classify_next(runtime *rt, cs_error result, long status, const rapi_event *ev,
                               cs_diag *diag)
{
    if (stop_requested) {
        return STEP_STOP;
    }
    if (!result && status == 500) {
        CS_LOG(&rt->log, CS_LOG_FATAL, "Runtime API answered 500 to /next; exiting",
               CS_LOG_STR("body", cs_buf_view(&rt->rapi.body)));
        return STEP_FATAL;
    }
    if (rt->rapi.body_too_large && request_id_ok(ev->request_id)) {
        bool fatal = post_invocation_error(rt, ev->request_id, "Runtime.EventTooLarge",
                                           "event larger than the runtime accepts");
        return fatal ? STEP_FATAL : STEP_RETRY;
    }
    if (!result && status == 200 && request_id_ok(ev->request_id)) {
        return STEP_INVOKE;
    }
    if (!result) {
        cs_diag_set(diag, CS_ERR_RUNTIME_API, "/next answered %ld%s", status,
                    status == 200 ? " without a usable request id" : "");
    }
    return STEP_RETRY;
}

/* GET /next until an event arrives, retrying transient failures with
 * exponential backoff; gives up after NEXT_ATTEMPTS failures in a row. An
 * event answered without invoking (too large) is not a failure. */
static next_step next_event(runtime *rt, rapi_event *ev)
{
    int64_t backoff_ms = NEXT_BACKOFF_FIRST_MS;
    int failures = 0;
    while (failures < NEXT_ATTEMPTS) {
        long status = 0;
        cs_diag diag;
        cs_diag_clear(&diag);
        cs_arena_reset(&rt->arena);
        cs_error result = rapi_next(&rt->rapi, &rt->arena, ev, &status, &diag);
        next_step step = classify_next(rt, result, status, ev, &diag);
        if (step != STEP_RETRY) {
            return step;
        }
        if (rt->rapi.body_too_large) {
            continue;
        }
        failures++;
        CS_LOG(&rt->log, CS_LOG_WARN, "GET /next failed; retrying", CS_LOG_INT("attempt", failures),
               CS_LOG_CSTR("error", diag.message), CS_LOG_INT("backoffMs", backoff_ms));
        if (failures < NEXT_ATTEMPTS) {
            sleep_ms(backoff_ms);
            backoff_ms =
                backoff_ms * 2 > NEXT_BACKOFF_MAX_MS ? NEXT_BACKOFF_MAX_MS : backoff_ms * 2;
        }
    }
    CS_LOG(&rt->log, CS_LOG_FATAL, "Runtime API unreachable; exiting",
           CS_LOG_INT("attempts", NEXT_ATTEMPTS));
    return STEP_FATAL;
}

static void fill_invocation(runtime *rt, const rapi_event *ev, cs_invocation *inv)
{
    memset(inv, 0, sizeof(*inv));
    inv->event = ev->body;
    inv->request_id = ev->request_id;
    inv->function_arn = ev->function_arn;
    inv->trace_id = ev->trace_id;
    inv->client_context = ev->client_context;
    inv->cognito_identity = ev->cognito_identity;
    inv->arena = &rt->arena;
    inv->log = &rt->log;
    if (cs_parse_int64(ev->deadline_ms, &inv->deadline_ms)) {
        inv->deadline_ms = 0;
    }
    if (ev->trace_id.len) {
        setenv("_X_AMZN_TRACE_ID", ev->trace_id.ptr, 1); /* header copies are NUL-terminated */
    } else {
        unsetenv("_X_AMZN_TRACE_ID");
    }
    cs_log_set_request_id(&rt->log, ev->request_id);
    cs_log_set_correlation_id(&rt->log, CS_STR_NULL);
}

/* Runs the handler on one event and posts the outcome; true when the
 * process must exit. */
static bool invoke(runtime *rt, const rapi_event *ev)
{
    cs_invocation inv;
    fill_invocation(rt, ev, &inv);
    cs_buf_reset(&rt->response);
    cs_diag diag;
    cs_diag_clear(&diag);
    cs_error result = rt->opts->handler(rt->opts->user, &inv, &rt->response, &diag);
    /* The response buffer holds at most Lambda's limit; a refused append,
     * whatever the handler made of it, means the response did not fit. */
    if (rt->response.refused) {
        char message[160];
        snprintf(message, sizeof(message), "response is over Lambda's %zu byte limit",
                 CS_RUNTIME_MAX_RESPONSE_BYTES);
        return post_invocation_error(rt, ev->request_id, "Function.ResponseSizeTooLarge", message);
    }
    if (result) {
        char error_type[96];
        snprintf(error_type, sizeof(error_type), "Function.%s", cs_error_name(result));
        return post_invocation_error(rt, ev->request_id, error_type,
                                     diag.message[0] ? diag.message : cs_error_message(result));
    }
    char path[256];
    snprintf(path, sizeof(path), "/invocation/%.*s/response", CS_STR_FMT(ev->request_id));
    return post(rt, path, cs_buf_view(&rt->response), NULL);
}

static int run_loop(runtime *rt)
{
    while (!stop_requested) {
        rapi_event ev;
        next_step step = next_event(rt, &ev);
        if (step == STEP_STOP) {
            break;
        }
        if (step == STEP_FATAL || invoke(rt, &ev)) {
            return 1;
        }
        cs_log_set_request_id(&rt->log, CS_STR_NULL);
    }
    cs_logf(&rt->log, CS_LOG_INFO, "SIGTERM received; runtime stopping");
    return 0;
}

static int run_init(runtime *rt)
{
    if (!rt->opts->init) {
        return 0;
    }
    cs_diag diag;
    cs_diag_clear(&diag);
    cs_error result = rt->opts->init(rt->opts->user, &rt->process_arena, &rt->log, &diag);
    if (!result) {
        return 0;
    }
    char error_type[96];
    snprintf(error_type, sizeof(error_type), "Runtime.%s", cs_error_name(result));
    post_error(rt, "/init/error", error_type,
               diag.message[0] ? diag.message : cs_error_message(result));
    return 1;
}

int cs_runtime_main(const cs_runtime_opts *opts)
{
    runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.opts = opts;
    cs_log_init(&rt.log, NULL, 1);
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api || !opts->handler) {
        cs_logf(&rt.log, CS_LOG_FATAL, "%s",
                !opts->handler ? "no handler given" : "AWS_LAMBDA_RUNTIME_API is not set");
        cs_log_clean_up(&rt.log);
        return 1;
    }
    install_sigterm();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cs_arena_init(&rt.process_arena, 0, 0);
    cs_arena_init(&rt.arena, opts->arena_block_bytes,
                  opts->arena_max_bytes ? opts->arena_max_bytes : DEFAULT_ARENA_MAX);
    cs_buf_init(&rt.response, CS_RUNTIME_MAX_RESPONSE_BYTES);
    cs_buf_init(&rt.error_body, 64 * 1024);
    cs_buf_init(&rt.error_message, 4 * 1024);
    cs_diag diag;
    int status = 1;
    if (rapi_init(&rt.rapi, api, MAX_EVENT_BYTES, &stop_requested, &diag)) {
        cs_logf(&rt.log, CS_LOG_FATAL, "%s", diag.message);
    } else if (run_init(&rt) == 0) {
        status = run_loop(&rt);
    }
    rapi_clean_up(&rt.rapi);
    cs_buf_clean_up(&rt.response);
    cs_buf_clean_up(&rt.error_body);
    cs_buf_clean_up(&rt.error_message);
    cs_arena_clean_up(&rt.arena);
    cs_arena_clean_up(&rt.process_arena);
    cs_log_clean_up(&rt.log);
    curl_global_cleanup();
    return status;
}
