#!/bin/sh
# tests/cli/test_gen.sh — `cidrscope gen`: the same seed twice gives the same
# bytes (tree and CSV), another seed other bytes; the checked-in
# datasets/sample is exactly what its documented command writes; the tree
# has the ESTATE/<12-digit account>/<region>/{vpcs,peering}.json layout and
# every file is AWS CLI JSON (4-space indent, the CLI's key order); usage
# errors exit 2. The round trip (generate -> load -> freeze) is
# tests/test_gen.c.
#
# usage: sh tests/cli/test_gen.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

gen() {
    expect_rc 0 "$cli" gen -q "$@"
}

# ---- determinism ------------------------------------------------------------
gen --seed 11 --accounts 7 --regions 3 --vpcs-per-region 5 --out "$tmp/a"
gen --seed 11 --accounts 7 --regions 3 --vpcs-per-region 5 --out "$tmp/b"
diff -r "$tmp/a" "$tmp/b" >/dev/null || fail "same seed, different trees"
gen --seed 12 --accounts 7 --regions 3 --vpcs-per-region 5 --out "$tmp/c"
diff -r "$tmp/a" "$tmp/c" >/dev/null 2>&1 && fail "another seed, same tree"

gen --seed 11 --accounts 7 --regions 3 --vpcs-per-region 5 --format csv --out "$tmp/a.csv"
gen --seed 11 --accounts 7 --regions 3 --vpcs-per-region 5 --format csv --out "$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "same seed, different VPC CSV"
cmp -s "$tmp/a-peering.csv" "$tmp/b-peering.csv" || fail "same seed, different peering CSV"

# ---- layout -----------------------------------------------------------------
n_acct=0
for a in "$tmp/a"/*; do
    n_acct=$((n_acct + 1))
    name=${a##*/}
    case $name in
        [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
        *) fail "account directory '$name' is not 12 digits" ;;
    esac
    n_reg=0
    for r in "$a"/*; do
        n_reg=$((n_reg + 1))
        [ -f "$r/vpcs.json" ] || fail "$r: no vpcs.json"
        [ -f "$r/peering.json" ] || fail "$r: no peering.json"
    done
    [ "$n_reg" -eq 3 ] || fail "$a: $n_reg regions, expected 3"
done
[ "$n_acct" -eq 7 ] || fail "$n_acct accounts, expected 7"
[ -d "$tmp/a/$(ls "$tmp/a" | head -n 1)/us-east-1" ] || fail "first region is not us-east-1"

# The CLI's print format: a 4-space indent, "Vpcs" first, OwnerId first in a
# Vpc and DhcpOptionsId last, a final newline.
f=$(ls "$tmp"/a/*/us-west-2/vpcs.json | head -n 1)
[ "$(head -n 3 "$f")" = '{
    "Vpcs": [
        {' ] || fail "$f does not open as describe-vpcs output"
sed -n 4p "$f" | grep -q '^            "OwnerId": "[0-9]\{12\}",$' || fail "$f: OwnerId is not the first key"
grep -q '^            "DhcpOptionsId": "dopt-0[0-9a-f]\{16\}"$' "$f" || fail "$f: DhcpOptionsId is not a last key"
[ "$(tail -c 2 "$f" | od -An -c | tr -d ' ')" = '}\n' ] || fail "$f: no final newline"
p=$(ls "$tmp"/a/*/us-east-1/peering.json | head -n 1)
[ "$(head -n 1 "$p")" = '{' ] && sed -n 2p "$p" | grep -q '^    "VpcPeeringConnections": \[' ||
    fail "$p does not open as describe-vpc-peering-connections output"
{
    # An independent JSON parser: every file parses, and re-printing it the
    # way the AWS CLI prints (json.dumps, indent 4, no ASCII escaping) gives
    # back the same bytes.
    py - "$tmp/a" <<'EOF' || fail "files are not exactly as the AWS CLI prints them"
import json, os, sys
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        path = os.path.join(root, name)
        raw = open(path, encoding="utf-8").read()
        again = json.dumps(json.loads(raw), indent=4, ensure_ascii=False) + "\n"
        if again != raw:
            print("differs:", path, file=sys.stderr)
            sys.exit(1)
EOF
}

# Every connection is printed, identically, in the peering.json of each of
# its sides' account-regions that is in the estate (once when both sides
# share one; a partner outside the estate has no file).
{
    py - "$tmp/a" <<'EOF' || fail "connections not printed by both sides"
import json, os, sys
top = sys.argv[1]
seen = {}
for acct in os.listdir(top):
    for region in os.listdir(os.path.join(top, acct)):
        path = os.path.join(top, acct, region, "peering.json")
        for c in json.load(open(path, encoding="utf-8"))["VpcPeeringConnections"]:
            seen.setdefault(c["VpcPeeringConnectionId"], []).append(((acct, region), c))
bad = 0
for pcx, where in seen.items():
    c = where[0][1]
    sides = {(c[k]["OwnerId"], c[k]["Region"]) for k in ("RequesterVpcInfo", "AccepterVpcInfo")}
    want = {s for s in sides if os.path.isdir(os.path.join(top, *s))}
    got = [w for w, _ in where]
    if sorted(got) != sorted(want) or any(x != c for _, x in where):
        print(pcx, "in", got, "expected", sorted(want), file=sys.stderr)
        bad += 1
sys.exit(bad != 0)
EOF
}

# ---- golden bytes -------------------------------------------------------------
# Small outputs of both shapes in both formats, hashed: the generator's
# bytes for given options never change by accident (a refactoring of
# datasets/gen must keep them; a deliberate change updates these and
# datasets/sample together).
tree_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64); }
gen --shape org --seed 3 --accounts 12 --regions 2 --out "$tmp/org-tree"
gen --shape org --seed 3 --accounts 12 --regions 2 --format csv --out "$tmp/org-g.csv"
gen --shape dense --seed 5 --accounts 3 --regions 3 --vpcs-per-region 9 --format csv --out "$tmp/dense-g.csv"
gen --shape dense --seed 5 --accounts 3 --regions 3 --vpcs-per-region 9 --out "$tmp/dense-tree"
for pair in \
    "$(tree_hash "$tmp/a") d33a85e6827445f6ba0b326571a775fb3aaf217deae5cfae80af28d50349109a default-tree" \
    "$(cat "$tmp/a.csv" "$tmp/a-peering.csv" | sha256sum | cut -c1-64) d7cffee4ee60c214fb9d6a26499a6e3747beb1edc9a85817904cfb075236f3ff default-csv" \
    "$(tree_hash "$tmp/org-tree") fdce92a5ab4948ea6d075bdf07ac0fed5dc929c13ec49ea4a9663ca82bac7d66 org-tree" \
    "$(cat "$tmp/org-g.csv" "$tmp/org-g-peering.csv" | sha256sum | cut -c1-64) a247e8c213f7da24c254490faefc5c49152c652d4d83c6884bf7f066e9de3014 org-csv" \
    "$(cat "$tmp/dense-g.csv" "$tmp/dense-g-peering.csv" | sha256sum | cut -c1-64) 83344795059afe5b3ccc72464df747e9cd20107c713c0ea0267be8e7a6c30a4f dense-csv" \
    "$(tree_hash "$tmp/dense-tree") 0a269f86a31383ec3393fd626676497ce0f903ed37363a8ec2d15a0101da5cf0 dense-tree"; do
    set -- $pair
    [ "$1" = "$2" ] || fail "gen $3: bytes changed (sha256 $1, golden $2)"
done

# ---- the checked-in sample ---------------------------------------------------
gen --seed 2025 --accounts 6 --regions 2 --vpcs-per-region 4 --out "$tmp/sample"
gen --seed 2025 --accounts 6 --regions 2 --vpcs-per-region 4 --format csv --out "$tmp/sample.csv"
diff -r "$src/datasets/sample" "$tmp/sample" >/dev/null ||
    fail "datasets/sample is not what its command in datasets/README.md writes"
cmp -s "$src/datasets/sample.csv" "$tmp/sample.csv" ||
    fail "datasets/sample.csv is stale"
cmp -s "$src/datasets/sample-peering.csv" "$tmp/sample-peering.csv" ||
    fail "datasets/sample-peering.csv is stale"
grep -q -- "--seed 2025 --accounts 6 --regions 2 --vpcs-per-region 4 --out datasets/sample" \
    "$src/datasets/README.md" || fail "datasets/README.md does not give the sample's command"

# ---- usage ------------------------------------------------------------------
expect_rc 0 "$cli" gen --help
grep -q "us-east-1" "$tmp/out" || fail "gen --help does not list regions"
expect_rc 2 "$cli" gen --accounts 1 --regions 1 --out "$tmp/x"
grep -q -- "--seed" "$tmp/err" || fail "missing --seed not named"
expect_rc 2 "$cli" gen --seed 1 --accounts 1 --regions 99 --out "$tmp/x"
expect_rc 2 "$cli" gen --seed 1 --accounts 0 --regions 1 --out "$tmp/x"
expect_rc 2 "$cli" gen --seed x --accounts 1 --regions 1 --out "$tmp/x"
expect_rc 2 "$cli" gen --seed 1 --accounts 1 --regions 1 --format xml --out "$tmp/x"
expect_rc 2 "$cli" gen --seed 1 --accounts 1 --regions 1 --out "$tmp/a"
grep -q "not empty" "$tmp/err" || fail "non-empty --out not refused"
expect_rc 3 "$cli" gen --seed 1 --accounts 1 --regions 1 --format csv --out "$tmp/no/such/dir.csv"
# --out - is refused (several files, no one stream), in both formats, and
# leaves no file named "-" behind.
for f in dir csv; do
    (cd "$tmp" && "$cli" gen --seed 1 --accounts 1 --regions 1 --format $f --out -) \
        >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || fail "gen --format $f --out - exited $rc, expected 2"
    [ -e "$tmp/-" ] && fail "gen --format $f --out - wrote a file named -"
done
expect_rc 2 "$cli" gen --seed 1 --accounts 1 --regions 1 --format csv --out -
grep -q "standard output" "$tmp/err" || fail "--out - not refused with a reason"
# --shape org: deterministic per seed, other seeds other bytes, defaults
# of 38,000 accounts x 17 regions overridable; unknown shapes refused
for n in 1 2; do
    expect_rc 0 "$cli" gen -q --shape org --seed 3 --accounts 12 --regions 2 --format csv \
        --out "$tmp/org$n.csv"
done
cmp -s "$tmp/org1.csv" "$tmp/org2.csv" || fail "gen --shape org: same seed, other bytes"
expect_rc 0 "$cli" gen -q --shape org --seed 4 --accounts 12 --regions 2 --format csv \
    --out "$tmp/org3.csv"
cmp -s "$tmp/org1.csv" "$tmp/org3.csv" && fail "gen --shape org: another seed, same bytes"
[ "$(wc -l <"$tmp/org1.csv")" -gt 24 ] || fail "gen --shape org: fewer rows than VPCs"
expect_rc 2 "$cli" gen --shape nope --seed 1 --accounts 1 --regions 1 --out "$tmp/y"
# --shape dense: at most 128 VPCs
expect_rc 2 "$cli" gen --shape dense --seed 1 --accounts 3 --regions 3 --vpcs-per-region 15 \
    --out "$tmp/y"
grep -q "at most 128 VPCs" "$tmp/err" || fail "gen --shape dense over 128 VPCs not refused"
expect_rc 0 "$cli" gen --seed 1 --accounts 1 --regions 1 --vpcs-per-region 1 --out "$tmp/tiny"
grep -q "1 VPCs" "$tmp/err" || fail "no summary on stderr"

finish test_gen.sh
