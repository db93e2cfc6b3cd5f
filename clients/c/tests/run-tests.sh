#!/usr/bin/env bash
# Builds libtollgate-client and runs its checks: the exported symbols, the grant table (AddressSanitizer), then,
# against a real `tollgate serve` on a seeded temporary ledger, the client's tests in its default mode, its shared
# mode (also under ThreadSanitizer), the example module loaded with dlopen(), and a program built from an
# installed copy (make install + pkg-config). Ends with `tollgate verify` on the ledger.
# Usage: run-tests.sh PATH/TO/tollgate
set -euo pipefail
tollgate=$(realpath "${1:?usage: run-tests.sh PATH/TO/tollgate}")
cd "$(dirname "$0")/.."
make --quiet all tsan
make --quiet check-exports
./build/test_grants
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
export TOLLGATE_PORT=$port TOLLGATE_SECRET=$secret TOLLGATE_SERVE_PID=$serve_pid
status=0
echo "-- default mode"; time ./build/test_client || status=$?
echo "-- shared mode"; ./build/test_shared || status=$?
echo "-- shared mode under ThreadSanitizer"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch "$(uname -m)" -R ./build/tsan/test_shared || status=$?
echo "-- the example module, loaded with dlopen()"; ./build/examples/module_host ./build/examples/pbx_module.so || status=$?
echo "-- an installed copy, found by pkg-config"
root="$data/root"
make --quiet install DESTDIR="$root" PREFIX=/usr
cflags=$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --define-variable=prefix="$root/usr" --cflags --libs tollgate-client)
cc -Wall -Werror tests/installed.c -o "$data/installed" $cflags -Wl,-rpath,"$root/usr/lib" || status=1
"$data/installed" || status=$?
kill -TERM "$serve_pid"
wait "$serve_pid" || { echo "serve did not stop cleanly"; cat "$data/serve.log"; status=1; }
serve_pid=""
"$tollgate" verify --data-dir "$data" || status=1
exit $status
