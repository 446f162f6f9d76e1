#include "moto.h"

#include "aws_cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int wait_for_port(moto *m)
{
    for (int i = 0; i < 300; i++) { /* moto takes a few seconds to import */
        FILE *f = fopen(m->log_path, "r");
        char line[256];
        while (f && fgets(line, sizeof(line), f)) {
            char *at = strstr(line, "http://127.0.0.1:");
            if (at) {
                at[strcspn(at, " \r\n")] = '\0';
                snprintf(m->endpoint, sizeof(m->endpoint), "%s", at);
                fclose(f);
                return 0;
            }
        }
        if (f) {
            fclose(f);
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* The aws CLI against moto; it only creates the test user. */
static int aws_cli(const moto *m, const char *args, char *out, size_t out_len)
{
    return test_aws_cli(m->endpoint, args, NULL, false, out, out_len);
}

static int create_user(const moto *m)
{
    char keys[512];
    if (aws_cli(m, "iam create-user --user-name cs-tests", NULL, 0) != 0 ||
        aws_cli(m,
                "iam put-user-policy --user-name cs-tests --policy-name all --policy-document "
                "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                "\"Action\":\"*\",\"Resource\":\"*\"}]}'",
                NULL, 0) != 0 ||
        aws_cli(m,
                "iam create-access-key --user-name cs-tests --query "
                "'AccessKey.[AccessKeyId,SecretAccessKey]' --output text",
                keys, sizeof(keys)) != 0) {
        return -1;
    }
    char id[128], secret[256];
    if (sscanf(keys, "%127s %255s", id, secret) != 2) {
        return -1;
    }
    setenv("AWS_ACCESS_KEY_ID", id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    return 0;
}

int moto_start(moto *m, bool verify_signatures)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->log_path, sizeof(m->log_path), "/tmp/cs-moto-XXXXXX");
    int fd = mkstemp(m->log_path);
    if (fd < 0) {
        return -1;
    }
    pid_t parent = getpid();
    m->pid = fork();
    if (m->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(1);
        }
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (verify_signatures) {
            /* Three unsigned calls create the test user; after that every
             * request must be signed with its keys. */
            setenv("INITIAL_NO_AUTH_ACTION_COUNT", "3", 1);
        }
        execlp("moto_server", "moto_server", "-H", "127.0.0.1", "-p", "0", (char *)NULL);
        _exit(127);
    }
    close(fd);
    setenv("AWS_REGION", "eu-west-1", 1);
    if (m->pid < 0 || wait_for_port(m) != 0) {
        moto_stop(m);
        return -1;
    }
    if (verify_signatures) {
        return create_user(m);
    }
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    return 0;
}

void moto_stop(moto *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
    if (m->log_path[0]) {
        unlink(m->log_path);
    }
}

cs_error moto_create_state(cs_aws *aws, const char *table, const char *bucket, cs_diag *diag)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"TableName\":\"%s\",\"BillingMode\":\"PAY_PER_REQUEST\","
             "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},"
             "{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],\"KeySchema\":["
             "{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
             "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}]}",
             table);
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_error r = cs_dynamodb(aws, "CreateTable", cs_str_from_c(body), &out, diag);
    cs_buf_clean_up(&out);
    return r ? r : cs_s3_create_bucket(aws, bucket, diag);
}
