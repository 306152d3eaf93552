#!/usr/bin/python3
"""bench/audit_bench_cli.py - the whole `cidrscope audit --format json`
command against bench/pyradix_audit.py on the same CSV, process start to
exit, for bench/results-audit.md (issue 14's whole-command row).

    audit_bench_cli.py RUNS ESTATE.csv NAME=CLI [NAME=CLI ...]

Every round runs each CLI (`CLI audit --format json ESTATE.csv`, report to
a scratch file) and then the py-radix script, in turn, so all see the same
load. Before any time is printed, the overlapping entry pairs of every CLI's
report must equal the script's count (a difference exits 1). Prints, per
command, the median and the spread of CPU time (user + sys of the child,
the figure on a shared machine) and the median wall time, then each CLI's
ratio to the script (script CPU / CLI CPU: > 1 means the CLI is faster).
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(argv, out_path):
    """Runs argv with stdout to out_path; returns (cpu_s, wall_s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        subprocess.run(argv, stdout=out, check=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    estate = sys.argv[2]
    clis = [a.split("=", 1) for a in sys.argv[3:]]
    script = ["/usr/bin/python3", os.path.join(HERE, "pyradix_audit.py"), estate]
    names = [n for n, _ in clis] + ["py-radix script"]
    cpu = {n: [] for n in names}
    wall = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        for _ in range(runs):
            got = {}
            for name, cli in clis:
                c, w = timed([cli, "audit", "--format", "json", estate], out)
                with open(out) as f:
                    got[name] = json.load(f)["summary"]["overlapping_entry_pairs"]
                cpu[name].append(c)
                wall[name].append(w)
                size = os.path.getsize(out)
            c, w = timed(script, out)
            with open(out) as f:
                words = f.read().split()
            want = int(words[words.index("entry_pairs") + 1])
            for name, n in got.items():
                if n != want:
                    sys.exit("%s counts %d overlapping entry pairs, the script %d"
                             % (name, n, want))
            cpu[names[-1]].append(c)
            wall[names[-1]].append(w)
    print("estate %s, %d runs, report %d bytes, entry pairs %d (equal)" % (estate, runs, size, want))
    for n in names:
        print("%-18s cpu median %.2f s (min %.2f max %.2f)  wall median %.2f s"
              % (n, statistics.median(cpu[n]), min(cpu[n]), max(cpu[n]),
                 statistics.median(wall[n])))
    ref = statistics.median(cpu[names[-1]])
    for n, _ in clis:
        print("%-18s %.2fx the script (CPU)" % (n, ref / statistics.median(cpu[n])))


if __name__ == "__main__":
    main()
