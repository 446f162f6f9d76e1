#include "schedule.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"

enum { YEAR_MIN = 1970, YEAR_MAX = 2199 };

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* value min + i for names[i] */
} field_spec;

static cs_error bad(cs_diag *diag, const field_spec *f, cs_str element, const char *why)
{
    return cs_diag_set(diag, CS_ERR_CONFIG, "cron %s '%.*s': %s", f->name, CS_STR_FMT(element),
                       why);
}

/* A number or a three-letter name. */
static bool value_of(const field_spec *f, cs_str text, int *out)
{
    int64_t n;
    if (cs_parse_int64(text, &n) == CS_ERR_OK) {
        *out = (int)n;
        return n >= f->min && n <= f->max;
    }
    for (int i = 0; f->names && i <= f->max - f->min; i++) {
        if (cs_str_eq_nocase(text, cs_str_from_c(f->names[i]))) {
            *out = f->min + i;
            return true;
        }
    }
    return false;
}

static void set_bit(uint64_t *bits, int v)
{
    bits[v / 64] |= (uint64_t)1 << (v % 64);
}

static bool has_bit(const uint64_t *bits, int v)
{
    return (bits[v / 64] >> (v % 64)) & 1;
}

/* "*", "N", "A-B", any of them with "/STEP"; sets bits (value - offset). */
static cs_error parse_element(const field_spec *f, cs_str e, int offset, uint64_t *bits,
                              cs_diag *diag)
{
    long slash = cs_str_find_char(e, '/', 0);
    cs_str range = slash < 0 ? e : cs_str_sub(e, 0, (size_t)slash);
    int64_t step = 1;
    if (slash >= 0 &&
        (cs_parse_int64(cs_str_sub(e, (size_t)slash + 1, e.len), &step) || step < 1)) {
        return bad(diag, f, e, "the step must be a positive number");
    }
    int lo = f->min, hi = f->max;
    if (!cs_str_eq_c(range, "*")) {
        long dash = cs_str_find_char(range, '-', 0);
        cs_str first = dash < 0 ? range : cs_str_sub(range, 0, (size_t)dash);
        if (!value_of(f, first, &lo)) {
            return bad(diag, f, e, "value out of range");
        }
        hi = dash < 0 ? (slash < 0 ? lo : f->max) : f->max;
        if (dash >= 0 && !value_of(f, cs_str_sub(range, (size_t)dash + 1, range.len), &hi)) {
            return bad(diag, f, e, "value out of range");
        }
        if (hi < lo) {
            return bad(diag, f, e, "the range runs backwards");
        }
    }
    for (int v = lo; v <= hi; v += (int)step) {
        set_bit(bits, v - offset);
    }
    return CS_ERR_OK;
}

static cs_error parse_list(const field_spec *f, cs_str text, int offset, uint64_t *bits,
                           cs_diag *diag)
{
    size_t pos = 0;
    while (pos <= text.len) {
        long comma = cs_str_find_char(text, ',', pos);
        size_t end = comma < 0 ? text.len : (size_t)comma;
        cs_str element = cs_str_sub(text, pos, end - pos);
        if (element.len == 0) {
            return bad(diag, f, text, "empty list element");
        }
        cs_error r = parse_element(f, element, offset, bits, diag);
        if (r) {
            return r;
        }
        pos = end + 1;
    }
    return CS_ERR_OK;
}

static const field_spec MINUTES = {"minutes", 0, 59, NULL};
static const field_spec HOURS = {"hours", 0, 23, NULL};
static const field_spec DAYS = {"day-of-month", 1, 31, NULL};
static const field_spec MONTHS = {"month", 1, 12, month_names};
static const field_spec WEEKDAYS = {"day-of-week", 1, 7, day_names};
static const field_spec YEARS = {"year", YEAR_MIN, YEAR_MAX, NULL};

static cs_error parse_days(cs_str text, em_schedule *s, cs_diag *diag)
{
    int64_t n;
    if (cs_str_eq_c(text, "?")) {
        s->days_any = true;
    } else if (cs_str_eq_c(text, "L")) {
        s->last_day = true;
    } else if (cs_str_eq_c(text, "LW")) {
        s->nearest_weekday = 32;
    } else if (text.len > 1 && text.ptr[text.len - 1] == 'W') {
        if (cs_parse_int64(cs_str_sub(text, 0, text.len - 1), &n) || n < 1 || n > 31) {
            return bad(diag, &DAYS, text, "W needs a day from 1 to 31");
        }
        s->nearest_weekday = (int)n;
    } else {
        return parse_list(&DAYS, text, 0, &s->days.bits, diag);
    }
    return CS_ERR_OK;
}

static cs_error parse_weekdays(cs_str text, em_schedule *s, bool *any, cs_diag *diag)
{
    int v;
    long hash = cs_str_find_char(text, '#', 0);
    *any = false;
    if (cs_str_eq_c(text, "?")) {
        *any = true;
    } else if (cs_str_eq_c(text, "L")) {
        s->last_weekday = 7; /* the last day of the week: Saturday */
    } else if (text.len > 1 && text.ptr[text.len - 1] == 'L') {
        if (!value_of(&WEEKDAYS, cs_str_sub(text, 0, text.len - 1), &s->last_weekday)) {
            return bad(diag, &WEEKDAYS, text, "L needs a day from 1 to 7 or SUN to SAT");
        }
    } else if (hash > 0) {
        int64_t k;
        if (!value_of(&WEEKDAYS, cs_str_sub(text, 0, (size_t)hash), &v) ||
            cs_parse_int64(cs_str_sub(text, (size_t)hash + 1, text.len), &k) || k < 1 || k > 5) {
            return bad(diag, &WEEKDAYS, text, "expected DAY#N with N from 1 to 5");
        }
        s->nth_weekday = v;
        s->nth = (int)k;
    } else {
        return parse_list(&WEEKDAYS, text, 0, &s->weekdays.bits, diag);
    }
    return CS_ERR_OK;
}

static cs_error parse_rate(cs_str body, em_schedule *s, cs_diag *diag)
{
    long space = cs_str_find_char(body, ' ', 0);
    int64_t n;
    cs_str unit = space < 0 ? CS_STR_NULL : cs_str_trim(cs_str_sub(body, (size_t)space, body.len));
    if (space < 0 || cs_parse_int64(cs_str_sub(body, 0, (size_t)space), &n) || n < 1) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "rate(%.*s): expected 'rate(N unit)' with N > 0",
                           CS_STR_FMT(body));
    }
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {
        {"minute", "minutes", 60000}, {"hour", "hours", 3600000}, {"day", "days", 86400000}};
    for (size_t i = 0; i < 3; i++) {
        /* EventBridge insists on "1 minute" but "5 minutes". */
        if (cs_str_eq_c(unit, n == 1 ? units[i].one : units[i].many)) {
            s->is_rate = true;
            s->rate_ms = n * units[i].ms;
            return CS_ERR_OK;
        }
    }
    return cs_diag_set(diag, CS_ERR_CONFIG, "rate(%.*s): the unit must be %s", CS_STR_FMT(body),
                       n == 1 ? "minute, hour or day" : "minutes, hours or days");
}

static cs_error parse_cron(cs_str body, em_schedule *s, cs_diag *diag)
{
    cs_str f[6];
    size_t count = 0, pos = 0;
    while (pos < body.len && count < 7) {
        while (pos < body.len && body.ptr[pos] == ' ') {
            pos++;
        }
        size_t start = pos;
        while (pos < body.len && body.ptr[pos] != ' ') {
            pos++;
        }
        if (pos > start && count < 6) {
            f[count] = cs_str_sub(body, start, pos - start);
        }
        count += pos > start;
    }
    if (count != 6) {
        return cs_diag_set(diag, CS_ERR_CONFIG,
                           "cron(%.*s): expected six fields (minutes hours day-of-month month "
                           "day-of-week year)",
                           CS_STR_FMT(body));
    }
    bool weekdays_any;
    cs_error r = parse_list(&MINUTES, f[0], 0, &s->minutes.bits, diag);
    r = r ? r : parse_list(&HOURS, f[1], 0, &s->hours.bits, diag);
    r = r ? r : parse_days(f[2], s, diag);
    r = r ? r : parse_list(&MONTHS, f[3], 0, &s->months.bits, diag);
    r = r ? r : parse_weekdays(f[4], s, &weekdays_any, diag);
    r = r ? r : parse_list(&YEARS, f[5], YEAR_MIN, s->year_bits, diag);
    if (!r && s->days_any == weekdays_any) {
        r = cs_diag_set(diag, CS_ERR_CONFIG,
                        "cron(%.*s): exactly one of day-of-month and day-of-week must be '?'",
                        CS_STR_FMT(body));
    }
    return r;
}

cs_error em_schedule_parse(cs_str expression, cs_str timezone, em_schedule *out, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    cs_str e = cs_str_trim(expression);
    if (timezone.len >= sizeof(out->timezone) ||
        memchr(timezone.ptr ? timezone.ptr : "", '.', timezone.len)) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "unknown time zone '%.*s'", CS_STR_FMT(timezone));
    }
    snprintf(out->timezone, sizeof(out->timezone), "%.*s", CS_STR_FMT(timezone));
    if (timezone.len && !cs_str_eq_c(timezone, "UTC")) {
        char path[128];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", out->timezone);
        if (access(path, R_OK) != 0) {
            return cs_diag_set(diag, CS_ERR_CONFIG, "unknown time zone '%s'", out->timezone);
        }
    }
    bool closed = e.len > 0 && e.ptr[e.len - 1] == ')';
    if (closed && cs_str_starts_with(e, CS_STR_LIT("rate("))) {
        return parse_rate(cs_str_trim(cs_str_sub(e, 5, e.len - 6)), out, diag);
    }
    if (closed && cs_str_starts_with(e, CS_STR_LIT("cron("))) {
        return parse_cron(cs_str_trim(cs_str_sub(e, 5, e.len - 6)), out, diag);
    }
    return cs_diag_set(diag, CS_ERR_CONFIG, "'%.*s': expected rate(...) or cron(...)",
                       CS_STR_FMT(e));
}

/* ---- the calendar ---- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* 1 is Sunday, 7 Saturday; 1970-01-01 was a Thursday. */
static int weekday(int y, int m, int d)
{
    int64_t days = days_from_civil(y, m, d);
    return (int)(((days + 4) % 7 + 7) % 7) + 1;
}

static int nearest_weekday(int y, int m, int day)
{
    int dim = days_in_month(y, m);
    int t = day > dim ? dim : day;
    int w = weekday(y, m, t);
    if (w == 7) { /* Saturday: Friday, unless that leaves the month */
        return t > 1 ? t - 1 : t + 2;
    }
    if (w == 1) { /* Sunday: Monday, unless that leaves the month */
        return t < dim ? t + 1 : t - 2;
    }
    return t;
}

static bool day_matches(const em_schedule *s, int y, int m, int d)
{
    int dim = days_in_month(y, m);
    if (!s->days_any) {
        if (s->last_day) {
            return d == dim;
        }
        if (s->nearest_weekday) {
            return d == nearest_weekday(y, m, s->nearest_weekday);
        }
        return (s->days.bits >> d) & 1;
    }
    int w = weekday(y, m, d);
    if (s->last_weekday) {
        return w == s->last_weekday && d + 7 > dim;
    }
    if (s->nth_weekday) {
        return w == s->nth_weekday && (d - 1) / 7 + 1 == s->nth;
    }
    return (s->weekdays.bits >> w) & 1;
}

/* Local calendar time in the schedule's zone to epoch seconds, and back.
 * The zone is switched through TZ under a lock: the C library has no other
 * way, and the scheduler computes one firing at a time. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct local_time {
    int year, month, day, hour, minute;
} local_time;

static void with_zone(const char *zone, char *saved, size_t saved_len)
{
    const char *old = getenv("TZ");
    snprintf(saved, saved_len, "%s", old ? old : "");
    setenv("TZ", zone[0] ? zone : "UTC", 1);
    tzset();
}

static void restore_zone(const char *saved)
{
    if (saved[0]) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static local_time to_local(const char *zone, int64_t seconds)
{
    char saved[128];
    pthread_mutex_lock(&tz_lock);
    with_zone(zone, saved, sizeof(saved));
    time_t t = (time_t)seconds;
    struct tm tm;
    localtime_r(&t, &tm);
    restore_zone(saved);
    pthread_mutex_unlock(&tz_lock);
    local_time lt = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min};
    return lt;
}

static int64_t from_local(const char *zone, local_time lt)
{
    char saved[128];
    pthread_mutex_lock(&tz_lock);
    with_zone(zone, saved, sizeof(saved));
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = lt.year - 1900;
    tm.tm_mon = lt.month - 1;
    tm.tm_mday = lt.day;
    tm.tm_hour = lt.hour;
    tm.tm_min = lt.minute;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    restore_zone(saved);
    pthread_mutex_unlock(&tz_lock);
    return (int64_t)t;
}

/* The first matching (hour, minute) at or after from_minute of the day; -1 if none. */
static int first_time(const em_schedule *s, int from_minute)
{
    for (int m = from_minute; m < 24 * 60; m++) {
        if (((s->hours.bits >> (m / 60)) & 1) && ((s->minutes.bits >> (m % 60)) & 1)) {
            return m;
        }
    }
    return -1;
}

int64_t em_schedule_next(const em_schedule *s, int64_t start_ms, int64_t after_ms)
{
    if (s->is_rate) {
        if (after_ms < start_ms) {
            return start_ms + s->rate_ms;
        }
        return start_ms + ((after_ms - start_ms) / s->rate_ms + 1) * s->rate_ms;
    }
    /* From the next whole minute after `after`, in the schedule's zone. */
    int64_t seconds = after_ms / 1000 - ((after_ms / 1000) % 60 + 60) % 60 + 60;
    local_time lt = to_local(s->timezone, seconds);
    int from_minute = lt.hour * 60 + lt.minute;
    int y = lt.year, m = lt.month, d = lt.day;
    while (y <= YEAR_MAX) {
        bool month_ok = has_bit(s->year_bits, y - YEAR_MIN) && ((s->months.bits >> m) & 1);
        int minute = month_ok && day_matches(s, y, m, d) ? first_time(s, from_minute) : -1;
        if (minute >= 0) {
            local_time at = {y, m, d, minute / 60, minute % 60};
            int64_t fire = from_local(s->timezone, at) * 1000;
            if (fire > after_ms) {
                return fire;
            }
            from_minute = minute + 1; /* a DST fold mapped it earlier: look later that day */
            continue;
        }
        from_minute = 0;
        if (!month_ok || ++d > days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    return -1;
}
