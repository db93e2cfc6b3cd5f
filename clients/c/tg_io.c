/* Socket and framing helpers of the client. See tg_io.h. */
#include "tg_io.h"

#include "tg_grants.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_one(const struct addrinfo *address, int timeout_ms) {
    int fd = socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, address->ai_addr, address->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        do rc = poll(&p, 1, timeout_ms); while (rc < 0 && errno == EINTR);
        int error = 0;
        socklen_t size = sizeof error;
        if (rc == 0) {
            error = ETIMEDOUT;
        } else if (rc > 0) {
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
        } else {
            error = errno;
        }
        rc = error ? -1 : 0;
        if (error) errno = error;
    }
    if (rc < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int tg_io_connect(const char *host, int port, int timeout_ms) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {0}, *found = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, service, &hints, &found) != 0 || !found) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = found; a && fd < 0; a = a->ai_next) fd = connect_one(a, timeout_ms);
    freeaddrinfo(found);
    return fd;
}

int tg_conn_open(tg_conn *conn, const char *host, int port, int timeout_ms, tg_tls_config *tls, char *error,
                 size_t error_size) {
    *conn = (tg_conn){.fd = -1};
    int64_t deadline = tg_mono_ms() + timeout_ms;
    int fd = tg_io_connect(host, port, timeout_ms);
    if (fd < 0) {
        snprintf(error, error_size, "cannot connect to %s:%d: %s", host, port, strerror(errno));
        return -1;
    }
    conn->fd = fd;
    if (!tls) return 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conn->tls = tg_tls_session_new(tls, fd, host, error, error_size);
    if (!conn->tls) {
        tg_conn_close(conn);
        return -1;
    }
    for (;;) {
        int rc = tg_tls_handshake(conn->tls);
        if (rc == 0) return 0;
        int64_t now = tg_mono_ms();
        if (rc == -1 || now >= deadline) {
            if (rc == -1) {
                snprintf(error, error_size, "%s:%d: %s", host, port, tg_tls_error(conn->tls));
            } else {
                snprintf(error, error_size, "%s:%d: no TLS handshake in time", host, port);
            }
            tg_conn_close(conn);
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = rc == TG_TLS_WANT_WRITE ? POLLOUT : POLLIN};
        poll(&p, 1, (int)(deadline - now));
    }
}

void tg_conn_close(tg_conn *conn) {
    tg_tls_session_free(conn->tls);
    conn->tls = NULL;
    if (conn->fd >= 0) close(conn->fd);
    conn->fd = -1;
}

int tg_conn_write_all(tg_conn *conn, const uint8_t *data, size_t length) {
    while (length > 0) {
        long n;
        if (conn->tls) {
            n = tg_tls_write(conn->tls, data, length);
            if (n == TG_TLS_WANT_WRITE || n == TG_TLS_WANT_READ) {
                /* As the plaintext path blocks in send(): wait until the socket takes more. */
                struct pollfd p = {.fd = conn->fd, .events = n == TG_TLS_WANT_WRITE ? POLLOUT : POLLIN};
                poll(&p, 1, n == TG_TLS_WANT_WRITE ? -1 : 10);
                continue;
            }
        } else {
            n = send(conn->fd, data, length, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
        }
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

int tg_conn_buffered(tg_conn *conn) { return conn->tls ? tg_tls_pending(conn->tls) : 0; }

const char *tg_conn_error(const tg_conn *conn) { return conn->tls ? tg_tls_error(conn->tls) : ""; }

void tg_inbuf_free(tg_inbuf *in) {
    free(in->bytes);
    *in = (tg_inbuf){0};
}

void tg_inbuf_reset(tg_inbuf *in) { in->start = in->end = 0; }

long tg_inbuf_fill(tg_inbuf *in, tg_conn *conn) {
    if (in->start > 0) {
        memmove(in->bytes, in->bytes + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->capacity - in->end < 16 * 1024) {
        size_t capacity = in->capacity ? in->capacity * 2 : 80 * 1024;
        uint8_t *bytes = realloc(in->bytes, capacity);
        if (!bytes) return -1;
        in->bytes = bytes;
        in->capacity = capacity;
    }
    long n;
    if (conn->tls) {
        n = tg_tls_read(conn->tls, in->bytes + in->end, in->capacity - in->end);
        if (n == TG_TLS_WANT_READ || n == TG_TLS_WANT_WRITE) return -2;
        if (n < 0) return -1;
    } else {
        n = recv(conn->fd, in->bytes + in->end, in->capacity - in->end, MSG_DONTWAIT);
        if (n < 0) return (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
    }
    in->end += (size_t)n;
    return n;
}

int tg_inbuf_next(tg_inbuf *in, const uint8_t **payload, size_t *length) {
    size_t available = in->end - in->start;
    if (available < 4) return 0;
    const uint8_t *b = in->bytes + in->start;
    size_t size = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];
    if (size > TG_MAX_FRAME) return -1;
    if (available < 4 + size) return 0;
    *payload = b + 4;
    *length = size;
    in->start += 4 + size;
    return 1;
}
