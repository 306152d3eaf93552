#!/bin/sh
# tests/cli/test_ipam.sh — `cidrscope free` and `alloc`: every format (JSON
# parsed back: figures add up, holes cover exactly the free space), exit
# codes, and the check that matters: alloc's blocks piped into
# `audit --what-if` add no overlap, for every strategy (with a control
# plan that does overlap, so the check can fail).
#
# usage: sh tests/cli/test_ipam.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
fix=$src/tests/cli/golden/fixture-vpcs.csv


# ---- usage -----------------------------------------------------------------------
expect_rc 0 "$cli" free --help
grep -q "usage: cidrscope free" "$tmp/out" || fail "free --help"
expect_rc 0 "$cli" alloc --help
grep -q "usage: cidrscope alloc" "$tmp/out" || fail "alloc --help"
expect_rc 2 "$cli" free -e "$fix"
expect_rc 2 "$cli" free -e "$fix" --pool 10.0.0.1/8
expect_rc 2 "$cli" alloc -e "$fix" --pool 10.0.0.0/8
expect_rc 2 "$cli" alloc -e "$fix" --pool 10.0.0.0/8 --length 20 --strategy worst
expect_rc 2 "$cli" alloc -e "$fix" --pool 10.0.0.0/8 --length 20 --avoid some
expect_rc 2 "$cli" alloc -e "$fix" --pool 10.0.0.0/8 --pool 2600::/32 --length 20
expect_rc 2 "$cli" alloc -e "$fix" --pool 10.0.0.0/8 --length 20 --peerable-with vpc-nosuch

# ---- free: figures add up, holes are exactly the free space --------------------
expect_rc 0 "$cli" free -e "$fix" --pool 10.0.0.0/14 --pool 2600:1f18::/32 --format json
cp "$tmp/out" "$tmp/free.json"
py - "$tmp/free.json" <<'PY' || fail "free JSON"
import ipaddress, json, sys
d = json.load(open(sys.argv[1]))
assert len(d["pools"]) == 2
for p in d["pools"]:
    for k in ("pool", "addresses", "used", "free", "largest_free", "fragmentation", "free_blocks"):
        assert k in p, k
    pool = ipaddress.ip_network(p["pool"])
    assert p["addresses"] == pool.num_addresses
    assert p["used"] + p["free"] == p["addresses"]
    blocks = [ipaddress.ip_network(b) for b in p["free_blocks"]]
    assert sum(b.num_addresses for b in blocks) == p["free"]
    assert all(b.subnet_of(pool) for b in blocks)
    assert blocks == sorted(blocks)
    big = min(blocks, key=lambda b: (b.prefixlen, b))
    assert p["largest_free"] == str(big)
PY
grep -q '"pool": "10.0.0.0/14"' "$tmp/free.json" || fail "free JSON pool"
grep -q '"10.2.0.0/15"' "$tmp/free.json" || fail "free JSON hole 10.2.0.0/15"
expect_rc 0 "$cli" free -e "$fix" --pool 10.0.0.0/14
grep -q "^pool 10.0.0.0/14: 262144 addresses, 65536 used, 196608 free" "$tmp/out" ||
    fail "free text: $(head -2 "$tmp/out")"
expect_rc 0 "$cli" free -e "$fix" --pool 10.0.0.0/14 --format csv
[ "$(head -1 "$tmp/out")" = "pool,free_block,addresses" ] || fail "free CSV header"
grep -q "^10.0.0.0/14,10.1.0.0/16,65536$" "$tmp/out" || fail "free CSV row"
expect_rc 0 "$cli" free -e "$fix" --pool 10.0.0.0/14 --min-length 15 --format csv
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "--min-length 15 keeps one hole"
expect_rc 0 "$cli" free -e "$fix" --pool 10.0.0.0/14 --exclude 10.2.0.0/16 --format csv
grep -q ",10.3.0.0/16," "$tmp/out" || fail "--exclude splits the hole"

# ---- alloc: formats, exit 1 with the ones that fit --------------------------------
expect_rc 0 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --format json
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["allocations"]==[{"prefix":"10.1.0.0/16","pool":"10.0.0.0/14"}], d; assert d["generation"]==0' "$tmp/out" ||
    fail "alloc JSON: $(cat "$tmp/out")"
expect_rc 1 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --count 5 --format json
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["allocations"])==3 and d["reason"]=="no-space" and d["requested"]==5, d' "$tmp/out" ||
    fail "alloc short JSON: $(cat "$tmp/out")"
expect_rc 1 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --count 5
grep -q "only 3 of 5 blocks of /16: no-space" "$tmp/out" || fail "alloc short text"
expect_rc 0 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --strategy best-fit --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.1.0.0/16,10.0.0.0/14" ] || fail "best-fit: $(cat "$tmp/out")"
expect_rc 0 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --strategy spread --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.2.0.0/16,10.0.0.0/14" ] || fail "spread: $(cat "$tmp/out")"
expect_rc 0 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --avoid none --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.0.0.0/16,10.0.0.0/14" ] || fail "--avoid none"
expect_rc 0 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 16 --allowed 10.3.0.0/16 --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.3.0.0/16,10.0.0.0/14" ] || fail "--allowed"
# IPv4 /29 is no VPC block size
expect_rc 1 "$cli" alloc -e "$fix" --pool 10.0.0.0/14 --length 29 --peerable-with vpc-0a00000000000000a
grep -q "vpc-block-size" "$tmp/out" || fail "peerable-with size rule: $(cat "$tmp/out")"

# ---- pools from AWS IPAM (tests/fixtures/ipam: describe-ipam-pools,
# get-ipam-pool-cidrs, get-ipam-pool-allocations in their AWS shapes) --------------
aws=$src/tests/fixtures/ipam/pools
bad=$src/tests/fixtures/ipam/bad
p1=ipam-pool-0a1b2c3d4e5f60001
# --length defaults to AllocationDefaultNetmaskLength (/22); the pool's
# allocations 10.1.0.0/22 and 10.1.4.0/22 are used, its failed CIDR is not a pool
expect_rc 0 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool "$p1" --format json
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["allocations"]==[{"prefix":"10.1.8.0/22","pool":"10.0.0.0/14","ipam_pool":"ipam-pool-0a1b2c3d4e5f60001"}], d' "$tmp/out" ||
    fail "IPAM pool default length: $(cat "$tmp/out")"
expect_rc 0 "$cli" alloc -e "$fix" --ipam-pools "$aws/describe-ipam-pools.json" \
    --ipam-pools "$aws/$p1.cidrs.json" --ipam-pools "$aws/$p1.allocations.json" \
    --pool "$p1" --length 20 --count 2 --format csv
[ "$(sed -n 2,3p "$tmp/out" | tr '\n' ' ')" = "10.1.16.0/20,10.0.0.0/14 10.1.32.0/20,10.0.0.0/14 " ] ||
    fail "IPAM pool from files, --length 20: $(cat "$tmp/out")"
# the rules, named
expect_rc 2 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool "$p1" --length 19
expect_in "$tmp/err" "/19 is refused by pool $p1: shorter than its AllocationMinNetmaskLength 20"
expect_rc 2 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool "$p1" --length 25
expect_in "$tmp/err" "/25 is refused by pool $p1: longer than its AllocationMaxNetmaskLength 24"
expect_rc 2 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool ipam-pool-0a1b2c3d4e5f60000
expect_in "$tmp/err" "has no AllocationDefaultNetmaskLength: give --length"
expect_rc 2 "$cli" alloc -e "$fix" --pool "$p1"
expect_in "$tmp/err" "an AWS IPAM pool id needs --ipam-pools PATH"
expect_rc 2 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool ipam-pool-0a1b2c3d4e5f6000f
expect_in "$tmp/err" "not in the --ipam-pools read"
# IPv6 pool: default /56 in 2600:1f18:aaa0::/44; the estate holds
# 2600:1f18:aaaa::/48, so the smallest hole is aaab::/48 (best-fit)
expect_rc 0 "$cli" alloc -e "$fix" --ipam-pools "$aws" --pool ipam-pool-0a1b2c3d4e5f60002 \
    --strategy best-fit --format csv
[ "$(sed -n 2p "$tmp/out")" = "2600:1f18:aaab::/56,2600:1f18:aaa0::/44" ] ||
    fail "IPv6 IPAM pool: $(cat "$tmp/out")"
# free of the top-level pool: its child pool's allocation 10.0.0.0/14 is used
expect_rc 0 "$cli" free -e "$fix" --ipam-pools "$aws" --pool ipam-pool-0a1b2c3d4e5f60000 \
    --format json
py -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["pools"][0]; assert p["ipam_pool"]=="ipam-pool-0a1b2c3d4e5f60000" and p["pool"]=="10.0.0.0/8" and p["free_blocks"][0]=="10.4.0.0/14", p' "$tmp/out" ||
    fail "free of an IPAM pool: $(head -c 400 "$tmp/out")"
# bad files: exact file, line and column
while IFS="|" read -r file msg; do
    expect_rc 2 "$cli" free -e "$fix" --ipam-pools "$bad/$file" --pool 10.0.0.0/8 </dev/null
    expect_in "$tmp/err" "$file:$msg"
done <<'EOF'
family.json|5:30: AddressFamily: expected "ipv4" or "ipv6"
min_max.json|2:3: pool ipam-pool-0b0000000000000002: AllocationMinNetmaskLength is longer than AllocationMaxNetmaskLength
ipam-pool-0b0000000000000003.cidrs.json|3:22: Cidr: octet 300 > 255
unnamed-cidrs.json|1:2: get-ipam-pool-cidrs output names no pool
length.json|1:16: pool ipam-pool-0b0000000000000004: AllocationMaxNetmaskLength longer than the family's width
truncated.json|2:1: not JSON
EOF
expect_rc 2 "$cli" free -e "$fix" --ipam-pools "$tmp/no-such-dir" --pool 10.0.0.0/8

# ---- alloc | audit --what-if: no new overlap --------------------------------------
"$cli" gen --seed 11 --accounts 8 --regions 3 --vpcs-per-region 6 --format csv \
    --out "$tmp/est.csv" -q || fail "gen"
est="$tmp/est.csv"
[ -f "$tmp/est-peering.csv" ] && est="$est $tmp/est-peering.csv"
ests=
for f in $est; do ests="$ests -e $f"; done
for strat in first best-fit spread; do
    # shellcheck disable=SC2086
    "$cli" alloc $ests --pool 10.0.0.0/8 --pool 172.16.0.0/12 --length 20 --count 40 \
        --strategy "$strat" --format csv >"$tmp/alloc.csv" 2>"$tmp/err" ||
        fail "alloc $strat: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/alloc.csv")" -eq 41 ] || fail "alloc $strat: $(wc -l <"$tmp/alloc.csv") lines"
    awk -F, 'NR > 1 { printf "999999999999,us-east-1,vpc-%017d,%s\n", NR, $1 }' \
        "$tmp/alloc.csv" >"$tmp/plan.csv"
    # shellcheck disable=SC2086
    expect_rc 0 "$cli" audit --format json --fail-on any --what-if "$tmp/plan.csv" $est
done
# the control: a plan reusing a live block of the estate is caught
sed -n 2p "$tmp/est.csv" | awk -F, '{ printf "999999999999,us-east-1,vpc-%017d,%s\n", 1, $4 }' \
    >"$tmp/bad.csv"
# shellcheck disable=SC2086
expect_rc 1 "$cli" audit --format json --fail-on any --what-if "$tmp/bad.csv" $est

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "test_ipam.sh: ok"
