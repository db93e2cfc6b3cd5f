/*
 * A minimal PBX module on libtollgate-client, built as a shared object the way a PBX loads its modules (Asterisk's
 * .so modules, FreeSWITCH's mod_*.so, Kamailio's modules). It shows the shape of an integration; a real module
 * wires the same calls to its channel events:
 *
 *   load      -> tg_connect_with (shared mode: the PBX's channel threads share one connection)
 *   new call  -> tg_authorize    (refuse the channel unless allowed)
 *   answer    -> tg_answered
 *   hang-up   -> tg_ended with the billable time the PBX measured
 *   callbacks -> hang the channel up (cutoff, operator hang-up, grant expired), from the client's reader thread
 *   unload    -> tg_close
 *
 * Exported entry points (what module_host looks up with dlsym): example_module_load, example_module_call,
 * example_module_unload.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tollgate_client.h"

#define EXPORT __attribute__((visibility("default")))

static tg_client *client;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char cut_call[129];

/* Runs on the client's reader thread: a real module queues a hang-up for the channel's own thread. */
static void on_hangup(void *user, const char *call_id, const char *reason) {
    (void)user;
    pthread_mutex_lock(&lock);
    snprintf(cut_call, sizeof cut_call, "%s", call_id);
    pthread_mutex_unlock(&lock);
    fprintf(stderr, "example module: hang up %s (%s)\n", call_id, reason);
}

static void on_cutoff(void *user, const char *call_id, int64_t boundary_ms) {
    (void)boundary_ms;
    on_hangup(user, call_id, "CUTOFF");
}

EXPORT int example_module_load(const char *host, int port, const char *node_id, const char *secret) {
    tg_callbacks callbacks = {.on_cutoff = on_cutoff, .on_hangup = on_hangup};
    tg_options options = {.shared = 1, .software = "example-module/1.0"};
    tg_status status;
    client = tg_connect_with(host, port, node_id, secret, &callbacks, &options, &status);
    if (!client) fprintf(stderr, "example module: %s\n", status.message);
    return client ? 0 : -1;
}

/* One call: authorized, answered, talking for talk_ms, ended. Returns the cost in micro-units, or -1. */
EXPORT long long example_module_call(const char *call_id, const char *extension, const char *dialled, int talk_ms) {
    tg_status status;
    tg_authorization a;
    if (tg_authorize(client, call_id, extension, dialled, &a, &status) != TG_OK || !a.allowed) return -1;
    if (tg_answered(client, call_id, &status) != TG_OK) return -1;
    struct timespec t = {talk_ms / 1000, (long)(talk_ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
    tg_settlement s;
    if (tg_ended(client, call_id, (uint64_t)talk_ms, "NORMAL_CLEARING", &s, &status) != TG_OK) return -1;
    return s.cost_micros;
}

EXPORT void example_module_unload(void) {
    tg_close(client);
    client = NULL;
}
