/* The echo function used by the runtime benchmark: responds with the event.
 * Its Node.js twin is bench/runtime/node/index.mjs. */
#include "runtime.h"

static cs_error echo(void *user, const cs_invocation *inv, cs_buf *response, cs_diag *diag)
{
    (void)user;
    (void)diag;
    return cs_buf_append_str(response, inv->event);
}

int main(void)
{
    cs_runtime_opts opts = {.handler = echo};
    return cs_runtime_main(&opts);
}
