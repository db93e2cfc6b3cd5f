#!/usr/bin/env bash
# Checks the systemd units with systemd-analyze verify: every key known, every value parsed, the binary there.
# systemd-analyze only warns about an unknown key or a bad value, so any output at all fails the check.
# Usage: packaging/check-units.sh [TOLLGATE_BINARY]   (default .build/debug/tollgate; it stands in for /usr/bin)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$(realpath "${1:-$here/../.build/debug/tollgate}")"
command -v systemd-analyze >/dev/null || { echo "check-units: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
[[ -x "$binary" ]] || { echo "check-units: no tollgate binary at $binary" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for unit in "$here"/systemd/*; do
    sed "s#/usr/bin/tollgate#$binary#g" "$unit" > "$scratch/$(basename "$unit")"
done
cd "$scratch"
if ! output="$(systemd-analyze verify --man=no ./*.service ./*.timer 2>&1)" || [[ -n "$output" ]]; then
    echo "$output" >&2
    echo "check-units: FAILED" >&2
    exit 1
fi
echo "check-units: $(ls | tr '\n' ' ')verified"
