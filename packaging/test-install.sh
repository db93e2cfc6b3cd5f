#!/usr/bin/env bash
# Installs the Debian packages into a fresh Debian 12 root (debootstrap, minbase) and runs the installed service
# there as systemd would run tollgate.service: its own user, /var/lib/tollgate, the PBX secret as a credential, the
# shipped /etc/tollgate/tollgate.yaml, NOTIFY_SOCKET and the watchdog. Checks READY=1 and WATCHDOG=1, /readyz, the
# console's assets, a PBX connecting with the generated secret through the installed client library (built with
# the -dev package's pkg-config file), the backup timer's command, a refused restore, a clean SIGTERM, the units
# (systemd-analyze verify against the installed binary), the man page and completions, and a purge that keeps the
# ledger. Needs root (debootstrap, chroot).
# Usage: packaging/test-install.sh [DIR_WITH_DEBS]   (default dist/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
debs="$(realpath "${1:-$here/../dist}")"
[ "$(id -u)" -eq 0 ] || { echo "test-install: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "test-install: debootstrap not found" >&2; exit 1; }
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d /tmp/tollgate-root.XXXXXX)"
chmod 0755 "$root"  # it is / for the service's own user
serve_pid=""
listener_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill -KILL "$serve_pid" 2>/dev/null || true
    [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null || true
    umount "$root/proc" 2>/dev/null || true
    [ -n "${KEEP_ROOT:-}" ] && echo "test-install: root kept at $root" || rm -rf "$root"
}
trap cleanup EXIT
fail() { echo "test-install: FAILED: $*" >&2; [ -f "$root/serve.log" ] && tail -20 "$root/serve.log" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "-- a fresh Debian 12 root"
debootstrap --variant=minbase --include=adduser,libsqlite3-0,libprotobuf-c-dev,libssl-dev bookworm "$root" "$mirror" \
    > "$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log"; fail "debootstrap"; }
rm -f "$root.debootstrap.log"
mount -t proc proc "$root/proc"
mkdir -p "$root/tmp/debs"
cp "$debs"/tollgate_*_amd64.deb "$debs"/libtollgate-client1_*_amd64.deb "$debs"/libtollgate-client-dev_*_amd64.deb \
    "$root/tmp/debs/"

echo "-- dpkg -i"
chroot "$root" sh -c 'dpkg -i /tmp/debs/*.deb' || fail "dpkg -i"
chroot "$root" getent passwd tollgate | grep -q ':/var/lib/tollgate:/usr/sbin/nologin$' \
    || fail "no system user tollgate with /usr/sbin/nologin"
[ "$(stat -c '%a %u' "$root/etc/tollgate/pbx-secret")" = "600 0" ] || fail "pbx-secret is not 0600 root"
grep -Eq '^[0-9a-f]{64}$' "$root/etc/tollgate/pbx-secret" || fail "pbx-secret is not 32 random bytes in hex"
version="$(chroot "$root" /usr/bin/tollgate --version)"
echo "installed tollgate $version"
zcat "$root/usr/share/man/man1/tollgate.1.gz" | man -l - 2>/dev/null | grep -q "tollgate — Real-time call billing" \
    || fail "man page"
grep -q "_tollgate" "$root/usr/share/bash-completion/completions/tollgate" || fail "bash completion"
grep -q "#compdef tollgate" "$root/usr/share/zsh/vendor-completions/_tollgate" || fail "zsh completion"
"$here/check-units.sh" "$root/usr/lib/tollgate/tollgate" >/dev/null || fail "systemd-analyze verify"

echo "-- tollgate.service as systemd runs it"
unit="$root/lib/systemd/system/tollgate.service"
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
secret_env="$(sed -n 's/^Environment=TOLLGATE_PBX_SECRET_FILE=%d/TOLLGATE_PBX_SECRET_FILE=\/run\/credentials\/tollgate.service/p' "$unit")"
[ -n "$secret_env" ] || fail "the unit hands over no PBX secret credential"
# Owners by number: the names in the root are not the host's.
uid="$(chroot "$root" id -u tollgate)"
[ "$(stat -c '%a %u' "$root/var/lib/tollgate")" = "750 $uid" ] || fail "/var/lib/tollgate is not 0750 tollgate"
install -d -m 0755 "$root/run/credentials/tollgate.service"
install -m 0400 -o "$uid" "$root/etc/tollgate/pbx-secret" \
    "$root/run/credentials/tollgate.service/pbx-secret"
python3 "$here/notify-listener.py" "$root/run/notify.sock" --seconds 120 > "$root/notify.log" 2>&1 &
listener_pid=$!
for _ in $(seq 50); do [ -S "$root/run/notify.sock" ] && break; sleep 0.1; done
pbx_port="$(free_port)"
http_port="$(free_port)"
# The environment beats the shipped file: the test's ports instead of 7070 and 8080, which may be in use here.
chroot --userspec=tollgate:tollgate "$root" env -i PATH=/usr/bin:/bin "$secret_env" NOTIFY_SOCKET=/run/notify.sock \
    WATCHDOG_USEC=1000000 TOLLGATE_LOG_LEVEL="${TOLLGATE_LOG_LEVEL:-info}" TOLLGATE_PBX_LISTEN="127.0.0.1:$pbx_port" TOLLGATE_HTTP_LISTEN="127.0.0.1:$http_port" \
    $exec_start > "$root/serve.log" 2>&1 &
serve_pid=$!
ready=""
for _ in $(seq 600); do
    if grep -q "READY=1" "$root/notify.log"; then ready=1; break; fi
    kill -0 "$serve_pid" 2>/dev/null || fail "serve ended before READY=1"
    sleep 0.1
done
[ -n "$ready" ] || fail "no READY=1 within 60 s"
curl -fsS "http://127.0.0.1:$http_port/readyz" | grep -q '"ready":true' || fail "/readyz is not ready"
[ "$(stat -c '%u' "$root/var/lib/tollgate/tollgate.sqlite")" = "$uid" ] || fail "the ledger is not the service user's"
css="$(curl -fsS "http://127.0.0.1:$http_port/login" | grep -o 'href="/static/[^"]*\.css[^"]*"' | head -1 | cut -d'"' -f2)"
[ -n "$css" ] && curl -fsS -o /dev/null "http://127.0.0.1:$http_port$css" || fail "the console's assets are not served"

echo "-- a PBX with the generated secret, through the installed client library"
client="$root/tmp/client"
mkdir -p "$client"
dpkg-deb -x "$debs"/libtollgate-client1_*_amd64.deb "$client"
dpkg-deb -x "$debs"/libtollgate-client-dev_*_amd64.deb "$client"
pcdir="$(dirname "$(find "$client" -name tollgate-client.pc)")"
flags="$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$client/usr" --cflags --libs tollgate-client)"
libdir="$(dirname "$(find "$client" -name 'libtollgate-client.so.1')")"
cc -Wall -Werror "$here/../clients/c/tests/installed.c" -o "$client/installed" $flags -Wl,-rpath,"$libdir" \
    || fail "building against the -dev package"
TOLLGATE_PORT="$pbx_port" TOLLGATE_SECRET="$(cat "$root/etc/tollgate/pbx-secret")" "$client/installed" \
    || fail "a PBX with the generated secret"

echo "-- tollgate-backup.service's command, and a restore refused while serve runs"
backup_start="$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/tollgate-backup.service")"
chroot --userspec=tollgate:tollgate "$root" env -i PATH=/usr/bin:/bin $backup_start || fail "the backup service's command"
backup="$(ls "$root/var/lib/tollgate/backups/")"
[ -n "$backup" ] || fail "no backup written"
if chroot --userspec=tollgate:tollgate "$root" tollgate restore --data-dir /var/lib/tollgate \
    "/var/lib/tollgate/backups/$backup" 2> "$root/restore.err"; then
    fail "a restore went ahead while serve ran"
fi
grep -q "in use by another tollgate process" "$root/restore.err" || fail "restore's refusal: $(cat "$root/restore.err")"

echo "-- SIGTERM"
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve did not stop cleanly"
serve_pid=""
wait "$listener_pid" || { cat "$root/notify.log"; fail "the notifications"; }
listener_pid=""
grep -q "STOPPING=1" "$root/notify.log" || fail "no STOPPING=1"
grep -q "<6>" "$root/serve.log" && fail "syslog priorities without journald"
chroot --userspec=tollgate:tollgate "$root" tollgate verify --data-dir /var/lib/tollgate >/dev/null || fail "verify"

echo "-- dpkg --purge keeps the ledger"
chroot "$root" dpkg --purge tollgate >/dev/null || fail "dpkg --purge"
[ -f "$root/var/lib/tollgate/tollgate.sqlite" ] || fail "the purge removed the ledger"
[ ! -e "$root/etc/tollgate" ] || fail "the purge left /etc/tollgate"
echo "test-install: OK ($version installed, served, backed up, stopped and purged in a fresh Debian 12 root)"
