#!/bin/sh
# tests/cli/test_map_browser.sh — the HTML report and the map page in headless
# Chromium (tests/browser/test_report.py does the checking): the sample
# estate's `audit --format html`, a 100k-VPC generated estate's, and
# `cidrscope map --pool`. No console error, one shape per live block of every
# map (counted independently from the sources), hover names the VPC, a click
# on a cluster zooms, the account filter hides the other accounts, and a
# 1280x800 screenshot of each lands in the build folder (report-*.png).
#
# Needs Debian's chromium, chromium-driver and python3-selenium: installed
# here when missing (as root, through apt-get); the test skips, saying so,
# only when they cannot be installed.
#
# usage: sh tests/cli/test_map_browser.sh CLI_PATH SOURCE_DIR
set -u
cli=$1
src=$2
build=$(cd "$(dirname "$cli")" && pwd)
. "$src/tests/cli/lib.sh"

# A python that has selenium (Debian's, not a pyenv shim without it).
find_python() {
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import selenium' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

have_all() {
    find_python >/dev/null && command -v chromium >/dev/null 2>&1 &&
        { command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ]; }
}

if ! have_all; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium chromium-driver python3-selenium ..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
            python3-selenium >"$tmp/apt.log" 2>&1 ||
            { apt-get update -q >>"$tmp/apt.log" 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
                  python3-selenium >>"$tmp/apt.log" 2>&1; }
    fi
fi
if ! have_all; then
    echo "SKIP: the browser test needs the Debian packages chromium, chromium-driver and" \
         "python3-selenium, which are missing and could not be installed" \
         "(run scripts/install-deps.sh as root)"
    exit 0
fi
py=$(find_python)
check="$py $src/tests/browser/test_report.py"

# ---- the sample estate: the audit report and the map page --------------------------
"$cli" audit --format html -o "$build/report-sample.html" "$src/datasets/sample" 2>"$tmp/err" ||
    fail "audit of the sample: $(head -c 400 "$tmp/err")"
$check "$build/report-sample.html" "$src/datasets/sample" --shot "$build/report-sample.png" ||
    fail "the sample's report in Chromium"
"$cli" map -e "$src/datasets/sample" --pool 10.0.0.0/9 --color-by severity \
    -o "$build/map-sample.html" 2>"$tmp/err" || fail "map of the sample: $(head -c 400 "$tmp/err")"
$check "$build/map-sample.html" "$src/datasets/sample" --shot "$build/map-sample.png" ||
    fail "the sample's map page in Chromium"

# ---- 100,000 generated VPCs -----------------------------------------------------------
"$cli" gen --seed 7 --accounts 500 --regions 4 --vpcs-per-region 50 --format csv \
    --out "$tmp/e100k.csv" -q 2>"$tmp/err" || fail "gen: $(head -c 400 "$tmp/err")"
"$cli" audit --format html -o "$build/report-100k.html" "$tmp/e100k.csv" \
    "$tmp/e100k-peering.csv" 2>"$tmp/err" || fail "audit of 100k VPCs: $(head -c 400 "$tmp/err")"
$check "$build/report-100k.html" "$tmp/e100k.csv" --shot "$build/report-100k.png" ||
    fail "the 100k-VPC report in Chromium"

finish map_browser
