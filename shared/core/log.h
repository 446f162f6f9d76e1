/* Structured logs: one JSON object per line, in the shape of Lambda's JSON
 * log format, so CloudWatch Logs Insights can filter on any field:
 *
 *   {"timestamp":"2024-03-05T10:15:30.123Z","level":"INFO","message":"...",
 *    "requestId":"...","correlationId":"...","function":"order-export",
 *    ...free fields...}
 *
 * The level threshold comes from AWS_LAMBDA_LOG_LEVEL (TRACE, DEBUG, INFO,
 * WARN, ERROR, FATAL; INFO when unset). Strings registered as secrets are
 * replaced by "[REDACTED]" wherever they appear in a message or a field
 * value. Invalid UTF-8 is replaced by U+FFFD rather than losing the line. */
#ifndef CS_CORE_LOG_H
#define CS_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "str.h"

typedef enum cs_log_level {
    CS_LOG_TRACE,
    CS_LOG_DEBUG,
    CS_LOG_INFO,
    CS_LOG_WARN,
    CS_LOG_ERROR,
    CS_LOG_FATAL
} cs_log_level;

typedef enum cs_log_field_kind {
    CS_LOG_FIELD_STR,
    CS_LOG_FIELD_INT,
    CS_LOG_FIELD_BOOL
} cs_log_field_kind;

typedef struct cs_log_field {
    const char *key;
    cs_log_field_kind kind;
    cs_str str;
    int64_t num;
    bool boolean;
} cs_log_field;

#define CS_LOG_STR(k, v) ((cs_log_field){.key = (k), .kind = CS_LOG_FIELD_STR, .str = (v)})
#define CS_LOG_CSTR(k, v) CS_LOG_STR((k), cs_str_from_c(v))
#define CS_LOG_INT(k, v) ((cs_log_field){.key = (k), .kind = CS_LOG_FIELD_INT, .num = (v)})
#define CS_LOG_BOOL(k, v) ((cs_log_field){.key = (k), .kind = CS_LOG_FIELD_BOOL, .boolean = (v)})

enum { CS_LOG_MAX_SECRETS = 32, CS_LOG_MAX_LINE = 256 * 1024 };

typedef struct cs_logger {
    cs_log_level min_level;
    int fd;
    char function_name[128];
    char request_id[64];
    char correlation_id[128];
    char *secrets[CS_LOG_MAX_SECRETS]; /* owned copies */
    size_t secret_lens[CS_LOG_MAX_SECRETS];
    size_t secret_count;
    cs_buf line;    /* the line being built, reused */
    cs_buf scratch; /* redaction and UTF-8 repair, reused */
    cs_buf clean;
} cs_logger;

/* Prepares a logger writing to fd (1 for stdout). function_name may be NULL
 * (AWS_LAMBDA_FUNCTION_NAME is used when set). */
void cs_log_init(cs_logger *log, const char *function_name, int fd);
void cs_log_clean_up(cs_logger *log);

/* Parses a level name, case-insensitively; CS_ERR_NOT_FOUND if unknown. */
cs_error cs_log_level_parse(cs_str name, cs_log_level *out);
const char *cs_log_level_name(cs_log_level level);

/* Registers a value that must never be printed (a token, a password). The
 * logger keeps its own copy. CS_ERR_INVALID_ARGUMENT for an empty value,
 * CS_ERR_BUFFER_FULL past CS_LOG_MAX_SECRETS. */
cs_error cs_log_add_secret(cs_logger *log, cs_str secret);

/* Context carried on every line until changed; an empty view clears it. */
void cs_log_set_request_id(cs_logger *log, cs_str request_id);
void cs_log_set_correlation_id(cs_logger *log, cs_str correlation_id);

bool cs_log_enabled(const cs_logger *log, cs_log_level level);
/* Writes one line with `n` extra fields, in one write(2) so concurrent
 * writers do not interleave within a line. */
void cs_log_write(cs_logger *log, cs_log_level level, cs_str message, const cs_log_field *fields,
                  size_t n);
void cs_logf(cs_logger *log, cs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cs_log_write with fields given inline:
 * CS_LOG(log, CS_LOG_INFO, "order exported", CS_LOG_CSTR("orderId", id)); */
#define CS_LOG(log, level, message, ...)                                                           \
    do {                                                                                           \
        const cs_log_field cs_log_fields_[] = {__VA_ARGS__};                                       \
        cs_log_write((log), (level), cs_str_from_c(message), cs_log_fields_,                       \
                     sizeof(cs_log_fields_) / sizeof(cs_log_fields_[0]));                          \
    } while (0)

#endif
