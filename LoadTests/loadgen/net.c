/* Non-blocking loopback connections with buffered frames and an in-order ring of pending requests. */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (64 * 1024)

int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int buffer_reserve(buffer *b, size_t extra) {
    if (b->length + extra <= b->capacity) return 0;
    size_t capacity = b->capacity ? b->capacity : 65536;
    while (capacity < b->length + extra) capacity *= 2;
    uint8_t *data = realloc(b->data, capacity);
    if (!data) return -1;
    b->data = data;
    b->capacity = capacity;
    return 0;
}

void buffer_compact(buffer *b) {
    if (b->offset == 0) return;
    memmove(b->data, b->data + b->offset, b->length - b->offset);
    b->length -= b->offset;
    b->offset = 0;
}

int connect_loopback(const char *host, int port) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int ring_init(pending_ring *r, uint32_t capacity) {
    r->capacity = capacity;
    r->head = r->count = 0;
    r->slots = calloc(capacity, sizeof *r->slots);
    return r->slots ? 0 : -1;
}

/* Follow-ups (answered, ended) of calls already placed are never refused: the window limits only new calls (see
 * place_call), so a ring grows to at most a few requests per live call. */
static int ring_push(pending_ring *r, pending p) {
    if (r->count == r->capacity) {
        uint32_t capacity = r->capacity * 2;
        pending *slots = malloc(sizeof *slots * capacity);
        if (!slots) return -1;
        for (uint32_t i = 0; i < r->count; i++) slots[i] = r->slots[(r->head + i) % r->capacity];
        free(r->slots);
        r->slots = slots;
        r->capacity = capacity;
        r->head = 0;
    }
    r->slots[(r->head + r->count) % r->capacity] = p;
    r->count++;
    return 0;
}

/* Replies nearly always come in order (the head); an End refused at once (NOT_FOUND) overtakes settlements still
 * waiting for their commit, so a reply further in is taken out too, the ones before it moving up one place. */
static pending *ring_take(pending_ring *r, uint64_t id, int head_only) {
    static pending taken;
    for (uint32_t i = 0; i < (head_only ? (r->count > 0) : r->count); i++) {
        uint32_t at = (r->head + i) % r->capacity;
        if (r->slots[at].id != id) continue;
        taken = r->slots[at];
        for (uint32_t j = i; j > 0; j--)
            r->slots[(r->head + j) % r->capacity] = r->slots[(r->head + j - 1) % r->capacity];
        r->head = (r->head + 1) % r->capacity;
        r->count--;
        return &taken;
    }
    return NULL;
}

int conn_init(connection *c, int fd, int index, uint32_t window) {
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->index = index;
    c->next_id = 1;
    c->window = window;
    return ring_init(&c->rings[0], window) == 0 && ring_init(&c->rings[1], window) == 0 ? 0 : -1;
}

int conn_request(connection *c, uint8_t kind, uint32_t slot, uint32_t gen, int64_t sent_us,
                 size_t (*build)(uint8_t *, size_t, uint64_t, void *), void *arg) {
    if (c->closed) return -1;
    if (buffer_reserve(&c->out, MAX_FRAME) < 0) return -1;
    uint64_t id = c->next_id;
    size_t n = build(c->out.data + c->out.length, c->out.capacity - c->out.length, id, arg);
    if (n == 0) return -1;
    pending p = {.id = id, .slot = slot, .gen = gen, .kind = kind, .sent_us = sent_us};
    if (ring_push(&c->rings[kind == P_ENDED], p) < 0) return -1;
    c->next_id++;
    c->out.length += n;
    c->ring_count++;
    return 0;
}

void conn_push_frame(connection *c, const uint8_t *frame, size_t length) {
    if (buffer_reserve(&c->out, length) < 0) return;
    memcpy(c->out.data + c->out.length, frame, length);
    c->out.length += length;
}

int conn_flush(connection *c, int epoll_fd) {
    while (c->out.offset < c->out.length) {
        ssize_t n = send(c->fd, c->out.data + c->out.offset, c->out.length - c->out.offset, MSG_NOSIGNAL);
        if (n > 0) {
            c->out.offset += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The server is not keeping up: wait for room instead of buffering without end. */
            if (!c->writable_wait) {
                struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)c->index};
                epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
                c->writable_wait = 1;
            }
            buffer_compact(&c->out);
            return 0;
        }
        return -1;
    }
    c->out.offset = c->out.length = 0;
    if (c->writable_wait) {
        struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)c->index};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
        c->writable_wait = 0;
    }
    return 0;
}

int conn_read(connection *c, void (*on_frame)(connection *, const uint8_t *, size_t, void *), void *context) {
    for (;;) {
        if (buffer_reserve(&c->in, 65536) < 0) return -1;
        ssize_t n = recv(c->fd, c->in.data + c->in.length, c->in.capacity - c->in.length, 0);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -1;
        }
        c->in.length += (size_t)n;
        while (c->in.length - c->in.offset >= 4) {
            const uint8_t *h = c->in.data + c->in.offset;
            uint32_t length = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
            if (length > MAX_FRAME) return -1;
            if (c->in.length - c->in.offset < 4 + (size_t)length) break;
            c->in.offset += 4 + length;
            on_frame(c, h + 4, length, context);
        }
        buffer_compact(&c->in);
        if ((size_t)n < 65536) break;
    }
    return 0;
}

pending *conn_take_reply(connection *c, uint64_t correlation_id) {
    pending *p = ring_take(&c->rings[0], correlation_id, 1);
    if (!p) p = ring_take(&c->rings[1], correlation_id, 1);
    if (!p) p = ring_take(&c->rings[1], correlation_id, 0);
    if (!p) p = ring_take(&c->rings[0], correlation_id, 0);
    if (p) c->ring_count--;
    return p;
}
