#!/usr/bin/env bash
# Installs the Debian packages a real Ceph RGW needs for `make test-ceph` (tests/servers/ceph.py).
# Idempotent: does nothing when they are already installed. Where it cannot install (no apt-get,
# not root) it says so on one line and exits 0, so the Ceph tests skip with ceph_unavailable()'s
# reason instead of failing the run.
set -euo pipefail

packages=(ceph-common ceph-mon ceph-osd radosgw)
binaries=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool)

have_all() {
    local binary
    for binary in "${binaries[@]}"; do
        command -v "$binary" >/dev/null 2>&1 || return 1
    done
}

if have_all; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ceph.sh: apt-get not found; not installing Ceph (the Ceph tests will skip)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-ceph.sh: not root; not installing Ceph (the Ceph tests will skip)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    apt-get install -y -q --no-install-recommends "${packages[@]}"
}

# The package lists may be missing (a fresh machine) or stale (a candidate that is gone from the
# mirror): refresh them once, only then. A failing extra source must not stop the refresh from
# serving Debian's own lists, so its exit status is not fatal.
if ! apt-cache show radosgw >/dev/null 2>&1 || ! install; then
    apt-get update -q || echo "install-ceph.sh: apt-get update reported errors; trying the install anyway"
    install
fi
have_all
