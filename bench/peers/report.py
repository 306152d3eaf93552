#!/usr/bin/python3
"""bench/peers/report.py - writes bench/RESULTS.md (run by bench/peers/run.sh).

Inputs: the peers' TSV timings (every implementation's lines, one per
workload: dataset family workload impl items median_s min_s max_s runs
note) and, when present, Google Benchmark's JSON from `make bench`
(every repetition). Everything in RESULTS.md is computed here from those
two files and from the machine itself; nothing is typed by hand.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess

PEERS = ["sorted-sweep", "py-radix", "cidranger", "postgres-gist", "postgres-spgist",
         "postgres-gist-rows"]
# Peers a user would adopt instead of cidrscope (the sorted sweep is the floor).
LIBRARY_PEERS = ["py-radix", "cidranger", "postgres-gist", "postgres-spgist",
                 "postgres-gist-rows"]
TIME_WORKLOADS = ("build", "pairs", "audit-entry", "pairs-query-api", "audit-vpc")


def sh(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def si(x, unit=""):
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return "%.3g%s%s" % (x / div, suffix, unit)
    return "%.3g%s" % (x, unit)


def dur(s):
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.1f ms" % (s * 1e3)
    return "%.0f µs" % (s * 1e6)


def ratio(x):
    if x >= 100:
        return "%.0fx" % x
    if x >= 10:
        return "%.1fx" % x
    return "%.2fx" % x


class Row:
    def __init__(self, f):
        (self.dataset, self.family, self.workload, self.impl, items, med, lo, hi, runs,
         self.note) = f
        self.items, self.runs = int(items), int(runs)
        self.med, self.min, self.max = float(med), float(lo), float(hi)

    def rate(self):
        return self.items / self.med

    def rate_range(self):
        return self.items / self.max, self.items / self.min

    def entries(self):
        m = re.search(r"entries=(\d+)", self.note)
        return int(m.group(1)) if m else None


def load_results(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 10:
                rows.append(Row(parts))
    return rows


def find(rows, ds, fam, wl, impl):
    for r in rows:
        if (r.dataset, r.family, r.workload, r.impl) == (ds, fam, wl, impl):
            return r
    return None


def machine():
    model, cores = "unknown", os.cpu_count()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    caches = []
    for line in sh(["lscpu"]).splitlines():
        if re.match(r"L[123][di]? cache", line):
            caches.append(re.sub(r"\s+", " ", line.strip()))
    return model, cores, mem, caches


def cell(rows, ds, fam, wl, impl, cs):
    r = find(rows, ds, fam, wl, impl)
    if r is None:
        return "—"
    if wl in TIME_WORKLOADS:
        text = dur(r.med)
        if cs is not None and impl != "cidrscope":
            text += " (%s)" % ratio(r.med / cs.med)
        return text
    text = si(r.rate(), "/s")
    if cs is not None and impl != "cidrscope":
        text += " (%s)" % ratio(cs.rate() / r.rate())
    return text


def headline(rows, ds):
    out = []
    impls = ["cidrscope"] + [p for p in PEERS if any(r.impl == p and r.dataset == ds
                                                     for r in rows)]
    out.append("| workload | " + " | ".join(impls) + " |")
    out.append("|---" * (len(impls) + 1) + "|")
    lines = [("build + freeze, all rows", "all", "build"),
             ("overlap count, IPv4 queries", "v4", "count"),
             ("overlap count, IPv6 queries", "v6", "count"),
             ("longest-prefix match, IPv4", "v4", "lpm"),
             ("longest-prefix match, IPv6", "v6", "lpm"),
             ("overlapping entry pairs, the count alone (cidrscope: cs_query_count_pairs)",
              "all", "pairs"),
             ("entry-level audit: pair count + clusters (cidrscope only)", "all",
              "audit-entry"),
             ("full audit, VPC level (cidrscope only)", "all", "audit-vpc")]
    for label, fam, wl in lines:
        cs = find(rows, ds, fam, wl, "cidrscope")
        if cs is None:
            continue
        out.append("| %s | " % label +
                   " | ".join(cell(rows, ds, fam, wl, i, cs) for i in impls) + " |")
    return out


def detail(rows, ds):
    out = ["| workload | family | implementation | items | median | rate, median (min–max) "
           "| cidrscope / this |", "|---|---|---|---|---|---|---|"]
    order = ["build", "count", "enumerate", "lpm", "pairs", "audit-entry", "pairs-query-api",
             "audit-vpc"]
    keys = []
    for r in rows:
        if (r.dataset == ds and r.workload not in ("note", "image")
                and not r.workload.startswith("cli-") and (r.workload, r.family) not in keys):
            keys.append((r.workload, r.family))
    def rank(w):
        w = w.replace("-single", "")
        return order.index(w) if w in order else len(order)

    keys.sort(key=lambda k: (rank(k[0]), k[1], k[0].endswith("-single")))
    for wl, fam in keys:
        base = wl.replace("-single", "")
        cs = find(rows, ds, fam, base, "cidrscope")
        group = [r for r in rows if r.dataset == ds and r.family == fam and r.workload == wl]
        group.sort(key=lambda r: (r.impl != "cidrscope", r.med / r.items))
        for r in group:
            lo, hi = r.rate_range()
            rate = "%s (%s–%s)" % (si(r.rate(), "/s"), si(lo), si(hi))
            if r.workload == "enumerate" and r.entries():
                e = r.entries()
                rate += "; %s entries/s (%s–%s), %s entries/query" % (
                    si(e / r.med), si(e / r.max), si(e / r.min), si(e / r.items))
            if cs is None or r is cs:
                rel = "—"
            elif wl in TIME_WORKLOADS:
                rel = ratio(r.med / cs.med)
            else:
                rel = ratio(cs.rate() / r.rate())
            impl = r.impl + (" (single)" if wl.endswith("-single") else "")
            impl += " (bulk)" if r.impl == "cidrscope" and wl in ("count", "lpm") else ""
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                wl.replace("-single", ""), fam, impl, si(r.items), dur(r.med), rate, rel))
    notes = [r for r in rows if r.dataset == ds and r.workload == "note"]
    for n in notes:
        out.append("")
        out.append("Note (%s): %s." % (n.impl, n.note))
    return out


def load_gbench(path):
    if not path or not os.path.exists(path):
        return None, {}
    with open(path) as f:
        doc = json.load(f)
    runs = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type") != "iteration":
            continue
        # "readers_shm/D/v4/1/iterations:1/manual_time" -> "readers_shm/D/v4/1"
        name = re.sub(r"/(iterations:\d+|real_time|manual_time)", "", b["run_name"])
        runs.setdefault(name, []).append(b)
    return doc.get("context", {}), runs


def gb_stat(reps, key):
    vals = sorted(float(b[key]) for b in reps if key in b)
    if not vals:
        return None
    return statistics.median(vals), vals[0], vals[-1]


def time_key(name):
    """Reader benchmarks are timed by the wall clock (manual time); every
    other one by the CPU time of the process."""
    return "real_time" if name.startswith("readers") else "cpu_time"


def gbench_section(runs):
    out = ["| benchmark | reps | time, median (CPU; wall for readers) | items/s, median "
           "(min–max) | other (median) |", "|---|---|---|---|---|"]
    for name, reps in runs.items():
        t = gb_stat(reps, time_key(name))
        ips = gb_stat(reps, "items_per_second")
        unit = reps[0].get("time_unit", "ns")
        extra = []
        for key, fmt in (("entries/s", lambda v: si(v, "/s") + " entries"),
                         ("entries/query", lambda v: "%s entries/query" % si(v)),
                         ("hit%", lambda v: "%.1f%% hits" % v),
                         ("B/entry", lambda v: "%.1f B/entry" % v),
                         ("builder_MiB", lambda v: "builder %.1f MiB" % v),
                         ("image_MiB", lambda v: "image %.1f MiB" % v),
                         ("pairs", lambda v: "%s pairs" % si(v)),
                         ("clusters", lambda v: "%s clusters" % si(v)),
                         ("vpcs", lambda v: "%s VPCs" % si(v)),
                         ("vpc_pairs", lambda v: "%s VPC pairs" % si(v)),
                         ("ineligible%", lambda v: "%.1f%% ineligible" % v),
                         ("candidates/call", lambda v: "%.1f candidates/call" % v),
                         ("readers", lambda v: "%d readers" % v),
                         ("median_batch_us", lambda v: "median batch %.0f µs" % v),
                         ("max_batch_us", lambda v: "longest batch %.0f µs" % v),
                         ("publishes", lambda v: "%d publishes" % v),
                         ("alloc_MiB", lambda v: "allocated %.0f MiB" % v)):
            s = gb_stat(reps, key)
            if s:
                extra.append(fmt(s[0]))
        out.append("| %s | %d | %.4g %s | %s (%s–%s) | %s |" % (
            name, len(reps), t[0], unit,
            si(ips[0], "/s") if ips else "—", si(ips[1]) if ips else "",
            si(ips[2]) if ips else "", "; ".join(extra)))
    return out


def bulk_gain(runs):
    out = ["| dataset / family | count: bulk vs single | lookup: bulk vs single |",
           "|---|---|---|"]
    for name in runs:
        m = re.match(r"count_bulk/(.+)$", name)
        if not m:
            continue
        key = m.group(1)
        cells = []
        for a, b in (("count_bulk", "count_single"), ("lookup_bulk", "lookup_single")):
            ra = runs.get("%s/%s" % (a, key))
            rb = runs.get("%s/%s" % (b, key))
            if ra and rb:
                x, y = gb_stat(ra, "items_per_second")[0], gb_stat(rb, "items_per_second")[0]
                cells.append("%s vs %s (%s)" % (si(x, "/s"), si(y, "/s"), ratio(x / y)))
            else:
                cells.append("—")
        out.append("| %s | %s |" % (key, " | ".join(cells)))
    return out


def gb_median(runs, name, key):
    reps = runs.get(name) if runs else None
    s = gb_stat(reps, key) if reps else None
    return s[0] if s else None


def base_comparison(runs, base_runs, base_name, this_name="this build"):
    """Every benchmark of both builds, same run: medians and the factor
    (how many times faster this build is; < 1 means slower)."""
    out = ["| benchmark | %s, median | %s, median | factor (min–max ranges) |"
           % (base_name, this_name), "|---|---|---|---|"]
    for name, reps in runs.items():
        breps = base_runs.get(name)
        if not breps:
            continue
        key = time_key(name)
        t, b = gb_stat(reps, key), gb_stat(breps, key)
        if not t or not b or t[0] <= 0:
            continue
        unit = reps[0].get("time_unit", "ns")
        # beyond noise: the two min–max ranges do not overlap
        note = ""
        if t[1] > b[2]:
            note = " slower beyond noise"
        elif t[2] < b[1]:
            note = " faster beyond noise"
        out.append("| %s | %.4g %s (%.4g–%.4g) | %.4g %s (%.4g–%.4g) | %s%s |" % (
            name, b[0], unit, b[1], b[2], t[0], unit, t[1], t[2], ratio(b[0] / t[0]), note))
    return out


def wall(r):
    m = re.search(r"wall ([0-9.]+)", r.note)
    return float(m.group(1)) if m else None


def issue14(rows, runs14, base_runs, base_name, ds, datasets):
    """Every row of issue 14's table: measured here when this script's run
    measures it, else where its owner's figures are."""
    out = ["| workload | target | measured (same run) | verdict |", "|---|---|---|---|"]

    def verdict(f, goal):
        return ("met (%s)" % ratio(f)) if f >= goal else (
            "missed: %s, %.0f%% of the target" % (ratio(f), 100 * f / goal))

    for label, target, where in (
            ("VPC-level audit summary + clusters, 1M blocks", "≥ 20x / ≥ 100x a80251a, linear",
             "results-audit.md"),
            ("whole `audit --format json` of a 1M-row CSV", "≥ 3x the py-radix script",
             "results-audit.md"),
            ("CSV ingest; AWS CLI JSON ingest; parallel parse", "≥ 6x a80251a; ≥ 1.7x one core",
             "results-ingest.md")):
        vpc = [r for r in rows if r.workload == "audit-vpc" and r.impl == "cidrscope"]
        extra = ""
        if label.startswith("VPC-level") and vpc:
            extra = "cidrscope's full VPC-level audit here: " + ", ".join(
                "%s %s" % (r.dataset, dur(r.med)) for r in vpc) + "; "
        out.append("| %s | %s | %sthe owner's measurements: [bench/%s](%s) | see there |"
                   % (label, target, extra, where, where))
    goals = [("overlap count, bulk, IPv4", "count_bulk/%s/v4", 1.4, "items_per_second"),
             ("overlap count, bulk, IPv6", "count_bulk/%s/v6", 2.7, "items_per_second"),
             ("longest-prefix match, bulk, IPv4", "lookup_bulk/%s/v4", 2.3, "items_per_second"),
             ("longest-prefix match, bulk, IPv6", "lookup_bulk/%s/v6", 4.0, "items_per_second"),
             ("IPv6 enumerate", "enumerate/%s/v6", 2.0, "entries/s")]
    bds = None
    for name in base_runs:
        if name.startswith("count_bulk/"):
            bds = name.split("/")[1]
            break
    for label, pat, goal, key in goals:
        name = pat % (bds or ds)
        x, b = gb_median(runs14, name, key), gb_median(base_runs, name, key)
        if x is None or b is None:
            out.append("| %s | ≥ %sx %s | not measured (no base build) | — |"
                       % (label, goal, base_name))
            continue
        out.append("| %s (%s) | ≥ %sx %s | %s %s, this build %s | %s |" % (
            label, bds, goal, base_name, base_name, si(b, "/s"), si(x, "/s"),
            verdict(x / b, goal)))
    names = {"build": "build", "count": "overlap count", "lpm": "longest-prefix match",
             "pairs": "overlapping entry pairs (both sides: the count alone, over a structure "
                      "already built)"}
    for d in datasets:
        for wl in ("build", "count", "lpm", "pairs"):
            for fam in ("all", "v4", "v6"):
                sw = find(rows, d, fam, wl, "sorted-sweep")
                cs = find(rows, d, fam, wl, "cidrscope")
                if not sw or not cs:
                    continue
                f = sw.med / cs.med if wl in TIME_WORKLOADS or wl == "build" else \
                    cs.rate() / sw.rate()
                out.append("| %s, %s%s, against the sorted sweep | ≥ 1.5x | %s %s, sweep %s | %s |"
                           % (names[wl], d, "" if fam == "all" else " " + fam,
                              "cidrscope", cell(rows, d, fam, wl, "cidrscope", None),
                              cell(rows, d, fam, wl, "sorted-sweep", None), verdict(f, 1.5)))
        # Nothing hidden: the whole entry-level audit (the count and every
        # cluster) against the same sweep, which counts only.
        sw = find(rows, d, "all", "pairs", "sorted-sweep")
        cs = find(rows, d, "all", "audit-entry", "cidrscope")
        if sw and cs:
            out.append("| entry-level audit (pair count + every cluster), %s, against the sorted "
                       "sweep counting pairs | ≥ 1.5x | cidrscope %s, sweep %s | %s |"
                       % (d, dur(cs.med), dur(sw.med), verdict(sw.med / cs.med, 1.5)))
    for d in datasets:
        total = find(rows, d, "all", "image", "image-total")
        if not total:
            continue
        cidrs = int(total.note.split()[0])
        strings = find(rows, d, "all", "image", "section:strings")
        sb = strings.items if strings else 0
        per = (total.items - sb) / cidrs
        secs = sorted((r for r in rows if r.dataset == d and r.workload == "image"
                       and r.impl.startswith("section:") and r.items),
                      key=lambda r: -r.items)
        parts = ", ".join("%s %.1f" % (r.impl[8:], r.items / cidrs) for r in secs)
        out.append("| estate image, %s (%s CIDRs, `cidrscope build` of gen's CSV) | ≤ 64 B per "
                   "CIDR plus strings | %.1f B per CIDR plus %.1f B of strings; by section, "
                   "B per CIDR: %s | %s |" % (d, si(cidrs), per, sb / cidrs, parts,
                                              "met" if per <= 64 else
                                              "missed: %.2fx over" % (per / 64)))
    for d in datasets:
        for wl, label in (("cli-query-count", "`query --count`"), ("cli-lookup", "`lookup`"),
                          ("cli-check-pairs", "`check --pairs`")):
            one = find(rows, d, "v4" if wl != "cli-check-pairs" else "all", wl,
                       "cidrscope --threads 1")
            two = find(rows, d, "v4" if wl != "cli-check-pairs" else "all", wl,
                       "cidrscope --threads 2")
            if one and two and wall(one) and wall(two):
                out.append("| %s --threads 2, %s, %s lines | ≥ 1.8x one thread | wall %s vs "
                           "%s, CPU %s vs %s | %s |" % (
                               label, d, si(one.items), dur(wall(two)), dur(wall(one)),
                               dur(two.med), dur(one.med), verdict(wall(one) / wall(two), 1.8)))
        for wl, label in (("cli-query-count", "`query --count`"), ("cli-lookup", "`lookup`")):
            new = find(rows, d, "v4", wl, "cidrscope")
            old = find(rows, d, "v4", wl, base_name)
            if new and old:
                out.append("| %s through the CLI, text in and out, %s, %s lines | ≥ 2.5x %s | "
                           "CPU %s vs %s %s (%s/s) | %s |" % (
                               label, d, si(new.items), base_name, dur(new.med), base_name,
                               dur(old.med), si(new.rate()), verdict(old.med / new.med, 2.5)))
    out.append("| reader stall while a generation is published every 50 ms | longest batch "
               "≤ 1.2x the batch without publishes, plain `cs_shm_pin` | the `readers_shm_*` "
               "rows of the issue-7 targets above (cs_bench); the serve helper's own "
               "measurements: its results file under bench/ | see there |")
    return out


def section(o, title, intro, body):
    """Appends a "## title" section: an optional paragraph, then body lines."""
    o.extend(["## " + title, ""] + ([intro, ""] if intro else []) + list(body) + [""])


ROOT = "."


def pending(module):
    """Why a module's workload has no figure yet."""
    if os.path.exists(os.path.join(ROOT, "include", "cidrscope", module + ".h")):
        return ("not measured: include/cidrscope/%s.h is in the tree but not yet "
                "measured by bench/harness.c" % module)
    return "not measurable yet: include/cidrscope/%s.h has not landed" % module


def targets(rows, runs, ds):
    """The issue's targets at 1M rows, from the peer run (same inputs as the
    peers) and from cs_bench, with the verdict."""
    out = ["| target (1M-row estate, one core) | peer run (median) | cs_bench (median) "
           "| verdict |", "|---|---|---|---|"]

    def gb(name, key="items_per_second"):
        reps = runs.get(name)
        s = gb_stat(reps, key) if reps else None
        return s[0] if s else None

    def verdict(value, goal, higher=True):
        if value is None:
            return "not measured"
        ok = value >= goal if higher else value <= goal
        if ok:
            return "met"
        if higher:
            return "missed: %.0f%% of the target (%.2fx short)" % (100 * value / goal,
                                                                  goal / value)
        return "missed: %.2fx over" % (value / goal)

    gbds = ds
    for fam in ("v4", "v6"):
        cs = find(rows, ds, fam, "count", "cidrscope")
        g = gb("count_bulk/%s/%s" % (gbds, fam))
        if cs:
            out.append("| overlap count, bulk, %s: ≥ 20M queries/s | %s | %s | %s |" % (
                fam, si(cs.rate(), "/s"), si(g, "/s") if g else "—",
                verdict(cs.rate(), 20e6)))
            peers = [find(rows, ds, fam, "count", p) for p in LIBRARY_PEERS]
            peers = [p for p in peers if p]
            if peers:
                best = max(peers, key=lambda p: p.rate())
                x = cs.rate() / best.rate()
                out.append("| overlap count, %s: ≥ 3,000x the best peer | %s vs %s %s | — "
                           "| %s |" % (fam, ratio(x), best.impl, si(best.rate(), "/s"),
                                       verdict(x, 3000)))
    for fam in ("v4", "v6"):
        cs = find(rows, ds, fam, "enumerate", "cidrscope")
        g = gb("enumerate/%s/%s" % (gbds, fam), "entries/s")
        if cs and cs.entries():
            e = cs.entries() / cs.med
            out.append("| overlap enumerate, %s: ≥ 200M result entries/s | %s | %s | %s |" % (
                fam, si(e, "/s"), si(g, "/s") if g else "—", verdict(e, 200e6)))
    for fam in ("v4", "v6"):
        cs = find(rows, ds, fam, "lpm", "cidrscope")
        g = gb("lookup_bulk/%s/%s" % (gbds, fam))
        if cs:
            out.append("| longest-prefix match, bulk, %s: ≥ 30M/s | %s | %s | %s |" % (
                fam, si(cs.rate(), "/s"), si(g, "/s") if g else "—",
                verdict(cs.rate(), 30e6)))
    cs = find(rows, ds, "all", "build", "cidrscope")
    g = gb("build/%s" % gbds, "cpu_time")
    if cs:
        out.append("| build + freeze: ≤ 300 ms | %s | %s | %s |" % (
            dur(cs.med), "%.0f ms" % g if g else "—", verdict(cs.med, 0.300, higher=False)))
        m = re.search(r"([\d.]+) B/entry", cs.note)
        if m:
            b = float(m.group(1))
            out.append("| image: ≤ 32 bytes per entry | %.1f B/entry | — | %s |" % (
                b, verdict(b, 32, higher=False)))
    cs = find(rows, ds, "all", "audit-entry", "cidrscope") or \
        find(rows, ds, "all", "pairs", "cidrscope")
    full = find(rows, ds, "all", "audit-vpc", "cidrscope")
    peers = [find(rows, ds, "all", "pairs", p) for p in PEERS]
    peers = [p for p in peers if p]
    best = min(peers, key=lambda p: p.med) if peers else None
    libs = [p for p in peers if p.impl in LIBRARY_PEERS]
    best_lib = min(libs, key=lambda p: p.med) if libs else None
    if full:
        out.append("| full audit (summary + clusters, VPC level): ≤ 20 ms | %s (%s) | %s | %s |"
                   % (dur(full.med), full.note, "%.0f ms" % gb("audit/%s" % gbds, "cpu_time")
                      if gb("audit/%s" % gbds, "cpu_time") else "—",
                      verdict(full.med, 0.020, higher=False)))
    if cs:
        out.append("| audit, entry level (pairs + clusters): ≤ 20 ms | %s | %s | %s |" % (
            dur(cs.med), "%.2f ms" % gb("audit_entries/%s" % gbds, "cpu_time")
            if gb("audit_entries/%s" % gbds, "cpu_time") else "—",
            verdict(cs.med, 0.020, higher=False)))
    # Like with like: the peers count overlapping entry pairs, which is what
    # the entry-level audit computes (plus clusters).
    for label, who in (("the best peer", best), ("the best library or database peer",
                                                 best_lib)):
        if who and cs:
            x = who.med / cs.med
            out.append("| audit (pair counts + clusters) ≥ 20x %s counting the pairs | "
                       "%s vs %s %s (%s) | — | %s |" % (
                           label, dur(cs.med), who.impl, dur(who.med), ratio(x),
                           verdict(x, 20)))
    small = gbds.replace("1M", "100k")
    for name in (small, gbds):
        g = gb("peering_bulk/%s" % name)
        if g:
            out.append("| peering verdicts, bulk, %s (%s VPCs): ≥ 5M pairs/s | — | %s | %s |"
                       % (name, si(gb("peering_bulk/%s" % name, "vpcs") or 0), si(g, "/s"),
                          verdict(g, 5e6)))
    g = gb("candidates/%s" % gbds, "cpu_time")
    if g:
        n = gb("candidates/%s" % gbds, "candidates/call")
        out.append("| candidates of one VPC (within its account), %s: < 1 ms when the "
                   "answer is small | — | %.1f µs, %.0f candidates per call | %s |" % (
                       gbds, g, n or 0, verdict(g, 1000, higher=False)))
    if not gb("peering_bulk/%s" % gbds):
        out.append("| peering verdicts, bulk: ≥ 5M pairs/s | — | — | %s |" % (
            pending("peering") if not os.path.exists(
                os.path.join(ROOT, "include", "cidrscope", "peering.h"))
            else "not run: cs_bench measures peering on the estate-N datasets up to 1M "
                 "rows"))
    heap1 = gb("readers_heap/%s/v4/1" % gbds)
    shm1, shm2 = gb("readers_shm/%s/v4/1" % gbds), gb("readers_shm/%s/v4/2" % gbds)
    if heap1 and shm1:
        x = shm1 / heap1
        out.append("| shared memory: one reader within 5%% of in-process | — | %s vs %s "
                   "(%.1f%%) | %s |" % (si(shm1, "/s"), si(heap1, "/s"), 100 * x,
                                        "met" if x >= 0.95 else
                                        "missed: %.1f%% slower" % (100 * (1 - x))))
    if shm1 and shm2:
        x = shm2 / shm1
        out.append("| shared memory: 2 readers ≥ 1.8x one | — | %s vs %s (%s) | %s |" % (
            si(shm2, "/s"), si(shm1, "/s"), ratio(x), verdict(x, 1.8)))
    for readers in (1, 2):
        quiet = gb("readers_shm_quiet/%s/v4/%d" % (gbds, readers), "max_batch_us")
        for kind, label in (("readers_shm_publishing", "cs_shm_pin"),
                            ("readers_shm_refresher_publishing",
                             "cs_shm_pin_mapped + refresher thread")):
            busy = gb("%s/%s/v4/%d" % (kind, gbds, readers), "max_batch_us")
            med = gb("%s/%s/v4/%d" % (kind, gbds, readers), "median_batch_us")
            if quiet and busy:
                out.append(
                    "| shared memory, %d reader%s (%s): no stall above noise while "
                    "publishing every 50 ms | — | longest batch %.1f ms (median %.2f ms); "
                    "%.1f ms without publishes | %s |" % (
                        readers, "s" if readers > 1 else "", label, busy / 1e3,
                        (med or 0) / 1e3, quiet / 1e3,
                        "met" if busy <= 1.5 * quiet else
                        "missed: %.1fx the longest batch without publishes" % (busy / quiet)))
    if not (heap1 and shm1):
        out.append("| shared-memory readers: within 5%%, 2 readers ≥ 1.8x | — | — | %s |"
                   % (pending("shm") if not os.path.exists(
                       os.path.join(ROOT, "include", "cidrscope", "shm.h"))
                      else "not run: cs_bench measures readers on the estate-N datasets"))
    return out



# Results files of other owners whose first table RESULTS.md quotes.
# (file, title, a word of the wanted table's header row or None for the first)
QUOTED = (("results-map.md", "HTML report and map at 10k, 100k, 1M blocks (issue 15)",
           "Chromium load"),
          ("results-ipam.md", "allocation latency (issue 12)", None),
          ("results-python.md", "the Python binding against py-radix (issue 12)", None),
          ("results-shm.md", "reader stall while publishing (issues 13, 14)", None),
          ("results-audit.md", "the audit (issue 14)", None),
          ("results-ingest.md", "ingest (issues 13, 14)", None))


def first_table(path, header=None):
    """The first Markdown table of a file whose header row holds `header`
    (any table when None), as its lines."""
    out = []
    with open(path) as fh:
        for line in fh:
            if line.lstrip().startswith("|"):
                if out or header is None or header in line:
                    out.append(line.rstrip("\n"))
                # else: a row of a table without the word, skipped
            elif out:
                break
    return out or ["(no such table in the file)"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--bench-json")
    ap.add_argument("--base-json", help="bench-base.json: an older build's cs_bench, "
                    "run in the same window by bench/run.sh (CS_BENCH_BASE)")
    ap.add_argument("--before-json", help="issue 10: cs_bench of the base commit")
    ap.add_argument("--after-json", help="issue 10: cs_bench after the restructuring, "
                    "run alternately with --before-json")
    ap.add_argument("--issue14-json", help="this build's cs_bench run in turn with the "
                    "base's (bench/run.sh with CS_BENCH_BASE): issue 14's factors")
    ap.add_argument("--others", help="a directory of other owners' bench outputs "
                    "(NAME.txt, as their scripts print them), run by bench/peers/run.sh")
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--load-start", default="?")
    ap.add_argument("--load-end", default="?")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    global ROOT
    ROOT = a.root

    rows = load_results(a.results)
    context, runs = load_gbench(a.bench_json)
    base_ctx, base_runs = load_gbench(a.base_json)
    base_name = (base_ctx or {}).get("cidrscope_base_name", "base")
    _, runs14 = load_gbench(a.issue14_json)
    _, before_runs = load_gbench(a.before_json)
    _, after_runs = load_gbench(a.after_json)
    model, cores, mem, caches = machine()
    commit = sh(["git", "rev-parse", "HEAD"], cwd=a.root)
    subject = sh(["git", "log", "-1", "--format=%cd %s", "--date=short"], cwd=a.root)
    dirty = sh(["git", "status", "--porcelain", "--", "engine", "include", "bench",
                "CMakeLists.txt"], cwd=a.root).splitlines()
    datasets = []
    for r in rows:
        if r.dataset not in datasets:
            datasets.append(r.dataset)

    def version(cmd):
        return (sh(cmd).splitlines() or ["?"])[0]

    o = []
    o.append("# cidrscope benchmark results")
    o.append("")
    o.append("GENERATED by `make bench-peers` (bench/peers/report.py); never edited by "
             "hand. Regenerate with `make bench-peers`.")
    o.append("")
    o.append("## Machine and build")
    o.append("")
    o.append("- date: %s" % datetime.datetime.now(datetime.timezone.utc)
             .strftime("%Y-%m-%d %H:%M UTC"))
    o.append("- commit: `%s` (%s)%s" % (commit, subject,
                                        "; uncommitted changes in %d files under engine/, "
                                        "include/, bench/ were part of this build"
                                        % len(dirty) if dirty else ""))
    o.append("- CPU: %s, %d cores; %s" % (model, cores, "; ".join(caches)))
    o.append("- memory: %.1f GiB; kernel %s" % (mem / 2**30, platform.release()))
    o.append("- load average (1/5/15 min) at start: %s, at end: %s — the machine is "
             "shared, so medians of %d runs are reported with their min–max"
             % (a.load_start, a.load_end, a.runs))
    o.append("- compiler: %s, `-O3 -DNDEBUG`, generic x86-64 (no -march)" %
             version(["gcc", "--version"]))
    o.append("- peers: py-radix %s (Debian python3-radix, %s), cidranger %s (%s), %s, "
             "sorted sweep (bench/peers/sorted_sweep.c, same compiler flags)" % (
                 sh(["dpkg-query", "-W", "-f=${Version}", "python3-radix"]),
                 version(["/usr/bin/python3", "--version"]),
                 sh(["dpkg-query", "-W", "-f=${Version}",
                     "golang-github-yl2chen-cidranger-dev"]),
                 version(["go", "version"]),
                 version(["/usr/lib/postgresql/15/bin/postgres", "--version"])))
    o.append("- comparison wall time: %d s" % a.seconds)
    o.append("")

    # Without a peer run (report.py on make bench's files only), the
    # datasets are cs_bench's.
    bench_ds = []
    for name in runs:
        parts = name.split("/")
        if len(parts) > 1 and parts[1] not in bench_ds:
            bench_ds.append(parts[1])
    known = datasets or bench_ds
    head_ds = "estate-1M" if "estate-1M" in known else (known[-1] if known else None)
    if not rows:
        o.append("**No peer run in this report**: it was made from `make bench` alone "
                 "(report.py with an empty peer results file), so the peer columns below are "
                 "empty; `make bench-peers` fills them.")
        o.append("")
    if head_ds:
        section(o, "Headline: %s, cidrscope and every peer on the same inputs" % head_ds,
                "Rates are per query (or per row for build); times for build and the pair "
                "count. In brackets: how many times faster cidrscope is than that peer, "
                "measured in the same run. cidrscope's query figures are its bulk calls "
                "(`cs_query_count_bulk`, `cs_lookup_bulk`).", headline(rows, head_ds))
        section(o, "Targets (issue 7)", None, targets(rows, runs, head_ds))
        section(o, "Issue 14: every row of its table",
                "One core unless stated; CPU time. Factors against %s come from its "
                "cs_bench run in turn with this build's in this run (bench/run.sh with "
                "CS_BENCH_BASE: the same window, the same load); the sorted-sweep rows from "
                "the peer run; the image from `cidrscope build` of the organisation-shaped "
                "estate; the CLI rows from bench/peers/cli_times.py (each CLI's output "
                "compared byte for byte with the others' before any time is kept). Rows "
                "other helpers own link to their results files." % base_name,
                issue14(rows, runs14 or runs, base_runs, base_name, head_ds, datasets))

    others = sorted(f for f in os.listdir(a.others) if f.endswith(".txt")) \
        if a.others and os.path.isdir(a.others) else []
    if others:
        o.append("## Other owners' issue-14 benchmarks, this run")
        o.append("")
        o.append("Their scripts (bench/NAME.sh, against the same %s build), run by "
                 "`make bench-peers` after the peers, output as printed; their results "
                 "files under bench/ explain the figures." % base_name)
        for f in others:
            o.append("")
            o.append("### bench/%s.sh" % f[:-4])
            o.append("")
            o.append("```")
            with open(os.path.join(a.others, f)) as fh:
                o.extend(line.rstrip("\n") for line in fh)
            o.append("```")
        o.append("")

    quoted = [(f, t, h) for f, t, h in QUOTED if os.path.exists(os.path.join(ROOT, "bench", f))]
    if quoted:
        o.append("## Figures kept by their owners' benchmarks (quoted)")
        o.append("")
        o.append("Measured by their own scripts (each file names its command, machine "
                 "and date), not in this run; quoted here so that every benchmark of the "
                 "project can be read in one place. The first table of each file:")
        for f, title, header in quoted:
            o.append("")
            o.append("### %s: [bench/%s](%s)" % (title, f, f))
            o.append("")
            o.extend(first_table(os.path.join(ROOT, "bench", f), header))
        o.append("")

    o.append("## Every dataset, every implementation")
    o.append("")
    o.append("Median of %d timed runs, min–max of the rate in brackets. For slow peers "
             "`items` is the number of queries they answered: the first ones of the same "
             "query file." % a.runs)
    for ds in datasets:
        info = [r for r in rows if r.dataset == ds and r.impl == "cidrscope"
                and r.workload == "build"]
        o.append("")
        o.append("### %s" % ds)
        o.append("")
        if info:
            o.append("%s rows; cidrscope image: %s." % (si(info[0].items), info[0].note))
            o.append("")
        o.extend(detail(rows, ds))

    o.append("")
    o.append("## cs_bench (Google Benchmark, `make bench`)")
    o.append("")
    if runs:
        o.append("Every repetition is in build-bench/bench.json; here the median and the "
                 "min–max over repetitions. Query workloads run in chunks of 8192 queries "
                 "(64 for enumerate) cycling through 2^20 queries per family.")
        o.append("")
        o.extend(gbench_section(runs))
        o.append("")
        o.append("### Bulk against single calls")
        o.append("")
        o.extend(bulk_gain(runs))
    else:
        o.append("No build-bench/bench.json: run `make bench` (make bench-peers does).")
    if base_runs:
        o.append("")
        o.append("### Every cs_bench workload against %s (same run)" % base_name)
        o.append("")
        o.append("CPU time (wall for readers), median and min–max of the repetitions; "
                 "factor = %s's median / this build's (> 1: this build is faster)." % base_name)
        o.append("")
        o.extend(base_comparison(runs14 or runs, base_runs, base_name))
    if before_runs and after_runs:
        o.append("")
        o.append("## Restructuring (issue 10): before/after")
        o.append("")
        o.append("cs_bench of a80251a (before) and of the branch right after the issue-10 "
                 "restructuring (after), run alternately dataset by dataset in one time "
                 "window (bench/results/issue10-*.json); CPU time. A workload is slower "
                 "beyond noise only when the two min–max ranges do not overlap.")
        o.append("")
        o.extend(base_comparison(after_runs, before_runs, "before (a80251a)", "after"))
    o.append("")
    o.append("## How this was measured")
    o.append("")
    o.extend([
        "- **Datasets.** `estate-N`: N rows shaped like an AWS organisation's VPC CIDR "
        "associations (bench/harness.c: 24% default VPCs on 172.31.0.0/16, 6% template "
        "collisions such as 10.0.0.0/16, 5% reuse of 100.64.0.0/10, 50% IPAM blocks /16–/27 "
        "carved by four overlapping scopes from 10.0.0.0/8, 172.16.0.0/12 and "
        "192.168.0.0/16, 15% IPv6 (Amazon /56s, ULA templates)); 1M rows give about 243k "
        "distinct prefixes. `real-N`: a seeded sample of the 142k real cloud prefixes "
        "(../shared/datasets/cloud-prefixes/prefixes.csv), all of them at 142k.",
        "- **Queries.** Overlap queries mix /8–/32 (IPv4) and /32–/64 (IPv6), 85% derived "
        "from a stored prefix (shortened or extended with random bits), 15% random. "
        "Addresses for longest-prefix match: 90% inside a stored prefix, 10% random. "
        "Overlap = covering + covered + equal entries, each counted once; every entry of a "
        "prefix counts (85,000 default VPCs on 172.31.0.0/16 count 85,000).",
        "- **Same inputs, checked first.** bench/peers/peer_cidrscope writes the rows, "
        "queries and addresses to files with cidrscope's answers; every peer reads those "
        "files, and the answers of its first timed run must equal cidrscope's exactly "
        "(counts, matched lengths, pair counts) before any time is printed; a mismatch "
        "aborts `make bench-peers`. cidrscope itself is first checked against itself "
        "(bulk = single = iterator; pairs via queries = a sweep) and, through the sorted "
        "sweep, against an independent implementation on every query.",
        "- **What the peers do.** py-radix and cidranger keep one node per distinct prefix "
        "with its row count (built from a dict of counts; their build includes text "
        "parsing, as their APIs take text); a count is the sum over the covered nodes plus "
        "the strictly covering ones, so their cost grows with the answer, while "
        "cidrscope's count is one root-to-leaf walk. PostgreSQL 15 runs on a throwaway "
        "cluster (Unix socket only, fsync off, jit off, no parallel workers): "
        "`postgres-gist` and `postgres-spgist` merge identical prefixes into one row with "
        "a count, `postgres-gist-rows` keeps one row per entry; counts are one statement "
        "over a query table, times are the server's (`\\timing`). SP-GiST uses one table "
        "per family because PostgreSQL 15's SP-GiST inet_ops is reported to lose IPv6 rows "
        "when an index page mixes families; the note under each dataset says whether a "
        "mixed-family SP-GiST index gave wrong answers on that data. The PostgreSQL GiST "
        "self-join takes tens of seconds per run at 1M and is run only with "
        "CS_PG_GIST_PAIRS=1.",
        "- **Audit and pair count.** \"Overlapping entry pairs\" = unordered pairs of "
        "distinct entries whose prefixes overlap or are equal. The `pairs` row is the count "
        "alone on every side: cidrscope's `cs_query_count_pairs` (one sequential pass over "
        "the image's node records, C(own, 2) + own x entries below per node) against each "
        "peer's count over its own built structure (the sorted sweep's timed loop: its "
        "stack sweep over the merged sorted array). `audit-entry` is `cs_audit_run` at "
        "entry level: the same count plus every cluster (top, entries, distinct prefixes, "
        "depth, pairs), report writing excluded; it is shown against the sweep's count "
        "too. Both are checked against the same count through the query API "
        "(`pairs-query-api`: one /0 walk, then one bulk covered-count per distinct "
        "prefix). `audit-vpc` is the full "
        "audit (VPC-level pairs by severity, identical-prefix groups, listed pairs) on the "
        "rows turned into an estate image: a 172.31.0.0/16 row is the default VPC of a "
        "new account-region, a 100.64.0.0/10 or IPv6 row a secondary block of the last "
        "VPC, any other row a new VPC, 3% of VPCs peered with the previous one. Peers "
        "count entry pairs only, with their structure already built.",
        "- **Memory.** cs_bench links jemalloc and reports `stats.allocated` around the "
        "builder and the freeze (builder_MiB, image_MiB) and for the whole process after "
        "each benchmark (alloc_MiB: dataset, 4M queries and image).",
        "- **Shared-memory readers.** `readers_shm/D/v4/N`: N processes attach to one "
        "image published in POSIX shared memory and each answer all 2^20 IPv4 queries, "
        "pinning and unpinning around every batch of 8192; `readers_heap/D/v4/N` is the "
        "same work by the same processes on the heap image they inherit (the in-process "
        "baseline). Time runs from \"go\" to the last reader's answer (attach and first "
        "map excluded); every batch's counts are checked against the in-process answer. "
        "Stalls (at 1M rows): each reader runs batches for one second while a new "
        "generation is published every 50 ms; the longest batch (pin + 8192 queries + unpin) is the stall a reader sees, "
        "against `readers_shm_quiet`, the same run without publishes (the scheduling "
        "noise). `readers_shm_publishing` pins with cs_shm_pin, so each reader maps and "
        "checksums each new generation on its first pin of it; "
        "`readers_shm_refresher_publishing` follows shm.h's recipe (cs_shm_pin_mapped, and "
        "a refresher thread per reader calling cs_shm_refresh). The publisher writes the "
        "whole image each time; on 2 cores shared with other work, it and the refreshers "
        "compete with the readers for CPU, and the stalls include that. Multi-reader "
        "scaling is likewise bounded by what the machine has free (see the load average).",
        "- **Peering.** On the same estate images: `peering_bulk` decides VPC pairs (70% "
        "random, 20% neighbours, 10% a VPC with itself or an unknown one) with "
        "`cs_peering_check_bulk` on a `cs_peering_index`, `peering_single` with "
        "`cs_peering_check` through the trie (the two are checked equal on 20k pairs "
        "first), `candidates` asks `cs_peering_candidates` for a random VPC within its "
        "account.",
        "- **Time.** Every single-threaded figure, cidrscope's and every peer's, is the "
        "CPU time of the process doing the work (cidrscope and the sorted sweep: "
        "CLOCK_PROCESS_CPUTIME_ID; py-radix: time.process_time; cidranger: getrusage, "
        "garbage collector included; PostgreSQL: the backend's /proc/self/schedstat "
        "around the statement), so the other work of this shared machine does not "
        "count; reader workloads, about processes, are wall time.",
    ])
    o.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(o))


if __name__ == "__main__":
    main()
