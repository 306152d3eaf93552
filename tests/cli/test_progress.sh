#!/bin/sh
# tests/cli/test_progress.sh — the progress line of long work (cli/progress.c):
# nothing on stderr when it is not a terminal; --progress forces the line
# (for each long verb: gen, build, audit, check --pairs, serve's reloads)
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

# Every verb that can run for more than a second: nothing off a terminal,
# its own line ("cidrscope VERB: ...") with --progress, nothing with
# --no-progress. progress_verb VERB ARGS...
progress_verb() {
    verb=$1
    shift
    "$cli" "$@" >/dev/null 2>"$tmp/err"
    [ $? -le 1 ] || fail "$verb exited $?: $(head -c 300 "$tmp/err")"
    grep -q "$cr" "$tmp/err" && fail "$verb printed progress to a non-terminal stderr"
    "$cli" "$@" --progress >/dev/null 2>"$tmp/err"
    [ $? -le 1 ] || fail "$verb --progress exited $?: $(head -c 300 "$tmp/err")"
    tr '\r' '\n' <"$tmp/err" | grep -q "^cidrscope $verb: .*[0-9] .*, [0-9.]* s" ||
        fail "$verb --progress printed no progress line: $(head -c 300 "$tmp/err")"
    "$cli" "$@" --progress --no-progress >/dev/null 2>"$tmp/err"
    grep -q "$cr" "$tmp/err" && fail "$verb --no-progress still printed"
}
progress_verb gen gen --seed 3 --accounts 300 --regions 2 --vpcs-per-region 4 --format csv \
    --out "$tmp/g.csv" -q
"$cli" gen --seed 3 --accounts 300 --regions 2 --vpcs-per-region 4 --format csv \
    --out "$tmp/g.csv" -q --progress 2>"$tmp/err" || fail "gen --progress exited $?"
tr '\r' '\n' <"$tmp/err" | grep -q '^cidrscope gen: 300 of 300 accounts (.*/s), ' ||
    fail "gen's line does not reach all accounts: $(tr '\r' '\n' <"$tmp/err" | tail -c 300)"
progress_verb build build -o "$tmp/g.snap" "$tmp/g.csv" "$tmp/g-peering.csv"
progress_verb audit audit --format json "$tmp/g.csv" "$tmp/g-peering.csv"
awk -F, 'NR > 1 { print $3 }' "$tmp/g.csv" | sort -u | head -400 >"$tmp/ids"
{ echo "vpc_a,vpc_b"; awk 'NR > 1 { print prev "," $0 } { prev = $0 }' "$tmp/ids"; } >"$tmp/pairs.csv"
progress_verb check check -e "$tmp/g.snap" --pairs "$tmp/pairs.csv" --format csv

# serve: its reloads (here on SIGHUP) show the line too.
name="cstest_progress_$$"
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
    rm -f /dev/shm/"$name" /dev/shm/"$name"@*
}
at_exit cleanup
"$cli" serve "$name" "$tmp/g.csv" --interval 0 --unlink-on-exit --progress \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
gen_is() {
    i=0
    until "$cli" stat --shm "$name" --format json 2>/dev/null | grep -q "\"generation\":$1,"; do
        i=$((i + 1))
        [ $i -gt 300 ] && { fail "serve did not publish generation $1"; return 1; }
        sleep 0.1
    done
}
if gen_is 1; then
    kill -HUP "$pid"
    gen_is 2
fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
n=$(tr '\r' '\n' <"$tmp/serve.err" | grep -c '^cidrscope serve: 1 file, .* rows')
[ "$n" -ge 2 ] || fail "serve --progress: $n progress lines for two loads: $(head -c 300 "$tmp/serve.err")"

# A terminal (pty): shown by default, silenced by --no-progress.
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "'$cli' stat '$tmp/e.csv'" /dev/null >"$tmp/tty" 2>&1
    grep -q 'rows/s' "$tmp/tty" || fail "no progress line on a terminal"
    script -qec "'$cli' stat --no-progress '$tmp/e.csv'" /dev/null >"$tmp/tty" 2>&1
    grep -q 'rows/s' "$tmp/tty" && fail "--no-progress still printed on a terminal"
    g="gen --seed 3 --accounts 300 --regions 2 --vpcs-per-region 4 --format csv -q"
    script -qec "'$cli' $g --out '$tmp/t.csv'" /dev/null >"$tmp/tty" 2>&1
    grep -q 'accounts (' "$tmp/tty" || fail "gen: no progress line on a terminal"
    script -qec "'$cli' $g --out '$tmp/t.csv' --no-progress" /dev/null >"$tmp/tty" 2>&1
    grep -q 'accounts (' "$tmp/tty" && fail "gen --no-progress still printed on a terminal"
else
    echo "note: script(1) missing: the terminal cases were not run"
fi

finish progress
