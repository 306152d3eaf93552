#!/bin/sh
# bench/peers/peer_postgres.sh — PostgreSQL 15 as a peer.
#
#   peer_postgres.sh DIR RUNS Q_MERGED_V4 Q_MERGED_V6 Q_ROWS ADDRS
#
# Starts a throwaway cluster (initdb in a temporary directory, a Unix socket
# in that directory, listen_addresses='' so no TCP at all; as the `postgres`
# user when run as root, since initdb refuses root), loads DIR's files
# (written by peer_cidrscope) and does what a user of PostgreSQL would:
#
#   postgres-gist       identical prefixes merged into one row with a count:
#                       mg(p cidr, n bigint), GiST inet_ops index, both
#                       families in one table;
#   postgres-spgist     the same with an SP-GiST inet_ops index, one table
#                       per family (ms4, ms6): PostgreSQL 15's SP-GiST
#                       inet_ops is known to lose IPv6 rows when an index page
#                       mixes families, so a mixed table is only used for the
#                       check reported as a note (workload "note");
#   postgres-gist-rows  one row per entry, eg(p cidr), GiST inet_ops.
#
# Workloads: build (COPY of the rows + GROUP BY + CREATE INDEX), count
# (SELECT sum(n) ... WHERE p && q per query, as one statement over a query
# table), lpm (p >>= address ORDER BY masklen(p) DESC LIMIT 1), pairs (a
# self-join: sum of a.n*b.n over a.p >> b.p, plus C(n,2) per row). Server
# settings: fsync off, one core per query (max_parallel_workers_per_gather
# = 0, as every other peer here), jit off (its compile time would dominate
# statements of milliseconds). Times are the CPU time of the server process
# running the statements (/proc/self/schedstat, read through pg_read_file).
#
# The answers of the first timed run of each workload are compared with the
# expected files before any time is printed; a mismatch exits 1 naming the
# line. Prints the same TSV lines as the other peers.
set -eu

if [ $# -ne 6 ]; then
    echo "usage: $0 DIR RUNS Q_MERGED_V4 Q_MERGED_V6 Q_ROWS ADDRS" >&2
    exit 2
fi
DIR=$1 RUNS=$2 QM4=$3 QM6=$4 QROWS=$5 NADDR=$6

PGBIN=${CS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/initdb" ] || { echo "postgres: no initdb in $PGBIN (install postgresql, or set CS_PG_BINDIR)" >&2; exit 3; }

DS=$(awk '$1 == "dataset" {print $2}' "$DIR/info.txt")
DV4=$(awk '$1 == "distinct_v4" {print $2}' "$DIR/info.txt")
DV6=$(awk '$1 == "distinct_v6" {print $2}' "$DIR/info.txt")

TMP=$(mktemp -d /tmp/cidrscope-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$TMP"
    AS_PG="runuser -u postgres --"
else
    AS_PG=""
fi
cleanup() {
    $AS_PG "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

$AS_PG "$PGBIN/initdb" -D "$TMP/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; exit 3; }
$AS_PG "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -o \
    "-k $TMP -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=2GB -c work_mem=256MB -c maintenance_work_mem=1GB -c max_parallel_workers_per_gather=0 -c max_parallel_maintenance_workers=0 -c jit=off" \
    start >/dev/null || { cat "$TMP/server.log" >&2; exit 3; }

PSQL="$PGBIN/psql -X -q -A -t -v ON_ERROR_STOP=1 -h $TMP -U postgres -d postgres"

# The server reads the inputs itself (COPY FROM a file): give it copies it
# may read, cut to the lengths used.
mkdir -p "$TMP/in"
cp "$DIR/rows.txt" "$TMP/in/rows.txt"
QMAX4=$QM4; [ "$QROWS" -gt "$QMAX4" ] && QMAX4=$QROWS
QMAX6=$QM6; [ "$QROWS" -gt "$QMAX6" ] && QMAX6=$QROWS
head -n "$QMAX4" "$DIR/queries-v4.txt" >"$TMP/in/q4.txt"
head -n "$QMAX6" "$DIR/queries-v6.txt" >"$TMP/in/q6.txt"
head -n "$NADDR" "$DIR/addrs-v4.txt" >"$TMP/in/a4.txt"
head -n "$NADDR" "$DIR/addrs-v6.txt" >"$TMP/in/a6.txt"
chmod -R a+rX "$TMP/in"

# sql_time OUT SQL...: runs the statements in one session, query output to
# OUT; prints the CPU time the server process spent on them, in seconds,
# read from its /proc/self/schedstat before and after (nanoseconds; every
# peer is timed by its own CPU time, and a query here runs in this one
# backend: no parallel workers). (st_* names are this function's own.)
sql_time() {
    st_out=$1
    shift
    st_cpu="SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1);"
    if ! { printf '%s\n' "\\o $TMP/cpu0.txt" "$st_cpu" "\\o $st_out"
           printf '%s\n' "$@"
           printf '%s\n' "\\o $TMP/cpu1.txt" "$st_cpu"; } |
        $PSQL >"$TMP/psql.out" 2>"$TMP/psql.err"; then
        echo "postgres: psql failed:" >&2
        cat "$TMP/psql.err" >&2
        return 3
    fi
    awk 'NR == FNR {a = $1; next} {printf "%.9f\n", ($1 - a) / 1e9}' \
        "$TMP/cpu0.txt" "$TMP/cpu1.txt"
}

# emit FAMILY WORKLOAD IMPL ITEMS NOTE TIMES...
emit() {
    em_fam=$1 em_wl=$2 em_impl=$3 em_items=$4 em_note=$5
    shift 5
    printf '%s\n' "$@" | sort -g | awk -v ds="$DS" -v fam="$em_fam" -v wl="$em_wl" \
        -v impl="$em_impl" -v items="$em_items" -v note="$em_note" '
        { t[NR] = $1 }
        END {
            med = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%s\t%s\t%s\t%s\t%s\t%.9f\t%.9f\t%.9f\t%d\t%s\n",
                ds, fam, wl, impl, items, med, t[1], t[NR], NR, note
        }'
}

# check GOT EXPECTED_FILE N WHAT: the first N expected lines must equal GOT.
check() {
    if ! head -n "$3" "$2" | cmp -s "$1" -; then
        head -n "$3" "$2" | paste "$1" - | awk -v what="$4" -v ds="$DS" '
            $1 != $2 { printf "postgres: %s %s line %d: got %s, cidrscope %s\n",
                       ds, what, NR, $1, $2; exit }' >&2
        exit 1
    fi
}

# ---- build ------------------------------------------------------------------
ROWS=$(wc -l <"$TMP/in/rows.txt" | tr -d ' ')
BUILD_GIST="DROP TABLE IF EXISTS raw, mg;
CREATE TABLE raw (p cidr);
COPY raw FROM '$TMP/in/rows.txt';
CREATE TABLE mg AS SELECT p, count(*)::bigint AS n FROM raw GROUP BY p;
CREATE INDEX mg_gist ON mg USING gist (p inet_ops);
ANALYZE mg;"
BUILD_SPGIST="DROP TABLE IF EXISTS raw, ms4, ms6;
CREATE TABLE raw (p cidr);
COPY raw FROM '$TMP/in/rows.txt';
CREATE TABLE ms4 AS SELECT p, count(*)::bigint AS n FROM raw WHERE family(p) = 4 GROUP BY p;
CREATE TABLE ms6 AS SELECT p, count(*)::bigint AS n FROM raw WHERE family(p) = 6 GROUP BY p;
CREATE INDEX ms4_spgist ON ms4 USING spgist (p inet_ops);
CREATE INDEX ms6_spgist ON ms6 USING spgist (p inet_ops);
ANALYZE ms4; ANALYZE ms6;"
BUILD_ROWS="DROP TABLE IF EXISTS eg;
CREATE TABLE eg (p cidr);
COPY eg FROM '$TMP/in/rows.txt';
CREATE INDEX eg_gist ON eg USING gist (p inet_ops);
ANALYZE eg;"
for variant in gist spgist rows; do
    case $variant in
    gist) sql=$BUILD_GIST impl=postgres-gist note="COPY + GROUP BY + GiST" ;;
    spgist) sql=$BUILD_SPGIST impl=postgres-spgist note="COPY + GROUP BY per family + SP-GiST" ;;
    rows) sql=$BUILD_ROWS impl=postgres-gist-rows note="COPY + GiST, one row per entry" ;;
    esac
    times=""
    r=0
    while [ "$r" -lt "$RUNS" ]; do
        times="$times $(sql_time /dev/null "$sql")"
        r=$((r + 1))
    done
    # shellcheck disable=SC2086
    emit all build "$impl" "$ROWS" "$note" $times
done
sql_time /dev/null "DROP TABLE raw;
CREATE TABLE q4 (id serial, q cidr); COPY q4(q) FROM '$TMP/in/q4.txt';
CREATE TABLE q6 (id serial, q cidr); COPY q6(q) FROM '$TMP/in/q6.txt';
CREATE TABLE a4 (id serial, a inet); COPY a4(a) FROM '$TMP/in/a4.txt';
CREATE TABLE a6 (id serial, a inet); COPY a6(a) FROM '$TMP/in/a6.txt';
ANALYZE q4; ANALYZE q6; ANALYZE a4; ANALYZE a6;" >/dev/null

# timed_check FAMILY WORKLOAD IMPL ITEMS NOTE EXPECTED_FILE SQL
# (POSIX sh has no local variables: tc_* names are this function's own.)
timed_check() {
    tc_fam=$1 tc_wl=$2 tc_impl=$3 tc_items=$4 tc_note=$5 tc_expect=$6 tc_sql=$7
    tc_times=""
    tc_r=0
    while [ "$tc_r" -lt "$RUNS" ]; do
        if [ "$tc_r" = 0 ]; then
            tc_times="$(sql_time "$TMP/out.txt" "$tc_sql")"
            check "$TMP/out.txt" "$tc_expect" "$tc_items" "$tc_fam $tc_wl ($tc_impl)"
        else
            tc_times="$tc_times $(sql_time /dev/null "$tc_sql")"
        fi
        tc_r=$((tc_r + 1))
    done
    # shellcheck disable=SC2086
    emit "$tc_fam" "$tc_wl" "$tc_impl" "$tc_items" "$tc_note" $tc_times
}

# ---- pairs --------------------------------------------------------------------
PAIRS=$(awk '$1 == "all" {print $2}' "$DIR/expect-pairs.txt")
echo "$PAIRS" >"$TMP/pairs.txt"
# The GiST self-join takes tens of seconds per run at 1M rows (a nested loop
# of index probes with `>>`): opt in with CS_PG_GIST_PAIRS=1.
if [ "${CS_PG_GIST_PAIRS:-0}" = 1 ]; then
    timed_check all pairs postgres-gist "$ROWS" "pairs=$PAIRS (self-join a.p >> b.p)" \
        "$TMP/pairs.txt" \
        "SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM mg)
              + (SELECT coalesce(sum(a.n * b.n), 0) FROM mg a JOIN mg b ON a.p >> b.p);"
fi
timed_check all pairs postgres-spgist "$ROWS" "pairs=$PAIRS (self-join per family)" \
    "$TMP/pairs.txt" \
    "SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM ms4)
          + (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM ms6)
          + (SELECT coalesce(sum(a.n * b.n), 0) FROM ms4 a JOIN ms4 b ON a.p >> b.p)
          + (SELECT coalesce(sum(a.n * b.n), 0) FROM ms6 a JOIN ms6 b ON a.p >> b.p);"

# ---- counts and lookups, per family --------------------------------------------
for fam in 4 6; do
    case $fam in
    4) distinct=$DV4 qm=$QM4 ;;
    *) distinct=$DV6 qm=$QM6 ;;
    esac
    [ "$distinct" -gt 0 ] || continue
    timed_check "v$fam" count postgres-gist "$qm" "sum(n) WHERE p && q" \
        "$DIR/expect-count-v$fam.txt" \
        "SELECT (SELECT coalesce(sum(n), 0) FROM mg WHERE p && q.q) FROM q$fam q
          WHERE id <= $qm ORDER BY id;"
    timed_check "v$fam" count postgres-spgist "$qm" "sum(n) WHERE p && q" \
        "$DIR/expect-count-v$fam.txt" \
        "SELECT (SELECT coalesce(sum(n), 0) FROM ms$fam WHERE p && q.q) FROM q$fam q
          WHERE id <= $qm ORDER BY id;"
    timed_check "v$fam" count postgres-gist-rows "$QROWS" "count(*) WHERE p && q" \
        "$DIR/expect-count-v$fam.txt" \
        "SELECT (SELECT count(*) FROM eg WHERE p && q.q) FROM q$fam q
          WHERE id <= $QROWS ORDER BY id;"
    timed_check "v$fam" lpm postgres-gist "$NADDR" "p >>= a ORDER BY masklen DESC LIMIT 1" \
        "$DIR/expect-lpm-v$fam.txt" \
        "SELECT coalesce((SELECT masklen(p) FROM mg WHERE p >>= a.a
                          ORDER BY masklen(p) DESC LIMIT 1), -1) FROM a$fam a ORDER BY id;"
    timed_check "v$fam" lpm postgres-spgist "$NADDR" "p >>= a ORDER BY masklen DESC LIMIT 1" \
        "$DIR/expect-lpm-v$fam.txt" \
        "SELECT coalesce((SELECT masklen(p) FROM ms$fam WHERE p >>= a.a
                          ORDER BY masklen(p) DESC LIMIT 1), -1) FROM a$fam a ORDER BY id;"
done

# ---- the mixed-family SP-GiST check (a note, never timed) ------------------------
sql_time /dev/null "CREATE TABLE msx AS SELECT p, n FROM mg;
CREATE INDEX msx_spgist ON msx USING spgist (p inet_ops); ANALYZE msx;" >/dev/null
wrong=0 total=0
for fam in 4 6; do
    case $fam in
    4) distinct=$DV4 qm=$QM4 ;;
    *) distinct=$DV6 qm=$QM6 ;;
    esac
    [ "$distinct" -gt 0 ] || continue
    sql_time "$TMP/mixed.txt" "SET enable_seqscan = off;
SELECT (SELECT coalesce(sum(n), 0) FROM msx WHERE p && q.q) FROM q$fam q
 WHERE id <= $qm ORDER BY id;" >/dev/null
    w=$(head -n "$qm" "$DIR/expect-count-v$fam.txt" | paste "$TMP/mixed.txt" - |
        awk '$1 != $2 {w++} END {print w + 0}')
    wrong=$((wrong + w))
    total=$((total + qm))
done
got=$(sql_time "$TMP/mixed.txt" "SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM msx)
  + (SELECT coalesce(sum(a.n * b.n), 0) FROM msx a JOIN msx b ON a.p >> b.p);" >/dev/null;
    cat "$TMP/mixed.txt")
pairs_ok=yes
[ "$got" = "$PAIRS" ] || pairs_ok="no ($got)"
printf '%s\tall\tnote\tpostgres-spgist-mixed\t%s\t0\t0\t0\t0\t%s\n' "$DS" "$total" \
    "one SP-GiST index over both families: $wrong of $total overlap counts differ from cidrscope; self-join pair count correct: $pairs_ok"
