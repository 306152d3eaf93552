#!/bin/sh
# tests/cli/test_shm.sh — the shared-memory verbs end to end: serve, stat
# --shm (text and JSON), query and lookup --shm answering exactly as -e on the
# same estate, a snapshot read through a pipe, FIFO or process substitution, publish moving the generation, the shrink guard (refused,
# shown by stat --shm, --force), bad input leaving nothing in /dev/shm, and
# --unlink-on-exit cleaning /dev/shm, publish --reuse writing into a retired
# image's memory. usage: sh test_shm.sh CLI SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
name="cstest_cli_$$"
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
    rm -f /dev/shm/"$name" /dev/shm/"$name"@* /dev/shm/"$name"_bad /dev/shm/"$name"_bad@*
    rm -f /dev/shm/"$name"_reuse* 
}
at_exit cleanup

# Bad input: exit 2 and nothing created (the sources are loaded first).
"$cli" serve "${name}_bad" /nonexistent/vpcs.csv --interval 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "serve of a missing source should exit 2"
printf 'owner,prefix\nvpc-a,10.0.0.1/16\n' >"$tmp/bad.csv"
"$cli" serve "${name}_bad" "$tmp/bad.csv" --interval 0 --unlink-on-exit >/dev/null 2>&1
[ $? -eq 2 ] || fail "serve of a bad source should exit 2"
"$cli" publish "${name}_bad" /nonexistent/vpcs.csv >/dev/null 2>&1
[ $? -eq 2 ] || fail "publish of a missing source should exit 2"
ls /dev/shm/"${name}_bad"* >/dev/null 2>&1 && fail "bad input left segments in /dev/shm"

"$cli" serve "$name" "$src/datasets/sample" --interval 1 --unlink-on-exit \
    >"$tmp/serve.out" 2>&1 &
pid=$!
# wait for the first generation (at most 10 s): the service exists only
# once its sources are loaded; its generation 1 follows at once
i=0
until "$cli" stat --shm "$name" --format json 2>/dev/null | grep -q '"generation":1,'; do
    i=$((i + 1))
    [ $i -gt 100 ] && { fail "serve did not publish"; cat "$tmp/serve.out"; exit 1; }
    sleep 0.1
done

"$cli" stat --shm "$name" >"$tmp/stat.txt" || fail "stat --shm exit $?"
grep -q "^generation  1" "$tmp/stat.txt" || fail "stat --shm: no generation 1"
"$cli" stat --shm "$name" --format json >"$tmp/stat.json" || fail "stat --shm json exit"
py - "$tmp/stat.json" <<'PY' || fail "stat --shm JSON"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("generation", "image_bytes", "readers", "images", "server_alive"):
    assert k in d, k
assert d["generation"] == 1 and d["server_alive"] is True
PY

# The same questions through the service and through the sources.
printf '10.0.0.0/8\n172.31.0.0/16\n0.0.0.0/0\n::/0\n2600:1f00::/24\n192.168.1.0/24\n' >"$tmp/q.txt"
"$cli" query --count -e "$src/datasets/sample" - <"$tmp/q.txt" >"$tmp/direct.txt" || fail "query -e"
"$cli" query --count --shm "$name" - <"$tmp/q.txt" >"$tmp/shm.txt" || fail "query --shm"
cmp -s "$tmp/direct.txt" "$tmp/shm.txt" || fail "query --shm differs from query -e"
[ "$(wc -l <"$tmp/shm.txt")" -eq 6 ] || fail "query --shm: expected 6 counts"
"$cli" lookup --shm "$name" 172.31.5.5 10.1.2.3 >"$tmp/l1.txt" || fail "lookup --shm"
"$cli" lookup -e "$src/datasets/sample" 172.31.5.5 10.1.2.3 >"$tmp/l2.txt" || fail "lookup -e"
cmp -s "$tmp/l1.txt" "$tmp/l2.txt" || fail "lookup --shm differs from lookup -e"

# A snapshot through a pipe (issue 13 item 11): standard input, a FIFO and a
# process substitution are read into memory and answer as the file does;
# a stream longer or shorter than its image is refused (exit 2).
"$cli" build "$src/datasets/sample" -o "$tmp/s.snap" >/dev/null 2>&1 || fail "build -o"
"$cli" query --count -e "$tmp/s.snap" - <"$tmp/q.txt" >"$tmp/file.txt" || fail "query -e FILE.snap"
cmp -s "$tmp/direct.txt" "$tmp/file.txt" || fail "query -e FILE.snap differs from the sources"
cat "$tmp/s.snap" | "$cli" query --count -e - 10.0.0.0/8 172.31.0.0/16 0.0.0.0/0 ::/0 2600:1f00::/24 \
    192.168.1.0/24 >"$tmp/stdin.txt" || fail "query -e - of a piped snapshot exit $?"
cmp -s "$tmp/direct.txt" "$tmp/stdin.txt" || fail "a piped snapshot answers differently"
mkfifo "$tmp/snap.fifo" || fail "mkfifo"
cat "$tmp/s.snap" >"$tmp/snap.fifo" &
"$cli" query --count -e "$tmp/snap.fifo" - <"$tmp/q.txt" >"$tmp/fifo.txt" || fail "query -e FIFO of a snapshot exit $?"
cmp -s "$tmp/direct.txt" "$tmp/fifo.txt" || fail "a snapshot through a FIFO answers differently"
if command -v bash >/dev/null 2>&1; then
    bash -c '"$1" audit --format json -e <(cat "$2")' sh "$cli" "$tmp/s.snap" >"$tmp/ps.json" \
        || fail "audit -e <(cat FILE.snap) exit $?"
    "$cli" audit --format json -e "$tmp/s.snap" >"$tmp/pf.json" || fail "audit -e FILE.snap"
    py - "$tmp/ps.json" "$tmp/pf.json" <<'PY' || fail "audit of a snapshot through a process substitution differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    d.pop("source", None); d.pop("sources", None); d.pop("title", None)
assert a == b
PY
fi
(cat "$tmp/s.snap"; printf x) | "$cli" query --count -e - 10.0.0.0/8 >/dev/null 2>"$tmp/app.err"
[ $? -eq 2 ] || fail "a piped snapshot with a byte appended should exit 2"
grep -q "appended" "$tmp/app.err" || fail "appended stream: message does not say so"
head -c 3000 "$tmp/s.snap" | "$cli" query --count -e - 10.0.0.0/8 >/dev/null 2>"$tmp/trunc.err"
[ $? -eq 2 ] || fail "a truncated piped snapshot should exit 2"
grep -q "truncated" "$tmp/trunc.err" || fail "truncated stream: message does not say so"

# the audit over the service is the audit of its sources
"$cli" audit --format json --shm "$name" >"$tmp/a1.json" || fail "audit --shm exit $?"
"$cli" audit --format json "$src/datasets/sample" >"$tmp/a2.json" || fail "audit exit $?"
py - "$tmp/a1.json" "$tmp/a2.json" <<'PY' || fail "audit --shm differs from the audit of its sources"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    d.pop("source", None); d.pop("sources", None)
assert a["summary"] == b["summary"], (a["summary"], b["summary"])
assert a["pairs"] == b["pairs"] and a["clusters"] == b["clusters"]
PY

# publish a smaller estate: the shrink guard refuses it (exit 2), stat
# --shm shows the refusal, generation 1 keeps serving; --force publishes it
"$cli" publish "$name" "$src/datasets/sample-prefixes.csv" >/dev/null 2>"$tmp/refused.err"
[ $? -eq 2 ] || fail "a shrinking publish should be refused with exit 2"
grep -q "max-shrink" "$tmp/refused.err" || fail "refusal does not name --max-shrink"
"$cli" stat --shm "$name" | grep -q "^refused " || fail "stat --shm does not show the refusal"
"$cli" stat --shm "$name" --format json | py -c \
    'import json,sys; d=json.load(sys.stdin); assert d["generation"]==1 and d["refused"]["vpcs"] < d["refused"]["previous_vpcs"], d' \
    || fail "stat --shm JSON does not show the refusal"
"$cli" publish "$name" "$src/datasets/sample-prefixes.csv" --force >/dev/null 2>&1 || fail "publish --force exit $?"
"$cli" stat --shm "$name" --format json | py -c \
    'import json,sys; d=json.load(sys.stdin); assert d["generation"]==2 and d["refused"] is None, d' \
    || fail "publish did not make generation 2"
"$cli" query --count --shm "$name" 10.0.0.0/8 >"$tmp/g2.txt"
"$cli" query --count -e "$src/datasets/sample-prefixes.csv" 10.0.0.0/8 >"$tmp/g2d.txt"
cmp -s "$tmp/g2.txt" "$tmp/g2d.txt" || fail "generation 2 answers differ from its sources"

# publish --reuse: two retired images are kept, the fourth publish goes
# into the oldest one's memory (same inode, new name), answers stay right;
# with a --mode others may read, nothing is kept
rn="${name}_reuse"
for k in 1 2 3; do
    "$cli" publish "$rn" "$src/datasets/sample" --reuse >/dev/null 2>&1 || fail "publish --reuse $k exit $?"
done
[ "$(ls /dev/shm/"$rn"@[0-9]* | wc -l)" -eq 3 ] || fail "publish --reuse: expected 3 image segments"
ino1=$(stat -c %i /dev/shm/"$rn"@1.*)
"$cli" publish "$rn" "$src/datasets/sample-prefixes.csv" --reuse --force >/dev/null 2>&1 || fail "publish --reuse 4 exit $?"
ls /dev/shm/"$rn"@1.* >/dev/null 2>&1 && fail "publish --reuse: generation 1 not reused"
[ "$(stat -c %i /dev/shm/"$rn"@4.*)" = "$ino1" ] || fail "publish --reuse: generation 4 is not in generation 1's memory"
"$cli" query --count --shm "$rn" 10.0.0.0/8 >"$tmp/r4.txt"
cmp -s "$tmp/r4.txt" "$tmp/g2d.txt" || fail "a reused segment answers differently from its sources"
rg="${name}_reuseg"
for k in 1 2 3; do
    "$cli" publish "$rg" "$src/datasets/sample" --reuse --mode 0640 >/dev/null 2>&1 || fail "publish --reuse --mode 0640 exit $?"
done
[ "$(ls /dev/shm/"$rg"@[0-9]* | wc -l)" -eq 1 ] || fail "publish --reuse --mode 0640 kept retired images"
rm -f /dev/shm/"$rn" /dev/shm/"$rn"@* /dev/shm/"$rg" /dev/shm/"$rg"@*

# errors: no such service is bad input (2)
"$cli" stat --shm "${name}_missing" >/dev/null 2>&1
[ $? -eq 2 ] || fail "stat of a missing service should exit 2"

# SIGTERM with --unlink-on-exit removes every segment
kill "$pid"
wait "$pid" 2>/dev/null
pid=
sleep 0.2
ls /dev/shm/"$name"* >/dev/null 2>&1 && fail "--unlink-on-exit left segments"

if [ $fails -ne 0 ]; then
    echo "test_shm.sh: $fails failure(s)"
    exit 1
fi
echo "test_shm.sh: all passed"
