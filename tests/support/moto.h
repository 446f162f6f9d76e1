/* moto_server (from the machine's Python) as a real AWS peer for tests:
 * started on 127.0.0.1 with a port the OS picks, stopped by moto_stop or,
 * if the test dies, by the kernel (it gets SIGTERM when its parent exits).
 * With `verify_signatures`, moto checks SigV4 like AWS does: the helper
 * creates an IAM user and puts its keys in this process's environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION=eu-west-1). */
#ifndef CS_TESTS_MOTO_H
#define CS_TESTS_MOTO_H

#include <stdbool.h>
#include <sys/types.h>

#include "net/aws.h"

typedef struct moto {
    pid_t pid;
    char endpoint[64]; /* "http://127.0.0.1:PORT" */
    char log_path[64];
} moto;

/* 0 on success. */
int moto_start(moto *m, bool verify_signatures);
void moto_stop(moto *m);

/* The state table (pk, sk; on demand) and the snapshot bucket, as the
 * template declares them, created through aws; CS_ERR_OK or the call's
 * error in diag. */
cs_error moto_create_state(cs_aws *aws, const char *table, const char *bucket, cs_diag *diag);

#endif
