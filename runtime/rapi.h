/* HTTP calls to the Lambda Runtime API over one reused curl handle.
 * Internal to the runtime: functions use runtime.h. */
#ifndef CS_RUNTIME_RAPI_H
#define CS_RUNTIME_RAPI_H

#include <signal.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

typedef struct rapi_event {
    cs_str request_id;
    cs_str deadline_ms;
    cs_str function_arn;
    cs_str trace_id;
    cs_str client_context;
    cs_str cognito_identity;
    cs_str body;
} rapi_event;

typedef struct rapi_client {
    void *curl;                  /* CURL *, reused for every call */
    char base_url[256];          /* http://host:port/2018-06-01/runtime */
    cs_buf body;                 /* response body of the last call */
    cs_arena *header_arena;      /* where header values of /next are copied */
    rapi_event *event;           /* headers land here during /next */
    int body_too_large;          /* the last /next body passed body.max_bytes */
    volatile sig_atomic_t *stop; /* set by SIGTERM; aborts a waiting /next */
    int waiting_next;            /* the stop flag only aborts /next */
} rapi_client;

/* api is AWS_LAMBDA_RUNTIME_API ("127.0.0.1:9001"). */
cs_error rapi_init(rapi_client *c, const char *api, size_t max_event_bytes,
                   volatile sig_atomic_t *stop, cs_diag *diag);
void rapi_clean_up(rapi_client *c);

/* GET /invocation/next. Header values and the body are copied into `arena`.
 * *status is the HTTP status (0 when the transport failed). */
cs_error rapi_next(rapi_client *c, cs_arena *arena, rapi_event *out, long *status, cs_diag *diag);

/* POST to path (relative to the runtime base) with a body; error_type, when
 * not NULL, goes in Lambda-Runtime-Function-Error-Type. */
cs_error rapi_post(rapi_client *c, const char *path, cs_str body, const char *error_type,
                   long *status, cs_diag *diag);

#endif
