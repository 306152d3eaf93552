#!/bin/sh
# tests/security/attacks.sh — issue 13's attacks, replayed with two throwaway
# unprivileged users: OWNER (serves) and OTHER (a member of OWNER's group),
# plus `nobody` as a stranger. Every attack must be refused, every refusal
# must name what it found, and nothing may be left in /dev/shm or beside a
# snapshot. Runs as root (it creates and removes the users); prints SKIP and
# exits 0 otherwise. SECURITY.md lists what each step proves.
#
# usage: sh attacks.sh CLI SOURCE_DIR
set -u
cli=$(readlink -f "$1")
src=$(readlink -f "$2")
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: tests/security/attacks.sh needs root (it creates two throwaway users)"
    exit 0
fi
for tool in useradd userdel groupadd groupdel setpriv python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 0; }
done

tag=$$
own=csown$tag
oth=csoth$tag
grp=csgrp$tag
tmp=$(mktemp -d /tmp/cs-security-XXXXXX)
chmod 1777 "$tmp" # like /tmp: each user writes its own files
# a python3 the throwaway users can run (not one under root's home)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
fails=0
checks=0
bg=""
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }
cleanup() {
    for p in $bg; do kill -9 "$p" 2>/dev/null; done
    pkill_users
    rm -f /dev/shm/cssec"$tag"*
    userdel "$own" 2>/dev/null
    userdel "$oth" 2>/dev/null
    groupdel "$grp" 2>/dev/null
    rm -rf "$tmp"
}
# processes of the throwaway users only, by uid (never by name)
pkill_users() {
    for u in "$own" "$oth"; do
        uid=$(id -u "$u" 2>/dev/null) || continue
        for d in /proc/[0-9]*; do
            [ "$(stat -c %u "$d" 2>/dev/null)" = "$uid" ] && kill -9 "${d#/proc/}" 2>/dev/null
        done
    done
}
trap cleanup EXIT INT TERM

groupadd "$grp" || { echo "FAIL: groupadd"; exit 1; }
useradd -M -N -g "$grp" -s /bin/sh "$own" || { echo "FAIL: useradd"; exit 1; }
useradd -M -N -g "$grp" -s /bin/sh "$oth" || { echo "FAIL: useradd"; exit 1; }
as() { u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"; }
# exit status of a command run as user $1 (output kept in $tmp/last.out)
st() { as "$@" >"$tmp/last.out" 2>&1; echo $?; }
expect() { # expect WANT STATUS WHAT
    if [ "$2" -eq "$1" ]; then ok; else fail "$3: exit $2, want $1 ($(head -c 300 "$tmp/last.out"))"; fi
}
says() { # says TEXT WHAT: the last command's output mentions TEXT
    if grep -q -- "$1" "$tmp/last.out"; then ok; else fail "$2: output lacks '$1' ($(head -c 300 "$tmp/last.out"))"; fi
}
wait_gen() { # wait_gen USER NAME GEN [OWNER]: up to 15 s
    i=0
    while [ $i -lt 150 ]; do
        as "$1" "$cli" stat --shm "$2" ${4:+--owner "$4"} --format json 2>/dev/null |
            grep -q "\"generation\":$3," && return 0
        sleep 0.1
        i=$((i + 1))
    done
    fail "$2 did not reach generation $3"
    return 1
}
gen_of() { # gen_of USER NAME [OWNER]
    as "$1" "$cli" stat --shm "$2" ${3:+--owner "$3"} --format json 2>/dev/null |
        "$py" -c 'import json,sys; print(json.load(sys.stdin)["generation"])' 2>/dev/null || echo 0
}
no_segments() { # no_segments NAME WHAT
    if ls /dev/shm/"$1" /dev/shm/"$1"@* >/dev/null 2>&1; then
        fail "$2: left $(ls /dev/shm/"$1"* | tr '\n' ' ')"
    else ok; fi
}

cp -r "$src/datasets/sample" "$tmp/sample"
cp "$src/datasets/sample.csv" "$tmp/sample.csv"
printf 'owner,prefix\nvpc-0evil00000000000,10.0.0.0/8\n' >"$tmp/fake.csv"
i=0; while [ $i -lt 1000 ]; do echo "10.$((i % 256)).0.0/16"; i=$((i + 1)); done >"$tmp/q1000.txt"
chmod -R a+rX "$tmp"
touch -d '1 minute ago' "$tmp/sample.csv" "$tmp/fake.csv"

# ---- 1. name squatting --------------------------------------------------------
n=cssec${tag}sq1
expect 0 "$(st "$oth" "$cli" publish "$n" "$tmp/fake.csv" --mode 0666)" "1: other publishes first"
for who in "$own" root; do
    r=$(st "$who" "$cli" serve "$n" "$tmp/sample.csv" --interval 0)
    expect 2 "$r" "1: $who's serve into other's segment is refused"
    says "owned by $oth" "1: refusal names the owner"
    says "mode 0644" "1: refusal names the mode"
    r=$(st "$who" "$cli" query --shm "$n" 10.0.0.0/8)
    expect 2 "$r" "1: $who's query of other's service is refused"
    says "owned by $oth" "1: reader's refusal names the owner"
done
expect 0 "$(st "$own" "$cli" query --shm "$n" --owner "$oth" 10.0.0.0/8)" "1: naming the owner reads it"
says "vpc-0evil" "1: ... and gets other's (named) data"
rm -f /dev/shm/"$n" /dev/shm/"$n"@*
# an image of another user inside owner's service is refused
n=cssec${tag}img
expect 0 "$(st "$own" "$cli" publish "$n" "$tmp/sample.csv")" "1: owner publishes"
img=$(ls /dev/shm/"$n"@1.* | head -1)
chown "$oth" "$img"
r=$(st "$own" "$cli" query --shm "$n" --count 10.0.0.0/8)
expect 2 "$r" "1: image segment of another owner"
says "owned by $oth" "1: image refusal names the owner"
chown "$own" "$img"
expect 0 "$(st "$own" "$cli" query --shm "$n" --count 10.0.0.0/8)" "1: owner's own image reads"
rm -f /dev/shm/"$n" /dev/shm/"$n"@*

# ---- 2. group mode ------------------------------------------------------------------
n=cssec${tag}grp
as "$own" "$cli" serve "$n" "$tmp/sample.csv" --mode 0660 --interval 0.2 --settle 0.2 \
    >"$tmp/grp.log" 2>&1 &
bg="$bg $!"
wait_gen "$own" "$n" 1
for f in /dev/shm/"$n" /dev/shm/"$n"@1.*; do
    m=$(stat -c %a "$f")
    [ "$m" = 640 ] && ok || fail "2: $f has mode $m, want 640 (--mode 0660 minus write bits)"
done
m=$(stat -c %a /dev/shm/"$n"@readers.*)
[ "$m" = 660 ] && ok || fail "2: reader table has mode $m, want 660"
want=$(as "$own" "$cli" query --shm "$n" --count 10.0.0.0/8 2>/dev/null)
got=$(as "$oth" "$cli" query --shm "$n" --owner "$own" --count 10.0.0.0/8 2>"$tmp/last.out")
[ -n "$want" ] && [ "$got" = "$want" ] && ok || fail "2: group member cannot read ($got vs $want): $(cat "$tmp/last.out")"
# a group member cannot write the image, the control segment, or publish
for f in /dev/shm/"$n" /dev/shm/"$n"@1.*; do
    r=$(st "$oth" sh -c "printf x | dd of='$f' bs=1 seek=100 conv=notrunc")
    [ "$r" -ne 0 ] && ok || fail "2: group member wrote into $f"
done
r=$(st "$oth" "$cli" publish "$n" "$tmp/fake.csv" --force)
expect 2 "$r" "2: group member's publish is refused"
says "owned by $own" "2: publish refusal names the owner"
[ "$(gen_of "$own" "$n")" = 1 ] && ok || fail "2: the generation moved"
# a group member scribbles bogus pids and generations into every reader slot
as "$oth" "$py" - /dev/shm/"$n"@readers.* <<'PY' || fail "2: could not write the reader table"
import struct, sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    slots = (len(data) - 64) // 64
    for s in range(slots):
        struct.pack_into("<iIQ", data, 64 + 64 * s, [-5, 999999999, 2**31 - 2][s % 3], 0, 0xdead00 + s)
    f.seek(0); f.write(data)
PY
got=$(as "$oth" "$cli" query --shm "$n" --owner "$own" --count 10.0.0.0/8 2>"$tmp/last.out")
[ "$got" = "$want" ] && ok || fail "2: reader after bogus slots: '$got' ($(cat "$tmp/last.out"))"
got=$(as "$own" "$cli" query --shm "$n" --count 10.0.0.0/8 2>/dev/null)
[ "$got" = "$want" ] && ok || fail "2: owner's reader after bogus slots"
touch "$tmp/sample.csv"  # the server republishes: slots full of garbage do not block it
wait_gen "$own" "$n" 2
# a group member truncates the reader table under running readers and the
# server: nobody dies of SIGBUS, the server repairs it at its next reclaim
as "$oth" sh -c "'$cli' query --shm '$n' --owner '$own' --count - < '$tmp/q1000.txt' > /dev/null 2>&1" &
rpid=$!
as "$oth" "$py" -c "import os,sys; os.truncate(sys.argv[1], 0)" /dev/shm/"$n"@readers.* || fail "2: truncate"
r=$(st "$oth" "$cli" query --shm "$n" --owner "$own" --count 10.0.0.0/8)
[ "$r" -lt 128 ] && ok || fail "2: a reader died of signal $((r - 128)) after the truncation"
wait "$rpid"; r=$?
[ "$r" -lt 128 ] && ok || fail "2: a running reader died of signal $((r - 128))"
touch "$tmp/sample.csv"
wait_gen "$own" "$n" 3
[ "$(stat -c %s /dev/shm/"$n"@readers.*)" -gt 0 ] && ok || fail "2: the server did not repair the reader table"
got=$(as "$oth" "$cli" query --shm "$n" --owner "$own" --count 10.0.0.0/8 2>"$tmp/last.out")
[ "$got" = "$want" ] && ok || fail "2: reader after the repair: '$got' $(cat "$tmp/last.out")"
# a stranger (not in the group) cannot read at all
r=$(st nobody "$cli" query --shm "$n" --owner "$own" --count 10.0.0.0/8)
[ "$r" -ne 0 ] && ok || fail "2: a stranger read a 0640 service"
# 0640: group readers can read (they pin in the reader table, mode 0660)
n2=cssec${tag}g640
expect 0 "$(st "$own" "$cli" publish "$n2" "$tmp/sample.csv" --mode 0640)" "2: publish --mode 0640"
got=$(as "$oth" "$cli" query --shm "$n2" --owner "$own" --count 10.0.0.0/8 2>"$tmp/last.out")
[ "$got" = "$want" ] && ok || fail "2: group reader of a 0640 service: '$got' $(cat "$tmp/last.out")"
rm -f /dev/shm/"$n2" /dev/shm/"$n2"@*
# --reuse rewrites retired images only where no one else may pin: on a 0640
# service (group members pin, so they could clear a slot) it is ignored and
# no retired image is kept; on a 0600 one the reader table is the owner's
for k in 1 2 3; do
    expect 0 "$(st "$own" "$cli" publish "$n2" "$tmp/sample.csv" --mode 0640 --reuse)" "2: publish --reuse --mode 0640"
done
[ "$(ls /dev/shm/"$n2"@[0-9]* | wc -l)" -eq 1 ] && ok || fail "2: --reuse on a 0640 service kept retired images"
rm -f /dev/shm/"$n2" /dev/shm/"$n2"@*
for k in 1 2 3; do
    expect 0 "$(st "$own" "$cli" publish "$n2" "$tmp/sample.csv" --reuse)" "2: publish --reuse"
done
rt=$(ls /dev/shm/"$n2"@readers.*)
r=$(st "$oth" sh -c ": >> '$rt'")
[ "$r" -ne 0 ] && ok || fail "2: a group member could write the reader table of a 0600 --reuse service"
rm -f /dev/shm/"$n2" /dev/shm/"$n2"@*

# ---- 3. pre-created image names do not block publishes --------------------------
n=cssec${tag}pre
for s in .2 .3 @2 @3 @2.0000000000000001 @readers; do
    as "$oth" sh -c "umask 077; : > /dev/shm/$n$s"
done
expect 0 "$(st "$own" "$cli" publish "$n" "$tmp/sample.csv")" "3: first publish"
for g in 2 3 4; do
    expect 0 "$(st "$own" "$cli" publish "$n" "$tmp/sample.csv")" "3: publish $g past squatted names"
done
[ "$(gen_of "$own" "$n")" = 4 ] && ok || fail "3: generation is not 4"
rm -f /dev/shm/"$n" /dev/shm/"$n".* /dev/shm/"$n"@*

# ---- 4. idle readers hold no slot; a full table names its holders -------------------
n=cssec${tag}slots
expect 0 "$(st "$own" "$cli" publish "$n" "$tmp/sample.csv" --readers 2 --mode 0640)" "4: publish --readers 2"
for i in 1 2 3; do
    as "$oth" sh -c "sleep 1000 | '$cli' query --shm '$n' --owner '$own' --count - >/dev/null 2>&1" &
    bg="$bg $!"
done
sleep 1
expect 0 "$(st "$own" "$cli" query --shm "$n" --count 10.0.0.0/8)" "4: a reader beside three idle ones"
rm -f /dev/shm/"$n" /dev/shm/"$n"@*

# ---- 5. sources rewritten in place while served and read -------------------------
n=cssec${tag}snap
as "$own" "$cli" build "$tmp/sample.csv" -o "$tmp/a.snap" >/dev/null 2>&1 || fail "5: build a"
as "$own" "$cli" build "$tmp/sample" -o "$tmp/b.snap" >/dev/null 2>&1 || fail "5: build b"
as "$own" cp "$tmp/a.snap" "$tmp/x.snap"
as "$own" "$cli" serve "$n" "$tmp/x.snap" --interval 0.05 --settle 0.1 --max-shrink 0 \
    >"$tmp/snap.log" 2>&1 &
spid=$!
bg="$bg $spid"
wait_gen "$own" "$n" 1
sig=0
for i in 1 2 3 4 5 6; do
    if [ $((i % 2)) -eq 1 ]; then as "$own" sh -c "cat '$tmp/b.snap' > '$tmp/x.snap'"
    else as "$own" sh -c "cat '$tmp/a.snap' > '$tmp/x.snap'"; fi
    as "$own" "$cli" query -e "$tmp/x.snap" --count 10.0.0.0/8 >/dev/null 2>&1
    r=$?
    [ $r -ge 128 ] && sig=$r
    sleep 0.3
done
[ $sig -eq 0 ] && ok || fail "5: query -e died of a signal ($sig) while the file was rewritten"
kill -0 "$spid" 2>/dev/null && ok || fail "5: serve died while its snapshot was rewritten ($(tail -3 "$tmp/snap.log"))"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
rm -f /dev/shm/"$n" /dev/shm/"$n"@*

# ---- 6. a source written in chunks is never served half-written --------------------
n=cssec${tag}chunk
"$py" - "$tmp" <<'PY'
import sys
d = sys.argv[1]
lines = ["owner,prefix"] + ["vpc-%017d,10.%d.%d.0/24" % (i, i // 250, i % 250) for i in range(400)]
open(d + "/full.csv", "w").write("\n".join(lines) + "\n")
for k in range(4):
    part = lines[1 + k * 100: 1 + (k + 1) * 100]
    open(d + "/chunk%d" % k, "w").write(("owner,prefix\n" if k == 0 else "") + "\n".join(part) + "\n")
PY
chmod a+r "$tmp"/full.csv "$tmp"/chunk*
as "$own" cp "$tmp/full.csv" "$tmp/live.csv"
touch -d '1 minute ago' "$tmp/live.csv"
as "$own" "$cli" serve "$n" "$tmp/live.csv" --interval 0.05 --max-shrink 0 >"$tmp/chunk.log" 2>&1 &
cpid=$!
bg="$bg $cpid"
wait_gen "$own" "$n" 1
( i=0; while [ $i -lt 60 ]; do
      as "$own" "$cli" stat --shm "$n" --format json 2>/dev/null |
          "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["generation"], d["vpcs"])'
      sleep 0.1; i=$((i + 1))
  done ) >"$tmp/seen.txt" &
mon=$!
as "$own" sh -c ": > '$tmp/live.csv'"
for k in 0 1 2 3; do
    sleep 0.3
    as "$own" sh -c "cat '$tmp/chunk$k' >> '$tmp/live.csv'"
done
wait "$mon"
partial=$(awk '$2 != 400 { print }' "$tmp/seen.txt" | head -3)
[ -z "$partial" ] && ok || fail "6: a partial generation was served: $partial"
awk '$1 >= 2 && $2 == 400 { f = 1 } END { exit !f }' "$tmp/seen.txt" && ok ||
    fail "6: the completed source was not published ($(tail -2 "$tmp/seen.txt"))"
# the shrink guard: a source that lost most VPCs is refused, and shown
head -50 "$tmp/full.csv" >"$tmp/small.csv"; chmod a+r "$tmp/small.csv"
r=$(st "$own" "$cli" publish "$n" "$tmp/small.csv")
expect 2 "$r" "6: a shrinking publish is refused"
as "$own" "$cli" stat --shm "$n" >"$tmp/last.out" 2>&1
says "^refused " "6: stat --shm shows the refusal"
expect 0 "$(st "$own" "$cli" publish "$n" "$tmp/small.csv" --force)" "6: publish --force"
kill "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
rm -f /dev/shm/"$n" /dev/shm/"$n"@*

# ---- 7. bad input leaves nothing --------------------------------------------------------
n=cssec${tag}leak
printf 'owner,prefix\nvpc-a,10.0.0.1/16\n' >"$tmp/bad.csv"; chmod a+r "$tmp/bad.csv"
expect 2 "$(st "$own" "$cli" serve "$n" "$tmp/bad.csv" --unlink-on-exit)" "7: serve of a bad source"
no_segments "$n" "7: serve of a bad source"
expect 2 "$(st "$own" "$cli" serve "$n" /nonexistent)" "7: serve NAME /nonexistent"
no_segments "$n" "7: serve of a missing source"
expect 2 "$(st "$own" "$cli" publish "$n" /nonexistent)" "7: publish of a missing file"
no_segments "$n" "7: publish of a missing file"

# ---- 8-10. snapshot files --------------------------------------------------------------
d=$tmp/files; mkdir "$d"; chown "$own" "$d"
as "$own" sh -c "umask 077; '$cli' build '$tmp/sample.csv' -o '$d/u.snap'" >/dev/null 2>&1
m=$(stat -c %a "$d/u.snap" 2>/dev/null)
[ "$m" = 600 ] && ok || fail "8: build -o under umask 077 wrote mode $m"
as "$own" sh -c "umask 022; '$cli' build '$tmp/sample.csv' -o '$d/v.snap'" >/dev/null 2>&1
m=$(stat -c %a "$d/v.snap" 2>/dev/null)
[ "$m" = 644 ] && ok || fail "8: build -o under umask 022 wrote mode $m"
as "$own" sh -c "umask 077; '$cli' build '$tmp/sample.csv' -o '$d/m.snap' --mode 0640" >/dev/null 2>&1
m=$(stat -c %a "$d/m.snap" 2>/dev/null)
[ "$m" = 640 ] && ok || fail "8: build -o --mode 0640 wrote mode $m"
# 9: killed builds leave nothing; a dead writer's named temporary is removed
"$py" - "$tmp/big.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("owner,prefix\n")
    for i in range(300000):
        f.write("vpc-%017d,10.%d.%d.%d/32\n" % (i, i >> 16 & 255, i >> 8 & 255, i & 255))
PY
chmod a+r "$tmp/big.csv"
for delay in 0.2 0.5 0.8 1.2; do
    as "$own" "$cli" build "$tmp/big.csv" -o "$d/k.snap" >/dev/null 2>&1 &
    k=$!
    sleep "$delay"
    kill -9 "$k" 2>/dev/null
    wait "$k" 2>/dev/null
done
left=$(ls -A "$d" | grep -v '^[uvm]\.snap$' | grep -v '^k\.snap$')
[ -z "$left" ] && ok || fail "9: killed builds left: $left"
dead=999999
while kill -0 "$dead" 2>/dev/null; do dead=$((dead - 1)); done
as "$own" sh -c ": > '$d/u.snap.cstmp.$dead.00000000deadbeef'"
as "$own" "$cli" build "$tmp/sample.csv" -o "$d/w.snap" >/dev/null 2>&1
[ ! -e "$d/u.snap.cstmp.$dead.00000000deadbeef" ] && ok || fail "9: a dead writer's temporary file stayed"
# 10: bytes appended to a snapshot
as "$own" sh -c "cat '$d/u.snap' '$d/v.snap' > '$d/x2.snap'; cp '$d/u.snap' '$d/x1.snap'; printf x >> '$d/x1.snap'"
for f in x1 x2; do
    r=$(st "$own" "$cli" query -e "$d/$f.snap" --count 10.0.0.0/8)
    expect 2 "$r" "10: snapshot with bytes appended ($f)"
    says "appended" "10: the refusal says why"
done

echo "tests/security/attacks.sh: $checks checks passed, $fails failed"
[ $fails -eq 0 ]
