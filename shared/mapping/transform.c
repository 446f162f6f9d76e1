#include "transform.h"

#include <string.h>

#include "core/json.h"
#include "core/timestamp.h"

static bool is_text(cs_field_type type)
{
    return type == CS_FIELD_STR || type == CS_FIELD_SYSTEM;
}

static cs_error wrong_type(cs_str spec, const char *wants, cs_field_type got, cs_diag *diag)
{
    return cs_diag_set(diag, CS_ERR_CONFIG, "'%.*s' applies to %s, not to a %s value",
                       CS_STR_FMT(spec), wants, cs_field_type_name(got));
}

static cs_error parse_count(cs_str spec, cs_str arg, long max, long *out, cs_diag *diag)
{
    int64_t n;
    if (cs_parse_int64(arg, &n) || n < 0 || n > max) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "'%.*s' needs a number from 0 to %ld",
                           CS_STR_FMT(spec), max);
    }
    *out = (long)n;
    return CS_ERR_OK;
}

static cs_error check_date_format(cs_str spec, cs_str format, cs_diag *diag)
{
    for (size_t i = 0; i < format.len; i++) {
        if (format.ptr[i] != '%') {
            continue;
        }
        if (++i == format.len || !strchr("YmdHMSL%", format.ptr[i])) {
            return cs_diag_set(diag, CS_ERR_CONFIG,
                               "'%.*s': only %%Y %%m %%d %%H %%M %%S %%L and %%%% are supported",
                               CS_STR_FMT(spec));
        }
    }
    return CS_ERR_OK;
}

static cs_error compile_decimal(cs_str spec, cs_str arg, cs_transform *out, cs_diag *diag)
{
    long colon = cs_str_find_char(arg, ':', 0);
    cs_str digits = colon < 0 ? arg : cs_str_sub(arg, 0, (size_t)colon);
    out->rounding = CS_ROUND_HALF_EVEN;
    if (colon >= 0) {
        cs_str mode = cs_str_sub(arg, (size_t)colon + 1, arg.len);
        if (cs_str_eq_c(mode, "half-up")) {
            out->rounding = CS_ROUND_HALF_UP;
        } else if (!cs_str_eq_c(mode, "half-even")) {
            return cs_diag_set(diag, CS_ERR_CONFIG, "'%.*s': rounding is half-even or half-up",
                               CS_STR_FMT(spec));
        }
    }
    return parse_count(spec, digits, 6, &out->n, diag);
}

cs_error cs_transform_compile(cs_str spec, cs_field_type *type, cs_transform *out, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    long colon = cs_str_find_char(spec, ':', 0);
    cs_str name = colon < 0 ? spec : cs_str_sub(spec, 0, (size_t)colon);
    cs_str arg = colon < 0 ? CS_STR_NULL : cs_str_sub(spec, (size_t)colon + 1, spec.len);
    static const struct {
        const char *name;
        cs_transform_kind kind;
        bool takes_arg;
    } known[] = {
        {"trim", CS_TX_TRIM, false},      {"upper", CS_TX_UPPER, false},
        {"lower", CS_TX_LOWER, false},    {"truncate", CS_TX_TRUNCATE, true},
        {"digits", CS_TX_DIGITS, false},  {"date", CS_TX_DATE, true},
        {"decimal", CS_TX_DECIMAL, true}, {"minor", CS_TX_MINOR, false},
    };
    size_t k = 0;
    while (k < sizeof(known) / sizeof(known[0]) && !cs_str_eq_c(name, known[k].name)) {
        k++;
    }
    if (k == sizeof(known) / sizeof(known[0])) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "unknown transform '%.*s'", CS_STR_FMT(spec));
    }
    if (known[k].takes_arg != (colon >= 0)) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "'%.*s' %s", CS_STR_FMT(name),
                           known[k].takes_arg ? "needs an argument after ':'"
                                              : "takes no argument");
    }
    out->kind = known[k].kind;
    switch (out->kind) {
    case CS_TX_TRIM:
    case CS_TX_UPPER:
    case CS_TX_LOWER:
    case CS_TX_DIGITS:
        return is_text(*type) ? CS_ERR_OK : wrong_type(spec, "text", *type, diag);
    case CS_TX_TRUNCATE:
        if (!is_text(*type)) {
            return wrong_type(spec, "text", *type, diag);
        }
        return parse_count(spec, arg, 1000000, &out->n, diag);
    case CS_TX_DATE:
        if (*type != CS_FIELD_TIME) {
            return wrong_type(spec, "times", *type, diag);
        }
        out->format = arg;
        *type = CS_FIELD_STR;
        return check_date_format(spec, arg, diag);
    case CS_TX_DECIMAL:
        if (*type != CS_FIELD_MONEY && *type != CS_FIELD_INT) {
            return wrong_type(spec, "money and integers", *type, diag);
        }
        *type = CS_FIELD_STR;
        return compile_decimal(spec, arg, out, diag);
    case CS_TX_MINOR:
        if (*type != CS_FIELD_MONEY) {
            return wrong_type(spec, "money", *type, diag);
        }
        *type = CS_FIELD_INT;
        return CS_ERR_OK;
    }
    return CS_ERR_OK;
}

static cs_str copy_to_arena(cs_arena *arena, const char *text, size_t len)
{
    char *copy = cs_arena_strndup(arena, cs_str_make(text, len));
    return copy ? cs_str_make(copy, len) : CS_STR_NULL;
}

/* The first `chars` UTF-8 characters of s (continuation bytes never start one). */
static cs_str truncate_chars(cs_str s, long chars)
{
    size_t i = 0;
    for (long seen = 0; i < s.len; i++) {
        if (((unsigned char)s.ptr[i] & 0xC0) != 0x80 && seen++ == chars) {
            break;
        }
    }
    return cs_str_sub(s, 0, i);
}

/* The other case of a code point in the scripts European customer data
 * uses (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); every pair here
 * has the same UTF-8 length, so text can be changed in place. */
static uint32_t other_case(uint32_t c, bool upper)
{
    bool is_upper;
    uint32_t partner;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
        is_upper = c <= 'Z';
        partner = is_upper ? c + 32 : c - 32;
    } else if (c >= 0xC0 && c <= 0xFE && c != 0xD7 && c != 0xF7 && c != 0xDF) {
        is_upper = c <= 0xDE;
        partner = is_upper ? c + 32 : c - 32;
    } else if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
        is_upper = c % 2 == 0;
        partner = is_upper ? c + 1 : c - 1;
    } else if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
        is_upper = c % 2 == 1;
        partner = is_upper ? c + 1 : c - 1;
    } else if ((c >= 0x391 && c <= 0x3A9 && c != 0x3A2) ||
               (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)) {
        is_upper = c <= 0x3A9;
        partner = is_upper ? c + 32 : c - 32;
    } else if (c >= 0x400 && c <= 0x45F) {
        is_upper = c <= 0x42F;
        partner = c < 0x410 ? c + 80 : c < 0x430 ? c + 32 : c < 0x450 ? c - 32 : c - 80;
    } else {
        return c;
    }
    return is_upper == upper ? c : partner;
}

static cs_error change_case(cs_value *v, bool upper, cs_arena *arena)
{
    char *p = cs_arena_strndup(arena, v->str);
    if (!p) {
        return CS_ERR_ARENA_FULL;
    }
    unsigned char *u = (unsigned char *)p;
    for (size_t i = 0; i < v->str.len;) {
        if (u[i] < 0x80) {
            u[i] = (unsigned char)other_case(u[i], upper);
            i++;
        } else if ((u[i] & 0xE0) == 0xC0 && i + 1 < v->str.len) {
            /* Every mapped code point above ASCII is two bytes long. */
            uint32_t c = ((uint32_t)(u[i] & 0x1F) << 6) | (u[i + 1] & 0x3F);
            uint32_t m = other_case(c, upper);
            u[i] = (unsigned char)(0xC0 | (m >> 6));
            u[i + 1] = (unsigned char)(0x80 | (m & 0x3F));
            i += 2;
        } else {
            i++;
        }
    }
    v->str = cs_str_make(p, v->str.len);
    return CS_ERR_OK;
}

static cs_error keep_digits(cs_value *v, cs_arena *arena)
{
    char *out = cs_arena_alloc(arena, v->str.len + 1);
    if (!out) {
        return CS_ERR_ARENA_FULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < v->str.len; i++) {
        if (v->str.ptr[i] >= '0' && v->str.ptr[i] <= '9') {
            out[n++] = v->str.ptr[i];
        }
    }
    out[n] = '\0';
    v->str = cs_str_make(out, n);
    return CS_ERR_OK;
}

static cs_error format_date(const cs_transform *t, cs_value *v, cs_arena *arena)
{
    char iso[CS_TIME_RFC3339_MAX];
    if (cs_time_format_rfc3339(v->i, 0, iso)) {
        return CS_ERR_TIME_RANGE;
    }
    /* iso is "YYYY-MM-DDTHH:MM:SS.mmmZ": each directive is a slice of it, at
     * most twice as long as the directive itself. */
    static const char directives[] = "YmdHMSL";
    static const size_t at[] = {0, 5, 8, 11, 14, 17, 20};
    static const size_t len[] = {4, 2, 2, 2, 2, 2, 3};
    char *out = cs_arena_alloc(arena, t->format.len * 2 + 1);
    if (!out) {
        return CS_ERR_ARENA_FULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->format.len; i++) {
        char c = t->format.ptr[i];
        if (c != '%') {
            out[n++] = c;
            continue;
        }
        char d = t->format.ptr[++i];
        const char *k = strchr(directives, d);
        if (d == '%' || !k) {
            out[n++] = '%';
            continue;
        }
        size_t which = (size_t)(k - directives);
        memcpy(out + n, iso + at[which], len[which]);
        n += len[which];
    }
    out[n] = '\0';
    v->str = cs_str_make(out, n);
    return CS_ERR_OK;
}

static cs_error to_decimal(const cs_transform *t, cs_value *v, cs_arena *arena, cs_diag *diag)
{
    int64_t units = v->type == CS_FIELD_MONEY ? v->money.minor_units : v->i;
    int exponent = v->type == CS_FIELD_MONEY ? v->money.currency->exponent : 0;
    int64_t rescaled;
    cs_error result = cs_decimal_rescale(units, exponent, (int)t->n, t->rounding, &rescaled);
    if (result) {
        return cs_diag_set(diag, result, "amount does not fit %ld decimal places", t->n);
    }
    char text[CS_DECIMAL_MAX];
    size_t len = cs_decimal_format(rescaled, (int)t->n, text);
    v->str = copy_to_arena(arena, text, len);
    return CS_ERR_OK;
}

cs_error cs_transform_apply(const cs_transform *t, cs_value *v, cs_arena *arena, cs_diag *diag)
{
    cs_error result = CS_ERR_OK;
    switch (t->kind) {
    case CS_TX_TRIM:
        v->str = cs_str_trim(v->str);
        break;
    case CS_TX_UPPER:
    case CS_TX_LOWER:
        result = change_case(v, t->kind == CS_TX_UPPER, arena);
        break;
    case CS_TX_TRUNCATE:
        v->str = truncate_chars(v->str, t->n);
        break;
    case CS_TX_DIGITS:
        result = keep_digits(v, arena);
        break;
    case CS_TX_DATE:
        result = format_date(t, v, arena);
        v->type = CS_FIELD_STR;
        break;
    case CS_TX_DECIMAL:
        result = to_decimal(t, v, arena, diag);
        v->type = CS_FIELD_STR;
        break;
    case CS_TX_MINOR:
        v->i = v->money.minor_units;
        v->type = CS_FIELD_INT;
        break;
    }
    if (result && diag && diag->code == CS_ERR_OK) {
        cs_diag_set(diag, result, NULL);
    }
    v->present = v->type != CS_FIELD_STR || v->str.len > 0;
    return result;
}
