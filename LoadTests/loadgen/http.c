/* One HTTP/1.1 request at a time to the admin API over a non-blocking socket in the load generator's epoll loop
 * (a blocking call would stall every PBX connection while it waits). */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESPONSE_MAX (256 * 1024)
#define REQUEST_MAX 4096

struct http_job {
    int fd, epoll_fd;
    char request[REQUEST_MAX];
    size_t request_length, sent;
    char *response;
    size_t received;
    uint64_t tag;
};

static http_job *start(int epoll_fd, int port, uint64_t tag);

http_job *http_recharge_start(int epoll_fd, int port, const char *token, const char *numbers, const char *amount,
                              const char *idempotency_key, uint64_t tag) {
    char body[REQUEST_MAX / 2];
    int body_length = snprintf(body, sizeof body, "{\"numbers\":[%s],\"amount\":\"%s\",\"note\":\"loadgen\"}",
                               numbers, amount);
    char request[REQUEST_MAX];
    snprintf(request, sizeof request,
             "POST /api/v1/recharges HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
             "Idempotency-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
             token, idempotency_key, body_length, body);
    return http_start(epoll_fd, port, request, tag);
}

http_job *http_get_start(int epoll_fd, int port, const char *path, uint64_t tag) {
    char request[512];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    return http_start(epoll_fd, port, request, tag);
}

http_job *http_start(int epoll_fd, int port, const char *request, uint64_t tag) {
    http_job *job = start(epoll_fd, port, tag);
    if (!job) return NULL;
    job->request_length = (size_t)snprintf(job->request, sizeof job->request, "%s", request);
    return job;
}

static http_job *start(int epoll_fd, int port, uint64_t tag) {
    http_job *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->response = malloc(RESPONSE_MAX);
    if (!job->response) {
        free(job);
        return NULL;
    }
    job->tag = tag;
    job->epoll_fd = epoll_fd;
    job->fd = socket(AF_INET, SOCK_STREAM, 0);
    fcntl(job->fd, F_SETFL, fcntl(job->fd, F_GETFL) | O_NONBLOCK);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(job->fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) {
        close(job->fd);
        free(job->response);
        free(job);
        return NULL;
    }
    /* data.u64 with the top bit set tells the loop this fd is an HTTP job (the low bits: which), not a PBX
     * connection. */
    struct epoll_event event = {.events = EPOLLOUT | EPOLLIN, .data.u64 = (1ull << 63) | tag};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, job->fd, &event);
    return job;
}

int http_job_step(http_job *job, int *status) {
    *status = 0;
    while (job->sent < job->request_length) {
        ssize_t n = send(job->fd, job->request + job->sent, job->request_length - job->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS)) return 0;
        if (n <= 0) return 1;
        job->sent += (size_t)n;
        if (job->sent == job->request_length) {
            struct epoll_event event = {.events = EPOLLIN, .data.u64 = (1ull << 63) | job->tag};
            epoll_ctl(job->epoll_fd, EPOLL_CTL_MOD, job->fd, &event);
        }
    }
    for (;;) {
        if (job->received >= RESPONSE_MAX - 1) break;
        ssize_t n = recv(job->fd, job->response + job->received, RESPONSE_MAX - 1 - job->received, 0);
        if (n > 0) {
            job->received += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        break; /* EOF (Connection: close) or error */
    }
    job->response[job->received] = 0;
    int code = 0;
    if (sscanf(job->response, "HTTP/1.1 %d", &code) == 1) *status = code;
    return 1;
}

const char *http_job_response(const http_job *job) { return job->response; }

void http_job_free(http_job *job) {
    epoll_ctl(job->epoll_fd, EPOLL_CTL_DEL, job->fd, NULL);
    close(job->fd);
    free(job->response);
    free(job);
}
