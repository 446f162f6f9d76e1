#include "codec.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

/* The path of the value being decoded, grown and shrunk as decoding descends. */
typedef struct decode_ctx {
    cs_arena *arena;
    cs_problems *problems;
    char path[256];
    size_t path_len;
    int failed;
} decode_ctx;

static size_t path_append(decode_ctx *ctx, int written)
{
    size_t saved = ctx->path_len;
    if (written > 0) {
        ctx->path_len += (size_t)written;
        if (ctx->path_len >= sizeof(ctx->path)) {
            ctx->path_len = sizeof(ctx->path) - 1;
        }
    }
    return saved;
}

/* Appends ".name" (or "name" at the root); returns the length to restore. */
static size_t path_push_name(decode_ctx *ctx, cs_str name)
{
    size_t at = ctx->path_len;
    return path_append(ctx, snprintf(ctx->path + at, sizeof(ctx->path) - at, "%s%.*s",
                                     at ? "." : "", CS_STR_FMT(name)));
}

static size_t path_push_index(decode_ctx *ctx, size_t index)
{
    size_t at = ctx->path_len;
    return path_append(ctx, snprintf(ctx->path + at, sizeof(ctx->path) - at, "[%zu]", index));
}

static void path_pop(decode_ctx *ctx, size_t saved)
{
    ctx->path_len = saved;
    ctx->path[saved] = '\0';
}

static void problem(decode_ctx *ctx, const char *rule, const char *message, const char *detail)
{
    ctx->failed = 1;
    cs_problems_add(ctx->problems, ctx->path, rule, "%s%s", message, detail ? detail : "");
}

static int expect_type(decode_ctx *ctx, const cs_json *v, cs_json_type want, const char *what)
{
    if (v->type == want) {
        return 1;
    }
    problem(ctx, "type", "expected ", what);
    return 0;
}

static void decode_money(decode_ctx *ctx, const cs_json *v, cs_money *out)
{
    if (!expect_type(ctx, v, CS_JSON_OBJECT, "an object with amount and currency")) {
        return;
    }
    const cs_json *amount = cs_json_object_get(v, CS_STR_LIT("amount"));
    const cs_json *currency = cs_json_object_get(v, CS_STR_LIT("currency"));
    if (!amount || !currency || currency->type != CS_JSON_STRING ||
        (amount->type != CS_JSON_STRING && amount->type != CS_JSON_NUMBER) || v->count != 2) {
        problem(ctx, "type", "expected {\"amount\": \"12.34\", \"currency\": \"EUR\"}", NULL);
        return;
    }
    cs_diag diag;
    if (cs_money_parse(amount->text, currency->text, out, &diag)) {
        problem(ctx, diag.code == CS_ERR_UNKNOWN_CURRENCY ? "iso4217" : "money", diag.message,
                NULL);
    }
}

static void decode_ids(decode_ctx *ctx, const cs_json *v, cs_ids *out)
{
    if (!expect_type(ctx, v, CS_JSON_OBJECT, "an object of ids by system")) {
        return;
    }
    for (const cs_json *m = v->first; m; m = m->next) {
        cs_system system;
        size_t saved = path_push_name(ctx, m->key);
        if (cs_system_parse(m->key, &system)) {
            problem(ctx, "unknown_system", "not a system name", NULL);
        } else if (expect_type(ctx, m, CS_JSON_STRING, "a string")) {
            out->by_system[system] = m->text;
        }
        path_pop(ctx, saved);
    }
}

static void decode_object(decode_ctx *ctx, const cs_schema *schema, const cs_json *object,
                          char *record);

static void decode_array(decode_ctx *ctx, const cs_field *field, const cs_json *v, char *record)
{
    if (!expect_type(ctx, v, CS_JSON_ARRAY, "an array")) {
        return;
    }
    char *elements = cs_arena_calloc(ctx->arena, v->count ? v->count : 1, field->schema->size);
    if (!elements) {
        problem(ctx, "memory", "invocation memory cap reached", NULL);
        return;
    }
    size_t i = 0;
    for (const cs_json *e = v->first; e; e = e->next, i++) {
        size_t saved = path_push_index(ctx, i);
        decode_object(ctx, field->schema, e, elements + i * field->schema->size);
        path_pop(ctx, saved);
    }
    *(char **)(record + field->offset) = elements;
    *(size_t *)(record + field->count_offset) = v->count;
}

static void decode_field(decode_ctx *ctx, const cs_field *field, const cs_json *v, char *record)
{
    void *at = record + field->offset;
    int64_t number;
    cs_diag diag;
    switch (field->type) {
    case CS_FIELD_STR:
        if (expect_type(ctx, v, CS_JSON_STRING, "a string")) {
            *(cs_str *)at = v->text;
        }
        break;
    case CS_FIELD_INT:
        if (expect_type(ctx, v, CS_JSON_NUMBER, "an integer")) {
            if (cs_parse_int64(v->text, &number)) {
                problem(ctx, "type", "expected a 64-bit integer", NULL);
            } else {
                *(int64_t *)at = number;
            }
        }
        break;
    case CS_FIELD_BOOL:
        if (expect_type(ctx, v, CS_JSON_BOOL, "true or false")) {
            *(bool *)at = v->boolean;
        }
        break;
    case CS_FIELD_MONEY:
        decode_money(ctx, v, at);
        break;
    case CS_FIELD_TIME:
        if (expect_type(ctx, v, CS_JSON_STRING, "an RFC 3339 timestamp") &&
            cs_time_parse_rfc3339(v->text, (int64_t *)at, NULL, &diag)) {
            problem(ctx, "rfc3339", diag.message, NULL);
        }
        break;
    case CS_FIELD_SYSTEM:
        if (expect_type(ctx, v, CS_JSON_STRING, "a system name") &&
            cs_system_parse(v->text, (cs_system *)at)) {
            problem(ctx, "unknown_system", "not a system name", NULL);
        }
        break;
    case CS_FIELD_IDS:
        decode_ids(ctx, v, at);
        break;
    case CS_FIELD_STRUCT:
        decode_object(ctx, field->schema, v, at);
        break;
    case CS_FIELD_ARRAY:
        decode_array(ctx, field, v, record);
        break;
    }
}

static void decode_object(decode_ctx *ctx, const cs_schema *schema, const cs_json *object,
                          char *record)
{
    if (!expect_type(ctx, object, CS_JSON_OBJECT, "an object")) {
        return;
    }
    for (const cs_json *m = object->first; m; m = m->next) {
        size_t saved = path_push_name(ctx, m->key);
        const cs_field *field = cs_schema_field(schema, m->key);
        if (!field) {
            problem(ctx, "unknown_field", "not a field of ", schema->name);
        } else if (m->type != CS_JSON_NULL) {
            decode_field(ctx, field, m, record);
        }
        path_pop(ctx, saved);
    }
}

cs_error cs_record_decode(const cs_schema *schema, const cs_json *object, cs_arena *arena,
                          void *record, cs_problems *problems)
{
    decode_ctx ctx = {.arena = arena, .problems = problems};
    decode_object(&ctx, schema, object, record);
    return ctx.failed ? CS_ERR_INVALID_ARGUMENT : CS_ERR_OK;
}

static bool ids_empty(const cs_ids *ids)
{
    for (int s = 0; s < CS_SYS__COUNT; s++) {
        if (ids->by_system[s].len) {
            return false;
        }
    }
    return true;
}

static void encode_object(const cs_schema *schema, const char *record, cs_json_writer *w);

/* Whether a field holds its zero value, which is left out when writing. */
static bool is_empty(const cs_field *field, const char *record)
{
    const void *at = record + field->offset;
    switch (field->type) {
    case CS_FIELD_STR:
        return ((const cs_str *)at)->len == 0;
    case CS_FIELD_INT:
    case CS_FIELD_TIME:
        return *(const int64_t *)at == 0;
    case CS_FIELD_BOOL:
        return !*(const bool *)at;
    case CS_FIELD_MONEY:
        return ((const cs_money *)at)->currency == NULL;
    case CS_FIELD_SYSTEM:
        return *(const cs_system *)at == CS_SYS_NONE;
    case CS_FIELD_IDS:
        return ids_empty(at);
    case CS_FIELD_ARRAY:
        return *(const size_t *)(record + field->count_offset) == 0;
    case CS_FIELD_STRUCT: {
        for (size_t i = 0; i < field->schema->field_count; i++) {
            if (!is_empty(&field->schema->fields[i], at)) {
                return false;
            }
        }
        return true;
    }
    }
    return true;
}

static void encode_field(const cs_field *field, const char *record, cs_json_writer *w)
{
    const void *at = record + field->offset;
    char text[CS_TIME_RFC3339_MAX + CS_DECIMAL_MAX];
    switch (field->type) {
    case CS_FIELD_STR:
        cs_json_write_string(w, *(const cs_str *)at);
        break;
    case CS_FIELD_INT:
        cs_json_write_int64(w, *(const int64_t *)at);
        break;
    case CS_FIELD_BOOL:
        cs_json_write_bool(w, *(const bool *)at);
        break;
    case CS_FIELD_MONEY:
        cs_money_format(*(const cs_money *)at, text);
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "amount");
        cs_json_write_string_c(w, text);
        cs_json_write_key_c(w, "currency");
        cs_json_write_string_c(w, ((const cs_money *)at)->currency->code);
        cs_json_write_object_end(w);
        break;
    case CS_FIELD_TIME:
        if (cs_time_format_rfc3339(*(const int64_t *)at, 0, text)) {
            w->error = CS_ERR_TIME_RANGE;
        }
        cs_json_write_string_c(w, text);
        break;
    case CS_FIELD_SYSTEM:
        cs_json_write_string_c(w, cs_system_name(*(const cs_system *)at));
        break;
    case CS_FIELD_IDS:
        cs_json_write_object_begin(w);
        for (int s = 1; s < CS_SYS__COUNT; s++) {
            cs_str id = ((const cs_ids *)at)->by_system[s];
            if (id.len) {
                cs_json_write_key_c(w, cs_system_name((cs_system)s));
                cs_json_write_string(w, id);
            }
        }
        cs_json_write_object_end(w);
        break;
    case CS_FIELD_STRUCT:
        encode_object(field->schema, at, w);
        break;
    case CS_FIELD_ARRAY: {
        const char *elements = *(const char *const *)at;
        size_t count = *(const size_t *)(record + field->count_offset);
        cs_json_write_array_begin(w);
        for (size_t i = 0; i < count; i++) {
            encode_object(field->schema, elements + i * field->schema->size, w);
        }
        cs_json_write_array_end(w);
        break;
    }
    }
}

static void encode_object(const cs_schema *schema, const char *record, cs_json_writer *w)
{
    cs_json_write_object_begin(w);
    for (size_t i = 0; i < schema->field_count; i++) {
        const cs_field *field = &schema->fields[i];
        if (!is_empty(field, record)) {
            cs_json_write_key_c(w, field->name);
            encode_field(field, record, w);
        }
    }
    cs_json_write_object_end(w);
}

void cs_record_encode(const cs_schema *schema, const void *record, cs_json_writer *w)
{
    encode_object(schema, record, w);
}
