/* An order changed in its storefront after its export: MAX's order is
 * changed to match, with the bridge's PATCH (docs/exactmax-bridge.md).
 *
 * What MAX should have is the create's own body for the order as it is now
 * (cs_exactmax_order_encode), so a line an edit adds gets the price,
 * stockroom and due date a create would give it. Against MAX's order, part
 * by part (discount and freight lines too, when they go as lines):
 * - more units: the part's last line grows;
 * - fewer: its lines shrink from the last, none below what it has shipped.
 *   Shipped units cannot be taken back by an edit (that is a return, a
 *   credit memo), so such an edit is the record's error;
 * - a part MAX has not got: its lines are added, numbered after MAX's last;
 * - a part on one line on each side whose price changed: the new price.
 * The ship-to address follows when it changed.
 *
 * Deliveries come in any order, and an older version of the order must
 * never undo a newer one. Before MAX is changed, the order's revision (its
 * updated_at) is raised in the state store, in a cursor, which only moves
 * forward; a version older than the revision there is not applied. The
 * PATCH carries the row version the change was computed from, so a change
 * made in between is a conflict: a retry, which reads both again. */
#include <stdarg.h>
#include <stdio.h>

#include "core/money.h"
#include "export/export.h"

/* A part's lines on one side, by part number in order of appearance. */
typedef struct part_lines {
    cs_str part;
    int64_t units;
    size_t count;         /* lines of the part */
    const cs_json *first; /* the first line; its price */
    const cs_json *last;
} part_lines;

typedef struct side {
    part_lines *parts;
    size_t count;
} side;

static cs_str text_of(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && (v->type == CS_JSON_STRING || v->type == CS_JSON_NUMBER) ? v->text : CS_STR_NULL;
}

/* A whole quantity ("3", "3.0000"); 0 when there is none. */
static int64_t whole(const cs_json *line, const char *key)
{
    int64_t units = 0;
    return cs_decimal_parse(text_of(line, key), 0, &units, NULL) ? 0 : units;
}

/* A line's units: MAX's current quantity when it has one. */
static int64_t units_of(const cs_json *line, bool in_max)
{
    return whole(line, in_max && text_of(line, "curQty").len ? "curQty" : "qty");
}

static part_lines *find_part(const side *s, cs_str part)
{
    for (size_t i = 0; i < s->count; i++) {
        if (cs_str_eq(s->parts[i].part, part)) {
            return &s->parts[i];
        }
    }
    return NULL;
}

/* lines grouped by part (parts has room for every line). */
static void group(const cs_json *lines, bool in_max, side *out)
{
    for (const cs_json *l = lines ? lines->first : NULL; l; l = l->next) {
        cs_str part = text_of(l, "prtNum");
        part_lines *p = find_part(out, part);
        if (!p) {
            p = &out->parts[out->count++];
            *p = (part_lines){.part = part, .first = l};
        }
        p->units += units_of(l, in_max);
        p->count++;
        p->last = l;
    }
}

static bool same_amount(cs_str a, cs_str b)
{
    int64_t x = 0, y = 0;
    return !cs_decimal_parse(a, 4, &x, NULL) && !cs_decimal_parse(b, 4, &y, NULL) && x == y;
}

/* An edit being written: the PATCH's lines, and what it does in words for
 * the record's log line or error ("P-1 x2 -> x1, P-7 x0 -> x2"). */
typedef struct edit {
    cs_json_writer *w;
    char said[160];
    size_t said_len;
    size_t changes;
} edit;

/* One more change in words, after a comma; what does not fit is left out. */
static void say(edit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(edit *e, const char *fmt, ...)
{
    char one[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(one, sizeof(one), fmt, ap);
    va_end(ap);
    size_t room = sizeof(e->said) - e->said_len;
    int n = snprintf(e->said + e->said_len, room, "%s%s", e->said_len ? ", " : "", one);
    e->said_len = n > 0 && (size_t)n < room ? e->said_len + (size_t)n : e->said_len;
}

static void say_units(edit *e, cs_str part, int64_t before, int64_t after)
{
    say(e, "%.*s x%lld -> x%lld", CS_STR_FMT(part), (long long)before, (long long)after);
}

static void line_change(edit *e, const cs_json *line, int64_t units, cs_str price)
{
    cs_json_writer *w = e->w;
    char qty[24];
    snprintf(qty, sizeof(qty), "%lld", (long long)units);
    cs_json_write_object_begin(w);
    cs_json_write_key_c(w, "linNum");
    cs_json_write_string(w, text_of(line, "linNum"));
    cs_json_write_key_c(w, "qty");
    cs_json_write_string_c(w, qty);
    if (price.len) {
        cs_json_write_key_c(w, "price");
        cs_json_write_string(w, price);
    }
    cs_json_write_object_end(w);
    e->changes++;
}

/* A part both sides have: its units up or down, and its price. Units that
 * shipped cannot go: CS_ERR_INVALID_ARGUMENT naming the part. */
static cs_error change_part(edit *e, const cs_json *max_lines, const part_lines *was,
                            const part_lines *now, cs_arena *arena, cs_diag *diag)
{
    cs_str price = CS_STR_NULL;
    if (was->count == 1 && now->count == 1 &&
        !same_amount(text_of(was->first, "price"), text_of(now->first, "price"))) {
        price = text_of(now->first, "price");
    }
    int64_t delta = now->units - was->units;
    if (delta > 0 || (delta == 0 && price.len)) {
        line_change(e, was->last, units_of(was->last, true) + delta, price);
    }
    /* Fewer: from the part's last line back, each down to what it shipped. */
    const cs_json **mine = cs_arena_calloc(arena, was->count + 1, sizeof(*mine));
    if (!mine) {
        return cs_arena_full(arena, diag);
    }
    size_t n = 0;
    for (const cs_json *l = max_lines->first; l; l = l->next) {
        mine[n] = l;
        n += cs_str_eq(text_of(l, "prtNum"), was->part);
    }
    int64_t shipped = 0;
    for (size_t i = n; i-- > 0 && delta < 0;) {
        int64_t units = units_of(mine[i], true), sent = whole(mine[i], "shpQty");
        int64_t take = units - sent < -delta ? units - sent : -delta;
        shipped += sent;
        if (take > 0) {
            line_change(e, mine[i], units - take, price);
            delta += take;
        }
    }
    if (delta < 0) {
        cs_diag_set_field(diag, "lines");
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT,
                           "lines: %.*s x%lld -> x%lld, but MAX has shipped %lld: an edit cannot "
                           "take back shipped units (a return credits them)",
                           CS_STR_FMT(was->part), (long long)was->units, (long long)now->units,
                           (long long)shipped);
    }
    if (was->units != now->units) {
        say_units(e, was->part, was->units, now->units);
    }
    return CS_ERR_OK;
}

/* A part MAX has not got: each of its lines, numbered after MAX's last. */
static void add_part(edit *e, const cs_json *lines, const part_lines *now, int64_t *number)
{
    for (const cs_json *l = lines->first; l; l = l->next) {
        if (!cs_str_eq(text_of(l, "prtNum"), now->part)) {
            continue;
        }
        cs_json_writer *w = e->w;
        cs_json_write_object_begin(w);
        cs_json_write_key_c(w, "linNum");
        cs_json_write_int64(w, ++*number);
        static const char *const keys[] = {"prtNum", "qty", "price", "stk", "dueDate", "slsUom"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            cs_str v = text_of(l, keys[k]);
            if (v.len) {
                cs_json_write_key_c(w, keys[k]);
                cs_json_write_string(w, v);
            }
        }
        cs_json_write_object_end(w);
        e->changes++;
    }
    say_units(e, now->part, 0, now->units);
}

/* The "lines" of the PATCH: MAX's lines made the order's. */
static cs_error change_lines(edit *e, const cs_json *max_lines, const cs_json *want_lines,
                             cs_arena *arena, cs_diag *diag)
{
    size_t n_max = max_lines ? max_lines->count : 0, n_want = want_lines ? want_lines->count : 0;
    side was = {cs_arena_calloc(arena, n_max + 1, sizeof(part_lines)), 0};
    side now = {cs_arena_calloc(arena, n_want + 1, sizeof(part_lines)), 0};
    if (!was.parts || !now.parts) {
        return cs_arena_full(arena, diag);
    }
    group(max_lines, true, &was);
    group(want_lines, false, &now);
    int64_t last = 0;
    for (const cs_json *l = max_lines ? max_lines->first : NULL; l; l = l->next) {
        int64_t n = 0;
        last = !cs_parse_int64(text_of(l, "linNum"), &n) && n > last ? n : last;
    }
    cs_json_write_key_c(e->w, "lines");
    cs_json_write_array_begin(e->w);
    cs_error r = CS_ERR_OK;
    for (size_t i = 0; i < now.count && !r; i++) {
        const part_lines *before = find_part(&was, now.parts[i].part);
        if (before) {
            r = change_part(e, max_lines, before, &now.parts[i], arena, diag);
        } else {
            add_part(e, want_lines, &now.parts[i], &last);
        }
    }
    for (size_t i = 0; i < was.count && !r; i++) {
        if (!find_part(&now, was.parts[i].part) && was.parts[i].units > 0) {
            part_lines gone = {.part = was.parts[i].part};
            r = change_part(e, max_lines, &was.parts[i], &gone, arena, diag);
        }
    }
    cs_json_write_array_end(e->w);
    return r;
}

/* The ship-to address, when MAX's differs in a field it keeps. */
static void change_ship_to(edit *e, const cs_json *max_order, const cs_json *want)
{
    const cs_json *was = cs_json_object_get(max_order, CS_STR_LIT("shipTo"));
    const cs_json *now = cs_json_object_get(want, CS_STR_LIT("shipTo"));
    bool same = true;
    for (const cs_json *f = was ? was->first : NULL; f && same; f = f->next) {
        char key[32];
        snprintf(key, sizeof(key), "%.*s", CS_STR_FMT(f->key));
        same = cs_str_eq(f->text, text_of(now, key));
    }
    if (same || !now) {
        return;
    }
    cs_json_write_key_c(e->w, "shipTo");
    cs_json_write_object_begin(e->w);
    for (const cs_json *f = now->first; f; f = f->next) {
        cs_json_write_key(e->w, f->key);
        cs_json_write_string(e->w, f->text);
    }
    cs_json_write_object_end(e->w);
    say(e, "ship-to");
    e->changes++;
}

/* Whether a newer version of the order than this one has been applied (or
 * is being applied): the revision raised first, then read back. */
static cs_error superseded(cs_export *x, const cs_export_job *job, bool *newer, cs_diag *diag)
{
    const char *source = cs_system_name(job->source);
    char key[160];
    snprintf(key, sizeof(key), "%.*s", CS_STR_FMT(job->key));
    int64_t version = job->order->updated_at_ms;
    cs_cursor mine = {.updated_at_ms = version}, there;
    bool found = false;
    cs_error r = cs_state_cursor_put(x->flow.state, "order-revision", source, key, &mine, diag);
    if (!r) {
        r = cs_state_cursor_get(x->flow.state, "order-revision", source, key, &there, &found, diag);
    }
    *newer = !r && found && there.updated_at_ms > version;
    return r;
}

/* The order as it is now, as the create would send it; and MAX's. */
static cs_error read_both(cs_export *x, const cs_export_job *job, const char *ord_num,
                          cs_arena *arena, const cs_json **want, const cs_json **max_order,
                          cs_diag *diag)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json *doc = NULL;
    cs_error r = cs_export_encode(x, job, NULL, CS_STR_NULL, arena, &body, diag);
    /* The parse keeps views of its text, which must outlive body. */
    char *text = r ? NULL : cs_arena_strndup(arena, cs_buf_view(&body));
    if (!r) {
        r = text ? cs_json_parse(arena, cs_str_make(text, body.len), &doc, diag)
                 : cs_arena_full(arena, diag);
    }
    cs_buf_clean_up(&body);
    *want = doc;
    return r ? r
             : cs_exactmax_get_order(x->systems.max, cs_str_from_c(ord_num), arena, max_order,
                                     diag);
}

static cs_outcome failed(cs_error e)
{
    return e == CS_ERR_HTTP_CONFLICT || cs_export_transient(e) ? CS_OUTCOME_RETRY
                                                               : CS_OUTCOME_FAILED;
}

cs_outcome cs_export_edit(cs_export *x, const cs_export_job *job, const char *ord_num,
                          cs_arena *arena, cs_error *error, cs_diag *diag)
{
    const cs_json *want = NULL, *max_order = NULL;
    *error = read_both(x, job, ord_num, arena, &want, &max_order, diag);
    if (*error) {
        return failed(*error);
    }
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    edit e = {.w = &w};
    cs_json_write_object_begin(&w);
    *error = change_lines(&e, cs_json_object_get(max_order, CS_STR_LIT("lines")),
                          cs_json_object_get(want, CS_STR_LIT("lines")), arena, diag);
    change_ship_to(&e, max_order, want);
    cs_json_write_object_end(&w);
    cs_error written = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    *error = *error ? *error : written;
    bool newer = false;
    if (!*error && e.changes) {
        *error = superseded(x, job, &newer, diag);
    }
    if (!*error && e.changes && !newer) {
        const cs_json *after = NULL;
        *error =
            cs_exactmax_update_order(x->systems.max, cs_str_from_c(ord_num), cs_buf_view(&body),
                                     text_of(max_order, "rowVersion"), arena, &after, diag);
    }
    cs_buf_clean_up(&body);
    if (*error) {
        return failed(*error);
    }
    if (!e.changes || newer) {
        return CS_OUTCOME_DUPLICATE;
    }
    CS_LOG(x->flow.log, CS_LOG_INFO, "order changed", CS_LOG_STR("sourceId", job->key),
           CS_LOG_CSTR("targetId", ord_num), CS_LOG_CSTR("changes", e.said));
    return CS_OUTCOME_WRITTEN;
}
