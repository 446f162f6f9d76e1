#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/base64.h"

/* RFC 4648, section 10. */
static const char *vectors[][2] = {{"", ""},
                                   {"f", "Zg=="},
                                   {"fo", "Zm8="},
                                   {"foo", "Zm9v"},
                                   {"foob", "Zm9vYg=="},
                                   {"fooba", "Zm9vYmE="},
                                   {"foobar", "Zm9vYmFy"}};

static void encodes_and_decodes_the_rfc_vectors(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        cs_buf enc, dec;
        cs_buf_init(&enc, 0);
        cs_buf_init(&dec, 0);
        assert_int_equal(cs_base64_encode(cs_str_from_c(vectors[i][0]), &enc), CS_ERR_OK);
        assert_int_equal(enc.len, cs_base64_encoded_len(strlen(vectors[i][0])));
        assert_memory_equal(enc.data ? enc.data : "", vectors[i][1], enc.len);
        assert_int_equal(cs_base64_decode(cs_str_from_c(vectors[i][1]), &dec, NULL), CS_ERR_OK);
        assert_int_equal(dec.len, strlen(vectors[i][0]));
        assert_memory_equal(dec.data ? dec.data : "", vectors[i][0], dec.len);
        cs_buf_clean_up(&enc);
        cs_buf_clean_up(&dec);
    }
}

static void binary_round_trips(void **st)
{
    (void)st;
    char all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (char)i;
    }
    cs_buf enc, dec;
    cs_buf_init(&enc, 0);
    cs_buf_init(&dec, 0);
    assert_int_equal(cs_base64_encode(cs_str_make(all, 256), &enc), CS_ERR_OK);
    assert_int_equal(cs_base64_decode(cs_str_make(enc.data, enc.len), &dec, NULL), CS_ERR_OK);
    assert_int_equal(dec.len, 256);
    assert_memory_equal(dec.data, all, 256);
    cs_buf_clean_up(&enc);
    cs_buf_clean_up(&dec);
}

static void bad_input_names_the_byte(void **st)
{
    (void)st;
    static const char *cases[][2] = {
        {"Zm9", "base64: length 3 is not a multiple of 4"},
        {"Zm9v!mFy", "base64: byte 4 (0x21) is not in the alphabet"},
        {"Zg==Zm9v", "base64: padding at byte 2 before the end"},
        {"Z===", "base64: byte 1 (0x3d) is not in the alphabet"},
        {"Zm 9", "base64: byte 2 (0x20) is not in the alphabet"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cs_buf out;
        cs_buf_init(&out, 0);
        cs_diag diag;
        assert_int_equal(cs_base64_decode(cs_str_from_c(cases[i][0]), &out, &diag),
                         CS_ERR_INVALID_ARGUMENT);
        assert_string_equal(diag.message, cases[i][1]);
        cs_buf_clean_up(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_and_decodes_the_rfc_vectors),
        cmocka_unit_test(binary_round_trips),
        cmocka_unit_test(bad_input_names_the_byte),
    };
    return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
