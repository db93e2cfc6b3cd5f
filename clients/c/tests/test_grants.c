/*
 * Unit tests of the client's grant table (tg_grants.c), built with AddressSanitizer: every grant that runs out is
 * reported once, never early, in deadline order; renewals, removals and unlimited grants; the limit that makes the
 * client fail closed; and a hundred thousand calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tg_grants.h"

struct log {
    char ids[64][129];
    size_t count;
};

static void record(const char *call_id, void *context) {
    struct log *log = context;
    if (log->count < 64) snprintf(log->ids[log->count], 129, "%s", call_id);
    log->count++;
}

static void basics(void) {
    tg_grants *g = tg_grants_new(0);
    struct log log = {0};
    CHECK(tg_grants_put(g, "a", 100) == 0 && tg_grants_put(g, "b", 50) == 0 && tg_grants_put(g, "c", 200) == 0,
          "grants are recorded");
    CHECK(tg_grants_next_deadline(g) == INT64_MAX, "nothing runs before the answer");
    CHECK(tg_grants_expire(g, 1000000, record, &log) == 0, "an unanswered call never runs out");
    tg_grants_answered(g, "a", 1000);
    tg_grants_answered(g, "b", 1000);
    tg_grants_answered(g, "c", 1000);
    tg_grants_answered(g, "a", 5000); /* a second answer does not move it */
    CHECK(tg_grants_next_deadline(g) == 1050, "the earliest deadline is the shortest grant's");
    CHECK(tg_grants_expire(g, 1049, record, &log) == 0, "nothing runs out early");
    CHECK(tg_grants_expire(g, 1050, record, &log) == 1 && strcmp(log.ids[0], "b") == 0, "b runs out at 1050");
    CHECK(tg_grants_renewed(g, "a", 1300, 0) == 0, "a renewal of a held call");
    CHECK(tg_grants_expire(g, 1150, record, &log) == 0, "a renewed grant does not run out at its old deadline");
    CHECK(tg_grants_expire(g, 1300, record, &log) == 2 && strcmp(log.ids[1], "c") == 0 && strcmp(log.ids[2], "a") == 0,
          "c at 1200 then a at 1300, in deadline order");
    CHECK(tg_grants_count(g) == 0, "expired grants are gone");
    CHECK(tg_grants_renewed(g, "a", 2000, 0) == -1, "a renewal of a call not held is refused");
    tg_grants_free(g);
}

static void removals_and_unlimited(void) {
    tg_grants *g = tg_grants_new(0);
    struct log log = {0};
    tg_grants_put(g, "ended", 100);
    tg_grants_answered(g, "ended", 0);
    tg_grants_renewed(g, "ended", 150, 0);
    tg_grants_remove(g, "ended"); /* two stale heap entries name it now */
    tg_grants_put(g, "free", 100);
    tg_grants_answered(g, "free", 0);
    tg_grants_renewed(g, "free", 0, 1);
    tg_grants_put(g, "ended", 100); /* the same id again: a new call */
    CHECK(tg_grants_expire(g, 1000, record, &log) == 0, "removed, unlimited and unanswered calls never run out");
    CHECK(tg_grants_count(g) == 2, "the unlimited call and the new one are held");
    tg_grants_answered(g, "ended", 2000);
    CHECK(tg_grants_expire(g, 2100, record, &log) == 1 && strcmp(log.ids[0], "ended") == 0,
          "the new call with the old id runs out on its own grant");
    tg_grants_free(g); /* with an entry still naming the unlimited call */
}

static void limit(void) {
    tg_grants *g = tg_grants_new(2);
    CHECK(tg_grants_put(g, "1", 10) == 0 && tg_grants_put(g, "2", 10) == 0, "two fit");
    CHECK(tg_grants_put(g, "3", 10) == -1, "a third is refused: the client fails closed");
    CHECK(tg_grants_put(g, "2", 20) == 0, "updating a held call is not a new one");
    tg_grants_remove(g, "1");
    CHECK(tg_grants_put(g, "3", 10) == 0, "room again once a call ends");
    tg_grants_free(g);
}

struct sweep {
    int64_t now;
    int64_t *deadline;
    size_t seen;
    size_t wrong;
};

/* Checks each expiry as it is reported: due by now, held, and reported once. */
static void check_expiry(const char *call_id, void *context) {
    struct sweep *sweep = context;
    int i = atoi(call_id + 5);
    if (sweep->deadline[i] < 0 || sweep->deadline[i] > sweep->now) sweep->wrong++;
    sweep->deadline[i] = -2; /* reported: a second report is wrong */
    sweep->seen++;
}

static void many(void) {
    enum { N = 100000 };
    tg_grants *g = tg_grants_new(0);
    char id[32];
    int64_t *deadline = malloc(N * sizeof *deadline);
    srand(7);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "call-%d", i);
        deadline[i] = 1000 + rand() % 60000;
        tg_grants_put(g, id, deadline[i] - 1000);
        tg_grants_answered(g, id, 1000);
        if (i % 3 == 0) { /* renewed later, twice */
            deadline[i] += 30000;
            tg_grants_renewed(g, id, deadline[i] - 10000, 0);
            tg_grants_renewed(g, id, deadline[i], 0);
        }
        if (i % 7 == 0) {
            tg_grants_remove(g, id);
            deadline[i] = -1;
        }
    }
    size_t expected = 0;
    for (int i = 0; i < N; i++) expected += deadline[i] >= 0;
    CHECK(tg_grants_count(g) == expected, "every held call is counted");
    struct sweep sweep = {.deadline = deadline};
    size_t late = 0;
    for (int64_t now = 0; now <= 100000; now += 997) {
        sweep.now = now;
        tg_grants_expire(g, now, check_expiry, &sweep);
        /* Whatever is left runs out later. */
        if (tg_grants_count(g) > 0 && tg_grants_next_deadline(g) <= now) late++;
    }
    CHECK(sweep.seen == expected, "each held call runs out exactly once");
    CHECK(sweep.wrong == 0, "none runs out early, twice or after being removed");
    CHECK(late == 0, "nothing due is left behind");
    CHECK(tg_grants_count(g) == 0, "all gone");
    free(deadline);
    tg_grants_free(g);
}

int main(void) {
    basics();
    removals_and_unlimited();
    limit();
    many();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
