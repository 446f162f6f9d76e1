/* What the emulator's libmicrohttpd servers share: collecting a request
 * body up to a limit, and small JSON replies. */
#ifndef CS_EMULATOR_HTTPD_H
#define CS_EMULATOR_HTTPD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct em_upload {
    char *data; /* NUL-terminated; NULL until the first byte */
    size_t len;
    bool too_large; /* past the limit, or out of memory */
} em_upload;

/* Appends a chunk unless that would pass `limit` bytes. */
void em_upload_collect(em_upload *up, const char *data, size_t len, size_t limit);
/* The body so far, handed over (malloc'd, "" when empty); NULL without memory. */
char *em_upload_take(em_upload *up);

/* MHD_OPTION_NOTIFY_COMPLETED callback freeing the em_upload in *con_cls. */
void em_upload_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code);

/* Queues a response with a copy of body; extra headers as name, value
 * pairs ending in NULL. */
enum MHD_Result em_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                         const char *body, size_t len, ...);

#endif
