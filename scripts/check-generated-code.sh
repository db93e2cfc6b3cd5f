#!/usr/bin/env bash
# Proves Sources/PBXWire/Generated matches Proto/.
# Always: the digest recorded at generation equals the digest of Proto/ now (cheap; CI runs this).
# With --full (or when protoc-gen-swift is already built): regenerates into a temporary folder and compares
# every file byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
generated=Sources/PBXWire/Generated
recorded=$(cat "$generated/proto.sha256")
current=$(./scripts/proto-digest.sh)
if [ "$recorded" != "$current" ]; then
    echo "Proto/ changed since the Swift code was generated: run scripts/generate-protos.sh and commit"
    exit 1
fi
if [ "${1:-}" = "--full" ] || [ -x "${PROTOC_GEN_SWIFT_DIR:-.build-protoc-gen-swift}/.build/release/protoc-gen-swift" ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    ./scripts/generate-protos.sh "$scratch" >/dev/null
    diff -r "$generated" "$scratch" || { echo "generated code differs from Proto/: regenerate and commit"; exit 1; }
    echo "generated code matches Proto/ (regenerated and compared)"
else
    echo "generated code matches Proto/ (digest)"
fi
