#!/usr/bin/python3
"""bench/peers/peer_pyradix.py - py-radix (Debian python3-radix) as a peer.

    peer_pyradix.py DIR RUNS QUERIES_V4 QUERIES_V6 ADDRS

Reads DIR's files (written by peer_cidrscope; see its header) and does what
a user of py-radix would do:

  build   one node per distinct prefix, node.data['n'] = its number of rows
          (py-radix keeps one node per prefix, so duplicates are counted);
  count   overlap(Q) = sum of n over search_covered(Q) (equal included) plus
          search_covering(Q) strictly shorter than Q;
  lpm     search_best(address).prefixlen;
  pairs   for every node: C(n,2) + n x (rows strictly inside it), the
          inside rows from search_covered.

Only the first QUERIES_V4 / QUERIES_V6 queries and ADDRS addresses of each
family are used (py-radix's cost grows with each query's output). Every answer is
checked against the expected files (those of the first of the RUNS timed runs);
a mismatch exits 1 with the offending line before any time is printed.
Times are this process's CPU time (time.process_time). One TSV line per
workload goes to stdout:

    dataset family workload impl items median_s min_s max_s runs note
"""
import itertools
import statistics
import sys
import time

import radix


def read_lines(path, limit=None):
    with open(path) as f:
        return [line.rstrip("\n") for line in itertools.islice(f, limit)]


def emit(ds, fam, workload, items, times, note):
    times = sorted(times)
    print("\t".join([ds, fam, workload, "py-radix", str(items),
                     "%.9f" % statistics.median(times), "%.9f" % times[0],
                     "%.9f" % times[-1], str(len(times)), note]), flush=True)


def build(rows):
    counts = {}
    for p in rows:
        counts[p] = counts.get(p, 0) + 1
    rt = radix.Radix()
    for p, n in counts.items():
        rt.add(p).data["n"] = n
    return rt


def count(rt, q, qlen):
    c = 0
    for node in rt.search_covered(q):
        c += node.data["n"]
    for node in rt.search_covering(q):
        if node.prefixlen < qlen:
            c += node.data["n"]
    return c


def lpm(rt, a):
    node = rt.search_best(a)
    return node.prefixlen if node is not None else -1


def pairs(rt):
    total = 0
    for node in rt:
        n = node.data["n"]
        inside = 0
        for x in rt.search_covered(node.prefix):
            inside += x.data["n"]
        total += n * (n - 1) // 2 + n * (inside - n)
    return total


def timed(runs, work, check):
    """Times `work` runs times; the first run's answers go to `check` (which
    exits on a mismatch) before the caller may print any time."""
    times = []
    for r in range(runs):
        t0 = time.process_time()
        got = work()
        times.append(time.process_time() - t0)
        if r == 0:
            check(got)
    return times


def fail(msg):
    sys.stderr.write("py-radix: " + msg + "\n")
    sys.exit(1)


def main():
    if len(sys.argv) != 6:
        sys.stderr.write("usage: peer_pyradix.py DIR RUNS QUERIES_V4 QUERIES_V6 ADDRS\n")
        sys.exit(2)
    d, runs = sys.argv[1], int(sys.argv[2])
    nqs = {"v4": int(sys.argv[3]), "v6": int(sys.argv[4])}
    na = int(sys.argv[5])
    info = dict(line.split(" ", 1) for line in read_lines(d + "/info.txt"))
    ds = info["dataset"]
    rows = read_lines(d + "/rows.txt")

    times = []
    for _ in range(runs):
        t0 = time.process_time()
        rt = build(rows)
        times.append(time.process_time() - t0)
    emit(ds, "all", "build", len(rows), times, "dict of counts + add per prefix")

    want = {}
    for line in read_lines(d + "/expect-pairs.txt"):
        k, v = line.split()
        want[k] = int(v)

    def check_pairs(got):
        if got != want["all"]:
            fail("%s pair count %d, cidrscope %d" % (ds, got, want["all"]))

    times = timed(runs, lambda: pairs(rt), check_pairs)
    emit(ds, "all", "pairs", len(rows), times,
         "pairs=%d (search_covered per node)" % want["all"])

    for fam in ("v4", "v6"):
        if int(info["distinct_" + fam]) == 0:
            continue
        nq = nqs[fam]
        qs = read_lines("%s/queries-%s.txt" % (d, fam), nq)
        qlens = [int(q.split("/")[1]) for q in qs]
        expect = [int(x) for x in read_lines("%s/expect-count-%s.txt" % (d, fam), nq)]

        def check_counts(got):
            for i, c in enumerate(got):
                if c != expect[i]:
                    fail("%s %s query line %d (%s): count %d, cidrscope %d"
                         % (ds, fam, i + 1, qs[i], c, expect[i]))

        times = timed(runs, lambda: [count(rt, q, ql) for q, ql in zip(qs, qlens)],
                      check_counts)
        emit(ds, fam, "count", len(qs), times, "search_covered + search_covering")

        addrs = read_lines("%s/addrs-%s.txt" % (d, fam), na)
        expect_lpm = [int(x) for x in read_lines("%s/expect-lpm-%s.txt" % (d, fam), na)]

        def check_lpm(got):
            for i, g in enumerate(got):
                if g != expect_lpm[i]:
                    fail("%s %s address line %d (%s): /%d, cidrscope /%d"
                         % (ds, fam, i + 1, addrs[i], g, expect_lpm[i]))

        times = timed(runs, lambda: [lpm(rt, a) for a in addrs], check_lpm)
        emit(ds, fam, "lpm", len(addrs), times, "search_best")

if __name__ == "__main__":
    main()
