/* The DynamoDB state backend: one table with a composite key (pk, sk) and
 * conditional writes; payload snapshots in S3. Item layout:
 *
 *   cursor  pk = key, sk = "-", ts (N), id (S), ord (S: the id as compared,
 *           cs_cursor_order_key)
 *   idem    pk = key, sk = "-", status, owner, lease_until (N ms), result,
 *           expiresAt (N seconds: the table's TTL attribute), expires_ms (N)
 *   idmap   pk = key, sk = target system, id (S)
 *   error   pk = "error", sk = correlation id, flow, code, message,
 *           attempts, status, created, updated; snapshot in S3 under
 *           snapshots/<correlation id>.json */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "core/json.h"

typedef struct dynamo_state {
    cs_state base;
    cs_aws *aws;
    char table[256];
    char bucket[256];
    cs_buf request;
    cs_buf response;
    cs_arena scratch;
} dynamo_state;

/* ---- request building ---- */

static void begin_request(dynamo_state *st, cs_json_writer *w)
{
    cs_buf_reset(&st->request);
    cs_json_writer_init(w, &st->request);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "TableName");
    cs_json_write_string_c(w, st->table);
}

static void attr_s(cs_json_writer *w, const char *name, cs_str value)
{
    cs_json_write_key_c(w, name);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "S");
    cs_json_write_string(w, value);
    cs_json_write_object_end(w);
}

static void attr_n(cs_json_writer *w, const char *name, int64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, value);
    cs_json_write_key_c(w, name);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "N");
    cs_json_write_string_c(w, text);
    cs_json_write_object_end(w);
}

static void write_key(cs_json_writer *w, const char *member, const char *pk, cs_str sk)
{
    cs_json_write_key_c(w, member);
    cs_json_write_object_begin(w);
    attr_s(w, "pk", cs_str_from_c(pk));
    attr_s(w, "sk", sk);
    cs_json_write_object_end(w);
}

/* Opens "Item" with its key attributes; the caller adds the rest and closes it. */
static void begin_item(cs_json_writer *w, const char *pk, cs_str sk)
{
    cs_json_write_key_c(w, "Item");
    cs_json_write_object_begin(w);
    attr_s(w, "pk", cs_str_from_c(pk));
    attr_s(w, "sk", sk);
}

static void write_string(cs_json_writer *w, const char *key, const char *value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string_c(w, value);
}

/* Finishes the request and calls op; the answer is parsed into *doc. */
static cs_error call(dynamo_state *st, cs_json_writer *w, const char *op, cs_json **doc,
                     cs_diag *diag)
{
    cs_json_write_object_end(w);
    cs_error r = cs_json_writer_finish(w, diag);
    if (!r) {
        r = cs_dynamodb(st->aws, op, cs_buf_view(&st->request), &st->response, diag);
    }
    if (!r && doc) {
        cs_arena_reset(&st->scratch);
        r = cs_json_parse(&st->scratch, cs_buf_view(&st->response), doc, diag);
    }
    return r;
}

static cs_str item_s(const cs_json *item, const char *name)
{
    const cs_json *a = cs_json_object_get(item, cs_str_from_c(name));
    const cs_json *s = cs_json_object_get(a, CS_STR_LIT("S"));
    return s && s->type == CS_JSON_STRING ? s->text : CS_STR_NULL;
}

static int64_t item_n(const cs_json *item, const char *name)
{
    const cs_json *a = cs_json_object_get(item, cs_str_from_c(name));
    const cs_json *n = cs_json_object_get(a, CS_STR_LIT("N"));
    int64_t v = 0;
    if (n && n->type == CS_JSON_STRING) {
        cs_parse_int64(n->text, &v);
    }
    return v;
}

static void copy_str(cs_str s, char *out, size_t out_len)
{
    snprintf(out, out_len, "%.*s", CS_STR_FMT(s));
}

/* GetItem, strongly consistent; *item is NULL when there is none. */
static cs_error get_item(dynamo_state *st, const char *pk, cs_str sk, const cs_json **item,
                         cs_diag *diag)
{
    cs_json_writer w;
    begin_request(st, &w);
    write_key(&w, "Key", pk, sk);
    cs_json_write_key_c(&w, "ConsistentRead");
    cs_json_write_bool(&w, true);
    cs_json *doc;
    cs_error r = call(st, &w, "GetItem", &doc, diag);
    *item = r ? NULL : cs_json_object_get(doc, CS_STR_LIT("Item"));
    return r;
}

/* ---- cursors ---- */

static cs_error cursor_get(cs_state *s, const char *key, cs_cursor *out, bool *found, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    const cs_json *item;
    cs_error r = get_item(st, key, CS_STR_LIT("-"), &item, diag);
    *found = !r && item;
    if (*found) {
        out->updated_at_ms = item_n(item, "ts");
        copy_str(item_s(item, "id"), out->id, sizeof(out->id));
    }
    return r;
}

static cs_error cursor_put(cs_state *s, const char *key, const cs_cursor *c, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    begin_request(st, &w);
    begin_item(&w, key, CS_STR_LIT("-"));
    attr_n(&w, "ts", c->updated_at_ms);
    attr_s(&w, "id", cs_str_from_c(c->id));
    char ord[CS_CURSOR_KEY_MAX];
    cs_cursor_order_key(cs_str_from_c(c->id), ord);
    attr_s(&w, "ord", cs_str_from_c(ord));
    cs_json_write_object_end(&w);
    write_string(&w, "ConditionExpression",
                 "attribute_not_exists(pk) OR ts < :ts OR (ts = :ts AND ord < :ord)");
    cs_json_write_key_c(&w, "ExpressionAttributeValues");
    cs_json_write_object_begin(&w);
    attr_n(&w, ":ts", c->updated_at_ms);
    attr_s(&w, ":ord", cs_str_from_c(ord));
    cs_json_write_object_end(&w);
    cs_error r = call(st, &w, "PutItem", NULL, diag);
    /* An older position than the stored one is not an error: the cursor
     * only moves forward. */
    return r == CS_ERR_CONDITION_FAILED ? CS_ERR_OK : r;
}

/* ---- idempotency ---- */

/* ExpressionAttributeNames for the placeholders an expression uses
 * (DynamoDB refuses unused ones): pairs of "#x", "attribute", NULL-ended. */
static void attribute_names(cs_json_writer *w, const char *const *pairs)
{
    cs_json_write_key_c(w, "ExpressionAttributeNames");
    cs_json_write_object_begin(w);
    for (const char *const *p = pairs; p[0]; p += 2) {
        write_string(w, p[0], p[1]);
    }
    cs_json_write_object_end(w);
}

static cs_error idem_begin(cs_state *s, const char *key, const char *owner, int64_t now_ms,
                           int64_t lease_ms, int64_t ttl_ms, cs_idem_result *out, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    begin_request(st, &w);
    begin_item(&w, key, CS_STR_LIT("-"));
    attr_s(&w, "status", CS_STR_LIT("in_progress"));
    attr_s(&w, "owner", cs_str_from_c(owner));
    attr_n(&w, "lease_until", now_ms + lease_ms);
    attr_n(&w, "expires_ms", now_ms + ttl_ms);
    attr_n(&w, "expiresAt", (now_ms + ttl_ms) / 1000);
    cs_json_write_object_end(&w);
    /* New, expired, or in progress under a lease that has run out. */
    write_string(&w, "ConditionExpression",
                 "attribute_not_exists(pk) OR expires_ms <= :now OR "
                 "(#s = :in_progress AND lease_until <= :now)");
    attribute_names(&w, (const char *const[]){"#s", "status", NULL});
    cs_json_write_key_c(&w, "ExpressionAttributeValues");
    cs_json_write_object_begin(&w);
    attr_n(&w, ":now", now_ms);
    attr_s(&w, ":in_progress", CS_STR_LIT("in_progress"));
    cs_json_write_object_end(&w);
    cs_error r = call(st, &w, "PutItem", NULL, diag);
    if (r != CS_ERR_CONDITION_FAILED) {
        out->status = CS_IDEM_ACQUIRED;
        return r;
    }
    const cs_json *item;
    r = get_item(st, key, CS_STR_LIT("-"), &item, diag);
    if (r) {
        return r;
    }
    bool done = item && cs_str_eq_c(item_s(item, "status"), "done");
    out->status = done ? CS_IDEM_DONE : CS_IDEM_BUSY;
    if (done) {
        copy_str(item_s(item, "result"), out->result, sizeof(out->result));
    }
    return CS_ERR_OK;
}

/* Starts ExpressionAttributeValues with the owner check's two values; the
 * caller adds its own and closes the object. */
static void owner_values(cs_json_writer *w, const char *owner)
{
    cs_json_write_key_c(w, "ExpressionAttributeValues");
    cs_json_write_object_begin(w);
    attr_s(w, ":in_progress", CS_STR_LIT("in_progress"));
    attr_s(w, ":owner", cs_str_from_c(owner));
}

static cs_error idem_complete(cs_state *s, const char *key, const char *owner, cs_str result,
                              int64_t now_ms, int64_t ttl_ms, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    begin_request(st, &w);
    write_key(&w, "Key", key, CS_STR_LIT("-"));
    write_string(&w, "UpdateExpression",
                 "SET #s = :done, #r = :result, expires_ms = :expires_ms, expiresAt = :expires_s "
                 "REMOVE lease_until");
    write_string(&w, "ConditionExpression", "#s = :in_progress AND #o = :owner");
    attribute_names(&w, (const char *const[]){"#s", "status", "#o", "owner", "#r", "result", NULL});
    owner_values(&w, owner);
    attr_s(&w, ":done", CS_STR_LIT("done"));
    attr_s(&w, ":result", result);
    attr_n(&w, ":expires_ms", now_ms + ttl_ms);
    attr_n(&w, ":expires_s", (now_ms + ttl_ms) / 1000);
    cs_json_write_object_end(&w);
    cs_error r = call(st, &w, "UpdateItem", NULL, diag);
    if (r == CS_ERR_CONDITION_FAILED) {
        return cs_diag_set(diag, r, "idempotency record %s is no longer held by %s", key, owner);
    }
    return r;
}

static cs_error idem_release(cs_state *s, const char *key, const char *owner, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    begin_request(st, &w);
    write_key(&w, "Key", key, CS_STR_LIT("-"));
    write_string(&w, "ConditionExpression", "#s = :in_progress AND #o = :owner");
    attribute_names(&w, (const char *const[]){"#s", "status", "#o", "owner", NULL});
    owner_values(&w, owner);
    cs_json_write_object_end(&w);
    cs_error r = call(st, &w, "DeleteItem", NULL, diag);
    return r == CS_ERR_CONDITION_FAILED ? CS_ERR_OK : r; /* nothing of ours to give up */
}

/* ---- id maps ---- */

static void idmap_item(cs_json_writer *w, const char *key, const char *system, cs_str id)
{
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "PutRequest");
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "Item");
    cs_json_write_object_begin(w);
    attr_s(w, "pk", cs_str_from_c(key));
    attr_s(w, "sk", cs_str_from_c(system));
    attr_s(w, "id", id);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
    cs_json_write_object_end(w);
}

static cs_error idmap_put(cs_state *s, const char *key_ab, const char *system_b, cs_str id_b,
                          const char *key_ba, const char *system_a, cs_str id_a, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    cs_buf_reset(&st->request);
    cs_json_writer_init(&w, &st->request);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "RequestItems");
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, st->table);
    cs_json_write_array_begin(&w);
    idmap_item(&w, key_ab, system_b, id_b);
    idmap_item(&w, key_ba, system_a, id_a);
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    cs_json *doc;
    cs_error r = call(st, &w, "BatchWriteItem", &doc, diag);
    const cs_json *unprocessed = r ? NULL : cs_json_object_get(doc, CS_STR_LIT("UnprocessedItems"));
    if (unprocessed && unprocessed->count > 0) {
        /* Throttled halfway: report it, the caller's retry writes both again. */
        return cs_diag_set(diag, CS_ERR_HTTP_TRANSIENT, "id map write was throttled");
    }
    return r;
}

static cs_error idmap_get(cs_state *s, const char *key, const char *to_system, char *out,
                          size_t out_len, bool *found, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    const cs_json *item;
    cs_error r = get_item(st, key, cs_str_from_c(to_system), &item, diag);
    *found = !r && item;
    if (*found) {
        copy_str(item_s(item, "id"), out, out_len);
    }
    return r;
}

/* ---- error queue ---- */

static cs_error object_key(const char *id, char *out, size_t out_len, cs_diag *diag)
{
    char name[600];
    if (cs_state_safe_name(id, name, sizeof(name)) ||
        (size_t)snprintf(out, out_len, "snapshots/%s.json", name) >= out_len) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "correlation id is empty or too long");
    }
    return CS_ERR_OK;
}

static cs_error error_record(cs_state *s, const cs_error_entry *e, cs_str snapshot, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    char key[700];
    cs_error r = object_key(e->correlation_id, key, sizeof(key), diag);
    if (!r) {
        r = cs_s3_put(st->aws, st->bucket, key, snapshot, "application/json", diag);
    }
    if (r) {
        return r;
    }
    /* ADD counts in the item itself: two failures written at once make
     * two attempts, where a read then a put would make one. */
    cs_json_writer w;
    begin_request(st, &w);
    write_key(&w, "Key", "error", cs_str_from_c(e->correlation_id));
    write_string(&w, "UpdateExpression",
                 "SET #f = :flow, #c = :code, #m = :message, #s = :status, #u = :now, "
                 "#cr = if_not_exists(#cr, :now) ADD #a :one");
    attribute_names(&w, (const char *const[]){"#f", "flow", "#c", "code", "#m", "message", "#s",
                                              "status", "#u", "updated", "#cr", "created", "#a",
                                              "attempts", NULL});
    cs_json_write_key_c(&w, "ExpressionAttributeValues");
    cs_json_write_object_begin(&w);
    attr_s(&w, ":flow", cs_str_from_c(e->flow));
    attr_s(&w, ":code", cs_str_from_c(e->code));
    attr_s(&w, ":message", cs_str_from_c(e->message ? e->message : ""));
    attr_s(&w, ":status", cs_str_from_c(e->status));
    attr_n(&w, ":now", e->updated_ms);
    attr_n(&w, ":one", 1);
    cs_json_write_object_end(&w);
    return call(st, &w, "UpdateItem", NULL, diag);
}

static const char *arena_copy(cs_arena *arena, cs_str s)
{
    const char *copy = cs_arena_strndup(arena, s);
    return copy ? copy : "";
}

static void read_entry(cs_arena *arena, const cs_json *item, cs_error_entry *e)
{
    e->correlation_id = arena_copy(arena, item_s(item, "sk"));
    e->flow = arena_copy(arena, item_s(item, "flow"));
    e->code = arena_copy(arena, item_s(item, "code"));
    e->message = arena_copy(arena, item_s(item, "message"));
    e->attempts = item_n(item, "attempts");
    e->status = arena_copy(arena, item_s(item, "status"));
    e->created_ms = item_n(item, "created");
    e->updated_ms = item_n(item, "updated");
}

static cs_error error_get(cs_state *s, const char *id, cs_arena *arena, cs_error_entry *out,
                          cs_buf *snapshot, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    const cs_json *item;
    cs_error r = get_item(st, "error", cs_str_from_c(id), &item, diag);
    if (r) {
        return r;
    }
    if (!item) {
        return cs_diag_set(diag, CS_ERR_NOT_FOUND, "no error entry %s", id);
    }
    read_entry(arena, item, out);
    char key[700];
    r = snapshot ? object_key(id, key, sizeof(key), diag) : CS_ERR_OK;
    return r || !snapshot ? r : cs_s3_get(st->aws, st->bucket, key, snapshot, diag);
}

static cs_error error_set_status(cs_state *s, const char *id, const char *status, int64_t now_ms,
                                 cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_json_writer w;
    begin_request(st, &w);
    write_key(&w, "Key", "error", cs_str_from_c(id));
    write_string(&w, "UpdateExpression", "SET #s = :status, updated = :now");
    write_string(&w, "ConditionExpression", "attribute_exists(pk)");
    attribute_names(&w, (const char *const[]){"#s", "status", NULL});
    cs_json_write_key_c(&w, "ExpressionAttributeValues");
    cs_json_write_object_begin(&w);
    attr_s(&w, ":status", cs_str_from_c(status));
    attr_n(&w, ":now", now_ms);
    cs_json_write_object_end(&w);
    cs_error r = call(st, &w, "UpdateItem", NULL, diag);
    return r == CS_ERR_CONDITION_FAILED
               ? cs_diag_set(diag, CS_ERR_NOT_FOUND, "no error entry %s", id)
               : r;
}

static int by_created(const void *a, const void *b)
{
    const cs_error_entry *x = a, *y = b;
    if (x->created_ms != y->created_ms) {
        return x->created_ms < y->created_ms ? -1 : 1;
    }
    return strcmp(x->correlation_id, y->correlation_id);
}

/* Appends the page's entries (after the status filter) to the list. */
static void take_page(cs_arena *arena, const cs_json *items, size_t max, cs_error_entry *list,
                      size_t *count)
{
    for (const cs_json *item = items ? items->first : NULL; item && *count < max;
         item = item->next) {
        read_entry(arena, item, &list[(*count)++]);
    }
}

static cs_error error_list(cs_state *s, const char *status, size_t max, cs_arena *arena,
                           cs_error_entry **out, size_t *count, cs_diag *diag)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_error_entry *list = cs_arena_calloc(arena, max ? max : 1, sizeof(*list));
    if (!list) {
        return cs_arena_full(arena, diag);
    }
    char *start_after = NULL;
    cs_error r;
    do {
        cs_json_writer w;
        begin_request(st, &w);
        write_string(&w, "KeyConditionExpression", "pk = :pk");
        write_string(&w, "FilterExpression", "#s = :status");
        attribute_names(&w, (const char *const[]){"#s", "status", NULL});
        cs_json_write_key_c(&w, "ExpressionAttributeValues");
        cs_json_write_object_begin(&w);
        attr_s(&w, ":pk", CS_STR_LIT("error"));
        attr_s(&w, ":status", cs_str_from_c(status));
        cs_json_write_object_end(&w);
        if (start_after) {
            write_key(&w, "ExclusiveStartKey", "error", cs_str_from_c(start_after));
        }
        cs_json *doc;
        r = call(st, &w, "Query", &doc, diag);
        if (r) {
            break;
        }
        take_page(arena, cs_json_object_get(doc, CS_STR_LIT("Items")), max, list, count);
        cs_str last = item_s(cs_json_object_get(doc, CS_STR_LIT("LastEvaluatedKey")), "sk");
        start_after = last.len && *count < max ? cs_arena_strndup(arena, last) : NULL;
    } while (start_after);
    /* Query returns sort-key order; the queue is read oldest first. */
    qsort(list, *count, sizeof(*list), by_created);
    *out = list;
    return r;
}

static void close_state(cs_state *s)
{
    dynamo_state *st = (dynamo_state *)s;
    cs_buf_clean_up(&st->request);
    cs_buf_clean_up(&st->response);
    cs_arena_clean_up(&st->scratch);
    free(st);
}

static const cs_state_ops dynamo_ops = {
    cursor_get, cursor_put,   idem_begin, idem_complete,    idem_release, idmap_put,
    idmap_get,  error_record, error_get,  error_set_status, error_list,   close_state,
};

cs_error cs_state_open_dynamodb(cs_aws *aws, const char *table, const char *bucket, cs_state **out,
                                cs_diag *diag)
{
    dynamo_state *st = calloc(1, sizeof(*st));
    if (!st) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    st->base.ops = &dynamo_ops;
    st->aws = aws;
    if ((size_t)snprintf(st->table, sizeof(st->table), "%s", table) >= sizeof(st->table) ||
        (size_t)snprintf(st->bucket, sizeof(st->bucket), "%s", bucket) >= sizeof(st->bucket)) {
        free(st);
        return cs_diag_set(diag, CS_ERR_CONFIG, "table or bucket name too long");
    }
    cs_buf_init(&st->request, 1024 * 1024);
    cs_buf_init(&st->response, 16 * 1024 * 1024);
    cs_arena_init(&st->scratch, 0, 64 * 1024 * 1024);
    *out = &st->base;
    return CS_ERR_OK;
}
