#!/usr/bin/python3
"""bench/peers/image_sections.py - where an estate image's bytes go.

    image_sections.py DATASET SNAPSHOT_FILE CIDRS

Reads the header and the section table of a snapshot file (the format at the
top of engine/image/snapshot.c) and prints one TSV line per section, in the
peers' results format (workload "image", impl "section:NAME", items = bytes),
plus "image-total" (the whole file) and "image-strings" (the STRINGS
section), so report.py can give bytes per CIDR with and without strings.
"""
import struct
import sys

NAMES = {1: "hot-v4", 2: "hot-v6", 3: "cold-v4", 4: "cold-v6", 5: "values-v4",
         6: "values-v6", 7: "entnode-v4", 8: "entnode-v6",  # 7, 8: format 1
         0x100: "estate-header", 0x101: "strings", 0x102: "accounts",
         0x103: "regions", 0x104: "vpcs", 0x105: "assocs", 0x106: "assoc-vpc",
         0x107: "peerings", 0x108: "vpc-pcx", 0x109: "edges", 0x10a: "tags",
         0x10b: "findings", 0x10c: "vpc-hash", 0x10d: "assoc-v6",
         0x10e: "vpc-extra", 0x10f: "assoc-pool", 0x110: "vpc-dir"}


def main():
    ds, path, cidrs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        img = f.read()
    if img[:8] != b"CIDRSCP\0":
        sys.exit("image_sections.py: %s is not a snapshot" % path)
    count = struct.unpack_from("<I", img, 28)[0]
    table = struct.unpack_from("<Q", img, 88)[0]
    note = "%d CIDRs" % cidrs
    out = []
    used = 0
    for k in range(count):
        sid, _, off, length, _ = struct.unpack_from("<IIQQQ", img, table + 32 * k)
        used += length
        out.append((NAMES.get(sid, "0x%x" % sid), length))
    out.append(("header-and-padding", len(img) - used))
    for name, length in out:
        print("%s\tall\timage\tsection:%s\t%d\t0\t0\t0\t1\t%s" % (ds, name, length, note))
    print("%s\tall\timage\timage-total\t%d\t0\t0\t0\t1\t%s" % (ds, len(img), note))


if __name__ == "__main__":
    main()
