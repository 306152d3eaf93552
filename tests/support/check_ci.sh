#!/bin/sh
# tests/support/check_ci.sh SOURCE_DIR — `.ci/run` fails when any step
# fails (ctest `ci_fails`). Runs the real .ci/run and Makefile in a scratch
# copy with stand-ins for cmake, ctest, the fuzz targets and the dependency
# installer, once per failure (a failing test suite, a failing sanitizer
# configure, a failing build, a failing fuzz target, no fuzz target built,
# a failing installer), each under sh and bash: every one must end non-zero
# without "CI passed"; with nothing failing it must pass.
set -u
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cidrscope-ci.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/repo/.ci" "$tmp/repo/scripts" "$tmp/repo/tests/fuzz"
cp "$src/.ci/run" "$tmp/repo/.ci/run"
cp "$src/Makefile" "$tmp/repo/Makefile"
cp "$src/tests/fuzz/run.sh" "$tmp/repo/tests/fuzz/run.sh"
echo 'exit ${FAIL_DEPS:-0}' >"$tmp/repo/scripts/install-deps.sh"
cat >"$tmp/bin/cmake" <<'FAKE_CMAKE'
#!/bin/sh
if [ -n "${FAIL_CMAKE:-}" ]; then
    case " $* " in *"$FAIL_CMAKE"*) echo "stand-in cmake: failing on $FAIL_CMAKE" >&2; exit 1 ;; esac
fi
prev=
for a in "$@"; do
    [ "$prev" = "-B" ] && mkdir -p "$a"
    if [ "$prev" = "--build" ] && [ "$a" = build-fuzz ] && [ -z "${NO_FUZZ:-}" ]; then
        printf '#!/bin/sh\necho "Done 1 runs"; exit ${FAIL_FUZZ:-0}\n' >build-fuzz/fuzz_standin
        chmod +x build-fuzz/fuzz_standin
    fi
    prev=$a
done
exit 0
FAKE_CMAKE
printf '#!/bin/sh\nexit ${FAIL_CTEST:-0}\n' >"$tmp/bin/ctest"
chmod +x "$tmp/bin/cmake" "$tmp/bin/ctest"

failures=0
run() { # run SHELL WANT(pass|fail) VAR=VALUE
    sh_=$1 want=$2
    shift 2
    rm -rf "$tmp/repo"/build*
    (cd "$tmp/repo" && env PATH="$tmp/bin:$PATH" CS_FUZZ_SECONDS=1 "$@" "$sh_" .ci/run) \
        >"$tmp/log" 2>&1
    rc=$?
    passed=no
    grep -q "CI passed" "$tmp/log" && passed=yes
    if [ "$want" = pass ] && { [ "$rc" -ne 0 ] || [ $passed = no ]; }; then
        echo "FAIL: $sh_ .ci/run with $*: exit $rc, expected a pass" >&2
        tail -n 5 "$tmp/log" >&2
        failures=$((failures + 1))
    elif [ "$want" = fail ] && { [ "$rc" -eq 0 ] || [ $passed = yes ]; }; then
        echo "FAIL: $sh_ .ci/run with $*: exit $rc, 'CI passed' $passed; expected a failure" >&2
        failures=$((failures + 1))
    fi
}
for shell in sh bash; do
    run $shell pass NOTHING=0
    run $shell fail FAIL_DEPS=3
    run $shell fail FAIL_CTEST=8
    run $shell fail FAIL_CMAKE=CS_SANITIZE=ON
    run $shell fail FAIL_CMAKE=--build
    run $shell fail FAIL_FUZZ=1
    run $shell fail NO_FUZZ=1
done
[ "$failures" -eq 0 ] || exit 1
echo "check_ci: .ci/run fails on each of 6 failing steps and passes otherwise (sh and bash)"
