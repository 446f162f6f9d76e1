/* order-export's parts: the function (main.c), the two kinds of message on
 * the order queue, each turned into a job (shopify.c, commercetools.c), and
 * what a job does to MAX, each change exactly once (erp.c). */
#ifndef ORDER_EXPORT_H
#define ORDER_EXPORT_H

#include "connectors/exactmax/order.h"
#include "flow/connections.h"
#include "mapping/mapping.h"

typedef struct order_export {
    cs_flow flow;
    cs_connections systems;      /* MAX, the shops, commercetools */
    const cs_lookup *skus;       /* SKU to MAX part number */
    const cs_lookup *stores;     /* store code to account, stockroom */
    cs_exactmax_order_opts opts; /* cust_id and stockroom set per order */
    char owner[64];              /* this invocation, for idempotency leases */
    int64_t deadline_ms;         /* this invocation's, epoch ms; 0: none */
} order_export;

/* What one message asks of MAX. */
typedef struct export_job {
    cs_system source;
    cs_str key;               /* "shopify:us:5001": the order's idempotency and id-map key */
    cs_order *order;          /* to create when MAX has not got it; NULL: by key only */
    bool cancel;              /* then cancel it */
    const cs_return *returns; /* a credit memo each */
    size_t return_count;
} export_job;

/* A message turned into a job. false: *out is final (skipped, or failed
 * with its error), there is nothing to do. */
bool shopify_job(order_export *x, const cs_sqs_record *rec, cs_arena *arena, export_job *job,
                 cs_record_result *out);
bool commercetools_job(order_export *x, const cs_json *message, cs_arena *arena, export_job *job,
                       cs_record_result *out);

/* Part numbers from the SKU table for lines that have none, and the
 * order's checks; problems name the line. */
void export_map_and_validate(const order_export *x, cs_order *o, cs_problems *problems);

/* Does the job: the order created (or found), cancelled, credited, each
 * step under its own idempotency record. Fills outcome, target_id, error. */
void export_apply(order_export *x, const export_job *job, cs_arena *arena, cs_record_result *out);

/* Whether an error may pass with time (a retry) rather than being the
 * record's fault (the error queue). */
bool export_transient(cs_error e);

#endif
