#!/bin/sh
# Install the Debian 12 packages heaptrace needs to build, run and test.
# Runs apt-get only when something is missing; needs root for that.
# With arguments, installs those packages instead (e.g. make bench's).
set -eu

PKGS="clang llvm libbpf-dev bpftool libelf-dev libdw-dev libiberty-dev
libcapstone-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler
libcmocka-dev libjson-c-dev libxml2-utils pkg-config make gcc g++ gdb binutils libc6-dbg libclang-rt-14-dev valgrind bpftrace
time clang-format"
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
