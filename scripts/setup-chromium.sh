#!/usr/bin/env bash
# The browser of the site's tests (test/site/): Debian's chromium, driven by puppeteer-core.
# Idempotent: does nothing when /usr/bin/chromium runs. Installs it with apt-get otherwise (root).
#   bash scripts/setup-chromium.sh          # install when missing
#   bash scripts/setup-chromium.sh --check  # exit 1 when missing, install nothing
set -euo pipefail
CHROMIUM="${ASGARD_CHROMIUM:-/usr/bin/chromium}"
if "$CHROMIUM" --version >/dev/null 2>&1; then
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "setup-chromium: $CHROMIUM is missing (bash scripts/setup-chromium.sh installs it)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-chromium: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "setup-chromium: installing chromium from Debian (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium >&2
"$CHROMIUM" --version >&2
