/* Outgoing webhook deliveries for the sandbox's fakes: each one POSTed to
 * its address with its headers, retried after each of its delays until an
 * answer is 2xx, and sent `copies` times in all (a duplicate carries the
 * same headers, as a redelivery does). One thread delivers, one attempt at
 * a time, with a 1 s connect and 5 s answer timeout (Shopify's). */
#ifndef CS_SANDBOX_WEBHOOKS_H
#define CS_SANDBOX_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/str.h"

typedef struct sb_webhooks sb_webhooks;

/* Told of every attempt: where, the status (0: no answer) and the body
 * sent. Called on the delivery thread. */
typedef void (*sb_attempt_fn)(void *user, const char *url, long status, cs_str body);

sb_webhooks *sb_webhooks_start(sb_attempt_fn on_attempt, void *user, cs_diag *diag);
/* Stops the thread; undelivered webhooks are dropped. */
void sb_webhooks_stop(sb_webhooks *w);

/* Queues a delivery; everything is copied. headers are "Name: value" lines
 * ending in NULL; delays_ms[i] is the wait before retry i+1. */
cs_error sb_webhooks_send(sb_webhooks *w, const char *url, const char *const *headers, cs_str body,
                          const int64_t *delays_ms, size_t delay_count, int copies);
/* Deliveries not finished yet (sent, retried or given up). */
size_t sb_webhooks_pending(sb_webhooks *w);

#endif
