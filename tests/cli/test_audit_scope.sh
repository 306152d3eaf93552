#!/bin/sh
# tests/cli/test_audit_scope.sh — `cidrscope audit` scopes and drift on
# the identity of VPC pairs (issue 11, items 5 and 9): a scope value that
# matches nothing (--accounts one digit short, --regions us-est-1, --tag
# Environmnet=prod, a domain member tag nobody carries) exits 2 naming the
# value, where it used to print an empty audit and exit 0; a value that
# exists only in the newer estate is fine with --baseline; adding a VPC on
# 10.1.0.0/16 to the sample makes a group appear and nothing disappear.
#
# usage: sh tests/cli/test_audit_scope.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"
cd "$src" || exit 1

# expect_named VALUE: the last command's stderr names VALUE.
expect_named() {
    expect_in "$tmp/err" "$1"
}

S=datasets/sample
expect_rc 0 "$cli" audit --format json --accounts 274658481829 $S
expect_rc 2 "$cli" audit --format json --fail-on high --accounts 27465848182 $S
expect_named 27465848182
expect_rc 2 "$cli" audit --format json --fail-on high --regions us-east-1,us-est-1 $S
expect_named us-est-1
expect_rc 0 "$cli" audit --format json --tag Environment=staging $S
expect_rc 2 "$cli" audit --format json --fail-on high --tag Environmnet=prod $S
expect_named Environmnet=prod
printf 'domain,member\nprod,tag:Environmnet=prod\n' >"$tmp/dom.csv"
expect_rc 2 "$cli" audit --format json --domain "$tmp/dom.csv" $S
expect_named "$tmp/dom.csv:2:"

# the other verb with filters: candidates --region / --account
expect_rc 0 "$cli" candidates --format json --account 274658481829 -e $S vpc-04d728046765bf61e
expect_rc 2 "$cli" candidates --format json --account 27465848182 -e $S vpc-04d728046765bf61e
expect_named 27465848182
expect_rc 2 "$cli" candidates --format json --region us-est-1 -e $S vpc-04d728046765bf61e
expect_named us-est-1

# drift: one more VPC on 10.1.0.0/16 (in a new account, so the scope of
# that account matches nothing in the baseline: not an error there)
printf 'account,region,vpc_id,cidr\n111111111111,us-east-1,vpc-0extra00000000001,10.1.0.0/16\n' \
    >"$tmp/extra.csv"
expect_rc 0 "$cli" audit --format text --baseline $S $S "$tmp/extra.csv"
grep -q '1 appeared, 0 changed, 0 disappeared' "$tmp/out" ||
    fail "adding a VPC on 10.1.0.0/16: $(grep -i appeared "$tmp/out")"
grep -q '+ HIGH      10.1.0.0/16 held by 2 VPCs' "$tmp/out" || fail "the group did not appear"
expect_rc 0 "$cli" audit --format text --baseline $S --baseline "$tmp/extra.csv" $S
grep -q '0 appeared, 0 changed, 1 disappeared' "$tmp/out" ||
    fail "removing it again: $(grep -i appeared "$tmp/out")"
expect_rc 0 "$cli" audit --format json --accounts 111111111111 --baseline $S $S "$tmp/extra.csv"
expect_rc 0 "$cli" audit --format text --what-if "$tmp/extra.csv" $S
grep -q '1 appeared, 0 changed, 0 disappeared' "$tmp/out" ||
    fail "what-if of the same VPC: $(grep -i appeared "$tmp/out")"

finish test_audit_scope.sh
