#!/usr/bin/env bash
# Regenerates the Swift code of Proto/ into Sources/PBXWire/Generated (or the folder given as $1) with Debian's
# protoc and protoc-gen-swift 1.39.0 built from the package mirror (once, into .build-protoc-gen-swift/).
# Also records the SHA-256 of Proto/ so CI can prove the committed code was generated from these files.
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.39.0
out=${1:-Sources/PBXWire/Generated}
command -v protoc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler; }
plugin_dir=${PROTOC_GEN_SWIFT_DIR:-.build-protoc-gen-swift}
plugin="$plugin_dir/.build/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
    rm -rf "$plugin_dir"
    git clone --quiet --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$plugin_dir"
    (cd "$plugin_dir" && swift build -c release --product protoc-gen-swift)
fi
mkdir -p "$out"
rm -f "$out"/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=PathToUnderscores \
    --swift_out="$out" -I Proto $(find Proto -name '*.proto' | LC_ALL=C sort)
./scripts/proto-digest.sh > "$out/proto.sha256"
echo "generated into $out"
