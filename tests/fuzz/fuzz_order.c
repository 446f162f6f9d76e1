/* libFuzzer target: any input, taken as a Shopify order, goes through
 * decode, validation and a field map touching every rule kind. Whatever the
 * input, nothing crashes, a mapped order is valid JSON, and a failed one
 * leaves the output buffer as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/shopify/order.h"
#include "mapping/mapping.h"
#include "mapping/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_text[] =
    "{\"lookups\": {\"carriers\": {\"ignore_case\": true, \"values\": {\"usps\": \"USPS\"}},"
    " \"stores\": {\"values\": {\"us\": {\"warehouse\": \"W1\"}}}},"
    " \"maps\": {\"m\": {\"entity\": \"order\", \"fields\": ["
    "  {\"target\": \"customer\", \"from\": [\"customer.account_code\", \"customer.email\"],"
    "   \"fallback\": {\"const\": \"GUEST\"}},"
    "  {\"target\": \"po\", \"from\": \"number\", \"transform\": [\"trim\", \"upper\", "
    "\"truncate:5\"]},"
    "  {\"target\": \"ref\", \"format\": \"{store_code}-{ids.shopify}\"},"
    "  {\"target\": \"date\", \"from\": \"created_at\", \"transform\": [\"date:%Y%m%d "
    "%H:%M:%S.%L\"]},"
    "  {\"target\": \"via\", \"from\": \"shipping_lines[0].carrier\", \"lookup\": \"carriers\","
    "   \"on_unknown\": \"pass\"},"
    "  {\"target\": \"wh\", \"from\": \"store_code\", \"lookup\": \"stores\", \"column\": "
    "\"warehouse\","
    "   \"default\": \"W0\"},"
    "  {\"target\": \"lines\", \"each\": \"lines\", \"fields\": ["
    "   {\"target\": \"sku\", \"from\": \"sku\", \"transform\": [\"lower\", \"digits\"]},"
    "   {\"target\": \"qty\", \"from\": \"quantity\", \"transform\": [\"decimal:3\"], \"as\": "
    "\"number\"},"
    "   {\"target\": \"price\", \"from\": \"unit_price\", \"transform\": [\"decimal:1:half-up\"]},"
    "   {\"target\": \"cur\", \"from\": \"$.currency\"}]},"
    "  {\"target\": \"total\", \"from\": \"total\", \"transform\": [\"minor\"]},"
    "  {\"target\": \"note\", \"from\": \"note\", \"if_absent\": \"null\"}]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cs_arena config_arena;
    static const cs_fieldmap *map;
    if (!map) {
        cs_arena_init(&config_arena, 0, 0);
        cs_json *config;
        cs_mapping *mapping;
        cs_problems problems;
        cs_problems_init(&problems, &config_arena);
        if (cs_json_parse(&config_arena, CS_STR_LIT(config_text), &config, NULL) ||
            cs_mapping_load(&config_arena, config, &mapping, &problems)) {
            abort();
        }
        map = cs_mapping_map(mapping, CS_STR_LIT("m"));
    }
    cs_arena arena;
    cs_arena_init(&arena, 4096, 16 * 1024 * 1024);
    cs_json *doc;
    if (cs_json_parse(&arena, cs_str_make((const char *)data, size), &doc, NULL) == CS_ERR_OK) {
        cs_order order;
        cs_problems problems;
        cs_problems_init(&problems, &arena);
        cs_shopify_order_opts opts = {.store_code = CS_STR_LIT("us")};
        if (cs_shopify_order_decode(doc, &opts, &arena, &order, &problems) == CS_ERR_OK) {
            cs_validate_order(&order, NULL, &problems);
            cs_buf out;
            cs_buf_init(&out, 0);
            cs_buf_append_c(&out, "x");
            if (cs_fieldmap_apply(map, &order, &arena, &out, &problems) == CS_ERR_OK) {
                cs_json *mapped;
                if (cs_json_parse(&arena, cs_str_make(out.data + 1, out.len - 1), &mapped, NULL)) {
                    abort(); /* the writer produced invalid JSON */
                }
            } else if (out.len != 1) {
                abort(); /* a failed record was half-written */
            }
            cs_buf_clean_up(&out);
        }
    }
    cs_arena_clean_up(&arena);
    return 0;
}
