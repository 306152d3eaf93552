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
# Every command runs RUNS times, the binaries and thread counts ALTERNATING
# (A B A B ...) so that both see the same load; printed: the median CPU time
# (user + sys of the child, from getrusage: the figure on a shared machine),
# the median wall time, and the ratios. Outputs are compared before any
# figure is printed: base and new byte for byte for query --count, line
# count for lookup (the base's text columns were narrower); one thread and
# two byte for byte. Figures go to bench/results-cli.md by hand.
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
"$base" build -o "$tmp/base.snap" "$tmp/prefixes.csv" >/dev/null
"$new" build -o "$tmp/new.snap" "$tmp/prefixes.csv" >/dev/null
"$new" build -o "$tmp/estate.snap" "$tmp/estate.csv" >/dev/null
python3 - "$tmp" "$lines" <<'PY'
import ipaddress, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
nets = sorted({ipaddress.ip_network(l.split(",")[2].strip())
               for l in open(d + "/prefixes.csv") if ",ipv4," in l})
with open(d + "/queries.txt", "w") as f:
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
with open(d + "/addrs.txt", "w") as f:
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
python3 - "$tmp" "$new" "$base" "$runs" <<'PY'
import hashlib, resource, statistics, subprocess, sys
d, new, base, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def run(argv, stdin):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    import time
    t0 = time.monotonic()
    with open(stdin, "rb") as fin:
        p = subprocess.run(argv, stdin=fin, stdout=subprocess.PIPE)
    wall = time.monotonic() - t0
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        sys.exit("cli_bench: %s exited %d" % (" ".join(argv), p.returncode))
    cpu = a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime
    return cpu, wall, (hashlib.sha256(p.stdout).hexdigest(), p.stdout.count(b"\n"))

def bench(title, variants, stdin, same):
    """variants: (label, argv); alternated run by run."""
    t = {l: [] for l, _ in variants}
    out = {}
    for _ in range(runs):
        for l, argv in variants:
            c, w, o = run(argv, stdin)
            t[l].append((c, w))
            out[l] = o
    for a, b, how in same:
        if (out[a] if how == "bytes" else out[a][1]) != (out[b] if how == "bytes" else out[b][1]):
            sys.exit("cli_bench: %s: %s and %s answer differently" % (title, a, b))
    med = {l: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
           for l, v in t.items()}
    print("%s" % title)
    for l, (c, w) in med.items():
        print("  %-22s cpu %8.1f ms  wall %8.1f ms" % (l, 1000 * c, 1000 * w))
    return med

snap = {"base": d + "/base.snap", "new": d + "/new.snap"}
for verb, inp in (("query --count", "queries.txt"), ("lookup", "addrs.txt")):
    v = verb.split()
    variants = [("a80251a", [base, v[0], "-e", snap["base"]] + v[1:] + ["-"]),
                ("this tree", [new, v[0], "-e", snap["new"]] + v[1:] + ["-"]),
                ("this tree --threads 2", [new, v[0], "--threads", "2", "-e", snap["new"]] + v[1:] + ["-"])]
    m = bench(verb, variants, d + "/" + inp,
              [("a80251a", "this tree", "bytes" if verb.startswith("query") else "lines"),
               ("this tree", "this tree --threads 2", "bytes")])
    print("  cpu: this tree %.2fx a80251a; wall: --threads 2 %.2fx one thread" % (
        m["a80251a"][0] / m["this tree"][0], m["this tree"][1] / m["this tree --threads 2"][1]))
variants = [("one thread", [new, "check", "--threads", "1", "--format", "csv", "-e",
                            d + "/estate.snap", "--pairs", "-"]),
            ("--threads 2", [new, "check", "--threads", "2", "--format", "csv", "-e",
                             d + "/estate.snap", "--pairs", "-"])]
m = bench("check --pairs", variants, d + "/pairs.csv", [("one thread", "--threads 2", "bytes")])
print("  wall: --threads 2 %.2fx one thread" % (m["one thread"][1] / m["--threads 2"][1]))
PY
echo "cli_bench: load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
