#!/usr/bin/env bash
# Runs one load scenario against a real `tollgate serve` on a fresh temporary ledger and reports it.
# Usage: LoadTests/run.sh SCENARIO [--json FILE] [--report FILE] [--tollgate PATH]
#        LOADGEN_ARGS="--connections 64 --duration 20" LoadTests/run.sh throughput   (explore around a scenario)
#   SCENARIO: smoke | throughput | authorize | latency | concurrency | cutoff-storm | recharge-race | crash-restart
# Builds the C client and load generator (make), uses a release `tollgate` unless --tollgate names one, starts the
# server on free loopback ports, syncs extensions over the PBX protocol, sets up billing through the admin API,
# runs the load generator, measures the echo and SQLite baselines in the same run, and fails when any account
# overspent, when the balances do not add up to the money loaded, recharged and charged, when a live call's grant
# expired, or (smoke) on any error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
scenario=${1:?usage: run.sh SCENARIO [--json FILE] [--report FILE] [--tollgate PATH]}
shift
json="" report="" tollgate=""
while [ $# -gt 0 ]; do
    case "$1" in
        --json) json=$(realpath -m "$2"); shift 2 ;;
        --report) report=$(realpath -m "$2"); shift 2 ;;
        --tollgate) tollgate=$(realpath "$2"); shift 2 ;;
        *) echo "unknown option $1"; exit 64 ;;
    esac
done

# Scenario settings: extensions, pools, calls per extension, pace, durations, money; every run bounded in time.
connections=8 inflight=256 locked=0 broke=0 per_ext=1 cps=0 duration=10 max_calls=0 max_live=200000
hold=fixed hold_ms=1000 hold_min=500 hold_max=600000 answer=1.0 bad=0 drain=60
balance=100000000 credit=0 rate=20000 unit=1 recharge_every=0 recharge_amount=0.10 recharge_batch=1 recharge_inflight=1
warning_lead=0
echo_s=5 ledger_rows=100000 expect_cutoff=0 strict=0 crash_after=0
case "$scenario" in
    smoke)
        extensions=200 locked=10 broke=10 per_ext=2 cps=200 duration=8 hold=uniform hold_min=200 hold_max=3000
        answer=0.8 bad=0.1 balance=100000 recharge_every=250 drain=20 echo_s=2 ledger_rows=10000 strict=1 ;;
    throughput)
        extensions=20000 per_ext=4 cps=0 duration=60 hold=fixed hold_ms=100 connections=16 inflight=512
        max_live=200000 drain=30 echo_s=10 ledger_rows=300000 ;;
    authorize)
        extensions=20000 per_ext=4 cps=0 duration=30 answer=0 connections=16 inflight=512 drain=30 echo_s=10 ;;
    latency)
        extensions=20000 per_ext=4 cps=5000 duration=60 hold=fixed hold_ms=100 connections=16 inflight=512 drain=30 ;;
    concurrency)
        extensions=100000 per_ext=10 cps=20000 duration=120 max_calls=1000000 max_live=1050000 hold=fixed
        hold_ms=120000 rate=1000 balance=1000000000 connections=16 inflight=1024 drain=150 ledger_rows=300000 ;;
    cutoff-storm)
        extensions=100000 per_ext=1 cps=20000 duration=30 max_calls=100000 max_live=110000 hold=fixed
        hold_ms=120000 rate=10000 balance=100000 connections=16 inflight=1024 drain=60 expect_cutoff=1 ;;
    recharge-race)
        extensions=1000 per_ext=20 cps=2000 duration=30 hold=exp hold_ms=5000 hold_max=60000 balance=500000
        recharge_every=20 recharge_amount=0.05 bad=0.05 locked=10 broke=10 drain=60 ;;
    crash-restart)
        # The server is killed (SIGKILL: no shutdown, no flush) under load and started again on the same files; the
        # load generator reconnects, resyncs its calls and sends again the Ends left unanswered. Bulk recharges of 50
        # extensions run throughout, so the kill lands in one: it is sent again with its Idempotency-Key.
        extensions=5000 per_ext=4 cps=2000 duration=30 hold=uniform hold_min=1000 hold_max=20000 answer=0.9
        bad=0.05 locked=10 broke=10 connections=8 inflight=256 drain=60 crash_after=12 echo_s=2 ledger_rows=10000
        recharge_every=50 recharge_amount=0.05 recharge_batch=50 recharge_inflight=2 ;;
    *) echo "unknown scenario: $scenario (smoke, throughput, authorize, latency, concurrency, cutoff-storm, recharge-race, crash-restart)"; exit 64 ;;
esac

make --quiet -C "$root/clients/c" build/libtollgate-client.a
make --quiet -C "$here/loadgen"
loadgen="$here/loadgen/build/loadgen"
# A release build: its last line, or its last 30 lines when it fails. Linked with the Swift runtime inside, as the
# Debian package ships it, and as CI builds LoadTests: a build with other linking flags would start from scratch.
release_build() {
    local dir=$1 product=$2 log
    log=$(mktemp)
    if ! (cd "$dir" && swift build -c release --static-swift-stdlib --product "$product" >"$log" 2>&1); then
        tail -30 "$log"; rm -f "$log"; echo "run.sh: building $product failed"; exit 1
    fi
    tail -1 "$log"; rm -f "$log"
}
if [ -z "$tollgate" ]; then
    release_build "$root" tollgate
    tollgate="$root/.build/release/tollgate"
fi
bench="$here/.build/release/tollgate-bench"
# Always built (incremental): a stale benchmark would measure an older ledger than the server under test.
release_build "$here" tollgate-bench

work=$(mktemp -d)
serve_pid="" echo_pid=""
cleanup() {
    [ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null || true
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pbx_port=$(free_port) http_port=$(free_port) echo_port=$(free_port)
secret="load-$RANDOM$RANDOM" admin_password="load-admin-$RANDOM$RANDOM"
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(basename "$tollgate") $("$tollgate" --version 2>/dev/null || true)"

start_serve() {
    TOLLGATE_PBX_SECRET="$secret" TOLLGATE_ADMIN_PASSWORD="$admin_password" TOLLGATE_BCRYPT_COST=4 \
        "$tollgate" serve --data-dir "$work/data" --pbx-listen "127.0.0.1:$pbx_port" --http-listen "127.0.0.1:$http_port" \
        "$@" >>"$work/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 200); do
        python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$http_port/healthz" 2>/dev/null && break
        sleep 0.1
    done
}
start_serve

common=(--port "$pbx_port" --secret "$secret" --extensions "$extensions" --locked "$locked" --broke "$broke")
echo "== $scenario: sync $((extensions + locked + broke)) extensions, set up billing through the admin API"
"$loadgen" "${common[@]}" --connections 1 --sync-only
python3 "$here/loadgen/setup.py" --http "$http_port" --admin-password "$admin_password" --extensions "$extensions" \
    --locked "$locked" --broke "$broke" --balance-micros "$balance" --credit-micros "$credit" --rate-micros "$rate" \
    --unit-s "$unit" --warning-lead-s "$warning_lead" --token-out "$work/token" --login-out "$work/login"

run=("${common[@]}" --scenario "$scenario" --connections "$connections" --inflight "$inflight" --calls-per-ext "$per_ext"
     --cps "$cps" --duration "$duration" --max-live "$max_live" --hold "$hold" --hold-ms "$hold_ms"
     --hold-min-ms "$hold_min" --hold-max-ms "$hold_max" --answer-ratio "$answer" --bad-share "$bad" --drain "$drain"
     --server-pid "$serve_pid" --json "$work/loadgen.json" --timeline "$work/timeline.csv" --http-port "$http_port")
[ "$max_calls" -gt 0 ] && run+=(--max-calls "$max_calls")
[ "$recharge_every" -gt 0 ] && run+=(--recharge-every-ms "$recharge_every" --recharge-amount "$recharge_amount"
                                     --recharge-batch "$recharge_batch" --recharge-inflight "$recharge_inflight"
                                     --token-file "$work/token")
[ "$expect_cutoff" -eq 1 ] && run+=(--balance-micros "$balance" --credit-micros "$credit" --rate-micros "$rate" --unit-s "$unit")
# LOADGEN_ARGS (e.g. "--connections 64 --duration 20") overrides a scenario's load settings for exploring.
read -r -a extra <<<"${LOADGEN_ARGS:-}"
echo "== $scenario: load ${LOADGEN_ARGS:-}"
if [ "$crash_after" -gt 0 ]; then
    "$loadgen" "${run[@]}" --reconnect "${extra[@]}" &
    load_pid=$!
    # A backup taken under the load, midway to the kill: `tollgate backup` verifies its copy, or fails.
    sleep $((crash_after / 2))
    "$tollgate" backup --data-dir "$work/data" "$work/backup.sqlite"
    sleep $((crash_after - crash_after / 2))
    echo "== $scenario: kill -9 the server after ${crash_after} s of load; start it again on the same files"
    kill -KILL "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
    # A short grace: restored calls no PBX claims (their authorization's reply died with the server) are settled
    # within the run.
    start_serve --resync-grace 5
    python3 "$here/loadgen/login.py" --http "$http_port" --login "$work/login" --token-out "$work/token"
    wait "$load_pid"
    # The server's side of the resyncs: calls claimed, adopted, authorized again (lost by the crash), unknown.
    grep "resynced calls" "$work/serve.log" | grep -o '[a-z_]*=[0-9]*' |
        awk -F= '{sum[$1] += $2} END {printf "== %s: server resynced %d calls: %d adopted (%d authorized again), %d unknown\n", "'"$scenario"'", sum["claimed"], sum["adopted"], sum["authorized_again"], sum["unknown"]}'
    echo "== $scenario: server settled $(grep -c "settled a call the restart lost" "$work/serve.log" || true) re-sent Ends of calls the crash lost whole, from the calls they named"
    # Until the grace has settled the unclaimed calls: the balances then add up against the call log.
    for _ in $(seq 1 100); do
        live=$(python3 -c "import urllib.request,sys,re; t=urllib.request.urlopen(sys.argv[1]).read().decode(); m=re.search(r'^tollgate_live_calls (\S+)', t, re.M); print(int(float(m.group(1))) if m else -1)" "http://127.0.0.1:$http_port/metrics")
        [ "$live" = "0" ] && break
        sleep 0.1
    done
else
    "$loadgen" "${run[@]}" "${extra[@]}"
fi

echo "== baselines: echo server ${echo_s} s, SQLite and ledger ${ledger_rows} rows"
"$loadgen" --echo-server "$echo_port" --duration "$echo_s" &
echo_pid=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$echo_port") 2>/dev/null && break; sleep 0.1; done
"$loadgen" --echo "$echo_port" --connections "$connections" --inflight "$inflight" --duration "$echo_s" >"$work/echo.json"
kill "$echo_pid" 2>/dev/null || true
echo_pid=""
"$bench" ledger --rows "$ledger_rows" >"$work/ledger.txt"

python3 "$here/loadgen/report.py" --summary "$work/loadgen.json" --timeline "$work/timeline.csv" --http "$http_port" \
    --token-file "$work/token" --extensions "$extensions" --broke "$broke" --balance-micros "$balance" \
    --echo "$work/echo.json" --ledger "$work/ledger.txt" --machine "$machine" \
    $([ "$crash_after" -gt 0 ] && echo --server-costs) \
    --json "${json:-$work/summary.json}" ${report:+--report "$report"}

kill -TERM "$serve_pid"
wait "$serve_pid" || { echo "serve did not stop cleanly"; tail -20 "$work/serve.log"; exit 1; }
serve_pid=""
"$tollgate" verify --data-dir "$work/data"

python3 - "${json:-$work/summary.json}" "$strict" <<'PY'
import json, sys
s, strict = json.load(open(sys.argv[1])), sys.argv[2] == "1"
problems = []
if s["overspend_micros"] != 0: problems.append(f"overspend {s['overspend_micros']} micro-units")
if s["balance_mismatch_micros"] != 0: problems.append(f"balances off by {s['balance_mismatch_micros']} micro-units")
if s["unexpected_allowed"] != 0: problems.append(f"{s['unexpected_allowed']} calls allowed that must be refused")
# In every scenario: a live call's grant running out means the engine stopped renewing calls it still meters
# (the PBX hangs up calls that were paid for). A broken push path once passed `concurrency` with every grant expired.
if s.get("grant_expired", 0) != 0: problems.append(f"{s['grant_expired']} grants expired before a renewal or a cutoff")
if s["scenario"] == "crash-restart":
    # The crash may lose only what was never acknowledged: answered calls come back with the resync.
    if s["reconnects"] == 0: problems.append("the load generator never reconnected")
    if s["resync_unknown"] != 0: problems.append(f"{s['resync_unknown']} answered calls unknown after the restart")
    # An End sent again for an answered call the crash lost whole names the call, and is settled from it.
    if s["ends_not_found_answered"] != 0:
        problems.append(f"{s['ends_not_found_answered']} answered calls' Ends unknown after the restart")
    # Every recharge the kill interrupted is sent again with its key until answered: none may fail or be lost.
    if s["recharges_ok"] == 0: problems.append("no recharge went through")
    if s["recharges_failed"] != 0: problems.append(f"{s['recharges_failed']} recharges failed")
if strict:
    # Loose sanity for the smoke run (no performance bounds): calls flowed, some were cut, none failed.
    if s["errors"] != 0: problems.append(f"{s['errors']} errors: {s['errors_by_status']}")
    if s["calls_completed"] < 100: problems.append(f"only {s['calls_completed']} calls completed")
    if s["cutoffs"] == 0: problems.append("no call was cut off")
    if s["recharges_ok"] == 0: problems.append("no recharge went through")
    if s["calls_denied"] == 0: problems.append("no call was denied")
for p in problems: print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
echo "== $scenario: ok${json:+ (summary: $json)}${report:+ (report: $report)}"
