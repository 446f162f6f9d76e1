/* Storefront customers into MAX's customer accounts (Customer_Master), for
 * backfill: each customer is found in MAX or given an account, once.
 *
 * - Found: by the link an earlier run stored (id map "customer"), else by
 *   the config's identity keys (identity.customer) against every MAX
 *   account, read once per invocation. Two storefront customers that are
 *   one person (the same e-mail in two shops) find the same account; a key
 *   that finds several accounts is never merged: the customer goes to the
 *   error queue with the candidates, for a person to decide.
 * - Updated: the fields the storefront owns (ownership.customer) merged
 *   into MAX's record, and PUT with MAX's row version only when one
 *   changed (else a duplicate). MAX keeps what it owns (terms, ship via,
 *   tax code, currency).
 * - Created: under an idempotency record, with a custId that is the
 *   storefront's account code (commercetools' customerNumber) or a hash of
 *   the customer's key, the same on every retry, and If-None-Match, so a
 *   crash between the create and its state write finds its own account
 *   (DUPLICATE_CUSTID) rather than making a second.
 * - Which customers: every one ("accounts": "all") or only companies
 *   ("b2b"; the rest buy on their store's web account, and are skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/commercetools/customer.h"
#include "connectors/shopify/customer.h"
#include "connectors/exactmax/records.h"
#include "export/export.h"

#define CUSTOMER_SCOPE "customer-export"

struct cs_export_accounts {
    cs_arena arena; /* the accounts as MAX answered, and their decodes */
    cs_customer *list;
    cs_str *versions; /* rowVersion, by list index */
    size_t count, cap;
    /* Positions in list by custId, and by the identity.customer keys, so
     * that neither the load nor a match scans the list. */
    cs_identity_index *cust_ids, *keys;
};

void cs_export_read_customer_config(cs_export *x, cs_config *c)
{
    const cs_json *o = cs_config_object(c, "customer_export", false);
    cs_export_customer_opts *opts = &x->customers;
    opts->enabled = o != NULL;
    if (!o) {
        return;
    }
    cs_str accounts = cs_config_string(c, o, "customer_export", "accounts", false);
    opts->all = cs_str_eq_c(accounts, "all");
    if (!opts->all && !cs_str_eq_c(accounts, "b2b")) {
        cs_problems_add(&c->problems, "customer_export.accounts", "enum",
                        "\"all\" customers or only companies (\"b2b\")");
    }
    opts->id_prefix = cs_config_string(c, o, "customer_export", "id_prefix", false);
    bool prefix_ok = opts->id_prefix.len >= 1 && opts->id_prefix.len <= 3;
    for (size_t i = 0; i < opts->id_prefix.len && prefix_ok; i++) {
        char ch = opts->id_prefix.ptr[i];
        prefix_ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    }
    if (!prefix_ok) {
        cs_problems_add(&c->problems, "customer_export.id_prefix", "format",
                        "1 to 3 of A-Z and 0-9 (MAX's custId is at most 12)");
    }
    opts->identity = cs_mapping_identity(x->flow.mapping, &cs_schema_customer);
    opts->ownership = cs_mapping_ownership(x->flow.mapping, &cs_schema_customer);
    if (!opts->identity) {
        cs_problems_add(&c->problems, "identity.customer", "required",
                        "customer_export matches customers to MAX accounts by these keys");
    }
    if (!opts->ownership) {
        cs_problems_add(&c->problems, "ownership.customer", "required",
                        "customer_export writes the fields the storefront owns");
    }
    /* Built once here, not per load: it is the same for every invocation. */
    cs_json *by_cust_id = NULL;
    cs_error e =
        cs_json_parse(c->arena, CS_STR_LIT("{\"keys\": [\"account_code\"]}"), &by_cust_id, NULL);
    if (!e) {
        e = cs_identity_load(c->arena, &cs_schema_customer, by_cust_id, "customer_export",
                             &opts->by_cust_id, &c->problems);
    }
    if (e && e != CS_ERR_CONFIG) { /* a CS_ERR_CONFIG has named its problem */
        cs_problems_add(&c->problems, "customer_export", "memory",
                        "no room for the index of MAX's accounts by custId");
    }
}

/* ---- MAX's accounts ---- */

void cs_export_accounts_free(cs_export *x)
{
    cs_export_accounts *a = x->accounts;
    if (a) {
        cs_identity_index_free(a->cust_ids);
        cs_identity_index_free(a->keys);
        cs_arena_clean_up(&a->arena);
        free(a->list);
        free(a->versions);
        free(a);
        x->accounts = NULL;
    }
}

/* A slot for one more account; NULL when memory is out. */
static cs_customer *account_slot(cs_export_accounts *a)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        cs_customer *list = realloc(a->list, cap * sizeof(*list));
        a->list = list ? list : a->list;
        cs_str *versions = list ? realloc(a->versions, cap * sizeof(*versions)) : NULL;
        a->versions = versions ? versions : a->versions;
        if (!versions) {
            return NULL;
        }
        a->cap = cap;
    }
    return &a->list[a->count];
}

static const cs_customer *account_by_id(cs_export_accounts *a, cs_str cust_id, size_t *at)
{
    cs_customer probe = {.account_code = cust_id};
    cs_match match;
    cs_identity_match_indexed(a->cust_ids, &probe, a->list, a->count, &a->arena, &match);
    *at = match.kind == CS_MATCH_ONE ? match.index : *at;
    return match.kind == CS_MATCH_ONE ? &a->list[match.index] : NULL;
}

/* Adds an account as MAX answered it, over the row of the same custId
 * when there is one: an account changed while the load pages through MAX
 * comes again, later, under its new modifiedDate, and two rows of it would
 * make every identity key it has ambiguous. */
static cs_error account_put(cs_export_accounts *a, const cs_json *json, size_t *index,
                            cs_diag *diag)
{
    cs_customer c;
    cs_problems problems;
    cs_problems_init(&problems, &a->arena);
    if (cs_exactmax_customer_decode(json, &a->arena, &c, &problems)) {
        return cs_problems_to_diag(&problems, CS_ERR_INVALID_ARGUMENT, diag);
    }
    cs_str version = CS_STR_NULL;
    cs_json_opt_string(json, "rowVersion", &version, NULL);
    size_t i = a->count;
    if (!account_by_id(a, c.account_code, &i) && !account_slot(a)) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "no memory for MAX's customer accounts");
    }
    a->list[i] = c;
    a->versions[i] = version;
    a->count += i == a->count;
    if (index) {
        *index = i;
    }
    if (cs_identity_index_add(a->cust_ids, &c, i, &a->arena) ||
        cs_identity_index_add(a->keys, &c, i, &a->arena)) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "no memory for the index of MAX's accounts");
    }
    return CS_ERR_OK;
}

/* account_put for an answer in a shorter-lived arena: copied first. */
static cs_error account_keep(cs_export_accounts *a, const cs_json *json, size_t *index,
                             cs_diag *diag)
{
    cs_buf text;
    cs_buf_init(&text, 0);
    cs_error r = cs_json_serialize(json, &text, diag);
    cs_str kept = r ? CS_STR_NULL : cs_arena_copy(&a->arena, cs_buf_view(&text));
    cs_json *copy = NULL;
    if (!r) {
        r = kept.len ? cs_json_parse(&a->arena, kept, &copy, diag) : cs_arena_full(&a->arena, diag);
    }
    cs_buf_clean_up(&text);
    return r ? r : account_put(a, copy, index, diag);
}

/* Empty indexes: by custId, and by the config's identity keys. */
static cs_error accounts_index(cs_export *x, cs_export_accounts *a, cs_diag *diag)
{
    a->cust_ids = cs_identity_index_new(&x->customers.by_cust_id);
    a->keys = a->cust_ids ? cs_identity_index_new(x->customers.identity) : NULL;
    return a->keys ? CS_ERR_OK
                   : cs_diag_set(diag, CS_ERR_NOMEM, "no memory for MAX's customer accounts");
}

/* An account as the load reads it; one MAX cannot give us is left out. */
static cs_error account_loaded(void *user, const cs_json *item, cs_diag *diag)
{
    cs_diag skipped;
    cs_error e = account_put(user, item, NULL, &skipped);
    return e == CS_ERR_NOMEM ? cs_diag_set(diag, e, "%s", skipped.message) : CS_ERR_OK;
}

/* Every MAX account, read once per invocation: identity matching needs
 * them all, and MAX has no search by e-mail. An account MAX holds with
 * a problem (no custId) is left out. */
static cs_error accounts_load(cs_export *x, cs_diag *diag)
{
    if (x->accounts) {
        return CS_ERR_OK;
    }
    cs_export_accounts *a = calloc(1, sizeof(*a));
    if (!a) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "no memory for MAX's customer accounts");
    }
    x->accounts = a;
    cs_arena_init(&a->arena, 0, 0);
    cs_error r = accounts_index(x, a, diag);
    if (!r) {
        r = cs_export_max_all(x, "customers", &a->arena, false, account_loaded, a, diag);
    }
    if (r) {
        cs_export_accounts_free(x);
    }
    return r;
}

/* ---- one customer ---- */

typedef struct customer_job {
    cs_export *x;
    cs_system source;
    cs_str store; /* for the new account's currency */
    cs_str key;   /* "shopify:us:7000000001", "commercetools:<id>" */
    const cs_customer *customer;
    cs_arena *arena;
} customer_job;

static cs_error put_account(customer_job *j, const cs_customer *c, cs_str cust_id, cs_str version,
                            size_t *index, cs_diag *diag)
{
    cs_export *x = j->x;
    cs_exactmax_account_opts new_account = {.terms = x->opts.terms, .ship_via = x->opts.ship_via};
    if (x->stores) {
        cs_lookup_find(x->stores, j->store, CS_STR_LIT("currency"), &new_account.currency);
    }
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_exactmax_customer_encode(c, version.len ? NULL : &new_account, &w);
    cs_error r = cs_json_writer_finish(&w, diag);
    const cs_json *answer = NULL;
    if (!r) {
        r = cs_exactmax_put_customer(x->systems.max, cust_id, cs_buf_view(&body), version, j->arena,
                                     &answer, diag);
    }
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&body);
    return r ? r : account_keep(x->accounts, answer, index, diag);
}

/* The create, for cs_flow_once: its result is the custId. */
typedef struct create_step {
    customer_job *job;
    char cust_id[16];
} create_step;

static cs_error create_account(void *user, char result[256], bool *existed, cs_diag *diag)
{
    create_step *s = user;
    snprintf(result, 256, "%s", s->cust_id);
    size_t index;
    cs_error r =
        put_account(s->job, s->job->customer, cs_str_from_c(s->cust_id), CS_STR_NULL, &index, diag);
    /* Our own account from a run that stopped before its state write. */
    *existed = r == CS_ERR_HTTP_CONFLICT && strcmp(diag->field, "DUPLICATE_CUSTID") == 0;
    return *existed ? CS_ERR_OK : r;
}

static cs_outcome create(customer_job *j, cs_record_result *out, char cust_id[16], cs_diag *diag)
{
    create_step step = {.job = j};
    const cs_customer *c = j->customer;
    if (c->account_code.len && c->account_code.len <= 12) {
        snprintf(step.cust_id, sizeof(step.cust_id), "%.*s", CS_STR_FMT(c->account_code));
    } else {
        cs_exactmax_cust_id(j->x->customers.id_prefix, j->key, step.cust_id);
    }
    cs_once once = cs_export_once(j->x, j->key, CS_STR_LIT("account"), CUSTOMER_SCOPE);
    char result[256] = "";
    cs_outcome o =
        cs_flow_once(&j->x->flow, &once, create_account, &step, result, &out->error, diag);
    snprintf(cust_id, 16, "%.15s", result);
    return o;
}

/* The account's fields the storefront owns, written when one changed. */
static cs_outcome update(customer_job *j, size_t index, cs_record_result *out, cs_diag *diag)
{
    cs_export_accounts *a = j->x->accounts;
    /* Merged in place over a copy whose address list is its own: the
     * account stays as MAX has it until MAX answers the change. */
    cs_customer merged = a->list[index];
    merged.addresses = cs_arena_calloc(j->arena, merged.address_count + 1, sizeof(cs_address));
    if (!merged.addresses) {
        out->error = cs_arena_full(j->arena, diag);
        return CS_OUTCOME_RETRY;
    }
    memcpy(merged.addresses, a->list[index].addresses, merged.address_count * sizeof(cs_address));
    cs_merge_result result;
    out->error = cs_ownership_merge(j->x->customers.ownership, j->source, j->customer, &merged,
                                    NULL, &merged, j->arena, &result);
    if (out->error) {
        cs_diag_set(diag, out->error, "customer: merging into MAX account %.*s",
                    CS_STR_FMT(a->list[index].account_code));
        return CS_OUTCOME_RETRY;
    }
    if (!result.changed_count) {
        return CS_OUTCOME_DUPLICATE;
    }
    out->error = put_account(j, &merged, merged.account_code, a->versions[index], NULL, diag);
    return out->error ? (cs_export_transient(out->error) || out->error == CS_ERR_HTTP_CONFLICT
                             ? CS_OUTCOME_RETRY
                             : CS_OUTCOME_FAILED)
                      : CS_OUTCOME_WRITTEN;
}

/* The account this customer is: linked before, or found by identity.
 * *found false: there is none. */
static cs_outcome find_account(customer_job *j, size_t *index, bool *found, cs_record_result *out,
                               cs_diag *diag)
{
    cs_export *x = j->x;
    char linked[64];
    out->error = cs_state_idmap_get(x->flow.state, "customer", j->source, j->key, CS_SYS_EXACTMAX,
                                    linked, sizeof(linked), found, diag);
    if (out->error) {
        return CS_OUTCOME_RETRY;
    }
    if (*found && account_by_id(x->accounts, cs_str_from_c(linked), index)) {
        return CS_OUTCOME_WRITTEN;
    }
    cs_match match;
    out->error = cs_identity_match_indexed(x->accounts->keys, j->customer, x->accounts->list,
                                           x->accounts->count, j->arena, &match);
    if (out->error) {
        cs_diag_set(diag, out->error, "customer: matching to MAX accounts");
        return CS_OUTCOME_RETRY;
    }
    *found = match.kind == CS_MATCH_ONE;
    *index = match.index;
    if (match.kind == CS_MATCH_AMBIGUOUS) {
        out->error = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                                 "identity_ambiguous: %.*s matches %zu MAX accounts (%.*s, %.*s%s)",
                                 CS_STR_FMT(match.key), match.candidate_count,
                                 CS_STR_FMT(x->accounts->list[match.candidates[0]].account_code),
                                 CS_STR_FMT(x->accounts->list[match.candidates[1]].account_code),
                                 match.candidate_count > 2 ? ", ..." : "");
        cs_diag_set_field(diag, "identity");
        return CS_OUTCOME_FAILED;
    }
    return CS_OUTCOME_WRITTEN;
}

/* Finds the customer's account and, with update_found, writes the fields the
 * storefront owns into it; or creates it. Links it; out->target_id is its
 * custId. */
static void place_customer(customer_job *j, bool update_found, cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    cs_export *x = j->x;
    out->error = accounts_load(x, diag);
    if (out->error) {
        out->outcome = CS_OUTCOME_RETRY;
        return;
    }
    size_t index = 0;
    bool found = false;
    out->outcome = find_account(j, &index, &found, out, diag);
    char cust_id[16] = "";
    if (out->outcome == CS_OUTCOME_WRITTEN && found) {
        snprintf(cust_id, sizeof(cust_id), "%.*s",
                 CS_STR_FMT(x->accounts->list[index].account_code));
        out->outcome = update_found ? update(j, index, out, diag) : CS_OUTCOME_DUPLICATE;
    } else if (out->outcome == CS_OUTCOME_WRITTEN) {
        out->outcome = create(j, out, cust_id, diag);
    }
    out->target_id = cs_arena_copy(j->arena, cs_str_from_c(cust_id));
    if (out->outcome == CS_OUTCOME_WRITTEN || out->outcome == CS_OUTCOME_DUPLICATE) {
        out->error = cs_state_idmap_put(x->flow.state, "customer", j->source, j->key,
                                        CS_SYS_EXACTMAX, out->target_id, diag);
        out->outcome = out->error ? CS_OUTCOME_RETRY : out->outcome;
    }
}

static void apply_customer(customer_job *j, cs_record_result *out)
{
    const cs_customer *c = j->customer;
    if (!j->x->customers.all && !c->b2b && !c->company.len) {
        out->outcome = CS_OUTCOME_SKIPPED; /* buys on the store's web account */
        return;
    }
    place_customer(j, true, out);
}

/* ---- the account an order goes on ---- */

/* What an order says of its customer: the e-mail, and the billing
 * address for names, company, phone and the address. */
static void customer_of(const cs_order *o, cs_str id, cs_address *billing, cs_customer *c)
{
    *billing = o->billing;
    *c = (cs_customer){.email = o->customer.email.len ? o->customer.email : o->billing.email,
                       .first_name = o->billing.first_name,
                       .last_name = o->billing.last_name,
                       .phone = o->billing.phone,
                       .company = o->billing.company,
                       .account_code = o->customer.account_code,
                       .b2b = o->billing.company.len > 0,
                       .addresses = billing,
                       .address_count = 1};
    c->meta.source_id = id;
}

static const char *customer_key(cs_system source, cs_str store, cs_str id, cs_arena *arena)
{
    return source == CS_SYS_SHOPIFY
               ? cs_arena_sprintf(arena, "customer:shopify:%.*s:%.*s", CS_STR_FMT(store),
                                  CS_STR_FMT(id))
               : cs_arena_sprintf(arena, "customer:commercetools:%.*s", CS_STR_FMT(id));
}

cs_error cs_export_order_account(cs_export *x, const cs_export_job *job, cs_arena *arena,
                                 cs_str *cust_id, cs_diag *diag)
{
    const cs_order *o = job->order;
    cs_str id = o->customer.ids.by_system[job->source];
    *cust_id = CS_STR_NULL;
    if (!x->customers.enabled || o->guest || !id.len) {
        return CS_ERR_OK;
    }
    const char *key = customer_key(job->source, o->store_code, id, arena);
    char *linked = cs_arena_alloc(arena, 64);
    bool found = false;
    cs_error r = key && linked ? cs_state_idmap_get(x->flow.state, "customer", job->source,
                                                    cs_str_from_c(key), CS_SYS_EXACTMAX, linked, 64,
                                                    &found, diag)
                               : cs_arena_full(arena, diag);
    if (r || found) {
        *cust_id = found ? cs_str_from_c(linked) : CS_STR_NULL;
        return r;
    }
    if (!x->customers.all && !o->billing.company.len) {
        return CS_ERR_OK; /* a private customer under "b2b": the web account */
    }
    cs_address billing;
    cs_customer c;
    customer_of(o, id, &billing, &c);
    customer_job j = {x, job->source, o->store_code, cs_str_from_c(key), &c, arena};
    cs_record_result placed = {.diag = diag};
    place_customer(&j, false, &placed);
    if (placed.outcome == CS_OUTCOME_RETRY || placed.outcome == CS_OUTCOME_FAILED) {
        return placed.error ? placed.error
                            : cs_diag_set(diag, CS_ERR_BUSY,
                                          "customer %s: its account is being made by another "
                                          "invocation",
                                          key);
    }
    *cust_id = placed.target_id;
    return CS_ERR_OK;
}

/* ---- customers read from the storefronts ---- */

/* One decoded customer (problems from its decoding) applied, with the
 * customer as the API gave it for a failure's snapshot. */
static void customer_record(cs_export *x, cs_system source, cs_str store, cs_str shop_domain,
                            const cs_json *json, const cs_customer *c, cs_problems *problems,
                            cs_arena *arena, cs_record_result *out)
{
    bool shopify = source == CS_SYS_SHOPIFY;
    const char *key_text = customer_key(source, store, c->meta.source_id, arena);
    cs_str key = cs_str_from_c(key_text ? key_text : "");
    if (!cs_export_begin(out, key, c->meta.source_id, arena)) {
        return;
    }
    if (cs_problems_total(problems)) {
        out->error = cs_problems_to_diag(problems, CS_ERR_INVALID_ARGUMENT, (cs_diag *)out->diag);
    } else {
        customer_job j = {x, source, store, key, c, arena};
        apply_customer(&j, out);
    }
    if (out->outcome == CS_OUTCOME_FAILED) {
        out->snapshot = cs_export_snapshot(shopify ? "shopify" : "commercetools", shop_domain,
                                           "customer", json, arena);
        if (!out->snapshot.len) {
            *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        }
    }
}

cs_error cs_export_shopify_customers_page(cs_export *x, const cs_shop *shop, cs_export_read *r,
                                          int first, cs_arena *arena, cs_diag *diag)
{
    cs_export_shopify_since(r);
    cs_shopify_customer_item *items;
    size_t count;
    cs_shopify_page page;
    cs_error e = cs_shopify_customers_page(shop->api, r->since_ms, r->after, first, arena, &items,
                                           &count, &page, diag);
    if (e) {
        return e;
    }
    r->more = page.has_next;
    r->after = page.end_cursor;
    for (size_t i = 0; i < count; i++) {
        const cs_customer *c = &items[i].customer;
        if (r->to_ms && c->meta.updated_at_ms >= r->to_ms) {
            r->more = false;
            break;
        }
        if (!cs_cursor_after(&r->done, c->meta.updated_at_ms, c->meta.source_id)) {
            continue; /* applied before the checkpoint */
        }
        x->flow.records_in++;
        cs_record_result out;
        customer_record(x, CS_SYS_SHOPIFY, shop->store, shop->domain, items[i].source, c,
                        &items[i].problems, arena, &out);
        if (!cs_export_read_next(r, cs_flow_record(&x->flow, &out), c->meta.updated_at_ms,
                                 c->meta.source_id)) {
            break;
        }
    }
    return CS_ERR_OK;
}

/* A commercetools customer's store: the first of its stores. */
static cs_str ct_store(const cs_json *customer)
{
    const cs_json *stores = cs_json_object_get(customer, CS_STR_LIT("stores"));
    const cs_json *key = stores ? cs_json_object_get(stores->first, CS_STR_LIT("key")) : NULL;
    return key ? key->text : CS_STR_NULL;
}

static void ct_customer(cs_export *x, const cs_json *json, const cs_customer *c,
                        cs_problems *problems, cs_arena *arena, cs_record_result *out)
{
    customer_record(x, CS_SYS_COMMERCETOOLS, ct_store(json), CS_STR_NULL, json, c, problems, arena,
                    out);
}

static void ct_decode(const cs_json *json, cs_arena *arena, cs_customer *c, cs_problems *problems)
{
    cs_problems_init(problems, arena);
    cs_commercetools_customer_decode(json, arena, c, problems);
}

cs_error cs_export_commercetools_customers_page(cs_export *x, cs_export_read *r, int limit,
                                                cs_arena *arena, cs_diag *diag)
{
    const cs_json *results;
    cs_error e = cs_export_commercetools_fetch(x, r, cs_commercetools_customers_page, limit, arena,
                                               &results, diag);
    if (e) {
        return e;
    }
    for (const cs_json *json = results ? results->first : NULL; json; json = json->next) {
        cs_customer c;
        cs_problems problems;
        ct_decode(json, arena, &c, &problems);
        if (r->to_ms && c.meta.updated_at_ms >= r->to_ms) {
            r->more = false;
            break;
        }
        x->flow.records_in++;
        cs_record_result out;
        ct_customer(x, json, &c, &problems, arena, &out);
        if (!cs_export_read_next(r, cs_flow_record(&x->flow, &out), c.meta.updated_at_ms,
                                 out.source_id)) {
            break;
        }
    }
    return CS_ERR_OK;
}

void cs_export_customer_replay(cs_export *x, const cs_json *doc, cs_arena *arena,
                               cs_record_result *out)
{
    const cs_json *json = cs_json_object_get(doc, CS_STR_LIT("customer"));
    const cs_json *source = cs_json_object_get(doc, CS_STR_LIT("source"));
    cs_customer c;
    cs_problems problems;
    if (source && cs_str_eq_c(source->text, "commercetools")) {
        ct_decode(json, arena, &c, &problems);
        ct_customer(x, json, &c, &problems, arena, out);
        return;
    }
    const cs_json *domain = cs_json_object_get(doc, CS_STR_LIT("shop"));
    const cs_shop *shop = domain ? cs_connections_shop(&x->systems, domain->text) : NULL;
    cs_problems_init(&problems, arena);
    cs_shopify_customer_decode_graphql(json, arena, &c, &problems);
    if (!shop) {
        cs_problems_add(&problems, "shop", "unknown_shop", "shop %.*s is not configured",
                        domain ? (int)domain->text.len : 0, domain ? domain->text.ptr : "");
    }
    customer_record(x, CS_SYS_SHOPIFY, shop ? shop->store : CS_STR_LIT("?"),
                    domain ? domain->text : CS_STR_NULL, json, &c, &problems, arena, out);
}
