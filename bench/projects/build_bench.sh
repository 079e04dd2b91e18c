#!/bin/sh
# Builds one Debian source package several ways, in one run, in one
# directory (so paths and thus bytes are comparable), and prints wall times:
#   plain make -j2 | gg build (cold) | gg infer alone | gg build, no change
#   (after `make clean`: every thunk memoized) | ccache cold | ccache warm |
#   distcc to a distccd on 127.0.0.1.
# usage: bench/projects/build_bench.sh PACKAGE   (zlib, hello, lua5.4, jq, ...)
# Needs root (gg infer's mount namespace), dpkg-dev, ccache, distcc, a
# deb-src line. GG: the gg binary (default build/src/cli/gg).
set -eu
pkg=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
GG=${GG:-$here/build/src/cli/gg}
cache=${GG_TEST_CACHE:-/var/cache/gg-test-sources}
work=$(mktemp -d /tmp/gg-bench-XXXXXX)
trap '[ -f $work/distccd.pid ] && kill $(cat $work/distccd.pid) 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$cache"
ls "$cache"/${pkg}_*.dsc >/dev/null 2>&1 || (cd "$cache" && apt-get source -qq --download-only "$pkg")
dpkg-source -x --no-check "$(ls "$cache"/${pkg}_*.dsc | tail -1)" "$work/src" >/dev/null
cd "$work/src"
case $pkg in
  zlib) ./configure >/dev/null ;;
  lua5.4) : ;;  # Debian's tree builds with its own Makefile
  *) [ -x configure ] || autoreconf -fi >/dev/null 2>&1; ./configure >/dev/null 2>&1 ;;
esac
MAKE="make -j2"
# Wall time of a command; "nan" (and its log in $work/failed.log) if it failed.
t() { s=$(date +%s.%N); if "$@" >$work/last.log 2>&1; then e=$(date +%s.%N); echo "$e - $s" | bc; else cat $work/last.log >>$work/failed.log; cp $work/failed.log /tmp/gg-build-bench-failed.log; echo nan; fi; }
export GG_DIR=$work/gg
$GG init >/dev/null
capture=$(t $GG infer true)
plain=$(t $MAKE); make clean >/dev/null 2>&1
cold=$(t $GG build -j2 -- $MAKE); make clean >/dev/null 2>&1
infer=$(t $GG infer $MAKE); make clean >/dev/null 2>&1
memo=$(t $GG build -j2 -- $MAKE); make clean >/dev/null 2>&1
export CCACHE_DIR=$work/ccache
ccold=$(t $MAKE CC="ccache gcc"); make clean >/dev/null 2>&1
cwarm=$(t $MAKE CC="ccache gcc"); make clean >/dev/null 2>&1
distccd --daemon --allow 127.0.0.1 --listen 127.0.0.1 --port 3632 --pid-file $work/distccd.pid 2>/dev/null || true
sleep 0.5
mkdir -p $work/distcc; export DISTCC_HOSTS="127.0.0.1:3632/2" DISTCC_FALLBACK=0 DISTCC_DIR=$work/distcc
dcc=$(t $MAKE CC="distcc gcc")
printf '%-8s plain %6.2f | gg cold %6.2f | infer %6.2f | gg memoized %6.2f | ccache cold %6.2f warm %6.2f | distcc %6.2f | (toolchain capture %5.2f)\n' \
  "$pkg" "$plain" "$cold" "$infer" "$memo" "$ccold" "$cwarm" "$dcc" "$capture"
