/* Project-wide error codes and the diagnostics struct that explains them.
 *
 * Every function that can fail returns a cs_error and, where the caller may
 * want details, takes an optional cs_diag pointer (NULL means "no details
 * wanted"). Codes are generated from one list, so a code, its name and its
 * message can never drift apart. Codes are never renumbered: append only. */
#ifndef CS_CORE_ERROR_H
#define CS_CORE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* X(ENUM_SUFFIX, "Name", "message") */
#define CS_ERROR_LIST(X)                                                                           \
    X(OK, "Ok", "no error")                                                                        \
    X(NOMEM, "OutOfMemory", "out of memory")                                                       \
    X(ARENA_FULL, "ArenaFull", "invocation memory cap reached")                                    \
    X(BUFFER_FULL, "BufferFull", "buffer maximum size reached")                                    \
    X(INVALID_ARGUMENT, "InvalidArgument", "invalid argument")                                     \
    X(NOT_FOUND, "NotFound", "not found")                                                          \
    X(JSON_SYNTAX, "JsonSyntax", "malformed JSON")                                                 \
    X(JSON_UTF8, "JsonInvalidUtf8", "invalid UTF-8 in JSON text")                                  \
    X(JSON_TRAILING, "JsonTrailingGarbage", "data after the JSON value")                           \
    X(JSON_DEPTH, "JsonTooDeep", "JSON nesting deeper than the limit")                             \
    X(JSON_TYPE, "JsonWrongType", "JSON value has the wrong type")                                 \
    X(JSON_MISSING, "JsonMissingField", "required JSON field is missing")                          \
    X(DECIMAL_SYNTAX, "DecimalSyntax", "malformed decimal number")                                 \
    X(DECIMAL_PRECISION, "DecimalPrecision", "more fraction digits than the currency allows")      \
    X(OVERFLOW, "Overflow", "value out of range")                                                  \
    X(UNKNOWN_CURRENCY, "UnknownCurrency", "unknown ISO 4217 currency code")                       \
    X(CURRENCY_MISMATCH, "CurrencyMismatch", "amounts in different currencies")                    \
    X(TIME_SYNTAX, "TimeSyntax", "malformed RFC 3339 timestamp")                                   \
    X(TIME_RANGE, "TimeRange", "timestamp field out of range")                                     \
    X(UTF8, "InvalidUtf8", "invalid UTF-8")                                                        \
    X(IO, "Io", "input/output error")                                                              \
    X(CONFIG, "Config", "invalid configuration")                                                   \
    X(HTTP, "Http", "HTTP transport error")                                                        \
    X(RUNTIME_API, "RuntimeApi", "Lambda Runtime API error")                                       \
    X(RESPONSE_TOO_LARGE, "ResponseSizeTooLarge", "response larger than Lambda allows")            \
    X(HANDLER, "HandlerError", "the function handler failed")                                      \
    X(HTTP_TRANSIENT, "HttpTransient", "temporary failure; retries or time ran out")               \
    X(HTTP_PERMANENT, "HttpPermanent", "the server refused the request")                           \
    X(HTTP_CONFLICT, "HttpConflict", "the server reported a conflicting change")                   \
    X(TLS, "Tls", "TLS connection refused (certificate or handshake)")                             \
    X(DEADLINE, "Deadline", "not enough time left before the deadline")                            \
    X(CONDITION_FAILED, "ConditionFailed", "a conditional write did not hold")                     \
    X(AWS, "Aws", "AWS service error")                                                             \
    X(STORAGE, "Storage", "state storage error")                                                   \
    X(BUSY, "Busy", "another worker holds this record")                                            \
    X(SIGNATURE, "BadSignature", "the signature does not match the message")

typedef enum cs_error {
#define CS_ERROR_ENUM(suffix, name, message) CS_ERR_##suffix,
    CS_ERROR_LIST(CS_ERROR_ENUM)
#undef CS_ERROR_ENUM
        CS_ERR__COUNT
} cs_error;

/* Details of one failure. `field` names the offending field path when there is
 * one ("order.lines[2].price"); `offset` is a byte offset into the input when
 * `has_offset` is set. All text is owned by the struct (fixed arrays), so a
 * diag can outlive the input and the arena that produced the error. */
typedef struct cs_diag {
    cs_error code;
    char message[256];
    char field[128];
    size_t offset;
    int has_offset;
} cs_diag;

/* "JsonSyntax" etc.; "Unknown" for a value outside the enum. */
const char *cs_error_name(cs_error code);
/* A short human message for the code; never NULL. */
const char *cs_error_message(cs_error code);

/* Clears a diag to CS_ERR_OK. NULL is a no-op. */
void cs_diag_clear(cs_diag *diag);

/* Records `code` with a printf-style message into diag (NULL allowed) and
 * returns `code`, so a failure path can be `return cs_diag_set(...)`.
 * A NULL fmt uses the code's default message. */
cs_error cs_diag_set(cs_diag *diag, cs_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cs_error cs_diag_setv(cs_diag *diag, cs_error code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Adds the field path or the byte offset to an already recorded error.
 * NULL diag or NULL field is a no-op. */
void cs_diag_set_field(cs_diag *diag, const char *field);
void cs_diag_set_offset(cs_diag *diag, size_t offset);

#endif
