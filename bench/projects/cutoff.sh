#!/bin/sh
# Staged-compile cut-off on a real project, in one run: after a comment is
# added to a header most files include, how long does a rebuild take, and
# how many compiles run again — `make -j2` (recompiles every dependent) vs
# `gg build -- make -j2` (discovery thunks run again; compiles whose
# preprocessed text is unchanged are memoized). Then the same for a header
# edit that changes code.
# usage: bench/projects/cutoff.sh [PACKAGE HEADER]   (default: zlib zutil.h)
# Needs root (gg infer's mount namespace), dpkg-dev, a deb-src line.
set -eu
pkg=${1:-zlib}
header=${2:-zutil.h}
here=$(cd "$(dirname "$0")/../.." && pwd)
GG=${GG:-$here/build/src/cli/gg}
work=$(mktemp -d /tmp/gg-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/bench/projects/source.sh"
extract_source "$pkg" "$work/src"
cd "$work/src"
./configure >/dev/null 2>&1
export GG_DIR=$work/gg
"$GG" init >/dev/null
now() { date +%s.%N; }
# Runs "$@", prints its wall time; its stderr goes to $work/last.
timed() { s=$(now); "$@" >/dev/null 2>"$work/last"; e=$(now); echo "$e - $s" | bc -l | xargs printf %.2f; }
ran() { sed -n 's/.*thunks (\([0-9]*\) ran.*/\1/p' "$work/last"; }

make -j2 >/dev/null 2>&1
objects=$(ls *.o | wc -l)
"$GG" infer true >/dev/null 2>&1  # the toolchain capture, once
make clean >/dev/null
scratch=$(timed "$GG" build -j2 -- make -j2); scratch_ran=$(ran)

# 1. A comment after the include guard: the preprocessed text is the same.
sed -i '0,/^#ifndef/s|^\(#ifndef.*\)$|\1 /* edited */|' "$header"
s=$(now); make -j2 >"$work/make.log" 2>&1; e=$(now)
touch_make=$(echo "$e - $s" | bc -l | xargs printf %.2f)
make_recompiled=$(grep -c -- ' -c ' "$work/make.log" || true)
make clean >/dev/null
comment=$(timed "$GG" build -j2 -- make -j2); comment_ran=$(ran)

# 2. A new declaration: every file that includes the header compiles again.
echo "extern int gg_bench_unused_$$;" >> "$header"
make clean >/dev/null
code=$(timed "$GG" build -j2 -- make -j2); code_ran=$(ran)

echo "$pkg ($objects objects; header $header)"
echo "  gg build from scratch:             ${scratch} s ($scratch_ran thunks ran)"
echo "  comment in $header: make -j2 rebuild ${touch_make} s ($make_recompiled compiles)"
echo "                     gg build        ${comment} s ($comment_ran thunks ran: discoveries + links, no compile)"
echo "  declaration added: gg build        ${code} s ($code_ran thunks ran)"
