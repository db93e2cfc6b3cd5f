/* Recharges during the calls, through the admin API, as a billing desk would make them: every
 * --recharge-every-ms, one POST /api/v1/recharges for --recharge-batch distinct random extensions with its own
 * Idempotency-Key, at most --recharge-inflight at once.
 *
 * With --reconnect, a request that got no answer (the server went away), or a 401 (a restart signs everyone out)
 * or a 5xx, is sent again with the same key and the same extensions every 100 ms until it is answered: the server
 * must recharge each extension exactly once, and marks the ones an earlier attempt had already recharged
 * `"replayed":true`. Every extension answered ok counts once in `recharged_total`, so the run's conservation
 * check (balances = loaded + recharged - charged) proves no recharge was lost or doubled by the crash. */
#include "loadgen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#define SLOTS_MAX 16
#define BATCH_MAX 100
#define RETRY_US 100000
#define ATTEMPTS_MAX 600 /* 60 s of retries, then the request counts as failed */

typedef struct {
    http_job *job;
    int64_t retry_at; /* when to send again; 0: not waiting */
    int attempts, count;
    char key[64];
    char numbers[BATCH_MAX * 16]; /* the JSON array's items: "1001","1002" */
} slot;

static slot slots[SLOTS_MAX];
static int epoll_fd, token_stale = 1;
static const options *opt;
static run_stats *stats;
static uint64_t serial, rng = 0xD1B54A32D192ED03ull;
static int64_t next_at, micros_each;
static char token[512];

static uint64_t next_random(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

/* "0.10" → 100000 micro-units; the amount is given to the API as the same decimal string. */
static int64_t amount_micros(const char *a) {
    int64_t units = strtoll(a, NULL, 10), fraction = 0, scale = 1000000;
    const char *dot = strchr(a, '.');
    if (dot)
        for (const char *d = dot + 1; *d >= '0' && *d <= '9' && scale > 1; d++) {
            scale /= 10;
            fraction += (*d - '0') * scale;
        }
    return units * 1000000 + fraction;
}

void recharges_setup(int fd, const options *o, run_stats *s) {
    epoll_fd = fd;
    opt = o;
    stats = s;
    rng ^= (uint64_t)o->seed * 0x9E3779B97F4A7C15ull;
    if (o->recharge_every_ms) micros_each = amount_micros(o->recharge_amount);
}

/* The billing user's token, read again after a 401: the run script signs in again after a restart. */
static int load_token(void) {
    if (!token_stale) return 1;
    FILE *f = opt->token_file ? fopen(opt->token_file, "r") : NULL;
    char line[sizeof token] = {0};
    int ok = f && fgets(line, sizeof line, f);
    if (f) fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    if (!ok || !line[0]) return 0;
    memcpy(token, line, sizeof token);
    token_stale = 0;
    return 1;
}

static void send_slot(slot *s, int index, int64_t now) {
    s->retry_at = 0;
    s->attempts++;
    if (load_token())
        s->job = http_recharge_start(epoll_fd, opt->http_port, token, s->numbers, opt->recharge_amount, s->key,
                                     JOB_RECHARGE_FIRST + (uint64_t)index);
    /* Connection refused at once: the server is down. */
    if (!s->job) s->retry_at = now + RETRY_US;
}

static void start_slot(slot *s, int index, int64_t now) {
    /* options.c bounds the batch to 1..BATCH_MAX. */
    int batch = opt->recharge_batch > opt->extensions ? opt->extensions : opt->recharge_batch;
    int32_t chosen[BATCH_MAX];
    size_t used = 0;
    s->count = 0;
    while (s->count < batch) {
        int32_t ext = (int32_t)(next_random() % (uint64_t)opt->extensions);
        int seen = 0;
        for (int k = 0; k < s->count; k++) seen |= chosen[k] == ext;
        if (seen) continue;
        chosen[s->count++] = ext;
        used += (size_t)snprintf(s->numbers + used, sizeof s->numbers - used, "%s\"%d\"", used ? "," : "",
                                 opt->ext_base + ext);
    }
    snprintf(s->key, sizeof s->key, "loadgen-%d-%" PRIu64, (int)getpid(), serial++);
    s->attempts = 0;
    send_slot(s, index, now);
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *at = text; (at = strstr(at, needle)) != NULL; at += strlen(needle)) n++;
    return n;
}

static void give_up(slot *s) {
    stats->recharges_failed += (uint64_t)s->count;
    stats->http_errors++;
    stats->errors++;
    s->count = 0;
}

static void finish_slot(slot *s, int status, const char *response, int64_t now) {
    int retryable = status == 0 || status == 401 || status == 502 || status == 503 || status == 504;
    if (retryable && opt->reconnect && s->attempts < ATTEMPTS_MAX) {
        if (status == 401) token_stale = 1;
        stats->recharges_retried++;
        s->retry_at = now + RETRY_US;
        return;
    }
    if (status != 200) {
        give_up(s);
        return;
    }
    /* One result per extension; the API's JSON has sorted keys and no spaces. */
    const char *body = strstr(response, "\r\n\r\n");
    int ok = body ? count(body, "\"ok\":true") : 0, failed = body ? count(body, "\"ok\":false") : 0;
    if (ok + failed != s->count) {
        give_up(s);
        return;
    }
    stats->recharges_ok += (uint64_t)ok;
    stats->recharged_total += ok * micros_each;
    stats->recharges_replayed += (uint64_t)count(body, "\"replayed\":true");
    if (failed) {
        stats->recharges_failed += (uint64_t)failed;
        stats->http_errors++;
        stats->errors++;
    }
    s->count = 0;
}

void recharges_event(uint64_t tag, int64_t now) {
    int index = (int)(tag - JOB_RECHARGE_FIRST);
    if (index < 0 || index >= SLOTS_MAX || !slots[index].job) return;
    slot *s = &slots[index];
    int status;
    if (!http_job_step(s->job, &status)) return;
    http_job *job = s->job;
    s->job = NULL;
    finish_slot(s, status, http_job_response(job), now);
    http_job_free(job);
}

void recharges_due(int64_t now, int placing) {
    if (!opt || !opt->recharge_every_ms) return;
    int inflight = opt->recharge_inflight; /* options.c bounds it to 1..SLOTS_MAX */
    for (int i = 0; i < inflight; i++)
        if (!slots[i].job && slots[i].retry_at && now >= slots[i].retry_at) send_slot(&slots[i], i, now);
    if (!placing || now < next_at) return;
    if (!load_token()) {
        fprintf(stderr, "loadgen: recharges need --token-file with a billing user's token\n");
        next_at = INT64_MAX;
        return;
    }
    for (int i = 0; i < inflight; i++)
        if (!slots[i].job && !slots[i].retry_at) {
            start_slot(&slots[i], i, now);
            next_at = now + opt->recharge_every_ms * 1000;
            return;
        }
}

int recharges_pending(void) {
    for (int i = 0; i < SLOTS_MAX; i++)
        if (slots[i].job || slots[i].retry_at) return 1;
    return 0;
}
