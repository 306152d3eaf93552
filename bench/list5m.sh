#!/bin/sh
# bench/list5m.sh FILE — writes the prefix list of issue 13 item 12 to FILE
# (used by bench/ingest_bench.sh and bench/memory.sh): a header, 4,999,998
# random IPv4 prefixes of 8 owners (lengths /16../32, host bits clear), then
# a line with a bad address, 5,000,000 lines in all (116 MB).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 FILE" >&2; exit 2; }
awk 'BEGIN { srand(7); print "owner,prefix";
  split("aws azure gcp cloudflare fastly oracle digitalocean akamai", o, " ");
  split("16 20 22 24 24 24 28 32", L, " ");
  for (i = 0; i < 4999998; i++) { l = L[1 + int(rand() * 8)];
    a = int(rand() * 256); b = int(rand() * 256); c = int(rand() * 256); d = int(rand() * 256);
    if (l <= 16) { c = 0; d = 0 } else if (l <= 24) { d = 0; if (l == 20) c -= c % 16; if (l == 22) c -= c % 4 }
    else if (l == 28) d -= d % 16;
    printf "%s,%d.%d.%d.%d/%d\n", o[1 + i % 8], a, b, c, d, l }
  print "aws,10.0.0.300/24" }' > "$1"
