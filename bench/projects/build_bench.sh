#!/bin/sh
# Builds one Debian source package several ways, in one run, in one
# directory (so paths and thus bytes are comparable), and prints wall times:
#   plain make -j2 | gg build (cold store) | gg infer alone | gg build after
#   `make clean` with every thunk memoized | ccache cold | ccache warm |
#   distcc to a distccd on 127.0.0.1 (2 jobs)
# and the ratios gg cold / plain, gg memoized / ccache warm.
# usage: bench/projects/build_bench.sh PACKAGE
#   PACKAGE: zlib hello lua5.4 jq sqlite3 curl fmtlib
# Needs root (gg infer's mount namespace), dpkg-dev, ccache, distcc, bc,
# autoconf/automake/libtool, the packages' build deps (scripts/setup), a
# deb-src line. GG: the gg binary (default build/src/cli/gg).
set -eu
pkg=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
GG=${GG:-$here/build/src/cli/gg}
work=$(mktemp -d /tmp/gg-bench-XXXXXX)
trap '[ -f $work/distccd.pid ] && kill $(cat $work/distccd.pid) 2>/dev/null; rm -rf "$work"' EXIT
. "$here/bench/projects/source.sh"
skip=""
[ "$pkg" = curl ] && skip=--skip-patches  # Debian's patches need autoreconf
extract_source "$pkg" "$work/src" $skip
cd "$work/src"

# Per package: configure, the build command, how to clean, and how the
# compilers are named on the build's command line (for ccache and distcc).
MAKE="make -j2"
CLEAN="make clean"
cc_vars() { echo "CC=$1gcc"; }
case $pkg in
  zlib) ./configure >/dev/null ;;
  lua5.4)
    mkdir debian/libtool && cp debian/configure.ac debian/libtool/
    (cd debian/libtool && LIBTOOLIZE='libtoolize -i' autoreconf -f -i && ./configure) >/dev/null 2>&1
    echo '#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"' >src/lua5.4-deb-multiarch.h
    MAKE="make -j2 linux-readline LIBTOOL=$work/src/debian/libtool/libtool"
    CLEAN="eval make clean; rm -rf src/.libs src/*.lo src/*.la"
    cc_vars() { echo "CC=$1gcc -std=gnu99"; echo "CXX=$1g++"; } ;;
  jq)
    autoreconf -fi >/dev/null 2>&1
    ./configure --disable-static --disable-docs --disable-maintainer-mode --with-oniguruma=yes >/dev/null ;;
  curl)
    ./configure --without-ssl --with-zlib --with-nghttp2 --disable-ldap --disable-ldaps --without-libpsl \
      --without-brotli --without-zstd --without-libidn2 --without-librtmp --without-libssh2 --without-libssh \
      --without-libgsasl --disable-manual >/dev/null ;;
  sqlite3) ./configure >/dev/null ;;
  fmtlib)
    mkdir build && cd build
    cmake -G Ninja -DCMAKE_BUILD_TYPE=Release -DFMT_TEST=OFF -DFMT_DOC=OFF -DBUILD_SHARED_LIBS=ON .. >/dev/null
    MAKE="ninja -j2"
    CLEAN="ninja clean"
    cc_vars() { :; }  # CMake: a compiler launcher, set below
    ;;
  *) [ -x configure ] || autoreconf -fi >/dev/null 2>&1; ./configure >/dev/null 2>&1 ;;
esac

# Wall time of a command; "nan" (and its log in $work/failed.log) if it failed.
t() { s=$(date +%s.%N); if "$@" >$work/last.log 2>&1; then e=$(date +%s.%N); echo "$e - $s" | bc; else cat $work/last.log >>$work/failed.log; cp $work/failed.log /tmp/gg-build-bench-failed.log; echo nan; fi; }
# The build with a compiler wrapper (ccache or distcc) in front of gcc.
wrapped() {
  wrapper=$1
  if [ "$pkg" = fmtlib ]; then
    cmake -DCMAKE_CXX_COMPILER_LAUNCHER="$wrapper" -DCMAKE_C_COMPILER_LAUNCHER="$wrapper" . >/dev/null
    t $MAKE
    cmake -UCMAKE_CXX_COMPILER_LAUNCHER -UCMAKE_C_COMPILER_LAUNCHER . >/dev/null
  else
    # shellcheck disable=SC2046
    IFS='
' ; set -- $(cc_vars "$wrapper "); unset IFS
    t $MAKE "$@"
  fi
}
ratio() { if [ "$1" = nan ] || [ "$2" = nan ]; then echo nan; else echo "scale=2; $1 / $2" | bc; fi; }

export GG_DIR=$work/gg
$GG init >/dev/null
capture=$(t $GG infer true)
load0=$(cut -d' ' -f1 /proc/loadavg)
plain=$(t $MAKE); $CLEAN >/dev/null 2>&1 || true
cold=$(t $GG build -j2 -- $MAKE); grep '^gg: build done' $work/last.log >$work/cold.txt || true; $CLEAN >/dev/null 2>&1 || true
infer=$(t $GG infer $MAKE)
# infer alone leaves placeholders (automake's .deps/*.Po too, which make
# includes): force them before cleaning.
find . -type f -size -4k -exec grep -l '^# gg-placeholder' {} + 2>/dev/null | xargs -r $GG force >/dev/null 2>&1
$CLEAN >/dev/null 2>&1 || true
memo=$(t $GG build -j2 -- $MAKE); grep '^gg: build done' $work/last.log >$work/memo.txt || true; $CLEAN >/dev/null 2>&1 || true
export CCACHE_DIR=$work/ccache
ccold=$(wrapped ccache); $CLEAN >/dev/null 2>&1 || true
cwarm=$(wrapped ccache); $CLEAN >/dev/null 2>&1 || true
distccd --daemon --allow 127.0.0.1 --listen 127.0.0.1 --port 3632 --pid-file $work/distccd.pid 2>/dev/null || true
sleep 0.5
mkdir -p $work/distcc; export DISTCC_HOSTS="127.0.0.1:3632/2" DISTCC_FALLBACK=0 DISTCC_DIR=$work/distcc
dcc=$(wrapped distcc)
load1=$(cut -d' ' -f1 /proc/loadavg)
printf '%-8s plain %6.2f | gg cold %6.2f | infer %6.2f | gg memoized %6.2f | ccache cold %6.2f warm %6.2f | distcc %6.2f | gg cold/plain %s | gg memo/ccache warm %s | capture %5.2f | load %s..%s\n' \
  "$pkg" "$plain" "$cold" "$infer" "$memo" "$ccold" "$cwarm" "$dcc" "$(ratio "$cold" "$plain")" \
  "$(ratio "$memo" "$cwarm")" "$capture" "$load0" "$load1"
sed "s/^/  cold: /" $work/cold.txt; sed "s/^/  memo: /" $work/memo.txt
