#!/bin/sh
# bench/memory.sh — memory figures of bench/results-memory.md (issue 13 item
# 12: peak RSS per line of a 5M-line prefix list; issue 14: estate image
# bytes per CIDR by section), this tree against a base build side by side,
# the two binaries alternating run by run (A B A B ...).
#
# usage: bench/memory.sh BUILD BASE_BUILD WORKDIR [REPS]
#   BUILD       this tree's Release build dir (its cidrscope)
#   BASE_BUILD  the base's Release build dir (git worktree add DIR COMMIT;
#               cmake -S DIR -B DIR/build -DCMAKE_BUILD_TYPE=Release
#               -DCS_TESTS=OFF; cmake --build DIR/build --target cidrscope)
#   WORKDIR     scratch directory for the inputs (~250 MB)
#   REPS        runs per binary and command (default 3)
# Prints, per binary: peak RSS (KB, and bytes per line) and user CPU of
# `stat` (stops at the bad last line) and `stat --keep-going` (reads the
# rest, then freezes) on the list, medians of REPS; the --keep-going peak
# over the plain one per binary; this binary's load and freeze peaks (RSS
# sampled) and the list's image by section (bytes per line); then the image of the
# organisation-shaped estate (gen --shape org, 3,800 accounts x 17 regions:
# org-83k of bench/RESULTS.md) by section, bytes per CIDR.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 BUILD BASE_BUILD WORKDIR [REPS]" >&2; exit 2; }
B=$(cd "$1" && pwd)/cidrscope; A=$(cd "$2" && pwd)/cidrscope; W=$3; REPS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W"
echo "# $(date -u '+%F %T') UTC, nproc $(nproc), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# The prefix list of issue 13 item 12 (bench/list5m.sh).
[ -f "$W/list5m.csv" ] || "$HERE/list5m.sh" "$W/list5m.csv"
lines=$(wc -l < "$W/list5m.csv")

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for kg in "" --keep-going; do
  : > "$W/a.kb"; : > "$W/a.cpu"; : > "$W/b.kb"; : > "$W/b.cpu"
  r=0
  while [ $r -lt "$REPS" ]; do
    for which in a b; do
      if [ $which = a ]; then bin=$A; else bin=$B; fi
      /usr/bin/time -f '%M %U' -o "$W/time.txt" "$bin" stat $kg "$W/list5m.csv" > /dev/null 2>&1 || true
      set -- $(tail -n 1 "$W/time.txt")
      echo "$1" >> "$W/$which.kb"; echo "$2" >> "$W/$which.cpu"
    done
    r=$((r + 1))
  done
  for which in a b; do
    if [ $which = a ]; then name=base; else name=this; fi
    kb=$(median < "$W/$which.kb"); cpu=$(median < "$W/$which.cpu")
    echo "$kb" > "$W/$which$kg.peak"
    echo "$name stat $kg list5m.csv: peak $kb KB = $((kb * 1024 / lines)) B/line, $cpu s user (median of $REPS; all KB: $(tr '\n' ' ' < "$W/$which.kb"))"
  done
done
# Issue 13 item 12's comparison: --keep-going's peak over the plain run's.
for which in a b; do
  if [ $which = a ]; then name=base; else name=this; fi
  awk -v k="$(cat "$W/$which--keep-going.peak")" -v p="$(cat "$W/$which.peak")" -v n=$name \
    'BEGIN { printf "%s --keep-going peak / plain peak: %.4fx (%+d KB; target <= 1.00x: %s)\n",
             n, k / p, k - p, k <= p ? "met" : "MISSED" }'
done
# Where this binary's --keep-going peak is: RSS sampled every 20 ms, the
# maximum of the load (until RSS first falls by a fifth: the builder's
# records are released) and of the freeze after it; and the image of the
# list (what the freeze's peak holds) by section, bytes per line.
python3 - "$B" "$W/list5m.csv" <<'PY'
import subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "stat", "--keep-going", sys.argv[2]],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
load = freeze = top = 0
fell = False
while p.poll() is None:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    except (OSError, StopIteration):
        break
    if not fell and kb < top * 0.8:
        fell = True
    top = max(top, kb)
    if fell:
        freeze = max(freeze, kb)
    else:
        load = kb if kb > load else load
    time.sleep(0.02)
print("this stat --keep-going, RSS sampled: load peak %d KB, freeze peak %d KB (%.3fx the load's)"
      % (load, freeze, freeze / load if load else 0))
PY
"$B" build --keep-going -o "$W/list5m-this.snap" "$W/list5m.csv" > /dev/null 2>&1
python3 "$HERE/peers/image_sections.py" list5m "$W/list5m-this.snap" "$lines" |
  awk -F'\t' -v n="$lines" '
    { name = $4; sub(/^section:/, "", name); b = $5 / n }
    name == "image-total" { tot = $5; next }
    b >= 0.05 { list = list sprintf(" %s %.1f", name, b) }
    END { printf "this image of list5m.csv (build --keep-going -o): %d bytes = %d KB = %.1f B/line; by section:%s\n",
                 tot, tot / 1024, tot / n, list }'
rm -f "$W/list5m-this.snap"

[ -f "$W/org83.csv" ] || "$B" gen --shape org --seed 14 --accounts 3800 --regions 17 \
    --format csv --out "$W/org83.csv" -q
cidrs=$(($(wc -l < "$W/org83.csv") - 1))
for which in base this; do
  if [ $which = base ]; then bin=$A; else bin=$B; fi
  "$bin" build -o "$W/org83-$which.snap" "$W/org83.csv" > /dev/null
  python3 "$HERE/peers/image_sections.py" org83 "$W/org83-$which.snap" "$cidrs" |
    awk -F'\t' -v n="$cidrs" -v w="$which" '
      { name = $4; sub(/^section:/, "", name); b = $5 / n }
      name == "image-total" { tot = b; next }
      name == "strings" { str = b }
      b >= 0.05 { list = list sprintf(" %s %.1f", name, b) }
      END { printf "%s image org83 (%d CIDRs): %.1f B per CIDR plus %.1f B of strings; by section:%s\n",
                   w, n, tot - str, str, list }'
done
