/*
 * tg_pbx: a scriptable PBX on the Tollgate C client, for tests that need a real PBX connection (the console's
 * browser suite). It reads one command a line on stdin and answers one line on stdout; pushes from the server
 * are printed as they arrive, each on a line of its own.
 *
 *   sync NUMBER NAME...      extension sync (the user name is the rest of the line) -> "ok" | "error CODE MSG"
 *   call ID EXT DIALLED      authorize                  -> "allow GRANT_MS" | "deny REASON" | "error CODE MSG"
 *   answer ID                answered                   -> "ok" | "error ..."
 *   end ID BILLABLE_MS       ended                      -> "settled COST_MICROS BALANCE_MICROS" | "error ..."
 *   quit
 * pushes: "hangup ID REASON", "cutoff ID BOUNDARY_MS", "warning ID SECONDS", "grant ID DEADLINE_MS"
 *
 * Usage: tg_pbx HOST PORT NODE_ID (the secret in TOLLGATE_SECRET).
 */
#include "tollgate_client.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_cutoff(void *user, const char *call_id, int64_t boundary_ms) {
    (void)user;
    printf("cutoff %s %lld\n", call_id, (long long)boundary_ms);
    fflush(stdout);
}

static void on_warning(void *user, const char *call_id, uint32_t seconds_left, int64_t cutoff_at_ms) {
    (void)user;
    (void)cutoff_at_ms;
    printf("warning %s %u\n", call_id, seconds_left);
    fflush(stdout);
}

static void on_grant(void *user, const char *call_id, int64_t deadline_ms, int unlimited) {
    (void)user;
    printf("grant %s %lld\n", call_id, unlimited ? -1LL : (long long)deadline_ms);
    fflush(stdout);
}

static void on_hangup(void *user, const char *call_id, const char *reason) {
    (void)user;
    printf("hangup %s %s\n", call_id, reason);
    fflush(stdout);
}

static void reply_error(int code, const tg_status *status) {
    printf("error %d %s\n", code, status->message[0] ? status->message : "-");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: tg_pbx HOST PORT NODE_ID (secret in TOLLGATE_SECRET)\n");
        return 64;
    }
    const char *secret = getenv("TOLLGATE_SECRET");
    tg_callbacks callbacks = {on_cutoff, on_warning, on_grant, on_hangup, NULL};
    tg_status status;
    tg_client *client = tg_connect(argv[1], atoi(argv[2]), argv[3], secret ? secret : "", &callbacks, &status);
    if (!client) {
        fprintf(stderr, "tg_pbx: cannot connect: %s\n", status.message);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char line[1024];
    for (;;) {
        struct pollfd input = {STDIN_FILENO, POLLIN, 0};
        int ready = poll(&input, 1, 20);
        if (ready == 0) {
            if (tg_poll(client, 20) != TG_OK) {
                printf("disconnected\n");
                fflush(stdout);
                break;
            }
            continue;
        }
        if (!fgets(line, sizeof line, stdin)) break;
        line[strcspn(line, "\r\n")] = 0;
        char command[16] = {0}, a[129] = {0}, b[129] = {0}, c[129] = {0};
        int fields = sscanf(line, "%15s %128s %128s %128s", command, a, b, c);
        int code;
        if (fields >= 1 && strcmp(command, "quit") == 0) {
            break;
        } else if (fields >= 3 && strcmp(command, "sync") == 0) {
            /* The user name is everything after the number, spaces and markup included. */
            const char *name = strstr(line + strlen("sync "), b);
            const char *numbers[1] = {a};
            const char *names[1] = {name ? name : b};
            code = tg_extension_sync(client, numbers, names, 1, &status);
            if (code == TG_OK) printf("ok\n"); else reply_error(code, &status);
        } else if (fields == 4 && strcmp(command, "call") == 0) {
            tg_authorization authorization;
            code = tg_authorize(client, a, b, c, &authorization, &status);
            if (code != TG_OK) reply_error(code, &status);
            else if (authorization.allowed) printf("allow %lld\n", authorization.grant_unlimited ? -1LL : (long long)authorization.grant_ms);
            else printf("deny %d\n", authorization.deny_reason);
        } else if (fields == 2 && strcmp(command, "answer") == 0) {
            code = tg_answered(client, a, &status);
            if (code == TG_OK) printf("ok\n"); else reply_error(code, &status);
        } else if (fields == 3 && strcmp(command, "end") == 0) {
            tg_settlement settlement;
            code = tg_ended(client, a, strtoull(b, NULL, 10), "NORMAL_CLEARING", &settlement, &status);
            if (code == TG_OK) printf("settled %lld %lld\n", (long long)settlement.cost_micros, (long long)settlement.balance_after_micros);
            else reply_error(code, &status);
        } else {
            printf("error 3 unknown command\n");
        }
        fflush(stdout);
    }
    tg_close(client);
    return 0;
}
