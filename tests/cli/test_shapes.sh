#!/bin/sh
# tests/cli/test_shapes.sh — the JSON inventories beyond describe-*, from the
# command line: get-ipam-resource-cidrs output and AWS Config query results
# for AWS::EC2::VPC, as -e FILE and inside an estate directory; IPAM's
# OverlapStatus compared with cidrscope's answer in `stat --findings`;
# errors with file, line, column and caret (exit 2).
# usage: sh test_shapes.sh CLI SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
cd "$src" || exit 1
ipam=tests/fixtures/ipam
cfg=tests/fixtures/config

# IPAM: 4 VPCs of 3 accounts (a subnet record is not a VPC), one CIDR where
# IPAM's answer differs from ours, named with both answers.
expect_rc 0 "$cli" stat --findings -e $ipam/org.json
expect_in "$tmp/out" "$ipam/org.json:85:9: ipam-overlap-mismatch: IPAM says 10.2.0.0/16 of vpc-0ddddddddddddddd1 is nonoverlapping; cidrscope finds it overlapping"
expect_rc 0 "$cli" stat --format json -e $ipam/org.json
cp "$tmp/out" "$tmp/ipam-stat.json"
py - "$tmp/ipam-stat.json" <<'PY' || fail "stat of IPAM output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["vpcs"] == 4 and d["accounts"] == 3 and d["regions"] == 3, d
PY
py tests/cli/schema_check.py docs/schema/stat.schema.json "$tmp/ipam-stat.json" ||
    fail "stat JSON of IPAM input does not match its schema"
# the overlaps IPAM reports are in the audit too
expect_rc 0 "$cli" audit --format json -e $ipam/org.json
py - "$tmp/out" <<'PY' || fail "audit of IPAM output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["overlapping_vpc_pairs"] == 2, d["summary"]
PY

# Read once from a pipe: the shape is told from the first bytes read.
expect_rc 0 sh -c "cat $ipam/org.json | '$cli' stat --findings -"
expect_in "$tmp/out" "ipam-overlap-mismatch: IPAM says 10.2.0.0/16"
expect_rc 0 sh -c "cat $cfg/vpcs.json | '$cli' stat --format json -"
expect_in "$tmp/out" '"vpcs": 4'

# Config: 4 VPCs, one default, a disassociated block, a UTF-8 Name tag.
expect_rc 0 "$cli" stat --format json -e $cfg/vpcs.json
py - "$tmp/out" <<'PY' || fail "stat of Config output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["vpcs"] == 4 and d["default_vpcs"] == 1, d
PY
# An error inside a result's string: the file's line and column, a caret.
expect_rc 2 "$cli" stat -e $cfg/bad-cidr.json
expect_in "$tmp/err" "$cfg/bad-cidr.json:4:507: \"cidrBlock\": prefix length 33 out of range"
expect_in "$tmp/err" "^^"
expect_rc 2 "$cli" stat -e $ipam/bad.json
expect_in "$tmp/err" "$ipam/bad.json:36:39:"
# keep-going: rejected and incomplete-page findings, the rest read
expect_rc 0 "$cli" stat --keep-going --findings -e $cfg/bad-cidr.json
expect_in "$tmp/out" "incomplete-page"
expect_in "$tmp/out" "rejected-input"

# The same shapes inside ESTATE/ACCOUNT/REGION/, told apart by content, with
# a README listed as skipped.
d="$tmp/estate/111111111111/us-east-1"
mkdir -p "$d"
cp $ipam/org.json "$d/resource-cidrs.json"
cp $cfg/unknown-state.json "$d/config.json"
echo "exported by hand" >"$d/README"
expect_rc 0 "$cli" stat --findings -e "$tmp/estate"
expect_in "$tmp/out" "skipped-file"
expect_in "$tmp/out" "README"
expect_in "$tmp/out" "ipam-overlap-mismatch"
expect_rc 0 "$cli" stat --format json -e "$tmp/estate"
py - "$tmp/out" <<'PY' || fail "IPAM and Config files in one region directory"
import json, sys
d = json.load(open(sys.argv[1]))
# the VPC in both files is merged
assert d["vpcs"] == 4, d["vpcs"]
PY

# A record without owner and region takes --source-account/--source-region.
printf '{"IpamResourceCidrs": [{"ResourceType": "vpc", "ResourceId": "vpc-01", "ResourceCidr": "10.9.0.0/16"}]}\n' >"$tmp/bare.json"
expect_rc 2 "$cli" stat -e "$tmp/bare.json"
expect_in "$tmp/err" "ResourceOwnerId"
expect_rc 0 "$cli" stat --format json --source-account 123456789012 --source-region eu-west-1 -e "$tmp/bare.json"
expect_in "$tmp/out" '"accounts": 1'

finish test_shapes.sh
