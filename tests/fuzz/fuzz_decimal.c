/* libFuzzer target: a decimal either parses, and then formats to text that
 * parses back to the same units, or fails with a decimal error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    /* The first byte picks the exponent and the rounding. */
    int exponent = data[0] % 5;
    cs_rounding rounding = (cs_rounding)((data[0] / 5) % 3);
    cs_str text = cs_str_make((const char *)data + 1, size - 1);
    int64_t units;
    cs_error result = cs_decimal_parse_opts(text, exponent, rounding, &units, NULL);
    if (result == CS_ERR_OK) {
        char out[CS_DECIMAL_MAX];
        cs_decimal_format(units, exponent, out);
        int64_t back;
        if (cs_decimal_parse(cs_str_from_c(out), exponent, &back, NULL) != CS_ERR_OK ||
            back != units) {
            abort();
        }
    } else if (result != CS_ERR_DECIMAL_SYNTAX && result != CS_ERR_DECIMAL_PRECISION &&
               result != CS_ERR_OVERFLOW) {
        abort();
    }
    return 0;
}
