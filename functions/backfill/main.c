/* backfill: a full load of a date range into the ERP, and replay
 * of the error queue.
 *
 * Invoked directly (or by its schedule, with the same payload):
 *
 *   {"run": "autumn", "from": "2026-09-01T00:00:00Z", "to": "2026-11-01T00:00:00Z",
 *    "page_size": 250, "entities": ["customers", "products", "orders"]}
 *     Every storefront's customers updated in [from, to), its whole
 *     catalog, then its orders updated in [from, to), page by page. A
 *     customer is found in MAX or given an account (shared/export/
 *     customers.c; only with a customer_export section, and then the
 *     default); a variant is linked to the MAX part its SKU maps to, or
 *     goes to the error queue when orders could not use it (products.c);
 *     an order is applied as a webhook would be (one sales order per
 *     order, whichever way it came). The checkpoint
 *     (the last record through, per store and entity) is saved after every
 *     page, so an invocation that runs out of time, or dies, is resumed by
 *     invoking the same payload again. A "progress" line per page: done,
 *     total (estimated from the share of the range covered), rate and ETA.
 *     Answers {"run", "read", "done", "complete", "blocked"} over both,
 *     and each entity's {"read", "done", "complete"} under its name.
 *
 *   {"replay": {"max": 100}}
 *     The open error-queue entries of the order exporters (order-export,
 *     backfill) applied again from their snapshots, after the config or the
 *     data was fixed: an entry that goes through is marked "replayed"; one
 *     that fails again stays open with one more attempt.
 *     Answers {"entries", "replayed", "failed", "retry", "skipped"}. */
#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "export/export.h"
#include "runtime.h"

enum { DEFAULT_PAGE = 100, MAX_PAGE = 250 };
static const int64_t STOP_BEFORE_DEADLINE_MS = 20000;

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    cs_export *x = user;
    cs_error r = cs_flow_init(&x->flow, "backfill", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c,
                        CS_USE_EXACTMAX | CS_USE_SHOPIFY_API | CS_USE_COMMERCETOOLS |
                            CS_USE_WEBHOOKS); /* replayed webhooks are verified again */
    cs_export_read_config(x, c);
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

/* No page starts after this: time enough left to save and answer. */
static int64_t stop_at(const cs_invocation *inv)
{
    int64_t now = cs_time_now_ms();
    if (!inv->deadline_ms) {
        return INT64_MAX;
    }
    int64_t left = inv->deadline_ms - now;
    return now + (left > 2 * STOP_BEFORE_DEADLINE_MS ? left - STOP_BEFORE_DEADLINE_MS : left / 2);
}

/* ---- the load ---- */

typedef struct load_request {
    char run[64];
    int64_t from_ms, to_ms;
    int page_size;
    bool entities[3]; /* by cs_export_entity */
} load_request;

/* The entities by cs_export_entity, and the order a load takes them in. */
static const char *const entity_names[] = {"orders", "customers", "products"};
static const cs_export_entity load_order[] = {CS_EXPORT_CUSTOMERS, CS_EXPORT_PRODUCTS,
                                              CS_EXPORT_ORDERS};

static cs_error read_time(const cs_json *doc, const char *key, int64_t *out, cs_diag *diag)
{
    cs_str text;
    cs_error r = cs_json_get_string(doc, key, &text, diag);
    if (!r && cs_time_parse_rfc3339(text, out, NULL, diag)) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "%s: not an RFC 3339 time: '%.*s'", key,
                        CS_STR_FMT(text));
    }
    return r;
}

static int entity_named(cs_str name)
{
    for (int i = 0; i < 3; i++) {
        if (cs_str_eq_c(name, entity_names[i])) {
            return i;
        }
    }
    return -1;
}

/* "entities": which to load; by default all three (customers only when
 * configured). */
static cs_error read_entities(const cs_export *x, const cs_json *doc, load_request *req,
                              cs_diag *diag)
{
    const cs_json *list = cs_json_object_get(doc, CS_STR_LIT("entities"));
    for (int i = 0; i < 3; i++) {
        req->entities[i] = !list && (i != CS_EXPORT_CUSTOMERS || x->customers.enabled);
    }
    if (list && (list->type != CS_JSON_ARRAY || !list->count)) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "entities: a list of \"customers\", \"products\" and \"orders\"");
    }
    size_t i = 0;
    for (const cs_json *e = list ? list->first : NULL; e; e = e->next, i++) {
        int entity = e->type == CS_JSON_STRING ? entity_named(e->text) : -1;
        if (entity < 0) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "entities[%zu]: \"customers\", \"products\" or \"orders\"", i);
        }
        if (entity == CS_EXPORT_CUSTOMERS && !x->customers.enabled) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "entities[%zu]: customers need the config's customer_export", i);
        }
        req->entities[entity] = true;
    }
    return CS_ERR_OK;
}

static cs_error read_load(const cs_export *x, const cs_json *doc, load_request *req, cs_diag *diag)
{
    cs_str run;
    int64_t page = DEFAULT_PAGE;
    cs_error r = cs_json_get_string(doc, "run", &run, diag);
    if (!r && (run.len == 0 || run.len >= sizeof(req->run))) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "run: a name of 1 to %zu characters",
                        sizeof(req->run) - 1);
    }
    if (!r) {
        snprintf(req->run, sizeof(req->run), "%.*s", CS_STR_FMT(run));
        r = read_time(doc, "from", &req->from_ms, diag);
    }
    if (!r) {
        r = read_time(doc, "to", &req->to_ms, diag);
    }
    if (!r && req->to_ms <= req->from_ms) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "to: must be after from");
    }
    if (!r && cs_json_object_get(doc, CS_STR_LIT("page_size"))) {
        r = cs_json_get_int64(doc, "page_size", &page, diag);
        if (!r && (page < 1 || page > MAX_PAGE)) {
            r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "page_size: 1 to %d", MAX_PAGE);
        }
    }
    req->page_size = (int)page;
    return r ? r : read_entities(x, doc, req, diag);
}

/* The run's count of orders done, kept beside its checkpoints. */
static cs_error run_done(cs_export *x, const char *run, int64_t *done, bool save, cs_diag *diag)
{
    cs_cursor c = {.updated_at_ms = *done};
    if (save) {
        return cs_state_cursor_put(x->flow.state, x->flow.name, run, "#done", &c, diag);
    }
    bool found = false;
    cs_error r = cs_state_cursor_get(x->flow.state, x->flow.name, run, "#done", &c, &found, diag);
    *done = found ? c.updated_at_ms : 0;
    return r;
}

/* One entity of the load, from its checkpoints; its answer under its name. */
static cs_error load_entity(cs_export *x, const load_request *req, const cs_invocation *inv,
                            cs_export_entity entity, cs_export_sweep_opts *total, cs_buf *response,
                            cs_diag *diag)
{
    char source[96];
    const char *name = entity_names[entity];
    /* Orders keep the run's first checkpoints' name, from before entities. */
    snprintf(source, sizeof(source), "run:%s%s%s", req->run, entity == CS_EXPORT_ORDERS ? "" : "/",
             entity == CS_EXPORT_ORDERS ? "" : name);
    cs_export_sweep_opts s = {.flow = x->flow.name,
                              .source = source,
                              .from_ms = req->from_ms,
                              .to_ms = req->to_ms,
                              .page_size = req->page_size,
                              .stop_at_ms = stop_at(inv),
                              .progress = true,
                              .entity = entity};
    cs_error r = run_done(x, source, &s.done, false, diag);
    if (!r) {
        r = cs_export_sweep(x, &s, diag);
        cs_diag ignored;
        run_done(x, source, &s.done, true, r ? &ignored : diag);
    }
    total->read += s.read;
    total->done += s.done;
    total->complete = total->complete && s.complete;
    total->blocked = total->blocked || s.blocked;
    return r ? r
             : cs_buf_appendf(response, "\"%s\":{\"read\":%lld,\"done\":%lld,\"complete\":%s},",
                              name, (long long)s.read, (long long)s.done,
                              s.complete ? "true" : "false");
}

static cs_error load(cs_export *x, const cs_invocation *inv, const cs_json *doc, cs_buf *response,
                     cs_diag *diag)
{
    load_request req;
    cs_error r = read_load(x, doc, &req, diag);
    cs_export_sweep_opts total = {.complete = true};
    if (!r) {
        r = cs_buf_append_c(response, "{");
    }
    for (size_t i = 0; !r && i < 3; i++) {
        if (req.entities[load_order[i]]) {
            r = load_entity(x, &req, inv, load_order[i], &total, response, diag);
        }
    }
    if (!r) {
        r = cs_buf_appendf(response,
                           "\"run\":\"%s\",\"read\":%lld,\"done\":%lld,\"complete\":%s,"
                           "\"blocked\":%s}",
                           req.run, (long long)total.read, (long long)total.done,
                           total.complete ? "true" : "false", total.blocked ? "true" : "false");
    }
    return r;
}

/* ---- replay ---- */

static bool exporter_entry(const cs_error_entry *e)
{
    return strcmp(e->flow, CS_EXPORT_SCOPE) == 0 || strcmp(e->flow, "backfill") == 0;
}

static cs_outcome replay_one(void *user, const cs_error_entry *e, cs_str snapshot, cs_arena *arena)
{
    return cs_export_replay(user, e, snapshot, arena);
}

static cs_error replay(cs_export *x, const cs_invocation *inv, const cs_json *what,
                       cs_buf *response, cs_diag *diag)
{
    cs_replay r = {.mine = exporter_entry, .apply = replay_one, .user = x, .stop_ms = stop_at(inv)};
    return cs_flow_replay(&x->flow, &r, what, inv->arena, response, diag);
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    cs_export *x = user;
    cs_export_start(x, inv->request_id, inv->deadline_ms);
    cs_json *doc;
    cs_error r = cs_json_parse(inv->arena, inv->event, &doc, diag);
    const cs_json *what = r ? NULL : cs_json_object_get(doc, CS_STR_LIT("replay"));
    if (!r) {
        r = what ? replay(x, inv, what, response, diag) : load(x, inv, doc, response, diag);
    }
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static cs_export x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_export_clean_up(&x);
    return status;
}
