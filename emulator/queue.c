#include "queue.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"

enum {
    MAX_QUEUES = 128,
    NAME_LEN = 128,
    DEDUP_WINDOW_MS = 5 * 60 * 1000,
    /* Retention and deduplication expiry run at most this often per queue:
     * a message past its retention may be seen for up to a second more. */
    EXPIRY_INTERVAL_MS = 1000
};

typedef struct definition {
    char name[NAME_LEN];
    char dlq[NAME_LEN];
    em_queue q;        /* name and dlq point at the arrays above */
    int64_t expiry_ms; /* when retention was last applied */
} definition;

/* Prepared statements, kept by the address of their SQL text (every one is
 * a literal), so a hot operation does not parse its SQL again. */
enum { STATEMENTS = 32 };

typedef struct cached_statement {
    const char *sql;
    sqlite3_stmt *stmt;
} cached_statement;

struct em_queues {
    pthread_mutex_t mu;
    sqlite3 *db;
    cached_statement statements[STATEMENTS];
    size_t statement_count;
    definition defs[MAX_QUEUES];
    size_t def_count;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " queue TEXT NOT NULL, message_id TEXT NOT NULL, body BLOB NOT NULL, group_id TEXT,"
    " md5 TEXT NOT NULL, sent_at INTEGER NOT NULL,"
    " available_at INTEGER NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,"
    " first_receive_at INTEGER, receipt TEXT, attributes TEXT, attributes_md5 TEXT);"
    "CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, available_at, id);"
    /* FIFO messages (and only they have a group) in send order: the rowid
     * is the index's last column. */
    "CREATE INDEX IF NOT EXISTS messages_fifo ON messages (queue) WHERE group_id IS NOT NULL;"
    /* Deletes and visibility changes find a message by receipt (their
     * statements name this index: left to itself, SQLite picks one that
     * starts with the queue and scans it); retention by age. */
    "CREATE INDEX IF NOT EXISTS messages_receipt ON messages (receipt) WHERE receipt IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_age ON messages (queue, sent_at);"
    "CREATE TABLE IF NOT EXISTS dedup (queue TEXT NOT NULL, dedup_id TEXT NOT NULL,"
    " message_id TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (queue, dedup_id));"
    "CREATE TABLE IF NOT EXISTS schedule_anchors (rule TEXT PRIMARY KEY, expression TEXT NOT NULL,"
    " anchor_ms INTEGER NOT NULL);";

static const char begin[] = "BEGIN IMMEDIATE";
static const char commit[] = "COMMIT";
static const char rollback[] = "ROLLBACK";

static cs_error db_error(em_queues *q, const char *what, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_STORAGE, "queue store %s: %s", what, sqlite3_errmsg(q->db));
}

static cs_error exec(em_queues *q, const char *sql, cs_diag *diag)
{
    char *message = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        cs_diag_set(diag, CS_ERR_STORAGE, "queue store: %s", message ? message : "error");
        sqlite3_free(message);
        return CS_ERR_STORAGE;
    }
    return CS_ERR_OK;
}

static cs_error prepare(em_queues *q, const char *sql, sqlite3_stmt **stmt, cs_diag *diag)
{
    for (size_t i = 0; i < q->statement_count; i++) {
        if (q->statements[i].sql == sql) {
            *stmt = q->statements[i].stmt;
            return CS_ERR_OK;
        }
    }
    if (sqlite3_prepare_v2(q->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        return db_error(q, "prepare", diag);
    }
    if (q->statement_count < STATEMENTS) {
        q->statements[q->statement_count++] = (cached_statement){sql, *stmt};
    }
    return CS_ERR_OK;
}

/* Readies a statement for its next use (or finalizes one not cached). */
static void release(em_queues *q, sqlite3_stmt *stmt)
{
    for (size_t i = 0; i < q->statement_count; i++) {
        if (q->statements[i].stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            return;
        }
    }
    release(q, stmt);
}

static void bind(sqlite3_stmt *stmt, int index, cs_str text)
{
    sqlite3_bind_text(stmt, index, text.ptr ? text.ptr : "", (int)text.len, SQLITE_TRANSIENT);
}

static cs_error step_done(em_queues *q, sqlite3_stmt *stmt, const char *what, cs_diag *diag)
{
    cs_error r = sqlite3_step(stmt) == SQLITE_DONE ? CS_ERR_OK : db_error(q, what, diag);
    release(q, stmt);
    return r;
}

/* One statement without results, e.g. BEGIN IMMEDIATE. */
static cs_error run(em_queues *q, const char *sql, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q, sql, &stmt, diag);
    return r ? r : step_done(q, stmt, sql, diag);
}

/* Ends a transaction: COMMIT after success, ROLLBACK after an error. */
static cs_error finish(em_queues *q, cs_error result, cs_diag *diag)
{
    cs_error end = run(q, result ? rollback : commit, result ? NULL : diag);
    return result ? result : end;
}

/* Stores written before messages carried attributes lack those columns. */
static cs_error migrate(em_queues *q, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(q->db, "SELECT attributes FROM messages LIMIT 0", -1, &stmt, NULL) ==
        SQLITE_OK) {
        sqlite3_finalize(stmt);
        return CS_ERR_OK;
    }
    return exec(q,
                "ALTER TABLE messages ADD COLUMN attributes TEXT;"
                "ALTER TABLE messages ADD COLUMN attributes_md5 TEXT;",
                diag);
}

cs_error em_queues_open(const char *db_path, em_queues **out, cs_diag *diag)
{
    em_queues *q = calloc(1, sizeof(*q));
    if (!q) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    pthread_mutex_init(&q->mu, NULL);
    if (sqlite3_open_v2(db_path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        cs_error r = db_error(q, db_path, diag);
        em_queues_close(q);
        return r;
    }
    sqlite3_busy_timeout(q->db, 10000);
    cs_error r = exec(q, schema, diag);
    if (!r) {
        r = migrate(q, diag);
    }
    if (r) {
        em_queues_close(q);
        return r;
    }
    *out = q;
    return CS_ERR_OK;
}

void em_queues_close(em_queues *q)
{
    if (q) {
        for (size_t i = 0; i < q->statement_count; i++) {
            sqlite3_finalize(q->statements[i].stmt);
        }
        sqlite3_close(q->db);
        pthread_mutex_destroy(&q->mu);
        free(q);
    }
}

const em_queue *em_queues_at(const em_queues *q, size_t i)
{
    return i < q->def_count ? &q->defs[i].q : NULL;
}

const em_queue *em_queues_find(const em_queues *q, cs_str name)
{
    for (size_t i = 0; i < q->def_count; i++) {
        if (cs_str_eq(q->defs[i].q.name, name)) {
            return &q->defs[i].q;
        }
    }
    return NULL;
}

static definition *definition_of(const em_queue *def)
{
    return (definition *)((char *)def - offsetof(definition, q));
}

static cs_error define_unlocked(em_queues *q, const em_queue *def, cs_diag *diag)
{
    if (def->name.len == 0 || def->name.len >= NAME_LEN || def->dlq.len >= NAME_LEN) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "queue names are 1 to %d bytes",
                           NAME_LEN - 1);
    }
    const em_queue *known_queue = em_queues_find(q, def->name);
    definition *d = known_queue ? definition_of(known_queue) : NULL;
    if (!d) {
        if (q->def_count == MAX_QUEUES) {
            return cs_diag_set(diag, CS_ERR_BUFFER_FULL, "at most %d queues", MAX_QUEUES);
        }
        d = &q->defs[q->def_count++];
    }
    d->q = *def;
    snprintf(d->name, sizeof(d->name), "%.*s", CS_STR_FMT(def->name));
    snprintf(d->dlq, sizeof(d->dlq), "%.*s", CS_STR_FMT(def->dlq));
    d->q.name = cs_str_from_c(d->name);
    d->q.dlq = cs_str_from_c(d->dlq);
    d->q.logical_id = d->q.name;
    return CS_ERR_OK;
}

static cs_error known(const em_queues *q, cs_str name, const em_queue **out, cs_diag *diag)
{
    *out = em_queues_find(q, name);
    return *out ? CS_ERR_OK
                : cs_diag_set(diag, CS_ERR_NOT_FOUND, "no queue named '%.*s'", CS_STR_FMT(name));
}

static void hex_digest(const EVP_MD *md, cs_str data, char *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.ptr ? data.ptr : "", data.len, digest, &len, md, NULL);
    for (unsigned i = 0; i < len; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

/* ---- send ---- */

/* The message id already sent under this deduplication id, if any. */
static cs_error dedup_lookup(em_queues *q, cs_str queue, cs_str dedup, int64_t now_ms, char *found,
                             cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q,
                         "SELECT message_id FROM dedup WHERE queue = ? AND dedup_id = ? AND "
                         "expires_at > ?",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, queue);
    bind(stmt, 2, dedup);
    sqlite3_bind_int64(stmt, 3, now_ms);
    found[0] = '\0';
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        snprintf(found, 37, "%s", (const char *)sqlite3_column_text(stmt, 0));
    }
    release(q, stmt);
    return CS_ERR_OK;
}

static cs_error insert_message(em_queues *q, const em_queue *def, em_outgoing *m, int64_t delay_s,
                               int64_t now_ms, cs_diag *diag)
{
    hex_digest(EVP_md5(), m->body, m->md5);
    sqlite3_stmt *stmt;
    cs_error r = prepare(q,
                         "INSERT INTO messages (queue, message_id, body, group_id, md5, sent_at, "
                         "available_at, attributes, attributes_md5) VALUES (?, ?, ?, ?, ?, ?, ?, "
                         "?, ?)",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, def->name);
    sqlite3_bind_text(stmt, 2, m->message_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 3, m->body.ptr ? m->body.ptr : "", (int)m->body.len, SQLITE_TRANSIENT);
    if (m->group_id.len) {
        bind(stmt, 4, m->group_id);
    }
    sqlite3_bind_text(stmt, 5, m->md5, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 6, now_ms);
    sqlite3_bind_int64(stmt, 7, now_ms + (delay_s < 0 ? def->delay_s : delay_s) * 1000);
    if (m->attributes.len) {
        bind(stmt, 8, m->attributes);
        sqlite3_bind_text(stmt, 9, m->attributes_md5, -1, SQLITE_TRANSIENT);
    }
    return step_done(q, stmt, "send", diag);
}

static cs_error remember_dedup(em_queues *q, cs_str queue, cs_str dedup, const char *message_id,
                               int64_t now_ms, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q, "INSERT OR REPLACE INTO dedup VALUES (?, ?, ?, ?)", &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, queue);
    bind(stmt, 2, dedup);
    sqlite3_bind_text(stmt, 3, message_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 4, now_ms + DEDUP_WINDOW_MS);
    return step_done(q, stmt, "deduplication", diag);
}

static cs_error send_in_transaction(em_queues *q, const em_queue *def, em_outgoing *m,
                                    int64_t now_ms, cs_diag *diag)
{
    char content_hash[65];
    cs_str dedup = m->dedup_id;
    if (def->fifo && dedup.len == 0 && def->content_dedup) {
        hex_digest(EVP_sha256(), m->body, content_hash);
        dedup = cs_str_from_c(content_hash);
    }
    if (def->fifo) {
        char seen[37];
        cs_error r = dedup_lookup(q, def->name, dedup, now_ms, seen, diag);
        if (r || seen[0]) {
            snprintf(m->message_id, sizeof(m->message_id), "%s", seen);
            hex_digest(EVP_md5(), m->body, m->md5);
            return r;
        }
    }
    cs_uuid_v4(m->message_id);
    cs_error r = insert_message(q, def, m, def->fifo ? 0 : m->delay_s, now_ms, diag);
    return r || !def->fifo ? r : remember_dedup(q, def->name, dedup, m->message_id, now_ms, diag);
}

/* An entry's own fields, checked before the transaction. */
static cs_error check_entry(const em_queue *def, const em_outgoing *m, cs_diag *diag)
{
    if (def->fifo && m->group_id.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "MessageGroupId is required for FIFO");
    }
    if (def->fifo && m->dedup_id.len == 0 && !def->content_dedup) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "MessageDeduplicationId is required without content-based "
                           "deduplication");
    }
    if (m->body.len == 0 || m->body.len > 256 * 1024) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "a message body is 1 byte to 256 KiB");
    }
    return CS_ERR_OK;
}

static cs_error send_batch_unlocked(em_queues *q, cs_str queue, em_outgoing *messages, int count,
                                    int64_t now_ms, cs_diag *diag)
{
    const em_queue *def;
    cs_error r = known(q, queue, &def, diag);
    if (r || (r = run(q, begin, diag))) {
        return r;
    }
    for (int i = 0; !r && i < count; i++) {
        em_outgoing *m = &messages[i];
        cs_diag entry;
        m->result = check_entry(def, m, &entry);
        if (m->result) {
            snprintf(m->error, sizeof(m->error), "%s", entry.message);
            continue;
        }
        r = send_in_transaction(q, def, m, now_ms, diag);
    }
    return finish(q, r, diag);
}

/* ---- delete ---- */

/* Runs one statement with (queue, receipt) and an optional number; NOT_FOUND
 * when no message carries that receipt. */
static cs_error by_receipt(em_queues *q, const char *sql, cs_str queue, cs_str receipt,
                           int64_t number, cs_diag *diag)
{
    const em_queue *def;
    cs_error r = known(q, queue, &def, diag);
    sqlite3_stmt *stmt;
    if (r || (r = prepare(q, sql, &stmt, diag))) {
        return r;
    }
    bind(stmt, 1, queue);
    bind(stmt, 2, receipt);
    sqlite3_bind_int64(stmt, 3, number);
    r = step_done(q, stmt, "update", diag);
    if (!r && sqlite3_changes(q->db) == 0) {
        r = cs_diag_set(diag, CS_ERR_NOT_FOUND, "receipt handle '%.*s' is not valid for '%.*s'",
                        CS_STR_FMT(receipt), CS_STR_FMT(queue));
    }
    return r;
}

/* A stale receipt (NOT_FOUND) is that entry's result only; anything else
 * fails the transaction. */
static cs_error delete_in_transaction(em_queues *q, cs_str queue, const em_done *done,
                                      cs_diag *diag)
{
    cs_error r = CS_ERR_OK;
    for (int i = 0; !r && i < done->count; i++) {
        cs_diag entry;
        done->results[i] =
            by_receipt(q,
                       "DELETE FROM messages INDEXED BY messages_receipt WHERE queue = ?1 AND "
                       "receipt = ?2 AND ?3 = 0",
                       queue, done->receipts[i], 0, &entry);
        if (done->results[i] && done->results[i] != CS_ERR_NOT_FOUND) {
            r = done->results[i];
            cs_diag_set(diag, r, "%s", entry.message);
        }
    }
    return r;
}

/* ---- receive ---- */

enum { CANDIDATES = 64 };

typedef struct candidate {
    int64_t row;
    int64_t receive_count;
} candidate;

/* Drops messages older than the queue's retention period, and deduplication
 * ids past their window; at most once per EXPIRY_INTERVAL_MS (or when the
 * clock went back). */
static cs_error expire(em_queues *q, const em_queue *def, int64_t now_ms, cs_diag *diag)
{
    definition *d = definition_of(def);
    if (now_ms >= d->expiry_ms && now_ms - d->expiry_ms < EXPIRY_INTERVAL_MS) {
        return CS_ERR_OK;
    }
    d->expiry_ms = now_ms;
    sqlite3_stmt *stmt;
    cs_error r = prepare(q, "DELETE FROM messages WHERE queue = ? AND sent_at <= ?", &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, def->name);
    sqlite3_bind_int64(stmt, 2, now_ms - def->retention_s * 1000);
    r = step_done(q, stmt, "retention", diag);
    if (r ||
        (r = prepare(q, "DELETE FROM dedup WHERE queue = ? AND expires_at <= ?", &stmt, diag))) {
        return r;
    }
    bind(stmt, 1, def->name);
    sqlite3_bind_int64(stmt, 2, now_ms);
    return step_done(q, stmt, "deduplication expiry", diag);
}

/* Visible messages in order, read from an index in that order so that a
 * deep queue is not sorted on every receive. A standard queue hands out the
 * longest-visible first (SQS promises no order); a FIFO queue goes by send
 * order, skipping groups with a message in flight so that their later
 * messages wait for the earlier one. */
static const char standard_candidates[] =
    "SELECT id, receive_count FROM messages WHERE queue = ?1 AND available_at <= ?2 "
    "ORDER BY available_at, id LIMIT ?3";
static const char fifo_candidates[] =
    "SELECT id, receive_count FROM messages INDEXED BY messages_fifo WHERE queue = ?1 AND "
    "group_id IS NOT NULL AND available_at <= ?2 AND group_id NOT IN (SELECT group_id FROM "
    "messages WHERE queue = ?1 AND receipt IS NOT NULL AND available_at > ?2) ORDER BY id "
    "LIMIT ?3";

static cs_error find_candidates(em_queues *q, const em_queue *def, int64_t now_ms, candidate *out,
                                int *count, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q, def->fifo ? fifo_candidates : standard_candidates, &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, def->name);
    sqlite3_bind_int64(stmt, 2, now_ms);
    sqlite3_bind_int(stmt, 3, CANDIDATES);
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        out[*count].row = sqlite3_column_int64(stmt, 0);
        out[*count].receive_count = sqlite3_column_int64(stmt, 1);
        (*count)++;
    }
    release(q, stmt);
    return rc == SQLITE_DONE ? CS_ERR_OK : db_error(q, "receive", diag);
}

/* A message received maxReceiveCount times goes to the dead-letter queue,
 * keeping its receive count and sent time as SQS does. */
static cs_error move_to_dlq(em_queues *q, const em_queue *def, int64_t row, int64_t now_ms,
                            cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q,
                         "UPDATE messages SET queue = ?, available_at = ?, receipt = NULL WHERE "
                         "id = ?",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind(stmt, 1, def->dlq);
    sqlite3_bind_int64(stmt, 2, now_ms);
    sqlite3_bind_int64(stmt, 3, row);
    return step_done(q, stmt, "dead-letter move", diag);
}

/* Copies the row into m, strings into arena; false when the arena is full. */
static bool read_message(sqlite3_stmt *stmt, cs_arena *arena, em_message *m)
{
    snprintf(m->message_id, sizeof(m->message_id), "%s",
             (const char *)sqlite3_column_text(stmt, 0));
    const char *body =
        cs_arena_strndup(arena, cs_str_make((const char *)sqlite3_column_blob(stmt, 1),
                                            (size_t)sqlite3_column_bytes(stmt, 1)));
    const char *group = (const char *)sqlite3_column_text(stmt, 2);
    group = cs_arena_strndup(arena, cs_str_from_c(group ? group : ""));
    m->body = cs_str_make(body, (size_t)sqlite3_column_bytes(stmt, 1));
    m->group_id = cs_str_from_c(group ? group : "");
    m->sequence = sqlite3_column_int64(stmt, 3);
    snprintf(m->md5, sizeof(m->md5), "%s", (const char *)sqlite3_column_text(stmt, 4));
    m->sent_ms = sqlite3_column_int64(stmt, 5);
    m->receive_count = sqlite3_column_int64(stmt, 6);
    m->first_receive_ms = sqlite3_column_int64(stmt, 7);
    const char *attributes = (const char *)sqlite3_column_text(stmt, 8);
    m->attributes = attributes ? cs_str_from_c(cs_arena_strndup(arena, cs_str_from_c(attributes)))
                               : CS_STR_NULL;
    const char *attributes_md5 = (const char *)sqlite3_column_text(stmt, 9);
    snprintf(m->attributes_md5, sizeof(m->attributes_md5), "%s",
             attributes_md5 ? attributes_md5 : "");
    return body && group && (!attributes || m->attributes.ptr);
}

/* Hands one message out: a new receipt, one more receive, invisible until
 * the visibility timeout ends. */
static cs_error take(em_queues *q, int64_t row, int64_t visible_at, int64_t now_ms, cs_arena *arena,
                     em_message *m, cs_diag *diag)
{
    cs_uuid_v4(m->receipt);
    sqlite3_stmt *stmt;
    cs_error r = prepare(q,
                         "UPDATE messages SET receipt = ?, receive_count = receive_count + 1, "
                         "available_at = ?, first_receive_at = COALESCE(first_receive_at, ?) "
                         "WHERE id = ? RETURNING message_id, body, group_id, id, md5, "
                         "sent_at, receive_count, first_receive_at, attributes, attributes_md5",
                         &stmt, diag);
    if (r) {
        return r;
    }
    sqlite3_bind_text(stmt, 1, m->receipt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, visible_at);
    sqlite3_bind_int64(stmt, 3, now_ms);
    sqlite3_bind_int64(stmt, 4, row);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        r = db_error(q, "receive", diag);
        release(q, stmt);
        return r;
    }
    bool copied = read_message(stmt, arena, m);
    r = sqlite3_step(stmt) == SQLITE_DONE ? CS_ERR_OK : db_error(q, "receive", diag);
    release(q, stmt);
    return r || copied ? r : cs_arena_full(arena, diag);
}

static bool goes_to_dlq(const em_queue *def, const candidate *c)
{
    return def->dlq.len > 0 && def->max_receive_count > 0 &&
           c->receive_count >= def->max_receive_count;
}

static cs_error receive_in_transaction(em_queues *q, const em_queue *def, int max,
                                       int64_t visible_at, int64_t now_ms, cs_arena *arena,
                                       em_message *out, int *count, cs_diag *diag)
{
    cs_error r = expire(q, def, now_ms, diag);
    candidate c[CANDIDATES];
    int found = CANDIDATES;
    /* Another round only when a full round was all dead-lettered or taken. */
    while (!r && *count < max && found == CANDIDATES) {
        r = find_candidates(q, def, now_ms, c, &found, diag);
        for (int i = 0; !r && i < found && *count < max; i++) {
            r = goes_to_dlq(def, &c[i])
                    ? move_to_dlq(q, def, c[i].row, now_ms, diag)
                    : take(q, c[i].row, visible_at, now_ms, arena, &out[(*count)++], diag);
        }
    }
    return r;
}

static cs_error receive_unlocked(em_queues *q, cs_str queue, const em_done *done, int max,
                                 int64_t visibility_s, int64_t now_ms, cs_arena *arena,
                                 em_message *out, int *count, cs_diag *diag)
{
    *count = 0;
    const em_queue *def;
    cs_error r = known(q, queue, &def, diag);
    if (r) {
        return r;
    }
    if (max < 1 || max > 10) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "MaxNumberOfMessages is 1 to 10");
    }
    if (visibility_s > 12 * 3600) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "VisibilityTimeout is 0 to 43200");
    }
    int64_t visible_at =
        now_ms + (visibility_s < 0 ? def->visibility_timeout_s : visibility_s) * 1000;
    r = run(q, begin, diag);
    if (r) {
        return r;
    }
    if (done) {
        r = delete_in_transaction(q, queue, done, diag);
    }
    if (!r) {
        r = receive_in_transaction(q, def, max, visible_at, now_ms, arena, out, count, diag);
    }
    if (r) {
        *count = 0;
    }
    return finish(q, r, diag);
}

/* ---- delete, visibility, purge, stats, redrive ---- */

static cs_error delete_batch_unlocked(em_queues *q, cs_str queue, const em_done *done,
                                      cs_diag *diag)
{
    cs_error r = run(q, begin, diag);
    if (!r) {
        r = delete_in_transaction(q, queue, done, diag);
    }
    return finish(q, r, diag);
}

static cs_error change_visibility_unlocked(em_queues *q, cs_str queue, cs_str receipt,
                                           int64_t timeout_s, int64_t now_ms, cs_diag *diag)
{
    if (timeout_s < 0 || timeout_s > 12 * 3600) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "VisibilityTimeout is 0 to 43200");
    }
    return by_receipt(q,
                      "UPDATE messages INDEXED BY messages_receipt SET available_at = ?3 WHERE "
                      "queue = ?1 AND receipt = ?2",
                      queue, receipt, now_ms + timeout_s * 1000, diag);
}

static cs_error by_queue(em_queues *q, const char *sql, cs_str queue, sqlite3_stmt **stmt,
                         cs_diag *diag)
{
    const em_queue *def;
    cs_error r = known(q, queue, &def, diag);
    if (r || (r = prepare(q, sql, stmt, diag))) {
        return r;
    }
    bind(*stmt, 1, queue);
    return CS_ERR_OK;
}

static cs_error purge_unlocked(em_queues *q, cs_str queue, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = by_queue(q, "DELETE FROM messages WHERE queue = ?", queue, &stmt, diag);
    return r ? r : step_done(q, stmt, "purge", diag);
}

static cs_error stats_unlocked(em_queues *q, cs_str queue, int64_t now_ms, em_queue_stats *out,
                               cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = by_queue(q,
                          "SELECT COALESCE(SUM(available_at <= ?2), 0), "
                          "COALESCE(SUM(available_at > ?2 AND receipt IS NOT NULL), 0), "
                          "COALESCE(SUM(available_at > ?2 AND receipt IS NULL), 0) "
                          "FROM messages WHERE queue = ?1",
                          queue, &stmt, diag);
    if (r) {
        return r;
    }
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        out->visible = sqlite3_column_int64(stmt, 0);
        out->in_flight = sqlite3_column_int64(stmt, 1);
        out->delayed = sqlite3_column_int64(stmt, 2);
    } else {
        r = db_error(q, "stats", diag);
    }
    release(q, stmt);
    return r;
}

static cs_error redrive_unlocked(em_queues *q, cs_str dlq, cs_str to, int64_t now_ms,
                                 int64_t *moved, cs_diag *diag)
{
    *moved = 0;
    const em_queue *target;
    cs_error r = known(q, to, &target, diag);
    sqlite3_stmt *stmt;
    if (r || (r = by_queue(q,
                           "UPDATE messages SET queue = ?2, available_at = ?3, receipt = NULL, "
                           "receive_count = 0, first_receive_at = NULL WHERE queue = ?1",
                           dlq, &stmt, diag))) {
        return r;
    }
    if (target->fifo) {
        release(q, stmt);
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "redrive into a FIFO queue is not emulated");
    }
    bind(stmt, 2, to);
    sqlite3_bind_int64(stmt, 3, now_ms);
    r = step_done(q, stmt, "redrive", diag);
    *moved = r ? 0 : sqlite3_changes64(q->db);
    return r;
}

static cs_error anchor_unlocked(em_queues *q, const char *rule, cs_str expression, int64_t now_ms,
                                int64_t *anchor_ms, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(q,
                         "INSERT INTO schedule_anchors VALUES (?1, ?2, ?3) ON CONFLICT (rule) DO "
                         "UPDATE SET expression = ?2, anchor_ms = ?3 WHERE expression != ?2",
                         &stmt, diag);
    if (r) {
        return r;
    }
    sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_TRANSIENT);
    bind(stmt, 2, expression);
    sqlite3_bind_int64(stmt, 3, now_ms);
    r = step_done(q, stmt, "schedule anchor", diag);
    if (r ||
        (r = prepare(q, "SELECT anchor_ms FROM schedule_anchors WHERE rule = ?", &stmt, diag))) {
        return r;
    }
    sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_TRANSIENT);
    r = sqlite3_step(stmt) == SQLITE_ROW ? CS_ERR_OK : db_error(q, "schedule anchor", diag);
    *anchor_ms = r ? now_ms : sqlite3_column_int64(stmt, 0);
    release(q, stmt);
    return r;
}

/* ---- the public operations: one at a time per store ----
 * A connection shared by threads would interleave their transactions, so
 * each operation holds the store's lock. */

cs_error em_queues_define(em_queues *q, const em_queue *def, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = define_unlocked(q, def, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_send_batch(em_queues *q, cs_str queue, em_outgoing *messages, int count,
                             int64_t now_ms, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = send_batch_unlocked(q, queue, messages, count, now_ms, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_send(em_queues *q, cs_str queue, cs_str body, int64_t delay_s, cs_str group_id,
                       cs_str dedup_id, int64_t now_ms, char message_id[37], cs_diag *diag)
{
    em_outgoing m = {.body = body, .delay_s = delay_s, .group_id = group_id, .dedup_id = dedup_id};
    cs_error r = em_queue_send_batch(q, queue, &m, 1, now_ms, diag);
    if (!r && m.result) {
        r = cs_diag_set(diag, m.result, "%s", m.error);
    }
    memcpy(message_id, m.message_id, sizeof(m.message_id));
    return r;
}

cs_error em_queue_receive(em_queues *q, cs_str queue, int max, int64_t visibility_s, int64_t now_ms,
                          cs_arena *arena, em_message *out, int *count, cs_diag *diag)
{
    return em_queue_delete_and_receive(q, queue, NULL, max, visibility_s, now_ms, arena, out, count,
                                       diag);
}

cs_error em_queue_delete_and_receive(em_queues *q, cs_str queue, const em_done *done, int max,
                                     int64_t visibility_s, int64_t now_ms, cs_arena *arena,
                                     em_message *out, int *count, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r =
        receive_unlocked(q, queue, done, max, visibility_s, now_ms, arena, out, count, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_delete_batch(em_queues *q, cs_str queue, const cs_str *receipts, int count,
                               cs_error *results, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    const em_queue *def;
    cs_error r = known(q, queue, &def, diag);
    em_done done = {.receipts = receipts, .count = count, .results = results};
    if (!r) {
        r = delete_batch_unlocked(q, queue, &done, diag);
    }
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_delete(em_queues *q, cs_str queue, cs_str receipt, cs_diag *diag)
{
    cs_error result = CS_ERR_OK;
    cs_error r = em_queue_delete_batch(q, queue, &receipt, 1, &result, diag);
    if (!r && result) {
        r = cs_diag_set(diag, result, "receipt handle '%.*s' is not valid for '%.*s'",
                        CS_STR_FMT(receipt), CS_STR_FMT(queue));
    }
    return r;
}

cs_error em_queue_change_visibility(em_queues *q, cs_str queue, cs_str receipt, int64_t timeout_s,
                                    int64_t now_ms, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = change_visibility_unlocked(q, queue, receipt, timeout_s, now_ms, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_purge(em_queues *q, cs_str queue, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = purge_unlocked(q, queue, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_stats_of(em_queues *q, cs_str queue, int64_t now_ms, em_queue_stats *out,
                           cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = stats_unlocked(q, queue, now_ms, out, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queue_redrive(em_queues *q, cs_str dlq, cs_str to, int64_t now_ms, int64_t *moved,
                          cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = redrive_unlocked(q, dlq, to, now_ms, moved, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}

cs_error em_queues_schedule_anchor(em_queues *q, const char *rule, cs_str expression,
                                   int64_t now_ms, int64_t *anchor_ms, cs_diag *diag)
{
    pthread_mutex_lock(&q->mu);
    cs_error r = anchor_unlocked(q, rule, expression, now_ms, anchor_ms, diag);
    pthread_mutex_unlock(&q->mu);
    return r;
}
