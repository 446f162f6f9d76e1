#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "timestamp.h"

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

static const char REDACTED[] = "[REDACTED]";

const char *cs_log_level_name(cs_log_level level)
{
    return (unsigned)level <= CS_LOG_FATAL ? level_names[level] : "INFO";
}

cs_error cs_log_level_parse(cs_str name, cs_log_level *out)
{
    for (int i = CS_LOG_TRACE; i <= CS_LOG_FATAL; i++) {
        if (cs_str_eq_nocase(name, cs_str_from_c(level_names[i]))) {
            *out = (cs_log_level)i;
            return CS_ERR_OK;
        }
    }
    return CS_ERR_NOT_FOUND;
}

static void copy_field(char *dst, size_t cap, cs_str value)
{
    size_t len = value.len < cap - 1 ? value.len : cap - 1;
    if (len) {
        memcpy(dst, value.ptr, len);
    }
    dst[len] = '\0';
}

void cs_log_init(cs_logger *log, const char *function_name, int fd)
{
    memset(log, 0, sizeof(*log));
    log->fd = fd;
    log->min_level = CS_LOG_INFO;
    if (!function_name) {
        function_name = getenv("AWS_LAMBDA_FUNCTION_NAME");
    }
    copy_field(log->function_name, sizeof(log->function_name), cs_str_from_c(function_name));
    cs_buf_init(&log->line, CS_LOG_MAX_LINE);
    cs_buf_init(&log->scratch, CS_LOG_MAX_LINE);
    cs_buf_init(&log->clean, CS_LOG_MAX_LINE);
    const char *level = getenv("AWS_LAMBDA_LOG_LEVEL");
    if (level && *level && cs_log_level_parse(cs_str_from_c(level), &log->min_level)) {
        cs_logf(log, CS_LOG_WARN, "AWS_LAMBDA_LOG_LEVEL '%s' is not a level; using INFO", level);
    }
}

void cs_log_clean_up(cs_logger *log)
{
    for (size_t i = 0; i < log->secret_count; i++) {
        free(log->secrets[i]);
    }
    log->secret_count = 0;
    cs_buf_clean_up(&log->line);
    cs_buf_clean_up(&log->scratch);
    cs_buf_clean_up(&log->clean);
}

cs_error cs_log_add_secret(cs_logger *log, cs_str secret)
{
    if (secret.len == 0) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    if (log->secret_count == CS_LOG_MAX_SECRETS) {
        return CS_ERR_BUFFER_FULL;
    }
    char *copy = malloc(secret.len);
    if (!copy) {
        return CS_ERR_NOMEM;
    }
    memcpy(copy, secret.ptr, secret.len);
    log->secrets[log->secret_count] = copy;
    log->secret_lens[log->secret_count] = secret.len;
    log->secret_count++;
    return CS_ERR_OK;
}

void cs_log_set_request_id(cs_logger *log, cs_str request_id)
{
    copy_field(log->request_id, sizeof(log->request_id), request_id);
}

void cs_log_set_correlation_id(cs_logger *log, cs_str correlation_id)
{
    copy_field(log->correlation_id, sizeof(log->correlation_id), correlation_id);
}

bool cs_log_enabled(const cs_logger *log, cs_log_level level)
{
    return level >= log->min_level;
}

/* Replaces every occurrence of one secret in `in`, writing to `out`. */
static cs_error redact_one(cs_str in, const char *secret, size_t secret_len, cs_buf *out)
{
    cs_buf_reset(out);
    size_t pos = 0;
    while (pos < in.len) {
        const char *hit = memmem(in.ptr + pos, in.len - pos, secret, secret_len);
        size_t upto = hit ? (size_t)(hit - in.ptr) : in.len;
        cs_error result = cs_buf_append(out, in.ptr + pos, upto - pos);
        if (!result && hit) {
            result = cs_buf_append(out, REDACTED, sizeof(REDACTED) - 1);
        }
        if (result) {
            return result;
        }
        pos = hit ? upto + secret_len : in.len;
    }
    return CS_ERR_OK;
}

/* Writes a string value with secrets removed and UTF-8 repaired. */
static void write_safe_string(cs_logger *log, cs_json_writer *w, cs_str value)
{
    cs_str text = value;
    for (size_t i = 0; i < log->secret_count; i++) {
        if (!memmem(text.ptr, text.len, log->secrets[i], log->secret_lens[i])) {
            continue;
        }
        cs_buf *target = text.ptr == log->scratch.data ? &log->clean : &log->scratch;
        if (redact_one(text, log->secrets[i], log->secret_lens[i], target)) {
            cs_json_write_string_c(w, REDACTED);
            return;
        }
        text = cs_buf_view(target);
    }
    if (!cs_utf8_valid(text, NULL)) {
        cs_buf *target = text.ptr == log->scratch.data ? &log->clean : &log->scratch;
        cs_buf_reset(target);
        if (cs_buf_append_valid_utf8(target, text)) {
            cs_json_write_string_c(w, REDACTED);
            return;
        }
        text = cs_buf_view(target);
    }
    cs_json_write_string(w, text);
}

static void write_context(cs_logger *log, cs_json_writer *w, cs_log_level level, cs_str message)
{
    char timestamp[CS_TIME_RFC3339_MAX];
    if (cs_time_format_rfc3339(cs_time_now_ms(), 0, timestamp)) {
        timestamp[0] = '\0';
    }
    cs_json_write_key_c(w, "timestamp");
    cs_json_write_string_c(w, timestamp);
    cs_json_write_key_c(w, "level");
    cs_json_write_string_c(w, cs_log_level_name(level));
    cs_json_write_key_c(w, "message");
    write_safe_string(log, w, message);
    if (log->request_id[0]) {
        cs_json_write_key_c(w, "requestId");
        write_safe_string(log, w, cs_str_from_c(log->request_id));
    }
    if (log->correlation_id[0]) {
        cs_json_write_key_c(w, "correlationId");
        write_safe_string(log, w, cs_str_from_c(log->correlation_id));
    }
    if (log->function_name[0]) {
        cs_json_write_key_c(w, "function");
        write_safe_string(log, w, cs_str_from_c(log->function_name));
    }
}

static void write_field(cs_logger *log, cs_json_writer *w, const cs_log_field *f)
{
    cs_json_write_key_c(w, f->key);
    switch (f->kind) {
    case CS_LOG_FIELD_STR:
        if (f->str.ptr) {
            write_safe_string(log, w, f->str);
        } else {
            cs_json_write_null(w);
        }
        break;
    case CS_LOG_FIELD_INT:
        cs_json_write_int64(w, f->num);
        break;
    case CS_LOG_FIELD_BOOL:
        cs_json_write_bool(w, f->boolean);
        break;
    }
}

static cs_error build_line(cs_logger *log, cs_log_level level, cs_str message,
                           const cs_log_field *fields, size_t n)
{
    cs_json_writer w;
    cs_buf_reset(&log->line);
    cs_error result = cs_json_writer_init(&w, &log->line);
    if (result) {
        return result;
    }
    cs_json_write_object_begin(&w);
    write_context(log, &w, level, message);
    for (size_t i = 0; i < n; i++) {
        write_field(log, &w, &fields[i]);
    }
    cs_json_write_object_end(&w);
    result = cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    if (!result) {
        result = cs_buf_append_byte(&log->line, '\n');
    }
    return result;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

void cs_log_write(cs_logger *log, cs_log_level level, cs_str message, const cs_log_field *fields,
                  size_t n)
{
    if (!cs_log_enabled(log, level)) {
        return;
    }
    cs_error result = build_line(log, level, message, fields, n);
    if (result) {
        /* Keep the event visible even when its fields cannot be written. */
        char note[128];
        snprintf(note, sizeof(note), "log line dropped: %s", cs_error_message(result));
        result = build_line(log, level, cs_str_from_c(note), NULL, 0);
    }
    if (!result) {
        write_all(log->fd, log->line.data, log->line.len);
    }
}

void cs_logf(cs_logger *log, cs_log_level level, const char *fmt, ...)
{
    if (!cs_log_enabled(log, level)) {
        return;
    }
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    cs_log_write(log, level, cs_str_from_c(message), NULL, 0);
}
