/* Declarative field maps: how a canonical record becomes a target payload,
 * written in the integration's JSON config, so a new target field (a
 * Salesforce ExactMax_Account_Code__c, an ERP user field) needs no code.
 *
 *   "maps": {
 *     "erp_sales_order": {
 *       "entity": "order",
 *       "fields": [
 *         {"target": "customer_id", "from": "customer.account_code", "required": true},
 *         {"target": "customer_po", "from": "number", "transform": ["truncate:20"]},
 *         {"target": "stockroom", "from": "store_code", "lookup": "stores", "column": "warehouse"},
 *         {"target": "ship_via", "from": "shipping_lines[0].carrier", "lookup": "carriers",
 *          "default": "BEST"},
 *         {"target": "order_date", "from": "created_at", "transform": ["date:%Y-%m-%d"]},
 *         {"target": "reference", "format": "{store_code}-{number}"},
 *         {"target": "source", "const": "WEB"},
 *         {"target": "lines", "each": "lines", "fields": [
 *           {"target": "part_number", "from": "item_code",
 *            "fallback": {"from": "sku", "lookup": "sku_to_item", "on_unknown": "pass"}},
 *           {"target": "quantity", "from": "quantity"},
 *           {"target": "price", "from": "unit_price", "transform": ["decimal:2"], "as": "number"},
 *           {"target": "currency", "from": "$.currency"}
 *         ]}
 *       ]
 *     }
 *   }
 *
 * A rule takes its value from exactly one of: "from" (a canonical path, or a
 * list of paths where the first present one wins), "const", "format" (text
 * with {path} placeholders), or "fields" (a nested object; with "each": an
 * array with one object per element). Inside "each", paths are relative to
 * the element; "$." starts from the record.
 * Then, in order: "lookup" (with "column" for row tables; "on_unknown":
 * "fail" (the default without "default"), "pass", "default" or "omit"),
 * "transform" (see transform.h), "fallback" (a rule used when the value is
 * absent), "required", "if_absent" ("omit", the default, or "null") and
 * "as" ("string", "number", "boolean"; the default follows the value:
 * integers as numbers, money as decimal strings, times as RFC 3339).
 *
 * Everything is checked at load: paths against the schema, lookups and
 * columns against the tables, transforms against the types flowing in. */
#ifndef CS_MAPPING_FIELDMAP_H
#define CS_MAPPING_FIELDMAP_H

#include "core/json.h"
#include "core/problems.h"
#include "lookup.h"
#include "model/schema.h"

typedef struct cs_rule cs_rule;

typedef struct cs_fieldmap {
    cs_str name;
    const cs_schema *schema;
    cs_rule *rules;
    size_t rule_count;
} cs_fieldmap;

/* Compiles one map (config: {"entity": ..., "fields": [...]}) with the given
 * lookup tables. Every problem goes in `problems` under `path`; returns
 * CS_ERR_CONFIG if there was any. The config must outlive the map. */
cs_error cs_fieldmap_load(cs_arena *arena, cs_str name, const cs_json *config, const char *path,
                          const cs_lookup *lookups, size_t lookup_count, cs_fieldmap *out,
                          cs_problems *problems);

/* Appends the target JSON object for `record` (a struct of map->schema) to
 * out. On failure (a required value absent, an unknown lookup key, a value
 * that cannot be written as asked) every problem is recorded with its target
 * path, `out` is left exactly as it was, and CS_ERR_INVALID_ARGUMENT returns.
 * Temporary values go in `arena`. */
cs_error cs_fieldmap_apply(const cs_fieldmap *map, const void *record, cs_arena *arena, cs_buf *out,
                           cs_problems *problems);

#endif
