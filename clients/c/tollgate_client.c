/* Tollgate PBX client on libprotobuf-c: the blocking client, in its default and shared modes. See
 * tollgate_client.h. */
#define _GNU_SOURCE /* pipe2 */
#include "tollgate_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tg_grants.h"
#include "tg_io.h"
#include "tollgate/pbx/v1/pbx.pb-c.h"

typedef Tollgate__Pbx__V1__Envelope Envelope;

/* A request waiting for its reply (shared mode). */
struct pending {
    uint64_t id;
    Envelope *reply;
    int done;              /* 1 replied, -1 the connection was lost */
    pthread_cond_t cond;
    struct pending *next;
};

struct tg_client {
    /* What tg_reconnect needs. */
    char *host;
    int port;
    char *node_id;
    char *secret;
    char *software;
    tg_options options;
    tg_callbacks callbacks;
    tg_tls_config *tls;    /* NULL: plaintext */

    /* Guards what follows (in the default mode it is never contended). */
    pthread_mutex_t lock;
    /* Frames go out whole, whichever thread writes them (requests, the reader's acknowledgements). */
    pthread_mutex_t write_lock;
    tg_conn conn;
    int broken;            /* the connection failed: requests fail at once until tg_reconnect */
    uint64_t next_id;
    tg_grants *grants;
    struct pending *pending;
    int closing;
    /* Read by one thread only: the reader thread (shared mode) or the thread making a call (default mode). */
    tg_inbuf in;
    /* Shared mode. */
    pthread_t reader;
    int reader_started;
    int wake[2];           /* a byte here wakes the reader (a reconnect, the close) */
    tg_conn next_conn;     /* a reconnect's connection, for the reader to take up (fd -1: none) */
    pthread_cond_t switched;
};

static void set_status(tg_status *status, int code, const char *message, const char *field) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", message ? message : "");
    snprintf(status->field, sizeof status->field, "%s", field ? field : "");
}

static void status_from(tg_status *status, const Envelope *reply) {
    if (reply->status) {
        set_status(status, (int)reply->status->code, reply->status->message, reply->status->field);
    } else {
        set_status(status, TG_OK, NULL, NULL);
    }
}

/* TG_IO_ERROR with what, and TLS's reason when it has one. */
static void report_lost(tg_status *status, const tg_conn *conn, const char *what) {
    const char *reason = tg_conn_error(conn);
    char message[sizeof status->message];
    snprintf(message, sizeof message, "%s%s%s", what, *reason ? ": " : "", reason);
    set_status(status, TG_IO_ERROR, message, NULL);
}

static int send_envelope(tg_client *c, Envelope *envelope) {
    size_t size = tollgate__pbx__v1__envelope__get_packed_size(envelope);
    if (size > TG_MAX_FRAME) return -1;
    uint8_t *frame = malloc(size + 4);
    if (!frame) return -1;
    frame[0] = (uint8_t)(size >> 24);
    frame[1] = (uint8_t)(size >> 16);
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
    tollgate__pbx__v1__envelope__pack(envelope, frame + 4);
    pthread_mutex_lock(&c->write_lock);
    int rc = tg_conn_write_all(&c->conn, frame, size + 4);
    pthread_mutex_unlock(&c->write_lock);
    free(frame);
    return rc;
}

/* Expired grants collected under the lock, handed to on_hangup outside it. */
struct expired_list {
    char (*ids)[129];
    size_t count;
    size_t capacity;
};

static void collect_expired(const char *call_id, void *context) {
    struct expired_list *list = context;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        char(*ids)[129] = realloc(list->ids, capacity * sizeof *ids);
        if (!ids) return; /* the call is out of the table already: the PBX cannot be told, nothing else leaks */
        list->ids = ids;
        list->capacity = capacity;
    }
    snprintf(list->ids[list->count++], 129, "%s", call_id);
}

/* Grants that ran out unrenewed: the call must be hung up now (the engine may be gone). */
static void enforce_grants(tg_client *c) {
    struct expired_list list = {0};
    int64_t now = tg_mono_ms();
    pthread_mutex_lock(&c->lock);
    if (tg_grants_next_deadline(c->grants) <= now) tg_grants_expire(c->grants, now, collect_expired, &list);
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < list.count; i++) {
        if (c->callbacks.on_hangup) c->callbacks.on_hangup(c->callbacks.user, list.ids[i], "GRANT_EXPIRED");
    }
    free(list.ids);
}

static int64_t next_grant_deadline(tg_client *c) {
    pthread_mutex_lock(&c->lock);
    int64_t next = tg_grants_next_deadline(c->grants);
    pthread_mutex_unlock(&c->lock);
    return next;
}

static void handle_push(tg_client *c, Envelope *push) {
    Envelope ack = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__Ack ack_body = TOLLGATE__PBX__V1__ACK__INIT;
    ack.correlation_id = push->correlation_id;
    ack.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ACK;
    ack.ack = &ack_body;
    send_envelope(c, &ack);
    void *user = c->callbacks.user;
    switch (push->body_case) {
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_CUTOFF:
        pthread_mutex_lock(&c->lock);
        tg_grants_remove(c->grants, push->cutoff->call_id);
        pthread_mutex_unlock(&c->lock);
        if (c->callbacks.on_cutoff) c->callbacks.on_cutoff(user, push->cutoff->call_id, push->cutoff->boundary_ms);
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_WARNING:
        if (c->callbacks.on_warning)
            c->callbacks.on_warning(user, push->warning->call_id, push->warning->seconds_left, push->warning->cutoff_at_ms);
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_GRANT_RENEWAL: {
        Tollgate__Pbx__V1__GrantRenewal *r = push->grant_renewal;
        /* The deadline is on the server's clock: keep its distance from the server's now, on ours. A renewal for a
         * call the client does not hold (it ended meanwhile) changes nothing. */
        int64_t deadline = tg_mono_ms() + (r->deadline_ms - r->server_time_ms);
        pthread_mutex_lock(&c->lock);
        tg_grants_renewed(c->grants, r->call_id, deadline, r->unlimited);
        pthread_mutex_unlock(&c->lock);
        if (c->callbacks.on_grant) c->callbacks.on_grant(user, r->call_id, r->deadline_ms, r->unlimited);
        break;
    }
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_HANGUP:
        pthread_mutex_lock(&c->lock);
        tg_grants_remove(c->grants, push->hangup->call_id);
        pthread_mutex_unlock(&c->lock);
        if (c->callbacks.on_hangup) c->callbacks.on_hangup(user, push->hangup->call_id, push->hangup->reason);
        break;
    default:
        break;
    }
}

/* The connection failed: requests waiting for replies (shared mode) fail now, later ones at once. */
static void connection_lost(tg_client *c) {
    pthread_mutex_lock(&c->lock);
    c->broken = 1;
    for (struct pending *p = c->pending; p; p = p->next) {
        p->done = -1;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Default mode: handles the whole frames buffered; returns the reply to `awaited` if it came (caller frees).
 * Pushes are handled; replies to other requests (late ones) are dropped. *failed is set when the stream broke. */
static Envelope *take_buffered(tg_client *c, uint64_t awaited, int *failed) {
    Envelope *found = NULL;
    const uint8_t *payload;
    size_t length;
    int rc;
    while (!found && (rc = tg_inbuf_next(&c->in, &payload, &length)) == 1) {
        Envelope *e = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
        if (!e) continue;
        if (e->status && awaited && e->correlation_id == awaited) {
            found = e;
            continue;
        }
        if (!e->status) handle_push(c, e);
        tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
    }
    if (!found && rc == -1) *failed = 1;
    return found;
}

/* Default mode: reads what the socket has, then as take_buffered. */
static Envelope *read_available(tg_client *c, uint64_t awaited, int *failed) {
    long n = tg_inbuf_fill(&c->in, &c->conn);
    if (n == 0 || n == -1) {
        *failed = 1;
        return NULL;
    }
    return take_buffered(c, awaited, failed);
}

static Envelope *call_default(tg_client *c, Envelope *request, tg_status *status) {
    if (c->broken) {
        set_status(status, TG_IO_ERROR, "not connected: reconnect", NULL);
        return NULL;
    }
    request->correlation_id = c->next_id++;
    if (send_envelope(c, request) < 0) {
        c->broken = 1;
        set_status(status, TG_IO_ERROR, "write failed", NULL);
        return NULL;
    }
    int64_t deadline = tg_mono_ms() + c->options.request_timeout_ms;
    int failed = 0;
    Envelope *reply = take_buffered(c, request->correlation_id, &failed);
    while (!reply && !failed) {
        enforce_grants(c);
        int64_t now = tg_mono_ms();
        if (now >= deadline) {
            set_status(status, TG_DEADLINE_EXCEEDED, "no reply in time", NULL);
            return NULL;
        }
        int64_t until = next_grant_deadline(c);
        if (until > deadline) until = deadline;
        struct pollfd p = {.fd = c->conn.fd, .events = POLLIN};
        /* TLS may hold a whole record already taken off the socket: then the socket would not wake the poll. */
        int ready = tg_conn_buffered(&c->conn) ? 1 : poll(&p, 1, (int)(until > now ? until - now : 0));
        if (ready > 0) reply = read_available(c, request->correlation_id, &failed);
    }
    if (!reply) {
        c->broken = 1;
        report_lost(status, &c->conn, "connection lost");
        return NULL;
    }
    enforce_grants(c);
    status_from(status, reply);
    return reply;
}

static Envelope *call_shared(tg_client *c, Envelope *request, tg_status *status) {
    struct pending p = {0};
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&p.cond, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_lock(&c->lock);
    if (c->broken) {
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&p.cond);
        set_status(status, TG_IO_ERROR, "not connected: reconnect", NULL);
        return NULL;
    }
    p.id = c->next_id++;
    p.next = c->pending;
    c->pending = &p;
    pthread_mutex_unlock(&c->lock);

    request->correlation_id = p.id;
    int sent = send_envelope(c, request) == 0;

    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += c->options.request_timeout_ms / 1000;
    until.tv_nsec += (long)(c->options.request_timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    int timed_out = 0;
    while (sent && !p.done && !timed_out) timed_out = pthread_cond_timedwait(&p.cond, &c->lock, &until) == ETIMEDOUT;
    for (struct pending **q = &c->pending; *q; q = &(*q)->next) {
        if (*q == &p) {
            *q = p.next;
            break;
        }
    }
    if (!sent) c->broken = 1;
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&p.cond);
    if (p.done == 1) {
        status_from(status, p.reply);
        return p.reply;
    }
    if (p.reply) tollgate__pbx__v1__envelope__free_unpacked(p.reply, NULL);
    if (!sent || p.done == -1) {
        set_status(status, TG_IO_ERROR, "connection lost", NULL);
    } else {
        set_status(status, TG_DEADLINE_EXCEEDED, "no reply in time", NULL);
    }
    return NULL;
}

/* Sends a request and returns its reply (caller frees it), or NULL with *status set. */
static Envelope *call(tg_client *c, Envelope *request, tg_status *status) {
    return c->options.shared ? call_shared(c, request, status) : call_default(c, request, status);
}

static int finish(Envelope *reply) {
    int code = reply->status ? (int)reply->status->code : TG_OK;
    tollgate__pbx__v1__envelope__free_unpacked(reply, NULL);
    return code;
}

/* Shared mode: reads the connection, hands replies to their requests, handles pushes, enforces grants. */
static void *reader_main(void *argument) {
    tg_client *c = argument;
    for (;;) {
        tg_conn old = {.fd = -1};
        pthread_mutex_lock(&c->lock);
        if (c->next_conn.fd >= 0) {
            /* A reconnect: this thread owns the input, so it is the one to leave the old connection. */
            old = c->conn;
            c->conn = c->next_conn;
            c->next_conn = (tg_conn){.fd = -1};
            c->broken = 0;
            tg_inbuf_reset(&c->in);
            pthread_cond_broadcast(&c->switched);
        }
        int closing = c->closing, broken = c->broken, fd = c->conn.fd;
        int64_t next = tg_grants_next_deadline(c->grants);
        pthread_mutex_unlock(&c->lock);
        tg_conn_close(&old);
        if (closing) break;
        int64_t now = tg_mono_ms();
        int64_t wait = next == INT64_MAX ? 60000 : next - now;
        if (wait < 0) wait = 0;
        if (wait > 60000) wait = 60000;
        struct pollfd p[2] = {{.fd = c->wake[0], .events = POLLIN}, {.fd = broken ? -1 : fd, .events = POLLIN}};
        /* Bytes inside the TLS session do not wake the poll: read them now. */
        int buffered = !broken && tg_conn_buffered(&c->conn);
        int ready = poll(p, 2, buffered ? 0 : (int)wait);
        if (buffered) {
            p[1].revents |= POLLIN;
            if (ready <= 0) ready = 1;
        }
        if (ready > 0 && (p[0].revents & POLLIN)) {
            char drain[64];
            while (read(c->wake[0], drain, sizeof drain) > 0) {}
        }
        if (ready > 0 && !broken && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            long n = tg_inbuf_fill(&c->in, &c->conn);
            int failed = n == 0 || n == -1;
            const uint8_t *payload;
            size_t length;
            int rc;
            while (!failed && (rc = tg_inbuf_next(&c->in, &payload, &length)) != 0) {
                if (rc < 0) {
                    failed = 1;
                    break;
                }
                Envelope *e = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
                if (!e) continue;
                if (!e->status) {
                    handle_push(c, e);
                    tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
                    continue;
                }
                pthread_mutex_lock(&c->lock);
                struct pending *waiting = c->pending;
                while (waiting && waiting->id != e->correlation_id) waiting = waiting->next;
                if (waiting) {
                    waiting->reply = e;
                    waiting->done = 1;
                    pthread_cond_signal(&waiting->cond);
                }
                pthread_mutex_unlock(&c->lock);
                if (!waiting) tollgate__pbx__v1__envelope__free_unpacked(e, NULL); /* a reply come too late */
            }
            if (failed) connection_lost(c);
        }
        enforce_grants(c);
    }
    return NULL;
}

/* Hello on a new connection, answered before anything else can arrive. TG_OK or the failure's code. */
static int handshake(tg_client *c, tg_conn *conn, tg_status *status) {
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__Hello hello = TOLLGATE__PBX__V1__HELLO__INIT;
    hello.protocol_major = 1;
    hello.protocol_minor = 0;
    hello.node_id = c->node_id;
    hello.secret = c->secret;
    hello.software = c->software;
    request.correlation_id = 1;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_HELLO;
    request.hello = &hello;
    uint8_t frame[4 + 4096];
    size_t size = tollgate__pbx__v1__envelope__get_packed_size(&request);
    if (size > sizeof frame - 4) {
        set_status(status, TG_INVALID_ARGUMENT, "node id or secret too long", "nodeId");
        return TG_INVALID_ARGUMENT;
    }
    frame[0] = (uint8_t)(size >> 24);
    frame[1] = (uint8_t)(size >> 16);
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
    tollgate__pbx__v1__envelope__pack(&request, frame + 4);
    if (tg_conn_write_all(conn, frame, size + 4) < 0) {
        report_lost(status, conn, "write failed");
        return TG_IO_ERROR;
    }
    tg_inbuf in = {0};
    int64_t deadline = tg_mono_ms() + c->options.request_timeout_ms;
    int code = TG_IO_ERROR;
    report_lost(status, conn, "connection lost during the handshake");
    for (;;) {
        const uint8_t *payload;
        size_t length;
        int rc = tg_inbuf_next(&in, &payload, &length);
        if (rc < 0) break;
        if (rc == 1) {
            Envelope *reply = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
            if (!reply) break;
            status_from(status, reply);
            code = finish(reply);
            break;
        }
        int64_t now = tg_mono_ms();
        if (now >= deadline) {
            set_status(status, TG_DEADLINE_EXCEEDED, "no handshake reply in time", NULL);
            code = TG_DEADLINE_EXCEEDED;
            break;
        }
        struct pollfd p = {.fd = conn->fd, .events = POLLIN};
        if (tg_conn_buffered(conn) || poll(&p, 1, (int)(deadline - now)) > 0) {
            long n = tg_inbuf_fill(&in, conn);
            if (n == 0 || n == -1) {
                report_lost(status, conn, "connection lost during the handshake");
                break;
            }
        }
    }
    tg_inbuf_free(&in);
    return code;
}

/* A connected, handshaken connection in *conn: 0, or -1 with *status set. */
static int open_connection(tg_client *c, tg_conn *conn, tg_status *status) {
    char message[256];
    if (tg_conn_open(conn, c->host, c->port, c->options.connect_timeout_ms, c->tls, message, sizeof message) < 0) {
        set_status(status, TG_IO_ERROR, message, NULL);
        return -1;
    }
    if (handshake(c, conn, status) != TG_OK) {
        tg_conn_close(conn);
        return -1;
    }
    return 0;
}

static void free_client(tg_client *c) {
    tg_conn_close(&c->conn);
    tg_conn_close(&c->next_conn);
    tg_tls_config_free(c->tls);
    if (c->wake[0] >= 0) close(c->wake[0]);
    if (c->wake[1] >= 0) close(c->wake[1]);
    tg_grants_free(c->grants);
    tg_inbuf_free(&c->in);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->write_lock);
    pthread_cond_destroy(&c->switched);
    free(c->host);
    free(c->node_id);
    free(c->secret);
    free(c->software);
    free(c);
}

tg_client *tg_connect_tls(const char *host, int port, const char *node_id, const char *secret,
                          const tg_callbacks *callbacks, const tg_options *options, const tg_tls_options *tls,
                          tg_status *status) {
    tg_client *c = calloc(1, sizeof *c);
    if (!c) {
        set_status(status, TG_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return NULL;
    }
    c->conn.fd = c->wake[0] = c->wake[1] = c->next_conn.fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->switched, NULL);
    pthread_mutex_init(&c->write_lock, NULL);
    if (options) c->options = *options;
    if (c->options.connect_timeout_ms <= 0) c->options.connect_timeout_ms = 5000;
    if (c->options.request_timeout_ms <= 0) c->options.request_timeout_ms = 5000;
    c->host = strdup(host ? host : "127.0.0.1");
    c->port = port;
    c->node_id = strdup(node_id ? node_id : "");
    c->secret = strdup(secret ? secret : "");
    c->software = strdup(c->options.software ? c->options.software : "tollgate-c-client/1.0");
    c->options.software = NULL;
    c->next_id = 2; /* 1 is the handshake's */
    if (callbacks) c->callbacks = *callbacks;
    c->grants = tg_grants_new(c->options.max_grants);
    if (!c->host || !c->node_id || !c->secret || !c->software || !c->grants) {
        set_status(status, TG_RESOURCE_EXHAUSTED, "out of memory", NULL);
        free_client(c);
        return NULL;
    }
    if (tls) {
        char message[256];
        c->tls = tg_tls_config_new(tls, message, sizeof message);
        if (!c->tls) {
            set_status(status, TG_IO_ERROR, message, NULL);
            free_client(c);
            return NULL;
        }
    }
    if (open_connection(c, &c->conn, status) < 0) {
        free_client(c);
        return NULL;
    }
    if (c->options.shared) {
        if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0 || pthread_create(&c->reader, NULL, reader_main, c) != 0) {
            set_status(status, TG_RESOURCE_EXHAUSTED, "cannot start the reader thread", NULL);
            free_client(c);
            return NULL;
        }
        c->reader_started = 1;
    }
    return c;
}

tg_client *tg_connect_with(const char *host, int port, const char *node_id, const char *secret,
                           const tg_callbacks *callbacks, const tg_options *options, tg_status *status) {
    return tg_connect_tls(host, port, node_id, secret, callbacks, options, NULL, status);
}

tg_client *tg_connect(const char *host, int port, const char *node_id, const char *secret,
                      const tg_callbacks *callbacks, tg_status *status) {
    return tg_connect_with(host, port, node_id, secret, callbacks, NULL, status);
}

int tg_reconnect(tg_client *c, tg_status *status) {
    tg_conn conn;
    if (open_connection(c, &conn, status) < 0) return status ? status->code : TG_IO_ERROR;
    if (!c->reader_started) {
        tg_conn_close(&c->conn);
        c->conn = conn;
        c->broken = 0;
        tg_inbuf_reset(&c->in);
        return TG_OK;
    }
    /* Handed to the reader, which takes it up between two reads; requests go to it once this returns. */
    pthread_mutex_lock(&c->lock);
    c->next_conn = conn;
    (void)!write(c->wake[1], "r", 1);
    while (c->next_conn.fd >= 0) pthread_cond_wait(&c->switched, &c->lock);
    pthread_mutex_unlock(&c->lock);
    return TG_OK;
}

void tg_close(tg_client *c) {
    if (!c) return;
    if (c->reader_started) {
        pthread_mutex_lock(&c->lock);
        c->closing = 1;
        pthread_mutex_unlock(&c->lock);
        (void)!write(c->wake[1], "c", 1);
        pthread_join(c->reader, NULL);
    }
    free_client(c);
}

size_t tg_grant_count(tg_client *c) {
    pthread_mutex_lock(&c->lock);
    size_t count = tg_grants_count(c->grants);
    pthread_mutex_unlock(&c->lock);
    return count;
}

int tg_authorize(tg_client *c, const char *call_id, const char *extension, const char *dialled,
                 tg_authorization *out, tg_status *status) {
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__AuthorizeRequest body = TOLLGATE__PBX__V1__AUTHORIZE_REQUEST__INIT;
    body.call_id = (char *)call_id;
    body.extension_number = (char *)extension;
    body.dialled = (char *)dialled;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_AUTHORIZE;
    request.authorize = &body;
    Envelope *reply = call(c, &request, status);
    if (!reply) return status ? status->code : TG_IO_ERROR;
    tg_authorization result = {0};
    if (reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_AUTHORIZE_REPLY) {
        Tollgate__Pbx__V1__AuthorizeReply *r = reply->authorize_reply;
        result.allowed = r->decision == TOLLGATE__PBX__V1__DECISION__DECISION_ALLOW;
        result.deny_reason = (int)r->deny_reason;
        result.unbilled = r->unbilled;
        result.grant_unlimited = r->grant_unlimited;
        result.grant_ms = (int64_t)r->grant_ms;
        result.rate_id = r->rate ? r->rate->rate_id : 0;
    }
    int code = finish(reply);
    if (code == TG_OK && result.allowed && !result.grant_unlimited) {
        pthread_mutex_lock(&c->lock);
        int held = tg_grants_put(c->grants, call_id, result.grant_ms) == 0;
        pthread_mutex_unlock(&c->lock);
        if (!held) {
            /* Fail closed: a call this client could not bound must not start. The server let it go ahead, so it
             * is released there now, as unanswered. */
            tg_ended(c, call_id, 0, "GRANT_TABLE_FULL", NULL, NULL);
            result.allowed = 0;
            code = TG_RESOURCE_EXHAUSTED;
            set_status(status, code, "no room for the call's grant in the client: refused", "callId");
        }
    }
    if (out) *out = result;
    return code;
}

int tg_answered(tg_client *c, const char *call_id, tg_status *status) {
    pthread_mutex_lock(&c->lock);
    tg_grants_answered(c->grants, call_id, tg_mono_ms());
    pthread_mutex_unlock(&c->lock);
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__AnsweredRequest body = TOLLGATE__PBX__V1__ANSWERED_REQUEST__INIT;
    body.call_id = (char *)call_id;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ANSWERED;
    request.answered = &body;
    Envelope *reply = call(c, &request, status);
    return reply ? finish(reply) : (status ? status->code : TG_IO_ERROR);
}

int tg_ended(tg_client *c, const char *call_id, uint64_t billable_ms, const char *cause, tg_settlement *out,
             tg_status *status) {
    return tg_ended_call(c, call_id, billable_ms, cause, NULL, NULL, out, status);
}

int tg_ended_call(tg_client *c, const char *call_id, uint64_t billable_ms, const char *cause, const char *extension,
                  const char *dialled, tg_settlement *out, tg_status *status) {
    pthread_mutex_lock(&c->lock);
    tg_grants_remove(c->grants, call_id);
    pthread_mutex_unlock(&c->lock);
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__EndedRequest body = TOLLGATE__PBX__V1__ENDED_REQUEST__INIT;
    body.call_id = (char *)call_id;
    body.billable_ms = billable_ms;
    body.cause = (char *)(cause ? cause : "");
    if (extension) body.extension_number = (char *)extension;
    if (dialled) body.dialled = (char *)dialled;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ENDED;
    request.ended = &body;
    Envelope *reply = call(c, &request, status);
    if (!reply) return status ? status->code : TG_IO_ERROR;
    if (out && reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_ENDED_REPLY) {
        Tollgate__Pbx__V1__EndedReply *r = reply->ended_reply;
        out->settled_now = r->settled_now;
        out->result = (int)r->result;
        out->billed_ms = (int64_t)r->billed_ms;
        out->cost_micros = r->cost_micros;
        out->balance_after_micros = r->balance_after_micros;
    }
    return finish(reply);
}

int tg_heartbeat(tg_client *c, int64_t *server_time_ms, tg_status *status) {
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__HeartbeatRequest body = TOLLGATE__PBX__V1__HEARTBEAT_REQUEST__INIT;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_HEARTBEAT;
    request.heartbeat = &body;
    Envelope *reply = call(c, &request, status);
    if (!reply) return status ? status->code : TG_IO_ERROR;
    if (server_time_ms && reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_HEARTBEAT_REPLY)
        *server_time_ms = reply->heartbeat_reply->server_time_ms;
    return finish(reply);
}

int tg_extension_sync(tg_client *c, const char *const *numbers, const char *const *user_names, size_t count,
                      tg_status *status) {
    Tollgate__Pbx__V1__ExtensionInfo *infos = calloc(count ? count : 1, sizeof *infos);
    Tollgate__Pbx__V1__ExtensionInfo **pointers = calloc(count ? count : 1, sizeof *pointers);
    if (!infos || !pointers) {
        free(infos);
        free(pointers);
        set_status(status, TG_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return TG_RESOURCE_EXHAUSTED;
    }
    for (size_t i = 0; i < count; i++) {
        tollgate__pbx__v1__extension_info__init(&infos[i]);
        infos[i].number = (char *)numbers[i];
        infos[i].user_name = (char *)(user_names ? user_names[i] : "");
        pointers[i] = &infos[i];
    }
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__ExtensionSyncRequest body = TOLLGATE__PBX__V1__EXTENSION_SYNC_REQUEST__INIT;
    body.n_extensions = count;
    body.extensions = pointers;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_EXTENSION_SYNC;
    request.extension_sync = &body;
    Envelope *reply = call(c, &request, status);
    free(pointers);
    free(infos);
    return reply ? finish(reply) : (status ? status->code : TG_IO_ERROR);
}

int tg_resync(tg_client *c, const tg_live_call *live, size_t count, size_t *adopted, tg_status *status) {
    /* Built by the event-loop API's builder (one place that fills LiveCalls), read back as the request to send:
     * a resync is rare. */
    uint8_t *frame = malloc(TG_MAX_FRAME + 4);
    size_t n = frame ? tg_frame_resync(frame, TG_MAX_FRAME + 4, 0, live, count) : 0;
    Envelope *request = n ? tollgate__pbx__v1__envelope__unpack(NULL, n - 4, frame + 4) : NULL;
    free(frame);
    if (!request) {
        set_status(status, TG_INVALID_ARGUMENT, "too many calls for one resync frame", "calls");
        return TG_INVALID_ARGUMENT;
    }
    Envelope *reply = call(c, request, status);
    tollgate__pbx__v1__envelope__free_unpacked(request, NULL);
    if (!reply) return status ? status->code : TG_IO_ERROR;
    struct expired_list refused = {0};
    if (reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC_REPLY) {
        Tollgate__Pbx__V1__ResyncReply *r = reply->resync_reply;
        if (adopted) *adopted = r->n_adopted_call_ids;
        pthread_mutex_lock(&c->lock);
        /* The PBX hangs the unknown ones up: their grants go. An adopted call this client does not hold (the module
         * restarted) is held from now; the engine's next renewal arms its grant. No room for it: hung up. */
        for (size_t i = 0; i < r->n_unknown_call_ids; i++) tg_grants_remove(c->grants, r->unknown_call_ids[i]);
        for (size_t i = 0; i < r->n_adopted_call_ids; i++) {
            const char *id = r->adopted_call_ids[i];
            if (!tg_grants_holds(c->grants, id) && tg_grants_put(c->grants, id, 0) < 0)
                collect_expired(id, &refused);
        }
        pthread_mutex_unlock(&c->lock);
    }
    for (size_t i = 0; i < refused.count; i++) {
        if (c->callbacks.on_hangup) c->callbacks.on_hangup(c->callbacks.user, refused.ids[i], "GRANT_TABLE_FULL");
    }
    free(refused.ids);
    return finish(reply);
}

int tg_poll(tg_client *c, int timeout_ms) {
    int64_t until = tg_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    if (c->options.shared) {
        int64_t now;
        while ((now = tg_mono_ms()) < until) poll(NULL, 0, (int)(until - now));
        pthread_mutex_lock(&c->lock);
        int broken = c->broken;
        pthread_mutex_unlock(&c->lock);
        return broken ? TG_IO_ERROR : TG_OK;
    }
    int failed = c->broken;
    if (!failed) take_buffered(c, 0, &failed);
    for (;;) {
        enforce_grants(c);
        int64_t now = tg_mono_ms();
        if (now >= until) break;
        int64_t wait = next_grant_deadline(c);
        if (wait > until) wait = until;
        wait = wait > now ? wait - now : 0;
        /* With the connection gone the grants are still enforced: the calls must end within their grant. */
        struct pollfd p = {.fd = failed ? -1 : c->conn.fd, .events = POLLIN};
        int ready = !failed && tg_conn_buffered(&c->conn) ? 1 : poll(&p, 1, (int)wait);
        if (ready > 0 && !failed) read_available(c, 0, &failed);
    }
    if (failed) c->broken = 1;
    return failed ? TG_IO_ERROR : TG_OK;
}
