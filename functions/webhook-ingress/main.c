/* webhook-ingress: Shopify's order webhooks onto the order queue.
 *
 * Behind a Lambda Function URL (payload format 2.0). A delivery is checked
 * as Shopify's own library checks it (the X-Shopify-* headers present, the
 * HMAC of the raw body under the app's secret) and put on ORDER_QUEUE_URL
 * as it came: the body untouched, the X-Shopify-* headers as message
 * attributes, which is what order-export reads. One SQS call and nothing
 * else, so the answer is back well within Shopify's 5 seconds.
 *
 * Answers:
 * - 200 {"queued": messageId}: on the queue.
 * - 400 / 401: a header missing, or a signature that does not match. Logged
 *   with the reason and the headers that identify the delivery, never the
 *   body (an unsigned body is not ours to keep).
 * - 503: the queue failed in a way a retry may cure; Shopify retries.
 * - 200 {"dropped": reason}: a signed delivery the queue refuses outright
 *   (too large). Answering an error would only make Shopify retry it
 *   8 times and then remove the subscription; the order-export schedule's
 *   poll of recent orders finds the order instead. Logged as an error. */
#include <stdlib.h>
#include <string.h>

#include "connectors/shopify/webhook.h"
#include "core/base64.h"
#include "core/timestamp.h"
#include "flow/connections.h"
#include "runtime.h"

enum { MAX_HEADERS = 64, ANSWER_WITHIN_MS = 3000 };

/* The delivery headers that go on the message, and into the logs. */
static const char *const FORWARDED[] = {
    "X-Shopify-Topic",        "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",   "X-Shopify-API-Version", "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
};
enum { FORWARDED_COUNT = sizeof(FORWARDED) / sizeof(FORWARDED[0]) };

typedef struct ingress {
    cs_flow flow;
    cs_connections systems;
    const char *queue_url;
} ingress;

typedef struct delivery {
    cs_header headers[MAX_HEADERS];
    size_t header_count;
    cs_str body;
} delivery;

static cs_error init(void *user, cs_arena *arena, cs_logger *log, cs_diag *diag)
{
    ingress *x = user;
    cs_error r = cs_flow_init_stateless(&x->flow, "webhook-ingress", arena, log, diag);
    if (r) {
        return r;
    }
    cs_config *c = &x->flow.config;
    cs_connections_read(&x->systems, c, CS_USE_WEBHOOKS);
    if (!x->systems.has_shopify) {
        cs_problems_add(&c->problems, "connections.shopify", "required",
                        "the webhook ingress verifies Shopify's deliveries");
    }
    x->queue_url = getenv("ORDER_QUEUE_URL");
    if (!x->queue_url || !x->queue_url[0]) {
        cs_problems_add(&c->problems, "ORDER_QUEUE_URL", "required",
                        "the environment variable naming the order queue");
    }
    if (!x->flow.has_aws) {
        cs_problems_add(&c->problems, "AWS_ACCESS_KEY_ID", "required",
                        "AWS credentials, to send to the order queue");
    }
    r = cs_config_check(c, log, diag);
    return r ? r : cs_connections_open(&x->systems, &x->flow, diag);
}

/* ---- the request ---- */

static cs_str header(const delivery *d, const char *name)
{
    for (size_t i = 0; i < d->header_count; i++) {
        if (cs_str_eq_nocase(d->headers[i].name, cs_str_from_c(name))) {
            return d->headers[i].value;
        }
    }
    return CS_STR_NULL;
}

/* The headers and the raw body of a payload 2.0 event. */
static cs_error read_event(cs_str event, cs_arena *arena, delivery *d, cs_diag *diag)
{
    cs_json *doc;
    cs_error r = cs_json_parse(arena, event, &doc, diag);
    bool base64 = false;
    d->body = CS_STR_NULL;
    if (!r) {
        r = cs_json_opt_string(doc, "body", &d->body, diag);
    }
    if (!r) {
        r = cs_json_opt_bool(doc, "isBase64Encoded", &base64, diag);
    }
    if (r) {
        return r;
    }
    const cs_json *headers = cs_json_object_get(doc, CS_STR_LIT("headers"));
    for (const cs_json *h = headers ? headers->first : NULL; h; h = h->next) {
        if (h->type == CS_JSON_STRING && d->header_count < MAX_HEADERS) {
            d->headers[d->header_count++] = (cs_header){h->key, h->text};
        }
    }
    if (!base64) {
        return CS_ERR_OK;
    }
    cs_buf raw;
    cs_buf_init(&raw, 0);
    r = cs_base64_decode(d->body, &raw, diag);
    char *copy = r ? NULL : cs_arena_strndup(arena, cs_buf_view(&raw));
    if (!r && !copy) {
        r = cs_arena_full(arena, diag);
    }
    d->body = copy ? cs_str_make(copy, raw.len) : CS_STR_NULL;
    cs_buf_clean_up(&raw);
    return r;
}

/* ---- the queue ---- */

static cs_error send_request(const ingress *x, const delivery *d, cs_buf *out, cs_diag *diag)
{
    cs_sqs_attr attrs[FORWARDED_COUNT];
    for (size_t i = 0; i < FORWARDED_COUNT; i++) {
        attrs[i] = (cs_sqs_attr){cs_str_from_c(FORWARDED[i]), header(d, FORWARDED[i])};
    }
    return cs_sqs_send_request(cs_str_from_c(x->queue_url), d->body, attrs, FORWARDED_COUNT, out,
                               diag);
}

/* SendMessage; *message_id is the queue's id for it. */
static cs_error enqueue(ingress *x, const delivery *d, cs_arena *arena, cs_str *message_id,
                        cs_diag *diag)
{
    cs_buf request, answer;
    cs_buf_init(&request, 0);
    cs_buf_init(&answer, 0);
    cs_error r = send_request(x, d, &request, diag);
    if (!r) {
        r = cs_sqs(&x->flow.aws, "SendMessage", cs_buf_view(&request), &answer, diag);
    }
    cs_json *doc = NULL;
    if (!r) {
        r = cs_json_parse(arena, cs_buf_view(&answer), &doc, diag);
    }
    if (!r) {
        r = cs_json_get_string(doc, "MessageId", message_id, diag);
    }
    /* The answer's DOM points into its buffer, freed below. */
    *message_id = r ? CS_STR_NULL : cs_arena_copy(arena, *message_id);
    cs_buf_clean_up(&request);
    cs_buf_clean_up(&answer);
    return r;
}

/* ---- answers ---- */

static cs_error answer(cs_buf *response, int status, const char *key, cs_str value)
{
    cs_json_writer w;
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, key);
    cs_json_write_string(&w, value);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    cs_json_writer_init(&w, response);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "statusCode");
    cs_json_write_int64(&w, status);
    cs_json_write_key_c(&w, "headers");
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "content-type");
    cs_json_write_string_c(&w, "application/json");
    cs_json_write_object_end(&w);
    cs_json_write_key_c(&w, "body");
    cs_json_write_string(&w, cs_buf_view(&body));
    cs_json_write_object_end(&w);
    cs_error r = cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&body);
    return r;
}

/* One line per delivery: what identifies it, never its body. */
static void log_delivery(ingress *x, const delivery *d, cs_log_level level, const char *result,
                         cs_str message_id, cs_error error, const char *reason)
{
    cs_log_set_correlation_id(x->flow.log, header(d, "X-Shopify-Webhook-Id"));
    CS_LOG(x->flow.log, level, "webhook", CS_LOG_CSTR("flow", x->flow.name),
           CS_LOG_STR("topic", header(d, "X-Shopify-Topic")),
           CS_LOG_STR("shopDomain", header(d, "X-Shopify-Shop-Domain")),
           CS_LOG_STR("sourceId", header(d, "X-Shopify-Webhook-Id")),
           CS_LOG_STR("targetId", message_id), CS_LOG_CSTR("result", result),
           CS_LOG_CSTR("error", error ? cs_error_name(error) : ""), CS_LOG_CSTR("reason", reason),
           CS_LOG_INT("bytes", (int64_t)d->body.len));
    cs_log_set_correlation_id(x->flow.log, CS_STR_NULL);
}

/* A transient SQS failure gets a retry from Shopify; anything else SQS
 * says about a signed delivery (too large) will not change on a retry. */
static bool queue_may_recover(cs_error e)
{
    return e != CS_ERR_HTTP_PERMANENT && e != CS_ERR_INVALID_ARGUMENT;
}

static cs_error deliver(ingress *x, const delivery *d, cs_arena *arena, cs_buf *response)
{
    x->flow.records_in++;
    cs_shopify_webhook hook;
    cs_diag why = {0};
    cs_error e = cs_shopify_webhook_verify(d->headers, d->header_count, d->body,
                                           x->systems.webhook_secret, &hook, &why);
    if (e) {
        x->flow.counts[CS_OUTCOME_FAILED]++;
        log_delivery(x, d, CS_LOG_WARN, "rejected", CS_STR_NULL, e, why.message);
        bool unsigned_ = e == CS_ERR_SIGNATURE;
        return answer(response, unsigned_ ? 401 : 400, "error",
                      cs_str_from_c(unsigned_ ? "signature does not match" : why.message));
    }
    cs_str message_id = CS_STR_NULL;
    e = enqueue(x, d, arena, &message_id, &why);
    if (!e) {
        x->flow.counts[CS_OUTCOME_WRITTEN]++;
        log_delivery(x, d, CS_LOG_INFO, "written", message_id, e, "");
        return answer(response, 200, "queued", message_id);
    }
    if (queue_may_recover(e)) {
        x->flow.counts[CS_OUTCOME_RETRY]++;
        log_delivery(x, d, CS_LOG_WARN, "retry", CS_STR_NULL, e, why.message);
        return answer(response, 503, "error", CS_STR_LIT("the order queue is unavailable"));
    }
    x->flow.counts[CS_OUTCOME_FAILED]++;
    log_delivery(x, d, CS_LOG_ERROR, "dropped", CS_STR_NULL, e, why.message);
    return answer(response, 200, "dropped", cs_str_from_c(why.message));
}

static cs_error handle(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    ingress *x = user;
    int64_t soon = cs_time_now_ms() + ANSWER_WITHIN_MS;
    cs_http_set_deadline(x->flow.http,
                         inv->deadline_ms && inv->deadline_ms < soon ? inv->deadline_ms : soon);
    delivery *d = cs_arena_calloc(inv->arena, 1, sizeof(*d));
    if (!d) {
        return cs_arena_full(inv->arena, diag);
    }
    cs_error r = read_event(inv->event, inv->arena, d, diag);
    if (r) {
        /* Not a Function URL event: the caller gets the error, not Shopify. */
        return r;
    }
    r = deliver(x, d, inv->arena, response);
    cs_flow_emit_metrics(&x->flow);
    return r;
}

int main(void)
{
    static ingress x;
    cs_runtime_opts opts = {.handler = handle, .init = init, .user = &x};
    int status = cs_runtime_main(&opts);
    cs_connections_close(&x.systems);
    cs_flow_clean_up(&x.flow);
    return status;
}
