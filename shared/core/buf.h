/* A growable byte buffer with a hard maximum size.
 *
 * The buffer owns its heap memory. Appending past max_bytes fails with
 * CS_ERR_BUFFER_FULL and leaves the contents as they were, so an oversized
 * input is an error the caller can report rather than unbounded growth.
 * The contents are always followed by a NUL byte (not counted in len), so
 * text can be handed to C APIs directly. */
#ifndef CS_CORE_BUF_H
#define CS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"
#include "str.h"

typedef struct cs_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max_bytes;
    int refused; /* an append was refused for max_bytes since the last reset */
} cs_buf;

/* max_bytes is the most content the buffer may hold (0 means SIZE_MAX - 1). */
void cs_buf_init(cs_buf *buf, size_t max_bytes);
void cs_buf_clean_up(cs_buf *buf);
/* Empties the buffer and clears `refused`, keeping its memory for reuse. */
void cs_buf_reset(cs_buf *buf);
/* Makes room for `extra` more bytes; CS_ERR_BUFFER_FULL or CS_ERR_NOMEM. */
cs_error cs_buf_reserve(cs_buf *buf, size_t extra);
cs_error cs_buf_append(cs_buf *buf, const void *data, size_t len);
cs_error cs_buf_append_str(cs_buf *buf, cs_str s);
cs_error cs_buf_append_c(cs_buf *buf, const char *cstr);
cs_error cs_buf_append_byte(cs_buf *buf, char c);
cs_error cs_buf_appendf(cs_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with each byte that is not part of valid UTF-8 replaced by
 * U+FFFD, for text from outside that must end up in JSON. */
cs_error cs_buf_append_valid_utf8(cs_buf *buf, cs_str s);
/* Appends the file at path. Errors name it as "<what> <path>": CS_ERR_IO
 * when it cannot be read, CS_ERR_BUFFER_FULL past the buffer's limit. */
cs_error cs_buf_append_file(cs_buf *buf, const char *path, const char *what, cs_diag *diag);
cs_str cs_buf_view(const cs_buf *buf);

#endif
