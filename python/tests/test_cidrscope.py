"""python/tests/test_cidrscope.py — the binding against the command and a
brute force: load/open/attach, count/overlaps/lookup/audit answering as the
CLI does on the same estate, counts equal to a brute-force scan of random
prefixes (seed printed), every failure an Error subclass with its location.

Run by ctest (entry python_binding) with CIDRSCOPE_LIBRARY, CS_CLI,
CS_SOURCE_DIR and CS_REAL_PREFIXES set.
"""
import csv
import ipaddress
import json
import os
import random
import subprocess
import time

import pytest

import cidrscope

SRC = os.environ["CS_SOURCE_DIR"]
CLI = os.environ["CS_CLI"]
SAMPLE = os.path.join(SRC, "datasets", "sample")
SAMPLE_CSV = os.path.join(SRC, "datasets", "sample.csv")
LIVE = ("associated", "associating")


def cli_json(*args):
    out = subprocess.run([CLI, *args, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def match_key(m):
    return (m["prefix"], m["relation"], m["vpc"], m["account"], m["region"], m["name"])


@pytest.fixture(scope="module")
def snap():
    with cidrscope.load(SAMPLE) as s:
        yield s


def live_blocks():
    with open(SAMPLE_CSV) as f:
        return [ipaddress.ip_network(r["cidr"]) for r in csv.DictReader(f)
                if r.get("state", "associated") in LIVE]


def brute_count(blocks, q):
    return sum(1 for b in blocks if b.version == q.version and
               (b.subnet_of(q) or q.subnet_of(b)))


def random_prefix(rng):
    """Mostly IPv4 near the sample's space (10/8, 172.16/12, 192.168/16,
    anywhere), some IPv6 in 2600::/8, lengths spread over /8../64."""
    if rng.random() < 0.75:
        base = rng.choice([10 << 24, 172 << 24 | 16 << 16, 192 << 24 | 168 << 16, 0])
        length = rng.choice([8, 12, 16, 20, 24, 28, 32])
        addr = base | rng.getrandbits(24) if base else rng.getrandbits(32)
        return str(ipaddress.ip_network((addr >> (32 - length) << (32 - length), length)))
    length = rng.choice([32, 48, 56, 64])
    addr = 0x26 << 120 | rng.getrandbits(120)
    return str(ipaddress.ip_network((addr >> (128 - length) << (128 - length), length)))


def test_binding__count_matches_brute_force_on_random_prefixes(snap):
    seed = int(os.environ.get("CS_SEED", time.time_ns() % 2**32))
    print(f"seed {seed} (CS_SEED={seed} reproduces)")
    rng = random.Random(seed)
    blocks = live_blocks()
    qs = [random_prefix(rng) for _ in range(2000)]
    want = [brute_count(blocks, ipaddress.ip_network(q)) for q in qs]
    assert snap.count(qs) == want
    assert snap.count(iter(qs)) == want            # any iterable
    assert snap.count(q for q in qs[:10]) == want[:10]
    assert snap.count([]) == []


def seeded_estate(rng, n):
    """n random prefixes of both families, clustered so that queries nest."""
    out = set()
    while len(out) < n:
        if rng.random() < 0.7:
            length = rng.randrange(12, 29)
            addr = 10 << 24 | rng.getrandbits(20) << 4
            out.add(ipaddress.ip_network((addr >> (32 - length) << (32 - length), length)))
        else:
            length = rng.randrange(32, 65)
            addr = 0x2600 << 112 | rng.getrandbits(24) << 80
            out.add(ipaddress.ip_network((addr >> (128 - length) << (128 - length), length)))
    return sorted(out, key=lambda p: (p.version, p.network_address, p.prefixlen))


def test_binding__count_one_call_path_equals_bulk_count_and_brute_force(tmp_path):
    """Snapshot.count goes through cs_query_count_lines (parse, sort by
    address, count, scatter back) once there are more than 4,096 items: its
    answers, for str and for bytes items, equal cs_query_count_bulk in input
    order and a brute-force count; a bad item's line is its position."""
    seed = int(os.environ.get("CS_SEED", time.time_ns() % 2**32))
    print(f"seed {seed} (CS_SEED={seed} reproduces)")
    rng = random.Random(seed)
    blocks = seeded_estate(rng, 300)
    path = tmp_path / "estate.csv"
    path.write_text("provider,family,prefix\n" +
                    "".join(f"seeded,ipv{b.version},{b}\n" for b in blocks))
    qs = []
    for _ in range(6000):
        b = rng.choice(blocks)
        r = rng.random()
        if r < 0.1:                                  # outside the estate
            q = ipaddress.ip_network((11 << 24 | rng.getrandbits(16) << 8, 24)) \
                if b.version == 4 else ipaddress.ip_network((0x2700 << 112, 48))
        elif r < 0.6:
            q = b.supernet(prefixlen_diff=min(b.prefixlen, rng.randrange(10)))
        else:
            d = min(b.max_prefixlen - b.prefixlen, rng.randrange(6))
            q = next(b.subnets(prefixlen_diff=d)) if d else b
        qs.append(str(q))
    spans = [(b.version, int(b.network_address), int(b.broadcast_address)) for b in blocks]
    want = []
    for q in map(ipaddress.ip_network, qs):
        v, lo, hi = q.version, int(q.network_address), int(q.broadcast_address)
        want.append(sum(1 for bv, blo, bhi in spans if bv == v and blo <= hi and lo <= bhi))
    assert any(w == 0 for w in want) and sum(w > 1 for w in want) > 100
    from cidrscope._ffi import ffi, lib
    with cidrscope.load(str(path)) as s:
        got = s.count(qs)
        assert got == want
        assert s.count([q.encode() for q in qs]) == want          # bytes items
        assert s.count(reversed(qs)) == want[::-1]                # any order
        # cs_query_count_bulk on the same items, in input order
        parsed = ffi.new("cs_prefix[]", len(qs))
        text = "\n".join(qs).encode()
        assert lib.cs_prefix_parse_lines(text, len(text), 0, False, parsed, len(qs),
                                         ffi.NULL) == len(qs)
        bulk = ffi.new("uint32_t[]", len(qs))
        assert lib.cs_query_count_bulk(s._s, parsed, len(qs), 3, bulk) == 0
        assert list(bulk) == want
        # errors name the item's line, on the sorted path and off it
        for items in (qs[:4999] + ["10.0.0.1/8"] + qs[5000:], qs[:2] + ["10.0.0.1/8"]):
            for conv in (str, str.encode):
                with pytest.raises(cidrscope.InputError) as e:
                    s.count([conv(q) for q in items])
                assert (e.value.line, e.value.column) == (items.index("10.0.0.1/8") + 1, 1)
        with pytest.raises(cidrscope.InputError):
            s.count(qs[:4500] + ["10.0.0.0/8\n10.0.0.0/8"])      # a newline inside


def test_binding__count_reads_str_text_in_place(snap):
    """Snapshot.count hands C the joined str's own UTF-8 (no encode copy):
    answers and error locations equal those of the encoded bytes, for ASCII
    and non-ASCII text, in every spelling the parser takes (IPv6 upper case,
    leading zeros, all eight groups), and a str that has no UTF-8 fails as
    encode() does."""
    forms = ["10.0.0.0/8", "2001:DB8::/32", "2001:0db8:0000:0000:0000:0000:0000:0000/32",
             "2001:db8:0:0:0:0:0:0/32", "::/0", "0.0.0.0/0", "10.1.2.3/32"]
    canonical = [str(ipaddress.ip_network(q)) for q in forms]
    assert snap.count(forms * 1000) == snap.count(canonical * 1000)
    assert snap.count(forms) == snap.count([q.encode() for q in forms])
    for items in (["10.0.0.0/8", "10.0.0.0/8\u00e9"], ["10.0.0.0/8", "10.0.0.0/8 x"]):
        locs = []
        for conv in (str, str.encode):
            with pytest.raises(cidrscope.InputError) as e:
                snap.count([conv(q) for q in items])
            locs.append((e.value.line, e.value.column))
        assert locs[0] == locs[1] and locs[0][0] == 2
    with pytest.raises(UnicodeEncodeError):
        snap.count(["10.0.0.0/8", "\ud800"])


def test_binding__count_reads_str_items_in_place_and_falls_back(tmp_path, monkeypatch):
    """On CPython a list or tuple of ASCII str is read in place
    (cs_query_count_items, no join); anything else (a generator, a str
    subclass, non-ASCII text, bytes) goes the joined way, and both give the
    same counts and the same error locations, through one scratch reused
    across calls of different sizes and families (seed printed)."""
    import sys
    seed = int(os.environ.get("CS_SEED", time.time_ns() % 2**32))
    print(f"seed {seed} (CS_SEED={seed} reproduces)")
    rng = random.Random(seed)
    if sys.implementation.name == "cpython" and sys.maxsize > 2**32:
        assert cidrscope._count_items is not None and set(cidrscope._layouts) == {list, tuple}
    blocks = seeded_estate(rng, 300)
    path = tmp_path / "estate.csv"
    path.write_text("provider,family,prefix\n" +
                    "".join(f"seeded,ipv{b.version},{b}\n" for b in blocks))

    class Sub(str):
        pass

    def queries(n, v6_share):
        out = []
        for _ in range(n):
            b = rng.choice([x for x in blocks if (x.version == 6) == (rng.random() < v6_share)]
                           or blocks)
            d = rng.randrange(6)
            out.append(str(b.supernet(prefixlen_diff=min(d, b.prefixlen))))
        return out

    with cidrscope.load(str(path)) as s:
        # sizes and families in turn: the scratch grows, shrinks its use,
        # meets IPv6 only, then IPv4 only
        for n, v6 in ((6000, 0.3), (10, 0.3), (5000, 1.0), (9000, 0.0), (20000, 0.5)):
            qs = queries(n, v6)
            want = s.count(iter(qs))                      # a generator: joined
            assert s.count(qs) == want
            assert s.count(tuple(qs)) == want
            assert s.count([q.encode() for q in qs]) == want
            mixed = list(qs)
            mixed[n // 2] = Sub(mixed[n // 2])            # not exactly str: joined
            assert s.count(mixed) == want
            mixed[n // 2] = qs[n // 2] + "\u200b"[:0]   # still str, still ASCII
            assert s.count(mixed) == want
            with monkeypatch.context() as m:              # the joined way
                m.setattr(cidrscope, "_layouts", {})
                assert s.count(qs) == want
        # errors: the same line and column in place as joined, then right
        # answers from the same scratch
        qs = queries(6000, 0.3)
        want = s.count(qs)
        for k, bad in ((4999, "10.0.0.1/8"), (3, "10.0.0.0/8 "), (5998, "2001:db8::/129"),
                       (17, "10.0.0.0/8\n10.0.0.0/8"), (1, "10.0.0.0/8\u00e9")):
            items = qs[:k] + [bad] + qs[k + 1:]
            locs = []
            for joined in (False, True):
                with monkeypatch.context() as m:
                    if joined:
                        m.setattr(cidrscope, "_layouts", {})
                    with pytest.raises(cidrscope.InputError) as e:
                        s.count(items)
                    locs.append((e.value.line, e.value.column))
            if "\n" not in bad:                           # joined: "holds a newline"
                assert locs[0] == locs[1] and locs[0][0] == k + 1
            assert s.count(qs) == want


def test_binding__count_from_threads_on_one_snapshot():
    """Threads counting on one Snapshot at once (str lists in place, bytes
    and a str subclass joined, with the GIL released): each gets its own
    answers, whether it holds the Snapshot's scratch or not."""
    path = os.environ["CS_REAL_PREFIXES"]
    with open(path) as f:
        rows = [r["prefix"] for r in csv.DictReader(f) if "/" in r["prefix"]]

    class Sub(str):
        pass
    rng = random.Random(7)
    inputs = []
    for t in range(6):
        qs = [rng.choice(rows) for _ in range(5000 + 3000 * t)]
        inputs.append(qs if t % 3 == 0 else
                      [q.encode() for q in qs] if t % 3 == 1 else qs + [Sub("10.0.0.0/8")])
    import threading
    with cidrscope.load(path) as s:
        want = [s.count(list(x)) for x in inputs]
        got, errors = {}, []

        def run(t):
            try:
                for _ in range(8):
                    r = s.count(inputs[t])
                    if r != want[t]:
                        errors.append((t, "wrong counts"))
                got[t] = True
            except Exception as e:   # noqa: BLE001 — reported below
                errors.append((t, repr(e)))
        threads = [threading.Thread(target=run, args=(t,)) for t in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors and len(got) == 6


def test_binding__count_matches_cli(snap):
    qs = ["10.0.0.0/8", "172.16.0.0/12", "0.0.0.0/0", "::/0", "192.0.2.0/24"]
    out = subprocess.run([CLI, "query", "-e", SAMPLE, "--count", *qs], check=True,
                         capture_output=True, text=True).stdout.split()
    assert snap.count(qs) == [int(x) for x in out]


def test_binding__overlaps_match_cli_json(snap):
    for q in ("10.0.0.0/8", "10.0.0.0/16", "172.31.7.0/24", "::/0"):
        want = cli_json("query", "-e", SAMPLE, q)[0]["matches"]
        got = snap.overlaps(q)
        assert sorted(map(match_key, got)) == sorted(map(match_key, want)), q
        assert len(got) == snap.count([q])[0]


def test_binding__lookup_matches_cli_json(snap):
    addrs = ["172.31.7.7", "10.0.1.1", "1.1.1.1", "2600::1"]
    want = {d["address"]: d for d in cli_json("lookup", "-e", SAMPLE, *addrs)}
    got = snap.lookup(addrs)
    assert len(got) == len(addrs)
    for a, g in zip(addrs, got):
        w = want.get(a)
        if w is None or not w.get("matches"):
            assert g is None, a
        else:
            assert g["address"] == a
            assert sorted(map(match_key, g["matches"])) == sorted(map(match_key, w["matches"]))
    assert got[2] is None          # 1.1.1.1 is in no VPC of the sample


def test_binding__audit_is_the_json_report(snap):
    want = cli_json("audit", SAMPLE)
    got = snap.audit()
    for k in ("summary", "severities", "clusters", "groups", "pairs"):
        assert got[k] == want[k], k
    scoped = snap.audit(accounts=["049499461291"])
    assert scoped["summary"]["accounts"] == 1
    assert scoped["summary"]["vpcs"] < got["summary"]["vpcs"]
    with pytest.raises(cidrscope.NotFoundError):
        snap.audit(accounts=["000000000000"])


def test_binding__open_reads_a_built_snapshot(tmp_path, snap):
    path = tmp_path / "s.img"
    subprocess.run([CLI, "build", SAMPLE, "-o", str(path)], check=True, capture_output=True)
    qs = ["10.0.0.0/8", "172.31.0.0/16", "::/0"]
    with cidrscope.open(path) as s:
        assert s.count(qs) == snap.count(qs)
    path.write_bytes(b"CIDRSCP" + b"\0" * 200)
    with pytest.raises(cidrscope.CorruptImageError):
        cidrscope.open(str(path))


def test_binding__attach_pins_a_generation(tmp_path, snap):
    name = f"cstest_py_{os.getpid()}"
    serve = subprocess.Popen([CLI, "serve", name, SAMPLE, "--interval", "1",
                              "--unlink-on-exit"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                s = cidrscope.attach(name)
                break
            except cidrscope.Error:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        with s:
            assert s.generation >= 1
            assert s.count(["10.0.0.0/8"]) == snap.count(["10.0.0.0/8"])
        with pytest.raises(cidrscope.UsageError):
            s.count(["10.0.0.0/8"])
    finally:
        serve.terminate()
        serve.wait(10)
    with pytest.raises(cidrscope.Error):
        cidrscope.attach(f"cstest_py_absent_{os.getpid()}")


def test_binding__errors_carry_their_location(tmp_path, snap):
    with pytest.raises(cidrscope.InputError) as e:
        snap.count(["10.0.0.0/8", "10.0.0.1/8"])
    assert (e.value.line, e.value.column) == (2, 1)
    with pytest.raises(cidrscope.InputError) as e:
        snap.lookup(["10.0.0.1", "10.0.0.300"])
    assert e.value.line == 2 and e.value.column > 1
    with pytest.raises(cidrscope.InputError):
        snap.overlaps("10.0.0.0/33")
    with pytest.raises(TypeError):
        snap.count([b"10.0.0.0/8", "10.0.0.0/8"])      # bytes and str mixed
    with pytest.raises(TypeError):
        snap.count(["10.0.0.0/8", 10])
    bad = tmp_path / "bad.csv"
    bad.write_text("account,region,vpc_id,cidr\n111111111111,us-east-1,vpc-1,10.0.0.1/16\n")
    with pytest.raises(cidrscope.InputError) as e:
        cidrscope.load(str(bad))
    assert e.value.file == str(bad) and e.value.line == 2 and e.value.column > 1
    with cidrscope.load(str(bad), lenient=True) as s:     # host bits cleared
        assert s.count(["10.0.0.0/16"]) == [1]
    with pytest.raises(cidrscope.Error) as e:       # an unreadable source
        cidrscope.load(str(tmp_path / "absent.csv"))
    assert e.value.file == str(tmp_path / "absent.csv") and e.value.code < 0
    with pytest.raises(cidrscope.UsageError):
        cidrscope.load()


def test_binding__source_region_and_account(tmp_path):
    f = os.path.join(SAMPLE, "049499461291", "us-east-1", "vpcs.json")
    with cidrscope.load(f, source_region="eu-west-9", source_account="123456789012") as s:
        regions = {m["region"] for m in s.overlaps("0.0.0.0/0")}
        assert regions == {"eu-west-9"}


def test_binding__real_prefixes_count_against_brute_force():
    path = os.environ["CS_REAL_PREFIXES"]
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.append(ipaddress.ip_network(r["prefix"]))
    seed = int(os.environ.get("CS_SEED", time.time_ns() % 2**32))
    print(f"seed {seed}")
    rng = random.Random(seed)
    picks = [rng.choice(rows) for _ in range(25)]
    qs = [str(p.supernet(prefixlen_diff=min(p.prefixlen, rng.randrange(8)))) for p in picks]
    with cidrscope.load(path) as s:
        got = s.count(qs)
    spans = [(r.version, int(r.network_address), int(r.broadcast_address)) for r in rows]
    want = []
    for q in map(ipaddress.ip_network, qs):
        v, lo, hi = q.version, int(q.network_address), int(q.broadcast_address)
        # prefixes overlap exactly when their address ranges intersect
        want.append(sum(1 for rv, rlo, rhi in spans if rv == v and rlo <= hi and lo <= rhi))
    assert got == want


def test_binding__check_matches_cli_json(tmp_path, snap):
    vpcs = sorted({m["vpc"] for q in ("0.0.0.0/0", "::/0") for m in snap.overlaps(q)})
    rng = random.Random(7)
    pairs = [(rng.choice(vpcs), rng.choice(vpcs)) for _ in range(90)] + [(vpcs[0], "vpc-absent")]
    f = tmp_path / "pairs.csv"
    f.write_text("vpc_a,vpc_b\n" + "".join(f"{a},{b}\n" for a, b in pairs))
    want = cli_json("check", "-e", SAMPLE, "--pairs", str(f))["results"]
    got = snap.check_many(pairs)               # >= 64 pairs: the bulk index
    assert got == want
    few = snap.check_many(pairs[:5])           # one by one
    assert few == want[:5]
    one = snap.check(*pairs[-1])
    assert one == want[-1] and one["verdict"] == "ineligible"
    assert [r["code"] for r in one["reasons"]] == ["unknown-vpc"]


def test_binding__free_is_the_free_space_report(snap):
    for pool, extra in (("10.0.0.0/14", []), ("172.16.0.0/12", ["172.20.0.0/16"]),
                        ("2600:1f18::/32", [])):
        args = ["free", "-e", SAMPLE, "--pool", pool]
        for x in extra:
            args += ["--exclude", x]
        want = cli_json(*args)["pools"][0]
        assert snap.free(pool, exclude=extra) == want, pool
    listed = snap.free("10.0.0.0/14", min_length=17)["free_blocks"]
    assert listed and all(int(b.split("/")[1]) <= 17 for b in listed)


def test_binding__alloc_gives_the_command_s_blocks(snap):
    cases = [
        (["10.0.0.0/8"], 20, 3, "first", [], []),
        (["10.0.0.0/14", "10.8.0.0/14"], 24, 4, "spread", [], ["10.2.128.0/17"]),
        (["10.0.0.0/8"], 20, 2, "best-fit", ["vpc-0ffecc2d54e76bd76"], []),
    ]
    for pools, length, count, strategy, peers, excl in cases:
        args = ["alloc", "-e", SAMPLE, "--length", str(length), "--count", str(count),
                "--strategy", strategy]
        for p in pools:
            args += ["--pool", p]
        for v in peers:
            args += ["--peerable-with", v]
        for x in excl:
            args += ["--exclude", x]
        want = [a["prefix"] for a in cli_json(*args)["allocations"]]
        got = snap.alloc(pools, length, count=count, strategy=strategy,
                         peerable_with=peers, exclude=excl)
        assert got == want and len(got) == count, (pools, strategy)
        assert all(c == 0 for c in snap.count(got))      # overlap nothing live
    with pytest.raises(cidrscope.ResourceError) as e:
        snap.alloc("10.0.0.0/14", 16, count=2)
    assert e.value.reason == "no-space" and e.value.allocated == []
    with pytest.raises(cidrscope.UsageError):
        snap.alloc("10.0.0.0/8", 20, strategy="random")
    with pytest.raises(cidrscope.NotFoundError):
        snap.alloc("10.0.0.0/8", 20, peerable_with=["vpc-absent"])


def test_ffi__structs_match_the_c_headers(tmp_path):
    """Every struct the binding declares with fields has the size and field
    offsets a C compiler gives the installed headers: a field added to a
    header and not to _ffi.py makes the library read or write past what
    cffi allocated (cs_load_options once lacked its last four fields)."""
    from cidrscope._ffi import ffi
    import re
    import shutil
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    assert cc, "no C compiler to read the headers with"
    import sys
    src = open(sys.modules["cidrscope._ffi"].__file__).read()
    names = sorted(set(re.findall(r"typedef struct (\w+) \{", src)) - {"_IO_FILE"})
    assert "cs_load_options" in names
    lines = ['#include <stdio.h>', '#include <stddef.h>']
    lines += ['#include <cidrscope/%s>' % h for h in sorted(os.listdir(os.path.join(SRC, "include", "cidrscope")))
              if h.endswith(".h")]
    lines.append("int main(void) {")
    expected = []
    for n in names:
        t = ffi.typeof("struct %s" % n)
        lines.append('printf("%%zu\\n", sizeof(struct %s));' % n)
        expected.append(ffi.sizeof(t))
        for field, _ in t.fields:
            lines.append('printf("%%zu\\n", offsetof(struct %s, %s));' % (n, field))
            expected.append(ffi.offsetof(t, field))
    lines.append("return 0; }")
    c = tmp_path / "layout.c"
    c.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", os.path.join(SRC, "include"), str(c), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    got = [int(x) for x in subprocess.run([str(exe)], check=True, capture_output=True,
                                          text=True).stdout.split()]
    labels = []
    for n in names:
        labels.append("sizeof %s" % n)
        labels += ["%s.%s" % (n, f) for f, _ in ffi.typeof("struct %s" % n).fields]
    diff = [(l, e, g) for l, e, g in zip(labels, expected, got) if e != g]
    assert not diff, "cffi vs C: %s" % diff
