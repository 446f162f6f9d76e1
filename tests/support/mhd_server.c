#include "mhd_server.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct sockaddr_in mhd_loopback(void)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    return addr;
}

void *mhd_grow(void *array, size_t *cap, size_t elem)
{
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *p = realloc(array, new_cap * elem);
    if (!p) {
        abort();
    }
    *cap = new_cap;
    return p;
}

void mhd_count_connection(void *counter, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    (void)socket_context;
    mhd_counter *c = counter;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(c->mu);
        c->count++;
        pthread_mutex_unlock(c->mu);
    }
}

size_t mhd_connections(mhd_counter *c)
{
    pthread_mutex_lock(c->mu);
    size_t n = c->count;
    pthread_mutex_unlock(c->mu);
    return n;
}
