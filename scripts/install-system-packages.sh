#!/usr/bin/env bash
# Installs the Debian packages Tollgate builds against, when they are missing.
set -euo pipefail
needed=()
# With --tests, also what only the tests use: LibreOffice opens the XLSX exports, as billing managers do; Chromium
# and its driver run the console's browser suite; Kamailio (with its JSON, evapi and cnxcc modules), sipp and
# jansson build and exercise the Kamailio agent with real SIP calls; dpkg-dev, fakeroot, lintian, debootstrap,
# systemd (systemd-analyze), curl and man-db build, check and install the Debian packages; prometheus brings
# promtool for the metrics and alert rules.
packages=(libsqlite3-dev protobuf-c-compiler libprotobuf-c-dev libssl-dev make gcc pkg-config)
[ "${1:-}" = "--tests" ] && packages+=(libreoffice-calc-nogui chromium chromium-driver libjansson-dev kamailio
    kamailio-extra-modules kamailio-json-modules kamailio-cnxcc-modules sip-tester dpkg-dev fakeroot lintian
    debootstrap systemd curl man-db prometheus)
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || needed+=("$package")
done
if [ "${#needed[@]}" -gt 0 ]; then
    echo "installing: ${needed[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}"
fi
command -v swift >/dev/null || { echo "swift 6.1 or later must be on PATH (e.g. /opt/swift/usr/bin)"; exit 1; }
