#!/usr/bin/env python3
"""tests/soak/publisher.py — the soak's fast publisher: opens the variant
snapshots once through the library (ctypes on libcidrscope.so), then
publishes a random one into the service every 200 ms until killed, one line
of output per publish ("ok GEN MILLISECONDS" or "fail CODE MESSAGE").
usage: publisher.py LIBCIDRSCOPE NAME SEED SNAPSHOT...
Publishes with CS_SHM_REUSE, as `serve --reuse` in the soak does.
"""
import ctypes
import mmap
import random
import sys
import time

lib = ctypes.CDLL(sys.argv[1])
name = sys.argv[2].encode()
rng = random.Random(int(sys.argv[3]))


class Error(ctypes.Structure):  # cs_error (include/cidrscope/error.h), generously sized
    _fields_ = [("raw", ctypes.c_char * 4096)]


def message(err):
    raw = bytes(err.raw)
    start = 4  # int code, then char message[CS_ERROR_MSG_CAP]
    return raw[start:start + 320].split(b"\0")[0].decode(errors="replace")


# The soak built these files and never changes them: they are mapped (a
# private copy-on-write mapping, page-aligned as the library wants) and
# opened with CS_OPEN_NO_VERIFY | CS_OPEN_TRUSTED, so a publisher restarted
# after a SIGKILL publishes again at once instead of reading and validating
# four 100 MB images first (the soak's publish rate depends on it).
snaps = []
maps = []
for path in sys.argv[4:]:
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    maps.append(mm)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(mm))
    s = ctypes.c_void_p()
    err = Error()
    if lib.cs_snapshot_from_memory(ctypes.c_void_p(addr), ctypes.c_size_t(len(mm)), 3,
                                   ctypes.byref(s), ctypes.byref(err)) != 0:
        sys.exit("open %s: %s" % (path, message(err)))
    snaps.append(s)
class Options(ctypes.Structure):  # cs_shm_options (include/cidrscope/shm.h)
    _fields_ = [("mode", ctypes.c_uint), ("readers", ctypes.c_uint32), ("flags", ctypes.c_uint),
                ("wait_ms", ctypes.c_uint32), ("max_shrink", ctypes.c_uint32)]


CS_SHM_REUSE = 1 << 2  # rewrite retired segments no reader pins (shm.h)
pub = ctypes.c_void_p()
err = Error()
opts = Options(flags=CS_SHM_REUSE)
rc = lib.cs_shm_publisher_open(name, ctypes.byref(opts), ctypes.byref(pub), ctypes.byref(err))
if rc < 0:
    print("fail %d %s" % (rc, message(err)), flush=True)
    sys.exit(1)
gen = ctypes.c_uint64()
while True:
    t0 = time.monotonic()
    rc = lib.cs_shm_publish(pub, snaps[rng.randrange(len(snaps))], ctypes.byref(gen), ctypes.byref(err))
    ms = (time.monotonic() - t0) * 1e3
    print(("ok %d %.1f" % (gen.value, ms)) if rc == 0 else ("fail %d %s" % (rc, message(err))), flush=True)
    time.sleep(max(0.0, 0.2 - (time.monotonic() - t0)))
