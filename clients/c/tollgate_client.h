/*
 * libtollgate-client: what a PBX module (Asterisk, FreeSWITCH, Kamailio, ...) links to talk to `tollgate serve`.
 * Protocol: docs/protocol.md; messages: Proto/tollgate/pbx/v1/pbx.proto (encoded with libprotobuf-c).
 * Link with `pkg-config --cflags --libs tollgate-client`.
 *
 * Two ways to use it:
 *
 * - A client (tg_connect). Requests are blocking calls that return the server's reply. Pushes (cutoff, warning,
 *   grant renewal, operator hang-up) are acknowledged and handed to the callbacks.
 *   - In the default mode the client is used by one thread at a time (or guarded by the caller's lock): pushes
 *     are read while a request waits for its reply and during tg_poll(), and the callbacks run on the thread
 *     making that call. Callbacks must not make requests on the client (they run inside one): note what they
 *     say and act after it returns.
 *   - In shared mode (tg_options.shared = 1) any number of threads may call tg_authorize, tg_answered, tg_ended,
 *     tg_heartbeat, tg_extension_sync and tg_resync on one client at once (a PBX with a thread per channel). The
 *     client runs a reader thread of its own: it matches replies to requests by correlation id, acknowledges
 *     pushes, enforces grants, and runs every callback. Callbacks must return quickly and must not make requests
 *     on the same client (the reply they would wait for is read by the thread they run on): hand the work to the
 *     PBX's own threads. tg_poll() is not needed in shared mode (it only waits). tg_reconnect() and tg_close()
 *     must not run while another thread is inside a call on the client.
 *
 * - The event-loop API (tg_frame_*, tg_decode, and tg_tls_* for TLS): a program that drives its own sockets from
 *   an epoll/poll loop builds request frames and decodes server frames, and owns everything else (the load
 *   generator, the Kamailio agent).
 *
 * TLS: tg_connect_tls (OpenSSL) for a PBX port served with TLS, in either mode.
 *
 * The grant failsafe: the client enforces each billed call's grant itself. When a grant runs out without a
 * renewal, on_hangup is called with reason "GRANT_EXPIRED", so a call stops within one grant even if the engine or
 * the network dies; in the default mode that happens during the next request or tg_poll(), in shared mode on the
 * reader thread. The client keeps as many grants as there are live calls; with tg_options.max_grants set, an
 * allowed call beyond it is refused (fail closed) rather than run without a grant.
 *
 * Buffers: every string passed in is read during the call only (the client copies what it keeps). Strings passed
 * to callbacks are valid during the callback only. Output structs are written by the call and owned by the caller.
 */
#ifndef TOLLGATE_CLIENT_H
#define TOLLGATE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TG_API __attribute__((visibility("default")))
#else
#define TG_API
#endif

/* Version of this library (the shared object's is libtollgate-client.so.TG_VERSION_MAJOR). */
#define TG_VERSION_MAJOR 1
#define TG_VERSION_MINOR 1

/* Status codes (gRPC numbering). TG_IO_ERROR: the connection failed; reconnect (tg_reconnect) and resync. */
enum { TG_OK = 0, TG_INVALID_ARGUMENT = 3, TG_DEADLINE_EXCEEDED = 4, TG_NOT_FOUND = 5, TG_ALREADY_EXISTS = 6,
       TG_RESOURCE_EXHAUSTED = 8, TG_FAILED_PRECONDITION = 9, TG_INTERNAL = 13, TG_UNAVAILABLE = 14,
       TG_UNAUTHENTICATED = 16, TG_IO_ERROR = -1 };

typedef struct tg_client tg_client;

typedef struct {
    int code;
    char message[256];
    char field[64];
} tg_status;

/* Callbacks; any may be NULL. See the threading rules above for the thread they run on. */
typedef struct {
    /* The engine cut the call at boundary_ms (engine time): hang it up now. */
    void (*on_cutoff)(void *user, const char *call_id, int64_t boundary_ms);
    void (*on_warning)(void *user, const char *call_id, uint32_t seconds_left, int64_t cutoff_at_ms);
    void (*on_grant)(void *user, const char *call_id, int64_t deadline_ms, int unlimited);
    /* An operator hung the call up, or its grant expired ("GRANT_EXPIRED"): hang it up now. */
    void (*on_hangup)(void *user, const char *call_id, const char *reason);
    void *user;
} tg_callbacks;

/* Options of tg_connect_with; zero means the default. */
typedef struct {
    int shared;                /* 1: many threads share the client (see above) */
    size_t max_grants;         /* most calls with a grant at once; 0: no limit but memory */
    int connect_timeout_ms;    /* default 5000 */
    int request_timeout_ms;    /* a reply not come by then: TG_DEADLINE_EXCEEDED (default 5000) */
    const char *software;      /* the PBX software's name, sent in the handshake (default "tollgate-c-client") */
} tg_options;

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

/* Connects and handshakes (default options). NULL on failure, with the reason in *status. */
TG_API tg_client *tg_connect(const char *host, int port, const char *node_id, const char *secret,
                             const tg_callbacks *callbacks, tg_status *status);
/* Connects and handshakes with options (NULL: the defaults). */
TG_API tg_client *tg_connect_with(const char *host, int port, const char *node_id, const char *secret,
                                  const tg_callbacks *callbacks, const tg_options *options, tg_status *status);
/* TLS to a PBX port that serves it (`tollgate serve` with pbxTLSCertificate). OpenSSL; TLS 1.2 or later, the
 * server's certificate verified against ca_file and the name connected to. Fields left NULL take the default. */
typedef struct {
    const char *ca_file;      /* the CA certificate(s) (PEM) that signed the server's; NULL: the system's CAs */
    const char *cert_file;    /* this node's certificate chain (PEM), for a server that asks for client certificates */
    const char *key_file;     /* its private key (PEM); NULL: in cert_file */
    const char *server_name;  /* the host name or IP address the server's certificate must carry; NULL: host */
} tg_tls_options;

/* As tg_connect_with, over TLS (since 1.1). The TLS options are read during the call only; tg_reconnect uses the
 * same configuration. A certificate or key that does not load, a server certificate not trusted, or a refused
 * client certificate: NULL, TG_IO_ERROR and the reason in status->message. */
TG_API tg_client *tg_connect_tls(const char *host, int port, const char *node_id, const char *secret,
                                 const tg_callbacks *callbacks, const tg_options *options, const tg_tls_options *tls,
                                 tg_status *status);
/* After TG_IO_ERROR: connects again to the same server, keeping the client's grants (which go on being enforced
 * meanwhile); then resync the live calls (tg_resync). TG_OK or the failure's code. */
TG_API int tg_reconnect(tg_client *client, tg_status *status);
/* Closes the connection and frees the client (stops its reader thread in shared mode). */
TG_API void tg_close(tg_client *client);

/* Each returns the status code (TG_OK, a server code, TG_DEADLINE_EXCEEDED or TG_IO_ERROR) and fills *status
 * when not NULL. */
/* May extension call dialled? An allowed billed call's grant is recorded; if it cannot be (tg_options.max_grants
 * reached, or memory), the call is released at the server and refused: TG_RESOURCE_EXHAUSTED, out->allowed 0. */
TG_API int tg_authorize(tg_client *client, const char *call_id, const char *extension, const char *dialled,
                        tg_authorization *out, tg_status *status);
/* The call was answered: its grant starts running. */
TG_API int tg_answered(tg_client *client, const char *call_id, tg_status *status);
TG_API int tg_ended(tg_client *client, const char *call_id, uint64_t billable_ms, const char *cause,
                    tg_settlement *out, tg_status *status);
/* An End sent again after a reconnect, naming the call's extension and dialled number (see tg_frame_ended_call). */
TG_API int tg_ended_call(tg_client *client, const char *call_id, uint64_t billable_ms, const char *cause,
                         const char *extension, const char *dialled, tg_settlement *out, tg_status *status);
TG_API int tg_heartbeat(tg_client *client, int64_t *server_time_ms, tg_status *status);
TG_API int tg_extension_sync(tg_client *client, const char *const *numbers, const char *const *user_names,
                             size_t count, tg_status *status);

/* A call still up after a reconnect. dialled is the number it was authorized for: a call the server lost in a
 * restart is authorized again from it. answered_ms_ago: how long ago the PBX answered it (answered calls). */
typedef struct {
    const char *call_id;
    const char *extension;
    const char *dialled;
    int answered;
    uint64_t answered_ms_ago;
} tg_live_call;

/* After a reconnect: the calls still up. *adopted receives how many the server meters again; hang up the rest
 * (their grants are dropped here). An adopted call the client held no grant for (the module restarted) is held
 * from now on, its grant armed by the engine's next renewal; if the client has no room for it (max_grants),
 * on_hangup is called for it with "GRANT_TABLE_FULL", on this thread. */
TG_API int tg_resync(tg_client *client, const tg_live_call *calls, size_t count, size_t *adopted,
                     tg_status *status);

/* Waits up to timeout_ms for pushes and grant expiries and handles them (default mode). Returns TG_OK, or
 * TG_IO_ERROR when the connection is gone (grants are still enforced until timeout_ms). In shared mode it only
 * waits. */
TG_API int tg_poll(tg_client *client, int timeout_ms);

/* Calls holding a grant in this client now. */
TG_API size_t tg_grant_count(tg_client *client);

/*
 * Event-loop use: a program driving many connections from its own epoll/poll loop (a PBX with its own reactor,
 * the load generator) builds request frames and decodes server frames with these, and owns the sockets.
 * Each tg_frame_* writes one whole frame (4-byte big-endian length, then the envelope) into out and returns its
 * size, or 0 if it does not fit in capacity. Thread-safe (they share no state).
 */
TG_API size_t tg_frame_hello(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *node_id,
                             const char *secret);
TG_API size_t tg_frame_authorize(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                                 const char *extension, const char *dialled);
TG_API size_t tg_frame_answered(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id);
TG_API size_t tg_frame_ended(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                             uint64_t billable_ms, const char *cause);
/* An End sent again after a reconnect: also names the call's extension and dialled number, so that a server that
 * lost the call whole in a restart (it ended while the server was down) settles it instead of answering
 * NOT_FOUND. */
TG_API size_t tg_frame_ended_call(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                                  uint64_t billable_ms, const char *cause, const char *extension,
                                  const char *dialled);
TG_API size_t tg_frame_ack(uint8_t *out, size_t capacity, uint64_t correlation_id);
TG_API size_t tg_frame_heartbeat(uint8_t *out, size_t capacity, uint64_t correlation_id);
TG_API size_t tg_frame_extension_sync(uint8_t *out, size_t capacity, uint64_t correlation_id,
                                      const char *const *numbers, size_t count);
/* A resync of up to a few hundred calls per frame (the server's frame limit is 64 KiB). */
TG_API size_t tg_frame_resync(uint8_t *out, size_t capacity, uint64_t correlation_id, const tg_live_call *calls,
                              size_t count);
/* Calls each(call_id, adopted, context) for every id of a TG_MSG_RESYNC_REPLY's payload. 0, or -1 if it is not one. */
TG_API int tg_resync_reply_ids(const uint8_t *payload, size_t length,
                               void (*each)(const char *call_id, int adopted, void *context), void *context);

/*
 * TLS for event-loop programs (since 1.1): the same OpenSSL setup the client uses, driven on the program's own
 * non-blocking socket. A configuration is made once (it loads the files); each connection gets a session on its
 * connected socket, completes tg_tls_handshake (polling for what TG_TLS_WANT_* asks), then reads and writes
 * through the session. Data OpenSSL has already taken off the socket does not make the socket readable: after a
 * read, read again while tg_tls_pending says so, or before polling. A session may be used from several threads
 * (each call takes its lock); a write that returned TG_TLS_WANT_* must be retried with the same data before any
 * other write.
 */
typedef struct tg_tls_config tg_tls_config;
typedef struct tg_tls_session tg_tls_session;
enum { TG_TLS_WANT_READ = -2, TG_TLS_WANT_WRITE = -3 };

/* NULL if a file does not load, with the reason in error (which may be NULL). */
TG_API tg_tls_config *tg_tls_config_new(const tg_tls_options *options, char *error, size_t error_size);
TG_API void tg_tls_config_free(tg_tls_config *config);
/* A session on a connected socket (non-blocking from now on is the caller's to set), verifying the server's
 * certificate against host (or the configuration's server_name). It does not own the socket. */
TG_API tg_tls_session *tg_tls_session_new(tg_tls_config *config, int fd, const char *host, char *error,
                                          size_t error_size);
/* 0 once done, TG_TLS_WANT_READ / TG_TLS_WANT_WRITE (poll for that, then call again), -1 failed (tg_tls_error). */
TG_API int tg_tls_handshake(tg_tls_session *session);
/* Bytes read (> 0), 0 when the server closed the connection, TG_TLS_WANT_*, or -1 (tg_tls_error). */
TG_API long tg_tls_read(tg_tls_session *session, void *buffer, size_t capacity);
/* Bytes written (> 0, possibly fewer than length), TG_TLS_WANT_*, or -1 (tg_tls_error). */
TG_API long tg_tls_write(tg_tls_session *session, const void *data, size_t length);
/* 1 when data is waiting inside OpenSSL (read it without polling), else 0. */
TG_API int tg_tls_pending(tg_tls_session *session);
/* Why the session's last call returned -1. */
TG_API const char *tg_tls_error(const tg_tls_session *session);
/* Sends close_notify if the socket takes it and frees the session; the caller closes the socket. */
TG_API void tg_tls_session_free(tg_tls_session *session);

enum tg_message_kind { TG_MSG_OTHER = 0, TG_MSG_HELLO_REPLY, TG_MSG_AUTHORIZE_REPLY, TG_MSG_ENDED_REPLY,
                       TG_MSG_CUTOFF, TG_MSG_WARNING, TG_MSG_GRANT_RENEWAL, TG_MSG_HANGUP, TG_MSG_RESYNC_REPLY,
                       TG_MSG_HEARTBEAT_REPLY };

/* A server frame, decoded. is_reply: it carries a status (a reply to correlation_id); otherwise a push. */
typedef struct {
    uint64_t correlation_id;
    int is_reply;
    int status_code;
    char status_message[256];         /* replies with a status other than TG_OK */
    char status_field[64];
    enum tg_message_kind kind;
    char call_id[129];
    tg_authorization authorization;   /* TG_MSG_AUTHORIZE_REPLY */
    tg_settlement settlement;         /* TG_MSG_ENDED_REPLY */
    int64_t boundary_ms;              /* TG_MSG_CUTOFF */
    int64_t deadline_ms;              /* TG_MSG_GRANT_RENEWAL (grant_unlimited in authorization.grant_unlimited) */
    int64_t server_time_ms;           /* TG_MSG_CUTOFF, TG_MSG_GRANT_RENEWAL, TG_MSG_HEARTBEAT_REPLY */
    uint32_t seconds_left;            /* TG_MSG_WARNING */
    int64_t cutoff_at_ms;             /* TG_MSG_WARNING */
    char reason[129];                 /* TG_MSG_HANGUP */
} tg_message;

/* Decodes one frame's payload (without its length prefix). 0 on success, -1 if it is not an envelope. */
TG_API int tg_decode(const uint8_t *payload, size_t length, tg_message *out);

#ifdef __cplusplus
}
#endif
#endif
