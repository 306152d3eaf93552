#!/bin/sh
# tests/cli/test_help.sh — every verb of the verb table (as `cidrscope --help`
# lists it) has a --help that exits 0, names its usage, and ends with an
# "Exit:" section giving its exit codes (issue 11 item 14); `cidrscope help
# VERB` prints the same text.
# usage: sh test_help.sh CLI SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

expect_rc 0 "$cli" --help
verbs=$(awk '/^verbs:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}' "$tmp/out")
n=$(echo "$verbs" | wc -w)
[ "$n" -ge 17 ] || fail "the verb table lists only $n verbs: $verbs"
for v in $verbs; do
    expect_rc 0 "$cli" "$v" --help
    cp "$tmp/out" "$tmp/help-$v"
    expect_in "$tmp/help-$v" "usage: cidrscope $v"
    # the Exit section: a line starting "Exit:", naming 0 and 2 at least
    awk '/^Exit:/{on=1} on{printf "%s ", $0}' "$tmp/help-$v" >"$tmp/exit-$v"
    [ -s "$tmp/exit-$v" ] || { fail "$v --help has no Exit: section"; continue; }
    grep -q '0 ' "$tmp/exit-$v" && grep -q '2 ' "$tmp/exit-$v" ||
        fail "$v --help: Exit section lacks codes 0 and 2: $(cat "$tmp/exit-$v")"
    expect_rc 0 "$cli" help "$v"
    cmp -s "$tmp/out" "$tmp/help-$v" || fail "cidrscope help $v differs from $v --help"
done

finish test_help.sh
