#include "state.h"

#include <stdio.h>
#include <string.h>

#include "backend.h"

void cs_cursor_order_key(cs_str id, char out[CS_CURSOR_KEY_MAX])
{
    bool number = id.len > 0 && id.len <= 20 && id.ptr[0] != '0';
    for (size_t i = 0; i < id.len && number; i++) {
        number = id.ptr[i] >= '0' && id.ptr[i] <= '9';
    }
    size_t pad = number ? 20 - id.len : 0;
    size_t len = id.len < CS_CURSOR_KEY_MAX - 1 - pad ? id.len : CS_CURSOR_KEY_MAX - 1 - pad;
    memset(out, '0', pad);
    memcpy(out + pad, id.ptr, len);
    out[pad + len] = '\0';
}

bool cs_cursor_after(const cs_cursor *cursor, int64_t updated_at_ms, cs_str id)
{
    if (updated_at_ms != cursor->updated_at_ms) {
        return updated_at_ms > cursor->updated_at_ms;
    }
    char key[CS_CURSOR_KEY_MAX], at[CS_CURSOR_KEY_MAX];
    cs_cursor_order_key(id, key);
    cs_cursor_order_key(cs_str_from_c(cursor->id), at);
    return strcmp(key, at) > 0;
}

/* Joins parts with '|', escaping '|' and '\\' inside them, so no two
 * different part lists give the same key. */
static cs_error build_key(char *out, const cs_str *parts, size_t n, cs_diag *diag)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k <= parts[i].len; k++) {
            char c = k < parts[i].len ? parts[i].ptr[k] : '|';
            bool escape = k < parts[i].len && (c == '|' || c == '\\');
            if (len + 3 >= STATE_KEY_MAX) {
                return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "state key longer than %d bytes",
                                   STATE_KEY_MAX);
            }
            if (escape) {
                out[len++] = '\\';
            }
            if (i + 1 < n || k < parts[i].len) {
                out[len++] = c;
            }
        }
    }
    out[len] = '\0';
    return CS_ERR_OK;
}

#define PARTS(...)                                                                                 \
    ((const cs_str[]){__VA_ARGS__}), sizeof((const cs_str[]){__VA_ARGS__}) / sizeof(cs_str)

void cs_state_close(cs_state *s)
{
    if (s) {
        s->ops->close(s);
    }
}

cs_error cs_state_cursor_get(cs_state *s, const char *flow, const char *source, const char *store,
                             cs_cursor *out, bool *found, cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    cs_error r = build_key(key,
                           PARTS(CS_STR_LIT("cursor"), cs_str_from_c(flow), cs_str_from_c(source),
                                 cs_str_from_c(store)),
                           diag);
    return r ? r : s->ops->cursor_get(s, key, out, found, diag);
}

cs_error cs_state_cursor_put(cs_state *s, const char *flow, const char *source, const char *store,
                             const cs_cursor *cursor, cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    cs_error r = build_key(key,
                           PARTS(CS_STR_LIT("cursor"), cs_str_from_c(flow), cs_str_from_c(source),
                                 cs_str_from_c(store)),
                           diag);
    return r ? r : s->ops->cursor_put(s, key, cursor, diag);
}

static cs_error idem_key(char *key, const char *flow, cs_str record, cs_str version, cs_diag *diag)
{
    return build_key(key, PARTS(CS_STR_LIT("idem"), cs_str_from_c(flow), record, version), diag);
}

cs_error cs_state_idem_begin(cs_state *s, const char *flow, cs_str record, cs_str version,
                             const char *owner, int64_t now_ms, int64_t lease_ms, int64_t ttl_ms,
                             cs_idem_result *out, cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    memset(out, 0, sizeof(*out));
    cs_error r = idem_key(key, flow, record, version, diag);
    return r ? r : s->ops->idem_begin(s, key, owner, now_ms, lease_ms, ttl_ms, out, diag);
}

cs_error cs_state_idem_complete(cs_state *s, const char *flow, cs_str record, cs_str version,
                                const char *owner, cs_str result, int64_t now_ms, int64_t ttl_ms,
                                cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    cs_error r = idem_key(key, flow, record, version, diag);
    if (!r && result.len >= sizeof(((cs_idem_result *)0)->result)) {
        r = cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "idempotency result longer than %zu bytes",
                        sizeof(((cs_idem_result *)0)->result) - 1);
    }
    return r ? r : s->ops->idem_complete(s, key, owner, result, now_ms, ttl_ms, diag);
}

cs_error cs_state_idem_release(cs_state *s, const char *flow, cs_str record, cs_str version,
                               const char *owner, cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    cs_error r = idem_key(key, flow, record, version, diag);
    return r ? r : s->ops->idem_release(s, key, owner, diag);
}

static cs_error idmap_key(char *key, const char *entity, cs_system system, cs_str id, cs_diag *diag)
{
    return build_key(key,
                     PARTS(CS_STR_LIT("idmap"), cs_str_from_c(entity),
                           cs_str_from_c(cs_system_name(system)), id),
                     diag);
}

cs_error cs_state_idmap_put(cs_state *s, const char *entity, cs_system a, cs_str id_a, cs_system b,
                            cs_str id_b, cs_diag *diag)
{
    char key_ab[STATE_KEY_MAX], key_ba[STATE_KEY_MAX];
    if (a == CS_SYS_NONE || b == CS_SYS_NONE || id_a.len == 0 || id_b.len == 0) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "an id map needs two systems and ids");
    }
    cs_error r = idmap_key(key_ab, entity, a, id_a, diag);
    if (!r) {
        r = idmap_key(key_ba, entity, b, id_b, diag);
    }
    return r ? r
             : s->ops->idmap_put(s, key_ab, cs_system_name(b), id_b, key_ba, cs_system_name(a),
                                 id_a, diag);
}

cs_error cs_state_idmap_get(cs_state *s, const char *entity, cs_system from, cs_str id,
                            cs_system to, char *out, size_t out_len, bool *found, cs_diag *diag)
{
    char key[STATE_KEY_MAX];
    cs_error r = idmap_key(key, entity, from, id, diag);
    return r ? r : s->ops->idmap_get(s, key, cs_system_name(to), out, out_len, found, diag);
}

cs_error cs_state_safe_name(const char *id, char *out, size_t out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    if (!id || !*id) {
        return CS_ERR_INVALID_ARGUMENT;
    }
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == ':' ||
                     (*p == '.' && p != (const unsigned char *)id);
        if (n + 4 >= out_len) {
            return CS_ERR_INVALID_ARGUMENT;
        }
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return CS_ERR_OK;
}

static cs_error check_entry(const cs_error_entry *e, cs_diag *diag)
{
    if (!e->correlation_id || !*e->correlation_id || !e->flow || !e->code || !e->status) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "an error entry needs a correlation id, flow, code and status");
    }
    return CS_ERR_OK;
}

cs_error cs_state_error_record(cs_state *s, const cs_error_entry *entry, cs_str snapshot,
                               cs_diag *diag)
{
    cs_error r = check_entry(entry, diag);
    return r ? r : s->ops->error_record(s, entry, snapshot, diag);
}

cs_error cs_state_error_get(cs_state *s, const char *correlation_id, cs_arena *arena,
                            cs_error_entry *out, cs_buf *snapshot, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    return s->ops->error_get(s, correlation_id, arena, out, snapshot, diag);
}

cs_error cs_state_error_set_status(cs_state *s, const char *correlation_id, const char *status,
                                   int64_t now_ms, cs_diag *diag)
{
    return s->ops->error_set_status(s, correlation_id, status, now_ms, diag);
}

cs_error cs_state_error_list(cs_state *s, const char *status, size_t max, cs_arena *arena,
                             cs_error_entry **out, size_t *count, cs_diag *diag)
{
    *out = NULL;
    *count = 0;
    return s->ops->error_list(s, status, max, arena, out, count, diag);
}
