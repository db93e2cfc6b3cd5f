/* Tollgate PBX client on libprotobuf-c. See tollgate_client.h. */
#include "tollgate_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tollgate/pbx/v1/pbx.pb-c.h"

#define MAX_FRAME (64 * 1024)
#define MAX_GRANTS 1024

typedef Tollgate__Pbx__V1__Envelope Envelope;

struct grant {
    char call_id[129];
    int64_t grant_ms;      /* from authorization, until answered */
    int64_t deadline_mono; /* monotonic ms; 0 = not answered yet; -1 = unlimited */
};

struct tg_client {
    int fd;
    uint64_t next_id;
    tg_callbacks callbacks;
    struct grant grants[MAX_GRANTS];
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_status(tg_status *status, int code, const char *message, const char *field) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", message ? message : "");
    snprintf(status->field, sizeof status->field, "%s", field ? field : "");
}

static struct grant *find_grant(tg_client *c, const char *call_id, int create) {
    struct grant *free_slot = NULL;
    for (int i = 0; i < MAX_GRANTS; i++) {
        if (c->grants[i].call_id[0] == 0) {
            if (!free_slot) free_slot = &c->grants[i];
        } else if (strcmp(c->grants[i].call_id, call_id) == 0) {
            return &c->grants[i];
        }
    }
    if (create && free_slot) {
        snprintf(free_slot->call_id, sizeof free_slot->call_id, "%s", call_id);
        free_slot->deadline_mono = 0;
        free_slot->grant_ms = 0;
        return free_slot;
    }
    return NULL;
}

static void drop_grant(tg_client *c, const char *call_id) {
    struct grant *g = find_grant(c, call_id, 0);
    if (g) g->call_id[0] = 0;
}

static int write_all(int fd, const uint8_t *data, size_t length) {
    while (length > 0) {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *data, size_t length) {
    while (length > 0) {
        ssize_t n = recv(fd, data, length, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

static int send_envelope(tg_client *c, Envelope *envelope) {
    size_t size = tollgate__pbx__v1__envelope__get_packed_size(envelope);
    if (size > MAX_FRAME) return -1;
    uint8_t *frame = malloc(size + 4);
    if (!frame) return -1;
    frame[0] = (uint8_t)(size >> 24);
    frame[1] = (uint8_t)(size >> 16);
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
    tollgate__pbx__v1__envelope__pack(envelope, frame + 4);
    int rc = write_all(c->fd, frame, size + 4);
    free(frame);
    return rc;
}

static Envelope *read_envelope(tg_client *c) {
    uint8_t header[4];
    if (read_all(c->fd, header, 4) < 0) return NULL;
    uint32_t length = ((uint32_t)header[0] << 24) | ((uint32_t)header[1] << 16) | ((uint32_t)header[2] << 8) | header[3];
    if (length > MAX_FRAME) return NULL;
    uint8_t *payload = malloc(length ? length : 1);
    if (!payload) return NULL;
    Envelope *envelope = NULL;
    if (read_all(c->fd, payload, length) == 0) envelope = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
    free(payload);
    return envelope;
}

/* Grants that expired unrenewed: the call must be hung up now (the engine may be gone). */
static void enforce_grants(tg_client *c) {
    int64_t now = mono_ms();
    for (int i = 0; i < MAX_GRANTS; i++) {
        struct grant *g = &c->grants[i];
        if (g->call_id[0] && g->deadline_mono > 0 && now >= g->deadline_mono) {
            char id[129];
            snprintf(id, sizeof id, "%s", g->call_id);
            g->call_id[0] = 0;
            if (c->callbacks.on_hangup) c->callbacks.on_hangup(c->callbacks.user, id, "GRANT_EXPIRED");
        }
    }
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
        drop_grant(c, push->cutoff->call_id);
        if (c->callbacks.on_cutoff) c->callbacks.on_cutoff(user, push->cutoff->call_id, push->cutoff->boundary_ms);
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_WARNING:
        if (c->callbacks.on_warning)
            c->callbacks.on_warning(user, push->warning->call_id, push->warning->seconds_left, push->warning->cutoff_at_ms);
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_GRANT_RENEWAL: {
        Tollgate__Pbx__V1__GrantRenewal *r = push->grant_renewal;
        struct grant *g = find_grant(c, r->call_id, 0);
        /* The deadline is on the server's clock: keep its distance from the server's now, on ours. */
        if (g) g->deadline_mono = r->unlimited ? -1 : mono_ms() + (r->deadline_ms - r->server_time_ms);
        if (c->callbacks.on_grant) c->callbacks.on_grant(user, r->call_id, r->deadline_ms, r->unlimited);
        break;
    }
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_HANGUP:
        drop_grant(c, push->hangup->call_id);
        if (c->callbacks.on_hangup) c->callbacks.on_hangup(user, push->hangup->call_id, push->hangup->reason);
        break;
    default:
        break;
    }
}

/* Sends a request and returns its reply (caller frees it); pushes arriving meanwhile are handled. */
static Envelope *call(tg_client *c, Envelope *request, tg_status *status) {
    request->correlation_id = c->next_id++;
    if (send_envelope(c, request) < 0) {
        set_status(status, TG_IO_ERROR, "write failed", NULL);
        return NULL;
    }
    for (;;) {
        Envelope *envelope = read_envelope(c);
        if (!envelope) {
            set_status(status, TG_IO_ERROR, "connection lost", NULL);
            return NULL;
        }
        if (envelope->status && envelope->correlation_id == request->correlation_id) {
            set_status(status, envelope->status->code, envelope->status->message, envelope->status->field);
            enforce_grants(c);
            return envelope;
        }
        if (!envelope->status) handle_push(c, envelope);
        tollgate__pbx__v1__envelope__free_unpacked(envelope, NULL);
    }
}

static int finish(Envelope *reply) {
    int code = reply->status ? (int)reply->status->code : TG_OK;
    tollgate__pbx__v1__envelope__free_unpacked(reply, NULL);
    return code;
}

tg_client *tg_connect(const char *host, int port, const char *node_id, const char *secret,
                      const tg_callbacks *callbacks, tg_status *status) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {0}, *found = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, service, &hints, &found) != 0 || !found) {
        set_status(status, TG_IO_ERROR, "cannot resolve host", NULL);
        return NULL;
    }
    int fd = socket(found->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) < 0) {
        freeaddrinfo(found);
        if (fd >= 0) close(fd);
        set_status(status, TG_IO_ERROR, "cannot connect", NULL);
        return NULL;
    }
    freeaddrinfo(found);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tg_client *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->next_id = 1;
    if (callbacks) c->callbacks = *callbacks;

    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__Hello hello = TOLLGATE__PBX__V1__HELLO__INIT;
    hello.protocol_major = 1;
    hello.protocol_minor = 0;
    hello.node_id = (char *)node_id;
    hello.secret = (char *)secret;
    hello.software = "tollgate-c-client/0.1";
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_HELLO;
    request.hello = &hello;
    Envelope *reply = call(c, &request, status);
    if (!reply || finish(reply) != TG_OK) {
        tg_close(c);
        return NULL;
    }
    return c;
}

void tg_close(tg_client *client) {
    if (!client) return;
    close(client->fd);
    free(client);
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
    if (!reply) return TG_IO_ERROR;
    if (reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_AUTHORIZE_REPLY) {
        Tollgate__Pbx__V1__AuthorizeReply *r = reply->authorize_reply;
        tg_authorization result = {0};
        result.allowed = r->decision == TOLLGATE__PBX__V1__DECISION__DECISION_ALLOW;
        result.deny_reason = (int)r->deny_reason;
        result.unbilled = r->unbilled;
        result.grant_unlimited = r->grant_unlimited;
        result.grant_ms = (int64_t)r->grant_ms;
        result.rate_id = r->rate ? r->rate->rate_id : 0;
        if (result.allowed && !result.grant_unlimited) {
            struct grant *g = find_grant(c, call_id, 1);
            if (g) g->grant_ms = result.grant_ms;
        }
        if (out) *out = result;
    }
    return finish(reply);
}

int tg_answered(tg_client *c, const char *call_id, tg_status *status) {
    struct grant *g = find_grant(c, call_id, 0);
    if (g && g->deadline_mono == 0) g->deadline_mono = mono_ms() + g->grant_ms;
    Envelope request = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__AnsweredRequest body = TOLLGATE__PBX__V1__ANSWERED_REQUEST__INIT;
    body.call_id = (char *)call_id;
    request.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ANSWERED;
    request.answered = &body;
    Envelope *reply = call(c, &request, status);
    return reply ? finish(reply) : TG_IO_ERROR;
}

int tg_ended(tg_client *c, const char *call_id, uint64_t billable_ms, const char *cause, tg_settlement *out,
             tg_status *status) {
    return tg_ended_call(c, call_id, billable_ms, cause, NULL, NULL, out, status);
}

int tg_ended_call(tg_client *c, const char *call_id, uint64_t billable_ms, const char *cause, const char *extension,
                  const char *dialled, tg_settlement *out, tg_status *status) {
    drop_grant(c, call_id);
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
    if (!reply) return TG_IO_ERROR;
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
    if (!reply) return TG_IO_ERROR;
    if (server_time_ms && reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_HEARTBEAT_REPLY)
        *server_time_ms = reply->heartbeat_reply->server_time_ms;
    return finish(reply);
}

int tg_extension_sync(tg_client *c, const char *const *numbers, const char *const *user_names, size_t count,
                      tg_status *status) {
    Tollgate__Pbx__V1__ExtensionInfo *infos = calloc(count ? count : 1, sizeof *infos);
    Tollgate__Pbx__V1__ExtensionInfo **pointers = calloc(count ? count : 1, sizeof *pointers);
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
    return reply ? finish(reply) : TG_IO_ERROR;
}

int tg_resync(tg_client *c, const tg_live_call *live, size_t count, size_t *adopted, tg_status *status) {
    /* Built by the event-loop API's builder (one place that fills LiveCalls), read back as the request to send:
     * a resync is rare. */
    uint8_t *frame = malloc(MAX_FRAME);
    size_t n = frame ? tg_frame_resync(frame, MAX_FRAME, 0, live, count) : 0;
    Envelope *request = n ? tollgate__pbx__v1__envelope__unpack(NULL, n - 4, frame + 4) : NULL;
    free(frame);
    if (!request) {
        set_status(status, TG_INVALID_ARGUMENT, "too many calls for one resync frame", "calls");
        return TG_INVALID_ARGUMENT;
    }
    Envelope *reply = call(c, request, status);
    tollgate__pbx__v1__envelope__free_unpacked(request, NULL);
    if (!reply) return TG_IO_ERROR;
    if (adopted && reply->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC_REPLY)
        *adopted = reply->resync_reply->n_adopted_call_ids;
    return finish(reply);
}

int tg_poll(tg_client *c, int timeout_ms) {
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        enforce_grants(c);
        int64_t now = mono_ms();
        int64_t wait = until - now;
        for (int i = 0; i < MAX_GRANTS; i++) {
            if (c->grants[i].call_id[0] && c->grants[i].deadline_mono > 0 && c->grants[i].deadline_mono - now < wait)
                wait = c->grants[i].deadline_mono - now;
        }
        if (wait < 0) wait = 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)wait);
        if (ready < 0 && errno != EINTR) return TG_IO_ERROR;
        if (ready > 0) {
            Envelope *envelope = read_envelope(c);
            if (!envelope) return TG_IO_ERROR;
            if (!envelope->status) handle_push(c, envelope);
            tollgate__pbx__v1__envelope__free_unpacked(envelope, NULL);
        }
        if (mono_ms() >= until) {
            enforce_grants(c);
            return TG_OK;
        }
    }
}
