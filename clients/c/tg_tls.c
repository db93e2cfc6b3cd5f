/* TLS to a Tollgate PBX port, on OpenSSL: the configuration (an SSL_CTX) and one connection's session (an SSL)
 * driven on a non-blocking socket. See tollgate_client.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tollgate_client.h"

struct tg_tls_config {
    SSL_CTX *context;
    char server_name[256];
};

struct tg_tls_session {
    SSL *ssl;
    /* One SSL object serves a reader thread and writer threads (the client's shared mode): OpenSSL allows one
     * call on it at a time. */
    pthread_mutex_t lock;
    char error[256];
};

/* OpenSSL's socket BIO writes with write(), which raises SIGPIPE on a closed connection and would kill a PBX that
 * does not ignore it; this one sends with MSG_NOSIGNAL, as the plaintext path does. */
static BIO_METHOD *socket_method;
static pthread_once_t socket_method_once = PTHREAD_ONCE_INIT;

static int fd_of(BIO *bio) { return (int)(intptr_t)BIO_get_data(bio); }

static int bio_write(BIO *bio, const char *data, int length) {
    BIO_clear_retry_flags(bio);
    ssize_t n = send(fd_of(bio), data, (size_t)length, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)n;
}

static int bio_read(BIO *bio, char *data, int length) {
    BIO_clear_retry_flags(bio);
    ssize_t n = recv(fd_of(bio), data, (size_t)length, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)n;
}

static long bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio;
    (void)number;
    (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static void make_socket_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tollgate socket");
    if (!method) return;
    BIO_meth_set_write(method, bio_write);
    BIO_meth_set_read(method, bio_read);
    BIO_meth_set_ctrl(method, bio_ctrl);
    socket_method = method;
}

/* OpenSSL's reason for the last failure on this thread (and clears the queue). */
static const char *openssl_reason(void) {
    unsigned long code = ERR_peek_last_error();
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    ERR_clear_error();
    return reason ? reason : "unknown error";
}

static void set_error(char *error, size_t size, const char *format, const char *subject, const char *reason) {
    if (error && size) snprintf(error, size, format, subject, reason);
}

/* OpenSSL says only "system lib" for a file it cannot open: the system's own reason is clearer. */
static int readable(const char *path, const char *what, char *error, size_t size) {
    FILE *file = fopen(path, "r");
    if (file) {
        fclose(file);
        return 1;
    }
    char format[64];
    snprintf(format, sizeof format, "TLS %s %%s: %%s", what);
    set_error(error, size, format, path, strerror(errno));
    return 0;
}

tg_tls_config *tg_tls_config_new(const tg_tls_options *options, char *error, size_t error_size) {
    static const tg_tls_options none = {0};
    if (!options) options = &none;
    tg_tls_config *config = calloc(1, sizeof *config);
    SSL_CTX *context = config ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (!context) {
        set_error(error, error_size, "%s%s", "TLS: cannot make a context: ", openssl_reason());
        free(config);
        return NULL;
    }
    config->context = context;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    /* Writes are retried from where they stopped (tg_tls_write may write part of a buffer); a server gone
     * without close_notify reads as a close: frames carry their own length, so a cut stream cannot pass for a
     * whole one. */
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
    int ok;
    if (options->ca_file) {
        ok = readable(options->ca_file, "CA file", error, error_size) &&
             SSL_CTX_load_verify_locations(context, options->ca_file, NULL) == 1;
        if (!ok && ERR_peek_last_error()) set_error(error, error_size, "TLS CA file %s: %s", options->ca_file, openssl_reason());
    } else {
        ok = SSL_CTX_set_default_verify_paths(context) == 1;
        if (!ok) set_error(error, error_size, "TLS: %s%s", "the system's CA certificates: ", openssl_reason());
    }
    if (ok && options->cert_file) {
        const char *key = options->key_file ? options->key_file : options->cert_file;
        if (!readable(options->cert_file, "certificate", error, error_size) ||
            !readable(key, "key", error, error_size)) {
            ok = 0;
        } else if (SSL_CTX_use_certificate_chain_file(context, options->cert_file) != 1) {
            set_error(error, error_size, "TLS certificate %s: %s", options->cert_file, openssl_reason());
            ok = 0;
        } else if (SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) != 1) {
            const char *reason = openssl_reason();
            set_error(error, error_size, "TLS key %s: %s", key,
                      strstr(reason, "mismatch") ? "does not match the certificate" : reason);
            ok = 0;
        } else if (SSL_CTX_check_private_key(context) != 1) {
            set_error(error, error_size, "TLS key %s: %s", key, "does not match the certificate");
            ERR_clear_error();
            ok = 0;
        }
    } else if (ok && options->key_file) {
        set_error(error, error_size, "TLS key %s: %s", options->key_file, "given without a certificate (cert_file)");
        ok = 0;
    }
    if (ok && options->server_name && strlen(options->server_name) >= sizeof config->server_name) {
        set_error(error, error_size, "TLS server name %s: %s", options->server_name, "too long");
        ok = 0;
    }
    if (!ok) {
        tg_tls_config_free(config);
        return NULL;
    }
    if (options->server_name) snprintf(config->server_name, sizeof config->server_name, "%s", options->server_name);
    return config;
}

void tg_tls_config_free(tg_tls_config *config) {
    if (!config) return;
    SSL_CTX_free(config->context);
    free(config);
}

tg_tls_session *tg_tls_session_new(tg_tls_config *config, int fd, const char *host, char *error,
                                   size_t error_size) {
    pthread_once(&socket_method_once, make_socket_method);
    const char *name = config->server_name[0] ? config->server_name : (host ? host : "");
    tg_tls_session *s = calloc(1, sizeof *s);
    SSL *ssl = s && socket_method ? SSL_new(config->context) : NULL;
    BIO *bio = ssl ? BIO_new(socket_method) : NULL;
    if (!bio) {
        set_error(error, error_size, "%s%s", "TLS: cannot start a session: ", openssl_reason());
        SSL_free(ssl);
        free(s);
        return NULL;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio);
    /* The server's certificate must name what was connected to: an IP address as an IP SAN, a host name as a DNS
     * name (also sent as SNI). */
    unsigned char address[16];
    int named;
    if (inet_pton(AF_INET, name, address) == 1 || inet_pton(AF_INET6, name, address) == 1) {
        named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    } else {
        named = SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1;
    }
    if (!named) {
        set_error(error, error_size, "TLS server name '%s': %s", name, openssl_reason());
        SSL_free(ssl);
        free(s);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    s->ssl = ssl;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

/* Maps a failed SSL call to TG_TLS_WANT_*, 0 (the peer closed) or -1 (s->error set). Under s->lock. */
static long failure(tg_tls_session *s, int rc, const char *doing) {
    int code = SSL_get_error(s->ssl, rc);
    switch (code) {
    case SSL_ERROR_WANT_READ:
        return TG_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TG_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        break;
    }
    long verified = SSL_get_verify_result(s->ssl);
    if (verified != X509_V_OK) {
        snprintf(s->error, sizeof s->error, "TLS %s: the server's certificate is not trusted: %s", doing,
                 X509_verify_cert_error_string(verified));
        ERR_clear_error();
    } else if (code == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
        snprintf(s->error, sizeof s->error, "TLS %s: %s", doing, errno ? strerror(errno) : "connection closed");
    } else {
        const char *reason = openssl_reason();
        /* The server wants this node's certificate (TLS 1.3 says so after the handshake, at the first read). */
        const char *hint = strstr(reason, "certificate required") ? " (the server asks for a client certificate)"
                           : strstr(reason, "wrong version number") ? " (is the port plaintext?)"
                                                                     : "";
        snprintf(s->error, sizeof s->error, "TLS %s: %s%s", doing, reason, hint);
    }
    return -1;
}

int tg_tls_handshake(tg_tls_session *s) {
    pthread_mutex_lock(&s->lock);
    ERR_clear_error();
    int rc = SSL_do_handshake(s->ssl);
    long result = rc == 1 ? 1 : failure(s, rc, "handshake");
    if (result == 0) {
        snprintf(s->error, sizeof s->error, "TLS handshake: the server closed the connection");
        result = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return result == 1 ? 0 : (int)result;
}

long tg_tls_read(tg_tls_session *s, void *buffer, size_t capacity) {
    int length = capacity > INT_MAX ? INT_MAX : (int)capacity;
    pthread_mutex_lock(&s->lock);
    ERR_clear_error();
    int rc = SSL_read(s->ssl, buffer, length);
    long result = rc > 0 ? rc : failure(s, rc, "read");
    pthread_mutex_unlock(&s->lock);
    return result;
}

long tg_tls_write(tg_tls_session *s, const void *data, size_t length) {
    int size = length > INT_MAX ? INT_MAX : (int)length;
    pthread_mutex_lock(&s->lock);
    ERR_clear_error();
    int rc = SSL_write(s->ssl, data, size);
    long result = rc > 0 ? rc : failure(s, rc, "write");
    if (result == 0) {
        snprintf(s->error, sizeof s->error, "TLS write: the server closed the connection");
        result = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return result;
}

int tg_tls_pending(tg_tls_session *s) {
    /* Decrypted bytes not yet read, not SSL_has_pending: that one also counts a record received only in part,
     * which cannot be read before the rest arrives, and a poll loop that skipped polling for it would spin.
     * Without read-ahead OpenSSL takes no more than one record off the socket, so nothing else hides there. */
    pthread_mutex_lock(&s->lock);
    int pending = SSL_pending(s->ssl) > 0;
    pthread_mutex_unlock(&s->lock);
    return pending;
}

const char *tg_tls_error(const tg_tls_session *s) { return s->error; }

void tg_tls_session_free(tg_tls_session *s) {
    if (!s) return;
    /* close_notify, if the socket takes it now; the caller closes the socket. */
    ERR_clear_error();
    if (SSL_is_init_finished(s->ssl)) SSL_shutdown(s->ssl);
    ERR_clear_error();
    SSL_free(s->ssl);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
