/* The Lambda Runtime API client: the loop every function binary runs.
 *
 *   int main(void)
 *   {
 *       cs_runtime_opts opts = {.handler = handle, .init = init, .user = &state};
 *       return cs_runtime_main(&opts);
 *   }
 *
 * The loop asks Lambda for the next event (GET /2018-06-01/runtime/invocation/next),
 * calls the handler, posts its response or its error, resets the invocation
 * arena and asks again, until Lambda shuts the environment down, the Runtime
 * API answers 500, or SIGTERM arrives. */
#ifndef CS_RUNTIME_RUNTIME_H
#define CS_RUNTIME_RUNTIME_H

#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/str.h"

/* Lambda's limit on a synchronous response: 6 MB. */
#define CS_RUNTIME_MAX_RESPONSE_BYTES ((size_t)6 * 1024 * 1024)

/* One invocation. Every view points into memory that lives until the handler
 * returns; copy what must outlive it. */
typedef struct cs_invocation {
    cs_str event;            /* the request body, as sent */
    cs_str request_id;       /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms;     /* Lambda-Runtime-Deadline-Ms: epoch ms, 0 if absent */
    cs_str function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
    cs_str trace_id;         /* Lambda-Runtime-Trace-Id, also in _X_AMZN_TRACE_ID */
    cs_str client_context;   /* Lambda-Runtime-Client-Context (JSON), may be empty */
    cs_str cognito_identity; /* Lambda-Runtime-Cognito-Identity (JSON), may be empty */
    cs_arena *arena;         /* reset after the response is posted */
    cs_logger *log;          /* carries requestId already */
} cs_invocation;

/* Milliseconds until the deadline (negative once past it); INT64_MAX when
 * Lambda gave no deadline. */
int64_t cs_invocation_remaining_ms(const cs_invocation *inv);

/* Runs once before the first event. Anything it allocates for the life of the
 * process goes in process_arena (never reset). A non-OK return posts
 * /init/error with the diag's message and ends the process. */
typedef cs_error (*cs_init_fn)(void *user, cs_arena *process_arena, cs_logger *log, cs_diag *diag);

/* Handles one event, appending the response body to `response`. A non-OK
 * return posts an invocation error whose errorType is "Function.<ErrorName>"
 * and whose errorMessage is diag->message. */
typedef cs_error (*cs_handler_fn)(void *user, const cs_invocation *inv, cs_buf *response,
                                  cs_diag *diag);

typedef struct cs_runtime_opts {
    cs_handler_fn handler;    /* required */
    cs_init_fn init;          /* NULL: nothing to initialise */
    void *user;               /* passed to init and handler */
    size_t arena_max_bytes;   /* invocation arena cap; 0 means 64 MiB */
    size_t arena_block_bytes; /* 0 means 64 KiB */
} cs_runtime_opts;

/* Runs the loop; returns the process exit status: 0 after SIGTERM, non-zero
 * after a failed init, a 500 from the Runtime API or a Runtime API that stays
 * unreachable. Reads AWS_LAMBDA_RUNTIME_API (host:port). */
int cs_runtime_main(const cs_runtime_opts *opts);

#endif
