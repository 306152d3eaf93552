#!/bin/sh
# bench/cli_bench.sh — the CLI bulk verbs, text in and text out, on the
# organisation-shaped estate (`gen --shape org --seed 14`, 3,800 accounts x
# 17 regions: 82,574 blocks, "org-83k"), as bench/peers/cli_times.py runs
# them: `query --count` and `lookup` against a baseline binary (a80251a
# built in its own tree), and --threads 2 against one thread for `query
# --count`, `lookup` and `check --pairs`.
#
# Inputs (seeded, the same for both binaries): LINES overlap queries (/8 to
# /32, 85% drawn from the estate's IPv4 blocks, truncated or extended) and
# LINES addresses (90% inside a block), as the bench harness draws them;
# LINES VPC pairs of the estate for check --pairs. Each binary builds its
# own snapshot of the estate's prefix list (its own format version).
#
# The timing is bench/peers/cli_times.py's, the one `make bench-peers` runs:
# every command RUNS times, the binaries and thread counts ALTERNATING
# (A B A B ...) so that both see the same load, outputs compared before any
# figure is printed; its TSV rows hold the median CPU time (user + sys of
# the child: the figure on a shared machine) and, in the note, the median
# wall time. The ratios follow. Figures go to bench/results-cli.md by hand.
#
# START_CLI, when given, is one more binary (the branch's start) in the
# same alternation as a80251a: its rows are named "start".
#
# usage: sh bench/cli_bench.sh NEW_CLI BASE_CLI [LINES [RUNS [START_CLI]]]
set -eu
new=$1
base=$2
lines=${3:-200000}
runs=${4:-5}
start=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_clibench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$new" gen --shape org --seed 14 --accounts 3800 --regions 17 --format csv \
    --out "$tmp/estate.csv" -q
awk -F, 'NR == 1 { print "provider,family,prefix"; next }
    $5 == "associated" { print $2 "," (index($4, ":") ? "ipv6" : "ipv4") "," $4 }' \
    "$tmp/estate.csv" >"$tmp/prefixes.csv"
python3 - "$tmp" "$lines" <<'PY'
import ipaddress, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
nets = sorted({ipaddress.ip_network(l.split(",")[2].strip())
               for l in open(d + "/prefixes.csv") if ",ipv4," in l})
with open(d + "/queries-v4.txt", "w") as f:
    for _ in range(n):
        ln = 8 + r.randrange(25)
        if r.randrange(100) < 85:
            p = nets[r.randrange(len(nets))]
            a = int(p.network_address)
            if ln > p.prefixlen:
                a |= r.getrandbits(32) & ((1 << (32 - p.prefixlen)) - 1)
            a &= (0xffffffff << (32 - ln)) & 0xffffffff
        else:
            a = r.getrandbits(32) & ((0xffffffff << (32 - ln)) & 0xffffffff)
        f.write("%s/%d\n" % (ipaddress.IPv4Address(a), ln))
with open(d + "/addrs-v4.txt", "w") as f:
    for _ in range(n):
        if r.randrange(100) < 90:
            p = nets[r.randrange(len(nets))]
            a = int(p.network_address) | (r.getrandbits(32) & ((1 << (32 - p.prefixlen)) - 1))
        else:
            a = r.getrandbits(32)
        f.write("%s\n" % ipaddress.IPv4Address(a))
vpcs = sorted({l.split(",")[2] for l in list(open(d + "/estate.csv"))[1:]})
with open(d + "/pairs.csv", "w") as f:
    f.write("vpc_a,vpc_b\n")
    for _ in range(n):
        f.write("%s,%s\n" % (vpcs[r.randrange(len(vpcs))], vpcs[r.randrange(len(vpcs))]))
PY
echo "cli_bench: org-83k, $lines lines, $runs runs, $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
python3 "$(dirname "$0")/peers/cli_times.py" org-83k "$tmp" "$runs" "$new" a80251a "$base" \
    ${start:+start "$start"} | tee "$tmp/times.tsv"
# ratios: CPU of a80251a over this tree; wall of one thread over two
awk -F'\t' '{ cpu[$3 "|" $4] = $6; split($10, w, " "); wall[$3 "|" $4] = w[2] }
    END {
        for (v = 0; v < 2; v++) {
            wl = v ? "cli-lookup" : "cli-query-count"
            printf "%s: this tree %.2fx a80251a (CPU); --threads 2 %.2fx one thread (wall)\n", wl,
                cpu[wl "|a80251a"] / cpu[wl "|cidrscope"],
                wall[wl "|cidrscope --threads 1"] / wall[wl "|cidrscope --threads 2"]
            if ((wl "|start") in cpu)
                printf "%s: this tree %.2fx the start (CPU), the start %.2fx a80251a\n", wl,
                    cpu[wl "|start"] / cpu[wl "|cidrscope"], cpu[wl "|a80251a"] / cpu[wl "|start"]
        }
        wl = "cli-check-pairs"
        printf "%s: --threads 2 %.2fx one thread (wall)\n", wl,
            wall[wl "|cidrscope --threads 1"] / wall[wl "|cidrscope --threads 2"]
    }' "$tmp/times.tsv"
# Where --threads 2's CPU goes, per thread (perf sched: the run time of
# each thread of one run, median of RUNS): main (start-up, reading,
# in-order writing, and the jobs it answers while it would wait) and the
# worker. From these, the wall ratio a quiet machine would show: at most
# one thread's CPU over the longest thread's (no thread finishes before
# its own CPU time is spent); and an estimate, one thread's CPU over S +
# (all threads' CPU - S) / 2, where S, the serial start (exec, image read
# and validation), is the CPU of the same command on its first item
# alone.
if command -v perf >/dev/null 2>&1 && perf sched record -o "$tmp/probe" true >/dev/null 2>&1; then
    thread_split() { # INPUT ARGS...: one run, "t1 t2 ..." (ms per thread, main first)
        in=$1; shift
        # perf sched records every CPU: only this run's pid counts
        perf sched record -o "$tmp/sched" -- sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" \
            "$@" <"$in" >/dev/null 2>&1
        perf sched timehist -i "$tmp/sched" -s 2>/dev/null |
            awk -v pid="$(cat "$tmp/pid")" '$1 ~ "\\[" pid "\\]$" { main += $4 }
                $1 ~ "\\[[0-9]+/" pid "\\]$" { w[n++] = $4 }
                END { printf "%s", main; for (i = 0; i < n; i++) printf " %s", w[i]; print "" }'
    }
    for wl in "query --count|queries-v4.txt|query --count -e $tmp/cli-cidrscope.snap -" \
              "lookup|addrs-v4.txt|lookup -e $tmp/cli-cidrscope.snap -" \
              "check --pairs|pairs.csv|check --format csv -e $tmp/cli-estate.snap --pairs -"; do
        name=${wl%%|*}; rest=${wl#*|}; in=$tmp/${rest%%|*}; args=${rest#*|}
        head -n "$(case $name in check*) echo 2;; *) echo 1;; esac)" "$in" >"$tmp/first"
        for r in $(seq "$runs"); do
            echo "1 $(thread_split "$in" "$new" $args --threads 1)"
            echo "2 $(thread_split "$in" "$new" $args --threads 2)"
            echo "0 $(thread_split "$tmp/first" "$new" $args --threads 1)"
        done | awk -v name="$name" '
            function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                    if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
            $1 == 0 { start[++n0] = $2 }
            $1 == 1 { one[++n1] = $2 }
            $1 == 2 { n2++; m[n2] = $2; s = $2; hi = 0
                      for (i = 3; i <= NF; i++) { s += $i; if ($i > hi) hi = $i }
                      sum[n2] = s; busy[n2] = hi; crit[n2] = $2 > hi ? $2 : hi }
            END { o = med(one, n1); c = med(crit, n2); st = med(start, n0); a = med(sum, n2)
                  printf "%s --threads 2, CPU per thread (median ms): one thread %.1f; two: main %.1f, busiest worker %.1f, all threads %.1f; serial start %.1f; quiet-machine wall ratio <= %.2fx, about %.2fx\n",
                      name, o, med(m, n2), med(busy, n2), a, st, o / c, o / (st + (a - st) / 2) }'
    done
else
    echo "cli_bench: perf sched not available: no per-thread split"
fi
echo "cli_bench: load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
