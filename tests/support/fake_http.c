#include "fake_http.h"

#include "emulator/httpd.h"

#include "mhd_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct scripted {
    int status;
    char *headers;
    char *body;
    int delay_ms;
} scripted;

struct fake_http {
    struct MHD_Daemon *daemon;
    char base[64];
    pthread_mutex_t mu;
    scripted *script;
    size_t script_len, script_cap, next;
    fake_http_request *requests;
    size_t request_len, request_cap;
    mhd_counter connections;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fake_http_push(fake_http *f, int status, const char *headers, const char *body, int delay_ms)
{
    pthread_mutex_lock(&f->mu);
    if (f->script_len == f->script_cap) {
        f->script = mhd_grow(f->script, &f->script_cap, sizeof(*f->script));
    }
    scripted *s = &f->script[f->script_len++];
    s->status = status;
    s->headers = strdup(headers ? headers : "");
    s->body = strdup(body ? body : "");
    s->delay_ms = delay_ms;
    pthread_mutex_unlock(&f->mu);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    char **headers = cls;
    size_t old = *headers ? strlen(*headers) : 0;
    size_t add = strlen(key) + strlen(value) + 3;
    char *grown = realloc(*headers, old + add + 1);
    if (!grown) {
        return MHD_NO;
    }
    char *p = grown + old;
    for (const char *k = key; *k; k++) {
        *p++ = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
    }
    sprintf(p, ": %s\n", value);
    *headers = grown;
    return MHD_YES;
}

static void record(fake_http *f, struct MHD_Connection *conn, const char *method, const char *url,
                   em_upload *up)
{
    fake_http_request r;
    memset(&r, 0, sizeof(r));
    snprintf(r.method, sizeof(r.method), "%s", method);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &r.headers);
    snprintf(r.url, sizeof(r.url), "%s", url); /* MHD has split the query off */
    r.body = up->data ? up->data : strdup("");
    r.body_len = up->len;
    up->data = NULL;
    r.at_ms = now_ms();
    pthread_mutex_lock(&f->mu);
    if (f->request_len == f->request_cap) {
        f->requests = mhd_grow(f->requests, &f->request_cap, sizeof(*f->requests));
    }
    f->requests[f->request_len++] = r;
    pthread_mutex_unlock(&f->mu);
}

static enum MHD_Result answer(fake_http *f, struct MHD_Connection *conn)
{
    scripted s = {599, "", "unscripted request", 0};
    pthread_mutex_lock(&f->mu);
    if (f->next < f->script_len) {
        s = f->script[f->next++];
    }
    pthread_mutex_unlock(&f->mu);
    if (s.delay_ms) {
        struct timespec ts = {s.delay_ms / 1000, (long)(s.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(s.body), s.body, MHD_RESPMEM_MUST_COPY);
    char line[512];
    for (const char *h = s.headers; *h;) {
        size_t len = strcspn(h, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)len, h);
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            MHD_add_response_header(r, line, colon + 2);
        }
        h += len + (h[len] == '\n');
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)s.status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    fake_http *f = cls;
    em_upload *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof(em_upload));
        return MHD_YES;
    }
    if (*data_size) {
        em_upload_collect(up, data, *data_size, SIZE_MAX);
        *data_size = 0;
        return MHD_YES;
    }
    record(f, conn, method, url, up);
    return answer(f, conn);
}

size_t fake_http_connections(fake_http *f)
{
    return mhd_connections(&f->connections);
}

fake_http *fake_http_start(const char *cert_pem, const char *key_pem)
{
    fake_http *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->connections.mu = &f->mu;
    struct sockaddr_in addr = mhd_loopback();
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC;
    if (cert_pem) {
        f->daemon = MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR, &addr,
            MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
            MHD_OPTION_NOTIFY_COMPLETED, em_upload_completed, f, MHD_OPTION_NOTIFY_CONNECTION,
            mhd_count_connection, &f->connections, MHD_OPTION_END);
    } else {
        f->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
                                     &addr, MHD_OPTION_NOTIFY_COMPLETED, em_upload_completed, f,
                                     MHD_OPTION_NOTIFY_CONNECTION, mhd_count_connection,
                                     &f->connections, MHD_OPTION_END);
    }
    if (!f->daemon) {
        free(f);
        return NULL;
    }
    unsigned port = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%u", cert_pem ? "https" : "http", port);
    return f;
}

void fake_http_stop(fake_http *f)
{
    if (!f) {
        return;
    }
    MHD_stop_daemon(f->daemon);
    for (size_t i = 0; i < f->script_len; i++) {
        free(f->script[i].headers);
        free(f->script[i].body);
    }
    for (size_t i = 0; i < f->request_len; i++) {
        free(f->requests[i].headers);
        free(f->requests[i].body);
    }
    free(f->script);
    free(f->requests);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_http_base(const fake_http *f)
{
    return f->base;
}

size_t fake_http_count(fake_http *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->request_len;
    pthread_mutex_unlock(&f->mu);
    return n;
}

const fake_http_request *fake_http_at(fake_http *f, size_t i)
{
    pthread_mutex_lock(&f->mu);
    const fake_http_request *r = i < f->request_len ? &f->requests[i] : NULL;
    pthread_mutex_unlock(&f->mu);
    return r;
}

const char *fake_http_header(const fake_http_request *r, const char *name, char *out,
                             size_t out_len)
{
    size_t name_len = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        size_t len = strcspn(line, "\n");
        if (len > name_len + 1 && strncmp(line, name, name_len) == 0 && line[name_len] == ':') {
            snprintf(out, out_len, "%.*s", (int)(len - name_len - 2), line + name_len + 2);
            return out;
        }
        line += len + (line[len] == '\n');
    }
    return NULL;
}

int fake_http_make_cert(const char *dir)
{
    char command[1024];
    snprintf(command, sizeof(command),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem "
             ">/dev/null 2>&1",
             dir, dir);
    return system(command);
}
