/* What the libmicrohttpd-based fakes share: a loopback address with an
 * OS-picked port, growing arrays, and counting accepted connections. */
#ifndef CS_TESTS_MHD_SERVER_H
#define CS_TESTS_MHD_SERVER_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>

/* 127.0.0.1, port 0 (the OS picks). */
struct sockaddr_in mhd_loopback(void);

/* Doubles an array's capacity (16 at first); aborts when memory runs out,
 * which only a broken test can cause. */
void *mhd_grow(void *array, size_t *cap, size_t elem);

/* A connection counter for MHD_OPTION_NOTIFY_CONNECTION. */
typedef struct mhd_counter {
    pthread_mutex_t *mu;
    size_t count;
} mhd_counter;

void mhd_count_connection(void *counter, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
size_t mhd_connections(mhd_counter *counter);

#endif
