/* The interface a state backend implements (internal to shared/state).
 * The public functions in state.c build the keys; a backend stores them. */
#ifndef CS_STATE_BACKEND_H
#define CS_STATE_BACKEND_H

#include "state.h"

enum { STATE_KEY_MAX = 1024 };

typedef struct cs_state_ops {
    cs_error (*cursor_get)(cs_state *s, const char *key, cs_cursor *out, bool *found,
                           cs_diag *diag);
    cs_error (*cursor_put)(cs_state *s, const char *key, const cs_cursor *cursor, cs_diag *diag);
    cs_error (*idem_begin)(cs_state *s, const char *key, const char *owner, int64_t now_ms,
                           int64_t lease_ms, int64_t ttl_ms, cs_idem_result *out, cs_diag *diag);
    cs_error (*idem_complete)(cs_state *s, const char *key, const char *owner, cs_str result,
                              int64_t now_ms, int64_t ttl_ms, cs_diag *diag);
    cs_error (*idem_release)(cs_state *s, const char *key, const char *owner, cs_diag *diag);
    /* Both directions at once: key_ab maps to (system_b, id_b), key_ba to (system_a, id_a). */
    cs_error (*idmap_put)(cs_state *s, const char *key_ab, const char *system_b, cs_str id_b,
                          const char *key_ba, const char *system_a, cs_str id_a, cs_diag *diag);
    cs_error (*idmap_get)(cs_state *s, const char *key, const char *to_system, char *out,
                          size_t out_len, bool *found, cs_diag *diag);
    cs_error (*error_record)(cs_state *s, const cs_error_entry *entry, cs_str snapshot,
                             cs_diag *diag);
    cs_error (*error_get)(cs_state *s, const char *id, cs_arena *arena, cs_error_entry *out,
                          cs_buf *snapshot, cs_diag *diag);
    cs_error (*error_set_status)(cs_state *s, const char *id, const char *status, int64_t now_ms,
                                 cs_diag *diag);
    cs_error (*error_list)(cs_state *s, const char *status, size_t max, cs_arena *arena,
                           cs_error_entry **out, size_t *count, cs_diag *diag);
    void (*close)(cs_state *s);
} cs_state_ops;

/* Every backend's struct starts with this. */
struct cs_state {
    const cs_state_ops *ops;
};

/* A correlation id usable as a file name or object key: letters, digits and
 * ._:- kept, everything else %XX. CS_ERR_INVALID_ARGUMENT if empty. */
cs_error cs_state_safe_name(const char *id, char *out, size_t out_len);

#endif
