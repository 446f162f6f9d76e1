/* The product as a user runs it locally, for scenario tests: the sandbox,
 * and the emulator on the project's template.yaml with one integration
 * config, pointed at the sandbox, its state (SQLite) and snapshots in a new
 * temporary directory. Functions run from $BUILD/sam, as make fills it, or
 * from $CS_FUNCTIONS_DIR when set. */
#ifndef CS_TESTS_PROJECT_FIXTURE_H
#define CS_TESTS_PROJECT_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "connectors/commercetools/client.h"
#include "connectors/exactmax/client.h"
#include "core/json.h"
#include "emulator/sandbox/sandbox.h"
#include "emulator/service.h"
#include "net/http.h"
#include "state/state.h"

typedef struct test_project {
    sb_sandbox *sandbox;
    em_service *emulator;
    cs_http_client *http;
    char dir[40];
    char config[160];
    char sandbox_url[64];  /* http://127.0.0.1:port */
    char emulator_url[64]; /* the same for the emulator */
    int log_pipe[2], log_file;
    pthread_t log_thread;
    bool logging;
    const char *const *parameters;
    /* Set before starting: the functions' DynamoDB and S3 calls go there
     * (a moto_server) instead of AWS's; NULL for none. */
    const char *aws_endpoint;
} test_project;

/* Starts both; config names the integration ("shopify-exactmax") or is
 * the absolute path of a config file. The
 * Shopify webhook secret is TEST_WEBHOOK_SECRET. -1 (with the reason on
 * stderr) when either does not start. */
int test_project_start(test_project *p, const sb_opts *sandbox, const char *config);
/* The same with template parameters ("Name=value", NULL-ended; they win
 * over the fixture's own and last as long as p). */
int test_project_start_with(test_project *p, const sb_opts *sandbox, const char *config,
                            const char *const *parameters);
void test_project_stop(test_project *p);
/* A copy of infra/config/<integration>.json in a new file under /tmp
 * (path, at least 64 bytes), with edits: pairs of (before, insert), each
 * insert put before the first `before`, NULL-ended. -1 when a `before` is
 * not found or the file cannot be written. */
int test_config_copy(char *path, const char *integration, const char *const *edits);
/* Inserts text before the first `before` in the file at path; -1 when
 * before is not there. */
int test_config_edit(const char *path, const char *before, const char *insert);

/* Stops the emulator and starts it again on the same port and state, as a
 * redeploy does: the functions start afresh and read their config again. */
int test_project_restart(test_project *p);

#define TEST_WEBHOOK_SECRET "scenario-app-secret"

/* For a cmocka group that runs one integration: the project the setups
 * start (with the sandbox's Shopify seed 11) and the teardown stops, and
 * its order queue's URL. */
extern test_project test_scenario;
extern char test_scenario_queue[128];
int test_scenario_shopify(void **state);
int test_scenario_commercetools(void **state);
int test_scenario_stop(void **state);
/* The same with a copy of the integration's config (test_config_copy, its
 * path into config_path), for a group that edits it. */
int test_scenario_with_copy(char *config_path, const char *integration, const char *const *edits);

/* Sends a Shopify webhook of topic orders/create from the shop, signed
 * with TEST_WEBHOOK_SECRET, onto the order queue as webhook-ingress would. */
void test_project_send_webhook(test_project *p, cs_str body, const char *shop_domain,
                               const char *webhook_id);

/* backfill's payload for a run over [from_ms, to_ms), in pages of
 * page_size, of entities (a JSON list; NULL: the default), into out. */
void test_backfill_payload(char *out, size_t len, const char *run, int64_t from_ms, int64_t to_ms,
                           int page_size, const char *entities);

/* Points a sandbox shop's ("us-store") order webhooks at the project's
 * webhook-ingress, signed with TEST_WEBHOOK_SECRET; `extra` adds members to
 * the subscription ("\"duplicate_every\":10") or is "". */
void test_project_subscribe(test_project *p, const char *shop, const char *extra);

/* The emulator's URL for a queue of the template. */
void test_project_queue_url(const test_project *p, const char *queue, char *out, size_t len);

/* A customer checks out in a sandbox shop ("us-store"): the order as its
 * REST JSON, parsed, and (when text is not NULL) its text, in test_arena. */
const cs_json *test_project_place_order(test_project *p, const char *shop, char **text);

/* The same in the sandbox's commercetools project (its Order JSON). */
const cs_json *test_project_place_ct_order(test_project *p);
/* A commercetools client of the sandbox's project; the caller destroys it. */
cs_commercetools *test_project_commercetools(test_project *p);

/* POST to the sandbox (path from its root); the answer in test_arena. */
char *test_project_sandbox_post(test_project *p, const char *path, const char *body, long *status);

/* Sends a message (with String attributes as name, value pairs, NULL
 * ended) to a queue through the emulator's SQS API; fails the test unless
 * it is accepted. */
void test_project_send(test_project *p, const char *queue_url, cs_str body,
                       const char *const *attributes);

/* Invokes a function of the template and waits for its answer (JSON, in
 * test_arena); fails the test when the function fails. */
const cs_json *test_project_invoke(test_project *p, const char *function, const char *payload);

/* What the functions have written to stdout and stderr so far (at most
 * TEST_LOG_MAX bytes), in test_arena. */
enum { TEST_LOG_MAX = 4 * 1024 * 1024 };
char *test_project_log(const test_project *p);

/* The pids of the running instances of a function of the template (its
 * logical id, "OrderExport"), at most max of them; how many. */
size_t test_project_function_pids(const char *logical_id, pid_t *pids, size_t max);

/* The state the functions keep; NULL before any function has written it. */
cs_state *test_project_state(const test_project *p);

/* The MAX id a Shopify record's key ("customer:shopify:us:7000000001",
 * "product:shopify:us:40000000") is linked to in an id map ("customer",
 * "product"), in test_arena; "" when none. */
const char *test_project_link(const test_project *p, const char *entity, const char *key);

/* Every sales order of a type ("CU", "CR") MAX holds, each element a MAX
 * order object, in test_arena; *count how many. */
const cs_json **test_project_max_orders(test_project *p, const char *s_type, size_t *count);

/* The same for another of the bridge's resources ("customers", ...). */
const cs_json **test_project_max_records(test_project *p, const char *resource, const char *s_type,
                                         size_t *count);

/* A client of the sandbox's MAX bridge (cs_exactmax_destroy it). */
cs_exactmax *test_project_max(test_project *p);

/* The sum of a MAX order's lines (price x quantity) in minor units of its
 * currency; fails the test on an amount that is not one. */
int64_t test_max_order_amount(const cs_json *order);

/* The entries of the error queue with a status ("open"), in test_arena. */
size_t test_project_errors(test_project *p, const char *status, cs_error_entry **entries);

#endif
