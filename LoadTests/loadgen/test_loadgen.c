/* Unit checks of the load generator's own measuring parts: the histogram's percentiles, the timer heap's order,
 * frame building and decoding, and the independent cutoff boundary. `make test` runs them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "options.h"
#include "timers.h"
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
    cutoff_boundary();
    printf("loadgen unit checks: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
