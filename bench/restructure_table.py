#!/usr/bin/env python3
"""bench/restructure_table.py NEW.json BASE.json [BASE_NAME] — the
side-by-side table of bench/results-restructure.md: every `make bench` row
that both runs have (bench/run.sh with CS_BENCH_BASE writes the two files,
dataset by dataset in turn), the median rate of each (items per second of
CPU time; of wall time for the manual-time reader rows, which time
themselves; a row without an item count gives its median time instead),
this build's speed as a factor of the base's, and a verdict from the
repetitions: "slower" only when this build's fastest repetition is slower
than the base's slowest (the ranges do not meet), "faster" the other way
round, else "within noise".
"""
import json
import sys


def reps(path):
    out = {}
    with open(path) as f:
        for b in json.load(f)["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            manual = b["run_name"].endswith("manual_time")
            t = b["real_time" if manual else "cpu_time"]
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            # a speed: items per second, or 1 / seconds per iteration
            if "items_per_second" in b:
                out.setdefault(b["run_name"], []).append(("rate", b["items_per_second"]))
            else:
                out.setdefault(b["run_name"], []).append(("time", 1.0 / (t * scale)))
    return out


def show(kind, speed):
    if kind == "time":
        return fmt(1.0 / speed)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if speed >= div:
            return "%.3g%s/s" % (speed / div, unit)
    return "%.3g/s" % speed


def fmt(s):
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.1f ms" % (s * 1e3)
    return "%.1f µs" % (s * 1e6)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main():
    new, base = reps(sys.argv[1]), reps(sys.argv[2])
    name = sys.argv[3] if len(sys.argv) > 3 else "base"
    print("| benchmark | %s, median | HEAD, median | speed, HEAD / %s | verdict |" % (name, name))
    print("|---|---|---|---|---|")
    counts = {"slower": 0, "faster": 0, "within noise": 0}
    for k in new:
        if k not in base:
            continue
        kind = new[k][0][0]
        n, b = [v for _, v in new[k]], [v for _, v in base[k]]
        factor = median(n) / median(b)
        if max(n) < min(b):
            verdict = "slower"
        elif min(n) > max(b):
            verdict = "faster"
        else:
            verdict = "within noise"
        counts[verdict] += 1
        print("| %s | %s | %s | %.2fx | %s |" % (k, show(kind, median(b)), show(kind, median(n)),
                                                 factor, verdict))
    only = [k for k in new if k not in base]
    print()
    print("%d rows: %d faster, %d within noise, %d slower (ranges of %d repetitions "
          "apart). Only in HEAD: %s." % (sum(counts.values()), counts["faster"],
                                         counts["within noise"], counts["slower"],
                                         max(len(v) for v in new.values()),
                                         ", ".join(only) if only else "none"))


if __name__ == "__main__":
    main()
