#!/bin/sh
# bench/shm_stall.sh — the reader stall while generations are published
# (issue 14), figures for bench/results-shm.md.
# usage: sh bench/shm_stall.sh BUILD_DIR [VPCS] [SECONDS]
#   BUILD_DIR configured with -DCS_BENCH=ON (the target bench_shm_stall built:
#   cmake --build BUILD_DIR --target bench_shm_stall cidrscope)
# Generates two estates of VPCS VPCs (default 500000; seeds 1 and 2), builds
# their snapshots, then runs bench_shm_stall on them twice: plain cs_shm_pin
# (trusted: indexes from the publisher) and CS_SHM_VERIFY (every bound and
# checksum checked, indexes built by the reader).
set -eu
build=$1
vpcs=${2:-500000}
secs=${3:-20}
cli=$build/cidrscope
bench=$build/bench/bench_shm_stall
work=$(mktemp -d "${TMPDIR:-/tmp}/cs-stall.XXXXXX")
trap 'rm -rf "$work"' EXIT
accounts=$((vpcs / 40))
for seed in 1 2; do
    "$cli" gen --seed $seed --accounts $accounts --regions 10 --vpcs-per-region 4 \
        --out "$work/v$seed.csv" --format csv -q
    "$cli" build "$work/v$seed.csv" -o "$work/v$seed.snap" >/dev/null
done
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "estate: $((accounts * 40)) VPCs per generation (gen seeds 1 and 2)"
"$bench" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch 2048
"$bench" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch 8192
"$bench" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch 8192 --verify
