/* The sandbox: fakes of the systems the sync talks to, on one local port,
 * with the knobs, the journal and the inspection endpoints every fake has.
 *
 *   POST /shopify/{shop}/admin/api/{version}/graphql.json   the Shopify fake
 *   GET  /_sandbox/journal[?system=shopify]   every request received, in order
 *   DELETE /_sandbox/journal                  forget them
 *   POST /_sandbox/faults   {"system":"shopify","status":503,"count":2,
 *                            "latency_ms":0,"reset":false}
 *        the next `count` requests to the system answer `status` (or, with
 *        reset, have their connection closed without an answer), each after
 *        latency_ms; {"system":"shopify","latency_ms":50} alone slows every
 *        request down until changed; {"system":"exactmax","status":503,
 *        "every":20} makes every 20th request answer 503 until changed
 *        ("every":0), alongside the next-count faults
 *   POST /_sandbox/shopify/bucket  {"size":1000,"restore_rate":50,"with_429":false}
 *        sets the cost bucket of every shop and fills it
 *   POST /_sandbox/shopify/{shop}/webhooks  {"address":"http://...","secret":"...",
 *                            "duplicates":0,"duplicate_every":0,
 *                            "retry_delays_ms":[...],"topics":[...]}
 *        where the shop's webhooks go, signed with the secret: an HTTP(S)
 *        address, or "sqs:" and an emulator queue URL (SendMessage with the
 *        X-Shopify-* headers as message attributes). A delivery that is not
 *        answered 2xx within 5 s is retried after each delay (default:
 *        Shopify's 8 retries over about 4 hours); duplicates sends each one
 *        again with the same webhook id, duplicate_every N every Nth once
 *        more. Attempts are in the journal as
 *        system "shopify-webhooks".
 *   POST /_sandbox/shopify/{shop}/orders      a customer places an order
 *   POST /_sandbox/shopify/{shop}/orders/{id}/cancel
 *   POST /_sandbox/shopify/{shop}/orders/{id}/refund   one unit of the first line
 *   GET  /_sandbox/shopify/{shop}/stock
 *   GET  /_sandbox/shopify/{shop}/orders/{id}
 *
 * Only Shopify is served yet; the other systems come with their issues. */
#ifndef CS_SANDBOX_SANDBOX_H
#define CS_SANDBOX_SANDBOX_H

#include <stdint.h>

#include "core/error.h"
#include "shopify.h"

typedef struct sb_sandbox sb_sandbox;

typedef struct sb_opts {
    uint16_t port; /* 0: the OS picks */
    sb_shopify_opts shopify;
} sb_opts;

cs_error sb_start(const sb_opts *opts, sb_sandbox **out, cs_diag *diag);
uint16_t sb_port(const sb_sandbox *sb);
void sb_stop(sb_sandbox *sb);

#endif
