/* libFuzzer target: a timestamp either parses, and then formats to text that
 * parses back to the same instant and offset, or fails with a time error. */
#include <stdint.h>
#include <stdlib.h>

#include "core/timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t ms;
    int offset;
    cs_error result =
        cs_time_parse_rfc3339(cs_str_make((const char *)data, size), &ms, &offset, NULL);
    if (result == CS_ERR_OK) {
        char out[CS_TIME_RFC3339_MAX];
        int64_t back;
        int back_offset;
        if (cs_time_format_rfc3339(ms, offset, out) == CS_ERR_OK &&
            (cs_time_parse_rfc3339(cs_str_from_c(out), &back, &back_offset, NULL) != CS_ERR_OK ||
             back != ms || back_offset != offset)) {
            abort();
        }
    } else if (result != CS_ERR_TIME_SYNTAX && result != CS_ERR_TIME_RANGE) {
        abort();
    }
    return 0;
}
