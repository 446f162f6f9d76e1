/* commercetools subscription messages on the order queue (the Platform
 * format, as commercetools' SQS destination writes them).
 *
 * OrderCreated carries the order: it is created in MAX. OrderStateChanged
 * to Cancelled cancels the order MAX has (found by the id map the create
 * wrote; a cancel that overtakes its create is retried until the create is
 * through). Delivery is at least once and unordered: duplicates of either
 * are no-ops by the order's idempotency records, and since a cancelled
 * order stays cancelled, an older state message never undoes it. Other
 * messages (shipments and returns, which the ERP originates, or state
 * changes that ask nothing of MAX) are skipped. */
#include "connectors/commercetools/message.h"
#include "export/export.h"

static bool cancels(const cs_commercetools_message *m)
{
    return m->payload == CS_CT_STATE && cs_str_eq_c(m->order_state, "cancelled");
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
