/* HttpApi triggers: matching a request to a route, the payload format 2.0
 * event API Gateway hands the function, and the HTTP response made of what
 * the function returns. */
#ifndef CS_EMULATOR_HTTP_EVENT_H
#define CS_EMULATOR_HTTP_EVENT_H

#include <microhttpd.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/buf.h"
#include "template.h"

enum { EM_HTTP_MAX_PARAMS = 16 };

typedef struct em_path_params {
    cs_str names[EM_HTTP_MAX_PARAMS];
    cs_str values[EM_HTTP_MAX_PARAMS];
    int count;
} em_path_params;

/* Whether `path` matches the route ("/orders/{id}", "/files/{proxy+}");
 * binds the parameters. */
bool em_http_route_matches(cs_str route, cs_str path, em_path_params *params);

typedef struct em_http_request {
    struct MHD_Connection *conn; /* headers and query arguments come from here */
    const char *method;
    const char *path;
    cs_str body;
    const char *route_key; /* "POST /orders/{id}" or "$default" */
    const em_path_params *params;
    const char *request_id;
    unsigned port;
} em_http_request;

/* The payload format 2.0 event. A body that is not UTF-8 goes base64. */
cs_error em_http_event_write(const em_http_request *req, cs_buf *out, cs_diag *diag);

/* Answers with what the function returned: {statusCode, headers, cookies,
 * body, isBase64Encoded}, or any other JSON as a 200 application/json body. */
enum MHD_Result em_http_respond(struct MHD_Connection *conn, cs_str payload);

#endif
