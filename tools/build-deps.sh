#!/usr/bin/env bash
# Installs what building the functions needs, on the machine `sam build`
# runs make on: Debian (this project's machines) through tools/deps.sh, or
# Amazon Linux 2023 (SAM's build image, sam build --use-container) with dnf.
set -euo pipefail
if command -v dpkg-query >/dev/null; then
    exec bash "$(dirname "$0")/deps.sh" build-essential pkg-config libcurl4-openssl-dev \
        libyajl-dev uuid-dev libsqlite3-dev libssl-dev binutils
fi
if command -v dnf >/dev/null; then
    missing=()
    for pkg in gcc make libcurl-devel yajl-devel libuuid-devel sqlite-devel openssl-devel \
        binutils; do
        rpm -q "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] || dnf install -y -q "${missing[@]}"
    exit 0
fi
echo "build-deps: neither dpkg nor dnf here; install a C compiler and the libcurl, yajl," \
    "libuuid, sqlite3 and openssl headers" >&2
exit 1
