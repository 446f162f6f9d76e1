#include "template.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"

static const char ACCOUNT[] = "000000000000";

typedef struct param {
    cs_str name;
    cs_str value;
} param;

typedef struct resource {
    cs_str logical_id;
    cs_str type;
    const em_yaml *node;
} resource;

typedef struct loader {
    cs_arena *arena;
    cs_problems *warnings;
    cs_diag *diag;
    const em_template_opts *opts;
    cs_str region;
    param *params;
    size_t param_count;
    resource *resources;
    size_t resource_count;
    const em_yaml *globals; /* Globals.Function, or NULL */
    bool quiet;             /* Globals are applied per function but warned about once */
    em_template *t;
} loader;

static cs_error fail(loader *l, const em_yaml *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cs_error fail(loader *l, const em_yaml *node, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return cs_diag_set(l->diag, CS_ERR_CONFIG, "line %zu, column %zu: %s", node ? node->line : 0,
                       node ? node->column : 0, what);
}

/* Warnings point at the key that names what is not emulated. */
static void warn(loader *l, const char *path, const em_yaml *node, const char *what)
{
    if (l->quiet) {
        return;
    }
    size_t line = node ? (node->key_line ? node->key_line : node->line) : 0;
    size_t column = node ? (node->key_line ? node->key_column : node->column) : 0;
    cs_problems_add(l->warnings, path, "not_emulated", "line %zu, column %zu: %s", line, column,
                    what);
}

static const char *join(loader *l, const char *a, cs_str b)
{
    const char *s = cs_arena_sprintf(l->arena, "%s.%.*s", a, CS_STR_FMT(b));
    return s ? s : a;
}

/* ---- intrinsic functions ---- */

static const resource *find_resource(const loader *l, cs_str id)
{
    for (size_t i = 0; i < l->resource_count; i++) {
        if (cs_str_eq(l->resources[i].logical_id, id)) {
            return &l->resources[i];
        }
    }
    return NULL;
}

static const param *find_param(const loader *l, cs_str name)
{
    for (size_t i = 0; i < l->param_count; i++) {
        if (cs_str_eq(l->params[i].name, name)) {
            return &l->params[i];
        }
    }
    return NULL;
}

/* The physical name of a queue or function: its Name property or its id. */
static cs_str physical_name(const resource *r)
{
    const em_yaml *props = em_yaml_get(r->node, "Properties");
    const char *key = cs_str_eq_c(r->type, "AWS::SQS::Queue") ? "QueueName" : "FunctionName";
    const em_yaml *name = em_yaml_get(props, key);
    return name && name->type == EM_YAML_SCALAR && name->tag.len == 0 ? name->text : r->logical_id;
}

static cs_str resolve(loader *l, const em_yaml *node, bool *ok);

/* Ref of a secret is its ARN; AWS adds six random characters to the name,
 * which nothing here depends on. */
static cs_str secret_arn(loader *l, const resource *r, bool *ok)
{
    const em_yaml *name = em_yaml_get(em_yaml_get(r->node, "Properties"), "Name");
    cs_str text = name ? resolve(l, name, ok) : r->logical_id;
    if (!*ok) {
        return CS_STR_NULL;
    }
    return cs_str_from_c(cs_arena_sprintf(l->arena, "arn:aws:secretsmanager:%.*s:%s:secret:%.*s",
                                          CS_STR_FMT(l->region), ACCOUNT, CS_STR_FMT(text)));
}

static cs_str ref_value(loader *l, const em_yaml *node, cs_str name, bool *ok)
{
    const param *p = find_param(l, name);
    *ok = true;
    if (p) {
        return p->value;
    }
    if (cs_str_eq_c(name, "AWS::Region")) {
        return l->region;
    }
    if (cs_str_eq_c(name, "AWS::AccountId")) {
        return cs_str_from_c(ACCOUNT);
    }
    if (cs_str_eq_c(name, "AWS::StackName")) {
        return CS_STR_LIT("local");
    }
    if (cs_str_eq_c(name, "AWS::Partition")) {
        return CS_STR_LIT("aws");
    }
    const resource *r = find_resource(l, name);
    if (r && cs_str_eq_c(r->type, "AWS::SecretsManager::Secret")) {
        return secret_arn(l, r, ok);
    }
    if (r && cs_str_eq_c(r->type, "AWS::SQS::Queue")) {
        /* Ref of a queue is its URL. */
        return cs_str_from_c(cs_arena_sprintf(l->arena, "http://sqs.%.*s.localhost/%s/%.*s",
                                              CS_STR_FMT(l->region), ACCOUNT,
                                              CS_STR_FMT(physical_name(r))));
    }
    if (r) {
        return physical_name(r);
    }
    *ok = false;
    fail(l, node, "!Ref %.*s: no parameter or resource of that name", CS_STR_FMT(name));
    return CS_STR_NULL;
}

static cs_str getatt_value(loader *l, const em_yaml *node, cs_str id, cs_str attribute, bool *ok)
{
    const resource *r = find_resource(l, id);
    *ok = r && cs_str_eq_c(attribute, "Arn");
    if (!*ok) {
        fail(l, node, "!GetAtt %.*s.%.*s: only the Arn of a resource in this template is known",
             CS_STR_FMT(id), CS_STR_FMT(attribute));
        return CS_STR_NULL;
    }
    bool queue = cs_str_eq_c(r->type, "AWS::SQS::Queue");
    return cs_str_from_c(cs_arena_sprintf(l->arena, "arn:aws:%s:%.*s:%s:%s%.*s",
                                          queue ? "sqs" : "lambda", CS_STR_FMT(l->region), ACCOUNT,
                                          queue ? "" : "function:", CS_STR_FMT(physical_name(r))));
}

/* "X.Arn" or a sequence [X, Arn]. */
static bool split_getatt(const em_yaml *arg, cs_str *id, cs_str *attribute)
{
    if (arg->type == EM_YAML_SCALAR) {
        long dot = cs_str_find_char(arg->text, '.', 0);
        if (dot <= 0) {
            return false;
        }
        *id = cs_str_sub(arg->text, 0, (size_t)dot);
        *attribute = cs_str_sub(arg->text, (size_t)dot + 1, arg->text.len);
        return true;
    }
    if (arg->type == EM_YAML_SEQ && arg->count == 2 && arg->first->type == EM_YAML_SCALAR &&
        arg->first->next->type == EM_YAML_SCALAR) {
        *id = arg->first->text;
        *attribute = arg->first->next->text;
        return true;
    }
    return false;
}

/* ${Name} and ${X.Arn} in a !Sub string. */
static cs_str substitute(loader *l, const em_yaml *node, cs_str text, bool *ok)
{
    cs_buf out;
    cs_buf_init(&out, 64 * 1024);
    size_t pos = 0;
    *ok = true;
    while (*ok && pos < text.len) {
        long open = cs_str_find_char(text, '$', pos);
        if (open < 0 || (size_t)open + 1 >= text.len || text.ptr[open + 1] != '{') {
            size_t end = open < 0 ? text.len : (size_t)open + 1;
            cs_buf_append(&out, text.ptr + pos, end - pos);
            pos = end;
            continue;
        }
        cs_buf_append(&out, text.ptr + pos, (size_t)open - pos);
        long close = cs_str_find_char(text, '}', (size_t)open);
        if (close < 0) {
            *ok = false;
            fail(l, node, "!Sub: '${' without '}'");
            break;
        }
        cs_str name = cs_str_sub(text, (size_t)open + 2, (size_t)(close - open - 2));
        long dot = cs_str_find_char(name, '.', 0);
        cs_str value = dot > 0 ? getatt_value(l, node, cs_str_sub(name, 0, (size_t)dot),
                                              cs_str_sub(name, (size_t)dot + 1, name.len), ok)
                               : ref_value(l, node, name, ok);
        cs_buf_append_str(&out, value);
        pos = (size_t)close + 1;
    }
    char *copy = cs_arena_strndup(l->arena, cs_buf_view(&out));
    cs_buf_clean_up(&out);
    return copy ? cs_str_make(copy, strlen(copy)) : CS_STR_NULL;
}

/* The long forms {"Ref": X}, {"Fn::GetAtt": ...}, {"Fn::Sub": ...} as tags. */
static cs_str long_form(const em_yaml *node, const em_yaml **arg)
{
    if (node->type != EM_YAML_MAP || node->count != 1) {
        return CS_STR_NULL;
    }
    static const char *const names[][2] = {
        {"Ref", "!Ref"}, {"Fn::GetAtt", "!GetAtt"}, {"Fn::Sub", "!Sub"}};
    for (size_t i = 0; i < 3; i++) {
        if (cs_str_eq_c(node->first->key, names[i][0])) {
            *arg = node->first;
            return cs_str_from_c(names[i][1]);
        }
    }
    return CS_STR_NULL;
}

/* A node's value as text, intrinsics resolved. */
static cs_str resolve(loader *l, const em_yaml *node, bool *ok)
{
    const em_yaml *arg = node;
    cs_str tag = node->tag.len ? node->tag : long_form(node, &arg);
    *ok = true;
    if (tag.len == 0 && node->type == EM_YAML_SCALAR) {
        return node->text;
    }
    if (cs_str_eq_c(tag, "!Ref") && arg->type == EM_YAML_SCALAR) {
        return ref_value(l, node, arg->text, ok);
    }
    cs_str id, attribute;
    if (cs_str_eq_c(tag, "!GetAtt") && split_getatt(arg, &id, &attribute)) {
        return getatt_value(l, node, id, attribute, ok);
    }
    if (cs_str_eq_c(tag, "!Sub") && arg->type == EM_YAML_SCALAR) {
        return substitute(l, node, arg->text, ok);
    }
    *ok = false;
    fail(l, node, "%.*s is not something the emulator can evaluate here",
         tag.len ? (int)tag.len : 5, tag.len ? tag.ptr : "value");
    return CS_STR_NULL;
}

static cs_error integer(loader *l, const em_yaml *node, int64_t *out)
{
    bool ok;
    cs_str text = resolve(l, node, &ok);
    if (!ok) {
        return CS_ERR_CONFIG;
    }
    if (cs_parse_int64(cs_str_trim(text), out)) {
        return fail(l, node, "expected a whole number, not '%.*s'", CS_STR_FMT(text));
    }
    return CS_ERR_OK;
}

static cs_error boolean(loader *l, const em_yaml *node, bool *out)
{
    bool ok;
    cs_str text = resolve(l, node, &ok);
    if (!ok) {
        return CS_ERR_CONFIG;
    }
    if (cs_str_eq_nocase(text, CS_STR_LIT("true"))) {
        *out = true;
    } else if (cs_str_eq_nocase(text, CS_STR_LIT("false"))) {
        *out = false;
    } else {
        return fail(l, node, "expected true or false, not '%.*s'", CS_STR_FMT(text));
    }
    return CS_ERR_OK;
}

static cs_error text(loader *l, const em_yaml *node, cs_str *out)
{
    bool ok;
    *out = resolve(l, node, &ok);
    return ok ? CS_ERR_OK : CS_ERR_CONFIG;
}

/* ---- parameters ---- */

static cs_str override_for(const loader *l, cs_str name)
{
    for (const char *const *o = l->opts && l->opts->overrides ? l->opts->overrides : NULL; o && *o;
         o++) {
        cs_str entry = cs_str_from_c(*o);
        long eq = cs_str_find_char(entry, '=', 0);
        if (eq > 0 && cs_str_eq(cs_str_sub(entry, 0, (size_t)eq), name)) {
            return cs_str_sub(entry, (size_t)eq + 1, entry.len);
        }
    }
    return CS_STR_NULL;
}

static cs_error load_parameters(loader *l, const em_yaml *params)
{
    if (!params) {
        return CS_ERR_OK;
    }
    if (params->type != EM_YAML_MAP) {
        return fail(l, params, "Parameters must be a mapping");
    }
    l->params = cs_arena_calloc(l->arena, params->count + 1, sizeof(*l->params));
    if (!l->params) {
        return cs_arena_full(l->arena, l->diag);
    }
    for (const em_yaml *p = params->first; p; p = p->next) {
        param *out = &l->params[l->param_count++];
        out->name = p->key;
        out->value = override_for(l, p->key);
        const em_yaml *deflt = em_yaml_get(p, "Default");
        if (!out->value.ptr && deflt && deflt->type == EM_YAML_SCALAR) {
            out->value = deflt->text;
        } else if (!out->value.ptr) {
            return fail(l, p, "parameter %.*s has no Default and no override", CS_STR_FMT(p->key));
        }
    }
    return CS_ERR_OK;
}

/* ---- queues ---- */

static cs_error load_redrive(loader *l, const em_yaml *policy, em_queue *q)
{
    const em_yaml *target = em_yaml_get(policy, "deadLetterTargetArn");
    const em_yaml *max = em_yaml_get(policy, "maxReceiveCount");
    cs_str id, attribute;
    const em_yaml *arg = target;
    cs_str tag = target ? (target->tag.len ? target->tag : long_form(target, &arg)) : CS_STR_NULL;
    if (!target || !cs_str_eq_c(tag, "!GetAtt") || !split_getatt(arg, &id, &attribute) ||
        !find_resource(l, id)) {
        return fail(l, target ? target : policy,
                    "RedrivePolicy.deadLetterTargetArn must be !GetAtt <Queue>.Arn of a queue "
                    "in this template");
    }
    q->dlq = id;
    return max ? integer(l, max, &q->max_receive_count)
               : fail(l, policy, "RedrivePolicy needs maxReceiveCount");
}

static cs_error load_queue(loader *l, const resource *r, em_queue *q)
{
    const char *path = join(l, "Resources", r->logical_id);
    q->logical_id = r->logical_id;
    q->name = physical_name(r);
    q->visibility_timeout_s = 30;
    q->retention_s = 345600;
    const em_yaml *props = em_yaml_get(r->node, "Properties");
    cs_error e = CS_ERR_OK;
    for (const em_yaml *p = props ? props->first : NULL; p && !e; p = p->next) {
        if (cs_str_eq_c(p->key, "VisibilityTimeout")) {
            e = integer(l, p, &q->visibility_timeout_s);
        } else if (cs_str_eq_c(p->key, "MessageRetentionPeriod")) {
            e = integer(l, p, &q->retention_s);
        } else if (cs_str_eq_c(p->key, "DelaySeconds")) {
            e = integer(l, p, &q->delay_s);
        } else if (cs_str_eq_c(p->key, "FifoQueue")) {
            e = boolean(l, p, &q->fifo);
        } else if (cs_str_eq_c(p->key, "ContentBasedDeduplication")) {
            e = boolean(l, p, &q->content_dedup);
        } else if (cs_str_eq_c(p->key, "RedrivePolicy")) {
            e = load_redrive(l, p, q);
        } else if (!cs_str_eq_c(p->key, "QueueName")) {
            warn(l, join(l, path, p->key), p, "queue property not emulated");
        }
    }
    return e;
}

/* ---- functions ---- */

static cs_error load_env(loader *l, const em_yaml *environment, em_function *f)
{
    const em_yaml *vars = em_yaml_get(environment, "Variables");
    if (!vars || vars->type != EM_YAML_MAP) {
        return fail(l, environment, "Environment needs a Variables mapping");
    }
    size_t total = f->env_count + vars->count;
    em_env_var *env = cs_arena_calloc(l->arena, total + 1, sizeof(*env));
    if (!env) {
        return cs_arena_full(l->arena, l->diag);
    }
    if (f->env_count) {
        memcpy(env, f->env, f->env_count * sizeof(*env));
    }
    for (const em_yaml *v = vars->first; v; v = v->next) {
        em_env_var *slot = NULL;
        for (size_t i = 0; i < f->env_count; i++) {
            slot = cs_str_eq(env[i].name, v->key) ? &env[i]
                                                  : slot; /* the function overrides Globals */
        }
        slot = slot ? slot : &env[f->env_count++];
        slot->name = v->key;
        cs_error e = text(l, v, &slot->value);
        if (e) {
            return e;
        }
    }
    f->env = env;
    return CS_ERR_OK;
}

static cs_error queue_of_event(loader *l, const em_yaml *node, cs_str *out)
{
    const em_yaml *arg = node;
    cs_str tag = node->tag.len ? node->tag : long_form(node, &arg);
    cs_str id, attribute;
    if (cs_str_eq_c(tag, "!GetAtt") && split_getatt(arg, &id, &attribute)) {
        const resource *r = find_resource(l, id);
        if (r && cs_str_eq_c(r->type, "AWS::SQS::Queue")) {
            *out = id;
            return CS_ERR_OK;
        }
    }
    return fail(l, node,
                "an SQS event's Queue must be !GetAtt <Queue>.Arn of a queue in this template");
}

static cs_error load_sqs_event(loader *l, const char *path, const em_yaml *props, em_sqs_event *e)
{
    e->batch_size = 10;
    e->enabled = true;
    cs_error r = CS_ERR_OK;
    bool has_queue = false;
    for (const em_yaml *p = props ? props->first : NULL; p && !r; p = p->next) {
        if (cs_str_eq_c(p->key, "Queue")) {
            r = queue_of_event(l, p, &e->queue);
            has_queue = true;
        } else if (cs_str_eq_c(p->key, "BatchSize")) {
            r = integer(l, p, &e->batch_size);
        } else if (cs_str_eq_c(p->key, "MaximumBatchingWindowInSeconds")) {
            r = integer(l, p, &e->window_s);
        } else if (cs_str_eq_c(p->key, "Enabled")) {
            r = boolean(l, p, &e->enabled);
        } else if (cs_str_eq_c(p->key, "FunctionResponseTypes")) {
            for (const em_yaml *t = p->first; t; t = t->next) {
                e->report_batch_item_failures |= cs_str_eq_c(t->text, "ReportBatchItemFailures");
            }
        } else if (cs_str_eq_c(p->key, "ScalingConfig")) {
            const em_yaml *max = em_yaml_get(p, "MaximumConcurrency");
            r = max ? integer(l, max, &e->max_concurrency) : CS_ERR_OK;
        } else {
            warn(l, join(l, path, p->key), p, "SQS event property not emulated");
        }
    }
    if (!r && !has_queue) {
        r = fail(l, props, "an SQS event needs a Queue");
    }
    if (!r && (e->batch_size < 1 || e->batch_size > 10000)) {
        r = fail(l, em_yaml_get(props, "BatchSize"), "BatchSize must be from 1 to 10000");
    }
    return r;
}

static cs_error load_schedule_event(loader *l, const char *path, const em_yaml *props, bool v2,
                                    em_schedule_event *e)
{
    e->enabled = true;
    cs_error r = CS_ERR_OK;
    for (const em_yaml *p = props ? props->first : NULL; p && !r; p = p->next) {
        if (cs_str_eq_c(p->key, v2 ? "ScheduleExpression" : "Schedule")) {
            r = text(l, p, &e->expression);
        } else if (v2 && cs_str_eq_c(p->key, "ScheduleExpressionTimezone")) {
            r = text(l, p, &e->timezone);
        } else if (cs_str_eq_c(p->key, "Input")) {
            r = text(l, p, &e->input);
        } else if (!v2 && cs_str_eq_c(p->key, "Enabled")) {
            r = boolean(l, p, &e->enabled);
        } else if (cs_str_eq_c(p->key, "State")) {
            cs_str state;
            r = text(l, p, &state);
            e->enabled = !cs_str_eq_c(state, "DISABLED");
        } else if (!cs_str_eq_c(p->key, "Name") && !cs_str_eq_c(p->key, "Description")) {
            warn(l, join(l, path, p->key), p, "schedule property not emulated");
        }
    }
    if (!r && e->expression.len == 0) {
        r = fail(l, props, "a schedule needs its expression");
    }
    return r;
}

static cs_error load_http_event(loader *l, const char *path, const em_yaml *props, em_http_event *e)
{
    cs_error r = CS_ERR_OK;
    for (const em_yaml *p = props ? props->first : NULL; p && !r; p = p->next) {
        if (cs_str_eq_c(p->key, "Path")) {
            r = text(l, p, &e->path);
        } else if (cs_str_eq_c(p->key, "Method")) {
            r = text(l, p, &e->method);
        } else if (!cs_str_eq_c(p->key, "ApiId") && !cs_str_eq_c(p->key, "PayloadFormatVersion")) {
            warn(l, join(l, path, p->key), p, "HttpApi event property not emulated");
        }
    }
    if (cs_str_eq_c(e->method, "ANY") || cs_str_eq_c(e->method, "any")) {
        e->method = cs_str_make("", 0);
    }
    if (!r && e->path.len && e->path.ptr[0] != '/') {
        r = fail(l, em_yaml_get(props, "Path"), "an HttpApi Path starts with '/'");
    }
    return r;
}

static cs_error load_events(loader *l, const char *path, const em_yaml *events, em_function *f)
{
    f->sqs = cs_arena_calloc(l->arena, events->count + 1, sizeof(*f->sqs));
    f->schedules = cs_arena_calloc(l->arena, events->count + 1, sizeof(*f->schedules));
    f->http = cs_arena_calloc(l->arena, events->count + 1, sizeof(*f->http));
    if (!f->sqs || !f->schedules || !f->http) {
        return cs_arena_full(l->arena, l->diag);
    }
    cs_error r = CS_ERR_OK;
    for (const em_yaml *ev = events->first; ev && !r; ev = ev->next) {
        const em_yaml *type = em_yaml_get(ev, "Type");
        const em_yaml *props = em_yaml_get(ev, "Properties");
        const char *at = join(l, path, ev->key);
        if (!type || type->type != EM_YAML_SCALAR) {
            r = fail(l, ev, "event %.*s has no Type", CS_STR_FMT(ev->key));
        } else if (cs_str_eq_c(type->text, "SQS")) {
            f->sqs[f->sqs_count].name = ev->key;
            r = load_sqs_event(l, at, props, &f->sqs[f->sqs_count++]);
        } else if (cs_str_eq_c(type->text, "Schedule") || cs_str_eq_c(type->text, "ScheduleV2")) {
            f->schedules[f->schedule_count].name = ev->key;
            r = load_schedule_event(l, at, props, cs_str_eq_c(type->text, "ScheduleV2"),
                                    &f->schedules[f->schedule_count++]);
        } else if (cs_str_eq_c(type->text, "HttpApi")) {
            f->http[f->http_count].name = ev->key;
            r = load_http_event(l, at, props, &f->http[f->http_count++]);
        } else {
            warn(l, at, ev, "event type not emulated");
        }
    }
    return r;
}

/* The emulator checks one permission, secretsmanager:GetSecretValue, on
 * its own secrets; the others are IAM's business. */
static cs_error add_grant(loader *l, em_function *f, const em_yaml *arn)
{
    cs_str *grants = cs_arena_calloc(l->arena, f->secret_grant_count + 1, sizeof(cs_str));
    if (!grants) {
        return cs_arena_full(l->arena, l->diag);
    }
    if (f->secret_grant_count) {
        memcpy(grants, f->secret_grants, f->secret_grant_count * sizeof(cs_str));
    }
    f->secret_grants = grants;
    return text(l, arn, &f->secret_grants[f->secret_grant_count++]);
}

static bool names_get_secret_value(const em_yaml *action)
{
    if (action && action->type == EM_YAML_SCALAR) {
        return cs_str_eq_c(action->text, "secretsmanager:GetSecretValue");
    }
    for (const em_yaml *a = action && action->type == EM_YAML_SEQ ? action->first : NULL; a;
         a = a->next) {
        if (names_get_secret_value(a)) {
            return true;
        }
    }
    return false;
}

/* Statements that allow GetSecretValue: each Resource is a grant. */
static cs_error statement_grants(loader *l, const em_yaml *statements, em_function *f)
{
    cs_error e = CS_ERR_OK;
    for (const em_yaml *st = statements && statements->type == EM_YAML_SEQ ? statements->first
                                                                           : NULL;
         st && !e; st = st->next) {
        const em_yaml *effect = em_yaml_get(st, "Effect");
        const em_yaml *on = em_yaml_get(st, "Resource");
        if (!effect || !cs_str_eq_c(effect->text, "Allow") ||
            !names_get_secret_value(em_yaml_get(st, "Action")) || !on) {
            continue;
        }
        if (on->type != EM_YAML_SEQ) {
            e = add_grant(l, f, on);
        }
        for (const em_yaml *r = on->type == EM_YAML_SEQ ? on->first : NULL; r && !e; r = r->next) {
            e = add_grant(l, f, r);
        }
    }
    return e;
}

/* SAM's Policies: AWSSecretsManagerGetSecretValuePolicy entries and
 * inline Statement lists. */
static cs_error load_policies(loader *l, const em_yaml *policies, em_function *f)
{
    cs_error e = CS_ERR_OK;
    for (const em_yaml *p = policies->type == EM_YAML_SEQ ? policies->first : NULL; p && !e;
         p = p->next) {
        const em_yaml *grant = em_yaml_get(p, "AWSSecretsManagerGetSecretValuePolicy");
        const em_yaml *arn = em_yaml_get(grant, "SecretArn");
        if (grant && !arn) {
            return fail(l, grant, "AWSSecretsManagerGetSecretValuePolicy needs SecretArn");
        }
        e = arn ? add_grant(l, f, arn) : statement_grants(l, em_yaml_get(p, "Statement"), f);
    }
    return e;
}

/* Role: !GetAtt X.Arn of an AWS::IAM::Role in the template: its policies'
 * statements. */
static cs_error load_role(loader *l, const em_yaml *role, em_function *f)
{
    const em_yaml *arg = role;
    cs_str tag = role->tag.len ? role->tag : long_form(role, &arg);
    cs_str id, attribute;
    const resource *r = cs_str_eq_c(tag, "!GetAtt") && split_getatt(arg, &id, &attribute)
                            ? find_resource(l, id)
                            : NULL;
    if (!r || !cs_str_eq_c(r->type, "AWS::IAM::Role")) {
        return fail(l, role,
                    "Role: only !GetAtt X.Arn of an AWS::IAM::Role of the template is "
                    "emulated");
    }
    const em_yaml *policies = em_yaml_get(em_yaml_get(r->node, "Properties"), "Policies");
    cs_error e = CS_ERR_OK;
    for (const em_yaml *p = policies && policies->type == EM_YAML_SEQ ? policies->first : NULL;
         p && !e; p = p->next) {
        e = statement_grants(l, em_yaml_get(em_yaml_get(p, "PolicyDocument"), "Statement"), f);
    }
    return e;
}

/* One property of a function (from Globals or the function itself). */
static cs_error function_property(loader *l, const char *path, const em_yaml *p, em_function *f)
{
    if (cs_str_eq_c(p->key, "CodeUri")) {
        return text(l, p, &f->code_uri);
    }
    if (cs_str_eq_c(p->key, "Handler")) {
        return text(l, p, &f->handler);
    }
    if (cs_str_eq_c(p->key, "Runtime")) {
        return text(l, p, &f->runtime);
    }
    if (cs_str_eq_c(p->key, "FunctionName")) {
        return text(l, p, &f->name);
    }
    if (cs_str_eq_c(p->key, "Timeout")) {
        return integer(l, p, &f->timeout_s);
    }
    if (cs_str_eq_c(p->key, "MemorySize")) {
        return integer(l, p, &f->memory_mb);
    }
    if (cs_str_eq_c(p->key, "ReservedConcurrentExecutions")) {
        return integer(l, p, &f->reserved_concurrency);
    }
    if (cs_str_eq_c(p->key, "Environment")) {
        return load_env(l, p, f);
    }
    if (cs_str_eq_c(p->key, "Events")) {
        return load_events(l, join(l, path, p->key), p, f);
    }
    if (cs_str_eq_c(p->key, "Policies")) {
        return load_policies(l, p, f);
    }
    if (cs_str_eq_c(p->key, "Role")) {
        return load_role(l, p, f);
    }
    if (cs_str_eq_c(p->key, "FunctionUrlConfig")) {
        f->function_url = true;
        /* Served at /_url/{name}/ without authentication or CORS. */
        for (const em_yaml *c = p->first; c; c = c->next) {
            const char *at = join(l, join(l, path, p->key), c->key);
            if (!cs_str_eq_c(c->key, "AuthType")) {
                warn(l, at, c, "function URL property not emulated");
            } else if (!cs_str_eq_c(c->text, "NONE")) {
                warn(l, at, c, "function URL authorization not emulated: every request is let in");
            }
        }
        return CS_ERR_OK;
    }
    if (!cs_str_eq_c(p->key, "Description")) {
        warn(l, join(l, path, p->key), p, "function property not emulated");
    }
    return CS_ERR_OK;
}

static cs_error load_function(loader *l, const resource *r, em_function *f)
{
    const char *path = join(l, "Resources", r->logical_id);
    f->logical_id = r->logical_id;
    f->name = r->logical_id;
    f->timeout_s = 3;
    f->memory_mb = 128;
    f->reserved_concurrency = -1;
    cs_error e = CS_ERR_OK;
    l->quiet = l->t->function_count > 0;
    for (const em_yaml *g = l->globals ? l->globals->first : NULL; g && !e; g = g->next) {
        e = function_property(l, "Globals.Function", g, f);
    }
    l->quiet = false;
    const em_yaml *props = em_yaml_get(r->node, "Properties");
    for (const em_yaml *p = props ? props->first : NULL; p && !e; p = p->next) {
        e = function_property(l, join(l, path, CS_STR_LIT("Properties")), p, f);
    }
    if (!e && f->code_uri.len == 0) {
        e = fail(l, r->node, "function %.*s has no CodeUri", CS_STR_FMT(r->logical_id));
    }
    const em_yaml *method = em_yaml_get(em_yaml_get(r->node, "Metadata"), "BuildMethod");
    if (method && cs_str_eq_c(method->text, "makefile")) {
        f->makefile_build = true;
    } else if (method) {
        warn(l, join(l, path, CS_STR_LIT("Metadata.BuildMethod")), method,
             "only the makefile build method is emulated; CodeUri is run as it is");
    }
    if (!e && (f->timeout_s < 1 || f->timeout_s > 900)) {
        e = fail(l, r->node, "function %.*s: Timeout must be from 1 to 900 seconds",
                 CS_STR_FMT(r->logical_id));
    }
    return e;
}

/* ---- resources and the template ---- */

static cs_error collect_resources(loader *l, const em_yaml *root)
{
    const em_yaml *resources = em_yaml_get(root, "Resources");
    if (!resources || resources->type != EM_YAML_MAP || resources->count == 0) {
        return fail(l, resources ? resources : root, "the template needs a Resources mapping");
    }
    l->resources = cs_arena_calloc(l->arena, resources->count, sizeof(*l->resources));
    if (!l->resources) {
        return cs_arena_full(l->arena, l->diag);
    }
    for (const em_yaml *r = resources->first; r; r = r->next) {
        const em_yaml *type = em_yaml_get(r, "Type");
        if (!type || type->type != EM_YAML_SCALAR) {
            return fail(l, r, "resource %.*s has no Type", CS_STR_FMT(r->key));
        }
        resource *out = &l->resources[l->resource_count++];
        out->logical_id = r->key;
        out->type = type->text;
        out->node = r;
    }
    return CS_ERR_OK;
}

static cs_error load_secret(loader *l, const resource *r, em_secret *out)
{
    bool ok;
    out->logical_id = r->logical_id;
    out->arn = secret_arn(l, r, &ok);
    out->name = cs_str_after_last(out->arn, ':'); /* the ARN's last field */
    const em_yaml *props = em_yaml_get(r->node, "Properties");
    for (const em_yaml *p = props ? props->first : NULL; ok && p; p = p->next) {
        if (cs_str_eq_c(p->key, "SecretString") || cs_str_eq_c(p->key, "GenerateSecretString")) {
            warn(l, join(l, join(l, "Resources", r->logical_id), p->key), p,
                 "a secret's value is given to the emulator with --secret, not taken from here");
        }
    }
    return ok ? CS_ERR_OK : CS_ERR_CONFIG;
}

static cs_error load_resources(loader *l)
{
    em_template *t = l->t;
    t->functions = cs_arena_calloc(l->arena, l->resource_count, sizeof(*t->functions));
    t->queues = cs_arena_calloc(l->arena, l->resource_count, sizeof(*t->queues));
    t->secrets = cs_arena_calloc(l->arena, l->resource_count, sizeof(*t->secrets));
    if (!t->functions || !t->queues || !t->secrets) {
        return cs_arena_full(l->arena, l->diag);
    }
    cs_error e = CS_ERR_OK;
    for (size_t i = 0; i < l->resource_count && !e; i++) {
        const resource *r = &l->resources[i];
        if (cs_str_eq_c(r->type, "AWS::Serverless::Function")) {
            e = load_function(l, r, &t->functions[t->function_count]);
            t->function_count++;
        } else if (cs_str_eq_c(r->type, "AWS::SQS::Queue")) {
            e = load_queue(l, r, &t->queues[t->queue_count++]);
        } else if (cs_str_eq_c(r->type, "AWS::SecretsManager::Secret")) {
            e = load_secret(l, r, &t->secrets[t->secret_count++]);
        } else if (!cs_str_eq_c(r->type, "AWS::IAM::Role")) { /* read by its functions */
            char what[160];
            snprintf(what, sizeof(what), "resource type %.*s is not emulated", CS_STR_FMT(r->type));
            warn(l, join(l, "Resources", r->logical_id), r->node, what);
        }
    }
    return e;
}

static void warn_other_sections(loader *l, const em_yaml *root)
{
    for (const em_yaml *s = root->first; s; s = s->next) {
        static const char *const handled[] = {"AWSTemplateFormatVersion",
                                              "Transform",
                                              "Description",
                                              "Parameters",
                                              "Globals",
                                              "Resources",
                                              "Outputs",
                                              "Metadata"};
        bool known = false;
        for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
            known = known || cs_str_eq_c(s->key, handled[i]);
        }
        if (!known) {
            char what[160];
            snprintf(what, sizeof(what), "section %.*s is not emulated", CS_STR_FMT(s->key));
            warn(l, cs_arena_strndup(l->arena, s->key), s, what);
        }
    }
    const em_yaml *globals = em_yaml_get(root, "Globals");
    for (const em_yaml *g = globals ? globals->first : NULL; g; g = g->next) {
        if (!cs_str_eq_c(g->key, "Function")) {
            warn(l, join(l, "Globals", g->key), g, "Globals section not emulated");
        }
    }
}

cs_error em_template_load(cs_arena *arena, cs_str yaml_text, const em_template_opts *opts,
                          em_template *out, cs_problems *warnings, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    loader l = {.arena = arena, .warnings = warnings, .diag = diag, .opts = opts, .t = out};
    l.region = cs_str_from_c(opts && opts->region ? opts->region : "eu-west-1");
    out->region = l.region;
    em_yaml *root;
    cs_error e = em_yaml_parse(arena, yaml_text, &root, diag);
    if (e) {
        return e;
    }
    if (root->type != EM_YAML_MAP) {
        return fail(&l, root, "a template is a mapping");
    }
    l.globals = em_yaml_get(em_yaml_get(root, "Globals"), "Function");
    e = load_parameters(&l, em_yaml_get(root, "Parameters"));
    if (!e) {
        e = collect_resources(&l, root);
    }
    if (!e) {
        warn_other_sections(&l, root);
        e = load_resources(&l);
    }
    for (size_t i = 0; !e && i < out->function_count; i++) {
        for (size_t k = 0; k < out->functions[i].sqs_count; k++) {
            /* Lambda refuses a batch window under 1 second for batches over 10. */
            const em_sqs_event *ev = &out->functions[i].sqs[k];
            if (ev->batch_size > 10 && ev->window_s < 1) {
                e = cs_diag_set(diag, CS_ERR_CONFIG,
                                "function %.*s, event %.*s: BatchSize over 10 needs "
                                "MaximumBatchingWindowInSeconds of at least 1",
                                CS_STR_FMT(out->functions[i].logical_id), CS_STR_FMT(ev->name));
            }
        }
    }
    return e;
}

const em_function *em_template_function(const em_template *t, cs_str name)
{
    for (size_t i = 0; i < t->function_count; i++) {
        if (cs_str_eq(t->functions[i].name, name) || cs_str_eq(t->functions[i].logical_id, name)) {
            return &t->functions[i];
        }
    }
    return NULL;
}

const em_queue *em_template_queue(const em_template *t, cs_str logical_id)
{
    for (size_t i = 0; i < t->queue_count; i++) {
        if (cs_str_eq(t->queues[i].logical_id, logical_id)) {
            return &t->queues[i];
        }
    }
    return NULL;
}

const em_secret *em_template_secret(const em_template *t, cs_str id)
{
    for (size_t i = 0; i < t->secret_count; i++) {
        const em_secret *s = &t->secrets[i];
        if (cs_str_eq(s->logical_id, id) || cs_str_eq(s->name, id) || cs_str_eq(s->arn, id)) {
            return s;
        }
    }
    return NULL;
}

bool em_function_may_read(const em_function *f, const em_secret *s)
{
    for (size_t i = 0; i < f->secret_grant_count; i++) {
        if (cs_str_eq(f->secret_grants[i], s->arn)) {
            return true;
        }
    }
    return false;
}
