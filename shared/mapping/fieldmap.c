#include "fieldmap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "transform.h"

typedef enum source_kind { SRC_PATHS, SRC_CONST, SRC_FORMAT, SRC_OBJECT, SRC_EACH } source_kind;
typedef enum on_unknown { UNKNOWN_FAIL, UNKNOWN_PASS, UNKNOWN_DEFAULT, UNKNOWN_OMIT } on_unknown;
typedef enum output_kind { OUT_AUTO, OUT_STRING, OUT_NUMBER, OUT_BOOL } output_kind;

/* A path that reads from the current element or, with "$.", from the record. */
typedef struct source_path {
    cs_path path;
    bool from_root;
} source_path;

/* Literal and placeholder pieces of one "format"; more is a config error. */
enum { FORMAT_MAX_PARTS = 64 };

typedef struct format_part {
    cs_str literal;
    bool has_path;
    source_path source;
} format_part;

struct cs_rule {
    cs_str target;
    source_kind kind;
    source_path *paths;
    size_t path_count;
    const cs_json *constant;
    format_part *parts;
    size_t part_count;
    source_path each;
    cs_rule *children;
    size_t child_count;
    const cs_lookup *lookup;
    cs_str column;
    on_unknown unknown;
    cs_str default_value;
    cs_transform *transforms;
    size_t transform_count;
    cs_rule *fallback;
    bool required;
    bool null_if_absent;
    output_kind output;
    cs_field_type value_type; /* what reaches the output */
};

/* ---- loading ---- */

typedef struct load_ctx {
    cs_arena *arena;
    cs_problems *problems;
    const cs_lookup *lookups;
    size_t lookup_count;
    const cs_schema *root;
    bool failed;
} load_ctx;

static void problem(load_ctx *ctx, const char *path, const char *rule, const char *message)
{
    ctx->failed = true;
    cs_problems_add(ctx->problems, path, rule, "%s", message);
}

static char *join(load_ctx *ctx, const char *path, const char *key)
{
    char *joined = cs_arena_sprintf(ctx->arena, "%s.%s", path, key);
    return joined ? joined : "";
}

static char *join_index(load_ctx *ctx, const char *path, size_t i)
{
    char *joined = cs_arena_sprintf(ctx->arena, "%s[%zu]", path, i);
    return joined ? joined : "";
}

static bool compile_source_path(load_ctx *ctx, const cs_schema *current, cs_str text,
                                bool allow_each, const char *where, source_path *out)
{
    out->from_root = cs_str_starts_with(text, CS_STR_LIT("$."));
    cs_str rest = out->from_root ? cs_str_sub(text, 2, text.len) : text;
    cs_diag diag;
    if (cs_path_compile(out->from_root ? ctx->root : current, rest, allow_each, &out->path,
                        &diag)) {
        problem(ctx, where, "unknown_path", diag.message);
        return false;
    }
    return true;
}

static void compile_from(load_ctx *ctx, const cs_schema *current, const cs_json *from,
                         const char *where, cs_rule *rule)
{
    rule->kind = SRC_PATHS;
    size_t n = from->type == CS_JSON_ARRAY ? from->count : 1;
    rule->paths = cs_arena_calloc(ctx->arena, n ? n : 1, sizeof(*rule->paths));
    if (!rule->paths || (from->type == CS_JSON_ARRAY && n == 0)) {
        problem(ctx, where, "type", "\"from\" is a path or a non-empty list of paths");
        return;
    }
    const cs_json *item = from->type == CS_JSON_ARRAY ? from->first : from;
    for (size_t i = 0; i < n; i++, item = item->next) {
        const char *at = from->type == CS_JSON_ARRAY ? join_index(ctx, where, i) : where;
        if (item->type != CS_JSON_STRING) {
            problem(ctx, at, "type", "a path is a string");
            continue;
        }
        if (compile_source_path(ctx, current, item->text, false, at, &rule->paths[i])) {
            cs_field_type t = rule->paths[i].path.type;
            if (t == CS_FIELD_STRUCT || t == CS_FIELD_ARRAY || t == CS_FIELD_IDS) {
                problem(ctx, at, "not_a_value", "path ends on an object or a list, not a value");
            } else if (i > 0 && t != rule->paths[0].path.type) {
                problem(ctx, at, "type", "all paths in a list must have the same type");
            }
            rule->path_count = i + 1;
        }
    }
    rule->value_type = rule->paths[0].path.type;
}

static void compile_format(load_ctx *ctx, const cs_schema *current, cs_str text, const char *where,
                           cs_rule *rule)
{
    rule->kind = SRC_FORMAT;
    rule->value_type = CS_FIELD_STR;
    size_t max_parts = 1;
    for (size_t i = 0; i < text.len; i++) {
        max_parts += text.ptr[i] == '{' ? 2 : 0;
    }
    if (max_parts > FORMAT_MAX_PARTS) {
        problem(ctx, where, "format", "more than 31 placeholders");
        return;
    }
    rule->parts = cs_arena_calloc(ctx->arena, max_parts, sizeof(*rule->parts));
    if (!rule->parts) {
        problem(ctx, where, "memory", "config does not fit in memory");
        return;
    }
    size_t pos = 0;
    while (pos < text.len) {
        long open = cs_str_find_char(text, '{', pos);
        size_t literal_end = open < 0 ? text.len : (size_t)open;
        if (literal_end > pos) {
            rule->parts[rule->part_count++].literal = cs_str_sub(text, pos, literal_end - pos);
        }
        if (open < 0) {
            break;
        }
        long close = cs_str_find_char(text, '}', (size_t)open);
        if (close < 0) {
            problem(ctx, where, "format", "'{' without a closing '}'");
            return;
        }
        format_part *part = &rule->parts[rule->part_count++];
        part->has_path = true;
        cs_str inner = cs_str_sub(text, (size_t)open + 1, (size_t)(close - open - 1));
        if (compile_source_path(ctx, current, inner, false, where, &part->source) &&
            (part->source.path.type == CS_FIELD_STRUCT ||
             part->source.path.type == CS_FIELD_ARRAY || part->source.path.type == CS_FIELD_IDS)) {
            problem(ctx, where, "not_a_value", "a placeholder must name a value");
        }
        pos = (size_t)close + 1;
    }
}

static void compile_rule(load_ctx *ctx, const cs_schema *current, const cs_json *cfg,
                         const char *where, bool needs_target, cs_rule *rule);

static void compile_children(load_ctx *ctx, const cs_schema *current, const cs_json *fields,
                             const char *where, cs_rule *rule)
{
    if (fields->type != CS_JSON_ARRAY) {
        problem(ctx, where, "type", "\"fields\" is a list of rules");
        return;
    }
    rule->children =
        cs_arena_calloc(ctx->arena, fields->count ? fields->count : 1, sizeof(*rule->children));
    if (!rule->children) {
        problem(ctx, where, "memory", "config does not fit in memory");
        return;
    }
    size_t i = 0;
    for (const cs_json *f = fields->first; f; f = f->next, i++) {
        const char *at = join_index(ctx, where, i);
        compile_rule(ctx, current, f, at, true, &rule->children[i]);
        for (size_t k = 0; k < i; k++) {
            if (rule->children[i].target.len &&
                cs_str_eq(rule->children[k].target, rule->children[i].target)) {
                problem(ctx, at, "duplicate_target", "another rule already writes this target");
            }
        }
    }
    rule->child_count = fields->count;
}

static void compile_lookup(load_ctx *ctx, const cs_json *cfg, const char *where, cs_rule *rule)
{
    const cs_json *name = cs_json_object_get(cfg, CS_STR_LIT("lookup"));
    const cs_json *column = cs_json_object_get(cfg, CS_STR_LIT("column"));
    const cs_json *deflt = cs_json_object_get(cfg, CS_STR_LIT("default"));
    const cs_json *unknown = cs_json_object_get(cfg, CS_STR_LIT("on_unknown"));
    const char *at = join(ctx, where, "lookup");
    if (name && name->type == CS_JSON_STRING) {
        for (size_t i = 0; i < ctx->lookup_count; i++) {
            if (cs_str_eq(ctx->lookups[i].name, name->text)) {
                rule->lookup = &ctx->lookups[i];
            }
        }
        if (!rule->lookup) {
            problem(ctx, at, "unknown_lookup", "no lookup table of that name");
        } else if (rule->value_type != CS_FIELD_STR && rule->value_type != CS_FIELD_SYSTEM) {
            problem(ctx, at, "type", "lookups take text keys");
        }
        rule->value_type = CS_FIELD_STR;
    } else if (name) {
        problem(ctx, at, "type", "\"lookup\" names a table");
    }
    if (column && column->type == CS_JSON_STRING) {
        rule->column = column->text;
        if (rule->lookup && !cs_lookup_has_column(rule->lookup, column->text)) {
            problem(ctx, join(ctx, where, "column"), "unknown_column", "no row has this column");
        }
    }
    if (deflt && deflt->type == CS_JSON_STRING) {
        rule->default_value = deflt->text;
        rule->unknown = UNKNOWN_DEFAULT;
    } else if (deflt) {
        problem(ctx, join(ctx, where, "default"), "type", "\"default\" is a string");
    }
    if (unknown) {
        static const char *const modes[] = {"fail", "pass", "default", "omit"};
        size_t m = 0;
        while (m < 4 &&
               !(unknown->type == CS_JSON_STRING && cs_str_eq_c(unknown->text, modes[m]))) {
            m++;
        }
        if (m == 4) {
            problem(ctx, join(ctx, where, "on_unknown"), "bad_value",
                    "one of fail, pass, default, omit");
        } else if (m == UNKNOWN_DEFAULT && !deflt) {
            problem(ctx, join(ctx, where, "on_unknown"), "required", "\"default\" is missing");
        } else {
            rule->unknown = (on_unknown)m;
        }
    }
    if ((column || deflt || unknown) && !name) {
        problem(ctx, where, "needs_lookup", "column, default and on_unknown need a \"lookup\"");
    }
}

static void compile_transforms(load_ctx *ctx, const cs_json *list, const char *where, cs_rule *rule)
{
    const char *at = join(ctx, where, "transform");
    if (list->type != CS_JSON_ARRAY) {
        problem(ctx, at, "type", "\"transform\" is a list");
        return;
    }
    rule->transforms =
        cs_arena_calloc(ctx->arena, list->count ? list->count : 1, sizeof(*rule->transforms));
    if (!rule->transforms) {
        problem(ctx, at, "memory", "config does not fit in memory");
        return;
    }
    size_t i = 0;
    for (const cs_json *t = list->first; t; t = t->next, i++) {
        cs_diag diag;
        if (t->type != CS_JSON_STRING) {
            problem(ctx, join_index(ctx, at, i), "type", "a transform is a string");
        } else if (cs_transform_compile(t->text, &rule->value_type, &rule->transforms[i], &diag)) {
            problem(ctx, join_index(ctx, at, i), "transform", diag.message);
        }
    }
    rule->transform_count = list->count;
}

static void compile_output(load_ctx *ctx, const cs_json *cfg, const char *where, cs_rule *rule)
{
    const cs_json *as = cs_json_object_get(cfg, CS_STR_LIT("as"));
    const cs_json *required = cs_json_object_get(cfg, CS_STR_LIT("required"));
    const cs_json *absent = cs_json_object_get(cfg, CS_STR_LIT("if_absent"));
    if (as) {
        static const char *const kinds[] = {"", "string", "number", "boolean"};
        size_t k = 1;
        while (k < 4 && !(as->type == CS_JSON_STRING && cs_str_eq_c(as->text, kinds[k]))) {
            k++;
        }
        if (k == 4) {
            problem(ctx, join(ctx, where, "as"), "bad_value", "one of string, number, boolean");
        }
        rule->output = k == 4 ? OUT_AUTO : (output_kind)k;
    }
    if (required) {
        if (required->type != CS_JSON_BOOL) {
            problem(ctx, join(ctx, where, "required"), "type", "true or false");
        }
        rule->required = required->type == CS_JSON_BOOL && required->boolean;
    }
    if (absent) {
        bool ok = absent->type == CS_JSON_STRING &&
                  (cs_str_eq_c(absent->text, "omit") || cs_str_eq_c(absent->text, "null"));
        if (!ok) {
            problem(ctx, join(ctx, where, "if_absent"), "bad_value", "omit or null");
        }
        rule->null_if_absent = ok && cs_str_eq_c(absent->text, "null");
    }
}

static void check_keys(load_ctx *ctx, const cs_json *cfg, const char *where, bool is_fallback)
{
    static const char *const keys[] = {"target",   "from",       "const",     "format",
                                       "fields",   "each",       "lookup",    "column",
                                       "default",  "on_unknown", "transform", "fallback",
                                       "required", "if_absent",  "as"};
    for (const cs_json *m = cfg->first; m; m = m->next) {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) && !cs_str_eq_c(m->key, keys[k])) {
            k++;
        }
        if (k == sizeof(keys) / sizeof(keys[0]) || (is_fallback && k == 0)) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", CS_STR_FMT(m->key));
            problem(ctx, join(ctx, where, key), "unknown_key",
                    is_fallback && k == 0 ? "a fallback has no target of its own"
                                          : "not a field map rule key");
        }
    }
}

/* Picks the single source of a rule. */
static void compile_source(load_ctx *ctx, const cs_schema *current, const cs_json *cfg,
                           const char *where, cs_rule *rule)
{
    const cs_json *from = cs_json_object_get(cfg, CS_STR_LIT("from"));
    const cs_json *constant = cs_json_object_get(cfg, CS_STR_LIT("const"));
    const cs_json *format = cs_json_object_get(cfg, CS_STR_LIT("format"));
    const cs_json *fields = cs_json_object_get(cfg, CS_STR_LIT("fields"));
    const cs_json *each = cs_json_object_get(cfg, CS_STR_LIT("each"));
    int sources = (from != NULL) + (constant != NULL) + (format != NULL) + (fields != NULL);
    if (sources != 1) {
        problem(ctx, where, "one_source",
                sources ? "use only one of from, const, format, fields"
                        : "a rule needs one of from, const, format, fields");
        return;
    }
    if (each && !fields) {
        problem(ctx, join(ctx, where, "each"), "needs_fields", "\"each\" needs \"fields\"");
    }
    if (from) {
        compile_from(ctx, current, from, join(ctx, where, "from"), rule);
    } else if (constant) {
        rule->kind = SRC_CONST;
        rule->constant = constant;
        rule->value_type = CS_FIELD_STR;
        if (constant->type == CS_JSON_ARRAY || constant->type == CS_JSON_OBJECT) {
            problem(ctx, join(ctx, where, "const"), "type", "a constant is a single value");
        }
    } else if (format && format->type != CS_JSON_STRING) {
        problem(ctx, join(ctx, where, "format"), "type", "\"format\" is a string");
    } else if (format) {
        compile_format(ctx, current, format->text, join(ctx, where, "format"), rule);
    } else if (each && each->type == CS_JSON_STRING) {
        rule->kind = SRC_EACH;
        const char *at = join(ctx, where, "each");
        if (compile_source_path(ctx, current, each->text, true, at, &rule->each)) {
            if (rule->each.path.type != CS_FIELD_ARRAY) {
                problem(ctx, at, "not_a_list", "\"each\" must name a list");
            } else {
                compile_children(ctx, rule->each.path.schema, fields, join(ctx, where, "fields"),
                                 rule);
            }
        }
    } else if (each) {
        problem(ctx, join(ctx, where, "each"), "type", "\"each\" is a path");
    } else {
        rule->kind = SRC_OBJECT;
        compile_children(ctx, current, fields, join(ctx, where, "fields"), rule);
    }
}

static void compile_rule(load_ctx *ctx, const cs_schema *current, const cs_json *cfg,
                         const char *where, bool needs_target, cs_rule *rule)
{
    memset(rule, 0, sizeof(*rule));
    if (cfg->type != CS_JSON_OBJECT) {
        problem(ctx, where, "type", "a rule is an object");
        return;
    }
    check_keys(ctx, cfg, where, !needs_target);
    const cs_json *target = cs_json_object_get(cfg, CS_STR_LIT("target"));
    if (needs_target && (!target || target->type != CS_JSON_STRING || target->text.len == 0)) {
        problem(ctx, join(ctx, where, "target"), "required", "every rule names its target field");
    } else if (target) {
        rule->target = target->text;
    }
    compile_source(ctx, current, cfg, where, rule);
    if (rule->kind == SRC_OBJECT || rule->kind == SRC_EACH) {
        return;
    }
    compile_lookup(ctx, cfg, where, rule);
    const cs_json *transforms = cs_json_object_get(cfg, CS_STR_LIT("transform"));
    if (transforms) {
        compile_transforms(ctx, transforms, where, rule);
    }
    compile_output(ctx, cfg, where, rule);
    const cs_json *fallback = cs_json_object_get(cfg, CS_STR_LIT("fallback"));
    if (fallback) {
        rule->fallback = cs_arena_calloc(ctx->arena, 1, sizeof(*rule->fallback));
        if (rule->fallback) {
            compile_rule(ctx, current, fallback, join(ctx, where, "fallback"), false,
                         rule->fallback);
        }
    }
}

cs_error cs_fieldmap_load(cs_arena *arena, cs_str name, const cs_json *config, const char *path,
                          const cs_lookup *lookups, size_t lookup_count, cs_fieldmap *out,
                          cs_problems *problems)
{
    load_ctx ctx = {arena, problems, lookups, lookup_count, NULL, false};
    memset(out, 0, sizeof(*out));
    out->name = name;
    const cs_json *entity = cs_json_object_get(config, CS_STR_LIT("entity"));
    const cs_json *fields = cs_json_object_get(config, CS_STR_LIT("fields"));
    if (!config || config->type != CS_JSON_OBJECT) {
        problem(&ctx, path, "type", "a map is an object with \"entity\" and \"fields\"");
        return CS_ERR_CONFIG;
    }
    for (const cs_json *m = config->first; m; m = m->next) {
        if (!cs_str_eq_c(m->key, "entity") && !cs_str_eq_c(m->key, "fields")) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", CS_STR_FMT(m->key));
            problem(&ctx, join(&ctx, path, key), "unknown_key", "a map has entity and fields");
        }
    }
    out->schema = entity && entity->type == CS_JSON_STRING ? cs_schema_find(entity->text) : NULL;
    if (!out->schema) {
        problem(&ctx, join(&ctx, path, "entity"), "unknown_entity",
                "one of order, customer, product, stock_level, shipment, return");
    }
    if (!fields) {
        problem(&ctx, join(&ctx, path, "fields"), "required", "\"fields\" is missing");
    }
    if (out->schema && fields) {
        ctx.root = out->schema;
        cs_rule holder;
        memset(&holder, 0, sizeof(holder));
        compile_children(&ctx, out->schema, fields, join(&ctx, path, "fields"), &holder);
        out->rules = holder.children;
        out->rule_count = holder.child_count;
    }
    return ctx.failed ? CS_ERR_CONFIG : CS_ERR_OK;
}

/* ---- applying ---- */

typedef struct apply_ctx {
    const void *root;
    cs_arena *arena;
    cs_problems *problems;
    cs_json_writer *w;
    char path[256]; /* target path of the value being written */
    size_t path_len;
    bool failed;
} apply_ctx;

/* Appends to the target path, which only problems read; runs for every
 * value written, so it avoids printf. Too long a path is cut. */
static void append_path(apply_ctx *ctx, const char *text, size_t len)
{
    size_t room = sizeof(ctx->path) - 1 - ctx->path_len;
    len = len < room ? len : room;
    memcpy(ctx->path + ctx->path_len, text, len);
    ctx->path_len += len;
    ctx->path[ctx->path_len] = '\0';
}

static size_t push_target(apply_ctx *ctx, cs_str target)
{
    size_t saved = ctx->path_len;
    if (saved) {
        append_path(ctx, ".", 1);
    }
    append_path(ctx, target.ptr, target.len);
    return saved;
}

static size_t push_index(apply_ctx *ctx, size_t i)
{
    size_t saved = ctx->path_len;
    char text[22];
    text[0] = '[';
    size_t len = 1 + cs_format_u64(i, 1, text + 1);
    text[len++] = ']';
    append_path(ctx, text, len);
    return saved;
}

static void pop_path(apply_ctx *ctx, size_t saved)
{
    ctx->path_len = saved;
    ctx->path[saved] = '\0';
}

static void fail(apply_ctx *ctx, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(apply_ctx *ctx, const char *rule, const char *fmt, ...)
{
    ctx->failed = true;
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    cs_problems_add(ctx->problems, ctx->path, rule, "%s", message);
}

static cs_value read_source(const apply_ctx *ctx, const source_path *s, const void *current)
{
    return cs_path_read(&s->path, s->from_root ? ctx->root : current);
}

static cs_value constant_value(const cs_json *c)
{
    cs_value v;
    memset(&v, 0, sizeof(v));
    v.type = c->type == CS_JSON_BOOL ? CS_FIELD_BOOL : CS_FIELD_STR;
    v.present = c->type != CS_JSON_NULL;
    v.str = c->text;
    v.b = c->boolean;
    return v;
}

static cs_value format_value(apply_ctx *ctx, const cs_rule *rule, const void *current)
{
    cs_value v;
    memset(&v, 0, sizeof(v));
    v.type = CS_FIELD_STR;
    cs_str texts[FORMAT_MAX_PARTS];
    size_t total = 0;
    size_t n = rule->part_count;
    for (size_t i = 0; i < n; i++) {
        const format_part *part = &rule->parts[i];
        if (part->has_path) {
            cs_value pv = read_source(ctx, &part->source, current);
            if (!pv.present) {
                return v; /* a missing placeholder makes the whole value absent */
            }
            texts[i] = cs_value_text(&pv, ctx->arena);
        } else {
            texts[i] = part->literal;
        }
        total += texts[i].len;
    }
    char *out = cs_arena_alloc(ctx->arena, total + 1);
    if (!out) {
        return v;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + at, texts[i].ptr, texts[i].len);
        at += texts[i].len;
    }
    out[at] = '\0';
    v.str = cs_str_make(out, at);
    v.present = at > 0;
    return v;
}

/* Applies the rule's lookup to a present value; false when the record fails. */
static bool apply_lookup(apply_ctx *ctx, const cs_rule *rule, cs_value *v)
{
    cs_str found;
    cs_str key = cs_value_text(v, ctx->arena);
    v->type = CS_FIELD_STR;
    if (cs_lookup_find(rule->lookup, key, rule->column, &found)) {
        v->str = found;
        v->present = found.len > 0;
        return true;
    }
    switch (rule->unknown) {
    case UNKNOWN_FAIL:
        fail(ctx, "lookup", "no entry for '%.*s' in lookup '%.*s'", CS_STR_FMT(key),
             CS_STR_FMT(rule->lookup->name));
        return false;
    case UNKNOWN_PASS:
        v->str = key;
        break;
    case UNKNOWN_DEFAULT:
        v->str = rule->default_value;
        break;
    case UNKNOWN_OMIT:
        v->present = false;
        break;
    }
    return true;
}

/* The rule's value for `current`; false when the record fails. */
static bool evaluate(apply_ctx *ctx, const cs_rule *rule, const void *current, cs_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = rule->value_type;
    if (rule->kind == SRC_PATHS) {
        for (size_t i = 0; i < rule->path_count && !v->present; i++) {
            *v = read_source(ctx, &rule->paths[i], current);
        }
    } else if (rule->kind == SRC_CONST) {
        *v = constant_value(rule->constant);
    } else if (rule->kind == SRC_FORMAT) {
        *v = format_value(ctx, rule, current);
    }
    if (v->present && rule->lookup && !apply_lookup(ctx, rule, v)) {
        return false;
    }
    for (size_t i = 0; v->present && i < rule->transform_count; i++) {
        cs_diag diag;
        cs_diag_clear(&diag);
        if (cs_transform_apply(&rule->transforms[i], v, ctx->arena, &diag)) {
            fail(ctx, "transform", "%s", diag.message);
            return false;
        }
    }
    if (!v->present && rule->fallback) {
        return evaluate(ctx, rule->fallback, current, v);
    }
    return true;
}

static void write_value(apply_ctx *ctx, const cs_rule *rule, const cs_value *v)
{
    cs_json_writer *w = ctx->w;
    output_kind out = rule->output;
    if (out == OUT_AUTO) {
        bool numeric_const = rule->kind == SRC_CONST && rule->constant->type == CS_JSON_NUMBER;
        out = v->type == CS_FIELD_BOOL                   ? OUT_BOOL
              : v->type == CS_FIELD_INT || numeric_const ? OUT_NUMBER
                                                         : OUT_STRING;
    }
    if (out == OUT_BOOL) {
        cs_str text = cs_value_text(v, ctx->arena);
        bool b = v->type == CS_FIELD_BOOL ? v->b : cs_str_eq_c(text, "true");
        if (v->type != CS_FIELD_BOOL && !b && !cs_str_eq_c(text, "false")) {
            fail(ctx, "not_a_boolean", "'%.*s' is not true or false", CS_STR_FMT(text));
            return;
        }
        cs_json_write_bool(w, b);
        return;
    }
    if (out == OUT_NUMBER && v->type == CS_FIELD_INT) {
        cs_json_write_int64(w, v->i);
        return;
    }
    cs_str text = v->type == CS_FIELD_STR ? v->str : cs_value_text(v, ctx->arena);
    if (out == OUT_NUMBER) {
        if (!cs_json_number_valid(text)) {
            fail(ctx, "not_a_number", "'%.*s' is not a number", CS_STR_FMT(text));
            return;
        }
        cs_json_write_number_text(w, text);
        return;
    }
    cs_json_write_string(w, text);
}

static void apply_rules(apply_ctx *ctx, const cs_rule *rules, size_t n, const void *current);

static void apply_each(apply_ctx *ctx, const cs_rule *rule, const void *current)
{
    const void *elements;
    const void *base = rule->each.from_root ? ctx->root : current;
    size_t count = cs_path_elements(&rule->each.path, base, &elements);
    size_t size = rule->each.path.schema->size;
    cs_json_write_array_begin(ctx->w);
    for (size_t i = 0; i < count; i++) {
        size_t saved = push_index(ctx, i);
        cs_json_write_object_begin(ctx->w);
        apply_rules(ctx, rule->children, rule->child_count, (const char *)elements + i * size);
        cs_json_write_object_end(ctx->w);
        pop_path(ctx, saved);
    }
    cs_json_write_array_end(ctx->w);
}

static void apply_rule(apply_ctx *ctx, const cs_rule *rule, const void *current)
{
    if (rule->kind == SRC_OBJECT || rule->kind == SRC_EACH) {
        cs_json_write_key(ctx->w, rule->target);
        if (rule->kind == SRC_EACH) {
            apply_each(ctx, rule, current);
            return;
        }
        cs_json_write_object_begin(ctx->w);
        apply_rules(ctx, rule->children, rule->child_count, current);
        cs_json_write_object_end(ctx->w);
        return;
    }
    cs_value v;
    if (!evaluate(ctx, rule, current, &v)) {
        return;
    }
    if (!v.present) {
        if (rule->required) {
            fail(ctx, "required", "no value");
        } else if (rule->null_if_absent) {
            cs_json_write_key(ctx->w, rule->target);
            cs_json_write_null(ctx->w);
        }
        return;
    }
    cs_json_write_key(ctx->w, rule->target);
    write_value(ctx, rule, &v);
}

static void apply_rules(apply_ctx *ctx, const cs_rule *rules, size_t n, const void *current)
{
    for (size_t i = 0; i < n; i++) {
        size_t saved = push_target(ctx, rules[i].target);
        apply_rule(ctx, &rules[i], current);
        pop_path(ctx, saved);
    }
}

cs_error cs_fieldmap_apply(const cs_fieldmap *map, const void *record, cs_arena *arena, cs_buf *out,
                           cs_problems *problems)
{
    size_t start = out->len;
    cs_json_writer w;
    cs_error result = cs_json_writer_init(&w, out);
    if (result) {
        return result;
    }
    apply_ctx ctx = {.root = record, .arena = arena, .problems = problems, .w = &w};
    cs_json_write_object_begin(&w);
    apply_rules(&ctx, map->rules, map->rule_count, record);
    cs_json_write_object_end(&w);
    cs_diag diag;
    result = cs_json_writer_finish(&w, &diag);
    cs_json_writer_clean_up(&w);
    if (result && !ctx.failed) {
        ctx.failed = true;
        cs_problems_add(problems, "", "output", "%s", diag.message);
    }
    if (ctx.failed) {
        out->len = start; /* never half-written */
        if (out->data) {
            out->data[start] = '\0';
        }
        return CS_ERR_INVALID_ARGUMENT;
    }
    return CS_ERR_OK;
}
