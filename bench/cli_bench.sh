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
# usage: sh bench/cli_bench.sh NEW_CLI BASE_CLI [LINES [RUNS]]
set -eu
new=$1
base=$2
lines=${3:-200000}
runs=${4:-5}
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
python3 "$(dirname "$0")/peers/cli_times.py" org-83k "$tmp" "$runs" "$new" a80251a "$base" |
    tee "$tmp/times.tsv"
# ratios: CPU of a80251a over this tree; wall of one thread over two
awk -F'\t' '{ cpu[$3 "|" $4] = $6; split($10, w, " "); wall[$3 "|" $4] = w[2] }
    END {
        for (v = 0; v < 2; v++) {
            wl = v ? "cli-lookup" : "cli-query-count"
            printf "%s: this tree %.2fx a80251a (CPU); --threads 2 %.2fx one thread (wall)\n", wl,
                cpu[wl "|a80251a"] / cpu[wl "|cidrscope"],
                wall[wl "|cidrscope --threads 1"] / wall[wl "|cidrscope --threads 2"]
        }
        wl = "cli-check-pairs"
        printf "%s: --threads 2 %.2fx one thread (wall)\n", wl,
            wall[wl "|cidrscope --threads 1"] / wall[wl "|cidrscope --threads 2"]
    }' "$tmp/times.tsv"
echo "cli_bench: load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
