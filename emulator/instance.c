#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/id.h"
#include "core/timestamp.h"
#include "httpd.h"
#include "wait.h"

enum {
    MAX_RESPONSE_BYTES = 6 * 1024 * 1024,
    ID_LEN = 128,
    TYPE_LEN = 128,
    POLL_MS = 10,
    TAIL_BYTES = EM_LOG_TAIL_BYTES,
};

static const char next_path[] = "/2018-06-01/runtime/invocation/next";
static const char invocation_prefix[] = "/2018-06-01/runtime/invocation/";
static const char init_error_path[] = "/2018-06-01/runtime/init/error";

/* What the function posted: a response, an error, or an init error. */
typedef struct answer {
    bool present;
    bool is_error;
    char *body;
    size_t len;
    char error_type[TYPE_LEN];
    int64_t at_ns;
} answer;

struct em_instance {
    const em_function_config *config;
    pid_t pid;
    bool dead;
    int exit_status;
    struct MHD_Daemon *daemon;
    char address[32];
    char arn[256];
    char arn_suffix[33]; /* the log stream's instance id */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    int64_t started_ns;
    int64_t first_next_ns;
    bool warm; /* has run an invocation */
    /* The invocation in progress; payload is the invoker's, valid while it
     * waits. */
    bool pending;
    bool handed_out;
    char request_id[ID_LEN];
    cs_str payload;
    const char *client_context;
    int64_t deadline_ms;
    int64_t handed_ns;
    answer reply;
    answer init_error;
    /* The process's output: a thread reads the pipe, writes each line to
     * the log prefixed with the function's name, and keeps the current
     * invocation's last TAIL_BYTES for X-Amz-Log-Type: Tail. */
    int output_fd;
    pthread_t reader;
    bool reader_started;
    char tail[TAIL_BYTES];
    size_t tail_len;
    int in_hand; /* atomic: the reader holds bytes not yet in the tail */
};

/* The hex digits of text, for X-Ray and log stream ids. */
static void hex_only(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (; *text && n + 1 < size; text++) {
        if (strchr("0123456789abcdef", *text)) {
            out[n++] = *text;
        }
    }
    while (n + 1 < size) {
        out[n++] = '0';
    }
    out[n] = '\0';
}

/* ---- the Runtime API ---- */

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, const char *body)
{
    return em_reply(conn, status, "application/json", body, strlen(body), NULL);
}

/* Builds the /next answer; called with the lock held, so the payload is
 * copied before the invoker can give up on it. */
static struct MHD_Response *event_response(em_instance *inst)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        inst->payload.len, (void *)inst->payload.ptr, MHD_RESPMEM_MUST_COPY);
    char deadline[24];
    snprintf(deadline, sizeof(deadline), "%lld", (long long)inst->deadline_ms);
    char hex[33], trace[96];
    hex_only(inst->request_id, hex, sizeof(hex));
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%.24s;Parent=%.16s;Sampled=0",
             (long long)(inst->deadline_ms / 1000), hex, hex + 8);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", inst->request_id);
    MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", inst->arn);
    MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", trace);
    if (inst->client_context) {
        MHD_add_response_header(r, "Lambda-Runtime-Client-Context", inst->client_context);
    }
    return r;
}

/* Long-polls, as Lambda does, until an invocation is waiting. */
static enum MHD_Result handle_next(em_instance *inst, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&inst->mu);
    if (!inst->first_next_ns) {
        inst->first_next_ns = (cs_time_monotonic_us() * 1000);
        pthread_cond_broadcast(&inst->cond);
    }
    while (!inst->stopping && !(inst->pending && !inst->handed_out)) {
        pthread_cond_wait(&inst->cond, &inst->mu);
    }
    if (inst->stopping) {
        pthread_mutex_unlock(&inst->mu);
        return MHD_NO;
    }
    inst->handed_out = true;
    inst->handed_ns = (cs_time_monotonic_us() * 1000);
    struct MHD_Response *r = event_response(inst);
    pthread_mutex_unlock(&inst->mu);
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static void keep(answer *a, em_upload *up, bool is_error, const char *error_type)
{
    a->present = true;
    a->is_error = is_error;
    a->len = up->len;
    a->body = em_upload_take(up);
    snprintf(a->error_type, sizeof(a->error_type), "%s", error_type ? error_type : "");
    a->at_ns = (cs_time_monotonic_us() * 1000);
}

/* 202 for the invocation in progress, 403 when that id was already
 * answered, 400 for any other id. */
static unsigned take_answer(em_instance *inst, const char *id, size_t id_len, bool is_error,
                            const char *error_type, em_upload *up)
{
    bool handed = inst->handed_out && strlen(inst->request_id) == id_len &&
                  memcmp(inst->request_id, id, id_len) == 0;
    if (!handed) {
        return MHD_HTTP_BAD_REQUEST;
    }
    if (!inst->pending || inst->reply.present) {
        return MHD_HTTP_FORBIDDEN;
    }
    if (up->too_large) {
        return MHD_HTTP_CONTENT_TOO_LARGE;
    }
    keep(&inst->reply, up, is_error, error_type);
    return MHD_HTTP_ACCEPTED;
}

static enum MHD_Result handle_post(em_instance *inst, struct MHD_Connection *conn, const char *url,
                                   em_upload *up)
{
    const char *error_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
    unsigned status;
    pthread_mutex_lock(&inst->mu);
    if (strcmp(url, init_error_path) == 0) {
        status = inst->init_error.present || inst->warm ? MHD_HTTP_FORBIDDEN : MHD_HTTP_ACCEPTED;
        if (status == MHD_HTTP_ACCEPTED) {
            keep(&inst->init_error, up, true, error_type);
        }
    } else {
        const char *id = url + strlen(invocation_prefix);
        const char *slash = strchr(id, '/');
        bool response = slash && strcmp(slash, "/response") == 0;
        bool error = slash && strcmp(slash, "/error") == 0;
        status = response || error
                     ? take_answer(inst, id, (size_t)(slash - id), error, error_type, up)
                     : MHD_HTTP_NOT_FOUND;
    }
    pthread_cond_broadcast(&inst->cond);
    pthread_mutex_unlock(&inst->mu);
    switch (status) {
    case MHD_HTTP_ACCEPTED:
        return reply_json(conn, status, "{\"status\":\"OK\"}");
    case MHD_HTTP_FORBIDDEN:
        return reply_json(conn, status,
                          "{\"errorMessage\":\"Invalid state transition: already answered\","
                          "\"errorType\":\"InvalidStateTransition\"}");
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return reply_json(conn, status,
                          "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 "
                          "bytes).\",\"errorType\":\"RequestEntityTooLarge\"}");
    case MHD_HTTP_NOT_FOUND:
        return reply_json(conn, status, "{\"errorMessage\":\"no such path\"}");
    default:
        return reply_json(conn, status,
                          "{\"errorMessage\":\"Invalid request ID\",\"errorType\":"
                          "\"InvalidRequestID\"}");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    em_instance *inst = cls;
    em_upload *up = *con_cls;
    if (!up) {
        /* Answering on the first call would make MHD close the connection;
         * the runtime keeps one connection alive, as with Lambda. */
        *con_cls = calloc(1, sizeof(em_upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (strcmp(method, "GET") == 0) {
        return strcmp(url, next_path) == 0
                   ? handle_next(inst, conn)
                   : reply_json(conn, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"no such path\"}");
    }
    if (*data_size) {
        em_upload_collect(up, data, *data_size, MAX_RESPONSE_BYTES);
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 ||
        (strncmp(url, invocation_prefix, strlen(invocation_prefix)) != 0 &&
         strcmp(url, init_error_path) != 0)) {
        return reply_json(conn, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"no such path\"}");
    }
    return handle_post(inst, conn, url, up);
}

static cs_error serve(em_instance *inst, cs_diag *diag)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    inst->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
        NULL, on_request, inst, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
        em_upload_completed, NULL, MHD_OPTION_END);
    if (!inst->daemon) {
        return cs_diag_set(diag, CS_ERR_IO, "cannot serve the Runtime API for '%s'",
                           inst->config->name);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(inst->daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(inst->address, sizeof(inst->address), "127.0.0.1:%u", (unsigned)info->port);
    return CS_ERR_OK;
}

/* ---- the process ---- */

enum { LAMBDA_VARS = 24 };

static bool add_var(char **env, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool add_var(char **env, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(&env[*n], fmt, ap);
    va_end(ap);
    if (len < 0) {
        env[*n] = NULL;
        return false;
    }
    (*n)++;
    return true;
}

static void free_environment(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        free(env[i]);
    }
    free(env);
}

/* The environment Lambda gives a function, then the template's. Built
 * before fork: the child may only call async-signal-safe functions. */
static char **lambda_environment(const em_instance *inst)
{
    const em_function_config *c = inst->config;
    size_t extra = 0;
    while (c->env && c->env[extra]) {
        extra++;
    }
    char **env = calloc(extra + LAMBDA_VARS + 1, sizeof(char *));
    if (!env) {
        return NULL;
    }
    size_t n = 0;
    const char *path = getenv("PATH");
    bool ok = add_var(env, &n, "PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin") &&
              add_var(env, &n, "AWS_LAMBDA_RUNTIME_API=%s", inst->address) &&
              add_var(env, &n, "AWS_LAMBDA_FUNCTION_NAME=%s", c->name) &&
              add_var(env, &n, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%lld", (long long)c->memory_mb) &&
              add_var(env, &n, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST") &&
              add_var(env, &n, "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", c->name) &&
              add_var(env, &n, "AWS_LAMBDA_LOG_STREAM_NAME=local/[$LATEST]%s", inst->arn_suffix) &&
              add_var(env, &n, "AWS_REGION=%s", c->region) &&
              add_var(env, &n, "AWS_DEFAULT_REGION=%s", c->region) &&
              add_var(env, &n, "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023") &&
              add_var(env, &n, "LAMBDA_TASK_ROOT=%s", c->task_root) &&
              add_var(env, &n, "LAMBDA_RUNTIME_DIR=%s", c->task_root) &&
              /* Lambda's puts /var/task and /var/task/lib first: a package's
               * own libraries (make package) win over the machine's. */
              add_var(env, &n, "LD_LIBRARY_PATH=%s:%s/lib", c->task_root, c->task_root) &&
              add_var(env, &n, "_HANDLER=%s", c->handler ? c->handler : "bootstrap") &&
              add_var(env, &n, "TZ=:UTC") && add_var(env, &n, "LANG=en_US.UTF-8") &&
              /* The execution role's credentials, as Lambda gives them. */
              add_var(env, &n, "AWS_ACCESS_KEY_ID=%s",
                      c->access_key_id ? c->access_key_id : "EMULATOR") &&
              add_var(env, &n, "AWS_SECRET_ACCESS_KEY=emulator") &&
              (!c->sqs_endpoint || !c->sqs_endpoint[0] ||
               (add_var(env, &n, "AWS_ENDPOINT_URL_SQS=%s", c->sqs_endpoint) &&
                add_var(env, &n, "AWS_ENDPOINT_URL_SECRETS_MANAGER=%s", c->sqs_endpoint))) &&
              (!c->aws_endpoint || !c->aws_endpoint[0] ||
               add_var(env, &n, "AWS_ENDPOINT_URL=%s", c->aws_endpoint));
    for (size_t i = 0; ok && i < extra; i++) {
        ok = add_var(env, &n, "%s", c->env[i]);
    }
    if (!ok) {
        free_environment(env);
        return NULL;
    }
    return env;
}

/* PR_SET_PDEATHSIG fires when the *thread* that forked exits, and pools
 * start instances from short-lived threads. So every fork happens on one
 * thread that lives as long as the process. */
typedef struct fork_job {
    char **env;
    const em_function_config *config;
    int output_fd; /* the pipe's write end, for stdout and stderr */
    pid_t pid;
    int error;
    bool done;
} fork_job;

static pthread_once_t forker_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t forker_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forker_cond = PTHREAD_COND_INITIALIZER;
static fork_job *forker_job;
static bool forker_running;

static void run_fork(fork_job *job)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* A function never outlives the emulator. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || chdir(job->config->task_root) != 0) {
            _exit(127);
        }
        dup2(job->output_fd, STDOUT_FILENO);
        dup2(job->output_fd, STDERR_FILENO);
        char *argv[] = {(char *)job->config->bootstrap, NULL};
        execve(job->config->bootstrap, argv, job->env);
        _exit(127);
    }
    job->pid = pid;
    job->error = pid < 0 ? errno : 0;
}

static void *forker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&forker_mu);
    for (;;) {
        while (!forker_job) {
            pthread_cond_wait(&forker_cond, &forker_mu);
        }
        run_fork(forker_job);
        forker_job->done = true;
        forker_job = NULL;
        pthread_cond_broadcast(&forker_cond);
    }
    return NULL;
}

static void start_forker(void)
{
    pthread_t thread;
    forker_running = pthread_create(&thread, NULL, forker, NULL) == 0;
    if (forker_running) {
        pthread_detach(thread);
    }
}

static void fork_on_forker(fork_job *job)
{
    pthread_once(&forker_once, start_forker);
    if (!forker_running) {
        run_fork(job);
        return;
    }
    pthread_mutex_lock(&forker_mu);
    while (forker_job) {
        pthread_cond_wait(&forker_cond, &forker_mu);
    }
    forker_job = job;
    pthread_cond_broadcast(&forker_cond);
    while (!job->done) {
        pthread_cond_wait(&forker_cond, &forker_mu);
    }
    pthread_mutex_unlock(&forker_mu);
}

/* Keeps the last TAIL_BYTES of the invocation's output; lock held. */
static void keep_tail(em_instance *inst, const char *data, size_t len)
{
    if (len >= TAIL_BYTES) {
        data += len - TAIL_BYTES;
        len = TAIL_BYTES;
    }
    if (inst->tail_len + len > TAIL_BYTES) {
        size_t drop = inst->tail_len + len - TAIL_BYTES;
        memmove(inst->tail, inst->tail + drop, inst->tail_len - drop);
        inst->tail_len -= drop;
    }
    memcpy(inst->tail + inst->tail_len, data, len);
    inst->tail_len += len;
}

/* Writes one line to the log as "name: line\n" in one write. */
static void log_line(const em_instance *inst, const char *line, size_t len)
{
    char out[8192];
    int n = snprintf(out, sizeof(out), "%s: %.*s\n", inst->config->name,
                     (int)(len > sizeof(out) - 200 ? sizeof(out) - 200 : len), line);
    if (inst->config->log_fd >= 0 && n > 0 && write(inst->config->log_fd, out, (size_t)n) < 0) {
        return; /* the log is gone; the function goes on */
    }
}

static void *read_output(void *arg)
{
    em_instance *inst = arg;
    char buf[8192];
    size_t held = 0;
    for (;;) {
        ssize_t n = read(inst->output_fd, buf + held, sizeof(buf) - held);
        if (n <= 0) {
            break;
        }
        __atomic_store_n(&inst->in_hand, 1, __ATOMIC_RELEASE);
        pthread_mutex_lock(&inst->mu);
        keep_tail(inst, buf + held, (size_t)n);
        __atomic_store_n(&inst->in_hand, 0, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&inst->mu);
        held += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < held; i++) {
            if (buf[i] == '\n') {
                log_line(inst, buf + start, i - start);
                start = i + 1;
            }
        }
        /* A line longer than the buffer is logged in pieces. */
        if (start == 0 && held == sizeof(buf)) {
            log_line(inst, buf, held);
            start = held;
        }
        memmove(buf, buf + start, held - start);
        held -= start;
    }
    if (held) {
        log_line(inst, buf, held);
    }
    return NULL;
}

static cs_error spawn(em_instance *inst, cs_diag *diag)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return cs_diag_set(diag, CS_ERR_IO, "cannot start '%s': %s", inst->config->name,
                           strerror(errno));
    }
    fork_job job = {.env = lambda_environment(inst), .config = inst->config, .output_fd = fds[1]};
    if (!job.env) {
        close(fds[0]);
        close(fds[1]);
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    inst->started_ns = (cs_time_monotonic_us() * 1000);
    fork_on_forker(&job);
    free_environment(job.env);
    close(fds[1]);
    inst->output_fd = fds[0];
    if (job.pid < 0) {
        return cs_diag_set(diag, CS_ERR_IO, "cannot start '%s': %s", inst->config->name,
                           strerror(job.error));
    }
    inst->pid = job.pid;
    inst->reader_started = pthread_create(&inst->reader, NULL, read_output, inst) == 0;
    return CS_ERR_OK;
}

cs_error em_instance_start(const em_function_config *config, em_instance **out, cs_diag *diag)
{
    if (access(config->bootstrap, X_OK) != 0) {
        return cs_diag_set(diag, CS_ERR_CONFIG, "function '%s': '%s' is not an executable",
                           config->name, config->bootstrap);
    }
    em_instance *inst = calloc(1, sizeof(*inst));
    if (!inst) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    inst->config = config;
    inst->output_fd = -1;
    pthread_mutex_init(&inst->mu, NULL);
    pthread_cond_init(&inst->cond, NULL);
    snprintf(inst->arn, sizeof(inst->arn), "arn:aws:lambda:%s:000000000000:function:%s",
             config->region, config->name);
    char uuid[CS_UUID_STR_LEN];
    cs_uuid_v4(uuid);
    hex_only(uuid, inst->arn_suffix, sizeof(inst->arn_suffix));
    cs_error r = serve(inst, diag);
    if (!r) {
        r = spawn(inst, diag);
    }
    if (r) {
        em_instance_stop(inst);
        return r;
    }
    *out = inst;
    return CS_ERR_OK;
}

/* Reaps the process if it has exited; call with the lock held. */
static bool exited(em_instance *inst)
{
    if (!inst->dead && waitpid(inst->pid, &inst->exit_status, WNOHANG) == inst->pid) {
        inst->dead = true;
    }
    return inst->dead;
}

static void kill_process(em_instance *inst)
{
    if (inst->pid > 0 && !inst->dead) {
        kill(inst->pid, SIGKILL);
        waitpid(inst->pid, &inst->exit_status, 0);
        inst->dead = true;
    }
}

const char *em_instance_runtime_api(const em_instance *inst)
{
    return inst->address;
}

bool em_instance_usable(const em_instance *inst)
{
    return !inst->dead;
}

void em_instance_stop(em_instance *inst)
{
    if (!inst) {
        return;
    }
    pthread_mutex_lock(&inst->mu);
    kill_process(inst);
    inst->stopping = true;
    pthread_cond_broadcast(&inst->cond);
    pthread_mutex_unlock(&inst->mu);
    if (inst->daemon) {
        MHD_stop_daemon(inst->daemon);
    }
    if (inst->reader_started) {
        pthread_join(inst->reader, NULL); /* ends at EOF, now the process is gone */
    }
    if (inst->output_fd >= 0) {
        close(inst->output_fd);
    }
    free(inst->reply.body);
    free(inst->init_error.body);
    pthread_cond_destroy(&inst->cond);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
}

/* ---- invoking ---- */

/* Peak resident memory of the process, rounded up to MB as Lambda reports. */
static int64_t max_memory_mb(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long long kb = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmHWM: %lld kB", &kb) == 1) {
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return (kb + 1023) / 1024;
}

static char *error_json(size_t *len, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* {"errorType":type,"errorMessage":...}; the message never holds quotes. */
static char *error_json(size_t *len, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = NULL;
    int n = vasprintf(&message, fmt, ap);
    va_end(ap);
    char *json = NULL;
    if (n >= 0) {
        n = asprintf(&json, "{\"errorType\":\"%s\",\"errorMessage\":\"%s\"}", type, message);
        free(message);
    }
    *len = n < 0 ? 0 : (size_t)n;
    return n < 0 ? NULL : json;
}

static void exit_detail(int status, char *out, size_t size)
{
    if (WIFSIGNALED(status)) {
        snprintf(out, size, "signal: %s", strsignal(WTERMSIG(status)));
    } else {
        snprintf(out, size, "exit status %d", WEXITSTATUS(status));
    }
}

/* Fills out from whatever ended the wait; lock held. */
static void conclude(em_instance *inst, em_outcome outcome, em_result *out)
{
    out->outcome = outcome;
    char detail[96];
    switch (outcome) {
    case EM_OUTCOME_OK:
    case EM_OUTCOME_FUNCTION_ERROR:
        out->payload = inst->reply.body;
        out->payload_len = inst->reply.len;
        inst->reply.body = NULL;
        snprintf(out->error_type, sizeof(out->error_type), "%s",
                 outcome == EM_OUTCOME_OK ? "" : "Unhandled");
        return;
    case EM_OUTCOME_INIT_ERROR:
        if (inst->init_error.present) {
            out->payload = inst->init_error.body;
            out->payload_len = inst->init_error.len;
            inst->init_error.body = NULL;
            snprintf(out->error_type, sizeof(out->error_type), "Unhandled");
            return;
        }
        exit_detail(inst->exit_status, detail, sizeof(detail));
        out->payload = error_json(&out->payload_len, "Runtime.ExitError",
                                  "RequestId: %s Error: Runtime exited without providing a reason "
                                  "(%s)",
                                  inst->request_id, detail);
        snprintf(out->error_type, sizeof(out->error_type), "Unhandled");
        return;
    case EM_OUTCOME_TIMEOUT:
        out->payload = error_json(&out->payload_len, "Sandbox.Timedout",
                                  "RequestId: %s Error: Task timed out after %lld.00 seconds",
                                  inst->request_id, (long long)inst->config->timeout_s);
        snprintf(out->error_type, sizeof(out->error_type), "Unhandled");
        return;
    case EM_OUTCOME_CRASH:
        exit_detail(inst->exit_status, detail, sizeof(detail));
        out->payload = error_json(&out->payload_len, "Runtime.ExitError",
                                  "RequestId: %s Error: Runtime exited with error: %s",
                                  inst->request_id, detail);
        snprintf(out->error_type, sizeof(out->error_type), "Unhandled");
        return;
    }
}

/* Waits, lock held, for the answer, an init error, the deadline or death. */
static em_outcome wait_for_end(em_instance *inst, int64_t deadline_ns)
{
    for (;;) {
        if (inst->reply.present) {
            return inst->reply.is_error ? EM_OUTCOME_FUNCTION_ERROR : EM_OUTCOME_OK;
        }
        if (inst->init_error.present) {
            return EM_OUTCOME_INIT_ERROR;
        }
        if (exited(inst)) {
            return inst->first_next_ns ? EM_OUTCOME_CRASH : EM_OUTCOME_INIT_ERROR;
        }
        int64_t left = deadline_ns - (cs_time_monotonic_us() * 1000);
        if (left <= 0) {
            return EM_OUTCOME_TIMEOUT;
        }
        /* The process may die without a word, so the wait is in slices. */
        em_wait_for(&inst->cond, &inst->mu,
                    left / 1000000 < POLL_MS ? left / 1000000 + 1 : POLL_MS);
    }
}

/* Lets the reader catch up with what the process wrote before answering,
 * then copies the tail; lock held. */
static void take_tail(em_instance *inst, em_result *out)
{
    for (int waited = 0; waited < 50 && inst->output_fd >= 0; waited++) {
        int pending = 0;
        if (ioctl(inst->output_fd, FIONREAD, &pending) != 0 ||
            (pending == 0 && !__atomic_load_n(&inst->in_hand, __ATOMIC_ACQUIRE))) {
            break;
        }
        em_wait_for(&inst->cond, &inst->mu, 1);
    }
    out->log_tail = malloc(inst->tail_len + 1);
    if (out->log_tail) {
        memcpy(out->log_tail, inst->tail, inst->tail_len);
        out->log_tail[inst->tail_len] = '\0';
        out->log_tail_len = inst->tail_len;
    }
}

static void measure(em_instance *inst, int64_t invoked_ns, em_result *out)
{
    int64_t begin = inst->handed_out ? inst->handed_ns : invoked_ns;
    int64_t end = inst->reply.present ? inst->reply.at_ns : (cs_time_monotonic_us() * 1000);
    out->duration_ms = (double)(end - begin) / 1e6;
    out->billed_ms = (end - begin + 999999) / 1000000;
    out->init_ms = inst->warm || !inst->first_next_ns
                       ? -1
                       : (double)(inst->first_next_ns - inst->started_ns) / 1e6;
    out->max_memory_mb = inst->dead ? 0 : max_memory_mb(inst->pid);
}

cs_error em_instance_invoke(em_instance *inst, const char *request_id, cs_str payload,
                            const char *client_context, em_result *out, cs_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (strlen(request_id) >= ID_LEN) {
        return cs_diag_set(diag, CS_ERR_INVALID_ARGUMENT, "request id is too long");
    }
    pthread_mutex_lock(&inst->mu);
    if (inst->dead || inst->pending) {
        pthread_mutex_unlock(&inst->mu);
        return cs_diag_set(diag, CS_ERR_BUSY, "instance of '%s' is %s", inst->config->name,
                           inst->dead ? "dead" : "busy");
    }
    int64_t invoked_ns = (cs_time_monotonic_us() * 1000);
    int64_t deadline_ns = invoked_ns + inst->config->timeout_s * 1000000000;
    snprintf(inst->request_id, sizeof(inst->request_id), "%s", request_id);
    inst->payload = payload;
    inst->client_context = client_context;
    inst->deadline_ms = cs_time_now_ms() + inst->config->timeout_s * 1000;
    inst->pending = true;
    inst->handed_out = false;
    inst->tail_len = 0;
    pthread_cond_broadcast(&inst->cond);

    em_outcome outcome = wait_for_end(inst, deadline_ns);
    measure(inst, invoked_ns, out);
    if (outcome == EM_OUTCOME_TIMEOUT || outcome == EM_OUTCOME_INIT_ERROR) {
        kill_process(inst);
    }
    conclude(inst, outcome, out);
    take_tail(inst, out);
    inst->warm = true;
    inst->pending = false;
    inst->reply.present = false;
    pthread_mutex_unlock(&inst->mu);
    if (!out->payload) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    return CS_ERR_OK;
}

void em_result_clean_up(em_result *result)
{
    free(result->payload);
    free(result->log_tail);
    result->payload = NULL;
    result->log_tail = NULL;
}

void em_result_report(const em_result *r, const char *request_id, int64_t memory_mb, char out[256])
{
    int n = snprintf(out, 256,
                     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory "
                     "Size: %lld MB\tMax Memory Used: %lld MB",
                     request_id, r->duration_ms, (long long)r->billed_ms, (long long)memory_mb,
                     (long long)r->max_memory_mb);
    if (r->init_ms >= 0 && n > 0 && n < 256) {
        snprintf(out + n, 256 - (size_t)n, "\tInit Duration: %.2f ms", r->init_ms);
    }
}
