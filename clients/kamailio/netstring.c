/* Netstrings. See netstring.h. */
#include "netstring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void netstring_free(netstring_buffer *b) {
    free(b->bytes);
    *b = (netstring_buffer){0};
}

void netstring_reset(netstring_buffer *b) { b->start = b->end = 0; }

int netstring_reserve(netstring_buffer *b, size_t want) {
    if (b->start > 0) {
        memmove(b->bytes, b->bytes + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
    }
    if (b->capacity - b->end >= want) return 0;
    size_t capacity = b->capacity ? b->capacity : 64 * 1024;
    while (capacity - b->end < want) capacity *= 2;
    char *bytes = realloc(b->bytes, capacity);
    if (!bytes) return -1;
    b->bytes = bytes;
    b->capacity = capacity;
    return 0;
}

int netstring_next(netstring_buffer *b, char **payload, size_t *length) {
    char *p = b->bytes + b->start, *end = b->bytes + b->end;
    size_t size = 0;
    char *q = p;
    while (q < end && *q >= '0' && *q <= '9') {
        size = size * 10 + (size_t)(*q - '0');
        if (size > NETSTRING_MAX) return -1;
        q++;
    }
    if (q == end) return (q - p) > 8 ? -1 : 0;
    if (q == p || *q != ':') return -1;
    q++;
    if ((size_t)(end - q) < size + 1) return 0;
    if (q[size] != ',') return -1;
    q[size] = '\0'; /* the comma becomes the terminator */
    *payload = q;
    *length = size;
    b->start = (size_t)(q + size + 1 - b->bytes);
    return 1;
}

size_t netstring_prefix(char *prefix, size_t length) {
    return (size_t)snprintf(prefix, 24, "%zu:", length);
}
