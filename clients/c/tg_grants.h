/*
 * The client's grant table (internal): for each billed call this client allowed, how long its grant lasts and,
 * once answered, the instant (monotonic ms) it runs out unless renewed. A hash table by call id, growing as calls
 * come, and a min-heap of deadlines, so that finding the grants that ran out costs O(log n) per grant however
 * many calls are live. Not thread-safe: the client serializes access.
 */
#ifndef TG_GRANTS_H
#define TG_GRANTS_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds. */
int64_t tg_mono_ms(void);

typedef struct tg_grants tg_grants;

/* A table holding at most max_grants calls (0: as many as memory allows). NULL when out of memory. */
tg_grants *tg_grants_new(size_t max_grants);
void tg_grants_free(tg_grants *grants);

/* Records an allowed call's grant (its validity, counted from the answer). 0, or -1 when the table is full or
 * memory ran out: the caller must then refuse the call (a call without a grant here would run unbounded if the
 * engine went away). Recording a call already there updates its validity. */
int tg_grants_put(tg_grants *grants, const char *call_id, int64_t grant_ms);

/* The call was answered at now_mono: its grant runs from now. No effect for an unknown call or one armed already. */
void tg_grants_answered(tg_grants *grants, const char *call_id, int64_t now_mono);

/* A renewal from the engine: the grant now runs out at deadline_mono (or never, when unlimited). 0, or -1 for a
 * call not in the table. */
int tg_grants_renewed(tg_grants *grants, const char *call_id, int64_t deadline_mono, int unlimited);

/* The call ended or was cut: forget it. */
void tg_grants_remove(tg_grants *grants, const char *call_id);

/* Removes every grant that ran out at or before now_mono and calls expired(call_id, context) for each. Returns how
 * many. */
size_t tg_grants_expire(tg_grants *grants, int64_t now_mono, void (*expired)(const char *call_id, void *context),
                        void *context);

/* The earliest armed deadline, or INT64_MAX when none. */
int64_t tg_grants_next_deadline(tg_grants *grants);

/* Whether the call is in the table. */
int tg_grants_holds(tg_grants *grants, const char *call_id);

/* Calls in the table. */
size_t tg_grants_count(const tg_grants *grants);

#endif
