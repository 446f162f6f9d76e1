#include "webhooks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "emulator/wait.h"
#include "net/http.h"

enum { MAX_HEADERS = 16, MAX_DELAYS = 16 };

typedef struct delivery {
    char *url;
    char *headers[MAX_HEADERS + 1];
    char *body;
    size_t body_len;
    int64_t delays_ms[MAX_DELAYS];
    size_t delay_count;
    size_t attempts; /* made so far for this copy */
    int64_t due_ms;  /* monotonic */
    uint64_t seq;    /* queued order: deliveries due together go first in, first out */
} delivery;

struct sb_webhooks {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    bool stopping;
    delivery *items;
    size_t count, capacity;
    size_t in_flight;
    uint64_t next_seq;
    cs_http_client *http;
    sb_attempt_fn on_attempt;
    void *user;
};

static void free_delivery(delivery *d)
{
    free(d->url);
    for (size_t i = 0; d->headers[i]; i++) {
        free(d->headers[i]);
    }
    free(d->body);
}

static bool copy_delivery(delivery *d, const char *url, const char *const *headers, cs_str body,
                          const int64_t *delays_ms, size_t delay_count)
{
    memset(d, 0, sizeof(*d));
    d->url = strdup(url);
    for (size_t i = 0; headers && headers[i] && i < MAX_HEADERS; i++) {
        d->headers[i] = strdup(headers[i]);
        if (!d->headers[i]) {
            return false;
        }
    }
    d->body = malloc(body.len + 1);
    if (d->body) {
        memcpy(d->body, body.ptr ? body.ptr : "", body.len);
        d->body[body.len] = '\0';
    }
    d->body_len = body.len;
    d->delay_count = delay_count < MAX_DELAYS ? delay_count : MAX_DELAYS;
    memcpy(d->delays_ms, delays_ms, d->delay_count * sizeof(int64_t));
    d->due_ms = cs_time_monotonic_ms();
    return d->url && d->body;
}

static bool push(sb_webhooks *w, const delivery *d)
{
    if (w->count == w->capacity) {
        size_t capacity = w->capacity ? w->capacity * 2 : 16;
        delivery *grown = realloc(w->items, capacity * sizeof(*grown));
        if (!grown) {
            return false;
        }
        w->items = grown;
        w->capacity = capacity;
    }
    w->items[w->count] = *d;
    w->items[w->count++].seq = w->next_seq++;
    return true;
}

cs_error sb_webhooks_send(sb_webhooks *w, const char *url, const char *const *headers, cs_str body,
                          const int64_t *delays_ms, size_t delay_count, int copies)
{
    pthread_mutex_lock(&w->mu);
    cs_error r = CS_ERR_OK;
    for (int i = 0; i < copies && !r; i++) {
        delivery d;
        if (!copy_delivery(&d, url, headers, body, delays_ms, delay_count) || !push(w, &d)) {
            free_delivery(&d);
            r = CS_ERR_NOMEM;
        }
    }
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return r;
}

size_t sb_webhooks_pending(sb_webhooks *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->count + w->in_flight;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* The delivery due first, or -1 when there is none. */
static long earliest(const sb_webhooks *w)
{
    long best = -1;
    for (size_t i = 0; i < w->count; i++) {
        const delivery *b = best < 0 ? NULL : &w->items[(size_t)best];
        if (!b || w->items[i].due_ms < b->due_ms ||
            (w->items[i].due_ms == b->due_ms && w->items[i].seq < b->seq)) {
            best = (long)i;
        }
    }
    return best;
}

/* One attempt; true for a 2xx answer. */
static bool attempt(sb_webhooks *w, const delivery *d)
{
    cs_buf answer;
    cs_buf_init(&answer, 64 * 1024);
    cs_http_request req = {.method = "POST",
                           .url = d->url,
                           .headers = (const char *const *)d->headers,
                           .body = cs_str_make(d->body, d->body_len)};
    cs_http_response resp = {.body = &answer};
    bool ok = cs_http_send(w->http, &req, &resp, NULL) == CS_ERR_OK && resp.status >= 200 &&
              resp.status < 300;
    if (w->on_attempt) {
        w->on_attempt(w->user, d->url, resp.status, cs_str_make(d->body, d->body_len));
    }
    cs_buf_clean_up(&answer);
    return ok;
}

/* Takes the due delivery out, makes one attempt without the lock, and puts
 * it back for its next retry if it failed and has one left. */
static void deliver(sb_webhooks *w, size_t index)
{
    delivery d = w->items[index];
    w->items[index] = w->items[--w->count];
    w->in_flight++;
    pthread_mutex_unlock(&w->mu);
    bool ok = attempt(w, &d);
    pthread_mutex_lock(&w->mu);
    w->in_flight--;
    if (!ok && d.attempts < d.delay_count) {
        d.due_ms = cs_time_monotonic_ms() + d.delays_ms[d.attempts];
        d.attempts++;
        if (push(w, &d)) {
            return;
        }
    }
    free_delivery(&d);
}

static void *run(void *arg)
{
    sb_webhooks *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        long next = earliest(w);
        int64_t now = cs_time_monotonic_ms();
        if (next < 0) {
            pthread_cond_wait(&w->wake, &w->mu);
        } else if (w->items[next].due_ms > now) {
            em_wait_for(&w->wake, &w->mu, w->items[next].due_ms - now);
        } else {
            deliver(w, (size_t)next);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

sb_webhooks *sb_webhooks_start(sb_attempt_fn on_attempt, void *user, cs_diag *diag)
{
    sb_webhooks *w = calloc(1, sizeof(*w));
    cs_http_options options = {
        .connect_timeout_ms = 1000, .attempt_timeout_ms = 5000, .max_attempts = 1};
    if (!w || !(w->http = cs_http_client_new(&options, diag))) {
        free(w);
        return NULL;
    }
    w->on_attempt = on_attempt;
    w->user = user;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        cs_http_client_destroy(w->http);
        free(w);
        cs_diag_set(diag, CS_ERR_NOMEM, "cannot start the webhook thread");
        return NULL;
    }
    return w;
}

void sb_webhooks_stop(sb_webhooks *w)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->count; i++) {
        free_delivery(&w->items[i]);
    }
    free(w->items);
    cs_http_client_destroy(w->http);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->wake);
    free(w);
}
