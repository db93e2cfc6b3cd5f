#!/usr/bin/env bash
# Every test: set up, build with our own warnings treated as errors, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's start, in seconds since this script began, so that a CI log shows where the time goes.
step() { echo "== [$SECONDS s] $*"; }
step "system packages"
./scripts/install-system-packages.sh --tests
./scripts/install-python-packages.sh
log=$(mktemp)
step "debug build"
swift build --build-tests 2>&1 | tee "$log"
# Dependencies' warnings are theirs; ours fail the build.
if grep -E "^$(pwd)/(Sources|Tests)/.*: warning:" "$log"; then
    echo "warnings in Tollgate's own code (above) fail the build"
    exit 1
fi
step "soundness"
./scripts/check-soundness.sh
./scripts/check-generated-code.sh
# The benchmarks and measurement tools must keep compiling against the engine (they are run by hand). Linked as the
# Debian package links tollgate (the Swift runtime inside), so the package below reuses this release build.
step "LoadTests release build"
(cd LoadTests && swift build -c release --static-swift-stdlib 2>&1 | tail -3)
# The C client (libprotobuf-c) against a real `tollgate serve`: two protobuf implementations on one wire; then the
# same tests over mutual TLS (OpenSSL against swift-nio-ssl, a throwaway CA), and TLS's refusals and their reasons.
step "C client"
clients/c/tests/run-tests.sh .build/debug/tollgate
# The Kamailio agent: its unit checks, then real SIP calls (sipp -> Kamailio with the shipped configuration ->
# sipp) billed by a real serve through the agent over mutual TLS: refusals, cutoffs at the boundary on both legs,
# concurrent calls on one balance, CDRs, serve killed and the agent restarted mid-call, Tollgate unreachable, a
# stranger's certificate refused; and one call over plaintext.
step "Kamailio agent"
make --quiet -C clients/kamailio all test
python3 -m pytest -q -p no:cacheprovider -s clients/kamailio/tests
# The web console in headless Chromium against a real serve, a real SQLite file and a real PBX connection (tg_pbx,
# on the C client): every page checked by axe-core and photographed at 1280x800 and 390x844 (the folder is printed).
step "browser suite"
python3 -m pytest -q -p no:cacheprovider -s Tests/Browser
# The live admin API against docs/openapi.yaml: every operation played, every JSON reply validated.
step "API contract"
python3 scripts/check-openapi.py .build/debug/tollgate
# The same API under generated requests (schemathesis, fixed seed): no server error, nothing undocumented, nothing
# invalid accepted.
step "API fuzz"
./scripts/check-api-fuzz.sh .build/debug/tollgate
# /metrics on a live server with calls flowing: promtool check metrics, every metric the alert rules and the Grafana
# dashboard use is served, promtool check rules and the rules' unit tests.
step "metrics"
./scripts/check-metrics.sh .build/debug/tollgate
# TLS on a real serve with a throwaway CA: HTTPS and Secure cookies, a plaintext PBX told "this port requires TLS",
# certificates reloaded on SIGHUP, a bad certificate named at start.
step "TLS"
./scripts/check-tls.sh .build/debug/tollgate
# The admin CLI's commands and exit codes against a real `serve`.
step "CLI"
./scripts/check-cli.sh .build/debug/tollgate
step "swift test"
swift test --skip-build --parallel
# The PBX request path under libFuzzer for a minute (a crash, leak, hang or broken billing rule fails it).
step "wire fuzzer"
Fuzz/run.sh 60
# The C client's decoding of server frames (what a PBX module does with the server's bytes) under libFuzzer and
# AddressSanitizer for 30 s.
step "C client fuzzer"
make --quiet -C clients/c fuzz-run FUZZ_SECONDS=30
# The load generator: its own unit checks, then the smoke scenario against a real serve (loose sanity bounds, no
# performance assertions): calls flow, some are cut and denied, no errors, no overspend, balances add up.
step "load generator"
make --quiet -C LoadTests/loadgen test
LoadTests/run.sh smoke --tollgate .build/debug/tollgate
# A crash under load: the server is killed (SIGKILL) after 12 s and started again on the same files; the simulated
# PBXs reconnect and resync. Fails unless every answered call comes back, no account overspent, the balances add up
# against the call log, and `verify` finds the ledger clean. 300 CPS: the debug build.
step "crash-restart"
LOADGEN_ARGS="--cps 300" LoadTests/run.sh crash-restart --tollgate .build/debug/tollgate
# The Debian packages, built from this release build, checked by lintian, installed into a fresh Debian 12 root
# (debootstrap) and run there as systemd runs tollgate.service: READY=1 and the watchdog, /readyz, a PBX with the
# generated secret through the installed client library, the backup timer's command, a clean stop, a purge.
step "release tollgate"
(cd LoadTests && swift build -c release --static-swift-stdlib --product tollgate 2>&1 | tail -1)
step "packages"
packages=$(mktemp -d)
./scripts/build-deb.sh --binary LoadTests/.build/release/tollgate --out "$packages"
./packaging/test-install.sh "$packages"
rm -rf "$packages"
step "all passed"
