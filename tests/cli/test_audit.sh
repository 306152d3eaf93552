#!/bin/sh
# tests/cli/test_audit.sh — `cidrscope audit`: golden reports of the sample
# estate in every format (text, JSON, NDJSON, CSV, HTML) and of a small
# fixture estate (tests/cli/golden/fixture-*: critical peered and hub pairs,
# same-account and nested overlaps, default VPCs, reused ranges, IPv6, a
# name that needs CSV quoting) with domains, drift against a baseline and
# what-if planned blocks; JSON and NDJSON parsed back; --fail-on exit codes;
# bad input exits 2 naming file, line and column; the audit of a snapshot
# file equals that of its sources. Regenerate the golden files after an
# intended change with CS_UPDATE_GOLDEN=1.
#
# usage: sh tests/cli/test_audit.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
golden=tests/cli/golden
cd "$src" || exit 1

# golden NAME CMD... : CMD must exit 0 or 1 and print exactly golden/NAME.
golden() {
    name=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -le 1 ] || fail "'$*' exited $rc: $(head -c 400 "$tmp/err")"
    if [ "${CS_UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$tmp/out" "$golden/$name"
    elif ! cmp -s "$tmp/out" "$golden/$name"; then
        fail "'$*' differs from $golden/$name:"
        diff "$golden/$name" "$tmp/out" | head -20 >&2
    fi
}

have_python=1

json_ok() { # FILE: one JSON document
    [ $have_python = 1 ] || return 0
    py -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>"$tmp/perr" ||
        fail "$1 is not JSON: $(head -c 300 "$tmp/perr")"
}

ndjson_ok() { # FILE: one JSON object per line
    [ $have_python = 1 ] || return 0
    py -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert isinstance(o, dict) and "type" in o, "line %d has no type" % n
' "$1" 2>"$tmp/perr" || fail "$1 is not NDJSON: $(head -c 300 "$tmp/perr")"
}

F="$golden/fixture-vpcs.csv $golden/fixture-peering.csv"

# ---- the sample estate, every format ------------------------------------------
for fmt in text json ndjson csv html; do
    golden "audit-sample.$fmt" "$cli" audit --format "$fmt" datasets/sample
done
json_ok "$golden/audit-sample.json"
ndjson_ok "$golden/audit-sample.ndjson"
golden audit-sample-prefixes.text "$cli" audit --format text datasets/sample-prefixes.csv

# The JSON summary carries the figures the issue names, and the CSV holds
# every finding the text report lists: one row per pair (kind "pair") and
# one per identical-prefix group (kind "group", with its prefix, VPC count and
# pair count), so the groups' pairs plus the listed pairs account for every
# non-informational overlapping pair of the summary. Fresh output, not the
# golden files.
"$cli" audit --format json datasets/sample >"$tmp/s.json" 2>"$tmp/err" || true
"$cli" audit --format csv datasets/sample >"$tmp/s.csv" 2>"$tmp/err" || true
"$cli" audit --format csv --limit 1 datasets/sample >"$tmp/s1.csv" 2>"$tmp/err" || true
py - "$tmp/s.json" "$tmp/s.csv" "$tmp/s1.csv" <<'PY' || fail "sample JSON/CSV shape"
import csv, json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
for k in ("vpcs", "entries", "overlapping_entry_pairs", "overlapping_vpc_pairs",
          "overlapping_vpc_pairs_excluding_default", "clusters"):
    assert isinstance(s[k], int), k
assert sum(s["vpc_pairs_by_severity"].values()) == s["overlapping_vpc_pairs"]
assert len(d["clusters"]) == s["clusters"]
assert len(d["pairs"]) == s["listed_pairs"]
rows = list(csv.DictReader(open(sys.argv[2])))
pairs = [r for r in rows if r["kind"] == "pair"]
groups = [r for r in rows if r["kind"] == "group"]
assert len(pairs) + len(groups) == len(rows), "a row without kind pair/group"
assert len(pairs) == s["listed_pairs"], (len(pairs), s["listed_pairs"])
assert len(groups) == s["groups"], (len(groups), s["groups"])
assert {g["prefix"] for g in groups} == {g["prefix"] for g in d["groups"]}
for g in groups:
    assert int(g["vpcs"]) >= 2 and int(g["vpc_pairs"]) >= 1, g
sev = s["vpc_pairs_by_severity"]
flagged = sev["critical"] + sev["high"] + sev["medium"]
covered = len(pairs) + sum(int(g["vpc_pairs"]) for g in groups if g["severity"] != "informational")
assert covered >= flagged, (covered, flagged)
assert len(list(csv.DictReader(open(sys.argv[3])))) == 1, "--limit 1 caps the CSV rows"
PY

# ---- the fixture: critical pairs, domains, CSV quoting ----------------------------
golden audit-fixture.text "$cli" audit --format text --domain "$golden/fixture-domains.txt" $F
golden audit-fixture.json "$cli" audit --format json --domain "$golden/fixture-domains.txt" $F
golden audit-fixture.csv "$cli" audit --format csv --include-default --all-pairs $F
json_ok "$golden/audit-fixture.json"
if [ $have_python = 1 ]; then
    py - "$golden/audit-fixture.csv" <<'PY' || fail "fixture CSV does not parse back"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = {r["name_a"] for r in rows} | {r["name_b"] for r in rows}
assert 'edge "eu", legacy' in names, names
assert {r["severity"] for r in rows} >= {"critical", "high", "medium", "informational"}
PY
fi

# ---- drift and what-if --------------------------------------------------------------
golden audit-drift.text "$cli" audit --format text --baseline "$golden/fixture-old.csv" $F
golden audit-what-if.text "$cli" audit --format text \
    --what-if "$golden/fixture-plan.csv" \
    --what-if 666666666666,eu-west-1,vpc-2100000000000000f,192.168.1.128/25 $F
"$cli" audit --format json --what-if "$golden/fixture-plan.csv" $F >"$tmp/wi.json" 2>"$tmp/err"
json_ok "$tmp/wi.json"

# ---- --fail-on ----------------------------------------------------------------------
expect_rc 1 "$cli" audit --format json --fail-on critical $F
expect_rc 0 "$cli" audit --format json --fail-on critical datasets/sample
expect_rc 1 "$cli" audit --format json --fail-on high datasets/sample
expect_rc 1 "$cli" audit --format json --fail-on any datasets/sample
# a scope value that matches nothing is a typo, not an empty audit: exit 2
# naming it (more in test_audit_scope.sh)
expect_rc 2 "$cli" audit --format json --fail-on any datasets/sample-prefixes.csv --accounts nobody
grep -q "'nobody'" "$tmp/err" || fail "--accounts nobody: the value is not named"
expect_rc 1 "$cli" audit --format json --fail-on high --domain "$golden/fixture-domains.txt" \
    --accounts 333333333333,444444444444 $F
# what-if: only what the plan adds counts
expect_rc 1 "$cli" audit --format json --fail-on high --what-if "$golden/fixture-plan.csv" $F
expect_rc 0 "$cli" audit --format json --fail-on any \
    --what-if 555555555555,us-east-1,vpc-2000000000000000e,10.250.0.0/16 $F
expect_rc 0 "$cli" audit --format json --fail-on any --baseline datasets/sample datasets/sample

# ---- bad input: exit 2 with file:line:column -----------------------------------------
printf 'transit,vpc-0a00000000000000a\ntransit,vpc-0nosuchvpc\n' >"$tmp/dom.txt"
expect_rc 2 "$cli" audit --format json --domain "$tmp/dom.txt" $F
grep -q "dom.txt:2:9: no such VPC" "$tmp/err" || fail "domain error location: $(cat "$tmp/err")"
expect_rc 2 "$cli" audit --format json --what-if 1,2,3 $F
grep -q -- "--what-if:1:1:" "$tmp/err" || fail "what-if error location: $(cat "$tmp/err")"
expect_rc 2 "$cli" audit --format json \
    --what-if 555555555555,us-east-1,vpc-x,10.0.0.1/16 $F
grep -q -- "--what-if:1:30: 10.0.0.1/16: host bits set" "$tmp/err" ||
    fail "what-if prefix error: $(cat "$tmp/err")"
expect_rc 2 "$cli" audit --format xml datasets/sample
expect_rc 2 "$cli" audit --fail-on sometimes datasets/sample
expect_rc 2 "$cli" audit --tag novalue datasets/sample
expect_rc 2 "$cli" audit
expect_rc 2 "$cli" audit --format json "$tmp/does-not-exist"
expect_rc 0 "$cli" audit --help
grep -q "^usage: cidrscope audit" "$tmp/out" || fail "audit --help"

# ---- a snapshot file audits like its sources ------------------------------------------
if "$cli" build --help >/dev/null 2>&1; then
    if "$cli" build -o "$tmp/sample.snap" datasets/sample >/dev/null 2>"$tmp/err" ||
       "$cli" build datasets/sample -o "$tmp/sample.snap" >/dev/null 2>"$tmp/err"; then
        "$cli" audit --format json datasets/sample | sed 1,3d >"$tmp/a.json"
        "$cli" audit --format json "$tmp/sample.snap" | sed 1,3d >"$tmp/b.json"
        cmp -s "$tmp/a.json" "$tmp/b.json" || fail "snapshot audit differs from source audit"
    fi
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "test_audit.sh: ok"
