#!/usr/bin/python3
"""bench/python_binding.py — cidrscope's Python binding against py-radix
(Debian python3-radix), side by side on the same estate and the same queries.

    CIDRSCOPE_LIBRARY=build/libcidrscope.so PYTHONPATH=python \\
        /usr/bin/python3 bench/python_binding.py PREFIXES_CSV [N_QUERIES] [RADIX_QUERIES] [SEED]

Estate: every row of PREFIXES_CSV (provider,family,prefix: the shipped real
dataset, unpacked by the build to build/datasets/prefixes.csv). Queries: N
(default 1,000,000) prefixes drawn with SEED: a stored prefix widened by 0..7
bits or narrowed by 0..4 bits, so most overlap something and some nest deep.

cidrscope: one Snapshot.count(queries) call over all N (string list in,
list[int] out: parsing included); py-radix: what its user would write for
the same count (search_covered, plus search_covering strictly shorter), on
the first RADIX_QUERIES (default 50,000) of the same queries — its cost per
query does not depend on N. Both answer lists are compared on those queries
first; a mismatch exits 1 before any figure is printed. Times are this
process's CPU time (time.process_time: the figures stay comparable on a
loaded machine), median of 5 runs for cidrscope and 3 for py-radix;
the line printed per implementation: impl queries median_s per_query_ns
queries_per_s, then the ratio of the per-query rates.

Then where cidrscope's time goes, each step timed alone (median of 5), in
ns per query: the pure-Python floor ("\n".join(queries), which a binding
that joins pays and one reading the list's str objects in place does not,
and a list of N ints made by one ffi.unpack), Snapshot.count on bytes
items (b"\n".join, no encode), the C call cs_query_count_items on the
list itself (parse in place, sort, count, scatter; the binding's path for
a list of str, where it has it), the C call cs_query_count_lines on the
joined buffer, and, for comparison,
cs_prefix_parse_lines + cs_query_count_bulk in input order (the previous
path), and cs_query_count_bulk on the same queries sorted by address (the
count's own best rate). The 100x target is py-radix's ns per query / 100.
"""
import csv
import ipaddress
import os
import platform
import random
import statistics
import sys
import time

import cidrscope

# py-radix used as bench/peers uses it: the same build and count
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import peer_pyradix  # noqa: E402


def queries(rows, n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        p = rows[rng.randrange(len(rows))]
        if rng.random() < 0.6:
            d = min(p.prefixlen, rng.randrange(8))
            out.append(str(p.supernet(prefixlen_diff=d)))
        else:
            d = min(p.max_prefixlen - p.prefixlen, rng.randrange(5))
            sub = p if d == 0 else next(p.subnets(prefixlen_diff=d))
            out.append(str(sub))
    return out


def radix_count(rt, q):
    return peer_pyradix.count(rt, q, int(q.rsplit("/", 1)[1]))


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    nr = int(sys.argv[3]) if len(sys.argv) > 3 else 50_000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 2026
    with open(path) as f:
        texts = [r["prefix"] for r in csv.DictReader(f)]
    rows = [ipaddress.ip_network(t) for t in texts]
    qs = queries(rows, n, seed)

    snap = cidrscope.load(path)
    rt = peer_pyradix.build(texts)

    sub = qs[:nr]
    want = [radix_count(rt, q) for q in sub]
    got = snap.count(sub)
    if got != want:
        i = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        print(f"MISMATCH at query {i} {sub[i]}: cidrscope {got[i]}, py-radix {want[i]}")
        return 1

    cs_s, _ = timed(lambda: snap.count(qs), 5)
    rx_s, _ = timed(lambda: [radix_count(rt, q) for q in sub], 3)
    cs_ns, rx_ns = cs_s / n * 1e9, rx_s / nr * 1e9
    print(f"# estate {len(texts)} prefixes ({path}), seed {seed}, "
          f"python {platform.python_version()}, {platform.machine()}")
    print(f"cidrscope Snapshot.count {n} {cs_s:.4f} {cs_ns:.1f} {n / cs_s:.0f}")
    print(f"py-radix  search_covered+covering {nr} {rx_s:.4f} {rx_ns:.1f} {nr / rx_s:.0f}")
    print(f"ratio {rx_ns / cs_ns:.1f}x per query")

    from cidrscope._ffi import ffi, lib

    def per_q(fn):
        return timed(fn, 5)[0] / n * 1e9

    arr = ffi.new("uint32_t[]", n + 1)
    text = "\n".join(qs).encode()
    qb = [q.encode() for q in qs]
    steps = [("floor: join", lambda: "\n".join(qs)),
             ("floor: ffi.unpack to list", lambda: ffi.unpack(arr, n)),
             ("Snapshot.count(bytes items)", lambda: snap.count(qb))]
    count_items = getattr(cidrscope, "_count_items", None)
    if count_items is not None and list in getattr(cidrscope, "_layouts", {}):
        addr = cidrscope._addr
        scratch = lib.cs_query_scratch_new()      # kept across calls, as the binding does
        steps.append(("C cs_query_count_items (list in place)", lambda: count_items(
            addr(snap._s), addr(scratch), qs, addr(cidrscope._layouts[list]), 0, 3, addr(arr), n + 1,
            None)))
    if hasattr(lib, "cs_query_count_lines"):
        steps.append(("C cs_query_count_lines", lambda: lib.cs_query_count_lines(
            snap._s, text, len(text), 0, 3, arr, n + 1, ffi.NULL)))
    parsed = ffi.new("cs_prefix[]", n + 1)
    steps.append(("C cs_prefix_parse_lines", lambda: lib.cs_prefix_parse_lines(
        text, len(text), 0, False, parsed, n + 1, ffi.NULL)))
    steps.append(("C cs_query_count_bulk (input order)", lambda: lib.cs_query_count_bulk(
        snap._s, parsed, n, 3, arr)))
    # the count's own rate on queries already in address order
    by_addr = sorted(qs, key=lambda q: (":" in q, ipaddress.ip_network(q).network_address.packed))
    text_sorted = "\n".join(by_addr).encode()
    parsed_sorted = ffi.new("cs_prefix[]", n + 1)
    lib.cs_prefix_parse_lines(text_sorted, len(text_sorted), 0, False, parsed_sorted, n + 1,
                              ffi.NULL)
    steps.append(("C cs_query_count_bulk (address order)", lambda: lib.cs_query_count_bulk(
        snap._s, parsed_sorted, n, 3, arr)))
    floor = 0.0
    for name, fn in steps:
        try:
            ns = per_q(fn)
        except TypeError:       # a binding before bytes items
            print(f"step {name} n/a")
            continue
        floor += ns if name.startswith("floor") else 0.0
        print(f"step {name} {ns:.1f}")
    print(f"floor {floor:.1f} ns per query; 100x py-radix needs <= {rx_ns / 100:.1f}")
    snap.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
