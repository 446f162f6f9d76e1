#include "buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_buf_init(cs_buf *buf, size_t max_bytes)
{
    memset(buf, 0, sizeof(*buf));
    buf->max_bytes = max_bytes ? max_bytes : SIZE_MAX - 1;
}

void cs_buf_clean_up(cs_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void cs_buf_reset(cs_buf *buf)
{
    buf->len = 0;
    buf->refused = 0;
    if (buf->data) {
        buf->data[0] = '\0';
    }
}

cs_error cs_buf_reserve(cs_buf *buf, size_t extra)
{
    if (extra > buf->max_bytes - buf->len) {
        buf->refused = 1;
        return CS_ERR_BUFFER_FULL;
    }
    size_t need = buf->len + extra + 1; /* room for the trailing NUL */
    if (need <= buf->cap) {
        return CS_ERR_OK;
    }
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    if (cap > buf->max_bytes + 1) {
        cap = buf->max_bytes + 1;
    }
    char *data = realloc(buf->data, cap);
    if (!data) {
        return CS_ERR_NOMEM;
    }
    buf->data = data;
    buf->cap = cap;
    return CS_ERR_OK;
}

cs_error cs_buf_append(cs_buf *buf, const void *data, size_t len)
{
    cs_error result = cs_buf_reserve(buf, len);
    if (result) {
        return result;
    }
    if (len) {
        memcpy(buf->data + buf->len, data, len);
    }
    buf->len += len;
    buf->data[buf->len] = '\0';
    return CS_ERR_OK;
}

cs_error cs_buf_append_str(cs_buf *buf, cs_str s)
{
    return cs_buf_append(buf, s.ptr, s.len);
}

cs_error cs_buf_append_c(cs_buf *buf, const char *cstr)
{
    return cs_buf_append(buf, cstr, strlen(cstr));
}

cs_error cs_buf_append_byte(cs_buf *buf, char c)
{
    return cs_buf_append(buf, &c, 1);
}

cs_error cs_buf_appendf(cs_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    cs_error result = n < 0 ? CS_ERR_INVALID_ARGUMENT : cs_buf_reserve(buf, (size_t)n);
    if (!result) {
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
        buf->len += (size_t)n;
    }
    va_end(ap);
    return result;
}

cs_error cs_buf_append_valid_utf8(cs_buf *buf, cs_str s)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    while (s.len > 0) {
        size_t bad = s.len;
        bool valid = cs_utf8_valid(s, &bad);
        cs_error result = cs_buf_append(buf, s.ptr, valid ? s.len : bad);
        if (result || valid) {
            return result;
        }
        result = cs_buf_append(buf, replacement, sizeof(replacement) - 1);
        if (result) {
            return result;
        }
        s = cs_str_sub(s, bad + 1, s.len);
    }
    return CS_ERR_OK;
}

cs_str cs_buf_view(const cs_buf *buf)
{
    return cs_str_make(buf->data ? buf->data : "", buf->len);
}

cs_error cs_buf_append_file(cs_buf *buf, const char *path, const char *what, cs_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return cs_diag_set(diag, CS_ERR_IO, "cannot read %s %s: %s", what, path, strerror(errno));
    }
    char chunk[8192];
    size_t n;
    cs_error r = CS_ERR_OK;
    while (!r && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        r = cs_buf_append(buf, chunk, n);
    }
    fclose(f);
    return r ? cs_diag_set(diag, r, "%s %s is too large", what, path) : CS_ERR_OK;
}
