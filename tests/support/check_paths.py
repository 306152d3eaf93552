#!/usr/bin/env python3
"""tests/support/check_paths.py SOURCE_DIR — no stale words about where
things are (ctest `paths`): every repository path named in a source file,
script, header, CMake file or document (`engine/...`, `cli/...`,
`tests/...`, `include/...`, `datasets/...`, `bench/...`, `docs/...`,
`examples/...`, `python/...`, `scripts/...`, `cmake/...`) exists; a glob
(`tests/test_*.c`) must match something. Skipped: placeholders in capitals
(`tests/fuzz/corpus/NAME/`), names that stop at a `<...>` part
(`cli/cmd_<verb>.c`), a program named by its source without the extension
(`bench/peers/peer_cidrscope` for peer_cidrscope.c), tests/fixtures (data),
and bench/*.md (dated measurement records, which name the layout of their
day). Prints file:line: path for each, exits 1 when there is one.
"""
import glob
import os
import re
import sys

ROOTS = ("engine", "tests", "cli", "bench", "datasets", "include", "docs",
         "examples", "python", "scripts", "cmake")
# A path starts a word: at the line start, after a space, quote, backtick or
# bracket, never after '/', '$' or a letter (so $tmp/cli/x is not one).
PATH = re.compile(r'(?:(?<=^)|(?<=[\s`"\'(\[<,=]))((?:' + "|".join(ROOTS) +
                  r')/[A-Za-z0-9_.*/+-]*[A-Za-z0-9_*/])(<?)')
EXTS = (".c", ".h", ".cc", ".sh", ".py", ".md", ".txt", ".cmake", ".in", ".js",
        ".html", ".json", ".toml", ".cfg")
NAMES = ("Makefile", "run", "CMakeLists.txt")
PLACEHOLDER = re.compile(r'^[A-Z][A-Z_]+(\.|$)')
SKIP_DIRS = {"tests/fixtures", ".git"}


def exists(root, tok):
    full = os.path.join(root, tok)
    if "*" in tok:
        return bool(glob.glob(full, recursive=True))
    if os.path.exists(full):
        return True
    return any(os.path.exists(full + e) for e in (".c", ".cc", ".sh", ".py"))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = 0
    for dp, dns, fns in os.walk(root):
        rel = os.path.relpath(dp, root)
        dns[:] = sorted(d for d in dns
                        if not d.startswith((".", "build"))
                        and os.path.normpath(os.path.join(rel, d)) not in SKIP_DIRS)
        for fn in sorted(fns):
            if not (fn.endswith(EXTS) or fn in NAMES):
                continue
            path = os.path.normpath(os.path.join(rel, fn))
            if path.startswith("bench/") and fn.endswith(".md"):
                continue
            try:
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    lines = f.read().split("\n")
            except (UnicodeDecodeError, OSError):
                continue
            for ln, line in enumerate(lines, 1):
                for m in PATH.finditer(line):
                    tok = m.group(1).rstrip(".,;:)")
                    if m.group(2) or tok.endswith(("_", "-")):
                        continue  # cli/cmd_<verb>.c, bench/results-<name>.md
                    if exists(root, tok):
                        continue
                    if any(PLACEHOLDER.match(c) for c in tok.split("/")):
                        continue
                    print(f"{path}:{ln}: {tok} does not exist")
                    bad += 1
    sys.stdout.flush()
    print(f"check_paths: {bad} stale path(s)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
