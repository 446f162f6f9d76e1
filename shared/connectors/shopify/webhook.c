#include "webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"

enum { DIGEST_BYTES = 32 };

static cs_str header(const cs_header *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (cs_str_eq_nocase(headers[i].name, cs_str_from_c(name))) {
            return headers[i].value;
        }
    }
    return CS_STR_NULL;
}

static void digest(cs_str body, cs_str secret, unsigned char out[DIGEST_BYTES])
{
    unsigned int len = DIGEST_BYTES;
    HMAC(EVP_sha256(), secret.ptr ? secret.ptr : "", (int)secret.len,
         (const unsigned char *)(body.ptr ? body.ptr : ""), body.len, out, &len);
}

void cs_shopify_webhook_sign(cs_str body, cs_str secret, char out[45])
{
    unsigned char mac[DIGEST_BYTES];
    digest(body, secret, mac);
    cs_buf encoded;
    cs_buf_init(&encoded, 64);
    cs_base64_encode(cs_str_make((const char *)mac, sizeof(mac)), &encoded);
    memcpy(out, encoded.data, 44);
    out[44] = '\0';
    cs_buf_clean_up(&encoded);
}

/* The headers Shopify's library refuses a delivery without. */
static cs_error required_headers(const cs_header *headers, size_t count, cs_shopify_webhook *out,
                                 cs_str *signature, cs_diag *diag)
{
    static const char *names[] = {"X-Shopify-Topic", "X-Shopify-Shop-Domain",
                                  "X-Shopify-Webhook-Id", "X-Shopify-API-Version",
                                  "X-Shopify-Hmac-Sha256"};
    cs_str *fields[] = {&out->topic, &out->shop_domain, &out->webhook_id, &out->api_version,
                        signature};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        *fields[i] = cs_str_trim(header(headers, count, names[i]));
        if (fields[i]->len == 0) {
            cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "the webhook has no %s header", names[i]);
            cs_diag_set_field(diag, names[i]);
            return CS_ERR_INVALID_ARGUMENT;
        }
    }
    out->event_id = header(headers, count, "X-Shopify-Event-Id");
    out->triggered_at = header(headers, count, "X-Shopify-Triggered-At");
    return CS_ERR_OK;
}

cs_error cs_shopify_webhook_verify(const cs_header *headers, size_t header_count, cs_str body,
                                   cs_str secret, cs_shopify_webhook *out, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (secret.len == 0) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "no webhook secret is configured");
    }
    cs_str signature;
    cs_error r = required_headers(headers, header_count, out, &signature, diag);
    if (r) {
        return r;
    }
    unsigned char expected[DIGEST_BYTES];
    digest(body, secret, expected);
    cs_buf sent;
    cs_buf_init(&sent, 64);
    bool decoded = cs_base64_decode(signature, &sent, NULL) == CS_ERR_OK;
    bool match = decoded && sent.len == DIGEST_BYTES &&
                 CRYPTO_memcmp(sent.data, expected, DIGEST_BYTES) == 0;
    cs_buf_clean_up(&sent);
    if (!match) {
        cs_diag_set(diag, CS_ERR_SIGNATURE,
                    decoded ? "X-Shopify-Hmac-Sha256 does not match the body"
                            : "X-Shopify-Hmac-Sha256 is not base64 of a SHA-256 HMAC");
        cs_diag_set_field(diag, "X-Shopify-Hmac-Sha256");
        return CS_ERR_SIGNATURE;
    }
    return CS_ERR_OK;
}
