/* The agent's Tollgate side: the PBX protocol through libtollgate-client's event-loop API. See agent.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tollgate_client.h>

#include "agent.h"
#include "net.h"

#define FRAME_MAX (64 * 1024 + 4)
/* Calls per resync frame: well inside the server's 64 KiB frames. */
#define RESYNC_BATCH 200
/* The server closes a connection silent for three heartbeat intervals (10 s each by default). */
#define HEARTBEAT_MS 5000

/* Over TLS the socket stays non-blocking; a write waits for room up to a second, as SO_SNDTIMEO bounds the
 * plaintext one. */
static int tls_write_all(struct agent *a, const uint8_t *data, size_t length) {
    int64_t deadline = agent_mono_ms() + 1000;
    while (length > 0) {
        long n = tg_tls_write(a->tollgate_session, data, length);
        if (n == TG_TLS_WANT_WRITE || n == TG_TLS_WANT_READ) {
            int64_t left = deadline - agent_mono_ms();
            struct pollfd p = {.fd = a->tollgate_fd, .events = n == TG_TLS_WANT_WRITE ? POLLOUT : POLLIN};
            if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        if (n < 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

static void send_frame(struct agent *a, const uint8_t *frame, size_t size) {
    if (size == 0 || a->tollgate_fd < 0) return;
    int rc = a->tollgate_session ? tls_write_all(a, frame, size) : net_write_all(a->tollgate_fd, frame, size);
    if (rc < 0) {
        char why[300];
        snprintf(why, sizeof why, "write failed: %s",
                 a->tollgate_session && *tg_tls_error(a->tollgate_session) ? tg_tls_error(a->tollgate_session)
                                                                          : strerror(errno));
        tollgate_disconnected(a, why);
    }
}

/* A slot for the next request's reply; NULL when PENDING_SLOTS requests are in flight. */
static struct pending *new_pending(struct agent *a, enum pending_kind kind, const char *sip_call_id) {
    uint64_t id = a->next_id;
    struct pending *p = &a->pending[id % PENDING_SLOTS];
    if (p->kind != PENDING_NONE) return NULL;
    a->next_id++;
    *p = (struct pending){.id = id, .kind = kind, .sent_mono = agent_mono_ms()};
    if (sip_call_id) snprintf(p->sip_call_id, sizeof p->sip_call_id, "%s", sip_call_id);
    return p;
}

static struct pending *pending_reply(struct agent *a, uint64_t id) {
    struct pending *p = &a->pending[id % PENDING_SLOTS];
    return (p->kind != PENDING_NONE && p->id == id) ? p : NULL;
}

void tollgate_connect(struct agent *a) {
    a->tollgate_fd = net_connect_start(a->options.tollgate_host, a->options.tollgate_port);
    if (a->tollgate_fd < 0) {
        a->tollgate_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
        return;
    }
    a->tollgate_state = LINK_CONNECTING;
}

/* Kamailio's transaction waiting for an Authorize that will not be answered now: refused (or let through, with
 * fail_open), as when Tollgate is unreachable. */
static void authorization_unavailable(struct agent *a, struct pending *p, const char *why) {
    struct call *call = call_table_find(a->calls, p->sip_call_id);
    a->refused_unavailable++;
    if (a->options.fail_open && call) {
        call->state = CALL_ALLOWED;
        evapi_auth_reply(a, p->tr_index, p->tr_label, 1, 200, "OK", a->options.fail_open_seconds);
    } else {
        evapi_auth_reply(a, p->tr_index, p->tr_label, 0, 503, "Billing unavailable", 0);
        if (call && call->state == CALL_AUTHORIZING) call_table_remove(a->calls, call);
    }
    agent_log(a, 0, "authorize %s: %s: %s", p->sip_call_id, why, a->options.fail_open ? "allowed (fail open)" : "refused 503");
}

void tollgate_disconnected(struct agent *a, const char *why) {
    tg_tls_session_free(a->tollgate_session);
    a->tollgate_session = NULL;
    if (a->tollgate_fd >= 0) close(a->tollgate_fd);
    if (a->tollgate_state >= LINK_HELLO) agent_log(a, 0, "tollgate: disconnected (%s); reconnecting", why);
    /* A TLS failure is worth a line each time: a certificate problem does not mend itself. */
    if (a->tollgate_state == LINK_TLS) agent_log(a, 0, "tollgate: %s; retrying", why);
    a->tollgate_fd = -1;
    a->tollgate_state = LINK_DOWN;
    a->tollgate_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
    a->tollgate_in_start = a->tollgate_in_end = 0;
    /* Every request in flight is lost with the connection: Kamailio's waiting transactions get their answer now;
     * Ends are sent again after the next resync (the calls stay in the table). */
    for (uint64_t id = a->oldest_pending; id < a->next_id; id++) {
        struct pending *p = pending_reply(a, id);
        if (!p) continue;
        if (p->kind == PENDING_AUTHORIZE) authorization_unavailable(a, p, "connection lost");
        if (p->kind == PENDING_ENDED) {
            struct call *call = call_table_find(a->calls, p->sip_call_id);
            if (call) call->end_in_flight = 0;
        }
        p->kind = PENDING_NONE;
    }
    a->oldest_pending = a->next_id;
}

static void send_ended(struct agent *a, struct call *call) {
    struct pending *p = new_pending(a, PENDING_ENDED, call->sip_call_id);
    if (!p) return; /* sent again after the next resync */
    uint8_t frame[1024];
    /* Named always: a server that lost the call in a restart settles it from its extension and number. */
    size_t n = tg_frame_ended_call(frame, sizeof frame, p->id, call->call_id, (uint64_t)call->billable_ms, call->cause,
                                   call->extension, call->dialled);
    call->end_in_flight = 1;
    send_frame(a, frame, n);
}

struct resync_batch {
    struct agent *agent;
    tg_live_call calls[RESYNC_BATCH];
    size_t count;
    int frames;
    int64_t now;
};

static void flush_resync(struct resync_batch *b) {
    struct agent *a = b->agent;
    if (b->count == 0 || a->tollgate_fd < 0) return;
    struct pending *p = new_pending(a, PENDING_RESYNC, NULL);
    if (!p) return;
    uint8_t *frame = malloc(FRAME_MAX);
    size_t n = frame ? tg_frame_resync(frame, FRAME_MAX, p->id, b->calls, b->count) : 0;
    send_frame(a, frame, n);
    free(frame);
    b->frames++;
    b->count = 0;
}

static void add_live(struct call *call, void *context) {
    struct resync_batch *b = context;
    if (call->state != CALL_ALLOWED && call->state != CALL_ANSWERED) return;
    int64_t ago = call->state == CALL_ANSWERED ? b->now - call->answered_mono : 0;
    b->calls[b->count++] = (tg_live_call){call->call_id, call->extension, call->dialled,
                                          call->state == CALL_ANSWERED, (uint64_t)(ago > 0 ? ago : 0)};
    if (b->count == RESYNC_BATCH) flush_resync(b);
}

/* The live calls, claimed on this connection; READY once every frame is answered. */
static int send_resync(struct agent *a) {
    struct resync_batch *b = calloc(1, sizeof *b);
    if (!b) return 0;
    b->agent = a;
    b->now = agent_mono_ms();
    call_table_each(a->calls, add_live, b);
    flush_resync(b);
    int frames = b->frames;
    free(b);
    return frames;
}

static void resend_end(struct call *call, void *context) {
    struct agent *a = context;
    if (call->state == CALL_ENDED && !call->end_in_flight) {
        a->resent_ends++;
        send_ended(a, call);
    }
}

static void became_ready(struct agent *a) {
    a->tollgate_state = LINK_READY;
    agent_log(a, 0, "tollgate: ready (%zu call(s) held)", call_table_count(a->calls));
    call_table_each(a->calls, resend_end, a);
}

void tollgate_resync_when_ready(struct agent *a) {
    if (a->tollgate_state == LINK_READY && send_resync(a) > 0) a->tollgate_state = LINK_RESYNC;
}

static void send_hello(struct agent *a) {
    struct pending *p = new_pending(a, PENDING_HELLO, NULL);
    uint8_t frame[4096];
    size_t n = p ? tg_frame_hello(frame, sizeof frame, p->id, a->options.node_id, a->options.secret) : 0;
    a->tollgate_state = LINK_HELLO;
    a->last_heartbeat_mono = agent_mono_ms();
    send_frame(a, frame, n);
}

void tollgate_writable(struct agent *a) {
    if (a->tollgate_state != LINK_CONNECTING) return;
    if (net_connected(a->tollgate_fd) < 0) {
        close(a->tollgate_fd);
        a->tollgate_fd = -1;
        a->tollgate_state = LINK_DOWN;
        a->tollgate_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
        return;
    }
    if (!a->tollgate_tls) {
        send_hello(a);
        return;
    }
    /* TLS is driven by this loop: the socket stays non-blocking. */
    fcntl(a->tollgate_fd, F_SETFL, fcntl(a->tollgate_fd, F_GETFL) | O_NONBLOCK);
    char error[256];
    a->tollgate_state = LINK_TLS;
    a->last_heartbeat_mono = agent_mono_ms(); /* the handshake's start, for its time limit */
    a->tollgate_session = tg_tls_session_new(a->tollgate_tls, a->tollgate_fd, a->options.tollgate_host, error,
                                             sizeof error);
    if (!a->tollgate_session) {
        tollgate_disconnected(a, error);
        return;
    }
    tollgate_tls_step(a);
}

void tollgate_tls_step(struct agent *a) {
    int rc = tg_tls_handshake(a->tollgate_session);
    if (rc == TG_TLS_WANT_READ || rc == TG_TLS_WANT_WRITE) {
        a->tollgate_tls_wants = rc == TG_TLS_WANT_WRITE ? POLLOUT : POLLIN;
        return;
    }
    if (rc < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", tg_tls_error(a->tollgate_session));
        tollgate_disconnected(a, why);
        return;
    }
    send_hello(a);
}

short tollgate_events(const struct agent *a) {
    if (a->tollgate_state == LINK_CONNECTING) return POLLOUT;
    if (a->tollgate_state == LINK_TLS) return (short)a->tollgate_tls_wants;
    return POLLIN;
}

int tollgate_buffered(const struct agent *a) {
    return a->tollgate_session && a->tollgate_state >= LINK_HELLO && tg_tls_pending(a->tollgate_session);
}

void tollgate_authorize(struct agent *a, struct call *call, long long tr_index, long long tr_label) {
    struct pending *p = new_pending(a, PENDING_AUTHORIZE, call->sip_call_id);
    if (!p) {
        evapi_auth_reply(a, tr_index, tr_label, 0, 503, "Billing overloaded", 0);
        call_table_remove(a->calls, call);
        return;
    }
    p->tr_index = tr_index;
    p->tr_label = tr_label;
    uint8_t frame[1024];
    size_t n = tg_frame_authorize(frame, sizeof frame, p->id, call->call_id, call->extension, call->dialled);
    if (n == 0) {
        p->kind = PENDING_NONE;
        evapi_auth_reply(a, tr_index, tr_label, 0, 400, "Bad caller or number", 0);
        call_table_remove(a->calls, call);
        return;
    }
    send_frame(a, frame, n);
}

int tollgate_usable(const struct agent *a) {
    /* Once the handshake is done: requests sent after the resync's frames are read after them. */
    return a->tollgate_state == LINK_RESYNC || a->tollgate_state == LINK_READY;
}

void tollgate_answered(struct agent *a, struct call *call) {
    if (!tollgate_usable(a)) return; /* the next resync reports it answered */
    struct pending *p = new_pending(a, PENDING_ANSWERED, call->sip_call_id);
    if (!p) return;
    uint8_t frame[512];
    send_frame(a, frame, tg_frame_answered(frame, sizeof frame, p->id, call->call_id));
}

void tollgate_ended(struct agent *a, struct call *call) {
    if (tollgate_usable(a)) send_ended(a, call);
}

/* The SIP answer for a refusal, and why: 402 when the money ran out, 403 for a locked extension and for a number
 * no rate covers (the number may well exist: 404 would tell the caller's phone it does not, and some route on to
 * voicemail or another trunk on a 404). */
static void deny(struct agent *a, struct pending *p, const tg_message *m) {
    int code = 403;
    const char *reason = "Forbidden";
    if (m->status_code != TG_OK) {
        reason = m->status_code == TG_INVALID_ARGUMENT ? "Not a billed extension or number" : "Billing refused";
        agent_log(a, 0, "authorize %s: %d %s (%s)", p->sip_call_id, m->status_code, m->status_message,
                  m->status_field);
    } else if (m->authorization.deny_reason == 1) {
        reason = "Extension locked";
    } else if (m->authorization.deny_reason == 2) {
        reason = "No rate for this number";
    } else if (m->authorization.deny_reason == 3) {
        code = 402;
        reason = "Insufficient funds";
    }
    a->denied++;
    evapi_auth_reply(a, p->tr_index, p->tr_label, 0, code, reason, 0);
    struct call *call = call_table_find(a->calls, p->sip_call_id);
    if (call && call->state == CALL_AUTHORIZING) call_table_remove(a->calls, call);
}

/* A dialog timeout that never fires before `ms` from now: Kamailio counts it in whole seconds from the current
 * second's start, so a timeout of n seconds fires between n - 1 and n seconds after it is set. */
static long long dialog_seconds(long long ms) {
    return (ms > 0 ? (ms + 999) / 1000 : 0) + 1;
}

static void on_reply(struct agent *a, const tg_message *m) {
    struct pending *p = pending_reply(a, m->correlation_id);
    if (!p) return;
    enum pending_kind kind = p->kind;
    p->kind = PENDING_NONE;
    struct call *call = p->sip_call_id[0] ? call_table_find(a->calls, p->sip_call_id) : NULL;
    switch (kind) {
    case PENDING_HELLO:
        if (m->status_code != TG_OK) {
            agent_log(a, 0, "tollgate: handshake refused: %d %s", m->status_code, m->status_message);
            tollgate_disconnected(a, "handshake refused");
            return;
        }
        agent_log(a, 0, "tollgate: connected to %s:%d", a->options.tollgate_host, a->options.tollgate_port);
        a->tollgate_state = LINK_RESYNC;
        if (send_resync(a) == 0) became_ready(a);
        break;
    case PENDING_RESYNC: {
        /* Calls Tollgate would not take back (a locked extension, no money): hung up now. */
        int still_waiting = 0;
        for (uint64_t id = a->oldest_pending; id < a->next_id; id++) {
            struct pending *q = pending_reply(a, id);
            if (q && q->kind == PENDING_RESYNC) still_waiting = 1;
        }
        if (!still_waiting) became_ready(a);
        break;
    }
    case PENDING_AUTHORIZE:
        if (m->status_code == TG_OK && m->authorization.allowed) {
            /* Kamailio's transaction is answered whatever became of the call meanwhile. */
            if (call && call->state == CALL_AUTHORIZING) call->state = CALL_ALLOWED;
            a->authorized++;
            /* The dialog's timeout is the failsafe: it ends the call at its grant's end unless a renewal from
             * Tollgate moves it first. */
            long long seconds = m->authorization.grant_unlimited ? 0 : dialog_seconds(m->authorization.grant_ms);
            if (evapi_auth_reply(a, p->tr_index, p->tr_label, 1, 200, "OK", seconds) < 0 && call &&
                call->state == CALL_ALLOWED) {
                /* Kamailio cannot be told: its transaction ends with 503 by its own timer. The call Tollgate
                 * allowed will never start; it is released there now rather than left ringing. */
                call->state = CALL_ENDED;
                call->billable_ms = 0;
                snprintf(call->cause, sizeof call->cause, "PROXY_UNREACHABLE");
                send_ended(a, call);
            }
        } else {
            deny(a, p, m);
        }
        break;
    case PENDING_ENDED:
        if (!call) break;
        call->end_in_flight = 0;
        /* Settled (or unknown to the server: nothing to bill); any other status is tried again later. */
        if (m->status_code == TG_OK || m->status_code == TG_NOT_FOUND) {
            if (m->status_code == TG_NOT_FOUND)
                agent_log(a, 0, "end %s: unknown to Tollgate (%s)", call->sip_call_id, m->status_message);
            call_table_remove(a->calls, call);
        } else {
            agent_log(a, 0, "end %s: %d %s; sent again later", call->sip_call_id, m->status_code, m->status_message);
        }
        break;
    case PENDING_ANSWERED:
        if (m->status_code != TG_OK) agent_log(a, 0, "answered %s: %d %s", p->sip_call_id, m->status_code, m->status_message);
        break;
    default:
        break;
    }
}

static void resync_verdict(const char *call_id, int adopted, void *context) {
    struct agent *a = context;
    if (adopted) return;
    struct call *call = call_table_find_tollgate(a->calls, call_id);
    if (!call) return;
    agent_log(a, 0, "resync: Tollgate does not take %s back: hanging it up", call->sip_call_id);
    evapi_terminate(a, call, "REFUSED_AT_RESYNC");
}

static void on_push(struct agent *a, const tg_message *m) {
    uint8_t ack[64];
    send_frame(a, ack, tg_frame_ack(ack, sizeof ack, m->correlation_id));
    struct call *call = call_table_find_tollgate(a->calls, m->call_id);
    if (!call) return;
    switch (m->kind) {
    case TG_MSG_CUTOFF:
        evapi_terminate(a, call, "CUTOFF");
        break;
    case TG_MSG_HANGUP:
        evapi_terminate(a, call, m->reason[0] ? m->reason : "HANGUP");
        break;
    case TG_MSG_GRANT_RENEWAL: {
        /* The new deadline, as a distance from the server's now (the clocks need not agree). */
        long long remaining = m->deadline_ms - m->server_time_ms;
        long long seconds = m->authorization.grant_unlimited ? 0 : dialog_seconds(remaining);
        if (seconds > 0) evapi_set_timeout(a, call, seconds);
        break;
    }
    case TG_MSG_WARNING:
        agent_log(a, 1, "warning %s: %u s left", call->sip_call_id, m->seconds_left);
        break;
    default:
        break;
    }
}

void tollgate_readable(struct agent *a) {
    if (a->tollgate_in_capacity - a->tollgate_in_end < 16 * 1024) {
        memmove(a->tollgate_in, a->tollgate_in + a->tollgate_in_start, a->tollgate_in_end - a->tollgate_in_start);
        a->tollgate_in_end -= a->tollgate_in_start;
        a->tollgate_in_start = 0;
    }
    uint8_t *into = a->tollgate_in + a->tollgate_in_end;
    size_t room = a->tollgate_in_capacity - a->tollgate_in_end;
    ssize_t n;
    if (a->tollgate_session) {
        n = tg_tls_read(a->tollgate_session, into, room);
        if (n == TG_TLS_WANT_READ || n == TG_TLS_WANT_WRITE) return;
        if (n < 0) {
            char why[300];
            snprintf(why, sizeof why, "%s", tg_tls_error(a->tollgate_session));
            tollgate_disconnected(a, why);
            return;
        }
        if (n == 0) {
            tollgate_disconnected(a, "closed by Tollgate");
            return;
        }
    } else {
        n = recv(a->tollgate_fd, into, room, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            tollgate_disconnected(a, n == 0 ? "closed by Tollgate" : strerror(errno));
            return;
        }
        if (n < 0) return;
    }
    a->tollgate_in_end += (size_t)n;
    while (a->tollgate_fd >= 0 && a->tollgate_in_end - a->tollgate_in_start >= 4) {
        const uint8_t *b = a->tollgate_in + a->tollgate_in_start;
        size_t size = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];
        if (size > FRAME_MAX - 4) {
            tollgate_disconnected(a, "frame too large");
            return;
        }
        if (a->tollgate_in_end - a->tollgate_in_start < 4 + size) break;
        a->tollgate_in_start += 4 + size;
        tg_message m;
        if (tg_decode(b + 4, size, &m) != 0) continue;
        if (m.is_reply) {
            if (m.kind == TG_MSG_RESYNC_REPLY) tg_resync_reply_ids(b + 4, size, resync_verdict, a);
            on_reply(a, &m);
        } else {
            on_push(a, &m);
        }
    }
}

void tollgate_tick(struct agent *a) {
    int64_t now = agent_mono_ms();
    if (a->tollgate_state == LINK_DOWN && now >= a->tollgate_retry_mono) tollgate_connect(a);
    if (a->tollgate_state == LINK_TLS && now - a->last_heartbeat_mono >= a->options.auth_timeout_ms) {
        tollgate_disconnected(a, "TLS handshake: no answer in time");
        return;
    }
    /* A request not answered in time (an authorization, a heartbeat): the server or the path to it is stuck.
     * The connection is dropped: Kamailio's waiting transactions get their answer now, and the next connection
     * resyncs the calls. */
    while (a->oldest_pending < a->next_id && !pending_reply(a, a->oldest_pending)) a->oldest_pending++;
    struct pending *oldest = pending_reply(a, a->oldest_pending);
    if (oldest && now - oldest->sent_mono >= a->options.auth_timeout_ms) {
        tollgate_disconnected(a, "no reply in time");
        return;
    }
    if (a->tollgate_state == LINK_READY && now - a->last_heartbeat_mono >= HEARTBEAT_MS) {
        a->last_heartbeat_mono = now;
        struct pending *p = new_pending(a, PENDING_HEARTBEAT, NULL);
        uint8_t frame[64];
        if (p) send_frame(a, frame, tg_frame_heartbeat(frame, sizeof frame, p->id));
    }
}
