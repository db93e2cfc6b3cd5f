/* The JSON summary of a run: the keys LoadTests/README.md documents, all integers (µs for times). */
#include "loadgen.h"

#include <inttypes.h>
#include <stdio.h>

static int64_t per_second(uint64_t count, int64_t micros) {
    return micros > 0 ? (int64_t)((double)count * 1e6 / (double)micros) : 0;
}

int write_summary(const char *path, const char *scenario, const run_stats *s, const char *settings) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    int64_t rss_added = s->rss_peak > s->rss_base ? s->rss_peak - s->rss_base : 0;
    fprintf(f, "{\n  \"scenario\": \"%s\",\n  \"settings\": %s,\n", scenario, settings);
    fprintf(f, "  \"duration_s\": %" PRId64 ",\n  \"placing_s\": %" PRId64 ",\n", (s->run_us + 500000) / 1000000,
            (s->placing_us + 500000) / 1000000);
    fprintf(f, "  \"calls_started\": %" PRIu64 ",\n  \"calls_completed\": %" PRIu64 ",\n  \"calls_denied\": %" PRIu64 ",\n",
            s->started, s->completed, s->denied);
    fprintf(f, "  \"bad_calls\": %" PRIu64 ",\n  \"unexpected_allowed\": %" PRIu64 ",\n", s->bad_calls, s->unexpected_allowed);
    fprintf(f, "  \"errors\": %" PRIu64 ",\n  \"errors_by_status\": {", s->errors);
    int first = 1;
    for (int code = 0; code < 32; code++) {
        if (!s->errors_by_status[code]) continue;
        fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ", code, s->errors_by_status[code]);
        first = 0;
    }
    fprintf(f, "},\n  \"http_errors\": %" PRIu64 ",\n  \"grant_expired\": %" PRIu64 ",\n  \"unknown_pushes\": %" PRIu64 ",\n",
            s->http_errors, s->grant_expired, s->unknown_pushes);
    fprintf(f, "  \"cps\": %" PRId64 ",\n  \"authorize_rps\": %" PRId64 ",\n  \"requests_per_s\": %" PRId64 ",\n",
            per_second(s->started, s->placing_us), per_second(s->authorize_replies, s->placing_us),
            per_second(s->replies, s->run_us));
    fprintf(f, "  \"authorize_p50_us\": %" PRId64 ",\n  \"authorize_p99_us\": %" PRId64 ",\n  \"authorize_p999_us\": %" PRId64
            ",\n  \"authorize_max_us\": %" PRId64 ",\n",
            hist_percentile(&s->authorize, 50), hist_percentile(&s->authorize, 99), hist_percentile(&s->authorize, 99.9),
            s->authorize.max);
    fprintf(f, "  \"live_calls_peak\": %" PRIu64 ",\n  \"cutoffs\": %" PRIu64 ",\n  \"cutoff_results\": %" PRIu64
            ",\n  \"warnings\": %" PRIu64 ",\n  \"grant_renewals\": %" PRIu64 ",\n  \"hangups\": %" PRIu64 ",\n",
            s->live_peak, s->cutoffs, s->cutoff_results, s->warnings, s->grant_renewals, s->hangups);
    fprintf(f, "  \"cutoff_lateness_samples\": %" PRIu64 ",\n  \"cutoff_lateness_p50_us\": %" PRId64
            ",\n  \"cutoff_lateness_p99_us\": %" PRId64 ",\n  \"cutoff_lateness_max_us\": %" PRId64 ",\n",
            s->cutoff_lateness.total, hist_percentile(&s->cutoff_lateness, 50), hist_percentile(&s->cutoff_lateness, 99),
            s->cutoff_lateness.max);
    fprintf(f, "  \"cutoff_server_lateness_p99_us\": %" PRId64 ",\n  \"cutoff_server_lateness_max_us\": %" PRId64 ",\n",
            hist_percentile(&s->cutoff_server_lateness, 99), s->cutoff_server_lateness.max);
    fprintf(f, "  \"cost_total_micros\": %" PRId64 ",\n  \"recharged_total_micros\": %" PRId64 ",\n  \"recharges_ok\": %" PRIu64
            ",\n  \"recharges_failed\": %" PRIu64 ",\n  \"recharges_retried\": %" PRIu64
            ",\n  \"recharges_replayed\": %" PRIu64 ",\n",
            s->cost_total, s->recharged_total, s->recharges_ok, s->recharges_failed, s->recharges_retried,
            s->recharges_replayed);
    fprintf(f, "  \"disconnects\": %" PRIu64 ",\n  \"reconnects\": %" PRIu64 ",\n  \"downtime_max_us\": %" PRId64
            ",\n  \"lost_authorizations\": %" PRIu64 ",\n  \"resynced_calls\": %" PRIu64 ",\n  \"resync_adopted\": %" PRIu64
            ",\n  \"resync_unknown\": %" PRIu64 ",\n",
            s->disconnects, s->reconnects, s->downtime_max_us, s->lost_authorizations, s->resynced, s->resync_adopted,
            s->resync_unknown);
    fprintf(f, "  \"ends_resent\": %" PRIu64 ",\n  \"ends_already_settled\": %" PRIu64 ",\n  \"ends_not_found\": %" PRIu64
            ",\n  \"ends_not_found_answered\": %" PRIu64 ",\n",
            s->ends_resent, s->ends_already_settled, s->ends_not_found, s->ends_not_found_answered);
    fprintf(f, "  \"server_rss_base_bytes\": %" PRId64 ",\n  \"server_rss_peak_bytes\": %" PRId64
            ",\n  \"bytes_per_live_call\": %" PRId64 "\n}\n",
            s->rss_base, s->rss_peak, s->live_peak ? rss_added / (int64_t)s->live_peak : 0);
    fclose(f);
    return 0;
}
