/* Child processes for tests: start a function binary with a given
 * environment, its stdout captured in a file, and wait for it with a limit. */
#ifndef CS_TESTS_PROC_H
#define CS_TESTS_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct test_proc {
    pid_t pid;
    char stdout_path[256]; /* the child's stdout (its log lines) */
    int exited;
    int exit_status; /* exit code, or 128 + signal */
} test_proc;

/* Starts `path` with exactly the variables in env (NULL-terminated
 * "NAME=value" strings). 0 on success. */
int test_proc_start(test_proc *p, const char *path, char *const env[]);
/* As test_proc_start with an argument vector (argv[0] is the program) and a
 * working directory (NULL keeps ours). */
int test_proc_spawn(test_proc *p, char *const argv[], char *const env[], const char *cwd);
/* Waits up to timeout_ms; 1 when the child has exited. */
int test_proc_wait(test_proc *p, int timeout_ms);
/* SIGTERM, then SIGKILL if it has not exited within timeout_ms. */
void test_proc_stop(test_proc *p, int timeout_ms);
/* Reads the captured stdout into a malloc'd NUL-terminated string. */
char *test_proc_stdout(const test_proc *p);
/* VmRSS or VmHWM (field "VmRSS:"/"VmHWM:") of a live child, in KiB; -1 on error. */
long test_proc_mem_kb(const test_proc *p, const char *field);

#endif
