#!/bin/sh
# tests/cli/test_threads.sh — `query`, `lookup` and `check --pairs` with
# --threads 2 and 3 write the bytes one thread writes (stdout, stderr and
# exit code), on seeded inputs large enough to span several chunks (16,384
# items on one thread, reused; 2 jobs of 1,024 items per thread with
# --threads, in 3 slots that are reused) and check batches (16,384 pairs,
# one decided while the next is read):
# bad items in the middle, on the first and last item of a chunk, on a job
# border, first and last in the input, with
# --keep-going (error records in place) and without (the run stops at the
# first bad item, the items before it answered). The seed is printed on
# failure (CS_TEST_SEED=N to replay).
#
# usage: sh tests/cli/test_threads.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
cd "$src" || exit 1
E="-e datasets/sample"
seed=${CS_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
seedmsg="(replay with CS_TEST_SEED=$seed)"

# items N BAD KIND: N items (prefixes, or addresses when KIND is a), the
# item numbers listed in BAD (comma-separated) replaced by bad ones; a
# comment line or a blank now and then (not items: borders are counted in
# items, so these come only after the last border tested).
items() {
    awk -v n="$1" -v bad="$2" -v kind="$3" -v seed="$seed" 'BEGIN {
        srand(seed); split(bad, b, ","); for (k in b) isbad[b[k]] = 1
        for (i = 1; i <= n; i++) {
            o2 = int(rand() * 256); o3 = int(rand() * 256)
            if (i in isbad) {
                # host bits, an octet over 255, a stray word: each names a column
                r = int(rand() * 3)
                if (r == 0) print "10." o2 "." o3 ".1/24"
                else if (r == 1) print "10." o2 ".300.0" (kind == "a" ? "" : "/24")
                else print "nonsense-" i
            } else if (kind == "a") {
                print (rand() < 0.5 ? "10" : "172") "." o2 "." o3 "." int(rand() * 256)
            } else {
                r = int(rand() * 4)
                if (r == 0) print "10." o2 ".0.0/16"
                else if (r == 1) print "10." o2 "." (o3 - o3 % 16) ".0/20"
                else if (r == 2) print "10." o2 "." o3 ".0/24"
                else print "10." o2 "." o3 "." (16 * int(rand() * 16)) "/28"
            }
            if (i > 200000 && rand() < 0.01) print (rand() < 0.5 ? "# a comment" : "")
        }
    }'
}

# same_bytes NAME ARGS... < stdin file in $in: one thread, two, three
same_bytes() {
    name=$1
    shift
    for t in 1 2 3; do
        "$cli" "$@" --threads $t <"$in" >"$tmp/o$t" 2>"$tmp/e$t"
        echo $? >"$tmp/r$t"
    done
    for t in 2 3; do
        cmp -s "$tmp/o1" "$tmp/o$t" ||
            fail "$name: stdout with --threads $t differs from one thread $seedmsg: $(cmp "$tmp/o1" "$tmp/o$t")"
        cmp -s "$tmp/e1" "$tmp/e$t" ||
            fail "$name: stderr with --threads $t differs $seedmsg: $(head -c 300 "$tmp/e$t")"
        cmp -s "$tmp/r1" "$tmp/r$t" ||
            fail "$name: exit $(cat "$tmp/r$t") with --threads $t, $(cat "$tmp/r1") with one $seedmsg"
    done
}

C=16384          # items per chunk on one thread (cli/items.c CHUNK_ONE)
J=1024           # items per job with --threads (JOB_ITEMS)
C2=$((4 * J))    # a chunk on two threads (2 jobs per worker); C3 on three
C3=$((6 * J))
N=$((3 * C + 4321))
mid=$(awk -v s="$seed" -v n="$N" 'BEGIN { srand(s); print 1 + int(rand() * n) }')
BAD="1,$J,$((J + 1)),$C2,$((C2 + 1)),$C3,$((C3 + 1)),$C,$((C + 1)),$((2 * C)),$((2 * C + 1)),$mid,$N"

# --keep-going: every bad item an error record in place, the rest answered.
in=$tmp/q
items $N "$BAD" q >"$in"
for args in "query --count" "query --format csv --limit 2" "query --format ndjson --limit 1"; do
    same_bytes "$args --keep-going" $args $E --keep-going -
    [ "$(cat "$tmp/r1")" -eq 2 ] || fail "$args --keep-going: exit $(cat "$tmp/r1"), expected 2 $seedmsg"
done
# query --count: one line per item, the bad ones as errors in their place.
"$cli" query $E --count --keep-going --threads 2 - <"$in" >"$tmp/c2" 2>/dev/null
[ "$(wc -l <"$tmp/c2")" -eq "$N" ] || fail "query --count: $(wc -l <"$tmp/c2") lines for $N items $seedmsg"
for k in 1 $J $((J + 1)) $C2 $((C2 + 1)) $C3 $((C3 + 1)) $C $((C + 1)) $((2 * C)) $((2 * C + 1)); do # lines = items up to here
    sed -n "${k}p" "$tmp/c2" | grep -q "^error: line $k: " ||
        fail "query --count: item $k is not an error record in place: $(sed -n "${k}p" "$tmp/c2") $seedmsg"
done
tail -n 1 "$tmp/c2" | grep -q "^error: line " || fail "query --count: the last item is no error record"

in=$tmp/a
items $N "$BAD" a >"$in"
for args in "lookup" "lookup --count" "lookup --all --format csv"; do
    same_bytes "$args --keep-going" $args $E --keep-going -
done

# Without --keep-going the first bad item stops the run: exit 2, its
# location on stderr, exactly the items before it answered.
for stop in $C $((C + 1)) $J $((C2 + 1)) $C3 $mid; do
    in=$tmp/s
    items $N "$stop" q >"$in"
    same_bytes "query --count, bad item $stop" query $E --count -
    [ "$(cat "$tmp/r1")" -eq 2 ] || fail "bad item $stop: exit $(cat "$tmp/r1") $seedmsg"
    [ "$(wc -l <"$tmp/o2")" -eq $((stop - 1)) ] ||
        fail "bad item $stop: $(wc -l <"$tmp/o2") answers before it, expected $((stop - 1)) $seedmsg"
    grep -q "(stdin):$stop:" "$tmp/e2" || fail "bad item $stop: location: $(head -c 300 "$tmp/e2") $seedmsg"
    same_bytes "query rows, bad item $stop" query $E --limit 1 -
done

# Items from the command line, stdin and a file together keep their order.
in=$tmp/q
head -n 70000 "$tmp/q" | tail -n 20000 >"$tmp/part"
same_bytes "arguments, stdin, --items" query $E --count --keep-going 10.0.0.0/8 - 192.0.2.0/24 \
    --items "$tmp/part"

# check --pairs: 3 batches and a part; a malformed line on a batch border
# stops the run after the pairs before it, in every streaming format.
C=16384          # pairs per batch of check --pairs --threads (BATCH_MANY)
sample_pairs "$tmp/pairs.csv" $((3 * C + 999)) "$seed"
in=$tmp/pairs.csv
for fmt in text csv ndjson; do
    same_bytes "check --pairs --format $fmt" check $E --format $fmt --pairs -
    [ "$(cat "$tmp/r1")" -eq 0 ] || fail "check --pairs --format $fmt: exit $(cat "$tmp/r1")"
done
awk -v bad=$((C + 2)) 'NR == bad { print "vpc-a,\"unterminated"; next } { print }' "$tmp/pairs.csv" >"$tmp/badpairs.csv"
in=$tmp/badpairs.csv
same_bytes "check --pairs, a bad line on a batch border" check $E --format csv --pairs -
[ "$(cat "$tmp/r1")" -eq 2 ] || fail "check --pairs bad line: exit $(cat "$tmp/r1")"
[ "$(wc -l <"$tmp/o2")" -eq $((C + 1)) ] ||
    fail "check --pairs bad line: $(wc -l <"$tmp/o2") lines, expected the header and $C pairs"

finish test_threads
