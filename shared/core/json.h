/* JSON: parse into an arena DOM, look values up by path, write JSON text.
 *
 * Numbers are kept as their source text, so 64-bit ids and decimal amounts
 * stay exact; callers convert them with cs_json_get_int64 or the money
 * functions. Parsing rejects invalid UTF-8, trailing data and nesting deeper
 * than a limit, each with the byte offset of the problem in the diag.
 * Parsing is done by yajl; this header is the only place that knows. */
#ifndef CS_CORE_JSON_H
#define CS_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "error.h"
#include "str.h"

typedef enum cs_json_type {
    CS_JSON_NULL,
    CS_JSON_BOOL,
    CS_JSON_NUMBER,
    CS_JSON_STRING,
    CS_JSON_ARRAY,
    CS_JSON_OBJECT
} cs_json_type;

/* One value. Arrays and objects hold their children as a linked list in
 * document order; an object's children carry their key. Nodes live in the
 * arena given to the parser. Strings and numbers that needed no unescaping
 * are views into the parsed text itself (the rest are copied to the arena),
 * so the text must outlive the DOM, and views are not NUL-terminated. */
typedef struct cs_json cs_json;
struct cs_json {
    cs_json_type type;
    bool boolean;   /* CS_JSON_BOOL */
    cs_str text;    /* CS_JSON_NUMBER (source text) and CS_JSON_STRING (decoded) */
    cs_str key;     /* set when this value is an object member */
    cs_json *first; /* CS_JSON_ARRAY and CS_JSON_OBJECT: first child */
    cs_json *last;
    size_t count;  /* number of children */
    cs_json *next; /* next sibling */
};

#define CS_JSON_DEFAULT_MAX_DEPTH 64

typedef struct cs_json_opts {
    size_t max_depth; /* 0 means CS_JSON_DEFAULT_MAX_DEPTH; at most 128 */
} cs_json_opts;

/* Parses exactly one JSON value from `text` (surrounding whitespace allowed).
 * On success *out is the root, allocated in `arena`. Errors: CS_ERR_JSON_SYNTAX,
 * CS_ERR_JSON_UTF8, CS_ERR_JSON_TRAILING, CS_ERR_JSON_DEPTH (each with the byte
 * offset), CS_ERR_ARENA_FULL, CS_ERR_NOMEM. */
cs_error cs_json_parse(cs_arena *arena, cs_str text, cs_json **out, cs_diag *diag);
cs_error cs_json_parse_opts(cs_arena *arena, cs_str text, const cs_json_opts *opts, cs_json **out,
                            cs_diag *diag);

/* The first member named `key`; NULL when obj is NULL, not an object or lacks
 * the key. With duplicate keys the first one wins. */
cs_json *cs_json_object_get(const cs_json *obj, cs_str key);
/* Element i of an array; NULL when out of range or not an array. */
cs_json *cs_json_array_at(const cs_json *arr, size_t i);

/* Follows a path such as "order.lines[2].sku" or "[0].id" from root; an empty
 * path is root itself. NULL when any step is missing or the path is malformed.
 * Keys containing '.' or '[' need cs_json_object_get. */
cs_json *cs_json_path(const cs_json *root, const char *path);

/* Typed lookups by path. The _get_ forms require the value: missing or null is
 * CS_ERR_JSON_MISSING, another type is CS_ERR_JSON_TYPE, both naming the path
 * in diag->field. The _opt_ forms return CS_ERR_OK and leave *out untouched
 * when the value is missing or null. */
cs_error cs_json_get_string(const cs_json *root, const char *path, cs_str *out, cs_diag *diag);
cs_error cs_json_opt_string(const cs_json *root, const char *path, cs_str *out, cs_diag *diag);
/* Integer numbers only ("12", "-3"); "1.0", "1e2" and out-of-range values are
 * CS_ERR_JSON_TYPE / CS_ERR_OVERFLOW. */
cs_error cs_json_get_int64(const cs_json *root, const char *path, int64_t *out, cs_diag *diag);
cs_error cs_json_opt_int64(const cs_json *root, const char *path, int64_t *out, cs_diag *diag);
cs_error cs_json_get_bool(const cs_json *root, const char *path, bool *out, cs_diag *diag);
cs_error cs_json_opt_bool(const cs_json *root, const char *path, bool *out, cs_diag *diag);

/* Parses a decimal integer view exactly; CS_ERR_JSON_TYPE for anything that
 * is not [-]digits, CS_ERR_OVERFLOW outside int64. */
cs_error cs_parse_int64(cs_str text, int64_t *out);
/* True when text matches the JSON number grammar of RFC 8259. */
bool cs_json_number_valid(cs_str text);

/* Writer: appends JSON text to a cs_buf. Calls never fail individually; the
 * first error (bad UTF-8, a key where a value belongs, a value where a key
 * belongs, a second document, nesting past CS_JSON_WRITER_MAX_DEPTH, a full
 * buffer) sticks, later calls do nothing, and cs_json_writer_finish reports
 * it. Non-ASCII text is written as UTF-8; '"', '\\' and control characters
 * are escaped. */
#define CS_JSON_WRITER_MAX_DEPTH 128

typedef struct cs_json_writer {
    cs_buf *out;
    cs_error error;
    size_t depth;                             /* open arrays and objects */
    uint8_t levels[CS_JSON_WRITER_MAX_DEPTH]; /* state of each open level */
} cs_json_writer;

/* out must outlive the writer. Allocates nothing; always CS_ERR_OK. */
cs_error cs_json_writer_init(cs_json_writer *w, cs_buf *out);
void cs_json_writer_clean_up(cs_json_writer *w);
/* The sticky error, if any, with a message in diag; also reports a document
 * that is not complete (unclosed arrays or objects). */
cs_error cs_json_writer_finish(cs_json_writer *w, cs_diag *diag);
/* Finishes w, cleans it and out (the buffer it wrote to) up, and returns
 * what was written copied into arena (CS_STR_NULL when arena is full). For
 * snapshots kept with a record. */
cs_str cs_json_writer_to_arena(cs_json_writer *w, cs_buf *out, cs_arena *arena);

void cs_json_write_object_begin(cs_json_writer *w);
void cs_json_write_object_end(cs_json_writer *w);
void cs_json_write_array_begin(cs_json_writer *w);
void cs_json_write_array_end(cs_json_writer *w);
void cs_json_write_key(cs_json_writer *w, cs_str key);
void cs_json_write_key_c(cs_json_writer *w, const char *key);
void cs_json_write_string(cs_json_writer *w, cs_str s);
void cs_json_write_string_c(cs_json_writer *w, const char *s);
/* Writes number text as is; text that is not a JSON number is an error. */
void cs_json_write_number_text(cs_json_writer *w, cs_str text);
void cs_json_write_int64(cs_json_writer *w, int64_t n);
void cs_json_write_bool(cs_json_writer *w, bool b);
void cs_json_write_null(cs_json_writer *w);
/* Writes a DOM value (and everything under it). */
void cs_json_write_value(cs_json_writer *w, const cs_json *value);

/* Convenience: serialises a DOM value into `out` (appending). */
cs_error cs_json_serialize(const cs_json *value, cs_buf *out, cs_diag *diag);

#endif
