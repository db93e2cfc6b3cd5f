/*
 * How the integration tests connect, from the environment run-tests.sh sets: TOLLGATE_PORT, and for a server with
 * TLS on its PBX port TOLLGATE_TLS_CA (the CA that signed the server's certificate) and TOLLGATE_TLS_DIR (each
 * node's certificate and key, DIR/NODE.pem and DIR/NODE.key, for a server that asks for client certificates).
 * The same tests then run over plaintext and over TLS.
 */
#ifndef TEST_ENV_H
#define TEST_ENV_H

#include <stdio.h>
#include <stdlib.h>

#include "tollgate_client.h"

static tg_client *test_connect(const char *node_id, const char *secret, const tg_callbacks *callbacks,
                               const tg_options *options, tg_status *status) {
    int port = atoi(getenv("TOLLGATE_PORT"));
    const char *ca = getenv("TOLLGATE_TLS_CA"), *dir = getenv("TOLLGATE_TLS_DIR");
    if (!ca) return tg_connect_with("127.0.0.1", port, node_id, secret, callbacks, options, status);
    char cert[512], key[512];
    tg_tls_options tls = {.ca_file = ca};
    if (dir) {
        snprintf(cert, sizeof cert, "%s/%s.pem", dir, node_id);
        snprintf(key, sizeof key, "%s/%s.key", dir, node_id);
        tls.cert_file = cert;
        tls.key_file = key;
    }
    return tg_connect_tls("127.0.0.1", port, node_id, secret, callbacks, options, &tls, status);
}

#endif
