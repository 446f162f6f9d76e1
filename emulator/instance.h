/* One function instance: a bootstrap process and the Runtime API it talks to.
 *
 * The instance serves the Runtime API on its own loopback port (the path set
 * is fixed by AWS, so the port is what tells instances apart) and hands the
 * process one invocation at a time. Invoking waits for the response, the
 * timeout or the process's death; a timeout or a crash kills the instance,
 * as Lambda discards its sandbox. Statuses follow AWS: 202 accepted, 400 for
 * an unknown request id, 403 for a second answer, 413 past 6 MB. */
#ifndef CS_EMULATOR_INSTANCE_H
#define CS_EMULATOR_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/str.h"

typedef struct em_instance em_instance;

/* How much of an invocation's output X-Amz-Log-Type: Tail returns. */
#define EM_LOG_TAIL_BYTES 4096

typedef struct em_function_config {
    const char *name;
    const char *bootstrap; /* executable */
    const char *task_root; /* its working directory and LAMBDA_TASK_ROOT */
    const char *handler;
    const char *region;
    int64_t timeout_s;
    int64_t memory_mb;
    const char *const *env; /* "KEY=value" from the template; NULL-terminated or NULL */
    int log_fd;             /* the process's output, each line prefixed "name: " */
    /* The emulator's SQS and Secrets Manager APIs (http://127.0.0.1:port),
     * given to the function as AWS_ENDPOINT_URL_SQS and
     * AWS_ENDPOINT_URL_SECRETS_MANAGER so that its SendMessage reaches the
     * template's queues and its GetSecretValue the template's secrets; NULL
     * or "" for none. */
    const char *sqs_endpoint;
    /* Its signing key id (AWS_ACCESS_KEY_ID): its logical id, standing for
     * its own role, so that the emulator's APIs know who calls. */
    const char *access_key_id;
    /* AWS_ENDPOINT_URL for its other AWS calls; NULL or "" for AWS's own. */
    const char *aws_endpoint;
} em_function_config;

typedef enum em_outcome {
    EM_OUTCOME_OK,
    EM_OUTCOME_FUNCTION_ERROR, /* the function posted an error */
    EM_OUTCOME_TIMEOUT,
    EM_OUTCOME_CRASH,      /* the process exited or died mid-invocation */
    EM_OUTCOME_INIT_ERROR, /* /init/error, or death before the first /next */
} em_outcome;

typedef struct em_result {
    em_outcome outcome;
    char *payload; /* malloc'd; the response, or the error JSON */
    size_t payload_len;
    char error_type[128]; /* for errors, as X-Amz-Function-Error reports it */
    double duration_ms;
    int64_t billed_ms;
    int64_t max_memory_mb;
    double init_ms; /* < 0 when the instance was warm */
    char *log_tail; /* malloc'd: the last EM_LOG_TAIL_BYTES the process wrote */
    size_t log_tail_len;
} em_result;

/* Starts the process; it initialises in the background. */
cs_error em_instance_start(const em_function_config *config, em_instance **out, cs_diag *diag);
/* Runs one invocation to its end. The request id names it in the Runtime API
 * and the REPORT line; client_context may be NULL. */
cs_error em_instance_invoke(em_instance *inst, const char *request_id, cs_str payload,
                            const char *client_context, em_result *out, cs_diag *diag);
/* false once the process has died or was killed; such an instance only
 * needs em_instance_stop. */
bool em_instance_usable(const em_instance *inst);
/* "127.0.0.1:port", the AWS_LAMBDA_RUNTIME_API the process was given. */
const char *em_instance_runtime_api(const em_instance *inst);
/* Kills the process (if alive) and frees everything. */
void em_instance_stop(em_instance *inst);
void em_result_clean_up(em_result *result);
/* "REPORT RequestId: ... Duration: ... ms ..." as Lambda writes it; out must
 * hold 256 bytes. */
void em_result_report(const em_result *result, const char *request_id, int64_t memory_mb,
                      char out[256]);

#endif
