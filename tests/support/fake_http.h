/* A scripted HTTP(S) server for client tests: the test queues responses,
 * the server answers requests with them in order and records each request
 * (method, URL, headers, body, arrival time), so a test asserts on exactly
 * what the client sent. 127.0.0.1, port picked by the OS. */
#ifndef CS_TESTS_FAKE_HTTP_H
#define CS_TESTS_FAKE_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct fake_http fake_http;

typedef struct fake_http_request {
    char method[16];
    char url[512]; /* the path, without the query */
    char *headers; /* "name: value\n" lines, names lower-cased */
    char *body;
    size_t body_len;
    int64_t at_ms; /* monotonic */
} fake_http_request;

/* cert_pem and key_pem both NULL for plain HTTP. NULL when it cannot start. */
fake_http *fake_http_start(const char *cert_pem, const char *key_pem);
void fake_http_stop(fake_http *f);
/* "http://127.0.0.1:PORT" or "https://..." */
const char *fake_http_base(const fake_http *f);

/* Queues a response: status, extra headers ("Name: value\n" lines, may be
 * NULL), body, and a delay before answering. Unscripted requests get 599. */
void fake_http_push(fake_http *f, int status, const char *headers, const char *body, int delay_ms);
size_t fake_http_count(fake_http *f);
/* TCP connections accepted so far. */
size_t fake_http_connections(fake_http *f);
const fake_http_request *fake_http_at(fake_http *f, size_t i);
/* The value of a recorded request's header (lower-case name), or NULL. */
const char *fake_http_header(const fake_http_request *r, const char *name, char *out,
                             size_t out_len);

/* Writes a self-signed certificate for 127.0.0.1 and its key into dir
 * (cert.pem, key.pem) with the openssl command; 0 on success. */
int fake_http_make_cert(const char *dir);

#endif
