#!/bin/sh
# Installs the peers that `make bench-peers` compares cidrscope against, from
# Debian packages only, on demand. Never needed by the build or the tests.
#
#   python3-radix                        py-radix (C radix tree, Python API)
#   golang-go                            Go toolchain, to build peer_cidranger.go
#   golang-github-yl2chen-cidranger-dev  cidranger's source, under
#                                        /usr/share/gocode (built offline with
#                                        GO111MODULE=off GOPATH=/usr/share/gocode)
#   postgresql                           PostgreSQL 15 (initdb, pg_ctl, psql)
#
# Idempotent: when every package is installed it does nothing (no apt-get
# update, no network); otherwise it runs `apt-get update` once and installs
# only what is missing.
set -eu

PKGS="python3-radix golang-go golang-github-yl2chen-cidranger-dev postgresql"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-peers: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-peers: need root to install:$missing" >&2
        exit 3
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
