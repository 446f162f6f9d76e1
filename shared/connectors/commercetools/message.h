/* commercetools subscription messages (the Platform format: notificationType
 * "Message") as the order-export and fulfillment flows receive them from an
 * SQS queue. Delivery is at least once and unordered, so a consumer keeps,
 * per resource, the messages it has applied: `id` is the deduplication key,
 * and a message whose resourceVersion is below the version already applied
 * is stale (cs_commercetools_message_is_stale); the messages of one update
 * share its version.
 *
 * The payload becomes a canonical record by type: OrderCreated carries the
 * order; OrderStateChanged and OrderShipmentStateChanged the new state (in
 * the canonical words of order.h); DeliveryAdded a shipment; ReturnInfoAdded
 * a return. Other types are kept with their envelope only. */
#ifndef CS_CONNECTORS_COMMERCETOOLS_MESSAGE_H
#define CS_CONNECTORS_COMMERCETOOLS_MESSAGE_H

#include <stdbool.h>

#include "core/json.h"
#include "core/problems.h"
#include "model/model.h"

typedef enum cs_ct_payload {
    CS_CT_NONE,     /* a type the sync does not act on, or payloadNotIncluded */
    CS_CT_ORDER,    /* order */
    CS_CT_STATE,    /* order_state or fulfillment_state */
    CS_CT_DELIVERY, /* shipment */
    CS_CT_RETURN,   /* ret */
} cs_ct_payload;

typedef struct cs_commercetools_message {
    cs_str id; /* the deduplication key */
    int64_t sequence_number;
    cs_str resource_type; /* "order" */
    cs_str resource_id;
    int64_t resource_version;
    cs_str type; /* "OrderCreated" */
    cs_str order_number;
    int64_t created_at_ms;
    bool payload_not_included; /* too large: read the resource instead */
    cs_ct_payload payload;
    cs_order order;
    cs_str order_state;       /* canonical, for OrderStateChanged */
    cs_str fulfillment_state; /* canonical, for OrderShipmentStateChanged */
    cs_shipment shipment;
    cs_return ret;
} cs_commercetools_message;

/* Problems name their path in the message ("order.lineItems[0].price");
 * CS_ERR_INVALID_ARGUMENT if there was any. */
cs_error cs_commercetools_message_decode(const cs_json *message, cs_arena *arena,
                                         cs_commercetools_message *out, cs_problems *problems);

/* Whether the message is older than what the consumer has applied
 * (applied_version: the resource version last applied, 0 for none). */
bool cs_commercetools_message_is_stale(const cs_commercetools_message *m, int64_t applied_version);

#endif
