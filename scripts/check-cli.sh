#!/usr/bin/env bash
# The admin CLI against a real `tollgate serve`: sign-in, a few commands, and the exit codes scripts rely on
# (0 ok, 1 refused, 3 unreachable, 4 not signed in, 5 forbidden, 64 bad usage).
set -uo pipefail
tollgate=$(realpath "$1")
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(free_port); pbx=$(free_port)
export TOLLGATE_API="127.0.0.1:$http" TOLLGATE_TOKEN_FILE="$work/token" TOLLGATE_BCRYPT_COST=4
TOLLGATE_PBX_SECRET=s3cret TOLLGATE_ADMIN_PASSWORD=admin-password-1 \
    "$tollgate" serve --data-dir "$work/data" --http-listen "127.0.0.1:$http" --pbx-listen "127.0.0.1:$pbx" \
    >"$work/serve.log" 2>&1 &
serve=$!
trap 'kill "$serve" 2>/dev/null; wait "$serve" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$http/healthz" 2>/dev/null && break
    sleep 0.1
done
failures=0
expect() { # expect CODE command...
    local want=$1; shift
    "$@" >"$work/out" 2>&1; local got=$?
    if [ "$got" -ne "$want" ]; then echo "cli: FAIL (exit $got, want $want): $*"; cat "$work/out"; failures=$((failures + 1)); fi
}
expect 4 "$tollgate" ext list
TOLLGATE_PASSWORD=wrong-password-1 expect 4 "$tollgate" login --user admin
TOLLGATE_PASSWORD=admin-password-1 expect 0 "$tollgate" login --user admin
expect 0 "$tollgate" billing on
expect 5 "$tollgate" ext list
"$tollgate" user add bill-cli --json >"$work/user.json" || failures=$((failures + 1))
password=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$work/user.json")
TOLLGATE_PASSWORD="$password" expect 0 "$tollgate" login --user bill-cli
expect 0 "$tollgate" ext add 8001 --name "Room 1"
expect 0 "$tollgate" ext edit 8001 --billing on --credit 2.50
expect 1 "$tollgate" ext edit 8001 --credit=-3
expect 64 "$tollgate" ext edit 8001 --credit
expect 1 "$tollgate" ext show 9999
expect 0 "$tollgate" recharge 8001 --amount 10 --key cli-1
expect 0 "$tollgate" recharge 8001 --amount 10 --key cli-1
expect 1 "$tollgate" recharge 8001 --amount 0
expect 0 "$tollgate" rate add --prefix 0 --rate 0.02 --unit 6 --extensions 8001
expect 0 "$tollgate" rate export --output "$work/rates.csv"
expect 0 "$tollgate" rate import "$work/rates.csv"
expect 0 "$tollgate" calls export --format xlsx --output "$work/calls.xlsx"
expect 0 "$tollgate" stats --period month
balance=$("$tollgate" ext show 8001 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["balance"])')
[ "$balance" = "10.00" ] || { echo "cli: FAIL: balance $balance after a retried recharge, want 10.00"; failures=$((failures + 1)); }
expect 3 "$tollgate" ext list --api 127.0.0.1:1
# A backup of the ledger serve is using: written and verified; never over an existing file; no ledger, no backup.
expect 0 "$tollgate" backup --data-dir "$work/data" "$work/backup.sqlite"
expect 64 "$tollgate" backup --data-dir "$work/data" "$work/backup.sqlite"
expect 64 "$tollgate" backup --data-dir "$work/nowhere" "$work/other.sqlite"
[ -f "$work/other.sqlite" ] && { echo "cli: FAIL: a failed backup left a file"; failures=$((failures + 1)); }
# A port in use ends a second serve at once: its address in one line, exit status 1, and never "serving".
TOLLGATE_PBX_SECRET=s3cret TOLLGATE_ADMIN_PASSWORD=admin-password-1 \
    expect 1 "$tollgate" serve --data-dir "$work/second" --http-listen "127.0.0.1:$http" --pbx-listen 127.0.0.1:0
grep -q "127.0.0.1:$http: address already in use" "$work/out" || { echo "cli: FAIL: no 'address already in use' for the HTTP port"; cat "$work/out"; failures=$((failures + 1)); }
grep -q "serving" "$work/out" && { echo "cli: FAIL: serve said it serves with its HTTP port taken"; failures=$((failures + 1)); }
echo "cli: $failures failure(s)"
[ "$failures" -eq 0 ]
