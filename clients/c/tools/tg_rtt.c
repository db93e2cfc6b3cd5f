/*
 * Round trips of the client, for comparing plaintext and TLS: N heartbeats one after another on one connection
 * (default mode), then the median, 99th percentile and maximum in microseconds.
 * Usage: tg_rtt HOST PORT COUNT  (TOLLGATE_SECRET; TOLLGATE_TLS_CA, and TOLLGATE_TLS_CERT / TOLLGATE_TLS_KEY for a
 * port with a client CA, select TLS; TOLLGATE_NODE names the node, default tg-rtt)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tollgate_client.h"

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4 || atoi(argv[3]) <= 0) {
        fprintf(stderr, "usage: tg_rtt HOST PORT COUNT\n");
        return 64;
    }
    int count = atoi(argv[3]);
    const char *secret = getenv("TOLLGATE_SECRET"), *ca = getenv("TOLLGATE_TLS_CA");
    const char *node = getenv("TOLLGATE_NODE") ? getenv("TOLLGATE_NODE") : "tg-rtt";
    tg_tls_options tls = {.ca_file = ca, .cert_file = getenv("TOLLGATE_TLS_CERT"), .key_file = getenv("TOLLGATE_TLS_KEY")};
    tg_status status;
    tg_client *c = tg_connect_tls(argv[1], atoi(argv[2]), node, secret ? secret : "", NULL, NULL, ca ? &tls : NULL,
                                  &status);
    if (!c) {
        fprintf(stderr, "tg_rtt: %s\n", status.message);
        return 1;
    }
    int64_t *took = malloc((size_t)count * sizeof *took);
    if (!took) return 1;
    for (int i = 0; i < count; i++) {
        int64_t start = now_ns();
        if (tg_heartbeat(c, NULL, &status) != TG_OK) {
            fprintf(stderr, "tg_rtt: heartbeat %d: %s\n", i, status.message);
            return 1;
        }
        took[i] = now_ns() - start;
    }
    tg_close(c);
    qsort(took, (size_t)count, sizeof *took, by_value);
    printf("%s: %d heartbeats, round trip p50 %.1f us, p99 %.1f us, max %.1f us\n", ca ? "TLS" : "plaintext", count,
           took[count / 2] / 1000.0, took[(int64_t)count * 99 / 100] / 1000.0, took[count - 1] / 1000.0);
    free(took);
    return 0;
}
