#!/usr/bin/env bash
# Before the suite: the browser tests need Debian's Chromium and its driver. Installed here when
# we run as root (a fresh CI box), otherwise one line saying what to install; never skipped silently.
set -euo pipefail

browser="${CHROMIUM_BINARY:-/usr/bin/chromium}"
have() { [ -x "$browser" ] && command -v chromedriver >/dev/null 2>&1; }
have && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing chromium and chromium-driver for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  have && exit 0
  echo "make test: chromium/chromedriver still missing after apt-get install; see the output above" >&2
  exit 1
fi

echo "make test: the browser tests need Chromium: run 'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu), then make test again" >&2
exit 1
