#!/usr/bin/env bash
# The main job: set up, build, and run the demo: the engine and PBX server with a simulated PBX calling over the
# real socket (metered calls, warnings, cutoffs at the exact boundary, denials, a recharge mid-call), then the
# call log, balances and a ledger verification.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-system-packages.sh
swift build -c release --product tollgate
exec .build/release/tollgate demo "$@"
