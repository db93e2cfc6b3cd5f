/*
 * Integration tests of the C client against a real `tollgate serve` seeded by `tollgate seed`
 * (run by run-tests.sh). Swift's swift-protobuf and C's protobuf-c meet on the wire here.
 * Environment: TOLLGATE_PORT, TOLLGATE_SECRET, TOLLGATE_SERVE_PID (frozen with SIGSTOP to test the grant failsafe).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "test_env.h"
#include "tollgate_client.h"

struct seen {
    int cutoffs, warnings, grants, hangups, expired, expired_early;
    char last_cutoff[129], last_hangup_reason[64];
    int64_t last_boundary;
    int64_t frozen_at; /* monotonic ms the engine was frozen at; 0 while it runs */
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_cutoff(void *user, const char *call_id, int64_t boundary_ms) {
    struct seen *s = user;
    s->cutoffs++;
    snprintf(s->last_cutoff, sizeof s->last_cutoff, "%s", call_id);
    s->last_boundary = boundary_ms;
}
static void on_warning(void *user, const char *call_id, uint32_t left, int64_t at) {
    (void)call_id; (void)left; (void)at;
    ((struct seen *)user)->warnings++;
}
static void on_grant(void *user, const char *call_id, int64_t deadline, int unlimited) {
    (void)call_id; (void)deadline; (void)unlimited;
    ((struct seen *)user)->grants++;
}
static void on_hangup(void *user, const char *call_id, const char *reason) {
    (void)call_id;
    struct seen *s = user;
    s->hangups++;
    snprintf(s->last_hangup_reason, sizeof s->last_hangup_reason, "%s", reason);
    if (strcmp(reason, "GRANT_EXPIRED") == 0) {
        s->expired++;
        if (s->frozen_at == 0) s->expired_early++;
    }
}

enum { TRUNK_CALLS = 2000 };

/* Thousands of live calls on one client: every one of them has its grant enforced when the engine freezes. */
static void trunk(const char *secret, const char *pid_text) {
    struct seen seen = {0};
    tg_callbacks callbacks = {NULL, NULL, NULL, on_hangup, &seen};
    tg_status status;
    tg_client *c = test_connect("c-trunk", secret, &callbacks, NULL, &status);
    CHECK(c != NULL, "trunk handshake");
    if (!c) return;
    char id[32];
    int allowed = 0;
    int64_t grant_ms = 0, started = mono_ms();
    for (int i = 0; i < TRUNK_CALLS; i++) {
        snprintf(id, sizeof id, "trunk-%d", i);
        tg_authorization a;
        if (tg_authorize(c, id, "8103", "0123", &a, &status) == TG_OK && a.allowed && a.grant_ms > 0 &&
            tg_answered(c, id, &status) == TG_OK) {
            allowed++;
            grant_ms = a.grant_ms;
        }
    }
    CHECK(allowed == TRUNK_CALLS, "thousands of billed calls live on one client");
    printf("trunk: %d calls authorized and answered in %lld ms\n", allowed, (long long)(mono_ms() - started));
    CHECK(tg_grant_count(c) == TRUNK_CALLS, "each holds a grant in the client (the table grows)");
    if (pid_text) {
        pid_t pid = (pid_t)atoi(pid_text);
        kill(pid, SIGSTOP);
        seen.frozen_at = mono_ms();
        while (seen.expired < TRUNK_CALLS && mono_ms() - seen.frozen_at < grant_ms + 2000) tg_poll(c, 100);
        int64_t took = mono_ms() - seen.frozen_at;
        kill(pid, SIGCONT);
        CHECK(seen.expired == TRUNK_CALLS && seen.expired_early == 0,
              "with the engine frozen, every call's grant runs out and each is hung up, none before");
        CHECK(took <= grant_ms + 100, "all within one grant of the freeze");
        printf("trunk: %d calls hung up by the client within %lld ms of the freeze (grant %lld ms)\n", seen.expired,
               (long long)took, (long long)grant_ms);
    }
    int settled = 0;
    started = mono_ms();
    for (int i = 0; i < TRUNK_CALLS; i++) {
        snprintf(id, sizeof id, "trunk-%d", i);
        tg_settlement s;
        if (tg_ended(c, id, 1000, "GRANT_EXPIRED", &s, &status) == TG_OK && s.settled_now) settled++;
    }
    CHECK(settled == TRUNK_CALLS, "each settles once after the thaw");
    printf("trunk: settled in %lld ms\n", (long long)(mono_ms() - started));
    tg_close(c);
}

/* With a limit on the grants it holds, the client refuses a call beyond it rather than let it run unbounded. */
static void fail_closed(const char *secret) {
    tg_options options = {.max_grants = 5};
    tg_status status;
    tg_client *c = test_connect("c-limit", secret, NULL, &options, &status);
    CHECK(c != NULL, "limited handshake");
    if (!c) return;
    char id[32];
    tg_authorization a;
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "limit-%d", i);
        CHECK(tg_authorize(c, id, "8103", "0123", &a, &status) == TG_OK && a.allowed, "within the limit");
    }
    CHECK(tg_authorize(c, "limit-5", "8103", "0123", &a, &status) == TG_RESOURCE_EXHAUSTED && !a.allowed &&
              status.code == TG_RESOURCE_EXHAUSTED, "beyond it the call is refused (fail closed)");
    tg_settlement s = {0};
    CHECK(tg_ended(c, "limit-5", 0, "NO_ANSWER", &s, &status) == TG_OK && !s.settled_now,
          "and was released at the server already");
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "limit-%d", i);
        tg_ended(c, id, 0, "NO_ANSWER", &s, &status);
    }
    CHECK(tg_grant_count(c) == 0, "ended calls free their grants");
    CHECK(tg_authorize(c, "limit-6", "8103", "0123", &a, &status) == TG_OK && a.allowed, "room again");
    tg_ended(c, "limit-6", 0, "NO_ANSWER", &s, &status);
    tg_close(c);
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
    tg_callbacks callbacks = {on_cutoff, on_warning, on_grant, on_hangup, &seen};
    tg_status status;

    tg_client *refused = test_connect("c-test", "wrong", &callbacks, NULL, &status);
    CHECK(refused == NULL && status.code == TG_UNAUTHENTICATED, "a wrong secret is refused");

    tg_client *c = test_connect("c-test", secret, &callbacks, NULL, &status);
    CHECK(c != NULL, "handshake");
    if (!c) goto done;

    const char *numbers[] = {"8101", "8102"}, *names[] = {"Room 101", "Room 102"};
    CHECK(tg_extension_sync(c, numbers, names, 2, &status) == TG_OK, "extension sync");
    int64_t server_time = 0;
    CHECK(tg_heartbeat(c, &server_time, &status) == TG_OK && server_time > 0, "heartbeat");

    tg_authorization a;
    CHECK(tg_authorize(c, "locked-1", "8301", "0123", &a, &status) == TG_OK && !a.allowed && a.deny_reason == 1,
          "a locked extension is denied LOCKED");
    CHECK(tg_authorize(c, "free-1", "8401", "0123", &a, &status) == TG_OK && a.allowed && a.unbilled &&
              a.grant_unlimited, "billing off: allowed, unbilled, no grant");
    CHECK(tg_authorize(c, "bad-1", "8101", "12ab", &a, &status) == TG_INVALID_ARGUMENT &&
              strcmp(status.field, "dialled") == 0, "a malformed number names its field");

    /* 0.05 at 0.02 per second: paid at 0 s and 1 s, cut at 2 s. */
    CHECK(tg_authorize(c, "call-1", "8101", "0123", &a, &status) == TG_OK && a.allowed && a.grant_ms == 2000 &&
              a.rate_id == 1, "a billed call is allowed with the grant its money buys");
    CHECK(tg_answered(c, "call-1", &status) == TG_OK, "answered");
    for (int i = 0; i < 50 && seen.cutoffs == 0; i++) tg_poll(c, 100);
    CHECK(seen.cutoffs == 1 && strcmp(seen.last_cutoff, "call-1") == 0, "the cutoff is pushed");
    CHECK(seen.warnings >= 1, "a warning came before the cutoff");
    tg_settlement s = {0};
    CHECK(tg_ended(c, "call-1", 2000, "CUTOFF", &s, &status) == TG_OK && s.settled_now && s.result == 2 &&
              s.cost_micros == 40000 && s.billed_ms == 2000, "settled at the boundary, 0.04");
    CHECK(tg_ended(c, "call-1", 2000, "CUTOFF", &s, &status) == TG_OK && !s.settled_now, "a repeated End changes nothing");
    CHECK(tg_ended(c, "never", 1, "x", &s, &status) == TG_NOT_FOUND, "an End for an unknown call is NOT_FOUND");

    /* Grants of 2 s are renewed while the engine runs; frozen, the client hangs the call up by itself.
     * (call-1's grant ended where its money did, so its own timer may have fired at the boundary too.) */
    seen.grants = 0;
    seen.hangups = 0;
    CHECK(tg_authorize(c, "call-2", "8102", "0123", &a, &status) == TG_OK && a.allowed, "a second billed call");
    CHECK(tg_answered(c, "call-2", &status) == TG_OK, "answered");
    tg_poll(c, 2500);
    CHECK(seen.grants >= 1 && seen.hangups == 0, "grants are renewed while the engine runs");
    if (pid_text) {
        pid_t pid = (pid_t)atoi(pid_text);
        kill(pid, SIGSTOP);
        tg_poll(c, 3000);
        kill(pid, SIGCONT);
        CHECK(seen.hangups == 1 && strcmp(seen.last_hangup_reason, "GRANT_EXPIRED") == 0,
              "with the engine frozen the call is hung up when its grant expires");
    }
    CHECK(tg_ended(c, "call-2", 5000, "GRANT_EXPIRED", &s, &status) == TG_OK && s.settled_now, "call-2 settles");

    /* The connection drops with call-3 ringing; its PBX answers it meanwhile. The resync reports it answered
     * 1.5 s ago; lost-1 was never seen by this server, as if a restart lost it: in the grace period after the
     * server's start it is authorized again. A call of a locked extension is refused and reported unknown. */
    CHECK(tg_authorize(c, "call-3", "8102", "0123", &a, &status) == TG_OK && a.allowed, "call-3 is allowed");
    tg_poll(c, 1600);
    tg_close(c);
    c = test_connect("c-test", secret, &callbacks, NULL, &status);
    CHECK(c != NULL, "reconnected");
    if (!c) goto done;
    tg_live_call live[] = {
        {"call-3", "8102", "0123", 1, 1500},
        {"lost-1", "8102", "0123", 0, 0},
        {"lost-2", "8301", "0123", 0, 0},
    };
    size_t adopted = 0;
    CHECK(tg_resync(c, live, 3, &adopted, &status) == TG_OK && adopted == 2,
          "a resync adopts the known call and the lost one, not the locked one");
    CHECK(tg_ended(c, "call-3", 1500, "NORMAL_CLEARING", &s, &status) == TG_OK && s.settled_now && s.result == 1 &&
              s.billed_ms == 1500 && s.cost_micros == 40000, "call-3, answered only in the resync, is billed from its answer");
    CHECK(tg_ended(c, "lost-1", 0, "NO_ANSWER", &s, &status) == TG_OK && s.settled_now && s.result == 3,
          "the lost call settles as unanswered");
    CHECK(tg_ended(c, "lost-2", 0, "NO_ANSWER", &s, &status) == TG_NOT_FOUND, "the refused one is not live");
    /* lost-3 ended while the server was down, before it was stored: its End, sent again naming the call, is settled
     * as answered 2 s before now (units at 0 and 1 s: 0.04). Without the names it would be NOT_FOUND. */
    CHECK(tg_ended(c, "lost-3", 2000, "NORMAL_CLEARING", &s, &status) == TG_NOT_FOUND,
          "an End for a call the server never saw is NOT_FOUND");
    CHECK(tg_ended_call(c, "lost-3", 2000, "NORMAL_CLEARING", "8102", "0123", &s, &status) == TG_OK && s.settled_now &&
              s.result == 1 && s.billed_ms == 2000 && s.cost_micros == 40000,
          "an End naming a call the restart lost whole is settled from it");
    tg_close(c);

    trunk(secret, pid_text);
    fail_closed(secret);

done:
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
