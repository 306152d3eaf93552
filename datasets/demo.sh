#!/bin/sh
# The main job of `make demo`, on the bundled sample. $1: the cidrscope binary.
set -eu
bin=${1:-build/cidrscope}
here=$(dirname "$0")
echo "== cidrscope overlaps datasets/sample-prefixes.csv"
"$bin" overlaps "$here/sample-prefixes.csv"
