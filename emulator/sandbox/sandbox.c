#include "sandbox.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/shopify/webhook.h"
#include "core/id.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "emulator/httpd.h"
#include "net/aws.h"
#include "commercetools.h"
#include "exactmax.h"
#include "webhooks.h"

enum {
    MAX_BODY_BYTES = 8 * 1024 * 1024,
    JOURNAL_ENTRIES = 4096,
    JOURNAL_BODY_BYTES = 16 * 1024,
};

/* One request as the fake received it, and what it answered. */
typedef struct entry {
    uint64_t seq;
    char system[16];
    char method[8];
    char path[256];
    unsigned status; /* 0: the connection was closed without an answer */
    char *request;   /* the first JOURNAL_BODY_BYTES of each body */
    char *response;
} entry;

/* Where a shop's webhooks go: an HTTP(S) address, or "sqs:" and an emulator
 * queue URL (the message carries the headers as message attributes). */
typedef struct subscription {
    bool active;
    char address[512];
    char secret[128];
    int duplicates;
    int duplicate_every; /* every Nth event once more; 0: none */
    uint64_t events;     /* sent so far, for duplicate_every */
    int64_t delays_ms[16];
    size_t delay_count;
    char topics[16][32]; /* none: every topic */
    size_t topic_count;
} subscription;

typedef struct faults {
    unsigned status;
    int count;
    bool reset;
    int64_t latency_ms;
    /* Besides: every Nth request answers every_status (0: none). */
    unsigned every_status;
    int every;
    uint64_t seen;
} faults;

struct sb_sandbox {
    struct MHD_Daemon *daemon;
    uint16_t port;
    sb_shopify *shopify;
    pthread_mutex_t mu; /* the journal and the faults */
    entry journal[JOURNAL_ENTRIES];
    uint64_t next_seq;
    faults faults[3]; /* by system: shopify, exactmax, commercetools */
    sb_exactmax *exactmax;
    sb_commercetools *commercetools;
    subscription subscriptions[3]; /* by shop: us-store, eu-store, jp-store */
    /* commercetools' subscription: an emulator queue, duplicates, and
     * whether each message is held back until the next has gone. */
    char ct_queue[512];
    int ct_duplicates;
    int ct_duplicate_every; /* every Nth message once more; 0: none */
    uint64_t ct_messages;
    bool ct_reorder;
    char *ct_held;
    sb_webhooks *webhooks;
};

static const char *const shop_names[3] = {"us-store", "eu-store", "jp-store"};

/* Shopify retries a failed delivery 8 times over about 4 hours. */
static const int64_t shopify_delays_ms[8] = {60000,  120000,  240000,  480000,
                                             960000, 1920000, 3840000, 7680000};

/* ---- journal ---- */

static char *clip(cs_str body)
{
    return strndup(body.ptr ? body.ptr : "",
                   body.len < JOURNAL_BODY_BYTES ? body.len : JOURNAL_BODY_BYTES);
}

static void record(sb_sandbox *sb, const char *system, const char *method, const char *path,
                   unsigned status, cs_str request, cs_str response)
{
    pthread_mutex_lock(&sb->mu);
    entry *e = &sb->journal[sb->next_seq % JOURNAL_ENTRIES];
    free(e->request);
    free(e->response);
    *e = (entry){.seq = sb->next_seq++, .status = status};
    snprintf(e->system, sizeof(e->system), "%s", system);
    snprintf(e->method, sizeof(e->method), "%s", method);
    snprintf(e->path, sizeof(e->path), "%s", path);
    e->request = clip(request);
    e->response = clip(response);
    pthread_mutex_unlock(&sb->mu);
}

static void write_entry(cs_json_writer *w, const entry *e)
{
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "seq");
    cs_json_write_int64(w, (int64_t)e->seq);
    cs_json_write_key_c(w, "system");
    cs_json_write_string_c(w, e->system);
    cs_json_write_key_c(w, "method");
    cs_json_write_string_c(w, e->method);
    cs_json_write_key_c(w, "path");
    cs_json_write_string_c(w, e->path);
    cs_json_write_key_c(w, "status");
    cs_json_write_int64(w, e->status);
    /* Bodies are kept as text: a clipped body is no longer JSON. */
    cs_json_write_key_c(w, "request");
    cs_json_write_string(w, cs_str_from_c(e->request));
    cs_json_write_key_c(w, "response");
    cs_json_write_string(w, cs_str_from_c(e->response));
    cs_json_write_object_end(w);
}

static enum MHD_Result journal(sb_sandbox *sb, struct MHD_Connection *conn, const char *method)
{
    pthread_mutex_lock(&sb->mu);
    if (strcmp(method, "DELETE") == 0) {
        for (size_t i = 0; i < JOURNAL_ENTRIES; i++) {
            free(sb->journal[i].request);
            free(sb->journal[i].response);
            sb->journal[i] = (entry){0};
        }
        sb->next_seq = 0;
        pthread_mutex_unlock(&sb->mu);
        return em_reply(conn, 204, "application/json", "", 0, NULL);
    }
    const char *system = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "system");
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_array_begin(&w);
    uint64_t first = sb->next_seq > JOURNAL_ENTRIES ? sb->next_seq - JOURNAL_ENTRIES : 0;
    for (uint64_t seq = first; seq < sb->next_seq; seq++) {
        const entry *e = &sb->journal[seq % JOURNAL_ENTRIES];
        if (!system || strcmp(system, e->system) == 0) {
            write_entry(&w, e);
        }
    }
    cs_json_write_array_end(&w);
    pthread_mutex_unlock(&sb->mu);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    enum MHD_Result r = em_reply(conn, 200, "application/json", out.data, out.len, NULL);
    cs_buf_clean_up(&out);
    return r;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status,
                                   const char *message)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &out);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "errors");
    cs_json_write_string(&w, cs_str_from_c(message));
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    enum MHD_Result r = em_reply(conn, status, "application/json", out.data, out.len, NULL);
    cs_buf_clean_up(&out);
    return r;
}

/* ---- faults ---- */

static enum MHD_Result set_faults(sb_sandbox *sb, struct MHD_Connection *conn, cs_str body)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req;
    cs_str system = CS_STR_NULL;
    int64_t status = 0, count = 0, latency = -1, every = -1;
    bool reset = false;
    cs_diag diag = {0};
    cs_error r = cs_json_parse(&arena, body, &req, &diag);
    if (!r) {
        r = cs_json_get_string(req, "system", &system, &diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "status", &status, &diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "count", &count, &diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "latency_ms", &latency, &diag);
    }
    if (!r) {
        r = cs_json_opt_bool(req, "reset", &reset, &diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "every", &every, &diag);
    }
    int index = cs_str_eq_c(system, "shopify")         ? 0
                : cs_str_eq_c(system, "exactmax")      ? 1
                : cs_str_eq_c(system, "commercetools") ? 2
                                                       : -1;
    if (!r && index < 0) {
        r = cs_diag_set(&diag, CS_ERR_INVALID_ARGUMENT, "system '%.*s' is not served",
                        CS_STR_FMT(system));
    }
    if (!r && (status < 0 || status > 599 || count < 0 || latency > 60000 || every > 1000000 ||
               (every > 0 && (count > 0 || reset)))) {
        r = cs_diag_set(&diag, CS_ERR_INVALID_ARGUMENT,
                        "status is 100-599, count 0 or more, latency_ms at most 60000, every at "
                        "most 1000000 and without count or reset");
    }
    cs_arena_clean_up(&arena);
    if (r) {
        return reply_error(conn, 400, diag.message);
    }
    pthread_mutex_lock(&sb->mu);
    faults *f = &sb->faults[index];
    if (every >= 0) {
        f->every = (int)every;
        f->every_status = (unsigned)status;
        f->seen = 0;
    } else if (count > 0 || status > 0 || reset) {
        f->status = (unsigned)status;
        f->count = (int)count;
        f->reset = reset;
    }
    if (latency >= 0) {
        f->latency_ms = latency;
    }
    pthread_mutex_unlock(&sb->mu);
    return em_reply(conn, 204, "application/json", "", 0, NULL);
}

/* Takes one injected fault for this request, if any is pending. */
static faults take_fault(sb_sandbox *sb, faults *pending)
{
    pthread_mutex_lock(&sb->mu);
    faults now = {.latency_ms = pending->latency_ms};
    if (pending->count > 0) {
        now.status = pending->status;
        now.reset = pending->reset;
        pending->count--;
    } else if (pending->every > 0 && ++pending->seen % (uint64_t)pending->every == 0) {
        now.status = pending->every_status;
    }
    pthread_mutex_unlock(&sb->mu);
    return now;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- Shopify ---- */

/* /shopify/{shop}/admin/api/{version}/graphql.json */
static bool shopify_path(const char *url, cs_str *shop, cs_str *version)
{
    cs_str path = cs_str_from_c(url);
    cs_str prefix = CS_STR_LIT("/shopify/"), middle = CS_STR_LIT("/admin/api/"),
           suffix = CS_STR_LIT("/graphql.json");
    if (!cs_str_starts_with(path, prefix) || path.len < prefix.len + middle.len + suffix.len ||
        !cs_str_eq(cs_str_sub(path, path.len - suffix.len, suffix.len), suffix)) {
        return false;
    }
    cs_str rest = cs_str_sub(path, prefix.len, path.len - prefix.len - suffix.len);
    long slash = cs_str_find_char(rest, '/', 0);
    if (slash <= 0) {
        return false;
    }
    *shop = cs_str_sub(rest, 0, (size_t)slash);
    cs_str tail = cs_str_sub(rest, (size_t)slash, rest.len - (size_t)slash);
    if (!cs_str_starts_with(tail, middle)) {
        return false;
    }
    *version = cs_str_sub(tail, middle.len, tail.len - middle.len);
    return version->len > 0 && cs_str_find_char(*version, '/', 0) < 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, const sb_reply *reply)
{
    return em_reply(conn, reply->status, "application/json",
                    reply->body.data ? reply->body.data : "", reply->body.len,
                    "X-Shopify-API-Version", "2026-01", NULL);
}

static enum MHD_Result shopify(sb_sandbox *sb, struct MHD_Connection *conn, const char *url,
                               cs_str body)
{
    cs_str shop, version;
    sb_reply reply = {.status = 404};
    cs_buf_init(&reply.body, 0);
    faults fault = take_fault(sb, &sb->faults[0]);
    if (fault.latency_ms > 0) {
        sleep_ms(fault.latency_ms);
    }
    enum MHD_Result result;
    if (fault.reset) {
        record(sb, "shopify", "POST", url, 0, body, CS_STR_NULL);
        result = MHD_NO; /* libmicrohttpd closes the connection */
    } else if (fault.status) {
        reply.status = fault.status;
        cs_buf_append_c(&reply.body, "{\"errors\":\"Internal Server Error (injected)\"}");
        record(sb, "shopify", "POST", url, reply.status, body, cs_buf_view(&reply.body));
        result = send_reply(conn, &reply);
    } else {
        const char *token =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Shopify-Access-Token");
        if (shopify_path(url, &shop, &version)) {
            sb_shopify_graphql(sb->shopify, shop, version, cs_str_from_c(token), body, &reply);
        } else {
            cs_buf_append_c(&reply.body, "{\"errors\":\"Not Found\"}");
        }
        record(sb, "shopify", "POST", url, reply.status, body, cs_buf_view(&reply.body));
        result = send_reply(conn, &reply);
    }
    cs_buf_clean_up(&reply.body);
    return result;
}

static enum MHD_Result set_bucket(sb_sandbox *sb, struct MHD_Connection *conn, cs_str body)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req;
    int64_t size = 0, rate = 0;
    bool with_429 = false;
    cs_diag diag = {0};
    cs_error r = cs_json_parse(&arena, body, &req, &diag);
    if (!r) {
        r = cs_json_opt_int64(req, "size", &size, &diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "restore_rate", &rate, &diag);
    }
    if (!r) {
        r = cs_json_opt_bool(req, "with_429", &with_429, &diag);
    }
    cs_arena_clean_up(&arena);
    if (r || size < 0 || rate < 0) {
        return reply_error(conn, 400,
                           "expected {\"size\": N, \"restore_rate\": N, \"with_429\": bool}");
    }
    sb_shopify_set_bucket(sb->shopify, (double)size, (double)rate, with_429);
    return em_reply(conn, 204, "application/json", "", 0, NULL);
}

/* GET /_sandbox/shopify/{shop}/stock and /_sandbox/shopify/{shop}/orders/{id} */
static enum MHD_Result inspect_shopify(sb_sandbox *sb, struct MHD_Connection *conn,
                                       const char *rest)
{
    char shop[32], what[16];
    int64_t id = 0;
    sb_reply reply = {.status = 404};
    cs_buf_init(&reply.body, 0);
    int n = sscanf(rest, "%31[^/]/%15[^/]/%" SCNd64, shop, what, &id);
    if (n == 2 && strcmp(what, "stock") == 0) {
        sb_shopify_stock(sb->shopify, cs_str_from_c(shop), &reply);
    } else if (n == 3 && strcmp(what, "orders") == 0) {
        sb_shopify_order_state(sb->shopify, cs_str_from_c(shop), id, &reply);
    } else {
        cs_buf_append_c(&reply.body, "{\"errors\":\"Not Found\"}");
    }
    enum MHD_Result r = send_reply(conn, &reply);
    cs_buf_clean_up(&reply.body);
    return r;
}

/* ---- webhooks ---- */

static int shop_index(cs_str shop)
{
    for (int i = 0; i < 3; i++) {
        if (cs_str_eq_c(shop, shop_names[i])) {
            return i;
        }
    }
    return -1;
}

static bool wants(const subscription *sub, const char *topic)
{
    for (size_t i = 0; i < sub->topic_count; i++) {
        if (strcmp(sub->topics[i], topic) == 0) {
            return true;
        }
    }
    return sub->topic_count == 0;
}

/* The SQS SendMessage request that puts a webhook on an emulator queue:
 * its X-Shopify-* header lines ("Name: value") as attributes. */
static void sqs_message(const char *queue_url, const char *const *headers, cs_str body, cs_buf *out)
{
    cs_sqs_attr attrs[16];
    size_t n = 0;
    for (size_t i = 0; headers[i] && n < 16; i++) {
        cs_str line = cs_str_from_c(headers[i]);
        long colon = cs_str_find_char(line, ':', 0);
        if (colon <= 0 || !cs_str_starts_with(line, CS_STR_LIT("X-Shopify-"))) {
            continue;
        }
        attrs[n++] = (cs_sqs_attr){
            cs_str_sub(line, 0, (size_t)colon),
            cs_str_trim(cs_str_sub(line, (size_t)colon + 1, line.len - (size_t)colon - 1))};
    }
    cs_sqs_send_request(cs_str_from_c(queue_url), body, attrs, n, out, NULL);
}

/* http://host:port of a URL. */
static void origin_of(const char *url, char *out, size_t len)
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t n = (size_t)(start - url) + strcspn(start, "/?#");
    snprintf(out, len, "%.*s", (int)n, url);
}

/* Signs and queues one webhook, as Shopify sends it. */
static void send_webhook(sb_sandbox *sb, const subscription *sub, int copies, const char *shop,
                         const char *topic, cs_str body)
{
    char signature[45], webhook_id[CS_UUID_STR_LEN], event_id[CS_UUID_STR_LEN];
    char now[CS_TIME_RFC3339_MAX];
    cs_shopify_webhook_sign(body, cs_str_from_c(sub->secret), signature);
    cs_uuid_v4(webhook_id);
    cs_uuid_v4(event_id);
    cs_time_format_rfc3339(cs_time_now_ms(), 0, now);
    char lines[8][160];
    snprintf(lines[0], sizeof(lines[0]), "X-Shopify-Topic: %s", topic);
    snprintf(lines[1], sizeof(lines[1]), "X-Shopify-Hmac-Sha256: %s", signature);
    snprintf(lines[2], sizeof(lines[2]), "X-Shopify-Shop-Domain: %s.myshopify.com", shop);
    snprintf(lines[3], sizeof(lines[3]), "X-Shopify-Webhook-Id: %s", webhook_id);
    snprintf(lines[4], sizeof(lines[4]), "X-Shopify-API-Version: 2026-01");
    snprintf(lines[5], sizeof(lines[5]), "X-Shopify-Event-Id: %s", event_id);
    snprintf(lines[6], sizeof(lines[6]), "X-Shopify-Triggered-At: %s", now);
    bool to_queue = strncmp(sub->address, "sqs:", 4) == 0;
    snprintf(lines[7], sizeof(lines[7]), "%s",
             to_queue ? "X-Amz-Target: AmazonSQS.SendMessage" : "Content-Type: application/json");
    const char *headers[10] = {lines[0], lines[1], lines[2], lines[3], lines[4],
                               lines[5], lines[6], lines[7], NULL,     NULL};
    if (!to_queue) {
        sb_webhooks_send(sb->webhooks, sub->address, headers, body, sub->delays_ms,
                         sub->delay_count, copies);
        return;
    }
    char origin[512];
    origin_of(sub->address + 4, origin, sizeof(origin));
    headers[8] = "Content-Type: application/x-amz-json-1.0";
    cs_buf message;
    cs_buf_init(&message, 0);
    sqs_message(sub->address + 4, headers, body, &message);
    sb_webhooks_send(sb->webhooks, origin, headers + 7, cs_buf_view(&message), sub->delays_ms,
                     sub->delay_count, copies);
    cs_buf_clean_up(&message);
}

/* The Shopify fake's events (called with its lock held). */
static void on_event(void *user, const char *shop, const char *topic, cs_str body)
{
    sb_sandbox *sb = user;
    int i = shop_index(cs_str_from_c(shop));
    pthread_mutex_lock(&sb->mu);
    subscription sub = i >= 0 ? sb->subscriptions[i] : (subscription){0};
    bool wanted = sub.active && wants(&sub, topic);
    uint64_t event = wanted ? ++sb->subscriptions[i].events : 0;
    pthread_mutex_unlock(&sb->mu);
    if (wanted) {
        bool again = sub.duplicate_every > 0 && event % (uint64_t)sub.duplicate_every == 0;
        send_webhook(sb, &sub, 1 + sub.duplicates + again, shop, topic, body);
    }
}

static void on_attempt(void *user, const char *url, long status, cs_str body)
{
    record(user, "shopify-webhooks", "POST", url, (unsigned)status, body, CS_STR_NULL);
}

static cs_error read_delays(const cs_json *req, subscription *sub, cs_diag *diag)
{
    const cs_json *delays = cs_json_object_get(req, CS_STR_LIT("retry_delays_ms"));
    if (!delays) {
        memcpy(sub->delays_ms, shopify_delays_ms, sizeof(shopify_delays_ms));
        sub->delay_count = 8;
        return CS_ERR_OK;
    }
    if (delays->type != CS_JSON_ARRAY || delays->count > 16) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "retry_delays_ms is a list of at most 16 delays");
    }
    for (const cs_json *d = delays->first; d; d = d->next) {
        int64_t ms;
        if (cs_parse_int64(d->text, &ms) || ms < 0) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "retry_delays_ms holds delays of 0 ms or more");
        }
        sub->delays_ms[sub->delay_count++] = ms;
    }
    return CS_ERR_OK;
}

static cs_error read_topics(const cs_json *req, subscription *sub, cs_diag *diag)
{
    const cs_json *topics = cs_json_object_get(req, CS_STR_LIT("topics"));
    if (topics && (topics->type != CS_JSON_ARRAY || topics->count > 16)) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "topics is a list of at most 16");
    }
    for (const cs_json *t = topics ? topics->first : NULL; t; t = t->next) {
        snprintf(sub->topics[sub->topic_count++], sizeof(sub->topics[0]), "%.*s",
                 CS_STR_FMT(t->text));
    }
    return CS_ERR_OK;
}

/* POST /_sandbox/shopify/{shop}/webhooks {"address", "secret", "duplicates",
 * "duplicate_every", "retry_delays_ms", "topics"}; {"address": ""} turns
 * them off. */
static cs_error read_subscription(cs_str body, subscription *sub, cs_diag *diag)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req;
    cs_str address = CS_STR_NULL, secret = CS_STR_NULL;
    int64_t duplicates = 0, every = 0;
    *sub = (subscription){0};
    cs_error r = cs_json_parse(&arena, body, &req, diag);
    if (!r) {
        r = cs_json_get_string(req, "address", &address, diag);
    }
    if (!r) {
        r = cs_json_opt_string(req, "secret", &secret, diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "duplicates", &duplicates, diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "duplicate_every", &every, diag);
    }
    if (!r) {
        r = read_delays(req, sub, diag);
    }
    if (!r) {
        r = read_topics(req, sub, diag);
    }
    if (!r && (address.len >= sizeof(sub->address) || secret.len >= sizeof(sub->secret) ||
               duplicates < 0 || duplicates > 10 || every < 0 || every > 1000000 ||
               (address.len && secret.len == 0))) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                        "an address needs a secret; duplicates is 0 to 10, duplicate_every 0 to "
                        "1000000");
    }
    snprintf(sub->address, sizeof(sub->address), "%.*s", CS_STR_FMT(address));
    snprintf(sub->secret, sizeof(sub->secret), "%.*s", CS_STR_FMT(secret));
    sub->duplicates = (int)duplicates;
    sub->duplicate_every = (int)every;
    sub->active = address.len > 0;
    cs_arena_clean_up(&arena);
    return r;
}

/* POST /_sandbox/shopify/{shop}/webhooks, /orders, /orders/{id}/cancel and
 * /orders/{id}/refund */
static enum MHD_Result act_on_shopify(sb_sandbox *sb, struct MHD_Connection *conn, const char *rest,
                                      cs_str body)
{
    char shop[32], what[16], action[16] = "";
    int64_t id = 0;
    int n = sscanf(rest, "%31[^/]/%15[^/]/%" SCNd64 "/%15s", shop, what, &id, action);
    int index = n >= 2 ? shop_index(cs_str_from_c(shop)) : -1;
    sb_reply reply = {.status = 404};
    cs_buf_init(&reply.body, 0);
    enum MHD_Result r;
    if (index >= 0 && n == 2 && strcmp(what, "webhooks") == 0) {
        subscription sub;
        cs_diag diag = {0};
        if (read_subscription(body, &sub, &diag)) {
            cs_buf_clean_up(&reply.body);
            return reply_error(conn, 400, diag.message);
        }
        pthread_mutex_lock(&sb->mu);
        sb->subscriptions[index] = sub;
        pthread_mutex_unlock(&sb->mu);
        cs_buf_clean_up(&reply.body);
        return em_reply(conn, 204, "application/json", "", 0, NULL);
    }
    if (index >= 0 && n == 2 && strcmp(what, "orders") == 0) {
        sb_shopify_place_order(sb->shopify, cs_str_from_c(shop), &reply);
    } else if (index >= 0 && n == 4 && strcmp(what, "orders") == 0 &&
               strcmp(action, "cancel") == 0) {
        sb_shopify_cancel_order(sb->shopify, cs_str_from_c(shop), id, &reply);
    } else if (index >= 0 && n == 4 && strcmp(what, "orders") == 0 &&
               strcmp(action, "refund") == 0) {
        sb_shopify_refund_order(sb->shopify, cs_str_from_c(shop), id, &reply);
    } else {
        cs_buf_append_c(&reply.body, "{\"errors\":\"Not Found\"}");
    }
    r = send_reply(conn, &reply);
    cs_buf_clean_up(&reply.body);
    return r;
}

/* ---- Exact MAX ---- */

static const char *query_arg(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result exactmax(sb_sandbox *sb, struct MHD_Connection *conn, const char *url,
                                const char *method, cs_str body)
{
    sb_reply reply = {.status = 500};
    cs_buf_init(&reply.body, 0);
    faults fault = take_fault(sb, &sb->faults[1]);
    if (fault.latency_ms > 0) {
        sleep_ms(fault.latency_ms);
    }
    enum MHD_Result result;
    if (fault.reset) {
        record(sb, "exactmax", method, url, 0, body, CS_STR_NULL);
        cs_buf_clean_up(&reply.body);
        return MHD_NO;
    }
    if (fault.status) {
        reply.status = fault.status;
        cs_buf_append_c(&reply.body, "{\"code\":\"UNAVAILABLE\",\"message\":\"injected\","
                                     "\"table\":\"\",\"column\":\"\"}");
    } else {
        sb_max_request req = {
            .method = method,
            .path = url + strlen("/max/v1"),
            .modified_since = query_arg(conn, "modifiedSince"),
            .after_key = query_arg(conn, "afterKey"),
            .limit = query_arg(conn, "limit"),
            .s_type = query_arg(conn, "sType"),
            .if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Match"),
            .if_none_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match"),
            .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
            .body = body};
        sb_exactmax_handle(sb->exactmax, &req, &reply);
    }
    record(sb, "exactmax", method, url, reply.status, body, cs_buf_view(&reply.body));
    result = em_reply(conn, reply.status, "application/json",
                      reply.body.data ? reply.body.data : "", reply.body.len, NULL);
    cs_buf_clean_up(&reply.body);
    return result;
}

/* POST /_sandbox/exactmax/warehouse {"partial": bool, "cancel_backorders": bool,
 * "carrier": "UPS", "every_ms": N (a clock instead of one run; 0 stops it)},
 * POST /_sandbox/exactmax/stock {"part", "stockroom", "on_hand"},
 * POST /_sandbox/exactmax/race {"every": N}, GET /_sandbox/exactmax/state */
static enum MHD_Result act_on_exactmax(sb_sandbox *sb, struct MHD_Connection *conn,
                                       const char *what, bool get, cs_str body)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req = NULL;
    sb_reply reply = {.status = 404};
    cs_buf_init(&reply.body, 0);
    bool parsed = get || cs_json_parse(&arena, body.len ? body : CS_STR_LIT("{}"), &req, NULL) == 0;
    if (!parsed) {
        cs_arena_clean_up(&arena);
        cs_buf_clean_up(&reply.body);
        return reply_error(conn, 400, "the body is not JSON");
    }
    if (get && strcmp(what, "state") == 0) {
        sb_exactmax_state(sb->exactmax, &reply);
    } else if (!get && strcmp(what, "warehouse") == 0) {
        bool partial = false, cancel_short = false;
        cs_str carrier = CS_STR_LIT("UPS");
        cs_json_opt_bool(req, "partial", &partial, NULL);
        cs_json_opt_bool(req, "cancel_backorders", &cancel_short, NULL);
        cs_json_opt_string(req, "carrier", &carrier, NULL);
        char name[32];
        snprintf(name, sizeof(name), "%.*s", CS_STR_FMT(carrier));
        int64_t every_ms = 0;
        cs_json_opt_int64(req, "every_ms", &every_ms, NULL);
        if (cs_json_object_get(req, CS_STR_LIT("every_ms"))) {
            /* A clock instead of one run: 0 stops it. */
            sb_exactmax_set_clock(sb->exactmax, every_ms, partial, cancel_short, name);
            reply.status = 204;
        } else {
            sb_exactmax_ship(sb->exactmax, partial, cancel_short, name, &reply);
        }
    } else if (!get && strcmp(what, "stock") == 0) {
        cs_str part = CS_STR_NULL, stockroom = CS_STR_NULL;
        int64_t quantity = -1;
        cs_json_opt_string(req, "part", &part, NULL);
        cs_json_opt_string(req, "stockroom", &stockroom, NULL);
        cs_json_opt_int64(req, "on_hand", &quantity, NULL);
        reply.status = quantity < 0                                                     ? 400
                       : sb_exactmax_set_stock(sb->exactmax, part, stockroom, quantity) ? 204
                                                                                        : 404;
    } else if (!get && strcmp(what, "race") == 0) {
        int64_t every = 0;
        cs_json_opt_int64(req, "every", &every, NULL);
        sb_exactmax_set_race(sb->exactmax, (int)every);
        reply.status = 204;
    } else {
        cs_buf_append_c(&reply.body, "{\"errors\":\"Not Found\"}");
    }
    enum MHD_Result r = em_reply(conn, reply.status, "application/json",
                                 reply.body.data ? reply.body.data : "", reply.body.len, NULL);
    cs_buf_clean_up(&reply.body);
    cs_arena_clean_up(&arena);
    return r;
}

/* ---- commercetools ---- */

static void send_to_queue(sb_sandbox *sb, const char *queue_url, cs_str message, int copies)
{
    char origin[512];
    origin_of(queue_url, origin, sizeof(origin));
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_sqs_send_request(cs_str_from_c(queue_url), message, NULL, 0, &body, NULL);
    static const char *const headers[] = {"X-Amz-Target: AmazonSQS.SendMessage",
                                          "Content-Type: application/x-amz-json-1.0", NULL};
    static const int64_t delays_ms[] = {100, 500, 2000};
    sb_webhooks_send(sb->webhooks, origin, headers, cs_buf_view(&body), delays_ms, 3, copies);
    cs_buf_clean_up(&body);
}

/* A commercetools message to the subscribed queue: at least once (and
 * `duplicates` more times), and with reorder, each held back until the next
 * one has gone, so they arrive swapped. */
static void on_ct_message(void *user, cs_str message)
{
    sb_sandbox *sb = user;
    pthread_mutex_lock(&sb->mu);
    if (!sb->ct_queue[0]) {
        pthread_mutex_unlock(&sb->mu);
        return;
    }
    char queue[512];
    snprintf(queue, sizeof(queue), "%s", sb->ct_queue);
    int every = sb->ct_duplicate_every;
    int copies = 1 + sb->ct_duplicates + (every > 0 && ++sb->ct_messages % (uint64_t)every == 0);
    char *held = NULL;
    if (sb->ct_reorder && !sb->ct_held) {
        sb->ct_held = strndup(message.ptr, message.len);
        pthread_mutex_unlock(&sb->mu);
        return;
    }
    held = sb->ct_held;
    sb->ct_held = NULL;
    pthread_mutex_unlock(&sb->mu);
    send_to_queue(sb, queue, message, copies);
    if (held) {
        send_to_queue(sb, queue, cs_str_from_c(held), copies);
        free(held);
    }
}

/* POST /_sandbox/commercetools/subscription {"queue_url", "duplicates",
 * "duplicate_every", "reorder"}; an empty queue_url stops it. */
static cs_error read_ct_subscription(sb_sandbox *sb, cs_str body, cs_diag *diag)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req;
    cs_str queue = CS_STR_NULL;
    int64_t duplicates = 0, every = 0;
    bool reorder = false;
    cs_error r = cs_json_parse(&arena, body, &req, diag);
    if (!r) {
        r = cs_json_get_string(req, "queue_url", &queue, diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "duplicates", &duplicates, diag);
    }
    if (!r) {
        r = cs_json_opt_int64(req, "duplicate_every", &every, diag);
    }
    if (!r) {
        r = cs_json_opt_bool(req, "reorder", &reorder, diag);
    }
    if (!r && (queue.len >= sizeof(sb->ct_queue) || duplicates < 0 || duplicates > 10 ||
               every < 0 || every > 1000000)) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                        "queue_url is at most 511 characters, duplicates 0 to 10, "
                        "duplicate_every 0 to 1000000");
    }
    if (!r) {
        pthread_mutex_lock(&sb->mu);
        snprintf(sb->ct_queue, sizeof(sb->ct_queue), "%.*s", CS_STR_FMT(queue));
        sb->ct_duplicates = (int)duplicates;
        sb->ct_duplicate_every = (int)every;
        sb->ct_messages = 0;
        sb->ct_reorder = reorder;
        free(sb->ct_held);
        sb->ct_held = NULL;
        pthread_mutex_unlock(&sb->mu);
    }
    cs_arena_clean_up(&arena);
    return r;
}

static enum MHD_Result commercetools(sb_sandbox *sb, struct MHD_Connection *conn, const char *url,
                                     const char *method, cs_str body)
{
    sb_reply reply = {.status = 500};
    cs_buf_init(&reply.body, 0);
    faults fault = take_fault(sb, &sb->faults[2]);
    if (fault.latency_ms > 0) {
        sleep_ms(fault.latency_ms);
    }
    if (fault.reset) {
        record(sb, "commercetools", method, url, 0, body, CS_STR_NULL);
        cs_buf_clean_up(&reply.body);
        return MHD_NO;
    }
    if (fault.status) {
        reply.status = fault.status;
        cs_buf_appendf(&reply.body,
                       "{\"statusCode\":%u,\"message\":\"injected\",\"errors\":[{\"code\":"
                       "\"OverCapacity\",\"message\":\"injected\"}]}",
                       fault.status);
    } else {
        sb_ct_request req = {
            .method = method,
            .path = url + strlen("/commercetools"),
            .where = query_arg(conn, "where"),
            .expand = query_arg(conn, "expand"),
            .sort = query_arg(conn, "sort"),
            .limit = query_arg(conn, "limit"),
            .offset = query_arg(conn, "offset"),
            .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
            .body = body};
        sb_commercetools_handle(sb->commercetools, &req, &reply);
    }
    record(sb, "commercetools", method, url, reply.status, body, cs_buf_view(&reply.body));
    enum MHD_Result r = em_reply(conn, reply.status, "application/json",
                                 reply.body.data ? reply.body.data : "", reply.body.len, NULL);
    cs_buf_clean_up(&reply.body);
    return r;
}

/* POST /_sandbox/commercetools/subscription {"queue_url", "duplicates", "reorder"},
 * /_sandbox/commercetools/seed {"orders": N},
 * /_sandbox/commercetools/token {"lifetime_s": N},
 * /_sandbox/commercetools/orders/{id}/touch,
 * /_sandbox/commercetools/race {"writes": N},
 * /_sandbox/commercetools/orders (a customer places one) */
static enum MHD_Result act_on_commercetools(sb_sandbox *sb, struct MHD_Connection *conn,
                                            const char *what, cs_str body)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *req = NULL;
    int64_t n = 0;
    sb_reply reply = {.status = 204};
    cs_buf_init(&reply.body, 0);
    cs_json_parse(&arena, body.len ? body : CS_STR_LIT("{}"), &req, NULL);
    char id[64];
    cs_diag diag = {0};
    if (strcmp(what, "subscription") == 0) {
        if (read_ct_subscription(sb, body, &diag)) {
            cs_arena_clean_up(&arena);
            cs_buf_clean_up(&reply.body);
            return reply_error(conn, 400, diag.message);
        }
    } else if (strcmp(what, "seed") == 0 && !cs_json_get_int64(req, "orders", &n, NULL) && n > 0 &&
               n <= 100000) {
        sb_commercetools_seed(sb->commercetools, (int)n);
    } else if (strcmp(what, "token") == 0 && !cs_json_get_int64(req, "lifetime_s", &n, NULL)) {
        sb_commercetools_set_token_lifetime(sb->commercetools, n);
    } else if (sscanf(what, "orders/%63[^/]/touch", id) == 1) {
        sb_commercetools_touch(sb->commercetools, cs_str_from_c(id), &reply);
    } else if (strcmp(what, "orders") == 0) {
        sb_commercetools_place_order(sb->commercetools, &reply);
    } else if (strcmp(what, "race") == 0 && !cs_json_get_int64(req, "writes", &n, NULL) && n >= 0 &&
               n <= 1000) {
        sb_commercetools_race(sb->commercetools, (int)n);
    } else {
        cs_arena_clean_up(&arena);
        cs_buf_clean_up(&reply.body);
        return reply_error(conn, 400,
                           "expected seed {orders: 1-100000}, token {lifetime_s}, "
                           "orders, orders/{id}/touch or race {writes: 0-1000}");
    }
    enum MHD_Result r = em_reply(conn, reply.status, "application/json",
                                 reply.body.data ? reply.body.data : "", reply.body.len, NULL);
    cs_buf_clean_up(&reply.body);
    cs_arena_clean_up(&arena);
    return r;
}

/* ---- the server ---- */

static enum MHD_Result route(sb_sandbox *sb, struct MHD_Connection *conn, const char *url,
                             const char *method, cs_str body)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (post && strncmp(url, "/shopify/", 9) == 0) {
        return shopify(sb, conn, url, body);
    }
    if (strncmp(url, "/commercetools/", 15) == 0) {
        return commercetools(sb, conn, url, method, body);
    }
    if (post && strncmp(url, "/_sandbox/commercetools/", 24) == 0) {
        return act_on_commercetools(sb, conn, url + 24, body);
    }
    if (get && strcmp(url, "/_sandbox/commercetools/inventory") == 0) {
        sb_reply reply = {.status = 200};
        cs_buf_init(&reply.body, 0);
        sb_commercetools_inventory(sb->commercetools, &reply);
        enum MHD_Result r =
            em_reply(conn, reply.status, "application/json", reply.body.data, reply.body.len, NULL);
        cs_buf_clean_up(&reply.body);
        return r;
    }
    if (strncmp(url, "/max/v1/", 8) == 0) {
        return exactmax(sb, conn, url, method, body);
    }
    if (strncmp(url, "/_sandbox/exactmax/", 19) == 0) {
        return act_on_exactmax(sb, conn, url + 19, get, body);
    }
    if ((get || strcmp(method, "DELETE") == 0) && strcmp(url, "/_sandbox/journal") == 0) {
        return journal(sb, conn, method);
    }
    if (post && strcmp(url, "/_sandbox/faults") == 0) {
        return set_faults(sb, conn, body);
    }
    if (post && strcmp(url, "/_sandbox/shopify/bucket") == 0) {
        return set_bucket(sb, conn, body);
    }
    if (get && strncmp(url, "/_sandbox/shopify/", 18) == 0) {
        return inspect_shopify(sb, conn, url + 18);
    }
    if (post && strncmp(url, "/_sandbox/shopify/", 18) == 0) {
        return act_on_shopify(sb, conn, url + 18, body);
    }
    char message[400];
    snprintf(message, sizeof(message), "%s %.200s is not served by the sandbox", method, url);
    return reply_error(conn, 404, message);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    em_upload *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof(em_upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        em_upload_collect(up, data, *data_size, MAX_BODY_BYTES);
        *data_size = 0;
        return MHD_YES;
    }
    if (up->too_large) {
        return reply_error(conn, 413, "request body too large");
    }
    return route(cls, conn, url, method, cs_str_make(up->data ? up->data : "", up->len));
}

cs_error sb_start(const sb_opts *opts, sb_sandbox **out, cs_diag *diag)
{
    sb_sandbox *sb = calloc(1, sizeof(*sb));
    if (!sb) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    pthread_mutex_init(&sb->mu, NULL);
    sb_shopify_opts shopify = opts ? opts->shopify : (sb_shopify_opts){0};
    shopify.emit = on_event;
    shopify.emit_user = sb;
    if (!(sb->webhooks = sb_webhooks_start(on_attempt, sb, diag)) ||
        !(sb->shopify = sb_shopify_new(&shopify)) ||
        !(sb->exactmax = sb_exactmax_new(shopify.now_ms, diag)) ||
        !(sb->commercetools = sb_commercetools_new(shopify.now_ms, on_ct_message, sb, diag))) {
        sb_stop(sb);
        return cs_diag_set(diag, CS_ERR_NOMEM, "cannot start the sandbox");
    }
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(opts ? opts->port : 0),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    sb->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
        NULL, on_request, sb, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
        em_upload_completed, NULL, MHD_OPTION_END);
    if (!sb->daemon) {
        unsigned port = opts ? opts->port : 0;
        sb_stop(sb);
        return cs_diag_set(diag, CS_ERR_IO, "cannot listen on 127.0.0.1:%u", port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(sb->daemon, MHD_DAEMON_INFO_BIND_PORT);
    sb->port = info ? info->port : 0;
    *out = sb;
    return CS_ERR_OK;
}

uint16_t sb_port(const sb_sandbox *sb)
{
    return sb->port;
}

void sb_stop(sb_sandbox *sb)
{
    if (!sb) {
        return;
    }
    if (sb->daemon) {
        MHD_stop_daemon(sb->daemon);
    }
    sb_webhooks_stop(sb->webhooks);
    for (size_t i = 0; i < JOURNAL_ENTRIES; i++) {
        free(sb->journal[i].request);
        free(sb->journal[i].response);
    }
    sb_shopify_destroy(sb->shopify);
    sb_exactmax_destroy(sb->exactmax);
    sb_commercetools_destroy(sb->commercetools);
    free(sb->ct_held);
    pthread_mutex_destroy(&sb->mu);
    free(sb);
}
