/* make bench-state: idempotency check-and-set (begin, then complete) per
 * second on the SQLite backend and, for reference, on DynamoDB served by
 * moto_server on loopback. Last line:
 *   state: sqlite_ops_per_s=... dynamodb_moto_ops_per_s=... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timestamp.h"
#include "moto.h"
#include "state/state.h"

static double run(cs_state *s, int count, const char *label)
{
    int64_t start = cs_time_monotonic_us();
    for (int i = 0; i < count; i++) {
        char record[32];
        snprintf(record, sizeof(record), "order-%d", i);
        cs_idem_result r;
        cs_diag diag;
        int64_t now = cs_time_now_ms();
        if (cs_state_idem_begin(s, "bench", cs_str_from_c(record), CS_STR_LIT("1"), "bench", now,
                                60000, 86400000, &r, &diag) ||
            r.status != CS_IDEM_ACQUIRED ||
            cs_state_idem_complete(s, "bench", cs_str_from_c(record), CS_STR_LIT("1"), "bench",
                                   CS_STR_LIT("SO-1"), now, 86400000, &diag)) {
            fprintf(stderr, "%s failed at %d: %s\n", label, i, diag.message);
            exit(1);
        }
    }
    double seconds = (double)(cs_time_monotonic_us() - start) / 1e6;
    printf("%s: %d check-and-set in %.3f s, %.0f/s\n", label, count, seconds, count / seconds);
    return count / seconds;
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 2000;
    char dir[] = "/tmp/cs-bench-state-XXXXXX";
    if (!mkdtemp(dir)) {
        return 1;
    }
    char db[128], snaps[128];
    snprintf(db, sizeof(db), "%s/state.db", dir);
    snprintf(snaps, sizeof(snaps), "%s/snapshots", dir);
    cs_state *sqlite;
    cs_diag diag;
    if (cs_state_open_sqlite(db, snaps, &sqlite, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return 1;
    }
    double sqlite_rate = run(sqlite, count, "sqlite");
    cs_state_close(sqlite);

    moto peer;
    if (moto_start(&peer, false) != 0) {
        fprintf(stderr, "moto_server did not start\n");
        return 1;
    }
    cs_http_client *http = cs_http_client_new(NULL, NULL);
    cs_aws aws;
    cs_state *dynamo;
    if (cs_aws_init(&aws, http, peer.endpoint, &diag) ||
        moto_create_state(&aws, "bench", "bench-snapshots", &diag) ||
        cs_state_open_dynamodb(&aws, "bench", "bench-snapshots", &dynamo, &diag)) {
        fprintf(stderr, "%s\n", diag.message);
        return 1;
    }
    double dynamo_rate = run(dynamo, count / 4, "dynamodb on moto");
    cs_state_close(dynamo);
    cs_http_client_destroy(http);
    moto_stop(&peer);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf %s", dir);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("state: sqlite_ops_per_s=%.0f dynamodb_moto_ops_per_s=%.0f\n", sqlite_rate, dynamo_rate);
    return 0;
}
