#include "histogram.h"

#include <string.h>

static int bucket_of(uint64_t v) {
    if (v < 256) return (int)v;
    int e = 63 - __builtin_clzll(v) - 7; /* v >> e is in [128, 256) */
    if (e > 32) return HIST_BUCKETS - 1;
    return 256 + (e - 1) * 128 + (int)((v >> e) - 128);
}

/* The highest value a bucket holds (reporting the top edge never understates a latency). */
static int64_t top_of(int bucket) {
    if (bucket < 256) return bucket;
    int e = (bucket - 256) / 128 + 1;
    uint64_t sub = (uint64_t)((bucket - 256) % 128) + 128;
    return (int64_t)(((sub + 1) << e) - 1);
}

void hist_reset(histogram *h) { memset(h, 0, sizeof *h); }

void hist_record(histogram *h, int64_t value) {
    if (value < 0) value = 0;
    h->counts[bucket_of((uint64_t)value)]++;
    h->total++;
    if (value > h->max) h->max = value;
}

int64_t hist_percentile(const histogram *h, double percentile) {
    if (h->total == 0) return 0;
    uint64_t rank = (uint64_t)((percentile / 100.0) * (double)h->total + 0.999999);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            int64_t top = top_of(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

void hist_merge(histogram *into, const histogram *from) {
    for (int i = 0; i < HIST_BUCKETS; i++) into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max) into->max = from->max;
}
