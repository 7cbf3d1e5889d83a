#!/usr/bin/env bash
# unpack-debs.sh DEST PACKAGE... — unpacks Debian packages into DEST (apt-get download + dpkg -x:
# no root, no service, nothing installed system-wide), for the tests that use real programs as
# oracles: zsh and fish (completion), promtool and a Pushgateway (metrics). Idempotent: DEST
# holding a stamp naming the same packages is left as it is. Where it cannot (no apt-get, no
# network) it says so on one line and exits 0: the tests that need these programs then skip,
# saying they are not there — decided before they run, never after a failure.
set -euo pipefail

root="$1"
shift
packages=("$@")
stamp="$root/.unpacked"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${packages[*]}" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    echo "unpack-debs.sh: apt-get or dpkg not found; tests needing ${packages[*]} will skip"
    exit 0
fi
mkdir -p "$(dirname "$root")"
work="$(mktemp -d "$(dirname "$root")/.debs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt-get download needs the package lists; a fresh machine may have none.
if ! (cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1); then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q >/dev/null 2>&1 || true
    fi
    if ! (cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1); then
        echo "unpack-debs.sh: could not download ${packages[*]}; tests needing them will skip"
        exit 0
    fi
fi
mkdir -p "$work/root"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$work/root"
done
echo "${packages[*]}" > "$work/root/.unpacked"
rm -rf "$root"
mv "$work/root" "$root"
echo "unpack-debs.sh: ${packages[*]} unpacked into $root"
