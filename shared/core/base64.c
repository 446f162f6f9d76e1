#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cs_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

cs_error cs_base64_encode(cs_str data, cs_buf *out)
{
    const unsigned char *p = (const unsigned char *)data.ptr;
    cs_error r = CS_ERR_OK;
    for (size_t i = 0; i < data.len && !r; i += 3) {
        size_t left = data.len - i;
        unsigned v = (unsigned)p[i] << 16 | (left > 1 ? (unsigned)p[i + 1] << 8 : 0) |
                     (left > 2 ? p[i + 2] : 0);
        char quad[4] = {alphabet[v >> 18 & 63], alphabet[v >> 12 & 63],
                        left > 1 ? alphabet[v >> 6 & 63] : '=', left > 2 ? alphabet[v & 63] : '='};
        r = cs_buf_append(out, quad, 4);
    }
    return r;
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes one group of four; `last` allows padding. */
static cs_error decode_quad(const unsigned char *q, size_t at, bool last, cs_buf *out,
                            cs_diag *diag)
{
    int pad = q[3] == '=' ? (q[2] == '=' ? 2 : 1) : 0;
    if (pad && !last) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "base64: padding at byte %zu before the end", at + 4 - (size_t)pad);
    }
    unsigned v = 0;
    for (int k = 0; k < 4 - pad; k++) {
        int d = value_of(q[k]);
        if (d < 0) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "base64: byte %zu (0x%02x) is not "
                               "in the alphabet",
                               at + (size_t)k, q[k]);
        }
        v = v << 6 | (unsigned)d;
    }
    v <<= 6 * pad;
    char bytes[3] = {(char)(v >> 16), (char)(v >> 8 & 255), (char)(v & 255)};
    return cs_buf_append(out, bytes, (size_t)(3 - pad));
}

cs_error cs_base64_decode(cs_str text, cs_buf *out, cs_diag *diag)
{
    if (text.len % 4) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "base64: length %zu is not a multiple of 4", text.len);
    }
    const unsigned char *p = (const unsigned char *)text.ptr;
    cs_error r = CS_ERR_OK;
    for (size_t i = 0; i < text.len && !r; i += 4) {
        r = decode_quad(p + i, i, i + 4 == text.len, out, diag);
    }
    return r;
}
