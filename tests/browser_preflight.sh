#!/usr/bin/env bash
# Before the suite: the browser tests need Debian's Chromium and its driver, and the PDF tests
# render pages with poppler's pdftoppm. Installed here when we run as root (a fresh CI box),
# otherwise one line saying what to install; never skipped silently.
set -euo pipefail

browser="${CHROMIUM_BINARY:-/usr/bin/chromium}"
have() { [ -x "$browser" ] && command -v chromedriver >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; }
have && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing chromium, chromium-driver and poppler-utils for the browser and PDF tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver poppler-utils >/dev/null
  have && exit 0
  echo "make test: chromium/chromedriver/pdftoppm still missing after apt-get install; see the output above" >&2
  exit 1
fi

echo "make test: the browser and PDF tests need Chromium and poppler: run 'sudo apt-get install chromium chromium-driver poppler-utils' (Debian/Ubuntu), then make test again" >&2
exit 1
