#!/usr/bin/env bash
# TLS on a real `tollgate serve`, with a throwaway CA made by openssl: HTTPS answers /readyz and the console's
# session cookie carries Secure; plain HTTP on the HTTPS port gets no answer; a plaintext PBX (the C client) on the
# TLS PBX port is told "this port requires TLS"; certificates are replaced and SIGHUP (systemctl reload) serves
# the new ones; a certificate that does not load keeps the old ones. (Mutual TLS on the PBX port, a missing or a
# stranger's client certificate, is tested in PBXServerTLSTests.)
# Usage: scripts/check-tls.sh PATH/TO/tollgate
set -euo pipefail
tollgate=$(realpath "${1:?usage: check-tls.sh PATH/TO/tollgate}")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "check-tls: FAILED: $*" >&2; tail -20 "$work/serve.log" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ca() { # ca NAME: a CA and a server certificate for 127.0.0.1 signed by it, in $work/NAME-*
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1-ca.key" \
        -out "$work/$1-ca.pem" -days 2 -subj "/CN=$1 test CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1-server.key" \
        -out "$work/$1-server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' > "$work/ext"
    openssl x509 -req -in "$work/$1-server.csr" -CA "$work/$1-ca.pem" -CAkey "$work/$1-ca.key" -CAcreateserial \
        -out "$work/$1-server.pem" -days 2 -extfile "$work/ext" 2>/dev/null
}
ca first
ca second
cp "$work/first-server.pem" "$work/server.pem"
cp "$work/first-server.key" "$work/server.key"
http=$(free_port); pbx=$(free_port)
TOLLGATE_PBX_SECRET=s3cret TOLLGATE_ADMIN_PASSWORD=admin-password-1 TOLLGATE_BCRYPT_COST=4 \
TOLLGATE_HTTP_TLS_CERTIFICATE="$work/server.pem" TOLLGATE_HTTP_TLS_KEY="$work/server.key" \
TOLLGATE_PBX_TLS_CERTIFICATE="$work/server.pem" TOLLGATE_PBX_TLS_KEY="$work/server.key" \
    "$tollgate" serve --data-dir "$work/data" --http-listen "127.0.0.1:$http" --pbx-listen "127.0.0.1:$pbx" \
    > "$work/serve.log" 2>&1 &
pid=$!
url="https://127.0.0.1:$http"
for _ in $(seq 300); do curl -fsS --cacert "$work/first-ca.pem" "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
echo "-- HTTPS"
curl -fsS --cacert "$work/first-ca.pem" "$url/readyz" | grep -q '"ready":true' || fail "/readyz over HTTPS"
grep -q "https://127.0.0.1:$http" "$work/serve.log" || fail "the log does not say https"
if curl -fsS --max-time 5 "http://127.0.0.1:$http/readyz" >/dev/null 2>&1; then fail "plain HTTP answered on the HTTPS port"; fi
cookie=$(curl -sS -i --cacert "$work/first-ca.pem" -X POST "$url/login" -H "Origin: $url" \
    --data "user=admin&password=admin-password-1" | grep -i '^set-cookie:' || true)
echo "$cookie" | grep -qi "secure" || fail "the session cookie is not Secure: $cookie"
echo "-- the admin CLI over HTTPS"
export TOLLGATE_API="https://127.0.0.1:$http" TOLLGATE_API_CA="$work/first-ca.pem" TOLLGATE_TOKEN_FILE="$work/token"
TOLLGATE_PASSWORD=admin-password-1 "$tollgate" login --user admin >/dev/null || fail "tollgate login over HTTPS"
"$tollgate" billing status --json | grep -q '"billingEnabled"' || fail "tollgate billing status over HTTPS"
if TOLLGATE_API_CA="$work/second-ca.pem" "$tollgate" billing status >/dev/null 2>&1; then
    fail "the CLI trusted a certificate its CA did not sign"
fi
echo "-- a plaintext PBX on the TLS port"
make --quiet -C clients/c build/libtollgate-client.so.1 >/dev/null
cc -Wall -Werror clients/c/tests/installed.c -Iclients/c -Lclients/c/build -ltollgate-client \
    -Wl,-rpath,"$(pwd)/clients/c/build" -o "$work/plain-pbx"
if TOLLGATE_PORT=$pbx TOLLGATE_SECRET=s3cret "$work/plain-pbx" > "$work/pbx.out" 2>&1; then fail "a plaintext PBX was served"; fi
grep -q "this port requires TLS" "$work/pbx.out" || fail "the plaintext PBX got: $(cat "$work/pbx.out")"
echo "-- SIGHUP with a renewed certificate from another CA"
cp "$work/second-server.pem" "$work/server.pem"
cp "$work/second-server.key" "$work/server.key"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "TLS certificate reloaded" "$work/serve.log" && break; sleep 0.1; done
curl -fsS --cacert "$work/second-ca.pem" "$url/readyz" >/dev/null || fail "the renewed certificate is not served"
if curl -fsS --cacert "$work/first-ca.pem" "$url/readyz" >/dev/null 2>&1; then fail "the old certificate is still served"; fi
echo "-- SIGHUP with a file that does not load keeps the certificate in use"
echo "not a certificate" > "$work/server.pem"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "TLS certificate not reloaded" "$work/serve.log" && break; sleep 0.1; done
grep -q "TLS certificate not reloaded" "$work/serve.log" || fail "no error for a bad certificate"
curl -fsS --cacert "$work/second-ca.pem" "$url/readyz" >/dev/null || fail "a bad file replaced the certificate in use"
kill -TERM "$pid"
wait "$pid" || fail "serve did not stop cleanly"
pid=""
echo "-- a start with a certificate that does not load names the file"
if TOLLGATE_PBX_SECRET=s3cret TOLLGATE_PBX_TLS_CERTIFICATE="$work/server.pem" TOLLGATE_PBX_TLS_KEY="$work/server.key" \
    "$tollgate" serve --data-dir "$work/data2" --http-listen "127.0.0.1:0" --pbx-listen "127.0.0.1:0" \
    > "$work/bad.log" 2>&1; then fail "serve started with a bad certificate"; fi
grep -q "TLS certificate $work/server.pem: not readable PEM" "$work/bad.log" || fail "$(cat "$work/bad.log")"
echo "-- SIGHUP without TLS is logged, and serve goes on"
http=$(free_port)
TOLLGATE_PBX_SECRET=s3cret "$tollgate" serve --data-dir "$work/data3" --http-listen "127.0.0.1:$http" \
    --pbx-listen "127.0.0.1:0" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "no TLS certificate to reload" "$work/serve.log" && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$http/readyz" >/dev/null || fail "serve did not survive SIGHUP"
kill -TERM "$pid"
wait "$pid" || fail "serve did not stop cleanly"
pid=""
echo "check-tls: OK"
