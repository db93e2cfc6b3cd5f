/* A small log-linear histogram of non-negative integers (µs here): exact below 256, then 128 sub-buckets per
 * power of two (at most 0.8% error), up to 2^40. Enough for latency percentiles without a dependency. */
#ifndef LOADGEN_HISTOGRAM_H
#define LOADGEN_HISTOGRAM_H

#include <stdint.h>

#define HIST_BUCKETS (256 + 33 * 128)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    int64_t max;
} histogram;

void hist_reset(histogram *h);
void hist_record(histogram *h, int64_t value);
/* The smallest recorded bucket value v such that at least percentile% of samples are <= v (0 when empty). */
int64_t hist_percentile(const histogram *h, double percentile);
void hist_merge(histogram *into, const histogram *from);

#endif
