#include "aws_cli.h"

#include <stdio.h>
#include <sys/wait.h>

int test_aws_cli(const char *endpoint, const char *args, const char *cwd, bool with_stderr,
                 char *out, size_t out_len)
{
    char command[4096];
    snprintf(command, sizeof(command),
             "cd '%s' && AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap "
             "AWS_DEFAULT_REGION=eu-west-1 "
             "aws --endpoint-url %s %s %s",
             cwd ? cwd : ".", endpoint, args, with_stderr ? "2>&1" : "2>/dev/null");
    FILE *p = popen(command, "r");
    if (!p) {
        return -1;
    }
    size_t n = out ? fread(out, 1, out_len - 1, p) : 0;
    if (out) {
        out[n] = '\0';
    }
    int status = pclose(p);
    return status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
