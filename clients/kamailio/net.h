/* Sockets of the agent: non-blocking connects, so that neither side's outage stalls the other. */
#ifndef NET_H
#define NET_H

#include <stddef.h>

/* A socket connecting to host:port (non-blocking; wait for POLLOUT, then net_connected), or -1. */
int net_connect_start(const char *host, int port);
/* 0 once the connection is up (the socket is made blocking, with TCP_NODELAY and a send timeout), or -1 with
 * errno set. */
int net_connected(int fd);
/* Writes all of data (the send timeout bounds a stuck peer); 0, or -1. */
int net_write_all(int fd, const void *data, size_t length);
/* Asks the kernel to acknowledge at once: evapi sets no TCP_NODELAY, so without it each reply waits for a
 * delayed ACK (about 40 ms). Linux resets the flag, so it is set again after every read. */
void net_quickack(int fd);
/* "HOST:PORT" into host (capacity bytes) and *port; 0, or -1. */
int net_parse_address(const char *text, char *host, size_t capacity, int *port);

#endif
