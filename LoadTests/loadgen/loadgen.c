/* Tollgate load generator: plays the media layer of N PBXs against a running `tollgate serve` from one epoll
 * loop, and measures what the engine does. Usage and output: README.md (`./loadgen --help`). */
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "options.h"
#include "timers.h"

enum call_state { FREE = 0, AUTHORIZING, ANSWERING, UP, ENDING };
enum timer_kind { T_END = 1, T_GRANT };

typedef struct {
    uint32_t gen;
    int32_t conn;
    int32_t ext;
    uint8_t state;
    uint8_t bad;   /* placed to a destination that must be refused */
    uint8_t resend_end; /* --reconnect: its End is to be sent (again) once the connection is back */
    uint8_t resent;     /* its End was sent again after a reconnect */
    uint32_t dialled;   /* the dialled number's random digits (see dialled_number) */
    int64_t auth_sent, answer_sent, end_at, expected_cutoff, grant_deadline, grant_ms;
    int64_t end_billable_ms;
    const char *end_cause;
} call;

static options opt;
static connection *conns;
static call *calls;
static uint32_t *free_slots;
static uint32_t free_count;
static uint16_t *ext_live;
static timer_heap timers;
static int ep;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static run_stats stats;

static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double uniform01(void) { return (double)(next_random() >> 11) / 9007199254740992.0; }

static void ext_number(int32_t ext, char *out, size_t size) { snprintf(out, size, "%d", opt.ext_base + ext); }

static void call_id(uint32_t slot, uint32_t gen, char *out, size_t size) {
    snprintf(out, size, "L%u-%u", slot, gen);
}

static void dialled_number(const call *c, char *out, size_t size) {
    snprintf(out, size, "%c%09" PRIu32, c->bad == 1 ? '5' : '0', c->dialled);
}

static call *call_by_id(const char *id, uint32_t *slot_out) {
    if (id[0] != 'L') return NULL;
    char *dash;
    unsigned long slot = strtoul(id + 1, &dash, 10);
    if (*dash != '-' || slot >= opt.max_live) return NULL;
    unsigned long gen = strtoul(dash + 1, NULL, 10);
    call *c = &calls[slot];
    if (c->state == FREE || c->gen != gen) return NULL;
    *slot_out = (uint32_t)slot;
    return c;
}

static int64_t hold_us(void) {
    double ms;
    switch (opt.distribution) {
    case DIST_UNIFORM: ms = opt.hold_min_ms + uniform01() * (opt.hold_max_ms - opt.hold_min_ms); break;
    case DIST_EXPONENTIAL: ms = -log(1.0 - uniform01()) * opt.hold_ms; break;
    default: ms = opt.hold_ms; break;
    }
    if (ms > opt.hold_max_ms && opt.distribution == DIST_EXPONENTIAL) ms = opt.hold_max_ms;
    return (int64_t)(ms * 1000.0);
}

static void count_error(int code) {
    stats.errors++;
    stats.errors_by_status[code >= 0 && code < 32 ? code : 31]++;
}

static void release(uint32_t slot) {
    call *c = &calls[slot];
    if (c->state == FREE) return;
    if (c->ext >= 0 && ext_live[c->ext] > 0) ext_live[c->ext]--;
    c->state = FREE;
    c->gen++;
    free_slots[free_count++] = slot;
    stats.live--;
}

/* ---- requests ---- */

struct frame_args {
    const char *id, *ext, *dialled, *cause;
    uint64_t billable_ms;
};

static size_t build_authorize(uint8_t *o, size_t cap, uint64_t id, void *a) {
    struct frame_args *f = a;
    return tg_frame_authorize(o, cap, id, f->id, f->ext, f->dialled);
}
static size_t build_answered(uint8_t *o, size_t cap, uint64_t id, void *a) {
    return tg_frame_answered(o, cap, id, ((struct frame_args *)a)->id);
}
static size_t build_ended(uint8_t *o, size_t cap, uint64_t id, void *a) {
    struct frame_args *f = a;
    return tg_frame_ended_call(o, cap, id, f->id, f->billable_ms, f->cause, f->ext, f->dialled);
}

static int request_end(uint32_t slot, int64_t now) {
    call *c = &calls[slot];
    char id[32], number[24], dialled[16];
    call_id(slot, c->gen, id, sizeof id);
    struct frame_args f = {.id = id, .billable_ms = (uint64_t)c->end_billable_ms, .cause = c->end_cause};
    if (c->resent) {
        /* Sent again after a reconnect: named, so a call the restart lost whole is still settled. */
        ext_number(c->ext, number, sizeof number);
        dialled_number(c, dialled, sizeof dialled);
        f.ext = number;
        f.dialled = dialled;
    }
    return conn_request(&conns[c->conn], P_ENDED, slot, c->gen, now, build_ended, &f);
}

static void send_ended(uint32_t slot, int64_t now, const char *cause) {
    call *c = &calls[slot];
    int64_t billable = c->answer_sent ? (now - c->answer_sent) / 1000 : 0;
    c->end_billable_ms = billable > 0 ? billable : 0;
    c->end_cause = cause;
    c->state = ENDING;
    if (opt.reconnect && conns[c->conn].closed) {
        /* The call hung up while the server was away: its End goes once the connection is back. */
        c->resend_end = 1;
        return;
    }
    if (request_end(slot, now) < 0) {
        count_error(TG_UNAVAILABLE);
        release(slot);
    }
}

static int pick_extension(int *bad) {
    *bad = 0;
    if (opt.bad_share > 0 && uniform01() < opt.bad_share) {
        *bad = 1 + (int)(next_random() % 3); /* 1 no rate, 2 locked, 3 no money */
        if (*bad == 2 && opt.locked > 0) return opt.extensions + (int)(next_random() % (uint64_t)opt.locked);
        if (*bad == 3 && opt.broke > 0) return opt.extensions + opt.locked + (int)(next_random() % (uint64_t)opt.broke);
        *bad = 1;
    }
    static int cursor = 0;
    for (int tries = 0; tries < 64; tries++) {
        int ext = cursor;
        cursor = (cursor + 1) % opt.extensions;
        if (ext_live[ext] < opt.calls_per_ext) return ext;
    }
    return -1;
}

static int place_call(int64_t now) {
    if (free_count == 0) return -1;
    static int next_conn = 0;
    connection *conn = NULL;
    for (int tries = 0; tries < opt.connections; tries++) {
        connection *candidate = &conns[next_conn];
        next_conn = (next_conn + 1) % opt.connections;
        /* Backpressure: a connection with a full window or a backed-up socket takes no new calls. */
        if (!candidate->closed && candidate->ring_count < candidate->window && !candidate->writable_wait) {
            conn = candidate;
            break;
        }
    }
    if (!conn) return -1;
    int bad;
    int ext = pick_extension(&bad);
    if (ext < 0) return -1;
    uint32_t slot = free_slots[--free_count];
    call *c = &calls[slot];
    *c = (call){.gen = c->gen, .conn = conn->index, .ext = ext, .state = AUTHORIZING, .bad = (uint8_t)bad,
                .auth_sent = now, .dialled = (uint32_t)(next_random() % 1000000000ull)};
    char id[32], number[24], dialled[24];
    call_id(slot, c->gen, id, sizeof id);
    ext_number(ext, number, sizeof number);
    dialled_number(c, dialled, sizeof dialled);
    struct frame_args f = {.id = id, .ext = number, .dialled = dialled};
    if (conn_request(conn, P_AUTHORIZE, slot, c->gen, now, build_authorize, &f) < 0) {
        c->state = FREE;
        free_slots[free_count++] = slot;
        return -1;
    }
    ext_live[ext]++;
    stats.live++;
    if (stats.live > stats.live_peak) stats.live_peak = stats.live;
    stats.started++;
    if (bad) stats.bad_calls++;
    return 0;
}

/* ---- replies and pushes ---- */

static void on_authorize_reply(uint32_t slot, const tg_message *m, int64_t now) {
    call *c = &calls[slot];
    stats.authorize_replies++;
    hist_record(&stats.authorize, now - c->auth_sent);
    hist_record(&stats.authorize_interval, now - c->auth_sent);
    if (m->status_code != TG_OK || m->kind != TG_MSG_AUTHORIZE_REPLY) {
        count_error(m->status_code);
        release(slot);
        return;
    }
    if (!m->authorization.allowed) {
        stats.denied++;
        release(slot);
        return;
    }
    if (c->bad) stats.unexpected_allowed++;
    if (uniform01() >= opt.answer_ratio) {
        send_ended(slot, now, "NO_ANSWER");
        return;
    }
    char id[32];
    call_id(slot, c->gen, id, sizeof id);
    struct frame_args f = {.id = id};
    if (conn_request(&conns[c->conn], P_ANSWERED, slot, c->gen, now, build_answered, &f) < 0) {
        count_error(TG_UNAVAILABLE);
        release(slot);
        return;
    }
    c->state = ANSWERING;
    c->answer_sent = now;
    c->end_at = now + hold_us();
    timer_push(&timers, c->end_at, slot, c->gen, T_END);
    if (!m->authorization.grant_unlimited && !m->authorization.unbilled) {
        c->grant_deadline = now + m->authorization.grant_ms * 1000;
        timer_push(&timers, c->grant_deadline + opt.grant_grace_ms * 1000, slot, c->gen, T_GRANT);
    }
    if (opt.expected_cutoff_us > 0) c->expected_cutoff = now + opt.expected_cutoff_us;
}

static void on_reply(connection *conn, const tg_message *m, int64_t now) {
    pending p;
    pending *found = conn_take_reply(conn, m->correlation_id);
    if (!found) {
        count_error(TG_INTERNAL);
        return;
    }
    p = *found;
    stats.replies++;
    if (p.kind == P_HELLO || p.kind == P_SYNC || p.kind == P_RESYNC) {
        if (m->status_code != TG_OK) count_error(m->status_code);
        return;
    }
    call *c = &calls[p.slot];
    if (c->state == FREE || c->gen != p.gen) return;
    switch (p.kind) {
    case P_AUTHORIZE: on_authorize_reply(p.slot, m, now); break;
    case P_ANSWERED:
        if (m->status_code != TG_OK) count_error(m->status_code);
        else if (c->state == ANSWERING) c->state = UP;
        break;
    case P_ENDED:
        if (m->status_code == TG_OK && m->kind == TG_MSG_ENDED_REPLY) {
            stats.completed++;
            stats.cost_total += m->settlement.cost_micros;
            if (m->settlement.result == 2) stats.cutoff_results++;
            /* Settled before the crash, its reply lost: acknowledged again, figures not repeated. */
            if (c->resent && !m->settlement.settled_now) stats.ends_already_settled++;
        } else if (c->resent && m->status_code == TG_NOT_FOUND) {
            /* The crash lost the call itself: authorized (and answered) within the last commit before it. */
            stats.ends_not_found++;
            if (c->end_billable_ms > 0) stats.ends_not_found_answered++;
        } else {
            count_error(m->status_code);
        }
        release(p.slot);
        break;
    default: break;
    }
}

static void on_push(connection *conn, const tg_message *m, int64_t now) {
    uint8_t ack[32];
    size_t n = tg_frame_ack(ack, sizeof ack, m->correlation_id);
    conn_push_frame(conn, ack, n);
    uint32_t slot;
    call *c = call_by_id(m->call_id, &slot);
    switch (m->kind) {
    case TG_MSG_CUTOFF:
        stats.cutoffs++;
        hist_record(&stats.cutoff_server_lateness, (m->server_time_ms - m->boundary_ms) * 1000);
        if (!c) break;
        if (c->expected_cutoff) hist_record(&stats.cutoff_lateness, now - c->expected_cutoff);
        if (c->state == ANSWERING || c->state == UP) send_ended(slot, now, "CUTOFF");
        return;
    case TG_MSG_HANGUP:
        stats.hangups++;
        if (c && (c->state == ANSWERING || c->state == UP)) send_ended(slot, now, "HANGUP");
        return;
    case TG_MSG_WARNING: stats.warnings++; break;
    case TG_MSG_GRANT_RENEWAL:
        stats.grant_renewals++;
        if (c && !m->authorization.grant_unlimited && (c->state == ANSWERING || c->state == UP)) {
            c->grant_deadline = now + (m->deadline_ms - m->server_time_ms) * 1000;
            timer_push(&timers, c->grant_deadline + opt.grant_grace_ms * 1000, slot, c->gen, T_GRANT);
        } else if (c) {
            c->grant_deadline = 0;
        }
        return;
    default: break;
    }
    if (!c && m->kind != TG_MSG_WARNING) stats.unknown_pushes++;
}

/* A resync's verdict on one call: adopted ones go on; the PBX hangs up the ones the server does not have. */
static void on_resync_id(const char *id, int adopted, void *context) {
    (void)context;
    uint32_t slot;
    call *c = call_by_id(id, &slot);
    if (!c) return;
    stats.resynced++;
    if (adopted) {
        stats.resync_adopted++;
        if (c->state == ANSWERING) c->state = UP;
    } else {
        stats.resync_unknown++;
        release(slot);
    }
}

static void on_frame(connection *conn, const uint8_t *payload, size_t length, void *context) {
    int64_t now = *(int64_t *)context;
    tg_message m;
    if (tg_decode(payload, length, &m) < 0) {
        count_error(TG_INTERNAL);
        return;
    }
    if (m.is_reply && m.kind == TG_MSG_RESYNC_REPLY && m.status_code == TG_OK)
        tg_resync_reply_ids(payload, length, on_resync_id, NULL);
    if (m.is_reply) on_reply(conn, &m, now);
    else on_push(conn, &m, now);
}

static void fire_timers(int64_t now) {
    timer_entry t;
    while (timer_pop_due(&timers, now, &t)) {
        call *c = &calls[t.slot];
        if (c->state == FREE || c->gen != t.gen || (c->state != ANSWERING && c->state != UP)) continue;
        if (t.kind == T_END && t.at == c->end_at) send_ended(t.slot, now, "NORMAL_CLEARING");
        else if (t.kind == T_GRANT && c->grant_deadline && t.at == c->grant_deadline + opt.grant_grace_ms * 1000) {
            /* The engine neither renewed nor cut within the grace: the PBX's failsafe hangs up. */
            stats.grant_expired++;
            stats.errors++;
            send_ended(t.slot, now, "GRANT_EXPIRED");
        }
    }
}

/* ---- server figures ---- */

static int64_t server_rss(void) {
    if (opt.server_pid <= 0) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", opt.server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long size = 0, resident = 0;
    int read = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    return read == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : 0;
}


static int echo_mode;
static http_job *metrics_job;

static void on_echo_frame(connection *conn, const uint8_t *payload, size_t length, int64_t now) {
    tg_message m;
    if (tg_decode(payload, length, &m) < 0) {
        count_error(TG_INTERNAL);
        return;
    }
    pending *p = conn_take_reply(conn, m.correlation_id);
    if (!p) {
        count_error(TG_INTERNAL);
        return;
    }
    stats.replies++;
    stats.authorize_replies++;
    hist_record(&stats.authorize, now - p->sent_us);
}

static void frame_router(connection *conn, const uint8_t *payload, size_t length, void *context) {
    if (echo_mode) on_echo_frame(conn, payload, length, *(int64_t *)context);
    else on_frame(conn, payload, length, context);
}

/* --reconnect: the server went away. Requests awaiting a reply will get none: an authorization without a decision
 * fails the call, as a PBX does; an End is sent again once the connection is back; answered calls stay up and are
 * resynced. */
static void connection_down(connection *conn) {
    int64_t now = now_us();
    stats.disconnects++;
    conn->down_since = conn->next_attempt = now;
    for (int r = 0; r < 2; r++) {
        pending_ring *ring = &conn->rings[r];
        for (uint32_t i = 0; i < ring->count; i++) {
            pending *p = &ring->slots[(ring->head + i) % ring->capacity];
            if (p->kind != P_AUTHORIZE && p->kind != P_ENDED) continue;
            call *c = &calls[p->slot];
            if (c->state == FREE || c->gen != p->gen) continue;
            if (p->kind == P_AUTHORIZE) {
                stats.lost_authorizations++;
                release(p->slot);
            } else {
                c->resend_end = 1;
            }
        }
        ring->head = ring->count = 0;
    }
    conn->ring_count = 0;
    conn->in.length = conn->in.offset = 0;
    conn->out.length = conn->out.offset = 0;
    conn->writable_wait = 0;
    fprintf(stderr, "loadgen: connection %d lost; reconnecting\n", conn->index);
}

static void connection_lost(connection *conn) {
    if (conn->closed) return;
    conn->closed = 1;
    epoll_ctl(ep, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    if (opt.reconnect) {
        connection_down(conn);
        return;
    }
    count_error(TG_UNAVAILABLE);
    fprintf(stderr, "loadgen: connection %d lost\n", conn->index);
    for (uint32_t slot = 0; slot < opt.max_live; slot++) {
        if (calls[slot].state != FREE && calls[slot].conn == conn->index) {
            count_error(TG_UNAVAILABLE);
            release(slot);
        }
    }
}

static void flush_all(void) {
    for (int i = 0; i < opt.connections; i++) {
        connection *c = &conns[i];
        if (!c->closed && c->out.length > c->out.offset && !c->writable_wait && conn_flush(c, ep) < 0)
            connection_lost(c);
    }
}

static int64_t metric_micros(const char *text, const char *name) {
    const char *at = text;
    size_t length = strlen(name);
    while ((at = strstr(at, name)) != NULL) {
        /* A sample line: the name at the start of a line, then a space and the value in seconds. */
        if ((at == text || at[-1] == '\n') && at[length] == ' ') return llround(strtod(at + length + 1, NULL) * 1e6);
        at += length;
    }
    return 0;
}

/* The server's tick lateness in its last completed 10-second window, from /metrics (no token needed). */
static void finish_metrics(void) {
    int status;
    if (!http_job_step(metrics_job, &status)) return;
    if (status == 200) {
        const char *text = http_job_response(metrics_job);
        stats.tick_window_p99_us = metric_micros(text, "tollgate_tick_lateness_window_p99_seconds");
        stats.tick_window_max_us = metric_micros(text, "tollgate_tick_lateness_window_max_seconds");
    }
    http_job_free(metrics_job);
    metrics_job = NULL;
}

/* One epoll round: reads replies and pushes, writes what is buffered. */
static void pump(int timeout_ms) {
    struct epoll_event events[512];
    int n = epoll_wait(ep, events, 512, timeout_ms);
    int64_t now = now_us();
    for (int i = 0; i < n; i++) {
        if (events[i].data.u64 & (1ull << 63)) {
            uint64_t which = events[i].data.u64 & ~(1ull << 63);
            if (which >= JOB_RECHARGE_FIRST) recharges_event(which, now);
            if (which == JOB_METRICS && metrics_job) finish_metrics();
            continue;
        }
        connection *c = &conns[events[i].data.u64];
        if (c->closed) continue;
        if ((events[i].events & EPOLLOUT) && conn_flush(c, ep) < 0) {
            connection_lost(c);
            continue;
        }
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conn_read(c, frame_router, &now) < 0)
            connection_lost(c);
    }
    flush_all();
}

static size_t build_hello(uint8_t *o, size_t cap, uint64_t id, void *a) {
    return tg_frame_hello(o, cap, id, "loadgen", (const char *)a);
}

static int open_connections(void) {
    for (int i = 0; i < opt.connections; i++) {
        int fd = connect_loopback(opt.host, opt.echo_port ? opt.echo_port : opt.port);
        if (fd < 0 || conn_init(&conns[i], fd, i, (uint32_t)opt.inflight) < 0) {
            fprintf(stderr, "loadgen: cannot connect to %s:%d\n", opt.host, opt.echo_port ? opt.echo_port : opt.port);
            return 1;
        }
        struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
        if (!opt.echo_port) conn_request(&conns[i], P_HELLO, 0, 0, now_us(), build_hello, (void *)opt.secret);
    }
    if (opt.echo_port) return 0;
    int64_t until = now_us() + 10000000;
    while (stats.replies < (uint64_t)opt.connections && now_us() < until) pump(10);
    if (stats.replies < (uint64_t)opt.connections || stats.errors) {
        fprintf(stderr, "loadgen: handshake failed (%" PRIu64 " of %d connections, %" PRIu64 " errors)\n",
                stats.replies, opt.connections, stats.errors);
        return 1;
    }
    stats.replies = 0;
    return 0;
}

struct resync_args {
    const tg_live_call *calls;
    size_t count;
};

static size_t build_resync(uint8_t *o, size_t cap, uint64_t id, void *a) {
    struct resync_args *r = a;
    return tg_frame_resync(o, cap, id, r->calls, r->count);
}

/* After a reconnect: the connection's answered calls, 500 per frame (the frame limit is 64 KiB), each with how long
 * ago it was answered; then the Ends the server did not answer, sent again (each call is settled exactly once). */
static void resync_connection(connection *conn, int64_t now) {
    enum { CHUNK = 500 };
    static tg_live_call live[CHUNK];
    static char ids[CHUNK][32], numbers[CHUNK][24], dialled[CHUNK][24];
    size_t count = 0;
    for (uint32_t slot = 0; slot <= opt.max_live; slot++) {
        if (count == CHUNK || (slot == opt.max_live && count > 0)) {
            struct resync_args args = {live, count};
            if (conn_request(conn, P_RESYNC, 0, 0, now, build_resync, &args) < 0) count_error(TG_UNAVAILABLE);
            count = 0;
        }
        if (slot == opt.max_live) break;
        call *c = &calls[slot];
        if (c->conn != conn->index || (c->state != ANSWERING && c->state != UP)) continue;
        call_id(slot, c->gen, ids[count], sizeof ids[count]);
        ext_number(c->ext, numbers[count], sizeof numbers[count]);
        dialled_number(c, dialled[count], sizeof dialled[count]);
        live[count] = (tg_live_call){.call_id = ids[count], .extension = numbers[count], .dialled = dialled[count],
                                     .answered = 1, .answered_ms_ago = (uint64_t)((now - c->answer_sent) / 1000)};
        count++;
    }
    for (uint32_t slot = 0; slot < opt.max_live; slot++) {
        call *c = &calls[slot];
        if (c->conn != conn->index || c->state != ENDING || !c->resend_end) continue;
        c->resend_end = 0;
        c->resent = 1;
        stats.ends_resent++;
        if (request_end(slot, now) < 0) {
            count_error(TG_UNAVAILABLE);
            release(slot);
        }
    }
}

/* --reconnect: every 100 ms, each connection that is down tries again: handshake, resync, Ends. */
static void reconnect_due(int64_t now) {
    for (int i = 0; i < opt.connections; i++) {
        connection *conn = &conns[i];
        if (!conn->closed || now < conn->next_attempt) continue;
        int fd = connect_loopback(opt.host, opt.port);
        if (fd < 0) {
            conn->next_attempt = now + 100000;
            continue;
        }
        conn->fd = fd;
        conn->closed = 0;
        struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
        stats.reconnects++;
        if (now - conn->down_since > stats.downtime_max_us) stats.downtime_max_us = now - conn->down_since;
        if (conn_request(conn, P_HELLO, 0, 0, now, build_hello, (void *)opt.secret) < 0) count_error(TG_UNAVAILABLE);
        resync_connection(conn, now);
    }
}

struct sync_args {
    const char *const *numbers;
    size_t count;
};

static size_t build_sync(uint8_t *o, size_t cap, uint64_t id, void *a) {
    struct sync_args *s = a;
    return tg_frame_extension_sync(o, cap, id, s->numbers, s->count);
}

/* Tells the engine about every extension, 1,000 per frame, as a PBX does after connecting. */
static int sync_extensions(void) {
    int total = opt.extensions + opt.locked + opt.broke;
    enum { CHUNK = 1000 };
    static char storage[CHUNK][24];
    const char *numbers[CHUNK];
    for (int first = 0; first < total; first += CHUNK) {
        size_t count = 0;
        for (int ext = first; ext < total && count < CHUNK; ext++, count++) {
            ext_number(ext, storage[count], sizeof storage[count]);
            numbers[count] = storage[count];
        }
        struct sync_args args = {numbers, count};
        uint64_t before = stats.replies;
        conn_request(&conns[0], P_SYNC, 0, 0, now_us(), build_sync, &args);
        flush_all();
        int64_t until = now_us() + 60000000;
        while (stats.replies == before && now_us() < until) pump(10);
        if (stats.replies == before || stats.errors) {
            fprintf(stderr, "loadgen: extension sync failed at %d\n", first);
            return 1;
        }
    }
    fprintf(stderr, "loadgen: synced %d extensions\n", total);
    return 0;
}

/* The transport baseline: authorize frames to the echo server, every window kept full, for --duration s. */
static int run_echo_client(void) {
    echo_mode = 1;
    char id[32];
    int64_t start = now_us(), until = start + (int64_t)opt.duration_s * 1000000;
    uint64_t serial = 0;
    while (now_us() < until) {
        int64_t now = now_us();
        for (int i = 0; i < opt.connections; i++) {
            connection *c = &conns[i];
            while (!c->closed && !c->writable_wait && c->ring_count < c->window) {
                snprintf(id, sizeof id, "L%" PRIu64 "-0", serial++);
                struct frame_args f = {.id = id, .ext = "10000000", .dialled = "0123456789"};
                if (conn_request(c, P_ECHO, 0, 0, now, build_authorize, &f) < 0) break;
            }
        }
        flush_all();
        pump(1);
    }
    stats.placing_us = now_us() - start;
    int64_t rps = stats.placing_us > 0 ? (int64_t)(stats.authorize_replies * 1000000 / (uint64_t)stats.placing_us) : 0;
    printf("{\"echo_ceiling_rps\": %" PRId64 ", \"echo_p50_us\": %" PRId64 ", \"echo_p99_us\": %" PRId64
           ", \"echo_connections\": %d, \"echo_inflight\": %d}\n",
           rps, hist_percentile(&stats.authorize, 50), hist_percentile(&stats.authorize, 99), opt.connections,
           opt.inflight);
    return stats.errors ? 1 : 0;
}

static void progress(FILE *timeline, int64_t elapsed_us, uint64_t started_delta) {
    int64_t rss = server_rss();
    if (rss > stats.rss_peak) stats.rss_peak = rss;
    fprintf(stderr, "[%4" PRId64 "s] cps %7" PRIu64 "  live %8" PRIu64 "  authorize p99 %6" PRId64 " us  cutoffs %8" PRIu64
            "  errors %" PRIu64 "\n",
            elapsed_us / 1000000, started_delta, stats.live, hist_percentile(&stats.authorize_interval, 99),
            stats.cutoffs, stats.errors);
    if (timeline)
        fprintf(timeline, "%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64
                ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
                elapsed_us / 1000000, started_delta, stats.completed, stats.live,
                hist_percentile(&stats.authorize_interval, 50), hist_percentile(&stats.authorize_interval, 99),
                hist_percentile(&stats.authorize_interval, 99.9), stats.cutoffs, stats.errors, rss,
                stats.tick_window_p99_us, stats.tick_window_max_us);
    /* Every second: the server's windowed tick lateness (its window is 10 s, so the value changes every 10 s). */
    if (opt.http_port && !metrics_job) metrics_job = http_get_start(ep, opt.http_port, "/metrics", JOB_METRICS);
    hist_reset(&stats.authorize_interval);
}

static int run_scenario(void) {
    FILE *timeline = opt.timeline_path ? fopen(opt.timeline_path, "w") : NULL;
    if (timeline) fputs("second,started,completed,live,authorize_p50_us,authorize_p99_us,authorize_p999_us,cutoffs,errors,server_rss_bytes,tick_window_p99_us,tick_window_max_us\n", timeline);
    recharges_setup(ep, &opt, &stats);
    stats.rss_base = stats.rss_peak = server_rss();
    int64_t start = now_us(), placing_until = start + (int64_t)opt.duration_s * 1000000;
    int64_t hard_until = start + (int64_t)opt.time_limit_s * 1000000;
    int64_t drain_until = 0, force_until = 0, next_progress = start + 1000000;
    uint64_t started_at_last_progress = 0;
    int placing = 1;
    for (;;) {
        int64_t now = now_us();
        if (placing && (now >= placing_until || stats.started >= opt.max_calls)) {
            placing = 0;
            stats.placing_us = now - start;
            drain_until = now + (int64_t)opt.drain_s * 1000000;
        }
        if (placing) {
            uint64_t due = 4096;
            if (opt.cps > 0) {
                double target = opt.cps * (double)(now - start) / 1e6;
                due = target > (double)stats.started ? (uint64_t)(target - (double)stats.started) : 0;
                if (due > 4096) due = 4096;
            }
            for (uint64_t k = 0; k < due && stats.started < opt.max_calls; k++)
                if (place_call(now) < 0) break;
        }
        recharges_due(now, placing);
        if (opt.reconnect) reconnect_due(now);
        fire_timers(now);
        flush_all();
        if (!placing && stats.live == 0 && !recharges_pending() && !metrics_job) break;
        if (!placing && !force_until && now >= drain_until) {
            /* Calls still up when the drain ends are hung up, as a PBX shutting down would. */
            for (uint32_t slot = 0; slot < opt.max_live; slot++)
                if (calls[slot].state == ANSWERING || calls[slot].state == UP) send_ended(slot, now, "LOADGEN_STOP");
            force_until = now + 30000000;
            flush_all();
        }
        if ((force_until && now >= force_until) || now >= hard_until) {
            fprintf(stderr, "loadgen: time limit: %" PRIu64 " calls unfinished\n", stats.live);
            stats.errors += stats.live;
            break;
        }
        if (now >= next_progress) {
            progress(timeline, now - start, stats.started - started_at_last_progress);
            started_at_last_progress = stats.started;
            next_progress += 1000000;
        }
        int timeout = 1;
        if (!placing) {
            int64_t next = timer_next(&timers);
            int64_t wait = next == INT64_MAX ? 10000 : next - now;
            timeout = wait > 10000 ? 10 : wait < 1000 ? 1 : (int)(wait / 1000);
        }
        pump(timeout);
    }
    stats.run_us = now_us() - start;
    if (stats.placing_us == 0) stats.placing_us = stats.run_us;
    if (timeline) fclose(timeline);
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"connections\": %d, \"inflight\": %d, \"cps_target\": %.0f, \"extensions\": %d, \"calls_per_ext\": %d, "
             "\"hold_ms\": %.0f, \"answer_ratio\": %.2f, \"bad_share\": %.2f, \"recharge_every_ms\": %" PRId64
             ", \"recharge_batch\": %d, \"recharge_inflight\": %d}",
             opt.connections, opt.inflight, opt.cps, opt.extensions, opt.calls_per_ext, opt.hold_ms, opt.answer_ratio,
             opt.bad_share, opt.recharge_every_ms, opt.recharge_batch, opt.recharge_inflight);
    if (opt.json_path && write_summary(opt.json_path, opt.scenario, &stats, settings) != 0) return 1;
    fprintf(stderr, "loadgen: %" PRIu64 " started, %" PRIu64 " completed, %" PRIu64 " denied, %" PRIu64 " cutoffs, %" PRIu64
            " errors\n", stats.started, stats.completed, stats.denied, stats.cutoffs, stats.errors);
    if (opt.recharge_every_ms)
        fprintf(stderr, "loadgen: %" PRIu64 " extensions recharged, %" PRIu64 " failed; %" PRIu64
                " requests sent again, in which %" PRIu64 " extensions were already recharged (replayed)\n",
                stats.recharges_ok, stats.recharges_failed, stats.recharges_retried, stats.recharges_replayed);
    return 0;
}

int main(int argc, char **argv) {
    if (parse_options(argc, argv, &opt) != 0) return 64;
    signal(SIGPIPE, SIG_IGN);
    if (opt.echo_server_port) return run_echo_server(opt.echo_server_port, opt.duration_s + 30);
    rng_state ^= (uint64_t)opt.seed * 0xBF58476D1CE4E5B9ull;
    ep = epoll_create1(0);
    conns = calloc((size_t)opt.connections, sizeof *conns);
    calls = calloc(opt.max_live, sizeof *calls);
    free_slots = calloc(opt.max_live, sizeof *free_slots);
    ext_live = calloc((size_t)(opt.extensions + opt.locked + opt.broke), sizeof *ext_live);
    if (!conns || !calls || !free_slots || !ext_live || timer_init(&timers, opt.max_live * 2) < 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < opt.max_live; i++) free_slots[i] = opt.max_live - 1 - i;
    free_count = opt.max_live;
    if (open_connections() != 0) return 1;
    if (opt.echo_port) return run_echo_client();
    if (opt.sync_only) return sync_extensions();
    return run_scenario();
}
