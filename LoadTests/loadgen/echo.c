/* The transport baseline: a bare epoll echo server on the same socket type. It returns every byte it receives,
 * so the load generator's frames come back whole and in order; what it sustains is the ceiling for one
 * request/reply round over this loopback on this machine, with no billing work at all. */
#include "loadgen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 4096

int run_echo_server(int port, int seconds) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 1024) < 0) {
        perror("echo server: bind/listen");
        return 1;
    }
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &event);
    static buffer pending_out[MAX_CLIENTS];
    uint8_t *scratch = malloc(1 << 20);
    int64_t until = now_us() + (int64_t)seconds * 1000000;
    while (now_us() < until) {
        struct epoll_event events[256];
        int n = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept(listener, NULL, NULL)) >= 0) {
                    if (client >= MAX_CLIENTS) {
                        close(client);
                        continue;
                    }
                    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
                    struct epoll_event e = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(ep, EPOLL_CTL_ADD, client, &e);
                }
                continue;
            }
            buffer *out = &pending_out[fd];
            for (;;) {
                ssize_t got = recv(fd, scratch, 1 << 20, 0);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    close(fd);
                    out->length = out->offset = 0;
                    break;
                }
                if (got < 0) break;
                if (buffer_reserve(out, (size_t)got) < 0) break;
                memcpy(out->data + out->length, scratch, (size_t)got);
                out->length += (size_t)got;
            }
            while (out->offset < out->length) {
                ssize_t sent = send(fd, out->data + out->offset, out->length - out->offset, MSG_NOSIGNAL);
                if (sent <= 0) break;
                out->offset += (size_t)sent;
            }
            if (out->offset == out->length) out->offset = out->length = 0;
            else buffer_compact(out);
            struct epoll_event e = {.events = EPOLLIN | (out->length ? EPOLLOUT : 0), .data.fd = fd};
            epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        }
    }
    free(scratch);
    close(listener);
    return 0;
}
