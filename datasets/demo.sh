#!/bin/sh
# The main job of `make demo`: the org-wide overlap audit of the bundled
# sample estate (datasets/sample: 6 accounts x 2 regions, AWS CLI JSON).
# $1: the cidrscope binary.
set -eu
bin=${1:-build/cidrscope}
here=$(dirname "$0")
echo "== cidrscope audit datasets/sample"
"$bin" audit --format text "$here/sample"
report=$(cd "$(dirname "$bin")" && pwd)/sample-report.html
"$bin" audit --format html -o "$report" "$here/sample"
echo "== the same audit as one HTML page (address-space maps, peering graph, tables):"
echo "$report"
