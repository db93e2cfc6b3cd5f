#!/usr/bin/env bash
# Prints one SHA-256 over every .proto file under Proto/ (paths and contents), in a stable order.
set -euo pipefail
cd "$(dirname "$0")/../Proto"
find . -name '*.proto' | LC_ALL=C sort | while read -r file; do
    printf '%s\n' "$file"
    cat "$file"
done | sha256sum | cut -d' ' -f1
