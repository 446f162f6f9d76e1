#include "fake_rapi.h"

#include "mhd_server.h"

#include "emulator/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_RESPONSE_BYTES = 6 * 1024 * 1024 };

typedef struct queued {
    int failure_status; /* -1 for an event */
    fake_rapi_event ev; /* strings owned */
    size_t body_len;
} queued;

typedef struct sent_id {
    char id[128];
    int64_t sent_ns;
    int answered;
} sent_id;

struct fake_rapi {
    struct MHD_Daemon *daemon;
    uint16_t port;
    char address[32];
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stopping;
    queued *queue;
    size_t queue_head, queue_len, queue_cap;
    sent_id *sent;
    size_t sent_len, sent_cap;
    fake_rapi_post *posts;
    size_t post_len, post_cap;
    size_t nexts;
    mhd_counter connections;
    int64_t first_next_ns;
};

int64_t fake_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void push(fake_rapi *f, queued q)
{
    pthread_mutex_lock(&f->mu);
    if (f->queue_len == f->queue_cap) {
        f->queue = mhd_grow(f->queue, &f->queue_cap, sizeof(*f->queue));
    }
    f->queue[f->queue_len++] = q;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

void fake_rapi_push_event(fake_rapi *f, const fake_rapi_event *ev)
{
    queued q = {.failure_status = -1};
    q.body_len = ev->body_len ? ev->body_len : strlen(ev->body);
    q.ev.body = malloc(q.body_len + 1);
    memcpy((char *)q.ev.body, ev->body, q.body_len);
    ((char *)q.ev.body)[q.body_len] = '\0';
    q.ev.request_id = dup_or_null(ev->request_id);
    q.ev.deadline_ms = ev->deadline_ms;
    q.ev.function_arn = dup_or_null(ev->function_arn);
    q.ev.trace_id = dup_or_null(ev->trace_id);
    q.ev.client_context = dup_or_null(ev->client_context);
    q.ev.cognito_identity = dup_or_null(ev->cognito_identity);
    push(f, q);
}

void fake_rapi_push_failure(fake_rapi *f, int status)
{
    queued q = {.failure_status = status};
    push(f, q);
}

static void free_queued(queued *q)
{
    free((char *)q->ev.body);
    free((char *)q->ev.request_id);
    free((char *)q->ev.function_arn);
    free((char *)q->ev.trace_id);
    free((char *)q->ev.client_context);
    free((char *)q->ev.cognito_identity);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (value) {
        MHD_add_response_header(r, name, value);
    }
}

static enum MHD_Result answer_event(fake_rapi *f, struct MHD_Connection *conn, queued *q)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(q->body_len, (void *)q->ev.body, MHD_RESPMEM_MUST_COPY);
    add_header(r, "Content-Type", "application/json");
    add_header(r, "Lambda-Runtime-Aws-Request-Id", q->ev.request_id);
    add_header(r, "Lambda-Runtime-Invoked-Function-Arn", q->ev.function_arn);
    add_header(r, "Lambda-Runtime-Trace-Id", q->ev.trace_id);
    add_header(r, "Lambda-Runtime-Client-Context", q->ev.client_context);
    add_header(r, "Lambda-Runtime-Cognito-Identity", q->ev.cognito_identity);
    if (q->ev.deadline_ms) {
        char deadline[32];
        snprintf(deadline, sizeof(deadline), "%lld", (long long)q->ev.deadline_ms);
        add_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    }
    pthread_mutex_lock(&f->mu);
    if (f->sent_len == f->sent_cap) {
        f->sent = mhd_grow(f->sent, &f->sent_cap, sizeof(*f->sent));
    }
    sent_id *s = &f->sent[f->sent_len++];
    snprintf(s->id, sizeof(s->id), "%s", q->ev.request_id ? q->ev.request_id : "");
    s->answered = 0;
    s->sent_ns = fake_now_ns();
    pthread_mutex_unlock(&f->mu);
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* Blocks until the script has an answer for /next, like Lambda does. */
static enum MHD_Result handle_next(fake_rapi *f, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&f->mu);
    f->nexts++;
    if (!f->first_next_ns) {
        f->first_next_ns = fake_now_ns();
    }
    pthread_cond_broadcast(&f->cond);
    while (!f->stopping && f->queue_head == f->queue_len) {
        pthread_cond_wait(&f->cond, &f->mu);
    }
    if (f->stopping) {
        pthread_mutex_unlock(&f->mu);
        return MHD_NO;
    }
    queued q = f->queue[f->queue_head++];
    pthread_mutex_unlock(&f->mu);
    enum MHD_Result ok;
    if (q.failure_status == 0) {
        ok = MHD_NO;
    } else if (q.failure_status > 0) {
        ok = reply(conn, (unsigned)q.failure_status, "{\"errorMessage\":\"scripted failure\"}");
    } else {
        ok = answer_event(f, conn, &q);
    }
    free_queued(&q);
    return ok;
}

/* Finds the id handed out by /next: 0 unknown, 1 fresh, 2 already answered. */
static int claim_id(fake_rapi *f, const char *id, int64_t *sent_ns)
{
    for (size_t i = f->sent_len; i-- > 0;) {
        if (strcmp(f->sent[i].id, id) == 0) {
            *sent_ns = f->sent[i].sent_ns;
            if (f->sent[i].answered) {
                return 2;
            }
            f->sent[i].answered = 1;
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result handle_post(fake_rapi *f, struct MHD_Connection *conn, const char *url,
                                   em_upload *up)
{
    fake_rapi_post p;
    memset(&p, 0, sizeof(p));
    p.received_ns = fake_now_ns();
    const char *type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
    snprintf(p.error_type, sizeof(p.error_type), "%s", type ? type : "");
    const char *prefix = "/2018-06-01/runtime/invocation/";
    unsigned status = MHD_HTTP_ACCEPTED;
    if (strcmp(url, "/2018-06-01/runtime/init/error") == 0) {
        p.kind = FAKE_POST_INIT_ERROR;
    } else if (strncmp(url, prefix, strlen(prefix)) == 0) {
        const char *id = url + strlen(prefix);
        const char *slash = strchr(id, '/');
        if (!slash || (strcmp(slash, "/response") != 0 && strcmp(slash, "/error") != 0)) {
            return reply(conn, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"no such path\"}");
        }
        p.kind = strcmp(slash, "/response") == 0 ? FAKE_POST_RESPONSE : FAKE_POST_ERROR;
        snprintf(p.request_id, sizeof(p.request_id), "%.*s", (int)(slash - id), id);
    } else {
        return reply(conn, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"no such path\"}");
    }
    pthread_mutex_lock(&f->mu);
    if (p.kind != FAKE_POST_INIT_ERROR) {
        int claim = claim_id(f, p.request_id, &p.event_sent_ns);
        status = claim == 0 ? MHD_HTTP_BAD_REQUEST : claim == 2 ? MHD_HTTP_FORBIDDEN : status;
    }
    if (up->too_large) {
        status = MHD_HTTP_CONTENT_TOO_LARGE;
    }
    p.status = (int)status;
    p.body_len = up->len;
    p.body = em_upload_take(up);
    if (f->post_len == f->post_cap) {
        f->posts = mhd_grow(f->posts, &f->post_cap, sizeof(*f->posts));
    }
    f->posts[f->post_len++] = p;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    return reply(conn, status,
                 status == MHD_HTTP_ACCEPTED ? "{\"status\":\"OK\"}"
                                             : "{\"errorMessage\":\"refused\"}");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    fake_rapi *f = cls;
    em_upload *up = *con_cls;
    if (!up) {
        /* Answering on the first call makes MHD close the connection after
         * the response; the second call keeps it alive, as Lambda does. */
        *con_cls = calloc(1, sizeof(em_upload));
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0) {
        if (strcmp(url, "/2018-06-01/runtime/invocation/next") != 0) {
            return reply(conn, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"no such path\"}");
        }
        return handle_next(f, conn);
    }
    if (*data_size) {
        em_upload_collect(up, data, *data_size, MAX_RESPONSE_BYTES);
        *data_size = 0;
        return MHD_YES;
    }
    return handle_post(f, conn, url, up);
}

static size_t read_counter(fake_rapi *f, const size_t *counter)
{
    pthread_mutex_lock(&f->mu);
    size_t n = *counter;
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_rapi_connection_count(fake_rapi *f)
{
    return mhd_connections(&f->connections);
}

fake_rapi *fake_rapi_start(void)
{
    fake_rapi *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->connections.mu = &f->mu;
    pthread_cond_init(&f->cond, NULL);
    struct sockaddr_in addr = mhd_loopback();
    f->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
        NULL, on_request, f, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
        em_upload_completed, f, MHD_OPTION_NOTIFY_CONNECTION, mhd_count_connection, &f->connections,
        MHD_OPTION_END);
    if (!f->daemon) {
        free(f);
        return NULL;
    }
    f->port = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(f->address, sizeof(f->address), "127.0.0.1:%u", (unsigned)f->port);
    return f;
}

void fake_rapi_stop(fake_rapi *f)
{
    if (!f) {
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->stopping = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    MHD_stop_daemon(f->daemon);
    for (size_t i = f->queue_head; i < f->queue_len; i++) {
        free_queued(&f->queue[i]);
    }
    for (size_t i = 0; i < f->post_len; i++) {
        free(f->posts[i].body);
    }
    free(f->queue);
    free(f->sent);
    free(f->posts);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

uint16_t fake_rapi_port(const fake_rapi *f)
{
    return f->port;
}

const char *fake_rapi_address(const fake_rapi *f)
{
    return f->address;
}

static int wait_for(fake_rapi *f, const size_t *counter, size_t count, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->mu);
    int ok = 1;
    while (*counter < count && ok) {
        ok = pthread_cond_timedwait(&f->cond, &f->mu, &deadline) == 0;
    }
    ok = *counter >= count;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

int fake_rapi_wait_posts(fake_rapi *f, size_t count, int timeout_ms)
{
    return wait_for(f, &f->post_len, count, timeout_ms);
}

int fake_rapi_wait_nexts(fake_rapi *f, size_t count, int timeout_ms)
{
    return wait_for(f, &f->nexts, count, timeout_ms);
}

size_t fake_rapi_post_count(fake_rapi *f)
{
    return read_counter(f, &f->post_len);
}

size_t fake_rapi_next_count(fake_rapi *f)
{
    return read_counter(f, &f->nexts);
}

const fake_rapi_post *fake_rapi_post_at(fake_rapi *f, size_t i)
{
    pthread_mutex_lock(&f->mu);
    const fake_rapi_post *p = i < f->post_len ? &f->posts[i] : NULL;
    pthread_mutex_unlock(&f->mu);
    return p;
}

int64_t fake_rapi_first_next_ns(fake_rapi *f)
{
    pthread_mutex_lock(&f->mu);
    int64_t t = f->first_next_ns;
    pthread_mutex_unlock(&f->mu);
    return t;
}
