/*
 * Tollgate PBX client: what a PBX module (Asterisk, FreeSWITCH, Kamailio, ...) links to talk to `tollgate serve`.
 * Protocol: docs/protocol.md; messages: Proto/tollgate/pbx/v1/pbx.proto (encoded with libprotobuf-c).
 *
 * Calls are blocking request/reply on one connection; pushes (cutoff, warning, grant renewal, hangup) that arrive
 * meanwhile, or during tg_poll(), are acknowledged and handed to the callbacks. The client enforces each billed
 * call's grant itself: when a grant expires without a renewal, on_hangup is called with reason "GRANT_EXPIRED",
 * so calls stop within one grant even if the engine dies. Not thread-safe: use one client per thread.
 */
#ifndef TOLLGATE_CLIENT_H
#define TOLLGATE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (gRPC numbering). TG_IO_ERROR: the connection failed; reconnect and resync. */
enum { TG_OK = 0, TG_INVALID_ARGUMENT = 3, TG_NOT_FOUND = 5, TG_ALREADY_EXISTS = 6, TG_RESOURCE_EXHAUSTED = 8,
       TG_FAILED_PRECONDITION = 9, TG_INTERNAL = 13, TG_UNAVAILABLE = 14, TG_UNAUTHENTICATED = 16,
       TG_IO_ERROR = -1 };

typedef struct tg_client tg_client;

typedef struct {
    int code;
    char message[256];
    char field[64];
} tg_status;

typedef struct {
    void (*on_cutoff)(void *user, const char *call_id, int64_t boundary_ms);
    void (*on_warning)(void *user, const char *call_id, uint32_t seconds_left, int64_t cutoff_at_ms);
    void (*on_grant)(void *user, const char *call_id, int64_t deadline_ms, int unlimited);
    /* An operator hung the call up, or its grant expired ("GRANT_EXPIRED"): hang it up now. */
    void (*on_hangup)(void *user, const char *call_id, const char *reason);
    void *user;
} tg_callbacks;

typedef struct {
    int allowed;
    int deny_reason;      /* 1 LOCKED, 2 NO_RATE, 3 INSUFFICIENT_FUNDS */
    int unbilled;
    int grant_unlimited;
    int64_t grant_ms;
    int64_t rate_id;
} tg_authorization;

typedef struct {
    int settled_now;      /* 0: a repeat that changed nothing */
    int result;           /* 1 COMPLETED, 2 CUTOFF, 3 UNANSWERED, 5 UNBILLED, 6 RECOVERED */
    int64_t billed_ms;
    int64_t cost_micros;
    int64_t balance_after_micros;
} tg_settlement;

/* Connects and handshakes. NULL on failure, with the reason in *status. */
tg_client *tg_connect(const char *host, int port, const char *node_id, const char *secret,
                      const tg_callbacks *callbacks, tg_status *status);
void tg_close(tg_client *client);

/* Each returns the status code (TG_OK, a server code, or TG_IO_ERROR) and fills *status when not NULL. */
int tg_authorize(tg_client *client, const char *call_id, const char *extension, const char *dialled,
                 tg_authorization *out, tg_status *status);
int tg_answered(tg_client *client, const char *call_id, tg_status *status);
int tg_ended(tg_client *client, const char *call_id, uint64_t billable_ms, const char *cause, tg_settlement *out,
             tg_status *status);
/* An End sent again after a reconnect, naming the call's extension and dialled number (see tg_frame_ended_call). */
int tg_ended_call(tg_client *client, const char *call_id, uint64_t billable_ms, const char *cause,
                  const char *extension, const char *dialled, tg_settlement *out, tg_status *status);
int tg_heartbeat(tg_client *client, int64_t *server_time_ms, tg_status *status);
int tg_extension_sync(tg_client *client, const char *const *numbers, const char *const *user_names, size_t count,
                      tg_status *status);
/* A call still up after a reconnect. dialled is the number it was authorized for: a call the server lost in a
 * restart is authorized again from it. answered_ms_ago: how long ago the PBX answered it (answered calls). */
typedef struct {
    const char *call_id;
    const char *extension;
    const char *dialled;
    int answered;
    uint64_t answered_ms_ago;
} tg_live_call;

/* After a reconnect: the calls still up. *adopted receives how many the server meters again; hang up the rest. */
int tg_resync(tg_client *client, const tg_live_call *calls, size_t count, size_t *adopted, tg_status *status);

/* Waits up to timeout_ms for pushes and grant expiries and handles them. Returns TG_OK or TG_IO_ERROR. */
int tg_poll(tg_client *client, int timeout_ms);

/*
 * Event-loop use: a program driving many connections from its own epoll/poll loop (a PBX with its own reactor,
 * the load generator) builds request frames and decodes server frames with these, and owns the sockets.
 * Each tg_frame_* writes one whole frame (4-byte big-endian length, then the envelope) into out and returns its
 * size, or 0 if it does not fit in capacity.
 */
size_t tg_frame_hello(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *node_id, const char *secret);
size_t tg_frame_authorize(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                          const char *extension, const char *dialled);
size_t tg_frame_answered(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id);
size_t tg_frame_ended(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                      uint64_t billable_ms, const char *cause);
/* An End sent again after a reconnect: also names the call's extension and dialled number, so that a server that
 * lost the call whole in a restart (it ended while the server was down) settles it instead of answering
 * NOT_FOUND. */
size_t tg_frame_ended_call(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                           uint64_t billable_ms, const char *cause, const char *extension, const char *dialled);
size_t tg_frame_ack(uint8_t *out, size_t capacity, uint64_t correlation_id);
size_t tg_frame_extension_sync(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *const *numbers,
                               size_t count);
/* A resync of up to a few hundred calls per frame (the server's frame limit is 64 KiB). */
size_t tg_frame_resync(uint8_t *out, size_t capacity, uint64_t correlation_id, const tg_live_call *calls,
                       size_t count);
/* Calls each(call_id, adopted, context) for every id of a TG_MSG_RESYNC_REPLY's payload. 0, or -1 if it is not one. */
int tg_resync_reply_ids(const uint8_t *payload, size_t length,
                        void (*each)(const char *call_id, int adopted, void *context), void *context);

enum tg_message_kind { TG_MSG_OTHER = 0, TG_MSG_HELLO_REPLY, TG_MSG_AUTHORIZE_REPLY, TG_MSG_ENDED_REPLY,
                       TG_MSG_CUTOFF, TG_MSG_WARNING, TG_MSG_GRANT_RENEWAL, TG_MSG_HANGUP, TG_MSG_RESYNC_REPLY };

/* A server frame, decoded. is_reply: it carries a status (a reply to correlation_id); otherwise a push. */
typedef struct {
    uint64_t correlation_id;
    int is_reply;
    int status_code;
    enum tg_message_kind kind;
    char call_id[129];
    tg_authorization authorization;   /* TG_MSG_AUTHORIZE_REPLY */
    tg_settlement settlement;         /* TG_MSG_ENDED_REPLY */
    int64_t boundary_ms;              /* TG_MSG_CUTOFF */
    int64_t deadline_ms;              /* TG_MSG_GRANT_RENEWAL (grant_unlimited in authorization.grant_unlimited) */
    int64_t server_time_ms;           /* TG_MSG_CUTOFF, TG_MSG_GRANT_RENEWAL */
} tg_message;

/* Decodes one frame's payload (without its length prefix). 0 on success, -1 if it is not an envelope. */
int tg_decode(const uint8_t *payload, size_t length, tg_message *out);

#ifdef __cplusplus
}
#endif
#endif
