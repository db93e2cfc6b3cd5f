#!/usr/bin/env bash
# The shared object exports the tg_* API and nothing else (the protobuf-c code inside it stays hidden, so that a
# PBX loading another copy of the same messages cannot collide with ours), and names its SONAME.
set -euo pipefail
library=${1:?usage: check-exports.sh PATH/TO/libtollgate-client.so.1}
exported=$(nm -D --defined-only "$library" | awk '{print $3}' | sort)
others=$(grep -v '^tg_' <<<"$exported" || true)
if [ -n "$others" ]; then
    echo "exported beyond the tg_* API:"; echo "$others"; exit 1
fi
count=$(grep -c '^tg_' <<<"$exported")
api=$(grep -oE '\btg_[a-z_]+\(' "$(dirname "$0")/../tollgate_client.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$api") <(echo "$exported"))
if [ -n "$missing" ]; then
    echo "declared in tollgate_client.h but not exported:"; echo "$missing"; exit 1
fi
soname=$(readelf -d "$library" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libtollgate-client.so.1" ] || { echo "SONAME is '$soname'"; exit 1; }
echo "exports: $count tg_* symbols and nothing else; SONAME $soname"
