#!/bin/sh
# Installs what cidrscope needs to build and test, from Debian packages only.
# Idempotent: when every package is already installed it does nothing at all
# (no apt-get update, no network). Otherwise it runs `apt-get update` once and
# installs only the missing packages. Must run as root (or via sudo) when
# something is missing.
#
# Peers used only for benchmark comparisons (python3-radix, golang, cidranger,
# postgresql) are NOT installed here; bench/peers/install-peers.sh does that.
set -eu

PKGS="cmake make gcc g++ pkg-config libxxhash-dev libjemalloc-dev libcmocka-dev libbenchmark-dev libyajl-dev"
# python3: the CLI tests parse every JSON report back with it.
PKGS="$PKGS python3"
# The Python binding (python/, a ctest entry): cffi in ABI mode over
# libcidrscope.so, pytest to run its suite, jsonschema to check reports against
# docs/schema/, setuptools + pip for the offline `pip install ./python`.
PKGS="$PKGS python3-cffi python3-pytest python3-jsonschema python3-setuptools python3-pip"
# Chromium and its driver are ~300 MB and only the browser tests
# (tests/browser/) use them: install them when asked (CS_WITH_BROWSER=1, which
# .ci/run sets) so `make demo` stays quick on a fresh machine.
if [ "${CS_WITH_BROWSER:-0}" = 1 ]; then
    PKGS="$PKGS chromium chromium-driver python3-selenium"
fi
# clang is needed only for the sanitizer/fuzz configurations; install it when
# asked (CS_WITH_CLANG=1), which .ci/run does.
if [ "${CS_WITH_CLANG:-0}" = 1 ]; then
    PKGS="$PKGS clang libclang-rt-14-dev"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: need root to install:$missing" >&2; exit 3
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
