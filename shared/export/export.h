/* Storefront orders into the ERP, each exactly once, whichever way they
 * arrive: a message of the order queue (message.c, turned into a job by
 * shopify.c or commercetools.c), or an order read from a storefront's API
 * by the reconciliation poll or a backfill (poll.c). erp.c applies a job
 * to MAX, each change under an idempotency record of the "order-export"
 * scope, so an order exported by a webhook, the poll, a backfill and a
 * replay is still one sales order. */
#ifndef CS_EXPORT_EXPORT_H
#define CS_EXPORT_EXPORT_H

#include "connectors/exactmax/order.h"
#include "flow/connections.h"
#include "mapping/mapping.h"

#define CS_EXPORT_SCOPE "order-export"

typedef struct cs_export_accounts cs_export_accounts;
typedef struct cs_export_parts cs_export_parts;

/* The customer_export section: storefront customers into MAX accounts. */
typedef struct cs_export_customer_opts {
    bool enabled; /* the config has the section */
    bool all;     /* every customer gets an account; else companies only */
    cs_str id_prefix;
    const cs_identity *identity;   /* identity.customer */
    const cs_ownership *ownership; /* ownership.customer */
    cs_identity by_cust_id;        /* one key, account_code: MAX's accounts by custId */
} cs_export_customer_opts;

typedef struct cs_export {
    cs_flow flow;
    cs_connections systems;      /* MAX, the shops, commercetools */
    const cs_lookup *skus;       /* SKU to MAX part number */
    const cs_lookup *stores;     /* store code to account, stockroom */
    cs_exactmax_order_opts opts; /* cust_id and stockroom set per order */
    char owner[64];              /* this invocation, for idempotency leases */
    int64_t deadline_ms;         /* this invocation's, epoch ms; 0: none */
    cs_export_customer_opts customers;
    cs_export_accounts *accounts; /* MAX's, read once per invocation when needed */
    cs_export_parts *parts;       /* MAX's part numbers, the same way */
} cs_export;

/* What one message asks of MAX. */
typedef struct cs_export_job {
    cs_system source;
    cs_str key;               /* "shopify:us:5001": the order's idempotency and id-map key */
    cs_order *order;          /* to create when MAX has not got it; NULL: by key only */
    bool cancel;              /* then cancel it */
    const cs_return *returns; /* a credit memo each */
    size_t return_count;
} cs_export_job;

/* An invocation starts: its id owns the idempotency leases it takes, and
 * its deadline bounds waits and HTTP calls. */
void cs_export_start(cs_export *x, cs_str request_id, int64_t deadline_ms);

/* The config's order_export and customer_export sections (lookup tables,
 * MAX order options, accounts); problems go to the config's. */
void cs_export_read_config(cs_export *x, cs_config *c);

/* Frees what the exporter holds, at the process's end. */
void cs_export_clean_up(cs_export *x);

/* One message of the order queue: its outcome, ids and snapshot (the
 * message as received) in *out, for cs_flow_record. */
void cs_export_message(cs_export *x, const cs_sqs_record *rec, cs_arena *arena,
                       cs_record_result *out);

/* A message turned into a job. false: *out is final (skipped, or failed
 * with its error), there is nothing to do. */
bool cs_export_shopify_job(cs_export *x, const cs_sqs_record *rec, cs_arena *arena,
                           cs_export_job *job, cs_record_result *out);
/* Whether a queue message's JSON is one of Shopify's EventBridge events
 * (source aws.partner/shopify.com/...), and the job it brings. */
bool cs_export_is_shopify_event(const cs_json *event);
bool cs_export_shopify_event_job(cs_export *x, const cs_json *event, cs_arena *arena,
                                 cs_export_job *job, cs_record_result *out);
bool cs_export_commercetools_job(cs_export *x, const cs_json *message, cs_arena *arena,
                                 cs_export_job *job, cs_record_result *out);

/* Part numbers from the SKU table for lines that have none, and the
 * order's checks; problems name the line. */
void cs_export_map_and_validate(const cs_export *x, cs_order *o, cs_problems *problems);

/* Does the job: the order created (or found), cancelled, credited, each
 * step under its own idempotency record. Fills outcome, target_id, error. */
void cs_export_apply(cs_export *x, const cs_export_job *job, cs_arena *arena,
                     cs_record_result *out);

/* The POST /sales-orders body of the job's order (ret NULL) or of a credit
 * memo for ret, on `account` (empty: the store's web account), into body;
 * CS_ERR_INVALID_ARGUMENT naming every problem (a store the stores table
 * has not got, a line without its part). */
cs_error cs_export_encode(const cs_export *x, const cs_export_job *job, const cs_return *ret,
                          cs_str account, cs_arena *arena, cs_buf *body, cs_diag *diag);

/* An order MAX has (ord_num), changed in its storefront since: MAX's lines
 * and ship-to made the order's (edit.c). Duplicate when they are already,
 * or when a newer version of the order has been applied. */
cs_outcome cs_export_edit(cs_export *x, const cs_export_job *job, const char *ord_num,
                          cs_arena *arena, cs_error *error, cs_diag *diag);

/* An idempotency record's settings for a change of this invocation: a
 * lease until its deadline and 5 s more (an instance killed mid-change
 * cannot be running after), kept 90 days, waits for another holder. */
cs_once cs_export_once(const cs_export *x, cs_str record, cs_str version, const char *scope);

/* Reads every record of a MAX resource ("customers", "parts"), 500 a
 * page, giving each to each(); the pages are parsed in arena, which is
 * reset before each page when `reset` (each() copies what it keeps). */
typedef cs_error (*cs_export_max_each_fn)(void *user, const cs_json *item, cs_diag *diag);
cs_error cs_export_max_all(cs_export *x, const char *resource, cs_arena *arena, bool reset,
                           cs_export_max_each_fn each, void *user, cs_diag *diag);

/* Whether an error may pass with time (a retry) rather than being the
 * record's fault (the error queue). */
bool cs_export_transient(cs_error e);

/* ---- orders read from the storefronts' APIs (poll.c) ---- */

/* Where a read of orders updated in [from_ms, to_ms) stands: `done` is
 * the last order applied, the checkpoint to resume from. */
typedef struct cs_export_read {
    int64_t from_ms, to_ms; /* to_ms 0: no end */
    cs_cursor done;
    cs_str after;     /* Shopify: the page cursor within this run; "" to start at done */
    int64_t since_ms; /* Shopify: the query's start while `after` pages it */
    bool more;        /* another page may follow */
    bool blocked;     /* an order needs a retry: the read stops before it */
    int64_t read;     /* orders read past the checkpoint */
} cs_export_read;

/* Reads one page (up to `first` orders, at most 100) of a shop's orders, applies each
 * and records it (cs_flow_record; a failure goes to the error queue with
 * the order as the API gave it). Moves r->done past every order that is
 * through; stops at an order that needs a retry (r->blocked) or at to_ms.
 * The error is the page's own (transport, throttling past the deadline). */
cs_error cs_export_shopify_page(cs_export *x, const cs_shop *shop, cs_export_read *r, int first,
                                cs_arena *arena, cs_diag *diag);
/* The same for commercetools' orders (keyset on lastModifiedAt, id). */
cs_error cs_export_commercetools_page(cs_export *x, cs_export_read *r, int limit, cs_arena *arena,
                                      cs_diag *diag);

/* Where a read's next page starts: Shopify's query time (unless `after`
 * pages it), from the checkpoint or from_ms. */
void cs_export_shopify_since(cs_export_read *r);

/* A commercetools keyset page (orders, customers, products) from the
 * read's checkpoint (or from_ms); r->more when the page came full. */
typedef cs_error (*cs_commercetools_page_fn)(cs_commercetools *ct, cs_commercetools_cursor *cursor,
                                             int limit, cs_arena *arena, const cs_json **results,
                                             cs_diag *diag);
cs_error cs_export_commercetools_fetch(cs_export *x, cs_export_read *r,
                                       cs_commercetools_page_fn page, int limit, cs_arena *arena,
                                       const cs_json **results, cs_diag *diag);

/* A result for a record before its job: failed until applied; false (a
 * retry) when the arena is full. */
bool cs_export_begin(cs_record_result *out, cs_str key, cs_str source_id, cs_arena *arena);
/* Whether the read goes on past this record; moves the checkpoint. */
bool cs_export_read_next(cs_export_read *r, cs_outcome outcome, int64_t updated_ms, cs_str id);
/* A record read from an API, for the error queue: {"source", "shop"?,
 * kind: record}; empty when the arena is full. */
cs_str cs_export_snapshot(const char *source, cs_str shop, const char *kind, const cs_json *record,
                          cs_arena *arena);

/* ---- storefront customers into MAX accounts (customers.c) ---- */

/* The customer_export section; problems go to the config's. */
void cs_export_read_customer_config(cs_export *x, cs_config *c);

/* As the order pages: one page of a shop's (or commercetools') customers
 * updated in the read's range, each found in MAX or given an account,
 * and recorded (a failure goes to the error queue with the customer as
 * the API gave it). Correlation ids: "customer:shopify:<store>:<id>",
 * "customer:commercetools:<id>". */
cs_error cs_export_shopify_customers_page(cs_export *x, const cs_shop *shop, cs_export_read *r,
                                          int first, cs_arena *arena, cs_diag *diag);
cs_error cs_export_commercetools_customers_page(cs_export *x, cs_export_read *r, int limit,
                                                cs_arena *arena, cs_diag *diag);

/* The MAX account the job's order goes on, when the config has
 * customer_export and the order a customer (not a guest): the one linked
 * to that customer, else the one its e-mail or company finds, else a new
 * one made from the order's customer and billing address, as the customer
 * load would (under "b2b" only for an order with a company). An existing
 * account is not updated from an order: the customer load does that from
 * the customer's own record. *cust_id empty: the store's web account. A
 * key that finds several accounts is the order's error
 * (identity_ambiguous). */
cs_error cs_export_order_account(cs_export *x, const cs_export_job *job, cs_arena *arena,
                                 cs_str *cust_id, cs_diag *diag);

/* An error-queue snapshot of a customer ({"customer": ...}) applied again. */
void cs_export_customer_replay(cs_export *x, const cs_json *doc, cs_arena *arena,
                               cs_record_result *out);

/* Forgets MAX's accounts (read again when next needed). */
void cs_export_accounts_free(cs_export *x);

/* ---- the storefronts' catalogs against MAX's parts (products.c) ---- */

/* As the customer pages, over a shop's variants (or commercetools'
 * published products) in id order, whatever their update time: each
 * variant's SKU mapped to a MAX part that MAX has, and linked (id map
 * "product"); a variant orders could not use goes to the error queue.
 * Correlation ids: "product:shopify:<store>:<variant id>",
 * "product:commercetools:<product id>/<variant id>". */
cs_error cs_export_shopify_products_page(cs_export *x, const cs_shop *shop, cs_export_read *r,
                                         int first, cs_arena *arena, cs_diag *diag);
cs_error cs_export_commercetools_products_page(cs_export *x, cs_export_read *r, int limit,
                                               cs_arena *arena, cs_diag *diag);

/* An error-queue snapshot of a variant ({"variant": ...}) checked again. */
void cs_export_product_replay(cs_export *x, const cs_json *doc, cs_arena *arena,
                              cs_record_result *out);

/* Forgets MAX's part numbers (read again when next needed). */
void cs_export_parts_free(cs_export *x);

/* Every storefront the config connects (each shop with an API client,
 * commercetools), from its checkpoint (state cursor flow + source + store
 * code or "commercetools") through to_ms, a page at a time, until no page
 * may start after stop_at_ms. */
typedef enum cs_export_entity {
    CS_EXPORT_ORDERS,
    CS_EXPORT_CUSTOMERS, /* into MAX accounts */
    CS_EXPORT_PRODUCTS,  /* the whole catalog, whatever the range */
} cs_export_entity;

typedef struct cs_export_sweep_opts {
    const char *flow, *source; /* the checkpoints' keys */
    int64_t from_ms, to_ms;
    int page_size;
    int64_t stop_at_ms;
    bool progress;           /* a "progress" log line per page */
    cs_export_entity entity; /* what is read */
    int64_t done;            /* in: records done by earlier invocations; out: plus this one's */
    int64_t read;            /* out: records this sweep applied */
    bool complete;           /* out: every source read through to_ms */
    bool blocked;            /* out: a record waits for a retry */
} cs_export_sweep_opts;
cs_error cs_export_sweep(cs_export *x, cs_export_sweep_opts *s, cs_diag *diag);

/* Applies an error-queue entry's snapshot again (a message, or an order
 * as an API gave it) under its correlation id, and records the outcome:
 * a failure puts the entry back, open, with one more attempt. */
cs_outcome cs_export_replay(cs_export *x, const cs_error_entry *entry, cs_str snapshot,
                            cs_arena *arena);

#endif
