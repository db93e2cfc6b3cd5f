/*
 * TLS in the C client against a real `tollgate serve` whose PBX port asks for client certificates (run by
 * run-tests.sh, with a throwaway CA made by openssl): a node with its own certificate is served, over the client
 * and over the event-loop API; a missing or a stranger's certificate, a node's certificate used for another node, an untrusted server, a server certificate for
 * another name, a plaintext client on the TLS port and a TLS client on a plaintext port each fail with a reason
 * that says which; a server silent during the handshake is given up at the connect time limit; files that do not load are named. A reply larger than one TLS record (16 KiB) is read whole.
 * Environment: TOLLGATE_TLS_PORT, TOLLGATE_PLAIN_PORT, TOLLGATE_SECRET, TOLLGATE_TLS_CA, TOLLGATE_TLS_DIR (NODE.pem
 * and NODE.key for each node; stranger.pem/.key from another CA; other-ca.pem, that other CA).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tollgate_client.h"

static const char *secret, *dir, *ca;
static int tls_port, plain_port;

static const char *file(const char *name, const char *suffix) {
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s%s", dir, name, suffix);
    return path;
}

/* Connects node over TLS with tls; prints and returns the status. */
static tg_client *connect_tls(const char *node, const tg_tls_options *tls, tg_status *status) {
    tg_client *c = tg_connect_tls("127.0.0.1", tls_port, node, secret, NULL, NULL, tls, status);
    if (!c) printf("  %s: refused: %d %s\n", node, status->code, status->message);
    return c;
}

static void served_with_its_certificate(void) {
    tg_tls_options tls = {.ca_file = ca, .cert_file = file("c-tls", ".pem"), .key_file = file("c-tls", ".key")};
    tg_status status;
    tg_client *c = connect_tls("c-tls", &tls, &status);
    CHECK(c != NULL, "a node with its own certificate is served over TLS");
    if (!c) return;
    int64_t server_time = 0;
    CHECK(tg_heartbeat(c, &server_time, &status) == TG_OK && server_time > 0, "a heartbeat over TLS");

    /* A resync of 300 calls of a locked extension with long ids: the reply names each one (about 37 KiB, three
     * TLS records), so it is read whole only if the client reads what OpenSSL holds without waiting for the
     * socket. Nothing changes at the server: the calls are refused. */
    enum { COUNT = 300 };
    static char ids[COUNT][120];
    tg_live_call live[COUNT];
    for (int i = 0; i < COUNT; i++) {
        snprintf(ids[i], sizeof ids[i], "tls-record-%03d-%0100d", i, 0);
        live[i] = (tg_live_call){ids[i], "8301", "0123", 0, 0};
    }
    size_t adopted = 99;
    CHECK(tg_resync(c, live, COUNT, &adopted, &status) == TG_OK && adopted == 0,
          "a reply over several TLS records is read whole");
    CHECK(tg_heartbeat(c, &server_time, &status) == TG_OK, "and the stream goes on after it");

    /* The same configuration again after a reconnect. */
    CHECK(tg_reconnect(c, &status) == TG_OK, "a reconnect over TLS");
    CHECK(tg_heartbeat(c, &server_time, &status) == TG_OK, "served after the reconnect");
    tg_close(c);
}

static void refused(void) {
    tg_status status;
    tg_tls_options none = {.ca_file = ca};
    CHECK(connect_tls("c-tls", &none, &status) == NULL && status.code == TG_IO_ERROR &&
              strstr(status.message, "asks for a client certificate"),
          "without a client certificate: refused, and told the server asks for one");

    tg_tls_options stranger = {.ca_file = ca, .cert_file = file("stranger", ".pem"), .key_file = file("stranger", ".key")};
    CHECK(connect_tls("stranger", &stranger, &status) == NULL && status.code == TG_IO_ERROR &&
              strstr(status.message, "TLS"), "a certificate from another CA: refused");

    tg_tls_options other = {.ca_file = file("other-ca", ".pem"), .cert_file = file("c-tls", ".pem"),
                            .key_file = file("c-tls", ".key")};
    CHECK(connect_tls("c-tls", &other, &status) == NULL && status.code == TG_IO_ERROR &&
              strstr(status.message, "the server's certificate is not trusted"),
          "a server certificate the given CA did not sign: not trusted");

    tg_tls_options own = {.ca_file = ca, .cert_file = file("c-tls", ".pem"), .key_file = file("c-tls", ".key")};
    CHECK(connect_tls("c-posing", &own, &status) == NULL && status.code == TG_UNAUTHENTICATED &&
              strstr(status.message, "is for \"c-tls\", not node \"c-posing\""),
          "one node's certificate does not stand for another node");

    tg_tls_options named = {.ca_file = ca, .cert_file = file("c-tls", ".pem"), .key_file = file("c-tls", ".key"),
                            .server_name = "billing.example"};
    CHECK(connect_tls("c-tls", &named, &status) == NULL && strstr(status.message, "not trusted") &&
              strstr(status.message, "mismatch"), "a server certificate for another name: not trusted (mismatch)");

    tg_client *plain = tg_connect("127.0.0.1", tls_port, "c-tls", secret, NULL, &status);
    CHECK(plain == NULL && status.code == TG_UNAUTHENTICATED && strstr(status.message, "this port requires TLS"),
          "a plaintext client on the TLS port is told TLS is required");
    if (!plain) printf("  plaintext on the TLS port: %d %s\n", status.code, status.message);

    tg_tls_options good = {.ca_file = ca, .cert_file = file("c-tls", ".pem"), .key_file = file("c-tls", ".key")};
    tg_client *wrong_port = tg_connect_tls("127.0.0.1", plain_port, "c-tls", secret, NULL, NULL, &good, &status);
    CHECK(wrong_port == NULL && status.code == TG_IO_ERROR && strstr(status.message, "TLS"),
          "a TLS client on a plaintext port fails with a TLS reason");
    if (!wrong_port) printf("  TLS on the plaintext port: %s\n", status.message);
}

/* A server that takes the connection and never answers the handshake: the connect gives up at its time limit. */
static void silent_server(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    socklen_t size = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, size) != 0 || listen(listener, 4) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &size) != 0) {
        CHECK(0, "a silent listener");
        close(listener);
        return;
    }
    tg_tls_options tls = {.ca_file = ca};
    tg_options options = {.connect_timeout_ms = 300};
    tg_status status;
    tg_client *c = tg_connect_tls("127.0.0.1", ntohs(address.sin_port), "c-tls", secret, NULL, &options, &tls, &status);
    CHECK(c == NULL && status.code == TG_IO_ERROR && strstr(status.message, "no TLS handshake in time"),
          "a server silent during the handshake: given up at the connect time limit");
    close(listener);
}

static void files_named(void) {
    char error[256];
    tg_tls_options missing = {.ca_file = "/nonexistent/ca.pem"};
    CHECK(tg_tls_config_new(&missing, error, sizeof error) == NULL && strstr(error, "/nonexistent/ca.pem"),
          "a CA file that does not load is named");
    printf("  %s\n", error);
    tg_tls_options no_cert = {.ca_file = ca, .cert_file = "/nonexistent/node.pem"};
    CHECK(tg_tls_config_new(&no_cert, error, sizeof error) == NULL && strstr(error, "/nonexistent/node.pem"),
          "a certificate that does not load is named");
    tg_tls_options mismatch = {.ca_file = ca, .cert_file = file("c-tls", ".pem"), .key_file = file("stranger", ".key")};
    CHECK(tg_tls_config_new(&mismatch, error, sizeof error) == NULL && strstr(error, "does not match"),
          "a key that is not the certificate's is refused");
    tg_tls_options key_only = {.ca_file = ca, .key_file = file("c-tls", ".key")};
    CHECK(tg_tls_config_new(&key_only, error, sizeof error) == NULL && strstr(error, "without a certificate"),
          "a key without a certificate is refused");
    tg_status status;
    CHECK(tg_connect_tls("127.0.0.1", tls_port, "c-tls", secret, NULL, NULL, &missing, &status) == NULL &&
              strstr(status.message, "/nonexistent/ca.pem"), "tg_connect_tls says which file");
}

/* The event-loop API on a socket of the program's own, non-blocking, driven by poll. */
static int wait_for(int fd, int want) {
    struct pollfd p = {.fd = fd, .events = want == TG_TLS_WANT_WRITE ? POLLOUT : POLLIN};
    return poll(&p, 1, 5000);
}

static void event_loop_api(void) {
    char error[256];
    tg_tls_options options = {.ca_file = ca, .cert_file = file("c-loop", ".pem"), .key_file = file("c-loop", ".key")};
    tg_tls_config *config = tg_tls_config_new(&options, error, sizeof error);
    CHECK(config != NULL, "a TLS configuration for an event loop");
    if (!config) return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)tls_port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&address, sizeof address) == 0, "connected");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    tg_tls_session *s = tg_tls_session_new(config, fd, "127.0.0.1", error, sizeof error);
    CHECK(s != NULL, "a session on the program's socket");
    int rc;
    while ((rc = tg_tls_handshake(s)) == TG_TLS_WANT_READ || rc == TG_TLS_WANT_WRITE) wait_for(fd, rc);
    CHECK(rc == 0, "the handshake completes under poll");
    uint8_t frame[4096];
    size_t n = tg_frame_hello(frame, sizeof frame, 1, "c-loop", secret);
    size_t sent = 0;
    while (sent < n) {
        long w = tg_tls_write(s, frame + sent, n - sent);
        if (w > 0) sent += (size_t)w;
        else if (w == TG_TLS_WANT_READ || w == TG_TLS_WANT_WRITE) wait_for(fd, (int)w);
        else break;
    }
    CHECK(sent == n, "the Hello is written");
    /* Read 16 bytes at a time, as a loop with a small buffer would: the rest of the record stays inside OpenSSL,
     * where only tg_tls_pending finds it (the socket has nothing more to say, and a poll would wait in vain). */
    uint8_t in[8192];
    size_t have = 0;
    tg_message m = {0};
    int decoded = 0, from_pending = 0;
    while (!decoded) {
        if (have >= 4) {
            size_t size = ((size_t)in[0] << 24) | ((size_t)in[1] << 16) | ((size_t)in[2] << 8) | in[3];
            if (have >= 4 + size) {
                decoded = tg_decode(in + 4, size, &m) == 0;
                break;
            }
        }
        int pending = tg_tls_pending(s);
        if (!pending && wait_for(fd, TG_TLS_WANT_READ) <= 0) break;
        long r = tg_tls_read(s, in + have, sizeof in - have < 16 ? sizeof in - have : 16);
        if (r > 0) {
            have += (size_t)r;
            from_pending += pending;
        } else if (r != TG_TLS_WANT_READ && r != TG_TLS_WANT_WRITE) {
            break;
        }
    }
    CHECK(decoded && m.kind == TG_MSG_HELLO_REPLY && m.status_code == TG_OK,
          "the Hello is answered OK, read 16 bytes at a time");
    CHECK(from_pending > 0, "what OpenSSL held was found by tg_tls_pending, without waiting on the socket");
    tg_tls_session_free(s);
    close(fd);
    tg_tls_config_free(config);
}

int main(void) {
    secret = getenv("TOLLGATE_SECRET");
    dir = getenv("TOLLGATE_TLS_DIR");
    ca = getenv("TOLLGATE_TLS_CA");
    const char *tls_text = getenv("TOLLGATE_TLS_PORT"), *plain_text = getenv("TOLLGATE_PLAIN_PORT");
    if (!secret || !dir || !ca || !tls_text || !plain_text) {
        fprintf(stderr, "set TOLLGATE_SECRET, TOLLGATE_TLS_DIR, TOLLGATE_TLS_CA, TOLLGATE_TLS_PORT, TOLLGATE_PLAIN_PORT\n");
        return 2;
    }
    tls_port = atoi(tls_text);
    plain_port = atoi(plain_text);
    served_with_its_certificate();
    refused();
    silent_server();
    files_named();
    event_loop_api();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
