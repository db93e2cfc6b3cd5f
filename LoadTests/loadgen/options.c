#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: loadgen --port PBX_PORT --secret S [options]\n"
    "  --scenario NAME        label for the summary\n"
    "  --connections N        PBX connections (8)            --inflight N   requests in flight per connection (256)\n"
    "  --extensions N         billed extensions (1000), numbered from --ext-base (10000000)\n"
    "  --locked N --broke N   extra extensions: locked, and without money (bad destinations)\n"
    "  --calls-per-ext K      concurrent calls per extension (1)\n"
    "  --cps R                calls started per second (0: as fast as the windows allow)\n"
    "  --duration S           seconds of placing calls (10)  --max-calls N  stop placing after N calls\n"
    "  --max-live N           live calls at most (200000)   --time-limit S  hard bound on the whole run\n"
    "  --drain S              seconds to let calls end after placing stops (then they are ended) (60)\n"
    "  --hold fixed|uniform|exp --hold-ms M --hold-min-ms A --hold-max-ms B   call durations\n"
    "  --answer-ratio P       share of allowed calls answered (1.0)\n"
    "  --bad-share P          share of calls to no-rate numbers, locked or moneyless extensions (0)\n"
    "  --balance-micros B --credit-micros C --rate-micros R --unit-s U\n"
    "                         what the seed set: the simulator computes each call's exact cutoff boundary\n"
    "                         (one call per extension, no recharges, no initial cost)\n"
    "  --grant-grace-ms G     the failsafe hangs up G ms after an unrenewed grant (1000)\n"
    "  --recharge-every-ms T --recharge-amount A --http-port P --token-file F   recharges during calls\n"
    "  --recharge-batch K --recharge-inflight N   extensions per recharge request (1); requests at once (1)\n"
    "  --server-pid PID       sample the server's resident memory\n"
    "  --json FILE --timeline FILE   summary (JSON) and per-second rows (CSV)\n"
    "  --sync-only            connect, sync the extensions, exit\n"
    "  --reconnect            when the server goes away (a crash under test), reconnect, resync the calls still up\n"
    "                         and send again the Ends it did not answer\n"
    "  --echo PORT            the transport baseline: the same frames against `loadgen --echo-server PORT`\n"
    "  --echo-server PORT     run the bare echo server for --duration + 30 s\n";

int parse_options(int argc, char **argv, options *o) {
    *o = (options){.scenario = "custom", .host = "127.0.0.1", .secret = "", .connections = 8, .inflight = 256,
                   .extensions = 1000, .ext_base = 10000000, .calls_per_ext = 1, .duration_s = 10,
                   .drain_s = 60, .answer_ratio = 1.0, .hold_ms = 1000, .hold_min_ms = 500, .hold_max_ms = 600000,
                   .max_live = 200000, .max_calls = UINT64_MAX, .grant_grace_ms = 1000, .recharge_amount = "0.10",
                   .seed = 1, .recharge_batch = 1, .recharge_inflight = 1};
    static struct option longs[] = {
        {"scenario", 1, 0, 'S'}, {"host", 1, 0, 'H'}, {"port", 1, 0, 'p'}, {"secret", 1, 0, 's'},
        {"connections", 1, 0, 'c'}, {"inflight", 1, 0, 'i'}, {"extensions", 1, 0, 'e'}, {"locked", 1, 0, 'L'},
        {"broke", 1, 0, 'B'}, {"ext-base", 1, 0, 'b'}, {"calls-per-ext", 1, 0, 'k'}, {"cps", 1, 0, 'r'},
        {"duration", 1, 0, 'd'}, {"max-calls", 1, 0, 'm'}, {"max-live", 1, 0, 'M'}, {"time-limit", 1, 0, 't'},
        {"drain", 1, 0, 'D'}, {"hold", 1, 0, 'h'}, {"hold-ms", 1, 0, 1}, {"hold-min-ms", 1, 0, 2},
        {"hold-max-ms", 1, 0, 3}, {"answer-ratio", 1, 0, 4}, {"bad-share", 1, 0, 5}, {"balance-micros", 1, 0, 6},
        {"credit-micros", 1, 0, 7}, {"rate-micros", 1, 0, 8}, {"unit-s", 1, 0, 9}, {"grant-grace-ms", 1, 0, 10},
        {"recharge-every-ms", 1, 0, 11}, {"recharge-amount", 1, 0, 12}, {"http-port", 1, 0, 13},
        {"token-file", 1, 0, 14}, {"server-pid", 1, 0, 15}, {"json", 1, 0, 16}, {"timeline", 1, 0, 17},
        {"sync-only", 0, 0, 18}, {"echo", 1, 0, 19}, {"echo-server", 1, 0, 20}, {"seed", 1, 0, 21},
        {"reconnect", 0, 0, 22}, {"recharge-batch", 1, 0, 23}, {"recharge-inflight", 1, 0, 24},
        {"help", 0, 0, '?'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'S': o->scenario = optarg; break;
        case 'H': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 's': o->secret = optarg; break;
        case 'c': o->connections = atoi(optarg); break;
        case 'i': o->inflight = atoi(optarg); break;
        case 'e': o->extensions = atoi(optarg); break;
        case 'L': o->locked = atoi(optarg); break;
        case 'B': o->broke = atoi(optarg); break;
        case 'b': o->ext_base = atoi(optarg); break;
        case 'k': o->calls_per_ext = atoi(optarg); break;
        case 'r': o->cps = atof(optarg); break;
        case 'd': o->duration_s = atoi(optarg); break;
        case 'm': o->max_calls = strtoull(optarg, NULL, 10); break;
        case 'M': o->max_live = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': o->time_limit_s = atoi(optarg); break;
        case 'D': o->drain_s = atoi(optarg); break;
        case 'h':
            o->distribution = strcmp(optarg, "uniform") == 0 ? DIST_UNIFORM
                              : strcmp(optarg, "exp") == 0  ? DIST_EXPONENTIAL
                                                            : DIST_FIXED;
            break;
        case 1: o->hold_ms = atof(optarg); break;
        case 2: o->hold_min_ms = atof(optarg); break;
        case 3: o->hold_max_ms = atof(optarg); break;
        case 4: o->answer_ratio = atof(optarg); break;
        case 5: o->bad_share = atof(optarg); break;
        case 6: o->balance_micros = strtoll(optarg, NULL, 10); break;
        case 7: o->credit_micros = strtoll(optarg, NULL, 10); break;
        case 8: o->rate_micros = strtoll(optarg, NULL, 10); break;
        case 9: o->unit_s = strtoll(optarg, NULL, 10); break;
        case 10: o->grant_grace_ms = strtoll(optarg, NULL, 10); break;
        case 11: o->recharge_every_ms = strtoll(optarg, NULL, 10); break;
        case 12: o->recharge_amount = optarg; break;
        case 13: o->http_port = atoi(optarg); break;
        case 14: o->token_file = optarg; break;
        case 15: o->server_pid = atoi(optarg); break;
        case 16: o->json_path = optarg; break;
        case 17: o->timeline_path = optarg; break;
        case 18: o->sync_only = 1; break;
        case 22: o->reconnect = 1; break;
        case 23: o->recharge_batch = atoi(optarg); break;
        case 24: o->recharge_inflight = atoi(optarg); break;
        case 19: o->echo_port = atoi(optarg); break;
        case 20: o->echo_server_port = atoi(optarg); break;
        case 21: o->seed = atoi(optarg); break;
        default: fputs(usage, stderr); return -1;
        }
    }
    if (o->echo_server_port) return 0;
    if (o->port <= 0 && o->echo_port <= 0) {
        fputs(usage, stderr);
        return -1;
    }
    if (o->connections < 1 || o->connections > 1024 || o->inflight < 8 || o->extensions < 1 || o->calls_per_ext < 1 ||
        o->calls_per_ext > 60000 || o->max_live < 1 || o->duration_s < 1 || o->answer_ratio < 0 || o->answer_ratio > 1 ||
        o->bad_share < 0 || o->bad_share > 1 || o->recharge_batch < 1 || o->recharge_batch > 100 ||
        o->recharge_inflight < 1 || o->recharge_inflight > 16) {
        fputs("loadgen: an option is out of range\n", stderr);
        return -1;
    }
    if (o->time_limit_s <= 0) o->time_limit_s = o->duration_s + o->drain_s + 60;
    /* Per-second units, initial cost 0: the answer pays the first unit; the call is cut when the next unit
     * cannot be paid, at answer + (units affordable) * unit. */
    if (o->rate_micros > 0 && o->unit_s > 0 && o->calls_per_ext == 1 && o->recharge_every_ms == 0) {
        int64_t units = (o->balance_micros + o->credit_micros) / o->rate_micros;
        o->expected_cutoff_us = units * o->unit_s * 1000000;
    }
    return 0;
}
