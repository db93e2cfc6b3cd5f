#!/usr/bin/env bash
# Property-based tests of the live admin API from docs/openapi.yaml (schemathesis): for every operation it sends
# requests generated from the spec, valid and invalid ones, and fails on a server error, a status or body the spec
# does not document, a schema-violating request that is accepted, or an operation that ignores authentication.
# The seed is fixed so a failure replays; SCHEMATHESIS_EXAMPLES (default 30) sets how many cases per operation.
# Two checks are left out, each because the spec cannot say what it asks for:
#   positive_data_acceptance: some schema-valid requests are refused for reasons only the server knows (a license
#     signature, a rate whose number length is shorter than its prefix, an id in the body that differs from the path);
#   unsupported_method: an undocumented method (TRACE) on a known path gets Hummingbird's 404, not a 405.
# Usage: scripts/check-api-fuzz.sh PATH/TO/tollgate
set -euo pipefail
binary=$(realpath "${1:?usage: check-api-fuzz.sh PATH/TO/tollgate}")
cd "$(dirname "$0")/.."
examples=${SCHEMATHESIS_EXAMPLES:-30}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
data=$(mktemp -d)
http=$(free_port) pbx=$(free_port)
TOLLGATE_PBX_SECRET=s3cret TOLLGATE_ADMIN_PASSWORD=admin-password-1 TOLLGATE_BCRYPT_COST=4 \
    "$binary" serve --data-dir "$data" --http-listen "127.0.0.1:$http" --pbx-listen "127.0.0.1:$pbx" \
    >"$data/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null || true' EXIT
base="http://127.0.0.1:$http"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
post() { curl -sf -X POST -H 'Content-Type: application/json' "$@"; }
admin=$(post -d '{"user":"admin","password":"admin-password-1"}' "$base/api/v1/auth/login" | field token)
curl -sf -X PUT -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"enabled":true}' \
    "$base/api/v1/admin/billing" >/dev/null
user=$(post -H "Authorization: Bearer $admin" "$base/api/v1/admin/users")
name=$(echo "$user" | field name) password=$(echo "$user" | field password)
billing=$(post -d "{\"user\":\"$name\",\"password\":\"$password\"}" "$base/api/v1/auth/login" | field token)

run() {
    local token=$1 paths=$2
    schemathesis run docs/openapi.yaml --url "$base" -H "Authorization: Bearer $token" \
        --include-path-regex "$paths" --max-examples "$examples" --workers 1 --seed 20261129 \
        --checks all --exclude-checks positive_data_acceptance,unsupported_method --no-color 2>&1 \
        | sed -n '/^=* *FAILURES/,$p;/^=* *SUMMARY/,$p' | awk '!seen[$0]++'
    return "${PIPESTATUS[0]}"
}
status=0
run "$billing" '^/api/v1/(extensions|rates|calls|recharges|stats|settings|live-calls)' || status=1
run "$admin" '^/(api/v1/admin|api/v1/auth/me|healthz|metrics)' || status=1
# Last, as they can end the session they run in: sign-out and password changes.
run "$billing" '^/api/v1/auth/(logout|password)$' || status=1
if grep -q "Fatal error\|panic" "$data/serve.log"; then echo "serve crashed:"; tail -20 "$data/serve.log"; status=1; fi
exit $status
