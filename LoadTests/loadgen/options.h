/* Command-line options of the load generator. */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include <stdint.h>

enum distribution { DIST_FIXED, DIST_UNIFORM, DIST_EXPONENTIAL };

typedef struct options_s {
    const char *scenario, *host, *secret, *json_path, *timeline_path, *token_file, *recharge_amount;
    int port, http_port, connections, inflight, extensions, locked, broke, ext_base, calls_per_ext;
    int duration_s, time_limit_s, drain_s, server_pid, sync_only, echo_port, echo_server_port, seed, reconnect;
    double cps, answer_ratio, bad_share, hold_ms, hold_min_ms, hold_max_ms;
    enum distribution distribution;
    uint32_t max_live;
    uint64_t max_calls;
    int64_t grant_grace_ms, recharge_every_ms;
    int recharge_batch, recharge_inflight; /* extensions per recharge request; requests at once */
    int64_t balance_micros, credit_micros, rate_micros, unit_s; /* for the independent cutoff boundary */
    int64_t expected_cutoff_us;                                  /* derived: 0 when not computable */
} options;

int parse_options(int argc, char **argv, options *o);

#endif
