/* An emulator for one test: its template copied from a fixture into a new
 * temporary directory, which also holds its state. */
#ifndef CS_TESTS_EMULATOR_FIXTURE_H
#define CS_TESTS_EMULATOR_FIXTURE_H

#include "emulator/service.h"

typedef struct {
    char dir[32];
    char endpoint[64]; /* http://127.0.0.1:port */
    em_service *svc;
} test_emulator;

/* Fails the running test if the emulator does not start. */
void test_emulator_start(test_emulator *e, const char *fixture);
/* Stops the emulator and removes its directory. */
void test_emulator_stop(test_emulator *e);

#endif
