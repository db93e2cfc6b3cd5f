/* The Tollgate load generator: one process, one epoll loop, N PBX connections. See README.md. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "histogram.h"
#include "tollgate_client.h"

/* ---- time ---- */
int64_t now_us(void);

/* ---- byte buffers and connections ---- */
typedef struct {
    uint8_t *data;
    size_t length, capacity, offset; /* offset: consumed (in) or sent (out) */
} buffer;

int buffer_reserve(buffer *b, size_t extra);
void buffer_compact(buffer *b);

enum pending_kind { P_HELLO, P_SYNC, P_AUTHORIZE, P_ANSWERED, P_ENDED, P_ECHO, P_RESYNC };

typedef struct {
    uint64_t id;
    uint32_t slot, gen;
    uint8_t kind;
    int64_t sent_us;
} pending;

typedef struct {
    pending *slots;
    uint32_t capacity, head, count;
} pending_ring;

typedef struct {
    int fd;
    int index;
    int closed;
    int writable_wait; /* EPOLLOUT armed */
    buffer in, out;
    uint64_t next_id;
    /* Requests awaiting their reply, in send order. The server answers in order, except that a settlement's
     * reply waits for its commit (settlements stay in order among themselves): so one ring for Ended, one for
     * everything else, and a reply is nearly always at the head of one of them (an End refused at once overtakes
     * settlements waiting for their commit; conn_take_reply then looks further in). */
    pending_ring rings[2];
    uint32_t ring_count; /* both rings */
    uint32_t window;     /* requests in flight beyond which the connection takes no new calls */
    int64_t down_since, next_attempt; /* --reconnect: when it went down, when to try again */
} connection;

int connect_loopback(const char *host, int port);
int conn_init(connection *c, int fd, int index, uint32_t window);
/* Appends a request frame and remembers what it was; returns 0, or -1 when the connection is closed. */
int conn_request(connection *c, uint8_t kind, uint32_t slot, uint32_t gen, int64_t sent_us,
                 size_t (*build)(uint8_t *, size_t, uint64_t, void *), void *arg);
/* Appends a frame that expects no reply (an ack). */
void conn_push_frame(connection *c, const uint8_t *frame, size_t length);
/* Sends what is buffered; 0, or -1 when the connection failed. */
int conn_flush(connection *c, int epoll_fd);
/* Reads what is available; calls on_frame(payload) per whole frame. 0, or -1 on EOF/error/bad frame. */
int conn_read(connection *c, void (*on_frame)(connection *, const uint8_t *, size_t, void *), void *context);
pending *conn_take_reply(connection *c, uint64_t correlation_id);

/* ---- what a run measured ---- */
typedef struct {
    uint64_t started, completed, denied, errors, cutoffs, warnings, hangups, grant_renewals, grant_expired;
    uint64_t unexpected_allowed, bad_calls, authorize_replies, replies, recharges_ok, recharges_failed;
    uint64_t unknown_pushes, cutoff_results;
    uint64_t recharges_retried, recharges_replayed; /* requests sent again; extensions an earlier attempt had recharged */
    /* --reconnect: what a server crash did to the calls in flight */
    uint64_t disconnects, reconnects, lost_authorizations, resynced, resync_adopted, resync_unknown;
    uint64_t ends_resent, ends_already_settled, ends_not_found, ends_not_found_answered;
    int64_t downtime_max_us;
    uint64_t errors_by_status[32]; /* by wire status code; 31 = other */
    uint64_t http_errors;
    int64_t cost_total, recharged_total;
    uint64_t live, live_peak;
    int64_t rss_base, rss_peak;
    int64_t placing_us, run_us; /* how long calls were placed; the whole run */
    histogram authorize, authorize_interval, cutoff_lateness, cutoff_server_lateness;
    int64_t tick_window_p99_us, tick_window_max_us; /* the server's last completed 10 s window, scraped */
} run_stats;

/* Writes the JSON summary (integers; µs for times). `settings` is a JSON object text of the run's options. */
int write_summary(const char *path, const char *scenario, const run_stats *s, const char *settings);

/* ---- the echo baseline ---- */
int run_echo_server(int port, int seconds);

/* ---- HTTP (recharges through the admin API) ---- */
/* A job registers its socket in the epoll set with data.u64 = (1 << 63) | tag. */
typedef struct http_job http_job;
http_job *http_start(int epoll_fd, int port, const char *request, uint64_t tag);
/* numbers: the JSON array's items, e.g. "1001","1002". */
http_job *http_recharge_start(int epoll_fd, int port, const char *token, const char *numbers, const char *amount,
                              const char *idempotency_key, uint64_t tag);
http_job *http_get_start(int epoll_fd, int port, const char *path, uint64_t tag);
/* Advances the job on an epoll event; returns 1 when done (then *status holds the HTTP status, 0 = failed). */
int http_job_step(http_job *job, int *status);
/* The whole response (status line, headers, body), NUL-terminated, once done. */
const char *http_job_response(const http_job *job);
void http_job_free(http_job *job);

/* ---- recharges during the run (recharges.c) ---- */
/* HTTP job tags: the metrics scrape, then one per recharge slot. */
enum { JOB_METRICS = 1, JOB_RECHARGE_FIRST = 16 };
struct options_s;
void recharges_setup(int epoll_fd, const struct options_s *o, run_stats *s);
/* Starts a recharge when one is due (while placing calls) and sends again the ones waiting to be retried. */
void recharges_due(int64_t now, int placing);
/* An epoll event on a recharge job's socket. */
void recharges_event(uint64_t tag, int64_t now);
/* 1 while a recharge is in flight or waiting to be sent again. */
int recharges_pending(void);

#endif
