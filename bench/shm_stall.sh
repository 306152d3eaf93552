#!/bin/sh
# bench/shm_stall.sh — the shared-memory service under publishes: the reader
# stall (issue 14) and what a publish costs (issue 13's soak), figures for
# bench/results-shm.md.
# usage: sh bench/shm_stall.sh BUILD_DIR [VPCS] [SECONDS] [BASE_BUILD_DIR]
#   BUILD_DIR configured with -DCS_BENCH=ON and these targets built:
#   cmake --build BUILD_DIR --target bench_shm_stall bench_shm_publish cidrscope
#   BASE_BUILD_DIR (optional): another commit's build (-DCS_BENCH=ON, targets
#   bench_shm_stall and cidrscope_static); its runs alternate with ours
#   (A B A B ...), and bench/shm_publish.c is compiled against its library.
# Generates two estates of VPCS VPCs (default 500000; seeds 1 and 2), builds
# their snapshots, then: publish cost (bench_shm_publish: 4 rounds of 5
# timed publishes per variant, alternating base, ours, ours with
# CS_SHM_REUSE; medians of the 20); reader stall (bench_shm_stall: plain
# cs_shm_pin with batches of 2048 and 8192 queries, twice each, alternating
# with the base; once with a CS_SHM_REUSE publisher; CS_SHM_VERIFY once with
# 8192).
set -eu
build=$1
vpcs=${2:-500000}
secs=${3:-20}
base=${4:-}
cli=$build/cidrscope
work=$(mktemp -d "${TMPDIR:-/tmp}/cs-stall.XXXXXX")
trap 'rm -rf "$work"' EXIT
accounts=$((vpcs / 40))
for seed in 1 2; do
    "$cli" gen --seed $seed --accounts $accounts --regions 10 --vpcs-per-region 4 \
        --out "$work/v$seed.csv" --format csv -q
    "$cli" build "$work/v$seed.csv" -o "$work/v$seed.snap" >/dev/null
done
here=$(cd "$(dirname "$0")" && pwd)
pub_new=$build/bench/bench_shm_publish
if [ -n "$base" ]; then
    base_src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$base/CMakeCache.txt")
    ${CC:-cc} -O2 -I"$base_src/include" "$here/shm_publish.c" "$base/libcidrscope.a" \
        $(pkg-config --libs libxxhash yajl) -lpthread -lm -o "$work/bench_shm_publish_base"
fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "estate: $((accounts * 40)) VPCs per generation (gen seeds 1 and 2)"

# Publish cost: per-publish lines "publish N wall cpu" pooled per variant.
: >"$work/pub.base"
: >"$work/pub.new"
: >"$work/pub.reuse"
for round in 1 2 3 4; do
    if [ -n "$base" ]; then
        "$work/bench_shm_publish_base" "$work/v1.snap" "$work/v2.snap" --count 5 | grep '^publish ' >>"$work/pub.base"
    fi
    "$pub_new" "$work/v1.snap" "$work/v2.snap" --count 5 | grep '^publish ' >>"$work/pub.new"
    "$pub_new" "$work/v1.snap" "$work/v2.snap" --count 5 --reuse | grep '^publish ' >>"$work/pub.reuse"
done
for v in base new reuse; do
    [ -s "$work/pub.$v" ] || continue
    sort -n -k3 "$work/pub.$v" | awk -v v=$v '{w[NR]=$3} END {printf "publish %-5s %d publishes: median wall %.1f ms", v, NR, (NR%2 ? w[(NR+1)/2] : (w[NR/2]+w[NR/2+1])/2)}'
    sort -n -k4 "$work/pub.$v" | awk '{c[NR]=$4} END {printf ", median cpu %.1f ms (min %.1f, max %.1f)\n", (NR%2 ? c[(NR+1)/2] : (c[NR/2]+c[NR/2+1])/2), c[1], c[NR]}'
done

# Reader stall, alternating with the base.
for batch in 2048 8192; do
    for round in 1 2; do
        if [ -n "$base" ]; then
            echo "== base, batch $batch"
            "$base/bench/bench_shm_stall" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch $batch
        fi
        echo "== this build, batch $batch"
        "$build/bench/bench_shm_stall" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch $batch
    done
done
echo "== this build, batch 2048, publisher with CS_SHM_REUSE"
"$build/bench/bench_shm_stall" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch 2048 --reuse
echo "== this build, batch 8192, CS_SHM_VERIFY"
"$build/bench/bench_shm_stall" "$work/v1.snap" "$work/v2.snap" --seconds "$secs" --batch 8192 --verify
