#!/bin/sh
# bench/peers/run.sh BUILD_DIR — the side-by-side comparison (`make bench-peers`).
#
# For each dataset (estate-N for N in CS_PEER_SCALES, default 100k,1M, and
# the real prefixes at the largest of them, capped at the file's 142k rows):
#
#   1. peer_cidrscope writes the inputs every peer reads (rows, queries,
#      addresses) and cidrscope's answers, then times cidrscope on them;
#   2. each peer reads the same files, checks its answers against
#      cidrscope's (a mismatch stops everything, with the offending line),
#      and only then prints its timings;
#   3. bench/peers/report.py turns all timings, plus BUILD_DIR/bench.json
#      from `make bench`, into bench/RESULTS.md.
#
# Also (issue 14): the organisation-shaped estate (`cidrscope gen --shape
# org`, CS_PEER_ORG_ACCOUNTS accounts x 17 regions, default 38000: about a
# million blocks) as dataset org-N, with its image's bytes by section
# (image_sections.py) and the CLI bulk verbs on it (cli_times.py: query
# --count, lookup, check --pairs; --threads 2 against one; against the base
# commit's CLI); and the base commit (CS_BENCH_BASE_COMMIT, default a80251a,
# built once from `git archive` under BUILD_DIR/base-<commit>, or the tree
# and build dir named by CS_BENCH_BASE_SRC / CS_BENCH_BASE_BUILD) run in turn
# with this build's cs_bench on estate-1M's query workloads (bench/run.sh).
#
# Slow peers answer the first K queries of the same files (rates are per
# query). Environment: CS_PEER_SCALES (default 100k,1M), CS_PEER_RUNS (timed
# runs per workload, default 3), CS_PEER_QUERIES (queries per family written
# and run by cidrscope and the sorted sweep, default 1M), CS_PG_GIST_PAIRS=1
# (also time PostgreSQL's GiST self-join, tens of seconds per run at 1M).
# CS_PEER_QUICK=1: reduced settings for a quick run (100k rows, an org of
# 3,800 accounts, 200k queries, 2 runs, the base comparison at 100k).
set -eu

BUILD=${1:-build-bench}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=$ROOT/bench/peers
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
OUT=$BUILD/peers
if [ -n "${CS_PEER_QUICK:-}" ]; then
    RUNS=${CS_PEER_RUNS:-2}
    NQ=${CS_PEER_QUERIES:-200000}
    SCALES=${CS_PEER_SCALES:-100k}
    ORG_ACCOUNTS=${CS_PEER_ORG_ACCOUNTS:-3800}
    BASE_DS=estate-100k
else
    RUNS=${CS_PEER_RUNS:-3}
    NQ=${CS_PEER_QUERIES:-1000000}
    SCALES=${CS_PEER_SCALES:-100k,1M}
    ORG_ACCOUNTS=${CS_PEER_ORG_ACCOUNTS:-38000}
    BASE_DS=estate-1M
fi
BASE_COMMIT=${CS_BENCH_BASE_COMMIT:-a80251a}
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

# The base commit's source tree and Release build (cs_bench, cidrscope,
# libcidrscope.a): given (CS_BENCH_BASE_SRC, CS_BENCH_BASE_BUILD), or built
# once from `git archive` under BUILD_DIR/base-<commit>.
BASE_SRC=${CS_BENCH_BASE_SRC:-}
BASE_BUILDDIR=${CS_BENCH_BASE_BUILD:-}
if [ -z "$BASE_BUILDDIR" ] && git -C "$ROOT" cat-file -e "$BASE_COMMIT^{commit}" 2>/dev/null; then
    bdir=$BUILD/base-$BASE_COMMIT
    BASE_SRC=$bdir/src
    BASE_BUILDDIR=$bdir/build
    if [ ! -x "$bdir/build/bench/cs_bench" ] || [ ! -x "$bdir/build/cidrscope" ]; then
        echo "peers: building $BASE_COMMIT's cs_bench and CLI in $bdir (once)" >&2
        rm -rf "$bdir"
        mkdir -p "$bdir/src"
        git -C "$ROOT" archive "$BASE_COMMIT" | tar -x -C "$bdir/src"
        cmake -S "$bdir/src" -B "$bdir/build" -DCMAKE_BUILD_TYPE=Release -DCS_BENCH=ON \
            -DCS_TESTS=OFF >/dev/null
        cmake --build "$bdir/build" -j "$(nproc)" >/dev/null
    fi
fi
BASE_BENCH=
BASE_CLI=
if [ -n "$BASE_BUILDDIR" ]; then
    BASE_BENCH=$BASE_BUILDDIR/bench/cs_bench
    BASE_CLI=$BASE_BUILDDIR/cidrscope
fi

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
    if [ "$1" = org ]; then
        # The whole estate's image by section, and the CLI bulk verbs.
        ds=$(tail -n 1 "$RESULTS" | cut -f1)
        "$BUILD/cidrscope" build -o "$rd_dir/estate.snap" "$ORG_DIR/estate.csv" >/dev/null
        /usr/bin/python3 "$PEERS/image_sections.py" "$ds" "$rd_dir/estate.snap" \
            "$(($(wc -l <"$ORG_DIR/estate.csv") - 1))" >>"$RESULTS"
        cp "$ORG_CSV" "$rd_dir/prefixes.csv"
        cp "$ORG_DIR/estate.csv" "$rd_dir/estate.csv"
        cp "$ORG_DIR/pairs.csv" "$rd_dir/pairs.csv"
        echo "peers: $1 $2: the CLI (query --count, lookup, check --pairs)" >&2
        if [ -n "$BASE_CLI" ]; then
            /usr/bin/python3 "$PEERS/cli_times.py" "$ds" "$rd_dir" "$RUNS" "$BUILD/cidrscope" \
                "$BASE_COMMIT" "$BASE_CLI" >>"$RESULTS"
        else
            /usr/bin/python3 "$PEERS/cli_times.py" "$ds" "$rd_dir" "$RUNS" "$BUILD/cidrscope" \
                >>"$RESULTS"
        fi
    fi
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
# The organisation-shaped estate: gen's CSV (live blocks), as a prefix list
# for the peers (provider = region), and 200k VPC pairs for check --pairs.
ORG_DIR=$OUT/org
rm -rf "$ORG_DIR"
mkdir -p "$ORG_DIR"
echo "peers: gen --shape org, $ORG_ACCOUNTS accounts x 17 regions" >&2
"$BUILD/cidrscope" gen --shape org --seed 14 --accounts "$ORG_ACCOUNTS" --regions 17 \
    --format csv --out "$ORG_DIR/estate.csv" -q
ORG_CSV=$ORG_DIR/prefixes.csv
awk -F, 'NR == 1 { print "provider,family,prefix"; next }
    $5 == "associated" { print $2 "," (index($4, ":") ? "ipv6" : "ipv4") "," $4 }' \
    "$ORG_DIR/estate.csv" >"$ORG_CSV"
awk -F, 'NR > 1 { print $3 }' "$ORG_DIR/estate.csv" | awk '!seen[$0]++' |
    awk 'BEGIN { srand(14); print "vpc_a,vpc_b" } { v[n++] = $0 }
        END { for (i = 0; i < 200000 && n; i++) print v[int(rand() * n)] "," v[int(rand() * n)] }' \
    >"$ORG_DIR/pairs.csv"
export CS_BENCH_ORG_CSV="$ORG_CSV"
run_dataset org "$(($(wc -l <"$ORG_CSV") - 1))"

# The real prefixes once, at the largest scale (capped at the file's rows).
rows=0
for s in $(echo "$SCALES" | tr ',' ' '); do
    r=$(to_rows "$s")
    [ "$r" -gt "$rows" ] && rows=$r
done
[ "$rows" -gt "$REAL_ROWS" ] && rows=$REAL_ROWS
run_dataset real "$rows"

# The base commit against this build, same window, in turn (bench/run.sh):
# the query workloads of issue 14's table.
if [ -n "$BASE_BENCH" ]; then
    echo "peers: $BASE_COMMIT against this build on $BASE_DS (bench/run.sh)" >&2
    CS_BENCH_BASE=$BASE_BENCH CS_BENCH_BASE_NAME=$BASE_COMMIT \
        CS_BENCH_OUT=$BUILD/bench-issue14.json CS_BENCH_REPETITIONS=$((RUNS + 2)) \
        CS_BENCH_WORKLOADS='count_bulk|lookup_bulk|enumerate' CS_BENCH_ONLY=$BASE_DS \
        sh "$ROOT/bench/run.sh" "$BUILD"
fi

# The other owners' issue-14 benchmarks, when their scripts are here and the
# base commit was built: their output goes into RESULTS.md as they print it
# (each time-boxed; CS_PEER_OTHERS=0 skips them).
OTHERS=$OUT/others
rm -rf "$OTHERS"
mkdir -p "$OTHERS"
if [ "${CS_PEER_OTHERS:-1}" != 0 ] && [ -n "$BASE_SRC" ]; then
    if [ -r "$ROOT/bench/audit_bench.sh" ] && [ -r "$BASE_BUILDDIR/libcidrscope.a" ]; then
        echo "peers: bench/audit_bench.sh on the org estate" >&2
        timeout 600 sh "$ROOT/bench/audit_bench.sh" "$BASE_SRC" "$BASE_BUILDDIR" "$BUILD" 1 \
            "$ORG_DIR/estate.csv" "$ORG_DIR/estate-peering.csv" >"$OTHERS/audit_bench.txt" 2>&1 ||
            echo "(exit $?: stopped or failed)" >>"$OTHERS/audit_bench.txt"
    fi
    if [ -r "$ROOT/bench/shm_stall.sh" ] && [ -x "$BUILD/bench/bench_shm_stall" ]; then
        echo "peers: bench/shm_stall.sh" >&2
        timeout 300 sh "$ROOT/bench/shm_stall.sh" "$BUILD" 200000 5 >"$OTHERS/shm_stall.txt" 2>&1 ||
            echo "(exit $?: stopped or failed)" >>"$OTHERS/shm_stall.txt"
    fi
fi

T_END=$(date +%s)
set --
[ -r "$BUILD/bench-base.json" ] && set -- "$@" --base-json "$BUILD/bench-base.json"
[ -r "$BUILD/bench-issue14.json" ] && set -- "$@" --issue14-json "$BUILD/bench-issue14.json"
[ -r "$ROOT/bench/results/issue10-before.json" ] && [ -r "$ROOT/bench/results/issue10-after.json" ] &&
    set -- "$@" --before-json "$ROOT/bench/results/issue10-before.json" \
        --after-json "$ROOT/bench/results/issue10-after.json"
/usr/bin/python3 "$PEERS/report.py" --results "$RESULTS" --bench-json "$BUILD/bench.json" \
    "$@" --others "$OTHERS" --root "$ROOT" --out "$ROOT/bench/RESULTS.md" --load-start "$LOAD_START" \
    --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" --seconds $((T_END - T_START)) \
    --runs "$RUNS"
echo "peers: wrote bench/RESULTS.md ($((T_END - T_START)) s)" >&2
