#include "httpd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void em_upload_collect(em_upload *up, const char *data, size_t len, size_t limit)
{
    if (up->too_large || up->len + len > limit) {
        up->too_large = true;
        return;
    }
    char *grown = realloc(up->data, up->len + len + 1);
    if (!grown) {
        up->too_large = true;
        return;
    }
    up->data = grown;
    memcpy(up->data + up->len, data, len);
    up->len += len;
    up->data[up->len] = '\0';
}

char *em_upload_take(em_upload *up)
{
    char *data = up->data ? up->data : strdup("");
    up->data = NULL;
    return data;
}

void em_upload_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    em_upload *up = *con_cls;
    if (up) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

enum MHD_Result em_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                         const char *body, size_t len, ...)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type);
    va_list ap;
    va_start(ap, len);
    for (const char *name; (name = va_arg(ap, const char *));) {
        const char *value = va_arg(ap, const char *);
        if (value) {
            MHD_add_response_header(r, name, value);
        }
    }
    va_end(ap);
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}
