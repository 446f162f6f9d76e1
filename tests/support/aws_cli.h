/* The machine's aws CLI as a test peer. */
#ifndef CS_TESTS_AWS_CLI_H
#define CS_TESTS_AWS_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Runs `aws --endpoint-url endpoint args` in eu-west-1 with the bootstrap
 * credentials (moto_server's first, unchecked requests), from directory cwd
 * (NULL: ours). Its
 * stdout, and stderr too when with_stderr, goes to out (may be NULL).
 * Returns the exit status, -1 when it cannot run. */
int test_aws_cli(const char *endpoint, const char *args, const char *cwd, bool with_stderr,
                 char *out, size_t out_len);

#endif
