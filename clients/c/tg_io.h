/*
 * Socket and framing helpers of the client (internal): connecting with a time limit, writing whole buffers, and an
 * input buffer that yields whole frames (4-byte big-endian length, then the payload) from whatever the socket
 * delivered, so that a reader never blocks inside a frame.
 */
#ifndef TG_IO_H
#define TG_IO_H

#include <stddef.h>
#include <stdint.h>

#define TG_MAX_FRAME (64 * 1024)

#include "tollgate_client.h"

/* A connected TCP socket (TCP_NODELAY set, blocking), or -1 with errno set. */
int tg_io_connect(const char *host, int port, int timeout_ms);

/* A connection to the server: a socket, plaintext (blocking) or TLS (non-blocking under the session). */
typedef struct {
    int fd;
    tg_tls_session *tls;
} tg_conn;

/* Connects (and with tls, completes the TLS handshake) within timeout_ms. 0, or -1 with the reason in error. */
int tg_conn_open(tg_conn *conn, const char *host, int port, int timeout_ms, tg_tls_config *tls, char *error,
                 size_t error_size);
/* Sends close_notify (TLS) and closes the socket; conn->fd becomes -1. */
void tg_conn_close(tg_conn *conn);

/* Writes all of data; 0, or -1 when the connection failed. Writers must not overlap (the caller's lock). */
int tg_conn_write_all(tg_conn *conn, const uint8_t *data, size_t length);

/* 1 when bytes are buffered inside the TLS session: read them without polling the socket, which would not wake. */
int tg_conn_buffered(tg_conn *conn);

/* Why the last read or write on conn failed (TLS), or "". */
const char *tg_conn_error(const tg_conn *conn);

typedef struct {
    uint8_t *bytes;
    size_t start;     /* the first byte not yet handed out */
    size_t end;       /* one past the last byte received */
    size_t capacity;
} tg_inbuf;

void tg_inbuf_free(tg_inbuf *in);
/* Forgets what is buffered (a new connection). */
void tg_inbuf_reset(tg_inbuf *in);

/* One recv into the buffer: bytes read, 0 at the peer's close, -2 when interrupted or nothing is ready (try
 * again), -1 on an error. Payloads handed out before it are no longer valid. */
long tg_inbuf_fill(tg_inbuf *in, tg_conn *conn);

/* Takes the next whole frame: 1 with *payload and *length set (valid until the next tg_inbuf_fill), 0 when no whole
 * frame is buffered yet, -1 when the stream is broken (a frame over TG_MAX_FRAME). */
int tg_inbuf_next(tg_inbuf *in, const uint8_t **payload, size_t *length);

#endif
