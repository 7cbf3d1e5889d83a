#!/usr/bin/env bash
# Unpacks zsh and fish from Debian's packages into .venv/shells (apt-get download + dpkg -x: no
# root, no service, nothing installed system-wide), for the completion tests that press Tab in
# them (tests/integration/test_completion.py). Idempotent. Where it cannot (no apt-get, no
# network) it says so on one line and exits 0: those tests then skip, saying the shell is not
# there — decided before they run, never after a failure.
set -euo pipefail

root="${1:-.venv/shells}"
packages=(zsh zsh-common fish fish-common libpcre2-32-0)

if [ -x "$root/bin/zsh" ] && [ -x "$root/usr/bin/fish" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    echo "install-shells.sh: apt-get or dpkg not found; zsh and fish completion tests will skip"
    exit 0
fi
work="$(mktemp -d "${root%/*}/.shells.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt-get download needs the package lists; a fresh machine may have none.
if ! (cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1); then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q >/dev/null 2>&1 || true
    fi
    if ! (cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1); then
        echo "install-shells.sh: could not download ${packages[*]}; zsh and fish completion tests will skip"
        exit 0
    fi
fi
mkdir -p "$work/root"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$work/root"
done
rm -rf "$root"
mv "$work/root" "$root"
echo "install-shells.sh: zsh and fish unpacked into $root"
