"""cidrscope — the CIDR overlap engine from Python, over libcidrscope.so.

    import cidrscope
    with cidrscope.load("estate/", "prefixes.csv") as snap:
        snap.count(["10.0.0.0/8", "172.16.0.0/12"])      # [38, 4]
        snap.lookup(["10.1.2.3"])                         # [{"address": ..., "matches": [...]}]

Bulk calls (count, lookup) take any iterable of strings and cross into C once
per call (count: a list or tuple of str read in place by
cs_query_count_items, else one joined text; lookup: cs_prefix_parse_lines,
then one bulk query). Every failure raises a
cidrscope.Error subclass; bad input raises InputError carrying file, line and
column. Snapshots answer until close() (or the end of a `with` block).
"""
import json as _json
import threading as _threading

from ._ffi import ffi as _ffi, lib as _lib, lib_name as _lib_name, libc as _libc

__all__ = ["load", "open", "attach", "Snapshot", "Error", "InputError",
           "UsageError", "NotFoundError", "CorruptImageError",
           "ResourceError", "SystemCallError"]

_CS_EINVAL, _CS_ENOMEM, _CS_EPARSE, _CS_ECORRUPT, _CS_EVERSION = -1, -2, -3, -4, -5
_CS_EIO, _CS_ESTATE, _CS_ERANGE, _CS_ENOTFOUND, _CS_ECONFLICT, _CS_EBUSY = -6, -7, -8, -9, -10, -11
_Q_OVERLAPPING = 3
_IDX_NONE = 0xFFFFFFFF
_RELATIONS = {1: "covers", 2: "equal", 3: "covered"}
_REPORT_JSON = 1
_AUDIT_INCLUDE_DEFAULT, _AUDIT_ALL_PAIRS = 1 << 1, 1 << 2


class Error(Exception):
    """Any failure of the library: .code (negative CS_E* status), .message."""

    def __init__(self, code, message, file=None, line=None, column=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column


class InputError(Error):
    """Bad input text (CS_EPARSE): .file, .line and .column say where."""


class UsageError(Error):
    """A bad argument or call (CS_EINVAL, CS_ESTATE)."""


class NotFoundError(Error):
    """A named thing does not exist (CS_ENOTFOUND): a VPC id, a segment."""


class CorruptImageError(Error):
    """An image fails validation (CS_ECORRUPT, CS_EVERSION)."""


class ResourceError(Error):
    """Out of memory, out of range or busy (CS_ENOMEM, CS_ERANGE, CS_EBUSY)."""


class SystemCallError(Error):
    """A system call failed (CS_EIO); the message has strerror."""


_CLASSES = {_CS_EPARSE: InputError, _CS_ECONFLICT: InputError,
            _CS_EINVAL: UsageError, _CS_ESTATE: UsageError,
            _CS_ENOTFOUND: NotFoundError, _CS_ECORRUPT: CorruptImageError,
            _CS_EVERSION: CorruptImageError, _CS_ENOMEM: ResourceError,
            _CS_ERANGE: ResourceError, _CS_EBUSY: ResourceError,
            _CS_EIO: SystemCallError}


def _raise(rc, err, source=None):
    """Raises the Error subclass of status rc, from the cs_error err."""
    text = _ffi.string(err.message).decode("utf-8", "replace") if err else ""
    if not text:
        text = _ffi.string(_lib.cs_strerror(rc)).decode()
    file = _ffi.string(err.source).decode("utf-8", "replace") if err else ""
    file = file or source
    line = int(err.line) or None if err else None
    column = int(err.column) or None if err else None
    where = ":".join(str(x) for x in (file, line, column) if x is not None)
    raise _CLASSES.get(rc, Error)(rc, f"{where}: {text}" if where else text,
                                  file, line, column)


def _new_error():
    return _ffi.new("cs_error *")


def _text(s, what):
    if not isinstance(s, str):
        raise TypeError(f"{what} must be a str, not {type(s).__name__}")
    return s.encode()


try:
    import ctypes as _ctypes
    _as_utf8 = _ctypes.pythonapi.PyUnicode_AsUTF8AndSize
    _as_utf8.argtypes = (_ctypes.py_object, _ctypes.POINTER(_ctypes.c_ssize_t))
    _as_utf8.restype = _ctypes.c_void_p
except (ImportError, AttributeError):   # not CPython: encode() copies
    _as_utf8 = None


def _utf8(s):
    """The UTF-8 text of str s as (pointer, length) without a copy where
    CPython keeps it (an ASCII str's own buffer: PyUnicode_AsUTF8AndSize,
    which caches it in s otherwise); the pointer lives as long as s. Else
    (s.encode(), its length)."""
    if _as_utf8 is not None:
        size = _ctypes.c_ssize_t()
        addr = _as_utf8(s, _ctypes.byref(size))
        if addr:
            return _ffi.cast("const char *", addr), size.value
    b = s.encode()
    return b, len(b)


def _in_place():
    """How Snapshot.count hands CPython's str objects to C in place (no
    join): (count_items, {list: layout, tuple: layout}), where count_items
    is cs_query_count_items called through ctypes.PyDLL, which keeps the
    GIL for the call, so no other thread can change the sequence or free
    its items while C reads them, and each layout a cs_item_layout found by
    probing this interpreter's own objects. (None, {}) when anything differs
    from the layout expected (another implementation or version, a 32-bit,
    debug or free-threaded build): the binding then joins the items into
    one text instead.

    CPython 3.x, 64-bit: an object starts with refcount and type; a str
    goes on with length, hash and a 32-bit state word (bits 2-4 kind, 5
    compact, 6 ascii); a compact ASCII str's text follows its header
    (sys.getsizeof("") - 1 bytes in), NUL-terminated. A list holds its size
    then a pointer to its item pointers; a tuple its size then the item
    pointers themselves."""
    import sys
    if (_as_utf8 is None or _ctypes.sizeof(_ctypes.c_void_p) != 8
            or not getattr(sys, "_is_gil_enabled", lambda: True)()):
        return None, {}
    word = 8
    text_off = sys.getsizeof("") - 1
    want, mask = 0x64, 0x7c        # kind 1 (one byte), compact, ascii

    def at(addr, ctype=_ctypes.c_uint64):
        return ctype.from_address(addr).value

    def state(x):
        return at(id(x) + 4 * word, _ctypes.c_uint32) & mask

    def fresh(*parts):             # made at run time: never interned
        return "".join(parts)
    try:
        a = fresh("10.0.", "0.0/8")
        b = fresh("2001:db8", "::/32")
        ok = (at(id(a) + word) == id(str)
              and at(id(a) + 2 * word, _ctypes.c_ssize_t) == len(a)
              and _ctypes.string_at(id(a) + text_off, len(a) + 1) == b"10.0.0.0/8\0"
              and state(a) == want and state(b) == want
              and state(fresh("10.0.0.0/8", "\u00e9")) == 0x24       # one byte, not ascii
              and state(fresh("10.0.0.0/8", "\u0100")) == 0x28       # two bytes
              and state(fresh("10.0.0.0/8", "\U0001f600")) == 0x30)  # four bytes
        lst, tup = [a, b], (a, b)
        ok = (ok and at(id(lst) + 2 * word) == 2 and at(id(tup) + 2 * word) == 2
              and [at(at(id(lst) + 3 * word) + word * i) for i in range(2)] == [id(a), id(b)]
              and [at(id(tup) + 3 * word + word * i) for i in range(2)] == [id(a), id(b)])
        fn = _ctypes.PyDLL(_lib_name).cs_query_count_items
    except (ValueError, TypeError, OSError, AttributeError):
        ok = False
    if not ok:
        return None, {}
    fn.restype = _ctypes.c_int64
    p = _ctypes.c_void_p
    fn.argtypes = (p, p, _ctypes.py_object, p, _ctypes.c_uint, _ctypes.c_uint, p,
                   _ctypes.c_size_t, p)
    item = {"count_off": 2 * word, "items_off": 3 * word, "tag_off": word, "tag": id(str),
            "flags_off": 4 * word, "flags_mask": mask, "flags_want": want,
            "len_off": 2 * word, "text_off": text_off}
    layouts = {list: _ffi.new("cs_item_layout *", dict(item, items_indirect=1)),
               tuple: _ffi.new("cs_item_layout *", dict(item, items_indirect=0))}
    return fn, layouts


def _addr(ptr):
    """A cffi pointer or buffer as an int, for a ctypes call (NULL: None)."""
    return int(_ffi.cast("uintptr_t", ptr)) or None


_count_items, _layouts = _in_place()


def _join(items):
    """Any iterable of str (or of bytes) as (items, text, text_len, count,
    keep): one buffer with an item a line ("\n".join, its UTF-8 read in
    place; or b"\n".join for bytes); keep holds what text points into, to be
    kept alive while text is used."""
    items = items if isinstance(items, (list, tuple)) else list(items)
    if not items:
        return items, b"", 0, 0, None
    kind = bytes if isinstance(items[0], bytes) else str
    try:
        joined = b"\n".join(items) if kind is bytes else "\n".join(items)
    except TypeError:
        i, x = next((i, x) for i, x in enumerate(items) if not isinstance(x, kind))
        raise TypeError(f"item {i + 1} must be {kind.__name__} like item 1, "
                        f"not {type(x).__name__}") from None
    text, text_len = (joined, len(joined)) if kind is bytes else _utf8(joined)
    return items, text, text_len, len(items), joined


def _check_items(got, n, err):
    """Raises for a C call over n joined items that returned got: an error,
    or an item holding a newline (seen as more items than given)."""
    if got < 0:
        _raise(got, err, "<items>")
    if got != n:
        raise InputError(_CS_EPARSE, "<items>: an item holds a newline",
                         "<items>", None, None)


class _Memstream:
    """A FILE* writing into memory (open_memstream), read back as str."""

    def __enter__(self):
        self._buf = _ffi.new("char **")
        self._len = _ffi.new("size_t *")
        self.file = _libc.open_memstream(self._buf, self._len)
        if self.file == _ffi.NULL:
            raise ResourceError(_CS_ENOMEM, "open_memstream failed")
        return self

    def close(self):
        if self.file is not None:
            _libc.fclose(self.file)
            self.file = None
        data = _ffi.string(self._buf[0], self._len[0]) if self._buf[0] else b""
        _libc.free(self._buf[0])
        self._buf[0] = _ffi.NULL
        return data.decode("utf-8")

    def __exit__(self, *exc):
        if self.file is not None:
            self.close()


class Snapshot:
    """A frozen estate image: queries answer from it until close()."""

    def __init__(self, ptr, shm=None, pin=None):
        self._s = ptr
        self._shm = shm
        self._pin = pin
        self._owners = {}   # (family, first entry) -> match dicts
        self._estate = bool(_lib.cs_estate_present(ptr))
        self._scratch_lock = _threading.Lock()   # guards _scratch and _counts
        self._scratch = None
        self._counts = None

    # -- life cycle ---------------------------------------------------------
    def close(self):
        """Releases the image (for attach: unpins the generation)."""
        if self._s is None:
            return
        with self._scratch_lock:        # after a count in another thread
            _lib.cs_query_scratch_free(self._scratch or _ffi.NULL)
            self._scratch, self._counts = None, None
        if self._shm is not None:
            _lib.cs_shm_unpin(self._pin)
            _lib.cs_shm_detach(self._shm)
            self._shm = None
        else:
            _lib.cs_snapshot_close(self._s)
        self._s = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def generation(self):
        """The pinned generation (attach), else 0."""
        return int(self._pin.generation) if self._pin is not None else 0

    def _snap(self):
        if self._s is None:
            raise UsageError(_CS_ESTATE, "snapshot is closed")
        return self._s

    # -- helpers ------------------------------------------------------------
    def _parse_many(self, items, addresses):
        items, text, text_len, n, keep = _join(items)
        out = _ffi.new("cs_prefix[]", n + 1)   # + 1: see count
        err = _new_error()
        got = _lib.cs_prefix_parse_lines(text, text_len, 0, addresses, out, n + 1, err)
        del keep
        _check_items(got, n, err)
        return items, out, n

    def _matches(self, m, relation):
        """The match dicts of stored prefix m (one per entry value)."""
        key = (int(m.prefix.family), int(m.first_entry))
        base = self._owners.get(key)
        if base is None:
            buf = _ffi.new("char[64]")
            _lib.cs_prefix_format(_ffi.addressof(m.prefix), buf, 64)
            prefix = _ffi.string(buf).decode()
            base = []
            for k in range(m.count):
                value = int(m.values[k])
                if self._estate:
                    base.append(dict(prefix=prefix, **self._owner(value)))
                else:
                    base.append({"prefix": prefix, "value": value})
            self._owners[key] = base
        out = []
        for d in base:
            d = dict(d)
            d["relation"] = relation
            out.append(d)
        return out

    def _owner(self, assoc):
        s = self._s
        vpc = _ffi.new("cs_vpc *")
        acct = _ffi.new("cs_account *")
        region = _ffi.new("cs_region *")
        v = _lib.cs_estate_assoc_vpc(s, assoc)
        if _lib.cs_estate_vpc(s, v, vpc) != 0:
            return {"vpc": None, "account": None, "region": None, "name": None}
        _lib.cs_estate_account(s, vpc.account_idx, acct)
        _lib.cs_estate_region(s, vpc.region_idx, region)
        return {"vpc": _ffi.string(vpc.id).decode(),
                "account": _ffi.string(acct.id).decode(),
                "region": _ffi.string(region.name).decode(),
                "name": _ffi.string(vpc.name).decode()}

    # -- queries ------------------------------------------------------------
    def count(self, prefixes):
        """Number of live blocks overlapping each prefix (str, or bytes), in
        input order. One C call parses, sorts, counts and puts the counts
        back in order: a list or tuple of str is read in place where
        CPython's layout allows (cs_query_count_items, holding the GIL),
        anything else joined into one text (cs_query_count_lines_with). The
        call reuses this Snapshot's scratch and counts buffer; a call made
        while another thread's holds them gets its own."""
        s = self._snap()
        items = prefixes if type(prefixes) in (list, tuple) else list(prefixes)
        n = len(items)
        mine = self._scratch_lock.acquire(blocking=False)
        try:
            if mine:
                sc, counts = self._scratch_for(n + 1)
            else:
                sc, counts = _ffi.NULL, _ffi.new("uint32_t[]", n + 1)
            err = _new_error()
            lay = _layouts.get(type(items))
            if lay is not None and n and type(items[0]) is str:
                got = _count_items(_addr(s), _addr(sc), items, _addr(lay), 0, _Q_OVERLAPPING,
                                   _addr(counts), n + 1, _addr(err))
                if got != _CS_EINVAL:      # EINVAL: an item not of the layout
                    _check_items(got, n, err)
                    return _ffi.unpack(counts, n)
                err = _new_error()
            _, text, text_len, n, keep = _join(items)
            # room for one more: an item holding a newline shows as n + 1 items
            got = _lib.cs_query_count_lines_with(s, sc, text, text_len, 0, _Q_OVERLAPPING,
                                                 counts, n + 1, err)
            del keep
            _check_items(got, n, err)
            return _ffi.unpack(counts, n)
        finally:
            if mine:
                self._scratch_lock.release()

    def _scratch_for(self, cap):
        """This Snapshot's scratch and a counts buffer of at least cap
        (caller holds _scratch_lock)."""
        if self._scratch is None:
            sc = _lib.cs_query_scratch_new()
            if sc == _ffi.NULL:
                raise ResourceError(_CS_ENOMEM, "out of memory for a count scratch")
            self._scratch = sc
        if self._counts is None or len(self._counts) < cap:
            self._counts = _ffi.new("uint32_t[]", cap)
        return self._scratch, self._counts

    def overlaps(self, prefix):
        """Every live block overlapping prefix: dicts with prefix, relation
        (covers, equal, covered), vpc, account, region, name."""
        s = self._snap()
        text = _text(prefix, "prefix")
        q = _ffi.new("cs_prefix *")
        err = _new_error()
        rc = _lib.cs_prefix_parse(text, len(text), 0, q, err)
        if rc < 0:
            _raise(rc, err, "<prefix>")
        it = _ffi.new("cs_query_iter *")
        m = _ffi.new("cs_match *")
        _lib.cs_query_iter_init(it, s, q, _Q_OVERLAPPING)
        out = []
        while _lib.cs_query_iter_next(it, m) > 0:
            out.extend(self._matches(m, _RELATIONS.get(m.relation, "?")))
        return out

    def lookup(self, addresses):
        """Longest-prefix match of each address: {"address", "matches"} (the
        blocks of the longest stored prefix containing it), or None."""
        s = self._snap()
        items, qs, n = self._parse_many(addresses, True)
        ms = _ffi.new("cs_match[]", max(n, 1))
        rc = _lib.cs_lookup_bulk(s, qs, n, ms)
        if rc < 0:
            _raise(rc, None)
        out = []
        for i in range(n):
            m = ms[i]
            if m.count == 0:
                out.append(None)
            else:
                out.append({"address": items[i],
                            "matches": self._matches(m, _RELATIONS.get(m.relation, "?"))})
        return out

    def _vpc_index(self, vpc_id):
        text = _text(vpc_id, "VPC id")
        idx = _ffi.new("uint32_t *")
        found = _lib.cs_estate_vpc_find(self._s, text, len(text), idx)
        if found < 0:
            _raise(found, None)
        return int(idx[0]) if found == 1 else _IDX_NONE

    def check(self, a, b, quota=None):
        """May VPCs a and b be peered now: the check report's result dict
        (a, b, verdict, reasons with code, kind, message, evidence). An id
        not in the estate is the verdict's unknown-vpc reason, not an error."""
        return self.check_many([(a, b)], quota=quota)[0]

    def check_many(self, pairs, quota=None):
        """check() of every (a, b) pair, as a list in input order; the
        verdicts are decided in one bulk call (a pair index) from 64 pairs."""
        s = self._snap()
        pairs = [tuple(p) for p in pairs]
        n = len(pairs)
        opts = _ffi.new("cs_peering_opts *")
        opts.quota = quota or 0
        ids = [(_ffi.new("char[]", _text(a, "VPC id")), _ffi.new("char[]", _text(b, "VPC id")))
               for a, b in pairs]
        idx = _ffi.new("cs_peering_pair[]", [(self._vpc_index(a), self._vpc_index(b))
                                             for a, b in pairs] or 1)
        verdicts = _ffi.new("cs_peering_verdict[]", max(n, 1))
        err = _new_error()
        if n >= 64:
            ix = _ffi.new("cs_peering_index **")
            rc = _lib.cs_peering_index_new(s, ix, err)
            if rc < 0:
                _raise(rc, err)
            try:
                rc = _lib.cs_peering_check_bulk(ix[0], idx, n, opts, verdicts)
            finally:
                _lib.cs_peering_index_free(ix[0])
            if rc < 0:
                _raise(rc, None)
        else:
            for i in range(n):
                rc = _lib.cs_peering_check(s, idx[i].a, idx[i].b, opts, verdicts + i)
                if rc < 0:
                    _raise(rc, None)
        summary = _ffi.new("cs_peering_summary *")
        for i in range(n):
            _lib.cs_peering_summary_add(summary, verdicts + i)
        with _Memstream() as ms:
            rep = _lib.cs_peering_report_new(ms.file, _REPORT_JSON, s, opts)
            if rep == _ffi.NULL:
                raise ResourceError(_CS_ENOMEM, "out of memory")
            try:
                _lib.cs_peering_report_begin(rep, summary)
                for i in range(n):
                    _lib.cs_peering_report_pair(rep, ids[i][0], ids[i][1], idx[i].a,
                                                idx[i].b, verdicts + i)
                rc = _lib.cs_peering_report_end(rep, summary, err)
            finally:
                _lib.cs_peering_report_free(rep)
            text = ms.close()
        if rc < 0:
            _raise(rc, err)
        return _json.loads(text)["results"]

    def _prefixes(self, items, what):
        """Prefixes as a cs_prefix[] (one C call) and their number."""
        items = [items] if isinstance(items, str) else list(items)
        if not items:
            return _ffi.NULL, 0
        _, out, n = self._parse_many(items, False)
        return out, n

    def free(self, pool, exclude=(), min_length=0):
        """The free space of pool: the free-space report's pool dict (pool,
        addresses, used, free, largest_free, fragmentation, free_blocks).
        exclude: prefixes to count as used; min_length: list only free
        blocks of that length or shorter (the figures count every block)."""
        s = self._snap()
        pools, npool = self._prefixes(pool, "pool")
        if npool != 1:
            raise UsageError(_CS_EINVAL, "free: one pool")
        extra, nextra = self._prefixes(exclude, "exclude")
        st = _ffi.new("cs_ipam_pool_stats *")
        cap = 256
        while True:
            out = _ffi.new("cs_prefix[]", cap)
            n = _lib.cs_ipam_free(s, pools, extra, nextra, min_length, out, cap, st)
            if n < 0:
                _raise(n, None)
            if n <= cap:
                break
            cap = n
        fp = _ffi.new("cs_ipam_free_pool *")
        fp.pool = pools[0]
        fp.stats = st[0]
        fp.blocks = out
        fp.n_blocks = n
        err = _new_error()
        with _Memstream() as ms:
            rc = _lib.cs_ipam_report_free(ms.file, _REPORT_JSON, fp, 1, err)
            text = ms.close()
        if rc < 0:
            _raise(rc, err)
        return _json.loads(text)["pools"][0]

    def alloc(self, pool, length, count=1, strategy="first", peerable_with=(),
              exclude=()):
        """count aligned blocks of /length inside pool (a prefix, or several
        in order of preference) overlapping no block of the estate, nor
        exclude, nor (peerable_with: VPC ids) those VPCs' and their peers'
        blocks — AWS's rules for one VPC's blocks then apply. Returns the
        blocks as strings; raises ResourceError (.reason, .allocated) when
        fewer than count fit."""
        s = self._snap()
        pools, npool = self._prefixes(pool, "pool")
        if npool == 0:
            raise UsageError(_CS_EINVAL, "alloc: no pool")
        strat = _lib.cs_ipam_strategy_parse(_text(strategy, "strategy"), len(strategy))
        if strat < 0:
            raise UsageError(_CS_EINVAL, f"strategy {strategy!r}: expected first, best-fit or spread")
        if isinstance(peerable_with, str):
            peerable_with = [peerable_with]
        vidx = []
        for v in peerable_with:
            i = self._vpc_index(v)
            if i == _IDX_NONE:
                raise NotFoundError(_CS_ENOTFOUND, f"{v}: no such VPC in the estate")
            vidx.append(i)
        ex = [exclude] if isinstance(exclude, str) else list(exclude)
        nex = len(ex)
        npeer = 0
        if vidx:
            varr = _ffi.new("uint32_t[]", vidx)
            npeer = _lib.cs_ipam_peer_blocks(s, varr, len(vidx), _ffi.NULL, 0)
            if npeer < 0:
                _raise(npeer, None)
        extra = _ffi.new("cs_prefix[]", max(nex + npeer, 1))
        if nex:
            _, parsed, _n = self._parse_many(ex, False)
            _ffi.memmove(extra, parsed, _ffi.sizeof("cs_prefix") * nex)
        if npeer:
            _lib.cs_ipam_peer_blocks(s, varr, len(vidx), extra + nex, npeer)
        req = _ffi.new("cs_ipam_request *")
        req.pools, req.n_pools = pools, npool
        req.length, req.count, req.strategy = length, count, strat
        req.vpc_rules = bool(vidx)
        req.extra, req.n_extra = extra, nex + npeer
        out = _ffi.new("cs_ipam_allocation[]", max(count, 1))
        reason = _ffi.new("unsigned *")
        n = _lib.cs_ipam_alloc(s, req, out, reason)
        if n < 0:
            _raise(n, None)
        buf = _ffi.new("char[64]")
        blocks = []
        for i in range(n):
            _lib.cs_prefix_format(_ffi.addressof(out[i], "prefix"), buf, 64)
            blocks.append(_ffi.string(buf).decode())
        if n < count:
            why = _ffi.string(_lib.cs_ipam_reason_name(reason[0])).decode()
            e = ResourceError(_CS_ERANGE, f"/{length}: {n} of {count} blocks: {why}: "
                              + _ffi.string(_lib.cs_ipam_reason_text(reason[0])).decode())
            e.reason, e.allocated = why, blocks
            raise e
        return blocks

    def audit(self, accounts=(), regions=(), tags=None, include_default=False,
              all_pairs=False, limit=0):
        """The org-wide overlap audit as the JSON report's dict (summary,
        severities, clusters, groups, pairs, ...). Scopes: accounts, regions,
        tags ({key: value} or "key=value" strings)."""
        s = self._snap()
        keep = []
        opts = _ffi.new("cs_audit_options *")
        opts.flags = ((_AUDIT_INCLUDE_DEFAULT if include_default else 0)
                      | (_AUDIT_ALL_PAIRS if all_pairs else 0))

        def strings(values, what):
            if isinstance(values, str):
                values = [values]
            enc = [_ffi.new("char[]", _text(v, what)) for v in values]
            keep.extend(enc)
            arr = _ffi.new("const char *[]", enc) if enc else _ffi.NULL
            keep.append(arr)
            return arr, len(enc)

        opts.accounts, opts.account_count = strings(accounts, "account")
        opts.regions, opts.region_count = strings(regions, "region")
        if tags:
            pairs = tags.items() if isinstance(tags, dict) else (
                t.split("=", 1) if "=" in t else (t, None) for t in tags)
            tag_arr = []
            for k, v in pairs:
                kc = _ffi.new("char[]", _text(k, "tag key"))
                vc = _ffi.new("char[]", _text(v, "tag value")) if v is not None else _ffi.NULL
                keep.extend([kc, vc])
                tag_arr.append((kc, vc))
            arr = _ffi.new("cs_audit_tag[]", tag_arr)
            keep.append(arr)
            opts.tags, opts.tag_count = arr, len(tag_arr)
        res = _ffi.new("cs_audit_result **")
        err = _new_error()
        rc = _lib.cs_audit_run(s, opts, res, err)
        if rc < 0:
            _raise(rc, err)
        try:
            ro = _ffi.new("cs_audit_report_options *")
            ro.format = _REPORT_JSON
            ro.limit = limit
            with _Memstream() as ms:
                rc = _lib.cs_audit_report_write(ms.file, s, res[0], ro, err)
                text = ms.close()
            if rc < 0:
                _raise(rc, err)
        finally:
            _lib.cs_audit_free(res[0])
        return _json.loads(text)


def _freeze(estate):
    out = _ffi.new("cs_snapshot **")
    err = _new_error()
    rc = _lib.cs_estate_freeze(estate, out, err)
    if rc < 0:
        _raise(rc, err)
    return Snapshot(out[0])


def load(*sources, source_region=None, source_account=None, lenient=False):
    """Loads every source (an org-wide AWS CLI tree, describe-vpcs /
    describe-vpc-peering-connections JSON, CSV, a prefix list) into one
    estate and freezes it. source_region / source_account name the region
    and account of sources that carry none."""
    if not sources:
        raise UsageError(_CS_EINVAL, "load: no source")
    opts = _ffi.new("cs_load_options *")
    opts.lenient = bool(lenient)
    region = _ffi.new("char[]", _text(source_region, "source_region")) if source_region else _ffi.NULL
    account = _ffi.new("char[]", _text(source_account, "source_account")) if source_account else _ffi.NULL
    opts.region, opts.account = region, account
    estate = _lib.cs_estate_new()
    if estate == _ffi.NULL:
        raise ResourceError(_CS_ENOMEM, "out of memory")
    try:
        for src in sources:
            path = _text(str(src) if hasattr(src, "__fspath__") else src, "source")
            err = _new_error()
            rc = _lib.cs_estate_load(estate, path, opts, err)
            if rc < 0:
                _raise(rc, err, path.decode())
        return _freeze(estate)
    finally:
        _lib.cs_estate_free(estate)


def open(path):  # noqa: A001 - the contract's name
    """Opens a snapshot file written by `cidrscope build` (validated)."""
    out = _ffi.new("cs_snapshot **")
    err = _new_error()
    p = _text(str(path) if hasattr(path, "__fspath__") else path, "path")
    rc = _lib.cs_snapshot_open(p, 0, out, err)
    if rc < 0:
        _raise(rc, err, p.decode())
    return Snapshot(out[0])


def attach(shm_name):
    """Attaches to a shared-memory service (`cidrscope serve NAME`) and pins
    its current generation until close() or the end of a `with` block."""
    name = _text(shm_name, "shm_name")
    h = _ffi.new("cs_shm **")
    err = _new_error()
    rc = _lib.cs_shm_attach(name, 0, h, err)
    if rc < 0:
        _raise(rc, err, shm_name)
    pin = _ffi.new("cs_pin *")
    rc = _lib.cs_shm_pin(h[0], pin, err)
    if rc < 0:
        _lib.cs_shm_detach(h[0])
        _raise(rc, err, shm_name)
    return Snapshot(pin.snap, shm=h[0], pin=pin)
