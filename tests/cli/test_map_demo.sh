#!/bin/sh
# tests/cli/test_map_demo.sh — `make demo`'s job (datasets/demo.sh): the text
# audit of the sample estate, then its HTML report written beside the
# command, and the report's path as the last line printed. The report opens
# offline (no external resource) and holds the maps and the findings
# tables. (`make screenshot` renders the same file to
# docs/report.png; tests/cli/test_map_browser.sh renders it in Chromium.)
#
# usage: sh tests/cli/test_map_demo.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
. "$src/tests/cli/lib.sh"

sh "$src/datasets/demo.sh" "$cli" >"$tmp/out" 2>"$tmp/err" || fail "demo.sh exited $?: $(head -c 300 "$tmp/err")"
grep -q "overlapping" "$tmp/out" || fail "the demo printed no text audit"
report=$(tail -n 1 "$tmp/out")
case $report in
/*.html) ;;
*) fail "the demo's last line is not the report's absolute path: $report" ;;
esac
[ -s "$report" ] || fail "the demo's report $report is missing or empty"
[ "$(dirname "$report")" = "$(cd "$(dirname "$cli")" && pwd)" ] ||
    fail "the report is not in the build folder: $report"
grep -q '<svg class="csm"' "$report" || fail "the report has no address-space map"
grep -q '<table class="cs-pg"' "$report" || fail "the report has no findings table"
grep -Eq '(src|href)="(https?:)?//' "$report" && fail "the report loads something from the network"
grep -q '@import' "$report" && fail "the report imports a style sheet"

finish map_demo
