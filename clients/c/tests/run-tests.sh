#!/usr/bin/env bash
# Builds libtollgate-client and runs its checks: the exported symbols, the grant table (AddressSanitizer), then,
# against a real `tollgate serve` on a seeded temporary ledger, the client's tests in its default mode, its shared
# mode (also under ThreadSanitizer), the example module loaded with dlopen(), and a program built from an
# installed copy (make install + pkg-config). Then the same client tests over TLS, against a second serve whose PBX
# port asks for client certificates (a throwaway CA made by openssl, a certificate per node), and the TLS cases of
# their own (test_tls). Ends with `tollgate verify` on both ledgers.
# Usage: run-tests.sh PATH/TO/tollgate
set -euo pipefail
tollgate=$(realpath "${1:?usage: run-tests.sh PATH/TO/tollgate}")
cd "$(dirname "$0")/.."
make --quiet all tsan
make --quiet check-exports
./build/test_grants
work=$(mktemp -d)
secret="c-client-$RANDOM$RANDOM"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start_serve NAME [VAR=VALUE...]: a serve on a seeded ledger in $work/NAME, its PBX port in $port, its pid in $pid.
start_serve() {
    local name=$1; shift
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$tollgate" seed --data-dir "$work/$name" >/dev/null
    env TOLLGATE_PBX_SECRET="$secret" "$@" "$tollgate" serve --data-dir "$work/$name" --pbx-listen "127.0.0.1:$port" \
        --http-listen 127.0.0.1:0 >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "serve $name did not listen"; cat "$work/$name.log"; exit 1
}

stop_serve() { # stop_serve NAME PID
    kill -TERM "$2"
    wait "$2" || { echo "serve $1 did not stop cleanly"; cat "$work/$1.log"; status=1; }
    "$tollgate" verify --data-dir "$work/$1" || status=1
}

status=0
start_serve plain
plain_port=$port plain_pid=$pid
export TOLLGATE_PORT=$port TOLLGATE_SECRET=$secret TOLLGATE_SERVE_PID=$pid
echo "-- default mode"; time ./build/test_client || status=$?
echo "-- shared mode"; ./build/test_shared || status=$?
echo "-- shared mode under ThreadSanitizer"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch "$(uname -m)" -R ./build/tsan/test_shared || status=$?
echo "-- the example module, loaded with dlopen()"; ./build/examples/module_host ./build/examples/pbx_module.so || status=$?
echo "-- an installed copy, found by pkg-config"
root="$work/root"
make --quiet install DESTDIR="$root" PREFIX=/usr
cflags=$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --define-variable=prefix="$root/usr" --cflags --libs tollgate-client)
cc -Wall -Werror tests/installed.c -o "$work/installed" $cflags -Wl,-rpath,"$root/usr/lib" || status=1
"$work/installed" || status=$?

echo "-- over TLS, with a certificate for each node"
certs="$work/certs"
mkdir -p "$certs"
# authority NAME: a CA in $certs/NAME.pem (+ .key)
authority() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$certs/$1.key" -out "$certs/$1.pem" \
        -days 2 -subj "/CN=$1" 2>/dev/null
}
# leaf CA NAME SAN: a certificate in $certs/NAME.pem (+ .key) signed by CA, naming SAN
leaf() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$certs/$2.key" -out "$certs/$2.csr" \
        -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=%s\n' "$3" > "$certs/$2.ext"
    openssl x509 -req -in "$certs/$2.csr" -CA "$certs/$1.pem" -CAkey "$certs/$1.key" -CAcreateserial \
        -out "$certs/$2.pem" -days 2 -extfile "$certs/$2.ext" 2>/dev/null
}
authority ca
authority other-ca
leaf ca server IP:127.0.0.1
for node in c-test c-trunk c-limit c-shared c-tls c-loop; do leaf ca "$node" "DNS:$node"; done
leaf other-ca stranger DNS:stranger
start_serve tls TOLLGATE_PBX_TLS_CERTIFICATE="$certs/server.pem" TOLLGATE_PBX_TLS_KEY="$certs/server.key" \
    TOLLGATE_PBX_TLS_CLIENT_CA="$certs/ca.pem"
export TOLLGATE_PORT=$port TOLLGATE_SERVE_PID=$pid TOLLGATE_TLS_CA="$certs/ca.pem" TOLLGATE_TLS_DIR="$certs"
echo "-- default mode over TLS"; ./build/test_client || status=$?
echo "-- shared mode over TLS under ThreadSanitizer"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch "$(uname -m)" -R ./build/tsan/test_shared || status=$?
echo "-- TLS refusals, reasons and the event-loop API"
TOLLGATE_TLS_PORT=$port TOLLGATE_PLAIN_PORT=$plain_port ./build/test_tls || status=$?
stop_serve tls "$pid"
stop_serve plain "$plain_pid"
pids=()
exit $status
