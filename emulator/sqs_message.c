#include "sqs_message.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

enum { MAX_ATTRIBUTES = 10, MAX_NAME_BYTES = 256, MAX_TYPE_BYTES = 256 };

long em_sqs_refused_character(cs_str text, unsigned *code)
{
    const unsigned char *p = (const unsigned char *)text.ptr;
    for (size_t i = 0; i < text.len;) {
        size_t n = p[i] < 0x80 ? 1 : cs_utf8_sequence_len(p + i, text.len - i);
        unsigned c = n == 1   ? p[i]
                     : n == 2 ? (p[i] & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu)
                     : n == 3 ? (p[i] & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu)
                              : 0x10000;
        if ((c < 0x20 && c != 0x9 && c != 0xA && c != 0xD) || c == 0xFFFE || c == 0xFFFF) {
            *code = c;
            return (long)i;
        }
        i += n ? n : 1;
    }
    return -1;
}

/* ---- checking ---- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static bool starts_nocase(cs_str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && strncasecmp(s.ptr, prefix, n) == 0;
}

static cs_error check_name(cs_str name, cs_diag *diag)
{
    const char *why = NULL;
    if (name.len == 0 || name.len > MAX_NAME_BYTES) {
        why = "is not 1 to 256 characters long";
    } else if (starts_nocase(name, "AWS.") || starts_nocase(name, "Amazon.")) {
        why = "starts with AWS. or Amazon., which SQS reserves";
    } else if (name.ptr[0] == '.' || name.ptr[name.len - 1] == '.') {
        why = "starts or ends with a period";
    }
    for (size_t i = 0; !why && i < name.len; i++) {
        if (!name_char(name.ptr[i])) {
            why = "holds a character other than A-Z, a-z, 0-9, underscore, hyphen and period";
        } else if (name.ptr[i] == '.' && i + 1 < name.len && name.ptr[i + 1] == '.') {
            why = "holds two periods in a row";
        }
    }
    return why ? cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "Message attribute name '%.*s' %s.",
                             (int)(name.len > 64 ? 64 : name.len), name.ptr, why)
               : CS_ERR_OK;
}

/* String, Number or Binary, optionally followed by ".label". */
static bool type_is(cs_str type, const char *base)
{
    size_t n = strlen(base);
    return type.len >= n && memcmp(type.ptr, base, n) == 0 &&
           (type.len == n || (type.ptr[n] == '.' && type.len > n + 1));
}

static size_t skip_digits(cs_str s, size_t i, size_t *digits)
{
    for (; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++) {
        (*digits)++;
    }
    return i;
}

/* Optional sign, digits with an optional fraction, an optional exponent;
 * at most 38 digits before the exponent, as SQS allows. */
static bool number_valid(cs_str s)
{
    size_t i = 0, digits = 0, exponent_digits = 0;
    if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+')) {
        i++;
    }
    i = skip_digits(s, i, &digits);
    if (i < s.len && s.ptr[i] == '.') {
        i = skip_digits(s, i + 1, &digits);
    }
    if (digits == 0 || digits > 38) {
        return false;
    }
    if (i < s.len && (s.ptr[i] == 'e' || s.ptr[i] == 'E')) {
        i++;
        if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+')) {
            i++;
        }
        i = skip_digits(s, i, &exponent_digits);
        if (exponent_digits == 0) {
            return false;
        }
    }
    return i == s.len;
}

static const cs_json *member(const cs_json *value, const char *key, cs_json_type type)
{
    const cs_json *v = cs_json_object_get(value, cs_str_from_c(key));
    return v && v->type == type ? v : NULL;
}

/* One attribute's value: its type and the one value that type takes. */
static cs_error check_value(cs_str name, const cs_json *value, cs_buf *scratch, size_t *bytes,
                            cs_diag *diag)
{
    const cs_json *type =
        value->type == CS_JSON_OBJECT ? member(value, "DataType", CS_JSON_STRING) : NULL;
    const char *why = NULL;
    if (!type) {
        why = "needs a DataType";
    } else if (type->text.len > MAX_TYPE_BYTES ||
               !(type_is(type->text, "String") || type_is(type->text, "Number") ||
                 type_is(type->text, "Binary"))) {
        why = "has a DataType that is not String, Number or Binary (with an optional .label)";
    } else if (cs_json_object_get(value, cs_str_from_c("StringListValues")) ||
               cs_json_object_get(value, cs_str_from_c("BinaryListValues"))) {
        why = "uses StringListValues or BinaryListValues, which SQS reserves and refuses";
    }
    if (why) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "Message attribute '%.*s' %s.",
                           CS_STR_FMT(name), why);
    }
    bool binary = type_is(type->text, "Binary");
    const cs_json *v = member(value, binary ? "BinaryValue" : "StringValue", CS_JSON_STRING);
    unsigned code;
    long at;
    cs_diag decode;
    if (!v || v->text.len == 0) {
        why = binary ? "needs a non-empty BinaryValue" : "needs a non-empty StringValue";
    } else if (binary && cs_base64_decode(v->text, scratch, &decode)) {
        why = "has a BinaryValue that is not base64";
    } else if (!binary && (at = em_sqs_refused_character(v->text, &code)) >= 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "Message attribute '%.*s' has the character #x%X (byte %ld of its "
                           "StringValue), which SQS refuses.",
                           CS_STR_FMT(name), code, at);
    } else if (type_is(type->text, "Number") && !number_valid(v->text)) {
        why = "is a Number whose StringValue is not a number of at most 38 digits";
    }
    if (why) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "Message attribute '%.*s' %s.",
                           CS_STR_FMT(name), why);
    }
    *bytes += name.len + type->text.len + (binary ? scratch->len : v->text.len);
    return CS_ERR_OK;
}

static int by_name(const void *a, const void *b)
{
    cs_str x = (*(const cs_json *const *)a)->key, y = (*(const cs_json *const *)b)->key;
    int c = memcmp(x.ptr, y.ptr, x.len < y.len ? x.len : y.len);
    return c ? c : (x.len > y.len) - (x.len < y.len);
}

static void write_canonical(cs_json_writer *w, const cs_json *attribute)
{
    const cs_json *type = member(attribute, "DataType", CS_JSON_STRING);
    bool binary = type_is(type->text, "Binary");
    cs_json_write_key(w, attribute->key);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "DataType");
    cs_json_write_string(w, type->text);
    cs_json_write_key_c(w, binary ? "BinaryValue" : "StringValue");
    cs_json_write_string(
        w, member(attribute, binary ? "BinaryValue" : "StringValue", CS_JSON_STRING)->text);
    cs_json_write_object_end(w);
}

/* ---- MD5OfMessageAttributes ---- */

static void digest_bytes(EVP_MD_CTX *ctx, cs_str bytes)
{
    unsigned char length[4] = {(unsigned char)(bytes.len >> 24), (unsigned char)(bytes.len >> 16),
                               (unsigned char)(bytes.len >> 8), (unsigned char)bytes.len};
    EVP_DigestUpdate(ctx, length, sizeof(length));
    EVP_DigestUpdate(ctx, bytes.ptr ? bytes.ptr : "", bytes.len);
}

/* SQS's digest: for each attribute in name order, the name, the type, a
 * transport byte (1 string, 2 binary) and the value (binary values decoded),
 * each but the transport byte preceded by its length in 4 big-endian bytes.
 * The attributes are already checked, so the base64 decodes. */
static void digest(const cs_json *const *attributes, size_t n, char md5[33])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cs_buf decoded;
    cs_buf_init(&decoded, 256 * 1024);
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++) {
        cs_str type = member(attributes[i], "DataType", CS_JSON_STRING)->text;
        bool binary = type_is(type, "Binary");
        cs_str value =
            member(attributes[i], binary ? "BinaryValue" : "StringValue", CS_JSON_STRING)->text;
        if (binary) {
            cs_buf_reset(&decoded);
            cs_base64_decode(value, &decoded, NULL);
            value = cs_buf_view(&decoded);
        }
        unsigned char transport = binary ? 2 : 1;
        digest_bytes(ctx, attributes[i]->key);
        digest_bytes(ctx, type);
        EVP_DigestUpdate(ctx, &transport, 1);
        digest_bytes(ctx, value);
    }
    unsigned char sum[16];
    EVP_DigestFinal_ex(ctx, sum, NULL);
    EVP_MD_CTX_free(ctx);
    cs_buf_clean_up(&decoded);
    for (size_t i = 0; i < sizeof(sum); i++) {
        snprintf(md5 + 2 * i, 3, "%02x", sum[i]);
    }
}

cs_error em_sqs_attributes_check(const cs_json *attributes, cs_buf *canonical, size_t *bytes,
                                 char md5[33], cs_diag *diag)
{
    *bytes = 0;
    if (attributes->type != CS_JSON_OBJECT || attributes->count > MAX_ATTRIBUTES) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "MessageAttributes is an object of at most %d attributes.",
                           MAX_ATTRIBUTES);
    }
    const cs_json *sorted[MAX_ATTRIBUTES];
    size_t n = 0;
    cs_buf scratch;
    cs_buf_init(&scratch, 256 * 1024);
    cs_error r = CS_ERR_OK;
    for (const cs_json *a = attributes->first; !r && a; a = a->next) {
        cs_buf_reset(&scratch);
        sorted[n++] = a;
        r = check_name(a->key, diag);
        if (!r) {
            r = check_value(a->key, a, &scratch, bytes, diag);
        }
    }
    cs_buf_clean_up(&scratch);
    if (r) {
        return r;
    }
    qsort(sorted, n, sizeof(sorted[0]), by_name);
    for (size_t i = 1; i < n; i++) {
        if (by_name(&sorted[i - 1], &sorted[i]) == 0) {
            return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                               "Message attribute name '%.*s' appears twice.",
                               CS_STR_FMT(sorted[i]->key));
        }
    }
    cs_json_writer w;
    cs_json_writer_init(&w, canonical);
    cs_json_write_object_begin(&w);
    for (size_t i = 0; i < n; i++) {
        write_canonical(&w, sorted[i]);
    }
    cs_json_write_object_end(&w);
    r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    digest(sorted, n, md5);
    return r;
}

/* ---- reading them back ---- */

bool em_sqs_attribute_selected(const cs_json *names, cs_str name)
{
    for (const cs_json *n = names && names->type == CS_JSON_ARRAY ? names->first : NULL; n;
         n = n->next) {
        cs_str want = n->type == CS_JSON_STRING ? n->text : CS_STR_NULL;
        if (cs_str_eq_c(want, "All") || cs_str_eq_c(want, ".*") || cs_str_eq(want, name)) {
            return true;
        }
        /* "order.*" selects every name that starts with "order.". */
        if (want.len > 2 && want.ptr[want.len - 1] == '*' && want.ptr[want.len - 2] == '.' &&
            cs_str_starts_with(name, cs_str_sub(want, 0, want.len - 1))) {
            return true;
        }
    }
    return false;
}

void em_sqs_attributes_write_selected(cs_json_writer *w, const cs_json *canonical,
                                      const cs_json *names, char md5[33])
{
    const cs_json *chosen[MAX_ATTRIBUTES];
    size_t n = 0;
    for (const cs_json *a = canonical ? canonical->first : NULL; a && n < MAX_ATTRIBUTES;
         a = a->next) {
        if (em_sqs_attribute_selected(names, a->key)) {
            chosen[n++] = a;
        }
    }
    md5[0] = '\0';
    if (n == 0) {
        return;
    }
    cs_json_write_key_c(w, "MessageAttributes");
    cs_json_write_object_begin(w);
    for (size_t i = 0; i < n; i++) {
        cs_json_write_key(w, chosen[i]->key);
        cs_json_write_value(w, chosen[i]);
    }
    cs_json_write_object_end(w);
    digest(chosen, n, md5);
}

static void write_empty_array(cs_json_writer *w, const char *key)
{
    cs_json_write_key_c(w, key);
    cs_json_write_array_begin(w);
    cs_json_write_array_end(w);
}

void em_sqs_attributes_write_lambda(cs_json_writer *w, const cs_json *canonical)
{
    cs_json_write_object_begin(w);
    for (const cs_json *a = canonical ? canonical->first : NULL; a; a = a->next) {
        cs_str type = member(a, "DataType", CS_JSON_STRING)->text;
        bool binary = type_is(type, "Binary");
        cs_json_write_key(w, a->key);
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, binary ? "binaryValue" : "stringValue");
        cs_json_write_string(
            w, member(a, binary ? "BinaryValue" : "StringValue", CS_JSON_STRING)->text);
        write_empty_array(w, "stringListValues");
        write_empty_array(w, "binaryListValues");
        cs_json_write_key_c(w, "dataType");
        cs_json_write_string(w, type);
        cs_json_write_object_end(w);
    }
    cs_json_write_object_end(w);
}
