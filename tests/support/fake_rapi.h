/* A scripted fake of the Lambda Runtime API for tests and benchmarks.
 *
 * The test queues what /next must answer (events or failures); the fake
 * records every post (responses, invocation errors, init errors) with its
 * headers and the time it arrived, so a test asserts on exactly what the
 * runtime sent. Listens on 127.0.0.1 with a port the OS picks. */
#ifndef CS_TESTS_FAKE_RAPI_H
#define CS_TESTS_FAKE_RAPI_H

#include <stddef.h>
#include <stdint.h>

typedef struct fake_rapi fake_rapi;

typedef struct fake_rapi_event {
    const char *request_id;
    const char *body;
    size_t body_len;     /* 0 means strlen(body) */
    int64_t deadline_ms; /* 0: header omitted */
    const char *function_arn;
    const char *trace_id;
    const char *client_context;
    const char *cognito_identity;
} fake_rapi_event;

typedef enum fake_post_kind {
    FAKE_POST_RESPONSE,
    FAKE_POST_ERROR,
    FAKE_POST_INIT_ERROR
} fake_post_kind;

typedef struct fake_rapi_post {
    fake_post_kind kind;
    char request_id[128];
    char error_type[128]; /* Lambda-Runtime-Function-Error-Type */
    char *body;           /* NUL-terminated copy */
    size_t body_len;
    int status;            /* what the fake answered */
    int64_t received_ns;   /* monotonic clock */
    int64_t event_sent_ns; /* when /next handed out this request id; 0 if unknown */
} fake_rapi_post;

/* NULL when the daemon cannot start. */
fake_rapi *fake_rapi_start(void);
void fake_rapi_stop(fake_rapi *f);
uint16_t fake_rapi_port(const fake_rapi *f);
/* "127.0.0.1:port", for AWS_LAMBDA_RUNTIME_API. */
const char *fake_rapi_address(const fake_rapi *f);

/* Queues an answer for /next (copied). */
void fake_rapi_push_event(fake_rapi *f, const fake_rapi_event *ev);
/* Queues a failed /next: an HTTP status, or 0 to close the connection
 * without answering. */
void fake_rapi_push_failure(fake_rapi *f, int status);

/* Waits until at least `count` posts have arrived; 0 on timeout. */
int fake_rapi_wait_posts(fake_rapi *f, size_t count, int timeout_ms);
/* Waits until `count` /next requests have arrived; 0 on timeout. */
int fake_rapi_wait_nexts(fake_rapi *f, size_t count, int timeout_ms);
size_t fake_rapi_post_count(fake_rapi *f);
size_t fake_rapi_next_count(fake_rapi *f);
/* TCP connections accepted so far. */
size_t fake_rapi_connection_count(fake_rapi *f);
/* The i-th post, valid until fake_rapi_stop. */
const fake_rapi_post *fake_rapi_post_at(fake_rapi *f, size_t i);
/* Monotonic time of the first /next; 0 if none yet. */
int64_t fake_rapi_first_next_ns(fake_rapi *f);

int64_t fake_now_ns(void);

#endif
