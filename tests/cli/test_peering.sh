#!/bin/sh
# tests/cli/test_peering.sh — the peering verbs (check, candidates, mesh,
# reach, can-add) on the fixtures of tests/fixtures/peering/ (AWS CLI
# shapes) and the sample estate: --help for each verb; exit codes (0, 1 only
# with --fail-on, 2 for usage and bad input, never for an unknown VPC in a
# pair); golden text, JSON and CSV answers; every JSON document parsed back
# with the contract's keys; --pairs CSV in input order, from a file and from
# stdin, with errors naming file, line and column; NDJSON streaming of many
# pairs; the single-pair and bulk paths printing the same verdicts.
# Regenerate the golden files with CS_UPDATE_GOLDEN=1.
#
# usage: sh tests/cli/test_peering.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
fx=tests/fixtures/peering
golden=$fx/golden
cd "$src" || exit 1




golden() {
    name=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "'$*' exited $rc: $(head -c 400 "$tmp/err")"
    if [ "${CS_UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$tmp/out" "$golden/$name"
    elif ! cmp -s "$tmp/out" "$golden/$name"; then
        fail "'$*' differs from $golden/$name:"
        diff "$golden/$name" "$tmp/out" | head -20 >&2
    fi
}

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is needed (scripts/install-deps.sh)" >&2; exit 1; }
have_py=1

# json_check FILE PYTHON-EXPR: the document parses and the expression over
# it (named d) holds.
json_check() {
    [ "$have_py" = 1 ] || return 0
    python3 - "$1" "$2" <<'EOF' || fail "$1: JSON check failed: $2"
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"d": d})
sys.exit(0 if ok else 1)
EOF
}

A=vpc-00000000000000a01
B=vpc-00000000000000b02
C=vpc-00000000000000c03
D=vpc-00000000000000d04

# ---- --help and usage errors ------------------------------------------------
for verb in check candidates mesh reach can-add; do
    expect_rc 0 "$cli" "$verb" --help
    expect_in "$tmp/out" "usage: cidrscope $verb"
    expect_rc 2 "$cli" "$verb" --no-such-flag -e $fx/reach
    expect_in "$tmp/err" "unknown option"
done
expect_rc 2 "$cli" check -e $fx/reach $A
expect_rc 2 "$cli" check -e $fx/reach $A $B $C
expect_rc 2 "$cli" check -e $fx/reach --quota 126 $A $B
expect_in "$tmp/err" "125"
expect_rc 2 "$cli" check -e $fx/reach --quota 0 $A $B
expect_rc 2 "$cli" check -e $fx/reach --quota 12x $A $B
expect_rc 2 "$cli" check -e $fx/reach --fail-on nothing $A $B
expect_rc 2 "$cli" check -e $fx/reach --format html $A $B
expect_rc 2 "$cli" check $A $B
expect_rc 2 "$cli" check -e $fx/reach --pairs "$tmp/none.csv"
expect_rc 2 "$cli" candidates -e $fx/reach --format ndjson $A
expect_rc 2 "$cli" check -e $fx/reach --pairs - $A $B </dev/null

# ---- check: one pair -----------------------------------------------------------
golden peering-check-overlap.text "$cli" check -e $fx/overlap-ipv4 $A $B
golden peering-check-routing.json "$cli" check -e $fx/routing-ambiguity --format json $B $A
json_check "$golden/peering-check-routing.json" \
    'd["summary"]["pairs"] == 1 and d["results"][0]["a"] == "'$B'" and d["results"][0]["verdict"] == "eligible-with-warnings" and [r["code"] for r in d["results"][0]["reasons"]] == ["routing-ambiguity"] and d["results"][0]["reasons"][0]["kind"] == "warns" and d["results"][0]["reasons"][0]["evidence"][0]["connection"] == "pcx-00000000000000300"'
golden peering-check-quota.csv "$cli" check -e $fx/quota --quota 4 --format csv $A vpc-00000000000000d07
# Exit codes: an ineligible pair is a finding only with --fail-on.
expect_rc 0 "$cli" check -e $fx/overlap-ipv4 $A $B
expect_rc 1 "$cli" check -e $fx/overlap-ipv4 --fail-on ineligible $A $B
expect_rc 0 "$cli" check -e $fx/overlap-ipv4 --fail-on ineligible $B $C
expect_in "$tmp/out" "eligible"
expect_rc 0 "$cli" check -e $fx/cross-region --fail-on ineligible $A $B
expect_in "$tmp/out" "cross-region (warns)"
# An unknown VPC is a verdict, not a usage error.
expect_rc 0 "$cli" check -e $fx/unknown-vpc $A vpc-0000000000000dead
expect_in "$tmp/out" "unknown-vpc (blocks)"
expect_rc 1 "$cli" check -e $fx/unknown-vpc --fail-on ineligible $A vpc-0000000000000dead
expect_rc 0 "$cli" check -e $fx/same-vpc --format json $A $A
expect_in "$tmp/out" '"code": "same-vpc"'
expect_rc 0 "$cli" check -e $fx/already-peered --format ndjson $A vpc-00000000000000b04
expect_in "$tmp/out" '"status":"deleting"'

# ---- check --pairs ----------------------------------------------------------------
# Columns in another order, an extra column, quotes, a comment, a blank line.
printf '\357\273\277note,vpc_b,vpc_a\n# comment\nfirst,%s,%s\n\n"second, quoted","%s" , %s\nthird,%s,vpc-nope\n' \
    $B $A $C $A $A >"$tmp/pairs.csv"
golden peering-pairs.csv "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/pairs.csv" --format csv
golden peering-pairs.text "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/pairs.csv"
expect_rc 0 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/pairs.csv" --format json
cp "$tmp/out" "$tmp/pairs.json"
json_check "$tmp/pairs.json" \
    '[(r["a"], r["b"], r["verdict"]) for r in d["results"]] == [("'$A'", "'$B'", "ineligible"), ("'$A'", "'$C'", "ineligible"), ("vpc-nope", "'$A'", "ineligible")] and d["summary"]["ineligible"] == 3 and d["summary"]["reasons"]["unknown-vpc"] == 1 and all(set(x) >= {"code", "kind", "message", "evidence"} for r in d["results"] for x in r["reasons"])'
expect_rc 1 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/pairs.csv" --fail-on ineligible
# From stdin, NDJSON: one line per pair, then the summary.
expect_rc 0 sh -c "'$cli' check -e $fx/overlap-ipv4 --pairs - --format ndjson <'$tmp/pairs.csv'"
[ "$(wc -l <"$tmp/out")" -eq 4 ] || fail "ndjson: expected 4 lines, got $(wc -l <"$tmp/out")"
tail -n 1 "$tmp/out" | grep -q '^{"type":"summary","summary":' || fail "ndjson: last line is not the summary"
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["type"] for l in lines] == ["result"] * 3 + ["summary"], lines
' "$tmp/out" || fail "ndjson lines do not parse or lack their type"
# Bad input: file, line and column.
printf 'vpc_a,vpc_b\n%s,%s\n%s,%s,extra\n' $A $B $A $B >"$tmp/bad1.csv"
expect_rc 2 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/bad1.csv"
expect_in "$tmp/err" "bad1.csv:3:"
expect_in "$tmp/err" "expected 2 fields"
printf 'vpc_a,vpc_b\n%s,"%s\n' $A $B >"$tmp/bad2.csv"
expect_rc 2 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/bad2.csv" --format json
expect_in "$tmp/err" "bad2.csv:2:23: unterminated quoted field"
[ -s "$tmp/out" ] && fail "JSON output despite a bad pairs file"
printf 'a,b\n%s,%s\n' $A $B >"$tmp/bad3.csv"
expect_rc 2 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/bad3.csv"
expect_in "$tmp/err" "bad3.csv:1:1: expected a header line naming the columns vpc_a and vpc_b"
printf 'vpc_a,vpc_b\n%s, \n' $A >"$tmp/bad4.csv"
expect_rc 2 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/bad4.csv"
expect_in "$tmp/err" "bad4.csv:2:24: empty vpc_b"
: >"$tmp/empty.csv"
expect_rc 2 "$cli" check -e $fx/overlap-ipv4 --pairs "$tmp/empty.csv"
expect_in "$tmp/err" "no header line"

# Many pairs, streamed: every pair of the sample estate, 40 times over.
if [ -d datasets/sample ]; then
    find datasets/sample -name vpcs.json -exec grep -h '"VpcId"' {} + |
        sed 's/.*"VpcId": *"\([^"]*\)".*/\1/' | sort -u >"$tmp/ids"
    n=$(wc -l <"$tmp/ids")
    awk 'NR == FNR { id[++n] = $0; next } END {
            print "vpc_a,vpc_b"
            for (r = 0; r < 40; r++) for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
                print id[i] "," id[j]
        }' "$tmp/ids" "$tmp/ids" >"$tmp/many.csv"
    expect_rc 0 "$cli" check -e datasets/sample --pairs "$tmp/many.csv" --format ndjson
    want=$((n * n * 40 + 1))
    [ "$(wc -l <"$tmp/out")" -eq "$want" ] || fail "many pairs: $(wc -l <"$tmp/out") lines, expected $want"
    # The single-pair path and the bulk path agree (a sample of pairs).
    "$cli" check -e datasets/sample --pairs "$tmp/many.csv" --format csv >"$tmp/bulk.csv" 2>&1
    head -n 120 "$tmp/many.csv" | tail -n 40 >"$tmp/some"
    while IFS=, read -r a b; do
        "$cli" check -e datasets/sample --format csv "$a" "$b" | tail -n 1
    done <"$tmp/some" >"$tmp/single.csv"
    head -n 120 "$tmp/bulk.csv" | tail -n 40 >"$tmp/bulk-some.csv"
    cmp -s "$tmp/single.csv" "$tmp/bulk-some.csv" ||
        fail "single and bulk checks differ: $(diff "$tmp/single.csv" "$tmp/bulk-some.csv" | head -5)"
fi

# ---- candidates ----------------------------------------------------------------------
golden peering-candidates.text "$cli" candidates -e $fx/already-peered $A
golden peering-candidates.json "$cli" candidates -e $fx/quota --quota 4 --format json vpc-00000000000000d07
json_check "$golden/peering-candidates.json" \
    'd["summary"]["candidates"] == len(d["results"]) == 5 and d["summary"]["excluded"]["quota-exceeded"] == 1 and all(r["verdict"] != "ineligible" for r in d["results"])'
expect_rc 0 "$cli" candidates -e $fx/quota --account 222222222222 --format csv vpc-00000000000000d07
[ "$(wc -l <"$tmp/out")" -eq 4 ] || fail "candidates --account: $(cat "$tmp/out")"
expect_in "$tmp/out" "cross-account"
expect_rc 0 "$cli" candidates -e $fx/cross-region --region eu-west-1 $A
expect_in "$tmp/out" "$B"
expect_rc 2 "$cli" candidates -e $fx/cross-region --region mars-1 $A
expect_rc 2 "$cli" candidates -e $fx/cross-region --account 999999999999 $A
expect_rc 2 "$cli" candidates -e $fx/cross-region vpc-0000000000000dead
expect_in "$tmp/err" "not a VPC of the estate"

# ---- mesh ----------------------------------------------------------------------------------
Q="$A $B vpc-00000000000000c06 vpc-00000000000000d07"
golden peering-mesh.text "$cli" mesh -e $fx/quota --quota 5 $Q
expect_rc 1 "$cli" mesh -e $fx/quota --quota 5 --fail-on quota $Q
expect_rc 0 "$cli" mesh -e $fx/quota --fail-on any $Q
expect_rc 0 "$cli" mesh -e $fx/overlap-ipv4 --format json $A $B $C
cp "$tmp/out" "$tmp/mesh.json"
json_check "$tmp/mesh.json" \
    'd["summary"]["links"] == 3 and d["summary"]["conflicts"] == 2 and not d["summary"]["feasible"] and len(d["vpcs"]) == 3 and len(d["results"]) == 3'
expect_rc 1 "$cli" mesh -e $fx/overlap-ipv4 --fail-on conflict $A $B $C
printf '%s\n# spokes\n%s\n' $B $C >"$tmp/spokes"
expect_rc 0 "$cli" mesh -e $fx/routing-ambiguity --from "$tmp/spokes" --hub $A --format json
cp "$tmp/out" "$tmp/hub.json"
json_check "$tmp/hub.json" \
    'd["summary"]["topology"] == "hub-and-spoke" and d["summary"]["links"] == 2 and d["summary"]["spoke_overlaps"] == 1'
expect_rc 2 "$cli" mesh -e $fx/quota $A $A
expect_rc 2 "$cli" mesh -e $fx/quota $A

# ---- reach -----------------------------------------------------------------------------------
golden peering-reach-transitive.text "$cli" reach -e $fx/reach $A $C
expect_in "$golden/peering-reach-transitive.text" "not transitive"
expect_in "$golden/peering-reach-transitive.text" "through $B"
expect_rc 1 "$cli" reach -e $fx/reach --fail-on unreachable $A $C
expect_rc 0 "$cli" reach -e $fx/reach --fail-on unreachable $A 10.1.2.3
expect_in "$tmp/out" ": reachable"
expect_rc 0 "$cli" reach -e $fx/reach --format json $A 10.3.0.1
cp "$tmp/out" "$tmp/reach.json"
json_check "$tmp/reach.json" \
    'not d["summary"]["reachable"] and d["results"][0]["code"] == "not-active" and d["results"][0]["status"] == "pending-acceptance"'
expect_rc 0 "$cli" reach -e $fx/reach $A 8.8.8.8
expect_in "$tmp/out" "not reachable over peering"
expect_rc 0 "$cli" reach -e $fx/reach vpc-0000000000000dead $A
expect_in "$tmp/out" "unknown-vpc"
expect_rc 2 "$cli" reach -e $fx/reach 192.0.2.1 8.8.8.8
expect_rc 2 "$cli" reach -e $fx/reach $A

# ---- can-add ------------------------------------------------------------------------------------
golden peering-can-add.text "$cli" can-add -e $fx/reach $A 10.1.0.0/24
expect_rc 1 "$cli" can-add -e $fx/reach --fail-on blocked $A 10.1.0.0/24
expect_rc 0 "$cli" can-add -e $fx/overlap-ipv4 --fail-on blocked $B 100.64.0.0/16
expect_in "$tmp/out" ": allowed"
expect_rc 0 "$cli" can-add -e $fx/overlap-ipv4 --format json $A 192.168.0.0/16
cp "$tmp/out" "$tmp/add.json"
json_check "$tmp/add.json" \
    'd["summary"]["verdict"] == "blocked" and d["results"][0]["code"] == "association-restricted"'
expect_rc 2 "$cli" can-add -e $fx/reach $A 10.0.0.1/16
expect_in "$tmp/err" "did you mean 10.0.0.0/16"
expect_rc 2 "$cli" can-add -e $fx/reach --block-quota 51 $A 10.9.0.0/16
expect_rc 0 "$cli" can-add -e $fx/reach vpc-0000000000000dead 10.9.0.0/16
expect_in "$tmp/out" "unknown-vpc"

# check --pairs --threads 2 writes the bytes one thread writes, in every
# format (20,000 pairs of the sample, unknown ids among them).
sample_pairs "$tmp/many-pairs.csv" 20000 5
for fmt in text csv ndjson json; do
    "$cli" check -e datasets/sample --format $fmt --pairs "$tmp/many-pairs.csv" >"$tmp/t1.$fmt" 2>"$tmp/err" ||
        fail "check --pairs --format $fmt exit $?"
    "$cli" check -e datasets/sample --format $fmt --threads 2 --pairs "$tmp/many-pairs.csv" >"$tmp/t2.$fmt" 2>"$tmp/err" ||
        fail "check --threads 2 --format $fmt exit $?"
    cmp -s "$tmp/t1.$fmt" "$tmp/t2.$fmt" || fail "check --threads 2 --format $fmt differs from one thread"
done
[ "$(wc -l <"$tmp/t1.csv")" -eq 20001 ] || fail "check --pairs csv: $(wc -l <"$tmp/t1.csv") lines"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "test_peering: ok"
