#!/bin/sh
# tests/cli/test_sources.sh — how every verb reads its sources (issue 11
# item 2, issue 13 item 11, issue 11 item 14): --source-region and
# --source-account apply to the sources after them (positional and -e),
# build and stat accept them, library messages name those flags; a source
# is opened once, so pipes, FIFOs, process substitution and `-` work;
# `cidrscope help VERB`; a missing source is exit 2 named once.
#
# usage: sh tests/cli/test_sources.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

vpc() { # vpc ID CIDR: one describe-vpcs page holding that VPC
    printf '{"Vpcs": [{"VpcId": "%s", "OwnerId": "111122223333", "CidrBlock": "%s"}]}\n' "$1" "$2"
}
vpc vpc-0a 10.0.0.0/16 >"$tmp/a.json"
vpc vpc-0b 10.0.128.0/17 >"$tmp/b.json"
vpc vpc-0c 10.9.0.0/16 >"$tmp/c.json"

# --- --source-region applies to what follows, positional sources ---------------
expect_rc 0 "$cli" stat --format json --source-region us-east-1 "$tmp/a.json" \
    --source-region eu-west-1 "$tmp/b.json" "$tmp/c.json"
py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["regions"] == 2 else 1)' "$tmp/out" ||
    fail "stat: two --source-region values gave $(cat "$tmp/out" | grep regions)"
# the first source has no region before it: refused, naming the flag that exists
expect_rc 2 "$cli" stat "$tmp/a.json" --source-region eu-west-1 "$tmp/b.json"
expect_in "$tmp/err" "a.json:1:"
expect_in "$tmp/err" "pass --source-region REGION"

# --- and -e sources of an item verb: each VPC labelled with its own region --------
expect_rc 0 "$cli" query --format json --source-region us-east-1 -e "$tmp/a.json" \
    --source-region eu-west-1 -e "$tmp/b.json" 10.0.0.0/16
py - "$tmp/out" <<'PY' || fail "query: regions not per source: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
seen = {}
def walk(x):
    if isinstance(x, dict):
        if 'vpc' in x and 'region' in x:
            seen[x['vpc']] = x['region']
        for v in x.values():
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(d)
sys.exit(0 if seen == {'vpc-0a': 'us-east-1', 'vpc-0b': 'eu-west-1'} else 1)
PY

# --- build accepts the same flags; the snapshot keeps both regions ---------------
expect_rc 0 "$cli" build --source-region us-east-1 "$tmp/a.json" --source-region=eu-west-1 \
    "$tmp/b.json" -o "$tmp/e.snap"
expect_rc 0 "$cli" stat --format json "$tmp/e.snap"
py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["regions"] == 2 else 1)' "$tmp/out" ||
    fail "build: --source-region not per source"
expect_rc 0 "$cli" build --help
expect_in "$tmp/out" "--source-region"
expect_rc 0 "$cli" stat --help
expect_in "$tmp/out" "--source-region"
# --region is a filter, not a source region: build and stat have none
expect_rc 2 "$cli" build --region us-east-1 "$tmp/a.json" -o "$tmp/x.snap"

# --- build and stat report the same account count (issue 11 item 14): a
# peering side's account and prefix-list owners are not accounts ----------------
printf 'pcx_id,requester_vpc,accepter_vpc,status\npcx-1,vpc-0a,vpc-0z,active\n' >"$tmp/p.csv"
printf '{"VpcPeeringConnections": [{"VpcPeeringConnectionId": "pcx-2", "Status": {"Code": "active"}, "RequesterVpcInfo": {"VpcId": "vpc-0a", "OwnerId": "111122223333"}, "AccepterVpcInfo": {"VpcId": "vpc-0y", "OwnerId": "999988887777"}}]}\n' >"$tmp/px.json"
expect_rc 0 "$cli" build --format json --source-region us-east-1 "$tmp/a.json" "$tmp/px.json" -o "$tmp/acc.snap"
build_accounts=$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["accounts"])' "$tmp/out")
expect_rc 0 "$cli" stat --format json "$tmp/acc.snap"
stat_accounts=$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["accounts"])' "$tmp/out")
[ "$build_accounts" = "$stat_accounts" ] && [ "$stat_accounts" = 1 ] ||
    fail "build says $build_accounts accounts, stat $stat_accounts (want 1 each)"

# --- a source is opened once: pipes, FIFOs, process substitution, '-' ------------
cat "$tmp/a.json" | expect_rc 0 "$cli" stat --format json --source-region us-east-1 -
py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["vpcs"] == 1 else 1)' "$tmp/out" ||
    fail "stat -: standard input not read"
printf 'account,region,vpc_id,cidr\n111122223333,us-east-1,vpc-1,10.0.0.0/16\n' >"$tmp/v.csv"
expect_rc 0 sh -c "cat '$tmp/v.csv' | '$cli' query -e - --count 10.0.0.0/8"
[ "$(cat "$tmp/out")" = "1" ] || fail "query -e - (CSV on a pipe): $(cat "$tmp/out") $(cat "$tmp/err")"
mkfifo "$tmp/fifo"
(cat "$tmp/v.csv" >"$tmp/fifo") &
expect_rc 0 timeout 20 "$cli" stat --format json "$tmp/fifo"
wait
py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["vpcs"] == 1 else 1)' "$tmp/out" ||
    fail "FIFO source not read once: $(cat "$tmp/err")"
(cat "$tmp/b.json" >"$tmp/fifo") &
expect_rc 0 timeout 20 "$cli" audit --format json --source-region eu-west-1 "$tmp/fifo" "$tmp/a.json" --source-region us-east-1
wait
if command -v bash >/dev/null 2>&1; then
    expect_rc 0 bash -c "'$cli' stat --format json --source-region us-east-1 <(cat '$tmp/a.json') <(cat '$tmp/v.csv')"
    py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["vpcs"] == 2 else 1)' "$tmp/out" ||
        fail "process substitution: $(cat "$tmp/out") $(cat "$tmp/err")"
fi

# --- --region / --account are filters only: verbs without filters refuse
# them, naming the flag that sets a source's region or account ----------------
for v in check mesh reach can-add; do
    expect_rc 2 "$cli" $v --region eu-west-1 -e "$tmp/a.json" vpc-1 vpc-2
    expect_in "$tmp/err" "write --source-region eu-west-1 before them"
    expect_rc 2 "$cli" $v --account 123456789012 -e "$tmp/a.json" vpc-1 vpc-2
    expect_in "$tmp/err" "write --source-account 123456789012 before them"
done
# every verb that reads sources takes --source-region and documents it
for v in audit stat query lookup check candidates mesh reach can-add build; do
    expect_rc 0 "$cli" $v --help
    expect_in "$tmp/out" "--source-region"
done

# --- help VERB, and a missing source named once --------------------------------
expect_rc 0 "$cli" help stat
expect_in "$tmp/out" "usage: cidrscope stat"
expect_rc 2 "$cli" help nosuchverb
expect_rc 2 "$cli" stat "$tmp/nope.json"
[ "$(grep -o 'nope.json' "$tmp/err" | wc -l)" -eq 1 ] || fail "missing file named more than once: $(cat "$tmp/err")"
expect_in "$tmp/err" "No such file"
mkdir -p "$tmp/est/111122223333/us-east-1"
cp "$tmp/a.json" "$tmp/est/111122223333/us-east-1/vpcs.json"
ln -s loop.json "$tmp/est/111122223333/us-east-1/loop.json"
expect_rc 2 "$cli" stat "$tmp/est"
expect_in "$tmp/err" "loop.json"

finish test_sources
