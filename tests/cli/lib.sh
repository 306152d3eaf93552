# tests/cli/lib.sh — the helpers every CLI test shares, written once.
# Source it after setting `src` (the source tree) — `. "$src/tests/cli/lib.sh"`.
# It makes a private temporary directory $tmp, removed on exit (together with
# whatever was registered with at_exit), sets fails=0 and defines:
#
#   fail MSG...         record a failure (the test goes on; finish exits 1)
#   die MSG...          record a failure and stop now
#   at_exit CMD         run CMD (a shell string) at exit, before $tmp goes
#   expect_rc RC CMD... run CMD (stdout in $tmp/out, stderr in $tmp/err) and
#                       fail unless it exits RC
#   expect_in FILE TEXT fail unless FILE contains TEXT
#   py ARGS...          python3 ARGS — Debian's /usr/bin/python3 when present
#                       (python3-jsonschema and friends install there), else the
#                       first on PATH; a missing python3 is a FAILURE, never a
#                       skip (scripts/install-deps.sh installs it)
#   json_ok FILE        fail unless FILE is one valid JSON document
#   ndjson_ok FILE      fail unless every line of FILE is a JSON document
#   finish NAME         print "NAME: ok" and exit 0, or the count and exit 1
#   sample_pairs FILE N SEED
#                       a check --pairs CSV of N seeded pairs of the VPC ids of
#                       datasets/sample (and one unknown id, vpc-nope); run
#                       from the source tree
#
# POSIX sh: the tests run under Debian's dash.

fails=0
_cs_at_exit=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs_cli.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }

_cs_cleanup() {
    eval "$_cs_at_exit"
    rm -rf "$tmp"
}
trap _cs_cleanup EXIT
trap 'exit 130' INT TERM

at_exit() {
    _cs_at_exit="$_cs_at_exit
$1"
}

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

die() {
    fail "$@"
    echo "$fails failure(s)" >&2
    exit 1
}

expect_rc() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $(head -c 400 "$tmp/err")"
}

expect_in() {
    grep -F -q -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 600 "$1")"
}

py() {
    if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 "$@"
    elif command -v python3 >/dev/null 2>&1; then
        python3 "$@"
    else
        fail "python3 is missing: the JSON checks cannot run (scripts/install-deps.sh installs it)"
        return 1
    fi
}

json_ok() {
    py -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" \
        || fail "$1 is not valid JSON: $(head -c 300 "$1")"
}

ndjson_ok() {
    py -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        json.loads(line)
    except ValueError as e:
        sys.exit(f"line {n}: {e}")
' "$1" || fail "$1 is not NDJSON"
}

finish() {
    [ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
    echo "$1: ok"
    exit 0
}

sample_pairs() {
    py - "$1" "$2" "$3" <<'PY' || fail "sample_pairs $*"
import glob, json, random, sys
ids = set()
for f in glob.glob("datasets/sample/**/*.json", recursive=True):
    try:
        d = json.load(open(f))
    except ValueError:
        continue
    if isinstance(d, dict):
        ids.update(v["VpcId"] for v in d.get("Vpcs", []))
ids = sorted(ids) + ["vpc-nope"]
r = random.Random(int(sys.argv[3]))
with open(sys.argv[1], "w") as f:
    f.write("vpc_a,vpc_b\n")
    for _ in range(int(sys.argv[2])):
        f.write("%s,%s\n" % (r.choice(ids), r.choice(ids)))
PY
}
