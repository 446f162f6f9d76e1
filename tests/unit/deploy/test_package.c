/* make package's zips run as Lambda runs them: each unpacked into a
 * directory of its own that holds nothing else, the emulator on the
 * project's template pointed there (as /var/task), and an order through
 * webhook-ingress and order-export into the sandbox's MAX. The instances
 * load the packages' own libraries, not the machine's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timestamp.h"
#include "fixture.h"
#include "project_fixture.h"
#include "testing.h"

static const char *const functions[] = {"WebhookIngress", "OrderExport", "StockUpdate",
                                        "FulfillmentCallback", "Backfill"};
static char unpacked[64];

/* The packages are make package's (build/package), whatever build the
 * test itself comes from. */
static int unpack(void **state)
{
    snprintf(unpacked, sizeof(unpacked), "/tmp/cs-package-XXXXXX");
    if (!mkdtemp(unpacked)) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        char command[512];
        snprintf(command, sizeof(command), "unzip -q build/package/%s.zip -d %s/%s", functions[i],
                 unpacked, functions[i]);
        if (system(command) != 0) {
            fprintf(stderr, "%s failed: run make package first\n", command);
            return -1;
        }
    }
    setenv("CS_FUNCTIONS_DIR", unpacked, 1);
    return test_scenario_shopify(state);
}

static int clean_up(void **state)
{
    char command[96];
    snprintf(command, sizeof(command), "rm -rf '%s'", unpacked);
    int r = test_scenario_stop(state);
    return system(command) == 0 ? r : -1;
}

/* Whether the process has mapped a file whose path starts with prefix. */
static bool maps(pid_t pid, const char *prefix)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f)) {
        found = strstr(line, prefix) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

static void a_packaged_order_reaches_max(void **st)
{
    (void)st;
    test_project_subscribe(&test_scenario, "us-store", "");
    test_project_place_order(&test_scenario, "us-store", NULL);
    size_t count = 0;
    for (int i = 0; i < 300 && count == 0; i++) {
        test_project_max_orders(&test_scenario, "CU", &count);
        usleep(count ? 0 : 100 * 1000);
    }
    assert_int_equal(count, 1);

    /* Both functions ran from the unpacked directories, with their own
     * libcurl. */
    const char *ran[] = {"WebhookIngress", "OrderExport"};
    for (size_t i = 0; i < 2; i++) {
        pid_t pids[4];
        assert_true(test_project_function_pids(ran[i], pids, 4) > 0);
        char lib[160];
        snprintf(lib, sizeof(lib), "%s/%s/lib/libcurl.so.4", unpacked, ran[i]);
        assert_true(maps(pids[0], lib));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_packaged_order_reaches_max),
    };
    return cmocka_run_group_tests_name("package", tests, unpack, clean_up);
}
