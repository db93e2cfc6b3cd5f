#!/usr/bin/env bash
# Structural rules the compiler does not check.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# The pure domain imports no I/O.
if grep -rnE '^\s*(public |internal |@preconcurrency )?import (NIO|GRDB|Hummingbird|SQLite|Foundation|Logging)' Sources/BillingCore; then
    echo "BillingCore must stay pure (no NIO, SQLite, HTTP, Foundation, logging)"; status=1
fi
# Lower layers never import higher ones.
if grep -rnE '^\s*(public )?import (Ledger|tollgate)' Sources/Metering; then
    echo "Metering must not import Ledger or the executable"; status=1
fi
if grep -rnE '^\s*(public )?import (Metering|PBXServer|Administration|tollgate)' Sources/Ledger; then
    echo "Ledger must not import the engine or anything above it (the engine is put on the ledger in tollgate)"; status=1
fi
if grep -rnE '^\s*(public )?import (Metering|Ledger|PBXWire|PBXServer|NIO|GRDB)' Sources/Journal Sources/AsyncBatching; then
    echo "Journal and AsyncBatching sit below the engine and the ledger"; status=1
fi
# Money is never floating point.
if grep -rnE '\b(Double|Float)\b' Sources/BillingCore Sources/Ledger Sources/Metering --include='*.swift' | grep -v 'TimeInterval' | grep -v 'TickStats.swift'; then
    echo "floating point in the billing code (above)"; status=1
fi
# NIO's socketOption() is SOL_SOCKET: socketOption(.tcp_nodelay) sets SO_DEBUG (same number), which only root may
# set, so serve ran as root and died on the first PBX connection as its own user. TCP options are tcpOption().
if grep -rnE 'socketOption\(\.tcp_' Sources Tests LoadTests/Sources Fuzz --include='*.swift'; then
    echo "socketOption(.tcp_…) sets a SOL_SOCKET option: use tcpOption(.tcp_…)"; status=1
fi
# Tests never wait on the real clock.
if grep -rnE 'Task\.sleep|usleep\(|Thread\.sleep|[^a-zA-Z.]sleep\([0-9]' Tests; then
    echo "a test sleeps on the real clock: use ManualClock"; status=1
fi
exit $status
