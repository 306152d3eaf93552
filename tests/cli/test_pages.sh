#!/bin/sh
# tests/cli/test_pages.sh — issue 11 item 1's acceptance: an estate tree
# whose describe-vpcs output is saved as pages (several files per region,
# concatenated documents, a `jq -s` array of pages; a README beside) gives
# the same `stat` and `audit` figures as the unsplit tree, and the README is
# listed as a skipped file; first on datasets/sample and small generated
# trees in each form, then on a 100,000-VPC tree split into files of 7
# VPCs. Also: a page naming a NextToken and rejected input are seen by stat,
# every audit format and --fail-on. About 21 s of CPU (mostly the 100,000-VPC
# tree: 183 MB of JSON written, split and read four times).
#
# usage: sh tests/cli/test_pages.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

# split_pages TREE MODE: rewrites every vpcs.json of TREE as pages of 7 VPCs:
# MODE files (vpcs.json, vpcs-2.json, ...), cat (documents one after the
# other in vpcs.json) or slurp (one array of pages); adds a README beside.
split_pages() {
    python3 - "$1" "$2" <<'PY'
import json, os, sys
tree, mode = sys.argv[1], sys.argv[2]
for root, dirs, files in os.walk(tree):
    if 'vpcs.json' not in files:
        continue
    path = os.path.join(root, 'vpcs.json')
    with open(path) as f:
        vpcs = json.load(f)['Vpcs']
    pages = [{'Vpcs': vpcs[i:i + 7]} for i in range(0, max(len(vpcs), 1), 7)]
    os.remove(path)
    if mode == 'files':
        for n, p in enumerate(pages):
            name = 'vpcs.json' if n == 0 else 'vpcs-%d.json' % (n + 1)
            with open(os.path.join(root, name), 'w') as f:
                json.dump(p, f)
    elif mode == 'cat':
        with open(path, 'w') as f:
            for p in pages:
                json.dump(p, f)
                f.write('\n')
    else:
        with open(path, 'w') as f:
            json.dump(pages, f)
    with open(os.path.join(root, 'README'), 'w') as f:
        f.write('pages of aws ec2 describe-vpcs\n')
PY
}

# summary_of FILE: the audit JSON's summary object, keys sorted.
summary_of() {
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["summary"], sort_keys=True))' "$1"
}

# stat_figures FILE: stat JSON without the image size and without the
# skipped-file findings the READMEs add.
stat_figures() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("image_bytes", None)
k = d["findings_by_kind"]
d["findings"] -= k.pop("skipped-file", 0)
print(json.dumps(d, sort_keys=True))' "$1"
}

# paged_equal TREE MODE: TREE's stat and audit figures, then TREE split in
# place into pages (MODE), read again: the same figures, READMEs listed.
paged_equal() {
    expect_rc 0 "$cli" stat --format json "$1"
    stat_figures "$tmp/out" >"$tmp/stat.want"
    expect_rc 0 "$cli" audit --format json "$1"
    summary_of "$tmp/out" >"$tmp/audit.want"
    split_pages "$1" "$2"
    expect_rc 0 "$cli" stat --format json --findings "$1"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["stat"]))' "$tmp/out" >"$tmp/stat.got.raw"
    stat_figures "$tmp/stat.got.raw" >"$tmp/stat.got"
    cmp -s "$tmp/stat.want" "$tmp/stat.got" || fail "pages ($2): stat differs: $(diff "$tmp/stat.want" "$tmp/stat.got" | head -5)"
    grep -q '"kind": "skipped-file"' "$tmp/out" || fail "pages ($2): README not listed as skipped"
    expect_rc 0 "$cli" audit --format json "$1"
    summary_of "$tmp/out" >"$tmp/audit.got"
    cmp -s "$tmp/audit.want" "$tmp/audit.got" || fail "pages ($2): audit summary differs: $(diff "$tmp/audit.want" "$tmp/audit.got" | head -5)"
}

command -v python3 >/dev/null 2>&1 || die "python3 is needed (scripts/install-deps.sh installs it)"

# A page still naming a NextToken: an incomplete-page finding naming the
# file that stat lists, the audit reports in every format, and --fail-on
# counts as high (issue 11 items 1 and 8).
printf '{"Vpcs": [{"VpcId": "vpc-0a000000000000001", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}]}\n' >"$tmp/whole.json"
printf '{"Vpcs": [{"VpcId": "vpc-0a000000000000001", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}],\n "NextToken": "eyJ2IjoxfQ=="}\n' >"$tmp/cut.json"
expect_rc 0 "$cli" audit --fail-on high --source-region us-east-1 -e "$tmp/whole.json"
expect_rc 1 "$cli" audit --fail-on high --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" '"incomplete_pages": 1'
expect_rc 0 "$cli" audit --fail-on critical --source-region us-east-1 -e "$tmp/cut.json"
expect_rc 0 "$cli" stat --findings --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" "cut.json:2:15: incomplete-page:"
expect_in "$tmp/out" "incomplete pages     1"
expect_rc 0 "$cli" stat --format json --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" '"incomplete_pages": 1'
expect_rc 0 "$cli" audit --format text --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" "Incomplete pages"
expect_in "$tmp/out" "cut.json:2:15:"
expect_rc 0 "$cli" audit --format csv --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" "incomplete-page,incomplete,high,"
expect_rc 0 "$cli" audit --format ndjson --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" '{"type":"incomplete-page","source":'
expect_rc 0 "$cli" audit --format html --source-region us-east-1 -e "$tmp/cut.json"
expect_in "$tmp/out" "incomplete pages"
# rejected input: split into records and files in stat and audit, high for
# --fail-on
mkdir -p "$tmp/est/111111111111/us-east-1"
cp "$tmp/whole.json" "$tmp/est/111111111111/us-east-1/vpcs.json"
ln -s loop.json "$tmp/est/111111111111/us-east-1/loop.json" # unreadable: a file
printf '{"Vpcs": [{"VpcId": "vpc-0a000000000000002", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/33"}]}\n' >"$tmp/badrec.json"
expect_rc 0 "$cli" stat --format json --keep-going -e "$tmp/est" --source-region us-east-1 -e "$tmp/badrec.json"
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert (d["rejected_records"], d["rejected_files"], d["rejected"]) == (1, 1, 2), d' "$tmp/out" ||
    fail "stat: rejected records and files: $(cat "$tmp/out")"
expect_rc 1 "$cli" audit --fail-on high --keep-going -e "$tmp/est" --source-region us-east-1 -e "$tmp/badrec.json"
py -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; assert (s["rejected_records"], s["rejected_files"]) == (1, 1), s' "$tmp/out" ||
    fail "audit: rejected records and files"

# The sample tree split into pages gives the same figures.
cp -R "$src/datasets/sample" "$tmp/sample"
paged_equal "$tmp/sample" files
rm -rf "$tmp/sample"

expect_rc 0 "$cli" gen --help
{
    for mode in files cat slurp; do
        rm -rf "$tmp/small"
        expect_rc 0 "$cli" gen --seed 7 --accounts 6 --regions 3 --vpcs-per-region 20 --out "$tmp/small" -q
        paged_equal "$tmp/small" "$mode"
        if [ "$mode" = files ]; then
            [ -n "$(find "$tmp/small" -name vpcs-3.json | head -n 1)" ] || fail "small tree not split into pages"
        fi
    done
    rm -rf "$tmp/small"
    # The acceptance case: 100,000 VPCs (100 accounts x 25 regions x 40)
    # saved as pages of 7 (6 page files a region).
    expect_rc 0 "$cli" gen --seed 5 --accounts 100 --regions 25 --vpcs-per-region 40 --out "$tmp/big" -q
    paged_equal "$tmp/big" files
    [ -n "$(find "$tmp/big" -name vpcs-6.json | head -n 1)" ] || fail "the 100,000-VPC tree was not split into pages"
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vpcs"])' "$tmp/stat.got.raw")" -ge 100000 ] ||
        fail "generated tree: fewer than 100,000 VPCs"
    rm -rf "$tmp/big"
}

finish test_pages
