/* The SQLite state backend: one database file and a snapshot directory.
 * WAL mode and BEGIN IMMEDIATE make check-and-set atomic across processes. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"

typedef struct sqlite_state {
    cs_state base;
    sqlite3 *db;
    char snapshot_dir[512];
} sqlite_state;

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS cursors (key TEXT PRIMARY KEY, ts INTEGER NOT NULL,"
    " id TEXT NOT NULL, ord TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, status TEXT NOT NULL,"
    " owner TEXT, lease_until INTEGER, result TEXT, expires_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS idmap (key TEXT NOT NULL, to_system TEXT NOT NULL,"
    " to_id TEXT NOT NULL, PRIMARY KEY (key, to_system));"
    "CREATE TABLE IF NOT EXISTS errors (correlation_id TEXT PRIMARY KEY, flow TEXT NOT NULL,"
    " code TEXT NOT NULL, message TEXT, attempts INTEGER NOT NULL, status TEXT NOT NULL,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS errors_by_status ON errors (status, created);";

static cs_error db_error(sqlite_state *st, const char *what, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_STORAGE, "SQLite %s: %s", what, sqlite3_errmsg(st->db));
}

/* Prepares one statement; callers bind its parameters. */
static cs_error prepare(sqlite_state *st, const char *sql, sqlite3_stmt **stmt, cs_diag *diag)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        return db_error(st, "prepare", diag);
    }
    return CS_ERR_OK;
}

static void bind_text(sqlite3_stmt *stmt, int index, cs_str text)
{
    sqlite3_bind_text(stmt, index, text.ptr ? text.ptr : "", (int)text.len, SQLITE_TRANSIENT);
}

static void bind_c(sqlite3_stmt *stmt, int index, const char *text)
{
    bind_text(stmt, index, cs_str_from_c(text));
}

/* Runs a statement that returns no rows; finalizes it. */
static cs_error run(sqlite_state *st, sqlite3_stmt *stmt, const char *what, cs_diag *diag)
{
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? CS_ERR_OK : db_error(st, what, diag);
}

static cs_error exec(sqlite_state *st, const char *sql, cs_diag *diag)
{
    char *message = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        cs_diag_set(diag, CS_ERR_STORAGE, "SQLite: %s", message ? message : "error");
        sqlite3_free(message);
        return CS_ERR_STORAGE;
    }
    return CS_ERR_OK;
}

static void copy_column(sqlite3_stmt *stmt, int col, char *out, size_t out_len)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    snprintf(out, out_len, "%s", text ? (const char *)text : "");
}

/* ---- cursors ---- */

static cs_error cursor_get(cs_state *s, const char *key, cs_cursor *out, bool *found, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r = prepare(st, "SELECT ts, id FROM cursors WHERE key = ?", &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    if (*found) {
        out->updated_at_ms = sqlite3_column_int64(stmt, 0);
        copy_column(stmt, 1, out->id, sizeof(out->id));
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CS_ERR_OK : db_error(st, "cursor get", diag);
}

static cs_error cursor_put(cs_state *s, const char *key, const cs_cursor *c, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r = prepare(st,
                         "INSERT INTO cursors (key, ts, id, ord) VALUES (?, ?, ?, ?) ON CONFLICT "
                         "(key) DO UPDATE SET ts = excluded.ts, id = excluded.id, ord = "
                         "excluded.ord WHERE excluded.ts > ts OR (excluded.ts = ts AND "
                         "excluded.ord > ord)",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, c->updated_at_ms);
    bind_c(stmt, 3, c->id);
    char ord[CS_CURSOR_KEY_MAX];
    cs_cursor_order_key(cs_str_from_c(c->id), ord);
    bind_c(stmt, 4, ord);
    return run(st, stmt, "cursor put", diag);
}

/* ---- idempotency ---- */

static cs_error idem_decide(sqlite_state *st, const char *key, const char *owner, int64_t now_ms,
                            int64_t lease_ms, int64_t ttl_ms, cs_idem_result *out, cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(st,
                         "SELECT status, lease_until, result, expires_at FROM idempotency "
                         "WHERE key = ?",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    int rc = sqlite3_step(stmt);
    bool take = rc == SQLITE_DONE;
    if (rc == SQLITE_ROW) {
        bool done = strcmp((const char *)sqlite3_column_text(stmt, 0), "done") == 0;
        bool expired = sqlite3_column_int64(stmt, 3) <= now_ms;
        bool lease_over = sqlite3_column_int64(stmt, 1) <= now_ms;
        take = expired || (!done && lease_over);
        out->status = done ? CS_IDEM_DONE : CS_IDEM_BUSY;
        if (done) {
            copy_column(stmt, 2, out->result, sizeof(out->result));
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return db_error(st, "idempotency read", diag);
    }
    if (!take) {
        return CS_ERR_OK;
    }
    r = prepare(st,
                "INSERT OR REPLACE INTO idempotency (key, status, owner, lease_until, result, "
                "expires_at) VALUES (?, 'in_progress', ?, ?, NULL, ?)",
                &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    bind_c(stmt, 2, owner);
    sqlite3_bind_int64(stmt, 3, now_ms + lease_ms);
    sqlite3_bind_int64(stmt, 4, now_ms + ttl_ms);
    out->status = CS_IDEM_ACQUIRED;
    out->result[0] = '\0';
    return run(st, stmt, "idempotency take", diag);
}

static cs_error idem_begin(cs_state *s, const char *key, const char *owner, int64_t now_ms,
                           int64_t lease_ms, int64_t ttl_ms, cs_idem_result *out, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    /* IMMEDIATE takes the write lock up front: the read and the write that
     * follows are one decision, whoever else is racing for the key. */
    cs_error r = exec(st, "BEGIN IMMEDIATE", diag);
    if (r) {
        return r;
    }
    r = idem_decide(st, key, owner, now_ms, lease_ms, ttl_ms, out, diag);
    cs_error end = exec(st, r ? "ROLLBACK" : "COMMIT", r ? NULL : diag);
    return r ? r : end;
}

static cs_error idem_complete(cs_state *s, const char *key, const char *owner, cs_str result,
                              int64_t now_ms, int64_t ttl_ms, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r =
        prepare(st,
                "UPDATE idempotency SET status = 'done', result = ?, expires_at = ?, "
                "lease_until = NULL WHERE key = ? AND owner = ? AND status = 'in_progress'",
                &stmt, diag);
    if (r) {
        return r;
    }
    bind_text(stmt, 1, result);
    sqlite3_bind_int64(stmt, 2, now_ms + ttl_ms);
    bind_c(stmt, 3, key);
    bind_c(stmt, 4, owner);
    r = run(st, stmt, "idempotency complete", diag);
    if (!r && sqlite3_changes(st->db) == 0) {
        return cs_diag_set(diag, CS_ERR_CONDITION_FAILED,
                           "idempotency record %s is no longer held by %s", key, owner);
    }
    return r;
}

static cs_error idem_release(cs_state *s, const char *key, const char *owner, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r = prepare(st,
                         "DELETE FROM idempotency WHERE key = ? AND owner = ? AND "
                         "status = 'in_progress'",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    bind_c(stmt, 2, owner);
    return run(st, stmt, "idempotency release", diag);
}

/* ---- id maps ---- */

static cs_error idmap_insert(sqlite_state *st, const char *key, const char *system, cs_str id,
                             cs_diag *diag)
{
    sqlite3_stmt *stmt;
    cs_error r = prepare(
        st, "INSERT OR REPLACE INTO idmap (key, to_system, to_id) VALUES (?, ?, ?)", &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    bind_c(stmt, 2, system);
    bind_text(stmt, 3, id);
    return run(st, stmt, "id map put", diag);
}

static cs_error idmap_put(cs_state *s, const char *key_ab, const char *system_b, cs_str id_b,
                          const char *key_ba, const char *system_a, cs_str id_a, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    cs_error r = exec(st, "BEGIN IMMEDIATE", diag);
    if (!r) {
        r = idmap_insert(st, key_ab, system_b, id_b, diag);
    }
    if (!r) {
        r = idmap_insert(st, key_ba, system_a, id_a, diag);
    }
    cs_error end = exec(st, r ? "ROLLBACK" : "COMMIT", r ? NULL : diag);
    return r ? r : end;
}

static cs_error idmap_get(cs_state *s, const char *key, const char *to_system, char *out,
                          size_t out_len, bool *found, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r =
        prepare(st, "SELECT to_id FROM idmap WHERE key = ? AND to_system = ?", &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, key);
    bind_c(stmt, 2, to_system);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    if (*found) {
        copy_column(stmt, 0, out, out_len);
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CS_ERR_OK : db_error(st, "id map get", diag);
}

/* ---- error queue ---- */

static cs_error snapshot_path(sqlite_state *st, const char *id, char *out, size_t out_len,
                              cs_diag *diag)
{
    char name[600];
    if (cs_state_safe_name(id, name, sizeof(name))) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "correlation id is empty or too long");
    }
    int n = snprintf(out, out_len, "%s/%s.json", st->snapshot_dir, name);
    return n > 0 && (size_t)n < out_len
               ? CS_ERR_OK
               : cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "snapshot path too long");
}

/* Writes to a temporary file and renames it, so a snapshot is never half there. */
static cs_error write_snapshot(const char *path, cs_str data, cs_diag *diag)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data.ptr ? data.ptr : "", 1, data.len, f) == data.len;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return cs_diag_set(diag, CS_ERR_IO, "cannot write snapshot %s: %s", path, strerror(errno));
    }
    return CS_ERR_OK;
}

static cs_error error_record(cs_state *s, const cs_error_entry *e, cs_str snapshot, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    char path[1024];
    cs_error r = snapshot_path(st, e->correlation_id, path, sizeof(path), diag);
    if (!r) {
        r = write_snapshot(path, snapshot, diag);
    }
    sqlite3_stmt *stmt;
    if (!r) {
        r = prepare(st,
                    "INSERT INTO errors (correlation_id, flow, code, message, attempts, status, "
                    "created, updated) VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT "
                    "(correlation_id) DO UPDATE SET flow = excluded.flow, code = excluded.code, "
                    "message = excluded.message, attempts = errors.attempts + 1, "
                    "status = excluded.status, updated = excluded.updated",
                    &stmt, diag);
    }
    if (r) {
        return r;
    }
    bind_c(stmt, 1, e->correlation_id);
    bind_c(stmt, 2, e->flow);
    bind_c(stmt, 3, e->code);
    bind_c(stmt, 4, e->message);
    bind_c(stmt, 5, e->status);
    sqlite3_bind_int64(stmt, 6, e->updated_ms);
    sqlite3_bind_int64(stmt, 7, e->updated_ms);
    return run(st, stmt, "error put", diag);
}

static const char *arena_column(cs_arena *arena, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    const char *copy = cs_arena_strndup(arena, cs_str_from_c(text ? (const char *)text : ""));
    return copy ? copy : "";
}

static void read_entry(cs_arena *arena, sqlite3_stmt *stmt, cs_error_entry *e)
{
    e->correlation_id = arena_column(arena, stmt, 0);
    e->flow = arena_column(arena, stmt, 1);
    e->code = arena_column(arena, stmt, 2);
    e->message = arena_column(arena, stmt, 3);
    e->attempts = sqlite3_column_int64(stmt, 4);
    e->status = arena_column(arena, stmt, 5);
    e->created_ms = sqlite3_column_int64(stmt, 6);
    e->updated_ms = sqlite3_column_int64(stmt, 7);
}

#define ENTRY_COLUMNS "correlation_id, flow, code, message, attempts, status, created, updated"

static cs_error error_get(cs_state *s, const char *id, cs_arena *arena, cs_error_entry *out,
                          cs_buf *snapshot, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r =
        prepare(st, "SELECT " ENTRY_COLUMNS " FROM errors WHERE correlation_id = ?", &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_entry(arena, stmt, out);
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE) {
        return cs_diag_set(diag, CS_ERR_NOT_FOUND, "no error entry %s", id);
    }
    if (rc != SQLITE_ROW) {
        return db_error(st, "error get", diag);
    }
    char path[1024];
    r = snapshot ? snapshot_path(st, id, path, sizeof(path), diag) : CS_ERR_OK;
    if (r || !snapshot) {
        return r;
    }
    cs_buf_reset(snapshot);
    return cs_buf_append_file(snapshot, path, "snapshot", diag);
}

static cs_error error_set_status(cs_state *s, const char *id, const char *status, int64_t now_ms,
                                 cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r = prepare(st, "UPDATE errors SET status = ?, updated = ? WHERE correlation_id = ?",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, status);
    sqlite3_bind_int64(stmt, 2, now_ms);
    bind_c(stmt, 3, id);
    r = run(st, stmt, "error status", diag);
    if (!r && sqlite3_changes(st->db) == 0) {
        return cs_diag_set(diag, CS_ERR_NOT_FOUND, "no error entry %s", id);
    }
    return r;
}

static cs_error error_list(cs_state *s, const char *status, size_t max, cs_arena *arena,
                           cs_error_entry **out, size_t *count, cs_diag *diag)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_stmt *stmt;
    cs_error r = prepare(st,
                         "SELECT " ENTRY_COLUMNS " FROM errors WHERE status = ? "
                         "ORDER BY created, correlation_id LIMIT ?",
                         &stmt, diag);
    if (r) {
        return r;
    }
    bind_c(stmt, 1, status);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
    *out = cs_arena_calloc(arena, max ? max : 1, sizeof(**out));
    int rc;
    while (*out && (rc = sqlite3_step(stmt)) == SQLITE_ROW && *count < max) {
        read_entry(arena, stmt, &(*out)[(*count)++]);
    }
    sqlite3_finalize(stmt);
    return *out ? CS_ERR_OK : cs_arena_full(arena, diag);
}

static void close_state(cs_state *s)
{
    sqlite_state *st = (sqlite_state *)s;
    sqlite3_close(st->db);
    free(st);
}

static const cs_state_ops sqlite_ops = {
    cursor_get, cursor_put,   idem_begin, idem_complete,    idem_release, idmap_put,
    idmap_get,  error_record, error_get,  error_set_status, error_list,   close_state,
};

cs_error cs_state_open_sqlite(const char *db_path, const char *snapshot_dir, cs_state **out,
                              cs_diag *diag)
{
    sqlite_state *st = calloc(1, sizeof(*st));
    if (!st) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    st->base.ops = &sqlite_ops;
    snprintf(st->snapshot_dir, sizeof(st->snapshot_dir), "%s", snapshot_dir);
    if (mkdir(snapshot_dir, 0700) != 0 && errno != EEXIST) {
        free(st);
        return cs_diag_set(diag, CS_ERR_IO, "cannot create %s: %s", snapshot_dir, strerror(errno));
    }
    if (sqlite3_open_v2(db_path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        cs_error r = db_error(st, db_path, diag);
        sqlite3_close(st->db);
        free(st);
        return r;
    }
    sqlite3_busy_timeout(st->db, 10000);
    /* Switching a new database to WAL takes it whole, and SQLite answers
     * BUSY at once (without the busy handler) to a second process doing the
     * same, as function instances starting together do. */
    cs_error r = exec(st, schema, diag);
    for (int attempt = 0; r && sqlite3_errcode(st->db) == SQLITE_BUSY && attempt < 200; attempt++) {
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
        r = exec(st, schema, diag);
    }
    if (r) {
        close_state(&st->base);
        return r;
    }
    *out = &st->base;
    return CS_ERR_OK;
}
