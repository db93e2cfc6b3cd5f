/*
 * The shared mode against a real `tollgate serve` seeded by `tollgate seed` (run by run-tests.sh, also built with
 * ThreadSanitizer): many threads place calls on one client at once, each reply reaches the thread that asked, the
 * reader thread runs the callbacks and enforces grants with the engine frozen, and a reconnect keeps the client's
 * grants. Environment: TOLLGATE_PORT, TOLLGATE_SECRET, TOLLGATE_SERVE_PID (SIGSTOP freezes the engine).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_env.h"
#include "tollgate_client.h"

enum { THREADS = 8, CALLS_PER_THREAD = 60 };

static atomic_int passed, failed;

#define CHECK(condition, what)                                                   \
    do {                                                                         \
        if (condition) {                                                         \
            atomic_fetch_add(&passed, 1);                                        \
        } else {                                                                 \
            atomic_fetch_add(&failed, 1);                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what);       \
        }                                                                        \
    } while (0)

struct seen {
    atomic_int grants, hangups, expired, on_main_thread;
    pthread_t main_thread;
};

static void on_grant(void *user, const char *call_id, int64_t deadline, int unlimited) {
    (void)call_id; (void)deadline; (void)unlimited;
    struct seen *s = user;
    atomic_fetch_add(&s->grants, 1);
    if (pthread_equal(pthread_self(), s->main_thread)) atomic_fetch_add(&s->on_main_thread, 1);
}

static void on_hangup(void *user, const char *call_id, const char *reason) {
    (void)call_id;
    struct seen *s = user;
    atomic_fetch_add(&s->hangups, 1);
    if (strcmp(reason, "GRANT_EXPIRED") == 0) atomic_fetch_add(&s->expired, 1);
    if (pthread_equal(pthread_self(), s->main_thread)) atomic_fetch_add(&s->on_main_thread, 1);
}

struct worker {
    tg_client *client;
    int index;
    int settled;
    int64_t cost;
};

/* Thread i bills each call (i + 1) tenths of a second (one unit, 0.02): each settlement names the billed time it
 * was asked for, so a reply handed to the wrong thread shows. */
static void *place_calls(void *argument) {
    struct worker *w = argument;
    for (int k = 0; k < CALLS_PER_THREAD; k++) {
        char id[64];
        snprintf(id, sizeof id, "shared-%d-%d-%d", (int)getpid(), w->index, k);
        tg_status status;
        tg_authorization a;
        if (tg_authorize(w->client, id, "8103", "0123", &a, &status) != TG_OK || !a.allowed) {
            fprintf(stderr, "authorize %s: %d %s\n", id, status.code, status.message);
            continue;
        }
        if (tg_answered(w->client, id, &status) != TG_OK) continue;
        int64_t now = 0;
        tg_heartbeat(w->client, &now, &status);
        tg_settlement s = {0};
        if (tg_ended(w->client, id, (uint64_t)(w->index + 1) * 100, "NORMAL_CLEARING", &s, &status) == TG_OK &&
            s.settled_now && s.billed_ms == (w->index + 1) * 100) {
            w->settled++;
            w->cost += s.cost_micros;
        }
    }
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

int main(void) {
    const char *port_text = getenv("TOLLGATE_PORT");
    const char *secret = getenv("TOLLGATE_SECRET");
    const char *pid_text = getenv("TOLLGATE_SERVE_PID");
    if (!port_text || !secret) {
        fprintf(stderr, "set TOLLGATE_PORT and TOLLGATE_SECRET\n");
        return 2;
    }
    struct seen seen = {0};
    seen.main_thread = pthread_self();
    tg_callbacks callbacks = {NULL, NULL, on_grant, on_hangup, &seen};
    tg_options options = {.shared = 1, .software = "test-shared"};
    tg_status status;
    tg_client *c = test_connect("c-shared", secret, &callbacks, &options, &status);
    CHECK(c != NULL, "shared handshake");
    if (!c) goto done;

    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.client = c, .index = i};
        pthread_create(&threads[i], NULL, place_calls, &workers[i]);
    }
    int settled = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        settled += workers[i].settled;
        CHECK(workers[i].settled == CALLS_PER_THREAD && workers[i].cost == (int64_t)CALLS_PER_THREAD * 20000,
              "each thread's settlements are its own calls' (each billed the time it asked for, one unit)");
    }
    CHECK(settled == THREADS * CALLS_PER_THREAD, "every call of every thread settled once");
    CHECK(tg_grant_count(c) == 0, "no grant is left once every call ended");

    /* Grants are enforced on the reader thread: with the engine frozen, a call is hung up when its grant (2 s)
     * runs out, with no call into the client from this thread. */
    tg_authorization a;
    char frozen[64], moved[64];
    snprintf(frozen, sizeof frozen, "frozen-%d", (int)getpid());
    snprintf(moved, sizeof moved, "moved-%d", (int)getpid());
    CHECK(tg_authorize(c, frozen, "8103", "0123", &a, &status) == TG_OK && a.allowed && a.grant_ms > 0,
          "a billed call");
    CHECK(tg_answered(c, frozen, &status) == TG_OK, "answered");
    if (pid_text) {
        pid_t pid = (pid_t)atoi(pid_text);
        kill(pid, SIGSTOP);
        int waited = 0;
        while (atomic_load(&seen.expired) == 0 && waited < (int)a.grant_ms + 2000) {
            sleep_ms(50);
            waited += 50;
        }
        kill(pid, SIGCONT);
        CHECK(atomic_load(&seen.expired) == 1, "the reader thread hangs the call up when its grant runs out");
        CHECK(waited <= a.grant_ms + 1000, "within the grant (plus a renewal's half) of the answer");
    }
    tg_settlement s;
    CHECK(tg_ended(c, frozen, 1000, "GRANT_EXPIRED", &s, &status) == TG_OK, "it settles after the thaw");
    CHECK(atomic_load(&seen.on_main_thread) == 0, "no callback ran on a calling thread");

    /* A reconnect keeps the grants; the call goes on after the resync. */
    CHECK(tg_authorize(c, moved, "8103", "0123", &a, &status) == TG_OK && a.allowed, "a call before the reconnect");
    CHECK(tg_answered(c, moved, &status) == TG_OK, "answered");
    CHECK(tg_reconnect(c, &status) == TG_OK, "reconnected");
    CHECK(tg_grant_count(c) == 1, "its grant is still held");
    tg_live_call live[] = {{moved, "8103", "0123", 1, 300}};
    size_t adopted = 0;
    CHECK(tg_resync(c, live, 1, &adopted, &status) == TG_OK && adopted == 1, "the resync adopts it");
    CHECK(tg_ended(c, moved, 1000, "NORMAL_CLEARING", &s, &status) == TG_OK && s.settled_now,
          "and it settles on the new connection");
    tg_close(c);

done:
    printf("%d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
    return atomic_load(&failed) == 0 ? 0 : 1;
}
