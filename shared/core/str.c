#include "str.h"

#include <stdint.h>
#include <string.h>

cs_str cs_str_from_c(const char *cstr)
{
    cs_str s = {cstr, cstr ? strlen(cstr) : 0};
    return s;
}

cs_str cs_str_make(const char *ptr, size_t len)
{
    cs_str s = {ptr, len};
    return s;
}

bool cs_str_eq(cs_str a, cs_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool cs_str_eq_c(cs_str a, const char *cstr)
{
    return cs_str_eq(a, cs_str_from_c(cstr));
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool cs_str_eq_nocase(cs_str a, cs_str b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool cs_str_starts_with(cs_str s, cs_str prefix)
{
    return s.len >= prefix.len && cs_str_eq(cs_str_make(s.ptr, prefix.len), prefix);
}

long cs_str_find_char(cs_str s, char c, size_t from)
{
    for (size_t i = from; i < s.len; i++) {
        if (s.ptr[i] == c) {
            return (long)i;
        }
    }
    return -1;
}

cs_str cs_str_after_last(cs_str s, char c)
{
    size_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != c) {
        i--;
    }
    return cs_str_make(s.ptr + i, s.len - i);
}

cs_str cs_str_sub(cs_str s, size_t from, size_t len)
{
    if (from > s.len) {
        from = s.len;
    }
    if (len > s.len - from) {
        len = s.len - from;
    }
    return cs_str_make(s.ptr + from, len);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

cs_str cs_str_trim(cs_str s)
{
    while (s.len > 0 && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_space(s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* Ranges follow the table in RFC 3629 section 4. */
size_t cs_utf8_sequence_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

bool cs_utf8_valid(cs_str s, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i = 0;
    while (i < s.len) {
        /* Most JSON is ASCII: skip eight bytes at a time while no high bit is set. */
        uint64_t word;
        while (i + 8 <= s.len && (memcpy(&word, p + i, 8), (word & 0x8080808080808080ULL) == 0)) {
            i += 8;
        }
        if (i == s.len) {
            break;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = cs_utf8_sequence_len(p + i, s.len - i);
        if (n == 0) {
            if (bad_offset) {
                *bad_offset = i;
            }
            return false;
        }
        i += n;
    }
    return true;
}

size_t cs_format_u64(uint64_t v, size_t min_digits, char out[20])
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < min_digits && n < sizeof(digits)) {
        digits[n++] = '0';
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }
    return n;
}
