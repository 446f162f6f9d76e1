#include "id.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <uuid/uuid.h>

/* Random bytes are fetched from the kernel a block at a time, per thread:
 * a getrandom call per id cost the emulator's queues a system call for
 * every message id and receipt. A forked child would start with its
 * parent's block and repeat its ids, so fork drops the block. */
enum { POOL_BYTES = 4096 };

static _Thread_local uint8_t pool[POOL_BYTES];
static _Thread_local size_t pool_left;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

/* Only the forking thread lives on in the child, so its block is the one. */
static void drop_pool_in_child(void)
{
    memset(pool, 0, sizeof(pool));
    pool_left = 0;
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, drop_pool_in_child);
}

static void random_bytes(uint8_t *out, size_t n)
{
    pthread_once(&fork_handler_once, register_fork_handler);
    if (pool_left < n) {
        size_t got = 0;
        while (got < POOL_BYTES) {
            ssize_t r = getrandom(pool + got, POOL_BYTES - got, 0);
            got += r > 0 ? (size_t)r : 0;
        }
        pool_left = POOL_BYTES;
    }
    memcpy(out, pool + POOL_BYTES - pool_left, n);
    /* Used bytes are not left behind for a later reader of this memory. */
    memset(pool + POOL_BYTES - pool_left, 0, n);
    pool_left -= n;
}

void cs_uuid_v4(char out[CS_UUID_STR_LEN])
{
    uuid_t uuid;
    random_bytes(uuid, sizeof(uuid));
    uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40); /* version 4 */
    uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    uuid_unparse_lower(uuid, out);
}
