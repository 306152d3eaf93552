#!/bin/sh
# tests/cli/test_readme.sh — README.md says what is true (issue 11, README):
# every `cidrscope ...` command of its sh code blocks runs as written from
# the repository root (exit 0, or 1 for findings), with each output as
# promised (audit writes JSON when standard output is not a terminal); every
# relative link and every repository path it names exists; it points
# nowhere outside the repository (no ../); the severity list names medium;
# `--format` in every verb the README says takes it.
# usage: sh test_readme.sh CLI SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
cd "$src" || exit 1

# the commands, continuation lines joined, comments dropped
awk '
/^```sh/ {on = 1; next}
/^```/ {on = 0; next}
on {
    line = $0
    sub(/[ \t]+#.*$/, "", line)
    if (cont != "") { line = cont " " line; cont = "" }
    if (line ~ /\\$/) { sub(/\\$/, "", line); cont = line; next }
    if (line ~ /^cidrscope /) print line
}' README.md >"$tmp/cmds"
n=$(wc -l <"$tmp/cmds")
[ "$n" -ge 7 ] || fail "README: only $n cidrscope commands found"
i=0
while IFS= read -r c; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    set -- ${c#cidrscope }
    "$cli" "$@" >"$tmp/o$i" 2>"$tmp/e$i" </dev/null
    rc=$?
    [ $rc -le 1 ] || fail "README command exits $rc: $c: $(head -c 300 "$tmp/e$i")"
    [ -s "$tmp/o$i" ] || fail "README command prints nothing: $c"
done <"$tmp/cmds"
# the first command is the audit: JSON on a pipe
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["vpcs"] > 0' "$tmp/o1" ||
    fail "README: 'audit' to a pipe does not write JSON"
grep -q "reachable" "$tmp/o6" || grep -q "not reachable\|edge-to-edge" "$tmp/o6" ||
    fail "README: the reach example gives no answer: $(head -c 300 "$tmp/o6")"

# nothing outside the repository, every linked or named path exists
grep -n '\.\./' README.md && fail "README points outside the repository (../)"
grep -o '](\([^)#]*\))' README.md | sed 's/^](//; s/)$//' | grep -v '^https\?:' |
    while IFS= read -r p; do
        [ -e "$p" ] || echo "$p"
    done >"$tmp/missing"
[ -s "$tmp/missing" ] && fail "README links to missing paths: $(cat "$tmp/missing")"
for p in docs/schema/ tests/fixtures/edges/vpcs.csv tests/fixtures/ipam/org.json \
    engine/image/snapshot.c engine/image/estate_image.c scripts/install-deps.sh; do
    grep -q "$p" README.md || fail "README no longer names $p (update this test)"
    [ -e "$p" ] || fail "README names $p, which does not exist"
done

# claims
grep -q 'medium: every other overlap' README.md || fail "README: the severity list lacks medium"
grep -q 'JSON when its standard output is not one' README.md || fail "README: audit's JSON default unsaid"
for v in audit query lookup check candidates mesh reach can-add free alloc; do
    "$cli" $v --help | tr '\n' ' ' | grep -q -- '--format.*csv' || fail "README says $v takes --format csv; its --help does not"
done
for v in build stat; do
    "$cli" $v --help | grep -q -- '--format.*json' || fail "README says $v takes --format json"
done

finish test_readme.sh
