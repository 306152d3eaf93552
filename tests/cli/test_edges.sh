#!/bin/sh
# tests/cli/test_edges.sh — edge attachments from CSV (vpc_id,kind,edge_id):
# counted by stat, used by reach (no edge-to-edge routing, never transitive),
# and bad rows reported with file, line and column.
# usage: sh test_edges.sh CLI SOURCE_DIR
set -u
cli=$1
f=$2/tests/fixtures/edges
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$2" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
est="-e $f/vpcs.csv -e $f/peering.csv -e $f/edges.csv"

# shellcheck disable=SC2086
"$cli" stat --format json $est >"$tmp/stat.json" || fail "stat exit $?"
python3 - "$tmp/stat.json" <<'PY' || fail "stat edge counts"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["edges"] == 3, d["edges"]
assert d["edges_by_kind"] == {"internet-gateway": 1, "nat": 1, "gateway-endpoint": 1}, d
PY

# A is peered with B, B has an internet gateway and a NAT: A cannot use them.
# shellcheck disable=SC2086
"$cli" reach --format json $est vpc-0aaaaaaaaaaaaaaa1 8.8.8.8 >"$tmp/r1.json" || fail "reach exit $?"
python3 - "$tmp/r1.json" <<'PY' || fail "reach A -> internet through B's gateways"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["reachable"] is False
edges = sorted(r["edge"]["id"] for r in d["results"] if r["code"] == "edge-to-edge")
assert edges == ["igw-0e0000000000000b1", "nat-0e0000000000000b2"], edges
PY
python3 tests/cli/schema_check.py docs/schema/reach.schema.json "$tmp/r1.json" ||
    fail "reach JSON does not match docs/schema/reach.schema.json"
# Without the edges file the same question has no edge to name: the command
# must succeed and answer (a crash or an empty answer fails), without
# edge-to-edge.
"$cli" reach --format json -e "$f/vpcs.csv" -e "$f/peering.csv" vpc-0aaaaaaaaaaaaaaa1 8.8.8.8 \
    >"$tmp/r0.json" || fail "reach without edges exit $?"
python3 - "$tmp/r0.json" <<'PY' || fail "reach without edges: a complete answer without edge-to-edge"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["reachable"] is False, d["summary"]
codes = [r["code"] for r in d["results"]]
assert codes and "edge-to-edge" not in codes, codes
PY
# A-B and B-C peered: A cannot reach C through B.
# shellcheck disable=SC2086
"$cli" reach $est vpc-0aaaaaaaaaaaaaaa1 vpc-0ccccccccccccccc3 >"$tmp/r2.txt" || fail "reach A C exit $?"
grep -q "transitive" "$tmp/r2.txt" || fail "A -> C not reported as transitive"
# A malformed destination is a parse error with a caret, exit 2 (not an
# unknown VPC answered "not reachable").
for bad in 10.0.0.0/33 010.0.0.1; do
    # shellcheck disable=SC2086
    "$cli" reach $est vpc-0aaaaaaaaaaaaaaa1 "$bad" >"$tmp/rb.txt" 2>"$tmp/rb.err"
    [ $? -eq 2 ] || fail "reach to $bad should exit 2"
    grep -q "^cidrscope reach: (command line):2:[0-9]*: " "$tmp/rb.err" || fail "reach $bad: $(cat "$tmp/rb.err")"
    grep -q "^ *\^" "$tmp/rb.err" || fail "reach $bad: no caret: $(cat "$tmp/rb.err")"
    [ -s "$tmp/rb.txt" ] && fail "reach $bad answered: $(cat "$tmp/rb.txt")"
done

# Edges before their VPCs: bad input, naming the file, line and the fix.
"$cli" stat -e "$f/edges.csv" -e "$f/vpcs.csv" >/dev/null 2>"$tmp/e1.txt"
[ $? -eq 2 ] || fail "edges before VPCs should exit 2"
grep -q "edges.csv:2:1: .*give the VPC sources before the edges file" "$tmp/e1.txt" \
    || fail "edges before VPCs: message: $(cat "$tmp/e1.txt")"
# An unknown kind points at its column.
printf 'vpc_id,kind,edge_id\nvpc-0aaaaaaaaaaaaaaa1,teleporter,tp-1\n' >"$tmp/bad.csv"
"$cli" stat -e "$f/vpcs.csv" -e "$tmp/bad.csv" >/dev/null 2>"$tmp/e2.txt"
[ $? -eq 2 ] || fail "unknown edge kind should exit 2"
grep -q "bad.csv:2:23: unknown edge kind 'teleporter'" "$tmp/e2.txt" \
    || fail "unknown kind: message: $(cat "$tmp/e2.txt")"
# With --keep-going the bad row is counted and the rest is read.
"$cli" stat --keep-going --format json -e "$f/vpcs.csv" -e "$tmp/bad.csv" >"$tmp/k.json" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["vpcs"]==3 and d["edges"]==0' \
    "$tmp/k.json" || fail "keep-going with a bad edge row"

if [ $fails -ne 0 ]; then
    echo "test_edges.sh: $fails failure(s)"
    exit 1
fi
echo "test_edges.sh: all passed"
