#!/bin/sh
# tests/fuzz/run.sh — run every libFuzzer target of a build for a bounded time.
#
# usage: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]
#
# For each executable BUILD_DIR/fuzz_NAME: copies tests/fuzz/corpus/NAME/ into
# a scratch directory (the checked-in seeds are never modified), and runs the
# target on it with -max_total_time=SECONDS (default 20) -rss_limit_mb=2048,
# plus tests/fuzz/NAME.dict when present. Prints one line per target. A
# failing target's crash inputs are kept in BUILD_DIR/fuzz-artifacts/NAME/
# and the end of its log goes to stderr. Exits 0 when every target passed,
# 1 when any failed or none was found, 2 on bad usage. POSIX sh.
set -u

usage() {
    echo "usage: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
build=$1
secs=${2:-20}
case $secs in
    '' | *[!0-9]*) usage ;;
esac
[ -d "$build" ] || { echo "run.sh: no build directory '$build'" >&2; exit 2; }

count() {
    find "$1" -type f | wc -l | tr -d ' '
}

here=$(cd "$(dirname "$0")" && pwd) || exit 2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cidrscope-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' HUP INT TERM

found=0
failed=0
for exe in "$build"/fuzz_*; do
    if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
        continue
    fi
    target=${exe##*/}
    name=${target#fuzz_}
    found=$((found + 1))

    work=$scratch/$name
    mkdir -p "$work/corpus" "$work/artifacts"
    seeds=0
    if [ -d "$here/corpus/$name" ]; then
        cp -R "$here/corpus/$name/." "$work/corpus/"
        seeds=$(count "$work/corpus")
    fi
    dict=
    [ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict

    # A hung input fails the run instead of outliving it (-timeout).
    # shellcheck disable=SC2086
    "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 \
        -artifact_prefix="$work/artifacts/" $dict "$work/corpus" \
        >"$work/log" 2>&1
    rc=$?

    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n 1)
    after=$(count "$work/corpus")
    if [ "$rc" -eq 0 ]; then
        echo "ok   $target: ${runs:-?} runs in ${secs}s, corpus $seeds -> $after inputs"
    else
        failed=$((failed + 1))
        keep=$build/fuzz-artifacts/$name
        mkdir -p "$keep"
        cp -R "$work/artifacts/." "$keep/" 2>/dev/null
        cp "$work/log" "$keep/log.txt"
        echo "FAIL $target: exit $rc; crash inputs and log in $keep/"
        tail -n 40 "$work/log" >&2
    fi
done

if [ "$found" -eq 0 ]; then
    echo "run.sh: no fuzz_* executables in '$build' (configure with -DCS_FUZZ=ON, CC=clang)" >&2
    exit 1
fi
[ "$failed" -eq 0 ]
