/* What a job does to MAX: each change (the order's create, its cancel, a
 * credit memo per refund) once and only once.
 *
 * Every change has an idempotency record (the order's key and the change:
 * "create", "cancel", "return:<id>"), taken with a lease and completed with
 * MAX's order number, so duplicates and redeliveries are no-ops. MAX's own
 * key covers a crash between a change and its state write: a repeated
 * create or credit memo answers the order it made (the customer PO), a
 * repeated cancel finds the order cancelled. */
#include <stdio.h>
#include <string.h>

#include "core/money.h"
#include "core/timestamp.h"
#include "export/export.h"

enum { BUSY_WAITS = 40 }; /* 2 s: a duplicate another instance is exporting */
/* A change's lease lasts until its invocation's deadline, past which Lambda
 * has stopped the instance whatever happened to it, and a margin for the
 * instances' clocks: a record whose owner was killed mid-change is free
 * again as soon as that owner can no longer be running. Without a
 * deadline, LEASE_MS. */
static const int64_t LEASE_MARGIN_MS = 5000;
static const int64_t LEASE_MS = 15 * 60 * 1000;
/* Far past Shopify's 48 hours of redelivery and SQS's 14 days of retention. */
static const int64_t IDEM_TTL_MS = 90LL * 24 * 3600 * 1000;

bool cs_export_transient(cs_error e)
{
    return e == CS_ERR_HTTP_TRANSIENT || e == CS_ERR_HTTP || e == CS_ERR_DEADLINE ||
           e == CS_ERR_BUSY || e == CS_ERR_STORAGE || e == CS_ERR_AWS || e == CS_ERR_TLS ||
           e == CS_ERR_ARENA_FULL || e == CS_ERR_NOMEM;
}

/* One change: does it and says what MAX calls the result (an order number). */
typedef cs_error (*change_fn)(cs_export *x, const cs_export_job *job, const void *arg,
                              cs_arena *arena, char ord_num[16], bool *existed, cs_diag *diag);

/* A change with what it needs, for cs_flow_once. */
typedef struct change_step {
    cs_export *x;
    const cs_export_job *job;
    change_fn fn;
    const void *arg;
    cs_arena *arena;
} change_step;

static cs_error run_step(void *user, char result[256], bool *existed, cs_diag *diag)
{
    const change_step *s = user;
    char ord_num[16] = "";
    cs_error r = s->fn(s->x, s->job, s->arg, s->arena, ord_num, existed, diag);
    snprintf(result, 256, "%s", ord_num);
    return r;
}

cs_error cs_export_max_all(cs_export *x, const char *resource, cs_arena *arena, bool reset,
                           cs_export_max_each_fn each, void *user, cs_diag *diag)
{
    cs_exactmax_cursor cursor = {0};
    bool more = true;
    cs_error r = CS_ERR_OK;
    while (!r && more) {
        if (reset) {
            cs_arena_reset(arena);
        }
        const cs_json *items = NULL;
        r = cs_exactmax_page(x->systems.max, resource, NULL, 500, &cursor, arena, &items, &more,
                             diag);
        for (const cs_json *it = items ? items->first : NULL; !r && it; it = it->next) {
            r = each(user, it, diag);
        }
    }
    return r;
}

cs_once cs_export_once(const cs_export *x, cs_str record, cs_str version, const char *scope)
{
    return (cs_once){
        .record = record,
        .version = version,
        .scope = scope,
        .owner = x->owner,
        .lease_ms = x->deadline_ms ? x->deadline_ms - cs_time_now_ms() + LEASE_MARGIN_MS : LEASE_MS,
        .ttl_ms = IDEM_TTL_MS,
        .attempts = BUSY_WAITS,
        .deadline_ms = x->deadline_ms,
        .transient = cs_export_transient};
}

/* Runs the change under its idempotency record (the order's key and the
 * change). MAX's own keys stand behind a change whose state write fails:
 * the redelivery finds it in MAX, a retry, never an error-queue entry for
 * a change that went through. */
static cs_outcome once(cs_export *x, const cs_export_job *job, cs_str version, change_fn fn,
                       const void *arg, cs_arena *arena, char ord_num[16], cs_error *error,
                       cs_diag *diag)
{
    cs_once o = cs_export_once(x, job->key, version, CS_EXPORT_SCOPE);
    change_step s = {x, job, fn, arg, arena};
    char result[256] = "";
    cs_outcome outcome = cs_flow_once(&x->flow, &o, run_step, &s, result, error, diag);
    snprintf(ord_num, 16, "%.15s", result);
    return outcome;
}

/* The site's order options with the store's account and stockroom. */
static bool store_opts(const cs_export *x, cs_str store, cs_exactmax_order_opts *opts,
                       cs_problems *problems)
{
    *opts = x->opts;
    if (!cs_lookup_find(x->stores, store, CS_STR_LIT("account"), &opts->cust_id) ||
        !cs_lookup_find(x->stores, store, CS_STR_LIT("stockroom"), &opts->stockroom)) {
        cs_problems_add(problems, "store_code", "unknown_store",
                        "store '%.*s' is not in the stores table", CS_STR_FMT(store));
        return false;
    }
    return true;
}

cs_error cs_export_encode(const cs_export *x, const cs_export_job *job, const cs_return *ret,
                          cs_str account, cs_arena *arena, cs_buf *body, cs_diag *diag)
{
    cs_problems problems;
    cs_problems_init(&problems, arena);
    cs_exactmax_order_opts opts;
    if (store_opts(x, job->order->store_code, &opts, &problems)) {
        opts.cust_id = account.len ? account : opts.cust_id;
        if (ret) {
            cs_exactmax_credit_memo_encode(ret, job->order, &opts, body, &problems);
        } else {
            cs_exactmax_order_encode(job->order, &opts, body, &problems);
        }
    }
    return cs_problems_total(&problems)
               ? cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag)
               : CS_ERR_OK;
}

/* Sends the POST /sales-orders body of the order (ret NULL) or a credit
 * memo. */
static cs_error post_order(cs_export *x, const cs_export_job *job, const cs_return *ret,
                           cs_str account, cs_arena *arena, char ord_num[16], bool *existed,
                           cs_diag *diag)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_error r = cs_export_encode(x, job, ret, account, arena, &body, diag);
    if (!r) {
        r = cs_exactmax_create_order(x->systems.max, cs_buf_view(&body), ord_num, existed, diag);
    }
    cs_buf_clean_up(&body);
    return r;
}

/* The create, on the customer's account, and the id map the cancel of a
 * message without the order reads (written before the idempotency record
 * completes, so a completed create always has it). */
static cs_error create(cs_export *x, const cs_export_job *job, const void *arg, cs_arena *arena,
                       char ord_num[16], bool *existed, cs_diag *diag)
{
    (void)arg;
    cs_str account;
    cs_error r = cs_export_order_account(x, job, arena, &account, diag);
    if (!r) {
        r = post_order(x, job, NULL, account, arena, ord_num, existed, diag);
    }
    return r ? r
             : cs_state_idmap_put(x->flow.state, "order", job->source, job->key, CS_SYS_EXACTMAX,
                                  cs_str_from_c(ord_num), diag);
}

/* A credit memo and the MAX order it credits. */
typedef struct memo_step {
    const cs_return *ret;
    const char *original; /* MAX's order number */
} memo_step;

/* The memo goes on the account its order is on in MAX, whichever that
 * is (an order exported before its customer had an account is on the
 * web account). */
static cs_error credit(cs_export *x, const cs_export_job *job, const void *arg, cs_arena *arena,
                       char ord_num[16], bool *existed, cs_diag *diag)
{
    const memo_step *m = arg;
    const cs_json *original = NULL;
    cs_error r =
        cs_exactmax_get_order(x->systems.max, cs_str_from_c(m->original), arena, &original, diag);
    const cs_json *cust_id = r ? NULL : cs_json_object_get(original, CS_STR_LIT("custId"));
    if (!r && (!cust_id || cust_id->type != CS_JSON_STRING)) {
        r = cs_diag_set(diag, CS_ERR_HTTP_PERMANENT, "MAX order %s has no custId", m->original);
    }
    return r ? r : post_order(x, job, m->ret, cust_id->text, arena, ord_num, existed, diag);
}

/* Cancels the order (status 5). MAX answers CLOSED_ORDER for an order that
 * is cancelled already, as after a crash before the state write: read, it
 * is a duplicate; closed any other way (shipped, invoiced) it cannot be
 * cancelled, which is the record's error. */
static cs_error cancel(cs_export *x, const cs_export_job *job, const void *arg, cs_arena *arena,
                       char ord_num[16], bool *existed, cs_diag *diag)
{
    (void)job;
    cs_str number = cs_str_from_c((const char *)arg);
    snprintf(ord_num, 16, "%.*s", CS_STR_FMT(number));
    const cs_json *order = NULL;
    cs_error r = cs_exactmax_update_order(x->systems.max, number, CS_STR_LIT("{\"status\":\"5\"}"),
                                          CS_STR_NULL, arena, &order, diag);
    if (r && strcmp(diag->field, "CLOSED_ORDER") == 0) {
        cs_diag closed = *diag;
        r = cs_exactmax_get_order(x->systems.max, number, arena, &order, diag);
        const cs_json *status = cs_json_object_get(order, CS_STR_LIT("status"));
        *existed = !r && status && cs_str_eq_c(status->text, "5");
        if (!r && !*existed) {
            *diag = closed;
            r = closed.code;
        }
    }
    return r;
}

/* MAX's number for an order exported before, for a message that does not
 * carry the order. Not there yet (the create is still on its way, behind
 * this message): a retry. */
static cs_outcome find_exported(cs_export *x, const cs_export_job *job, char ord_num[16],
                                cs_error *error, cs_diag *diag)
{
    bool found = false;
    *error = cs_state_idmap_get(x->flow.state, "order", job->source, job->key, CS_SYS_EXACTMAX,
                                ord_num, 16, &found, diag);
    if (!*error && !found) {
        *error =
            cs_diag_set(diag, CS_ERR_NOT_FOUND, "%.*s is not in MAX yet", CS_STR_FMT(job->key));
    }
    return *error ? CS_OUTCOME_RETRY : CS_OUTCOME_DUPLICATE;
}

/* A job's outcome is its worst step's: written when any step wrote and
 * none needs a retry or failed. */
static cs_outcome worse(cs_outcome a, cs_outcome b)
{
    return a > b ? a : b;
}

static bool stops(cs_outcome o)
{
    return o == CS_OUTCOME_RETRY || o == CS_OUTCOME_FAILED;
}

void cs_export_apply(cs_export *x, const cs_export_job *job, cs_arena *arena, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    char ord_num[16] = "";
    cs_outcome o = job->order ? once(x, job, CS_STR_LIT("create"), create, NULL, arena, ord_num,
                                     &out->error, diag)
                              : find_exported(x, job, ord_num, &out->error, diag);
    bool wrote = o == CS_OUTCOME_WRITTEN;
    if (job->order && o == CS_OUTCOME_DUPLICATE && !job->cancel) {
        o = cs_export_edit(x, job, ord_num, arena, &out->error, diag);
    }
    if (job->cancel && !stops(o)) {
        char *number = cs_arena_strndup(arena, cs_str_from_c(ord_num));
        char cancelled[16] = "";
        cs_outcome step =
            once(x, job, CS_STR_LIT("cancel"), cancel, number, arena, cancelled, &out->error, diag);
        wrote = wrote || step == CS_OUTCOME_WRITTEN;
        o = worse(o, step);
    }
    for (size_t i = 0; i < job->return_count && !stops(o); i++) {
        const cs_return *ret = &job->returns[i];
        cs_str version =
            cs_str_from_c(cs_arena_sprintf(arena, "return:%.*s", CS_STR_FMT(ret->meta.source_id)));
        char memo[16] = "";
        memo_step m = {ret, ord_num};
        cs_outcome step = once(x, job, version, credit, &m, arena, memo, &out->error, diag);
        wrote = wrote || step == CS_OUTCOME_WRITTEN;
        o = worse(o, step);
    }
    out->outcome = !stops(o) && wrote ? CS_OUTCOME_WRITTEN : o;
    out->target_id = cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(ord_num)));
}
