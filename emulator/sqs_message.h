/* What SQS accepts in a message, and the message attributes it carries.
 *
 * Attributes arrive as SendMessage takes them,
 *   {"Name": {"DataType": "String", "StringValue": "v"}, ...}
 * (BinaryValue is base64 for Binary types), and are kept in one canonical
 * form: the same shape, names sorted by their bytes, nothing but DataType and
 * the value. That text is what the queue stores; the SQS API returns it, and
 * Lambda's event rewrites it in its own shape. */
#ifndef CS_EMULATOR_SQS_MESSAGE_H
#define CS_EMULATOR_SQS_MESSAGE_H

#include "core/buf.h"
#include "core/json.h"

/* The offset of the first character SQS refuses in a body or string value
 * (everything but #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
 * #x10000 to #x10FFFF), or -1; *code is that character. text must be valid
 * UTF-8. */
long em_sqs_refused_character(cs_str text, unsigned *code);

/* Checks SendMessage's MessageAttributes (a JSON object, at most 10
 * attributes) and appends their canonical form to canonical. *bytes is what
 * they count towards the message size (names, types and values); md5 is
 * MD5OfMessageAttributes as SQS computes it. CS_ERR_INVALID_ARGUMENT names
 * the attribute and what is wrong with it. */
cs_error em_sqs_attributes_check(const cs_json *attributes, cs_buf *canonical, size_t *bytes,
                                 char md5[33], cs_diag *diag);

/* Whether ReceiveMessage's MessageAttributeNames (an array of names, "All",
 * ".*" or prefixes ending in ".*"; NULL selects nothing) selects name. */
bool em_sqs_attribute_selected(const cs_json *names, cs_str name);

/* The attributes of canonical (a parsed canonical object) that names selects,
 * written as the SQS API returns them, and their MD5. Writes nothing and sets
 * md5 to "" when none is selected. */
void em_sqs_attributes_write_selected(cs_json_writer *w, const cs_json *canonical,
                                      const cs_json *names, char md5[33]);

/* The attributes as Lambda's SQS event shows them:
 * {"Name": {"stringValue": "v", "stringListValues": [], "binaryListValues": [],
 * "dataType": "String"}}. canonical may be NULL (no attributes). */
void em_sqs_attributes_write_lambda(cs_json_writer *w, const cs_json *canonical);

#endif
