#include "emulator_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"

void test_emulator_start(test_emulator *e, const char *fixture)
{
    snprintf(e->dir, sizeof(e->dir), "/tmp/cs-emulator-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    char template_path[64];
    snprintf(template_path, sizeof(template_path), "%s/template.yaml", e->dir);
    char *yaml = fixture_read(fixture, NULL);
    FILE *f = fopen(template_path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    free(yaml);
    em_service_opts opts = {.template_path = template_path, .state_dir = e->dir, .log_fd = 2};
    cs_diag diag;
    if (em_service_start(&opts, NULL, &e->svc, &diag)) {
        fail_msg("%s", diag.message);
    }
    snprintf(e->endpoint, sizeof(e->endpoint), "http://127.0.0.1:%u",
             (unsigned)em_service_port(e->svc));
}

void test_emulator_stop(test_emulator *e)
{
    em_service_stop(e->svc);
    char command[64];
    snprintf(command, sizeof(command), "rm -rf '%s'", e->dir);
    assert_int_equal(system(command), 0);
}
