/* Base64 (RFC 4648, standard alphabet, padded), as AWS uses it for client
 * contexts and log tails and Shopify for webhook signatures. */
#ifndef CS_CORE_BASE64_H
#define CS_CORE_BASE64_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "str.h"

/* Bytes needed to encode n bytes, without a terminator. */
size_t cs_base64_encoded_len(size_t n);
/* Appends the encoding of data to out. */
cs_error cs_base64_encode(cs_str data, cs_buf *out);
/* Appends the decoded bytes to out. Padding is required; whitespace is not
 * allowed. CS_ERR_INVALID_ARGUMENT names the offending byte's offset. */
cs_error cs_base64_decode(cs_str text, cs_buf *out, cs_diag *diag);

#endif
