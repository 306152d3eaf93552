#!/bin/sh
# tests/cli/test_query.sh — `cidrscope query` and `cidrscope lookup` on the
# sample estate: golden answers in text, JSON and CSV; --count one number a
# line in input order (arguments, stdin, --items files, mixed); lookup by
# longest-prefix match and --all; JSON parsed back; a bad item exits 2
# naming file, line and column after answering the items before it.
# Regenerate the golden files with CS_UPDATE_GOLDEN=1.
#
# usage: sh tests/cli/test_query.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
golden=tests/cli/golden
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_query.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$src" || exit 1
fails=0
E="-e datasets/sample"

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

expect_rc() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $(head -c 400 "$tmp/err")"
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

if command -v python3 >/dev/null 2>&1; then
    for f in query.json lookup.json; do
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$golden/$f" ||
            fail "$f does not parse"
    done
fi

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

# A bad item: exit 2 with its location; the items before it are answered.
printf '10.0.0.0/16\n# comment\n10.1.2.3/16\n10.5.0.0/16\n' >"$tmp/bad"
expect_rc 2 "$cli" query $E --count --items "$tmp/bad"
grep -q "bad:3:1: 10.1.2.3/16: host bits set" "$tmp/err" || fail "bad item location: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = "6" ] || fail "items before the bad one: '$(cat "$tmp/out")'"
expect_rc 2 "$cli" lookup $E 10.0.0.256
grep -q "(command line):1:" "$tmp/err" || fail "lookup error location: $(cat "$tmp/err")"
expect_rc 2 "$cli" query $E
expect_rc 2 "$cli" query 10.0.0.0/8
expect_rc 0 "$cli" query --help
expect_rc 0 "$cli" lookup --help

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "test_query.sh: ok"
