#!/bin/sh
# Install what the allocator tests (tests/alloc.mk) need beyond
# scripts/install-deps.sh: Debian's jemalloc (shared library, static
# archive and headers), tcmalloc (minimal), mimalloc, the Rust crate
# jemalloc-sys as Debian packages it (built offline from
# /usr/share/cargo/registry), CPython 3.11 (libpython3.11-dev to embed it,
# the python3.11 executable, gdb as a real program that embeds it,
# bpftrace as the tests' reference), and cargo when no cargo is on the
# machine.
# Idempotent and quiet: when everything is there it only looks.
set -eu

PKGS="libjemalloc-dev libjemalloc2 libtcmalloc-minimal4 libgoogle-perftools-dev
libmimalloc-dev librust-jemalloc-sys-dev librust-libc-dev libpython3.11-dev python3.11 gdb
bpftrace"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
	missing="$missing cargo"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-alloc-deps: missing packages:$missing" >&2
	echo "install-alloc-deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "install-alloc-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
