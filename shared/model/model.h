/* The canonical model: one C shape for each business record, whatever system
 * it came from. Decoders turn a system's JSON into these structs; field maps
 * and encoders turn them into a target's payload.
 *
 * Every struct lives in an arena and every view points into the same arena
 * (or into static storage). Money is integer minor units with its currency;
 * times are UTC epoch milliseconds (0 means unknown). Each record carries its
 * provenance in cs_record_meta.
 *
 * The model is described by a schema (schema.h) so that code can reach any
 * field by path ("lines[].unit_price"): the canonical JSON codec, field maps,
 * ownership and validation are written once against the schema. A field
 * added here must be added to the schema table in schema.c. */
#ifndef CS_MODEL_MODEL_H
#define CS_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/money.h"
#include "core/str.h"

/* The systems we sync. Append only: values appear in stored state. */
typedef enum cs_system {
    CS_SYS_NONE,
    CS_SYS_SHOPIFY,
    CS_SYS_COMMERCETOOLS,
    CS_SYS_SFCC,
    CS_SYS_SALESFORCE,
    CS_SYS_EXACTMAX,
    CS_SYS_ORDERFLOW,
    CS_SYS__COUNT
} cs_system;

/* "shopify", "commercetools", "sfcc", "salesforce", "exactmax", "orderflow";
 * "" for CS_SYS_NONE. */
const char *cs_system_name(cs_system system);
/* CS_ERR_NOT_FOUND for an unknown name. */
cs_error cs_system_parse(cs_str name, cs_system *out);

/* The same entity's id in each system; an empty view where unknown. */
typedef struct cs_ids {
    cs_str by_system[CS_SYS__COUNT];
} cs_ids;

typedef struct cs_record_meta {
    cs_system source;
    cs_str source_id;
    cs_str source_version; /* a version counter or an ETag, when the source has one */
    int64_t updated_at_ms; /* the source's last-modified time */
    cs_str correlation_id;
} cs_record_meta;

typedef struct cs_address {
    cs_str first_name;
    cs_str last_name;
    cs_str company;
    cs_str line1;
    cs_str line2;
    cs_str city;
    cs_str region; /* state or province code */
    cs_str postal_code;
    cs_str country; /* ISO 3166-1 alpha-2 */
    cs_str phone;
    cs_str email;
} cs_address;

typedef struct cs_consent {
    cs_str purpose; /* "email_marketing", "sms_marketing", ... */
    bool granted;
    int64_t updated_at_ms;
    cs_str locale; /* the language the consent was given in */
} cs_consent;

typedef struct cs_preference {
    cs_str key;
    cs_str value;
} cs_preference;

/* A person at a B2B account. */
typedef struct cs_contact {
    cs_ids ids;
    cs_str email; /* normalized */
    cs_str first_name;
    cs_str last_name;
    cs_str phone;
    cs_str role; /* "buyer", "approver", "billing", ... */
} cs_contact;

/* A person (B2C), or a company account (B2B, `b2b` set) whose people are its
 * contacts; the account's own email and names are its main contact's. */
typedef struct cs_customer {
    cs_record_meta meta;
    cs_ids ids;
    cs_str email; /* normalized: trimmed, lower case */
    cs_str first_name;
    cs_str last_name;
    cs_str phone;
    cs_str company;
    cs_str account_code;   /* the ERP's customer id */
    cs_str parent_account; /* B2B hierarchies */
    cs_str customer_group;
    cs_str locale;
    cs_str tax_exempt_id; /* VAT id */
    bool b2b;
    bool guest;
    cs_address *addresses;
    size_t address_count;
    cs_consent *consents;
    size_t consent_count;
    cs_preference *preferences;
    size_t preference_count;
    cs_contact *contacts;
    size_t contact_count;
} cs_customer;

typedef struct cs_tax_line {
    cs_str title;
    cs_str rate; /* decimal text, "0.21" */
    cs_money amount;
} cs_tax_line;

typedef struct cs_discount_allocation {
    cs_str code; /* discount code or title it came from */
    cs_money amount;
} cs_discount_allocation;

typedef struct cs_order_line {
    cs_str line_id;
    cs_str sku;
    cs_str item_code; /* ERP part number, when the storefront knows it */
    cs_str variant_id;
    cs_str product_id;
    cs_str gtin;
    cs_str title;
    cs_str unit; /* unit of measure */
    cs_str tax_class;
    int64_t quantity;
    cs_money unit_price;
    cs_money discount; /* sum of the allocations */
    cs_money tax;      /* sum of the tax lines */
    cs_discount_allocation *discounts;
    size_t discount_count;
    cs_tax_line *tax_lines;
    size_t tax_line_count;
} cs_order_line;

typedef struct cs_shipping_line {
    cs_str code;
    cs_str title;
    cs_str carrier;
    cs_money price;
    cs_money discount;
    cs_money tax;
} cs_shipping_line;

typedef struct cs_order_discount {
    cs_str code;
    cs_str kind; /* "fixed", "percentage", "shipping" */
    cs_money amount;
} cs_order_discount;

typedef struct cs_payment {
    cs_str transaction_id;
    cs_str gateway;
    cs_str method; /* "card", "paypal", "invoice", ... */
    cs_str kind;   /* "authorization", "capture", "sale", "refund" */
    cs_str status;
    cs_money amount;
    int64_t processed_at_ms;
} cs_payment;

typedef struct cs_customer_ref {
    cs_ids ids;
    cs_str email;
    cs_str account_code;
} cs_customer_ref;

typedef struct cs_order {
    cs_record_meta meta;
    cs_ids ids;
    cs_str number; /* the number people see, "#1001" */
    cs_str store_code;
    cs_str currency; /* ISO 4217 code of every amount below */
    cs_str locale;
    cs_str order_status;       /* canonical: open, cancelled, closed */
    cs_str payment_status;     /* pending, authorized, paid, partially_refunded, refunded, voided */
    cs_str fulfillment_status; /* unfulfilled, partial, fulfilled */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t cancelled_at_ms;
    cs_str cancel_reason;
    bool guest;
    bool taxes_included; /* prices already contain tax */
    cs_customer_ref customer;
    cs_address billing;
    cs_address shipping;
    cs_order_line *lines;
    size_t line_count;
    cs_shipping_line *shipping_lines;
    size_t shipping_line_count;
    cs_order_discount *discounts;
    size_t discount_count;
    cs_payment *payments;
    size_t payment_count;
    cs_str payment_method;
    cs_money subtotal; /* lines before order discounts */
    cs_money discount_total;
    cs_money shipping_total;
    cs_money tax_total;
    cs_money total;
    cs_str note;
} cs_order;

typedef struct cs_price_tier {
    int64_t min_quantity;
    cs_money price;
} cs_price_tier;

typedef struct cs_price {
    cs_str price_list; /* price book / price list id */
    cs_str currency;
    cs_money amount;
    cs_price_tier *tiers;
    size_t tier_count;
    int64_t valid_from_ms;
    int64_t valid_to_ms;
} cs_price;

typedef struct cs_product {
    cs_record_meta meta;
    cs_ids ids;
    cs_str sku;
    cs_str variant_id;
    cs_str product_id;
    cs_str gtin;
    cs_str item_code;
    cs_str title;
    cs_str unit;
    cs_str tax_class;
    bool active;
    cs_price *prices;
    size_t price_count;
} cs_product;

typedef struct cs_stock_level {
    cs_record_meta meta;
    cs_str sku;
    cs_str item_code; /* the ERP's part number, for levels the ERP reports */
    cs_str location;  /* a storefront location or an ERP stockroom */
    int64_t on_hand;
    int64_t reserved;
    int64_t available;
    int64_t at_ms;
    int64_t sequence; /* the source's change counter, to drop stale updates */
} cs_stock_level;

typedef struct cs_shipment_line {
    cs_str line_id;
    cs_str sku;
    cs_str item_code; /* the ERP's part number */
    int64_t quantity;
} cs_shipment_line;

typedef struct cs_shipment {
    cs_record_meta meta;
    cs_ids order_ids;
    cs_str order_number;
    cs_str status; /* picked, packed, shipped, delivered, cancelled, returned */
    cs_str carrier;
    cs_str service;
    cs_str tracking_number;
    cs_str tracking_url;
    int64_t shipped_at_ms;
    bool partial;
    cs_shipment_line *lines;
    size_t line_count;
} cs_shipment;

typedef struct cs_return_line {
    cs_str line_id;
    cs_str sku;
    cs_str item_code; /* the ERP's part number */
    int64_t quantity;
    cs_str reason;
    cs_money amount;
} cs_return_line;

/* A return, a refund or a credit note: what came back and what was paid back. */
typedef struct cs_return {
    cs_record_meta meta;
    cs_ids ids;
    cs_ids order_ids;
    cs_str order_number;
    cs_str kind; /* "return", "refund", "credit_note" */
    cs_str reason;
    cs_str currency;
    cs_return_line *lines;
    size_t line_count;
    cs_money shipping_refund;
    cs_money total;
    int64_t created_at_ms;
} cs_return;

#endif
