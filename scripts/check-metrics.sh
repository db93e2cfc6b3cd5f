#!/usr/bin/env bash
# /metrics against Prometheus's own tools, on a live server with calls flowing (`tollgate demo`): `promtool check
# metrics` on the scrape; every metric the alert rules and the Grafana dashboard use is in it; the latency
# histograms have counted the calls; `promtool check rules` and the rules' unit tests (`promtool test rules`).
# Usage: scripts/check-metrics.sh PATH/TO/tollgate
set -euo pipefail
tollgate=$(realpath "${1:?usage: check-metrics.sh PATH/TO/tollgate}")
cd "$(dirname "$0")/.."
command -v promtool >/dev/null || { echo "check-metrics: promtool not found (apt-get install prometheus)" >&2; exit 1; }
monitoring=packaging/monitoring
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tollgate" demo --seconds 20 --data-dir "$work/data" --http-listen "127.0.0.1:$port" > "$work/demo.log" 2>&1 &
pid=$!
scrape="$work/metrics"
for _ in $(seq 300); do
    if curl -fsS "http://127.0.0.1:$port/metrics" > "$scrape" 2>/dev/null \
        && grep -Eq '^tollgate_authorize_duration_seconds_count [1-9]' "$scrape" \
        && grep -Eq '^tollgate_tick_lateness_seconds_count [1-9]' "$scrape"; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/demo.log"; echo "check-metrics: the demo ended early" >&2; exit 1; }
    sleep 0.1
done
grep -Eq '^tollgate_tick_lateness_seconds_count [1-9]' "$scrape" || { echo "check-metrics: no calls counted" >&2; exit 1; }
echo "-- promtool check metrics ($(grep -vc '^#' "$scrape") samples)"
promtool check metrics < "$scrape"
echo "-- every metric the alerts and the dashboard use is served"
python3 - "$scrape" "$monitoring/tollgate-alerts.yml" "$monitoring/tollgate-dashboard.json" <<'PY'
import json, re, sys
served = {line.split("{")[0].split(" ")[0] for line in open(sys.argv[1]) if line and not line.startswith("#")}
exprs = [line for line in open(sys.argv[2]) if "tollgate_" in line or "process_" in line]
dashboard = json.load(open(sys.argv[3]))
exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
used = {name for e in exprs for name in re.findall(r"\b(?:tollgate|process)_[a-z_]+", e)}
used = {name for name in used if not name.startswith("tollgate_alerts")}
missing = sorted(used - served)
print(f"{len(used)} metrics used, {len(used) - len(missing)} served")
if missing:
    sys.exit("not served: " + ", ".join(missing))
PY
echo "-- promtool check rules, promtool test rules"
promtool check rules "$monitoring/tollgate-alerts.yml"
(cd "$monitoring" && promtool test rules tollgate-alerts.test.yml)
kill -INT "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""
echo "check-metrics: OK"
