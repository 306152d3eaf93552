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
#   CS_BENCH_BASE         a cs_bench built from an older commit (e.g. a
#                         worktree's build-bench/bench/cs_bench): it runs in the
#                         same time window, dataset by dataset in turn with
#                         this build's, so both see the same machine load;
#                         its repetitions go to BUILD_DIR/bench-base.json and
#                         report.py adds its column and the speed-up targets
#   CS_BENCH_BASE_NAME    that commit's name in the report (default: base)
#   CS_BENCH_OUT          this build's JSON (default BUILD_DIR/bench.json)
#   CS_BENCH_ONLY         with a base: these datasets only (e.g. estate-1M)
#   CS_BENCH_WORKLOADS    with a base: these workloads only, a regex
#                         (e.g. 'count_bulk|lookup_bulk')
#   CS_BENCH_ROUNDS       with a base: rounds per dataset, 1; each round
#                         runs the base, then this build, so a loaded machine
#                         hits both alike (base, new, base, new, ...); the
#                         rounds' repetitions are pooled (medians over all)
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
BASE=${CS_BENCH_BASE:-}
if [ -n "$BASE" ] && [ ! -x "$BASE" ]; then
    echo "bench/run.sh: CS_BENCH_BASE=$BASE is not an executable" >&2
    exit 3
fi

run() { # run BINARY OUT_JSON [flags...]
    bin=$1
    out=$2
    shift 2
    "$bin" \
        --benchmark_repetitions="${CS_BENCH_REPETITIONS:-5}" \
        --benchmark_min_time="${CS_BENCH_MIN_TIME:-0.1}" \
        --benchmark_display_aggregates_only=true \
        --benchmark_out="$out" \
        --benchmark_out_format=json \
        "$@"
}

echo "bench: scales ${CS_BENCH_SCALES:-10k,100k,1M}; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
OUT=${CS_BENCH_OUT:-$BUILD/bench.json}
if [ -z "$BASE" ]; then
    run "$BIN" "$OUT" "$@"
    echo "bench: all repetitions in $OUT" >&2
    exit 0
fi

# With a base: dataset by dataset, the two builds in turn (one round: this
# build then the base; more rounds: base, new, base, new, ...).
PARTS=$BUILD/bench-parts
rm -rf "$PARTS"
mkdir -p "$PARTS"
DATASETS=${CS_BENCH_ONLY:-$("$BIN" --benchmark_list_tests=true "$@" 2>/dev/null | cut -d/ -f2 | awk '!seen[$0]++')}
WL=${CS_BENCH_WORKLOADS:-[^/]*}
ROUNDS=${CS_BENCH_ROUNDS:-1}
ORDER="new base"
[ "$ROUNDS" -gt 1 ] && ORDER="base new"
k=0
for ds in $DATASETS; do
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        r=$((r + 1))
        k=$((k + 1))
        for who in $ORDER; do
            bin=$BIN
            [ $who = base ] && bin=$BASE
            echo "bench: $ds, round $r/$ROUNDS, $who ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
            run "$bin" "$PARTS/$who-$k.json" "$@" --benchmark_filter="^($WL)/$ds(/|\$)"
        done
    done
done
/usr/bin/python3 - "$PARTS" "$OUT" "$BUILD/bench-base.json" "${CS_BENCH_BASE_NAME:-base}" <<'PY'
import glob, json, os, sys
parts, out_new, out_base, name = sys.argv[1:5]
for who, out in (("new", out_new), ("base", out_base)):
    doc = None
    for p in sorted(glob.glob(os.path.join(parts, who + "-*.json")),
                    key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
        with open(p) as f:
            d = json.load(f)
        if doc is None:
            doc = d
        else:
            doc["benchmarks"].extend(d.get("benchmarks", []))
    doc = doc or {"context": {}, "benchmarks": []}
    if who == "base":
        doc["context"]["cidrscope_base_name"] = name
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
PY
echo "bench: all repetitions in $OUT, the base's in $BUILD/bench-base.json" >&2
