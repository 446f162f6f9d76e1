#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int test_proc_start(test_proc *p, const char *path, char *const env[])
{
    char *const argv[] = {(char *)path, NULL};
    return test_proc_spawn(p, argv, env, NULL);
}

int test_proc_spawn(test_proc *p, char *const argv[], char *const env[], const char *cwd)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->stdout_path, sizeof(p->stdout_path), "/tmp/cs-test-stdout-XXXXXX");
    int fd = mkstemp(p->stdout_path);
    if (fd < 0) {
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
    if (cwd) {
        posix_spawn_file_actions_addchdir_np(&actions, cwd);
    }
    int rc = posix_spawn(&p->pid, argv[0], &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    close(fd);
    return rc;
}

static void record(test_proc *p, int status)
{
    p->exited = 1;
    p->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_proc_wait(test_proc *p, int timeout_ms)
{
    for (int waited = 0; !p->exited; waited++) {
        int status;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            record(p, status);
            break;
        }
        if (waited >= timeout_ms) {
            return 0;
        }
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return 1;
}

void test_proc_stop(test_proc *p, int timeout_ms)
{
    if (p->pid <= 0 || p->exited) {
        return;
    }
    kill(p->pid, SIGTERM);
    if (!test_proc_wait(p, timeout_ms)) {
        kill(p->pid, SIGKILL);
        test_proc_wait(p, 5000);
    }
}

char *test_proc_stdout(const test_proc *p)
{
    FILE *f = fopen(p->stdout_path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *data = malloc(cap);
    size_t n;
    while ((n = fread(data + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            data = realloc(data, cap);
        }
    }
    data[len] = '\0';
    fclose(f);
    return data;
}

long test_proc_mem_kb(const test_proc *p, const char *field)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    char line[256];
    long kb = -1;
    size_t field_len = strlen(field);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, field_len) == 0) {
            kb = strtol(line + field_len, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}
