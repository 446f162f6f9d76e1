/* Lookup tables from the integration config: SKU to item code, carriers,
 * statuses, tax classes, units, stores to currency / locale / warehouse.
 *
 *   "lookups": {
 *     "carriers": {"ignore_case": true, "values": {"DHL Paket": "DHL", "UPS Ground": "UPS"}},
 *     "stores":   {"values": {"eu": {"currency": "EUR", "locale": "de-DE", "warehouse": "W1"}}}
 *   }
 *
 * A table maps a key to a string or to a row of named string columns. Keys
 * are sorted at load, so a lookup is a binary search. */
#ifndef CS_MAPPING_LOOKUP_H
#define CS_MAPPING_LOOKUP_H

#include <stdbool.h>

#include "core/json.h"
#include "core/problems.h"

typedef struct cs_lookup_entry {
    cs_str key;
    const cs_json *value; /* a string, or an object of string columns */
} cs_lookup_entry;

typedef struct cs_lookup {
    cs_str name;
    bool ignore_case;
    cs_lookup_entry *entries; /* sorted by key */
    size_t count;
} cs_lookup;

/* Compiles one table; problems are reported under `path` ("lookups.carriers").
 * Entries point into `config`, which must outlive the table. `problems` is
 * required (success is decided by counting them). */
cs_error cs_lookup_load(cs_arena *arena, cs_str name, const cs_json *config, const char *path,
                        cs_lookup *out, cs_problems *problems);

/* The value for key: for string tables `column` must be empty, for row tables
 * it names the column. false when the key (or the column) is absent. */
bool cs_lookup_find(const cs_lookup *table, cs_str key, cs_str column, cs_str *out);

/* Whether any row of the table has the column (for checking configs). */
bool cs_lookup_has_column(const cs_lookup *table, cs_str column);

/* A string table turned round (values become keys), for reading the other
 * way (a part number back to its SKU). A value that two keys share is a
 * problem at path, since the way back would be ambiguous. */
cs_error cs_lookup_reverse(cs_arena *arena, const cs_lookup *table, const char *path,
                           cs_lookup *out, cs_problems *problems);

#endif
