#!/bin/sh
# bench/audit_bench.sh — the audit's CPU time, a80251a against this tree in
# one run (bench/results-audit.md): builds bench/audit_bench.c against the
# static library of each build directory and runs both on the same sources.
#
# usage: sh bench/audit_bench.sh OLD_TREE OLD_BUILD NEW_BUILD REPEAT SOURCE...
#   e.g. sh bench/audit_bench.sh /work/base-a80251a /work/base-a80251a/build-bench \
#            build 3 estate.csv estate-peering.csv
# The estates: `cidrscope gen --format csv` (the default shape) and
# `cidrscope gen --shape org --format csv` (the organisation of issue 14).
set -eu
old_tree=$1 old_build=$2 new_build=$3 repeat=$4
shift 4
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_audit_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
libs="-lxxhash -lyajl -lpthread -lrt -lm"
# shellcheck disable=SC2086
cc -O2 -std=c11 -I"$old_tree/include" "$here/bench/audit_bench.c" \
    "$old_build/libcidrscope.a" $libs -o "$tmp/old"
# shellcheck disable=SC2086
cc -O2 -std=c11 -I"$here/include" "$here/bench/audit_bench.c" \
    "$new_build/libcidrscope.a" $libs -o "$tmp/new"
echo "== a80251a"
"$tmp/old" "$repeat" "$@"
echo "== this tree"
"$tmp/new" "$repeat" "$@"
