/* Value transforms in field maps, written as strings in the config:
 *
 *   trim, upper, lower   text; case changes cover Latin, Greek and Cyrillic
 *                        letters (not ß, whose capital would change length)
 *   truncate:N           at most N characters (UTF-8 aware, never splits one)
 *   digits               keep the digits only (phone numbers)
 *   date:FORMAT          time -> text, UTC; %Y %m %d %H %M %S %L (ms) %%
 *   decimal:N[:MODE]     money or integer -> decimal text with N digits after
 *                        the point; MODE half-even (default) or half-up when
 *                        digits are dropped (KWD to 2 places)
 *   minor                money -> integer minor units
 *
 * Each transform is compiled once against the type flowing into it, so
 * "date" on a money field is a config error, not a runtime one. */
#ifndef CS_MAPPING_TRANSFORM_H
#define CS_MAPPING_TRANSFORM_H

#include "model/schema.h"

typedef enum cs_transform_kind {
    CS_TX_TRIM,
    CS_TX_UPPER,
    CS_TX_LOWER,
    CS_TX_TRUNCATE,
    CS_TX_DIGITS,
    CS_TX_DATE,
    CS_TX_DECIMAL,
    CS_TX_MINOR
} cs_transform_kind;

typedef struct cs_transform {
    cs_transform_kind kind;
    long n;               /* truncate: characters; decimal: digits */
    cs_rounding rounding; /* decimal */
    cs_str format;        /* date */
} cs_transform;

/* Compiles spec for a value of type *type and updates *type to what the
 * transform produces. CS_ERR_CONFIG with a message in diag otherwise. */
cs_error cs_transform_compile(cs_str spec, cs_field_type *type, cs_transform *out, cs_diag *diag);

/* Applies a compiled transform to a present value; results live in arena. */
cs_error cs_transform_apply(const cs_transform *t, cs_value *v, cs_arena *arena, cs_diag *diag);

#endif
