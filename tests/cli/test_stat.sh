#!/bin/sh
# tests/cli/test_stat.sh — `cidrscope stat`: counts from CSV fixtures (text
# and JSON), exit codes, errors with file:line:column and a caret, a snapshot
# file answering as its sources, and (when `gen` is built) a generated
# estate read as a JSON tree and as CSV giving the same counts.
#
# usage: sh tests/cli/test_stat.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
fix=$src/tests/fixtures/csv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_stat.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# expect_rc WANT CMD... : runs CMD, output to $tmp/out and $tmp/err.
expect_rc() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $(head -c 400 "$tmp/err")"
}

# json_num KEY FILE : the integer value of a top-level "KEY": N line.
json_num() {
    sed -n "s/^  \"$1\": \([0-9][0-9]*\),\{0,1\}$/\1/p" "$2" | head -n 1
}

# --- help and usage ---------------------------------------------------------
expect_rc 0 "$cli" stat --help
grep -q "usage: cidrscope stat" "$tmp/out" || fail "--help prints no usage"
expect_rc 2 "$cli" stat
expect_rc 2 "$cli" stat --bogus "$fix/vpcs.csv"
expect_rc 2 "$cli" stat --format xml "$fix/vpcs.csv"

# --- counts from the fixtures -------------------------------------------------
expect_rc 0 "$cli" stat --format json "$fix/vpcs.csv" "$fix/peerings.csv"
cp "$tmp/out" "$tmp/stat.json"
for kv in accounts=2 regions=2 vpcs=3 default_vpcs=1 peering_connections=2 findings=1; do
    k=${kv%%=*}
    v=${kv#*=}
    got=$(json_num "$k" "$tmp/stat.json")
    [ "$got" = "$v" ] || fail "json $k = '$got', expected $v"
done
grep -q '"peering_by_status": {.*"active": 1' "$tmp/stat.json" || fail "peering_by_status lacks active: 1"
grep -q '"pending-acceptance": 1' "$tmp/stat.json" || fail "peering_by_status lacks pending-acceptance: 1"
grep -q '"peering-unknown-vpc": 1' "$tmp/stat.json" || fail "findings_by_kind lacks peering-unknown-vpc"
grep -q '"ipv4": {"live": 3, "dead": 1}' "$tmp/stat.json" || fail "ipv4 live/dead wrong"

expect_rc 0 "$cli" stat "$fix/vpcs.csv" "$fix/peerings.csv"
grep -q "^vpcs  *3  (1 default)" "$tmp/out" || fail "text output: vpcs line"
grep -q "^  active  *1" "$tmp/out" || fail "text output: active peerings"

expect_rc 0 "$cli" stat --findings "$fix/peerings.csv"
grep -q "peerings.csv:2:21: peering-unknown-vpc: " "$tmp/out" || fail "--findings lacks a located finding"

# prefix lists: owners are not VPCs
expect_rc 0 "$cli" stat --format json "$fix/prefixes.csv" "$fix/providers.csv"
[ "$(json_num vpcs "$tmp/out")" = 0 ] || fail "prefix-list owners counted as VPCs"
[ "$(json_num prefix_list_owners "$tmp/out")" = 4 ] || fail "prefix_list_owners != 4"

# --- bad input: exit 2, file:line:column, caret ---------------------------------
printf 'account,region,vpc_id,cidr\n111111111111,us-east-1,vpc-1,10.0.0.0/16\n111111111111,us-east-1,vpc-2,10.0.0.1/16\n' >"$tmp/bad.csv"
expect_rc 2 "$cli" stat "$tmp/bad.csv"
grep -q "bad.csv:3:30: bad CIDR" "$tmp/err" || fail "error lacks file:line:column: $(cat "$tmp/err")"
grep -q '\^' "$tmp/err" || fail "error lacks a caret"
expect_rc 0 "$cli" stat --lenient --format json "$tmp/bad.csv"
grep -q '"host-bits-normalised": 1' "$tmp/out" || fail "--lenient: no host-bits finding"
printf 'account,region,vpc_id,cidr\n111111111111,us-east-1,vpc-1,10.0.0.0/16\n1,us-east-1,vpc-2,10.2.0.0/16\n111111111111,us-east-1,vpc-3,10.3.0.0/16\n' >"$tmp/kg.csv"
expect_rc 2 "$cli" stat "$tmp/kg.csv"
expect_rc 0 "$cli" stat --keep-going --format json "$tmp/kg.csv"
[ "$(json_num vpcs "$tmp/out")" = 2 ] || fail "--keep-going: vpcs != 2"
[ "$(json_num rejected "$tmp/out")" = 1 ] || fail "--keep-going: rejected != 1"
grep -q "kg.csv:3:1" "$tmp/err" || fail "--keep-going: rejection not reported on stderr"
: >"$tmp/empty.csv"
expect_rc 2 "$cli" stat "$tmp/empty.csv"
expect_rc 2 "$cli" stat "$tmp/does-not-exist.csv"
# the path is named once: "cidrscope stat: PATH: cannot open: No such file ..."
[ "$(grep -o 'does-not-exist.csv' "$tmp/err" | wc -l)" -eq 1 ] || fail "missing file named more than once: $(cat "$tmp/err")"
grep -q "No such file" "$tmp/err" || fail "missing file: no reason given"

# --- a snapshot file answers as its sources -------------------------------------
if "$cli" build --help >/dev/null 2>&1; then
    expect_rc 0 "$cli" build "$fix/vpcs.csv" "$fix/peerings.csv" -o "$tmp/e.snap"
    expect_rc 0 "$cli" stat --format json "$tmp/e.snap"
    grep -v image_bytes "$tmp/out" >"$tmp/a"
    grep -v image_bytes "$tmp/stat.json" >"$tmp/b"
    cmp -s "$tmp/a" "$tmp/b" || fail "snapshot stat differs from source stat: $(diff "$tmp/a" "$tmp/b")"
fi

# --- a generated estate: JSON tree and CSV agree ---------------------------------
if "$cli" gen --help >/dev/null 2>&1; then
    expect_rc 0 "$cli" gen --seed 11 --accounts 4 --regions 3 --out "$tmp/est" -q
    expect_rc 0 "$cli" gen --seed 11 --accounts 4 --regions 3 --out "$tmp/est.csv" --format csv -q
    expect_rc 0 "$cli" stat --format json "$tmp/est"
    grep -v -e image_bytes -e '"tags"' "$tmp/out" >"$tmp/a"
    [ "$(json_num accounts "$tmp/out")" = 4 ] || fail "generated estate: accounts != 4"
    [ "$(json_num regions "$tmp/out")" = 3 ] || fail "generated estate: regions != 3"
    expect_rc 0 "$cli" stat --format json "$tmp/est.csv" "$tmp/est-peering.csv"
    grep -v -e image_bytes -e '"tags"' "$tmp/out" >"$tmp/b"
    cmp -s "$tmp/a" "$tmp/b" || fail "JSON tree and CSV of one estate differ: $(diff "$tmp/a" "$tmp/b")"
fi

# --- pages: a region directory of several pages, concatenated documents and a
# `jq -s` array reads as the unsplit tree (issue 11 item 1) ----------------------
# split_pages TREE MODE: rewrites every vpcs.json of TREE as pages of 7 VPCs:
# MODE files (vpcs.json, vpcs-2.json, ...), cat (documents one after the
# other in vpcs.json) or slurp (one array of pages); adds a README beside.
split_pages() {
    python3 - "$1" "$2" <<'PY'
import json, os, sys
tree, mode = sys.argv[1], sys.argv[2]
for root, dirs, files in os.walk(tree):
    if 'vpcs.json' not in files:
        continue
    path = os.path.join(root, 'vpcs.json')
    with open(path) as f:
        vpcs = json.load(f)['Vpcs']
    pages = [{'Vpcs': vpcs[i:i + 7]} for i in range(0, max(len(vpcs), 1), 7)]
    os.remove(path)
    if mode == 'files':
        for n, p in enumerate(pages):
            name = 'vpcs.json' if n == 0 else 'vpcs-%d.json' % (n + 1)
            with open(os.path.join(root, name), 'w') as f:
                json.dump(p, f)
    elif mode == 'cat':
        with open(path, 'w') as f:
            for p in pages:
                json.dump(p, f)
                f.write('\n')
    else:
        with open(path, 'w') as f:
            json.dump(pages, f)
    with open(os.path.join(root, 'README'), 'w') as f:
        f.write('pages of aws ec2 describe-vpcs\n')
PY
}

# summary_of FILE: the audit JSON's summary object, keys sorted.
summary_of() {
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["summary"], sort_keys=True))' "$1"
}

# stat_figures FILE: stat JSON without the image size and without the
# skipped-file findings the READMEs add.
stat_figures() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("image_bytes", None)
k = d["findings_by_kind"]
d["findings"] -= k.pop("skipped-file", 0)
print(json.dumps(d, sort_keys=True))' "$1"
}

# paged_equal TREE MODE: TREE's stat and audit figures, then TREE split in
# place into pages (MODE), read again: the same figures, READMEs listed.
paged_equal() {
    expect_rc 0 "$cli" stat --format json "$1"
    stat_figures "$tmp/out" >"$tmp/stat.want"
    expect_rc 0 "$cli" audit --format json "$1"
    summary_of "$tmp/out" >"$tmp/audit.want"
    split_pages "$1" "$2"
    expect_rc 0 "$cli" stat --format json --findings "$1"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["stat"]))' "$tmp/out" >"$tmp/stat.got.raw"
    stat_figures "$tmp/stat.got.raw" >"$tmp/stat.got"
    cmp -s "$tmp/stat.want" "$tmp/stat.got" || fail "pages ($2): stat differs: $(diff "$tmp/stat.want" "$tmp/stat.got" | head -5)"
    grep -q '"kind": "skipped-file"' "$tmp/out" || fail "pages ($2): README not listed as skipped"
    expect_rc 0 "$cli" audit --format json "$1"
    summary_of "$tmp/out" >"$tmp/audit.got"
    cmp -s "$tmp/audit.want" "$tmp/audit.got" || fail "pages ($2): audit summary differs: $(diff "$tmp/audit.want" "$tmp/audit.got" | head -5)"
}

if command -v python3 >/dev/null 2>&1 && "$cli" gen --help >/dev/null 2>&1; then
    for mode in files cat slurp; do
        rm -rf "$tmp/small"
        expect_rc 0 "$cli" gen --seed 7 --accounts 12 --regions 5 --out "$tmp/small" -q
        paged_equal "$tmp/small" "$mode"
    done
    rm -rf "$tmp/small"
    # The acceptance case: 100,000 VPCs (1,000 accounts x 25 regions x 4)
    # saved as pages of 7.
    expect_rc 0 "$cli" gen --seed 5 --accounts 1000 --regions 25 --out "$tmp/big" -q
    paged_equal "$tmp/big" files
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vpcs"])' "$tmp/stat.got.raw")" -ge 100000 ] ||
        fail "generated tree: fewer than 100,000 VPCs"
    rm -rf "$tmp/big"
fi

if [ "$fails" -ne 0 ]; then
    echo "test_stat: $fails failure(s)" >&2
    exit 1
fi
echo "test_stat: ok"
