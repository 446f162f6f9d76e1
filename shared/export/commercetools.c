/* commercetools subscription messages on the order queue (the Platform
 * format, as commercetools' SQS destination writes them).
 *
 * OrderCreated carries the order: it is created in MAX. OrderStateChanged
 * to Cancelled cancels the order MAX has (found by the id map the create
 * wrote; a cancel that overtakes its create is retried until the create is
 * through). ReturnInfoAdded becomes a credit memo: the message carries the
 * return only, so the order is read from commercetools to price it.
 * Delivery is at least once and unordered: duplicates of any are no-ops by
 * the order's idempotency records, and since a cancelled order stays
 * cancelled, an older state message never undoes it. Other messages
 * (shipments, which the ERP originates, or state changes that ask nothing
 * of MAX) are skipped. */
#include "connectors/commercetools/client.h"
#include "connectors/commercetools/order.h"
#include "connectors/commercetools/message.h"
#include "core/money.h"
#include "export/export.h"

static bool cancels(const cs_commercetools_message *m)
{
    return m->payload == CS_CT_STATE && cs_str_eq_c(m->order_state, "cancelled");
}

/* What each returned line credits: its share, by units, of what the line
 * cost after its discounts (as MAX's order line has it: gross where prices
 * include tax). A line the order does not have, or more units than it
 * has, is a problem naming the return line. */
static void price_return(const cs_order *o, cs_return *ret, cs_problems *problems)
{
    for (size_t i = 0; i < ret->line_count; i++) {
        cs_return_line *r = &ret->lines[i];
        const cs_order_line *l = NULL;
        for (size_t k = 0; k < o->line_count && !l; k++) {
            l = cs_str_eq(o->lines[k].line_id, r->line_id) ? &o->lines[k] : NULL;
        }
        int64_t shares[2] = {0, 0};
        int64_t weights[2] = {r->quantity, l ? l->quantity - r->quantity : 0};
        if (!l || r->quantity <= 0 || weights[1] < 0 ||
            cs_money_allocate(l->unit_price.minor_units * l->quantity - l->discount.minor_units,
                              weights, 2, shares)) {
            cs_problems_add(problems, cs_arena_sprintf(problems->arena, "returnInfo.items[%zu]", i),
                            "return_line",
                            "line item '%.*s' is not on the order with %lld units or more",
                            CS_STR_FMT(r->line_id), (long long)r->quantity);
            continue;
        }
        r->sku = l->sku;
        r->item_code = l->item_code;
        r->amount = (cs_money){.minor_units = shares[0], .currency = l->unit_price.currency};
    }
}

/* A return: the order as commercetools has it now (the message carries the
 * return only), mapped, and the return priced from it. The order's create
 * comes first, a duplicate when it is in MAX already. */
static cs_error return_job(cs_export *x, cs_commercetools_message *m, cs_arena *arena,
                           cs_export_job *job, cs_diag *diag)
{
    const cs_json *json = NULL;
    cs_error r = cs_commercetools_get_order(x->systems.ct, m->resource_id, arena, &json, diag);
    if (r) {
        return r;
    }
    cs_problems problems;
    cs_problems_init(&problems, arena);
    if (!cs_commercetools_order_decode(json, arena, &m->order, &problems)) {
        cs_export_map_and_validate(x, &m->order, &problems);
        price_return(&m->order, &m->ret, &problems);
    }
    if (!m->ret.meta.source_id.len) {
        cs_problems_add(&problems, "returnInfo.returnTrackingId", "required",
                        "a return needs its tracking id (the credit memo's key)");
    }
    m->ret.currency = m->order.currency;
    *job = (cs_export_job){.source = CS_SYS_COMMERCETOOLS,
                           .key = job->key,
                           .order = &m->order,
                           .returns = &m->ret,
                           .return_count = 1};
    return cs_problems_total(&problems)
               ? cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag)
               : CS_ERR_OK;
}

bool cs_export_commercetools_job(cs_export *x, const cs_json *message, cs_arena *arena,
                                 cs_export_job *job, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    cs_commercetools_message *m = cs_arena_calloc(arena, 1, sizeof(*m));
    if (!m) {
        out->error = cs_arena_full(arena, diag);
        return false;
    }
    cs_problems problems;
    cs_problems_init(&problems, arena);
    cs_commercetools_message_decode(message, arena, m, &problems);
    if (m->resource_id.len) {
        out->source_id = m->resource_id;
        out->correlation_id = cs_str_from_c(
            cs_arena_sprintf(arena, "commercetools:%.*s", CS_STR_FMT(m->resource_id)));
    }
    if (!x->systems.has_commercetools) {
        out->error = cs_diag_set(diag, CS_ERR_CONFIG,
                                 "a commercetools message, and the config "
                                 "has no connections.commercetools");
        return false;
    }
    if (m->payload == CS_CT_ORDER) {
        cs_export_map_and_validate(x, &m->order, &problems);
    } else if (m->payload_not_included && cs_str_eq_c(m->type, "OrderCreated")) {
        cs_problems_add(&problems, "payloadNotIncluded", "payload",
                        "the subscription left the order out; its messages must include it");
    }
    if (cs_problems_total(&problems)) {
        out->error = cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag);
        return false;
    }
    if (m->payload == CS_CT_RETURN) {
        job->key = out->correlation_id;
        out->error = return_job(x, m, arena, job, diag);
        return !out->error;
    }
    if (m->payload != CS_CT_ORDER && !cancels(m)) {
        out->outcome = CS_OUTCOME_SKIPPED;
        return false;
    }
    *job = (cs_export_job){.source = CS_SYS_COMMERCETOOLS,
                           .key = out->correlation_id,
                           .order = m->payload == CS_CT_ORDER ? &m->order : NULL,
                           .cancel = cancels(m)};
    return true;
}
