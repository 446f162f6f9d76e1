/* String views: a pointer and a length, passed by value, never owning.
 * A view may contain NUL bytes and is not NUL-terminated unless made by a
 * function that says so. */
#ifndef CS_CORE_STR_H
#define CS_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cs_str {
    const char *ptr;
    size_t len;
} cs_str;

#define CS_STR_LIT(lit) ((cs_str){(lit), sizeof(lit) - 1})
#define CS_STR_NULL ((cs_str){NULL, 0})
/* For printf: printf("%.*s", CS_STR_FMT(s)). */
#define CS_STR_FMT(s) (int)(s).len, (s).ptr

/* View of a NUL-terminated string; NULL gives an empty view with NULL ptr. */
cs_str cs_str_from_c(const char *cstr);
cs_str cs_str_make(const char *ptr, size_t len);
bool cs_str_eq(cs_str a, cs_str b);
bool cs_str_eq_c(cs_str a, const char *cstr);
bool cs_str_eq_nocase(cs_str a, cs_str b);
bool cs_str_starts_with(cs_str s, cs_str prefix);
/* Index of the first `c` at or after `from`, or -1. */
long cs_str_find_char(cs_str s, char c, size_t from);
/* What follows the last `c` in s (all of s when there is none): the name at
 * the end of an ARN or a URL path. */
cs_str cs_str_after_last(cs_str s, char c);
/* The part of `s` from `from`, at most `len` bytes; clamps to s. */
cs_str cs_str_sub(cs_str s, size_t from, size_t len);
/* Without leading and trailing ASCII whitespace. */
cs_str cs_str_trim(cs_str s);

/* Writes v in decimal, at least min_digits long (zero-padded), into out
 * (no NUL) and returns the length. Hot paths use it instead of printf. */
size_t cs_format_u64(uint64_t v, size_t min_digits, char out[20]);

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF. On failure *bad_offset (when not NULL) is the offset of the first
 * byte of the first invalid sequence. */
bool cs_utf8_valid(cs_str s, size_t *bad_offset);
/* Length of the valid UTF-8 sequence starting at p (at most `left` bytes
 * available, p[0] >= 0x80), or 0 when it is not valid. */
size_t cs_utf8_sequence_len(const unsigned char *p, size_t left);

#endif
