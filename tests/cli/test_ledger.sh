#!/bin/sh
# tests/cli/test_ledger.sh — the reservation ledger through the CLI:
# `serve NAME ... --ledger FILE`, `alloc --shm NAME --commit [--token]
# [--owner]`, free/alloc/audit seeing reservations, `release` by prefix and by
# token, a restart replaying the journal, and a reservation retired as
# fulfilled once its block appears in the sources.
#
# usage: sh tests/cli/test_ledger.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
name="cs-ledger-cli-$$"
spid=
cleanup() {
    [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    rm -f "/dev/shm/$name" "/dev/shm/$name".* 2>/dev/null
}
at_exit cleanup

# start_serve: serves $tmp/vpcs.csv with the ledger, waits until it serves.
start_serve() {
    "$cli" serve "$name" "$tmp/vpcs.csv" --ledger "$tmp/journal" --interval 0.1 \
        --settle 0.1 --unlink-on-exit >"$tmp/serve.out" 2>&1 &
    spid=$!
    i=0
    while ! grep -q "serving" "$tmp/serve.out" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && { fail "serve did not start: $(cat "$tmp/serve.out")"; return; }
        sleep 0.05
    done
}

stop_serve() {
    kill "$spid" && wait "$spid"
    spid=
}

cp "$src/tests/cli/golden/fixture-vpcs.csv" "$tmp/vpcs.csv"
expect_rc 0 "$cli" release --help
expect_rc 2 "$cli" release 10.1.0.0/16
expect_rc 2 "$cli" alloc -e "$tmp/vpcs.csv" --pool 10.0.0.0/14 --length 16 --commit
expect_rc 2 "$cli" alloc --shm "cs-no-such-$$" --pool 10.0.0.0/14 --length 16 --commit

start_serve
expect_rc 0 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --commit --token t1 \
    --owner "team a" --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.1.0.0/16,10.0.0.0/14" ] || fail "commit t1: $(cat "$tmp/out")"
# --owner TEXT is the reservation's owner, kept in the journal
grep -q "^R [0-9]* 10.1.0.0/16 t1 team a$" "$tmp/journal" || fail "owner: $(cat "$tmp/journal")"
# ... and nothing else: without --commit it is refused, naming --shm-owner
expect_rc 2 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --owner "team a"
grep -q -- "--shm-owner" "$tmp/err" || fail "--owner without --commit: $(cat "$tmp/err")"
# --shm-owner USER is the service-owner check of the other verbs' --owner
expect_rc 0 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --shm-owner "$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
    expect_rc 2 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --shm-owner nobody
fi
# the same token: the same block
expect_rc 0 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --commit --token t1 --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.1.0.0/16,10.0.0.0/14" ] || fail "idempotent t1: $(cat "$tmp/out")"
# later alloc and free see it
expect_rc 0 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --format csv
[ "$(sed -n 2p "$tmp/out")" = "10.2.0.0/16,10.0.0.0/14" ] || fail "alloc sees t1: $(cat "$tmp/out")"
expect_rc 0 "$cli" free --shm "$name" --pool 10.0.0.0/14 --format csv
grep -q ",10.1.0.0/16," "$tmp/out" && fail "free lists the reserved block"
expect_rc 0 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --count 2 --commit \
    --token t2 --format csv
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "commit t2: $(cat "$tmp/out")"
# restart: the journal is replayed
stop_serve
start_serve
grep -q "replayed (3 reservation records)" "$tmp/serve.out" || fail "replay: $(cat "$tmp/serve.out")"
expect_rc 1 "$cli" alloc --shm "$name" --pool 10.0.0.0/14 --length 16 --commit --token t3
# release by prefix, then by token
expect_rc 0 "$cli" release --shm "$name" 10.2.0.0/16
expect_rc 1 "$cli" release --shm "$name" 10.2.0.0/16
expect_rc 0 "$cli" release --shm "$name" --token t2
grep -q "released 1 reservation" "$tmp/out" || fail "release t2: $(cat "$tmp/out")"
# audit --shm sees the active reservations as planned blocks: t1's block adds
# no overlap (--fail-on looks at what the plan adds) ...
expect_rc 0 "$cli" audit --shm "$name" --format json --fail-on any
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["drift"]["what_if"] is True, d["drift"]' "$tmp/out" ||
    fail "audit --shm: not a what-if of the reservations"
# ... until a VPC takes part of it (10.1.0.0/17: not the reserved block itself)
npub=$(grep -c "published" "$tmp/serve.out")
echo "111111111111,us-east-1,vpc-0f10000000000000b,10.1.0.0/17,associated,false,squatter" >>"$tmp/vpcs.csv"
i=0
while [ "$(grep -c "published" "$tmp/serve.out")" -le "$npub" ]; do
    i=$((i + 1))
    [ "$i" -gt 100 ] && { fail "not republished: $(cat "$tmp/serve.out")"; break; }
    sleep 0.05
done
expect_rc 1 "$cli" audit --shm "$name" --format json --fail-on any
py - "$tmp/out" <<'PY' || fail "audit --shm: the reservation's overlap: $(head -c 600 "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
s = json.dumps(d["drift"]["changes"])
assert d["drift"]["appeared"] == 1, d["drift"]
assert "vpc-1ed9e4" in s and "vpc-0f10000000000000b" in s, s
PY
# fulfilled: t1's block appears in the sources
echo "111111111111,us-east-1,vpc-0f10000000000000a,10.1.0.0/16,associated,false,new" >>"$tmp/vpcs.csv"
i=0
while ! grep -q "1 reservation fulfilled" "$tmp/serve.out"; do
    i=$((i + 1))
    [ "$i" -gt 100 ] && { fail "not fulfilled: $(cat "$tmp/serve.out")"; break; }
    sleep 0.05
done
grep -q "^F [0-9]* 10.1.0.0/16$" "$tmp/journal" || fail "journal: $(cat "$tmp/journal")"
stop_serve
[ -e "/dev/shm/$name.ledger" ] && fail "--unlink-on-exit left the ledger segment"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "test_ledger.sh: ok"
