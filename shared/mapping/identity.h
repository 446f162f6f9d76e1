/* Identity matching: is this incoming customer one the target already has?
 *
 *   "identity": {
 *     "customer": {"keys": ["ids.exactmax", "account_code", "email", "company+postal_code"]}
 *   }
 *
 * Keys are tried in order; a key the incoming record has no value for is
 * skipped. The first key that finds exactly one candidate decides the match;
 * a key that finds several makes the result ambiguous, and an ambiguous
 * result is never merged automatically: it goes to review. Values are
 * compared normalized: emails trimmed and lower-cased, companies reduced to
 * letters and digits without legal suffixes (Inc, GmbH, B.V., ...), postal
 * codes upper-cased without spaces or dashes, everything else trimmed.
 * "company+postal_code" pairs the company with the first address's postal
 * code. A guest checkout has no ids, so it is matched by email and does not
 * create a second account. */
#ifndef CS_MAPPING_IDENTITY_H
#define CS_MAPPING_IDENTITY_H

#include "core/json.h"
#include "core/problems.h"
#include "model/schema.h"

typedef enum cs_key_kind { CS_KEY_EXACT, CS_KEY_EMAIL, CS_KEY_COMPANY_POSTAL } cs_key_kind;

typedef struct cs_identity_key {
    cs_str name; /* as written in the config */
    cs_key_kind kind;
    cs_path path; /* EXACT and EMAIL */
} cs_identity_key;

typedef struct cs_identity {
    const cs_schema *schema; /* customer */
    cs_identity_key *keys;
    size_t key_count;
} cs_identity;

cs_error cs_identity_load(cs_arena *arena, const cs_schema *schema, const cs_json *config,
                          const char *path, cs_identity *out, cs_problems *problems);

typedef enum cs_match_kind { CS_MATCH_NONE, CS_MATCH_ONE, CS_MATCH_AMBIGUOUS } cs_match_kind;

enum { CS_MATCH_MAX_CANDIDATES = 16 };

typedef struct cs_match {
    cs_match_kind kind;
    cs_str key;                                 /* the key that decided (ONE or AMBIGUOUS) */
    size_t index;                               /* ONE: the matching candidate */
    size_t candidates[CS_MATCH_MAX_CANDIDATES]; /* AMBIGUOUS: the first of them */
    size_t candidate_count;                     /* AMBIGUOUS: how many matched */
} cs_match;

/* Matches `incoming` against `count` candidates (an array of customers).
 * Normalized values are built in arena. */
cs_error cs_identity_match(const cs_identity *id, const cs_customer *incoming,
                           const cs_customer *candidates, size_t count, cs_arena *arena,
                           cs_match *out);

/* The same over many incoming customers without a scan each: an index of
 * the candidates' key values (hashes and positions only, not the values),
 * built once with an add per candidate. A candidate replaced since it was
 * added (an account updated) is added again at its position; a hit is
 * checked against what the candidate is now, so an old value no longer
 * finds it. Matches as cs_identity_match does over the same array,
 * candidates in the same order. */
typedef struct cs_identity_index cs_identity_index;

cs_identity_index *cs_identity_index_new(const cs_identity *id); /* NULL: out of memory */
void cs_identity_index_free(cs_identity_index *ix);
/* CS_ERR_NOMEM when the table cannot grow; scratch holds normalized values. */
cs_error cs_identity_index_add(cs_identity_index *ix, const cs_customer *candidate, size_t position,
                               cs_arena *scratch);
cs_error cs_identity_match_indexed(const cs_identity_index *ix, const cs_customer *incoming,
                                   const cs_customer *candidates, size_t count, cs_arena *arena,
                                   cs_match *out);

/* Writes the review record for an ambiguous match (never merged
 * automatically): {"kind": "identity_ambiguous", "key": ..., "incoming":
 * customer, "candidates": [customer, ...]} with customers in canonical JSON.
 * The flows put it on the error queue for a person to resolve. */
void cs_match_write_review(const cs_match *match, const cs_customer *incoming,
                           const cs_customer *candidates, cs_json_writer *w);

/* Normalizations, exposed for decoders and tests; results live in arena. */
cs_str cs_normalize_email(cs_str email, cs_arena *arena);
cs_str cs_normalize_company(cs_str company, cs_arena *arena);
cs_str cs_normalize_postal_code(cs_str postal_code, cs_arena *arena);

#endif
