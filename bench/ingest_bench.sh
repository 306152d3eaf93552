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
# Prints: CPU and wall time of cs_estate_load (medians of 5 runs, the two
# binaries alternating) for a CSV estate (gen --shape org, 825k rows) and an
# ESTATE/ tree of AWS CLI JSON; the tree on one thread against two
# (cs_load_options.threads: wall time, and the loading thread's CPU);
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
cc -O2 -DIB_THREADS -I"$SRC/include" "$HERE/ingest_bench.c" "$B/libcidrscope.a" $LIBS -o "$W/ib_new"
cc -O2 -I"$A/../include" "$HERE/ingest_bench.c" "$A/libcidrscope.a" $LIBS -o "$W/ib_base"

echo "# $(date -u '+%F %T') UTC, nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$W/org.csv" ] || "$B/cidrscope" gen --seed 1 --shape org --format csv --out "$W/org.csv" -q
[ -d "$W/tree" ] || "$B/cidrscope" gen --seed 3 --accounts 100 --regions 25 --vpcs-per-region 40 --out "$W/tree" -q

# alt NAME_A "CMD_A" NAME_B "CMD_B": 5 rounds, A then B in each (one load per
# run), then the medians of cpu_ms, wall_ms and main_thread_cpu_ms of each.
alt() {
  : > "$W/alt.txt"
  for r in 1 2 3 4 5; do
    printf '%s ' "$1" >> "$W/alt.txt"; $2 >> "$W/alt.txt"
    printf '%s ' "$3" >> "$W/alt.txt"; $4 >> "$W/alt.txt"
  done
  for n in "$1" "$3"; do
    for k in cpu_ms_median wall_ms_median main_thread_cpu_ms_median; do
      v=$(grep "^$n " "$W/alt.txt" | sed -n "s/.* $k=\([0-9.]*\).*/\1/p" | sort -n | sed -n 3p)
      printf '%s %s=%s ' "$n" "${k%_median}" "${v:-n/a}"
    done
    echo
  done
}
for p in "$W/org.csv" "$W/tree"; do
  echo "## $p: a80251a against this tree, alternating, medians of 5"
  alt a80251a "$W/ib_base --reps 1 $p" this "$W/ib_new --reps 1 $p"
done
echo "## $W/tree: this tree on 1 thread against 2 (cs_load_options.threads), alternating, medians of 5"
alt threads1 "$W/ib_new --reps 1 --threads 1 $W/tree" threads2 "$W/ib_new --reps 1 --threads 2 $W/tree"
# INGEST_BENCH_SPEED_ONLY=1: stop here (the rows below take minutes).
[ -z "${INGEST_BENCH_SPEED_ONLY:-}" ] || exit 0
for bin in "$A/cidrscope" "$B/cidrscope"; do
  /usr/bin/time -f '%U %M' -o "$W/time.txt" "$bin" build "$W/org.csv" "$W/org-peering.csv" -o "$W/org.snap" > /dev/null 2>&1
  set -- $(tail -n 1 "$W/time.txt")
  echo "$bin build org.csv org-peering.csv: $1 s user, peak $2 KB"
done

# The prefix list (issue 13 item 12): 4,999,998 random IPv4 prefixes of 8
# owners, then a line with a bad address.
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
