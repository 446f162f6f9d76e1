#include "timestamp.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

typedef struct cursor {
    cs_str text;
    size_t pos;
    cs_diag *diag;
} cursor;

static cs_error fail_at(cursor *c, const char *what)
{
    cs_diag_set(c->diag, CS_ERR_TIME_SYNTAX, "malformed timestamp '%.*s' at byte %zu: expected %s",
                (int)(c->text.len > 40 ? 40 : c->text.len), c->text.ptr ? c->text.ptr : "", c->pos,
                what);
    cs_diag_set_offset(c->diag, c->pos);
    return CS_ERR_TIME_SYNTAX;
}

static bool digit_here(const cursor *c)
{
    return c->pos < c->text.len && c->text.ptr[c->pos] >= '0' && c->text.ptr[c->pos] <= '9';
}

static cs_error read_digits(cursor *c, int count, int *out)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (!digit_here(c)) {
            return fail_at(c, "a digit");
        }
        value = value * 10 + (c->text.ptr[c->pos++] - '0');
    }
    *out = value;
    return CS_ERR_OK;
}

static cs_error expect_char(cursor *c, const char *accepted, const char *what)
{
    if (c->pos >= c->text.len) {
        return fail_at(c, what);
    }
    for (const char *a = accepted; *a; a++) {
        if (c->text.ptr[c->pos] == *a) {
            c->pos++;
            return CS_ERR_OK;
        }
    }
    return fail_at(c, what);
}

static cs_error range_error(cs_diag *diag, cs_str text, const char *field)
{
    return cs_diag_set(diag, CS_ERR_TIME_RANGE, "timestamp '%.*s' has an out-of-range %s",
                       (int)(text.len > 40 ? 40 : text.len), text.ptr, field);
}

/* Reads ".fraction" (optional) as milliseconds, truncating extra digits. */
static cs_error read_fraction(cursor *c, int *ms)
{
    *ms = 0;
    if (c->pos >= c->text.len || c->text.ptr[c->pos] != '.') {
        return CS_ERR_OK;
    }
    c->pos++;
    if (!digit_here(c)) {
        return fail_at(c, "a digit after '.'");
    }
    int scale = 100;
    while (digit_here(c)) {
        *ms += (c->text.ptr[c->pos++] - '0') * scale;
        scale /= 10;
    }
    return CS_ERR_OK;
}

static cs_error read_offset(cursor *c, int *offset_minutes)
{
    if (c->pos < c->text.len && (c->text.ptr[c->pos] == 'Z' || c->text.ptr[c->pos] == 'z')) {
        c->pos++;
        *offset_minutes = 0;
        return CS_ERR_OK;
    }
    if (c->pos >= c->text.len || (c->text.ptr[c->pos] != '+' && c->text.ptr[c->pos] != '-')) {
        return fail_at(c, "'Z' or a UTC offset");
    }
    int sign = c->text.ptr[c->pos++] == '-' ? -1 : 1;
    int hours;
    int minutes;
    cs_error result = read_digits(c, 2, &hours);
    if (!result) {
        result = expect_char(c, ":", "':' in the UTC offset");
    }
    if (!result) {
        result = read_digits(c, 2, &minutes);
    }
    if (result) {
        return result;
    }
    if (hours > 23 || minutes > 59) {
        return range_error(c->diag, c->text, "UTC offset");
    }
    *offset_minutes = sign * (hours * 60 + minutes);
    return CS_ERR_OK;
}

/* "YYYY-MM-DDTHH:MM:SS": digits of each field and the separator after it. */
static const struct {
    int digits;
    const char *separators;
    const char *expected;
} date_time_layout[] = {
    {4, "-", "'-'"}, {2, "-", "'-'"}, {2, "Tt ", "'T'"},
    {2, ":", "':'"}, {2, ":", "':'"}, {2, NULL, NULL},
};

cs_error cs_time_parse_rfc3339(cs_str text, int64_t *epoch_ms, int *offset_minutes, cs_diag *diag)
{
    cursor c = {text, 0, diag};
    int fields[6];
    cs_error result = CS_ERR_OK;
    for (size_t i = 0; i < 6 && !result; i++) {
        result = read_digits(&c, date_time_layout[i].digits, &fields[i]);
        if (!result && date_time_layout[i].separators) {
            result = expect_char(&c, date_time_layout[i].separators, date_time_layout[i].expected);
        }
    }
    int ms = 0;
    int offset = 0;
    if (!result) {
        result = read_fraction(&c, &ms);
    }
    if (!result) {
        result = read_offset(&c, &offset);
    }
    if (!result && c.pos != text.len) {
        result = fail_at(&c, "the end of the timestamp");
    }
    if (result) {
        return result;
    }
    int year = fields[0], month = fields[1], day = fields[2];
    int hour = fields[3], minute = fields[4], second = fields[5];
    if (month < 1 || month > 12) {
        return range_error(diag, text, "month");
    }
    if (day < 1 || day > days_in_month(year, month)) {
        return range_error(diag, text, "day");
    }
    if (hour > 23 || minute > 59 || second > 60) {
        return range_error(diag, text, "time of day");
    }
    int64_t days = days_from_civil(year, month, day);
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - (int64_t)offset * 60;
    *epoch_ms = seconds * 1000 + ms;
    if (offset_minutes) {
        *offset_minutes = offset;
    }
    return CS_ERR_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

cs_error cs_time_format_rfc3339(int64_t epoch_ms, int offset_minutes, char out[CS_TIME_RFC3339_MAX])
{
    if (offset_minutes <= -24 * 60 || offset_minutes >= 24 * 60) {
        return CS_ERR_TIME_RANGE;
    }
    /* Bound the input so the arithmetic below cannot overflow. */
    if (epoch_ms < -62167219200000LL - 86400000LL || epoch_ms > 253402300799999LL + 86400000LL) {
        return CS_ERR_TIME_RANGE;
    }
    int64_t local_ms = epoch_ms + (int64_t)offset_minutes * 60000;
    int64_t days = floor_div(local_ms, 86400000);
    int64_t ms_of_day = local_ms - days * 86400000;
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    if (year < 0 || year > 9999) {
        return CS_ERR_TIME_RANGE;
    }
    /* Written digit by digit: logs and field maps format times constantly. */
    const struct {
        uint64_t value;
        size_t digits;
        char after;
    } parts[] = {
        {(uint64_t)year, 4, '-'},
        {(uint64_t)month, 2, '-'},
        {(uint64_t)day, 2, 'T'},
        {(uint64_t)(ms_of_day / 3600000), 2, ':'},
        {(uint64_t)(ms_of_day / 60000 % 60), 2, ':'},
        {(uint64_t)(ms_of_day / 1000 % 60), 2, '.'},
        {(uint64_t)(ms_of_day % 1000), 3, '\0'},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        n += cs_format_u64(parts[i].value, parts[i].digits, out + n);
        if (parts[i].after) {
            out[n++] = parts[i].after;
        }
    }
    if (offset_minutes == 0) {
        out[n++] = 'Z';
    } else {
        int abs_offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
        out[n++] = offset_minutes < 0 ? '-' : '+';
        n += cs_format_u64((uint64_t)(abs_offset / 60), 2, out + n);
        out[n++] = ':';
        n += cs_format_u64((uint64_t)(abs_offset % 60), 2, out + n);
    }
    out[n] = '\0';
    return CS_ERR_OK;
}

static int64_t clock_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cs_time_now_ms(void)
{
    return clock_us(CLOCK_REALTIME) / 1000;
}

int64_t cs_time_monotonic_ms(void)
{
    return clock_us(CLOCK_MONOTONIC) / 1000;
}

int64_t cs_time_monotonic_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}
