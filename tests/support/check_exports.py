#!/usr/bin/env python3
"""tests/support/check_exports.py LIBCIDRSCOPE.so INCLUDE_DIR

The shared library's ABI is exactly the public API: every function declared
CS_API in include/cidrscope/*.h is a defined dynamic symbol of the .so, and
the .so exports no other function or object (everything else is hidden by
-fvisibility=hidden). Prints both differences and exits 1 on any.
"""
import pathlib
import re
import subprocess
import sys


def declared(include_dir):
    names = set()
    decl = re.compile(r"\bCS_API\b([^;{]*?)\b(cs_[A-Za-z0-9_]+)\s*\(", re.S)
    for header in sorted(pathlib.Path(include_dir).glob("cidrscope/*.h")):
        text = re.sub(r"/\*.*?\*/", " ", header.read_text(), flags=re.S)
        text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
        names.update(m.group(2) for m in decl.finditer(text))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWiu":
            names.add(parts[2])
    return names


def main():
    lib, include_dir = sys.argv[1], sys.argv[2]
    want, have = declared(include_dir), exported(lib)
    if len(want) < 50:
        print(f"only {len(want)} CS_API declarations found: the parser is broken")
        return 1
    missing, extra = sorted(want - have), sorted(have - want)
    for name in missing:
        print(f"declared CS_API but not exported: {name}")
    for name in extra:
        print(f"exported but not declared CS_API: {name}")
    print(f"{len(want)} CS_API functions, {len(have)} exported symbols")
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
