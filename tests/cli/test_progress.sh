#!/bin/sh
# tests/cli/test_progress.sh — the progress line of long work (cli/progress.c):
# nothing on stderr when it is not a terminal; --progress forces the line
# (files, rows, rows/s, elapsed, and an estimate while a CSV is being read);
# on a terminal (a pty from script(1), when present) it shows by default and
# --no-progress silences it; the flags work with any verb and never reach
# the verb's own option parser.
#
# usage: sh tests/cli/test_progress.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

cr=$(printf '\r')
# A CSV large enough for in-file reports (every 65,536 rows).
"$cli" gen --seed 3 --accounts 100 --regions 4 --vpcs-per-region 250 --format csv \
    --out "$tmp/e.csv" -q 2>"$tmp/err" || fail "gen: $(cat "$tmp/err")"

# Not a terminal: no progress line at all.
"$cli" stat "$tmp/e.csv" >"$tmp/out" 2>"$tmp/err" || fail "stat exited $?"
grep -q "$cr" "$tmp/err" && fail "progress printed to a non-terminal stderr"
[ -s "$tmp/err" ] && fail "stat wrote to stderr: $(head -c 200 "$tmp/err")"

# --progress forces it, whatever stderr is, and stdout stays the same.
"$cli" stat --progress "$tmp/e.csv" >"$tmp/out2" 2>"$tmp/err" || fail "stat --progress exited $?"
cmp -s "$tmp/out" "$tmp/out2" || fail "--progress changed standard output"
grep -q "$cr" "$tmp/err" || fail "--progress printed no progress line"
tr '\r' '\n' <"$tmp/err" >"$tmp/lines"
grep -q 'cidrscope stat: 0 files, 65,536 rows (.* rows/s), .* MB, .* s, ~.* s left' "$tmp/lines" ||
    fail "no in-file line with rows, rate, elapsed and estimate: $(head -c 300 "$tmp/lines")"
grep -q 'cidrscope stat: 1 file, .* rows' "$tmp/lines" || fail "no line after the file"
# the flag goes anywhere on the command line, and --no-progress wins when last
"$cli" stat "$tmp/e.csv" --progress --no-progress >/dev/null 2>"$tmp/err" || fail "stat exited $?"
grep -q "$cr" "$tmp/err" && fail "--no-progress after --progress still printed"
# a verb with items and -e takes it too
"$cli" query --progress -e "$tmp/e.csv" --count 10.0.0.0/8 >/dev/null 2>"$tmp/err" ||
    fail "query --progress exited $?"
grep -q "$cr" "$tmp/err" || fail "query --progress printed no progress line"

# A terminal (pty): shown by default, silenced by --no-progress.
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "'$cli' stat '$tmp/e.csv'" /dev/null >"$tmp/tty" 2>&1
    grep -q 'rows/s' "$tmp/tty" || fail "no progress line on a terminal"
    script -qec "'$cli' stat --no-progress '$tmp/e.csv'" /dev/null >"$tmp/tty" 2>&1
    grep -q 'rows/s' "$tmp/tty" && fail "--no-progress still printed on a terminal"
else
    echo "note: script(1) missing: the terminal cases were not run"
fi

finish progress
