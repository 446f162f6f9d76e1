/* Canonical JSON: the model written as JSON, field names as in the schema.
 * Used for fixtures, payload snapshots in the error queue, replays and
 * debugging. Money is {"amount": "19.99", "currency": "EUR"}, times are
 * RFC 3339, systems are their names, ids are {"shopify": "...", ...}.
 * Empty and zero values are left out when writing and default when reading,
 * so a record survives the round trip exactly. */
#ifndef CS_MODEL_CODEC_H
#define CS_MODEL_CODEC_H

#include "core/json.h"
#include "core/problems.h"
#include "schema.h"

/* Fills `record` (a zeroed struct of the schema's shape) from a JSON object.
 * Every problem (unknown field, wrong type, bad amount or time) is recorded
 * with its path; returns CS_ERR_INVALID_ARGUMENT if there was any. Strings
 * point into the JSON (keep its arena alive); arrays go in `arena`. */
cs_error cs_record_decode(const cs_schema *schema, const cs_json *object, cs_arena *arena,
                          void *record, cs_problems *problems);
/* Writes the record as a JSON object. */
void cs_record_encode(const cs_schema *schema, const void *record, cs_json_writer *w);

#endif
