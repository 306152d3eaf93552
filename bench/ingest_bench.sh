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
#   WORKDIR     scratch directory for the generated inputs (~1.5 GB)
# Prints: records per CPU second of cs_estate_load (median of 5) for a CSV
# estate and an ESTATE/ tree of AWS CLI JSON, 1 vs 2 threads on the tree,
# and peak RSS per line of `cidrscope stat` on a 5M-line prefix list whose
# last line is bad, with and without --keep-going.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 BUILD BASE_BUILD WORKDIR" >&2; exit 2; }
B=$(cd "$1" && pwd); A=$(cd "$2" && pwd); W=$3
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$HERE/..
mkdir -p "$W"
LIBS="$(pkg-config --libs libxxhash yajl) -lpthread -lm"
cc -O2 -I"$SRC/include" -DCS_BENCH_HAS_THREADS "$HERE/ingest_bench.c" "$B/libcidrscope.a" $LIBS -o "$W/ib_new"
cc -O2 -I"$A/../include" "$HERE/ingest_bench.c" "$A/libcidrscope.a" $LIBS -o "$W/ib_base"

echo "# $(date -u '+%F %T') UTC, nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$W/org.csv" ] || "$B/cidrscope" gen --seed 1 --shape org --format csv --out "$W/org.csv" -q
[ -d "$W/tree" ] || "$B/cidrscope" gen --seed 3 --accounts 100 --regions 25 --vpcs-per-region 40 --out "$W/tree" -q
for p in "$W/org.csv" "$W/tree"; do
  printf 'a80251a  '; "$W/ib_base" "$p"
  printf 'this     '; "$W/ib_new" "$p"
done
printf 'this, 2 threads  '; "$W/ib_new" --threads 2 "$W/tree"

# 5M-line prefix list, bad last line (issue 13 item 12).
if [ ! -f "$W/list5m.csv" ]; then
  awk 'BEGIN { srand(7); print "owner,prefix";
    split("aws azure gcp cloudflare fastly oracle digitalocean akamai", o, " ");
    split("16 20 22 24 24 24 28 32", L, " ");
    for (i = 0; i < 4999998; i++) { l = L[1 + int(rand() * 8)];
      a = int(rand() * 256); b = int(rand() * 256); c = int(rand() * 256); d = int(rand() * 256);
      if (l <= 16) { c = 0; d = 0 } else if (l <= 24) { d = 0; if (l == 20) c -= c % 16; if (l == 22) c -= c % 4 }
      else if (l == 28) d -= d % 16;
      printf "%s,%d.%d.%d.%d/%d\n", o[1 + i % 8], a, b, c, d, l }
    print "aws,10.0.0.300/24" }' > "$W/list5m.csv"
fi
lines=$(wc -l < "$W/list5m.csv")
for bin in "$A/cidrscope" "$B/cidrscope"; do
  for kg in "" --keep-going; do
    /usr/bin/time -f '%M %U' -o "$W/time.txt" "$bin" stat $kg "$W/list5m.csv" > /dev/null 2>&1 || true
    set -- $(cat "$W/time.txt")
    echo "$bin stat $kg list5m.csv: peak $1 KB = $(( $1 * 1024 / lines )) B/line, $2 s user"
  done
done
