#!/usr/bin/env bash
# Builds the C client and runs its tests against a real `tollgate serve` on a seeded, temporary ledger.
# Usage: run-tests.sh PATH/TO/tollgate
set -euo pipefail
tollgate=$(realpath "${1:?usage: run-tests.sh PATH/TO/tollgate}")
cd "$(dirname "$0")"
make --quiet
data=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
secret="c-client-$RANDOM$RANDOM"
serve_pid=""
cleanup() {
    if [ -n "$serve_pid" ]; then kill -CONT "$serve_pid" 2>/dev/null || true; kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$data"
}
trap cleanup EXIT
"$tollgate" seed --data-dir "$data" >/dev/null
TOLLGATE_PBX_SECRET="$secret" "$tollgate" serve --data-dir "$data" --pbx-listen "127.0.0.1:$port" --http-listen 127.0.0.1:0 \
    >"$data/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
status=0
TOLLGATE_PORT=$port TOLLGATE_SECRET=$secret TOLLGATE_SERVE_PID=$serve_pid ./build/test_client || status=$?
kill -TERM "$serve_pid"
wait "$serve_pid" || { echo "serve did not stop cleanly"; cat "$data/serve.log"; status=1; }
serve_pid=""
"$tollgate" verify --data-dir "$data" || status=1
exit $status
