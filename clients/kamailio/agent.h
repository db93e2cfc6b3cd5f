/*
 * tollgate-kamailio-agent: bills Kamailio's calls with Tollgate. It connects to Kamailio's evapi (netstring JSON;
 * Kamailio is the server) and to `tollgate serve` over the PBX protocol (libtollgate-client's event-loop API), and
 * reconnects to both. One thread, one poll loop.
 *
 *   Kamailio                          agent                              Tollgate
 *   AUTH_REQUEST (INVITE suspended) -> Authorize --------------------->  decision
 *   AUTH_REPLY allow/deny <---------- <------------------------------ AuthorizeReply
 *   CALL_ANSWER ------------------->  Answered ----------------------->
 *   CALL_END / CALL_FAILED -------->  Ended (billable ms) ------------>  settlement
 *   TERMINATE (dlg.end_dlg: BYEs) <-  <-------------------- Cutoff / operator Hangup
 *   SET_TIMEOUT (dialog timeout)  <-  <------------------------------ GrantRenewal
 */
#ifndef AGENT_H
#define AGENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <tollgate_client.h>

#include "call_table.h"
#include "netstring.h"

struct agent_options {
    const char *evapi_host;
    int evapi_port;
    const char *tollgate_host;
    int tollgate_port;
    const char *node_id;
    const char *secret;
    /* TLS to Tollgate (any of these set, or --tls): the CA that signed its certificate (NULL: the system's), this
     * node's certificate and key (a server asking for client certificates), the name its certificate carries. */
    int tls;
    tg_tls_options tls_options;
    int fail_open;              /* Tollgate unreachable: allow new calls (1) or refuse them with 503 (0, default) */
    int fail_open_seconds;      /* the dialog timeout of a call allowed that way */
    int reconnect_ms;
    int auth_timeout_ms;        /* Tollgate's reply to an Authorize not come by then: as if unreachable */
    int verbose;
};

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_TLS, LINK_HELLO, LINK_RESYNC, LINK_READY };

/* The Tollgate side's requests in flight, by correlation id (a ring: ids are sequential). */
#define PENDING_SLOTS 65536

enum pending_kind { PENDING_NONE, PENDING_HELLO, PENDING_AUTHORIZE, PENDING_ANSWERED, PENDING_ENDED,
                    PENDING_RESYNC, PENDING_HEARTBEAT };

struct pending {
    uint64_t id;
    enum pending_kind kind;
    int64_t sent_mono;
    char sip_call_id[256];
    long long tr_index, tr_label;
};

struct agent {
    struct agent_options options;
    call_table *calls;

    /* Kamailio (evapi). */
    int evapi_fd;
    enum link_state evapi_state;
    int64_t evapi_retry_mono;
    netstring_buffer evapi_in;
    int64_t dialog_generation;   /* the current dlg.list rebuild */

    /* Tollgate. */
    int tollgate_fd;
    tg_tls_config *tollgate_tls;      /* NULL: plaintext */
    tg_tls_session *tollgate_session; /* the connection's TLS, from LINK_TLS on */
    int tollgate_tls_wants;           /* LINK_TLS: what the handshake waits for (POLLIN or POLLOUT) */
    enum link_state tollgate_state;
    int64_t tollgate_retry_mono;
    uint8_t *tollgate_in;
    size_t tollgate_in_start, tollgate_in_end, tollgate_in_capacity;
    uint64_t next_id;
    uint64_t oldest_pending;
    struct pending *pending;    /* PENDING_SLOTS */
    int64_t last_heartbeat_mono;

    /* Figures, logged at exit. */
    long long authorized, denied, refused_unavailable, ended, terminated, resent_ends;
};

int64_t agent_mono_ms(void);
void agent_log(struct agent *agent, int verbose_only, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* evapi_link.c */
void evapi_connect(struct agent *agent);
void evapi_readable(struct agent *agent);
void evapi_disconnected(struct agent *agent, const char *why);
/* Sends one JSON object to Kamailio (consumed); 0, or -1 when evapi is down. */
int evapi_send(struct agent *agent, json_t *message);
/* 0, or -1 when it could not be sent (evapi down): Kamailio's transaction then times out with 503. */
int evapi_auth_reply(struct agent *agent, long long tr_index, long long tr_label, int allow, int code,
                     const char *reason, long long max_duration);
void evapi_terminate(struct agent *agent, struct call *call, const char *why);
void evapi_set_timeout(struct agent *agent, struct call *call, long long seconds);

/* tollgate_link.c */
void tollgate_connect(struct agent *agent);
void tollgate_writable(struct agent *agent);
void tollgate_readable(struct agent *agent);
/* LINK_TLS: the socket is ready for what the handshake waits for. */
void tollgate_tls_step(struct agent *agent);
/* The poll events the Tollgate socket waits for now. */
short tollgate_events(const struct agent *agent);
/* 1 when TLS holds data already taken off the socket: read it without polling. */
int tollgate_buffered(const struct agent *agent);
void tollgate_disconnected(struct agent *agent, const char *why);
void tollgate_tick(struct agent *agent);
/* Whether requests can be sent (the handshake is done). */
int tollgate_usable(const struct agent *agent);
/* What Kamailio told, passed on. */
void tollgate_authorize(struct agent *agent, struct call *call, long long tr_index, long long tr_label);
void tollgate_answered(struct agent *agent, struct call *call);
void tollgate_ended(struct agent *agent, struct call *call);
/* The dialogs Kamailio listed after the agent (re)connected: resynced once Tollgate is ready. */
void tollgate_resync_when_ready(struct agent *agent);

#endif
