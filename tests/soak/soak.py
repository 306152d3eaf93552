#!/usr/bin/env python3
"""tests/soak/soak.py — `make soak SECONDS=N`: a 500k-VPC estate served for N
seconds while everything that can go wrong does (issue 13, "Prove it").

Four estate variants are generated (`cidrscope gen`, seeds 1-4, 500k VPCs
each); each CSV ends with V+1 marker blocks 192.0.2.0/32..192.0.2.V/32, so a
reader can tell which variant a generation holds (and a generation published
from a half-written source has no marker at all). Then, for SECONDS:

  serve      `cidrscope serve NAME live.csv` watches live.csv
  rewriter   rewrites live.csv with another variant every 4-8 s: in place
             (truncate + write), in four chunks 300 ms apart, or by rename
  publisher  tests/soak/publisher.py: the variants' snapshots mapped once,
             a random one published every 200 ms (cs_shm_publish); a
             restarted publisher publishes again within a second
  readers    4 loops of `cidrscope query --shm NAME --count -` over 2,000
             queries (one batch: one pinned generation) preceded by the
             marker query; every answer is checked against the answers of
             that variant's own snapshot (`query -e vK.snap`)
  killer     every ~1.5 s SIGKILLs the publisher, a reader or serve (serve is
             restarted)
  sampler    `stat --shm NAME` every 100 ms: the reader-table high water

It prints answers checked, wrong answers, failed calls, generations served,
leaked segments and temporary files, and the reader-table high water, and
exits 1 when any answer was wrong or anything leaked.
usage: soak.py CLI SECONDS [VPCS]
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

CLI = os.path.abspath(sys.argv[1])
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 60
VPCS = int(sys.argv[3]) if len(sys.argv) > 3 else 500000
NAME = "cssoak%d" % os.getpid()
VARIANTS = 4
QUERIES = 2000
rng = random.Random(int(os.environ.get("CS_SOAK_SEED", "1234")))
print("soak: seed %s (CS_SOAK_SEED), %d VPCs, %g s" % (os.environ.get("CS_SOAK_SEED", "1234"), VPCS, SECONDS), flush=True)

work = tempfile.mkdtemp(prefix="cs-soak-")
lock = threading.Lock()
stats = dict(checked=0, wrong=0, failed=0, reader_runs=0, killed=0, publishes=0,
             publish_failed=0, rewrites=0, high_water=0, generations_seen=set(),
             first_wrong=None, first_failure=None, publish_ms=[], publisher_starts=0)
stop = threading.Event()
procs = {}  # role -> Popen currently running
ready = {}  # role -> when it became worth killing (a load done, a first publish)


def run(args, **kw):
    return subprocess.run([CLI] + args, capture_output=True, text=True, **kw)


# ---- the variants ---------------------------------------------------------------
accounts = max(1, VPCS // 40)
variant_csv = []
for v in range(VARIANTS):
    path = os.path.join(work, "v%d.csv" % v)
    r = run(["gen", "--seed", str(v + 1), "--accounts", str(accounts), "--regions", "10",
             "--vpcs-per-region", "4", "--out", path, "--format", "csv", "-q"])
    if r.returncode:
        sys.exit("soak: gen failed: " + r.stderr)
    os.unlink(os.path.join(work, "v%d-peering.csv" % v))
    with open(path, "a") as f:
        for k in range(v + 1):
            f.write("000000000000,us-east-1,vpc-0500a0000000000%02d,192.0.2.%d/32,associated,false,soak-marker\n" % (k, k))
    variant_csv.append(path)
print("soak: %d variants of %d VPCs generated" % (VARIANTS, accounts * 40), flush=True)

variant_snap = []
for v, csv in enumerate(variant_csv):
    snap = os.path.join(work, "v%d.snap" % v)
    r = run(["build", csv, "-o", snap])
    if r.returncode:
        sys.exit("soak: build failed: " + r.stderr)
    variant_snap.append(snap)

# queries: blocks of the estates, their supernets, random space
lines = []
with open(variant_csv[0]) as f:
    cidrs = [l.split(",")[3] for l in f.readlines()[1:50000]]
for i in range(QUERIES):
    c = rng.choice(cidrs)
    k = rng.random()
    if k < 0.4:
        lines.append(c)
    elif k < 0.7 and ":" not in c:
        a, l = c.split("/")
        nl = max(8, int(l) - rng.randint(1, 12))
        n = int.from_bytes(bytes(int(x) for x in a.split(".")), "big") & ~((1 << (32 - nl)) - 1)
        lines.append("%d.%d.%d.%d/%d" % (n >> 24, n >> 16 & 255, n >> 8 & 255, n & 255, nl))
    elif k < 0.9:
        lines.append("10.%d.%d.0/24" % (rng.randrange(256), rng.randrange(256)))
    else:
        lines.append("fd%02x::/16" % rng.randrange(256))
qfile = os.path.join(work, "queries.txt")
with open(qfile, "w") as f:
    f.write("192.0.2.0/24\n" + "\n".join(lines) + "\n")
expected = []
for v, snap in enumerate(variant_snap):
    with open(qfile) as qf:
        r = subprocess.run([CLI, "query", "-e", snap, "--count", "-"], stdin=qf, capture_output=True, text=True)
    if r.returncode:
        sys.exit("soak: expected answers: " + r.stderr)
    ans = r.stdout.split()
    assert int(ans[0]) == v + 1, (v, ans[0])
    expected.append(ans[1:])
print("soak: expected answers of %d queries per variant computed" % QUERIES, flush=True)

live = os.path.join(work, "live.csv")
with open(live, "w") as f:
    f.write(open(variant_csv[0]).read())
os.utime(live, (time.time() - 60, time.time() - 60))


# ---- roles --------------------------------------------------------------------------
def start_serve():
    p = subprocess.Popen([CLI, "serve", NAME, live, "--interval", "0.2", "--reuse"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with lock:
        procs["serve"] = p
        # a 500k-VPC load takes seconds: killing serve only while it loads
        # would never let it publish; it becomes a target after a while
        ready["serve"] = time.time() + 15


def reader(i):
    role = "reader%d" % i
    while not stop.is_set():
        with open(qfile) as qf:
            p = subprocess.Popen([CLI, "query", "--shm", NAME, "--count", "-"], stdin=qf,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            with lock:
                procs[role] = p
                ready[role] = time.time()
            out, err = p.communicate()
        with lock:
            procs.pop(role, None)
            stats["reader_runs"] += 1
            if p.returncode == -signal.SIGKILL:
                continue  # killed by the killer: not a failed call
            if p.returncode != 0:
                if "has published nothing yet" in err or "no shared-memory service" in err:
                    continue  # before the first generation
                stats["failed"] += 1
                stats["first_failure"] = stats["first_failure"] or err.strip()[:300]
                continue
            ans = out.split()
            v = int(ans[0]) - 1 if ans else -1
            if v < 0 or v >= VARIANTS or len(ans) != QUERIES + 1:
                stats["wrong"] += QUERIES
                stats["first_wrong"] = stats["first_wrong"] or "unidentifiable generation (marker %s, %d answers)" % (ans[:1], len(ans))
                continue
            bad = sum(1 for a, b in zip(ans[1:], expected[v]) if a != b)
            stats["checked"] += QUERIES
            stats["wrong"] += bad
            if bad and not stats["first_wrong"]:
                stats["first_wrong"] = "variant %d: %d of %d answers differ" % (v, bad, QUERIES)


LIB = os.path.join(os.path.dirname(CLI), "libcidrscope.so")


def publisher():
    """tests/soak/publisher.py: images loaded once, a publish every 200 ms
    until killed; without the shared library, `cidrscope publish` each time."""
    fast = os.path.exists(LIB)
    while not stop.is_set():
        if fast:
            p = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "publisher.py"),
                                  LIB, NAME, str(rng.randrange(1 << 30))] + variant_snap,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        else:
            p = subprocess.Popen([CLI, "publish", NAME, variant_snap[rng.randrange(VARIANTS)], "--reuse"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with lock:
            procs["publisher"] = p
            stats["publisher_starts"] += 1
        for line in p.stdout:
            with lock:
                # loaded and publishing: a target from 5 s on, so that most
                # of its life is publishing, not loading
                ready.setdefault("publisher", time.time() + 5)
                if line.startswith("ok") or "published" in line:
                    stats["publishes"] += 1
                    f = line.split()
                    if line.startswith("ok") and len(f) > 2:
                        stats["publish_ms"].append(float(f[2]))
                elif line.startswith("fail"):
                    stats["publish_failed"] += 1
                    stats["first_failure"] = stats["first_failure"] or ("publish: " + line.strip()[:300])
        err = p.stderr.read()
        p.wait()
        with lock:
            procs.pop("publisher", None)
            ready.pop("publisher", None)
            if p.returncode not in (0, -signal.SIGKILL) and not stop.is_set():
                stats["publish_failed"] += 1
                stats["first_failure"] = stats["first_failure"] or ("publish: " + err.strip()[:300])
        time.sleep(0.2)


def rewriter():
    # every 4-8 s: each rewrite costs serve a whole 500k-VPC CSV load (~2.5 s
    # of CPU), which at every 3 s left the 2-core box no time to publish
    while not stop.wait(rng.uniform(4.0, 8.0)):
        text = open(variant_csv[rng.randrange(VARIANTS)]).read()
        how = rng.choice(["inplace", "chunks", "rename"])
        if how == "inplace":
            with open(live, "w") as f:
                f.write(text)
        elif how == "chunks":
            with open(live, "w") as f:
                n = len(text)
                for k in range(4):
                    part = text[n * k // 4: n * (k + 1) // 4]
                    f.write(part)
                    f.flush()
                    if k < 3:
                        time.sleep(0.3)
        else:
            tmp = live + ".new"
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, live)
        with lock:
            stats["rewrites"] += 1


def killer():
    while not stop.wait(rng.uniform(0.8, 2.2)):
        with lock:
            now = time.time()
            roles = [r for r in procs if procs[r].poll() is None and ready.get(r, now + 1) <= now]
            if not roles:
                continue
            role = rng.choice(roles)
            p = procs[role]
        try:
            p.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            continue
        with lock:
            stats["killed"] += 1
        if role == "serve":
            p.wait()
            start_serve()


def sampler():
    while not stop.wait(0.1):
        r = run(["stat", "--shm", NAME, "--format", "json"])
        if r.returncode == 0:
            d = json.loads(r.stdout)
            with lock:
                stats["high_water"] = max(stats["high_water"], d["slots_used"])
                stats["generations_seen"].add(d["generation"])


# ---- run ----------------------------------------------------------------------------
start_serve()
threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in
           [(reader, (i,)) for i in range(4)] + [(publisher, ()), (rewriter, ()), (killer, ()), (sampler, ())]]
for t in threads:
    t.start()
t0 = time.time()
last = t0
while time.time() - t0 < SECONDS:
    time.sleep(1)
    if time.time() - last >= 60:
        last = time.time()
        with lock:
            print("soak: %4.0f s: %d answers checked, %d wrong, %d failed calls, %d publishes, %d kills" %
                  (time.time() - t0, stats["checked"], stats["wrong"], stats["failed"], stats["publishes"],
                   stats["killed"]), flush=True)
stop.set()
time.sleep(0.5)
with lock:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
for t in threads:
    t.join(timeout=30)
for p in list(procs.values()):
    p.wait()

# ---- leaks ----------------------------------------------------------------------------
final = run(["stat", "--shm", NAME, "--format", "json"])
gen = json.loads(final.stdout)["generation"] if final.returncode == 0 else 0
# one more publisher recovers what the kills left (orphans, dead slots)
r = run(["publish", NAME, variant_snap[0], "--force"])
d = json.loads(run(["stat", "--shm", NAME, "--format", "json"]).stdout)
segs = [s for s in os.listdir("/dev/shm") if s == NAME or s.startswith(NAME + "@")]
images = [s for s in segs if s.startswith(NAME + "@") and not s.startswith(NAME + "@readers.")]
leaked_images = len(images) - len(d["images"])
# removing the service must remove everything
p = subprocess.Popen([CLI, "serve", NAME, variant_snap[0], "--interval", "0", "--unlink-on-exit", "--max-shrink", "0"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
# SIGTERM only once it serves (a stop during its load leaves the service
# alone: it never opened it); a 500k image takes seconds to read
deadline = time.time() + 120
while time.time() < deadline:
    r = run(["stat", "--shm", NAME, "--format", "json"])
    if r.returncode == 0 and json.loads(r.stdout)["generation"] > d["generation"]:
        break
    time.sleep(0.2)
p.send_signal(signal.SIGTERM)
p.wait()
left = [s for s in os.listdir("/dev/shm") if s == NAME or s.startswith(NAME + "@")]
temps = [f for f in os.listdir(work) if ".cstmp." in f or f.endswith(".new")]
for s in left:
    os.unlink("/dev/shm/" + s)

print("soak: %g s, %d VPCs per generation" % (SECONDS, accounts * 40))
print("  answers checked       %d" % stats["checked"])
print("  wrong answers         %d%s" % (stats["wrong"], "  (first: %s)" % stats["first_wrong"] if stats["first_wrong"] else ""))
print("  failed calls          %d reader, %d publish%s" % (stats["failed"], stats["publish_failed"],
      "  (first: %s)" % stats["first_failure"] if stats["first_failure"] else ""))
print("  reader runs           %d" % stats["reader_runs"])
print("  generations served    %d (last %d; %d by the publisher, the rest by serve after %d source rewrites)" %
      (gen, gen, stats["publishes"], stats["rewrites"]))
print("  SIGKILLs              %d" % stats["killed"])
pm = sorted(stats["publish_ms"]) or [0]
print("  publishes             %.2f/s by the publisher (%d starts); a publish took median %.0f ms, longest %.0f ms" %
      (stats["publishes"] / SECONDS, stats["publisher_starts"], pm[len(pm) // 2], pm[-1]))
print("  leaked segments       %d after recovery (%d image segments, %d in the table), %d after removal" %
      (max(leaked_images, 0), len(images), len(d["images"]), len(left)))
print("  leaked temp files     %d" % len(temps))
print("  reader-table high water %d of %d slots" % (stats["high_water"], d["slots"]))
subprocess.run(["rm", "-rf", work])
sys.exit(1 if stats["wrong"] or leaked_images > 0 or left or temps else 0)
