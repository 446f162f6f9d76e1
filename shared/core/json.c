#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* yajl's generator refuses to go deeper than this (YAJL_MAX_DEPTH). */
enum { JSON_MAX_DEPTH = 128 };

typedef struct parse_ctx {
    cs_arena *arena;
    cs_json **stack; /* open arrays and objects, innermost last */
    size_t depth;
    size_t max_depth;
    cs_str pending_key;
    cs_json *root;
    yajl_handle handle;
    uintptr_t input_begin; /* the text being parsed, to tell its bytes from yajl's */
    uintptr_t input_end;
    size_t value_end; /* offset just past the top-level value, once complete */
    size_t last_good; /* offset just past the last token a callback accepted */
    cs_error error;   /* set by a callback that cancels the parse */
} parse_ctx;

/* Inside a callback yajl's consumed count is the offset just past the
 * current token, which is how the end of the top-level value is known. */
static void note_if_complete(parse_ctx *ctx)
{
    if (ctx->depth == 0) {
        ctx->value_end = yajl_get_bytes_consumed(ctx->handle);
    }
}

static cs_json *new_node(parse_ctx *ctx, cs_json_type type)
{
    cs_json *node = cs_arena_calloc(ctx->arena, 1, sizeof(*node));
    if (!node) {
        ctx->error = CS_ERR_ARENA_FULL;
        return NULL;
    }
    node->type = type;
    return node;
}

static int attach(parse_ctx *ctx, cs_json *node)
{
    if (!node) {
        return 0;
    }
    ctx->last_good = yajl_get_bytes_consumed(ctx->handle);
    if (ctx->depth == 0) {
        ctx->root = node;
        if (node->type != CS_JSON_ARRAY && node->type != CS_JSON_OBJECT) {
            note_if_complete(ctx);
        }
        return 1;
    }
    cs_json *parent = ctx->stack[ctx->depth - 1];
    if (parent->type == CS_JSON_OBJECT) {
        node->key = ctx->pending_key;
    }
    if (parent->last) {
        parent->last->next = node;
    } else {
        parent->first = node;
    }
    parent->last = node;
    parent->count++;
    return 1;
}

/* Keeps a string or number token. yajl hands over a pointer into the input
 * for tokens it did not have to unescape or buffer, and those are kept as
 * views; the rest live in yajl's buffers and are copied. */
static int copy_text(parse_ctx *ctx, const char *text, size_t len, cs_str *out)
{
    uintptr_t at = (uintptr_t)text;
    if (at >= ctx->input_begin && at + len <= ctx->input_end) {
        *out = cs_str_make(text, len);
        return 1;
    }
    char *copy = cs_arena_strndup(ctx->arena, cs_str_make(text, len));
    if (!copy) {
        ctx->error = CS_ERR_ARENA_FULL;
        return 0;
    }
    *out = cs_str_make(copy, len);
    return 1;
}

static int on_null(void *c)
{
    parse_ctx *ctx = c;
    return attach(ctx, new_node(ctx, CS_JSON_NULL));
}

static int on_boolean(void *c, int value)
{
    parse_ctx *ctx = c;
    cs_json *node = new_node(ctx, CS_JSON_BOOL);
    if (node) {
        node->boolean = value != 0;
    }
    return attach(ctx, node);
}

static int on_text(parse_ctx *ctx, cs_json_type type, const char *text, size_t len)
{
    cs_json *node = new_node(ctx, type);
    if (!node || !copy_text(ctx, text, len, &node->text)) {
        return 0;
    }
    return attach(ctx, node);
}

static int on_number(void *c, const char *text, size_t len)
{
    return on_text(c, CS_JSON_NUMBER, text, len);
}

static int on_string(void *c, const unsigned char *text, size_t len)
{
    return on_text(c, CS_JSON_STRING, (const char *)text, len);
}

static int on_key(void *c, const unsigned char *text, size_t len)
{
    parse_ctx *ctx = c;
    ctx->last_good = yajl_get_bytes_consumed(ctx->handle);
    return copy_text(ctx, (const char *)text, len, &ctx->pending_key);
}

static int open_container(parse_ctx *ctx, cs_json_type type)
{
    if (ctx->depth == ctx->max_depth) {
        ctx->error = CS_ERR_JSON_DEPTH;
        return 0;
    }
    cs_json *node = new_node(ctx, type);
    if (!attach(ctx, node)) {
        return 0;
    }
    ctx->stack[ctx->depth++] = node;
    return 1;
}

static int on_start_map(void *c)
{
    return open_container(c, CS_JSON_OBJECT);
}

static int on_start_array(void *c)
{
    return open_container(c, CS_JSON_ARRAY);
}

static int on_end(void *c)
{
    parse_ctx *ctx = c;
    ctx->depth--;
    ctx->last_good = yajl_get_bytes_consumed(ctx->handle);
    note_if_complete(ctx);
    return 1;
}

static const yajl_callbacks parse_callbacks = {
    on_null,      on_boolean, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,     on_end, on_start_array, on_end,
};

/* yajl's messages start with "parse error: " or "lexical error: " and end
 * with a newline; keep only the reason. */
static void yajl_reason(yajl_handle h, cs_str text, char *out, size_t out_len, char *kind,
                        size_t kind_len)
{
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text.ptr, text.len);
    const char *reason = msg ? (const char *)msg : "unknown error";
    snprintf(kind, kind_len, "%.*s", (int)strcspn(reason, " "), reason);
    const char *colon = strstr(reason, ": ");
    if (colon) {
        reason = colon + 2;
    }
    size_t len = strcspn(reason, "\n");
    snprintf(out, out_len, "%.*s", (int)len, reason);
    if (msg) {
        yajl_free_error(h, msg);
    }
}

/* For a grammar error, the refused token starts at the first non-blank byte
 * after the last accepted one, unless that byte is a separator yajl accepted
 * before refusing what followed it. */
static size_t refused_token_start(cs_str text, size_t last_good, size_t consumed)
{
    size_t i = last_good;
    while (i < text.len && strchr(" \t\r\n", text.ptr[i])) {
        i++;
    }
    if (i < text.len && (text.ptr[i] == ',' || text.ptr[i] == ':') && consumed > i + 1) {
        i++;
        while (i < text.len && strchr(" \t\r\n", text.ptr[i])) {
            i++;
        }
    }
    return i;
}

static cs_error parse_failure(yajl_handle h, yajl_status status, const parse_ctx *ctx, cs_str text,
                              int at_end, cs_diag *diag)
{
    size_t offset = at_end ? text.len : yajl_get_bytes_consumed(h);
    if (status == yajl_status_client_canceled) {
        if (ctx->error == CS_ERR_JSON_DEPTH) {
            cs_diag_set(diag, CS_ERR_JSON_DEPTH, "JSON nested deeper than %zu levels at byte %zu",
                        ctx->max_depth, offset > 0 ? offset - 1 : 0);
            cs_diag_set_offset(diag, offset > 0 ? offset - 1 : 0);
            return CS_ERR_JSON_DEPTH;
        }
        return cs_diag_set(diag, ctx->error, "JSON document does not fit: %s",
                           cs_error_message(ctx->error));
    }
    char reason[128];
    char kind[16];
    yajl_reason(h, text, reason, sizeof(reason), kind, sizeof(kind));
    cs_error code = CS_ERR_JSON_SYNTAX;
    if (!at_end && strcmp(kind, "lexical") != 0 && !strstr(reason, "trailing garbage")) {
        offset = refused_token_start(text, ctx->last_good, offset);
    }
    if (strstr(reason, "trailing garbage")) {
        /* Point at the first byte after the value that is not whitespace. */
        code = CS_ERR_JSON_TRAILING;
        offset = ctx->value_end;
        while (offset < text.len && strchr(" \t\r\n", text.ptr[offset])) {
            offset++;
        }
    }
    cs_diag_set(diag, code, "%s at byte %zu: %s", cs_error_message(code), offset, reason);
    cs_diag_set_offset(diag, offset);
    return code;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* The code unit of a "\uXXXX" escape at i, or -1 if there is none. */
static long unicode_escape(cs_str t, size_t i)
{
    if (t.len - i < 6 || t.ptr[i] != '\\' || t.ptr[i + 1] != 'u') {
        return -1;
    }
    long unit = 0;
    for (size_t k = i + 2; k < i + 6; k++) {
        int h = hex_value(t.ptr[k]);
        if (h < 0) {
            return -1;
        }
        unit = unit * 16 + h;
    }
    return unit;
}

/* yajl turns an unpaired surrogate escape ("\udc00") into bytes that are
 * not UTF-8, so such escapes are refused before parsing. Returns 1 and the
 * offset of the escape when there is one. */
static int find_lone_surrogate(cs_str t, size_t *offset)
{
    size_t i = 0;
    while (i < t.len) {
        const char *slash = memchr(t.ptr + i, '\\', t.len - i);
        if (!slash) {
            return 0;
        }
        i = (size_t)(slash - t.ptr);
        long unit = unicode_escape(t, i);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            long low = unicode_escape(t, i + 6);
            if (low < 0xDC00 || low > 0xDFFF) {
                *offset = i;
                return 1;
            }
            i += 12;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            *offset = i;
            return 1;
        } else {
            i += unit >= 0 ? 6 : 2;
        }
    }
    return 0;
}

cs_error cs_json_parse_opts(cs_arena *arena, cs_str text, const cs_json_opts *opts, cs_json **out,
                            cs_diag *diag)
{
    size_t bad = 0;
    if (!cs_utf8_valid(text, &bad)) {
        cs_diag_set(diag, CS_ERR_JSON_UTF8, "invalid UTF-8 in JSON text at byte %zu", bad);
        cs_diag_set_offset(diag, bad);
        return CS_ERR_JSON_UTF8;
    }
    if (find_lone_surrogate(text, &bad)) {
        cs_diag_set(diag, CS_ERR_JSON_UTF8, "unpaired UTF-16 surrogate escape at byte %zu", bad);
        cs_diag_set_offset(diag, bad);
        return CS_ERR_JSON_UTF8;
    }
    parse_ctx ctx = {.arena = arena};
    ctx.input_begin = (uintptr_t)text.ptr;
    ctx.input_end = (uintptr_t)text.ptr + text.len;
    ctx.max_depth = opts && opts->max_depth ? opts->max_depth : CS_JSON_DEFAULT_MAX_DEPTH;
    if (ctx.max_depth > JSON_MAX_DEPTH) {
        ctx.max_depth = JSON_MAX_DEPTH;
    }
    ctx.stack = cs_arena_alloc(arena, ctx.max_depth * sizeof(*ctx.stack));
    if (!ctx.stack) {
        return cs_arena_full(arena, diag);
    }
    yajl_handle h = yajl_alloc(&parse_callbacks, NULL, &ctx);
    if (!h) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    ctx.handle = h;
    /* UTF-8 was checked strictly above; yajl's own check is looser. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    cs_error result = CS_ERR_OK;
    yajl_status status = yajl_parse(h, (const unsigned char *)text.ptr, text.len);
    if (status != yajl_status_ok) {
        result = parse_failure(h, status, &ctx, text, 0, diag);
    } else {
        status = yajl_complete_parse(h);
        if (status != yajl_status_ok) {
            result = parse_failure(h, status, &ctx, text, 1, diag);
        }
    }
    yajl_free(h);
    if (!result) {
        *out = ctx.root;
    }
    return result;
}

cs_error cs_json_parse(cs_arena *arena, cs_str text, cs_json **out, cs_diag *diag)
{
    return cs_json_parse_opts(arena, text, NULL, out, diag);
}

cs_json *cs_json_object_get(const cs_json *obj, cs_str key)
{
    if (!obj || obj->type != CS_JSON_OBJECT) {
        return NULL;
    }
    /* Decoders look up dozens of keys per object: compare lengths and first
     * bytes before calling memcmp. */
    for (cs_json *m = obj->first; m; m = m->next) {
        if (m->key.len == key.len &&
            (key.len == 0 ||
             (m->key.ptr[0] == key.ptr[0] && memcmp(m->key.ptr, key.ptr, key.len) == 0))) {
            return m;
        }
    }
    return NULL;
}

cs_json *cs_json_array_at(const cs_json *arr, size_t i)
{
    if (!arr || arr->type != CS_JSON_ARRAY || i >= arr->count) {
        return NULL;
    }
    cs_json *e = arr->first;
    while (i--) {
        e = e->next;
    }
    return e;
}

static const cs_json *path_index(const cs_json *node, const char **p)
{
    const char *s = *p + 1; /* past '[' */
    size_t index = 0;
    if (*s < '0' || *s > '9') {
        return NULL;
    }
    while (*s >= '0' && *s <= '9') {
        if (index > (SIZE_MAX - 9) / 10) {
            return NULL;
        }
        index = index * 10 + (size_t)(*s++ - '0');
    }
    if (*s != ']') {
        return NULL;
    }
    *p = s + 1;
    return cs_json_array_at(node, index);
}

cs_json *cs_json_path(const cs_json *root, const char *path)
{
    const cs_json *node = root;
    const char *p = path;
    while (node && *p) {
        if (*p == '[') {
            node = path_index(node, &p);
            continue;
        }
        if (*p == '.') {
            if (p == path) {
                return NULL;
            }
            p++;
        }
        size_t len = strcspn(p, ".[");
        if (len == 0) {
            return NULL;
        }
        node = cs_json_object_get(node, cs_str_make(p, len));
        p += len;
    }
    return (cs_json *)node;
}

static const char *type_name(cs_json_type type)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return names[type];
}

/* Finds the value at path; *found is NULL for missing or null. */
static cs_error lookup(const cs_json *root, const char *path, cs_json_type want, int required,
                       const cs_json **found, cs_diag *diag)
{
    const cs_json *v = cs_json_path(root, path);
    *found = NULL;
    if (!v || v->type == CS_JSON_NULL) {
        if (!required) {
            return CS_ERR_OK;
        }
        cs_diag_set(diag, CS_ERR_JSON_MISSING, "required field '%s' is %s", path,
                    v ? "null" : "missing");
        cs_diag_set_field(diag, path);
        return CS_ERR_JSON_MISSING;
    }
    if (v->type != want) {
        cs_diag_set(diag, CS_ERR_JSON_TYPE, "field '%s' is %s, expected %s", path,
                    type_name(v->type), type_name(want));
        cs_diag_set_field(diag, path);
        return CS_ERR_JSON_TYPE;
    }
    *found = v;
    return CS_ERR_OK;
}

static cs_error get_string(const cs_json *root, const char *path, int required, cs_str *out,
                           cs_diag *diag)
{
    const cs_json *v;
    cs_error result = lookup(root, path, CS_JSON_STRING, required, &v, diag);
    if (!result && v) {
        *out = v->text;
    }
    return result;
}

cs_error cs_json_get_string(const cs_json *root, const char *path, cs_str *out, cs_diag *diag)
{
    return get_string(root, path, 1, out, diag);
}

cs_error cs_json_opt_string(const cs_json *root, const char *path, cs_str *out, cs_diag *diag)
{
    return get_string(root, path, 0, out, diag);
}

cs_error cs_parse_int64(cs_str text, int64_t *out)
{
    size_t i = 0;
    int negative = text.len > 0 && text.ptr[0] == '-';
    i = (size_t)negative;
    if (i == text.len) {
        return CS_ERR_JSON_TYPE;
    }
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t value = 0;
    for (; i < text.len; i++) {
        char c = text.ptr[i];
        if (c < '0' || c > '9') {
            return CS_ERR_JSON_TYPE;
        }
        unsigned digit = (unsigned)(c - '0');
        if (value > (limit - digit) / 10) {
            return CS_ERR_OVERFLOW;
        }
        value = value * 10 + digit;
    }
    *out = negative ? (int64_t)(0 - value) : (int64_t)value;
    return CS_ERR_OK;
}

static cs_error get_int64(const cs_json *root, const char *path, int required, int64_t *out,
                          cs_diag *diag)
{
    const cs_json *v;
    cs_error result = lookup(root, path, CS_JSON_NUMBER, required, &v, diag);
    if (result || !v) {
        return result;
    }
    result = cs_parse_int64(v->text, out);
    if (result) {
        cs_diag_set(diag, result, "field '%s' is %.*s, expected a 64-bit integer", path,
                    CS_STR_FMT(v->text));
        cs_diag_set_field(diag, path);
    }
    return result;
}

cs_error cs_json_get_int64(const cs_json *root, const char *path, int64_t *out, cs_diag *diag)
{
    return get_int64(root, path, 1, out, diag);
}

cs_error cs_json_opt_int64(const cs_json *root, const char *path, int64_t *out, cs_diag *diag)
{
    return get_int64(root, path, 0, out, diag);
}

static cs_error get_bool(const cs_json *root, const char *path, int required, bool *out,
                         cs_diag *diag)
{
    const cs_json *v;
    cs_error result = lookup(root, path, CS_JSON_BOOL, required, &v, diag);
    if (!result && v) {
        *out = v->boolean;
    }
    return result;
}

cs_error cs_json_get_bool(const cs_json *root, const char *path, bool *out, cs_diag *diag)
{
    return get_bool(root, path, 1, out, diag);
}

cs_error cs_json_opt_bool(const cs_json *root, const char *path, bool *out, cs_diag *diag)
{
    return get_bool(root, path, 0, out, diag);
}

static size_t skip_digits(cs_str t, size_t i)
{
    while (i < t.len && t.ptr[i] >= '0' && t.ptr[i] <= '9') {
        i++;
    }
    return i;
}

bool cs_json_number_valid(cs_str t)
{
    size_t i = 0;
    if (i < t.len && t.ptr[i] == '-') {
        i++;
    }
    if (i < t.len && t.ptr[i] == '0') {
        i++;
    } else {
        size_t start = i;
        i = skip_digits(t, i);
        if (i == start) {
            return false;
        }
    }
    if (i < t.len && t.ptr[i] == '.') {
        size_t start = ++i;
        i = skip_digits(t, i);
        if (i == start) {
            return false;
        }
    }
    if (i < t.len && (t.ptr[i] == 'e' || t.ptr[i] == 'E')) {
        i++;
        if (i < t.len && (t.ptr[i] == '+' || t.ptr[i] == '-')) {
            i++;
        }
        size_t start = i;
        i = skip_digits(t, i);
        if (i == start) {
            return false;
        }
    }
    return i == t.len;
}

/* ---- writer ----
 *
 * Each open array or object has a state byte on a stack: whether it is an
 * object, whether it has items yet (so the next one needs a comma), and, in
 * an object, whether a key is waiting for its value. Level 0 is the document
 * itself, which takes exactly one value. */

enum { LEVEL_OBJECT = 1, LEVEL_HAS_ITEMS = 2, LEVEL_AFTER_KEY = 4 };

cs_error cs_json_writer_init(cs_json_writer *w, cs_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    return CS_ERR_OK;
}

void cs_json_writer_clean_up(cs_json_writer *w)
{
    w->out = NULL;
}

static void emit(cs_json_writer *w, const char *text, size_t len)
{
    cs_buf *out = w->out;
    /* Most pieces fit without growing the buffer. */
    if (out->data && len < out->cap - out->len && len <= out->max_bytes - out->len) {
        memcpy(out->data + out->len, text, len);
        out->len += len;
        out->data[out->len] = '\0';
    } else if (!w->error) {
        w->error = cs_buf_append(out, text, len);
    }
}

/* Writes what must come before a value (a comma) and records the value. */
static bool before_value(cs_json_writer *w)
{
    if (w->error) {
        return false;
    }
    uint8_t *level = &w->levels[w->depth];
    if ((*level & LEVEL_OBJECT) && !(*level & LEVEL_AFTER_KEY)) {
        w->error = CS_ERR_JSON_SYNTAX; /* a value where a key belongs */
        return false;
    }
    if (w->depth == 0 && (*level & LEVEL_HAS_ITEMS)) {
        w->error = CS_ERR_JSON_SYNTAX; /* a second document */
        return false;
    }
    if ((*level & (LEVEL_HAS_ITEMS | LEVEL_OBJECT)) == LEVEL_HAS_ITEMS) {
        emit(w, ",", 1);
    }
    *level = (uint8_t)((*level & ~LEVEL_AFTER_KEY) | LEVEL_HAS_ITEMS);
    return true;
}

/* Whether any of eight bytes is a control character, '"', '\\' or part of
 * a multi-byte UTF-8 sequence: anything but a byte written as it is. */
static bool word_needs_care(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"');
    uint64_t backslash = x ^ (ones * '\\');
    uint64_t below_space = (x - ones * 0x20) & ~x;
    uint64_t is_quote = (quote - ones) & ~quote;
    uint64_t is_backslash = (backslash - ones) & ~backslash;
    return ((below_space | is_quote | is_backslash) & highs) != 0 || (x & highs) != 0;
}

/* Writes prefix, the quoted and escaped string, then suffix, checking the
 * string is UTF-8 in the same pass. Room for the worst case (every byte six
 * long) is reserved first, so the loop writes straight into the buffer. */
static void write_quoted(cs_json_writer *w, cs_str prefix, cs_str s, cs_str suffix)
{
    static const char hex[] = "0123456789abcdef";
    size_t prefix_len = prefix.len;
    size_t suffix_len = suffix.len;
    if (w->error || (w->error = cs_buf_reserve(w->out, prefix_len + s.len * 6 + 2 + suffix_len))) {
        return;
    }
    char *o = w->out->data + w->out->len;
    memcpy(o, prefix.ptr, prefix_len);
    o += prefix_len;
    *o++ = '"';
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (size_t i = 0; i < s.len;) {
        uint64_t word;
        if (i + 8 <= s.len && (memcpy(&word, p + i, 8), !word_needs_care(word))) {
            memcpy(o, p + i, 8);
            o += 8;
            i += 8;
            continue;
        }
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t n = cs_utf8_sequence_len(p + i, s.len - i);
            if (n == 0) {
                w->error = CS_ERR_UTF8;
                return;
            }
            memcpy(o, p + i, n);
            o += n;
            i += n;
            continue;
        }
        i++;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        char simple = c == '"'    ? '"'
                      : c == '\\' ? '\\'
                      : c == '\n' ? 'n'
                      : c == '\r' ? 'r'
                      : c == '\t' ? 't'
                      : c == '\b' ? 'b'
                      : c == '\f' ? 'f'
                                  : 0;
        if (simple) {
            *o++ = simple;
        } else {
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    memcpy(o, suffix.ptr, suffix_len);
    o += suffix_len;
    w->out->len = (size_t)(o - w->out->data);
    w->out->data[w->out->len] = '\0';
}

static void open_level(cs_json_writer *w, bool object)
{
    if (!before_value(w)) {
        return;
    }
    if (w->depth + 1 == CS_JSON_WRITER_MAX_DEPTH) {
        w->error = CS_ERR_JSON_DEPTH;
        return;
    }
    w->levels[++w->depth] = object ? LEVEL_OBJECT : 0;
    emit(w, object ? "{" : "[", 1);
}

static void close_level(cs_json_writer *w, bool object)
{
    if (w->error) {
        return;
    }
    uint8_t level = w->levels[w->depth];
    if (w->depth == 0 || ((level & LEVEL_OBJECT) != 0) != object || (level & LEVEL_AFTER_KEY)) {
        w->error = CS_ERR_JSON_SYNTAX;
        return;
    }
    w->depth--;
    emit(w, object ? "}" : "]", 1);
}

cs_error cs_json_writer_finish(cs_json_writer *w, cs_diag *diag)
{
    if (w->error) {
        return cs_diag_set(diag, w->error, "JSON writer: %s", cs_error_message(w->error));
    }
    if (w->depth != 0) {
        return cs_diag_set(diag, CS_ERR_JSON_SYNTAX,
                           "JSON writer: %zu array(s) or object(s) left open", w->depth);
    }
    return CS_ERR_OK;
}

void cs_json_write_object_begin(cs_json_writer *w)
{
    open_level(w, true);
}

void cs_json_write_object_end(cs_json_writer *w)
{
    close_level(w, true);
}

void cs_json_write_array_begin(cs_json_writer *w)
{
    open_level(w, false);
}

void cs_json_write_array_end(cs_json_writer *w)
{
    close_level(w, false);
}

/* An empty view may have a NULL pointer; never hand that to memcpy. */
static cs_str non_null(cs_str s)
{
    return s.ptr ? s : CS_STR_LIT("");
}

void cs_json_write_key(cs_json_writer *w, cs_str key)
{
    key = non_null(key);
    if (w->error) {
        return;
    }
    uint8_t *level = &w->levels[w->depth];
    if (!(*level & LEVEL_OBJECT) || (*level & LEVEL_AFTER_KEY)) {
        w->error = CS_ERR_JSON_SYNTAX; /* a key outside an object, or two in a row */
        return;
    }
    write_quoted(w, (*level & LEVEL_HAS_ITEMS) ? CS_STR_LIT(",") : CS_STR_LIT(""), key,
                 CS_STR_LIT(":"));
    *level |= LEVEL_AFTER_KEY | LEVEL_HAS_ITEMS;
}

void cs_json_write_key_c(cs_json_writer *w, const char *key)
{
    cs_json_write_key(w, cs_str_from_c(key));
}

void cs_json_write_string(cs_json_writer *w, cs_str s)
{
    s = non_null(s);
    if (before_value(w)) {
        write_quoted(w, CS_STR_LIT(""), s, CS_STR_LIT(""));
    }
}

void cs_json_write_string_c(cs_json_writer *w, const char *s)
{
    cs_json_write_string(w, cs_str_from_c(s));
}

void cs_json_write_number_text(cs_json_writer *w, cs_str text)
{
    if (!w->error && !cs_json_number_valid(text)) {
        w->error = CS_ERR_JSON_SYNTAX;
        return;
    }
    if (before_value(w)) {
        emit(w, text.ptr, text.len);
    }
}

void cs_json_write_int64(cs_json_writer *w, int64_t n)
{
    char text[21];
    text[0] = '-';
    size_t len = cs_format_u64(n < 0 ? 0 - (uint64_t)n : (uint64_t)n, 1, text + 1);
    if (before_value(w)) {
        emit(w, n < 0 ? text : text + 1, n < 0 ? len + 1 : len);
    }
}

void cs_json_write_bool(cs_json_writer *w, bool b)
{
    if (before_value(w)) {
        emit(w, b ? "true" : "false", b ? 4 : 5);
    }
}

void cs_json_write_null(cs_json_writer *w)
{
    if (before_value(w)) {
        emit(w, "null", 4);
    }
}

void cs_json_write_value(cs_json_writer *w, const cs_json *v)
{
    switch (v->type) {
    case CS_JSON_NULL:
        cs_json_write_null(w);
        break;
    case CS_JSON_BOOL:
        cs_json_write_bool(w, v->boolean);
        break;
    case CS_JSON_NUMBER:
        cs_json_write_number_text(w, v->text);
        break;
    case CS_JSON_STRING:
        cs_json_write_string(w, v->text);
        break;
    case CS_JSON_ARRAY:
        cs_json_write_array_begin(w);
        for (const cs_json *e = v->first; e; e = e->next) {
            cs_json_write_value(w, e);
        }
        cs_json_write_array_end(w);
        break;
    case CS_JSON_OBJECT:
        cs_json_write_object_begin(w);
        for (const cs_json *m = v->first; m; m = m->next) {
            cs_json_write_key(w, m->key);
            cs_json_write_value(w, m);
        }
        cs_json_write_object_end(w);
        break;
    }
}

cs_error cs_json_serialize(const cs_json *value, cs_buf *out, cs_diag *diag)
{
    cs_json_writer w;
    cs_error result = cs_json_writer_init(&w, out);
    if (result) {
        return cs_diag_set(diag, result, NULL);
    }
    cs_json_write_value(&w, value);
    result = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return result;
}

cs_str cs_json_writer_to_arena(cs_json_writer *w, cs_buf *out, cs_arena *arena)
{
    cs_json_writer_finish(w, NULL);
    cs_json_writer_clean_up(w);
    cs_str s = cs_arena_copy(arena, cs_buf_view(out));
    cs_buf_clean_up(out);
    return s;
}
