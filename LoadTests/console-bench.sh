#!/usr/bin/env bash
# The web console under a big ledger: 100,000 extensions synced by a PBX, then 1,000,000 calls placed over the
# socket, then 10,000 calls held live. Times the first page of Extensions and of the Call Log (and a few other
# pages), measured at the server's loopback port with a signed-in console session, and the Live calls page and its
# event stream with 10,000 calls in progress. Reports medians and percentiles; asserts nothing about time.
# Usage: LoadTests/console-bench.sh [--tollgate PATH] (a release build is made unless one is named)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tollgate=""
[ "${1:-}" = "--tollgate" ] && tollgate=$(realpath "$2")
extensions=${BENCH_EXTENSIONS:-100000} calls=${BENCH_CALLS:-1000000} live=${BENCH_LIVE:-10000}
make --quiet -C "$here/../clients/c" build/libtollgate-client.a
make --quiet -C "$here/loadgen"
loadgen="$here/loadgen/build/loadgen"
if [ -z "$tollgate" ]; then
    (cd "$root" && swift build -c release --product tollgate 2>&1 | tail -1)
    tollgate="$root/.build/release/tollgate"
fi
work=$(mktemp -d)
serve_pid=""
cleanup() {
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pbx_port=$(free_port) http_port=$(free_port)
secret="bench-$RANDOM$RANDOM" admin_password="bench-admin-$RANDOM$RANDOM"
TOLLGATE_PBX_SECRET="$secret" TOLLGATE_ADMIN_PASSWORD="$admin_password" TOLLGATE_BCRYPT_COST=4 \
    "$tollgate" serve --data-dir "$work/data" --pbx-listen "127.0.0.1:$pbx_port" --http-listen "127.0.0.1:$http_port" \
    >>"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 200); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$http_port/healthz" 2>/dev/null && break
    sleep 0.1
done
common=(--port "$pbx_port" --secret "$secret" --extensions "$extensions" --locked 0 --broke 0)
echo "== sync $extensions extensions; billing on, a rate, a balance each"
"$loadgen" "${common[@]}" --connections 1 --sync-only
python3 "$here/loadgen/setup.py" --http "$http_port" --admin-password "$admin_password" --extensions "$extensions" \
    --locked 0 --broke 0 --balance-micros 1000000000 --credit-micros 0 --rate-micros 1000 --unit-s 1 \
    --warning-lead-s 0 --token-out "$work/token" --login-out "$work/login"
echo "== place $calls short calls over the socket"
"$loadgen" "${common[@]}" --scenario throughput --connections 16 --inflight 512 --calls-per-ext 4 --cps 0 \
    --duration 600 --max-calls "$calls" --max-live 200000 --hold fixed --hold-ms 100 --drain 60 --json "$work/fill.json" \
    >/dev/null
python3 "$here/console_bench.py" --base "http://127.0.0.1:$http_port" --login "$work/login" --phase pages
echo "== hold $live calls live"
"$loadgen" "${common[@]}" --scenario concurrency --connections 8 --inflight 512 --calls-per-ext 1 --cps 5000 \
    --duration 5 --max-calls "$live" --max-live $((live + 1000)) --hold fixed --hold-ms 40000 --drain 60 \
    --json "$work/live.json" >/dev/null &
load_pid=$!
sleep 8
python3 "$here/console_bench.py" --base "http://127.0.0.1:$http_port" --login "$work/login" --phase live
wait "$load_pid" || true
echo "serve: $(ps -o rss= -p "$serve_pid" | awk '{printf "%.0f MB RSS", $1/1024}')"
