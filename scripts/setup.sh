#!/usr/bin/env bash
# make setup: install every Debian package the workbench needs and fetch the
# pinned QEMU source.  Idempotent; takes well under a second when nothing is
# missing.  Package archive URIs come from this machine's apt configuration.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
    build-essential ninja-build pkg-config flex bison python3 xz-utils
    libglib2.0-dev libpixman-1-dev libfdt-dev libzstd-dev zstd
    libjson-glib-dev libxxhash-dev xxhash libelf-dev
    gdb-multiarch gcc-sparc64-linux-gnu lib32gcc-12-dev-sparc64-cross
    clang libclang-rt-14-dev
)
BACKPORTS=(meson python3-pycotap)
MESON_MIN=1.5

have_pkg() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

meson_ok() {
    local v
    v=$(dpkg-query -W -f='${Version}' meson 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge "$MESON_MIN"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${PACKAGES[@]}"; do have_pkg "$p" || missing+=("$p"); done
need_bpo=0
meson_ok && have_pkg python3-pycotap || need_bpo=1

if [ ${#missing[@]} -gt 0 ] || [ $need_bpo = 1 ]; then
    command -v apt-get >/dev/null || {
        echo "setup: apt-get not found; install by hand: ${missing[*]} ${BACKPORTS[*]}" >&2
        exit 1
    }
    "$here/scripts/apt-sources-add.sh"
    echo "setup: installing: ${missing[*]}${need_bpo:+ }$([ $need_bpo = 1 ] && echo "${BACKPORTS[*]} (backports)")"
    as_root apt-get update -q >/dev/null || {
        echo "setup: apt-get update failed: the package archive is not reachable" >&2
        exit 1
    }
    if [ ${#missing[@]} -gt 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null || {
            for p in "${missing[@]}"; do
                apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' ||
                    echo "setup: package '$p' cannot be had from the configured archive" >&2
            done
            echo "setup: apt-get install failed for: ${missing[*]}" >&2
            exit 1
        }
    fi
    if [ $need_bpo = 1 ]; then
        bpo=$(. /etc/os-release && echo "${VERSION_CODENAME}-backports")
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t "$bpo" "${BACKPORTS[@]}" >/dev/null || {
            echo "setup: could not install ${BACKPORTS[*]} from $bpo (meson >= $MESON_MIN needed)" >&2
            exit 1
        }
        meson_ok || { echo "setup: meson >= $MESON_MIN still missing after install" >&2; exit 1; }
    fi
fi

exec "$here/qemu/fetch.sh"
