#!/bin/sh
# bench/ingest_bench.sh — ingest figures of bench/results-ingest.md, this tree
# against a80251a side by side in one run (issue 14 ingest rows, issue 13
# item 12 memory).
#
# usage: bench/ingest_bench.sh BUILD BASE_BUILD WORKDIR
#   BUILD       this tree's Release build dir (libcidrscope.a, cidrscope)
#   BASE_BUILD  a80251a's Release build dir (git worktree add DIR a80251a;
#               cmake -S DIR -B DIR/build -DCMAKE_BUILD_TYPE=Release;
#               cmake --build DIR/build --target cidrscope)
#   WORKDIR     scratch directory for the generated inputs (~1 GB)
# Prints: records per CPU second of cs_estate_load (median of 5) for a CSV
# estate (gen --shape org, 825k rows) and an ESTATE/ tree of AWS CLI JSON;
# CPU of `cidrscope build` of the CSV estate; peak RSS per line of loading
# a five-million-line prefix list whose last line is bad (the library's
# load, with and without keep-going) and of `cidrscope stat` on it (load,
# then with --keep-going also freeze).
set -eu
[ $# -eq 3 ] || { echo "usage: $0 BUILD BASE_BUILD WORKDIR" >&2; exit 2; }
B=$(cd "$1" && pwd); A=$(cd "$2" && pwd); W=$3
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$HERE/..
mkdir -p "$W"
LIBS="$(pkg-config --libs libxxhash yajl) -lpthread -lm"
cc -O2 -I"$SRC/include" "$HERE/ingest_bench.c" "$B/libcidrscope.a" $LIBS -o "$W/ib_new"
cc -O2 -I"$A/../include" "$HERE/ingest_bench.c" "$A/libcidrscope.a" $LIBS -o "$W/ib_base"

echo "# $(date -u '+%F %T') UTC, nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$W/org.csv" ] || "$B/cidrscope" gen --seed 1 --shape org --format csv --out "$W/org.csv" -q
[ -d "$W/tree" ] || "$B/cidrscope" gen --seed 3 --accounts 100 --regions 25 --vpcs-per-region 40 --out "$W/tree" -q
for p in "$W/org.csv" "$W/tree"; do
  printf 'a80251a  '; "$W/ib_base" "$p"
  printf 'this     '; "$W/ib_new" "$p"
done
for bin in "$A/cidrscope" "$B/cidrscope"; do
  /usr/bin/time -f '%U %M' -o "$W/time.txt" "$bin" build "$W/org.csv" "$W/org-peering.csv" -o "$W/org.snap" > /dev/null 2>&1
  set -- $(tail -n 1 "$W/time.txt")
  echo "$bin build org.csv org-peering.csv: $1 s user, peak $2 KB"
done

# The prefix list (issue 13 item 12): 4,999,998 random IPv4 prefixes of 8
# owners, then a line with a bad address (bench/list5m.sh).
[ -f "$W/list5m.csv" ] || "$HERE/list5m.sh" "$W/list5m.csv"
lines=$(wc -l < "$W/list5m.csv")
for kg in "" --keep-going; do
  for ib in ib_base ib_new; do
    out=$("$W/$ib" --reps 1 $kg "$W/list5m.csv")
    kb=${out##*peak_kb=}
    echo "$ib load $kg list5m.csv: $out => $(( kb * 1024 / lines )) B/line"
  done
done
for bin in "$A/cidrscope" "$B/cidrscope"; do
  for kg in "" --keep-going; do
    /usr/bin/time -f '%M %U' -o "$W/time.txt" "$bin" stat $kg "$W/list5m.csv" > /dev/null 2>&1 || true
    set -- $(tail -n 1 "$W/time.txt")
    echo "$bin stat $kg list5m.csv: peak $1 KB = $(( $1 * 1024 / lines )) B/line, $2 s user"
  done
done
