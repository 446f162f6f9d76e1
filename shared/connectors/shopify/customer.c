#include "customer.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"
#include "fields.h"
#include "mapping/identity.h"

typedef struct names {
    bool graphql;
    const char *first_name, *last_name, *updated_at, *addresses, *default_address;
    const char *email_consent, *sms_consent, *consent_state, *consent_updated_at;
} names;

static const names webhook_names = {false,
                                    "first_name",
                                    "last_name",
                                    "updated_at",
                                    "addresses",
                                    "default_address",
                                    "email_marketing_consent",
                                    "sms_marketing_consent",
                                    "state",
                                    "consent_updated_at"};

static const names graphql_names = {true,
                                    "firstName",
                                    "lastName",
                                    "updatedAt",
                                    "addresses",
                                    "defaultAddress",
                                    "emailMarketingConsent",
                                    "smsMarketingConsent",
                                    "marketingState",
                                    "consentUpdatedAt"};

typedef struct decode_ctx {
    const names *n;
    cs_arena *arena;
    cs_problems *problems;
    bool failed;
} decode_ctx;

static int64_t time_at(decode_ctx *ctx, const cs_json *obj, const char *key, const char *path)
{
    cs_str text = cs_shopify_text(obj, key);
    int64_t ms = 0;
    cs_diag diag;
    if (text.len && cs_time_parse_rfc3339(text, &ms, NULL, &diag)) {
        cs_problems_add(ctx->problems, path, "rfc3339", "%s", diag.message);
        ctx->failed = true;
    }
    return ms;
}

/* GraphQL moved email and phone into objects of their own; the plain
 * fields remain on older versions and in webhooks. */
static cs_str contact_field(const decode_ctx *ctx, const cs_json *c, const char *plain,
                            const char *object, const char *inner)
{
    cs_str v = cs_shopify_text(c, plain);
    return v.len || !ctx->n->graphql ? v : cs_shopify_text(cs_shopify_object(c, object), inner);
}

static void decode_addresses(decode_ctx *ctx, const cs_json *c, cs_customer *out)
{
    bool edges;
    size_t count;
    const cs_json *a = cs_shopify_list(c, ctx->n->addresses, &count, &edges);
    out->addresses = count ? cs_arena_calloc(ctx->arena, count, sizeof(cs_address)) : NULL;
    out->address_count = out->addresses ? count : 0;
    for (size_t i = 0; i < out->address_count; a = a->next, i++) {
        cs_shopify_address(cs_shopify_node(a, edges), ctx->n->graphql, &out->addresses[i]);
    }
    cs_address main = {0};
    cs_shopify_address(cs_shopify_object(c, ctx->n->default_address), ctx->n->graphql, &main);
    out->company = main.company;
}

static void add_consent(decode_ctx *ctx, const cs_json *c, const char *key, const char *purpose,
                        cs_customer *out)
{
    const cs_json *consent = cs_shopify_object(c, key);
    if (!consent) {
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s.%s", key, ctx->n->consent_updated_at);
    cs_consent *x = &out->consents[out->consent_count++];
    x->purpose = cs_str_from_c(purpose);
    x->granted =
        cs_str_eq_nocase(cs_shopify_text(consent, ctx->n->consent_state), CS_STR_LIT("subscribed"));
    x->updated_at_ms = time_at(ctx, consent, ctx->n->consent_updated_at, path);
    x->locale = out->locale;
}

static void set_ids(decode_ctx *ctx, const cs_json *c, cs_customer *out)
{
    if (cs_shopify_provenance(c, "customer", ctx->arena, &out->meta, &out->ids).len == 0) {
        cs_problems_add(ctx->problems, "id", "required", "the customer has no id");
        ctx->failed = true;
    }
}

static cs_error decode(const names *n, const cs_json *c, cs_arena *arena, cs_customer *out,
                       cs_problems *problems)
{
    decode_ctx ctx = {n, arena, problems, false};
    memset(out, 0, sizeof(*out));
    if (!c || c->type != CS_JSON_OBJECT) {
        cs_problems_add(problems, "", "type", "a customer is a JSON object");
        return CS_ERR_INVALID_ARGUMENT;
    }
    set_ids(&ctx, c, out);
    out->email = cs_normalize_email(
        contact_field(&ctx, c, "email", "defaultEmailAddress", "emailAddress"), arena);
    out->phone = contact_field(&ctx, c, "phone", "defaultPhoneNumber", "phoneNumber");
    out->first_name = cs_shopify_text(c, n->first_name);
    out->last_name = cs_shopify_text(c, n->last_name);
    out->locale = cs_shopify_text(c, "locale");
    out->meta.updated_at_ms = time_at(&ctx, c, n->updated_at, n->updated_at);
    decode_addresses(&ctx, c, out);
    out->consents = cs_arena_calloc(arena, 2, sizeof(cs_consent));
    if (out->consents) {
        add_consent(&ctx, c, n->email_consent, "email_marketing", out);
        add_consent(&ctx, c, n->sms_consent, "sms_marketing", out);
    }
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

cs_error cs_shopify_customer_decode(const cs_json *customer, cs_arena *arena, cs_customer *out,
                                    cs_problems *problems)
{
    return decode(&webhook_names, customer, arena, out, problems);
}

cs_error cs_shopify_customer_decode_graphql(const cs_json *customer, cs_arena *arena,
                                            cs_customer *out, cs_problems *problems)
{
    return decode(&graphql_names, customer, arena, out, problems);
}
