/* build/bin/sandbox: the fakes of the systems the sync talks to, on one
 * port, until SIGINT or SIGTERM. See emulator/sandbox/sandbox.h. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulator/sandbox/sandbox.h"
#include "emulator/sandbox/shopify_store.h"

static const char usage[] =
    "usage: sandbox [--port N] [--seed N] [--shopify-orders N]\n"
    "\n"
    "Serves the Shopify fake (GraphQL Admin API 2026-01) at\n"
    "  http://127.0.0.1:PORT/shopify/{us-store|eu-store|jp-store}/admin/api/2026-01/graphql.json\n"
    "(token: shpat_sandbox_{shop}), with a journal of every request at /_sandbox/journal,\n"
    "fault injection at /_sandbox/faults and what the fake holds at\n"
    "/_sandbox/shopify/{shop}/stock and /_sandbox/shopify/{shop}/orders/{id}.\n"
    "The same --seed (default 42) gives the same shops, customers and orders.\n"
    "\n"
    "  --port N   listen on 127.0.0.1:N (default 3002; 0 lets the OS pick)\n"
    "  --seed N   seed of the generated data\n"
    "  --shopify-orders N   orders seeded in each shop (default 160, at most 99999)\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse_number(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    *out = strtoull(text, &end, 10);
    if (!*text || *end || *out > max) {
        fprintf(stderr, "sandbox: '%s' is not a number from 0 to %llu\n", text, max);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"port", required_argument, NULL, 'p'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"shopify-orders", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    sb_opts opts = {.port = 3002};
    unsigned long long n;
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        if (c == 'p' && !parse_number(optarg, 65535, &n)) {
            opts.port = (uint16_t)n;
        } else if (c == 's' && !parse_number(optarg, ~0ull, &n)) {
            opts.shopify.seed = n;
        } else if (c == 'o' && !parse_number(optarg, SB_ORDER_LIMIT, &n)) {
            opts.shopify.orders_per_shop = (int)n;
        } else {
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sandbox: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    sb_sandbox *sb;
    cs_diag diag;
    if (sb_start(&opts, &sb, &diag)) {
        fprintf(stderr, "sandbox: %s\n", diag.message);
        return 1;
    }
    fprintf(stderr, "sandbox: listening on http://127.0.0.1:%u\n", (unsigned)sb_port(sb));
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested) {
        pause();
    }
    sb_stop(sb);
    return 0;
}
