#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the report's browser test (tests/integration/test_report.py),
# once: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are already there.  Needs root and the
# Debian mirror (no other network); the test drives these binaries and never lets a tool download a browser.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser.sh: chromium/chromium-driver are missing and only root can install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -q -y "$@"; }
# A stale package list makes the install fail (404 on superseded versions): refresh once and retry.
apt_get install --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || {
    apt_get update >/dev/null
    apt_get install --no-install-recommends chromium chromium-driver >/dev/null
}
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
