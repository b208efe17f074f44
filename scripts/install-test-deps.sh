#!/bin/sh
# Install what tests/formats_it.c needs beyond scripts/install-deps.sh:
# go (`go tool pprof`), Debian's chromium, node and npm, and playwright-core
# in tests/svg/node_modules. Idempotent and quiet; when everything is there
# it only looks (no apt, no npm). Needs root to install Debian packages.
set -eu

cd "$(dirname "$0")/.."

# Debian package providing each command (node and npm may also come from
# elsewhere, e.g. a NodeSource nodejs that bundles npm: only a missing
# command is installed).
need() {
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

missing=""
need go golang-go
need xmllint libxml2-utils
need node nodejs
need npm npm
[ -x /usr/bin/chromium ] || missing="$missing chromium"

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-test-deps: missing packages:$missing" >&2
		echo "install-test-deps: run as root, or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "install-test-deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# playwright-core drives /usr/bin/chromium: it downloads no browser.
if [ ! -f tests/svg/node_modules/playwright-core/package.json ]; then
	echo "install-test-deps: npm install in tests/svg" >&2
	export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
	if [ -f tests/svg/package-lock.json ]; then
		npm ci --prefix tests/svg --no-audit --no-fund --loglevel=error >/dev/null
	else
		npm install --prefix tests/svg --no-audit --no-fund --loglevel=error >/dev/null
	fi
fi
