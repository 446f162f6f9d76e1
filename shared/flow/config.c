#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CONFIG_MAX_BYTES = 4 * 1024 * 1024 };

/* Every member a config object may have, by the object's path ("*" is any
 * member name, "[]" an array's elements). An object not listed here (a
 * reference, a lookup table, the maps, ownership and identity, which the
 * mapping library checks itself) is not looked into. A member no function
 * reads is a mistake its author wants to hear about: a misspelt "shares"
 * would otherwise publish a shared stockroom whole in every shop. A function
 * that reads a new setting declares it here. */
typedef struct known_members {
    const char *path;
    const char *const *members;
} known_members;

#define MEMBERS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const known_members KNOWN[] = {
    {"", MEMBERS("integration", "connections", "order_export", "customer_export", "stock_update",
                 "fulfillment_callback", "lookups", "maps", "ownership", "identity")},
    {"connections", MEMBERS("shopify", "commercetools", "exactmax")},
    {"connections.shopify", MEMBERS("shops", "webhook_secret", "admin_url", "access_tokens")},
    {"connections.shopify.shops", MEMBERS("*")},
    {"connections.shopify.shops.*", MEMBERS("store")},
    {"connections.commercetools", MEMBERS("auth_url", "api_url", "client_id", "client_secret")},
    {"connections.exactmax", MEMBERS("url", "key")},
    {"order_export", MEMBERS("sku_lookup", "stores_lookup", "charges", "terms", "tax_code",
                             "ship_via", "discount_part", "freight_part", "due_days",
                             "reconcile_lookback_minutes", "reconcile_settle_seconds")},
    {"customer_export", MEMBERS("accounts", "id_prefix")},
    {"stock_update", MEMBERS("sku_lookup", "stores_lookup", "locations", "safety_stock",
                             "open_order_days", "unexported_minutes")},
    {"stock_update.locations[]", MEMBERS("stockroom", "store", "location", "channel", "share")},
    {"stock_update.safety_stock",
     MEMBERS("default", "category_lookup", "skus", "categories", "stockrooms")},
    {"fulfillment_callback", MEMBERS("sku_lookup", "notify_customer")},
};

static const char *const *known_at(const char *path)
{
    for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++) {
        if (strcmp(KNOWN[i].path, path) == 0) {
            return KNOWN[i].members;
        }
    }
    return NULL;
}

/* Edit distance between a and b, up to 3 (short names only): enough to
 * tell a misspelling from another word. */
static size_t distance(cs_str a, const char *b)
{
    size_t bl = strlen(b);
    if (a.len > 40 || bl > 40) {
        return 3;
    }
    size_t row[41];
    for (size_t j = 0; j <= bl; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.len; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bl; j++) {
            size_t up = row[j];
            size_t change = diag + (a.ptr[i - 1] != b[j - 1]);
            size_t shorter = (up < row[j - 1] ? up : row[j - 1]) + 1;
            row[j] = change < shorter ? change : shorter;
            diag = up;
        }
    }
    return row[bl] < 3 ? row[bl] : 3;
}

static void unknown_member(cs_config *c, const char *at, const char *path, cs_str key,
                           const char *const *members)
{
    cs_buf list;
    cs_buf_init(&list, 1024);
    const char *near = NULL;
    for (size_t i = 0; members[i]; i++) {
        cs_buf_appendf(&list, "%s%s", i ? ", " : "", members[i]);
        size_t close = strlen(members[i]) > 5 ? 2 : 1; /* "share" is not "store" */
        near = !near && distance(key, members[i]) <= close ? members[i] : near;
    }
    cs_buf_append_byte(&list, '\0');
    if (near) {
        cs_problems_add(&c->problems, at, "unknown_key",
                        "not a setting; did you mean %s? (%s has %s)", near,
                        path[0] ? path : "the config", list.data ? list.data : "");
    } else {
        cs_problems_add(&c->problems, at, "unknown_key", "not a setting (%s has %s)",
                        path[0] ? path : "the config", list.data ? list.data : "");
    }
    cs_buf_clean_up(&list);
}

/* obj at its generic path (see KNOWN) and at its real one, for messages. */
static void check_members(cs_config *c, const cs_json *obj, const char *path, const char *real)
{
    const char *const *members = path && real ? known_at(path) : NULL;
    if (!members || obj->type != CS_JSON_OBJECT) {
        return;
    }
    bool any = strcmp(members[0], "*") == 0;
    for (const cs_json *m = obj->first; m; m = m->next) {
        const char *at = real[0] ? cs_arena_sprintf(c->arena, "%s.%.*s", real, CS_STR_FMT(m->key))
                                 : cs_arena_strndup(c->arena, m->key);
        if (!at) {
            return; /* the arena is full, which init reports */
        }
        bool known = any;
        for (size_t i = 0; !known && members[i]; i++) {
            known = cs_str_eq_c(m->key, members[i]);
        }
        if (!known) {
            unknown_member(c, at, path, m->key, members);
            continue;
        }
        const char *sub = cs_arena_sprintf(c->arena, "%s%s%.*s", path, path[0] ? "." : "",
                                           CS_STR_FMT(any ? CS_STR_LIT("*") : m->key));
        size_t i = 0;
        for (const cs_json *e = m->type == CS_JSON_ARRAY ? m->first : NULL; e; e = e->next, i++) {
            check_members(c, e, cs_arena_sprintf(c->arena, "%s[]", sub),
                          cs_arena_sprintf(c->arena, "%s[%zu]", at, i));
        }
        check_members(c, m, sub, at);
    }
}

cs_error cs_config_load(cs_config *c, const char *path, cs_arena *arena, cs_aws *aws, cs_diag *diag)
{
    *c = (cs_config){.arena = arena, .aws = aws};
    cs_problems_init(&c->problems, arena);
    const char *name = path ? path : getenv("CS_CONFIG");
    if (!name || !name[0]) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "CS_CONFIG names no integration config file");
    }
    const char *root = getenv("LAMBDA_TASK_ROOT");
    char *full = name[0] == '/' || !root ? cs_arena_strndup(arena, cs_str_from_c(name))
                                         : cs_arena_sprintf(arena, "%s/%s", root, name);
    if (!full) {
        return cs_arena_full(arena, diag);
    }
    cs_buf text;
    cs_buf_init(&text, CONFIG_MAX_BYTES);
    cs_error r = cs_buf_append_file(&text, full, "integration config", diag);
    char *copy = r ? NULL : cs_arena_strndup(arena, cs_buf_view(&text));
    size_t len = text.len;
    cs_buf_clean_up(&text);
    if (r) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: %s", full,
                           diag ? diag->message : "unreadable");
    }
    if (!copy) {
        return cs_arena_full(arena, diag);
    }
    cs_json *doc;
    r = cs_json_parse(arena, cs_str_make(copy, len), &doc, diag);
    if (!r && doc->type != CS_JSON_OBJECT) {
        r = cs_diag_set(diag, CS_ERR_JSON_TYPE, "the config is not a JSON object");
    }
    if (r) {
        char why[sizeof(diag->message)];
        snprintf(why, sizeof(why), "%s", diag ? diag->message : "");
        return cs_diag_set(diag, CS_ERR_CONFIG, "%s: %s", full, why);
    }
    c->root = doc;
    check_members(c, doc, "", "");
    return CS_ERR_OK;
}

static const char *join(cs_config *c, const char *parent, const char *key)
{
    return parent && parent[0] ? cs_arena_sprintf(c->arena, "%s.%s", parent, key)
                               : cs_arena_strndup(c->arena, cs_str_from_c(key));
}

const cs_json *cs_config_object(cs_config *c, const char *path, bool optional)
{
    const cs_json *at = cs_json_path(c->root, path);
    if (!at && !optional) {
        cs_problems_add(&c->problems, path, "required", "this section is missing");
    } else if (at && at->type != CS_JSON_OBJECT) {
        cs_problems_add(&c->problems, path, "type", "must be an object");
        at = NULL;
    }
    return at;
}

/* The value of the variable a reference names; CS_STR_NULL and a problem
 * when the variable is unset or empty. */
static cs_str from_env(cs_config *c, const char *path, const cs_json *name)
{
    if (name->type != CS_JSON_STRING || name->text.len == 0 || name->text.len > 128) {
        cs_problems_add(&c->problems, path, "type", "a variable name is a string");
        return CS_STR_NULL;
    }
    char variable[129];
    snprintf(variable, sizeof(variable), "%.*s", CS_STR_FMT(name->text));
    const char *value = getenv(variable);
    if (!value || !value[0]) {
        cs_problems_add(&c->problems, path, "unset", "the variable %s is not set", variable);
        return CS_STR_NULL;
    }
    return cs_str_from_c(cs_arena_strndup(c->arena, cs_str_from_c(value)));
}

static cs_str from_secret(cs_config *c, const char *path, cs_str id)
{
    if (!c->aws) {
        cs_problems_add(&c->problems, path, "no_aws",
                        "a Secrets Manager secret needs AWS credentials in the environment");
        return CS_STR_NULL;
    }
    cs_str value = CS_STR_NULL;
    cs_diag diag;
    if (cs_secret_string(c->aws, id, c->arena, &value, &diag)) {
        cs_problems_add(&c->problems, path, "secret", "secret %.*s: %s", CS_STR_FMT(id),
                        diag.message);
        return CS_STR_NULL;
    }
    return value;
}

/* A reference object; which kinds it may be depends on the caller. */
static cs_str resolve(cs_config *c, const char *path, const cs_json *ref, bool secret)
{
    const cs_json *env = cs_json_object_get(ref, CS_STR_LIT("env"));
    const cs_json *id = cs_json_object_get(ref, CS_STR_LIT("secret"));
    const cs_json *id_env = cs_json_object_get(ref, CS_STR_LIT("secret_env"));
    if (ref->count != 1 || (!env && !(secret && (id || id_env)))) {
        cs_problems_add(&c->problems, path, "reference",
                        secret ? "a secret is {\"env\": NAME}, {\"secret\": ID} or "
                                 "{\"secret_env\": NAME}"
                               : "a setting is a string or {\"env\": NAME}");
        return CS_STR_NULL;
    }
    if (env) {
        return from_env(c, path, env);
    }
    if (id && (id->type != CS_JSON_STRING || id->text.len == 0)) {
        cs_problems_add(&c->problems, path, "type", "a secret id is a string");
        return CS_STR_NULL;
    }
    cs_str name = id ? id->text : from_env(c, path, id_env);
    return name.len ? from_secret(c, path, name) : CS_STR_NULL;
}

cs_str cs_config_string(cs_config *c, const cs_json *at, const char *parent, const char *key,
                        bool optional)
{
    const cs_json *v = cs_json_object_get(at, cs_str_from_c(key));
    const char *path = join(c, parent, key);
    if (!v) {
        if (!optional) {
            cs_problems_add(&c->problems, path, "required", "this setting is missing");
        }
        return CS_STR_NULL;
    }
    if (v->type == CS_JSON_STRING) {
        return v->text;
    }
    if (v->type == CS_JSON_OBJECT) {
        return resolve(c, path, v, false);
    }
    cs_problems_add(&c->problems, path, "type", "a setting is a string or {\"env\": NAME}");
    return CS_STR_NULL;
}

cs_str cs_config_secret(cs_config *c, const cs_json *at, const char *parent, const char *key)
{
    const cs_json *v = cs_json_object_get(at, cs_str_from_c(key));
    const char *path = join(c, parent, key);
    if (!v) {
        cs_problems_add(&c->problems, path, "required", "this secret is missing");
        return CS_STR_NULL;
    }
    if (v->type != CS_JSON_OBJECT) {
        cs_problems_add(&c->problems, path, "inline_secret",
                        "a secret is a reference ({\"secret\": ID} or {\"env\": NAME}), "
                        "never its value");
        return CS_STR_NULL;
    }
    return resolve(c, path, v, true);
}

int64_t cs_config_int(cs_config *c, const cs_json *at, const char *parent, const char *key,
                      int64_t min, int64_t max, int64_t fallback)
{
    const cs_json *v = cs_json_object_get(at, cs_str_from_c(key));
    int64_t n = fallback;
    if (v && (v->type != CS_JSON_NUMBER || cs_parse_int64(v->text, &n) || n < min || n > max)) {
        cs_problems_add(&c->problems, join(c, parent, key), "range",
                        "must be an integer from %lld to %lld", (long long)min, (long long)max);
        return fallback;
    }
    return n;
}

bool cs_config_bool(cs_config *c, const cs_json *at, const char *parent, const char *key,
                    bool fallback)
{
    const cs_json *v = cs_json_object_get(at, cs_str_from_c(key));
    if (v && v->type != CS_JSON_BOOL) {
        cs_problems_add(&c->problems, join(c, parent, key), "type", "must be true or false");
    }
    return v && v->type == CS_JSON_BOOL ? v->boolean : fallback;
}

cs_error cs_config_check(const cs_config *c, cs_logger *log, cs_diag *diag)
{
    size_t total = cs_problems_total(&c->problems);
    if (total == 0) {
        return CS_ERR_OK;
    }
    for (size_t i = 0; log && i < c->problems.count; i++) {
        const cs_problem *p = &c->problems.items[i];
        CS_LOG(log, CS_LOG_ERROR, "config problem", CS_LOG_CSTR("path", p->path),
               CS_LOG_CSTR("rule", p->rule), CS_LOG_CSTR("problem", p->message));
    }
    cs_diag list;
    cs_problems_to_diag(&c->problems, CS_ERR_CONFIG, &list);
    return cs_diag_set(diag, CS_ERR_CONFIG, "%zu problem%s in the config: %s", total,
                       total == 1 ? "" : "s", list.message);
}
