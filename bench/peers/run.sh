#!/bin/sh
# bench/peers/run.sh BUILD_DIR — the side-by-side comparison (`make bench-peers`).
#
# For each dataset (estate-N for N in CS_PEER_SCALES, default 10k,100k,1M,
# and the real prefixes at the same scales, capped at the file's 142k rows):
#
#   1. peer_cidrscope writes the inputs every peer reads (rows, queries,
#      addresses) and cidrscope's answers, then times cidrscope on them;
#   2. each peer reads the same files, checks its answers against
#      cidrscope's (a mismatch stops everything, with the offending line),
#      and only then prints its timings;
#   3. bench/peers/report.py turns all timings, plus BUILD_DIR/bench.json
#      from `make bench`, into bench/RESULTS.md.
#
# Slow peers answer the first K queries of the same files (rates are per
# query). Environment: CS_PEER_SCALES, CS_PEER_RUNS (timed runs per
# workload, default 5), CS_PEER_QUERIES (queries per family written and run
# by cidrscope and the sorted sweep, default 1M), CS_PG_GIST_PAIRS=1 (also
# time PostgreSQL's GiST self-join, tens of seconds per run at 1M).
set -eu

BUILD=${1:-build-bench}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=$ROOT/bench/peers
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
OUT=$BUILD/peers
RUNS=${CS_PEER_RUNS:-5}
NQ=${CS_PEER_QUERIES:-1000000}
SCALES=${CS_PEER_SCALES:-10k,100k,1M}
# The real prefixes: $CS_BENCH_REAL_CSV, else the shipped dataset as the
# build unpacked it (BUILD_DIR/datasets/prefixes.csv), else the shared copy
# beside the clone.
REAL_CSV=${CS_BENCH_REAL_CSV:-}
if [ -z "$REAL_CSV" ]; then
    REAL_CSV=$BUILD/datasets/prefixes.csv
    [ -r "$REAL_CSV" ] || REAL_CSV=$ROOT/../shared/datasets/cloud-prefixes/prefixes.csv
fi
export CS_BENCH_REAL_CSV="$REAL_CSV"

for exe in "$BUILD/bench/peer_cidrscope" "$BUILD/bench/peer_sorted_sweep"; do
    [ -x "$exe" ] || { echo "bench/peers/run.sh: $exe not built (run: make bench)" >&2; exit 3; }
done
[ -r "$REAL_CSV" ] || { echo "bench/peers/run.sh: cannot read $REAL_CSV (set CS_BENCH_REAL_CSV)" >&2; exit 3; }

sh "$PEERS/install-peers.sh"

mkdir -p "$OUT/data"
echo "peers: building peer_cidranger (offline, GOPATH=/usr/share/gocode)" >&2
GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS="" GOCACHE="$OUT/gocache" \
    go build -o "$OUT/peer_cidranger" "$PEERS/peer_cidranger.go"

RESULTS=$OUT/results.tsv
printf 'dataset\tfamily\tworkload\timpl\titems\tmedian_s\tmin_s\tmax_s\truns\tnote\n' >"$RESULTS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# run_dataset KIND ROWS (rd_* names are this function's own)
run_dataset() {
    rd_dir=$OUT/data/$1-$2
    rm -rf "$rd_dir"
    echo "peers: $1 $2: cidrscope (writes the shared inputs)" >&2
    "$BUILD/bench/peer_cidrscope" "$rd_dir" "$1" "$2" "$RUNS" "$NQ" >>"$RESULTS"
    echo "peers: $1 $2: sorted sweep" >&2
    "$BUILD/bench/peer_sorted_sweep" "$rd_dir" "$RUNS" 0 >>"$RESULTS"
    echo "peers: $1 $2: py-radix" >&2
    /usr/bin/python3 "$PEERS/peer_pyradix.py" "$rd_dir" "$RUNS" \
        "${CS_PEER_PYRADIX_Q4:-1000}" "${CS_PEER_PYRADIX_Q6:-20000}" 100000 >>"$RESULTS"
    echo "peers: $1 $2: cidranger" >&2
    "$OUT/peer_cidranger" "$rd_dir" "$RUNS" \
        "${CS_PEER_CIDRANGER_Q4:-100}" "${CS_PEER_CIDRANGER_Q6:-5000}" 100000 >>"$RESULTS"
    echo "peers: $1 $2: PostgreSQL" >&2
    sh "$PEERS/peer_postgres.sh" "$rd_dir" "$RUNS" \
        "${CS_PEER_PG_Q4:-2000}" "${CS_PEER_PG_Q6:-20000}" "${CS_PEER_PG_ROWS_Q:-100}" 20000 >>"$RESULTS"
    # The inputs are large at 1M rows and rebuilt on every run.
    rm -rf "$rd_dir"
}

# to_rows 10k|1M|5000 -> a row count (whole numbers only).
to_rows() {
    case $1 in
    *[kK]) echo $((${1%[kK]} * 1000)) ;;
    *[mM]) echo $((${1%[mM]} * 1000000)) ;;
    *[!0-9]* | '') echo "bench/peers/run.sh: bad scale '$1' in CS_PEER_SCALES" >&2; exit 2 ;;
    *) echo "$1" ;;
    esac
}

REAL_ROWS=$(($(wc -l <"$REAL_CSV") - 1))
for s in $(echo "$SCALES" | tr ',' ' '); do
    rows=$(to_rows "$s")
    run_dataset estate "$rows"
done
real_done=""
for s in $(echo "$SCALES" | tr ',' ' '); do
    rows=$(to_rows "$s")
    [ "$rows" -gt "$REAL_ROWS" ] && rows=$REAL_ROWS
    case " $real_done " in *" $rows "*) continue ;; esac
    real_done="$real_done $rows"
    run_dataset real "$rows"
done

T_END=$(date +%s)
set --
[ -r "$BUILD/bench-base.json" ] && set -- "$@" --base-json "$BUILD/bench-base.json"
[ -r "$ROOT/bench/results/issue10-before.json" ] && [ -r "$ROOT/bench/results/issue10-after.json" ] &&
    set -- "$@" --before-json "$ROOT/bench/results/issue10-before.json" \
        --after-json "$ROOT/bench/results/issue10-after.json"
/usr/bin/python3 "$PEERS/report.py" --results "$RESULTS" --bench-json "$BUILD/bench.json" \
    "$@" --root "$ROOT" --out "$ROOT/bench/RESULTS.md" --load-start "$LOAD_START" \
    --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" --seconds $((T_END - T_START)) \
    --runs "$RUNS"
echo "peers: wrote bench/RESULTS.md ($((T_END - T_START)) s)" >&2
