#!/bin/sh
# tests/cli/test_query.sh — `cidrscope query` and `cidrscope lookup` on the
# sample estate: golden answers in text, JSON and CSV; fresh JSON and NDJSON
# output validated against docs/schema/{query,lookup}.schema.json; --count
# one number a line in input order (arguments, stdin, --items files,
# mixed); lookup by longest-prefix match and --all; a bad item exits 2
# naming file, line and column after answering the items before it, and
# with --keep-going gets an error record in its place; `# comment` after an
# item; IPv6 prefixes never cut; names in several scripts cut on a
# character boundary, the text valid UTF-8; --limit; --threads N prints
# what one thread prints; --help lists the exit codes.
# Regenerate the golden files with CS_UPDATE_GOLDEN=1.
#
# usage: sh tests/cli/test_query.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
golden=tests/cli/golden
cd "$src" || exit 1
E="-e datasets/sample"
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is needed (scripts/install-deps.sh)" >&2; exit 1; }
schema() { # [--ndjson] SCHEMA FILE: fresh output against docs/schema/SCHEMA
    python3 tests/cli/schema_check.py "$@" 2>"$tmp/serr" ||
        fail "$* does not match its schema: $(head -c 400 "$tmp/serr")"
}



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

Q="10.0.0.0/16 10.1.48.0/24 10.0.0.0/8 192.0.2.0/24 2600:1f10::/32 100.64.0.0/16"
golden query.text "$cli" query $E $Q
golden query.json "$cli" query $E --format json $Q
golden query.csv "$cli" query $E --format csv $Q
golden query-covering.text "$cli" query $E --covering 10.1.48.0/24 10.5.48.1/32
A="10.1.48.7 10.5.0.1 172.31.255.255 192.0.2.1 2600:1f10::1"
golden lookup.text "$cli" lookup $E $A
golden lookup-all.csv "$cli" lookup $E --all --format csv $A
golden lookup.json "$cli" lookup $E --format json $A

# Fresh JSON and NDJSON of every item kind against the schemas.
printf '10.0.0.0/16  # a comment after the item\n10.1.2.3/16\n2600:1f10::/32\n' >"$tmp/mixed"
for verb in query lookup; do
    for mode in "" "--count"; do
        "$cli" $verb $E --format json $mode --keep-going --items "$tmp/mixed" \
            10.1.48.7 >"$tmp/$verb.json" 2>"$tmp/err"
        schema docs/schema/$verb.schema.json "$tmp/$verb.json"
        "$cli" $verb $E --format ndjson $mode --keep-going --items "$tmp/mixed" \
            10.1.48.7 >"$tmp/$verb.ndjson" 2>"$tmp/err"
        schema --ndjson docs/schema/$verb.schema.json "$tmp/$verb.ndjson"
    done
done
"$cli" query $E --format json --limit 2 10.0.0.0/8 >"$tmp/lim.json" || fail "query --limit 2"
schema docs/schema/query.schema.json "$tmp/lim.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d[0]["matches"]) == 2 and d[0]["omitted"] == 36, d[0].get("omitted")
' "$tmp/lim.json" || fail "query --limit 2: two matches and omitted 36"

# --count: one number a line, in input order, whatever the input path; the
# counts equal the rows of the full answer.
"$cli" query $E --count $Q >"$tmp/c1" || fail "query --count"
printf '%s\n' $Q >"$tmp/items"
"$cli" query $E --count - <"$tmp/items" >"$tmp/c2" || fail "query --count -"
"$cli" query $E --count --items "$tmp/items" >"$tmp/c3" || fail "query --count --items"
cmp -s "$tmp/c1" "$tmp/c2" || fail "--count differs between arguments and stdin"
cmp -s "$tmp/c1" "$tmp/c3" || fail "--count differs between arguments and --items"
[ "$(wc -l <"$tmp/c1")" -eq 6 ] || fail "--count printed $(wc -l <"$tmp/c1") lines for 6 items"
"$cli" query $E --format csv $Q | tail -n +2 | awk -F, '$3 != "" { n[$1]++ } END { for (k in n) print k, n[k] }' |
    sort >"$tmp/rows"
for q in $Q; do echo "$q"; done | paste -d' ' - "$tmp/c1" | awk '$2 > 0' | sort >"$tmp/cnts"
cmp -s "$tmp/rows" "$tmp/cnts" || fail "--count disagrees with the rows: $(diff "$tmp/rows" "$tmp/cnts")"
"$cli" lookup $E --count --all $A >"$tmp/l1" || fail "lookup --count --all"
[ "$(tr '\n' ' ' <"$tmp/l1")" = "2 1 10 0 0 " ] || fail "lookup --count --all: $(tr '\n' ' ' <"$tmp/l1")"

# --keep-going: each bad line gets an error record in its place (line
# number, message), the rest is answered, exit 2 at the end.
printf '10.0.0.0/16 # first\n10.1.2.3/16\n010.0.0.1/8\n10.5.0.0/16\n' >"$tmp/kg"
expect_rc 2 "$cli" query $E --count --keep-going --items "$tmp/kg"
[ "$(sed -n 1p "$tmp/out")" = "6" ] || fail "keep-going: first answer '$(sed -n 1p "$tmp/out")'"
sed -n 2p "$tmp/out" | grep -q "^error: line 2: .*host bits" ||
    fail "keep-going: line 2 is not its error record: $(sed -n 2p "$tmp/out")"
sed -n 3p "$tmp/out" | grep -q "^error: line 3: " || fail "keep-going: line 3: $(sed -n 3p "$tmp/out")"
[ "$(sed -n 4p "$tmp/out")" = "$("$cli" query $E --count 10.5.0.0/16)" ] ||
    fail "keep-going: the item after the bad ones is not answered"
[ "$(wc -l <"$tmp/out")" -eq 4 ] || fail "keep-going: $(wc -l <"$tmp/out") lines for 4 items"
expect_rc 2 "$cli" lookup $E --format json --keep-going 10.1.48.7 10.0.0.256 10.5.0.1
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [("error" in x) for x in d] == [False, True, False], d
assert d[1]["line"] == 2 and d[1]["address"] == "10.0.0.256", d[1]
assert d[2]["matches"][0]["vpc"] == "vpc-01ede1e24218e6d57", d[2]
' "$tmp/out" || fail "lookup --keep-going JSON: $(head -c 300 "$tmp/out")"
expect_rc 0 "$cli" query $E --count "10.0.0.0/16 # a comment"
[ "$(cat "$tmp/out")" = "6" ] || fail "a comment after an item: '$(cat "$tmp/out")'"

# lookup --lenient takes the address part of an address with a length.
expect_rc 0 "$cli" lookup $E --lenient 10.1.48.7/16
grep -q "vpc-043765c0ef19272f7" "$tmp/out" || fail "lookup --lenient 10.1.48.7/16: $(cat "$tmp/out")"
grep -q "warning: looked up the address 10.1.48.7" "$tmp/err" || fail "lookup --lenient warning: $(cat "$tmp/err")"
expect_rc 2 "$cli" lookup $E 10.1.48.7/16

# Text never cuts a prefix; a long answer has a limit that says so.
"$cli" query $E 2600:1f10::/32 >"$tmp/v6" || fail "query 2600:1f10::/32"
grep -q " 2600:1f10:0:1200::/56 " "$tmp/v6" || fail "an IPv6 prefix is cut: $(grep 1200 "$tmp/v6")"
grep -q "~" "$tmp/v6" && fail "a '~' cut in: $(grep '~' "$tmp/v6")"
"$cli" query $E --limit 5 10.0.0.0/8 >"$tmp/l5" || fail "query --limit 5"
[ "$(grep -c '^  covered' "$tmp/l5")" -eq 5 ] || fail "--limit 5 listed $(grep -c '^  covered' "$tmp/l5")"
grep -q "^  33 more (use --limit 0 for all)$" "$tmp/l5" || fail "--limit 5: no 'N more' line: $(tail -n 2 "$tmp/l5")"
[ "$("$cli" query $E --limit 0 10.0.0.0/8 | grep -c '^  covered')" -eq 38 ] || fail "--limit 0 lists all"

# Names in several scripts: cut on a character boundary in display columns,
# the whole output valid UTF-8, ids and prefixes whole.
{
    echo "account,region,vpc_id,cidr,state,is_default,name"
    echo "111111111111,eu-central-1,vpc-0000000000000000a,10.80.0.0/16,associated,false,Entwicklung-Müller-Straße-Größenordnung-Prüfstand"
    echo "111111111111,ap-northeast-1,vpc-0000000000000000b,10.81.0.0/16,associated,false,開発環境ネットワーク東京リージョン本番系統"
    echo "111111111111,me-south-1,vpc-0000000000000000c,10.82.0.0/16,associated,false,شبكة-التطوير-الرئيسية-للمنطقة-الشرقية"
    echo "111111111111,eu-west-1,vpc-0000000000000000d,10.83.0.0/16,associated,false,Разработка-основная-сеть-региона-запад"
    echo "111111111111,eu-west-1,vpc-0000000000000000e,10.84.0.0/16,associated,false,e$(printf '\314\201')e$(printf '\314\201')e$(printf '\314\201')-combining-accents-and-emoji-🚀🚀🚀🚀🚀🚀"
} >"$tmp/names.csv"
"$cli" query -e "$tmp/names.csv" 10.0.0.0/8 >"$tmp/names.text" 2>"$tmp/err" || fail "query on names.csv: $(cat "$tmp/err")"
"$cli" lookup -e "$tmp/names.csv" 10.80.0.1 10.81.0.1 10.82.0.1 10.83.0.1 10.84.0.1 >>"$tmp/names.text" 2>"$tmp/err" ||
    fail "lookup on names.csv: $(cat "$tmp/err")"
python3 - "$tmp/names.text" <<'PY' || fail "names in several scripts"
import sys, unicodedata
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")            # raises on invalid UTF-8
def width(s):
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in text.splitlines() if l.startswith("  covered") or l.startswith("  covers")]
assert len(rows) == 10, rows
for l in rows:
    assert "vpc-000000000000000" in l and "/16" in l, l
    name = l.split(None, 5)[5]
    assert width(name) <= 32, (name, width(name))
    if name.endswith("~"):
        assert not unicodedata.combining(name[-2]), name   # no mark left alone
assert any(r.endswith("~") for r in rows), "no name was long enough to cut"
assert "開発環境" in text and "Müller" in text and "شبكة" in text and "Разработка" in text
PY

# --threads N prints exactly what one thread prints (input large enough to
# be split), in every streaming format, for query and lookup.
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "10.%d.%d.0/24\n", i % 256, (i * 7) % 256 }' >"$tmp/many"
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "10.%d.%d.%d\n", i % 256, (i * 7) % 256, i % 251 }' >"$tmp/many-a"
echo "10.1.2.3/16" >>"$tmp/many"
# long lines first (a part answered on one thread while its lines fill the
# read buffer), then short ones (parts on two threads): the order holds
awk 'BEGIN { pad = sprintf("%300s", ""); for (i = 0; i < 6000; i++) printf "%s10.%d.0.0/16\n", pad, i % 256;
             for (i = 0; i < 40000; i++) printf "10.%d.%d.0/24\n", i % 256, (i * 3) % 256 }' >"$tmp/mixedlen"
"$cli" query $E --count --items "$tmp/mixedlen" >"$tmp/m1" 2>"$tmp/err" || fail "query --count mixedlen"
"$cli" query $E --count --threads 2 --items "$tmp/mixedlen" >"$tmp/m2" 2>"$tmp/err" || fail "query --count --threads 2 mixedlen"
cmp -s "$tmp/m1" "$tmp/m2" || fail "--threads 2 reorders answers across parts: $(diff "$tmp/m1" "$tmp/m2" | head -3)"
[ "$(wc -l <"$tmp/m1")" -eq 46000 ] || fail "mixedlen: $(wc -l <"$tmp/m1") answers for 46000 items"
for args in "query --count" "query" "query --format csv" "query --format ndjson --limit 3" \
    "lookup" "lookup --count" "lookup --all --format csv"; do
    items=$tmp/many
    case $args in lookup*) items=$tmp/many-a ;; esac
    "$cli" $args $E --keep-going --items "$items" >"$tmp/t1" 2>/dev/null
    r1=$?
    "$cli" $args $E --keep-going --threads 2 --items "$items" >"$tmp/t2" 2>/dev/null
    r2=$?
    [ "$r1" -eq "$r2" ] || fail "$args: exit $r1 with one thread, $r2 with two"
    cmp -s "$tmp/t1" "$tmp/t2" || fail "$args: --threads 2 differs from one thread"
    [ -s "$tmp/t1" ] || fail "$args: no output"
done
"$cli" query $E --threads 2 --items "$tmp/many" >"$tmp/t2" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--threads 2: a bad last item exits 2"
grep -q "many:30001:1:" "$tmp/err" || fail "--threads 2: bad item location: $(cat "$tmp/err")"

# A batch of items that lie line after line is parsed in one call
# (cs_prefix_parse_lines); anything else item by item. Both must answer,
# warn and stop alike: the same seeded items, once as they are and once
# each indented by a blank (never line after line, so item by item), give
# the same stdout, stderr and exit code. Over several 4,096-item batches:
# clean ones, one with a bad item, one with a comment after an item, one
# with host bits (--lenient warns per item), and for lookup one with a
# prefix among the addresses.
seed=${CS_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
seedmsg="(replay with CS_TEST_SEED=$seed)"
# batch_items KIND: 20,000 prefixes (KIND p) or addresses (KIND a), with a
# comment after item 5,000, host bits (p) or a prefix (a) at item 9,000,
# an octet over 255 at item 13,000
batch_items() {
    awk -v seed="$seed" -v kind="$1" 'BEGIN { srand(seed)
        for (i = 1; i <= 20000; i++) {
            a = int(rand() * 256); b = int(rand() * 256); c = int(rand() * 256)
            item = kind == "a" ? "10." a "." b "." c : rand() < 0.5 ? "10." a ".0.0/16" : "10." a "." b ".0/24"
            if (i == 5000) item = item "  # a comment"
            else if (i == 9000) item = "10." a "." b (kind == "a" ? ".0/24" : ".1/24")
            else if (i == 13000) item = "10." a ".300." (kind == "a" ? c : "0/24")
            print item
        } }'
}
batch_items p >"$tmp/batches"
batch_items a >"$tmp/batches-a"
for args in "query --count" "query --count --keep-going" "query --count --lenient --keep-going" \
    "query --format csv --keep-going" "lookup --keep-going" "lookup" "lookup --lenient --keep-going" \
    "lookup --count --all --keep-going"; do
    items=$tmp/batches
    case $args in lookup*) items=$tmp/batches-a ;; esac
    "$cli" $args $E - <"$items" >"$tmp/b1" 2>"$tmp/be1"
    r1=$?
    sed 's/^/ /' "$items" | "$cli" $args $E - >"$tmp/b2" 2>"$tmp/be2"
    r2=$?
    [ "$r1" -eq "$r2" ] || fail "$args: exit $r1 line after line, $r2 item by item $seedmsg"
    cmp -s "$tmp/b1" "$tmp/b2" ||
        fail "$args: stdout differs from item by item $seedmsg: $(diff "$tmp/b1" "$tmp/b2" | head -4)"
    cmp -s "$tmp/be1" "$tmp/be2" ||
        fail "$args: stderr differs from item by item $seedmsg: $(diff "$tmp/be1" "$tmp/be2" | head -4)"
    [ -s "$tmp/b1" ] || fail "$args: no output"
done

# A bad item: exit 2 with its location; the items before it are answered.
printf '10.0.0.0/16\n# comment\n10.1.2.3/16\n10.5.0.0/16\n' >"$tmp/bad"
expect_rc 2 "$cli" query $E --count --items "$tmp/bad"
grep -q "bad:3:1: 10.1.2.3/16: host bits set" "$tmp/err" || fail "bad item location: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = "6" ] || fail "items before the bad one: '$(cat "$tmp/out")'"
expect_rc 2 "$cli" lookup $E 10.0.0.256
grep -q "(command line):1:" "$tmp/err" || fail "lookup error location: $(cat "$tmp/err")"
expect_rc 2 "$cli" query $E
expect_rc 2 "$cli" query 10.0.0.0/8
for verb in query lookup; do
    expect_rc 0 "$cli" $verb --help
    grep -q "^Exit: 0 " "$tmp/out" || fail "$verb --help lists no exit codes"
done

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "test_query.sh: ok"
