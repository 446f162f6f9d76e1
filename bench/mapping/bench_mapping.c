/* The mapping benchmark's C side:
 *
 *   bench_mapping both|parse|map|check CORPUS CONFIG PASSES [OUTPUT]
 *
 * parse: parse each order into the JSON DOM, nothing else (the ceiling).
 * map:   parse, decode the Shopify order, apply the "erp_sales_order" field
 *        map and write its JSON (what order-export does per order).
 * both:  parse and map passes alternately, so machine noise hits both alike.
 * check: decode and validate every order, untimed; prints failures.
 * One order per line in CORPUS; the arena is reset after each order, as the
 * runtime does after each record. Prints, per mode, the best of PASSES:
 *   MODE orders=N seconds=S orders_per_s=R mb_per_s=M peak_rss_kb=K
 * With OUTPUT, the first map pass (untimed) writes each result as one line
 * there, for comparing with the Node peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "connectors/shopify/order.h"
#include "core/timestamp.h"
#include "mapping/mapping.h"
#include "mapping/validate.h"

typedef struct corpus {
    char *data;
    cs_str *orders;
    size_t count;
    size_t bytes;
} corpus;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    *len = fread(data, 1, (size_t)size, f);
    data[*len] = '\0';
    fclose(f);
    return data;
}

static corpus load_corpus(const char *path)
{
    corpus c = {0};
    c.data = read_file(path, &c.bytes);
    for (size_t i = 0; i < c.bytes; i++) {
        c.count += c.data[i] == '\n';
    }
    c.orders = calloc(c.count + 1, sizeof(cs_str));
    size_t n = 0;
    for (char *line = c.data; n < c.count;) {
        char *end = memchr(line, '\n', c.bytes - (size_t)(line - c.data));
        c.orders[n++] = cs_str_make(line, (size_t)(end - line));
        line = end + 1;
    }
    return c;
}

static const cs_fieldmap *load_map(cs_arena *arena, const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    cs_json *config;
    cs_diag diag;
    cs_mapping *mapping;
    cs_problems problems;
    cs_problems_init(&problems, arena);
    if (cs_json_parse(arena, cs_str_make(text, len), &config, &diag) ||
        cs_mapping_load(arena, config, &mapping, &problems)) {
        fprintf(stderr, "config %s refused: %s %s\n", path, diag.message,
                problems.count ? problems.items[0].message : "");
        exit(2);
    }
    /* text stays allocated: the loaded config points into it. */
    return cs_mapping_map(mapping, CS_STR_LIT("erp_sales_order"));
}

static cs_str store_code(cs_str currency)
{
    static const char *const codes[][2] = {
        {"USD", "us"}, {"EUR", "eu"}, {"GBP", "uk"}, {"JPY", "jp"}, {"KWD", "kw"}};
    for (size_t i = 0; i < 5; i++) {
        if (cs_str_eq_c(currency, codes[i][0])) {
            return cs_str_from_c(codes[i][1]);
        }
    }
    return CS_STR_NULL;
}

/* One order through the pipeline; returns false (and says why) on failure. */
static bool map_order(const cs_fieldmap *map, cs_str text, cs_arena *arena, cs_buf *out,
                      bool validate)
{
    cs_json *doc;
    cs_diag diag;
    cs_problems problems;
    cs_problems_init(&problems, arena);
    if (cs_json_parse(arena, text, &doc, &diag)) {
        fprintf(stderr, "parse: %s\n", diag.message);
        return false;
    }
    cs_order order;
    const cs_json *currency = cs_json_object_get(doc, CS_STR_LIT("currency"));
    cs_shopify_order_opts opts = {.store_code =
                                      store_code(currency ? currency->text : CS_STR_NULL)};
    cs_error result = cs_shopify_order_decode(doc, &opts, arena, &order, &problems);
    if (!result && validate) {
        result = cs_validate_order(&order, NULL, &problems);
    }
    if (!result && !validate) {
        result = cs_fieldmap_apply(map, &order, arena, out, &problems);
    }
    if (result) {
        fprintf(stderr, "%.*s: %s: %s: %s\n", CS_STR_FMT(order.number),
                problems.count ? problems.items[0].path : "",
                problems.count ? problems.items[0].rule : "",
                problems.count ? problems.items[0].message : cs_error_name(result));
        return false;
    }
    return true;
}

static double run_pass(const char *mode, const corpus *c, const cs_fieldmap *map, cs_arena *arena,
                       FILE *output)
{
    cs_buf out;
    cs_buf_init(&out, 0);
    int64_t start = cs_time_monotonic_us();
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(mode, "parse") == 0) {
            cs_json *doc;
            if (cs_json_parse(arena, c->orders[i], &doc, NULL)) {
                exit(1);
            }
        } else {
            cs_buf_reset(&out);
            if (!map_order(map, c->orders[i], arena, &out, false)) {
                exit(1);
            }
            if (output) {
                fwrite(out.data, 1, out.len, output);
                fputc('\n', output);
            }
        }
        cs_arena_reset(arena);
    }
    int64_t elapsed = cs_time_monotonic_us() - start;
    cs_buf_clean_up(&out);
    return (double)elapsed / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s parse|map|check CORPUS CONFIG PASSES [OUTPUT]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    corpus c = load_corpus(argv[2]);
    cs_arena config_arena, arena;
    cs_arena_init(&config_arena, 0, 0);
    cs_arena_init(&arena, 0, 64 * 1024 * 1024);
    const cs_fieldmap *map = load_map(&config_arena, argv[3]);
    if (strcmp(mode, "check") == 0) {
        size_t bad = 0;
        for (size_t i = 0; i < c.count; i++, cs_arena_reset(&arena)) {
            bad += !map_order(map, c.orders[i], &arena, NULL, true);
        }
        printf("check orders=%zu invalid=%zu\n", c.count, bad);
        return bad != 0;
    }
    int passes = atoi(argv[4]);
    const char *modes[2] = {"parse", "map"};
    bool runs[2] = {strcmp(mode, "map") != 0, strcmp(mode, "parse") != 0};
    double best[2] = {1e30, 1e30};
    if (argc > 5 && runs[1]) {
        FILE *output = fopen(argv[5], "w");
        run_pass("map", &c, map, &arena, output);
        fclose(output);
    }
    for (int p = 0; p < passes; p++) {
        for (int m = 0; m < 2; m++) {
            double seconds = runs[m] ? run_pass(modes[m], &c, map, &arena, NULL) : 1e30;
            best[m] = seconds < best[m] ? seconds : best[m];
        }
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    for (int m = 0; m < 2; m++) {
        if (runs[m]) {
            printf("%s orders=%zu seconds=%.3f orders_per_s=%.0f mb_per_s=%.1f peak_rss_kb=%ld\n",
                   modes[m], c.count, best[m], (double)c.count / best[m],
                   (double)c.bytes / 1e6 / best[m], usage.ru_maxrss);
        }
    }
    return 0;
}
