#!/bin/sh
# bench/cli_bench.sh — `query --count` and `lookup` through the CLI, text in
# and text out, against a baseline binary (a80251a built in its own tree),
# and --threads 2 against one thread. CPU time (user + sys, from
# /usr/bin/time) is the figure on a shared machine; wall time is printed too.
# Figures go to bench/results-cli.md by hand.
#
# usage: sh bench/cli_bench.sh NEW_CLI BASE_CLI PREFIXES_CSV [LINES]
set -eu
new=$1
base=$2
prefixes=$3
lines=${4:-4000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_clibench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$base" build -o "$tmp/real.snap" "$prefixes" >/dev/null
python3 - "$tmp" "$lines" "$prefixes" <<'PY'
import ipaddress, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
with open(d + "/prefixes.txt", "w") as f:
    for _ in range(n):
        l = r.choice([8, 12, 16, 20, 24, 28, 32])
        a = r.getrandbits(32) & ((0xffffffff << (32 - l)) & 0xffffffff)
        f.write("%s/%d\n" % (ipaddress.IPv4Address(a), l))
with open(d + "/miss.txt", "w") as f:
    for _ in range(n):
        f.write("%s\n" % ipaddress.IPv4Address(r.getrandbits(32)))
nets = [ipaddress.ip_network(l.split(",")[2].strip()) for l in open(sys.argv[3]) if ",ipv4," in l]
with open(d + "/hit.txt", "w") as f:
    for _ in range(n):
        net = nets[r.randrange(len(nets))]
        f.write("%s\n" % (net.network_address + r.randrange(net.num_addresses)))
PY
run() { # LABEL CLI ARGS... < input: prints LABEL cpu wall lines/s
    label=$1
    shift
    /usr/bin/time -f "%U %S %e" -o "$tmp/t" "$@" >"$tmp/out.$label"
    set -- $(cat "$tmp/t")
    cpu=$(echo "$1 + $2" | bc)
    echo "$label cpu ${cpu}s wall ${3}s $(echo "$lines / $cpu / 1000000" | bc -l | cut -c1-5)M lines/s (cpu)"
}
for rep in 1 2 3; do
    run base-qcount "$base" query -e "$tmp/real.snap" --count - <"$tmp/prefixes.txt"
    run new-qcount "$new" query -e "$tmp/real.snap" --count - <"$tmp/prefixes.txt"
    run base-lookup-miss "$base" lookup -e "$tmp/real.snap" - <"$tmp/miss.txt"
    run new-lookup-miss "$new" lookup -e "$tmp/real.snap" - <"$tmp/miss.txt"
    run base-lookup-hit "$base" lookup -e "$tmp/real.snap" - <"$tmp/hit.txt"
    run new-lookup-hit "$new" lookup -e "$tmp/real.snap" - <"$tmp/hit.txt"
    run base-lcount "$base" lookup --count -e "$tmp/real.snap" - <"$tmp/hit.txt"
    run new-lcount "$new" lookup --count -e "$tmp/real.snap" - <"$tmp/hit.txt"
    run new-qcount-t2 "$new" query --threads 2 -e "$tmp/real.snap" --count - <"$tmp/prefixes.txt"
    run new-lookup-hit-t2 "$new" lookup --threads 2 -e "$tmp/real.snap" - <"$tmp/hit.txt"
done
cmp -s "$tmp/out.base-qcount" "$tmp/out.new-qcount" && cmp -s "$tmp/out.new-qcount" "$tmp/out.new-qcount-t2" &&
    cmp -s "$tmp/out.base-lookup-hit" "$tmp/out.new-lookup-hit" &&
    cmp -s "$tmp/out.new-lookup-hit" "$tmp/out.new-lookup-hit-t2" &&
    cmp -s "$tmp/out.base-lookup-miss" "$tmp/out.new-lookup-miss" && echo "outputs: identical (base, new, new --threads 2)"
