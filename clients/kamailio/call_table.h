/*
 * The agent's live calls, by SIP Call-ID: what Tollgate and Kamailio were told of each, so that either side can be
 * brought back in step after a restart (a resync to Tollgate, a rebuild from Kamailio's dialogs) and an End that
 * could not be delivered is sent again.
 */
#ifndef CALL_TABLE_H
#define CALL_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum call_state {
    CALL_AUTHORIZING,   /* asked Tollgate; Kamailio waits for the reply */
    CALL_ALLOWED,       /* relayed by Kamailio, not answered yet */
    CALL_ANSWERED,
    CALL_ENDED,         /* its End waits for Tollgate's acknowledgement (or for Tollgate to come back) */
};

struct call {
    struct call *next;
    char sip_call_id[256];
    char call_id[129];        /* the id Tollgate knows it by (the SIP Call-ID, or a digest of a longer one) */
    char extension[64];
    char dialled[65];
    enum call_state state;
    int has_dialog;           /* h_entry/h_id known (from CALL_ANSWER or dlg.list) */
    unsigned h_entry, h_id;
    int64_t answered_mono;    /* monotonic ms of the answer */
    int64_t billable_ms;      /* CALL_ENDED: what Kamailio measured */
    char cause[48];
    int end_in_flight;        /* an End was sent on the current connection and is not answered yet */
    int terminating;          /* a TERMINATE was sent to Kamailio */
    int64_t seen_generation;  /* the dialog list that last named it (a rebuild forgets those it does not) */
};

typedef struct call_table call_table;

call_table *call_table_new(void);
void call_table_free(call_table *table);

/* The call with this SIP Call-ID, or NULL. */
struct call *call_table_find(call_table *table, const char *sip_call_id);
/* A new call (state CALL_AUTHORIZING); NULL when memory ran out. An existing call with the id is returned as is. */
struct call *call_table_add(call_table *table, const char *sip_call_id, const char *extension, const char *dialled);
/* The call with this Tollgate id (linear: for pushes, which name Tollgate's id). */
struct call *call_table_find_tollgate(call_table *table, const char *call_id);
void call_table_remove(call_table *table, struct call *call);
size_t call_table_count(const call_table *table);

/* Visits every call; `visit` may remove the call it is given. */
void call_table_each(call_table *table, void (*visit)(struct call *call, void *context), void *context);

#endif
