#!/bin/sh
# tests/cli/test_schemas.sh — every JSON and NDJSON shape of the command
# (audit, query, lookup, check, candidates, mesh, reach, can-add, stat)
# validated FRESH, as the verbs print it now, against its JSON Schema in
# docs/schema/ (python3-jsonschema, Draft 2020-12; tests/cli/schema_check.py),
# on the sample estate and the fixture estate (drift, domains, what-if);
# every NDJSON record carries "type"; the CSV list separator is ';' in every
# verb that joins a list into a field; every listing verb's text output
# says "N more (use --limit 0 for all)" past its limit; every verb of this
# group lists its exit codes in --help.
#
# usage: sh tests/cli/test_schemas.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
cd "$src" || exit 1
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is needed (scripts/install-deps.sh)" >&2; exit 1; }
python3 -c 'import jsonschema' 2>/dev/null ||
    { echo "FAIL: python3-jsonschema is needed (scripts/install-deps.sh)" >&2; exit 1; }

n=0
# check_json SCHEMA [--ndjson] CMD...: CMD exits 0 or 1 (2 with
# --keep-going: a bad item was answered by an error record) and its output
# matches docs/schema/SCHEMA.schema.json.
check_json() {
    schema=docs/schema/$1.schema.json
    shift
    maxrc=1
    case "$*" in *--keep-going*) maxrc=2 ;; esac
    nd=""
    if [ "$1" = "--ndjson" ]; then
        nd=--ndjson
        shift
    fi
    n=$((n + 1))
    "$@" >"$tmp/o$n" 2>"$tmp/e$n"
    rc=$?
    [ "$rc" -le $maxrc ] || { fail "'$*' exited $rc: $(head -c 300 "$tmp/e$n")"; return; }
    python3 tests/cli/schema_check.py $nd "$schema" "$tmp/o$n" 2>"$tmp/s$n" ||
        fail "'$*' does not match $schema: $(head -c 400 "$tmp/s$n")"
}

S="-e datasets/sample"
G=tests/cli/golden
F="$G/fixture-vpcs.csv $G/fixture-peering.csv"
A=vpc-04d728046765bf61e
B=vpc-043765c0ef19272f7
C=vpc-01ede1e24218e6d57

# audit: the sample, the fixture with domains, drift and what-if
check_json audit "$cli" audit --format json datasets/sample
check_json audit --ndjson "$cli" audit --format ndjson datasets/sample
check_json audit "$cli" audit --format json --limit 1 --domain "$G/fixture-domains.txt" $F
check_json audit --ndjson "$cli" audit --format ndjson --domain "$G/fixture-domains.txt" $F
check_json audit "$cli" audit --format json --baseline "$G/fixture-old.csv" $F
check_json audit --ndjson "$cli" audit --format ndjson --baseline "$G/fixture-old.csv" $F
check_json audit "$cli" audit --format json --what-if "$G/fixture-plan.csv" $F
# input gaps: a page naming a NextToken, rejected records and files
check_json audit "$cli" audit --format json -e tests/fixtures/ipam/next-token.json
check_json audit --ndjson "$cli" audit --format ndjson -e tests/fixtures/ipam/next-token.json
check_json audit "$cli" audit --format json --keep-going -e tests/fixtures/config/bad-cidr.json
check_json audit --ndjson "$cli" audit --format ndjson --keep-going -e tests/fixtures/config/bad-cidr.json
check_json stat "$cli" stat --format json --keep-going -e tests/fixtures/config/bad-cidr.json
# query and lookup (every item kind: result, count, error)
printf '10.0.0.0/16\n10.1.2.3/16\n2600:1f10::/32\n' >"$tmp/items"
for verb in query lookup; do
    check_json $verb "$cli" $verb $S --format json --keep-going --items "$tmp/items" 10.1.48.7
    check_json $verb --ndjson "$cli" $verb $S --format ndjson --keep-going --count --items "$tmp/items"
done
# the peering verbs
printf 'vpc_a,vpc_b\n%s,%s\n%s,vpc-nope\n%s,%s\n' $A $B $A $C $B >"$tmp/pairs.csv"
check_json check "$cli" check $S --format json $A $B
check_json check "$cli" check $S --format json --pairs "$tmp/pairs.csv"
check_json check --ndjson "$cli" check $S --format ndjson --pairs "$tmp/pairs.csv"
check_json candidates "$cli" candidates $S --format json $A
check_json candidates "$cli" candidates $S --format json --limit 2 --region us-east-1 $A
check_json mesh "$cli" mesh $S --format json $A $B $C
check_json mesh "$cli" mesh $S --format json --hub $A $B $C vpc-nope
check_json reach "$cli" reach $S --format json $A 172.31.0.1
check_json reach "$cli" reach $S --format json --limit 2 $A 172.31.0.1
check_json reach "$cli" reach $S --format json $A $B
check_json can-add "$cli" can-add $S --format json $A 10.1.0.0/24
check_json can-add "$cli" can-add $S --format json $A 10.200.0.0/24
check_json stat "$cli" stat --format json datasets/sample
check_json stat "$cli" stat --format json $F

# A schema that cannot fail proves nothing: a document with a wrong type is
# refused.
echo '[{"query": "10.0.0.0/8", "count": "7"}]' >"$tmp/wrong.json"
python3 tests/cli/schema_check.py docs/schema/query.schema.json "$tmp/wrong.json" 2>/dev/null &&
    fail "query.schema.json accepts a count that is a string"
echo '{"summary": {}}' >"$tmp/wrong.ndjson"
python3 tests/cli/schema_check.py --ndjson docs/schema/check.schema.json "$tmp/wrong.ndjson" 2>/dev/null &&
    fail "an NDJSON record without type passes"

# CSV lists are joined by ';' in every verb.
"$cli" audit --format csv --include-default --all-pairs $F >"$tmp/a.csv" 2>/dev/null
"$cli" check $S --format csv --pairs "$tmp/pairs.csv" >"$tmp/c.csv" 2>/dev/null
"$cli" candidates $S --format csv $A >"$tmp/d.csv" 2>/dev/null
python3 - "$tmp/a.csv" "$tmp/c.csv" "$tmp/d.csv" <<'PY' || fail "CSV list separators"
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
assert any(";" in r["reasons"] for r in a), "audit reasons not joined by ';'"
assert not any(" " in r["reasons"] or " " in r["blocks"] for r in a), "audit lists joined by spaces"
c = list(csv.DictReader(open(sys.argv[2])))
assert any(";" in r["reasons"] for r in c), "check reasons not joined by ';'"
d = list(csv.DictReader(open(sys.argv[3])))
for r in d:
    for v in r.values():
        assert "," not in v or ";" in v or " " in v, r
PY

# Text listings have a default limit that says how to see all.
"$cli" candidates $S --limit 3 $A >"$tmp/cand.txt" 2>&1
grep -q "more (use --limit 0 for all)" "$tmp/cand.txt" || fail "candidates --limit 3: $(tail -n 2 "$tmp/cand.txt")"
"$cli" reach $S --limit 2 $A 172.31.0.1 >"$tmp/reach.txt" 2>&1
grep -q "more VPCs holding it with no connection (use --limit 0 for all)" "$tmp/reach.txt" ||
    fail "reach --limit 2: $(tail -n 2 "$tmp/reach.txt")"
"$cli" audit --format text --limit 2 datasets/sample >"$tmp/audit.txt" 2>&1
grep -q "more (use --limit 0 for all)" "$tmp/audit.txt" || fail "audit --limit 2: no 'use --limit 0 for all'"

# -o writes the report to a file, for every peering verb.
"$cli" check $S -o "$tmp/check.json" --format json $A $B || fail "check -o exit $?"
python3 tests/cli/schema_check.py docs/schema/check.schema.json "$tmp/check.json" || fail "check -o FILE"
"$cli" check $S -o /nonexistent/dir/x.json $A $B 2>/dev/null
[ $? -eq 2 ] || fail "check -o into a missing directory should exit 2"
for verb in candidates reach; do
    "$cli" $verb $S -o "$tmp/$verb.out" $A $B >/dev/null 2>&1
    [ -s "$tmp/$verb.out" ] || [ $verb = candidates ] || fail "$verb -o wrote nothing"
done

# --help lists the exit codes.
for verb in query lookup check candidates mesh reach; do
    "$cli" $verb --help >"$tmp/help" 2>&1 || fail "$verb --help exit $?"
    grep -q "^ *Exit: 0 " "$tmp/help" || grep -q "^Exit: 0" "$tmp/help" || fail "$verb --help lists no exit codes"
done

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "test_schemas.sh: ok ($n documents validated)"
