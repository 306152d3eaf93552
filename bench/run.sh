#!/bin/sh
# bench/run.sh BUILD_DIR [google-benchmark flags...] — runs cs_bench (`make bench`).
#
# Environment:
#   CS_BENCH_SCALES       dataset scales, default 10k,100k,1M (10M accepted;
#                         skipped with a message when memory is short)
#   CS_BENCH_MIN_TIME     seconds per repetition (--benchmark_min_time), 0.1
#   CS_BENCH_REPETITIONS  repetitions per benchmark, 5 (median, min, max)
#   CS_BENCH_REAL_CSV     the real-prefix CSV (default: the shipped dataset the
#                         build unpacked, else ../shared/datasets/...)
#
# Prints medians on the terminal and writes every repetition to
# BUILD_DIR/bench.json, which bench/peers/report.py folds into RESULTS.md.
# Extra arguments go to Google Benchmark (e.g. --benchmark_filter=estate-1M).
set -eu

BUILD=${1:-build-bench}
[ $# -gt 0 ] && shift
BIN=$BUILD/bench/cs_bench
if [ ! -x "$BIN" ]; then
    echo "bench/run.sh: $BIN not built (run: make bench)" >&2
    exit 3
fi

echo "bench: scales ${CS_BENCH_SCALES:-10k,100k,1M}; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BIN" \
    --benchmark_repetitions="${CS_BENCH_REPETITIONS:-5}" \
    --benchmark_min_time="${CS_BENCH_MIN_TIME:-0.1}" \
    --benchmark_display_aggregates_only=true \
    --benchmark_out="$BUILD/bench.json" \
    --benchmark_out_format=json \
    "$@"
echo "bench: all repetitions in $BUILD/bench.json" >&2
