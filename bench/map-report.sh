#!/bin/sh
# bench/map-report.sh — the HTML report at scale (issue 15): generation time
# and size of `audit --format html` and `map` for generated estates of 10k,
# 100k and 1M VPCs (their block counts printed), then the time Chromium
# takes to open each (bench/map_load.py). Results: bench/results-map.md.
#
# usage: sh bench/map-report.sh BUILD_DIR [WORK_DIR]
set -eu
build=$1
work=${2:-${TMPDIR:-/tmp}/cidrscope-map-bench}
cli=$build/cidrscope
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in 10k 100k 1m; do
    case $n in 10k) a=50 ;; 100k) a=500 ;; 1m) a=5000 ;; esac
    e=$work/e$n.csv
    [ -f "$e" ] || "$cli" gen --seed 7 --accounts $a --regions 4 --vpcs-per-region 50 \
        --format csv --out "$e" -q
    blocks=$(($(wc -l <"$e") - 1))
    for verb in audit map; do
        out=$work/$verb-$n.html
        if [ $verb = audit ]; then
            set -- audit --format html -o "$out" "$e" "$work/e$n-peering.csv"
        else
            set -- map -o "$out" -e "$e" -e "$work/e$n-peering.csv"
        fi
        t=$( { /usr/bin/time -f '%e s wall, %U s user, %M KB peak' "$cli" "$@" >/dev/null; } 2>&1 )
        printf '%-5s %-6s %8s blocks  %6.1f MB  %s\n' "$verb" "$n" "$blocks" \
            "$(awk "BEGIN{print $(stat -c %s "$out") / 1e6}")" "$t"
    done
done
py=/usr/bin/python3
[ -x $py ] || py=python3
$py "$here/map_load.py" --repeat 5 "$work"/audit-*.html "$work"/map-*.html
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
