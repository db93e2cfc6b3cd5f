/*
 * Netstrings ("LENGTH:PAYLOAD,"), the framing of Kamailio's evapi with netstring_format set: a buffer that yields
 * whole payloads from whatever the socket delivered.
 */
#ifndef NETSTRING_H
#define NETSTRING_H

#include <stddef.h>

#define NETSTRING_MAX (1024 * 1024)

typedef struct {
    char *bytes;
    size_t start;
    size_t end;
    size_t capacity;
} netstring_buffer;

void netstring_free(netstring_buffer *buffer);
void netstring_reset(netstring_buffer *buffer);

/* Room for at least `want` more bytes at bytes + end; 0, or -1 when memory ran out. */
int netstring_reserve(netstring_buffer *buffer, size_t want);

/* The next whole payload: 1 with *payload (NUL-terminated in place) and *length, valid until the next reserve;
 * 0 when none is whole yet; -1 when the stream is not netstrings (or a payload is over NETSTRING_MAX). */
int netstring_next(netstring_buffer *buffer, char **payload, size_t *length);

/* "LENGTH:" written into prefix (at least 24 bytes); returns its length. The payload and "," follow it. */
size_t netstring_prefix(char *prefix, size_t length);

#endif
