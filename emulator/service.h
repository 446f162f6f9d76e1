/* The emulator: a SAM template's functions behind the Lambda Invoke API,
 * and its queues behind the SQS API, on one loopback port. Each SQS event of
 * a function is an event source mapping that polls its queue (esm.h).
 *
 * POST /2015-03-31/functions/{name}/invocations, as the AWS CLI and SDKs
 * send it: RequestResponse (200; a function error adds X-Amz-Function-Error),
 * Event (202; the event is stored durably and run in the background, with
 * Lambda's two retries), DryRun (204). An unknown function is 404
 * ResourceNotFoundException, a function at its concurrency limit 429
 * TooManyRequestsException. */
#ifndef CS_EMULATOR_SERVICE_H
#define CS_EMULATOR_SERVICE_H

#include <stdint.h>

#include "core/problems.h"
#include "template.h"

typedef struct em_service em_service;

typedef struct em_service_opts {
    const char *template_path;
    const char *state_dir;        /* where the queue store lives */
    uint16_t port;                /* 0: the OS picks */
    const char *region;           /* NULL: eu-west-1 */
    const char *const *overrides; /* "Name=value" template parameters */
    int log_fd;                   /* function output and START/END/REPORT */
    int max_instances;            /* per unreserved function; 0: 32 */
    /* Where functions built by make (Metadata.BuildMethod: makefile) are:
     * DIR/<LogicalId>/bootstrap, as `sam build` lays them out. NULL:
     * .aws-sam/build beside the template. */
    const char *build_dir;
    /* "Secret=value": the value of an AWS::SecretsManager::Secret (by
     * logical id or name), which functions read through the emulator's
     * Secrets Manager API (secrets_api.h). NULL-terminated, or NULL. */
    const char *const *secrets;
    /* Where the functions' other AWS calls go (DynamoDB, S3): a local peer
     * such as moto_server, as AWS_ENDPOINT_URL. NULL: AWS's own. */
    const char *aws_endpoint;
} em_service_opts;

/* Loads the template and starts serving; warnings name what is not
 * emulated. */
cs_error em_service_start(const em_service_opts *opts, cs_problems *warnings, em_service **out,
                          cs_diag *diag);
uint16_t em_service_port(const em_service *svc);
void em_service_stop(em_service *svc);

#endif
