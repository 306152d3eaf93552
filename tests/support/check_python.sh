#!/bin/sh
# tests/support/check_python.sh BUILD_DIR SOURCE_DIR — the Python binding as a
# user gets it: `pip install ./python` offline (Debian's python3-pip and
# python3-setuptools; --no-build-isolation --no-index, nothing downloaded)
# into a temporary target, then its pytest suite (python/tests) run against
# that installed copy over the build's libcidrscope.so.
set -eu
BUILD=$1
src=$2
. "$src/tests/cli/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# build from a copy: setuptools writes build/ and *.egg-info next to the sources
cp -r "$src/python" "$tmp/python"
rm -rf "$tmp/python/build" "$tmp/python"/*.egg-info
"$PY" -m pip install --quiet --no-build-isolation --no-index --no-deps \
    --target "$tmp/site" "$tmp/python" >"$tmp/pip.log" 2>&1 ||
    { cat "$tmp/pip.log" >&2; die "pip install ./python (offline) failed"; }
[ -f "$tmp/site/cidrscope/__init__.py" ] || die "pip installed no cidrscope package"
cd "$tmp"
PYTHONPATH="$tmp/site" CIDRSCOPE_LIBRARY="$BUILD/libcidrscope.so" \
    CS_SOURCE_DIR="$src" CS_CLI="$BUILD/cidrscope" \
    CS_REAL_PREFIXES="$BUILD/datasets/prefixes.csv" \
    "$PY" -m pytest -q -p no:cacheprovider "$src/python/tests" ||
    die "python/tests failed"
PYTHONPATH="$tmp/site" CIDRSCOPE_LIBRARY="$BUILD/libcidrscope.so" \
    "$PY" -c 'import cidrscope, sys; sys.exit(not cidrscope.__file__.startswith(sys.argv[1]))' "$tmp/site" ||
    die "the tests did not import the installed copy"
finish check_python
