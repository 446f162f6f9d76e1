/* Orders read from the storefronts' APIs, for the reconciliation poll and
 * backfills, and error-queue entries applied again (replay).
 *
 * An order read from an API becomes the same job a webhook would (its key
 * is the webhook's: "shopify:<store>:<id>", "commercetools:<id>"), so an
 * order that both a webhook and a poll bring is one sales order. Its
 * snapshot, for the error queue, is the order as the API gave it:
 * {"source": "shopify", "shop": "<domain>", "order": {GraphQL node}} or
 * {"source": "commercetools", "order": {...}}. */
#include <stdio.h>
#include <string.h>

#include "connectors/commercetools/order.h"
#include "connectors/shopify/order.h"
#include "connectors/shopify/refund.h"
#include "core/timestamp.h"
#include "export/export.h"

/* Orders per Shopify page: a query's cost must fit the shop's bucket
 * (1,000 points), and an order with its lines costs several. */
enum { SHOPIFY_MAX_PAGE = 100 };

cs_str cs_export_snapshot(const char *source, cs_str shop, const char *kind, const cs_json *record,
                          cs_arena *arena)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "source");
    cs_json_write_string_c(&w, source);
    if (shop.len) {
        cs_json_write_key_c(&w, "shop");
        cs_json_write_string(&w, shop);
    }
    cs_json_write_key_c(&w, kind);
    cs_json_write_value(&w, record);
    cs_json_write_object_end(&w);
    return cs_json_writer_to_arena(&w, &out, arena);
}

/* The job of a decoded order: its part numbers mapped and its checks run;
 * false (with *out failed) when it has problems. */
static bool order_job(cs_export *x, cs_system source, cs_order *o, cs_problems *problems,
                      cs_export_job *job, cs_record_result *out)
{
    if (!cs_problems_total(problems)) {
        cs_export_map_and_validate(x, o, problems);
    }
    if (cs_problems_total(problems)) {
        out->error = cs_problems_to_diag(problems, CS_ERR_INVALID_ARGUMENT, (cs_diag *)out->diag);
        return false;
    }
    *job = (cs_export_job){.source = source,
                           .key = out->correlation_id,
                           .order = o,
                           .cancel = cs_str_eq_c(o->order_status, "cancelled")};
    return true;
}

bool cs_export_begin(cs_record_result *out, cs_str key, cs_str source_id, cs_arena *arena)
{
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    *out = (cs_record_result){
        .outcome = CS_OUTCOME_FAILED, .correlation_id = key, .source_id = source_id, .diag = diag};
    if (!diag || !key.len) {
        *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        return false;
    }
    return true;
}

/* Applies the job, and gives a failure its snapshot: written only then,
 * since a backfill's orders mostly go through. */
static void apply_or_classify(cs_export *x, bool ok, const cs_export_job *job, const char *source,
                              cs_str shop, const cs_json *order, cs_arena *arena,
                              cs_record_result *out)
{
    if (ok) {
        cs_export_apply(x, job, arena, out);
    } else if (out->error && cs_export_transient(out->error)) {
        out->outcome = CS_OUTCOME_RETRY;
    }
    if (out->outcome == CS_OUTCOME_FAILED) {
        out->snapshot = cs_export_snapshot(source, shop, "order", order, arena);
        if (!out->snapshot.len) {
            out->outcome = CS_OUTCOME_RETRY;
            out->error = CS_ERR_ARENA_FULL;
        }
    }
}

/* ---- Shopify ---- */

static void shopify_order(cs_export *x, const cs_shop *shop, cs_order *o, cs_return *refunds,
                          size_t refund_count, cs_problems *problems, const cs_json *node,
                          cs_arena *arena, cs_record_result *out)
{
    cs_str key = cs_str_from_c(cs_arena_sprintf(arena, "shopify:%.*s:%.*s", CS_STR_FMT(shop->store),
                                                CS_STR_FMT(o->meta.source_id)));
    if (!cs_export_begin(out, key, o->meta.source_id, arena)) {
        return;
    }
    cs_export_job job;
    bool ok = order_job(x, CS_SYS_SHOPIFY, o, problems, &job, out);
    job.returns = refunds;
    job.return_count = refund_count;
    apply_or_classify(x, ok, &job, "shopify", shop->domain, node, arena, out);
}

bool cs_export_read_next(cs_export_read *r, cs_outcome outcome, int64_t updated_ms, cs_str id)
{
    if (outcome == CS_OUTCOME_RETRY) {
        r->blocked = true;
        r->more = true;
        return false;
    }
    r->done.updated_at_ms = updated_ms;
    snprintf(r->done.id, sizeof(r->done.id), "%.*s", CS_STR_FMT(id));
    r->read++;
    return true;
}

void cs_export_shopify_since(cs_export_read *r)
{
    if (!r->after.len) {
        r->since_ms = r->done.updated_at_ms > r->from_ms ? r->done.updated_at_ms : r->from_ms;
    }
}

cs_error cs_export_commercetools_fetch(cs_export *x, cs_export_read *r,
                                       cs_commercetools_page_fn page, int limit, cs_arena *arena,
                                       const cs_json **results, cs_diag *diag)
{
    bool resume = r->done.updated_at_ms >= r->from_ms && r->done.id[0];
    cs_commercetools_cursor cursor = {.modified_ms = resume ? r->done.updated_at_ms : r->from_ms};
    if (resume) {
        snprintf(cursor.last_id, sizeof(cursor.last_id), "%.63s", r->done.id);
    }
    *results = NULL;
    cs_error e = page(x->systems.ct, &cursor, limit, arena, results, diag);
    r->more = !e && *results && (*results)->count == (size_t)limit;
    return e;
}

cs_error cs_export_shopify_page(cs_export *x, const cs_shop *shop, cs_export_read *r, int first,
                                cs_arena *arena, cs_diag *diag)
{
    cs_export_shopify_since(r);
    cs_shopify_order_opts opts = {.store_code = shop->store};
    cs_shopify_order_item *items;
    size_t count;
    cs_shopify_page page;
    cs_error e = cs_shopify_orders_page(shop->api, r->since_ms, r->after,
                                        first < SHOPIFY_MAX_PAGE ? first : SHOPIFY_MAX_PAGE, &opts,
                                        arena, &items, &count, &page, diag);
    if (e) {
        return e;
    }
    r->more = page.has_next;
    r->after = page.end_cursor;
    for (size_t i = 0; i < count; i++) {
        cs_shopify_order_item *it = &items[i];
        const cs_order *o = &it->order;
        if (r->to_ms && o->updated_at_ms >= r->to_ms) {
            r->more = false;
            break;
        }
        if (!cs_cursor_after(&r->done, o->updated_at_ms, o->meta.source_id)) {
            continue; /* applied before the checkpoint */
        }
        x->flow.records_in++;
        cs_record_result out;
        shopify_order(x, shop, &it->order, it->refunds, it->refund_count, &it->problems, it->source,
                      arena, &out);
        if (!cs_export_read_next(r, cs_flow_record(&x->flow, &out), o->updated_at_ms,
                                 o->meta.source_id)) {
            break;
        }
    }
    return CS_ERR_OK;
}

/* ---- commercetools ---- */

/* A decoded commercetools order (problems from its decoding) applied. */
static void ct_order(cs_export *x, const cs_json *json, cs_order *o, cs_problems *problems,
                     cs_arena *arena, cs_record_result *out)
{
    const cs_json *id = cs_json_object_get(json, CS_STR_LIT("id"));
    cs_str source_id = id ? id->text : CS_STR_NULL;
    cs_str key =
        cs_str_from_c(cs_arena_sprintf(arena, "commercetools:%.*s", CS_STR_FMT(source_id)));
    if (!cs_export_begin(out, key, source_id, arena)) {
        return;
    }
    cs_export_job job;
    bool ok = order_job(x, CS_SYS_COMMERCETOOLS, o, problems, &job, out);
    apply_or_classify(x, ok, &job, "commercetools", CS_STR_NULL, json, arena, out);
}

static cs_order *ct_decode(const cs_json *json, cs_arena *arena, cs_problems *problems)
{
    cs_order *o = cs_arena_calloc(arena, 1, sizeof(*o));
    if (o) {
        cs_problems_init(problems, arena);
        cs_commercetools_order_decode(json, arena, o, problems);
    }
    return o;
}

cs_error cs_export_commercetools_page(cs_export *x, cs_export_read *r, int limit, cs_arena *arena,
                                      cs_diag *diag)
{
    const cs_json *results;
    cs_error e = cs_export_commercetools_fetch(x, r, cs_commercetools_orders_page, limit, arena,
                                               &results, diag);
    if (e) {
        return e;
    }
    for (const cs_json *json = results ? results->first : NULL; json; json = json->next) {
        cs_problems problems;
        cs_order *o = ct_decode(json, arena, &problems);
        if (!o) {
            return cs_arena_full(arena, diag);
        }
        if (r->to_ms && o->updated_at_ms >= r->to_ms) {
            r->more = false;
            break;
        }
        x->flow.records_in++;
        cs_record_result out;
        ct_order(x, json, o, &problems, arena, &out);
        if (!cs_export_read_next(r, cs_flow_record(&x->flow, &out), o->updated_at_ms,
                                 out.source_id)) {
            break;
        }
    }
    return CS_ERR_OK;
}

/* ---- replay ---- */

static void replay_polled(cs_export *x, const cs_json *doc, cs_arena *arena, cs_record_result *out)
{
    const cs_json *order = cs_json_object_get(doc, CS_STR_LIT("order"));
    const cs_json *source = cs_json_object_get(doc, CS_STR_LIT("source"));
    const cs_json *shop_domain = cs_json_object_get(doc, CS_STR_LIT("shop"));
    bool commercetools = source && cs_str_eq_c(source->text, "commercetools");
    cs_problems problems;
    cs_order *o =
        commercetools ? ct_decode(order, arena, &problems) : cs_arena_calloc(arena, 1, sizeof(*o));
    if (!o) {
        *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        return;
    }
    if (commercetools) {
        ct_order(x, order, o, &problems, arena, out);
        return;
    }
    const cs_shop *shop = shop_domain ? cs_connections_shop(&x->systems, shop_domain->text) : NULL;
    cs_problems_init(&problems, arena);
    cs_shopify_order_opts opts = {.store_code = shop ? shop->store : CS_STR_NULL};
    cs_return *refunds = NULL;
    size_t refund_count = 0;
    if (!cs_shopify_order_decode_graphql(order, &opts, arena, o, &problems)) {
        cs_shopify_order_refunds(order, true, o, false, arena, &refunds, &refund_count, &problems);
    }
    if (!shop) {
        cs_problems_add(&problems, "shop", "unknown_shop", "shop %.*s is not configured",
                        shop_domain ? (int)shop_domain->text.len : 0,
                        shop_domain ? shop_domain->text.ptr : "");
    }
    cs_shop none = {.store = CS_STR_LIT("?")};
    shopify_order(x, shop ? shop : &none, o, refunds, refund_count, &problems, order, arena, out);
}

cs_outcome cs_export_replay(cs_export *x, const cs_error_entry *entry, cs_str snapshot,
                            cs_arena *arena)
{
    x->flow.records_in++;
    cs_record_result out = {.outcome = CS_OUTCOME_FAILED};
    cs_diag *diag = cs_arena_calloc(arena, 1, sizeof(*diag));
    cs_json *doc = NULL;
    cs_error e = diag ? cs_json_parse(arena, snapshot, &doc, diag) : CS_ERR_ARENA_FULL;
    const cs_json *body = e ? NULL : cs_json_object_get(doc, CS_STR_LIT("body"));
    if (e) {
        out = (cs_record_result){.outcome = CS_OUTCOME_FAILED,
                                 .correlation_id = cs_str_from_c(entry->correlation_id),
                                 .error = e,
                                 .diag = diag,
                                 .snapshot = snapshot};
    } else if (body) {
        cs_sqs_record rec = {.message_id = cs_str_from_c(entry->correlation_id),
                             .body = body->text,
                             .attributes =
                                 cs_json_object_get(doc, CS_STR_LIT("messageAttributes"))};
        cs_export_message(x, &rec, arena, &out);
    } else if (cs_json_object_get(doc, CS_STR_LIT("customer"))) {
        cs_export_customer_replay(x, doc, arena, &out);
    } else if (cs_json_object_get(doc, CS_STR_LIT("variant"))) {
        cs_export_product_replay(x, doc, arena, &out);
    } else {
        replay_polled(x, doc, arena, &out);
    }
    /* The entry stays its own flow's, whichever function replays it. */
    const char *own = x->flow.name;
    x->flow.name = entry->flow;
    cs_outcome outcome = cs_flow_record(&x->flow, &out);
    x->flow.name = own;
    return outcome;
}

/* ---- sweeps: every source, page by page, from checkpoints ---- */

static void log_progress(cs_export *x, const cs_export_sweep_opts *s, const char *store,
                         const cs_export_read *r, int64_t started_ms)
{
    int64_t now = cs_time_now_ms(), span = s->to_ms - s->from_ms;
    int64_t covered_ms =
        r->done.updated_at_ms > s->from_ms ? r->done.updated_at_ms - s->from_ms : 0;
    int64_t pct = span > 0 ? covered_ms * 100 / span : 0;
    int64_t elapsed = now - started_ms > 0 ? now - started_ms : 1;
    int64_t total = covered_ms > 0 && span > 0
                        ? (int64_t)((double)s->done * (double)span / (double)covered_ms)
                        : 0;
    int64_t rate = s->read * 1000 / elapsed;
    int64_t eta_s = rate > 0 && total > s->done ? (total - s->done) / rate : 0;
    CS_LOG(x->flow.log, CS_LOG_INFO, "progress", CS_LOG_CSTR("flow", x->flow.name),
           CS_LOG_CSTR("run", s->source), CS_LOG_CSTR("store", store), CS_LOG_INT("done", s->done),
           CS_LOG_INT("total", total), CS_LOG_INT("coveredPct", pct), CS_LOG_INT("ratePerS", rate),
           CS_LOG_INT("etaS", eta_s), CS_LOG_BOOL("blocked", r->blocked));
}

/* One source from its checkpoint until it is through, blocked, or time is
 * up. Each page in an arena of its own, so memory does not grow with the
 * order count. */
static cs_error sweep_source(cs_export *x, cs_export_sweep_opts *s, const cs_shop *shop,
                             int64_t started_ms, cs_diag *diag)
{
    /* The checkpoint's key, a C string; not in the process arena, which
     * every sweep would grow. */
    cs_str name = shop ? shop->store : CS_STR_LIT("commercetools");
    char store[64];
    snprintf(store, sizeof(store), "%.*s", CS_STR_FMT(name));
    bool catalog = s->entity == CS_EXPORT_PRODUCTS;
    cs_export_read r = {
        .from_ms = catalog ? 0 : s->from_ms, .to_ms = catalog ? 0 : s->to_ms, .more = true};
    bool found = false;
    cs_error e =
        cs_state_cursor_get(x->flow.state, s->flow, s->source, store, &r.done, &found, diag);
    char after[1024] = "";
    cs_arena page;
    cs_arena_init(&page, 0, 0);
    while (!e && r.more && !r.blocked && cs_time_now_ms() < s->stop_at_ms) {
        cs_arena_reset(&page);
        int64_t before = r.read;
        r.after = cs_str_from_c(after);
        if (s->entity == CS_EXPORT_CUSTOMERS) {
            e = shop ? cs_export_shopify_customers_page(x, shop, &r, s->page_size, &page, diag)
                     : cs_export_commercetools_customers_page(x, &r, s->page_size, &page, diag);
        } else if (catalog) {
            e = shop ? cs_export_shopify_products_page(x, shop, &r, s->page_size, &page, diag)
                     : cs_export_commercetools_products_page(x, &r, s->page_size, &page, diag);
        } else {
            e = shop ? cs_export_shopify_page(x, shop, &r, s->page_size, &page, diag)
                     : cs_export_commercetools_page(x, &r, s->page_size, &page, diag);
        }
        snprintf(after, sizeof(after), "%.*s", CS_STR_FMT(r.after));
        if (!e && r.read > before) {
            s->read += r.read - before;
            s->done += r.read - before;
            e = cs_state_cursor_put(x->flow.state, s->flow, s->source, store, &r.done, diag);
        }
        if (s->progress) {
            log_progress(x, s, store, &r, started_ms);
        }
    }
    cs_arena_clean_up(&page);
    s->complete = s->complete && !e && !r.more && !r.blocked;
    s->blocked = s->blocked || r.blocked;
    return e;
}

cs_error cs_export_sweep(cs_export *x, cs_export_sweep_opts *s, cs_diag *diag)
{
    int64_t started_ms = cs_time_now_ms();
    s->complete = true;
    cs_error e = CS_ERR_OK;
    for (size_t i = 0; !e && i < x->systems.shop_count; i++) {
        if (x->systems.shops[i].api) {
            e = sweep_source(x, s, &x->systems.shops[i], started_ms, diag);
        }
    }
    if (!e && x->systems.ct) {
        e = sweep_source(x, s, NULL, started_ms, diag);
    }
    s->complete = s->complete && !e;
    return e;
}
