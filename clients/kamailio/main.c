/*
 * tollgate-kamailio-agent: the options, the poll loop, the log. See agent.h and README.md.
 *
 * Usage: tollgate-kamailio-agent [--evapi HOST:PORT] [--tollgate HOST:PORT] [--node-id ID]
 *            [--secret-file FILE] [--fail-open SECONDS] [--auth-timeout-ms MS] [--verbose]
 *            [--tls] [--tls-ca FILE] [--tls-cert FILE] [--tls-key FILE] [--tls-server-name NAME]
 * The PBX secret comes from --secret-file or the environment (TOLLGATE_PBX_SECRET), never from the command line
 * (which any local user can read in /proc).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "net.h"

static volatile sig_atomic_t stopping;

static void on_signal(int number) {
    (void)number;
    stopping = 1;
}

int64_t agent_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void agent_log(struct agent *a, int verbose_only, const char *format, ...) {
    if (verbose_only && !a->options.verbose) return;
    va_list arguments;
    va_start(arguments, format);
    /* No timestamp of our own: journald and the test harness add theirs. */
    fputs("tollgate-kamailio-agent: ", stderr);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
}

static void usage(void) {
    fprintf(stderr,
            "usage: tollgate-kamailio-agent [--evapi HOST:PORT] [--tollgate HOST:PORT] [--node-id ID]\n"
            "           [--secret-file FILE] [--fail-open SECONDS] [--auth-timeout-ms MS] [--verbose]\n"
            "           [--tls] [--tls-ca FILE] [--tls-cert FILE] [--tls-key FILE] [--tls-server-name NAME]\n"
            "  --evapi        Kamailio's evapi listener (default 127.0.0.1:8448)\n"
            "  --tollgate     tollgate serve's PBX listener (default 127.0.0.1:7070)\n"
            "  --node-id      this PBX node's name in Tollgate (default kamailio)\n"
            "  --secret-file  a file holding the PBX secret (default: $TOLLGATE_PBX_SECRET)\n"
            "  --fail-open    while Tollgate is unreachable, let new calls through for at most SECONDS\n"
            "                 (default: refuse them with 503)\n"
            "  --auth-timeout-ms  a request Tollgate has not answered by then drops the connection (default 2000)\n"
            "  --tls          TLS to Tollgate's PBX port (implied by any --tls-* option)\n"
            "  --tls-ca       the CA certificate(s) (PEM) that signed Tollgate's certificate (default: the system's)\n"
            "  --tls-cert     this node's certificate (PEM), when Tollgate asks for client certificates\n"
            "  --tls-key      its private key (PEM; default: in --tls-cert)\n"
            "  --tls-server-name  the name Tollgate's certificate carries (default: the --tollgate host)\n");
}

static char *read_secret(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) return NULL;
    char buffer[512];
    char *line = fgets(buffer, sizeof buffer, file);
    fclose(file);
    if (!line) return NULL;
    buffer[strcspn(buffer, "\r\n")] = '\0';
    return strdup(buffer);
}

static int parse_options(int argc, char **argv, struct agent_options *o) {
    static char evapi_host[256] = "127.0.0.1", tollgate_host[256] = "127.0.0.1";
    *o = (struct agent_options){.evapi_host = evapi_host, .evapi_port = 8448, .tollgate_host = tollgate_host,
                                .tollgate_port = 7070, .node_id = "kamailio", .reconnect_ms = 1000,
                                .auth_timeout_ms = 2000};
    const char *secret_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(name, "--verbose") == 0) {
            o->verbose = 1;
            continue;
        }
        if (strcmp(name, "--tls") == 0) {
            o->tls = 1;
            continue;
        }
        if (!value) {
            usage();
            return -1;
        }
        i++;
        if (strcmp(name, "--evapi") == 0) {
            if (net_parse_address(value, evapi_host, sizeof evapi_host, &o->evapi_port) < 0) goto bad;
        } else if (strcmp(name, "--tollgate") == 0) {
            if (net_parse_address(value, tollgate_host, sizeof tollgate_host, &o->tollgate_port) < 0) goto bad;
        } else if (strcmp(name, "--node-id") == 0) {
            o->node_id = value;
        } else if (strcmp(name, "--secret-file") == 0) {
            secret_file = value;
        } else if (strcmp(name, "--fail-open") == 0) {
            o->fail_open = 1;
            o->fail_open_seconds = atoi(value);
            if (o->fail_open_seconds <= 0) goto bad;
        } else if (strcmp(name, "--tls-ca") == 0) {
            o->tls = 1;
            o->tls_options.ca_file = value;
        } else if (strcmp(name, "--tls-cert") == 0) {
            o->tls = 1;
            o->tls_options.cert_file = value;
        } else if (strcmp(name, "--tls-key") == 0) {
            o->tls = 1;
            o->tls_options.key_file = value;
        } else if (strcmp(name, "--tls-server-name") == 0) {
            o->tls = 1;
            o->tls_options.server_name = value;
        } else if (strcmp(name, "--auth-timeout-ms") == 0) {
            o->auth_timeout_ms = atoi(value);
            if (o->auth_timeout_ms <= 0) goto bad;
        } else {
            usage();
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "tollgate-kamailio-agent: %s: invalid value '%s'\n", name, value);
        return -1;
    }
    if (secret_file) {
        o->secret = read_secret(secret_file);
        if (!o->secret) {
            fprintf(stderr, "tollgate-kamailio-agent: cannot read the secret from %s: %s\n", secret_file, strerror(errno));
            return -1;
        }
    } else {
        o->secret = getenv("TOLLGATE_PBX_SECRET");
    }
    if (!o->secret || !*o->secret) {
        fprintf(stderr, "tollgate-kamailio-agent: no PBX secret: --secret-file FILE or TOLLGATE_PBX_SECRET\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct agent a = {0};
    if (parse_options(argc, argv, &a.options) < 0) return 64;
    a.calls = call_table_new();
    a.pending = calloc(PENDING_SLOTS, sizeof *a.pending);
    a.tollgate_in_capacity = 256 * 1024;
    a.tollgate_in = malloc(a.tollgate_in_capacity);
    if (!a.calls || !a.pending || !a.tollgate_in) {
        fprintf(stderr, "tollgate-kamailio-agent: out of memory\n");
        return 1;
    }
    a.evapi_fd = a.tollgate_fd = -1;
    if (a.options.tls) {
        /* Files that do not load stop the start: a certificate problem does not mend itself. */
        char error[256];
        a.tollgate_tls = tg_tls_config_new(&a.options.tls_options, error, sizeof error);
        if (!a.tollgate_tls) {
            fprintf(stderr, "tollgate-kamailio-agent: %s\n", error);
            return 64;
        }
    }
    a.next_id = a.oldest_pending = 1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    agent_log(&a, 0, "starting: Kamailio evapi %s:%d, Tollgate %s:%d%s as node '%s', %s", a.options.evapi_host,
              a.options.evapi_port, a.options.tollgate_host, a.options.tollgate_port,
              a.tollgate_tls ? (a.options.tls_options.cert_file ? " (TLS, with this node's certificate)" : " (TLS)") : "",
              a.options.node_id, a.options.fail_open ? "fail open" : "fail closed");
    tollgate_connect(&a);
    evapi_connect(&a);
    while (!stopping) {
        int64_t now = agent_mono_ms();
        if (a.evapi_state == LINK_DOWN && now >= a.evapi_retry_mono) evapi_connect(&a);
        tollgate_tick(&a);
        struct pollfd p[2] = {
            {.fd = a.evapi_fd, .events = a.evapi_state == LINK_CONNECTING ? POLLOUT : POLLIN},
            {.fd = a.tollgate_fd, .events = tollgate_events(&a)},
        };
        /* What TLS already took off the socket does not wake the poll: read it first. */
        int buffered = tollgate_buffered(&a);
        int ready = poll(p, 2, buffered ? 0 : 100);
        if (ready < 0 && errno != EINTR) break;
        if (buffered) p[1].revents |= POLLIN;
        else if (ready <= 0) continue;
        /* Tollgate first: a cutoff must not wait behind a burst of new calls. */
        if (p[1].fd >= 0 && p[1].revents) {
            if (a.tollgate_state == LINK_CONNECTING) tollgate_writable(&a);
            else if (a.tollgate_state == LINK_TLS) tollgate_tls_step(&a);
            else tollgate_readable(&a);
        }
        if (p[0].fd >= 0 && p[0].revents && a.evapi_fd == p[0].fd) evapi_readable(&a);
    }
    agent_log(&a, 0, "stopping: %lld authorized, %lld denied, %lld refused while Tollgate was unavailable, %lld ended, "
              "%lld terminated, %lld Ends sent again; %zu call(s) still held", a.authorized, a.denied,
              a.refused_unavailable, a.ended, a.terminated, a.resent_ends, call_table_count(a.calls));
    return 0;
}
