#!/bin/sh
# tests/support/check_install.sh BUILD_DIR SOURCE_DIR — the install, seen from
# a consumer: `cmake --install` into a temporary prefix, check what landed
# (headers, libcidrscope.a, libcidrscope.so with its soname, cidrscope.pc, the
# CMake package), then build examples/estate_lookup.c against the INSTALLED
# library twice — with pkg-config (shared and --static) and with
# find_package(cidrscope) — run each on datasets/sample and check their
# answers against the installed command's.
set -eu
BUILD=$1
SRC=$2
src=$SRC
. "$SRC/tests/cli/lib.sh"
T=$tmp
PREFIX=$T/prefix

cmake --install "$BUILD" --prefix "$PREFIX" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; die "cmake --install failed"; }

PC=$(find "$PREFIX" -name cidrscope.pc | head -n 1)
[ -n "$PC" ] || die "cidrscope.pc not installed"
LIBDIR=$(dirname "$(dirname "$PC")")
for f in "$PREFIX/include/cidrscope/cidrscope.h" "$PREFIX/include/cidrscope/estate.h" \
         "$LIBDIR/libcidrscope.a" "$LIBDIR/libcidrscope.so" "$LIBDIR/libcidrscope.so.0" \
         "$LIBDIR/cmake/cidrscope/cidrscopeConfig.cmake" \
         "$LIBDIR/cmake/cidrscope/cidrscopeConfigVersion.cmake" "$PREFIX/bin/cidrscope"; do
    [ -e "$f" ] || die "not installed: $f"
done
soname=$(readelf -d "$LIBDIR/libcidrscope.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = libcidrscope.so.0 ] || die "soname is '$soname', want libcidrscope.so.0"

CC=${CC:-cc}
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
[ "$(pkg-config --modversion cidrscope)" = "$(sed -n 's/^Version: //p' "$PC")" ] || die "pkg-config cannot read cidrscope.pc"
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror -o "$T/ex_pc" "$SRC/examples/estate_lookup.c" \
    $(pkg-config --cflags --libs cidrscope) -Wl,-rpath,"$LIBDIR" || die "pkg-config build (shared) failed"
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror -o "$T/ex_static" "$SRC/examples/estate_lookup.c" \
    $(pkg-config --cflags cidrscope) "$LIBDIR/libcidrscope.a" \
    $(pkg-config --static --libs-only-l --libs-only-other cidrscope | sed 's/-lcidrscope//') \
    || die "pkg-config build (static) failed"
readelf -d "$T/ex_pc" | grep -q 'NEEDED.*libcidrscope.so.0' || die "ex_pc does not link libcidrscope.so.0"

cmake -S "$SRC/examples" -B "$T/exb" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_BUILD_RPATH="$LIBDIR" >"$T/exb.log" 2>&1 || { cat "$T/exb.log" >&2; die "find_package(cidrscope) failed"; }
cmake --build "$T/exb" >>"$T/exb.log" 2>&1 || { cat "$T/exb.log" >&2; die "find_package build failed"; }

EST=$SRC/datasets/sample
Q=10.0.0.0/8
A=172.31.7.7
CLI=$PREFIX/bin/cidrscope
want_count=$("$CLI" query -e "$EST" --count "$Q")
"$CLI" query -e "$EST" --format csv "$Q" | tail -n +2 | cut -d, -f2,4,5 | tr , ' ' | sort >"$T/want_blocks"
[ -s "$T/want_blocks" ] || die "the installed command found no block for $Q"
"$CLI" lookup -e "$EST" --format csv "$A" | tail -n +2 | cut -d, -f2,4 | tr , ' ' >"$T/want_lookup"

for ex in "$T/ex_pc" "$T/ex_static" "$T/exb/estate_lookup"; do
    "$ex" "$EST" "$Q" "$A" >"$T/out" || die "$ex exited $?"
    [ "$(sed -n 1p "$T/out")" = "overlaps $Q: $want_count" ] || die "$ex: count '$(sed -n 1p "$T/out")', want $want_count"
    grep '^  ' "$T/out" | sed 's/^  //' | sort >"$T/got_blocks"
    cmp -s "$T/got_blocks" "$T/want_blocks" || { diff "$T/want_blocks" "$T/got_blocks" >&2; die "$ex: blocks differ from the command's"; }
    got=$(sed -n "s/^lookup $A: //p" "$T/out")
    grep -qxF "$got" "$T/want_lookup" || die "$ex: lookup '$got' is not one of the command's answers"
done
echo "install: headers, libs (soname libcidrscope.so.0), cidrscope.pc, CMake package; example built 3 ways and agrees"
