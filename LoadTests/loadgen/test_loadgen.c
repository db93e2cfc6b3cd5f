/* Unit checks of the load generator's own measuring parts: the histogram's percentiles, the timer heap's order,
 * frame building and decoding, and the independent cutoff boundary. `make test` runs them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "loadgen.h"
#include "options.h"
#include "timers.h"
#include "tollgate/pbx/v1/pbx.pb-c.h"
#include "tollgate_client.h"

static int failures;
#define CHECK(condition, ...)                                   \
    do {                                                        \
        if (!(condition)) {                                     \
            failures++;                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                       \
            fputc('\n', stderr);                                \
        }                                                       \
    } while (0)

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void histogram_percentiles(void) {
    static histogram h;
    hist_reset(&h);
    CHECK(hist_percentile(&h, 99) == 0, "empty histogram");
    for (int v = 1; v <= 100; v++) hist_record(&h, v);
    CHECK(hist_percentile(&h, 50) == 50 && hist_percentile(&h, 99) == 99 && hist_percentile(&h, 100) == 100,
          "exact below 256: %lld %lld", (long long)hist_percentile(&h, 50), (long long)hist_percentile(&h, 99));
    enum { N = 100000 };
    static int64_t values[N];
    hist_reset(&h);
    srand(7);
    for (int i = 0; i < N; i++) {
        values[i] = (int64_t)rand() % 50000000; /* up to 50 s in µs */
        hist_record(&h, values[i]);
    }
    qsort(values, N, sizeof values[0], compare);
    double ps[] = {50, 90, 99, 99.9};
    for (int i = 0; i < 4; i++) {
        int64_t exact = values[(int)(ps[i] / 100 * N + 0.999999) - 1];
        int64_t got = hist_percentile(&h, ps[i]);
        /* Never below the exact value, at most one bucket (1/128) above. */
        CHECK(got >= exact && got <= exact + exact / 128 + 1, "p%.1f: exact %lld, got %lld", ps[i], (long long)exact,
              (long long)got);
    }
    CHECK(h.max == values[N - 1], "max");
}

static void timer_order(void) {
    timer_heap heap;
    timer_init(&heap, 4);
    srand(11);
    for (uint32_t i = 0; i < 10000; i++) timer_push(&heap, rand() % 1000000, i, 0, 1);
    timer_entry entry;
    int64_t last = -1;
    int count = 0;
    CHECK(!timer_pop_due(&heap, -1, &entry), "nothing due before the first deadline");
    while (timer_pop_due(&heap, 1000000, &entry)) {
        CHECK(entry.at >= last, "out of order at %d", count);
        last = entry.at;
        count++;
    }
    CHECK(count == 10000 && timer_next(&heap) == INT64_MAX, "all popped: %d", count);
}

static void frames(void) {
    uint8_t frame[256];
    size_t n = tg_frame_authorize(frame, sizeof frame, 42, "L7-3", "10000001", "0123456789");
    CHECK(n > 4, "authorize frame built");
    uint32_t length = ((uint32_t)frame[0] << 24) | ((uint32_t)frame[1] << 16) | ((uint32_t)frame[2] << 8) | frame[3];
    CHECK(length + 4 == n, "length prefix %u for %zu bytes", length, n);
    tg_message m;
    CHECK(tg_decode(frame + 4, length, &m) == 0 && m.correlation_id == 42 && !m.is_reply, "decoded back");
    CHECK(tg_frame_authorize(frame, 8, 1, "x", "y", "z") == 0, "a frame that does not fit is refused");
    uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
    CHECK(tg_decode(garbage, sizeof garbage, &m) == -1, "garbage is refused");
}

/* A resync frame carries each call's number and answer age; a reply's ids come back adopted or unknown. */
static int adopted_seen, unknown_seen;
static void count_id(const char *id, int adopted, void *context) {
    (void)context;
    if (adopted && strcmp(id, "a") == 0) adopted_seen++;
    if (!adopted && strcmp(id, "u") == 0) unknown_seen++;
}

static void resync_frames(void) {
    uint8_t frame[512];
    tg_live_call calls[] = {{"L1-0", "10000001", "0123", 1, 1500}, {"L2-0", "10000002", "0456", 0, 99}};
    size_t n = tg_frame_resync(frame, sizeof frame, 9, calls, 2);
    CHECK(n > 4, "resync frame built");
    Tollgate__Pbx__V1__Envelope *e = tollgate__pbx__v1__envelope__unpack(NULL, n - 4, frame + 4);
    CHECK(e && e->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC && e->resync->n_calls == 2, "resync decoded");
    if (e && e->body_case == TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC && e->resync->n_calls == 2) {
        Tollgate__Pbx__V1__LiveCall *first = e->resync->calls[0], *second = e->resync->calls[1];
        CHECK(strcmp(first->dialled, "0123") == 0 && first->answered && first->answered_ms_ago == 1500, "answered call");
        CHECK(!second->answered && second->answered_ms_ago == 0, "a ringing call has no answer age");
    }
    if (e) tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
    enum { MANY = 100000 };
    static tg_live_call many[MANY];
    static uint8_t big[64 * 1024];
    for (int i = 0; i < MANY; i++) many[i] = calls[0];
    CHECK(tg_frame_resync(big, sizeof big, 9, many, MANY) == 0, "more calls than a 64 KiB frame holds are refused");

    Tollgate__Pbx__V1__Envelope reply = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__ResyncReply body = TOLLGATE__PBX__V1__RESYNC_REPLY__INIT;
    char *adopted[] = {"a"}, *unknown[] = {"u"};
    body.n_adopted_call_ids = 1;
    body.adopted_call_ids = adopted;
    body.n_unknown_call_ids = 1;
    body.unknown_call_ids = unknown;
    reply.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC_REPLY;
    reply.resync_reply = &body;
    size_t size = tollgate__pbx__v1__envelope__pack(&reply, frame);
    tg_message m;
    CHECK(tg_decode(frame, size, &m) == 0 && m.kind == TG_MSG_RESYNC_REPLY, "resync reply kind");
    CHECK(tg_resync_reply_ids(frame, size, count_id, NULL) == 0 && adopted_seen == 1 && unknown_seen == 1,
          "resync reply ids: %d adopted, %d unknown", adopted_seen, unknown_seen);
}

static size_t one_byte(uint8_t *out, size_t capacity, uint64_t id, void *arg) {
    (void)id, (void)arg;
    if (capacity < 1) return 0;
    out[0] = 0;
    return 1;
}

/* Replies are matched by correlation id: an End refused at once may overtake settlements still committing. */
static void replies_out_of_order(void) {
    connection c;
    CHECK(conn_init(&c, -1, 0, 2) == 0, "connection");
    for (uint32_t slot = 1; slot <= 4; slot++) conn_request(&c, P_ENDED, slot, 0, 0, one_byte, NULL);
    conn_request(&c, P_AUTHORIZE, 9, 0, 0, one_byte, NULL);
    pending *p = conn_take_reply(&c, 3);
    CHECK(p && p->slot == 3 && p->kind == P_ENDED, "the third End's reply first");
    p = conn_take_reply(&c, 5);
    CHECK(p && p->slot == 9 && p->kind == P_AUTHORIZE, "then the authorization's");
    for (uint32_t id = 1; id <= 4; id++) {
        if (id == 3) continue;
        p = conn_take_reply(&c, id);
        CHECK(p && p->slot == id, "End %u in order after it", id);
    }
    CHECK(conn_take_reply(&c, 3) == NULL && c.ring_count == 0, "each reply taken once");
}

static void cutoff_boundary(void) {
    options o;
    char *argv[] = {"loadgen", "--port", "1", "--balance-micros", "105000", "--credit-micros", "20000",
                    "--rate-micros", "10000", "--unit-s", "6", NULL};
    CHECK(parse_options(11, argv, &o) == 0, "options parse");
    /* 0.125 available buys 12 units of 0.01 (the answer pays the first); cut at answer + 12 × 6 s. */
    CHECK(o.expected_cutoff_us == 72000000, "boundary %lld", (long long)o.expected_cutoff_us);
}

int main(void) {
    histogram_percentiles();
    timer_order();
    frames();
    resync_frames();
    replies_out_of_order();
    cutoff_boundary();
    printf("loadgen unit checks: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
