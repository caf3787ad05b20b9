#!/usr/bin/env bash
# Install the tools the benchmark compares Storyline with: rss2email 3.14 and feedparser from
# PyPI, newsboat and curl from Debian. Idempotent; run as root (or with sudo) on Debian/Ubuntu.
set -euo pipefail

apt_get() {
    if [ "$(id -u)" -eq 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi
}

if ! command -v newsboat >/dev/null || ! command -v curl >/dev/null; then
    apt_get update
    DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends newsboat curl
fi

python3 -m pip install --quiet 'rss2email==3.14' 'feedparser==6.0.14'

echo "installed:"
newsboat --version | head -n 1
curl --version | head -n 1
python3 -c 'import importlib.metadata as m; print("rss2email", m.version("rss2email")); print("feedparser", m.version("feedparser"))'
