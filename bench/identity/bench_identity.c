/* The identity benchmark: matching storefront customers against MAX's
 * accounts, by the index (what the customer load and order-export use) and
 * by the scan it replaced (the peer), side by side in one run:
 *
 *   bench_identity ACCOUNTS CUSTOMERS
 *
 * ACCOUNTS accounts with an account code, an e-mail and a company with a
 * postal code; CUSTOMERS incoming customers: a third found by e-mail, a
 * third by company and postal code, a third new. Both ways must give the
 * same answer for every customer. Prints
 *   identity: accounts=N customers=M scan_us_per_match=A index_us_per_match=B
 *             index_build_ms=C speedup=A/B */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "mapping/mapping.h"

static cs_customer *accounts(cs_arena *arena, size_t n)
{
    cs_customer *list = calloc(n, sizeof(*list));
    cs_address *addresses = calloc(n, sizeof(*addresses));
    for (size_t i = 0; list && addresses && i < n; i++) {
        addresses[i].postal_code = cs_str_from_c(cs_arena_sprintf(arena, "%05zu", 10000 + i % 90));
        list[i] = (cs_customer){
            .account_code = cs_str_from_c(cs_arena_sprintf(arena, "WS%08zu", i)),
            .email = cs_str_from_c(cs_arena_sprintf(arena, "person%zu@example.com", i)),
            .company = cs_str_from_c(cs_arena_sprintf(arena, "Company %zu GmbH", i)),
            .addresses = &addresses[i],
            .address_count = 1};
    }
    return list;
}

static cs_customer incoming(cs_arena *arena, size_t k, size_t n, cs_address *address)
{
    size_t i = (k * 7919) % n;
    cs_customer c = {0};
    if (k % 3 == 0) {
        c.email = cs_str_from_c(cs_arena_sprintf(arena, " Person%zu@Example.com", i));
    } else if (k % 3 == 1) {
        c.company = cs_str_from_c(cs_arena_sprintf(arena, "COMPANY %zu", i));
        address->postal_code = cs_str_from_c(cs_arena_sprintf(arena, "%05zu", 10000 + i % 90));
        c.addresses = address;
        c.address_count = 1;
    } else {
        c.email = cs_str_from_c(cs_arena_sprintf(arena, "new%zu@example.com", k));
    }
    return c;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
    size_t m = argc > 2 ? strtoul(argv[2], NULL, 10) : 600;
    cs_arena arena, scratch;
    cs_arena_init(&arena, 0, 0);
    cs_arena_init(&scratch, 0, 0);
    cs_json *config;
    cs_mapping *mapping;
    cs_problems problems;
    cs_problems_init(&problems, &arena);
    if (cs_json_parse(&arena,
                      CS_STR_LIT("{\"identity\": {\"customer\": {\"keys\": [\"account_code\", "
                                 "\"email\", \"company+postal_code\"]}}}"),
                      &config, NULL) ||
        cs_mapping_load(&arena, config, &mapping, &problems)) {
        fprintf(stderr, "bench-identity: bad identity config\n");
        return 2;
    }
    const cs_identity *id = cs_mapping_identity(mapping, &cs_schema_customer);
    cs_customer *list = accounts(&arena, n);
    cs_identity_index *ix = cs_identity_index_new(id);
    if (!list || !ix) {
        fprintf(stderr, "bench-identity: out of memory\n");
        return 2;
    }
    int64_t t0 = cs_time_monotonic_us();
    for (size_t i = 0; i < n; i++) {
        if (cs_identity_index_add(ix, &list[i], i, &arena)) {
            fprintf(stderr, "bench-identity: out of memory at %zu\n", i);
            return 2;
        }
    }
    int64_t build_us = cs_time_monotonic_us() - t0;
    int64_t scan_us = 0, index_us = 0;
    size_t found[3] = {0};
    for (size_t k = 0; k < m; k++) {
        cs_address address = {0};
        cs_customer c = incoming(&scratch, k, n, &address);
        cs_match by_scan, by_index;
        int64_t a = cs_time_monotonic_us();
        cs_identity_match(id, &c, list, n, &scratch, &by_scan);
        int64_t b = cs_time_monotonic_us();
        cs_identity_match_indexed(ix, &c, list, n, &scratch, &by_index);
        index_us += cs_time_monotonic_us() - b;
        scan_us += b - a;
        if (by_scan.kind != by_index.kind || by_scan.index != by_index.index ||
            by_scan.candidate_count != by_index.candidate_count) {
            fprintf(stderr, "bench-identity: customer %zu: the index and the scan disagree\n", k);
            return 1;
        }
        found[by_scan.kind]++;
        cs_arena_reset(&scratch);
    }
    double scan_each = (double)scan_us / (double)m;
    double index_each = (double)(index_us ? index_us : 1) / (double)m;
    printf("matched: none=%zu one=%zu ambiguous=%zu (scan and index agree on all %zu)\n", found[0],
           found[1], found[2], m);
    printf("identity: accounts=%zu customers=%zu scan_us_per_match=%.0f index_us_per_match=%.1f "
           "index_build_ms=%lld speedup=%.0f\n",
           n, m, scan_each, index_each, (long long)(build_us / 1000), scan_each / index_each);
    cs_identity_index_free(ix);
    free(list[0].addresses);
    free(list);
    cs_arena_clean_up(&scratch);
    cs_arena_clean_up(&arena);
    return 0;
}
