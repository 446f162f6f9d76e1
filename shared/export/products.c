/* The storefronts' catalogs checked against MAX's parts, before orders
 * need them: MAX is the product master, so a load does not write
 * products; it links each storefront variant to the MAX part its SKU maps
 * to (id map "product") and sends a variant orders could not be exported
 * with to the error queue: no SKU, a SKU the order_export lookup does not
 * map, or a part MAX does not have. After the lookup or MAX is fixed,
 * replay links it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/commercetools/client.h"
#include "connectors/shopify/client.h"
#include "core/timestamp.h"
#include "export/export.h"

struct cs_export_parts {
    cs_arena arena; /* the part numbers */
    cs_str *numbers;
    size_t count, cap;
};

void cs_export_parts_free(cs_export *x)
{
    cs_export_parts *p = x->parts;
    if (p) {
        cs_arena_clean_up(&p->arena);
        free(p->numbers);
        free(p);
        x->parts = NULL;
    }
}

static int by_number(const void *a, const void *b)
{
    const cs_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static cs_error part_add(void *user, const cs_json *part, cs_diag *diag)
{
    cs_export_parts *p = user;
    const cs_json *number = cs_json_object_get(part, CS_STR_LIT("prtNum"));
    if (!number || number->type != CS_JSON_STRING) {
        return CS_ERR_OK;
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024;
        cs_str *numbers = realloc(p->numbers, cap * sizeof(*numbers));
        if (!numbers) {
            return cs_diag_set(diag, CS_ERR_NOMEM, "MAX's parts: out of memory at %zu", p->count);
        }
        p->numbers = numbers;
        p->cap = cap;
    }
    p->numbers[p->count] = cs_arena_copy(&p->arena, number->text);
    if (number->text.len && !p->numbers[p->count].len) {
        return cs_arena_full(&p->arena, diag);
    }
    p->count++;
    return CS_ERR_OK;
}

/* Every part number MAX has, sorted, read once per invocation. A part
 * changed while the pages are read comes twice; a duplicate in a sorted
 * list does no harm to a search. */
static cs_error parts_load(cs_export *x, cs_diag *diag)
{
    if (x->parts) {
        return CS_ERR_OK;
    }
    cs_export_parts *p = calloc(1, sizeof(*p));
    if (!p) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "MAX's parts: out of memory");
    }
    x->parts = p;
    cs_arena_init(&p->arena, 0, 0);
    cs_arena page;
    cs_arena_init(&page, 0, 0);
    cs_error r = cs_export_max_all(x, "parts", &page, true, part_add, p, diag);
    cs_arena_clean_up(&page);
    if (r) {
        cs_export_parts_free(x);
        return r;
    }
    qsort(p->numbers, p->count, sizeof(*p->numbers), by_number);
    return CS_ERR_OK;
}

static bool max_has_part(const cs_export_parts *p, cs_str number)
{
    return p->count && bsearch(&number, p->numbers, p->count, sizeof(*p->numbers), by_number);
}

/* ---- one variant ---- */

/* The variant's fault, for the error queue: field and message. */
static cs_outcome fail(cs_record_result *out, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cs_outcome fail(cs_record_result *out, const char *field, const char *fmt, ...)
{
    cs_diag *diag = (cs_diag *)out->diag;
    va_list ap;
    va_start(ap, fmt);
    out->error = cs_diag_setv(diag, CS_ERR_INVALID_ARGUMENT, fmt, ap);
    va_end(ap);
    cs_diag_set_field(diag, field);
    return CS_OUTCOME_FAILED;
}

/* The part the variant's SKU maps to, checked against MAX, and linked. */
static cs_outcome link_variant(cs_export *x, cs_system source, cs_str key, const cs_product *v,
                               cs_record_result *out)
{
    cs_diag *diag = (cs_diag *)out->diag;
    cs_str part = CS_STR_NULL;
    if (!v->sku.len) {
        return fail(out, "sku",
                    "sku: missing: variant %.*s has no SKU, so no order line can name it",
                    CS_STR_FMT(v->variant_id));
    }
    if (!x->skus || !cs_lookup_find(x->skus, v->sku, CS_STR_NULL, &part)) {
        return fail(out, "sku", "unknown_sku: no part number for SKU '%.*s'", CS_STR_FMT(v->sku));
    }
    out->target_id = part;
    out->error = parts_load(x, diag);
    if (out->error) {
        return CS_OUTCOME_RETRY;
    }
    if (!max_has_part(x->parts, part)) {
        return fail(out, "sku",
                    "unknown_part: SKU '%.*s' maps to part '%.*s', which MAX has not got",
                    CS_STR_FMT(v->sku), CS_STR_FMT(part));
    }
    char linked[64];
    bool found = false;
    out->error = cs_state_idmap_get(x->flow.state, "product", source, key, CS_SYS_EXACTMAX, linked,
                                    sizeof(linked), &found, diag);
    if (!out->error && found && cs_str_eq_c(part, linked)) {
        return CS_OUTCOME_DUPLICATE;
    }
    if (!out->error) {
        out->error =
            cs_state_idmap_put(x->flow.state, "product", source, key, CS_SYS_EXACTMAX, part, diag);
    }
    return out->error ? CS_OUTCOME_RETRY : CS_OUTCOME_WRITTEN;
}

/* The snapshot: the variant as read, in one shape for both sources. */
static cs_str variant_snapshot(cs_system source, cs_str shop, const cs_product *v, cs_arena *arena)
{
    cs_buf b;
    cs_buf_init(&b, 256);
    cs_json_writer w;
    cs_json_writer_init(&w, &b);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "source");
    cs_json_write_string_c(&w, source == CS_SYS_SHOPIFY ? "shopify" : "commercetools");
    if (shop.len) {
        cs_json_write_key_c(&w, "shop");
        cs_json_write_string(&w, shop);
    }
    cs_json_write_key_c(&w, "variant");
    cs_json_write_object_begin(&w);
    const char *keys[] = {"id", "product_id", "sku", "title"};
    const cs_str values[] = {v->variant_id, v->product_id, v->sku, v->title};
    for (size_t i = 0; i < 4; i++) {
        cs_json_write_key_c(&w, keys[i]);
        cs_json_write_string(&w, values[i]);
    }
    cs_json_write_object_end(&w);
    cs_json_write_object_end(&w);
    bool ok = cs_json_writer_finish(&w, NULL) == CS_ERR_OK;
    cs_json_writer_clean_up(&w);
    cs_str copy = ok ? cs_arena_copy(arena, cs_buf_view(&b)) : CS_STR_NULL;
    cs_buf_clean_up(&b);
    return copy;
}

/* One variant checked and linked, with its outcome in *out. Correlation
 * ids: "product:shopify:<store>:<variant id>",
 * "product:commercetools:<product id>/<variant id>". */
static void variant_record(cs_export *x, cs_system source, cs_str store, cs_str shop_domain,
                           const cs_product *v, cs_arena *arena, cs_record_result *out)
{
    bool shopify = source == CS_SYS_SHOPIFY;
    const char *key =
        shopify ? cs_arena_sprintf(arena, "product:shopify:%.*s:%.*s", CS_STR_FMT(store),
                                   CS_STR_FMT(v->variant_id))
                : cs_arena_sprintf(arena, "product:commercetools:%.*s", CS_STR_FMT(v->variant_id));
    if (!cs_export_begin(out, cs_str_from_c(key ? key : ""), v->variant_id, arena)) {
        return;
    }
    out->outcome = shopify && !store.len
                       ? fail(out, "shop", "unknown_shop: shop %.*s is not configured",
                              CS_STR_FMT(shop_domain))
                       : link_variant(x, source, cs_str_from_c(key), v, out);
    if (out->outcome == CS_OUTCOME_FAILED) {
        out->snapshot = variant_snapshot(source, shop_domain, v, arena);
        if (!out->snapshot.len) {
            *out = (cs_record_result){.outcome = CS_OUTCOME_RETRY, .error = CS_ERR_ARENA_FULL};
        }
    }
}

/* ---- the catalogs, a page at a time ---- */

cs_error cs_export_shopify_products_page(cs_export *x, const cs_shop *shop, cs_export_read *r,
                                         int first, cs_arena *arena, cs_diag *diag)
{
    int64_t after_id = 0;
    if (!r->after.len && r->done.id[0]) {
        cs_parse_int64(cs_str_from_c(r->done.id), &after_id);
    }
    cs_shopify_variant_item *items;
    size_t count;
    cs_shopify_page page;
    cs_error e = cs_shopify_catalog_page(shop->api, after_id, r->after, first, arena, &items,
                                         &count, &page, diag);
    if (e) {
        return e;
    }
    r->more = page.has_next;
    r->after = page.end_cursor;
    for (size_t i = 0; i < count; i++) {
        x->flow.records_in++;
        cs_record_result out;
        variant_record(x, CS_SYS_SHOPIFY, shop->store, shop->domain, &items[i].product, arena,
                       &out);
        if (!cs_export_read_next(r, cs_flow_record(&x->flow, &out), 0,
                                 items[i].product.variant_id)) {
            break;
        }
    }
    return CS_ERR_OK;
}

/* A product's variants, each recorded; the checkpoint moves past the
 * product only when all of them are through. */
static bool ct_product(cs_export *x, cs_export_read *r, const cs_json *json, cs_arena *arena)
{
    cs_product *variants = NULL;
    size_t count = 0;
    cs_outcome worst = CS_OUTCOME_WRITTEN;
    if (cs_commercetools_product_variants(json, arena, &variants, &count)) {
        worst = CS_OUTCOME_RETRY;
    }
    for (size_t i = 0; i < count && worst != CS_OUTCOME_RETRY; i++) {
        x->flow.records_in++;
        cs_record_result out;
        variant_record(x, CS_SYS_COMMERCETOOLS, CS_STR_NULL, CS_STR_NULL, &variants[i], arena,
                       &out);
        worst = cs_flow_record(&x->flow, &out) == CS_OUTCOME_RETRY ? CS_OUTCOME_RETRY : worst;
    }
    cs_str id = CS_STR_NULL, modified = CS_STR_NULL;
    int64_t modified_ms = 0;
    cs_json_opt_string(json, "id", &id, NULL);
    cs_json_opt_string(json, "lastModifiedAt", &modified, NULL);
    cs_time_parse_rfc3339(modified, &modified_ms, NULL, NULL);
    if (!cs_export_read_next(r, worst, modified_ms, id)) {
        return false;
    }
    r->read += count ? (int64_t)count - 1 : -1; /* variants, not products */
    return true;
}

cs_error cs_export_commercetools_products_page(cs_export *x, cs_export_read *r, int limit,
                                               cs_arena *arena, cs_diag *diag)
{
    const cs_json *results;
    cs_error e = cs_export_commercetools_fetch(x, r, cs_commercetools_products_page, limit, arena,
                                               &results, diag);
    if (e) {
        return e;
    }
    for (const cs_json *json = results ? results->first : NULL; json; json = json->next) {
        if (!ct_product(x, r, json, arena)) {
            break;
        }
    }
    return CS_ERR_OK;
}

void cs_export_product_replay(cs_export *x, const cs_json *doc, cs_arena *arena,
                              cs_record_result *out)
{
    const cs_json *v = cs_json_object_get(doc, CS_STR_LIT("variant"));
    cs_product p = {.active = true};
    cs_json_opt_string(v, "id", &p.variant_id, NULL);
    cs_json_opt_string(v, "product_id", &p.product_id, NULL);
    cs_json_opt_string(v, "sku", &p.sku, NULL);
    cs_json_opt_string(v, "title", &p.title, NULL);
    p.meta.source_id = p.variant_id;
    const cs_json *source = cs_json_object_get(doc, CS_STR_LIT("source"));
    if (source && cs_str_eq_c(source->text, "commercetools")) {
        variant_record(x, CS_SYS_COMMERCETOOLS, CS_STR_NULL, CS_STR_NULL, &p, arena, out);
        return;
    }
    const cs_json *domain = cs_json_object_get(doc, CS_STR_LIT("shop"));
    const cs_shop *shop = domain ? cs_connections_shop(&x->systems, domain->text) : NULL;
    variant_record(x, CS_SYS_SHOPIFY, shop ? shop->store : CS_STR_NULL,
                   domain ? domain->text : CS_STR_NULL, &p, arena, out);
}
