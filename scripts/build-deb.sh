#!/usr/bin/env bash
# Builds the Debian packages: tollgate_VERSION_amd64.deb (the engine with the Swift runtime linked in, the console's
# assets, the systemd units, the commented config file, a man page and shell completions generated from the
# command's own help), and libtollgate-client1 / libtollgate-client-dev from clients/c. Checks them with lintian
# when it is installed (errors fail the build).
#
# Usage: scripts/build-deb.sh [--binary PATH] [--out DIR]
#   --binary PATH  package this tollgate binary (built with --static-swift-stdlib) instead of building a release
#                  one; its *.resources folders must sit beside it, as SwiftPM leaves them.
#   --out DIR      where the .deb files go (default dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
binary=""
out="dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "build-deb: unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps fakeroot gzip strip; do
    command -v "$tool" >/dev/null || { echo "build-deb: $tool not found (apt-get install dpkg-dev fakeroot binutils)" >&2; exit 1; }
done
if [ -z "$binary" ]; then
    swift build -c release --static-swift-stdlib --product tollgate
    binary=".build/release/tollgate"
fi
binary="$(realpath "$binary")"
bindir="$(dirname "$binary")"
version="$("$binary" --version)"
libversion="$(sed -n 's/^VERSION := //p' clients/c/Makefile)"
if ldd "$binary" | grep -q "libswiftCore"; then
    echo "build-deb: $binary links the Swift runtime dynamically; build it with --static-swift-stdlib" >&2
    exit 1
fi
mkdir -p "$out"
out="$(realpath "$out")"
# Dates inside the packages are the last commit's, so the same commit builds the same packages.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Shared-library dependencies as Debian names them (dpkg-shlibdeps wants a debian/control beside it).
depends() {
    local dir="$work/shlibdeps"
    mkdir -p "$dir/debian"
    printf 'Source: tollgate\n\nPackage: tollgate\nArchitecture: any\n' > "$dir/debian/control"
    (cd "$dir" && dpkg-shlibdeps -O "$@" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
}

# Installed-Size, md5sums and permissions, then the archive; files owned by root.
finish() {
    local stage="$1" name="$2"
    (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
    local size
    size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
    sed -i "s/^Version: .*/&\nInstalled-Size: $size/" "$stage/DEBIAN/control"
    find "$stage" -type d -exec chmod 0755 {} +
    fakeroot dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/$name" >/dev/null
    echo "build-deb: $out/$name ($(du -h "$out/$name" | cut -f1))"
}

changelog() {
    local package="$1" version="$2" dest="$3"
    mkdir -p "$dest"
    printf '%s (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- Tollgate developers <dev@tollgate.invalid>  %s\n' \
        "$package" "$version" "$version" "$(date -R -d @"$epoch")" \
        | gzip -9n > "$dest/changelog.gz"
    install -m 0644 packaging/debian/copyright "$dest/copyright"
}

# --- tollgate ---
stage="$work/tollgate"
install -d "$stage/DEBIAN" "$stage/usr/lib/tollgate" "$stage/usr/bin" "$stage/etc/tollgate" \
    "$stage/lib/systemd/system" "$stage/usr/share/man/man1" "$stage/usr/share/bash-completion/completions" \
    "$stage/usr/share/zsh/vendor-completions"
install -m 0755 "$binary" "$stage/usr/lib/tollgate/tollgate"
strip --strip-unneeded "$stage/usr/lib/tollgate/tollgate"
# SwiftPM's resource bundles are found beside the executable's real path (/proc/self/exe), hence the symlink.
for bundle in "$bindir"/*.resources; do
    cp -r "$bundle" "$stage/usr/lib/tollgate/"
done
find "$stage/usr/lib/tollgate" -type f -name '*.resources' -prune -o -type f ! -path '*/tollgate' -exec chmod 0644 {} +
ln -s ../lib/tollgate/tollgate "$stage/usr/bin/tollgate"
install -m 0644 packaging/tollgate.yaml "$stage/etc/tollgate/tollgate.yaml"
install -m 0644 packaging/systemd/*.service packaging/systemd/*.timer "$stage/lib/systemd/system/"
# For the operator's Prometheus and Grafana: the alert rules and the dashboard.
install -d "$stage/usr/share/tollgate/monitoring"
install -m 0644 packaging/monitoring/tollgate-alerts.yml packaging/monitoring/tollgate-dashboard.json \
    "$stage/usr/share/tollgate/monitoring/"
# A completion file is sourced, not run: no #! line.
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' > "$stage/usr/share/bash-completion/completions/tollgate"
"$binary" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_tollgate"
chmod 0644 "$stage/usr/share/bash-completion/completions/tollgate" "$stage/usr/share/zsh/vendor-completions/_tollgate"
# ArgumentParser's own generate-manual tool, which the plugin's help builds; it reads the binary's help dump.
swift package plugin generate-manual --help >/dev/null 2>&1
manual_tool="$(find .build/ -path '*/debug/generate-manual-tool' -type f | head -1)"
[ -x "$manual_tool" ] || { echo "build-deb: ArgumentParser's generate-manual tool did not build" >&2; exit 1; }
mkdir -p "$work/man"
"$manual_tool" "$binary" --date "$(date -u -d @"$epoch" +%F)" --authors "Tollgate developers<dev@tollgate.invalid>" \
    -o "$work/man"
gzip -9n < "$work/man/tollgate.1" > "$stage/usr/share/man/man1/tollgate.1.gz"
changelog tollgate "$version" "$stage/usr/share/doc/tollgate"
gzip -9nc README.md > "$stage/usr/share/doc/tollgate/README.md.gz"
install -D -m 0644 packaging/debian/tollgate.lintian-overrides "$stage/usr/share/lintian/overrides/tollgate"
echo /etc/tollgate/tollgate.yaml > "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/tollgate.$script" "$stage/DEBIAN/$script"; done
sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/$(depends "$stage/usr/lib/tollgate/tollgate")/" \
    packaging/debian/tollgate.control > "$stage/DEBIAN/control"
finish "$stage" "tollgate_${version}_amd64.deb"

# --- libtollgate-client1 and libtollgate-client-dev ---
make --quiet -C clients/c build/libtollgate-client.so.1 build/libtollgate-client.a >/dev/null
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
installed="$work/client-install"
make --quiet -C clients/c install PREFIX=/usr LIBDIR="/usr/lib/$multiarch" DESTDIR="$installed" CFLAGS="-O2 -g" >/dev/null
runtime="$work/libtollgate-client1"
dev="$work/libtollgate-client-dev"
install -d "$runtime/DEBIAN" "$runtime/usr/lib/$multiarch" "$dev/DEBIAN" "$dev/usr/lib/$multiarch"
cp -a "$installed/usr/lib/$multiarch"/libtollgate-client.so.* "$runtime/usr/lib/$multiarch/"
strip --strip-unneeded "$runtime/usr/lib/$multiarch/libtollgate-client.so.$libversion"
chmod 0644 "$runtime/usr/lib/$multiarch/libtollgate-client.so.$libversion"
printf 'activate-noawait ldconfig\n' > "$runtime/DEBIAN/triggers"
echo "libtollgate-client 1 libtollgate-client1 (>= $libversion)" > "$runtime/DEBIAN/shlibs"
changelog libtollgate-client1 "$libversion" "$runtime/usr/share/doc/libtollgate-client1"
sed -e "s/@VERSION@/$libversion/" -e "s/@DEPENDS@/$(depends "$runtime/usr/lib/$multiarch/libtollgate-client.so.$libversion")/" \
    packaging/debian/libtollgate-client1.control > "$runtime/DEBIAN/control"
finish "$runtime" "libtollgate-client1_${libversion}_amd64.deb"
cp -a "$installed/usr/include" "$dev/usr/"
cp -a "$installed/usr/lib/$multiarch"/{libtollgate-client.so,libtollgate-client.a,pkgconfig} "$dev/usr/lib/$multiarch/"
changelog libtollgate-client-dev "$libversion" "$dev/usr/share/doc/libtollgate-client-dev"
sed -e "s/@VERSION@/$libversion/" packaging/debian/libtollgate-client-dev.control > "$dev/DEBIAN/control"
finish "$dev" "libtollgate-client-dev_${libversion}_amd64.deb"

if command -v lintian >/dev/null; then
    lintian --fail-on error --allow-root \
        "$out/tollgate_${version}_amd64.deb" "$out/libtollgate-client1_${libversion}_amd64.deb" \
        "$out/libtollgate-client-dev_${libversion}_amd64.deb"
    echo "build-deb: lintian found no error"
else
    echo "build-deb: lintian not installed; packages not checked"
fi
