/* A description of the canonical structs, so code can reach fields by name.
 *
 * Each struct has a cs_schema: its fields with their JSON name, type and
 * offset. A path such as "lines[0].unit_price", "billing.country" or
 * "ids.shopify" is compiled once against a schema (at config load, where a
 * typo becomes a problem with its location) and then read from any record of
 * that shape without further parsing. */
#ifndef CS_MODEL_SCHEMA_H
#define CS_MODEL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/money.h"
#include "core/str.h"
#include "model.h"

typedef enum cs_field_type {
    CS_FIELD_STR,
    CS_FIELD_INT,
    CS_FIELD_BOOL,
    CS_FIELD_MONEY,
    CS_FIELD_TIME,   /* int64 epoch ms; RFC 3339 text in JSON */
    CS_FIELD_SYSTEM, /* cs_system; its name in JSON */
    CS_FIELD_IDS,    /* cs_ids; {"shopify": "...", ...} in JSON */
    CS_FIELD_STRUCT, /* embedded struct */
    CS_FIELD_ARRAY   /* pointer to elements plus a size_t count */
} cs_field_type;

typedef struct cs_schema cs_schema;

typedef struct cs_field {
    const char *name; /* as in canonical JSON and in paths */
    cs_field_type type;
    size_t offset;
    const cs_schema *schema; /* STRUCT and ARRAY: the element's schema */
    size_t count_offset;     /* ARRAY: where the element count lives */
} cs_field;

struct cs_schema {
    const char *name;
    size_t size; /* sizeof the struct */
    const cs_field *fields;
    size_t field_count;
};

extern const cs_schema cs_schema_order;
extern const cs_schema cs_schema_customer;
extern const cs_schema cs_schema_product;
extern const cs_schema cs_schema_stock_level;
extern const cs_schema cs_schema_shipment;
extern const cs_schema cs_schema_return;

/* The top-level schema named "order", "customer", "product", "stock_level",
 * "shipment" or "return"; NULL otherwise. */
const cs_schema *cs_schema_find(cs_str entity);
/* A field of schema by name; NULL if there is none. */
const cs_field *cs_schema_field(const cs_schema *schema, cs_str name);
const char *cs_field_type_name(cs_field_type type);

/* A compiled path: a chain of steps from a record to one value. */
enum { CS_PATH_MAX_STEPS = 8 };

typedef struct cs_path_step {
    const cs_field *field;
    long index;       /* ARRAY: element index; -1 for "every element" ("[]") */
    cs_system system; /* IDS: which system's id */
} cs_path_step;

typedef struct cs_path {
    cs_path_step steps[CS_PATH_MAX_STEPS];
    size_t step_count;
    cs_field_type type;      /* of the value the path ends on */
    const cs_schema *schema; /* STRUCT or ARRAY end: the element schema */
} cs_path;

/* Compiles text against schema. "[]" (every element) is allowed only when
 * allow_each is set and only on the last step. Errors: CS_ERR_NOT_FOUND with
 * diag naming the unknown segment, CS_ERR_INVALID_ARGUMENT for bad syntax. */
cs_error cs_path_compile(const cs_schema *schema, cs_str text, bool allow_each, cs_path *out,
                         cs_diag *diag);

/* A value read from a record. `present` is false when the path leads through
 * a missing array element or ends on an empty string, a zero time, a money
 * without currency or CS_SYS_NONE. */
typedef struct cs_value {
    cs_field_type type;
    bool present;
    cs_str str; /* STR, and SYSTEM as its name */
    int64_t i;  /* INT, TIME (epoch ms) */
    bool b;
    cs_money money;
} cs_value;

/* Reads the value at path from record (a struct of the path's schema). */
cs_value cs_path_read(const cs_path *path, const void *record);
/* The address of the field the path ends on, or NULL when an array index is
 * out of range. For ARRAY ends, the address of the element pointer. */
const void *cs_path_address(const cs_path *path, const void *record);
/* The elements of the ARRAY a path ends on. */
size_t cs_path_elements(const cs_path *path, const void *record, const void **elements);

/* Stores v at the field the path ends on (a scalar, or one system's id);
 * an absent v stores the zero value. CS_ERR_NOT_FOUND when an array index on
 * the way is out of range. */
cs_error cs_path_store(const cs_path *path, void *record, const cs_value *v);

/* Writes a value as text into out (arena): strings as they are, INT in
 * decimal, BOOL as true/false, MONEY as a decimal in its currency's
 * exponent, TIME as RFC 3339 UTC. */
cs_str cs_value_text(const cs_value *v, cs_arena *arena);
/* Whether two values of the same type are equal (money: amount and currency). */
bool cs_value_equal(const cs_value *a, const cs_value *b);

#endif
