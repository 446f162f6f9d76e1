/* libFuzzer target: any input either parses, and then serialises to JSON that
 * parses again to the same text, or fails with a JSON error and an offset
 * inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_arena arena;
    cs_arena_init(&arena, 4096, 16 * 1024 * 1024);
    cs_json *doc = NULL;
    cs_diag diag;
    cs_error result = cs_json_parse(&arena, cs_str_make((const char *)data, size), &doc, &diag);
    if (result == CS_ERR_OK) {
        cs_buf once, twice;
        cs_buf_init(&once, 0);
        cs_buf_init(&twice, 0);
        if (cs_json_serialize(doc, &once, NULL) != CS_ERR_OK) {
            abort();
        }
        cs_json *again = NULL;
        if (cs_json_parse(&arena, cs_buf_view(&once), &again, NULL) != CS_ERR_OK ||
            cs_json_serialize(again, &twice, NULL) != CS_ERR_OK ||
            !cs_str_eq(cs_buf_view(&once), cs_buf_view(&twice))) {
            abort();
        }
        cs_buf_clean_up(&once);
        cs_buf_clean_up(&twice);
    } else if (result != CS_ERR_ARENA_FULL && (!diag.has_offset || diag.offset > size)) {
        abort();
    }
    cs_arena_clean_up(&arena);
    return 0;
}
