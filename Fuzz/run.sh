#!/usr/bin/env bash
# Fuzzes the PBX server's request path with libFuzzer: arbitrary bytes after a valid handshake, through the
# socket pipeline's decoders and a PBXSession, as `serve` drives it, on a real engine (manual
# clock, in-memory journal). An input that crashes, leaks, hangs or breaks a billing rule (an account below its
# credit, a call settled twice, a negative cost, a request left unanswered) is a finding.
# Usage: Fuzz/run.sh [SECONDS] [--merge]
#   SECONDS: how long to fuzz (default 300). --merge: add the inputs that found new coverage to Fuzz/corpus/wire,
#   which `swift test` replays (WireFuzzCorpusTests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=${1:-300}
merge=${2:-}

# A debug build with the sanitizers; the harness drives PBXSession through its public interface.
(cd "$here" && swift build -c debug --scratch-path "$root/.build-fuzz" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | tail -1)
fuzzer="$root/.build-fuzz/debug/FuzzWire"

work=$(mktemp -d)
mkdir -p "$work/corpus"
cp "$here/corpus/wire/"* "$work/corpus/"
"$fuzzer" --write-seeds "$work/corpus"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" 2>&1 | grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' || status=$?
findings=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
if [ -n "$findings" ] || [ "$status" -ne 0 ]; then
    echo "Fuzz/run.sh: findings kept in $work:"
    echo "$findings"
    echo "Replay one: $fuzzer FILE; keep it as a regression in $here/corpus/wire once fixed."
    exit 1
fi
if [ "$merge" = "--merge" ]; then
    # A set cover: the fewest inputs that keep every feature, added to what is committed.
    "$fuzzer" -set_cover_merge=1 "$here/corpus/wire" "$work/corpus" 2>&1 | tail -1
fi
echo "Fuzz/run.sh: no findings in ${seconds} s ($(ls "$work/corpus" | wc -l) inputs in the working corpus, $work)"
