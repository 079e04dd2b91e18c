#!/bin/sh
# The inputs of bench/sandbox_inputs.sh and bench/compare_builds.sh: 10,000
# distinct small files in 100 directories under DIR/src (as a compile's
# headers are), and their paths relative to it, in input order, in DIR/paths.
# Usage: bench/make_inputs.sh DIR
set -eu
mkdir "$1/src"
i=0
while [ $i -lt 100 ]; do
  mkdir "$1/src/d$i"
  j=0
  while [ $j -lt 100 ]; do echo "$i $j" > "$1/src/d$i/f$j.h"; j=$((j + 1)); done
  i=$((i + 1))
done
(cd "$1/src" && find . -type f | sort -t/ -k2,2 -k3,3 | sed 's|^\./||') > "$1/paths"
