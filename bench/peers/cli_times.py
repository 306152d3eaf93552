#!/usr/bin/python3
"""bench/peers/cli_times.py - the CLI bulk verbs, text in and text out.

    cli_times.py DATASET DIR RUNS NEW_CLI [BASE_NAME BASE_CLI]...

DIR is a dataset directory of bench/peers/run.sh: prefixes.csv (the
dataset's rows as a prefix list), queries-v4.txt, addrs-v4.txt (one item a
line), and for `check --pairs` estate.csv + pairs.csv when present. Each CLI
builds its own snapshot of the same rows (its own format version), then
every command runs RUNS times, the binaries alternating so both see the
same load. Before any time is printed, outputs are compared (by digest):
this build's --threads 1, 2 and default byte for byte; each base's `query
--count` byte for byte, its `lookup` line for line (its text columns were
narrower since); a difference exits 1. Every base (a80251a, the start of a
branch) runs in the same alternation.

Prints the peers' TSV (dataset family workload impl items median_s min_s
max_s runs note): median_s is CPU time (user + sys of the child, the figure
on a shared machine); the note holds the median wall time.
"""
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time


def run(argv, stdin_path):
    """Runs argv with stdin from a file; returns (cpu_s, wall_s, (digest,
    output lines))."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(stdin_path, "rb") as fin:
        p = subprocess.Popen(argv, stdin=fin, stdout=subprocess.PIPE)
        h = hashlib.sha256()
        nl = 0
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
            nl += chunk.count(b"\n")
        rc = p.wait()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc not in (0, 1):
        sys.exit("cli_times.py: %s exited %d" % (" ".join(argv), rc))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, (h.hexdigest(), nl)


def lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    ds, d, runs, new = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    bases = list(zip(sys.argv[5::2], sys.argv[6::2]))
    clis = [("cidrscope", new)] + bases
    snaps = {}
    for name, cli in clis:
        snap = os.path.join(d, "cli-%s.snap" % name)
        subprocess.run([cli, "build", "-o", snap, os.path.join(d, "prefixes.csv")],
                       check=True, stdout=subprocess.DEVNULL)
        snaps[name] = snap
    estate_snap = None
    if os.path.exists(os.path.join(d, "estate.csv")):
        estate_snap = os.path.join(d, "cli-estate.snap")
        subprocess.run([new, "build", "-o", estate_snap, os.path.join(d, "estate.csv")],
                       check=True, stdout=subprocess.DEVNULL)

    # (workload, family, input, args after -e SNAP, who runs it)
    jobs = [("cli-query-count", "v4", "queries-v4.txt", ["query", "--count"]),
            ("cli-lookup", "v4", "addrs-v4.txt", ["lookup"])]
    for wl, fam, inp, verb in jobs:
        path = os.path.join(d, inp)
        n = lines(path)
        variants = []
        for name, cli in clis:
            variants.append((name, [cli, verb[0], "-e", snaps[name]] + verb[1:] + ["-"]))
        for t in (1, 2):
            variants.append(("cidrscope --threads %d" % t,
                             [new, verb[0], "--threads", str(t), "-e", snaps["cidrscope"]]
                             + verb[1:] + ["-"]))
        times = {v[0]: [] for v in variants}
        digests = {}
        for _ in range(runs):
            for name, argv in variants:
                cpu, wall, dig = run(argv, path)
                times[name].append((cpu, wall))
                digests[name] = dig
        # This build's variants: the same bytes. The base: the same bytes for
        # counts; for lookup the same lines (its text columns were narrower).
        mine = {v for k, v in digests.items() if k.startswith("cidrscope")}
        if len(mine) != 1:
            sys.exit("cli_times.py: %s: --threads 2 and one thread differ" % wl)
        for base_name, _ in bases:
            if (digests[base_name] != digests["cidrscope"] if wl == "cli-query-count"
                    else digests[base_name][1] != digests["cidrscope"][1]):
                sys.exit("cli_times.py: %s: %s and this build answer differently" % (wl, base_name))
        for name, tw in times.items():
            cpus = sorted(c for c, _ in tw)
            print("%s\t%s\t%s\t%s\t%d\t%.6f\t%.6f\t%.6f\t%d\twall %.6f" % (
                ds, fam, wl, name, n, statistics.median(cpus), cpus[0], cpus[-1], runs,
                statistics.median(w for _, w in tw)))
    if estate_snap:
        path = os.path.join(d, "pairs.csv")
        n = lines(path) - 1
        times = {1: [], 2: []}
        digests = {}
        for _ in range(runs):
            for t in (1, 2):
                cpu, wall, dig = run([new, "check", "--threads", str(t), "--format", "csv",
                                      "-e", estate_snap, "--pairs", "-"], path)
                times[t].append((cpu, wall))
                digests[t] = dig
        if digests[1] != digests[2]:
            sys.exit("cli_times.py: check --pairs: --threads 2 differs from one thread")
        for t, tw in times.items():
            cpus = sorted(c for c, _ in tw)
            print("%s\tall\tcli-check-pairs\tcidrscope --threads %d\t%d\t%.6f\t%.6f\t%.6f\t%d\t"
                  "wall %.6f" % (ds, t, n, statistics.median(cpus), cpus[0], cpus[-1], runs,
                                 statistics.median(w for _, w in tw)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
