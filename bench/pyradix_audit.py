#!/usr/bin/python3
"""bench/pyradix_audit.py - what a script with py-radix does for an audit.

    pyradix_audit.py ESTATE.csv

Reads a `cidrscope gen --format csv` estate (account,region,vpc_id,cidr,
state,...), keeps the live blocks (associated, associating: the blocks the
audit reads), builds one py-radix node per distinct prefix with its row
count, and counts the overlapping entry pairs: per node C(n,2) + n x (rows
strictly inside it, from search_covered). Prints the blocks, distinct
prefixes, the pair count (equal to the audit's overlapping_entry_pairs) and
this process's CPU time split into read+build and count, for
bench/results-audit.md (the whole-command comparison of issue 14).
"""
import csv
import sys
import time

import radix


def main():
    t0 = time.process_time()
    rt = radix.Radix()
    blocks = 0
    with open(sys.argv[1], newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            if row[4] not in ("associated", "associating"):
                continue
            node = rt.search_exact(row[3])
            if node is None:
                node = rt.add(row[3])
                node.data["n"] = 0
            node.data["n"] += 1
            blocks += 1
    t1 = time.process_time()
    pairs = 0
    prefixes = 0
    for node in rt:
        n = node.data["n"]
        inside = sum(x.data["n"] for x in rt.search_covered(node.prefix)) - n
        pairs += n * (n - 1) // 2 + n * inside
        prefixes += 1
    t2 = time.process_time()
    print("blocks %d prefixes %d entry_pairs %d read+build %.2f s count %.2f s cpu %.2f s"
          % (blocks, prefixes, pairs, t1 - t0, t2 - t1, t2 - t0))


if __name__ == "__main__":
    main()
